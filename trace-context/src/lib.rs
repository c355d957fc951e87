//! # trace-context
//!
//! The contract of trace-kit: trace and span ids, the application id (`X-App-Trace-Id`), the
//! header codecs (`X-App-Trace-Id`, W3C `traceparent`/`tracestate`, B3 single and multi), and an
//! MDC-like [`Context`] that follows a request into every task, blocking task, thread and pool —
//! and never leaks into another request.
//!
//! ```
//! use trace_context::{mdc, Context, WithContext};
//!
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() {
//! let request = Context::new_root();
//! async {
//!     mdc::put("orderId", "1001");
//!     // Spawned work inherits a snapshot of the context...
//!     let seen = trace_context::spawn(async { trace_context::current_trace_id() }).await.unwrap();
//!     assert_eq!(seen, Some(request.trace_id()));
//!     // ...and so does blocking work.
//!     let order = trace_context::spawn_blocking(|| trace_context::mdc::get("orderId")).await.unwrap();
//!     assert_eq!(order.as_deref(), Some("1001"));
//! }
//! .with_context(request.clone())
//! .await;
//! # }
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod app_id;
pub mod codec;
mod context;
mod current;
mod future;
mod generator;
mod id;
#[cfg(feature = "tracing")]
mod layer;
pub mod mdc;
mod propagate;
mod sampling;
#[cfg(feature = "tracing")]
mod span_scope;

pub use app_id::{
    derive_trace_id, is_id_byte, validate_id, AppTraceId, Rejection, DEFAULT_MAX_APP_ID_LEN,
};
pub use context::{
    Context, ContextBuilder, ContextGuard, MdcFields, MdcKey, MdcValue, KEY_APP_TRACE_ID,
    KEY_PARENT_ID, KEY_SAMPLED, KEY_SPAN_ID, KEY_TRACE_ID,
};
pub use future::{WithContext, WithContextFuture};
pub use generator::IdGenerator;
pub use id::{HexBuf, IdError, SpanId, TraceId};
#[cfg(feature = "tracing")]
pub use layer::{ContextLayer, SPAN_KIND_FIELD};
#[cfg(feature = "tokio")]
pub use propagate::{spawn, spawn_blocking};
pub use propagate::{wrap, wrap_fn};
pub use sampling::{
    decide, global_sampler, set_global_sampler, with_global_sampler, FollowUpstream, Sampler,
    Sampling,
};
#[cfg(feature = "tracing")]
pub use span_scope::{scope_in_span, SpanScope};

/// The current trace id, if a context is current: a few nanoseconds, no lock, no allocation.
///
/// ```
/// assert_eq!(trace_context::current_trace_id(), None);
/// let ctx = trace_context::Context::new_root();
/// let _g = ctx.enter();
/// assert_eq!(trace_context::current_trace_id(), Some(ctx.trace_id()));
/// ```
#[inline]
pub fn current_trace_id() -> Option<TraceId> {
    Context::with_current(|c| c.map(Context::trace_id))
}
