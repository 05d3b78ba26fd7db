//! Solver benchmarks over real PureScript Registry data (see `benches/README.md`):
//!
//! - `solve/real_sample_every_version`: a build plan for each of the 597 versions of
//!   `../shared/fixtures/purescript/real-sample`, one solver (its package cache shared by
//!   the 597 solves) over the index and metadata already in memory.
//! - `solve/real_sample_every_version_from_disk`: the same, reading each package's index
//!   file and metadata from disk on first use (what `regis solve` and publish do).
//! - `solve/aff_7_1_0`: one plan (40 packages) with a fresh solver.
//!
//! When `../shared` is absent a note is printed and no benchmark is registered.

mod common;

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use regis::metadata::Metadata;
use regis::schema::{PackageName, Version};
use regis::solver::{DirPackages, Packages, Request, Solver, ViewPackages};
use regis::store::{IndexDir, RegistryDir};

/// Solve every version; the number of packages in all plans together.
fn solve_all<'a>(packages: &'a dyn Packages<'a>, versions: &[(PackageName, Version)]) -> usize {
    let solver = Solver::new(packages);
    versions
        .iter()
        .map(|(n, v)| {
            solver
                .solve(&Request::published(n.clone(), v.clone(), None), &[])
                .expect("every version of the real sample solves")
                .resolutions
                .len()
        })
        .sum()
}

fn benches(c: &mut Criterion) {
    let Some(root) = regis::testing::purescript_fixtures() else {
        return;
    };
    let dir = root.join("real-sample");
    let (registry, index) = (RegistryDir::new(&dir), IndexDir::new(dir.join("index")));
    let metadata: BTreeMap<PackageName, Metadata> = registry.all_metadata().expect("metadata");
    let view = index.view().expect("index");
    let versions: Vec<(PackageName, Version)> = metadata
        .iter()
        .flat_map(|(n, m)| m.published.keys().map(move |v| (n.clone(), v.clone())))
        .collect();
    let memory = ViewPackages {
        index: &view,
        metadata: &metadata,
    };
    let disk = DirPackages {
        registry: &registry,
        index: &index,
    };
    let total = solve_all(&memory, &versions);
    eprintln!(
        "solve/real_sample: {} versions, {} packages in all plans together",
        versions.len(),
        total
    );

    let mut group = common::group(c, "solve");
    group.throughput(Throughput::Elements(versions.len() as u64));
    group.bench_function("real_sample_every_version", |b| {
        b.iter(|| solve_all(black_box(&memory), &versions))
    });
    group.bench_function("real_sample_every_version_from_disk", |b| {
        b.iter(|| solve_all(black_box(&disk), &versions))
    });
    group.throughput(Throughput::Elements(1));
    let aff = Request::published("aff".parse().unwrap(), "7.1.0".parse().unwrap(), None);
    group.bench_function("aff_7_1_0", |b| {
        b.iter(|| {
            Solver::new(black_box(&memory))
                .solve(&aff, &[])
                .expect("aff solves")
        })
    });
    group.finish();
}

criterion_group!(solve_benches, benches);
criterion_main!(solve_benches);
