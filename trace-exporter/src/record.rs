//! The span as recorded: a plain public struct, the unit every sink receives.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use trace_context::{SpanId, TraceId};

use crate::Tags;

/// Zipkin's span kind. Absent (`None` in [`SpanRecord::kind`]) means a local span.
///
/// ```
/// assert_eq!(trace_exporter::Kind::parse("Server"), Some(trace_exporter::Kind::Server));
/// assert_eq!(trace_exporter::Kind::Client.as_str(), "CLIENT");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// An outgoing request (timestamp = sent, duration = until the response arrived).
    Client,
    /// An incoming request (timestamp = received, duration = until the response was sent).
    Server,
    /// A message sent to a broker.
    Producer,
    /// A message received from a broker.
    Consumer,
}

impl Kind {
    /// Zipkin's spelling: `CLIENT`, `SERVER`, `PRODUCER`, `CONSUMER`.
    ///
    /// ```
    /// assert_eq!(trace_exporter::Kind::Producer.as_str(), "PRODUCER");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Client => "CLIENT",
            Kind::Server => "SERVER",
            Kind::Producer => "PRODUCER",
            Kind::Consumer => "CONSUMER",
        }
    }

    /// Reads a kind in any case (`server`, `SERVER`...); anything else is `None`.
    ///
    /// ```
    /// assert_eq!(trace_exporter::Kind::parse("internal"), None);
    /// ```
    pub fn parse(text: &str) -> Option<Kind> {
        // The spellings trace-tower and trace-reqwest use, without the case-folding search.
        match text {
            "server" => return Some(Kind::Server),
            "client" => return Some(Kind::Client),
            _ => {}
        }
        let t = text.trim();
        [Kind::Client, Kind::Server, Kind::Producer, Kind::Consumer]
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(t))
    }
}

/// The network context of a span's side: Zipkin's `Endpoint`.
///
/// ```
/// let e = trace_exporter::Endpoint::service("order").with_port(8080);
/// assert_eq!(e.service_name.as_deref(), Some("order"));
/// assert!(!e.is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Endpoint {
    /// The service name (Zipkin lower-cases it).
    pub service_name: Option<String>,
    /// The IPv4 address.
    pub ipv4: Option<Ipv4Addr>,
    /// The IPv6 address.
    pub ipv6: Option<Ipv6Addr>,
    /// The port (0 is never written: Zipkin rejects it).
    pub port: Option<u16>,
}

impl Endpoint {
    /// An endpoint with only a service name.
    ///
    /// ```
    /// assert_eq!(trace_exporter::Endpoint::service("a").service_name.unwrap(), "a");
    /// ```
    pub fn service(name: impl Into<String>) -> Self {
        Endpoint {
            service_name: Some(name.into()),
            ..Endpoint::default()
        }
    }

    /// This endpoint with an address (IPv4-mapped IPv6 addresses are written as IPv4).
    ///
    /// ```
    /// let e = trace_exporter::Endpoint::default().with_ip("127.0.0.1".parse().unwrap());
    /// assert_eq!(e.ipv4, Some(std::net::Ipv4Addr::LOCALHOST));
    /// ```
    pub fn with_ip(mut self, ip: IpAddr) -> Self {
        self.set_ip(ip);
        self
    }

    /// Sets the address (IPv4-mapped IPv6 addresses are stored as IPv4).
    ///
    /// ```
    /// let mut e = trace_exporter::Endpoint::default();
    /// e.set_ip("::ffff:10.0.0.1".parse().unwrap());
    /// assert_eq!(e.ipv4, Some("10.0.0.1".parse().unwrap()));
    /// ```
    pub fn set_ip(&mut self, ip: IpAddr) {
        match ip {
            IpAddr::V4(v4) => self.ipv4 = Some(v4),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => self.ipv4 = Some(v4),
                None => self.ipv6 = Some(v6),
            },
        }
    }

    /// This endpoint with a port (0 means unknown and is dropped).
    ///
    /// ```
    /// assert_eq!(trace_exporter::Endpoint::default().with_port(0).port, None);
    /// ```
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = (port != 0).then_some(port);
        self
    }

    /// True when nothing is known (such an endpoint is not written).
    ///
    /// ```
    /// assert!(trace_exporter::Endpoint::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.service_name.as_deref().is_none_or(str::is_empty)
            && self.ipv4.is_none()
            && self.ipv6.is_none()
            && self.port.is_none_or(|p| p == 0)
    }
}

/// An event inside a span: Zipkin's `Annotation`.
///
/// ```
/// let a = trace_exporter::Annotation { timestamp: 1_700_000_000_000_000, value: "cache miss".into() };
/// assert_eq!(a.value, "cache miss");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation {
    /// Epoch microseconds.
    pub timestamp: u64,
    /// What happened.
    pub value: String,
}

/// Span records as they travel: each boxed once by the recorder, then moved by pointer from the
/// queue to the encoder, the transport and back to the recorder's pool.
#[allow(
    clippy::vec_box,
    reason = "spans travel boxed: the recorder fills a box once and it moves by pointer from queue to transport to the pool"
)]
pub(crate) type Records = Vec<Box<SpanRecord>>;

/// A finished span, as the recorder hands it to a sink: what Zipkin v2 calls a `Span`.
///
/// The [`crate::MemorySink`] returns these; [`SpanRecord::to_json`] gives the Zipkin v2 JSON.
///
/// ```
/// use std::sync::Arc;
/// use trace_exporter::{Endpoint, Kind, SpanRecord};
/// let mut span = SpanRecord::new(
///     trace_context::TraceId::from_u128(0xab).unwrap(),
///     trace_context::SpanId::from_u64(0xcd).unwrap(),
///     "get /order/{id}",
///     Arc::new(Endpoint::service("order")),
/// );
/// span.kind = Some(Kind::Server);
/// span.timestamp = 1_700_000_000_000_000;
/// span.duration = 1500;
/// span.set_tag("http.method", "GET");
/// assert_eq!(span.tag("http.method"), Some("GET"));
/// assert!(span.to_json().starts_with(r#"{"traceId":"00000000000000ab","id":"00000000000000cd","kind":"SERVER""#));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanRecord {
    /// The trace id (written as 16 hex digits when its high 64 bits are zero, else 32).
    pub trace_id: TraceId,
    /// This span's id.
    pub id: SpanId,
    /// The parent span's id; `None` on a root span.
    pub parent_id: Option<SpanId>,
    /// Server, client, producer, consumer; `None` for a local span.
    pub kind: Option<Kind>,
    /// The operation name (Zipkin lower-cases it).
    pub name: Cow<'static, str>,
    /// Start, epoch microseconds (0 = unknown, not written).
    pub timestamp: u64,
    /// Duration in microseconds (written as at least 1).
    pub duration: u64,
    /// The service that recorded the span (shared by its spans).
    pub local_endpoint: Arc<Endpoint>,
    /// The other side of an RPC, when known.
    pub remote_endpoint: Option<Endpoint>,
    /// Tags, in the order they were first recorded.
    pub tags: Tags,
    /// Events inside the span.
    pub annotations: Vec<Annotation>,
    /// A server span continuing a span id received from its caller.
    pub shared: bool,
    /// B3 debug: store regardless of sampling.
    pub debug: bool,
}

impl SpanRecord {
    /// A span with ids, name and local endpoint; everything else empty.
    ///
    /// ```
    /// let s = trace_exporter::SpanRecord::new(
    ///     trace_context::TraceId::random(), trace_context::SpanId::random(), "work",
    ///     std::sync::Arc::new(trace_exporter::Endpoint::service("svc")));
    /// assert!(s.parent_id.is_none());
    /// ```
    pub fn new(
        trace_id: TraceId,
        id: SpanId,
        name: impl Into<Cow<'static, str>>,
        local_endpoint: Arc<Endpoint>,
    ) -> Self {
        SpanRecord {
            trace_id,
            id,
            parent_id: None,
            kind: None,
            name: name.into(),
            timestamp: 0,
            duration: 0,
            local_endpoint,
            remote_endpoint: None,
            tags: Tags::default(),
            annotations: Vec::new(),
            shared: false,
            debug: false,
        }
    }

    /// A tag's value.
    ///
    /// ```
    /// # let mut s = trace_exporter::SpanRecord::new(trace_context::TraceId::random(),
    /// #     trace_context::SpanId::random(), "w", Default::default());
    /// s.set_tag("error", "true");
    /// assert_eq!(s.tag("error"), Some("true"));
    /// ```
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags.get(key)
    }

    /// Sets a tag, replacing an earlier value for the same key.
    ///
    /// ```
    /// # let mut s = trace_exporter::SpanRecord::new(trace_context::TraceId::random(),
    /// #     trace_context::SpanId::random(), "w", Default::default());
    /// s.set_tag("k", "1");
    /// s.set_tag("k", "2");
    /// assert_eq!(s.tags.len(), 1);
    /// assert_eq!(s.tag("k"), Some("2"));
    /// ```
    pub fn set_tag(&mut self, key: impl AsRef<str>, value: impl AsRef<str>) {
        self.tags.set(key, value.as_ref());
    }

    /// The service name written in `localEndpoint`.
    ///
    /// ```
    /// let s = trace_exporter::SpanRecord::new(trace_context::TraceId::random(),
    ///     trace_context::SpanId::random(), "w",
    ///     std::sync::Arc::new(trace_exporter::Endpoint::service("shop")));
    /// assert_eq!(s.service_name(), Some("shop"));
    /// ```
    pub fn service_name(&self) -> Option<&str> {
        self.local_endpoint.service_name.as_deref()
    }

    /// The end, epoch microseconds.
    ///
    /// ```
    /// # let mut s = trace_exporter::SpanRecord::new(trace_context::TraceId::random(),
    /// #     trace_context::SpanId::random(), "w", Default::default());
    /// s.timestamp = 10;
    /// s.duration = 5;
    /// assert_eq!(s.end(), 15);
    /// ```
    pub fn end(&self) -> u64 {
        self.timestamp.saturating_add(self.duration.max(1))
    }

    /// The Zipkin v2 JSON of this span (one object).
    ///
    /// ```
    /// # let s = trace_exporter::SpanRecord::new(trace_context::TraceId::random(),
    /// #     trace_context::SpanId::random(), "w", Default::default());
    /// assert!(s.to_json().starts_with('{'));
    /// ```
    pub fn to_json(&self) -> String {
        let mut out = Vec::with_capacity(256);
        crate::encode::encode_span(self, &mut out);
        // The encoder writes only valid UTF-8 (escaped copies of `str` data and ASCII).
        String::from_utf8(out).unwrap_or_default()
    }

    /// A cheap upper-bound estimate of the memory this span holds, for the reporter's byte
    /// bound.
    pub(crate) fn size_estimate(&self) -> usize {
        let tags = self.tags.heap_size();
        let annotations: usize = self.annotations.iter().map(|a| a.value.len() + 40).sum();
        let remote = self
            .remote_endpoint
            .as_ref()
            .map_or(0, |e| e.service_name.as_ref().map_or(0, String::len) + 48);
        std::mem::size_of::<SpanRecord>() + self.name.len() + tags + annotations + remote
    }
}
