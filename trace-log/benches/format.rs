//! trace-log's formatters vs tracing-subscriber's, side by side, in one run.
//!
//! The same event (a message and two fields, inside a span with two fields, inside a trace
//! context with two MDC fields), written to `io::sink()`:
//! * `pattern/*`: our pattern printing timestamp, level, thread, target, trace id, two MDC
//!   fields and the message (and a variant that also prints the event and span fields) vs
//!   tracing-subscriber's default `fmt` formatter (which prints no trace id), with and
//!   without ANSI colours;
//! * `json/*`: our JSON lines vs tracing-subscriber's `.json()`.
//!
//! `cargo bench -p trace-log --bench format`

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use trace_context::{Context, ContextLayer, TraceId};
use tracing::Dispatch;
use tracing_subscriber::layer::SubscriberExt;

/// Timestamp, level, thread, target, trace id, two MDC fields, message.
const PATTERN: &str =
    "%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level [%thread] %logger [%traceId] %X{tenant} %X{user} - %msg%n";
/// The same, plus the event's and the span's fields (what the default `fmt` also prints).
const PATTERN_WITH_FIELDS: &str =
    "%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level [%thread] %logger [%traceId] %X{tenant} %X{user} - %msg%fields%n";

fn ours(builder: trace_log::Builder) -> Dispatch {
    let layer = builder
        .ignore_env()
        .writer(std::io::sink)
        .layer()
        .expect("valid options");
    Dispatch::new(
        tracing_subscriber::registry()
            .with(ContextLayer::new())
            .with(layer),
    )
}

fn fmt_default(ansi: bool) -> Dispatch {
    Dispatch::new(
        tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .with_ansi(ansi)
                .with_writer(std::io::sink),
        ),
    )
}

fn fmt_json() -> Dispatch {
    Dispatch::new(
        tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_writer(std::io::sink),
        ),
    )
}

/// Runs the event in a context and a span, under `dispatch`.
fn bench_event(
    c: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    dispatch: &Dispatch,
) {
    tracing::dispatcher::with_default(dispatch, || {
        let ctx = Context::builder(TraceId::random())
            .field("tenant", "acme")
            .field("user", "ann")
            .build();
        let _g = ctx.enter();
        let span = tracing::info_span!("request", method = "GET", path = "/orders/7");
        let _e = span.enter();
        let mut i = 0_u64;
        c.bench_function(name, |b| {
            b.iter(|| {
                i += 1;
                tracing::info!(
                    target: "shop::orders",
                    order_id = black_box(i),
                    cached = false,
                    "order placed"
                );
            })
        });
    });
}

fn formatters(c: &mut Criterion) {
    let mut g = c.benchmark_group("pattern");
    bench_event(
        &mut g,
        "trace_log_pattern",
        &ours(trace_log::builder().pattern(PATTERN)),
    );
    bench_event(
        &mut g,
        "trace_log_pattern_with_fields",
        &ours(trace_log::builder().pattern(PATTERN_WITH_FIELDS)),
    );
    bench_event(
        &mut g,
        "trace_log_default_pattern",
        &ours(trace_log::builder()),
    );
    bench_event(&mut g, "tracing_fmt_default", &fmt_default(true));
    bench_event(&mut g, "tracing_fmt_default_no_ansi", &fmt_default(false));
    g.finish();

    let mut g = c.benchmark_group("json");
    bench_event(&mut g, "trace_log_json", &ours(trace_log::builder().json()));
    bench_event(&mut g, "tracing_fmt_json", &fmt_json());
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_millis(500))
        .sample_size(30);
    targets = formatters
}
criterion_main!(benches);
