//! Composition: all of several samplers, or any of them.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use trace_context::{Sampler, Sampling, TraceId};

/// How a [`Composite`] combines the answers of its samplers: [`All`] or [`Any`].
///
/// ```
/// use trace_exporter::{All, Rule};
/// assert_eq!(All::NAME, "AllOf");
/// ```
pub trait Rule: Send + Sync + 'static {
    /// The name shown by `Debug` (`AllOf`, `AnyOf`).
    const NAME: &'static str;
    /// The decision of `samplers`, asked in order; stops as soon as the answer is known.
    fn decide(samplers: &[Arc<dyn Sampler>], trace_id: TraceId, upstream: Sampling) -> bool;
}

/// Every sampler must say yes (the rule of [`AllOf`]); with none, yes.
///
/// ```
/// let _rule = trace_exporter::All;
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct All;

impl Rule for All {
    const NAME: &'static str = "AllOf";
    fn decide(samplers: &[Arc<dyn Sampler>], trace_id: TraceId, upstream: Sampling) -> bool {
        samplers.iter().all(|s| s.should_sample(trace_id, upstream))
    }
}

/// One sampler saying yes is enough (the rule of [`AnyOf`]); with none, no.
///
/// ```
/// let _rule = trace_exporter::Any;
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Any;

impl Rule for Any {
    const NAME: &'static str = "AnyOf";
    fn decide(samplers: &[Arc<dyn Sampler>], trace_id: TraceId, upstream: Sampling) -> bool {
        samplers.iter().any(|s| s.should_sample(trace_id, upstream))
    }
}

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
pub type AllOf = Composite<All>;

/// Samples when any sampler says yes, asking them in order and stopping at the first "yes".
/// With no samplers it samples nothing.
///
/// ```
/// use trace_exporter::{AnyOf, AlwaysOff, ProbabilitySampler, Sampler, Sampling};
/// let s = AnyOf::new().with(AlwaysOff).with(ProbabilitySampler::new(1.0).unwrap());
/// assert!(s.should_sample(trace_context::TraceId::random(), Sampling::Deferred));
/// ```
pub type AnyOf = Composite<Any>;

/// Several samplers combined by a [`Rule`]; use it as [`AllOf`] or [`AnyOf`].
///
/// ```
/// use trace_exporter::{AllOf, AlwaysOff, AlwaysOn, Sampler, Sampling};
/// let s = AllOf::new().with(AlwaysOn).with(AlwaysOff);
/// assert!(!s.should_sample(trace_context::TraceId::random(), Sampling::Deferred));
/// assert_eq!(format!("{s:?}"), "AllOf(2 samplers)");
/// ```
pub struct Composite<R: Rule> {
    samplers: Vec<Arc<dyn Sampler>>,
    rule: PhantomData<R>,
}

impl<R: Rule> Composite<R> {
    /// No samplers yet.
    ///
    /// ```
    /// let _s = trace_exporter::AllOf::new();
    /// ```
    pub fn new() -> Self {
        Composite {
            samplers: Vec::new(),
            rule: PhantomData,
        }
    }

    /// Adds a sampler, asked after the ones already added.
    ///
    /// ```
    /// let _s = trace_exporter::AnyOf::new().with(trace_exporter::AlwaysOn);
    /// ```
    pub fn with(self, sampler: impl Sampler) -> Self {
        self.with_arc(Arc::new(sampler))
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

impl<R: Rule> Default for Composite<R> {
    fn default() -> Self {
        Self::new()
    }
}

impl<R: Rule> Clone for Composite<R> {
    fn clone(&self) -> Self {
        Composite {
            samplers: self.samplers.clone(),
            rule: PhantomData,
        }
    }
}

impl<R: Rule> Sampler for Composite<R> {
    fn should_sample(&self, trace_id: TraceId, upstream: Sampling) -> bool {
        R::decide(&self.samplers, trace_id, upstream)
    }
}

impl<R: Rule> fmt::Debug for Composite<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({} samplers)", R::NAME, self.samplers.len())
    }
}
