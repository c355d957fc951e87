//! Keeps the MDC and the `tracing` span tree in step.

use std::cell::RefCell;

use tracing_core::span::{Attributes, Id};
use tracing_core::Subscriber;
use tracing_subscriber::layer::{Context as LayerContext, Layer};
use tracing_subscriber::registry::LookupSpan;

use crate::{current, Context};

/// The field that marks a span owning the context it is created in (the server span of
/// trace-tower, the client span of trace-reqwest): it adopts that context instead of becoming a
/// child of it.
pub const SPAN_KIND_FIELD: &str = "span.kind";

/// One entered span on this thread's stack.
struct Entered {
    /// The span.
    id: Id,
    /// `None` when the swap was refused (a read of the slot was in progress): nothing to undo.
    swapped: Option<Swapped>,
}

/// The context swap made when a span was entered.
struct Swapped {
    /// The context installed: a second handle to the span's own snapshot. Holding it keeps the
    /// snapshot shared, so an MDC change inside the span always makes a new snapshot (copy on
    /// write) and a pointer comparison on exit tells whether anything changed.
    installed: Context,
    /// What to restore on exit (the context current before the enter).
    previous: Option<Context>,
}

thread_local! {
    /// The spans with a context entered on this thread, innermost last.
    static ENTERED: RefCell<Vec<Entered>> = const { RefCell::new(Vec::new()) };
}

/// A `tracing-subscriber` layer that gives every span created inside a request a [`Context`]
/// of its own, and makes it current while the span is entered.
///
/// * A span with a `span.kind` field (the server and client spans of trace-tower and
///   trace-reqwest) adopts the context current when it is created.
/// * Any other span (`info_span!("load order")`) becomes a child: same trace, its own span id,
///   its parent the span it was created in.
/// * While a span is entered, its context is the current one: log lines print its span id and
///   outgoing calls name it as their parent. MDC changes made inside live as long as the span.
///
/// Read a span's context with `span_ref.extensions().get::<trace_context::Context>()`.
/// Add this layer first, before layers that read it (trace-log, trace-exporter).
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt;
/// use trace_context::{Context, ContextLayer};
///
/// let subscriber = tracing_subscriber::registry().with(ContextLayer::new());
/// tracing::subscriber::with_default(subscriber, || {
///     let request = Context::new_root();
///     let _g = request.enter();
///     let span = tracing::info_span!("load order");
///     let _e = span.enter();
///     let inner = Context::current().unwrap();
///     assert_eq!(inner.trace_id(), request.trace_id());
///     assert_eq!(inner.parent_span_id(), Some(request.span_id()));
/// });
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct ContextLayer {
    _private: (),
}

impl ContextLayer {
    /// The layer.
    ///
    /// ```
    /// let _layer = trace_context::ContextLayer::new();
    /// ```
    pub fn new() -> Self {
        ContextLayer::default()
    }
}

impl<S> Layer<S> for ContextLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: LayerContext<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let base = if attrs.is_contextual() {
            Context::current()
        } else {
            attrs
                .parent()
                .and_then(|p| ctx.span(p))
                .and_then(|p| p.extensions().get::<Context>().cloned())
        };
        let Some(base) = base else { return };
        let adopt = attrs.metadata().fields().field(SPAN_KIND_FIELD).is_some();
        let own = if adopt { base } else { base.child() };
        span.extensions_mut().insert(own);
    }

    fn on_enter(&self, id: &Id, ctx: LayerContext<'_, S>) {
        let Some(own) = ctx
            .span(id)
            .and_then(|span| span.extensions().get::<Context>().cloned())
        else {
            return;
        };
        let installed = own.clone();
        let swapped = current::try_replace(Some(own))
            .ok()
            .map(|previous| Swapped {
                installed,
                previous,
            });
        ENTERED.with(|s| {
            s.borrow_mut().push(Entered {
                id: id.clone(),
                swapped,
            })
        });
    }

    fn on_exit(&self, id: &Id, ctx: LayerContext<'_, S>) {
        let entry = ENTERED.with(|s| {
            let mut stack = s.borrow_mut();
            // Spans exit in the reverse order of their enters, so this is the last entry.
            let pos = stack.iter().rposition(|e| e.id == *id)?;
            Some(stack.remove(pos))
        });
        let Some(Swapped {
            installed,
            previous,
        }) = entry.and_then(|e| e.swapped)
        else {
            return;
        };
        let Ok(Some(now)) = current::try_replace(previous) else {
            return;
        };
        // The common case: the MDC was not changed inside the span, the snapshot installed on
        // enter is still the current one and the span's copy is up to date: no span lookup.
        if now.ptr_eq(&installed) {
            return;
        }
        drop(installed);
        let Some(span) = ctx.span(id) else { return };
        let mut ext = span.extensions_mut();
        if let Some(own) = ext.get_mut::<Context>() {
            if own.span_id() == now.span_id() && own.trace_id() == now.trace_id() {
                *own = now;
            }
        }
    }
}
