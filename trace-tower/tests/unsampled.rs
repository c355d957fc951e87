//! `TraceLayer::unsampled_spans(false)`: an unsampled request opens no server span, but still
//! runs inside its context (ids for the logs, MDC, propagation); a sampled one keeps its span.

mod support;

use std::sync::Arc;

use axum::routing::get;
use axum::Router;
use support::{client, init_tracing, serve, server_span_of, server_spans_of};
use trace_context::{FollowUpstream, TraceId};
use trace_tower::TraceLayer;

/// What the handler saw: the current trace id, an MDC field it put and read back after an
/// await, and whether its context was sampled.
async fn handler() -> String {
    trace_context::mdc::put("step", "one");
    tokio::task::yield_now().await;
    let id = trace_context::current_trace_id().map(|t| t.to_string());
    let step = trace_context::mdc::get("step");
    let sampled = trace_context::Context::current().map(|c| c.is_sampled());
    format!("{id:?} {step:?} {sampled:?}")
}

/// `GET /work` joining `trace` with these `traceparent` flags.
async fn get_work(addr: std::net::SocketAddr, trace: TraceId, flags: &str) -> reqwest::Response {
    client()
        .get(format!("http://{addr}/work"))
        .header(
            "traceparent",
            format!("00-{trace}-b7ad6b7169203331-{flags}"),
        )
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsampled_requests_open_no_span_but_keep_their_context() {
    init_tracing();
    let layer = TraceLayer::new()
        .sampler(Arc::new(FollowUpstream))
        .unsampled_spans(false);
    assert!(!layer.opens_unsampled_spans());
    let addr = serve(Router::new().route("/work", get(handler)).layer(layer)).await;

    for (flags, sampled) in [("00", false), ("01", true)] {
        let trace = TraceId::random();
        let response = get_work(addr, trace, flags).await;
        assert_eq!(response.status(), 200);
        let echoed = response.headers()["x-app-trace-id"]
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(echoed, trace.to_string());
        let body = response.text().await.unwrap();
        assert_eq!(
            body,
            format!("Some(\"{trace}\") Some(\"one\") Some({sampled})"),
            "flags {flags}"
        );
        if sampled {
            let span = server_span_of(trace).await;
            assert_eq!(span.context().trace_id(), trace);
        } else {
            // Give a span that should not exist the time a real one takes to close.
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            assert!(server_spans_of(trace).is_empty(), "flags {flags}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_default_unsampled_requests_have_a_span() {
    init_tracing();
    let layer = TraceLayer::new().sampler(Arc::new(FollowUpstream));
    assert!(layer.opens_unsampled_spans());
    let addr = serve(Router::new().route("/work", get(handler)).layer(layer)).await;
    let trace = TraceId::random();
    let response = get_work(addr, trace, "00").await;
    assert_eq!(response.status(), 200);
    let span = server_span_of(trace).await;
    assert!(!span.context().is_sampled());
}
