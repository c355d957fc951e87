//! What trace-context's benches share.

use std::time::Duration;

use criterion::Criterion;

/// Short runs: the machine is shared and has two cores.
pub fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .without_plots()
}
