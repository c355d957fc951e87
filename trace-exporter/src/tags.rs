//! Span tags stored compactly: one text buffer for all values, so recording a span's fields
//! costs one or two allocations instead of one per field.

use std::borrow::Cow;
use std::fmt;

/// A span's tags, in the order they were first set; setting a key again replaces its value.
///
/// ```
/// let mut tags = trace_exporter::Tags::default();
/// tags.set("http.method", "GET");
/// tags.set("http.status_code", "200");
/// tags.set("http.method", "POST");
/// assert_eq!(tags.get("http.method"), Some("POST"));
/// let all: Vec<_> = tags.iter().collect();
/// assert_eq!(all, [("http.method", "POST"), ("http.status_code", "200")]);
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Tags {
    text: String,
    entries: Vec<(Cow<'static, str>, u32, u32)>,
}

impl Tags {
    /// Empty tags with room for `n` tags of about 16 bytes each.
    ///
    /// ```
    /// assert!(trace_exporter::Tags::with_capacity(8).is_empty());
    /// ```
    pub fn with_capacity(n: usize) -> Self {
        Tags {
            text: String::with_capacity(n * 16),
            entries: Vec::with_capacity(n),
        }
    }

    /// Sets `key` to `value`, replacing an earlier value (the key keeps its position).
    ///
    /// ```
    /// let mut t = trace_exporter::Tags::default();
    /// t.set("k", "1");
    /// assert_eq!(t.len(), 1);
    /// ```
    pub fn set(&mut self, key: impl Into<Cow<'static, str>>, value: &str) {
        let key = key.into();
        if self.text.len() + value.len() > u32::MAX as usize {
            return; // Never reached by bounded values; refuse rather than wrap.
        }
        let start = self.text.len() as u32;
        self.text.push_str(value);
        let end = self.text.len() as u32;
        match self.entries.iter_mut().find(|(k, _, _)| *k == key) {
            Some(entry) => {
                entry.1 = start;
                entry.2 = end;
            }
            None => self.entries.push((key, start, end)),
        }
    }

    /// Sets `key` to the text `value` displays (written straight into the tags' buffer),
    /// cut at `max` bytes on a character boundary.
    ///
    /// ```
    /// let mut t = trace_exporter::Tags::default();
    /// t.set_display("n", format_args!("{}-{}", 1, 2), 64);
    /// assert_eq!(t.get("n"), Some("1-2"));
    /// ```
    pub fn set_display(
        &mut self,
        key: impl Into<Cow<'static, str>>,
        value: impl fmt::Display,
        max: usize,
    ) {
        use fmt::Write as _;
        let key = key.into();
        let start = self.text.len();
        if write!(self.text, "{value}").is_err() {
            self.text.truncate(start);
            return;
        }
        let mut end = self.text.len().min(start + max);
        while !self.text.is_char_boundary(end) {
            end -= 1;
        }
        self.text.truncate(end);
        if end > u32::MAX as usize {
            self.text.truncate(start);
            return;
        }
        let (start, end) = (start as u32, end as u32);
        match self.entries.iter_mut().find(|(k, _, _)| *k == key) {
            Some(entry) => {
                entry.1 = start;
                entry.2 = end;
            }
            None => self.entries.push((key, start, end)),
        }
    }

    /// A tag's value.
    ///
    /// ```
    /// assert_eq!(trace_exporter::Tags::default().get("x"), None);
    /// ```
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|&(_, s, e)| &self.text[s as usize..e as usize])
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
        self.entries.retain(|(k, _, _)| k != key);
    }

    /// `(key, value)` pairs in order.
    ///
    /// ```
    /// assert_eq!(trace_exporter::Tags::default().iter().count(), 0);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.entries
            .iter()
            .map(|(k, s, e)| (k.as_ref(), &self.text[*s as usize..*e as usize]))
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

    /// Bytes held (for the reporter's memory estimate).
    pub(crate) fn heap_size(&self) -> usize {
        self.text.capacity()
            + self.entries.capacity() * std::mem::size_of::<(Cow<'static, str>, u32, u32)>()
            + self
                .entries
                .iter()
                .map(|(k, _, _)| match k {
                    Cow::Owned(k) => k.len(),
                    Cow::Borrowed(_) => 0,
                })
                .sum::<usize>()
    }
}

impl fmt::Debug for Tags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<'a> FromIterator<(&'a str, &'a str)> for Tags {
    fn from_iter<T: IntoIterator<Item = (&'a str, &'a str)>>(iter: T) -> Self {
        let mut tags = Tags::default();
        for (k, v) in iter {
            tags.set(k.to_string(), v);
        }
        tags
    }
}
