//! Each version's verification status, checked when the site is built: the registry's
//! storage read as a TUF client reads it (from the registry's first root version), each
//! published version's target held to metadata's size and hash, and its publish atom found
//! on the package's atom chain, verified from the head the registry records.

use std::collections::BTreeMap;
use std::path::Path;

use crate::atom::{self, AtomId};
use crate::metadata::Metadata;
use crate::operation::client::{Client, Origin, pinned_root};
use crate::schema::{PackageName, Version};
use crate::store::RegistryDir;

/// A version's verification status, as its page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// The registry has no TUF repository: nothing is signed.
    Unsigned,
    /// Listed in signed TUF metadata with metadata's size and hash; `atom`: the publish
    /// atom, verified on the package's chain (`None`: the target names no atom).
    Signed { atom: Option<AtomId> },
    /// What did not verify.
    Failed(String),
    /// Why it was not checked (storage is not a directory here).
    Unchecked(String),
}

/// What the build knows of the registry's trust: nothing to check, why it cannot be, or
/// the verified TUF metadata.
pub enum Trust {
    Unsigned,
    Unchecked(String),
    Failed(String),
    Loaded {
        client: Box<Client>,
        _state: tempfile::TempDir,
    },
}

impl Trust {
    /// Loads the TUF repository of the registry checkout at `registry` from `storage_dir`
    /// (where its copies are served), trusting the checkout's first root version.
    pub fn load(registry: &Path, storage_dir: Option<&Path>) -> Trust {
        if !crate::trust::repository_exists(registry) {
            return Trust::Unsigned;
        }
        let Some(storage) = storage_dir else {
            return Trust::Unchecked(
                "not checked when the site was built: storage is not a directory here".into(),
            );
        };
        let loaded = (|| {
            let (root, _) = pinned_root(None, registry)?;
            let origin = Origin::parse(&storage.display().to_string())?;
            let state = tempfile::tempdir().map_err(|cause| {
                crate::operation::client::ClientError::State {
                    path: std::env::temp_dir().display().to_string(),
                    cause,
                }
            })?;
            let client = Client::load(origin, &root, state.path())?;
            Ok::<_, crate::operation::client::ClientError>((client, state))
        })();
        match loaded {
            Ok((client, state)) => Trust::Loaded {
                client: Box::new(client),
                _state: state,
            },
            Err(e) => Trust::Failed(format!(
                "the TUF repository did not verify: {}",
                crate::error_chain(&e)
            )),
        }
    }

    /// The status of each version `metadata` records as published.
    pub fn statuses(
        &self,
        registry: &RegistryDir,
        name: &PackageName,
        metadata: &Metadata,
    ) -> BTreeMap<Version, Status> {
        let all = |status: Status| {
            metadata
                .published
                .keys()
                .map(|v| (v.clone(), status.clone()))
                .collect()
        };
        let client = match self {
            Trust::Unsigned => return all(Status::Unsigned),
            Trust::Unchecked(why) => return all(Status::Unchecked(why.clone())),
            Trust::Failed(why) => return all(Status::Failed(why.clone())),
            Trust::Loaded { client, .. } => client,
        };
        // The chain, verified once for the package, from the head the registry records.
        let chain = match atom::read_head(registry, name) {
            Ok(Some(head)) => client
                .atom_chain(name, head)
                .map(Some)
                .map_err(|e| crate::error_chain(&e)),
            Ok(None) => Ok(None),
            Err(e) => Err(crate::error_chain(&e)),
        };
        let publishes = match &chain {
            Ok(Some(chain)) => Ok(atom::publishes(chain)
                .into_iter()
                .map(|(v, verified)| {
                    (
                        v.clone(),
                        (verified.id, verified.atom.signed.tarball.map(|t| t.hash)),
                    )
                })
                .collect::<BTreeMap<_, _>>()),
            Ok(None) => Ok(BTreeMap::new()),
            Err(e) => Err(e.clone()),
        };
        metadata
            .published
            .iter()
            .map(|(version, entry)| {
                let path = crate::storage::StorageKey::tarball(name, version);
                let status = match client.target(path.as_str()) {
                    Err(e) => Status::Failed(crate::error_chain(&e)),
                    Ok(target) => {
                        let named = target
                            .custom
                            .get("atom")
                            .and_then(|v| v.as_str())
                            .and_then(AtomId::parse);
                        if entry.hash.digest().as_slice() != target.hashes.sha256.as_ref()
                            || entry.bytes != target.length
                        {
                            Status::Failed(format!(
                                "its signed target records another tarball ({} bytes) than metadata ({} bytes, `{}`)",
                                target.length, entry.bytes, entry.hash
                            ))
                        } else {
                            match (named, &publishes) {
                                (None, _) => Status::Signed { atom: None },
                                (Some(_), Err(e)) => Status::Failed(format!(
                                    "its atom chain did not verify: {e}"
                                )),
                                (Some(id), Ok(publishes)) => match publishes.get(version) {
                                    Some((on_chain, hash))
                                        if *on_chain == id && hash.as_ref() == Some(&entry.hash) =>
                                    {
                                        Status::Signed { atom: Some(id) }
                                    }
                                    _ => Status::Failed(format!(
                                        "its target names the atom `{id}`, which is not its publish on the package's verified chain"
                                    )),
                                },
                            }
                        }
                    }
                };
                (version.clone(), status)
            })
            .collect()
    }
}
