//! OpenTelemetry interop: a `SpanExporter` writing the same Zipkin v2 encoding through the
//! same reporter.

mod convert;
mod exporter;

pub use convert::{to_span_record, TAG_SCOPE_NAME, TAG_SCOPE_VERSION, TAG_STATUS_CODE};
pub use exporter::ZipkinSpanExporter;
