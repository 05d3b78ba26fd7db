//! Operations, each `validate → plan → apply`: validation and planning are pure functions
//! over values; `apply` performs the planned writes through the effect traits in
//! [`Context`] (storage, the two git repos, the source fetcher). Transfer, unpublish, yank,
//! deprecate and alias are authenticated: [`authorize`] says who signed them.

pub mod alias;
pub mod authorize;
pub mod client;
pub mod deprecate;
pub mod gc;
pub mod history;
pub mod issue;
pub mod package_set;
pub mod publish;
pub mod report;
pub mod request;
pub mod sparse;
pub mod sync;
pub mod transfer;
pub mod transferrer;
pub mod tuf;
pub mod unpublish;
pub mod verify;
pub mod yank;

use std::path::PathBuf;

use crate::atom::{AtomError, AtomId, AtomOperation, Tarball};
use crate::config::Config;
use crate::git::GitRepo;
use crate::metadata::Metadata;
use crate::payload::Authenticated;
use crate::schema::Timestamp;
use crate::schema::{PackageName, Sha256, Version};
use crate::source::Source;
use crate::storage::{Storage, Stores};
use crate::store::RegistryDir;

/// Everything an operation reads from or writes to, passed in one place.
pub struct Context<'a> {
    pub config: &'a Config,
    /// The registry repo (metadata, package sets).
    pub registry: &'a GitRepo,
    /// The index repo.
    pub index: &'a GitRepo,
    /// The primary storage, written first and read first.
    pub storage: &'a dyn Storage,
    /// Other storages a publish also writes to and readers fall back to (`mirrors`).
    pub mirrors: &'a [Box<dyn Storage>],
    pub source: &'a dyn Source,
    /// The time recorded for what the operation does.
    pub now: Timestamp,
}

impl<'a> Context<'a> {
    /// The primary storage and its mirrors.
    pub fn stores(&self) -> Stores<'a> {
        Stores {
            primary: self.storage,
            mirrors: self.mirrors,
        }
    }
}

pub use tuf::{Signers, signers};

/// A registry's checkouts and storage, opened for operations: what the CLI names by its
/// options and the server by its config.
pub struct Opened {
    pub config: Config,
    pub registry: GitRepo,
    pub index: GitRepo,
    pub storage: Box<dyn Storage>,
    pub mirrors: Vec<Box<dyn Storage>>,
    pub source: crate::source::GitSource,
}

/// Why a registry could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("opening the {which} repo")]
    Repo {
        which: &'static str,
        #[source]
        cause: crate::git::GitError,
    },
    #[error(
        "storage `{storage}` is inside the git working tree `{workdir}`: expected a directory outside it (regis resets its working trees to the remote)"
    )]
    StorageInside { storage: PathBuf, workdir: PathBuf },
    #[error("opening a mirror")]
    Mirror(#[source] crate::storage::StorageError),
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
}

impl Opened {
    /// Open the registry checkout `registry`, the index checkout `index`, `storage` and
    /// `mirrors` (see [`open_mirrors`]); a storage directory inside either working tree is
    /// refused, since syncing a working tree removes untracked files.
    pub fn open(
        config: Config,
        registry: &std::path::Path,
        index: &std::path::Path,
        storage: &crate::storage::Location,
        mirrors: &[crate::storage::Location],
    ) -> Result<Opened, OpenError> {
        let registry = GitRepo::open(registry).map_err(|cause| OpenError::Repo {
            which: "registry",
            cause,
        })?;
        let index = GitRepo::open(index).map_err(|cause| OpenError::Repo {
            which: "index",
            cause,
        })?;
        for location in std::iter::once(storage).chain(mirrors) {
            if let crate::storage::Location::Dir(dir) = location {
                for repo in [&registry, &index] {
                    ensure_outside(dir, repo.workdir())?;
                }
            }
        }
        Ok(Opened {
            storage: storage.open()?,
            mirrors: open_mirrors(mirrors)?,
            source: crate::source::GitSource::new(),
            config,
            registry,
            index,
        })
    }

    /// The context of an operation run now.
    pub fn ctx(&self) -> Context<'_> {
        Context {
            config: &self.config,
            registry: &self.registry,
            index: &self.index,
            storage: self.storage.as_ref(),
            mirrors: &self.mirrors,
            source: &self.source,
            now: Timestamp::now(),
        }
    }
}

/// `mirrors`, opened; the n-th (from 1) reads its object store's variables as
/// `REGIS_MIRROR<n>_AWS_…` first, then `AWS_…`.
pub fn open_mirrors(
    mirrors: &[crate::storage::Location],
) -> Result<Vec<Box<dyn Storage>>, OpenError> {
    let mut opened = Vec::new();
    for (i, location) in mirrors.iter().enumerate() {
        let scope = format!("REGIS_MIRROR{}_", i + 1);
        opened.push(location.open_scoped(&scope).map_err(OpenError::Mirror)?);
    }
    Ok(opened)
}

/// Syncing a working tree removes untracked files, so storage must not live in one.
pub fn ensure_outside(
    storage: &std::path::Path,
    workdir: &std::path::Path,
) -> Result<(), OpenError> {
    if resolved_path(storage).starts_with(resolved_path(workdir)) {
        return Err(OpenError::StorageInside {
            storage: storage.to_path_buf(),
            workdir: workdir.to_path_buf(),
        });
    }
    Ok(())
}

/// `path` made absolute with its symlinks resolved as far as it exists, the rest (which
/// may not exist yet) taken lexically, `..` included: where a file there is, or would be
/// once written.
pub fn resolved_path(path: &std::path::Path) -> PathBuf {
    use std::path::Component;
    let Ok(absolute) = std::path::absolute(path) else {
        return path.to_path_buf();
    };
    let parts: Vec<Component<'_>> = absolute.components().collect();
    for exists in (1..=parts.len()).rev() {
        let existing: PathBuf = parts[..exists].iter().collect();
        if let Ok(mut resolved) = existing.canonicalize() {
            for part in &parts[exists..] {
                match part {
                    Component::ParentDir => {
                        resolved.pop();
                    }
                    Component::Normal(name) => resolved.push(name),
                    _ => {}
                }
            }
            return resolved;
        }
    }
    absolute
}

/// What an operation's atom records besides the package, the metadata hash, the time and
/// the chain.
#[derive(Debug, Clone)]
pub struct AtomRecord {
    pub operation: AtomOperation,
    pub version: Option<Version>,
    pub tarball: Option<Tarball>,
    /// A publish's: the SHA-256 of the index line it writes.
    pub index: Option<Sha256>,
    pub payload: Option<Authenticated>,
    /// A publish's: the owner's signature of the release, when it carried one.
    pub release: Option<crate::atom::ReleaseSignature>,
    /// A publish's: the package's owners after it.
    pub owners: Option<Vec<crate::schema::Owner>>,
}

impl AtomRecord {
    /// The record of an operation a signed payload authorised: no tarball, no index line,
    /// no owner signature.
    pub fn signed(
        operation: AtomOperation,
        version: Option<Version>,
        payload: &Authenticated,
    ) -> AtomRecord {
        AtomRecord {
            operation,
            version,
            tarball: None,
            index: None,
            payload: Some(payload.clone()),
            release: None,
            owners: None,
        }
    }
}

/// Writes `m` as `name`'s metadata; when `key` is set and the file's bytes change, also
/// the operation's atom, signed by `key`, to storage and its id as the package's chain head
/// (`atoms/<name>`), to be committed with the metadata so a lost push race re-reads the
/// head. The repo-relative paths written. A re-run that changes nothing writes no atom;
/// one that stored an atom and then lost its commit stores the same atom again. A change
/// authorised by a signed text the chain already records is refused
/// ([`crate::atom::refuse_replay`]).
pub fn write_metadata_recorded(
    ctx: &Context<'_>,
    registry: &RegistryDir,
    signers: &Signers,
    name: &PackageName,
    m: &Metadata,
    record: AtomRecord,
) -> Result<Vec<PathBuf>, AtomError> {
    let before = registry.read_metadata_text(name)?;
    let after = m.to_json();
    if let (Some(_), Some(signed)) = (&signers.atom, &record.payload)
        && before.as_deref() != Some(after.as_str())
    {
        crate::atom::refuse_replay(ctx.storage, registry, name, signed)?;
    }
    let mut written = vec![registry.write_metadata(name, m)?];
    if before.as_deref() == Some(after.as_str()) {
        return Ok(written);
    }
    let Some(key) = &signers.atom else {
        if let Some(tuf) = &signers.tuf {
            let changes = tuf::changes(name, &record, m, None);
            written.extend(tuf::apply(tuf, registry.root(), ctx.now, &changes)?);
        }
        return Ok(written);
    };
    let previous = match registry.read_atom_head(name)? {
        None => None,
        Some(text) => Some(AtomId::parse(&text).ok_or_else(|| AtomError::BadHead {
            name: name.clone(),
            text: crate::text::echo(&text).to_string(),
        })?),
    };
    let atom = crate::atom::Atom {
        operation: record.operation,
        package: name.clone(),
        version: record.version.clone(),
        tarball: record.tarball,
        metadata: Sha256::of(after.as_bytes()),
        index: record.index,
        payload: record.payload.clone(),
        release: record.release.clone(),
        owners: record.owners.clone(),
        time: ctx.now,
        previous,
    };
    let (id, bytes) = crate::atom::sign(atom, key);
    ctx.storage.put(&id.key(name), &bytes)?;
    written.push(registry.write_atom_head(name, &id.to_string())?);
    if let Some(tuf) = &signers.tuf {
        let changes = tuf::changes(name, &record, m, Some((id, &bytes)));
        written.extend(tuf::apply(tuf, registry.root(), ctx.now, &changes)?);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_is_placed_where_it_will_be_even_before_it_exists() {
        let dir = tempfile::tempdir().unwrap();
        let workdir = dir.path().join("registry");
        std::fs::create_dir_all(&workdir).unwrap();
        // Neither exists yet: `..` is taken as it will be once the directory is made.
        ensure_outside(&workdir.join("../storage"), &workdir).unwrap();
        let Err(OpenError::StorageInside { .. }) =
            ensure_outside(&workdir.join("x/../../registry/storage"), &workdir)
        else {
            panic!("a storage directory inside the working tree must be refused");
        };
        // A symlink out of the tree is followed as far as the path exists.
        std::os::unix::fs::symlink(&workdir, dir.path().join("link")).unwrap();
        assert_eq!(
            resolved_path(&dir.path().join("link/new/../data")),
            workdir.canonicalize().unwrap().join("data")
        );
    }
}
