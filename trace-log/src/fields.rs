//! Field visitors: the message, event fields as ` key=value` pairs or JSON members, and
//! [`TraceFields`], which stores span fields as JSON members.

use std::fmt::{self, Write};

use tracing_core::field::{Field, Visit};
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FormatFields, FormattedFields};

use crate::escape::{write_json_str, JsonEscaper};

/// The name of the field that holds an event's message.
pub(crate) const MESSAGE: &str = "message";

/// True for the fields `tracing-log` adds to events from the `log` crate.
#[inline]
fn is_log_field(name: &str) -> bool {
    name.starts_with("log.")
}

/// Writes only the `message` field.
pub(crate) struct MessageVisitor<'a, W: Write + ?Sized> {
    out: &'a mut W,
    pub(crate) result: fmt::Result,
}

impl<'a, W: Write + ?Sized> MessageVisitor<'a, W> {
    pub(crate) fn new(out: &'a mut W) -> Self {
        MessageVisitor {
            out,
            result: Ok(()),
        }
    }
}

impl<W: Write + ?Sized> Visit for MessageVisitor<'_, W> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == MESSAGE && self.result.is_ok() {
            self.result = self.out.write_str(value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == MESSAGE && self.result.is_ok() {
            self.result = write!(self.out, "{value:?}");
        }
    }
}

/// Writes every field but the message (and `log.*` on `log` events) as ` key=value`.
pub(crate) struct PairsVisitor<'a, W: Write + ?Sized> {
    out: &'a mut W,
    skip_log: bool,
    pub(crate) result: fmt::Result,
}

impl<'a, W: Write + ?Sized> PairsVisitor<'a, W> {
    pub(crate) fn new(out: &'a mut W, skip_log: bool) -> Self {
        PairsVisitor {
            out,
            skip_log,
            result: Ok(()),
        }
    }

    fn key(&mut self, field: &Field) -> bool {
        let name = field.name();
        if self.result.is_err() || name == MESSAGE || (self.skip_log && is_log_field(name)) {
            return false;
        }
        self.result = self
            .out
            .write_char(' ')
            .and_then(|_| self.out.write_str(name))
            .and_then(|_| self.out.write_char('='));
        self.result.is_ok()
    }
}

impl<W: Write + ?Sized> Visit for PairsVisitor<'_, W> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if self.key(field) {
            self.result = self.out.write_str(value);
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if self.key(field) {
            self.result = write!(self.out, "{value}");
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.key(field) {
            self.result = write!(self.out, "{value:?}");
        }
    }
}

/// Writes fields as JSON object members (`"key":value`), separated by commas. `open` is written
/// before the first member (e.g. `,"fields":{`); `wrote_any` tells whether to close it.
pub(crate) struct JsonVisitor<'a, W: Write + ?Sized> {
    out: &'a mut W,
    open: &'static str,
    count: usize,
    skip_message: bool,
    skip_log: bool,
    pub(crate) result: fmt::Result,
}

impl<'a, W: Write + ?Sized> JsonVisitor<'a, W> {
    pub(crate) fn new(
        out: &'a mut W,
        open: &'static str,
        skip_message: bool,
        skip_log: bool,
    ) -> Self {
        JsonVisitor {
            out,
            open,
            count: 0,
            skip_message,
            skip_log,
            result: Ok(()),
        }
    }

    /// True when at least one member was written.
    pub(crate) fn wrote_any(&self) -> bool {
        self.count > 0
    }

    fn key(&mut self, field: &Field) -> bool {
        let name = field.name();
        if self.result.is_err()
            || (self.skip_message && name == MESSAGE)
            || (self.skip_log && is_log_field(name))
        {
            return false;
        }
        let sep = if self.count == 0 { self.open } else { "," };
        self.count += 1;
        self.result = self
            .out
            .write_str(sep)
            .and_then(|_| write_json_str(self.out, name))
            .and_then(|_| self.out.write_char(':'));
        self.result.is_ok()
    }

    fn display(&mut self, field: &Field, value: impl fmt::Display) {
        if self.key(field) {
            self.result = write!(self.out, "{value}");
        }
    }

    fn string(&mut self, field: &Field, value: fmt::Arguments<'_>) {
        if self.key(field) {
            let written = self
                .out
                .write_char('"')
                .and_then(|_| JsonEscaper::new(self.out).write_fmt(value));
            // Close the string even when a `Debug` impl failed half-way: stored span fields
            // must stay valid JSON.
            let closed = self.out.write_char('"');
            self.result = written.and(closed);
        }
    }
}

impl<W: Write + ?Sized> Visit for JsonVisitor<'_, W> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        if value.is_finite() {
            self.display(field, value)
        } else {
            // NaN and the infinities have no JSON number.
            self.string(field, format_args!("{value}"))
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.display(field, value)
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.display(field, value)
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.display(field, value)
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.display(field, value)
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.display(field, value)
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if self.key(field) {
            self.result = write_json_str(self.out, value);
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.string(field, format_args!("{value}"))
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.string(field, format_args!("{value:?}"))
    }
}

/// Stores span fields for [`crate::Formatter`]: as JSON object members (`"key":value,...`), so
/// that JSON lines embed them as they are and patterns print them as ` key=value` pairs.
///
/// [`crate::Builder::layer`] sets it up; when composing a `fmt` layer by hand, pass it to
/// `fmt_fields` next to the formatter (with any other `FormatFields`, span fields are printed as
/// that one formats them, and JSON lines carry them as one string).
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt;
/// let layer = tracing_subscriber::fmt::layer()
///     .fmt_fields(trace_log::TraceFields::default())
///     .event_format(trace_log::Formatter::json());
/// let _subscriber = tracing_subscriber::registry()
///     .with(trace_context::ContextLayer::new())
///     .with(layer);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct TraceFields {
    _private: (),
}

impl<'writer> FormatFields<'writer> for TraceFields {
    fn format_fields<R: RecordFields>(
        &self,
        mut writer: Writer<'writer>,
        fields: R,
    ) -> fmt::Result {
        let mut v = JsonVisitor::new(&mut writer, "", false, false);
        fields.record(&mut v);
        v.result
    }

    fn add_fields(
        &self,
        current: &'writer mut FormattedFields<Self>,
        fields: &tracing_core::span::Record<'_>,
    ) -> fmt::Result {
        let open = if current.fields.is_empty() { "" } else { "," };
        let mut writer = current.as_writer();
        let mut v = JsonVisitor::new(&mut writer, open, false, false);
        fields.record(&mut v);
        v.result
    }
}

/// Writes JSON object members produced by [`JsonVisitor`] as ` key=value` pairs, strings
/// unescaped (the caller's writer escapes what must not reach a log line). Text that does not
/// have the expected shape is written as it is, never dropped.
pub(crate) fn write_members_as_pairs<W: Write + ?Sized>(out: &mut W, members: &str) -> fmt::Result {
    let mut rest = members;
    while !rest.is_empty() {
        let Some(after_key) = rest.strip_prefix('"') else {
            out.write_char(' ')?;
            return out.write_str(rest);
        };
        out.write_char(' ')?;
        let Some(after) = unescape_json_string(out, after_key)? else {
            return Ok(());
        };
        let Some(value) = after.strip_prefix(':') else {
            return out.write_str(after);
        };
        out.write_char('=')?;
        rest = if let Some(s) = value.strip_prefix('"') {
            match unescape_json_string(out, s)? {
                Some(after) => after,
                None => return Ok(()),
            }
        } else {
            // Numbers, booleans: up to the next member.
            let end = value.find(',').unwrap_or(value.len());
            out.write_str(&value[..end])?;
            &value[end..]
        };
        rest = rest.strip_prefix(',').unwrap_or(rest);
    }
    Ok(())
}

/// Unescapes a JSON string body that starts at `s` (after the opening quote) into `out`.
/// Returns the text after the closing quote, or `None` when the string is not closed or has a
/// bad escape (then the rest of the text has been written as it is).
fn unescape_json_string<'s, W: Write + ?Sized>(
    out: &mut W,
    s: &'s str,
) -> Result<Option<&'s str>, fmt::Error> {
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                out.write_str(&s[start..i])?;
                return Ok(Some(&s[i + 1..]));
            }
            b'\\' => {
                out.write_str(&s[start..i])?;
                let (ch, len) = match bytes.get(i + 1) {
                    Some(b'n') => ('\n', 2),
                    Some(b'r') => ('\r', 2),
                    Some(b't') => ('\t', 2),
                    Some(b'b') => ('\u{8}', 2),
                    Some(b'f') => ('\u{c}', 2),
                    Some(b'/') => ('/', 2),
                    Some(b'"') => ('"', 2),
                    Some(b'\\') => ('\\', 2),
                    Some(b'u') => {
                        let code = s
                            .get(i + 2..i + 6)
                            .and_then(|h| u32::from_str_radix(h, 16).ok());
                        match code {
                            Some(c) => (char::from_u32(c).unwrap_or('\u{fffd}'), 6),
                            None => return out.write_str(&s[i..]).map(|_| None),
                        }
                    }
                    _ => return out.write_str(&s[i..]).map(|_| None),
                };
                out.write_char(ch)?;
                i += len;
                start = i;
            }
            _ => i += 1,
        }
    }
    out.write_str(&s[start..])?;
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(members: &str) -> String {
        let mut s = String::new();
        write_members_as_pairs(&mut s, members).unwrap();
        s
    }

    #[test]
    fn members_become_pairs() {
        assert_eq!(pairs(r#""a":1,"b":"x y","c":true"#), " a=1 b=x y c=true");
        assert_eq!(
            pairs(r#""q":"say \"hi\"\n\\ \u0001""#),
            " q=say \"hi\"\n\\ \u{1}"
        );
        assert_eq!(pairs(""), "");
    }

    #[test]
    fn malformed_members_are_kept_not_dropped() {
        assert_eq!(pairs("a=1 b=2"), " a=1 b=2");
        assert_eq!(pairs(r#""open"#), " open");
        assert_eq!(pairs(r#""k"x"#), " kx");
    }
}
