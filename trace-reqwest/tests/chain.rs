//! A → B → C: three real services, this crate between them (A calls B through the middleware,
//! B calls C with plain reqwest), the server side of each wrapped by [`support::server`].

mod support;

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::get;
use axum::Router;
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use support::{client_spans_of, plain_client, render_seen, serve, Seen};
use trace_context::AppTraceId;
use trace_reqwest::{RequestBuilderExt, TracingMiddleware};

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
    support::server::traced(Router::new().route("/hop", get(handle)).with_state(hop))
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
}
