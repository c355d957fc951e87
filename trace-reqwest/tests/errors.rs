//! Connection refused and timeouts: the client span has `error`, the caller gets the original
//! reqwest error.

mod support;

use std::error::Error as _;
use std::time::Duration;

use reqwest_middleware::ClientBuilder;
use support::{client_span_of, closed_port, echo_app, plain_client, serve};
use trace_context::{Context, WithContext};
use trace_reqwest::{ClientTracing, RequestBuilderExt, TracingMiddleware};

#[derive(Debug, Clone, Copy)]
enum Via {
    Middleware,
    SendTraced,
    Execute,
    Untraced,
}

/// Sends `builder`'s request through `via` and returns the reqwest error it ends with.
async fn fail(via: Via, url: &str, timeout: Option<Duration>) -> reqwest::Error {
    let client = plain_client();
    let result = match via {
        Via::Middleware => {
            let client = ClientBuilder::new(client)
                .with(TracingMiddleware::new())
                .build();
            let mut b = client.get(url);
            if let Some(t) = timeout {
                b = b.timeout(t);
            }
            match b.send().await {
                Ok(r) => Ok(r),
                Err(reqwest_middleware::Error::Reqwest(e)) => Err(e),
                Err(other) => panic!("not a reqwest error: {other}"),
            }
        }
        Via::SendTraced | Via::Execute | Via::Untraced => {
            let mut b = client.get(url);
            if let Some(t) = timeout {
                b = b.timeout(t);
            }
            match via {
                Via::SendTraced => b.send_traced().await,
                Via::Execute => {
                    ClientTracing::new()
                        .execute(&client, b.build().unwrap())
                        .await
                }
                _ => b.send().await,
            }
        }
    };
    result.expect_err("the call fails")
}

/// The error as the caller would print it: its text and all its causes.
fn describe(err: &reqwest::Error) -> String {
    let mut out = format!("{err} [url={:?}]", err.url().map(|u| u.as_str()));
    let mut source = err.source();
    while let Some(s) = source {
        out.push_str(" <- ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn connection_refused_is_recorded_and_returned_unchanged() {
    support::init_tracing();
    let url = format!("http://127.0.0.1:{}/orders?token=secret", closed_port());
    let untraced = fail(Via::Untraced, &url, None).await;
    assert!(untraced.is_connect());

    for via in [Via::Middleware, Via::SendTraced, Via::Execute] {
        let request = Context::new_root();
        let err = fail(via, &url, None).with_context(request.clone()).await;
        assert!(err.is_connect(), "{via:?}: {err:?}");
        assert!(!err.is_timeout());
        // The original error: same kind, text, URL (query included) and causes as without
        // tracing.
        assert_eq!(describe(&err), describe(&untraced), "{via:?}");
        assert_eq!(err.url().map(|u| u.as_str()), Some(url.as_str()));

        let span = client_span_of(request.trace_id());
        let error = span.field("error").expect("error recorded");
        assert!(error.starts_with("error sending request"), "{error}");
        assert!(error.to_ascii_lowercase().contains("connect"), "{error}");
        assert!(
            !error.contains("secret") && !error.contains("http://"),
            "{error}"
        );
        assert_eq!(span.field("http.status_code"), None);
        assert_eq!(
            span.field("http.url"),
            Some(url.split('?').next().unwrap()),
            "{via:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_timeout_is_recorded_and_returned_unchanged() {
    support::init_tracing();
    let addr = serve(echo_app()).await;
    let url = format!("http://{addr}/slow");
    for via in [Via::Middleware, Via::SendTraced, Via::Execute] {
        let request = Context::new_root();
        let err = fail(via, &url, Some(Duration::from_millis(200)))
            .with_context(request.clone())
            .await;
        assert!(err.is_timeout(), "{via:?}: {err:?}");
        assert!(!err.is_connect());
        assert_eq!(err.url().map(|u| u.as_str()), Some(url.as_str()));

        let span = client_span_of(request.trace_id());
        let error = span.field("error").expect("error recorded");
        assert!(error.contains("timed out"), "{error}");
        assert!(!error.contains("http://"), "{error}");
        assert_eq!(span.field("http.status_code"), None);
    }
}
