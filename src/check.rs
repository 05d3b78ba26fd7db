//! Auditing a registry: every document in canonical form, metadata and index in agreement,
//! dependencies satisfiable, package sets consistent, one package at each location, and
//! (optionally) storage intact, with each package's atom chain verified and what metadata and
//! the index say of each published version compared with what its atoms recorded.
//! A broken file is a finding, not a stop: the audit reads everything it can.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use crate::atom::{AtomError, AtomId, AtomTrust, Verified};
use crate::index::IndexFile;
use crate::manifest::Manifest;
use crate::metadata::Metadata;
use crate::package_set::PackageSet;
use crate::schema::{Location, PackageName, Range, Sha256, Version, writes_exactly};
use crate::storage::{Fetched, ListedKind, Storage, StorageKey, Stores};
use crate::store::{
    ATOM_HEADS_DIR, IndexDir, LOCATIONS_DIR, METADATA_DIR, PACKAGE_SETS_DIR, RegistryDir,
    StoreError, index_file_name, list_dir,
};
use crate::trust::KeySource;

/// What kind of problem a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    /// A file that cannot be parsed.
    Unreadable,
    /// A file not at the path its contents or name require.
    Misplaced,
    /// A file whose bytes differ from the canonical serialization of its contents.
    NonCanonical,
    /// A published version with no index line.
    MissingFromIndex,
    /// An index line for a version that is not published.
    NotPublished,
    /// A version listed as both published and unpublished in metadata.
    PublishedAndUnpublished,
    /// A version listed under `yanked` in metadata that is not under `published`.
    YankedNotPublished,
    /// A tag under `aliases` in metadata naming a version that is not under `published`.
    AliasNotPublished,
    /// A deprecation whose `alternative` names a package the registry does not have.
    UnknownAlternative,
    /// A dependency range that no indexed version satisfies.
    UnsatisfiableDependency,
    /// A package set naming a version that is not published or not indexed.
    SetMemberNotPublished,
    /// A package set member depending on a package that is not in the set.
    SetMissingDependency,
    /// A published version whose tarball is not in storage.
    MissingTarball,
    /// A stored tarball whose size or hash differs from metadata.
    TarballMismatch,
    /// A stored tarball no metadata records (a publish that did not land, an unpublish that
    /// did not finish): `regis gc` removes it.
    OrphanTarball,
    /// A temporary file an interrupted storage write left behind.
    InterruptedWrite,
    /// A file in storage that is not a tarball under its key.
    UnexpectedFile,
    /// The location lookup (`locations/`) disagrees with metadata: a package's place with
    /// no entry or another package's, or an entry no package's place has.
    LocationLookup,
    /// Two packages whose metadata claim one location (a location holds one package).
    SharedLocation,
    /// A package's atom chain that does not verify from its head (`atoms/<name>`): an atom
    /// missing, altered, not signed by the atom keys or of another package, or the head not
    /// an atom id; or no atom keys to check the chains with.
    AtomChain,
    /// A metadata file whose SHA-256 is not the one its package's last atom recorded: the
    /// file was changed (or removed) outside an operation.
    MetadataChanged,
    /// A version whose tarball hash or size, or publish time, in metadata differs from what
    /// its publish atom recorded, or that metadata no longer lists at all.
    VersionChanged,
    /// An index line whose SHA-256 differs from the one its version's publish atom recorded.
    IndexLineChanged,
}

/// One problem: which file, package and version, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Finding {
    pub file: String,
    pub package: Option<PackageName>,
    pub version: Option<Version>,
    pub kind: FindingKind,
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.file)?;
        match (&self.package, &self.version) {
            (Some(p), Some(v)) => write!(f, "`{p}@{v}`: ")?,
            (Some(p), None) => write!(f, "`{p}`: ")?,
            _ => {}
        }
        f.write_str(&self.message)
    }
}

/// The audit's result.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub packages: usize,
    pub versions: usize,
    pub index_files: usize,
    pub package_sets: usize,
    pub tarballs_checked: usize,
    /// Packages whose atom chain was read from storage and compared (with storage only).
    pub atom_chains: usize,
    /// Tarballs the primary storage lacks that a mirror holds with the recorded hash (not
    /// findings: readers fall back to the mirror; `regis storage sync` copies them back).
    pub from_mirrors: Vec<MirrorRead>,
}

/// A published version's tarball read from a mirror because the primary storage lacks it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MirrorRead {
    pub package: PackageName,
    pub version: Version,
    /// The mirror, as [`crate::storage::Storage::describe`] names it.
    pub mirror: String,
}

impl Report {
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }
}

/// The audit could not run at all (as opposed to finding problems).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("`{0}` is not a directory: expected the {1} checkout")]
    NotADirectory(std::path::PathBuf, &'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
}

/// The findings of one file or one cross-check, gathered where they are found and merged
/// (then sorted) at the end, so the order work is done in never shows in the report.
#[derive(Default)]
struct Found(Vec<Finding>);

impl Found {
    fn add(
        &mut self,
        kind: FindingKind,
        file: &str,
        package: Option<&PackageName>,
        version: Option<&Version>,
        message: String,
    ) {
        self.0.push(Finding {
            file: file.to_owned(),
            package: package.cloned(),
            version: version.cloned(),
            kind,
            message,
        });
    }

    /// A `NonCanonical` finding when `original` is not `canonical` (built only once the
    /// streaming comparison has found a difference: the line it names needs both texts).
    fn canonical(
        &mut self,
        file: &str,
        package: Option<&PackageName>,
        original: &str,
        canonical: &str,
    ) {
        if original != canonical {
            let line = first_difference(original, canonical);
            self.add(
                FindingKind::NonCanonical,
                file,
                package,
                None,
                format!("not in canonical form (first difference on line {line}): expected the bytes regis writes"),
            );
        }
    }
}

fn first_difference(a: &str, b: &str) -> usize {
    let mut la = a.split_inclusive('\n');
    let mut lb = b.split_inclusive('\n');
    let mut n = 1;
    loop {
        match (la.next(), lb.next()) {
            (Some(x), Some(y)) if x == y => n += 1,
            _ => return n,
        }
    }
}

/// Audit `registry` and `index`, and `storage` when given: its tarballs, and the atom
/// chain of each package that has one, checked against the atom keys of the registry's
/// root of trust or, without one, `atom_key` (the configured `trustAtomKey`).
///
/// Files are read and parsed in parallel (rayon), one at a time per thread, and only what
/// the cross-checks need is kept of each: published and unpublished versions (with size
/// and hash) of a metadata file, versions and dependency ranges of an index file. The
/// package sets are read first and indexed once, so a member's dependencies are checked
/// while its index file is parsed. Findings do not depend on the number of threads.
pub fn run(
    registry: &RegistryDir,
    index: &IndexDir,
    storage: Option<Stores<'_>>,
    atom_key: Option<&KeySource>,
) -> Result<Report, CheckError> {
    for (dir, what) in [(registry.root(), "registry"), (index.root(), "index")] {
        if !dir.is_dir() {
            return Err(CheckError::NotADirectory(dir.to_path_buf(), what));
        }
    }
    let mut found = Found::default();
    let sets = load_package_sets(registry, &mut found)?;
    let metadata = load_metadata(registry, &mut found)?;
    let index_dir = index;
    let mut index = load_index(index, &sets, &mut found)?;

    compare_metadata_and_index(&metadata, &index, &mut found);
    check_alternatives(&metadata, &mut found);
    check_shared_locations(&metadata, &mut found);
    check_dependencies(&index, &mut found);
    for (file, set) in &sets {
        check_package_set(file, set, &metadata, &index, &mut found);
    }
    found.0.extend(
        std::mem::take(&mut index.set_findings)
            .into_iter()
            .filter(|f| {
                f.package
                    .as_ref()
                    .is_none_or(|p| !metadata.unreadable.contains(p))
            }),
    );
    if registry.has_location_lookup() {
        check_location_lookup(registry, &metadata, &mut found)?;
    }
    let (mut tarballs_checked, mut atom_chains, mut from_mirrors) = (0, 0, Vec::new());
    if let Some(stores) = storage {
        tarballs_checked = check_storage(stores, &metadata, &mut found, &mut from_mirrors)?;
        let atoms = Atoms {
            registry,
            index: index_dir,
            storage: stores.primary,
            atom_key,
        };
        atom_chains = atoms.check(&metadata, &mut found)?;
    }

    let mut findings = found.0;
    findings.par_sort();
    Ok(Report {
        findings,
        packages: metadata.loaded.len(),
        versions: metadata.loaded.values().map(|m| m.published.len()).sum(),
        index_files: index.loaded_count(),
        package_sets: sets.len(),
        tarballs_checked,
        atom_chains,
        from_mirrors,
    })
}

/// A file's text, read into `buf` (one buffer a thread reuses for file after file), or
/// `None` with an `Unreadable` finding when it is not UTF-8.
fn read_text<'b>(
    path: &Path,
    file: &str,
    package: Option<&PackageName>,
    buf: &'b mut Vec<u8>,
    found: &mut Found,
) -> Result<Option<&'b str>, CheckError> {
    buf.clear();
    std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_to_end(&mut f, buf))
        .map_err(|source| StoreError::Io {
            action: "read",
            path: path.to_path_buf(),
            source,
        })?;
    match std::str::from_utf8(buf) {
        Ok(text) => Ok(Some(text)),
        Err(_) => {
            found.add(
                FindingKind::Unreadable,
                file,
                package,
                None,
                "not UTF-8 text".into(),
            );
            Ok(None)
        }
    }
}

/// What the cross-checks need of one package's metadata.
struct MetaSummary {
    file: String,
    location: Location,
    /// Ascending, with the tarball size and hash recorded for each.
    published: Vec<(Version, u64, Sha256)>,
    /// Ascending.
    unpublished: Vec<Version>,
    /// The package a deprecation points to instead, if any.
    alternative: Option<PackageName>,
}

impl MetaSummary {
    fn publishes(&self, version: &Version) -> bool {
        self.published
            .binary_search_by(|(v, _, _)| v.cmp(version))
            .is_ok()
    }

    fn unpublishes(&self, version: &Version) -> bool {
        self.unpublished.binary_search(version).is_ok()
    }
}

/// Every metadata file, summarised.
struct Metadatas {
    loaded: BTreeMap<PackageName, MetaSummary>,
    /// Packages whose metadata file could not be read: not cross-checked again.
    unreadable: BTreeSet<PackageName>,
}

/// What reading one metadata file gave.
enum MetaRead {
    Loaded(PackageName, MetaSummary),
    Unreadable(PackageName),
    Misplaced,
}

fn load_metadata(registry: &RegistryDir, found: &mut Found) -> Result<Metadatas, CheckError> {
    let names = list_dir(&registry.root().join(METADATA_DIR))?;
    let read: Vec<_> = names
        .par_iter()
        .map_init(Vec::new, |buf, file_name| {
            let mut found = Found::default();
            let read = read_metadata(registry.root(), file_name, buf, &mut found)?;
            Ok::<_, CheckError>((found, read))
        })
        .collect();
    let mut out = Metadatas {
        loaded: BTreeMap::new(),
        unreadable: BTreeSet::new(),
    };
    for result in read {
        let (file_found, read) = result?;
        found.0.extend(file_found.0);
        match read {
            MetaRead::Loaded(name, m) => {
                out.loaded.insert(name, m);
            }
            MetaRead::Unreadable(name) => {
                out.unreadable.insert(name);
            }
            MetaRead::Misplaced => {}
        }
    }
    Ok(out)
}

fn read_metadata(
    root: &Path,
    file_name: &str,
    buf: &mut Vec<u8>,
    found: &mut Found,
) -> Result<MetaRead, CheckError> {
    let file = format!("{METADATA_DIR}/{file_name}");
    let name = match file_name
        .strip_suffix(".json")
        .map(str::parse::<PackageName>)
    {
        Some(Ok(name)) => name,
        Some(Err(e)) => {
            found.add(
                FindingKind::Misplaced,
                &file,
                None,
                None,
                format!("not named after a package: {e}"),
            );
            return Ok(MetaRead::Misplaced);
        }
        None => {
            found.add(
                FindingKind::Misplaced,
                &file,
                None,
                None,
                "expected `<package>.json`".into(),
            );
            return Ok(MetaRead::Misplaced);
        }
    };
    let Some(text) = read_text(&root.join(&file), &file, Some(&name), buf, found)? else {
        return Ok(MetaRead::Unreadable(name));
    };
    let m = match Metadata::from_json(&file, text) {
        Ok(m) => m,
        Err(e) => {
            found.add(
                FindingKind::Unreadable,
                &file,
                Some(&name),
                None,
                e.to_string(),
            );
            return Ok(MetaRead::Unreadable(name));
        }
    };
    if !writes_exactly(&m, true, text.as_bytes()) {
        found.canonical(&file, Some(&name), text, &m.to_json());
    }
    for version in m
        .published
        .keys()
        .filter(|v| m.unpublished.contains_key(*v))
    {
        found.add(
            FindingKind::PublishedAndUnpublished,
            &file,
            Some(&name),
            Some(version),
            "listed as both published and unpublished".into(),
        );
    }
    for version in m.yanked.keys().filter(|v| !m.published.contains_key(*v)) {
        let what = if m.unpublished.contains_key(version) {
            "yanked, but the version is unpublished: expected only published versions under `yanked`"
        } else {
            "yanked, but the version is not published: expected only published versions under `yanked`"
        };
        found.add(
            FindingKind::YankedNotPublished,
            &file,
            Some(&name),
            Some(version),
            what.into(),
        );
    }
    for (tag, version) in (m.aliases.iter()).filter(|(_, v)| !m.published.contains_key(*v)) {
        let state = if m.unpublished.contains_key(version) {
            "unpublished"
        } else {
            "not published"
        };
        found.add(
            FindingKind::AliasNotPublished,
            &file,
            Some(&name),
            Some(version),
            format!(
                "the tag `{tag}` names it, but the version is {state}: expected tags to name published versions only"
            ),
        );
    }
    let summary = MetaSummary {
        published: m
            .published
            .into_iter()
            .map(|(v, p)| (v, p.bytes, p.hash))
            .collect(),
        unpublished: m.unpublished.into_keys().collect(),
        alternative: m.deprecated.and_then(|d| d.alternative),
        location: m.location,
        file,
    };
    Ok(MetaRead::Loaded(name, summary))
}

/// What the cross-checks need of one package's index file.
struct Indexed {
    /// Ascending.
    versions: Vec<Version>,
    /// The dependencies on indexed packages (by position in `IndexSummary::names`) with
    /// their ranges, of each version in turn; a dependency on a package with no index file
    /// is reported while the file is read.
    dependencies: Vec<(u32, Range)>,
    /// Where each version's dependencies end in `dependencies`.
    ends: Vec<u32>,
}

impl Indexed {
    /// Each version with its dependencies.
    fn versions_with_dependencies(&self) -> impl Iterator<Item = (&Version, &[(u32, Range)])> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        let spans = starts
            .zip(&self.ends)
            .map(|(start, &end)| start as usize..end as usize);
        self.versions
            .iter()
            .zip(spans.map(|span| &self.dependencies[span]))
    }

    fn has(&self, version: &Version) -> bool {
        self.versions.binary_search(version).is_ok()
    }

    /// Whether some version is in `range` (`IndexView::best_in_range` is `Some`): the
    /// highest version below the upper bound, if it is not below the lower one.
    fn satisfies(&self, range: &Range) -> bool {
        let below = self.versions.partition_point(|v| v < range.upper());
        below > 0 && &self.versions[below - 1] >= range.lower()
    }
}

enum IndexState {
    Loaded(Indexed),
    /// The file could not be read: not cross-checked again (its versions are unknown, not
    /// missing).
    Unreadable,
}

/// Every index file at its right path, summarised, by package name.
struct IndexSummary {
    /// Ascending; the packages whose index file sits at its path, read or not.
    names: Vec<PackageName>,
    states: Vec<IndexState>,
    /// `SetMissingDependency` findings, found while reading the members' index files; kept
    /// apart because a member whose metadata is unreadable is not reported.
    set_findings: Vec<Finding>,
}

impl IndexSummary {
    fn state(&self, name: &PackageName) -> Option<&IndexState> {
        let i = self.names.binary_search(name).ok()?;
        Some(&self.states[i])
    }

    fn loaded(&self, name: &PackageName) -> Option<&Indexed> {
        match self.state(name)? {
            IndexState::Loaded(f) => Some(f),
            IndexState::Unreadable => None,
        }
    }

    fn unreadable(&self, name: &PackageName) -> bool {
        matches!(self.state(name), Some(IndexState::Unreadable))
    }

    fn loaded_count(&self) -> usize {
        self.states
            .iter()
            .filter(|s| matches!(s, IndexState::Loaded(_)))
            .count()
    }
}

/// What reading an index file looks up, built once and shared by every thread.
struct Lookups<'a> {
    root: &'a Path,
    /// Each indexed package's position in `IndexSummary::names`, looked up for every
    /// dependency of every version (hashed: a binary search over a hundred thousand names
    /// costs more).
    positions: HashMap<&'a PackageName, u32>,
    sets: &'a [(String, PackageSet)],
    /// Which package sets hold a package (by position in `sets`), and at which version.
    members: HashMap<&'a PackageName, Vec<(usize, &'a Version)>>,
}

fn load_index(
    index: &IndexDir,
    sets: &[(String, PackageSet)],
    found: &mut Found,
) -> Result<IndexSummary, CheckError> {
    let mut listed: Vec<(PackageName, String)> = Vec::new();
    for rel in index.files()? {
        match index_file_name(&rel) {
            Ok(name) => listed.push((name, rel)),
            Err(e) => found.add(FindingKind::Misplaced, &rel, None, None, e.to_string()),
        }
    }
    // One path per name (`index_file_name` checks it), so names are distinct.
    listed.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let names: Vec<PackageName> = listed.iter().map(|(n, _)| n.clone()).collect();
    let mut lookups = Lookups {
        root: index.root(),
        positions: (0..).zip(&names).map(|(i, n)| (n, i)).collect(),
        sets,
        members: HashMap::new(),
    };
    for (i, (_, set)) in sets.iter().enumerate() {
        for (name, version) in &set.packages {
            lookups.members.entry(name).or_default().push((i, version));
        }
    }
    let read: Vec<_> = listed
        .par_iter()
        .map_init(Vec::new, |buf, (name, rel)| {
            let mut found = Found::default();
            let mut set_found = Found::default();
            let state = read_index_file(&lookups, rel, name, buf, &mut found, &mut set_found)?;
            Ok::<_, CheckError>((found, set_found, state))
        })
        .collect();
    let mut out = IndexSummary {
        names,
        states: Vec::with_capacity(read.len()),
        set_findings: Vec::new(),
    };
    for result in read {
        let (file_found, set_found, state) = result?;
        found.0.extend(file_found.0);
        out.set_findings.extend(set_found.0);
        out.states.push(state);
    }
    Ok(out)
}

fn read_index_file(
    lookups: &Lookups,
    rel: &str,
    name: &PackageName,
    buf: &mut Vec<u8>,
    found: &mut Found,
    set_found: &mut Found,
) -> Result<IndexState, CheckError> {
    let path = lookups.root.join(rel);
    let Some(text) = read_text(&path, rel, Some(name), buf, found)? else {
        return Ok(IndexState::Unreadable);
    };
    let f = match IndexFile::parse(rel, name, text) {
        Ok(f) => f,
        Err(e) => {
            found.add(
                FindingKind::Unreadable,
                rel,
                Some(name),
                None,
                e.to_string(),
            );
            return Ok(IndexState::Unreadable);
        }
    };
    if !index_text_is_canonical(&f, text) {
        found.canonical(rel, Some(name), text, &f.to_text());
    }
    let in_sets = lookups.members.get(name).map_or(&[][..], Vec::as_slice);
    let versions: Vec<Version> = f.versions().cloned().collect();
    let mut out = Indexed {
        ends: Vec::with_capacity(versions.len()),
        versions,
        dependencies: Vec::new(),
    };
    for m in f.manifests() {
        for (dep, range) in &m.dependencies {
            match lookups.positions.get(dep) {
                Some(&i) => out.dependencies.push((i, range.clone())),
                None => found.add(
                    FindingKind::UnsatisfiableDependency,
                    rel, // `entry_path(name)`, as `index_file_name` checked
                    Some(name),
                    Some(&m.version),
                    format!("depends on `{dep}`, which is not in the index"),
                ),
            }
        }
        for (i, _) in in_sets.iter().filter(|(_, v)| **v == m.version) {
            let (file, set) = &lookups.sets[*i];
            missing_from_set(file, set, m, set_found);
        }
        let end = u32::try_from(out.dependencies.len()).expect("fewer than 2^32 dependencies");
        out.ends.push(end);
    }
    Ok(IndexState::Loaded(out))
}

/// Whether `text` is exactly `f.to_text()`, compared line by line as each line is written.
fn index_text_is_canonical(f: &IndexFile, text: &str) -> bool {
    let mut lines = text.split_inclusive('\n');
    f.manifests().all(|m| {
        lines
            .next()
            .is_some_and(|line| writes_exactly(m, false, line.as_bytes()))
    }) && lines.next().is_none()
}

fn load_package_sets(
    registry: &RegistryDir,
    found: &mut Found,
) -> Result<Vec<(String, PackageSet)>, CheckError> {
    let (mut out, mut buf) = (Vec::new(), Vec::new());
    for file_name in list_dir(&registry.root().join(PACKAGE_SETS_DIR))? {
        let rel = format!("{PACKAGE_SETS_DIR}/{file_name}");
        let Some(text) = read_text(&registry.root().join(&rel), &rel, None, &mut buf, found)?
        else {
            continue;
        };
        match PackageSet::from_json(&rel, text) {
            Ok(set) => {
                if !writes_exactly(&set, true, text.as_bytes()) {
                    found.canonical(&rel, None, text, &set.to_json());
                }
                if set.file_name() != rel {
                    found.add(
                        FindingKind::Misplaced,
                        &rel,
                        None,
                        Some(&set.version),
                        format!(
                            "package set `{}` belongs at `{}`",
                            set.version,
                            set.file_name()
                        ),
                    );
                }
                out.push((rel, set));
            }
            Err(e) => found.add(FindingKind::Unreadable, &rel, None, None, e.to_string()),
        }
    }
    Ok(out)
}

/// A deprecation's `alternative` must be a package the registry has (one whose metadata
/// could not be read counts: it is reported on its own).
fn check_alternatives(metadata: &Metadatas, found: &mut Found) {
    for (name, m) in &metadata.loaded {
        let Some(alternative) = &m.alternative else {
            continue;
        };
        if !metadata.loaded.contains_key(alternative) && !metadata.unreadable.contains(alternative)
        {
            found.add(
                FindingKind::UnknownAlternative,
                &m.file,
                Some(name),
                None,
                format!(
                    "deprecated in favour of `{alternative}`, which has no metadata: expected a package the registry has"
                ),
            );
        }
    }
}

fn compare_metadata_and_index(metadata: &Metadatas, index: &IndexSummary, found: &mut Found) {
    for (name, m) in &metadata.loaded {
        if index.unreadable(name) {
            continue; // already reported; its versions are unknown, not missing
        }
        let indexed = index.loaded(name);
        for (version, _, _) in &m.published {
            if !indexed.is_some_and(|f| f.has(version)) {
                found.add(
                    FindingKind::MissingFromIndex,
                    &m.file,
                    Some(name),
                    Some(version),
                    format!(
                        "published in metadata but has no line in `{}`",
                        crate::index::entry_path(name)
                    ),
                );
            }
        }
    }
    for (name, state) in index.names.iter().zip(&index.states) {
        let IndexState::Loaded(f) = state else {
            continue;
        };
        if metadata.unreadable.contains(name) {
            continue;
        }
        let path = crate::index::entry_path(name);
        let m = metadata.loaded.get(name);
        for version in &f.versions {
            let message = match m {
                None => "indexed, but the package has no metadata".to_owned(),
                Some(m) if m.unpublishes(version) => {
                    "indexed, but the version is unpublished".to_owned()
                }
                Some(m) if !m.publishes(version) => {
                    "indexed, but not published in metadata".to_owned()
                }
                Some(_) => continue,
            };
            found.add(
                FindingKind::NotPublished,
                &path,
                Some(name),
                Some(version),
                message,
            );
        }
    }
}

/// Each indexed dependency range some indexed version of its package satisfies (ranges on
/// packages with no index file were reported while reading).
fn check_dependencies(index: &IndexSummary, found: &mut Found) {
    let per_package: Vec<Found> = index
        .names
        .par_iter()
        .zip(&index.states)
        .map(|(name, state)| {
            let mut found = Found::default();
            let IndexState::Loaded(f) = state else {
                return found;
            };
            for (version, deps) in f.versions_with_dependencies() {
                for (dep, range) in deps {
                    let IndexState::Loaded(d) = &index.states[*dep as usize] else {
                        continue; // its file is unreadable: reported once, as that
                    };
                    if !d.satisfies(range) {
                        let dep = &index.names[*dep as usize];
                        found.add(
                            FindingKind::UnsatisfiableDependency,
                            &crate::index::entry_path(name),
                            Some(name),
                            Some(version),
                            format!(
                                "depends on `{dep}` `{range}`, but no indexed version of `{dep}` is in that range"
                            ),
                        );
                    }
                }
            }
            found
        })
        .collect();
    found.0.extend(per_package.into_iter().flat_map(|f| f.0));
}

/// Whether each member of `set` is published and indexed; a member's dependencies missing
/// from the set were found while its index file was read (`missing_from_set`).
fn check_package_set(
    file: &str,
    set: &PackageSet,
    metadata: &Metadatas,
    index: &IndexSummary,
    found: &mut Found,
) {
    for (name, version) in &set.packages {
        if metadata.unreadable.contains(name) || index.unreadable(name) {
            continue;
        }
        let published = metadata
            .loaded
            .get(name)
            .is_some_and(|m| m.publishes(version));
        if !index.loaded(name).is_some_and(|f| f.has(version)) {
            let what = if published {
                "published but not indexed"
            } else {
                "not published"
            };
            found.add(
                FindingKind::SetMemberNotPublished,
                file,
                Some(name),
                Some(version),
                format!("in package set `{}`, but {what}", set.version),
            );
            continue;
        }
        if !published {
            found.add(
                FindingKind::SetMemberNotPublished,
                file,
                Some(name),
                Some(version),
                format!(
                    "in package set `{}`, but not published in metadata",
                    set.version
                ),
            );
        }
    }
}

/// The dependencies of `manifest`, a member of `set`, that the set does not hold.
fn missing_from_set(file: &str, set: &PackageSet, manifest: &Manifest, found: &mut Found) {
    let missing: Vec<String> = manifest
        .dependencies
        .keys()
        .filter(|d| !set.packages.contains_key(*d))
        .map(|d| format!("`{d}`"))
        .collect();
    if !missing.is_empty() {
        found.add(
            FindingKind::SetMissingDependency,
            file,
            Some(&manifest.name),
            Some(&manifest.version),
            format!(
                "depends on {}, missing from package set `{}`",
                missing.join(", "),
                set.version
            ),
        );
    }
}

/// Every package's place has its entry in the location lookup, naming it, and every entry
/// is a package's place. The entries are read in parallel, as the other files are.
fn check_location_lookup(
    registry: &RegistryDir,
    metadata: &Metadatas,
    found: &mut Found,
) -> Result<(), CheckError> {
    // Each place's packages: more than one is a `SharedLocation` finding, and an entry
    // naming any of them is not reported again.
    let mut expected: BTreeMap<String, Vec<&PackageName>> = BTreeMap::new();
    for (name, m) in &metadata.loaded {
        let rel = RegistryDir::location_rel(&m.location);
        expected
            .entry(rel.display().to_string())
            .or_default()
            .push(name);
    }
    let entries = lookup_entries(registry)?;
    let read: Vec<_> = entries
        .par_iter()
        .map_init(Vec::new, |buf, (path, rel)| {
            let mut found = Found::default();
            let text = read_text(path, rel, None, buf, &mut found)?;
            let readable = text.is_some();
            if let Some(text) = text {
                check_lookup_entry(rel, text.trim_end(), &expected, metadata, &mut found);
            }
            Ok::<_, CheckError>((found, readable))
        })
        .collect();
    let mut seen = BTreeSet::new();
    for ((_, rel), result) in entries.iter().zip(read) {
        let (entry_found, readable) = result?;
        found.0.extend(entry_found.0);
        if readable {
            seen.insert(rel.as_str());
        }
    }
    for (rel, names) in &expected {
        let name = names[0];
        if !seen.contains(rel.as_str()) {
            found.add(
                FindingKind::LocationLookup,
                rel,
                Some(name),
                None,
                format!(
                    "missing: `{name}` lives at `{}`, expected this entry to name it",
                    metadata.loaded[name].location
                ),
            );
        }
    }
    Ok(())
}

/// The files of the location lookup, `locations/<2 hex>/<sha256>` (and any other file
/// below `locations/<dir>/`): each path, and that path relative to the registry.
fn lookup_entries(registry: &RegistryDir) -> Result<Vec<(PathBuf, String)>, CheckError> {
    let dir = registry.root().join(LOCATIONS_DIR);
    let mut entries = Vec::new();
    for entry in walkdir::WalkDir::new(&dir).min_depth(2).sort_by_file_name() {
        let entry = entry.map_err(|e| StoreError::Io {
            action: "list",
            path: dir.clone(),
            source: e.into(),
        })?;
        if entry.file_type().is_file() {
            let rel = entry
                .path()
                .strip_prefix(registry.root())
                .expect("below the registry")
                .display()
                .to_string();
            entries.push((entry.into_path(), rel));
        }
    }
    Ok(entries)
}

/// Whether the lookup entry at `rel`, whose text is `named`, names the package that lives
/// at the place it stands for.
fn check_lookup_entry(
    rel: &str,
    named: &str,
    expected: &BTreeMap<String, Vec<&PackageName>>,
    metadata: &Metadatas,
    found: &mut Found,
) {
    match expected.get(rel).map(|names| (names, names[0])) {
        Some((names, _)) if names.iter().any(|n| named == n.as_str()) => {}
        Some((_, name)) => found.add(
            FindingKind::LocationLookup,
            rel,
            Some(name),
            None,
            format!(
                "names `{}`, but `{name}` lives at `{}`",
                crate::text::value(named),
                metadata.loaded[name].location
            ),
        ),
        // A package whose metadata could not be read is reported once, there.
        None if named
            .parse::<PackageName>()
            .is_ok_and(|n| metadata.unreadable.contains(&n)) => {}
        None => found.add(
            FindingKind::LocationLookup,
            rel,
            None,
            None,
            format!(
                "names `{}`, but no package lives at the place it stands for: expected it removed",
                crate::text::value(named)
            ),
        ),
    }
}

/// A location holds one package: each package whose place (as [`Location::place_key`]
/// names it, the key the location lookup uses) another package's metadata also claims.
fn check_shared_locations(metadata: &Metadatas, found: &mut Found) {
    let mut places: BTreeMap<String, Vec<&PackageName>> = BTreeMap::new();
    for (name, m) in &metadata.loaded {
        places.entry(m.location.place_key()).or_default().push(name);
    }
    for names in places.values().filter(|names| names.len() > 1) {
        for name in names {
            let others: Vec<String> = (names.iter())
                .filter(|other| *other != name)
                .map(|other| format!("`{other}`"))
                .collect();
            let m = &metadata.loaded[*name];
            found.add(
                FindingKind::SharedLocation,
                &m.file,
                Some(name),
                None,
                format!(
                    "claims location `{}`, which {} also {}: a location holds one package",
                    m.location,
                    crate::text::list(&others),
                    if others.len() == 1 { "claims" } else { "claim" },
                ),
            );
        }
    }
}

/// Every published version's tarball in the primary storage, else in a mirror with the
/// recorded hash (added to `from_mirrors`, not a finding); then what the primary holds
/// that no metadata records.
fn check_storage(
    stores: Stores<'_>,
    metadata: &Metadatas,
    found: &mut Found,
    from_mirrors: &mut Vec<MirrorRead>,
) -> Result<usize, CheckError> {
    let storage = stores.primary;
    let mut checked = 0;
    for (name, m) in &metadata.loaded {
        for (version, bytes_recorded, hash_recorded) in &m.published {
            let key = StorageKey::tarball(name, version);
            checked += 1;
            match stores.get_verified(&key, hash_recorded)? {
                Fetched::Missing { mirrors } => found.add(
                    FindingKind::MissingTarball,
                    &m.file,
                    Some(name),
                    Some(version),
                    match mirrors.is_empty() {
                        true => format!("no tarball `{key}` in storage `{}`", storage.describe()),
                        false => format!(
                            "no tarball `{key}` in storage `{}`, nor in a mirror ({})",
                            storage.describe(),
                            mirrors.join(", ")
                        ),
                    },
                ),
                Fetched::Mirror { mirror, .. } => from_mirrors.push(MirrorRead {
                    package: name.clone(),
                    version: version.clone(),
                    mirror,
                }),
                Fetched::Primary(bytes) => {
                    let hash = Sha256::of(&bytes);
                    if bytes.len() as u64 != *bytes_recorded || hash != *hash_recorded {
                        found.add(FindingKind::TarballMismatch, &m.file, Some(name), Some(version), format!("tarball `{key}` is {} bytes with hash `{hash}`, but metadata records {} bytes with hash `{}`", bytes.len(), bytes_recorded, hash_recorded));
                    }
                }
            }
        }
    }
    let location = storage.describe();
    // Over plain HTTP only what metadata records can be fetched: orphans go unseen.
    let listed = if storage.lists() {
        storage.list()?
    } else {
        vec![]
    };
    for listed in listed {
        let file = format!("{location}/{}", listed.path);
        match &listed.kind {
            ListedKind::Tarball { key, name, version } => {
                let recorded = metadata
                    .loaded
                    .get(name)
                    .is_some_and(|m| m.publishes(version));
                if !recorded {
                    found.add(
                        FindingKind::OrphanTarball,
                        &file,
                        Some(name),
                        Some(version),
                        format!(
                            "tarball `{key}` ({} bytes) is recorded by no metadata: left by a publish that did not land or an unpublish that did not finish; `regis gc` removes it",
                            listed.bytes
                        ),
                    );
                }
            }
            // Atoms are checked from each package's head; one no head reaches is a lost
            // race's (an operation that stored its atom and then lost its commit).
            ListedKind::Atom { .. } | ListedKind::Trust => {}
            ListedKind::Temporary => found.add(
                FindingKind::InterruptedWrite,
                &file,
                None,
                None,
                format!(
                    "a temporary file ({} bytes) an interrupted write left: the next write in its directory, or `regis gc`, removes it",
                    listed.bytes
                ),
            ),
            ListedKind::Other => found.add(
                FindingKind::UnexpectedFile,
                &file,
                None,
                None,
                "not a tarball at its key `<name>/<version>.tar.gz`: expected only tarballs in storage".to_owned(),
            ),
        }
    }
    Ok(checked)
}

/// What the atom check reads: the checkouts, the primary storage (where operations store
/// atoms) and the configured atom key.
struct Atoms<'a> {
    registry: &'a RegistryDir,
    index: &'a IndexDir,
    storage: &'a dyn Storage,
    atom_key: Option<&'a KeySource>,
}

impl Atoms<'_> {
    /// Each package's atom chain from its head (`atoms/<name>`) verified, then its metadata
    /// file's SHA-256 compared with the one the last atom recorded, and each version's
    /// tarball and publish time in metadata, and index line, with what its publish atom
    /// recorded. A package with no head (operations before the atom key was configured) is
    /// not a finding. The number of chains read.
    fn check(&self, metadata: &Metadatas, found: &mut Found) -> Result<usize, CheckError> {
        let heads = list_dir(&self.registry.root().join(ATOM_HEADS_DIR))?;
        if heads.is_empty() {
            return Ok(0);
        }
        let trust = match AtomTrust::of_registry(self.registry.root(), self.atom_key) {
            Ok(trust) => trust,
            Err(e) => {
                found.add(
                    FindingKind::AtomChain,
                    ATOM_HEADS_DIR,
                    None,
                    None,
                    match heads.len() {
                        1 => format!("the atom chain of 1 package cannot be checked: {e}"),
                        n => format!("the atom chains of {n} packages cannot be checked: {e}"),
                    },
                );
                return Ok(0);
            }
        };
        let mut checked = 0;
        for file_name in heads {
            let file = format!("{ATOM_HEADS_DIR}/{file_name}");
            let name = match file_name.parse::<PackageName>() {
                Ok(name) => name,
                Err(e) => {
                    found.add(
                        FindingKind::Misplaced,
                        &file,
                        None,
                        None,
                        format!("not named after a package: {e}"),
                    );
                    continue;
                }
            };
            checked += 1;
            let Some(chain) = self.chain(&file, &name, &trust, found)? else {
                continue;
            };
            self.compare(&name, &chain, metadata, found)?;
        }
        Ok(checked)
    }

    /// The verified chain of `name` from its head file `file`, or `None` with an
    /// `AtomChain` finding saying what failed.
    fn chain(
        &self,
        file: &str,
        name: &PackageName,
        trust: &AtomTrust,
        found: &mut Found,
    ) -> Result<Option<Vec<Verified>>, CheckError> {
        let head_text =
            std::fs::read(self.registry.root().join(file)).map_err(|source| StoreError::Io {
                action: "read",
                path: self.registry.root().join(file),
                source,
            })?;
        let head_text = String::from_utf8_lossy(&head_text);
        let verified = match AtomId::parse(&head_text) {
            Some(head) => crate::atom::verify_links(self.storage, name, head, trust),
            None => Err(AtomError::BadHead {
                name: name.clone(),
                text: crate::text::echo(&head_text).to_string(),
            }),
        };
        match verified {
            Ok(chain) => Ok(Some(chain)),
            // Storage that cannot be read: the audit cannot run, as for tarballs.
            Err(AtomError::Storage(e)) => Err(e.into()),
            Err(e) => {
                found.add(
                    FindingKind::AtomChain,
                    file,
                    Some(name),
                    None,
                    format!("the atom chain does not verify: {e}"),
                );
                Ok(None)
            }
        }
    }

    /// `name`'s metadata file and index lines against its verified `chain`.
    fn compare(
        &self,
        name: &PackageName,
        chain: &[Verified],
        metadata: &Metadatas,
        found: &mut Found,
    ) -> Result<(), CheckError> {
        let last = &chain[0];
        let recorded = last.atom.signed.metadata;
        let rel = RegistryDir::metadata_rel(name).display().to_string();
        let Some(bytes) = read_optional_bytes(&self.registry.root().join(&rel))? else {
            found.add(
                FindingKind::MetadataChanged,
                &format!("{ATOM_HEADS_DIR}/{name}"),
                Some(name),
                None,
                format!(
                    "removed outside an operation: the last atom `{}` ({}) records `{rel}` with SHA-256 `{recorded}`, and there is no such file",
                    last.id,
                    describe(last)
                ),
            );
            return Ok(());
        };
        let hash = Sha256::of(&bytes);
        if hash != recorded {
            found.add(
                FindingKind::MetadataChanged,
                &rel,
                Some(name),
                None,
                format!(
                    "changed outside an operation: the last atom `{}` ({}) records the file with SHA-256 `{recorded}`, it now hashes to `{hash}`",
                    last.id,
                    describe(last)
                ),
            );
        }
        let publishes = crate::atom::publishes(chain);
        // A metadata file that does not read is reported once, as that.
        if let Some(m) = metadata.loaded.get(name)
            && let Ok(text) = std::str::from_utf8(&bytes)
            && let Ok(full) = Metadata::from_json(&m.file, text)
        {
            compare_versions(name, &m.file, &full, &publishes, found);
        }
        if publishes.values().any(|v| v.atom.signed.index.is_some()) {
            self.compare_index(name, &publishes, found)?;
        }
        Ok(())
    }

    /// Each index line of `name` whose version's publish atom recorded its hash.
    fn compare_index(
        &self,
        name: &PackageName,
        publishes: &BTreeMap<&Version, &Verified>,
        found: &mut Found,
    ) -> Result<(), CheckError> {
        let rel = crate::index::entry_path(name);
        let Some(bytes) = read_optional_bytes(&self.index.root().join(&rel))? else {
            return Ok(()); // its versions are reported missing from the index
        };
        let Ok(text) = std::str::from_utf8(&bytes) else {
            return Ok(()); // reported as unreadable
        };
        for line in text.split('\n').filter(|l| !l.is_empty()) {
            // A line that does not read is reported with its file.
            let Ok(m) = serde_json::from_str::<Manifest>(line) else {
                continue;
            };
            let Some(publish) = publishes.get(&m.version) else {
                continue;
            };
            let Some(recorded) = publish.atom.signed.index else {
                continue;
            };
            let hash = Sha256::of(line.as_bytes());
            if hash != recorded {
                found.add(
                    FindingKind::IndexLineChanged,
                    &rel,
                    Some(name),
                    Some(&m.version),
                    format!(
                        "changed outside an operation: the line hashes to `{hash}`, but its publish atom `{}` recorded `{recorded}`: an index line never changes after publish",
                        publish.id
                    ),
                );
            }
        }
        Ok(())
    }
}

/// Each version a publish atom recorded, in `m` (the metadata file of `name` at `file`) as
/// it was published: the same tarball hash and size, the same publish time (an unpublished
/// version keeps it too), and still listed.
fn compare_versions(
    name: &PackageName,
    file: &str,
    m: &Metadata,
    publishes: &BTreeMap<&Version, &Verified>,
    found: &mut Found,
) {
    for (version, publish) in publishes {
        let atom = &publish.atom.signed;
        let mut changed = |what: String| {
            found.add(
                FindingKind::VersionChanged,
                file,
                Some(name),
                Some(version),
                what,
            );
        };
        let published_time = match (m.published.get(*version), m.unpublished.get(*version)) {
            (Some(entry), _) => {
                if let Some(t) = atom.tarball
                    && (entry.hash, entry.bytes) != (t.hash, t.bytes)
                {
                    changed(format!(
                        "metadata records the tarball as {} bytes with hash `{}`, but its publish atom `{}` recorded {} bytes with hash `{}`: a published version's tarball never changes",
                        entry.bytes, entry.hash, publish.id, t.bytes, t.hash
                    ));
                }
                entry.published_time
            }
            (None, Some(entry)) => entry.published_time,
            (None, None) => {
                changed(format!(
                    "its publish atom `{}` recorded it, but metadata neither publishes nor unpublishes it: a published version stays in metadata",
                    publish.id
                ));
                continue;
            }
        };
        if published_time != atom.time {
            changed(format!(
                "metadata records it published at `{published_time}`, but its publish atom `{}` recorded `{}`: a version's publish time never changes",
                publish.id, atom.time
            ));
        }
    }
}

/// An atom as a finding mentions it: its operation (and version) and time.
fn describe(verified: &Verified) -> String {
    let atom = &verified.atom.signed;
    match &atom.version {
        Some(v) => format!("{} of `{v}` at `{}`", atom.operation, atom.time),
        None => format!("{} at `{}`", atom.operation, atom.time),
    }
}

/// A file's bytes, `None` when there is no such file.
fn read_optional_bytes(path: &Path) -> Result<Option<Vec<u8>>, CheckError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(StoreError::Io {
            action: "read",
            path: path.to_path_buf(),
            source,
        }
        .into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn line(name: &str, version: &str, deps: &[(&str, &str)]) -> String {
        let deps: Vec<String> = deps
            .iter()
            .map(|(d, r)| format!("\"{d}\":\"{r}\""))
            .collect();
        format!(
            r#"{{"name":"{name}","version":"{version}","license":"MIT","location":{{"githubOwner":"o","githubRepo":"{name}"}},"ref":"v{version}","dependencies":{{{}}}}}"#,
            deps.join(",")
        )
    }

    fn metadata_yanking(
        name: &str,
        published: &[String],
        unpublished: &[String],
        yanked: &[String],
    ) -> String {
        let entry = serde_json::json!({
            "bytes": 100,
            "compilers": ["0.15.15"],
            "hash": format!("sha256-{}=", "A".repeat(43)),
            "publishedTime": "2026-01-01T00:00:00.000Z",
            "ref": "",
        });
        let gone = serde_json::json!({
            "publishedTime": "2026-01-01T00:00:00.000Z",
            "reason": "x",
            "unpublishedTime": "2026-01-02T00:00:00.000Z",
        });
        let mut value = serde_json::json!({
            "location": {"githubOwner": "o", "githubRepo": name},
            "published": published.iter().map(|v| (v.clone(), entry.clone())).collect::<serde_json::Map<_, _>>(),
            "unpublished": unpublished.iter().map(|v| (v.clone(), gone.clone())).collect::<serde_json::Map<_, _>>(),
        });
        if !yanked.is_empty() {
            let flag = serde_json::json!({"reason": "x", "time": "2026-01-03T00:00:00.000Z"});
            value["yanked"] = yanked
                .iter()
                .map(|v| (v.clone(), flag.clone()))
                .collect::<serde_json::Map<_, _>>()
                .into();
        }
        crate::schema::pretty_json(&value)
    }

    /// A registry of `n` packages of 5 versions, each package damaged in one of the ways
    /// the audit reports (by `i % 10`), and two package sets naming what is not there:
    /// many findings of every kind the files can have.
    fn damaged_registry(root: &Path, n: usize) {
        let write = |rel: &str, text: &[u8]| {
            let path = root.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        let versions: Vec<String> = (0..5)
            .map(|k| format!("{}.{}.0", 1 + k / 2, k % 2))
            .collect();
        let mut members = Vec::new();
        for i in 0..n {
            let name = format!("pkg-{i:04}");
            let (lo, hi) = (i % 5, i % 5 + 1); // unsatisfiable when `lo` is 0 or 4
            let (prev, half) = (
                format!("pkg-{:04}", i.saturating_sub(1)),
                format!("pkg-{:04}", i / 2),
            );
            let range = format!(">={lo}.0.0 <{hi}.0.0");
            let mut deps = vec![
                (prev.as_str(), ">=1.0.0 <3.0.0"),
                (half.as_str(), range.as_str()),
            ];
            if i % 10 == 7 {
                deps.push(("zz-nowhere", ">=1.0.0 <2.0.0"));
            }
            deps.sort();
            deps.dedup_by_key(|d| d.0);
            let mut lines: Vec<String> = versions.iter().map(|v| line(&name, v, &deps)).collect();
            let mut unpublished = Vec::new();
            match i % 10 {
                0 => drop(lines.pop()),
                1 => lines.reverse(),
                2 => lines.push("{not json".into()),
                4 => unpublished.push(versions[0].clone()),
                5 => lines.push(line(&name, "9.0.0", &[])),
                _ => {}
            }
            let index_text: String = lines.iter().map(|l| format!("{l}\n")).collect();
            if i % 10 != 8 {
                write(
                    &crate::index::entry_path(&name.parse().unwrap()),
                    index_text.as_bytes(),
                );
            }
            // A yank of a version that is not published (`9.0.0`) and of one that is.
            let yanked = match i % 10 {
                7 => vec!["9.0.0".to_owned(), versions[1].clone()],
                _ => vec![],
            };
            let meta = metadata_yanking(&name, &versions, &unpublished, &yanked);
            match i % 10 {
                3 => write(
                    &format!("metadata/{name}.json"),
                    meta.replace("\n  ", "\n ").as_bytes(),
                ),
                6 => {}
                9 if i % 20 == 9 => write(&format!("metadata/{name}.json"), b"{\xff}"),
                _ => write(&format!("metadata/{name}.json"), meta.as_bytes()),
            }
            if i % 7 != 0 {
                members.push(format!("\"{name}\": \"{}\"", versions[4 - i % 2]));
            }
        }
        members.push("\"zz-nowhere\": \"1.0.0\"".into());
        members.sort();
        for (file, version) in [("1.0.0", "1.0.0"), ("3.0.0", "2.0.0")] {
            let set = format!(
                "{{\n  \"version\": \"{version}\",\n  \"compiler\": \"0.15.15\",\n  \"published\": \"2026-01-01\",\n  \"packages\": {{\n    {}\n  }}\n}}\n",
                members.join(",\n    ")
            );
            write(&format!("package-sets/{file}.json"), set.as_bytes());
        }
        write("metadata/Not_A_Name.json", b"{}");
        write("zz/zz/pkg-0001", b"");
        // The location lookup: right, naming another package, missing, stray, not UTF-8.
        for i in 0..n {
            let name = format!("pkg-{i:04}");
            let location: Location =
                serde_json::from_value(serde_json::json!({"githubOwner": "o", "githubRepo": name}))
                    .unwrap();
            let rel = RegistryDir::location_rel(&location);
            let rel = rel.to_str().unwrap();
            match i % 4 {
                0 => write(rel, format!("{name}\n").as_bytes()),
                1 => write(rel, b"pkg-9999\n"),
                2 => write(rel, b"\xff\n"),
                _ => {}
            }
        }
        write(&format!("locations/00/{}", "0".repeat(64)), b"nobody\n");
    }

    #[test]
    fn a_deprecation_in_favour_of_an_unknown_package_is_a_finding() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("metadata")).unwrap();
        let versions = ["1.0.0".to_owned()];
        for (name, alternative) in [("a", Some("b")), ("b", None), ("c", Some("nowhere"))] {
            let mut value: serde_json::Value =
                serde_json::from_str(&metadata_yanking(name, &versions, &[], &[])).unwrap();
            if let Some(alternative) = alternative {
                value["deprecated"] = serde_json::json!({
                    "alternative": alternative,
                    "message": "use another",
                    "time": "2026-01-03T00:00:00.000Z",
                });
            }
            let path = tmp.path().join(format!("metadata/{name}.json"));
            std::fs::write(path, serde_json::to_string_pretty(&value).unwrap() + "\n").unwrap();
        }
        let report = run(
            &RegistryDir::new(tmp.path()),
            &IndexDir::new(tmp.path()),
            None,
            None,
        )
        .unwrap();
        let found: Vec<String> = (report.findings.iter())
            .filter(|f| f.kind == FindingKind::UnknownAlternative)
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            found,
            [
                "metadata/c.json: `c`: deprecated in favour of `nowhere`, which has no metadata: expected a package the registry has"
            ]
        );
    }

    fn audit_with_threads(root: &Path, threads: usize) -> Report {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| run(&RegistryDir::new(root), &IndexDir::new(root), None, None).unwrap())
    }

    /// A tag names a published version: one naming an unpublished version, or none at
    /// all, is a finding; one naming a yanked version is not (a yank keeps its tags).
    #[test]
    fn a_tag_naming_a_version_not_published_is_a_finding() {
        let (registry, index) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (old, new) = ("1.0.0".to_owned(), "1.1.0".to_owned());
        let text = metadata_yanking(
            "a",
            std::slice::from_ref(&new),
            &[old],
            std::slice::from_ref(&new),
        );
        let mut m = Metadata::from_json("a.json", &text).unwrap();
        for (tag, version) in [("gone", "1.0.0"), ("next", "1.1.0"), ("typo", "9.0.0")] {
            m.aliases
                .insert(tag.parse().unwrap(), version.parse().unwrap());
        }
        std::fs::create_dir_all(registry.path().join(METADATA_DIR)).unwrap();
        std::fs::write(registry.path().join("metadata/a.json"), m.to_json()).unwrap();
        let entry = index
            .path()
            .join(crate::index::entry_path(&"a".parse().unwrap()));
        std::fs::create_dir_all(entry.parent().unwrap()).unwrap();
        std::fs::write(&entry, format!("{}\n", line("a", &new, &[]))).unwrap();
        let report = run(
            &RegistryDir::new(registry.path()),
            &IndexDir::new(index.path()),
            None,
            None,
        )
        .unwrap();
        let found: Vec<String> = (report.findings.iter())
            .filter(|f| f.kind != FindingKind::LocationLookup)
            .map(ToString::to_string)
            .collect();
        insta::assert_snapshot!(found.join("\n"), @r"
            metadata/a.json: `a@1.0.0`: the tag `gone` names it, but the version is unpublished: expected tags to name published versions only
            metadata/a.json: `a@9.0.0`: the tag `typo` names it, but the version is not published: expected tags to name published versions only
            ");
        assert!(
            report
                .findings
                .iter()
                .all(|f| f.kind != FindingKind::NonCanonical)
        );
    }

    #[test]
    fn findings_do_not_depend_on_the_number_of_threads() {
        let tmp = tempfile::tempdir().unwrap();
        damaged_registry(tmp.path(), 300);
        let sequential = audit_with_threads(tmp.path(), 1);
        let mut per_kind = BTreeMap::new();
        for f in &sequential.findings {
            *per_kind.entry(f.kind).or_insert(0) += 1;
        }
        use FindingKind::*;
        let kinds: Vec<FindingKind> = per_kind.keys().copied().collect();
        assert_eq!(
            kinds,
            [
                Unreadable,
                Misplaced,
                NonCanonical,
                MissingFromIndex,
                NotPublished,
                PublishedAndUnpublished,
                YankedNotPublished,
                UnsatisfiableDependency,
                SetMemberNotPublished,
                SetMissingDependency,
                LocationLookup
            ],
            "{per_kind:?}"
        );
        assert!(sequential.findings.len() > 500, "{per_kind:?}");
        for threads in [2, 3, 8] {
            let parallel = audit_with_threads(tmp.path(), threads);
            assert_eq!(parallel.findings, sequential.findings, "{threads} threads");
            assert_eq!(
                (
                    parallel.packages,
                    parallel.versions,
                    parallel.index_files,
                    parallel.package_sets
                ),
                (
                    sequential.packages,
                    sequential.versions,
                    sequential.index_files,
                    sequential.package_sets
                )
            );
        }
    }

    #[test]
    fn the_streaming_canonical_check_is_byte_equality() {
        let name: PackageName = "aff".parse().unwrap();
        let (a, b) = (
            line("aff", "1.0.0", &[]),
            line("aff", "2.0.0", &[("b", ">=1.0.0 <2.0.0")]),
        );
        let canonical = format!("{a}\n{b}\n");
        let f = IndexFile::parse("3/a/aff", &name, &canonical).unwrap();
        assert_eq!(f.to_text(), canonical);
        for text in [
            canonical.clone(),
            format!("{b}\n{a}\n"),
            format!("{a}\n{b}"),
            format!("{a}\n\n{b}\n"),
            format!("{a}\r\n{b}\n"),
            format!("{a}\n{b}\n\n"),
            format!("\n{a}\n{b}\n"),
            canonical.replace("\"license\":\"MIT\"", "\"license\": \"MIT\""),
        ] {
            let f = IndexFile::parse("3/a/aff", &name, &text).unwrap();
            assert_eq!(
                index_text_is_canonical(&f, &text),
                f.to_text() == text,
                "{text:?}"
            );
        }
    }

    fn arb_version() -> impl Strategy<Value = Version> {
        (0u32..4, 0u32..4, 0u32..3).prop_map(|(a, b, c)| Version::new(a, b, c))
    }

    proptest! {
        /// `Indexed::satisfies` (a binary search) is `IndexView::best_in_range(..).is_some()`
        /// (the highest version in range, searched from the top).
        #[test]
        fn satisfies_is_some_version_in_range(
            versions in proptest::collection::btree_set(arb_version(), 0..12),
            lower in arb_version(),
            upper in arb_version(),
        ) {
            prop_assume!(lower < upper);
            let range = Range::new(lower, upper).unwrap();
            let versions: Vec<Version> = versions.into_iter().collect();
            let expected = versions.iter().rfind(|v| range.contains(v)).is_some();
            let indexed = Indexed { versions, dependencies: Vec::new(), ends: Vec::new() };
            prop_assert_eq!(indexed.satisfies(&range), expected);
        }
    }

    #[test]
    fn first_difference_counts_lines() {
        assert_eq!(first_difference("a\nb\nc\n", "a\nb\nd\n"), 3);
        assert_eq!(first_difference("a\n", "a"), 1);
        assert_eq!(first_difference("a\nb", "a\nb\n"), 2);
    }
}
