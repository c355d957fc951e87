//! Hostile `X-App-Trace-Id` values: every one is rejected with the right reason, directly and
//! through `Propagation::extract` (where the reason is kept in `app_trace_id_rejected` and the
//! value never reaches the context, the echo or an outgoing call).

use trace_context::codec::Propagation;
use trace_context::{AppTraceId, FollowUpstream, IdGenerator, Rejection, DEFAULT_MAX_APP_ID_LEN};

fn invalid(position: usize, byte: u8) -> Rejection {
    Rejection::InvalidByte { position, byte }
}

/// (input, expected rejection). Each must be refused.
fn cases() -> Vec<(Vec<u8>, Rejection)> {
    let mut v: Vec<(Vec<u8>, Rejection)> = vec![
        (b"".to_vec(), Rejection::Empty),
        // Header injection / log forging.
        (b"abc\r\nX-Evil: 1".to_vec(), invalid(3, b'\r')),
        (b"abc\nlevel=ERROR".to_vec(), invalid(3, b'\n')),
        (b"\rabc".to_vec(), invalid(0, b'\r')),
        (b"id\0".to_vec(), invalid(2, 0)),
        (b"\0".to_vec(), invalid(0, 0)),
        (b"a\x07b".to_vec(), invalid(1, 0x07)),
        (b"a\x1b[31mred".to_vec(), invalid(1, 0x1b)),
        (b"a\x7f".to_vec(), invalid(1, 0x7f)),
        (b"a\tb".to_vec(), invalid(1, b'\t')),
        (b"\x0bv".to_vec(), invalid(0, 0x0b)),
        // Non-ASCII (valid UTF-8) and non-UTF-8 bytes.
        ("id-\u{e9}".as_bytes().to_vec(), invalid(3, 0xc3)),
        ("\u{202e}evil".as_bytes().to_vec(), invalid(0, 0xe2)),
        ("\u{1F600}".as_bytes().to_vec(), invalid(0, 0xf0)),
        (b"ab\xff\xfe".to_vec(), invalid(2, 0xff)),
        (b"\x80".to_vec(), invalid(0, 0x80)),
        (b"ok-\xc3".to_vec(), invalid(3, 0xc3)),
        // Spaces, quotes and the marks that break log lines or JSON.
        (b" leading".to_vec(), invalid(0, b' ')),
        (b"trailing ".to_vec(), invalid(8, b' ')),
        (b"in side".to_vec(), invalid(2, b' ')),
        (b"\"quoted\"".to_vec(), invalid(0, b'"')),
        (b"it's".to_vec(), invalid(2, b'\'')),
        (b"a`b".to_vec(), invalid(1, b'`')),
        (b"a\\b".to_vec(), invalid(1, b'\\')),
        (b"a,b".to_vec(), invalid(1, b',')),
        (b"a;b".to_vec(), invalid(1, b';')),
        (b"{\"a\":1}".to_vec(), invalid(0, b'{')),
        (b"[1]".to_vec(), invalid(0, b'[')),
        (b"<script>".to_vec(), invalid(0, b'<')),
        (b"a%0d%0a".to_vec(), invalid(1, b'%')),
        (b"${jndi:ldap://x}".to_vec(), invalid(0, b'$')),
    ];
    // Too long: one over the limit, and 10 KB.
    v.push((
        vec![b'a'; DEFAULT_MAX_APP_ID_LEN + 1],
        Rejection::TooLong { len: 129, max: 128 },
    ));
    v.push((
        vec![b'a'; 10 * 1024],
        Rejection::TooLong {
            len: 10 * 1024,
            max: 128,
        },
    ));
    // Length is checked before content: a long hostile value reports its length.
    let mut long_evil = vec![b'a'; 200];
    long_evil[5] = b'\n';
    v.push((long_evil, Rejection::TooLong { len: 200, max: 128 }));
    v
}

#[test]
fn hostile_values_are_rejected_with_the_right_reason() {
    for (input, want) in cases() {
        assert_eq!(AppTraceId::parse(&input), Err(want), "{input:?}");
        // The reason has a readable message that never echoes the raw bytes.
        let msg = want.to_string();
        assert!(!msg.is_empty());
        assert!(msg.bytes().all(|b| (0x20..0x7f).contains(&b)), "{msg:?}");
    }
}

#[test]
fn hostile_values_through_extract_are_observable_and_dropped() {
    for (input, want) in cases() {
        let headers = [("x-app-trace-id", input.as_slice())];
        let got = Propagation::default().extract(headers.as_slice());
        assert!(got.app_trace_id.is_none(), "{input:?}");
        assert_eq!(got.app_trace_id_rejected, Some(want), "{input:?}");

        // A fresh trace is minted; nothing of the value reaches the context or the wire.
        let ctx = got.server_context(&IdGenerator::default(), &FollowUpstream);
        assert!(ctx.app_trace_id().is_none());
        let app_text = ctx.get("appTraceId").unwrap().to_string();
        assert_eq!(app_text, ctx.trace_id().to_string());
        let mut out = std::collections::HashMap::new();
        Propagation::default().inject(&ctx, &mut out);
        assert_eq!(out["x-app-trace-id"], ctx.trace_id().to_string());
        assert!(out
            .values()
            .all(|v| v.bytes().all(|b| (0x21..0x7f).contains(&b))));
    }
}

#[test]
fn hostile_values_through_an_http_header_map() {
    // The `http` crate refuses CR/LF/NUL in a HeaderValue, but lets through 0x80-0xFF, spaces,
    // quotes and any length: exactly the values this crate must refuse.
    let mut map = http::HeaderMap::new();
    map.insert(
        "x-app-trace-id",
        http::HeaderValue::from_bytes(b"caf\xe9 \"x\"").unwrap(),
    );
    let got = Propagation::default().extract(&map);
    assert_eq!(got.app_trace_id_rejected, Some(invalid(3, 0xe9)));
    assert!(got.app_trace_id.is_none());

    let mut map = http::HeaderMap::new();
    map.insert(
        "x-app-trace-id",
        http::HeaderValue::from_bytes(&[b'z'; 10 * 1024]).unwrap(),
    );
    let got = Propagation::default().extract(&map);
    assert_eq!(
        got.app_trace_id_rejected,
        Some(Rejection::TooLong {
            len: 10240,
            max: 128
        })
    );
}

#[test]
fn the_limit_is_configurable_and_exact() {
    let at = vec![b'a'; 64];
    let over = vec![b'a'; 65];
    let p = Propagation::default().max_app_id_len(64);
    let ok = p.extract([("x-app-trace-id", at.as_slice())].as_slice());
    assert!(ok.app_trace_id.is_some());
    assert!(ok.app_trace_id_rejected.is_none());
    let bad = p.extract([("x-app-trace-id", over.as_slice())].as_slice());
    assert_eq!(
        bad.app_trace_id_rejected,
        Some(Rejection::TooLong { len: 65, max: 64 })
    );
    // Exactly 128 is accepted by default.
    assert!(AppTraceId::parse(&[b'a'; 128]).is_ok());
}

#[test]
fn every_allowed_mark_is_accepted_and_kept_verbatim() {
    let v = b"Ab9-_.:/+=@";
    let app = AppTraceId::parse(v).unwrap();
    assert_eq!(app.as_str(), "Ab9-_.:/+=@");
    // Every other printable ASCII byte is refused.
    for b in 0x20u8..0x7f {
        let ok = b.is_ascii_alphanumeric() || b"-_.:/+=@".contains(&b);
        assert_eq!(AppTraceId::parse(&[b'x', b]).is_ok(), ok, "byte {b:#04x}");
        if !ok {
            assert_eq!(AppTraceId::parse(&[b'x', b]), Err(invalid(1, b)));
        }
    }
    // And every byte outside printable ASCII.
    for b in (0u8..0x20).chain(0x7f..=0xff) {
        assert_eq!(AppTraceId::parse(&[b]), Err(invalid(0, b)), "byte {b:#04x}");
    }
}

#[test]
fn a_rejected_app_id_does_not_hide_a_valid_parent() {
    let headers: [(&str, &[u8]); 2] = [
        ("x-app-trace-id", b"bad value\r\n"),
        (
            "traceparent",
            b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        ),
    ];
    let got = Propagation::default().extract(headers.as_slice());
    assert_eq!(got.app_trace_id_rejected, Some(invalid(3, b' ')));
    let p = got.parent.as_ref().unwrap();
    assert_eq!(p.trace_id.to_string(), "0af7651916cd43dd8448eb211c80319c");
}
