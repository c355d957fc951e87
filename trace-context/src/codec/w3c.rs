//! W3C Trace Context: `traceparent` and `tracestate`.
//!
//! Follows `20-http_request_header_format.md`: lowercase hex only; all-zero ids and version `ff`
//! are invalid; version `00` is exactly 55 characters; a higher version is parsed by position and
//! may carry more fields after a `-`; surrounding spaces and tabs are allowed; an invalid
//! `traceparent` (or two of them) means: ignore it and `tracestate`, start a new trace.

use std::fmt;
use std::sync::Arc;

use crate::id::parse_lower_hex;
use crate::{SpanId, TraceId};

/// The `traceparent` header name.
pub const TRACEPARENT: &str = "traceparent";
/// The `tracestate` header name.
pub const TRACESTATE: &str = "tracestate";

/// Flag bit: the caller sampled this trace.
pub const FLAG_SAMPLED: u8 = 0x01;
/// Flag bit (level 2): the rightmost 7 bytes of the trace id are random.
pub const FLAG_RANDOM: u8 = 0x02;

/// Most `tracestate` list members propagated (the spec's limit).
pub const MAX_TRACESTATE_MEMBERS: usize = 32;
/// Most bytes of `tracestate` read (all headers together); longer input is dropped unread.
pub const MAX_TRACESTATE_BYTES: usize = 8192;

/// A parsed `traceparent`.
///
/// ```
/// use trace_context::codec::w3c::TraceParent;
/// let tp = TraceParent::parse(b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01").unwrap();
/// assert!(tp.sampled());
/// assert_eq!(tp.to_string(), "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceParent {
    /// The trace id.
    pub trace_id: TraceId,
    /// The caller's span id: the parent of the span that receives it.
    pub parent_id: SpanId,
    /// The flags byte (only the bits this crate understands are kept: sampled and random).
    pub flags: u8,
}

/// Why a `traceparent` was refused.
///
/// ```
/// use trace_context::codec::w3c::{TraceParent, TraceParentError};
/// assert_eq!(TraceParent::parse(b"ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
///            Err(TraceParentError::Version));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceParentError {
    /// Wrong length, or missing `-` where a field ends.
    Shape,
    /// Version not two lowercase hex digits, or `ff`.
    Version,
    /// Trace id not 32 lowercase hex digits, or all zeros.
    TraceId,
    /// Parent id not 16 lowercase hex digits, or all zeros.
    ParentId,
    /// Flags not two lowercase hex digits.
    Flags,
}

impl fmt::Display for TraceParentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TraceParentError::Shape => "traceparent has the wrong length or delimiters",
            TraceParentError::Version => "traceparent version is invalid",
            TraceParentError::TraceId => "traceparent trace-id is invalid",
            TraceParentError::ParentId => "traceparent parent-id is invalid",
            TraceParentError::Flags => "traceparent flags are invalid",
        })
    }
}

impl std::error::Error for TraceParentError {}

/// Strips the spaces and tabs HTTP allows around a value.
pub(crate) fn trim_ows(mut b: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = b {
        b = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = b {
        b = rest;
    }
    b
}

impl TraceParent {
    /// Parses one `traceparent` value.
    ///
    /// ```
    /// use trace_context::codec::w3c::TraceParent;
    /// // A future version with extra fields is read by position and re-emitted as version 00.
    /// let tp = TraceParent::parse(b"cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-what-the-future-holds").unwrap();
    /// assert!(tp.to_string().starts_with("00-"));
    /// assert!(TraceParent::parse(b"00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01").is_err());
    /// ```
    pub fn parse(value: &[u8]) -> Result<TraceParent, TraceParentError> {
        let v = trim_ows(value);
        if v.len() < 55 {
            return Err(TraceParentError::Shape);
        }
        let version = parse_lower_hex(&v[0..2], 2).ok_or(TraceParentError::Version)?;
        if version == 0xff {
            return Err(TraceParentError::Version);
        }
        if v[2] != b'-' || v[35] != b'-' || v[52] != b'-' {
            return Err(TraceParentError::Shape);
        }
        if version == 0 && v.len() != 55 {
            return Err(TraceParentError::Shape);
        }
        if v.len() > 55 && v[55] != b'-' {
            return Err(TraceParentError::Shape);
        }
        let trace_id = parse_lower_hex(&v[3..35], 32)
            .and_then(TraceId::from_u128)
            .ok_or(TraceParentError::TraceId)?;
        let parent_id = parse_lower_hex(&v[36..52], 16)
            .and_then(|p| SpanId::from_u64(p as u64))
            .ok_or(TraceParentError::ParentId)?;
        let flags = parse_lower_hex(&v[53..55], 2).ok_or(TraceParentError::Flags)? as u8;
        Ok(TraceParent {
            trace_id,
            parent_id,
            flags: flags & (FLAG_SAMPLED | FLAG_RANDOM),
        })
    }

    /// True when the sampled flag is set.
    ///
    /// ```
    /// use trace_context::codec::w3c::TraceParent;
    /// assert!(!TraceParent::parse(b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00").unwrap().sampled());
    /// ```
    pub fn sampled(&self) -> bool {
        self.flags & FLAG_SAMPLED != 0
    }

    /// True when the random flag (level 2) is set.
    ///
    /// ```
    /// use trace_context::codec::w3c::TraceParent;
    /// assert!(TraceParent::parse(b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03").unwrap().random());
    /// ```
    pub fn random(&self) -> bool {
        self.flags & FLAG_RANDOM != 0
    }

    /// Renders the header value (version 00) into a stack buffer.
    ///
    /// ```
    /// use trace_context::codec::w3c::TraceParent;
    /// let tp = TraceParent::parse(b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01").unwrap();
    /// assert_eq!(tp.encode().as_str().len(), 55);
    /// ```
    pub fn encode(&self) -> TraceParentBuf {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut buf = [b'-'; 55];
        buf[0] = b'0';
        buf[1] = b'0';
        buf[3..35].copy_from_slice(self.trace_id.to_hex().as_bytes());
        buf[36..52].copy_from_slice(self.parent_id.to_hex().as_bytes());
        buf[53] = HEX[(self.flags >> 4) as usize];
        buf[54] = HEX[(self.flags & 0xf) as usize];
        TraceParentBuf(buf)
    }
}

impl fmt::Display for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.encode().as_str())
    }
}

/// A rendered `traceparent` on the stack.
///
/// ```
/// use trace_context::codec::w3c::TraceParent;
/// let tp = TraceParent { trace_id: trace_context::TraceId::from_u128(1).unwrap(),
///                        parent_id: trace_context::SpanId::from_u64(2).unwrap(), flags: 1 };
/// assert_eq!(tp.encode().as_str(), "00-00000000000000000000000000000001-0000000000000002-01");
/// ```
#[derive(Clone, Copy)]
pub struct TraceParentBuf([u8; 55]);

impl TraceParentBuf {
    /// The header value.
    ///
    /// ```
    /// # use trace_context::codec::w3c::TraceParent;
    /// # let tp = TraceParent::parse(b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01").unwrap();
    /// let _s: &str = tp.encode().as_str();
    /// ```
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

fn is_key_char(b: u8) -> bool {
    matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'*' | b'/')
}

fn valid_key(key: &[u8]) -> bool {
    match key.iter().position(|&b| b == b'@') {
        None => {
            !key.is_empty()
                && key.len() <= 256
                && matches!(key[0], b'a'..=b'z' | b'0'..=b'9')
                && key[1..].iter().all(|&b| is_key_char(b))
        }
        Some(at) => {
            let (tenant, system) = (&key[..at], &key[at + 1..]);
            !tenant.is_empty()
                && tenant.len() <= 241
                && matches!(tenant[0], b'a'..=b'z' | b'0'..=b'9')
                && tenant[1..].iter().all(|&b| is_key_char(b))
                && !system.is_empty()
                && system.len() <= 14
                && system[0].is_ascii_lowercase()
                && system[1..].iter().all(|&b| is_key_char(b))
        }
    }
}

fn valid_value(value: &[u8]) -> bool {
    !value.is_empty()
        && value.len() <= 256
        && value
            .iter()
            .all(|&b| (0x20..=0x7e).contains(&b) && b != b',' && b != b'=')
        && value[value.len() - 1] != b' '
}

/// Reads `tracestate` from all its header values (joined in order, as one list) and validates
/// it: at most 32 members, keys and values as the spec defines them, no duplicate keys. Returns
/// the normalised list (members joined by `,`), or `None` when absent or invalid (the whole list
/// is then dropped, never half-propagated).
///
/// ```
/// use trace_context::codec::w3c::parse_tracestate;
/// assert_eq!(parse_tracestate(&[b"congo=t61rcWkgMzE".as_slice(), b" rojo=00f067aa0ba902b7 "]).as_deref(),
///            Some("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"));
/// assert_eq!(parse_tracestate(&[b"a=1,a=2".as_slice()]), None);
/// ```
pub fn parse_tracestate(values: &[&[u8]]) -> Option<Arc<str>> {
    let total: usize = values.iter().map(|v| v.len() + 1).sum();
    if total > MAX_TRACESTATE_BYTES {
        return None;
    }
    let mut members: Vec<(&[u8], &[u8])> = Vec::new();
    for value in values {
        for member in value.split(|&b| b == b',') {
            let member = trim_ows(member);
            if member.is_empty() {
                continue;
            }
            let eq = member.iter().position(|&b| b == b'=')?;
            let (key, val) = (&member[..eq], &member[eq + 1..]);
            if !valid_key(key) || !valid_value(val) {
                return None;
            }
            if members.iter().any(|(k, _)| *k == key) {
                return None;
            }
            members.push((key, val));
            if members.len() > MAX_TRACESTATE_MEMBERS {
                return None;
            }
        }
    }
    if members.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(total);
    for (i, (k, v)) in members.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        // Validated above: ASCII only.
        out.push_str(std::str::from_utf8(k).ok()?);
        out.push('=');
        out.push_str(std::str::from_utf8(v).ok()?);
    }
    Some(out.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &[u8] = b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    #[test]
    fn spec_edge_cases() {
        assert!(TraceParent::parse(VALID).is_ok());
        assert!(TraceParent::parse(
            b" \t00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\t "
        )
        .is_ok());
        // version 00 with trailing data
        assert_eq!(
            TraceParent::parse(b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-x"),
            Err(TraceParentError::Shape)
        );
        // higher version: trailing data must start with '-'
        assert!(
            TraceParent::parse(b"01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01x")
                .is_err()
        );
        assert!(
            TraceParent::parse(b"01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01").is_ok()
        );
        assert_eq!(
            TraceParent::parse(b"00-00000000000000000000000000000000-b7ad6b7169203331-01"),
            Err(TraceParentError::TraceId)
        );
        assert_eq!(
            TraceParent::parse(b"00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01"),
            Err(TraceParentError::ParentId)
        );
        assert_eq!(
            TraceParent::parse(b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0g"),
            Err(TraceParentError::Flags)
        );
        assert!(
            TraceParent::parse(b"0x-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01").is_err()
        );
        // unknown flag bits are dropped, known ones kept
        let tp =
            TraceParent::parse(b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-ff").unwrap();
        assert_eq!(tp.flags, 0x03);
    }

    #[test]
    fn tracestate_rules() {
        let many: String = (0..33)
            .map(|i| format!("k{i}=v"))
            .collect::<Vec<_>>()
            .join(",");
        assert_eq!(parse_tracestate(&[many.as_bytes()]), None);
        let ok: String = (0..32)
            .map(|i| format!("k{i}=v"))
            .collect::<Vec<_>>()
            .join(",");
        assert!(parse_tracestate(&[ok.as_bytes()]).is_some());
        assert!(parse_tracestate(&[b"tenant@sys=1".as_slice()]).is_some());
        assert!(parse_tracestate(&[b"Upper=1".as_slice()]).is_none());
        assert!(parse_tracestate(&[b"a=b c".as_slice()]).is_some());
        assert!(parse_tracestate(&[b"a=b ,c=d".as_slice()]).is_some());
        assert!(parse_tracestate(&[b"a=".as_slice()]).is_none());
        assert!(parse_tracestate(&[b"a=\x01".as_slice()]).is_none());
        assert!(parse_tracestate(&[b",,".as_slice()]).is_none());
    }
}
