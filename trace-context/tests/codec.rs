//! Header codec edge cases: W3C `traceparent`/`tracestate` and B3 (single and multi), read through
//! the same entry point a server uses (`Propagation::extract`) as well as the low-level parsers.

use trace_context::codec::b3::{self, B3Context};
use trace_context::codec::w3c::{self, parse_tracestate, TraceParent, TraceParentError};
use trace_context::codec::{B3Style, Extracted, Propagation};
use trace_context::{Context, FollowUpstream, IdGenerator, Sampling, SpanId, TraceId};

const TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
const PARENT: &str = "b7ad6b7169203331";
const VALID_TP: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

fn extract(headers: &[(&str, &str)]) -> Extracted {
    Propagation::default().extract(headers)
}

fn w3c_only(headers: &[(&str, &str)]) -> Extracted {
    Propagation::default().b3_off().extract(headers)
}

fn b3_only(headers: &[(&str, &str)]) -> Extracted {
    Propagation::default().w3c(false).extract(headers)
}

fn ids(e: &Extracted) -> Option<(String, String)> {
    e.parent
        .as_ref()
        .map(|p| (p.trace_id.to_string(), p.span_id.to_string()))
}

// ---------------------------------------------------------------------------------------------
// W3C traceparent
// ---------------------------------------------------------------------------------------------

#[test]
fn w3c_valid_header_gives_parent_and_decision() {
    let got = w3c_only(&[("traceparent", VALID_TP)]);
    assert_eq!(ids(&got), Some((TRACE.into(), PARENT.into())));
    assert_eq!(got.sampling, Sampling::Sampled);

    let not = w3c_only(&[(
        "traceparent",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00",
    )]);
    assert_eq!(not.sampling, Sampling::NotSampled);
    assert!(not.parent.is_some());
}

#[test]
fn w3c_all_zero_ids_are_invalid() {
    assert_eq!(
        TraceParent::parse(b"00-00000000000000000000000000000000-b7ad6b7169203331-01"),
        Err(TraceParentError::TraceId)
    );
    assert_eq!(
        TraceParent::parse(b"00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01"),
        Err(TraceParentError::ParentId)
    );
    let got = w3c_only(&[(
        "traceparent",
        "00-00000000000000000000000000000000-b7ad6b7169203331-01",
    )]);
    assert!(got.parent.is_none());
    // No parent: the decision is the receiver's.
    assert_eq!(got.sampling, Sampling::Deferred);
}

#[test]
fn w3c_uppercase_hex_is_rejected_in_every_field() {
    for bad in [
        "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319C-b7ad6b7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319c-B7AD6B7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0A",
        "0A-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    ] {
        assert!(TraceParent::parse(bad.as_bytes()).is_err(), "{bad}");
        assert!(w3c_only(&[("traceparent", bad)]).parent.is_none(), "{bad}");
    }
}

#[test]
fn w3c_version_ff_is_rejected() {
    let bad = "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    assert_eq!(
        TraceParent::parse(bad.as_bytes()),
        Err(TraceParentError::Version)
    );
    assert!(w3c_only(&[("traceparent", bad)]).parent.is_none());
}

#[test]
fn w3c_higher_version_is_read_by_position_and_reemitted_as_00() {
    let future = "cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-what-the-future-holds";
    let tp = TraceParent::parse(future.as_bytes()).unwrap();
    assert_eq!(tp.trace_id.to_string(), TRACE);
    assert_eq!(tp.parent_id.to_string(), PARENT);
    assert!(tp.sampled());
    assert_eq!(tp.to_string(), VALID_TP);

    // A higher version exactly 55 long is fine too.
    assert!(TraceParent::parse(b"01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01").is_ok());
    // ...but after the flags there must be a '-' (or the end).
    assert_eq!(
        TraceParent::parse(b"01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01x"),
        Err(TraceParentError::Shape)
    );
    // Version 00 with anything after the flags is invalid.
    assert_eq!(
        TraceParent::parse(b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-"),
        Err(TraceParentError::Shape)
    );

    // Propagated onwards as version 00, same trace, our span as the parent.
    let got = w3c_only(&[("traceparent", future)]);
    let ctx = got.server_context(&IdGenerator::default(), &FollowUpstream);
    let mut out = std::collections::HashMap::new();
    Propagation::default().b3_off().inject(&ctx, &mut out);
    let tp = &out["traceparent"];
    assert!(tp.starts_with(&format!("00-{TRACE}-")), "{tp}");
    assert!(tp.contains(&ctx.span_id().to_string()));
}

#[test]
fn w3c_wrong_lengths_and_delimiters_are_rejected() {
    for bad in [
        "",
        "00",
        "00-0af7651916cd43dd8448eb211c80319-b7ad6b7169203331-01", // trace id 31
        "00-0af7651916cd43dd8448eb211c80319cc-b7ad6b7169203331-01", // trace id 33
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b716920333-01", // span id 15
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1",
        "0-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "00_0af7651916cd43dd8448eb211c80319c_b7ad6b7169203331_01",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0g",
        "00-0af7651916cd43dd8448eb211c80319g-b7ad6b7169203331-01",
        "00-+af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    ] {
        assert!(TraceParent::parse(bad.as_bytes()).is_err(), "{bad:?}");
    }
}

#[test]
fn w3c_duplicate_traceparent_restarts_the_trace() {
    // Even two identical headers: the spec says invalid.
    let got = w3c_only(&[("traceparent", VALID_TP), ("traceparent", VALID_TP)]);
    assert!(got.parent.is_none());
    assert_eq!(got.sampling, Sampling::Deferred);
    // The same through an http::HeaderMap.
    let mut map = http::HeaderMap::new();
    map.append("traceparent", VALID_TP.parse().unwrap());
    map.append(
        "traceparent",
        "00-11111111111111111111111111111111-2222222222222222-01"
            .parse()
            .unwrap(),
    );
    let got = Propagation::default().b3_off().extract(&map);
    assert!(got.parent.is_none());
    let ctx = got.server_context(&IdGenerator::default(), &FollowUpstream);
    assert_ne!(ctx.trace_id().to_string(), TRACE);
    assert!(!ctx.remote_parent());
}

#[test]
fn w3c_surrounding_spaces_and_tabs_are_tolerated() {
    for v in [
        format!(" {VALID_TP}"),
        format!("{VALID_TP}\t"),
        format!(" \t {VALID_TP} \t "),
    ] {
        let got = w3c_only(&[("traceparent", v.as_str())]);
        assert_eq!(ids(&got), Some((TRACE.into(), PARENT.into())), "{v:?}");
    }
    // Inner whitespace is not.
    assert!(
        TraceParent::parse(b"00- 0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01").is_err()
    );
}

#[test]
fn w3c_flags_keep_sampled_and_random_only() {
    let tp =
        TraceParent::parse(b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03").unwrap();
    assert!(tp.sampled() && tp.random());
    let tp =
        TraceParent::parse(b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-fe").unwrap();
    assert!(!tp.sampled());
    assert!(tp.random());
    assert_eq!(tp.flags, w3c::FLAG_RANDOM);
    // The random flag is carried to the next hop.
    let got = w3c_only(&[(
        "traceparent",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03",
    )]);
    assert!(got.parent.as_ref().unwrap().random_trace_id);
    let ctx = got.server_context(&IdGenerator::default(), &FollowUpstream);
    let mut out = std::collections::HashMap::new();
    Propagation::default().b3_off().inject(&ctx, &mut out);
    assert!(
        out["traceparent"].ends_with("-03"),
        "{}",
        out["traceparent"]
    );
}

#[test]
fn w3c_invalid_traceparent_drops_tracestate() {
    let got = w3c_only(&[
        ("traceparent", "00-xyz"),
        ("tracestate", "congo=t61rcWkgMzE"),
    ]);
    assert!(got.parent.is_none());
    let ctx = got.server_context(&IdGenerator::default(), &FollowUpstream);
    assert_eq!(ctx.tracestate(), None);
}

// ---------------------------------------------------------------------------------------------
// W3C tracestate
// ---------------------------------------------------------------------------------------------

#[test]
fn tracestate_is_passed_through_joined_in_order() {
    let got = w3c_only(&[
        ("traceparent", VALID_TP),
        ("tracestate", "rojo=00f067aa0ba902b7"),
        ("tracestate", " congo=t61rcWkgMzE "),
    ]);
    let ctx = got.server_context(&IdGenerator::default(), &FollowUpstream);
    assert_eq!(
        ctx.tracestate(),
        Some("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE")
    );
    let mut out = std::collections::HashMap::new();
    Propagation::default().inject(&ctx.child(), &mut out);
    assert_eq!(out["tracestate"], "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
}

#[test]
fn tracestate_member_bounds() {
    let list = |n: usize| {
        (0..n)
            .map(|i| format!("k{i}=v{i}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    assert!(parse_tracestate(&[list(32).as_bytes()]).is_some());
    assert_eq!(parse_tracestate(&[list(33).as_bytes()]), None);
    // Empty members do not count (the spec allows them).
    let with_empty = format!("{},,, ,", list(32));
    assert!(parse_tracestate(&[with_empty.as_bytes()]).is_some());
}

#[test]
fn tracestate_key_and_value_bounds() {
    let key256 = format!("a{}", "b".repeat(255));
    let key257 = format!("a{}", "b".repeat(256));
    let val256 = "v".repeat(256);
    let val257 = "v".repeat(257);
    assert!(parse_tracestate(&[format!("{key256}=1").as_bytes()]).is_some());
    assert!(parse_tracestate(&[format!("{key257}=1").as_bytes()]).is_none());
    assert!(parse_tracestate(&[format!("k={val256}").as_bytes()]).is_some());
    assert!(parse_tracestate(&[format!("k={val257}").as_bytes()]).is_none());
    // Multi-tenant keys: tenant up to 241, system up to 14, system starts with a letter.
    let tenant241 = format!("t{}", "e".repeat(240));
    assert!(parse_tracestate(&[format!("{tenant241}@sys=1").as_bytes()]).is_some());
    let tenant242 = format!("t{}", "e".repeat(241));
    assert!(parse_tracestate(&[format!("{tenant242}@sys=1").as_bytes()]).is_none());
    assert!(parse_tracestate(&[b"t@abcdefghijklmn=1".as_slice()]).is_some());
    assert!(parse_tracestate(&[b"t@abcdefghijklmno=1".as_slice()]).is_none());
    assert!(parse_tracestate(&[b"t@1sys=1".as_slice()]).is_none());
    assert!(parse_tracestate(&[b"@sys=1".as_slice()]).is_none());
    assert!(parse_tracestate(&[b"t@=1".as_slice()]).is_none());
    // Keys: lowercase, start with a letter or digit.
    assert!(parse_tracestate(&[b"Key=1".as_slice()]).is_none());
    assert!(parse_tracestate(&[b"_k=1".as_slice()]).is_none());
    assert!(parse_tracestate(&[b"0k_-*/=1".as_slice()]).is_some());
    // Values: printable ASCII without ',' and '=', not ending in a space.
    assert!(parse_tracestate(&[b"k=a=b".as_slice()]).is_none());
    assert!(parse_tracestate(&[b"k=caf\xc3\xa9".as_slice()]).is_none());
    assert!(parse_tracestate(&[b"k=a\x7f".as_slice()]).is_none());
    // Missing '=' and duplicate keys invalidate the whole list.
    assert!(parse_tracestate(&[b"a=1,b".as_slice()]).is_none());
    assert!(parse_tracestate(&[b"a=1".as_slice(), b"a=2"]).is_none());
}

#[test]
fn tracestate_too_large_is_dropped_not_truncated() {
    // 32 members that are each valid, but more bytes than the reader's budget: dropped whole.
    let member = |i: usize| format!("k{i:02}={}", "v".repeat(256));
    let huge = (0..32).map(member).collect::<Vec<_>>().join(",");
    assert!(huge.len() > w3c::MAX_TRACESTATE_BYTES);
    assert_eq!(parse_tracestate(&[huge.as_bytes()]), None);
    // Under the budget the same kind of list is kept verbatim.
    let big = (0..20).map(member).collect::<Vec<_>>().join(",");
    assert_eq!(
        parse_tracestate(&[big.as_bytes()]).as_deref(),
        Some(big.as_str())
    );
    let got = w3c_only(&[("traceparent", VALID_TP), ("tracestate", huge.as_str())]);
    // The parent survives; only tracestate is dropped.
    assert!(got.parent.is_some());
    assert_eq!(got.parent.unwrap().tracestate, None);

    // More tracestate headers than the reader keeps: dropped as a whole.
    let mut headers = vec![("traceparent", VALID_TP)];
    let names: Vec<String> = (0..9).map(|i| format!("k{i}=v")).collect();
    for n in &names {
        headers.push(("tracestate", n.as_str()));
    }
    let got = w3c_only(&headers);
    assert!(got.parent.is_some());
    assert_eq!(got.parent.unwrap().tracestate, None);
}

// ---------------------------------------------------------------------------------------------
// B3
// ---------------------------------------------------------------------------------------------

const B3_TRACE: &str = "80f198ee56343ba864fe8b2a57d3eff7";
const B3_SPAN: &str = "e457b5a2e4d86bd1";
const B3_PARENT: &str = "05e3ac9a4f6e3b90";

#[test]
fn b3_single_full_form() {
    let v = format!("{B3_TRACE}-{B3_SPAN}-1-{B3_PARENT}");
    let b = B3Context::parse_single(v.as_bytes()).unwrap();
    let (t, s) = b.ids.unwrap();
    assert_eq!(t.to_string(), B3_TRACE);
    assert_eq!(s.to_string(), B3_SPAN);
    assert_eq!(b.parent_span_id.unwrap().to_string(), B3_PARENT);
    assert_eq!(b.sampling, Sampling::Sampled);

    let got = b3_only(&[("b3", v.as_str())]);
    assert_eq!(ids(&got), Some((B3_TRACE.into(), B3_SPAN.into())));
    assert_eq!(got.sampling, Sampling::Sampled);
}

#[test]
fn b3_single_sampling_forms() {
    for (v, want) in [
        ("0", Sampling::NotSampled),
        ("1", Sampling::Sampled),
        ("d", Sampling::Debug),
        (" 0 ", Sampling::NotSampled),
    ] {
        let got = b3_only(&[("b3", v)]);
        assert!(got.parent.is_none(), "{v}");
        assert_eq!(got.sampling, want, "{v}");
    }
    // b3: 0 makes the server context unsampled, on a fresh trace.
    let ctx = b3_only(&[("b3", "0")]).server_context(&IdGenerator::default(), &FollowUpstream);
    assert!(!ctx.is_sampled());
    assert!(ctx.parent_span_id().is_none());
    // b3: d is debug, whatever the sampler says.
    struct Never;
    impl trace_context::Sampler for Never {
        fn should_sample(&self, _: TraceId, _: Sampling) -> bool {
            false
        }
    }
    let ctx = b3_only(&[("b3", "d")]).server_context(&IdGenerator::default(), &Never);
    assert_eq!(ctx.sampling(), Sampling::Debug);
    assert!(ctx.is_sampled());
    // Without a flag the decision is deferred.
    let v = format!("{B3_TRACE}-{B3_SPAN}");
    assert_eq!(b3_only(&[("b3", v.as_str())]).sampling, Sampling::Deferred);
    let v = format!("{B3_TRACE}-{B3_SPAN}-d");
    assert_eq!(b3_only(&[("b3", v.as_str())]).sampling, Sampling::Debug);
}

#[test]
fn b3_64bit_trace_ids() {
    let v = format!("463ac35c9f6413ad-{B3_SPAN}-1");
    let got = b3_only(&[("b3", v.as_str())]);
    let p = got.parent.unwrap();
    assert!(p.trace_id.is_64bit());
    assert_eq!(p.trace_id.to_string(), "0000000000000000463ac35c9f6413ad");
    assert_eq!(&*p.trace_id.to_zipkin_hex(), "463ac35c9f6413ad");
    // Written back as 16 hex, as received.
    let ctx = Context::builder(p.trace_id).build();
    let mut out = std::collections::HashMap::new();
    Propagation::default()
        .w3c(false)
        .app_id(false)
        .inject(&ctx, &mut out);
    assert_eq!(out["x-b3-traceid"], "463ac35c9f6413ad");
    let single = b3::encode_single(p.trace_id, p.span_id, Sampling::Sampled, None);
    assert_eq!(single, format!("463ac35c9f6413ad-{B3_SPAN}-1"));

    let multi = b3_only(&[
        ("x-b3-traceid", "463ac35c9f6413ad"),
        ("x-b3-spanid", "a2fb4a1d1a96d312"),
    ]);
    assert_eq!(
        multi.parent.unwrap().trace_id.to_u128(),
        0x463ac35c9f6413ad_u128
    );
    // Other lengths are malformed.
    for t in ["463ac35c9f6413a", "463ac35c9f6413ad0", "0463ac35c9f6413ad"] {
        let v = format!("{t}-{B3_SPAN}");
        assert!(B3Context::parse_single(v.as_bytes()).is_none(), "{t}");
    }
}

#[test]
fn b3_single_wins_over_multi() {
    let single = format!("{B3_TRACE}-{B3_SPAN}-0");
    let got = b3_only(&[
        ("x-b3-traceid", "463ac35c9f6413ad"),
        ("x-b3-spanid", "a2fb4a1d1a96d312"),
        ("x-b3-sampled", "1"),
        ("b3", single.as_str()),
    ]);
    assert_eq!(ids(&got), Some((B3_TRACE.into(), B3_SPAN.into())));
    assert_eq!(got.sampling, Sampling::NotSampled);
}

#[test]
fn b3_malformed_single_falls_back_to_multi() {
    let got = b3_only(&[
        ("b3", "80F198EE56343BA864FE8B2A57D3EFF7-e457b5a2e4d86bd1-1"),
        ("x-b3-traceid", "463ac35c9f6413ad"),
        ("x-b3-spanid", "a2fb4a1d1a96d312"),
    ]);
    assert_eq!(
        ids(&got),
        Some((
            "0000000000000000463ac35c9f6413ad".into(),
            "a2fb4a1d1a96d312".into()
        ))
    );
}

#[test]
fn b3_first_value_wins_when_repeated() {
    let first = format!("{B3_TRACE}-{B3_SPAN}-1");
    let got = b3_only(&[
        ("b3", first.as_str()),
        ("b3", "463ac35c9f6413ad-a2fb4a1d1a96d312-0"),
    ]);
    assert_eq!(ids(&got), Some((B3_TRACE.into(), B3_SPAN.into())));
    assert_eq!(got.sampling, Sampling::Sampled);

    let got = b3_only(&[
        ("x-b3-traceid", "463ac35c9f6413ad"),
        ("x-b3-traceid", B3_TRACE),
        ("x-b3-spanid", "a2fb4a1d1a96d312"),
        ("x-b3-spanid", B3_SPAN),
        ("x-b3-sampled", "0"),
        ("x-b3-sampled", "1"),
    ]);
    assert_eq!(
        ids(&got),
        Some((
            "0000000000000000463ac35c9f6413ad".into(),
            "a2fb4a1d1a96d312".into()
        ))
    );
    assert_eq!(got.sampling, Sampling::NotSampled);
}

#[test]
fn b3_malformed_restarts_the_trace() {
    let malformed_single = [
        "".to_string(),
        "-".to_string(),
        "x".to_string(),
        "2".to_string(),
        B3_TRACE.to_string(),
        format!("{B3_TRACE}-"),
        format!("{B3_TRACE}-{B3_SPAN}-"),
        format!("{B3_TRACE}-{B3_SPAN}-x"),
        format!("{B3_TRACE}-{B3_SPAN}-true"),
        format!("{B3_TRACE}-{B3_SPAN}-1-"),
        format!("{B3_TRACE}-{B3_SPAN}-1-{B3_PARENT}-extra"),
        format!("{B3_TRACE}-{B3_SPAN}-1-0000000000000000"),
        format!("{B3_TRACE}-0000000000000000-1"),
        format!("{}-{B3_SPAN}", "0".repeat(32)),
        format!("{}-{B3_SPAN}", "0".repeat(16)),
        format!("{}-{B3_SPAN}", B3_TRACE.to_uppercase()),
        format!("{B3_TRACE}-{}", B3_SPAN.to_uppercase()),
        format!("{B3_TRACE}-{B3_SPAN}-D"),
        format!("{B3_TRACE}--{B3_SPAN}"),
    ];
    for v in &malformed_single {
        assert!(B3Context::parse_single(v.as_bytes()).is_none(), "{v:?}");
        let got = b3_only(&[("b3", v.as_str())]);
        assert!(got.parent.is_none(), "{v:?}");
        assert_eq!(got.sampling, Sampling::Deferred, "{v:?}");
        let ctx = got.server_context(&IdGenerator::default(), &FollowUpstream);
        assert_ne!(ctx.trace_id().to_string(), B3_TRACE, "{v:?}");
        assert!(!ctx.remote_parent());
    }

    let malformed_multi: [&[(&str, &str)]; 8] = [
        &[("x-b3-traceid", B3_TRACE)],
        &[("x-b3-spanid", B3_SPAN)],
        &[
            ("x-b3-traceid", B3_TRACE),
            ("x-b3-spanid", "e457b5a2e4d86bd"),
        ],
        &[
            ("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff"),
            ("x-b3-spanid", B3_SPAN),
        ],
        &[
            ("x-b3-traceid", B3_TRACE),
            ("x-b3-spanid", "0000000000000000"),
        ],
        &[
            ("x-b3-traceid", B3_TRACE),
            ("x-b3-spanid", B3_SPAN),
            ("x-b3-sampled", "yes"),
        ],
        &[
            ("x-b3-traceid", B3_TRACE),
            ("x-b3-spanid", B3_SPAN),
            ("x-b3-parentspanid", "zz"),
        ],
        &[
            ("x-b3-traceid", "80F198EE56343BA864FE8B2A57D3EFF7"),
            ("x-b3-spanid", B3_SPAN),
        ],
    ];
    for h in malformed_multi {
        let got = b3_only(h);
        assert!(got.parent.is_none(), "{h:?}");
        assert_eq!(got.sampling, Sampling::Deferred, "{h:?}");
    }
}

#[test]
fn b3_multi_sampling_and_flags() {
    let base = [("x-b3-traceid", B3_TRACE), ("x-b3-spanid", B3_SPAN)];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut h: Vec<(&str, &str)> = base.to_vec();
        h.extend_from_slice(extra);
        b3_only(&h)
    };
    assert_eq!(with(&[]).sampling, Sampling::Deferred);
    assert_eq!(with(&[("x-b3-sampled", "1")]).sampling, Sampling::Sampled);
    assert_eq!(
        with(&[("x-b3-sampled", "true")]).sampling,
        Sampling::Sampled
    );
    assert_eq!(
        with(&[("x-b3-sampled", "0")]).sampling,
        Sampling::NotSampled
    );
    assert_eq!(
        with(&[("x-b3-sampled", "false")]).sampling,
        Sampling::NotSampled
    );
    assert_eq!(with(&[("x-b3-flags", "1")]).sampling, Sampling::Debug);
    // Flags other than 1 are not debug; the Sampled header still counts.
    assert_eq!(
        with(&[("x-b3-flags", "0"), ("x-b3-sampled", "1")]).sampling,
        Sampling::Sampled
    );
    let p = with(&[("x-b3-parentspanid", B3_PARENT)]);
    assert_eq!(ids(&p), Some((B3_TRACE.into(), B3_SPAN.into())));
    // Sampling-only multi form: a decision without ids.
    let only = b3_only(&[("x-b3-sampled", "0")]);
    assert!(only.parent.is_none());
    assert_eq!(only.sampling, Sampling::NotSampled);
    let only = b3_only(&[("x-b3-flags", "1")]);
    assert_eq!(only.sampling, Sampling::Debug);
    // Header names are case-insensitive on a slice carrier and on a HeaderMap.
    let got = b3_only(&[("X-B3-TraceId", B3_TRACE), ("X-B3-SpanId", B3_SPAN)]);
    assert!(got.parent.is_some());
}

#[test]
fn b3_inject_forms() {
    let t = TraceId::parse(B3_TRACE).unwrap();
    let parent = SpanId::parse(B3_PARENT).unwrap();
    let ctx = Context::builder(t)
        .span_id(SpanId::parse(B3_SPAN).unwrap())
        .parent_span_id(Some(parent))
        .sampling(Sampling::Debug)
        .build();
    let mut out = std::collections::HashMap::new();
    Propagation::default()
        .w3c(false)
        .app_id(false)
        .b3_style(B3Style::Single)
        .inject(&ctx, &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(out["b3"], format!("{B3_TRACE}-{B3_SPAN}-d-{B3_PARENT}"));

    let mut out = http::HeaderMap::new();
    Propagation::default()
        .w3c(false)
        .app_id(false)
        .inject(&ctx, &mut out);
    assert_eq!(out["x-b3-traceid"], B3_TRACE);
    assert_eq!(out["x-b3-spanid"], B3_SPAN);
    assert_eq!(out["x-b3-parentspanid"], B3_PARENT);
    assert_eq!(out["x-b3-flags"], "1");
    assert!(out.get("x-b3-sampled").is_none());

    // What we write, we read back.
    let back = Propagation::default().w3c(false).extract(&out);
    assert_eq!(ids(&back), Some((B3_TRACE.into(), B3_SPAN.into())));
    assert_eq!(back.sampling, Sampling::Debug);
}

#[test]
fn traceparent_wins_over_b3_and_invalid_traceparent_falls_back_to_b3() {
    let single = format!("{B3_TRACE}-{B3_SPAN}-0");
    let got = extract(&[("traceparent", VALID_TP), ("b3", single.as_str())]);
    assert_eq!(ids(&got), Some((TRACE.into(), PARENT.into())));
    assert_eq!(got.sampling, Sampling::Sampled);

    let got = extract(&[("traceparent", "garbage"), ("b3", single.as_str())]);
    assert_eq!(ids(&got), Some((B3_TRACE.into(), B3_SPAN.into())));
    assert_eq!(got.sampling, Sampling::NotSampled);
}

#[test]
fn app_id_and_parent_together() {
    let got = extract(&[
        ("x-app-trace-id", "web-1716268000123-42"),
        ("traceparent", VALID_TP),
    ]);
    let ctx = got.server_context(&IdGenerator::default(), &FollowUpstream);
    // The wire parent gives the trace; the app id is kept verbatim beside it.
    assert_eq!(ctx.trace_id().to_string(), TRACE);
    assert_eq!(ctx.app_trace_id().unwrap().as_str(), "web-1716268000123-42");
    assert_eq!(&*ctx.get("appTraceId").unwrap(), "web-1716268000123-42");

    // No parent: a hex-shaped app id is the trace id (lowercased), echoed as received.
    let got = extract(&[("x-app-trace-id", "4BF92F35-77B3-4DA6-A3CE-929D0E0E4736")]);
    let ctx = got.server_context(&IdGenerator::default(), &FollowUpstream);
    assert_eq!(
        ctx.trace_id().to_string(),
        "4bf92f3577b34da6a3ce929d0e0e4736"
    );
    let mut out = http::HeaderMap::new();
    Propagation::default().inject(&ctx, &mut out);
    assert_eq!(
        out["x-app-trace-id"],
        "4BF92F35-77B3-4DA6-A3CE-929D0E0E4736"
    );
    assert!(out["traceparent"]
        .to_str()
        .unwrap()
        .contains("4bf92f3577b34da6a3ce929d0e0e4736"));

    // Otherwise the trace id is derived, the same in every service.
    let a = extract(&[("x-app-trace-id", "order-77")])
        .server_context(&IdGenerator::default(), &FollowUpstream);
    let b = extract(&[("x-app-trace-id", "order-77")])
        .server_context(&IdGenerator::default(), &FollowUpstream);
    assert_eq!(a.trace_id(), b.trace_id());
    assert_eq!(a.trace_id(), trace_context::derive_trace_id("order-77"));
    assert_ne!(a.span_id(), b.span_id());
}

#[test]
fn inject_never_overwrites_existing_headers() {
    let ctx = Context::new_root();
    let mut out = http::HeaderMap::new();
    out.insert("traceparent", VALID_TP.parse().unwrap());
    out.insert("x-app-trace-id", "mine".parse().unwrap());
    out.insert("b3", "0".parse().unwrap());
    Propagation::default().inject(&ctx, &mut out);
    assert_eq!(out["traceparent"], VALID_TP);
    assert_eq!(out["x-app-trace-id"], "mine");
    // An existing b3 header means B3 is already decided (a reporter's `b3: 0`).
    assert!(out.get("x-b3-traceid").is_none());
}

#[test]
fn only_built_in_generators_flag_minted_ids_as_random() {
    let sequential = std::sync::atomic::AtomicU64::new(1);
    let custom = IdGenerator::custom(move || {
        let n = sequential.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        TraceId::from_u128(u128::from(n)).unwrap()
    });
    for (generator, random) in [
        (IdGenerator::default(), true),
        (IdGenerator::uuid_v4(), true),
        (IdGenerator::uuid_v7(), true),
        (custom, false),
    ] {
        let ctx = extract(&[]).server_context(&generator, &FollowUpstream);
        assert_eq!(ctx.random_trace_id(), random, "{generator:?}");
        assert_eq!(Context::new_root_with(&generator).random_trace_id(), random);
        let mut out = std::collections::HashMap::new();
        Propagation::default().inject(&ctx, &mut out);
        let flags = if random { "-03" } else { "-01" };
        assert!(
            out["traceparent"].ends_with(flags),
            "{generator:?}: {}",
            out["traceparent"]
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The `http::HeaderMap` entry point a server uses gives what `extract` gives
// ---------------------------------------------------------------------------------------------

#[test]
fn extract_header_map_agrees_with_extract() {
    let app_uuid = "5F0C6A7E-1b2d-4c3e-9f4a-6b7c8d9e0f1a";
    let cases: Vec<Vec<(&str, &str)>> = vec![
        vec![],
        vec![("accept", "*/*"), ("user-agent", "curl/8")],
        vec![("x-app-trace-id", app_uuid)],
        vec![
            ("x-app-trace-id", "web-1716268000123-42"),
            ("x-app-trace-id", "second"),
        ],
        vec![("x-app-trace-id", "not valid"), ("traceparent", VALID_TP)],
        vec![("x-app-trace-id", "a"), ("x-request-id", "req-7")],
        vec![
            ("traceparent", VALID_TP),
            ("tracestate", "a=1"),
            ("tracestate", "b=2"),
        ],
        vec![("traceparent", VALID_TP), ("traceparent", VALID_TP)],
        vec![(
            "traceparent",
            "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",
        )],
        vec![("b3", "0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-d")],
        vec![
            ("x-b3-traceid", "a3ce929d0e0e4736"),
            ("x-b3-spanid", "00f067aa0ba902b7"),
            ("x-b3-sampled", "0"),
            ("x-app-trace-id", "order-9"),
        ],
        vec![("x-b3-flags", "1")],
        vec![("traceparent", "garbage"), ("b3", "1")],
    ];
    let mut many_states: Vec<(&str, &str)> = vec![("traceparent", VALID_TP)];
    many_states.extend(std::iter::repeat_n(("tracestate", "k=v"), 9));
    let mut cases = cases;
    cases.push(many_states);
    let configs = [
        Propagation::default(),
        Propagation::default().b3_off(),
        Propagation::default().w3c(false),
        Propagation::default().app_id(false),
        Propagation::default().app_header("X-Request-Id"),
        Propagation::default().max_app_id_len(10),
    ];
    for headers in &cases {
        let mut map = http::HeaderMap::new();
        for (name, value) in headers {
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                http::HeaderValue::from_str(value).unwrap(),
            );
        }
        for config in &configs {
            let want = config.extract(headers.as_slice());
            let (got, received) = config.extract_header_map(&map);
            assert_eq!(
                format!("{got:?}"),
                format!("{want:?}"),
                "{headers:?} {config:?}"
            );
            assert_eq!(
                format!("{:?}", config.extract(&map)),
                format!("{want:?}"),
                "{headers:?} {config:?}"
            );
            // The received header is handed back exactly when its value was accepted.
            match (&got.app_trace_id, config.app_header_name()) {
                (Some(app), Some(name)) => {
                    let received = received.expect("the accepted header");
                    assert_eq!(received, map.get(name).unwrap());
                    assert_eq!(received.as_bytes(), app.as_str().as_bytes());
                }
                _ => assert!(received.is_none(), "{headers:?} {config:?}"),
            }
        }
    }
}
