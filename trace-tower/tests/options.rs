//! `TraceLayer::mdc_field` (fields every request's context starts with) and
//! `TraceLayer::mark_client_errors` (4xx marks the server span failed).

mod support;

use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use support::{client, init_tracing, serve, server_span_of};
use trace_context::TraceId;
use trace_tower::TraceLayer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_starts_with_the_layer_fields() {
    init_tracing();
    let app = Router::new()
        .route(
            "/read",
            get(|| async {
                tokio::task::yield_now().await;
                format!("{:?}", trace_context::mdc::get("service"))
            }),
        )
        .route(
            "/rename",
            get(|| async {
                trace_context::mdc::put("service", "renamed");
                format!("{:?}", trace_context::mdc::get("service"))
            }),
        )
        .layer(TraceLayer::new().mdc_field("service", "order"));
    let addr = serve(app).await;
    let get = |path: &'static str| async move {
        client()
            .get(format!("http://{addr}{path}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    assert_eq!(get("/read").await, "Some(\"order\")");
    // A put replaces the field for that request only.
    assert_eq!(get("/rename").await, "Some(\"renamed\")");
    assert_eq!(get("/read").await, "Some(\"order\")");
    // Concurrent requests each see the field, whatever the others put.
    let mut calls = Vec::new();
    for i in 0..50 {
        calls.push(tokio::spawn(get(if i % 2 == 0 {
            "/read"
        } else {
            "/rename"
        })));
    }
    for (i, call) in calls.into_iter().enumerate() {
        let expected = if i % 2 == 0 { "order" } else { "renamed" };
        assert_eq!(call.await.unwrap(), format!("Some(\"{expected}\")"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_errors_mark_the_span_only_when_asked() {
    init_tracing();
    let routes = || {
        Router::new()
            .route("/missing", get(|| async { StatusCode::NOT_FOUND }))
            .route("/broken", get(|| async { StatusCode::BAD_GATEWAY }))
    };
    let plain = serve(routes().layer(TraceLayer::new())).await;
    let marking = serve(routes().layer(TraceLayer::new().mark_client_errors(true))).await;
    for (addr, path, error) in [
        (plain, "/missing", None),
        (plain, "/broken", Some("502")),
        (marking, "/missing", Some("404")),
        (marking, "/broken", Some("502")),
    ] {
        let trace = TraceId::random();
        let response = client()
            .get(format!("http://{addr}{path}"))
            .header("x-app-trace-id", trace.to_string())
            .send()
            .await
            .unwrap();
        assert!(!response.status().is_success());
        let span = server_span_of(trace).await;
        assert_eq!(span.field("error"), error, "{path} on {addr}");
        assert_eq!(
            span.field("http.status_code"),
            Some(response.status().as_str())
        );
    }
}
