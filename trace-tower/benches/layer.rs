//! The layer's own cost per request, beside tower-http's request-id layers, in one run.
//!
//! A trivial service is called directly (`tower::ServiceExt::oneshot`, no network, the
//! future is ready at its first poll) bare, wrapped in `TraceLayer`, and wrapped in tower-http's
//! `SetRequestIdLayer::x_request_id(MakeRequestUuid)` + `PropagateRequestIdLayer::x_request_id()`,
//! with the id header present and absent; first with no subscriber (the layer's own cost),
//! then with a registry + `ContextLayer` + trace-log's formatter writing to `io::sink()`.
//!
//! `cargo bench -p trace-tower --bench layer`

use std::convert::Infallible;
use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion};
use futures::FutureExt;
use http::{HeaderValue, Request, Response};
use tower::{Service, ServiceBuilder, ServiceExt};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use trace_tower::TraceLayer;

const ID: &str = "5f0c6a7e-1b2d-4c3e-9f4a-6b7c8d9e0f1a";

/// The request of one iteration: `GET /orders/42?page=1`, with the id header or without.
fn request(with_id: bool) -> Request<()> {
    let mut req = Request::get("/orders/42?page=1").body(()).unwrap();
    if with_id {
        let id = HeaderValue::from_static(ID);
        // Each layer reads its own header; both are sent so that every variant gets the same
        // request.
        req.headers_mut().insert("x-app-trace-id", id.clone());
        req.headers_mut().insert("x-request-id", id);
    }
    req
}

async fn trivial(_req: Request<()>) -> Result<Response<()>, Infallible> {
    Ok(Response::new(()))
}

fn run<S>(group: &mut BenchmarkGroup<'_, WallTime>, name: &str, svc: S, with_id: bool)
where
    S: Service<Request<()>, Response = Response<()>, Error = Infallible> + Clone,
{
    group.bench_function(name, |b| {
        b.iter(|| {
            let response = svc
                .clone()
                .oneshot(request(with_id))
                .now_or_never()
                .expect("ready at once")
                .unwrap();
            black_box(response)
        })
    });
}

fn stacks(c: &mut Criterion, setup: &str) {
    for with_id in [true, false] {
        let mut group = c.benchmark_group(format!(
            "{setup}/{}",
            if with_id {
                "header present"
            } else {
                "header absent"
            }
        ));
        group
            .measurement_time(Duration::from_secs(2))
            .warm_up_time(Duration::from_millis(500))
            .sample_size(30);
        run(&mut group, "bare", tower::service_fn(trivial), with_id);
        run(
            &mut group,
            "trace-tower TraceLayer",
            ServiceBuilder::new()
                .layer(TraceLayer::new())
                .service_fn(trivial),
            with_id,
        );
        run(
            &mut group,
            "tower-http SetRequestId+PropagateRequestId",
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(PropagateRequestIdLayer::x_request_id())
                .service_fn(trivial),
            with_id,
        );
        group.finish();
    }
}

/// The names the default propagation probes on every request.
const PROBED: [&str; 9] = [
    "x-app-trace-id",
    "traceparent",
    "tracestate",
    "b3",
    "x-b3-flags",
    "x-b3-sampled",
    "x-b3-traceid",
    "x-b3-spanid",
    "x-b3-parentspanid",
];

/// Where the layer's time goes (see BENCHMARKS.md): extraction, header lookups by `&str` vs by
/// a pre-built `HeaderName`, and a server-like span with its fields given at creation vs
/// recorded one by one afterwards.
fn parts(c: &mut Criterion, setup: &str) {
    let mut group = c.benchmark_group(format!("{setup}/parts"));
    group
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500))
        .sample_size(30);
    let req = request(true);
    let propagation = trace_context::codec::Propagation::default();
    group.bench_function("Propagation::extract (header present)", |b| {
        b.iter(|| black_box(propagation.extract(black_box(req.headers()))))
    });
    group.bench_function("9 header lookups by &str", |b| {
        b.iter(|| {
            PROBED
                .iter()
                .filter(|n| black_box(req.headers()).get(**n).is_some())
                .count()
        })
    });
    let names = PROBED.map(http::HeaderName::from_static);
    group.bench_function("9 header lookups by HeaderName", |b| {
        b.iter(|| {
            names
                .iter()
                .filter(|n| black_box(req.headers()).get(*n).is_some())
                .count()
        })
    });
    let app: Option<&str> = Some(ID);
    let route: Option<&str> = Some("/orders/{id}");
    group.bench_function("span: 4 fields recorded after creation", |b| {
        b.iter(|| {
            let span = tracing::info_span!(
                "http.server",
                span.kind = "server",
                http.method = "GET",
                http.path = "/orders/42",
                service.name = tracing::field::Empty,
                http.route = tracing::field::Empty,
                app.trace_id = tracing::field::Empty,
                net.peer.port = tracing::field::Empty,
                http.status_code = tracing::field::Empty,
            );
            span.record("service.name", "order");
            span.record("http.route", route);
            span.record("app.trace_id", app);
            span.record("net.peer.port", 41234);
            span.record("http.status_code", 200);
            black_box(span)
        })
    });
    group.bench_function("span: 4 fields given at creation", |b| {
        b.iter(|| {
            let span = tracing::info_span!(
                "http.server",
                span.kind = "server",
                http.method = "GET",
                http.path = "/orders/42",
                service.name = Some("order"),
                http.route = route,
                app.trace_id = app,
                net.peer.port = Some(41234),
                http.status_code = tracing::field::Empty,
            );
            span.record("http.status_code", 200);
            black_box(span)
        })
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    // No subscriber: the layer's own cost (the span is disabled).
    stacks(c, "no subscriber");
    parts(c, "no subscriber");
    // As in production: registry + ContextLayer + trace-log's formatter, to a sink.
    let subscriber = trace_log::builder()
        .ignore_env()
        .log_bridge(false)
        .writer(std::io::sink)
        .subscriber()
        .expect("trace-log subscriber");
    tracing::subscriber::with_default(subscriber, || {
        stacks(c, "trace-log subscriber");
        parts(c, "trace-log subscriber");
    });
}

criterion_group!(all, benches);
criterion_main!(all);
