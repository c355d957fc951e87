//! # trace-exporter
//!
//! Samplers and a Zipkin v2 reporter for trace-kit: the part of Spring Cloud Sleuth + Zipkin
//! that decides which traces are recorded and ships their spans off the request path.
//!
//! * [`sampler`]: probability on the rightmost 56 bits of the trace id (deterministic across
//!   services, correct on UUIDv4 ids), rate-limited, parent-based, always/never, composition.
//! * [`SpanRecord`] and [`encode`]: the Zipkin v2 JSON encoding, owned here.
//! * [`AsyncReporter`]: a bounded queue, encoder + delivery threads, batching, retries, counters; over
//!   a [`Transport`] ([`ZipkinHttp`], [`FileTransport`]); [`MemorySink`] and [`Fanout`].
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod encode;
mod error;
pub mod otel;
mod record;
mod recorder;
mod reporter;
pub mod sampler;
mod setup;
mod sink;
mod tags;

pub use error::ConfigError;
pub use record::{Annotation, Endpoint, Kind, SpanRecord};
pub use recorder::{ZipkinLayer, FIELD_SERVICE_NAME, FIELD_SPAN_KIND, MAX_TAG_VALUE};
pub use reporter::*;
pub use sampler::{
    parse_sampler, All, AllOf, AlwaysOff, AlwaysOn, Any, AnyOf, Composite, ParentBased,
    ProbabilitySampler, RateClock, RateLimitingSampler, Rule, Sampler, SamplerSpec, Sampling,
};
pub use setup::*;
pub use sink::{Fanout, FileTransport, MemorySink, Sink, TimedOut};
#[cfg(feature = "otlp")]
pub use sink::{OtlpTransport, DEFAULT_OTLP_ENDPOINT};
pub use tags::Tags;
