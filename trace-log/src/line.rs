//! What a formatter sees of one event: the event, its metadata, the trace context, the time,
//! the options, and the fields of the spans it happened in.

use std::fmt;

use trace_context::Context;
use tracing_core::{Event, Metadata};

use crate::escape::LineEscape;
use crate::time::{TimeZone, Timestamp};

/// Options shared by both styles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Options {
    /// The zone of dates that name none, and of JSON timestamps.
    pub(crate) zone: TimeZone,
    /// Printed for a trace value (id, MDC key) that is absent, e.g. outside any request.
    pub(crate) placeholder: Box<str>,
    /// Let CR/LF in messages and field values through in pattern lines.
    pub(crate) multiline: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            zone: TimeZone::Utc,
            placeholder: "".into(),
            multiline: false,
        }
    }
}

impl Options {
    /// How messages and field values are escaped in pattern lines.
    pub(crate) fn value_escape(&self) -> LineEscape {
        if self.multiline {
            LineEscape::AllowNewlines
        } else {
            LineEscape::Strict
        }
    }
}

/// The fields a span stored, as the formatter finds them.
pub(crate) enum StoredFields<'a> {
    /// JSON object members written by [`crate::TraceFields`].
    Members(&'a str),
    /// Text written by another `FormatFields`.
    Text(&'a str),
    /// Nothing stored.
    Missing,
}

/// The spans an event happened in.
pub(crate) trait SpanSource {
    /// Calls `f` with each span's name and fields, outermost first.
    fn visit_from_root(
        &self,
        f: &mut dyn FnMut(&str, StoredFields<'_>) -> fmt::Result,
    ) -> fmt::Result;
}

/// One event, ready to be written.
pub(crate) struct Line<'a> {
    pub(crate) event: &'a Event<'a>,
    /// The event's metadata, or for `log` records the metadata `tracing-log` normalised.
    pub(crate) meta: &'a Metadata<'a>,
    /// The event came from the `log` crate: its `log.*` fields are not printed.
    pub(crate) is_log: bool,
    pub(crate) ctx: Option<&'a Context>,
    pub(crate) now: Timestamp,
    pub(crate) opts: &'a Options,
    pub(crate) spans: &'a dyn SpanSource,
}
