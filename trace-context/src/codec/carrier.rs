//! The small carrier traits the codecs read from and write to.

use std::collections::HashMap;

/// Reads headers by lowercase name. Implemented for [`http::HeaderMap`], `HashMap<String, String>`
/// and a slice of `(name, value)` pairs.
///
/// ```
/// use trace_context::codec::Extractor;
/// let pairs = [("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")];
/// assert!(Extractor::first(pairs.as_slice(), "traceparent").is_some());
/// ```
pub trait Extractor {
    /// Calls `f` with every value of the header `name` (lowercase), in the order received.
    fn each<'a>(&'a self, name: &str, f: &mut dyn FnMut(&'a [u8]));

    /// The first value of the header `name`.
    fn first(&self, name: &str) -> Option<&[u8]> {
        let mut out = None;
        self.each(name, &mut |v| {
            if out.is_none() {
                out = Some(v);
            }
        });
        out
    }

    /// How many values the header `name` has.
    fn count(&self, name: &str) -> usize {
        let mut n = 0;
        self.each(name, &mut |_| n += 1);
        n
    }

    /// Calls `f` with every header — its name (any case) and value, in the order received —
    /// and returns `true`; or returns `false` without calling `f` when the carrier cannot list
    /// its headers (the default). Extraction reads a carrier that lists its headers in one pass
    /// instead of one lookup per header name.
    ///
    /// ```
    /// use trace_context::codec::Extractor;
    /// let pairs = [("b3", "0"), ("accept", "*/*")];
    /// let mut names = Vec::new();
    /// assert!(pairs.as_slice().for_each_header(&mut |name, _| names.push(name.to_owned())));
    /// assert_eq!(names, ["b3", "accept"]);
    /// ```
    fn for_each_header<'a>(&'a self, f: &mut dyn FnMut(&str, &'a [u8])) -> bool {
        let _ = f;
        false
    }
}

/// Writes headers by lowercase name. Implemented for [`http::HeaderMap`] and
/// `HashMap<String, String>`.
///
/// ```
/// use trace_context::codec::Injector;
/// let mut map = std::collections::HashMap::new();
/// map.set("x-app-trace-id", "abc");
/// assert!(map.contains("x-app-trace-id"));
/// ```
pub trait Injector {
    /// True when the header is already set (injection never overwrites it).
    fn contains(&self, name: &str) -> bool;
    /// Sets the header. `name` is a lowercase header name; `value` is visible ASCII.
    fn set(&mut self, name: &'static str, value: &str);

    /// Sets the header unless it is already present (injection never overwrites one), and
    /// returns whether it was set. The default asks [`contains`](Self::contains) first, then
    /// [`set`](Self::set); a carrier that can do both with one lookup overrides it (the
    /// `http::HeaderMap` implementation hashes the name once).
    ///
    /// ```
    /// use trace_context::codec::Injector;
    /// let mut map = std::collections::HashMap::new();
    /// assert!(map.set_if_absent("x-app-trace-id", "abc"));
    /// assert!(!map.set_if_absent("x-app-trace-id", "other"));
    /// assert_eq!(map["x-app-trace-id"], "abc");
    /// ```
    fn set_if_absent(&mut self, name: &'static str, value: &str) -> bool {
        if self.contains(name) {
            return false;
        }
        self.set(name, value);
        true
    }
}

impl Extractor for http::HeaderMap {
    fn each<'a>(&'a self, name: &str, f: &mut dyn FnMut(&'a [u8])) {
        for v in self.get_all(name) {
            f(v.as_bytes());
        }
    }

    fn first(&self, name: &str) -> Option<&[u8]> {
        self.get(name).map(|v| v.as_bytes())
    }

    fn for_each_header<'a>(&'a self, f: &mut dyn FnMut(&str, &'a [u8])) -> bool {
        for (name, value) in self {
            f(name.as_str(), value.as_bytes());
        }
        true
    }
}

impl Injector for http::HeaderMap {
    fn contains(&self, name: &str) -> bool {
        match known_header(name) {
            Some(known) => self.contains_key(known),
            None => self.contains_key(name),
        }
    }

    fn set(&mut self, name: &'static str, value: &str) {
        let (Some(name), Some(value)) = (header_name(name), header_value(value)) else {
            return;
        };
        self.insert(name, value);
    }

    fn set_if_absent(&mut self, name: &'static str, value: &str) -> bool {
        let Some(name) = header_name(name) else {
            return false;
        };
        // One hash of the name for the look-up and the insertion.
        match self.entry(name) {
            http::header::Entry::Occupied(_) => false,
            http::header::Entry::Vacant(slot) => match header_value(value) {
                Some(value) => {
                    slot.insert(value);
                    true
                }
                None => false,
            },
        }
    }
}

/// The `HeaderName` for a name the codecs write (ready-made) or a configured one; `None` for a
/// configured name that is not a valid header name (skipped, never a panic).
fn header_name(name: &str) -> Option<http::HeaderName> {
    known_header(name).or_else(|| http::HeaderName::from_bytes(name.as_bytes()).ok())
}

/// The `HeaderValue` for a value the codecs write (`None` if it is not a valid one).
fn header_value(value: &str) -> Option<http::HeaderValue> {
    match value {
        "0" => Some(http::HeaderValue::from_static("0")),
        "1" => Some(http::HeaderValue::from_static("1")),
        _ => http::HeaderValue::from_str(value).ok(),
    }
}

/// The headers the codecs write, as ready-made names: no parsing of the name per call.
fn known_header(name: &str) -> Option<http::HeaderName> {
    use super::{b3, propagation::X_APP_TRACE_ID, w3c};
    const APP: http::HeaderName = http::HeaderName::from_static(X_APP_TRACE_ID);
    const TRACEPARENT: http::HeaderName = http::HeaderName::from_static(w3c::TRACEPARENT);
    const TRACESTATE: http::HeaderName = http::HeaderName::from_static(w3c::TRACESTATE);
    const B3: http::HeaderName = http::HeaderName::from_static(b3::B3);
    const TRACE_ID: http::HeaderName = http::HeaderName::from_static(b3::X_B3_TRACE_ID);
    const SPAN_ID: http::HeaderName = http::HeaderName::from_static(b3::X_B3_SPAN_ID);
    const PARENT: http::HeaderName = http::HeaderName::from_static(b3::X_B3_PARENT_SPAN_ID);
    const SAMPLED: http::HeaderName = http::HeaderName::from_static(b3::X_B3_SAMPLED);
    const FLAGS: http::HeaderName = http::HeaderName::from_static(b3::X_B3_FLAGS);
    Some(match name {
        X_APP_TRACE_ID => APP,
        w3c::TRACEPARENT => TRACEPARENT,
        w3c::TRACESTATE => TRACESTATE,
        b3::B3 => B3,
        b3::X_B3_TRACE_ID => TRACE_ID,
        b3::X_B3_SPAN_ID => SPAN_ID,
        b3::X_B3_PARENT_SPAN_ID => PARENT,
        b3::X_B3_SAMPLED => SAMPLED,
        b3::X_B3_FLAGS => FLAGS,
        _ => return None,
    })
}

impl Extractor for HashMap<String, String> {
    fn each<'a>(&'a self, name: &str, f: &mut dyn FnMut(&'a [u8])) {
        if let Some(v) = self.get(name) {
            f(v.as_bytes());
        }
    }

    fn for_each_header<'a>(&'a self, f: &mut dyn FnMut(&str, &'a [u8])) -> bool {
        for (name, value) in self {
            f(name, value.as_bytes());
        }
        true
    }
}

impl Injector for HashMap<String, String> {
    fn contains(&self, name: &str) -> bool {
        self.contains_key(name)
    }

    fn set(&mut self, name: &'static str, value: &str) {
        self.insert(name.to_owned(), value.to_owned());
    }
}

impl<N: AsRef<str>, V: AsRef<[u8]>> Extractor for [(N, V)] {
    fn each<'a>(&'a self, name: &str, f: &mut dyn FnMut(&'a [u8])) {
        for (n, v) in self {
            if n.as_ref().eq_ignore_ascii_case(name) {
                f(v.as_ref());
            }
        }
    }

    fn for_each_header<'a>(&'a self, f: &mut dyn FnMut(&str, &'a [u8])) -> bool {
        for (n, v) in self {
            f(n.as_ref(), v.as_ref());
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::Propagation;
    use crate::Context;

    #[test]
    fn an_invalid_configured_header_name_is_skipped_not_a_panic() {
        let mut headers = http::HeaderMap::new();
        Propagation::default()
            .app_header("bad name\r\n")
            .inject(&Context::new_root(), &mut headers);
        // The other formats are written; the badly named one is not.
        assert!(headers.contains_key("traceparent"));
        assert!(headers.contains_key("x-b3-traceid"));
        assert_eq!(headers.len(), 4, "{headers:?}");
    }

    #[test]
    fn set_if_absent_never_overwrites_and_skips_bad_names_and_values() {
        let mut headers = http::HeaderMap::new();
        headers.insert("traceparent", http::HeaderValue::from_static("by-hand"));
        assert!(!headers.set_if_absent("traceparent", "00-x"));
        assert_eq!(headers["traceparent"], "by-hand");
        assert!(headers.set_if_absent("x-b3-sampled", "1"));
        assert!(headers.set_if_absent("x-custom-id", "abc"));
        assert_eq!(headers["x-b3-sampled"], "1");
        assert_eq!(headers["x-custom-id"], "abc");
        assert!(!headers.set_if_absent("bad name", "abc"));
        assert!(!headers.set_if_absent("x-other-id", "bad\nvalue"));
        assert!(!headers.contains_key("x-other-id"));
        assert_eq!(headers.len(), 3, "{headers:?}");
    }

    #[test]
    fn known_names_and_others_are_found_alike() {
        let mut headers = http::HeaderMap::new();
        headers.set("x-b3-sampled", "1");
        headers.set("x-custom-id", "abc");
        assert!(headers.contains("x-b3-sampled"));
        assert!(headers.contains("x-custom-id"));
        assert_eq!(headers["x-b3-sampled"], "1");
        assert_eq!(headers["x-custom-id"], "abc");
    }
}
