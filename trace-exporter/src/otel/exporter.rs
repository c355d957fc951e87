//! OpenTelemetry's `SpanExporter` over trace-kit's sinks.

use std::sync::Arc;
use std::time::Duration;

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

use super::convert::to_span_record;
use crate::{Endpoint, Reporter, Sink};

/// An OpenTelemetry [`SpanExporter`] that encodes spans as Zipkin v2 JSON through
/// trace-kit's reporter: a maintained replacement for the deprecated `opentelemetry-zipkin`
/// (the service name is always written, roots have no `parentId`, and it never panics
/// inside a tokio runtime: delivery happens on the reporter's own thread).
///
/// `export` only converts and enqueues (it never waits on the network), so it works under
/// the simple and the batch span processor alike. The service name comes from the one given
/// here, else the SDK resource's `service.name`.
///
/// ```
/// use opentelemetry::trace::{Tracer, TracerProvider as _};
/// use opentelemetry_sdk::trace::SdkTracerProvider;
/// use trace_exporter::{otel::ZipkinSpanExporter, MemorySink, Reporter};
///
/// let spans = MemorySink::new();
/// let reporter = Reporter::builder().service_name("items").memory(spans.clone()).build()?;
/// let provider = SdkTracerProvider::builder()
///     .with_simple_exporter(ZipkinSpanExporter::from_reporter(&reporter))
///     .build();
/// provider.tracer("doc").in_span("work", |_cx| {});
/// assert_eq!(spans.spans()[0].name, "work");
/// assert_eq!(spans.spans()[0].service_name(), Some("items"));
/// # Ok::<(), trace_exporter::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct ZipkinSpanExporter {
    sink: Arc<dyn Sink>,
    local: Arc<Endpoint>,
    explicit_name: bool,
}

impl ZipkinSpanExporter {
    /// An exporter into `sink` for `service_name` (`None`: take it from the SDK resource).
    ///
    /// ```
    /// use std::sync::Arc;
    /// let _e = trace_exporter::otel::ZipkinSpanExporter::new(
    ///     Arc::new(trace_exporter::MemorySink::new()), Some("items"));
    /// ```
    pub fn new(sink: Arc<dyn Sink>, service_name: Option<&str>) -> Self {
        ZipkinSpanExporter {
            sink,
            local: Arc::new(Endpoint::service(
                service_name.unwrap_or(crate::DEFAULT_SERVICE_NAME),
            )),
            explicit_name: service_name.is_some(),
        }
    }

    /// An exporter into a [`Reporter`]'s sinks, with its service name.
    ///
    /// ```
    /// let r = trace_exporter::Reporter::builder().no_zipkin().service_name("a").build().unwrap();
    /// let _e = trace_exporter::otel::ZipkinSpanExporter::from_reporter(&r);
    /// ```
    pub fn from_reporter(reporter: &Reporter) -> Self {
        Self::new(reporter.sink(), Some(reporter.service_name()))
    }
}

impl SpanExporter for ZipkinSpanExporter {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        for data in &batch {
            if let Some(span) = to_span_record(data, &self.local) {
                self.sink.report(span);
            }
        }
        std::future::ready(Ok(()))
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.sink
            .shutdown(timeout)
            .map_err(|_| OTelSdkError::Timeout(timeout))
    }

    fn force_flush(&self) -> OTelSdkResult {
        let timeout = Duration::from_secs(5);
        self.sink
            .flush(timeout)
            .map_err(|_| OTelSdkError::Timeout(timeout))
    }

    fn set_resource(&mut self, resource: &Resource) {
        if self.explicit_name {
            return;
        }
        if let Some(name) = resource.get(&opentelemetry::Key::from_static_str("service.name")) {
            self.local = Arc::new(Endpoint::service(name.to_string()));
        }
    }
}

impl std::fmt::Debug for ZipkinSpanExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZipkinSpanExporter")
            .field("service", &self.local.service_name)
            .finish()
    }
}
