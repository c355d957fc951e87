//! [`LogLayer`]: the log layer with its level filter, doing no work for spans unless the lines
//! print span fields.

use std::fmt;

use tracing_core::span::{Attributes, Id, Record};
use tracing_core::subscriber::Interest;
use tracing_core::{Event, Level, LevelFilter, Metadata, Subscriber};
use tracing_subscriber::filter::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use crate::TraceLayer;

/// Spans at this level and above are kept by [`LogLayer`] whatever the log level.
///
/// ```
/// assert_eq!(trace_log::SPAN_LEVEL, tracing_core::Level::INFO);
/// ```
pub const SPAN_LEVEL: Level = Level::INFO;

/// trace-log's layer together with its level filter (`RUST_LOG`), built by
/// [`Builder::log_layer`](crate::Builder::log_layer): the layer [`Builder::subscriber`] and
/// [`init`](crate::init) install.
///
/// Unlike the `fmt` layer under a per-layer filter (`builder.layer()?.with_filter(filter)`), it
/// costs nothing per span: a per-layer filter looks the span up in the registry on every enter,
/// exit, record and close to see whether it is enabled for its layer, and the `fmt` layer
/// formats every span's fields when the span opens. This layer
///
/// * filters **events** by the level filter: an event below it reaches no layer (neither is it
///   printed, nor does an exporter on the same registry turn it into an annotation);
/// * keeps **spans** at [`SPAN_LEVEL`] (`INFO`) and above whatever the log level — the server
///   and client spans of trace-tower and trace-reqwest are `INFO`, so every request keeps its
///   spans, trace context and export with `RUST_LOG=warn`; spans below it (`debug_span!`,
///   libraries' `trace`-level spans) exist when the filter enables them;
/// * gives the registry a level hint (the filter's, at least `INFO`), so `tracing`'s global
///   maximum level and the `log` bridge's drop what no layer wants before it is built, as a
///   global `EnvFilter` would;
/// * keeps the spans' formatted fields only when the lines print them (JSON's `spans`, a
///   pattern's `%fields` or `%fields{spans}`), and tracks entered spans only when the filter
///   has directives that name spans (`RUST_LOG=info,[load order]=debug`).
///
/// [`Builder::subscriber`]: crate::Builder::subscriber
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt;
///
/// let log = trace_log::builder()
///     .ignore_env()
///     .pattern("%d %-5level [%X{traceId:-}] %msg%n")
///     .writer(std::io::sink)
///     .log_layer()?;
/// assert!(!log.tracks_span_fields()); // this pattern prints no span fields
/// let subscriber = tracing_subscriber::registry()
///     .with(trace_context::ContextLayer::new())
///     .with(log);
/// tracing::subscriber::with_default(subscriber, || {
///     tracing::info!("printed");
///     tracing::debug!("below the default level: not printed");
/// });
/// # Ok::<(), trace_log::Error>(())
/// ```
pub struct LogLayer<S, W = fn() -> std::io::Stdout> {
    fmt: TraceLayer<S, W>,
    filter: EnvFilter,
    span_fields: bool,
    span_directives: bool,
}

impl<S, W> LogLayer<S, W> {
    pub(crate) fn new(fmt: TraceLayer<S, W>, filter: EnvFilter, span_fields: bool) -> Self {
        // Directives that depend on spans (`[name]`, `[{field}]`) print with brackets.
        let span_directives = filter.to_string().contains('[');
        LogLayer {
            fmt,
            filter,
            span_fields,
            span_directives,
        }
    }

    /// True when the layer keeps each span's formatted fields (the lines print them).
    ///
    /// ```
    /// let log = trace_log::builder().ignore_env().json().log_layer::<tracing_subscriber::Registry>()?;
    /// assert!(log.tracks_span_fields());
    /// # Ok::<(), trace_log::Error>(())
    /// ```
    pub fn tracks_span_fields(&self) -> bool {
        self.span_fields
    }

    /// The level filter.
    ///
    /// ```
    /// let log = trace_log::builder().ignore_env().log_layer::<tracing_subscriber::Registry>()?;
    /// assert_eq!(log.filter().to_string(), "info");
    /// # Ok::<(), trace_log::Error>(())
    /// ```
    pub fn filter(&self) -> &EnvFilter {
        &self.filter
    }
}

impl<S, W> fmt::Debug for LogLayer<S, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogLayer")
            .field("filter", &self.filter)
            .field("span_fields", &self.span_fields)
            .field("span_directives", &self.span_directives)
            .finish_non_exhaustive()
    }
}

impl<S, W> Layer<S> for LogLayer<S, W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + 'static,
{
    fn on_layer(&mut self, subscriber: &mut S) {
        self.fmt.on_layer(subscriber);
    }

    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        let filtered = Layer::<S>::register_callsite(&self.filter, metadata);
        if metadata.is_span() && *metadata.level() <= SPAN_LEVEL {
            return Interest::always();
        }
        filtered
    }

    fn enabled(&self, metadata: &Metadata<'_>, ctx: Context<'_, S>) -> bool {
        (metadata.is_span() && *metadata.level() <= SPAN_LEVEL)
            || Layer::<S>::enabled(&self.filter, metadata, ctx)
    }

    fn event_enabled(&self, event: &Event<'_>, ctx: Context<'_, S>) -> bool {
        Layer::<S>::event_enabled(&self.filter, event, ctx)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        let filter = Layer::<S>::max_level_hint(&self.filter).unwrap_or(LevelFilter::TRACE);
        Some(filter.max(LevelFilter::from_level(SPAN_LEVEL)))
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if self.span_directives {
            Layer::<S>::on_new_span(&self.filter, attrs, id, ctx.clone());
        }
        if self.span_fields {
            self.fmt.on_new_span(attrs, id, ctx);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if self.span_directives {
            Layer::<S>::on_record(&self.filter, id, values, ctx.clone());
        }
        if self.span_fields {
            self.fmt.on_record(id, values, ctx);
        }
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        if self.span_directives {
            Layer::<S>::on_enter(&self.filter, id, ctx);
        }
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        if self.span_directives {
            Layer::<S>::on_exit(&self.filter, id, ctx);
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        if self.span_directives {
            Layer::<S>::on_close(&self.filter, id, ctx);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        self.fmt.on_event(event, ctx);
    }
}
