//! The `reqwest-middleware` path.

use http::Extensions;
use reqwest::{Request, Response};
use reqwest_middleware::{Middleware, Next};

use crate::call::ClientCall;
use crate::ClientTracing;

/// A [`reqwest_middleware::Middleware`] that carries the current trace to the callee and opens
/// a client span per call.
///
/// For every request it makes the client span's context (a child of the current context, or a
/// new trace outside any — see [`ClientTracing`]), writes the configured headers (never
/// overwriting one set by hand), opens the `http.client` span inside that context, passes the
/// request on, records `http.status_code` (and `error = true` on 5xx, or the error text on a
/// transport failure; `error = "<status>"` on a 4xx with [`ClientTracing::mark_client_errors`])
/// and closes the span when the response headers have arrived. Errors are returned unchanged.
///
/// The context is read when the request reaches this middleware, i.e. when the
/// `send()` future is first polled. Middleware attached after this one (e.g. a retry
/// middleware) runs inside the client span and all its attempts carry the same headers;
/// attach it before this one to get a client span per attempt.
///
/// ```no_run
/// use reqwest_middleware::ClientBuilder;
/// use trace_context::{Context, WithContext};
/// use trace_reqwest::TracingMiddleware;
///
/// # async fn run() -> Result<(), reqwest_middleware::Error> {
/// let client = ClientBuilder::new(reqwest::Client::new())
///     .with(TracingMiddleware::new())
///     .build();
///
/// // Inside a request handled by trace-tower (or any code running in a context):
/// let response = client
///     .get("http://127.0.0.1:8080/users/42")
///     .send()
///     .with_context(Context::new_root())
///     .await?;
/// assert!(response.status().is_success());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default)]
pub struct TracingMiddleware {
    tracing: ClientTracing,
}

impl TracingMiddleware {
    /// The middleware with the default configuration (`X-App-Trace-Id`, `traceparent`, B3
    /// multi; a new trace outside any context).
    ///
    /// ```
    /// let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
    ///     .with(trace_reqwest::TracingMiddleware::new())
    ///     .build();
    /// # drop(client);
    /// ```
    pub fn new() -> Self {
        TracingMiddleware::default()
    }

    /// The middleware with this configuration.
    ///
    /// ```
    /// use trace_context::codec::{B3Style, Propagation};
    /// use trace_reqwest::{ClientTracing, TracingMiddleware};
    /// let mw = TracingMiddleware::with_config(
    ///     ClientTracing::new().propagation(Propagation::default().b3_style(B3Style::Single)),
    /// );
    /// # drop(mw);
    /// ```
    pub fn with_config(tracing: ClientTracing) -> Self {
        TracingMiddleware { tracing }
    }

    /// The configuration in use.
    ///
    /// ```
    /// let mw = trace_reqwest::TracingMiddleware::new();
    /// assert!(mw.config().propagation_config().w3c_enabled());
    /// ```
    pub fn config(&self) -> &ClientTracing {
        &self.tracing
    }
}

impl From<ClientTracing> for TracingMiddleware {
    fn from(tracing: ClientTracing) -> Self {
        TracingMiddleware::with_config(tracing)
    }
}

#[async_trait::async_trait]
impl Middleware for TracingMiddleware {
    async fn handle(
        &self,
        mut req: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        let call = ClientCall::start(&self.tracing, &mut req);
        call.run(next.run(req, extensions)).await
    }
}
