//! The in-process span sink: the spans the exporter reported, kept in memory (bounded) so the
//! demo can draw them and tests can check them.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::zipkin::{self, Kind, Span};

/// How many spans the sink keeps (the oldest are dropped beyond it).
pub const SINK_CAPACITY: usize = 100_000;

/// The spans reported, as Zipkin v2 spans, newest last. Cheap to clone; clones share the spans.
///
/// ```
/// let sink = examples::telemetry::SpanSink::new(true);
/// assert!(sink.spans().is_empty());
/// ```
#[derive(Clone, Debug)]
pub struct SpanSink {
    inner: Arc<Mutex<VecDeque<Span>>>,
    keep: bool,
}

impl SpanSink {
    /// A sink; with `keep` false it keeps nothing (spans are still reported elsewhere).
    ///
    /// ```
    /// let sink = examples::telemetry::SpanSink::new(false);
    /// assert!(!sink.keeps());
    /// ```
    pub fn new(keep: bool) -> SpanSink {
        SpanSink {
            inner: Arc::new(Mutex::new(VecDeque::new())),
            keep,
        }
    }

    /// True when reported spans are kept.
    ///
    /// ```
    /// assert!(examples::telemetry::SpanSink::new(true).keeps());
    /// ```
    pub fn keeps(&self) -> bool {
        self.keep
    }

    /// Adds reported spans.
    ///
    /// ```
    /// let sink = examples::telemetry::SpanSink::new(true);
    /// let span = serde_json::from_str(r#"{"traceId":"a","id":"1"}"#).unwrap();
    /// sink.push([span]);
    /// assert_eq!(sink.spans().len(), 1);
    /// ```
    pub fn push(&self, spans: impl IntoIterator<Item = Span>) {
        if !self.keep {
            return;
        }
        let mut all = self.lock();
        for span in spans {
            if all.len() == SINK_CAPACITY {
                all.pop_front();
            }
            all.push_back(span);
        }
    }

    /// All spans kept.
    ///
    /// ```
    /// assert!(examples::telemetry::SpanSink::new(true).spans().is_empty());
    /// ```
    pub fn spans(&self) -> Vec<Span> {
        self.lock().iter().cloned().collect()
    }

    /// The spans kept of one trace (id as Zipkin prints it: 16 or 32 hex digits).
    ///
    /// ```
    /// let sink = examples::telemetry::SpanSink::new(true);
    /// assert!(sink.trace("4bf92f3577b34da6a3ce929d0e0e4736").is_empty());
    /// ```
    pub fn trace(&self, trace_id: &str) -> Vec<Span> {
        let id = zipkin::normalize_trace_id(trace_id);
        self.lock()
            .iter()
            .filter(|s| zipkin::normalize_trace_id(&s.trace_id) == id)
            .cloned()
            .collect()
    }

    /// Waits (up to `timeout`) until the trace looks complete — it has a root span, every
    /// parent id names a span of the trace, and every client span has a child (the callee's
    /// server span; true in the shop, where every service is traced) — and returns its spans (possibly incomplete at the
    /// timeout, empty when the trace was not sampled).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let sink = examples::telemetry::SpanSink::new(true);
    /// let spans = sink.wait_for_trace("4bf9", std::time::Duration::from_millis(10)).await;
    /// assert!(spans.is_empty());
    /// # }
    /// ```
    pub async fn wait_for_trace(&self, trace_id: &str, timeout: Duration) -> Vec<Span> {
        let deadline = Instant::now() + timeout;
        loop {
            let spans = self.trace(trace_id);
            if is_complete(&spans) || Instant::now() >= deadline {
                return spans;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn lock(&self) -> MutexGuard<'_, VecDeque<Span>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A root span is there, every parent id names a span of the trace and every client span has
/// a child.
fn is_complete(spans: &[Span]) -> bool {
    let has_child = |id: &str| {
        spans.iter().any(|o| {
            o.parent_id.as_deref() == Some(id)
                || (o.shared && o.id == id && o.kind == Some(Kind::Server))
        })
    };
    spans.iter().any(|s| s.parent_id.is_none())
        && spans.iter().all(|s| match &s.parent_id {
            None => true,
            Some(p) => spans.iter().any(|o| &o.id == p),
        })
        && spans
            .iter()
            .filter(|s| s.kind == Some(Kind::Client))
            .all(|s| has_child(&s.id))
}
