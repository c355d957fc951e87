//! OpenTelemetry users: the SDK's batch processor with `otel::ZipkinSpanExporter` delivers
//! valid Zipkin v2 spans (service name, no parentId on the root, parent links) to a collector
//! on 127.0.0.1 — built inside a tokio runtime, where opentelemetry-zipkin's default exporter
//! panics.

mod support;

use std::time::Duration;

use opentelemetry::trace::{
    Span as _, SpanKind, Status, TraceContextExt, Tracer, TracerProvider as _,
};
use opentelemetry::KeyValue;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use support::zipkin::ZipkinReceiver;
use trace_exporter::otel::ZipkinSpanExporter;
use trace_exporter::Reporter;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_batch_processor_to_zipkin() {
    let zipkin = tokio::task::spawn_blocking(ZipkinReceiver::start)
        .await
        .unwrap();
    let reporter = Reporter::builder()
        .endpoint(zipkin.url())
        .flush_interval(Duration::from_millis(20))
        .build()
        .unwrap();
    // No service name given: the SDK resource's is used.
    let exporter = ZipkinSpanExporter::new(reporter.sink(), None);
    let provider = SdkTracerProvider::builder()
        .with_resource(
            Resource::builder_empty()
                .with_service_name("Inventory")
                .build(),
        )
        .with_batch_exporter(exporter)
        .build();
    let tracer = provider.tracer("test");
    let (trace_id, root_id) = tracer.in_span("GET /stock", |cx| {
        let span = cx.span();
        span.set_attribute(KeyValue::new("http.method", "GET"));
        let sc = span.span_context().clone();
        let mut child = tracer
            .span_builder("query")
            .with_kind(SpanKind::Client)
            .with_attributes([
                KeyValue::new("net.peer.name", "10.0.0.7"),
                KeyValue::new("net.peer.port", 5432),
            ])
            .start(&tracer);
        child.add_event("rows", vec![KeyValue::new("n", 3)]);
        child.set_status(Status::error("timeout"));
        child.end();
        (sc.trace_id(), sc.span_id())
    });
    let p = provider.clone();
    tokio::task::spawn_blocking(move || p.force_flush())
        .await
        .unwrap()
        .unwrap();
    let r = reporter.clone();
    tokio::task::spawn_blocking(move || r.flush(Duration::from_secs(20)))
        .await
        .unwrap()
        .unwrap();

    assert!(zipkin.errors().is_empty(), "{:?}", zipkin.errors());
    let spans = zipkin.spans();
    assert_eq!(spans.len(), 2, "{spans:#?}");
    let root = spans.iter().find(|s| s["name"] == "get /stock").unwrap();
    let child = spans.iter().find(|s| s["name"] == "query").unwrap();
    assert_eq!(root["traceId"], trace_id.to_string());
    assert_eq!(root["id"], root_id.to_string());
    assert!(
        root.get("parentId").is_none(),
        "no all-zero parentId on the root"
    );
    assert!(root.get("kind").is_none(), "internal span");
    assert_eq!(root["localEndpoint"]["serviceName"], "inventory");
    assert_eq!(root["tags"]["http.method"], "GET");
    assert_eq!(child["parentId"], root_id.to_string());
    assert_eq!(child["kind"], "CLIENT");
    assert_eq!(child["remoteEndpoint"]["ipv4"], "10.0.0.7");
    assert_eq!(child["remoteEndpoint"]["port"], 5432);
    assert_eq!(child["tags"]["error"], "timeout");
    assert_eq!(child["tags"]["otel.status_code"], "ERROR");
    assert_eq!(child["annotations"][0]["value"], "rows n=3");
    let p = provider.clone();
    tokio::task::spawn_blocking(move || p.shutdown())
        .await
        .unwrap()
        .ok();
    drop(tokio::task::spawn_blocking(move || drop(zipkin)).await);
}
