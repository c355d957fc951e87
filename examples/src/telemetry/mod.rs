//! The process-wide `tracing` subscriber: log lines (with the trace id and the service name),
//! and — with the `instrumented` feature — the span exporter.
//!
//! One subscriber serves the whole process, so [`install`] installs it once; later calls return
//! the same [`Telemetry`] (their configuration is ignored). Tests that start several shops in
//! one process share it and tell their requests apart by trace id.

mod capture;

pub use capture::{CaptureWriter, LogCapture};

#[cfg(feature = "instrumented")]
mod sink;
#[cfg(feature = "instrumented")]
pub use sink::{SpanSink, SINK_CAPACITY};

use std::fmt;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// The log pattern of the shop (trace-log's logback-like pattern language): time, level, the
/// service name from the MDC, the trace and span ids, the message.
///
/// ```text
/// 07:19:45.123 INFO  [order  ] [4bf92f3577b34da6a3ce929d0e0e4736] [00f067aa0ba902b7] submit order: user 1001 buys 1 x product 1001
/// ```
pub const LOG_PATTERN: &str =
    "%d{HH:mm:ss.SSS} %-5level [%-7X{service:-shop}] [%X{traceId:-}] [%X{spanId:-}] %msg%n";

/// What to install.
///
/// ```
/// let cfg = examples::telemetry::TelemetryConfig::default();
/// assert_eq!(cfg.sample_probability, 1.0);
/// assert!(cfg.zipkin_url.is_none());
/// ```
#[derive(Debug, Clone)]
pub struct TelemetryConfig {
    /// Where log lines go (default: the last 10,000 lines kept in memory, not echoed).
    pub logs: LogCapture,
    /// The service name for spans that name none (default `shop`). Each shop service names its
    /// spans itself (see [`crate::shop::traced`]).
    pub service_name: String,
    /// Share of traces reported, 0.0 to 1.0 (default 1.0).
    pub sample_probability: f64,
    /// A Zipkin server to send spans to as well, e.g. `http://localhost:9411` (default none:
    /// spans stay in process).
    pub zipkin_url: Option<String>,
    /// Keep reported spans in memory for [`Telemetry::spans`] (default true).
    pub keep_spans: bool,
    /// Also write every reported span to this file, as one Zipkin v2 JSON list that the Zipkin
    /// UI's "Upload JSON" loads (default none).
    pub spans_file: Option<PathBuf>,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        TelemetryConfig {
            logs: LogCapture::new(10_000),
            service_name: "shop".into(),
            sample_probability: 1.0,
            zipkin_url: None,
            keep_spans: true,
            spans_file: None,
        }
    }
}

/// What was installed: the captured log lines and (instrumented) the reported spans.
///
/// ```no_run
/// let telemetry = examples::telemetry::install(Default::default())?;
/// tracing::info!("hello");
/// assert_eq!(telemetry.logs.lines().len(), 1);
/// # Ok::<(), examples::telemetry::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Telemetry {
    /// The log lines.
    pub logs: LogCapture,
    /// The spans reported (Zipkin v2 model), as the exporter emitted them.
    #[cfg(feature = "instrumented")]
    pub spans: SpanSink,
    /// The exporter: its sinks, sampler and counters.
    #[cfg(feature = "instrumented")]
    pub reporter: trace_exporter::Reporter,
}

impl Telemetry {
    /// Waits (up to `timeout`) until the spans reported so far reached every sink (the file,
    /// Zipkin). Bare build: nothing to wait for.
    ///
    /// ```no_run
    /// let telemetry = examples::telemetry::install(Default::default())?;
    /// telemetry.flush(std::time::Duration::from_secs(1));
    /// # Ok::<(), examples::telemetry::Error>(())
    /// ```
    pub fn flush(&self, timeout: Duration) {
        #[cfg(feature = "instrumented")]
        if self.reporter.flush(timeout).is_err() {
            tracing::warn!(
                "spans still queued after {timeout:?}: {:?}",
                self.reporter.metrics()
            );
        }
        #[cfg(not(feature = "instrumented"))]
        let _ = timeout;
    }

    /// Delivers what the exporter still holds (up to `timeout`) and stops it: call at exit.
    ///
    /// ```no_run
    /// let telemetry = examples::telemetry::install(Default::default())?;
    /// telemetry.shutdown(std::time::Duration::from_secs(1));
    /// # Ok::<(), examples::telemetry::Error>(())
    /// ```
    pub fn shutdown(&self, timeout: Duration) {
        #[cfg(feature = "instrumented")]
        if self.reporter.shutdown(timeout).is_err() {
            eprintln!(
                "spans not delivered within {timeout:?}: {:?}",
                self.reporter.metrics()
            );
        }
        #[cfg(not(feature = "instrumented"))]
        let _ = timeout;
    }
}

/// Installing the subscriber failed.
///
/// ```
/// let e = examples::telemetry::Error("bad pattern".into());
/// assert_eq!(e.to_string(), "cannot set up logging and tracing: bad pattern");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot set up logging and tracing: {}", self.0)
    }
}

impl std::error::Error for Error {}

static INSTALLED: OnceLock<Telemetry> = OnceLock::new();
static INSTALLING: Mutex<()> = Mutex::new(());

/// Installs the process-wide subscriber once (later calls return the first [`Telemetry`]).
///
/// Instrumented: trace-context's `ContextLayer`, trace-log's formatter with [`LOG_PATTERN`]
/// (filtered by `RUST_LOG`, default `info`), and trace-exporter's layer. The exporter's
/// parent-based probability sampler becomes the global sampler (trace-tower's layer decides
/// with it); sampled spans go to the in-memory `SpanSink`, to the spans file and to Zipkin,
/// each when configured.
/// Bare: `tracing-subscriber`'s plain formatter.
///
/// ```no_run
/// let telemetry = examples::telemetry::install(examples::telemetry::TelemetryConfig::default())?;
/// # let _ = telemetry;
/// # Ok::<(), examples::telemetry::Error>(())
/// ```
pub fn install(config: TelemetryConfig) -> Result<Telemetry, Error> {
    let _one_at_a_time = INSTALLING.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(t) = INSTALLED.get() {
        return Ok(t.clone());
    }
    let telemetry = install_subscriber(config)?;
    Ok(INSTALLED.get_or_init(|| telemetry).clone())
}

/// The [`Telemetry`] installed by [`install`], if any.
///
/// ```
/// let _ = examples::telemetry::installed();
/// ```
pub fn installed() -> Option<Telemetry> {
    INSTALLED.get().cloned()
}

#[cfg(not(feature = "instrumented"))]
fn install_subscriber(config: TelemetryConfig) -> Result<Telemetry, Error> {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(config.logs.clone())
        .try_init()
        .map_err(|e| Error(e.to_string()))?;
    Ok(Telemetry { logs: config.logs })
}

#[cfg(feature = "instrumented")]
fn install_subscriber(config: TelemetryConfig) -> Result<Telemetry, Error> {
    use tracing_subscriber::layer::SubscriberExt;

    let spans = SpanSink::new(config.keep_spans);
    let reporter = reporter(&config, &spans)?;
    // trace-log's `LogLayer`: its level filter (`RUST_LOG`) applies to events only, and it does
    // no work for spans since the pattern prints no span fields. (A per-layer filter would look
    // every span up on each enter, exit, record and close; the plain `fmt` layer would format
    // every span's fields when the span opens: measured, ~10% of the shop's instructions.)
    let logs = trace_log::builder()
        .pattern(LOG_PATTERN)
        .writer(config.logs.clone())
        .log_layer()
        .map_err(|e| Error(e.to_string()))?;
    let subscriber = tracing_subscriber::registry()
        // First, as trace-context requires. Unfiltered: a per-layer filter costs a span lookup
        // on every enter, exit, record and close, and this layer has nothing to do for events.
        .with(trace_context::ContextLayer::new())
        .with(logs)
        .with(reporter.layer());
    trace_log::install(subscriber).map_err(|e| Error(e.to_string()))?;
    Ok(Telemetry {
        logs: config.logs,
        spans,
        reporter,
    })
}

/// The exporter: a parent-based probability sampler made the global one (trace-tower's layer
/// decides with it), and the sinks — memory, file, Zipkin — as configured.
#[cfg(feature = "instrumented")]
fn reporter(config: &TelemetryConfig, spans: &SpanSink) -> Result<trace_exporter::Reporter, Error> {
    let mut builder = trace_exporter::Reporter::builder()
        .service_name(config.service_name.as_str())
        .probability(config.sample_probability);
    if let Some(memory) = spans.memory() {
        builder = builder.memory(memory.clone());
    }
    if let Some(path) = &config.spans_file {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error(format!("creating {}: {e}", dir.display())))?;
        }
        builder = builder.file(path);
    }
    builder = match &config.zipkin_url {
        Some(url) => builder.endpoint(url.as_str()),
        None => builder.no_zipkin(),
    };
    builder.install().map_err(|e| Error(e.to_string()))
}
