//! `LogLayer`: the level filter applies to events only (spans of every level keep their context
//! and reach the other layers), span fields are kept only when the lines print them, and
//! directives that name spans work.

mod support;

use std::sync::{Arc, Mutex};

use support::Capture;
use trace_context::{Context, ContextLayer};
use trace_log::TraceFields;
use tracing_core::span::{Attributes, Id};
use tracing_core::{Event, Subscriber};
use tracing_subscriber::fmt::FormattedFields;
use tracing_subscriber::layer::{Context as LayerContext, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// What a layer added after the log layer saw: span names with whether they had a trace
/// context and formatted fields, and event messages.
#[derive(Clone, Default)]
struct Spy {
    spans: Arc<Mutex<Vec<(String, bool, bool)>>>,
    events: Arc<Mutex<Vec<String>>>,
}

impl<S> Layer<S> for Spy
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: LayerContext<'_, S>) {
        let span = ctx.span(id).expect("span exists");
        let ext = span.extensions();
        self.spans.lock().unwrap().push((
            attrs.metadata().name().to_owned(),
            ext.get::<Context>().is_some(),
            ext.get::<FormattedFields<TraceFields>>().is_some(),
        ));
    }

    fn on_record(&self, id: &Id, _: &tracing_core::span::Record<'_>, ctx: LayerContext<'_, S>) {
        let span = ctx.span(id).expect("span exists");
        let has_fields = span
            .extensions()
            .get::<FormattedFields<TraceFields>>()
            .is_some();
        self.spans
            .lock()
            .unwrap()
            .push((format!("{} recorded", span.name()), true, has_fields));
    }

    fn on_event(&self, event: &Event<'_>, _: LayerContext<'_, S>) {
        self.events
            .lock()
            .unwrap()
            .push(event.metadata().level().to_string());
    }
}

fn run(builder: trace_log::Builder, f: impl FnOnce()) -> (Vec<String>, Spy) {
    let cap = Capture::default();
    let spy = Spy::default();
    let log = builder
        .ignore_env()
        .writer(cap.clone())
        .log_layer()
        .expect("valid options");
    let subscriber = tracing_subscriber::registry()
        .with(ContextLayer::new())
        .with(log)
        .with(spy.clone());
    tracing::subscriber::with_default(subscriber, f);
    (cap.lines(), spy)
}

#[test]
fn info_spans_keep_their_context_whatever_the_level_and_events_below_it_reach_no_layer() {
    let (lines, spy) = run(
        trace_log::builder()
            .pattern("%-5level %X{traceId:-none} %msg")
            .default_filter("warn"),
        || {
            let request = Context::new_root();
            let _g = request.enter();
            let span = tracing::info_span!("request work", step = 1);
            let _e = span.enter();
            tracing::info!("hidden");
            tracing::warn!("shown");
            span.record("step", 2);
        },
    );
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("WARN "), "{lines:?}");
    assert!(lines[0].ends_with(" shown"), "{lines:?}");
    assert!(!lines[0].contains("none"), "{lines:?}");
    let spans = spy.spans.lock().unwrap().clone();
    // The info span exists for the other layers, with its context, without formatted fields
    // (this pattern prints none).
    assert_eq!(
        spans,
        [
            ("request work".to_owned(), true, false),
            ("request work recorded".to_owned(), true, false)
        ]
    );
    assert_eq!(*spy.events.lock().unwrap(), ["WARN"]);
}

#[test]
fn spans_below_info_follow_the_filter() {
    let names = |filter: &str| {
        let (_, spy) = run(
            trace_log::builder().pattern("%msg").default_filter(filter),
            || {
                let _d = tracing::debug_span!("debug span").entered();
                let _t = tracing::trace_span!("trace span").entered();
            },
        );
        let spans = spy.spans.lock().unwrap().clone();
        spans.into_iter().map(|(n, _, _)| n).collect::<Vec<_>>()
    };
    assert!(names("info").is_empty());
    assert_eq!(names("debug"), ["debug span"]);
    assert_eq!(names("trace"), ["debug span", "trace span"]);
}

#[test]
fn the_level_hint_is_the_filters_and_at_least_info() {
    let hint = |filter: &str| {
        let log = trace_log::builder()
            .ignore_env()
            .default_filter(filter)
            .writer(std::io::sink)
            .log_layer()
            .unwrap();
        // Unfiltered layers on both sides (as ContextLayer and an exporter are) keep it.
        tracing_subscriber::registry()
            .with(ContextLayer::new())
            .with(log)
            .with(Spy::default())
            .max_level_hint()
    };
    use tracing_core::LevelFilter;
    assert_eq!(hint("info"), Some(LevelFilter::INFO));
    assert_eq!(hint("warn"), Some(LevelFilter::INFO));
    assert_eq!(hint("info,hyper=debug"), Some(LevelFilter::DEBUG));
    assert_eq!(hint("trace"), Some(LevelFilter::TRACE));
}

#[test]
fn span_fields_are_kept_when_the_lines_print_them() {
    let (lines, spy) = run(
        trace_log::builder()
            .pattern("%msg%fields{spans}")
            .default_filter("info"),
        || {
            let span = tracing::info_span!("load", order = 7, user = tracing::field::Empty);
            let _e = span.enter();
            span.record("user", 42);
            tracing::info!("loaded");
        },
    );
    assert_eq!(lines, ["loaded order=7 user=42"]);
    assert!(spy
        .spans
        .lock()
        .unwrap()
        .iter()
        .all(|(_, _, fields)| *fields));
}

#[test]
fn json_lines_print_span_fields() {
    let (lines, _) = run(trace_log::builder().json().default_filter("info"), || {
        let _e = tracing::info_span!("load", order = 7).entered();
        tracing::info!("loaded");
    });
    assert_eq!(lines.len(), 1);
    let line: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(line["spans"][0]["fields"]["order"], 7, "{line}");
}

#[test]
fn a_directive_naming_a_span_enables_events_inside_it_only() {
    let (lines, _) = run(
        trace_log::builder()
            .pattern("%-5level %msg")
            .default_filter("info,[audit]=debug"),
        || {
            tracing::debug!("outside");
            let span = tracing::info_span!("audit");
            span.in_scope(|| tracing::debug!("inside"));
            tracing::debug!("outside again");
        },
    );
    assert_eq!(lines, ["DEBUG inside"]);
}
