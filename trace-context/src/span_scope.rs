//! Code run inside a `tracing` span and a context at once, with one context swap.

use std::fmt;

use tracing::span::{Entered, EnteredSpan, Id};
use tracing::Span;

use crate::future::Swap;
use crate::{layer, Context};

/// Runs `f` with `span` entered and `context` current, then exits the span and restores the
/// previous context (also when `f` panics). MDC changes made inside are kept in `context`, for
/// the next call.
///
/// This is what a future wrapper that owns a span and the span's context does on every poll
/// (trace-tower's response future, trace-reqwest's client call). Entering the span alone makes
/// [`ContextLayer`](crate::ContextLayer) look the span up in the registry and install the
/// span's copy of the context; swapping `context` in as well installs a context twice. Here
/// `context` is swapped in first and the layer is told so for this one enter: it neither looks
/// the span up nor swaps. Without `ContextLayer` (no subscriber, a subscriber without it, or a
/// disabled span) `context` is current all the same, so code inside always sees it.
///
/// Pass the span's own context: the one current when a span with a `span.kind` field was
/// created (which such a span adopts). MDC changes made inside stay in `context`, not in the
/// span's extension, and spans opened inside are children of `context`, as with
/// [`WithContext`](crate::WithContext).
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt;
/// use trace_context::{mdc, Context, ContextLayer};
///
/// let subscriber = tracing_subscriber::registry().with(ContextLayer::new());
/// tracing::subscriber::with_default(subscriber, || {
///     let request = Context::new_root();
///     let span = request.scope(|| tracing::info_span!("http.server", span.kind = "server"));
///     let mut context = Some(request.clone());
///     trace_context::scope_in_span(&span, &mut context, || {
///         assert_eq!(trace_context::current_trace_id(), Some(request.trace_id()));
///         assert!(mdc::put("orderId", "1001"));
///     });
///     assert!(Context::current().is_none());
///     // The change is kept for the next call.
///     trace_context::scope_in_span(&span, &mut context, || {
///         assert_eq!(mdc::get("orderId").as_deref(), Some("1001"));
///     });
///     assert_eq!(request.field("orderId"), None);
/// });
/// ```
#[inline]
pub fn scope_in_span<R>(span: &Span, context: &mut Option<Context>, f: impl FnOnce() -> R) -> R {
    // Dropped in reverse order: the span is exited first, then the context restored.
    let _swap = Swap::new(context);
    if span.is_disabled() {
        // No subscriber sees this span's enter or exit: the context alone.
        return f();
    }
    let _entered = Announced::enter(span);
    f()
}

/// A span entered by [`scope_in_span`]: `ContextLayer` is told on the enter and on the exit
/// (also when the exit happens while unwinding).
struct Announced<'a> {
    id: Option<Id>,
    entered: Option<Entered<'a>>,
}

impl<'a> Announced<'a> {
    #[inline]
    fn enter(span: &'a Span) -> Self {
        let id = span.id();
        let entered = announced(id.as_ref(), || span.enter());
        Announced {
            id,
            entered: Some(entered),
        }
    }
}

impl Drop for Announced<'_> {
    #[inline]
    fn drop(&mut self) {
        let entered = self.entered.take();
        announced(self.id.as_ref(), || drop(entered));
    }
}

/// Runs `f` (one enter or exit of span `id`) with `ContextLayer` told that the span's context is
/// current already; the notice is cleared afterwards whether or not a layer read it (the span's
/// subscriber may have none). A disabled span (`id` is `None`) reaches no subscriber.
#[inline]
fn announced<R>(id: Option<&Id>, f: impl FnOnce() -> R) -> R {
    if id.is_none() {
        return f();
    }
    layer::preinstall(id);
    let out = f();
    layer::preinstall(None);
    out
}

/// A span opened inside a context and entered, with that context current: [`scope_in_span`]
/// for a span made on the spot, the context swapped in once for both. Until [`close`] (or
/// drop), code runs inside the span and the context; closing exits the span, restores the
/// previous context and gives the span back, and MDC changes made meanwhile are kept in the
/// context.
///
/// `make_span` runs with the context current, so [`ContextLayer`](crate::ContextLayer) gives
/// the span that context itself when the span has a `span.kind` field (trace-tower's server
/// span), or a child of it otherwise. Keep the span and the context together afterwards and
/// poll through [`scope_in_span`] with both.
///
/// [`close`]: SpanScope::close
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt;
/// use trace_context::{mdc, Context, ContextLayer, SpanScope};
///
/// let subscriber = tracing_subscriber::registry().with(ContextLayer::new());
/// tracing::subscriber::with_default(subscriber, || {
///     let request = Context::new_root();
///     let mut context = Some(request.clone());
///     let scope = SpanScope::open(&mut context, || {
///         tracing::info_span!("http.server", span.kind = "server")
///     });
///     assert_eq!(trace_context::current_trace_id(), Some(request.trace_id()));
///     assert!(mdc::put("route", "/orders"));
///     let span = scope.close();
///     assert!(Context::current().is_none());
///     assert!(!span.is_disabled());
///     assert_eq!(context.unwrap().field("route"), Some("/orders"));
/// });
/// ```
#[must_use = "the span is entered and the context current only while the scope lives"]
pub struct SpanScope<'a> {
    id: Option<Id>,
    entered: Option<EnteredSpan>,
    _swap: Swap<'a>,
}

impl<'a> SpanScope<'a> {
    /// Makes `context` current, opens the span `make_span` returns and enters it.
    ///
    /// ```
    /// let mut context = Some(trace_context::Context::new_root());
    /// let scope = trace_context::SpanScope::open(&mut context, || tracing::info_span!("work"));
    /// assert!(trace_context::current_trace_id().is_some());
    /// drop(scope);
    /// assert!(trace_context::current_trace_id().is_none());
    /// ```
    #[inline]
    pub fn open(context: &'a mut Option<Context>, make_span: impl FnOnce() -> Span) -> Self {
        let swap = Swap::new(context);
        let span = make_span();
        let id = span.id();
        let entered = announced(id.as_ref(), || span.entered());
        SpanScope {
            id,
            entered: Some(entered),
            _swap: swap,
        }
    }

    /// Exits the span, restores the previous context and returns the span.
    ///
    /// ```
    /// let mut context = Some(trace_context::Context::new_root());
    /// let span = trace_context::SpanScope::open(&mut context, tracing::Span::none).close();
    /// assert!(span.is_disabled());
    /// assert!(trace_context::current_trace_id().is_none());
    /// ```
    #[inline]
    pub fn close(mut self) -> Span {
        let entered = self.entered.take();
        announced(self.id.as_ref(), || {
            entered.map_or_else(Span::none, EnteredSpan::exit)
        })
    }
}

impl Drop for SpanScope<'_> {
    #[inline]
    fn drop(&mut self) {
        // Runs before the fields drop: the span is exited before the context is restored.
        if let Some(entered) = self.entered.take() {
            announced(self.id.as_ref(), || drop(entered));
        }
    }
}

impl fmt::Debug for SpanScope<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpanScope")
            .field("span", &self.entered)
            .finish_non_exhaustive()
    }
}
