//! The application trace id: the validated value of `X-App-Trace-Id`.

use std::fmt;
use std::sync::Arc;

use crate::TraceId;

/// The longest application id accepted by default, in bytes.
pub const DEFAULT_MAX_APP_ID_LEN: usize = 128;

/// Why a received application id was discarded.
///
/// ```
/// use trace_context::{AppTraceId, Rejection};
/// assert_eq!(AppTraceId::parse(b"a b").unwrap_err(), Rejection::InvalidByte { position: 1, byte: b' ' });
/// assert_eq!(AppTraceId::parse(b"").unwrap_err(), Rejection::Empty);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// The value is empty.
    Empty,
    /// The value is longer than the limit.
    TooLong {
        /// The received length in bytes.
        len: usize,
        /// The limit in force.
        max: usize,
    },
    /// A byte outside the allowed set (ASCII letters, digits and `-_.:/+=@`).
    InvalidByte {
        /// Its position, from 0.
        position: usize,
        /// The byte itself.
        byte: u8,
    },
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::Empty => f.write_str("empty id"),
            Rejection::TooLong { len, max } => {
                write!(f, "id of {len} bytes exceeds the limit of {max}")
            }
            Rejection::InvalidByte { position, byte } => {
                write!(
                    f,
                    "byte 0x{byte:02x} at position {position} is not allowed in an id"
                )
            }
        }
    }
}

impl std::error::Error for Rejection {}

/// True for the bytes an id may be made of: ASCII letters, digits and `- _ . : / + = @`.
///
/// ```
/// assert!(trace_context::is_id_byte(b'@'));
/// assert!(!trace_context::is_id_byte(b','));
/// ```
#[inline]
pub const fn is_id_byte(b: u8) -> bool {
    ID_BYTES[b as usize]
}

/// [`is_id_byte`] as a table: one load per byte on the hot path.
const ID_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = matches!(b as u8, b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b':' | b'/' | b'+' | b'=' | b'@');
        b += 1;
    }
    table
};

/// Checks a received id against the rules of DESIGN.md ("Bad input").
///
/// ```
/// assert!(trace_context::validate_id(b"web-1716268000123-42", 128).is_ok());
/// assert!(trace_context::validate_id(&[b'a'; 129], 128).is_err());
/// ```
pub fn validate_id(bytes: &[u8], max: usize) -> Result<&str, Rejection> {
    check_len(bytes, max)?;
    check_bytes(bytes)?;
    // Only ASCII passed the check above.
    std::str::from_utf8(bytes).map_err(|_| Rejection::InvalidByte {
        position: 0,
        byte: bytes[0],
    })
}

/// The length rules of [`validate_id`].
#[inline]
fn check_len(bytes: &[u8], max: usize) -> Result<(), Rejection> {
    if bytes.is_empty() {
        return Err(Rejection::Empty);
    }
    if bytes.len() > max {
        return Err(Rejection::TooLong {
            len: bytes.len(),
            max,
        });
    }
    Ok(())
}

/// The byte rule of [`validate_id`].
#[inline]
fn check_bytes(bytes: &[u8]) -> Result<(), Rejection> {
    match bytes.iter().position(|&b| !is_id_byte(b)) {
        Some(position) => Err(Rejection::InvalidByte {
            position,
            byte: bytes[position],
        }),
        None => Ok(()),
    }
}

/// The namespace of derived trace ids: the RFC 4122 URL namespace.
const DERIVE_NAMESPACE: uuid::Uuid = uuid::Uuid::NAMESPACE_URL;
/// Prefix of the UUIDv5 name of a derived trace id.
const DERIVE_PREFIX: &[u8] = b"urn:trace-kit:app-trace-id:";

/// The trace id that stands beside an application id that is not itself hex-shaped.
///
/// It is the UUID version 5 (SHA-1, RFC 4122/9562) of the name `urn:trace-kit:app-trace-id:<id>`
/// in the URL namespace `6ba7b811-9dad-11d1-80b4-00c04fd430c8`, as 32 hex digits. The rule is
/// fixed across services and versions, so two services that only pass `X-App-Trace-Id` to each
/// other land in one trace. In Python: `uuid.uuid5(uuid.NAMESPACE_URL,
/// "urn:trace-kit:app-trace-id:" + app_id).hex`.
///
/// ```
/// let id = trace_context::derive_trace_id("web-1716268000123-42");
/// assert_eq!(id, trace_context::derive_trace_id("web-1716268000123-42"));
/// assert_eq!(id.to_string(), "ce790bc78841558a94b1bf064e56fe24");
/// ```
pub fn derive_trace_id(app_id: &str) -> TraceId {
    derive_from_bytes(app_id.as_bytes())
}

/// [`derive_trace_id`] of validated bytes.
fn derive_from_bytes(app_id: &[u8]) -> TraceId {
    let mut name = Vec::with_capacity(DERIVE_PREFIX.len() + app_id.len());
    name.extend_from_slice(DERIVE_PREFIX);
    name.extend_from_slice(app_id);
    let u = uuid::Uuid::new_v5(&DERIVE_NAMESPACE, &name);
    // A v5 UUID has version bits set, so it is never zero.
    TraceId::from_u128(u.as_u128()).unwrap_or_else(TraceId::random)
}

/// Application ids up to this many bytes are stored in the [`AppTraceId`] itself (no
/// allocation); longer ones (up to the configured limit) in a shared `Arc<str>`.
const INLINE_LEN: usize = 64;

/// The text of an [`AppTraceId`]: validated ASCII, inline when short.
#[derive(Clone)]
enum Text {
    Inline { len: u8, buf: Aligned },
    Shared(Arc<str>),
}

/// The inline bytes, word-aligned: `str::from_utf8` (the safe way back to `&str`, which
/// [`AppTraceId::as_str`] takes on every call) checks an aligned buffer two words at a time
/// instead of byte by byte: ~90 instructions for a UUID instead of ~200 (an `Arc<str>`
/// costs ~17 per call, but ~250 more per request to allocate, copy and free).
#[derive(Clone)]
#[repr(align(8))]
struct Aligned([u8; INLINE_LEN]);

impl Text {
    /// Stores validated id bytes (ASCII only).
    #[inline]
    fn new(bytes: &[u8]) -> Result<Text, Rejection> {
        if bytes.len() <= INLINE_LEN {
            let mut buf = Aligned([0; INLINE_LEN]);
            buf.0[..bytes.len()].copy_from_slice(bytes);
            return Ok(Text::Inline {
                len: bytes.len() as u8,
                buf,
            });
        }
        match std::str::from_utf8(bytes) {
            Ok(text) => Ok(Text::Shared(text.into())),
            // Unreachable for validated bytes; refused rather than trusted.
            Err(e) => Err(Rejection::InvalidByte {
                position: e.valid_up_to(),
                byte: bytes[e.valid_up_to()],
            }),
        }
    }

    #[inline]
    fn as_str(&self) -> &str {
        match self {
            // Only validated ASCII is stored, so this never falls back to "".
            Text::Inline { len, buf } => {
                std::str::from_utf8(&buf.0[..usize::from(*len)]).unwrap_or_default()
            }
            Text::Shared(text) => text,
        }
    }
}

/// A received `X-App-Trace-Id`, validated and kept verbatim, with the trace id that goes with it.
///
/// Values that are 32 hex digits, 16 hex digits or a hyphenated UUID *are* the trace id (normalised
/// to lowercase for Zipkin and W3C, echoed as received). Any other valid value is kept as the
/// application id and the trace id is derived from it with [`derive_trace_id`].
///
/// ```
/// use trace_context::AppTraceId;
/// let hex = AppTraceId::parse(b"4BF92F3577B34DA6A3CE929D0E0E4736").unwrap();
/// assert!(hex.is_trace_id());
/// assert_eq!(hex.as_str(), "4BF92F3577B34DA6A3CE929D0E0E4736");
/// assert_eq!(hex.trace_id().to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
///
/// let other = AppTraceId::parse(b"web-1716268000123-42").unwrap();
/// assert!(!other.is_trace_id());
/// assert_eq!(other.trace_id(), trace_context::derive_trace_id("web-1716268000123-42"));
/// ```
#[derive(Clone)]
pub struct AppTraceId {
    text: Text,
    trace_id: TraceId,
    is_trace_id: bool,
}

impl AppTraceId {
    /// Validates a received value with the default length limit ([`DEFAULT_MAX_APP_ID_LEN`]).
    ///
    /// ```
    /// assert!(trace_context::AppTraceId::parse(b"req\r\nX-Evil: 1").is_err());
    /// ```
    pub fn parse(bytes: &[u8]) -> Result<AppTraceId, Rejection> {
        Self::parse_with_limit(bytes, DEFAULT_MAX_APP_ID_LEN)
    }

    /// Validates a received value with a length limit of your own.
    ///
    /// ```
    /// assert!(trace_context::AppTraceId::parse_with_limit(b"abcdef", 4).is_err());
    /// ```
    pub fn parse_with_limit(bytes: &[u8], max: usize) -> Result<AppTraceId, Rejection> {
        check_len(bytes, max)?;
        // A hex-shaped value (16 or 32 hex digits, a hyphenated UUID) is made of hex digits
        // and hyphens only, which are all id bytes: the trace id parse validates it at once.
        if let Ok(trace_id) = TraceId::parse_bytes(bytes) {
            return Ok(AppTraceId {
                text: Text::new(bytes)?,
                trace_id,
                is_trace_id: true,
            });
        }
        check_bytes(bytes)?;
        Ok(AppTraceId {
            text: Text::new(bytes)?,
            trace_id: derive_from_bytes(bytes),
            is_trace_id: false,
        })
    }

    /// An application id for a trace id minted here: its 32-hex text.
    ///
    /// ```
    /// let t = trace_context::TraceId::random();
    /// let app = trace_context::AppTraceId::from_trace_id(t);
    /// assert_eq!(app.as_str(), t.to_string());
    /// ```
    pub fn from_trace_id(trace_id: TraceId) -> AppTraceId {
        AppTraceId {
            text: Text::new(trace_id.to_hex().as_bytes())
                .unwrap_or_else(|_| Text::Shared(trace_id.to_hex().as_str().into())),
            trace_id,
            is_trace_id: true,
        }
    }

    /// The value as received.
    ///
    /// ```
    /// assert_eq!(trace_context::AppTraceId::parse(b"a-1").unwrap().as_str(), "a-1");
    /// ```
    pub fn as_str(&self) -> &str {
        self.text.as_str()
    }

    /// The trace id: the value itself when hex-shaped, else derived from it.
    ///
    /// ```
    /// let a = trace_context::AppTraceId::parse(b"0af7651916cd43dd8448eb211c80319c").unwrap();
    /// assert_eq!(a.trace_id().to_string(), "0af7651916cd43dd8448eb211c80319c");
    /// ```
    pub fn trace_id(&self) -> TraceId {
        self.trace_id
    }

    /// True when the value is itself a trace id (32 hex, 16 hex or a UUID).
    ///
    /// ```
    /// assert!(!trace_context::AppTraceId::parse(b"order-1").unwrap().is_trace_id());
    /// ```
    pub fn is_trace_id(&self) -> bool {
        self.is_trace_id
    }
}

impl fmt::Display for AppTraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for AppTraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AppTraceId({:?} -> {})", self.as_str(), self.trace_id)
    }
}

impl PartialEq for AppTraceId {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
            && self.trace_id == other.trace_id
            && self.is_trace_id == other.is_trace_id
    }
}

impl Eq for AppTraceId {}

impl std::hash::Hash for AppTraceId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
        self.trace_id.hash(state);
        self.is_trace_id.hash(state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_values_are_rejected_with_a_reason() {
        let long = vec![b'a'; 10 * 1024];
        let cases: Vec<(&[u8], Rejection)> = vec![
            (b"", Rejection::Empty),
            (
                b"abc\r\nx",
                Rejection::InvalidByte {
                    position: 3,
                    byte: b'\r',
                },
            ),
            (
                b"abc\nx",
                Rejection::InvalidByte {
                    position: 3,
                    byte: b'\n',
                },
            ),
            (
                b"a\0b",
                Rejection::InvalidByte {
                    position: 1,
                    byte: 0,
                },
            ),
            (
                b"a\x1bb",
                Rejection::InvalidByte {
                    position: 1,
                    byte: 0x1b,
                },
            ),
            (
                b"a\x7fb",
                Rejection::InvalidByte {
                    position: 1,
                    byte: 0x7f,
                },
            ),
            (
                "caf\u{e9}".as_bytes(),
                Rejection::InvalidByte {
                    position: 3,
                    byte: 0xc3,
                },
            ),
            (
                b"\xff\xfe",
                Rejection::InvalidByte {
                    position: 0,
                    byte: 0xff,
                },
            ),
            (
                b"a b",
                Rejection::InvalidByte {
                    position: 1,
                    byte: b' ',
                },
            ),
            (
                b"a\"b",
                Rejection::InvalidByte {
                    position: 1,
                    byte: b'"',
                },
            ),
            (
                b"'a'",
                Rejection::InvalidByte {
                    position: 0,
                    byte: b'\'',
                },
            ),
            (
                b"a,b",
                Rejection::InvalidByte {
                    position: 1,
                    byte: b',',
                },
            ),
            (
                b"{a}",
                Rejection::InvalidByte {
                    position: 0,
                    byte: b'{',
                },
            ),
            (
                b"a\tb",
                Rejection::InvalidByte {
                    position: 1,
                    byte: b'\t',
                },
            ),
            (&long[..129], Rejection::TooLong { len: 129, max: 128 }),
            (
                &long,
                Rejection::TooLong {
                    len: 10240,
                    max: 128,
                },
            ),
        ];
        for (input, want) in cases {
            assert_eq!(AppTraceId::parse(input).unwrap_err(), want, "{input:?}");
        }
        assert!(AppTraceId::parse(&long[..128]).is_ok());
    }

    #[test]
    fn derivation_is_fixed() {
        // Pinned: changing this value breaks cross-service and cross-version joins.
        // Python: uuid.uuid5(uuid.NAMESPACE_URL, "urn:trace-kit:app-trace-id:web-1716268000123-42").hex
        let id = derive_trace_id("web-1716268000123-42");
        assert_eq!(id.to_string(), PINNED);
    }

    const PINNED: &str = "ce790bc78841558a94b1bf064e56fe24";

    #[test]
    fn short_and_long_ids_are_kept_verbatim() {
        for len in [
            1,
            16,
            31,
            36,
            INLINE_LEN - 1,
            INLINE_LEN,
            INLINE_LEN + 1,
            128,
        ] {
            let text: String = "aB-9_.:/+=@".chars().cycle().take(len).collect();
            let app = AppTraceId::parse(text.as_bytes()).unwrap();
            assert_eq!(app.as_str(), text);
            assert_eq!(app.to_string(), text);
            assert!(!app.is_trace_id());
            assert_eq!(app.trace_id(), derive_trace_id(&text));
            assert_eq!(app.clone(), app);
            assert_eq!(
                matches!(app.text, Text::Inline { .. }),
                len <= INLINE_LEN,
                "{len}"
            );
        }
        let a = AppTraceId::parse(b"order-1").unwrap();
        assert_ne!(a, AppTraceId::parse(b"order-2").unwrap());
    }

    #[test]
    fn hex_shaped_ids_are_trace_ids_in_any_case() {
        let uuid = "5F0C6A7E-1b2d-4c3e-9f4a-6b7c8d9e0f1a";
        let app = AppTraceId::parse(uuid.as_bytes()).unwrap();
        assert!(app.is_trace_id());
        assert_eq!(app.as_str(), uuid);
        assert_eq!(
            app.trace_id().to_string(),
            "5f0c6a7e1b2d4c3e9f4a6b7c8d9e0f1a"
        );
        // Hex-shaped but over a small limit: still refused for its length.
        assert_eq!(
            AppTraceId::parse_with_limit(uuid.as_bytes(), 20).unwrap_err(),
            Rejection::TooLong { len: 36, max: 20 }
        );
        // Almost hex-shaped: a valid id of another shape, derived.
        let other = AppTraceId::parse(b"5f0c6a7e-1b2d-4c3e-9f4a-6b7c8d9e0f1z").unwrap();
        assert!(!other.is_trace_id());
        // Almost hex-shaped with a forbidden byte: refused where the byte is.
        assert_eq!(
            AppTraceId::parse(b"5f0c6a7e-1b2d-4c3e-9f4a 6b7c8d9e0f1a").unwrap_err(),
            Rejection::InvalidByte {
                position: 23,
                byte: b' '
            }
        );
    }

    #[test]
    fn zero_hex_is_kept_but_derived() {
        let a = AppTraceId::parse(&[b'0'; 32]).unwrap();
        assert!(!a.is_trace_id());
    }
}
