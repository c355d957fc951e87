//! The sampling decision: what the caller sent, and what this service decides.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use crate::TraceId;

/// A sampling decision, as received from upstream or as taken here.
///
/// ```
/// use trace_context::Sampling;
/// assert!(Sampling::Debug.is_sampled());
/// assert!(!Sampling::Deferred.is_sampled());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Sampling {
    /// No decision (B3 without `Sampled`, or nothing received): the receiver decides.
    #[default]
    Deferred,
    /// Record and report this trace.
    Sampled,
    /// Do not report this trace (ids, logs and propagation still happen).
    NotSampled,
    /// B3 debug: sample regardless of any sampler.
    Debug,
}

impl Sampling {
    /// True for [`Sampling::Sampled`] and [`Sampling::Debug`].
    ///
    /// ```
    /// assert!(trace_context::Sampling::Sampled.is_sampled());
    /// ```
    pub const fn is_sampled(self) -> bool {
        matches!(self, Sampling::Sampled | Sampling::Debug)
    }

    /// The decision for a boolean.
    ///
    /// ```
    /// assert_eq!(trace_context::Sampling::from_bool(false), trace_context::Sampling::NotSampled);
    /// ```
    pub const fn from_bool(sampled: bool) -> Sampling {
        if sampled {
            Sampling::Sampled
        } else {
            Sampling::NotSampled
        }
    }
}

/// Decides whether a trace entering this service is reported.
///
/// `trace-exporter` has the real samplers (probability, rate limit, parent-based); this trait is the
/// contract between them and whoever starts a trace (the server layer, [`crate::Context::new_root`]).
///
/// ```
/// use trace_context::{Sampler, Sampling, TraceId};
/// struct Half;
/// impl Sampler for Half {
///     fn should_sample(&self, id: TraceId, upstream: Sampling) -> bool {
///         upstream.is_sampled() || id.random_bits56() < (1 << 55)
///     }
/// }
/// assert!(Half.should_sample(TraceId::random(), Sampling::Sampled));
/// ```
pub trait Sampler: Send + Sync + 'static {
    /// Decide for a trace entering this service. `upstream` is what the caller sent
    /// ([`Sampling::Deferred`] if nothing).
    fn should_sample(&self, trace_id: TraceId, upstream: Sampling) -> bool;
}

/// The sampler used when none was set: follow the upstream decision; sample when there is none.
///
/// ```
/// use trace_context::{FollowUpstream, Sampler, Sampling, TraceId};
/// assert!(!FollowUpstream.should_sample(TraceId::random(), Sampling::NotSampled));
/// assert!(FollowUpstream.should_sample(TraceId::random(), Sampling::Deferred));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct FollowUpstream;

impl Sampler for FollowUpstream {
    fn should_sample(&self, _: TraceId, upstream: Sampling) -> bool {
        !matches!(upstream, Sampling::NotSampled)
    }
}

static GLOBAL: RwLock<Option<Arc<dyn Sampler>>> = RwLock::new(None);

/// Counts [`set_global_sampler`] calls (0: none yet). Read, never written, on the request
/// path, and alone on its cache line: a read-write lock and a shared reference count touched
/// by every request would bounce their cache line between the cores serving requests.
#[repr(align(64))]
struct Generation(AtomicU64);

static GENERATION: Generation = Generation(AtomicU64::new(0));

/// A handle on the global sampler with the generation it was read at.
type Cached = Rc<(u64, Arc<dyn Sampler>)>;

thread_local! {
    /// This thread's handle on the global sampler.
    static CACHED: RefCell<Option<Cached>> = const { RefCell::new(None) };
}

/// Sets the process-wide sampler (trace-exporter's builder does this for you).
///
/// A thread that used the previous sampler lets go of it at its next decision (or when it
/// exits).
///
/// ```
/// trace_context::set_global_sampler(std::sync::Arc::new(trace_context::FollowUpstream));
/// ```
pub fn set_global_sampler(sampler: Arc<dyn Sampler>) {
    let mut slot = GLOBAL.write().unwrap_or_else(|e| e.into_inner());
    *slot = Some(sampler);
    // Under the lock, so a reader that sees the new generation under the read lock also sees
    // the new sampler.
    GENERATION.0.fetch_add(1, Ordering::Release);
}

/// The process-wide sampler ([`FollowUpstream`] until one is set).
///
/// On a request path prefer [`with_global_sampler`], which takes no lock and no reference.
///
/// ```
/// let s = trace_context::global_sampler();
/// let _ = s.should_sample(trace_context::TraceId::random(), trace_context::Sampling::Deferred);
/// ```
pub fn global_sampler() -> Arc<dyn Sampler> {
    read_global().1
}

/// The global sampler and its generation, read under the lock.
fn read_global() -> (u64, Arc<dyn Sampler>) {
    let slot = GLOBAL.read().unwrap_or_else(|e| e.into_inner());
    let generation = GENERATION.0.load(Ordering::Acquire);
    let sampler = match &*slot {
        Some(s) => Arc::clone(s),
        None => Arc::clone(default_sampler()),
    };
    (generation, sampler)
}

/// Runs `f` with the process-wide sampler ([`FollowUpstream`] until one is set).
///
/// Each thread keeps its own handle on the sampler and checks one counter per call to see
/// whether [`set_global_sampler`] replaced it: no lock and no shared reference count is
/// touched, so the cores serving requests do not contend for the sampler.
///
/// ```
/// use trace_context::{with_global_sampler, Sampling, TraceId};
/// let sampled = with_global_sampler(|s| s.should_sample(TraceId::random(), Sampling::Sampled));
/// assert!(sampled);
/// ```
pub fn with_global_sampler<R>(f: impl FnOnce(&dyn Sampler) -> R) -> R {
    let generation = GENERATION.0.load(Ordering::Acquire);
    if generation == 0 {
        return f(&FollowUpstream);
    }
    match cached_sampler(generation) {
        Some(cached) => f(&*cached.1),
        // The thread is exiting (its thread-locals are gone): no cache.
        None => f(&*global_sampler()),
    }
}

/// This thread's handle on the sampler of `generation` (read under the lock on the first call
/// and after a replacement). The cell is borrowed only here, never while a sampler runs.
fn cached_sampler(generation: u64) -> Option<Cached> {
    CACHED
        .try_with(|cell| {
            let mut slot = cell.try_borrow_mut().ok()?;
            if let Some(cached) = slot.as_ref().filter(|c| c.0 == generation) {
                return Some(Rc::clone(cached));
            }
            let fresh = Rc::new(read_global());
            *slot = Some(Rc::clone(&fresh));
            Some(fresh)
        })
        .ok()
        .flatten()
}

/// The [`FollowUpstream`] handed out while no sampler is set: allocated once, not per call.
fn default_sampler() -> &'static Arc<dyn Sampler> {
    static DEFAULT: OnceLock<Arc<dyn Sampler>> = OnceLock::new();
    DEFAULT.get_or_init(|| Arc::new(FollowUpstream))
}

/// Takes the decision for a trace entering this service: B3 debug stays debug, otherwise the
/// sampler decides (it sees the upstream decision).
///
/// ```
/// use trace_context::{decide, FollowUpstream, Sampling, TraceId};
/// assert_eq!(decide(&FollowUpstream, TraceId::random(), Sampling::Debug), Sampling::Debug);
/// assert_eq!(decide(&FollowUpstream, TraceId::random(), Sampling::NotSampled), Sampling::NotSampled);
/// ```
pub fn decide(sampler: &dyn Sampler, trace_id: TraceId, upstream: Sampling) -> Sampling {
    if upstream == Sampling::Debug {
        return Sampling::Debug;
    }
    Sampling::from_bool(sampler.should_sample(trace_id, upstream))
}
