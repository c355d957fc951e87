//! The echoed id: which response header, and its value.

use http::{HeaderName, HeaderValue, Response};
use trace_context::Context;

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
        None => HeaderValue::from_bytes(ctx.trace_id().to_zipkin_hex().as_bytes()).ok(),
    }
}
