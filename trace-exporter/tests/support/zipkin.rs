//! A fake Zipkin collector: `POST /api/v2/spans` (JSON, optionally gzip), answers 202 and
//! checks every span against `zipkin2-api.yaml` (definitions/ListOfSpans) and Zipkin's own
//! rules. It can be told to fail (500), hang, or stop listening (connection refused).

use std::io::Read as _;
use std::net::SocketAddr;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use serde_json::Value;

/// What the receiver does with the next requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Validate and answer 202 (400 on an invalid body).
    Accept,
    /// Answer 500 without looking at the body.
    Fail,
    /// Never answer.
    Hang,
}

/// One received request.
#[derive(Debug, Clone)]
pub struct Received {
    pub b3: Option<String>,
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    pub spans: usize,
    pub status: u16,
}

#[derive(Default)]
struct Log {
    spans: Vec<Value>,
    requests: Vec<Received>,
    errors: Vec<String>,
}

struct Shared {
    mode: Mutex<Mode>,
    log: Mutex<Log>,
    changed: Condvar,
}

pub struct ZipkinReceiver {
    addr: SocketAddr,
    shared: Arc<Shared>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl ZipkinReceiver {
    pub fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let shared = Arc::new(Shared {
            mode: Mutex::new(Mode::Accept),
            log: Mutex::new(Log::default()),
            changed: Condvar::new(),
        });
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new()
            .route("/api/v2/spans", post(collect))
            .with_state(Arc::clone(&shared));
        runtime.spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        ZipkinReceiver {
            addr,
            shared,
            runtime: Some(runtime),
        }
    }

    /// A URL on 127.0.0.1 where nothing listens (connection refused).
    pub fn refused_url() -> String {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        format!("http://127.0.0.1:{port}/api/v2/spans")
    }

    pub fn url(&self) -> String {
        format!("http://{}/api/v2/spans", self.addr)
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.shared.mode.lock().unwrap() = mode;
    }

    pub fn spans(&self) -> Vec<Value> {
        self.shared.log.lock().unwrap().spans.clone()
    }

    pub fn requests(&self) -> Vec<Received> {
        self.shared.log.lock().unwrap().requests.clone()
    }

    pub fn errors(&self) -> Vec<String> {
        self.shared.log.lock().unwrap().errors.clone()
    }

    /// Waits until `n` spans were accepted (true) or `timeout` passed (false).
    pub fn wait_spans(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut log = self.shared.log.lock().unwrap();
        while log.spans.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            log = self.shared.changed.wait_timeout(log, left).unwrap().0;
        }
        true
    }
}

impl Drop for ZipkinReceiver {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

async fn collect(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let mode = *shared.mode.lock().unwrap();
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let mut received = Received {
        b3: header("b3"),
        content_type: header("content-type"),
        content_encoding: header("content-encoding"),
        spans: 0,
        status: 0,
    };
    match mode {
        Mode::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return StatusCode::SERVICE_UNAVAILABLE;
        }
        Mode::Fail => {
            received.status = 500;
            shared.log.lock().unwrap().requests.push(received);
            return StatusCode::INTERNAL_SERVER_ERROR;
        }
        Mode::Accept => {}
    }
    let result = decode(&received, &body).and_then(|v| validate_list(&v).map(|()| v));
    let mut log = shared.log.lock().unwrap();
    let status = match result {
        Ok(Value::Array(spans)) => {
            received.spans = spans.len();
            log.spans.extend(spans);
            StatusCode::ACCEPTED
        }
        Ok(_) => unreachable!("validate_list checks for an array"),
        Err(e) => {
            log.errors.push(e);
            StatusCode::BAD_REQUEST
        }
    };
    received.status = status.as_u16();
    log.requests.push(received);
    drop(log);
    shared.changed.notify_all();
    status
}

fn decode(received: &Received, body: &[u8]) -> Result<Value, String> {
    let mut plain = Vec::new();
    let bytes: &[u8] = match received.content_encoding.as_deref() {
        Some("gzip") => {
            flate2::read::GzDecoder::new(body)
                .read_to_end(&mut plain)
                .map_err(|e| format!("gzip: {e}"))?;
            &plain
        }
        None => body,
        Some(other) => return Err(format!("unsupported encoding {other}")),
    };
    if bytes.first() != Some(&b'[') {
        return Err("body does not start with [".into());
    }
    serde_json::from_slice(bytes).map_err(|e| format!("malformed JSON: {e}"))
}

fn is_lower_hex(s: &str, lens: &[usize]) -> bool {
    lens.contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && s.bytes().any(|b| b != b'0')
}

/// `definitions/ListOfSpans` plus Zipkin's decoder rules.
pub fn validate_list(v: &Value) -> Result<(), String> {
    let spans = v.as_array().ok_or("not a list")?;
    for (i, s) in spans.iter().enumerate() {
        validate_span(s).map_err(|e| format!("span {i}: {e}: {s}"))?;
    }
    Ok(())
}

pub fn validate_span(s: &Value) -> Result<(), String> {
    let o = s.as_object().ok_or("not an object")?;
    const KEYS: [&str; 13] = [
        "traceId",
        "name",
        "parentId",
        "id",
        "kind",
        "timestamp",
        "duration",
        "debug",
        "shared",
        "localEndpoint",
        "remoteEndpoint",
        "annotations",
        "tags",
    ];
    if let Some(k) = o.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(format!("unknown field {k}"));
    }
    let trace_id = o.get("traceId").and_then(Value::as_str).ok_or("traceId")?;
    if !is_lower_hex(trace_id, &[16, 32]) {
        return Err(format!("traceId {trace_id:?}"));
    }
    let id = o.get("id").and_then(Value::as_str).ok_or("id")?;
    if !is_lower_hex(id, &[16]) {
        return Err(format!("id {id:?}"));
    }
    if let Some(p) = o.get("parentId") {
        let p = p.as_str().ok_or("parentId not a string")?;
        if !is_lower_hex(p, &[16]) {
            return Err(format!("parentId {p:?}"));
        }
    }
    if let Some(k) = o.get("kind") {
        let k = k.as_str().ok_or("kind not a string")?;
        if !["CLIENT", "SERVER", "PRODUCER", "CONSUMER"].contains(&k) {
            return Err(format!("kind {k:?}"));
        }
    }
    if let Some(n) = o.get("name") {
        let n = n.as_str().ok_or("name not a string")?;
        if n.chars().any(|c| c.is_ascii_uppercase()) {
            return Err(format!("name {n:?} not lower case"));
        }
    }
    let ts = o.get("timestamp").map(|t| t.as_u64().ok_or("timestamp"));
    let ts = ts.transpose()?.ok_or("no timestamp")?;
    // Epoch microseconds: after 2001 and before 2286.
    if !(1_000_000_000_000_000..10_000_000_000_000_000).contains(&ts) {
        return Err(format!("timestamp {ts} is not epoch microseconds"));
    }
    let d = o
        .get("duration")
        .and_then(Value::as_u64)
        .ok_or("duration")?;
    if d < 1 {
        return Err("duration < 1".into());
    }
    for flag in ["debug", "shared"] {
        if let Some(f) = o.get(flag) {
            f.as_bool().ok_or(format!("{flag} not a bool"))?;
        }
    }
    let local = o.get("localEndpoint").ok_or("no localEndpoint")?;
    validate_endpoint(local)?;
    let service = local
        .get("serviceName")
        .and_then(Value::as_str)
        .ok_or("no localEndpoint.serviceName")?;
    if service.is_empty() {
        return Err("empty serviceName".into());
    }
    if let Some(r) = o.get("remoteEndpoint") {
        validate_endpoint(r)?;
    }
    if let Some(a) = o.get("annotations") {
        for a in a.as_array().ok_or("annotations not a list")? {
            a.get("timestamp")
                .and_then(Value::as_u64)
                .ok_or("annotation timestamp")?;
            a.get("value")
                .and_then(Value::as_str)
                .ok_or("annotation value")?;
        }
    }
    if let Some(t) = o.get("tags") {
        for (k, v) in t.as_object().ok_or("tags not an object")? {
            v.as_str().ok_or(format!("tag {k} not a string"))?;
        }
    }
    Ok(())
}

fn validate_endpoint(e: &Value) -> Result<(), String> {
    let o = e.as_object().ok_or("endpoint not an object")?;
    for (k, v) in o {
        match k.as_str() {
            "serviceName" => {
                v.as_str().ok_or("serviceName not a string")?;
            }
            "ipv4" => {
                v.as_str()
                    .and_then(|s| s.parse::<std::net::Ipv4Addr>().ok())
                    .ok_or("bad ipv4")?;
            }
            "ipv6" => {
                v.as_str()
                    .and_then(|s| s.parse::<std::net::Ipv6Addr>().ok())
                    .ok_or("bad ipv6")?;
            }
            "port" => {
                let p = v.as_u64().ok_or("port not a number")?;
                if p == 0 || p > 65535 {
                    return Err(format!("port {p}"));
                }
            }
            other => return Err(format!("unknown endpoint field {other}")),
        }
    }
    Ok(())
}
