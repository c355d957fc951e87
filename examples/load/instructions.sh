#!/usr/bin/env bash
# CPU cost of the shop per order, in instructions, with valgrind's callgrind: the bare build
# against the instrumented one (probability 0.1, and 1.0 with spans going through the exporter
# to a file). Deterministic, so it still says something on a busy machine where wrk's figures
# (run.sh) swing; it counts user-space instructions of the shop process (all threads, the
# exporter's sender thread included), not the kernel's share of loopback networking.
#
#   examples/load/instructions.sh            # N=300 orders per configuration
#   N=1000 examples/load/instructions.sh
#
# Each configuration runs twice, with 0 and with N sequential orders (curl, one keep-alive
# connection); the difference divided by N is the cost of one order through the four services.
set -euo pipefail

N=${N:-300}
BASE_PORT=${BASE_PORT:-18200}

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
work=$(mktemp -d "${TMPDIR:-/tmp}/shop-instructions.XXXXXX")
trap 'rm -rf "$work"' EXIT

for tool in valgrind curl; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "$tool not found: installing it (apt-get)" >&2
        if [[ $(id -u) -eq 0 ]]; then sudo=""; else sudo="sudo"; fi
        $sudo apt-get update -qq && $sudo apt-get install -y -qq "$tool" >/dev/null
    fi
done

target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
echo "building the bare and the instrumented shop (release)..." >&2
cargo build --release -q -p examples --bin shop --no-default-features
cp "$target_dir/release/shop" "$work/shop-bare"
cargo build --release -q -p examples --bin shop
cp "$target_dir/release/shop" "$work/shop-instrumented"

g=$BASE_PORT
url="http://127.0.0.1:$g/server-order/order/submit_order?userId=1001&productId=1001&count=1"

# instructions BINARY PROBABILITY ORDERS [SHOP ARGS...]: total instructions of one run.
instructions() {
    local bin=$1 p=$2 n=$3
    shift 3
    local out="$work/callgrind.out"
    valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" --serve --no-orders \
        --sample-probability "$p" --gateway-port "$g" --order-port $((g + 1)) \
        --user-port $((g + 2)) --product-port $((g + 3)) "$@" >/dev/null 2>"$work/valgrind.err" &
    local pid=$!
    for _ in $(seq 1 300); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$g") 2>/dev/null; then break; fi
        sleep 0.1
    done
    if ((n > 0)); then
        local urls=()
        for _ in $(seq 1 "$n"); do urls+=("$url"); done
        curl -sf "${urls[@]}" >/dev/null
    fi
    kill -TERM "$pid"
    wait "$pid" || true
    awk '/^(summary|totals):/ {print $2; exit}' "$out"
    rm -f "$out" "$work/spans.json"
}

# per_order NAME BINARY PROBABILITY [SHOP ARGS...]: prints "NAME instructions-per-order".
per_order() {
    local name=$1 bin=$2 p=$3
    shift 3
    local idle busy
    idle=$(instructions "$bin" "$p" 0 "$@")
    busy=$(instructions "$bin" "$p" "$N" "$@")
    echo "$name $(((busy - idle) / N))"
}

echo "callgrind, $N orders per configuration" >&2
{
    per_order bare "$work/shop-bare" 1.0
    per_order "instrumented p=0.1" "$work/shop-instrumented" 0.1 --spans-file "$work/spans.json"
    per_order "instrumented p=1.0" "$work/shop-instrumented" 1.0 --spans-file "$work/spans.json"
} >"$work/results"

awk '
{ v = $NF; $NF = ""; sub(/ $/, ""); name[++k] = $0; ir[k] = v }
END {
  printf "%-22s %16s %10s\n", "configuration", "instr./order", "vs bare"
  for (i = 1; i <= k; i++) printf "%-22s %16d %10.2f\n", name[i], ir[i], ir[i] / ir[1]
}' "$work/results"
