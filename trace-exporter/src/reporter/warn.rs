//! Rate-limited warnings from the reporter thread (never from the request path).

use std::time::{Duration, Instant};

/// The `tracing` target of the reporter's own messages. The recorder never records spans with
/// this target prefix, so the reporter's activity is never reported as spans.
pub const REPORTER_TARGET: &str = "trace_exporter::reporter";

/// Default time between two warnings of one kind.
pub const DEFAULT_WARN_INTERVAL: Duration = Duration::from_secs(30);

/// Lets one warning through, then at most one per interval, counting what it held back.
#[derive(Debug)]
pub(crate) struct WarnLimiter {
    interval: Duration,
    last: Option<Instant>,
    suppressed: u64,
}

impl WarnLimiter {
    pub(crate) fn new(interval: Duration) -> Self {
        WarnLimiter {
            interval,
            last: None,
            suppressed: 0,
        }
    }

    /// `Some(n)` when a warning may be written now (`n` = warnings held back since the last),
    /// `None` when it must be held back.
    pub(crate) fn check(&mut self, now: Instant) -> Option<u64> {
        match self.last {
            Some(last) if now.saturating_duration_since(last) < self.interval => {
                self.suppressed += 1;
                None
            }
            _ => {
                self.last = Some(now);
                Some(std::mem::take(&mut self.suppressed))
            }
        }
    }

    /// Forgets the last warning (after a recovery, the next problem is reported at once).
    pub(crate) fn reset(&mut self) {
        self.last = None;
        self.suppressed = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_then_once_per_interval() {
        let mut w = WarnLimiter::new(Duration::from_secs(10));
        let t0 = Instant::now();
        assert_eq!(w.check(t0), Some(0));
        assert_eq!(w.check(t0 + Duration::from_secs(1)), None);
        assert_eq!(w.check(t0 + Duration::from_secs(2)), None);
        assert_eq!(w.check(t0 + Duration::from_secs(10)), Some(2));
        w.reset();
        assert_eq!(w.check(t0 + Duration::from_secs(11)), Some(0));
    }
}
