//! JSON lines: one object per event.
//!
//! ```text
//! {"timestamp":"2026-11-23T07:19:45.123456Z","level":"INFO","target":"shop::orders",
//!  "thread":"tokio-runtime-worker","message":"order placed","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736",
//!  "span_id":"00f067aa0ba902b7","app_trace_id":"web-42","mdc":{"tenant":"acme"},
//!  "fields":{"order_id":1001},"spans":[{"name":"http.server","fields":{"http.method":"GET"}}]}
//! ```

use std::fmt::{self, Write};

use crate::escape::{write_json_str, JsonEscaper};
use crate::fields::{JsonVisitor, MessageVisitor};
use crate::line::{Line, StoredFields};
use crate::thread_name;
use crate::time::write_rfc3339;

/// Writes one event as a JSON object and a newline.
pub(crate) fn write_line<W: Write + ?Sized>(out: &mut W, line: &Line<'_>) -> fmt::Result {
    out.write_str("{\"timestamp\":\"")?;
    write_rfc3339(out, line.now, line.opts.zone)?;
    out.write_str("\",\"level\":\"")?;
    out.write_str(line.meta.level().as_str())?;
    out.write_str("\",\"target\":")?;
    write_json_str(out, line.meta.target())?;
    out.write_str(",\"thread\":")?;
    thread_name::with(|n| write_json_str(out, n))?;

    out.write_str(",\"message\":\"")?;
    {
        let mut esc = JsonEscaper::new(out);
        let mut v = MessageVisitor::new(&mut esc);
        line.event.record(&mut v);
        v.result?;
    }
    out.write_char('"')?;

    if let Some(ctx) = line.ctx {
        let trace = ctx.trace_id_text();
        out.write_str(",\"trace_id\":\"")?;
        out.write_str(&trace)?;
        out.write_str("\",\"span_id\":\"")?;
        out.write_str(&ctx.span_id().to_hex())?;
        out.write_char('"')?;
        if let Some(app) = ctx.app_trace_id() {
            if app.as_str() != &*trace {
                out.write_str(",\"app_trace_id\":")?;
                write_json_str(out, app.as_str())?;
            }
        }
        let mut any = false;
        for (k, v) in ctx.fields() {
            out.write_str(if any { "," } else { ",\"mdc\":{" })?;
            any = true;
            write_json_str(out, k)?;
            out.write_char(':')?;
            write_json_str(out, v)?;
        }
        if any {
            out.write_char('}')?;
        }
    }

    {
        let mut v = JsonVisitor::new(out, ",\"fields\":{", true, line.is_log);
        line.event.record(&mut v);
        v.result?;
        if v.wrote_any() {
            out.write_char('}')?;
        }
    }

    let mut any_span = false;
    line.spans.visit_from_root(&mut |name, stored| {
        out.write_str(if any_span {
            ",{\"name\":"
        } else {
            ",\"spans\":[{\"name\":"
        })?;
        any_span = true;
        write_json_str(out, name)?;
        match stored {
            StoredFields::Members(m) if !m.is_empty() => {
                out.write_str(",\"fields\":{")?;
                out.write_str(m)?;
                out.write_char('}')?;
            }
            StoredFields::Text(t) if !t.is_empty() => {
                out.write_str(",\"fields\":")?;
                write_json_str(out, t)?;
            }
            _ => {}
        }
        out.write_char('}')
    })?;
    if any_span {
        out.write_char(']')?;
    }
    out.write_str("}\n")
}
