//! Fetching a package's source at a ref (git2 clone of its location).
//!
//! [`GitSource`] fetches every branch and tag of a location into a private bare repository,
//! resolves the ref to a commit and lists the package's files from git objects (no checkout);
//! file contents are read only when asked for. [`MemorySource`] serves fixed files for tests.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Mutex;

use git2::{
    AutotagOption, Commit, ErrorCode, FetchOptions, ObjectType, Odb, Oid, Repository, Tree,
    TreeEntry, TreeWalkMode, TreeWalkResult,
};
use tempfile::TempDir;
use thiserror::Error;

use crate::git::{redact_url, scrub};

/// Git file modes of the tree entries a package can contain.
const MODE_FILE: i32 = 0o100644;
const MODE_GROUP_WRITABLE_FILE: i32 = 0o100664;
const MODE_EXECUTABLE: i32 = 0o100755;
const MODE_SYMLINK: i32 = 0o120000;

/// What a fetch brings over: every branch and every tag, under their own names.
const REFSPECS: [&str; 2] = ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"];

/// Errors while fetching or reading a package source. URLs never carry credentials.
#[derive(Debug, Error)]
pub enum SourceError {
    #[error("could not clone `{url}`: {cause}")]
    Clone { url: String, cause: String },
    #[error("ref `{reference}` not found in `{url}`: expected a tag, branch or commit id")]
    RefNotFound { reference: String, url: String },
    #[error(
        "ref `{reference}` in `{url}` is an ambiguous commit id: expected a tag, branch or a longer commit id"
    )]
    AmbiguousRef { reference: String, url: String },
    #[error("ref `{reference}` in `{url}` does not point to a commit: {cause}")]
    NotACommit {
        reference: String,
        url: String,
        cause: String,
    },
    #[error(
        "invalid subdir `{subdir}` for ref `{reference}` in `{url}`: expected a relative `/`-separated path without `..`"
    )]
    InvalidSubdir {
        subdir: String,
        reference: String,
        url: String,
    },
    #[error("subdir `{subdir}` not found at ref `{reference}` in `{url}`: expected a directory")]
    SubdirNotFound {
        subdir: String,
        reference: String,
        url: String,
    },
    #[error(
        "path `{path}` at ref `{reference}` in `{url}` is not valid UTF-8: expected UTF-8 paths and symlink targets"
    )]
    NotUtf8 {
        path: String,
        reference: String,
        url: String,
    },
    #[error("could not read {what} at ref `{reference}` in `{url}`: {cause}")]
    Read {
        what: String,
        reference: String,
        url: String,
        cause: String,
    },
    #[error(
        "no file `{path}` in the source at commit `{commit}`: expected one of its listed files"
    )]
    FileNotFound { path: String, commit: String },
    #[error("`{path}` in the source at commit `{commit}` is a symlink: expected a regular file")]
    NotAFile { path: String, commit: String },
    #[error("could not read `{path}` in the source at commit `{commit}`: {cause}")]
    Blob {
        path: String,
        commit: String,
        cause: String,
    },
    #[error("could not create a temporary directory to clone `{url}`: {cause}")]
    TempDir { url: String, cause: std::io::Error },
}

/// One file of a package, relative to the package root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceEntry {
    /// `/`-separated path relative to the package root.
    pub path: String,
    pub kind: EntryKind,
}

/// What a [`SourceEntry`] is. Directories are implied by paths; submodules are skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    File { executable: bool, size: u64 },
    Symlink { target: String },
}

/// The files of one package at one commit.
pub struct SourceTree {
    commit: String,
    entries: Vec<SourceEntry>,
    blobs: Blobs,
}

/// Where file contents come from. Field order matters: the repository closes before its
/// temporary directory is removed.
enum Blobs {
    Git {
        repo: Mutex<Repository>,
        ids: BTreeMap<String, Oid>,
        _dir: TempDir,
    },
    Memory(BTreeMap<String, Vec<u8>>),
}

impl fmt::Debug for SourceTree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SourceTree")
            .field("commit", &self.commit)
            .field("entries", &self.entries)
            .finish_non_exhaustive()
    }
}

impl SourceTree {
    /// The hex commit id (`""` for an in-memory source).
    pub fn commit(&self) -> &str {
        &self.commit
    }

    /// Every file and symlink, sorted by path.
    pub fn entries(&self) -> &[SourceEntry] {
        &self.entries
    }

    /// The contents of the regular file at `path` (as listed in [`entries`](Self::entries)).
    pub fn read(&self, path: &str) -> Result<Vec<u8>, SourceError> {
        let entry = self
            .entries
            .binary_search_by(|entry| entry.path.as_str().cmp(path))
            .map(|at| &self.entries[at])
            .map_err(|_| self.file_not_found(path))?;
        if let EntryKind::Symlink { .. } = entry.kind {
            return Err(SourceError::NotAFile {
                path: path.to_owned(),
                commit: self.commit.clone(),
            });
        }
        match &self.blobs {
            Blobs::Memory(files) => files
                .get(path)
                .cloned()
                .ok_or_else(|| self.file_not_found(path)),
            Blobs::Git { repo, ids, .. } => {
                let id = ids.get(path).ok_or_else(|| self.file_not_found(path))?;
                self.read_blob(repo, *id, path)
            }
        }
    }

    /// A source of plain, non-executable files, for tests. A path given twice keeps the last
    /// contents.
    pub fn from_memory(files: Vec<(String, Vec<u8>)>) -> SourceTree {
        let files: BTreeMap<String, Vec<u8>> = files.into_iter().collect();
        let entries = files
            .iter()
            .map(|(path, bytes)| SourceEntry {
                path: path.clone(),
                kind: EntryKind::File {
                    executable: false,
                    size: bytes.len() as u64,
                },
            })
            .collect();
        SourceTree {
            commit: String::new(),
            entries,
            blobs: Blobs::Memory(files),
        }
    }

    fn read_blob(
        &self,
        repo: &Mutex<Repository>,
        id: Oid,
        path: &str,
    ) -> Result<Vec<u8>, SourceError> {
        let repo = repo.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let blob = repo.find_blob(id).map_err(|e| SourceError::Blob {
            path: path.to_owned(),
            commit: self.commit.clone(),
            cause: e.message().to_owned(),
        })?;
        Ok(blob.content().to_vec())
    }

    fn file_not_found(&self, path: &str) -> SourceError {
        SourceError::FileNotFound {
            path: path.to_owned(),
            commit: self.commit.clone(),
        }
    }
}

/// Fetches a package's files at a ref.
pub trait Source {
    /// The files under `subdir` (or the whole tree) of `url` at `reference`: a tag, a
    /// branch, or a full or abbreviated commit id, tried in that order.
    fn fetch(
        &self,
        url: &str,
        reference: &str,
        subdir: Option<&str>,
    ) -> Result<SourceTree, SourceError>;
}

/// Fetches over git (file://, plain local paths, git://, http(s)://) into a private
/// temporary directory that lives as long as the returned [`SourceTree`].
#[derive(Debug, Clone, Default)]
pub struct GitSource {
    _private: (),
}

impl GitSource {
    pub fn new() -> Self {
        Self::default()
    }
}

impl Source for GitSource {
    fn fetch(
        &self,
        url: &str,
        reference: &str,
        subdir: Option<&str>,
    ) -> Result<SourceTree, SourceError> {
        let at = At { url, reference };
        let subdir = at.normalize_subdir(subdir)?;
        let dir = tempfile::Builder::new()
            .prefix("regis-source-")
            .tempdir()
            .map_err(|cause| SourceError::TempDir {
                url: redact_url(url),
                cause,
            })?;
        let repo = clone_bare(url, dir.path())?;
        let (commit, entries, ids) = {
            let commit = at.resolve(&repo)?;
            let tree = at.package_tree(&repo, &commit, subdir.as_deref())?;
            let (entries, ids) = at.list(&repo, &tree)?;
            (commit.id().to_string(), entries, ids)
        };
        Ok(SourceTree {
            commit,
            entries,
            blobs: Blobs::Git {
                repo: Mutex::new(repo),
                ids,
                _dir: dir,
            },
        })
    }
}

/// Files as `(path, contents)` pairs, the input of [`SourceTree::from_memory`].
type MemoryFiles = Vec<(String, Vec<u8>)>;

/// Fixed files per `(url, ref)`, for tests.
#[derive(Debug, Clone, Default)]
pub struct MemorySource {
    sources: BTreeMap<(String, String), MemoryFiles>,
}

impl MemorySource {
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves `files` (paths relative to the repository root) for `url` at `reference`.
    pub fn insert(&mut self, url: &str, reference: &str, files: Vec<(String, Vec<u8>)>) {
        self.sources
            .insert((url.to_owned(), reference.to_owned()), files);
    }
}

impl Source for MemorySource {
    fn fetch(
        &self,
        url: &str,
        reference: &str,
        subdir: Option<&str>,
    ) -> Result<SourceTree, SourceError> {
        let at = At { url, reference };
        let subdir = at.normalize_subdir(subdir)?;
        let files = self
            .sources
            .get(&(url.to_owned(), reference.to_owned()))
            .ok_or_else(|| at.ref_not_found())?;
        let Some(subdir) = subdir else {
            return Ok(SourceTree::from_memory(files.clone()));
        };
        let prefix = format!("{subdir}/");
        let inside: Vec<(String, Vec<u8>)> = files
            .iter()
            .filter_map(|(path, bytes)| {
                let path = path.strip_prefix(&prefix)?;
                Some((path.to_owned(), bytes.clone()))
            })
            .collect();
        if inside.is_empty() {
            return Err(at.subdir_not_found(&subdir));
        }
        Ok(SourceTree::from_memory(inside))
    }
}

/// Fetches every branch and tag of `url` into a new bare repository at `dir`.
fn clone_bare(url: &str, dir: &Path) -> Result<Repository, SourceError> {
    let fail = |e: git2::Error| SourceError::Clone {
        url: redact_url(url),
        cause: scrub(e.message(), url),
    };
    let repo = Repository::init_bare(dir).map_err(fail)?;
    fetch_refspecs(&repo, url, &REFSPECS).map_err(fail)?;
    Ok(repo)
}

fn fetch_refspecs(repo: &Repository, url: &str, refspecs: &[&str]) -> Result<(), git2::Error> {
    let mut remote = repo.remote_anonymous(url)?;
    let mut options = FetchOptions::new();
    options.download_tags(AutotagOption::None);
    remote.fetch(refspecs, Some(&mut options), None)
}

fn is_commit_id_prefix(reference: &str) -> bool {
    (4..=40).contains(&reference.len()) && reference.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The location and ref being fetched, which every error names.
struct At<'a> {
    url: &'a str,
    reference: &'a str,
}

impl At<'_> {
    /// `subdir` as `a/b` (`None` for the root), refusing absolute paths and `..`.
    fn normalize_subdir(&self, subdir: Option<&str>) -> Result<Option<String>, SourceError> {
        let Some(raw) = subdir else {
            return Ok(None);
        };
        if raw.starts_with('/') || raw.contains('\\') {
            return Err(self.invalid_subdir(raw));
        }
        let mut parts = Vec::new();
        for part in raw.split('/') {
            match part {
                "" | "." => {}
                ".." => return Err(self.invalid_subdir(raw)),
                part => parts.push(part),
            }
        }
        Ok((!parts.is_empty()).then(|| parts.join("/")))
    }

    /// The commit `reference` names: a tag, then a branch, then a commit id.
    fn resolve<'r>(&self, repo: &'r Repository) -> Result<Commit<'r>, SourceError> {
        for name in [
            format!("refs/tags/{}", self.reference),
            format!("refs/heads/{}", self.reference),
        ] {
            if let Ok(reference) = repo.find_reference(&name) {
                return reference
                    .peel_to_commit()
                    .map_err(|e| self.not_a_commit(&e));
            }
        }
        if !is_commit_id_prefix(self.reference) {
            return Err(self.ref_not_found());
        }
        match self.find_commit_id(repo) {
            Err(SourceError::RefNotFound { .. }) if self.reference.len() == 40 => {
                // A commit no branch or tag reaches: servers may still hand it out by id.
                let _ = fetch_refspecs(repo, self.url, &[self.reference]);
                self.find_commit_id(repo)
            }
            found => found,
        }
    }

    fn find_commit_id<'r>(&self, repo: &'r Repository) -> Result<Commit<'r>, SourceError> {
        match repo.find_object_by_prefix(self.reference, None) {
            Ok(object) => object.peel_to_commit().map_err(|e| self.not_a_commit(&e)),
            Err(e) if e.code() == ErrorCode::Ambiguous => Err(SourceError::AmbiguousRef {
                reference: self.reference.to_owned(),
                url: redact_url(self.url),
            }),
            Err(_) => Err(self.ref_not_found()),
        }
    }

    /// The tree of the package: the commit's root tree, or the directory `subdir`.
    fn package_tree<'r>(
        &self,
        repo: &'r Repository,
        commit: &Commit<'r>,
        subdir: Option<&str>,
    ) -> Result<Tree<'r>, SourceError> {
        let root = commit
            .tree()
            .map_err(|e| self.read_error("the commit's tree", &e))?;
        let Some(subdir) = subdir else {
            return Ok(root);
        };
        let entry = root
            .get_path(Path::new(subdir))
            .ok()
            .filter(|entry| entry.kind() == Some(ObjectType::Tree))
            .ok_or_else(|| self.subdir_not_found(subdir))?;
        repo.find_tree(entry.id())
            .map_err(|e| self.read_error(&format!("subdir `{subdir}`"), &e))
    }

    /// Every file and symlink under `tree`, sorted by path, with the blob ids of the files.
    fn list(
        &self,
        repo: &Repository,
        tree: &Tree<'_>,
    ) -> Result<(Vec<SourceEntry>, BTreeMap<String, Oid>), SourceError> {
        let odb = repo
            .odb()
            .map_err(|e| self.read_error("the object database", &e))?;
        let mut entries = Vec::new();
        let mut ids = BTreeMap::new();
        let mut failure = None;
        let walked = tree.walk(TreeWalkMode::PreOrder, |root, entry| {
            match self.entry(repo, &odb, root, entry) {
                Ok(Some(found)) => {
                    if let EntryKind::File { .. } = found.kind {
                        ids.insert(found.path.clone(), entry.id());
                    }
                    entries.push(found);
                    TreeWalkResult::Ok
                }
                Ok(None) => TreeWalkResult::Ok,
                Err(error) => {
                    failure = Some(error);
                    TreeWalkResult::Abort
                }
            }
        });
        if let Some(error) = failure {
            return Err(error);
        }
        walked.map_err(|e| self.read_error("the tree", &e))?;
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        Ok((entries, ids))
    }

    /// One tree entry as a [`SourceEntry`]; `None` for directories and submodules.
    fn entry(
        &self,
        repo: &Repository,
        odb: &Odb<'_>,
        root: &str,
        entry: &TreeEntry<'_>,
    ) -> Result<Option<SourceEntry>, SourceError> {
        let mode = entry.filemode();
        if !matches!(
            mode,
            MODE_FILE | MODE_GROUP_WRITABLE_FILE | MODE_EXECUTABLE | MODE_SYMLINK
        ) {
            return Ok(None);
        }
        let path = match entry.name() {
            Ok(name) => format!("{root}{name}"),
            Err(_) => {
                let name = String::from_utf8_lossy(entry.name_bytes());
                return Err(self.not_utf8(&format!("{root}{name}")));
            }
        };
        let kind = if mode == MODE_SYMLINK {
            EntryKind::Symlink {
                target: self.symlink_target(repo, entry.id(), &path)?,
            }
        } else {
            let (size, _) = odb
                .read_header(entry.id())
                .map_err(|e| self.read_error(&format!("`{path}`"), &e))?;
            EntryKind::File {
                executable: mode == MODE_EXECUTABLE,
                size: size as u64,
            }
        };
        Ok(Some(SourceEntry { path, kind }))
    }

    fn symlink_target(
        &self,
        repo: &Repository,
        id: Oid,
        path: &str,
    ) -> Result<String, SourceError> {
        let blob = repo
            .find_blob(id)
            .map_err(|e| self.read_error(&format!("symlink `{path}`"), &e))?;
        String::from_utf8(blob.content().to_vec()).map_err(|_| self.not_utf8(path))
    }

    fn ref_not_found(&self) -> SourceError {
        SourceError::RefNotFound {
            reference: self.reference.to_owned(),
            url: redact_url(self.url),
        }
    }

    fn not_a_commit(&self, cause: &git2::Error) -> SourceError {
        SourceError::NotACommit {
            reference: self.reference.to_owned(),
            url: redact_url(self.url),
            cause: cause.message().to_owned(),
        }
    }

    fn invalid_subdir(&self, subdir: &str) -> SourceError {
        SourceError::InvalidSubdir {
            subdir: subdir.to_owned(),
            reference: self.reference.to_owned(),
            url: redact_url(self.url),
        }
    }

    fn subdir_not_found(&self, subdir: &str) -> SourceError {
        SourceError::SubdirNotFound {
            subdir: subdir.to_owned(),
            reference: self.reference.to_owned(),
            url: redact_url(self.url),
        }
    }

    fn not_utf8(&self, path: &str) -> SourceError {
        SourceError::NotUtf8 {
            path: path.to_owned(),
            reference: self.reference.to_owned(),
            url: redact_url(self.url),
        }
    }

    fn read_error(&self, what: &str, cause: &git2::Error) -> SourceError {
        SourceError::Read {
            what: what.to_owned(),
            reference: self.reference.to_owned(),
            url: redact_url(self.url),
            cause: cause.message().to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::testing::Daemon;
    use git2::{RepositoryInitOptions, Signature};
    use std::fs;
    use std::os::unix::fs::{PermissionsExt, symlink};
    use std::path::PathBuf;

    /// A package repository with tags, a branch, a submodule entry and a tag no branch reaches.
    struct Fixture {
        root: TempDir,
        path: PathBuf,
        v1: Oid,
        feature: Oid,
        orphan: Oid,
        dangling: Oid,
    }

    impl Fixture {
        fn url(&self) -> &str {
            self.path.to_str().unwrap()
        }

        fn fetch(&self, reference: &str, subdir: Option<&str>) -> Result<SourceTree, SourceError> {
            GitSource::new().fetch(self.url(), reference, subdir)
        }
    }

    fn fixture() -> Fixture {
        let root = TempDir::new().unwrap();
        let path = root.path().join("pkg");
        let mut options = RepositoryInitOptions::new();
        options.mkpath(true).initial_head("main");
        let repo = Repository::init_opts(&path, &options).unwrap();
        write_package(&path);
        let v1 = commit_work_tree(&repo);
        repo.tag_lightweight("v1.0.0", &repo.find_object(v1, None).unwrap(), false)
            .unwrap();
        repo.tag(
            "v1.0.1",
            &repo.find_object(v1, None).unwrap(),
            &signature(),
            "v1.0.1",
            false,
        )
        .unwrap();
        let feature = child_commit(&repo, v1, "feature.txt", Some("refs/heads/feature"));
        let orphan = child_commit(&repo, v1, "orphan.txt", None);
        repo.tag_lightweight("orphan", &repo.find_object(orphan, None).unwrap(), false)
            .unwrap();
        let dangling = child_commit(&repo, v1, "dangling.txt", None);
        drop(repo);
        Fixture {
            root,
            path,
            v1,
            feature,
            orphan,
            dangling,
        }
    }

    fn write_package(path: &Path) {
        fs::create_dir_all(path.join("src")).unwrap();
        fs::create_dir_all(path.join("bin")).unwrap();
        fs::create_dir_all(path.join("lib/sub/src")).unwrap();
        fs::write(path.join("purs.json"), "{}\n").unwrap();
        fs::write(path.join("src/Main.purs"), "module Main where\n").unwrap();
        fs::write(path.join("bin/run.sh"), "#!/bin/sh\n").unwrap();
        fs::set_permissions(path.join("bin/run.sh"), fs::Permissions::from_mode(0o755)).unwrap();
        symlink("src/Main.purs", path.join("link")).unwrap();
        fs::write(path.join("lib/sub/purs.json"), "{\"sub\":true}\n").unwrap();
        fs::write(path.join("lib/sub/src/A.purs"), "module A where\n").unwrap();
    }

    fn signature() -> Signature<'static> {
        Signature::now("test", "test@localhost").unwrap()
    }

    /// Commits the work tree on `main`, plus a submodule entry `vendor`.
    fn commit_work_tree(repo: &Repository) -> Oid {
        let mut index = repo.index().unwrap();
        index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .unwrap();
        index.write().unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let mut builder = repo.treebuilder(Some(&tree)).unwrap();
        let submodule = Oid::from_str("1234567890123456789012345678901234567890").unwrap();
        builder.insert("vendor", submodule, 0o160000).unwrap();
        let tree = repo.find_tree(builder.write().unwrap()).unwrap();
        let sig = signature();
        repo.commit(Some("HEAD"), &sig, &sig, "v1", &tree, &[])
            .unwrap()
    }

    /// A commit on top of `parent` adding `file`, on `branch` or on no branch at all.
    fn child_commit(repo: &Repository, parent: Oid, file: &str, branch: Option<&str>) -> Oid {
        let parent = repo.find_commit(parent).unwrap();
        let blob = repo.blob(file.as_bytes()).unwrap();
        let mut builder = repo.treebuilder(Some(&parent.tree().unwrap())).unwrap();
        builder.insert(file, blob, 0o100644).unwrap();
        let tree = repo.find_tree(builder.write().unwrap()).unwrap();
        let sig = signature();
        repo.commit(branch, &sig, &sig, file, &tree, &[&parent])
            .unwrap()
    }

    fn paths(tree: &SourceTree) -> Vec<&str> {
        tree.entries().iter().map(|e| e.path.as_str()).collect()
    }

    fn file(path: &str, executable: bool, size: u64) -> SourceEntry {
        SourceEntry {
            path: path.to_owned(),
            kind: EntryKind::File { executable, size },
        }
    }

    #[test]
    fn fetch_by_lightweight_tag_lists_files_modes_and_symlinks() {
        let fx = fixture();
        let tree = fx.fetch("v1.0.0", None).unwrap();
        assert_eq!(tree.commit(), fx.v1.to_string());
        assert_eq!(
            tree.entries(),
            [
                file("bin/run.sh", true, 10),
                file("lib/sub/purs.json", false, 13),
                file("lib/sub/src/A.purs", false, 15),
                SourceEntry {
                    path: "link".to_owned(),
                    kind: EntryKind::Symlink {
                        target: "src/Main.purs".to_owned()
                    },
                },
                file("purs.json", false, 3),
                file("src/Main.purs", false, 18),
            ]
        );
    }

    #[test]
    fn fetch_peels_annotated_tags() {
        let fx = fixture();
        assert_eq!(
            fx.fetch("v1.0.1", None).unwrap().commit(),
            fx.v1.to_string()
        );
    }

    #[test]
    fn fetch_by_branch_and_by_commit_id() {
        let fx = fixture();
        let feature = fx.fetch("feature", None).unwrap();
        assert_eq!(feature.commit(), fx.feature.to_string());
        assert!(paths(&feature).contains(&"feature.txt"));

        let full = fx.fetch(&fx.feature.to_string(), None).unwrap();
        assert_eq!(full.commit(), fx.feature.to_string());
        let short = &fx.v1.to_string()[..7];
        let abbreviated = fx.fetch(short, None).unwrap();
        assert_eq!(abbreviated.commit(), fx.v1.to_string());
        assert_eq!(fx.fetch("main", None).unwrap().commit(), fx.v1.to_string());
    }

    #[test]
    fn fetch_reaches_tags_no_branch_contains() {
        let fx = fixture();
        let tree = fx.fetch("orphan", None).unwrap();
        assert_eq!(tree.commit(), fx.orphan.to_string());
        assert!(paths(&tree).contains(&"orphan.txt"));
    }

    /// Smart servers that allow it hand out a commit no ref reaches (libgit2's local
    /// transport does not, hence the daemon).
    #[test]
    fn fetch_asks_for_an_unreachable_commit_by_full_id() {
        let fx = fixture();
        let Some(daemon) = Daemon::start(fx.root.path()) else {
            return;
        };
        let repo = Repository::open(&fx.path).unwrap();
        repo.config()
            .unwrap()
            .set_bool("uploadpack.allowAnySHA1InWant", true)
            .unwrap();
        let tree = GitSource::new()
            .fetch(&daemon.url("pkg"), &fx.dangling.to_string(), None)
            .unwrap();
        assert!(paths(&tree).contains(&"dangling.txt"));
    }

    #[test]
    fn fetch_of_a_subdir_lists_paths_relative_to_it() {
        let fx = fixture();
        for subdir in ["lib/sub", "./lib/sub/", "lib//sub"] {
            let tree = fx.fetch("v1.0.0", Some(subdir)).unwrap();
            assert_eq!(paths(&tree), ["purs.json", "src/A.purs"], "{subdir}");
            assert_eq!(tree.read("purs.json").unwrap(), b"{\"sub\":true}\n");
        }
        let root = fx.fetch("v1.0.0", Some(".")).unwrap();
        assert!(paths(&root).contains(&"src/Main.purs"));
    }

    #[test]
    fn read_is_lazy_and_served_from_the_private_clone() {
        let fx = fixture();
        let tree = fx.fetch("v1.0.0", None).unwrap();
        fs::remove_dir_all(&fx.path).unwrap();
        assert_eq!(tree.read("src/Main.purs").unwrap(), b"module Main where\n");
        assert_eq!(tree.read("bin/run.sh").unwrap(), b"#!/bin/sh\n");
        let link = tree.read("link").unwrap_err();
        assert_eq!(
            link.to_string(),
            format!(
                "`link` in the source at commit `{}` is a symlink: expected a regular file",
                fx.v1
            )
        );
        let missing = tree.read("src").unwrap_err();
        assert!(
            matches!(missing, SourceError::FileNotFound { .. }),
            "{missing}"
        );
    }

    #[test]
    fn the_private_clone_lives_as_long_as_the_tree() {
        let fx = fixture();
        let tree = fx.fetch("v1.0.0", None).unwrap();
        let Blobs::Git { _dir: dir, .. } = &tree.blobs else {
            panic!("expected a git-backed tree");
        };
        let clone = dir.path().to_path_buf();
        assert!(clone.join("HEAD").exists());
        drop(tree);
        assert!(!clone.exists());
    }

    #[test]
    fn a_missing_ref_is_named_with_what_was_expected() {
        let fx = fixture();
        for reference in ["v9.9.9", "deadbeef", ""] {
            let err = fx.fetch(reference, None).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "ref `{reference}` not found in `{}`: expected a tag, branch or commit id",
                    fx.url()
                )
            );
        }
    }

    #[test]
    fn a_missing_subdir_is_named_with_the_ref_and_url() {
        let fx = fixture();
        for subdir in ["nope", "purs.json", "lib/sub/nope"] {
            let err = fx.fetch("v1.0.0", Some(subdir)).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "subdir `{subdir}` not found at ref `v1.0.0` in `{}`: expected a directory",
                    fx.url()
                )
            );
        }
    }

    #[test]
    fn subdirs_leaving_the_package_are_rejected() {
        let fx = fixture();
        for subdir in ["../pkg", "lib/../..", "/etc", "lib\\sub"] {
            let err = fx.fetch("v1.0.0", Some(subdir)).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "invalid subdir `{subdir}` for ref `v1.0.0` in `{}`: expected a relative `/`-separated path without `..`",
                    fx.url()
                )
            );
        }
        let memory = MemorySource::new()
            .fetch("u", "r", Some("../x"))
            .unwrap_err();
        assert!(matches!(memory, SourceError::InvalidSubdir { .. }));
    }

    #[test]
    fn cloning_a_missing_path_fails_with_the_url() {
        let root = TempDir::new().unwrap();
        let missing = root.path().join("missing");
        let url = missing.to_str().unwrap();
        let err = GitSource::new().fetch(url, "v1", None).unwrap_err();
        assert!(matches!(err, SourceError::Clone { .. }));
        assert!(
            err.to_string()
                .starts_with(&format!("could not clone `{url}`: ")),
            "{err}"
        );
    }

    #[test]
    fn clone_errors_do_not_leak_credentials() {
        let url = "http://user:s3cret@127.0.0.1:1/owner/repo.git";
        let err = GitSource::new().fetch(url, "v1", None).unwrap_err();
        let message = err.to_string();
        assert!(
            message.starts_with("could not clone `http://127.0.0.1:1/owner/repo.git`: "),
            "{message}"
        );
        assert!(
            !message.contains("s3cret") && !message.contains("user"),
            "{message}"
        );
    }

    #[test]
    fn fetch_over_file_urls_and_git_daemon() {
        let fx = fixture();
        let file_url = format!("file://{}", fx.url());
        let tree = GitSource::new().fetch(&file_url, "v1.0.1", None).unwrap();
        assert_eq!(tree.commit(), fx.v1.to_string());

        let Some(daemon) = Daemon::start(fx.root.path()) else {
            return;
        };
        let url = daemon.url("pkg");
        let tree = GitSource::new()
            .fetch(&url, "v1.0.1", Some("lib/sub"))
            .unwrap();
        assert_eq!(tree.commit(), fx.v1.to_string());
        assert_eq!(tree.read("src/A.purs").unwrap(), b"module A where\n");
        let err = GitSource::new().fetch(&url, "v2", None).unwrap_err();
        assert!(
            err.to_string()
                .starts_with(&format!("ref `v2` not found in `{url}`"))
        );
    }

    #[test]
    fn memory_source_serves_inserted_files() {
        let mut source = MemorySource::new();
        let files = vec![
            ("src/B.purs".to_owned(), b"b".to_vec()),
            ("purs.json".to_owned(), b"{}".to_vec()),
            ("sub/purs.json".to_owned(), b"{1}".to_vec()),
        ];
        source.insert("https://example.org/p.git", "v1.0.0", files);
        let tree = source
            .fetch("https://example.org/p.git", "v1.0.0", None)
            .unwrap();
        assert_eq!(tree.commit(), "");
        assert_eq!(paths(&tree), ["purs.json", "src/B.purs", "sub/purs.json"]);
        assert_eq!(tree.entries()[0], file("purs.json", false, 2));
        assert_eq!(tree.read("src/B.purs").unwrap(), b"b");

        let sub = source
            .fetch("https://example.org/p.git", "v1.0.0", Some("sub"))
            .unwrap();
        assert_eq!(paths(&sub), ["purs.json"]);
        let missing = source.fetch("https://example.org/p.git", "v1.0.0", Some("nope"));
        assert!(matches!(missing, Err(SourceError::SubdirNotFound { .. })));
        let unknown = source
            .fetch("https://example.org/p.git", "v2.0.0", None)
            .unwrap_err();
        assert_eq!(
            unknown.to_string(),
            "ref `v2.0.0` not found in `https://example.org/p.git`: expected a tag, branch or commit id"
        );
    }

    #[test]
    fn from_memory_sorts_and_keeps_the_last_duplicate() {
        let tree = SourceTree::from_memory(vec![
            ("b".to_owned(), b"1".to_vec()),
            ("a".to_owned(), b"2".to_vec()),
            ("b".to_owned(), b"33".to_vec()),
        ]);
        assert_eq!(tree.entries(), [file("a", false, 1), file("b", false, 2)]);
        assert_eq!(tree.read("b").unwrap(), b"33");
        assert!(matches!(
            tree.read("c"),
            Err(SourceError::FileNotFound { .. })
        ));
    }

    #[test]
    fn source_trees_can_cross_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<SourceTree>();
        assert_send_sync::<GitSource>();
        assert_send_sync::<MemorySource>();
    }
}
