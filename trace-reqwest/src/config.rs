//! What to write on outgoing calls, and what to do outside any context.

use std::sync::OnceLock;

use reqwest::header::HeaderMap;
use trace_context::codec::Propagation;
use trace_context::Context;

/// What an outgoing call does when no trace context is current (a call made at start-up, from a
/// timer, or from a task spawned without [`trace_context::spawn`]).
///
/// ```
/// use trace_reqwest::{ClientTracing, OutsideContext};
/// let t = ClientTracing::new().outside_context(OutsideContext::InjectNothing);
/// assert_eq!(t.outside_context_policy(), OutsideContext::InjectNothing);
/// assert_eq!(OutsideContext::default(), OutsideContext::NewTrace);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutsideContext {
    /// Start a new trace for this call (default): a fresh trace id decided by the global
    /// sampler ([`Context::new_root`]); the client span is that trace's root, so the callee
    /// still gets an id and both sides land in one trace.
    #[default]
    NewTrace,
    /// Write no trace header at all; the callee starts its own trace. The client span is still
    /// opened (without ids).
    InjectNothing,
}

/// The configuration shared by both ways of tracing a call ([`crate::TracingMiddleware`] and
/// [`crate::RequestBuilderExt`]): which headers to write and what to do outside any context.
///
/// | option | default |
/// |---|---|
/// | [`propagation`](Self::propagation) | [`Propagation::default()`]: `X-App-Trace-Id`, W3C `traceparent` (+ `tracestate`), B3 multi |
/// | [`outside_context`](Self::outside_context) | [`OutsideContext::NewTrace`] |
/// | [`mark_client_errors`](Self::mark_client_errors) | `false`: only a 5xx answer marks the span `error` |
/// | [`unsampled_spans`](Self::unsampled_spans) | `true`: a client span for every call |
///
/// ```
/// use trace_context::codec::{B3Style, Propagation};
/// use trace_reqwest::{ClientTracing, OutsideContext};
///
/// let tracing = ClientTracing::new()
///     .propagation(Propagation::default().w3c(false).b3_style(B3Style::Single))
///     .outside_context(OutsideContext::InjectNothing);
/// assert!(!tracing.propagation_config().w3c_enabled());
/// ```
#[derive(Debug, Clone)]
pub struct ClientTracing {
    propagation: Propagation,
    outside: OutsideContext,
    client_errors: bool,
    unsampled_spans: bool,
}

impl Default for ClientTracing {
    fn default() -> Self {
        ClientTracing {
            propagation: Propagation::default(),
            outside: OutsideContext::default(),
            client_errors: false,
            unsampled_spans: true,
        }
    }
}

impl ClientTracing {
    /// The default configuration (see the table on [`ClientTracing`]).
    ///
    /// ```
    /// let t = trace_reqwest::ClientTracing::new();
    /// assert_eq!(t.propagation_config().app_header_name(), Some("x-app-trace-id"));
    /// ```
    pub fn new() -> Self {
        ClientTracing::default()
    }

    /// A shared default configuration, built once (used by
    /// [`RequestBuilderExt::send_traced`](crate::RequestBuilderExt::send_traced)).
    ///
    /// ```
    /// let t = trace_reqwest::ClientTracing::shared_default();
    /// assert!(t.propagation_config().w3c_enabled());
    /// ```
    pub fn shared_default() -> &'static ClientTracing {
        static DEFAULT: OnceLock<ClientTracing> = OnceLock::new();
        DEFAULT.get_or_init(ClientTracing::default)
    }

    /// Which formats are written and under which names (`X-App-Trace-Id` or another
    /// application header, W3C on/off, B3 multi/single/off). Default: all three, B3 multi.
    ///
    /// ```
    /// use trace_context::codec::Propagation;
    /// let t = trace_reqwest::ClientTracing::new().propagation(Propagation::default().b3_off());
    /// assert_eq!(t.propagation_config().b3(), None);
    /// ```
    pub fn propagation(mut self, propagation: Propagation) -> Self {
        self.propagation = propagation;
        self
    }

    /// What to do when no context is current (default [`OutsideContext::NewTrace`]).
    ///
    /// ```
    /// use trace_reqwest::{ClientTracing, OutsideContext};
    /// let _ = ClientTracing::new().outside_context(OutsideContext::InjectNothing);
    /// ```
    pub fn outside_context(mut self, policy: OutsideContext) -> Self {
        self.outside = policy;
        self
    }

    /// Also marks the client span `error = "<status>"` when the answer is a 4xx, as Brave's
    /// HTTP parser does for any status above 399 (default `false`: only a 5xx answer sets
    /// `error = true`). For services where a 4xx from a callee fails the caller's work (an
    /// unknown id, a refused request), so that it shows as an error in the trace.
    ///
    /// ```
    /// let t = trace_reqwest::ClientTracing::new().mark_client_errors(true);
    /// assert!(t.client_errors_marked());
    /// assert!(!trace_reqwest::ClientTracing::new().client_errors_marked());
    /// ```
    pub fn mark_client_errors(mut self, on: bool) -> Self {
        self.client_errors = on;
        self
    }

    /// True when a 4xx answer marks the client span `error`
    /// ([`mark_client_errors`](Self::mark_client_errors)).
    ///
    /// ```
    /// assert!(!trace_reqwest::ClientTracing::new().client_errors_marked());
    /// ```
    pub fn client_errors_marked(&self) -> bool {
        self.client_errors
    }

    /// Whether a call in a trace that is not sampled opens its client span (default `true`).
    ///
    /// Off, such a call opens no `tracing` span, as Brave gives unsampled traces no-op spans:
    /// it still gets its own client context (its span id is the parent the callee sees, log
    /// lines inside the call print it) and its headers, but costs no span in the registry (the
    /// span would be reported nowhere: exporters record sampled traces only). Keep it on when
    /// another `tracing` layer (metrics, a second exporter) needs a span for every call.
    /// Calls in sampled traces, and calls outside any context, always open their span.
    ///
    /// ```
    /// let t = trace_reqwest::ClientTracing::new().unsampled_spans(false);
    /// assert!(!t.opens_unsampled_spans());
    /// ```
    pub fn unsampled_spans(mut self, on: bool) -> Self {
        self.unsampled_spans = on;
        self
    }

    /// True when calls in unsampled traces open their client span
    /// ([`unsampled_spans`](Self::unsampled_spans)).
    ///
    /// ```
    /// assert!(trace_reqwest::ClientTracing::new().opens_unsampled_spans());
    /// ```
    pub fn opens_unsampled_spans(&self) -> bool {
        self.unsampled_spans
    }

    /// The formats written.
    ///
    /// ```
    /// assert!(trace_reqwest::ClientTracing::new().propagation_config().b3().is_some());
    /// ```
    pub fn propagation_config(&self) -> &Propagation {
        &self.propagation
    }

    /// The policy outside any context.
    ///
    /// ```
    /// use trace_reqwest::{ClientTracing, OutsideContext};
    /// assert_eq!(ClientTracing::new().outside_context_policy(), OutsideContext::NewTrace);
    /// ```
    pub fn outside_context_policy(&self) -> OutsideContext {
        self.outside
    }

    /// The context of a new client span: a child of the current context (same trace, sampling
    /// decision, application id and `tracestate`; a new span id whose parent is the current
    /// span). Outside any context: a new root trace, or `None` with
    /// [`OutsideContext::InjectNothing`].
    ///
    /// ```
    /// use trace_context::Context;
    /// let request = Context::new_root();
    /// let client = request.scope(|| trace_reqwest::ClientTracing::new().client_context()).unwrap();
    /// assert_eq!(client.trace_id(), request.trace_id());
    /// assert_eq!(client.parent_span_id(), Some(request.span_id()));
    /// ```
    pub fn client_context(&self) -> Option<Context> {
        Context::with_current(|current| current.map(Context::child)).or_else(|| {
            match self.outside {
                OutsideContext::NewTrace => Some(Context::new_root()),
                OutsideContext::InjectNothing => None,
            }
        })
    }

    /// The injection step both paths share: makes the client span's context
    /// ([`client_context`](Self::client_context)) and writes the configured headers for it —
    /// its span id is the parent id the callee sees. A header already present (set by hand) is
    /// left as it is. Returns the client context (`None` when nothing was injected).
    ///
    /// ```
    /// use trace_context::Context;
    /// let request = Context::new_root();
    /// let mut headers = reqwest::header::HeaderMap::new();
    /// headers.insert("x-app-trace-id", "set-by-hand".parse().unwrap());
    /// let client = request
    ///     .scope(|| trace_reqwest::ClientTracing::new().inject(&mut headers))
    ///     .unwrap();
    /// assert_eq!(headers["x-app-trace-id"], "set-by-hand");
    /// assert_eq!(headers["x-b3-spanid"], client.span_id().to_string());
    /// assert_eq!(headers["x-b3-parentspanid"], request.span_id().to_string());
    /// ```
    pub fn inject(&self, headers: &mut HeaderMap) -> Option<Context> {
        let ctx = self.client_context()?;
        self.propagation.inject(&ctx, headers);
        Some(ctx)
    }
}
