//! One traced call: inject, open the client span, send inside it, record the outcome.
//! Both the middleware and the plain-reqwest extension go through here.

use std::future::Future;

use reqwest::{Request, Response, StatusCode};
use trace_context::{Context, WithContext};
use tracing::{Instrument, Span};

use crate::span;
use crate::ClientTracing;

/// An error a traced call can end with.
pub(crate) trait CallError {
    /// The text recorded as `error` (no URL).
    fn text(&self) -> String;
    /// The status carried by the error, if any.
    fn status(&self) -> Option<StatusCode>;
}

impl CallError for reqwest::Error {
    fn text(&self) -> String {
        span::reqwest_error_text(self)
    }
    fn status(&self) -> Option<StatusCode> {
        reqwest::Error::status(self)
    }
}

impl CallError for reqwest_middleware::Error {
    fn text(&self) -> String {
        span::middleware_error_text(self)
    }
    fn status(&self) -> Option<StatusCode> {
        reqwest_middleware::Error::status(self)
    }
}

/// A call whose headers are written and whose client span is open.
pub(crate) struct ClientCall {
    span: Span,
    context: Option<Context>,
}

impl ClientCall {
    /// Writes the headers into `request` and opens the client span inside the client context
    /// (so `trace_context::ContextLayer` gives the span exactly that context).
    pub(crate) fn start(tracing: &ClientTracing, request: &mut Request) -> ClientCall {
        let context = tracing.inject(request.headers_mut());
        let span = match &context {
            Some(ctx) => ctx.scope(|| span::client_span(request.method(), request.url())),
            None => span::client_span(request.method(), request.url()),
        };
        ClientCall { span, context }
    }

    /// Runs the sending future inside the client span and context, records the status or the
    /// error, and closes the span when the response headers have arrived. The result is handed
    /// back unchanged.
    pub(crate) async fn run<F, E>(self, send: F) -> Result<Response, E>
    where
        F: Future<Output = Result<Response, E>>,
        E: CallError,
    {
        let ClientCall { span, context } = self;
        let result = match context {
            Some(ctx) => send.with_context(ctx).instrument(span.clone()).await,
            None => send.instrument(span.clone()).await,
        };
        match &result {
            Ok(response) => span::record_response(&span, response),
            Err(err) => {
                if !span.is_disabled() {
                    span::record_error(&span, &err.text(), err.status());
                }
            }
        }
        result
    }
}
