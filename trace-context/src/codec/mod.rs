//! Header codecs: `X-App-Trace-Id`, W3C `traceparent`/`tracestate`, B3 single and multi.
//!
//! ```
//! use trace_context::codec::Propagation;
//! use trace_context::{FollowUpstream, IdGenerator};
//! let incoming = [("x-app-trace-id", "web-1716268000123-42")];
//! let ctx = Propagation::default().extract(incoming.as_slice())
//!     .server_context(&IdGenerator::default(), &FollowUpstream);
//! let mut outgoing = std::collections::HashMap::new();
//! Propagation::default().inject(&ctx.child(), &mut outgoing);
//! assert_eq!(outgoing["x-app-trace-id"], "web-1716268000123-42");
//! ```

pub mod b3;
mod carrier;
mod gather;
mod propagation;
pub mod w3c;

pub use carrier::{Extractor, Injector};
pub use propagation::{B3Style, Extracted, Propagation, RemoteParent, X_APP_TRACE_ID};
