//! The shop, started in-process: one order is one trace across the four services — in the
//! spans the exporter reported, in every service's log lines and in the waterfall.
#![cfg(feature = "instrumented")]

use std::time::Duration;

use examples::services::order::OrderRequest;
use examples::shop::{self, Shop, ShopConfig};
use examples::telemetry::{self, LogCapture, Telemetry, TelemetryConfig};
use examples::waterfall;
use examples::zipkin::{Kind, Span};

const WAIT: Duration = Duration::from_secs(10);

fn telemetry() -> Telemetry {
    telemetry::install(TelemetryConfig {
        logs: LogCapture::new(100_000),
        ..TelemetryConfig::default()
    })
    .expect("telemetry installs")
}

struct Answer {
    status: u16,
    echoed: String,
    trace_id: String,
}

/// Sends an order through the gateway as a browser would (a plain client, outside any trace).
async fn send(shop: &Shop, order: OrderRequest, app_id: Option<&str>) -> Answer {
    let mut req = reqwest::Client::new().get(shop.order_url(order));
    if let Some(id) = app_id {
        req = req.header("x-app-trace-id", id);
    }
    let r = req.send().await.expect("the gateway answers");
    let status = r.status().as_u16();
    let echoed = r
        .headers()
        .get("x-app-trace-id")
        .expect("the gateway echoes X-App-Trace-Id")
        .to_str()
        .unwrap()
        .to_owned();
    let _ = r.text().await;
    let trace_id = trace_context::AppTraceId::parse(echoed.as_bytes())
        .unwrap()
        .trace_id()
        .to_zipkin_hex()
        .to_string();
    Answer {
        status,
        echoed,
        trace_id,
    }
}

fn order(product_id: u64) -> OrderRequest {
    OrderRequest {
        user_id: 1001,
        product_id,
        count: 1,
    }
}

/// The one span of this service and kind (and name, when given) — fails if not exactly one.
fn one<'a>(spans: &'a [Span], service: &str, kind: Kind, name: Option<&str>) -> &'a Span {
    let found: Vec<&Span> = spans
        .iter()
        .filter(|s| {
            s.service_name() == service
                && s.kind == Some(kind)
                && name.is_none_or(|n| s.name.as_deref() == Some(n))
        })
        .collect();
    assert_eq!(
        found.len(),
        1,
        "{service} {kind} {name:?} in {:#?}",
        spans
            .iter()
            .map(|s| (s.service_name(), s.kind, s.name.as_deref()))
            .collect::<Vec<_>>()
    );
    found[0]
}

/// The server span `server` continues the client span `client` of another service.
fn assert_joins(server: &Span, client: &Span) {
    assert_eq!(server.parent_id.as_deref(), Some(client.id.as_str()));
    assert_ne!(server.id, client.id);
    assert!(
        server.shared,
        "a server span joining a remote parent is `shared`: {server:?}"
    );
}

/// The tree gateway SERVER → gateway CLIENT → order SERVER → 3 × order CLIENT → user/product
/// SERVER; returns the spans in the order the waterfall must list them.
fn assert_shop_tree(spans: &[Span], product_calls: usize) -> Vec<&Span> {
    let gw_server = one(spans, "gateway", Kind::Server, None);
    assert_eq!(
        gw_server.parent_id, None,
        "the gateway's server span is the root"
    );
    assert!(!gw_server.shared);
    let gw_client = one(spans, "gateway", Kind::Client, None);
    assert_eq!(gw_client.parent_id.as_deref(), Some(gw_server.id.as_str()));
    let order_server = one(spans, "order", Kind::Server, None);
    assert_joins(order_server, gw_client);

    let mut order_clients: Vec<&Span> = spans
        .iter()
        .filter(|s| s.service_name() == "order" && s.kind == Some(Kind::Client))
        .collect();
    order_clients.sort_by_key(|s| s.timestamp);
    assert_eq!(order_clients.len(), 1 + product_calls);
    for c in &order_clients {
        assert_eq!(c.parent_id.as_deref(), Some(order_server.id.as_str()));
    }
    let user_server = one(spans, "user", Kind::Server, None);
    assert_joins(user_server, order_clients[0]);
    let mut in_order = vec![
        gw_server,
        gw_client,
        order_server,
        order_clients[0],
        user_server,
    ];
    let mut product_servers: Vec<&Span> = spans
        .iter()
        .filter(|s| s.service_name() == "product" && s.kind == Some(Kind::Server))
        .collect();
    product_servers.sort_by_key(|s| s.timestamp);
    assert_eq!(product_servers.len(), product_calls);
    for (client, server) in order_clients[1..].iter().zip(&product_servers) {
        assert_joins(server, client);
        in_order.push(client);
        in_order.push(server);
    }
    assert_eq!(spans.len(), in_order.len(), "no other span: {spans:#?}");
    in_order
}

/// Every service printed at least one line carrying the trace id, tagged with its name.
fn assert_logs_of_all_services(telemetry: &Telemetry, trace_id: &str) -> Vec<String> {
    let lines = telemetry.logs.containing(trace_id);
    for service in ["gateway", "order", "user", "product"] {
        let tag = format!("[{service:<7}]");
        assert!(
            lines.iter().any(|l| l.contains(&tag)),
            "no line of {service} with {trace_id}: {lines:#?}"
        );
    }
    lines
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_order_is_one_trace_across_four_services() {
    let telemetry = telemetry();
    let shop = shop::start(&ShopConfig::ephemeral()).await.unwrap();
    let answer = send(&shop, order(1001), None).await;
    assert_eq!(answer.status, 200);
    // The id the gateway minted and echoed is the trace id.
    assert_eq!(answer.echoed, answer.trace_id);

    let spans = telemetry.spans.wait_for_trace(&answer.trace_id, WAIT).await;
    assert!(spans.iter().all(|s| s.trace_id == answer.trace_id));
    let in_order = assert_shop_tree(&spans, 2);
    assert!(spans.iter().all(|s| s.error().is_none()), "{spans:#?}");
    let user_server = in_order[4];
    assert_eq!(
        user_server.tags.get("http.path").map(String::as_str),
        Some("/user/get/1001")
    );
    // The layer around each handler still sees the matched route, and no app id was received:
    // no span is tagged with one.
    assert_eq!(
        user_server.tags.get("http.route").map(String::as_str),
        Some("/user/get/{uid}")
    );
    assert_eq!(user_server.name.as_deref(), Some("get /user/get/{uid}"));
    assert!(
        spans.iter().all(|s| !s.tags.contains_key("app.trace_id")),
        "{spans:#?}"
    );

    let lines = assert_logs_of_all_services(&telemetry, &answer.trace_id);
    assert!(lines
        .iter()
        .any(|l| l.contains("order 1 placed") || l.contains("placed:")));

    // The waterfall lists every span, parents before children, siblings by start time.
    let text = waterfall::render(
        &spans,
        &waterfall::Options {
            show_ids: true,
            ..Default::default()
        },
    );
    let rows: Vec<&str> = text.lines().skip(2).collect();
    assert_eq!(rows.len(), in_order.len(), "{text}");
    for (row, span) in rows.iter().zip(&in_order) {
        assert!(row.contains(&format!("id={} ", span.id)), "{text}");
        assert!(row.starts_with(span.service_name()), "{text}");
    }
    shop.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_app_trace_id_sent_is_the_trace_id() {
    let telemetry = telemetry();
    let shop = shop::start(&ShopConfig::ephemeral()).await.unwrap();
    let sent = "4bf92f3577b34da6a3ce929d0e0e4736";
    let answer = send(&shop, order(1002), Some(sent)).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.echoed, sent);
    assert_eq!(answer.trace_id, sent);
    let spans = telemetry.spans.wait_for_trace(sent, WAIT).await;
    assert_shop_tree(&spans, 2);
    assert_logs_of_all_services(&telemetry, sent);
    shop.shutdown().await.unwrap();
}

/// The gateway echoes the id to its callers; the services behind it take it and log it but do
/// not echo it (their callers are the shop's own services).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn only_the_gateway_echoes_the_app_trace_id() {
    let telemetry = telemetry();
    let shop = shop::start(&ShopConfig::ephemeral()).await.unwrap();
    let sent = "7d3f0c5a6e2b4f1e9a8c1b2d3e4f5a6b";
    let r = reqwest::Client::new()
        .get(format!("{}/user/get/1001", shop.user.url()))
        .header("x-app-trace-id", sent)
        .send()
        .await
        .expect("the user service answers");
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers().get("x-app-trace-id").is_none(),
        "{:?}",
        r.headers()
    );
    let lines = telemetry.logs.containing(sent);
    assert!(
        lines.iter().any(|l| l.contains("[user   ]")),
        "the user service logs the id it received: {lines:#?}"
    );
    let answer = send(&shop, order(1001), Some(sent)).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.echoed, sent);
    shop.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unknown_product_is_an_error_in_the_trace_and_the_logs() {
    let telemetry = telemetry();
    let shop = shop::start(&ShopConfig::ephemeral()).await.unwrap();
    let answer = send(&shop, order(9), None).await;
    assert_eq!(answer.status, 404);

    let spans = telemetry.spans.wait_for_trace(&answer.trace_id, WAIT).await;
    // The order never asked to update the stock: one product call.
    let in_order = assert_shop_tree(&spans, 1);
    let product_server = in_order[6];
    assert_eq!(product_server.service_name(), "product");
    for span in [
        product_server,
        in_order[5],
        in_order[2],
        in_order[1],
        in_order[0],
    ] {
        assert!(
            span.error().is_some(),
            "{} {:?} must be marked error: {span:?}",
            span.service_name(),
            span.kind
        );
        assert_eq!(
            span.tags.get("http.status_code").map(String::as_str),
            Some("404")
        );
    }
    let user_server = in_order[4];
    assert!(user_server.error().is_none(), "{user_server:?}");

    let lines = assert_logs_of_all_services(&telemetry, &answer.trace_id);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("[product]") && l.contains("product 9 not found")),
        "{lines:#?}"
    );
    shop.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_app_trace_id_that_is_not_hex_is_kept_verbatim_and_tagged() {
    let telemetry = telemetry();
    let shop = shop::start(&ShopConfig::ephemeral()).await.unwrap();
    let sent = "web-1716268000123-42";
    let answer = send(&shop, order(1003), Some(sent)).await;
    assert_eq!(answer.status, 200);
    // Echoed as received; the trace id is derived from it (the same in every service).
    assert_eq!(answer.echoed, sent);
    assert_ne!(answer.trace_id, sent);
    assert_eq!(answer.trace_id.len(), 32);
    let spans = telemetry.spans.wait_for_trace(&answer.trace_id, WAIT).await;
    assert_shop_tree(&spans, 2);
    // Zipkin's tag search finds the trace by the application's id, in every service.
    for s in &spans {
        assert_eq!(
            s.tags.get("app.trace_id").map(String::as_str),
            Some(sent),
            "{s:?}"
        );
    }
    assert_logs_of_all_services(&telemetry, &answer.trace_id);
    shop.shutdown().await.unwrap();
}

#[test]
fn events_and_spans_below_info_are_disabled_before_they_are_built() {
    let _telemetry = telemetry();
    if std::env::var_os("RUST_LOG").is_some() {
        return; // the level is the one asked for
    }
    // Library `debug!`/`trace!` events and spans (hyper, reqwest through the `log` bridge) are
    // dropped by the macros' level check, as with a global filter; the shop's spans are INFO.
    assert_eq!(
        tracing::level_filters::LevelFilter::current(),
        tracing::level_filters::LevelFilter::INFO
    );
    assert!(!tracing::enabled!(tracing::Level::DEBUG));
    assert!(tracing::enabled!(tracing::Level::INFO));
}
