//! The injection step alone (each format, and all together), and a full loopback round-trip
//! with and without tracing, side by side in one run.
//!
//! `cargo bench -p trace-reqwest --bench inject`

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use reqwest::header::{HeaderValue, ACCEPT};
use reqwest::{Method, Request, Url};
use reqwest_middleware::ClientBuilder;
use trace_context::codec::{B3Style, Propagation};
use trace_context::{Context, WithContext};
use trace_reqwest::{ClientTracing, RequestBuilderExt, TracingMiddleware};
use tracing::Instrument;
use tracing_subscriber::layer::SubscriberExt;

/// A request context like the one a server would run a handler in.
fn request_context() -> Context {
    Context::builder(trace_context::TraceId::random())
        .parent_span_id(trace_context::SpanId::from_u64(0x1122_3344_5566_7788))
        .remote_parent(true)
        .build()
}

fn inject(c: &mut Criterion) {
    let url = Url::parse("http://127.0.0.1:8080/users/42").unwrap();
    let formats = [
        ("x-app-trace-id", Propagation::default().w3c(false).b3_off()),
        ("traceparent", Propagation::default().app_id(false).b3_off()),
        ("b3 multi", Propagation::default().app_id(false).w3c(false)),
        (
            "b3 single",
            Propagation::default()
                .app_id(false)
                .w3c(false)
                .b3_style(B3Style::Single),
        ),
        ("all (default: app, w3c, b3 multi)", Propagation::default()),
    ];
    let request = request_context();
    let _entered = request.enter();
    let mut group = c.benchmark_group("inject");
    group
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500))
        .sample_size(30);
    let tracing = ClientTracing::new();
    group.bench_function("client context only (no header)", |b| {
        b.iter(|| black_box(tracing.client_context()))
    });
    for (name, propagation) in formats {
        let tracing = ClientTracing::new().propagation(propagation);
        group.bench_function(name, |b| {
            b.iter_batched(
                || {
                    // A request whose header map is already allocated, as it is in a real
                    // call (reqwest adds `accept` and the client's default headers to it).
                    let mut req = Request::new(Method::GET, url.clone());
                    req.headers_mut()
                        .insert(ACCEPT, HeaderValue::from_static("*/*"));
                    req
                },
                |mut req| {
                    let ctx = tracing.inject(req.headers_mut());
                    (req, black_box(ctx))
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

fn round_trip(c: &mut Criterion) {
    // The server: its own runtime and thread.
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let addr = server_rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new().route("/users/{id}", axum::routing::get(|| async { "ok" }));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        addr
    });
    let client_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let url = format!("http://{addr}/users/42");
    let plain = {
        let _g = client_rt.enter();
        reqwest::Client::builder().no_proxy().build().unwrap()
    };
    let bare_middleware_client = ClientBuilder::new(plain.clone()).build();
    let traced_middleware_client = ClientBuilder::new(plain.clone())
        .with(TracingMiddleware::new())
        .build();
    let request = request_context();

    let mut group = c.benchmark_group("round trip");
    group
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .sample_size(20);
    group.bench_function("reqwest", |b| {
        b.to_async(&client_rt).iter(|| {
            let req = plain.get(&url);
            async move { req.send().await.unwrap().bytes().await.unwrap() }
                .with_context(request.clone())
        })
    });
    group.bench_function("reqwest + send_traced", |b| {
        b.to_async(&client_rt).iter(|| {
            let req = plain.get(&url);
            async move { req.send_traced().await.unwrap().bytes().await.unwrap() }
                .with_context(request.clone())
        })
    });
    group.bench_function("reqwest-middleware (no middleware)", |b| {
        b.to_async(&client_rt).iter(|| {
            let req = bare_middleware_client.get(&url);
            async move { req.send().await.unwrap().bytes().await.unwrap() }
                .with_context(request.clone())
        })
    });
    group.bench_function("reqwest-middleware + TracingMiddleware", |b| {
        b.to_async(&client_rt).iter(|| {
            let req = traced_middleware_client.get(&url);
            async move { req.send().await.unwrap().bytes().await.unwrap() }
                .with_context(request.clone())
        })
    });
    group.finish();

    // The same comparison, paired: each round times a block of untraced calls and a block of
    // traced calls back to back (in alternating order), so that drift in the machine's load
    // hits both alike. Reported: the median of the per-round ratios.
    let plain_call = || {
        let req = plain.get(&url);
        async move { req.send().await.unwrap().bytes().await.unwrap() }
            .with_context(request.clone())
    };
    let ext_call = || {
        let req = plain.get(&url);
        async move { req.send_traced().await.unwrap().bytes().await.unwrap() }
            .with_context(request.clone())
    };
    let bare_call = || {
        let req = bare_middleware_client.get(&url);
        async move { req.send().await.unwrap().bytes().await.unwrap() }
            .with_context(request.clone())
    };
    let mw_call = || {
        let req = traced_middleware_client.get(&url);
        async move { req.send().await.unwrap().bytes().await.unwrap() }
            .with_context(request.clone())
    };
    // A breakdown of where the difference goes.
    let hand_call = || {
        let req = plain
            .get(&url)
            .header("x-app-trace-id", "0af7651916cd43dd8448eb211c80319c")
            .header(
                "traceparent",
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            )
            .header("x-b3-traceid", "0af7651916cd43dd8448eb211c80319c")
            .header("x-b3-spanid", "b7ad6b7169203331")
            .header("x-b3-parentspanid", "b7ad6b7169203332")
            .header("x-b3-sampled", "1");
        async move { req.send().await.unwrap().bytes().await.unwrap() }
            .with_context(request.clone())
    };
    let no_headers =
        ClientTracing::new().propagation(Propagation::default().app_id(false).w3c(false).b3_off());
    let span_only_call = || {
        let f = plain.get(&url).send_traced_with(&no_headers);
        async move { f.await.unwrap().bytes().await.unwrap() }.with_context(request.clone())
    };
    let bare_span_call = || {
        let req = plain.get(&url);
        async move {
            let span = tracing::info_span!("bare", span.kind = "client");
            req.send()
                .instrument(span)
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap()
        }
        .with_context(request.clone())
    };
    let app_only = ClientTracing::new().propagation(Propagation::default().w3c(false).b3_off());
    let app_only_call = || {
        let f = plain.get(&url).send_traced_with(&app_only);
        async move { f.await.unwrap().bytes().await.unwrap() }.with_context(request.clone())
    };
    // The shop's configuration: the two headers its services read, and no span for a call in
    // an unsampled trace (this request context has no sampling decision: not sampled).
    let shop = ClientTracing::new()
        .propagation(Propagation::default().b3_off())
        .unsampled_spans(false);
    let shop_call = || {
        let f = plain.get(&url).send_traced_with(&shop);
        async move { f.await.unwrap().bytes().await.unwrap() }.with_context(request.clone())
    };
    // The shop's configuration since session 4: a trace id minted upstream (this request
    // context has no application id) travels in `traceparent` alone.
    let shop_minted = ClientTracing::new()
        .propagation(Propagation::default().b3_off().minted_app_header(false))
        .unsampled_spans(false);
    let shop_minted_call = || {
        let f = plain.get(&url).send_traced_with(&shop_minted);
        async move { f.await.unwrap().bytes().await.unwrap() }.with_context(request.clone())
    };
    client_rt.block_on(async {
        println!("paired breakdown (median ratio, p25..p75; median call):");
        println!(
            "  reqwest / reqwest (noise floor): {}",
            paired(&plain_call, &plain_call).await
        );
        println!(
            "  reqwest + the same 6 headers set by hand / reqwest: {}",
            paired(&plain_call, &hand_call).await
        );
        println!(
            "  send_traced writing no header (span only) / reqwest: {}",
            paired(&plain_call, &span_only_call).await
        );
        println!(
            "  reqwest inside a bare tracing span (info_span!, no field) / reqwest: {}",
            paired(&plain_call, &bare_span_call).await
        );
        println!(
            "  send_traced writing X-App-Trace-Id only / reqwest: {}",
            paired(&plain_call, &app_only_call).await
        );
        println!(
            "  send_traced, X-App-Trace-Id + traceparent, unsampled_spans(false) / reqwest: {}",
            paired(&plain_call, &shop_call).await
        );
        println!(
            "  send_traced, traceparent only (minted_app_header(false)), unsampled_spans(false) / reqwest: {}",
            paired(&plain_call, &shop_minted_call).await
        );
    });
    client_rt.block_on(async {
        let ext = paired(&plain_call, &ext_call).await;
        let mw = paired(&bare_call, &mw_call).await;
        let mw_vs_plain = paired(&plain_call, &mw_call).await;
        println!(
            "paired round trip, {ROUNDS} rounds x {CALLS} calls of each kind (median ratio, p25..p75; median call untraced vs traced):"
        );
        println!("  reqwest + send_traced / reqwest: {ext}");
        println!("  reqwest-middleware + TracingMiddleware / reqwest-middleware: {mw}");
        println!("  reqwest-middleware + TracingMiddleware / reqwest: {mw_vs_plain}");
    });
    drop(server_rt);
}

const ROUNDS: usize = 21;
const CALLS: usize = 400;

/// Paired comparison, robust to the load of a shared machine: calls of the two kinds
/// alternate one by one (ABBA order), each call is timed, and each round compares the
/// median call of each kind. Reported: the median of the per-round ratios traced/untraced,
/// with the quartiles of the ratios and the median call times of the middle round.
async fn paired<A, AF, B, BF>(untraced: &A, traced: &B) -> String
where
    A: Fn() -> AF,
    AF: std::future::Future,
    B: Fn() -> BF,
    BF: std::future::Future,
{
    async fn timed<F: std::future::Future>(f: &impl Fn() -> F) -> Duration {
        let start = Instant::now();
        black_box(f().await);
        start.elapsed()
    }
    fn median(v: &mut [Duration]) -> Duration {
        v.sort_unstable();
        v[v.len() / 2]
    }
    let mut rounds = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let mut u = Vec::with_capacity(CALLS);
        let mut t = Vec::with_capacity(CALLS);
        for i in 0..CALLS {
            if i % 4 == 0 || i % 4 == 3 {
                u.push(timed(untraced).await);
                t.push(timed(traced).await);
            } else {
                t.push(timed(traced).await);
                u.push(timed(untraced).await);
            }
        }
        let (mu, mt) = (median(&mut u), median(&mut t));
        rounds.push((mt.as_secs_f64() / mu.as_secs_f64(), mu, mt));
    }
    rounds.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (ratio, mu, mt) = rounds[ROUNDS / 2];
    format!(
        "{ratio:.3} ({:.3}..{:.3}; {:.1} us vs {:.1} us)",
        rounds[ROUNDS / 4].0,
        rounds[ROUNDS * 3 / 4].0,
        mu.as_secs_f64() * 1e6,
        mt.as_secs_f64() * 1e6,
    )
}

fn benches(c: &mut Criterion) {
    // The setup a service has: ContextLayer installed, so client spans are real spans.
    let subscriber = tracing_subscriber::registry().with(trace_context::ContextLayer::new());
    tracing::subscriber::set_global_default(subscriber).expect("one subscriber");
    inject(c);
    round_trip(c);
}

criterion_group!(all, benches);
criterion_main!(all);
