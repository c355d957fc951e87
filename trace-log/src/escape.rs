//! Writers that escape what they are given: one for pattern lines (no forged lines), one for
//! JSON strings.

use std::fmt::{self, Write};

/// How a pattern-line value is escaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineEscape {
    /// CR and LF become `\r` and `\n`; other control characters and Unicode line separators
    /// become `\u{..}`.
    Strict,
    /// CR and LF are written as they are (multi-line messages); other control characters are
    /// still escaped.
    AllowNewlines,
}

/// Escapes control characters so that a value can never start a new log line.
///
/// Tabs are kept. CR/LF become `\r`/`\n` (unless newlines are allowed), every other C0 control
/// character, DEL, NEL (U+0085) and the Unicode line/paragraph separators (U+2028, U+2029) become
/// `\u{XX}`.
pub(crate) struct LineEscaper<'a, W: Write + ?Sized> {
    out: &'a mut W,
    mode: LineEscape,
}

impl<'a, W: Write + ?Sized> LineEscaper<'a, W> {
    pub(crate) fn new(out: &'a mut W, mode: LineEscape) -> Self {
        LineEscaper { out, mode }
    }
}

/// True for the bytes that may start a sequence that needs escaping: C0 controls, DEL, and the
/// lead bytes of U+0085 (`C2 85`) and U+2028/U+2029 (`E2 80 A8/A9`).
#[inline]
fn may_need_escape(b: u8) -> bool {
    b < 0x20 || b == 0x7f || b == 0xc2 || b == 0xe2
}

/// True when `bytes` may hold a byte for which [`may_need_escape`] is true: eight bytes at a
/// time, any byte below 0x20, DEL or any non-ASCII byte (a superset: non-ASCII text then takes
/// the exact byte-by-byte path).
#[inline]
fn may_need_escape_any(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        // A byte below 0x20 (exact for "any byte": a borrow only follows a byte that matched).
        let control = x.wrapping_sub(0x20 * ONES) & !x & HIGH;
        // A byte equal to 0x7f.
        let y = x ^ (0x7f * ONES);
        let del = y.wrapping_sub(ONES) & !y & HIGH;
        if (x & HIGH) | control | del != 0 {
            return true;
        }
    }
    chunks.remainder().iter().any(|&b| may_need_escape(b))
}

impl<W: Write + ?Sized> Write for LineEscaper<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let bytes = s.as_bytes();
        if !may_need_escape_any(bytes) || !bytes.iter().any(|&b| may_need_escape(b)) {
            return self.out.write_str(s);
        }
        let mut start = 0;
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            let (replacement, len): (Option<Escaped>, usize) = match b {
                b'\t' => (None, 1),
                b'\n' if self.mode == LineEscape::AllowNewlines => (None, 1),
                b'\r' if self.mode == LineEscape::AllowNewlines => (None, 1),
                b'\n' => (Some(Escaped::Text("\\n")), 1),
                b'\r' => (Some(Escaped::Text("\\r")), 1),
                0x00..=0x1f | 0x7f => (Some(Escaped::Code(u32::from(b))), 1),
                0xc2 if bytes.get(i + 1) == Some(&0x85) => (Some(Escaped::Code(0x85)), 2),
                0xe2 if bytes.get(i + 1) == Some(&0x80)
                    && matches!(bytes.get(i + 2), Some(0xa8) | Some(0xa9)) =>
                {
                    let code = if bytes[i + 2] == 0xa8 { 0x2028 } else { 0x2029 };
                    (Some(Escaped::Code(code)), 3)
                }
                _ => (None, 1),
            };
            if let Some(rep) = replacement {
                // `start..i` ends just before an ASCII byte or a multi-byte lead byte: a char
                // boundary.
                self.out.write_str(&s[start..i])?;
                match rep {
                    Escaped::Text(t) => self.out.write_str(t)?,
                    Escaped::Code(c) => write_unicode_escape(self.out, c)?,
                }
                start = i + len;
            }
            i += len;
        }
        self.out.write_str(&s[start..])
    }
}

enum Escaped {
    Text(&'static str),
    Code(u32),
}

/// Writes `\u{hex}` for a code point.
fn write_unicode_escape<W: Write + ?Sized>(out: &mut W, code: u32) -> fmt::Result {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut buf = [0u8; 12];
    buf[..3].copy_from_slice(b"\\u{");
    let mut n = 3;
    let digits = if code > 0xfff {
        4
    } else if code > 0xff {
        3
    } else if code > 0xf {
        2
    } else {
        1
    };
    for k in (0..digits).rev() {
        buf[n] = HEX[((code >> (4 * k)) & 0xf) as usize];
        n += 1;
    }
    buf[n] = b'}';
    n += 1;
    out.write_str(std::str::from_utf8(&buf[..n]).map_err(|_| fmt::Error)?)
}

/// Writes the contents of a JSON string (without the surrounding quotes): `"` and `\` are
/// escaped, control characters become `\n`, `\r`, `\t`, `\b`, `\f` or `\u00XX`.
pub(crate) struct JsonEscaper<'a, W: Write + ?Sized> {
    out: &'a mut W,
}

impl<'a, W: Write + ?Sized> JsonEscaper<'a, W> {
    pub(crate) fn new(out: &'a mut W) -> Self {
        JsonEscaper { out }
    }
}

impl<W: Write + ?Sized> Write for JsonEscaper<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        write_json_str_contents(self.out, s)
    }
}

#[inline]
fn json_needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// Writes `s` escaped for the inside of a JSON string.
pub(crate) fn write_json_str_contents<W: Write + ?Sized>(out: &mut W, s: &str) -> fmt::Result {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if !json_needs_escape(b) {
            continue;
        }
        out.write_str(&s[start..i])?;
        match b {
            b'"' => out.write_str("\\\"")?,
            b'\\' => out.write_str("\\\\")?,
            b'\n' => out.write_str("\\n")?,
            b'\r' => out.write_str("\\r")?,
            b'\t' => out.write_str("\\t")?,
            0x08 => out.write_str("\\b")?,
            0x0c => out.write_str("\\f")?,
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let esc = [
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[(b >> 4) as usize],
                    HEX[(b & 0xf) as usize],
                ];
                out.write_str(std::str::from_utf8(&esc).map_err(|_| fmt::Error)?)?;
            }
        }
        start = i + 1;
    }
    out.write_str(&s[start..])
}

/// Writes `s` as a complete JSON string, quotes included.
pub(crate) fn write_json_str<W: Write + ?Sized>(out: &mut W, s: &str) -> fmt::Result {
    out.write_char('"')?;
    write_json_str_contents(out, s)?;
    out.write_char('"')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(s: &str, mode: LineEscape) -> String {
        let mut out = String::new();
        LineEscaper::new(&mut out, mode).write_str(s).unwrap();
        out
    }

    #[test]
    fn newlines_are_escaped_by_default() {
        assert_eq!(
            line("a\nb\r\nc", LineEscape::Strict),
            "a\\nb\\r\\nc".to_string()
        );
    }

    #[test]
    fn newlines_kept_when_allowed_but_other_controls_escaped() {
        assert_eq!(
            line("a\nb\x1b[1A", LineEscape::AllowNewlines),
            "a\nb\\u{1b}[1A"
        );
    }

    #[test]
    fn unicode_line_separators_and_nel_are_escaped() {
        assert_eq!(
            line("x\u{2028}y\u{2029}z\u{85}w", LineEscape::Strict),
            "x\\u{2028}y\\u{2029}z\\u{85}w"
        );
    }

    #[test]
    fn other_text_is_untouched() {
        let s = "tab\there “quotes” é ü 日本 \u{7e}";
        assert_eq!(line(s, LineEscape::Strict), s);
        assert_eq!(line("\0\x7f", LineEscape::Strict), "\\u{0}\\u{7f}");
    }

    #[test]
    fn the_word_scan_agrees_with_the_byte_scan_at_every_position_and_length() {
        // Every special byte at every offset of strings of 0..=24 bytes, plus plain ASCII.
        let specials: &[u8] = &[0x00, 0x09, 0x0a, 0x0d, 0x1f, 0x7f, 0xc2, 0xe2, 0x80, 0xff];
        for len in 0..=24 {
            let plain = vec![b'a'; len];
            assert!(!may_need_escape_any(&plain), "{len}");
            for at in 0..len {
                for &b in specials {
                    let mut bytes = plain.clone();
                    bytes[at] = b;
                    let exact = bytes.iter().any(|&b| may_need_escape(b));
                    // The word scan may flag more (any non-ASCII byte), never less.
                    assert!(may_need_escape_any(&bytes) || !exact, "{bytes:?}");
                    if b < 0x80 {
                        assert_eq!(may_need_escape_any(&bytes), exact, "{bytes:?}");
                    }
                }
            }
        }
        for b in 0x20..0x7fu8 {
            assert!(!may_need_escape_any(&[b; 9]), "{b:#x}");
        }
    }

    #[test]
    fn json_strings_escape_quotes_backslashes_and_controls() {
        let mut out = String::new();
        write_json_str(&mut out, "a\"b\\c\n\r\t\x08\x0c\x01é").unwrap();
        assert_eq!(out, "\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001é\"");
    }
}
