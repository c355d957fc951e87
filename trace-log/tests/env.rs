//! Configuration from environment variables. One test function: the environment is global to
//! the process, so the cases run in sequence.

use trace_log::{Error, Style};

mod support;
use support::Capture;

const VARS: [&str; 6] = [
    "RUST_LOG",
    "TRACE_LOG_FORMAT",
    "TRACE_LOG_PATTERN",
    "TRACE_LOG_TIMEZONE",
    "TRACE_LOG_PLACEHOLDER",
    "TRACE_LOG_MULTILINE",
];

fn clear() {
    for v in VARS {
        std::env::remove_var(v);
    }
}

fn set(var: &str, value: &str) {
    clear();
    std::env::set_var(var, value);
}

/// Writes an `info` and a `warn` event outside any request with the environment's options.
fn output(builder: trace_log::Builder) -> String {
    let cap = Capture::default();
    let subscriber = builder.writer(cap.clone()).subscriber().expect("valid env");
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!(target: "t", "first\nline");
        tracing::warn!(target: "t", "second");
    });
    cap.text()
}

fn env_error(var: &str) -> Error {
    let err = trace_log::builder().formatter().unwrap_err();
    match &err {
        Error::Env { var: v, .. } => assert_eq!(*v, var, "{err}"),
        other => panic!("expected an Env error for {var}, got {other}"),
    }
    assert!(err.to_string().contains(var), "{err}");
    err
}

#[test]
fn environment_variables() {
    // Names are the documented ones.
    assert_eq!(
        [
            trace_log::ENV_FILTER,
            trace_log::ENV_FORMAT,
            trace_log::ENV_PATTERN,
            trace_log::ENV_TIME_ZONE,
            trace_log::ENV_PLACEHOLDER,
            trace_log::ENV_MULTILINE
        ],
        VARS
    );

    // Defaults: pattern style, `info` filter.
    clear();
    assert_eq!(
        trace_log::builder().formatter().unwrap().style(),
        Style::Pattern
    );
    assert_eq!(trace_log::builder().filter().unwrap().to_string(), "info");

    // TRACE_LOG_FORMAT
    set("TRACE_LOG_FORMAT", "JSON");
    assert_eq!(
        trace_log::builder().formatter().unwrap().style(),
        Style::Json
    );
    let out = output(trace_log::builder());
    assert!(out.starts_with("{\"timestamp\":"), "{out}");
    set("TRACE_LOG_FORMAT", "xml");
    env_error("TRACE_LOG_FORMAT");
    // Code wins over the environment.
    assert_eq!(
        trace_log::builder()
            .pattern("%m")
            .formatter()
            .unwrap()
            .style(),
        Style::Pattern
    );
    // An empty variable counts as unset.
    set("TRACE_LOG_FORMAT", "");
    assert_eq!(
        trace_log::builder().formatter().unwrap().style(),
        Style::Pattern
    );

    // TRACE_LOG_PATTERN
    set("TRACE_LOG_PATTERN", "%-5level|%msg%n");
    assert_eq!(
        output(trace_log::builder()),
        "INFO |first\\nline\nWARN |second\n"
    );
    assert_eq!(
        output(trace_log::builder().pattern("%level%n")),
        "INFO\nWARN\n"
    );
    assert_eq!(
        output(trace_log::builder().ignore_env().pattern("%p%n")),
        "INFO\nWARN\n"
    );
    set("TRACE_LOG_PATTERN", "%d %-5lvl");
    match trace_log::builder().formatter().unwrap_err() {
        Error::Pattern(e) => assert_eq!(e.position(), 6),
        other => panic!("{other}"),
    }

    // TRACE_LOG_TIMEZONE
    set("TRACE_LOG_TIMEZONE", "+02:00");
    std::env::set_var("TRACE_LOG_PATTERN", "%d{XXX}%n");
    assert_eq!(output(trace_log::builder()), "+02:00\n+02:00\n");
    set("TRACE_LOG_TIMEZONE", "Mars/Olympus");
    env_error("TRACE_LOG_TIMEZONE");

    // TRACE_LOG_PLACEHOLDER
    set("TRACE_LOG_PLACEHOLDER", "N/A");
    std::env::set_var("TRACE_LOG_PATTERN", "[%traceId]%n");
    assert_eq!(output(trace_log::builder()), "[N/A]\n[N/A]\n");

    // TRACE_LOG_MULTILINE
    set("TRACE_LOG_MULTILINE", "true");
    std::env::set_var("TRACE_LOG_PATTERN", "%msg%n");
    assert_eq!(output(trace_log::builder()), "first\nline\nsecond\n");
    set("TRACE_LOG_MULTILINE", "maybe");
    env_error("TRACE_LOG_MULTILINE");

    // RUST_LOG wins over the builder's default filter.
    set("RUST_LOG", "warn");
    std::env::set_var("TRACE_LOG_PATTERN", "%level%n");
    assert_eq!(
        output(trace_log::builder().default_filter("trace")),
        "WARN\n"
    );
    assert_eq!(
        output(trace_log::builder().ignore_env().pattern("%level%n")),
        "INFO\nWARN\n"
    );
    set("RUST_LOG", "info,[");
    match trace_log::builder().filter().unwrap_err() {
        Error::Filter { source, .. } => assert_eq!(source, "RUST_LOG"),
        other => panic!("{other}"),
    }
    clear();
}
