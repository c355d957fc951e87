//! The rate-limiting sampler: at most N traces per second, lock-free.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use trace_context::{Sampler, Sampling, TraceId};

const NANOS_PER_SECOND: u64 = 1_000_000_000;
const NANOS_PER_DECISECOND: u64 = NANOS_PER_SECOND / 10;

/// A monotonic clock in nanoseconds, for [`RateLimitingSampler::with_clock`] (tests and
/// simulations drive time by hand). Any `Fn() -> u64 + Send + Sync` is one.
///
/// ```
/// use trace_exporter::RateClock;
/// let fixed = || 42u64;
/// assert_eq!(fixed.now_nanos(), 42);
/// ```
pub trait RateClock: Send + Sync + 'static {
    /// Nanoseconds since an arbitrary origin; never goes backwards.
    fn now_nanos(&self) -> u64;
}

impl<F: Fn() -> u64 + Send + Sync + 'static> RateClock for F {
    fn now_nanos(&self) -> u64 {
        self()
    }
}

/// The default clock: nanoseconds since the sampler was created, from [`Instant`].
///
/// ```
/// use trace_exporter::RateClock;
/// let c = trace_exporter::sampler::MonotonicClock::new();
/// assert!(c.now_nanos() < 1_000_000_000);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct MonotonicClock(Instant);

impl MonotonicClock {
    /// A clock starting now.
    ///
    /// ```
    /// let _c = trace_exporter::sampler::MonotonicClock::new();
    /// ```
    pub fn new() -> Self {
        MonotonicClock(Instant::now())
    }
}

impl Default for MonotonicClock {
    fn default() -> Self {
        Self::new()
    }
}

impl RateClock for MonotonicClock {
    fn now_nanos(&self) -> u64 {
        self.0.elapsed().as_nanos() as u64
    }
}

/// Samples at most `traces_per_second` traces in each second, like Brave's
/// `RateLimitingSampler` (Spring Cloud Sleuth's `spring.sleuth.sampler.rate`): the budget of a
/// second is spread over its ten deciseconds (at 100/s, at most 10 by the end of the first
/// decisecond, 20 by the end of the second...), so a burst cannot use up a whole second at once.
/// Rates under 10 per second are granted as one budget per second.
///
/// One atomic word holds the current second and its usage: a decision is a load and a
/// compare-and-swap, no lock. The upstream decision is ignored: wrap it in
/// [`crate::ParentBased`] to follow it.
///
/// ```
/// use trace_exporter::{RateLimitingSampler, Sampler, Sampling};
/// let s = RateLimitingSampler::new(10);
/// let sampled = (0..1000)
///     .filter(|_| s.should_sample(trace_context::TraceId::random(), Sampling::Deferred))
///     .count();
/// assert!(sampled <= 20); // at most 10 per second: this loop spans at most two seconds
/// ```
pub struct RateLimitingSampler<C: RateClock = MonotonicClock> {
    /// Cumulative budget at the end of each decisecond of a second.
    max: [u32; 10],
    rate: u32,
    /// `second << 32 | used` (second counted from the clock's origin).
    state: AtomicU64,
    clock: C,
}

impl RateLimitingSampler<MonotonicClock> {
    /// At most `traces_per_second` sampled traces per second (0 samples nothing).
    ///
    /// ```
    /// let s = trace_exporter::RateLimitingSampler::new(100);
    /// assert_eq!(s.traces_per_second(), 100);
    /// ```
    pub fn new(traces_per_second: u32) -> Self {
        Self::with_clock(traces_per_second, MonotonicClock::new())
    }
}

impl<C: RateClock> RateLimitingSampler<C> {
    /// The same sampler on a clock of your own.
    ///
    /// ```
    /// use std::sync::{atomic::{AtomicU64, Ordering}, Arc};
    /// use trace_exporter::{RateLimitingSampler, Sampler, Sampling};
    /// let now = Arc::new(AtomicU64::new(0));
    /// let clock = { let now = now.clone(); move || now.load(Ordering::Relaxed) };
    /// let s = RateLimitingSampler::with_clock(1, clock);
    /// let id = trace_context::TraceId::random();
    /// assert!(s.should_sample(id, Sampling::Deferred));
    /// assert!(!s.should_sample(id, Sampling::Deferred));
    /// now.store(1_000_000_000, Ordering::Relaxed); // next second
    /// assert!(s.should_sample(id, Sampling::Deferred));
    /// ```
    pub fn with_clock(traces_per_second: u32, clock: C) -> Self {
        let mut max = [traces_per_second; 10];
        if traces_per_second >= 10 {
            let per_decisecond = traces_per_second / 10;
            let remainder = traces_per_second % 10;
            max[0] = per_decisecond + remainder;
            for i in 1..10 {
                max[i] = max[i - 1] + per_decisecond;
            }
        }
        RateLimitingSampler {
            max,
            rate: traces_per_second,
            state: AtomicU64::new(0),
            clock,
        }
    }

    /// The configured rate.
    ///
    /// ```
    /// assert_eq!(trace_exporter::RateLimitingSampler::new(5).traces_per_second(), 5);
    /// ```
    pub fn traces_per_second(&self) -> u32 {
        self.rate
    }

    /// Takes one trace from the budget if there is one left.
    ///
    /// ```
    /// let s = trace_exporter::RateLimitingSampler::new(0);
    /// assert!(!s.try_acquire());
    /// ```
    pub fn try_acquire(&self) -> bool {
        if self.rate == 0 {
            return false;
        }
        let now = self.clock.now_nanos();
        let second = (now / NANOS_PER_SECOND) & 0xffff_ffff;
        let decisecond = ((now % NANOS_PER_SECOND) / NANOS_PER_DECISECOND) as usize;
        let max = self.max[decisecond.min(9)];
        let mut current = self.state.load(Ordering::Relaxed);
        loop {
            let (cur_second, used) = (current >> 32, current & 0xffff_ffff);
            let next = if cur_second == second {
                if used >= u64::from(max) {
                    return false;
                }
                current + 1
            } else if cur_second < second || cur_second.wrapping_sub(second) > (1 << 31) {
                // A later second (allowing for wrap-around): a fresh budget.
                (second << 32) | 1
            } else {
                // Another thread already moved to a later second than the one we read.
                return false;
            };
            match self.state.compare_exchange_weak(
                current,
                next,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(actual) => current = actual,
            }
        }
    }
}

impl<C: RateClock> Sampler for RateLimitingSampler<C> {
    #[inline]
    fn should_sample(&self, _: TraceId, _: Sampling) -> bool {
        self.try_acquire()
    }
}

impl<C: RateClock> fmt::Debug for RateLimitingSampler<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimitingSampler")
            .field("traces_per_second", &self.rate)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn fake() -> (Arc<AtomicU64>, impl Fn() -> u64 + Send + Sync + 'static) {
        let now = Arc::new(AtomicU64::new(0));
        let c = now.clone();
        (now, move || c.load(Ordering::Relaxed))
    }

    #[test]
    fn budget_is_spread_over_deciseconds() {
        let (now, clock) = fake();
        let s = RateLimitingSampler::with_clock(100, clock);
        // A burst in the first decisecond gets a tenth of the second's budget.
        assert_eq!((0..1000).filter(|_| s.try_acquire()).count(), 10);
        now.store(550_000_000, Ordering::Relaxed); // decisecond 5: cumulative 60
        assert_eq!((0..1000).filter(|_| s.try_acquire()).count(), 50);
        now.store(999_000_000, Ordering::Relaxed);
        assert_eq!((0..1000).filter(|_| s.try_acquire()).count(), 40);
        now.store(1_000_000_000, Ordering::Relaxed);
        assert_eq!((0..1000).filter(|_| s.try_acquire()).count(), 10);
    }

    #[test]
    fn small_rates_get_one_budget_per_second() {
        let (now, clock) = fake();
        let s = RateLimitingSampler::with_clock(3, clock);
        assert_eq!((0..100).filter(|_| s.try_acquire()).count(), 3);
        now.store(1_500_000_000, Ordering::Relaxed);
        assert_eq!((0..100).filter(|_| s.try_acquire()).count(), 3);
    }

    #[test]
    fn uneven_rate_gives_the_remainder_first() {
        let (_, clock) = fake();
        let s = RateLimitingSampler::with_clock(25, clock);
        assert_eq!(s.max[0], 7);
        assert_eq!(s.max[9], 25);
    }
}
