//! A service for the W3C Trace Context conformance suite (`w3c/trace-context`, `test/`).
//!
//! The harness POSTs to `/test` a JSON array of `{"url": ..., "arguments": ...}`. For each
//! element, in order and before answering, the service POSTs `arguments` as JSON to `url`
//! through trace-reqwest — so the `traceparent`/`tracestate` it received propagate per the
//! spec, with a new parent id per call. It is built from the same crates and defaults a user
//! gets: trace-tower's layer on the router and trace-reqwest's default configuration on the client
//! (`X-App-Trace-Id`, W3C and B3 multi).
//!
//! ```no_run
//! # #[tokio::main]
//! # async fn main() -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:5000").await?;
//! axum::serve(listener, examples::interop::app()).await
//! # }
//! ```

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::client::HttpClient;

/// One instruction of the harness: POST `arguments` as JSON to `url`.
///
/// ```
/// let cases: Vec<examples::interop::Case> =
///     serde_json::from_str(r#"[{"url":"http://127.0.0.1:7777/callback","arguments":[]}]"#).unwrap();
/// assert_eq!(cases[0].url, "http://127.0.0.1:7777/callback");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    /// Where to POST.
    pub url: String,
    /// What to POST (usually a nested array of cases for the next hop).
    #[serde(default)]
    pub arguments: serde_json::Value,
}

/// The interop service, traced: `POST /test`.
///
/// ```
/// let _app: axum::Router = examples::interop::app();
/// ```
pub fn app() -> Router {
    router(HttpClient::with_tracing(trace_reqwest::ClientTracing::new()))
        .layer(trace_tower::TraceLayer::new())
}

/// The interop routes without the server layer, calling out with `client`.
///
/// ```
/// let _routes: axum::Router = examples::interop::router(examples::client::HttpClient::new());
/// ```
pub fn router(client: HttpClient) -> Router {
    Router::new()
        .route("/test", post(test))
        .with_state(Arc::new(client))
}

async fn test(State(client): State<Arc<HttpClient>>, Json(cases): Json<Vec<Case>>) -> StatusCode {
    tracing::info!("test: {} call(s) to make", cases.len());
    for case in &cases {
        match client.post_json(&case.url, &case.arguments).await {
            Ok(r) => tracing::info!("POST {} -> {}", case.url, r.status().as_u16()),
            // The harness judges the headers it received; a failed callback is only logged.
            Err(e) => tracing::warn!("{e}"),
        }
    }
    StatusCode::OK
}
