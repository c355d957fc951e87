//! 200 concurrent requests to a real axum server behind trace-tower's layer, on a multi-thread
//! runtime: every captured line — from the handler, a `log` crate call, a spawned task (before
//! and after an await), a blocking task and a user span — carries its own request's id.
//!
//! One test in this binary: it installs the global subscriber with `trace_log::builder().init()`.

mod support;

use std::collections::{HashMap, HashSet};

use axum::extract::Path;
use axum::routing::get;
use axum::Router;
use support::Capture;
use tracing::Instrument;

const REQUESTS: usize = 200;
/// Lines the handler writes per request.
const LINES_PER_REQUEST: usize = 6;

async fn handler(Path(n): Path<usize>) -> String {
    tracing::info!("req={n} handler");
    log::info!("req={n} log crate");
    trace_context::spawn(async move {
        tracing::info!("req={n} spawned task");
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        log::warn!("req={n} spawned task after await");
    })
    .await
    .expect("task");
    trace_context::spawn_blocking(move || tracing::info!("req={n} blocking task"))
        .await
        .expect("blocking task");
    async move {
        tokio::task::yield_now().await;
        tracing::info!("req={n} user span");
    }
    .instrument(tracing::info_span!("load order", n))
    .await;
    n.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_line_carries_its_own_requests_id() {
    let cap = Capture::default();
    trace_log::builder()
        .ignore_env()
        .default_filter("info")
        .pattern("%X{appTraceId}|%traceId|%spanId|%thread|%msg%n")
        .writer(cap.clone())
        .init()
        .expect("first installation");
    // A second installation is an error, not a panic.
    assert!(matches!(trace_log::init(), Err(trace_log::Error::Init(_))));

    let app = Router::new()
        .route("/orders/{n}", get(handler))
        .layer(trace_tower::TraceLayer::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    // Each request sends its own application id (not an id shape: the trace id is derived).
    let ids: Vec<String> = (0..REQUESTS)
        .map(|n| format!("web-{n:03}-{:08x}", fastrand_u32(n)))
        .collect();
    let client = reqwest::Client::new();
    let calls = ids.iter().enumerate().map(|(n, id)| {
        let client = client.clone();
        let url = format!("http://{addr}/orders/{n}");
        let id = id.clone();
        async move {
            let resp = client
                .get(url)
                .header("X-App-Trace-Id", &id)
                .send()
                .await
                .expect("request");
            assert!(resp.status().is_success());
            let echoed = resp
                .headers()
                .get("x-app-trace-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            assert_eq!(echoed.as_deref(), Some(id.as_str()));
            assert_eq!(resp.text().await.unwrap(), n.to_string());
        }
    });
    futures::future::join_all(calls).await;

    let lines = cap.lines();
    let mut per_request: HashMap<usize, Vec<(String, String)>> = HashMap::new();
    let known: HashSet<&str> = ids.iter().map(String::as_str).collect();
    for line in &lines {
        let parts: Vec<&str> = line.splitn(5, '|').collect();
        assert_eq!(parts.len(), 5, "malformed line {line:?}");
        let (app, trace, span, msg) = (parts[0], parts[1], parts[2], parts[4]);
        assert!(known.contains(app), "line without a request id: {line:?}");
        assert_eq!(trace.len(), 32, "{line:?}");
        assert_eq!(span.len(), 16, "{line:?}");
        let Some(rest) = msg.strip_prefix("req=") else {
            continue; // a line of trace-tower itself: it carries a request id, checked above
        };
        let n: usize = rest.split(' ').next().unwrap().parse().unwrap();
        assert_eq!(
            app, ids[n],
            "request {n} printed another request's id: {line:?}"
        );
        per_request
            .entry(n)
            .or_default()
            .push((trace.to_owned(), msg.to_owned()));
    }
    assert_eq!(per_request.len(), REQUESTS);
    let mut traces = HashSet::new();
    for (n, lines) in &per_request {
        assert_eq!(lines.len(), LINES_PER_REQUEST, "request {n}: {lines:?}");
        let trace = &lines[0].0;
        assert!(
            lines.iter().all(|(t, _)| t == trace),
            "request {n}: {lines:?}"
        );
        assert!(
            traces.insert(trace.clone()),
            "two requests share trace {trace}"
        );
    }
}

/// A small deterministic mix, so ids differ in more than the counter.
fn fastrand_u32(n: usize) -> u32 {
    (n as u32).wrapping_mul(0x9e37_79b9).rotate_left(7)
}
