//! Configuration: the builder, the environment, and the assembled [`crate::Reporter`].

mod builder;
mod env;
mod reporter;

pub use builder::{ReporterBuilder, DEFAULT_GZIP, DEFAULT_SERVICE_NAME};
pub use env::{
    ENV_QUEUE_SIZE, ENV_SERVICE_NAME, ENV_ZIPKIN_ENDPOINT, ENV_ZIPKIN_GZIP, ENV_ZIPKIN_TIMEOUT,
};
pub use reporter::{Reporter, ShutdownGuard};
