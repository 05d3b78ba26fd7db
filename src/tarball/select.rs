//! Which files a package packs: the rules of the module documentation's *Selection*,
//! and the checks on packed paths and symlinks that [`pack`](super::pack) repeats.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use super::{
    InputEntry, InputKind, MAX_HOPS, Result, Rules, TarballError, TargetProblem, ancestors,
    check_path, resolve_lexically,
};

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

    /// Checks every symlink's target, first on its own, then by resolving it.
    pub(super) fn check_symlinks(&self) -> Result<()> {
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
        select(&entries, rules)
            .unwrap()
            .into_iter()
            .map(|e| e.path)
            .collect()
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
        let mut messages: Vec<String> = BAD_PATHS
            .iter()
            .map(|path| select_err(&[file("src/A.purs"), file(path)], &everything))
            .collect();
        messages.push(
            select_err(&[file(&long)], &Rules::default())
                .replace(&"a".repeat(MAX_PATH_BYTES), "a…a"),
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
            invalid path `a\0b`: expected no NUL byte
            invalid path `docs/weird\\name.txt`: expected `/` as the only separator, without backslashes
            invalid path `docs/caf\\xe9.txt`: expected `/` as the only separator, without backslashes
            invalid path `src/a…a`: expected at most 4096 bytes
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
}
