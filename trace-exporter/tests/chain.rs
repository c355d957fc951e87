//! A request through two real services (trace-tower servers, a trace-reqwest client) yields
//! one trace of 4 spans with correct parent links, delivered to a Zipkin collector on
//! 127.0.0.1 that validates them; the trace id is the one the logs printed.

mod support;

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::routing::get;
use axum::Router;
use serde_json::Value;
use support::zipkin::ZipkinReceiver;
use trace_context::{Context, ContextLayer};
use trace_exporter::{AlwaysOn, MemorySink, ParentBased, Reporter};
use trace_reqwest::TracingMiddleware;
use trace_tower::TraceLayer;
use tracing_subscriber::layer::{Context as LayerContext, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

/// What a log formatter prints: the trace id current when an event is logged.
#[derive(Clone, Default)]
struct LogIds(Arc<Mutex<Vec<(String, String)>>>);

impl<S: tracing::Subscriber> Layer<S> for LogIds {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: LayerContext<'_, S>) {
        if !event.metadata().target().starts_with("chain") {
            return;
        }
        let id = Context::with_current(|c| c.map(|c| c.trace_id().to_string()));
        if let Some(id) = id {
            self.0
                .lock()
                .unwrap()
                .push((id, event.metadata().name().to_string()));
        }
    }
}

struct Setup {
    zipkin: ZipkinReceiver,
    reporter: Reporter,
    memory: MemorySink,
    logs: LogIds,
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let zipkin = ZipkinReceiver::start();
        let memory = MemorySink::new();
        let reporter = Reporter::builder()
            .service_name("default-service")
            .endpoint(zipkin.url())
            .memory(memory.clone())
            .flush_interval(Duration::from_millis(50))
            .sampler(ParentBased::new(AlwaysOn))
            .install()
            .unwrap();
        let logs = LogIds::default();
        tracing_subscriber::registry()
            .with(ContextLayer::new())
            .with(reporter.layer())
            .with(logs.clone())
            .init();
        Setup {
            zipkin,
            reporter,
            memory,
            logs,
        }
    })
}

async fn price(Path(id): Path<u32>) -> String {
    let span = tracing::info_span!("load price", product.id = id);
    let _g = span.enter();
    tracing::info!(target: "chain", "pricing product");
    format!("{}", id * 10)
}

async fn checkout(
    State((client, b)): State<(reqwest_middleware::ClientWithMiddleware, String)>,
) -> String {
    tracing::info!(target: "chain", "checkout");
    let price = client
        .get(format!("{b}/price/7"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    format!("total {price}")
}

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_services_one_trace() {
    let s = tokio::task::spawn_blocking(setup).await.unwrap();
    let b = serve(
        Router::new()
            .route("/price/{id}", get(price))
            .layer(TraceLayer::new().service_name("pricing")),
    )
    .await;
    let b_port: u16 = b.rsplit(':').next().unwrap().parse().unwrap();
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(TracingMiddleware::new())
        .build();
    let a = serve(
        Router::new()
            .route("/checkout", get(checkout))
            .with_state((client, b.clone()))
            .layer(TraceLayer::new().service_name("gateway")),
    )
    .await;

    // A plain client (no tracing): A starts the trace.
    let response = reqwest::get(format!("{a}/checkout")).await.unwrap();
    let echoed = response
        .headers()
        .get("x-app-trace-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(response.text().await.unwrap(), "total 70");

    let trace_id = trace_context::TraceId::parse(&echoed).unwrap();
    // The server span closes after the response is written: wait for all four.
    let memory = s.memory.clone();
    let complete = tokio::task::spawn_blocking(move || {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while memory.trace(trace_id).len() < 4 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        memory.trace(trace_id).len()
    })
    .await
    .unwrap();
    assert_eq!(complete, 4);
    let reporter = s.reporter.clone();
    tokio::task::spawn_blocking(move || reporter.flush(Duration::from_secs(20)))
        .await
        .unwrap()
        .unwrap();

    // Delivered to the collector, which validated every span.
    assert!(s.zipkin.errors().is_empty(), "{:?}", s.zipkin.errors());
    let spans: Vec<Value> = s
        .zipkin
        .spans()
        .into_iter()
        .filter(|v| v["traceId"] == echoed.as_str())
        .collect();
    assert_eq!(spans.len(), 4, "{spans:#?}");
    let find = |kind: Option<&str>, service: &str| -> &Value {
        spans
            .iter()
            .find(|v| {
                v.get("kind").and_then(Value::as_str) == kind
                    && v["localEndpoint"]["serviceName"] == service
            })
            .unwrap_or_else(|| panic!("no {kind:?} span of {service}: {spans:#?}"))
    };
    let a_server = find(Some("SERVER"), "gateway");
    let a_client = find(Some("CLIENT"), "gateway");
    let b_server = find(Some("SERVER"), "pricing");
    let b_user = find(None, "pricing");

    assert!(
        a_server.get("parentId").is_none(),
        "the root has no parentId"
    );
    assert!(a_server.get("shared").is_none(), "the root joined nobody");
    assert_eq!(a_server["name"], "get /checkout");
    assert_eq!(a_server["tags"]["http.status_code"], "200");
    assert_eq!(a_server["tags"]["http.route"], "/checkout");

    assert_eq!(a_client["parentId"], a_server["id"]);
    assert_eq!(a_client["name"], "get");
    assert_eq!(a_client["remoteEndpoint"]["ipv4"], "127.0.0.1");
    assert_eq!(a_client["remoteEndpoint"]["port"], b_port);

    assert_eq!(b_server["parentId"], a_client["id"]);
    assert_eq!(
        b_server["shared"], true,
        "B's server span joined a remote parent"
    );
    assert_eq!(b_server["name"], "get /price/{id}");
    assert_eq!(b_server["tags"]["http.path"], "/price/7");

    assert_eq!(b_user["parentId"], b_server["id"]);
    assert_eq!(b_user["name"], "load price");
    assert_eq!(b_user["tags"]["product.id"], "7");
    assert_eq!(b_user["annotations"][0]["value"], "pricing product");

    // Child spans lie within their parents.
    let start = |v: &Value| v["timestamp"].as_u64().unwrap();
    let end = |v: &Value| start(v) + v["duration"].as_u64().unwrap();
    assert!(start(a_client) >= start(a_server) && end(a_client) <= end(a_server));
    assert!(start(b_user) >= start(b_server) && end(b_user) <= end(b_server));

    // The logs of both services printed the same trace id.
    let logs = s.logs.0.lock().unwrap().clone();
    let ours: Vec<_> = logs.iter().filter(|(id, _)| *id == echoed).collect();
    assert_eq!(ours.len(), 2, "{logs:?}");
}
