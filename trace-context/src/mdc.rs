//! slf4j-style MDC functions on the current context.
//!
//! Changes are copy-on-write: they affect the current task (and what it spawns afterwards), never
//! a parent or a sibling that already took its snapshot. Inside a `tracing` span entered through
//! [`crate::ContextLayer`], a change lives as long as that span.
//!
//! ```
//! use trace_context::{mdc, Context};
//! let ctx = Context::new_root();
//! let _g = ctx.enter();
//! assert!(mdc::put("orderId", "1001"));
//! assert_eq!(mdc::get("orderId").as_deref(), Some("1001"));
//! assert_eq!(mdc::get("traceId"), Some(ctx.trace_id().to_string()));
//! mdc::remove("orderId");
//! assert_eq!(mdc::get("orderId"), None);
//! ```

use crate::current;
use crate::Context;

/// Sets a field on the current context. Returns `false` when there is no current context (or
/// when called from inside [`Context::with_current`], where changes are refused).
///
/// ```
/// assert!(!trace_context::mdc::put("k", "v")); // no context here
/// ```
pub fn put(key: &str, value: &str) -> bool {
    current::modify(|ctx| {
        ctx.set_field(key, value);
        true
    })
}

/// Reads a value of the current context: a user field or one of the id keys (`traceId`,
/// `spanId`, `parentId`, `sampled`, `appTraceId`). Allocates the returned `String`; on a hot path
/// use [`Context::with_current`] and [`Context::get`] instead.
///
/// ```
/// assert_eq!(trace_context::mdc::get("traceId"), None); // no context here
/// ```
pub fn get(key: &str) -> Option<String> {
    Context::with_current(|c| c.and_then(|c| c.get(key)).map(|v| v.to_string()))
}

/// Removes a user field from the current context; `true` if it was there.
///
/// ```
/// assert!(!trace_context::mdc::remove("k"));
/// ```
pub fn remove(key: &str) -> bool {
    current::modify(|ctx| ctx.remove_field(key))
}

/// All user fields of the current context, in insertion order.
///
/// ```
/// assert!(trace_context::mdc::fields().is_empty());
/// ```
pub fn fields() -> Vec<(String, String)> {
    Context::with_current(|c| {
        c.map(|c| {
            c.fields()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect()
        })
        .unwrap_or_default()
    })
}
