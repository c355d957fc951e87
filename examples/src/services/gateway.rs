//! The gateway: a reverse proxy that routes `/server-order/**` to the order service, dropping
//! the `/server-order` prefix and keeping the rest of the path and the query (Spring Cloud
//! Gateway's `Path=/server-order/**` route with `StripPrefix=1`).

use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;

use crate::client::HttpClient;
use crate::services::ApiError;

/// The route prefix the gateway serves.
pub const ROUTE_PREFIX: &str = "/server-order";

/// Headers a proxy must not forward: hop-by-hop headers, `host` and `content-length` (set
/// again for the new request), and the trace headers of the incoming request, which the
/// outgoing call writes afresh from its own context (a header already present would win).
const DROPPED: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "traceparent",
    "tracestate",
    "b3",
    "x-b3-traceid",
    "x-b3-spanid",
    "x-b3-parentspanid",
    "x-b3-sampled",
    "x-b3-flags",
    "x-app-trace-id",
];

struct GatewayState {
    order_url: String,
    client: HttpClient,
}

/// The gateway's routes, forwarding to the order service at `order_url` with `client`.
///
/// ```
/// let app: axum::Router = examples::services::gateway::router(
///     "http://127.0.0.1:8080",
///     examples::client::HttpClient::new(),
/// );
/// # let _ = app;
/// ```
pub fn router(order_url: &str, client: HttpClient) -> Router {
    let state = GatewayState {
        order_url: order_url.trim_end_matches('/').to_owned(),
        client,
    };
    Router::new()
        .route("/server-order/{*rest}", any(proxy))
        .with_state(Arc::new(state))
}

/// The upstream URL for a request to the gateway: `base` + the path without the prefix + the
/// query. `None` when the path is not under the prefix.
///
/// ```
/// use examples::services::gateway::upstream_url;
/// let uri: axum::http::Uri = "/server-order/order/submit_order?userId=1001".parse().unwrap();
/// assert_eq!(
///     upstream_url("http://127.0.0.1:8080", &uri).as_deref(),
///     Some("http://127.0.0.1:8080/order/submit_order?userId=1001")
/// );
/// assert_eq!(upstream_url("http://x", &"/elsewhere".parse().unwrap()), None);
/// ```
pub fn upstream_url(base: &str, uri: &Uri) -> Option<String> {
    let rest = uri.path().strip_prefix(ROUTE_PREFIX)?;
    if !(rest.is_empty() || rest.starts_with('/')) {
        return None;
    }
    let rest = if rest.is_empty() { "/" } else { rest };
    let mut url = format!("{}{rest}", base.trim_end_matches('/'));
    if let Some(q) = uri.query() {
        url.push('?');
        url.push_str(q);
    }
    Some(url)
}

/// The headers to forward: all but [`DROPPED`] ones and those named by `Connection`.
fn forwarded(headers: &HeaderMap) -> HeaderMap {
    let named_by_connection: Vec<HeaderName> = headers
        .get_all("connection")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
        .collect();
    let mut out = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        if DROPPED.contains(&name.as_str()) || named_by_connection.contains(name) {
            continue;
        }
        out.append(name.clone(), value.clone());
    }
    out
}

async fn proxy(
    State(state): State<Arc<GatewayState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(url) = upstream_url(&state.order_url, &uri) else {
        return ApiError::not_found(format!("no route for {}", uri.path())).into_response();
    };
    tracing::info!("route {method} {} -> {url}", uri.path());
    let started = Instant::now();
    let upstream = match state
        .client
        .send(method, &url, forwarded(&headers), body)
        .await
    {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("{e}");
            return ApiError::bad_gateway(e.to_string()).into_response();
        }
    };
    let status = upstream.status();
    let mut response_headers = forwarded(upstream.headers());
    let body = match upstream.bytes().await {
        Ok(b) => b,
        Err(e) => {
            tracing::error!("reading the order service's answer failed: {e}");
            return ApiError::bad_gateway(format!("order service: {e}")).into_response();
        }
    };
    let elapsed = started.elapsed();
    if status.is_success() {
        tracing::info!(
            "order service answered {} in {elapsed:.1?}",
            status.as_u16()
        );
    } else {
        tracing::warn!(
            "order service answered {} in {elapsed:.1?}",
            status.as_u16()
        );
    }
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    std::mem::swap(response.headers_mut(), &mut response_headers);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_and_trace_headers_are_not_forwarded() {
        let mut h = HeaderMap::new();
        h.insert("connection", "keep-alive, x-secret".parse().unwrap());
        h.insert("x-secret", "1".parse().unwrap());
        h.insert(
            "traceparent",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
                .parse()
                .unwrap(),
        );
        h.insert("accept", "application/json".parse().unwrap());
        let out = forwarded(&h);
        assert_eq!(out.len(), 1);
        assert_eq!(out["accept"], "application/json");
    }

    #[test]
    fn prefix_must_be_a_whole_segment() {
        let uri: Uri = "/server-orderx/a".parse().unwrap();
        assert_eq!(upstream_url("http://x", &uri), None);
        let uri: Uri = "/server-order".parse().unwrap();
        assert_eq!(
            upstream_url("http://x/", &uri).as_deref(),
            Some("http://x/")
        );
    }
}
