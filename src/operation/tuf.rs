//! The TUF repository kept in step with every operation: [`signers`] loads the online
//! keys when the registry has a repository (`tuf/targets.json`) and refuses an operation
//! that could not sign; [`changes`] says which targets an operation's atom adds or
//! removes, applied to the registry repo in the metadata's commit
//! ([`super::write_metadata_recorded`]); [`publish`] then copies what the commit holds to
//! storage (`tuf/`), before the index is written. A re-run after a crash finds the commit
//! done and finishes the copy.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use jiff::SignedDuration;
use serde::Serialize;
use tough::schema::{Root, Signed, Snapshot, Targets, Timestamp as TufTimestamp};

use super::Context;
use crate::atom::{AtomError, AtomId, AtomOperation};
use crate::metadata::Metadata;
use crate::schema::{PackageName, Sha256, Version};
use crate::storage::{Storage, StorageKey};
use crate::trust::{self, Chain, Online, SigningKey, TrustError};

/// What signs an operation's record: the atom key (`trustAtomKey`) and, when the registry
/// has a TUF repository, the online keys with the root chain.
#[derive(Debug, Default)]
pub struct Signers {
    pub atom: Option<SigningKey>,
    pub tuf: Option<Tuf>,
}

/// The online keys and the root chain they are checked against.
#[derive(Debug)]
pub struct Tuf {
    pub online: Online,
    pub chain: Chain,
}

impl Tuf {
    fn root(&self) -> &Root {
        &self.chain.latest().signed
    }
}

/// The keys an operation signs with, read before anything is written (a key that cannot
/// be read refuses the operation whole). A registry with a TUF repository needs
/// `trustTargetsKey`, `trustSnapshotKey` and `trustTimestampKey`.
pub fn signers(ctx: &Context<'_>) -> Result<Signers, AtomError> {
    let workdir = ctx.registry.workdir();
    let atom = match &ctx.config.trust_atom_key {
        Some(source) => Some(source.resolved(workdir).load()?),
        None => None,
    };
    let tuf = if trust::repository_exists(workdir) {
        Some(tuf_signer(ctx.config, workdir)?)
    } else {
        None
    };
    Ok(Signers { atom, tuf })
}

/// The online keys from the config, checked against the root chain in `registry`.
pub fn tuf_signer(config: &crate::config::Config, registry: &Path) -> Result<Tuf, AtomError> {
    let load = |field: &'static str, source: &Option<trust::KeySource>| {
        let source = source
            .as_ref()
            .ok_or(TrustError::OnlineKeyUnset { field })?;
        source.resolved(registry).load()
    };
    let days = |n: u64| {
        SignedDuration::from_hours(i64::try_from(n.saturating_mul(24)).unwrap_or(i64::MAX / 3600))
    };
    let online = Online {
        targets: load("trustTargetsKey", &config.trust_targets_key)?,
        snapshot: load("trustSnapshotKey", &config.trust_snapshot_key)?,
        timestamp: load("trustTimestampKey", &config.trust_timestamp_key)?,
        timestamp_expiry: days(config.trust_timestamp_expiry_days),
        expiry: days(config.trust_online_expiry_days),
    };
    let chain = Chain::read(registry)?;
    online.check(&chain.latest().signed)?;
    Ok(Tuf { online, chain })
}

/// The canonical JSON (OLPC, keys sorted) of a version's metadata entry hashed: what a
/// tarball's target records as `entry`, so a client can hold metadata to it.
pub fn entry_hash(m: &Metadata, version: &Version) -> Option<Sha256> {
    m.published
        .get(version)
        .map(|entry| Sha256::of(&crate::atom::canonical(entry)))
}

/// The targets an operation's atom changes: the atom itself; for a publish, the tarball
/// (with the metadata entry's hash and the atom's id in `custom`); for an unpublish, the
/// tarball taken away.
pub fn changes(
    name: &PackageName,
    record: &super::AtomRecord,
    m: &Metadata,
    atom: Option<(AtomId, &[u8])>,
) -> Vec<trust::Change> {
    let (operation, version, tarball) = (
        record.operation,
        record.version.as_ref(),
        record.tarball.as_ref(),
    );
    let mut changes = Vec::new();
    if let Some((id, bytes)) = atom {
        changes.push(trust::Change {
            path: id.key(name).as_str().to_owned(),
            target: Some(trust::target(
                &Sha256::of(bytes),
                bytes.len() as u64,
                BTreeMap::new(),
            )),
        });
    }
    let Some(version) = version else {
        return changes;
    };
    let path = StorageKey::tarball(name, version).as_str().to_owned();
    match (operation, tarball) {
        (AtomOperation::Publish, Some(tarball)) => {
            let mut custom = BTreeMap::new();
            if let Some(entry) = entry_hash(m, version) {
                custom.insert(
                    "entry".to_owned(),
                    serde_json::Value::String(entry.to_string()),
                );
            }
            if let Some((id, _)) = atom {
                custom.insert("atom".to_owned(), serde_json::Value::String(id.to_string()));
            }
            if let Some(release) = &record.release {
                let value = serde_json::to_value(release).expect("a signature is JSON");
                custom.insert("release".to_owned(), value);
            }
            changes.push(trust::Change {
                path,
                target: Some(trust::target(&tarball.hash, tarball.bytes, custom)),
            });
        }
        (AtomOperation::Unpublish, _) => changes.push(trust::Change { path, target: None }),
        _ => {}
    }
    changes
}

/// `changes` applied to the TUF repository in `registry`'s work tree (skipped when the
/// head being written has none: a repository adopted meanwhile lists what it found).
pub fn apply(
    tuf: &Tuf,
    registry: &Path,
    now: crate::schema::Timestamp,
    changes: &[trust::Change],
) -> Result<Vec<PathBuf>, AtomError> {
    if changes.is_empty() || !trust::repository_exists(registry) {
        return Ok(vec![]);
    }
    Ok(trust::apply_changes(
        registry,
        tuf.root(),
        &tuf.online,
        jiff_time(now),
        changes,
    )?)
}

/// What `regis keys refresh` did.
#[derive(Debug, Clone)]
pub struct Refreshed {
    /// `None` when the registry has no TUF repository (nothing to refresh).
    pub commit: Option<crate::git::CommitOutcome>,
    pub published: Option<Published>,
}

/// Re-signs what is due in the registry's TUF repository (a new timestamp always; roles
/// near their expiry; everything the targets role delegates after its keys rotated),
/// commits it, and copies it to storage. Runs daily, so a timestamp never expires while
/// the registry is quiet.
pub fn refresh(ctx: &Context<'_>) -> Result<Refreshed, RefreshError> {
    ctx.registry.sync()?;
    let workdir = ctx.registry.workdir();
    if !trust::repository_exists(workdir) {
        return Ok(Refreshed {
            commit: None,
            published: None,
        });
    }
    let tuf = tuf_signer(ctx.config, workdir)?;
    let commit = ctx.registry.commit_change(
        "Refresh the TUF timestamp",
        ctx.config.push_retry(),
        |root| -> Result<Vec<PathBuf>, RefreshError> {
            Ok(trust::refresh(
                root,
                tuf.root(),
                &tuf.online,
                jiff_time(ctx.now),
            )?)
        },
    )?;
    let published = publish(ctx, Some(&tuf))?;
    Ok(Refreshed {
        commit: Some(commit),
        published,
    })
}

/// Why `regis keys refresh` could not run.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error(transparent)]
    Atom(#[from] AtomError),
    #[error(transparent)]
    Git(#[from] crate::git::GitError),
}

impl From<TrustError> for RefreshError {
    fn from(e: TrustError) -> RefreshError {
        RefreshError::Atom(AtomError::Trust(e))
    }
}

/// `t` as the TUF metadata's time type, to the second.
pub fn jiff_time(t: crate::schema::Timestamp) -> jiff::Timestamp {
    jiff::Timestamp::from_second(t.as_datetime().timestamp()).unwrap_or(jiff::Timestamp::MAX)
}

/// Copies the registry repo's TUF repository to the primary storage (after the commit
/// that changed it, before the index). `None` without a repository.
pub fn publish(ctx: &Context<'_>, tuf: Option<&Tuf>) -> Result<Option<Published>, AtomError> {
    let Some(tuf) = tuf else {
        return Ok(None);
    };
    let workdir = ctx.registry.workdir();
    if !trust::repository_exists(workdir) {
        return Ok(None);
    }
    let published = copy(workdir, tuf.chain.roots(), ctx.storage)?;
    crate::fault::point("tuf:published");
    Ok(Some(published))
}

/// The storage path of a repository file: `tuf/<name>`.
fn storage_key(name: &str) -> StorageKey {
    StorageKey::trust(name)
}

/// How many times the timestamp's conditional write is tried against other writers.
const TIMESTAMP_ATTEMPTS: usize = 16;

/// What [`publish`] copied to storage.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Published {
    /// Storage paths written, in the order written.
    pub written: Vec<String>,
    /// The timestamp version storage serves now.
    pub timestamp: u64,
}

/// Copies the repository in `registry` to `storage`: each root version (`tuf/<N>.root.json`)
/// storage lacks, each role file the registry's snapshot names that storage's current
/// snapshot does not (`tuf/<version>.<role>.json`), the snapshot (`tuf/<V>.snapshot.json`),
/// and last `tuf/timestamp.json` when storage's is older. Each file goes up before the
/// file that names it, so storage always serves a whole snapshot; a re-run after a crash
/// finishes the copy.
fn copy(
    registry: &Path,
    roots: &[Signed<Root>],
    storage: &dyn Storage,
) -> Result<Published, AtomError> {
    let mut written = Vec::new();
    let mut put = |name: String, bytes: &[u8]| -> Result<(), AtomError> {
        let key = storage_key(&name);
        if storage.put(&key, bytes)? == crate::storage::Put::Stored {
            written.push(key.as_str().to_owned());
        }
        Ok(())
    };
    for root in roots {
        let version = root.signed.version.get();
        let name = trust::root_file_name(version);
        if storage.get(&storage_key(&name))?.is_none() {
            let bytes =
                trust::read_metadata_file(&registry.join(trust::ROOT_DIR).join(&name), &name)?;
            put(name, &bytes)?;
        }
    }
    let timestamp_bytes =
        trust::read_metadata_file(&registry.join(trust::TIMESTAMP_FILE), trust::TIMESTAMP_FILE)?;
    let timestamp: Signed<TufTimestamp> =
        trust::parse_metadata(&timestamp_bytes, trust::TIMESTAMP_FILE)?;
    let timestamp_key = storage_key("timestamp.json");
    let stored_bytes = storage.get(&timestamp_key)?;
    let stored_timestamp = match &stored_bytes {
        Some(bytes) => Some(trust::parse_metadata::<Signed<TufTimestamp>>(
            bytes,
            "tuf/timestamp.json",
        )?),
        None => None,
    };
    if let Some(stored) = &stored_timestamp
        && stored.signed.version >= timestamp.signed.version
    {
        return Ok(Published {
            written,
            timestamp: stored.signed.version.get(),
        });
    }
    let snapshot_bytes =
        trust::read_metadata_file(&registry.join(trust::SNAPSHOT_FILE), trust::SNAPSHOT_FILE)?;
    let snapshot: Signed<Snapshot> = trust::parse_metadata(&snapshot_bytes, trust::SNAPSHOT_FILE)?;
    let snapshot_name = format!("{}.snapshot.json", snapshot.signed.version);
    if storage.get(&storage_key(&snapshot_name))?.is_none() {
        // The files storage's last snapshot named are there already.
        let mut stored_meta: HashMap<String, u64> = HashMap::new();
        if let Some(stored) = &stored_timestamp
            && let Some(m) = stored.signed.meta.get("snapshot.json")
            && let Some(bytes) =
                storage.get(&storage_key(&format!("{}.snapshot.json", m.version)))?
        {
            let stored_snapshot: Signed<Snapshot> =
                trust::parse_metadata(&bytes, "tuf/snapshot.json")?;
            stored_meta = (stored_snapshot.signed.meta.iter())
                .map(|(file, m)| (file.clone(), m.version.get()))
                .collect();
        }
        for (file, m) in &snapshot.signed.meta {
            if stored_meta.get(file) == Some(&m.version.get()) {
                continue;
            }
            let role = file.strip_suffix(".json").unwrap_or(file);
            let source = if role == "targets" {
                trust::TARGETS_FILE.to_owned()
            } else {
                trust::bin_file(role)
            };
            let bytes = trust::read_metadata_file(&registry.join(&source), &source)?;
            let versioned: Signed<Targets> = trust::parse_metadata(&bytes, &source)?;
            if versioned.signed.version != m.version {
                return Err(AtomError::Trust(TrustError::ParseMetadata {
                    path: source,
                    reason: format!(
                        "version {}, but the snapshot names version {}",
                        versioned.signed.version, m.version
                    ),
                }));
            }
            put(format!("{}.{file}", m.version), &bytes)?;
        }
        put(snapshot_name, &snapshot_bytes)?;
    }
    // Only a newer timestamp replaces storage's: two jobs copying at once must not leave
    // the older one there (a client that saw the newer would refuse it as a rollback).
    let mut expected = stored_bytes;
    for _ in 0..TIMESTAMP_ATTEMPTS {
        if storage.replace_if(&timestamp_key, expected.as_deref(), &timestamp_bytes)? {
            written.push(timestamp_key.as_str().to_owned());
            break;
        }
        expected = storage.get(&timestamp_key)?;
        let newer = match &expected {
            Some(bytes) => {
                let now: Signed<TufTimestamp> = trust::parse_metadata(bytes, "tuf/timestamp.json")?;
                now.signed.version >= timestamp.signed.version
            }
            None => false,
        };
        if newer {
            break;
        }
    }
    let serving = match storage.get(&timestamp_key)? {
        Some(bytes) => trust::parse_metadata::<Signed<TufTimestamp>>(&bytes, "tuf/timestamp.json")?
            .signed
            .version
            .get(),
        None => 0,
    };
    Ok(Published {
        written,
        timestamp: serving,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::Authenticated;

    /// An alias or an unalias changes no tarball: its atom is the one target it adds, as
    /// for a yank.
    #[test]
    fn an_alias_adds_its_atom_and_nothing_else() {
        let name: PackageName = "aff".parse().unwrap();
        let m = Metadata::new(
            crate::schema::Location::github("o", "aff", None).unwrap(),
            None,
        );
        let signed = Authenticated {
            payload: r#"{"name":"aff","alias":"next","version":"1.0.0"}"#.to_owned(),
            signature: String::new(),
        };
        let bytes = b"the atom's envelope";
        let id = AtomId::of(b"the atom's signed part");
        for (operation, version) in [
            (AtomOperation::Alias, Some(Version::new(1, 0, 0))),
            (AtomOperation::Unalias, None),
        ] {
            let record = super::super::AtomRecord::signed(operation, version, &signed);
            let changes = changes(&name, &record, &m, Some((id, bytes)));
            let paths: Vec<(&str, bool)> = (changes.iter())
                .map(|c| (c.path.as_str(), c.target.is_some()))
                .collect();
            assert_eq!(paths, [(id.key(&name).as_str(), true)], "{operation}");
            let target = changes[0].target.as_ref().unwrap();
            assert_eq!(target.length, bytes.len() as u64);
            // Without an atom key, nothing at all.
            assert!(super::changes(&name, &record, &m, None).is_empty());
        }
    }
}
