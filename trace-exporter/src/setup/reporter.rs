//! The configured reporter: sinks, sampler, and the recorder layer that feeds them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use trace_context::Sampler;

use super::builder::ReporterBuilder;
use crate::{AsyncReporter, Endpoint, Fanout, ReporterMetrics, Sink, TimedOut, ZipkinLayer};

struct Inner {
    sink: Arc<dyn Sink>,
    reporters: Vec<AsyncReporter>,
    sampler: Arc<dyn Sampler>,
    local: Endpoint,
    close_timeout: Duration,
}

/// Sampling plus delivery, configured once: hand [`Reporter::layer`] to your `tracing`
/// registry (after `trace_context::ContextLayer`), and the sampled spans of every request
/// reach the configured sinks (Zipkin over HTTP, a JSON file, memory, your own).
///
/// Clones share everything. Call [`Reporter::shutdown`] (or keep a [`Reporter::guard`]) at
/// exit so queued spans are delivered.
///
/// ```
/// use std::time::Duration;
/// use tracing_subscriber::layer::SubscriberExt;
/// use trace_exporter::{MemorySink, Reporter};
///
/// let spans = MemorySink::new();
/// let reporter = Reporter::builder().service_name("shop").memory(spans.clone()).build()?;
/// let subscriber = tracing_subscriber::registry()
///     .with(trace_context::ContextLayer::new())
///     .with(reporter.layer());
/// tracing::subscriber::with_default(subscriber, || {
///     let request = trace_context::Context::builder(trace_context::TraceId::random())
///         .sampling(trace_context::Sampling::Sampled)
///         .build();
///     let _guard = request.enter();
///     let _span = tracing::info_span!("checkout").entered();
/// });
/// reporter.shutdown(Duration::from_secs(1)).unwrap();
/// assert_eq!(spans.spans()[0].name, "checkout");
/// assert!(spans.to_json().contains(r#""serviceName":"shop""#));
/// # Ok::<(), trace_exporter::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct Reporter {
    inner: Arc<Inner>,
}

impl Reporter {
    /// A builder that reads nothing from the environment.
    ///
    /// ```
    /// let _b = trace_exporter::Reporter::builder();
    /// ```
    pub fn builder() -> ReporterBuilder {
        ReporterBuilder::new(false)
    }

    /// A builder whose unset options come from the environment (`OTEL_SERVICE_NAME`,
    /// `OTEL_TRACES_SAMPLER` + `OTEL_TRACES_SAMPLER_ARG`, `OTEL_EXPORTER_ZIPKIN_ENDPOINT`,
    /// `OTEL_EXPORTER_ZIPKIN_TIMEOUT`, `TRACE_KIT_ZIPKIN_GZIP`, `TRACE_KIT_EXPORTER_QUEUE_SIZE`).
    /// A variable set to an unusable value makes `build` fail.
    ///
    /// ```
    /// let r = trace_exporter::Reporter::from_env().service_name("shop").no_zipkin().build()?;
    /// assert_eq!(r.service_name(), "shop");
    /// # Ok::<(), trace_exporter::ConfigError>(())
    /// ```
    pub fn from_env() -> ReporterBuilder {
        ReporterBuilder::new(true)
    }

    pub(crate) fn new(
        mut sinks: Vec<Arc<dyn Sink>>,
        reporters: Vec<AsyncReporter>,
        sampler: Arc<dyn Sampler>,
        local: Endpoint,
        close_timeout: Duration,
    ) -> Self {
        let sink: Arc<dyn Sink> = if sinks.len() == 1 {
            sinks.remove(0)
        } else {
            Arc::new(Fanout::new(sinks))
        };
        Reporter {
            inner: Arc::new(Inner {
                sink,
                reporters,
                sampler,
                local,
                close_timeout,
            }),
        }
    }

    /// The recorder layer feeding this reporter's sinks.
    ///
    /// ```
    /// # let r = trace_exporter::Reporter::builder().no_zipkin().build().unwrap();
    /// let _layer: trace_exporter::ZipkinLayer = r.layer();
    /// ```
    pub fn layer(&self) -> ZipkinLayer {
        ZipkinLayer::with_endpoint(Arc::clone(&self.inner.sink), self.inner.local.clone())
    }

    /// The configured sampler (give it to trace-tower's `TraceLayer::sampler`, or call
    /// [`ReporterBuilder::install`] to make it the global one).
    ///
    /// ```
    /// use trace_exporter::{Sampler, Sampling};
    /// let r = trace_exporter::Reporter::builder().no_zipkin().probability(0.0).build().unwrap();
    /// assert!(!r.sampler().should_sample(trace_context::TraceId::random(), Sampling::Deferred));
    /// ```
    pub fn sampler(&self) -> Arc<dyn Sampler> {
        Arc::clone(&self.inner.sampler)
    }

    /// The sink the layer reports to (all configured sinks).
    ///
    /// ```
    /// # let r = trace_exporter::Reporter::builder().no_zipkin().build().unwrap();
    /// let _sink = r.sink();
    /// ```
    pub fn sink(&self) -> Arc<dyn Sink> {
        Arc::clone(&self.inner.sink)
    }

    /// The default service name.
    ///
    /// ```
    /// assert_eq!(trace_exporter::Reporter::builder().no_zipkin().build().unwrap().service_name(),
    ///     "unknown_service");
    /// ```
    pub fn service_name(&self) -> &str {
        self.inner.local.service_name.as_deref().unwrap_or("")
    }

    /// The counters of the first queued sink (Zipkin HTTP when configured, else the first
    /// file); all zero when only memory or custom sinks are configured.
    ///
    /// ```
    /// # let r = trace_exporter::Reporter::builder().no_zipkin().build().unwrap();
    /// assert_eq!(r.metrics().spans_dropped, 0);
    /// ```
    pub fn metrics(&self) -> ReporterMetrics {
        self.inner
            .reporters
            .first()
            .map(AsyncReporter::metrics)
            .unwrap_or_default()
    }

    /// The counters of every queued sink, with what each delivers to.
    ///
    /// ```
    /// # let r = trace_exporter::Reporter::builder().no_zipkin().build().unwrap();
    /// assert!(r.all_metrics().is_empty());
    /// ```
    pub fn all_metrics(&self) -> Vec<(String, ReporterMetrics)> {
        self.inner
            .reporters
            .iter()
            .map(|r| (r.describe().to_string(), r.metrics()))
            .collect()
    }

    /// Waits until the spans reported so far are delivered (or given up on), at most
    /// `timeout`.
    ///
    /// ```
    /// # let r = trace_exporter::Reporter::builder().no_zipkin().build().unwrap();
    /// r.flush(std::time::Duration::from_secs(1)).unwrap();
    /// ```
    pub fn flush(&self, timeout: Duration) -> Result<(), TimedOut> {
        self.inner.sink.flush(timeout)
    }

    /// Delivers what is queued within `timeout`, then stops the sender threads; spans
    /// reported afterwards are dropped and counted.
    ///
    /// ```
    /// # let r = trace_exporter::Reporter::builder().no_zipkin().build().unwrap();
    /// r.shutdown(std::time::Duration::from_secs(1)).unwrap();
    /// ```
    pub fn shutdown(&self, timeout: Duration) -> Result<(), TimedOut> {
        let deadline = Instant::now() + timeout;
        let _ = self.inner.sink.flush(timeout);
        self.inner
            .sink
            .shutdown(deadline.saturating_duration_since(Instant::now()))
    }

    /// A guard that calls [`shutdown`](Self::shutdown) with the close timeout (default 1 s)
    /// when dropped: keep it in `main`.
    ///
    /// ```
    /// # let r = trace_exporter::Reporter::builder().no_zipkin().build().unwrap();
    /// let _guard = r.guard();
    /// ```
    pub fn guard(&self) -> ShutdownGuard {
        ShutdownGuard {
            reporter: self.clone(),
        }
    }
}

impl std::fmt::Debug for Reporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reporter")
            .field("service", &self.inner.local.service_name)
            .field("queued_sinks", &self.inner.reporters)
            .finish()
    }
}

/// Shuts its [`Reporter`] down when dropped, delivering queued spans within the close
/// timeout.
///
/// ```
/// let r = trace_exporter::Reporter::builder().no_zipkin().build().unwrap();
/// drop(r.guard()); // flushes and stops
/// ```
#[must_use = "the reporter is shut down when the guard is dropped"]
pub struct ShutdownGuard {
    reporter: Reporter,
}

impl Drop for ShutdownGuard {
    fn drop(&mut self) {
        let _ = self.reporter.shutdown(self.reporter.inner.close_timeout);
    }
}

impl std::fmt::Debug for ShutdownGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ShutdownGuard")
    }
}
