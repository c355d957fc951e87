//! The asynchronous reporter: a bounded queue in front of an encoder and a delivery thread.

use std::collections::VecDeque;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::io::Io;
use super::metrics::{Counters, ReporterMetrics};
use super::options::ReporterOptions;
use super::sender::Sender;
use super::transport::Transport;
use crate::sink::{Sink, TimedOut};
use crate::{ConfigError, SpanRecord};

/// The encoder thread is woken early each time this many spans have been queued, so that
/// full messages go out without waiting for the flush interval.
pub(crate) const WAKE_EVERY: usize = 512;

/// What the request path and the reporter threads share, behind one short-held lock.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) queue: VecDeque<Box<SpanRecord>>,
    pub(crate) queued_bytes: u64,
    /// Spans offered to the reporter (the `spans` counter), counted under the lock the
    /// request path takes anyway: no shared atomic of its own to bounce between cores.
    pub(crate) offered: u64,
    /// Spans that entered the queue.
    pub(crate) accepted: u64,
    /// Of those, spans the sender delivered or gave up on.
    pub(crate) completed: u64,
    /// A `flush` is waiting: send partial messages as soon as the queue is empty.
    pub(crate) flush_requested: bool,
    /// `shutdown` was called: deliver what is queued by this deadline, take no more spans.
    pub(crate) closing: Option<Instant>,
    /// The shutdown deadline passed: drop everything and stop.
    pub(crate) abandoned: bool,
    /// The encoder thread has stopped taking spans.
    pub(crate) encoder_stopped: bool,
    /// The delivery thread has stopped (after the encoder): nothing more will be sent.
    pub(crate) finished: bool,
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) state: Mutex<State>,
    /// The sender waits on it.
    pub(crate) wake: Condvar,
    /// `flush` and `shutdown` wait on it.
    pub(crate) progress: Condvar,
    pub(crate) counters: Counters,
    pub(crate) queue_size: usize,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts `n` taken spans as finished with (sent or not) and wakes `flush`/`shutdown`.
    pub(crate) fn complete(&self, n: u64, sent: bool) {
        if sent {
            Counters::add(&self.counters.spans_sent, n);
        }
        self.counters.pending_spans.fetch_sub(n, Relaxed);
        let mut st = self.lock();
        st.completed += n;
        drop(st);
        self.progress.notify_all();
    }
}

struct Handle {
    shared: Arc<Shared>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    close_timeout: Duration,
    description: String,
}

impl Drop for Handle {
    fn drop(&mut self) {
        let _ = shutdown(&self.shared, &self.threads, self.close_timeout);
    }
}

/// A [`Sink`] that queues spans and delivers them from its own thread through a
/// [`Transport`], like zipkin-reporter-java's `AsyncReporter`.
///
/// * [`Sink::report`] never blocks: it takes a short lock to push onto a bounded queue; when
///   the queue is full the span is dropped and counted (`spans_dropped`).
/// * An encoder thread (a plain `std::thread`, so it works with or without tokio) takes spans
///   off the queue and encodes them into messages of at most `message_max_bytes`; a message
///   goes when it is full or its first span has waited `flush_interval`. One delivery thread
///   sends the messages one at a time, while the encoder builds the next one. No lock is held
///   while sending; at most two messages exist at a time.
/// * Retryable failures (connection errors, 5xx) are retried with exponential backoff for
///   `retry_for`; then the message is dropped and counted. Warnings are rate-limited.
/// * [`Sink::shutdown`] delivers what is queued within its timeout; the rest is counted as
///   dropped. Dropping the last clone does the same with `close_timeout`.
///
/// ```
/// use std::time::Duration;
/// use trace_exporter::{AsyncReporter, FileTransport, ReporterOptions, Sink, SpanRecord};
/// let path = std::env::temp_dir().join(format!("doc-async-{}.json", std::process::id()));
/// let reporter = AsyncReporter::new(FileTransport::create(&path)?, ReporterOptions::default())?;
/// reporter.report(SpanRecord::new(trace_context::TraceId::random(),
///     trace_context::SpanId::random(), "work", Default::default()));
/// reporter.shutdown(Duration::from_secs(5)).unwrap();
/// assert_eq!(reporter.metrics().spans_sent, 1);
/// # std::fs::remove_file(&path).ok();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct AsyncReporter {
    inner: Arc<Handle>,
}

impl AsyncReporter {
    /// Starts the reporter threads for `transport` with `options` (checked with
    /// [`ReporterOptions::validate`]).
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("doc-new-{}.json", std::process::id()));
    /// let r = trace_exporter::AsyncReporter::new(
    ///     trace_exporter::FileTransport::create(&path)?, Default::default())?;
    /// assert_eq!(r.metrics().spans, 0);
    /// # std::fs::remove_file(&path).ok();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(transport: impl Transport, options: ReporterOptions) -> Result<Self, ConfigError> {
        options.validate()?;
        let description = transport.describe();
        let keep_spans = transport.needs_spans();
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
            progress: Condvar::new(),
            counters: Counters::default(),
            queue_size: options.queue_size,
        });
        let close_timeout = options.close_timeout;
        let (jobs_tx, jobs_rx) = std::sync::mpsc::sync_channel(0);
        let (free_tx, free_rx) = std::sync::mpsc::sync_channel(2);
        let io = Io::new(
            Arc::clone(&shared),
            Box::new(transport),
            options.clone(),
            free_tx,
        );
        let sender = Sender::new(Arc::clone(&shared), options, jobs_tx, free_rx, keep_spans);
        let spawn_error = |e: std::io::Error| {
            ConfigError::new("reporter thread", format!("cannot start it: {e}"))
        };
        let io_thread = std::thread::Builder::new()
            .name("trace-exporter-io".into())
            .spawn(move || io.run(jobs_rx))
            .map_err(spawn_error)?;
        // If this spawn fails, `sender` (and the jobs channel) is dropped: the delivery thread
        // then stops on its own.
        let encoder_thread = std::thread::Builder::new()
            .name("trace-exporter".into())
            .spawn(move || sender.run())
            .map_err(spawn_error)?;
        Ok(AsyncReporter {
            inner: Arc::new(Handle {
                shared,
                threads: Mutex::new(vec![encoder_thread, io_thread]),
                close_timeout,
                description,
            }),
        })
    }

    /// The counters now.
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("doc-m-{}.json", std::process::id()));
    /// # let r = trace_exporter::AsyncReporter::new(
    /// #     trace_exporter::FileTransport::create(&path)?, Default::default())?;
    /// let m = r.metrics();
    /// assert_eq!(m.spans_dropped, 0);
    /// # std::fs::remove_file(&path).ok();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn metrics(&self) -> ReporterMetrics {
        let shared = &self.inner.shared;
        let (offered, queued, bytes) = {
            let st = shared.lock();
            (st.offered, st.queue.len() as u64, st.queued_bytes)
        };
        shared.counters.snapshot(offered, queued, bytes)
    }

    /// Where the spans go (the transport's description).
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("doc-d-{}.json", std::process::id()));
    /// # let r = trace_exporter::AsyncReporter::new(
    /// #     trace_exporter::FileTransport::create(&path)?, Default::default())?;
    /// assert!(r.describe().starts_with("file "));
    /// # std::fs::remove_file(&path).ok();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn describe(&self) -> &str {
        &self.inner.description
    }
}

impl Sink for AsyncReporter {
    fn report(&self, span: SpanRecord) {
        // A box the reporter sent before, when one is at hand: the emptied record it held is
        // freed here, usually by the thread that made it (cheaper than a free on the
        // reporter's threads), and the box itself is not allocated again.
        let boxed = match crate::recorder::pool::take_record() {
            Some(mut recycled) => {
                *recycled = span;
                recycled
            }
            None => Box::new(span),
        };
        self.report_boxed(boxed);
    }

    fn report_boxed(&self, span: Box<SpanRecord>) {
        let shared = &self.inner.shared;
        let size = span.size_estimate() as u64;
        let mut st = shared.lock();
        st.offered += 1;
        if st.closing.is_some() || st.encoder_stopped || st.queue.len() >= shared.queue_size {
            drop(st);
            Counters::add(&shared.counters.spans_dropped, 1);
            return;
        }
        st.queue.push_back(span);
        st.accepted += 1;
        st.queued_bytes += size;
        let wake = st.queue.len() % WAKE_EVERY == 0;
        drop(st);
        if wake {
            shared.wake.notify_one();
        }
    }

    fn flush(&self, timeout: Duration) -> Result<(), TimedOut> {
        let shared = &self.inner.shared;
        let deadline = Instant::now() + timeout;
        let mut st = shared.lock();
        let target = st.accepted;
        if st.completed >= target {
            return Ok(());
        }
        st.flush_requested = true;
        shared.wake.notify_one();
        while st.completed < target && !st.finished {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(TimedOut);
            }
            st = shared
                .progress
                .wait_timeout(st, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        Ok(())
    }

    fn shutdown(&self, timeout: Duration) -> Result<(), TimedOut> {
        shutdown(&self.inner.shared, &self.inner.threads, timeout)
    }

    fn metrics(&self) -> Option<ReporterMetrics> {
        Some(AsyncReporter::metrics(self))
    }
}

fn shutdown(
    shared: &Shared,
    threads: &Mutex<Vec<JoinHandle<()>>>,
    timeout: Duration,
) -> Result<(), TimedOut> {
    let deadline = Instant::now() + timeout;
    let mut st = shared.lock();
    if st.closing.is_none() {
        st.closing = Some(deadline);
    }
    shared.wake.notify_one();
    while !st.finished {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            // Too late: what is still queued is dropped; the sender gives up its message
            // when its current attempt ends (attempts are bounded by the same deadline).
            st.abandoned = true;
            let n = st.queue.len() as u64;
            st.queue.clear();
            st.queued_bytes = 0;
            st.completed += n;
            drop(st);
            Counters::add(&shared.counters.spans_dropped, n);
            shared.wake.notify_one();
            shared.progress.notify_all();
            return Err(TimedOut);
        }
        st = shared
            .progress
            .wait_timeout(st, left)
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
    drop(st);
    let handles = std::mem::take(&mut *threads.lock().unwrap_or_else(|e| e.into_inner()));
    for handle in handles {
        let _ = handle.join();
    }
    Ok(())
}

impl std::fmt::Debug for AsyncReporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncReporter")
            .field("transport", &self.inner.description)
            .finish()
    }
}
