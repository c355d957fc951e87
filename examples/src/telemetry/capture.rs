//! Log lines kept in memory (for the demo's printout and for tests), optionally echoed.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tracing_subscriber::fmt::MakeWriter;

/// Where log lines go: kept in memory (the last `capacity` lines), echoed to stdout, or both.
/// Cheap to clone; clones share the lines.
///
/// ```
/// use std::io::Write;
/// use tracing_subscriber::fmt::MakeWriter;
///
/// let logs = examples::telemetry::LogCapture::new(100);
/// let mark = logs.mark();
/// logs.make_writer().write_all(b"one\ntwo\n").unwrap();
/// assert_eq!(logs.since(mark), ["one", "two"]);
/// ```
#[derive(Clone, Debug)]
pub struct LogCapture {
    inner: Arc<Mutex<Lines>>,
    echo: Arc<AtomicBool>,
}

#[derive(Debug)]
struct Lines {
    lines: VecDeque<String>,
    /// Sequence number of `lines[0]`.
    first: u64,
    capacity: usize,
}

impl LogCapture {
    /// Keeps the last `capacity` lines in memory; does not echo.
    ///
    /// ```
    /// let logs = examples::telemetry::LogCapture::new(10);
    /// assert!(logs.lines().is_empty());
    /// ```
    pub fn new(capacity: usize) -> LogCapture {
        LogCapture {
            inner: Arc::new(Mutex::new(Lines {
                lines: VecDeque::new(),
                first: 0,
                capacity,
            })),
            echo: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Echoes every line to stdout, keeping nothing (what a service running alone does).
    ///
    /// ```
    /// let logs = examples::telemetry::LogCapture::stdout();
    /// assert!(logs.echoes());
    /// ```
    pub fn stdout() -> LogCapture {
        LogCapture::new(0).with_echo(true)
    }

    /// Also (or no longer) echoes every line to stdout.
    ///
    /// ```
    /// assert!(examples::telemetry::LogCapture::new(10).with_echo(true).echoes());
    /// ```
    pub fn with_echo(self, echo: bool) -> LogCapture {
        self.set_echo(echo);
        self
    }

    /// Turns echoing to stdout on or off, for every clone.
    ///
    /// ```
    /// let logs = examples::telemetry::LogCapture::new(10);
    /// logs.clone().set_echo(true);
    /// assert!(logs.echoes());
    /// ```
    pub fn set_echo(&self, echo: bool) {
        self.echo.store(echo, Ordering::Relaxed);
    }

    /// Changes how many lines are kept (0: none), for every clone; drops the oldest lines
    /// beyond it.
    ///
    /// ```
    /// let logs = examples::telemetry::LogCapture::new(10);
    /// logs.set_capacity(0);
    /// ```
    pub fn set_capacity(&self, capacity: usize) {
        let mut l = self.lock();
        l.capacity = capacity;
        while l.lines.len() > capacity {
            l.lines.pop_front();
            l.first += 1;
        }
    }

    /// True when lines are echoed to stdout.
    ///
    /// ```
    /// assert!(!examples::telemetry::LogCapture::new(10).echoes());
    /// ```
    pub fn echoes(&self) -> bool {
        self.echo.load(Ordering::Relaxed)
    }

    /// A position in the stream of lines: [`LogCapture::since`] returns what came after it.
    ///
    /// ```
    /// let logs = examples::telemetry::LogCapture::new(10);
    /// assert_eq!(logs.mark(), 0);
    /// ```
    pub fn mark(&self) -> u64 {
        let l = self.lock();
        l.first + l.lines.len() as u64
    }

    /// The lines kept since `mark` (lines evicted by the capacity are gone).
    ///
    /// ```
    /// let logs = examples::telemetry::LogCapture::new(10);
    /// assert!(logs.since(logs.mark()).is_empty());
    /// ```
    pub fn since(&self, mark: u64) -> Vec<String> {
        let l = self.lock();
        let skip = mark.saturating_sub(l.first) as usize;
        l.lines.iter().skip(skip).cloned().collect()
    }

    /// All lines kept.
    ///
    /// ```
    /// assert!(examples::telemetry::LogCapture::new(10).lines().is_empty());
    /// ```
    pub fn lines(&self) -> Vec<String> {
        self.since(0)
    }

    /// The lines kept that contain `needle` (e.g. a trace id).
    ///
    /// ```
    /// use std::io::Write;
    /// use tracing_subscriber::fmt::MakeWriter;
    /// let logs = examples::telemetry::LogCapture::new(10);
    /// logs.make_writer().write_all(b"a [4bf9] x\nb [0000] y\n").unwrap();
    /// assert_eq!(logs.containing("4bf9"), ["a [4bf9] x"]);
    /// ```
    pub fn containing(&self, needle: &str) -> Vec<String> {
        self.lock()
            .lines
            .iter()
            .filter(|l| l.contains(needle))
            .cloned()
            .collect()
    }

    fn lock(&self) -> MutexGuard<'_, Lines> {
        // Lines are only pushed whole: a poisoned lock still holds consistent data.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn push(&self, bytes: &[u8]) {
        if self.echoes() {
            let mut out = io::stdout().lock();
            let _ = out.write_all(bytes);
        }
        let mut l = self.lock();
        if l.capacity == 0 {
            return;
        }
        let text = String::from_utf8_lossy(bytes);
        for line in text.lines() {
            if l.lines.len() == l.capacity {
                l.lines.pop_front();
                l.first += 1;
            }
            l.lines.push_back(line.to_owned());
        }
    }
}

/// The writer for one event: collects its bytes, hands them over when dropped.
///
/// ```
/// use std::io::Write;
/// use tracing_subscriber::fmt::MakeWriter;
/// let logs = examples::telemetry::LogCapture::new(10);
/// let mut w: examples::telemetry::CaptureWriter = logs.make_writer();
/// w.write_all(b"partial ").unwrap();
/// w.write_all(b"line\n").unwrap();
/// drop(w);
/// assert_eq!(logs.lines(), ["partial line"]);
/// ```
#[derive(Debug)]
pub struct CaptureWriter {
    capture: LogCapture,
    buf: Vec<u8>,
}

impl Write for CaptureWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for CaptureWriter {
    fn drop(&mut self) {
        if !self.buf.is_empty() {
            self.capture.push(&self.buf);
        }
    }
}

impl<'a> MakeWriter<'a> for LogCapture {
    type Writer = CaptureWriter;

    fn make_writer(&'a self) -> CaptureWriter {
        CaptureWriter {
            capture: self.clone(),
            buf: Vec::with_capacity(256),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_evicts_oldest_and_marks_stay_valid() {
        let logs = LogCapture::new(2);
        for i in 0..3 {
            logs.make_writer()
                .write_all(format!("l{i}\n").as_bytes())
                .unwrap();
        }
        assert_eq!(logs.lines(), ["l1", "l2"]);
        assert_eq!(logs.mark(), 3);
        assert_eq!(logs.since(2), ["l2"]);
        assert_eq!(logs.since(0), ["l1", "l2"]);
    }

    #[test]
    fn zero_capacity_keeps_nothing() {
        let logs = LogCapture::new(0);
        logs.make_writer().write_all(b"x\n").unwrap();
        assert!(logs.lines().is_empty());
    }
}
