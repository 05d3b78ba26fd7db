//! `regis history`: a package's atoms, read from storage from the head the registry repo
//! records (`atoms/<name>`) back to the first, each checked (stored under its hash, signed
//! by atom keys of the root chain that are not revoked, or by the configured atom key when
//! the registry has no root of trust, linked to the one before), and the head checked
//! against the metadata file.

use std::path::Path;

use crate::atom::{AtomError, AtomId, AtomTrust, Verified, verify_chain};
use crate::config::Config;
use crate::schema::PackageName;
use crate::storage::Storage;
use crate::store::RegistryDir;

/// A package's verified chain, newest first.
#[derive(Debug, Clone)]
pub struct History {
    pub name: PackageName,
    pub head: AtomId,
    /// Whose keys the atoms were checked against.
    pub trusted: String,
    pub atoms: Vec<Verified>,
}

/// The atom chain of `name` in the registry checkout at `registry`, checked.
pub fn history(
    registry: &Path,
    config: &Config,
    storage: &dyn Storage,
    name: &PackageName,
) -> Result<History, AtomError> {
    let dir = RegistryDir::new(registry);
    let text = dir
        .read_atom_head(name)?
        .ok_or_else(|| AtomError::NoAtoms { name: name.clone() })?;
    let head = AtomId::parse(&text).ok_or_else(|| AtomError::BadHead {
        name: name.clone(),
        text: crate::text::echo(&text).to_string(),
    })?;
    let trust = AtomTrust::of_registry(registry, config.trust_atom_key.as_ref())?;
    let metadata = dir.read_metadata_text(name)?;
    let atoms = verify_chain(
        storage,
        name,
        head,
        &trust,
        metadata.as_deref().map(str::as_bytes),
    )?;
    Ok(History {
        name: name.clone(),
        head,
        trusted: trust.source().to_owned(),
        atoms,
    })
}
