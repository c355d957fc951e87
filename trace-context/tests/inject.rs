//! Injection options: `Propagation::minted_app_header(false)` leaves out `X-App-Trace-Id` only
//! when the trace has no application id and another format carries the trace id, and the
//! callee then reads the same context as with the header.

use trace_context::codec::{B3Style, Propagation};
use trace_context::{AppTraceId, Context, FollowUpstream, IdGenerator, Sampling, TraceId};

fn inject(p: &Propagation, ctx: &Context) -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    p.inject(ctx, &mut headers);
    headers
}

/// What a callee using the default propagation makes of these headers.
fn callee(headers: &http::HeaderMap) -> Context {
    Propagation::default()
        .extract(headers)
        .server_context(&IdGenerator::default(), &FollowUpstream)
}

fn with_app(id: &str) -> Context {
    let app = AppTraceId::parse(id.as_bytes()).unwrap();
    Context::builder(app.trace_id())
        .app_trace_id(app)
        .sampling(Sampling::Sampled)
        .build()
}

#[test]
fn a_minted_trace_id_travels_in_traceparent_only() {
    let p = Propagation::default().b3_off().minted_app_header(false);
    let minted = Context::builder(TraceId::random())
        .sampling(Sampling::Sampled)
        .build();
    let sent = inject(&p, &minted);
    assert!(!sent.contains_key("x-app-trace-id"), "{sent:?}");
    assert!(sent.contains_key("traceparent"));

    // The callee gets the same trace, parent and decision as with the header.
    let with_header = inject(&Propagation::default().b3_off(), &minted);
    assert!(with_header.contains_key("x-app-trace-id"));
    let (a, b) = (callee(&sent), callee(&with_header));
    assert_eq!(a.trace_id(), minted.trace_id());
    assert_eq!(a.trace_id(), b.trace_id());
    assert_eq!(a.parent_span_id(), Some(minted.span_id()));
    assert_eq!(a.parent_span_id(), b.parent_span_id());
    assert_eq!(a.sampling(), b.sampling());
    assert_eq!(&*a.app_id_text(), &*b.app_id_text());
    // Without the header the callee has no application id of its own, like the caller.
    assert!(a.app_trace_id().is_none());
}

#[test]
fn a_received_application_id_is_always_passed_on() {
    let p = Propagation::default().b3_off().minted_app_header(false);
    for id in ["web-1716268000123-42", "4bf92f3577b34da6a3ce929d0e0e4736"] {
        let sent = inject(&p, &with_app(id));
        assert_eq!(sent["x-app-trace-id"], id);
        assert_eq!(callee(&sent).app_trace_id().unwrap().as_str(), id);
    }
}

#[test]
fn the_header_stays_when_it_is_the_only_carrier() {
    let minted = Context::new_root();
    let alone = Propagation::default()
        .w3c(false)
        .b3_off()
        .minted_app_header(false);
    let sent = inject(&alone, &minted);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(callee(&sent).trace_id(), minted.trace_id());

    // B3 carries the trace id too: the header can go.
    let b3 = Propagation::default()
        .w3c(false)
        .b3_style(B3Style::Single)
        .minted_app_header(false);
    let sent = inject(&b3, &minted);
    assert!(!sent.contains_key("x-app-trace-id"), "{sent:?}");
    assert_eq!(callee(&sent).trace_id(), minted.trace_id());
}

#[test]
fn the_default_writes_the_header_for_minted_ids_too() {
    assert!(Propagation::default().writes_minted_app_header());
    let minted = Context::new_root();
    let sent = inject(&Propagation::default(), &minted);
    assert_eq!(
        sent["x-app-trace-id"],
        minted.trace_id().to_zipkin_hex().as_str()
    );
}
