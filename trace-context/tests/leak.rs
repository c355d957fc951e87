//! No leakage: many concurrent units of work, each with its own context, hopping threads and
//! spawning children — every one sees exactly its own id at every step, a child's `put` never
//! reaches its parent, and work without a context never sees someone else's.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;
use std::time::Duration;

use trace_context::{mdc, Context, TraceId, WithContext};

const TASKS: u128 = 10_000;
const STEPS: usize = 12;

fn own_context(i: u128) -> Context {
    Context::builder(TraceId::from_u128(i + 1).unwrap())
        .field("task", &i.to_string())
        .build()
}

/// Asserts the current context is task `i`'s own (trace id, span id, MDC field).
fn assert_own(i: u128, span: trace_context::SpanId, step: &str) {
    Context::with_current(|c| {
        let c = c.unwrap_or_else(|| panic!("task {i} lost its context at {step}"));
        assert_eq!(c.trace_id().to_u128(), i + 1, "task {i} at {step}");
        assert_eq!(c.span_id(), span, "task {i} at {step}");
        assert_eq!(
            c.field("task"),
            Some(i.to_string().as_str()),
            "task {i} at {step}"
        );
    });
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn ten_thousand_tokio_tasks_each_see_only_their_own_context() {
    let rt = runtime();
    let checks = Arc::new(AtomicUsize::new(0));
    let hops = Arc::new(AtomicUsize::new(0));
    rt.block_on(async {
        let mut handles = Vec::with_capacity(TASKS as usize + 1000);
        for i in 0..TASKS {
            let ctx = own_context(i);
            let span = ctx.span_id();
            let task_checks = Arc::clone(&checks);
            let hops = Arc::clone(&hops);
            let task = async move {
                let mut last: ThreadId = std::thread::current().id();
                for step in 0..STEPS {
                    assert_own(i, span, &format!("step {step}"));
                    if step % 4 == 3 {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    } else {
                        tokio::task::yield_now().await;
                    }
                    assert_own(i, span, &format!("after await {step}"));
                    let now = std::thread::current().id();
                    if now != last {
                        hops.fetch_add(1, Ordering::Relaxed);
                        last = now;
                    }
                    task_checks.fetch_add(1, Ordering::Relaxed);

                    if step == 5 {
                        // An async child: same trace, own snapshot.
                        let child = trace_context::spawn(async move {
                            assert_own(i, span, "child start");
                            assert!(mdc::put("task", "overwritten-by-child"));
                            assert!(mdc::put("child", "yes"));
                            tokio::task::yield_now().await;
                            tokio::time::sleep(Duration::from_millis(1)).await;
                            assert_eq!(mdc::get("task").as_deref(), Some("overwritten-by-child"));
                            assert_eq!(
                                trace_context::current_trace_id().map(TraceId::to_u128),
                                Some(i + 1)
                            );
                            // A grandchild started from a child span.
                            let child_span = Context::current().unwrap().child();
                            let grand = async move {
                                tokio::task::yield_now().await;
                                Context::current().unwrap()
                            }
                            .with_context(child_span.clone())
                            .await;
                            assert_eq!(grand.parent_span_id(), Some(span));
                            assert_eq!(grand.trace_id().to_u128(), i + 1);
                            i
                        });
                        assert_eq!(child.await.unwrap(), i);
                        // The child's puts never reached the parent.
                        assert_own(i, span, "after child");
                        assert_eq!(mdc::get("child"), None);
                    }
                    if step == 8 {
                        let blocking = trace_context::spawn_blocking(move || {
                            assert_own(i, span, "blocking child");
                            assert!(mdc::put("task", "blocking"));
                            assert!(mdc::put("blocking", "yes"));
                            mdc::get("task")
                        });
                        assert_eq!(blocking.await.unwrap().as_deref(), Some("blocking"));
                        assert_own(i, span, "after blocking child");
                        assert_eq!(mdc::get("blocking"), None);
                    }
                    if step == 10 {
                        // The task's own put persists across its awaits.
                        assert!(mdc::put("mine", &i.to_string()));
                    }
                    if step > 10 {
                        assert_eq!(mdc::get("mine"), Some(i.to_string()));
                    }
                }
                i
            };
            handles.push(tokio::spawn(task.with_context(ctx)));

            // Interleaved work with no context must never see one.
            if i % 10 == 0 {
                let checks = Arc::clone(&checks);
                handles.push(tokio::spawn(async move {
                    for _ in 0..STEPS {
                        assert_eq!(trace_context::current_trace_id(), None);
                        tokio::task::yield_now().await;
                        checks.fetch_add(1, Ordering::Relaxed);
                    }
                    u128::MAX
                }));
            }
        }
        let mut done = HashSet::new();
        for h in handles {
            let i = h.await.expect("a task panicked: see the assertion above");
            if i != u128::MAX {
                assert!(done.insert(i));
            }
        }
        assert_eq!(done.len(), TASKS as usize);
    });
    let want = TASKS as usize * STEPS + (TASKS as usize / 10) * STEPS;
    assert_eq!(checks.load(Ordering::Relaxed), want);
    // The tasks really moved between worker threads while running.
    assert!(hops.load(Ordering::Relaxed) > 0);
    // And the workers are clean afterwards.
    rt.block_on(async {
        let mut hs = Vec::new();
        for _ in 0..64 {
            hs.push(tokio::spawn(async {
                tokio::task::yield_now().await;
                trace_context::current_trace_id()
            }));
        }
        for h in hs {
            assert_eq!(h.await.unwrap(), None);
        }
    });
}

#[test]
fn rayon_pool_jobs_see_only_their_own_context() {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .unwrap();
    let checks = Arc::new(AtomicUsize::new(0));
    let threads = Arc::new(Mutex::new(HashSet::new()));
    const JOBS: u128 = 2_000;
    pool.scope(|s| {
        for i in 0..JOBS {
            let ctx = own_context(i);
            let span = ctx.span_id();
            let job_checks = Arc::clone(&checks);
            let threads = Arc::clone(&threads);
            let job = {
                let _g = ctx.enter();
                trace_context::wrap(move || {
                    threads.lock().unwrap().insert(std::thread::current().id());
                    assert_own(i, span, "rayon job");
                    // Nested work-stealing: both halves inherit, neither leaks back.
                    let (a, b) = rayon::join(
                        trace_context::wrap(move || {
                            assert_own(i, span, "join a");
                            mdc::put("task", "a");
                            mdc::get("task")
                        }),
                        trace_context::wrap(move || {
                            assert_own(i, span, "join b");
                            mdc::put("side", "b");
                            trace_context::current_trace_id()
                        }),
                    );
                    assert_eq!(a.as_deref(), Some("a"));
                    assert_eq!(b.map(TraceId::to_u128), Some(i + 1));
                    assert_own(i, span, "after join");
                    assert_eq!(mdc::get("side"), None);
                    job_checks.fetch_add(1, Ordering::Relaxed);
                })
            };
            // The submitting thread's context is gone again once the guard drops.
            assert_eq!(trace_context::current_trace_id(), None);
            // Interleaved with wrapped jobs that run without a context of their own: a job
            // blocked in `join` may run them on its stack (work stealing), so unwrapped
            // jobs are not part of the guarantee here; wrapped ones always are.
            if i % 4 == 0 {
                let checks = Arc::clone(&checks);
                let bare = trace_context::Context::new_root();
                let expect = bare.trace_id();
                let f = bare.scope(|| {
                    trace_context::wrap(move || {
                        assert_eq!(trace_context::current_trace_id(), Some(expect));
                        checks.fetch_add(1, Ordering::Relaxed);
                    })
                });
                s.spawn(move |_| f());
            }
            s.spawn(move |_| job());
        }
    });
    assert_eq!(
        checks.load(Ordering::Relaxed),
        JOBS as usize + JOBS as usize / 4
    );
    assert!(threads.lock().unwrap().len() <= 3);

    // Jobs that do not block inside their context (no nested join/scope): unwrapped jobs
    // interleaved with them never see a context.
    let clean = Arc::new(AtomicUsize::new(0));
    pool.scope(|s| {
        for i in 0..JOBS {
            let ctx = own_context(i);
            let span = ctx.span_id();
            let job = ctx.scope(|| {
                trace_context::wrap(move || {
                    assert_own(i, span, "flat rayon job");
                    mdc::put("task", "changed");
                })
            });
            s.spawn(move |_| job());
            let clean = Arc::clone(&clean);
            s.spawn(move |_| {
                assert_eq!(trace_context::current_trace_id(), None);
                clean.fetch_add(1, Ordering::Relaxed);
            });
        }
    });
    assert_eq!(clean.load(Ordering::Relaxed), JOBS as usize);

    // wrap_fn for par_iter: every call runs in the caller's context.
    use rayon::prelude::*;
    let ctx = own_context(77);
    let _g = ctx.enter();
    let f = trace_context::wrap_fn(|x: u32| (x, trace_context::current_trace_id()));
    let out: Vec<_> = pool.install(|| (0..1_000u32).into_par_iter().map(f).collect());
    assert_eq!(out.len(), 1_000);
    assert!(out.iter().all(|(_, id)| *id == Some(ctx.trace_id())));
    drop(_g);
    let bare: Vec<_> = pool.install(|| {
        (0..1_000u32)
            .into_par_iter()
            .map(|_| trace_context::current_trace_id())
            .collect()
    });
    assert!(bare.iter().all(Option::is_none));
}

type Job = Box<dyn FnOnce() + Send + 'static>;

/// A minimal fixed pool: 4 threads taking jobs from one channel, reused for every job.
struct ThreadPool {
    sender: Option<mpsc::Sender<Job>>,
    workers: Vec<std::thread::JoinHandle<()>>,
}

impl ThreadPool {
    fn new(n: usize) -> ThreadPool {
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        let workers = (0..n)
            .map(|_| {
                let receiver = Arc::clone(&receiver);
                std::thread::spawn(move || loop {
                    let job = receiver.lock().unwrap().recv();
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                })
            })
            .collect();
        ThreadPool {
            sender: Some(sender),
            workers,
        }
    }

    fn execute(&self, job: impl FnOnce() + Send + 'static) {
        self.sender.as_ref().unwrap().send(Box::new(job)).unwrap();
    }
}

impl Drop for ThreadPool {
    fn drop(&mut self) {
        drop(self.sender.take());
        for w in self.workers.drain(..) {
            w.join().unwrap();
        }
    }
}

#[test]
fn std_thread_pool_jobs_see_only_their_own_context() {
    const JOBS: u128 = 4_000;
    let (done_tx, done_rx) = mpsc::channel::<(u128, ThreadId, bool)>();
    {
        let pool = ThreadPool::new(4);
        for i in 0..JOBS {
            let done = done_tx.clone();
            if i % 3 == 0 {
                // A job submitted outside any context gets a fresh trace of its own.
                pool.execute(trace_context::wrap(move || {
                    let c = Context::current().unwrap();
                    let fresh = c.trace_id().to_u128() > JOBS && c.field("task").is_none();
                    done.send((i, std::thread::current().id(), fresh)).unwrap();
                }));
                continue;
            }
            if i % 3 == 1 {
                // An unwrapped job sees nothing, whatever ran on the thread before.
                pool.execute(move || {
                    let clean = trace_context::current_trace_id().is_none();
                    done.send((i, std::thread::current().id(), clean)).unwrap();
                });
                continue;
            }
            let ctx = own_context(i);
            let span = ctx.span_id();
            let job = ctx.scope(|| {
                trace_context::wrap(move || {
                    assert_own(i, span, "pool job");
                    mdc::put("task", "changed in the job");
                    // A thread spawned from the job inherits in turn.
                    let seen = std::thread::spawn(trace_context::wrap(move || {
                        (trace_context::current_trace_id(), mdc::get("task"))
                    }))
                    .join()
                    .unwrap();
                    let ok = seen.0.map(TraceId::to_u128) == Some(i + 1)
                        && seen.1.as_deref() == Some("changed in the job");
                    done.send((i, std::thread::current().id(), ok)).unwrap();
                })
            });
            // The job's change did not (and could not) reach the submitter's context.
            assert_eq!(ctx.field("task"), Some(i.to_string().as_str()));
            pool.execute(job);
        }
    }
    drop(done_tx);
    let results: Vec<_> = done_rx.iter().collect();
    assert_eq!(results.len(), JOBS as usize);
    for (i, _, ok) in &results {
        assert!(ok, "job {i} saw a wrong context");
    }
    let threads: HashSet<_> = results.iter().map(|(_, t, _)| *t).collect();
    assert!(threads.len() <= 4, "the pool reuses its 4 threads");
}
