//! Low-level JSON writing: escaped strings, integers, IP addresses.

use std::net::{Ipv4Addr, Ipv6Addr};

/// Where the encoder writes: a byte buffer, or a counter that only measures.
///
/// ```
/// use trace_exporter::encode::{JsonOut, LenCounter};
/// let mut n = LenCounter::default();
/// n.raw(b"abc");
/// assert_eq!(n.len(), 3);
/// ```
pub trait JsonOut {
    /// Appends bytes as they are.
    fn raw(&mut self, bytes: &[u8]);
    /// Appends one byte.
    fn byte(&mut self, b: u8) {
        self.raw(&[b]);
    }
}

impl JsonOut for Vec<u8> {
    #[inline]
    fn raw(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
    #[inline]
    fn byte(&mut self, b: u8) {
        self.push(b);
    }
}

/// A [`JsonOut`] that counts bytes instead of storing them (exact encoded sizes for batching).
///
/// ```
/// let s = trace_exporter::SpanRecord::new(trace_context::TraceId::random(),
///     trace_context::SpanId::random(), "w", Default::default());
/// assert_eq!(trace_exporter::encode::encoded_len(&s), s.to_json().len());
/// ```
#[derive(Debug, Default, Clone, Copy)]
pub struct LenCounter(usize);

impl LenCounter {
    /// Bytes counted so far.
    ///
    /// ```
    /// assert_eq!(trace_exporter::encode::LenCounter::default().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.0
    }

    /// True when nothing was counted.
    ///
    /// ```
    /// assert!(trace_exporter::encode::LenCounter::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }
}

impl JsonOut for LenCounter {
    #[inline]
    fn raw(&mut self, bytes: &[u8]) {
        self.0 += bytes.len();
    }
    #[inline]
    fn byte(&mut self, _: u8) {
        self.0 += 1;
    }
}

/// 0 = copy as is; otherwise the escape (`b'u'` = `\u00XX`).
static ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = b'u';
        i += 1;
    }
    t[b'\n' as usize] = b'n';
    t[b'\r' as usize] = b'r';
    t[b'\t' as usize] = b't';
    t[0x08] = b'b';
    t[0x0c] = b'f';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Writes `s` as a JSON string (with quotes), escaping `"`, `\` and control characters.
#[inline]
pub(crate) fn string<O: JsonOut>(out: &mut O, s: &str) {
    out.byte(b'"');
    escaped(out, s.as_bytes());
    out.byte(b'"');
}

/// Writes `s` as a JSON string, ASCII letters lower-cased (Zipkin's rule for names).
#[inline]
pub(crate) fn string_lower<O: JsonOut>(out: &mut O, s: &str) {
    out.byte(b'"');
    let bytes = s.as_bytes();
    if is_plain::<true>(bytes) {
        // The common case: lower case already, nothing to escape.
        out.raw(bytes);
    } else if bytes.iter().any(u8::is_ascii_uppercase) {
        // Rare (names are usually lower case already): lower-case a copy in pieces.
        let mut buf = [0u8; 64];
        for chunk in bytes.chunks(64) {
            let piece = &mut buf[..chunk.len()];
            piece.copy_from_slice(chunk);
            piece.make_ascii_lowercase();
            escaped(out, piece);
        }
    } else {
        escaped(out, bytes);
    }
    out.byte(b'"');
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// True when a word needs attention: an escape, or (with `LOWER`) a capital letter.
#[inline]
fn flagged<const LOWER: bool>(w: u64) -> bool {
    flag_bits::<LOWER>(w) != 0
}

/// Non-zero when a word needs attention (see [`flagged`]). Escapes: a byte below 0x20, `"`
/// or `\\` (exact for "none": the borrow of a subtraction can only mark bytes above a real
/// hit). Capitals: for a byte below 0x80 the additions carry into its own high bit only;
/// bytes from 0x80 are masked out.
#[inline]
fn flag_bits<const LOWER: bool>(w: u64) -> u64 {
    let control = w.wrapping_sub(ONES * 0x20) & !w & HIGHS;
    let q = w ^ (ONES * u64::from(b'"'));
    let quote = q.wrapping_sub(ONES) & !q & HIGHS;
    let b = w ^ (ONES * u64::from(b'\\'));
    let backslash = b.wrapping_sub(ONES) & !b & HIGHS;
    let mut bits = control | quote | backslash;
    if LOWER {
        let t = w & !HIGHS;
        let at_least_a = t.wrapping_add(ONES * (0x80 - u64::from(b'A'))) & HIGHS;
        let past_z = t.wrapping_add(ONES * (0x80 - u64::from(b'Z') - 1)) & HIGHS;
        bits |= at_least_a & !past_z & !w & HIGHS;
    }
    bits
}

/// The 8 bytes at `i` as a little-endian word (`i + 8 <= bytes.len()`).
#[inline]
fn word_at(bytes: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&bytes[i..i + 8]);
    u64::from_le_bytes(w)
}

/// The length of the prefix of `bytes` that needs no escaping: the whole text, in the common
/// case, checked a word at a time (a text of at least 8 bytes ends with one overlapping
/// word, so no byte is checked alone unless an escape is near).
#[inline]
fn clean_len(bytes: &[u8]) -> usize {
    scan::<false>(bytes)
}

/// True when `bytes` need no escaping at all.
#[inline]
pub(crate) fn is_clean(bytes: &[u8]) -> bool {
    is_plain::<false>(bytes)
}

/// True when no byte of `bytes` needs escaping nor (with `LOWER`) is a capital letter: the
/// words' flags are or-ed without a branch per word (a text of at least 8 bytes ends with
/// one overlapping word).
#[inline]
fn is_plain<const LOWER: bool>(bytes: &[u8]) -> bool {
    let n = bytes.len();
    if n < 8 {
        return first_flagged::<LOWER>(bytes) == n;
    }
    let chunks = bytes.chunks_exact(8);
    let tail = !chunks.remainder().is_empty();
    let mut flags = 0;
    for chunk in chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        flags |= flag_bits::<LOWER>(u64::from_le_bytes(w));
    }
    if tail {
        flags |= flag_bits::<LOWER>(word_at(bytes, n - 8));
    }
    flags == 0
}

/// The length of the prefix of `bytes` with no byte to escape and (with `LOWER`) no capital
/// letter.
#[inline]
fn scan<const LOWER: bool>(bytes: &[u8]) -> usize {
    let n = bytes.len();
    let mut i = 0;
    if n >= 8 {
        while i + 8 <= n {
            if flagged::<LOWER>(word_at(bytes, i)) {
                return i + first_flagged::<LOWER>(&bytes[i..i + 8]);
            }
            i += 8;
        }
        if i == n || !flagged::<LOWER>(word_at(bytes, n - 8)) {
            return n;
        }
    }
    i + first_flagged::<LOWER>(&bytes[i..])
}

/// The index of the first byte of a short piece that needs escaping (or, with `LOWER`, is
/// a capital letter), else its length.
#[inline]
fn first_flagged<const LOWER: bool>(piece: &[u8]) -> usize {
    piece
        .iter()
        .position(|&b| ESCAPE[b as usize] != 0 || (LOWER && b.is_ascii_uppercase()))
        .unwrap_or(piece.len())
}

/// Copies `bytes`, escaping what JSON requires: clean runs in one copy each.
#[inline]
pub(crate) fn escaped<O: JsonOut>(out: &mut O, mut bytes: &[u8]) {
    loop {
        let clean = clean_len(bytes);
        if clean == bytes.len() {
            out.raw(bytes);
            return;
        }
        if clean > 0 {
            out.raw(&bytes[..clean]);
        }
        escape_byte(out, bytes[clean]);
        bytes = &bytes[clean + 1..];
    }
}

/// Writes the escape of one byte that needs it.
#[cold]
fn escape_byte<O: JsonOut>(out: &mut O, b: u8) {
    match ESCAPE[b as usize] {
        b'u' => out.raw(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[(b >> 4) as usize],
            HEX[(b & 0xf) as usize],
        ]),
        esc => out.raw(&[b'\\', esc]),
    }
}

/// Writes an unsigned integer in decimal (itoa: two digits per step from a table).
#[inline]
pub(crate) fn uint<O: JsonOut>(out: &mut O, v: u64) {
    out.raw(itoa::Buffer::new().format(v).as_bytes());
}

/// An IPv4 address as a JSON string (with quotes) on the stack, and its length.
#[inline]
pub(crate) fn ipv4_json(ip: Ipv4Addr) -> ([u8; 17], usize) {
    // `"255.255.255.255"` is 17 bytes.
    let mut buf = [0u8; 17];
    buf[0] = b'"';
    let mut n = 1;
    for (i, octet) in ip.octets().into_iter().enumerate() {
        if i > 0 {
            buf[n] = b'.';
            n += 1;
        }
        if octet >= 100 {
            buf[n] = b'0' + octet / 100;
            n += 1;
        }
        if octet >= 10 {
            buf[n] = b'0' + octet / 10 % 10;
            n += 1;
        }
        buf[n] = b'0' + octet % 10;
        n += 1;
    }
    buf[n] = b'"';
    (buf, n + 1)
}

/// Writes an IPv6 address as a JSON string (RFC 5952 text, as `Display` renders it).
pub(crate) fn ipv6<O: JsonOut>(out: &mut O, ip: Ipv6Addr) {
    use std::io::Write as _;
    // The longest rendering is 45 bytes ("ffff:...:255.255.255.255" forms are shorter).
    let mut buf = [0u8; 64];
    let mut cursor = std::io::Cursor::new(&mut buf[..]);
    let _ = write!(cursor, "{ip}");
    let n = cursor.position() as usize;
    out.byte(b'"');
    out.raw(&buf[..n]);
    out.byte(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> String {
        let mut v = Vec::new();
        string(&mut v, text);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn escapes_like_serde_json() {
        for text in [
            "plain",
            "quote \" and \\ backslash",
            "new\nline\rtab\tbell\u{7}\u{0}\u{1f}",
            "\u{8}\u{c}",
            "unicode é 日本 🎉 \u{2028}",
            "",
            "</script>",
            "\u{7f}",
        ] {
            let ours = s(text);
            assert_eq!(ours, serde_json::to_string(text).unwrap(), "{text:?}");
            let back: String = serde_json::from_str(&ours).unwrap();
            assert_eq!(back, text);
        }
    }

    #[test]
    fn lower_case_long_and_escaped() {
        let text = format!("{}\"X", "AbC".repeat(40));
        let mut v = Vec::new();
        string_lower(&mut v, &text);
        let back: String = serde_json::from_slice(&v).unwrap();
        assert_eq!(back, text.to_ascii_lowercase());
    }

    #[test]
    fn integers_and_ips() {
        for n in [0u64, 7, 10, 1_700_000_000_000_000, u64::MAX] {
            let mut v = Vec::new();
            uint(&mut v, n);
            assert_eq!(String::from_utf8(v).unwrap(), n.to_string());
        }
        for ip in [
            Ipv4Addr::new(192, 168, 0, 111),
            Ipv4Addr::new(0, 0, 0, 0),
            Ipv4Addr::new(255, 255, 255, 255),
            Ipv4Addr::new(10, 99, 100, 9),
        ] {
            let (text, n) = ipv4_json(ip);
            assert_eq!(&text[..n], format!("\"{ip}\"").as_bytes());
        }
        let mut v = Vec::new();
        let ip: Ipv6Addr = "2001:db8::c001".parse().unwrap();
        ipv6(&mut v, ip);
        assert_eq!(v, b"\"2001:db8::c001\"");
    }

    #[test]
    fn every_byte_position_and_value() {
        // Each special byte at each offset of a 24-byte text, against serde_json.
        for special in [0u8, 0x1f, b'"', b'\\', b'\n', 0x20, b'~', 0x7f] {
            for pos in 0..24 {
                let mut text = vec![b'a'; 24];
                text[pos] = special;
                let text = String::from_utf8(text).unwrap();
                assert_eq!(
                    s(&text),
                    serde_json::to_string(&text).unwrap(),
                    "{special} at {pos}"
                );
            }
        }
    }

    #[test]
    fn every_ascii_byte_at_every_offset_of_short_and_long_texts() {
        // Lengths around the word size exercise the word scan, the overlapping last word and
        // the short-text path; each byte 0..=0x7f at each position, against serde_json.
        for len in [1usize, 2, 7, 8, 9, 15, 16, 17, 24, 33] {
            for byte in 0u8..=0x7f {
                for pos in 0..len {
                    let mut text = vec![b'a'; len];
                    text[pos] = byte;
                    let text = String::from_utf8(text).unwrap();
                    assert_eq!(
                        s(&text),
                        serde_json::to_string(&text).unwrap(),
                        "byte {byte:#x} at {pos} of {len}"
                    );
                }
            }
        }
    }

    #[test]
    fn multi_byte_utf8_and_runs_of_escapes() {
        for text in [
            "é",
            "日本語のテキスト",
            "🎉🎉🎉🎉 \"🎉\"",
            "\u{80}\u{7ff}\u{800}\u{ffff}\u{10000}\u{10ffff}",
            "ab\u{1}\u{2}\u{3}\u{4}\u{5}\u{6}\u{7}\u{8}\u{9}é\\\\\"\"",
            "\n\n\n\n\n\n\n\n\n\n",
            "long clean text then an escape at the very end of it\u{1f}",
            "ÄÖÜ\tßàç\r\n",
        ] {
            assert_eq!(s(text), serde_json::to_string(text).unwrap(), "{text:?}");
            let mut lower = Vec::new();
            string_lower(&mut lower, text);
            let back: String = serde_json::from_slice(&lower).unwrap();
            assert_eq!(back, text.to_ascii_lowercase());
        }
    }

    #[test]
    fn capital_letter_words_exactly() {
        for byte in 0u8..=0xff {
            for pos in 0..8 {
                let mut w = [b'a'; 8];
                w[pos] = byte;
                let escape = ESCAPE[byte as usize] != 0;
                let w = u64::from_le_bytes(w);
                assert_eq!(flagged::<false>(w), escape, "{byte:#x} at {pos}");
                assert_eq!(
                    flagged::<true>(w),
                    escape || byte.is_ascii_uppercase(),
                    "{byte:#x} at {pos}"
                );
            }
        }
        for text in [
            "get /a",
            "GET /A",
            "get /Order/{id}",
            "long lower-case name/with/parts",
            "x",
        ] {
            let mut v = Vec::new();
            string_lower(&mut v, text);
            assert_eq!(v, format!("\"{}\"", text.to_ascii_lowercase()).as_bytes());
        }
    }

    #[test]
    fn counter_matches_writer() {
        let text = "a\"b\\c\nd\u{1}é";
        let mut v = Vec::new();
        string(&mut v, text);
        let mut c = LenCounter::default();
        string(&mut c, text);
        assert_eq!(c.len(), v.len());
    }
}
