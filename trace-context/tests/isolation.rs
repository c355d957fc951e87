//! A panic inside a context, a future dropped mid-flight, an early return: the thread's previous
//! context is intact afterwards — checked on threads that are reused (a runtime with one worker,
//! a blocking pool of one thread, a rayon pool of one thread).

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};
use std::thread::ThreadId;
use std::time::Duration;

use futures::FutureExt;
use trace_context::{mdc, Context, TraceId, WithContext};

fn ctx(n: u128) -> Context {
    Context::builder(TraceId::from_u128(n).unwrap()).build()
}

fn current() -> Option<u128> {
    trace_context::current_trace_id().map(TraceId::to_u128)
}

fn one_worker() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

/// Silences the panics this file provokes on purpose; any other panic (a failed assertion) is
/// still reported.
fn quiet_panics() {
    const EXPECTED: &[&str] = &[
        "boom",
        "x",
        "task panic",
        "child panic",
        "inner future panic",
        "blocking panic",
    ];
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let msg = info
                .payload()
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| info.payload().downcast_ref::<String>().map(String::as_str));
            if !msg.is_some_and(|m| EXPECTED.contains(&m)) {
                default(info);
            }
        }));
    });
}

#[test]
fn panic_inside_a_guard_restores_the_previous_context() {
    quiet_panics();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let first: ThreadId = pool.install(|| {
        let outer = ctx(1);
        let _g = outer.enter();
        let r = catch_unwind(|| {
            let _inner = ctx(2).enter();
            assert_eq!(current(), Some(2));
            panic!("boom");
        });
        assert!(r.is_err());
        assert_eq!(current(), Some(1));

        // Through `scope` and `wrap` as well.
        let r = catch_unwind(|| ctx(3).scope(|| panic!("boom")));
        assert!(r.is_err());
        assert_eq!(current(), Some(1));
        let r = catch_unwind(AssertUnwindSafe(trace_context::wrap(|| panic!("boom"))));
        assert!(r.is_err());
        assert_eq!(current(), Some(1));

        // A panic inside a read of the slot leaves it usable.
        let r = catch_unwind(|| Context::with_current(|_| panic!("boom")));
        assert!(r.is_err());
        assert!(mdc::put("after", "panic"));
        assert_eq!(mdc::get("after").as_deref(), Some("panic"));
        std::thread::current().id()
    });
    // The same pooled thread, next job: nothing left behind.
    let (second, seen) = pool.install(|| (std::thread::current().id(), current()));
    assert_eq!(first, second);
    assert_eq!(seen, None);

    // A panicking wrapped job on the pool itself.
    let r = pool.install(|| catch_unwind(trace_context::wrap(|| ctx(4).scope(|| panic!("x")))));
    assert!(r.is_err());
    assert_eq!(pool.install(current), None);
}

#[test]
fn panic_inside_a_task_leaves_the_worker_clean() {
    quiet_panics();
    let rt = one_worker();
    rt.block_on(async {
        // A spawned task that panics inside its context.
        let h = tokio::spawn(
            async {
                tokio::task::yield_now().await;
                panic!("task panic");
            }
            .with_context(ctx(10)),
        );
        assert!(h.await.unwrap_err().is_panic());
        // The next task on the one worker sees no context.
        let seen = tokio::spawn(async { current() }).await.unwrap();
        assert_eq!(seen, None);

        // A parent whose child panics keeps its own context.
        let parent = async {
            let h = trace_context::spawn(async {
                mdc::put("child", "1");
                panic!("child panic");
            });
            assert!(h.await.unwrap_err().is_panic());
            (current(), mdc::get("child"))
        }
        .with_context(ctx(11));
        let (id, child_field) = tokio::spawn(parent).await.unwrap();
        assert_eq!(id, Some(11));
        assert_eq!(child_field, None);

        // A panic caught inside the same poll (catch_unwind on the future).
        let outer = async {
            let r = AssertUnwindSafe(
                async {
                    tokio::task::yield_now().await;
                    panic!("inner future panic");
                }
                .with_context(ctx(13)),
            )
            .catch_unwind()
            .await;
            assert!(r.is_err());
            current()
        }
        .with_context(ctx(12));
        assert_eq!(tokio::spawn(outer).await.unwrap(), Some(12));

        // A blocking job that panics: the single blocking thread is reused cleanly.
        let t1 = tokio::task::spawn_blocking(|| std::thread::current().id())
            .await
            .unwrap();
        // Spawned from inside a context: the blocking job inherits it.
        let h = ctx(14).scope(|| {
            trace_context::spawn_blocking(|| {
                assert_eq!(current(), Some(14));
                panic!("blocking panic");
            })
        });
        assert!(h.await.unwrap_err().is_panic());
        let (t2, seen) = tokio::task::spawn_blocking(|| (std::thread::current().id(), current()))
            .await
            .unwrap();
        assert_eq!(t1, t2, "the blocking pool reused its thread");
        assert_eq!(seen, None);
    });
}

/// Pending once, then ready; sees the context during each poll.
struct Probe {
    polls: Arc<Mutex<Vec<Option<u128>>>>,
}

impl Future for Probe {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _cx: &mut TaskContext<'_>) -> Poll<()> {
        self.polls.lock().unwrap().push(current());
        Poll::Pending
    }
}

#[test]
fn a_future_dropped_mid_flight_restores_the_previous_context() {
    let rt = one_worker();
    rt.block_on(async {
        let task = async {
            let polls = Arc::new(Mutex::new(Vec::new()));
            // Polled, pending, then dropped by the timeout.
            let fut = Probe {
                polls: Arc::clone(&polls),
            }
            .with_context(ctx(21));
            let r = tokio::time::timeout(Duration::from_millis(5), fut).await;
            assert!(r.is_err());
            assert_eq!(polls.lock().unwrap().first(), Some(&Some(21)));
            let after_timeout = current();

            // Dropped by select! when the other branch wins.
            let long = async {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                current()
            }
            .with_context(ctx(22));
            let winner = tokio::select! {
                v = long => v,
                _ = tokio::task::yield_now() => current(),
            };

            // Polled once by hand and dropped.
            let mut once = Box::pin(
                Probe {
                    polls: Arc::clone(&polls),
                }
                .with_context(ctx(23)),
            );
            assert!(once.as_mut().now_or_never().is_none());
            drop(once);
            let seen = polls.lock().unwrap().clone();
            (after_timeout, winner, current(), seen)
        }
        .with_context(ctx(20));
        let (after_timeout, winner, end, polls) = tokio::spawn(task).await.unwrap();
        assert_eq!(after_timeout, Some(20));
        assert_eq!(winner, Some(20));
        assert_eq!(end, Some(20));
        assert!(polls.contains(&Some(23)));
        // The worker is clean for the next task.
        assert_eq!(tokio::spawn(async { current() }).await.unwrap(), None);

        // An aborted task, too.
        let h = tokio::spawn(
            async {
                tokio::time::sleep(Duration::from_secs(3600)).await;
            }
            .with_context(ctx(24)),
        );
        tokio::task::yield_now().await;
        h.abort();
        assert!(h.await.unwrap_err().is_cancelled());
        assert_eq!(tokio::spawn(async { current() }).await.unwrap(), None);
    });
}

fn early_return(n: u128, fail: bool) -> Result<u128, &'static str> {
    let _g = ctx(n).enter();
    if fail {
        return Err("early");
    }
    let id = current().ok_or("no context")?;
    Ok(id)
}

fn question_mark(n: u128) -> Result<(), std::num::ParseIntError> {
    let _g = ctx(n).enter();
    let _: u32 = "not a number".parse()?;
    Ok(())
}

#[test]
fn early_return_restores_the_previous_context() {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    pool.install(|| {
        let _outer = ctx(30).enter();
        assert_eq!(early_return(31, true), Err("early"));
        assert_eq!(current(), Some(30));
        assert_eq!(early_return(32, false), Ok(32));
        assert_eq!(current(), Some(30));
        assert!(question_mark(33).is_err());
        assert_eq!(current(), Some(30));
        // Loops with break / continue.
        for i in 0..3u128 {
            let _g = ctx(40 + i).enter();
            if i == 1 {
                continue;
            }
            if i == 2 {
                break;
            }
        }
        assert_eq!(current(), Some(30));
    });
    assert_eq!(pool.install(current), None);

    // Early return from an async block running in a context.
    let rt = one_worker();
    rt.block_on(async {
        let task = async {
            let inner: Result<(), &str> = async {
                tokio::task::yield_now().await;
                Err("early")?;
                Ok(())
            }
            .with_context(ctx(51))
            .await;
            (inner, current())
        }
        .with_context(ctx(50));
        let (inner, after) = tokio::spawn(task).await.unwrap();
        assert_eq!(inner, Err("early"));
        assert_eq!(after, Some(50));
    });
}

#[test]
fn without_context_hides_the_callers_context_and_gives_it_back() {
    let rt = one_worker();
    rt.block_on(async {
        let task = async {
            let inside = async {
                tokio::task::yield_now().await;
                current()
            }
            .without_context()
            .await;
            (inside, current())
        }
        .with_context(ctx(60));
        assert_eq!(tokio::spawn(task).await.unwrap(), (None, Some(60)));
    });
}
