//! The sender thread: takes spans off the queue, packs messages, sends them with retries.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::async_reporter::{Shared, State};
use super::metrics::Counters;
use super::options::ReporterOptions;
use super::transport::{Message, Transport};
use super::warn::{WarnLimiter, REPORTER_TARGET};
use crate::SpanRecord;

/// Spans taken off the queue per lock acquisition (they are sized outside the lock).
const CHUNK: usize = 512;
/// The brackets of a JSON list.
const LIST_OVERHEAD: usize = 2;
/// Buffers bigger than this are released after use instead of kept for the next message.
const KEEP_BUFFER: usize = 1024 * 1024;

pub(crate) struct Sender {
    shared: Arc<Shared>,
    transport: Box<dyn Transport>,
    options: ReporterOptions,
    batch: Vec<SpanRecord>,
    /// The JSON list of `batch`, without its closing bracket.
    body: Vec<u8>,
    batch_started: Option<Instant>,
    failures: WarnLimiter,
    drops: WarnLimiter,
    dropped_seen: u64,
}

/// Marks the sender finished however it stops (a panicking transport included), counting
/// what it still held as dropped, so `flush`/`shutdown` never wait for a dead thread.
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
        st.finished = true;
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
        transport: Box<dyn Transport>,
        options: ReporterOptions,
    ) -> Self {
        Sender {
            failures: WarnLimiter::new(options.warn_interval),
            drops: WarnLimiter::new(options.warn_interval),
            shared,
            transport,
            options,
            batch: Vec::new(),
            body: vec![b'['],
            batch_started: None,
            dropped_seen: 0,
        }
    }

    pub(crate) fn run(mut self) {
        let shared = Arc::clone(&self.shared);
        let mut guard = FinishGuard {
            shared: &shared,
            held: 0,
        };
        // `take` returns None when abandoned: the guard drops what this thread holds.
        while let Some((chunk, drained, urgent, closing)) = self.take() {
            guard.held += chunk.len() as u64;
            for span in chunk {
                self.add(span, &mut guard);
            }
            let due = self
                .batch_started
                .is_some_and(|t| t.elapsed() >= self.options.flush_interval);
            if drained && (urgent || due) && !self.batch.is_empty() {
                self.send_batch(&mut guard);
            }
            self.warn_drops();
            if closing && drained && self.batch.is_empty() {
                break;
            }
        }
    }

    /// Waits for work and takes a chunk of the queue: `(spans, queue now empty, flush or
    /// shutdown waiting, shutting down)`; `None` when abandoned.
    fn take(&mut self) -> Option<(Vec<SpanRecord>, bool, bool, bool)> {
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
        let chunk: Vec<SpanRecord> = st.queue.drain(..n).collect();
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

    fn add(&mut self, span: SpanRecord, guard: &mut FinishGuard<'_>) {
        let max = self.options.message_max_bytes;
        let mark = self.body.len();
        let separator = usize::from(!self.batch.is_empty());
        if separator == 1 {
            self.body.push(b',');
        }
        crate::encode::encode_span(&span, &mut self.body);
        let size = self.body.len() - mark - separator;
        Counters::add(&self.shared.counters.span_bytes, size as u64);
        if size + LIST_OVERHEAD > max {
            self.body.truncate(mark);
            guard.held -= 1;
            Counters::add(&self.shared.counters.spans_dropped, 1);
            self.complete(1, false);
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
            crate::encode::encode_span(&span, &mut self.body);
        }
        if self.batch.is_empty() {
            self.batch_started = Some(Instant::now());
        }
        self.batch.push(span);
    }

    /// Counts `n` spans as finished with, wakes `flush`/`shutdown` waiters.
    fn complete(&self, n: u64, sent: bool) {
        let counters = &self.shared.counters;
        if sent {
            Counters::add(&counters.spans_sent, n);
        }
        counters.pending_spans.fetch_sub(n, Relaxed);
        let mut st: std::sync::MutexGuard<'_, State> = self.shared.lock();
        st.completed += n;
        drop(st);
        self.shared.progress.notify_all();
    }

    fn send_batch(&mut self, guard: &mut FinishGuard<'_>) {
        self.body.push(b']');
        let n = self.batch.len() as u64;
        let shared = Arc::clone(&self.shared);
        let counters = &shared.counters;
        Counters::add(&counters.messages, 1);
        Counters::add(&counters.message_bytes, self.body.len() as u64);
        let sent = self.deliver(n);
        guard.held -= n;
        if !sent {
            Counters::add(&counters.messages_dropped, 1);
            Counters::add(&counters.spans_dropped, n);
        }
        crate::recorder::pool::give_back(self.batch.drain(..).flat_map(|span| {
            let name = match span.name {
                std::borrow::Cow::Owned(name) => Some(name),
                std::borrow::Cow::Borrowed(_) => None,
            };
            [Some(span.tags.into_buffer()), name].into_iter().flatten()
        }));
        self.body.clear();
        if self.body.capacity() > KEEP_BUFFER.max(self.options.message_max_bytes * 2) {
            self.body.shrink_to(64 * 1024);
        }
        self.body.push(b'[');
        self.batch_started = None;
        self.complete(n, sent);
    }

    /// Sends the prepared message, retrying; true when delivered.
    fn deliver(&mut self, spans: u64) -> bool {
        let start = Instant::now();
        let mut backoff = self.options.initial_backoff;
        loop {
            let (closing, abandoned) = {
                let st = self.shared.lock();
                (st.closing, st.abandoned)
            };
            if abandoned {
                return false;
            }
            let mut timeout = self.options.request_timeout;
            if let Some(deadline) = closing {
                timeout = timeout.min(deadline.saturating_duration_since(Instant::now()));
                if timeout.is_zero() {
                    return false;
                }
            }
            let message = Message::new(&self.body, &self.batch);
            let error = match self.transport.send(&message, timeout) {
                Ok(()) => {
                    self.failures.reset();
                    return true;
                }
                Err(e) => e,
            };
            let retry = error.is_retryable()
                && start.elapsed() + backoff < self.options.retry_for
                && closing.is_none_or(|d| Instant::now() + backoff < d);
            if let Some(held_back) = self.failures.check(Instant::now()) {
                tracing::warn!(
                    target: REPORTER_TARGET,
                    destination = %self.transport.describe(),
                    error = %error,
                    spans,
                    retrying = retry,
                    held_back,
                    "could not deliver spans"
                );
            }
            if !retry {
                return false;
            }
            Counters::add(&self.shared.counters.retries, 1);
            if !self.sleep(backoff) {
                return false;
            }
            backoff = (backoff * 2).min(self.options.max_backoff);
        }
    }

    /// Waits `d` unless abandoned meanwhile (false) .
    fn sleep(&self, d: Duration) -> bool {
        let until = Instant::now() + d;
        let mut st = self.shared.lock();
        loop {
            if st.abandoned {
                return false;
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return true;
            }
            st = self
                .shared
                .wake
                .wait_timeout(st, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
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
