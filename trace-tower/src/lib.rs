//! # trace-tower
//!
//! The `TraceIdFilter` of trace-kit: a [tower](https://docs.rs/tower) layer that, for every
//! request a server handles,
//!
//! 1. reads the incoming ids — `X-App-Trace-Id` (name configurable), W3C
//!    `traceparent`/`tracestate` and B3 (single `b3` and the `X-B3-*` headers), each switchable;
//! 2. validates them (hostile values are dropped, never reflected) and decides the request's
//!    [`Context`](trace_context::Context): the received trace id or a freshly minted one, a new
//!    span id for this server span, and the sampling decision;
//! 3. runs the inner service inside that context, so handlers — and everything they start with
//!    `trace_context::spawn`, `spawn_blocking` or `wrap` — see it;
//! 4. opens a server [`tracing`] span (`http.server`, `span.kind = "server"`) with
//!    `http.method`, `http.path`, `http.route`, and at the response `http.status_code` and `error`;
//! 5. echoes the id in the response's `X-App-Trace-Id` (never overwriting a value the handler
//!    set, never echoing a rejected value).
//!
//! ## Precedence
//!
//! The parent span (trace id, parent span id, upstream sampling) comes from `traceparent`
//! when it is valid, else from B3 (the single `b3` header wins over the `X-B3-*` set). The
//! application id comes from `X-App-Trace-Id`. With no parent, a hex-shaped application id *is*
//! the trace id and any other valid one derives it (see `trace_context::AppTraceId`); with
//! neither, the layer's [`IdGenerator`](trace_context::IdGenerator) mints one.
//!
//! ## Example
//!
//! ```
//! use axum::{routing::get, Router};
//! use trace_tower::TraceLayer;
//!
//! async fn hello() -> String {
//!     // The request's trace id, from anywhere in the handler.
//!     format!("trace {}", trace_context::current_trace_id().unwrap())
//! }
//!
//! let app: Router = Router::new()
//!     .route("/hello", get(hello))
//!     .layer(TraceLayer::new().service_name("hello-service"));
//! # let _ = app;
//! ```
//!
//! Register `trace_context::ContextLayer` first in your subscriber so that the span and the
//! context stay in step (trace-log's initialiser does it for you).
#![deny(missing_docs)]

mod echo;
mod future;
mod layer;
mod service;
mod span;

pub use future::ResponseFuture;
pub use layer::TraceLayer;
pub use service::TraceService;
pub use span::SERVER_SPAN_NAME;
