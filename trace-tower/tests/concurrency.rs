//! 1,000 concurrent requests with distinct ids on a multi-thread runtime: every response and
//! every handler observation (on the handler's thread, after it hopped threads, in a spawned
//! task and in a blocking task) matches its own request.

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::routing::get;
use axum::Router;
use support::{client, init_tracing, report, serve, Report};
use trace_tower::TraceLayer;

const REQUESTS: usize = 1000;

type Seen = Arc<Mutex<HashMap<usize, Report>>>;

/// Records what the handler saw under the request's number (from the path, not the context),
/// and answers with it too.
async fn handle(State(seen): State<Seen>, Path(n): Path<usize>) -> String {
    // Sleep so that requests overlap and tasks are parked and resumed on other workers.
    tokio::time::sleep(std::time::Duration::from_millis((n % 7) as u64)).await;
    let body = report().await;
    seen.lock().unwrap().insert(n, Report::parse(&body));
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_request_sees_only_its_own_id() {
    init_tracing();
    let seen: Seen = Arc::default();
    let app = Router::new()
        .route("/work/{n}", get(handle))
        .with_state(seen.clone())
        .layer(TraceLayer::new());
    let addr = serve(app).await;
    let client = client();

    // Half the ids are non-hex application ids, half are 32-hex trace ids.
    let ids: Vec<String> = (0..REQUESTS)
        .map(|n| {
            if n % 2 == 0 {
                format!("req-{n}-{}", trace_context::SpanId::random())
            } else {
                trace_context::TraceId::random().to_string()
            }
        })
        .collect();

    let calls = ids.iter().enumerate().map(|(n, id)| {
        let client = client.clone();
        let id = id.clone();
        tokio::spawn(async move {
            let response = client
                .get(format!("http://{addr}/work/{n}"))
                .header("x-app-trace-id", &id)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            let echoed = response.headers()["x-app-trace-id"]
                .to_str()
                .unwrap()
                .to_owned();
            let report = Report::parse(&response.text().await.unwrap());
            (n, echoed, report)
        })
    });
    let results = futures::future::join_all(calls).await;

    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), REQUESTS);
    let mut span_ids = std::collections::HashSet::new();
    for result in results {
        let (n, echoed, report) = result.unwrap();
        let id = &ids[n];
        assert_eq!(&echoed, id, "request {n}: echoed");
        let expected_trace = trace_context::AppTraceId::parse(id.as_bytes())
            .unwrap()
            .trace_id()
            .to_string();
        for (who, view) in [
            ("handler", &report.handler),
            ("spawned", &report.spawned),
            ("blocking", &report.blocking),
        ] {
            assert_eq!(view.app_id.as_ref(), Some(id), "request {n}, {who}");
            assert_eq!(
                view.trace_id.as_ref(),
                Some(&expected_trace),
                "request {n}, {who}"
            );
        }
        // What the handler recorded on the server side is the same.
        let recorded = &seen[&n];
        assert_eq!(recorded.handler, report.handler, "request {n}");
        assert_eq!(recorded.blocking, report.blocking, "request {n}");
        // Every request has its own server span.
        assert!(span_ids.insert(report.handler.span_id.clone().unwrap()));
    }
}
