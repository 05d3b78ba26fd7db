//! Atoms: one signed record per operation on a package (what was done, the tarball, the hash
//! of the metadata file it left, the signed payload that authorised it, when, and the
//! previous atom's id), in canonical JSON (OLPC, as TUF metadata) inside a TUF-style
//! envelope `{"signed": …, "signatures": [{"keyid", "sig"}]}` signed by the atom key. An
//! atom is named by the SHA-256 of its signed part ([`AtomId`]) and stored at
//! [`StorageKey::atom`]; a package's atoms form a chain from the head the registry repo
//! records, which [`verify_chain`] walks and checks, and [`refuse_replay`] searches for a
//! signed payload already carried out.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};
use tough::schema::key::Key;

use crate::payload::Authenticated;
use crate::schema::{Owner, PackageName, Sha256, Timestamp, Version};
use crate::storage::{Storage, StorageError, StorageKey};
use crate::store::RegistryDir;
use crate::trust::{
    AtomKeys, Chain, Extension, KeySource, ROOT_DIR, SigningKey, TrustError, root_file_name,
};
use tough::schema::{Root, Signed};

/// An atom's name: the SHA-256 of its signed part's canonical JSON, written in lowercase
/// hex.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AtomId(Sha256);

impl AtomId {
    /// The id of an atom whose signed part's canonical JSON is `signed`.
    pub fn of(signed: &[u8]) -> AtomId {
        AtomId(Sha256::of(signed))
    }

    /// `text` (surrounding whitespace ignored) if it is 64 lowercase hex digits.
    pub fn parse(text: &str) -> Option<AtomId> {
        let text = text.trim();
        let hex = text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        let digest: [u8; 32] = hex::decode(text).ok().filter(|_| hex)?.try_into().ok()?;
        Some(AtomId(Sha256::from_digest(digest)))
    }

    pub fn sha256(&self) -> &Sha256 {
        &self.0
    }

    /// Where the atom of `name` with this id is stored.
    pub fn key(&self, name: &PackageName) -> StorageKey {
        StorageKey::atom(name, &self.0)
    }
}

impl fmt::Display for AtomId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0.digest()))
    }
}

impl fmt::Debug for AtomId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AtomId({self})")
    }
}

impl Serialize for AtomId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for AtomId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<AtomId, D::Error> {
        let text = String::deserialize(d)?;
        AtomId::parse(&text)
            .ok_or_else(|| serde::de::Error::custom("expected an atom id: 64 lowercase hex digits"))
    }
}

/// What an atom records was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AtomOperation {
    Publish,
    Unpublish,
    Transfer,
    Yank,
    Unyank,
    Deprecate,
    Alias,
    Unalias,
}

impl AtomOperation {
    pub fn as_str(self) -> &'static str {
        match self {
            AtomOperation::Publish => "publish",
            AtomOperation::Unpublish => "unpublish",
            AtomOperation::Transfer => "transfer",
            AtomOperation::Yank => "yank",
            AtomOperation::Unyank => "unyank",
            AtomOperation::Deprecate => "deprecate",
            AtomOperation::Alias => "alias",
            AtomOperation::Unalias => "unalias",
        }
    }
}

impl fmt::Display for AtomOperation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A published tarball as an atom records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tarball {
    pub hash: Sha256,
    pub bytes: u64,
}

/// One operation on one package: the signed part of an atom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Atom {
    pub operation: AtomOperation,
    pub package: PackageName,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<Version>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tarball: Option<Tarball>,
    /// The SHA-256 of the package's metadata file as the operation left it.
    pub metadata: Sha256,
    /// A publish's: the SHA-256 of the version's index line as written (the manifest's
    /// compact JSON, without the newline). Absent from other operations' atoms and from
    /// publishes recorded before regis kept it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<Sha256>,
    /// The signed payload that authorised the operation (none for a publish).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Authenticated>,
    /// A publish's: the owner's signature of the release (`releaseSignature`), when the
    /// publish carried one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<ReleaseSignature>,
    /// A publish's: the package's owners after it (the keys that may sign its next
    /// release), when it has any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owners: Option<Vec<Owner>>,
    pub time: Timestamp,
    /// The package's atom before this one; none for its first.
    pub previous: Option<AtomId>,
}

/// An owner's signature of a release ([`crate::payload::release_text`]) and the owner key
/// that made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseSignature {
    pub signer: Owner,
    pub signature: String,
}

/// One signature of an atom: the key's TUF id and the ed25519 signature, in hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AtomSignature {
    pub keyid: String,
    pub sig: String,
}

/// An atom as stored: the signed part and its signatures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedAtom {
    pub signed: Atom,
    pub signatures: Vec<AtomSignature>,
}

/// `value` in OLPC canonical JSON (what TUF signs).
pub fn canonical<T: Serialize>(value: &T) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut serializer =
        serde_json::Serializer::with_formatter(&mut bytes, olpc_cjson::CanonicalFormatter::new());
    value
        .serialize(&mut serializer)
        .expect("an atom is canonical JSON: strings and integers only");
    bytes
}

/// The id of `atom`: the SHA-256 of its canonical JSON.
pub fn id(atom: &Atom) -> AtomId {
    AtomId::of(&canonical(atom))
}

/// `atom` signed by `key`: its id and the bytes to store (the envelope's canonical JSON,
/// the same bytes for the same atom, since ed25519 signatures are deterministic).
pub fn sign(atom: Atom, key: &SigningKey) -> (AtomId, Vec<u8>) {
    let signed = canonical(&atom);
    let signature = AtomSignature {
        keyid: key.keyid().to_string(),
        sig: hex::encode(key.sign(&signed)),
    };
    let envelope = SignedAtom {
        signed: atom,
        signatures: vec![signature],
    };
    (AtomId::of(&signed), canonical(&envelope))
}

/// The keys atoms are checked against, and how many of them must have signed.
#[derive(Debug, Clone)]
pub struct AtomTrust {
    keys: BTreeMap<String, Key>,
    threshold: u64,
    /// Where the keys come from, for messages.
    source: String,
}

impl AtomTrust {
    /// The atom keys of every root version in a chain, less those `revoked` (the latest
    /// root's revocations), with the latest root's `threshold`: an atom signed before its
    /// key was rotated out still verifies, one signed by a revoked key does not.
    pub fn of_roots<'r>(
        roots: impl IntoIterator<Item = &'r AtomKeys>,
        revoked: &[String],
        threshold: u64,
        versions: usize,
    ) -> AtomTrust {
        let mut keys = BTreeMap::new();
        for listed in roots {
            for (id, key) in &listed.keys {
                if !revoked.contains(id) {
                    keys.insert(id.clone(), key.clone());
                }
            }
        }
        AtomTrust {
            keys,
            threshold,
            source: match versions {
                1 => "root version 1".to_owned(),
                n => format!("root versions 1 to {n}"),
            },
        }
    }

    /// The atom keys of a verified root chain (version 1 first), less the revoked; the
    /// refusal names the version whose `regis` field does not read.
    pub fn of_chain(roots: &[Signed<Root>]) -> Result<AtomTrust, (u64, String)> {
        let mut extensions = Vec::new();
        for root in roots {
            let extension = Extension::of(&root.signed)
                .map_err(|reason| (root.signed.version.get(), reason))?;
            extensions.push(extension);
        }
        let latest = extensions.last().expect("a chain has a first version");
        let revoked: Vec<String> = latest.revoked.iter().map(|r| r.keyid.clone()).collect();
        Ok(AtomTrust::of_roots(
            extensions.iter().map(|e| &e.atom),
            &revoked,
            latest.atom.threshold.get(),
            extensions.len(),
        ))
    }

    /// The configured atom key's public half (a registry without a root of trust).
    pub fn of_key(key: &SigningKey) -> AtomTrust {
        AtomTrust {
            keys: BTreeMap::from([(key.keyid().to_string(), key.public().clone())]),
            threshold: 1,
            source: "the configured `trustAtomKey`".to_owned(),
        }
    }

    /// The keys atoms of the registry checkout at `registry` are checked against: the atom
    /// keys of every root version not revoked in the latest (threshold the latest's), or
    /// without a root of trust the public half of `atom_key` (the configured `trustAtomKey`,
    /// a file taken relative to `registry`).
    pub fn of_registry(
        registry: &Path,
        atom_key: Option<&KeySource>,
    ) -> Result<AtomTrust, AtomError> {
        match Chain::read(registry) {
            Ok(chain) => AtomTrust::of_chain(chain.roots()).map_err(|(version, reason)| {
                let path = registry.join(ROOT_DIR).join(root_file_name(version));
                AtomError::Trust(TrustError::ParseRoot {
                    path: path.display().to_string(),
                    reason,
                })
            }),
            Err(TrustError::NoRoot { .. }) => match atom_key {
                Some(source) => Ok(AtomTrust::of_key(&source.resolved(registry).load()?)),
                None => Err(AtomError::NoTrust),
            },
            Err(other) => Err(other.into()),
        }
    }

    /// Where the keys come from: `root version N` or the configured atom key.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// How many distinct trusted keys made a good signature of `message`.
    fn count(&self, message: &[u8], signatures: &[AtomSignature]) -> u64 {
        let mut good = std::collections::BTreeSet::new();
        for signature in signatures {
            let Some(Key::Ed25519 { keyval, .. }) = self.keys.get(&signature.keyid) else {
                continue;
            };
            let Ok(sig) = hex::decode(&signature.sig) else {
                continue;
            };
            let public = aws_lc_rs::signature::UnparsedPublicKey::new(
                &aws_lc_rs::signature::ED25519,
                keyval.public.as_ref(),
            );
            if public.verify(message, &sig).is_ok() {
                good.insert(&signature.keyid);
            }
        }
        good.len() as u64
    }
}

/// An atom that passed [`verify_chain`], with its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub id: AtomId,
    pub atom: SignedAtom,
}

/// Where an atom of `name` is named from, for a message: the registry's head, or the later
/// atom whose `previous` it is.
fn named_by(name: &PackageName, later: Option<AtomId>) -> String {
    match later {
        Some(later) => format!("atom `{later}`"),
        None => format!("the registry's head `atoms/{name}`"),
    }
}

/// Reads the atom `id` of `name` from storage, checked to hash to its id; with the canonical
/// JSON of its signed part. `named_by` says what named it, for a missing one.
fn read_atom(
    storage: &dyn Storage,
    name: &PackageName,
    id: AtomId,
    named_by: String,
) -> Result<(SignedAtom, Vec<u8>), AtomError> {
    let bytes = storage
        .get(&id.key(name))?
        .ok_or_else(|| AtomError::Missing {
            name: name.clone(),
            id,
            named_by,
        })?;
    let atom: SignedAtom = serde_json::from_slice(&bytes).map_err(|e| AtomError::Unreadable {
        name: name.clone(),
        id,
        reason: crate::text::message(&e.to_string()).into_owned(),
    })?;
    let signed = canonical(&atom.signed);
    let found = AtomId::of(&signed);
    if found != id {
        return Err(AtomError::Altered {
            name: name.clone(),
            id,
            found,
        });
    }
    Ok((atom, signed))
}

/// Reads the atom chain of `name` from `head` back to its first atom and checks that each
/// atom is stored, hashes to its name, is signed by a threshold of `trust`'s keys and is
/// of `name`, and that the head records the hash of `metadata` (the metadata file's bytes
/// now). Newest first.
pub fn verify_chain(
    storage: &dyn Storage,
    name: &PackageName,
    head: AtomId,
    trust: &AtomTrust,
    metadata: Option<&[u8]>,
) -> Result<Vec<Verified>, AtomError> {
    let chain = verify_links(storage, name, head, trust)?;
    let recorded = chain[0].atom.signed.metadata;
    let found = metadata.map(Sha256::of);
    if found != Some(recorded) {
        return Err(AtomError::MetadataChanged {
            name: name.clone(),
            id: head,
            recorded,
            found: found.map_or("no metadata file".to_owned(), |h| format!("`{h}`")),
        });
    }
    Ok(chain)
}

/// [`verify_chain`] without the metadata file: each atom from `head` back to the first
/// stored, hashing to its name, signed by a threshold of `trust`'s keys and of `name`.
/// Newest first, never empty.
pub fn verify_links(
    storage: &dyn Storage,
    name: &PackageName,
    head: AtomId,
    trust: &AtomTrust,
) -> Result<Vec<Verified>, AtomError> {
    let mut chain: Vec<Verified> = Vec::new();
    let mut next = Some(head);
    while let Some(id) = next {
        let later = chain.last().map(|v| v.id);
        let (atom, signed) = read_atom(storage, name, id, named_by(name, later))?;
        if trust.count(&signed, &atom.signatures) < trust.threshold {
            return Err(AtomError::Unsigned {
                name: name.clone(),
                id,
                threshold: trust.threshold,
                source_name: trust.source.clone(),
            });
        }
        if atom.signed.package != *name {
            return Err(AtomError::WrongPackage {
                name: name.clone(),
                id,
                found: atom.signed.package.clone(),
            });
        }
        next = atom.signed.previous;
        chain.push(Verified { id, atom });
    }
    Ok(chain)
}

/// The atom that first recorded each version's publish in a verified chain (newest first,
/// as [`verify_chain`] gives it): what the version's tarball, publish time and index line
/// must stay.
pub fn publishes(chain: &[Verified]) -> BTreeMap<&Version, &Verified> {
    let mut out = BTreeMap::new();
    for verified in chain.iter().rev() {
        let atom = &verified.atom.signed;
        if let (AtomOperation::Publish, Some(version)) = (atom.operation, &atom.version) {
            out.entry(version).or_insert(verified);
        }
    }
    out
}

/// The chain head `atoms/<name>` in the registry repo: `None` when the package has no
/// atoms.
pub fn read_head(registry: &RegistryDir, name: &PackageName) -> Result<Option<AtomId>, AtomError> {
    let Some(text) = registry.read_atom_head(name)? else {
        return Ok(None);
    };
    let id = AtomId::parse(&text).ok_or_else(|| AtomError::BadHead {
        name: name.clone(),
        text: crate::text::echo(&text).to_string(),
    })?;
    Ok(Some(id))
}

/// The atom of `name`'s chain, from `head` back, that recorded a payload whose signed text
/// is `signed`'s, with its id. Each atom is read from storage (a missing one is an error
/// naming it) and must hash to its id and be of `name`, so the walk ends at the first atom:
/// a chain of hashes cannot loop. Signatures are not checked here (`regis history` does).
///
/// The text, not the signature, is compared: anyone can write a second signature over the
/// same text (hex in upper case, an `SSH SIGNATURE` block wrapped otherwise, an ECDSA
/// signature's `s` as `n - s`), and a text only its signer can change.
pub fn find_payload(
    storage: &dyn Storage,
    name: &PackageName,
    head: AtomId,
    signed: &Authenticated,
) -> Result<Option<(AtomId, Atom)>, AtomError> {
    find_atom(storage, name, head, |atom| {
        atom.payload.as_ref().map(|p| &p.payload) == Some(&signed.payload)
    })
}

/// The newest atom of `name`'s chain, from `head` back, that `matches`, with its id; read
/// and checked as [`find_payload`] reads them.
pub fn find_atom(
    storage: &dyn Storage,
    name: &PackageName,
    head: AtomId,
    mut matches: impl FnMut(&Atom) -> bool,
) -> Result<Option<(AtomId, Atom)>, AtomError> {
    let mut later = None;
    let mut next = Some(head);
    while let Some(id) = next {
        let (atom, _) = read_atom(storage, name, id, named_by(name, later))?;
        if atom.signed.package != *name {
            return Err(AtomError::WrongPackage {
                name: name.clone(),
                id,
                found: atom.signed.package,
            });
        }
        if matches(&atom.signed) {
            return Ok(Some((id, atom.signed)));
        }
        next = atom.signed.previous;
        later = Some(id);
    }
    Ok(None)
}

/// Refuses `signed` when `name`'s atom chain already records its signed text: a signed
/// request is carried out once, so a payload posted again (by anyone: issues are public)
/// cannot undo what its signer did since. A package without atoms has nothing to compare
/// with.
pub fn refuse_replay(
    storage: &dyn Storage,
    registry: &RegistryDir,
    name: &PackageName,
    signed: &Authenticated,
) -> Result<(), AtomError> {
    let Some(head) = read_head(registry, name)? else {
        return Ok(());
    };
    match find_payload(storage, name, head, signed)? {
        None => Ok(()),
        Some((id, atom)) => Err(AtomError::Replayed {
            name: name.clone(),
            id,
            operation: atom.operation,
            time: atom.time,
        }),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AtomError {
    #[error(transparent)]
    Trust(#[from] TrustError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// `text` as [`crate::text::echo`] shows it.
    #[error(
        "`atoms/{name}` in the registry repo does not hold an atom id (64 lowercase hex digits): it holds {text}"
    )]
    BadHead { name: PackageName, text: String },
    #[error(
        "package `{name}` has no atoms: no operation on it was recorded with an atom key (`trustAtomKey`)"
    )]
    NoAtoms { name: PackageName },
    #[error(
        "no atom keys to check atoms with: the registry has no root of trust and `regis.dhall` sets no `trustAtomKey`"
    )]
    NoTrust,
    #[error(
        "storage holds no atom `{id}` of `{name}`, which {named_by} names: the chain is broken"
    )]
    Missing {
        name: PackageName,
        id: AtomId,
        named_by: String,
    },
    #[error("the atom `{id}` of `{name}` is not a signed atom: {reason}")]
    Unreadable {
        name: PackageName,
        id: AtomId,
        reason: String,
    },
    #[error("the atom `{id}` of `{name}` was altered: its signed part hashes to `{found}`")]
    Altered {
        name: PackageName,
        id: AtomId,
        found: AtomId,
    },
    #[error(
        "the atom `{id}` of `{name}` is not signed by {threshold} of the atom keys of {source_name}"
    )]
    Unsigned {
        name: PackageName,
        id: AtomId,
        threshold: u64,
        source_name: String,
    },
    #[error("the atom `{id}` under `{name}` records package `{found}`")]
    WrongPackage {
        name: PackageName,
        id: AtomId,
        found: PackageName,
    },
    #[error(
        "this signed payload was already carried out on `{name}`: atom `{id}` records it, for the {operation} at `{time}`; a signed text is accepted once, so to ask again, sign the request anew with `regis sign` (which puts the time of signing in `signedAt`)"
    )]
    Replayed {
        name: PackageName,
        id: AtomId,
        operation: AtomOperation,
        time: Timestamp,
    },
    #[error(
        "the metadata of `{name}` changed after its last atom `{id}`: the atom records `{recorded}`, the file hashes to {found}"
    )]
    MetadataChanged {
        name: PackageName,
        id: AtomId,
        recorded: Sha256,
        found: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{ListedKind, MemoryStorage};

    fn atom(previous: Option<AtomId>) -> Atom {
        Atom {
            operation: AtomOperation::Publish,
            package: "prelude".parse().unwrap(),
            version: Some("1.0.0".parse().unwrap()),
            tarball: Some(Tarball {
                hash: Sha256::of(b"tarball"),
                bytes: 7,
            }),
            metadata: Sha256::of(b"metadata"),
            index: Some(Sha256::of(b"index line")),
            payload: None,
            release: None,
            owners: None,
            time: "2026-11-22T10:00:00.000Z".parse().unwrap(),
            previous,
        }
    }

    #[test]
    fn an_atom_is_canonical_json_named_by_its_signed_part() {
        let (key, _) = SigningKey::generate();
        let (id, bytes) = sign(atom(None), &key);
        let text = String::from_utf8(bytes.clone()).unwrap();
        // Keys sorted, no whitespace, the signed part's hash as the name.
        assert!(text.starts_with(r#"{"signatures":[{"keyid":""#), "{text}");
        assert!(text.contains(r#""signed":{"index":"sha256-"#), "{text}");
        assert_eq!(id, super::id(&atom(None)));
        assert_eq!(sign(atom(None), &key), (id, bytes));
        assert_eq!(AtomId::parse(&format!("{id}\n")), Some(id));
        for bad in ["", "A".repeat(64).as_str(), "0".repeat(63).as_str()] {
            assert_eq!(AtomId::parse(bad), None, "{bad}");
        }
        let stored = id.key(&"prelude".parse().unwrap());
        assert_eq!(stored.as_str(), format!("atoms/prelude/{id}.json"));
        assert!(matches!(
            ListedKind::of(stored.as_str()),
            ListedKind::Atom { .. }
        ));
        assert_eq!(ListedKind::of("atoms/prelude/x.json"), ListedKind::Other);
    }

    #[test]
    fn an_atom_without_an_index_hash_reads_and_writes_none() {
        // An atom as regis wrote it before it kept the index line's hash.
        let old = Atom {
            index: None,
            ..atom(None)
        };
        let (key, _) = SigningKey::generate();
        let (_, bytes) = sign(old.clone(), &key);
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(!text.contains("\"index\""), "{text}");
        let read: SignedAtom = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(read.signed, old);
    }

    #[test]
    fn the_first_publish_of_each_version_is_what_it_must_stay() {
        let (key, _) = SigningKey::generate();
        let storage = MemoryStorage::default();
        let name: PackageName = "prelude".parse().unwrap();
        let mut previous = None;
        let mut ids = Vec::new();
        for (operation, version) in [
            (AtomOperation::Publish, "1.0.0"),
            (AtomOperation::Yank, "1.0.0"),
            (AtomOperation::Publish, "1.0.0"),
            (AtomOperation::Publish, "2.0.0"),
        ] {
            let a = Atom {
                operation,
                version: Some(version.parse().unwrap()),
                previous,
                ..atom(None)
            };
            let (id, bytes) = sign(a, &key);
            storage.put(&id.key(&name), &bytes).unwrap();
            ids.push(id);
            previous = Some(id);
        }
        let chain = verify_links(&storage, &name, ids[3], &AtomTrust::of_key(&key)).unwrap();
        let found: Vec<(String, AtomId)> = publishes(&chain)
            .into_iter()
            .map(|(v, a)| (v.to_string(), a.id))
            .collect();
        assert_eq!(
            found,
            [("1.0.0".to_owned(), ids[0]), ("2.0.0".to_owned(), ids[3])]
        );
    }

    #[test]
    fn a_chain_verifies_link_by_link() {
        let (key, _) = SigningKey::generate();
        let storage = MemoryStorage::default();
        let name: PackageName = "prelude".parse().unwrap();
        let (first, bytes) = sign(atom(None), &key);
        storage.put(&first.key(&name), &bytes).unwrap();
        let (second, bytes) = sign(atom(Some(first)), &key);
        storage.put(&second.key(&name), &bytes).unwrap();
        let trust = AtomTrust::of_key(&key);
        let chain = verify_chain(&storage, &name, second, &trust, Some(b"metadata")).unwrap();
        let ids: Vec<AtomId> = chain.iter().map(|v| v.id).collect();
        assert_eq!(ids, [second, first]);
        let (other, _) = SigningKey::generate();
        let e = verify_chain(&storage, &name, second, &AtomTrust::of_key(&other), None);
        assert!(matches!(e, Err(AtomError::Unsigned { .. })), "{e:?}");
        let e = verify_chain(&storage, &name, second, &trust, None);
        assert!(matches!(e, Err(AtomError::MetadataChanged { .. })), "{e:?}");
    }
}
