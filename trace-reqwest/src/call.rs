//! One traced call: inject, open the client span, send inside it, record the outcome.
//! Both the middleware and the plain-reqwest extension go through here.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context as TaskContext, Poll};

use pin_project::pin_project;
use reqwest::{Request, Response, StatusCode};
use trace_context::Context;
use tracing::Span;

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
    client_errors: bool,
}

impl ClientCall {
    /// Writes the headers into `request` and opens the client span inside the client context
    /// (so `trace_context::ContextLayer` gives the span exactly that context).
    pub(crate) fn start(tracing: &ClientTracing, request: &mut Request) -> ClientCall {
        let context = tracing.inject(request.headers_mut());
        let span = match &context {
            Some(ctx) if !ctx.is_sampled() && !tracing.opens_unsampled_spans() => Span::none(),
            Some(ctx) => ctx.scope(|| span::client_span(request.method(), request.url())),
            None => span::client_span(request.method(), request.url()),
        };
        ClientCall {
            span,
            context,
            client_errors: tracing.client_errors_marked(),
        }
    }

    /// Runs the sending future inside the client span and context, records the status or the
    /// error, and closes the span when the response headers have arrived (or when the call is
    /// dropped). The result is handed back unchanged.
    pub(crate) fn run<F, E>(self, send: F) -> CallFuture<F>
    where
        F: Future<Output = Result<Response, E>>,
        E: CallError,
    {
        let ClientCall {
            span,
            context,
            client_errors,
        } = self;
        CallFuture {
            inner: send,
            context,
            span,
            client_errors,
        }
    }
}

/// The sending future of a traced call: polled with the client span entered (and the client
/// context current); records the outcome on the span when it resolves. One wrapper instead of
/// `tracing::Instrument` around a context wrapper: one span enter and exit and one context swap
/// per poll ([`trace_context::scope_in_span`]), none when the future is dropped.
#[pin_project]
pub(crate) struct CallFuture<F> {
    #[pin]
    inner: F,
    /// The client context; `None` when the call has none (it then runs in the caller's).
    context: Option<Context>,
    span: Span,
    client_errors: bool,
}

impl<F, E> Future for CallFuture<F>
where
    F: Future<Output = Result<Response, E>>,
    E: CallError,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let inner = this.inner;
        let result = ready!(if this.context.is_some() {
            trace_context::scope_in_span(this.span, this.context, || inner.poll(cx))
        } else {
            let _entered = this.span.enter();
            inner.poll(cx)
        });
        if !this.span.is_disabled() {
            match &result {
                Ok(response) => {
                    span::record_status(this.span, response.status(), *this.client_errors)
                }
                Err(err) => span::record_error(this.span, &err.text(), err.status()),
            }
        }
        Poll::Ready(result)
    }
}
