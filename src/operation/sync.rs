//! `regis storage sync`: bring every store — the primary and each mirror — to hold exactly
//! the tarballs metadata records. Every object of a published version is read from every
//! store and its hash checked against metadata; a store that lacks one gets a copy from a
//! store holding the recorded bytes; a store holding other bytes is reported, never
//! overwritten (stores are create-only). The tarballs of unpublished versions are deleted
//! from every store (an unpublish whose mirror delete failed).
//!
//! The registry checkout is read as it is (no git): run it on an up-to-date checkout. A
//! version published after the checkout's state is simply not seen; a copy made for it
//! by a later run is the same bytes.

use serde::Serialize;

use crate::schema::{PackageName, PackageVersion, Sha256, Version};
use crate::storage::{Storage, StorageError, StorageKey, Stores};
use crate::store::{RegistryDir, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a sync did (or, on a dry run, would do) to each store, and what it could not fix.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncReport {
    /// Whether this was a dry run: `copied` and `deleted` say what a sync would do.
    pub dry_run: bool,
    /// Published versions whose tarball was looked for in every store.
    pub published: usize,
    /// One entry per store, the primary first.
    pub stores: Vec<StoreSync>,
    /// What needs a person: bytes that differ from metadata, a tarball no store holds, a
    /// read, copy or delete that failed. Sorted by package and version.
    pub problems: Vec<SyncProblem>,
}

impl SyncReport {
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
}

/// One store's part of a sync.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreSync {
    /// The store, as [`Storage::describe`] names it.
    pub store: String,
    /// Whether it is the primary storage (else a mirror).
    pub primary: bool,
    /// Tarballs it held with the recorded hash.
    pub verified: usize,
    /// The versions whose tarballs were copied into it (`{name, version}` in JSON).
    pub copied: Vec<PackageVersion>,
    /// The unpublished versions whose tarballs were deleted from it.
    pub deleted: Vec<PackageVersion>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncProblem {
    pub package: PackageName,
    pub version: Version,
    /// The store it concerns; `null` when it concerns them all (no store holds the
    /// tarball).
    pub store: Option<String>,
    pub message: String,
}

impl std::fmt::Display for SyncProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}@{}`: ", self.package, self.version)?;
        if let Some(store) = &self.store {
            write!(f, "`{store}`: ")?;
        }
        f.write_str(&self.message)
    }
}

/// What one store holds under a key.
enum Held {
    /// The recorded bytes.
    Recorded(Vec<u8>),
    Absent,
    /// Other bytes, with their hash.
    Other(Sha256),
    /// The read failed.
    Failed(String),
}

/// Sync every store of `stores` with what `registry`'s metadata records; on a dry run only
/// read, and report what would be copied and deleted.
pub fn sync(
    registry: &RegistryDir,
    stores: Stores<'_>,
    dry_run: bool,
) -> Result<SyncReport, SyncError> {
    let all: Vec<&dyn Storage> = stores.all().collect();
    let mut report = SyncReport {
        stores: (all.iter().enumerate())
            .map(|(i, s)| StoreSync {
                store: s.describe(),
                primary: i == 0,
                ..StoreSync::default()
            })
            .collect(),
        dry_run,
        ..SyncReport::default()
    };
    let metadata = registry.all_metadata()?;
    let published: Vec<(&PackageName, &Version, &Sha256)> = (metadata.iter())
        .flat_map(|(name, m)| (m.published.iter()).map(move |(v, entry)| (name, v, &entry.hash)))
        .collect();
    report.published = published.len();
    for batch in published.chunks(BATCH) {
        let keys: Vec<StorageKey> = (batch.iter())
            .map(|(name, version, _)| StorageKey::tarball(name, version))
            .collect();
        let mut answers: Vec<_> = (all.iter())
            .map(|store| store.get_many(&keys).into_iter())
            .collect();
        for &(name, version, hash) in batch {
            let held = (answers.iter_mut())
                .map(|store| Held::of(store.next().expect("an answer per key"), hash))
                .collect();
            sync_published(&all, name, version, hash, held, dry_run, &mut report);
        }
    }
    for (name, m) in &metadata {
        for version in m.unpublished.keys() {
            if !m.published.contains_key(version) {
                delete_unpublished(&all, name, version, dry_run, &mut report);
            }
        }
    }
    report.problems.sort();
    Ok(report)
}

/// How many published versions are read from every store at once: a store that can have
/// several reads in flight ([`Storage::get_many`]) has up to this many, and at most this
/// many tarballs of each store are held in memory.
const BATCH: usize = 32;

impl Held {
    fn of(read: Result<Option<Vec<u8>>, StorageError>, hash: &Sha256) -> Held {
        match read {
            Ok(Some(bytes)) if Sha256::of(&bytes) == *hash => Held::Recorded(bytes),
            Ok(Some(bytes)) => Held::Other(Sha256::of(&bytes)),
            Ok(None) => Held::Absent,
            Err(e) => Held::Failed(crate::error_chain(&e)),
        }
    }
}

/// What each store holds of `name@version` (`held`, in the stores' order): copy the
/// recorded bytes to each store that lacks them, report the rest.
fn sync_published(
    stores: &[&dyn Storage],
    name: &PackageName,
    version: &Version,
    hash: &Sha256,
    held: Vec<Held>,
    dry_run: bool,
    report: &mut SyncReport,
) {
    let key = StorageKey::tarball(name, version);
    let tarball = PackageVersion {
        name: name.clone(),
        version: version.clone(),
    };
    let source = held.iter().find_map(|h| match h {
        Held::Recorded(bytes) => Some(bytes),
        _ => None,
    });
    let mut problem = |store: Option<usize>, message: String| {
        report.problems.push(SyncProblem {
            package: name.clone(),
            version: version.clone(),
            store: store.map(|i| stores[i].describe()),
            message,
        });
    };
    if source.is_none() {
        problem(
            None,
            format!("no store holds `{key}` with the hash metadata records, `{hash}`"),
        );
    }
    for (i, h) in held.iter().enumerate() {
        match h {
            Held::Recorded(_) => report.stores[i].verified += 1,
            Held::Other(found) => problem(
                Some(i),
                format!(
                    "`{key}` has hash `{found}`, but metadata records `{hash}`: a stored tarball is never replaced; remove it by hand, and sync again"
                ),
            ),
            Held::Failed(error) => problem(Some(i), format!("reading `{key}`: {error}")),
            Held::Absent => {
                let Some(bytes) = source else { continue };
                match copy(stores[i], &key, bytes, dry_run) {
                    Ok(()) => report.stores[i].copied.push(tarball.clone()),
                    Err(e) => problem(
                        Some(i),
                        format!("copying `{key}`: {}", crate::error_chain(&e)),
                    ),
                }
            }
        }
    }
}

fn copy(
    store: &dyn Storage,
    key: &StorageKey,
    bytes: &[u8],
    dry_run: bool,
) -> Result<(), StorageError> {
    if !dry_run {
        store.put(key, bytes)?;
    }
    Ok(())
}

/// Delete the tarball of an unpublished version from every store holding it.
fn delete_unpublished(
    stores: &[&dyn Storage],
    name: &PackageName,
    version: &Version,
    dry_run: bool,
    report: &mut SyncReport,
) {
    let key = StorageKey::tarball(name, version);
    for (i, store) in stores.iter().enumerate() {
        let deleted = match dry_run {
            true => store.get(&key).map(|held| held.is_some()),
            false => store.delete(&key),
        };
        match deleted {
            Ok(true) => report.stores[i].deleted.push(PackageVersion {
                name: name.clone(),
                version: version.clone(),
            }),
            Ok(false) => {}
            Err(e) => report.problems.push(SyncProblem {
                package: name.clone(),
                version: version.clone(),
                store: Some(store.describe()),
                message: format!(
                    "deleting `{key}` of an unpublished version: {}",
                    crate::error_chain(&e)
                ),
            }),
        }
    }
}
