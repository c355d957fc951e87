#!/usr/bin/env bash
# Load test of the shop: the instrumented build (trace-kit layers, trace-reqwest client, trace-log
# lines, exporter) against the bare build of the same shop (`--no-default-features`: no layers,
# no exporter, plain reqwest, tracing-subscriber's plain formatter), with wrk against the
# gateway on loopback, in the same run.
#
#   examples/load/run.sh                       # defaults below
#   DURATION=20s CONNECTIONS=64 examples/load/run.sh
#
# Prints requests/s, p50, p99 and the shop's CPU time per order per configuration, the ratios
# instrumented / bare, and per-round paired ratios with their medians.
# Goals: throughput ratio >= 0.90 at probability 0.1 and >= 0.80 at 1.0; p99 ratio <= 1.15 at 0.1.
set -euo pipefail

DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
ROUNDS=${ROUNDS:-2}
BASE_PORT=${BASE_PORT:-18000}

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
work=$(mktemp -d "${TMPDIR:-/tmp}/shop-load.XXXXXX")
shop_pid=""
cleanup() {
    if [[ -n "$shop_pid" ]]; then kill "$shop_pid" 2>/dev/null || true; wait "$shop_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

if ! command -v wrk >/dev/null 2>&1; then
    echo "wrk not found: installing it (apt-get)" >&2
    if [[ $(id -u) -eq 0 ]]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -qq && $sudo apt-get install -y -qq wrk >/dev/null
fi

target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
echo "building the bare and the instrumented shop (release)..." >&2
cargo build --release -q -p examples --bin shop --no-default-features
cp "$target_dir/release/shop" "$work/shop-bare"
cargo build --release -q -p examples --bin shop
cp "$target_dir/release/shop" "$work/shop-instrumented"

# start_shop BINARY PROBABILITY: starts `shop --serve` on four free ports, waits until the
# gateway answers; sets shop_pid and url.
start_shop() {
    local bin=$1 p=$2
    shift 2
    local g=$BASE_PORT o=$((BASE_PORT + 1)) u=$((BASE_PORT + 2)) pr=$((BASE_PORT + 3))
    "$bin" --serve --no-orders --sample-probability "$p" \
        --gateway-port "$g" --order-port "$o" --user-port "$u" --product-port "$pr" "$@" \
        >/dev/null 2>"$work/stderr" &
    shop_pid=$!
    url="http://127.0.0.1:$g/server-order/order/submit_order?userId=1001&productId=1001&count=1"
    for _ in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$g") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "the shop did not start:" >&2
    cat "$work/stderr" >&2
    exit 1
}

stop_shop() {
    kill -TERM "$shop_pid" 2>/dev/null || true
    wait "$shop_pid" 2>/dev/null || true
    shop_pid=""
}

# to_ms VALUE: wrk latency ("812.00us", "1.23ms", "1.01s") in milliseconds.
to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u);
        if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000;
        printf "%.3f", n }'
}

# measure NAME BINARY PROBABILITY [SHOP ARGS...]: one wrk run; appends "NAME rps p50 p99" to
# results.
measure() {
    local name=$1 bin=$2 p=$3
    shift 3
    start_shop "$bin" "$p" "$@"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" "$url" >/dev/null
    local out cpu0 cpu1
    cpu0=$(cpu_ticks "$shop_pid")
    out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$url")
    cpu1=$(cpu_ticks "$shop_pid")
    stop_shop
    rm -f "$work/spans.json"
    local rps p50 p99 non2xx requests cpu
    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    p50=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
    p99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
    requests=$(awk '/requests in/ {print $1}' <<<"$out")
    cpu=$(awk -v t=$((cpu1 - cpu0)) -v hz="$(getconf CLK_TCK)" -v n="$requests" \
        'BEGIN { printf "%.1f", (n > 0 ? t / hz / n * 1e6 : 0) }')
    non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
    if [[ -n "$non2xx" ]]; then echo "warning: $name: $non2xx non-2xx answers" >&2; fi
    printf '%-22s %10.0f %9s %9s %12s\n' "$name" "$rps" "$p50" "$p99" "$cpu" >&2
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$name" "$rps" "$p50" "$p99" "$cpu" >>"$work/results"
}

# cpu_ticks PID: user + system CPU time of the process so far, in clock ticks.
cpu_ticks() {
    awk '{ print $14 + $15 }' "/proc/$1/stat"
}

echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION (after a $WARMUP warm-up), $(nproc) CPUs, $ROUNDS round(s)" >&2
printf '%-22s %10s %9s %9s %12s\n' "configuration" "req/s" "p50 ms" "p99 ms" "CPU us/order" >&2
# Sampled spans go through the exporter's queue and sender thread to a Zipkin v2 JSON file, so
# the reporting path is measured too (not only recording). Odd rounds run bare first, even
# rounds last, so that the host's speed drifting during a round does not favour one side.
configs=(bare p01 p10)
run_config() {
    case $1 in
    bare) measure bare "$work/shop-bare" 1.0 ;;
    p01) measure "instrumented p=0.1" "$work/shop-instrumented" 0.1 --spans-file "$work/spans.json" ;;
    p10) measure "instrumented p=1.0" "$work/shop-instrumented" 1.0 --spans-file "$work/spans.json" ;;
    esac
}
for round in $(seq 1 "$ROUNDS"); do
    if ((round % 2)); then order=("${configs[@]}"); else order=(p10 p01 bare); fi
    for c in "${order[@]}"; do run_config "$c"; done
done

# Means over rounds, then ratios against bare; and each round's ratio against that round's bare
# run (paired: the host's speed drifts between rounds more than within one), with the median of
# those. CPU per order (the shop process's user + system time over the requests served) moves
# less with the host's load than requests/s.
awk -F'\t' '
function median(list,   a, n, i, j, t) {
  n = split(list, a, " ")
  for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
  return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{ round = $1; name = $2
  n[name]++; r[name] += $3; a[name] += $4; b[name] += $5; c[name] += $6
  rps[round, name] = $3; p99[round, name] = $5; cpu[round, name] = $6
  if (!(name in seen)) { order[++k] = name; seen[name] = 1 }
  if (round > rounds) rounds = round }
END {
  printf "\n%-22s %10s %9s %9s %12s %12s %10s %10s\n", "configuration", "req/s", "p50 ms", "p99 ms", "CPU us/order", "req/s ratio", "p99 ratio", "CPU ratio"
  br = r["bare"] / n["bare"]; bp = b["bare"] / n["bare"]; bc = c["bare"] / n["bare"]
  for (i = 1; i <= k; i++) { m = order[i]
    printf "%-22s %10.0f %9.3f %9.3f %12.1f %12.3f %10.3f %10.3f\n", m, r[m]/n[m], a[m]/n[m], b[m]/n[m], c[m]/n[m], (r[m]/n[m])/br, (b[m]/n[m])/bp, (c[m]/n[m])/bc }
  printf "\nper round (ratio to the same round'"'"'s bare run), and the median:\n"
  for (i = 1; i <= k; i++) { m = order[i]; if (m == "bare") continue
    rl = ""; pl = ""; cl = ""
    for (j = 1; j <= rounds; j++) {
      rl = rl " " rps[j, m] / rps[j, "bare"]; pl = pl " " p99[j, m] / p99[j, "bare"]; cl = cl " " cpu[j, m] / cpu[j, "bare"] }
    printf "%-22s req/s", m; split(rl, x, " "); for (j = 1; j <= rounds; j++) printf " %.3f", x[j]; printf "  median %.3f\n", median(rl)
    printf "%-22s p99  ", m; split(pl, x, " "); for (j = 1; j <= rounds; j++) printf " %.3f", x[j]; printf "  median %.3f\n", median(pl)
    printf "%-22s CPU  ", m; split(cl, x, " "); for (j = 1; j <= rounds; j++) printf " %.3f", x[j]; printf "  median %.3f\n", median(cl) }
  printf "\ngoals: req/s ratio >= 0.90 at p=0.1, >= 0.80 at p=1.0; p99 ratio <= 1.15 at p=0.1\n"
}' "$work/results"
