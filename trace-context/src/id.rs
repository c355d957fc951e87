//! Trace and span identifiers: parsing, formatting without allocation, minting.

use std::fmt;
use std::num::{NonZeroU128, NonZeroU64};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A fixed-size, stack-allocated lowercase hex rendering of an id.
///
/// Dereferences to `&str`; formatting an id this way never allocates.
///
/// ```
/// let id = trace_context::SpanId::from_u64(0xabc).unwrap();
/// let hex = id.to_hex();
/// assert_eq!(&*hex, "0000000000000abc");
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct HexBuf<const N: usize> {
    buf: Digits<N>,
    start: u8,
}

/// The digits, word-aligned: `str::from_utf8` checks an aligned ASCII text a word at a time
/// (about 20 instructions for 32 digits) but an unaligned one byte by byte (about 160), and
/// every `as_str` (each MDC id a log line prints) pays that check.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(align(8))]
struct Digits<const N: usize>([u8; N]);

impl<const N: usize> HexBuf<N> {
    /// The last `digits` hex digits of `v` (`digits <= N`), eight at a time when `digits` is
    /// a multiple of 8 (16 and 32: every id form).
    fn from_u128(v: u128, digits: usize) -> Self {
        let mut buf = [b'0'; N];
        let start = N - digits;
        if digits % 8 == 0 {
            let words = digits / 8;
            for (i, chunk) in buf[start..].chunks_exact_mut(8).enumerate() {
                let word = (v >> (32 * (words - 1 - i))) as u32;
                chunk.copy_from_slice(&hex_digits8(word).to_be_bytes());
            }
        } else {
            let mut v = v;
            for slot in buf[start..].iter_mut().rev() {
                *slot = HEX[(v & 0xf) as usize];
                v >>= 4;
            }
        }
        HexBuf {
            buf: Digits(buf),
            start: start as u8,
        }
    }

    /// The hex text as bytes (ASCII), for writers that take bytes: no UTF-8 check.
    ///
    /// ```
    /// let s = trace_context::SpanId::from_u64(0xabc).unwrap();
    /// assert_eq!(s.to_hex().as_bytes(), b"0000000000000abc");
    /// ```
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf.0[self.start as usize..]
    }

    /// The hex text.
    ///
    /// ```
    /// let t = trace_context::TraceId::from_u128(1).unwrap();
    /// assert_eq!(t.to_hex().as_str().len(), 32);
    /// ```
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever written into `buf`.
        std::str::from_utf8(&self.buf.0[self.start as usize..]).unwrap_or_default()
    }
}

impl<const N: usize> std::ops::Deref for HexBuf<N> {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl<const N: usize> fmt::Display for HexBuf<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<const N: usize> fmt::Debug for HexBuf<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// The eight lowercase hex digits of `v` as the bytes of a `u64`, big-endian (the first digit
/// in the high byte): the nibbles spread into bytes, then `'0'` or `'a' - 10` added to each,
/// without a table look-up or a branch per digit.
fn hex_digits8(v: u32) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let x = u64::from(v);
    let x = (x | (x << 16)) & 0x0000_ffff_0000_ffff;
    let x = (x | (x << 8)) & 0x00ff_00ff_00ff_00ff;
    let x = (x | (x << 4)) & 0x0f0f_0f0f_0f0f_0f0f;
    // 1 in each byte whose nibble is 10 or more (adding 6 carries into bit 4).
    let letters = ((x + ONES * 6) >> 4) & ONES;
    x + ONES * u64::from(b'0') + letters * u64::from(b'a' - b'0' - 10)
}

/// Why a text could not be parsed as an id.
///
/// ```
/// use trace_context::{IdError, TraceId};
/// assert_eq!(TraceId::parse(""), Err(IdError::Length(0)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdError {
    /// The text has a length no id form has (the length is given).
    Length(usize),
    /// A byte that is not a hex digit, at this position.
    NotHex(usize),
    /// A UUID-shaped text with a misplaced hyphen.
    Hyphen,
    /// All zeros: never a valid trace or span id.
    Zero,
}

impl fmt::Display for IdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdError::Length(n) => write!(
                f,
                "an id of {n} characters (expected 16 or 32 hex digits, or a hyphenated UUID)"
            ),
            IdError::NotHex(i) => write!(f, "not a hex digit at position {i}"),
            IdError::Hyphen => f.write_str("misplaced hyphen in a UUID"),
            IdError::Zero => f.write_str("an all-zero id is invalid"),
        }
    }
}

impl std::error::Error for IdError {}

#[inline]
pub(crate) fn hex_val(b: u8) -> Option<u8> {
    match HEX_VALUES[b as usize] {
        NOT_HEX => None,
        v => Some(v),
    }
}

/// Marks a byte that is not a hex digit in [`HEX_VALUES`].
const NOT_HEX: u8 = 0xff;

/// The value of each hex digit (any case); [`NOT_HEX`] for other bytes.
const HEX_VALUES: [u8; 256] = {
    let mut table = [NOT_HEX; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = match b as u8 {
            c @ b'0'..=b'9' => c - b'0',
            c @ b'a'..=b'f' => c - b'a' + 10,
            c @ b'A'..=b'F' => c - b'A' + 10,
            _ => NOT_HEX,
        };
        b += 1;
    }
    table
};

/// Parses hex digits (any case) into a number; `bytes.len()` must be at most 32.
#[inline]
pub(crate) fn parse_hex(bytes: &[u8], offset: usize) -> Result<u128, IdError> {
    let mut v: u128 = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let d = hex_val(b).ok_or(IdError::NotHex(offset + i))?;
        v = (v << 4) | d as u128;
    }
    Ok(v)
}

/// Digit values of lowercase hex; `0xff` marks every other byte.
const LOWER_HEX: [u8; 256] = {
    let mut t = [0xff_u8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// Eight hex digits (any case), packed big-endian in a `u64` (the first digit in the high
/// byte), decoded eight at a time ("SIMD within a register"): `None` unless every byte is
/// `0-9`, `a-f` or `A-F`.
#[inline]
fn hex8(x: u64) -> Option<u32> {
    hex8_in::<false>(x)
}

/// [`hex8`], or with `LOWER` lowercase digits only (the W3C and B3 rule: `A-F` is invalid).
#[inline]
fn hex8_in<const LOWER: bool>(x: u64) -> Option<u32> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Bit 7 of each byte: set when that byte is at least `lo`. Exact for bytes below 0x80
    // (checked first): adding `0x80 - lo` never carries into the next byte.
    let at_least = |v: u64, lo: u8| v.wrapping_add(ONES * u64::from(0x80 - lo)) & HIGH;
    let in_range = |v: u64, lo: u8, hi: u8| at_least(v, lo) & !at_least(v, hi + 1);
    let digit = in_range(x, b'0', b'9');
    // `| 0x20` lowercases letters (and moves no other byte into `a-f`).
    let letter = if LOWER {
        in_range(x, b'a', b'f')
    } else {
        in_range(x | (ONES * 0x20), b'a', b'f')
    };
    if x & HIGH != 0 || (digit | letter) != HIGH {
        return None;
    }
    // Digit values: the low nibble, plus 9 for letters (`a` = 0x61, `A` = 0x41 -> 1 + 9).
    let v = (x & (ONES * 0x0f)) + (letter >> 7) * 9;
    // Pack the eight nibbles: pairs into bytes, bytes into 16-bit, 16-bit into 32-bit.
    let v = (v | (v >> 4)) & 0x00ff_00ff_00ff_00ff;
    let v = (v | (v >> 8)) & 0x0000_ffff_0000_ffff;
    let v = (v | (v >> 16)) & 0x0000_0000_ffff_ffff;
    Some(v as u32)
}

/// The eight bytes at `at` of a fixed-size text, big-endian (the first byte highest).
#[inline]
fn word<const N: usize>(a: &[u8; N], at: usize) -> u64 {
    u64::from_be_bytes([
        a[at],
        a[at + 1],
        a[at + 2],
        a[at + 3],
        a[at + 4],
        a[at + 5],
        a[at + 6],
        a[at + 7],
    ])
}

/// Sixteen hex digits at `at` of a fixed-size text.
#[inline]
fn hex16<const N: usize>(a: &[u8; N], at: usize) -> Option<u64> {
    let hi = hex8(word(a, at))?;
    let lo = hex8(word(a, at + 8))?;
    Some((u64::from(hi) << 32) | u64::from(lo))
}

/// A hyphenated UUID (`8-4-4-4-12`): the hyphens are checked, the 32 digits decoded eight at
/// a time (the 4-digit groups two by two).
#[inline]
fn parse_uuid(a: &[u8; 36]) -> Option<u128> {
    if a[8] != b'-' || a[13] != b'-' || a[18] != b'-' || a[23] != b'-' {
        return None;
    }
    let four = |at: usize| word(a, at) >> 32;
    let g0 = hex8(word(a, 0))?;
    let g1 = hex8((four(9) << 32) | four(14))?;
    let g2 = hex8((four(19) << 32) | four(24))?;
    let g3 = hex8(word(a, 28))?;
    let hi = (u64::from(g0) << 32) | u64::from(g1);
    let lo = (u64::from(g2) << 32) | u64::from(g3);
    Some((u128::from(hi) << 64) | u128::from(lo))
}

/// Up to 16 lowercase hex digits into a `u64`: exactly 16 decoded eight at a time, other
/// lengths with one table look-up per digit and no branch per digit (the invalid marker's high
/// bit is collected and checked once).
#[inline]
fn parse_lower_u64(bytes: &[u8]) -> Option<u64> {
    // Ids are 16 digits (span ids, and both halves of a trace id): eight at a time.
    if let Ok(a) = <&[u8; 16]>::try_from(bytes) {
        let hi = hex8_in::<true>(word(a, 0))?;
        let lo = hex8_in::<true>(word(a, 8))?;
        return Some((u64::from(hi) << 32) | u64::from(lo));
    }
    let mut v: u64 = 0;
    let mut bad: u8 = 0;
    for &b in bytes {
        let d = LOWER_HEX[b as usize];
        bad |= d;
        v = (v << 4) | u64::from(d & 0x0f);
    }
    (bad & 0x80 == 0).then_some(v)
}

/// Parses lowercase-only hex of exactly `len` digits (the W3C and B3 rule); `len` is at most 32.
#[inline]
pub(crate) fn parse_lower_hex(bytes: &[u8], len: usize) -> Option<u128> {
    if bytes.len() != len || len > 32 {
        return None;
    }
    if len <= 16 {
        return parse_lower_u64(bytes).map(u128::from);
    }
    let (hi, lo) = bytes.split_at(len - 16);
    let hi = parse_lower_u64(hi)?;
    let lo = parse_lower_u64(lo)?;
    Some((u128::from(hi) << 64) | u128::from(lo))
}

/// A 128-bit trace id. Never all-zero.
///
/// Parsing accepts 32 hex digits, 16 hex digits (a Zipkin 64-bit id, left-padded to 128 bits) and a
/// hyphenated UUID, in any case; display is always 32 lowercase hex digits.
///
/// ```
/// use trace_context::TraceId;
/// let id = TraceId::parse("4BF92F3577B34DA6A3CE929D0E0E4736").unwrap();
/// assert_eq!(id.to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
/// let uuid = TraceId::parse("4bf92f35-77b3-4da6-a3ce-929d0e0e4736").unwrap();
/// assert_eq!(id, uuid);
/// let short = TraceId::parse("a3ce929d0e0e4736").unwrap();
/// assert_eq!(short.to_string(), "0000000000000000a3ce929d0e0e4736");
/// assert!(short.is_64bit());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TraceId(NonZeroU128);

impl TraceId {
    /// The id with this numeric value, or `None` for zero.
    ///
    /// ```
    /// assert!(trace_context::TraceId::from_u128(0).is_none());
    /// ```
    pub const fn from_u128(v: u128) -> Option<TraceId> {
        match NonZeroU128::new(v) {
            Some(n) => Some(TraceId(n)),
            None => None,
        }
    }

    /// The numeric value.
    ///
    /// ```
    /// assert_eq!(trace_context::TraceId::from_u128(7).unwrap().to_u128(), 7);
    /// ```
    pub const fn to_u128(self) -> u128 {
        self.0.get()
    }

    /// The id as 16 bytes, big-endian (the W3C and UUID byte order).
    ///
    /// ```
    /// let id = trace_context::TraceId::from_u128(1).unwrap();
    /// assert_eq!(id.to_bytes()[15], 1);
    /// ```
    pub const fn to_bytes(self) -> [u8; 16] {
        self.0.get().to_be_bytes()
    }

    /// A fresh random id from the thread-local generator (never zero).
    ///
    /// ```
    /// let a = trace_context::TraceId::random();
    /// assert_ne!(a, trace_context::TraceId::random());
    /// ```
    pub fn random() -> TraceId {
        loop {
            if let Some(id) = TraceId::from_u128(fastrand::u128(..)) {
                return id;
            }
        }
    }

    /// Parses 32 hex digits, 16 hex digits (left-padded) or a hyphenated UUID, in any case.
    ///
    /// ```
    /// use trace_context::{IdError, TraceId};
    /// assert!(TraceId::parse("00000000000000000000000000000000").is_err());
    /// assert_eq!(TraceId::parse("xyz"), Err(IdError::Length(3)));
    /// ```
    pub fn parse(text: &str) -> Result<TraceId, IdError> {
        Self::parse_bytes(text.as_bytes())
    }

    /// [`TraceId::parse`] on bytes.
    ///
    /// ```
    /// assert!(trace_context::TraceId::parse_bytes(b"00000000000000000000000000000001").is_ok());
    /// ```
    pub fn parse_bytes(b: &[u8]) -> Result<TraceId, IdError> {
        // Fast path: one table look-up per digit and one check at the end; the error (which
        // digit, which hyphen) is worked out by the slow path only when that check fails.
        let v = if let Ok(a) = <&[u8; 16]>::try_from(b) {
            hex16(a, 0).map(u128::from)
        } else if let Ok(a) = <&[u8; 32]>::try_from(b) {
            match (hex16(a, 0), hex16(a, 16)) {
                (Some(hi), Some(lo)) => Some((u128::from(hi) << 64) | u128::from(lo)),
                _ => None,
            }
        } else if let Ok(a) = <&[u8; 36]>::try_from(b) {
            parse_uuid(a)
        } else {
            return Err(IdError::Length(b.len()));
        };
        match v {
            Some(v) => TraceId::from_u128(v).ok_or(IdError::Zero),
            None => Err(Self::parse_error(b)),
        }
    }

    /// Why [`TraceId::parse_bytes`] refused a text of a valid length (the slow path).
    #[cold]
    fn parse_error(b: &[u8]) -> IdError {
        let v = match b.len() {
            36 => {
                if b[8] != b'-' || b[13] != b'-' || b[18] != b'-' || b[23] != b'-' {
                    return IdError::Hyphen;
                }
                [(0, 8), (9, 13), (14, 18), (19, 23), (24, 36)]
                    .iter()
                    .try_for_each(|&(start, end)| parse_hex(&b[start..end], start).map(drop))
            }
            _ => parse_hex(b, 0).map(drop),
        };
        match v {
            Err(e) => e,
            Ok(()) => IdError::Zero,
        }
    }

    /// 32 lowercase hex digits, without allocating.
    ///
    /// ```
    /// let id = trace_context::TraceId::from_u128(0xab).unwrap();
    /// assert_eq!(&*id.to_hex(), "000000000000000000000000000000ab");
    /// ```
    pub fn to_hex(self) -> HexBuf<32> {
        HexBuf::from_u128(self.0.get(), 32)
    }

    /// True when the high 64 bits are zero (a Zipkin 64-bit trace id).
    ///
    /// ```
    /// assert!(trace_context::TraceId::from_u128(5).unwrap().is_64bit());
    /// ```
    pub const fn is_64bit(self) -> bool {
        self.0.get() >> 64 == 0
    }

    /// The form Zipkin and B3 print: 16 hex digits for a 64-bit id, else 32.
    ///
    /// ```
    /// let id = trace_context::TraceId::from_u128(0xab).unwrap();
    /// assert_eq!(&*id.to_zipkin_hex(), "00000000000000ab");
    /// ```
    pub fn to_zipkin_hex(self) -> HexBuf<32> {
        let digits = if self.is_64bit() { 16 } else { 32 };
        HexBuf::from_u128(self.0.get(), digits)
    }

    /// The rightmost 56 bits: random for W3C random ids, UUIDv4 and UUIDv7 alike; samplers use them.
    ///
    /// ```
    /// let id = trace_context::TraceId::from_u128(u128::MAX).unwrap();
    /// assert_eq!(id.random_bits56(), (1u64 << 56) - 1);
    /// ```
    pub const fn random_bits56(self) -> u64 {
        (self.0.get() as u64) & ((1u64 << 56) - 1)
    }
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TraceId({})", self.to_hex())
    }
}

impl std::str::FromStr for TraceId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TraceId::parse(s)
    }
}

/// A 64-bit span id. Never all-zero.
///
/// ```
/// use trace_context::SpanId;
/// let id = SpanId::parse("00F067AA0BA902B7").unwrap();
/// assert_eq!(id.to_string(), "00f067aa0ba902b7");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SpanId(NonZeroU64);

impl SpanId {
    /// The id with this numeric value, or `None` for zero.
    ///
    /// ```
    /// assert!(trace_context::SpanId::from_u64(0).is_none());
    /// ```
    pub const fn from_u64(v: u64) -> Option<SpanId> {
        match NonZeroU64::new(v) {
            Some(n) => Some(SpanId(n)),
            None => None,
        }
    }

    /// The numeric value.
    ///
    /// ```
    /// assert_eq!(trace_context::SpanId::from_u64(9).unwrap().to_u64(), 9);
    /// ```
    pub const fn to_u64(self) -> u64 {
        self.0.get()
    }

    /// A fresh random id from the thread-local generator (never zero).
    ///
    /// ```
    /// let s = trace_context::SpanId::random();
    /// assert_ne!(s.to_u64(), 0);
    /// ```
    pub fn random() -> SpanId {
        loop {
            if let Some(id) = SpanId::from_u64(fastrand::u64(..)) {
                return id;
            }
        }
    }

    /// Parses exactly 16 hex digits, in any case.
    ///
    /// ```
    /// assert!(trace_context::SpanId::parse("0000000000000000").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<SpanId, IdError> {
        let b = text.as_bytes();
        if b.len() != 16 {
            return Err(IdError::Length(b.len()));
        }
        SpanId::from_u64(parse_hex(b, 0)? as u64).ok_or(IdError::Zero)
    }

    /// 16 lowercase hex digits, without allocating.
    ///
    /// ```
    /// let s = trace_context::SpanId::from_u64(1).unwrap();
    /// assert_eq!(&*s.to_hex(), "0000000000000001");
    /// ```
    pub fn to_hex(self) -> HexBuf<16> {
        HexBuf::from_u128(self.0.get() as u128, 16)
    }
}

impl fmt::Display for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SpanId({})", self.to_hex())
    }
}

impl std::str::FromStr for SpanId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SpanId::parse(s)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn hex_text_matches_the_formatter() {
        let mut values: Vec<u128> =
            vec![1, 0xa, 0xf, 0x10, 0xffff_ffff_ffff_ffff, 1 << 64, u128::MAX];
        values.push(0x0123_4567_89ab_cdef_fedc_ba98_7654_3210);
        for _ in 0..2000 {
            values.push(TraceId::random().to_u128());
            values.push(u128::from(TraceId::random().to_u128() as u64));
        }
        for v in values {
            let t = TraceId::from_u128(v).unwrap();
            assert_eq!(t.to_hex().as_str(), format!("{v:032x}"));
            assert_eq!(t.to_hex().as_bytes(), format!("{v:032x}").as_bytes());
            let zipkin = if v >> 64 == 0 {
                format!("{v:016x}")
            } else {
                format!("{v:032x}")
            };
            assert_eq!(t.to_zipkin_hex().as_str(), zipkin);
            if let Some(s) = SpanId::from_u64(v as u64) {
                assert_eq!(s.to_hex().as_str(), format!("{:016x}", v as u64));
            }
        }
        // Odd digit counts still go nibble by nibble.
        assert_eq!(HexBuf::<8>::from_u128(0xabcde, 5).as_str(), "abcde");
    }

    use super::*;

    /// The reference: lowercase hex digit by digit, `None` on any other byte.
    fn lower_reference(bytes: &[u8]) -> Option<u128> {
        bytes.iter().try_fold(0u128, |v, &b| {
            let d = match b {
                b'0'..=b'9' => b - b'0',
                b'a'..=b'f' => b - b'a' + 10,
                _ => return None,
            };
            Some((v << 4) | u128::from(d))
        })
    }

    #[test]
    fn lowercase_hex_agrees_with_the_reference_for_every_byte_at_every_position() {
        let base = *b"0123456789abcdef0123456789abcdef";
        for len in [2, 15, 16, 17, 32] {
            for at in 0..len {
                for b in 0..=255u8 {
                    let mut text = base;
                    text[at] = b;
                    let text = &text[..len];
                    assert_eq!(
                        parse_lower_hex(text, len),
                        lower_reference(text),
                        "byte {b:#04x} at {at} of {len}"
                    );
                }
            }
        }
    }

    #[test]
    fn uuid_and_hex_agree() {
        let u = uuid::Uuid::new_v4();
        let a = TraceId::parse(&u.hyphenated().to_string()).unwrap();
        let b = TraceId::parse(&u.simple().to_string().to_uppercase()).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_u128(), u.as_u128());
        assert_eq!(a.to_string(), u.simple().to_string());
    }

    #[test]
    fn rejects_bad_forms() {
        assert_eq!(
            TraceId::parse("g".repeat(32).as_str()),
            Err(IdError::NotHex(0))
        );
        assert_eq!(
            TraceId::parse("4bf92f35x77b3-4da6-a3ce-929d0e0e4736"),
            Err(IdError::Hyphen)
        );
        assert_eq!(
            TraceId::parse("4bf92f35-77b3-4da6-a3ce-929d0e0e473g"),
            Err(IdError::NotHex(35))
        );
        assert_eq!(SpanId::parse("abc"), Err(IdError::Length(3)));
        assert_eq!(TraceId::parse(&"0".repeat(16)), Err(IdError::Zero));
    }

    #[test]
    fn lower_hex_parser() {
        assert_eq!(
            parse_lower_hex(b"0123456789abcdef", 16),
            Some(0x0123456789abcdef)
        );
        assert_eq!(
            parse_lower_hex(b"fedcba98765432100123456789abcdef", 32),
            Some(0xfedcba98765432100123456789abcdef)
        );
        assert_eq!(parse_lower_hex(b"0a", 2), Some(10));
        assert_eq!(parse_lower_hex(b"0A", 2), None);
        assert_eq!(parse_lower_hex(b"abc", 2), None);
        assert_eq!(parse_lower_hex(&[b'f'; 33], 33), None);
        for bad in [b'g', b'G', b'-', b' ', 0, 0x80, 0xff, b'/', b':', b'`'] {
            let mut v = *b"00000000000000000000000000000001";
            for i in [0, 15, 16, 31] {
                let mut w = v;
                w[i] = bad;
                assert_eq!(parse_lower_hex(&w, 32), None, "{bad} at {i}");
            }
            v[0] = b'1';
            assert!(parse_lower_hex(&v, 32).is_some());
        }
    }

    /// The digit-by-digit parser `parse_bytes` had before its branch-free fast path.
    fn reference_parse(b: &[u8]) -> Result<TraceId, IdError> {
        let v = match b.len() {
            32 | 16 => parse_hex(b, 0)?,
            36 => {
                if b[8] != b'-' || b[13] != b'-' || b[18] != b'-' || b[23] != b'-' {
                    return Err(IdError::Hyphen);
                }
                let mut v = parse_hex(&b[0..8], 0)?;
                for (start, end) in [(9, 13), (14, 18), (19, 23), (24, 36)] {
                    let part = parse_hex(&b[start..end], start)?;
                    v = (v << (4 * (end - start))) | part;
                }
                v
            }
            n => return Err(IdError::Length(n)),
        };
        TraceId::from_u128(v).ok_or(IdError::Zero)
    }

    #[test]
    fn fast_parser_agrees_with_the_digit_by_digit_reference() {
        let mut inputs: Vec<Vec<u8>> = Vec::new();
        for _ in 0..50 {
            let u = uuid::Uuid::new_v4();
            inputs.push(u.hyphenated().to_string().into_bytes());
            inputs.push(u.hyphenated().to_string().to_uppercase().into_bytes());
            inputs.push(u.simple().to_string().into_bytes());
            inputs.push(u.simple().to_string().as_bytes()[16..].to_vec());
        }
        inputs.push(b"0123456789abcdefABCDEF0123456789".to_vec());
        inputs.push(vec![b'0'; 32]);
        inputs.push(vec![b'0'; 16]);
        inputs.push(b"00000000-0000-0000-0000-000000000000".to_vec());
        let mut mutated = Vec::new();
        for input in &inputs {
            for i in 0..input.len() {
                for bad in [
                    b'g', b'G', b'-', b' ', 0, 0x80, 0xff, b'/', b':', b'@', b'`', b'0', b'F',
                ] {
                    let mut m = input.clone();
                    m[i] = bad;
                    mutated.push(m);
                }
            }
        }
        inputs.extend(mutated);
        // Every byte value at the first, a middle and the last position of each form.
        for form in [
            "5f0c6a7e-1b2d-4c3e-9f4a-6b7c8d9e0f1a",
            "5f0c6a7e1b2d4c3e9f4a6b7c8d9e0f1a",
            "9f4a6b7c8d9e0f1a",
        ] {
            for i in [0, 7, 8, 9, 12, 13, 14, 15, 16, 23, 24, 27, 28, 31, 35] {
                for byte in 0..=255u8 {
                    let mut m = form.as_bytes().to_vec();
                    if let Some(slot) = m.get_mut(i) {
                        *slot = byte;
                        inputs.push(m);
                    }
                }
            }
        }
        for input in &inputs {
            assert_eq!(
                TraceId::parse_bytes(input),
                reference_parse(input),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn zipkin_hex() {
        let long = TraceId::parse("4bf92f3577b34da6a3ce929d0e0e4736").unwrap();
        assert_eq!(&*long.to_zipkin_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
    }
}
