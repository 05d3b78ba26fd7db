//! Build plans: which version of every dependency, and which compiler, a package builds
//! with. PubGrub (the `pubgrub` crate) over the published packages, the compiler a
//! pseudo-package whose allowed versions are each package version's `compilers` in
//! metadata; a failure is explained in sentences that name packages, versions and ranges.
//!
//! A yanked version (metadata `yanked`) is not a candidate unless the request pins it:
//! `regis solve` of that very version, or a publish whose `resolutions` name it (those are
//! checked by [`Solver::check_resolutions`], which takes any published version).
//!
//! Pure over a [`Packages`] source: [`DirPackages`] reads the registry and index working
//! trees on demand, [`ViewPackages`] serves values already in memory.

use std::borrow::Cow;
use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Bound;
use std::rc::Rc;

use pubgrub::{
    DefaultStringReporter, Dependencies, DependencyProvider, Derived, External, Map,
    PackageResolutionStatistics, PubGrubError, Ranges, ReportFormatter, Reporter, Set, Term,
};

use crate::index::{IndexFile, IndexView};
use crate::manifest::Manifest;
use crate::metadata::Metadata;
use crate::schema::{PackageName, Range, Version};
use crate::store::{IndexDir, RegistryDir, StoreError};

/// A set of versions, as the solver works with them.
pub type VersionSet = Ranges<Version>;

/// What the solver knows about one published version: borrowed from the index and
/// metadata when they are in memory for as long as the solver (`'a`), owned otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate<'a> {
    pub dependencies: Cow<'a, BTreeMap<PackageName, Range>>,
    /// The compilers it is known to build with (metadata `compilers`, never empty).
    pub compilers: Cow<'a, [Version]>,
    /// Whether metadata lists it under `yanked`.
    pub yanked: bool,
}

impl Candidate<'_> {
    /// The same candidate, owning its data.
    pub fn into_owned(self) -> Candidate<'static> {
        Candidate {
            dependencies: Cow::Owned(self.dependencies.into_owned()),
            compilers: Cow::Owned(self.compilers.into_owned()),
            yanked: self.yanked,
        }
    }
}

/// Every published version of one package.
pub type Versions<'a> = BTreeMap<Version, Candidate<'a>>;

/// Where the solver reads packages from; what it hands out may borrow from it for `'a`.
pub trait Packages<'a> {
    /// Every published version of `name` (in the index and in metadata), or `None` when the
    /// registry has no such package.
    fn load(&self, name: &PackageName) -> Result<Option<Versions<'a>>, StoreError>;
}

/// The versions both in a package's index file and in its metadata's `published`: a
/// version is published only when both records have it. The candidates borrow from both.
pub fn candidates<'a>(file: &'a IndexFile, metadata: &'a Metadata) -> Versions<'a> {
    file.manifests()
        .filter_map(|m| {
            let published = metadata.published.get(&m.version)?;
            Some((
                m.version.clone(),
                Candidate {
                    dependencies: Cow::Borrowed(&m.dependencies),
                    compilers: Cow::Borrowed(&published.compilers),
                    yanked: metadata.is_yanked(&m.version),
                },
            ))
        })
        .collect()
}

/// Packages read from the registry and index working trees, one package at a time.
pub struct DirPackages<'a> {
    pub registry: &'a RegistryDir,
    pub index: &'a IndexDir,
}

impl<'a> Packages<'a> for DirPackages<'_> {
    fn load(&self, name: &PackageName) -> Result<Option<Versions<'a>>, StoreError> {
        let Some(file) = self.index.read(name)? else {
            return Ok(None);
        };
        let Some(metadata) = self.registry.read_metadata(name)? else {
            return Ok(None);
        };
        Ok(Some(
            candidates(&file, &metadata)
                .into_iter()
                .map(|(v, c)| (v, c.into_owned()))
                .collect(),
        ))
    }
}

/// Packages from an index view and metadata already in memory (the candidates borrow from
/// them: nothing is copied).
pub struct ViewPackages<'v> {
    pub index: &'v IndexView,
    pub metadata: &'v BTreeMap<PackageName, Metadata>,
}

impl<'a, 'v: 'a> Packages<'a> for ViewPackages<'v> {
    fn load(&self, name: &PackageName) -> Result<Option<Versions<'a>>, StoreError> {
        Ok(self
            .index
            .package(name)
            .zip(self.metadata.get(name))
            .map(|(file, metadata)| candidates(file, metadata)))
    }
}

/// What is being solved for: the root of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    root: Root,
    dependencies: Vec<(PackageName, VersionSet)>,
    compiler: Option<Version>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Root {
    /// A package version being published (not in the registry yet).
    Manifest { name: PackageName, version: Version },
    /// `regis solve NAME@VERSION`: a published version, itself part of the solve.
    Published { name: PackageName, version: Version },
}

impl Request {
    /// The dependencies of a manifest (a version about to be published), optionally with
    /// one compiler.
    pub fn manifest(manifest: &Manifest, compiler: Option<Version>) -> Request {
        Request {
            root: Root::Manifest {
                name: manifest.name.clone(),
                version: manifest.version.clone(),
            },
            dependencies: manifest
                .dependencies
                .iter()
                .map(|(n, r)| (n.clone(), to_set(r)))
                .collect(),
            compiler,
        }
    }

    /// A published version (which must then be one of the candidates), optionally with one
    /// compiler.
    pub fn published(name: PackageName, version: Version, compiler: Option<Version>) -> Request {
        Request {
            dependencies: vec![(name.clone(), Ranges::singleton(version.clone()))],
            root: Root::Published { name, version },
            compiler,
        }
    }

    /// The same request, for exactly `compiler`.
    pub fn with_compiler(&self, compiler: Version) -> Request {
        Request {
            compiler: Some(compiler),
            ..self.clone()
        }
    }

    /// `name@version` of what is solved for.
    pub fn label(&self) -> String {
        match &self.root {
            Root::Manifest { name, version } | Root::Published { name, version } => {
                format!("{name}@{version}")
            }
        }
    }

    /// Whether the request pins `name@version`, so that it is a candidate even when yanked:
    /// the published version `regis solve` is asked about.
    fn pins(&self, name: &PackageName, version: &Version) -> bool {
        matches!(&self.root, Root::Published { name: n, version: v } if n == name && v == version)
    }

    fn published_root(&self) -> Option<&PackageName> {
        match &self.root {
            Root::Published { name, .. } => Some(name),
            Root::Manifest { .. } => None,
        }
    }
}

/// A solved build plan.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BuildPlan {
    pub compiler: Version,
    /// One version of every package the root needs, directly or not (not the root itself).
    pub resolutions: BTreeMap<PackageName, Version>,
}

/// Why no plan was found.
#[derive(Debug, thiserror::Error)]
pub enum SolveError {
    #[error("no build plan for `{root}`:\n{explanation}")]
    NoPlan { root: String, explanation: String },
    #[error("the resolutions given for `{root}` are not a build plan: {}", problems.join("; "))]
    Resolutions { root: String, problems: Vec<String> },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The solver, with a cache of the packages it has read (one per registry state; only
/// looked up, so a fast hash map).
pub struct Solver<'a> {
    packages: &'a dyn Packages<'a>,
    cache: RefCell<Map<PackageName, Option<Rc<Versions<'a>>>>>,
}

impl<'a> Solver<'a> {
    pub fn new(packages: &'a dyn Packages<'a>) -> Solver<'a> {
        Solver {
            packages,
            cache: RefCell::new(Map::default()),
        }
    }

    /// The published versions of `name` (read once, then cached).
    pub fn versions(&self, name: &PackageName) -> Result<Option<Rc<Versions<'a>>>, StoreError> {
        if let Some(hit) = self.cache.borrow().get(name) {
            return Ok(hit.clone());
        }
        let loaded = self.packages.load(name)?.map(Rc::new);
        self.cache.borrow_mut().insert(name.clone(), loaded.clone());
        Ok(loaded)
    }

    /// Solve `request`: the newest versions that work together with the newest compiler
    /// that works (or exactly the requested one). `known_compilers` are compilers to try
    /// beyond those recorded for the packages reachable from the request (the registry's
    /// default compiler, so a package without dependencies gets it).
    pub fn solve(
        &self,
        request: &Request,
        known_compilers: &[Version],
    ) -> Result<BuildPlan, SolveError> {
        let mut compilers = self.reachable_compilers(request)?;
        compilers.extend(known_compilers.iter().cloned());
        compilers.extend(request.compiler.iter().cloned());
        if compilers.is_empty() {
            return Err(SolveError::NoPlan {
                root: request.label(),
                explanation:
                    "no compiler is known: no package it needs records one, and none was given"
                        .to_owned(),
            });
        }
        let provider = Provider {
            solver: self,
            request,
            compilers: compilers.into_iter().collect(),
        };
        match pubgrub::resolve(&provider, Node::Root, Version::new(0, 0, 0)) {
            Ok(solution) => {
                let mut plan = BuildPlan {
                    compiler: Version::new(0, 0, 0),
                    resolutions: BTreeMap::new(),
                };
                for (node, version) in solution {
                    match node {
                        Node::Root => {}
                        Node::Compiler => plan.compiler = version,
                        Node::Package(name) => {
                            if request.published_root() != Some(&name) {
                                plan.resolutions.insert(name, version);
                            }
                        }
                    }
                }
                Ok(plan)
            }
            Err(PubGrubError::NoSolution(mut tree)) => {
                // Fold "no versions in the rest of the range" steps into their parents; a
                // range with nothing published is said where it is needed (`object`).
                tree.collapse_no_versions();
                let formatter = Words {
                    provider: &provider,
                };
                Err(SolveError::NoPlan {
                    root: request.label(),
                    explanation: DefaultStringReporter::report_with_formatter(&tree, &formatter),
                })
            }
            Err(PubGrubError::ErrorRetrievingDependencies { source, .. })
            | Err(PubGrubError::ErrorChoosingVersion { source, .. }) => {
                Err(SolveError::Store(source))
            }
            Err(PubGrubError::ErrorInShouldCancel(e)) => Err(SolveError::Store(e)),
        }
    }

    /// For each of `compilers`, in their order, the build plan of `request` with exactly that
    /// compiler (its own compiler, if any, set aside), or `None` when there is none: the
    /// compilers the dependencies allow, each with the newest versions that build with it
    /// (registry-dev's `solveForAllCompilers`, a `solveWithCompiler` per compiler).
    pub fn plans_per_compiler(
        &self,
        request: &Request,
        compilers: &[Version],
    ) -> Result<Vec<(Version, Option<BuildPlan>)>, StoreError> {
        compilers
            .iter()
            .map(
                |compiler| match self.solve(&request.with_compiler(compiler.clone()), &[]) {
                    Ok(plan) => Ok((compiler.clone(), Some(plan))),
                    Err(SolveError::Store(e)) => Err(e),
                    Err(SolveError::NoPlan { .. } | SolveError::Resolutions { .. }) => {
                        Ok((compiler.clone(), None))
                    }
                },
            )
            .collect()
    }

    /// Check a build plan given by an author: every package the request reaches is in it
    /// at a published version inside every range that applies, it holds nothing else, and
    /// some compiler (the requested one, if any) works with all of it — the newest such
    /// compiler is the plan's.
    /// With nothing to constrain it (no resolutions, no requested compiler), the compiler
    /// is the newest of `known_compilers`.
    pub fn check_resolutions(
        &self,
        request: &Request,
        resolutions: &BTreeMap<PackageName, Version>,
        known_compilers: &[Version],
    ) -> Result<BuildPlan, SolveError> {
        let mut problems = Vec::new();
        let mut chosen: BTreeMap<&PackageName, Rc<Versions<'a>>> = BTreeMap::new();
        for (name, version) in resolutions {
            match self.versions(name)? {
                None => problems.push(format!("`{name}` is not in the registry")),
                Some(vs) if !vs.contains_key(version) => {
                    problems.push(format!("`{name}@{version}` is not published"));
                }
                Some(vs) => {
                    chosen.insert(name, vs);
                }
            }
        }
        if !problems.is_empty() {
            return Err(self.resolutions_error(request, problems));
        }

        // Walk the plan from the root, checking each dependency edge.
        let mut reached: BTreeSet<&PackageName> = BTreeSet::new();
        let mut queue: Vec<(String, &PackageName, VersionSet)> = request
            .dependencies
            .iter()
            .map(|(n, s)| (format!("`{}`", request.label()), n, s.clone()))
            .collect();
        while let Some((needer, dep, set)) = queue.pop() {
            let Some(version) = resolutions.get(dep) else {
                problems.push(format!(
                    "`{dep}` is missing: {needer} needs `{dep} {}`",
                    show_set(&set)
                ));
                continue;
            };
            if !set.contains(version) {
                problems.push(format!(
                    "{needer} needs `{dep} {}`, but the resolutions give `{dep}@{version}`",
                    show_set(&set)
                ));
            }
            if reached.insert(dep) {
                for (next, range) in chosen[dep][version].dependencies.iter() {
                    queue.push((format!("`{dep}@{version}`"), next, to_set(range)));
                }
            }
        }
        let root_name = request.published_root();
        for (name, version) in resolutions {
            if !reached.contains(name) {
                problems.push(format!(
                    "`{name}@{version}` is not a dependency of `{}`",
                    request.label()
                ));
            }
        }

        // The compilers every resolved version builds with.
        let mut common: Option<BTreeSet<&Version>> =
            request.compiler.as_ref().map(|c| BTreeSet::from([c]));
        for (name, version) in resolutions {
            let own: BTreeSet<&Version> = chosen[name][version].compilers.iter().collect();
            common = Some(match common {
                None => own,
                Some(c) => c.intersection(&own).copied().collect(),
            });
        }
        let common = common.unwrap_or_else(|| known_compilers.iter().collect());
        if common.is_empty() {
            problems.push(match &request.compiler {
                Some(v) => format!("not every resolved version builds with compiler `{v}`"),
                None => "no one compiler builds every resolved version".to_owned(),
            });
        }
        let compiler = common.last().map(|v| (*v).clone());
        if !problems.is_empty() {
            return Err(self.resolutions_error(request, problems));
        }
        let mut resolutions = resolutions.clone();
        if let Some(root) = root_name {
            resolutions.remove(root);
        }
        let compiler = compiler.expect("problems are reported when no compiler is left");
        Ok(BuildPlan {
            compiler,
            resolutions,
        })
    }

    fn resolutions_error(&self, request: &Request, mut problems: Vec<String>) -> SolveError {
        problems.sort();
        problems.dedup();
        SolveError::Resolutions {
            root: request.label(),
            problems,
        }
    }

    /// Every compiler recorded for any version of any package reachable from the request.
    fn reachable_compilers(&self, request: &Request) -> Result<BTreeSet<Version>, StoreError> {
        let mut compilers = BTreeSet::new();
        // Each name is queued once, when first seen.
        let mut seen: Set<PackageName> = Set::default();
        let mut queue: Vec<PackageName> = Vec::new();
        let mut reach = |name: &PackageName, queue: &mut Vec<PackageName>| {
            if !seen.contains(name) {
                seen.insert(name.clone());
                queue.push(name.clone());
            }
        };
        for (name, _) in &request.dependencies {
            reach(name, &mut queue);
        }
        while let Some(name) = queue.pop() {
            let Some(versions) = self.versions(&name)? else {
                continue;
            };
            let mut previous: Option<&[Version]> = None;
            for candidate in versions.values() {
                // Consecutive versions mostly record the same compilers.
                if previous != Some(&candidate.compilers) {
                    compilers.extend(candidate.compilers.iter().cloned());
                    previous = Some(&candidate.compilers);
                }
                for dependency in candidate.dependencies.keys() {
                    reach(dependency, &mut queue);
                }
            }
        }
        Ok(compilers)
    }
}

/// A node of the solve: the root, the compiler, or a package.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Node {
    Root,
    Compiler,
    Package(PackageName),
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Root => f.write_str("the root"),
            Node::Compiler => f.write_str("the compiler"),
            Node::Package(n) => write!(f, "{n}"),
        }
    }
}

fn to_set(range: &Range) -> VersionSet {
    Ranges::between(range.lower().clone(), range.upper().clone())
}

/// The union of each version as a singleton, built in one pass (`Ranges`'s `FromIterator`
/// is that union).
fn any_of(versions: &[Version]) -> VersionSet {
    versions
        .iter()
        .map(|v| (Bound::Included(v.clone()), Bound::Included(v.clone())))
        .collect()
}

struct Provider<'s, 'a> {
    solver: &'s Solver<'a>,
    request: &'s Request,
    /// Every compiler that may be chosen, ascending.
    compilers: Vec<Version>,
}

impl<'a> Provider<'_, 'a> {
    fn versions(&self, name: &PackageName) -> Result<Option<Rc<Versions<'a>>>, StoreError> {
        self.solver.versions(name)
    }

    /// Whether a version may be chosen: not yanked, or pinned by the request.
    fn usable(&self, name: &PackageName, version: &Version, candidate: &Candidate<'_>) -> bool {
        !candidate.yanked || self.request.pins(name, version)
    }
}

impl DependencyProvider for Provider<'_, '_> {
    type P = Node;
    type V = Version;
    type VS = VersionSet;
    type M = String;
    type Err = StoreError;
    /// The compiler first (so the newest one that works is found), then packages with no
    /// version left (fail fast), then those with conflicts and few versions.
    type Priority = (u8, u32, Reverse<usize>);

    fn prioritize(
        &self,
        node: &Node,
        range: &VersionSet,
        stats: &PackageResolutionStatistics,
    ) -> Self::Priority {
        match node {
            Node::Root | Node::Compiler => (2, 0, Reverse(0)),
            Node::Package(name) => {
                let count = match self.versions(name) {
                    Ok(Some(vs)) => vs
                        .iter()
                        .filter(|(v, c)| range.contains(v) && self.usable(name, v, c))
                        .count(),
                    _ => 0,
                };
                if count == 0 {
                    (1, 0, Reverse(0))
                } else {
                    (0, stats.conflict_count(), Reverse(count))
                }
            }
        }
    }

    fn choose_version(
        &self,
        node: &Node,
        range: &VersionSet,
    ) -> Result<Option<Version>, StoreError> {
        Ok(match node {
            Node::Root => Some(Version::new(0, 0, 0)),
            Node::Compiler => self
                .compilers
                .iter()
                .rev()
                .find(|v| range.contains(v))
                .cloned(),
            Node::Package(name) => self.versions(name)?.and_then(|vs| {
                vs.iter()
                    .rev()
                    .find(|(v, c)| range.contains(v) && self.usable(name, v, c))
                    .map(|(v, _)| v.clone())
            }),
        })
    }

    fn get_dependencies(
        &self,
        node: &Node,
        version: &Version,
    ) -> Result<Dependencies<Node, VersionSet, String>, StoreError> {
        let compiler_set = |set: VersionSet| (Node::Compiler, set);
        Ok(match node {
            Node::Root => {
                let mut deps: Vec<(Node, VersionSet)> = self
                    .request
                    .dependencies
                    .iter()
                    .map(|(n, s)| (Node::Package(n.clone()), s.clone()))
                    .collect();
                deps.push(compiler_set(match &self.request.compiler {
                    Some(c) => Ranges::singleton(c.clone()),
                    None => Ranges::full(),
                }));
                Dependencies::Available(deps.into_iter().collect())
            }
            Node::Compiler => Dependencies::Available(Default::default()),
            Node::Package(name) => {
                let versions = self.versions(name)?;
                let Some(candidate) = versions.as_ref().and_then(|vs| vs.get(version)) else {
                    return Ok(Dependencies::Unavailable("is not published".to_owned()));
                };
                if candidate.dependencies.contains_key(name) {
                    return Ok(Dependencies::Unavailable(
                        "lists itself as a dependency".to_owned(),
                    ));
                }
                let mut deps: Vec<(Node, VersionSet)> = candidate
                    .dependencies
                    .iter()
                    .map(|(n, r)| (Node::Package(n.clone()), to_set(r)))
                    .collect();
                deps.push(compiler_set(any_of(&candidate.compilers)));
                Dependencies::Available(deps.into_iter().collect())
            }
        })
    }
}

/// Shows a version set in the registry's range syntax: `4.0.0`, `>=4.0.0 <5.0.0`, joined
/// with ` or `.
pub fn show_set(set: &VersionSet) -> String {
    if set == &Ranges::full() {
        return "any version".to_owned();
    }
    if set.is_empty() {
        return "no version".to_owned();
    }
    set.iter()
        .map(|(lo, hi)| match (lo, hi) {
            (Bound::Included(a), Bound::Included(b)) if a == b => a.to_string(),
            (Bound::Unbounded, Bound::Unbounded) => "any version".to_owned(),
            (lo, hi) => {
                let lo = match lo {
                    Bound::Included(a) => Some(format!(">={a}")),
                    Bound::Excluded(a) => Some(format!(">{a}")),
                    Bound::Unbounded => None,
                };
                let hi = match hi {
                    Bound::Included(b) => Some(format!("<={b}")),
                    Bound::Excluded(b) => Some(format!("<{b}")),
                    Bound::Unbounded => None,
                };
                lo.into_iter().chain(hi).collect::<Vec<_>>().join(" ")
            }
        })
        .collect::<Vec<_>>()
        .join(" or ")
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Said after the yanked versions a conflict could not use.
const PINNED: &str = "; a yanked version is used only when a build plan's `resolutions` pin it";

/// The most versions named in one list of a conflict explanation.
const LISTED_VERSIONS: usize = 6;

/// Conflict explanations in the registry's words.
struct Words<'p, 's, 'a> {
    provider: &'p Provider<'s, 'a>,
}

impl Words<'_, '_, '_> {
    /// The versions that exist of a node, to simplify sets against.
    fn known(&self, node: &Node) -> Vec<Version> {
        match node {
            Node::Root => Vec::new(),
            Node::Compiler => self.provider.compilers.clone(),
            Node::Package(n) => match self.provider.versions(n) {
                Ok(Some(vs)) => vs.keys().cloned().collect(),
                _ => Vec::new(),
            },
        }
    }

    /// Who needs something: the versions of `node` in `set` that exist — `` `aff@7.1.0` ``,
    /// ``every version of `aff` ``, `` `aff >=7.0.0 <7.2.0` ``.
    fn subject(&self, node: &Node, set: &VersionSet) -> String {
        let n = match node {
            Node::Package(n) => n,
            Node::Root if self.provider.request.published_root().is_some() => {
                return format!("solving `{}`", self.provider.request.label());
            }
            _ => return self.object(node, set),
        };
        let known = self.known(node);
        let members: Vec<&Version> = known.iter().filter(|v| set.contains(v)).collect();
        match members.as_slice() {
            [one] => format!("`{n}@{one}`"),
            many if many.len() == known.len() && !many.is_empty() => {
                format!("every version of `{n}`")
            }
            _ => format!("`{n} {}`", show_set(&set.simplify(known.iter()))),
        }
    }

    /// What is needed, as asked for: `` `effect >=4.0.0 <5.0.0` ``, `compiler `0.15.15``,
    /// ``compilers `0.14.0`, `0.14.5` ``.
    fn object(&self, node: &Node, set: &VersionSet) -> String {
        match node {
            Node::Root => format!("`{}`", self.provider.request.label()),
            Node::Compiler if set == &Ranges::full() => "any compiler".to_owned(),
            Node::Compiler => {
                let known = self.known(node);
                let members: Vec<String> = known
                    .iter()
                    .filter(|v| set.contains(v))
                    .map(|v| format!("`{v}`"))
                    .collect();
                match members.len() {
                    1 => format!("compiler {}", members[0]),
                    2..=LISTED_VERSIONS => format!("compilers {}", members.join(", ")),
                    _ => format!("compilers `{}`", show_set(&set.simplify(known.iter()))),
                }
            }
            Node::Package(n) if set == &Ranges::full() => format!("`{n}`"),
            Node::Package(n) => match set.as_singleton() {
                Some(v) => format!("`{n}@{v}`"),
                None => format!("`{n} {}`", show_set(set)),
            },
        }
    }

    /// ` (not in the registry)` / ` (nothing published in that range; published: …)`
    /// when a needed set has no candidate at all; empty otherwise.
    fn nothing_published(&self, node: &Node, set: &VersionSet) -> String {
        let Node::Package(n) = node else {
            return String::new();
        };
        match self.provider.versions(n) {
            Ok(None) => " (not in the registry)".to_owned(),
            Ok(Some(vs)) if vs.is_empty() => " (nothing published)".to_owned(),
            Ok(Some(vs)) if !vs.keys().any(|v| set.contains(v)) => format!(
                " (nothing published in that range; published: {})",
                self.published_list(n)
            ),
            Ok(Some(vs)) => match self.only_yanked(n, &vs, set) {
                Some(yanked) => {
                    format!(" (every version in that range is yanked: {yanked}{PINNED})")
                }
                None => String::new(),
            },
            _ => String::new(),
        }
    }

    /// When every version of `name` in `set` is yanked (and not pinned): those versions,
    /// listed for a message.
    fn only_yanked(
        &self,
        name: &PackageName,
        vs: &Versions<'_>,
        set: &VersionSet,
    ) -> Option<String> {
        let mut yanked = Vec::new();
        for (v, c) in vs.iter().filter(|(v, _)| set.contains(v)) {
            if self.provider.usable(name, v, c) {
                return None;
            }
            yanked.push(format!("`{v}`"));
        }
        (!yanked.is_empty()).then(|| crate::text::list(yanked))
    }

    fn published_list(&self, name: &PackageName) -> String {
        let known = self.known(&Node::Package(name.clone()));
        let shown: Vec<String> = known
            .iter()
            .rev()
            .take(LISTED_VERSIONS)
            .map(|v| format!("`{v}`"))
            .collect();
        let more = known.len().saturating_sub(LISTED_VERSIONS);
        if more > 0 {
            format!("{}, and {more} older", shown.join(", "))
        } else {
            shown.join(", ")
        }
    }
}

impl ReportFormatter<Node, VersionSet, String> for Words<'_, '_, '_> {
    type Output = String;

    fn format_external(&self, external: &External<Node, VersionSet, String>) -> String {
        match external {
            External::NotRoot(..) => {
                format!(
                    "a build plan for `{}` is wanted",
                    self.provider.request.label()
                )
            }
            External::NoVersions(Node::Package(n), set) => match self.provider.versions(n) {
                Ok(None) => format!("`{n}` is not in the registry"),
                Ok(Some(vs)) if vs.is_empty() => format!("`{n}` has no published version"),
                Ok(Some(vs)) if self.only_yanked(n, &vs, set).is_some() => format!(
                    "every version of `{n}` in `{}` is yanked ({}){PINNED}",
                    show_set(set),
                    self.only_yanked(n, &vs, set).unwrap_or_default()
                ),
                _ => format!(
                    "no published version of `{n}` is in `{}` (published: {})",
                    show_set(set),
                    self.published_list(n)
                ),
            },
            External::NoVersions(Node::Compiler, set) => format!(
                "no known compiler is in `{}` (known: {})",
                show_set(set),
                self.provider
                    .compilers
                    .iter()
                    .map(|v| format!("`{v}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            External::NoVersions(Node::Root, _) => "nothing can be solved".to_owned(),
            External::FromDependencyOf(Node::Root, _, Node::Compiler, set)
                if self.provider.request.compiler.is_some()
                    && self.provider.request.compiler.as_ref() == set.as_singleton() =>
            {
                format!("{} was asked for", self.object(&Node::Compiler, set))
            }
            External::FromDependencyOf(Node::Root, _, Node::Package(n), _)
                if self.provider.request.published_root() == Some(n) =>
            {
                format!("`{}` is what is solved for", self.provider.request.label())
            }
            External::FromDependencyOf(p, ps, Node::Compiler, set) if p != &Node::Root => format!(
                "{} builds only with {}",
                self.subject(p, ps),
                self.object(&Node::Compiler, set)
            ),
            External::FromDependencyOf(p, ps, d, ds) => format!(
                "{} needs {}{}",
                self.subject(p, ps),
                self.object(d, ds),
                self.nothing_published(d, ds)
            ),
            External::Custom(p, ps, message) => format!("{} {message}", self.subject(p, ps)),
        }
    }

    fn format_terms(&self, terms: &Map<Node, Term<VersionSet>>) -> String {
        let terms: Vec<_> = terms.iter().collect();
        match terms.as_slice() {
            [] => "there is no build plan".to_owned(),
            [(Node::Root, Term::Positive(_))] => format!(
                "there is no build plan for `{}`",
                self.provider.request.label()
            ),
            [(p, Term::Positive(set))] => format!("{} cannot be used", self.subject(p, set)),
            [(p, Term::Negative(set))] => format!("{} is required", self.object(p, set)),
            [(p1, Term::Positive(r1)), (p2, Term::Negative(r2))]
            | [(p2, Term::Negative(r2)), (p1, Term::Positive(r1))] => self.format_external(
                &External::FromDependencyOf((*p1).clone(), r1.clone(), (*p2).clone(), r2.clone()),
            ),
            many => {
                let parts: Vec<String> = many
                    .iter()
                    .map(|(p, t)| match t {
                        Term::Positive(set) => self.subject(p, set),
                        Term::Negative(set) => {
                            format!(
                                "{} outside `{}`",
                                self.object(p, &Ranges::full()),
                                show_set(set)
                            )
                        }
                    })
                    .collect();
                format!("{} cannot be used together", and_list(&parts))
            }
        }
    }

    fn explain_both_external(
        &self,
        e1: &External<Node, VersionSet, String>,
        e2: &External<Node, VersionSet, String>,
        terms: &Map<Node, Term<VersionSet>>,
    ) -> String {
        format!(
            "Because {} and {}, {}.",
            self.format_external(e1),
            self.format_external(e2),
            self.format_terms(terms)
        )
    }

    fn explain_both_ref(
        &self,
        id1: usize,
        d1: &Derived<Node, VersionSet, String>,
        id2: usize,
        d2: &Derived<Node, VersionSet, String>,
        terms: &Map<Node, Term<VersionSet>>,
    ) -> String {
        format!(
            "Because {} ({id1}) and {} ({id2}), {}.",
            self.format_terms(&d1.terms),
            self.format_terms(&d2.terms),
            self.format_terms(terms)
        )
    }

    fn explain_ref_and_external(
        &self,
        id: usize,
        d: &Derived<Node, VersionSet, String>,
        e: &External<Node, VersionSet, String>,
        terms: &Map<Node, Term<VersionSet>>,
    ) -> String {
        format!(
            "Because {} ({id}) and {}, {}.",
            self.format_terms(&d.terms),
            self.format_external(e),
            self.format_terms(terms)
        )
    }

    fn and_explain_external(
        &self,
        e: &External<Node, VersionSet, String>,
        terms: &Map<Node, Term<VersionSet>>,
    ) -> String {
        format!(
            "And because {}, {}.",
            self.format_external(e),
            self.format_terms(terms)
        )
    }

    fn and_explain_ref(
        &self,
        id: usize,
        d: &Derived<Node, VersionSet, String>,
        terms: &Map<Node, Term<VersionSet>>,
    ) -> String {
        format!(
            "And because {} ({id}), {}.",
            self.format_terms(&d.terms),
            self.format_terms(terms)
        )
    }

    fn and_explain_prior_and_external(
        &self,
        prior: &External<Node, VersionSet, String>,
        e: &External<Node, VersionSet, String>,
        terms: &Map<Node, Term<VersionSet>>,
    ) -> String {
        format!(
            "And because {} and {}, {}.",
            self.format_external(prior),
            self.format_external(e),
            self.format_terms(terms)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A registry in memory: name → version → (dependencies, compilers).
    #[derive(Default)]
    struct World(BTreeMap<PackageName, Versions<'static>>);

    impl World {
        fn add(&mut self, id: &str, deps: &[(&str, &str)], compilers: &[&str]) -> &mut Self {
            let (name, version) = id.split_once('@').unwrap();
            self.0.entry(name.parse().unwrap()).or_default().insert(
                version.parse().unwrap(),
                Candidate {
                    dependencies: Cow::Owned(
                        deps.iter()
                            .map(|(n, r)| (n.parse().unwrap(), r.parse().unwrap()))
                            .collect(),
                    ),
                    compilers: compilers.iter().map(|c| c.parse().unwrap()).collect(),
                    yanked: false,
                },
            );
            self
        }

        fn yank(&mut self, id: &str) -> &mut Self {
            let (name, version) = id.split_once('@').unwrap();
            let name: PackageName = name.parse().unwrap();
            let candidate = self.0.get_mut(&name).unwrap().get_mut(&v(version)).unwrap();
            candidate.yanked = true;
            self
        }
    }

    impl<'a> Packages<'a> for World {
        fn load(&self, name: &PackageName) -> Result<Option<Versions<'a>>, StoreError> {
            Ok(self.0.get(name).cloned())
        }
    }

    fn v(s: &str) -> Version {
        s.parse().unwrap()
    }

    fn root(deps: &[(&str, &str)], compiler: Option<&str>) -> Request {
        let manifest: Manifest = serde_json::from_value(serde_json::json!({
            "name": "app", "version": "1.0.0", "license": "MIT",
            "location": {"githubOwner": "o", "githubRepo": "app"}, "ref": "v1.0.0",
            "dependencies": deps.iter().map(|(n, r)| (n.to_string(), r.to_string()))
                .collect::<BTreeMap<_, _>>(),
        }))
        .unwrap();
        Request::manifest(&manifest, compiler.map(v))
    }

    fn plan(p: &BuildPlan) -> String {
        let mut out = format!("compiler {}", p.compiler);
        for (n, v) in &p.resolutions {
            out.push_str(&format!(", {n}@{v}"));
        }
        out
    }

    const C15: &[&str] = &["0.15.0", "0.15.15"];

    fn prelude_world() -> World {
        let mut w = World::default();
        w.add("prelude@5.0.0", &[], &["0.14.0", "0.14.5"])
            .add("prelude@6.0.0", &[], C15)
            .add(
                "effect@3.0.0",
                &[("prelude", ">=5.0.0 <6.0.0")],
                &["0.14.0", "0.14.5"],
            )
            .add("effect@4.0.0", &[("prelude", ">=6.0.0 <7.0.0")], C15)
            .add("old@1.0.0", &[("prelude", ">=5.0.0 <6.0.0")], &["0.14.0"]);
        w
    }

    #[test]
    fn newest_versions_with_the_newest_compiler() {
        let w = prelude_world();
        let s = Solver::new(&w);
        let p = s
            .solve(&root(&[("effect", ">=3.0.0 <5.0.0")], None), &[])
            .unwrap();
        assert_eq!(plan(&p), "compiler 0.15.15, effect@4.0.0, prelude@6.0.0");
        // The newest compiler that works, not the newest known.
        let p = s
            .solve(&root(&[("old", ">=1.0.0 <2.0.0")], None), &[])
            .unwrap();
        assert_eq!(plan(&p), "compiler 0.14.0, old@1.0.0, prelude@5.0.0");
        // A requested compiler picks older versions.
        let p = s
            .solve(&root(&[("effect", ">=3.0.0 <5.0.0")], Some("0.14.5")), &[])
            .unwrap();
        assert_eq!(plan(&p), "compiler 0.14.5, effect@3.0.0, prelude@5.0.0");
        // No dependencies: the newest known compiler.
        let p = s.solve(&root(&[], None), &[v("0.15.15")]).unwrap();
        assert_eq!(plan(&p), "compiler 0.15.15");
    }

    #[test]
    fn each_compiler_gets_its_own_plan_or_none() {
        let w = prelude_world();
        let s = Solver::new(&w);
        let compilers: Vec<Version> = ["0.15.15", "0.15.0", "0.14.5", "0.14.0", "0.13.8"]
            .into_iter()
            .map(v)
            .collect();
        let show = |plans: Vec<(Version, Option<BuildPlan>)>| -> Vec<String> {
            plans
                .iter()
                .map(|(c, p)| match p {
                    Some(p) => {
                        assert_eq!(&p.compiler, c);
                        plan(p)
                    }
                    None => format!("{c}: none"),
                })
                .collect()
        };
        // Older compilers get older versions; the request's own compiler is set aside.
        for asked in [None, Some("0.15.15")] {
            let request = root(&[("effect", ">=3.0.0 <5.0.0")], asked);
            assert_eq!(
                show(s.plans_per_compiler(&request, &compilers).unwrap()),
                [
                    "compiler 0.15.15, effect@4.0.0, prelude@6.0.0",
                    "compiler 0.15.0, effect@4.0.0, prelude@6.0.0",
                    "compiler 0.14.5, effect@3.0.0, prelude@5.0.0",
                    "compiler 0.14.0, effect@3.0.0, prelude@5.0.0",
                    "0.13.8: none",
                ]
            );
        }
        // Only what every dependency allows: `old` builds with 0.14.0 alone.
        let request = root(
            &[("effect", ">=3.0.0 <5.0.0"), ("old", ">=1.0.0 <2.0.0")],
            None,
        );
        assert_eq!(
            show(s.plans_per_compiler(&request, &compilers).unwrap()),
            [
                "0.15.15: none",
                "0.15.0: none",
                "0.14.5: none",
                "compiler 0.14.0, effect@3.0.0, old@1.0.0, prelude@5.0.0",
                "0.13.8: none",
            ]
        );
        // Without dependencies, every compiler.
        let plans = s.plans_per_compiler(&root(&[], None), &compilers).unwrap();
        assert!(plans.iter().all(|(c, p)| {
            p.as_ref()
                .is_some_and(|p| &p.compiler == c && p.resolutions.is_empty())
        }));
    }

    #[test]
    fn a_published_version_is_solved_with_its_own_compilers() {
        let w = prelude_world();
        let s = Solver::new(&w);
        let p = s
            .solve(
                &Request::published("effect".parse().unwrap(), v("3.0.0"), None),
                &[],
            )
            .unwrap();
        assert_eq!(plan(&p), "compiler 0.14.5, prelude@5.0.0");
        let e = s
            .solve(
                &Request::published("effect".parse().unwrap(), v("3.0.0"), Some(v("0.15.15"))),
                &[],
            )
            .unwrap_err();
        insta::assert_snapshot!(e, @"
        no build plan for `effect@3.0.0`:
        Because `effect@3.0.0` builds only with compilers `0.14.0`, `0.14.5` and `effect@3.0.0` is what is solved for, solving `effect@3.0.0` needs compilers `0.14.0`, `0.14.5`.
        And because compiler `0.15.15` was asked for, there is no build plan for `effect@3.0.0`.
        ");
    }

    #[test]
    fn a_missing_range_is_explained() {
        let mut w = World::default();
        w.add("effect@3.0.0", &[], C15)
            .add("effect@3.1.0", &[], C15)
            .add("aff@7.1.0", &[("effect", ">=4.0.0 <5.0.0")], C15);
        let s = Solver::new(&w);
        let e = s
            .solve(&root(&[("aff", ">=7.0.0 <8.0.0")], None), &[])
            .unwrap_err();
        insta::assert_snapshot!(e, @"
        no build plan for `app@1.0.0`:
        Because `aff@7.1.0` needs `effect >=4.0.0 <5.0.0` (nothing published in that range; published: `3.1.0`, `3.0.0`) and `app@1.0.0` needs `aff >=7.0.0 <8.0.0`, there is no build plan for `app@1.0.0`.
        ");
        let e = s
            .solve(&root(&[("nope", ">=1.0.0 <2.0.0")], None), &[v("0.15.15")])
            .unwrap_err();
        insta::assert_snapshot!(e, @"
        no build plan for `app@1.0.0`:
        `app@1.0.0` needs `nope >=1.0.0 <2.0.0` (not in the registry)
        ");
        let e = s
            .solve(&root(&[("nope", ">=1.0.0 <2.0.0")], None), &[])
            .unwrap_err();
        insta::assert_snapshot!(e, @"
        no build plan for `app@1.0.0`:
        no compiler is known: no package it needs records one, and none was given
        ");
    }

    #[test]
    fn a_version_listing_itself_is_not_used() {
        let mut w = World::default();
        w.add("a@1.0.0", &[], C15)
            .add("a@1.1.0", &[("a", ">=1.0.0 <2.0.0")], C15);
        let s = Solver::new(&w);
        let p = s
            .solve(&root(&[("a", ">=1.0.0 <2.0.0")], None), &[])
            .unwrap();
        assert_eq!(plan(&p), "compiler 0.15.15, a@1.0.0");
    }

    #[test]
    fn a_diamond_conflict_is_explained() {
        let mut w = World::default();
        w.add("c@1.0.0", &[], C15)
            .add("c@2.0.0", &[], C15)
            .add("a@1.0.0", &[("c", ">=1.0.0 <2.0.0")], C15)
            .add("b@1.0.0", &[("c", ">=2.0.0 <3.0.0")], C15)
            .add("b@1.1.0", &[("c", ">=2.0.0 <3.0.0")], C15);
        let s = Solver::new(&w);
        let e = s
            .solve(
                &root(&[("a", ">=1.0.0 <2.0.0"), ("b", ">=1.0.0 <2.0.0")], None),
                &[],
            )
            .unwrap_err();
        insta::assert_snapshot!(e, @"
        no build plan for `app@1.0.0`:
        Because `a@1.0.0` needs `c >=1.0.0 <2.0.0` and every version of `b` needs `c >=2.0.0 <3.0.0`, `a@1.0.0` and every version of `b` cannot be used together.
        And because `app@1.0.0` needs `a >=1.0.0 <2.0.0` and `app@1.0.0` needs `b >=1.0.0 <2.0.0`, there is no build plan for `app@1.0.0`.
        ");
    }

    #[test]
    fn a_yanked_version_is_skipped_unless_pinned() {
        let mut w = prelude_world();
        w.yank("prelude@6.0.0");
        let s = Solver::new(&w);
        let req = root(&[("effect", ">=3.0.0 <5.0.0")], None);
        // `effect@4.0.0` needs the yanked `prelude@6.0.0`: the older pair is picked.
        let p = s.solve(&req, &[]).unwrap();
        assert_eq!(plan(&p), "compiler 0.14.5, effect@3.0.0, prelude@5.0.0");
        // Resolutions pin it, and `regis solve` of the yanked version itself.
        let pinned: BTreeMap<PackageName, Version> = [("effect", "4.0.0"), ("prelude", "6.0.0")]
            .iter()
            .map(|(n, x)| (n.parse().unwrap(), v(x)))
            .collect();
        let p = s.check_resolutions(&req, &pinned, &[]).unwrap();
        assert_eq!(plan(&p), "compiler 0.15.15, effect@4.0.0, prelude@6.0.0");
        let itself = Request::published("prelude".parse().unwrap(), v("6.0.0"), None);
        assert_eq!(plan(&s.solve(&itself, &[]).unwrap()), "compiler 0.15.15");
        // A dependency of a solved published version is not pinned by it.
        let effect = Request::published("effect".parse().unwrap(), v("4.0.0"), None);
        let e = s.solve(&effect, &[]).unwrap_err();
        insta::assert_snapshot!(e, @r#"
            no build plan for `effect@4.0.0`:
            Because `effect@4.0.0` needs `prelude >=6.0.0 <7.0.0` (every version in that range is yanked: `6.0.0`; a yanked version is used only when a build plan's `resolutions` pin it) and `effect@4.0.0` is what is solved for, there is no build plan for `effect@4.0.0`.
        "#);
        // Nothing but yanked versions in range: said so.
        w.yank("prelude@5.0.0");
        let s = Solver::new(&w);
        let e = s
            .solve(&root(&[("prelude", ">=5.0.0 <7.0.0")], None), &[])
            .unwrap_err();
        insta::assert_snapshot!(e, @r#"
            no build plan for `app@1.0.0`:
            `app@1.0.0` needs `prelude >=5.0.0 <7.0.0` (every version in that range is yanked: `5.0.0`, `6.0.0`; a yanked version is used only when a build plan's `resolutions` pin it)
        "#);
    }

    #[test]
    fn resolutions_are_checked() {
        let w = prelude_world();
        let s = Solver::new(&w);
        let r = |pairs: &[(&str, &str)]| -> BTreeMap<PackageName, Version> {
            pairs
                .iter()
                .map(|(n, x)| (n.parse().unwrap(), v(x)))
                .collect()
        };
        let req = root(&[("effect", ">=3.0.0 <5.0.0")], None);
        let p = s
            .check_resolutions(&req, &r(&[("effect", "3.0.0"), ("prelude", "5.0.0")]), &[])
            .unwrap();
        assert_eq!(plan(&p), "compiler 0.14.5, effect@3.0.0, prelude@5.0.0");
        let e = s
            .check_resolutions(
                &req,
                &r(&[("effect", "4.0.0"), ("prelude", "5.0.0"), ("old", "1.0.0")]),
                &[],
            )
            .unwrap_err();
        insta::assert_snapshot!(e, @"the resolutions given for `app@1.0.0` are not a build plan: `effect@4.0.0` needs `prelude >=6.0.0 <7.0.0`, but the resolutions give `prelude@5.0.0`; `old@1.0.0` is not a dependency of `app@1.0.0`; no one compiler builds every resolved version");
        let e = s
            .check_resolutions(&req, &r(&[("effect", "4.0.0")]), &[])
            .unwrap_err();
        insta::assert_snapshot!(e, @"the resolutions given for `app@1.0.0` are not a build plan: `prelude` is missing: `effect@4.0.0` needs `prelude >=6.0.0 <7.0.0`");
        let e = s
            .check_resolutions(&req, &r(&[("effect", "4.0.1"), ("nope", "1.0.0")]), &[])
            .unwrap_err();
        insta::assert_snapshot!(e, @"the resolutions given for `app@1.0.0` are not a build plan: `effect@4.0.1` is not published; `nope` is not in the registry");
        let req = root(&[("effect", ">=3.0.0 <5.0.0")], Some("0.14.0"));
        let e = s
            .check_resolutions(&req, &r(&[("effect", "4.0.0"), ("prelude", "6.0.0")]), &[])
            .unwrap_err();
        insta::assert_snapshot!(e, @"the resolutions given for `app@1.0.0` are not a build plan: not every resolved version builds with compiler `0.14.0`");
    }

    mod laws {
        use super::*;
        use proptest::prelude::*;

        const NAMES: [&str; 4] = ["p0", "p1", "p2", "p3"];
        const VERSIONS: [&str; 3] = ["1.0.0", "1.1.0", "2.0.0"];
        const RANGES: [&str; 3] = [">=1.0.0 <2.0.0", ">=1.1.0 <3.0.0", ">=2.0.0 <3.0.0"];
        const COMPILERS: [&str; 3] = ["0.1.0", "0.2.0", "0.3.0"];

        /// (package, version) present?, its dependencies (package, range), its compilers.
        type Spec = Vec<(usize, usize, Vec<(usize, usize)>, Vec<usize>)>;

        fn spec() -> impl Strategy<Value = (Spec, Vec<(usize, usize)>)> {
            let version = (
                0..4usize,
                0..3usize,
                proptest::collection::vec((0..4usize, 0..3usize), 0..3),
                proptest::collection::vec(0..3usize, 1..3),
            );
            (
                proptest::collection::vec(version, 0..9),
                proptest::collection::vec((0..4usize, 0..3usize), 0..3),
            )
        }

        fn world(spec: &Spec) -> World {
            let mut w = World::default();
            for (p, v, deps, cs) in spec {
                // A version listing itself is never usable (publish refuses it); tested apart.
                let deps: BTreeMap<&str, &str> = deps
                    .iter()
                    .filter(|(d, _)| d != p)
                    .map(|(d, r)| (NAMES[*d], RANGES[*r]))
                    .collect();
                let deps: Vec<(&str, &str)> = deps.into_iter().collect();
                let cs: Vec<&str> = cs.iter().map(|c| COMPILERS[*c]).collect();
                w.add(&format!("{}@{}", NAMES[*p], VERSIONS[*v]), &deps, &cs);
            }
            w
        }

        /// Every valid plan, by brute force: each package absent or at one version.
        fn all_plans(
            w: &World,
            root: &[(&str, &str)],
        ) -> Vec<(Version, BTreeMap<PackageName, Version>)> {
            let names: Vec<PackageName> = w.0.keys().cloned().collect();
            let mut out = Vec::new();
            let mut choice = vec![0usize; names.len()];
            loop {
                let plan: BTreeMap<PackageName, Version> = names
                    .iter()
                    .zip(&choice)
                    .filter(|(_, c)| **c > 0)
                    .map(|(n, c)| (n.clone(), w.0[n].keys().nth(c - 1).unwrap().clone()))
                    .collect();
                for compiler in COMPILERS.map(v) {
                    let needs = |deps: &mut dyn Iterator<Item = (PackageName, Range)>| {
                        for (d, r) in deps {
                            if !plan.get(&d).is_some_and(|x| r.contains(x)) {
                                return false;
                            }
                        }
                        true
                    };
                    let root_ok = needs(
                        &mut root
                            .iter()
                            .map(|(n, r)| (n.parse().unwrap(), r.parse().unwrap())),
                    );
                    let members_ok = plan.iter().all(|(n, x)| {
                        let c = &w.0[n][x];
                        c.compilers.contains(&compiler)
                            && needs(
                                &mut c.dependencies.iter().map(|(d, r)| (d.clone(), r.clone())),
                            )
                    });
                    if root_ok && members_ok {
                        out.push((compiler, plan.clone()));
                    }
                }
                // Next assignment.
                let mut i = 0;
                loop {
                    if i == names.len() {
                        return out;
                    }
                    choice[i] += 1;
                    if choice[i] <= w.0[&names[i]].len() {
                        break;
                    }
                    choice[i] = 0;
                    i += 1;
                }
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(1000))]

            /// Sound (a plan satisfies every range and compiler), complete (no plan only when
            /// none exists) and picks the newest compiler any plan can use.
            #[test]
            fn sound_complete_and_newest_compiler((spec, root_deps) in spec()) {
                let w = world(&spec);
                let root_deps: BTreeMap<&str, &str> =
                    root_deps.iter().map(|(d, r)| (NAMES[*d], RANGES[*r])).collect();
                let root_deps: Vec<(&str, &str)> = root_deps.into_iter().collect();
                let plans = all_plans(&w, &root_deps);
                let solver = Solver::new(&w);
                match solver.solve(&root(&root_deps, None), &COMPILERS.map(v)) {
                    Ok(p) => {
                        // Sound: the same plan, minus packages nothing needs, is valid.
                        let valid = plans.iter().any(|(c, members)| {
                            c == &p.compiler && members == &p.resolutions
                        });
                        prop_assert!(valid, "unsound plan {}", plan(&p));
                        let newest = plans.iter().map(|(c, _)| c).max().unwrap();
                        prop_assert_eq!(&p.compiler, newest);
                    }
                    Err(SolveError::NoPlan { explanation, .. }) => {
                        prop_assert!(
                            plans.is_empty(),
                            "missed plan {:?}; said {}", plans[0], explanation
                        );
                    }
                    Err(e) => prop_assert!(false, "{}", e),
                }
            }
        }
    }
}
