//! `regis check` benchmarks over real PureScript Registry data (see `benches/README.md`):
//!
//! - `check/real_sample`: `../shared/fixtures/purescript/real-sample` (81 packages).
//! - `check/package_set_samples`: `../shared/fixtures/purescript/package-set-samples`
//!   (673 packages and a package set).
//!
//! Storage is not audited (no tarballs in the fixtures). When `../shared` is absent (a
//! clone elsewhere) a note is printed and no benchmark is registered.

mod common;

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use regis::check;
use regis::store::{IndexDir, RegistryDir};

fn benches(c: &mut Criterion) {
    let Some(root) = regis::testing::purescript_fixtures() else {
        return;
    };
    let cases = [
        (
            "real_sample",
            root.join("real-sample"),
            root.join("real-sample/index"),
        ),
        (
            "package_set_samples",
            root.join("package-set-samples/registry"),
            root.join("package-set-samples/index"),
        ),
    ];

    let mut group = common::group(c, "check");
    for (name, registry, index) in cases {
        if !registry.is_dir() || !index.is_dir() {
            eprintln!(
                "note: {} is absent: skipping check/{name}",
                registry.display()
            );
            continue;
        }
        let (registry, index) = (RegistryDir::new(registry), IndexDir::new(index));
        // Once outside timing: what is being audited.
        let report = match check::run(&registry, &index, None, None) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("note: check/{name} cannot run ({e}): skipped");
                continue;
            }
        };
        eprintln!(
            "check/{name}: {} packages, {} versions, {} index files, {} package sets, {} findings",
            report.packages,
            report.versions,
            report.index_files,
            report.package_sets,
            report.findings.len()
        );
        group.throughput(Throughput::Elements(report.versions as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                check::run(black_box(&registry), black_box(&index), None, None).expect("check")
            })
        });
    }
    group.finish();
}

criterion_group!(check_benches, benches);
criterion_main!(check_benches);
