//! Where finished spans go: the one interface every destination implements.

mod fanout;
mod file;
mod memory;
#[cfg(feature = "otlp")]
mod otlp;

use std::fmt;
use std::time::Duration;

use crate::{ReporterMetrics, SpanRecord};

pub use fanout::Fanout;
pub use file::FileTransport;
pub use memory::MemorySink;
#[cfg(feature = "otlp")]
pub use otlp::{OtlpTransport, DEFAULT_OTLP_ENDPOINT};

/// A flush or shutdown that did not finish within its timeout.
///
/// ```
/// assert_eq!(trace_exporter::TimedOut.to_string(), "timed out");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimedOut;

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("timed out")
    }
}

impl std::error::Error for TimedOut {}

/// A destination for finished spans: the recorder layer and the OpenTelemetry exporter hand
/// spans to one of these.
///
/// [`Sink::report`] is called on the request path: it must never block on I/O or wait for a
/// lock held across I/O. Implementations: [`crate::AsyncReporter`] (a bounded queue and a
/// delivery thread in front of a [`crate::Transport`]: Zipkin HTTP, file, OTLP), [`MemorySink`]
/// and [`Fanout`].
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use trace_exporter::{Sink, SpanRecord};
///
/// #[derive(Default)]
/// struct Counting(AtomicUsize);
/// impl Sink for Counting {
///     fn report(&self, _span: SpanRecord) {
///         self.0.fetch_add(1, Ordering::Relaxed);
///     }
/// }
/// ```
pub trait Sink: Send + Sync + 'static {
    /// Takes a finished span. Never blocks.
    fn report(&self, span: SpanRecord);

    /// Takes a finished span that is already boxed, as the recorder's spans are: a sink that
    /// queues spans keeps the box (one pointer moves, not the whole span). The default
    /// unboxes it for [`Sink::report`].
    ///
    /// ```
    /// use trace_exporter::{MemorySink, Sink, SpanRecord};
    /// let sink = MemorySink::new();
    /// sink.report_boxed(Box::new(SpanRecord::new(trace_context::TraceId::random(),
    ///     trace_context::SpanId::random(), "work", Default::default())));
    /// assert_eq!(sink.spans()[0].name, "work");
    /// ```
    fn report_boxed(&self, span: Box<SpanRecord>) {
        self.report(*span);
    }

    /// Waits until the spans reported so far are delivered (or given up on), at most `timeout`.
    fn flush(&self, _timeout: Duration) -> Result<(), TimedOut> {
        Ok(())
    }

    /// Delivers what is queued within `timeout` and stops taking spans. Spans not delivered by
    /// then are counted as dropped.
    fn shutdown(&self, _timeout: Duration) -> Result<(), TimedOut> {
        Ok(())
    }

    /// The counters, for sinks that keep them.
    fn metrics(&self) -> Option<ReporterMetrics> {
        None
    }
}
