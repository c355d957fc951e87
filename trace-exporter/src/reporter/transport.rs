//! What the reporter thread delivers batches through.

use std::fmt;
use std::time::Duration;

use crate::SpanRecord;

/// A failed delivery.
///
/// ```
/// let e = trace_exporter::SendError::retryable("connection refused");
/// assert!(e.is_retryable());
/// assert_eq!(e.to_string(), "connection refused");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    retryable: bool,
    message: String,
}

impl SendError {
    /// A failure worth retrying (connection refused or reset, timeout, 5xx, 429).
    ///
    /// ```
    /// assert!(trace_exporter::SendError::retryable("503").is_retryable());
    /// ```
    pub fn retryable(message: impl Into<String>) -> Self {
        SendError {
            retryable: true,
            message: message.into(),
        }
    }

    /// A failure that the same message will meet again (400: the collector refused it).
    ///
    /// ```
    /// assert!(!trace_exporter::SendError::permanent("400").is_retryable());
    /// ```
    pub fn permanent(message: impl Into<String>) -> Self {
        SendError {
            retryable: false,
            message: message.into(),
        }
    }

    /// True when a later attempt may succeed.
    ///
    /// ```
    /// assert!(!trace_exporter::SendError::permanent("x").is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SendError {}

/// Where [`crate::AsyncReporter`]'s thread delivers its batches: Zipkin over HTTP
/// ([`crate::ZipkinHttp`]), a JSON file ([`crate::FileTransport`]), OTLP, or your own.
///
/// The thread calls [`Transport::span_size`] for each span to fill messages up to the size
/// limit, [`Transport::prepare`] once per message, then [`Transport::send`] until it succeeds,
/// fails for good, or the retry time runs out.
///
/// ```
/// use std::time::Duration;
/// use trace_exporter::{SendError, SpanRecord, Transport};
///
/// /// Counts spans instead of sending them.
/// #[derive(Default)]
/// struct Count { batch: usize, total: usize }
/// impl Transport for Count {
///     fn prepare(&mut self, spans: &[SpanRecord]) -> usize { self.batch = spans.len(); 0 }
///     fn send(&mut self, _timeout: Duration) -> Result<(), SendError> {
///         self.total += self.batch;
///         Ok(())
///     }
///     fn describe(&self) -> String { "counter".into() }
/// }
/// ```
pub trait Transport: Send + 'static {
    /// The bytes `span` adds to a message (the exact Zipkin JSON size by default).
    fn span_size(&self, span: &SpanRecord) -> usize {
        crate::encode::encoded_len(span)
    }

    /// Encodes the next message from `spans`; returns its size in bytes (before compression).
    fn prepare(&mut self, spans: &[SpanRecord]) -> usize;

    /// Delivers the prepared message within `timeout`. Called again after a retryable error.
    fn send(&mut self, timeout: Duration) -> Result<(), SendError>;

    /// Where the spans go, for warnings (`zipkin http://127.0.0.1:9411/api/v2/spans`).
    fn describe(&self) -> String;
}
