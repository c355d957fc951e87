//! A handler that panics (caught by tower-http's `CatchPanicLayer` outside the trace layer), a
//! handler that answers 5xx and a service that returns an error: the server span is closed
//! with `error` set, and the next request on the same worker thread (a 1-worker runtime)
//! starts from a clean context.

mod support;

use std::fmt;
use std::net::SocketAddr;

use axum::error_handling::HandleErrorLayer;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use support::{client, init_tracing, report, serve, server_span_of, Report, View};
use trace_context::{AppTraceId, TraceId};
use trace_tower::TraceLayer;

#[derive(Debug)]
struct Boom;

impl fmt::Display for Boom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("database unreachable")
    }
}

impl std::error::Error for Boom {}

async fn panics() -> String {
    tokio::task::yield_now().await;
    panic!("handler bug");
}

async fn fails() -> (StatusCode, &'static str) {
    (StatusCode::SERVICE_UNAVAILABLE, "try later")
}

/// Not behind the trace layer: what the worker thread has as its context between requests.
async fn probe() -> String {
    let view = View::current();
    format!("{view:?}")
}

fn app() -> Router {
    let traced = Router::new()
        .route("/panic", get(panics))
        .route("/fail", get(fails))
        .route("/report", get(report))
        .layer(TraceLayer::new());
    // A service whose future returns an error: the trace layer sees `Err`, an error handler
    // outside it turns it into a 500.
    let erroring = tower::ServiceBuilder::new()
        .layer(HandleErrorLayer::new(|e: Boom| async move {
            (StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
        }))
        .layer(TraceLayer::new())
        .service(tower::service_fn(|_req: axum::extract::Request| async {
            Err::<Response, _>(Boom)
        }));
    traced
        .route_service("/error", erroring)
        .route("/probe", get(probe))
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
}

fn one_worker_server() -> (tokio::runtime::Runtime, SocketAddr) {
    init_tracing();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let addr = rt.block_on(serve(app()));
    (rt, addr)
}

async fn get_with(addr: SocketAddr, path: &str, app_id: Option<&str>) -> reqwest::Response {
    let mut req = client().get(format!("http://{addr}{path}"));
    if let Some(id) = app_id {
        req = req.header("x-app-trace-id", id);
    }
    req.send().await.unwrap()
}

async fn assert_clean_worker(addr: SocketAddr) {
    let probe = get_with(addr, "/probe", None).await.text().await.unwrap();
    assert_eq!(probe, format!("{:?}", View::default()), "stale context");
}

fn trace_of(app_id: &str) -> TraceId {
    AppTraceId::parse(app_id.as_bytes()).unwrap().trace_id()
}

#[test]
fn a_panicking_handler_closes_its_span_with_error_and_leaves_no_context_behind() {
    let (_server, addr) = one_worker_server();
    let client_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    client_rt.block_on(async {
        assert_clean_worker(addr).await;
        for round in 0..3 {
            let id = format!("panic-{round}-{}", TraceId::random());
            let response = get_with(addr, "/panic", Some(&id)).await;
            assert_eq!(response.status(), 500);
            let span = server_span_of(trace_of(&id)).await;
            assert_eq!(span.field("error"), Some("panic"), "{span:?}");
            assert_eq!(span.field("app.trace_id"), Some(id.as_str()));

            // The worker thread has no context left, and the next request gets its own.
            assert_clean_worker(addr).await;
            let response = get_with(addr, "/report", None).await;
            let echoed = response.headers()["x-app-trace-id"]
                .to_str()
                .unwrap()
                .to_owned();
            let report = Report::parse(&response.text().await.unwrap());
            assert_eq!(report.handler.trace_id, Some(echoed.clone()));
            assert_ne!(echoed, trace_of(&id).to_string());
            assert_eq!(report.handler.app_id, None);
            assert_eq!(report.handler.parent_id, None);
            let next = format!("next-{round}");
            let report = Report::parse(
                &get_with(addr, "/report", Some(&next))
                    .await
                    .text()
                    .await
                    .unwrap(),
            );
            assert_eq!(report.handler.app_id, Some(next));
        }
    });
}

#[test]
fn a_5xx_answer_and_a_service_error_close_the_span_with_error() {
    let (_server, addr) = one_worker_server();
    let client_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    client_rt.block_on(async {
        // 5xx from the handler: status and error recorded, id still echoed.
        let id = format!("fail-{}", TraceId::random());
        let response = get_with(addr, "/fail", Some(&id)).await;
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers()["x-app-trace-id"], id.as_str());
        let span = server_span_of(trace_of(&id)).await;
        assert_eq!(span.field("http.status_code"), Some("503"));
        assert_eq!(span.field("error"), Some("503"));
        assert_clean_worker(addr).await;

        // A service error: its text is recorded; no status (there is no response).
        let id = format!("error-{}", TraceId::random());
        let response = get_with(addr, "/error", Some(&id)).await;
        assert_eq!(response.status(), 500);
        assert_eq!(response.text().await.unwrap(), "database unreachable");
        let span = server_span_of(trace_of(&id)).await;
        assert_eq!(span.field("error"), Some("database unreachable"));
        assert_eq!(span.field("http.status_code"), None);
        assert_clean_worker(addr).await;

        // A 2xx/4xx is not an error.
        let id = format!("ok-{}", TraceId::random());
        let response = get_with(addr, "/report", Some(&id)).await;
        assert_eq!(response.status(), 200);
        let span = server_span_of(trace_of(&id)).await;
        assert_eq!(span.field("http.status_code"), Some("200"));
        assert_eq!(span.field("error"), None);
    });
}

/// The other arrangement: the panic-catching layer inside the trace layer. The trace layer then
/// sees the 500 the catcher made: the span records it and the id is echoed to the caller.
#[test]
fn with_the_panic_catcher_inside_the_500_is_recorded_and_the_id_echoed() {
    init_tracing();
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let app = Router::new()
        .route("/panic", get(panics))
        .route("/report", get(report))
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
        .layer(TraceLayer::new())
        .route("/probe", get(probe));
    let addr = server_rt.block_on(serve(app));
    let client_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    client_rt.block_on(async {
        let id = format!("caught-{}", TraceId::random());
        let response = get_with(addr, "/panic", Some(&id)).await;
        assert_eq!(response.status(), 500);
        assert_eq!(response.headers()["x-app-trace-id"], id.as_str());
        let span = server_span_of(trace_of(&id)).await;
        assert_eq!(span.field("http.status_code"), Some("500"));
        assert_eq!(span.field("error"), Some("500"));
        assert_clean_worker(addr).await;
        let report = Report::parse(&get_with(addr, "/report", None).await.text().await.unwrap());
        assert_eq!(report.handler.app_id, None);
        assert_ne!(report.handler.trace_id, Some(trace_of(&id).to_string()));
    });
}
