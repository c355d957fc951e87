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

/// One message: a batch of spans and its Zipkin v2 JSON list (`[{...},{...}]`), encoded once
/// by the reporter thread.
///
/// ```
/// let m = trace_exporter::Message::new(b"[]", &[]);
/// assert_eq!(m.json(), b"[]");
/// assert!(m.spans().is_empty());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    json: &'a [u8],
    spans: &'a [Box<SpanRecord>],
    count: usize,
}

impl<'a> Message<'a> {
    /// A message of `spans` whose encoding is `json` (the reporter queues spans boxed, so
    /// they reach the transport without being moved again).
    ///
    /// ```
    /// let _m = trace_exporter::Message::new(b"[]", &[]);
    /// ```
    pub fn new(json: &'a [u8], spans: &'a [Box<SpanRecord>]) -> Self {
        Message {
            json,
            spans,
            count: spans.len(),
        }
    }

    /// A message of `count` spans whose records were already recycled (`spans` empty) for
    /// a transport that reads only the JSON ([`Transport::needs_spans`]).
    pub(crate) fn encoded(json: &'a [u8], spans: &'a [Box<SpanRecord>], count: usize) -> Self {
        Message { json, spans, count }
    }

    /// The Zipkin v2 JSON list of the spans (what `POST /api/v2/spans` takes).
    ///
    /// ```
    /// assert_eq!(trace_exporter::Message::new(b"[]", &[]).json().len(), 2);
    /// ```
    pub fn json(&self) -> &'a [u8] {
        self.json
    }

    /// The spans, for transports that encode them another way.
    ///
    /// ```
    /// assert_eq!(trace_exporter::Message::new(b"[]", &[]).len(), 0);
    /// ```
    pub fn spans(&self) -> &'a [Box<SpanRecord>] {
        self.spans
    }

    /// The number of spans.
    ///
    /// ```
    /// assert!(trace_exporter::Message::new(b"[]", &[]).is_empty());
    /// ```
    pub fn len(&self) -> usize {
        self.count
    }

    /// True when the message holds no span.
    ///
    /// ```
    /// assert!(trace_exporter::Message::new(b"[]", &[]).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// Where [`crate::AsyncReporter`]'s thread delivers its messages: Zipkin over HTTP
/// ([`crate::ZipkinHttp`]), a JSON file ([`crate::FileTransport`]), or your own.
///
/// The thread encodes each span once, packs messages up to the size limit, then calls
/// [`Transport::send`] until it succeeds, fails for good, or the retry time runs out (the
/// same message is passed again on a retry).
///
/// ```
/// use std::time::Duration;
/// use trace_exporter::{Message, SendError, Transport};
///
/// /// Counts spans instead of sending them.
/// #[derive(Default)]
/// struct Count { total: usize }
/// impl Transport for Count {
///     fn send(&mut self, message: &Message<'_>, _timeout: Duration) -> Result<(), SendError> {
///         self.total += message.len();
///         Ok(())
///     }
///     fn describe(&self) -> String { "counter".into() }
/// }
/// ```
pub trait Transport: Send + 'static {
    /// Delivers `message` within `timeout`. Called again with the same message after a
    /// retryable error.
    fn send(&mut self, message: &Message<'_>, timeout: Duration) -> Result<(), SendError>;

    /// Where the spans go, for warnings (`zipkin http://127.0.0.1:9411/api/v2/spans`).
    fn describe(&self) -> String;

    /// Whether [`Transport::send`] reads the span records ([`Message::spans`]); `true` unless
    /// overridden. A transport that sends only [`Message::json`] returns `false`: the reporter
    /// then recycles each record as soon as it is encoded (the next spans are recorded into
    /// them instead of new allocations), and `spans()` is empty (`len()` still counts them).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use trace_exporter::{Message, SendError, Transport};
    /// struct JsonOnly;
    /// impl Transport for JsonOnly {
    ///     fn send(&mut self, m: &Message<'_>, _: Duration) -> Result<(), SendError> {
    ///         assert!(m.json().starts_with(b"["));
    ///         Ok(())
    ///     }
    ///     fn describe(&self) -> String { "json only".into() }
    ///     fn needs_spans(&self) -> bool { false }
    /// }
    /// assert!(!JsonOnly.needs_spans());
    /// ```
    fn needs_spans(&self) -> bool {
        true
    }
}
