//! Reading the process-wide sampler for a decision, as trace-tower does once per request:
//! `with_global_sampler` (a per-thread handle, one counter read) against `global_sampler()`
//! (read lock + shared reference count), on one thread and on two threads at once (two cores
//! serving requests: there the shared lock word and count bounce between the cores).
//!
//! Run: `cargo bench -p trace-context --bench sampler`. Figures: trace-context/BENCHMARKS.md.

mod support;

use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use trace_context::{global_sampler, set_global_sampler, with_global_sampler, Sampler};
use trace_context::{Sampling, TraceId};

/// Samples the lower half of the id space (a cheap, realistic decision).
struct Half;

impl Sampler for Half {
    fn should_sample(&self, id: TraceId, _: Sampling) -> bool {
        id.random_bits56() < (1 << 55)
    }
}

fn decide_with(id: TraceId) -> bool {
    with_global_sampler(|s| s.should_sample(id, Sampling::Deferred))
}

fn decide_arc(id: TraceId) -> bool {
    global_sampler().should_sample(id, Sampling::Deferred)
}

/// Time per decision with `threads` threads deciding at once (the mean over the threads).
fn concurrent(threads: usize, iters: u64, decide: fn(TraceId) -> bool) -> Duration {
    let start = Arc::new(Barrier::new(threads));
    let id = TraceId::from_u128(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736).expect("non-zero");
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let start = start.clone();
            std::thread::spawn(move || {
                start.wait();
                let t = Instant::now();
                for _ in 0..iters {
                    black_box(decide(black_box(id)));
                }
                t.elapsed()
            })
        })
        .collect();
    let total: Duration = workers.into_iter().map(|w| w.join().unwrap()).sum();
    total / threads as u32
}

fn sampler(c: &mut Criterion) {
    set_global_sampler(Arc::new(Half));
    let mut g = c.benchmark_group("global_sampler");
    for threads in [1, 2] {
        g.bench_function(format!("with_global_sampler/{threads}_threads"), |b| {
            b.iter_custom(|iters| concurrent(threads, iters, decide_with))
        });
        g.bench_function(format!("global_sampler_arc/{threads}_threads"), |b| {
            b.iter_custom(|iters| concurrent(threads, iters, decide_arc))
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = support::config();
    targets = sampler
}
criterion_main!(benches);
