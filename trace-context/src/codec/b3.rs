//! B3 propagation (openzipkin/b3-propagation): the single `b3` header and the multi-header form.
//!
//! Ids are lowercase hex (trace id 16 or 32 digits, span ids 16), never all zeros; a malformed
//! header restarts the trace rather than propagating nonsense (as Brave does); a malformed
//! single header falls back to the multi form; the single header wins over the multi form; when
//! a header is repeated, its first value wins.

use crate::codec::w3c::trim_ows;
use crate::codec::Extractor;
use crate::id::parse_lower_hex;
use crate::{Sampling, SpanId, TraceId};

/// The single-header name.
pub const B3: &str = "b3";
/// Multi-header: trace id.
pub const X_B3_TRACE_ID: &str = "x-b3-traceid";
/// Multi-header: span id.
pub const X_B3_SPAN_ID: &str = "x-b3-spanid";
/// Multi-header: parent span id.
pub const X_B3_PARENT_SPAN_ID: &str = "x-b3-parentspanid";
/// Multi-header: sampling decision.
pub const X_B3_SAMPLED: &str = "x-b3-sampled";
/// Multi-header: flags (`1` = debug).
pub const X_B3_FLAGS: &str = "x-b3-flags";

/// What B3 carried: ids (when present and valid) and the sampling decision.
///
/// ```
/// use trace_context::codec::b3::B3Context;
/// use trace_context::Sampling;
/// let b = B3Context::parse_single(b"80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90").unwrap();
/// assert_eq!(b.sampling, Sampling::Sampled);
/// assert_eq!(B3Context::parse_single(b"0").unwrap().sampling, Sampling::NotSampled);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct B3Context {
    /// Trace id and the caller's span id (the parent of the receiving span); `None` for the
    /// sampling-only forms (`b3: 0`, `b3: d`, or only `X-B3-Sampled`).
    pub ids: Option<(TraceId, SpanId)>,
    /// The caller's parent span id, when sent.
    pub parent_span_id: Option<SpanId>,
    /// The caller's decision.
    pub sampling: Sampling,
}

fn trace_id(b: &[u8]) -> Option<TraceId> {
    match b.len() {
        16 | 32 => parse_lower_hex(b, b.len()).and_then(TraceId::from_u128),
        _ => None,
    }
}

fn span_id(b: &[u8]) -> Option<SpanId> {
    parse_lower_hex(b, 16).and_then(|v| SpanId::from_u64(v as u64))
}

fn sampling_flag(b: &[u8]) -> Option<Sampling> {
    match b {
        b"1" => Some(Sampling::Sampled),
        b"0" => Some(Sampling::NotSampled),
        b"d" => Some(Sampling::Debug),
        _ => None,
    }
}

impl B3Context {
    /// Parses a single `b3` header value; `None` when malformed.
    ///
    /// ```
    /// use trace_context::codec::b3::B3Context;
    /// assert!(B3Context::parse_single(b"80F198EE56343BA864FE8B2A57D3EFF7-e457b5a2e4d86bd1").is_none());
    /// assert!(B3Context::parse_single(b"-").is_none());
    /// assert_eq!(B3Context::parse_single(b"d").unwrap().sampling, trace_context::Sampling::Debug);
    /// ```
    pub fn parse_single(value: &[u8]) -> Option<B3Context> {
        let v = trim_ows(value);
        if v.len() == 1 {
            return sampling_flag(v).map(|sampling| B3Context {
                ids: None,
                parent_span_id: None,
                sampling,
            });
        }
        let mut parts = v.splitn(5, |&b| b == b'-');
        let t = trace_id(parts.next()?)?;
        let s = span_id(parts.next()?)?;
        let mut out = B3Context {
            ids: Some((t, s)),
            parent_span_id: None,
            sampling: Sampling::Deferred,
        };
        if let Some(flag) = parts.next() {
            out.sampling = sampling_flag(flag)?;
            if let Some(parent) = parts.next() {
                out.parent_span_id = Some(span_id(parent)?);
            }
            if parts.next().is_some() {
                return None;
            }
        }
        Some(out)
    }

    /// Reads the multi-header form; `None` when absent or malformed.
    ///
    /// ```
    /// use trace_context::codec::b3::B3Context;
    /// let headers = [("x-b3-traceid", "463ac35c9f6413ad"), ("x-b3-spanid", "a2fb4a1d1a96d312"), ("x-b3-sampled", "1")];
    /// let b = B3Context::extract_multi(headers.as_slice()).unwrap();
    /// assert_eq!(b.ids.unwrap().0.to_string(), "0000000000000000463ac35c9f6413ad");
    /// ```
    pub fn extract_multi<E: Extractor + ?Sized>(carrier: &E) -> Option<B3Context> {
        let debug = carrier.first(X_B3_FLAGS).map(trim_ows) == Some(b"1".as_slice());
        let sampled = match carrier.first(X_B3_SAMPLED).map(trim_ows) {
            None => Sampling::Deferred,
            Some(b"1" | b"true") => Sampling::Sampled,
            Some(b"0" | b"false") => Sampling::NotSampled,
            Some(_) => return None,
        };
        let sampling = if debug { Sampling::Debug } else { sampled };
        let trace = carrier.first(X_B3_TRACE_ID).map(trim_ows);
        let span = carrier.first(X_B3_SPAN_ID).map(trim_ows);
        let ids = match (trace, span) {
            (None, None) => None,
            (Some(t), Some(s)) => Some((trace_id(t)?, span_id(s)?)),
            _ => return None,
        };
        let parent_span_id = match carrier.first(X_B3_PARENT_SPAN_ID).map(trim_ows) {
            Some(p) if ids.is_some() => Some(span_id(p)?),
            _ => None,
        };
        if ids.is_none() && sampling == Sampling::Deferred {
            return None;
        }
        Some(B3Context {
            ids,
            parent_span_id,
            sampling,
        })
    }

    /// Reads B3 from a carrier: the single header if valid, else the multi form.
    ///
    /// ```
    /// use trace_context::codec::b3::B3Context;
    /// let headers = [("b3", "garbage"), ("x-b3-traceid", "463ac35c9f6413ad"), ("x-b3-spanid", "a2fb4a1d1a96d312")];
    /// assert!(B3Context::extract(headers.as_slice()).unwrap().ids.is_some());
    /// ```
    pub fn extract<E: Extractor + ?Sized>(carrier: &E) -> Option<B3Context> {
        carrier
            .first(B3)
            .and_then(B3Context::parse_single)
            .or_else(|| B3Context::extract_multi(carrier))
    }
}

/// Renders a single `b3` header value: `{trace}-{span}[-{1|0|d}][-{parent}]`.
///
/// ```
/// use trace_context::{Sampling, SpanId, TraceId};
/// let v = trace_context::codec::b3::encode_single(TraceId::from_u128(1).unwrap(), SpanId::from_u64(2).unwrap(),
///                                                 Sampling::Sampled, None);
/// assert_eq!(v, "0000000000000001-0000000000000002-1");
/// ```
pub fn encode_single(
    trace_id: TraceId,
    span_id: SpanId,
    sampling: Sampling,
    parent: Option<SpanId>,
) -> String {
    let mut out = String::with_capacity(68);
    out.push_str(&trace_id.to_zipkin_hex());
    out.push('-');
    out.push_str(&span_id.to_hex());
    let flag = match sampling {
        Sampling::Sampled => Some('1'),
        Sampling::NotSampled => Some('0'),
        Sampling::Debug => Some('d'),
        Sampling::Deferred => None,
    };
    if let Some(flag) = flag {
        out.push('-');
        out.push(flag);
        if let Some(p) = parent {
            out.push('-');
            out.push_str(&p.to_hex());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_forms() {
        let t = "80f198ee56343ba864fe8b2a57d3eff7";
        assert!(B3Context::parse_single(format!("{t}-e457b5a2e4d86bd1").as_bytes()).is_some());
        assert!(B3Context::parse_single(format!("{t}-e457b5a2e4d86bd1-x").as_bytes()).is_none());
        assert!(B3Context::parse_single(format!("{t}-0000000000000000-1").as_bytes()).is_none());
        assert!(
            B3Context::parse_single(b"00000000000000000000000000000000-e457b5a2e4d86bd1").is_none()
        );
        assert!(B3Context::parse_single(b"").is_none());
        assert!(B3Context::parse_single(b"1-2").is_none());
        assert!(B3Context::parse_single(
            format!("{t}-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90-x").as_bytes()
        )
        .is_none());
        assert!(B3Context::parse_single(
            format!("{t}-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b9").as_bytes()
        )
        .is_none());
    }

    #[test]
    fn multi_forms() {
        let h = [
            ("x-b3-flags", "1"),
            ("x-b3-traceid", "463ac35c9f6413ad"),
            ("x-b3-spanid", "a2fb4a1d1a96d312"),
        ];
        assert_eq!(
            B3Context::extract(h.as_slice()).unwrap().sampling,
            Sampling::Debug
        );
        let only_trace = [("x-b3-traceid", "463ac35c9f6413ad")];
        assert!(B3Context::extract(only_trace.as_slice()).is_none());
        let sampled_only = [("x-b3-sampled", "0")];
        let b = B3Context::extract(sampled_only.as_slice()).unwrap();
        assert_eq!((b.ids, b.sampling), (None, Sampling::NotSampled));
        let first_wins = [
            ("x-b3-traceid", "463ac35c9f6413ad"),
            ("x-b3-traceid", "ffffffffffffffff"),
            ("x-b3-spanid", "a2fb4a1d1a96d312"),
        ];
        let b = B3Context::extract(first_wins.as_slice()).unwrap();
        assert_eq!(b.ids.unwrap().0.to_u128(), 0x463ac35c9f6413ad);
    }
}
