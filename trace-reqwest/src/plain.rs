//! The plain-reqwest path: an extension on `reqwest::RequestBuilder`, and
//! [`ClientTracing::execute`] for code that builds `reqwest::Request`s itself.

use std::future::Future;

use reqwest::{Client, Request, RequestBuilder, Response};

use crate::call::ClientCall;
use crate::ClientTracing;

mod sealed {
    pub trait Sealed {}
    impl Sealed for reqwest::RequestBuilder {}
}

/// Traced sending for plain [`reqwest::RequestBuilder`]s, without `reqwest-middleware`.
///
/// `send_traced()` is `send()` plus what [`crate::TracingMiddleware`] does: the headers for the
/// current context are written (a header set by hand is left alone), the `http.client` span is
/// opened, and the status or error is recorded on it when the response headers arrive. The
/// result is exactly what `send()` returns.
///
/// The context is read when `send_traced()` is called (like
/// [`trace_context::WithContext::in_current_context`]), so the returned future can be moved
/// into another task and still carries the caller's trace.
///
/// ```no_run
/// use trace_reqwest::RequestBuilderExt;
///
/// # async fn run() -> Result<(), reqwest::Error> {
/// let client = reqwest::Client::new();
/// let response = client
///     .get("http://127.0.0.1:8080/products/7")
///     .header("accept", "application/json")
///     .send_traced()
///     .await?;
/// println!("{}", response.status());
/// # Ok(())
/// # }
/// ```
pub trait RequestBuilderExt: sealed::Sealed {
    /// Sends the request with the shared default configuration
    /// ([`ClientTracing::shared_default`]).
    ///
    /// ```no_run
    /// use trace_reqwest::RequestBuilderExt;
    /// # async fn run(client: reqwest::Client) -> reqwest::Result<()> {
    /// let body = client.get("http://127.0.0.1:8080/").send_traced().await?.text().await?;
    /// # drop(body);
    /// # Ok(())
    /// # }
    /// ```
    fn send_traced(self) -> impl Future<Output = reqwest::Result<Response>> + Send + 'static;

    /// Sends the request with this configuration.
    ///
    /// ```no_run
    /// use trace_context::codec::{B3Style, Propagation};
    /// use trace_reqwest::{ClientTracing, RequestBuilderExt};
    /// # async fn run(client: reqwest::Client) -> reqwest::Result<()> {
    /// let tracing = ClientTracing::new().propagation(Propagation::default().b3_style(B3Style::Single));
    /// let response = client.get("http://127.0.0.1:8080/").send_traced_with(&tracing).await?;
    /// # drop(response);
    /// # Ok(())
    /// # }
    /// ```
    fn send_traced_with(
        self,
        tracing: &ClientTracing,
    ) -> impl Future<Output = reqwest::Result<Response>> + Send + 'static;
}

impl RequestBuilderExt for RequestBuilder {
    fn send_traced(self) -> impl Future<Output = reqwest::Result<Response>> + Send + 'static {
        self.send_traced_with(ClientTracing::shared_default())
    }

    fn send_traced_with(
        self,
        tracing: &ClientTracing,
    ) -> impl Future<Output = reqwest::Result<Response>> + Send + 'static {
        let (client, request) = self.build_split();
        // Inject and open the span now, in the caller's context.
        let prepared = request.map(|mut request| {
            let call = ClientCall::start(tracing, &mut request);
            (request, call)
        });
        async move {
            // A builder error is returned as is: nothing was sent, so there is no span.
            let (request, call) = prepared?;
            call.run(client.execute(request)).await
        }
    }
}

impl ClientTracing {
    /// Executes a prepared [`reqwest::Request`] on `client`, traced: the plain-reqwest
    /// counterpart of `Client::execute`. The context is read when this is called.
    ///
    /// ```no_run
    /// # async fn run() -> reqwest::Result<()> {
    /// let client = reqwest::Client::new();
    /// let request = client.get("http://127.0.0.1:8080/health").build()?;
    /// let response = trace_reqwest::ClientTracing::new().execute(&client, request).await?;
    /// # drop(response);
    /// # Ok(())
    /// # }
    /// ```
    pub fn execute(
        &self,
        client: &Client,
        mut request: Request,
    ) -> impl Future<Output = reqwest::Result<Response>> + Send + 'static {
        let call = ClientCall::start(self, &mut request);
        call.run(client.execute(request))
    }
}
