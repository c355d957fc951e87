//! `traceparent` and `tracestate`: never panic; what is accepted renders back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trace_context::codec::w3c::{parse_tracestate, TraceParent, MAX_TRACESTATE_BYTES};

fuzz_target!(|data: &[u8]| {
    if let Ok(tp) = TraceParent::parse(data) {
        let text = tp.encode();
        assert_eq!(text.as_str().len(), 55);
        assert_eq!(TraceParent::parse(text.as_str().as_bytes()), Ok(tp));
    }
    // The same bytes as one or several tracestate headers (split at NUL).
    let parts: Vec<&[u8]> = data.split(|&b| b == 0).collect();
    if let Some(ts) = parse_tracestate(&parts) {
        assert!(ts.len() <= MAX_TRACESTATE_BYTES);
        assert_eq!(parse_tracestate(&[ts.as_bytes()]).as_deref(), Some(&*ts));
    }
});
