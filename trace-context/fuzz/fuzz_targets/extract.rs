//! `Propagation::extract` over arbitrary header sets, then the server context and injection:
//! never panic, and what goes out is clean header text.
#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use trace_context::codec::Propagation;
use trace_context::{FollowUpstream, IdGenerator};

const NAMES: [&str; 9] = [
    "traceparent",
    "tracestate",
    "b3",
    "x-b3-traceid",
    "x-b3-spanid",
    "x-b3-parentspanid",
    "x-b3-sampled",
    "x-b3-flags",
    "x-app-trace-id",
];

fuzz_target!(|data: &[u8]| {
    let headers: Vec<(&str, &[u8])> = data
        .split(|&b| b == 0)
        .filter(|v| !v.is_empty())
        .map(|v| (NAMES[v[0] as usize % NAMES.len()], &v[1..]))
        .collect();
    let got = Propagation::default().extract(headers.as_slice());
    let ctx = got.server_context(&IdGenerator::default(), &FollowUpstream);
    let mut out: HashMap<String, String> = HashMap::new();
    Propagation::default().inject(&ctx.child(), &mut out);
    for v in out.values() {
        assert!(v.bytes().all(|b| (0x21..0x7f).contains(&b)), "{v:?}");
    }
});
