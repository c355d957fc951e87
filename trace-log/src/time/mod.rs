//! Time: the time zone option, the current instant, and logback-style date formats.

mod civil;
pub(crate) mod format;
mod local;

use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

pub(crate) use civil::Civil;

/// The time zone used to print dates (`%d` in patterns, `timestamp` in JSON lines).
///
/// Parsed from `UTC` (also `GMT`, `Z`, `Etc/UTC`), `local` (the machine's zone, from the C
/// library; UTC on platforms without one), or a fixed offset such as `+02:00`, `-0530`, `+01`,
/// `GMT+2`, `UTC-08:00`. Named zones such as `Europe/Paris` are not supported: use `local` on a
/// machine set to that zone.
///
/// ```
/// use trace_log::TimeZone;
/// assert_eq!("UTC".parse::<TimeZone>(), Ok(TimeZone::Utc));
/// assert_eq!("local".parse::<TimeZone>(), Ok(TimeZone::Local));
/// assert_eq!("+05:30".parse::<TimeZone>(), Ok(TimeZone::Fixed(5 * 3600 + 30 * 60)));
/// assert_eq!("GMT-8".parse::<TimeZone>(), Ok(TimeZone::Fixed(-8 * 3600)));
/// assert!("Mars/Olympus".parse::<TimeZone>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeZone {
    /// Coordinated Universal Time (the default).
    #[default]
    Utc,
    /// The local time zone of the machine, with its daylight saving rules.
    Local,
    /// A fixed offset, in seconds east of UTC (at most 18 hours either way).
    Fixed(i32),
}

impl TimeZone {
    /// Seconds east of UTC at `secs` after the Unix epoch.
    pub(crate) fn offset_at(self, secs: i64) -> i32 {
        match self {
            TimeZone::Utc => 0,
            TimeZone::Fixed(o) => o,
            TimeZone::Local => local::offset_at(secs),
        }
    }
}

/// The error of parsing a [`TimeZone`].
///
/// ```
/// let err = "Europe/Paris".parse::<trace_log::TimeZone>().unwrap_err();
/// assert!(err.to_string().contains("Europe/Paris"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeZoneError {
    text: String,
}

impl fmt::Display for TimeZoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown time zone {:?}: use UTC, local, or a fixed offset such as +02:00",
            self.text
        )
    }
}

impl std::error::Error for TimeZoneError {}

impl FromStr for TimeZone {
    type Err = TimeZoneError;

    fn from_str(s: &str) -> Result<TimeZone, TimeZoneError> {
        let err = || TimeZoneError { text: s.to_owned() };
        let t = s.trim();
        match t.to_ascii_lowercase().as_str() {
            "utc" | "gmt" | "z" | "etc/utc" | "etc/gmt" | "uct" | "zulu" => {
                return Ok(TimeZone::Utc)
            }
            "local" => return Ok(TimeZone::Local),
            _ => {}
        }
        let rest = strip_prefix_ci(t, "utc")
            .or_else(|| strip_prefix_ci(t, "gmt"))
            .unwrap_or(t);
        parse_offset(rest).map(TimeZone::Fixed).ok_or_else(err)
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// `+HH`, `+H`, `+HHMM`, `+HH:MM` (and `-`): seconds east of UTC, at most 18 hours.
fn parse_offset(s: &str) -> Option<i32> {
    let (sign, digits) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let num = |t: &str| -> Option<i32> {
        if t.is_empty() || t.len() > 2 || !t.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        t.parse().ok()
    };
    let (h, m) = if let Some((h, m)) = digits.split_once(':') {
        (num(h)?, num(m)?)
    } else if digits.len() == 4 {
        (num(&digits[..2])?, num(&digits[2..])?)
    } else {
        (num(digits)?, 0)
    };
    if m >= 60 || h * 60 + m > 18 * 60 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60))
}

impl fmt::Display for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            TimeZone::Utc => f.write_str("UTC"),
            TimeZone::Local => f.write_str("local"),
            TimeZone::Fixed(o) => {
                let sign = if o < 0 { '-' } else { '+' };
                let a = o.unsigned_abs();
                write!(f, "{sign}{:02}:{:02}", a / 3600, a / 60 % 60)
            }
        }
    }
}

/// An instant: seconds and nanoseconds since the Unix epoch (seconds may be negative).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timestamp {
    pub(crate) secs: i64,
    pub(crate) nanos: u32,
}

impl Timestamp {
    /// The current time from the system clock.
    pub(crate) fn now() -> Timestamp {
        Timestamp::from_system(SystemTime::now())
    }

    pub(crate) fn from_system(t: SystemTime) -> Timestamp {
        match t.duration_since(UNIX_EPOCH) {
            Ok(d) => Timestamp {
                secs: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
                nanos: d.subsec_nanos(),
            },
            Err(e) => {
                let d = e.duration();
                let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
                if d.subsec_nanos() == 0 {
                    Timestamp {
                        secs: -secs,
                        nanos: 0,
                    }
                } else {
                    Timestamp {
                        secs: -secs - 1,
                        nanos: 1_000_000_000 - d.subsec_nanos(),
                    }
                }
            }
        }
    }

    /// The wall clock in `zone`.
    pub(crate) fn civil(self, zone: TimeZone) -> Civil {
        Civil::at(self.secs, self.nanos, zone.offset_at(self.secs))
    }
}

/// Writes `n` in decimal, left padded with zeros to `width` digits.
pub(crate) fn write_padded<W: fmt::Write + ?Sized>(
    out: &mut W,
    n: u64,
    width: usize,
) -> fmt::Result {
    let mut buf = [b'0'; 20];
    let mut i = buf.len();
    let mut v = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let width = width.min(buf.len());
    let start = i.min(buf.len() - width);
    // Only ASCII digits were written.
    out.write_str(std::str::from_utf8(&buf[start..]).map_err(|_| fmt::Error)?)
}

/// Writes an RFC 3339 timestamp with microseconds: `2026-11-23T07:19:45.123456Z` in UTC,
/// `2026-11-23T08:19:45.123456+01:00` elsewhere.
pub(crate) fn write_rfc3339<W: fmt::Write + ?Sized>(
    out: &mut W,
    now: Timestamp,
    zone: TimeZone,
) -> fmt::Result {
    let c = now.civil(zone);
    if (0..=9999).contains(&c.year) {
        write_padded(out, c.year as u64, 4)?;
    } else {
        // Outside RFC 3339's range: still a readable, valid JSON string.
        write!(out, "{}", c.year)?;
    }
    out.write_char('-')?;
    write_padded(out, u64::from(c.month), 2)?;
    out.write_char('-')?;
    write_padded(out, u64::from(c.day), 2)?;
    out.write_char('T')?;
    write_padded(out, u64::from(c.hour), 2)?;
    out.write_char(':')?;
    write_padded(out, u64::from(c.minute), 2)?;
    out.write_char(':')?;
    write_padded(out, u64::from(c.second), 2)?;
    out.write_char('.')?;
    write_padded(out, u64::from(c.nanos / 1000), 6)?;
    if c.offset == 0 {
        out.write_char('Z')
    } else {
        format::write_offset(out, c.offset, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_zones() {
        assert_eq!("utc".parse(), Ok(TimeZone::Utc));
        assert_eq!("Etc/UTC".parse(), Ok(TimeZone::Utc));
        assert_eq!("Local".parse(), Ok(TimeZone::Local));
        assert_eq!("+0200".parse(), Ok(TimeZone::Fixed(7200)));
        assert_eq!("-05:30".parse(), Ok(TimeZone::Fixed(-(5 * 3600 + 1800))));
        assert_eq!("UTC+1".parse(), Ok(TimeZone::Fixed(3600)));
        assert_eq!("+18:00".parse(), Ok(TimeZone::Fixed(18 * 3600)));
        for bad in [
            "",
            "+",
            "+19",
            "+01:60",
            "Europe/Paris",
            "+1:2:3",
            "GMT+",
            "+123",
        ] {
            assert!(bad.parse::<TimeZone>().is_err(), "{bad}");
        }
    }

    #[test]
    fn zone_display_round_trips() {
        for z in [
            TimeZone::Utc,
            TimeZone::Local,
            TimeZone::Fixed(-(3 * 3600 + 1800)),
        ] {
            assert_eq!(z.to_string().parse(), Ok(z));
        }
    }

    #[test]
    fn timestamps_before_the_epoch() {
        let t = UNIX_EPOCH - std::time::Duration::from_millis(1500);
        assert_eq!(
            Timestamp::from_system(t),
            Timestamp {
                secs: -2,
                nanos: 500_000_000
            }
        );
    }

    #[test]
    fn rfc3339() {
        let t = Timestamp {
            secs: 1_795_418_385,
            nanos: 123_456_789,
        };
        let mut s = String::new();
        write_rfc3339(&mut s, t, TimeZone::Utc).unwrap();
        assert_eq!(s, "2026-11-23T07:19:45.123456Z");
        s.clear();
        write_rfc3339(&mut s, t, TimeZone::Fixed(-(4 * 3600 + 1800))).unwrap();
        assert_eq!(s, "2026-11-23T02:49:45.123456-04:30");
    }

    #[test]
    fn padding() {
        let mut s = String::new();
        write_padded(&mut s, 7, 3).unwrap();
        write_padded(&mut s, 12345, 2).unwrap();
        write_padded(&mut s, 0, 0).unwrap();
        assert_eq!(s, "007123450");
    }
}
