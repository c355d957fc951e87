//! # trace-log
//!
//! Every log line carries the trace id. A [`tracing-subscriber`](tracing_subscriber) event
//! formatter ([`Formatter`]) that prints the trace id, span id and MDC fields of the current
//! [`trace_context::Context`], either as a logback-compatible pattern or as JSON lines, plus a
//! one-call initialiser for the common case.
//!
//! ```no_run
//! // RUST_LOG, TRACE_LOG_FORMAT, TRACE_LOG_PATTERN, ... are read here.
//! trace_log::init()?;
//! tracing::info!(order_id = 1001, "order placed");
//! log::warn!("`log` crate lines get the same treatment");
//! # Ok::<(), trace_log::Error>(())
//! ```
//!
//! With the [`DEFAULT_PATTERN`] a line inside a request reads
//!
//! ```text
//! [2026-11-23 07:19:45.123] INFO  [tokio-runtime-worker] shop::orders 42 [4bf92f3577b34da6a3ce929d0e0e4736] [00f067aa0ba902b7] - order placed order_id=1001
//! ```
//!
//! and outside any request the ids are empty (or [`Builder::placeholder`]).
//!
//! ## Composing with other layers
//!
//! [`trace_context::ContextLayer`] must come first; then this crate's layer, then others (e.g.
//! an exporter). [`Builder::subscriber`] builds the first two; [`Builder::log_layer`] gives the
//! log layer with its level filter ([`LogLayer`]: the filter applies to events only, and spans
//! cost it nothing unless the lines print span fields), with any writer (`tracing-appender`'s
//! non-blocking writer works); [`Builder::layer`] gives the plain `fmt` layer:
//!
//! ```
//! use tracing_subscriber::layer::SubscriberExt;
//!
//! let log = trace_log::builder().json().writer(std::io::sink).log_layer()?; // RUST_LOG, else "info"
//! let subscriber = tracing_subscriber::registry()
//!     .with(trace_context::ContextLayer::new())
//!     .with(log);
//! tracing::subscriber::with_default(subscriber, || {
//!     let request = trace_context::Context::new_root();
//!     let _in_request = request.enter();
//!     tracing::info!("this line carries the request's trace id");
//! });
//! # Ok::<(), trace_log::Error>(())
//! ```
//!
//! ## The pattern language (logback's)
//!
//! | conversion | prints |
//! |---|---|
//! | `%d`, `%date` | the time as logback's `ISO8601`: `2026-11-23 07:19:45,123` |
//! | `%d{yyyy-MM-dd HH:mm:ss.SSS}` | the time in that format; letters `y u M L d D H h K k m s S a E Z X x z`, `'quoted text'`, `ISO8601` |
//! | `%d{HH:mm:ss, local}` | ... in a time zone: `UTC`, `local`, `+02:00` (default: [`Builder::time_zone`]); quote a format with a comma: `%d{"HH:mm:ss,SSS"}` |
//! | `%level`, `%le`, `%p` | `INFO`, `WARN`, ... |
//! | `%thread`, `%t` | the thread's name |
//! | `%logger`, `%c`, `%lo` | the target (`shop::orders::db`) |
//! | `%logger{N}` | abbreviated as logback does (`s::o::db`), never the last segment; `%logger{0}` is the last segment |
//! | `%line`, `%L` / `%file`, `%F` / `%module` | the source location (`?` when unknown) |
//! | `%msg`, `%m`, `%message` | the message |
//! | `%fields` | the event's fields, then its spans' fields (outermost first), each as ` key=value` (a space before each); `%fields{event}`, `%fields{spans}` for one kind |
//! | `%X{key}` | an MDC value: a user field, or `traceId`, `spanId`, `parentId`, `sampled`, `appTraceId` |
//! | `%X{key:-default}` | ... or `default` when absent (`%X{traceId:-}` prints nothing) |
//! | `%X` | all user MDC fields: `k1=v1, k2=v2` |
//! | `%traceId`, `%spanId`, `%parentId` | the ids (the trace id as Zipkin prints it: 16 hex digits for 64-bit ids, else 32) |
//! | `%appTraceId` | the `X-App-Trace-Id` as received, else the trace id |
//! | `%tid` | SkyWalking's `TID:<trace id>`, `TID: N/A` outside a trace |
//! | `%relative`, `%r` | milliseconds since the formatter was built |
//! | `%n` | a newline |
//! | `%%`, `\%` | a percent sign (`\\`, `\{`, `\}`, `\(`, `\)` escape too) |
//!
//! Format modifiers as logback: `%-5level` (pad right to 5), `%5level` (pad left),
//! `%.30logger` (keep the last 30 characters), `%.-30logger` (keep the first 30),
//! `%-20.30logger` (both). Absent trace values print the placeholder (default empty).
//! Sleuth's `%5p [shop,%X{traceId:-},%X{spanId:-}]` works as it does in Java.
//!
//! A malformed pattern is rejected when the formatter is built, with the position and the
//! problem ([`PatternError`]). CR, LF and other control characters in messages, field values
//! and MDC values are escaped (`\n`, `\r`, `\u{1b}`) so that no value can forge a log line;
//! [`Builder::multiline`] lets CR/LF through.
//!
//! ## JSON lines
//!
//! One object per event: `timestamp` (RFC 3339, microseconds), `level`, `target`, `thread`,
//! `message`, and inside a trace `trace_id`, `span_id`, `app_trace_id` (when the received
//! `X-App-Trace-Id` differs from the trace id), `mdc` (user fields); then `fields` (the event's)
//! and `spans` (`[{"name":..,"fields":{..}}]`, outermost first). Valid JSON for any input.
//!
//! ## Environment variables
//!
//! | variable | values | default |
//! |---|---|---|
//! | `RUST_LOG` | `EnvFilter` directives | [`Builder::default_filter`], else `info` |
//! | `TRACE_LOG_FORMAT` | `pattern`, `json` | `pattern` |
//! | `TRACE_LOG_PATTERN` | a pattern | [`DEFAULT_PATTERN`] |
//! | `TRACE_LOG_TIMEZONE` | `UTC`, `local`, `+02:00` | `UTC` |
//! | `TRACE_LOG_PLACEHOLDER` | text for absent trace values | empty |
//! | `TRACE_LOG_MULTILINE` | `true`, `false` | `false` |
//!
//! Options set in code win over the variables (except `RUST_LOG`, which wins over
//! [`Builder::default_filter`] as usual).
//!
//! ## Cost
//!
//! The pattern path does not allocate per event once warm: dates are cached per thread and per
//! millisecond, ids are written from stack buffers, the context is read without a lock.
#![deny(missing_docs)]
#![deny(unsafe_code)]

mod builder;
mod error;
mod escape;
mod fields;
mod formatter;
mod json;
mod line;
mod log_layer;
mod pattern;
mod thread_name;
mod time;

pub use builder::{install, Builder, Style};
pub use error::{Error, PatternError};
pub use fields::TraceFields;
pub use formatter::Formatter;
pub use log_layer::{LogLayer, SPAN_LEVEL};
pub use time::{TimeZone, TimeZoneError};

/// The `fmt` layer [`Builder::layer`] returns: this crate's [`Formatter`] and [`TraceFields`],
/// writing to `W`.
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt;
/// type Base = tracing_subscriber::layer::Layered<
///     trace_context::ContextLayer,
///     tracing_subscriber::Registry,
/// >;
/// let layer: trace_log::TraceLayer<Base> = trace_log::builder().ignore_env().layer()?;
/// let _subscriber = tracing_subscriber::registry()
///     .with(trace_context::ContextLayer::new())
///     .with(layer);
/// # Ok::<(), trace_log::Error>(())
/// ```
pub type TraceLayer<S, W = fn() -> std::io::Stdout> =
    tracing_subscriber::fmt::Layer<S, TraceFields, Formatter, W>;

/// The default pattern, close to the usual logback recipe:
/// `[%d{yyyy-MM-dd HH:mm:ss.SSS}] %-5level [%thread] %logger %line [%X{traceId}] [%X{spanId}] - %msg%fields%n`.
///
/// ```
/// assert!(trace_log::Formatter::pattern(trace_log::DEFAULT_PATTERN).is_ok());
/// ```
pub const DEFAULT_PATTERN: &str =
    "[%d{yyyy-MM-dd HH:mm:ss.SSS}] %-5level [%thread] %logger %line [%X{traceId}] [%X{spanId}] - %msg%fields%n";

/// The filter directives used when neither `RUST_LOG` nor [`Builder::default_filter`] is set.
///
/// ```
/// assert_eq!(trace_log::DEFAULT_FILTER, "info");
/// ```
pub const DEFAULT_FILTER: &str = "info";

/// `RUST_LOG`: the filter directives (`EnvFilter` syntax).
///
/// ```
/// assert_eq!(trace_log::ENV_FILTER, "RUST_LOG");
/// ```
pub const ENV_FILTER: &str = "RUST_LOG";

/// `TRACE_LOG_FORMAT`: `pattern` (default) or `json`.
///
/// ```
/// assert_eq!(trace_log::ENV_FORMAT, "TRACE_LOG_FORMAT");
/// ```
pub const ENV_FORMAT: &str = "TRACE_LOG_FORMAT";

/// `TRACE_LOG_PATTERN`: the pattern (default [`DEFAULT_PATTERN`]).
///
/// ```
/// assert_eq!(trace_log::ENV_PATTERN, "TRACE_LOG_PATTERN");
/// ```
pub const ENV_PATTERN: &str = "TRACE_LOG_PATTERN";

/// `TRACE_LOG_TIMEZONE`: `UTC` (default), `local` or a fixed offset such as `+02:00`.
///
/// ```
/// assert_eq!(trace_log::ENV_TIME_ZONE, "TRACE_LOG_TIMEZONE");
/// ```
pub const ENV_TIME_ZONE: &str = "TRACE_LOG_TIMEZONE";

/// `TRACE_LOG_PLACEHOLDER`: printed for absent trace values (default empty).
///
/// ```
/// assert_eq!(trace_log::ENV_PLACEHOLDER, "TRACE_LOG_PLACEHOLDER");
/// ```
pub const ENV_PLACEHOLDER: &str = "TRACE_LOG_PLACEHOLDER";

/// `TRACE_LOG_MULTILINE`: `true` lets CR/LF in messages through (default `false`).
///
/// ```
/// assert_eq!(trace_log::ENV_MULTILINE, "TRACE_LOG_MULTILINE");
/// ```
pub const ENV_MULTILINE: &str = "TRACE_LOG_MULTILINE";

/// A builder with nothing set (environment variables and defaults apply).
///
/// ```
/// let formatter = trace_log::builder().ignore_env().json().formatter()?;
/// assert_eq!(formatter.style(), trace_log::Style::Json);
/// # Ok::<(), trace_log::Error>(())
/// ```
pub fn builder() -> Builder {
    Builder::new()
}

/// Installs the global subscriber configured from the environment (see the table above), with
/// the `log` crate bridge. Same as `trace_log::builder().init()`.
///
/// ```no_run
/// trace_log::init()?;
/// # Ok::<(), trace_log::Error>(())
/// ```
pub fn init() -> Result<(), Error> {
    builder().init()
}

/// The `fmt` layer configured from the environment, writing to stdout, unfiltered: add it after
/// [`trace_context::ContextLayer`]. Same as `trace_log::builder().layer()`.
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt;
/// let subscriber = tracing_subscriber::registry()
///     .with(trace_context::ContextLayer::new())
///     .with(trace_log::layer()?);
/// # let _ = subscriber;
/// # Ok::<(), trace_log::Error>(())
/// ```
pub fn layer<S>() -> Result<TraceLayer<S>, Error>
where
    S: tracing_core::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    builder().layer()
}
