//! The layer: the configuration shared by every service it wraps.

use std::fmt;
use std::sync::Arc;

use http::HeaderName;
use tower_layer::Layer;
use trace_context::codec::Propagation;
use trace_context::{IdGenerator, MdcFields, Sampler};

use crate::service::TraceService;

/// The header the id is echoed in when the propagation reads no application id header.
const DEFAULT_ECHO_HEADER: &str = "x-app-trace-id";

/// A tower [`Layer`] that gives every request a trace context, a server span and an echoed id.
///
/// Defaults: read `X-App-Trace-Id`, `traceparent`/`tracestate` and B3 (single and multi);
/// echo the id in `X-App-Trace-Id`; mint random 128-bit trace ids; decide sampling with the
/// global sampler (`trace_context::set_global_sampler`); no service name on the span; a server
/// span for every request, sampled or not ([`TraceLayer::unsampled_spans`]); no MDC fields of
/// its own ([`TraceLayer::mdc_field`]); only 5xx mark the span failed
/// ([`TraceLayer::mark_client_errors`]).
///
/// ```
/// use std::sync::Arc;
/// use trace_context::codec::Propagation;
/// use trace_context::{FollowUpstream, IdGenerator};
/// use trace_tower::TraceLayer;
///
/// let layer = TraceLayer::new()
///     .propagation(Propagation::default().app_header("X-Request-Id"))
///     .echo(true)
///     .id_generator(IdGenerator::uuid_v7())
///     .sampler(Arc::new(FollowUpstream))
///     .service_name("order");
/// let svc = tower::ServiceBuilder::new()
///     .layer(layer)
///     .service(tower::service_fn(|_req: http::Request<()>| async {
///         Ok::<_, std::convert::Infallible>(http::Response::new(()))
///     }));
/// # let _ = svc;
/// ```
#[derive(Clone)]
pub struct TraceLayer {
    pub(crate) config: Arc<Config>,
}

/// What a [`TraceService`] needs per request; shared, cloned only while the layer is built.
#[derive(Clone)]
pub(crate) struct Config {
    pub(crate) propagation: Propagation,
    pub(crate) echo: Option<HeaderName>,
    pub(crate) generator: IdGenerator,
    pub(crate) sampler: Option<Arc<dyn Sampler>>,
    pub(crate) service_name: Option<Arc<str>>,
    pub(crate) unsampled_spans: bool,
    pub(crate) mdc: MdcFields,
    pub(crate) client_errors: bool,
}

impl Default for TraceLayer {
    fn default() -> Self {
        TraceLayer::new()
    }
}

impl TraceLayer {
    /// The layer with its defaults (see the type's documentation).
    ///
    /// ```
    /// let layer = trace_tower::TraceLayer::new();
    /// # let _ = layer;
    /// ```
    pub fn new() -> Self {
        let propagation = Propagation::default();
        let echo = Some(echo_header(&propagation));
        TraceLayer {
            config: Arc::new(Config {
                propagation,
                echo,
                generator: IdGenerator::random(),
                sampler: None,
                service_name: None,
                unsampled_spans: true,
                mdc: MdcFields::new(),
                client_errors: false,
            }),
        }
    }

    /// Which headers are read (and under which name the application id is echoed).
    ///
    /// ```
    /// use trace_context::codec::{B3Style, Propagation};
    /// let layer = trace_tower::TraceLayer::new()
    ///     .propagation(Propagation::default().b3_off().app_header("X-Correlation-Id"));
    /// # let _ = layer;
    /// ```
    pub fn propagation(self, propagation: Propagation) -> Self {
        self.update(|c| {
            if c.echo.is_some() {
                c.echo = Some(echo_header(&propagation));
            }
            c.propagation = propagation;
        })
    }

    /// Whether the response carries the id (default `true`). The value is the application id
    /// as received when one was valid, else the trace id in lowercase hex as the logs print it
    /// (32 digits; 16 for a 64-bit B3 trace id, as Zipkin shows it); a value the handler set
    /// itself is never overwritten.
    ///
    /// ```
    /// let layer = trace_tower::TraceLayer::new().echo(false);
    /// # let _ = layer;
    /// ```
    pub fn echo(self, on: bool) -> Self {
        self.update(|c| c.echo = on.then(|| echo_header(&c.propagation)))
    }

    /// How trace ids are minted for requests that bring none (default: random 128-bit).
    ///
    /// ```
    /// let layer = trace_tower::TraceLayer::new()
    ///     .id_generator(trace_context::IdGenerator::uuid_v7());
    /// # let _ = layer;
    /// ```
    pub fn id_generator(self, generator: IdGenerator) -> Self {
        self.update(|c| c.generator = generator)
    }

    /// The sampler deciding for traces entering here. Default: the global sampler
    /// (`trace_context::set_global_sampler`, which trace-exporter's setup installs), read
    /// per request so it can be installed after the layer is built.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let layer = trace_tower::TraceLayer::new().sampler(Arc::new(trace_context::FollowUpstream));
    /// # let _ = layer;
    /// ```
    pub fn sampler(self, sampler: Arc<dyn Sampler>) -> Self {
        self.update(|c| c.sampler = Some(sampler))
    }

    /// The service name, recorded on the server span as `service.name` (the Zipkin exporter
    /// uses it as the span's `localEndpoint.serviceName`; useful when one process hosts several
    /// services). Default: none, so the exporter's configured name is used.
    ///
    /// ```
    /// let layer = trace_tower::TraceLayer::new().service_name("gateway");
    /// # let _ = layer;
    /// ```
    pub fn service_name(self, name: impl Into<String>) -> Self {
        let name: Arc<str> = Arc::from(name.into());
        self.update(|c| c.service_name = Some(name))
    }

    /// A field every request's context starts with (MDC style: `%X{key}` in trace-log's
    /// patterns, `mdc::get(key)` in code), e.g. the service's name when one process hosts
    /// several services. The fields are built once and shared by the requests' contexts, not
    /// copied per request; a handler's `mdc::put` of the same key replaces it for its request
    /// only. Default: none.
    ///
    /// ```
    /// let layer = trace_tower::TraceLayer::new().mdc_field("service", "order");
    /// assert_eq!(layer.mdc_fields().get("service"), Some("order"));
    /// ```
    pub fn mdc_field(self, key: &str, value: &str) -> Self {
        self.update(|c| c.mdc = std::mem::take(&mut c.mdc).with(key, value))
    }

    /// The fields every request's context starts with ([`TraceLayer::mdc_field`]).
    ///
    /// ```
    /// assert!(trace_tower::TraceLayer::new().mdc_fields().is_empty());
    /// ```
    pub fn mdc_fields(&self) -> &MdcFields {
        &self.config.mdc
    }

    /// Whether a 4xx answer marks the server span failed (`error` = the status code), as
    /// Brave's default HTTP parser does for any status above 399. Default `false`: a 4xx is
    /// the client's fault, as OpenTelemetry's server conventions have it (5xx are always
    /// marked).
    ///
    /// ```
    /// let layer = trace_tower::TraceLayer::new().mark_client_errors(true);
    /// assert!(layer.client_errors_marked());
    /// ```
    pub fn mark_client_errors(self, on: bool) -> Self {
        self.update(|c| c.client_errors = on)
    }

    /// Whether a 4xx marks the server span failed ([`TraceLayer::mark_client_errors`]).
    ///
    /// ```
    /// assert!(!trace_tower::TraceLayer::new().client_errors_marked());
    /// ```
    pub fn client_errors_marked(&self) -> bool {
        self.config.client_errors
    }

    /// Whether requests of unsampled traces get a server span too (default `true`).
    ///
    /// With `false`, an unsampled request opens no `tracing` span (as Brave's no-op spans):
    /// it still runs inside its context, so log lines carry its ids, MDC fields work and
    /// outgoing calls propagate the trace, but layers that need the span itself (a formatter
    /// printing span fields, another tracing exporter) see nothing of it. Worth it when the
    /// Zipkin exporter is the only consumer of server spans: it records sampled traces only.
    ///
    /// ```
    /// let layer = trace_tower::TraceLayer::new().unsampled_spans(false);
    /// assert!(!layer.opens_unsampled_spans());
    /// ```
    pub fn unsampled_spans(self, on: bool) -> Self {
        self.update(|c| c.unsampled_spans = on)
    }

    /// Whether unsampled requests get a server span ([`TraceLayer::unsampled_spans`]).
    ///
    /// ```
    /// assert!(trace_tower::TraceLayer::new().opens_unsampled_spans());
    /// ```
    pub fn opens_unsampled_spans(&self) -> bool {
        self.config.unsampled_spans
    }

    fn update(mut self, f: impl FnOnce(&mut Config)) -> Self {
        f(Arc::make_mut(&mut self.config));
        self
    }
}

fn echo_header(propagation: &Propagation) -> HeaderName {
    // The default name is a static one: cloning it per request copies a pointer.
    match propagation.app_header_name() {
        Some(DEFAULT_ECHO_HEADER) | None => HeaderName::from_static(DEFAULT_ECHO_HEADER),
        Some(n) => HeaderName::from_bytes(n.as_bytes())
            .unwrap_or_else(|_| HeaderName::from_static(DEFAULT_ECHO_HEADER)),
    }
}

impl<S> Layer<S> for TraceLayer {
    type Service = TraceService<S>;

    fn layer(&self, inner: S) -> TraceService<S> {
        TraceService::new(inner, self.config.clone())
    }
}

impl fmt::Debug for TraceLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TraceLayer")
            .field("propagation", &self.config.propagation)
            .field("echo", &self.config.echo)
            .field("generator", &self.config.generator)
            .field("sampler", &self.config.sampler.as_ref().map(|_| "custom"))
            .field("service_name", &self.config.service_name)
            .field("unsampled_spans", &self.config.unsampled_spans)
            .field("mdc", &self.config.mdc)
            .field("client_errors", &self.config.client_errors)
            .finish()
    }
}
