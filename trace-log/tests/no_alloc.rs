//! Once warm, writing an event allocates nothing: a counting global allocator (this test binary
//! only) counts the allocations made by the measuring thread while it logs to a sink.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use trace_context::{AppTraceId, Context, SpanId};

struct Counting;

thread_local! {
    static ON: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<usize> = const { Cell::new(0) };
}

fn note() {
    let _ = ON.try_with(|on| {
        if on.get() {
            let _ = COUNT.try_with(|c| c.set(c.get() + 1));
        }
    });
}

// SAFETY: every call is forwarded to the system allocator unchanged; counting touches only
// const-initialised thread-locals, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Allocations made by this thread while `f` runs.
fn allocations(f: impl FnOnce()) -> usize {
    COUNT.with(|c| c.set(0));
    ON.with(|on| on.set(true));
    f();
    ON.with(|on| on.set(false));
    COUNT.with(Cell::get)
}

/// Every conversion, with modifiers.
const FULL_PATTERN: &str =
    "%d{ISO8601} %d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX, +02:00} %-5level [%15.15thread] \
    %logger{10} %.-8logger %line %file %module [%traceId/%spanId/%parentId/%appTraceId/%tid] \
    %X{tenant} %X{user:-x} %X{missing} %X %X{traceId} %r - %.-50msg%fields%n";

fn request_context() -> Context {
    let app = AppTraceId::parse(b"web-42").unwrap();
    Context::builder(app.trace_id())
        .span_id(SpanId::random())
        .app_trace_id(app)
        .field("tenant", "acme")
        .field("user", "ann")
        .build()
}

fn emit(i: u64) {
    tracing::info!(target: "shop::orders::repository", order_id = i, note = "x\ny", "order {} placed", i);
}

/// A sink that counts the lines written to it (without allocating).
#[derive(Clone, Default)]
struct LineCounter(Arc<AtomicUsize>);

struct LineCounterWriter<'a>(&'a AtomicUsize);

impl io::Write for LineCounterWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let lines = buf.iter().filter(|&&b| b == b'\n').count();
        self.0.fetch_add(lines, Ordering::Relaxed);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LineCounter {
    type Writer = LineCounterWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineCounterWriter(&self.0)
    }
}

/// Allocations while 2000 `tracing` and 2000 `log` events are written, after a warm-up.
fn measure(builder: trace_log::Builder) -> usize {
    let lines = LineCounter::default();
    let subscriber = builder
        .ignore_env()
        .default_filter("trace")
        .writer(lines.clone())
        .subscriber()
        .unwrap();
    let count = tracing::subscriber::with_default(subscriber, || {
        let _g = request_context().enter();
        let span = tracing::info_span!("request", method = "GET", path = "/orders/7");
        let _e = span.enter();
        for i in 0..200 {
            emit(i);
            log::info!("from the log crate {i}");
        }
        allocations(|| {
            for i in 0..2000 {
                emit(i);
                log::info!("from the log crate {i}");
            }
        })
    });
    // Every event was written: the measurement saw real work.
    assert_eq!(lines.0.load(Ordering::Relaxed), 4400);
    count
}

#[test]
fn the_counter_counts() {
    assert_eq!(allocations(|| drop(std::hint::black_box(Box::new(7)))), 1);
    assert_eq!(allocations(|| ()), 0);
}

#[test]
fn pattern_lines_do_not_allocate_once_warm() {
    let _ = tracing_log::LogTracer::init();
    assert_eq!(measure(trace_log::builder()), 0, "default pattern");
    assert_eq!(
        measure(trace_log::builder().pattern(FULL_PATTERN)),
        0,
        "every conversion"
    );
}

#[test]
fn json_lines_do_not_allocate_once_warm() {
    let _ = tracing_log::LogTracer::init();
    assert_eq!(measure(trace_log::builder().json()), 0);
}
