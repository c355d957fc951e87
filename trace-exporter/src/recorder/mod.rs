//! The recorder: turns the `tracing` spans of sampled traces into [`crate::SpanRecord`]s.

mod fields;
mod layer;
pub(crate) mod pool;
mod table;

pub(crate) use fields::bounded;
pub use fields::{FIELD_SERVICE_NAME, FIELD_SPAN_KIND, MAX_TAG_VALUE};
pub use layer::ZipkinLayer;
