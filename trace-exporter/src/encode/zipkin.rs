//! A [`SpanRecord`] as Zipkin v2 JSON (`zipkin2-api.yaml`, definitions/Span).

use std::sync::Arc;

use super::json::{self, JsonOut, LenCounter};
use crate::{Endpoint, SpanRecord};

/// The service name written when a span has none (Zipkin wants `localEndpoint.serviceName`).
pub(crate) const UNKNOWN_SERVICE: &str = "unknown_service";

/// Appends one span as a Zipkin v2 JSON object to `out`.
///
/// Ids are lower-case hex (the trace id as 16 digits when its high 64 bits are zero, else 32);
/// `parentId` is absent on a root span; `name` and `serviceName` are lower-cased as Zipkin
/// stores them; `duration` is at least 1; port 0 and empty endpoints are left out.
///
/// ```
/// let s = trace_exporter::SpanRecord::new(trace_context::TraceId::random(),
///     trace_context::SpanId::random(), "w", Default::default());
/// let mut buf = Vec::new();
/// trace_exporter::encode::encode_span(&s, &mut buf);
/// assert_eq!(buf.first(), Some(&b'{'));
/// ```
pub fn encode_span(span: &SpanRecord, out: &mut Vec<u8>) {
    write_span(span, out);
}

/// The exact number of bytes [`encode_span`] writes for `span`.
///
/// ```
/// let s = trace_exporter::SpanRecord::new(trace_context::TraceId::random(),
///     trace_context::SpanId::random(), "Ä\n", Default::default());
/// assert_eq!(trace_exporter::encode::encoded_len(&s), s.to_json().len());
/// ```
pub fn encoded_len(span: &SpanRecord) -> usize {
    let mut n = LenCounter::default();
    write_span(span, &mut n);
    n.len()
}

/// Appends a JSON array of spans (`ListOfSpans`) to `out` (spans or boxed spans).
///
/// ```
/// let mut buf = Vec::new();
/// trace_exporter::encode::encode_list::<trace_exporter::SpanRecord>(&[], &mut buf);
/// assert_eq!(buf, b"[]");
/// ```
pub fn encode_list<S: std::borrow::Borrow<SpanRecord>>(spans: &[S], out: &mut Vec<u8>) {
    let mut cache = EndpointCache::default();
    out.push(b'[');
    for (i, span) in spans.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        encode_span_cached(span.borrow(), out, &mut cache);
    }
    out.push(b']');
}

/// Writes one span to any [`JsonOut`].
///
/// ```
/// let s = trace_exporter::SpanRecord::new(trace_context::TraceId::random(),
///     trace_context::SpanId::random(), "w", Default::default());
/// let mut n = trace_exporter::encode::LenCounter::default();
/// trace_exporter::encode::write_span(&s, &mut n);
/// assert!(n.len() > 50);
/// ```
pub fn write_span<O: JsonOut>(span: &SpanRecord, out: &mut O) {
    write_span_with(span, out, None);
}

/// Remembers the encoding of the last local endpoint seen: the spans of one service share
/// one `Arc<Endpoint>` (or equal endpoints), so it is encoded once, not once per span.
#[derive(Default)]
pub(crate) struct EndpointCache {
    endpoint: Option<Arc<Endpoint>>,
    json: Vec<u8>,
}

impl EndpointCache {
    fn get(&mut self, endpoint: &Arc<Endpoint>) -> &[u8] {
        // The same `Arc` (spans of one recorder), or an equal endpoint in another allocation
        // (spans converted from elsewhere: comparing is far cheaper than encoding again).
        if !self
            .endpoint
            .as_ref()
            .is_some_and(|e| Arc::ptr_eq(e, endpoint) || **e == **endpoint)
        {
            self.json.clear();
            self::endpoint(&mut self.json, endpoint, true);
            // Holding the Arc keeps its address from being reused by another endpoint.
            self.endpoint = Some(Arc::clone(endpoint));
        }
        &self.json
    }
}

/// [`encode_span`] with the local endpoint's encoding taken from `cache`.
pub(crate) fn encode_span_cached(span: &SpanRecord, out: &mut Vec<u8>, cache: &mut EndpointCache) {
    let local = cache.get(&span.local_endpoint);
    write_span_with(span, out, Some(local));
}

/// A small stack buffer for the fixed-size parts of a span, written with one copy.
struct Stack {
    buf: [u8; 160],
    len: usize,
}

impl Stack {
    fn new() -> Self {
        Stack {
            buf: [0; 160],
            len: 0,
        }
    }

    #[inline]
    fn push(&mut self, bytes: &[u8]) {
        self.buf[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
    }

    #[inline]
    fn uint(&mut self, v: u64) {
        self.push(itoa::Buffer::new().format(v).as_bytes());
    }

    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

fn write_span_with<O: JsonOut>(span: &SpanRecord, out: &mut O, local: Option<&[u8]>) {
    // Ids and kind: at most 12 + 32 + 14 + 16 + 8 + 16 + 1 + 18 = 117 bytes.
    let mut head = Stack::new();
    head.push(b"{\"traceId\":\"");
    head.push(span.trace_id.to_zipkin_hex().as_bytes());
    if let Some(parent) = span.parent_id {
        head.push(b"\",\"parentId\":\"");
        head.push(parent.to_hex().as_bytes());
    }
    head.push(b"\",\"id\":\"");
    head.push(span.id.to_hex().as_bytes());
    head.push(b"\"");
    if let Some(kind) = span.kind {
        head.push(b",\"kind\":\"");
        head.push(kind.as_str().as_bytes());
        head.push(b"\"");
    }
    out.raw(head.bytes());
    if !span.name.is_empty() {
        out.raw(b",\"name\":");
        json::string_lower(out, &span.name);
    }
    // Times and flags: at most 13 + 20 + 12 + 20 + 13 + 14 = 92 bytes.
    let mut mid = Stack::new();
    if span.timestamp != 0 {
        mid.push(b",\"timestamp\":");
        mid.uint(span.timestamp);
        mid.push(b",\"duration\":");
        mid.uint(span.duration.max(1));
    }
    if span.debug {
        mid.push(b",\"debug\":true");
    }
    if span.shared {
        mid.push(b",\"shared\":true");
    }
    mid.push(b",\"localEndpoint\":");
    out.raw(mid.bytes());
    match local {
        Some(json) => out.raw(json),
        None => endpoint(out, &span.local_endpoint, true),
    }
    if let Some(remote) = span.remote_endpoint.as_ref().filter(|e| !e.is_empty()) {
        out.raw(b",\"remoteEndpoint\":");
        endpoint(out, remote, false);
    }
    if !span.annotations.is_empty() {
        out.raw(b",\"annotations\":[");
        for (i, a) in span.annotations.iter().enumerate() {
            if i > 0 {
                out.byte(b',');
            }
            out.raw(b"{\"timestamp\":");
            json::uint(out, a.timestamp);
            out.raw(b",\"value\":");
            json::string(out, &a.value);
            out.byte(b'}');
        }
        out.byte(b']');
    }
    let mut first = true;
    for (key, value) in span.tags.iter_bytes() {
        if key.is_empty() {
            continue;
        }
        out.raw(if first { b",\"tags\":{" } else { b"," });
        first = false;
        json::string_bytes(out, key);
        out.byte(b':');
        json::string_bytes(out, value);
    }
    if !first {
        out.byte(b'}');
    }
    out.byte(b'}');
}

fn endpoint<O: JsonOut>(out: &mut O, e: &Endpoint, local: bool) {
    let mut sep = b'{';
    let name = e.service_name.as_deref().filter(|n| !n.is_empty());
    let name = if local {
        Some(name.unwrap_or(UNKNOWN_SERVICE))
    } else {
        name
    };
    if let Some(name) = name {
        out.raw(b"{\"serviceName\":");
        json::string_lower(out, name);
        sep = b',';
    }
    if let Some(ip) = e.ipv4 {
        out.byte(sep);
        out.raw(b"\"ipv4\":");
        json::ipv4(out, ip);
        sep = b',';
    }
    if let Some(ip) = e.ipv6 {
        out.byte(sep);
        out.raw(b"\"ipv6\":");
        json::ipv6(out, ip);
        sep = b',';
    }
    if let Some(port) = e.port.filter(|p| *p != 0) {
        out.byte(sep);
        out.raw(b"\"port\":");
        json::uint(out, u64::from(port));
        sep = b',';
    }
    if sep == b'{' {
        out.byte(b'{');
    }
    out.byte(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Annotation, Kind};
    use std::sync::Arc;
    use trace_context::{SpanId, TraceId};

    fn sample() -> SpanRecord {
        let mut s = SpanRecord::new(
            TraceId::parse("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
            SpanId::parse("00f067aa0ba902b7").unwrap(),
            "GET /Order/{id}",
            Arc::new(
                Endpoint::service("Order-Service")
                    .with_ip("192.168.0.111".parse().unwrap())
                    .with_port(8080),
            ),
        );
        s.parent_id = SpanId::parse("53995c3f42cd8ad8").ok();
        s.kind = Some(Kind::Server);
        s.timestamp = 1_652_413_758_790_051;
        s.duration = 0;
        s.shared = true;
        s.debug = true;
        s.remote_endpoint = Some(
            Endpoint::default()
                .with_ip("::1".parse().unwrap())
                .with_port(0),
        );
        s.annotations.push(Annotation {
            timestamp: 1_652_413_758_790_100,
            value: "cache \"miss\"".into(),
        });
        s.set_tag("http.method", "GET");
        s.set_tag("http.path", "/order/1001\n");
        s
    }

    #[test]
    fn full_span() {
        let json = sample().to_json();
        assert_eq!(
            json,
            concat!(
                r#"{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","parentId":"53995c3f42cd8ad8","#,
                r#""id":"00f067aa0ba902b7","kind":"SERVER","name":"get /order/{id}","#,
                r#""timestamp":1652413758790051,"duration":1,"debug":true,"shared":true,"#,
                r#""localEndpoint":{"serviceName":"order-service","ipv4":"192.168.0.111","port":8080},"#,
                r#""remoteEndpoint":{"ipv6":"::1"},"#,
                r#""annotations":[{"timestamp":1652413758790100,"value":"cache \"miss\""}],"#,
                r#""tags":{"http.method":"GET","http.path":"/order/1001\n"}}"#
            )
        );
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["tags"]["http.path"], "/order/1001\n");
        assert_eq!(encoded_len(&sample()), json.len());
    }

    #[test]
    fn minimal_root_span() {
        let s = SpanRecord::new(
            TraceId::from_u128(0x1234).unwrap(),
            SpanId::from_u64(1).unwrap(),
            "",
            Arc::new(Endpoint::default()),
        );
        assert_eq!(
            s.to_json(),
            r#"{"traceId":"0000000000001234","id":"0000000000000001","localEndpoint":{"serviceName":"unknown_service"}}"#
        );
    }

    #[test]
    fn cached_local_endpoint_gives_the_same_bytes() {
        let mut cache = EndpointCache::default();
        let a = sample();
        let mut b = sample();
        b.local_endpoint = Arc::new(Endpoint::service("other"));
        // Equal to `a`'s endpoint, in another allocation; and one that differs only by port.
        let mut a_copy = sample();
        a_copy.local_endpoint = Arc::new((*a.local_endpoint).clone());
        let mut a_port = sample();
        let mut other_port = (*a.local_endpoint).clone();
        other_port.port = Some(other_port.port.unwrap_or(0).wrapping_add(1));
        a_port.local_endpoint = Arc::new(other_port);
        for s in [&a, &a, &b, &a, &a_copy, &a, &a_port, &a_copy] {
            let mut cached = Vec::new();
            encode_span_cached(s, &mut cached, &mut cache);
            assert_eq!(String::from_utf8(cached).unwrap(), s.to_json());
        }
        // 64-bit trace ids are written as 16 digits.
        let mut c = sample();
        c.trace_id = TraceId::from_u128(0xabc).unwrap();
        assert!(c.to_json().starts_with(r#"{"traceId":"0000000000000abc","#));
    }

    #[test]
    fn list() {
        let mut out = Vec::new();
        encode_list(&[sample(), sample()], &mut out);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v.as_array().unwrap().len(), 2);
    }
}
