//! The short measurement settings every bench group uses (see `benches/README.md`). The
//! helpers benches share with the tests (the shared PureScript fixtures, a registry in a
//! tempdir) are in `regis::testing`.

use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode};

/// A group with 10 samples, flat sampling, 1 s warm-up and 3 s measurement.
pub fn group<'c>(c: &'c mut Criterion, name: &str) -> BenchmarkGroup<'c, WallTime> {
    let mut group = c.benchmark_group(name);
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    group
}
