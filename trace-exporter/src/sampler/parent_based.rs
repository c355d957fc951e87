//! The parent-based sampler: follow the caller's decision when it sent one.

use std::fmt;
use std::sync::Arc;

use trace_context::{Sampler, Sampling, TraceId};

/// Follows the upstream decision when the caller sent one (`traceparent` flags, B3
/// `X-B3-Sampled`/`b3`), samples when B3 debug was sent, and asks its root sampler otherwise
/// (nothing received, or B3 "deferred": the decision is taken here, not dropped).
///
/// `OTEL_TRACES_SAMPLER=parentbased_traceidratio` is `ParentBased::new(ProbabilitySampler)`.
///
/// ```
/// use trace_exporter::{AlwaysOff, ParentBased, Sampler, Sampling};
/// let s = ParentBased::new(AlwaysOff);
/// let id = trace_context::TraceId::random();
/// assert!(s.should_sample(id, Sampling::Sampled));
/// assert!(s.should_sample(id, Sampling::Debug));
/// assert!(!s.should_sample(id, Sampling::NotSampled));
/// assert!(!s.should_sample(id, Sampling::Deferred)); // the root decides: AlwaysOff
/// ```
#[derive(Clone)]
pub struct ParentBased {
    root: Arc<dyn Sampler>,
}

impl ParentBased {
    /// Parent-based over `root`, the sampler for traces without an upstream decision.
    ///
    /// ```
    /// let s = trace_exporter::ParentBased::new(trace_exporter::ProbabilitySampler::new(0.1).unwrap());
    /// # let _ = s;
    /// ```
    pub fn new(root: impl Sampler) -> Self {
        ParentBased {
            root: Arc::new(root),
        }
    }

    /// Parent-based over a shared sampler.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let root: Arc<dyn trace_exporter::Sampler> = Arc::new(trace_exporter::AlwaysOn);
    /// let _s = trace_exporter::ParentBased::from_arc(root);
    /// ```
    pub fn from_arc(root: Arc<dyn Sampler>) -> Self {
        ParentBased { root }
    }
}

impl Sampler for ParentBased {
    #[inline]
    fn should_sample(&self, trace_id: TraceId, upstream: Sampling) -> bool {
        match upstream {
            Sampling::Sampled | Sampling::Debug => true,
            Sampling::NotSampled => false,
            Sampling::Deferred => self.root.should_sample(trace_id, upstream),
        }
    }
}

impl fmt::Debug for ParentBased {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ParentBased")
    }
}
