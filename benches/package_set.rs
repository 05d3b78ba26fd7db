//! Package-set update benchmarks over real PureScript Registry data (see
//! `benches/README.md`), all on `../shared/fixtures/purescript/package-set-samples`
//! (673 packages' metadata and index files, package set 80.7.0 with 648 packages):
//!
//! - `package_set/update_80_7_0_to_80_8_0`: `operation::package_set::dry_run` of the real
//!   update (3 upgrades) end to end: reads every metadata and index file and the latest
//!   set, builds the catalog, classifies, checks and computes 80.8.0.
//! - `package_set/plan_only_80_7_0_to_80_8_0`: the pure planning of the same update over a
//!   catalog built once: `classify`, `apply_with_fallback` (no build hook) and `next_set`.
//! - `package_set/fallback_one_at_a_time`: the 3 upgrades plus an addition whose dependency
//!   is not in the set, so the batch fails and each change is tried alone. Pure, as above.
//! - `package_set/daily_proposal`: `operation::package_set::daily` without a context (a dry
//!   run: reads, proposes and checks, writes nothing).
//!
//! When `../shared` is absent a note is printed and no benchmark is registered.

mod common;

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use regis::config::Config;
use regis::operation::package_set::{self as op, Inputs, Silent};
use regis::package_set::{
    Authority, Catalog, Change, Outcome, PackageSet, apply_with_fallback, classify, fallback_order,
    next_set,
};
use regis::payload::{Operation, PackageSetUpdate};
use regis::schema::{Date, PackageName, Version};
use regis::storage::MemoryStorage;
use regis::store::{IndexDir, RegistryDir};

/// The pure planning `dry_run` does once the registry is loaded: classify, apply (batch,
/// then one at a time; no build hook, so compilers are checked from metadata), next set.
fn plan(
    current: &PackageSet,
    request: &PackageSetUpdate,
    catalog: &Catalog,
    authority: Authority,
    today: Date,
) -> (Outcome, Option<PackageSet>) {
    let classified = classify(current, request, catalog, authority).expect("classifies");
    let mut no_hook = |_: &Version, _: &BTreeMap<PackageName, Version>| Ok::<_, Infallible>(Ok(()));
    let outcome = match apply_with_fallback(
        current,
        &classified.changes,
        catalog,
        true,
        &mut no_hook,
        &mut |_, _, _| {},
    ) {
        Ok(o) => o,
        Err(never) => match never {},
    };
    let next = next_set(current, &outcome, today);
    (outcome, next)
}

/// A package outside `current` with a published version depending on a package that is
/// not in `current` either: adding it makes the set fail the dependency check. A version
/// recorded as building with the set's compiler is preferred, so that the dependency is
/// the only problem.
fn breaking_addition(current: &PackageSet, catalog: &Catalog) -> Option<(PackageName, Version)> {
    let candidates = || {
        catalog
            .names()
            .filter(|n| !current.packages.contains_key(*n))
            .flat_map(|n| catalog.versions(n).map(move |v| (n, v)))
            .filter(|(n, v)| {
                catalog.get(n, v).is_some_and(|e| {
                    e.dependencies
                        .iter()
                        .any(|d| d != *n && !current.packages.contains_key(d))
                })
            })
    };
    let builds = |n: &PackageName, v: &Version| {
        catalog
            .get(n, v)
            .is_some_and(|e| e.compilers.contains(&current.compiler))
    };
    candidates()
        .find(|(n, v)| builds(n, v))
        .or_else(|| candidates().next())
        .map(|(n, v)| (n.clone(), v.clone()))
}

/// How many set members the checks of an [`apply_with_fallback`] run went over: the batch
/// candidate, then (when it failed) each one-at-a-time candidate.
fn members_checked(
    current: &PackageSet,
    changes: &[Change],
    catalog: &Catalog,
    out: &Outcome,
) -> u64 {
    let size_after = |n: usize, c: &Change| match c {
        Change::Add { .. } => n + 1,
        Change::Remove { .. } => n - 1,
        _ => n,
    };
    let ordered = fallback_order(&current.packages, changes, catalog);
    let mut total = ordered.iter().fold(current.packages.len(), size_after);
    if out.batch_passed {
        return total as u64;
    }
    let mut kept = current.packages.len();
    for change in &ordered {
        let candidate = size_after(kept, change);
        total += candidate;
        if out.accepted.contains(change) {
            kept = candidate;
        }
    }
    total as u64
}

fn benches(c: &mut Criterion) {
    let Some(root) = regis::testing::purescript_fixtures() else {
        return;
    };
    let root = root.join("package-set-samples");
    let (registry_path, index_path) = (root.join("registry"), root.join("index"));
    let request_path = root.join("update-80.7.0-to-80.8.0.json");
    let expected = root.join("80.8.0.json");
    if ![&registry_path, &index_path, &request_path, &expected]
        .iter()
        .all(|p| p.exists())
    {
        eprintln!(
            "note: {} is incomplete: no package_set benchmark registered",
            root.display()
        );
        return;
    }
    let expected = std::fs::read_to_string(expected).expect("80.8.0.json");
    let request = match Operation::parse(&std::fs::read_to_string(&request_path).unwrap()) {
        Ok(Operation::PackageSetUpdate(u)) => u,
        other => panic!("the update sample is not a package set update: {other:?}"),
    };
    let today: Date = "2026-08-18".parse().unwrap();
    let config = Config::default();
    let storage = MemoryStorage::new();
    let inputs = Inputs {
        config: &config,
        registry: &registry_path,
        index: &index_path,
        stores: regis::storage::Stores::single(&storage),
        today,
    };

    // Once outside timing: the data, and the results each case must reproduce.
    let registry = RegistryDir::new(&registry_path);
    let metadata = registry.all_metadata().expect("metadata");
    let view = IndexDir::new(&index_path).view().expect("index");
    let catalog = Catalog::from_index(&view, &metadata);
    let current = registry
        .latest_package_set()
        .expect("package sets")
        .expect("a package set");
    let catalog_versions: usize = catalog.names().map(|n| catalog.versions(n).count()).sum();

    let report = op::dry_run(&inputs, &request, Authority::Anyone, &Silent).expect("dry run");
    let set = report.set.as_ref().expect("a new set");
    assert_eq!(set.to_json(), expected, "dry run reproduces 80.8.0.json");
    assert!(report.batch_passed && report.rejected.is_empty());

    let classified = classify(&current, &request, &catalog, Authority::Anyone).unwrap();
    let (outcome, next) = plan(&current, &request, &catalog, Authority::Anyone, today);
    assert_eq!(
        next.as_ref().map(PackageSet::to_json).as_ref(),
        Some(&expected)
    );
    let plan_checked = members_checked(&current, &classified.changes, &catalog, &outcome);

    let (bad_name, bad_version) =
        breaking_addition(&current, &catalog).expect("a version that cannot join the set");
    let mut broken = request.clone();
    broken
        .packages
        .insert(bad_name.clone(), Some(bad_version.clone()));
    let broken_changes = classify(&current, &broken, &catalog, Authority::Anyone)
        .unwrap()
        .changes;
    let (fallback, fallback_next) = plan(&current, &broken, &catalog, Authority::Anyone, today);
    assert!(!fallback.batch_passed);
    assert_eq!(fallback.accepted.len(), 3, "{fallback:?}");
    assert!(
        fallback
            .accepted
            .iter()
            .all(|c| matches!(c, Change::Upgrade { .. })),
        "{fallback:?}"
    );
    assert!(
        matches!(
            fallback.rejected.as_slice(),
            [(Change::Add { name, .. }, _)] if name == &bad_name
        ),
        "{fallback:?}"
    );
    assert_eq!(
        fallback_next.as_ref().map(PackageSet::to_json).as_ref(),
        Some(&expected)
    );
    let fallback_checked = members_checked(&current, &broken_changes, &catalog, &fallback);

    let daily = op::daily(&inputs, None, &Silent).expect("daily");
    let proposed = daily.proposal.as_ref().map_or(0, |p| p.packages.len());
    let (daily_accepted, daily_rejected, daily_set) =
        daily.update.as_ref().map_or((0, 0, None), |u| {
            (
                u.accepted.len(),
                u.rejected.len(),
                u.set.as_ref().map(|s| s.version.clone()),
            )
        });

    eprintln!(
        "package_set: {} packages in set {} (compiler {}), {} packages / {} versions in the catalog ({} metadata files, {} index files)",
        current.packages.len(),
        current.version,
        current.compiler,
        catalog.names().count(),
        catalog_versions,
        metadata.len(),
        view.packages().count(),
    );
    eprintln!(
        "package_set/update: {} changes ({}), batch passed, new set {}",
        classified.changes.len(),
        classified
            .changes
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        set.version
    );
    eprintln!(
        "package_set/fallback: {} changes (the update's + add `{bad_name}@{bad_version}`), {} attempts, {} accepted, {} rejected ({}), {} members checked",
        broken_changes.len(),
        broken_changes.len() + 1,
        fallback.accepted.len(),
        fallback.rejected.len(),
        fallback.rejected[0].1,
        fallback_checked
    );
    eprintln!(
        "package_set/daily: {proposed} packages proposed, {daily_accepted} accepted, {daily_rejected} rejected, new set {}",
        daily_set.map_or("none".to_owned(), |v| v.to_string())
    );

    let mut group = common::group(c, "package_set");
    // End to end: throughput in packages read (a metadata file and an index file each).
    group.throughput(Throughput::Elements(metadata.len() as u64));
    group.bench_function("update_80_7_0_to_80_8_0", |b| {
        b.iter(|| {
            op::dry_run(
                black_box(&inputs),
                black_box(&request),
                Authority::Anyone,
                &Silent,
            )
            .expect("dry run")
        })
    });
    // Pure: throughput in set members checked over all candidates.
    group.throughput(Throughput::Elements(plan_checked));
    group.bench_function("plan_only_80_7_0_to_80_8_0", |b| {
        b.iter(|| {
            plan(
                black_box(&current),
                black_box(&request),
                black_box(&catalog),
                Authority::Anyone,
                today,
            )
        })
    });
    group.throughput(Throughput::Elements(fallback_checked));
    group.bench_function("fallback_one_at_a_time", |b| {
        b.iter(|| {
            plan(
                black_box(&current),
                black_box(&broken),
                black_box(&catalog),
                Authority::Anyone,
                today,
            )
        })
    });
    group.throughput(Throughput::Elements(metadata.len() as u64));
    group.bench_function("daily_proposal", |b| {
        b.iter(|| op::daily(black_box(&inputs), None, &Silent).expect("daily"))
    });
    group.finish();
}

criterion_group!(package_set_benches, benches);
criterion_main!(package_set_benches);
