//! The process-wide sampler: replaced while threads use it, seen by every thread's next
//! decision, and the replaced one let go of. (Its own test binary: it sets global state.)

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};

use trace_context::{set_global_sampler, with_global_sampler, Context, Sampler, Sampling, TraceId};

/// Samples when `yes`, and counts its decisions.
struct Fixed {
    yes: bool,
    calls: AtomicUsize,
}

impl Fixed {
    fn new(yes: bool) -> Arc<Fixed> {
        Arc::new(Fixed {
            yes,
            calls: AtomicUsize::new(0),
        })
    }
}

impl Sampler for Fixed {
    fn should_sample(&self, _: TraceId, _: Sampling) -> bool {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.yes
    }
}

/// Asks the global sampler from inside a decision.
struct Nested;

impl Sampler for Nested {
    fn should_sample(&self, id: TraceId, upstream: Sampling) -> bool {
        // The inner call sees this same sampler: answer it without recursing further.
        if upstream == Sampling::Debug {
            return true;
        }
        with_global_sampler(|s| s.should_sample(id, Sampling::Debug))
    }
}

fn decide_here() -> bool {
    with_global_sampler(|s| s.should_sample(TraceId::random(), Sampling::Deferred))
}

#[test]
fn replaced_sampler_reaches_every_thread_and_is_released() {
    // Before any sampler is set: follow upstream, sample without a decision.
    assert!(decide_here());
    assert!(!with_global_sampler(
        |s| s.should_sample(TraceId::random(), Sampling::NotSampled)
    ));

    let never = Fixed::new(false);
    set_global_sampler(never.clone());
    const THREADS: usize = 4;
    let start = Arc::new(Barrier::new(THREADS + 1));
    let replaced = Arc::new(Barrier::new(THREADS + 1));
    let workers: Vec<_> = (0..THREADS)
        .map(|_| {
            let (start, replaced) = (start.clone(), replaced.clone());
            std::thread::spawn(move || {
                // Each thread caches the first sampler...
                let first = (0..100).map(|_| decide_here()).filter(|&d| d).count();
                let root_first = Context::new_root().is_sampled();
                start.wait();
                // ...and sees the second one at its next decision, without a restart.
                replaced.wait();
                let second = (0..100).map(|_| decide_here()).filter(|&d| d).count();
                let root_second = Context::new_root().is_sampled();
                (first, root_first, second, root_second)
            })
        })
        .collect();
    start.wait();
    let always = Fixed::new(true);
    set_global_sampler(always.clone());
    replaced.wait();
    for w in workers {
        assert_eq!(w.join().unwrap(), (0, false, 100, true));
    }
    assert_eq!(never.calls.load(Ordering::Relaxed), THREADS * 101);
    assert_eq!(always.calls.load(Ordering::Relaxed), THREADS * 101);
    // The worker threads have exited: only this test still holds the first sampler (this
    // thread never decided with it) and the global slot holds the second.
    assert_eq!(Arc::strong_count(&never), 1);

    // This thread caches `always`; replacing it releases that handle at the next decision.
    assert!(decide_here());
    let count_before = Arc::strong_count(&always);
    set_global_sampler(Arc::new(Nested));
    // A sampler that asks for the global sampler inside its decision works (no double
    // borrow of the thread's cache).
    assert!(decide_here());
    assert_eq!(Arc::strong_count(&always), count_before - 2);
}
