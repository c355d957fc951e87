//! Differential test: the same header sets (valid and malformed) through OpenTelemetry's own W3C
//! (`opentelemetry_sdk::propagation::TraceContextPropagator`) and B3
//! (`opentelemetry_zipkin::Propagator`) propagators and through ours. Both must agree, except in
//! the cases listed as deliberate differences, each with the reason.
//!
//! The OpenTelemetry side reads headers like `opentelemetry-http`'s `HeaderExtractor` does (the
//! first value of a name, case-insensitive).
// opentelemetry-zipkin 0.33 marks its whole API deprecated (in favour of OTLP); its B3 propagator
// is still the reference B3 implementation of the OpenTelemetry Rust project.
#![allow(deprecated)]

use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::TraceContextExt;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_zipkin::{B3Encoding, Propagator as B3Propagator};
use trace_context::codec::{Extracted, Propagation};
use trace_context::Sampling;

type Headers = &'static [(&'static str, &'static str)];

/// What a propagator made of the headers: the remote parent's ids (if it accepted one) and the
/// caller's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Outcome {
    ids: Option<(u128, u64)>,
    decision: Decision,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Deferred,
    Sampled,
    NotSampled,
    Debug,
}

const NOTHING: Outcome = Outcome {
    ids: None,
    decision: Decision::Deferred,
};

fn ours_outcome(e: Extracted) -> Outcome {
    Outcome {
        ids: e.parent.map(|p| (p.trace_id.to_u128(), p.span_id.to_u64())),
        decision: match e.sampling {
            Sampling::Deferred => Decision::Deferred,
            Sampling::Sampled => Decision::Sampled,
            Sampling::NotSampled => Decision::NotSampled,
            Sampling::Debug => Decision::Debug,
        },
    }
}

struct FirstValue(Headers);

impl Extractor for FirstValue {
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| *v)
    }

    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(k, _)| *k).collect()
    }
}

fn otel_outcome(p: &dyn TextMapPropagator, h: Headers) -> Outcome {
    let cx = p.extract(&FirstValue(h));
    let span = cx.span();
    let sc = span.span_context();
    if !sc.is_valid() {
        return NOTHING;
    }
    let flags = sc.trace_flags().to_u8();
    // opentelemetry-zipkin's private flag bits: 0x04 debug, 0x02 deferred.
    let decision = if flags & 0x04 != 0 {
        Decision::Debug
    } else if flags & 0x02 != 0 {
        Decision::Deferred
    } else if sc.is_sampled() {
        Decision::Sampled
    } else {
        Decision::NotSampled
    };
    Outcome {
        ids: Some((
            u128::from_be_bytes(sc.trace_id().to_bytes()),
            u64::from_be_bytes(sc.span_id().to_bytes()),
        )),
        decision,
    }
}

fn ours_w3c(h: Headers) -> Outcome {
    ours_outcome(Propagation::default().b3_off().app_id(false).extract(h))
}

fn otel_w3c(h: Headers) -> Outcome {
    otel_outcome(&TraceContextPropagator::new(), h)
}

fn ours_b3(h: Headers) -> Outcome {
    ours_outcome(Propagation::default().w3c(false).app_id(false).extract(h))
}

/// opentelemetry-zipkin accepts `d` only when configured for the single header and `true` only
/// when not; each case picks the configuration its input is written for.
fn otel_b3(h: Headers) -> Outcome {
    let single = h.iter().any(|(k, _)| k.eq_ignore_ascii_case("b3"));
    let encoding = if single {
        B3Encoding::SingleAndMultiHeader
    } else {
        B3Encoding::MultipleHeader
    };
    otel_outcome(&B3Propagator::with_encoding(encoding), h)
}

const T: u128 = 0x0af7651916cd43dd8448eb211c80319c;
const S: u64 = 0xb7ad6b7169203331;

fn sampled(t: u128, s: u64) -> Outcome {
    Outcome {
        ids: Some((t, s)),
        decision: Decision::Sampled,
    }
}

fn with(t: u128, s: u64, decision: Decision) -> Outcome {
    Outcome {
        ids: Some((t, s)),
        decision,
    }
}

// ---------------------------------------------------------------------------------------------
// W3C
// ---------------------------------------------------------------------------------------------

const W3C_AGREE: &[Headers] = &[
    &[(
        "traceparent",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    )],
    &[(
        "traceparent",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00",
    )],
    &[(
        "traceparent",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-ff",
    )],
    &[(
        "traceparent",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-02",
    )],
    &[(
        "TraceParent",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    )],
    &[(
        "traceparent",
        "  00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01 ",
    )],
    &[(
        "traceparent",
        "\t00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\t",
    )],
    &[(
        "traceparent",
        "cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-what-the-future-holds",
    )],
    &[(
        "traceparent",
        "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    )],
    &[
        (
            "traceparent",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        ),
        ("tracestate", "a=1,a=2"),
    ],
    // Malformed: both start a new trace.
    &[(
        "traceparent",
        "00-00000000000000000000000000000000-b7ad6b7169203331-01",
    )],
    &[(
        "traceparent",
        "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
    )],
    &[(
        "traceparent",
        "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",
    )],
    &[(
        "traceparent",
        "00-0af7651916cd43dd8448eb211c80319c-B7AD6B7169203331-01",
    )],
    &[(
        "traceparent",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0A",
    )],
    &[(
        "traceparent",
        "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    )],
    &[(
        "traceparent",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra",
    )],
    &[(
        "traceparent",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01x",
    )],
    &[(
        "traceparent",
        "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01x",
    )],
    &[(
        "traceparent",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0g",
    )],
    &[(
        "traceparent",
        "00-0af7651916cd43dd8448eb211c80319g-b7ad6b7169203331-01",
    )],
    &[(
        "traceparent",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",
    )],
    &[(
        "traceparent",
        "00_0af7651916cd43dd8448eb211c80319c_b7ad6b7169203331_01",
    )],
    &[(
        "traceparent",
        "zz-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    )],
    &[("traceparent", "")],
    &[("traceparent", "-")],
    &[("traceparent", "---")],
    &[("traceparent", "garbage")],
    &[],
];

#[test]
fn w3c_agrees_with_opentelemetry() {
    let mut accepted = 0;
    for &h in W3C_AGREE {
        let (ours, otel) = (ours_w3c(h), otel_w3c(h));
        assert_eq!(ours, otel, "{h:?}");
        accepted += usize::from(ours.ids.is_some());
    }
    // The table holds both kinds; a propagator that accepted nothing would not pass.
    assert_eq!(accepted, 10);
    assert_eq!(ours_w3c(W3C_AGREE[0]), sampled(T, S));
}

/// Deliberate differences: OpenTelemetry 0.33 parses each field with `from_str_radix`, which
/// accepts any length up to the type's width and a leading `+`; the W3C grammar is
/// `2HEXDIGLC "-" 32HEXDIGLC "-" 16HEXDIGLC "-" 2HEXDIGLC`. It also reads only the first of
/// several `traceparent` headers, where the spec says two headers are invalid. We follow the
/// spec (and its conformance suite), so a malformed parent restarts the trace.
#[test]
fn w3c_deliberate_differences() {
    let cases: &[(Headers, &str)] = &[
        (
            &[(
                "traceparent",
                "00-0af7651916cd43dd8448eb211c8031-b7ad6b7169203331-01",
            )],
            "trace-id of 30 digits: the spec requires exactly 32",
        ),
        (
            &[(
                "traceparent",
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b716920333-01",
            )],
            "parent-id of 15 digits: the spec requires exactly 16",
        ),
        (
            &[(
                "traceparent",
                "00-+af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            )],
            "a '+' is not a hex digit (from_str_radix takes it as a sign)",
        ),
        (
            &[(
                "traceparent",
                "0-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            )],
            "version must be two digits",
        ),
        (
            &[(
                "traceparent",
                "0A-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            )],
            "version must be lowercase hex (HEXDIGLC)",
        ),
        (
            &[
                (
                    "traceparent",
                    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                ),
                (
                    "traceparent",
                    "00-11111111111111111111111111111111-2222222222222222-01",
                ),
            ],
            "two traceparent headers are invalid: restart the trace",
        ),
    ];
    for (h, why) in cases {
        let (ours, otel) = (ours_w3c(h), otel_w3c(h));
        assert_eq!(ours, NOTHING, "{why}: {h:?}");
        assert!(
            otel.ids.is_some(),
            "OpenTelemetry now rejects it too ({why}): {h:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// B3
// ---------------------------------------------------------------------------------------------

const BT: u128 = 0x80f198ee56343ba864fe8b2a57d3eff7;
const BS: u64 = 0xe457b5a2e4d86bd1;

const B3_AGREE: &[Headers] = &[
    // Single header.
    &[(
        "b3",
        "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90",
    )],
    &[("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1")],
    &[("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-0")],
    &[("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-d")],
    &[("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1")],
    &[("b3", "64fe8b2a57d3eff7-e457b5a2e4d86bd1-1")],
    // Single header wins over the multi form.
    &[
        ("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-0"),
        ("x-b3-traceid", "463ac35c9f6413ad"),
        ("x-b3-spanid", "a2fb4a1d1a96d312"),
        ("x-b3-sampled", "1"),
    ],
    // A malformed single header falls back to the multi form.
    &[
        ("b3", "80F198EE56343BA864FE8B2A57D3EFF7-e457b5a2e4d86bd1-1"),
        ("x-b3-traceid", "463ac35c9f6413ad"),
        ("x-b3-spanid", "a2fb4a1d1a96d312"),
        ("x-b3-sampled", "1"),
    ],
    // First value wins.
    &[
        ("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1"),
        ("b3", "463ac35c9f6413ad-a2fb4a1d1a96d312-0"),
    ],
    // Malformed single: both restart.
    &[("b3", "80F198EE56343BA864FE8B2A57D3EFF7-e457b5a2e4d86bd1-1")],
    &[("b3", "80f198ee56343ba864fe8b2a57d3eff7-E457B5A2E4D86BD1")],
    &[("b3", "00000000000000000000000000000000-e457b5a2e4d86bd1-1")],
    &[("b3", "80f198ee56343ba864fe8b2a57d3eff7-0000000000000000-1")],
    &[("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-x")],
    &[(
        "b3",
        "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b9",
    )],
    &[(
        "b3",
        "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90-x",
    )],
    &[("b3", "80f198ee56343ba864fe8b2a57d3eff-e457b5a2e4d86bd1")],
    &[("b3", "80f198ee56343ba864fe8b2a57d3eff7")],
    &[("b3", "-")],
    &[("b3", "")],
    // Multi header.
    &[
        ("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7"),
        ("x-b3-spanid", "e457b5a2e4d86bd1"),
        ("x-b3-sampled", "1"),
    ],
    &[
        ("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7"),
        ("x-b3-spanid", "e457b5a2e4d86bd1"),
        ("x-b3-sampled", "0"),
    ],
    &[
        ("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7"),
        ("x-b3-spanid", "e457b5a2e4d86bd1"),
        ("x-b3-sampled", "true"),
    ],
    &[
        ("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7"),
        ("x-b3-spanid", "e457b5a2e4d86bd1"),
        ("x-b3-sampled", "false"),
    ],
    &[
        ("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7"),
        ("x-b3-spanid", "e457b5a2e4d86bd1"),
    ],
    &[
        ("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7"),
        ("x-b3-spanid", "e457b5a2e4d86bd1"),
        ("x-b3-flags", "1"),
    ],
    &[
        ("X-B3-TraceId", "80f198ee56343ba864fe8b2a57d3eff7"),
        ("X-B3-SpanId", "e457b5a2e4d86bd1"),
        ("X-B3-ParentSpanId", "05e3ac9a4f6e3b90"),
        ("X-B3-Sampled", "1"),
    ],
    &[
        ("x-b3-traceid", "463ac35c9f6413ad"),
        ("x-b3-spanid", "a2fb4a1d1a96d312"),
    ],
    &[
        ("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7"),
        ("x-b3-traceid", "463ac35c9f6413ad"),
        ("x-b3-spanid", "e457b5a2e4d86bd1"),
    ],
    // Malformed multi: both restart.
    &[("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7")],
    &[("x-b3-spanid", "e457b5a2e4d86bd1")],
    &[
        ("x-b3-traceid", "80F198EE56343BA864FE8B2A57D3EFF7"),
        ("x-b3-spanid", "e457b5a2e4d86bd1"),
    ],
    &[
        ("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7"),
        ("x-b3-spanid", "e457b5a2e4d86bd"),
    ],
    &[
        ("x-b3-traceid", "0000000000000000"),
        ("x-b3-spanid", "e457b5a2e4d86bd1"),
    ],
    &[
        ("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7"),
        ("x-b3-spanid", "e457b5a2e4d86bd1"),
        ("x-b3-sampled", "yes"),
    ],
    &[
        ("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7"),
        ("x-b3-spanid", "e457b5a2e4d86bd1"),
        ("x-b3-sampled", "d"),
    ],
    &[],
];

#[test]
fn b3_agrees_with_opentelemetry() {
    let mut accepted = 0;
    for &h in B3_AGREE {
        let (ours, otel) = (ours_b3(h), otel_b3(h));
        assert_eq!(ours, otel, "{h:?}");
        accepted += usize::from(ours.ids.is_some());
    }
    assert_eq!(accepted, 18);
    assert_eq!(ours_b3(B3_AGREE[0]), sampled(BT, BS));
    assert_eq!(ours_b3(B3_AGREE[3]), with(BT, BS, Decision::Debug));
    assert_eq!(ours_b3(B3_AGREE[4]), with(BT, BS, Decision::Deferred));
}

/// Deliberate differences, each for the reason given.
#[test]
fn b3_deliberate_differences() {
    let cases: &[(Headers, Outcome, &str)] = &[
        (
            &[("b3", "0")],
            Outcome { ids: None, decision: Decision::NotSampled },
            "`b3: 0` alone is the B3 spec's deny decision (reporters send it so that their own \
             traffic is not traced); OpenTelemetry 0.33 drops it",
        ),
        (
            &[("b3", "d")],
            Outcome { ids: None, decision: Decision::Debug },
            "`b3: d` alone is a debug decision in the B3 spec",
        ),
        (
            &[("x-b3-sampled", "0")],
            Outcome { ids: None, decision: Decision::NotSampled },
            "the multi form's sampling-only state is a decision too",
        ),
        (
            &[("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-")],
            NOTHING,
            "an empty sampling field is malformed (OpenTelemetry splits with split_terminator, \
             which drops a trailing empty field); malformed restarts the trace, as Brave does",
        ),
        (
            &[("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-")],
            NOTHING,
            "an empty parent field is malformed",
        ),
        (
            &[
                ("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7"),
                ("x-b3-spanid", "e457b5a2e4d86bd1"),
                ("x-b3-parentspanid", "not-a-span-id"),
            ],
            NOTHING,
            "a malformed X-B3-ParentSpanId makes the whole context malformed (OpenTelemetry \
             validates it and ignores the result); we restart rather than propagate nonsense",
        ),
        (
            &[
                ("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7"),
                ("x-b3-spanid", "e457b5a2e4d86bd1"),
                ("x-b3-flags", "0"),
                ("x-b3-sampled", "1"),
            ],
            with(BT, BS, Decision::Sampled),
            "X-B3-Flags: 0 only means `not debug`; OpenTelemetry lets it override X-B3-Sampled: 1 \
             and turns an accepted trace into a denied one",
        ),
        (
            &[
                ("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7"),
                ("x-b3-spanid", "e457b5a2e4d86bd1"),
                ("x-b3-flags", "1"),
                ("x-b3-sampled", "maybe"),
            ],
            NOTHING,
            "a malformed X-B3-Sampled is malformed input even next to the debug flag (OpenTelemetry \
             does not look at it once debug is set)",
        ),
    ];
    for (h, want, why) in cases {
        let (ours, otel) = (ours_b3(h), otel_b3(h));
        assert_eq!(ours, *want, "{why}: {h:?}");
        assert_ne!(ours, otel, "no longer a difference ({why}): {h:?}");
    }
}

/// What each side writes, the other reads back to the same ids and decision.
#[test]
fn round_trips_between_the_two() {
    use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};
    use std::collections::HashMap;

    for sampled_flag in [true, false] {
        // OpenTelemetry writes, we read.
        let sc = SpanContext::new(
            TraceId::from(T),
            SpanId::from(S),
            if sampled_flag {
                TraceFlags::SAMPLED
            } else {
                TraceFlags::default()
            },
            false,
            TraceState::default(),
        );
        let cx = opentelemetry::Context::new().with_remote_span_context(sc);
        for p in [
            Box::new(TraceContextPropagator::new()) as Box<dyn TextMapPropagator>,
            Box::new(B3Propagator::with_encoding(B3Encoding::SingleHeader)),
            Box::new(B3Propagator::with_encoding(B3Encoding::MultipleHeader)),
        ] {
            let mut map: HashMap<String, String> = HashMap::new();
            p.inject_context(&cx, &mut map);
            let got = Propagation::default().app_id(false).extract(&map);
            let want = with(
                T,
                S,
                if sampled_flag {
                    Decision::Sampled
                } else {
                    Decision::NotSampled
                },
            );
            assert_eq!(ours_outcome(got), want, "{map:?}");
        }

        // We write, OpenTelemetry reads.
        let ctx = trace_context::Context::builder(trace_context::TraceId::from_u128(T).unwrap())
            .span_id(trace_context::SpanId::from_u64(S).unwrap())
            .sampling(Sampling::from_bool(sampled_flag))
            .build();
        for (ours, otel) in [
            (
                Propagation::default().b3_off().app_id(false),
                Box::new(TraceContextPropagator::new()) as Box<dyn TextMapPropagator>,
            ),
            (
                Propagation::default().w3c(false).app_id(false),
                Box::new(B3Propagator::with_encoding(B3Encoding::MultipleHeader)),
            ),
            (
                Propagation::default()
                    .w3c(false)
                    .app_id(false)
                    .b3_style(trace_context::codec::B3Style::Single),
                Box::new(B3Propagator::with_encoding(
                    B3Encoding::SingleAndMultiHeader,
                )),
            ),
        ] {
            let mut map: HashMap<String, String> = HashMap::new();
            ours.inject(&ctx, &mut map);
            let cx = otel.extract(&map);
            let span = cx.span();
            let sc = span.span_context();
            assert!(sc.is_valid(), "{map:?}");
            assert_eq!(u128::from_be_bytes(sc.trace_id().to_bytes()), T);
            assert_eq!(u64::from_be_bytes(sc.span_id().to_bytes()), S);
            assert_eq!(sc.is_sampled(), sampled_flag, "{map:?}");
        }
    }
}
