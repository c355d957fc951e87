//! A [`SpanRecord`] as Zipkin v2 JSON (`zipkin2-api.yaml`, definitions/Span).

use std::sync::Arc;

use super::json::{self, JsonOut, LenCounter};
use crate::tags::{Known, RawTag};
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
    write_span_buffered(span, out, None, &mut [0; BUFFERED]);
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
/// Also holds the stack-like scratch buffer spans are assembled in (kept, so it is not
/// zeroed for every span).
pub(crate) struct EndpointCache {
    endpoint: Option<Arc<Endpoint>>,
    json: Vec<u8>,
    scratch: Box<[u8; BUFFERED]>,
}

impl Default for EndpointCache {
    fn default() -> Self {
        EndpointCache {
            endpoint: None,
            json: Vec::new(),
            scratch: Box::new([0; BUFFERED]),
        }
    }
}

impl EndpointCache {
    fn get<'a>(
        cached: &mut Option<Arc<Endpoint>>,
        json: &'a mut Vec<u8>,
        endpoint: &Arc<Endpoint>,
    ) -> &'a [u8] {
        // The same `Arc` (spans of one recorder), or an equal endpoint in another allocation
        // (spans converted from elsewhere: comparing is far cheaper than encoding again).
        if !cached
            .as_ref()
            .is_some_and(|e| Arc::ptr_eq(e, endpoint) || **e == **endpoint)
        {
            json.clear();
            self::endpoint(json, endpoint, true);
            // Holding the Arc keeps its address from being reused by another endpoint.
            *cached = Some(Arc::clone(endpoint));
        }
        json
    }
}

/// [`encode_span`] with the local endpoint's encoding taken from `cache`.
pub(crate) fn encode_span_cached(span: &SpanRecord, out: &mut Vec<u8>, cache: &mut EndpointCache) {
    let EndpointCache {
        endpoint,
        json,
        scratch,
    } = cache;
    let local = EndpointCache::get(endpoint, json, &span.local_endpoint);
    write_span_buffered(span, out, Some(local), scratch);
}

/// Collects the many small pieces of a span on the stack and hands them to the real output
/// in a few large copies (each `Vec` append is a call with a capacity check; a copy into
/// this buffer is a bounds check and a move).
struct Buffered<'a, O: JsonOut> {
    out: &'a mut O,
    buf: &'a mut [u8; BUFFERED],
    len: usize,
}

/// The stack buffer of [`Buffered`]: most spans fit in one or two.
const BUFFERED: usize = 512;

impl<'a, O: JsonOut> Buffered<'a, O> {
    fn new(out: &'a mut O, buf: &'a mut [u8; BUFFERED]) -> Self {
        Buffered { out, buf, len: 0 }
    }

    /// Hands what is buffered to the output.
    fn flush(&mut self) {
        self.out.raw(&self.buf[..self.len]);
        self.len = 0;
    }

    #[cold]
    fn raw_slow(&mut self, bytes: &[u8]) {
        self.flush();
        if bytes.len() > BUFFERED / 2 {
            self.out.raw(bytes);
        } else {
            self.buf[..bytes.len()].copy_from_slice(bytes);
            self.len = bytes.len();
        }
    }
}

impl<O: JsonOut> JsonOut for Buffered<'_, O> {
    #[inline]
    fn raw(&mut self, bytes: &[u8]) {
        match self.buf.get_mut(self.len..self.len + bytes.len()) {
            Some(dst) => {
                dst.copy_from_slice(bytes);
                self.len += bytes.len();
            }
            None => self.raw_slow(bytes),
        }
    }

    #[inline]
    fn byte(&mut self, b: u8) {
        match self.buf.get_mut(self.len) {
            Some(dst) => {
                *dst = b;
                self.len += 1;
            }
            None => self.raw_slow(&[b]),
        }
    }
}

/// Writes a span through a [`Buffered`] stack buffer.
fn write_span_buffered(
    span: &SpanRecord,
    out: &mut Vec<u8>,
    local: Option<&[u8]>,
    scratch: &mut [u8; BUFFERED],
) {
    let mut buffered = Buffered::new(out, scratch);
    write_span_with(span, &mut buffered, local);
    buffered.flush();
}

fn write_span_with<O: JsonOut>(span: &SpanRecord, out: &mut O, local: Option<&[u8]>) {
    out.raw(b"{\"traceId\":\"");
    out.raw(span.trace_id.to_zipkin_hex().as_bytes());
    if let Some(parent) = span.parent_id {
        out.raw(b"\",\"parentId\":\"");
        out.raw(parent.to_hex().as_bytes());
    }
    out.raw(b"\",\"id\":\"");
    out.raw(span.id.to_hex().as_bytes());
    out.byte(b'"');
    if let Some(kind) = span.kind {
        out.raw(b",\"kind\":\"");
        out.raw(kind.as_str().as_bytes());
        out.byte(b'"');
    }
    if !span.name.is_empty() {
        out.raw(b",\"name\":");
        json::string_lower(out, &span.name);
    }
    if span.timestamp != 0 {
        out.raw(b",\"timestamp\":");
        json::uint(out, span.timestamp);
        out.raw(b",\"duration\":");
        json::uint(out, span.duration.max(1));
    }
    if span.debug {
        out.raw(b",\"debug\":true");
    }
    if span.shared {
        out.raw(b",\"shared\":true");
    }
    out.raw(b",\"localEndpoint\":");
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
    for tag in span.tags.iter_raw() {
        if matches!(tag, RawTag::Joined(_, 0) | RawTag::Apart(b"", _)) {
            continue;
        }
        out.raw(if first { b",\"tags\":{" } else { b"," });
        first = false;
        let value = match tag {
            // The recorder's names: constants, nothing to escape.
            RawTag::Known(k, value) => {
                known_key(out, k);
                value
            }
            RawTag::Joined(pair, key_len) => {
                let (key, value) = pair.split_at(key_len.min(pair.len()));
                out.byte(b'"');
                if json::is_clean(pair) {
                    // The common case: one check for both, plain copies.
                    out.raw(key);
                    out.raw(b"\":\"");
                    out.raw(value);
                } else {
                    json::escaped(out, key);
                    out.raw(b"\":\"");
                    json::escaped(out, value);
                }
                out.byte(b'"');
                continue;
            }
            RawTag::Apart(key, value) => {
                out.byte(b'"');
                if json::is_clean(key) {
                    out.raw(key);
                } else {
                    json::escaped(out, key);
                }
                out.raw(b"\":\"");
                value
            }
        };
        // Checked without a branch per word, then copied whole (the common case) or escaped.
        if json::is_clean(value) {
            out.raw(value);
        } else {
            json::escaped(out, value);
        }
        out.byte(b'"');
    }
    if !first {
        out.byte(b'}');
    }
    out.byte(b'}');
}

/// Writes `"<name>":"` for a known tag name (fixed-size copies).
#[inline]
fn known_key<O: JsonOut>(out: &mut O, k: Known) {
    // One call per name: each a copy of a constant size.
    match k {
        Known::HttpMethod => out.raw(b"\"http.method\":\""),
        Known::HttpPath => out.raw(b"\"http.path\":\""),
        Known::HttpRoute => out.raw(b"\"http.route\":\""),
        Known::HttpStatusCode => out.raw(b"\"http.status_code\":\""),
        Known::HttpUrl => out.raw(b"\"http.url\":\""),
        Known::Error => out.raw(b"\"error\":\""),
        Known::AppTraceId => out.raw(b"\"app.trace_id\":\""),
    }
}

fn endpoint<O: JsonOut>(out: &mut O, e: &Endpoint, local: bool) {
    let name = e.service_name.as_deref().filter(|n| !n.is_empty());
    let name = if local {
        Some(name.unwrap_or(UNKNOWN_SERVICE))
    } else {
        name
    };
    let mut sep = b'{';
    if let Some(name) = name {
        out.raw(b"{\"serviceName\":");
        json::string_lower(out, name);
        sep = b',';
    }
    if let Some(ip) = e.ipv4 {
        out.byte(sep);
        out.raw(b"\"ipv4\":");
        let (text, n) = json::ipv4_json(ip);
        out.raw(&text[..n]);
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

    #[test]
    fn known_tag_names_are_written_as_their_names() {
        use crate::tags::Name;
        let all = Known::ALL;
        let mut s = sample();
        s.tags = crate::Tags::default();
        for (i, k) in all.into_iter().enumerate() {
            assert!(s.tags.insert(Name::Known(k), &format!("v{i}\""), true));
        }
        s.tags.set("other \"key\"", "x");
        let json = s.to_json();
        assert_eq!(json.len(), encoded_len(&s));
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let tags = v["tags"].as_object().unwrap();
        assert_eq!(tags.len(), all.len() + 1);
        for (i, k) in all.into_iter().enumerate() {
            assert_eq!(tags[k.name()], format!("v{i}\""));
        }
        assert_eq!(tags["other \"key\""], "x");
    }

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
    fn endpoints_in_every_combination() {
        let v4: std::net::IpAddr = "10.1.2.3".parse().unwrap();
        let v6: std::net::IpAddr = "2001:db8::1".parse().unwrap();
        for (remote, expected) in [
            (Endpoint::default().with_port(9), r#"{"port":9}"#),
            (Endpoint::default().with_ip(v4), r#"{"ipv4":"10.1.2.3"}"#),
            (Endpoint::default().with_ip(v6), r#"{"ipv6":"2001:db8::1"}"#),
            (
                Endpoint::default().with_ip(v6).with_port(80),
                r#"{"ipv6":"2001:db8::1","port":80}"#,
            ),
            (
                Endpoint::service("DB")
                    .with_ip(v4)
                    .with_ip(v6)
                    .with_port(5432),
                r#"{"serviceName":"db","ipv4":"10.1.2.3","ipv6":"2001:db8::1","port":5432}"#,
            ),
            (Endpoint::service("db"), r#"{"serviceName":"db"}"#),
        ] {
            let mut s = sample();
            s.remote_endpoint = Some(remote);
            let json = s.to_json();
            let v: serde_json::Value = serde_json::from_str(&json).unwrap();
            let want: serde_json::Value = serde_json::from_str(expected).unwrap();
            assert_eq!(v["remoteEndpoint"], want, "{json}");
            assert!(json.contains(expected), "{json}");
        }
        let mut local_only_port = sample();
        local_only_port.local_endpoint = Arc::new(Endpoint::default().with_port(1));
        assert!(local_only_port
            .to_json()
            .contains(r#""localEndpoint":{"serviceName":"unknown_service","port":1}"#));
    }

    #[test]
    fn buffered_and_direct_writes_agree_on_long_spans() {
        let mut s = sample();
        for i in 0..40 {
            s.set_tag(format!("key.{i}"), "v\"é".repeat(i * 9));
        }
        s.set_tag("big", "x".repeat(3000));
        s.annotations.push(Annotation {
            timestamp: 7,
            value: "y".repeat(700),
        });
        let mut direct = Vec::new();
        write_span(&s, &mut direct);
        let mut buffered = Vec::new();
        encode_span(&s, &mut buffered);
        assert_eq!(direct, buffered);
        assert_eq!(encoded_len(&s), buffered.len());
        let v: serde_json::Value = serde_json::from_slice(&buffered).unwrap();
        assert_eq!(v["tags"]["key.39"].as_str().unwrap(), "v\"é".repeat(39 * 9));
        assert_eq!(v["tags"]["big"].as_str().unwrap().len(), 3000);
        let mut cached = Vec::new();
        encode_span_cached(&s, &mut cached, &mut EndpointCache::default());
        assert_eq!(cached, buffered);
    }

    #[test]
    fn list() {
        let mut out = Vec::new();
        encode_list(&[sample(), sample()], &mut out);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v.as_array().unwrap().len(), 2);
    }
}
