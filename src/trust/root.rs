//! `root.json` and its chain: a new root built from keys, the next version built from the
//! last, signatures added over tough's canonical form, and the chain `1.root.json` →
//! `N.root.json` verified as a TUF client does (TUF 5.3): each version signed by a
//! threshold of its own root keys and, from version 2, of the previous version's
//! (`tough::schema::Root::verify_role`, the check tough's client runs), versions going up
//! by one, the last one unexpired; and regis's rule that a revoked key stays revoked and
//! out of every role.

use std::collections::{BTreeMap, HashMap};
use std::io::Read as _;
use std::num::NonZeroU64;
use std::path::Path;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use tough::schema::key::Key;
use tough::schema::{Role as _, RoleKeys, RoleType, Root, Signature, Signed};

use super::{KeyId, Role, SigningKey, TrustError};

/// The root chain's directory in the registry repo: `<N>.root.json`, one per version.
pub const ROOT_DIR: &str = "tuf/root";

/// A root version waiting for signatures (`regis keys sign-root`); not part of the chain.
pub const STAGED_ROOT: &str = "tuf/staged/root.json";

/// A root file larger than this is refused unread.
const ROOT_FILE_MAX_BYTES: u64 = 1 << 20;

/// The TUF specification version regis's roots declare.
const SPEC_VERSION: &str = "1.0.31";

/// The key of regis's own part of a root, in the root's signed fields.
const EXTENSION_FIELD: &str = "regis";

/// `<version>.root.json`.
pub fn root_file_name(version: u64) -> String {
    format!("{version}.root.json")
}

/// Regis's part of a root (the `regis` field, signed with the rest): the atom key, which
/// TUF has no role for, and every key revoked so far, which each later version repeats.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Extension {
    pub atom: AtomKeys,
    pub revoked: Vec<Revoked>,
}

/// The keys that sign atoms, by key id, and how many must sign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AtomKeys {
    pub keys: BTreeMap<String, Key>,
    pub threshold: NonZeroU64,
}

/// A revoked key: its id, the role it was revoked from, the root version that revoked it
/// and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Revoked {
    pub keyid: String,
    pub role: String,
    pub version: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Extension {
    /// The `regis` field of `root`, its atom key ids checked.
    pub fn of(root: &Root) -> Result<Extension, String> {
        let value = root
            ._extra
            .get(EXTENSION_FIELD)
            .ok_or("no `regis` field (the atom key and the revoked keys)")?;
        let extension: Extension =
            serde_json::from_value(value.clone()).map_err(|e| format!("`regis`: {e}"))?;
        for (id, key) in &extension.atom.keys {
            if KeyId::of(key).as_str() != id {
                return Err(format!(
                    "`regis`: the atom key id `{id}` is not its key's id"
                ));
            }
        }
        Ok(extension)
    }

    fn put(&self, root: &mut Root) {
        let value = serde_json::to_value(self).expect("an extension is JSON");
        root._extra.insert(EXTENSION_FIELD.to_owned(), value);
    }

    pub fn is_revoked(&self, keyid: &KeyId) -> bool {
        self.revoked.iter().any(|r| r.keyid == keyid.as_str())
    }
}

/// Root version 1: `root_keys` with `threshold`, one key for each online role and for
/// atoms, expiring at `expires`. Unsigned.
pub fn new_root(
    root_keys: &[&SigningKey],
    threshold: u64,
    online: [(Role, &SigningKey); 4],
    expires: Timestamp,
) -> Result<Root, TrustError> {
    let count = root_keys.len() as u64;
    let threshold_ok = NonZeroU64::new(threshold).filter(|t| t.get() <= count);
    let Some(threshold) = threshold_ok else {
        return Err(TrustError::BadThreshold {
            threshold,
            keys: count,
        });
    };
    let mut root = Root {
        spec_version: SPEC_VERSION.to_owned(),
        consistent_snapshot: true,
        version: NonZeroU64::MIN,
        expires,
        keys: HashMap::new(),
        roles: HashMap::new(),
        _extra: HashMap::new(),
    };
    let role_keys = |keys: &[&SigningKey], threshold| RoleKeys {
        keyids: keys.iter().map(|k| k.keyid().decoded()).collect(),
        threshold,
        _extra: HashMap::new(),
    };
    for key in root_keys {
        root.keys
            .insert(key.keyid().decoded(), key.public().clone());
    }
    root.roles
        .insert(RoleType::Root, role_keys(root_keys, threshold));
    let mut atom = None;
    for (role, key) in online {
        match role.tuf() {
            Some(tuf) => {
                root.keys
                    .insert(key.keyid().decoded(), key.public().clone());
                root.roles.insert(tuf, role_keys(&[key], NonZeroU64::MIN));
            }
            None => atom = Some(key),
        }
    }
    let atom = atom.expect("the online keys include the atom key");
    let extension = Extension {
        atom: AtomKeys {
            keys: BTreeMap::from([(atom.keyid().to_string(), atom.public().clone())]),
            threshold: NonZeroU64::MIN,
        },
        revoked: vec![],
    };
    extension.put(&mut root);
    Ok(root)
}

/// The key ids of `role` in `root`, in the order listed.
pub fn role_keyids(root: &Root, role: Role) -> Vec<KeyId> {
    match role.tuf() {
        Some(tuf) => (root.roles.get(&tuf).into_iter())
            .flat_map(|r| r.keyids.iter().map(KeyId::from_decoded))
            .collect(),
        None => Extension::of(root)
            .map(|e| e.atom.keys.keys().map(|id| KeyId(id.clone())).collect())
            .unwrap_or_default(),
    }
}

/// The threshold of `role` in `root`.
pub fn role_threshold(root: &Root, role: Role) -> u64 {
    match role.tuf() {
        Some(tuf) => root.roles.get(&tuf).map_or(1, |r| r.threshold.get()),
        None => Extension::of(root).map_or(1, |e| e.atom.threshold.get()),
    }
}

/// Every role `keyid` holds in `root`.
pub fn roles_of(root: &Root, keyid: &KeyId) -> Vec<Role> {
    Role::ALL
        .into_iter()
        .filter(|role| role_keyids(root, *role).contains(keyid))
        .collect()
}

/// `root` with `old` taken out of `role` and `new` (if any) put in; keys no role uses any
/// more leave `keys`.
pub fn replace_keys(root: &mut Root, role: Role, old: &[KeyId], new: Option<&SigningKey>) {
    match role.tuf() {
        Some(tuf) => {
            let entry = root
                .roles
                .get_mut(&tuf)
                .expect("a regis root has every role");
            entry
                .keyids
                .retain(|id| !old.contains(&KeyId::from_decoded(id)));
            if let Some(key) = new {
                entry.keyids.push(key.keyid().decoded());
                root.keys
                    .insert(key.keyid().decoded(), key.public().clone());
            }
            let used: Vec<_> = root.roles.values().flat_map(|r| r.keyids.clone()).collect();
            root.keys.retain(|id, _| used.contains(id));
        }
        None => {
            let mut extension = Extension::of(root).expect("a verified root has its extension");
            (extension.atom.keys).retain(|id, _| !old.iter().any(|o| o.as_str() == id));
            if let Some(key) = new {
                (extension.atom.keys).insert(key.keyid().to_string(), key.public().clone());
            }
            extension.put(root);
        }
    }
}

/// Records `keyid` as revoked from `role` by `root`'s version.
pub fn record_revoked(root: &mut Root, keyid: &KeyId, role: Role, reason: Option<String>) {
    let mut extension = Extension::of(root).expect("a verified root has its extension");
    extension.revoked.push(Revoked {
        keyid: keyid.to_string(),
        role: role.to_string(),
        version: root.version.get(),
        reason,
    });
    extension.put(root);
}

/// How far a root's signatures go: valid signatures of one role's keys against its
/// threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    pub valid: u64,
    pub threshold: u64,
}

impl Count {
    pub fn met(self) -> bool {
        self.valid >= self.threshold
    }
}

/// The signatures of a root version: by its own root keys, and (from version 2) by the
/// previous version's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RootStatus {
    pub own: Count,
    pub previous: Option<Count>,
}

impl RootStatus {
    pub fn complete(self) -> bool {
        self.own.met() && self.previous.is_none_or(Count::met)
    }
}

/// How `signed` meets its own root threshold and `previous`'s (tough's `verify_role`).
pub fn status(signed: &Signed<Root>, previous: Option<&Root>) -> RootStatus {
    RootStatus {
        own: count(&signed.signed, signed),
        previous: previous.map(|p| count(p, signed)),
    }
}

fn count(by: &Root, signed: &Signed<Root>) -> Count {
    let threshold = role_threshold(by, Role::Root);
    match by.verify_role(signed) {
        Ok(()) => Count {
            valid: signed
                .signatures
                .iter()
                .filter(|s| by.roles[&RoleType::Root].keyids.contains(&s.keyid))
                .count() as u64,
            threshold,
        },
        Err(tough::schema::Error::SignatureThreshold { valid, .. }) => Count { valid, threshold },
        Err(_) => Count {
            valid: 0,
            threshold,
        },
    }
}

/// Signs `signed` with each of `keys` that is a root key of it or of `previous` (replacing
/// that key's earlier signature), over tough's canonical form; returns the keys that are
/// neither, which did not sign.
pub fn sign_root<'k>(
    signed: &mut Signed<Root>,
    previous: Option<&Root>,
    keys: &'k [SigningKey],
) -> Vec<&'k SigningKey> {
    let data = signed
        .signed
        .canonical_form()
        .expect("a root serializes to canonical JSON");
    let mut allowed = role_keyids(&signed.signed, Role::Root);
    allowed.extend(
        previous
            .map(|p| role_keyids(p, Role::Root))
            .unwrap_or_default(),
    );
    let mut refused = Vec::new();
    for key in keys {
        if !allowed.contains(key.keyid()) {
            refused.push(key);
            continue;
        }
        let keyid = key.keyid().decoded();
        signed.signatures.retain(|s| s.keyid != keyid);
        signed.signatures.push(Signature {
            keyid,
            sig: key.sign(&data).into(),
        });
    }
    refused
}

/// A verified root chain, version 1 first.
#[derive(Debug, Clone)]
pub struct Chain {
    roots: Vec<Signed<Root>>,
}

impl Chain {
    /// Reads `<registry>/tuf/root/*.root.json` and verifies the chain and, as of `now`, that
    /// its last version has not expired: what a TUF client trusts.
    pub fn verified(registry: &Path, now: Timestamp) -> Result<Chain, TrustError> {
        let chain = Chain::read(registry)?;
        chain.check_unexpired(now)?;
        Ok(chain)
    }

    /// Reads and verifies the chain, whatever the last version's expiry (an expired root
    /// is replaced by a new version signed as any other).
    pub fn read(registry: &Path) -> Result<Chain, TrustError> {
        let dir = registry.join(ROOT_DIR);
        let no_root = || TrustError::NoRoot {
            dir: dir.display().to_string(),
        };
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(no_root()),
            Err(cause) => {
                return Err(TrustError::ReadRoot {
                    path: dir.display().to_string(),
                    cause,
                });
            }
        };
        let mut files = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|cause| TrustError::ReadRoot {
                path: dir.display().to_string(),
                cause,
            })?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let version = name
                .strip_suffix(".root.json")
                .and_then(|n| n.parse::<u64>().ok())
                .filter(|v| *v > 0 && root_file_name(*v) == name)
                .ok_or_else(|| TrustError::StrayFile {
                    name: crate::text::value(&name).into_owned(),
                    dir: dir.display().to_string(),
                })?;
            files.push((version, read_root_file(&entry.path())?, entry.path()));
        }
        if files.is_empty() {
            return Err(no_root());
        }
        files.sort_by_key(|(version, _, _)| *version);
        let mut chain: Option<Chain> = None;
        for (i, (version, root, path)) in files.into_iter().enumerate() {
            let expected = i as u64 + 1;
            if version != expected {
                return Err(TrustError::ChainGap { missing: expected });
            }
            let path = path.display().to_string();
            chain = Some(match chain {
                None => Chain::first(root, &path)?,
                Some(mut chain) => {
                    chain.check_next(&root, &path)?;
                    chain.roots.push(root);
                    chain
                }
            });
        }
        Ok(chain.expect("at least one root"))
    }

    /// Version 1, checked: signed by a threshold of its own root keys.
    pub fn first(root: Signed<Root>, path: &str) -> Result<Chain, TrustError> {
        check_version(&root, path, 1)?;
        check_signed(&root.signed, &root, "its own")?;
        check_revocations(&root.signed, None, path)?;
        Ok(Chain { roots: vec![root] })
    }

    /// Whether `next` may follow the chain: version one more than the last, signed by a
    /// threshold of the last version's root keys and of its own, every revocation of the
    /// last version kept, no revoked key in a role.
    pub fn check_next(&self, next: &Signed<Root>, path: &str) -> Result<(), TrustError> {
        let last = &self.latest().signed;
        check_version(next, path, last.version.get() + 1)?;
        check_signed(last, next, "the previous version's")?;
        check_signed(&next.signed, next, "its own")?;
        check_revocations(&next.signed, Some(last), path)
    }

    /// The last version must not have expired by `now` (TUF 5.3.10; an earlier version's
    /// expiry does not matter).
    pub fn check_unexpired(&self, now: Timestamp) -> Result<(), TrustError> {
        let last = &self.latest().signed;
        if last.expires <= now {
            return Err(TrustError::Expired {
                version: last.version.get(),
                expires: last.expires.to_string(),
            });
        }
        Ok(())
    }

    /// Adds `next`, which [`Chain::check_next`] accepted.
    pub fn push(&mut self, next: Signed<Root>) {
        self.roots.push(next);
    }

    pub fn latest(&self) -> &Signed<Root> {
        self.roots.last().expect("a chain has a root")
    }

    pub fn roots(&self) -> &[Signed<Root>] {
        &self.roots
    }

    /// The next version of the last root, unsigned, expiring at `expires`.
    pub fn next(&self, expires: Timestamp) -> Signed<Root> {
        let mut root = self.latest().signed.clone();
        root.version = root.version.saturating_add(1);
        root.expires = expires;
        Signed {
            signed: root,
            signatures: vec![],
        }
    }

    /// The role `keyid` held in the latest version that listed it.
    pub fn last_role_of(&self, keyid: &KeyId) -> Option<Role> {
        (self.roots.iter().rev()).find_map(|r| roles_of(&r.signed, keyid).into_iter().next())
    }
}

fn check_version(root: &Signed<Root>, path: &str, expected: u64) -> Result<(), TrustError> {
    let found = root.signed.version.get();
    if found != expected {
        return Err(TrustError::WrongVersion {
            path: path.to_owned(),
            expected,
            found,
        });
    }
    Ok(())
}

fn check_signed(by: &Root, signed: &Signed<Root>, whose: &'static str) -> Result<(), TrustError> {
    by.verify_role(signed).map_err(|e| TrustError::Threshold {
        version: signed.signed.version.get(),
        whose,
        reason: crate::text::message(&e.to_string()).into_owned(),
    })
}

fn check_revocations(root: &Root, previous: Option<&Root>, path: &str) -> Result<(), TrustError> {
    let parse = |r: &Root| {
        Extension::of(r).map_err(|reason| TrustError::ParseRoot {
            path: path.to_owned(),
            reason,
        })
    };
    let extension = parse(root)?;
    if let Some(previous) = previous {
        let before = parse(previous)?;
        if let Some(dropped) = (before.revoked.iter()).find(|r| !extension.revoked.contains(r)) {
            return Err(TrustError::RevocationDropped {
                version: root.version.get(),
                keyid: KeyId(dropped.keyid.clone()),
            });
        }
    }
    for revoked in &extension.revoked {
        let keyid = KeyId(revoked.keyid.clone());
        if let Some(role) = roles_of(root, &keyid).into_iter().next() {
            return Err(TrustError::RevokedInRole {
                version: root.version.get(),
                keyid,
                role,
            });
        }
    }
    Ok(())
}

/// A root file, parsed (tough checks each listed key id is its key's), at most 1 MiB.
pub fn read_root_file(path: &Path) -> Result<Signed<Root>, TrustError> {
    let label = path.display().to_string();
    let read = |cause| TrustError::ReadRoot {
        path: label.clone(),
        cause,
    };
    let file = std::fs::File::open(path).map_err(read)?;
    let mut bytes = Vec::new();
    file.take(ROOT_FILE_MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read)?;
    if bytes.len() as u64 > ROOT_FILE_MAX_BYTES {
        return Err(TrustError::ParseRoot {
            path: label,
            reason: format!("larger than {ROOT_FILE_MAX_BYTES} bytes"),
        });
    }
    serde_json::from_slice(&bytes).map_err(|e| TrustError::ParseRoot {
        path: label,
        reason: crate::text::message(&e.to_string()).into_owned(),
    })
}

/// Writes `root` to `path` (atomically: a temporary file in the same directory, renamed):
/// pretty JSON, keys sorted, a trailing newline.
pub fn write_root_file(path: &Path, root: &Signed<Root>) -> Result<(), TrustError> {
    write_json_file(path, root)
}

/// Writes `value` to `path` as [`write_root_file`] writes a root.
pub(super) fn write_json_file<T: Serialize>(path: &Path, value: &T) -> Result<(), TrustError> {
    let write = |cause| TrustError::WriteRoot {
        path: path.display().to_string(),
        cause,
    };
    let dir = path.parent().expect("a root file is in a directory");
    std::fs::create_dir_all(dir).map_err(write)?;
    let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(write)?;
    std::io::Write::write_all(&mut temp, &super::file_bytes(value)).map_err(write)?;
    temp.persist(path).map_err(|e| write(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys for a registry: `roots` root keys, then targets, snapshot, timestamp, atom.
    struct Keys {
        root: Vec<SigningKey>,
        online: Vec<SigningKey>,
    }

    fn keys(roots: usize) -> Keys {
        let make = |n| (0..n).map(|_| SigningKey::generate().0).collect::<Vec<_>>();
        Keys {
            root: make(roots),
            online: make(4),
        }
    }

    fn in_a_year() -> Timestamp {
        Timestamp::from_second(Timestamp::now().as_second() + 365 * 86_400).unwrap()
    }

    fn version_one(keys: &Keys, threshold: u64) -> Signed<Root> {
        let online = [Role::Targets, Role::Snapshot, Role::Timestamp, Role::Atom];
        let online: Vec<(Role, &SigningKey)> = online.into_iter().zip(&keys.online).collect();
        let root = new_root(
            &keys.root.iter().collect::<Vec<_>>(),
            threshold,
            online.try_into().unwrap(),
            in_a_year(),
        )
        .unwrap();
        Signed {
            signed: root,
            signatures: vec![],
        }
    }

    /// A registry directory holding these root versions as `tuf/root/<N>.root.json`.
    fn registry(roots: &[(u64, &Signed<Root>)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (n, root) in roots {
            let path = dir.path().join(ROOT_DIR).join(root_file_name(*n));
            write_root_file(&path, root).unwrap();
        }
        dir
    }

    fn read_err(roots: &[(u64, &Signed<Root>)]) -> String {
        let dir = registry(roots);
        let err = Chain::verified(dir.path(), Timestamp::now()).unwrap_err();
        err.to_string()
            .replace(&dir.path().display().to_string(), "<registry>")
    }

    /// Version 1 signed by `a` and `b` of three root keys (threshold 2), and version 2 with
    /// a new targets key.
    fn chain_of_two(keys: &Keys) -> (Signed<Root>, Signed<Root>) {
        let mut v1 = version_one(keys, keys.root.len().min(2) as u64);
        assert!(sign_root(&mut v1, None, &keys.root).is_empty());
        let chain = Chain::first(v1.clone(), "1.root.json").unwrap();
        let mut v2 = chain.next(in_a_year());
        let new_targets = SigningKey::generate().0;
        let old = role_keyids(&v2.signed, Role::Targets);
        replace_keys(&mut v2.signed, Role::Targets, &old, Some(&new_targets));
        (v1, v2)
    }

    #[test]
    fn version_one_needs_a_threshold_of_its_root_keys() {
        let keys = keys(3);
        let mut v1 = version_one(&keys, 2);
        sign_root(&mut v1, None, &keys.root[..1]);
        assert_eq!(
            read_err(&[(1, &v1)]),
            "root version 1 is not signed by a threshold of its own root keys: Signature threshold of 2 not met for role root (1 valid signatures)"
        );
        sign_root(&mut v1, None, &keys.root[1..2]);
        let dir = registry(&[(1, &v1)]);
        let chain = Chain::verified(dir.path(), Timestamp::now()).unwrap();
        assert_eq!(chain.latest(), &v1);
        // what was written is what was signed, and tough reads it back as is
        let text = std::fs::read_to_string(dir.path().join(ROOT_DIR).join("1.root.json")).unwrap();
        assert!(text.ends_with("}\n"));
        assert_eq!(serde_json::from_str::<Signed<Root>>(&text).unwrap(), v1);
    }

    #[test]
    fn a_next_version_needs_both_thresholds() {
        let keys = keys(3);
        let (v1, v2) = chain_of_two(&keys);
        // signed by a threshold of the old root keys and of its own (the same keys here)
        let mut good = v2.clone();
        sign_root(&mut good, Some(&v1.signed), &keys.root[..2]);
        let dir = registry(&[(1, &v1), (2, &good)]);
        let chain = Chain::verified(dir.path(), Timestamp::now()).unwrap();
        assert_eq!(chain.roots().len(), 2);
        assert_eq!(status(&good, Some(&v1.signed)).own.valid, 2);

        // a v2 whose root keys are all new, signed only by the new keys
        let new_roots: Vec<SigningKey> = (0..2).map(|_| SigningKey::generate().0).collect();
        let mut replaced = v2.clone();
        let old = role_keyids(&replaced.signed, Role::Root);
        replace_keys(&mut replaced.signed, Role::Root, &old, Some(&new_roots[0]));
        replace_keys(&mut replaced.signed, Role::Root, &[], Some(&new_roots[1]));
        let mut only_new = replaced.clone();
        sign_root(&mut only_new, Some(&v1.signed), &new_roots);
        assert_eq!(
            read_err(&[(1, &v1), (2, &only_new)]),
            "root version 2 is not signed by a threshold of the previous version's root keys: Signature threshold of 2 not met for role root (0 valid signatures)"
        );
        // the same v2 signed only by the old keys
        let mut only_old = replaced.clone();
        sign_root(&mut only_old, Some(&v1.signed), &keys.root);
        assert_eq!(
            read_err(&[(1, &v1), (2, &only_old)]),
            "root version 2 is not signed by a threshold of its own root keys: Signature threshold of 2 not met for role root (0 valid signatures)"
        );
        // by both: accepted
        let mut both = replaced;
        sign_root(&mut both, Some(&v1.signed), &keys.root[1..]);
        sign_root(&mut both, Some(&v1.signed), &new_roots);
        let dir = registry(&[(1, &v1), (2, &both)]);
        Chain::verified(dir.path(), Timestamp::now()).unwrap();
    }

    #[test]
    fn versions_go_up_by_one() {
        let keys = keys(1);
        let (v1, mut v2) = chain_of_two(&keys);
        sign_root(&mut v2, Some(&v1.signed), &keys.root);
        // 1 then 3: version 2 is missing
        assert_eq!(
            read_err(&[(1, &v1), (3, &v2)]),
            "the root chain skips version 2: versions go up by one from 1"
        );
        // a file named 2 holding version 3
        let mut v3 = v2.clone();
        v3.signed.version = NonZeroU64::new(3).unwrap();
        v3.signatures.clear();
        sign_root(&mut v3, Some(&v1.signed), &keys.root);
        assert_eq!(
            read_err(&[(1, &v1), (2, &v3)]),
            "`<registry>/tuf/root/2.root.json` holds root version 3, expected version 2"
        );
    }

    #[test]
    fn the_last_version_must_not_have_expired() {
        let keys = keys(1);
        let mut v1 = version_one(&keys, 1);
        v1.signed.expires = Timestamp::from_second(1_700_000_000).unwrap();
        sign_root(&mut v1, None, &keys.root);
        assert_eq!(
            read_err(&[(1, &v1)]),
            "root version 1 expired at 2023-11-14T22:13:20Z"
        );
        // an expired last version may still be replaced: the chain reads, and a v2 follows
        let dir = registry(&[(1, &v1)]);
        let chain = Chain::read(dir.path()).unwrap();
        let mut v2 = chain.next(in_a_year());
        sign_root(&mut v2, Some(&v1.signed), &keys.root);
        chain.check_next(&v2, "2.root.json").unwrap();
    }

    #[test]
    fn a_revoked_key_stays_revoked_and_out_of_every_role() {
        let keys = keys(1);
        let (v1, mut v2) = chain_of_two(&keys);
        let old_targets = role_keyids(&v1.signed, Role::Targets).remove(0);
        record_revoked(
            &mut v2.signed,
            &old_targets,
            Role::Targets,
            Some("leaked".into()),
        );
        sign_root(&mut v2, Some(&v1.signed), &keys.root);
        let dir = registry(&[(1, &v1), (2, &v2)]);
        let chain = Chain::verified(dir.path(), Timestamp::now()).unwrap();
        let extension = Extension::of(&chain.latest().signed).unwrap();
        assert_eq!(
            extension.revoked,
            [Revoked {
                keyid: old_targets.to_string(),
                role: "targets".into(),
                version: 2,
                reason: Some("leaked".into()),
            }]
        );
        assert!(roles_of(&chain.latest().signed, &old_targets).is_empty());

        // version 3 putting it back in a role
        let mut v3 = chain.next(in_a_year());
        let current = role_keyids(&v3.signed, Role::Snapshot);
        let mut back = v3.clone();
        (back
            .signed
            .roles
            .get_mut(&RoleType::Snapshot)
            .unwrap()
            .keyids)
            .push(old_targets.decoded());
        back.signed.keys.insert(
            old_targets.decoded(),
            v1.signed.keys[&old_targets.decoded()].clone(),
        );
        sign_root(&mut back, Some(&v2.signed), &keys.root);
        assert_eq!(
            chain
                .check_next(&back, "3.root.json")
                .unwrap_err()
                .to_string(),
            format!("root version 3 lists the revoked key `{old_targets}` for the snapshot role")
        );
        // version 3 forgetting the revocation
        let mut extension = Extension::of(&v3.signed).unwrap();
        extension.revoked.clear();
        extension.put(&mut v3.signed);
        sign_root(&mut v3, Some(&v2.signed), &keys.root);
        assert_eq!(
            chain
                .check_next(&v3, "3.root.json")
                .unwrap_err()
                .to_string(),
            format!("root version 3 drops the revocation of key `{old_targets}`")
        );
        assert_eq!(current.len(), 1);
    }

    #[test]
    fn a_threshold_beyond_the_keys_is_refused() {
        let keys = keys(2);
        let online = [Role::Targets, Role::Snapshot, Role::Timestamp, Role::Atom];
        let online: Vec<(Role, &SigningKey)> = online.into_iter().zip(&keys.online).collect();
        let err = new_root(
            &keys.root.iter().collect::<Vec<_>>(),
            3,
            online.try_into().unwrap(),
            in_a_year(),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "root threshold 3 with 2 root keys: the threshold is at least 1 and at most the number of keys"
        );
    }

    #[test]
    fn stray_files_and_bad_json_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let root_dir = dir.path().join(ROOT_DIR);
        std::fs::create_dir_all(&root_dir).unwrap();
        let message = |dir: &tempfile::TempDir| {
            (Chain::read(dir.path()).unwrap_err().to_string())
                .replace(&dir.path().display().to_string(), "<registry>")
        };
        assert_eq!(
            message(&dir),
            "no root of trust in `<registry>/tuf/root`: `regis keys init` makes one"
        );
        std::fs::write(root_dir.join("01.root.json"), "{}").unwrap();
        assert_eq!(
            message(&dir),
            "`01.root.json` in `<registry>/tuf/root` is not a root version file `<N>.root.json`"
        );
        std::fs::remove_file(root_dir.join("01.root.json")).unwrap();
        std::fs::write(root_dir.join("1.root.json"), "{\"signed\": 1}").unwrap();
        assert_eq!(
            message(&dir),
            "`<registry>/tuf/root/1.root.json` is not a root.json: invalid type: integer `1`, expected struct Root at line 1 column 12"
        );
    }
}
