//! Yank and unyank: flag one published version so that the solver no longer picks it
//! (unless a build plan pins it) and no package set takes it in, or take the flag back.
//! Signed by an owner or a trustee, at any time (a yank takes nothing away: the version
//! stays published, downloadable and in the sets that hold it). Only the package's
//! metadata changes (`yanked`); a re-run changes nothing.

use std::path::PathBuf;

use crate::atom::AtomOperation;
use crate::config::Config;
use crate::git::CommitOutcome;
use crate::metadata::{FlagChange, Metadata, YankRefused};
use crate::payload::{Authenticated, AuthenticatedData, PayloadError};
use crate::schema::{PackageName, Version};
use crate::store::{RegistryDir, StoreError};

use super::Context;
use super::authorize::{AuthorizeError, Signer, authorize};

/// Why a yank or an unyank was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum YankError {
    #[error(transparent)]
    Payload(#[from] PayloadError),
    #[error(
        "the signed payload is {found}: expected a Yank `{{name, yank, reason}}` or an Unyank `{{name, unyank}}`"
    )]
    NotAYank { found: &'static str },
    #[error("package `{name}` is not in the registry: there is nothing to {verb}")]
    Unknown {
        name: PackageName,
        verb: &'static str,
    },
    #[error(transparent)]
    Authorize(#[from] AuthorizeError),
    #[error(transparent)]
    NotPublished(#[from] YankRefused),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Atom(#[from] crate::atom::AtomError),
    #[error(transparent)]
    Git(#[from] crate::git::GitError),
}

/// What a signed Yank or Unyank asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YankRequest {
    pub name: PackageName,
    pub version: Version,
    /// The reason of a yank; `None` for an unyank.
    pub reason: Option<String>,
}

impl YankRequest {
    /// `yank` or `unyank`.
    pub fn verb(&self) -> &'static str {
        match self.reason {
            Some(_) => "yank",
            None => "unyank",
        }
    }
}

/// What a yank or an unyank did.
#[derive(Debug, Clone)]
pub struct YankReport {
    pub name: PackageName,
    pub version: Version,
    /// Whether the version is yanked now (false after an unyank).
    pub yanked: bool,
    /// The reason metadata records: the first yank's, when a re-run found it yanked.
    pub reason: Option<String>,
    pub signer: Signer,
    /// `Unchanged` when metadata already said so (a re-run).
    pub metadata: CommitOutcome,
}

/// The Yank or Unyank a signed payload carries: what is done is always read from the very
/// text the signature covers.
pub fn request(signed: &Authenticated) -> Result<YankRequest, YankError> {
    match signed.data()? {
        AuthenticatedData::Yank(y) => Ok(YankRequest {
            name: y.name,
            version: y.yank,
            reason: Some(y.reason),
        }),
        AuthenticatedData::Unyank(u) => Ok(YankRequest {
            name: u.name,
            version: u.unyank,
            reason: None,
        }),
        other => Err(YankError::NotAYank {
            found: other.describe(),
        }),
    }
}

/// Check a yank or an unyank against the package's metadata (pure): who signed (an owner
/// or a trustee, with no time limit), and that the version is published.
pub fn validate(
    config: &Config,
    signed: &Authenticated,
    request: &YankRequest,
    metadata: Option<&Metadata>,
) -> Result<Signer, YankError> {
    let name = &request.name;
    let metadata = metadata.ok_or_else(|| YankError::Unknown {
        name: name.clone(),
        verb: request.verb(),
    })?;
    let signer = authorize(request.verb(), name, signed, metadata, config)?;
    metadata.check_yankable(name, &request.version)?;
    Ok(signer)
}

/// Run a signed Yank or Unyank end to end: sync, check, commit the metadata, push.
pub fn yank(ctx: &Context<'_>, signed: &Authenticated) -> Result<YankReport, YankError> {
    let request = &request(signed)?;
    ctx.registry.sync()?;
    let registry = RegistryDir::new(ctx.registry.workdir());
    let (name, version) = (&request.name, &request.version);
    let message = match request.reason {
        Some(_) => format!("Yank {name}@{version}"),
        None => format!("Unyank {name}@{version}"),
    };
    let signers = super::signers(ctx)?;
    let mut checked = None;
    let metadata = ctx.registry.commit_change(
        &message,
        ctx.config.push_retry(),
        |_| -> Result<Vec<PathBuf>, YankError> {
            // Checked on every attempt: after a rejected push this is another job's head
            // (the owners may have changed, the version been unpublished).
            let current = registry.read_metadata(name)?;
            let signer = validate(ctx.config, signed, request, current.as_ref())?;
            let mut m = current.expect("validate refuses an unknown package");
            let change = match &request.reason {
                Some(reason) => m.yank(name, version, reason, ctx.now)?,
                None => m.unyank(name, version)?,
            };
            let reason = m.yanked.get(version).map(|y| y.reason.clone());
            checked = Some((signer, reason));
            match change {
                FlagChange::Changed => Ok(super::write_metadata_recorded(
                    ctx,
                    &registry,
                    &signers,
                    name,
                    &m,
                    super::AtomRecord::signed(
                        match request.reason {
                            Some(_) => AtomOperation::Yank,
                            None => AtomOperation::Unyank,
                        },
                        Some(version.clone()),
                        signed,
                    ),
                )?),
                FlagChange::Unchanged => Ok(vec![]),
            }
        },
    )?;
    super::tuf::publish(ctx, signers.tuf.as_ref())?;
    let (signer, reason) = checked.expect("commit_change runs the change at least once");
    Ok(YankReport {
        name: name.clone(),
        version: version.clone(),
        yanked: reason.is_some(),
        reason,
        signer,
        metadata,
    })
}
