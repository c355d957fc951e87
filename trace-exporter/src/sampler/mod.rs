//! Samplers: which traces entering this service are recorded and reported.
//!
//! All implement [`trace_context::Sampler`], the contract the server layer and
//! [`trace_context::Context::new_root`] call. The decision only affects reporting: unsampled
//! requests keep their ids, logs and propagation.
//!
//! | sampler | decides |
//! |---|---|
//! | [`AlwaysOn`] / [`AlwaysOff`] | every trace / none |
//! | [`ProbabilitySampler`] | a share `p` of trace ids, on their rightmost 56 bits (deterministic) |
//! | [`RateLimitingSampler`] | at most N traces per second |
//! | [`ParentBased`] | the upstream decision when there is one, else its root sampler |
//! | [`AllOf`] / [`AnyOf`] | every / any of several samplers agrees |
//!
//! [`from_env`] builds one from `OTEL_TRACES_SAMPLER` + `OTEL_TRACES_SAMPLER_ARG`.

mod always;
mod compose;
mod env;
mod parent_based;
mod probability;
mod rate_limit;

pub use always::{AlwaysOff, AlwaysOn};
pub use compose::{All, AllOf, Any, AnyOf, Composite, Rule};
pub(crate) use env::from_lookup;
pub use env::{
    from_env, parse as parse_sampler, SamplerSpec, DEFAULT_RATE, ENV_SAMPLER, ENV_SAMPLER_ARG,
};
pub use parent_based::ParentBased;
pub use probability::ProbabilitySampler;
pub use rate_limit::{MonotonicClock, RateClock, RateLimitingSampler};
pub use trace_context::{Sampler, Sampling};
