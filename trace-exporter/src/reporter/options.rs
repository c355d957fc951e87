//! The reporter's settings and their defaults (zipkin-reporter-java's `AsyncReporter`).

use std::time::Duration;

use crate::ConfigError;

/// Default number of spans the queue holds (AsyncReporter's `queuedMaxSpans`).
pub const DEFAULT_QUEUE_SIZE: usize = 10_000;
/// Default largest message, in bytes before compression (AsyncReporter's `messageMaxBytes`).
pub const DEFAULT_MESSAGE_MAX_BYTES: usize = 500 * 1024;
/// Default longest time a span waits before its message is sent (AsyncReporter's
/// `messageTimeout`).
pub const DEFAULT_FLUSH_INTERVAL: Duration = Duration::from_secs(1);
/// Default time `shutdown` waits for queued spans to be delivered (AsyncReporter's
/// `closeTimeout`).
pub const DEFAULT_CLOSE_TIMEOUT: Duration = Duration::from_secs(1);
/// Default total time one message is retried after connection errors and 5xx answers.
pub const DEFAULT_RETRY_FOR: Duration = Duration::from_secs(30);
/// First wait between two attempts of one message (doubled after each failure).
pub const DEFAULT_INITIAL_BACKOFF: Duration = Duration::from_millis(100);
/// Longest wait between two attempts of one message.
pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(5);

/// How an [`crate::AsyncReporter`] queues, batches and retries.
///
/// ```
/// let o = trace_exporter::ReporterOptions::default();
/// assert_eq!(o.queue_size, 10_000);
/// assert_eq!(o.message_max_bytes, 500 * 1024);
/// assert!(o.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReporterOptions {
    /// Spans the queue holds; a span reported to a full queue is dropped and counted.
    /// Default 10,000.
    pub queue_size: usize,
    /// Largest message in bytes (uncompressed JSON). Default 500 KiB. A single span bigger
    /// than this is dropped and counted.
    pub message_max_bytes: usize,
    /// A message is sent when full or when its oldest span has waited this long. Default 1 s.
    pub flush_interval: Duration,
    /// `shutdown` without an explicit timeout (and dropping the last handle) waits this long.
    /// Default 1 s.
    pub close_timeout: Duration,
    /// Total time a message is retried after retryable failures. Default 30 s.
    pub retry_for: Duration,
    /// First backoff between attempts (doubles up to `max_backoff`). Default 100 ms.
    pub initial_backoff: Duration,
    /// Longest backoff between attempts. Default 5 s.
    pub max_backoff: Duration,
    /// Timeout of one delivery attempt (one HTTP request). Default 10 s.
    pub request_timeout: Duration,
    /// Minimum time between two warnings of the same kind. Default 30 s.
    pub warn_interval: Duration,
}

impl Default for ReporterOptions {
    fn default() -> Self {
        ReporterOptions {
            queue_size: DEFAULT_QUEUE_SIZE,
            message_max_bytes: DEFAULT_MESSAGE_MAX_BYTES,
            flush_interval: DEFAULT_FLUSH_INTERVAL,
            close_timeout: DEFAULT_CLOSE_TIMEOUT,
            retry_for: DEFAULT_RETRY_FOR,
            initial_backoff: DEFAULT_INITIAL_BACKOFF,
            max_backoff: DEFAULT_MAX_BACKOFF,
            request_timeout: super::http::DEFAULT_REQUEST_TIMEOUT,
            warn_interval: super::warn::DEFAULT_WARN_INTERVAL,
        }
    }
}

impl ReporterOptions {
    /// Checks the values: sizes at least 1 (a message at least 1 KiB), intervals above zero.
    ///
    /// ```
    /// let o = trace_exporter::ReporterOptions { queue_size: 0, ..Default::default() };
    /// assert!(o.validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.queue_size == 0 {
            return Err(ConfigError::new("queue_size", "must be at least 1"));
        }
        if self.message_max_bytes < 1024 {
            return Err(ConfigError::new(
                "message_max_bytes",
                format!(
                    "{} is below the minimum of 1024 bytes",
                    self.message_max_bytes
                ),
            ));
        }
        for (name, d) in [
            ("flush_interval", self.flush_interval),
            ("request_timeout", self.request_timeout),
            ("initial_backoff", self.initial_backoff),
        ] {
            if d.is_zero() {
                return Err(ConfigError::new(name, "must be above zero"));
            }
        }
        if self.max_backoff < self.initial_backoff {
            return Err(ConfigError::new(
                "max_backoff",
                "must be at least initial_backoff",
            ));
        }
        Ok(())
    }
}
