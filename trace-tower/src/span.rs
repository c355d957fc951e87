//! The server span: what it carries when opened and what is recorded at the response.

use std::fmt::{self, Display};

use http::{Request, StatusCode};
use trace_context::Context;
use tracing::field::Empty;
use tracing::Span;

use crate::layer::Config;

/// The name of the server span opened for each request.
///
/// ```
/// assert_eq!(trace_tower::SERVER_SPAN_NAME, "http.server");
/// ```
pub const SERVER_SPAN_NAME: &str = "http.server";

/// The longest `error` text recorded on the span, in bytes.
const MAX_ERROR_TEXT: usize = 512;

/// Opens the server span. Called while the request's context is current, so that
/// `trace_context::ContextLayer` adopts that context for it (the span has a `span.kind`
/// field); `ctx` is that context.
pub(crate) fn server_span<B>(req: &Request<B>, config: &Config, ctx: &Context) -> Span {
    // Everything known now is given at creation: recording fields one by one afterwards makes
    // formatting layers re-render the span each time. The values are only computed when the
    // span is enabled.
    tracing::info_span!(
        SERVER_SPAN_NAME,
        span.kind = "server",
        service.name = config.service_name.as_deref(),
        http.method = %req.method(),
        http.path = req.uri().path(),
        http.route = framework::route(req),
        http.status_code = Empty,
        error = Empty,
        app.trace_id = ctx.app_trace_id().map(|a| a.as_str()),
        net.peer.ip = framework::peer(req).map(|p| tracing::field::display(p.ip())),
        net.peer.port = framework::peer(req).map(|p| p.port()),
    )
}

/// What the web framework put in the request's extensions.
mod framework {
    use http::Request;
    use std::net::SocketAddr;

    /// The matched route (axum's `MatchedPath`).
    #[cfg(feature = "axum")]
    pub(super) fn route<B>(req: &Request<B>) -> Option<&str> {
        use axum::extract::MatchedPath;
        req.extensions()
            .get::<MatchedPath>()
            .map(MatchedPath::as_str)
    }

    /// The peer's address (axum's `ConnectInfo`).
    #[cfg(feature = "axum")]
    pub(super) fn peer<B>(req: &Request<B>) -> Option<SocketAddr> {
        use axum::extract::ConnectInfo;
        req.extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| *peer)
    }

    #[cfg(not(feature = "axum"))]
    pub(super) fn route<B>(_req: &Request<B>) -> Option<&str> {
        None
    }

    #[cfg(not(feature = "axum"))]
    pub(super) fn peer<B>(_req: &Request<B>) -> Option<SocketAddr> {
        None
    }
}

/// Records the status; a 5xx (and a 4xx when `client_errors`) also sets `error` to the status
/// code (the value Brave writes; Brave's default parser marks 4xx too, which OpenTelemetry's
/// server conventions and this layer by default leave to the client).
pub(crate) fn record_status(span: &Span, status: StatusCode, client_errors: bool) {
    span.record("http.status_code", status.as_u16());
    if status.is_server_error() || (client_errors && status.is_client_error()) {
        span.record("error", status.as_str());
    }
}

/// Records a service error (its text, bounded).
pub(crate) fn record_error(span: &Span, error: &dyn Display) {
    span.record("error", tracing::field::display(Bounded(error)));
}

/// Records that the handler panicked.
pub(crate) fn record_panic(span: &Span) {
    span.record("error", "panic");
}

/// Displays at most [`MAX_ERROR_TEXT`] bytes of a value (cut on a character boundary).
struct Bounded<'a>(&'a dyn Display);

impl Display for Bounded<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut w = Limit {
            out: f,
            left: MAX_ERROR_TEXT,
        };
        // A full buffer ends the write early with an error; the text so far is kept.
        let _ = fmt::write(&mut w, format_args!("{}", self.0));
        Ok(())
    }
}

struct Limit<'a, 'b> {
    out: &'a mut fmt::Formatter<'b>,
    left: usize,
}

impl fmt::Write for Limit<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if s.len() <= self.left {
            self.left -= s.len();
            return self.out.write_str(s);
        }
        let mut end = self.left;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        self.out.write_str(&s[..end])?;
        self.left = 0;
        Err(fmt::Error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_cuts_long_text_on_a_char_boundary() {
        let long = "é".repeat(MAX_ERROR_TEXT);
        let shown = Bounded(&long).to_string();
        assert!(shown.len() <= MAX_ERROR_TEXT);
        assert!(shown.len() >= MAX_ERROR_TEXT - 1);
        assert_eq!(Bounded(&"short").to_string(), "short");
    }
}
