//! Which files go into a package tarball, and the deterministic .tar.gz built from them.
//!
//! # Selection ([`select`])
//!
//! Paths are relative to the package root and `/`-separated. A selected path that is empty,
//! longer than 4096 bytes, starts with `/`, or holds a backslash, a NUL, or an empty, `.` or
//! `..` component is an error, as is a selected path listed twice or a selected file that
//! is also the directory of another selected path. Paths that are not selected are ignored,
//! whatever they are (an odd name under `docs/` does not stop a package).
//!
//! The rules are the PureScript Registry's (`copyPackageSourceFiles` and
//! `removeIgnoredTarballFiles` in registry-dev's `App/API.purs`, with the fast-glob it
//! runs), so a package holds the files the real registry's tarball would. The registry
//! copies *units* (a file, or a directory with everything below it):
//!
//! 1. **Always**: `src/` whole (dotfiles too); the root files `purs.json`, `spago.yaml`,
//!    `spago.dhall`, `packages.dhall`, `bower.json`, `package.json` (and regis's own
//!    `purs.dhall`); root files or directories whose name starts with `README`, `LICENSE`
//!    or `LICENCE` — case-sensitively, because the `caseSensitive: false` the real code
//!    passes is not a fast-glob option (a `readme.md` is not packed).
//! 2. **`includeFiles`** globs add every file *or directory* they match (a directory
//!    whole): `*` stays within one component, `**` crosses `/`, and a component starting
//!    with `.` is matched only by a glob component that starts with `.` (fast-glob's
//!    `dot: false`); a trailing `/` matches directories only.
//! 3. **`excludeFiles`** globs remove a unit only when they match the unit's own path: a
//!    root file, or what an include glob matched. They never remove a file inside `src/` or
//!    another directory taken whole (the real tarballs keep them), nor the root manifest
//!    files of 1.
//! 4. **Removed** afterwards: `.psci`, `.psci_modules`, `.spago`, `node_modules`,
//!    `bower_components`, `.git`, `CVS`, `.svn`, `.hg`, `_darcs`, `.fossil`, `.jj`,
//!    `.pijul`, `package-lock.json`, `yarn.lock`, `pnpm-lock.yaml` *at the root only*; and
//!    anywhere outside a dot directory, names matching `*.*.swp`, `._*` or `.DS_Store`.
//!
//! Where this looks like a bug it is still the real behaviour, followed so tarballs match:
//! a lower-case `readme.md` is left out, an `excludeFiles` glob cannot trim `src/`, a
//! `node_modules` below the root is packed, and a vim swap file `.A.purs.swp` is kept.
//!
//! A glob that is empty, absolute, has a `..` component or does not parse is an error; a
//! leading `./` is dropped (`./test/**` is `test/**`). `src/` must end up with at least one
//! regular file.
//!
//! **Symlinks** are selected like files. A selected symlink's target must be relative and
//! normalized (some `..` components, then names: no `.`, no empty component, no `..` after
//! a name), must not climb above the package root from the link's directory, and must
//! resolve (following other selected symlinks, at most 40 hops) to a selected file or to a
//! directory holding selected entries. Symlinks that are not selected are not checked.
//!
//! # Archive ([`pack`])
//!
//! GNU tar format (long paths and link targets use GNU `././@LongLink` entries, which the
//! `tar` crate, GNU tar, bsdtar and Node's `tar` all read), gzip-compressed at level 9 with
//! a header that has mtime 0, no file name and OS byte 255. Entries: the top directory
//! `<top_dir>/`, then the packed paths in byte order of their path, each preceded by the
//! directory entries of its parents not emitted yet. Directories and executable files have
//! mode 0755, other files 0644, symlinks 0777; mtime, uid and gid are 0 and user and group
//! names empty. The same input always gives the same bytes.
//!
//! "Files" in the limits and in [`Packed::files`] are regular files and symlinks;
//! "unpacked bytes" are the sum of regular file sizes. `max_files` also bounds the number
//! of directories (besides the top one), so that whatever `pack` accepts, `unpack` accepts
//! under the same limits. The top directory name is at most 255 bytes.
//!
//! # Unpacking ([`unpack`])
//!
//! Into an empty (or missing) directory. Every entry must lie under one top directory;
//! only regular files, directories and symlinks are accepted; paths must satisfy the same
//! rules as above; a symlink target must satisfy the same rules as above relative to the
//! top directory; nothing is ever created below a symlink or a file; each path appears
//! once; files get mode 0644 or 0755. Limits are enforced while reading: the decompressed
//! stream is cut off a little past `max_unpacked_bytes` plus a fixed allowance for headers
//! per allowed entry, and file contents are counted as they are written. On error `dest`
//! may hold a partial tree, but nothing outside it has been touched.

mod pack;
mod select;
mod unpack;

pub use pack::pack;
pub use select::select;
pub use unpack::unpack;

use std::io;
use std::path::PathBuf;

use crate::text::{echo, echo_bytes};

/// One path of the package's source tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputEntry {
    /// Relative to the package root, `/`-separated.
    pub path: String,
    /// What the path is.
    pub kind: InputKind,
}

/// What a path of the source is (directories are implied by paths). Only regular files and
/// symlinks can be packed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputKind {
    /// A regular file with its size as listed.
    File { executable: bool, size: u64 },
    /// A symlink with its target as stored in the link.
    Symlink { target: String },
    /// A git submodule: a directory whose files are in another repository. Never packed;
    /// refused when the selection reaches into it, else named in a warning.
    Submodule,
    /// A file or symlink whose name, or the name of a directory on its path, is not UTF-8
    /// (listed with each invalid byte sequence written U+FFFD), or a symlink whose target
    /// is not: `path` and `target` as they are. Refused when selected.
    NotUtf8 {
        path: Vec<u8>,
        target: Option<Vec<u8>>,
    },
}

/// The manifest's `includeFiles` and `excludeFiles` globs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rules {
    /// Globs adding files.
    pub include: Vec<String>,
    /// Globs removing files.
    pub exclude: Vec<String>,
}

/// Size limits for packing and unpacking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest allowed `.tar.gz`.
    pub max_bytes: u64,
    /// A `.tar.gz` larger than this is packed with a warning.
    pub warn_bytes: u64,
    /// Largest allowed sum of file sizes.
    pub max_unpacked_bytes: u64,
    /// Largest allowed number of files and symlinks, and of directories besides the top one.
    pub max_files: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 2_000_000,
            warn_bytes: 200_000,
            max_unpacked_bytes: 50 * 1024 * 1024,
            max_files: 10_000,
        }
    }
}

/// What [`select`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// The packed files and symlinks, sorted by path.
    pub entries: Vec<InputEntry>,
    /// Non-fatal findings, such as a submodule that is not packed.
    pub warnings: Vec<String>,
}

/// A built tarball.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packed {
    /// The `.tar.gz` bytes.
    pub bytes: Vec<u8>,
    /// SHA-256 of `bytes`.
    pub sha256: [u8; 32],
    /// Number of regular files and symlinks.
    pub files: usize,
    /// Sum of the regular files' sizes.
    pub unpacked_bytes: u64,
    /// Non-fatal findings, such as a tarball above `warn_bytes`.
    pub warnings: Vec<String>,
}

/// An error of file selection, packing or unpacking. Paths, targets and globs come from the
/// package and are shown through [`echo`] (escaped, bounded).
#[derive(Debug, thiserror::Error)]
pub enum TarballError {
    #[error("invalid path {}: {expected}", echo(.path))]
    InvalidPath {
        path: String,
        expected: &'static str,
    },
    #[error("{}", not_utf8(.path, .target.as_deref()))]
    NotUtf8 {
        path: Vec<u8>,
        target: Option<Vec<u8>>,
    },
    #[error("path {} is listed more than once: expected each path once", echo(.path))]
    DuplicatePath { path: String },
    #[error(
        "path {} is a file but {} is inside it: expected a directory",
        echo(.file),
        echo(.inside)
    )]
    PathConflict { file: String, inside: String },
    #[error("invalid glob {} in `{field}`: {problem}", echo(.pattern))]
    InvalidGlob {
        field: &'static str,
        pattern: String,
        problem: String,
    },
    #[error("`src/` is empty or missing: a package must have its sources in `src/`")]
    EmptySrc,
    #[error(
        "{} is a git submodule: its files are in another repository, which is not fetched, so \
         the package would be published without them: expected the files committed in this \
         repository (or the submodule outside `src/` and the `includeFiles` globs)",
        echo(.path)
    )]
    Submodule { path: String },
    #[error(
        "{} is a Git LFS pointer, not the file: its content is on an LFS server, which is not \
         fetched (nor by the PureScript Registry), so the pointer's text would be published: \
         expected the file itself committed to git (or left out of `src/` and the \
         `includeFiles` globs)",
        echo(.path)
    )]
    LfsPointer { path: String },
    #[error("symlink {} points outside the package ({})", echo(.path), echo(.target))]
    SymlinkEscapes { path: String, target: String },
    #[error(
        "symlink {} has target {}: expected a relative path of leading `..` components then \
         names, without `.` or empty components",
        echo(.path),
        echo(.target)
    )]
    SymlinkTarget { path: String, target: String },
    #[error(
        "symlink {} points at {}, which is not packed: expected a packed file or a directory \
         holding packed files",
        echo(.path),
        echo(.target)
    )]
    SymlinkNotPacked { path: String, target: String },
    #[error(
        "symlink {} points at {}, which does not resolve: expected at most {MAX_HOPS} levels \
         of symlinks",
        echo(.path),
        echo(.target)
    )]
    SymlinkLoop { path: String, target: String },
    #[error(
        "symlink {} points at {}, a directory from which symlinks lead back to it: expected \
         no directory cycles",
        echo(.path),
        echo(.target)
    )]
    SymlinkCycle { path: String, target: String },
    #[error(
        "invalid top directory {}: expected one path component such as `<name>-<version>`",
        echo(.top_dir)
    )]
    InvalidTopDir { top_dir: String },
    #[error("package has {count} files, more than the limit of {limit} files")]
    TooManyFiles { count: usize, limit: usize },
    #[error("package has {count} directories, more than the limit of {limit} directories")]
    TooManyDirs { count: usize, limit: usize },
    #[error("package files total {bytes} bytes unpacked, more than the limit of {limit} bytes")]
    TooManyBytes { bytes: u64, limit: u64 },
    #[error("package tarball is {bytes} bytes, more than the limit of {limit} bytes")]
    TooLarge { bytes: u64, limit: u64 },
    #[error("cannot read {} from the package source", echo(.path))]
    Read {
        path: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("cannot build the tarball")]
    Build(#[source] io::Error),
    #[error("unpack destination `{}` is not empty: expected an empty or missing directory", .dest.display())]
    DestNotEmpty { dest: PathBuf },
    #[error("cannot read the tarball: expected a gzip-compressed tar archive")]
    Corrupt(#[source] io::Error),
    #[error("tarball has no entries: expected a single top directory")]
    EmptyArchive,
    #[error("tarball entry {} is refused: {expected}", echo(.path))]
    UnsafeEntry { path: String, expected: String },
    #[error("tarball unpacks to more than the limit of {limit} {what}")]
    UnpackLimit { what: &'static str, limit: u64 },
    #[error("cannot write `{}`", .path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

type Result<T, E = TarballError> = std::result::Result<T, E>;

/// Longest accepted package path or symlink target, in bytes (Linux's `PATH_MAX`); a source
/// tree is read with the same limit.
pub const MAX_PATH_BYTES: usize = 4096;
/// Longest accepted top directory name, in bytes (Linux's `NAME_MAX`).
const MAX_NAME_BYTES: usize = 255;
/// Most symlinks followed while resolving one target.
const MAX_HOPS: usize = 40;

// ---------------------------------------------------------------------------------------
// Paths and symlink targets
// ---------------------------------------------------------------------------------------

/// The refusal of a name, or a symlink's target, that is not UTF-8: a tarball entry's name
/// is text (and the PureScript Registry's tools read it as such).
fn not_utf8(path: &[u8], target: Option<&[u8]>) -> String {
    match target {
        None => format!(
            "path {} is not UTF-8: expected UTF-8 file and directory names",
            echo_bytes(path)
        ),
        Some(target) => format!(
            "symlink {} has a target that is not UTF-8 ({}): expected a UTF-8 target",
            echo_bytes(path),
            echo_bytes(target)
        ),
    }
}

/// What is wrong with a relative path, said as what was expected (length aside).
fn path_problem(path: &str) -> Option<&'static str> {
    if path.is_empty() {
        Some("expected a non-empty path")
    } else if path.starts_with('/') {
        Some("expected a relative path, without a leading `/`")
    } else if path.contains('\\') {
        Some("expected `/` as the only separator, without backslashes")
    } else if path.chars().any(char::is_control) {
        Some("expected no control characters (such as a line break or a NUL byte)")
    } else if path.split('/').any(str::is_empty) {
        Some("expected no empty component (`//` or a trailing `/`)")
    } else if path.split('/').any(|c| c == "..") {
        Some("expected no `..` component")
    } else if path.split('/').any(|c| c == ".") {
        Some("expected no `.` component")
    } else {
        None
    }
}

/// Checks a path relative to the package root.
fn check_path(path: &str) -> Result<()> {
    let too_long = (path.len() > MAX_PATH_BYTES).then_some("expected at most 4096 bytes");
    match too_long.or_else(|| path_problem(path)) {
        Some(expected) => Err(TarballError::InvalidPath {
            path: path.to_owned(),
            expected,
        }),
        None => Ok(()),
    }
}

/// The directories containing `path`, outermost first (`a/b/c` → `a`, `a/b`).
fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/').map(move |(i, _)| &path[..i])
}

/// Why a symlink target is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TargetProblem {
    /// Absolute, or climbs above the root.
    Escapes,
    /// Not of the form `../../name/name`.
    NotNormal,
}

/// The root-relative components a symlink at `link` (root-relative) points at, resolved
/// without following other symlinks.
///
/// The target must be normalized (`..` components only before any name) so that every
/// `..` applies to the link's own directory, which is a real directory: that is what makes
/// the lexical check sound even when names further down are themselves symlinks.
fn resolve_lexically<'a>(link: &'a str, target: &'a str) -> Result<Vec<&'a str>, TargetProblem> {
    if target.starts_with('/') {
        return Err(TargetProblem::Escapes);
    }
    if target.is_empty()
        || target.len() > MAX_PATH_BYTES
        || target.contains('\\')
        || target.chars().any(char::is_control)
    {
        return Err(TargetProblem::NotNormal);
    }
    let mut resolved: Vec<&str> = link.split('/').collect();
    resolved.pop();
    let mut seen_name = false;
    let mut normal = true;
    for component in target.split('/') {
        match component {
            "" | "." => normal = false,
            ".." => {
                normal &= !seen_name;
                resolved.pop().ok_or(TargetProblem::Escapes)?;
            }
            name => {
                seen_name = true;
                resolved.push(name);
            }
        }
    }
    if normal {
        Ok(resolved)
    } else {
        Err(TargetProblem::NotNormal)
    }
}

/// Helpers for the unit tests of the three parts.
#[cfg(test)]
mod testing {
    use std::collections::BTreeMap;
    use std::fs;
    use std::io;
    use std::path::Path;

    use flate2::read::GzDecoder;

    use super::*;

    pub(super) const TOP: &str = "pkg-1.0.0";

    pub(super) fn file(path: &str) -> InputEntry {
        InputEntry {
            path: path.to_owned(),
            kind: InputKind::File {
                executable: false,
                size: 1,
            },
        }
    }

    pub(super) fn link(path: &str, target: &str) -> InputEntry {
        InputEntry {
            path: path.to_owned(),
            kind: InputKind::Symlink {
                target: target.to_owned(),
            },
        }
    }

    pub(super) fn rules(include: &[&str], exclude: &[&str]) -> Rules {
        Rules {
            include: include.iter().map(|s| s.to_string()).collect(),
            exclude: exclude.iter().map(|s| s.to_string()).collect(),
        }
    }

    pub(super) fn select_err(entries: &[InputEntry], rules: &Rules) -> String {
        select(entries, rules).unwrap_err().to_string()
    }

    /// A package source: path → (bytes, executable) and symlinks.
    pub(super) struct Source {
        pub(super) files: BTreeMap<String, (Vec<u8>, bool)>,
        pub(super) links: Vec<(String, String)>,
    }

    impl Source {
        pub(super) fn new(files: &[(&str, &[u8])]) -> Self {
            Source {
                files: files
                    .iter()
                    .map(|(p, b)| (p.to_string(), (b.to_vec(), false)))
                    .collect(),
                links: Vec::new(),
            }
        }

        pub(super) fn entries(&self) -> Vec<InputEntry> {
            let files = self
                .files
                .iter()
                .map(|(path, (bytes, executable))| InputEntry {
                    path: path.clone(),
                    kind: InputKind::File {
                        executable: *executable,
                        size: bytes.len() as u64,
                    },
                });
            let links = self.links.iter().map(|(p, t)| link(p, t));
            files.chain(links).collect()
        }

        pub(super) fn read(&self, path: &str) -> Result<Vec<u8>, io::Error> {
            self.files
                .get(path)
                .map(|(bytes, _)| bytes.clone())
                .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))
        }

        pub(super) fn pack_with(&self, entries: &[InputEntry], limits: &Limits) -> Result<Packed> {
            pack(TOP, entries, &[], &mut |p| self.read(p), limits)
        }

        pub(super) fn pack(&self) -> Packed {
            self.pack_with(&self.entries(), &Limits::default()).unwrap()
        }
    }

    pub(super) fn sample() -> Source {
        let mut source = Source::new(&[
            ("src/A.purs", b"module A where\n"),
            ("src/Deep/B.purs", b"module Deep.B where\n"),
            ("purs.json", b"{}\n"),
            ("LICENSE", b"MIT\n"),
            ("bin/run.sh", b"#!/bin/sh\n"),
        ]);
        source.files.get_mut("bin/run.sh").unwrap().1 = true;
        source
            .links
            .push(("src/Alias.purs".into(), "A.purs".into()));
        source
    }

    /// (path, type, mode, size, link target) of every entry.
    pub(super) fn listing(bytes: &[u8]) -> Vec<(String, char, u32, u64, String)> {
        let mut archive = tar::Archive::new(GzDecoder::new(bytes));
        let entries = archive.entries().unwrap();
        entries
            .map(|entry| {
                let entry = entry.unwrap();
                let header = entry.header();
                assert_eq!(header.mtime().unwrap(), 0);
                assert_eq!((header.uid().unwrap(), header.gid().unwrap()), (0, 0));
                assert_eq!(header.username_bytes(), Some(&b""[..]));
                assert_eq!(header.groupname_bytes(), Some(&b""[..]));
                assert!(header.as_gnu().is_some());
                let target = entry
                    .link_name_bytes()
                    .map(|t| String::from_utf8(t.into_owned()).unwrap())
                    .unwrap_or_default();
                (
                    String::from_utf8(entry.path_bytes().into_owned()).unwrap(),
                    header.entry_type().as_byte() as char,
                    header.mode().unwrap(),
                    header.size().unwrap(),
                    target,
                )
            })
            .collect()
    }

    #[cfg(unix)]
    pub(super) fn is_executable(path: &Path) -> bool {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(path).unwrap().permissions().mode() & 0o111 != 0
    }

    #[cfg(not(unix))]
    pub(super) fn is_executable(_path: &Path) -> bool {
        false
    }

    pub(super) fn err_message(err: TarballError) -> String {
        err.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    #[test]
    fn error_messages() {
        let bad_glob = |include: &str| select_err(&[file("src/A.purs")], &rules(&[include], &[]));
        let messages = [
            bad_glob("/abs/**"),
            bad_glob("a/../b"),
            bad_glob(""),
            bad_glob("src/{a,b"),
            select_err(&[file("a/../b")], &rules(&["**"], &[])),
            select_err(&[file("a\\b")], &rules(&["**"], &[])),
            select_err(&[file("src/A"), file("src/A")], &Rules::default()),
            select_err(&[file("src/A"), file("src/A/B")], &Rules::default()),
            err_message(TarballError::InvalidTopDir {
                top_dir: "a/b".into(),
            }),
            err_message(TarballError::DestNotEmpty {
                dest: "/tmp/x".into(),
            }),
            err_message(TarballError::UnsafeEntry {
                path: "../evil".into(),
                expected: "expected no `..` component".into(),
            }),
            err_message(TarballError::UnpackLimit {
                what: "bytes",
                limit: 10,
            }),
        ];
        insta::assert_snapshot!(messages.join("\n"), @r"
        invalid glob `/abs/**` in `includeFiles`: expected a glob relative to the package root, without a leading `/`
        invalid glob `a/../b` in `includeFiles`: expected no `..` component: globs name files inside the package
        invalid glob `` in `includeFiles`: expected a non-empty glob
        invalid glob `src/{a,b` in `includeFiles`: expected a valid glob: unclosed alternate group; missing '}' (maybe escape '{' with '[{]'?)
        invalid path `a/../b`: expected no `..` component
        invalid path `a\\b`: expected `/` as the only separator, without backslashes
        path `src/A` is listed more than once: expected each path once
        path `src/A` is a file but `src/A/B` is inside it: expected a directory
        invalid top directory `a/b`: expected one path component such as `<name>-<version>`
        unpack destination `/tmp/x` is not empty: expected an empty or missing directory
        tarball entry `../evil` is refused: expected no `..` component
        tarball unpacks to more than the limit of 10 bytes
        ");
    }
}
