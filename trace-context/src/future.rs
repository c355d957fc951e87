//! A future wrapper that carries a context and installs it on every poll.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use pin_project::pin_project;

use crate::{current, Context};

/// A future running inside a context: the context is current during every `poll` and the
/// previous one is restored afterwards (also when the poll panics), the technique of
/// `tracing::Instrument`. Works on any executor. MDC changes made while polling are kept for
/// the next poll.
///
/// ```
/// use trace_context::{Context, WithContext};
/// let ctx = Context::new_root();
/// let id = futures::executor::block_on(async { trace_context::current_trace_id() }.with_context(ctx.clone()));
/// assert_eq!(id, Some(ctx.trace_id()));
/// ```
#[pin_project]
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct WithContextFuture<F> {
    #[pin]
    inner: F,
    context: Option<Context>,
}

/// Swaps a context into the thread's slot and back out when dropped.
pub(crate) struct Swap<'a>(&'a mut Option<Context>);

impl<'a> Swap<'a> {
    #[inline]
    pub(crate) fn new(slot: &'a mut Option<Context>) -> Self {
        current::swap(slot);
        Swap(slot)
    }
}

impl Drop for Swap<'_> {
    #[inline]
    fn drop(&mut self) {
        current::swap(self.0);
    }
}

impl<F: Future> Future for WithContextFuture<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _swap = Swap::new(this.context);
        this.inner.poll(cx)
    }
}

impl<F> WithContextFuture<F> {
    /// The context this future runs in.
    ///
    /// ```
    /// use trace_context::WithContext;
    /// let f = async {}.with_context(trace_context::Context::new_root());
    /// assert!(f.context().is_some());
    /// ```
    pub fn context(&self) -> Option<&Context> {
        self.context.as_ref()
    }
}

/// Runs futures inside a context. Implemented for every future.
///
/// ```
/// use trace_context::{Context, WithContext};
/// let ctx = Context::new_root();
/// let _guard = ctx.enter();
/// // Captures the current context now; installs it whenever the future is polled.
/// let fut = async { trace_context::current_trace_id() }.in_current_context();
/// drop(_guard);
/// assert_eq!(futures::executor::block_on(fut), Some(ctx.trace_id()));
/// ```
pub trait WithContext: Sized {
    /// Runs this future inside `context`.
    ///
    /// ```
    /// use trace_context::WithContext;
    /// let _f = async {}.with_context(trace_context::Context::new_root());
    /// ```
    fn with_context(self, context: Context) -> WithContextFuture<Self> {
        WithContextFuture {
            inner: self,
            context: Some(context),
        }
    }

    /// Runs this future inside the caller's current context; outside any context, inside a new
    /// root context (a fresh trace id), so background work still has an id.
    ///
    /// ```
    /// use trace_context::WithContext;
    /// let id = futures::executor::block_on(async { trace_context::current_trace_id() }.in_current_context());
    /// assert!(id.is_some());
    /// ```
    fn in_current_context(self) -> WithContextFuture<Self> {
        self.with_context(Context::current_or_new_root())
    }

    /// Runs this future with no context at all, whatever the caller has.
    ///
    /// ```
    /// use trace_context::WithContext;
    /// let _g = trace_context::Context::new_root().enter();
    /// let id = futures::executor::block_on(async { trace_context::current_trace_id() }.without_context());
    /// assert!(id.is_none());
    /// ```
    fn without_context(self) -> WithContextFuture<Self> {
        WithContextFuture {
            inner: self,
            context: None,
        }
    }
}

impl<F: Future> WithContext for F {}
