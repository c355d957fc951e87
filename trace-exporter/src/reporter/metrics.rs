//! The reporter's counters, named as zipkin-reporter's `AsyncReporter` names them.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// A snapshot of a reporter's counters.
///
/// Names follow zipkin-reporter-java's `ReporterMetrics`; `spans_sent` and `retries` are
/// trace-kit's. Every reported span ends up counted exactly once in `spans_sent`,
/// `spans_dropped` or (still waiting) `queued_spans` + `pending_spans`.
///
/// ```
/// let m = trace_exporter::ReporterMetrics::default();
/// assert_eq!(m.spans, 0);
/// assert_eq!(m.undelivered(), 0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReporterMetrics {
    /// Spans offered to the reporter (`spans`).
    pub spans: u64,
    /// Encoded bytes of the spans taken off the queue (`spanBytes`).
    pub span_bytes: u64,
    /// Spans dropped: queue full, too big, reporter closed, or their message failed
    /// (`spansDropped`).
    pub spans_dropped: u64,
    /// Spans the collector accepted (a 2xx answer).
    pub spans_sent: u64,
    /// Messages (batches) sent or attempted (`messages`).
    pub messages: u64,
    /// Bytes of those messages, before compression (`messageBytes`).
    pub message_bytes: u64,
    /// Messages given up on after their retries (`messagesDropped`).
    pub messages_dropped: u64,
    /// Extra attempts made for messages that failed and were retried.
    pub retries: u64,
    /// Spans waiting in the queue (`queuedSpans`).
    pub queued_spans: u64,
    /// Estimated bytes held by the queued spans (`queuedBytes`).
    pub queued_bytes: u64,
    /// Spans taken off the queue and waiting in the message being built or sent.
    pub pending_spans: u64,
}

impl ReporterMetrics {
    /// Spans offered but not (yet) accepted by the collector: `spans - spans_sent`.
    ///
    /// ```
    /// let m = trace_exporter::ReporterMetrics { spans: 10, spans_sent: 7, ..Default::default() };
    /// assert_eq!(m.undelivered(), 3);
    /// ```
    pub fn undelivered(&self) -> u64 {
        self.spans.saturating_sub(self.spans_sent)
    }
}

/// The live counters (relaxed atomics: they are statistics, not synchronisation).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) span_bytes: AtomicU64,
    pub(crate) spans_dropped: AtomicU64,
    pub(crate) spans_sent: AtomicU64,
    pub(crate) messages: AtomicU64,
    pub(crate) message_bytes: AtomicU64,
    pub(crate) messages_dropped: AtomicU64,
    pub(crate) retries: AtomicU64,
    pub(crate) pending_spans: AtomicU64,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Relaxed);
    }

    pub(crate) fn snapshot(
        &self,
        spans: u64,
        queued_spans: u64,
        queued_bytes: u64,
    ) -> ReporterMetrics {
        ReporterMetrics {
            spans,
            span_bytes: self.span_bytes.load(Relaxed),
            spans_dropped: self.spans_dropped.load(Relaxed),
            spans_sent: self.spans_sent.load(Relaxed),
            messages: self.messages.load(Relaxed),
            message_bytes: self.message_bytes.load(Relaxed),
            messages_dropped: self.messages_dropped.load(Relaxed),
            retries: self.retries.load(Relaxed),
            queued_spans,
            queued_bytes,
            pending_spans: self.pending_spans.load(Relaxed),
        }
    }
}
