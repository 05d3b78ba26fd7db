//! Which files a package packs: the rules of the module documentation's *Selection*,
//! and the checks on packed paths and symlinks that [`pack`](super::pack) repeats.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use globset::{GlobBuilder, GlobMatcher};

use super::{
    InputEntry, InputKind, MAX_HOPS, Result, Rules, Selection, TarballError, TargetProblem,
    ancestors, check_path, resolve_lexically,
};
use crate::text::echo;

/// Root files packed when present: registry-dev's `includedGlobs` (`Constants.purs`) and
/// regis's own `purs.dhall`. `excludeFiles` cannot remove them (its
/// `alwaysIncludedFilesIfPresent`).
const ROOT_FILES: &[&str] = &[
    "purs.json",
    "purs.dhall",
    "spago.yaml",
    "spago.dhall",
    "packages.dhall",
    "bower.json",
    "package.json",
];
/// Root names packed when they start with one of these (`includedInsensitiveGlobs`
/// `README*`, `LICENSE*`, `LICENCE*`): matched case-sensitively, as the real registry
/// really matches them — the `caseSensitive: false` it passes is not a fast-glob option —
/// so a `readme.md` is not packed. A directory matched is packed whole.
const ROOT_PREFIXES: &[&str] = &["README", "LICENSE", "LICENCE"];
/// Root directories and files removed after selection (`ignoredDirectories`,
/// `ignoredFiles`): at the root only, as the real registry removes them.
const IGNORED_ROOT: &[&str] = &[
    ".psci",
    ".psci_modules",
    ".spago",
    "node_modules",
    "bower_components",
    ".git",
    "CVS",
    ".svn",
    ".hg",
    "_darcs",
    ".fossil",
    ".jj",
    ".pijul",
    "package-lock.json",
    "yarn.lock",
    "pnpm-lock.yaml",
];

/// Whether a name is removed after selection wherever it is (`ignoredGlobs`
/// `**/*.*.swp`, `**/._*`, `**/.DS_Store`; fast-glob does not descend into dot
/// directories for them, so neither does this).
fn is_ignored_name(name: &str) -> bool {
    let swap = name
        .strip_suffix(".swp")
        .is_some_and(|stem| !stem.starts_with('.') && stem.contains('.'));
    swap || name.starts_with("._") || name == ".DS_Store"
}

/// Whether `path` is removed after selection (see [`IGNORED_ROOT`], [`is_ignored_name`]).
fn is_ignored(path: &str) -> bool {
    let root = path.split('/').next().unwrap_or(path);
    if IGNORED_ROOT.contains(&root) {
        return true;
    }
    for component in path.split('/') {
        if is_ignored_name(component) {
            return true;
        }
        if component.starts_with('.') {
            return false;
        }
    }
    false
}

/// Compiled `includeFiles` and `excludeFiles`, matched as fast-glob matches them for the
/// real registry: against files and directories, `*` within one component, `**` across,
/// and no component starting with `.` matched by a wildcard (fast-glob's `dot: false`).
struct Globs {
    include: Vec<Pattern>,
    exclude: Vec<Pattern>,
    /// Each include glob matched one path component at a time, to tell whether it reaches
    /// below a directory (see [`Globs::reaches`]).
    include_parts: Vec<Vec<Part>>,
}

/// One glob: the matcher, whether it names directories only (a trailing `/`), and whether
/// it names dot components itself.
struct Pattern {
    matcher: GlobMatcher,
    dirs_only: bool,
    dots: bool,
}

impl Pattern {
    fn new(pattern: &str, field: &'static str) -> Result<Pattern> {
        let (body, dirs_only) = match pattern.strip_suffix('/') {
            Some(body) if !body.is_empty() => (body, true),
            _ => (pattern, false),
        };
        Ok(Pattern {
            matcher: compile_glob(body, field)?.compile_matcher(),
            dirs_only,
            dots: body.split('/').any(|c| c.starts_with('.')),
        })
    }

    fn matches(&self, path: &str, is_dir: bool) -> bool {
        (is_dir || !self.dirs_only)
            && (self.dots || !path.split('/').any(|c| c.starts_with('.')))
            && self.matcher.is_match(path)
    }
}

/// One component of a glob: `**`, or a glob within one name.
enum Part {
    Any,
    Name(GlobMatcher),
}

impl Globs {
    fn new(rules: &Rules) -> Result<Self> {
        let include = trimmed_globs(&rules.include, "includeFiles")?;
        let exclude = trimmed_globs(&rules.exclude, "excludeFiles")?;
        Ok(Globs {
            include: include
                .iter()
                .map(|p| Pattern::new(p, "includeFiles"))
                .collect::<Result<_>>()?,
            exclude: exclude
                .iter()
                .map(|p| Pattern::new(p, "excludeFiles"))
                .collect::<Result<_>>()?,
            include_parts: include.iter().map(|pattern| parts(pattern)).collect(),
        })
    }

    fn included(&self, path: &str, is_dir: bool) -> bool {
        self.include.iter().any(|p| p.matches(path, is_dir))
    }

    fn excluded(&self, path: &str, is_dir: bool) -> bool {
        !(ROOT_FILES.contains(&path)) && self.exclude.iter().any(|p| p.matches(path, is_dir))
    }

    /// Whether an include glob matches `dir` or could match a path below it.
    fn reaches(&self, dir: &str) -> bool {
        let components: Vec<&str> = dir.split('/').collect();
        self.include_parts
            .iter()
            .any(|parts| reaches(parts, &components))
    }
}

/// The components of `pattern`; a pattern whose components are not globs on their own (a
/// `{a,b/c}` alternative spans a `/`) is taken as `**`, reaching every directory.
fn parts(pattern: &str) -> Vec<Part> {
    let parts: Option<Vec<Part>> = pattern
        .trim_end_matches('/')
        .split('/')
        .map(|part| match part {
            "**" => Some(Part::Any),
            part => GlobBuilder::new(part)
                .backslash_escape(true)
                .build()
                .ok()
                .map(|glob| Part::Name(glob.compile_matcher())),
        })
        .collect();
    parts.unwrap_or_else(|| vec![Part::Any])
}

/// Whether a glob of `parts` matches `dir` (split in `components`) or a path below it.
fn reaches(parts: &[Part], components: &[&str]) -> bool {
    match (parts.split_first(), components.split_first()) {
        (_, None) | (Some((Part::Any, _)), _) => true,
        (None, Some(_)) => false,
        (Some((Part::Name(glob), parts)), Some((name, components))) => {
            glob.is_match(name) && reaches(parts, components)
        }
    }
}

/// `patterns` without their leading `./`, each checked.
fn trimmed_globs<'a>(patterns: &'a [String], field: &'static str) -> Result<Vec<&'a str>> {
    patterns
        .iter()
        .map(|pattern| {
            let mut trimmed = pattern.as_str();
            while let Some(rest) = trimmed.strip_prefix("./") {
                trimmed = rest;
            }
            match glob_problem(trimmed) {
                Some(problem) => Err(TarballError::InvalidGlob {
                    field,
                    pattern: pattern.clone(),
                    problem: problem.to_owned(),
                }),
                None => Ok(trimmed),
            }
        })
        .collect()
}

fn compile_glob(pattern: &str, field: &'static str) -> Result<globset::Glob> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|e| TarballError::InvalidGlob {
            field,
            pattern: pattern.to_owned(),
            problem: format!("expected a valid glob: {}", e.kind()),
        })
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

/// Decides which entries are packed (pure: paths only, no file contents), sorted by path,
/// with a warning for each submodule left out — as registry-dev's `copyPackageSourceFiles`
/// and `removeIgnoredTarballFiles` do (see the module documentation's *Selection*).
///
/// The real registry copies *units*: `src/` whole, the root files, the root `README*`,
/// `LICENSE*`, `LICENCE*`, and whatever file or directory an include glob matches (a
/// directory whole); an exclude glob removes a unit only when it matches the unit's own
/// path, so it cannot remove a file from inside `src/` or another directory copied whole.
/// Then the ignored paths are removed.
///
/// Only the selected entries are checked (paths, uniqueness, symlinks): entries that are
/// not selected are ignored, whatever their paths. A submodule is refused when the
/// selection reaches into it: it is under a unit, or an `includeFiles` glob could match a
/// path below it.
pub fn select(entries: &[InputEntry], rules: &Rules) -> Result<Selection> {
    let globs = Globs::new(rules)?;
    let mut dirs: BTreeSet<&str> = BTreeSet::new();
    for entry in entries {
        dirs.extend(ancestors(&entry.path));
    }
    let mut units: BTreeSet<&str> = BTreeSet::new();
    if dirs.contains("src") && !globs.excluded("src", true) {
        units.insert("src");
    }
    let paths = entries
        .iter()
        .map(|e| (e.path.as_str(), matches!(e.kind, InputKind::Submodule)))
        .chain(dirs.iter().map(|d| (*d, true)));
    for (path, is_dir) in paths {
        let root_name = !path.contains('/');
        let always = root_name
            && ((!is_dir && ROOT_FILES.contains(&path))
                || ROOT_PREFIXES.iter().any(|p| path.starts_with(p)));
        if (always || globs.included(path, is_dir)) && !globs.excluded(path, is_dir) {
            units.insert(path);
        }
    }
    let in_unit =
        |path: &str| units.contains(path) || ancestors(path).any(|dir| units.contains(dir));
    let mut selected = Vec::new();
    let mut warnings = Vec::new();
    for entry in entries {
        let path = &entry.path;
        match entry.kind {
            InputKind::Submodule if (in_unit(path) || globs.reaches(path)) && !is_ignored(path) => {
                return Err(TarballError::Submodule { path: path.clone() });
            }
            InputKind::Submodule => warnings.push(format!(
                "git submodule {} is not packed: its files are in another repository",
                echo(path)
            )),
            _ if !in_unit(path) || is_ignored(path) => {}
            InputKind::NotUtf8 {
                path: ref raw,
                ref target,
            } => {
                return Err(TarballError::NotUtf8 {
                    path: raw.clone(),
                    target: target.clone(),
                });
            }
            InputKind::File { .. } | InputKind::Symlink { .. } => {
                check_path(path)?;
                selected.push(entry.clone());
            }
        }
    }
    selected.sort_by(|a, b| a.path.cmp(&b.path));
    let tree = tree_of(selected.iter().map(|e| (e.path.as_str(), &e.kind)))?;
    check_src(&selected)?;
    tree.check_symlinks()?;
    Ok(Selection {
        entries: selected,
        warnings,
    })
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

/// The tree of selected entries (files and symlinks only).
fn tree_of<'a>(entries: impl Iterator<Item = (&'a str, &'a InputKind)>) -> Result<Tree<'a>> {
    Tree::new(entries.map(|(path, kind)| match kind {
        InputKind::Symlink { target } => (path, Some(target.as_str())),
        _ => (path, None),
    }))
}

// ---------------------------------------------------------------------------------------
// The tree of packed paths
// ---------------------------------------------------------------------------------------

/// Packed paths (`None` for a file, `Some(target)` for a symlink) and the directories
/// that hold them (`""` is the root).
pub(super) struct Tree<'a> {
    nodes: BTreeMap<&'a str, Option<&'a str>>,
    dirs: BTreeSet<&'a str>,
}

impl<'a> Tree<'a> {
    /// Checks that paths are unique and that no file is also a directory.
    pub(super) fn new(
        entries: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
    ) -> Result<Self> {
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

    /// Checks every symlink's target, first on its own, then by resolving it, then that
    /// no symlink to a directory leads back to itself.
    pub(super) fn check_symlinks(&self) -> Result<()> {
        for (path, target) in self.symlinks() {
            resolve_lexically(path, target).map_err(|p| symlink_error(p, path, target))?;
        }
        let mut dir_links = Vec::new();
        for (path, target) in self.symlinks() {
            if let Some(dir) = self.resolve(path, target)? {
                dir_links.push(DirLink { path, target, dir });
            }
        }
        check_dir_cycles(&dir_links)
    }

    /// Follows `target` through the tree to a packed file (`None`) or a directory (its
    /// path, `""` for the root).
    fn resolve(&self, link: &str, target: &str) -> Result<Option<String>> {
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
        let here = current.join("/");
        Ok((!self.nodes.contains_key(here.as_str())).then_some(here))
    }
}

/// A selected symlink that resolves to the directory `dir`.
struct DirLink<'a> {
    path: &'a str,
    target: &'a str,
    dir: String,
}

/// Refuses symlinks to directories that lead back to themselves: walking into a linked
/// directory reaches every symlink inside it, so the links form a cycle when one of them,
/// followed from link to link this way, is reached again (a link into a directory holding
/// it is the shortest such cycle). The walk goes over the linked directories, each once.
fn check_dir_cycles(links: &[DirLink]) -> Result<()> {
    // The links inside each linked directory: the directories they lead to, and how.
    let linked: BTreeSet<&str> = links.iter().map(|link| link.dir.as_str()).collect();
    let mut inside: BTreeMap<&str, Vec<&DirLink>> = BTreeMap::new();
    for link in links {
        for dir in std::iter::once("").chain(ancestors(link.path)) {
            if linked.contains(dir) {
                inside.entry(dir).or_default().push(link);
            }
        }
    }
    // Depth-first over linked directories; a directory on the current path again is a cycle.
    let mut done: BTreeSet<&str> = BTreeSet::new();
    for &start in &linked {
        let mut on_path: BTreeSet<&str> = BTreeSet::new();
        let mut stack: Vec<(&str, usize)> = vec![(start, 0)];
        while let Some((dir, next)) = stack.pop() {
            if next == 0 {
                if done.contains(dir) {
                    continue;
                }
                on_path.insert(dir);
            }
            let links_inside = inside.get(dir).map_or(&[][..], Vec::as_slice);
            let Some(link) = links_inside.get(next) else {
                on_path.remove(dir);
                done.insert(dir);
                continue;
            };
            stack.push((dir, next + 1));
            if on_path.contains(link.dir.as_str()) {
                return Err(TarballError::SymlinkCycle {
                    path: link.path.to_owned(),
                    target: link.target.to_owned(),
                });
            }
            if !done.contains(link.dir.as_str()) {
                stack.push((link.dir.as_str(), 0));
            }
        }
    }
    Ok(())
}

fn symlink_error(problem: TargetProblem, path: &str, target: &str) -> TarballError {
    let (path, target) = (path.to_owned(), target.to_owned());
    match problem {
        TargetProblem::Escapes => TarballError::SymlinkEscapes { path, target },
        TargetProblem::NotNormal => TarballError::SymlinkTarget { path, target },
    }
}

#[cfg(test)]
mod tests {
    use super::super::MAX_PATH_BYTES;
    use super::super::testing::*;
    use super::*;

    fn selected(paths: &[&str], rules: &Rules) -> Vec<String> {
        let entries: Vec<_> = paths.iter().map(|p| file(p)).collect();
        paths_of(select(&entries, rules).unwrap())
    }

    fn paths_of(selection: Selection) -> Vec<String> {
        assert_eq!(selection.warnings, Vec::<String>::new());
        selection.entries.into_iter().map(|e| e.path).collect()
    }

    // -- selection ------------------------------------------------------------------------

    /// The always-included files, as the real registry matches them: `README*`, `LICENSE*`
    /// and `LICENCE*` case-sensitively, at the root only; `src/` whole.
    #[test]
    fn always_included_without_globs() {
        let paths = [
            "src/A.purs",
            "src/deep/B.js",
            "src/data.json",
            "src/.hidden",
            "purs.json",
            "purs.dhall",
            "spago.yaml",
            "spago.dhall",
            "packages.dhall",
            "bower.json",
            "package.json",
            "README.md",
            "readme.txt",
            "LICENSE",
            "LICENSES/MIT.txt",
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
                "LICENSES/MIT.txt",
                "README.md",
                "bower.json",
                "package.json",
                "packages.dhall",
                "purs.dhall",
                "purs.json",
                "spago.dhall",
                "spago.yaml",
                "src/.hidden",
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
        // `test/*` matches the directory `test/deep` too, which is then taken whole.
        let got = selected(&paths, &rules(&["./docs/**", "test/*"], &[]));
        assert_eq!(
            got,
            [
                "docs/guide.md",
                "docs/img/logo.png",
                "src/A.purs",
                "test/Main.purs",
                "test/deep/Other.purs",
                "test/fixture.txt"
            ]
        );
    }

    /// Exclude globs remove what they match by its own path: a root file or one an include
    /// glob took, never a file inside `src/` (copied whole), never a root manifest.
    #[test]
    fn exclude_globs_remove_whole_units_but_never_root_manifests() {
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
            "test/Skip.purs",
        ];
        let exclude = [
            "src/Internal/**",
            "*.json",
            "*.yaml",
            "LICEN*",
            "README*",
            "**/*.js",
            "test/Skip.purs",
        ];
        let got = selected(&paths, &rules(&["test/**"], &exclude));
        assert_eq!(
            got,
            [
                "purs.json",
                "spago.yaml",
                "src/A.js",
                "src/A.purs",
                "src/Internal/B.purs",
                "test/Main.purs"
            ]
        );
    }

    /// What the real registry removes after copying (VCS and tool directories and lock
    /// files at the root, `*.*.swp`, `._*` and `.DS_Store` anywhere outside a dot directory),
    /// and what it keeps that a stricter registry would drop.
    #[test]
    fn ignored_paths_are_removed_as_the_real_registry_removes_them() {
        let paths = [
            "src/A.purs",
            "src/output/Kept.purs",
            "src/a/node_modules/x.js",
            "src/CVS/Entries",
            ".git/config",
            ".jj/repo",
            "node_modules/a/index.js",
            "bower_components/b/bower.json",
            ".spago/p/src/A.purs",
            "output/Main/index.js",
            "package-lock.json",
            "src/yarn.lock",
            "pnpm-lock.yaml",
            "spago.lock",
            "src/.DS_Store",
            "src/A.purs.swp",
            "src/.A.purs.swp",
            "src/A.purs~",
            "src/._A.purs",
            "src/.cache/._x",
            "test/Thumbs.db",
            "test/Main.purs",
        ];
        let everything = ["**", ".*/**"];
        insta::assert_snapshot!(selected(&paths, &rules(&everything, &[])).join("\n"), @r"
            output/Main/index.js
            spago.lock
            src/.A.purs.swp
            src/.cache/._x
            src/A.purs
            src/A.purs~
            src/CVS/Entries
            src/a/node_modules/x.js
            src/output/Kept.purs
            src/yarn.lock
            test/Main.purs
            test/Thumbs.db
        ");
    }

    /// `src/` goes whole: a glob below it removes nothing; only one naming `src` itself
    /// removes it, and then there are no sources.
    #[test]
    fn excluding_every_source_is_an_error() {
        let entries = [file("src/A.purs"), file("purs.json")];
        assert_eq!(
            paths_of(select(&entries, &rules(&[], &["src/**"])).unwrap()),
            ["purs.json", "src/A.purs"]
        );
        assert_eq!(
            select_err(&entries, &rules(&[], &["src"])),
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
        let everything = rules(&["**", ".*/**", "**/.*/**"], &[]);
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
        let mut messages: Vec<String> = BAD_PATHS
            .iter()
            .map(|path| select_err(&[file("src/A.purs"), file(path)], &everything))
            .collect();
        messages.push(
            select_err(&[file(&long)], &Rules::default())
                .replace(&"a".repeat(crate::text::VALUE_MAX_CHARS - 4), "a…a"),
        );
        insta::assert_snapshot!(messages.join("\n"), @r"
            invalid path ``: expected a non-empty path
            invalid path `../x`: expected no `..` component
            invalid path `src/../x`: expected no `..` component
            invalid path `/abs`: expected a relative path, without a leading `/`
            invalid path `src\\A.purs`: expected `/` as the only separator, without backslashes
            invalid path `a//b`: expected no empty component (`//` or a trailing `/`)
            invalid path `src/`: expected no empty component (`//` or a trailing `/`)
            invalid path `a/./b`: expected no `.` component
            invalid path `a\u{0}b`: expected no control characters (such as a line break or a NUL byte)
            invalid path `docs/weird\\name.txt`: expected `/` as the only separator, without backslashes
            invalid path `docs/caf\\xe9.txt`: expected `/` as the only separator, without backslashes
            invalid path `src/a…a… (4,100 characters)`: expected at most 4096 bytes
            ");
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
        let got = paths_of(select(&entries, &Rules::default()).unwrap());
        assert_eq!(got, ["purs.json", "src/A.purs"]);
        // Excluded paths are not selected either.
        entries.push(file("extra/weird\\name.purs"));
        assert!(select(&entries, &rules(&["extra/**"], &[])).is_err());
        let got = select(&entries, &rules(&["extra/**"], &["extra/weird*"])).unwrap();
        assert_eq!(got.entries.len(), 2);
        // A selected file may lie inside a path that is an unselected file.
        let entries = [file("src/A.purs"), file("docs"), file("docs/x.md")];
        let got = select(&entries, &rules(&["docs/**"], &[])).unwrap();
        assert_eq!(got.entries.len(), 2);
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
        ];
        let got = select(&entries, &rules(&["docs/**", "lib/**", "lnk"], &[])).unwrap();
        assert_eq!(got.entries.len(), entries.len());
    }

    /// A symlink into a directory from which symlinks lead back to it makes an endless tree
    /// for whatever follows links (`src/up/up/up/…`).
    #[test]
    fn directory_symlink_cycles_are_refused() {
        let cycle = |links: &[(&str, &str)]| {
            let mut entries = vec![file("src/A.purs"), file("lib/B.purs"), file("lib/c/C.purs")];
            entries.extend(links.iter().map(|(path, target)| link(path, target)));
            select_err(&entries, &rules(&["lib/**"], &[]))
        };
        assert_eq!(
            cycle(&[("src/Root", "..")]),
            "symlink `src/Root` points at `..`, a directory from which symlinks lead back to it: \
             expected no directory cycles"
        );
        assert_eq!(
            cycle(&[("src/Self", "../src")]),
            "symlink `src/Self` points at `../src`, a directory from which symlinks lead back \
             to it: expected no directory cycles"
        );
        // Through two links, and through a link to a link.
        assert!(cycle(&[("src/lib", "../lib"), ("lib/c/src", "../../src")]).contains("cycles"));
        assert!(cycle(&[("lib/to", "../src/lnk"), ("src/lnk", "../lib")]).contains("cycles"));

        // Links that never lead back are fine, however many lead into one directory.
        let entries = [
            file("src/A.purs"),
            file("lib/B.purs"),
            file("lib/c/C.purs"),
            link("src/lib", "../lib"),
            link("src/c", "../lib/c"),
            link("src/c2", "c"),
            link("lib/c/B.purs", "../B.purs"),
        ];
        let got = select(&entries, &rules(&["lib/**"], &[])).unwrap();
        assert_eq!(got.entries.len(), entries.len());
    }

    #[test]
    fn submodules_the_selection_reaches_are_refused_others_warned_about() {
        const SUBMODULE: &str = "`<path>` is a git submodule: its files are in another repository, which is not fetched, so the package would be published without them: expected the files committed in this repository (or the submodule outside `src/` and the `includeFiles` globs)";
        let submodule = |path: &str| InputEntry {
            path: path.to_owned(),
            kind: InputKind::Submodule,
        };
        let with =
            |path: &str, rules: &Rules| select(&[file("src/A.purs"), submodule(path)], rules);
        let none = Rules::default();
        for (path, rules) in [
            ("src/vendor", &none),
            ("src/deep/vendor", &none),
            ("src", &none),
            ("test/fixtures", &rules(&["test/**"], &[])),
            ("test/fixtures", &rules(&["test/fixtures/*.purs"], &[])),
            ("test/fixtures", &rules(&["test/fixtures"], &[])),
            ("test/fixtures", &rules(&["**/*.purs"], &[])),
            ("test/fixtures", &rules(&["t*/f*/**"], &[])),
            ("test/fixtures", &rules(&["./test/*/x.js"], &[])),
            ("test/fixtures", &rules(&["{test,x/y}/*.purs"], &[])),
            ("src/vendor", &rules(&[], &["src/vendor/*.purs"])),
            // `src/` goes whole: excluding below it removes nothing.
            ("src/vendor", &rules(&[], &["src/vendor/**"])),
            ("src/vendor", &rules(&[], &["src/**"])),
        ] {
            let err = with(path, rules).unwrap_err().to_string();
            assert_eq!(err, SUBMODULE.replacen("<path>", path, 1), "{rules:?}");
        }
        for (path, rules) in [
            ("docs/theme", &none),
            ("vendor", &none),
            ("test/fixtures", &rules(&["test/*.purs"], &[])),
            ("test/fixtures", &rules(&["test/fixtures2/**"], &[])),
            ("test/fixtures", &rules(&["docs/**"], &[])),
            ("node_modules/x", &rules(&["**"], &[])),
            ("src/vendor", &rules(&[], &["src"])),
            ("src/vendor", &rules(&[], &["**"])),
        ] {
            let selection = match with(path, rules) {
                Ok(selection) => selection,
                // Excluding all of `src/` leaves no sources.
                Err(TarballError::EmptySrc) => continue,
                Err(other) => panic!("{path} {rules:?}: {other}"),
            };
            assert_eq!(
                selection.warnings,
                [format!(
                    "git submodule `{path}` is not packed: its files are in another repository"
                )],
                "{rules:?}"
            );
        }
    }

    #[test]
    fn names_that_are_not_utf8_are_refused_when_selected() {
        let odd = InputEntry {
            path: "src/caf\u{fffd}.purs".to_owned(),
            kind: InputKind::NotUtf8 {
                path: b"src/caf\xe9.purs".to_vec(),
                target: None,
            },
        };
        let link = InputEntry {
            path: "src/Link.purs".to_owned(),
            kind: InputKind::NotUtf8 {
                path: b"src/Link.purs".to_vec(),
                target: Some(b"caf\xe9.purs".to_vec()),
            },
        };
        let refusals = [
            select_err(&[file("src/A.purs"), odd.clone()], &Rules::default()),
            select_err(&[file("src/A.purs"), link], &Rules::default()),
        ];
        insta::assert_snapshot!(refusals.join("\n"), @r"
        path `src/caf\xe9.purs` is not UTF-8: expected UTF-8 file and directory names
        symlink `src/Link.purs` has a target that is not UTF-8 (`caf\xe9.purs`): expected a UTF-8 target
        ");
        let ignored = InputEntry {
            path: "docs/caf\u{fffd}.md".to_owned(),
            ..odd
        };
        let got = select(&[file("src/A.purs"), ignored], &Rules::default()).unwrap();
        assert_eq!(paths_of(got), ["src/A.purs"]);
    }

    #[test]
    fn control_characters_in_packed_names_are_refused_and_echoed_escaped() {
        for (path, shown) in [
            ("src/A\n.purs", r"`src/A\n.purs`"),
            ("src/Icon\r", r"`src/Icon\r`"),
            ("src/\u{1b}[2J.purs", r"`src/\u{1b}[2J.purs`"),
        ] {
            assert_eq!(
                select_err(&[file("src/A.purs"), file(path)], &Rules::default()),
                format!(
                    "invalid path {shown}: expected no control characters (such as a line \
                     break or a NUL byte)"
                )
            );
        }
        // Not selected, not checked.
        let got = select(&[file("src/A.purs"), file("Icon\r")], &Rules::default()).unwrap();
        assert_eq!(paths_of(got), ["src/A.purs"]);
    }

    #[test]
    fn long_paths_in_messages_are_cut_with_their_length() {
        let long = format!("src/{}", "a".repeat(4200));
        let err = select_err(&[file("src/A.purs"), file(&long)], &Rules::default());
        assert_eq!(
            err,
            format!(
                "invalid path `src/{}… (4,204 characters)`: expected at most 4096 bytes",
                "a".repeat(crate::text::VALUE_MAX_CHARS - 4)
            )
        );
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
}
