//! Zipkin's HTTP collector: `POST /api/v2/spans` with a JSON list, optionally gzipped.

use std::io::{Read as _, Write as _};
use std::time::Duration;

use flate2::write::GzEncoder;
use flate2::Compression;

use super::transport::{Message, SendError, Transport};
use crate::ConfigError;

/// The default collector URL (OpenTelemetry's default for `OTEL_EXPORTER_ZIPKIN_ENDPOINT`).
pub const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:9411/api/v2/spans";
/// The path of Zipkin's span collector, added when a URL has no path.
pub const SPANS_PATH: &str = "/api/v2/spans";
/// Default time to establish a connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default time for one whole request (connect, send, response).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest collector error message kept for a warning.
const MAX_ERROR_BODY: u64 = 512;

/// Checks a collector URL: `http://host[:port][/path]` (a bare `http://host:9411` gets
/// `/api/v2/spans`). `https` needs TLS, which this build does not include: put a local proxy
/// in front, or use the OTLP sink.
///
/// ```
/// let url = trace_exporter::validate_endpoint("http://127.0.0.1:9411").unwrap();
/// assert_eq!(url, "http://127.0.0.1:9411/api/v2/spans");
/// assert!(trace_exporter::validate_endpoint("not a url").is_err());
/// assert!(trace_exporter::validate_endpoint("ftp://zipkin/api/v2/spans").is_err());
/// ```
pub fn validate_endpoint(url: &str) -> Result<String, ConfigError> {
    const SETTING: &str = "Zipkin endpoint (OTEL_EXPORTER_ZIPKIN_ENDPOINT)";
    let url = url.trim();
    let uri: ureq::http::Uri = url
        .parse()
        .map_err(|e| ConfigError::new(SETTING, format!("{url:?} is not a URL: {e}")))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some("https") => {
            return Err(ConfigError::new(
                SETTING,
                format!("{url:?}: https is not supported by this build (no TLS); use http"),
            ))
        }
        _ => {
            return Err(ConfigError::new(
                SETTING,
                format!("{url:?} is not an http:// URL"),
            ))
        }
    }
    let Some(authority) = uri.authority() else {
        return Err(ConfigError::new(SETTING, format!("{url:?} has no host")));
    };
    if authority.host().is_empty() {
        return Err(ConfigError::new(SETTING, format!("{url:?} has no host")));
    }
    if authority.as_str().contains('@') {
        return Err(ConfigError::new(
            SETTING,
            format!("{url:?}: credentials in the URL are not supported"),
        ));
    }
    if authority.port_u16() == Some(0) {
        return Err(ConfigError::new(SETTING, format!("{url:?}: port 0")));
    }
    let path = uri.path_and_query().map_or("", |p| p.as_str());
    Ok(if path.is_empty() || path == "/" {
        format!("http://{authority}{SPANS_PATH}")
    } else {
        format!("http://{authority}{path}")
    })
}

/// Zipkin's HTTP collector as a [`Transport`]: a blocking HTTP/1.1 client (ureq, keep-alive)
/// used only by the reporter's own thread, so it works with or without tokio.
///
/// Each request carries `Content-Type: application/json` and `b3: 0` (so the collector's own
/// instrumentation does not trace it), plus `Content-Encoding: gzip` when enabled. 2xx is
/// success; 5xx, 408, 429 and connection failures are retried by the reporter; other answers
/// drop the message (with the collector's message in the warning).
///
/// ```
/// let t = trace_exporter::ZipkinHttp::new("http://127.0.0.1:9411/api/v2/spans", false)?;
/// assert_eq!(t.endpoint(), "http://127.0.0.1:9411/api/v2/spans");
/// # Ok::<(), trace_exporter::ConfigError>(())
/// ```
pub struct ZipkinHttp {
    agent: ureq::Agent,
    endpoint: String,
    gzip: bool,
    compressed: Vec<u8>,
}

impl ZipkinHttp {
    /// A transport to `endpoint` (validated with [`validate_endpoint`]) with the default
    /// timeouts.
    ///
    /// ```
    /// assert!(trace_exporter::ZipkinHttp::new("http://[::1", false).is_err());
    /// ```
    pub fn new(endpoint: &str, gzip: bool) -> Result<Self, ConfigError> {
        Self::with_timeouts(
            endpoint,
            gzip,
            DEFAULT_CONNECT_TIMEOUT,
            DEFAULT_REQUEST_TIMEOUT,
        )
    }

    /// A transport with timeouts of your own (`request` bounds a whole request).
    ///
    /// ```
    /// use std::time::Duration;
    /// let t = trace_exporter::ZipkinHttp::with_timeouts("http://127.0.0.1:9411", true,
    ///     Duration::from_secs(1), Duration::from_secs(3))?;
    /// assert!(t.gzip());
    /// # Ok::<(), trace_exporter::ConfigError>(())
    /// ```
    pub fn with_timeouts(
        endpoint: &str,
        gzip: bool,
        connect: Duration,
        request: Duration,
    ) -> Result<Self, ConfigError> {
        let endpoint = validate_endpoint(endpoint)?;
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(connect))
            .timeout_global(Some(request))
            .user_agent(concat!("trace-exporter/", env!("CARGO_PKG_VERSION")))
            .max_idle_connections(2)
            .max_idle_connections_per_host(2)
            .build()
            .new_agent();
        Ok(ZipkinHttp {
            agent,
            endpoint,
            gzip,
            compressed: Vec::new(),
        })
    }

    /// The collector URL.
    ///
    /// ```
    /// let t = trace_exporter::ZipkinHttp::new("http://localhost:9411/", false).unwrap();
    /// assert_eq!(t.endpoint(), "http://localhost:9411/api/v2/spans");
    /// ```
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// True when messages are gzipped.
    ///
    /// ```
    /// assert!(!trace_exporter::ZipkinHttp::new("http://localhost:9411", false).unwrap().gzip());
    /// ```
    pub fn gzip(&self) -> bool {
        self.gzip
    }

    fn compress(&mut self, json: &[u8]) -> std::io::Result<()> {
        let mut buf = std::mem::take(&mut self.compressed);
        buf.clear();
        let mut gz = GzEncoder::new(buf, Compression::fast());
        gz.write_all(json)?;
        self.compressed = gz.finish()?;
        // Keep a big one-off buffer from pinning memory.
        if self.compressed.capacity() > 4 * self.compressed.len().max(256 * 1024) {
            self.compressed.shrink_to_fit();
        }
        Ok(())
    }
}

impl Transport for ZipkinHttp {
    fn send(&mut self, message: &Message<'_>, timeout: Duration) -> Result<(), SendError> {
        // Compressing into memory cannot fail short of allocation failure; then send plain.
        let gzipped = self.gzip && self.compress(message.json()).is_ok();
        let mut request = self
            .agent
            .post(&self.endpoint)
            .header("Content-Type", "application/json")
            .header("b3", "0");
        if gzipped {
            request = request.header("Content-Encoding", "gzip");
        }
        let request = request.config().timeout_global(Some(timeout)).build();
        let body: &[u8] = if gzipped {
            &self.compressed
        } else {
            message.json()
        };
        let response = request
            .send(body)
            .map_err(|e| SendError::retryable(format!("POST {}: {e}", self.endpoint)))?;
        let status = response.status();
        let mut text = String::new();
        // Read the (short) answer so the connection can be reused.
        let _ = response
            .into_body()
            .into_reader()
            .take(MAX_ERROR_BODY)
            .read_to_string(&mut text);
        if status.is_success() {
            return Ok(());
        }
        let message = format!(
            "POST {} answered {}{}{}",
            self.endpoint,
            status.as_u16(),
            if text.trim().is_empty() { "" } else { ": " },
            text.trim()
        );
        if status.is_server_error() || status.as_u16() == 408 || status.as_u16() == 429 {
            Err(SendError::retryable(message))
        } else {
            Err(SendError::permanent(message))
        }
    }

    fn describe(&self) -> String {
        format!("zipkin {}", self.endpoint)
    }

    fn needs_spans(&self) -> bool {
        false
    }
}

impl std::fmt::Debug for ZipkinHttp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZipkinHttp")
            .field("endpoint", &self.endpoint)
            .field("gzip", &self.gzip)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        assert_eq!(
            validate_endpoint(" http://zipkin:9411/api/v2/spans ").unwrap(),
            "http://zipkin:9411/api/v2/spans"
        );
        assert_eq!(
            validate_endpoint("http://[::1]:9411").unwrap(),
            "http://[::1]:9411/api/v2/spans"
        );
        for bad in [
            "",
            "zipkin:9411",
            "https://zipkin:9411/",
            "http://user:pw@zipkin:9411/",
            "http://zipkin:0/",
            "http://zip kin/",
            "http:///api/v2/spans",
        ] {
            assert!(validate_endpoint(bad).is_err(), "{bad:?}");
        }
    }
}
