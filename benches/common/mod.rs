//! What the bench files share: where the real PureScript data is, and the short
//! measurement settings every group uses (see `benches/README.md`).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode};

/// `../shared/fixtures/purescript`, or `None` (with a note naming the `group` left out)
/// when it is absent, as in a clone elsewhere.
pub fn fixtures(group: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/purescript");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "note: {} is absent: no {group} benchmark registered (they read the shared PureScript fixtures)",
            dir.display()
        );
        None
    }
}

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
