//! Span tags stored compactly: values (and keys that are not `'static`) in one buffer, so
//! recording a span's fields costs no allocation of its own; the `'static` field names of
//! `tracing` callsites are kept as references, never copied.

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
    /// One per live tag, in order.
    entries: Vec<Entry>,
    /// Value bytes, and the bytes of keys given as borrowed text. Values and keys are copied
    /// from `str`s (or cut on character boundaries), so each range is valid UTF-8; reading one
    /// as `str` still checks it (no `unsafe`), the encoder reads the bytes. A replaced or
    /// removed tag leaves its bytes here until [`Tags::clear`].
    buf: Vec<u8>,
    /// A one-word filter of the keys ever set ([`key_bit`]): a key whose bit is clear is
    /// certainly absent, so looking it up (or replacing it) needs no scan.
    keys: u64,
}

/// Tag names the recorder knows: kept as a code, written by the encoder as constants (no
/// copy of a variable length, no escape check).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Known {
    HttpMethod,
    HttpPath,
    HttpRoute,
    HttpStatusCode,
    HttpUrl,
    Error,
    AppTraceId,
}

impl Known {
    /// Every known name, in declaration order (`ALL[k as usize] == k`).
    pub(crate) const ALL: [Known; 7] = [
        Known::HttpMethod,
        Known::HttpPath,
        Known::HttpRoute,
        Known::HttpStatusCode,
        Known::HttpUrl,
        Known::Error,
        Known::AppTraceId,
    ];

    /// The tag's name.
    pub(crate) const fn name(self) -> &'static str {
        match self {
            Known::HttpMethod => "http.method",
            Known::HttpPath => "http.path",
            Known::HttpRoute => "http.route",
            Known::HttpStatusCode => "http.status_code",
            Known::HttpUrl => "http.url",
            Known::Error => "error",
            Known::AppTraceId => "app.trace_id",
        }
    }

    /// The known name spelled `name`.
    #[inline]
    pub(crate) fn from_name(name: &str) -> Option<Known> {
        Some(match name {
            "http.method" => Known::HttpMethod,
            "http.path" => Known::HttpPath,
            "http.route" => Known::HttpRoute,
            "http.status_code" => Known::HttpStatusCode,
            "http.url" => Known::HttpUrl,
            "error" => Known::Error,
            "app.trace_id" => Known::AppTraceId,
            _ => return None,
        })
    }

    /// The name's filter bit ([`key_bit`]), computed at compile time.
    #[inline]
    const fn bit(self) -> u64 {
        const BITS: [u64; Known::ALL.len()] = {
            let mut bits = [0; Known::ALL.len()];
            let mut i = 0;
            while i < bits.len() {
                // `ALL` is in declaration order, so the bit of `k` is at `k as usize`.
                assert!(Known::ALL[i] as usize == i);
                bits[i] = key_bit(Known::ALL[i].name().as_bytes());
                i += 1;
            }
            bits
        };
        BITS[self as usize]
    }
}

/// The name of a tag the recorder sets: a known name, or a `tracing` field's `'static` name.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Name {
    Known(Known),
    Field(&'static str),
}

impl Name {
    /// The key stored and its filter bit.
    #[inline]
    fn key(self) -> (Key, u64) {
        match self {
            Name::Known(k) => (Key::Known(k), k.bit()),
            Name::Field(f) => (Key::Static(f), key_bit(f.as_bytes())),
        }
    }

    fn text(self) -> &'static str {
        match self {
            Name::Known(k) => k.name(),
            Name::Field(f) => f,
        }
    }
}

/// A tag's key.
#[derive(Clone, Copy, Debug)]
enum Key {
    /// A name the recorder knows.
    Known(Known),
    /// Any other `'static` name (a `tracing` field name), kept by reference.
    Static(&'static str),
    /// A name copied into the buffer: its byte range.
    Copied(u32, u32),
}

/// A tag as the encoder reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RawTag<'a> {
    /// A known name, and the value.
    Known(Known, &'a [u8]),
    /// A name copied into the buffer and its value right after it (one slice, to be checked
    /// for escapes at once), with the name's length.
    Joined(&'a [u8], usize),
    /// A `'static` name, and the value.
    Apart(&'a [u8], &'a [u8]),
}

/// One tag: its key and the byte range of its value in the buffer.
#[derive(Clone, Copy, Debug)]
struct Entry {
    key: Key,
    value: (u32, u32),
}

/// Longer keys are ignored (as documented on [`Tags::set`]).
const MAX_KEY: usize = (1 << 21) - 1;
/// The buffer's positions are `u32`: tags stop being stored once it would pass 4 GiB.
const MAX_BUF: usize = u32::MAX as usize;

/// The filter bit of a key (from its length and last byte).
#[inline]
const fn key_bit(key: &[u8]) -> u64 {
    let last = match key {
        [.., last] => *last as u64,
        [] => 0,
    };
    1 << (((key.len() as u64).wrapping_mul(7) ^ last) % 64)
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
            entries: Vec::with_capacity(n),
            buf: Vec::with_capacity(n * 24),
            keys: 0,
        }
    }

    /// Tags with their values written into `buf` (cleared first), with room for `n` tags.
    pub(crate) fn from_buffer(mut buf: Vec<u8>, n: usize) -> Self {
        buf.clear();
        Tags {
            entries: Vec::with_capacity(n),
            buf,
            keys: 0,
        }
    }

    /// Removes every tag, keeping the buffers.
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.buf.clear();
        self.keys = 0;
    }

    #[inline]
    fn bytes(&self, (start, end): (u32, u32)) -> &[u8] {
        self.buf
            .get(start as usize..end as usize)
            .unwrap_or_default()
    }

    #[inline]
    fn key_bytes(&self, key: Key) -> &[u8] {
        match key {
            Key::Known(k) => k.name().as_bytes(),
            Key::Static(k) => k.as_bytes(),
            Key::Copied(start, end) => self.bytes((start, end)),
        }
    }

    fn text(bytes: &[u8]) -> &str {
        std::str::from_utf8(bytes).unwrap_or("")
    }

    /// The index of the entry for `key`.
    #[inline]
    fn find(&self, key: &[u8]) -> Option<usize> {
        if self.keys & key_bit(key) == 0 {
            return None;
        }
        self.entries
            .iter()
            .position(|e| self.key_bytes(e.key) == key)
    }

    /// Removes the entry for `key` (its bytes stay in the buffer).
    fn kill(&mut self, key: &[u8]) {
        if let Some(i) = self.find(key) {
            self.entries.remove(i);
        }
    }

    /// Makes room for a new entry for `key` with `extra` more bytes in the buffer: removes
    /// the old value unless `unique` (the caller knows `key` is not set), notes the key in
    /// the filter. False when the tag cannot be stored (key or buffer too long).
    #[inline]
    fn prepare(&mut self, key: &str, extra: usize, unique: bool) -> bool {
        let key = key.as_bytes();
        if key.len() > MAX_KEY || self.buf.len() + extra > MAX_BUF {
            return false;
        }
        let bit = key_bit(key);
        // A clear filter bit: certainly not set, no search.
        if !unique && self.keys & bit != 0 {
            self.kill(key);
        }
        self.keys |= bit;
        true
    }

    /// Sets `key` to `value`, replacing an earlier value. Keys longer than 2 MiB are
    /// ignored, and so is a tag that would take the tags past 4 GiB.
    ///
    /// ```
    /// let mut t = trace_exporter::Tags::default();
    /// t.set("k", "1");
    /// assert_eq!(t.len(), 1);
    /// ```
    pub fn set(&mut self, key: impl AsRef<str>, value: &str) {
        let key = key.as_ref();
        if let Some(known) = Known::from_name(key) {
            let _ = self.insert(Name::Known(known), value, false);
            return;
        }
        if !self.prepare(key, key.len() + value.len(), false) {
            return;
        }
        let start = self.buf.len();
        self.buf.reserve(key.len() + value.len());
        self.buf.extend_from_slice(key.as_bytes());
        let mid = self.buf.len();
        self.buf.extend_from_slice(value.as_bytes());
        self.entries.push(Entry {
            key: Key::Copied(start as u32, mid as u32),
            value: (mid as u32, self.buf.len() as u32),
        });
    }

    /// Sets a tag with a known or `'static` name (not copied); `unique` when the key is known
    /// not to be set yet. False when it was not stored (the tags would pass 4 GiB).
    #[inline]
    pub(crate) fn insert(&mut self, name: Name, value: &str, unique: bool) -> bool {
        // A `'static` name is kept by reference: no length limit to check.
        if self.buf.len() + value.len() > MAX_BUF {
            return false;
        }
        let (key, bit) = name.key();
        // A clear filter bit: certainly not set, no search.
        if !unique && self.keys & bit != 0 {
            self.kill(name.text().as_bytes());
        }
        self.keys |= bit;
        let start = self.buf.len() as u32;
        self.buf.extend_from_slice(value.as_bytes());
        self.entries.push(Entry {
            key,
            value: (start, self.buf.len() as u32),
        });
        true
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
        let key = key.as_ref();
        if let Some(known) = Known::from_name(key) {
            let _ = self.insert_fmt(Name::Known(known), format_args!("{value}"), max, false);
            return;
        }
        if !self.prepare(key, key.len(), false) {
            return;
        }
        let start = self.buf.len();
        self.buf.extend_from_slice(key.as_bytes());
        let mid = self.buf.len();
        if let Some(end) = self.write_fmt(format_args!("{value}"), max) {
            self.entries.push(Entry {
                key: Key::Copied(start as u32, mid as u32),
                value: (mid as u32, end as u32),
            });
        } else {
            self.buf.truncate(start);
        }
    }

    /// Sets a formatted tag with a `'static` key, cut at `max` bytes; `unique` when the key is
    /// known not to be set yet. False when it was not stored.
    pub(crate) fn insert_fmt(
        &mut self,
        name: Name,
        value: fmt::Arguments<'_>,
        max: usize,
        unique: bool,
    ) -> bool {
        let (key, _) = name.key();
        if !self.prepare(name.text(), 0, unique) {
            return false;
        }
        let start = self.buf.len();
        match self.write_fmt(value, max) {
            Some(end) => {
                self.entries.push(Entry {
                    key,
                    value: (start as u32, end as u32),
                });
                true
            }
            None => false,
        }
    }

    /// Appends the formatted `value`, cut at `max` bytes on a character boundary; returns the
    /// end of the value, `None` (and nothing appended) when the buffer would pass 4 GiB.
    fn write_fmt(&mut self, value: fmt::Arguments<'_>, max: usize) -> Option<usize> {
        use fmt::Write as _;
        let start = self.buf.len();
        if Sink(&mut self.buf).write_fmt(value).is_err() {
            self.buf.truncate(start);
        }
        if self.buf.len() - start > max {
            let mut end = start + max;
            while !is_char_boundary(&self.buf, end) {
                end -= 1;
            }
            self.buf.truncate(end);
        }
        if self.buf.len() > MAX_BUF {
            self.buf.truncate(start);
            return None;
        }
        Some(self.buf.len())
    }

    /// The bytes of the last tag's value (for reading back a value just formatted in).
    pub(crate) fn last_value(&self) -> &[u8] {
        self.entries.last().map_or(&[], |e| self.bytes(e.value))
    }

    /// A tag's value.
    ///
    /// ```
    /// assert_eq!(trace_exporter::Tags::default().get("x"), None);
    /// ```
    pub fn get(&self, key: &str) -> Option<&str> {
        let e = self.entries[self.find(key.as_bytes())?];
        Some(Self::text(self.bytes(e.value)))
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
        self.entries.iter().map(|e| {
            (
                Self::text(self.key_bytes(e.key)),
                Self::text(self.bytes(e.value)),
            )
        })
    }

    /// The tags in order as the UTF-8 bytes they were set from (for the encoder: no
    /// re-validation).
    #[inline]
    pub(crate) fn iter_raw(&self) -> impl Iterator<Item = RawTag<'_>> + '_ {
        self.entries.iter().map(|e| match e.key {
            Key::Known(k) => RawTag::Known(k, self.bytes(e.value)),
            // `set` writes a copied key right before its value.
            Key::Copied(start, end) if end == e.value.0 => {
                RawTag::Joined(self.bytes((start, e.value.1)), (end - start) as usize)
            }
            key => RawTag::Apart(self.key_bytes(key), self.bytes(e.value)),
        })
    }

    /// The number of tags.
    ///
    /// ```
    /// assert_eq!(trace_exporter::Tags::default().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there is no tag.
    ///
    /// ```
    /// assert!(trace_exporter::Tags::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bytes held (for the reporter's memory estimate and the pool's size limit).
    pub(crate) fn heap_size(&self) -> usize {
        self.buf.capacity() + self.entries.capacity() * std::mem::size_of::<Entry>()
    }
}

impl PartialEq for Tags {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
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
        t.set_display(&long_key, 1, 10);
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
    fn static_keys_mix_with_copied_keys() {
        let mut t = Tags::default();
        assert!(t.insert(Name::Known(Known::HttpMethod), "GET", true));
        assert!(t.insert_fmt(Name::Field("n"), format_args!("{}", 42), 10, true));
        assert_eq!(t.last_value(), b"42");
        // A copied key replaces a static one of the same text, and the other way round.
        t.set("http.method", "POST");
        assert!(t.insert(Name::Field("n"), "43", false));
        assert_eq!(
            t.iter().collect::<Vec<_>>(),
            [("http.method", "POST"), ("n", "43")]
        );
        t.set("k", "v");
        let raw: Vec<_> = t.iter_raw().collect();
        assert_eq!(
            raw,
            [
                // A known name set through the public API is kept as its code too.
                RawTag::Known(Known::HttpMethod, b"POST"),
                RawTag::Apart(b"n", b"43"),
                RawTag::Joined(b"kv", 1),
            ]
        );
        t.remove("k");
        t.remove("n");
        assert_eq!(t.get("n"), None);
        assert_eq!(t.len(), 1);
        assert!(t.insert_fmt(
            Name::Known(Known::Error),
            format_args!("{}", "é".repeat(3)),
            3,
            false
        ));
        assert_eq!(t.get("error"), Some("é"));
        assert_eq!(
            t.iter_raw().last(),
            Some(RawTag::Known(Known::Error, "é".as_bytes()))
        );
        // Every known name reads back by its text.
        for k in Known::ALL {
            let mut t = Tags::default();
            assert!(t.insert(Name::Known(k), "v", true));
            assert_eq!(t.get(k.name()), Some("v"));
            assert_eq!(Known::from_name(k.name()), Some(k));
            t.set_display(k.name(), 7, 10);
            assert_eq!(t.iter_raw().collect::<Vec<_>>(), [RawTag::Known(k, b"7")]);
        }
    }

    #[test]
    fn reused_buffer_starts_empty() {
        let mut t = Tags::from_buffer(b"old bytes".to_vec(), 4);
        assert!(t.is_empty());
        t.set("http.route", "/a");
        t.clear();
        assert!(t.is_empty());
        assert_eq!(t.get("http.route"), None);
        assert_eq!(t.iter().count(), 0);
    }
}
