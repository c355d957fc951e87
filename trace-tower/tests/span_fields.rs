//! The server span's fields: `http.route` from axum's `MatchedPath`, `http.path` without the
//! query string, `http.method`, `http.status_code`, `service.name`, the peer address.

mod support;

use std::net::SocketAddr;

use axum::routing::{get, post};
use axum::Router;
use support::{client, init_tracing, serve, server_span_of};
use trace_context::TraceId;
use trace_tower::{TraceLayer, SERVER_SPAN_NAME};

fn routes() -> Router {
    Router::new()
        .route("/orders/{id}", get(|| async { "order" }))
        .route(
            "/orders",
            post(|| async { (axum::http::StatusCode::CREATED, "made") }),
        )
        .route("/files/{*path}", get(|| async { "file" }))
}

async fn call(
    addr: SocketAddr,
    method: reqwest::Method,
    path_and_query: &str,
) -> (reqwest::StatusCode, TraceId) {
    let trace = TraceId::random();
    let response = client()
        .request(method, format!("http://{addr}{path_and_query}"))
        .header("x-app-trace-id", trace.to_string())
        .send()
        .await
        .unwrap();
    (response.status(), trace)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn route_path_method_and_status_are_recorded() {
    init_tracing();
    let app = routes().layer(TraceLayer::new().service_name("order-service"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });

    let (status, trace) = call(
        addr,
        reqwest::Method::GET,
        "/orders/42?token=secret&page=2#frag",
    )
    .await;
    assert_eq!(status, 200);
    let span = server_span_of(trace).await;
    assert_eq!(span.name, SERVER_SPAN_NAME);
    assert_eq!(span.kind(), Some("server"));
    assert_eq!(span.field("http.method"), Some("GET"));
    assert_eq!(span.field("http.route"), Some("/orders/{id}"));
    assert_eq!(span.field("http.path"), Some("/orders/42"));
    assert_eq!(span.field("http.status_code"), Some("200"));
    assert_eq!(span.field("service.name"), Some("order-service"));
    assert_eq!(span.field("error"), None);
    assert_eq!(span.field("net.peer.ip"), Some("127.0.0.1"));
    assert!(span.field("net.peer.port").is_some());
    assert!(
        span.fields.values().all(|v| !v.contains("secret")),
        "query string leaked: {span:?}"
    );

    let (status, trace) = call(addr, reqwest::Method::POST, "/orders?x=1").await;
    assert_eq!(status, 201);
    let span = server_span_of(trace).await;
    assert_eq!(span.field("http.method"), Some("POST"));
    assert_eq!(span.field("http.route"), Some("/orders"));
    assert_eq!(span.field("http.path"), Some("/orders"));
    assert_eq!(span.field("http.status_code"), Some("201"));

    let (_, trace) = call(addr, reqwest::Method::GET, "/files/a/b/c.txt").await;
    let span = server_span_of(trace).await;
    assert_eq!(span.field("http.route"), Some("/files/{*path}"));
    assert_eq!(span.field("http.path"), Some("/files/a/b/c.txt"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_layer_outside_the_router_records_no_route_but_the_path_and_status() {
    init_tracing();
    // The layer wraps the whole router: routing has not happened yet when it runs, so there
    // is no `MatchedPath` (and no `ConnectInfo` without `into_make_service_with_connect_info`).
    let wrapped = tower::Layer::layer(&TraceLayer::new(), routes());
    let addr = serve(Router::new().fallback_service(wrapped)).await;

    let (status, trace) = call(addr, reqwest::Method::GET, "/orders/7?q=1").await;
    assert_eq!(status, 200);
    let span = server_span_of(trace).await;
    assert_eq!(span.field("http.route"), None);
    assert_eq!(span.field("http.path"), Some("/orders/7"));
    assert_eq!(span.field("http.status_code"), Some("200"));
    assert_eq!(span.field("net.peer.ip"), None);

    let (status, trace) = call(addr, reqwest::Method::GET, "/nowhere").await;
    assert_eq!(status, 404);
    let span = server_span_of(trace).await;
    assert_eq!(span.field("http.status_code"), Some("404"));
    assert_eq!(span.field("error"), None);
}
