//! Unpublish: take one version down. Owners may do it within the configured window after
//! publishing, trustees at any time. Refused while an indexed version depends on it with no
//! other version in range, or while the latest package set holds it. Writes index (the line
//! goes) → metadata (the version moves to `unpublished`, never reusable) → storage (the
//! tarball goes); a re-run after a crash at any point finishes the job.

use std::path::PathBuf;

use crate::config::Config;
use crate::git::CommitOutcome;
use crate::index::IndexView;
use crate::metadata::{Metadata, UnpublishChange, UnpublishRefused};
use crate::package_set::PackageSet;
use crate::payload::{Authenticated, AuthenticatedData, PayloadError, Unpublish};
use crate::schema::{PackageName, Timestamp, Version};
use crate::storage::{MirrorWrite, StorageKey};
use crate::store::{IndexDir, RegistryDir, StoreError};

use super::Context;
use super::authorize::{AuthorizeError, Signer, authorize};

/// Why an unpublish was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum UnpublishError {
    #[error(transparent)]
    Payload(#[from] PayloadError),
    #[error("the signed payload is {found}: expected an Unpublish `{{name, version, reason}}`")]
    NotAnUnpublish { found: &'static str },
    #[error("package `{name}` is not in the registry: there is nothing to unpublish")]
    Unknown { name: PackageName },
    #[error(transparent)]
    Authorize(#[from] AuthorizeError),
    #[error(transparent)]
    NotPublished(#[from] UnpublishRefused),
    #[error(
        "`{name}@{version}` was published at {published} ({hours} hours ago): owners may unpublish a version only within {window} hours of publishing it; ask a trustee to do it"
    )]
    WindowClosed {
        name: PackageName,
        version: Version,
        published: Timestamp,
        hours: i64,
        window: u64,
    },
    #[error(
        "`{name}@{version}` cannot be unpublished: {dependants} would be left with no version of `{name}` in range; they must be unpublished first, or another version of `{name}` in their range published"
    )]
    Dependants {
        name: PackageName,
        version: Version,
        dependants: String,
    },
    #[error(
        "`{name}@{version}` is in the latest package set `{set}`: a trustee must remove or update it there (a package set update) before it can be unpublished"
    )]
    InPackageSet {
        name: PackageName,
        version: Version,
        set: Version,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Atom(#[from] crate::atom::AtomError),
    #[error(
        "`{name}@{version}` is not fully unpublished: {landed}, but {missing} did not land; run the same payload again to finish it"
    )]
    Unfinished {
        name: PackageName,
        version: Version,
        landed: &'static str,
        missing: &'static str,
        #[source]
        cause: Box<UnpublishError>,
    },
    #[error(transparent)]
    Git(#[from] crate::git::GitError),
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
}

/// What an unpublish did.
#[derive(Debug, Clone)]
pub struct UnpublishReport {
    pub name: PackageName,
    pub version: Version,
    pub reason: String,
    pub signer: Signer,
    pub index: CommitOutcome,
    pub metadata: CommitOutcome,
    /// Whether a tarball was deleted (false when an earlier run already had).
    pub tarball_deleted: bool,
    pub storage_key: StorageKey,
    /// What each mirror did with the tarball, after the primary deleted it; a failure does
    /// not fail the unpublish (`regis storage sync` deletes it later).
    pub mirrors: Vec<MirrorWrite>,
}

/// What the registry holds, as far as an unpublish needs to know.
pub struct Registry<'a> {
    pub metadata: &'a Metadata,
    pub index: &'a IndexView,
    pub latest_set: Option<&'a PackageSet>,
}

/// Check an unpublish against the registry as it is (pure): who signed, whether the window
/// allows it, and that nothing is stranded. A version already unpublished (a re-run after
/// a crash) needs only the signature.
pub fn validate(
    config: &Config,
    signed: &Authenticated,
    request: &Unpublish,
    registry: &Registry<'_>,
    now: Timestamp,
) -> Result<Signer, UnpublishError> {
    let (name, version) = (&request.name, &request.version);
    let signer = authorize("unpublish", name, signed, registry.metadata, config)?;
    if registry.metadata.unpublished.contains_key(version) {
        return Ok(signer);
    }
    let entry =
        registry
            .metadata
            .published
            .get(version)
            .ok_or_else(|| UnpublishRefused::NotPublished {
                name: name.clone(),
                version: version.clone(),
                published: registry.metadata.published_list(),
            })?;
    if !signer.role.is_trusted() {
        let age = now.as_datetime() - entry.published_time.as_datetime();
        let window = config.unpublish_window_hours;
        if age > chrono::Duration::hours(i64::try_from(window).unwrap_or(i64::MAX)) {
            return Err(UnpublishError::WindowClosed {
                name: name.clone(),
                version: version.clone(),
                published: entry.published_time,
                hours: age.num_hours(),
                window,
            });
        }
    }
    if let Some(set) = registry.latest_set
        && set.packages.get(name) == Some(version)
    {
        return Err(UnpublishError::InPackageSet {
            name: name.clone(),
            version: version.clone(),
            set: set.version.clone(),
        });
    }
    let stranded = registry.index.stranded_without(name, version);
    if !stranded.is_empty() {
        return Err(UnpublishError::Dependants {
            name: name.clone(),
            version: version.clone(),
            dependants: crate::text::list(
                stranded
                    .iter()
                    .map(|(n, v, range)| format!("`{n}@{v}` (needs `{range}`)")),
            ),
        });
    }
    Ok(signer)
}

/// The Unpublish a signed payload carries: what is done is always read from the very text
/// the signature covers.
pub fn request(signed: &Authenticated) -> Result<Unpublish, UnpublishError> {
    match signed.data()? {
        AuthenticatedData::Unpublish(u) => Ok(u),
        other => Err(UnpublishError::NotAnUnpublish {
            found: other.describe(),
        }),
    }
}

/// Run a signed Unpublish end to end.
pub fn unpublish(
    ctx: &Context<'_>,
    signed: &Authenticated,
) -> Result<UnpublishReport, UnpublishError> {
    let request = &request(signed)?;
    ctx.index.sync()?;
    let registry = RegistryDir::new(ctx.registry.workdir());
    let index = IndexDir::new(ctx.index.workdir());
    apply(ctx, &registry, &index, signed, request)
}

/// [`validate`] against what the working trees hold now.
fn check_current(
    ctx: &Context<'_>,
    registry: &RegistryDir,
    index: &IndexDir,
    signed: &Authenticated,
    request: &Unpublish,
) -> Result<Signer, UnpublishError> {
    let name = &request.name;
    let metadata = registry
        .read_metadata(name)?
        .ok_or_else(|| UnpublishError::Unknown { name: name.clone() })?;
    let view = index.view_mentioning(name)?;
    let latest_set = registry.latest_package_set()?;
    let current = Registry {
        metadata: &metadata,
        index: &view,
        latest_set: latest_set.as_ref(),
    };
    validate(ctx.config, signed, request, &current, ctx.now)
}

/// Index → metadata → storage, each step idempotent and re-applied on a moved head. The
/// checks run before the first write, on every attempt at it.
fn apply(
    ctx: &Context<'_>,
    registry: &RegistryDir,
    index: &IndexDir,
    signed: &Authenticated,
    request: &Unpublish,
) -> Result<UnpublishReport, UnpublishError> {
    let (name, version) = (&request.name, &request.version);
    let retry = ctx.config.push_retry();
    let message = format!("Unpublish {name}@{version}");
    let unfinished = |landed, missing| {
        move |cause: UnpublishError| match cause {
            UnpublishError::Git(_)
            | UnpublishError::Store(_)
            | UnpublishError::Storage(_)
            | UnpublishError::Atom(_) => UnpublishError::Unfinished {
                name: name.clone(),
                version: version.clone(),
                landed,
                missing,
                cause: Box::new(cause),
            },
            refusal => refusal,
        }
    };

    // Read before anything is written: a key that cannot be read refuses the unpublish whole.
    let signers = super::signers(ctx)?;
    let mut signer = None;
    let index_outcome = ctx.index.commit_change(
        &message,
        retry,
        |_| -> Result<Vec<PathBuf>, UnpublishError> {
            // After a rejected push the index is another job's new head, and a dependant
            // may have been published meanwhile: check against both repos as they are now.
            ctx.registry.sync()?;
            signer = Some(check_current(ctx, registry, index, signed, request)?);
            let Some(mut file) = index.read(name)? else {
                return Ok(vec![]);
            };
            if file.remove(version).is_none() {
                return Ok(vec![]);
            }
            Ok(vec![index.write(name, &file)?])
        },
    )?;
    crate::fault::point("unpublish:index");

    let metadata = ctx.registry.commit_change(
        &message,
        retry.landing(),
        |_| -> Result<Vec<PathBuf>, UnpublishError> {
            let mut m = registry
                .read_metadata(name)?
                .ok_or_else(|| UnpublishError::Unknown { name: name.clone() })?;
            let tarball = (m.published.get(version)).map(|p| crate::atom::Tarball {
                hash: p.hash,
                bytes: p.bytes,
            });
            match m.unpublish(name, version, &request.reason, ctx.now)? {
                UnpublishChange::Moved => Ok(super::write_metadata_recorded(
                    ctx,
                    registry,
                    &signers,
                    name,
                    &m,
                    super::AtomRecord {
                        tarball,
                        ..super::AtomRecord::signed(
                            crate::atom::AtomOperation::Unpublish,
                            Some(version.clone()),
                            signed,
                        )
                    },
                )?),
                UnpublishChange::AlreadyUnpublished => Ok(vec![]),
            }
        },
    );
    let metadata = metadata.map_err(unfinished(
        "the index line is removed",
        "the metadata's record of the unpublish",
    ))?;
    super::tuf::publish(ctx, signers.tuf.as_ref()).map_err(|e| {
        unfinished(
            "the index line is removed and the metadata records the unpublish",
            "the TUF repository's copy in storage",
        )(e.into())
    })?;
    crate::fault::point("unpublish:metadata");

    let signer = signer.expect("commit_change runs the change at least once");
    let storage_key = StorageKey::tarball(name, version);
    let tarball_deleted = ctx.storage.delete(&storage_key).map_err(|e| {
        unfinished(
            "the index line is removed and the metadata records the unpublish",
            "deleting the tarball",
        )(e.into())
    })?;
    crate::fault::point("unpublish:tarball");
    let mirrors = ctx.stores().delete_mirrors(&storage_key);
    Ok(UnpublishReport {
        name: name.clone(),
        version: version.clone(),
        reason: request.reason.clone(),
        signer,
        index: index_outcome,
        metadata,
        tarball_deleted,
        storage_key,
        mirrors,
    })
}
