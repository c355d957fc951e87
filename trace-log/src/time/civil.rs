//! Calendar arithmetic: seconds since the Unix epoch to a proleptic Gregorian date and time.

/// A broken-down date and time at some UTC offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Civil {
    pub(crate) year: i64,
    /// 1..=12
    pub(crate) month: u32,
    /// 1..=31
    pub(crate) day: u32,
    /// 1..=366
    pub(crate) day_of_year: u32,
    /// 0 = Monday .. 6 = Sunday (ISO order).
    pub(crate) weekday: u32,
    pub(crate) hour: u32,
    pub(crate) minute: u32,
    pub(crate) second: u32,
    /// Nanoseconds within the second.
    pub(crate) nanos: u32,
    /// Seconds east of UTC.
    pub(crate) offset: i32,
}

impl Civil {
    /// The local date and time `offset` seconds east of UTC at `secs` + `nanos` after the epoch.
    pub(crate) fn at(secs: i64, nanos: u32, offset: i32) -> Civil {
        let local = secs.saturating_add(i64::from(offset));
        let days = local.div_euclid(86_400);
        let sod = local.rem_euclid(86_400) as u32;
        let (year, month, day) = civil_from_days(days);
        let day_of_year = (days - days_from_civil(year, 1, 1) + 1) as u32;
        // 1970-01-01 was a Thursday (ISO weekday index 3).
        let weekday = (days + 3).rem_euclid(7) as u32;
        Civil {
            year,
            month,
            day,
            day_of_year,
            weekday,
            hour: sod / 3600,
            minute: sod / 60 % 60,
            second: sod % 60,
            nanos,
            offset,
        }
    }
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to (year, month, day).
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = (z - era * 146_097) as u64; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let y = yoe as i64 + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32; // [1, 31]
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32; // [1, 12]
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Howard Hinnant's `days_from_civil`: (year, month, day) to days since 1970-01-01.
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = (y - era * 400) as u64; // [0, 399]
    let m = u64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + u64::from(d) - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe as i64 - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_is_thursday_first_of_january_1970() {
        let c = Civil::at(0, 0, 0);
        assert_eq!(
            (c.year, c.month, c.day, c.weekday, c.day_of_year),
            (1970, 1, 1, 3, 1)
        );
    }

    #[test]
    fn known_instants() {
        // 2026-11-23T07:19:45Z (a Monday)
        let c = Civil::at(1_795_418_385, 5, 0);
        assert_eq!(
            (c.year, c.month, c.day, c.hour, c.minute, c.second, c.weekday),
            (2026, 11, 23, 7, 19, 45, 0)
        );
        assert_eq!(c.day_of_year, 327);
        // 2000-02-29T23:59:59Z, leap day
        let c = Civil::at(951_868_799, 0, 0);
        assert_eq!(
            (c.year, c.month, c.day, c.hour, c.minute, c.second),
            (2000, 2, 29, 23, 59, 59)
        );
        // one second before the epoch
        let c = Civil::at(-1, 0, 0);
        assert_eq!((c.year, c.month, c.day, c.hour), (1969, 12, 31, 23));
    }

    #[test]
    fn offsets_move_the_wall_clock() {
        let c = Civil::at(0, 0, -3600);
        assert_eq!((c.year, c.month, c.day, c.hour), (1969, 12, 31, 23));
        let c = Civil::at(0, 0, 5 * 3600 + 1800);
        assert_eq!((c.hour, c.minute), (5, 30));
    }

    #[test]
    fn days_round_trip() {
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
