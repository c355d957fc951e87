//! One pass over a carrier's headers, keeping the values the codecs read.
//!
//! Looking up nine header names one by one costs a hash and (for `http::HeaderMap` with `&str`
//! names) a name parse each; a request has a handful of headers, so walking them once and
//! keeping ours is several times cheaper. [`Gathered`] then answers the codecs' lookups from
//! what it kept, with the same semantics as the carrier (values in received order).

use super::b3::{B3, X_B3_FLAGS, X_B3_PARENT_SPAN_ID, X_B3_SAMPLED, X_B3_SPAN_ID, X_B3_TRACE_ID};
use super::w3c::{TRACEPARENT, TRACESTATE};
use super::Extractor;

/// More `tracestate` headers than this and the extraction ignores `tracestate` (it keeps one
/// more so the caller can tell).
pub(crate) const MAX_TRACESTATE_HEADERS: usize = 8;

/// The propagation headers of one request.
pub(crate) struct Gathered<'a> {
    app_name: Option<&'a str>,
    app: Option<&'a [u8]>,
    traceparent: Option<&'a [u8]>,
    traceparent_count: u8,
    /// `None`-initialised (all zero bytes): cheaper to set up than empty slices.
    tracestate: [Option<&'a [u8]>; MAX_TRACESTATE_HEADERS + 1],
    tracestate_count: usize,
    b3: Option<&'a [u8]>,
    b3_trace: Option<&'a [u8]>,
    b3_span: Option<&'a [u8]>,
    b3_parent: Option<&'a [u8]>,
    b3_sampled: Option<&'a [u8]>,
    b3_flags: Option<&'a [u8]>,
    /// Any B3 header (single or multi) was seen.
    b3_seen: bool,
}

impl<'a> Gathered<'a> {
    /// Reads `carrier` in one pass, or returns `None` when it cannot list its headers.
    pub(crate) fn scan<E: Extractor + ?Sized>(
        carrier: &'a E,
        app_name: Option<&'a str>,
    ) -> Option<Gathered<'a>> {
        let mut g = Gathered::new(app_name);
        carrier
            .for_each_header(&mut |name, value| {
                g.add::<false>(name, value);
            })
            .then_some(g)
    }

    /// [`Gathered::scan`] of an `http::HeaderMap` (whose names are lowercase) into `self` (a
    /// [`Gathered::new`]), with no callback per header; returns the first application id
    /// header's `HeaderValue` itself.
    #[inline]
    pub(crate) fn scan_header_map(
        &mut self,
        map: &'a http::HeaderMap,
    ) -> Option<&'a http::HeaderValue> {
        let mut app_value = None;
        for (name, value) in map {
            if self.add::<true>(name.as_str(), value.as_bytes()) && app_value.is_none() {
                app_value = Some(value);
            }
        }
        app_value
    }

    pub(crate) fn new(app_name: Option<&'a str>) -> Gathered<'a> {
        Gathered {
            app_name,
            app: None,
            traceparent: None,
            traceparent_count: 0,
            tracestate: [None; MAX_TRACESTATE_HEADERS + 1],
            tracestate_count: 0,
            b3: None,
            b3_trace: None,
            b3_span: None,
            b3_parent: None,
            b3_sampled: None,
            b3_flags: None,
            b3_seen: false,
        }
    }

    /// The first application id header's value.
    pub(crate) fn app(&self) -> Option<&'a [u8]> {
        self.app
    }

    /// The `traceparent` value when exactly one header came (two or more are invalid).
    pub(crate) fn single_traceparent(&self) -> Option<&'a [u8]> {
        self.traceparent.filter(|_| self.traceparent_count == 1)
    }

    /// The `tracestate` values (`None` when more than [`MAX_TRACESTATE_HEADERS`] came), in
    /// a buffer of the caller's.
    pub(crate) fn tracestates<'b>(
        &self,
        buf: &'b mut [&'a [u8]; MAX_TRACESTATE_HEADERS],
    ) -> Option<&'b [&'a [u8]]> {
        if self.tracestate_count > MAX_TRACESTATE_HEADERS {
            return None;
        }
        for (slot, value) in buf.iter_mut().zip(self.tracestate.iter().flatten()) {
            *slot = value;
        }
        Some(&buf[..self.tracestate_count])
    }

    /// True when any B3 header (single or multi) was seen.
    pub(crate) fn has_b3(&self) -> bool {
        self.b3_seen
    }

    /// Keeps `value` when `name` is one of ours; true when it is the application id header.
    /// `LOWER`: the carrier's names are known to be lowercase (compared as they are).
    #[inline]
    fn add<const LOWER: bool>(&mut self, name: &str, value: &'a [u8]) -> bool {
        let is = |known: &str| {
            if LOWER {
                name == known
            } else {
                same_name(name, known)
            }
        };
        if self.app_name.is_some_and(is) {
            self.app.get_or_insert(value);
            return true;
        }
        // Dispatch on the length first: most headers of a request are none of ours.
        let slot = match name.len() {
            2 if is(B3) => &mut self.b3,
            10 if is(TRACESTATE) => {
                if self.tracestate_count < self.tracestate.len() {
                    self.tracestate[self.tracestate_count] = Some(value);
                    self.tracestate_count += 1;
                }
                return false;
            }
            10 if is(X_B3_FLAGS) => &mut self.b3_flags,
            11 if is(TRACEPARENT) => {
                self.traceparent_count = self.traceparent_count.saturating_add(1);
                self.traceparent.get_or_insert(value);
                return false;
            }
            11 if is(X_B3_SPAN_ID) => &mut self.b3_span,
            12 if is(X_B3_TRACE_ID) => &mut self.b3_trace,
            12 if is(X_B3_SAMPLED) => &mut self.b3_sampled,
            17 if is(X_B3_PARENT_SPAN_ID) => &mut self.b3_parent,
            _ => return false,
        };
        // Every slot left is a B3 one.
        self.b3_seen = true;
        slot.get_or_insert(value);
        false
    }
}

/// Header names compare without regard to case.
#[inline(always)]
fn same_name(name: &str, known: &str) -> bool {
    name.len() == known.len() && name.eq_ignore_ascii_case(known)
}

impl Extractor for Gathered<'_> {
    fn each<'b>(&'b self, name: &str, f: &mut dyn FnMut(&'b [u8])) {
        if name == TRACESTATE {
            for v in self.tracestate.iter().flatten() {
                f(v);
            }
        } else if name == TRACEPARENT {
            // Only the first value and how many there were matter to the codecs.
            if let Some(v) = self.traceparent {
                for _ in 0..self.traceparent_count {
                    f(v);
                }
            }
        } else if let Some(v) = self.first(name) {
            f(v);
        }
    }

    fn first(&self, name: &str) -> Option<&[u8]> {
        if Some(name) == self.app_name {
            return self.app;
        }
        match name {
            B3 => self.b3,
            X_B3_TRACE_ID => self.b3_trace,
            X_B3_SPAN_ID => self.b3_span,
            X_B3_PARENT_SPAN_ID => self.b3_parent,
            X_B3_SAMPLED => self.b3_sampled,
            X_B3_FLAGS => self.b3_flags,
            TRACEPARENT => self.traceparent,
            TRACESTATE => self.tracestate[0],
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_first_values_counts_and_all_tracestates() {
        let headers = [
            ("X-B3-TraceId", "a"),
            ("x-b3-traceid", "b"),
            ("traceparent", "t1"),
            ("TraceParent", "t2"),
            ("tracestate", "s1"),
            ("tracestate", "s2"),
            ("x-app-trace-id", "app"),
            ("accept", "x"),
        ];
        let g = Gathered::scan(headers.as_slice(), Some("x-app-trace-id")).unwrap();
        assert_eq!(g.first(X_B3_TRACE_ID), Some(b"a".as_slice()));
        assert_eq!(g.count(TRACEPARENT), 2);
        assert_eq!(g.first(TRACEPARENT), Some(b"t1".as_slice()));
        let mut states = Vec::new();
        g.each(TRACESTATE, &mut |v| states.push(v));
        assert_eq!(states, [b"s1".as_slice(), b"s2".as_slice()]);
        assert_eq!(g.first("x-app-trace-id"), Some(b"app".as_slice()));
        assert_eq!(g.first("accept"), None);
        assert!(g.has_b3());
        let none = Gathered::scan([("accept", "x")].as_slice(), None).unwrap();
        assert!(!none.has_b3());
        let w3c_only = [("traceparent", "t"), ("tracestate", "s")];
        assert!(!Gathered::scan(w3c_only.as_slice(), None).unwrap().has_b3());
        for name in [
            "b3",
            "X-B3-Flags",
            "x-b3-sampled",
            "x-b3-spanid",
            "x-b3-parentspanid",
        ] {
            let one = [(name, "1")];
            assert!(
                Gathered::scan(one.as_slice(), None).unwrap().has_b3(),
                "{name}"
            );
        }
    }

    #[test]
    fn keeps_one_tracestate_more_than_the_limit() {
        let headers: Vec<(&str, &str)> = (0..20).map(|_| ("tracestate", "a=b")).collect();
        let g = Gathered::scan(headers.as_slice(), None).unwrap();
        assert_eq!(g.count(TRACESTATE), MAX_TRACESTATE_HEADERS + 1);
    }
}
