//! Span fields and event fields: what each known name means for the Zipkin span.

use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::net::IpAddr;

use tracing_core::field::{Field, Visit};

use crate::{Endpoint, Kind, SpanRecord};

/// The field naming the span's kind (`server`, `client`, `producer`, `consumer`).
pub const FIELD_SPAN_KIND: &str = "span.kind";
/// The field naming the service that owns a span and its descendants.
pub const FIELD_SERVICE_NAME: &str = "service.name";
/// Longest tag value kept, in bytes (longer values are cut on a character boundary).
pub const MAX_TAG_VALUE: usize = 4096;

/// The recording of a span in progress (kept in the span's extensions).
pub(crate) struct Recording {
    pub(crate) span: SpanRecord,
    pub(crate) start: std::time::Instant,
    pub(crate) method: Option<String>,
    pub(crate) route: Option<String>,
    /// A `service.name` field of this span's own, not yet resolved to an endpoint.
    pub(crate) service: Option<String>,
}

impl Recording {
    fn remote(&mut self) -> &mut Endpoint {
        self.span
            .remote_endpoint
            .get_or_insert_with(Endpoint::default)
    }

    fn set(&mut self, name: &'static str, value: Value<'_>) {
        match name {
            FIELD_SPAN_KIND => self.span.kind = Kind::parse(&value.text()),
            FIELD_SERVICE_NAME => {
                let text = value.text();
                let text = text.trim();
                if !text.is_empty() {
                    self.service = Some(bounded(text).into_owned());
                }
            }
            "net.peer.name" | "net.peer.ip" | "server.address" | "client.address" => {
                let text = value.text();
                match text
                    .trim()
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<IpAddr>()
                {
                    Ok(ip) => self.remote().set_ip(ip),
                    Err(_) if !text.trim().is_empty() => {
                        self.remote().service_name = Some(bounded(text.trim()).into_owned())
                    }
                    Err(_) => {}
                }
            }
            "net.peer.port" | "server.port" | "client.port" => {
                if let Ok(port) = value.text().trim().parse::<u16>() {
                    self.remote().port = (port != 0).then_some(port);
                }
            }
            "error" => match value {
                Value::Bool(false) => {}
                other => self
                    .span
                    .set_tag("error", bounded(&other.text()).into_owned()),
            },
            _ => {
                let text = value.text();
                if name == "http.method" {
                    self.method = Some(text.to_ascii_lowercase());
                } else if name == "http.route" {
                    self.route = Some(text.to_string());
                }
                self.span.set_tag(name, bounded(&text).into_owned());
            }
        }
    }
}

/// A field value, formatted only when used.
pub(crate) enum Value<'a> {
    Str(&'a str),
    Bool(bool),
    Other(String),
}

impl Value<'_> {
    fn text(&self) -> Cow<'_, str> {
        match self {
            Value::Str(s) => Cow::Borrowed(s),
            Value::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
            Value::Other(s) => Cow::Borrowed(s),
        }
    }
}

/// Cuts a value to [`MAX_TAG_VALUE`] bytes on a character boundary.
pub(crate) fn bounded(s: &str) -> Cow<'_, str> {
    if s.len() <= MAX_TAG_VALUE {
        return Cow::Borrowed(s);
    }
    let mut end = MAX_TAG_VALUE;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Borrowed(&s[..end])
}

/// Visits span fields into a [`Recording`].
pub(crate) struct SpanVisitor<'a>(pub(crate) &'a mut Recording);

impl Visit for SpanVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.set(field.name(), Value::Str(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.set(field.name(), Value::Bool(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.set(field.name(), Value::Other(value.to_string()));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.set(field.name(), Value::Other(value.to_string()));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.set(field.name(), Value::Other(value.to_string()));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0.set(field.name(), Value::Other(value.to_string()));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.set(field.name(), Value::Other(format!("{value:?}")));
    }
}

/// Visits an event's fields into one annotation text: the message, then ` key=value` pairs.
#[derive(Default)]
pub(crate) struct EventVisitor {
    pub(crate) message: String,
    pub(crate) rest: String,
}

impl EventVisitor {
    pub(crate) fn finish(mut self) -> String {
        if !self.rest.is_empty() {
            if !self.message.is_empty() {
                self.message.push(' ');
            }
            self.message.push_str(&self.rest);
        }
        bounded(&self.message).into_owned()
    }

    fn pair(&mut self, field: &Field, value: fmt::Arguments<'_>) {
        if field.name() == "message" {
            let _ = self.message.write_fmt(value);
            return;
        }
        if !self.rest.is_empty() {
            self.rest.push(' ');
        }
        let _ = write!(self.rest, "{}={}", field.name(), value);
    }
}

impl Visit for EventVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.pair(field, format_args!("{value}"));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.pair(field, format_args!("{value:?}"));
    }
}
