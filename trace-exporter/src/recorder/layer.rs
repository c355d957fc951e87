//! The `tracing-subscriber` layer that records the spans of sampled traces.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use trace_context::{Context, Sampling};
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::{Event, Subscriber};
use tracing_subscriber::layer::{Context as LayerContext, Layer};
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use super::fields::{EventVisitor, PendingFields, Recording, Services, SpanVisitor};
use super::table::Table;
use crate::reporter::REPORTER_TARGET;
use crate::{Annotation, Endpoint, Kind, Sink, SpanRecord, Tags};

/// Services looked up by a short scan before the map is used (a process reports a few).
const FEW_SERVICES: usize = 16;

/// Endpoints shared by the spans of one service.
#[derive(Default)]
struct Endpoints {
    /// The first services seen: a scan of a few short names costs less than hashing one.
    few: RwLock<Vec<Arc<Endpoint>>>,
    /// Services beyond the first [`FEW_SERVICES`].
    by_name: RwLock<HashMap<String, Arc<Endpoint>>>,
}

impl Endpoints {
    fn find_few(&self, name: &str) -> Option<Arc<Endpoint>> {
        self.few
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|e| e.service_name.as_deref() == Some(name))
            .map(Arc::clone)
    }
}

/// Records the `tracing` spans of sampled traces and hands each, when it closes, to a
/// [`Sink`] as a [`SpanRecord`].
///
/// Register it after `trace_context::ContextLayer`, which gives every span inside a request
/// its [`Context`] (ids and sampling decision):
///
/// * a span whose context is not sampled (or that has no context) is left alone: one
///   thread-local read for a span inside the current context, else one extensions lookup; no
///   allocation;
/// * ids come from the context: `traceId`, `id`, `parentId` (absent on a root), `shared` for a
///   server span that joined a remote parent, `debug` for B3 debug;
/// * `span.kind` gives the Zipkin kind; names follow Brave: a server span is
///   `"get /order/{id}"` (lower-case method and `http.route`; the method alone without a
///   route), a client span the lower-case method, any other span its `tracing` name;
/// * the service (`localEndpoint.serviceName`) is the span's own `service.name` field, else
///   the nearest ancestor's, else the layer's default;
/// * `net.peer.name`/`net.peer.ip`/`net.peer.port` give `remoteEndpoint`; `error = false` is
///   not tagged; every other field becomes a tag (`http.method`, `http.path`, `http.route`,
///   `http.status_code`, `error`, `app.trace_id`, and the user's own); values are cut at 4 KiB;
/// * events inside a recorded span become annotations (`message key=value ...`).
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt;
/// use trace_exporter::{MemorySink, ZipkinLayer};
///
/// let sink = MemorySink::new();
/// let subscriber = tracing_subscriber::registry()
///     .with(trace_context::ContextLayer::new())
///     .with(ZipkinLayer::new(sink.clone(), "shop"));
/// tracing::subscriber::with_default(subscriber, || {
///     let ctx = trace_context::Context::builder(trace_context::TraceId::random())
///         .sampling(trace_context::Sampling::Sampled)
///         .build();
///     let _in_request = ctx.enter();
///     tracing::info_span!("load order", order = 7).in_scope(|| tracing::info!("cache miss"));
/// });
/// let span = &sink.spans()[0];
/// assert_eq!(span.name, "load order");
/// assert_eq!(span.service_name(), Some("shop"));
/// assert_eq!(span.tag("order"), Some("7"));
/// assert_eq!(span.annotations[0].value, "cache miss");
/// ```
///
/// A clone shares the sink and the service endpoints, and records into a table of its own (so
/// clones may serve different subscribers, whose span ids overlap).
pub struct ZipkinLayer {
    sink: Arc<dyn Sink>,
    local: Arc<Endpoint>,
    endpoints: Arc<Endpoints>,
    /// The spans being recorded now, by id.
    table: Table,
}

impl Clone for ZipkinLayer {
    fn clone(&self) -> Self {
        ZipkinLayer {
            sink: Arc::clone(&self.sink),
            local: Arc::clone(&self.local),
            endpoints: Arc::clone(&self.endpoints),
            table: Table::default(),
        }
    }
}

impl ZipkinLayer {
    /// A layer reporting to `sink`, with `service_name` as the default service.
    ///
    /// ```
    /// let _layer = trace_exporter::ZipkinLayer::new(trace_exporter::MemorySink::new(), "shop");
    /// ```
    pub fn new(sink: impl Sink, service_name: impl Into<String>) -> Self {
        Self::with_endpoint(Arc::new(sink), Endpoint::service(service_name))
    }

    /// A layer reporting to a shared sink, with a full default local endpoint (service name,
    /// address, port). Spans of other services (a `service.name` field) get the same address
    /// and port with their own name.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use trace_exporter::{Endpoint, MemorySink, ZipkinLayer};
    /// let local = Endpoint::service("shop").with_ip("127.0.0.1".parse().unwrap()).with_port(8080);
    /// let _layer = ZipkinLayer::with_endpoint(Arc::new(MemorySink::new()), local);
    /// ```
    pub fn with_endpoint(sink: Arc<dyn Sink>, local: Endpoint) -> Self {
        ZipkinLayer {
            sink,
            local: Arc::new(local),
            endpoints: Arc::default(),
            table: Table::default(),
        }
    }

    /// The endpoint for a named service (shared by all its spans).
    fn service_endpoint(&self, name: &str) -> Arc<Endpoint> {
        if self.local.service_name.as_deref() == Some(name) {
            return Arc::clone(&self.local);
        }
        if let Some(e) = self.endpoints.find_few(name) {
            return e;
        }
        let new_endpoint = || {
            Arc::new(Endpoint {
                service_name: Some(name.to_string()),
                ..(*self.local).clone()
            })
        };
        {
            let mut few = self
                .endpoints
                .few
                .write()
                .unwrap_or_else(|e| e.into_inner());
            if let Some(e) = few.iter().find(|e| e.service_name.as_deref() == Some(name)) {
                return Arc::clone(e);
            }
            if few.len() < FEW_SERVICES {
                let e = new_endpoint();
                few.push(Arc::clone(&e));
                return e;
            }
        }
        if let Some(e) = self
            .endpoints
            .by_name
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
        {
            return Arc::clone(e);
        }
        let mut map = self
            .endpoints
            .by_name
            .write()
            .unwrap_or_else(|e| e.into_inner());
        let endpoint = map.entry(name.to_string()).or_insert_with(new_endpoint);
        Arc::clone(endpoint)
    }

    /// Gives `record` the endpoint of the nearest recorded ancestor of `span`; without one,
    /// the record keeps the default.
    fn inherit<S>(&self, span: &SpanRef<'_, S>, record: &mut SpanRecord)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let mut parent = span.parent();
        while let Some(p) = parent {
            let found = self.table.with(&p.id(), |r| {
                if !Arc::ptr_eq(&record.local_endpoint, &r.span.local_endpoint) {
                    record.local_endpoint = Arc::clone(&r.span.local_endpoint);
                }
            });
            if found.is_some() {
                return;
            }
            parent = p.parent();
        }
    }
}

impl Services for ZipkinLayer {
    fn endpoint(&self, service: &str) -> Arc<Endpoint> {
        self.service_endpoint(service)
    }
}

fn micros(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| {
        d.as_secs()
            .saturating_mul(1_000_000)
            .saturating_add(u64::from(d.subsec_micros()))
    })
}

/// Text buffers of a recycled record, set aside for the new span's name and peer name.
struct Spare {
    name_buf: Option<String>,
    peer_buf: Option<String>,
}

/// A span record for a new span: a recycled one (buffers included) when the pool has one,
/// with its spare text buffers beside it; else a new one.
fn new_record(c: &Context, name: &'static str, local: &Arc<Endpoint>) -> (Box<SpanRecord>, Spare) {
    match super::pool::take_record() {
        Some(mut r) => {
            // `give_back_records` emptied tags and annotations, and left the remote endpoint
            // with only an empty name buffer (taken here).
            let peer_buf = r.remote_endpoint.take().and_then(|e| e.service_name);
            r.trace_id = c.trace_id();
            r.id = c.span_id();
            r.kind = None;
            r.timestamp = 0;
            r.duration = 0;
            // Usually the same service as the record's last span: no reference count change.
            if !Arc::ptr_eq(&r.local_endpoint, local) {
                r.local_endpoint = Arc::clone(local);
            }
            let spare = match std::mem::replace(&mut r.name, Cow::Borrowed(name)) {
                Cow::Owned(buf) => Some(buf),
                Cow::Borrowed(_) => None,
            };
            (
                r,
                Spare {
                    name_buf: spare,
                    peer_buf,
                },
            )
        }
        None => {
            let mut r = Box::new(SpanRecord::new(
                c.trace_id(),
                c.span_id(),
                name,
                Arc::clone(local),
            ));
            // Room for the ~8 fields of a server or client span without growing.
            r.tags = Tags::from_buffer(super::pool::take(512), 8);
            // Room for a few events: the record is recycled with its capacity, so events
            // recorded into it later do not grow the vector on the request path.
            r.annotations = Vec::with_capacity(4);
            (
                r,
                Spare {
                    name_buf: None,
                    peer_buf: None,
                },
            )
        }
    }
}

impl<S> Layer<S> for ZipkinLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: LayerContext<'_, S>) {
        // A contextual span's context is the current one or a child of it (ContextLayer):
        // an unsampled current context settles it without looking the span up.
        if attrs.is_contextual() && !Context::with_current(|c| c.is_some_and(Context::is_sampled)) {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        let mut rec = {
            let ext = span.extensions();
            let Some(c) = ext.get::<Context>() else {
                return;
            };
            if !c.is_sampled() {
                return;
            }
            let meta = attrs.metadata();
            if meta.target().starts_with(REPORTER_TARGET) {
                return;
            }
            // The local endpoint is inherited below unless the span names its service.
            let (mut record, Spare { name_buf, peer_buf }) =
                new_record(c, meta.name(), &self.local);
            record.parent_id = c.parent_span_id();
            record.debug = c.sampling() == Sampling::Debug;
            record.shared = c.remote_parent();
            if let Some(app) = c.app_trace_id() {
                // A validated id: short, nothing to escape.
                record.tags.insert(
                    crate::tags::Name::Known(crate::tags::Known::AppTraceId),
                    app.as_str(),
                    true,
                );
            }
            Recording {
                span: record,
                start: SystemTime::now(),
                fresh: true,
                has_method: false,
                has_route: false,
                name_buf,
                peer_buf,
                method_lower: None,
                name_ready: false,
                service_set: false,
            }
        };
        attrs.record(&mut SpanVisitor {
            rec: &mut rec,
            services: self,
        });
        rec.fresh = false;
        if !rec.service_set {
            self.inherit(&span, &mut rec.span);
        }
        self.table.insert(id, rec);
    }

    #[inline]
    fn on_record(&self, id: &Id, values: &Record<'_>, _ctx: LayerContext<'_, S>) {
        // Spans of unsampled traces (none recorded) stop at this one load.
        if !self.table.is_empty() {
            self.record_values(id, values);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: LayerContext<'_, S>) {
        if self.table.is_empty() {
            return;
        }
        // A contextual event belongs to the entered span, whose context `ContextLayer` made
        // current: an unsampled current context settles it without looking the span up.
        if event.is_contextual() && !Context::with_current(|c| c.is_some_and(Context::is_sampled)) {
            return;
        }
        if event.metadata().target().starts_with(REPORTER_TARGET) {
            return;
        }
        // The span: the entered one (or the explicit parent), found in the table by its id
        // without a registry lookup; else the one the registry names (a per-layer filter may
        // skip spans this layer does not see). The text is written first, then added under
        // one lock.
        let direct = if event.is_contextual() {
            ctx.current_span().id().cloned()
        } else {
            event.parent().cloned()
        };
        let Some(direct) = direct else {
            return;
        };
        let mut visitor = EventVisitor::new();
        event.record(&mut visitor);
        let mut annotation = Some(Annotation {
            timestamp: micros(SystemTime::now()),
            value: visitor.finish(),
        });
        let add = |id: &Id, annotation: &mut Option<Annotation>| {
            self.table
                .with(id, |rec| rec.span.annotations.extend(annotation.take()));
        };
        add(&direct, &mut annotation);
        if annotation.is_some() {
            if let Some(span) = ctx.event_span(event).filter(|s| s.id() != direct) {
                add(&span.id(), &mut annotation);
            }
        }
    }

    #[inline]
    fn on_close(&self, id: Id, _ctx: LayerContext<'_, S>) {
        if !self.table.is_empty() {
            self.finish_span(&id);
        }
    }
}

/// The recording callbacks past their "nothing recorded" check, kept out of line so that the
/// check itself is inlined into the subscriber's dispatch (unsampled spans pay only it).
impl ZipkinLayer {
    /// Records the values of a `record` call on span `id`. They are read (and formatted)
    /// before the recording is locked: formatting runs user code, which must not run under the
    /// table's lock.
    #[inline(never)]
    fn record_values(&self, id: &Id, values: &Record<'_>) {
        let mut pending = PendingFields::new();
        values.record(&mut pending);
        self.table.with(id, |rec| pending.apply(rec, self));
        pending.finish();
    }

    /// Ends the recording of span `id`, if it has one, and reports it.
    #[inline(never)]
    fn finish_span(&self, id: &Id) {
        let Some(mut rec) = self.table.remove(id) else {
            return;
        };
        if let Some(kind @ (Kind::Server | Kind::Client)) = rec.span.kind {
            if let Some(name) = rec.rpc_name(kind) {
                rec.span.name = name;
            }
        }
        let unused = [rec.name_buf.take(), rec.peer_buf.take()];
        if unused.iter().any(Option::is_some) {
            super::pool::give_back(unused.into_iter().flatten().map(String::into_bytes));
        }
        let Recording {
            mut span, start, ..
        } = rec;
        let end = SystemTime::now();
        span.timestamp = micros(start);
        span.duration = end
            .duration_since(start)
            .map_or(1, |d| (d.as_micros() as u64).max(1));
        if span.kind != Some(Kind::Server) {
            // `shared` only means something on a server span joining its caller's span id.
            span.shared = false;
        }
        self.sink.report_boxed(span);
    }
}

impl std::fmt::Debug for ZipkinLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZipkinLayer")
            .field("service", &self.local.service_name)
            .finish()
    }
}
