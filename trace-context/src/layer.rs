//! Keeps the MDC and the `tracing` span tree in step.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicU64, Ordering};

use tracing_core::span::{Attributes, Id};
use tracing_core::Subscriber;
use tracing_subscriber::layer::{Context as LayerContext, Layer};
use tracing_subscriber::registry::{LookupSpan, Registry};

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
    /// `Some(epoch)` when the span was created on this thread by this layer and its context was
    /// cached with that [`EPOCH`] (see [`Cached`]): the exit may cache it again.
    cache_epoch: Option<u64>,
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

/// The context of the span this thread created last (or entered last, of those it created),
/// so that entering it needs no registry look-up: `info_span!(..).entered()`, `#[instrument]`
/// and a future polled again on the thread that made its span.
///
/// Valid only for the layer that filled it (`layer`: registries number their spans alike),
/// the span it names (`id`: in `tracing-subscriber`'s `Registry`, the only span store a layer
/// caches for, an id is reused only after its span closed, and only by the thread that
/// created it, whose next `on_new_span` with that id replaces or clears this entry), and as long as no span's context was replaced in an extension since (`epoch`
/// equal to [`EPOCH`]: a span entered on another thread may have changed it there).
struct Cached {
    layer: u64,
    id: u64,
    epoch: u64,
    /// Taken out while the span is entered (it is the handle installed), put back on exit.
    context: Option<Context>,
}

/// This thread's part of the layer's state.
struct Local {
    /// The spans with a context entered on this thread, innermost last.
    entered: Vec<Entered>,
    cached: Option<Cached>,
}

/// Counts the replacements of a span's context in its extension (an MDC change made while the
/// span was entered): a [`Cached`] context filled before the last one may be stale.
static EPOCH: AtomicU64 = AtomicU64::new(0);

/// Numbers the layers (see [`Cached`]); 0 is a layer never added to a subscriber, which
/// caches nothing.
static NEXT_LAYER: AtomicU64 = AtomicU64::new(1);

thread_local! {
    static LOCAL: RefCell<Local> = const {
        RefCell::new(Local {
            entered: Vec::new(),
            cached: None,
        })
    };
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
    /// This layer's number, given when it is added to a subscriber (0 before: see [`Cached`]).
    instance: u64,
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

impl ContextLayer {
    /// Takes the cached context of span `key` for an enter, if this thread holds it: `Ok` with
    /// the context when the cache is valid, `Err(true)` when the span was created here but the
    /// cache is stale (dropped now), `Err(false)` when the cache is about another span.
    #[inline]
    fn take_cached(&self, cached: &mut Option<Cached>, key: u64) -> Result<(Context, u64), bool> {
        let Some(c) = cached.as_mut() else {
            return Err(false);
        };
        if c.layer != self.instance || c.id != key || self.instance == 0 {
            return Err(false);
        }
        if c.epoch == EPOCH.load(Ordering::Relaxed) {
            if let Some(context) = c.context.take() {
                return Ok((context, c.epoch));
            }
            // Entered already on this thread (a nested enter): the outer enter holds it.
            return Err(true);
        }
        *cached = None;
        Err(true)
    }
}

impl<S> Layer<S> for ContextLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_layer(&mut self, subscriber: &mut S) {
        // The cache relies on how `tracing-subscriber`'s `Registry` hands out span ids (a
        // closed span's id is given out again only by the thread that created it): with another
        // span store, this layer caches nothing.
        let subscriber: &dyn Subscriber = subscriber;
        if subscriber.is::<Registry>() {
            self.instance = NEXT_LAYER.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: LayerContext<'_, S>) {
        let adopt = || attrs.metadata().fields().field(SPAN_KIND_FIELD).is_some();
        let own = if attrs.is_contextual() {
            current::with(|c| c.map(|c| if adopt() { c.clone() } else { c.child() }))
        } else {
            attrs.parent().and_then(|p| ctx.span(p)).and_then(|p| {
                p.extensions()
                    .get::<Context>()
                    .map(|c| if adopt() { c.clone() } else { c.child() })
            })
        };
        let key = id.into_u64();
        // Outside any context the span gets none, and is not even looked up; a cached context
        // of an earlier span with the same id (closed since) is forgotten.
        let span = match own {
            Some(_) => ctx.span(id),
            None => None,
        };
        let (Some(own), Some(span)) = (own, span) else {
            let _ = LOCAL.try_with(|l| {
                if let Ok(mut l) = l.try_borrow_mut() {
                    if l.cached.as_ref().is_some_and(|c| c.id == key) {
                        l.cached = None;
                    }
                }
            });
            return;
        };
        if self.instance != 0 {
            let _ = LOCAL.try_with(|l| {
                if let Ok(mut l) = l.try_borrow_mut() {
                    l.cached = Some(Cached {
                        layer: self.instance,
                        id: key,
                        epoch: EPOCH.load(Ordering::Relaxed),
                        context: Some(own.clone()),
                    });
                }
            });
        }
        span.extensions_mut().insert(own);
    }

    fn on_enter(&self, id: &Id, ctx: LayerContext<'_, S>) {
        // The caller made the span's context current itself and told so: nothing to install,
        // and nothing to record for the exit (which it announces the same way). Only read:
        // the caller clears the notice right after, whoever read it.
        if is_preinstalled(id) {
            return;
        }
        let _ = LOCAL.try_with(|l| {
            let Ok(mut l) = l.try_borrow_mut() else {
                return;
            };
            let (own, cache_epoch) = match self.take_cached(&mut l.cached, id.into_u64()) {
                Ok((own, epoch)) => (own, Some(epoch)),
                Err(created_here) => {
                    // Read before the extension: a replacement not seen there bumps it after.
                    let epoch = created_here.then(|| EPOCH.load(Ordering::Relaxed));
                    let Some(own) = ctx
                        .span(id)
                        .and_then(|span| span.extensions().get::<Context>().cloned())
                    else {
                        return;
                    };
                    (own, epoch)
                }
            };
            let installed = own.addr();
            let swapped = current::try_replace(Some(own))
                .ok()
                .map(|previous| Swapped {
                    installed,
                    previous,
                    kept: None,
                });
            l.entered.push(Entered {
                id: id.clone(),
                swapped,
                cache_epoch,
            });
        });
    }

    fn on_exit(&self, id: &Id, ctx: LayerContext<'_, S>) {
        if is_preinstalled(id) {
            return;
        }
        let _ = LOCAL.try_with(|l| {
            let Ok(mut l) = l.try_borrow_mut() else {
                return;
            };
            let l = &mut *l;
            let stack = &mut l.entered;
            // Spans exit in the reverse order of their enters, so this is the last entry.
            let entry = if stack.last().is_some_and(|e| e.id == *id) {
                stack.pop()
            } else {
                stack
                    .iter()
                    .rposition(|e| e.id == *id)
                    .map(|pos| stack.remove(pos))
            };
            let Some(Entered {
                swapped,
                cache_epoch,
                ..
            }) = entry
            else {
                return;
            };
            let Some(Swapped {
                installed,
                previous,
                kept,
            }) = swapped
            else {
                return;
            };
            // A snapshot kept alive for this entry may be installed by an outer entry of the
            // same span too: it keeps it from now on.
            if let Some(kept) = &kept {
                retire(stack, id, kept.clone());
            }
            let Ok(Some(now)) = current::try_replace(previous) else {
                return;
            };
            let key = id.into_u64();
            // The common case: the MDC was not changed inside the span, the snapshot installed
            // on enter is still the current one and the span's copy is up to date: no span
            // look-up, and the handle goes back to the cache for the next enter.
            if now.addr() == installed {
                if let Some(epoch) = cache_epoch {
                    self.cache(&mut l.cached, key, epoch, now);
                }
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
            let old = std::mem::replace(own, now.clone());
            // Under the extension's lock: of two replacements of this span's context, the
            // later one also counts last.
            let epoch = EPOCH.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
            drop(ext);
            // An outer enter of this span on this thread may have installed `old`: it must stay
            // shared (and its address unique) until that enter's exit.
            retire(stack, id, old);
            if cache_epoch.is_some() {
                self.cache(&mut l.cached, key, epoch, now);
            }
        });
    }
}

impl ContextLayer {
    /// Caches `context` as span `key`'s, valid while [`EPOCH`] is `epoch`.
    #[inline(always)]
    fn cache(&self, cached: &mut Option<Cached>, key: u64, epoch: u64, context: Context) {
        match cached {
            Some(c) if c.id == key && c.layer == self.instance => {
                c.epoch = epoch;
                c.context = Some(context);
            }
            _ => {
                *cached = Some(Cached {
                    layer: self.instance,
                    id: key,
                    epoch,
                    context: Some(context),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    /// The layer's number, as the subscriber holding it has it.
    fn instance(subscriber: &dyn Subscriber) -> u64 {
        subscriber
            .downcast_ref::<ContextLayer>()
            .map_or(0, |l| l.instance)
    }

    #[test]
    fn caches_over_a_registry_first_or_later_in_the_stack() {
        assert_eq!(ContextLayer::new().instance, 0);
        let first = tracing_subscriber::registry().with(ContextLayer::new());
        let later = tracing_subscriber::registry()
            .with(tracing_subscriber::filter::LevelFilter::INFO)
            .with(ContextLayer::new());
        let (a, b) = (instance(&first), instance(&later));
        assert!(a != 0 && b != 0 && a != b, "{a} {b}");
    }
}
