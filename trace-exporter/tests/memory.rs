//! Resident memory with the collector down: 1,000,000 spans offered stay within the queue
//! bound plus 16 MiB (Linux: reads VmRSS from /proc/self/status).

use std::sync::Arc;
use std::time::Duration;

use trace_context::{SpanId, TraceId};
use trace_exporter::{
    AsyncReporter, Endpoint, Kind, ReporterOptions, Sink, SpanRecord, ZipkinHttp,
};

fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[test]
fn collector_down_one_million_spans_stay_bounded() {
    let Some(before) = rss_bytes() else {
        eprintln!("no /proc/self/status: skipped");
        return;
    };
    let refused = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        format!("http://127.0.0.1:{port}/api/v2/spans")
    };
    let http = ZipkinHttp::with_timeouts(
        &refused,
        false,
        Duration::from_millis(200),
        Duration::from_millis(200),
    )
    .unwrap();
    let opts = ReporterOptions {
        retry_for: Duration::from_millis(200),
        ..ReporterOptions::default()
    };
    let queue = opts.queue_size;
    let reporter = AsyncReporter::new(http, opts).unwrap();
    let local = Arc::new(Endpoint::service("order").with_port(8080));
    let mut one_span_bytes = 0;
    let mut peak = before;
    for i in 0..1_000_000u64 {
        let mut s = SpanRecord::new(
            TraceId::random(),
            SpanId::random(),
            "get /order/{id}",
            Arc::clone(&local),
        );
        s.kind = Some(Kind::Server);
        s.timestamp = 1_700_000_000_000_000 + i;
        s.duration = 100;
        s.set_tag("http.method", "GET");
        s.set_tag("http.path", "/order/1001");
        s.set_tag("http.status_code", "200");
        if i == 0 {
            one_span_bytes = std::mem::size_of::<SpanRecord>() as u64 + 128;
        }
        reporter.report(s);
        if i % 50_000 == 0 {
            peak = peak.max(rss_bytes().unwrap_or(0));
        }
    }
    peak = peak.max(rss_bytes().unwrap_or(0));
    let m = reporter.metrics();
    assert_eq!(m.spans, 1_000_000);
    assert_eq!(m.spans_sent, 0);
    assert!(m.spans_dropped > 0);
    // Queue bound (spans held by the queue, plus one message's worth held by the sender)
    // plus 16 MiB.
    let bound = 2 * queue as u64 * one_span_bytes + 500 * 1024 + 16 * 1024 * 1024;
    let grown = peak.saturating_sub(before);
    eprintln!(
        "RSS grew by {} KiB (bound {} KiB)",
        grown / 1024,
        bound / 1024
    );
    assert!(grown <= bound, "RSS grew by {grown} bytes, bound {bound}");
    let _ = reporter.shutdown(Duration::from_millis(500));
    let m = reporter.metrics();
    assert_eq!(m.spans_dropped + m.pending_spans, 1_000_000, "{m:?}");
}
