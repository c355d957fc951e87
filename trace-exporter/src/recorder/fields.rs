//! Span fields and event fields: what each known name means for the Zipkin span.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt::{self, Write as _};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::SystemTime;

use tracing_core::field::{Field, Visit};

use crate::tags::{Known, Name};
use crate::{Endpoint, Kind, SpanRecord};

/// The field naming the span's kind (`server`, `client`, `producer`, `consumer`).
pub const FIELD_SPAN_KIND: &str = "span.kind";
/// The field naming the service that owns a span and its descendants.
pub const FIELD_SERVICE_NAME: &str = "service.name";
/// Longest tag value kept, in bytes (longer values are cut on a character boundary).
pub const MAX_TAG_VALUE: usize = 4096;

/// The recording of a span in progress (kept in the layer's table, by span id).
pub(crate) struct Recording {
    /// Boxed once (usually a recycled box): it goes to the sink's queue as it is.
    pub(crate) span: Box<SpanRecord>,
    pub(crate) start: SystemTime,
    /// True while the span's own attributes are recorded: their names are unique and no tag
    /// is set yet, so no earlier value needs replacing.
    pub(crate) fresh: bool,
    /// An `http.method` / `http.route` tag was stored (naming the span when it closes looks
    /// them up only in unusual cases).
    pub(crate) has_method: bool,
    pub(crate) has_route: bool,
    /// The recycled record's name buffer, for a `"get /order/{id}"` name.
    pub(crate) name_buf: Option<String>,
    /// The recycled record's remote service name buffer, for `net.peer.name`.
    pub(crate) peer_buf: Option<String>,
    /// The lower-case `http.method`, when the current value is a standard method as text.
    pub(crate) method_lower: Option<&'static str>,
    /// `name_buf` holds `"<method> <route>"` for the current `http.method` and `http.route`
    /// (written when the route is recorded, while its text is at hand: closing the span then
    /// needs no tag lookup).
    pub(crate) name_ready: bool,
    /// A `service.name` field set the local endpoint (no need to inherit an ancestor's).
    pub(crate) service_set: bool,
}

/// A field value as `tracing` hands it over.
#[derive(Clone, Copy)]
pub(crate) enum Value<'a> {
    Str(&'a str),
    Bool(bool),
    U64(u64),
    I64(i64),
    Debug(&'a dyn fmt::Debug),
}

impl<'a> Value<'a> {
    /// The text as stored in a tag, when the value is text.
    fn as_str(&self) -> Option<&'a str> {
        match *self {
            Value::Str(s) => Some(bounded_str(s)),
            _ => None,
        }
    }

    /// The value as text (allocates only for numbers and formatted values).
    fn text(&self) -> Cow<'_, str> {
        match self {
            Value::Str(s) => Cow::Borrowed(s),
            Value::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
            Value::U64(n) => Cow::Owned(n.to_string()),
            Value::I64(n) => Cow::Owned(n.to_string()),
            Value::Debug(d) => Cow::Owned(format!("{d:?}")),
        }
    }
}

impl Recording {
    fn remote(&mut self) -> &mut Endpoint {
        self.span
            .remote_endpoint
            .get_or_insert_with(Endpoint::default)
    }

    /// Records a formatted value (`%method`, `%url`, `display(ip)`). A tag (`%url`, `%method`)
    /// is formatted straight into the tag buffer (the method then read back from there for
    /// the span's name); a value read as something else (an address, a port, a kind) is
    /// written once into a stack buffer and handled as text, without an allocation (formatted
    /// into the tag buffer when longer than the stack buffer).
    fn set_debug(&mut self, name: &'static str, value: &dyn fmt::Debug, services: &dyn Services) {
        let role = role(name);
        match role {
            Role::Tag => {
                self.tag(Name::Field(name), Value::Debug(value), self.fresh);
                return;
            }
            Role::Known(k) => {
                self.tag(Name::Known(k), Value::Debug(value), self.fresh);
                return;
            }
            Role::Error => {
                self.tag(Name::Known(Known::Error), Value::Debug(value), self.fresh);
                return;
            }
            Role::AppTraceId => {
                self.tag(Name::Known(Known::AppTraceId), Value::Debug(value), false);
                return;
            }
            Role::Method => {
                if self.tag(
                    Name::Known(Known::HttpMethod),
                    Value::Debug(value),
                    self.fresh,
                ) {
                    self.method_lower = lower_method(self.span.tags.last_value());
                    self.has_method = true;
                    self.name_ready = false;
                }
                return;
            }
            _ => {}
        }
        let mut text = StackText::new();
        if write!(text, "{value:?}").is_ok() {
            return self.set(name, Value::Str(text.as_str()), services);
        }
        self.set(name, Value::Debug(value), services)
    }

    pub(crate) fn set(&mut self, name: &'static str, value: Value<'_>, services: &dyn Services) {
        match role(name) {
            Role::Tag => {
                self.tag(Name::Field(name), value, self.fresh);
            }
            Role::Known(k) => {
                self.tag(Name::Known(k), value, self.fresh);
            }
            // It may already hold the context's application id.
            Role::AppTraceId => {
                self.tag(Name::Known(Known::AppTraceId), value, false);
            }
            Role::Method => {
                let text = value.as_str();
                if self.tag(Name::Known(Known::HttpMethod), value, self.fresh) {
                    self.method_lower = text.and_then(|m| lower_method(m.as_bytes()));
                    self.has_method = true;
                    self.name_ready = false;
                }
            }
            Role::Route => {
                let text = value.as_str();
                if self.tag(Name::Known(Known::HttpRoute), value, self.fresh) {
                    self.has_route = true;
                    self.name_ready = false;
                    if let (Some(method), Some(route)) = (self.method_lower, text) {
                        self.write_name(method, route);
                    }
                }
            }
            Role::Kind => self.span.kind = Kind::parse(&value.text()),
            Role::Service => {
                let text = value.text();
                let text = text.trim();
                if !text.is_empty() {
                    // Resolved at once from the borrowed text: no copy of the name per span.
                    self.span.local_endpoint = services.endpoint(&bounded(text));
                    self.service_set = true;
                }
            }
            Role::Peer => {
                let text = value.text();
                let text = text.trim();
                match text
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<IpAddr>()
                {
                    Ok(ip) => self.remote().set_ip(ip),
                    Err(_) if !text.is_empty() => {
                        let mut peer = self.peer_buf.take().unwrap_or_default();
                        peer.clear();
                        peer.push_str(&bounded(text));
                        self.remote().service_name = Some(peer);
                    }
                    Err(_) => {}
                }
            }
            Role::Port => {
                let port = match value {
                    Value::U64(n) => u16::try_from(n).ok(),
                    Value::I64(n) => u16::try_from(n).ok(),
                    _ => value.text().trim().parse::<u16>().ok(),
                };
                if let Some(port) = port {
                    self.remote().port = (port != 0).then_some(port);
                }
            }
            Role::Error if matches!(value, Value::Bool(false)) => {}
            Role::Error => {
                self.tag(Name::Known(Known::Error), value, self.fresh);
            }
        }
    }

    /// Stores a value as a tag (`unique`: known not to be set yet), without an allocation of
    /// its own. False when it was not stored.
    #[inline(always)]
    fn tag(&mut self, name: Name, value: Value<'_>, unique: bool) -> bool {
        let tags = &mut self.span.tags;
        match value {
            Value::Str(s) => tags.insert(name, bounded_str(s), unique),
            Value::Bool(b) => tags.insert(name, if b { "true" } else { "false" }, unique),
            Value::U64(n) => tags.insert(name, itoa::Buffer::new().format(n), unique),
            Value::I64(n) => tags.insert(name, itoa::Buffer::new().format(n), unique),
            Value::Debug(d) => tags.insert_fmt(name, format_args!("{d:?}"), MAX_TAG_VALUE, unique),
        }
    }

    /// Writes `"<method> <route>"` into the name buffer.
    fn write_name(&mut self, method: &'static str, route: &str) {
        if route.is_empty() {
            return;
        }
        let len = method.len() + 1 + route.len();
        let buf = self
            .name_buf
            .get_or_insert_with(|| super::pool::take_string(len));
        buf.clear();
        buf.push_str(method);
        buf.push(' ');
        buf.push_str(route);
        self.name_ready = true;
    }

    /// Brave's name for a server or client span, once the span is closed: the name written
    /// when the route was recorded, else the lower-case method (and route) from the tags.
    /// `None` when the span has no `http.method` (it keeps its `tracing` name).
    pub(crate) fn rpc_name(&mut self, kind: Kind) -> Option<Cow<'static, str>> {
        if kind == Kind::Server && self.name_ready {
            return self.name_buf.take().map(Cow::Owned);
        }
        if let Some(method) = self.method_lower {
            if kind != Kind::Server || !self.has_route {
                return Some(Cow::Borrowed(method));
            }
        }
        // Unusual spans: a method outside the table, a route before the method, values
        // recorded as numbers or `Debug`.
        if !self.has_method {
            return None;
        }
        let tags = &self.span.tags;
        let method = tags.get("http.method")?;
        let route = tags.get("http.route").filter(|_| self.has_route);
        Some(rpc_name(kind, method, route, &mut self.name_buf))
    }
}

/// Bytes of a formatted field value written on the stack; longer values are formatted
/// straight into the tag buffer instead.
const STACK_TEXT: usize = 256;

/// A formatted value on the stack: `write!` fails once it is full.
pub(crate) struct StackText {
    buf: [u8; STACK_TEXT],
    len: usize,
}

impl StackText {
    pub(crate) fn new() -> Self {
        StackText {
            buf: [0; STACK_TEXT],
            len: 0,
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        // Only whole `&str`s are ever copied in, so this never fails.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

impl fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let dest = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
        dest.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Cuts a value to [`MAX_TAG_VALUE`] bytes on a character boundary.
pub(crate) fn bounded(s: &str) -> Cow<'_, str> {
    Cow::Borrowed(bounded_str(s))
}

/// [`bounded`] as a plain `&str`.
#[inline]
fn bounded_str(s: &str) -> &str {
    if s.len() <= MAX_TAG_VALUE {
        return s;
    }
    let mut end = MAX_TAG_VALUE;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// What a span field means for the Zipkin span.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Role {
    /// A plain tag under the field's name.
    Tag,
    /// A tag with a well-known name (kept as a code).
    Known(Known),
    /// `http.method`: a tag, and the span's name.
    Method,
    /// `http.route`: a tag, and the server span's name.
    Route,
    /// `app.trace_id`: a tag that may already hold the context's application id.
    AppTraceId,
    /// `span.kind`.
    Kind,
    /// `service.name`: the local endpoint.
    Service,
    /// `net.peer.name` and its aliases: the remote endpoint's address or name.
    Peer,
    /// `net.peer.port` and its aliases: the remote endpoint's port.
    Port,
    /// `error`: a tag unless `false`.
    Error,
}

/// The role of a field name: one `match` (compiled to length checks and word compares, the
/// HTTP names first).
#[inline(always)]
fn role(name: &str) -> Role {
    match name {
        "http.method" => Role::Method,
        "http.route" => Role::Route,
        "http.path" => Role::Known(Known::HttpPath),
        "http.status_code" => Role::Known(Known::HttpStatusCode),
        "http.url" => Role::Known(Known::HttpUrl),
        FIELD_SPAN_KIND => Role::Kind,
        FIELD_SERVICE_NAME => Role::Service,
        "error" => Role::Error,
        "app.trace_id" => Role::AppTraceId,
        "net.peer.name" | "net.peer.ip" | "server.address" | "client.address" => Role::Peer,
        "net.peer.port" | "server.port" | "client.port" => Role::Port,
        _ => Role::Tag,
    }
}

/// The local endpoint of a named service (the layer's shared endpoints).
pub(crate) trait Services {
    /// The endpoint for `service`, shared by all its spans.
    fn endpoint(&self, service: &str) -> Arc<Endpoint>;
}

/// Visits span fields into a [`Recording`].
pub(crate) struct SpanVisitor<'a> {
    pub(crate) rec: &'a mut Recording,
    pub(crate) services: &'a dyn Services,
}

impl Visit for SpanVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.rec.set(field.name(), Value::Str(value), self.services);
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.rec
            .set(field.name(), Value::Bool(value), self.services);
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.rec.set(field.name(), Value::I64(value), self.services);
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.rec.set(field.name(), Value::U64(value), self.services);
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        let value = DisplayAsDebug(value);
        self.rec.set_debug(field.name(), &value, self.services);
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.rec.set_debug(field.name(), value, self.services);
    }
}

/// The values of one `record` call on a span, read before the span's recording is locked.
///
/// Formatting a value (`Debug`, `Display`, an error) runs user code, which must not run under
/// the recorder's table lock: it may log (re-entering the recorder on this thread) or wait for
/// another thread that is itself recording a span. The values are copied out first (the first
/// few on the stack, texts into one reused buffer), then applied to the recording under the
/// lock.
pub(crate) struct PendingFields {
    inline: [(&'static str, Pending); PENDING_INLINE],
    len: usize,
    /// Values past the first [`PENDING_INLINE`].
    more: Vec<(&'static str, Pending)>,
    /// Texts and formatted values, taken from this thread's spare buffer when first needed.
    text: Option<String>,
}

/// Values kept on the stack (a `record` call sets one or two fields, as a rule).
const PENDING_INLINE: usize = 4;

/// One value of [`PendingFields`].
#[derive(Clone, Copy)]
enum Pending {
    /// A range of the text buffer.
    Text(usize, usize),
    Bool(bool),
    U64(u64),
    I64(i64),
}

impl Pending {
    /// The value, its text read from `text`.
    #[inline]
    fn read(self, text: &str) -> Value<'_> {
        match self {
            Pending::Text(start, end) => Value::Str(text.get(start..end).unwrap_or("")),
            Pending::Bool(b) => Value::Bool(b),
            Pending::U64(n) => Value::U64(n),
            Pending::I64(n) => Value::I64(n),
        }
    }
}

thread_local! {
    /// This thread's spare text buffer (taken while in use: a re-entered `record` gets a new
    /// one).
    static SPARE_TEXT: Cell<Option<String>> = const { Cell::new(None) };
}

/// Text buffers larger than this are not kept for the next `record` call.
const PENDING_KEEP: usize = 4 * MAX_TAG_VALUE;

impl PendingFields {
    pub(crate) fn new() -> Self {
        PendingFields {
            inline: [("", Pending::Bool(false)); PENDING_INLINE],
            len: 0,
            more: Vec::new(),
            text: None,
        }
    }

    /// Keeps the text buffer for this thread's next `record` call.
    #[inline]
    pub(crate) fn finish(&mut self) {
        if let Some(mut text) = self.text.take() {
            if text.capacity() <= PENDING_KEEP {
                text.clear();
                let _ = SPARE_TEXT.try_with(|spare| spare.set(Some(text)));
            }
        }
    }

    /// Records the values into `rec` (no user code runs here).
    #[inline]
    pub(crate) fn apply(&self, rec: &mut Recording, services: &dyn Services) {
        let text = self.text.as_deref().unwrap_or("");
        let inline = &self.inline[..self.len.min(PENDING_INLINE)];
        for &(name, value) in inline {
            rec.set(name, value.read(text), services);
        }
        for &(name, value) in &self.more {
            rec.set(name, value.read(text), services);
        }
    }

    #[inline]
    fn push(&mut self, field: &Field, value: Pending) {
        match self.inline.get_mut(self.len) {
            Some(slot) => *slot = (field.name(), value),
            None => self.more.push((field.name(), value)),
        }
        self.len += 1;
    }

    fn push_text(&mut self, field: &Field, write: impl FnOnce(&mut String)) {
        let text = self.text.get_or_insert_with(|| {
            SPARE_TEXT
                .try_with(Cell::take)
                .ok()
                .flatten()
                .unwrap_or_default()
        });
        let start = text.len();
        write(text);
        // Cut as a tag would be: the rest is never stored.
        let end = start + bounded(&text[start..]).len();
        text.truncate(end);
        self.push(field, Pending::Text(start, end));
    }
}

impl Visit for PendingFields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.push_text(field, |t| t.push_str(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.push(field, Pending::Bool(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.push(field, Pending::I64(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.push(field, Pending::U64(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.push_text(field, |t| {
            let _ = write!(t, "{value}");
        });
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.push_text(field, |t| {
            let _ = write!(t, "{value:?}");
        });
    }
}

/// Formats an error with `Display` where a `Debug` is expected.
struct DisplayAsDebug<'a>(&'a (dyn std::error::Error + 'static));

impl fmt::Debug for DisplayAsDebug<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.0, f)
    }
}

/// The starting capacity of an annotation's text (most log lines fit).
const EVENT_TEXT: usize = 128;

/// Visits an event's fields into one annotation text: the message, then ` key=value` pairs,
/// written straight into one (recycled) buffer.
pub(crate) struct EventVisitor {
    text: String,
}

impl EventVisitor {
    pub(crate) fn new() -> Self {
        EventVisitor {
            text: super::pool::take_string(EVENT_TEXT),
        }
    }

    pub(crate) fn finish(mut self) -> String {
        if self.text.len() > MAX_TAG_VALUE {
            let end = bounded(&self.text).len();
            self.text.truncate(end);
        }
        self.text
    }

    fn pair(&mut self, field: &Field, value: fmt::Arguments<'_>) {
        if field.name() == "message" {
            if self.text.is_empty() {
                let _ = self.text.write_fmt(value);
            } else {
                // Pairs came first (unusual field order): the message still goes in front.
                let mut message = String::new();
                let _ = message.write_fmt(value);
                if !message.is_empty() {
                    message.push(' ');
                    self.text.insert_str(0, &message);
                }
            }
            return;
        }
        if !self.text.is_empty() {
            self.text.push(' ');
        }
        self.text.push_str(field.name());
        self.text.push('=');
        let _ = self.text.write_fmt(value);
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

/// The standard HTTP methods and their lower-case names.
const METHODS: [(&str, &str); 9] = [
    ("GET", "get"),
    ("POST", "post"),
    ("PUT", "put"),
    ("DELETE", "delete"),
    ("PATCH", "patch"),
    ("HEAD", "head"),
    ("OPTIONS", "options"),
    ("TRACE", "trace"),
    ("CONNECT", "connect"),
];

/// The lower-case name of a standard method, in any case.
fn lower_method(method: &[u8]) -> Option<&'static str> {
    // The usual spelling (`http::Method`'s): one jump on the length, one word compare.
    let exact = match method {
        b"GET" => Some("get"),
        b"POST" => Some("post"),
        b"PUT" => Some("put"),
        b"DELETE" => Some("delete"),
        b"PATCH" => Some("patch"),
        _ => None,
    };
    if exact.is_some() {
        return exact;
    }
    METHODS
        .iter()
        .find(|(m, _)| m.as_bytes().eq_ignore_ascii_case(method))
        .map(|(_, l)| *l)
}

/// Brave's span name: lower-case method, plus the route for a server span.
/// `buf` is a spare buffer for the name (else one comes from the pool).
fn rpc_name(
    kind: Kind,
    method: &str,
    route: Option<&str>,
    buf: &mut Option<String>,
) -> Cow<'static, str> {
    let lower: Cow<'static, str> = match lower_method(method.as_bytes()) {
        Some(l) => Cow::Borrowed(l),
        None => Cow::Owned(method.to_ascii_lowercase()),
    };
    match route.filter(|r| !r.is_empty()) {
        Some(route) if kind == Kind::Server => {
            let len = lower.len() + 1 + route.len();
            let mut name = match buf.take() {
                Some(mut b) => {
                    b.clear();
                    b.reserve(len);
                    b
                }
                None => super::pool::take_string(len),
            };
            name.push_str(&lower);
            name.push(' ');
            name.push_str(route);
            Cow::Owned(name)
        }
        _ => lower,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_in_any_case() {
        for (upper, lower) in METHODS {
            assert_eq!(lower_method(upper.as_bytes()), Some(lower));
            assert_eq!(lower_method(lower.as_bytes()), Some(lower));
            let mixed: String = upper
                .chars()
                .enumerate()
                .map(|(i, c)| {
                    if i % 2 == 0 {
                        c
                    } else {
                        c.to_ascii_lowercase()
                    }
                })
                .collect();
            assert_eq!(lower_method(mixed.as_bytes()), Some(lower));
        }
        for other in ["", "GE", "GETS", "PROPFIND", "get "] {
            assert_eq!(lower_method(other.as_bytes()), None, "{other:?}");
        }
    }

    #[test]
    fn roles_of_names() {
        let cases = [
            ("http.method", Role::Method),
            ("http.route", Role::Route),
            ("http.path", Role::Known(Known::HttpPath)),
            ("http.status_code", Role::Known(Known::HttpStatusCode)),
            ("http.url", Role::Known(Known::HttpUrl)),
            ("span.kind", Role::Kind),
            ("service.name", Role::Service),
            ("error", Role::Error),
            ("app.trace_id", Role::AppTraceId),
            ("net.peer.name", Role::Peer),
            ("net.peer.ip", Role::Peer),
            ("server.address", Role::Peer),
            ("client.address", Role::Peer),
            ("net.peer.port", Role::Port),
            ("server.port", Role::Port),
            ("client.port", Role::Port),
            ("http.methods", Role::Tag),
            ("http.", Role::Tag),
            ("errors", Role::Tag),
            ("", Role::Tag),
            ("order", Role::Tag),
        ];
        for (name, role_of) in cases {
            assert_eq!(role(name), role_of, "{name}");
        }
        // Known roles name the same tag.
        for (name, r) in cases {
            if let Role::Known(k) = r {
                assert_eq!(k.name(), name);
            }
        }
    }
}
