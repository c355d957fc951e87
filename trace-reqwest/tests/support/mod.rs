//! Test support: a capturing tracing layer, real axum servers on 127.0.0.1 (behind trace-tower)
//! and what they saw.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Mutex, Once};
use std::time::Duration;

use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::Router;
use trace_context::{Context, SpanId, TraceId};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::Subscriber;
use tracing_subscriber::layer::{Context as LayerContext, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

pub mod server;

/// Every trace header this crate may write (plus the custom application header of a test).
pub const TRACE_HEADERS: &[&str] = &[
    "x-app-trace-id",
    "x-request-id",
    "traceparent",
    "tracestate",
    "b3",
    "x-b3-traceid",
    "x-b3-spanid",
    "x-b3-parentspanid",
    "x-b3-sampled",
    "x-b3-flags",
];

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
    pub fn span_id(&self) -> SpanId {
        self.context.as_ref().expect("span has a context").span_id()
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
/// Registered after `ContextLayer`.
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

/// Closed spans of this trace.
pub fn spans_of(trace_id: TraceId) -> Vec<Captured> {
    CLOSED
        .lock()
        .unwrap()
        .iter()
        .filter(|c| c.context.as_ref().map(Context::trace_id) == Some(trace_id))
        .cloned()
        .collect()
}

/// Closed client spans of this trace.
pub fn client_spans_of(trace_id: TraceId) -> Vec<Captured> {
    spans_of(trace_id)
        .into_iter()
        .filter(|c| c.kind() == Some("client"))
        .collect()
}

/// The one closed client span of this trace.
pub fn client_span_of(trace_id: TraceId) -> Captured {
    let mut spans = client_spans_of(trace_id);
    assert_eq!(
        spans.len(),
        1,
        "one client span in trace {trace_id}: {spans:?}"
    );
    spans.remove(0)
}

/// Closed client spans whose `http.url` ends with `suffix` (for spans without a context).
pub fn client_spans_by_url(suffix: &str) -> Vec<Captured> {
    CLOSED
        .lock()
        .unwrap()
        .iter()
        .filter(|c| c.kind() == Some("client"))
        .filter(|c| c.field("http.url").is_some_and(|u| u.ends_with(suffix)))
        .cloned()
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Servers

/// Serves `app` on 127.0.0.1 (a free port) in the current runtime.
pub async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    addr
}

/// The echo service: `/echo/{tag}` answers with what it received ([`Seen`]), `/status/{code}`
/// answers with that status, `/slow` answers after 30 s. Wrapped in the server-side context
/// layer (see [`server`]).
pub fn echo_app() -> Router {
    server::traced(
        Router::new()
            .route("/echo/{tag}", get(echo))
            .route("/status/{code}", get(status))
            .route("/slow", get(slow)),
    )
}

async fn echo(headers: HeaderMap) -> String {
    render_seen(&headers)
}

async fn status(Path(code): Path<u16>) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST)
}

async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_secs(30)).await;
    "late"
}

/// What a service saw: the headers and the server context it ran in.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    pub headers: Vec<(String, String)>,
    pub trace_id: Option<String>,
    pub span_id: Option<String>,
    pub parent_id: Option<String>,
    pub app_id: Option<String>,
}

impl Seen {
    /// The trace headers received, by name (in the order received for repeated names).
    pub fn trace_headers(&self) -> BTreeMap<String, Vec<String>> {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (n, v) in &self.headers {
            if TRACE_HEADERS.contains(&n.as_str()) {
                out.entry(n.clone()).or_default().push(v.clone());
            }
        }
        out
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn parse(text: &str) -> Seen {
        let mut seen = Seen::default();
        for line in text.lines() {
            let Some((name, value)) = line.split_once(": ") else {
                continue;
            };
            let value = value.to_owned();
            match name {
                "@trace-id" => seen.trace_id = Some(value),
                "@span-id" => seen.span_id = Some(value),
                "@parent-id" => seen.parent_id = Some(value),
                "@app-id" => seen.app_id = Some(value),
                _ => seen.headers.push((name.to_owned(), value)),
            }
        }
        seen
    }
}

/// Renders the current context and the headers as `name: value` lines (parsed by [`Seen::parse`]).
pub fn render_seen(headers: &HeaderMap) -> String {
    let mut out = String::new();
    Context::with_current(|c| {
        if let Some(c) = c {
            let _ = writeln!(out, "@trace-id: {}", c.trace_id());
            let _ = writeln!(out, "@span-id: {}", c.span_id());
            if let Some(p) = c.parent_span_id() {
                let _ = writeln!(out, "@parent-id: {p}");
            }
            if let Some(a) = c.app_trace_id() {
                let _ = writeln!(out, "@app-id: {}", a.as_str());
            }
        }
    });
    for (name, value) in headers {
        let _ = writeln!(
            out,
            "{}: {}",
            name,
            value.to_str().unwrap_or("<not visible ascii>")
        );
    }
    out
}

/// A reqwest client that never goes through a proxy (the servers are on loopback).
pub fn plain_client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// A port nothing listens on (bound then released).
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    port
}
