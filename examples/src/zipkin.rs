//! Zipkin v2 spans as JSON: the model, reading a file or a Zipkin server, writing a file the
//! Zipkin UI can load.
//!
//! The model follows `zipkin2-api.yaml`; unknown fields are ignored so that files written by
//! other tools load too.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// A Zipkin v2 span.
///
/// ```
/// let json = r#"{"traceId":"9d244edbc1668d92","id":"9d244edbc1668d92","kind":"SERVER","name":"get",
///   "timestamp":1652413758757034,"duration":63190,"localEndpoint":{"serviceName":"server-gateway"}}"#;
/// let span: examples::zipkin::Span = serde_json::from_str(json).unwrap();
/// assert_eq!(span.service_name(), "server-gateway");
/// assert_eq!(span.kind, Some(examples::zipkin::Kind::Server));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Span {
    /// 16 or 32 lowercase hex digits.
    pub trace_id: String,
    /// The parent span id; absent on a root span.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// The span id: 16 lowercase hex digits.
    pub id: String,
    /// `CLIENT`, `SERVER`, `PRODUCER`, `CONSUMER`; absent for a local span.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<Kind>,
    /// The span name (lower case), e.g. `get /order/submit_order`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Start, in microseconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<u64>,
    /// Duration in microseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<u64>,
    /// Forced sampling.
    #[serde(default, skip_serializing_if = "is_false")]
    pub debug: bool,
    /// A server span that joined a client's span (Zipkin's shared span model).
    #[serde(default, skip_serializing_if = "is_false")]
    pub shared: bool,
    /// The service that recorded the span.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_endpoint: Option<Endpoint>,
    /// The other side of an RPC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_endpoint: Option<Endpoint>,
    /// Timestamped events.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub annotations: Vec<Annotation>,
    /// Tags such as `http.method`, `http.path`, `error`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A span kind.
///
/// ```
/// assert_eq!(serde_json::to_string(&examples::zipkin::Kind::Client).unwrap(), r#""CLIENT""#);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Kind {
    /// The caller's side of an RPC.
    Client,
    /// The callee's side of an RPC.
    Server,
    /// A message producer.
    Producer,
    /// A message consumer.
    Consumer,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Client => "CLIENT",
            Kind::Server => "SERVER",
            Kind::Producer => "PRODUCER",
            Kind::Consumer => "CONSUMER",
        })
    }
}

/// A network endpoint.
///
/// ```
/// let e: examples::zipkin::Endpoint = serde_json::from_str(r#"{"serviceName":"order","port":8080}"#).unwrap();
/// assert_eq!(e.port, Some(8080));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoint {
    /// Lower-case service name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_name: Option<String>,
    /// IPv4 address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv4: Option<String>,
    /// IPv6 address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6: Option<String>,
    /// Port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

/// A timestamped event in a span.
///
/// ```
/// let a: examples::zipkin::Annotation = serde_json::from_str(r#"{"timestamp":1,"value":"ws"}"#).unwrap();
/// assert_eq!(a.value, "ws");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Annotation {
    /// Microseconds since the epoch.
    pub timestamp: u64,
    /// What happened.
    pub value: String,
}

impl Span {
    /// The service that recorded the span (`?` when the span names none).
    ///
    /// ```
    /// let span: examples::zipkin::Span = serde_json::from_str(r#"{"traceId":"1","id":"2"}"#).unwrap();
    /// assert_eq!(span.service_name(), "?");
    /// ```
    pub fn service_name(&self) -> &str {
        self.local_endpoint
            .as_ref()
            .and_then(|e| e.service_name.as_deref())
            .unwrap_or("?")
    }

    /// The `error` tag, if the span failed.
    ///
    /// ```
    /// let span: examples::zipkin::Span =
    ///     serde_json::from_str(r#"{"traceId":"1","id":"2","tags":{"error":"404"}}"#).unwrap();
    /// assert_eq!(span.error(), Some("404"));
    /// ```
    pub fn error(&self) -> Option<&str> {
        self.tags.get("error").map(String::as_str)
    }
}

/// Why spans could not be read.
///
/// ```
/// let err = examples::zipkin::parse_spans(b"{}").unwrap_err();
/// assert!(err.to_string().contains("JSON array"));
/// ```
#[derive(Debug)]
pub enum Error {
    /// The text is not a JSON array of Zipkin v2 spans (or of traces).
    Json(serde_json::Error),
    /// Reading or writing a file failed.
    Io(std::io::Error),
    /// A Zipkin server could not be reached or answered an error.
    Http(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Json(e) => write!(
                f,
                "not a JSON array of Zipkin v2 spans (or an array of such arrays): {e}"
            ),
            Error::Io(e) => write!(f, "{e}"),
            Error::Http(e) => f.write_str(e),
        }
    }
}

impl std::error::Error for Error {}

/// Reads spans from JSON: a trace (`[span, ...]`, what `/api/v2/trace/{id}` answers and what
/// the Zipkin UI loads) or a list of traces (`[[span, ...], ...]`, what `/api/v2/traces`
/// answers).
///
/// ```
/// let one = br#"[{"traceId":"a","id":"1"}]"#;
/// let many = br#"[[{"traceId":"a","id":"1"}],[{"traceId":"b","id":"2"}]]"#;
/// assert_eq!(examples::zipkin::parse_spans(one).unwrap().len(), 1);
/// assert_eq!(examples::zipkin::parse_spans(many).unwrap().len(), 2);
/// ```
pub fn parse_spans(json: &[u8]) -> Result<Vec<Span>, Error> {
    let value: serde_json::Value = serde_json::from_slice(json).map_err(Error::Json)?;
    let Some(items) = value.as_array() else {
        return Err(Error::Json(serde::de::Error::custom(
            "expected a JSON array",
        )));
    };
    if items.first().is_some_and(serde_json::Value::is_array) {
        let traces: Vec<Vec<Span>> = serde_json::from_value(value).map_err(Error::Json)?;
        Ok(traces.into_iter().flatten().collect())
    } else {
        serde_json::from_value(value).map_err(Error::Json)
    }
}

/// Reads spans from a JSON file (see [`parse_spans`]).
///
/// ```
/// let path = std::env::temp_dir().join("examples-zipkin-read-doc.json");
/// std::fs::write(&path, br#"[{"traceId":"a","id":"1"}]"#).unwrap();
/// assert_eq!(examples::zipkin::read_file(&path).unwrap().len(), 1);
/// ```
pub fn read_file(path: &Path) -> Result<Vec<Span>, Error> {
    let bytes = std::fs::read(path).map_err(|e| {
        Error::Io(std::io::Error::new(
            e.kind(),
            format!("reading {}: {e}", path.display()),
        ))
    })?;
    parse_spans(&bytes)
}

/// Writes spans as one JSON array (pretty-printed): the Zipkin UI's "upload JSON" loads it.
///
/// ```
/// let span: examples::zipkin::Span = serde_json::from_str(r#"{"traceId":"a","id":"1"}"#).unwrap();
/// let path = std::env::temp_dir().join("examples-zipkin-write-doc.json");
/// examples::zipkin::write_file(&path, &[span.clone()]).unwrap();
/// assert_eq!(examples::zipkin::read_file(&path).unwrap(), vec![span]);
/// ```
pub fn write_file(path: &Path, spans: &[Span]) -> Result<(), Error> {
    let json = serde_json::to_vec_pretty(spans).map_err(Error::Json)?;
    std::fs::write(path, json).map_err(|e| {
        Error::Io(std::io::Error::new(
            e.kind(),
            format!("writing {}: {e}", path.display()),
        ))
    })
}

/// Spans grouped by trace id, each group in the order the spans came, groups ordered by their
/// first timestamp.
///
/// ```
/// let spans = examples::zipkin::parse_spans(
///     br#"[{"traceId":"b","id":"2","timestamp":5},{"traceId":"a","id":"1","timestamp":9}]"#,
/// ).unwrap();
/// let traces = examples::zipkin::group_by_trace(spans);
/// assert_eq!(traces[0].0, "b");
/// ```
pub fn group_by_trace(spans: Vec<Span>) -> Vec<(String, Vec<Span>)> {
    let mut groups: Vec<(String, Vec<Span>)> = Vec::new();
    for span in spans {
        let key = normalize_trace_id(&span.trace_id);
        match groups.iter_mut().find(|(id, _)| *id == key) {
            Some((_, g)) => g.push(span),
            None => groups.push((key, vec![span])),
        }
    }
    groups.sort_by_key(|(_, g)| g.iter().filter_map(|s| s.timestamp).min());
    groups
}

/// A trace id as Zipkin compares them: lower case, a 32-digit id whose high half is zero
/// shortened to 16 digits.
///
/// ```
/// assert_eq!(examples::zipkin::normalize_trace_id("0000000000000000ABCDEF0123456789"), "abcdef0123456789");
/// ```
pub fn normalize_trace_id(id: &str) -> String {
    let lower = id.trim().to_ascii_lowercase();
    match lower.strip_prefix("0000000000000000") {
        Some(low) if lower.len() == 32 => low.to_owned(),
        _ => lower,
    }
}

/// Fetches one trace from a Zipkin server: `GET {base}/api/v2/trace/{id}`.
///
/// ```no_run
/// # async fn run() -> Result<(), examples::zipkin::Error> {
/// let spans = examples::zipkin::fetch_trace("http://localhost:9411", "9d244edbc1668d92").await?;
/// # let _ = spans; Ok(()) }
/// ```
pub async fn fetch_trace(base: &str, trace_id: &str) -> Result<Vec<Span>, Error> {
    let id = normalize_trace_id(trace_id);
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_hexdigit()) || id.len() > 32 {
        return Err(Error::Http(format!(
            "{trace_id:?} is not a trace id (16 or 32 hex digits)"
        )));
    }
    let url = format!("{}/api/v2/trace/{id}", zipkin_base(base));
    let response = reqwest::Client::new()
        .get(&url)
        .timeout(std::time::Duration::from_secs(10))
        .send()
        .await
        .map_err(|e| Error::Http(format!("GET {url}: {e}")))?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| Error::Http(format!("GET {url}: {e}")))?;
    if status == reqwest::StatusCode::NOT_FOUND {
        return Err(Error::Http(format!("trace {id} not found at {url}")));
    }
    if !status.is_success() {
        return Err(Error::Http(format!(
            "GET {url}: {status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        )));
    }
    parse_spans(&body)
}

/// The server's base URL from what a user may pass: `http://host:9411`, with or without a
/// trailing `/`, or the full `.../api/v2/spans` endpoint.
///
/// ```
/// use examples::zipkin::zipkin_base;
/// assert_eq!(zipkin_base("http://localhost:9411/api/v2/spans"), "http://localhost:9411");
/// assert_eq!(zipkin_base("http://localhost:9411/"), "http://localhost:9411");
/// ```
pub fn zipkin_base(url: &str) -> &str {
    let url = url.trim().trim_end_matches('/');
    url.strip_suffix("/api/v2/spans").unwrap_or(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_trace_loads() {
        let json = include_bytes!("../tests/data/sample-trace-shop.json");
        let spans = parse_spans(json).unwrap();
        assert_eq!(spans.len(), 10);
        assert_eq!(group_by_trace(spans).len(), 1);
    }

    #[test]
    fn bad_documents_are_errors_not_panics() {
        for doc in [&b""[..], b"{}", b"[1]", b"[{\"id\":1}]", b"[[1]]", b"\xff"] {
            assert!(parse_spans(doc).is_err(), "{doc:?}");
        }
        assert!(parse_spans(b"[]").unwrap().is_empty());
    }
}
