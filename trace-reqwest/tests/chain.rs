//! A → B → C: three real services, each behind trace-tower's `TraceLayer`, this crate between
//! them (A calls B through the middleware, B calls C with plain reqwest).

mod support;

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::get;
use axum::Router;
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use support::{client_spans_of, plain_client, render_seen, serve, spans_of, Seen};
use trace_context::AppTraceId;
use trace_reqwest::{RequestBuilderExt, TracingMiddleware};
use trace_tower::TraceLayer;

type Log = Arc<Mutex<Vec<(&'static str, Seen)>>>;

#[derive(Clone)]
struct Hop {
    name: &'static str,
    log: Log,
    next: Option<Next>,
}

#[derive(Clone)]
enum Next {
    Middleware(ClientWithMiddleware, String),
    Plain(reqwest::Client, String),
}

async fn handle(State(hop): State<Hop>, headers: HeaderMap) -> String {
    let seen = Seen::parse(&render_seen(&headers));
    hop.log.lock().unwrap().push((hop.name, seen));
    match &hop.next {
        None => "end".to_owned(),
        Some(Next::Middleware(client, url)) => {
            let r = client.get(url).send().await.unwrap();
            r.text().await.unwrap()
        }
        Some(Next::Plain(client, url)) => {
            let r = client.get(url).send_traced().await.unwrap();
            r.text().await.unwrap()
        }
    }
}

fn service(hop: Hop) -> Router {
    let layer = TraceLayer::new().service_name(hop.name);
    Router::new()
        .route("/hop", get(handle))
        .with_state(hop)
        .layer(layer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_trace_across_three_services() {
    support::init_tracing();
    let log: Log = Arc::default();
    let c = serve(service(Hop {
        name: "C",
        log: log.clone(),
        next: None,
    }))
    .await;
    let b = serve(service(Hop {
        name: "B",
        log: log.clone(),
        next: Some(Next::Plain(plain_client(), format!("http://{c}/hop"))),
    }))
    .await;
    let middleware = ClientBuilder::new(plain_client())
        .with(TracingMiddleware::new())
        .build();
    let a = serve(service(Hop {
        name: "A",
        log: log.clone(),
        next: Some(Next::Middleware(middleware, format!("http://{b}/hop"))),
    }))
    .await;

    // A browser-made id enters A (not hex: kept verbatim, hashed into the trace id).
    let app_id = "web-1716268000123-42";
    let response = plain_client()
        .get(format!("http://{a}/hop"))
        .header("x-app-trace-id", app_id)
        .send()
        .await
        .unwrap();
    let echoed = response
        .headers()
        .get("x-app-trace-id")
        .map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(response.text().await.unwrap(), "end");

    let log = log.lock().unwrap().clone();
    let names: Vec<_> = log.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["A", "B", "C"]);
    let (sa, sb, sc) = (&log[0].1, &log[1].1, &log[2].1);

    // Every service is in the same trace: the one derived from the application id.
    let trace = AppTraceId::parse(app_id.as_bytes()).unwrap().trace_id();
    for seen in [sa, sb, sc] {
        assert_eq!(seen.trace_id.as_deref(), Some(trace.to_string().as_str()));
        // The application id that entered A is what every service sees.
        assert_eq!(seen.app_id.as_deref(), Some(app_id));
        assert_eq!(seen.header("x-app-trace-id"), Some(app_id));
    }
    // A started the trace: no parent.
    assert_eq!(sa.parent_id, None);

    // Two client spans: A → B (child of A's server span), B → C (child of B's server span).
    let clients = client_spans_of(trace);
    assert_eq!(clients.len(), 2, "{clients:?}");
    let child_of = |server: &Seen| {
        let id = server.span_id.clone().unwrap();
        clients
            .iter()
            .find(|c| {
                c.context
                    .as_ref()
                    .unwrap()
                    .parent_span_id()
                    .map(|p| p.to_string())
                    == Some(id.clone())
            })
            .unwrap_or_else(|| panic!("a client span under {id}: {clients:?}"))
            .span_id()
            .to_string()
    };
    let a_client = child_of(sa);
    let b_client = child_of(sb);
    // B's server span's parent is A's client span; C's is B's.
    assert_eq!(sb.parent_id.as_deref(), Some(a_client.as_str()));
    assert_eq!(sc.parent_id.as_deref(), Some(b_client.as_str()));

    // The same, read from the server spans trace-tower opened (as the exporter will see them).
    let server = |name: &str| {
        let spans: Vec<_> = spans_of(trace)
            .into_iter()
            .filter(|s| s.kind() == Some("server") && s.field("service.name") == Some(name))
            .collect();
        assert_eq!(spans.len(), 1, "one server span for {name}: {spans:?}");
        spans.into_iter().next().unwrap()
    };
    let (server_a, server_b, server_c) = (server("A"), server("B"), server("C"));
    let ctx = |s: &support::Captured| s.context.clone().unwrap();
    assert_eq!(ctx(&server_a).parent_span_id(), None);
    assert!(!ctx(&server_a).remote_parent());
    assert_eq!(
        ctx(&server_b).parent_span_id().map(|p| p.to_string()),
        Some(a_client.clone())
    );
    assert!(ctx(&server_b).remote_parent());
    assert_eq!(
        ctx(&server_c).parent_span_id().map(|p| p.to_string()),
        Some(b_client.clone())
    );
    // Each server span is the span its handler ran in.
    assert_eq!(Some(server_a.span_id().to_string()), sa.span_id);
    assert_eq!(Some(server_b.span_id().to_string()), sb.span_id);
    assert_eq!(Some(server_c.span_id().to_string()), sc.span_id);
    // The application id is tagged on every server span, and echoed to the browser.
    for s in [&server_a, &server_b, &server_c] {
        assert_eq!(s.field("app.trace_id"), Some(app_id));
        assert_eq!(s.field("http.route"), Some("/hop"));
        assert_eq!(s.field("http.status_code"), Some("200"));
    }
    assert_eq!(echoed.as_deref(), Some(app_id));
}
