//! Publish: fetch the source at `ref`, read its manifest, check everything the registry
//! requires, pack the deterministic tarball, then write storage → metadata → index.
//! Every step checks what is already there, so re-running a payload after a crash at
//! any point finishes the job and changes nothing that was already right.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::config::Config;
use crate::git::CommitOutcome;
use crate::hooks::{HookEnv, HookError, HookKind, HookOutcome, Workspace};
use crate::index::{IndexError, IndexFile};
use crate::manifest::{DhallImports, Given, Manifest, ManifestError, ManifestFile, spago_dhall};
use crate::metadata::{Metadata, MetadataError, PublishedVersion};
use crate::payload::Publish;
use crate::schema::{Location, PackageName, Range, SchemaError, Sha256, Version};
use crate::solver::{self, BuildPlan, DirPackages, SolveError, Solver};
use crate::source::{EntryKind, SourceTree};
use crate::storage::{MirrorOutcome, MirrorWrite, Put, StorageKey};
use crate::store::{IndexDir, RegistryDir, StoreError};
use crate::tarball;

use super::Context;
use super::authorize::{AuthorizeError, Signer, authorize_owner_change};
use crate::atom::ReleaseSignature;

mod compilers;

pub use compilers::{Matrix, Tried};

/// Why a publish was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(
        "`{name}` is claimed by its owners: its releases are signed by an owner (`{name}@{since}` was), so the publish of `{name}@{version}` needs a `releaseSignature`: pack it with `regis pack PAYLOAD --key ~/.ssh/id_ed25519` (an owner's key) and publish the payload it prints"
    )]
    ReleaseUnsigned {
        name: PackageName,
        version: Version,
        since: Version,
    },
    #[error(
        "the `releaseSignature` of `{name}@{version}` is not an owner's signature of `{text}` ({owners}): pack and sign it with `regis pack PAYLOAD --key ~/.ssh/id_ed25519`, an owner's key"
    )]
    ReleaseNotAuthorized {
        name: PackageName,
        version: Version,
        text: String,
        owners: String,
        #[source]
        cause: crate::auth::AuthError,
    },
    #[error(
        "this registry keeps no atoms (`trustAtomKey` is not set), so the `releaseSignature` of `{name}@{version}` would be kept nowhere a client could check it: publish without it, or have the registry set an atom key"
    )]
    ReleaseWithoutAtoms { name: PackageName, version: Version },
    #[error(
        "package name `{name}` starts with `{prefix}`: drop the prefix, names in this registry do not repeat the language"
    )]
    ForbiddenPrefix { name: PackageName, prefix: String },
    #[error("package name `{name}` is reserved: choose another name")]
    ReservedName { name: PackageName },
    #[error("`{name}@{version}` is not admitted: {reason}")]
    NotAdmitted {
        name: PackageName,
        version: Version,
        reason: String,
    },
    #[error(
        "package `{name}` is not in the registry yet: the first publish must give a `location`"
    )]
    NeedsLocation { name: PackageName },
    #[error(
        "no manifest at the root of `{location}` at `{}`: expected a `purs.json`, `spago.yaml` (with a `package.publish` section), `bower.json`, `spago.dhall` (with its `packages.dhall`) or `purs.dhall` there", crate::text::value(.reference)
    )]
    NoManifest {
        location: Location,
        reference: String,
    },
    #[error(
        "the payload publishes `{expected}`, but the manifest at `{}` is for `{found}`", crate::text::value(.reference)
    )]
    NameMismatch {
        expected: PackageName,
        found: PackageName,
        reference: String,
    },
    #[error(
        "the payload publishes `{name}@{expected}`, but the manifest at `{}` says version `{found}`", crate::text::value(.reference)
    )]
    VersionMismatch {
        name: PackageName,
        expected: Version,
        found: Version,
        reference: String,
    },
    #[error(
        "the manifest of `{name}` gives location `{manifest}`, but the package is published from `{used}`: make them agree"
    )]
    ManifestLocation {
        name: PackageName,
        manifest: Location,
        used: Location,
    },
    #[error("`{name}@{version}` cannot be published: {problems}")]
    Dependencies {
        name: PackageName,
        version: Version,
        problems: String,
    },
    #[error("`{file}` is not UTF-8 text: expected a UTF-8 manifest")]
    NotUtf8 { file: String },
    #[error(transparent)]
    License(SchemaError),
    #[error(transparent)]
    Solve(#[from] SolveError),
    #[error(transparent)]
    Hook(#[from] HookError),
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error(transparent)]
    Metadata(#[from] MetadataError),
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Atom(#[from] crate::atom::AtomError),
    #[error(transparent)]
    Authorize(#[from] AuthorizeError),
    #[error(
        "`{name}@{version}` is not fully published: {landed}, but {missing} did not land; run the same payload again to finish it"
    )]
    Unfinished {
        name: PackageName,
        version: Version,
        landed: &'static str,
        missing: &'static str,
        #[source]
        cause: Box<PublishError>,
    },
    #[error(transparent)]
    Git(#[from] crate::git::GitError),
    #[error(transparent)]
    Source(#[from] crate::source::SourceError),
    #[error(transparent)]
    Tarball(#[from] tarball::TarballError),
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
}

/// What a publish did.
#[derive(Debug, Clone)]
pub struct PublishReport {
    pub name: PackageName,
    pub version: Version,
    pub hash: Sha256,
    pub bytes: u64,
    pub files: usize,
    pub storage_key: StorageKey,
    /// Where anyone downloads the tarball, when the config has a `storageUrl`.
    pub download_url: Option<String>,
    /// Where the version was fetched from (the package's registered location).
    pub location: Location,
    pub build_plan: BuildPlan,
    /// The compilers metadata records for the version (an earlier run's, on a re-run).
    pub compilers: Vec<Version>,
    /// Who signed the owner list, when the publish changed the package's owners under
    /// `ownerChanges = "signed"`.
    pub owners_signed_by: Option<Signer>,
    /// The build check with each compiler, when one is configured.
    pub matrix: Option<Matrix>,
    pub storage: Put,
    /// What each mirror did with the tarball, after the primary stored it; a failure does
    /// not fail the publish.
    pub mirrors: Vec<MirrorWrite>,
    pub metadata: CommitOutcome,
    pub index: CommitOutcome,
    pub warnings: Vec<String>,
    /// The docs command's outcome, when one is configured: a failure (the error text) does
    /// not fail the publish.
    pub docs: Option<Result<HookOutcome, String>>,
}

impl PublishReport {
    /// True when every store already had this version (a re-run of a finished publish).
    pub fn changed_nothing(&self) -> bool {
        self.storage == Put::AlreadyPresent
            && !(self.mirrors.iter()).any(|m| m.outcome == MirrorOutcome::Stored)
            && matches!(self.metadata, CommitOutcome::Unchanged)
            && matches!(self.index, CommitOutcome::Unchanged)
    }
}

/// Everything apply will write, decided before any write happens.
#[derive(Debug, Clone)]
pub struct PublishPlan {
    pub manifest: Manifest,
    pub location: Location,
    pub key: StorageKey,
    pub tarball: Vec<u8>,
    pub entry: PublishedVersion,
    /// The compiler and dependency versions it builds with.
    pub build_plan: BuildPlan,
    /// The build check with each compiler, when one is configured (its passes are
    /// `entry.compilers`).
    pub matrix: Option<Matrix>,
    pub files: usize,
    pub warnings: Vec<String>,
}

/// A check a caller keeps on what may be stored (the server's byte quotas): asked once a
/// release is packed, before anything is written. `Err` is the refusal's reason, named in
/// full (which limit, its use, what frees it).
pub trait Admit {
    fn admit(&self, name: &PackageName, version: &Version, bytes: u64) -> Result<(), String>;
}

/// Admits every release: the batch binary and the CLI keep no quotas.
pub struct AdmitAll;

impl Admit for AdmitAll {
    fn admit(&self, _: &PackageName, _: &Version, _: u64) -> Result<(), String> {
        Ok(())
    }
}

/// Run a Publish payload end to end.
pub fn publish(ctx: &Context<'_>, request: &Publish) -> Result<PublishReport, PublishError> {
    publish_admitted(ctx, request, &AdmitAll)
}

/// [`publish`], with the packed release put to `admit` before anything is written.
pub fn publish_admitted(
    ctx: &Context<'_>,
    request: &Publish,
    admit: &dyn Admit,
) -> Result<PublishReport, PublishError> {
    ctx.registry.sync()?;
    ctx.index.sync()?;
    let registry = RegistryDir::new(ctx.registry.workdir());
    let index = IndexDir::new(ctx.index.workdir());

    let existing = registry.read_metadata(&request.name)?;
    let location = validate_request(request, existing.as_ref(), ctx.config)?;
    if existing.is_none() {
        check_location_unclaimed(&registry, &request.name, &location)?;
    }
    let url = location.clone_url(ctx.config.github_base_url.as_str());
    let tree = ctx
        .source
        .fetch(&url, &request.reference, location.subdir())?;
    let dhall_cache = ctx
        .config
        .dhall_cache
        .as_ref()
        .map(|dir| ctx.registry.workdir().join(dir));
    let (manifest, manifest_warnings) =
        read_manifest(&tree, request, &location, dhall_cache.as_deref())?;
    let dependencies = read_dependencies(&index, &manifest)?;
    validate_manifest(request, &manifest, &location, &dependencies)?;
    if let Some(m) = &existing {
        check_owners(
            ctx.config,
            m,
            &manifest,
            request.owners_signature.as_deref(),
        )?;
    }
    let build_plan = solve(ctx, &registry, &index, request, &manifest)?;
    let mut plan = plan(ctx, manifest, location, &tree, build_plan)?;
    plan.warnings.splice(0..0, manifest_warnings);
    if let Some(m) = &existing {
        m.check_publish(&request.name, &plan.manifest.version, &plan.entry.hash)?;
    }
    admit
        .admit(&request.name, &plan.manifest.version, plan.entry.bytes)
        .map_err(|reason| PublishError::NotAdmitted {
            name: request.name.clone(),
            version: plan.manifest.version.clone(),
            reason,
        })?;
    let release = check_release(
        ctx,
        &registry,
        existing.as_ref(),
        &plan,
        request.release_signature.as_deref(),
    )?;
    // The package's own index file must take the entry before anything is written: a bad
    // line or a conflicting manifest found after the metadata push would strand the version.
    index
        .read(&plan.manifest.name)?
        .unwrap_or_default()
        .insert(plan.manifest.clone())?;
    // The build check runs before anything is written: a failure with the plan's compiler
    // leaves no trace; then the other compilers, each recorded if it passes.
    let mut workspace = match &ctx.config.build_check {
        Some(command) => {
            let ws = hook_workspace(ctx, &registry, &plan)?;
            let timeout = Duration::from_secs(ctx.config.hook_timeout_seconds);
            run_hook(
                &ws,
                &plan,
                &plan.build_plan,
                HookKind::BuildCheck,
                command,
                timeout,
            )?
            .ok_or_error()?;
            let mut from_mirrors = ws.from_mirrors().to_vec();
            let matrix = compilers::run(ctx, &registry, &index, &plan, command, &mut from_mirrors)?;
            plan.entry.compilers = matrix.passed();
            plan.matrix = Some(matrix);
            for read in from_mirrors {
                if !plan.warnings.contains(&read) {
                    plan.warnings.push(read);
                }
            }
            Some(ws)
        }
        None => None,
    };
    let mut report = apply(
        ctx,
        &registry,
        &index,
        &plan,
        request.owners_signature.as_deref(),
        release.as_ref(),
    )?;
    if let Some(command) = &ctx.config.docs {
        report.docs = Some(docs(ctx, &registry, &plan, &mut workspace, command));
    }
    Ok(report)
}

/// A hook workspace: the package unpacked, and each resolved dependency from storage
/// (checked against the hash metadata records for it).
fn hook_workspace(
    ctx: &Context<'_>,
    registry: &RegistryDir,
    plan: &PublishPlan,
) -> Result<Workspace, PublishError> {
    let mut ws = Workspace::new()?;
    ws.set_package(&plan.manifest.name, &plan.manifest.version, &plan.tarball)?;
    add_dependencies(
        ctx,
        registry,
        &mut ws,
        &plan.manifest,
        &plan.build_plan.resolutions,
    )?;
    Ok(ws)
}

/// Unpack each of `resolutions` into `ws` from storage (checked against the hash metadata
/// records for it).
fn add_dependencies(
    ctx: &Context<'_>,
    registry: &RegistryDir,
    ws: &mut Workspace,
    manifest: &Manifest,
    resolutions: &BTreeMap<PackageName, Version>,
) -> Result<(), PublishError> {
    for (name, version) in resolutions {
        let hash = registry
            .read_metadata(name)?
            .and_then(|m| m.published.get(version).map(|p| p.hash))
            .ok_or_else(|| PublishError::Dependencies {
                name: manifest.name.clone(),
                version: manifest.version.clone(),
                problems: format!("`{name}@{version}` is in the build plan but not in metadata"),
            })?;
        ws.add_from_storage(ctx.stores(), name, version, &hash)?;
    }
    Ok(())
}

/// Run a hook on the package of `plan` with the compiler and dependencies of `build_plan`.
fn run_hook(
    ws: &Workspace,
    plan: &PublishPlan,
    build_plan: &BuildPlan,
    kind: HookKind,
    command: &str,
    timeout: Duration,
) -> Result<HookOutcome, HookError> {
    let env = HookEnv {
        compiler: build_plan.compiler.clone(),
        package: Some((plan.manifest.name.clone(), plan.manifest.version.clone())),
    };
    ws.run(kind, command, &build_plan.resolutions, &env, timeout)
}

/// Run the docs command after the publish: its failure is reported, never fatal.
fn docs(
    ctx: &Context<'_>,
    registry: &RegistryDir,
    plan: &PublishPlan,
    workspace: &mut Option<Workspace>,
    command: &str,
) -> Result<HookOutcome, String> {
    if workspace.is_none() {
        *workspace = Some(hook_workspace(ctx, registry, plan).map_err(|e| crate::error_chain(&e))?);
    }
    let ws = workspace.as_ref().expect("set above");
    let timeout = Duration::from_secs(ctx.config.hook_timeout_seconds);
    run_hook(ws, plan, &plan.build_plan, HookKind::Docs, command, timeout)
        .and_then(HookOutcome::ok_or_error)
        .map_err(|e| crate::error_chain(&e))
}

/// Which location to fetch from, and the checks that need no source (pure).
pub fn validate_request(
    request: &Publish,
    existing: Option<&Metadata>,
    config: &Config,
) -> Result<Location, PublishError> {
    let name = &request.name;
    if let Some(prefix) = config
        .forbidden_name_prefixes
        .iter()
        .find(|p| name.as_str().starts_with(p.as_str()))
    {
        return Err(PublishError::ForbiddenPrefix {
            name: name.clone(),
            prefix: prefix.clone(),
        });
    }
    if config.reserved_names.iter().any(|r| r == name.as_str()) {
        return Err(PublishError::ReservedName { name: name.clone() });
    }
    if let (Some(m), Some(v)) = (existing, &request.version) {
        // Refuse early what can never succeed; a published version may be a re-run.
        if let Some(u) = m.unpublished.get(v) {
            return Err(MetadataError::WasUnpublished {
                name: name.clone(),
                version: v.clone(),
                when: u.unpublished_time,
            }
            .into());
        }
    }
    match (existing, &request.location) {
        (Some(m), Some(given)) => {
            m.check_location(name, given)?;
            Ok(m.location.clone())
        }
        (Some(m), None) => Ok(m.location.clone()),
        (None, Some(given)) => Ok(given.clone()),
        (None, None) => Err(PublishError::NeedsLocation { name: name.clone() }),
    }
}

/// Whether publishing `manifest` over the package's metadata `m` may make its owners the
/// ones it leaves ([`authorize_owner_change`]); who signed a change that needed it.
fn check_owners(
    config: &Config,
    m: &Metadata,
    manifest: &Manifest,
    signature: Option<&str>,
) -> Result<Option<Signer>, PublishError> {
    let after = m.owners_after_publish(manifest.owners.as_deref());
    Ok(authorize_owner_change(
        config,
        &manifest.name,
        &manifest.version,
        m.owners.as_deref(),
        after.as_deref(),
        signature,
    )?)
}

fn check_location_unclaimed(
    registry: &RegistryDir,
    name: &PackageName,
    location: &Location,
) -> Result<(), PublishError> {
    let holder = registry.location_holder(location)?;
    Ok(crate::metadata::check_location_free(
        holder, name, location,
    )?)
}

/// Read the package's manifest from the first file of [`ManifestFile::PREFERENCE`] at its
/// root. The recorded `ref` is the one the version was fetched at.
fn read_manifest(
    tree: &SourceTree,
    request: &Publish,
    location: &Location,
    dhall_cache: Option<&std::path::Path>,
) -> Result<(Manifest, Vec<String>), PublishError> {
    let has = |p: &str| {
        tree.entries()
            .iter()
            .any(|e| e.path == p && matches!(e.kind, EntryKind::File { .. }))
    };
    let Some(file) = ManifestFile::PREFERENCE.into_iter().find(|f| has(f.path())) else {
        return Err(PublishError::NoManifest {
            location: location.clone(),
            reference: request.reference.clone(),
        });
    };
    let given = Given {
        name: &request.name,
        version: request.version.as_ref(),
        location,
        reference: &request.reference,
    };
    let imports = match file {
        ManifestFile::SpagoDhall => DhallImports {
            files: dhall_files(tree)?,
            cache: dhall_cache,
        },
        _ => DhallImports::default(),
    };
    Ok(file.read(&read_text(tree, file.path())?, &given, &imports)?)
}

/// The package's `.dhall` files (but its `spago.dhall`), for a `spago.dhall` to import:
/// at most [`spago_dhall::MAX_DHALL_FILES`] of them, [`spago_dhall::MAX_DHALL_BYTES`]
/// together (sized before they are read).
fn dhall_files(tree: &SourceTree) -> Result<Vec<(String, Vec<u8>)>, PublishError> {
    let files: Vec<(&str, u64)> = tree
        .entries()
        .iter()
        .filter_map(|e| match e.kind {
            EntryKind::File { size, .. } => Some((e.path.as_str(), size)),
            _ => None,
        })
        .filter(|(p, _)| p.ends_with(".dhall") && *p != ManifestFile::SpagoDhall.path())
        .collect();
    let total: u64 = files.iter().map(|(_, size)| size).sum();
    if files.len() > spago_dhall::MAX_DHALL_FILES || total > spago_dhall::MAX_DHALL_BYTES {
        return Err(ManifestError::Invalid {
            file: ManifestFile::SpagoDhall.path().to_owned(),
            message: format!(
                "the package has {} `.dhall` files of {} bytes: expected at most {} files of {} bytes for a spago.dhall to import",
                files.len(),
                crate::text::thousands(total),
                spago_dhall::MAX_DHALL_FILES,
                crate::text::thousands(spago_dhall::MAX_DHALL_BYTES)
            ),
        }
        .into());
    }
    files
        .into_iter()
        .map(|(p, _)| Ok((p.to_owned(), read_text(tree, p)?.into_bytes())))
        .collect()
}

/// The largest manifest file read from a package (a real one is well under 10 KiB).
pub const MAX_MANIFEST_BYTES: u64 = 1024 * 1024;

/// A manifest file's text; invalid UTF-8 is an error, never silently replaced.
fn read_text(tree: &SourceTree, file: &str) -> Result<String, PublishError> {
    String::from_utf8(tree.read_limited(file, MAX_MANIFEST_BYTES)?).map_err(|_| {
        PublishError::NotUtf8 {
            file: file.to_owned(),
        }
    })
}

/// The index files of the manifest's dependencies (`None` for a package not in the index).
fn read_dependencies(
    index: &IndexDir,
    manifest: &Manifest,
) -> Result<BTreeMap<PackageName, Option<IndexFile>>, PublishError> {
    manifest
        .dependencies
        .keys()
        .map(|dep| Ok((dep.clone(), index.read(dep)?)))
        .collect()
}

/// The checks between payload, manifest, location and index (pure).
pub fn validate_manifest(
    request: &Publish,
    manifest: &Manifest,
    location: &Location,
    dependencies: &BTreeMap<PackageName, Option<IndexFile>>,
) -> Result<(), PublishError> {
    if manifest.name != request.name {
        return Err(PublishError::NameMismatch {
            expected: request.name.clone(),
            found: manifest.name.clone(),
            reference: request.reference.clone(),
        });
    }
    if let Some(v) = &request.version
        && v != &manifest.version
    {
        return Err(PublishError::VersionMismatch {
            name: request.name.clone(),
            expected: v.clone(),
            found: manifest.version.clone(),
            reference: request.reference.clone(),
        });
    }
    if !manifest.location.same_place(location) {
        return Err(PublishError::ManifestLocation {
            name: manifest.name.clone(),
            manifest: manifest.location.clone(),
            used: location.clone(),
        });
    }
    manifest
        .license
        .check_canonical()
        .map_err(PublishError::License)?;
    let problems: Vec<String> = manifest
        .dependencies
        .iter()
        .filter_map(|(dep, range)| {
            if dep == &manifest.name {
                return Some(format!("it lists itself as a dependency (`{dep} {range}`)"));
            }
            dependency_problem(dep, range, dependencies.get(dep).and_then(Option::as_ref))
        })
        .collect();
    if !problems.is_empty() {
        return Err(PublishError::Dependencies {
            name: manifest.name.clone(),
            version: manifest.version.clone(),
            problems: crate::text::summarised(&problems, crate::text::LIST_MAX_ITEMS, "; "),
        });
    }
    Ok(())
}

fn dependency_problem(
    dep: &PackageName,
    range: &Range,
    file: Option<&IndexFile>,
) -> Option<String> {
    let Some(file) = file else {
        return Some(format!(
            "dependency `{dep}` is not in the registry: publish it first"
        ));
    };
    if file.versions().any(|v| range.contains(v)) {
        return None;
    }
    Some(format!(
        "no published version of `{dep}` is in `{range}` (published: {})",
        crate::text::list(file.versions().map(|v| format!("`{v}`")))
    ))
}

/// The build plan: the payload's `resolutions` checked, else solved — for the payload's
/// compiler if it names one, else with the newest compiler that works.
fn solve(
    ctx: &Context<'_>,
    registry: &RegistryDir,
    index: &IndexDir,
    request: &Publish,
    manifest: &Manifest,
) -> Result<BuildPlan, PublishError> {
    let default = ctx.config.default_compiler.clone();
    let packages = DirPackages { registry, index };
    let solver = Solver::new(&packages);
    let wanted = solver::Request::manifest(manifest, request.compiler.clone());
    Ok(match &request.resolutions {
        Some(resolutions) => solver.check_resolutions(&wanted, resolutions, &[default])?,
        None => solver.solve(&wanted, &[default])?,
    })
}

/// An owner's signature of the release, checked: `signature` must be a signature of
/// [`crate::payload::release_text`] by one of the package's owners (the manifest's, for a
/// package that has none yet), and a package a signed release claimed needs one. With an
/// atom key only, where it is recorded (its atom, its TUF target) for clients to check.
fn check_release(
    ctx: &Context<'_>,
    registry: &RegistryDir,
    existing: Option<&Metadata>,
    plan: &PublishPlan,
    signature: Option<&str>,
) -> Result<Option<ReleaseSignature>, PublishError> {
    let (name, version) = (&plan.manifest.name, &plan.manifest.version);
    let Some(signature) = signature.filter(|s| !s.trim().is_empty()) else {
        let Some(head) = crate::atom::read_head(registry, name)? else {
            return Ok(None);
        };
        let claimed =
            crate::atom::find_atom(ctx.storage, name, head, |atom| atom.release.is_some())?;
        return match claimed {
            None => Ok(None),
            Some((_, atom)) => Err(PublishError::ReleaseUnsigned {
                name: name.clone(),
                version: version.clone(),
                since: atom.version.unwrap_or_else(|| version.clone()),
            }),
        };
    };
    if ctx.config.trust_atom_key.is_none() {
        return Err(PublishError::ReleaseWithoutAtoms {
            name: name.clone(),
            version: version.clone(),
        });
    }
    let owners: Vec<crate::schema::Owner> = existing
        .and_then(|m| m.owners.clone())
        .filter(|o| !o.is_empty())
        .or_else(|| plan.manifest.owners.clone())
        .unwrap_or_default();
    let text = crate::payload::release_text(name, version, &plan.entry.hash);
    let signer =
        crate::auth::verify_any(&text, signature, &owners, crate::payload::RELEASE_NAMESPACE)
            .map_err(|cause| PublishError::ReleaseNotAuthorized {
                name: name.clone(),
                version: version.clone(),
                text: text.clone(),
                owners: match owners.len() {
                    0 => "the package lists no owners".to_owned(),
                    1 => "the package lists 1 owner".to_owned(),
                    n => format!("the package lists {n} owners"),
                },
                cause,
            })?;
    Ok(Some(ReleaseSignature {
        signer: signer.clone(),
        signature: signature.to_owned(),
    }))
}

/// What a publish of a request would store, made where the owner is (`regis pack`):
/// packing is deterministic, so the hash an owner signs here is the hash the registry
/// computes.
#[derive(Debug, Clone)]
pub struct PackedRelease {
    pub manifest: Manifest,
    pub tarball: Vec<u8>,
    pub hash: Sha256,
    /// How many files it holds.
    pub files: usize,
    pub warnings: Vec<String>,
}

/// The tarball a publish of `request` from `location` would store: the source fetched from
/// `url` (the location's clone URL, or a local repository) at the request's `ref`, the
/// manifest read as a publish reads it, packed as a publish packs it.
pub fn pack_request(
    config: &Config,
    source: &dyn crate::source::Source,
    request: &Publish,
    location: &Location,
    url: &str,
    dhall_cache: Option<&std::path::Path>,
) -> Result<PackedRelease, PublishError> {
    let tree = source.fetch(url, &request.reference, location.subdir())?;
    let (manifest, mut warnings) = read_manifest(&tree, request, location, dhall_cache)?;
    let packed = pack(&tree, &manifest, config)?;
    warnings.extend(packed.warnings);
    Ok(PackedRelease {
        hash: Sha256::from_digest(packed.sha256),
        manifest,
        tarball: packed.bytes,
        files: packed.files,
        warnings,
    })
}

/// Pack the tarball and decide the metadata entry (pure apart from reading the source).
fn plan(
    ctx: &Context<'_>,
    manifest: Manifest,
    location: Location,
    tree: &SourceTree,
    build_plan: BuildPlan,
) -> Result<PublishPlan, PublishError> {
    let packed = pack(tree, &manifest, ctx.config)?;
    let hash = Sha256::from_digest(packed.sha256);
    let entry = PublishedVersion {
        bytes: packed.bytes.len() as u64,
        compilers: vec![build_plan.compiler.clone()],
        hash,
        published_time: ctx.now,
        // Deprecated in the PureScript Registry, which writes `""` in every entry (5,495 of
        // 5,495): the ref is recorded in the index line.
        reference: String::new(),
    };
    Ok(PublishPlan {
        key: StorageKey::tarball(&manifest.name, &manifest.version),
        manifest,
        location,
        files: packed.files,
        tarball: packed.bytes,
        entry,
        build_plan,
        matrix: None,
        warnings: packed.warnings,
    })
}

/// Select the package's files and build the deterministic tarball, with the canonical
/// `purs.json` always inside.
pub fn pack(
    tree: &SourceTree,
    manifest: &Manifest,
    config: &Config,
) -> Result<tarball::Packed, PublishError> {
    let entries: Vec<tarball::InputEntry> = tree.entries().iter().map(Into::into).collect();
    let rules = tarball::Rules {
        include: manifest.include_files.clone().unwrap_or_default(),
        exclude: manifest.exclude_files.clone().unwrap_or_default(),
    };
    let limits = tarball::Limits {
        max_bytes: config.package_bytes_max,
        warn_bytes: config.package_bytes_warn,
        ..tarball::Limits::default()
    };
    let selection = tarball::select(&entries, &rules)?;
    let top = format!("{}-{}", manifest.name, manifest.version);
    let overrides = vec![(
        "purs.json".to_owned(),
        manifest.to_pretty_json().into_bytes(),
    )];
    let mut packed = tarball::pack(
        &top,
        &selection.entries,
        &overrides,
        &mut |p: &str| tree.read(p),
        &limits,
    )?;
    packed.warnings.splice(0..0, selection.warnings);
    Ok(packed)
}

/// Write storage → metadata → index. Each write is idempotent; each git change is
/// re-applied on the new head if another job pushed first, and the index step, once the
/// metadata landed, is not given up on a race ([`crate::git::Retry::landing`]). A
/// stored tarball is never deleted here: another job running the same payload may have
/// recorded it meanwhile (an unrecorded one is reported by `regis check` and removed by
/// `regis gc`). A step that cannot land is reported with what did land.
fn apply(
    ctx: &Context<'_>,
    registry: &RegistryDir,
    index: &IndexDir,
    plan: &PublishPlan,
    owners_signature: Option<&str>,
    release: Option<&ReleaseSignature>,
) -> Result<PublishReport, PublishError> {
    let name = plan.manifest.name.clone();
    let version = plan.manifest.version.clone();
    let retry = ctx.config.push_retry();
    let message = format!("Publish {name}@{version}");
    let unfinished = |landed, missing| {
        let (name, version) = (name.clone(), version.clone());
        move |cause: PublishError| match cause {
            PublishError::Git(_) | PublishError::Store(_) | PublishError::Atom(_) => {
                PublishError::Unfinished {
                    name,
                    version,
                    landed,
                    missing,
                    cause: Box::new(cause),
                }
            }
            refusal => refusal,
        }
    };

    // Read before anything is written: a key that cannot be read refuses the publish whole.
    let signers = super::signers(ctx)?;
    let storage = ctx.storage.put(&plan.key, &plan.tarball)?;
    crate::fault::point("publish:stored");
    let mirrors = ctx.stores().put_mirrors(&plan.key, &plan.tarball);

    let mut compilers = plan.entry.compilers.clone();
    let mut owners_signed_by = None;
    let metadata =
        ctx.registry
            .commit_change(&message, retry, |_| -> Result<Vec<PathBuf>, PublishError> {
                // Re-read on every attempt: after a rejected push this is another job's new head.
                let mut written = Vec::new();
                owners_signed_by = None;
                let mut m = match registry.read_metadata(&name)? {
                    Some(m) => {
                        m.check_location(&name, &plan.location)?;
                        if release.is_none() {
                            // Another job may have claimed the package since the first check.
                            check_release(ctx, registry, Some(&m), plan, None)?;
                        }
                        // Another job may have changed the owners since the first check.
                        owners_signed_by =
                            check_owners(ctx.config, &m, &plan.manifest, owners_signature)?;
                        m
                    }
                    None => {
                        check_location_unclaimed(registry, &name, &plan.location)?;
                        // A registry without the lookup gains it, in this commit.
                        if !registry.has_location_lookup() {
                            written.extend(registry.write_all_locations()?);
                        }
                        written.push(registry.write_location(&plan.location, &name)?);
                        Metadata::new(plan.location.clone(), None)
                    }
                };
                m.publish(
                    &name,
                    version.clone(),
                    plan.entry.clone(),
                    plan.manifest.owners.clone(),
                )?;
                if let Some(recorded) = m.published.get(&version) {
                    compilers.clone_from(&recorded.compilers);
                }
                let record = super::AtomRecord {
                    operation: crate::atom::AtomOperation::Publish,
                    version: Some(version.clone()),
                    tarball: Some(crate::atom::Tarball {
                        hash: plan.entry.hash,
                        bytes: plan.entry.bytes,
                    }),
                    index: Some(Sha256::of(plan.manifest.to_index_line().as_bytes())),
                    payload: None,
                    release: release.cloned(),
                    owners: m.owners.clone().filter(|o| !o.is_empty()),
                };
                written.extend(super::write_metadata_recorded(
                    ctx, registry, &signers, &name, &m, record,
                )?);
                Ok(written)
            });
    let metadata = metadata.map_err(unfinished("the tarball is stored", "the metadata"))?;
    super::tuf::publish(ctx, signers.tuf.as_ref()).map_err(|e| {
        unfinished(
            "the tarball is stored and the metadata records it",
            "the TUF repository's copy in storage",
        )(e.into())
    })?;
    crate::fault::point("publish:metadata");

    let index_outcome = ctx
        .index
        .commit_change(
            &message,
            retry.landing(),
            |_| -> Result<Vec<PathBuf>, PublishError> {
                let mut file = index.read(&name)?.unwrap_or_default();
                file.insert(plan.manifest.clone())?;
                Ok(vec![index.write(&name, &file)?])
            },
        )
        .map_err(unfinished(
            "the tarball is stored and the metadata records it",
            "the index line",
        ))?;
    crate::fault::point("publish:index");

    // An earlier run's entry, if any, was accepted only because its hash (and so its
    // bytes) equals this plan's: the plan is what is recorded.
    let download_url = (ctx.config.storage_url.as_ref()).map(|u| u.of(&name, &version));
    Ok(PublishReport {
        name,
        version,
        hash: plan.entry.hash,
        bytes: plan.entry.bytes,
        files: plan.files,
        storage_key: plan.key.clone(),
        download_url,
        location: plan.location.clone(),
        build_plan: plan.build_plan.clone(),
        compilers,
        owners_signed_by,
        matrix: plan.matrix.clone(),
        storage,
        mirrors,
        metadata,
        index: index_outcome,
        warnings: plan.warnings.clone(),
        docs: None,
    })
}
