//! `--zipkin URL` and `OTEL_EXPORTER_ZIPKIN_ENDPOINT`: the shop's spans reach a Zipkin server
//! (a stand-in collector on 127.0.0.1 that checks what it receives, as Zipkin does), from the
//! demo run and from the four services run as separate processes.
#![cfg(feature = "instrumented")]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use examples::server::{bind, serve, ServiceHandle};
use examples::zipkin::{Kind, Span};

const SHOP: &str = env!("CARGO_BIN_EXE_shop");

/// What the collector received, and what it refused (and why).
#[derive(Default)]
struct Collected {
    spans: Mutex<Vec<Span>>,
    refused: Mutex<Vec<String>>,
}

type Received = Arc<Collected>;

/// `POST /api/v2/spans`: refuses what Zipkin refuses (a body that is not a JSON list of spans,
/// upper-case or wrongly sized ids, no duration) and requests without `b3: 0`; answers 202 and
/// keeps the spans.
async fn collector() -> (ServiceHandle, Received) {
    let received: Received = Arc::default();
    let app = Router::new()
        .route(
            "/api/v2/spans",
            post(
                |State(received): State<Received>, headers: HeaderMap, body: Bytes| async move {
                    match check(&headers, &body) {
                        Ok(spans) => {
                            received.spans.lock().unwrap().extend(spans);
                            StatusCode::ACCEPTED
                        }
                        Err(why) => {
                            received.refused.lock().unwrap().push(why);
                            StatusCode::BAD_REQUEST
                        }
                    }
                },
            ),
        )
        .with_state(received.clone());
    let listener = bind("127.0.0.1:0".parse().unwrap(), "--port")
        .await
        .unwrap();
    (serve("zipkin", listener, app).unwrap(), received)
}

fn check(headers: &HeaderMap, body: &[u8]) -> Result<Vec<Span>, String> {
    if headers.get("b3").is_none_or(|v| v != "0") {
        return Err(format!("no `b3: 0` on the reporter's request: {headers:?}"));
    }
    if !body.starts_with(b"[") {
        return Err("the body is not a JSON list".into());
    }
    let spans = examples::zipkin::parse_spans(body).map_err(|e| e.to_string())?;
    let hex = |s: &str, lens: &[usize]| {
        lens.contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    for s in &spans {
        let ok = hex(&s.trace_id, &[16, 32])
            && hex(&s.id, &[16])
            && s.parent_id.as_deref().is_none_or(|p| hex(p, &[16]))
            && s.duration.is_some_and(|d| d >= 1)
            && s.timestamp.is_some_and(|t| t >= 1);
        if !ok {
            return Err(format!("not a valid Zipkin v2 span: {s:?}"));
        }
    }
    Ok(spans)
}

fn of_trace(received: &Received, trace_id: &str) -> Vec<Span> {
    let refused = received.refused.lock().unwrap();
    assert!(refused.is_empty(), "the collector refused: {refused:#?}");
    received
        .spans
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.trace_id == trace_id)
        .cloned()
        .collect()
}

/// The shop's tree, checked loosely: 9 spans, one root (the gateway's server span), every
/// parent present, every server span but the root `shared` and the child of a client span.
fn assert_shop_trace(spans: &[Span]) {
    assert_eq!(spans.len(), 9, "{spans:#?}");
    let roots: Vec<&Span> = spans.iter().filter(|s| s.parent_id.is_none()).collect();
    assert_eq!(roots.len(), 1);
    assert_eq!(roots[0].service_name(), "gateway");
    assert_eq!(roots[0].kind, Some(Kind::Server));
    for s in spans {
        if let Some(p) = &s.parent_id {
            let parent = spans
                .iter()
                .find(|o| &o.id == p)
                .expect("the parent is there");
            if s.kind == Some(Kind::Server) {
                assert!(s.shared, "{s:?}");
                assert_eq!(parent.kind, Some(Kind::Client));
                assert_ne!(parent.service_name(), s.service_name());
            }
        }
    }
    let mut services: Vec<&str> = spans.iter().map(Span::service_name).collect();
    services.sort_unstable();
    services.dedup();
    assert_eq!(services, ["gateway", "order", "product", "user"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_sends_its_spans_to_the_zipkin_given_by_flag_or_environment() {
    let (zipkin, received) = collector().await;
    for by_env in [false, true] {
        let mut cmd = Command::new(SHOP);
        cmd.args(["--gateway-port", "0", "--order-port", "0"])
            .args(["--user-port", "0", "--product-port", "0"]);
        let dir = std::env::temp_dir().join(format!("examples-zipkin-{}", std::process::id()));
        cmd.arg("--out-dir").arg(&dir);
        if by_env {
            cmd.env(
                "OTEL_EXPORTER_ZIPKIN_ENDPOINT",
                format!("{}/api/v2/spans", zipkin.url()),
            );
        } else {
            cmd.env_remove("OTEL_EXPORTER_ZIPKIN_ENDPOINT")
                .args(["--zipkin", &zipkin.url()]);
        }
        let app_id = format!("4bf92f3577b34da6a3ce929d0e0e473{}", u8::from(by_env));
        cmd.args(["--app-trace-id", &app_id]);
        let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{stdout}");
        assert!(stdout.contains("spans also go to Zipkin at"), "{stdout}");
        // The process flushed at exit: the trace is complete at the collector.
        assert_shop_trace(&of_trace(&received, &app_id));
        let _ = std::fs::remove_dir_all(&dir);
    }
    zipkin.shutdown().await.unwrap();
}

struct Process(Child, String);

impl Process {
    fn start(args: &[&str], zipkin: &str) -> Process {
        let mut child = Command::new(SHOP)
            .args(args)
            .env("OTEL_EXPORTER_ZIPKIN_ENDPOINT", zipkin)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        // Keep draining stdout so the service never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("a URL in {line:?}"))
            .to_owned();
        Process(child, url)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_report_one_trace() {
    let (zipkin, received) = collector().await;
    let z = zipkin.url();
    let user = Process::start(&["user", "--port", "0"], &z);
    let product = Process::start(&["product", "--port", "0"], &z);
    let order = Process::start(
        &[
            "order",
            "--port",
            "0",
            "--user-url",
            &user.1,
            "--product-url",
            &product.1,
        ],
        &z,
    );
    let gateway = Process::start(&["gateway", "--port", "0", "--order-url", &order.1], &z);
    let url = examples::shop::submit_order_url(
        &gateway.1,
        examples::services::order::OrderRequest {
            user_id: 1003,
            product_id: 1002,
            count: 1,
        },
    );
    let app_id = "00f067aa0ba902b74bf92f3577b34da6";
    let r = reqwest::Client::new()
        .get(&url)
        .header("x-app-trace-id", app_id)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // Each process sends its spans on its own schedule (at least once a second).
    let deadline = Instant::now() + Duration::from_secs(20);
    while of_trace(&received, app_id).len() < 9 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_shop_trace(&of_trace(&received, app_id));
    drop((gateway, order, product, user));
    zipkin.shutdown().await.unwrap();
}
