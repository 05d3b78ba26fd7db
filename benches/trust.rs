//! TUF repository benchmarks (see `benches/README.md`): what one publish costs the
//! registry's hash-bin repository (issue 14 item 2), and what a client pays to load it, on
//! synthetic repositories of N targets (half tarballs `pkg-NNNNNN/1.V.0.tar.gz` with
//! `custom` `entry` and `atom` as `operation::tuf::changes` makes them, half their atoms
//! `atoms/pkg-NNNNNN/<64 hex>.json`), each case at several bin counts:
//!
//! - `apply_one_publish/<targets>/<bins>`: `trust::apply_changes` for one publish (a
//!   tarball target and an atom target: the bins they fall in, the snapshot and the
//!   timestamp re-signed and written). Each iteration adds one release.
//! - `publish_copy/<targets>/<bins>`: `operation::tuf::publish` after one publish, to a
//!   directory storage (the bins changed, the snapshot, the timestamp).
//! - `client_load/<targets>/<bins>`: `Client::load` from that directory (tough's loader:
//!   root, timestamp, snapshot, `targets.json` and every bin, each verified, then every
//!   target checked against the delegations, which costs about targets × bins / 2
//!   SHA-256s): sampled up to 10,000 targets in 4096 bins, timed once up to a million
//!   targets in 256 bins, skipped beyond.
//!
//! The repository is built once per target count and bin count with
//! `trust::create_repository`, outside timing, and copied whole to storage by one
//! `publish` (as `regis verify --adopt` does); the times of both are printed.
//! `REGIS_TRUST_TARGETS` (comma-separated, default `10000,1000000`) picks the target
//! counts and `REGIS_TRUST_BINS` the bin counts (default 256 and 4096, and 65536 at a
//! million targets).

mod common;

use std::cell::Cell;
use std::path::{Path, PathBuf};

use criterion::measurement::WallTime;
use criterion::{BatchSize, BenchmarkGroup, Criterion, criterion_group, criterion_main};
use jiff::{SignedDuration, Timestamp};
use regis::operation::client::{Client, Origin};
use regis::operation::tuf::{self as op_tuf, Tuf};
use regis::schema::Sha256;
use regis::testing::TestRegistry;
use regis::trust::{self, Bins, Chain, Online, Role, SigningKey};
use tough::schema::{Signed, Target};

/// Release `i`'s two targets: its atom and its tarball, as a publish lists them.
fn release(i: usize) -> [(String, Target); 2] {
    let name = format!("pkg-{:06}", i / 10);
    let atom_bytes = 600 + (i % 200) as u64;
    let atom = hex::encode(Sha256::of(format!("atom {i}").as_bytes()).digest());
    let entry = Sha256::of(format!("entry {i}").as_bytes());
    let custom = [
        (
            "entry".to_owned(),
            serde_json::Value::String(entry.to_string()),
        ),
        ("atom".to_owned(), serde_json::Value::String(atom.clone())),
    ];
    [
        (
            format!("atoms/{name}/{atom}.json"),
            trust::target(
                &Sha256::of(format!("atom bytes {i}").as_bytes()),
                atom_bytes,
                Default::default(),
            ),
        ),
        (
            format!("{name}/1.{}.0.tar.gz", i % 10),
            trust::target(
                &Sha256::of(format!("tarball {i}").as_bytes()),
                20_000 + (i % 1000) as u64 * 37,
                custom.into(),
            ),
        ),
    ]
}

/// Release `i` as the changes a publish applies.
fn changes(i: usize) -> Vec<trust::Change> {
    release(i)
        .into_iter()
        .map(|(path, target)| trust::Change {
            path,
            target: Some(target),
        })
        .collect()
}

/// The online keys (root version 1 lists them) and how long what they sign lasts.
fn online() -> Online {
    Online {
        targets: SigningKey::generate().0,
        snapshot: SigningKey::generate().0,
        timestamp: SigningKey::generate().0,
        timestamp_expiry: SignedDuration::from_hours(2 * 24),
        expiry: SignedDuration::from_hours(90 * 24),
    }
}

/// A registry (real repos in a tempdir, directory storage) with root version 1 and a TUF
/// repository of `targets` targets in `bins` bins; the next release number.
struct Repo {
    t: TestRegistry,
    tuf: Tuf,
    next: Cell<usize>,
}

impl Repo {
    fn new(targets: usize, bins: Bins) -> Repo {
        let t = TestRegistry::new();
        let registry = t.layout.registry.clone();
        let root_key = SigningKey::generate().0;
        let atom_key = SigningKey::generate().0;
        let online = online();
        let year = Timestamp::from_second(Timestamp::now().as_second() + 365 * 86_400).unwrap();
        let root = trust::new_root(
            &[&root_key],
            1,
            [
                (Role::Targets, &online.targets),
                (Role::Snapshot, &online.snapshot),
                (Role::Timestamp, &online.timestamp),
                (Role::Atom, &atom_key),
            ],
            year,
        )
        .unwrap();
        let mut signed = Signed {
            signed: root,
            signatures: vec![],
        };
        assert!(trust::sign_root(&mut signed, None, &[root_key]).is_empty());
        let file = registry
            .join(trust::ROOT_DIR)
            .join(trust::root_file_name(1));
        trust::write_root_file(&file, &signed).unwrap();
        let chain = Chain::read(&registry).unwrap();
        let releases = targets / 2;
        let started = std::time::Instant::now();
        trust::create_repository(
            &registry,
            &chain.latest().signed,
            &online,
            bins,
            Timestamp::now(),
            (0..releases).flat_map(release),
        )
        .unwrap();
        eprintln!(
            "{targets} targets in {} bins: created in {:.1} s, {} in `tuf/`",
            bins.count(),
            started.elapsed().as_secs_f64(),
            mib(dir_bytes(&registry.join("tuf")))
        );
        Repo {
            t,
            tuf: Tuf { online, chain },
            next: Cell::new(releases),
        }
    }

    fn registry(&self) -> &Path {
        &self.t.layout.registry
    }

    /// The changes of the next release.
    fn next_changes(&self) -> Vec<trust::Change> {
        let i = self.next.get();
        self.next.set(i + 1);
        changes(i)
    }

    /// The targets the repository lists.
    fn targets(&self) -> usize {
        2 * self.next.get()
    }

    /// One more publish applied; the registry-relative paths written.
    fn apply_next(&self) -> Vec<PathBuf> {
        apply(self.registry(), &self.tuf, &self.next_changes())
    }

    /// The repository copied to storage, as an operation does after its commit.
    fn publish(&self) -> op_tuf::Published {
        op_tuf::publish(&self.t.ctx(), Some(&self.tuf))
            .unwrap()
            .unwrap()
    }
}

fn apply(registry: &Path, tuf: &Tuf, changes: &[trust::Change]) -> Vec<PathBuf> {
    let written = trust::apply_changes(
        registry,
        &tuf.chain.latest().signed,
        &tuf.online,
        Timestamp::now(),
        changes,
    )
    .unwrap();
    assert!(!written.is_empty());
    written
}

fn dir_bytes(dir: &Path) -> u64 {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1 << 20) as f64)
}

/// `written` (registry-relative), each with its size.
fn sizes(registry: &Path, written: &[PathBuf]) -> String {
    let mut total = 0;
    let mut each = Vec::new();
    for path in written {
        let bytes = std::fs::metadata(registry.join(path)).unwrap().len();
        total += bytes;
        let name = path.file_name().unwrap().to_string_lossy();
        each.push(format!("{name} {bytes} B"));
    }
    format!("{} = {total} B", each.join(" + "))
}

/// Comma-separated counts from the environment variable `var`, else `default`.
fn counts(var: &str, default: &[u64]) -> Vec<u64> {
    match std::env::var(var) {
        Ok(text) => (text.split(','))
            .map(|n| n.trim().replace('_', "").parse().expect("a count"))
            .collect(),
        Err(_) => default.to_vec(),
    }
}

/// tough's loader checks each target against the delegations in order, hashing its path
/// once for each bin before its own (`Targets::validate`), so a load costs about
/// targets × bins / 2 SHA-256s: beyond this product a load is timed once, not sampled, and
/// beyond `CLIENT_LOAD_ONCE_MAX` not at all (a million targets in 4096 bins: about 11 min).
const CLIENT_LOAD_SAMPLED_MAX: u64 = 10_000 * 4096;
const CLIENT_LOAD_ONCE_MAX: u64 = 1_000_000 * 256;

fn benches(c: &mut Criterion) {
    let mut group = common::group(c, "trust");
    for targets in counts("REGIS_TRUST_TARGETS", &[10_000, 1_000_000]) {
        let default: &[u64] = if targets >= 1_000_000 {
            &[256, 4096, 65536]
        } else {
            &[256, 4096]
        };
        for count in counts("REGIS_TRUST_BINS", default) {
            let bins = Bins::new(count).expect("16, 256, 4096 or 65536 bins");
            let case = format!("{targets}/{count}");
            let repo = Repo::new(targets as usize, bins);
            let registry = repo.registry().to_path_buf();
            let top = std::fs::metadata(registry.join(trust::TARGETS_FILE))
                .unwrap()
                .len();
            let written = repo.apply_next();
            eprintln!(
                "apply_one_publish/{case}: re-writes {} (targets.json, read by each change: {top} B)",
                sizes(&registry, &written)
            );
            group.bench_function(format!("apply_one_publish/{case}"), |b| {
                b.iter_batched(
                    || repo.next_changes(),
                    |changes| apply(&registry, &repo.tuf, &changes),
                    BatchSize::PerIteration,
                )
            });

            // Storage holds the whole repository (as `regis verify --adopt` copies it);
            // then one publish at a time goes up.
            let started = std::time::Instant::now();
            let first = repo.publish();
            eprintln!(
                "publish_copy/{case}: the whole repository copied in {:.1} s ({} files)",
                started.elapsed().as_secs_f64(),
                first.written.len()
            );
            repo.apply_next();
            let published = repo.publish();
            let copied: Vec<PathBuf> = published.written.iter().map(PathBuf::from).collect();
            eprintln!(
                "publish_copy/{case}: then each publish copies {}",
                sizes(&repo.t.layout.storage, &copied)
            );
            group.bench_function(format!("publish_copy/{case}"), |b| {
                b.iter_batched(
                    || {
                        repo.apply_next();
                    },
                    |()| assert!(repo.publish().written.len() >= 3),
                    BatchSize::PerIteration,
                )
            });

            client_load(&mut group, &repo, &case, targets * count);
        }
    }
    group.finish();
}

/// `client_load/<case>`: sampled, timed once or skipped by the size of tough's check.
fn client_load(group: &mut BenchmarkGroup<'_, WallTime>, repo: &Repo, case: &str, product: u64) {
    let storage = &repo.t.layout.storage;
    let metadata = mib(dir_bytes(&storage.join("tuf")));
    if product > CLIENT_LOAD_ONCE_MAX {
        eprintln!(
            "client_load/{case}: skipped ({metadata} of metadata in storage; see CLIENT_LOAD_ONCE_MAX)"
        );
        return;
    }
    let root = std::fs::read(
        repo.registry()
            .join(trust::ROOT_DIR)
            .join(trust::root_file_name(1)),
    )
    .unwrap();
    let state = tempfile::tempdir().unwrap();
    let load = || {
        let origin = Origin::parse(storage.to_str().unwrap()).unwrap();
        Client::load(origin, &root, state.path()).unwrap()
    };
    let started = std::time::Instant::now();
    let client = load();
    let once = started.elapsed().as_secs_f64();
    assert_eq!(client.targets().len(), repo.targets());
    drop(client);
    eprintln!("client_load/{case}: {once:.2} s the first time, {metadata} of metadata in storage");
    if product <= CLIENT_LOAD_SAMPLED_MAX {
        group.bench_function(format!("client_load/{case}"), |b| b.iter(load));
    }
}

criterion_group!(trust_benches, benches);
criterion_main!(trust_benches);
