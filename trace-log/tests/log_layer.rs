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
fn spans_below_the_level_keep_their_context_and_events_below_it_reach_no_layer() {
    let (lines, spy) = run(
        trace_log::builder()
            .pattern("%-5level %X{traceId:-none} %msg")
            .default_filter("info"),
        || {
            let request = Context::new_root();
            let _g = request.enter();
            let span = tracing::debug_span!("debug work", step = 1);
            let _e = span.enter();
            tracing::debug!("hidden");
            tracing::info!("shown");
            span.record("step", 2);
        },
    );
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("INFO "), "{lines:?}");
    assert!(lines[0].ends_with(" shown"), "{lines:?}");
    assert!(!lines[0].contains("none"), "{lines:?}");
    let spans = spy.spans.lock().unwrap().clone();
    // The debug span exists for the other layers, with its context, without formatted fields
    // (this pattern prints none).
    assert_eq!(
        spans,
        [
            ("debug work".to_owned(), true, false),
            ("debug work recorded".to_owned(), true, false)
        ]
    );
    assert_eq!(*spy.events.lock().unwrap(), ["INFO"]);
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
