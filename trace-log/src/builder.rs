//! [`Builder`]: options in code, then environment variables, then defaults; and the
//! one-call installation.

use std::fmt;
use std::io;
use std::str::FromStr;

use trace_context::ContextLayer;
use tracing_core::{LevelFilter, Subscriber};
use tracing_log::AsLog;
use tracing_subscriber::filter::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;

use crate::error::Error;
use crate::fields::TraceFields;
use crate::formatter::Formatter;
use crate::time::TimeZone;
use crate::{
    DEFAULT_FILTER, DEFAULT_PATTERN, ENV_FILTER, ENV_FORMAT, ENV_MULTILINE, ENV_PATTERN,
    ENV_PLACEHOLDER, ENV_TIME_ZONE,
};

/// The output style.
///
/// Parsed from `pattern` (also `text`) or `json`, ignoring case.
///
/// ```
/// assert_eq!("JSON".parse::<trace_log::Style>(), Ok(trace_log::Style::Json));
/// assert_eq!("pattern".parse::<trace_log::Style>(), Ok(trace_log::Style::Pattern));
/// assert!("xml".parse::<trace_log::Style>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Style {
    /// A logback-like pattern (the default).
    #[default]
    Pattern,
    /// One JSON object per line.
    Json,
}

impl FromStr for Style {
    type Err = String;

    fn from_str(s: &str) -> Result<Style, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "pattern" | "text" => Ok(Style::Pattern),
            "json" => Ok(Style::Json),
            _ => Err(format!("unknown log format {s:?}: use pattern or json")),
        }
    }
}

impl fmt::Display for Style {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Style::Pattern => "pattern",
            Style::Json => "json",
        })
    }
}

/// Configures and installs the formatter. An option set in code wins over its environment
/// variable, which wins over the default; filtering follows the convention of `RUST_LOG`
/// (it wins over [`Builder::default_filter`]).
///
/// | option | method | environment variable | default |
/// |---|---|---|---|
/// | style | [`Builder::json`], [`Builder::style`] | `TRACE_LOG_FORMAT` = `pattern` \| `json` | `pattern` |
/// | pattern | [`Builder::pattern`] | `TRACE_LOG_PATTERN` | [`DEFAULT_PATTERN`] |
/// | time zone | [`Builder::time_zone`] | `TRACE_LOG_TIMEZONE` = `UTC` \| `local` \| `+02:00` | `UTC` |
/// | placeholder | [`Builder::placeholder`] | `TRACE_LOG_PLACEHOLDER` | empty |
/// | multi-line | [`Builder::multiline`] | `TRACE_LOG_MULTILINE` = `true` \| `false` | `false` |
/// | filter | [`Builder::default_filter`] | `RUST_LOG` (wins) | `info` |
/// | writer | [`Builder::writer`] | — | `std::io::stdout` |
/// | `log` crate bridge | [`Builder::log_bridge`] | — | on |
///
/// An empty environment variable counts as unset. [`Builder::ignore_env`] ignores them all.
///
/// ```
/// let formatter = trace_log::builder()
///     .ignore_env()
///     .pattern("%d{HH:mm:ss.SSS} %-5level [%X{traceId:-}] %logger{20} - %msg%n")
///     .time_zone(trace_log::TimeZone::Local)
///     .formatter()?;
/// assert_eq!(formatter.style(), trace_log::Style::Pattern);
/// # Ok::<(), trace_log::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Builder<W = fn() -> io::Stdout> {
    style: Option<Style>,
    pattern: Option<String>,
    zone: Option<TimeZone>,
    placeholder: Option<String>,
    multiline: Option<bool>,
    default_filter: Option<String>,
    use_env: bool,
    log_bridge: bool,
    writer: W,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    /// A builder with nothing set: environment variables and defaults apply.
    ///
    /// ```
    /// let _ = trace_log::Builder::new();
    /// ```
    pub fn new() -> Builder {
        Builder {
            style: None,
            pattern: None,
            zone: None,
            placeholder: None,
            multiline: None,
            default_filter: None,
            use_env: true,
            log_bridge: true,
            writer: io::stdout,
        }
    }
}

/// Reads an environment variable: `None` when unset or empty, an error when not UTF-8.
fn env_var(var: &'static str) -> Result<Option<String>, Error> {
    match std::env::var_os(var) {
        None => Ok(None),
        Some(v) if v.is_empty() => Ok(None),
        Some(v) => match v.into_string() {
            Ok(s) => Ok(Some(s)),
            Err(v) => Err(Error::Env {
                var,
                value: v.to_string_lossy().into_owned(),
                problem: "not valid UTF-8".into(),
            }),
        },
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

impl<W> Builder<W> {
    /// The output style (see also [`Builder::json`] and [`Builder::pattern`]).
    ///
    /// ```
    /// let _ = trace_log::builder().style(trace_log::Style::Json);
    /// ```
    pub fn style(mut self, style: Style) -> Self {
        self.style = Some(style);
        self
    }

    /// JSON lines.
    ///
    /// ```
    /// let f = trace_log::builder().ignore_env().json().formatter().unwrap();
    /// assert_eq!(f.style(), trace_log::Style::Json);
    /// ```
    pub fn json(self) -> Self {
        self.style(Style::Json)
    }

    /// A logback-like pattern (and the pattern style). Checked when the formatter is built.
    ///
    /// ```
    /// let f = trace_log::builder().ignore_env().pattern("%-5p %m%n").formatter().unwrap();
    /// assert_eq!(f.style(), trace_log::Style::Pattern);
    /// ```
    pub fn pattern(mut self, pattern: impl Into<String>) -> Self {
        self.pattern = Some(pattern.into());
        self.style(Style::Pattern)
    }

    /// The time zone of dates that name none and of JSON timestamps (default UTC).
    ///
    /// ```
    /// let _ = trace_log::builder().time_zone(trace_log::TimeZone::Fixed(3600));
    /// ```
    pub fn time_zone(mut self, zone: TimeZone) -> Self {
        self.zone = Some(zone);
        self
    }

    /// What patterns print for an absent trace value, e.g. outside any request (default empty).
    /// See [`Formatter::with_placeholder`].
    ///
    /// ```
    /// let _ = trace_log::builder().placeholder("N/A");
    /// ```
    pub fn placeholder(mut self, placeholder: impl Into<String>) -> Self {
        self.placeholder = Some(placeholder.into());
        self
    }

    /// Lets CR/LF in messages and field values through in pattern lines (default `false`).
    /// See [`Formatter::with_multiline`].
    ///
    /// ```
    /// let _ = trace_log::builder().multiline(true);
    /// ```
    pub fn multiline(mut self, multiline: bool) -> Self {
        self.multiline = Some(multiline);
        self
    }

    /// The filter directives used when `RUST_LOG` is unset (default `info`), in `EnvFilter`
    /// syntax, e.g. `info,shop=debug,hyper=warn`.
    ///
    /// ```
    /// let filter = trace_log::builder().ignore_env().default_filter("warn,shop=debug").filter()?;
    /// assert_eq!(filter.to_string(), "shop=debug,warn");
    /// # Ok::<(), trace_log::Error>(())
    /// ```
    pub fn default_filter(mut self, directives: impl Into<String>) -> Self {
        self.default_filter = Some(directives.into());
        self
    }

    /// Ignores every environment variable, `RUST_LOG` included (for tests and fixed setups).
    ///
    /// ```
    /// let _ = trace_log::builder().ignore_env();
    /// ```
    pub fn ignore_env(mut self) -> Self {
        self.use_env = false;
        self
    }

    /// Whether [`Builder::init`] also installs `tracing-log`'s `LogTracer`, so that events of
    /// the `log` crate are formatted the same (default `true`).
    ///
    /// ```
    /// let _ = trace_log::builder().log_bridge(false);
    /// ```
    pub fn log_bridge(mut self, on: bool) -> Self {
        self.log_bridge = on;
        self
    }

    /// Where lines go: any `MakeWriter`, e.g. `std::io::stderr`, a file, or
    /// `tracing-appender`'s non-blocking writer (default `std::io::stdout`).
    ///
    /// ```
    /// let _ = trace_log::builder().writer(std::io::stderr);
    /// ```
    pub fn writer<W2>(self, writer: W2) -> Builder<W2>
    where
        W2: for<'w> MakeWriter<'w> + Send + Sync + 'static,
    {
        Builder {
            style: self.style,
            pattern: self.pattern,
            zone: self.zone,
            placeholder: self.placeholder,
            multiline: self.multiline,
            default_filter: self.default_filter,
            use_env: self.use_env,
            log_bridge: self.log_bridge,
            writer,
        }
    }

    fn env(&self, var: &'static str) -> Result<Option<String>, Error> {
        if self.use_env {
            env_var(var)
        } else {
            Ok(None)
        }
    }

    /// Code, else environment variable (parsed), else `None`.
    fn resolve<T>(
        &self,
        code: &Option<T>,
        var: &'static str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<Option<T>, Error>
    where
        T: Clone,
    {
        if let Some(v) = code {
            return Ok(Some(v.clone()));
        }
        match self.env(var)? {
            None => Ok(None),
            Some(text) => parse(&text).map(Some).map_err(|problem| Error::Env {
                var,
                value: text,
                problem,
            }),
        }
    }

    /// The formatter these options describe.
    ///
    /// ```
    /// let f = trace_log::builder().ignore_env().formatter()?;
    /// assert_eq!(f.style(), trace_log::Style::Pattern);
    /// # Ok::<(), trace_log::Error>(())
    /// ```
    pub fn formatter(&self) -> Result<Formatter, Error> {
        let style = self
            .resolve(&self.style, ENV_FORMAT, |s| s.parse())?
            .unwrap_or_default();
        let mut formatter = match style {
            Style::Json => Formatter::json(),
            Style::Pattern => {
                let pattern = self
                    .resolve(&self.pattern, ENV_PATTERN, |s| Ok(s.to_owned()))?
                    .unwrap_or_else(|| DEFAULT_PATTERN.to_owned());
                Formatter::pattern(&pattern)?
            }
        };
        if let Some(zone) = self.resolve(&self.zone, ENV_TIME_ZONE, |s| {
            s.parse::<TimeZone>().map_err(|e| e.to_string())
        })? {
            formatter = formatter.with_time_zone(zone);
        }
        if let Some(p) = self.resolve(&self.placeholder, ENV_PLACEHOLDER, |s| Ok(s.to_owned()))? {
            formatter = formatter.with_placeholder(&p);
        }
        if let Some(m) = self.resolve(&self.multiline, ENV_MULTILINE, |s| {
            parse_bool(s).ok_or_else(|| "expected true or false".to_owned())
        })? {
            formatter = formatter.with_multiline(m);
        }
        Ok(formatter)
    }

    /// The filter: `RUST_LOG` if set, else [`Builder::default_filter`], else `info`.
    ///
    /// ```
    /// let filter = trace_log::builder().ignore_env().filter()?;
    /// assert_eq!(filter.to_string(), "info");
    /// # Ok::<(), trace_log::Error>(())
    /// ```
    pub fn filter(&self) -> Result<EnvFilter, Error> {
        let (source, directives) = match self.env(ENV_FILTER)? {
            Some(d) => (ENV_FILTER, d),
            None => (
                "the builder",
                self.default_filter
                    .clone()
                    .unwrap_or_else(|| DEFAULT_FILTER.to_owned()),
            ),
        };
        EnvFilter::builder()
            .parse(&directives)
            .map_err(|e| Error::Filter {
                source,
                message: e.to_string(),
            })
    }
}

impl<W> Builder<W>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    /// A `fmt` layer with the formatter and [`TraceFields`], writing to the writer, unfiltered:
    /// compose it with other layers, after [`trace_context::ContextLayer`].
    ///
    /// ```
    /// use tracing_subscriber::layer::SubscriberExt;
    /// use tracing_subscriber::Layer;
    ///
    /// let builder = trace_log::builder().ignore_env().writer(std::io::sink);
    /// let filter = builder.filter()?;
    /// let subscriber = tracing_subscriber::registry()
    ///     .with(trace_context::ContextLayer::new())
    ///     .with(builder.layer()?.with_filter(filter));
    /// tracing::subscriber::with_default(subscriber, || tracing::info!("composed"));
    /// # Ok::<(), trace_log::Error>(())
    /// ```
    pub fn layer<S>(self) -> Result<crate::TraceLayer<S, W>, Error>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let formatter = self.formatter()?;
        Ok(fmt_layer(formatter, self.writer))
    }

    /// The layer with its level filter ([`Builder::filter`]) that does no work for spans unless
    /// the lines print span fields — see [`LogLayer`](crate::LogLayer). Add it after
    /// [`trace_context::ContextLayer`]. Events below the level reach no layer; spans are never
    /// filtered.
    ///
    /// ```
    /// use tracing_subscriber::layer::SubscriberExt;
    ///
    /// let log = trace_log::builder().ignore_env().writer(std::io::sink).log_layer()?;
    /// let subscriber = tracing_subscriber::registry()
    ///     .with(trace_context::ContextLayer::new())
    ///     .with(log);
    /// tracing::subscriber::with_default(subscriber, || tracing::info!("composed"));
    /// # Ok::<(), trace_log::Error>(())
    /// ```
    pub fn log_layer<S>(self) -> Result<crate::LogLayer<S, W>, Error>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let filter = self.filter()?;
        let formatter = self.formatter()?;
        let span_fields = formatter.prints_span_fields();
        Ok(crate::LogLayer::new(
            fmt_layer(formatter, self.writer),
            filter,
            span_fields,
        ))
    }

    /// The whole subscriber, not installed: a registry with [`trace_context::ContextLayer`]
    /// (first) and the [`LogLayer`](crate::LogLayer). Add more layers on top (e.g. an exporter)
    /// with `SubscriberExt::with`, then [`crate::install`] it — or use it in
    /// `tracing::subscriber::with_default`.
    ///
    /// The level filter applies to events only: spans below the log level still get their
    /// trace context (and reach an exporter added on top).
    ///
    /// ```
    /// let subscriber = trace_log::builder().ignore_env().writer(std::io::sink).subscriber()?;
    /// tracing::subscriber::with_default(subscriber, || tracing::info!("hello"));
    /// # Ok::<(), trace_log::Error>(())
    /// ```
    pub fn subscriber(
        self,
    ) -> Result<impl Subscriber + Send + Sync + for<'a> LookupSpan<'a> + 'static, Error> {
        let layer = self.log_layer()?;
        Ok(tracing_subscriber::registry()
            .with(ContextLayer::new())
            .with(layer))
    }

    /// Builds the subscriber and installs it as the global default, with `tracing-log`'s
    /// `LogTracer` (unless [`Builder::log_bridge`] is off) so `log` crate events are formatted
    /// the same. Fails if a global subscriber or `log` logger is already installed, or an
    /// option is invalid.
    ///
    /// ```no_run
    /// trace_log::builder().json().init()?;
    /// tracing::info!(order_id = 1001, "order placed");
    /// # Ok::<(), trace_log::Error>(())
    /// ```
    pub fn init(self) -> Result<(), Error> {
        let max = self
            .filter()?
            .max_level_hint()
            .unwrap_or(LevelFilter::TRACE);
        let bridge = self.log_bridge;
        let subscriber = self.subscriber()?;
        install_with(subscriber, bridge.then_some(max))
    }
}

/// The `fmt` layer with this crate's formatter and field formatter.
fn fmt_layer<S, W>(formatter: Formatter, writer: W) -> crate::TraceLayer<S, W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .fmt_fields(TraceFields::default())
        .event_format(formatter)
        .with_writer(writer)
}

/// Installs `subscriber` as the global default and `tracing-log`'s `LogTracer` as the `log`
/// crate's logger, so that `log` events reach it.
///
/// ```no_run
/// use tracing_subscriber::layer::SubscriberExt;
/// let subscriber = trace_log::builder().subscriber()?
///     .with(tracing_subscriber::filter::LevelFilter::INFO); // e.g. an exporter layer
/// trace_log::install(subscriber)?;
/// # Ok::<(), trace_log::Error>(())
/// ```
pub fn install<S>(subscriber: S) -> Result<(), Error>
where
    S: Subscriber + Send + Sync + 'static,
{
    let max = subscriber.max_level_hint().unwrap_or(LevelFilter::TRACE);
    install_with(subscriber, Some(max))
}

fn install_with<S>(subscriber: S, log_bridge: Option<LevelFilter>) -> Result<(), Error>
where
    S: Subscriber + Send + Sync + 'static,
{
    if let Some(max) = log_bridge {
        tracing_log::LogTracer::builder()
            .with_max_level(max.as_log())
            .init()
            .map_err(|e| Error::Init(format!("a `log` logger is already installed ({e})")))?;
    }
    tracing::subscriber::set_global_default(subscriber)
        .map_err(|e| Error::Init(format!("a global subscriber is already installed ({e})")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bools() {
        assert_eq!(parse_bool(" Yes "), Some(true));
        assert_eq!(parse_bool("0"), Some(false));
        assert_eq!(parse_bool("maybe"), None);
    }

    #[test]
    fn code_wins_and_bad_options_are_errors() {
        let b = Builder::new().ignore_env().json().pattern("%m");
        assert_eq!(b.formatter().unwrap().style(), Style::Pattern);
        let err = Builder::new()
            .ignore_env()
            .default_filter("info,[")
            .filter()
            .unwrap_err();
        assert!(matches!(err, Error::Filter { .. }), "{err}");
        let err = Builder::new()
            .ignore_env()
            .pattern("%zz")
            .formatter()
            .unwrap_err();
        assert!(err.to_string().contains("position 1"), "{err}");
    }
}
