//! Several sinks at once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Sink, TimedOut};
use crate::{ReporterMetrics, SpanRecord};

/// Sends every span to several sinks (e.g. Zipkin and a [`crate::MemorySink`]).
///
/// ```
/// use std::sync::Arc;
/// use trace_exporter::{Fanout, MemorySink, Sink};
/// let a = MemorySink::new();
/// let b = MemorySink::new();
/// let both = Fanout::new(vec![Arc::new(a.clone()), Arc::new(b.clone())]);
/// # let span = trace_exporter::SpanRecord::new(trace_context::TraceId::random(),
/// #     trace_context::SpanId::random(), "w", Default::default());
/// both.report(span);
/// assert_eq!((a.len(), b.len()), (1, 1));
/// ```
#[derive(Clone)]
pub struct Fanout {
    sinks: Vec<Arc<dyn Sink>>,
}

impl Fanout {
    /// Fans out to `sinks`, in order.
    ///
    /// ```
    /// let _f = trace_exporter::Fanout::new(Vec::new());
    /// ```
    pub fn new(sinks: Vec<Arc<dyn Sink>>) -> Self {
        Fanout { sinks }
    }
}

impl Sink for Fanout {
    fn report(&self, span: SpanRecord) {
        if let Some((last, rest)) = self.sinks.split_last() {
            for sink in rest {
                sink.report(span.clone());
            }
            last.report(span);
        }
    }

    fn report_boxed(&self, span: Box<SpanRecord>) {
        if let Some((last, rest)) = self.sinks.split_last() {
            for sink in rest {
                sink.report((*span).clone());
            }
            last.report_boxed(span);
        }
    }

    fn flush(&self, timeout: Duration) -> Result<(), TimedOut> {
        let deadline = Instant::now() + timeout;
        let mut result = Ok(());
        for sink in &self.sinks {
            let left = deadline.saturating_duration_since(Instant::now());
            if sink.flush(left).is_err() {
                result = Err(TimedOut);
            }
        }
        result
    }

    fn shutdown(&self, timeout: Duration) -> Result<(), TimedOut> {
        let deadline = Instant::now() + timeout;
        let mut result = Ok(());
        for sink in &self.sinks {
            let left = deadline.saturating_duration_since(Instant::now());
            if sink.shutdown(left).is_err() {
                result = Err(TimedOut);
            }
        }
        result
    }

    /// The counters of the first sink that keeps them.
    fn metrics(&self) -> Option<ReporterMetrics> {
        self.sinks.iter().find_map(|s| s.metrics())
    }
}

impl std::fmt::Debug for Fanout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Fanout({} sinks)", self.sinks.len())
    }
}
