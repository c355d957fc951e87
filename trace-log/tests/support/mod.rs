//! Shared test helpers: a capturing writer, fixed contexts, date checks.
#![allow(dead_code)]

use std::io;
use std::sync::{Arc, Mutex, MutexGuard, Once};
use std::time::{SystemTime, UNIX_EPOCH};

use trace_context::{AppTraceId, Context, SpanId, TraceId};
use tracing_subscriber::fmt::MakeWriter;

pub const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
pub const SPAN: &str = "00f067aa0ba902b7";
pub const PARENT: &str = "1111111111111111";

/// Collects everything written, line by line.
#[derive(Clone, Default)]
pub struct Capture(Arc<Mutex<Vec<u8>>>);

pub struct CaptureWriter(Arc<Mutex<Vec<u8>>>);

fn lock(m: &Mutex<Vec<u8>>) -> MutexGuard<'_, Vec<u8>> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl io::Write for CaptureWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        lock(&self.0).extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = CaptureWriter;

    fn make_writer(&'a self) -> CaptureWriter {
        CaptureWriter(self.0.clone())
    }
}

impl Capture {
    pub fn text(&self) -> String {
        String::from_utf8(lock(&self.0).clone()).expect("log output is UTF-8")
    }

    pub fn lines(&self) -> Vec<String> {
        self.text().lines().map(str::to_owned).collect()
    }
}

/// Installs `tracing-log`'s `LogTracer` once per test binary, so `log` events reach the
/// thread's default subscriber.
pub fn log_bridge() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = tracing_log::LogTracer::init();
    });
}

/// Runs `f` on a thread named `golden` under a subscriber built from `builder`; returns what
/// was written.
pub fn run_with(builder: trace_log::Builder, f: impl FnOnce() + Send + 'static) -> String {
    log_bridge();
    let cap = Capture::default();
    let subscriber = builder
        .ignore_env()
        .default_filter("trace")
        .writer(cap.clone())
        .subscriber()
        .expect("valid options");
    std::thread::Builder::new()
        .name("golden".into())
        .spawn(move || tracing::subscriber::with_default(subscriber, f))
        .expect("spawn")
        .join()
        .expect("no panic");
    cap.text()
}

/// `run_with` for a pattern.
pub fn render(pattern: &str, f: impl FnOnce() + Send + 'static) -> String {
    run_with(trace_log::builder().pattern(pattern), f)
}

/// A context with fixed ids and two MDC fields.
pub fn fixed_context() -> Context {
    Context::builder(TraceId::parse(TRACE).unwrap())
        .span_id(SpanId::parse(SPAN).unwrap())
        .parent_span_id(Some(SpanId::parse(PARENT).unwrap()))
        .field("tenant", "acme")
        .field("user", "ann")
        .build()
}

/// A context whose `X-App-Trace-Id` is not an id (`web-42`): the trace id is derived from it.
pub fn app_context() -> Context {
    let app = AppTraceId::parse(b"web-42").unwrap();
    Context::builder(app.trace_id())
        .span_id(SpanId::parse(SPAN).unwrap())
        .app_trace_id(app)
        .build()
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// `yyyy-MM-dd HH:mm:ss.SSS` (UTC, `,` or `.` before the millis) to milliseconds since the
/// epoch, by counting days.
pub fn parse_date_ms(s: &str) -> i64 {
    let num =
        |a: usize, b: usize| -> i64 { s[a..b].parse().unwrap_or_else(|_| panic!("date {s:?}")) };
    let (y, mo, d) = (num(0, 4), num(5, 7), num(8, 10));
    let (h, mi, sec, ms) = (num(11, 13), num(14, 16), num(17, 19), num(20, 23));
    let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let mut days = 0;
    for year in 1970..y {
        days += if leap(year) { 366 } else { 365 };
    }
    let month_days = [
        31,
        if leap(y) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    days += month_days[..(mo - 1) as usize].iter().sum::<i64>();
    days += d - 1;
    ((days * 24 + h) * 60 + mi) * 60_000 + sec * 1000 + ms
}

/// Asserts that `date` (as [`parse_date_ms`] reads it, shifted by `offset_secs`) lies between
/// the two instants.
pub fn assert_date_between(date: &str, offset_secs: i64, before_ms: i64, after_ms: i64) {
    let t = parse_date_ms(date) - offset_secs * 1000;
    assert!(
        before_ms <= t && t <= after_ms,
        "date {date} ({t}) not within [{before_ms}, {after_ms}]"
    );
}
