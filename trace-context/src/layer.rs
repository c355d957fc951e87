//! Keeps the MDC and the `tracing` span tree in step.

use std::cell::{Cell, RefCell};

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
    /// Which snapshot was installed: the address of the span's own context ([`Context::addr`]),
    /// compared with the current one on exit and never dereferenced. The span's extension holds
    /// that snapshot while the span is entered, so it stays shared: an MDC change inside makes a
    /// new snapshot (copy on write) at another address, and an equal address on exit means
    /// "unchanged". One handle (the one installed) instead of two: one reference-count
    /// increment and decrement less per enter.
    installed: usize,
    /// What to restore on exit (the context current before the enter).
    previous: Option<Context>,
    /// The snapshot installed, kept alive here when a nested enter of the same span on this
    /// thread replaced it in the extension (see [`retire`]), so `installed` stays unique.
    kept: Option<Context>,
}

thread_local! {
    /// The spans with a context entered on this thread, innermost last.
    static ENTERED: RefCell<Vec<Entered>> = const { RefCell::new(Vec::new()) };
    /// The span about to be entered by [`crate::scope_in_span`], which has installed the
    /// context itself (its id as a number; 0: none, span ids are never 0).
    static PREINSTALLED: Cell<u64> = const { Cell::new(0) };
}

/// Gives a snapshot just replaced in the extension of span `id` to the innermost entry of that
/// span on this thread that installed it, if any: while that entry lasts the snapshot stays
/// shared, so a later MDC change still copies it and the entry's exit sees the change.
fn retire(stack: &mut [Entered], id: &Id, old: Context) {
    let addr = old.addr();
    let holder = stack.iter_mut().rev().find_map(|e| match &mut e.swapped {
        Some(s) if e.id == *id && s.installed == addr && s.kept.is_none() => Some(s),
        _ => None,
    });
    if let Some(s) = holder {
        s.kept = Some(old);
    }
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

/// Marks the next enter or exit of span `id` on this thread as made with its context current
/// already (see [`crate::scope_in_span`]): the enter needs no span lookup and no swap, and
/// neither leaves anything on the thread's stack.
#[inline]
pub(crate) fn preinstall(id: Option<&Id>) {
    let _ = PREINSTALLED.try_with(|p| p.set(id.map_or(0, Id::into_u64)));
}

/// True when [`crate::scope_in_span`] announced this enter or exit of span `id`.
#[inline]
fn is_preinstalled(id: &Id) -> bool {
    PREINSTALLED.try_with(Cell::get) == Ok(id.into_u64())
}

impl<S> Layer<S> for ContextLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: LayerContext<'_, S>) {
        let base = if attrs.is_contextual() {
            Context::current()
        } else {
            attrs
                .parent()
                .and_then(|p| ctx.span(p))
                .and_then(|p| p.extensions().get::<Context>().cloned())
        };
        // Outside any context the span gets none, and is not even looked up.
        let Some(base) = base else { return };
        let Some(span) = ctx.span(id) else { return };
        let adopt = attrs.metadata().fields().field(SPAN_KIND_FIELD).is_some();
        let own = if adopt { base } else { base.child() };
        span.extensions_mut().insert(own);
    }

    fn on_enter(&self, id: &Id, ctx: LayerContext<'_, S>) {
        // The caller made the span's context current itself and told so: nothing to install,
        // and nothing to record for the exit (which it announces the same way). Only read:
        // the caller clears the notice right after, whoever read it.
        if is_preinstalled(id) {
            return;
        }
        let Some(own) = ctx
            .span(id)
            .and_then(|span| span.extensions().get::<Context>().cloned())
        else {
            return;
        };
        let installed = own.addr();
        let swapped = current::try_replace(Some(own))
            .ok()
            .map(|previous| Swapped {
                installed,
                previous,
                kept: None,
            });
        ENTERED.with(|s| {
            s.borrow_mut().push(Entered {
                id: id.clone(),
                swapped,
            })
        });
    }

    fn on_exit(&self, id: &Id, ctx: LayerContext<'_, S>) {
        if is_preinstalled(id) {
            return;
        }
        let entry = ENTERED.with(|s| {
            let mut stack = s.borrow_mut();
            // Spans exit in the reverse order of their enters, so this is the last entry.
            let entry = if stack.last().is_some_and(|e| e.id == *id) {
                stack.pop()?
            } else {
                let pos = stack.iter().rposition(|e| e.id == *id)?;
                stack.remove(pos)
            };
            // A snapshot kept alive for this entry may be installed by an outer entry of the
            // same span too: it keeps it from now on.
            if let Some(kept) = entry.swapped.as_ref().and_then(|s| s.kept.clone()) {
                retire(&mut stack, id, kept);
            }
            Some(entry)
        });
        let Some(Swapped {
            installed,
            previous,
            kept,
        }) = entry.and_then(|e| e.swapped)
        else {
            return;
        };
        let Ok(Some(now)) = current::try_replace(previous) else {
            return;
        };
        // The common case: the MDC was not changed inside the span, the snapshot installed on
        // enter is still the current one and the span's copy is up to date: no span lookup.
        if now.addr() == installed {
            return;
        }
        drop(kept);
        let Some(span) = ctx.span(id) else { return };
        let mut ext = span.extensions_mut();
        let Some(own) = ext.get_mut::<Context>() else {
            return;
        };
        if own.span_id() != now.span_id() || own.trace_id() != now.trace_id() {
            return;
        }
        let old = std::mem::replace(own, now);
        drop(ext);
        // An outer enter of this span on this thread may have installed `old`: it must stay
        // shared (and its address unique) until that enter's exit.
        ENTERED.with(|s| retire(&mut s.borrow_mut(), id, old));
    }
}
