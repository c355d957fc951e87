//! The echoed id: which response header, and its value.

use http::{HeaderName, HeaderValue, Response};
use trace_context::{Context, TraceId};

/// The response header to set, and its value when it is the received one.
pub(crate) struct Echo {
    pub(crate) name: HeaderName,
    /// The received application id header, when it was accepted as is: echoing it shares its
    /// bytes instead of copying them.
    pub(crate) received: Option<HeaderValue>,
}

impl Echo {
    /// Sets the id on the response unless the handler already set that header.
    pub(crate) fn apply<B>(self, response: &mut Response<B>, ctx: &Context) {
        // One lookup: the slot is filled only when the handler left it empty.
        let http::header::Entry::Vacant(slot) = response.headers_mut().entry(self.name) else {
            return;
        };
        let value = match self.received {
            Some(received) => received,
            None => match minted_value(ctx) {
                Some(value) => value,
                None => return,
            },
        };
        slot.insert(value);
    }
}

/// The id as the logs print it (`Context::app_id_text`) when no received header is echoed:
/// the application id, else the trace id in lowercase hex (16 digits for a 64-bit id, else 32).
fn minted_value(ctx: &Context) -> Option<HeaderValue> {
    // The application id was validated (visible ASCII only) and the trace id is hex, so the
    // conversion cannot fail; if it ever did, the header is left out rather than forged.
    match ctx.app_trace_id() {
        Some(app) => HeaderValue::from_str(app.as_str()).ok(),
        None => HeaderValue::from_bytes(trace_id_hex(ctx.trace_id()).as_text()).ok(),
    }
}

/// A trace id's lowercase hex, formatted eight digits at a time.
struct Hex {
    buf: [u8; 32],
    start: usize,
}

impl Hex {
    fn as_text(&self) -> &[u8] {
        &self.buf[self.start..]
    }
}

/// [`TraceId::to_zipkin_hex`]'s text, without the table look-up per digit.
fn trace_id_hex(id: TraceId) -> Hex {
    let v = id.to_u128();
    let mut buf = [0u8; 32];
    for (i, chunk) in buf.chunks_exact_mut(8).enumerate() {
        let word = (v >> (96 - 32 * i)) as u32;
        chunk.copy_from_slice(&hex8(word).to_be_bytes());
    }
    Hex {
        buf,
        start: if id.is_64bit() { 16 } else { 0 },
    }
}

/// Eight lowercase hex digits of `v` as the bytes of a `u64` (big-endian: the first digit in
/// the high byte).
fn hex8(v: u32) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    // Spread the nibbles into bytes: 16-bit halves, then bytes, then nibbles.
    let x = u64::from(v);
    let x = (x | (x << 16)) & 0x0000_ffff_0000_ffff;
    let x = (x | (x << 8)) & 0x00ff_00ff_00ff_00ff;
    let x = (x | (x << 4)) & 0x0f0f_0f0f_0f0f_0f0f;
    // 1 in each byte whose nibble is 10 or more (adding 6 carries into bit 4).
    let letters = ((x + ONES * 6) >> 4) & ONES;
    x + ONES * u64::from(b'0') + letters * u64::from(b'a' - b'0' - 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_the_zipkin_text() {
        let mut ids: Vec<u128> = vec![1, 0xa, 0xffff_ffff_ffff_ffff, 1 << 64, u128::MAX];
        ids.push(0x0123_4567_89ab_cdef_fedc_ba98_7654_3210);
        for _ in 0..1000 {
            ids.push(TraceId::random().to_u128());
            ids.push(u128::from(TraceId::random().to_u128() as u64));
        }
        for v in ids {
            let id = TraceId::from_u128(v).unwrap();
            let hex = trace_id_hex(id);
            assert_eq!(hex.as_text(), id.to_zipkin_hex().as_bytes(), "{v:x}");
        }
    }
}
