//! The registry and index working trees as files: where each document lives, reading it
//! through its parser, and atomic writes. Git (commit, push) is `crate::git`'s job.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::index::{IndexError, IndexFile, IndexView, entry_path};
use crate::metadata::{Metadata, MetadataError};
use crate::package_set::{PackageSet, PackageSetError};
use crate::schema::{Location, PackageName, Version};
use sha2::{Digest, Sha256};

/// Reading or writing a document in a working tree failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("could not {action} `{path}`")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Metadata(#[from] MetadataError),
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error(transparent)]
    PackageSet(#[from] PackageSetError),
    #[error("`{path}` is not named after a package: {reason}")]
    BadFileName { path: PathBuf, reason: String },
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> StoreError {
    let path = path.to_path_buf();
    move |source| StoreError::Io {
        action,
        path,
        source,
    }
}

/// Read a file, `None` when it does not exist.
pub fn read_optional(path: &Path) -> Result<Option<String>, StoreError> {
    match std::fs::read_to_string(path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io("read", path)(e)),
    }
}

/// Write through a temporary file in the same directory, then rename into place.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let dir = path.parent().expect("document paths have a parent");
    std::fs::create_dir_all(dir).map_err(io("create the directory of", path))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io("write", path))?;
    tmp.write_all(bytes).map_err(io("write", path))?;
    tmp.persist(path).map_err(|e| io("write", path)(e.error))?;
    Ok(())
}

/// Remove a file if it exists; `true` if it did.
pub fn remove_file(path: &Path) -> Result<bool, StoreError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io("remove", path)(e)),
    }
}

/// The registry repo's working tree: `metadata/<name>.json`, `package-sets/<version>.json`.
#[derive(Debug, Clone)]
pub struct RegistryDir {
    root: PathBuf,
}

pub const METADATA_DIR: &str = "metadata";
pub const PACKAGE_SETS_DIR: &str = "package-sets";
/// The location lookup: which package lives at each place, so a publish of a new package
/// or a transfer need not read every metadata file (see [`RegistryDir::location_rel`]).
pub const LOCATIONS_DIR: &str = "locations";

/// The head of each package's atom chain: `atoms/<name>`, the hex id of its latest atom,
/// written in the same commit as the metadata change the atom records.
pub const ATOM_HEADS_DIR: &str = "atoms";

const LOCATIONS_README: &str = include_str!("../index-template/registry/locations/README.md");

impl RegistryDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        RegistryDir { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Repo-relative path of a package's metadata.
    pub fn metadata_rel(name: &PackageName) -> PathBuf {
        Path::new(METADATA_DIR).join(format!("{name}.json"))
    }

    pub fn read_metadata(&self, name: &PackageName) -> Result<Option<Metadata>, StoreError> {
        let rel = Self::metadata_rel(name);
        let Some(text) = read_optional(&self.root.join(&rel))? else {
            return Ok(None);
        };
        Ok(Some(Metadata::from_json(
            &rel.display().to_string(),
            &text,
        )?))
    }

    /// Repo-relative path of a package's atom chain head.
    pub fn atom_head_rel(name: &PackageName) -> PathBuf {
        Path::new(ATOM_HEADS_DIR).join(name.as_str())
    }

    /// The text of a package's atom chain head, `None` when it has no atoms.
    pub fn read_atom_head(&self, name: &PackageName) -> Result<Option<String>, StoreError> {
        read_optional(&self.root.join(Self::atom_head_rel(name)))
    }

    /// Writes a package's atom chain head (`text` and a newline); its repo-relative path.
    pub fn write_atom_head(&self, name: &PackageName, text: &str) -> Result<PathBuf, StoreError> {
        let rel = Self::atom_head_rel(name);
        write_atomic(&self.root.join(&rel), format!("{text}\n").as_bytes())?;
        Ok(rel)
    }

    /// The bytes of a package's metadata file, `None` if it has none.
    pub fn read_metadata_text(&self, name: &PackageName) -> Result<Option<String>, StoreError> {
        read_optional(&self.root.join(Self::metadata_rel(name)))
    }

    pub fn write_metadata(&self, name: &PackageName, m: &Metadata) -> Result<PathBuf, StoreError> {
        let rel = Self::metadata_rel(name);
        write_atomic(&self.root.join(&rel), m.to_json().as_bytes())?;
        Ok(rel)
    }

    /// Names of every package with a metadata file, with each file's repo-relative path.
    pub fn metadata_files(&self) -> Result<Vec<(PackageName, PathBuf)>, StoreError> {
        let dir = self.root.join(METADATA_DIR);
        let mut out = Vec::new();
        for rel in list_dir(&dir)? {
            let path = Path::new(METADATA_DIR).join(&rel);
            let stem = rel
                .strip_suffix(".json")
                .ok_or_else(|| StoreError::BadFileName {
                    path: path.clone(),
                    reason: "expected `<name>.json`".into(),
                })?;
            let name =
                stem.parse()
                    .map_err(|e: crate::schema::SchemaError| StoreError::BadFileName {
                        path: path.clone(),
                        reason: e.to_string(),
                    })?;
            out.push((name, path));
        }
        Ok(out)
    }

    /// Every package's metadata. A file that does not parse is an error.
    pub fn all_metadata(&self) -> Result<BTreeMap<PackageName, Metadata>, StoreError> {
        let names: Vec<PackageName> = self.metadata_files()?.into_iter().map(|(n, _)| n).collect();
        self.metadata_of(&names)
    }

    /// The metadata of each of `names` that has a file, read on every core.
    pub fn metadata_of<'n>(
        &self,
        names: impl IntoIterator<Item = &'n PackageName>,
    ) -> Result<BTreeMap<PackageName, Metadata>, StoreError> {
        let names: Vec<&PackageName> = names.into_iter().collect();
        let read = par_map(&names, |name| {
            Ok(self.read_metadata(name)?.map(|m| ((*name).clone(), m)))
        })?;
        Ok(read.into_iter().flatten().collect())
    }

    /// Repo-relative path of the location lookup's entry for the place `location` names:
    /// `locations/<2 hex>/<sha256 of Location::place_key>` (the place's text may hold any
    /// character; its hash is a file name).
    pub fn location_rel(location: &Location) -> PathBuf {
        let hash = hex::encode(Sha256::digest(location.place_key().as_bytes()));
        Path::new(LOCATIONS_DIR).join(&hash[..2]).join(&hash)
    }

    /// Whether the registry keeps the location lookup (`locations/`, which `regis init`
    /// makes and a publish of a new package adds to a registry without it).
    pub fn has_location_lookup(&self) -> bool {
        self.root.join(LOCATIONS_DIR).is_dir()
    }

    /// The package that lives at the place `location` names, if any: one file read from the
    /// location lookup, or, in a registry without one, a scan of every metadata file.
    pub fn location_holder(&self, location: &Location) -> Result<Option<PackageName>, StoreError> {
        if !self.has_location_lookup() {
            return Ok(self
                .all_metadata()?
                .into_iter()
                .find(|(_, m)| m.location.same_place(location))
                .map(|(name, _)| name));
        }
        let rel = Self::location_rel(location);
        let Some(text) = read_optional(&self.root.join(&rel))? else {
            return Ok(None);
        };
        text.trim_end()
            .parse()
            .map(Some)
            .map_err(|e: crate::schema::SchemaError| StoreError::BadFileName {
                path: rel,
                reason: format!("expected the name of the package at `{location}`: {e}"),
            })
    }

    /// Record `name` at the place `location` names; returns the repo-relative path.
    pub fn write_location(
        &self,
        location: &Location,
        name: &PackageName,
    ) -> Result<PathBuf, StoreError> {
        let rel = Self::location_rel(location);
        write_atomic(&self.root.join(&rel), format!("{name}\n").as_bytes())?;
        Ok(rel)
    }

    /// Forget the place `location` names; returns the repo-relative path (to stage its
    /// removal).
    pub fn remove_location(&self, location: &Location) -> Result<PathBuf, StoreError> {
        let rel = Self::location_rel(location);
        let path = self.root.join(&rel);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(rel),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(rel),
            Err(e) => Err(io("remove", &path)(e)),
        }
    }

    /// The whole location lookup, from every metadata file (for a registry that has none
    /// yet); returns the repo-relative paths written.
    pub fn write_all_locations(&self) -> Result<Vec<PathBuf>, StoreError> {
        let mut written = vec![self.write_location_readme()?];
        for (name, m) in self.all_metadata()? {
            written.push(self.write_location(&m.location, &name)?);
        }
        Ok(written)
    }

    /// `locations/README.md`, which says what the directory is (and keeps it in git when
    /// it is empty).
    pub fn write_location_readme(&self) -> Result<PathBuf, StoreError> {
        let rel = Path::new(LOCATIONS_DIR).join("README.md");
        write_atomic(&self.root.join(&rel), LOCATIONS_README.as_bytes())?;
        Ok(rel)
    }

    /// Write a package set at `package-sets/<version>.json`; returns the repo-relative path.
    pub fn write_package_set(&self, set: &PackageSet) -> Result<PathBuf, StoreError> {
        let rel = PathBuf::from(set.file_name());
        write_atomic(&self.root.join(&rel), set.to_json().as_bytes())?;
        Ok(rel)
    }

    /// The newest package set, if there is one.
    pub fn latest_package_set(&self) -> Result<Option<PackageSet>, StoreError> {
        Ok(self
            .package_sets()?
            .into_values()
            .next_back()
            .map(|(_, set)| set))
    }

    /// Every package set, ordered by version.
    pub fn package_sets(&self) -> Result<BTreeMap<Version, (PathBuf, PackageSet)>, StoreError> {
        let dir = self.root.join(PACKAGE_SETS_DIR);
        let mut out = BTreeMap::new();
        for rel in list_dir(&dir)? {
            let path = Path::new(PACKAGE_SETS_DIR).join(&rel);
            let text = read_optional(&self.root.join(&path))?.unwrap_or_default();
            let set = PackageSet::from_json(&path.display().to_string(), &text)?;
            out.insert(set.version.clone(), (path, set));
        }
        Ok(out)
    }
}

/// The sorted file names directly in `dir` (no hidden files); empty if `dir` is absent.
pub fn list_dir(dir: &Path) -> Result<Vec<String>, StoreError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io("list", dir)(e)),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(io("list", dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        // the entry's type comes with the listing; only a symlink costs a stat (to the file
        // it points at, which counts as a file as before)
        let kind = entry.file_type().map_err(io("list", dir))?;
        if kind.is_file() || (kind.is_symlink() && entry.path().is_file()) {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// The index repo's working tree.
#[derive(Debug, Clone)]
pub struct IndexDir {
    root: PathBuf,
}

impl IndexDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        IndexDir { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// One package's entries, `None` if it has no index file.
    pub fn read(&self, name: &PackageName) -> Result<Option<IndexFile>, StoreError> {
        let rel = entry_path(name);
        let Some(text) = read_optional(&self.root.join(&rel))? else {
            return Ok(None);
        };
        Ok(Some(IndexFile::parse(&rel, name, &text)?))
    }

    /// Write a package's entries; an empty file is removed. Returns the repo-relative path.
    pub fn write(&self, name: &PackageName, file: &IndexFile) -> Result<PathBuf, StoreError> {
        let rel = PathBuf::from(entry_path(name));
        let path = self.root.join(&rel);
        if file.is_empty() {
            remove_file(&path)?;
        } else {
            write_atomic(&path, file.to_text().as_bytes())?;
        }
        Ok(rel)
    }

    /// Every index file below the root (skipping hidden entries and top-level files such as
    /// a README), as repo-relative `/`-separated paths.
    pub fn files(&self) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        let walk = walkdir::WalkDir::new(&self.root)
            .min_depth(1)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| !e.file_name().to_string_lossy().starts_with('.'));
        for entry in walk {
            let entry = entry.map_err(|e| {
                let path = e.path().unwrap_or(&self.root).to_path_buf();
                StoreError::Io {
                    action: "walk",
                    path,
                    source: e
                        .into_io_error()
                        .unwrap_or_else(|| std::io::Error::other("loop")),
                }
            })?;
            if entry.file_type().is_file() && entry.depth() >= 2 {
                let rel = entry.path().strip_prefix(&self.root).expect("below root");
                // joined by `/` part by part: a `\` inside a name stays in it (and the name
                // is then refused), it does not turn into a directory level
                let parts: Vec<_> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect();
                out.push(parts.join("/"));
            }
        }
        Ok(out)
    }

    /// The index as far as `name` goes: its own file whole and, of every other package, the
    /// versions whose line mentions `"name"` (a dependency on it among them). That is all
    /// [`IndexView::stranded_without`] reads, so an unpublish need not parse every line of
    /// a large index: files are read in parallel, each searched for the quoted name first,
    /// and only the lines holding it are parsed (and checked as [`IndexDir::view`] does).
    pub fn view_mentioning(&self, name: &PackageName) -> Result<IndexView, StoreError> {
        let needle = format!("\"{name}\"");
        let finder = memchr::memmem::Finder::new(needle.as_bytes());
        let found = par_map(&self.files()?, |rel| {
            let owner = index_file_name(rel)?;
            let path = self.root.join(rel);
            let bytes = std::fs::read(&path).map_err(io("read", &path))?;
            if finder.find(&bytes).is_none() {
                return Ok(None);
            }
            let text = String::from_utf8(bytes).map_err(|e| {
                io("read", &path)(std::io::Error::new(std::io::ErrorKind::InvalidData, e))
            })?;
            Ok(IndexFile::parse_mentioning(rel, &owner, &text, &needle)?.map(|file| (owner, file)))
        })?;
        Ok(view_of_files(found.into_iter().flatten()))
    }

    /// The whole index, read on every core. A file at the wrong path or with a bad line is
    /// an error.
    pub fn view(&self) -> Result<IndexView, StoreError> {
        let files = par_map(&self.files()?, |rel| {
            let name = index_file_name(rel)?;
            let text = read_optional(&self.root.join(rel))?.unwrap_or_default();
            let file = IndexFile::parse(rel, &name, &text)?;
            Ok((name, file))
        })?;
        Ok(view_of_files(files))
    }

    /// The index files of the packages `wanted` names (those that have one), read on every
    /// core: whole where no version is given, else only the line of that version (the file
    /// is searched for `"version":"<v>"`, and parsed whole if no line has it written so).
    pub fn view_of<'w>(
        &self,
        wanted: impl IntoIterator<Item = (&'w PackageName, Option<&'w Version>)>,
    ) -> Result<IndexView, StoreError> {
        let wanted: Vec<_> = wanted.into_iter().collect();
        let files = par_map(&wanted, |(name, version)| {
            let rel = entry_path(name);
            let Some(text) = read_optional(&self.root.join(&rel))? else {
                return Ok(None);
            };
            let only = match version {
                Some(v) => {
                    IndexFile::parse_mentioning(&rel, name, &text, &format!("\"version\":\"{v}\""))?
                }
                None => None,
            };
            let file = match only {
                Some(file) => file,
                None => IndexFile::parse(&rel, name, &text)?,
            };
            Ok(Some(((*name).clone(), file)))
        })?;
        Ok(view_of_files(files.into_iter().flatten()))
    }
}

fn view_of_files(files: impl IntoIterator<Item = (PackageName, IndexFile)>) -> IndexView {
    let mut view = IndexView::default();
    for (name, file) in files {
        view.insert_file(name, file);
    }
    view
}

/// `f` over `items` on every core; the results in order, or the first error in that order
/// (so that which file is reported does not depend on the threads).
fn par_map<T: Sync, U: Send>(
    items: &[T],
    f: impl Fn(&T) -> Result<U, StoreError> + Sync + Send,
) -> Result<Vec<U>, StoreError> {
    use rayon::prelude::*;
    let results: Vec<Result<U, StoreError>> = items.par_iter().map(f).collect();
    results.into_iter().collect()
}

/// The package an index file belongs to, checking that it sits at its one right path.
pub fn index_file_name(rel: &str) -> Result<PackageName, StoreError> {
    let bad = |reason: String| StoreError::BadFileName {
        path: PathBuf::from(rel),
        reason,
    };
    let file = rel.rsplit('/').next().unwrap_or(rel);
    let name: PackageName = file
        .parse()
        .map_err(|e: crate::schema::SchemaError| bad(e.to_string()))?;
    let expected = entry_path(&name);
    if expected != rel {
        return Err(bad(format!("package `{name}` belongs at `{expected}`")));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_files_must_sit_at_their_path() {
        assert_eq!(index_file_name("3/a/aff").unwrap().as_str(), "aff");
        let e = index_file_name("af/f/aff").unwrap_err().to_string();
        assert_eq!(
            e,
            "`af/f/aff` is not named after a package: package `aff` belongs at `3/a/aff`"
        );
        assert!(index_file_name("3/a/Aff").is_err());
    }

    #[test]
    fn atomic_write_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let reg = RegistryDir::new(dir.path());
        let name: PackageName = "a".parse().unwrap();
        assert!(reg.read_metadata(&name).unwrap().is_none());
        let m = Metadata::new(
            crate::schema::Location::github("o", "r", None).unwrap(),
            None,
        );
        assert_eq!(
            reg.write_metadata(&name, &m).unwrap(),
            Path::new("metadata/a.json")
        );
        assert_eq!(reg.read_metadata(&name).unwrap(), Some(m));
        assert_eq!(reg.metadata_files().unwrap().len(), 1);
        std::fs::write(dir.path().join("metadata/B.json"), "{}").unwrap();
        assert!(reg.metadata_files().is_err());
    }

    /// `pr/el\prelude` beside `pr/el/prelude` is not a second file of `prelude`.
    #[test]
    fn a_backslash_in_an_index_file_name_is_not_a_directory_level() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("pr/el")).unwrap();
        std::fs::write(dir.path().join("pr/el/prelude"), "").unwrap();
        std::fs::write(dir.path().join("pr/el\\prelude"), "").unwrap();
        let index = IndexDir::new(dir.path());
        assert_eq!(index.files().unwrap(), ["pr/el/prelude", "pr/el\\prelude"]);
        assert!(index_file_name("pr/el\\prelude").is_err());
    }

    #[test]
    fn a_listing_has_the_files_and_the_links_to_files() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("b.json"), "").unwrap();
        std::fs::write(d.join(".hidden"), "").unwrap();
        std::fs::create_dir(d.join("sub")).unwrap();
        std::os::unix::fs::symlink("b.json", d.join("a.json")).unwrap();
        std::os::unix::fs::symlink("sub", d.join("c")).unwrap();
        std::os::unix::fs::symlink("absent", d.join("d")).unwrap();
        assert_eq!(list_dir(d).unwrap(), ["a.json", "b.json"]);
        assert!(list_dir(&d.join("none")).unwrap().is_empty());
    }

    /// On the real index (673 packages, 3,957 versions): for every version of packages
    /// depended on widely, by few, and by none (and names that prefix others: `aff`,
    /// `aff-promise`), the lines that mention the name say exactly what the whole index
    /// says about who would be stranded, from fewer of its lines.
    #[test]
    fn the_lines_mentioning_a_package_strand_what_the_whole_index_strands() {
        let Some(dir) = crate::testing::purescript_fixtures() else {
            return;
        };
        let index = IndexDir::new(dir.join("package-set-samples/index"));
        let whole = index.view().unwrap();
        let lines = |view: &IndexView| -> usize {
            view.packages().map(|(_, f)| f.manifests().count()).sum()
        };
        let mut stranding = 0;
        for name in [
            "prelude",
            "aff",
            "aff-promise",
            "effect",
            "yoga-om",
            "argonaut-codecs",
        ] {
            let name: PackageName = name.parse().unwrap();
            let mentioning = index.view_mentioning(&name).unwrap();
            assert_eq!(mentioning.package(&name), whole.package(&name), "{name}");
            assert!(lines(&mentioning) < lines(&whole), "{name}");
            for version in whole.package(&name).unwrap().versions() {
                let expected = whole.stranded_without(&name, version);
                stranding += usize::from(!expected.is_empty());
                assert_eq!(
                    mentioning.stranded_without(&name, version),
                    expected,
                    "{name}@{version}"
                );
            }
        }
        // the comparison is not between two empty answers
        assert!(stranding > 0);
        // 73 lines mention `yoga-om`
        let yoga = index.view_mentioning(&"yoga-om".parse().unwrap()).unwrap();
        assert_eq!(lines(&yoga), 73);
    }

    #[test]
    fn lines_mentioning_a_package_or_a_version_are_checked_and_others_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let line = |n: &str, deps: &str| {
            format!(
                r#"{{"name":"{n}","version":"1.0.0","license":"MIT","location":{{"githubOwner":"o","githubRepo":"{n}"}},"ref":"v1.0.0","dependencies":{{{deps}}}}}"#
            )
        };
        let write = |rel: &str, text: String| {
            let path = dir.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write("1/a", format!("{}\n", line("a", "")));
        write("1/b", format!("{}\n", line("b", r#""a":">=1.0.0 <2.0.0""#)));
        // a broken line elsewhere is no concern of `a`'s
        write("1/c", "{not json\n".to_owned());
        let index = IndexDir::new(dir.path());
        let a: PackageName = "a".parse().unwrap();
        let view = index.view_mentioning(&a).unwrap();
        let names: Vec<&str> = view.packages().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert!(index.view().is_err());
        // a package's file whole, or the line of one version
        let b: PackageName = "b".parse().unwrap();
        let v: Version = "1.0.0".parse().unwrap();
        let two = format!(
            "{}\n{}\n",
            line("b", ""),
            line("b", "").replace("1.0.0", "2.0.0")
        );
        write("1/b", two);
        let versions = |view: IndexView| -> Vec<String> {
            view.package(&b)
                .unwrap()
                .versions()
                .map(|v| v.to_string())
                .collect()
        };
        assert_eq!(
            versions(index.view_of([(&b, None)]).unwrap()),
            ["1.0.0", "2.0.0"]
        );
        assert_eq!(
            versions(index.view_of([(&b, Some(&v))]).unwrap()),
            ["1.0.0"]
        );
        let absent: Version = "3.0.0".parse().unwrap();
        assert_eq!(
            versions(index.view_of([(&b, Some(&absent))]).unwrap()),
            ["1.0.0", "2.0.0"]
        );
        assert!(index.view_of([(&"c".parse().unwrap(), None)]).is_err());
        assert!(
            index
                .view_of([(&"zz".parse().unwrap(), None)])
                .unwrap()
                .packages()
                .next()
                .is_none()
        );
        // a broken line that mentions `a` is an error naming its file and line
        write("1/d", format!("{}\n{{\"a\" broken\n", line("d", "")));
        let e = index.view_mentioning(&a).unwrap_err().to_string();
        assert!(e.contains("`1/d`") && e.contains("line 2"), "{e}");
    }
}
