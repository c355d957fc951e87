//! A file of Zipkin v2 JSON that the Zipkin UI can load ("Upload JSON").

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::reporter::{Message, SendError, Transport};

/// Writes spans to a file as one Zipkin v2 JSON list (`[{...},{...}]`), valid after every
/// message: each message overwrites the closing `]` and writes a new one. Load it in the
/// Zipkin UI with "Upload JSON", or read it with any JSON parser.
///
/// Use it behind an [`crate::AsyncReporter`] (the builder's `file(path)` does), so the request
/// path never writes to disk.
///
/// ```
/// use trace_exporter::{FileTransport, Message, SpanRecord, Transport};
/// let path = std::env::temp_dir().join(format!("doc-file-{}.json", std::process::id()));
/// let mut file = FileTransport::create(&path)?;
/// let span = SpanRecord::new(trace_context::TraceId::random(), trace_context::SpanId::random(),
///     "work", Default::default());
/// let spans = [Box::new(span.clone()), Box::new(span)];
/// let mut json = Vec::new();
/// trace_exporter::encode::encode_list(&spans, &mut json);
/// file.send(&Message::new(&json, &spans), std::time::Duration::from_secs(1))?;
/// let text = std::fs::read_to_string(&path)?;
/// assert!(text.starts_with("[{") && text.ends_with("}]"));
/// # std::fs::remove_file(&path).ok();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct FileTransport {
    path: PathBuf,
    file: BufWriter<File>,
    /// Spans already in the file.
    written: u64,
}

impl FileTransport {
    /// Creates (or truncates) the file at `path` and writes `[]` to it.
    ///
    /// ```
    /// assert!(trace_exporter::FileTransport::create("/nonexistent-dir/x.json").is_err());
    /// ```
    pub fn create(path: impl AsRef<Path>) -> std::io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        let mut file = BufWriter::new(File::create(&path)?);
        file.write_all(b"[]")?;
        file.flush()?;
        Ok(FileTransport {
            path,
            file,
            written: 0,
        })
    }

    /// The file's path.
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("doc-path-{}.json", std::process::id()));
    /// let f = trace_exporter::FileTransport::create(&path)?;
    /// assert_eq!(f.path(), path.as_path());
    /// # std::fs::remove_file(&path).ok();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn write_message(&mut self, json: &[u8]) -> std::io::Result<()> {
        // Step back over the closing bracket, then append `,{...}]` or `{...}]`.
        self.file.seek(SeekFrom::End(-1))?;
        if self.written > 0 {
            self.file.write_all(b",")?;
        }
        // `json` is `[...]`: write its inside and a new closing bracket.
        self.file.write_all(json.get(1..).unwrap_or_default())?;
        self.file.flush()
    }
}

impl Transport for FileTransport {
    fn send(&mut self, message: &Message<'_>, _timeout: Duration) -> Result<(), SendError> {
        if message.is_empty() || message.json().len() < 2 {
            return Ok(());
        }
        self.write_message(message.json())
            .map_err(|e| SendError::permanent(format!("write {}: {e}", self.path.display())))?;
        self.written += message.len() as u64;
        Ok(())
    }

    fn describe(&self) -> String {
        format!("file {}", self.path.display())
    }

    fn needs_spans(&self) -> bool {
        false
    }
}

impl std::fmt::Debug for FileTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileTransport")
            .field("path", &self.path)
            .field("written", &self.written)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SpanRecord;

    #[test]
    fn file_stays_a_valid_list() {
        let path = std::env::temp_dir().join(format!("file-sink-{}.json", std::process::id()));
        let mut t = FileTransport::create(&path).unwrap();
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(v.as_array().unwrap().len(), 0);
        for round in 1..=3 {
            let spans: Vec<Box<SpanRecord>> = (0..round)
                .map(|_| {
                    Box::new(SpanRecord::new(
                        trace_context::TraceId::random(),
                        trace_context::SpanId::random(),
                        "w",
                        Default::default(),
                    ))
                })
                .collect();
            let mut json = Vec::new();
            crate::encode::encode_list(&spans, &mut json);
            t.send(&Message::new(&json, &spans), Duration::from_secs(1))
                .unwrap();
        }
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(v.as_array().unwrap().len(), 6);
        std::fs::remove_file(&path).ok();
    }
}
