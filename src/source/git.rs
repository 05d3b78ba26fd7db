//! [`GitSource`]: the fetch over git2 into a private bare repository, and the bounded
//! listing of the package's tree from git objects.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use git2::{
    AutotagOption, Commit, ErrorCode, FetchOptions, ObjectType, Odb, Oid, Reference, Repository,
    RepositoryOpenFlags, Tree, TreeEntry,
};
use tempfile::TempDir;

use super::{At, Blobs, EntryKind, Source, SourceEntry, SourceError, SourceErrorKind, SourceTree};
use crate::schema::location::{redact_url, scrub};
use crate::text::echo;

/// Most tree entries (files, symlinks, directories and submodules) a package may have.
pub const MAX_ENTRIES: usize = 100_000;
/// Most directory levels below the package root.
pub const MAX_DEPTH: usize = 128;
/// Longest path below the package root, in bytes: the tarball's limit.
pub use crate::tarball::MAX_PATH_BYTES;
/// Longest symlink target read, in bytes.
pub const MAX_SYMLINK_TARGET_BYTES: u64 = 4096;
/// Largest commit, tag or tree object loaded, in bytes.
pub const MAX_OBJECT_BYTES: u64 = 16 * 1024 * 1024;
/// Most bytes of paths and symlink targets one listing holds (a package of 10,000 files
/// lists about a megabyte).
pub const MAX_LISTING_BYTES: usize = 32 * 1024 * 1024;

/// Most tags followed from a ref to its commit.
const MAX_TAG_HOPS: usize = 16;

/// Git file modes of the tree entries a package can contain.
const MODE_TREE: i32 = 0o040000;
const MODE_FILE: i32 = 0o100644;
const MODE_GROUP_WRITABLE_FILE: i32 = 0o100664;
const MODE_EXECUTABLE: i32 = 0o100755;
const MODE_SYMLINK: i32 = 0o120000;
/// A submodule (gitlink): the entry names a commit of another repository.
const MODE_SUBMODULE: i32 = 0o160000;

/// What the fallback fetch brings over: every branch and every tag, under their own names.
const ALL_REFSPECS: [&str; 2] = ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"];

/// libgit2's `GIT_ENOTSUPPORTED`, returned by the local transport for a shallow fetch.
const GIT_ENOTSUPPORTED: i32 = -39;

/// Fetches over git (git://, http(s)://) into a private temporary directory that lives as
/// long as the returned [`SourceTree`]; reads a local repository (a plain path or a
/// `file://` URL) where it is.
#[derive(Debug, Clone)]
pub struct GitSource {
    max_entries: usize,
    max_depth: usize,
}

impl Default for GitSource {
    fn default() -> Self {
        GitSource {
            max_entries: MAX_ENTRIES,
            max_depth: MAX_DEPTH,
        }
    }
}

impl GitSource {
    /// A source with the default bounds, [`MAX_ENTRIES`] and [`MAX_DEPTH`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Fails a fetch whose package tree has more than `max_entries` entries (files,
    /// symlinks, directories and submodules, counted as they are listed).
    pub fn with_max_entries(mut self, max_entries: usize) -> Self {
        self.max_entries = max_entries;
        self
    }

    /// Fails a fetch whose package tree nests directories more than `max_depth` levels
    /// below its root (`0` allows files at the root only).
    pub fn with_max_depth(mut self, max_depth: usize) -> Self {
        self.max_depth = max_depth;
        self
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
        let (repo, dir) = at.open_or_init()?;
        let (commit, entries, ids) = {
            let odb = repo
                .odb()
                .map_err(|e| at.read_error("the object database", &e))?;
            let commit = at.fetch_commit(&repo, &odb, dir.is_some())?;
            let tree = at.package_tree(&repo, &odb, &commit, subdir.as_deref())?;
            let (entries, ids) = at.list(&repo, &odb, &tree, self)?;
            (commit.id().to_string(), entries, ids)
        };
        Ok(SourceTree {
            url: redact_url(url),
            reference: reference.to_owned(),
            commit,
            entries,
            blobs: Blobs::Git(GitBlobs {
                repo: Mutex::new(repo),
                ids,
                _dir: dir,
            }),
        })
    }
}

/// The repository a fetched tree reads file contents from: the private clone (with its
/// temporary directory), or a local repository itself. Field order matters: the repository
/// closes before its temporary directory is removed.
pub(super) struct GitBlobs {
    repo: Mutex<Repository>,
    ids: BTreeMap<String, Oid>,
    _dir: Option<TempDir>,
}

impl GitBlobs {
    /// The contents of the file listed at `path`, or `None` when no regular file is.
    pub(super) fn read(&self, path: &str) -> Option<Result<Vec<u8>, git2::Error>> {
        let id = *self.ids.get(path)?;
        let repo = self
            .repo
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Some(repo.find_blob(id).map(|blob| blob.content().to_vec()))
    }
}

/// Fetches `refspecs` from `url` into `repo`, without following tags; shallow (depth 1)
/// when asked and the transport supports it, in full otherwise.
fn fetch_refspecs(
    repo: &Repository,
    url: &str,
    refspecs: &[&str],
    shallow: bool,
) -> Result<(), git2::Error> {
    let fetch = |depth: i32| {
        let mut remote = repo.remote_anonymous(url)?;
        let mut options = FetchOptions::new();
        options.download_tags(AutotagOption::None).depth(depth);
        remote.fetch(refspecs, Some(&mut options), None)
    };
    if shallow {
        match fetch(1) {
            Err(e) if shallow_unsupported(&e) => {}
            done => return done,
        }
    }
    fetch(0)
}

/// Whether a shallow fetch failed only for being shallow: libgit2's local transport
/// (`GIT_ENOTSUPPORTED`), or a server without the `shallow` capability (`GIT_EINVALID`).
fn shallow_unsupported(error: &git2::Error) -> bool {
    error.raw_code() == GIT_ENOTSUPPORTED || error.code() == ErrorCode::Invalid
}

fn is_commit_id_prefix(reference: &str) -> bool {
    (4..=40).contains(&reference.len()) && reference.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Where a local repository lives: the path of a `file://` URL, or a plain path to a
/// directory (what libgit2 would read with its local transport).
fn local_path(url: &str) -> Option<PathBuf> {
    if url.starts_with("file://") {
        return url::Url::parse(url).ok()?.to_file_path().ok();
    }
    let path = Path::new(url);
    (!url.contains("://") && path.is_dir()).then(|| path.to_path_buf())
}

/// What is wrong with a tree entry's name, said as what was expected: git itself never
/// writes these names (`git fsck` refuses them), and each could make one path name two
/// entries or leave the package. (libgit2 refuses an empty name when it parses the tree.)
fn name_problem(name: &[u8]) -> Option<&'static str> {
    match name {
        b"." | b".." => Some("expected a name other than `.` and `..`"),
        name if name.contains(&b'/') => Some("expected a name without `/`"),
        _ => None,
    }
}

/// The state of one bounded tree listing.
struct Listing {
    entries: Vec<SourceEntry>,
    ids: BTreeMap<String, Oid>,
    /// Tree entries seen so far, of any kind.
    seen: usize,
    /// Bytes of the paths and symlink targets listed so far.
    bytes: usize,
    /// Trees still to list.
    pending: Vec<Dir>,
}

/// A directory to list.
struct Dir {
    id: Oid,
    /// `""` for the package root, else the directory's path and `/`.
    prefix: String,
    /// Directory levels below the package root.
    level: usize,
    /// The prefix as it is, when a name on the way is not UTF-8 (`prefix` is then written
    /// lossily).
    raw_prefix: Option<Vec<u8>>,
}

impl At<'_> {
    /// The repository to read: a local one opened where it is (libgit2's local transport
    /// would load every object it copies whole, however large), else a new private bare
    /// repository in a temporary directory, to fetch into.
    fn open_or_init(&self) -> Result<(Repository, Option<TempDir>), SourceError> {
        if let Some(path) = local_path(self.url) {
            let flags = RepositoryOpenFlags::NO_SEARCH;
            let repo = Repository::open_ext(&path, flags, std::iter::empty::<&OsStr>())
                .map_err(|e| self.clone_error(&e))?;
            return Ok((repo, None));
        }
        let dir = tempfile::Builder::new()
            .prefix("regis-source-")
            .tempdir()
            .map_err(|cause| self.error(SourceErrorKind::TempDir { cause }))?;
        let repo = Repository::init_bare(dir.path()).map_err(|e| self.clone_error(&e))?;
        Ok((repo, Some(dir)))
    }

    /// Fetches what `reference` can name, when `remote` (a local repository has it all
    /// already), and returns its commit: a tag, then a branch, then a commit id (see the
    /// module documentation for what is fetched when).
    fn fetch_commit<'r>(
        &self,
        repo: &'r Repository,
        odb: &Odb<'_>,
        remote: bool,
    ) -> Result<Commit<'r>, SourceError> {
        let names: Vec<String> = [
            format!("refs/tags/{}", self.reference),
            format!("refs/heads/{}", self.reference),
        ]
        .into_iter()
        .filter(|name| Reference::is_valid_name(name))
        .collect();
        if !names.is_empty() {
            let refspecs: Vec<String> =
                names.iter().map(|name| format!("+{name}:{name}")).collect();
            let refspecs: Vec<&str> = refspecs.iter().map(String::as_str).collect();
            if remote {
                fetch_refspecs(repo, self.url, &refspecs, true)
                    .map_err(|e| self.clone_error(&e))?;
            }
            for name in &names {
                if let Ok(reference) = repo.find_reference(name) {
                    let id = reference
                        .resolve()
                        .ok()
                        .and_then(|direct| direct.target())
                        .ok_or_else(|| {
                            self.not_a_commit(format!("`{name}` is not a direct ref"))
                        })?;
                    return self.peel(repo, odb, id);
                }
            }
        }
        if !is_commit_id_prefix(self.reference) {
            return Err(self.ref_not_found());
        }
        if !remote {
            return self.find_commit_id(repo, odb);
        }
        if self.reference.len() == 40 {
            // Servers that allow it hand out a commit by id, even one no ref reaches.
            let _ = fetch_refspecs(repo, self.url, &[self.reference], true);
            match self.find_commit_id(repo, odb) {
                Err(SourceError {
                    kind: SourceErrorKind::RefNotFound,
                    ..
                }) => {}
                found => return found,
            }
        }
        // An abbreviated id, or a full one the server would not hand out: look among the
        // commits every branch and tag reaches.
        fetch_refspecs(repo, self.url, &ALL_REFSPECS, false).map_err(|e| self.clone_error(&e))?;
        self.find_commit_id(repo, odb)
    }

    fn find_commit_id<'r>(
        &self,
        repo: &'r Repository,
        odb: &Odb<'_>,
    ) -> Result<Commit<'r>, SourceError> {
        let prefix = Oid::from_str(self.reference).map_err(|_| self.ref_not_found())?;
        match odb.exists_prefix(prefix, self.reference.len()) {
            Ok(id) => self.peel(repo, odb, id),
            Err(e) if e.code() == ErrorCode::Ambiguous => {
                Err(self.error(SourceErrorKind::AmbiguousRef))
            }
            Err(_) => Err(self.ref_not_found()),
        }
    }

    /// Follows tags from `id` to a commit, loading no object larger than
    /// [`MAX_OBJECT_BYTES`].
    fn peel<'r>(
        &self,
        repo: &'r Repository,
        odb: &Odb<'_>,
        mut id: Oid,
    ) -> Result<Commit<'r>, SourceError> {
        for _ in 0..=MAX_TAG_HOPS {
            let kind = self.checked_header(odb, id, &format!("object `{id}`"))?;
            match kind {
                ObjectType::Commit => {
                    return repo
                        .find_commit(id)
                        .map_err(|e| self.read_error(&format!("commit `{id}`"), &e));
                }
                ObjectType::Tag => {
                    id = repo
                        .find_tag(id)
                        .map_err(|e| self.read_error(&format!("tag `{id}`"), &e))?
                        .target_id();
                }
                other => return Err(self.not_a_commit(format!("`{id}` is a {other}"))),
            }
        }
        Err(self.not_a_commit(format!(
            "expected at most {MAX_TAG_HOPS} tags on the way to a commit"
        )))
    }

    /// The type of object `id`, after checking its size against [`MAX_OBJECT_BYTES`].
    fn checked_header(
        &self,
        odb: &Odb<'_>,
        id: Oid,
        what: &str,
    ) -> Result<ObjectType, SourceError> {
        let (size, kind) = odb.read_header(id).map_err(|e| self.read_error(what, &e))?;
        if size as u64 > MAX_OBJECT_BYTES {
            return Err(self.error(SourceErrorKind::ObjectTooLarge {
                what: what.to_owned(),
                size: size as u64,
                limit: MAX_OBJECT_BYTES,
            }));
        }
        Ok(kind)
    }

    /// Tree `id`, loaded only if it is a tree of at most [`MAX_OBJECT_BYTES`].
    fn load_tree<'r>(
        &self,
        repo: &'r Repository,
        odb: &Odb<'_>,
        id: Oid,
        what: &str,
    ) -> Result<Tree<'r>, SourceError> {
        match self.checked_header(odb, id, what)? {
            ObjectType::Tree => repo.find_tree(id).map_err(|e| self.read_error(what, &e)),
            other => Err(self.read_failure(what, format!("expected a tree, found a {other}"))),
        }
    }

    /// The tree of the package: the commit's root tree, or the directory `subdir`.
    fn package_tree<'r>(
        &self,
        repo: &'r Repository,
        odb: &Odb<'_>,
        commit: &Commit<'r>,
        subdir: Option<&str>,
    ) -> Result<Tree<'r>, SourceError> {
        let mut tree = self.load_tree(repo, odb, commit.tree_id(), "the commit's tree")?;
        let Some(subdir) = subdir else {
            return Ok(tree);
        };
        for name in subdir.split('/') {
            let id = tree
                .get_name(name)
                .filter(|entry| entry.filemode() == MODE_TREE)
                .map(|entry| entry.id())
                .ok_or_else(|| self.subdir_not_found(subdir))?;
            tree = self.load_tree(repo, odb, id, &format!("subdir {}", echo(subdir)))?;
        }
        Ok(tree)
    }

    /// Every file and symlink under `tree`, sorted by path, with the blob ids of the files
    /// whose path is UTF-8, within the bounds of `source`.
    fn list(
        &self,
        repo: &Repository,
        odb: &Odb<'_>,
        tree: &Tree<'_>,
        source: &GitSource,
    ) -> Result<(Vec<SourceEntry>, BTreeMap<String, Oid>), SourceError> {
        let mut listing = Listing {
            entries: Vec::new(),
            ids: BTreeMap::new(),
            seen: 0,
            bytes: 0,
            pending: vec![Dir {
                id: tree.id(),
                prefix: String::new(),
                level: 0,
                raw_prefix: None,
            }],
        };
        while let Some(dir) = listing.pending.pop() {
            let what = match dir.prefix.strip_suffix('/') {
                Some(path) => format!("directory {}", echo(path)),
                None => "the package's tree".to_owned(),
            };
            let tree = self.load_tree(repo, odb, dir.id, &what)?;
            for entry in tree.iter() {
                self.list_entry(repo, odb, source, &mut listing, &dir, &entry)?;
            }
        }
        let Listing {
            mut entries, ids, ..
        } = listing;
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        Ok((entries, ids))
    }

    /// Lists `entry` of directory `dir`: a directory to list later, or an entry with its
    /// file's blob id. Nothing is read but a symlink's target.
    fn list_entry(
        &self,
        repo: &Repository,
        odb: &Odb<'_>,
        source: &GitSource,
        listing: &mut Listing,
        dir: &Dir,
        entry: &TreeEntry<'_>,
    ) -> Result<(), SourceError> {
        listing.seen += 1;
        if listing.seen > source.max_entries {
            return Err(self.error(SourceErrorKind::TooManyEntries {
                limit: source.max_entries,
            }));
        }
        let name = entry.name_bytes();
        let lossy = String::from_utf8_lossy(name);
        let invalid = |expected: String| {
            self.error(SourceErrorKind::InvalidEntry {
                dir: dir.prefix.trim_end_matches('/').to_owned(),
                name: name.to_vec(),
                expected,
            })
        };
        if let Some(expected) = name_problem(name) {
            return Err(invalid(expected.to_owned()));
        }
        let path = format!("{}{lossy}", dir.prefix);
        if path.len() > MAX_PATH_BYTES {
            return Err(self.error(SourceErrorKind::PathTooLong {
                path,
                limit: MAX_PATH_BYTES,
            }));
        }
        // The path as it is, when it is not UTF-8.
        let raw_path =
            (dir.raw_prefix.is_some() || std::str::from_utf8(name).is_err()).then(|| {
                let mut raw = dir
                    .raw_prefix
                    .clone()
                    .unwrap_or_else(|| dir.prefix.clone().into_bytes());
                raw.extend_from_slice(name);
                raw
            });
        let kind = match entry.filemode() {
            MODE_TREE if dir.level >= source.max_depth => {
                return Err(self.error(SourceErrorKind::TooDeep {
                    path,
                    limit: source.max_depth,
                }));
            }
            MODE_TREE => {
                listing.pending.push(Dir {
                    id: entry.id(),
                    prefix: format!("{path}/"),
                    level: dir.level + 1,
                    raw_prefix: raw_path.map(|mut raw| {
                        raw.push(b'/');
                        raw
                    }),
                });
                return Ok(());
            }
            MODE_SUBMODULE => EntryKind::Submodule,
            MODE_SYMLINK | MODE_FILE | MODE_GROUP_WRITABLE_FILE | MODE_EXECUTABLE
                if raw_path.is_some() =>
            {
                EntryKind::NotUtf8 {
                    path: raw_path.unwrap_or_default(),
                    target: None,
                }
            }
            MODE_SYMLINK => {
                let target = self.symlink_target(repo, odb, entry.id(), &path)?;
                match String::from_utf8(target) {
                    Ok(target) => EntryKind::Symlink { target },
                    Err(e) => EntryKind::NotUtf8 {
                        path: path.clone().into_bytes(),
                        target: Some(e.into_bytes()),
                    },
                }
            }
            mode @ (MODE_FILE | MODE_GROUP_WRITABLE_FILE | MODE_EXECUTABLE) => EntryKind::File {
                executable: mode == MODE_EXECUTABLE,
                size: self.blob_size(odb, entry.id(), &path)?,
            },
            // libgit2 reads any other mode as a file, like git; refuse rather than drop one.
            mode => {
                return Err(invalid(format!(
                    "expected a file, directory, symlink or submodule, found mode {mode:o}"
                )));
            }
        };
        listing.bytes += path.len();
        listing.bytes += match &kind {
            EntryKind::Symlink { target } => target.len(),
            EntryKind::NotUtf8 { path, target } => path.len() + target.as_ref().map_or(0, Vec::len),
            _ => 0,
        };
        if listing.bytes > MAX_LISTING_BYTES {
            return Err(self.error(SourceErrorKind::ListingTooLarge {
                limit: MAX_LISTING_BYTES,
            }));
        }
        if matches!(kind, EntryKind::File { .. }) {
            listing.ids.insert(path.clone(), entry.id());
        }
        listing.entries.push(SourceEntry { path, kind });
        Ok(())
    }

    /// The size of blob `id` from its header, without reading it.
    fn blob_size(&self, odb: &Odb<'_>, id: Oid, path: &str) -> Result<u64, SourceError> {
        let what = echo(path).to_string();
        match odb.read_header(id) {
            Ok((size, ObjectType::Blob)) => Ok(size as u64),
            Ok((_, other)) => {
                Err(self.read_failure(&what, format!("expected a blob, found a {other}")))
            }
            Err(e) => Err(self.read_error(&what, &e)),
        }
    }

    /// The target of the symlink at `path`, read only if it is at most
    /// [`MAX_SYMLINK_TARGET_BYTES`] long, as it is (it may not be UTF-8).
    fn symlink_target(
        &self,
        repo: &Repository,
        odb: &Odb<'_>,
        id: Oid,
        path: &str,
    ) -> Result<Vec<u8>, SourceError> {
        let what = format!("symlink {}", echo(path));
        let size = self.blob_size(odb, id, path)?;
        if size > MAX_SYMLINK_TARGET_BYTES {
            return Err(self.error(SourceErrorKind::SymlinkTooLarge {
                path: path.to_owned(),
                size,
                limit: MAX_SYMLINK_TARGET_BYTES,
            }));
        }
        let blob = repo.find_blob(id).map_err(|e| self.read_error(&what, &e))?;
        Ok(blob.content().to_vec())
    }

    fn clone_error(&self, cause: &git2::Error) -> SourceError {
        self.error(SourceErrorKind::Clone {
            cause: scrub(cause.message(), self.url),
        })
    }

    fn not_a_commit(&self, cause: String) -> SourceError {
        self.error(SourceErrorKind::NotACommit { cause })
    }

    fn read_error(&self, what: &str, cause: &git2::Error) -> SourceError {
        self.read_failure(what, cause.message().to_owned())
    }

    fn read_failure(&self, what: &str, cause: String) -> SourceError {
        self.error(SourceErrorKind::Read {
            what: what.to_owned(),
            cause,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::MemorySource;
    use super::super::testing::*;
    use super::*;
    use crate::tarball;
    use crate::testing::Daemon;
    use git2::{RepositoryInitOptions, Signature};
    use std::fs;
    use std::os::unix::fs::{PermissionsExt, symlink};
    use std::path::{Path, PathBuf};

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

    fn link_entry(path: &str, target: &str) -> SourceEntry {
        SourceEntry {
            path: path.to_owned(),
            kind: EntryKind::Symlink {
                target: target.to_owned(),
            },
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
                link_entry("link", "src/Main.purs"),
                file("purs.json", false, 3),
                file("src/Main.purs", false, 18),
                SourceEntry {
                    path: "vendor".to_owned(),
                    kind: EntryKind::Submodule,
                },
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
        let Some(daemon) = Daemon::start(fx.root.path()) else {
            return;
        };
        let tree = GitSource::new()
            .fetch(&daemon.url("pkg"), "v1.0.0", None)
            .unwrap();
        drop(daemon);
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
            matches!(missing.kind, SourceErrorKind::FileNotFound { .. }),
            "{missing}"
        );
    }

    #[test]
    fn the_private_clone_lives_as_long_as_the_tree() {
        let fx = fixture();
        let Some(daemon) = Daemon::start(fx.root.path()) else {
            return;
        };
        let tree = GitSource::new()
            .fetch(&daemon.url("pkg"), "v1.0.0", None)
            .unwrap();
        let Blobs::Git(GitBlobs {
            _dir: Some(dir), ..
        }) = &tree.blobs
        else {
            panic!("expected a private clone");
        };
        let clone = dir.path().to_path_buf();
        assert!(clone.join("HEAD").exists());
        drop(tree);
        assert!(!clone.exists());
    }

    /// A local repository is opened where it is: no private clone, no objects copied (and so
    /// none loaded), every commit it holds within reach.
    #[test]
    fn a_local_repository_is_read_in_place() {
        let fx = fixture();
        for url in [fx.url().to_owned(), format!("file://{}", fx.url())] {
            let tree = GitSource::new().fetch(&url, "v1.0.0", None).unwrap();
            let Blobs::Git(GitBlobs { _dir: None, .. }) = &tree.blobs else {
                panic!("expected no private clone for {url}");
            };
            assert_eq!(
                clone_of(&tree).path().canonicalize().unwrap(),
                fx.path.join(".git").canonicalize().unwrap()
            );
            assert_eq!(tree.read("src/Main.purs").unwrap(), b"module Main where\n");
        }
        let tree = fx.fetch(&fx.dangling.to_string(), None).unwrap();
        assert!(paths(&tree).contains(&"dangling.txt"));
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
                    "invalid subdir {} for ref `v1.0.0` in `{}`: expected a relative `/`-separated path without `..`",
                    crate::text::echo(subdir),
                    fx.url()
                )
            );
        }
        let memory = MemorySource::new()
            .fetch("u", "r", Some("../x"))
            .unwrap_err();
        assert!(matches!(memory.kind, SourceErrorKind::InvalidSubdir { .. }));
    }

    #[test]
    fn cloning_a_missing_path_fails_with_the_url() {
        let root = TempDir::new().unwrap();
        let missing = root.path().join("missing");
        let url = missing.to_str().unwrap();
        let err = GitSource::new().fetch(url, "v1", None).unwrap_err();
        assert!(matches!(err.kind, SourceErrorKind::Clone { .. }));
        assert!(
            err.to_string()
                .starts_with(&format!("could not clone `{url}`: ")),
            "{err}"
        );
        insta::assert_snapshot!(err.to_string().replace(url, "<url>"), @"could not clone `<url>`: unsupported URL protocol");
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

    // -- bounds on untrusted repositories ----------------------------------------------

    /// A bare repository whose tag `v1` points at a commit of the tree `build` writes, and
    /// the URL to fetch it from.
    fn crafted(build: impl FnOnce(&Repository) -> Oid) -> (TempDir, String) {
        let root = TempDir::new().unwrap();
        let path = root.path().join("crafted.git");
        let repo = Repository::init_bare(&path).unwrap();
        let tree = repo.find_tree(build(&repo)).unwrap();
        let sig = signature();
        let commit = repo
            .commit(None, &sig, &sig, "crafted", &tree, &[])
            .unwrap();
        repo.tag_lightweight("v1", &repo.find_object(commit, None).unwrap(), false)
            .unwrap();
        let url = path.to_str().unwrap().to_owned();
        (root, url)
    }

    /// Writes a tree of `(name, id, mode)` entries.
    fn write_tree(repo: &Repository, entries: &[(&[u8], Oid, i32)]) -> Oid {
        let mut builder = repo.treebuilder(None).unwrap();
        for (name, id, mode) in entries {
            builder.insert(*name, *id, *mode).unwrap();
        }
        builder.write().unwrap()
    }

    /// The private clone behind a fetched tree.
    fn clone_of(tree: &SourceTree) -> std::sync::MutexGuard<'_, Repository> {
        let Blobs::Git(blobs) = &tree.blobs else {
            panic!("expected a git-backed tree");
        };
        blobs.repo.lock().unwrap()
    }

    /// A tree naming the same subtree ten times per level, seven levels deep: ten million
    /// files in a few kilobytes of objects.
    #[test]
    fn a_git_bomb_stops_at_the_entry_limit() {
        let (_root, url) = crafted(|repo| {
            let blob = repo.blob(b"x").unwrap();
            let mut tree = write_tree(repo, &[(b"f", blob, MODE_FILE)]);
            for _ in 0..7 {
                let names: Vec<String> = (0..10).map(|i| format!("d{i}")).collect();
                let entries: Vec<(&[u8], Oid, i32)> = names
                    .iter()
                    .map(|name| (name.as_bytes(), tree, MODE_TREE))
                    .collect();
                tree = write_tree(repo, &entries);
            }
            tree
        });
        let err = GitSource::new().fetch(&url, "v1", None).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "the package at ref `v1` in `{url}` has more than 100000 entries: expected at \
                 most 100000 files, directories, symlinks and submodules"
            )
        );
    }

    #[test]
    fn the_entry_limit_counts_every_tree_entry() {
        let fx = fixture();
        // 6 at the root (with the submodule), bin/run.sh, lib/sub, 2 in lib/sub, 2 files.
        let twelve = GitSource::new().with_max_entries(12);
        assert_eq!(
            twelve
                .fetch(fx.url(), "v1.0.0", None)
                .unwrap()
                .entries()
                .len(),
            7
        );
        let err = GitSource::new()
            .with_max_entries(11)
            .fetch(fx.url(), "v1.0.0", None)
            .unwrap_err();
        assert!(
            matches!(err.kind, SourceErrorKind::TooManyEntries { limit: 11 }),
            "{err}"
        );
        // Only the subdir is listed, and counted.
        let sub = GitSource::new()
            .with_max_entries(3)
            .fetch(fx.url(), "v1.0.0", Some("lib/sub"))
            .unwrap();
        assert_eq!(paths(&sub), ["purs.json", "src/A.purs"]);
    }

    #[test]
    fn directories_nested_too_deep_are_refused() {
        let fx = fixture();
        let three = GitSource::new().with_max_depth(3);
        assert!(three.fetch(fx.url(), "v1.0.0", None).is_ok());
        let err = GitSource::new()
            .with_max_depth(2)
            .fetch(fx.url(), "v1.0.0", None)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "directory `lib/sub/src` at ref `v1.0.0` in `{}` is nested too deep: expected \
                 at most 2 directory levels",
                fx.url()
            )
        );

        let chain = |levels: usize| {
            crafted(|repo| {
                let blob = repo.blob(b"x").unwrap();
                let mut tree = write_tree(repo, &[(b"f", blob, MODE_FILE)]);
                for _ in 0..levels {
                    tree = write_tree(repo, &[(b"a", tree, MODE_TREE)]);
                }
                tree
            })
        };
        let (_root, url) = chain(MAX_DEPTH);
        let tree = GitSource::new().fetch(&url, "v1", None).unwrap();
        assert_eq!(
            tree.entries()[0].path,
            format!("{}f", "a/".repeat(MAX_DEPTH))
        );
        let (_root, url) = chain(MAX_DEPTH + 1);
        let err = GitSource::new().fetch(&url, "v1", None).unwrap_err();
        assert!(
            matches!(&err.kind, SourceErrorKind::TooDeep { path, limit: MAX_DEPTH }
                if path.len() == 2 * MAX_DEPTH + 1),
            "{err}"
        );
    }

    #[test]
    fn paths_longer_than_the_limit_are_refused() {
        let long = "n".repeat(250);
        let (_root, url) = crafted(|repo| {
            let blob = repo.blob(b"x").unwrap();
            let mut tree = write_tree(repo, &[(b"f", blob, MODE_FILE)]);
            for _ in 0..17 {
                tree = write_tree(repo, &[(long.as_bytes(), tree, MODE_TREE)]);
            }
            tree
        });
        let err = GitSource::new().fetch(&url, "v1", None).unwrap_err();
        let path = vec![long.as_str(); 17].join("/");
        assert_eq!(
            err.to_string(),
            format!(
                "path `{}… (4,266 characters)` at ref `v1` in `{url}` is too long: expected at \
                 most 4096 bytes",
                &path[..crate::text::VALUE_MAX_CHARS]
            )
        );
    }

    #[test]
    fn symlink_targets_are_read_only_when_small() {
        let target = |len: usize| {
            crafted(|repo| {
                let source = repo.blob(b"module A where\n").unwrap();
                let src = write_tree(repo, &[(b"A.purs", source, MODE_FILE)]);
                let target = repo.blob("a".repeat(len).as_bytes()).unwrap();
                write_tree(
                    repo,
                    &[(b"src", src, MODE_TREE), (b"link", target, MODE_SYMLINK)],
                )
            })
        };
        let (_root, url) = target(4096);
        let tree = GitSource::new().fetch(&url, "v1", None).unwrap();
        assert_eq!(
            tree.entries()[0].kind,
            EntryKind::Symlink {
                target: "a".repeat(4096)
            }
        );
        let (_root, url) = target(4097);
        let err = GitSource::new().fetch(&url, "v1", None).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "symlink `link` at ref `v1` in `{url}` has a target of 4097 bytes: expected at \
                 most 4096 bytes"
            )
        );
    }

    #[test]
    fn read_limited_checks_the_listed_size_first() {
        let fx = fixture();
        let tree = fx.fetch("v1.0.0", None).unwrap();
        assert_eq!(tree.read_limited("purs.json", 3).unwrap(), b"{}\n");
        let err = tree.read_limited("purs.json", 2).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "`purs.json` in the source at commit `{}` is 3 bytes: expected at most 2 bytes",
                fx.v1
            )
        );
        assert!(matches!(
            tree.read_limited("link", 1 << 20).map_err(|e| e.kind),
            Err(SourceErrorKind::NotAFile { .. })
        ));
        assert!(matches!(
            tree.read_limited("nope", 1 << 20).map_err(|e| e.kind),
            Err(SourceErrorKind::FileNotFound { .. })
        ));

        // Two mebibytes of zeros pack to a few kilobytes.
        let (_root, url) = crafted(|repo| {
            let zeros = repo.blob(&vec![0; 2 << 20]).unwrap();
            write_tree(repo, &[(b"purs.json", zeros, MODE_FILE)])
        });
        let tree = GitSource::new().fetch(&url, "v1", None).unwrap();
        let err = tree.read_limited("purs.json", 1 << 20).unwrap_err();
        assert!(
            matches!(
                err.kind,
                SourceErrorKind::FileTooLarge {
                    size: 2097152,
                    limit: 1048576,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(tree.read("purs.json").unwrap().len(), 2 << 20);

        let memory = SourceTree::from_memory(vec![("purs.json".to_owned(), b"{}".to_vec())]);
        assert_eq!(memory.read_limited("purs.json", 2).unwrap(), b"{}");
        assert_eq!(
            memory.read_limited("purs.json", 1).unwrap_err().to_string(),
            "`purs.json` in the source at commit `` is 2 bytes: expected at most 1 bytes"
        );
    }

    #[test]
    fn oversized_commits_are_not_loaded() {
        let root = TempDir::new().unwrap();
        let path = root.path().join("big.git");
        let repo = Repository::init_bare(&path).unwrap();
        let tree = repo.find_tree(write_tree(&repo, &[])).unwrap();
        let sig = signature();
        let message = "a".repeat(MAX_OBJECT_BYTES as usize + 1);
        let commit = repo.commit(None, &sig, &sig, &message, &tree, &[]).unwrap();
        repo.tag_lightweight("v1", &repo.find_object(commit, None).unwrap(), false)
            .unwrap();
        let url = path.to_str().unwrap();
        let err = GitSource::new().fetch(url, "v1", None).unwrap_err();
        assert!(
            matches!(&err.kind, SourceErrorKind::ObjectTooLarge { what, limit: MAX_OBJECT_BYTES, .. }
                if *what == format!("object `{commit}`")),
            "{err}"
        );
        let text = err
            .to_string()
            .replace(url, "<url>")
            .replace(&commit.to_string(), "<commit>");
        insta::assert_snapshot!(text, @"object `<commit>` at ref `v1` in `<url>` is 16777359 bytes: expected at most 16777216 bytes");
    }

    /// The refusals of a source with their full text: the ref and URL each names, with the
    /// temporary paths and the object ids that change from run to run replaced.
    #[test]
    fn refusals_name_the_ref_the_url_and_what_was_expected() {
        let mut lines = Vec::new();
        let mut refusal = |case: &str, err: SourceError, replace: &[(&str, &str)]| {
            let mut text = crate::error_chain(&err);
            for (from, to) in replace {
                text = text.replace(from, to);
            }
            lines.push(format!("{case} → {text}"));
        };

        let fx = fixture();
        let tree = fx.fetch("v1.0.0", None).unwrap();
        let v1 = fx.v1.to_string();
        let at = [(fx.url(), "<url>"), (v1.as_str(), "<commit>")];
        refusal(
            "a directory read as a file",
            tree.read("src").unwrap_err(),
            &at,
        );
        refusal("a missing file", tree.read("nope.txt").unwrap_err(), &at);
        refusal(
            "a file over the cap",
            tree.read_limited("purs.json", 2).unwrap_err(),
            &at,
        );
        refusal("a tag", fx.fetch("v9.9.9", None).unwrap_err(), &at);
        refusal(
            "a subdir",
            fx.fetch("v1.0.0", Some("../up")).unwrap_err(),
            &at,
        );
        refusal(
            "a missing subdir",
            fx.fetch("v1.0.0", Some("nope")).unwrap_err(),
            &at,
        );

        // A tag on a blob: not a commit.
        let (_root, url) = crafted(|repo| {
            let blob = repo.blob(b"text").unwrap();
            repo.tag_lightweight("blob", &repo.find_object(blob, None).unwrap(), false)
                .unwrap();
            write_tree(repo, &[(b"README", blob, MODE_FILE)])
        });
        let err = GitSource::new().fetch(&url, "blob", None).unwrap_err();
        refusal("a tag on a blob", err, &[(url.as_str(), "<url>")]);

        // Enough blobs that two ids share their first four hex digits.
        let (_root, url) = crafted(|repo| {
            let entries: Vec<(Vec<u8>, Oid)> = (0..2000)
                .map(|i| {
                    let name = format!("f{i}").into_bytes();
                    let id = repo.blob(name.as_slice()).unwrap();
                    (name, id)
                })
                .collect();
            let entries: Vec<(&[u8], Oid, i32)> = entries
                .iter()
                .map(|(name, id)| (name.as_slice(), *id, MODE_FILE))
                .collect();
            write_tree(repo, &entries)
        });
        let mut prefixes = BTreeMap::<String, usize>::new();
        for i in 0..2000 {
            let id = Oid::hash_object(git2::ObjectType::Blob, format!("f{i}").as_bytes()).unwrap();
            *prefixes.entry(id.to_string()[..4].to_owned()).or_default() += 1;
        }
        let shared = prefixes
            .iter()
            .find(|(_, n)| **n > 1)
            .map(|(p, _)| p.clone())
            .expect("2000 ids share some 4-digit prefix");
        let err = GitSource::new().fetch(&url, &shared, None).unwrap_err();
        refusal(
            "an ambiguous id",
            err,
            &[(url.as_str(), "<url>"), (shared.as_str(), "<prefix>")],
        );

        insta::assert_snapshot!(lines.join("\n"), @r"
            a directory read as a file → no file `src` in the source at commit `<commit>`: expected one of its listed files
            a missing file → no file `nope.txt` in the source at commit `<commit>`: expected one of its listed files
            a file over the cap → `purs.json` in the source at commit `<commit>` is 3 bytes: expected at most 2 bytes
            a tag → ref `v9.9.9` not found in `<url>`: expected a tag, branch or commit id
            a subdir → invalid subdir `../up` for ref `v1.0.0` in `<url>`: expected a relative `/`-separated path without `..`
            a missing subdir → subdir `nope` not found at ref `v1.0.0` in `<url>`: expected a directory
            a tag on a blob → ref `blob` in `<url>` does not point to a commit: `f3a34851d44d6b97c90fbb99dd3d18c261b9a237` is a blob
            an ambiguous id → ref `<prefix>` in `<url>` is an ambiguous commit id: expected a tag, branch or a longer commit id
            ");
    }

    /// Names that are not UTF-8 are listed as such, so that the tarball refuses them only if
    /// they are packed, saying why.
    #[test]
    fn names_that_are_not_utf8_are_listed_not_fatal() {
        let (_root, url) = crafted(|repo| {
            let source = repo.blob(b"module A where\n").unwrap();
            let src = write_tree(repo, &[(b"A.purs", source, MODE_FILE)]);
            let text = repo.blob(b"text").unwrap();
            let odd_target = repo.blob(b"../\xfe").unwrap();
            let cafe = write_tree(repo, &[(b"x.txt", text, MODE_FILE)]);
            let docs = write_tree(
                repo,
                &[
                    (b"weird\xffname.txt", text, MODE_FILE),
                    (b"caf\xe9", cafe, MODE_TREE),
                    (b"link", odd_target, MODE_SYMLINK),
                ],
            );
            write_tree(
                repo,
                &[(b"src", src, MODE_TREE), (b"docs", docs, MODE_TREE)],
            )
        });
        let tree = GitSource::new().fetch(&url, "v1", None).unwrap();
        let not_utf8 = |path: &str, raw: &[u8], target: Option<&[u8]>| SourceEntry {
            path: path.to_owned(),
            kind: EntryKind::NotUtf8 {
                path: raw.to_vec(),
                target: target.map(<[u8]>::to_vec),
            },
        };
        assert_eq!(
            tree.entries(),
            [
                not_utf8("docs/caf\u{fffd}/x.txt", b"docs/caf\xe9/x.txt", None),
                not_utf8("docs/link", b"docs/link", Some(b"../\xfe")),
                not_utf8(
                    "docs/weird\u{fffd}name.txt",
                    b"docs/weird\xffname.txt",
                    None
                ),
                file("src/A.purs", false, 15),
            ]
        );
        let mut messages = Vec::new();
        for path in ["docs/weird\u{fffd}name.txt", "docs/link"] {
            let err = tree.read(path).unwrap_err();
            messages.push(err.to_string().replace(tree.commit(), "<commit>"));
        }

        let entries: Vec<tarball::InputEntry> = tree.entries().iter().map(Into::into).collect();
        let rules = |include: &str| tarball::Rules {
            include: vec![include.to_owned()],
            exclude: Vec::new(),
        };
        let selected = tarball::select(&entries, &tarball::Rules::default()).unwrap();
        assert_eq!(selected.entries.len(), 1);
        for include in ["docs/weird*", "docs/caf*/**", "docs/link"] {
            let err = tarball::select(&entries, &rules(include)).unwrap_err();
            messages.push(err.to_string());
        }
        insta::assert_snapshot!(messages.join("\n"), @r"
        `docs/weird�name.txt` in the source at commit `<commit>` is named with bytes that are not UTF-8: expected a regular file
        `docs/link` in the source at commit `<commit>` is a symlink: expected a regular file
        path `docs/weird\xffname.txt` is not UTF-8: expected UTF-8 file and directory names
        path `docs/caf\xe9/x.txt` is not UTF-8: expected UTF-8 file and directory names
        symlink `docs/link` has a target that is not UTF-8 (`../\xfe`): expected a UTF-8 target
        ");
    }

    /// Names git never writes, which only crafted objects hold, fail the fetch wherever they
    /// are, naming the entry.
    #[test]
    fn entries_git_never_writes_are_refused() {
        let cases: [(&[u8], i32, &str); 3] = [
            (b"a/b", MODE_FILE, "expected a name without `/`"),
            (b"..", MODE_TREE, "expected a name other than `.` and `..`"),
            (b".", MODE_FILE, "expected a name other than `.` and `..`"),
        ];
        for (name, mode, expected) in cases {
            let (_root, url) = crafted(|repo| {
                let text = repo.blob(b"x").unwrap();
                let id = if mode == MODE_TREE {
                    write_tree(repo, &[(b"x", text, MODE_FILE)])
                } else {
                    text
                };
                let mut raw = format!("{mode:o} ").into_bytes();
                raw.extend_from_slice(name);
                raw.push(0);
                raw.extend_from_slice(id.as_bytes());
                let docs = repo.odb().unwrap().write(ObjectType::Tree, &raw).unwrap();
                write_tree(repo, &[(b"docs", docs, MODE_TREE)])
            });
            let err = GitSource::new().fetch(&url, "v1", None).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "invalid tree entry `{}` in directory `docs` at ref `v1` in `{url}`: {expected}",
                    String::from_utf8_lossy(name)
                )
            );
        }
    }

    /// Thousands of long names in a few kilobytes of objects stop at the listing's budget.
    #[test]
    fn the_listing_holds_a_bounded_number_of_bytes() {
        let (_root, url) = crafted(|repo| {
            let blob = repo.blob(b"x").unwrap();
            let names: Vec<String> = (0..120)
                .map(|i| format!("{i:03}{}", "n".repeat(3000)))
                .collect();
            let files: Vec<(&[u8], Oid, i32)> = names
                .iter()
                .map(|name| (name.as_bytes(), blob, MODE_FILE))
                .collect();
            let wide = write_tree(repo, &files);
            let dirs: Vec<(&[u8], Oid, i32)> = names
                .iter()
                .map(|name| (&name.as_bytes()[..3], wide, MODE_TREE))
                .collect();
            write_tree(repo, &dirs)
        });
        let err = GitSource::new().fetch(&url, "v1", None).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "the package at ref `v1` in `{url}` has more than {MAX_LISTING_BYTES} bytes of \
                 paths and symlink targets: expected at most {MAX_LISTING_BYTES} bytes"
            )
        );
    }

    // -- what is fetched -----------------------------------------------------------------

    fn refs(tree: &SourceTree) -> Vec<String> {
        let repo = clone_of(tree);
        let mut names: Vec<String> = repo
            .references()
            .unwrap()
            .map(|r| r.unwrap().name().unwrap().to_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn fetch_brings_only_what_the_ref_names() {
        let fx = fixture();
        let Some(daemon) = Daemon::start(fx.root.path()) else {
            return;
        };
        let fetch = |reference: &str| {
            GitSource::new()
                .fetch(&daemon.url("pkg"), reference, None)
                .unwrap()
        };
        assert_eq!(refs(&fetch("v1.0.0")), ["refs/tags/v1.0.0"]);
        assert_eq!(refs(&fetch("v1.0.1")), ["refs/tags/v1.0.1"]);
        assert_eq!(refs(&fetch("feature")), ["refs/heads/feature"]);

        // A tag and a branch of the same name: both come, the tag wins.
        let repo = Repository::open(&fx.path).unwrap();
        let feature = repo.find_commit(fx.feature).unwrap();
        repo.branch("v1.0.0", &feature, false).unwrap();
        let tree = fetch("v1.0.0");
        assert_eq!(refs(&tree), ["refs/heads/v1.0.0", "refs/tags/v1.0.0"]);
        assert_eq!(tree.commit(), fx.v1.to_string());

        // An abbreviated id needs the history: every branch and tag, after the narrow
        // fetch found none of that name.
        let short = &fx.orphan.to_string()[..10];
        let tree = fetch(short);
        assert_eq!(tree.commit(), fx.orphan.to_string());
        assert!(refs(&tree).contains(&"refs/tags/orphan".to_owned()));
    }

    /// Over a smart transport the fetch is shallow and brings nothing the ref does not reach.
    #[test]
    fn fetch_over_the_network_is_shallow_and_narrow() {
        let fx = fixture();
        let Some(daemon) = Daemon::start(fx.root.path()) else {
            return;
        };
        let url = daemon.url("pkg");
        let tree = GitSource::new().fetch(&url, "feature", None).unwrap();
        assert_eq!(tree.commit(), fx.feature.to_string());
        {
            let repo = clone_of(&tree);
            assert!(repo.is_shallow());
            let odb = repo.odb().unwrap();
            assert!(odb.exists(fx.feature));
            for absent in [fx.v1, fx.orphan, fx.dangling] {
                assert!(!odb.exists(absent), "{absent}");
            }
        }
        assert_eq!(refs(&tree), ["refs/heads/feature"]);

        // The daemon does not hand out commits by id: a full id falls back to the history.
        let tree = GitSource::new()
            .fetch(&url, &fx.orphan.to_string(), None)
            .unwrap();
        assert_eq!(tree.commit(), fx.orphan.to_string());
        let err = GitSource::new()
            .fetch(&url, &fx.dangling.to_string(), None)
            .unwrap_err();
        assert!(matches!(err.kind, SourceErrorKind::RefNotFound), "{err}");
    }
}
