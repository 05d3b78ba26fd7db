//! The TUF repository beside the tarballs: `targets.json` (signed by the targets key)
//! delegating every target path to one of `bins` hash bins by the first hex digits of the
//! path's SHA-256 (TUF's `path_hash_prefixes`, as PEP 458 and TAP 15 lay them out), each
//! bin its own signed role `bins-<prefix>` listing its targets, `snapshot.json` (the
//! version of `targets.json` and of every bin) and `timestamp.json` (the snapshot's
//! version, length and hash). A change re-signs the bins it touches, the snapshot and the
//! timestamp; `targets.json` changes only when the root's targets keys do.
//!
//! The registry repo holds the current version of each file under `tuf/` (the source of
//! truth: a lost push race re-applies the change on the new head, as for metadata);
//! [`publish`] copies them to storage under `tuf/`, by consistent-snapshot name
//! (`<version>.<role>.json`, never replaced; `timestamp.json` replaced by a newer one
//! only), so a client reading storage at any moment finds a whole snapshot.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read as _;
use std::num::NonZeroU64;
use std::path::{Path, PathBuf};

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tough::TargetName;
use tough::schema::decoded::{Decoded, Hex};
use tough::schema::{
    DelegatedRole, Delegations, Hashes, Metafile, PathHashPrefix, PathSet, Role as TufRole, Root,
    Signature, Signed, Snapshot, Target, Targets, Timestamp as TufTimestamp,
};

use super::{KeyId, Role, SigningKey, TrustError, role_keyids, role_threshold};
use crate::schema::Sha256;

/// The repository's files in the registry repo.
pub const TARGETS_FILE: &str = "tuf/targets.json";
pub const BINS_DIR: &str = "tuf/bins";
pub const SNAPSHOT_FILE: &str = "tuf/snapshot.json";
pub const TIMESTAMP_FILE: &str = "tuf/timestamp.json";

/// The TUF specification version the metadata declares.
const SPEC_VERSION: &str = "1.0.31";

/// A metadata file larger than this is refused unread (a bin at a million packages with
/// 256 bins is a few MiB).
const FILE_MAX_BYTES: u64 = 256 << 20;

/// The prefix of a hash bin's role name.
const BIN_PREFIX: &str = "bins-";

/// How many hash bins a new repository has: 16, 256, 4096 or 65536 (whole hex digits of
/// a path's SHA-256).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bins {
    digits: usize,
}

impl Bins {
    pub const DEFAULT: Bins = Bins { digits: 2 };

    /// `count` bins, if it is 16, 256, 4096 or 65536.
    pub fn new(count: u64) -> Option<Bins> {
        (1..=4)
            .find(|d| 16u64.pow(*d as u32) == count)
            .map(|digits| Bins { digits })
    }

    pub fn count(self) -> u64 {
        16u64.pow(self.digits as u32)
    }

    fn prefixes(self) -> impl Iterator<Item = String> {
        let digits = self.digits;
        (0..self.count()).map(move |n| format!("{n:0digits$x}"))
    }
}

/// The bin role name for hash prefix `prefix`.
fn bin_role(prefix: &str) -> String {
    format!("{BIN_PREFIX}{prefix}")
}

/// The registry-relative path of a bin's file.
pub fn bin_file(role: &str) -> String {
    format!("{BINS_DIR}/{role}.json")
}

/// The online private keys, one per role, and how long what they sign lasts.
#[derive(Debug)]
pub struct Online {
    pub targets: SigningKey,
    pub snapshot: SigningKey,
    pub timestamp: SigningKey,
    /// How long a timestamp lasts (re-signed by every change and `regis keys refresh`).
    pub timestamp_expiry: SignedDuration,
    /// How long targets, bins and snapshots last.
    pub expiry: SignedDuration,
}

impl Online {
    /// Refuses keys that are not `root`'s keys for their roles, or a role whose threshold
    /// one key does not meet.
    pub fn check(&self, root: &Root) -> Result<(), TrustError> {
        for (role, key) in [
            (Role::Targets, &self.targets),
            (Role::Snapshot, &self.snapshot),
            (Role::Timestamp, &self.timestamp),
        ] {
            if !role_keyids(root, role).contains(key.keyid()) {
                return Err(TrustError::NotOnlineKey {
                    role,
                    keyid: key.keyid().clone(),
                    version: root.version.get(),
                });
            }
            let threshold = role_threshold(root, role);
            if threshold > 1 {
                return Err(TrustError::OnlineThreshold { role, threshold });
            }
        }
        Ok(())
    }
}

/// One change to the targets: `path` listed as `target`, or removed (`None`).
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub path: String,
    pub target: Option<Target>,
}

/// A target for `bytes` of content hashing to `hash`, with `custom` fields.
pub fn target(hash: &Sha256, bytes: u64, custom: BTreeMap<String, serde_json::Value>) -> Target {
    Target {
        length: bytes,
        hashes: Hashes {
            sha256: hash.digest().to_vec().into(),
            _extra: HashMap::new(),
        },
        custom: custom.into_iter().collect(),
        _extra: HashMap::new(),
    }
}

/// Whether the registry at `registry` has a TUF repository.
pub fn exists(registry: &Path) -> bool {
    registry.join(TARGETS_FILE).is_file()
}

/// Lays down a new repository: `targets.json` delegating to `bins` bins, each listing its
/// share of `targets`, snapshot and timestamp, all version 1. The registry-relative paths
/// written.
pub fn create(
    registry: &Path,
    root: &Root,
    online: &Online,
    bins: Bins,
    now: Timestamp,
    targets: impl IntoIterator<Item = (String, Target)>,
) -> Result<Vec<PathBuf>, TrustError> {
    online.check(root)?;
    if exists(registry) {
        return Err(TrustError::AlreadyInitialized {
            path: registry.join(TARGETS_FILE).display().to_string(),
        });
    }
    let expires = expiry(now, online.expiry)?;
    let top = delegating_targets(root, bins, NonZeroU64::MIN, expires);
    let mut by_bin: BTreeMap<String, Targets> = bins
        .prefixes()
        .map(|p| (bin_role(&p), empty_targets(NonZeroU64::MIN, expires)))
        .collect();
    let index = BinIndex::of(&top)?;
    for (path, target) in targets {
        let name = target_name(&path)?;
        by_bin
            .get_mut(index.role_of(&path))
            .expect("every prefix has a bin")
            .targets
            .insert(name, target);
    }
    let mut written = Vec::new();
    let mut meta = BTreeMap::new();
    meta.insert("targets.json".to_owned(), NonZeroU64::MIN);
    written.push(write_signed(registry, TARGETS_FILE, top, &online.targets)?);
    for (role, bin) in by_bin {
        meta.insert(format!("{role}.json"), NonZeroU64::MIN);
        written.push(write_signed(
            registry,
            &bin_file(&role),
            bin,
            &online.targets,
        )?);
    }
    written.extend(write_snapshot_and_timestamp(
        registry, online, now, None, None, meta,
    )?);
    Ok(written)
}

/// Applies `changes` on top of the repository in `registry`: each bin a change falls in
/// one version up with the change, then the snapshot and the timestamp. A change that
/// leaves a bin as it was changes nothing; no change at all writes nothing. The
/// registry-relative paths written.
pub fn apply(
    registry: &Path,
    root: &Root,
    online: &Online,
    now: Timestamp,
    changes: &[Change],
) -> Result<Vec<PathBuf>, TrustError> {
    online.check(root)?;
    let top: Signed<Targets> = read_signed(registry, TARGETS_FILE)?;
    let mut written = Vec::new();
    if rotated(root, &top) {
        // The targets keys changed since the bins were signed: sign them all again first.
        written = refresh(registry, root, online, now)?;
    }
    let index = BinIndex::of(&top.signed)?;
    let mut bins: BTreeMap<&str, Vec<&Change>> = BTreeMap::new();
    for change in changes {
        bins.entry(index.role_of(&change.path))
            .or_default()
            .push(change);
    }
    let expires = expiry(now, online.expiry)?;
    let mut bumped = BTreeMap::new();
    for (role, changes) in bins {
        let file = bin_file(role);
        let mut bin: Signed<Targets> = read_signed(registry, &file)?;
        let before = bin.signed.targets.clone();
        for change in changes {
            let name = target_name(&change.path)?;
            match &change.target {
                Some(target) => bin.signed.targets.insert(name, target.clone()),
                None => bin.signed.targets.remove(&name),
            };
        }
        if bin.signed.targets == before {
            continue;
        }
        bin.signed.version = bin.signed.version.saturating_add(1);
        bin.signed.expires = expires;
        bumped.insert(format!("{role}.json"), bin.signed.version);
        written.push(write_signed(registry, &file, bin.signed, &online.targets)?);
    }
    if bumped.is_empty() {
        return Ok(written);
    }
    written.extend(next_snapshot(registry, online, now, bumped)?);
    Ok(written)
}

/// Re-signs what is due: the timestamp always (a new version, expiring a timestamp
/// period from `now`); `targets.json` and every bin when the root's targets keys are not
/// the ones they are delegated to (a rotation); any role that expires within a third of
/// its period, and then the snapshot. The registry-relative paths written.
pub fn refresh(
    registry: &Path,
    root: &Root,
    online: &Online,
    now: Timestamp,
) -> Result<Vec<PathBuf>, TrustError> {
    online.check(root)?;
    let expires = expiry(now, online.expiry)?;
    let due = expiry(now, online.expiry / 3)?;
    let mut top: Signed<Targets> = read_signed(registry, TARGETS_FILE)?;
    let index = BinIndex::of(&top.signed)?;
    let resign_all = rotated(root, &top) || top.signed.expires <= due;
    let mut written = Vec::new();
    let mut bumped = BTreeMap::new();
    if resign_all {
        let bins = index.bins;
        let version = top.signed.version.saturating_add(1);
        top.signed = delegating_targets(root, bins, version, expires);
        bumped.insert("targets.json".to_owned(), version);
        written.push(write_signed(
            registry,
            TARGETS_FILE,
            top.signed,
            &online.targets,
        )?);
    }
    for role in index.roles() {
        let file = bin_file(role);
        let mut bin: Signed<Targets> = read_signed(registry, &file)?;
        if !resign_all && bin.signed.expires > due {
            continue;
        }
        bin.signed.version = bin.signed.version.saturating_add(1);
        bin.signed.expires = expires;
        bumped.insert(format!("{role}.json"), bin.signed.version);
        written.push(write_signed(registry, &file, bin.signed, &online.targets)?);
    }
    let snapshot: Signed<Snapshot> = read_signed(registry, SNAPSHOT_FILE)?;
    let snapshot_keys: BTreeSet<KeyId> = role_keyids(root, Role::Snapshot).into_iter().collect();
    if !bumped.is_empty()
        || snapshot.signed.expires <= due
        || snapshot.signatures_by(&snapshot_keys).is_none()
    {
        written.extend(next_snapshot(registry, online, now, bumped)?);
    } else {
        let snapshot_bytes = read_file(&registry.join(SNAPSHOT_FILE), SNAPSHOT_FILE)?;
        let timestamp: Signed<TufTimestamp> = read_signed(registry, TIMESTAMP_FILE)?;
        written.push(write_timestamp(
            registry,
            online,
            now,
            timestamp.signed.version.saturating_add(1),
            snapshot.signed.version,
            &snapshot_bytes,
        )?);
    }
    Ok(written)
}

/// Whether the root's targets keys are not the ones `top` delegates the bins to, or did
/// not sign it.
fn rotated(root: &Root, top: &Signed<Targets>) -> bool {
    let keys_now: BTreeSet<KeyId> = role_keyids(root, Role::Targets).into_iter().collect();
    let delegated: BTreeSet<KeyId> = (top.signed.delegations.iter())
        .flat_map(|d| d.roles.iter().flat_map(|r| r.keyids.iter()))
        .map(KeyId::from_decoded)
        .collect();
    keys_now != delegated || top.signatures_by(&keys_now).is_none()
}

/// Which of its signatures are by `keys`, if any (a quick look after a rotation: the
/// signatures are not checked here).
trait SignedBy {
    fn signatures_by(&self, keys: &BTreeSet<KeyId>) -> Option<()>;
}

impl<T> SignedBy for Signed<T> {
    fn signatures_by(&self, keys: &BTreeSet<KeyId>) -> Option<()> {
        (self.signatures.iter())
            .any(|s| keys.contains(&KeyId::from_decoded(&s.keyid)))
            .then_some(())
    }
}

/// The targets role's file: no targets of its own, every path delegated to one bin, each
/// bin trusted with the root's targets keys and threshold.
fn delegating_targets(root: &Root, bins: Bins, version: NonZeroU64, expires: Timestamp) -> Targets {
    let keyids = role_keyids(root, Role::Targets);
    let threshold = NonZeroU64::new(role_threshold(root, Role::Targets)).unwrap_or(NonZeroU64::MIN);
    let keys = keyids
        .iter()
        .filter_map(|id| {
            let decoded = id.decoded();
            root.keys.get(&decoded).map(|k| (decoded, k.clone()))
        })
        .collect();
    let roles = bins
        .prefixes()
        .map(|prefix| DelegatedRole {
            name: bin_role(&prefix),
            keyids: keyids.iter().map(KeyId::decoded).collect(),
            threshold,
            paths: PathSet::PathHashPrefixes(vec![
                PathHashPrefix::new(prefix).expect("a hex prefix is a prefix"),
            ]),
            terminating: true,
            targets: None,
        })
        .collect();
    let mut top = empty_targets(version, expires);
    top.delegations = Some(Delegations { keys, roles });
    top
}

fn empty_targets(version: NonZeroU64, expires: Timestamp) -> Targets {
    let mut targets = Targets::new(SPEC_VERSION.to_owned(), version, expires);
    targets.delegations = None;
    targets
}

/// Which bin holds a path, read from `targets.json`'s delegations.
struct BinIndex {
    bins: Bins,
    /// Role names in prefix order.
    roles: Vec<String>,
}

impl BinIndex {
    fn of(top: &Targets) -> Result<BinIndex, TrustError> {
        let bad = |reason: String| TrustError::ParseMetadata {
            path: TARGETS_FILE.to_owned(),
            reason,
        };
        let roles = top
            .delegations
            .as_ref()
            .map(|d| d.roles.as_slice())
            .unwrap_or_default();
        let bins = Bins::new(roles.len() as u64).ok_or_else(|| {
            bad(format!(
                "{} delegated roles, not 16, 256, 4096 or 65536 hash bins",
                roles.len()
            ))
        })?;
        let mut names = Vec::with_capacity(roles.len());
        for (role, prefix) in roles.iter().zip(bins.prefixes()) {
            let expected = PathSet::PathHashPrefixes(vec![
                PathHashPrefix::new(prefix.clone()).expect("a hex prefix is a prefix"),
            ]);
            if role.name != bin_role(&prefix) || role.paths != expected {
                return Err(bad(format!(
                    "delegated role `{}` is not the hash bin `{}` for prefix `{prefix}`",
                    crate::text::value(&role.name),
                    bin_role(&prefix)
                )));
            }
            names.push(role.name.clone());
        }
        Ok(BinIndex { bins, roles: names })
    }

    fn role_of(&self, path: &str) -> &str {
        let hash = hex::encode(Sha256::of(path.as_bytes()).digest());
        let n = usize::from_str_radix(&hash[..self.bins.digits], 16).expect("hex");
        &self.roles[n]
    }

    fn roles(&self) -> impl Iterator<Item = &str> {
        self.roles.iter().map(String::as_str)
    }
}

fn target_name(path: &str) -> Result<TargetName, TrustError> {
    let name = TargetName::new(path).map_err(|e| TrustError::TargetName {
        path: crate::text::value(path).into_owned(),
        reason: match e {
            tough::error::Error::UnsafeTargetNameDotDot { .. }
            | tough::error::Error::UnsafeTargetNameEmpty { .. }
            | tough::error::Error::UnsafeTargetNameSlash { .. } => "it names no file".to_owned(),
            other => crate::text::message(&other.to_string()).into_owned(),
        },
    })?;
    if name.resolved() != path {
        return Err(TrustError::TargetName {
            path: crate::text::value(path).into_owned(),
            reason: format!("it resolves to `{}`", name.resolved()),
        });
    }
    Ok(name)
}

/// `period` after `now`, to the second (TUF clients read `YYYY-MM-DDTHH:MM:SSZ`).
fn expiry(now: Timestamp, period: SignedDuration) -> Result<Timestamp, TrustError> {
    now.checked_add(period)
        .ok()
        .and_then(|t| Timestamp::from_second(t.as_second()).ok())
        .ok_or_else(|| TrustError::ExpiryOutOfRange {
            period: match period.as_secs() {
                secs if secs % 86_400 == 0 => format!("{} days", secs / 86_400),
                _ => format!("{period:#}"),
            },
        })
}

/// The next snapshot: the current one with `bumped` files at their new versions, one
/// version up; then the timestamp naming it.
fn next_snapshot(
    registry: &Path,
    online: &Online,
    now: Timestamp,
    bumped: BTreeMap<String, NonZeroU64>,
) -> Result<Vec<PathBuf>, TrustError> {
    let snapshot: Signed<Snapshot> = read_signed(registry, SNAPSHOT_FILE)?;
    let timestamp: Signed<TufTimestamp> = read_signed(registry, TIMESTAMP_FILE)?;
    let mut meta: BTreeMap<String, NonZeroU64> = (snapshot.signed.meta.iter())
        .map(|(file, m)| {
            (
                file.clone(),
                NonZeroU64::new(m.version.get()).unwrap_or(NonZeroU64::MIN),
            )
        })
        .collect();
    meta.extend(bumped);
    write_snapshot_and_timestamp(
        registry,
        online,
        now,
        Some(snapshot.signed.version),
        Some(timestamp.signed.version),
        meta,
    )
}

fn write_snapshot_and_timestamp(
    registry: &Path,
    online: &Online,
    now: Timestamp,
    snapshot_before: Option<NonZeroU64>,
    timestamp_before: Option<NonZeroU64>,
    meta: BTreeMap<String, NonZeroU64>,
) -> Result<Vec<PathBuf>, TrustError> {
    let next = |v: Option<NonZeroU64>| v.map_or(NonZeroU64::MIN, |v| v.saturating_add(1));
    let version = next(snapshot_before);
    let mut snapshot = Snapshot::new(
        SPEC_VERSION.to_owned(),
        version,
        expiry(now, online.expiry)?,
    );
    for (file, version) in meta {
        snapshot.meta.insert(
            file,
            Metafile {
                length: None,
                hashes: None,
                version,
                _extra: HashMap::new(),
            },
        );
    }
    let snapshot_path = write_signed(registry, SNAPSHOT_FILE, snapshot, &online.snapshot)?;
    let bytes = read_file(&registry.join(SNAPSHOT_FILE), SNAPSHOT_FILE)?;
    let timestamp = write_timestamp(
        registry,
        online,
        now,
        next(timestamp_before),
        version,
        &bytes,
    )?;
    Ok(vec![snapshot_path, timestamp])
}

fn write_timestamp(
    registry: &Path,
    online: &Online,
    now: Timestamp,
    version: NonZeroU64,
    snapshot_version: NonZeroU64,
    snapshot_bytes: &[u8],
) -> Result<PathBuf, TrustError> {
    let mut timestamp = TufTimestamp::new(
        SPEC_VERSION.to_owned(),
        version,
        expiry(now, online.timestamp_expiry)?,
    );
    timestamp.meta.insert(
        "snapshot.json".to_owned(),
        Metafile {
            length: Some(snapshot_bytes.len() as u64),
            hashes: Some(Hashes {
                sha256: Sha256::of(snapshot_bytes).digest().to_vec().into(),
                _extra: HashMap::new(),
            }),
            version: snapshot_version,
            _extra: HashMap::new(),
        },
    );
    write_signed(registry, TIMESTAMP_FILE, timestamp, &online.timestamp)
}

/// `signed` signed by `key` over its canonical form, written to `<registry>/<file>`
/// (pretty JSON, keys sorted, a trailing newline; atomically). The registry-relative path.
fn write_signed<T: TufRole + Serialize>(
    registry: &Path,
    file: &str,
    signed: T,
    key: &SigningKey,
) -> Result<PathBuf, TrustError> {
    super::root::write_json_file(&registry.join(file), &sign(signed, key))?;
    Ok(PathBuf::from(file))
}

/// `signed` signed by `key` over its canonical form.
pub fn sign<T: TufRole + Serialize>(signed: T, key: &SigningKey) -> Signed<T> {
    let data = signed
        .canonical_form()
        .expect("TUF metadata serializes to canonical JSON");
    Signed {
        signed,
        signatures: vec![Signature {
            keyid: key.keyid().decoded(),
            sig: Decoded::<Hex>::from(key.sign(&data)),
        }],
    }
}

/// `signed` as the repository writes its files: pretty JSON, keys sorted, a trailing
/// newline.
pub fn file_bytes<T: Serialize>(signed: &T) -> Vec<u8> {
    let value = serde_json::to_value(signed).expect("TUF metadata is JSON");
    let mut text = serde_json::to_string_pretty(&value).expect("a value is JSON");
    text.push('\n');
    text.into_bytes()
}

/// A signed metadata file of the repository, parsed (not verified: the registry repo is
/// where the registry wrote them).
fn read_signed<T: DeserializeOwned>(registry: &Path, file: &str) -> Result<Signed<T>, TrustError> {
    let bytes = read_file(&registry.join(file), file)?;
    serde_json::from_slice(&bytes).map_err(|e| TrustError::ParseMetadata {
        path: file.to_owned(),
        reason: crate::text::message(&e.to_string()).into_owned(),
    })
}

/// A file of the repository (or of the root chain), at most 256 MiB; `label` names it in
/// the refusal.
pub fn read_file(path: &Path, label: &str) -> Result<Vec<u8>, TrustError> {
    let read = |cause| TrustError::ReadRoot {
        path: label.to_owned(),
        cause,
    };
    let file = std::fs::File::open(path).map_err(read)?;
    let mut bytes = Vec::new();
    file.take(FILE_MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read)?;
    if bytes.len() as u64 > FILE_MAX_BYTES {
        return Err(TrustError::ParseMetadata {
            path: label.to_owned(),
            reason: format!("larger than {FILE_MAX_BYTES} bytes"),
        });
    }
    Ok(bytes)
}

/// `bytes` as TUF metadata; `label` names them in the refusal.
pub fn parse<T: DeserializeOwned>(bytes: &[u8], label: &str) -> Result<T, TrustError> {
    serde_json::from_slice(bytes).map_err(|e| TrustError::ParseMetadata {
        path: label.to_owned(),
        reason: crate::text::message(&e.to_string()).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tough::schema::RoleType;

    fn in_a_year() -> Timestamp {
        Timestamp::from_second(Timestamp::now().as_second() + 365 * 86_400).unwrap()
    }

    /// A root version 1 with fresh keys, and its online keys (a year's expiry).
    fn root_and_online() -> (Root, Online) {
        let [root_key, targets, snapshot, timestamp, atom] =
            [(); 5].map(|()| SigningKey::generate().0);
        let root = super::super::new_root(
            &[&root_key],
            1,
            [
                (Role::Targets, &targets),
                (Role::Snapshot, &snapshot),
                (Role::Timestamp, &timestamp),
                (Role::Atom, &atom),
            ],
            in_a_year(),
        )
        .unwrap();
        let online = Online {
            targets,
            snapshot,
            timestamp,
            timestamp_expiry: SignedDuration::from_hours(24),
            expiry: SignedDuration::from_hours(24 * 30),
        };
        (root, online)
    }

    /// A repository of 16 bins listing `a/1.tar.gz`, in a temporary directory.
    fn repository(root: &Root, online: &Online) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let target = target(&Sha256::of(b"a"), 1, BTreeMap::new());
        create(
            dir.path(),
            root,
            online,
            Bins::new(16).unwrap(),
            Timestamp::now(),
            [("a/1.tar.gz".to_owned(), target)],
        )
        .unwrap();
        dir
    }

    fn change(path: &str) -> Change {
        Change {
            path: path.to_owned(),
            target: Some(target(&Sha256::of(b"b"), 1, BTreeMap::new())),
        }
    }

    #[test]
    fn online_keys_must_be_the_roots_and_sign_alone() {
        let (mut root, online) = root_and_online();
        online.check(&root).unwrap();
        let swapped = Online {
            targets: online.snapshot,
            snapshot: online.targets,
            ..online
        };
        assert_eq!(
            swapped.check(&root).unwrap_err().to_string(),
            format!(
                "the configured targets key `{}` is not a targets key of root version 1: set the key the root lists (`regis keys show`)",
                swapped.targets.keyid()
            )
        );
        root.roles.get_mut(&RoleType::Targets).unwrap().threshold = NonZeroU64::new(2).unwrap();
        let online = Online {
            targets: swapped.snapshot,
            snapshot: swapped.targets,
            ..swapped
        };
        assert_eq!(
            online.check(&root).unwrap_err().to_string(),
            "the targets role needs 2 signatures, and regis signs online roles with one key: rotate the role to threshold 1"
        );
    }

    #[test]
    fn metadata_regis_cannot_read_is_refused_naming_the_file() {
        let (root, online) = root_and_online();
        let dir = repository(&root, &online);
        let top = dir.path().join(TARGETS_FILE);
        let honest = std::fs::read(&top).unwrap();
        let apply_err = || {
            apply(
                dir.path(),
                &root,
                &online,
                Timestamp::now(),
                &[change("b/1.tar.gz")],
            )
            .unwrap_err()
            .to_string()
        };
        std::fs::write(&top, b"{").unwrap();
        assert_eq!(
            apply_err(),
            "`tuf/targets.json` is not TUF metadata regis can read: EOF while parsing an object at line 1 column 1"
        );
        let mut three: Signed<Targets> = serde_json::from_slice(&honest).unwrap();
        let delegations = three.signed.delegations.as_mut().unwrap();
        delegations.roles.truncate(3);
        std::fs::write(&top, file_bytes(&three)).unwrap();
        assert_eq!(
            apply_err(),
            "`tuf/targets.json` is not TUF metadata regis can read: 3 delegated roles, not 16, 256, 4096 or 65536 hash bins"
        );
    }

    #[test]
    fn a_path_that_is_not_its_own_target_name_is_refused() {
        let (root, online) = root_and_online();
        let dir = repository(&root, &online);
        let refused = |path: &str| {
            apply(
                dir.path(),
                &root,
                &online,
                Timestamp::now(),
                &[change(path)],
            )
            .unwrap_err()
            .to_string()
        };
        assert_eq!(
            refused("a/../b"),
            "`a/../b` cannot be a TUF target path: it resolves to `b`"
        );
        assert_eq!(
            refused("../b"),
            "`../b` cannot be a TUF target path: it resolves to `b`"
        );
        assert_eq!(
            refused("a/.."),
            "`a/..` cannot be a TUF target path: it names no file"
        );
        assert_eq!(
            refused(""),
            "`` cannot be a TUF target path: it names no file"
        );
        // Nothing was written.
        let bins = dir.path().join(BINS_DIR);
        assert!(std::fs::read_dir(&bins).unwrap().all(|f| {
            let bin: Signed<Targets> =
                serde_json::from_slice(&std::fs::read(f.unwrap().path()).unwrap()).unwrap();
            bin.signed.version == NonZeroU64::MIN
        }));
    }

    #[test]
    fn an_expiry_past_the_year_9999_is_refused() {
        let (root, mut online) = root_and_online();
        online.expiry = SignedDuration::from_hours(24 * 3_000_000);
        let dir = tempfile::tempdir().unwrap();
        let e = create(
            dir.path(),
            &root,
            &online,
            Bins::DEFAULT,
            Timestamp::now(),
            [],
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "an expiry 3000000 days from now is past the year 9999: set fewer days in `trustOnlineExpiryDays` and `trustTimestampExpiryDays`"
        );
        assert!(!exists(dir.path()));
    }
}
