//! The per-request context: ids, sampling decision and MDC fields.

use std::fmt;
use std::sync::Arc;

use crate::current;
use crate::{AppTraceId, HexBuf, IdGenerator, Sampling, SpanId, TraceId};

/// The context of the work in progress: the trace it belongs to, the current span, the sampling
/// decision, the application id as received, and MDC key/value fields.
///
/// A `Context` is an immutable snapshot behind an `Arc`: cloning is cheap, and changing it
/// ([`crate::mdc::put`]) copies on write, so a child task's `put` never changes its parent.
///
/// ```
/// use trace_context::{Context, TraceId};
/// let ctx = Context::builder(TraceId::random()).field("user", "42").build();
/// let _guard = ctx.enter();
/// assert_eq!(trace_context::current_trace_id(), Some(ctx.trace_id()));
/// assert_eq!(trace_context::mdc::get("user").as_deref(), Some("42"));
/// ```
#[derive(Clone)]
pub struct Context(Arc<Inner>);

#[derive(Clone)]
struct Inner {
    trace_id: TraceId,
    span_id: SpanId,
    parent_span_id: Option<SpanId>,
    app_trace_id: Option<AppTraceId>,
    sampling: Sampling,
    remote_parent: bool,
    random_trace_id: bool,
    tracestate: Option<Arc<str>>,
    fields: Option<Arc<Fields>>,
}

/// User MDC fields, in insertion order (few per request: a linear scan beats hashing).
type Fields = Vec<(Box<str>, Box<str>)>;

/// The MDC key of the trace id (as Brave and Sleuth name it).
pub const KEY_TRACE_ID: &str = "traceId";
/// The MDC key of the span id.
pub const KEY_SPAN_ID: &str = "spanId";
/// The MDC key of the parent span id.
pub const KEY_PARENT_ID: &str = "parentId";
/// The MDC key of the sampling decision (`true`/`false`).
pub const KEY_SAMPLED: &str = "sampled";
/// The MDC key of the application id (`X-App-Trace-Id` as received, else the trace id).
pub const KEY_APP_TRACE_ID: &str = "appTraceId";

/// A value read from the context, without allocating. Dereferences to `&str`.
///
/// ```
/// let ctx = trace_context::Context::builder(trace_context::TraceId::from_u128(1).unwrap()).build();
/// assert_eq!(&*ctx.get("sampled").unwrap(), "true");
/// ```
#[derive(Clone, Copy)]
pub enum MdcValue<'a> {
    /// A text held by the context.
    Str(&'a str),
    /// A rendered span id.
    Span(HexBuf<16>),
    /// A rendered trace id.
    Trace(HexBuf<32>),
}

impl std::ops::Deref for MdcValue<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            MdcValue::Str(s) => s,
            MdcValue::Span(h) => h.as_str(),
            MdcValue::Trace(h) => h.as_str(),
        }
    }
}

impl fmt::Display for MdcValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self)
    }
}

/// An MDC key as [`Context::get`] reads it: one of trace-context's own keys, or a user field.
/// Resolve a key once with [`MdcKey::parse`] and read it with [`Context::get_key`].
///
/// ```
/// use trace_context::MdcKey;
/// assert_eq!(MdcKey::parse("traceId"), MdcKey::TraceId);
/// assert_eq!(MdcKey::parse("orderId"), MdcKey::Field("orderId".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MdcKey<'a> {
    /// `traceId`.
    TraceId,
    /// `spanId`.
    SpanId,
    /// `parentId`.
    ParentId,
    /// `sampled`.
    Sampled,
    /// `appTraceId`.
    AppTraceId,
    /// A user field (a user field never shadows the keys above).
    Field(std::borrow::Cow<'a, str>),
}

impl<'a> MdcKey<'a> {
    /// The key named `key`.
    ///
    /// ```
    /// assert_eq!(trace_context::MdcKey::parse("sampled"), trace_context::MdcKey::Sampled);
    /// ```
    pub fn parse(key: &'a str) -> MdcKey<'a> {
        match key {
            KEY_TRACE_ID => MdcKey::TraceId,
            KEY_SPAN_ID => MdcKey::SpanId,
            KEY_PARENT_ID => MdcKey::ParentId,
            KEY_SAMPLED => MdcKey::Sampled,
            KEY_APP_TRACE_ID => MdcKey::AppTraceId,
            _ => MdcKey::Field(key.into()),
        }
    }

    /// The key with a field name of its own, to keep.
    ///
    /// ```
    /// let key: trace_context::MdcKey<'static> = trace_context::MdcKey::parse(&String::from("k")).into_owned();
    /// assert_eq!(key, trace_context::MdcKey::Field("k".into()));
    /// ```
    pub fn into_owned(self) -> MdcKey<'static> {
        match self {
            MdcKey::TraceId => MdcKey::TraceId,
            MdcKey::SpanId => MdcKey::SpanId,
            MdcKey::ParentId => MdcKey::ParentId,
            MdcKey::Sampled => MdcKey::Sampled,
            MdcKey::AppTraceId => MdcKey::AppTraceId,
            MdcKey::Field(k) => MdcKey::Field(k.into_owned().into()),
        }
    }
}

impl fmt::Debug for MdcValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl Context {
    /// Starts building a context for this trace id (a fresh span id, sampled, no parent).
    ///
    /// ```
    /// let t = trace_context::TraceId::random();
    /// let ctx = trace_context::Context::builder(t).sampling(trace_context::Sampling::NotSampled).build();
    /// assert!(!ctx.is_sampled());
    /// ```
    pub fn builder(trace_id: TraceId) -> ContextBuilder {
        ContextBuilder {
            inner: Inner {
                trace_id,
                span_id: SpanId::random(),
                parent_span_id: None,
                app_trace_id: None,
                sampling: Sampling::Sampled,
                remote_parent: false,
                random_trace_id: false,
                tracestate: None,
                fields: None,
            },
        }
    }

    /// The context of a server span (what [`crate::codec::Extracted::server_context`] builds),
    /// made in one step: no builder moves.
    #[inline]
    pub(crate) fn server(
        trace_id: TraceId,
        sampling: Sampling,
        random_trace_id: bool,
        remote: Option<(SpanId, Option<Arc<str>>)>,
        app_trace_id: Option<AppTraceId>,
    ) -> Context {
        let (parent_span_id, tracestate) = match remote {
            Some((span_id, tracestate)) => (Some(span_id), tracestate),
            None => (None, None),
        };
        Context(Arc::new(Inner {
            trace_id,
            span_id: SpanId::random(),
            remote_parent: parent_span_id.is_some(),
            parent_span_id,
            app_trace_id,
            sampling,
            random_trace_id,
            tracestate,
            fields: None,
        }))
    }

    /// A new trace: a fresh trace id from the default generator, decided by the global sampler.
    ///
    /// ```
    /// let a = trace_context::Context::new_root();
    /// assert!(a.parent_span_id().is_none());
    /// ```
    pub fn new_root() -> Context {
        Self::new_root_with(&IdGenerator::default())
    }

    /// A new trace with an id from this generator, decided by the global sampler.
    ///
    /// ```
    /// let ctx = trace_context::Context::new_root_with(&trace_context::IdGenerator::uuid_v7());
    /// assert!(ctx.app_trace_id().is_none());
    /// ```
    pub fn new_root_with(generator: &IdGenerator) -> Context {
        let trace_id = generator.trace_id();
        let sampling =
            crate::with_global_sampler(|s| crate::decide(s, trace_id, Sampling::Deferred));
        Context::builder(trace_id)
            .sampling(sampling)
            .random_trace_id(generator.is_random())
            .build()
    }

    /// A clone of the current context, if any.
    ///
    /// ```
    /// assert!(trace_context::Context::current().is_none());
    /// ```
    pub fn current() -> Option<Context> {
        current::with(|c| c.cloned())
    }

    /// The current context, or a new root when there is none (work started outside any request).
    ///
    /// ```
    /// let ctx = trace_context::Context::current_or_new_root();
    /// assert_eq!(ctx.parent_span_id(), None);
    /// ```
    pub fn current_or_new_root() -> Context {
        Self::current().unwrap_or_else(Context::new_root)
    }

    /// Runs `f` with the current context borrowed: no lock, no allocation.
    ///
    /// Do not change the MDC from inside `f`: such a change is refused (it returns `false`).
    ///
    /// ```
    /// let n = trace_context::Context::with_current(|c| c.map(|c| c.span_id().to_u64()));
    /// assert!(n.is_none());
    /// ```
    pub fn with_current<R>(f: impl FnOnce(Option<&Context>) -> R) -> R {
        current::with(f)
    }

    /// Makes this context current on this thread until the guard is dropped; the previous one is
    /// restored then, also on panic or early return.
    ///
    /// ```
    /// let ctx = trace_context::Context::new_root();
    /// {
    ///     let _g = ctx.enter();
    ///     assert!(trace_context::Context::current().is_some());
    /// }
    /// assert!(trace_context::Context::current().is_none());
    /// ```
    pub fn enter(&self) -> ContextGuard {
        ContextGuard {
            previous: current::try_replace(Some(self.clone())).ok(),
            _not_send: std::marker::PhantomData,
        }
    }

    /// Runs `f` inside this context.
    ///
    /// ```
    /// let ctx = trace_context::Context::new_root();
    /// let id = ctx.scope(|| trace_context::current_trace_id());
    /// assert_eq!(id, Some(ctx.trace_id()));
    /// ```
    pub fn scope<R>(&self, f: impl FnOnce() -> R) -> R {
        let _guard = self.enter();
        f()
    }

    /// A child span of this one: same trace, fields and decision; a new span id whose parent is
    /// this span.
    ///
    /// ```
    /// let parent = trace_context::Context::new_root();
    /// let child = parent.child();
    /// assert_eq!(child.trace_id(), parent.trace_id());
    /// assert_eq!(child.parent_span_id(), Some(parent.span_id()));
    /// ```
    pub fn child(&self) -> Context {
        // Field by field into the new allocation: cloning `Inner` first and moving it into the
        // `Arc` copied the whole struct (the inline application id included) twice.
        let p = &*self.0;
        Context(Arc::new(Inner {
            trace_id: p.trace_id,
            span_id: SpanId::random(),
            parent_span_id: Some(p.span_id),
            app_trace_id: p.app_trace_id.clone(),
            sampling: p.sampling,
            remote_parent: false,
            random_trace_id: p.random_trace_id,
            tracestate: p.tracestate.clone(),
            fields: p.fields.clone(),
        }))
    }

    /// The trace id.
    ///
    /// ```
    /// let t = trace_context::TraceId::random();
    /// assert_eq!(trace_context::Context::builder(t).build().trace_id(), t);
    /// ```
    pub fn trace_id(&self) -> TraceId {
        self.0.trace_id
    }

    /// The current span's id.
    ///
    /// ```
    /// let s = trace_context::SpanId::random();
    /// let ctx = trace_context::Context::builder(trace_context::TraceId::random()).span_id(s).build();
    /// assert_eq!(ctx.span_id(), s);
    /// ```
    pub fn span_id(&self) -> SpanId {
        self.0.span_id
    }

    /// The parent span's id (`None` on a root span).
    ///
    /// ```
    /// assert!(trace_context::Context::new_root().parent_span_id().is_none());
    /// ```
    pub fn parent_span_id(&self) -> Option<SpanId> {
        self.0.parent_span_id
    }

    /// The `X-App-Trace-Id` as received (validated), if one was.
    ///
    /// ```
    /// let app = trace_context::AppTraceId::parse(b"web-42").unwrap();
    /// let ctx = trace_context::Context::builder(app.trace_id()).app_trace_id(app).build();
    /// assert_eq!(ctx.app_trace_id().unwrap().as_str(), "web-42");
    /// ```
    pub fn app_trace_id(&self) -> Option<&AppTraceId> {
        self.0.app_trace_id.as_ref()
    }

    /// The sampling decision for this trace in this service.
    ///
    /// ```
    /// assert_eq!(trace_context::Context::builder(trace_context::TraceId::random()).build().sampling(),
    ///            trace_context::Sampling::Sampled);
    /// ```
    pub fn sampling(&self) -> Sampling {
        self.0.sampling
    }

    /// True when this trace is reported.
    ///
    /// ```
    /// assert!(trace_context::Context::builder(trace_context::TraceId::random()).build().is_sampled());
    /// ```
    pub fn is_sampled(&self) -> bool {
        self.0.sampling.is_sampled()
    }

    /// True for a span that joined a parent received over the wire (Zipkin's `shared`).
    ///
    /// ```
    /// assert!(!trace_context::Context::new_root().remote_parent());
    /// ```
    pub fn remote_parent(&self) -> bool {
        self.0.remote_parent
    }

    /// True when the trace id's rightmost 56 bits are known to be random (W3C level 2 flag).
    ///
    /// ```
    /// assert!(trace_context::Context::new_root().random_trace_id());
    /// ```
    pub fn random_trace_id(&self) -> bool {
        self.0.random_trace_id
    }

    /// The W3C `tracestate` received, validated, to pass on.
    ///
    /// ```
    /// assert!(trace_context::Context::new_root().tracestate().is_none());
    /// ```
    pub fn tracestate(&self) -> Option<&str> {
        self.0.tracestate.as_deref()
    }

    /// The user's MDC fields, in insertion order.
    ///
    /// ```
    /// let ctx = trace_context::Context::builder(trace_context::TraceId::random()).field("a", "1").build();
    /// assert_eq!(ctx.fields().collect::<Vec<_>>(), vec![("a", "1")]);
    /// ```
    pub fn fields(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.0
            .fields
            .iter()
            .flat_map(|f| f.iter())
            .map(|(k, v)| (&**k, &**v))
    }

    /// The trace id as Zipkin and Brave print it (16 hex digits for 64-bit ids, else 32).
    ///
    /// ```
    /// let ctx = trace_context::Context::builder(trace_context::TraceId::from_u128(10).unwrap()).build();
    /// assert_eq!(&*ctx.trace_id_text(), "000000000000000a");
    /// ```
    pub fn trace_id_text(&self) -> HexBuf<32> {
        self.0.trace_id.to_zipkin_hex()
    }

    /// The application id to print and to pass on: as received, else the trace id text.
    ///
    /// ```
    /// let ctx = trace_context::Context::builder(trace_context::TraceId::from_u128(10).unwrap()).build();
    /// assert_eq!(&*ctx.app_id_text(), "000000000000000a");
    /// ```
    pub fn app_id_text(&self) -> MdcValue<'_> {
        match &self.0.app_trace_id {
            Some(a) => MdcValue::Str(a.as_str()),
            None => MdcValue::Trace(self.trace_id_text()),
        }
    }

    /// Reads a value by MDC key: the user's fields, and the keys a Java user knows from
    /// Brave/Sleuth — `traceId`, `spanId`, `parentId`, `sampled` (`true`/`false`) — plus
    /// `appTraceId`. A user field never shadows those keys.
    ///
    /// ```
    /// let ctx = trace_context::Context::new_root();
    /// assert_eq!(&*ctx.get("traceId").unwrap(), ctx.trace_id().to_string());
    /// assert!(ctx.get("parentId").is_none());
    /// assert!(ctx.get("missing").is_none());
    /// ```
    pub fn get(&self, key: &str) -> Option<MdcValue<'_>> {
        self.get_key(&MdcKey::parse(key))
    }

    /// [`Context::get`] for a key resolved beforehand ([`MdcKey::parse`]), e.g. once when a
    /// log pattern is parsed rather than on every line.
    ///
    /// ```
    /// use trace_context::{Context, MdcKey};
    /// let key = MdcKey::parse("spanId").into_owned();
    /// let ctx = Context::new_root();
    /// assert_eq!(&*ctx.get_key(&key).unwrap(), ctx.span_id().to_string());
    /// ```
    pub fn get_key(&self, key: &MdcKey<'_>) -> Option<MdcValue<'_>> {
        match key {
            MdcKey::TraceId => Some(MdcValue::Trace(self.trace_id_text())),
            MdcKey::SpanId => Some(MdcValue::Span(self.0.span_id.to_hex())),
            MdcKey::ParentId => self.0.parent_span_id.map(|p| MdcValue::Span(p.to_hex())),
            MdcKey::Sampled => Some(MdcValue::Str(if self.is_sampled() {
                "true"
            } else {
                "false"
            })),
            MdcKey::AppTraceId => Some(self.app_id_text()),
            MdcKey::Field(key) => self.field(key).map(MdcValue::Str),
        }
    }

    /// A user field by key.
    ///
    /// ```
    /// let ctx = trace_context::Context::builder(trace_context::TraceId::random()).field("k", "v").build();
    /// assert_eq!(ctx.field("k"), Some("v"));
    /// ```
    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// This context with a field set (copy on write).
    ///
    /// ```
    /// let a = trace_context::Context::new_root();
    /// let b = a.with_field("k", "v");
    /// assert_eq!(b.field("k"), Some("v"));
    /// assert_eq!(a.field("k"), None);
    /// ```
    pub fn with_field(&self, key: &str, value: &str) -> Context {
        let mut next = self.clone();
        next.set_field(key, value);
        next
    }

    /// This context without a field (copy on write).
    ///
    /// ```
    /// let a = trace_context::Context::new_root().with_field("k", "v");
    /// assert_eq!(a.without_field("k").field("k"), None);
    /// ```
    pub fn without_field(&self, key: &str) -> Context {
        let mut next = self.clone();
        next.remove_field(key);
        next
    }

    /// This context with `fields` added — shared, not copied, when the context has no fields
    /// of its own yet (the usual case for a request's new context); a field already set keeps
    /// being replaced by the later value, as with [`Context::with_field`].
    ///
    /// ```
    /// use trace_context::{Context, MdcFields};
    /// let service = MdcFields::new().with("service", "order");
    /// let ctx = Context::new_root().with_mdc_fields(&service);
    /// assert_eq!(ctx.field("service"), Some("order"));
    /// ```
    pub fn with_mdc_fields(mut self, fields: &MdcFields) -> Context {
        if fields.0.is_empty() {
            return self;
        }
        if self.0.fields.is_none() {
            Arc::make_mut(&mut self.0).fields = Some(Arc::clone(&fields.0));
            return self;
        }
        for (key, value) in fields.0.iter() {
            self.set_field(key, value);
        }
        self
    }

    pub(crate) fn set_field(&mut self, key: &str, value: &str) {
        let inner = Arc::make_mut(&mut self.0);
        let fields = Arc::make_mut(inner.fields.get_or_insert_with(Default::default));
        match fields.iter_mut().find(|(k, _)| &**k == key) {
            Some((_, v)) => *v = value.into(),
            None => fields.push((key.into(), value.into())),
        }
    }

    pub(crate) fn remove_field(&mut self, key: &str) -> bool {
        if self.field(key).is_none() {
            return false;
        }
        let inner = Arc::make_mut(&mut self.0);
        if let Some(fields) = inner.fields.as_mut() {
            Arc::make_mut(fields).retain(|(k, _)| &**k != key);
        }
        true
    }

    /// True when both handles share one snapshot.
    ///
    /// ```
    /// let a = trace_context::Context::new_root();
    /// assert!(a.ptr_eq(&a.clone()));
    /// ```
    pub fn ptr_eq(&self, other: &Context) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// The address of this snapshot, to tell snapshots apart without holding a handle: only
    /// compared, never turned back into a pointer. Two handles alive at once have equal
    /// addresses exactly when they share one snapshot.
    #[cfg(feature = "tracing")]
    pub(crate) fn addr(&self) -> usize {
        Arc::as_ptr(&self.0) as usize
    }
}

/// MDC fields built once and given to many contexts without copying them
/// ([`Context::with_mdc_fields`]): e.g. the name of the service in every request's context,
/// as trace-tower's `TraceLayer::mdc_field` does.
///
/// ```
/// let fields = trace_context::MdcFields::new().with("service", "order").with("zone", "eu-1");
/// assert_eq!(fields.len(), 2);
/// ```
#[derive(Clone, Default)]
pub struct MdcFields(Arc<Fields>);

impl MdcFields {
    /// No fields.
    ///
    /// ```
    /// assert!(trace_context::MdcFields::new().is_empty());
    /// ```
    pub fn new() -> Self {
        MdcFields::default()
    }

    /// These fields with `key` set to `value` (replacing an earlier value of `key`).
    ///
    /// ```
    /// let f = trace_context::MdcFields::new().with("k", "a").with("k", "b");
    /// assert_eq!(f.get("k"), Some("b"));
    /// ```
    pub fn with(mut self, key: &str, value: &str) -> Self {
        let fields = Arc::make_mut(&mut self.0);
        match fields.iter_mut().find(|(k, _)| &**k == key) {
            Some((_, v)) => *v = value.into(),
            None => fields.push((key.into(), value.into())),
        }
        self
    }

    /// The value of `key`, if set.
    ///
    /// ```
    /// assert_eq!(trace_context::MdcFields::new().with("k", "v").get("k"), Some("v"));
    /// ```
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| &**k == key).map(|(_, v)| &**v)
    }

    /// How many fields.
    ///
    /// ```
    /// assert_eq!(trace_context::MdcFields::new().with("k", "v").len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are none.
    ///
    /// ```
    /// assert!(trace_context::MdcFields::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for MdcFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(k, v)| (&**k, &**v)))
            .finish()
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("trace_id", &self.0.trace_id)
            .field("span_id", &self.0.span_id)
            .field("parent_span_id", &self.0.parent_span_id)
            .field("app_trace_id", &self.0.app_trace_id)
            .field("sampling", &self.0.sampling)
            .field("remote_parent", &self.0.remote_parent)
            .field("fields", &self.fields().collect::<Vec<_>>())
            .finish()
    }
}

/// Builds a [`Context`]. Start with [`Context::builder`].
///
/// ```
/// use trace_context::{Context, SpanId, TraceId};
/// let ctx = Context::builder(TraceId::random())
///     .parent_span_id(Some(SpanId::random()))
///     .remote_parent(true)
///     .build();
/// assert!(ctx.remote_parent());
/// ```
#[derive(Clone)]
pub struct ContextBuilder {
    inner: Inner,
}

impl ContextBuilder {
    /// The span id (default: a fresh random one).
    ///
    /// ```
    /// let _ = trace_context::Context::builder(trace_context::TraceId::random()).span_id(trace_context::SpanId::random());
    /// ```
    pub fn span_id(mut self, span_id: SpanId) -> Self {
        self.inner.span_id = span_id;
        self
    }

    /// The parent span id (default: none, a root span).
    ///
    /// ```
    /// let _ = trace_context::Context::builder(trace_context::TraceId::random()).parent_span_id(None);
    /// ```
    pub fn parent_span_id(mut self, parent: Option<SpanId>) -> Self {
        self.inner.parent_span_id = parent;
        self
    }

    /// The application id as received.
    ///
    /// ```
    /// let app = trace_context::AppTraceId::parse(b"x-1").unwrap();
    /// let _ = trace_context::Context::builder(app.trace_id()).app_trace_id(app);
    /// ```
    pub fn app_trace_id(mut self, app: AppTraceId) -> Self {
        self.inner.app_trace_id = Some(app);
        self
    }

    /// The sampling decision (default: sampled).
    ///
    /// ```
    /// let _ = trace_context::Context::builder(trace_context::TraceId::random()).sampling(trace_context::Sampling::Debug);
    /// ```
    pub fn sampling(mut self, sampling: Sampling) -> Self {
        self.inner.sampling = sampling;
        self
    }

    /// Marks a span that joins a parent received over the wire (default: false).
    ///
    /// ```
    /// let _ = trace_context::Context::builder(trace_context::TraceId::random()).remote_parent(true);
    /// ```
    pub fn remote_parent(mut self, remote: bool) -> Self {
        self.inner.remote_parent = remote;
        self
    }

    /// Whether the trace id's rightmost 56 bits are known to be random (default: false).
    ///
    /// ```
    /// let _ = trace_context::Context::builder(trace_context::TraceId::random()).random_trace_id(true);
    /// ```
    pub fn random_trace_id(mut self, random: bool) -> Self {
        self.inner.random_trace_id = random;
        self
    }

    /// The validated W3C `tracestate` to pass on.
    ///
    /// ```
    /// let _ = trace_context::Context::builder(trace_context::TraceId::random()).tracestate(Some("a=1".into()));
    /// ```
    pub fn tracestate(mut self, tracestate: Option<Arc<str>>) -> Self {
        self.inner.tracestate = tracestate;
        self
    }

    /// An MDC field.
    ///
    /// ```
    /// let _ = trace_context::Context::builder(trace_context::TraceId::random()).field("tenant", "acme");
    /// ```
    pub fn field(mut self, key: &str, value: &str) -> Self {
        let mut ctx = Context(Arc::new(self.inner));
        ctx.set_field(key, value);
        self.inner = Arc::try_unwrap(ctx.0).unwrap_or_else(|a| (*a).clone());
        self
    }

    /// The context.
    ///
    /// ```
    /// let ctx = trace_context::Context::builder(trace_context::TraceId::random()).build();
    /// assert!(ctx.parent_span_id().is_none());
    /// ```
    pub fn build(self) -> Context {
        Context(Arc::new(self.inner))
    }
}

/// Restores the previous context when dropped. Returned by [`Context::enter`].
///
/// ```
/// let g = trace_context::Context::new_root().enter();
/// drop(g);
/// assert!(trace_context::Context::current().is_none());
/// ```
#[must_use = "the context is current only while the guard lives"]
pub struct ContextGuard {
    /// What to restore; `None` when installing was refused (nothing to undo).
    previous: Option<Option<Context>>,
    _not_send: std::marker::PhantomData<*const ()>,
}

impl Drop for ContextGuard {
    fn drop(&mut self) {
        if let Some(previous) = self.previous.take() {
            let _ = current::try_replace(previous);
        }
    }
}

impl fmt::Debug for ContextGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ContextGuard")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_mdc_fields_are_never_changed_through_a_context() {
        let service = MdcFields::new().with("service", "order");
        let a = Context::new_root().with_mdc_fields(&service);
        let b = Context::new_root().with_mdc_fields(&service);
        // Shared, not copied.
        assert!(Arc::ptr_eq(a.0.fields.as_ref().unwrap(), &service.0));
        // A put on one request's context copies on write: the template and the other request
        // stay as they were.
        let a2 = a.with_field("user", "42").with_field("service", "renamed");
        assert_eq!(a2.field("user"), Some("42"));
        assert_eq!(a2.field("service"), Some("renamed"));
        assert_eq!(service.get("service"), Some("order"));
        assert_eq!(service.len(), 1);
        assert_eq!(b.field("service"), Some("order"));
        assert_eq!(b.field("user"), None);
        // A context with fields of its own gets the shared ones added, later values winning.
        let own = Context::new_root()
            .with_field("service", "old")
            .with_field("k", "v");
        let merged = own.with_mdc_fields(&service);
        assert_eq!(merged.field("service"), Some("order"));
        assert_eq!(merged.field("k"), Some("v"));
        // No fields: nothing changes.
        let c = Context::new_root();
        let same = c.clone().with_mdc_fields(&MdcFields::new());
        assert!(same.ptr_eq(&c));
    }

    #[test]
    fn a_child_keeps_everything_but_the_span_ids_and_the_remote_mark() {
        let app = AppTraceId::parse(b"1716268000123-web-42").unwrap();
        let parent = Context::builder(TraceId::random())
            .parent_span_id(Some(SpanId::random()))
            .remote_parent(true)
            .sampling(Sampling::Debug)
            .random_trace_id(true)
            .app_trace_id(app.clone())
            .tracestate(Some(Arc::from("vendor=1")))
            .field("user", "42")
            .build();
        let child = parent.child();
        assert_eq!(child.trace_id(), parent.trace_id());
        assert_eq!(child.parent_span_id(), Some(parent.span_id()));
        assert_ne!(child.span_id(), parent.span_id());
        assert!(!child.remote_parent());
        assert_eq!(child.sampling(), Sampling::Debug);
        assert!(child.random_trace_id());
        assert_eq!(
            child.app_trace_id().map(AppTraceId::as_str),
            Some(app.as_str())
        );
        assert_eq!(child.tracestate(), Some("vendor=1"));
        assert_eq!(child.fields().collect::<Vec<_>>(), vec![("user", "42")]);
    }
}
