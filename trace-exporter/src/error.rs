//! Configuration errors: reported at start-up, never replaced by a silent default.

use std::fmt;

/// A configuration value that cannot be used. Returned by the builder and the samplers'
/// constructors; its message names the setting and the value.
///
/// ```
/// let err = trace_exporter::ProbabilitySampler::new(2.0).unwrap_err();
/// assert!(err.to_string().contains("2"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    setting: String,
    message: String,
}

impl ConfigError {
    /// An error about `setting` (an option or environment variable name).
    ///
    /// ```
    /// let e = trace_exporter::ConfigError::new("queue_size", "must be at least 1");
    /// assert_eq!(e.to_string(), "invalid queue_size: must be at least 1");
    /// ```
    pub fn new(setting: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError {
            setting: setting.into(),
            message: message.into(),
        }
    }

    /// The option or environment variable the error is about.
    ///
    /// ```
    /// let e = trace_exporter::ConfigError::new("OTEL_TRACES_SAMPLER", "unknown sampler");
    /// assert_eq!(e.setting(), "OTEL_TRACES_SAMPLER");
    /// ```
    pub fn setting(&self) -> &str {
        &self.setting
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {}: {}", self.setting, self.message)
    }
}

impl std::error::Error for ConfigError {}
