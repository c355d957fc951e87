//! # trace-reqwest
//!
//! Carries the current trace to the next service on every outgoing [`reqwest`] call — the
//! Rust counterpart of Spring Cloud Sleuth's Feign `RequestInterceptor` — and opens a client
//! span per call.
//!
//! Two ways in, one behaviour (both go through [`ClientTracing::inject`] and the same span
//! code):
//!
//! * [`TracingMiddleware`] for [`reqwest_middleware::ClientWithMiddleware`];
//! * [`RequestBuilderExt::send_traced`] (and [`ClientTracing::execute`]) for plain
//!   [`reqwest::Client`] users.
//!
//! ## What is written
//!
//! For each call a client context is made: a child of the current
//! [`trace_context::Context`] (same trace id, application id, `tracestate` and sampling decision;
//! a new span id). Its span id is the parent id the callee sees. The headers written, each
//! switchable through [`trace_context::codec::Propagation`]:
//!
//! * `X-App-Trace-Id`: the application id as received upstream (e.g. `web-1716268000123-42`),
//!   else the trace id;
//! * `traceparent` (with the sampled flag) and `tracestate` passed through;
//! * B3 multi (`X-B3-TraceId`, `X-B3-SpanId`, `X-B3-ParentSpanId`, `X-B3-Sampled`) by default, or
//!   the single `b3` header.
//!
//! A header the caller set by hand is never overwritten. Outside any context the call starts a
//! new trace, or injects nothing ([`OutsideContext`]).
//!
//! ## The client span
//!
//! `http.client`, with `span.kind = "client"`, `http.method`, `http.url` (scheme, host, port
//! and path: no credentials, query string or fragment), `net.peer.name`, `net.peer.port`,
//! `http.status_code` and `error` (`true` on a 5xx status; the error text, without the URL, on a
//! transport failure). It is created inside the client context, so
//! [`trace_context::ContextLayer`] gives it exactly the ids written in the headers.
//!
//! The span ends **when the response headers arrive** — the moment `send()` resolves. Reading
//! the body is the caller's work and is not part of it: the span measures the remote call
//! (Brave's client spans end on the response too), it closes even when the body is never read,
//! and it does not stay open while a large body is streamed. A call whose future is dropped
//! before the response (cancelled) closes its span without a status.
//!
//! ## Example: reqwest-middleware
//!
//! ```no_run
//! use reqwest_middleware::ClientBuilder;
//! use trace_reqwest::TracingMiddleware;
//!
//! # async fn handler() -> Result<String, reqwest_middleware::Error> {
//! let client = ClientBuilder::new(reqwest::Client::new())
//!     .with(TracingMiddleware::new())
//!     .build();
//! // Running inside a request context (set up by trace-tower on the server):
//! let user = client.get("http://127.0.0.1:8081/users/42").send().await?.text().await?;
//! # Ok(user)
//! # }
//! ```
//!
//! ## Example: plain reqwest
//!
//! ```no_run
//! use trace_reqwest::RequestBuilderExt;
//!
//! # async fn handler(client: reqwest::Client) -> reqwest::Result<String> {
//! let product = client
//!     .get("http://127.0.0.1:8082/products/7")
//!     .send_traced()
//!     .await?
//!     .text()
//!     .await?;
//! # Ok(product)
//! # }
//! ```
//!
//! ## Example: what the callee receives
//!
//! ```
//! use trace_context::Context;
//! use trace_reqwest::ClientTracing;
//!
//! let request = Context::new_root();
//! let mut headers = reqwest::header::HeaderMap::new();
//! let client_span = request.scope(|| ClientTracing::new().inject(&mut headers)).unwrap();
//! assert_eq!(headers["x-app-trace-id"], request.trace_id().to_string());
//! assert_eq!(
//!     headers["traceparent"],
//!     format!("00-{}-{}-03", request.trace_id(), client_span.span_id()),
//! );
//! assert_eq!(headers["x-b3-spanid"], client_span.span_id().to_string());
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod call;
mod config;
mod middleware;
mod plain;
mod span;

pub use config::{ClientTracing, OutsideContext};
pub use middleware::TracingMiddleware;
pub use plain::RequestBuilderExt;
pub use span::CLIENT_SPAN_NAME;
