//! The reporter against a real HTTP collector on 127.0.0.1: delivery, gzip, `b3: 0`,
//! retries, a full queue, a collector that is down or hangs, and shutdown.

mod support;

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use support::zipkin::{Mode, ZipkinReceiver};
use trace_context::{SpanId, TraceId};
use trace_exporter::{
    AsyncReporter, Endpoint, Kind, Message, ReporterOptions, SendError, Sink, SpanRecord,
    Transport, ZipkinHttp,
};

const WAIT: Duration = Duration::from_secs(20);

fn span(i: u64) -> SpanRecord {
    let local = Arc::new(Endpoint::service("order").with_port(8080));
    let mut s = SpanRecord::new(
        TraceId::random(),
        SpanId::random(),
        "get /order/{id}",
        local,
    );
    s.kind = Some(Kind::Server);
    s.timestamp = 1_700_000_000_000_000 + i;
    s.duration = 150;
    s.set_tag("http.method", "GET");
    s.set_tag("http.status_code", "200");
    s
}

fn http(url: &str, gzip: bool) -> ZipkinHttp {
    ZipkinHttp::with_timeouts(url, gzip, Duration::from_secs(2), Duration::from_secs(2)).unwrap()
}

fn options() -> ReporterOptions {
    ReporterOptions {
        flush_interval: Duration::from_millis(50),
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        ..ReporterOptions::default()
    }
}

#[test]
fn delivers_valid_spans_with_b3_0_and_json() {
    let zipkin = ZipkinReceiver::start();
    let reporter = AsyncReporter::new(http(&zipkin.url(), false), options()).unwrap();
    let sent: Vec<SpanRecord> = (0..250).map(span).collect();
    for s in &sent {
        reporter.report(s.clone());
    }
    reporter.flush(WAIT).unwrap();
    assert!(zipkin.errors().is_empty(), "{:?}", zipkin.errors());
    let got = zipkin.spans();
    assert_eq!(got.len(), 250);
    for (want, got) in sent.iter().zip(&got) {
        assert_eq!(got["traceId"], want.trace_id.to_string());
        assert_eq!(got["id"], want.id.to_string());
        assert!(got.get("parentId").is_none());
        assert_eq!(got["kind"], "SERVER");
        assert_eq!(got["localEndpoint"]["serviceName"], "order");
    }
    for r in zipkin.requests() {
        assert_eq!(
            r.b3.as_deref(),
            Some("0"),
            "reporter requests must not be traced"
        );
        assert_eq!(r.content_type.as_deref(), Some("application/json"));
        assert_eq!(r.content_encoding, None);
        assert_eq!(r.status, 202);
    }
    let m = reporter.metrics();
    assert_eq!((m.spans, m.spans_sent, m.spans_dropped), (250, 250, 0));
    assert!(m.messages >= 1);
    reporter.shutdown(WAIT).unwrap();
}

#[test]
fn gzip_bodies_decode() {
    let zipkin = ZipkinReceiver::start();
    let reporter = AsyncReporter::new(http(&zipkin.url(), true), options()).unwrap();
    for i in 0..100 {
        reporter.report(span(i));
    }
    reporter.shutdown(WAIT).unwrap();
    assert!(zipkin.errors().is_empty(), "{:?}", zipkin.errors());
    assert_eq!(zipkin.spans().len(), 100);
    let requests = zipkin.requests();
    assert!(!requests.is_empty());
    for r in requests {
        assert_eq!(r.content_encoding.as_deref(), Some("gzip"));
        assert_eq!(r.b3.as_deref(), Some("0"));
    }
}

#[test]
fn messages_respect_the_size_limit() {
    let zipkin = ZipkinReceiver::start();
    let opts = ReporterOptions {
        message_max_bytes: 4 * 1024,
        ..options()
    };
    let one = trace_exporter::encode::encoded_len(&span(0));
    let reporter = AsyncReporter::new(http(&zipkin.url(), false), opts).unwrap();
    for i in 0..200 {
        reporter.report(span(i));
    }
    reporter.shutdown(WAIT).unwrap();
    assert_eq!(zipkin.spans().len(), 200);
    let per_message = (4 * 1024 - 2) / (one + 1);
    for r in zipkin.requests() {
        assert!(r.spans <= per_message, "{} spans > {per_message}", r.spans);
    }
    assert!(zipkin.requests().len() >= 200 / per_message);
}

#[test]
fn shutdown_delivers_5000_queued_spans() {
    let zipkin = ZipkinReceiver::start();
    let opts = ReporterOptions {
        // Nothing is sent by the interval: only shutdown's flush delivers.
        flush_interval: Duration::from_secs(3600),
        ..options()
    };
    let reporter = AsyncReporter::new(http(&zipkin.url(), false), opts).unwrap();
    for i in 0..5000 {
        reporter.report(span(i));
    }
    reporter.shutdown(WAIT).unwrap();
    assert!(zipkin.errors().is_empty(), "{:?}", zipkin.errors());
    assert_eq!(zipkin.spans().len(), 5000);
    let m = reporter.metrics();
    assert_eq!(
        (m.spans_sent, m.spans_dropped, m.queued_spans),
        (5000, 0, 0)
    );
    // After shutdown, spans are refused and counted.
    reporter.report(span(1));
    assert_eq!(reporter.metrics().spans_dropped, 1);
}

#[test]
fn retries_500_then_delivers_after_recovery() {
    let zipkin = ZipkinReceiver::start();
    zipkin.set_mode(Mode::Fail);
    let reporter = AsyncReporter::new(http(&zipkin.url(), false), options()).unwrap();
    for i in 0..50 {
        reporter.report(span(i));
    }
    // Wait until the collector has refused at least three attempts.
    let deadline = std::time::Instant::now() + WAIT;
    while zipkin.requests().iter().filter(|r| r.status == 500).count() < 3 {
        assert!(std::time::Instant::now() < deadline, "no retries seen");
        std::thread::sleep(Duration::from_millis(10));
    }
    zipkin.set_mode(Mode::Accept);
    assert!(zipkin.wait_spans(50, WAIT), "spans lost after recovery");
    reporter.flush(WAIT).unwrap();
    let m = reporter.metrics();
    assert_eq!(m.spans_sent, 50);
    assert_eq!(m.spans_dropped, 0);
    assert!(m.retries >= 3);
    assert_eq!(m.messages_dropped, 0);
    reporter.shutdown(WAIT).unwrap();
}

#[test]
fn collector_down_bounded_and_every_span_counted() {
    let opts = ReporterOptions {
        queue_size: 1000,
        retry_for: Duration::from_millis(100),
        ..options()
    };
    let reporter = AsyncReporter::new(http(&ZipkinReceiver::refused_url(), false), opts).unwrap();
    let mut max_queued = 0;
    // Besides the queue, the reporter holds at most two messages (500 KiB each by default:
    // one being sent, one being built) and the chunk of at most 512 spans being packed.
    let one = trace_exporter::encode::encoded_len(&span(0)) as u64;
    let max_pending = 2 * (500 * 1024 / one) + 512;
    for i in 0..100_000 {
        reporter.report(span(i));
        if i % 1000 == 0 {
            let m = reporter.metrics();
            max_queued = max_queued.max(m.queued_spans);
            // Memory is bounded by the queue (plus one message being sent).
            assert!(m.queued_spans <= 1000, "{m:?}");
            assert!(m.pending_spans <= max_pending, "{m:?}");
        }
    }
    let _ = reporter.shutdown(Duration::from_millis(300));
    let m = reporter.metrics();
    assert_eq!(m.spans, 100_000);
    assert_eq!(m.spans_sent, 0);
    assert_eq!(m.queued_spans, 0);
    assert_eq!(m.pending_spans, 0, "{m:?}");
    assert_eq!(
        m.spans_dropped, 100_000,
        "every undelivered span is counted: {m:?}"
    );
    assert!(m.spans_dropped > 0 && max_queued <= 1000);
}

#[test]
fn hanging_collector_never_blocks_report_and_shutdown_times_out() {
    let zipkin = ZipkinReceiver::start();
    zipkin.set_mode(Mode::Hang);
    let t = ZipkinHttp::with_timeouts(
        &zipkin.url(),
        false,
        Duration::from_secs(1),
        Duration::from_secs(3600),
    )
    .unwrap();
    let opts = ReporterOptions {
        queue_size: 100,
        request_timeout: Duration::from_secs(3600),
        ..options()
    };
    let reporter = AsyncReporter::new(t, opts).unwrap();
    for i in 0..10_000 {
        reporter.report(span(i));
    }
    // The request path kept going: the queue filled up and the rest was dropped and counted.
    let m = reporter.metrics();
    assert_eq!(m.spans, 10_000);
    assert!(m.queued_spans <= 100, "{m:?}");
    assert!(m.spans_dropped > 0, "{m:?}");
    assert_eq!(
        m.spans_dropped + m.queued_spans + m.pending_spans,
        10_000,
        "{m:?}"
    );
    // Shutdown returns (at its timeout) although the collector never answers.
    assert!(reporter.shutdown(Duration::from_millis(300)).is_err());
    let m = reporter.metrics();
    assert_eq!(m.queued_spans, 0);
    assert_eq!(m.spans_sent, 0);
    // The message stuck in the hanging request is counted once its attempt ends.
    assert_eq!(m.spans_dropped + m.pending_spans, 10_000, "{m:?}");
}

/// A transport that blocks in `send` until released: the queue fills behind it.
#[derive(Clone, Default)]
struct Gate(Arc<(Mutex<bool>, Condvar)>, Arc<Mutex<usize>>);

impl Transport for Gate {
    fn send(&mut self, message: &Message<'_>, _timeout: Duration) -> Result<(), SendError> {
        *self.1.lock().unwrap() += message.len();
        let (open, cv) = &*self.0;
        let mut open = open.lock().unwrap();
        while !*open {
            open = cv.wait(open).unwrap();
        }
        Ok(())
    }
    fn describe(&self) -> String {
        "gate".into()
    }
}

#[test]
fn full_queue_drops_and_counts() {
    let gate = Gate::default();
    let opts = ReporterOptions {
        queue_size: 100,
        ..options()
    };
    let reporter = AsyncReporter::new(gate.clone(), opts).unwrap();
    reporter.report(span(0));
    // Wait until the sender holds that span in a blocked send.
    let deadline = std::time::Instant::now() + WAIT;
    while *gate.1.lock().unwrap() == 0 {
        assert!(std::time::Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(5));
    }
    for i in 0..1000 {
        reporter.report(span(i));
    }
    let m = reporter.metrics();
    assert_eq!(m.queued_spans, 100);
    assert_eq!(m.spans_dropped, 900);
    {
        let (open, cv) = &*gate.0;
        *open.lock().unwrap() = true;
        cv.notify_all();
    }
    reporter.shutdown(WAIT).unwrap();
    let m = reporter.metrics();
    assert_eq!(m.spans_sent, 101);
    assert_eq!(m.spans_dropped, 900);
    assert_eq!(m.spans, m.spans_sent + m.spans_dropped);
}

#[test]
fn oversized_span_is_dropped_alone() {
    let zipkin = ZipkinReceiver::start();
    let opts = ReporterOptions {
        message_max_bytes: 2048,
        ..options()
    };
    let reporter = AsyncReporter::new(http(&zipkin.url(), false), opts).unwrap();
    let mut big = span(0);
    big.set_tag("payload", "x".repeat(4000));
    reporter.report(big);
    reporter.report(span(1));
    reporter.shutdown(WAIT).unwrap();
    assert_eq!(zipkin.spans().len(), 1);
    let m = reporter.metrics();
    assert_eq!((m.spans_sent, m.spans_dropped), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_when_built_inside_a_tokio_runtime() {
    let zipkin = tokio::task::spawn_blocking(ZipkinReceiver::start)
        .await
        .unwrap();
    let reporter = trace_exporter::Reporter::builder()
        .service_name("inside-tokio")
        .endpoint(zipkin.url())
        .flush_interval(Duration::from_millis(20))
        .build()
        .unwrap();
    reporter.sink().report(span(7));
    let r = reporter.clone();
    tokio::task::spawn_blocking(move || r.flush(WAIT))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(reporter.metrics().spans_sent, 1);
    let spans = tokio::task::spawn_blocking(move || {
        let s = zipkin.spans();
        drop(zipkin);
        s
    })
    .await
    .unwrap();
    assert_eq!(spans.len(), 1);
}

/// Per message: `len()`, `spans().len()` and the number of spans in the JSON.
#[derive(Clone)]
struct Inspect {
    needs_spans: bool,
    seen: Arc<Mutex<Vec<(usize, usize, usize)>>>,
}

impl Transport for Inspect {
    fn send(&mut self, message: &Message<'_>, _timeout: Duration) -> Result<(), SendError> {
        let json: serde_json::Value = serde_json::from_slice(message.json()).unwrap();
        let in_json = json.as_array().map_or(0, Vec::len);
        self.seen
            .lock()
            .unwrap()
            .push((message.len(), message.spans().len(), in_json));
        Ok(())
    }
    fn describe(&self) -> String {
        "inspect".into()
    }
    fn needs_spans(&self) -> bool {
        self.needs_spans
    }
}

/// A transport that reads only the JSON gets messages whose records were recycled once
/// encoded (`spans()` empty) but whose `len()` still counts them; one that reads the records
/// gets them all.
#[test]
fn records_recycled_once_encoded_when_the_transport_reads_only_json() {
    for needs_spans in [false, true] {
        let transport = Inspect {
            needs_spans,
            seen: Arc::default(),
        };
        let opts = ReporterOptions {
            message_max_bytes: 4 * 1024,
            ..options()
        };
        let reporter = AsyncReporter::new(transport.clone(), opts).unwrap();
        for i in 0..100 {
            reporter.report(span(i));
        }
        reporter.shutdown(WAIT).unwrap();
        let seen = transport.seen.lock().unwrap().clone();
        assert!(seen.len() > 1, "{seen:?}");
        assert_eq!(seen.iter().map(|m| m.0).sum::<usize>(), 100);
        for (len, records, in_json) in seen {
            assert_eq!(len, in_json);
            assert_eq!(records, if needs_spans { len } else { 0 });
        }
    }
}
