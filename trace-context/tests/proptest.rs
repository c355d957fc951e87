//! Property tests: arbitrary bytes and near-valid mutations into every parser. None may panic;
//! what they accept must be well-formed; what is rendered parses back to the same value.

use proptest::prelude::*;
use trace_context::codec::b3::B3Context;
use trace_context::codec::w3c::{parse_tracestate, TraceParent, MAX_TRACESTATE_BYTES};
use trace_context::codec::Propagation;
use trace_context::{
    is_id_byte, AppTraceId, FollowUpstream, IdGenerator, Rejection, SpanId, TraceId,
};

const VALID_INPUTS: &[&str] = &[
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    "cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-what-the-future-holds",
    "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90",
    "463ac35c9f6413ad-a2fb4a1d1a96d312-d",
    "0af7651916cd43dd8448eb211c80319c",
    "4bf92f35-77b3-4da6-a3ce-929d0e0e4736",
    "b7ad6b7169203331",
    "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7,t@sys=x",
    "web-1716268000123-42",
];

/// A valid input with one of: a byte replaced, a byte inserted, a byte removed, truncation,
/// case flipped, a delimiter duplicated.
fn near_valid() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(VALID_INPUTS),
        0usize..6,
        any::<prop::sample::Index>(),
        any::<u8>(),
    )
        .prop_map(|(base, op, idx, byte)| {
            let mut v = base.as_bytes().to_vec();
            let i = idx.index(v.len());
            match op {
                0 => v[i] = byte,
                1 => v.insert(i, byte),
                2 => {
                    v.remove(i);
                }
                3 => v.truncate(i),
                4 => v[i] = v[i].to_ascii_uppercase(),
                _ => v.insert(i, b'-'),
            }
            v
        })
}

/// Either arbitrary bytes or a near-valid input.
fn input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..200),
        near_valid(),
        // Hex-ish alphabets make it past the first checks more often.
        prop::collection::vec(
            prop::sample::select(b"0123456789abcdefABCDEF-".to_vec()),
            0..80
        ),
    ]
}

fn header_name() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "traceparent",
        "tracestate",
        "b3",
        "x-b3-traceid",
        "x-b3-spanid",
        "x-b3-parentspanid",
        "x-b3-sampled",
        "x-b3-flags",
        "x-app-trace-id",
        "TraceParent",
        "B3",
    ])
}

fn lower_hex(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn trace_id_parse_never_panics(bytes in input()) {
        if let Ok(id) = TraceId::parse_bytes(&bytes) {
            prop_assert!(matches!(bytes.len(), 16 | 32 | 36));
            prop_assert_ne!(id.to_u128(), 0);
            // Whatever the accepted form, the canonical text parses back to the same id.
            prop_assert_eq!(TraceId::parse(&id.to_hex()).unwrap(), id);
        }
        if let Ok(s) = std::str::from_utf8(&bytes) {
            prop_assert_eq!(TraceId::parse(s), TraceId::parse_bytes(&bytes));
        }
    }

    #[test]
    fn span_id_parse_never_panics(bytes in input()) {
        if let Ok(s) = std::str::from_utf8(&bytes) {
            if let Ok(id) = SpanId::parse(s) {
                prop_assert_eq!(s.len(), 16);
                let hex = id.to_hex();
                prop_assert_eq!(hex.as_str(), s.to_ascii_lowercase());
            }
        }
    }

    #[test]
    fn app_id_parse_never_panics_and_accepts_only_safe_bytes(bytes in input()) {
        match AppTraceId::parse(&bytes) {
            Ok(app) => {
                prop_assert!(!bytes.is_empty() && bytes.len() <= 128);
                prop_assert!(bytes.iter().all(|&b| is_id_byte(b)));
                prop_assert_eq!(app.as_str().as_bytes(), &bytes[..]);
            }
            Err(Rejection::Empty) => prop_assert!(bytes.is_empty()),
            Err(Rejection::TooLong { len, max }) => {
                prop_assert_eq!(len, bytes.len());
                prop_assert!(len > max);
            }
            Err(Rejection::InvalidByte { position, byte }) => {
                prop_assert_eq!(bytes[position], byte);
                prop_assert!(!is_id_byte(byte));
                prop_assert!(bytes[..position].iter().all(|&b| is_id_byte(b)));
            }
        }
    }

    #[test]
    fn traceparent_parse_never_panics(bytes in input()) {
        if let Ok(tp) = TraceParent::parse(&bytes) {
            let text = tp.to_string();
            prop_assert_eq!(text.len(), 55);
            prop_assert!(text.split('-').all(lower_hex));
            prop_assert_eq!(TraceParent::parse(text.as_bytes()).unwrap(), tp);
        }
    }

    #[test]
    fn tracestate_parse_never_panics(parts in prop::collection::vec(input(), 0..4)) {
        let slices: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        if let Some(ts) = parse_tracestate(&slices) {
            prop_assert!(ts.len() <= MAX_TRACESTATE_BYTES);
            prop_assert!(ts.split(',').count() <= 32);
            prop_assert!(ts.bytes().all(|b| (0x20..0x7f).contains(&b)));
            // Normalised output is itself valid and stable.
            let again = parse_tracestate(&[ts.as_bytes()]);
            prop_assert_eq!(again.as_deref(), Some(&*ts));
        }
    }

    #[test]
    fn b3_single_never_panics(bytes in input()) {
        if let Some(b) = B3Context::parse_single(&bytes) {
            if let Some((t, s)) = b.ids {
                let v = trace_context::codec::b3::encode_single(t, s, b.sampling, b.parent_span_id);
                let back = B3Context::parse_single(v.as_bytes()).unwrap();
                prop_assert_eq!(back.ids, b.ids);
                prop_assert_eq!(back.sampling, b.sampling);
            }
        }
    }

    #[test]
    fn b3_multi_never_panics(values in prop::collection::vec((header_name(), input()), 0..8)) {
        let headers: Vec<(&str, &[u8])> = values.iter().map(|(n, v)| (*n, v.as_slice())).collect();
        let _ = B3Context::extract_multi(headers.as_slice());
        let _ = B3Context::extract(headers.as_slice());
    }

    #[test]
    fn propagation_extract_never_panics(values in prop::collection::vec((header_name(), input()), 0..10)) {
        let headers: Vec<(&str, &[u8])> = values.iter().map(|(n, v)| (*n, v.as_slice())).collect();
        let got = Propagation::default().extract(headers.as_slice());
        prop_assert!(!(got.app_trace_id.is_some() && got.app_trace_id_rejected.is_some()));
        let ctx = got.server_context(&IdGenerator::default(), &FollowUpstream);
        // What goes out again is always clean header text.
        let mut out = http::HeaderMap::new();
        Propagation::default().inject(&ctx.child(), &mut out);
        prop_assert!(out.contains_key("traceparent"));
        for v in out.values() {
            prop_assert!(v.as_bytes().iter().all(|&b| (0x21..0x7f).contains(&b)));
        }
        if let Some(ts) = ctx.tracestate() {
            prop_assert!(ts.len() <= MAX_TRACESTATE_BYTES);
        }
    }

    #[test]
    fn ids_round_trip(t in 1u128.., s in 1u64..) {
        let tid = TraceId::from_u128(t).unwrap();
        let sid = SpanId::from_u64(s).unwrap();
        prop_assert_eq!(TraceId::parse(&tid.to_hex()).unwrap(), tid);
        prop_assert_eq!(TraceId::parse(&tid.to_zipkin_hex()).unwrap(), tid);
        prop_assert_eq!(SpanId::parse(&sid.to_hex()).unwrap(), sid);
        let uuid = uuid::Uuid::from_u128(t).hyphenated().to_string();
        prop_assert_eq!(TraceId::parse(&uuid).unwrap(), tid);
        prop_assert_eq!(TraceId::parse(&uuid.to_uppercase()).unwrap(), tid);
    }
}
