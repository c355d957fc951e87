//! OTLP over HTTP (protobuf) through `opentelemetry-otlp`, behind the `otlp` feature.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use opentelemetry::trace::{
    SpanContext, SpanId as OtelSpanId, SpanKind, Status, TraceFlags, TraceId as OtelTraceId,
    TraceState,
};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanExporter, SpanLinks};
use opentelemetry_sdk::Resource;

use crate::reporter::{Message, SendError, Transport};
use crate::{ConfigError, Kind, SpanRecord};

/// The default OTLP/HTTP traces endpoint (OpenTelemetry's).
pub const DEFAULT_OTLP_ENDPOINT: &str = "http://127.0.0.1:4318/v1/traces";

/// Sends spans to an OTLP/HTTP collector (`/v1/traces`, protobuf) with `opentelemetry-otlp`'s
/// exporter, as a [`Transport`] behind an [`crate::AsyncReporter`]. Spans are grouped by
/// service name, each group under a resource with that `service.name`. Requests carry
/// `b3: 0`. The exporter (a blocking HTTP client) is created on the reporter's own thread, so
/// building it inside a tokio runtime is fine.
///
/// ```
/// let t = trace_exporter::OtlpTransport::new("http://127.0.0.1:4318/v1/traces",
///     std::time::Duration::from_secs(5))?;
/// assert_eq!(t.endpoint(), "http://127.0.0.1:4318/v1/traces");
/// # Ok::<(), trace_exporter::ConfigError>(())
/// ```
pub struct OtlpTransport {
    endpoint: String,
    timeout: Duration,
    exporter: Option<opentelemetry_otlp::SpanExporter>,
}

impl OtlpTransport {
    /// A transport to `endpoint` (an `http://` URL; its path is used as is).
    ///
    /// ```
    /// assert!(trace_exporter::OtlpTransport::new("not a url", Default::default()).is_err());
    /// ```
    pub fn new(endpoint: &str, timeout: Duration) -> Result<Self, ConfigError> {
        let uri: http::Uri = endpoint.trim().parse().map_err(|e| {
            ConfigError::new("OTLP endpoint", format!("{endpoint:?} is not a URL: {e}"))
        })?;
        if uri.scheme_str() != Some("http") || uri.host().is_none_or(str::is_empty) {
            return Err(ConfigError::new(
                "OTLP endpoint",
                format!("{endpoint:?} is not an http:// URL with a host"),
            ));
        }
        Ok(OtlpTransport {
            endpoint: endpoint.trim().to_string(),
            timeout: if timeout.is_zero() {
                Duration::from_secs(10)
            } else {
                timeout
            },
            exporter: None,
        })
    }

    /// The collector URL.
    ///
    /// ```
    /// let t = trace_exporter::OtlpTransport::new("http://otel:4318/v1/traces", Default::default()).unwrap();
    /// assert_eq!(t.endpoint(), "http://otel:4318/v1/traces");
    /// ```
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    fn exporter(&mut self) -> Result<&mut opentelemetry_otlp::SpanExporter, SendError> {
        if self.exporter.is_none() {
            let exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_endpoint(self.endpoint.clone())
                .with_timeout(self.timeout)
                .with_headers(HashMap::from([("b3".to_string(), "0".to_string())]))
                .build()
                .map_err(|e| SendError::permanent(format!("OTLP exporter: {e}")))?;
            self.exporter = Some(exporter);
        }
        self.exporter
            .as_mut()
            .ok_or_else(|| SendError::permanent("OTLP exporter missing"))
    }
}

/// One span as OpenTelemetry's `SpanData`.
fn to_span_data(span: &SpanRecord, scope: &InstrumentationScope) -> SpanData {
    let start = UNIX_EPOCH + Duration::from_micros(span.timestamp);
    let mut attributes: Vec<KeyValue> = span
        .tags
        .iter()
        .filter(|(k, _)| *k != "error")
        .map(|(k, v)| KeyValue::new(k.to_string(), v.to_string()))
        .collect();
    if let Some(remote) = &span.remote_endpoint {
        if let Some(name) = &remote.service_name {
            attributes.push(KeyValue::new("server.address", name.clone()));
        } else if let Some(ip) = remote.ipv4 {
            attributes.push(KeyValue::new("server.address", ip.to_string()));
        } else if let Some(ip) = remote.ipv6 {
            attributes.push(KeyValue::new("server.address", ip.to_string()));
        }
        if let Some(port) = remote.port {
            attributes.push(KeyValue::new("server.port", i64::from(port)));
        }
    }
    let mut events = SpanEvents::default();
    for a in &span.annotations {
        events.events.push(opentelemetry::trace::Event::new(
            a.value.clone(),
            UNIX_EPOCH + Duration::from_micros(a.timestamp),
            Vec::new(),
            0,
        ));
    }
    SpanData {
        span_context: SpanContext::new(
            OtelTraceId::from(span.trace_id.to_u128()),
            OtelSpanId::from(span.id.to_u64()),
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        ),
        parent_span_id: span
            .parent_id
            .map_or(OtelSpanId::INVALID, |p| OtelSpanId::from(p.to_u64())),
        parent_span_is_remote: span.shared,
        span_kind: match span.kind {
            Some(Kind::Client) => SpanKind::Client,
            Some(Kind::Server) => SpanKind::Server,
            Some(Kind::Producer) => SpanKind::Producer,
            Some(Kind::Consumer) => SpanKind::Consumer,
            None => SpanKind::Internal,
        },
        name: span.name.clone(),
        start_time: start,
        end_time: start + Duration::from_micros(span.duration.max(1)),
        attributes,
        dropped_attributes_count: 0,
        events,
        links: SpanLinks::default(),
        status: match span.tag("error") {
            Some(e) => Status::error(e.to_string()),
            None => Status::Unset,
        },
        instrumentation_scope: scope.clone(),
    }
}

impl Transport for OtlpTransport {
    fn send(&mut self, message: &Message<'_>, _timeout: Duration) -> Result<(), SendError> {
        let scope = InstrumentationScope::builder("trace-exporter")
            .with_version(env!("CARGO_PKG_VERSION"))
            .build();
        // Group by service: OTLP carries the service name on the resource.
        let mut groups: Vec<(Arc<str>, Vec<SpanData>)> = Vec::new();
        for span in message.spans() {
            let service = span.service_name().unwrap_or(crate::DEFAULT_SERVICE_NAME);
            let data = to_span_data(span, &scope);
            match groups.iter_mut().find(|(s, _)| &**s == service) {
                Some((_, v)) => v.push(data),
                None => groups.push((Arc::from(service), vec![data])),
            }
        }
        let endpoint = self.endpoint.clone();
        let exporter = self.exporter()?;
        for (service, batch) in groups {
            exporter.set_resource(
                &Resource::builder_empty()
                    .with_service_name(service.to_string())
                    .build(),
            );
            futures::executor::block_on(exporter.export(batch))
                .map_err(|e| SendError::retryable(format!("OTLP {endpoint}: {e}")))?;
        }
        Ok(())
    }

    fn describe(&self) -> String {
        format!("otlp {}", self.endpoint)
    }
}

impl std::fmt::Debug for OtlpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtlpTransport")
            .field("endpoint", &self.endpoint)
            .finish()
    }
}
