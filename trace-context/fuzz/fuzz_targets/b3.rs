//! B3 single and multi header: never panic; an accepted single header re-encodes to an
//! equivalent one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trace_context::codec::b3::{encode_single, B3Context};

const NAMES: [&str; 6] = [
    "b3",
    "x-b3-traceid",
    "x-b3-spanid",
    "x-b3-parentspanid",
    "x-b3-sampled",
    "x-b3-flags",
];

fuzz_target!(|data: &[u8]| {
    if let Some(b) = B3Context::parse_single(data) {
        if let Some((t, s)) = b.ids {
            let v = encode_single(t, s, b.sampling, b.parent_span_id);
            let back = B3Context::parse_single(v.as_bytes()).expect("re-encoded b3 parses");
            assert_eq!((back.ids, back.sampling), (b.ids, b.sampling));
        }
    }
    // Split into header values at NUL; the first byte of each picks the header name.
    let headers: Vec<(&str, &[u8])> = data
        .split(|&b| b == 0)
        .filter(|v| !v.is_empty())
        .map(|v| (NAMES[v[0] as usize % NAMES.len()], &v[1..]))
        .collect();
    let _ = B3Context::extract_multi(headers.as_slice());
    let _ = B3Context::extract(headers.as_slice());
});
