//! Golden tests of the pattern style: the default pattern, every conversion word and modifier,
//! lines outside a request, line-forging protection, `log` crate events, bad patterns.

mod support;

use support::*;
use trace_context::Context;

/// The event most tests print: a message and two fields, in the fixed context, from a known
/// target. Returns nothing; the line number is `EVENT_LINE`.
fn event_in_context() {
    let _g = fixed_context().enter();
    emit();
}

const EVENT_LINE: u32 = line!() + 3;
fn emit() {
    // Keep the event on the line `EVENT_LINE` names.
    tracing::info!(target: "shop::orders::repository", user_id = 42, note = "x y", "order {} placed", 7);
}

fn one(pattern: &str) -> String {
    let out = render(&format!("{pattern}%n"), event_in_context);
    assert!(out.ends_with('\n'), "{out:?}");
    out.trim_end_matches('\n').to_owned()
}

#[test]
fn default_pattern_golden() {
    let before = now_ms();
    let out = render(trace_log::DEFAULT_PATTERN, event_in_context);
    let after = now_ms();
    // [2026-11-23 07:19:45.123] INFO  [golden] ...
    assert_eq!(&out[..1], "[");
    assert_eq!(&out[24..26], "] ");
    assert_date_between(&out[1..24], 0, before, after);
    assert_eq!(
        &out[26..],
        format!(
            "INFO  [golden] shop::orders::repository {EVENT_LINE} [{TRACE}] [{SPAN}] - order 7 placed user_id=42 note=x y\n"
        )
    );
}

#[test]
fn default_pattern_outside_a_request_prints_empty_ids() {
    let out = render(trace_log::DEFAULT_PATTERN, emit);
    assert!(
        out.ends_with(&format!(
            "INFO  [golden] shop::orders::repository {EVENT_LINE} [] [] - order 7 placed user_id=42 note=x y\n"
        )),
        "{out}"
    );
}

#[test]
fn every_simple_conversion_word() {
    let cases: Vec<(&str, String)> = vec![
        ("%level|%le|%p", "INFO|INFO|INFO".into()),
        ("%thread|%t", "golden|golden".into()),
        (
            "%logger|%c|%lo",
            "shop::orders::repository|shop::orders::repository|shop::orders::repository".into(),
        ),
        ("%logger{0}", "repository".into()),
        ("%logger{1}", "s::o::repository".into()),
        ("%c{22}", "s::orders::repository".into()),
        ("%logger{100}", "shop::orders::repository".into()),
        ("%line|%L", format!("{EVENT_LINE}|{EVENT_LINE}")),
        (
            "%file|%F",
            "trace-log/tests/pattern.rs|trace-log/tests/pattern.rs".into(),
        ),
        ("%module", "pattern".into()),
        (
            "%msg|%m|%message",
            "order 7 placed|order 7 placed|order 7 placed".into(),
        ),
        ("%fields", " user_id=42 note=x y".into()),
        ("%fields{event}", " user_id=42 note=x y".into()),
        ("%fields{spans}", "".into()),
        ("%X{tenant}|%X{user}|%mdc{tenant}", "acme|ann|acme".into()),
        (
            "%X{missing}|%X{missing:-dflt}|%X{tenant:-dflt}",
            "|dflt|acme".into(),
        ),
        ("%X", "tenant=acme, user=ann".into()),
        ("%X{}", "tenant=acme, user=ann".into()),
        (
            "%X{traceId}|%X{spanId}|%X{parentId}|%X{sampled}|%X{appTraceId}",
            format!("{TRACE}|{SPAN}|{PARENT}|true|{TRACE}"),
        ),
        (
            "%traceId|%spanId|%parentId|%appTraceId",
            format!("{TRACE}|{SPAN}|{PARENT}|{TRACE}"),
        ),
        ("%tid", format!("TID:{TRACE}")),
        ("a%n|b", "a\n|b".into()),
        ("100%% \\%d \\{x\\} tail", "100% %d {x} tail".into()),
        ("plain text only", "plain text only".into()),
        (
            "%5p [shop,%X{traceId:-},%X{spanId:-}] %m",
            format!(" INFO [shop,{TRACE},{SPAN}] order 7 placed"),
        ),
    ];
    for (pattern, want) in cases {
        assert_eq!(one(pattern), want, "pattern {pattern:?}");
    }
}

#[test]
fn every_modifier() {
    let cases: Vec<(&str, &str)> = vec![
        ("[%-5level]", "[INFO ]"),
        ("[%5level]", "[ INFO]"),
        ("[%2level]", "[INFO]"),
        ("[%.2level]", "[FO]"),
        ("[%.-2level]", "[IN]"),
        ("[%-8.2level]", "[FO      ]"),
        ("[%8.-2level]", "[      IN]"),
        ("[%30logger]", "[      shop::orders::repository]"),
        ("[%-30logger]", "[shop::orders::repository      ]"),
        ("[%20.30logger]", "[shop::orders::repository]"),
        ("[%.10logger]", "[repository]"),
        ("[%.-10logger]", "[shop::orde]"),
        ("[%-20.-4logger{0}]", "[repo                ]"),
        ("[%12X{tenant}]", "[        acme]"),
        ("[%-6X{tenant}]", "[acme  ]"),
        ("[%-3X{tenant}]", "[acme]"),
        ("[%-7X{missing:-é}]", "[é      ]"),
        ("[%-10.3msg]", "[ced       ]"),
        ("[%.8traceId]", "[0e0e4736]"),
        ("[%0level]", "[INFO]"),
    ];
    for (pattern, want) in cases {
        assert_eq!(one(pattern), want, "pattern {pattern:?}");
    }
}

#[test]
fn date_conversions() {
    let before = now_ms();
    let out = one("%d{yyyy-MM-dd HH:mm:ss.SSS}|%date|%d{ISO8601}|%d{yyyy-MM-dd HH:mm:ss.SSS, +02:00}|%d{\"yyyy-MM-dd HH:mm:ss,SSS\", UTC}");
    let after = now_ms();
    let parts: Vec<&str> = out.split('|').collect();
    assert_eq!(parts.len(), 5, "{out}");
    assert_date_between(parts[0], 0, before, after);
    for iso in &parts[1..3] {
        assert_eq!(&iso[19..20], ",", "{iso}");
        assert_date_between(iso, 0, before, after);
    }
    assert_date_between(parts[3], 2 * 3600, before, after);
    assert_date_between(parts[4], 0, before, after);
    assert_eq!(&parts[4][19..20], ",");
}

#[test]
fn builder_time_zone_applies_to_dates_without_a_zone() {
    let before = now_ms();
    let out = run_with(
        trace_log::builder()
            .pattern("%d{yyyy-MM-dd HH:mm:ss.SSS}|%d{yyyy-MM-dd HH:mm:ss.SSS, UTC}|%d{XXX}")
            .time_zone(trace_log::TimeZone::Fixed(-(5 * 3600 + 30 * 60))),
        event_in_context,
    );
    let after = now_ms();
    let parts: Vec<&str> = out.trim_end().split('|').collect();
    assert_date_between(parts[0], -(5 * 3600 + 30 * 60), before, after);
    assert_date_between(parts[1], 0, before, after);
    assert_eq!(parts[2], "-05:30");
}

#[test]
fn relative_time_is_a_number_of_milliseconds() {
    let out = one("%relative|%r");
    let (a, b) = out.split_once('|').unwrap();
    let (a, b): (u64, u64) = (a.parse().unwrap(), b.parse().unwrap());
    assert!(a <= b, "{out}");
}

#[test]
fn trace_values_outside_a_request_use_the_placeholder() {
    let pattern =
        "%traceId|%spanId|%parentId|%appTraceId|%X{traceId}|%X{traceId:-none}|%X{tenant}|%X|%tid%n";
    let out = render(pattern, emit);
    assert_eq!(out, "|||||none|||TID: N/A\n");
    let out = run_with(
        trace_log::builder().pattern(pattern).placeholder("N/A"),
        emit,
    );
    assert_eq!(out, "N/A|N/A|N/A|N/A|N/A|none|N/A||TID: N/A\n");
    // A root span has no parent: the placeholder, not garbage.
    let out = run_with(
        trace_log::builder()
            .pattern("[%parentId]%n")
            .placeholder("-"),
        || {
            let _g = Context::new_root().enter();
            tracing::info!("root");
        },
    );
    assert_eq!(out, "[-]\n");
}

#[test]
fn app_trace_id_prints_what_the_client_sent() {
    let out = render("%appTraceId|%X{appTraceId}|%traceId%n", || {
        let ctx = app_context();
        let _g = ctx.enter();
        tracing::info!("x");
    });
    let parts: Vec<&str> = out.trim_end().split('|').collect();
    assert_eq!(&parts[..2], &["web-42", "web-42"]);
    assert_eq!(parts[2].len(), 32);
    assert_ne!(parts[2], "web-42");
}

#[test]
fn spans_get_their_own_span_id_and_print_their_fields() {
    let out = render("%spanId %parentId%fields|%fields{spans}%n", || {
        let _g = fixed_context().enter();
        let outer = tracing::info_span!("load order", order_id = 1001);
        let _o = outer.enter();
        tracing::info!("in outer");
        let inner = tracing::info_span!("query", table = "orders", rows = tracing::field::Empty);
        let _i = inner.enter();
        inner.record("rows", 3);
        tracing::info!(cached = false, "loaded");
    });
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    // outer: its own id, its parent the request's span
    let (outer_id, rest) = lines[0].split_at(16);
    assert_ne!(outer_id, SPAN, "a user span has its own id");
    assert!(outer_id.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(rest, format!(" {SPAN} order_id=1001| order_id=1001"));
    // inner: its own id, its parent the outer span; fields: event's, then outermost first
    let (inner_id, rest) = lines[1].split_at(16);
    assert_ne!(inner_id, outer_id);
    assert_ne!(inner_id, SPAN);
    assert_eq!(
        rest,
        format!(" {outer_id} cached=false order_id=1001 table=orders rows=3| order_id=1001 table=orders rows=3")
    );
}

#[test]
fn recorded_span_fields_are_printed() {
    let out = render("%fields{spans}%n", || {
        let span = tracing::info_span!("work", a = 1, b = tracing::field::Empty);
        let _e = span.enter();
        span.record("b", "later");
        tracing::info!("x");
    });
    assert_eq!(out, " a=1 b=later\n");
}

#[test]
fn events_with_an_explicit_parent_use_that_spans_context() {
    let out = render("%traceId %fields{spans}%n", || {
        let span = {
            let _g = fixed_context().enter();
            tracing::info_span!("detached", k = "v")
        };
        // Not entered, no context current: the event names its parent.
        tracing::info!(parent: &span, "from outside");
    });
    assert_eq!(out, format!("{TRACE}  k=v\n"));
}

#[test]
fn crlf_cannot_forge_a_line() {
    let out = render("%msg%fields [%X{evil}] [%thread]", || {
        let ctx = fixed_context().with_field("evil", "a\r\nFAKE");
        let _g = ctx.enter();
        tracing::info!(
            field = "v1\nINFO forged",
            "first\nINFO [golden] forged line\r\x1b[2K\u{2028}end"
        );
    });
    assert_eq!(out.lines().count(), 1, "{out:?}");
    assert_eq!(
        out,
        "first\\nINFO [golden] forged line\\r\\u{1b}[2K\\u{2028}end field=v1\\nINFO forged [a\\r\\nFAKE] [golden]"
    );
}

#[test]
fn multiline_lets_newlines_through_but_not_other_controls() {
    let out = run_with(
        trace_log::builder()
            .pattern("%msg|%fields%n")
            .multiline(true),
        || tracing::info!(f = "a\nb", "line one\nline two\x07"),
    );
    assert_eq!(out, "line one\nline two\\u{7}| f=a\nb\n");
}

#[test]
fn placeholder_cannot_forge_a_line_either() {
    let out = run_with(
        trace_log::builder()
            .pattern("[%traceId]%n")
            .placeholder("a\nb"),
        emit,
    );
    assert_eq!(out, "[a\\nb]\n");
}

#[test]
fn log_crate_events_get_the_same_treatment() {
    let out = render(
        "%-5level %logger %line %file [%traceId] %msg%fields%n",
        || {
            let _g = fixed_context().enter();
            let line = line!() + 1;
            log::warn!(target: "legacy::db", "from the log crate {}", 1);
            tracing::info!(target: "check", "{line}");
        },
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    let line = lines[1].rsplit(' ').next().unwrap();
    assert_eq!(
        lines[0],
        format!(
            "WARN  legacy::db {line} trace-log/tests/pattern.rs [{TRACE}] from the log crate 1"
        )
    );
}

#[test]
fn bad_patterns_are_errors_with_positions_not_panics() {
    let cases: &[(&str, usize)] = &[
        ("%", 0),
        ("[%d] %-5levle", 8),
        ("%d{yyyy-MM-dd", 2),
        ("%X{a} %logger{x}", 14),
        ("%d{yyyy-MM-dd HH:mm:ss,SSS}", 23),
        ("%d{yyyy-qq}", 8),
        ("%.level", 1),
        ("%-(%d)", 1),
        ("%(%d)", 1),
        ("ok %fields{nope}", 11),
        ("%msg{}", 4),
    ];
    for &(pattern, position) in cases {
        let err = trace_log::Formatter::pattern(pattern).unwrap_err();
        assert_eq!(err.position(), position, "{pattern:?}: {err}");
        assert!(
            err.to_string().contains(&format!("position {position}")),
            "{err}"
        );
        let via_builder = trace_log::builder()
            .ignore_env()
            .pattern(pattern)
            .formatter();
        assert!(matches!(via_builder, Err(trace_log::Error::Pattern(_))));
    }
}

#[test]
fn arbitrary_patterns_never_panic() {
    // Every short string over an alphabet of pattern syntax either parses or is an error.
    let alphabet = [
        '%', '-', '.', '5', '{', '}', '"', ',', 'd', 'X', 'm', 'n', ':', '\\', 'é',
    ];
    let mut count = 0;
    let mut stack = vec![String::new()];
    while let Some(p) = stack.pop() {
        if let Ok(f) = trace_log::Formatter::pattern(&p) {
            count += 1;
            let _ = f.style();
        }
        if p.chars().count() < 4 {
            for c in alphabet {
                let mut next = p.clone();
                next.push(c);
                stack.push(next);
            }
        }
    }
    assert!(count > 0);
}
