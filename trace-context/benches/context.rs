//! trace-context benchmarks, each side by side with the peer the issue names, in one run:
//!
//! * `current_id`: reading the current trace id (no lock, no allocation), vs a
//!   `tokio::task_local!` read;
//! * `spawn_await`: `trace_context::spawn` + await vs `tokio::spawn` + await, vs
//!   `tracing::Instrument` and a `tokio::task_local!` scope (goal: ratio <= 1.10);
//! * `mint_format`: mint a trace id and render its 32-char text vs
//!   `uuid::Uuid::new_v4().to_string()` (goal: ratio <= 0.5);
//! * `extract_traceparent`, `extract_b3_single`, `extract_b3_multi`: our extraction vs
//!   OpenTelemetry's propagators on the same carrier (goal: ratio <= 0.5);
//! * `layer`: what `ContextLayer` adds to a `tracing` span made inside a request, against the
//!   bare registry in the same run: a user span entered once (`info_span!(..).entered()`),
//!   entered three times (a future polled three times), and two nested spans entered three
//!   times (nested `#[instrument]` futures).
//!
//! Run: `cargo bench -p trace-context --bench context`. Figures: trace-context/BENCHMARKS.md.
#![allow(deprecated)] // opentelemetry-zipkin 0.33 marks its API deprecated; it is the B3 peer.

mod support;

use std::collections::HashMap;
use std::future::Future;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use futures::FutureExt;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TraceContextExt;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_zipkin::{B3Encoding, Propagator as B3Propagator};
use trace_context::codec::w3c::TraceParent;
use trace_context::codec::Propagation;
use trace_context::{Context, TraceId, WithContext};
use tracing::Instrument;

tokio::task_local! {
    static TASK_TRACE_ID: TraceId;
}

fn current_id(c: &mut Criterion) {
    let mut g = c.benchmark_group("current_id");
    let ctx = Context::new_root();
    {
        let _guard = ctx.enter();
        g.bench_function("current_trace_id", |b| {
            b.iter(|| black_box(trace_context::current_trace_id()))
        });
        // The same read, the id then used (its low 64 bits, as a sampler or a hash would):
        // the compiler no longer has to materialise the 16-byte `Option<TraceId>` for
        // `black_box`, which is most of the figure above.
        g.bench_function("current_trace_id_used", |b| {
            b.iter(|| {
                black_box(trace_context::current_trace_id().map_or(0u64, |t| t.to_u128() as u64))
            })
        });
        g.bench_function("with_current_span_id", |b| {
            b.iter(|| black_box(Context::with_current(|c| c.map(Context::span_id))))
        });
        g.bench_function("mdc_get_traceId_no_alloc", |b| {
            b.iter(|| {
                Context::with_current(|c| {
                    black_box(c.and_then(|c| c.get(black_box("traceId"))).map(|v| v.len()))
                })
            })
        });
    }
    g.bench_function("current_trace_id_no_context", |b| {
        b.iter(|| black_box(trace_context::current_trace_id()))
    });
    let id = ctx.trace_id();
    g.bench_function("tokio_task_local_get", |b| {
        TASK_TRACE_ID.sync_scope(id, || {
            b.iter(|| black_box(TASK_TRACE_ID.try_with(|t| *t).ok()))
        })
    });
    g.finish();
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// Runs a timed loop as a task on the runtime (as a request handler would spawn), so that the
/// figure is spawn + await between workers, not the entry into `block_on`.
fn timed_on_worker<F>(rt: &tokio::runtime::Runtime, timed: F) -> Duration
where
    F: Future<Output = Duration> + Send + 'static,
{
    rt.block_on(async move { tokio::spawn(timed).await.expect("bench task") })
}

/// Spawn + await `n` times with plain `tokio::spawn` (`with_context == false`) or with
/// `trace_context::spawn` inside a context; returns the elapsed time. With `parent_in_request`
/// the plain loop runs inside a context too, as a handler behind trace-tower does: the parent's
/// own install/restore per poll is then paid by both, and the difference is what choosing
/// `trace_context::spawn` over `tokio::spawn` costs in a request.
async fn spawn_loop(n: u64, with_context: bool, parent_in_request: bool) -> Duration {
    if with_context {
        let timed = async move {
            let start = Instant::now();
            for _ in 0..n {
                black_box(
                    trace_context::spawn(async { black_box(1u32) })
                        .await
                        .unwrap(),
                );
            }
            start.elapsed()
        };
        timed.with_context(Context::new_root()).await
    } else {
        let timed = async move {
            let start = Instant::now();
            for _ in 0..n {
                black_box(tokio::spawn(async { black_box(1u32) }).await.unwrap());
            }
            start.elapsed()
        };
        if parent_in_request {
            timed.with_context(Context::new_root()).await
        } else {
            timed.await
        }
    }
}

/// A paired measurement, printed next to criterion's figures: blocks of plain and contextual
/// spawn + await alternate (in alternating order) on the same runtime, so that load changes on
/// a shared machine hit both alike; the ratio is total(contextual) / total(plain).
fn paired_spawn_ratio(rt: &tokio::runtime::Runtime, label: &str, parent_in_request: bool) {
    const BLOCKS: usize = 200;
    const PER_BLOCK: u64 = 500;
    let (mut plain, mut ours) = (Duration::ZERO, Duration::ZERO);
    for block in 0..BLOCKS {
        let order = if block % 2 == 0 {
            [false, true]
        } else {
            [true, false]
        };
        for with_context in order {
            let d = timed_on_worker(rt, spawn_loop(PER_BLOCK, with_context, parent_in_request));
            if with_context {
                ours += d;
            } else {
                plain += d;
            }
        }
    }
    let n = (BLOCKS as u64 * PER_BLOCK) as f64;
    let (p, o) = (plain.as_nanos() as f64 / n, ours.as_nanos() as f64 / n);
    eprintln!(
        "paired spawn+await ({label}, plain parent in a request: {parent_in_request}): \
         tokio::spawn {p:.1} ns, trace_context::spawn {o:.1} ns, ratio {:.3}",
        o / p
    );
}

fn spawn_await(c: &mut Criterion) {
    // A real subscriber, so that `Instrument` pays what it pays in a service.
    let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry());
    let rt = runtime();
    let current_thread = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    for parent_in_request in [false, true] {
        paired_spawn_ratio(&rt, "multi-thread, 2 workers", parent_in_request);
        paired_spawn_ratio(&current_thread, "current-thread", parent_in_request);
    }
    let mut g = c.benchmark_group("spawn_await");

    g.bench_function("tokio_spawn", |b| {
        b.iter_custom(|iters| timed_on_worker(&rt, spawn_loop(iters, false, false)))
    });

    g.bench_function("tokio_spawn_in_request", |b| {
        b.iter_custom(|iters| timed_on_worker(&rt, spawn_loop(iters, false, true)))
    });

    g.bench_function("trace_context_spawn", |b| {
        b.iter_custom(|iters| timed_on_worker(&rt, spawn_loop(iters, true, false)))
    });

    g.bench_function("tracing_instrument", |b| {
        let span = tracing::info_span!("request");
        b.iter_custom(|iters| {
            let span = span.clone();
            timed_on_worker(&rt, async move {
                let start = Instant::now();
                for _ in 0..iters {
                    let fut = async { black_box(1u32) }.instrument(span.clone());
                    black_box(tokio::spawn(fut).await.unwrap());
                }
                start.elapsed()
            })
        })
    });

    g.bench_function("tokio_task_local_scope", |b| {
        let id = TraceId::random();
        b.iter_custom(|iters| {
            timed_on_worker(&rt, async move {
                let start = Instant::now();
                for _ in 0..iters {
                    let fut = TASK_TRACE_ID.scope(id, async { black_box(1u32) });
                    black_box(tokio::spawn(fut).await.unwrap());
                }
                start.elapsed()
            })
        })
    });
    g.finish();

    // The same pair on a current-thread runtime: no work stealing, so less noise; the
    // difference is the pure cost of carrying the context.
    let ct = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let mut g = c.benchmark_group("spawn_await_current_thread");
    g.bench_function("tokio_spawn", |b| {
        b.iter_custom(|iters| timed_on_worker(&ct, spawn_loop(iters, false, false)))
    });
    g.bench_function("trace_context_spawn", |b| {
        b.iter_custom(|iters| timed_on_worker(&ct, spawn_loop(iters, true, false)))
    });
    g.finish();

    // Where the difference comes from: one poll of a ready future, bare and carrying the
    // current context (clone, install, restore, drop).
    let mut g = c.benchmark_group("poll_overhead");
    let ctx = Context::new_root();
    let _guard = ctx.enter();
    g.bench_function("plain", |b| {
        b.iter(|| black_box(async { black_box(1u32) }.now_or_never()))
    });
    g.bench_function("in_current_context", |b| {
        b.iter(|| {
            black_box(
                async { black_box(1u32) }
                    .in_current_context()
                    .now_or_never(),
            )
        })
    });
    g.finish();
}

fn mint_format(c: &mut Criterion) {
    let mut g = c.benchmark_group("mint_format");
    g.bench_function("trace_id_random_to_hex", |b| {
        b.iter(|| {
            let hex = TraceId::random().to_hex();
            black_box(hex.len());
            black_box(hex)
        })
    });
    g.bench_function("trace_id_random_to_string", |b| {
        b.iter(|| black_box(TraceId::random().to_string()))
    });
    g.bench_function("uuid_new_v4_to_string", |b| {
        b.iter(|| black_box(uuid::Uuid::new_v4().to_string()))
    });
    g.finish();
}

fn map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn otel_ids(cx: &opentelemetry::Context) -> (u128, u64) {
    let span = cx.span();
    let sc = span.span_context();
    (
        u128::from_be_bytes(sc.trace_id().to_bytes()),
        u64::from_be_bytes(sc.span_id().to_bytes()),
    )
}

fn extract(c: &mut Criterion) {
    const TP: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    let carrier = map(&[("traceparent", TP)]);
    let ours = Propagation::default().b3_off().app_id(false);
    let otel = TraceContextPropagator::new();
    // Both read the same parent.
    let p = ours.extract(&carrier).parent.expect("valid");
    assert_eq!(
        (p.trace_id.to_u128(), p.span_id.to_u64()),
        otel_ids(&otel.extract(&carrier))
    );
    let mut g = c.benchmark_group("extract_traceparent");
    g.bench_function("trace_context", |b| {
        b.iter(|| black_box(ours.extract(black_box(&carrier))))
    });
    g.bench_function("trace_context_parse_only", |b| {
        b.iter(|| black_box(TraceParent::parse(black_box(TP.as_bytes()))))
    });
    g.bench_function("opentelemetry", |b| {
        b.iter(|| black_box(otel.extract(black_box(&carrier))))
    });
    g.finish();

    let ours = Propagation::default().w3c(false).app_id(false);
    let single = map(&[(
        "b3",
        "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90",
    )]);
    let otel = B3Propagator::with_encoding(B3Encoding::SingleAndMultiHeader);
    let p = ours.extract(&single).parent.expect("valid");
    assert_eq!(
        (p.trace_id.to_u128(), p.span_id.to_u64()),
        otel_ids(&otel.extract(&single))
    );
    let mut g = c.benchmark_group("extract_b3_single");
    g.bench_function("trace_context", |b| {
        b.iter(|| black_box(ours.extract(black_box(&single))))
    });
    g.bench_function("opentelemetry", |b| {
        b.iter(|| black_box(otel.extract(black_box(&single))))
    });
    g.finish();

    let multi = map(&[
        ("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7"),
        ("x-b3-spanid", "e457b5a2e4d86bd1"),
        ("x-b3-parentspanid", "05e3ac9a4f6e3b90"),
        ("x-b3-sampled", "1"),
    ]);
    let otel = B3Propagator::with_encoding(B3Encoding::MultipleHeader);
    let p = ours.extract(&multi).parent.expect("valid");
    assert_eq!(
        (p.trace_id.to_u128(), p.span_id.to_u64()),
        otel_ids(&otel.extract(&multi))
    );
    let mut g = c.benchmark_group("extract_b3_multi");
    g.bench_function("trace_context", |b| {
        b.iter(|| black_box(ours.extract(black_box(&multi))))
    });
    g.bench_function("opentelemetry", |b| {
        b.iter(|| black_box(otel.extract(black_box(&multi))))
    });
    g.finish();
}

/// A user span inside a request: made, entered once, closed.
#[inline(never)]
fn layer_user_span() {
    let span = tracing::info_span!("load order", order.id = 1001u64).entered();
    drop(black_box(span));
}

/// A user span entered three times, as a future polled three times.
#[inline(never)]
fn layer_user_span_3_enters() {
    let span = tracing::info_span!("load order", order.id = 1001u64);
    for _ in 0..3 {
        let _e = span.enter();
        black_box(&span);
    }
    drop(black_box(span));
}

/// Two nested spans entered together three times, as nested `#[instrument]` futures.
#[inline(never)]
fn layer_nested_3_enters() {
    let outer = tracing::info_span!("submit order");
    let inner = outer.in_scope(|| tracing::info_span!("load order"));
    for _ in 0..3 {
        let _o = outer.enter();
        let _i = inner.enter();
        black_box(&inner);
    }
    drop(black_box(inner));
    drop(black_box(outer));
}

fn layer(c: &mut Criterion) {
    use tracing_subscriber::layer::SubscriberExt;
    let mut g = c.benchmark_group("layer");
    let request = Context::new_root();
    let _guard = request.enter();
    let bare = tracing::Dispatch::new(tracing_subscriber::registry());
    let layered = tracing::Dispatch::new(
        tracing_subscriber::registry().with(trace_context::ContextLayer::new()),
    );
    let cases: [(&str, fn()); 3] = [
        ("user_span", layer_user_span),
        ("user_span_3_enters", layer_user_span_3_enters),
        ("nested_3_enters", layer_nested_3_enters),
    ];
    for (name, f) in cases {
        for (peer, dispatch) in [("registry", &bare), ("registry_context_layer", &layered)] {
            tracing::dispatcher::with_default(dispatch, || {
                g.bench_function(format!("{name}/{peer}"), |b| b.iter(f));
            });
        }
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = support::config();
    targets = current_id, spawn_await, mint_format, extract, layer
}
criterion_main!(benches);
