//! Fetching a package's source at a ref (git2 clone of its location).
//!
//! [`GitSource`] fetches what the ref can name into a private bare repository (or opens a
//! local repository where it is), resolves it to a commit and lists the package's entries
//! from git objects (no checkout); file contents are read only when asked for.
//! [`MemorySource`] serves fixed files for tests.
//!
//! # What is fetched
//!
//! A local repository (a plain path to a directory, or a `file://` URL) is not fetched at
//! all: it is opened and read in place, since libgit2's local transport loads every object
//! it copies whole into memory, a blob of a gigabyte as much as any other. Its refs and
//! objects are all there, so a commit id names any commit it holds.
//!
//! Otherwise only `refs/tags/<ref>` and `refs/heads/<ref>` are fetched, shallow (depth 1)
//! where the server supports it (those without the `shallow` capability are fetched in
//! full). A tag wins over a branch and is peeled to its commit. When neither exists and
//! the ref looks like a commit id, a full 40-hex id is asked for by id (servers that allow
//! it, such as GitHub, hand it out); if that did not bring the commit, or the id is
//! abbreviated (which needs the history to expand), every branch and tag is fetched in
//! full and the id looked up among them. Narrow fetching saves work; it is not a security
//! boundary, since whoever names the ref can always name an abbreviated id. The bounds
//! below are. A fetch streams the pack into libgit2's indexer, which hashes a whole
//! object without holding it.
//!
//! # Bounds on untrusted repositories
//!
//! A few kilobytes of git objects can describe billions of paths (the same subtree named
//! many times) or gigabytes of contents (a zero-filled blob compresses a thousandfold), so
//! every object's size is read from its header before the object is loaded:
//! - commit, tag and tree objects larger than [`MAX_OBJECT_BYTES`] are refused;
//! - the listing stops with an error after [`MAX_ENTRIES`] tree entries (files, symlinks,
//!   directories and submodules, see [`GitSource::with_max_entries`]), at directories
//!   nested deeper than [`MAX_DEPTH`] (see [`GitSource::with_max_depth`]), at paths
//!   longer than [`MAX_PATH_BYTES`] and past [`MAX_LISTING_BYTES`] of paths and symlink
//!   targets in all;
//! - a symlink target is read only if it is at most [`MAX_SYMLINK_TARGET_BYTES`] long;
//! - file contents are never read while listing, only their sizes from the object headers;
//!   [`SourceTree::read`] serves the files whose listed sizes the caller checked (the
//!   tarball's limits, before it reads anything), and [`SourceTree::read_limited`]
//!   refuses a file larger than its cap before reading it.
//!
//! # Odd entries
//!
//! - A tree entry name git itself never writes fails the fetch: `.`, `..` or one holding a
//!   `/` (it could make one path name two entries, or leave the package). Only crafted
//!   objects have them.
//! - A submodule (gitlink) is listed as [`EntryKind::Submodule`]; the tarball refuses it
//!   when the selection reaches into it and warns about it otherwise.
//! - A name that is not UTF-8 does not fail the fetch: the entry (and every entry below
//!   such a directory), and a symlink whose target is not UTF-8, is listed as
//!   [`EntryKind::NotUtf8`] with its path and target as they are, its listed path with each
//!   invalid sequence written U+FFFD. The tarball refuses it exactly when it is selected
//!   for packing, saying it is not UTF-8 and showing it with each invalid byte as `\xNN`;
//!   it is ignored otherwise, and cannot be [`read`](SourceTree::read).
//! - Names with control characters are listed as they are; the tarball refuses them when
//!   packed.
//!
//! Paths, refs and names in error messages are shown through [`echo`] (escaped, bounded).

mod git;
mod memory;

pub use git::{
    GitSource, MAX_DEPTH, MAX_ENTRIES, MAX_LISTING_BYTES, MAX_OBJECT_BYTES, MAX_PATH_BYTES,
    MAX_SYMLINK_TARGET_BYTES,
};
pub use memory::MemorySource;

use std::collections::BTreeMap;
use std::fmt;

use crate::schema::redact_url;
use crate::text::{echo, echo_bytes};

/// An error while fetching or reading a package source: where, and what went wrong.
#[derive(Debug)]
pub struct SourceError {
    /// The location's URL, never with credentials (empty for a tree made in memory).
    pub url: String,
    /// The ref fetched (empty for a tree made in memory).
    pub reference: String,
    pub kind: SourceErrorKind,
}

/// What went wrong while fetching or reading a package source.
#[derive(Debug)]
pub enum SourceErrorKind {
    /// The fetch failed; `cause` is git's message, with credentials removed.
    Clone {
        cause: String,
    },
    RefNotFound,
    AmbiguousRef,
    NotACommit {
        cause: String,
    },
    InvalidSubdir {
        subdir: String,
    },
    SubdirNotFound {
        subdir: String,
    },
    TooManyEntries {
        limit: usize,
    },
    ListingTooLarge {
        limit: usize,
    },
    /// A tree entry git itself would never write (crafted objects): its name or its mode.
    InvalidEntry {
        /// The directory holding it (`""` for the package root).
        dir: String,
        /// The name as it is.
        name: Vec<u8>,
        expected: String,
    },
    TooDeep {
        path: String,
        limit: usize,
    },
    PathTooLong {
        path: String,
        limit: usize,
    },
    SymlinkTooLarge {
        path: String,
        size: u64,
        limit: u64,
    },
    ObjectTooLarge {
        what: String,
        size: u64,
        limit: u64,
    },
    Read {
        what: String,
        cause: String,
    },
    FileNotFound {
        path: String,
        commit: String,
    },
    NotAFile {
        path: String,
        commit: String,
        /// What it is instead, such as `a symlink`.
        found: &'static str,
    },
    FileTooLarge {
        path: String,
        size: u64,
        limit: u64,
        commit: String,
    },
    Blob {
        path: String,
        commit: String,
        cause: String,
    },
    /// No temporary directory for the private clone; `cause` is the error's source, not
    /// part of its message.
    TempDir {
        cause: std::io::Error,
    },
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::text::message;
        use SourceErrorKind as K;
        let url = echo(&self.url);
        let reference = echo(&self.reference);
        let at = format!("at ref {reference} in {url}");
        match &self.kind {
            K::Clone { cause } => write!(f, "could not clone {url}: {}", message(cause)),
            K::RefNotFound => write!(
                f,
                "ref {reference} not found in {url}: expected a tag, branch or commit id"
            ),
            K::AmbiguousRef => write!(
                f,
                "ref {reference} in {url} is an ambiguous commit id: expected a tag, branch or a longer commit id"
            ),
            K::NotACommit { cause } => write!(
                f,
                "ref {reference} in {url} does not point to a commit: {}",
                message(cause)
            ),
            K::InvalidSubdir { subdir } => write!(
                f,
                "invalid subdir {} for ref {reference} in {url}: expected a relative `/`-separated path without `..`",
                echo(subdir)
            ),
            K::SubdirNotFound { subdir } => write!(
                f,
                "subdir {} not found {at}: expected a directory",
                echo(subdir)
            ),
            K::TooManyEntries { limit } => write!(
                f,
                "the package {at} has more than {limit} entries: expected at most {limit} files, directories, symlinks and submodules"
            ),
            K::ListingTooLarge { limit } => write!(
                f,
                "the package {at} has more than {limit} bytes of paths and symlink targets: expected at most {limit} bytes"
            ),
            K::InvalidEntry {
                dir,
                name,
                expected,
            } => {
                let name = echo_bytes(name);
                if dir.is_empty() {
                    write!(
                        f,
                        "invalid tree entry {name} in the package's root {at}: {expected}"
                    )
                } else {
                    let dir = echo(dir);
                    write!(
                        f,
                        "invalid tree entry {name} in directory {dir} {at}: {expected}"
                    )
                }
            }
            K::TooDeep { path, limit } => write!(
                f,
                "directory {} {at} is nested too deep: expected at most {limit} directory levels",
                echo(path)
            ),
            K::PathTooLong { path, limit } => write!(
                f,
                "path {} {at} is too long: expected at most {limit} bytes",
                echo(path)
            ),
            K::SymlinkTooLarge { path, size, limit } => write!(
                f,
                "symlink {} {at} has a target of {size} bytes: expected at most {limit} bytes",
                echo(path)
            ),
            K::ObjectTooLarge { what, size, limit } => write!(
                f,
                "{what} {at} is {size} bytes: expected at most {limit} bytes"
            ),
            K::Read { what, cause } => write!(f, "could not read {what} {at}: {}", message(cause)),
            K::FileNotFound { path, commit } => write!(
                f,
                "no file {} in the source at commit `{commit}`: expected one of its listed files",
                echo(path)
            ),
            K::NotAFile {
                path,
                commit,
                found,
            } => write!(
                f,
                "{} in the source at commit `{commit}` is {found}: expected a regular file",
                echo(path)
            ),
            K::FileTooLarge {
                path,
                size,
                limit,
                commit,
            } => write!(
                f,
                "{} in the source at commit `{commit}` is {size} bytes: expected at most {limit} bytes",
                echo(path)
            ),
            K::Blob {
                path,
                commit,
                cause,
            } => write!(
                f,
                "could not read {} in the source at commit `{commit}`: {}",
                echo(path),
                message(cause)
            ),
            K::TempDir { .. } => {
                write!(f, "could not create a temporary directory to clone {url}")
            }
        }
    }
}

impl std::error::Error for SourceError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            SourceErrorKind::TempDir { cause } => Some(cause),
            _ => None,
        }
    }
}

/// One entry of a package, relative to the package root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceEntry {
    /// `/`-separated path relative to the package root (invalid UTF-8 sequences written
    /// U+FFFD, see the [module documentation](self)).
    pub path: String,
    pub kind: EntryKind,
}

/// What a [`SourceEntry`] is. Directories are implied by paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    File {
        executable: bool,
        size: u64,
    },
    Symlink {
        target: String,
    },
    /// A git submodule (gitlink): a commit of another repository, whose files are not here.
    Submodule,
    /// A file or symlink under a name that is not UTF-8 (its own or a directory's), or a
    /// symlink whose target is not: never read. Its `path` and `target` as they are (the
    /// entry's listed path has each invalid sequence written U+FFFD).
    NotUtf8 {
        path: Vec<u8>,
        target: Option<Vec<u8>>,
    },
}

/// A listed entry as the tarball packer's input.
impl From<&SourceEntry> for crate::tarball::InputEntry {
    fn from(e: &SourceEntry) -> Self {
        use crate::tarball::InputKind;
        let kind = match &e.kind {
            EntryKind::File { executable, size } => InputKind::File {
                executable: *executable,
                size: *size,
            },
            EntryKind::Symlink { target } => InputKind::Symlink {
                target: target.clone(),
            },
            EntryKind::Submodule => InputKind::Submodule,
            EntryKind::NotUtf8 { path, target } => InputKind::NotUtf8 {
                path: path.clone(),
                target: target.clone(),
            },
        };
        crate::tarball::InputEntry {
            path: e.path.clone(),
            kind,
        }
    }
}

/// The files of one package at one commit.
pub struct SourceTree {
    /// Where the tree was fetched from, which its errors name (empty in memory).
    url: String,
    reference: String,
    commit: String,
    entries: Vec<SourceEntry>,
    blobs: Blobs,
}

/// Where file contents come from.
enum Blobs {
    Git(git::GitBlobs),
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

    /// Every file, symlink and submodule, sorted by path.
    pub fn entries(&self) -> &[SourceEntry] {
        &self.entries
    }

    /// The contents of the regular file at `path` (as listed in [`entries`](Self::entries)),
    /// whatever its size: for files whose listed size has been checked already, such as
    /// those the tarball packs. Use [`read_limited`](Self::read_limited) otherwise.
    pub fn read(&self, path: &str) -> Result<Vec<u8>, SourceError> {
        self.file_size(path)?;
        self.read_file(path)
    }

    /// The contents of the regular file at `path`, refused without reading it when its
    /// listed size (from the object header) is more than `max_bytes`.
    pub fn read_limited(&self, path: &str, max_bytes: u64) -> Result<Vec<u8>, SourceError> {
        let too_large = |size: u64| {
            self.error(SourceErrorKind::FileTooLarge {
                path: path.to_owned(),
                size,
                limit: max_bytes,
                commit: self.commit.clone(),
            })
        };
        let size = self.file_size(path)?;
        if size > max_bytes {
            return Err(too_large(size));
        }
        let bytes = self.read_file(path)?;
        if bytes.len() as u64 > max_bytes {
            return Err(too_large(bytes.len() as u64));
        }
        Ok(bytes)
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
            url: String::new(),
            reference: String::new(),
            commit: String::new(),
            entries,
            blobs: Blobs::Memory(files),
        }
    }

    /// The listed size of the regular file at `path`.
    fn file_size(&self, path: &str) -> Result<u64, SourceError> {
        let entry = self
            .entries
            .binary_search_by(|entry| entry.path.as_str().cmp(path))
            .map(|at| &self.entries[at])
            .map_err(|_| self.file_not_found(path))?;
        let found = match entry.kind {
            EntryKind::File { size, .. } => return Ok(size),
            EntryKind::Symlink { .. } => "a symlink",
            EntryKind::Submodule => "a git submodule",
            EntryKind::NotUtf8 { target: None, .. } => "named with bytes that are not UTF-8",
            EntryKind::NotUtf8 { .. } => "a symlink",
        };
        Err(self.error(SourceErrorKind::NotAFile {
            path: path.to_owned(),
            commit: self.commit.clone(),
            found,
        }))
    }

    fn read_file(&self, path: &str) -> Result<Vec<u8>, SourceError> {
        let found = match &self.blobs {
            Blobs::Memory(files) => files.get(path).cloned().map(Ok),
            Blobs::Git(blobs) => blobs.read(path),
        };
        found
            .ok_or_else(|| self.file_not_found(path))?
            .map_err(|e| {
                self.error(SourceErrorKind::Blob {
                    path: path.to_owned(),
                    commit: self.commit.clone(),
                    cause: e.message().to_owned(),
                })
            })
    }

    fn file_not_found(&self, path: &str) -> SourceError {
        self.error(SourceErrorKind::FileNotFound {
            path: path.to_owned(),
            commit: self.commit.clone(),
        })
    }

    fn error(&self, kind: SourceErrorKind) -> SourceError {
        SourceError {
            url: self.url.clone(),
            reference: self.reference.clone(),
            kind,
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
        let invalid = || {
            self.error(SourceErrorKind::InvalidSubdir {
                subdir: raw.to_owned(),
            })
        };
        if raw.starts_with('/') || raw.contains('\\') {
            return Err(invalid());
        }
        let mut parts = Vec::new();
        for part in raw.split('/') {
            match part {
                "" | "." => {}
                ".." => return Err(invalid()),
                part => parts.push(part),
            }
        }
        Ok((!parts.is_empty()).then(|| parts.join("/")))
    }

    fn ref_not_found(&self) -> SourceError {
        self.error(SourceErrorKind::RefNotFound)
    }

    fn subdir_not_found(&self, subdir: &str) -> SourceError {
        self.error(SourceErrorKind::SubdirNotFound {
            subdir: subdir.to_owned(),
        })
    }

    /// The error `kind` at this location and ref (the URL without credentials).
    fn error(&self, kind: SourceErrorKind) -> SourceError {
        SourceError {
            url: redact_url(self.url),
            reference: self.reference.to_owned(),
            kind,
        }
    }

    /// `tree`, naming this location and ref in its errors.
    fn locate(&self, tree: SourceTree) -> SourceTree {
        SourceTree {
            url: redact_url(self.url),
            reference: self.reference.to_owned(),
            ..tree
        }
    }
}

/// Helpers for the unit tests of both sources.
#[cfg(test)]
mod testing {
    use super::*;

    pub(super) fn paths(tree: &SourceTree) -> Vec<&str> {
        tree.entries().iter().map(|e| e.path.as_str()).collect()
    }

    pub(super) fn file(path: &str, executable: bool, size: u64) -> SourceEntry {
        SourceEntry {
            path: path.to_owned(),
            kind: EntryKind::File { executable, size },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

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
            tree.read("c").map_err(|e| e.kind),
            Err(SourceErrorKind::FileNotFound { .. })
        ));
    }

    #[test]
    fn an_io_cause_is_the_source_and_the_chain_says_it() {
        let e = SourceError {
            url: "https://example.org/p.git".to_owned(),
            reference: "v1.0.0".to_owned(),
            kind: SourceErrorKind::TempDir {
                cause: std::io::Error::other("no space left on device"),
            },
        };
        assert_eq!(
            crate::error_chain(&e),
            "could not create a temporary directory to clone `https://example.org/p.git`: no space left on device"
        );
    }

    #[test]
    fn source_trees_can_cross_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<SourceTree>();
        assert_send_sync::<GitSource>();
        assert_send_sync::<MemorySource>();
    }
}
