//! Composition: all of several samplers, or any of them.

use std::fmt;
use std::sync::Arc;

use trace_context::{Sampler, Sampling, TraceId};

/// Samples when every sampler agrees, asking them in order and stopping at the first "no" —
/// so a rate limit placed last only spends its budget on traces the earlier samplers accepted.
/// With no samplers it samples everything.
///
/// ```
/// use trace_exporter::{AllOf, ProbabilitySampler, RateLimitingSampler, Sampler, Sampling};
/// // 10% of traces, but never more than 50 per second.
/// let s = AllOf::new()
///     .with(ProbabilitySampler::new(0.1).unwrap())
///     .with(RateLimitingSampler::new(50));
/// let _ = s.should_sample(trace_context::TraceId::random(), Sampling::Deferred);
/// ```
#[derive(Clone, Default)]
pub struct AllOf {
    samplers: Vec<Arc<dyn Sampler>>,
}

impl AllOf {
    /// No samplers yet.
    ///
    /// ```
    /// let _s = trace_exporter::AllOf::new();
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a sampler, asked after the ones already added.
    ///
    /// ```
    /// let _s = trace_exporter::AllOf::new().with(trace_exporter::AlwaysOn);
    /// ```
    pub fn with(mut self, sampler: impl Sampler) -> Self {
        self.samplers.push(Arc::new(sampler));
        self
    }

    /// Adds a shared sampler.
    ///
    /// ```
    /// let s: std::sync::Arc<dyn trace_exporter::Sampler> = std::sync::Arc::new(trace_exporter::AlwaysOn);
    /// let _all = trace_exporter::AllOf::new().with_arc(s);
    /// ```
    pub fn with_arc(mut self, sampler: Arc<dyn Sampler>) -> Self {
        self.samplers.push(sampler);
        self
    }
}

impl Sampler for AllOf {
    fn should_sample(&self, trace_id: TraceId, upstream: Sampling) -> bool {
        self.samplers
            .iter()
            .all(|s| s.should_sample(trace_id, upstream))
    }
}

impl fmt::Debug for AllOf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AllOf({} samplers)", self.samplers.len())
    }
}

/// Samples when any sampler says yes, asking them in order and stopping at the first "yes".
/// With no samplers it samples nothing.
///
/// ```
/// use trace_exporter::{AnyOf, AlwaysOff, ProbabilitySampler, Sampler, Sampling};
/// let s = AnyOf::new().with(AlwaysOff).with(ProbabilitySampler::new(1.0).unwrap());
/// assert!(s.should_sample(trace_context::TraceId::random(), Sampling::Deferred));
/// ```
#[derive(Clone, Default)]
pub struct AnyOf {
    samplers: Vec<Arc<dyn Sampler>>,
}

impl AnyOf {
    /// No samplers yet.
    ///
    /// ```
    /// let _s = trace_exporter::AnyOf::new();
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a sampler, asked after the ones already added.
    ///
    /// ```
    /// let _s = trace_exporter::AnyOf::new().with(trace_exporter::AlwaysOff);
    /// ```
    pub fn with(mut self, sampler: impl Sampler) -> Self {
        self.samplers.push(Arc::new(sampler));
        self
    }

    /// Adds a shared sampler.
    ///
    /// ```
    /// let s: std::sync::Arc<dyn trace_exporter::Sampler> = std::sync::Arc::new(trace_exporter::AlwaysOff);
    /// let _any = trace_exporter::AnyOf::new().with_arc(s);
    /// ```
    pub fn with_arc(mut self, sampler: Arc<dyn Sampler>) -> Self {
        self.samplers.push(sampler);
        self
    }
}

impl Sampler for AnyOf {
    fn should_sample(&self, trace_id: TraceId, upstream: Sampling) -> bool {
        self.samplers
            .iter()
            .any(|s| s.should_sample(trace_id, upstream))
    }
}

impl fmt::Debug for AnyOf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AnyOf({} samplers)", self.samplers.len())
    }
}
