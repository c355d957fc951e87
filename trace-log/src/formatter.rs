//! [`Formatter`]: the `FormatEvent` that writes pattern or JSON lines.

use std::any::TypeId;
use std::fmt;
use std::sync::Arc;

use trace_context::Context;
use tracing_core::{Event, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use crate::error::PatternError;
use crate::fields::TraceFields;
use crate::line::{Line, Options, SpanSource, StoredFields};
use crate::pattern::{self, Pattern};
use crate::time::{TimeZone, Timestamp};
use crate::{json, Style, DEFAULT_PATTERN};

/// A `tracing-subscriber` event formatter that prints the trace id, span id and MDC fields of
/// the current [`trace_context::Context`]: as a logback-like pattern or as JSON lines.
///
/// Use it inside any `fmt` layer (with [`TraceFields`] as the field formatter, so span fields are
/// structured); [`crate::Builder`] does that for you. It is cheap to clone.
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt;
///
/// let formatter = trace_log::Formatter::pattern("%-5level [%traceId] %logger{20} - %msg%n")?
///     .with_placeholder("-");
/// let layer = tracing_subscriber::fmt::layer()
///     .fmt_fields(trace_log::TraceFields::default())
///     .event_format(formatter)
///     .with_writer(std::io::sink);
/// let subscriber = tracing_subscriber::registry()
///     .with(trace_context::ContextLayer::new())
///     .with(layer);
/// tracing::subscriber::with_default(subscriber, || tracing::info!("ready"));
/// # Ok::<(), trace_log::PatternError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Formatter {
    inner: Arc<Inner>,
}

#[derive(Debug, Clone)]
struct Inner {
    body: Body,
    opts: Options,
}

#[derive(Debug, Clone)]
enum Body {
    Pattern(Pattern),
    Json,
}

impl Default for Formatter {
    /// The [`DEFAULT_PATTERN`].
    ///
    /// ```
    /// assert_eq!(trace_log::Formatter::default().style(), trace_log::Style::Pattern);
    /// ```
    fn default() -> Self {
        // The default pattern is covered by tests: the fallback is never taken.
        Formatter::pattern(DEFAULT_PATTERN).unwrap_or_else(|_| Formatter::json())
    }
}

impl Formatter {
    /// A pattern formatter. The pattern language is logback's: see the crate documentation for
    /// the conversion words. A malformed pattern is an error naming the position and the problem.
    ///
    /// ```
    /// let f = trace_log::Formatter::pattern("%5p [shop,%X{traceId:-},%X{spanId:-}] %m%n");
    /// assert!(f.is_ok());
    /// let err = trace_log::Formatter::pattern("%d{yyyy-MM-dd HH:mm:ss.SSS} %lvl").unwrap_err();
    /// assert_eq!(err.position(), 29);
    /// ```
    pub fn pattern(pattern: &str) -> Result<Formatter, PatternError> {
        Ok(Formatter::with_body(Body::Pattern(pattern::parse(
            pattern,
        )?)))
    }

    /// A JSON-lines formatter: one object per event with `timestamp` (RFC 3339), `level`,
    /// `target`, `thread`, `message`, `trace_id`, `span_id`, `app_trace_id` (when it differs
    /// from the trace id), `mdc`, `fields` and `spans`.
    ///
    /// ```
    /// assert_eq!(trace_log::Formatter::json().style(), trace_log::Style::Json);
    /// ```
    pub fn json() -> Formatter {
        Formatter::with_body(Body::Json)
    }

    fn with_body(body: Body) -> Formatter {
        Formatter {
            inner: Arc::new(Inner {
                body,
                opts: Options::default(),
            }),
        }
    }

    /// The output style.
    ///
    /// ```
    /// assert_eq!(trace_log::Formatter::pattern("%m").unwrap().style(), trace_log::Style::Pattern);
    /// ```
    pub fn style(&self) -> Style {
        match self.inner.body {
            Body::Pattern(_) => Style::Pattern,
            Body::Json => Style::Json,
        }
    }

    /// True when the lines print span fields (JSON's `spans`, a pattern's `%fields` or
    /// `%fields{spans}`): the layer then has to keep each span's formatted fields.
    ///
    /// ```
    /// assert!(trace_log::Formatter::json().prints_span_fields());
    /// assert!(!trace_log::Formatter::pattern("%d %m%n")?.prints_span_fields());
    /// assert!(trace_log::Formatter::pattern("%m%fields%n")?.prints_span_fields());
    /// # Ok::<(), trace_log::PatternError>(())
    /// ```
    pub fn prints_span_fields(&self) -> bool {
        match &self.inner.body {
            Body::Pattern(p) => p.needs_span_fields(),
            Body::Json => true,
        }
    }

    fn with_options(mut self, f: impl FnOnce(&mut Options)) -> Formatter {
        f(&mut Arc::make_mut(&mut self.inner).opts);
        self
    }

    /// The time zone of dates that do not name one (`%d{HH:mm}`) and of JSON timestamps.
    /// Default: UTC.
    ///
    /// ```
    /// let f = trace_log::Formatter::json().with_time_zone(trace_log::TimeZone::Local);
    /// # let _ = f;
    /// ```
    pub fn with_time_zone(self, zone: TimeZone) -> Formatter {
        self.with_options(|o| o.zone = zone)
    }

    /// What a pattern prints for a trace value that is absent (`%traceId`, `%spanId`,
    /// `%parentId`, `%appTraceId`, `%X{key}` without a `:-default`), e.g. on a line logged
    /// outside any request. Default: nothing.
    ///
    /// ```
    /// let f = trace_log::Formatter::pattern("[%traceId] %m").unwrap().with_placeholder("N/A");
    /// # let _ = f;
    /// ```
    pub fn with_placeholder(self, placeholder: &str) -> Formatter {
        // The placeholder goes into every line as it is: it cannot start a new one.
        let mut safe = String::with_capacity(placeholder.len());
        let _ = fmt::Write::write_str(
            &mut crate::escape::LineEscaper::new(&mut safe, crate::escape::LineEscape::Strict),
            placeholder,
        );
        self.with_options(|o| o.placeholder = safe.into_boxed_str())
    }

    /// Lets CR and LF in messages and field values through in pattern lines (multi-line
    /// messages). Default: `false`, they are written as `\r` and `\n` so that a value cannot
    /// forge a log line. Other control characters are always escaped; JSON is always escaped.
    ///
    /// ```
    /// let f = trace_log::Formatter::default().with_multiline(true);
    /// # let _ = f;
    /// ```
    pub fn with_multiline(self, multiline: bool) -> Formatter {
        self.with_options(|o| o.multiline = multiline)
    }
}

impl<S, N> FormatEvent<S, N> for Formatter
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let normalized = event.normalized_metadata();
        let is_log = normalized.is_some();
        let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());
        let now = match &self.inner.body {
            Body::Pattern(p) if !p.needs_time() => Timestamp { secs: 0, nanos: 0 },
            _ => Timestamp::now(),
        };
        let spans = EventSpans { ctx, event };
        with_event_context(ctx, event, |trace| {
            let line = Line {
                event,
                meta,
                is_log,
                ctx: trace,
                now,
                opts: &self.inner.opts,
                spans: &spans,
            };
            match &self.inner.body {
                Body::Pattern(p) => p.write(&mut writer, &line),
                Body::Json => json::write_line(&mut writer, &line),
            }
        })
    }
}

/// Runs `f` with the event's trace context: the context of its explicit parent span if it has
/// one, else the current context of this thread (which [`trace_context::ContextLayer`] keeps in
/// step with the entered span).
fn with_event_context<S, N, R>(
    ctx: &FmtContext<'_, S, N>,
    event: &Event<'_>,
    f: impl FnOnce(Option<&Context>) -> R,
) -> R
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    if let Some(parent) = event.parent() {
        let own = ctx
            .span(parent)
            .and_then(|s| s.extensions().get::<Context>().cloned());
        if let Some(own) = own {
            return f(Some(&own));
        }
    }
    Context::with_current(f)
}

/// The spans of an event, read from the registry.
struct EventSpans<'a, 'c, S, N> {
    ctx: &'a FmtContext<'c, S, N>,
    event: &'a Event<'a>,
}

impl<S, N> SpanSource for EventSpans<'_, '_, S, N>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn visit_from_root(
        &self,
        f: &mut dyn FnMut(&str, StoredFields<'_>) -> fmt::Result,
    ) -> fmt::Result {
        let scope = match self.event.parent() {
            Some(id) => self.ctx.span_scope(id),
            None if self.event.is_contextual() => self.ctx.lookup_current().map(|s| s.scope()),
            None => None,
        };
        match scope {
            Some(scope) => visit_outermost_first::<S, N, _>(scope, f),
            None => Ok(()),
        }
    }
}

/// Visits spans outermost first by recursion (the scope iterates innermost first; collecting it
/// would allocate).
fn visit_outermost_first<'r, S, N, I>(
    mut spans: I,
    f: &mut dyn FnMut(&str, StoredFields<'_>) -> fmt::Result,
) -> fmt::Result
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    I: Iterator<Item = SpanRef<'r, S>>,
{
    let Some(span) = spans.next() else {
        return Ok(());
    };
    visit_outermost_first::<S, N, I>(spans, f)?;
    let ext = span.extensions();
    let stored = match ext.get::<FormattedFields<N>>() {
        Some(fields) if TypeId::of::<N>() == TypeId::of::<TraceFields>() => {
            StoredFields::Members(&fields.fields)
        }
        Some(fields) => StoredFields::Text(&fields.fields),
        None => StoredFields::Missing,
    };
    f(span.name(), stored)
}
