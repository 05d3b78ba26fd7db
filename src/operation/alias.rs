//! Alias and unalias: point a tag of a package (`latest`, `next`, any name, as npm's
//! dist-tags) at one of its published versions, or remove the tag, so that `NAME@TAG`
//! names that version ([`crate::metadata::Metadata::resolve`]). Signed by an owner or a
//! trustee, at any time. Only the package's metadata changes (`aliases`); a re-run changes
//! nothing.

use std::path::PathBuf;

use crate::atom::AtomOperation;
use crate::config::Config;
use crate::git::CommitOutcome;
use crate::metadata::{AliasRefused, FlagChange, Metadata};
use crate::payload::{Authenticated, AuthenticatedData, PayloadError};
use crate::schema::{PackageName, Tag, Version};
use crate::store::{RegistryDir, StoreError};

use super::Context;
use super::authorize::{AuthorizeError, Signer, authorize};

/// Why an alias or an unalias was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum AliasError {
    #[error(transparent)]
    Payload(#[from] PayloadError),
    #[error(
        "the signed payload is {found}: expected an Alias `{{name, alias, version}}` or an Unalias `{{name, unalias}}`"
    )]
    NotAnAlias { found: &'static str },
    #[error("package `{name}` is not in the registry: there is nothing to {verb}")]
    Unknown {
        name: PackageName,
        verb: &'static str,
    },
    #[error(transparent)]
    Authorize(#[from] AuthorizeError),
    #[error(transparent)]
    Refused(#[from] AliasRefused),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Atom(#[from] crate::atom::AtomError),
    #[error(transparent)]
    Git(#[from] crate::git::GitError),
}

/// What a signed Alias or Unalias asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasRequest {
    pub name: PackageName,
    pub tag: Tag,
    /// The version an Alias points the tag at; `None` for an Unalias.
    pub version: Option<Version>,
}

impl AliasRequest {
    /// `alias` or `unalias`.
    pub fn verb(&self) -> &'static str {
        match self.version {
            Some(_) => "alias",
            None => "unalias",
        }
    }
}

/// What an alias or an unalias did.
#[derive(Debug, Clone)]
pub struct AliasReport {
    pub name: PackageName,
    pub tag: Tag,
    /// The version the tag names now (`None` after an unalias).
    pub version: Option<Version>,
    /// The version the tag named before (`None` when it was not set).
    pub previous: Option<Version>,
    pub signer: Signer,
    /// `Unchanged` when metadata already said so (a re-run).
    pub metadata: CommitOutcome,
}

/// The Alias or Unalias a signed payload carries: what is done is always read from the
/// very text the signature covers.
pub fn request(signed: &Authenticated) -> Result<AliasRequest, AliasError> {
    match signed.data()? {
        AuthenticatedData::Alias(a) => Ok(AliasRequest {
            name: a.name,
            tag: a.alias,
            version: Some(a.version),
        }),
        AuthenticatedData::Unalias(u) => Ok(AliasRequest {
            name: u.name,
            tag: u.unalias,
            version: None,
        }),
        other => Err(AliasError::NotAnAlias {
            found: other.describe(),
        }),
    }
}

/// Check an alias or an unalias against the package's metadata (pure): who signed (an
/// owner or a trustee, with no time limit), and for an alias that the version is published
/// and not yanked.
pub fn validate(
    config: &Config,
    signed: &Authenticated,
    request: &AliasRequest,
    metadata: Option<&Metadata>,
) -> Result<Signer, AliasError> {
    let name = &request.name;
    let metadata = metadata.ok_or_else(|| AliasError::Unknown {
        name: name.clone(),
        verb: request.verb(),
    })?;
    let signer = authorize(request.verb(), name, signed, metadata, config)?;
    if let Some(version) = &request.version {
        metadata.check_aliasable(name, version)?;
    }
    Ok(signer)
}

/// Run a signed Alias or Unalias end to end: sync, check, commit the metadata, push.
pub fn alias(ctx: &Context<'_>, signed: &Authenticated) -> Result<AliasReport, AliasError> {
    let request = &request(signed)?;
    ctx.registry.sync()?;
    let registry = RegistryDir::new(ctx.registry.workdir());
    let (name, tag) = (&request.name, &request.tag);
    let message = match &request.version {
        Some(version) => format!("Alias {name}@{tag} to {version}"),
        None => format!("Unalias {name}@{tag}"),
    };
    let signers = super::signers(ctx)?;
    let mut checked = None;
    let metadata = ctx.registry.commit_change(
        &message,
        ctx.config.push_retry(),
        |_| -> Result<Vec<PathBuf>, AliasError> {
            // Checked on every attempt: after a rejected push this is another job's head
            // (the owners may have changed, the version been yanked or unpublished).
            let current = registry.read_metadata(name)?;
            let signer = validate(ctx.config, signed, request, current.as_ref())?;
            let mut m = current.expect("validate refuses an unknown package");
            let previous = m.aliases.get(tag).cloned();
            let change = match &request.version {
                Some(version) => m.set_alias(name, tag, version)?,
                None => m.remove_alias(tag),
            };
            checked = Some((signer, previous));
            match change {
                FlagChange::Changed => Ok(super::write_metadata_recorded(
                    ctx,
                    &registry,
                    &signers,
                    name,
                    &m,
                    super::AtomRecord::signed(
                        match request.version {
                            Some(_) => AtomOperation::Alias,
                            None => AtomOperation::Unalias,
                        },
                        request.version.clone(),
                        signed,
                    ),
                )?),
                FlagChange::Unchanged => Ok(vec![]),
            }
        },
    )?;
    super::tuf::publish(ctx, signers.tuf.as_ref())?;
    let (signer, previous) = checked.expect("commit_change runs the change at least once");
    Ok(AliasReport {
        name: name.clone(),
        tag: tag.clone(),
        version: request.version.clone(),
        previous,
        signer,
        metadata,
    })
}
