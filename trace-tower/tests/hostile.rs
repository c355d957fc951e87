//! Hostile header values sent over the wire are replaced by a fresh id and never reflected:
//! not in the response, not in the handler's context, not on the server span.
//!
//! Every hostile value carries the marker `evil`; a value that is accepted would show up in the
//! echoed header and the handler's report, so the checks below can fail (the positive controls
//! at the end show that they do see an accepted value).

mod support;

use std::net::SocketAddr;

use axum::routing::get;
use axum::Router;
use support::{client, init_tracing, is_trace_hex, raw_get, report, serve, server_span_of, Report};
use trace_context::TraceId;
use trace_tower::TraceLayer;

const MARKER: &[u8] = b"evil";

async fn server() -> SocketAddr {
    init_tracing();
    serve(
        Router::new()
            .route("/report", get(report))
            .layer(TraceLayer::new()),
    )
    .await
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Values reqwest (the `http` crate) lets through: they reach the layer.
fn sendable() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("space", b"evil value".to_vec()),
        ("double quotes", b"\"evil\"".to_vec()),
        ("single quote", b"evil'1".to_vec()),
        ("tab", b"evil\tvalue".to_vec()),
        ("comma", b"evil,1".to_vec()),
        ("semicolon", b"evil;1".to_vec()),
        ("angle brackets", b"<evil>".to_vec()),
        ("braces", b"{evil}".to_vec()),
        ("backslash", b"evil\\1".to_vec()),
        ("percent", b"evil%0d%0a".to_vec()),
        ("non-ASCII UTF-8", "evil-café".as_bytes().to_vec()),
        ("non-UTF-8 bytes", b"evil\xff\xfe\x80".to_vec()),
        ("129 bytes", {
            let mut v = MARKER.to_vec();
            v.resize(129, b'a');
            v
        }),
        ("10 KB", {
            let mut v = MARKER.to_vec();
            v.resize(10 * 1024, b'7');
            v
        }),
    ]
}

/// Checks one accepted-by-HTTP request: a fresh id, nothing of the value reflected.
fn assert_fresh(what: &str, echoed: Option<&[u8]>, raw: &[u8], report: &Report) -> TraceId {
    let echoed = echoed.unwrap_or_else(|| panic!("{what}: no id echoed"));
    let echoed = std::str::from_utf8(echoed).unwrap();
    assert!(is_trace_hex(echoed), "{what}: echoed {echoed:?}");
    assert!(!contains(raw, MARKER), "{what}: reflected in the response");
    for view in [&report.handler, &report.spawned, &report.blocking] {
        assert_eq!(view.app_id, None, "{what}: {report:?}");
        assert_eq!(view.trace_id.as_deref(), Some(echoed), "{what}: {report:?}");
        assert_eq!(view.parent_id, None, "{what}: {report:?}");
    }
    TraceId::parse(echoed).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hostile_app_ids_sent_with_reqwest_get_a_fresh_id() {
    let addr = server().await;
    for (what, value) in sendable() {
        let header = reqwest::header::HeaderValue::from_bytes(&value).unwrap();
        let response = client()
            .get(format!("http://{addr}/report"))
            .header("x-app-trace-id", header)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{what}");
        let echoed = response
            .headers()
            .get("x-app-trace-id")
            .map(|v| v.as_bytes().to_vec());
        let mut raw = Vec::new();
        for (name, value) in response.headers() {
            raw.extend_from_slice(name.as_str().as_bytes());
            raw.extend_from_slice(value.as_bytes());
        }
        let body = response.bytes().await.unwrap();
        raw.extend_from_slice(&body);
        let report = Report::parse(std::str::from_utf8(&body).unwrap());
        let trace = assert_fresh(what, echoed.as_deref(), &raw, &report);
        let span = server_span_of(trace).await;
        assert_eq!(span.field("app.trace_id"), None, "{what}");
        assert!(
            span.fields
                .values()
                .all(|v| !contains(v.as_bytes(), MARKER)),
            "{what}: {span:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_empty_app_id_gets_a_fresh_id() {
    let addr = server().await;
    let response = client()
        .get(format!("http://{addr}/report"))
        .header("x-app-trace-id", "")
        .send()
        .await
        .unwrap();
    let echoed = response.headers()["x-app-trace-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(is_trace_hex(&echoed), "{echoed:?}");
    let report = Report::parse(&response.text().await.unwrap());
    assert_eq!(report.handler.app_id, None);
    assert_eq!(report.handler.trace_id, Some(echoed));
}

/// Bytes reqwest refuses to send (CR, LF, NUL, other control bytes), written on a raw socket.
/// hyper refuses most of them with a 400 before any service runs; whatever it lets through
/// must get a fresh id.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hostile_bytes_on_a_raw_connection_are_refused_or_replaced() {
    let addr = server().await;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("CR", b"X-App-Trace-Id: ev\ril".to_vec()),
        ("LF", b"X-App-Trace-Id: ev\nil".to_vec()),
        ("NUL", b"X-App-Trace-Id: evil\x00x".to_vec()),
        ("SOH", b"X-App-Trace-Id: evil\x01x".to_vec()),
        (
            "ESC (terminal escape)",
            b"X-App-Trace-Id: evil\x1b[31mred".to_vec(),
        ),
        ("DEL", b"X-App-Trace-Id: evil\x7f".to_vec()),
        ("vertical tab", b"X-App-Trace-Id: evil\x0bx".to_vec()),
        ("obs-fold", b"X-App-Trace-Id: evil\r\n folded".to_vec()),
        ("non-UTF-8", b"X-App-Trace-Id: evil\xc3\x28".to_vec()),
        ("space", b"X-App-Trace-Id: evil value".to_vec()),
        ("129 bytes", {
            let mut v = b"X-App-Trace-Id: evil".to_vec();
            v.resize(v.len() + 125, b'b');
            v
        }),
    ];
    let mut refused = Vec::new();
    for (what, line) in cases {
        let response = raw_get(addr, "/report", &[&line]).await;
        if response.status == 400 {
            // The HTTP stack refused the request: no service ran, nothing echoed.
            assert_eq!(response.header("x-app-trace-id"), None, "{what}");
            assert!(!contains(&response.raw, MARKER), "{what}: reflected");
            refused.push(what);
            continue;
        }
        assert_eq!(response.status, 200, "{what}: {response:?}");
        let report = Report::parse(std::str::from_utf8(&response.body).unwrap());
        let echoed = response.header("x-app-trace-id");
        // "ev" alone (the value cut at a line break by the HTTP parser) would be a valid id
        // of its own; it must not be what is echoed either way.
        assert_ne!(echoed, Some(&b"ev"[..]), "{what}");
        assert_fresh(what, echoed, &response.raw, &report);
    }
    // (A CR LF inside a value cannot be sent: it ends the header line, and what follows is
    // another header.) hyper refuses the control bytes itself; the rest reached the layer and
    // were replaced.
    println!("refused by hyper: {refused:?}");
    for control in ["CR", "NUL", "SOH", "DEL"] {
        assert!(
            refused.contains(&control),
            "{control} was not refused: {refused:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hostile_traceparent_and_b3_values_start_a_new_trace() {
    let addr = server().await;
    let good_trace = "0af7651916cd43dd8448eb211c80319c";
    let cases: Vec<(&str, &str, String)> = vec![
        (
            "traceparent",
            "not hex",
            "00-evil-b7ad6b7169203331-01".into(),
        ),
        (
            "traceparent",
            "all-zero trace id",
            "00-00000000000000000000000000000000-b7ad6b7169203331-01".into(),
        ),
        (
            "traceparent",
            "upper case",
            "00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01".into(),
        ),
        (
            "traceparent",
            "version ff",
            format!("ff-{good_trace}-b7ad6b7169203331-01"),
        ),
        (
            "traceparent",
            "too long",
            format!("00-{good_trace}-b7ad6b7169203331-01-{}", "e".repeat(4096)),
        ),
        ("b3", "garbage", "evil-evil-1".into()),
        ("b3", "short span id", format!("{good_trace}-b7ad-1")),
        ("x-b3-traceid", "10 KB", "e".repeat(10 * 1024)),
    ];
    for (name, what, value) in cases {
        let response = client()
            .get(format!("http://{addr}/report"))
            .header(name, &value)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{name} {what}");
        let echoed = response.headers()["x-app-trace-id"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(is_trace_hex(&echoed), "{name} {what}: {echoed}");
        assert_ne!(echoed, good_trace, "{name} {what}");
        let report = Report::parse(&response.text().await.unwrap());
        assert_eq!(report.handler.trace_id, Some(echoed), "{name} {what}");
        assert_eq!(report.handler.parent_id, None, "{name} {what}");
    }
}

/// Positive controls: the same checks see a valid value when there is one.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn valid_values_with_the_marker_are_accepted_so_the_checks_can_fail() {
    let addr = server().await;
    let mut at_limit = b"evil-".to_vec();
    at_limit.resize(128, b'x');
    let at_limit = String::from_utf8(at_limit).unwrap();
    for value in ["evil-ok-123", "evil_1.2:3/4+5=6@7", at_limit.as_str()] {
        let response = client()
            .get(format!("http://{addr}/report"))
            .header("x-app-trace-id", value)
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["x-app-trace-id"], value);
        let report = Report::parse(&response.text().await.unwrap());
        assert_eq!(report.handler.app_id.as_deref(), Some(value));
    }
    // And over the raw connection.
    let response = raw_get(addr, "/report", &[b"X-App-Trace-Id: evil-raw-1"]).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("x-app-trace-id"), Some(&b"evil-raw-1"[..]));
}
