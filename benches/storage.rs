//! `regis storage sync` benchmarks (see `benches/README.md`), over a synthetic registry of
//! 1,000 published versions with 20 KB tarballs, every store already in sync (the daily
//! case: every object read and its hash checked, nothing copied):
//!
//! - `storage/sync_dir_and_dir_mirror`: the primary and one mirror, both directories.
//! - `storage/sync_dir_and_s3_mirror`: the mirror in a real S3 store (Garage on 127.0.0.1,
//!   as the tests start it; skipped without `garage` on PATH).

mod common;

use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use regis::operation::sync;
use regis::schema::Sha256;
use regis::storage::{FsStorage, ObjectStorage, Storage, StorageKey, Stores};
use regis::store::RegistryDir;

const VERSIONS: usize = 1_000;
const TARBALL_BYTES: usize = 20_000;

/// A registry of `VERSIONS` one-version packages, their tarballs in `<dir>/storage`.
fn registry(dir: &Path) -> (RegistryDir, FsStorage) {
    let metadata = dir.join("registry/metadata");
    std::fs::create_dir_all(&metadata).unwrap();
    let storage = FsStorage::new(dir.join("storage"));
    for i in 0..VERSIONS {
        let name = format!("pkg{i:05}");
        let bytes: Vec<u8> = (0..TARBALL_BYTES)
            .map(|j| (j.wrapping_mul(31) ^ i) as u8)
            .collect();
        let key = StorageKey::tarball(&name.parse().unwrap(), &"1.0.0".parse().unwrap());
        storage.put(&key, &bytes).unwrap();
        let json = format!(
            r#"{{
  "location": {{
    "githubOwner": "o",
    "githubRepo": "{name}"
  }},
  "published": {{
    "1.0.0": {{
      "bytes": {},
      "compilers": [
        "0.15.15"
      ],
      "hash": "{}",
      "publishedTime": "2026-01-01T00:00:00.000Z",
      "ref": ""
    }}
  }},
  "unpublished": {{}}
}}
"#,
            bytes.len(),
            Sha256::of(&bytes)
        );
        std::fs::write(metadata.join(format!("{name}.json")), json).unwrap();
    }
    (RegistryDir::new(dir.join("registry")), storage)
}

fn benches(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    let (registry, primary) = registry(tmp.path());
    let mut cases: Vec<(&str, Box<dyn Storage>)> = vec![(
        "sync_dir_and_dir_mirror",
        Box::new(FsStorage::new(tmp.path().join("mirror"))),
    )];
    let s3 = regis::testing::S3Prefix::new();
    match &s3 {
        Some(s3) => cases.push((
            "sync_dir_and_s3_mirror",
            Box::new(ObjectStorage::open_with(&s3.url, s3.env()).unwrap()),
        )),
        None => eprintln!("note: no `garage` on PATH: skipping storage/sync_dir_and_s3_mirror"),
    }
    let mut group = common::group(c, "storage");
    group.throughput(Throughput::Elements(VERSIONS as u64));
    for (name, mirror) in cases {
        let mirrors = [mirror];
        let stores = Stores {
            primary: &primary,
            mirrors: &mirrors,
        };
        // The first sync copies every tarball to the mirror; the measured ones verify.
        let first = sync::sync(&registry, stores, false).unwrap();
        assert_eq!(first.stores[1].copied.len(), VERSIONS);
        group.bench_function(name, |b| {
            b.iter(|| {
                let report = sync::sync(&registry, stores, false).unwrap();
                assert!(report.is_clean() && report.stores[1].verified == VERSIONS);
            })
        });
    }
    group.finish();
}

criterion_group!(storage, benches);
criterion_main!(storage);
