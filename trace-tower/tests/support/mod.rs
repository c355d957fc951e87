//! Test support: a capturing tracing layer, real axum servers on 127.0.0.1, a handler that
//! reports the context it (and the tasks it starts) ran in, and a raw HTTP/1.1 client for
//! bytes reqwest refuses to send.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Mutex, Once};

use axum::Router;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use trace_context::{Context, TraceId};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::Subscriber;
use tracing_subscriber::layer::{Context as LayerContext, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

// ---------------------------------------------------------------------------------------------
// Capturing layer

/// A closed span as the test layer saw it.
#[derive(Debug, Clone)]
pub struct Captured {
    pub name: &'static str,
    /// The context `trace_context::ContextLayer` gave the span.
    pub context: Option<Context>,
    pub fields: BTreeMap<String, String>,
}

impl Captured {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
    pub fn kind(&self) -> Option<&str> {
        self.field("span.kind")
    }
    pub fn context(&self) -> &Context {
        self.context.as_ref().expect("span has a context")
    }
}

static CLOSED: Mutex<Vec<Captured>> = Mutex::new(Vec::new());

struct FieldMap(BTreeMap<String, String>);

impl Visit for FieldMap {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), value.to_string());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), value.to_string());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), value.to_string());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

/// Records every span's fields and, when it closes, the context `ContextLayer` gave it.
struct Capture;

impl<S> Layer<S> for Capture
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: LayerContext<'_, S>) {
        let mut fields = FieldMap(BTreeMap::new());
        attrs.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(fields);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: LayerContext<'_, S>) {
        if let Some(span) = ctx.span(id) {
            if let Some(fields) = span.extensions_mut().get_mut::<FieldMap>() {
                values.record(fields);
            }
        }
    }

    fn on_close(&self, id: Id, ctx: LayerContext<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let ext = span.extensions();
        let captured = Captured {
            name: span.name(),
            context: ext.get::<Context>().cloned(),
            fields: ext
                .get::<FieldMap>()
                .map(|f| f.0.clone())
                .unwrap_or_default(),
        };
        CLOSED.lock().unwrap().push(captured);
    }
}

/// Installs `registry().with(ContextLayer).with(Capture)` as the global subscriber, once.
pub fn init_tracing() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let subscriber = tracing_subscriber::registry()
            .with(trace_context::ContextLayer::new())
            .with(Capture);
        tracing::subscriber::set_global_default(subscriber).expect("no other subscriber");
    });
}

/// The closed server spans of this trace.
pub fn server_spans_of(trace_id: TraceId) -> Vec<Captured> {
    CLOSED
        .lock()
        .unwrap()
        .iter()
        .filter(|c| c.kind() == Some("server"))
        .filter(|c| c.context.as_ref().map(Context::trace_id) == Some(trace_id))
        .cloned()
        .collect()
}

/// The one closed server span of this trace. The span closes when the response head is
/// ready, which can be a moment after the client has read the response: wait a little.
pub async fn server_span_of(trace_id: TraceId) -> Captured {
    for _ in 0..200 {
        let mut spans = server_spans_of(trace_id);
        if spans.len() == 1 {
            return spans.remove(0);
        }
        assert!(spans.len() <= 1, "several server spans: {spans:?}");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("no closed server span in trace {trace_id}");
}

// ---------------------------------------------------------------------------------------------
// Servers and clients

/// Serves `app` on 127.0.0.1 (a free port) in the current runtime.
pub async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    addr
}

/// A reqwest client that never goes through a proxy (the servers are on loopback).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// What a handler saw: the context on the handler's thread, in a task it spawned with
/// `trace_context::spawn` and in a `trace_context::spawn_blocking` closure.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct View {
    pub trace_id: Option<String>,
    pub span_id: Option<String>,
    pub parent_id: Option<String>,
    pub app_id: Option<String>,
    pub sampled: Option<bool>,
    pub remote_parent: Option<bool>,
}

impl View {
    /// The current context, as seen from here.
    pub fn current() -> View {
        Context::with_current(|c| match c {
            None => View::default(),
            Some(c) => View {
                trace_id: Some(c.trace_id().to_string()),
                span_id: Some(c.span_id().to_string()),
                parent_id: c.parent_span_id().map(|p| p.to_string()),
                app_id: c.app_trace_id().map(|a| a.as_str().to_owned()),
                sampled: Some(c.is_sampled()),
                remote_parent: Some(c.remote_parent()),
            },
        })
    }

    fn render(&self, prefix: &str, out: &mut String) {
        let mut line = |k: &str, v: &Option<String>| {
            if let Some(v) = v {
                let _ = writeln!(out, "{prefix}{k}: {v}");
            }
        };
        line("trace-id", &self.trace_id);
        line("span-id", &self.span_id);
        line("parent-id", &self.parent_id);
        line("app-id", &self.app_id);
        line("sampled", &self.sampled.map(|b| b.to_string()));
        line("remote-parent", &self.remote_parent.map(|b| b.to_string()));
    }

    fn set(&mut self, key: &str, value: &str) {
        let v = Some(value.to_owned());
        match key {
            "trace-id" => self.trace_id = v,
            "span-id" => self.span_id = v,
            "parent-id" => self.parent_id = v,
            "app-id" => self.app_id = v,
            "sampled" => self.sampled = Some(value == "true"),
            "remote-parent" => self.remote_parent = Some(value == "true"),
            _ => {}
        }
    }
}

/// The three views of one request.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub handler: View,
    pub spawned: View,
    pub blocking: View,
}

impl Report {
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.handler.render("handler.", &mut out);
        self.spawned.render("spawned.", &mut out);
        self.blocking.render("blocking.", &mut out);
        out
    }

    pub fn parse(text: &str) -> Report {
        let mut r = Report::default();
        for line in text.lines() {
            let Some((key, value)) = line.split_once(": ") else {
                continue;
            };
            let Some((who, key)) = key.split_once('.') else {
                continue;
            };
            match who {
                "handler" => r.handler.set(key, value),
                "spawned" => r.spawned.set(key, value),
                "blocking" => r.blocking.set(key, value),
                _ => {}
            }
        }
        r
    }
}

/// A handler that reports what it, a spawned task and a blocking task saw.
pub async fn report() -> String {
    let handler = View::current();
    // Let the task hop threads between polls on a multi-thread runtime.
    tokio::task::yield_now().await;
    let spawned = trace_context::spawn(async {
        tokio::task::yield_now().await;
        View::current()
    })
    .await
    .unwrap();
    let blocking = trace_context::spawn_blocking(View::current).await.unwrap();
    Report {
        handler,
        spawned,
        blocking,
    }
    .render()
}

/// A response read off a raw connection.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    /// Header names lowercased, values as raw bytes.
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
    /// Everything received, unparsed.
    pub raw: Vec<u8>,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }
}

/// Sends `GET {path}` with the extra header lines (raw bytes, each without its CRLF) on a new
/// connection (`Connection: close`) and reads the whole response.
pub async fn raw_get(addr: SocketAddr, path: &str, header_lines: &[&[u8]]) -> RawResponse {
    let mut request = Vec::new();
    request.extend_from_slice(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n").as_bytes());
    for line in header_lines {
        request.extend_from_slice(line);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"Connection: close\r\n\r\n");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(&request).await.unwrap();
    let mut raw = Vec::new();
    // The server may close while we still write (a refused request): read what came back.
    let _ = stream.read_to_end(&mut raw).await;
    parse_response(raw)
}

fn parse_response(raw: Vec<u8>) -> RawResponse {
    let head_end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head in {:?}", String::from_utf8_lossy(&raw)));
    let head = &raw[..head_end];
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let status_line = String::from_utf8_lossy(lines.next().unwrap()).into_owned();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers = lines
        .filter_map(|l| {
            let colon = l.iter().position(|&b| b == b':')?;
            let name = String::from_utf8_lossy(&l[..colon]).to_ascii_lowercase();
            let value = l[colon + 1..].trim_ascii().to_vec();
            Some((name, value))
        })
        .collect();
    let body = raw[head_end + 4..].to_vec();
    RawResponse {
        status,
        headers,
        body,
        raw,
    }
}

/// True for 32 lowercase hex digits (a minted trace id as echoed).
pub fn is_trace_hex(text: &str) -> bool {
    text.len() == 32 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}
