//! OpenTelemetry `SpanData` to [`SpanRecord`].

use std::fmt::Write as _;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{SpanKind, Status};
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::trace::SpanData;
use trace_context::{SpanId, TraceId};

use crate::{Annotation, Endpoint, Kind, SpanRecord};

/// Tag with the instrumentation scope's name (OpenTelemetry's Zipkin mapping).
pub const TAG_SCOPE_NAME: &str = "otel.scope.name";
/// Tag with the instrumentation scope's version.
pub const TAG_SCOPE_VERSION: &str = "otel.scope.version";
/// Tag with the span status (`OK`/`ERROR`) when set.
pub const TAG_STATUS_CODE: &str = "otel.status_code";

fn micros(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

fn text(v: &Value) -> String {
    crate::recorder::bounded(&v.to_string()).into_owned()
}

/// Converts one OpenTelemetry span; `None` when its ids are invalid (all zero).
///
/// `local` is the service's endpoint (a `service.name` attribute on the span overrides its
/// name). Span kind `Internal` is a local span (no `kind`); a server span whose parent was
/// remote is `shared`; `net.peer.*`/`server.*` attributes give `remoteEndpoint`; status
/// becomes `otel.status_code` and, on error, the `error` tag (the description, or `true`);
/// events become annotations (`name key=value ...`).
///
/// ```
/// use opentelemetry::trace::{SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState};
/// use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};
/// use std::time::{Duration, SystemTime};
///
/// let start = SystemTime::now();
/// let data = SpanData {
///     span_context: SpanContext::new(TraceId::from(7u128), SpanId::from(9u64),
///         TraceFlags::SAMPLED, false, TraceState::default()),
///     parent_span_id: SpanId::INVALID,
///     parent_span_is_remote: false,
///     span_kind: SpanKind::Server,
///     name: "GET /items".into(),
///     start_time: start,
///     end_time: start + Duration::from_millis(3),
///     attributes: vec![opentelemetry::KeyValue::new("http.status_code", 200)],
///     dropped_attributes_count: 0,
///     events: SpanEvents::default(),
///     links: SpanLinks::default(),
///     status: Status::Unset,
///     instrumentation_scope: Default::default(),
/// };
/// let local = std::sync::Arc::new(trace_exporter::Endpoint::service("items"));
/// let span = trace_exporter::otel::to_span_record(&data, &local).unwrap();
/// assert!(span.parent_id.is_none());
/// assert_eq!(span.duration, 3000);
/// assert_eq!(span.tag("http.status_code"), Some("200"));
/// ```
pub fn to_span_record(data: &SpanData, local: &Arc<Endpoint>) -> Option<SpanRecord> {
    let trace_id =
        TraceId::from_u128(u128::from_be_bytes(data.span_context.trace_id().to_bytes()))?;
    let id = SpanId::from_u64(u64::from_be_bytes(data.span_context.span_id().to_bytes()))?;
    let mut span = SpanRecord::new(trace_id, id, data.name.clone(), Arc::clone(local));
    span.parent_id = SpanId::from_u64(u64::from_be_bytes(data.parent_span_id.to_bytes()));
    span.kind = match data.span_kind {
        SpanKind::Client => Some(Kind::Client),
        SpanKind::Server => Some(Kind::Server),
        SpanKind::Producer => Some(Kind::Producer),
        SpanKind::Consumer => Some(Kind::Consumer),
        SpanKind::Internal => None,
    };
    span.timestamp = micros(data.start_time);
    span.duration = data
        .end_time
        .duration_since(data.start_time)
        .map_or(1, |d| (d.as_micros() as u64).max(1));
    span.shared =
        span.kind == Some(Kind::Server) && data.parent_span_is_remote && span.parent_id.is_some();
    let mut remote = Endpoint::default();
    for KeyValue { key, value, .. } in &data.attributes {
        match key.as_str() {
            "service.name" => {
                let name = value.to_string();
                if !name.trim().is_empty() {
                    span.local_endpoint = Arc::new(Endpoint {
                        service_name: Some(name.trim().to_string()),
                        ..(**local).clone()
                    });
                }
            }
            "span.kind" => {
                if let Some(kind) = Kind::parse(value.as_str().as_ref()) {
                    span.kind = Some(kind);
                }
            }
            "net.peer.name" | "net.peer.ip" | "server.address" | "network.peer.address" => {
                let v = value.to_string();
                match v
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<IpAddr>()
                {
                    Ok(ip) => remote.set_ip(ip),
                    Err(_) => remote.service_name = Some(v),
                }
                span.set_tag(key.as_str(), text(value));
            }
            "net.peer.port" | "server.port" | "network.peer.port" => {
                if let Ok(port) = value.to_string().parse::<u16>() {
                    remote = remote.with_port(port);
                }
                span.set_tag(key.as_str(), text(value));
            }
            k => span.set_tag(k, text(value)),
        }
    }
    if !remote.is_empty() {
        span.remote_endpoint = Some(remote);
    }
    let scope = &data.instrumentation_scope;
    if !scope.name().is_empty() {
        span.set_tag(TAG_SCOPE_NAME, scope.name());
    }
    if let Some(version) = scope.version() {
        span.set_tag(TAG_SCOPE_VERSION, version);
    }
    match &data.status {
        Status::Unset => {}
        Status::Ok => span.set_tag(TAG_STATUS_CODE, "OK"),
        Status::Error { description } => {
            span.set_tag(TAG_STATUS_CODE, "ERROR");
            let d = if description.is_empty() {
                "true"
            } else {
                description.as_ref()
            };
            span.set_tag("error", crate::recorder::bounded(d));
        }
    }
    for event in data.events.iter() {
        let mut value = event.name.to_string();
        for kv in &event.attributes {
            let _ = write!(value, " {}={}", kv.key, kv.value);
        }
        span.annotations.push(Annotation {
            timestamp: micros(event.timestamp),
            value: crate::recorder::bounded(&value).into_owned(),
        });
    }
    Some(span)
}
