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
    /// Entries: `[flag][key length: u32 LE][value length: u32 LE][key][value]`. Keys and
    /// values are copied from `str`s (or cut on character boundaries), so each key and value
    /// range is valid UTF-8; reading one as `str` still checks it (no `unsafe`), the encoder
    /// reads the bytes.
    buf: Vec<u8>,
    len: usize,
    /// A one-word filter of the keys ever set ([`key_bit`]): a key whose bit is clear is
    /// certainly absent, so looking it up (or replacing it) needs no scan.
    keys: u64,
}

const LIVE: u8 = 1;
const REMOVED: u8 = 0;
/// The entry header: flag, key length, value length.
const HEAD: usize = 1 + 4 + 4;
/// Where the value length sits in the header.
const VLEN_AT: usize = 5;
/// Longer keys are ignored (as documented on [`Tags::set`]).
const MAX_KEY: usize = (1 << 21) - 1;
const MAX_VALUE: usize = u32::MAX as usize;

/// The filter bit of a key (from its length and last byte).
fn key_bit(key: &[u8]) -> u64 {
    let last = key.last().copied().map_or(0, u64::from);
    1 << (((key.len() as u64).wrapping_mul(7) ^ last) % 64)
}

/// One decoded entry: where its flag is, whether it is live, its key and value ranges.
struct Entry {
    at: usize,
    live: bool,
    key: (usize, usize),
    value: (usize, usize),
}

/// Collects `Display` output into the buffer.
struct Sink<'a>(&'a mut Vec<u8>);

impl fmt::Write for Sink<'_> {
    #[inline]
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// True when `i` is the start of a character in UTF-8 `bytes` (or their end).
fn is_char_boundary(bytes: &[u8], i: usize) -> bool {
    bytes.get(i).is_none_or(|&b| (b as i8) >= -0x40)
}

impl Tags {
    /// Empty tags with room for about `n` short tags.
    ///
    /// ```
    /// assert!(trace_exporter::Tags::with_capacity(8).is_empty());
    /// ```
    pub fn with_capacity(n: usize) -> Self {
        Tags {
            buf: Vec::with_capacity(n * 32),
            len: 0,
            keys: 0,
        }
    }

    /// Tags written into `buf` (cleared first).
    pub(crate) fn from_buffer(mut buf: Vec<u8>) -> Self {
        buf.clear();
        Tags {
            buf,
            len: 0,
            keys: 0,
        }
    }

    /// Removes every tag, keeping the buffer.
    pub(crate) fn clear(&mut self) {
        self.buf.clear();
        self.len = 0;
        self.keys = 0;
    }

    /// The entry whose flag is at `at`.
    #[inline]
    fn entry_at(&self, at: usize) -> Option<Entry> {
        let head: &[u8; HEAD] = self.buf.get(at..at + HEAD)?.try_into().ok()?;
        let klen = u32::from_le_bytes([head[1], head[2], head[3], head[4]]) as usize;
        let vlen = u32::from_le_bytes([head[5], head[6], head[7], head[8]]) as usize;
        let kstart = at + HEAD;
        let kend = kstart + klen;
        let vend = kend + vlen;
        if vend > self.buf.len() {
            return None;
        }
        Some(Entry {
            at,
            live: head[0] == LIVE,
            key: (kstart, kend),
            value: (kend, vend),
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

    #[inline]
    fn bytes(&self, (start, end): (usize, usize)) -> &[u8] {
        self.buf.get(start..end).unwrap_or_default()
    }

    fn text(&self, range: (usize, usize)) -> &str {
        std::str::from_utf8(self.bytes(range)).unwrap_or("")
    }

    fn find(&self, key: &[u8]) -> Option<Entry> {
        if self.keys & key_bit(key) == 0 {
            return None;
        }
        self.entries().find(|e| e.live && self.bytes(e.key) == key)
    }

    /// Marks the live entry for `key` removed.
    fn kill(&mut self, key: &[u8]) {
        if let Some(e) = self.find(key) {
            self.buf[e.at] = REMOVED;
            self.len -= 1;
        }
    }

    /// Writes an entry header and key with a value length of `vlen`; returns where the
    /// value length is, `None` when the key is too long. With `unique`, the caller knows
    /// `key` is not set yet (no search for an old value).
    #[inline]
    fn begin(&mut self, key: &str, vlen: usize, unique: bool) -> Option<usize> {
        let key = key.as_bytes();
        if key.len() > MAX_KEY || vlen > MAX_VALUE {
            return None;
        }
        if self.len > 0 && !unique {
            self.kill(key);
        }
        self.keys |= key_bit(key);
        let at = self.buf.len();
        self.buf.reserve(HEAD + key.len() + vlen);
        let (k, v) = (
            (key.len() as u32).to_le_bytes(),
            (vlen as u32).to_le_bytes(),
        );
        self.buf
            .extend_from_slice(&[LIVE, k[0], k[1], k[2], k[3], v[0], v[1], v[2], v[3]]);
        self.buf.extend_from_slice(key);
        Some(at + VLEN_AT)
    }

    /// Rewrites the value length of the entry whose length is at `vlen_at` and whose value
    /// starts at `start`.
    fn finish_display(&mut self, vlen_at: usize, start: usize) {
        let vlen = (self.buf.len() - start) as u32;
        if let Some(slot) = self.buf.get_mut(vlen_at..vlen_at + 4) {
            slot.copy_from_slice(&vlen.to_le_bytes());
        }
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
    #[inline]
    pub(crate) fn insert(&mut self, key: &str, value: &str, unique: bool) -> Option<usize> {
        let vlen_at = self.begin(key, value.len(), unique)?;
        self.buf.extend_from_slice(value.as_bytes());
        self.len += 1;
        Some(vlen_at - VLEN_AT)
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
        let vlen_at = self.begin(key, 0, unique)?;
        let start = self.buf.len();
        if write!(Sink(&mut self.buf), "{value}").is_err() {
            self.buf.truncate(start);
        }
        if self.buf.len() - start > max {
            let mut end = start + max;
            while !is_char_boundary(&self.buf, end) {
                end -= 1;
            }
            self.buf.truncate(end);
        }
        self.finish_display(vlen_at, start);
        Some(vlen_at - VLEN_AT)
    }

    /// A tag's value.
    ///
    /// ```
    /// assert_eq!(trace_exporter::Tags::default().get("x"), None);
    /// ```
    pub fn get(&self, key: &str) -> Option<&str> {
        self.find(key.as_bytes()).map(|e| self.text(e.value))
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
        self.kill(key.as_bytes());
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

    /// The tags in order as the UTF-8 bytes they were set from (for the encoder: no
    /// re-validation): each key and its value are adjacent in the buffer, so each comes as
    /// one slice (key then value) with the key's length, to be checked for escapes at once.
    #[inline]
    pub(crate) fn iter_joined(&self) -> impl Iterator<Item = (&[u8], usize)> + '_ {
        self.entries()
            .filter(|e| e.live)
            .map(|e| (self.bytes((e.key.0, e.value.1)), e.key.1 - e.key.0))
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
        assert_eq!(key_bit(b"ab"), key_bit(b"xb"));
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
        let mut t = Tags::from_buffer(b"old bytes".to_vec());
        assert!(t.is_empty());
        t.set("http.route", "/a");
        t.clear();
        assert!(t.is_empty());
        assert_eq!(t.get("http.route"), None);
        assert_eq!(t.iter().count(), 0);
    }
}
