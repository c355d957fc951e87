//! The probability sampler, keyed on the rightmost 56 bits of the trace id.

use trace_context::{Sampler, Sampling, TraceId};

use crate::ConfigError;

/// 2^56: the number of distinct values of the rightmost 56 bits.
const SPACE: f64 = (1u64 << 56) as f64;

/// Samples a share `p` of traces, deterministically: the trace is sampled when the rightmost
/// 56 bits of its id, read as an integer, are below `p * 2^56`.
///
/// Those bits are random for W3C random ids, UUIDv4 and UUIDv7 alike (W3C Trace Context level
/// 2, OpenTelemetry's consistent-probability rule), so every service that sees the same trace id
/// decides the same way — also when only `X-App-Trace-Id` was propagated — and UUIDv4 ids are
/// sampled at the configured rate (OpenTelemetry's `TraceIdRatioBased` samples none of them at
/// p <= 0.5). The upstream decision is ignored: wrap it in [`crate::ParentBased`] to follow it.
///
/// ```
/// use trace_exporter::{ProbabilitySampler, Sampler, Sampling};
/// let s = ProbabilitySampler::new(0.25)?;
/// let id = trace_context::TraceId::random();
/// // Deterministic: the same id always gets the same answer.
/// assert_eq!(s.should_sample(id, Sampling::Deferred), s.should_sample(id, Sampling::Deferred));
/// assert!(ProbabilitySampler::new(1.5).is_err());
/// # Ok::<(), trace_exporter::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProbabilitySampler {
    probability: f64,
    threshold: u64,
}

impl ProbabilitySampler {
    /// Samples every trace (`p = 1`).
    ///
    /// ```
    /// assert_eq!(trace_exporter::ProbabilitySampler::ALWAYS.probability(), 1.0);
    /// ```
    pub const ALWAYS: ProbabilitySampler = ProbabilitySampler {
        probability: 1.0,
        threshold: 1 << 56,
    };

    /// A sampler for probability `p` in `[0, 1]`; anything else (NaN included) is an error.
    ///
    /// ```
    /// assert!(trace_exporter::ProbabilitySampler::new(f64::NAN).is_err());
    /// assert!(trace_exporter::ProbabilitySampler::new(0.0).is_ok());
    /// ```
    pub fn new(p: f64) -> Result<Self, ConfigError> {
        if !(0.0..=1.0).contains(&p) {
            return Err(ConfigError::new(
                "sampler probability",
                format!("{p} is not a probability between 0 and 1"),
            ));
        }
        // p * 2^56 is at most 2^56, exact enough in an f64 for a sampling threshold.
        let threshold = (p * SPACE).round() as u64;
        Ok(ProbabilitySampler {
            probability: p,
            threshold,
        })
    }

    /// The configured probability.
    ///
    /// ```
    /// assert_eq!(trace_exporter::ProbabilitySampler::new(0.1).unwrap().probability(), 0.1);
    /// ```
    pub fn probability(&self) -> f64 {
        self.probability
    }

    /// The threshold the rightmost 56 bits are compared with (`round(p * 2^56)`).
    ///
    /// ```
    /// assert_eq!(trace_exporter::ProbabilitySampler::new(0.5).unwrap().threshold(), 1 << 55);
    /// ```
    pub fn threshold(&self) -> u64 {
        self.threshold
    }

    /// The decision for a trace id, without any upstream decision.
    ///
    /// ```
    /// let id = trace_context::TraceId::from_u128(1).unwrap();
    /// assert!(trace_exporter::ProbabilitySampler::new(0.01).unwrap().samples(id));
    /// ```
    #[inline]
    pub fn samples(&self, trace_id: TraceId) -> bool {
        trace_id.random_bits56() < self.threshold
    }
}

impl Sampler for ProbabilitySampler {
    #[inline]
    fn should_sample(&self, trace_id: TraceId, _: Sampling) -> bool {
        self.samples(trace_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(low56: u64) -> TraceId {
        TraceId::from_u128(((0xabcd_u128) << 64) | low56 as u128).unwrap()
    }

    #[test]
    fn bounds() {
        let zero = ProbabilitySampler::new(0.0).unwrap();
        let one = ProbabilitySampler::new(1.0).unwrap();
        for bits in [0, 1, (1 << 56) - 1] {
            assert!(!zero.samples(id(bits)));
            assert!(one.samples(id(bits)));
        }
    }

    #[test]
    fn threshold_compare_uses_only_low_56_bits() {
        let half = ProbabilitySampler::new(0.5).unwrap();
        assert!(half.samples(id((1 << 55) - 1)));
        assert!(!half.samples(id(1 << 55)));
        // The top byte of the low 64 bits is not looked at.
        let high_byte = TraceId::from_u128(0xff00_0000_0000_0001).unwrap();
        assert!(half.samples(high_byte));
    }

    #[test]
    fn rejects_out_of_range() {
        for p in [-0.1, 1.000_001, 2.0, f64::NAN, f64::INFINITY] {
            assert!(ProbabilitySampler::new(p).is_err(), "{p}");
        }
    }
}
