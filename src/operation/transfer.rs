//! Transfer: move a package to a new location. Signed by an owner or a trustee; the new
//! location must not hold another package. Only the package's metadata changes.

use std::path::PathBuf;

use crate::git::CommitOutcome;
use crate::metadata::{Metadata, MetadataError, check_location_free};
use crate::payload::{Authenticated, AuthenticatedData, PayloadError, Transfer};
use crate::schema::{Location, PackageName};
use crate::store::{RegistryDir, StoreError};

use super::Context;
use super::authorize::{AuthorizeError, Signer, authorize};

/// Why a transfer was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    #[error(transparent)]
    Payload(#[from] PayloadError),
    #[error("the signed payload is {found}: expected a Transfer `{{name, newLocation}}`")]
    NotATransfer { found: &'static str },
    #[error("package `{name}` is not in the registry: there is nothing to transfer")]
    Unknown { name: PackageName },
    #[error(transparent)]
    Authorize(#[from] AuthorizeError),
    #[error(transparent)]
    Location(#[from] MetadataError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Atom(#[from] crate::atom::AtomError),
    #[error(transparent)]
    Git(#[from] crate::git::GitError),
}

/// What a transfer did.
#[derive(Debug, Clone)]
pub struct TransferReport {
    pub name: PackageName,
    pub from: Location,
    pub to: Location,
    pub signer: Signer,
    /// `Unchanged` when the package already lived at the new location (a re-run).
    pub metadata: CommitOutcome,
}

/// The Transfer a signed payload carries: what is done is always read from the very text
/// the signature covers.
pub fn request(signed: &Authenticated) -> Result<Transfer, TransferError> {
    match signed.data()? {
        AuthenticatedData::Transfer(t) => Ok(t),
        other => Err(TransferError::NotATransfer {
            found: other.describe(),
        }),
    }
}

/// Check a transfer against the registry as it is (pure): who signed, and that the new
/// location is free (`holder`: the package the registry's location lookup finds there).
/// Returns the signer and the location the package moves from.
pub fn validate(
    config: &crate::config::Config,
    signed: &Authenticated,
    request: &Transfer,
    metadata: Option<&Metadata>,
    holder: Option<PackageName>,
) -> Result<(Signer, Location), TransferError> {
    let name = &request.name;
    let metadata = metadata.ok_or_else(|| TransferError::Unknown { name: name.clone() })?;
    let signer = authorize("transfer", name, signed, metadata, config)?;
    check_location_free(holder, name, &request.new_location)?;
    Ok((signer, metadata.location.clone()))
}

/// Run a signed Transfer end to end: sync, check, commit the new location, push.
pub fn transfer(
    ctx: &Context<'_>,
    signed: &Authenticated,
) -> Result<TransferReport, TransferError> {
    let request = &request(signed)?;
    ctx.registry.sync()?;
    let registry = RegistryDir::new(ctx.registry.workdir());
    let name = &request.name;
    let message = format!("Transfer {name} to {}", request.new_location);
    let signers = super::signers(ctx)?;
    let mut checked = None;
    let metadata = ctx.registry.commit_change(
        &message,
        ctx.config.push_retry(),
        |_| -> Result<Vec<PathBuf>, TransferError> {
            // Checked on every attempt: after a rejected push this is another job's new
            // head (the owners or another package's location may have changed).
            // The package's own file and the lookup's entry for the new place: no other
            // metadata is read.
            let current = registry.read_metadata(name)?;
            let holder = registry.location_holder(&request.new_location)?;
            let (signer, from) = validate(ctx.config, signed, request, current.as_ref(), holder)?;
            let mut m = current.expect("validate refuses an unknown package");
            m.location = request.new_location.clone();
            checked = Some((signer, from.clone()));
            // The location lookup follows, in the same commit (a registry without one
            // gains it).
            let mut written = Vec::new();
            if !registry.has_location_lookup() {
                written.extend(registry.write_all_locations()?);
            }
            written.push(registry.remove_location(&from)?);
            written.push(registry.write_location(&request.new_location, name)?);
            written.extend(super::write_metadata_recorded(
                ctx,
                &registry,
                &signers,
                name,
                &m,
                super::AtomRecord::signed(crate::atom::AtomOperation::Transfer, None, signed),
            )?);
            Ok(written)
        },
    )?;
    super::tuf::publish(ctx, signers.tuf.as_ref())?;
    let (signer, from) = checked.expect("commit_change runs the change at least once");
    Ok(TransferReport {
        name: name.clone(),
        from,
        to: request.new_location.clone(),
        signer,
        metadata,
    })
}
