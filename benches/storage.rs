//! `regis storage sync` benchmarks (see `benches/README.md`), over a synthetic registry of
//! published versions with 20 KB tarballs, every store already in sync (the daily case:
//! every object read and its hash checked, nothing copied):
//!
//! - `storage/sync_dir_and_dir_mirror`: 1,000 versions, the primary and one mirror, both
//!   directories.
//! - `storage/sync_dir_and_s3_mirror`: 100 versions, the mirror in a real S3 store (Garage
//!   on 127.0.0.1, as the tests start it; skipped without `garage` on PATH). Each read of a
//!   20 KB object from Garage 2.5 takes about 44 ms here against 1 ms for a 1-byte one:
//!   a delayed-ACK stall on the server's multi-segment answers, not regis's time.

mod common;

use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use regis::operation::sync;
use regis::schema::Sha256;
use regis::storage::{FsStorage, ObjectStorage, Storage, StorageKey, Stores};
use regis::store::RegistryDir;

const TARBALL_BYTES: usize = 20_000;

/// A registry of `versions` one-version packages, their tarballs in `<dir>/storage`.
fn registry(dir: &Path, versions: usize) -> (RegistryDir, FsStorage) {
    let metadata = dir.join("registry/metadata");
    std::fs::create_dir_all(&metadata).unwrap();
    let storage = FsStorage::new(dir.join("storage"));
    for i in 0..versions {
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
    let mut cases: Vec<(&str, usize, Box<dyn Storage>)> = vec![(
        "sync_dir_and_dir_mirror",
        1_000,
        Box::new(FsStorage::new(tmp.path().join("dir/mirror"))),
    )];
    match regis::testing::S3Prefix::new() {
        Some(s3) => cases.push((
            "sync_dir_and_s3_mirror",
            100,
            Box::new(ObjectStorage::open_with(&s3.url, s3.env()).unwrap()),
        )),
        None => eprintln!("note: no `garage` on PATH: skipping storage/sync_dir_and_s3_mirror"),
    }
    let mut group = common::group(c, "storage");
    for (name, versions, mirror) in cases {
        let (registry, primary) = registry(&tmp.path().join(name), versions);
        group.throughput(Throughput::Elements(versions as u64));
        let mirrors = [mirror];
        let stores = Stores {
            primary: &primary,
            mirrors: &mirrors,
        };
        // The first sync copies every tarball to the mirror; the measured ones verify.
        let first = sync::sync(&registry, stores, false).unwrap();
        assert_eq!(first.stores[1].copied.len(), versions);
        group.bench_function(name, |b| {
            b.iter(|| {
                let report = sync::sync(&registry, stores, false).unwrap();
                assert!(report.is_clean() && report.stores[1].verified == versions);
            })
        });
    }
    group.finish();
}

criterion_group!(storage, benches);
criterion_main!(storage);
