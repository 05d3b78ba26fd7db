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
//! 1. **Always dropped**, whatever the globs say:
//!    - any path with a component that is a VCS directory (`.git`, `.hg`, `.svn`, `CVS`,
//!      `.jj`; `.git` is also a file in submodules) or a tool directory (`node_modules`,
//!      `bower_components`, `.spago`, `.psci_modules`), at any depth;
//!    - `output` (the compiler's output directory) at the package root only, since a
//!      directory of that name deeper down may well be source;
//!    - files named like a lock file (`package-lock.json`, `yarn.lock`, `pnpm-lock.yaml`,
//!      `spago.lock`, `bun.lockb`, `bun.lock`) or editor/OS junk (`*.swp`, `*.swo`, `*~`,
//!      `.DS_Store`, `._*`, `Thumbs.db`, `.#*`, `.psc-ide-port`), at any depth.
//! 2. **Always included**: everything under `src/`; the manifest files `purs.json`,
//!    `purs.dhall`, `spago.yaml`, `spago.dhall`, `bower.json` and `package.json` at the
//!    root; root files whose name starts with `README`, `LICENSE` or `LICENCE` in any case.
//! 3. **`include` globs** (`includeFiles`) add files. Globs match the whole relative path of
//!    a file (never a directory: write `test/**` to take a directory), with globset and
//!    `literal_separator`, so `*` stays within one component and `**` crosses `/`.
//! 4. **`exclude` globs** (`excludeFiles`) remove files from everything selected so far,
//!    except the root manifest files and `LICENSE*`/`LICENCE*` files, which are never
//!    excluded.
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

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;
use flate2::{Compression, GzBuilder};
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use sha2::{Digest, Sha256};
use tar::{EntryType, Header, HeaderMode};

/// One path of the package's source tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputEntry {
    /// Relative to the package root, `/`-separated.
    pub path: String,
    /// What the path is.
    pub kind: InputKind,
}

/// A regular file or a symlink (directories are implied by paths).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputKind {
    /// A regular file with its size as listed.
    File { executable: bool, size: u64 },
    /// A symlink with its target as stored in the link.
    Symlink { target: String },
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

/// An error of file selection, packing or unpacking.
#[derive(Debug, thiserror::Error)]
pub enum TarballError {
    #[error("invalid path `{}`: {expected}", .path.escape_debug())]
    InvalidPath {
        path: String,
        expected: &'static str,
    },
    #[error("path `{path}` is listed more than once: expected each path once")]
    DuplicatePath { path: String },
    #[error("path `{file}` is a file but `{inside}` is inside it: expected a directory")]
    PathConflict { file: String, inside: String },
    #[error("invalid glob `{}` in `{field}`: {problem}", .pattern.escape_debug())]
    InvalidGlob {
        field: &'static str,
        pattern: String,
        problem: String,
    },
    #[error("cannot compile the `{field}` globs")]
    GlobSet {
        field: &'static str,
        #[source]
        source: globset::Error,
    },
    #[error("`src/` is empty or missing: a package must have its sources in `src/`")]
    EmptySrc,
    #[error("symlink `{path}` points outside the package (`{target}`)")]
    SymlinkEscapes { path: String, target: String },
    #[error(
        "symlink `{path}` has target `{}`: expected a relative path of leading `..` \
         components then names, without `.` or empty components",
        .target.escape_debug()
    )]
    SymlinkTarget { path: String, target: String },
    #[error(
        "symlink `{path}` points at `{target}`, which is not packed: expected a packed file \
         or a directory holding packed files"
    )]
    SymlinkNotPacked { path: String, target: String },
    #[error(
        "symlink `{path}` points at `{target}`, which does not resolve: expected at most \
         {MAX_HOPS} levels of symlinks"
    )]
    SymlinkLoop { path: String, target: String },
    #[error(
        "invalid top directory `{}`: expected one path component such as `<name>-<version>`",
        .top_dir.escape_debug()
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
    #[error("cannot read `{path}` from the package source")]
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
    #[error("tarball entry `{}` is refused: {expected}", .path.escape_debug())]
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

/// Longest accepted package path or symlink target, in bytes (Linux's `PATH_MAX`).
const MAX_PATH_BYTES: usize = 4096;
/// Longest accepted top directory name, in bytes (Linux's `NAME_MAX`).
const MAX_NAME_BYTES: usize = 255;
/// Most symlinks followed while resolving one target.
const MAX_HOPS: usize = 40;

// ---------------------------------------------------------------------------------------
// Paths and symlink targets
// ---------------------------------------------------------------------------------------

/// What is wrong with a relative path, said as what was expected (length aside).
fn path_problem(path: &str) -> Option<&'static str> {
    if path.is_empty() {
        Some("expected a non-empty path")
    } else if path.starts_with('/') {
        Some("expected a relative path, without a leading `/`")
    } else if path.contains('\\') {
        Some("expected `/` as the only separator, without backslashes")
    } else if path.contains('\0') {
        Some("expected no NUL byte")
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
        || target.contains('\0')
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

fn symlink_error(problem: TargetProblem, path: &str, target: &str) -> TarballError {
    let (path, target) = (path.to_owned(), target.to_owned());
    match problem {
        TargetProblem::Escapes => TarballError::SymlinkEscapes { path, target },
        TargetProblem::NotNormal => TarballError::SymlinkTarget { path, target },
    }
}

// ---------------------------------------------------------------------------------------
// The tree of packed paths
// ---------------------------------------------------------------------------------------

/// Packed paths (`None` for a file, `Some(target)` for a symlink) and the directories
/// that hold them (`""` is the root).
struct Tree<'a> {
    nodes: BTreeMap<&'a str, Option<&'a str>>,
    dirs: BTreeSet<&'a str>,
}

impl<'a> Tree<'a> {
    /// Checks that paths are unique and that no file is also a directory.
    fn new(entries: impl IntoIterator<Item = (&'a str, Option<&'a str>)>) -> Result<Self> {
        let mut nodes = BTreeMap::new();
        for (path, target) in entries {
            if nodes.insert(path, target).is_some() {
                return Err(TarballError::DuplicatePath {
                    path: path.to_owned(),
                });
            }
        }
        let mut dirs = BTreeSet::from([""]);
        for path in nodes.keys() {
            for dir in ancestors(path) {
                if nodes.contains_key(dir) {
                    return Err(TarballError::PathConflict {
                        file: dir.to_owned(),
                        inside: (*path).to_owned(),
                    });
                }
                dirs.insert(dir);
            }
        }
        Ok(Tree { nodes, dirs })
    }

    fn symlinks(&self) -> impl Iterator<Item = (&'a str, &'a str)> + '_ {
        self.nodes
            .iter()
            .filter_map(|(path, target)| target.map(|target| (*path, target)))
    }

    /// Checks every symlink's target, first on its own, then by resolving it.
    fn check_symlinks(&self) -> Result<()> {
        for (path, target) in self.symlinks() {
            resolve_lexically(path, target).map_err(|p| symlink_error(p, path, target))?;
        }
        for (path, target) in self.symlinks() {
            self.resolve(path, target)?;
        }
        Ok(())
    }

    /// Follows `target` through the tree to a packed file or a directory.
    fn resolve(&self, link: &str, target: &str) -> Result<()> {
        let not_packed = || TarballError::SymlinkNotPacked {
            path: link.to_owned(),
            target: target.to_owned(),
        };
        let mut current: Vec<&str> = link.split('/').collect();
        current.pop();
        let mut pending: VecDeque<&str> = target.split('/').collect();
        let mut hops = 0;
        while let Some(component) = pending.pop_front() {
            if component == ".." {
                current
                    .pop()
                    .ok_or_else(|| symlink_error(TargetProblem::Escapes, link, target))?;
                continue;
            }
            current.push(component);
            let here = current.join("/");
            match self.nodes.get(here.as_str()) {
                Some(None) if pending.is_empty() => {}
                Some(None) => return Err(not_packed()),
                Some(Some(next)) => {
                    hops += 1;
                    if hops > MAX_HOPS {
                        return Err(TarballError::SymlinkLoop {
                            path: link.to_owned(),
                            target: target.to_owned(),
                        });
                    }
                    current.pop();
                    next.split('/').rev().for_each(|c| pending.push_front(c));
                }
                None if self.dirs.contains(here.as_str()) => {}
                None => return Err(not_packed()),
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Selection
// ---------------------------------------------------------------------------------------

const MANIFEST_FILES: &[&str] = &[
    "purs.json",
    "purs.dhall",
    "spago.yaml",
    "spago.dhall",
    "bower.json",
    "package.json",
];
const DROPPED_DIRS: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    "CVS",
    ".jj",
    "node_modules",
    "bower_components",
    ".spago",
    ".psci_modules",
];
const DROPPED_ROOT_DIRS: &[&str] = &["output"];
const DROPPED_NAMES: &[&str] = &[
    "package-lock.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "spago.lock",
    "bun.lockb",
    "bun.lock",
    ".DS_Store",
    "Thumbs.db",
    ".psc-ide-port",
];
const DROPPED_PREFIXES: &[&str] = &["._", ".#"];
const DROPPED_SUFFIXES: &[&str] = &[".swp", ".swo", "~"];

/// Whether `path` is VCS, tool, lock or junk, dropped whatever the globs say.
fn is_dropped(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    path.split('/')
        .next()
        .is_some_and(|c| DROPPED_ROOT_DIRS.contains(&c))
        || path.split('/').any(|c| DROPPED_DIRS.contains(&c))
        || DROPPED_NAMES.contains(&name)
        || DROPPED_PREFIXES.iter().any(|p| name.starts_with(p))
        || DROPPED_SUFFIXES.iter().any(|s| name.ends_with(s))
}

fn is_root_manifest(path: &str) -> bool {
    MANIFEST_FILES.contains(&path)
}

fn is_root_license(path: &str) -> bool {
    let upper = path.to_ascii_uppercase();
    !path.contains('/') && (upper.starts_with("LICENSE") || upper.starts_with("LICENCE"))
}

fn is_always_included(path: &str) -> bool {
    path.starts_with("src/")
        || is_root_manifest(path)
        || is_root_license(path)
        || (!path.contains('/') && path.to_ascii_uppercase().starts_with("README"))
}

fn is_never_excluded(path: &str) -> bool {
    is_root_manifest(path) || is_root_license(path)
}

/// Compiled `includeFiles` and `excludeFiles`.
struct Globs {
    include: GlobSet,
    exclude: GlobSet,
}

impl Globs {
    fn new(rules: &Rules) -> Result<Self> {
        Ok(Globs {
            include: compile_globs(&rules.include, "includeFiles")?,
            exclude: compile_globs(&rules.exclude, "excludeFiles")?,
        })
    }

    fn selects(&self, path: &str) -> bool {
        !is_dropped(path)
            && (is_always_included(path) || self.include.is_match(path))
            && (is_never_excluded(path) || !self.exclude.is_match(path))
    }
}

fn compile_globs(patterns: &[String], field: &'static str) -> Result<GlobSet> {
    let mut set = GlobSetBuilder::new();
    for pattern in patterns {
        set.add(compile_glob(pattern, field)?);
    }
    set.build()
        .map_err(|source| TarballError::GlobSet { field, source })
}

fn compile_glob(pattern: &str, field: &'static str) -> Result<globset::Glob> {
    let invalid = |problem: String| TarballError::InvalidGlob {
        field,
        pattern: pattern.to_owned(),
        problem,
    };
    let mut trimmed = pattern;
    while let Some(rest) = trimmed.strip_prefix("./") {
        trimmed = rest;
    }
    if let Some(problem) = glob_problem(trimmed) {
        return Err(invalid(problem.to_owned()));
    }
    GlobBuilder::new(trimmed)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|e| invalid(format!("expected a valid glob: {}", e.kind())))
}

fn glob_problem(pattern: &str) -> Option<&'static str> {
    if pattern.is_empty() {
        Some("expected a non-empty glob")
    } else if pattern.starts_with('/') {
        Some("expected a glob relative to the package root, without a leading `/`")
    } else if pattern.split('/').any(|c| c == "..") {
        Some("expected no `..` component: globs name files inside the package")
    } else {
        None
    }
}

/// Decides which entries are packed (pure: paths only, no file contents). Sorted by path.
///
/// Only the selected entries are checked (paths, uniqueness, symlinks): entries that are
/// not selected are ignored, whatever their paths.
pub fn select(entries: &[InputEntry], rules: &Rules) -> Result<Vec<InputEntry>> {
    let globs = Globs::new(rules)?;
    let mut selected: Vec<InputEntry> = entries
        .iter()
        .filter(|e| globs.selects(&e.path))
        .cloned()
        .collect();
    for entry in &selected {
        check_path(&entry.path)?;
    }
    selected.sort_by(|a, b| a.path.cmp(&b.path));
    let tree = tree_of(selected.iter().map(|e| (e.path.as_str(), &e.kind)))?;
    check_src(&selected)?;
    tree.check_symlinks()?;
    Ok(selected)
}

fn check_src(selected: &[InputEntry]) -> Result<()> {
    let has_source = selected
        .iter()
        .any(|e| e.path.starts_with("src/") && matches!(e.kind, InputKind::File { .. }));
    if has_source {
        Ok(())
    } else {
        Err(TarballError::EmptySrc)
    }
}

fn tree_of<'a>(entries: impl Iterator<Item = (&'a str, &'a InputKind)>) -> Result<Tree<'a>> {
    Tree::new(entries.map(|(path, kind)| match kind {
        InputKind::File { .. } => (path, None),
        InputKind::Symlink { target } => (path, Some(target.as_str())),
    }))
}

// ---------------------------------------------------------------------------------------
// Packing
// ---------------------------------------------------------------------------------------

/// Where a packed path's content comes from.
enum Item<'a> {
    /// Read through the caller's reader.
    Source {
        executable: bool,
        size: u64,
    },
    /// Given bytes (an override).
    Bytes(&'a [u8]),
    Symlink(&'a str),
}

/// Builds the archive of `selected` plus `overrides` under `top_dir/`.
///
/// `read` returns a selected file's bytes, given its path. `overrides` replace a selected
/// path's content, or add a path, with the given bytes (mode 0644). Inputs are checked
/// again (paths, uniqueness, symlinks), so any slice is safe to pass.
pub fn pack<E>(
    top_dir: &str,
    selected: &[InputEntry],
    overrides: &[(String, Vec<u8>)],
    read: &mut dyn FnMut(&str) -> Result<Vec<u8>, E>,
    limits: &Limits,
) -> Result<Packed>
where
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    check_top_dir(top_dir)?;
    let plan = plan(selected, overrides)?;
    check_listed_limits(&plan, limits)?;
    let (bytes, unpacked_bytes) = write_archive(top_dir, &plan, read, limits)?;
    let warnings = check_compressed_size(bytes.len() as u64, limits)?;
    Ok(Packed {
        sha256: Sha256::digest(&bytes).into(),
        bytes,
        files: plan.len(),
        unpacked_bytes,
        warnings,
    })
}

fn check_top_dir(top_dir: &str) -> Result<()> {
    if path_problem(top_dir).is_some() || top_dir.contains('/') || top_dir.len() > MAX_NAME_BYTES {
        return Err(TarballError::InvalidTopDir {
            top_dir: top_dir.to_owned(),
        });
    }
    Ok(())
}

/// The packed paths in order, with overrides applied, after checking them.
fn plan<'a>(
    selected: &'a [InputEntry],
    overrides: &'a [(String, Vec<u8>)],
) -> Result<BTreeMap<&'a str, Item<'a>>> {
    let mut plan = BTreeMap::new();
    for entry in selected {
        check_path(&entry.path)?;
        let item = match &entry.kind {
            InputKind::File { executable, size } => Item::Source {
                executable: *executable,
                size: *size,
            },
            InputKind::Symlink { target } => Item::Symlink(target),
        };
        if plan.insert(entry.path.as_str(), item).is_some() {
            return Err(TarballError::DuplicatePath {
                path: entry.path.clone(),
            });
        }
    }
    let mut overridden = BTreeSet::new();
    for (path, bytes) in overrides {
        check_path(path)?;
        if !overridden.insert(path.as_str()) {
            return Err(TarballError::DuplicatePath { path: path.clone() });
        }
        plan.insert(path.as_str(), Item::Bytes(bytes));
    }
    Tree::new(plan.iter().map(|(path, item)| match item {
        Item::Symlink(target) => (*path, Some(*target)),
        _ => (*path, None),
    }))?
    .check_symlinks()?;
    Ok(plan)
}

/// Checks the limits on the listed sizes, before any content is read.
fn check_listed_limits(plan: &BTreeMap<&str, Item>, limits: &Limits) -> Result<()> {
    if plan.len() > limits.max_files {
        return Err(TarballError::TooManyFiles {
            count: plan.len(),
            limit: limits.max_files,
        });
    }
    let dirs: BTreeSet<&str> = plan.keys().flat_map(|path| ancestors(path)).collect();
    if dirs.len() > limits.max_files {
        return Err(TarballError::TooManyDirs {
            count: dirs.len(),
            limit: limits.max_files,
        });
    }
    let listed = plan.values().fold(0u64, |sum, item| match item {
        Item::Source { size, .. } => sum.saturating_add(*size),
        Item::Bytes(bytes) => sum.saturating_add(bytes.len() as u64),
        Item::Symlink(_) => sum,
    });
    check_unpacked(listed, limits)
}

fn check_unpacked(bytes: u64, limits: &Limits) -> Result<()> {
    if bytes > limits.max_unpacked_bytes {
        return Err(TarballError::TooManyBytes {
            bytes,
            limit: limits.max_unpacked_bytes,
        });
    }
    Ok(())
}

fn check_compressed_size(bytes: u64, limits: &Limits) -> Result<Vec<String>> {
    if bytes > limits.max_bytes {
        return Err(TarballError::TooLarge {
            bytes,
            limit: limits.max_bytes,
        });
    }
    if bytes > limits.warn_bytes {
        return Ok(vec![format!(
            "package tarball is {bytes} bytes, more than the recommended {} bytes",
            limits.warn_bytes
        )]);
    }
    Ok(Vec::new())
}

/// Writes the `.tar.gz`, reading sources as it goes; returns it and the unpacked size.
fn write_archive<E>(
    top_dir: &str,
    plan: &BTreeMap<&str, Item>,
    read: &mut dyn FnMut(&str) -> Result<Vec<u8>, E>,
    limits: &Limits,
) -> Result<(Vec<u8>, u64)>
where
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let gzip = GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), Compression::new(9));
    let mut archive = tar::Builder::new(gzip);
    archive.mode(HeaderMode::Deterministic);
    append_dir(&mut archive, top_dir)?;
    let mut emitted = BTreeSet::new();
    let mut unpacked = 0u64;
    for (path, item) in plan {
        for dir in ancestors(path) {
            if emitted.insert(dir) {
                append_dir(&mut archive, &format!("{top_dir}/{dir}"))?;
            }
        }
        let full = format!("{top_dir}/{path}");
        match item {
            Item::Source { executable, .. } => {
                let bytes = read(path).map_err(|source| TarballError::Read {
                    path: (*path).to_owned(),
                    source: source.into(),
                })?;
                unpacked = unpacked.saturating_add(bytes.len() as u64);
                check_unpacked(unpacked, limits)?;
                append_file(&mut archive, &full, *executable, &bytes)?;
            }
            Item::Bytes(bytes) => {
                unpacked = unpacked.saturating_add(bytes.len() as u64);
                check_unpacked(unpacked, limits)?;
                append_file(&mut archive, &full, false, bytes)?;
            }
            Item::Symlink(target) => append_symlink(&mut archive, &full, target)?,
        }
    }
    let bytes = archive
        .into_inner()
        .and_then(|gzip| gzip.finish())
        .map_err(TarballError::Build)?;
    Ok((bytes, unpacked))
}

/// A GNU header with everything fixed but the type, mode and size.
fn header(entry_type: EntryType, mode: u32, size: u64) -> Header {
    let mut header = Header::new_gnu();
    header.set_entry_type(entry_type);
    header.set_mode(mode);
    header.set_size(size);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    header
}

fn append_dir<W: Write>(archive: &mut tar::Builder<W>, path: &str) -> Result<()> {
    let mut header = header(EntryType::Directory, 0o755, 0);
    archive
        .append_data(&mut header, format!("{path}/"), io::empty())
        .map_err(TarballError::Build)
}

fn append_file<W: Write>(
    archive: &mut tar::Builder<W>,
    path: &str,
    executable: bool,
    bytes: &[u8],
) -> Result<()> {
    let mode = if executable { 0o755 } else { 0o644 };
    let mut header = header(EntryType::Regular, mode, bytes.len() as u64);
    archive
        .append_data(&mut header, path, bytes)
        .map_err(TarballError::Build)
}

fn append_symlink<W: Write>(archive: &mut tar::Builder<W>, path: &str, target: &str) -> Result<()> {
    let mut header = header(EntryType::Symlink, 0o777, 0);
    archive
        .append_link(&mut header, path, target)
        .map_err(TarballError::Build)
}

// ---------------------------------------------------------------------------------------
// Unpacking
// ---------------------------------------------------------------------------------------

/// Bytes allowed per entry for its header (512), content padding (511) and GNU long name
/// and long link entries (512 + 4608 each, for paths of at most 4352 bytes and targets of
/// at most 4096): 11,263 bytes at most.
const ENTRY_OVERHEAD: u64 = 12 * 1024;

/// Safely unpacks a `.tar.gz` into `dest`, an empty or missing directory.
///
/// Returns the paths of the unpacked files and symlinks, relative to `dest` (so starting
/// with the top directory), in archive order. A hostile archive is an error, never a write
/// outside `dest`.
pub fn unpack(bytes: &[u8], dest: &Path, limits: &Limits) -> Result<Vec<String>> {
    prepare_dest(dest)?;
    let stream = CappedReader {
        inner: GzDecoder::new(bytes),
        left: stream_cap(limits),
    };
    let mut archive = tar::Archive::new(stream);
    let mut unpacker = Unpacker::new(dest, limits);
    let entries = archive.entries().map_err(|e| read_error(e, limits))?;
    for entry in entries {
        unpacker.entry(&mut entry.map_err(|e| read_error(e, limits))?)?;
    }
    if unpacker.top.is_none() {
        return Err(TarballError::EmptyArchive);
    }
    Ok(unpacker.unpacked)
}

fn prepare_dest(dest: &Path) -> Result<()> {
    let write_error = |source| TarballError::Write {
        path: dest.to_owned(),
        source,
    };
    fs::create_dir_all(dest).map_err(write_error)?;
    if fs::read_dir(dest).map_err(write_error)?.next().is_some() {
        return Err(TarballError::DestNotEmpty {
            dest: dest.to_owned(),
        });
    }
    Ok(())
}

/// Most decompressed bytes read: the contents plus a header allowance per allowed entry
/// (files and symlinks, directories, and the end-of-archive blocks).
fn stream_cap(limits: &Limits) -> u64 {
    let entries = (limits.max_files as u64)
        .saturating_mul(2)
        .saturating_add(2);
    limits
        .max_unpacked_bytes
        .saturating_add(entries.saturating_mul(ENTRY_OVERHEAD))
}

/// Marks the I/O error of a decompressed stream cut off at its cap.
#[derive(Debug, thiserror::Error)]
#[error("decompressed stream is longer than its cap")]
struct StreamCapped;

/// A reader that fails once more than `left` bytes have been read.
struct CappedReader<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for CappedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            // One more byte would pass the cap: find out without keeping it.
            return match self.inner.read(&mut [0u8])? {
                0 => Ok(0),
                _ => Err(io::Error::other(StreamCapped)),
            };
        }
        let len = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..len])?;
        self.left -= n as u64;
        Ok(n)
    }
}

fn is_capped(error: &io::Error) -> bool {
    error.get_ref().is_some_and(|e| e.is::<StreamCapped>())
}

fn read_error(error: io::Error, limits: &Limits) -> TarballError {
    if is_capped(&error) {
        TarballError::UnpackLimit {
            what: "decompressed bytes",
            limit: stream_cap(limits),
        }
    } else {
        TarballError::Corrupt(error)
    }
}

/// What has been created under `dest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Made {
    Dir,
    File,
    Symlink,
}

/// The state of one unpacking.
struct Unpacker<'a> {
    dest: &'a Path,
    limits: &'a Limits,
    top: Option<String>,
    made: BTreeMap<String, Made>,
    listed: BTreeSet<String>,
    dirs: u64,
    files: u64,
    bytes: u64,
    unpacked: Vec<String>,
}

/// Accepts regular files, directories and symlinks only.
fn check_entry_type(raw: &str, entry_type: EntryType) -> Result<()> {
    match entry_type {
        EntryType::Regular | EntryType::Directory | EntryType::Symlink => Ok(()),
        EntryType::Link => Err(refused(raw, "expected no hard links")),
        EntryType::Char | EntryType::Block | EntryType::Fifo => {
            Err(refused(raw, "expected no device or fifo entries"))
        }
        _ => Err(refused(
            raw,
            "expected a regular file, directory or symlink entry",
        )),
    }
}

fn refused(path: &str, expected: impl Into<String>) -> TarballError {
    TarballError::UnsafeEntry {
        path: path.to_owned(),
        expected: expected.into(),
    }
}

impl<'a> Unpacker<'a> {
    fn new(dest: &'a Path, limits: &'a Limits) -> Self {
        Unpacker {
            dest,
            limits,
            top: None,
            made: BTreeMap::new(),
            listed: BTreeSet::new(),
            dirs: 0,
            files: 0,
            bytes: 0,
            unpacked: Vec::new(),
        }
    }

    fn entry<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>) -> Result<()> {
        let raw = entry.path_bytes().into_owned();
        let raw = String::from_utf8(raw).map_err(|e| {
            refused(
                &String::from_utf8_lossy(e.as_bytes()),
                "expected a UTF-8 path",
            )
        })?;
        let entry_type = entry.header().entry_type();
        check_entry_type(&raw, entry_type)?;
        let path = self.claim(&raw, entry_type)?;
        match entry_type {
            EntryType::Directory => self.make_dir(&path),
            EntryType::Symlink => self.make_symlink(&path, entry),
            _ => self.write_file(&path, entry),
        }
    }

    /// Checks an entry's path and creates its parent directories; returns the path.
    fn claim(&mut self, raw: &str, entry_type: EntryType) -> Result<String> {
        let path = match entry_type {
            EntryType::Directory => raw.strip_suffix('/').unwrap_or(raw),
            _ => raw,
        };
        if path.len() > MAX_NAME_BYTES + 1 + MAX_PATH_BYTES {
            return Err(refused(raw, "expected at most 4352 bytes"));
        }
        if let Some(expected) = path_problem(path) {
            return Err(refused(raw, expected));
        }
        let first = path.split('/').next().unwrap_or(path);
        let top = self.top.get_or_insert_with(|| first.to_owned());
        if first != top.as_str() {
            return Err(refused(
                raw,
                format!("expected every entry inside the single top directory `{top}/`"),
            ));
        }
        if path == top.as_str() && !entry_type.is_dir() {
            return Err(refused(raw, format!("expected `{top}/` to be a directory")));
        }
        if !self.listed.insert(path.to_owned()) {
            return Err(refused(raw, "expected each path once"));
        }
        for dir in ancestors(path) {
            self.ensure_dir(raw, dir)?;
        }
        Ok(path.to_owned())
    }

    /// Creates `dir` unless it is already a directory made here.
    fn ensure_dir(&mut self, raw: &str, dir: &str) -> Result<()> {
        match self.made.get(dir) {
            Some(Made::Dir) => Ok(()),
            Some(_) => Err(refused(
                raw,
                format!("expected `{dir}` to be a directory, not a file or symlink"),
            )),
            None => self.create_dir(dir),
        }
    }

    fn create_dir(&mut self, dir: &str) -> Result<()> {
        self.dirs += 1;
        let limit = self.limits.max_files as u64 + 1;
        if self.dirs > limit {
            return Err(TarballError::UnpackLimit {
                what: "directories",
                limit,
            });
        }
        let path = self.dest.join(dir);
        create_dir(&path).map_err(|source| TarballError::Write { path, source })?;
        self.made.insert(dir.to_owned(), Made::Dir);
        Ok(())
    }

    fn make_dir(&mut self, path: &str) -> Result<()> {
        match self.made.get(path) {
            Some(Made::Dir) => Ok(()),
            Some(_) => Err(refused(path, "expected each path once")),
            None => self.create_dir(path),
        }
    }

    /// Counts one more file or symlink against the limit.
    fn count_file(&mut self) -> Result<()> {
        self.files += 1;
        if self.files > self.limits.max_files as u64 {
            return Err(TarballError::UnpackLimit {
                what: "files",
                limit: self.limits.max_files as u64,
            });
        }
        Ok(())
    }

    fn write_file<R: Read>(&mut self, path: &str, entry: &mut tar::Entry<'_, R>) -> Result<()> {
        self.count_file()?;
        let budget = self.limits.max_unpacked_bytes.saturating_sub(self.bytes);
        let too_many_bytes = || TarballError::UnpackLimit {
            what: "bytes",
            limit: self.limits.max_unpacked_bytes,
        };
        if entry.size() > budget {
            return Err(too_many_bytes());
        }
        let executable = entry.header().mode().is_ok_and(|mode| mode & 0o111 != 0);
        let full = self.dest.join(path);
        let write_error = |source| TarballError::Write {
            path: full.clone(),
            source,
        };
        let mut file = create_file(&full, executable).map_err(write_error)?;
        let written =
            io::copy(&mut entry.take(budget.saturating_add(1)), &mut file).map_err(|e| {
                if is_capped(&e) {
                    read_error(e, self.limits)
                } else {
                    write_error(e)
                }
            })?;
        if written > budget {
            return Err(too_many_bytes());
        }
        self.bytes += written;
        self.made.insert(path.to_owned(), Made::File);
        self.unpacked.push(path.to_owned());
        Ok(())
    }

    fn make_symlink<R: Read>(&mut self, path: &str, entry: &tar::Entry<'_, R>) -> Result<()> {
        self.count_file()?;
        let target = entry
            .link_name_bytes()
            .ok_or_else(|| refused(path, "expected a symlink target"))?;
        let target = std::str::from_utf8(&target)
            .map_err(|_| refused(path, "expected a UTF-8 symlink target"))?;
        let (_, within_top) = path.split_once('/').unwrap_or(("", path));
        resolve_lexically(within_top, target).map_err(|problem| {
            refused(
                path,
                match problem {
                    TargetProblem::Escapes => {
                        format!("expected a symlink target inside the package, not `{target}`")
                    }
                    TargetProblem::NotNormal => format!(
                        "expected a symlink target of leading `..` components then names, \
                         not `{target}`"
                    ),
                },
            )
        })?;
        let full = self.dest.join(path);
        create_symlink(target, &full)
            .map_err(|source| TarballError::Write { path: full, source })?;
        self.made.insert(path.to_owned(), Made::Symlink);
        self.unpacked.push(path.to_owned());
        Ok(())
    }
}

#[cfg(unix)]
fn create_dir(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new().mode(0o755).create(path)
}

#[cfg(not(unix))]
fn create_dir(path: &Path) -> io::Result<()> {
    fs::create_dir(path)
}

/// Creates a new file; never opens an existing one or follows a symlink.
#[cfg(unix)]
fn create_file(path: &Path, executable: bool) -> io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let mode = if executable { 0o755 } else { 0o644 };
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
}

#[cfg(not(unix))]
fn create_file(path: &Path, _executable: bool) -> io::Result<fs::File> {
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

#[cfg(unix)]
fn create_symlink(target: &str, path: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(target, path)
}

#[cfg(not(unix))]
fn create_symlink(_target: &str, _path: &Path) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "symlinks are only unpacked on unix",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TOP: &str = "pkg-1.0.0";

    fn file(path: &str) -> InputEntry {
        InputEntry {
            path: path.to_owned(),
            kind: InputKind::File {
                executable: false,
                size: 1,
            },
        }
    }

    fn link(path: &str, target: &str) -> InputEntry {
        InputEntry {
            path: path.to_owned(),
            kind: InputKind::Symlink {
                target: target.to_owned(),
            },
        }
    }

    fn rules(include: &[&str], exclude: &[&str]) -> Rules {
        Rules {
            include: include.iter().map(|s| s.to_string()).collect(),
            exclude: exclude.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn selected(paths: &[&str], rules: &Rules) -> Vec<String> {
        let entries: Vec<_> = paths.iter().map(|p| file(p)).collect();
        select(&entries, rules)
            .unwrap()
            .into_iter()
            .map(|e| e.path)
            .collect()
    }

    fn select_err(entries: &[InputEntry], rules: &Rules) -> String {
        select(entries, rules).unwrap_err().to_string()
    }

    // -- selection ------------------------------------------------------------------------

    #[test]
    fn always_included_without_globs() {
        let paths = [
            "src/A.purs",
            "src/deep/B.js",
            "src/data.json",
            "purs.json",
            "purs.dhall",
            "spago.yaml",
            "spago.dhall",
            "bower.json",
            "package.json",
            "README.md",
            "readme.txt",
            "LICENSE",
            "licence-MIT",
            "License.md",
            "test/Main.purs",
            "docs/README.md",
            "docs/LICENSE",
            "sub/purs.json",
            "other.txt",
            "Makefile",
        ];
        assert_eq!(
            selected(&paths, &Rules::default()),
            [
                "LICENSE",
                "License.md",
                "README.md",
                "bower.json",
                "licence-MIT",
                "package.json",
                "purs.dhall",
                "purs.json",
                "readme.txt",
                "spago.dhall",
                "spago.yaml",
                "src/A.purs",
                "src/data.json",
                "src/deep/B.js",
            ]
        );
    }

    #[test]
    fn include_globs_add_files_and_star_stays_in_one_component() {
        let paths = [
            "src/A.purs",
            "test/Main.purs",
            "test/deep/Other.purs",
            "test/fixture.txt",
            "CHANGELOG.md",
            "docs/guide.md",
            "docs/img/logo.png",
        ];
        let got = selected(&paths, &rules(&["test/**/*.purs", "*.md"], &[]));
        assert_eq!(
            got,
            [
                "CHANGELOG.md",
                "src/A.purs",
                "test/Main.purs",
                "test/deep/Other.purs"
            ]
        );
        let got = selected(&paths, &rules(&["./docs/**", "test/*"], &[]));
        assert_eq!(
            got,
            [
                "docs/guide.md",
                "docs/img/logo.png",
                "src/A.purs",
                "test/Main.purs",
                "test/fixture.txt"
            ]
        );
    }

    #[test]
    fn exclude_globs_never_remove_manifests_or_licenses() {
        let paths = [
            "src/A.purs",
            "src/Internal/B.purs",
            "src/A.js",
            "purs.json",
            "spago.yaml",
            "LICENSE",
            "LICENCE.txt",
            "README.md",
            "test/Main.purs",
        ];
        let exclude = [
            "src/Internal/**",
            "*.json",
            "*.yaml",
            "LICEN*",
            "README*",
            "**/*.js",
        ];
        let got = selected(&paths, &rules(&["test/**"], &exclude));
        assert_eq!(
            got,
            [
                "LICENCE.txt",
                "LICENSE",
                "purs.json",
                "spago.yaml",
                "src/A.purs",
                "test/Main.purs"
            ]
        );
    }

    #[test]
    fn junk_is_dropped_at_any_depth_whatever_the_globs() {
        let paths = [
            "src/A.purs",
            "src/output/Kept.purs",
            "src/sub/.git",
            ".git/config",
            "src/.git/config",
            "src/a/.hg/x",
            "x/.svn/entries",
            "src/CVS/Entries",
            ".jj/repo",
            "node_modules/a/index.js",
            "src/a/node_modules/x.js",
            "bower_components/b/bower.json",
            ".spago/p/src/A.purs",
            ".psci_modules/x",
            "output/Main/index.js",
            "package-lock.json",
            "src/yarn.lock",
            "pnpm-lock.yaml",
            "spago.lock",
            "bun.lockb",
            "src/.DS_Store",
            "src/A.purs.swp",
            "src/.A.purs.swo",
            "src/A.purs~",
            "README.md~",
            "src/._A.purs",
            "src/.#A.purs",
            "test/Thumbs.db",
            ".psc-ide-port",
            "test/Main.purs",
        ];
        let expected = ["src/A.purs", "src/output/Kept.purs", "test/Main.purs"];
        assert_eq!(selected(&paths, &rules(&["**"], &[])), expected);
        let everything = [
            "**",
            "**/*",
            ".*",
            "**/.*",
            "**/.git/**",
            "**/node_modules/**",
        ];
        assert_eq!(selected(&paths, &rules(&everything, &[])), expected);
    }

    #[test]
    fn excluding_every_source_is_an_error() {
        let entries = [file("src/A.purs"), file("purs.json")];
        assert_eq!(
            select_err(&entries, &rules(&[], &["src/**"])),
            "`src/` is empty or missing: a package must have its sources in `src/`"
        );
    }

    #[test]
    fn empty_or_missing_src_is_an_error() {
        let cases: [&[InputEntry]; 4] = [
            &[],
            &[file("purs.json"), file("lib/A.purs")],
            &[file("src/.DS_Store")],
            &[file("README.md"), link("src/A.purs", "../README.md")],
        ];
        for entries in cases {
            assert!(
                matches!(
                    select(entries, &Rules::default()),
                    Err(TarballError::EmptySrc)
                ),
                "{entries:?}"
            );
        }
    }

    #[test]
    fn bad_globs_are_errors() {
        let cases = [
            (rules(&["/abs/**"], &[]), "/abs/**"),
            (rules(&["../x"], &[]), "../x"),
            (rules(&[], &["a/../b"]), "a/../b"),
            (rules(&[""], &[]), ""),
            (rules(&["./"], &[]), "./"),
            (rules(&[], &["src/["]), "src/["),
            (rules(&["{a,b"], &[]), "{a,b"),
        ];
        for (rules, pattern) in cases {
            match select(&[file("src/A.purs")], &rules) {
                Err(TarballError::InvalidGlob { pattern: p, .. }) => assert_eq!(p, pattern),
                other => panic!("{pattern}: {other:?}"),
            }
        }
    }

    /// Paths no rule could accept, with a glob that selects whatever the path.
    const BAD_PATHS: [&str; 11] = [
        "",
        "../x",
        "src/../x",
        "/abs",
        "src\\A.purs",
        "a//b",
        "src/",
        "a/./b",
        "a\0b",
        "docs/weird\\name.txt",
        "docs/caf\\xe9.txt",
    ];

    #[test]
    fn bad_paths_are_errors_when_selected() {
        let everything = rules(&["**"], &[]);
        for path in BAD_PATHS {
            match select(&[file("src/A.purs"), file(path)], &everything) {
                Err(TarballError::InvalidPath { path: p, .. }) => assert_eq!(p, path),
                other => panic!("{path:?}: {other:?}"),
            }
        }
        for path in ["src/../x", "src/", "src/a\\b"] {
            assert!(
                matches!(
                    select(&[file("src/A.purs"), file(path)], &Rules::default()),
                    Err(TarballError::InvalidPath { .. })
                ),
                "{path:?}"
            );
        }
        let long = format!("src/{}", "a".repeat(MAX_PATH_BYTES));
        assert!(matches!(
            select(&[file(&long)], &Rules::default()),
            Err(TarballError::InvalidPath { .. })
        ));
    }

    #[test]
    fn paths_that_are_not_selected_are_ignored() {
        let mut entries: Vec<InputEntry> = BAD_PATHS
            .iter()
            .filter(|path| !path.starts_with("src/"))
            .map(|path| file(path))
            .collect();
        entries.extend([
            file("src/A.purs"),
            file("purs.json"),
            file("docs/dup"),
            file("docs/dup"),
            file("docs/file"),
            file("docs/file/inside"),
            link("docs/escape", "/etc/passwd"),
            link("docs/odd", "./a//b"),
            link("docs/loop", "loop"),
            file(&format!("docs/{}", "a".repeat(MAX_PATH_BYTES))),
            file("node_modules/weird\\name.js"),
        ]);
        let got: Vec<String> = select(&entries, &Rules::default())
            .unwrap()
            .into_iter()
            .map(|e| e.path)
            .collect();
        assert_eq!(got, ["purs.json", "src/A.purs"]);
        // Excluded paths are not selected either.
        entries.push(file("src/weird\\name.purs"));
        assert!(select(&entries, &Rules::default()).is_err());
        let got = select(&entries, &rules(&[], &["src/weird*"])).unwrap();
        assert_eq!(got.len(), 2);
        // A selected file may lie inside a path that is an unselected file.
        let entries = [file("src/A.purs"), file("docs"), file("docs/x.md")];
        let got = select(&entries, &rules(&["docs/**"], &[])).unwrap();
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn duplicate_and_conflicting_paths_are_errors() {
        let dup = [file("src/A.purs"), file("src/A.purs")];
        assert!(matches!(
            select(&dup, &Rules::default()),
            Err(TarballError::DuplicatePath { .. })
        ));
        let conflict = [file("src/A"), file("src/A/B.purs")];
        assert!(matches!(
            select(&conflict, &Rules::default()),
            Err(TarballError::PathConflict { .. })
        ));
    }

    // -- symlinks --------------------------------------------------------------------------

    #[test]
    fn symlinks_to_packed_files_and_directories_are_kept() {
        let entries = [
            file("src/A.purs"),
            link("src/Alias.purs", "A.purs"),
            link("src/Chain.purs", "Alias.purs"),
            file("docs/README.md"),
            link("README.md", "docs/README.md"),
            file("lib/B.purs"),
            link("src/lib", "../lib"),
            link("lnk", "src"),
            link("src/Through.purs", "../lnk/A.purs"),
            link("src/Root", ".."),
        ];
        let got = select(&entries, &rules(&["docs/**", "lib/**", "lnk"], &[])).unwrap();
        assert_eq!(got.len(), entries.len());
    }

    #[test]
    fn symlink_cases_are_refused() {
        let base = || {
            vec![
                file("src/A.purs"),
                file("secret.txt"),
                file("node_modules/x.js"),
            ]
        };
        let cases = [
            (
                link("src/x", "/etc/passwd"),
                "symlink `src/x` points outside the package (`/etc/passwd`)",
            ),
            (
                link("src/x", "../../etc"),
                "symlink `src/x` points outside the package (`../../etc`)",
            ),
            (
                link("src/x", "a/../../../etc"),
                "symlink `src/x` points outside the package (`a/../../../etc`)",
            ),
            (
                link("src/x", "../secret.txt"),
                "symlink `src/x` points at `../secret.txt`, which is not packed: expected a \
                 packed file or a directory holding packed files",
            ),
            (
                link("src/x", "../node_modules/x.js"),
                "symlink `src/x` points at `../node_modules/x.js`, which is not packed: \
                 expected a packed file or a directory holding packed files",
            ),
            (
                link("src/x", "A.purs/B"),
                "symlink `src/x` points at `A.purs/B`, which is not packed: expected a packed \
                 file or a directory holding packed files",
            ),
            (
                link("src/x", "./A.purs"),
                "symlink `src/x` has target `./A.purs`: expected a relative path of leading \
                 `..` components then names, without `.` or empty components",
            ),
            (
                link("src/x", "y/../A.purs"),
                "symlink `src/x` has target `y/../A.purs`: expected a relative path of \
                 leading `..` components then names, without `.` or empty components",
            ),
        ];
        for (bad, message) in cases {
            let mut entries = base();
            entries.push(bad);
            assert_eq!(select_err(&entries, &Rules::default()), message);
        }
    }

    #[test]
    fn symlink_loops_are_refused() {
        let entries = [file("src/A.purs"), link("src/a", "b"), link("src/b", "a")];
        assert_eq!(
            select_err(&entries, &Rules::default()),
            "symlink `src/a` points at `b`, which does not resolve: expected at most 40 \
             levels of symlinks"
        );
    }

    // -- packing ---------------------------------------------------------------------------

    /// A package source: path → (bytes, executable) and symlinks.
    struct Source {
        files: BTreeMap<String, (Vec<u8>, bool)>,
        links: Vec<(String, String)>,
    }

    impl Source {
        fn new(files: &[(&str, &[u8])]) -> Self {
            Source {
                files: files
                    .iter()
                    .map(|(p, b)| (p.to_string(), (b.to_vec(), false)))
                    .collect(),
                links: Vec::new(),
            }
        }

        fn entries(&self) -> Vec<InputEntry> {
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

        fn read(&self, path: &str) -> Result<Vec<u8>, io::Error> {
            self.files
                .get(path)
                .map(|(bytes, _)| bytes.clone())
                .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))
        }

        fn pack_with(&self, entries: &[InputEntry], limits: &Limits) -> Result<Packed> {
            pack(TOP, entries, &[], &mut |p| self.read(p), limits)
        }

        fn pack(&self) -> Packed {
            self.pack_with(&self.entries(), &Limits::default()).unwrap()
        }
    }

    fn sample() -> Source {
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
    fn listing(bytes: &[u8]) -> Vec<(String, char, u32, u64, String)> {
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

    #[test]
    fn archive_layout_is_sorted_with_directories_first() {
        let packed = sample().pack();
        let got: Vec<_> = listing(&packed.bytes)
            .into_iter()
            .map(|(p, t, m, s, l)| format!("{t} {m:o} {s} {p} {l}").trim_end().to_owned())
            .collect();
        assert_eq!(
            got,
            [
                "5 755 0 pkg-1.0.0/",
                "0 644 4 pkg-1.0.0/LICENSE",
                "5 755 0 pkg-1.0.0/bin/",
                "0 755 10 pkg-1.0.0/bin/run.sh",
                "0 644 3 pkg-1.0.0/purs.json",
                "5 755 0 pkg-1.0.0/src/",
                "0 644 15 pkg-1.0.0/src/A.purs",
                "2 777 0 pkg-1.0.0/src/Alias.purs A.purs",
                "5 755 0 pkg-1.0.0/src/Deep/",
                "0 644 20 pkg-1.0.0/src/Deep/B.purs",
            ]
        );
        assert_eq!(packed.files, 6);
        assert_eq!(packed.unpacked_bytes, 4 + 10 + 3 + 15 + 20);
        assert_eq!(
            packed.sha256,
            <[u8; 32]>::from(Sha256::digest(&packed.bytes))
        );
        assert!(packed.warnings.is_empty());
    }

    #[test]
    fn pack_is_deterministic_whatever_the_input_order() {
        let source = sample();
        let first = source.pack();
        assert_eq!(source.pack(), first);
        let mut reversed = source.entries();
        reversed.reverse();
        let again = source.pack_with(&reversed, &Limits::default()).unwrap();
        assert_eq!(again.bytes, first.bytes);
    }

    #[test]
    fn gzip_header_has_mtime_zero_and_no_name() {
        let bytes = sample().pack().bytes;
        assert_eq!(&bytes[..3], &[0x1f, 0x8b, 8]);
        assert_eq!(bytes[3], 0, "no FNAME, FEXTRA or FCOMMENT flag");
        assert_eq!(&bytes[4..8], &[0, 0, 0, 0], "mtime 0");
        assert_eq!(bytes[9], 255, "unknown OS");
        let decoder = GzDecoder::new(&bytes[..]);
        let header = decoder.header().unwrap();
        assert_eq!((header.mtime(), header.filename()), (0, None));
    }

    #[test]
    fn long_paths_and_targets_round_trip() {
        let dir = "d".repeat(120);
        let long = format!("src/{dir}/{}.purs", "N".repeat(110));
        let mut source = Source::new(&[(&long, b"long\n"), ("src/A.purs", b"a\n")]);
        let target = format!("{dir}/{}.purs", "N".repeat(110));
        source.links.push(("src/L.purs".into(), target.clone()));
        let packed = source.pack();
        let names: Vec<_> = listing(&packed.bytes)
            .into_iter()
            .map(|e| (e.0, e.4))
            .collect();
        assert!(names.contains(&(format!("{TOP}/{long}"), String::new())));
        assert!(names.contains(&(format!("{TOP}/src/L.purs"), target.clone())));
        let out = tempfile::tempdir().unwrap();
        unpack(&packed.bytes, out.path(), &Limits::default()).unwrap();
        assert_eq!(
            fs::read(out.path().join(TOP).join(&long)).unwrap(),
            b"long\n"
        );
        let link = out.path().join(TOP).join("src/L.purs");
        assert_eq!(fs::read_link(&link).unwrap(), Path::new(&target));
        assert_eq!(fs::read(link).unwrap(), b"long\n");
    }

    #[test]
    fn pack_then_unpack_preserves_contents_modes_and_symlinks() {
        let source = sample();
        let packed = source.pack();
        let out = tempfile::tempdir().unwrap();
        let got = unpack(&packed.bytes, out.path(), &Limits::default()).unwrap();
        let root = out.path().join(TOP);
        for (path, (bytes, executable)) in &source.files {
            assert!(got.contains(&format!("{TOP}/{path}")));
            assert_eq!(&fs::read(root.join(path)).unwrap(), bytes);
            assert_eq!(is_executable(&root.join(path)), *executable, "{path}");
        }
        let alias = root.join("src/Alias.purs");
        assert_eq!(fs::read_link(&alias).unwrap(), Path::new("A.purs"));
        assert_eq!(fs::read(alias).unwrap(), b"module A where\n");
        assert_eq!(got.len(), 6);
    }

    #[cfg(unix)]
    fn is_executable(path: &Path) -> bool {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(path).unwrap().permissions().mode() & 0o111 != 0
    }

    #[cfg(not(unix))]
    fn is_executable(_path: &Path) -> bool {
        false
    }

    #[test]
    fn overrides_replace_and_add_files() {
        let source = sample();
        let overrides = [
            ("purs.json".to_owned(), b"{\"name\":\"pkg\"}\n".to_vec()),
            ("extra/NOTE".to_owned(), b"note\n".to_vec()),
        ];
        let packed = pack(
            TOP,
            &source.entries(),
            &overrides,
            &mut |p| source.read(p),
            &Limits::default(),
        )
        .unwrap();
        let out = tempfile::tempdir().unwrap();
        unpack(&packed.bytes, out.path(), &Limits::default()).unwrap();
        let root = out.path().join(TOP);
        assert_eq!(
            fs::read(root.join("purs.json")).unwrap(),
            b"{\"name\":\"pkg\"}\n"
        );
        assert_eq!(fs::read(root.join("extra/NOTE")).unwrap(), b"note\n");
        assert_eq!(packed.files, 7);

        let twice = [overrides[0].clone(), overrides[0].clone()];
        let err = pack(
            TOP,
            &[],
            &twice,
            &mut |p| source.read(p),
            &Limits::default(),
        );
        assert!(matches!(err, Err(TarballError::DuplicatePath { .. })));
    }

    #[test]
    fn pack_rechecks_its_input() {
        let source = sample();
        let read = &mut |p: &str| source.read(p);
        let limits = Limits::default();
        let bad_path = pack(TOP, &[file("../x")], &[], read, &limits);
        assert!(matches!(bad_path, Err(TarballError::InvalidPath { .. })));
        let escaping = pack(TOP, &[link("x", "../y")], &[], read, &limits);
        assert!(matches!(escaping, Err(TarballError::SymlinkEscapes { .. })));
        for top in ["", "a/b", "..", "."] {
            let err = pack(top, &[], &[], read, &limits);
            assert!(
                matches!(err, Err(TarballError::InvalidTopDir { .. })),
                "{top}"
            );
        }
    }

    #[test]
    fn reader_errors_carry_the_path_and_source() {
        let entries = [file("src/Missing.purs")];
        let err = pack(
            TOP,
            &entries,
            &[],
            &mut |_| Err::<Vec<u8>, _>("disk on fire"),
            &Limits::default(),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot read `src/Missing.purs` from the package source"
        );
        let source = std::error::Error::source(&err).unwrap();
        assert_eq!(source.to_string(), "disk on fire");
    }

    // -- limits ----------------------------------------------------------------------------

    #[test]
    fn too_many_files_is_an_error() {
        let source = sample();
        let limits = Limits {
            max_files: 5,
            ..Limits::default()
        };
        let err = source.pack_with(&source.entries(), &limits).unwrap_err();
        assert_eq!(
            err.to_string(),
            "package has 6 files, more than the limit of 5 files"
        );
    }

    #[test]
    fn too_many_directories_is_an_error() {
        let source = Source::new(&[("src/a/b/c/d/e/A.purs", b"a")]);
        let limits = Limits {
            max_files: 5,
            ..Limits::default()
        };
        let err = source.pack_with(&source.entries(), &limits).unwrap_err();
        assert_eq!(
            err.to_string(),
            "package has 6 directories, more than the limit of 5 directories"
        );
        let limits = Limits {
            max_files: 6,
            ..Limits::default()
        };
        let packed = source.pack_with(&source.entries(), &limits).unwrap();
        let out = tempfile::tempdir().unwrap();
        unpack(&packed.bytes, out.path(), &limits).unwrap();
    }

    #[test]
    fn longest_paths_pack_and_unpack() {
        let name = format!("src/{}", "a".repeat(200));
        let path = format!("{}/A.purs", vec![name.as_str(); 20].join("/"));
        let path = &path[..MAX_PATH_BYTES - 5];
        let path = format!("{}.purs", path.trim_end_matches('/'));
        let source = Source::new(&[(path.as_str(), b"x")]);
        let top = "t".repeat(MAX_NAME_BYTES);
        let packed = pack(
            &top,
            &source.entries(),
            &[],
            &mut |p| source.read(p),
            &Limits::default(),
        )
        .unwrap();
        let out = tempfile::tempdir().unwrap();
        let got = unpack(&packed.bytes, out.path(), &Limits::default());
        // The OS may refuse a path this long; regis must not.
        if let Err(err) = got {
            assert!(matches!(err, TarballError::Write { .. }), "{err:?}");
        }
    }

    #[test]
    fn listed_sizes_are_checked_before_reading() {
        let entries = [InputEntry {
            path: "src/Big.purs".into(),
            kind: InputKind::File {
                executable: false,
                size: 51 * 1024 * 1024,
            },
        }];
        let mut reads = 0;
        let err = pack(
            TOP,
            &entries,
            &[],
            &mut |_| {
                reads += 1;
                Ok::<_, io::Error>(Vec::new())
            },
            &Limits::default(),
        )
        .unwrap_err();
        assert_eq!(reads, 0);
        assert_eq!(
            err.to_string(),
            "package files total 53477376 bytes unpacked, more than the limit of 52428800 bytes"
        );
    }

    #[test]
    fn real_sizes_are_checked_after_reading() {
        let source = Source::new(&[("src/A.purs", &[b'a'; 2000])]);
        let mut entries = source.entries();
        entries[0].kind = InputKind::File {
            executable: false,
            size: 10,
        };
        let limits = Limits {
            max_unpacked_bytes: 1000,
            ..Limits::default()
        };
        let err = source.pack_with(&entries, &limits).unwrap_err();
        assert!(matches!(
            err,
            TarballError::TooManyBytes {
                bytes: 2000,
                limit: 1000
            }
        ));
    }

    #[test]
    fn compressed_size_limit_and_warning() {
        let source = Source::new(&[("src/A.purs", &crate::testing::noise(5000))]);
        let limits = Limits {
            max_bytes: 4000,
            ..Limits::default()
        };
        let err = source.pack_with(&source.entries(), &limits).unwrap_err();
        let TarballError::TooLarge { bytes, limit } = err else {
            panic!("{err:?}")
        };
        assert!(bytes > 5000 && limit == 4000);
        assert_eq!(
            err_message(TarballError::TooLarge {
                bytes: 2_000_001,
                limit: 2_000_000
            }),
            "package tarball is 2000001 bytes, more than the limit of 2000000 bytes"
        );

        let limits = Limits {
            warn_bytes: 4000,
            ..Limits::default()
        };
        let packed = source.pack_with(&source.entries(), &limits).unwrap();
        assert_eq!(
            packed.warnings,
            [format!(
                "package tarball is {} bytes, more than the recommended 4000 bytes",
                packed.bytes.len()
            )]
        );
    }

    fn err_message(err: TarballError) -> String {
        err.to_string()
    }

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

    // -- hostile archives ------------------------------------------------------------------

    /// A header written field by field, bypassing the `tar` crate's path checks.
    fn raw_header(path: &str, entry_type: EntryType, size: u64) -> Header {
        let mut header = Header::new_gnu();
        header.as_gnu_mut().unwrap().name[..path.len()].copy_from_slice(path.as_bytes());
        header.set_entry_type(entry_type);
        header.set_mode(0o644);
        header.set_size(size);
        header.set_mtime(0);
        header.set_cksum();
        header
    }

    fn raw_link(path: &str, entry_type: EntryType, target: &str) -> Header {
        let mut header = raw_header(path, entry_type, 0);
        header.as_gnu_mut().unwrap().linkname[..target.len()].copy_from_slice(target.as_bytes());
        header.set_cksum();
        header
    }

    fn raw_archive(entries: Vec<(Header, Box<dyn Read>)>) -> Vec<u8> {
        let gzip = GzBuilder::new().write(Vec::new(), Compression::fast());
        let mut archive = tar::Builder::new(gzip);
        for (header, data) in entries {
            archive.append(&header, data).unwrap();
        }
        archive.into_inner().unwrap().finish().unwrap()
    }

    fn dir(path: &str) -> (Header, Box<dyn Read>) {
        (
            raw_header(path, EntryType::Directory, 0),
            Box::new(io::empty()),
        )
    }

    fn data(path: &str, bytes: &'static [u8]) -> (Header, Box<dyn Read>) {
        (
            raw_header(path, EntryType::Regular, bytes.len() as u64),
            Box::new(bytes),
        )
    }

    fn zeros(path: &str, entry_type: EntryType, len: u64) -> (Header, Box<dyn Read>) {
        (
            raw_header(path, entry_type, len),
            Box::new(io::repeat(0).take(len)),
        )
    }

    fn symlink(path: &str, target: &str) -> (Header, Box<dyn Read>) {
        (
            raw_link(path, EntryType::Symlink, target),
            Box::new(io::empty()),
        )
    }

    /// Unpacks into `<tmp>/dest` next to an empty `<tmp>/victim`; checks that nothing
    /// outside `dest` changed and returns the error.
    fn unpack_hostile(bytes: &[u8], limits: &Limits) -> TarballError {
        let outer = tempfile::tempdir().unwrap();
        fs::create_dir(outer.path().join("victim")).unwrap();
        let err = unpack(bytes, &outer.path().join("dest"), limits).unwrap_err();
        let mut names: Vec<_> = fs::read_dir(outer.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["dest", "victim"]);
        assert_eq!(
            fs::read_dir(outer.path().join("victim")).unwrap().count(),
            0
        );
        err
    }

    fn refusal(entries: Vec<(Header, Box<dyn Read>)>) -> String {
        match unpack_hostile(&raw_archive(entries), &Limits::default()) {
            TarballError::UnsafeEntry { path, expected } => format!("{path}: {expected}"),
            other => panic!("expected a refused entry, got {other:?}"),
        }
    }

    #[test]
    fn dotdot_and_absolute_paths_are_refused() {
        assert_eq!(
            refusal(vec![dir("top/"), data("top/../../victim/x", b"x")]),
            "top/../../victim/x: expected no `..` component"
        );
        assert_eq!(
            refusal(vec![data("../victim/x", b"x")]),
            "../victim/x: expected no `..` component"
        );
        assert_eq!(
            refusal(vec![data("/tmp/regis-evil", b"x")]),
            "/tmp/regis-evil: expected a relative path, without a leading `/`"
        );
    }

    #[test]
    fn entries_outside_the_single_top_dir_are_refused() {
        assert_eq!(
            refusal(vec![
                dir("top/"),
                data("top/a", b"a"),
                data("other/b", b"b")
            ]),
            "other/b: expected every entry inside the single top directory `top/`"
        );
        assert_eq!(
            refusal(vec![data("loose", b"a")]),
            "loose: expected `loose/` to be a directory"
        );
        assert_eq!(
            refusal(vec![dir("top/"), data("top/a", b"a"), data("top/a", b"b")]),
            "top/a: expected each path once"
        );
    }

    #[test]
    fn escaping_symlinks_and_writes_through_symlinks_are_refused() {
        assert_eq!(
            refusal(vec![
                dir("top/"),
                symlink("top/link", "../../victim"),
                data("top/link/x", b"x"),
            ]),
            "top/link: expected a symlink target inside the package, not `../../victim`"
        );
        assert_eq!(
            refusal(vec![dir("top/"), symlink("top/link", "/tmp")]),
            "top/link: expected a symlink target inside the package, not `/tmp`"
        );
        // Lexically `t` stays inside, but the OS climbs from where `s` points: refused
        // because `..` follows a name.
        assert_eq!(
            refusal(vec![
                dir("top/"),
                symlink("top/a/b/s", "../.."),
                symlink("top/a/b/t", "s/../../../victim"),
            ]),
            "top/a/b/t: expected a symlink target of leading `..` components then names, \
             not `s/../../../victim`"
        );
        assert_eq!(
            refusal(vec![
                dir("top/"),
                symlink("top/a/s", ".."),
                symlink("top/a/t", "s/.."),
            ]),
            "top/a/t: expected a symlink target of leading `..` components then names, not `s/..`"
        );
        assert_eq!(
            refusal(vec![
                dir("top/"),
                dir("top/src/"),
                symlink("top/lnk", "src"),
                data("top/lnk/x", b"x")
            ]),
            "top/lnk/x: expected `top/lnk` to be a directory, not a file or symlink"
        );
    }

    #[test]
    fn hard_links_devices_and_fifos_are_refused() {
        let hard = (
            raw_link("top/h", EntryType::Link, "top/a"),
            Box::new(io::empty()) as _,
        );
        assert_eq!(
            refusal(vec![dir("top/"), data("top/a", b"a"), hard]),
            "top/h: expected no hard links"
        );
        for kind in [EntryType::Fifo, EntryType::Char, EntryType::Block] {
            assert_eq!(
                refusal(vec![dir("top/"), zeros("top/dev", kind, 0)]),
                "top/dev: expected no device or fifo entries"
            );
        }
    }

    #[test]
    fn oversized_files_stop_before_writing() {
        let limits = Limits {
            max_unpacked_bytes: 1024 * 1024,
            ..Limits::default()
        };
        let bomb = raw_archive(vec![
            dir("top/"),
            zeros("top/small", EntryType::Regular, 700 * 1024),
            zeros("top/big", EntryType::Regular, 700 * 1024),
        ]);
        let outer = tempfile::tempdir().unwrap();
        let err = unpack(&bomb, outer.path(), &limits).unwrap_err();
        assert_eq!(
            err.to_string(),
            "tarball unpacks to more than the limit of 1048576 bytes"
        );
        assert!(outer.path().join("top/small").exists());
        assert!(!outer.path().join("top/big").exists());
    }

    #[test]
    fn gzip_bombs_stop_at_the_stream_cap() {
        let limits = Limits {
            max_unpacked_bytes: 1024 * 1024,
            max_files: 10,
            ..Limits::default()
        };
        let long_name = raw_header("././@LongLink", EntryType::GNULongName, 16 << 20);
        let bomb = raw_archive(vec![
            (long_name, Box::new(io::repeat(b'a').take(16 << 20))),
            data("top/x", b"x"),
        ]);
        assert!(bomb.len() < 100_000);
        let err = unpack_hostile(&bomb, &limits);
        assert!(
            matches!(err, TarballError::UnpackLimit { what: "decompressed bytes", limit } if limit == stream_cap(&limits)),
            "{err:?}"
        );
    }

    #[test]
    fn too_many_entries_are_refused() {
        let limits = Limits {
            max_files: 2,
            ..Limits::default()
        };
        let files = raw_archive(vec![
            dir("top/"),
            data("top/a", b"a"),
            data("top/b", b"b"),
            data("top/c", b"c"),
        ]);
        let err = unpack_hostile(&files, &limits);
        assert!(matches!(
            err,
            TarballError::UnpackLimit {
                what: "files",
                limit: 2
            }
        ));
        let dirs = raw_archive(vec![
            dir("top/"),
            dir("top/a/"),
            dir("top/b/"),
            dir("top/c/"),
        ]);
        let err = unpack_hostile(&dirs, &limits);
        assert!(matches!(
            err,
            TarballError::UnpackLimit {
                what: "directories",
                limit: 3
            }
        ));
    }

    #[test]
    fn unpack_needs_an_empty_destination_and_a_real_archive() {
        let bytes = sample().pack().bytes;
        let out = tempfile::tempdir().unwrap();
        fs::write(out.path().join("already"), b"").unwrap();
        let err = unpack(&bytes, out.path(), &Limits::default()).unwrap_err();
        assert!(matches!(err, TarballError::DestNotEmpty { .. }));
        let out = tempfile::tempdir().unwrap();
        let err = unpack(b"not a tarball", out.path(), &Limits::default()).unwrap_err();
        assert!(matches!(err, TarballError::Corrupt(_)), "{err:?}");
        let err = unpack(&raw_archive(vec![]), out.path(), &Limits::default()).unwrap_err();
        assert!(matches!(err, TarballError::EmptyArchive), "{err:?}");
    }

    #[test]
    fn select_then_pack_end_to_end() {
        let mut source = sample();
        source
            .files
            .insert("node_modules/x.js".into(), (b"x".to_vec(), false));
        source
            .files
            .insert("test/Main.purs".into(), (b"t".to_vec(), false));
        let selected = select(&source.entries(), &rules(&["test/**", "bin/*"], &[])).unwrap();
        let packed = source.pack_with(&selected, &Limits::default()).unwrap();
        let paths: Vec<_> = listing(&packed.bytes).into_iter().map(|e| e.0).collect();
        assert!(paths.contains(&format!("{TOP}/test/Main.purs")));
        assert!(!paths.iter().any(|p| p.contains("node_modules")));
    }

    // -- properties ------------------------------------------------------------------------

    fn arb_files() -> impl Strategy<Value = BTreeMap<String, (Vec<u8>, bool)>> {
        let path = prop_oneof![
            4 => "src(/[a-c]{1,3}){0,3}/[a-zA-Z]{1,8}\\.purs",
            1 => "src/[a-z]{90,120}/[a-z]{10,30}\\.js",
            1 => "(README|LICENSE|purs\\.json)",
        ];
        let file = (prop::collection::vec(any::<u8>(), 0..300), any::<bool>());
        prop::collection::btree_map(path, file, 1..12)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn pack_is_deterministic_and_unpack_inverts_it(files in arb_files()) {
            let source = Source { files, links: Vec::new() };
            let entries = source.entries();
            let packed = source.pack_with(&entries, &Limits::default()).unwrap();
            let mut reversed = entries.clone();
            reversed.reverse();
            let again = source.pack_with(&reversed, &Limits::default()).unwrap();
            prop_assert_eq!(&again.bytes, &packed.bytes);

            let out = tempfile::tempdir().unwrap();
            let got = unpack(&packed.bytes, out.path(), &Limits::default()).unwrap();
            let expected: BTreeSet<_> = source.files.keys().map(|p| format!("{TOP}/{p}")).collect();
            prop_assert_eq!(got.into_iter().collect::<BTreeSet<_>>(), expected);
            for (path, (bytes, executable)) in &source.files {
                let on_disk = out.path().join(TOP).join(path);
                prop_assert_eq!(&fs::read(&on_disk).unwrap(), bytes);
                prop_assert_eq!(is_executable(&on_disk), *executable);
            }
        }
    }
}
