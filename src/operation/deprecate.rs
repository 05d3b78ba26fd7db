//! Deprecate: mark a whole package as deprecated, with a message and optionally the
//! package to use instead, or clear that (an empty message). Signed by an owner or a
//! trustee, at any time. Every version stays published and usable; only the package's
//! metadata changes (`deprecated`); a re-run changes nothing.

use std::path::PathBuf;

use crate::config::Config;
use crate::git::CommitOutcome;
use crate::metadata::{Deprecated, FlagChange, Metadata};
use crate::payload::{Authenticated, AuthenticatedData, Deprecate, PayloadError};
use crate::schema::PackageName;
use crate::store::{RegistryDir, StoreError};

use super::Context;
use super::authorize::{AuthorizeError, Signer, authorize};

/// Why a deprecation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum DeprecateError {
    #[error(
        "the signed payload is {found}: expected a Deprecate `{{name, message, alternative?}}`"
    )]
    NotADeprecate { found: &'static str },
    #[error(transparent)]
    Payload(#[from] PayloadError),
    #[error("package `{name}` is not in the registry: there is nothing to deprecate")]
    Unknown { name: PackageName },
    #[error(
        "the alternative `{alternative}` to `{name}` is not in the registry: expected a registered package to point its users to"
    )]
    UnknownAlternative {
        name: PackageName,
        alternative: PackageName,
    },
    #[error(transparent)]
    Authorize(#[from] AuthorizeError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Atom(#[from] crate::atom::AtomError),
    #[error(transparent)]
    Git(#[from] crate::git::GitError),
}

/// What a deprecation did.
#[derive(Debug, Clone)]
pub struct DeprecateReport {
    pub name: PackageName,
    /// The deprecation metadata records now (`None` after clearing): a re-run's is the
    /// first run's, time included.
    pub deprecated: Option<Deprecated>,
    pub signer: Signer,
    /// `Unchanged` when metadata already said so (a re-run).
    pub metadata: CommitOutcome,
}

/// The Deprecate a signed payload carries: what is done is always read from the very text
/// the signature covers.
pub fn request(signed: &Authenticated) -> Result<Deprecate, DeprecateError> {
    match signed.data()? {
        AuthenticatedData::Deprecate(d) => Ok(d),
        other => Err(DeprecateError::NotADeprecate {
            found: other.describe(),
        }),
    }
}

/// Check a deprecation against the registry as it is (pure): who signed (an owner or a
/// trustee), and that the alternative, if any, is a registered package
/// (`alternative_known`).
pub fn validate(
    config: &Config,
    signed: &Authenticated,
    request: &Deprecate,
    metadata: Option<&Metadata>,
    alternative_known: bool,
) -> Result<Signer, DeprecateError> {
    let name = &request.name;
    let metadata = metadata.ok_or_else(|| DeprecateError::Unknown { name: name.clone() })?;
    let signer = authorize("deprecation", name, signed, metadata, config)?;
    if let Some(alternative) = &request.alternative
        && !alternative_known
    {
        return Err(DeprecateError::UnknownAlternative {
            name: name.clone(),
            alternative: alternative.clone(),
        });
    }
    Ok(signer)
}

/// Run a signed Deprecate end to end: sync, check, commit the metadata, push.
pub fn deprecate(
    ctx: &Context<'_>,
    signed: &Authenticated,
) -> Result<DeprecateReport, DeprecateError> {
    let request = &request(signed)?;
    ctx.registry.sync()?;
    let registry = RegistryDir::new(ctx.registry.workdir());
    let name = &request.name;
    let message = if request.clears() {
        format!("Undeprecate {name}")
    } else {
        format!("Deprecate {name}")
    };
    let signers = super::signers(ctx)?;
    let mut checked = None;
    let metadata = ctx.registry.commit_change(
        &message,
        ctx.config.push_retry(),
        |_| -> Result<Vec<PathBuf>, DeprecateError> {
            // Checked on every attempt: after a rejected push this is another job's head.
            let current = registry.read_metadata(name)?;
            let alternative_known = match &request.alternative {
                Some(alternative) => registry.read_metadata(alternative)?.is_some(),
                None => true,
            };
            let signer = validate(
                ctx.config,
                signed,
                request,
                current.as_ref(),
                alternative_known,
            )?;
            let mut m = current.expect("validate refuses an unknown package");
            let change = m.deprecate(&request.message, request.alternative.as_ref(), ctx.now);
            checked = Some((signer, m.deprecated.clone()));
            match change {
                FlagChange::Changed => Ok(super::write_metadata_recorded(
                    ctx,
                    &registry,
                    &signers,
                    name,
                    &m,
                    super::AtomRecord::signed(crate::atom::AtomOperation::Deprecate, None, signed),
                )?),
                FlagChange::Unchanged => Ok(vec![]),
            }
        },
    )?;
    super::tuf::publish(ctx, signers.tuf.as_ref())?;
    let (signer, deprecated) = checked.expect("commit_change runs the change at least once");
    Ok(DeprecateReport {
        name: name.clone(),
        deprecated,
        signer,
        metadata,
    })
}
