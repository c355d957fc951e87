//! Samplers named by configuration: `OTEL_TRACES_SAMPLER` + `OTEL_TRACES_SAMPLER_ARG`.

use std::sync::Arc;

use trace_context::Sampler;

use super::{AlwaysOff, AlwaysOn, ParentBased, ProbabilitySampler, RateLimitingSampler};
use crate::ConfigError;

/// The environment variable naming the sampler.
pub const ENV_SAMPLER: &str = "OTEL_TRACES_SAMPLER";
/// The environment variable with the sampler's argument.
pub const ENV_SAMPLER_ARG: &str = "OTEL_TRACES_SAMPLER_ARG";

/// The rate used by `ratelimited` when no argument is given (Spring Cloud Sleuth's default).
pub const DEFAULT_RATE: u32 = 10;

/// A sampler described by name and argument, validated.
///
/// | `OTEL_TRACES_SAMPLER` | `OTEL_TRACES_SAMPLER_ARG` | sampler |
/// |---|---|---|
/// | `always_on` | — | [`AlwaysOn`] |
/// | `always_off` | — | [`AlwaysOff`] |
/// | `traceidratio` | probability, default 1.0 | [`ProbabilitySampler`] |
/// | `parentbased_always_on` (the default) | — | [`ParentBased`] over [`AlwaysOn`] |
/// | `parentbased_always_off` | — | [`ParentBased`] over [`AlwaysOff`] |
/// | `parentbased_traceidratio` | probability, default 1.0 | [`ParentBased`] over [`ProbabilitySampler`] |
/// | `ratelimited` (trace-kit) | traces per second, default 10 | [`RateLimitingSampler`] |
/// | `parentbased_ratelimited` (trace-kit) | traces per second, default 10 | [`ParentBased`] over [`RateLimitingSampler`] |
///
/// Names are case-insensitive. An unknown name or a bad argument is an error.
///
/// ```
/// use trace_exporter::SamplerSpec;
/// let spec = trace_exporter::parse_sampler("parentbased_traceidratio", Some("0.25"))?;
/// assert_eq!(spec, SamplerSpec::ParentBasedTraceIdRatio(0.25));
/// assert!(trace_exporter::parse_sampler("traceidratio", Some("2.0")).is_err());
/// assert!(trace_exporter::parse_sampler("sometimes", None).is_err());
/// # Ok::<(), trace_exporter::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SamplerSpec {
    /// `always_on`
    AlwaysOn,
    /// `always_off`
    AlwaysOff,
    /// `traceidratio`
    TraceIdRatio(f64),
    /// `parentbased_always_on`
    ParentBasedAlwaysOn,
    /// `parentbased_always_off`
    ParentBasedAlwaysOff,
    /// `parentbased_traceidratio`
    ParentBasedTraceIdRatio(f64),
    /// `ratelimited`
    RateLimited(u32),
    /// `parentbased_ratelimited`
    ParentBasedRateLimited(u32),
}

impl SamplerSpec {
    /// Builds the sampler.
    ///
    /// ```
    /// use trace_exporter::{Sampler, SamplerSpec, Sampling};
    /// let s = SamplerSpec::AlwaysOff.build();
    /// assert!(!s.should_sample(trace_context::TraceId::random(), Sampling::Deferred));
    /// ```
    pub fn build(self) -> Arc<dyn Sampler> {
        // Probabilities and rates were validated when the spec was made.
        let ratio = |p: f64| ProbabilitySampler::new(p).unwrap_or(ProbabilitySampler::ALWAYS);
        match self {
            SamplerSpec::AlwaysOn => Arc::new(AlwaysOn),
            SamplerSpec::AlwaysOff => Arc::new(AlwaysOff),
            SamplerSpec::TraceIdRatio(p) => Arc::new(ratio(p)),
            SamplerSpec::ParentBasedAlwaysOn => Arc::new(ParentBased::new(AlwaysOn)),
            SamplerSpec::ParentBasedAlwaysOff => Arc::new(ParentBased::new(AlwaysOff)),
            SamplerSpec::ParentBasedTraceIdRatio(p) => Arc::new(ParentBased::new(ratio(p))),
            SamplerSpec::RateLimited(n) => Arc::new(RateLimitingSampler::new(n)),
            SamplerSpec::ParentBasedRateLimited(n) => {
                Arc::new(ParentBased::new(RateLimitingSampler::new(n)))
            }
        }
    }
}

impl Default for SamplerSpec {
    /// `parentbased_always_on`, OpenTelemetry's default.
    fn default() -> Self {
        SamplerSpec::ParentBasedAlwaysOn
    }
}

/// Parses a sampler name and its optional argument (see [`SamplerSpec`]).
///
/// ```
/// let spec = trace_exporter::parse_sampler("ratelimited", Some("100")).unwrap();
/// assert_eq!(spec, trace_exporter::SamplerSpec::RateLimited(100));
/// ```
pub fn parse(name: &str, arg: Option<&str>) -> Result<SamplerSpec, ConfigError> {
    let arg = arg.map(str::trim).filter(|a| !a.is_empty());
    let probability = || -> Result<f64, ConfigError> {
        let Some(a) = arg else { return Ok(1.0) };
        let p: f64 = a
            .parse()
            .map_err(|_| ConfigError::new(ENV_SAMPLER_ARG, format!("{a:?} is not a number")))?;
        ProbabilitySampler::new(p)
            .map(|s| s.probability())
            .map_err(|_| {
                ConfigError::new(
                    ENV_SAMPLER_ARG,
                    format!("{a:?} is not a probability between 0 and 1"),
                )
            })
    };
    let rate = || -> Result<u32, ConfigError> {
        let Some(a) = arg else {
            return Ok(DEFAULT_RATE);
        };
        a.parse().map_err(|_| {
            ConfigError::new(
                ENV_SAMPLER_ARG,
                format!("{a:?} is not a whole number of traces per second"),
            )
        })
    };
    let spec = match name.trim().to_ascii_lowercase().as_str() {
        "always_on" => SamplerSpec::AlwaysOn,
        "always_off" => SamplerSpec::AlwaysOff,
        "traceidratio" => SamplerSpec::TraceIdRatio(probability()?),
        "parentbased_always_on" => SamplerSpec::ParentBasedAlwaysOn,
        "parentbased_always_off" => SamplerSpec::ParentBasedAlwaysOff,
        "parentbased_traceidratio" => SamplerSpec::ParentBasedTraceIdRatio(probability()?),
        "ratelimited" => SamplerSpec::RateLimited(rate()?),
        "parentbased_ratelimited" => SamplerSpec::ParentBasedRateLimited(rate()?),
        other => {
            return Err(ConfigError::new(
                ENV_SAMPLER,
                format!(
                    "unknown sampler {other:?} (expected always_on, always_off, traceidratio, \
                     parentbased_always_on, parentbased_always_off, parentbased_traceidratio, \
                     ratelimited or parentbased_ratelimited)"
                ),
            ))
        }
    };
    Ok(spec)
}

/// Reads `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG`: `Ok(None)` when the sampler is
/// not set, an error when it is set to something unusable.
///
/// ```
/// // Not set in the doc-test environment.
/// assert_eq!(trace_exporter::sampler::from_env().unwrap(), None);
/// ```
pub fn from_env() -> Result<Option<SamplerSpec>, ConfigError> {
    from_lookup(|k| std::env::var(k).ok())
}

/// Like [`from_env`], reading variables through `lookup`.
pub(crate) fn from_lookup(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Option<SamplerSpec>, ConfigError> {
    let Some(name) = lookup(ENV_SAMPLER).filter(|n| !n.trim().is_empty()) else {
        return Ok(None);
    };
    let arg = lookup(ENV_SAMPLER_ARG);
    parse(&name, arg.as_deref()).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_defaults() {
        assert_eq!(parse(" Always_On ", None), Ok(SamplerSpec::AlwaysOn));
        assert_eq!(
            parse("traceidratio", None),
            Ok(SamplerSpec::TraceIdRatio(1.0))
        );
        assert_eq!(
            parse("parentbased_ratelimited", Some("")),
            Ok(SamplerSpec::ParentBasedRateLimited(DEFAULT_RATE))
        );
    }

    #[test]
    fn bad_values_name_the_variable() {
        let e = parse("traceidratio", Some("2.0")).unwrap_err();
        assert_eq!(e.setting(), ENV_SAMPLER_ARG);
        assert!(e.to_string().contains("2.0"), "{e}");
        let e = parse("ratelimited", Some("-1")).unwrap_err();
        assert_eq!(e.setting(), ENV_SAMPLER_ARG);
        let e = parse("jaeger_remote", None).unwrap_err();
        assert_eq!(e.setting(), ENV_SAMPLER);
        assert!(e.to_string().contains("jaeger_remote"), "{e}");
    }

    #[test]
    fn lookup() {
        let env = |k: &str| match k {
            ENV_SAMPLER => Some("parentbased_traceidratio".to_string()),
            ENV_SAMPLER_ARG => Some("0.5".to_string()),
            _ => None,
        };
        assert_eq!(
            from_lookup(env),
            Ok(Some(SamplerSpec::ParentBasedTraceIdRatio(0.5)))
        );
        assert_eq!(from_lookup(|_| None), Ok(None));
    }
}
