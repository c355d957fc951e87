//! The delivery thread: sends the messages the encoder hands over, with retries and backoff,
//! and counts the outcome. No lock is held while sending.

use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::async_reporter::Shared;
use super::metrics::Counters;
use super::options::ReporterOptions;
use super::transport::{Message, Transport};
use super::warn::{WarnLimiter, REPORTER_TARGET};
use crate::record::Records;

/// Buffers bigger than this are not handed back for reuse.
const KEEP_BUFFER: usize = 1024 * 1024;

/// One message: its JSON list and its spans.
pub(crate) struct Job {
    pub(crate) body: Vec<u8>,
    pub(crate) batch: Records,
    /// The spans in the message (`batch` is empty when the transport does not read them:
    /// the encoder recycled them).
    pub(crate) count: usize,
}

pub(crate) struct Io {
    shared: Arc<Shared>,
    transport: Box<dyn Transport>,
    options: ReporterOptions,
    failures: WarnLimiter,
    /// Emptied buffers back to the encoder.
    free: SyncSender<Job>,
}

/// Marks the reporter finished however this thread stops (a panicking transport included),
/// counting the message in hand as dropped, so `flush`/`shutdown` never wait for a dead thread.
struct FinishGuard<'a> {
    shared: &'a Shared,
    held: u64,
}

impl Drop for FinishGuard<'_> {
    fn drop(&mut self) {
        if self.held > 0 {
            Counters::add(&self.shared.counters.messages_dropped, 1);
            Counters::add(&self.shared.counters.spans_dropped, self.held);
            self.shared.complete(self.held, false);
        }
        let mut st = self.shared.lock();
        st.finished = true;
        drop(st);
        self.shared.progress.notify_all();
        self.shared.wake.notify_all();
    }
}

impl Io {
    pub(crate) fn new(
        shared: Arc<Shared>,
        transport: Box<dyn Transport>,
        options: ReporterOptions,
        free: SyncSender<Job>,
    ) -> Self {
        Io {
            failures: WarnLimiter::new(options.warn_interval),
            shared,
            transport,
            options,
            free,
        }
    }

    pub(crate) fn run(mut self, jobs: Receiver<Job>) {
        let shared = Arc::clone(&self.shared);
        let mut guard = FinishGuard {
            shared: &shared,
            held: 0,
        };
        while let Ok(mut job) = jobs.recv() {
            let n = job.count as u64;
            guard.held = n;
            let counters = &shared.counters;
            Counters::add(&counters.messages, 1);
            Counters::add(&counters.message_bytes, job.body.len() as u64);
            let sent = self.deliver(&job, n);
            if !sent {
                Counters::add(&counters.messages_dropped, 1);
                Counters::add(&counters.spans_dropped, n);
            }
            shared.complete(n, sent);
            guard.held = 0;
            crate::recorder::pool::give_back_records(&mut job.batch);
            if job.body.capacity() <= KEEP_BUFFER.max(self.options.message_max_bytes * 2) {
                job.body.clear();
                let _ = self.free.try_send(job);
            }
        }
    }

    /// Sends the message, retrying; true when delivered.
    fn deliver(&mut self, job: &Job, spans: u64) -> bool {
        let start = Instant::now();
        let mut backoff = self.options.initial_backoff;
        let message = Message::encoded(&job.body, &job.batch, job.count);
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

    /// Waits `d` unless the reporter is abandoned meanwhile (false).
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
                .progress
                .wait_timeout(st, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}
