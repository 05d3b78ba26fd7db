//! Where tarballs live: the `Storage` trait, the one type that computes storage keys, the
//! [`Location`] a config or flag names, the backends — a local directory, an object
//! store (S3, GCS, Azure, …) and memory (tests) — and [`Stores`], a primary with its
//! mirrors.

mod fs;
mod memory;
mod mirrors;
mod object;

pub use fs::FsStorage;
pub use memory::MemoryStorage;
pub use mirrors::{Fetched, MirrorOutcome, MirrorWrite, Stores};
pub use object::{ObjectStorage, SCHEMES, is_url};

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::schema::{PackageName, Sha256, Version};

/// The one owner of storage paths: tarballs at `<name>/<version>.tar.gz`, atoms at
/// `atoms/<name>/<sha256 hex>.json` (named by the hash of their signed part).
///
/// ```
/// use regis::storage::StorageKey;
/// let k = StorageKey::tarball(&"prelude".parse().unwrap(), &"6.0.1".parse().unwrap());
/// assert_eq!(k.as_str(), "prelude/6.0.1.tar.gz");
/// let a = StorageKey::atom(&"prelude".parse().unwrap(), &regis::schema::Sha256::of(b""));
/// assert_eq!(
///     a.as_str(),
///     "atoms/prelude/e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855.json"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StorageKey(String);

impl StorageKey {
    pub fn tarball(name: &PackageName, version: &Version) -> Self {
        StorageKey(format!("{name}/{version}.tar.gz"))
    }

    /// The atom of package `name` whose signed part hashes to `id`.
    pub fn atom(name: &PackageName, id: &Sha256) -> Self {
        StorageKey(format!(
            "{ATOMS_DIR}/{name}/{}.json",
            hex::encode(id.digest())
        ))
    }

    /// A file of the registry's TUF repository: `tuf/<file>` (a root version, a role file
    /// by consistent-snapshot name, or `timestamp.json`).
    pub fn trust(file: &str) -> Self {
        StorageKey(format!("{TRUST_DIR}/{file}"))
    }

    /// A package set, copied from the registry repo so TUF can list it as a target:
    /// `package-sets/<version>.json`.
    pub fn package_set(version: &Version) -> Self {
        StorageKey(format!("{PACKAGE_SETS_DIR}/{version}.json"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The atom key at a storage path, if it is one, with its package.
    pub fn parse_atom(path: &str) -> Option<(StorageKey, PackageName)> {
        let rest = path.strip_prefix(ATOMS_DIR)?.strip_prefix('/')?;
        let (name, file) = rest.split_once('/')?;
        let digest: [u8; 32] = hex::decode(file.strip_suffix(".json")?)
            .ok()?
            .try_into()
            .ok()?;
        let name: PackageName = name.parse().ok()?;
        let key = StorageKey::atom(&name, &Sha256::from_digest(digest));
        (key.as_str() == path).then_some((key, name))
    }

    /// The key at a storage path, if it is one (`<name>/<version>.tar.gz` with a valid name
    /// and version), with the package and version it holds.
    pub fn parse(path: &str) -> Option<(StorageKey, PackageName, Version)> {
        let (name, file) = path.split_once('/')?;
        let version = file.strip_suffix(".tar.gz")?;
        let (name, version): (PackageName, Version) = (name.parse().ok()?, version.parse().ok()?);
        let key = StorageKey::tarball(&name, &version);
        (key.as_str() == path).then_some((key, name, version))
    }
}

/// The storage directory that holds atoms, one directory per package.
pub const ATOMS_DIR: &str = "atoms";

/// The storage directory of the TUF repository's metadata.
pub const TRUST_DIR: &str = "tuf";

/// The storage directory of the package sets' copies.
pub const PACKAGE_SETS_DIR: &str = "package-sets";

/// The prefix of the temporary files a write goes through before it is linked into
/// place; one left behind is an interrupted write (`.tmp` is the prefix older regis used).
pub const TEMPORARY_PREFIXES: [&str; 2] = [".regis-tmp-", ".tmp"];

/// An interrupted write older than this is removed by the next write in its directory (a
/// write of a tarball takes seconds).
pub const STALE_TEMPORARY: Duration = Duration::from_secs(15 * 60);

/// Where tarballs are, as `storage` in `regis.dhall` or `--storage` names it: an object
/// store URL (`s3://bucket/prefix`, [`SCHEMES`]) or a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Dir(PathBuf),
    Url(String),
}

impl Location {
    /// `text` as a location; a relative directory is taken relative to `base`.
    pub fn parse(text: &str, base: &Path) -> Location {
        if is_url(text) {
            Location::Url(text.to_owned())
        } else {
            Location::Dir(base.join(text))
        }
    }

    /// The storage there. A directory is created by its first write; an object store's
    /// settings and credentials come from the environment ([`ObjectStorage::open`]).
    pub fn open(&self) -> Result<Box<dyn Storage>, StorageError> {
        self.open_scoped("")
    }

    /// [`Location::open`], where an environment variable `<scope>NAME` takes the place of
    /// `NAME` (`REGIS_MIRROR1_AWS_SECRET_ACCESS_KEY` for `AWS_SECRET_ACCESS_KEY`): a
    /// mirror at another provider or account has credentials of its own.
    pub fn open_scoped(&self, scope: &str) -> Result<Box<dyn Storage>, StorageError> {
        Ok(match self {
            Location::Dir(dir) => Box::new(FsStorage::new(dir)),
            Location::Url(url) => Box::new(ObjectStorage::open_with(
                url,
                scoped_vars(std::env::vars(), scope),
            )?),
        })
    }
}

/// `vars` with each `<scope>NAME` in the place of `NAME` (and no other variable starting
/// with `scope`); all of `vars` when `scope` is empty.
fn scoped_vars(
    vars: impl IntoIterator<Item = (String, String)>,
    scope: &str,
) -> Vec<(String, String)> {
    let mut map = std::collections::BTreeMap::new();
    let mut scoped = Vec::new();
    for (name, value) in vars {
        match name.strip_prefix(scope).filter(|_| !scope.is_empty()) {
            Some(rest) => scoped.push((rest.to_owned(), value)),
            None => {
                map.insert(name, value);
            }
        }
    }
    map.extend(scoped);
    map.into_iter().collect()
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Dir(dir) => write!(f, "{}", dir.display()),
            Location::Url(url) => f.write_str(&object::describe(url)),
        }
    }
}

/// One thing in storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// The path below the storage root.
    pub path: String,
    pub kind: ListedKind,
    pub bytes: u64,
    /// Time since it was last written.
    pub age: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListedKind {
    /// A tarball under its key.
    Tarball {
        key: StorageKey,
        name: PackageName,
        version: Version,
    },
    /// An atom of a package under its key.
    Atom { key: StorageKey, name: PackageName },
    /// A file of the TUF repository (`tuf/<file>.json`) or a package set's copy
    /// (`package-sets/<version>.json`).
    Trust,
    /// A temporary file an interrupted write left.
    Temporary,
    /// Anything else.
    Other,
}

impl ListedKind {
    /// What the file at `path` (below the root) is.
    pub fn of(path: &str) -> ListedKind {
        let file = path.rsplit('/').next().unwrap_or(path);
        if TEMPORARY_PREFIXES.iter().any(|p| file.starts_with(p)) {
            return ListedKind::Temporary;
        }
        if let Some((key, name)) = StorageKey::parse_atom(path) {
            return ListedKind::Atom { key, name };
        }
        if is_trust_file(path) {
            return ListedKind::Trust;
        }
        match StorageKey::parse(path) {
            Some((key, name, version)) => ListedKind::Tarball { key, name, version },
            None => ListedKind::Other,
        }
    }
}

/// `tuf/<file>.json` (no deeper), or `package-sets/<version>.json`.
fn is_trust_file(path: &str) -> bool {
    let json = |dir: &str| {
        (path.strip_prefix(dir).and_then(|r| r.strip_prefix('/')))
            .and_then(|file| file.strip_suffix(".json"))
            .filter(|stem| !stem.is_empty() && !stem.contains('/'))
    };
    json(TRUST_DIR).is_some()
        || json(PACKAGE_SETS_DIR).is_some_and(|v| v.parse::<Version>().is_ok())
}

impl fmt::Display for StorageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an upload did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Put {
    Stored,
    /// An object with exactly these bytes was already there (a re-run).
    AlreadyPresent,
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error(
        "storage already holds `{key}` with different contents ({existing_bytes} bytes, `{existing_hash}`) than the upload ({new_bytes} bytes, `{new_hash}`): a stored tarball is never replaced"
    )]
    Conflict {
        key: StorageKey,
        existing_bytes: u64,
        existing_hash: Sha256,
        new_bytes: u64,
        new_hash: Sha256,
    },
    #[error("storage `{location}`: {action} `{path}`")]
    Path {
        location: String,
        action: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("storage `{location}`: {action} `{path}`")]
    Object {
        location: String,
        action: &'static str,
        path: String,
        #[source]
        source: Box<object_store::Error>,
    },
    #[error("storage `{location}` cannot be opened: {why}")]
    Open { location: String, why: String },
    #[error("storage `{location}`: {action} `{key}`")]
    Io {
        location: String,
        action: &'static str,
        key: StorageKey,
        #[source]
        source: std::io::Error,
    },
}

/// A tarball store. `put` is idempotent: an existing object is accepted only when its
/// bytes (and so its hash) are identical.
pub trait Storage {
    fn get(&self, key: &StorageKey) -> Result<Option<Vec<u8>>, StorageError>;
    /// [`Storage::get`] of each of `keys`, in their order. A store that can have several
    /// reads in flight (an object store, where each read waits on the network) has them.
    fn get_many(&self, keys: &[StorageKey]) -> Vec<Result<Option<Vec<u8>>, StorageError>> {
        keys.iter().map(|key| self.get(key)).collect()
    }
    /// Write an object that was not there when last looked at, atomically and without
    /// replacing one that appeared meanwhile: `Ok(false)` if another writer got there first.
    fn write_new(&self, key: &StorageKey, bytes: &[u8]) -> Result<bool, StorageError>;
    fn delete(&self, key: &StorageKey) -> Result<bool, StorageError>;
    /// Write `bytes` at `key` if it still holds `expected` (`None`: if it is absent),
    /// atomically against other writers: readers see the old bytes or the new, and
    /// `Ok(false)` says another writer changed it first. Only for the one object that
    /// changes in place, the TUF `timestamp.json`.
    fn replace_if(
        &self,
        key: &StorageKey,
        expected: Option<&[u8]>,
        bytes: &[u8],
    ) -> Result<bool, StorageError>;
    /// Mark an existing object as just written (its age starts again), so `regis gc` sees a
    /// publish that found it already stored as in flight.
    fn touch(&self, key: &StorageKey) -> Result<(), StorageError>;
    /// Everything stored, sorted by path.
    fn list(&self) -> Result<Vec<Listed>, StorageError>;
    /// Remove the interrupted writes ([`ListedKind::Temporary`]) older than `older_than`;
    /// their paths.
    fn sweep_temporary(&self, older_than: Duration) -> Result<Vec<String>, StorageError>;
    /// Where this storage is, for messages.
    fn describe(&self) -> String;
    /// Whether [`Storage::list`] can see everything stored: not over plain HTTP, where
    /// objects are read one URL at a time.
    fn lists(&self) -> bool {
        true
    }

    fn put(&self, key: &StorageKey, bytes: &[u8]) -> Result<Put, StorageError> {
        if let Some(existing) = self.get(key)? {
            let put = compare(key, &existing, bytes)?;
            self.touch(key)?;
            return Ok(put);
        }
        if self.write_new(key, bytes)? {
            return Ok(Put::Stored);
        }
        // Another writer stored this key between the look and the write.
        match self.get(key)? {
            Some(existing) => compare(key, &existing, bytes),
            None => self.write_new(key, bytes).map(|_| Put::Stored),
        }
    }
}

/// An existing object is accepted only if it is byte for byte the upload.
fn compare(key: &StorageKey, existing: &[u8], new: &[u8]) -> Result<Put, StorageError> {
    if existing == new {
        return Ok(Put::AlreadyPresent);
    }
    Err(StorageError::Conflict {
        key: key.clone(),
        existing_bytes: existing.len() as u64,
        existing_hash: Sha256::of(existing),
        new_bytes: new.len() as u64,
        new_hash: Sha256::of(new),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_scoped_variable_takes_the_place_of_the_plain_one() {
        let vars = [
            ("AWS_ACCESS_KEY_ID", "primary-id"),
            ("AWS_SECRET_ACCESS_KEY", "primary-secret"),
            ("AWS_REGION", "eu-west-1"),
            ("REGIS_MIRROR1_AWS_SECRET_ACCESS_KEY", "mirror-secret"),
            ("REGIS_MIRROR1_AWS_ENDPOINT", "https://r2.example.com"),
            ("REGIS_MIRROR2_AWS_SECRET_ACCESS_KEY", "other-mirror-secret"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let scoped = super::scoped_vars(vars.clone(), "REGIS_MIRROR1_");
        let get = |name: &str| {
            (scoped.iter())
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("AWS_SECRET_ACCESS_KEY"), Some("mirror-secret"));
        assert_eq!(get("AWS_ENDPOINT"), Some("https://r2.example.com"));
        assert_eq!(get("AWS_ACCESS_KEY_ID"), Some("primary-id"));
        assert_eq!(get("AWS_REGION"), Some("eu-west-1"));
        assert_eq!(
            get("REGIS_MIRROR2_AWS_SECRET_ACCESS_KEY"),
            Some("other-mirror-secret")
        );
        // No scope: the environment as it is.
        assert_eq!(super::scoped_vars(vars.clone(), "").len(), vars.len());
    }
}

#[cfg(test)]
pub(crate) mod contract {
    //! The behaviour every backend must have.
    use super::*;

    pub fn check(storage: &dyn Storage) {
        let k = StorageKey::tarball(&"a".parse().unwrap(), &"1.0.0".parse().unwrap());
        assert_eq!(storage.get(&k).unwrap(), None);
        assert_eq!(storage.put(&k, b"one").unwrap(), Put::Stored);
        assert_eq!(storage.put(&k, b"one").unwrap(), Put::AlreadyPresent);
        let e = storage.put(&k, b"two").unwrap_err();
        assert!(
            matches!(
                e,
                StorageError::Conflict {
                    existing_bytes: 3,
                    ..
                }
            ),
            "{e}"
        );
        assert_eq!(storage.get(&k).unwrap().as_deref(), Some(&b"one"[..]));
        // Several reads at once: each answer in its key's place.
        let absent = StorageKey::tarball(&"z".parse().unwrap(), &"9.9.9".parse().unwrap());
        let many = storage.get_many(&[k.clone(), absent.clone(), k.clone()]);
        let many: Vec<Option<Vec<u8>>> = many.into_iter().map(Result::unwrap).collect();
        assert_eq!(many, [Some(b"one".to_vec()), None, Some(b"one".to_vec())]);
        assert!(storage.delete(&k).unwrap());
        assert!(!storage.delete(&k).unwrap());
        assert_eq!(storage.get(&k).unwrap(), None);
        // A writer that lost a race does not replace the winner's object.
        assert!(storage.write_new(&k, b"first").unwrap());
        assert!(!storage.write_new(&k, b"second").unwrap());
        assert_eq!(storage.get(&k).unwrap().as_deref(), Some(&b"first"[..]));
        // The one object replaced in place: only over what the writer read.
        let t = StorageKey::trust("timestamp.json");
        assert!(!storage.replace_if(&t, Some(b"v0"), b"v1").unwrap());
        assert!(storage.replace_if(&t, None, b"v1").unwrap());
        assert!(!storage.replace_if(&t, None, b"v2").unwrap());
        assert!(!storage.replace_if(&t, Some(b"v0"), b"v2").unwrap());
        assert!(storage.replace_if(&t, Some(b"v1"), b"v2").unwrap());
        assert_eq!(storage.get(&t).unwrap().as_deref(), Some(&b"v2"[..]));
        assert_eq!(ListedKind::of(t.as_str()), ListedKind::Trust);
    }

    /// [`check`] for a backend over the directory `dir`: the contract, and a tarball lands
    /// as the file `<dir>/<name>/<version>.tar.gz`.
    pub fn check_in_dir(storage: &dyn Storage, dir: &std::path::Path) {
        check(storage);
        let k = StorageKey::tarball(&"b".parse().unwrap(), &"2.0.0".parse().unwrap());
        storage.put(&k, b"x").unwrap();
        assert_eq!(std::fs::read(dir.join("b/2.0.0.tar.gz")).unwrap(), b"x");
        assert!(
            storage
                .list()
                .unwrap()
                .iter()
                .any(|l| l.path == "b/2.0.0.tar.gz")
        );
    }
}
