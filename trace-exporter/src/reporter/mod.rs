//! Delivery: a bounded queue, an encoder and a delivery thread, batching, retries, counters.

mod async_reporter;
pub(crate) mod http;
mod io;
mod metrics;
mod options;
mod sender;
mod transport;
pub(crate) mod warn;

pub use async_reporter::AsyncReporter;
pub use http::{
    validate_endpoint, ZipkinHttp, DEFAULT_CONNECT_TIMEOUT, DEFAULT_ENDPOINT,
    DEFAULT_REQUEST_TIMEOUT, SPANS_PATH,
};
pub use metrics::ReporterMetrics;
pub use options::{
    ReporterOptions, DEFAULT_CLOSE_TIMEOUT, DEFAULT_FLUSH_INTERVAL, DEFAULT_INITIAL_BACKOFF,
    DEFAULT_MAX_BACKOFF, DEFAULT_MESSAGE_MAX_BYTES, DEFAULT_QUEUE_SIZE, DEFAULT_RETRY_FOR,
};
pub use transport::{Message, SendError, Transport};
pub use warn::{DEFAULT_WARN_INTERVAL, REPORTER_TARGET};
