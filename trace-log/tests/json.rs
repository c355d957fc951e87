//! JSON lines: every key, and valid JSON (parsed by serde_json) for adversarial input.

mod support;

use serde_json::Value;
use support::*;
use tracing_subscriber::layer::SubscriberExt;

fn json_lines(f: impl FnOnce() + Send + 'static) -> Vec<Value> {
    let out = run_with(trace_log::builder().json(), f);
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("invalid JSON ({e}): {l}")))
        .collect()
}

fn one(f: impl FnOnce() + Send + 'static) -> Value {
    let mut lines = json_lines(f);
    assert_eq!(lines.len(), 1, "{lines:?}");
    lines.remove(0)
}

#[test]
fn every_key_of_a_line_in_a_request() {
    let before = now_ms();
    let v = one(|| {
        let _g = fixed_context().enter();
        let span = tracing::info_span!("load order", order_id = 1001_u64, kind = "web");
        let _e = span.enter();
        tracing::warn!(
            target: "shop::orders",
            user_id = 42,
            neg = -5,
            big = u64::MAX,
            ratio = 0.5,
            nan = f64::NAN,
            ok = true,
            note = "x y",
            dbg = ?vec![1, 2],
            shown = %"display",
            "order {} placed",
            7
        );
    });
    let after = now_ms();
    let ts = v["timestamp"].as_str().unwrap();
    assert_eq!(ts.len(), "2026-11-23T07:19:45.123456Z".len(), "{ts}");
    assert!(ts.ends_with('Z') && &ts[10..11] == "T", "{ts}");
    assert_date_between(&ts[..23].replace('T', " "), 0, before, after);
    assert_eq!(v["level"], "WARN");
    assert_eq!(v["target"], "shop::orders");
    assert_eq!(v["thread"], "golden");
    assert_eq!(v["message"], "order 7 placed");
    assert_eq!(v["trace_id"], TRACE);
    let span_id = v["span_id"].as_str().unwrap();
    assert_eq!(span_id.len(), 16);
    assert_ne!(span_id, SPAN, "inside a user span, the span's own id");
    assert!(
        v.get("app_trace_id").is_none(),
        "no app id differing from the trace id"
    );
    assert_eq!(
        v["mdc"],
        serde_json::json!({"tenant": "acme", "user": "ann"})
    );
    assert_eq!(
        v["fields"],
        serde_json::json!({
            "user_id": 42, "neg": -5, "big": u64::MAX, "ratio": 0.5, "nan": "NaN", "ok": true,
            "note": "x y", "dbg": "[1, 2]", "shown": "display"
        })
    );
    assert_eq!(
        v["spans"],
        serde_json::json!([{"name": "load order", "fields": {"order_id": 1001, "kind": "web"}}])
    );
}

#[test]
fn nested_spans_outermost_first_with_recorded_fields() {
    let v = one(|| {
        let outer = tracing::info_span!("outer", a = 1);
        let _o = outer.enter();
        let inner = tracing::info_span!(
            "inner",
            b = tracing::field::Empty,
            c = tracing::field::Empty
        );
        let _i = inner.enter();
        inner.record("b", "two");
        inner.record("c", 3);
        let empty = tracing::info_span!("empty");
        let _e = empty.enter();
        tracing::info!("deep");
    });
    assert_eq!(
        v["spans"],
        serde_json::json!([
            {"name": "outer", "fields": {"a": 1}},
            {"name": "inner", "fields": {"b": "two", "c": 3}},
            {"name": "empty"}
        ])
    );
}

#[test]
fn app_trace_id_appears_when_it_differs() {
    let v = one(|| {
        let _g = app_context().enter();
        tracing::info!("x");
    });
    assert_eq!(v["app_trace_id"], "web-42");
    assert_eq!(v["trace_id"].as_str().unwrap().len(), 32);
    assert_eq!(v["span_id"], SPAN);
}

#[test]
fn outside_a_request_there_are_no_ids() {
    let v = one(|| tracing::info!(k = 1, "plain"));
    for key in ["trace_id", "span_id", "app_trace_id", "mdc", "spans"] {
        assert!(v.get(key).is_none(), "{key} in {v}");
    }
    assert_eq!(v["message"], "plain");
    assert_eq!(v["fields"], serde_json::json!({"k": 1}));
}

#[test]
fn a_line_without_message() {
    let v = one(|| tracing::info!(target: "t", k = 1));
    assert_eq!(v["message"], "");
    assert_eq!(v["fields"], serde_json::json!({"k": 1}));
}

#[test]
fn log_crate_events() {
    let v = one(|| {
        let _g = fixed_context().enter();
        log::error!(target: "legacy", "from log \"quoted\"");
    });
    assert_eq!(v["level"], "ERROR");
    assert_eq!(v["target"], "legacy");
    assert_eq!(v["message"], "from log \"quoted\"");
    assert_eq!(v["trace_id"], TRACE);
    assert!(v.get("fields").is_none(), "no log.* fields: {v}");
}

fn adversarial_strings() -> Vec<String> {
    let mut v: Vec<String> = vec![
        "\"quoted\" and 'single'".into(),
        "back\\slash \\\" \\u0000 \\n".into(),
        "new\nline\r\nand\ttab".into(),
        (0u8..0x20).map(char::from).collect::<String>() + "\u{7f}",
        "unicode: é ü 日本語 🦀 \u{200f}rtl\u{2028}\u{2029}\u{85}".into(),
        String::from_utf8_lossy(&[0xff, 0xfe, b'a', 0xc3, 0x28, 0xe2, 0x82]).into_owned(),
        "}]},\"injected\":{\"x\":1}".into(),
        "".into(),
        "\u{feff}bom".into(),
    ];
    // Deterministic pseudo-random strings over controls, ASCII, and multi-byte characters.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let pool: Vec<char> = (0u32..0x80)
        .chain([0x85, 0xa0, 0xe9, 0x2028, 0x2029, 0xfffd, 0x1f980, 0x10ffff])
        .filter_map(char::from_u32)
        .collect();
    for _ in 0..300 {
        let len = (next() % 24) as usize;
        v.push(
            (0..len)
                .map(|_| pool[(next() % pool.len() as u64) as usize])
                .collect(),
        );
    }
    v
}

#[test]
fn adversarial_messages_fields_mdc_and_spans_round_trip() {
    for s in adversarial_strings() {
        let input = s.clone();
        let v = one(move || {
            let ctx = fixed_context()
                .with_field("evil", &input)
                .with_field(&input, "as key");
            let _g = ctx.enter();
            let span = tracing::info_span!("span", value = %input, dbg = ?input);
            let _e = span.enter();
            let err = std::io::Error::other(input.clone());
            tracing::info!(
                field = input.as_str(),
                err = &err as &(dyn std::error::Error + 'static),
                bytes = ?input.as_bytes(),
                "{}",
                input
            );
        });
        assert_eq!(v["message"], s.as_str());
        assert_eq!(v["fields"]["field"], s.as_str());
        assert_eq!(v["fields"]["err"], s.as_str());
        assert_eq!(v["fields"]["bytes"], format!("{:?}", s.as_bytes()));
        assert_eq!(v["mdc"]["evil"], s.as_str());
        if s != "evil" && s != "tenant" && s != "user" {
            assert_eq!(v["mdc"][s.as_str()], "as key");
        }
        assert_eq!(v["spans"][0]["fields"]["value"], s.as_str());
        assert_eq!(v["spans"][0]["fields"]["dbg"], format!("{s:?}"));
    }
}

#[test]
fn adversarial_targets_and_thread_names() {
    log_bridge();
    let cap = Capture::default();
    let subscriber = trace_log::builder()
        .ignore_env()
        .default_filter("trace")
        .json()
        .writer(cap.clone())
        .subscriber()
        .unwrap();
    std::thread::Builder::new()
        .name("thread \"with\"\nnewline\\".into())
        .spawn(move || {
            tracing::subscriber::with_default(subscriber, || {
                log::info!(target: "weird \"target\"\n\u{1}", "m");
            })
        })
        .unwrap()
        .join()
        .unwrap();
    let v: Value = serde_json::from_str(cap.text().trim_end()).unwrap();
    assert_eq!(v["target"], "weird \"target\"\n\u{1}");
    assert_eq!(v["thread"], "thread \"with\"\nnewline\\");
}

#[test]
fn other_field_formatters_still_give_valid_json() {
    let cap = Capture::default();
    let layer = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .event_format(trace_log::Formatter::json())
        .with_writer(cap.clone());
    let subscriber = tracing_subscriber::registry()
        .with(trace_context::ContextLayer::new())
        .with(layer);
    tracing::subscriber::with_default(subscriber, || {
        let span = tracing::info_span!("s", a = "x\"y", b = 2);
        let _e = span.enter();
        tracing::info!("m");
    });
    let v: Value = serde_json::from_str(cap.text().trim_end()).unwrap();
    assert_eq!(v["spans"][0]["name"], "s");
    assert_eq!(v["spans"][0]["fields"], "a=\"x\\\"y\" b=2");
}

#[test]
fn json_timestamps_follow_the_time_zone() {
    let out = run_with(
        trace_log::builder()
            .json()
            .time_zone(trace_log::TimeZone::Fixed(2 * 3600)),
        || tracing::info!("x"),
    );
    let v: Value = serde_json::from_str(out.trim_end()).unwrap();
    assert!(v["timestamp"].as_str().unwrap().ends_with("+02:00"), "{v}");
}
