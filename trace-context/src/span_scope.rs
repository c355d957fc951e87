//! Code run inside a `tracing` span and a context at once, with one context swap.

use tracing::span::Entered;
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
    let _entered = enter_preinstalled(span);
    f()
}

/// Opens a span inside `context` and runs `f` with that span entered and `context` current:
/// [`scope_in_span`] for a span made on the spot, with the context swapped in once for both.
/// `input` is lent to `make_span` and then given to `f` (a request: the span reads it, the
/// service consumes it). Returns the span (exited) and what `f` returned.
///
/// `make_span` runs with `context` current, so [`ContextLayer`](crate::ContextLayer) gives the
/// span `context` itself when the span has a `span.kind` field (trace-tower's server span),
/// or a child of it otherwise. Keep the span and `context` together afterwards, and poll
/// through [`scope_in_span`] with both.
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt;
/// use trace_context::{mdc, Context, ContextLayer};
///
/// let subscriber = tracing_subscriber::registry().with(ContextLayer::new());
/// tracing::subscriber::with_default(subscriber, || {
///     let request = Context::new_root();
///     let mut context = Some(request.clone());
///     let (span, seen) = trace_context::open_span_in(
///         &mut context,
///         "/orders",
///         |path| tracing::info_span!("http.server", span.kind = "server", http.path = *path),
///         |path| {
///             assert!(mdc::put("route", path));
///             trace_context::current_trace_id()
///         },
///     );
///     assert_eq!(seen, Some(request.trace_id()));
///     assert!(!span.is_disabled());
///     assert_eq!(context.unwrap().field("route"), Some("/orders"));
/// });
/// ```
#[inline]
pub fn open_span_in<T, R>(
    context: &mut Option<Context>,
    input: T,
    make_span: impl FnOnce(&T) -> Span,
    f: impl FnOnce(T) -> R,
) -> (Span, R) {
    let _swap = Swap::new(context);
    let span = make_span(&input);
    let out = {
        let _entered = enter_preinstalled(&span);
        f(input)
    };
    (span, out)
}

/// Enters `span`, telling `ContextLayer` that its context is current already.
#[inline]
fn enter_preinstalled(span: &Span) -> Entered<'_> {
    let Some(id) = span.id() else {
        // A disabled span: no subscriber sees the enter.
        return span.enter();
    };
    layer::preinstall(Some(&id));
    let entered = span.enter();
    // Cleared whether or not a `ContextLayer` took it (the span's subscriber may have none).
    layer::preinstall(None);
    entered
}
