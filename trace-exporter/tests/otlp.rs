//! OTLP/HTTP delivery (feature `otlp`) to a receiver on 127.0.0.1.
#![cfg(feature = "otlp")]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use trace_context::{SpanId, TraceId};
use trace_exporter::{Endpoint, Kind, Reporter, SpanRecord};

type Seen = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

#[test]
fn spans_reach_an_otlp_receiver_grouped_by_service() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let seen: Seen = Arc::default();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().route(
        "/v1/traces",
        post({
            let seen = Arc::clone(&seen);
            move |headers: HeaderMap, body: Bytes| async move {
                seen.lock().unwrap().push((headers, body));
                StatusCode::OK
            }
        }),
    );
    rt.spawn(async move { axum::serve(listener, app).await.unwrap() });

    let reporter = Reporter::builder()
        .otlp(format!("http://{addr}/v1/traces"))
        .flush_interval(Duration::from_millis(20))
        .build()
        .unwrap();
    let trace = TraceId::random();
    for (service, name) in [("order-svc", "get /order/{id}"), ("user-svc", "load user")] {
        let mut s = SpanRecord::new(
            trace,
            SpanId::random(),
            name,
            Arc::new(Endpoint::service(service)),
        );
        s.kind = Some(Kind::Server);
        s.timestamp = 1_700_000_000_000_000;
        s.duration = 10;
        s.set_tag("http.method", "GET");
        reporter.sink().report(s);
    }
    reporter.shutdown(Duration::from_secs(20)).unwrap();
    assert_eq!(reporter.metrics().spans_sent, 2);

    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2, "one request per service");
    let all: Vec<u8> = seen.iter().flat_map(|(_, b)| b.to_vec()).collect();
    let contains = |needle: &[u8]| all.windows(needle.len()).any(|w| w == needle);
    assert!(contains(&trace.to_u128().to_be_bytes()), "trace id bytes");
    for text in [
        "order-svc",
        "user-svc",
        "get /order/{id}",
        "load user",
        "http.method",
    ] {
        assert!(contains(text.as_bytes()), "{text} missing");
    }
    for (headers, _) in seen.iter() {
        assert_eq!(headers["content-type"], "application/x-protobuf");
        assert_eq!(headers["b3"], "0");
    }
}
