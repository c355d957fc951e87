//! Reading the incoming ids over real HTTP: `X-App-Trace-Id`, none, `traceparent` only, B3 only.
//! A real axum server on 127.0.0.1 behind `TraceLayer`, a real reqwest client, a multi-thread
//! runtime; the handler reports what it, a spawned task and a blocking task saw.

mod support;

use std::net::SocketAddr;

use axum::routing::get;
use axum::Router;
use support::{client, init_tracing, is_trace_hex, report, serve, server_span_of, Report};
use trace_context::{SpanId, TraceId};
use trace_tower::TraceLayer;

async fn server() -> SocketAddr {
    init_tracing();
    serve(
        Router::new()
            .route("/report", get(report))
            .layer(TraceLayer::new()),
    )
    .await
}

/// GETs `/report` with these headers; returns the echoed id and what the handler saw.
async fn get_report(addr: SocketAddr, headers: &[(&str, &str)]) -> (Option<String>, Report) {
    let mut req = client().get(format!("http://{addr}/report"));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let response = req.send().await.unwrap();
    assert_eq!(response.status(), 200);
    let echoed = response
        .headers()
        .get("x-app-trace-id")
        .map(|v| v.to_str().unwrap().to_owned());
    let report = Report::parse(&response.text().await.unwrap());
    (echoed, report)
}

fn uuid_v4() -> String {
    uuid::Uuid::new_v4().hyphenated().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_uuid_app_id_reaches_the_handler_its_tasks_and_the_response() {
    let addr = server().await;
    let id = uuid_v4();
    let (echoed, report) = get_report(addr, &[("x-app-trace-id", &id)]).await;

    // Echoed as received (hyphenated).
    assert_eq!(echoed.as_deref(), Some(id.as_str()));
    // A UUID is hex-shaped: it is the trace id.
    let trace = TraceId::parse(&id).unwrap();
    assert_eq!(trace.to_string(), id.replace('-', ""));
    for view in [&report.handler, &report.spawned, &report.blocking] {
        assert_eq!(view.app_id.as_deref(), Some(id.as_str()), "{report:?}");
        assert_eq!(view.trace_id, Some(trace.to_string()), "{report:?}");
    }
    // The tasks run in the handler's span (same span id), not in some other context.
    assert_eq!(report.spawned.span_id, report.handler.span_id);
    assert_eq!(report.blocking.span_id, report.handler.span_id);
    // No parent was sent: the server span is the root of the trace.
    assert_eq!(report.handler.parent_id, None);
    assert_eq!(report.handler.remote_parent, Some(false));

    let span = server_span_of(trace).await;
    assert_eq!(span.field("app.trace_id"), Some(id.as_str()));
    assert_eq!(
        Some(span.context().span_id().to_string()),
        report.handler.span_id
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_32_hex_app_id_is_the_trace_id() {
    let addr = server().await;
    let id = TraceId::random().to_string();
    let (echoed, report) = get_report(addr, &[("x-app-trace-id", &id)]).await;
    assert_eq!(echoed.as_deref(), Some(id.as_str()));
    for view in [&report.handler, &report.spawned, &report.blocking] {
        assert_eq!(view.trace_id.as_deref(), Some(id.as_str()), "{report:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn upper_case_hex_is_echoed_as_received_and_normalised_as_the_trace_id() {
    let addr = server().await;
    let lower = TraceId::random().to_string();
    let upper = lower.to_ascii_uppercase();
    let (echoed, report) = get_report(addr, &[("x-app-trace-id", &upper)]).await;
    assert_eq!(echoed.as_deref(), Some(upper.as_str()));
    assert_eq!(report.handler.trace_id.as_deref(), Some(lower.as_str()));
    assert_eq!(report.handler.app_id.as_deref(), Some(upper.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_non_hex_app_id_is_kept_verbatim_and_derives_the_trace_id() {
    let addr = server().await;
    let id = "web-1716268000123-42";
    let (echoed, report) = get_report(addr, &[("x-app-trace-id", id)]).await;
    assert_eq!(echoed.as_deref(), Some(id));
    let derived = trace_context::AppTraceId::parse(id.as_bytes())
        .unwrap()
        .trace_id();
    for view in [&report.handler, &report.spawned, &report.blocking] {
        assert_eq!(view.app_id.as_deref(), Some(id));
        assert_eq!(view.trace_id, Some(derived.to_string()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_any_header_a_fresh_id_is_minted_seen_and_echoed() {
    let addr = server().await;
    let (first, report) = get_report(addr, &[]).await;
    let first = first.expect("an id is echoed");
    assert!(is_trace_hex(&first), "{first}");
    for view in [&report.handler, &report.spawned, &report.blocking] {
        assert_eq!(view.trace_id.as_deref(), Some(first.as_str()), "{report:?}");
        // No application id was received; the echoed value is the trace id.
        assert_eq!(view.app_id, None);
    }
    assert_eq!(report.handler.parent_id, None);
    // A second request gets another id.
    let (second, _) = get_report(addr, &[]).await;
    assert_ne!(second.as_deref(), Some(first.as_str()));
    // The server span has the minted trace id.
    let span = server_span_of(TraceId::parse(&first).unwrap()).await;
    assert_eq!(span.field("app.trace_id"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn traceparent_only_gives_the_trace_id_the_parent_and_the_sampled_flag() {
    let addr = server().await;
    for (flags, sampled) in [("01", true), ("00", false), ("03", true)] {
        let trace = TraceId::random();
        let parent = SpanId::random();
        let tp = format!("00-{trace}-{parent}-{flags}");
        let (echoed, report) = get_report(addr, &[("traceparent", &tp)]).await;
        for view in [&report.handler, &report.spawned, &report.blocking] {
            assert_eq!(view.trace_id, Some(trace.to_string()), "{tp}: {report:?}");
            assert_eq!(view.parent_id, Some(parent.to_string()), "{tp}: {report:?}");
            assert_eq!(view.sampled, Some(sampled), "{tp}: {report:?}");
        }
        assert_eq!(report.handler.remote_parent, Some(true));
        // A new span id for this server span, not the caller's.
        assert_ne!(report.handler.span_id, Some(parent.to_string()));
        // The trace id is echoed (no application id was sent).
        assert_eq!(echoed, Some(trace.to_string()));

        let span = server_span_of(trace).await;
        assert_eq!(span.context().parent_span_id(), Some(parent));
        assert!(span.context().remote_parent());
        assert_eq!(span.context().is_sampled(), sampled);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn b3_single_only_gives_the_trace_id_the_parent_and_the_sampled_flag() {
    let addr = server().await;
    for (flag, sampled) in [("1", true), ("0", false), ("d", true)] {
        let trace = TraceId::random();
        let parent = SpanId::random();
        let b3 = format!("{trace}-{parent}-{flag}");
        let (echoed, report) = get_report(addr, &[("b3", &b3)]).await;
        for view in [&report.handler, &report.spawned, &report.blocking] {
            assert_eq!(view.trace_id, Some(trace.to_string()), "{b3}: {report:?}");
            assert_eq!(view.parent_id, Some(parent.to_string()), "{b3}: {report:?}");
            assert_eq!(view.sampled, Some(sampled), "{b3}: {report:?}");
        }
        assert_eq!(report.handler.remote_parent, Some(true));
        assert_eq!(echoed, Some(trace.to_string()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn b3_multi_only_gives_the_trace_id_the_parent_and_the_sampled_flag() {
    let addr = server().await;
    for (sampled_header, sampled) in [("1", true), ("0", false)] {
        // A 64-bit (16 hex) Zipkin trace id.
        let trace = TraceId::from_u128(u128::from(SpanId::random().to_u64())).unwrap();
        let parent = SpanId::random();
        let trace_hex = trace.to_zipkin_hex().to_string();
        assert_eq!(trace_hex.len(), 16);
        let parent_hex = parent.to_string();
        let (echoed, report) = get_report(
            addr,
            &[
                ("x-b3-traceid", &trace_hex),
                ("x-b3-spanid", &parent_hex),
                ("x-b3-sampled", sampled_header),
            ],
        )
        .await;
        for view in [&report.handler, &report.spawned, &report.blocking] {
            assert_eq!(view.trace_id, Some(trace.to_string()), "{report:?}");
            assert_eq!(view.parent_id, Some(parent.to_string()), "{report:?}");
            assert_eq!(view.sampled, Some(sampled), "{report:?}");
        }
        // Echoed as Zipkin and the logs print a 64-bit id: 16 hex digits.
        assert_eq!(echoed, Some(trace_hex));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_parent_comes_from_traceparent_and_the_app_id_from_x_app_trace_id() {
    let addr = server().await;
    let trace = TraceId::random();
    let parent = SpanId::random();
    let app = "order-7-checkout";
    let (echoed, report) = get_report(
        addr,
        &[
            ("x-app-trace-id", app),
            ("traceparent", &format!("00-{trace}-{parent}-01")),
            (
                "b3",
                &format!("{}-{}-0", TraceId::random(), SpanId::random()),
            ),
        ],
    )
    .await;
    assert_eq!(report.handler.trace_id, Some(trace.to_string()));
    assert_eq!(report.handler.parent_id, Some(parent.to_string()));
    assert_eq!(report.handler.sampled, Some(true));
    assert_eq!(report.handler.app_id.as_deref(), Some(app));
    assert_eq!(echoed.as_deref(), Some(app));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_value_the_handler_set_is_not_overwritten_and_echo_can_be_turned_off() {
    init_tracing();
    let own = Router::new()
        .route(
            "/own",
            get(|| async { ([("x-app-trace-id", "set-by-handler")], "ok") }),
        )
        .layer(TraceLayer::new());
    let quiet = Router::new()
        .route("/quiet", get(|| async { "ok" }))
        .layer(TraceLayer::new().echo(false));
    let (own, quiet) = (serve(own).await, serve(quiet).await);
    let id = TraceId::random().to_string();
    let r = client()
        .get(format!("http://{own}/own"))
        .header("x-app-trace-id", &id)
        .send()
        .await
        .unwrap();
    let values: Vec<_> = r.headers().get_all("x-app-trace-id").iter().collect();
    assert_eq!(values, ["set-by-handler"]);
    let r = client()
        .get(format!("http://{quiet}/quiet"))
        .header("x-app-trace-id", &id)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers().get("x-app-trace-id"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_custom_app_header_is_read_and_echoed_under_its_name() {
    init_tracing();
    let app =
        Router::new()
            .route("/report", get(report))
            .layer(TraceLayer::new().propagation(
                trace_context::codec::Propagation::default().app_header("X-Correlation-Id"),
            ));
    let addr = serve(app).await;
    let r = client()
        .get(format!("http://{addr}/report"))
        .header("x-correlation-id", "corr-123")
        .header("x-app-trace-id", "ignored-here")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-correlation-id"], "corr-123");
    assert_eq!(r.headers().get("x-app-trace-id"), None);
    let report = Report::parse(&r.text().await.unwrap());
    assert_eq!(report.handler.app_id.as_deref(), Some("corr-123"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_deny_only_b3_keeps_the_decision_on_a_fresh_trace() {
    let addr = server().await;
    for headers in [[("b3", "0")], [("x-b3-sampled", "0")]] {
        let (echoed, report) = get_report(addr, &headers).await;
        let echoed = echoed.unwrap();
        assert!(is_trace_hex(&echoed), "{headers:?}: {echoed}");
        assert_eq!(report.handler.trace_id, Some(echoed), "{headers:?}");
        assert_eq!(report.handler.parent_id, None, "{headers:?}");
        assert_eq!(report.handler.sampled, Some(false), "{headers:?}");
        assert_eq!(report.spawned.sampled, Some(false), "{headers:?}");
    }
    // And without it, the default (no global sampler set) samples.
    let (_, report) = get_report(addr, &[]).await;
    assert_eq!(report.handler.sampled, Some(true));
}
