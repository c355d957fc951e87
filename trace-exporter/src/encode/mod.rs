//! The Zipkin v2 JSON encoding, hand-written: one pass into a reused buffer, no intermediate
//! model, correct JSON escaping.

mod json;
mod zipkin;

pub use json::{JsonOut, LenCounter};
pub use zipkin::{encode_list, encode_span, encoded_len, write_span};
pub(crate) use zipkin::{encode_span_cached, EndpointCache};
