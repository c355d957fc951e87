//! The W3C interop service propagates the context it received, with a new parent id per call.
#![cfg(feature = "instrumented")]

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use examples::server::{bind, serve, ServiceHandle};

type Seen = Arc<Mutex<Vec<(HeaderMap, serde_json::Value)>>>;

/// A stand-in for the harness's callback endpoint: records what it receives.
async fn harness() -> (ServiceHandle, Seen) {
    let seen: Seen = Arc::default();
    let app = Router::new()
        .route(
            "/callback",
            post(
                |State(seen): State<Seen>,
                 headers: HeaderMap,
                 Json(body): Json<serde_json::Value>| async move {
                    seen.lock().unwrap().push((headers, body));
                    "ok"
                },
            ),
        )
        .with_state(seen.clone());
    let listener = bind("127.0.0.1:0".parse().unwrap(), "--port")
        .await
        .unwrap();
    (serve("harness", listener, app).unwrap(), seen)
}

async fn interop() -> ServiceHandle {
    let listener = bind("127.0.0.1:0".parse().unwrap(), "--addr")
        .await
        .unwrap();
    serve("interop", listener, examples::interop::app()).unwrap()
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no {name} header in {h:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_call_carries_the_trace_with_a_new_parent_id() {
    let (harness, seen) = harness().await;
    let service = interop().await;
    let callback = format!("{}/callback", harness.url());
    let body = serde_json::json!([
        {"url": callback, "arguments": [{"url": "http://127.0.0.1:1/next", "arguments": []}]},
        {"url": callback, "arguments": []}
    ]);
    let trace_id = "0af7651916cd43dd8448eb211c80319c";
    let parent = "b7ad6b7169203331";
    let response = reqwest::Client::new()
        .post(format!("{}/test", service.url()))
        .header("traceparent", format!("00-{trace_id}-{parent}-01"))
        .header("tracestate", "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    // Both calls were made before the answer.
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    let mut parents = Vec::new();
    for (headers, _) in &seen {
        let tp = header(headers, "traceparent");
        let parts: Vec<&str> = tp.split('-').collect();
        assert_eq!(parts.len(), 4, "{tp}");
        assert_eq!(parts[0], "00");
        assert_eq!(parts[1], trace_id, "{tp}");
        assert_ne!(parts[2], parent, "a new parent id: {tp}");
        assert_eq!(parts[2].len(), 16);
        assert_eq!(
            u8::from_str_radix(parts[3], 16).unwrap() & 1,
            1,
            "sampled: {tp}"
        );
        assert_eq!(
            header(headers, "tracestate"),
            "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"
        );
        parents.push(parts[2].to_owned());
    }
    assert_ne!(parents[0], parents[1], "one parent id per call");
    // The arguments are what was POSTed.
    assert_eq!(
        seen[0].1,
        serde_json::json!([{"url": "http://127.0.0.1:1/next", "arguments": []}])
    );
    assert_eq!(seen[1].1, serde_json::json!([]));

    service.shutdown().await.unwrap();
    harness.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_traceparent_starts_a_new_trace() {
    let (harness, seen) = harness().await;
    let service = interop().await;
    let body = serde_json::json!([{"url": format!("{}/callback", harness.url()), "arguments": []}]);
    let bad = "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01";
    let response = reqwest::Client::new()
        .post(format!("{}/test", service.url()))
        .header("traceparent", bad)
        .header("tracestate", "foo=1")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    let tp = header(&seen[0].0, "traceparent");
    assert!(
        !tp.contains("0af7651916cd43dd8448eb211c80319c"),
        "the invalid parent must not be joined: {tp}"
    );
    assert!(
        seen[0].0.get("tracestate").is_none(),
        "tracestate goes with the ignored traceparent"
    );
    service.shutdown().await.unwrap();
    harness.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_is_not_a_list_of_cases_is_refused() {
    let service = interop().await;
    let response = reqwest::Client::new()
        .post(format!("{}/test", service.url()))
        .header("content-type", "application/json")
        .body("{\"url\": 1}")
        .send()
        .await
        .unwrap();
    assert!(response.status().is_client_error(), "{}", response.status());
    service.shutdown().await.unwrap();
}
