//! Span tags stored compactly: keys and values in one buffer, so recording a span's fields
//! costs one allocation instead of one per field.

use std::fmt;

/// A span's tags. Setting a key again replaces its value (the key then moves to the end of
/// the order, which JSON objects do not keep anyway).
///
/// ```
/// let mut tags = trace_exporter::Tags::default();
/// tags.set("http.method", "GET");
/// tags.set("http.status_code", "200");
/// tags.set("http.method", "POST");
/// assert_eq!(tags.get("http.method"), Some("POST"));
/// let all: Vec<_> = tags.iter().collect();
/// assert_eq!(all, [("http.status_code", "200"), ("http.method", "POST")]);
/// ```
#[derive(Clone, Default)]
pub struct Tags {
    /// Entries: `[flag][key length: 3 chars][key][value length: 5 chars][value]`, lengths
    /// in 7-bit ASCII digits, so the buffer is always valid UTF-8 and slicing it is safe.
    buf: String,
    len: usize,
    /// A one-word filter of the keys ever set ([`key_bit`]): a key whose bit is clear is
    /// certainly absent, so looking it up (or replacing it) needs no scan.
    keys: u64,
}

const LIVE: u8 = b'1';
const REMOVED: &str = "0";
const KEY_DIGITS: usize = 3;
const VALUE_DIGITS: usize = 5;
const MAX_KEY: usize = (1 << (7 * KEY_DIGITS)) - 1;
const MAX_VALUE: usize = (1 << (7 * VALUE_DIGITS)) - 1;

/// Writes `n` as `digits.len()` 7-bit digits, lowest first.
fn write_len(digits: &mut [u8], mut n: usize) {
    for d in digits {
        *d = (n & 0x7f) as u8;
        n >>= 7;
    }
}

/// Appends length digits or a flag: 7-bit values, so each is one ASCII character (pushed one
/// by one: cheaper for these few bytes than validating them as UTF-8 text).
#[inline]
fn push_ascii(buf: &mut String, bytes: &[u8]) {
    for &b in bytes {
        buf.push(char::from(b & 0x7f));
    }
}

/// The filter bit of a key (from its length and last byte).
fn key_bit(key: &str) -> u64 {
    let last = key.as_bytes().last().copied().map_or(0, u64::from);
    1 << (((key.len() as u64).wrapping_mul(7) ^ last) % 64)
}

/// The longest entry header: flag, key length digits.
const HEAD: usize = 1 + KEY_DIGITS;

/// Reads the `N` length digits at the start of `bytes` (lowest first).
fn read_len<const N: usize>(bytes: &[u8]) -> Option<usize> {
    let digits: &[u8; N] = bytes.get(..N)?.try_into().ok()?;
    Some(
        digits
            .iter()
            .rev()
            .fold(0, |n, &b| (n << 7) | usize::from(b & 0x7f)),
    )
}

/// One decoded entry: where its flag is, whether it is live, its key and value ranges.
struct Entry {
    at: usize,
    live: bool,
    key: (usize, usize),
    value: (usize, usize),
}

/// Collects `Display` output into the buffer.
struct Sink<'a>(&'a mut String);

impl fmt::Write for Sink<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.push_str(s);
        Ok(())
    }
}

impl Tags {
    /// Empty tags with room for about `n` short tags.
    ///
    /// ```
    /// assert!(trace_exporter::Tags::with_capacity(8).is_empty());
    /// ```
    pub fn with_capacity(n: usize) -> Self {
        Tags {
            buf: String::with_capacity(n * 32),
            len: 0,
            keys: 0,
        }
    }

    /// Tags written into `buf` (cleared first).
    pub(crate) fn from_buffer(mut buf: String) -> Self {
        buf.clear();
        Tags {
            buf,
            len: 0,
            keys: 0,
        }
    }

    /// The buffer, for reuse.
    pub(crate) fn into_buffer(self) -> String {
        self.buf
    }

    /// The entry whose flag is at `at`.
    fn entry_at(&self, at: usize) -> Option<Entry> {
        let bytes = self.buf.as_bytes();
        let live = *bytes.get(at)? == LIVE;
        let kstart = at + 1 + KEY_DIGITS;
        let kend = kstart + read_len::<KEY_DIGITS>(bytes.get(at + 1..)?)?;
        let vstart = kend + VALUE_DIGITS;
        let vend = vstart + read_len::<VALUE_DIGITS>(bytes.get(kend..)?)?;
        if vend > bytes.len() {
            return None;
        }
        Some(Entry {
            at,
            live,
            key: (kstart, kend),
            value: (vstart, vend),
        })
    }

    fn entries(&self) -> impl Iterator<Item = Entry> + '_ {
        let mut i = 0;
        std::iter::from_fn(move || {
            let e = self.entry_at(i)?;
            i = e.value.1;
            Some(e)
        })
    }

    fn text(&self, (start, end): (usize, usize)) -> &str {
        self.buf.get(start..end).unwrap_or("")
    }

    fn find(&self, key: &str) -> Option<Entry> {
        if self.keys & key_bit(key) == 0 {
            return None;
        }
        let bytes = self.buf.as_bytes();
        self.entries()
            .find(|e| e.live && bytes.get(e.key.0..e.key.1) == Some(key.as_bytes()))
    }

    /// Marks the live entry for `key` removed.
    fn kill(&mut self, key: &str) {
        if let Some(e) = self.find(key) {
            self.buf.replace_range(e.at..e.at + 1, REMOVED);
            self.len -= 1;
        }
    }

    /// Writes an entry header with a value length of `vlen`; `None` when the key is too long.
    /// With `unique`, the caller knows `key` is not set yet (no search for an old value).
    fn begin(&mut self, key: &str, vlen: usize, unique: bool) -> Option<usize> {
        if key.len() > MAX_KEY || vlen > MAX_VALUE {
            return None;
        }
        if self.len > 0 && !unique {
            self.kill(key);
        }
        self.keys |= key_bit(key);
        self.buf.reserve(HEAD + key.len() + VALUE_DIGITS + vlen);
        let mut head = [LIVE; HEAD];
        write_len(&mut head[1..], key.len());
        push_ascii(&mut self.buf, &head);
        self.buf.push_str(key);
        let vlen_at = self.buf.len();
        let mut digits = [0u8; VALUE_DIGITS];
        write_len(&mut digits, vlen);
        push_ascii(&mut self.buf, &digits);
        Some(vlen_at)
    }

    /// Rewrites the value length of the entry whose length digits are at `vlen_at`.
    fn finish_display(&mut self, vlen_at: usize) {
        let start = vlen_at + VALUE_DIGITS;
        let vlen = self.buf.len() - start;
        let mut digits = [0u8; VALUE_DIGITS];
        write_len(&mut digits, vlen);
        // 7-bit values are ASCII, hence valid UTF-8 of the same length.
        let digits = std::str::from_utf8(&digits).unwrap_or("\0\0\0\0\0");
        self.buf.replace_range(vlen_at..start, digits);
        self.len += 1;
    }

    /// Sets `key` to `value`, replacing an earlier value. Keys longer than 2 MiB are
    /// ignored.
    ///
    /// ```
    /// let mut t = trace_exporter::Tags::default();
    /// t.set("k", "1");
    /// assert_eq!(t.len(), 1);
    /// ```
    pub fn set(&mut self, key: impl AsRef<str>, value: &str) {
        let _ = self.insert(key.as_ref(), value, false);
    }

    /// Sets a tag; `unique` when the key is known not to be set yet.
    /// Returns where the entry starts ([`Tags::value_at`]), `None` when it was not stored.
    pub(crate) fn insert(&mut self, key: &str, value: &str, unique: bool) -> Option<usize> {
        let at = self.buf.len();
        self.begin(key, value.len(), unique)?;
        self.buf.push_str(value);
        self.len += 1;
        Some(at)
    }

    /// The value of the entry [`Tags::insert`] stored at `at`, while it is not replaced or
    /// removed.
    pub(crate) fn value_at(&self, at: usize) -> Option<&str> {
        self.entry_at(at)
            .filter(|e| e.live)
            .map(|e| self.text(e.value))
    }

    /// Sets `key` to the text `value` displays (written straight into the buffer), cut at
    /// `max` bytes on a character boundary.
    ///
    /// ```
    /// let mut t = trace_exporter::Tags::default();
    /// t.set_display("n", format_args!("{}-{}", 1, 2), 64);
    /// assert_eq!(t.get("n"), Some("1-2"));
    /// ```
    pub fn set_display(&mut self, key: impl AsRef<str>, value: impl fmt::Display, max: usize) {
        let _ = self.insert_display(key.as_ref(), value, max, false);
    }

    /// Sets a displayed tag; `unique` when the key is known not to be set yet.
    pub(crate) fn insert_display(
        &mut self,
        key: &str,
        value: impl fmt::Display,
        max: usize,
        unique: bool,
    ) -> Option<usize> {
        use fmt::Write as _;
        let max = max.min(MAX_VALUE);
        let at = self.buf.len();
        let vlen_at = self.begin(key, 0, unique)?;
        let start = self.buf.len();
        if write!(Sink(&mut self.buf), "{value}").is_err() {
            self.buf.truncate(start);
        }
        if self.buf.len() - start > max {
            let mut end = start + max;
            while !self.buf.is_char_boundary(end) {
                end -= 1;
            }
            self.buf.truncate(end);
        }
        self.finish_display(vlen_at);
        Some(at)
    }

    /// A tag's value.
    ///
    /// ```
    /// assert_eq!(trace_exporter::Tags::default().get("x"), None);
    /// ```
    pub fn get(&self, key: &str) -> Option<&str> {
        self.find(key).map(|e| self.text(e.value))
    }

    /// Removes a tag.
    ///
    /// ```
    /// let mut t = trace_exporter::Tags::default();
    /// t.set("k", "v");
    /// t.remove("k");
    /// assert!(t.is_empty());
    /// ```
    pub fn remove(&mut self, key: &str) {
        self.kill(key);
    }

    /// `(key, value)` pairs in order.
    ///
    /// ```
    /// assert_eq!(trace_exporter::Tags::default().iter().count(), 0);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.entries()
            .filter(|e| e.live)
            .map(|e| (self.text(e.key), self.text(e.value)))
    }

    /// The number of tags.
    ///
    /// ```
    /// assert_eq!(trace_exporter::Tags::default().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when there is no tag.
    ///
    /// ```
    /// assert!(trace_exporter::Tags::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes held (for the reporter's memory estimate).
    pub(crate) fn heap_size(&self) -> usize {
        self.buf.capacity()
    }
}

impl PartialEq for Tags {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl Eq for Tags {}

impl fmt::Debug for Tags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<'a> FromIterator<(&'a str, &'a str)> for Tags {
    fn from_iter<T: IntoIterator<Item = (&'a str, &'a str)>>(iter: T) -> Self {
        let mut tags = Tags::default();
        for (k, v) in iter {
            tags.set(k, v);
        }
        tags
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_remove_and_cut() {
        let mut t = Tags::with_capacity(2);
        t.set("a", "1");
        t.set("b", "");
        t.set("a", "22");
        t.set_display("c", "é".repeat(10), 5);
        assert_eq!(t.get("c"), Some("éé"));
        t.remove("b");
        assert_eq!(t.len(), 2);
        assert_eq!(t.iter().collect::<Vec<_>>(), [("a", "22"), ("c", "éé")]);
        let long_key = "k".repeat(3 << 20);
        t.set(&long_key, "x");
        assert_eq!(t.len(), 2);
        assert_eq!(t, [("a", "22"), ("c", "éé")].into_iter().collect());
    }

    #[test]
    fn filter_collisions_still_find_and_replace() {
        // Same length and last byte: the same filter bit.
        assert_eq!(key_bit("ab"), key_bit("xb"));
        let mut t = Tags::default();
        t.set("ab", "1");
        assert_eq!(t.get("xb"), None);
        t.set("xb", "2");
        t.set("ab", "3");
        assert_eq!(t.iter().collect::<Vec<_>>(), [("xb", "2"), ("ab", "3")]);
        assert_eq!((t.get("ab"), t.get("xb")), (Some("3"), Some("2")));
        t.remove("xb");
        assert_eq!(t.get("xb"), None);
        assert_eq!(t.get("ab"), Some("3"));
    }

    #[test]
    fn value_at_follows_replacement_and_removal() {
        let mut t = Tags::default();
        let first = t.insert("m", "GET", true).unwrap();
        assert_eq!(t.value_at(first), Some("GET"));
        let n = t.insert_display("n", 42, 10, true).unwrap();
        assert_eq!(t.value_at(n), Some("42"));
        let second = t.insert("m", "POST", false).unwrap();
        assert_eq!(t.value_at(first), None);
        assert_eq!(t.value_at(second), Some("POST"));
        assert_eq!(t.insert(&"k".repeat(3 << 20), "x", false), None);
        t.remove("m");
        assert_eq!(t.value_at(second), None);
        assert_eq!(t.value_at(n), Some("42"));
        assert_eq!(t.value_at(9999), None);
    }

    #[test]
    fn reused_buffer_starts_empty() {
        let mut t = Tags::default();
        t.set("http.route", "/a");
        let t = Tags::from_buffer(t.into_buffer());
        assert!(t.is_empty());
        assert_eq!(t.get("http.route"), None);
        assert_eq!(t.iter().count(), 0);
    }
}
