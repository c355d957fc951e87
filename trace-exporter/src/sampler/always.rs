//! The constant samplers.

use trace_context::{Sampler, Sampling, TraceId};

/// Samples every trace (`OTEL_TRACES_SAMPLER=always_on`). It ignores the upstream decision;
/// wrap it in [`crate::ParentBased`] to follow it.
///
/// ```
/// use trace_exporter::{AlwaysOn, Sampler, Sampling};
/// assert!(AlwaysOn.should_sample(trace_context::TraceId::random(), Sampling::NotSampled));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct AlwaysOn;

impl Sampler for AlwaysOn {
    fn should_sample(&self, _: TraceId, _: Sampling) -> bool {
        true
    }
}

/// Samples no trace (`OTEL_TRACES_SAMPLER=always_off`). B3 debug still forces sampling where
/// the decision is taken with [`trace_context::decide`].
///
/// ```
/// use trace_exporter::{AlwaysOff, Sampler, Sampling};
/// assert!(!AlwaysOff.should_sample(trace_context::TraceId::random(), Sampling::Sampled));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct AlwaysOff;

impl Sampler for AlwaysOff {
    fn should_sample(&self, _: TraceId, _: Sampling) -> bool {
        false
    }
}
