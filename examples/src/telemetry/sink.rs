//! The spans the exporter reported, read back from its in-memory sink as Zipkin v2 spans, so
//! the demo can draw them and tests can check them.
//!
//! The spans go through trace-exporter's own Zipkin v2 encoder ([`MemorySink::trace_json`])
//! and are decoded with [`crate::zipkin`]: what the demo draws is exactly what a Zipkin server
//! would have received.

use std::time::{Duration, Instant};

use trace_context::TraceId;
use trace_exporter::MemorySink;

use crate::zipkin::{self, Kind, Span};

/// How many spans the in-memory sink keeps (the oldest are dropped beyond it).
pub const SINK_CAPACITY: usize = 100_000;

/// The spans reported to the exporter's in-memory sink. Cheap to clone; clones share the
/// spans.
///
/// ```
/// let sink = examples::telemetry::SpanSink::new(true);
/// assert!(sink.trace("4bf92f3577b34da6a3ce929d0e0e4736").is_empty());
/// ```
#[derive(Clone, Debug)]
pub struct SpanSink {
    memory: Option<MemorySink>,
}

impl SpanSink {
    /// A sink keeping the latest [`SINK_CAPACITY`] spans; with `keep` false it keeps nothing
    /// (spans still go to the exporter's other sinks).
    ///
    /// ```
    /// let sink = examples::telemetry::SpanSink::new(false);
    /// assert!(!sink.keeps());
    /// ```
    pub fn new(keep: bool) -> SpanSink {
        SpanSink {
            memory: keep.then(|| MemorySink::bounded(SINK_CAPACITY)),
        }
    }

    /// True when reported spans are kept.
    ///
    /// ```
    /// assert!(examples::telemetry::SpanSink::new(true).keeps());
    /// ```
    pub fn keeps(&self) -> bool {
        self.memory.is_some()
    }

    /// The exporter's in-memory sink behind this one (to add to a `Reporter` builder), if it
    /// keeps spans.
    ///
    /// ```
    /// assert!(examples::telemetry::SpanSink::new(true).memory().is_some());
    /// ```
    pub fn memory(&self) -> Option<&MemorySink> {
        self.memory.as_ref()
    }

    /// How many spans are kept.
    ///
    /// ```
    /// assert_eq!(examples::telemetry::SpanSink::new(true).len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.memory.as_ref().map_or(0, MemorySink::len)
    }

    /// True when no span is kept.
    ///
    /// ```
    /// assert!(examples::telemetry::SpanSink::new(true).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The spans kept of one trace (id as 16 or 32 hex digits, or a hyphenated UUID), as the
    /// exporter encodes them. Empty for an id that is not a trace id.
    ///
    /// ```
    /// let sink = examples::telemetry::SpanSink::new(true);
    /// assert!(sink.trace("not an id").is_empty());
    /// ```
    pub fn trace(&self, trace_id: &str) -> Vec<Span> {
        let (Some(memory), Ok(id)) = (&self.memory, TraceId::parse(trace_id)) else {
            return Vec::new();
        };
        // The exporter's encoder writes valid JSON; a span it could not encode is left out
        // rather than failing the whole trace.
        zipkin::parse_spans(memory.trace_json(id).as_bytes()).unwrap_or_default()
    }

    /// Waits (up to `timeout`) until the trace looks complete — it has a root span, every
    /// parent id names a span of the trace, and every client span has a child (the callee's
    /// server span; true in the shop, where every service is traced) — and returns its spans
    /// (possibly incomplete at the timeout, empty when the trace was not sampled).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let sink = examples::telemetry::SpanSink::new(true);
    /// let spans = sink.wait_for_trace("4bf92f3577b34da6", std::time::Duration::from_millis(10)).await;
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

#[cfg(test)]
mod tests {
    use super::*;
    use trace_context::SpanId;
    use trace_exporter::{Sink, SpanRecord};

    #[test]
    fn a_trace_reads_back_through_the_exporters_encoder() {
        let sink = SpanSink::new(true);
        let trace = TraceId::random();
        let root = SpanId::random();
        let mut child = SpanRecord::new(trace, SpanId::random(), "child", Default::default());
        child.parent_id = Some(root);
        let memory = sink.memory().unwrap();
        memory.report(child);
        memory.report(SpanRecord::new(
            TraceId::random(),
            SpanId::random(),
            "other trace",
            Default::default(),
        ));
        let spans = sink.trace(&trace.to_hex());
        assert_eq!(spans.len(), 1);
        assert_eq!(spans[0].name.as_deref(), Some("child"));
        assert!(!is_complete(&spans), "the root is missing");
        memory.report(SpanRecord::new(trace, root, "root", Default::default()));
        assert!(is_complete(&sink.trace(&trace.to_hex())));
    }

    #[test]
    fn a_sink_that_keeps_nothing_finds_nothing() {
        let sink = SpanSink::new(false);
        assert!(sink.memory().is_none());
        assert!(sink.trace(&TraceId::random().to_hex()).is_empty());
    }
}
