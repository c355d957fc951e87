//! The client span: its fields, and what is recorded when the call ends.

use std::error::Error as StdError;
use std::fmt::{self, Write as _};

use reqwest::{Method, StatusCode, Url};
use tracing::field::Empty;
use tracing::Span;

/// The name of the client span.
pub const CLIENT_SPAN_NAME: &str = "http.client";

/// The longest error text recorded on a span, in bytes.
const MAX_ERROR_TEXT: usize = 512;

/// Opens the client span. Must be called while the client context is current so that
/// `trace_context::ContextLayer` adopts that context (the span has a `span.kind` field).
pub(crate) fn client_span(method: &Method, url: &Url) -> Span {
    tracing::info_span!(
        CLIENT_SPAN_NAME,
        span.kind = "client",
        http.method = method.as_str(),
        http.url = %SafeUrl(url),
        net.peer.name = url.host_str(),
        net.peer.port = url.port_or_known_default(),
        http.status_code = Empty,
        error = Empty,
    )
}

/// Records the status once the response headers have arrived: `error = true` on 5xx, and with
/// `client_errors` `error = "<status>"` on 4xx (as Brave's HTTP parser does).
pub(crate) fn record_status(span: &Span, status: StatusCode, client_errors: bool) {
    span.record("http.status_code", status.as_u16());
    if status.is_server_error() {
        span.record("error", true);
    } else if client_errors && status.is_client_error() {
        span.record("error", status.as_str());
    }
}

/// Records a failed call: `error = "<text>"`, and the status if the error carries one.
pub(crate) fn record_error(span: &Span, text: &str, status: Option<StatusCode>) {
    if let Some(status) = status {
        span.record("http.status_code", status.as_u16());
    }
    span.record("error", text);
}

/// A URL as recorded on the span: scheme, host, explicit port and path — no user name,
/// password, query string or fragment. Writes without allocating.
pub(crate) struct SafeUrl<'a>(pub(crate) &'a Url);

impl fmt::Display for SafeUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = self.0;
        // Without credentials the serialization is exactly what is shown (the `url` crate
        // leaves out a default port as `port()` does), then `?query` and `#fragment`: one
        // write of the text before them.
        if url.has_host() && url.username().is_empty() && url.password().is_none() {
            let s = url.as_str();
            let after_path =
                url.query().map_or(0, |q| q.len() + 1) + url.fragment().map_or(0, |f| f.len() + 1);
            if let Some(text) = s.get(..s.len().saturating_sub(after_path)) {
                return f.write_str(text);
            }
        }
        match url.host_str() {
            Some(host) => {
                f.write_str(url.scheme())?;
                f.write_str("://")?;
                f.write_str(host)?;
                if let Some(port) = url.port() {
                    write!(f, ":{port}")?;
                }
                f.write_str(url.path())
            }
            // Not a hierarchical URL (reqwest refuses those): only the scheme is safe to show.
            None => write!(f, "{}:", url.scheme()),
        }
    }
}

/// The text of a reqwest error for the span: its kind and its causes, without the URL (which
/// may hold credentials or a query string), at most [`MAX_ERROR_TEXT`] bytes.
pub(crate) fn reqwest_error_text(err: &reqwest::Error) -> String {
    let mut out = String::new();
    let _ = write!(out, "{err}");
    if let Some(url) = err.url() {
        let suffix = format!(" for url ({url})");
        if let Some(pos) = out.find(&suffix) {
            out.replace_range(pos..pos + suffix.len(), "");
        }
    }
    let mut last = String::new();
    let mut source = err.source();
    while let Some(cause) = source {
        last.clear();
        let _ = write!(last, "{cause}");
        // hyper and std often repeat the inner message in the outer one.
        if !last.is_empty() && !out.ends_with(&last) {
            out.push_str(": ");
            out.push_str(&last);
        }
        source = cause.source();
    }
    truncate(out)
}

/// The text of a reqwest-middleware error: the reqwest error as above, or a later middleware's
/// error with its causes.
pub(crate) fn middleware_error_text(err: &reqwest_middleware::Error) -> String {
    match err {
        reqwest_middleware::Error::Reqwest(e) => reqwest_error_text(e),
        reqwest_middleware::Error::Middleware(e) => truncate(format!("{e:#}")),
    }
}

fn truncate(mut text: String) -> String {
    if text.len() > MAX_ERROR_TEXT {
        let mut end = MAX_ERROR_TEXT;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn safe(s: &str) -> String {
        SafeUrl(&Url::parse(s).unwrap()).to_string()
    }

    #[test]
    fn url_drops_credentials_query_and_fragment() {
        assert_eq!(
            safe("http://user:secret@example.com:8080/a/b?token=x#frag"),
            "http://example.com:8080/a/b"
        );
        assert_eq!(safe("https://example.com/"), "https://example.com/");
        assert_eq!(safe("http://[::1]:3000/x?y"), "http://[::1]:3000/x");
        assert_eq!(safe("http://example.com:80/"), "http://example.com/");
        assert_eq!(safe("data:text/plain,secret"), "data:");
        assert_eq!(safe("http://user@example.com/a?b"), "http://example.com/a");
        assert_eq!(
            safe("http://example.com/a%3Fb/c?d#e"),
            "http://example.com/a%3Fb/c"
        );
        assert_eq!(safe("http://example.com/a#b?c"), "http://example.com/a");
        assert_eq!(
            safe("http://127.0.0.1:8060/user/get/1001"),
            "http://127.0.0.1:8060/user/get/1001"
        );
    }

    #[test]
    fn both_ways_of_writing_agree() {
        // The slow path (credentials present) and the fast one give the same text.
        for (with, without) in [
            (
                "http://u:p@example.com:8080/a/b?q#f",
                "http://example.com:8080/a/b?q#f",
            ),
            ("https://u@[::1]/x", "https://[::1]/x"),
            ("http://u@example.com:80/", "http://example.com:80/"),
        ] {
            assert_eq!(safe(with), safe(without));
        }
    }

    #[test]
    fn truncates_on_a_char_boundary() {
        let long = "é".repeat(400);
        let t = truncate(long);
        assert!(t.len() <= MAX_ERROR_TEXT);
        assert!(t.chars().all(|c| c == 'é'));
    }
}
