//! `X-App-Trace-Id`: never panic; accepted values are short, made of allowed bytes, kept
//! verbatim; trace and span ids parse without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trace_context::{is_id_byte, AppTraceId, Rejection, SpanId, TraceId, DEFAULT_MAX_APP_ID_LEN};

fuzz_target!(|data: &[u8]| {
    match AppTraceId::parse(data) {
        Ok(app) => {
            assert!(data.len() <= DEFAULT_MAX_APP_ID_LEN);
            assert!(data.iter().all(|&b| is_id_byte(b)));
            assert_eq!(app.as_str().as_bytes(), data);
        }
        Err(Rejection::InvalidByte { position, byte }) => assert_eq!(data[position], byte),
        Err(Rejection::TooLong { len, .. }) => assert_eq!(len, data.len()),
        Err(Rejection::Empty) => assert!(data.is_empty()),
    }
    if let Ok(id) = TraceId::parse_bytes(data) {
        assert_eq!(TraceId::parse(&id.to_hex()), Ok(id));
    }
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(id) = SpanId::parse(s) {
            assert_eq!(SpanId::parse(&id.to_hex()), Ok(id));
        }
    }
});
