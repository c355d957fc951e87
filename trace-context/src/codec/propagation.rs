//! The three formats together: what to read, in which precedence, and what to write.

use std::sync::Arc;

use crate::codec::b3::{self, B3Context};
use crate::codec::gather::{Gathered, MAX_TRACESTATE_HEADERS};
use crate::codec::w3c::{self, TraceParent};
use crate::codec::{Extractor, Injector};
use crate::{
    decide, AppTraceId, Context, IdGenerator, Rejection, Sampler, Sampling, SpanId, TraceId,
};

/// The default application id header.
pub const X_APP_TRACE_ID: &str = "x-app-trace-id";

/// Which B3 form to write.
///
/// ```
/// let p = trace_context::codec::Propagation::default().b3_style(trace_context::codec::B3Style::Single);
/// assert_eq!(p.b3(), Some(trace_context::codec::B3Style::Single));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum B3Style {
    /// `X-B3-TraceId`, `X-B3-SpanId`, `X-B3-ParentSpanId`, `X-B3-Sampled` / `X-B3-Flags` (default).
    Multi,
    /// One `b3` header.
    Single,
}

/// Which formats are read and written, and under which names.
///
/// Defaults: `X-App-Trace-Id` on (at most 128 bytes), W3C `traceparent`/`tracestate` on, B3 on
/// (read: both forms; write: multi).
///
/// Precedence when several arrive: the parent span (trace id, caller's span id, sampled flag)
/// comes from `traceparent` when valid, else from B3; the application id comes from
/// `X-App-Trace-Id`. With no parent, a hex-shaped application id is the trace id and any other is
/// hashed into one ([`crate::derive_trace_id`]); with neither, a trace id is minted.
///
/// ```
/// use trace_context::codec::Propagation;
/// let p = Propagation::default().app_header("x-request-id").w3c(false);
/// assert_eq!(p.app_header_name(), Some("x-request-id"));
/// ```
#[derive(Debug, Clone)]
pub struct Propagation {
    /// Interned when configured, so injection never allocates or locks for it.
    app_header: Option<&'static str>,
    max_app_id_len: usize,
    w3c: bool,
    b3: Option<B3Style>,
    /// Injection writes the application id header for a context without an application id.
    minted_app_header: bool,
}

impl Default for Propagation {
    fn default() -> Self {
        Propagation {
            app_header: Some(X_APP_TRACE_ID),
            max_app_id_len: crate::DEFAULT_MAX_APP_ID_LEN,
            w3c: true,
            b3: Some(B3Style::Multi),
            minted_app_header: true,
        }
    }
}

/// What was read from incoming headers.
///
/// ```
/// use trace_context::codec::Propagation;
/// let headers = [("x-app-trace-id", "web-1716268000123-42")];
/// let got = Propagation::default().extract(headers.as_slice());
/// assert_eq!(got.app_trace_id.unwrap().as_str(), "web-1716268000123-42");
/// assert!(got.parent.is_none());
/// ```
#[derive(Debug, Clone, Default)]
pub struct Extracted {
    /// The application id, when one was received and valid.
    pub app_trace_id: Option<AppTraceId>,
    /// Why a received application id was discarded (it is then never reflected anywhere).
    pub app_trace_id_rejected: Option<Rejection>,
    /// The remote parent: from `traceparent` or B3.
    pub parent: Option<RemoteParent>,
    /// The caller's sampling decision (also set by the sampling-only B3 forms).
    pub sampling: Sampling,
}

/// A parent span received over the wire.
///
/// ```
/// let headers = [("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")];
/// let p = trace_context::codec::Propagation::default().extract(headers.as_slice()).parent.unwrap();
/// assert_eq!(p.span_id.to_string(), "b7ad6b7169203331");
/// ```
#[derive(Debug, Clone)]
pub struct RemoteParent {
    /// The trace id.
    pub trace_id: TraceId,
    /// The caller's span id.
    pub span_id: SpanId,
    /// W3C level 2: the trace id's rightmost 7 bytes are random.
    pub random_trace_id: bool,
    /// The validated `tracestate` that came with a `traceparent`.
    pub tracestate: Option<Arc<str>>,
}

impl Propagation {
    /// The application id header (lowercase). Default `x-app-trace-id`.
    ///
    /// ```
    /// let p = trace_context::codec::Propagation::default().app_header("X-Request-Id");
    /// assert_eq!(p.app_header_name(), Some("x-request-id"));
    /// ```
    pub fn app_header(mut self, name: &str) -> Self {
        self.app_header = Some(static_name(&name.to_ascii_lowercase()));
        self
    }

    /// Turns the application id header on or off (default on).
    ///
    /// ```
    /// assert_eq!(trace_context::codec::Propagation::default().app_id(false).app_header_name(), None);
    /// ```
    pub fn app_id(mut self, on: bool) -> Self {
        self.app_header = if on {
            Some(self.app_header.unwrap_or(X_APP_TRACE_ID))
        } else {
            None
        };
        self
    }

    /// Whether an outgoing call carries the application id header when the trace has no
    /// application id — none was received upstream, the trace id was minted here (default
    /// `true`). Its value is then the trace id in hex, which `traceparent` (or B3) carries as
    /// well, so a callee that reads W3C or B3 gets the same ids without it.
    ///
    /// Off, the header is written only when there is an application id to pass on (one that
    /// was received, hex-shaped or not): one header less per call to write, send and parse,
    /// and the callee's spans do not get an `app.trace_id` tag the caller's spans do not
    /// have. Keep the default when a callee reads only the application id header (a service
    /// without W3C/B3 propagation). Has no effect when neither W3C nor B3 is written: the
    /// header is then the only carrier of the trace id.
    ///
    /// ```
    /// use trace_context::{codec::Propagation, Context};
    /// let p = Propagation::default().b3_off().minted_app_header(false);
    /// let mut headers = http::HeaderMap::new();
    /// p.inject(&Context::new_root(), &mut headers); // a minted trace id: W3C only
    /// assert!(!headers.contains_key("x-app-trace-id"));
    /// assert!(headers.contains_key("traceparent"));
    /// assert!(!p.writes_minted_app_header());
    /// ```
    pub fn minted_app_header(mut self, on: bool) -> Self {
        self.minted_app_header = on;
        self
    }

    /// True when injection writes the application id header for a trace without an
    /// application id ([`minted_app_header`](Self::minted_app_header)).
    ///
    /// ```
    /// assert!(trace_context::codec::Propagation::default().writes_minted_app_header());
    /// ```
    pub fn writes_minted_app_header(&self) -> bool {
        self.minted_app_header
    }

    /// The longest application id accepted, in bytes (default 128).
    ///
    /// ```
    /// let _ = trace_context::codec::Propagation::default().max_app_id_len(64);
    /// ```
    pub fn max_app_id_len(mut self, max: usize) -> Self {
        self.max_app_id_len = max;
        self
    }

    /// Turns W3C `traceparent`/`tracestate` on or off (default on).
    ///
    /// ```
    /// assert!(!trace_context::codec::Propagation::default().w3c(false).w3c_enabled());
    /// ```
    pub fn w3c(mut self, on: bool) -> Self {
        self.w3c = on;
        self
    }

    /// Turns B3 off (`None`) or sets the form written (both forms are always read when on).
    ///
    /// ```
    /// assert_eq!(trace_context::codec::Propagation::default().b3_off().b3(), None);
    /// ```
    pub fn b3_style(mut self, style: B3Style) -> Self {
        self.b3 = Some(style);
        self
    }

    /// Turns B3 off.
    ///
    /// ```
    /// let _ = trace_context::codec::Propagation::default().b3_off();
    /// ```
    pub fn b3_off(mut self) -> Self {
        self.b3 = None;
        self
    }

    /// The application id header, if on.
    ///
    /// ```
    /// assert_eq!(trace_context::codec::Propagation::default().app_header_name(), Some("x-app-trace-id"));
    /// ```
    pub fn app_header_name(&self) -> Option<&str> {
        self.app_header
    }

    /// True when W3C is on.
    ///
    /// ```
    /// assert!(trace_context::codec::Propagation::default().w3c_enabled());
    /// ```
    pub fn w3c_enabled(&self) -> bool {
        self.w3c
    }

    /// The B3 form written, if B3 is on.
    ///
    /// ```
    /// assert_eq!(trace_context::codec::Propagation::default().b3(), Some(trace_context::codec::B3Style::Multi));
    /// ```
    pub fn b3(&self) -> Option<B3Style> {
        self.b3
    }

    /// Reads the enabled formats. Never fails: what is invalid is ignored (and, for the
    /// application id, the reason is kept).
    ///
    /// ```
    /// use trace_context::codec::Propagation;
    /// let headers = [("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
    ///                ("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")];
    /// // Two traceparent headers: invalid, a new trace is started.
    /// assert!(Propagation::default().extract(headers.as_slice()).parent.is_none());
    /// ```
    pub fn extract<E: Extractor + ?Sized>(&self, carrier: &E) -> Extracted {
        match Gathered::scan(carrier, self.app_header) {
            Some(gathered) => self.extract_with(&gathered),
            None => self.extract_with(&Lookups(carrier)),
        }
    }

    /// [`Propagation::extract`] of an `http::HeaderMap`, also handing back the received
    /// application id header when its value was accepted (it is the text of
    /// `app_trace_id`), so that a server can echo it without looking it up again or copying
    /// it. The result is the same as `extract(headers)`.
    ///
    /// ```
    /// use trace_context::codec::Propagation;
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert("x-app-trace-id", "web-1716268000123-42".parse().unwrap());
    /// let (got, received) = Propagation::default().extract_header_map(&headers);
    /// assert_eq!(got.app_trace_id.unwrap().as_str(), "web-1716268000123-42");
    /// assert_eq!(received, headers.get("x-app-trace-id"));
    ///
    /// headers.insert("x-app-trace-id", "not valid".parse().unwrap());
    /// let (got, received) = Propagation::default().extract_header_map(&headers);
    /// assert!(got.app_trace_id.is_none() && received.is_none());
    /// ```
    #[inline]
    pub fn extract_header_map<'a>(
        &self,
        headers: &'a http::HeaderMap,
    ) -> (Extracted, Option<&'a http::HeaderValue>) {
        let mut gathered = Gathered::new(self.app_header);
        let app_value = gathered.scan_header_map(headers);
        let out = self.extract_with(&gathered);
        let app_value = app_value.filter(|_| out.app_trace_id.is_some());
        (out, app_value)
    }

    /// The extraction rules, over the headers as `headers` reads them.
    #[inline]
    fn extract_with<H: TraceHeaders>(&self, headers: &H) -> Extracted {
        let mut out = Extracted::default();
        if let Some(name) = self.app_header {
            if let Some(raw) = headers.app(name) {
                match AppTraceId::parse_with_limit(raw, self.max_app_id_len) {
                    Ok(app) => out.app_trace_id = Some(app),
                    Err(why) => out.app_trace_id_rejected = Some(why),
                }
            }
        }
        if self.w3c {
            if let Some(tp) = headers.traceparent() {
                out.join_traceparent(tp, headers.tracestate());
                return out;
            }
        }
        if self.b3.is_some() {
            if let Some(b3) = headers.b3() {
                out.join_b3(b3);
            }
        }
        out
    }

    /// Writes the enabled formats for an outgoing call made in `ctx` (whose span id is the
    /// parent the callee will see). A header already present is never overwritten.
    ///
    /// ```
    /// use trace_context::{codec::Propagation, Context};
    /// let ctx = Context::new_root();
    /// let mut headers = http::HeaderMap::new();
    /// Propagation::default().inject(&ctx, &mut headers);
    /// assert_eq!(headers["x-b3-spanid"], ctx.span_id().to_string());
    /// assert!(headers["traceparent"].to_str().unwrap().contains(&ctx.trace_id().to_string()));
    /// ```
    pub fn inject<I: Injector + ?Sized>(&self, ctx: &Context, carrier: &mut I) {
        if let Some(name) = self.app_header {
            let other_carrier = self.w3c || self.b3.is_some();
            if self.minted_app_header || ctx.app_trace_id().is_some() || !other_carrier {
                carrier.set_if_absent(name, &ctx.app_id_text());
            }
        }
        if self.w3c {
            let mut flags = 0;
            if ctx.is_sampled() {
                flags |= w3c::FLAG_SAMPLED;
            }
            if ctx.random_trace_id() {
                flags |= w3c::FLAG_RANDOM;
            }
            let tp = TraceParent {
                trace_id: ctx.trace_id(),
                parent_id: ctx.span_id(),
                flags,
            };
            // A `traceparent` set by hand keeps its `tracestate` too.
            if carrier.set_if_absent(w3c::TRACEPARENT, tp.encode().as_str()) {
                if let Some(ts) = ctx.tracestate() {
                    carrier.set_if_absent(w3c::TRACESTATE, ts);
                }
            }
        }
        match self.b3 {
            Some(B3Style::Single) if !carrier.contains(b3::B3) => {
                let v = b3::encode_single(
                    ctx.trace_id(),
                    ctx.span_id(),
                    ctx.sampling(),
                    ctx.parent_span_id(),
                );
                carrier.set(b3::B3, &v);
            }
            Some(B3Style::Multi) => {
                let b3_present = [b3::X_B3_TRACE_ID, b3::X_B3_SPAN_ID, b3::B3]
                    .iter()
                    .any(|h| carrier.contains(h));
                if !b3_present {
                    carrier.set(b3::X_B3_TRACE_ID, &ctx.trace_id().to_zipkin_hex());
                    carrier.set(b3::X_B3_SPAN_ID, &ctx.span_id().to_hex());
                    if let Some(p) = ctx.parent_span_id() {
                        carrier.set(b3::X_B3_PARENT_SPAN_ID, &p.to_hex());
                    }
                    match ctx.sampling() {
                        Sampling::Debug => carrier.set(b3::X_B3_FLAGS, "1"),
                        Sampling::Sampled => carrier.set(b3::X_B3_SAMPLED, "1"),
                        Sampling::NotSampled => carrier.set(b3::X_B3_SAMPLED, "0"),
                        Sampling::Deferred => {}
                    }
                }
            }
            _ => {}
        }
    }
}

/// Header names handed to [`Injector::set`] are `'static`; a configured custom name is interned
/// once per distinct name (a handful per process).
/// Interns a configured header name (configuration is rare; the set holds each name once).
fn static_name(name: &str) -> &'static str {
    use std::collections::HashSet;
    use std::sync::Mutex;
    if name == X_APP_TRACE_ID {
        return X_APP_TRACE_ID;
    }
    static NAMES: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);
    let mut names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
    let set = names.get_or_insert_with(HashSet::new);
    if let Some(n) = set.get(name) {
        return n;
    }
    let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
    set.insert(leaked);
    leaked
}

/// Exactly one valid `traceparent`; two or more headers are invalid (start a new trace).
fn extract_traceparent<E: Extractor + ?Sized>(carrier: &E) -> Option<TraceParent> {
    let mut first = None;
    let mut count = 0;
    carrier.each(w3c::TRACEPARENT, &mut |v| {
        count += 1;
        if first.is_none() {
            first = Some(v);
        }
    });
    if count != 1 {
        return None;
    }
    TraceParent::parse(first?).ok()
}

/// What extraction reads from a request's headers: the same rules apply to headers gathered
/// in one pass ([`Gathered`]) and to lookups by name in any other carrier ([`Lookups`]).
trait TraceHeaders {
    /// The first value of the application id header `name`.
    fn app(&self, name: &str) -> Option<&[u8]>;
    /// The one valid `traceparent` (two or more headers are invalid).
    fn traceparent(&self) -> Option<TraceParent>;
    /// The validated `tracestate` (`None` when absent, invalid or in too many headers).
    fn tracestate(&self) -> Option<Arc<str>>;
    /// Valid B3, single or multi.
    fn b3(&self) -> Option<B3Context>;
}

impl TraceHeaders for Gathered<'_> {
    fn app(&self, _name: &str) -> Option<&[u8]> {
        // The scan was told the configured name.
        Gathered::app(self)
    }

    fn traceparent(&self) -> Option<TraceParent> {
        self.single_traceparent()
            .and_then(|v| TraceParent::parse(v).ok())
    }

    fn tracestate(&self) -> Option<Arc<str>> {
        let mut buf = [&b""[..]; MAX_TRACESTATE_HEADERS];
        self.tracestates(&mut buf).and_then(w3c::parse_tracestate)
    }

    fn b3(&self) -> Option<B3Context> {
        // Without any B3 header the six names need no probing.
        self.has_b3().then(|| B3Context::extract(self)).flatten()
    }
}

/// A carrier read by header name.
struct Lookups<'c, E: ?Sized>(&'c E);

impl<E: Extractor + ?Sized> TraceHeaders for Lookups<'_, E> {
    fn app(&self, name: &str) -> Option<&[u8]> {
        self.0.first(name)
    }

    fn traceparent(&self) -> Option<TraceParent> {
        extract_traceparent(self.0)
    }

    fn tracestate(&self) -> Option<Arc<str>> {
        let mut states = [&b""[..]; MAX_TRACESTATE_HEADERS];
        let mut n = 0;
        let mut too_many = false;
        self.0.each(w3c::TRACESTATE, &mut |v| {
            if n < states.len() {
                states[n] = v;
                n += 1;
            } else {
                too_many = true;
            }
        });
        if too_many {
            None
        } else {
            w3c::parse_tracestate(&states[..n])
        }
    }

    fn b3(&self) -> Option<B3Context> {
        B3Context::extract(self.0)
    }
}

impl Extracted {
    /// Joins the parent of a valid `traceparent` (with its validated `tracestate`).
    fn join_traceparent(&mut self, tp: TraceParent, tracestate: Option<Arc<str>>) {
        self.sampling = Sampling::from_bool(tp.sampled());
        self.parent = Some(RemoteParent {
            trace_id: tp.trace_id,
            span_id: tp.parent_id,
            random_trace_id: tp.random(),
            tracestate,
        });
    }

    /// Takes the decision and parent of valid B3.
    fn join_b3(&mut self, b: B3Context) {
        self.sampling = b.sampling;
        self.parent = b.ids.map(|(trace_id, span_id)| RemoteParent {
            trace_id,
            span_id,
            random_trace_id: false,
            tracestate: None,
        });
    }

    /// The context of a server span for this request: the remote parent's trace (else the
    /// application id's, else a minted one), a fresh span id, and the decision of `sampler`
    /// (which sees the caller's decision; B3 debug always samples).
    ///
    /// ```
    /// use trace_context::{codec::Propagation, FollowUpstream, IdGenerator};
    /// let headers = [("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00")];
    /// let ctx = Propagation::default().extract(headers.as_slice())
    ///     .server_context(&IdGenerator::default(), &FollowUpstream);
    /// assert_eq!(ctx.trace_id().to_string(), "0af7651916cd43dd8448eb211c80319c");
    /// assert_eq!(ctx.parent_span_id().unwrap().to_string(), "b7ad6b7169203331");
    /// assert!(ctx.remote_parent());
    /// assert!(!ctx.is_sampled());
    /// ```
    pub fn server_context(&self, generator: &IdGenerator, sampler: &dyn Sampler) -> Context {
        let (trace_id, random) = match (&self.parent, &self.app_trace_id) {
            (Some(p), _) => (p.trace_id, p.random_trace_id),
            (None, Some(app)) => (app.trace_id(), !app.is_trace_id()),
            (None, None) => (generator.trace_id(), generator.is_random()),
        };
        Context::server(
            trace_id,
            decide(sampler, trace_id, self.sampling),
            random,
            self.parent
                .as_ref()
                .map(|p| (p.span_id, p.tracestate.clone())),
            self.app_trace_id.clone(),
        )
    }
}
