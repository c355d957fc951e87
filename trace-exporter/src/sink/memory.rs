//! An in-memory sink: for tests, demos and in-process viewers.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use trace_context::TraceId;

use super::Sink;
use crate::SpanRecord;

#[derive(Debug, Default)]
struct Inner {
    spans: Mutex<VecDeque<SpanRecord>>,
    arrived: Condvar,
    capacity: Option<usize>,
}

/// Keeps finished spans in memory, in the order they finished. Clones share the spans.
///
/// [`MemorySink::new`] keeps everything; [`MemorySink::bounded`] keeps the latest `n` (older
/// spans are discarded), for long-running demos.
///
/// ```
/// use trace_exporter::{MemorySink, Sink, SpanRecord};
/// let sink = MemorySink::new();
/// let id = trace_context::TraceId::random();
/// sink.report(SpanRecord::new(id, trace_context::SpanId::random(), "work", Default::default()));
/// assert_eq!(sink.trace(id).len(), 1);
/// let json: serde_json::Value = serde_json::from_str(&sink.to_json()).unwrap();
/// assert_eq!(json[0]["name"], "work");
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemorySink {
    inner: Arc<Inner>,
}

impl MemorySink {
    /// An unbounded sink.
    ///
    /// ```
    /// assert!(trace_exporter::MemorySink::new().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// A sink that keeps the latest `capacity` spans (at least 1).
    ///
    /// ```
    /// use trace_exporter::{MemorySink, Sink, SpanRecord};
    /// let sink = MemorySink::bounded(2);
    /// for name in ["a", "b", "c"] {
    ///     sink.report(SpanRecord::new(trace_context::TraceId::random(),
    ///         trace_context::SpanId::random(), name, Default::default()));
    /// }
    /// let names: Vec<_> = sink.spans().into_iter().map(|s| s.name).collect();
    /// assert_eq!(names, ["b", "c"]);
    /// ```
    pub fn bounded(capacity: usize) -> Self {
        MemorySink {
            inner: Arc::new(Inner {
                capacity: Some(capacity.max(1)),
                ..Inner::default()
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, VecDeque<SpanRecord>> {
        self.inner.spans.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A copy of the spans held.
    ///
    /// ```
    /// assert!(trace_exporter::MemorySink::new().spans().is_empty());
    /// ```
    pub fn spans(&self) -> Vec<SpanRecord> {
        self.lock().iter().cloned().collect()
    }

    /// Removes and returns the spans held.
    ///
    /// ```
    /// let sink = trace_exporter::MemorySink::new();
    /// assert!(sink.take().is_empty());
    /// ```
    pub fn take(&self) -> Vec<SpanRecord> {
        self.lock().drain(..).collect()
    }

    /// The spans of one trace.
    ///
    /// ```
    /// let sink = trace_exporter::MemorySink::new();
    /// assert!(sink.trace(trace_context::TraceId::random()).is_empty());
    /// ```
    pub fn trace(&self, trace_id: TraceId) -> Vec<SpanRecord> {
        self.lock()
            .iter()
            .filter(|s| s.trace_id == trace_id)
            .cloned()
            .collect()
    }

    /// How many spans are held.
    ///
    /// ```
    /// assert_eq!(trace_exporter::MemorySink::new().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when no span is held.
    ///
    /// ```
    /// assert!(trace_exporter::MemorySink::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Forgets every span.
    ///
    /// ```
    /// trace_exporter::MemorySink::new().clear();
    /// ```
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// The spans held as a Zipkin v2 JSON list (what `POST /api/v2/spans` takes and the
    /// Zipkin UI's "Upload JSON" loads).
    ///
    /// ```
    /// assert_eq!(trace_exporter::MemorySink::new().to_json(), "[]");
    /// ```
    pub fn to_json(&self) -> String {
        let spans = self.spans();
        let mut out = Vec::with_capacity(spans.len() * 400 + 2);
        crate::encode::encode_list(&spans, &mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    /// The spans of one trace as a Zipkin v2 JSON list.
    ///
    /// ```
    /// assert_eq!(trace_exporter::MemorySink::new().trace_json(trace_context::TraceId::random()), "[]");
    /// ```
    pub fn trace_json(&self, trace_id: TraceId) -> String {
        let spans = self.trace(trace_id);
        let mut out = Vec::with_capacity(spans.len() * 400 + 2);
        crate::encode::encode_list(&spans, &mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    /// Waits until at least `n` spans are held or `timeout` passes; returns whether they are.
    ///
    /// ```
    /// let sink = trace_exporter::MemorySink::new();
    /// assert!(!sink.wait_for(1, std::time::Duration::from_millis(1)));
    /// ```
    pub fn wait_for(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut spans = self.lock();
        while spans.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            spans = self
                .inner
                .arrived
                .wait_timeout(spans, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }
}

impl Sink for MemorySink {
    fn report(&self, span: SpanRecord) {
        let mut spans = self.lock();
        if let Some(cap) = self.inner.capacity {
            while spans.len() >= cap {
                spans.pop_front();
            }
        }
        spans.push_back(span);
        drop(spans);
        self.inner.arrived.notify_all();
    }
}
