//! The logback-compatible pattern: parsed once ([`parse`]), written per event without
//! allocating ([`Pattern::write`]).

mod abbrev;
mod parse;

use std::cell::RefCell;
use std::fmt::{self, Write};
use std::time::Instant;

use trace_context::{Context, MdcKey, MdcValue};

use crate::escape::{LineEscape, LineEscaper};
use crate::fields::{write_members_as_pairs, MessageVisitor, PairsVisitor};
use crate::line::{Line, StoredFields};
use crate::thread_name;
use crate::time::format::DateFormat;

pub(crate) use parse::parse;

/// A parsed pattern.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    items: Box<[Item]>,
    /// For `%relative`.
    started: Instant,
    /// Some conversion prints the time: read the clock per event.
    needs_time: bool,
    needs_span_fields: bool,
}

#[derive(Debug, Clone)]
enum Item {
    Literal(Box<str>),
    Newline,
    Conversion(Conversion, Option<Modifier>),
}

/// What a `%word` prints.
#[derive(Debug, Clone)]
enum Conversion {
    Date(DateFormat),
    Relative,
    Level,
    Thread,
    Logger(Option<usize>),
    Line,
    File,
    Module,
    Message,
    Mdc {
        /// Resolved when the pattern is parsed: each line reads the value directly.
        key: MdcKey<'static>,
        default: Option<Box<str>>,
    },
    MdcAll,
    TraceId,
    SpanId,
    ParentId,
    AppTraceId,
    /// SkyWalking's `%tid`: `TID:<id>`, `TID: N/A` outside a trace.
    Tid,
    Fields(FieldScope),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FieldScope {
    All,
    Event,
    Spans,
}

/// Logback's format modifier: `%-20.30logger`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Modifier {
    min: usize,
    max: Option<usize>,
    /// `-` before the minimum: pad on the right.
    left_align: bool,
    /// `-` after the dot: cut the end (keep the start) instead of the beginning.
    truncate_end: bool,
}

impl Pattern {
    /// True when a conversion prints the time.
    pub(crate) fn needs_time(&self) -> bool {
        self.needs_time
    }

    /// True when a conversion prints span fields (`%fields`, `%fields{spans}`).
    pub(crate) fn needs_span_fields(&self) -> bool {
        self.needs_span_fields
    }

    /// Writes one line.
    pub(crate) fn write<W: Write + ?Sized>(&self, out: &mut W, line: &Line<'_>) -> fmt::Result {
        for item in self.items.iter() {
            match item {
                Item::Literal(s) => out.write_str(s)?,
                Item::Newline => out.write_char('\n')?,
                Item::Conversion(c, None) => self.write_conversion(c, out, line)?,
                // Padded on the right, never cut (`%-5level`): written straight through, the
                // padding after it.
                Item::Conversion(c, Some(m)) if m.left_align && m.max.is_none() => {
                    let mut counted = CharCounter { out, chars: 0 };
                    self.write_conversion(c, &mut counted, line)?;
                    let written = counted.chars;
                    write_spaces(out, m.min.saturating_sub(written))?;
                }
                Item::Conversion(c, Some(m)) => with_scratch(|scratch| {
                    self.write_conversion(c, scratch, line)?;
                    m.apply(out, scratch)
                })?,
            }
        }
        Ok(())
    }

    fn write_conversion<W: Write + ?Sized>(
        &self,
        c: &Conversion,
        out: &mut W,
        line: &Line<'_>,
    ) -> fmt::Result {
        let opts = line.opts;
        let placeholder = &*opts.placeholder;
        match c {
            Conversion::Date(f) => f.write(out, line.now, opts.zone),
            Conversion::Relative => {
                write!(out, "{}", self.started.elapsed().as_millis())
            }
            Conversion::Level => out.write_str(line.meta.level().as_str()),
            Conversion::Thread => {
                thread_name::with(|n| LineEscaper::new(out, LineEscape::Strict).write_str(n))
            }
            Conversion::Logger(len) => {
                let mut esc = LineEscaper::new(out, LineEscape::Strict);
                match len {
                    Some(n) => abbrev::write_abbreviated(&mut esc, line.meta.target(), *n),
                    None => esc.write_str(line.meta.target()),
                }
            }
            Conversion::Line => match line.meta.line() {
                Some(l) => write!(out, "{l}"),
                None => out.write_char('?'),
            },
            Conversion::File => match line.meta.file() {
                Some(f) => LineEscaper::new(out, LineEscape::Strict).write_str(f),
                None => out.write_char('?'),
            },
            Conversion::Module => match line.meta.module_path() {
                Some(m) => LineEscaper::new(out, LineEscape::Strict).write_str(m),
                None => out.write_char('?'),
            },
            Conversion::Message => {
                let mut esc = LineEscaper::new(out, opts.value_escape());
                let mut v = MessageVisitor::new(&mut esc);
                line.event.record(&mut v);
                v.result
            }
            Conversion::Mdc { key, default } => write_mdc(
                out,
                line.ctx,
                key,
                default.as_deref().unwrap_or(placeholder),
                opts,
            ),
            Conversion::MdcAll => match line.ctx {
                Some(ctx) => write_all_mdc(out, ctx, opts.value_escape()),
                None => Ok(()),
            },
            Conversion::TraceId => match line.ctx {
                Some(c) => out.write_str(&c.trace_id_text()),
                None => out.write_str(placeholder),
            },
            Conversion::SpanId => match line.ctx {
                Some(c) => out.write_str(&c.span_id().to_hex()),
                None => out.write_str(placeholder),
            },
            Conversion::ParentId => match line.ctx.and_then(Context::parent_span_id) {
                Some(p) => out.write_str(&p.to_hex()),
                None => out.write_str(placeholder),
            },
            Conversion::AppTraceId => match line.ctx {
                // Validated by trace-context; escaped all the same.
                Some(c) => LineEscaper::new(out, LineEscape::Strict).write_str(&c.app_id_text()),
                None => out.write_str(placeholder),
            },
            Conversion::Tid => match line.ctx {
                Some(c) => {
                    out.write_str("TID:")?;
                    out.write_str(&c.trace_id_text())
                }
                None => out.write_str("TID: N/A"),
            },
            Conversion::Fields(scope) => {
                let mut esc = LineEscaper::new(out, opts.value_escape());
                if *scope != FieldScope::Spans {
                    let mut v = PairsVisitor::new(&mut esc, line.is_log);
                    line.event.record(&mut v);
                    v.result?;
                }
                if *scope != FieldScope::Event {
                    line.spans
                        .visit_from_root(&mut |_name, stored| match stored {
                            StoredFields::Members(m) => write_members_as_pairs(&mut esc, m),
                            StoredFields::Text(t) if !t.is_empty() => {
                                esc.write_char(' ')?;
                                esc.write_str(t)
                            }
                            _ => Ok(()),
                        })?;
                }
                Ok(())
            }
        }
    }
}

/// `%X{key}`: the value `trace_context::Context::get` gives for the key, or `missing`.
fn write_mdc<W: Write + ?Sized>(
    out: &mut W,
    ctx: Option<&Context>,
    key: &MdcKey<'_>,
    missing: &str,
    opts: &crate::line::Options,
) -> fmt::Result {
    let Some(c) = ctx else {
        return out.write_str(missing);
    };
    // The ids are hex digits made by trace-context: nothing to escape. The texts (the
    // application id, user fields, the sampled flag) are escaped.
    match c.get_key(key) {
        Some(MdcValue::Str(text)) => LineEscaper::new(out, opts.value_escape()).write_str(text),
        Some(id) => out.write_str(&id),
        None => out.write_str(missing),
    }
}

/// `%X`: the user's MDC fields as `k1=v1, k2=v2`.
fn write_all_mdc<W: Write + ?Sized>(out: &mut W, ctx: &Context, escape: LineEscape) -> fmt::Result {
    let mut esc = LineEscaper::new(out, escape);
    for (i, (k, v)) in ctx.fields().enumerate() {
        if i > 0 {
            esc.write_str(", ")?;
        }
        esc.write_str(k)?;
        esc.write_char('=')?;
        esc.write_str(v)?;
    }
    Ok(())
}

thread_local! {
    /// Where a conversion with a modifier is written before it is padded or cut.
    static SCRATCH: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Runs `f` with an empty reusable buffer (a fresh one if this thread's is in use, which only
/// happens when formatting re-enters itself, e.g. a `Debug` impl that logs).
fn with_scratch(mut f: impl FnMut(&mut String) -> fmt::Result) -> fmt::Result {
    let res = SCRATCH.try_with(|s| match s.try_borrow_mut() {
        Ok(mut s) => {
            s.clear();
            let r = f(&mut s);
            // Keep the memory for the next line, but not without bound.
            if s.capacity() > 64 * 1024 {
                *s = String::new();
            }
            Some(r)
        }
        Err(_) => None,
    });
    match res {
        Ok(Some(r)) => r,
        _ => f(&mut String::new()),
    }
}

/// Passes text through, counting its characters.
struct CharCounter<'a, W: Write + ?Sized> {
    out: &'a mut W,
    chars: usize,
}

impl<W: Write + ?Sized> Write for CharCounter<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.chars += s.chars().count();
        self.out.write_str(s)
    }
}

const SPACES: &str = "                                                                ";

fn write_spaces<W: Write + ?Sized>(out: &mut W, mut n: usize) -> fmt::Result {
    while n > 0 {
        let k = n.min(SPACES.len());
        out.write_str(&SPACES[..k])?;
        n -= k;
    }
    Ok(())
}

/// The byte index of the `n`th character of `s` (`s.len()` past the end).
fn char_index(s: &str, n: usize) -> usize {
    s.char_indices().nth(n).map_or(s.len(), |(i, _)| i)
}

impl Modifier {
    /// Writes `s` cut to `max` and padded to `min` characters.
    fn apply<W: Write + ?Sized>(&self, out: &mut W, s: &str) -> fmt::Result {
        let mut len = s.chars().count();
        let mut text = s;
        if let Some(max) = self.max {
            if len > max {
                text = if self.truncate_end {
                    &s[..char_index(s, max)]
                } else {
                    &s[char_index(s, len - max)..]
                };
                len = max;
            }
        }
        if len >= self.min {
            return out.write_str(text);
        }
        if self.left_align {
            out.write_str(text)?;
            write_spaces(out, self.min - len)
        } else {
            write_spaces(out, self.min - len)?;
            out.write_str(text)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(min: usize, max: Option<usize>, left_align: bool, truncate_end: bool) -> Modifier {
        Modifier {
            min,
            max,
            left_align,
            truncate_end,
        }
    }

    fn apply(m: Modifier, s: &str) -> String {
        let mut out = String::new();
        m.apply(&mut out, s).unwrap();
        out
    }

    #[test]
    fn resolved_keys_read_what_context_get_reads() {
        use trace_context::{AppTraceId, Context, Sampling, SpanId, TraceId};
        let app = AppTraceId::parse(b"web-1716268000123-42").unwrap();
        let parent = Context::builder(app.trace_id())
            .app_trace_id(app)
            .sampling(Sampling::Sampled)
            .field("service", "order")
            .field("traceId", "shadowed")
            .build();
        let child = parent.child();
        let short = Context::builder(TraceId::from_u128(10).unwrap())
            .span_id(SpanId::from_u64(11).unwrap())
            .sampling(Sampling::NotSampled)
            .build();
        let keys = [
            "traceId",
            "spanId",
            "parentId",
            "sampled",
            "appTraceId",
            "service",
            "missing",
        ];
        let opts = crate::line::Options::default();
        for ctx in [&parent, &child, &short] {
            for key in keys {
                let mut out = String::new();
                write_mdc(&mut out, Some(ctx), &MdcKey::parse(key), "none", &opts).unwrap();
                let expected = ctx.get(key).map_or("none".to_owned(), |v| v.to_string());
                assert_eq!(out, expected, "{key} of {ctx:?}");
            }
        }
        let mut out = String::new();
        write_mdc(&mut out, None, &MdcKey::parse("traceId"), "-", &opts).unwrap();
        assert_eq!(out, "-");
    }

    #[test]
    fn modifiers_pad_and_truncate_like_logback() {
        assert_eq!(apply(m(5, None, true, false), "INFO"), "INFO ");
        assert_eq!(apply(m(5, None, false, false), "INFO"), " INFO");
        assert_eq!(apply(m(5, None, false, false), "WARNING"), "WARNING");
        assert_eq!(apply(m(0, Some(3), false, false), "abcdef"), "def");
        assert_eq!(apply(m(0, Some(3), false, true), "abcdef"), "abc");
        assert_eq!(apply(m(6, Some(8), false, false), "abc"), "   abc");
        assert_eq!(apply(m(6, Some(8), true, true), "abcdefghijk"), "abcdefgh");
        assert_eq!(
            apply(m(3, Some(3), false, false), "日本語テキスト"),
            "キスト"
        );
        assert_eq!(apply(m(100, None, true, false), "x").len(), 100);
        assert_eq!(apply(m(0, Some(0), false, false), "abc"), "");
    }
}
