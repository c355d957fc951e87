//! Environment configuration, read once at start-up.

use std::time::Duration;

use crate::sampler::{from_lookup, SamplerSpec};
use crate::ConfigError;

/// The service name (OpenTelemetry's standard name).
pub const ENV_SERVICE_NAME: &str = "OTEL_SERVICE_NAME";
/// The Zipkin collector URL (OpenTelemetry's standard name).
pub const ENV_ZIPKIN_ENDPOINT: &str = "OTEL_EXPORTER_ZIPKIN_ENDPOINT";
/// The timeout of one request to Zipkin, in milliseconds (OpenTelemetry's standard name).
pub const ENV_ZIPKIN_TIMEOUT: &str = "OTEL_EXPORTER_ZIPKIN_TIMEOUT";
/// trace-kit's own: `true`/`false`, gzip the messages sent to Zipkin.
pub const ENV_ZIPKIN_GZIP: &str = "TRACE_KIT_ZIPKIN_GZIP";
/// trace-kit's own: the number of spans the reporter's queue holds.
pub const ENV_QUEUE_SIZE: &str = "TRACE_KIT_EXPORTER_QUEUE_SIZE";

/// What the environment set (each `None` when the variable is absent or empty).
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct EnvConfig {
    pub(crate) service_name: Option<String>,
    pub(crate) endpoint: Option<String>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) gzip: Option<bool>,
    pub(crate) queue_size: Option<usize>,
    pub(crate) sampler: Option<SamplerSpec>,
}

impl EnvConfig {
    pub(crate) fn read(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |k: &str| {
            lookup(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let timeout = match get(ENV_ZIPKIN_TIMEOUT) {
            None => None,
            Some(v) => match v.parse::<u64>() {
                Ok(ms) if ms > 0 => Some(Duration::from_millis(ms)),
                _ => {
                    return Err(ConfigError::new(
                        ENV_ZIPKIN_TIMEOUT,
                        format!("{v:?} is not a positive number of milliseconds"),
                    ))
                }
            },
        };
        let gzip = match get(ENV_ZIPKIN_GZIP) {
            None => None,
            Some(v) => match v.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Some(true),
                "false" | "0" | "no" | "off" => Some(false),
                _ => {
                    return Err(ConfigError::new(
                        ENV_ZIPKIN_GZIP,
                        format!("{v:?} is not true or false"),
                    ))
                }
            },
        };
        let queue_size = match get(ENV_QUEUE_SIZE) {
            None => None,
            Some(v) => match v.parse::<usize>() {
                Ok(n) if n > 0 => Some(n),
                _ => {
                    return Err(ConfigError::new(
                        ENV_QUEUE_SIZE,
                        format!("{v:?} is not a positive number of spans"),
                    ))
                }
            },
        };
        let endpoint = match get(ENV_ZIPKIN_ENDPOINT) {
            None => None,
            Some(v) => Some(
                crate::validate_endpoint(&v)
                    .map_err(|e| ConfigError::new(ENV_ZIPKIN_ENDPOINT, e.to_string()))?,
            ),
        };
        Ok(EnvConfig {
            service_name: get(ENV_SERVICE_NAME),
            endpoint,
            timeout,
            gzip,
            queue_size,
            sampler: from_lookup(&lookup)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn reads_all() {
        let c = EnvConfig::read(env(&[
            (ENV_SERVICE_NAME, "order"),
            (ENV_ZIPKIN_ENDPOINT, "http://zipkin:9411"),
            (ENV_ZIPKIN_TIMEOUT, "2500"),
            (ENV_ZIPKIN_GZIP, "TRUE"),
            (ENV_QUEUE_SIZE, "500"),
            ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.1"),
        ]))
        .unwrap();
        assert_eq!(c.service_name.as_deref(), Some("order"));
        assert_eq!(
            c.endpoint.as_deref(),
            Some("http://zipkin:9411/api/v2/spans")
        );
        assert_eq!(c.timeout, Some(Duration::from_millis(2500)));
        assert_eq!(c.gzip, Some(true));
        assert_eq!(c.queue_size, Some(500));
        assert_eq!(c.sampler, Some(SamplerSpec::ParentBasedTraceIdRatio(0.1)));
        assert_eq!(EnvConfig::read(env(&[])).unwrap(), EnvConfig::default());
    }

    #[test]
    fn bad_values_are_errors() {
        for (k, v) in [
            (ENV_ZIPKIN_ENDPOINT, "not a url"),
            (ENV_ZIPKIN_TIMEOUT, "soon"),
            (ENV_ZIPKIN_GZIP, "maybe"),
            (ENV_QUEUE_SIZE, "0"),
            ("OTEL_TRACES_SAMPLER", "sometimes"),
        ] {
            let lookup = move |name: &str| (name == k).then(|| v.to_string());
            let e = EnvConfig::read(lookup).unwrap_err();
            assert_eq!(e.setting(), k, "{e}");
        }
    }
}
