//! PackageSetUpdate and the daily updater: classify the requested changes against the
//! latest set, check candidate sets (dependency names, and the compilers recorded in
//! metadata or the build-check hook over the whole set), try the batch then one change at a
//! time, and commit `package-sets/<version>.json` with a message listing what changed.
//! The planning is pure (`crate::package_set`); this module reads, runs hooks and writes.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::time::Duration;

use std::path::Path;

use crate::config::Config;
use crate::git::CommitOutcome;
use crate::hooks::{HookEnv, HookError, HookKind, Workspace};
use crate::metadata::Metadata;
use crate::package_set::{
    self, Authority, Catalog, Change, Outcome, PackageSet, PackageSetUpdateError,
};
use crate::payload::PackageSetUpdate;
use crate::schema::{Date, PackageName, Version};
use crate::storage::Stores;
use crate::store::{IndexDir, RegistryDir, StoreError};

use super::Context;

/// Why a package-set update could not run.
#[derive(Debug, thiserror::Error)]
pub enum PackageSetOpError {
    #[error(transparent)]
    Update(#[from] PackageSetUpdateError),
    #[error(
        "package set `{found}` was published while this update ran (it started from {expected}): run the update again"
    )]
    Raced { expected: String, found: Version },
    #[error("`{name}@{version}` is in the candidate set but its metadata has no such version")]
    NoMetadata { name: PackageName, version: Version },
    #[error(transparent)]
    Hook(#[from] HookError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Git(#[from] crate::git::GitError),
    #[error(transparent)]
    Atom(#[from] crate::atom::AtomError),
}

/// What an update reads and runs with, apart from the two repos.
pub struct Inputs<'a> {
    pub config: &'a Config,
    /// The registry working tree (metadata/, package-sets/).
    pub registry: &'a Path,
    /// The index working tree.
    pub index: &'a Path,
    /// Where members' tarballs are read from for the build check (a mirror when the
    /// primary lacks one).
    pub stores: Stores<'a>,
    /// The `published` date of a new set.
    pub today: Date,
}

impl<'a> Inputs<'a> {
    /// The inputs of an operation context (its repos' working trees).
    pub fn of(ctx: &'a Context<'a>) -> Inputs<'a> {
        Inputs {
            config: ctx.config,
            registry: ctx.registry.workdir(),
            index: ctx.index.workdir(),
            stores: ctx.stores(),
            today: ctx.now.date(),
        }
    }
}

/// Told about each attempt of a long batch (the CLI draws a progress bar or logs a line).
pub trait Progress {
    /// Attempt `index` of `total` (0 is the whole batch, then one change at a time).
    fn attempt(&self, description: &str, index: usize, total: usize);
}

/// No progress output.
pub struct Silent;

impl Progress for Silent {
    fn attempt(&self, _: &str, _: usize, _: usize) {}
}

/// What an update did.
#[derive(Debug, Clone)]
pub struct UpdateReport {
    /// The set the update started from (`None`: the registry had no set yet).
    pub previous: Option<PackageSet>,
    /// The new set; `None` when no change was accepted.
    pub set: Option<PackageSet>,
    pub accepted: Vec<Change>,
    pub rejected: Vec<(Change, String)>,
    /// Packages the update names at the version the set already has.
    pub unchanged: Vec<PackageName>,
    pub batch_passed: bool,
    /// The commit message written (or that would be, on a dry run).
    pub message: Option<String>,
    /// `None` on a dry run or when nothing was accepted.
    pub commit: Option<CommitOutcome>,
}

impl UpdateReport {
    /// The latest set already was what the update asks for (a re-run of an update that
    /// landed): nothing to do, and that is success.
    pub fn already_applied(&self) -> bool {
        self.set.is_none() && self.accepted.is_empty() && self.rejected.is_empty()
    }
}

/// What the registry holds that an update is checked against.
struct State {
    registry: RegistryDir,
    latest: Option<PackageSet>,
    metadata: BTreeMap<PackageName, Metadata>,
    catalog: Catalog,
}

impl State {
    /// With `for_update`, only what that update is checked against: the packages of the
    /// latest set and those the update names (a member's dependencies must be members, so
    /// nothing outside counts) — a registry of 100,000 packages is not read whole to
    /// change a set of a few hundred. Their metadata, and of the index the version a
    /// member is at (every version of a package the update names: a refusal lists them).
    /// Without, every package: the daily job proposes from all of them.
    fn load(
        inputs: &Inputs<'_>,
        for_update: Option<&PackageSetUpdate>,
    ) -> Result<State, PackageSetOpError> {
        let registry = RegistryDir::new(inputs.registry);
        let latest = registry.latest_package_set()?;
        let index_dir = IndexDir::new(inputs.index);
        let (index, metadata) = match for_update {
            None => (index_dir.view()?, registry.all_metadata()?),
            Some(update) => {
                let mut wanted: BTreeMap<&PackageName, Option<&Version>> = latest
                    .iter()
                    .flat_map(|set| &set.packages)
                    .map(|(name, version)| (name, Some(version)))
                    .collect();
                wanted.extend(update.packages.keys().map(|name| (name, None)));
                (
                    index_dir.view_of(wanted.iter().map(|(n, v)| (*n, *v)))?,
                    registry.metadata_of(wanted.keys().copied())?,
                )
            }
        };
        Ok(State {
            latest,
            catalog: Catalog::from_index(&index, &metadata),
            registry,
            metadata,
        })
    }

    /// The latest set, or an empty one (`0.0.0`) to start the first set from.
    fn base(
        &self,
        inputs: &Inputs<'_>,
        compiler: Option<&Version>,
    ) -> Result<PackageSet, PackageSetOpError> {
        if let Some(latest) = &self.latest {
            return Ok(latest.clone());
        }
        let compiler = match compiler {
            Some(c) => c.clone(),
            None => inputs.config.default_compiler.clone(),
        };
        Ok(PackageSet {
            version: Version::new(0, 0, 0),
            compiler,
            published: inputs.today,
            packages: BTreeMap::new(),
        })
    }
}

/// Apply a PackageSetUpdate to the latest set: sync both repos, check, commit and push the
/// new set.
pub fn update(
    ctx: &Context<'_>,
    request: &PackageSetUpdate,
    authority: Authority,
    progress: &dyn Progress,
) -> Result<UpdateReport, PackageSetOpError> {
    // Another set landing meanwhile is a race like a moved branch: plan again from the
    // new latest set, as long as the push retries allow.
    let retry = ctx.config.push_retry();
    let started = std::time::Instant::now();
    let mut attempt = 0;
    loop {
        attempt += 1;
        ctx.registry.sync()?;
        ctx.index.sync()?;
        let inputs = Inputs::of(ctx);
        let state = State::load(&inputs, Some(request))?;
        match run(&inputs, &state, request, authority, progress, Some(ctx)) {
            Err(PackageSetOpError::Raced { .. })
                if attempt < retry.max_attempts && started.elapsed() < retry.budget =>
            {
                std::thread::sleep(retry.pause(attempt));
            }
            done => return done,
        }
    }
}

/// What [`update`] would do, over the working trees as they are (no git needed); writes
/// nothing.
pub fn dry_run(
    inputs: &Inputs<'_>,
    request: &PackageSetUpdate,
    authority: Authority,
    progress: &dyn Progress,
) -> Result<UpdateReport, PackageSetOpError> {
    let state = State::load(inputs, Some(request))?;
    run(inputs, &state, request, authority, progress, None)
}

/// What the daily job did.
#[derive(Debug, Clone)]
pub struct DailyReport {
    /// The latest set's version (`None`: there is no set yet, so nothing is proposed).
    pub latest: Option<Version>,
    /// The proposal made (`None`: the set is up to date, or there is no set yet).
    pub proposal: Option<PackageSetUpdate>,
    pub update: Option<UpdateReport>,
}

/// The daily package-set updater: propose the newest version of every package that can go
/// in (see [`package_set::daily_proposal`]) as one update, and apply what passes. With
/// `ctx`, both repos are synced first and the new set is committed; without, nothing is
/// written.
///
/// Without a build hook, the check requires each member to be recorded as building with
/// the set's compiler, so the proposal leaves out versions that are not.
pub fn daily(
    inputs: &Inputs<'_>,
    ctx: Option<&Context<'_>>,
    progress: &dyn Progress,
) -> Result<DailyReport, PackageSetOpError> {
    if let Some(ctx) = ctx {
        ctx.registry.sync()?;
        ctx.index.sync()?;
    }
    let state = State::load(inputs, None)?;
    let nothing = DailyReport {
        latest: state.latest.as_ref().map(|s| s.version.clone()),
        proposal: None,
        update: None,
    };
    // There is nothing to grow before a trustee publishes the first set.
    let Some(latest) = &state.latest else {
        return Ok(nothing);
    };
    let check_compilers = inputs.config.build_check.is_none();
    let Some(proposal) = package_set::daily_proposal(latest, &state.catalog, check_compilers)
    else {
        return Ok(nothing);
    };
    let report = run(inputs, &state, &proposal, Authority::Anyone, progress, ctx)?;
    Ok(DailyReport {
        latest: Some(latest.version.clone()),
        proposal: Some(proposal),
        update: Some(report),
    })
}

fn run(
    inputs: &Inputs<'_>,
    state: &State,
    request: &PackageSetUpdate,
    authority: Authority,
    progress: &dyn Progress,
    commit_to: Option<&Context<'_>>,
) -> Result<UpdateReport, PackageSetOpError> {
    if let Some(latest) = state
        .latest
        .as_ref()
        .filter(|latest| package_set::already_reflected(latest, request))
    {
        // An interrupted run of this very update landed, or it asks for what the set has.
        if let Some(ctx) = commit_to {
            copy_to_storage(ctx, &super::signers(ctx)?, latest)?;
        }
        return Ok(UpdateReport {
            previous: Some(latest.clone()),
            set: None,
            accepted: vec![],
            rejected: vec![],
            unchanged: request.packages.keys().cloned().collect(),
            batch_passed: true,
            message: None,
            commit: None,
        });
    }
    let base = state.base(inputs, request.compiler.as_ref())?;
    let classified = package_set::classify(&base, request, &state.catalog, authority)?;
    let outcome = check_changes(inputs, state, &base, &classified.changes, progress)?;
    let next = package_set::next_set(&base, &outcome, inputs.today);
    let message = next.as_ref().map(|n| package_set::commit_message(&base, n));
    let commit = match (&next, &message, commit_to) {
        (Some(next), Some(message), Some(ctx)) => Some(commit(ctx, state, next, message)?),
        _ => None,
    };
    Ok(UpdateReport {
        previous: state.latest.clone(),
        set: next,
        accepted: outcome.accepted,
        rejected: outcome.rejected,
        unchanged: classified.unchanged,
        batch_passed: outcome.batch_passed,
        message,
        commit,
    })
}

/// The batch, then one change at a time; with a build hook configured it runs over every
/// candidate set that passes the name checks.
fn check_changes(
    inputs: &Inputs<'_>,
    state: &State,
    base: &PackageSet,
    changes: &[Change],
    progress: &dyn Progress,
) -> Result<Outcome, PackageSetOpError> {
    let mut on_attempt = |what: &str, i: usize, total: usize| progress.attempt(what, i, total);
    let Some(command) = &inputs.config.build_check else {
        let mut no_hook =
            |_: &Version, _: &BTreeMap<PackageName, Version>| Ok::<_, Infallible>(Ok(()));
        let outcome = package_set::apply_with_fallback(
            base,
            changes,
            &state.catalog,
            true,
            &mut no_hook,
            &mut on_attempt,
        );
        return Ok(match outcome {
            Ok(o) => o,
            Err(never) => match never {},
        });
    };
    // One workspace for every attempt: each member is unpacked once.
    let mut workspace = Workspace::new()?;
    let timeout = Duration::from_secs(inputs.config.hook_timeout_seconds);
    let mut build = |compiler: &Version, packages: &BTreeMap<PackageName, Version>| {
        build_check(
            inputs,
            state,
            &mut workspace,
            command,
            compiler,
            packages,
            timeout,
        )
    };
    package_set::apply_with_fallback(
        base,
        changes,
        &state.catalog,
        false,
        &mut build,
        &mut on_attempt,
    )
}

/// Longest build-check output kept in a rejection reason.
const REASON_MAX_CHARS: usize = 4000;

/// Run the build check over a whole candidate set. `Ok(Err(reason))` rejects the candidate.
fn build_check(
    inputs: &Inputs<'_>,
    state: &State,
    workspace: &mut Workspace,
    command: &str,
    compiler: &Version,
    packages: &BTreeMap<PackageName, Version>,
    timeout: Duration,
) -> Result<Result<(), String>, PackageSetOpError> {
    for (name, version) in packages {
        let hash = state
            .metadata
            .get(name)
            .and_then(|m| m.published.get(version))
            .map(|p| p.hash)
            .ok_or_else(|| PackageSetOpError::NoMetadata {
                name: name.clone(),
                version: version.clone(),
            })?;
        workspace.add_from_storage(inputs.stores, name, version, &hash)?;
    }
    let env = HookEnv {
        compiler: compiler.clone(),
        package: None,
    };
    let outcome = workspace.run(HookKind::BuildCheck, command, packages, &env, timeout)?;
    Ok(match outcome.ok_or_error() {
        Ok(_) => Ok(()),
        Err(e) => {
            let text = crate::error_chain(&e);
            let cut = text.len().saturating_sub(REASON_MAX_CHARS);
            let start = (cut..text.len())
                .find(|i| text.is_char_boundary(*i))
                .unwrap_or(text.len());
            Err(if cut > 0 {
                format!("[…] {}", &text[start..])
            } else {
                text
            })
        }
    })
}

/// Commit the new set; if another job published a set first, refuse (the update was
/// checked against the set it started from).
fn commit(
    ctx: &Context<'_>,
    state: &State,
    next: &PackageSet,
    message: &str,
) -> Result<CommitOutcome, PackageSetOpError> {
    let retry = ctx.config.push_retry();
    let expected = state.latest.as_ref().map(|s| s.version.clone());
    // Read before anything is written: a key that cannot be read refuses the update whole.
    let signers = super::signers(ctx)?;
    let outcome = ctx.registry.commit_change(
        message,
        retry,
        |_| -> Result<Vec<std::path::PathBuf>, PackageSetOpError> {
            let latest = state.registry.latest_package_set()?;
            match latest {
                // An interrupted run of this very update already landed it.
                Some(l) if &l == next => Ok(Vec::new()),
                l if l.as_ref().map(|s| &s.version) == expected.as_ref() => {
                    let mut written = vec![state.registry.write_package_set(next)?];
                    if let Some(tuf) = &signers.tuf {
                        // The set is a target too (copied to storage once it landed: until
                        // then another job may land another set of this version).
                        let bytes = next.to_json();
                        let key = crate::storage::StorageKey::package_set(&next.version);
                        let change = crate::trust::Change {
                            path: key.as_str().to_owned(),
                            target: Some(crate::trust::target(
                                &crate::schema::Sha256::of(bytes.as_bytes()),
                                bytes.len() as u64,
                                Default::default(),
                            )),
                        };
                        let root = state.registry.root();
                        written.extend(super::tuf::apply(tuf, root, ctx.now, &[change])?);
                    }
                    Ok(written)
                }
                l => Err(PackageSetOpError::Raced {
                    expected: match &expected {
                        Some(v) => format!("`{v}`"),
                        None => "no set".to_owned(),
                    },
                    found: l.expect("differs from what was expected").version,
                }),
            }
        },
    )?;
    copy_to_storage(ctx, &signers, next)?;
    Ok(outcome)
}

/// With a TUF repository, `set` (landed) copied to storage, where its target points, and
/// then the repository's files; a re-run of an update that landed finishes this.
fn copy_to_storage(
    ctx: &Context<'_>,
    signers: &super::Signers,
    set: &PackageSet,
) -> Result<(), PackageSetOpError> {
    if signers.tuf.is_some() {
        let key = crate::storage::StorageKey::package_set(&set.version);
        ctx.storage
            .put(&key, set.to_json().as_bytes())
            .map_err(crate::atom::AtomError::from)?;
        crate::fault::point("package-set:stored");
    }
    super::tuf::publish(ctx, signers.tuf.as_ref())?;
    Ok(())
}
