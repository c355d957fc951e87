//! MDC fields a handler puts survive its awaits, with and without a subscriber.

use std::convert::Infallible;

use tower::{Layer, ServiceExt};
use tracing_subscriber::layer::SubscriberExt;

async fn handler(_req: http::Request<()>) -> Result<http::Response<String>, Infallible> {
    assert!(trace_context::mdc::put("order", "1001"));
    tokio::task::yield_now().await;
    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    let seen = trace_context::mdc::get("order").unwrap_or_default();
    Ok(http::Response::new(seen))
}

async fn call() -> String {
    let svc = trace_tower::TraceLayer::new().layer(tower::service_fn(handler));
    let res = svc.oneshot(http::Request::new(())).await.unwrap();
    res.into_body()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_survives_awaits_without_a_subscriber() {
    assert_eq!(call().await, "1001");
}

/// `call()` on a current-thread runtime with `subscriber` as the default.
fn call_under(subscriber: impl tracing::Subscriber + Send + Sync + 'static) -> String {
    let _default = tracing::subscriber::set_default(subscriber);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(call())
}

#[test]
fn put_survives_awaits_with_the_context_layer() {
    let subscriber = tracing_subscriber::registry().with(trace_context::ContextLayer::new());
    assert_eq!(call_under(subscriber), "1001");
}

#[test]
fn put_survives_awaits_with_a_subscriber_without_the_context_layer() {
    // The server span is enabled and entered, but nothing installs a context on enter.
    assert_eq!(call_under(tracing_subscriber::registry()), "1001");
}
