//! Orphans and leftovers in storage: `regis check` reports them, `gc` removes them only when
//! nothing records them and they are older than the in-flight window, and a publish that
//! finds an orphan already stored makes it young again.

use std::path::Path;
use std::time::{Duration, SystemTime};

use regis::check::{self, FindingKind};
use regis::operation::gc;
use regis::storage::{FsStorage, Storage, StorageKey};
use regis::store::{IndexDir, RegistryDir};
use regis::testing::TestRegistry;

fn age(path: &Path, by: Duration) {
    let file = std::fs::File::options().append(true).open(path).unwrap();
    file.set_modified(SystemTime::now() - by).unwrap();
}

fn findings(t: &TestRegistry) -> Vec<(FindingKind, String)> {
    let report = check::run(
        &RegistryDir::new(t.registry.workdir()),
        &IndexDir::new(t.index.workdir()),
        Some(regis::storage::Stores::single(&t.storage)),
        None,
    )
    .unwrap();
    report
        .findings
        .into_iter()
        .map(|f| {
            (
                f.kind,
                f.file.rsplit('/').take(2).collect::<Vec<_>>().join("<"),
            )
        })
        .collect()
}

#[test]
fn unrecorded_tarballs_go_only_when_old_and_leftovers_are_reported() {
    let t = TestRegistry::new();
    t.release(&t.package("prelude", "1.0.0", &[]));
    let storage = FsStorage::new(&t.layout.storage);
    // What a publish that did not land leaves: a tarball nothing records.
    let orphan = StorageKey::tarball(&"ghost".parse().unwrap(), &"1.0.0".parse().unwrap());
    storage.put(&orphan, b"a tarball nobody recorded").unwrap();
    // An interrupted write, and a stray file.
    let tmp = t.layout.storage.join("prelude/.regis-tmp-abc123");
    std::fs::write(&tmp, b"half a tarball").unwrap();
    std::fs::write(t.layout.storage.join("notes.txt"), b"hello").unwrap();

    let mut found = findings(&t);
    found.sort();
    assert_eq!(
        found,
        [
            (FindingKind::OrphanTarball, "1.0.0.tar.gz<ghost".to_owned()),
            (
                FindingKind::InterruptedWrite,
                ".regis-tmp-abc123<prelude".to_owned()
            ),
            (FindingKind::UnexpectedFile, "notes.txt<storage".to_owned()),
        ]
    );

    // Young: a publish may be about to record it. Nothing goes.
    let report = gc::gc(&t.ctx(), false).unwrap();
    assert_eq!(report.referenced, 1);
    assert!(report.removed.is_empty(), "{report:?}");
    assert_eq!(report.in_flight.len(), 1);
    assert!(report.temporary.is_empty());
    assert_eq!(report.unexpected, ["notes.txt"]);
    assert!(storage.get(&orphan).unwrap().is_some());

    // Old: a dry run says so and removes nothing; then gc removes both.
    let window = gc::in_flight_window(t.config.push_retry_seconds);
    age(&storage.path_of(&orphan), window + Duration::from_secs(60));
    age(&tmp, window + Duration::from_secs(60));
    let dry = gc::gc(&t.ctx(), true).unwrap();
    assert_eq!(dry.removed, std::slice::from_ref(&orphan));
    assert_eq!(dry.temporary, ["prelude/.regis-tmp-abc123"]);
    assert!(storage.get(&orphan).unwrap().is_some() && tmp.exists());
    let report = gc::gc(&t.ctx(), false).unwrap();
    assert_eq!(report.removed, std::slice::from_ref(&orphan));
    assert_eq!(report.temporary, ["prelude/.regis-tmp-abc123"]);
    assert!(storage.get(&orphan).unwrap().is_none() && !tmp.exists());
    let prelude = StorageKey::tarball(&"prelude".parse().unwrap(), &"1.0.0".parse().unwrap());
    assert!(
        storage.get(&prelude).unwrap().is_some(),
        "a recorded tarball stays"
    );
    assert_eq!(
        findings(&t),
        [(FindingKind::UnexpectedFile, "notes.txt<storage".to_owned())]
    );
}

#[test]
fn a_publish_that_finds_an_old_orphan_makes_it_young() {
    let t = TestRegistry::new();
    let p = t.package("prelude", "1.0.0", &[]);
    t.release(&p);
    let storage = FsStorage::new(&t.layout.storage);
    let key = StorageKey::tarball(&"prelude".parse().unwrap(), &"1.0.0".parse().unwrap());
    let bytes = storage.get(&key).unwrap().unwrap();
    let window = gc::in_flight_window(t.config.push_retry_seconds);
    age(&storage.path_of(&key), window * 2);
    // the same bytes put again (a re-run finding them stored) restart the clock
    storage.put(&key, &bytes).unwrap();
    let listed = storage.list().unwrap();
    assert!(listed[0].age < Duration::from_secs(60), "{listed:?}");
    assert_eq!(gc::in_flight_window(10), Duration::from_secs(3600));
    assert_eq!(gc::in_flight_window(7200), Duration::from_secs(14_400));
}

#[test]
fn the_next_write_in_a_directory_sweeps_an_old_interrupted_write() {
    let dir = tempfile::tempdir().unwrap();
    let storage = FsStorage::new(dir.path());
    std::fs::create_dir_all(dir.path().join("a")).unwrap();
    let old = dir.path().join("a/.tmpXYZ");
    let young = dir.path().join("a/.regis-tmp-young");
    std::fs::write(&old, b"x").unwrap();
    std::fs::write(&young, b"y").unwrap();
    age(&old, Duration::from_secs(3600));
    let key = StorageKey::tarball(&"a".parse().unwrap(), &"1.0.0".parse().unwrap());
    storage.put(&key, b"tarball").unwrap();
    assert!(!old.exists(), "an interrupted write an hour old goes");
    assert!(young.exists(), "a write that may still be running stays");
}
