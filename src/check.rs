//! Auditing a registry: every document in canonical form, metadata and index in agreement,
//! dependencies satisfiable, package sets consistent, and (optionally) storage intact.
//! A broken file is a finding, not a stop: the audit reads everything it can.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use serde::Serialize;

use crate::index::{IndexFile, IndexView};
use crate::metadata::Metadata;
use crate::package_set::PackageSet;
use crate::schema::{PackageName, Sha256, Version};
use crate::storage::{ListedKind, Storage, StorageKey};
use crate::store::{
    IndexDir, LOCATIONS_DIR, METADATA_DIR, PACKAGE_SETS_DIR, RegistryDir, StoreError,
    index_file_name, list_dir,
};

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

struct Audit {
    findings: Vec<Finding>,
    /// Packages whose metadata file could not be read: not cross-checked again.
    unreadable_metadata: BTreeSet<PackageName>,
    /// Packages whose index file could not be read: not cross-checked again.
    unreadable_index: BTreeSet<PackageName>,
}

impl Audit {
    fn add(
        &mut self,
        kind: FindingKind,
        file: &str,
        package: Option<&PackageName>,
        version: Option<&Version>,
        message: String,
    ) {
        self.findings.push(Finding {
            file: file.to_owned(),
            package: package.cloned(),
            version: version.cloned(),
            kind,
            message,
        });
    }

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

/// Audit `registry` and `index`, and `storage` when given.
pub fn run(
    registry: &RegistryDir,
    index: &IndexDir,
    storage: Option<&dyn Storage>,
) -> Result<Report, CheckError> {
    for (dir, what) in [(registry.root(), "registry"), (index.root(), "index")] {
        if !dir.is_dir() {
            return Err(CheckError::NotADirectory(dir.to_path_buf(), what));
        }
    }
    let mut audit = Audit {
        findings: Vec::new(),
        unreadable_metadata: BTreeSet::new(),
        unreadable_index: BTreeSet::new(),
    };
    let metadata = load_metadata(registry, &mut audit)?;
    let view = load_index(index, &mut audit)?;
    let sets = load_package_sets(registry, &mut audit)?;

    compare_metadata_and_index(&metadata, &view, &mut audit);
    check_dependencies(&view, &mut audit);
    for (file, set) in &sets {
        check_package_set(file, set, &metadata, &view, &mut audit);
    }
    if registry.has_location_lookup() {
        check_location_lookup(registry, &metadata, &mut audit)?;
    }
    let mut tarballs_checked = 0;
    if let Some(storage) = storage {
        tarballs_checked = check_storage(storage, &metadata, &mut audit)?;
    }

    let mut findings = audit.findings;
    findings.sort();
    Ok(Report {
        findings,
        packages: metadata.len(),
        versions: metadata.values().map(|(_, m)| m.published.len()).sum(),
        index_files: view.packages().count(),
        package_sets: sets.len(),
        tarballs_checked,
    })
}

type Loaded = BTreeMap<PackageName, (String, Metadata)>;

/// A file's text, or `None` with an `Unreadable` finding when it is not UTF-8.
fn read_text(
    path: &Path,
    file: &str,
    package: Option<&PackageName>,
    audit: &mut Audit,
) -> Result<Option<String>, CheckError> {
    let bytes = std::fs::read(path).map_err(|source| StoreError::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    })?;
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Some(text)),
        Err(_) => {
            audit.add(
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

fn load_metadata(registry: &RegistryDir, audit: &mut Audit) -> Result<Loaded, CheckError> {
    let mut out = BTreeMap::new();
    for file_name in list_dir(&registry.root().join(METADATA_DIR))? {
        let file = format!("{METADATA_DIR}/{file_name}");
        let name = match file_name
            .strip_suffix(".json")
            .map(str::parse::<PackageName>)
        {
            Some(Ok(name)) => name,
            Some(Err(e)) => {
                audit.add(
                    FindingKind::Misplaced,
                    &file,
                    None,
                    None,
                    format!("not named after a package: {e}"),
                );
                continue;
            }
            None => {
                audit.add(
                    FindingKind::Misplaced,
                    &file,
                    None,
                    None,
                    "expected `<package>.json`".into(),
                );
                continue;
            }
        };
        let Some(text) = read_text(&registry.root().join(&file), &file, Some(&name), audit)? else {
            audit.unreadable_metadata.insert(name);
            continue;
        };
        match Metadata::from_json(&file, &text) {
            Ok(m) => {
                audit.canonical(&file, Some(&name), &text, &m.to_json());
                for version in m
                    .published
                    .keys()
                    .filter(|v| m.unpublished.contains_key(*v))
                {
                    audit.add(
                        FindingKind::PublishedAndUnpublished,
                        &file,
                        Some(&name),
                        Some(version),
                        "listed as both published and unpublished".into(),
                    );
                }
                out.insert(name, (file, m));
            }
            Err(e) => {
                audit.add(
                    FindingKind::Unreadable,
                    &file,
                    Some(&name),
                    None,
                    e.to_string(),
                );
                audit.unreadable_metadata.insert(name);
            }
        }
    }
    Ok(out)
}

fn load_index(index: &IndexDir, audit: &mut Audit) -> Result<IndexView, CheckError> {
    let mut view = IndexView::default();
    for rel in index.files()? {
        let name = match index_file_name(&rel) {
            Ok(n) => n,
            Err(e) => {
                audit.add(FindingKind::Misplaced, &rel, None, None, e.to_string());
                continue;
            }
        };
        let Some(text) = read_text(&index.root().join(&rel), &rel, Some(&name), audit)? else {
            audit.unreadable_index.insert(name);
            continue;
        };
        match IndexFile::parse(&rel, &name, &text) {
            Ok(f) => {
                audit.canonical(&rel, Some(&name), &text, &f.to_text());
                view.insert_file(name, f);
            }
            Err(e) => {
                audit.add(
                    FindingKind::Unreadable,
                    &rel,
                    Some(&name),
                    None,
                    e.to_string(),
                );
                audit.unreadable_index.insert(name);
            }
        }
    }
    Ok(view)
}

fn load_package_sets(
    registry: &RegistryDir,
    audit: &mut Audit,
) -> Result<Vec<(String, PackageSet)>, CheckError> {
    let mut out = Vec::new();
    for file_name in list_dir(&registry.root().join(PACKAGE_SETS_DIR))? {
        let rel = format!("{PACKAGE_SETS_DIR}/{file_name}");
        let Some(text) = read_text(&registry.root().join(&rel), &rel, None, audit)? else {
            continue;
        };
        match PackageSet::from_json(&rel, &text) {
            Ok(set) => {
                audit.canonical(&rel, None, &text, &set.to_json());
                if set.file_name() != rel {
                    audit.add(
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
            Err(e) => audit.add(FindingKind::Unreadable, &rel, None, None, e.to_string()),
        }
    }
    Ok(out)
}

fn compare_metadata_and_index(metadata: &Loaded, view: &IndexView, audit: &mut Audit) {
    for (name, (file, m)) in metadata {
        if audit.unreadable_index.contains(name) {
            continue; // already reported; its versions are unknown, not missing
        }
        let indexed = view.package(name);
        for version in m.published.keys() {
            if indexed.and_then(|f| f.get(version)).is_none() {
                audit.add(
                    FindingKind::MissingFromIndex,
                    file,
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
    for (name, f) in view.packages() {
        if audit.unreadable_metadata.contains(name) {
            continue;
        }
        let path = crate::index::entry_path(name);
        let m = metadata.get(name).map(|(_, m)| m);
        for version in f.versions() {
            let message = match m {
                None => "indexed, but the package has no metadata".to_owned(),
                Some(m) if m.unpublished.contains_key(version) => {
                    "indexed, but the version is unpublished".to_owned()
                }
                Some(m) if !m.published.contains_key(version) => {
                    "indexed, but not published in metadata".to_owned()
                }
                Some(_) => continue,
            };
            audit.add(
                FindingKind::NotPublished,
                &path,
                Some(name),
                Some(version),
                message,
            );
        }
    }
}

fn check_dependencies(view: &IndexView, audit: &mut Audit) {
    for (name, f) in view.packages() {
        let path = crate::index::entry_path(name);
        for m in f.manifests() {
            for (dep, range) in &m.dependencies {
                if audit.unreadable_index.contains(dep) {
                    continue;
                }
                if view.best_in_range(dep, range).is_none() {
                    let why = match view.package(dep) {
                        None => format!("depends on `{dep}`, which is not in the index"),
                        Some(_) => format!(
                            "depends on `{dep}` `{range}`, but no indexed version of `{dep}` is in that range"
                        ),
                    };
                    audit.add(
                        FindingKind::UnsatisfiableDependency,
                        &path,
                        Some(name),
                        Some(&m.version),
                        why,
                    );
                }
            }
        }
    }
}

fn check_package_set(
    file: &str,
    set: &PackageSet,
    metadata: &Loaded,
    view: &IndexView,
    audit: &mut Audit,
) {
    for (name, version) in &set.packages {
        if audit.unreadable_metadata.contains(name) || audit.unreadable_index.contains(name) {
            continue;
        }
        let published = metadata
            .get(name)
            .is_some_and(|(_, m)| m.published.contains_key(version));
        let Some(manifest) = view.manifest(name, version) else {
            let what = if published {
                "published but not indexed"
            } else {
                "not published"
            };
            audit.add(
                FindingKind::SetMemberNotPublished,
                file,
                Some(name),
                Some(version),
                format!("in package set `{}`, but {what}", set.version),
            );
            continue;
        };
        if !published {
            audit.add(
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
        let missing: BTreeSet<&PackageName> = manifest
            .dependencies
            .keys()
            .filter(|d| !set.packages.contains_key(*d))
            .collect();
        if !missing.is_empty() {
            let list: Vec<String> = missing.iter().map(|d| format!("`{d}`")).collect();
            audit.add(
                FindingKind::SetMissingDependency,
                file,
                Some(name),
                Some(version),
                format!(
                    "depends on {}, missing from package set `{}`",
                    list.join(", "),
                    set.version
                ),
            );
        }
    }
}

/// Every package's place has its entry in the location lookup, naming it, and every entry
/// is a package's place.
fn check_location_lookup(
    registry: &RegistryDir,
    metadata: &Loaded,
    audit: &mut Audit,
) -> Result<(), CheckError> {
    let mut expected: BTreeMap<String, &PackageName> = BTreeMap::new();
    for (name, (_, m)) in metadata {
        let rel = RegistryDir::location_rel(&m.location);
        expected.insert(rel.display().to_string(), name);
    }
    let dir = registry.root().join(LOCATIONS_DIR);
    let mut found = BTreeSet::new();
    for entry in walkdir::WalkDir::new(&dir).min_depth(2).sort_by_file_name() {
        let entry = entry.map_err(|e| StoreError::Io {
            action: "list",
            path: dir.clone(),
            source: e.into(),
        })?;
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(registry.root())
            .expect("below the registry")
            .display()
            .to_string();
        let Some(text) = read_text(entry.path(), &rel, None, audit)? else {
            continue;
        };
        match expected.get(&rel) {
            Some(name) if text.trim_end() == name.as_str() => {}
            Some(name) => audit.add(
                FindingKind::LocationLookup,
                &rel,
                Some(name),
                None,
                format!(
                    "names `{}`, but `{name}` lives at `{}`",
                    crate::text::value(text.trim_end()),
                    metadata[*name].1.location
                ),
            ),
            // A package whose metadata could not be read is reported once, there.
            None if text
                .trim_end()
                .parse::<PackageName>()
                .is_ok_and(|n| audit.unreadable_metadata.contains(&n)) => {}
            None => audit.add(
                FindingKind::LocationLookup,
                &rel,
                None,
                None,
                format!(
                    "names `{}`, but no package lives at the place it stands for: expected it removed",
                    crate::text::value(text.trim_end())
                ),
            ),
        }
        found.insert(rel);
    }
    for (rel, name) in expected {
        if !found.contains(&rel) {
            audit.add(
                FindingKind::LocationLookup,
                &rel,
                Some(name),
                None,
                format!(
                    "missing: `{name}` lives at `{}`, expected this entry to name it",
                    metadata[name].1.location
                ),
            );
        }
    }
    Ok(())
}

fn check_storage(
    storage: &dyn Storage,
    metadata: &Loaded,
    audit: &mut Audit,
) -> Result<usize, CheckError> {
    let mut checked = 0;
    for (name, (file, m)) in metadata {
        for (version, p) in &m.published {
            let key = StorageKey::tarball(name, version);
            checked += 1;
            match storage.get(&key)? {
                None => audit.add(
                    FindingKind::MissingTarball,
                    file,
                    Some(name),
                    Some(version),
                    format!("no tarball `{key}` in storage `{}`", storage.describe()),
                ),
                Some(bytes) => {
                    let hash = Sha256::of(&bytes);
                    if bytes.len() as u64 != p.bytes || hash != p.hash {
                        audit.add(FindingKind::TarballMismatch, file, Some(name), Some(version), format!("tarball `{key}` is {} bytes with hash `{hash}`, but metadata records {} bytes with hash `{}`", bytes.len(), p.bytes, p.hash));
                    }
                }
            }
        }
    }
    let location = storage.describe();
    for listed in storage.list()? {
        let file = format!("{location}/{}", listed.path);
        match &listed.kind {
            ListedKind::Tarball { key, name, version } => {
                let recorded = metadata
                    .get(name)
                    .is_some_and(|(_, m)| m.published.contains_key(version));
                if !recorded {
                    audit.add(
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
            ListedKind::Temporary => audit.add(
                FindingKind::InterruptedWrite,
                &file,
                None,
                None,
                format!(
                    "a temporary file ({} bytes) an interrupted write left: the next write in its directory, or `regis gc`, removes it",
                    listed.bytes
                ),
            ),
            ListedKind::Other => audit.add(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_difference_counts_lines() {
        assert_eq!(first_difference("a\nb\nc\n", "a\nb\nd\n"), 3);
        assert_eq!(first_difference("a\n", "a"), 1);
        assert_eq!(first_difference("a\nb", "a\nb\n"), 2);
    }
}
