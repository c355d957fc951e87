//! The response future: polls the inner future inside the request's context and span, then
//! records the outcome and echoes the id.

use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use http::Response;
use pin_project::pin_project;
use trace_context::Context;
use tracing::Span;

use crate::echo::Echo;
use crate::span::{record_error, record_panic, record_status};

/// The future returned by [`TraceService`](crate::TraceService).
///
/// Every poll of the inner future runs with the request's [`Context`] installed and its server
/// span entered, through [`trace_context::scope_in_span`]: the context is swapped in and out
/// once per poll (`ContextLayer`, when the subscriber has it, is told and does not install it a
/// second time), so MDC fields the handler puts survive its awaits, with or without a
/// subscriber. The span ends when this future completes or is dropped, i.e. when the response
/// head is ready (the body may still be streaming), as tower-http's trace layer does.
///
/// ```
/// use tower::{Layer, Service};
/// let mut svc = trace_tower::TraceLayer::new().layer(tower::service_fn(|_: http::Request<()>| async {
///     Ok::<_, std::convert::Infallible>(http::Response::new(()))
/// }));
/// let fut: trace_tower::ResponseFuture<_> = svc.call(http::Request::new(()));
/// # drop(fut);
/// ```
#[pin_project]
pub struct ResponseFuture<F> {
    #[pin]
    inner: F,
    /// The request's context: `None` only while a poll has it swapped into the thread's slot.
    context: Option<Context>,
    span: Span,
    echo: Option<Echo>,
    /// A 4xx marks the span failed too.
    client_errors: bool,
}

impl<F: Future> ResponseFuture<F> {
    pub(crate) fn new(
        inner: F,
        context: Option<Context>,
        span: Span,
        echo: Option<Echo>,
        client_errors: bool,
    ) -> Self {
        ResponseFuture {
            inner,
            context,
            span,
            echo,
            client_errors,
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    E: Display,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let inner = this.inner;
        let panic_guard = PanicGuard(this.span);
        let mut poll = trace_context::scope_in_span(this.span, this.context, || inner.poll(cx));
        std::mem::forget(panic_guard);
        // The outcome is recorded and the id echoed in place: the response is not moved.
        match &mut poll {
            Poll::Pending => {}
            Poll::Ready(Ok(response)) => {
                record_status(this.span, response.status(), *this.client_errors);
                if let (Some(echo), Some(ctx)) = (this.echo.take(), this.context.as_ref()) {
                    echo.apply(response, ctx);
                }
            }
            Poll::Ready(Err(error)) => record_error(this.span, error),
        }
        poll
    }
}

/// Marks the span as failed when the inner future panics while being polled (the guard is
/// dropped during unwinding; on a normal return it is forgotten).
struct PanicGuard<'a>(&'a Span);

impl Drop for PanicGuard<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            record_panic(self.0);
        }
    }
}
