//! The public builder: one place to configure sampling, sinks and the reporter.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use trace_context::Sampler;

use super::env::EnvConfig;
use super::reporter::Reporter;
use crate::reporter::{DEFAULT_CONNECT_TIMEOUT, DEFAULT_ENDPOINT};
use crate::{
    AsyncReporter, ConfigError, Endpoint, FileTransport, MemorySink, ProbabilitySampler,
    ReporterOptions, SamplerSpec, Sink, ZipkinHttp,
};

/// The default service name when none is configured (OpenTelemetry's).
pub const DEFAULT_SERVICE_NAME: &str = "unknown_service";

/// Messages are not gzipped by default: on loopback and LAN the compression costs more than
/// it saves (see BENCHMARKS.md).
pub const DEFAULT_GZIP: bool = false;

enum SamplerChoice {
    Spec(SamplerSpec),
    Custom(Arc<dyn Sampler>),
    Invalid(ConfigError),
}

/// Configures a [`Reporter`]. Settings made in code win; with [`Reporter::from_env`] the
/// environment fills in what code left unset.
///
/// | option | default | environment |
/// |---|---|---|
/// | [`service_name`](Self::service_name) | `unknown_service` | `OTEL_SERVICE_NAME` |
/// | [`endpoint`](Self::endpoint) | `http://127.0.0.1:9411/api/v2/spans`, unless only other sinks are set | `OTEL_EXPORTER_ZIPKIN_ENDPOINT` |
/// | [`gzip`](Self::gzip) | `false` | `TRACE_KIT_ZIPKIN_GZIP` |
/// | [`request_timeout`](Self::request_timeout) | 10 s | `OTEL_EXPORTER_ZIPKIN_TIMEOUT` (ms) |
/// | [`sampler`](Self::sampler) / [`probability`](Self::probability) / [`rate_limit`](Self::rate_limit) | `parentbased_always_on` | `OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG` |
/// | [`queue_size`](Self::queue_size) | 10,000 spans | `TRACE_KIT_EXPORTER_QUEUE_SIZE` |
/// | [`message_max_bytes`](Self::message_max_bytes) | 500 KiB | — |
/// | [`flush_interval`](Self::flush_interval) | 1 s | — |
/// | [`close_timeout`](Self::close_timeout) | 1 s | — |
/// | [`retry_for`](Self::retry_for) | 30 s | — |
///
/// ```
/// use trace_exporter::{MemorySink, Reporter};
/// let memory = MemorySink::new();
/// let reporter = Reporter::builder()
///     .service_name("shop")
///     .probability(0.1)
///     .memory(memory.clone())
///     .build()?;
/// assert_eq!(reporter.service_name(), "shop");
/// # Ok::<(), trace_exporter::ConfigError>(())
/// ```
pub struct ReporterBuilder {
    service_name: Option<String>,
    local_ip: Option<IpAddr>,
    local_port: Option<u16>,
    endpoint: Option<String>,
    no_zipkin: bool,
    gzip: Option<bool>,
    connect_timeout: Duration,
    request_timeout: Option<Duration>,
    files: Vec<PathBuf>,
    #[cfg(feature = "otlp")]
    otlp: Vec<String>,
    memory: Vec<MemorySink>,
    sinks: Vec<Arc<dyn Sink>>,
    sampler: Option<SamplerChoice>,
    options: ReporterOptions,
    queue_size: Option<usize>,
    env: bool,
}

impl ReporterBuilder {
    pub(crate) fn new(env: bool) -> Self {
        ReporterBuilder {
            service_name: None,
            local_ip: None,
            local_port: None,
            endpoint: None,
            no_zipkin: false,
            gzip: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            request_timeout: None,
            files: Vec::new(),
            #[cfg(feature = "otlp")]
            otlp: Vec::new(),
            memory: Vec::new(),
            sinks: Vec::new(),
            sampler: None,
            options: ReporterOptions::default(),
            queue_size: None,
            env,
        }
    }

    /// The default service name (`localEndpoint.serviceName`); a span's `service.name` field
    /// overrides it for the span and its descendants.
    ///
    /// ```
    /// let _b = trace_exporter::Reporter::builder().service_name("order");
    /// ```
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// The local address written in `localEndpoint`.
    ///
    /// ```
    /// let _b = trace_exporter::Reporter::builder().local_ip("10.0.0.5".parse().unwrap());
    /// ```
    pub fn local_ip(mut self, ip: IpAddr) -> Self {
        self.local_ip = Some(ip);
        self
    }

    /// The local port written in `localEndpoint` (the port the service listens on).
    ///
    /// ```
    /// let _b = trace_exporter::Reporter::builder().local_port(8080);
    /// ```
    pub fn local_port(mut self, port: u16) -> Self {
        self.local_port = Some(port);
        self
    }

    /// Reports to the Zipkin collector at `url` (`http://host:9411` gets `/api/v2/spans`).
    /// Checked by [`build`](Self::build).
    ///
    /// ```
    /// let _b = trace_exporter::Reporter::builder().endpoint("http://127.0.0.1:9411");
    /// ```
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
        self.no_zipkin = false;
        self
    }

    /// Sends nothing to Zipkin over HTTP, even with the environment naming an endpoint.
    ///
    /// ```
    /// let r = trace_exporter::Reporter::builder().no_zipkin().build().unwrap();
    /// # let _ = r;
    /// ```
    pub fn no_zipkin(mut self) -> Self {
        self.no_zipkin = true;
        self.endpoint = None;
        self
    }

    /// Gzips the messages sent to Zipkin (default `false`).
    ///
    /// ```
    /// let _b = trace_exporter::Reporter::builder().gzip(true);
    /// ```
    pub fn gzip(mut self, gzip: bool) -> Self {
        self.gzip = Some(gzip);
        self
    }

    /// Time to connect to Zipkin (default 5 s).
    ///
    /// ```
    /// let _b = trace_exporter::Reporter::builder().connect_timeout(std::time::Duration::from_secs(1));
    /// ```
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Time for one whole request to Zipkin (default 10 s).
    ///
    /// ```
    /// let _b = trace_exporter::Reporter::builder().request_timeout(std::time::Duration::from_secs(2));
    /// ```
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = Some(timeout);
        self
    }

    /// Also writes spans to a Zipkin v2 JSON file (loadable with the Zipkin UI's "Upload
    /// JSON"), through its own queue and thread.
    ///
    /// ```
    /// let _b = trace_exporter::Reporter::builder().file("/tmp/spans.json");
    /// ```
    pub fn file(mut self, path: impl Into<PathBuf>) -> Self {
        self.files.push(path.into());
        self
    }

    /// Also sends spans to an OTLP/HTTP collector (`http://host:4318/v1/traces`, protobuf),
    /// through its own queue and thread (feature `otlp`).
    ///
    /// ```
    /// let _b = trace_exporter::Reporter::builder().otlp("http://127.0.0.1:4318/v1/traces");
    /// ```
    #[cfg(feature = "otlp")]
    pub fn otlp(mut self, url: impl Into<String>) -> Self {
        self.otlp.push(url.into());
        self
    }

    /// Also keeps spans in `sink` (read them with [`MemorySink::spans`] or
    /// [`MemorySink::to_json`]). Spans reach it when they close, without a queue.
    ///
    /// ```
    /// let _b = trace_exporter::Reporter::builder().memory(trace_exporter::MemorySink::new());
    /// ```
    pub fn memory(mut self, sink: MemorySink) -> Self {
        self.memory.push(sink);
        self
    }

    /// Also hands spans to a sink of your own (e.g. an [`AsyncReporter`] over your
    /// [`crate::Transport`]).
    ///
    /// ```
    /// use std::sync::Arc;
    /// let _b = trace_exporter::Reporter::builder().sink(Arc::new(trace_exporter::MemorySink::new()));
    /// ```
    pub fn sink(mut self, sink: Arc<dyn Sink>) -> Self {
        self.sinks.push(sink);
        self
    }

    /// The sampler for traces entering this service.
    ///
    /// ```
    /// use trace_exporter::{ParentBased, ProbabilitySampler};
    /// let _b = trace_exporter::Reporter::builder()
    ///     .sampler(ParentBased::new(ProbabilitySampler::new(0.1).unwrap()));
    /// ```
    pub fn sampler(mut self, sampler: impl Sampler) -> Self {
        self.sampler = Some(SamplerChoice::Custom(Arc::new(sampler)));
        self
    }

    /// A shared sampler.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let s: Arc<dyn trace_exporter::Sampler> = Arc::new(trace_exporter::AlwaysOn);
    /// let _b = trace_exporter::Reporter::builder().sampler_arc(s);
    /// ```
    pub fn sampler_arc(mut self, sampler: Arc<dyn Sampler>) -> Self {
        self.sampler = Some(SamplerChoice::Custom(sampler));
        self
    }

    /// Sleuth's `spring.sleuth.sampler.probability`: parent-based over a
    /// [`ProbabilitySampler`] (follow the caller's decision; decide new traces with `p`).
    /// A value outside `[0, 1]` makes [`build`](Self::build) fail.
    ///
    /// ```
    /// assert!(trace_exporter::Reporter::builder().probability(2.0).build().is_err());
    /// ```
    pub fn probability(mut self, p: f64) -> Self {
        self.sampler = Some(match ProbabilitySampler::new(p) {
            Ok(_) => SamplerChoice::Spec(SamplerSpec::ParentBasedTraceIdRatio(p)),
            Err(e) => SamplerChoice::Invalid(e),
        });
        self
    }

    /// Sleuth's `spring.sleuth.sampler.rate`: parent-based over a [`crate::RateLimitingSampler`]
    /// (at most `traces_per_second` new traces per second).
    ///
    /// ```
    /// let _b = trace_exporter::Reporter::builder().rate_limit(10);
    /// ```
    pub fn rate_limit(mut self, traces_per_second: u32) -> Self {
        self.sampler = Some(SamplerChoice::Spec(SamplerSpec::ParentBasedRateLimited(
            traces_per_second,
        )));
        self
    }

    /// All queue and retry settings at once.
    ///
    /// ```
    /// let _b = trace_exporter::Reporter::builder().options(trace_exporter::ReporterOptions::default());
    /// ```
    pub fn options(mut self, options: ReporterOptions) -> Self {
        self.options = options;
        self
    }

    /// Spans the queue holds (default 10,000); a span reported to a full queue is dropped and
    /// counted.
    ///
    /// ```
    /// let _b = trace_exporter::Reporter::builder().queue_size(50_000);
    /// ```
    pub fn queue_size(mut self, spans: usize) -> Self {
        self.queue_size = Some(spans);
        self
    }

    /// Largest message in bytes (default 500 KiB).
    ///
    /// ```
    /// let _b = trace_exporter::Reporter::builder().message_max_bytes(64 * 1024);
    /// ```
    pub fn message_max_bytes(mut self, bytes: usize) -> Self {
        self.options.message_max_bytes = bytes;
        self
    }

    /// Longest time a span waits before its message is sent (default 1 s).
    ///
    /// ```
    /// let _b = trace_exporter::Reporter::builder().flush_interval(std::time::Duration::from_millis(200));
    /// ```
    pub fn flush_interval(mut self, interval: Duration) -> Self {
        self.options.flush_interval = interval;
        self
    }

    /// How long dropping the reporter or its guard waits for queued spans (default 1 s).
    ///
    /// ```
    /// let _b = trace_exporter::Reporter::builder().close_timeout(std::time::Duration::from_secs(3));
    /// ```
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.options.close_timeout = timeout;
        self
    }

    /// How long one message is retried after connection errors and 5xx (default 30 s).
    ///
    /// ```
    /// let _b = trace_exporter::Reporter::builder().retry_for(std::time::Duration::from_secs(5));
    /// ```
    pub fn retry_for(mut self, duration: Duration) -> Self {
        self.options.retry_for = duration;
        self
    }

    /// Checks everything and starts the sender threads.
    ///
    /// ```
    /// let r = trace_exporter::Reporter::builder().endpoint("http://127.0.0.1:9411").build()?;
    /// assert_eq!(r.metrics().spans, 0);
    /// r.shutdown(std::time::Duration::from_secs(1)).unwrap();
    /// assert!(trace_exporter::Reporter::builder().endpoint("ftp://x").build().is_err());
    /// # Ok::<(), trace_exporter::ConfigError>(())
    /// ```
    pub fn build(self) -> Result<Reporter, ConfigError> {
        let env = if self.env {
            EnvConfig::read(|k| std::env::var(k).ok())?
        } else {
            EnvConfig::default()
        };
        let sampler: Arc<dyn Sampler> = match self.sampler {
            Some(SamplerChoice::Invalid(e)) => return Err(e),
            Some(SamplerChoice::Custom(s)) => s,
            Some(SamplerChoice::Spec(spec)) => spec.build(),
            None => env.sampler.unwrap_or_default().build(),
        };
        let service = self
            .service_name
            .or(env.service_name)
            .unwrap_or_else(|| DEFAULT_SERVICE_NAME.to_string());
        let mut local = Endpoint::service(service);
        if let Some(ip) = self.local_ip {
            local.set_ip(ip);
        }
        if let Some(port) = self.local_port {
            local = local.with_port(port);
        }
        let mut options = self.options;
        if let Some(n) = self.queue_size.or(env.queue_size) {
            options.queue_size = n;
        }
        if let Some(t) = self.request_timeout.or(env.timeout) {
            options.request_timeout = t;
        }
        options.validate()?;

        #[cfg(feature = "otlp")]
        let otlp = !self.otlp.is_empty();
        #[cfg(not(feature = "otlp"))]
        let otlp = false;
        let others =
            !self.files.is_empty() || !self.memory.is_empty() || !self.sinks.is_empty() || otlp;
        let endpoint = if self.no_zipkin {
            None
        } else {
            match (self.endpoint, env.endpoint) {
                (Some(url), _) => Some(url),
                (None, Some(url)) => Some(url),
                (None, None) if !others => Some(DEFAULT_ENDPOINT.to_string()),
                (None, None) => None,
            }
        };
        let mut reporters = Vec::new();
        let mut sinks: Vec<Arc<dyn Sink>> = Vec::new();
        if let Some(url) = endpoint {
            let http = ZipkinHttp::with_timeouts(
                &url,
                self.gzip.or(env.gzip).unwrap_or(DEFAULT_GZIP),
                self.connect_timeout,
                options.request_timeout,
            )?;
            let r = AsyncReporter::new(http, options.clone())?;
            reporters.push(r.clone());
            sinks.push(Arc::new(r));
        }
        for path in self.files {
            let file = FileTransport::create(&path).map_err(|e| {
                ConfigError::new(
                    "file sink",
                    format!("cannot create {}: {e}", path.display()),
                )
            })?;
            let r = AsyncReporter::new(file, options.clone())?;
            reporters.push(r.clone());
            sinks.push(Arc::new(r));
        }
        #[cfg(feature = "otlp")]
        for url in self.otlp {
            let t = crate::OtlpTransport::new(&url, options.request_timeout)?;
            let r = AsyncReporter::new(t, options.clone())?;
            reporters.push(r.clone());
            sinks.push(Arc::new(r));
        }
        for m in self.memory {
            sinks.push(Arc::new(m));
        }
        sinks.extend(self.sinks);
        Ok(Reporter::new(
            sinks,
            reporters,
            sampler,
            local,
            options.close_timeout,
        ))
    }

    /// [`build`](Self::build), then makes the sampler the process-wide one
    /// (`trace_context::set_global_sampler`), used by `Context::new_root` and by trace-tower's
    /// layer when it has no sampler of its own.
    ///
    /// ```
    /// let r = trace_exporter::Reporter::builder().no_zipkin().probability(1.0).install()?;
    /// # let _ = r;
    /// # Ok::<(), trace_exporter::ConfigError>(())
    /// ```
    pub fn install(self) -> Result<Reporter, ConfigError> {
        let reporter = self.build()?;
        trace_context::set_global_sampler(reporter.sampler());
        Ok(reporter)
    }
}

impl std::fmt::Debug for ReporterBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReporterBuilder")
            .field("service_name", &self.service_name)
            .field("endpoint", &self.endpoint)
            .field("files", &self.files)
            .field("options", &self.options)
            .finish()
    }
}
