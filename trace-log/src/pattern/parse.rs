//! The pattern parser: `%[-][min][.[-]max]word[{options}]`, literal text, `%%` and `\` escapes.

use std::time::Instant;

use trace_context::MdcKey;

use super::{Conversion, FieldScope, Item, Modifier, Pattern};
use crate::error::PatternError;
use crate::time::format::DateFormat;
use crate::time::TimeZone;

/// The largest width a modifier may ask for.
const MAX_WIDTH: usize = 1000;

/// Parses a pattern, or says where and why it is malformed.
pub(crate) fn parse(pattern: &str) -> Result<Pattern, PatternError> {
    Parser {
        pattern,
        bytes: pattern.as_bytes(),
        i: 0,
    }
    .run()
}

struct Parser<'p> {
    pattern: &'p str,
    bytes: &'p [u8],
    i: usize,
}

impl<'p> Parser<'p> {
    fn err(&self, at: usize, problem: impl Into<String>) -> PatternError {
        PatternError::at(self.pattern, at, problem)
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.i).copied()
    }

    fn run(mut self) -> Result<Pattern, PatternError> {
        let mut items = Vec::new();
        let mut literal = String::new();
        while let Some(b) = self.peek() {
            match b {
                b'%' => {
                    if self.bytes.get(self.i + 1) == Some(&b'%') {
                        literal.push('%');
                        self.i += 2;
                        continue;
                    }
                    let item = self.conversion()?;
                    if !literal.is_empty() {
                        items.push(Item::Literal(std::mem::take(&mut literal).into_boxed_str()));
                    }
                    items.push(item);
                }
                b'\\' => match self.bytes.get(self.i + 1) {
                    Some(&c @ (b'%' | b'\\' | b'{' | b'}' | b'(' | b')')) => {
                        literal.push(c as char);
                        self.i += 2;
                    }
                    _ => {
                        literal.push('\\');
                        self.i += 1;
                    }
                },
                _ => {
                    let ch = self.pattern[self.i..]
                        .chars()
                        .next()
                        .ok_or_else(|| self.err(self.i, "invalid text"))?;
                    literal.push(ch);
                    self.i += ch.len_utf8();
                }
            }
        }
        if !literal.is_empty() {
            items.push(Item::Literal(literal.into_boxed_str()));
        }
        let needs_time = items
            .iter()
            .any(|i| matches!(i, Item::Conversion(Conversion::Date(_), _)));
        let needs_span_fields = items.iter().any(|i| {
            matches!(
                i,
                Item::Conversion(Conversion::Fields(FieldScope::All | FieldScope::Spans), _)
            )
        });
        Ok(Pattern {
            items: items.into_boxed_slice(),
            started: Instant::now(),
            needs_time,
            needs_span_fields,
        })
    }

    /// Reads decimal digits; `None` when there are none.
    fn digits(&mut self) -> Result<Option<usize>, PatternError> {
        let start = self.i;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.i += 1;
        }
        if start == self.i {
            return Ok(None);
        }
        match self.pattern[start..self.i].parse::<usize>() {
            Ok(n) if n <= MAX_WIDTH => Ok(Some(n)),
            _ => Err(self.err(
                start,
                format!(
                    "width {} is too large (at most {MAX_WIDTH})",
                    &self.pattern[start..self.i]
                ),
            )),
        }
    }

    /// Parses one `%...` conversion; `self.i` is at the `%`.
    fn conversion(&mut self) -> Result<Item, PatternError> {
        let percent = self.i;
        self.i += 1;
        if self.peek().is_none() {
            return Err(self.err(
                percent,
                "the pattern ends with a lone '%' (write %% for a percent sign)",
            ));
        }
        let modifier = self.modifier()?;
        let word_start = self.i;
        while self.peek().is_some_and(|b| b.is_ascii_alphabetic()) {
            self.i += 1;
        }
        let word = &self.pattern[word_start..self.i];
        if word.is_empty() {
            return Err(match self.peek() {
                Some(b'(') => self.err(self.i, "composite groups %(...) are not supported"),
                None => self.err(
                    percent,
                    "the pattern ends after '%' without a conversion word",
                ),
                Some(_) => self.err(
                    word_start,
                    "missing conversion word after '%' (write %% for a percent sign)",
                ),
            });
        }
        let option = self.option()?;
        let conversion = self.build(word, word_start, option)?;
        Ok(match conversion {
            None => Item::Newline,
            Some(c) => Item::Conversion(c, modifier),
        })
    }

    /// `[-][min][.[-]max]`
    fn modifier(&mut self) -> Result<Option<Modifier>, PatternError> {
        let start = self.i;
        let left_align = self.peek() == Some(b'-');
        if left_align {
            self.i += 1;
        }
        let min = self.digits()?;
        if left_align && min.is_none() {
            return Err(self.err(start, "expected a width after '-' (as in %-5level)"));
        }
        let mut max = None;
        let mut truncate_end = false;
        if self.peek() == Some(b'.') {
            let dot = self.i;
            self.i += 1;
            if self.peek() == Some(b'-') {
                truncate_end = true;
                self.i += 1;
            }
            max = self.digits()?;
            if max.is_none() {
                return Err(self.err(
                    dot,
                    "expected a maximum width after '.' (as in %.30logger or %.-30logger)",
                ));
            }
        }
        if min.is_none() && max.is_none() {
            return Ok(None);
        }
        Ok(Some(Modifier {
            min: min.unwrap_or(0),
            max,
            left_align,
            truncate_end,
        }))
    }

    /// `{...}` after a conversion word: (byte offset of the text inside, the text).
    fn option(&mut self) -> Result<Option<(usize, &'p str)>, PatternError> {
        if self.peek() != Some(b'{') {
            return Ok(None);
        }
        let open = self.i;
        let mut in_quotes = false;
        let mut j = open + 1;
        while let Some(&b) = self.bytes.get(j) {
            match b {
                b'"' => in_quotes = !in_quotes,
                b'}' if !in_quotes => {
                    self.i = j + 1;
                    return Ok(Some((open + 1, &self.pattern[open + 1..j])));
                }
                _ => {}
            }
            j += 1;
        }
        Err(self.err(open, "unclosed '{' (an option ends with '}')"))
    }

    /// `Ok(None)` is `%n`.
    fn build(
        &self,
        word: &str,
        word_start: usize,
        option: Option<(usize, &str)>,
    ) -> Result<Option<Conversion>, PatternError> {
        let no_option = |c: Conversion| match option {
            None => Ok(Some(c)),
            Some((at, _)) => Err(self.err(at - 1, format!("%{word} takes no option"))),
        };
        match word {
            "d" | "date" => self.date(option).map(Some),
            "r" | "relative" => no_option(Conversion::Relative),
            "p" | "le" | "level" => no_option(Conversion::Level),
            "t" | "thread" => no_option(Conversion::Thread),
            "c" | "lo" | "logger" => match option {
                None => Ok(Some(Conversion::Logger(None))),
                Some((at, text)) => match text.trim().parse::<usize>() {
                    Ok(n) => Ok(Some(Conversion::Logger(Some(n)))),
                    Err(_) => Err(self.err(
                        at,
                        format!(
                            "expected a length for %{word}, as in %logger{{36}}, found {text:?}"
                        ),
                    )),
                },
            },
            "L" | "line" => no_option(Conversion::Line),
            "F" | "file" => no_option(Conversion::File),
            "module" => no_option(Conversion::Module),
            "m" | "msg" | "message" => no_option(Conversion::Message),
            "X" | "mdc" => match option {
                None => Ok(Some(Conversion::MdcAll)),
                Some((_, text)) if text.trim().is_empty() => Ok(Some(Conversion::MdcAll)),
                Some((at, text)) => {
                    let (key, default) = match text.split_once(":-") {
                        Some((k, d)) => (k.trim(), Some(d.into())),
                        None => (text.trim(), None),
                    };
                    if key.is_empty() {
                        return Err(self.err(at, "empty MDC key (as in %X{traceId:-none})"));
                    }
                    Ok(Some(Conversion::Mdc {
                        key: MdcKey::parse(key).into_owned(),
                        default,
                    }))
                }
            },
            "n" => match option {
                None => Ok(None),
                Some((at, _)) => Err(self.err(at - 1, "%n takes no option")),
            },
            "traceId" => no_option(Conversion::TraceId),
            "spanId" => no_option(Conversion::SpanId),
            "parentId" => no_option(Conversion::ParentId),
            "appTraceId" => no_option(Conversion::AppTraceId),
            "tid" => no_option(Conversion::Tid),
            "fields" => match option.map(|(at, t)| (at, t.trim())) {
                None | Some((_, "all")) => Ok(Some(Conversion::Fields(FieldScope::All))),
                Some((_, "event")) => Ok(Some(Conversion::Fields(FieldScope::Event))),
                Some((_, "span" | "spans")) => Ok(Some(Conversion::Fields(FieldScope::Spans))),
                Some((at, other)) => Err(self.err(
                    at,
                    format!("unknown %fields option {other:?} (use event, spans or all)"),
                )),
            },
            _ => Err(self.err(word_start, format!("unknown conversion word {word:?}"))),
        }
    }

    /// `%d{format, zone}`
    fn date(&self, option: Option<(usize, &str)>) -> Result<Conversion, PatternError> {
        let Some((at, text)) = option else {
            return DateFormat::parse("", None)
                .map(Conversion::Date)
                .map_err(|e| self.err(self.i, e.problem));
        };
        let parts = split_options(text);
        let mut parts = parts.iter();
        let (fmt_at, fmt) = parts.next().copied().unwrap_or((0, ""));
        let zone = match parts.next() {
            None => None,
            Some(&(zone_at, zone)) => Some(zone.parse::<TimeZone>().map_err(|e| {
                let mut problem = e.to_string();
                if !zone.is_empty() && zone.chars().all(|c| "yuMLdDHhKkmsSaE".contains(c)) {
                    problem.push_str(
                        "; a comma separates the date format from the time zone: \
                         to put a comma in the date, quote it: %d{\"HH:mm:ss,SSS\"}",
                    );
                }
                self.err(at + zone_at, problem)
            })?),
        };
        if let Some(&(extra_at, extra)) = parts.next() {
            return Err(self.err(
                at + extra_at,
                format!("unexpected date option {extra:?} (expected %d{{format, zone}})"),
            ));
        }
        DateFormat::parse(fmt, zone)
            .map(Conversion::Date)
            .map_err(|e| self.err(at + fmt_at + e.offset, e.problem))
    }
}

/// Splits `a, "b,c", d` at commas outside double quotes: (offset of each part's text, text),
/// trimmed, quotes removed.
fn split_options(text: &str) -> Vec<(usize, &str)> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut in_quotes = false;
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'"' => in_quotes = !in_quotes,
            b',' if !in_quotes => {
                parts.push(trim_part(text, start, i));
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(trim_part(text, start, text.len()));
    parts
}

fn trim_part(text: &str, start: usize, end: usize) -> (usize, &str) {
    let raw = &text[start..end];
    let lead = raw.len() - raw.trim_start().len();
    let mut part = raw.trim();
    let mut offset = start + lead;
    if part.len() >= 2 && part.starts_with('"') && part.ends_with('"') {
        part = &part[1..part.len() - 1];
        offset += 1;
    }
    (offset, part)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(p: &str) -> PatternError {
        parse(p).unwrap_err()
    }

    #[test]
    fn splits_options_outside_quotes() {
        assert_eq!(split_options("a, b"), vec![(0, "a"), (3, "b")]);
        assert_eq!(
            split_options("\"HH:mm:ss,SSS\", UTC"),
            vec![(1, "HH:mm:ss,SSS"), (16, "UTC")]
        );
        assert_eq!(split_options(""), vec![(0, "")]);
    }

    #[test]
    fn positions_and_problems() {
        let cases: &[(&str, usize, &str)] = &[
            ("abc %", 4, "lone '%'"),
            ("%-level", 1, "expected a width after '-'"),
            ("%.level", 1, "maximum width"),
            ("%5.-level", 2, "maximum width"),
            ("x %(%d %t)", 3, "composite"),
            ("%{x}", 1, "missing conversion word"),
            ("%foo", 1, "unknown conversion word \"foo\""),
            ("%msgx", 1, "unknown conversion word \"msgx\""),
            ("%X{traceId", 2, "unclosed '{'"),
            ("%level{x}", 6, "%level takes no option"),
            ("%logger{abc}", 8, "expected a length"),
            ("%d{yyyy-MM-dd Q}", 14, "'Q'"),
            ("%d{HH:mm:ss,SSS}", 12, "quote it"),
            ("%d{HH:mm, Mars/Base}", 10, "unknown time zone"),
            ("%d{HH, UTC, x}", 12, "unexpected date option"),
            ("%X{:-x}", 3, "empty MDC key"),
            ("%fields{foo}", 8, "unknown %fields option"),
            ("%2000level", 1, "too large"),
            ("%n{x}", 2, "%n takes no option"),
            ("日本 %bad", 4, "unknown conversion word"),
        ];
        for &(p, pos, problem) in cases {
            let e = err(p);
            assert_eq!(e.position(), pos, "{p}: {e}");
            assert!(e.problem().contains(problem), "{p}: {e}");
        }
    }

    #[test]
    fn escapes_and_literals() {
        let p = parse(r"100%% \%d \{x\} \q").unwrap();
        match &*p.items {
            [Item::Literal(s)] => assert_eq!(&**s, r"100% %d {x} \q"),
            other => panic!("{other:?}"),
        }
        assert!(!p.needs_time());
        assert!(parse("%d").unwrap().needs_time());
        assert!(!p.needs_span_fields());
        assert!(parse("%m%fields").unwrap().needs_span_fields());
        assert!(parse("%m%fields{spans}").unwrap().needs_span_fields());
        assert!(!parse("%m%fields{event}").unwrap().needs_span_fields());
    }
}
