//! The local time zone's UTC offset, from the C library (`localtime_r`), cached per thread and
//! per second.
//!
//! On platforms without `tm_gmtoff` the local zone is taken to be UTC.

use std::cell::Cell;

thread_local! {
    /// (second asked for, offset found)
    static LAST: Cell<(i64, i32)> = const { Cell::new((i64::MIN, 0)) };
}

/// Seconds east of UTC of the local time zone at `secs` after the epoch.
pub(crate) fn offset_at(secs: i64) -> i32 {
    let cached = LAST.try_with(Cell::get).ok();
    if let Some((at, offset)) = cached {
        if at == secs {
            return offset;
        }
    }
    let offset = query(secs);
    let _ = LAST.try_with(|c| c.set((secs, offset)));
    offset
}

#[cfg(any(
    target_os = "linux",
    target_os = "android",
    target_vendor = "apple",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "netbsd",
    target_os = "dragonfly"
))]
#[allow(unsafe_code)]
fn query(secs: i64) -> i32 {
    let Some(t) = libc::time_t::try_from(secs).ok() else {
        return 0;
    };
    // SAFETY: `tm` is plain old data (integers and a pointer that may be null); `localtime_r`
    // is the re-entrant variant that writes only into the `tm` given and reads `t`.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let res = unsafe { libc::localtime_r(&t, &mut tm) };
    if res.is_null() {
        return 0;
    }
    i32::try_from(tm.tm_gmtoff).unwrap_or(0)
}

#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_vendor = "apple",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "netbsd",
    target_os = "dragonfly"
)))]
fn query(_secs: i64) -> i32 {
    0
}

#[cfg(test)]
mod tests {
    #[test]
    fn offset_is_within_a_day_and_stable_within_a_second() {
        let a = super::offset_at(1_795_418_385);
        let b = super::offset_at(1_795_418_385);
        assert_eq!(a, b);
        assert!(a.abs() < 86_400);
    }
}
