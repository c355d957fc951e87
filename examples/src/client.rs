//! The outgoing HTTP client the services call each other with.
//!
//! A plain `reqwest::Client` in both builds. With the `instrumented` feature (the default) every
//! call goes through trace-reqwest's plain-reqwest path
//! ([`send_traced_with`](trace_reqwest::RequestBuilderExt::send_traced_with)): it carries the
//! current trace context (a new parent id per call) and opens a client span. Without it, calls
//! are plain `send()`s; the services' code is the same either way.
//!
//! The shop does not use `reqwest-middleware` (trace-reqwest's other way in, which it still
//! supports and tests): with one middleware, the middleware stack only adds cost — a boxed
//! future per middleware, a copy of the middleware list per request and larger futures moved
//! on every call (see `examples/BENCHMARKS.md`).

use std::fmt;
use std::time::Duration;

use axum::body::Bytes;
use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder, Response};

/// How long one call may take before it fails.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// A cheap-to-clone HTTP client (one connection pool per service).
///
/// ```
/// let client = examples::client::HttpClient::new();
/// let _same_pool = client.clone();
/// ```
#[derive(Clone, Debug)]
pub struct HttpClient {
    inner: reqwest::Client,
    #[cfg(feature = "instrumented")]
    tracing: trace_reqwest::ClientTracing,
}

impl Default for HttpClient {
    fn default() -> Self {
        HttpClient::new()
    }
}

impl HttpClient {
    /// A client with a [`CALL_TIMEOUT`] per call; instrumented (with the shop's trace-reqwest
    /// configuration, see [`shop_tracing`]) when the feature is on.
    ///
    /// ```
    /// let _client = examples::client::HttpClient::new();
    /// ```
    pub fn new() -> HttpClient {
        HttpClient {
            inner: plain_client(),
            #[cfg(feature = "instrumented")]
            tracing: shop_tracing(),
        }
    }

    /// A client whose calls are traced with this trace-reqwest configuration (the interop
    /// service uses trace-reqwest's defaults).
    ///
    /// ```
    /// let _client = examples::client::HttpClient::with_tracing(trace_reqwest::ClientTracing::new());
    /// ```
    #[cfg(feature = "instrumented")]
    pub fn with_tracing(tracing: trace_reqwest::ClientTracing) -> HttpClient {
        HttpClient {
            inner: plain_client(),
            tracing,
        }
    }

    /// `GET url`.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), examples::client::CallError> {
    /// let client = examples::client::HttpClient::new();
    /// let response = client.get("http://127.0.0.1:8060/user/get/1001").await?;
    /// assert!(response.status().is_success());
    /// # Ok(()) }
    /// ```
    pub async fn get(&self, url: &str) -> Result<Response, CallError> {
        self.call(self.inner.get(url), url).await
    }

    /// Sends a request with these headers and body (what a reverse proxy forwards).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), examples::client::CallError> {
    /// use reqwest::{header::HeaderMap, Method};
    /// let client = examples::client::HttpClient::new();
    /// let r = client
    ///     .send(Method::POST, "http://127.0.0.1:9/echo", HeaderMap::new(), "hi".into())
    ///     .await?;
    /// # let _ = r; Ok(()) }
    /// ```
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        headers: HeaderMap,
        body: Bytes,
    ) -> Result<Response, CallError> {
        let request = self.inner.request(method, url).headers(headers).body(body);
        self.call(request, url).await
    }

    /// POSTs `value` as JSON.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), examples::client::CallError> {
    /// let client = examples::client::HttpClient::new();
    /// client.post_json("http://127.0.0.1:7777/test", &serde_json::json!([])).await?;
    /// # Ok(()) }
    /// ```
    pub async fn post_json<T: serde::Serialize + ?Sized>(
        &self,
        url: &str,
        value: &T,
    ) -> Result<Response, CallError> {
        self.call(self.inner.post(url).json(value), url).await
    }

    /// Sends `request`: traced with the client's configuration in the instrumented build (the
    /// current context is read here, when the call starts), a plain `send()` otherwise.
    async fn call(&self, request: RequestBuilder, url: &str) -> Result<Response, CallError> {
        #[cfg(feature = "instrumented")]
        let sent = {
            use trace_reqwest::RequestBuilderExt;
            request.send_traced_with(&self.tracing)
        };
        #[cfg(not(feature = "instrumented"))]
        let sent = request.send();
        sent.await.map_err(|e| CallError::new(url, e))
    }
}

/// The `reqwest::Client` under both builds: a [`CALL_TIMEOUT`] per call.
fn plain_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(CALL_TIMEOUT)
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// trace-reqwest's configuration for the shop's calls:
///
/// * the headers the shop's own services read: `X-App-Trace-Id` and W3C `traceparent` (with
///   `tracestate`), not B3. Every service here runs trace-tower, which reads W3C; B3 is for
///   calling services instrumented with Brave/Sleuth, which this shop does not have. Each B3
///   header costs the caller and the callee about as much as the other two together (written,
///   copied by reqwest for retries, parsed, dropped), see `examples/BENCHMARKS.md`;
/// * `X-App-Trace-Id` only when the trace has an application id to pass on (one received by the
///   gateway). A trace id the gateway minted travels in `traceparent` alone: the header would
///   repeat it, and the services behind the gateway would tag their spans `app.trace_id` with
///   it while the gateway's spans have no such tag;
/// * a 4xx answer marks the client span `error = "<status>"`, as Brave's HTTP parser does for
///   any status above 399 (trace-reqwest marks 5xx itself): in the shop an unknown user or
///   product is a 404 that fails the order and must show as an error in the trace;
/// * a call in an unsampled trace opens no `tracing` span (Brave's no-op spans): the exporter
///   is the only layer that wants client spans and it reports sampled traces only. The call
///   still has its own client context (span id sent as the callee's parent, printed by log
///   lines inside the call).
///
/// ```
/// let tracing = examples::client::shop_tracing();
/// assert!(tracing.propagation_config().b3().is_none());
/// assert!(!tracing.propagation_config().writes_minted_app_header());
/// assert!(tracing.client_errors_marked());
/// assert!(!tracing.opens_unsampled_spans());
/// ```
#[cfg(feature = "instrumented")]
pub fn shop_tracing() -> trace_reqwest::ClientTracing {
    use trace_context::codec::Propagation;
    trace_reqwest::ClientTracing::new()
        .propagation(Propagation::default().b3_off().minted_app_header(false))
        .mark_client_errors(true)
        .unsampled_spans(false)
}

/// A call that got no HTTP response (connection refused, timeout, ...).
///
/// ```
/// let e = examples::client::CallError::new("http://x/", "connection refused");
/// assert_eq!(e.to_string(), "call to http://x/ failed: connection refused");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallError {
    url: String,
    message: String,
}

impl CallError {
    /// An error for a call to `url`.
    ///
    /// ```
    /// let e = examples::client::CallError::new("http://x/", "timeout");
    /// assert_eq!(e.url(), "http://x/");
    /// ```
    pub fn new(url: &str, message: impl fmt::Display) -> CallError {
        CallError {
            url: url.to_owned(),
            message: message.to_string(),
        }
    }

    /// The URL called.
    ///
    /// ```
    /// assert_eq!(examples::client::CallError::new("u", "m").url(), "u");
    /// ```
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "call to {} failed: {}", self.url, self.message)
    }
}

impl std::error::Error for CallError {}
