//! trace-exporter against the stock OpenTelemetry pipeline, in one run:
//!
//! * `span/*`: one server span (create with fields, enter, record the status, exit, close)
//!   inside a request context: no recorder; our recorder unsampled and sampled (reporter with a
//!   discarding transport); tracing-opentelemetry + opentelemetry_sdk (batch processor, no-op
//!   exporter) with AlwaysOff and AlwaysOn.
//! * `encode/*`: Zipkin v2 JSON of 100 spans.
//! * `deliver/*`: 10,000 spans to a loopback collector: our reporter (plain and gzip) vs
//!   opentelemetry-zipkin's exporter, in wall time; and `deliver/*_cpu`: the same plain
//!   deliveries measured in CPU time of the whole process (every thread: request side,
//!   encoder, sender, the collector), which the machine's other load moves less; then
//!   `deliver/interleaved`: nine rounds alternating the two pipelines, the median ratios (run
//!   when no filter is given, or with the filter `interleaved`).
//!
//! Run: `cargo bench -p trace-exporter --bench exporter`

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use opentelemetry::trace::{
    SpanContext, SpanKind, Status, TraceFlags, TraceState, TracerProvider as _,
};
use opentelemetry::KeyValue;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    Sampler as OtelSampler, SdkTracerProvider, SpanData, SpanEvents, SpanExporter, SpanLinks,
};
use trace_context::{Context, ContextLayer, Sampling, SpanId, TraceId};
use trace_exporter::{
    AsyncReporter, Endpoint, Kind, Message, ReporterOptions, SendError, Sink, SpanRecord,
    Transport, ZipkinHttp, ZipkinLayer,
};
use tracing::field::Empty;
use tracing_subscriber::layer::SubscriberExt;

/// Sends nothing.
struct Discard;

impl Transport for Discard {
    fn send(&mut self, message: &Message<'_>, _timeout: Duration) -> Result<(), SendError> {
        black_box(message.json().len());
        Ok(())
    }
    fn describe(&self) -> String {
        "discard".into()
    }
}

/// OpenTelemetry's no-op exporter.
#[derive(Debug)]
struct NoopExporter;

impl SpanExporter for NoopExporter {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        drop(batch);
        std::future::ready(Ok(()))
    }
}

/// CPU time of the calling thread: on a shared machine, other processes' load does not
/// inflate it the way it inflates wall time.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// CPU time of the whole process (all threads, user + system).
fn process_cpu() -> Duration {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `usage` is a valid, writable rusage (all-zero is a valid value of it).
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr());
        usage.assume_init()
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// Runs `server_span` `iters` times, returning the CPU time this thread spent.
fn cpu_iter(b: &mut criterion::Bencher<'_>) {
    b.iter_custom(|iters| {
        let start = thread_cpu();
        for _ in 0..iters {
            server_span();
        }
        thread_cpu() - start
    })
}

#[inline(never)]
fn server_span() {
    let span = tracing::info_span!(
        "http.server",
        span.kind = "server",
        http.method = "GET",
        http.path = "/order/1001",
        http.route = "/order/{id}",
        http.status_code = Empty,
    );
    let entered = span.enter();
    span.record("http.status_code", 200u64);
    drop(entered);
    drop(black_box(span));
}

fn request(sampling: Sampling) -> Context {
    Context::builder(TraceId::random())
        .parent_span_id(Some(SpanId::random()))
        .remote_parent(true)
        .sampling(sampling)
        .build()
}

fn bench_spans(c: &mut Criterion) {
    let mut g = c.benchmark_group("span");
    g.measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500))
        .sample_size(20);

    // Only ContextLayer: the cost of the span without any recorder.
    {
        let sub = tracing_subscriber::registry().with(ContextLayer::new());
        let ctx = request(Sampling::NotSampled);
        tracing::subscriber::with_default(sub, || {
            let _g = ctx.enter();
            g.bench_function("no_recorder", cpu_iter);
        });
    }
    let reporter = AsyncReporter::new(Discard, ReporterOptions::default()).unwrap();
    for (name, sampling) in [
        ("recorder_unsampled", Sampling::NotSampled),
        ("recorder_sampled", Sampling::Sampled),
    ] {
        let sub = tracing_subscriber::registry()
            .with(ContextLayer::new())
            .with(ZipkinLayer::new(reporter.clone(), "bench"));
        let ctx = request(sampling);
        tracing::subscriber::with_default(sub, || {
            let _g = ctx.enter();
            g.bench_function(name, cpu_iter);
        });
    }
    {
        // The same recorder with a sink that drops each span on the spot: the cost of the
        // recording alone, without the queue and the sender thread.
        struct Drop;
        impl Sink for Drop {
            fn report(&self, span: SpanRecord) {
                black_box(span);
            }
        }
        let sub = tracing_subscriber::registry()
            .with(ContextLayer::new())
            .with(ZipkinLayer::new(Drop, "bench"));
        let ctx = request(Sampling::Sampled);
        tracing::subscriber::with_default(sub, || {
            let _g = ctx.enter();
            g.bench_function("recorder_sampled_drop_sink", cpu_iter);
        });
    }
    let m = reporter.metrics();
    eprintln!(
        "recorder_sampled reporter: spans {} sent {} dropped {}",
        m.spans, m.spans_sent, m.spans_dropped
    );
    reporter.shutdown(Duration::from_secs(5)).ok();

    for (name, sampler) in [
        ("otel_always_off", OtelSampler::AlwaysOff),
        ("otel_always_on", OtelSampler::AlwaysOn),
    ] {
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(NoopExporter)
            .with_sampler(sampler)
            .build();
        let tracer = provider.tracer("bench");
        let sub =
            tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(tracer));
        tracing::subscriber::with_default(sub, || {
            g.bench_function(name, cpu_iter);
        });
        provider.shutdown().ok();
    }
    g.finish();
}

fn record(i: u64) -> SpanRecord {
    let local = Arc::new(
        Endpoint::service("order")
            .with_ip("10.0.0.5".parse().unwrap())
            .with_port(8080),
    );
    let mut s = SpanRecord::new(
        TraceId::random(),
        SpanId::random(),
        "get /order/{id}",
        local,
    );
    s.parent_id = Some(SpanId::random());
    s.kind = Some(Kind::Server);
    s.shared = true;
    s.timestamp = 1_700_000_000_000_000 + i;
    s.duration = 1234;
    s.remote_endpoint = Some(
        Endpoint::default()
            .with_ip("10.0.0.9".parse().unwrap())
            .with_port(50312),
    );
    s.set_tag("http.method", "GET");
    s.set_tag("http.path", "/order/1001");
    s.set_tag("http.route", "/order/{id}");
    s.set_tag("http.status_code", "200");
    s.set_tag("app.trace_id", "web-1716268000123-42");
    s
}

fn bench_encode(c: &mut Criterion) {
    let mut g = c.benchmark_group("encode");
    g.measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500))
        .sample_size(20);
    let spans: Vec<SpanRecord> = (0..100).map(record).collect();
    let mut out = Vec::with_capacity(64 * 1024);
    g.throughput(Throughput::Elements(100));
    g.bench_function("zipkin_v2_json_100", |b| {
        b.iter_custom(|iters| {
            let start = thread_cpu();
            for _ in 0..iters {
                out.clear();
                trace_exporter::encode::encode_list(black_box(&spans), &mut out);
                black_box(out.len());
            }
            thread_cpu() - start
        })
    });
    // What gzip (level "fast", as the HTTP transport uses) costs and saves on the same list.
    let mut json = Vec::new();
    trace_exporter::encode::encode_list(&spans, &mut json);
    let gz = |data: &[u8]| {
        use std::io::Write as _;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    };
    eprintln!(
        "gzip: {} bytes of JSON for 100 spans -> {} bytes ({:.1}x smaller)",
        json.len(),
        gz(&json).len(),
        json.len() as f64 / gz(&json).len() as f64
    );
    g.bench_function("gzip_fast_100", |b| {
        b.iter_custom(|iters| {
            let start = thread_cpu();
            for _ in 0..iters {
                black_box(gz(black_box(&json)));
            }
            thread_cpu() - start
        })
    });
    g.finish();
}

/// A loopback collector that reads the body and answers 202.
fn collector(rt: &tokio::runtime::Runtime) -> String {
    use axum::routing::post;
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().route(
        "/api/v2/spans",
        post(|body: axum::body::Bytes| async move {
            black_box(body.len());
            axum::http::StatusCode::ACCEPTED
        }),
    );
    rt.spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/api/v2/spans")
}

fn span_data(i: u64) -> SpanData {
    let start = SystemTime::now();
    SpanData {
        span_context: SpanContext::new(
            opentelemetry::trace::TraceId::from(TraceId::random().to_u128()),
            opentelemetry::trace::SpanId::from(SpanId::random().to_u64()),
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        ),
        parent_span_id: opentelemetry::trace::SpanId::from(SpanId::random().to_u64()),
        parent_span_is_remote: true,
        span_kind: SpanKind::Server,
        name: "get /order/{id}".into(),
        start_time: start,
        end_time: start + Duration::from_micros(1234 + i % 7),
        attributes: vec![
            KeyValue::new("http.method", "GET"),
            KeyValue::new("http.path", "/order/1001"),
            KeyValue::new("http.route", "/order/{id}"),
            KeyValue::new("http.status_code", 200),
            KeyValue::new("app.trace_id", "web-1716268000123-42"),
        ],
        dropped_attributes_count: 0,
        events: SpanEvents::default(),
        links: SpanLinks::default(),
        status: Status::Unset,
        instrumentation_scope: Default::default(),
    }
}

const DELIVER: u64 = 10_000;

// opentelemetry-zipkin is deprecated upstream: it is the peer measured here.
#[allow(deprecated)]
fn bench_deliver(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let url = collector(&rt);
    let mut g = c.benchmark_group("deliver");
    g.measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_millis(500))
        .sample_size(10)
        .throughput(Throughput::Elements(DELIVER));

    for gzip in [false, true] {
        let http = ZipkinHttp::new(&url, gzip).unwrap();
        let opts = ReporterOptions {
            queue_size: DELIVER as usize,
            flush_interval: Duration::from_millis(5),
            ..ReporterOptions::default()
        };
        let reporter = AsyncReporter::new(http, opts).unwrap();
        let name = if gzip {
            "trace_exporter_gzip"
        } else {
            "trace_exporter"
        };
        g.bench_function(name, |b| {
            b.iter_batched(
                || (0..DELIVER).map(record).collect::<Vec<_>>(),
                |spans| {
                    for s in spans {
                        reporter.report(s);
                    }
                    reporter.flush(Duration::from_secs(60)).unwrap();
                },
                BatchSize::PerIteration,
            )
        });
        let m = reporter.metrics();
        eprintln!(
            "{name}: spans {} sent {} dropped {} messages {} bytes {}",
            m.spans, m.spans_sent, m.spans_dropped, m.messages, m.message_bytes
        );
        reporter.shutdown(Duration::from_secs(5)).ok();
    }

    // The same pipeline with a transport that discards: report + queue + encode, no HTTP.
    {
        let opts = ReporterOptions {
            queue_size: DELIVER as usize,
            flush_interval: Duration::from_millis(5),
            ..ReporterOptions::default()
        };
        let reporter = AsyncReporter::new(Discard, opts).unwrap();
        g.bench_function("trace_exporter_no_http", |b| {
            b.iter_batched(
                || (0..DELIVER).map(record).collect::<Vec<_>>(),
                |spans| {
                    for s in spans {
                        reporter.report(s);
                    }
                    reporter.flush(Duration::from_secs(60)).unwrap();
                },
                BatchSize::PerIteration,
            )
        });
        reporter.shutdown(Duration::from_secs(5)).ok();
    }

    // opentelemetry-zipkin: the same spans as SpanData, exported in batch-processor sized
    // batches (512), each awaited like the batch processor does.
    let exporter = opentelemetry_zipkin::ZipkinExporter::builder()
        .with_http_client(reqwest::Client::new())
        .with_collector_endpoint(url.clone())
        .build()
        .unwrap();
    g.bench_function("opentelemetry_zipkin", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let data: Vec<SpanData> = (0..DELIVER).map(span_data).collect();
                let start = Instant::now();
                rt.block_on(async {
                    let mut data = data.into_iter().peekable();
                    while data.peek().is_some() {
                        let batch: Vec<SpanData> = data.by_ref().take(512).collect();
                        exporter.export(batch).await.unwrap();
                    }
                });
                total += start.elapsed();
            }
            total
        })
    });

    // The same plain deliveries in CPU time of the whole process: what each pipeline costs
    // the machine per span, whatever else runs on it.
    let opts = ReporterOptions {
        queue_size: DELIVER as usize,
        flush_interval: Duration::from_millis(5),
        ..ReporterOptions::default()
    };
    let reporter = AsyncReporter::new(ZipkinHttp::new(&url, false).unwrap(), opts).unwrap();
    let sum_cpu =
        |iters: u64, round: &dyn Fn() -> Round| (0..iters).map(|_| round().cpu).sum::<Duration>();
    g.bench_function("trace_exporter_cpu", |b| {
        b.iter_custom(|iters| sum_cpu(iters, &|| ours_round(&reporter)))
    });
    g.bench_function("opentelemetry_zipkin_cpu", |b| {
        b.iter_custom(|iters| sum_cpu(iters, &|| otel_round(&rt, &exporter)))
    });
    g.finish();

    // Interleaved rounds (ours, then theirs, ROUNDS times): the median of the per-round
    // ratios, which the machine's mood moves less than two figures taken seconds apart.
    // Outside criterion, so only when no filter is given or the filter names them.
    if !interleaved_selected() {
        reporter.shutdown(Duration::from_secs(5)).ok();
        return;
    }
    let mut wall = Vec::new();
    let mut cpu = Vec::new();
    for _ in 0..ROUNDS {
        let (a, b) = (ours_round(&reporter), otel_round(&rt, &exporter));
        wall.push(b.wall.as_secs_f64() / a.wall.as_secs_f64());
        cpu.push(b.cpu.as_secs_f64() / a.cpu.as_secs_f64());
    }
    eprintln!(
        "deliver/interleaved: {ROUNDS} rounds of {DELIVER} spans, trace_exporter vs \
         opentelemetry_zipkin: wall-clock spans/s ratio median {:.2}x (min {:.2}x, max {:.2}x); \
         process CPU per span ratio median {:.2}x (min {:.2}x, max {:.2}x)",
        median(&mut wall),
        min(&wall),
        max(&wall),
        median(&mut cpu),
        min(&cpu),
        max(&cpu)
    );
    reporter.shutdown(Duration::from_secs(5)).ok();
}

/// Interleaved delivery rounds.
const ROUNDS: usize = 9;

/// True when the command line has no benchmark filter (criterion's free arguments), or one
/// that mentions `interleaved`.
fn interleaved_selected() -> bool {
    let free: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    free.is_empty() || free.iter().any(|f| f.contains("interleaved"))
}

/// One delivery round: wall time and whole-process CPU time.
struct Round {
    wall: Duration,
    cpu: Duration,
}

/// Reports `DELIVER` spans (made beforehand) and waits until the collector has them.
fn ours_round(reporter: &AsyncReporter) -> Round {
    let spans: Vec<SpanRecord> = (0..DELIVER).map(record).collect();
    let (start, cpu) = (Instant::now(), process_cpu());
    for s in spans {
        reporter.report(s);
    }
    reporter.flush(Duration::from_secs(60)).unwrap();
    Round {
        wall: start.elapsed(),
        cpu: process_cpu() - cpu,
    }
}

/// Exports `DELIVER` spans (made beforehand) with opentelemetry-zipkin, 512 per batch.
#[allow(deprecated)]
fn otel_round(
    rt: &tokio::runtime::Runtime,
    exporter: &opentelemetry_zipkin::ZipkinExporter,
) -> Round {
    let data: Vec<SpanData> = (0..DELIVER).map(span_data).collect();
    let (start, cpu) = (Instant::now(), process_cpu());
    rt.block_on(async {
        let mut data = data.into_iter().peekable();
        while data.peek().is_some() {
            let batch: Vec<SpanData> = data.by_ref().take(512).collect();
            exporter.export(batch).await.unwrap();
        }
    });
    Round {
        wall: start.elapsed(),
        cpu: process_cpu() - cpu,
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn min(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

fn max(v: &[f64]) -> f64 {
    v.iter().copied().fold(0.0, f64::max)
}

criterion_group! {
    name = benches;
    config = Criterion::default();
    targets = bench_spans, bench_encode, bench_deliver
}
criterion_main!(benches);
