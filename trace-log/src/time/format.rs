//! Logback's `%d{...}` date formats (the letters of `java.time.format.DateTimeFormatter`, which
//! logback uses), parsed once, rendered with a per-thread cache.

use std::cell::RefCell;
use std::fmt::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};

use super::{write_padded, Civil, TimeZone, Timestamp};

/// Logback's `ISO8601` date format (also what `%d` alone prints).
pub(crate) const ISO8601: &str = "yyyy-MM-dd HH:mm:ss,SSS";

/// A parsed date format.
#[derive(Debug, Clone)]
pub(crate) struct DateFormat {
    items: Box<[Item]>,
    /// `None`: the formatter's default zone.
    zone: Option<TimeZone>,
    /// Digits of the second's fraction printed (0..=9): what a cached rendering depends on.
    fraction_digits: u32,
    /// Exactly one fraction-of-second item: a rendering cached for the same second can be
    /// reused by rewriting its digits.
    single_fraction: bool,
    /// Identifies this format in the per-thread cache.
    id: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Literal(Box<str>),
    /// `y`/`u`: `TwoDigits` for `yy`, else at least this many digits.
    Year(YearStyle),
    Month(Text),
    Day(usize),
    DayOfYear(usize),
    /// `H` 0-23
    Hour24(usize),
    /// `h` 1-12
    Hour12(usize),
    /// `K` 0-11
    Hour0To11(usize),
    /// `k` 1-24
    Hour1To24(usize),
    Minute(usize),
    Second(usize),
    /// `S`..: that many digits of the second's fraction.
    Fraction(u32),
    AmPm,
    Weekday(Text),
    Offset(OffsetStyle),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum YearStyle {
    TwoDigits,
    AtLeast(usize),
}

/// A field printed as a number (with a minimum width) or as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Text {
    Number(usize),
    Short,
    Full,
    Narrow,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OffsetStyle {
    /// `Z`..`ZZZ`: `+0100`
    Basic,
    /// `ZZZZ`: `GMT+01:00`, `GMT` at zero
    Gmt,
    /// `ZZZZZ`, `XXX`: `+01:00`, `Z` at zero
    ExtendedZ,
    /// `X`: `+01`, `+0130`, `Z` at zero
    HourZ,
    /// `XX`: `+0100`, `Z` at zero
    BasicZ,
    /// `x`: `+01`, `+0130`
    Hour,
    /// `xxx`: `+01:00`
    Extended,
    /// `z`: `UTC` at zero, else `GMT+01:00`
    Name,
}

/// A problem in a date format: the byte offset within the format text and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DateFormatError {
    pub(crate) offset: usize,
    pub(crate) problem: String,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl DateFormat {
    /// Parses a date format (`ISO8601` or date letters) with an optional time zone.
    pub(crate) fn parse(text: &str, zone: Option<TimeZone>) -> Result<DateFormat, DateFormatError> {
        let source = if text.trim().is_empty() || text.trim() == "ISO8601" {
            ISO8601
        } else {
            text
        };
        let items = parse_items(source)?;
        let fraction_digits = items
            .iter()
            .map(|i| match i {
                Item::Fraction(d) => *d,
                _ => 0,
            })
            .max()
            .unwrap_or(0);
        let single_fraction = items
            .iter()
            .filter(|i| matches!(i, Item::Fraction(_)))
            .count()
            == 1;
        Ok(DateFormat {
            items: items.into_boxed_slice(),
            zone,
            fraction_digits,
            single_fraction,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        })
    }

    /// Writes `now` in this format; `default_zone` applies when the format names none.
    pub(crate) fn write<W: Write + ?Sized>(
        &self,
        out: &mut W,
        now: Timestamp,
        default_zone: TimeZone,
    ) -> fmt::Result {
        let zone = self.zone.unwrap_or(default_zone);
        let sub = truncate_nanos(now.nanos, self.fraction_digits);
        let key = CacheKey {
            id: self.id,
            zone,
            secs: now.secs,
            sub,
        };
        let hit = CACHE.try_with(|cache| {
            let mut cache = cache.try_borrow_mut().ok()?;
            if let Some(slot) = cache.slots.iter().find(|s| s.key == Some(key)) {
                return Some(out.write_str(slot.as_str()));
            }
            // The same second in another millisecond (the usual case for a busy service):
            // everything but the fraction digits is the same text.
            let slot = cache.slots.iter_mut().find(|s| {
                s.key
                    .is_some_and(|k| k.id == key.id && k.zone == key.zone && k.secs == key.secs)
            })?;
            slot.rewrite_fraction(sub, self.fraction_digits)?;
            slot.key = Some(key);
            Some(out.write_str(slot.as_str()))
        });
        if let Ok(Some(res)) = hit {
            return res;
        }
        let civil = now.civil(zone);
        let mut buf = StackBuf::new();
        let mut fraction_at = None;
        let mark = &mut |b: &StackBuf| fraction_at = Some(b.len);
        if self.render(&mut buf, &civil, mark).is_err() {
            // Longer than a cache slot (long literal text): render straight to the output.
            return self.render(out, &civil, &mut |_| {});
        }
        if self.single_fraction {
            buf.fraction_at = fraction_at;
        }
        let _ = CACHE.try_with(|cache| {
            if let Ok(mut cache) = cache.try_borrow_mut() {
                cache.store(key, &buf);
            }
        });
        out.write_str(buf.as_str())
    }

    /// Renders `c`; `mark` is called with the output just before a fraction of a second.
    fn render<W: Write + ?Sized>(
        &self,
        out: &mut W,
        c: &Civil,
        mark: &mut dyn FnMut(&W),
    ) -> fmt::Result {
        for item in self.items.iter() {
            if matches!(item, Item::Fraction(_)) {
                mark(out);
            }
            match item {
                Item::Literal(s) => out.write_str(s)?,
                Item::Year(YearStyle::TwoDigits) => {
                    write_padded(out, c.year.rem_euclid(100) as u64, 2)?
                }
                Item::Year(YearStyle::AtLeast(w)) => {
                    if c.year < 0 {
                        out.write_char('-')?;
                    }
                    write_padded(out, c.year.unsigned_abs(), *w)?
                }
                Item::Month(t) => write_text(out, c.month, *t, &MONTHS)?,
                Item::Day(w) => write_padded(out, u64::from(c.day), *w)?,
                Item::DayOfYear(w) => write_padded(out, u64::from(c.day_of_year), *w)?,
                Item::Hour24(w) => write_padded(out, u64::from(c.hour), *w)?,
                Item::Hour12(w) => {
                    let h = c.hour % 12;
                    write_padded(out, u64::from(if h == 0 { 12 } else { h }), *w)?
                }
                Item::Hour0To11(w) => write_padded(out, u64::from(c.hour % 12), *w)?,
                Item::Hour1To24(w) => {
                    let h = if c.hour == 0 { 24 } else { c.hour };
                    write_padded(out, u64::from(h), *w)?
                }
                Item::Minute(w) => write_padded(out, u64::from(c.minute), *w)?,
                Item::Second(w) => write_padded(out, u64::from(c.second), *w)?,
                Item::Fraction(d) => {
                    write_padded(out, u64::from(truncate_nanos(c.nanos, *d)), *d as usize)?
                }
                Item::AmPm => out.write_str(if c.hour < 12 { "AM" } else { "PM" })?,
                Item::Weekday(t) => write_text(out, c.weekday + 1, *t, &WEEKDAYS)?,
                Item::Offset(style) => write_offset_style(out, c.offset, *style)?,
            }
        }
        Ok(())
    }
}

/// The first `digits` digits of the nanoseconds, as a number.
fn truncate_nanos(nanos: u32, digits: u32) -> u32 {
    nanos / 10u32.pow(9 - digits.min(9))
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// `n` is 1-based.
fn write_text<W: Write + ?Sized>(out: &mut W, n: u32, t: Text, names: &[&str]) -> fmt::Result {
    let name = names.get(n as usize - 1).copied().unwrap_or("?");
    match t {
        Text::Number(w) => write_padded(out, u64::from(n), w),
        Text::Full => out.write_str(name),
        Text::Short => out.write_str(name.get(..3).unwrap_or(name)),
        Text::Narrow => out.write_str(name.get(..1).unwrap_or(name)),
    }
}

/// `+HH:MM` (extended) or `+HHMM`.
pub(crate) fn write_offset<W: Write + ?Sized>(
    out: &mut W,
    offset: i32,
    extended: bool,
) -> fmt::Result {
    out.write_char(if offset < 0 { '-' } else { '+' })?;
    let a = offset.unsigned_abs();
    write_padded(out, u64::from(a / 3600), 2)?;
    if extended {
        out.write_char(':')?;
    }
    write_padded(out, u64::from(a / 60 % 60), 2)
}

fn write_offset_style<W: Write + ?Sized>(
    out: &mut W,
    offset: i32,
    style: OffsetStyle,
) -> fmt::Result {
    let short_form = |out: &mut W| {
        // `+HH`, or `+HHMM` when the minutes are not zero.
        let a = offset.unsigned_abs();
        out.write_char(if offset < 0 { '-' } else { '+' })?;
        write_padded(out, u64::from(a / 3600), 2)?;
        if a / 60 % 60 != 0 {
            write_padded(out, u64::from(a / 60 % 60), 2)?;
        }
        Ok(())
    };
    match style {
        OffsetStyle::Basic => write_offset(out, offset, false),
        OffsetStyle::Extended => write_offset(out, offset, true),
        OffsetStyle::Hour => short_form(out),
        _ if offset == 0 => out.write_str(match style {
            OffsetStyle::Gmt => "GMT",
            OffsetStyle::Name => "UTC",
            _ => "Z",
        }),
        OffsetStyle::HourZ => short_form(out),
        OffsetStyle::BasicZ => write_offset(out, offset, false),
        OffsetStyle::ExtendedZ => write_offset(out, offset, true),
        OffsetStyle::Gmt | OffsetStyle::Name => {
            out.write_str("GMT")?;
            write_offset(out, offset, true)
        }
    }
}

fn parse_items(text: &str) -> Result<Vec<Item>, DateFormatError> {
    let bytes = text.as_bytes();
    let mut items = Vec::new();
    let mut literal = String::new();
    let mut i = 0;
    let flush = |literal: &mut String, items: &mut Vec<Item>| {
        if !literal.is_empty() {
            items.push(Item::Literal(std::mem::take(literal).into_boxed_str()));
        }
    };
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\'' {
            // Quoted literal; `''` is a single quote, inside or outside quotes.
            if bytes.get(i + 1) == Some(&b'\'') {
                literal.push('\'');
                i += 2;
                continue;
            }
            let start = i;
            i += 1;
            loop {
                match bytes.get(i) {
                    None => {
                        return Err(DateFormatError {
                            offset: start,
                            problem: "unclosed quote ' in the date format".into(),
                        })
                    }
                    Some(b'\'') if bytes.get(i + 1) == Some(&b'\'') => {
                        literal.push('\'');
                        i += 2;
                    }
                    Some(b'\'') => {
                        i += 1;
                        break;
                    }
                    Some(_) => {
                        let ch = text[i..].chars().next().ok_or(DateFormatError {
                            offset: i,
                            problem: "invalid text in the date format".into(),
                        })?;
                        literal.push(ch);
                        i += ch.len_utf8();
                    }
                }
            }
            continue;
        }
        if b.is_ascii_alphabetic() {
            let start = i;
            while i < bytes.len() && bytes[i] == b {
                i += 1;
            }
            let count = i - start;
            let item = letter_item(b, count).map_err(|problem| DateFormatError {
                offset: start,
                problem,
            })?;
            flush(&mut literal, &mut items);
            items.push(item);
            continue;
        }
        if matches!(b, b'[' | b']' | b'{' | b'}' | b'#') {
            return Err(DateFormatError {
                offset: i,
                problem: format!(
                    "'{}' is reserved in date formats (quote it: '{}')",
                    b as char, b as char
                ),
            });
        }
        let ch = text[i..].chars().next().ok_or(DateFormatError {
            offset: i,
            problem: "invalid text in the date format".into(),
        })?;
        literal.push(ch);
        i += ch.len_utf8();
    }
    flush(&mut literal, &mut items);
    Ok(items)
}

fn letter_item(letter: u8, count: usize) -> Result<Item, String> {
    let too_many = || {
        format!(
            "too many pattern letters '{}' in the date format",
            (letter as char).to_string().repeat(count)
        )
    };
    let upto = |max: usize, item: fn(usize) -> Item| {
        if count <= max {
            Ok(item(count))
        } else {
            Err(too_many())
        }
    };
    match letter {
        b'y' | b'u' => match count {
            2 => Ok(Item::Year(YearStyle::TwoDigits)),
            1..=19 => Ok(Item::Year(YearStyle::AtLeast(count))),
            _ => Err(too_many()),
        },
        b'M' | b'L' => match count {
            1 | 2 => Ok(Item::Month(Text::Number(count))),
            3 => Ok(Item::Month(Text::Short)),
            4 => Ok(Item::Month(Text::Full)),
            5 => Ok(Item::Month(Text::Narrow)),
            _ => Err(too_many()),
        },
        b'd' => upto(2, Item::Day),
        b'D' => upto(3, Item::DayOfYear),
        b'H' => upto(2, Item::Hour24),
        b'h' => upto(2, Item::Hour12),
        b'K' => upto(2, Item::Hour0To11),
        b'k' => upto(2, Item::Hour1To24),
        b'm' => upto(2, Item::Minute),
        b's' => upto(2, Item::Second),
        b'S' => {
            if count <= 9 {
                Ok(Item::Fraction(count as u32))
            } else {
                Err(too_many())
            }
        }
        b'a' => {
            if count == 1 {
                Ok(Item::AmPm)
            } else {
                Err(too_many())
            }
        }
        b'E' => match count {
            1..=3 => Ok(Item::Weekday(Text::Short)),
            4 => Ok(Item::Weekday(Text::Full)),
            5 => Ok(Item::Weekday(Text::Narrow)),
            _ => Err(too_many()),
        },
        b'Z' => match count {
            1..=3 => Ok(Item::Offset(OffsetStyle::Basic)),
            4 => Ok(Item::Offset(OffsetStyle::Gmt)),
            5 => Ok(Item::Offset(OffsetStyle::ExtendedZ)),
            _ => Err(too_many()),
        },
        b'X' => match count {
            1 => Ok(Item::Offset(OffsetStyle::HourZ)),
            2 => Ok(Item::Offset(OffsetStyle::BasicZ)),
            3 => Ok(Item::Offset(OffsetStyle::ExtendedZ)),
            _ => Err(too_many()),
        },
        b'x' => match count {
            1 => Ok(Item::Offset(OffsetStyle::Hour)),
            2 => Ok(Item::Offset(OffsetStyle::Basic)),
            3 => Ok(Item::Offset(OffsetStyle::Extended)),
            _ => Err(too_many()),
        },
        b'z' => match count {
            1..=4 => Ok(Item::Offset(OffsetStyle::Name)),
            _ => Err(too_many()),
        },
        other => Err(format!(
            "unsupported date pattern letter '{}' (supported: y u M L d D H h K k m s S a E Z X x z; \
             quote literal text with '...')",
            other as char
        )),
    }
}

/// A cache slot's capacity: longer renderings are not cached.
const SLOT_LEN: usize = 64;
const SLOTS: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CacheKey {
    id: u64,
    zone: TimeZone,
    secs: i64,
    sub: u32,
}

struct Cache {
    slots: [StackBuf; SLOTS],
    next: usize,
}

impl Cache {
    fn store(&mut self, key: CacheKey, text: &StackBuf) {
        // Reuse this format's slot if it has one, else take the next in turn.
        let idx = match self
            .slots
            .iter()
            .position(|s| s.key.is_some_and(|k| k.id == key.id))
        {
            Some(i) => i,
            None => {
                let i = self.next;
                self.next = (self.next + 1) % SLOTS;
                i
            }
        };
        let slot = &mut self.slots[idx];
        slot.buf = text.buf;
        slot.len = text.len;
        slot.fraction_at = text.fraction_at;
        slot.key = Some(key);
    }
}

thread_local! {
    static CACHE: RefCell<Cache> = const {
        RefCell::new(Cache {
            slots: [StackBuf::new(), StackBuf::new(), StackBuf::new(), StackBuf::new()],
            next: 0,
        })
    };
}

/// The bytes of a [`StackBuf`], 8-byte aligned: `str::from_utf8` checks an aligned buffer of
/// 16 bytes or more a word at a time (see `StackBuf::as_str`).
#[derive(Clone, Copy)]
#[repr(align(8))]
struct Aligned([u8; SLOT_LEN]);

/// A fixed-capacity text buffer (a rendered date), optionally tagged with what it renders.
#[derive(Clone, Copy)]
struct StackBuf {
    buf: Aligned,
    len: usize,
    key: Option<CacheKey>,
    /// Where the digits of the (only) fraction of a second start, if the format has one.
    fraction_at: Option<usize>,
}

impl StackBuf {
    const fn new() -> StackBuf {
        StackBuf {
            buf: Aligned([0; SLOT_LEN]),
            len: 0,
            key: None,
            fraction_at: None,
        }
    }

    /// Rewrites the fraction digits in place with `sub` (`digits` digits, zero-padded); `None`
    /// when this rendering has no single fraction to rewrite.
    fn rewrite_fraction(&mut self, sub: u32, digits: u32) -> Option<()> {
        let at = self.fraction_at?;
        let end = at.checked_add(digits as usize)?;
        let field = self.buf.0.get_mut(at..end.min(self.len))?;
        if field.len() != digits as usize {
            return None;
        }
        let mut n = sub;
        for b in field.iter_mut().rev() {
            *b = b'0' + (n % 10) as u8;
            n /= 10;
        }
        Some(())
    }

    fn as_str(&self) -> &str {
        // Only whole `&str`s are ever appended. Checked in whole 16-byte blocks from the
        // aligned start: `str::from_utf8` goes a word at a time only over 16 bytes or more (a
        // 12-byte `HH:mm:ss.SSS` would be checked byte by byte). The bytes past `len` are zeros
        // or earlier text; should they not be valid UTF-8, exactly the text is checked.
        let end = self.len.div_ceil(16).saturating_mul(16).min(SLOT_LEN);
        match std::str::from_utf8(&self.buf.0[..end]) {
            Ok(s) => s.get(..self.len).unwrap_or_default(),
            Err(_) => std::str::from_utf8(&self.buf.0[..self.len]).unwrap_or_default(),
        }
    }
}

impl Write for StackBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        if end > SLOT_LEN {
            return Err(fmt::Error);
        }
        self.buf.0[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_buf_text_is_exact_whatever_follows_it() {
        let mut b = StackBuf::new();
        b.write_str("12:34:56.789").unwrap();
        assert_eq!(b.as_str(), "12:34:56.789");
        // Bytes past the text that are not UTF-8 (never written in practice) change nothing.
        b.buf.0[13] = 0xff;
        assert_eq!(b.as_str(), "12:34:56.789");
        let mut u = StackBuf::new();
        u.write_str("23 日 10:00:00.000 日本").unwrap();
        assert_eq!(u.as_str(), "23 日 10:00:00.000 日本");
        assert_eq!(StackBuf::new().as_str(), "");
    }

    /// 2026-11-23T07:19:45.123456789Z, a Monday.
    const T: Timestamp = Timestamp {
        secs: 1_795_418_385,
        nanos: 123_456_789,
    };

    fn fmt(pattern: &str, zone: TimeZone) -> String {
        let f = DateFormat::parse(pattern, None).unwrap();
        let mut s = String::new();
        f.write(&mut s, T, zone).unwrap();
        // A second call is served from the cache and must agree.
        let mut again = String::new();
        f.write(&mut again, T, zone).unwrap();
        assert_eq!(s, again);
        s
    }

    /// What a fresh format (empty cache slot) renders.
    fn fresh(pattern: &str, t: Timestamp) -> String {
        let f = DateFormat::parse(pattern, None).unwrap();
        let mut s = String::new();
        f.render(&mut s, &t.civil(TimeZone::Utc), &mut |_| {})
            .unwrap();
        s
    }

    #[test]
    fn a_cached_second_gets_its_fraction_rewritten() {
        for pattern in [
            "HH:mm:ss.SSS",
            "yyyy-MM-dd HH:mm:ss,SSS",
            "SSS",
            "MMMM d, HH:mm:ss.SSSSSS 'UTC'",
            "ss.S",
            "ss.SSS SSS",
            "HH:mm:ss",
        ] {
            let f = DateFormat::parse(pattern, None).unwrap();
            let mut t = T;
            for secs in [T.secs, T.secs + 1] {
                t.secs = secs;
                for step in [0u32, 1_000_000, 7_000_000, 500_000_000, 876_543_210, 0] {
                    t.nanos = step;
                    let mut s = String::new();
                    f.write(&mut s, t, TimeZone::Utc).unwrap();
                    assert_eq!(s, fresh(pattern, t), "{pattern} at {t:?}");
                }
            }
        }
    }

    #[test]
    fn common_formats() {
        assert_eq!(
            fmt("yyyy-MM-dd HH:mm:ss.SSS", TimeZone::Utc),
            "2026-11-23 07:19:45.123"
        );
        assert_eq!(fmt("ISO8601", TimeZone::Utc), "2026-11-23 07:19:45,123");
        assert_eq!(fmt("", TimeZone::Utc), "2026-11-23 07:19:45,123");
        assert_eq!(fmt("HH:mm:ss", TimeZone::Fixed(3600)), "08:19:45");
        assert_eq!(
            fmt("yyyy-MM-dd'T'HH:mm:ss.SSSXXX", TimeZone::Fixed(-(5 * 3600))),
            "2026-11-23T02:19:45.123-05:00"
        );
        assert_eq!(
            fmt("yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX", TimeZone::Utc),
            "2026-11-23T07:19:45.123456Z"
        );
    }

    #[test]
    fn every_letter() {
        let z = TimeZone::Fixed(5 * 3600 + 1800);
        // 12:49:45 local
        assert_eq!(fmt("y yy yyy yyyy u", z), "2026 26 2026 2026 2026");
        assert_eq!(fmt("M MM MMM MMMM MMMMM L", z), "11 11 Nov November N 11");
        assert_eq!(fmt("d dd D DD DDD", z), "23 23 327 327 327");
        assert_eq!(fmt("H HH h hh K KK k kk a", z), "12 12 12 12 0 00 12 12 PM");
        assert_eq!(fmt("m mm s ss", z), "49 49 45 45");
        assert_eq!(fmt("S SS SSS SSSSSSSSS", z), "1 12 123 123456789");
        assert_eq!(fmt("E EEE EEEE EEEEE", z), "Mon Mon Monday M");
        assert_eq!(
            fmt("Z ZZZZ ZZZZZ X XX XXX x xx xxx z", z),
            "+0530 GMT+05:30 +05:30 +0530 +0530 +05:30 +0530 +0530 +05:30 GMT+05:30"
        );
        assert_eq!(
            fmt("Z ZZZZ ZZZZZ X XX XXX x xx xxx z", TimeZone::Utc),
            "+0000 GMT Z Z Z Z +00 +0000 +00:00 UTC"
        );
        assert_eq!(fmt("X", TimeZone::Fixed(-3600)), "-01");
        assert_eq!(
            fmt("H h K k a", TimeZone::Fixed(-(7 * 3600 + 19 * 60))),
            "0 12 0 24 AM"
        );
    }

    #[test]
    fn quotes_and_literals() {
        assert_eq!(
            fmt("'at' HH 'o''clock' ''", TimeZone::Utc),
            "at 07 o'clock '"
        );
        assert_eq!(fmt("HH.mm/ss é", TimeZone::Utc), "07.19/45 é");
    }

    #[test]
    fn long_formats_bypass_the_cache() {
        let long = "'this literal text is much longer than one cache slot can hold' yyyy";
        assert!(fmt(long, TimeZone::Utc).ends_with("hold 2026"));
    }

    #[test]
    fn the_cache_tells_formats_zones_and_instants_apart() {
        let a = DateFormat::parse("HH:mm:ss.SSS", None).unwrap();
        let b = DateFormat::parse("HH:mm:ss.SSS", Some(TimeZone::Fixed(3600))).unwrap();
        let mut s = String::new();
        for (f, t, z, want) in [
            (&a, T, TimeZone::Utc, "07:19:45.123"),
            (&b, T, TimeZone::Utc, "08:19:45.123"),
            (&a, T, TimeZone::Fixed(7200), "09:19:45.123"),
            (
                &a,
                Timestamp {
                    secs: T.secs,
                    nanos: 999_000_000,
                },
                TimeZone::Utc,
                "07:19:45.999",
            ),
            (
                &a,
                Timestamp {
                    secs: T.secs + 1,
                    nanos: 0,
                },
                TimeZone::Utc,
                "07:19:46.000",
            ),
            (&a, T, TimeZone::Utc, "07:19:45.123"),
        ] {
            s.clear();
            f.write(&mut s, t, z).unwrap();
            assert_eq!(s, want);
        }
    }

    #[test]
    fn errors_name_the_offset_and_the_problem() {
        let e = DateFormat::parse("yyyy-MM-dd Q", None).unwrap_err();
        assert_eq!(e.offset, 11);
        assert!(e.problem.contains("'Q'"), "{}", e.problem);
        let e = DateFormat::parse("HH 'open", None).unwrap_err();
        assert_eq!(e.offset, 3);
        assert!(e.problem.contains("unclosed quote"));
        let e = DateFormat::parse("ddd", None).unwrap_err();
        assert!(e.problem.contains("too many"), "{}", e.problem);
        let e = DateFormat::parse("HH[:mm]", None).unwrap_err();
        assert_eq!(e.offset, 2);
    }
}
