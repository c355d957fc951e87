//! Calls made from spawned tasks, blocking tasks and threads carry the request's id; 500
//! concurrent calls from 500 request contexts each carry their own.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::Router;
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use support::{client_span_of, echo_app, plain_client, render_seen, serve, Seen};
use tokio::runtime::Handle;
use tokio::sync::Barrier;
use trace_context::{Context, WithContext};
use trace_reqwest::{RequestBuilderExt, TracingMiddleware};

async fn echo_server() -> SocketAddr {
    support::init_tracing();
    serve(echo_app()).await
}

fn middleware_client() -> ClientWithMiddleware {
    ClientBuilder::new(plain_client())
        .with(TracingMiddleware::new())
        .build()
}

/// What the callee saw must be the request's trace, under the request's one client span.
fn assert_carried(request: &Context, seen: &Seen) {
    let client = client_span_of(request.trace_id());
    let client = client.context.as_ref().unwrap();
    assert_eq!(client.parent_span_id(), Some(request.span_id()));
    let trace = request.trace_id().to_string();
    let parent = client.span_id().to_string();
    assert_eq!(seen.trace_id.as_deref(), Some(trace.as_str()));
    assert_eq!(seen.parent_id.as_deref(), Some(parent.as_str()));
    assert_eq!(seen.header("x-app-trace-id"), Some(trace.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_call_from_a_spawned_task_carries_the_request_id() {
    let addr = echo_server().await;
    let url = format!("http://{addr}/echo/spawn");

    // Plain reqwest.
    let request = Context::new_root();
    let body = {
        let url = url.clone();
        async move {
            trace_context::spawn(async move {
                let r = plain_client().get(url).send_traced().await.unwrap();
                r.text().await.unwrap()
            })
            .await
            .unwrap()
        }
    }
    .with_context(request.clone())
    .await;
    assert_carried(&request, &Seen::parse(&body));

    // reqwest-middleware.
    let request = Context::new_root();
    let body = async move {
        trace_context::spawn(async move {
            let r = middleware_client().get(url).send().await.unwrap();
            r.text().await.unwrap()
        })
        .await
        .unwrap()
    }
    .with_context(request.clone())
    .await;
    assert_carried(&request, &Seen::parse(&body));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_call_from_spawn_blocking_carries_the_request_id() {
    let addr = echo_server().await;
    let url = format!("http://{addr}/echo/blocking");

    // A blocking call: Handle::block_on inside spawn_blocking.
    let request = Context::new_root();
    let body = {
        let url = url.clone();
        async move {
            let handle = Handle::current();
            trace_context::spawn_blocking(move || {
                handle.block_on(async {
                    let r = plain_client().get(url).send_traced().await.unwrap();
                    r.text().await.unwrap()
                })
            })
            .await
            .unwrap()
        }
    }
    .with_context(request.clone())
    .await;
    assert_carried(&request, &Seen::parse(&body));

    // An async call spawned from inside the blocking task.
    let request = Context::new_root();
    let body = {
        let url = url.clone();
        async move {
            let task = trace_context::spawn_blocking(move || {
                trace_context::spawn(async move {
                    let r = middleware_client().get(url).send().await.unwrap();
                    r.text().await.unwrap()
                })
            })
            .await
            .unwrap();
            task.await.unwrap()
        }
    }
    .with_context(request.clone())
    .await;
    assert_carried(&request, &Seen::parse(&body));

    // A plain thread, via trace_context::wrap.
    let request = Context::new_root();
    let handle = Handle::current();
    let thread = request.scope(|| {
        std::thread::spawn(trace_context::wrap(move || {
            // The future is built (and the context read) on this thread.
            let call = plain_client().get(url).send_traced();
            handle.block_on(async { call.await.unwrap().text().await.unwrap() })
        }))
    });
    let body = tokio::task::spawn_blocking(move || thread.join().unwrap())
        .await
        .unwrap();
    assert_carried(&request, &Seen::parse(&body));
}

/// 500 calls from 500 request contexts, all in flight at the same time: the server holds every
/// request until all 500 have arrived.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_calls_from_different_requests_each_carry_their_own_id() {
    const CALLS: usize = 500;
    support::init_tracing();
    let barrier = Arc::new(Barrier::new(CALLS));
    let app = support::server::traced(Router::new().route(
        "/gather",
        get(move |headers: HeaderMap| {
            let barrier = barrier.clone();
            async move {
                // A safety net so that a lost call fails the test instead of hanging it.
                match tokio::time::timeout(Duration::from_secs(120), barrier.wait()).await {
                    Ok(_) => (StatusCode::OK, render_seen(&headers)),
                    Err(_) => (StatusCode::SERVICE_UNAVAILABLE, String::new()),
                }
            }
        }),
    ));
    let addr = serve(app).await;
    let url = format!("http://{addr}/gather");
    let plain = plain_client();
    let with_middleware = ClientBuilder::new(plain.clone())
        .with(TracingMiddleware::new())
        .build();

    let mut tasks = Vec::with_capacity(CALLS);
    for i in 0..CALLS {
        let request = Context::new_root().with_field("call", &i.to_string());
        let (url, plain, with_middleware) = (url.clone(), plain.clone(), with_middleware.clone());
        let call = async move {
            // Yield so that the tasks interleave on the worker threads.
            tokio::task::yield_now().await;
            let response = if i % 2 == 0 {
                plain.get(url).send_traced().await.unwrap()
            } else {
                with_middleware.get(url).send().await.unwrap()
            };
            assert_eq!(response.status(), 200, "call {i}");
            // The context is still the request's after the call.
            assert_eq!(trace_context::mdc::get("call"), Some(i.to_string()));
            response.text().await.unwrap()
        };
        tasks.push((request.clone(), tokio::spawn(call.with_context(request))));
    }
    let mut seen_traces = std::collections::HashSet::new();
    for (request, task) in tasks {
        let seen = Seen::parse(&task.await.unwrap());
        assert_carried(&request, &seen);
        seen_traces.insert(seen.trace_id.unwrap());
    }
    assert_eq!(seen_traces.len(), CALLS);
}
