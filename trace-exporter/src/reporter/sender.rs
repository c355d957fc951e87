//! The encoder thread: takes spans off the queue, encodes each once into the next message,
//! and hands full (or due) messages to the delivery thread ([`super::io`]), so encoding the
//! next message overlaps sending the previous one.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::Arc;
use std::time::Instant;

use super::async_reporter::Shared;
use super::io::Job;
use super::metrics::Counters;
use super::options::ReporterOptions;
use super::warn::{WarnLimiter, REPORTER_TARGET};
use crate::record::Records;
use crate::SpanRecord;

/// Spans taken off the queue per lock acquisition (they are sized outside the lock).
const CHUNK: usize = 512;
/// The brackets of a JSON list.
const LIST_OVERHEAD: usize = 2;
/// A fresh message buffer starts with at most this capacity.
const KEEP_BUFFER: usize = 1024 * 1024;

pub(crate) struct Sender {
    shared: Arc<Shared>,
    options: ReporterOptions,
    /// Messages to the delivery thread (a rendezvous: at most one being sent, one being built).
    jobs: SyncSender<Job>,
    /// Emptied buffers coming back from the delivery thread.
    free: Receiver<Job>,
    batch: Records,
    /// The spans in the message being built (in `batch`, or recycled already).
    batch_len: usize,
    /// Whether the transport reads the records: if not, each goes back to the recorder's
    /// pool once encoded (through `spent`, one pool lock per chunk), so the request threads
    /// record into recycled records instead of waiting for the message to be sent.
    keep_spans: bool,
    spent: Records,
    /// The JSON list of the message's spans, without its closing bracket.
    body: Vec<u8>,
    batch_started: Option<Instant>,
    /// The encoding of the last local endpoint.
    endpoints: crate::encode::EndpointCache,
    failures: WarnLimiter,
    drops: WarnLimiter,
    dropped_seen: u64,
    /// The buffer `take` moves spans into (reused).
    chunk: Records,
    /// Encoded bytes not yet added to the `span_bytes` counter (added once per chunk: a
    /// shared counter written per span would bounce its cache line with the request path).
    span_bytes: u64,
}

/// However the encoder stops (shutdown, abandon, a panic), counts what it and the queue still
/// hold as dropped and stops taking spans. The delivery thread marks the reporter finished
/// once it has sent what it was handed.
struct FinishGuard<'a> {
    shared: &'a Shared,
    held: u64,
}

impl Drop for FinishGuard<'_> {
    fn drop(&mut self) {
        let mut st = self.shared.lock();
        let n = st.queue.len() as u64 + self.held;
        st.queue.clear();
        st.queued_bytes = 0;
        st.completed += n;
        st.encoder_stopped = true;
        drop(st);
        Counters::add(&self.shared.counters.spans_dropped, n);
        self.shared
            .counters
            .pending_spans
            .fetch_sub(self.held, Relaxed);
        self.shared.progress.notify_all();
    }
}

impl Sender {
    pub(crate) fn new(
        shared: Arc<Shared>,
        options: ReporterOptions,
        jobs: SyncSender<Job>,
        free: Receiver<Job>,
        keep_spans: bool,
    ) -> Self {
        Sender {
            failures: WarnLimiter::new(options.warn_interval),
            drops: WarnLimiter::new(options.warn_interval),
            shared,
            options,
            jobs,
            free,
            batch: Vec::new(),
            batch_len: 0,
            keep_spans,
            spent: Vec::new(),
            body: vec![b'['],
            batch_started: None,
            endpoints: Default::default(),
            dropped_seen: 0,
            span_bytes: 0,
            chunk: Vec::with_capacity(CHUNK),
        }
    }

    pub(crate) fn run(mut self) {
        let shared = Arc::clone(&self.shared);
        let mut guard = FinishGuard {
            shared: &shared,
            held: 0,
        };
        // `take` returns None when abandoned: the guard drops what this thread holds.
        while let Some((mut chunk, drained, urgent, closing)) = self.take() {
            guard.held += chunk.len() as u64;
            for span in chunk.drain(..) {
                self.add(span, &mut guard);
            }
            // Emptied, kept for the next `take`.
            self.chunk = chunk;
            if !self.spent.is_empty() {
                crate::recorder::pool::give_back_records(&mut self.spent);
            }
            self.count_span_bytes();
            let due = self
                .batch_started
                .is_some_and(|t| t.elapsed() >= self.options.flush_interval);
            if drained && (urgent || due) && self.batch_len > 0 {
                self.send_batch(&mut guard);
            }
            self.warn_drops();
            if closing && drained && self.batch_len == 0 {
                break;
            }
        }
    }

    /// Waits for work and takes a chunk of the queue: `(spans, queue now empty, flush or
    /// shutdown waiting, shutting down)`; `None` when abandoned.
    fn take(&mut self) -> Option<(Records, bool, bool, bool)> {
        let mut st = self.shared.lock();
        loop {
            if st.abandoned {
                return None;
            }
            if !st.queue.is_empty() || st.flush_requested || st.closing.is_some() {
                break;
            }
            let wait = match self.batch_started {
                Some(t) => {
                    (t + self.options.flush_interval).saturating_duration_since(Instant::now())
                }
                None => self.options.flush_interval,
            };
            if wait.is_zero() {
                break;
            }
            st = self
                .shared
                .wake
                .wait_timeout(st, wait)
                .unwrap_or_else(|e| e.into_inner())
                .0;
            if self
                .batch_started
                .is_some_and(|t| t.elapsed() >= self.options.flush_interval)
            {
                break;
            }
        }
        let n = st.queue.len().min(CHUNK);
        // Into a kept buffer: no allocation while the request path may be waiting on the lock.
        let mut chunk = std::mem::take(&mut self.chunk);
        chunk.extend(st.queue.drain(..n));
        let drained = st.queue.is_empty();
        let urgent = st.flush_requested || st.closing.is_some();
        if drained {
            st.flush_requested = false;
        }
        let closing = st.closing.is_some();
        drop(st);
        let freed: u64 = chunk.iter().map(|s| s.size_estimate() as u64).sum();
        let mut st = self.shared.lock();
        st.queued_bytes = st.queued_bytes.saturating_sub(freed);
        drop(st);
        Counters::add(&self.shared.counters.pending_spans, n as u64);
        Some((chunk, drained, urgent, closing))
    }

    fn add(&mut self, span: Box<SpanRecord>, guard: &mut FinishGuard<'_>) {
        let max = self.options.message_max_bytes;
        let mark = self.body.len();
        let separator = usize::from(self.batch_len > 0);
        if separator == 1 {
            self.body.push(b',');
        }
        crate::encode::encode_span_cached(&span, &mut self.body, &mut self.endpoints);
        let size = self.body.len() - mark - separator;
        self.span_bytes += size as u64;
        if size + LIST_OVERHEAD > max {
            self.body.truncate(mark);
            guard.held -= 1;
            Counters::add(&self.shared.counters.spans_dropped, 1);
            self.shared.complete(1, false);
            if let Some(held_back) = self.failures.check(Instant::now()) {
                tracing::warn!(
                    target: REPORTER_TARGET,
                    span_bytes = size,
                    message_max_bytes = max,
                    held_back,
                    "dropped a span larger than the largest message"
                );
            }
            return;
        }
        if self.body.len() + 1 > max {
            // The span does not fit: send the message without it, start the next with it.
            self.body.truncate(mark);
            self.send_batch(guard);
            crate::encode::encode_span_cached(&span, &mut self.body, &mut self.endpoints);
        }
        if self.batch_len == 0 {
            self.batch_started = Some(Instant::now());
        }
        self.batch_len += 1;
        if self.keep_spans {
            self.batch.push(span);
        } else {
            self.spent.push(span);
        }
    }

    /// Adds the encoded bytes counted so far to the `span_bytes` counter.
    fn count_span_bytes(&mut self) {
        let n = std::mem::take(&mut self.span_bytes);
        if n > 0 {
            Counters::add(&self.shared.counters.span_bytes, n);
        }
    }

    /// Hands the message to the delivery thread and starts the next one.
    fn send_batch(&mut self, guard: &mut FinishGuard<'_>) {
        // Counted before the message can be sent: a `flush` then sees its bytes.
        self.count_span_bytes();
        self.body.push(b']');
        let n = self.batch_len as u64;
        let (mut body, batch) = match self.free.try_recv() {
            Ok(job) => (job.body, job.batch),
            Err(_) => (
                Vec::with_capacity(self.body.len().min(KEEP_BUFFER)),
                Vec::with_capacity(self.batch.len()),
            ),
        };
        body.clear();
        body.push(b'[');
        let job = Job {
            body: std::mem::replace(&mut self.body, body),
            batch: std::mem::replace(&mut self.batch, batch),
            count: std::mem::take(&mut self.batch_len),
        };
        self.batch_started = None;
        // From here the delivery thread accounts for these spans.
        guard.held -= n;
        if let Err(lost) = self.jobs.send(job) {
            // The delivery thread is gone (its transport panicked): nothing can be sent.
            let counters = &self.shared.counters;
            Counters::add(&counters.messages, 1);
            Counters::add(&counters.messages_dropped, 1);
            Counters::add(&counters.spans_dropped, n);
            self.shared.complete(n, false);
            drop(lost);
        }
    }

    fn warn_drops(&mut self) {
        let dropped = self.shared.counters.spans_dropped.load(Relaxed);
        if dropped == self.dropped_seen {
            return;
        }
        if let Some(held_back) = self.drops.check(Instant::now()) {
            tracing::warn!(
                target: REPORTER_TARGET,
                dropped = dropped - self.dropped_seen,
                total_dropped = dropped,
                held_back,
                "dropped spans (queue full, collector unreachable, or shutting down)"
            );
            self.dropped_seen = dropped;
        }
    }
}
