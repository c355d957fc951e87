//! What the callee receives: exactly the configured headers, the caller's trace id, the client
//! span's id as parent; headers set by hand are kept; the client span's fields.

mod support;

use std::collections::BTreeMap;
use std::net::SocketAddr;

use reqwest_middleware::ClientBuilder;
use support::{client_span_of, client_spans_by_url, echo_app, plain_client, serve, Seen};
use trace_context::codec::{B3Style, Propagation};
use trace_context::{AppTraceId, Context, Sampling, SpanId, TraceId, WithContext};
use trace_reqwest::{ClientTracing, OutsideContext, RequestBuilderExt, TracingMiddleware};

/// The three ways in.
#[derive(Debug, Clone, Copy)]
enum Via {
    Middleware,
    SendTraced,
    Execute,
}

const ALL_VIAS: [Via; 3] = [Via::Middleware, Via::SendTraced, Via::Execute];

/// GETs `url` through `via` with `tracing`, with the given hand-set headers, and returns the
/// response (status, body).
async fn fetch(
    via: Via,
    tracing: &ClientTracing,
    url: &str,
    by_hand: &[(&'static str, &str)],
) -> (u16, String) {
    let client = plain_client();
    let response = match via {
        Via::Middleware => {
            let client = ClientBuilder::new(client)
                .with(TracingMiddleware::with_config(tracing.clone()))
                .build();
            let mut b = client.get(url);
            for (n, v) in by_hand {
                b = b.header(*n, *v);
            }
            b.send().await.expect("call succeeds")
        }
        Via::SendTraced => {
            let mut b = client.get(url);
            for (n, v) in by_hand {
                b = b.header(*n, *v);
            }
            b.send_traced_with(tracing).await.expect("call succeeds")
        }
        Via::Execute => {
            let mut b = client.get(url);
            for (n, v) in by_hand {
                b = b.header(*n, *v);
            }
            let request = b.build().unwrap();
            tracing
                .execute(&client, request)
                .await
                .expect("call succeeds")
        }
    };
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// A request context as a server would have it: a remote parent, a `tracestate`.
fn request_context(sampling: Sampling) -> Context {
    Context::builder(TraceId::random())
        .parent_span_id(SpanId::from_u64(0x1122_3344_5566_7788))
        .remote_parent(true)
        .tracestate(Some("vendor=abc,other=x".into()))
        .sampling(sampling)
        .build()
}

type Headers = BTreeMap<String, Vec<String>>;

fn put(map: &mut Headers, name: &str, value: String) {
    map.entry(name.to_owned()).or_default().push(value);
}

fn app(map: &mut Headers, name: &str, request: &Context) {
    put(map, name, request.trace_id().to_string());
}

fn w3c(map: &mut Headers, request: &Context, client: SpanId, flags: &str) {
    put(
        map,
        "traceparent",
        format!("00-{}-{client}-{flags}", request.trace_id()),
    );
    put(map, "tracestate", "vendor=abc,other=x".to_owned());
}

fn b3_multi(map: &mut Headers, request: &Context, client: SpanId, sampled: Option<&str>) {
    put(map, "x-b3-traceid", request.trace_id().to_string());
    put(map, "x-b3-spanid", client.to_string());
    put(map, "x-b3-parentspanid", request.span_id().to_string());
    if let Some(s) = sampled {
        put(map, "x-b3-sampled", s.to_owned());
    }
}

fn b3_single(map: &mut Headers, request: &Context, client: SpanId, sampling: &str) {
    put(
        map,
        "b3",
        format!(
            "{}-{client}-{sampling}-{}",
            request.trace_id(),
            request.span_id()
        ),
    );
}

struct Case {
    name: &'static str,
    propagation: Propagation,
    expected: fn(&Context, SpanId) -> Headers,
    /// A format carrying the parent span (W3C or B3) is on: the server joins the trace.
    joins: bool,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "default: app id, w3c, b3 multi",
            propagation: Propagation::default(),
            expected: |r, c| {
                let mut m = Headers::new();
                app(&mut m, "x-app-trace-id", r);
                w3c(&mut m, r, c, "01");
                b3_multi(&mut m, r, c, Some("1"));
                m
            },
            joins: true,
        },
        Case {
            name: "all three, b3 single",
            propagation: Propagation::default().b3_style(B3Style::Single),
            expected: |r, c| {
                let mut m = Headers::new();
                app(&mut m, "x-app-trace-id", r);
                w3c(&mut m, r, c, "01");
                b3_single(&mut m, r, c, "1");
                m
            },
            joins: true,
        },
        Case {
            name: "app id only",
            propagation: Propagation::default().w3c(false).b3_off(),
            expected: |r, _| {
                let mut m = Headers::new();
                app(&mut m, "x-app-trace-id", r);
                m
            },
            joins: false,
        },
        Case {
            name: "custom app header only",
            propagation: Propagation::default()
                .app_header("X-Request-Id")
                .w3c(false)
                .b3_off(),
            expected: |r, _| {
                let mut m = Headers::new();
                app(&mut m, "x-request-id", r);
                m
            },
            joins: false,
        },
        Case {
            name: "w3c only",
            propagation: Propagation::default().app_id(false).b3_off(),
            expected: |r, c| {
                let mut m = Headers::new();
                w3c(&mut m, r, c, "01");
                m
            },
            joins: true,
        },
        Case {
            name: "b3 multi only",
            propagation: Propagation::default().app_id(false).w3c(false),
            expected: |r, c| {
                let mut m = Headers::new();
                b3_multi(&mut m, r, c, Some("1"));
                m
            },
            joins: true,
        },
        Case {
            name: "b3 single only",
            propagation: Propagation::default()
                .app_id(false)
                .w3c(false)
                .b3_style(B3Style::Single),
            expected: |r, c| {
                let mut m = Headers::new();
                b3_single(&mut m, r, c, "1");
                m
            },
            joins: true,
        },
        Case {
            name: "everything off",
            propagation: Propagation::default().app_id(false).w3c(false).b3_off(),
            expected: |_, _| Headers::new(),
            joins: false,
        },
    ]
}

async fn echo_server() -> SocketAddr {
    support::init_tracing();
    serve(echo_app()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_callee_receives_exactly_the_configured_headers() {
    let addr = echo_server().await;
    for case in cases() {
        let tracing = ClientTracing::new().propagation(case.propagation.clone());
        for via in ALL_VIAS {
            let request = request_context(Sampling::Sampled);
            let url = format!("http://{addr}/echo/formats");
            let (status, body) = fetch(via, &tracing, &url, &[])
                .with_context(request.clone())
                .await;
            assert_eq!(status, 200);
            let seen = Seen::parse(&body);

            let client = client_span_of(request.trace_id());
            let client_ctx = client.context.as_ref().unwrap();
            assert_eq!(client_ctx.parent_span_id(), Some(request.span_id()));
            assert_ne!(client_ctx.span_id(), request.span_id());

            let expected = (case.expected)(&request, client_ctx.span_id());
            assert_eq!(seen.trace_headers(), expected, "{} via {via:?}", case.name);
            if case.joins {
                // The server joined the caller's trace, under the client span.
                let trace = request.trace_id().to_string();
                let parent = client_ctx.span_id().to_string();
                assert_eq!(seen.trace_id.as_deref(), Some(trace.as_str()));
                assert_eq!(seen.parent_id.as_deref(), Some(parent.as_str()));
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn send_traced_uses_the_default_configuration() {
    let addr = echo_server().await;
    let request = request_context(Sampling::Sampled);
    let body = async {
        plain_client()
            .get(format!("http://{addr}/echo/default"))
            .send_traced()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
    .with_context(request.clone())
    .await;
    let client = client_span_of(request.trace_id()).span_id();
    let mut expected = Headers::new();
    app(&mut expected, "x-app-trace-id", &request);
    w3c(&mut expected, &request, client, "01");
    b3_multi(&mut expected, &request, client, Some("1"));
    assert_eq!(Seen::parse(&body).trace_headers(), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_sampling_decision_is_carried() {
    let addr = echo_server().await;
    let url = format!("http://{addr}/echo/sampling");
    let multi = ClientTracing::new();
    let single = ClientTracing::new().propagation(
        Propagation::default()
            .app_id(false)
            .w3c(false)
            .b3_style(B3Style::Single),
    );
    for via in ALL_VIAS {
        for (sampling, flags, b3_sampled, b3_single_flag) in [
            (Sampling::NotSampled, "00", Some("0"), "0"),
            (Sampling::Debug, "01", None, "d"),
        ] {
            let request = request_context(sampling);
            let (_, body) = fetch(via, &multi, &url, &[])
                .with_context(request.clone())
                .await;
            let client = client_span_of(request.trace_id()).span_id();
            let mut expected = Headers::new();
            app(&mut expected, "x-app-trace-id", &request);
            w3c(&mut expected, &request, client, flags);
            b3_multi(&mut expected, &request, client, b3_sampled);
            if sampling == Sampling::Debug {
                put(&mut expected, "x-b3-flags", "1".to_owned());
            }
            assert_eq!(
                Seen::parse(&body).trace_headers(),
                expected,
                "{sampling:?} {via:?}"
            );

            let request = request_context(sampling);
            let (_, body) = fetch(via, &single, &url, &[])
                .with_context(request.clone())
                .await;
            let client = client_span_of(request.trace_id()).span_id();
            let mut expected = Headers::new();
            b3_single(&mut expected, &request, client, b3_single_flag);
            assert_eq!(Seen::parse(&body).trace_headers(), expected);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_received_application_id_is_passed_on_verbatim() {
    let addr = echo_server().await;
    let app_id = AppTraceId::parse(b"web-1716268000123-42").unwrap();
    for via in ALL_VIAS {
        let request = Context::builder(app_id.trace_id())
            .app_trace_id(app_id.clone())
            .build();
        let (_, body) = fetch(
            via,
            &ClientTracing::new(),
            &format!("http://{addr}/echo/app"),
            &[],
        )
        .with_context(request.clone())
        .await;
        let seen = Seen::parse(&body);
        assert_eq!(seen.header("x-app-trace-id"), Some("web-1716268000123-42"));
        assert_eq!(seen.app_id.as_deref(), Some("web-1716268000123-42"));
        let trace = request.trace_id().to_string();
        assert_eq!(seen.trace_id.as_deref(), Some(trace.as_str()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn headers_set_by_hand_are_left_as_they_were() {
    let addr = echo_server().await;
    let hand_tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    let by_hand: &[(&'static str, &str)] = &[
        ("x-app-trace-id", "set-by-hand-1"),
        ("traceparent", hand_tp),
    ];
    for via in ALL_VIAS {
        let request = request_context(Sampling::Sampled);
        let (_, body) = fetch(
            via,
            &ClientTracing::new(),
            &format!("http://{addr}/echo/hand"),
            by_hand,
        )
        .with_context(request.clone())
        .await;
        let client = client_span_of(request.trace_id()).span_id();
        let mut expected = Headers::new();
        put(&mut expected, "x-app-trace-id", "set-by-hand-1".to_owned());
        put(&mut expected, "traceparent", hand_tp.to_owned());
        // No tracestate of ours beside someone else's traceparent.
        b3_multi(&mut expected, &request, client, Some("1"));
        assert_eq!(Seen::parse(&body).trace_headers(), expected, "{via:?}");
    }

    // A B3 header set by hand: no B3 header of ours.
    let request = request_context(Sampling::Sampled);
    let (_, body) = fetch(
        Via::Middleware,
        &ClientTracing::new(),
        &format!("http://{addr}/echo/hand-b3"),
        &[("b3", "0")],
    )
    .with_context(request.clone())
    .await;
    let seen = Seen::parse(&body);
    let headers = seen.trace_headers();
    assert_eq!(headers["b3"], vec!["0".to_owned()]);
    assert!(!headers.contains_key("x-b3-traceid"));
    assert!(headers.contains_key("traceparent"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn outside_any_context_a_new_trace_is_started_by_default() {
    let addr = echo_server().await;
    for via in ALL_VIAS {
        let tag = format!("outside-new-{via:?}");
        let (_, body) = fetch(
            via,
            &ClientTracing::new(),
            &format!("http://{addr}/echo/{tag}"),
            &[],
        )
        .await;
        let seen = Seen::parse(&body);
        let spans = client_spans_by_url(&tag);
        assert_eq!(spans.len(), 1);
        let client = spans[0].context.clone().expect("a new trace");
        assert_eq!(client.parent_span_id(), None, "the client span is the root");
        let headers = seen.trace_headers();
        assert_eq!(
            headers["x-app-trace-id"],
            vec![client.trace_id().to_string()]
        );
        assert_eq!(headers["x-b3-spanid"], vec![client.span_id().to_string()]);
        assert!(!headers.contains_key("x-b3-parentspanid"));
        let parent = client.span_id().to_string();
        assert_eq!(seen.parent_id.as_deref(), Some(parent.as_str()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn outside_any_context_nothing_is_injected_when_so_configured() {
    let addr = echo_server().await;
    let tracing = ClientTracing::new().outside_context(OutsideContext::InjectNothing);
    for via in ALL_VIAS {
        let tag = format!("outside-nothing-{via:?}");
        let (_, body) = fetch(via, &tracing, &format!("http://{addr}/echo/{tag}"), &[]).await;
        assert_eq!(Seen::parse(&body).trace_headers(), Headers::new());
        // The client span is still there, without ids.
        let spans = client_spans_by_url(&tag);
        assert_eq!(spans.len(), 1);
        assert!(spans[0].context.is_none());
        assert_eq!(spans[0].field("http.status_code"), Some("200"));
    }
    // Inside a context the policy changes nothing.
    let request = request_context(Sampling::Sampled);
    let (_, body) = fetch(
        Via::SendTraced,
        &tracing,
        &format!("http://{addr}/echo/inside"),
        &[],
    )
    .with_context(request.clone())
    .await;
    let client = client_span_of(request.trace_id()).span_id();
    assert_eq!(
        Seen::parse(&body).header("x-b3-spanid"),
        Some(client.to_string().as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_client_span_has_the_documented_fields() {
    let addr = echo_server().await;
    for via in ALL_VIAS {
        let request = request_context(Sampling::Sampled);
        let url = format!("http://user:secret@{addr}/echo/fields?token=secret#frag");
        let (status, _) = fetch(via, &ClientTracing::new(), &url, &[])
            .with_context(request.clone())
            .await;
        assert_eq!(status, 200);
        let span = client_span_of(request.trace_id());
        assert_eq!(span.name, "http.client");
        let expected_url = format!("http://{addr}/echo/fields");
        let port = addr.port().to_string();
        for (field, value) in [
            ("span.kind", "client"),
            ("http.method", "GET"),
            ("http.url", expected_url.as_str()),
            ("net.peer.name", "127.0.0.1"),
            ("net.peer.port", port.as_str()),
            ("http.status_code", "200"),
        ] {
            assert_eq!(span.field(field), Some(value), "{field} via {via:?}");
        }
        assert_eq!(span.field("error"), None, "{via:?}");
        assert!(!span.fields.values().any(|v| v.contains("secret")));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_5xx_marks_the_span_as_an_error_and_a_4xx_does_not() {
    let addr = echo_server().await;
    for via in ALL_VIAS {
        for (code, error) in [(503, Some("true")), (500, Some("true")), (404, None)] {
            let request = request_context(Sampling::Sampled);
            let (status, _) = fetch(
                via,
                &ClientTracing::new(),
                &format!("http://{addr}/status/{code}"),
                &[],
            )
            .with_context(request.clone())
            .await;
            assert_eq!(status, code);
            let span = client_span_of(request.trace_id());
            assert_eq!(
                span.field("http.status_code"),
                Some(code.to_string().as_str())
            );
            assert_eq!(span.field("error"), error, "{code} via {via:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_mark_client_errors_a_4xx_marks_the_span_with_its_status() {
    let addr = echo_server().await;
    let tracing = ClientTracing::new().mark_client_errors(true);
    for via in ALL_VIAS {
        for (code, error) in [
            (404, Some("404")),
            (409, Some("409")),
            (503, Some("true")),
            (200, None),
        ] {
            let request = request_context(Sampling::Sampled);
            let (status, _) = fetch(via, &tracing, &format!("http://{addr}/status/{code}"), &[])
                .with_context(request.clone())
                .await;
            assert_eq!(status, code);
            let span = client_span_of(request.trace_id());
            assert_eq!(span.field("error"), error, "{code} via {via:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_unsampled_spans_an_unsampled_call_opens_no_span_but_keeps_its_ids() {
    let addr = echo_server().await;
    let tracing = ClientTracing::new().unsampled_spans(false);
    for via in ALL_VIAS {
        let request = request_context(Sampling::NotSampled);
        let (status, body) = fetch(via, &tracing, &format!("http://{addr}/echo/unsampled"), &[])
            .with_context(request.clone())
            .await;
        assert_eq!(status, 200);
        assert!(
            support::client_spans_of(request.trace_id()).is_empty(),
            "{via:?}"
        );
        // The call still has a client context of its own: a new span id, child of the request.
        let seen = Seen::parse(&body);
        let sent_span = seen.header("x-b3-spanid").expect("b3 span id").to_owned();
        assert_ne!(sent_span, request.span_id().to_string());
        assert_eq!(
            seen.header("x-b3-parentspanid"),
            Some(request.span_id().to_string().as_str())
        );
        assert_eq!(seen.header("x-b3-sampled"), Some("0"));

        // A sampled call opens its span as always.
        let request = request_context(Sampling::Sampled);
        let (status, body) = fetch(via, &tracing, &format!("http://{addr}/echo/sampled"), &[])
            .with_context(request.clone())
            .await;
        assert_eq!(status, 200);
        let span = client_span_of(request.trace_id());
        assert_eq!(
            Seen::parse(&body).header("x-b3-spanid"),
            Some(span.span_id().to_string().as_str()),
            "{via:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_user_span_is_the_parent_of_the_client_span() {
    let addr = echo_server().await;
    let request = request_context(Sampling::Sampled);
    let user_span_ctx = async {
        let span = tracing::info_span!("load order");
        let ctx = {
            let _e = span.enter();
            Context::current().unwrap()
        };
        let body = tracing::Instrument::instrument(
            async {
                plain_client()
                    .get(format!("http://{addr}/echo/user-span"))
                    .send_traced()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap()
            },
            span,
        )
        .await;
        (ctx, body)
    }
    .with_context(request.clone())
    .await;
    let (user, body) = user_span_ctx;
    assert_eq!(user.parent_span_id(), Some(request.span_id()));
    let client = client_span_of(request.trace_id());
    assert_eq!(
        client.context.unwrap().parent_span_id(),
        Some(user.span_id())
    );
    let seen = Seen::parse(&body);
    assert_eq!(
        seen.header("x-b3-parentspanid"),
        Some(user.span_id().to_string().as_str())
    );
}
