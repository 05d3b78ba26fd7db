//! `regis verify`: the whole registry checked as a client checks one release — every
//! target's bytes against its signed length and hash, every package's atoms as a chain
//! (one head, every atom of the package on it, each tarball's target naming the publish
//! atom that recorded it) — and, given the registry checkout, its metadata held to the
//! targets (a hand edit of a hash, a size or a publish time shows); and `--adopt`, which
//! lays down the TUF repository of a registry that has a root of trust and none yet,
//! listing what it already holds.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Serialize;
use tough::schema::Target;

use super::Context;
use super::client::{Client, ClientError};
use crate::atom::{AtomError, AtomId, AtomOperation, AtomTrust, SignedAtom};
use crate::schema::{PackageName, Sha256, Version};
use crate::storage::StorageKey;
use crate::store::RegistryDir;
use crate::trust::{self, Bins, Chain, TrustError};

/// What `regis verify` found.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    pub root: u64,
    pub timestamp: u64,
    pub snapshot: u64,
    pub targets: usize,
    pub tarballs: usize,
    pub atoms: usize,
    pub package_sets: usize,
    /// Packages whose atom chain verified.
    pub chains: usize,
    /// Metadata files held to the targets (with a registry checkout).
    pub metadata: usize,
    /// Targets storage does not serve (a registry adopted without its tarballs), sorted.
    pub missing: Vec<String>,
    /// What did not verify, one line each, sorted.
    pub problems: Vec<String>,
}

/// Checks every target of the loaded registry and, with `registry`, its metadata.
pub fn verify_all(client: &Client, registry: Option<&Path>) -> Result<Verification, ClientError> {
    let (timestamp, snapshot, _) = client.versions();
    let mut found = Verification {
        root: client.root().version.get(),
        timestamp,
        snapshot,
        ..Verification::default()
    };
    let targets = client.targets();
    found.targets = targets.len();
    let mut tarballs: BTreeMap<PackageName, BTreeMap<Version, &Target>> = BTreeMap::new();
    let mut atoms: BTreeMap<PackageName, BTreeSet<AtomId>> = BTreeMap::new();
    let mut problems = Vec::new();
    for (path, target) in &targets {
        if let Some((_, name, version)) = StorageKey::parse(path) {
            found.tarballs += 1;
            tarballs.entry(name).or_default().insert(version, target);
        } else if let Some((_, name)) = StorageKey::parse_atom(path) {
            found.atoms += 1;
            let id = path
                .rsplit('/')
                .next()
                .and_then(|f| f.strip_suffix(".json"));
            atoms
                .entry(name)
                .or_default()
                .extend(id.and_then(AtomId::parse));
            continue; // read with its chain
        } else if path.starts_with(crate::storage::PACKAGE_SETS_DIR) {
            found.package_sets += 1;
        } else {
            problems.push(format!(
                "`{}` is a target regis does not know",
                crate::text::value(path)
            ));
        }
        match client.read(path) {
            Ok(_) => {}
            Err(ClientError::TargetMissing { target }) => found.missing.push(target),
            Err(e) => problems.push(crate::error_chain(&e)),
        }
    }
    let heads = check_chains(client, &atoms, &tarballs, &mut found, &mut problems)?;
    if let Some(registry) = registry {
        check_metadata(registry, &tarballs, &heads, &mut found, &mut problems)?;
        check_sets(registry, &targets, &mut problems)?;
    }
    problems.sort();
    found.problems = problems;
    Ok(found)
}

/// Each package's atoms: one chain holding all of them, and each tarball target's atom a
/// publish of that tarball on it. The head of each chain.
fn check_chains(
    client: &Client,
    atoms: &BTreeMap<PackageName, BTreeSet<AtomId>>,
    tarballs: &BTreeMap<PackageName, BTreeMap<Version, &Target>>,
    found: &mut Verification,
    problems: &mut Vec<String>,
) -> Result<BTreeMap<PackageName, AtomId>, ClientError> {
    let mut heads = BTreeMap::new();
    for (name, ids) in atoms {
        // The head is the atom no other atom names as its previous one.
        let mut named = BTreeSet::new();
        for id in ids {
            let bytes = client.read(id.key(name).as_str());
            match bytes.map(|b| serde_json::from_slice::<SignedAtom>(&b)) {
                Ok(Ok(atom)) => named.extend(atom.signed.previous),
                Ok(Err(e)) => problems.push(format!(
                    "the atom `{id}` of `{name}` is not a signed atom: {}",
                    crate::text::message(&e.to_string())
                )),
                Err(e) => problems.push(crate::error_chain(&e)),
            }
        }
        let candidates: Vec<&AtomId> = ids.difference(&named).collect();
        let [head] = candidates.as_slice() else {
            problems.push(format!(
                "the atoms of `{name}` are not one chain: {} atoms no other atom names ({})",
                candidates.len(),
                candidates
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            continue;
        };
        let chain = match client.atom_chain(name, **head) {
            Ok(chain) => chain,
            Err(e) => {
                problems.push(crate::error_chain(&e));
                continue;
            }
        };
        found.chains += 1;
        heads.insert(name.clone(), **head);
        let on_chain: BTreeMap<AtomId, &SignedAtom> =
            chain.iter().map(|v| (v.id, &v.atom)).collect();
        for stray in ids.iter().filter(|id| !on_chain.contains_key(id)) {
            problems.push(format!(
                "the atom `{stray}` of `{name}` is not on its chain"
            ));
        }
        for (version, target) in tarballs.get(name).into_iter().flatten() {
            let Some(id) = target_atom(target) else {
                continue;
            };
            let recorded = on_chain.get(&id).map(|a| &a.signed);
            let publishes = recorded.is_some_and(|a| {
                a.operation == AtomOperation::Publish
                    && a.version.as_ref() == Some(version)
                    && a.tarball.is_some_and(|t| {
                        t.bytes == target.length
                            && t.hash.digest().as_slice() == target.hashes.sha256.as_ref()
                    })
            });
            if !publishes {
                problems.push(format!(
                    "the target of `{name}@{version}` names the atom `{id}`, which is not a publish of that tarball on the chain of `{name}`"
                ));
                continue;
            }
            // A release of a claimed package carries an owner's signature, as `fetch` checks.
            let at = chain.iter().position(|v| v.id == id).expect("on the chain");
            let hash = recorded.and_then(|a| a.tarball).expect("a publish").hash;
            if let Err(e) = super::client::check_release(name, version, &hash, &chain[at..]) {
                problems.push(crate::error_chain(&e));
            }
        }
    }
    for (name, versions) in tarballs {
        for (version, target) in versions {
            if target_atom(target).is_none() && atoms.contains_key(name) {
                problems.push(format!(
                    "the target of `{name}@{version}` names no atom, and `{name}` has atoms"
                ));
            }
        }
    }
    Ok(heads)
}

fn target_atom(target: &Target) -> Option<AtomId> {
    target.custom.get("atom")?.as_str().and_then(AtomId::parse)
}

/// The registry checkout's metadata held to the targets: each published version a target
/// with its size, hash and entry hash; no target for a version not published; the atom
/// head the registry records the chain's.
fn check_metadata(
    registry: &Path,
    tarballs: &BTreeMap<PackageName, BTreeMap<Version, &Target>>,
    heads: &BTreeMap<PackageName, AtomId>,
    found: &mut Verification,
    problems: &mut Vec<String>,
) -> Result<(), ClientError> {
    let dir = RegistryDir::new(registry);
    let all = dir.all_metadata().map_err(AtomError::from)?;
    let empty = BTreeMap::new();
    for (name, m) in &all {
        found.metadata += 1;
        let targets = tarballs.get(name).unwrap_or(&empty);
        for (version, entry) in &m.published {
            let Some(target) = targets.get(version) else {
                problems.push(format!(
                    "metadata of `{name}` records `{version}` as published, and no target lists it"
                ));
                continue;
            };
            let hash_matches = entry.hash.digest().as_slice() == target.hashes.sha256.as_ref();
            if !hash_matches || entry.bytes != target.length {
                problems.push(format!(
                    "metadata of `{name}` records `{version}` as `{}` ({} bytes); its target is `{}` ({} bytes)",
                    entry.hash,
                    entry.bytes,
                    Sha256::from_digest(
                        target.hashes.sha256.as_ref().try_into().unwrap_or([0; 32])
                    ),
                    target.length
                ));
            }
            let signed_entry = target.custom.get("entry").and_then(|v| v.as_str());
            let entry_now = super::tuf::entry_hash(m, version).map(|h| h.to_string());
            if signed_entry.is_some() && signed_entry != entry_now.as_deref() {
                problems.push(format!(
                    "metadata of `{name}` changed the entry of `{version}` after it was signed (its publish time, ref, compilers, size or hash)"
                ));
            }
        }
        for version in targets.keys() {
            if !m.published.contains_key(version) {
                problems.push(format!(
                    "a target lists `{name}@{version}`, and metadata does not record it as published"
                ));
            }
        }
        let recorded = dir.read_atom_head(name).map_err(AtomError::from)?;
        let recorded = recorded.as_deref().and_then(AtomId::parse);
        if let (Some(recorded), Some(head)) = (recorded, heads.get(name))
            && recorded != *head
        {
            problems.push(format!(
                "the registry records `{recorded}` as the last atom of `{name}`; the signed chain ends at `{head}`"
            ));
        }
    }
    for name in tarballs.keys().filter(|n| !all.contains_key(*n)) {
        problems.push(format!(
            "targets list versions of `{name}`, which has no metadata"
        ));
    }
    Ok(())
}

/// Each package set of the checkout is a target with its bytes.
fn check_sets(
    registry: &Path,
    targets: &BTreeMap<String, Target>,
    problems: &mut Vec<String>,
) -> Result<(), ClientError> {
    let dir = RegistryDir::new(registry);
    for (version, (path, _)) in dir.package_sets().map_err(AtomError::from)? {
        let key = StorageKey::package_set(&version);
        let Some(target) = targets.get(key.as_str()) else {
            problems.push(format!("package set `{version}` is not a target"));
            continue;
        };
        let bytes = crate::store::read_optional(&registry.join(path))
            .map_err(AtomError::from)?
            .unwrap_or_default();
        let hash = Sha256::of(bytes.as_bytes());
        if hash.digest().as_slice() != target.hashes.sha256.as_ref()
            || bytes.len() as u64 != target.length
        {
            problems.push(format!(
                "package set `{version}` in the registry checkout is not the one its target lists"
            ));
        }
    }
    Ok(())
}

/// Why `--adopt` could not lay the repository down.
#[derive(Debug, thiserror::Error)]
pub enum AdoptError {
    #[error(transparent)]
    Atom(#[from] AtomError),
    #[error(transparent)]
    Git(#[from] crate::git::GitError),
    #[error(
        "storage holds other tarballs than metadata records, so no target is signed: {}",
        crate::text::list(problems)
    )]
    Mismatch { problems: Vec<String> },
}

impl From<TrustError> for AdoptError {
    fn from(e: TrustError) -> AdoptError {
        AdoptError::Atom(AtomError::Trust(e))
    }
}

impl From<crate::store::StoreError> for AdoptError {
    fn from(e: crate::store::StoreError) -> AdoptError {
        AdoptError::Atom(AtomError::Store(e))
    }
}

impl From<crate::storage::StorageError> for AdoptError {
    fn from(e: crate::storage::StorageError) -> AdoptError {
        AdoptError::Atom(AtomError::Storage(e))
    }
}

/// What `--adopt` listed.
#[derive(Debug, Clone, Default)]
pub struct Adopted {
    pub bins: u64,
    pub tarballs: usize,
    /// Published versions whose tarball storage does not hold: listed with metadata's
    /// size and hash all the same (a client fetching one finds it missing).
    pub missing: Vec<String>,
    pub atoms: usize,
    pub package_sets: usize,
    pub commit: Option<crate::git::CommitOutcome>,
    pub published: Option<super::tuf::Published>,
}

/// Lays down the TUF repository of the registry in `ctx` (which has a root of trust and
/// no repository yet): a target for every published version (size and hash from
/// metadata, checked against storage's bytes where storage holds them; the entry's hash
/// and its publish atom's id in `custom`), every atom of every package's chain, every
/// package set (copied to storage); one commit, then the copy to storage.
pub fn adopt(ctx: &Context<'_>) -> Result<Adopted, AdoptError> {
    ctx.registry.sync()?;
    let workdir = ctx.registry.workdir();
    let tuf = super::tuf::tuf_signer(ctx.config, workdir)?;
    if trust::repository_exists(workdir) {
        return Err(TrustError::AlreadyInitialized {
            path: workdir.join(trust::TARGETS_FILE).display().to_string(),
        }
        .into());
    }
    let bins = Bins::new(ctx.config.trust_hash_bins).unwrap_or(Bins::DEFAULT);
    let mut adopted = Adopted {
        bins: bins.count(),
        ..Adopted::default()
    };
    let retry = ctx.config.push_retry();
    let commit = ctx.registry.commit_change(
        "Adopt the registry into TUF: a signed target for every release, atom and package set",
        retry,
        |root| -> Result<Vec<std::path::PathBuf>, AdoptError> {
            let (targets, counts) = adoptable(ctx, root, &tuf.chain)?;
            adopted = Adopted {
                commit: None,
                published: None,
                ..counts
            };
            adopted.bins = bins.count();
            Ok(trust::create_repository(
                root,
                &tuf.chain.latest().signed,
                &tuf.online,
                bins,
                super::tuf::jiff_time(ctx.now),
                targets,
            )?)
        },
    )?;
    adopted.commit = Some(commit);
    adopted.published = super::tuf::publish(ctx, Some(&tuf))?;
    Ok(adopted)
}

/// The targets of what the registry at `root` holds, and their counts.
fn adoptable(
    ctx: &Context<'_>,
    root: &Path,
    chain: &Chain,
) -> Result<(Vec<(String, Target)>, Adopted), AdoptError> {
    let dir = RegistryDir::new(root);
    let mut targets = Vec::new();
    let mut counts = Adopted::default();
    let mut mismatched = Vec::new();
    let trust =
        AtomTrust::of_chain(chain.roots()).map_err(|(version, reason)| TrustError::ParseRoot {
            path: root_path(root, version),
            reason,
        })?;
    for (name, m) in dir.all_metadata()? {
        // The publish atom of each version, from the chain the registry records.
        let mut publish_atoms: BTreeMap<Version, AtomId> = BTreeMap::new();
        if let Some(text) = dir.read_atom_head(&name)? {
            let head = AtomId::parse(&text).ok_or_else(|| AtomError::BadHead {
                name: name.clone(),
                text: crate::text::echo(&text).to_string(),
            })?;
            let atoms = crate::atom::verify_chain(
                ctx.storage,
                &name,
                head,
                &trust,
                dir.read_metadata_text(&name)?.as_deref().map(str::as_bytes),
            )?;
            for verified in atoms.iter().rev() {
                let key = verified.id.key(&name);
                let bytes = ctx.storage.get(&key)?.unwrap_or_default();
                targets.push((
                    key.as_str().to_owned(),
                    trust::target(&Sha256::of(&bytes), bytes.len() as u64, BTreeMap::new()),
                ));
                counts.atoms += 1;
                let atom = &verified.atom.signed;
                if let (AtomOperation::Publish, Some(version)) = (atom.operation, &atom.version) {
                    publish_atoms.insert(version.clone(), verified.id);
                }
            }
        }
        for (version, entry) in &m.published {
            let key = StorageKey::tarball(&name, version);
            match ctx.storage.get(&key)? {
                None => counts.missing.push(format!("{name}@{version}")),
                Some(bytes)
                    if Sha256::of(&bytes) != entry.hash || bytes.len() as u64 != entry.bytes =>
                {
                    mismatched.push(format!(
                        "`{name}@{version}` is `{}` ({} bytes) in storage and `{}` ({} bytes) in metadata",
                        Sha256::of(&bytes),
                        bytes.len(),
                        entry.hash,
                        entry.bytes,
                    ));
                }
                Some(_) => {}
            }
            let mut custom = BTreeMap::new();
            if let Some(hash) = super::tuf::entry_hash(&m, version) {
                custom.insert(
                    "entry".to_owned(),
                    serde_json::Value::String(hash.to_string()),
                );
            }
            if let Some(id) = publish_atoms.get(version) {
                custom.insert("atom".to_owned(), serde_json::Value::String(id.to_string()));
            }
            targets.push((
                key.as_str().to_owned(),
                trust::target(&entry.hash, entry.bytes, custom),
            ));
            counts.tarballs += 1;
        }
    }
    if !mismatched.is_empty() {
        return Err(AdoptError::Mismatch {
            problems: mismatched,
        });
    }
    for (version, (path, _)) in dir.package_sets()? {
        let bytes = crate::store::read_optional(&root.join(path))?.unwrap_or_default();
        let key = StorageKey::package_set(&version);
        ctx.storage.put(&key, bytes.as_bytes())?;
        targets.push((
            key.as_str().to_owned(),
            trust::target(
                &Sha256::of(bytes.as_bytes()),
                bytes.len() as u64,
                BTreeMap::new(),
            ),
        ));
        counts.package_sets += 1;
    }
    Ok((targets, counts))
}

fn root_path(registry: &Path, version: u64) -> String {
    registry
        .join(trust::ROOT_DIR)
        .join(trust::root_file_name(version))
        .display()
        .to_string()
}
