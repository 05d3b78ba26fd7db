//! `regis gc`: remove what storage holds that nothing refers to. A publish never deletes a
//! tarball it stored (another job may record it meanwhile), so a publish that did not land
//! leaves one behind; so does an unpublish stopped before its last step, and an
//! interrupted write leaves a temporary file. A tarball goes only when no metadata and no
//! index line records its version and it is older than the in-flight window — the time a
//! publish may take between storing a tarball and recording it (a publish that finds its
//! tarball already stored makes it young again).

use std::collections::BTreeSet;
use std::time::Duration;

use crate::git::GitError;
use crate::schema::{PackageName, Version};
use crate::storage::{Listed, ListedKind, StorageError, StorageKey};
use crate::store::{IndexDir, RegistryDir, StoreError};

use super::Context;

/// Why gc could not run.
#[derive(Debug, thiserror::Error)]
pub enum GcError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// What gc found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcReport {
    /// Tarballs some metadata or index line records.
    pub referenced: usize,
    /// Unrecorded tarballs removed (or, on a dry run, that would be).
    pub removed: Vec<StorageKey>,
    /// Unrecorded tarballs younger than the window, kept: a publish may be about to record
    /// them. With their age.
    pub in_flight: Vec<(StorageKey, Duration)>,
    /// Temporary files of interrupted writes removed (or that would be).
    pub temporary: Vec<String>,
    /// Files that are neither tarballs nor temporary files, left alone.
    pub unexpected: Vec<String>,
    pub dry_run: bool,
}

/// The in-flight window for `push_retry_seconds`: twice the time a publish may spend
/// landing its metadata, and at least an hour.
pub fn in_flight_window(push_retry_seconds: u64) -> Duration {
    Duration::from_secs(push_retry_seconds.saturating_mul(2).max(3600))
}

/// Sync both repos, then remove (unless `dry_run`) every stored tarball no metadata or
/// index line records and older than the in-flight window, and every temporary file older
/// than the window.
pub fn gc(ctx: &Context<'_>, dry_run: bool) -> Result<GcReport, GcError> {
    let window = in_flight_window(ctx.config.push_retry_seconds);
    // Storage first, the references after: a tarball stored after the listing is not a
    // candidate, and one recorded after it is seen as recorded.
    let listed = ctx.storage.list()?;
    ctx.registry.sync()?;
    ctx.index.sync()?;
    let recorded = recorded(ctx)?;
    let mut report = GcReport {
        dry_run,
        ..GcReport::default()
    };
    for Listed {
        path, kind, age, ..
    } in listed
    {
        match kind {
            ListedKind::Tarball { key, name, version } => {
                if recorded.contains(&(name, version)) {
                    report.referenced += 1;
                } else if age < window {
                    report.in_flight.push((key, age));
                } else {
                    report.removed.push(key);
                }
            }
            // Atoms are history: never collected.
            ListedKind::Atom { .. } | ListedKind::Trust => {}
            ListedKind::Temporary if age >= window => report.temporary.push(path),
            ListedKind::Temporary => {}
            ListedKind::Other => report.unexpected.push(path),
        }
    }
    if dry_run {
        return Ok(report);
    }
    // Looked at again just before deleting: a publish that found one of them stored
    // meanwhile has made it young.
    let young: BTreeSet<String> = ctx
        .storage
        .list()?
        .into_iter()
        .filter(|l| l.age < window)
        .map(|l| l.path)
        .collect();
    let mut removed = Vec::new();
    for key in report.removed {
        if young.contains(key.as_str()) {
            report.in_flight.push((key, Duration::ZERO));
        } else if ctx.storage.delete(&key)? {
            removed.push(key);
        }
    }
    report.removed = removed;
    report.temporary = ctx.storage.sweep_temporary(window)?;
    Ok(report)
}

/// Every version published in some metadata or on some index line.
fn recorded(ctx: &Context<'_>) -> Result<BTreeSet<(PackageName, Version)>, GcError> {
    let mut out = BTreeSet::new();
    for (name, m) in RegistryDir::new(ctx.registry.workdir()).all_metadata()? {
        out.extend(m.published.keys().map(|v| (name.clone(), v.clone())));
    }
    let view = IndexDir::new(ctx.index.workdir()).view()?;
    for (name, file) in view.packages() {
        out.extend(file.versions().map(|v| (name.clone(), v.clone())));
    }
    Ok(out)
}
