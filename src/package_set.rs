//! Package sets (`package-sets/<version>.json`): versions of packages that build together
//! with one compiler, and the planning of an update to the latest set: classifying a
//! `PackageSetUpdate` ([`classify`]), checking a candidate set ([`problems`]), applying the
//! changes as a batch and then one at a time ([`apply_with_fallback`]), the next set's
//! version and commit message, and the daily updater's proposal. Pure.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::index::IndexView;
use crate::metadata::Metadata;
use crate::payload::PackageSetUpdate;
use crate::schema::{Date, PackageName, Version};

/// A package set. Key order `version, compiler, published, packages`; packages by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageSet {
    pub version: Version,
    pub compiler: Version,
    pub published: Date,
    pub packages: BTreeMap<PackageName, Version>,
}

/// A package set file that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{file}` is not a valid package set: {message}")]
pub struct PackageSetError {
    pub file: String,
    pub message: String,
}

impl PackageSet {
    pub fn from_json(file: &str, text: &str) -> Result<PackageSet, PackageSetError> {
        serde_json::from_str(text).map_err(|e| PackageSetError {
            file: file.to_owned(),
            message: e.to_string(),
        })
    }

    /// The canonical bytes: pretty JSON with 2-space indent and a trailing newline.
    pub fn to_json(&self) -> String {
        crate::schema::pretty_json(self)
    }

    /// The file name this set is stored under: `package-sets/<version>.json`.
    pub fn file_name(&self) -> String {
        format!("package-sets/{}.json", self.version)
    }
}

/// Who submitted an update. Anyone may add or upgrade packages; removals, downgrades and
/// compiler changes need a trustee.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authority {
    Anyone,
    Trustee,
}

/// One requested change, classified against the current set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Compiler {
        from: Version,
        to: Version,
    },
    Add {
        name: PackageName,
        version: Version,
    },
    Upgrade {
        name: PackageName,
        from: Version,
        to: Version,
    },
    Downgrade {
        name: PackageName,
        from: Version,
        to: Version,
    },
    Remove {
        name: PackageName,
        version: Version,
    },
}

impl Change {
    /// Removals, downgrades and compiler changes need a trustee.
    pub fn needs_trustee(&self) -> bool {
        matches!(
            self,
            Change::Compiler { .. } | Change::Downgrade { .. } | Change::Remove { .. }
        )
    }

    /// The package changed; `None` for a compiler change.
    pub fn name(&self) -> Option<&PackageName> {
        match self {
            Change::Compiler { .. } => None,
            Change::Add { name, .. }
            | Change::Upgrade { name, .. }
            | Change::Downgrade { name, .. }
            | Change::Remove { name, .. } => Some(name),
        }
    }

    /// The version a package has after this change (`None` for a removal or the compiler).
    fn new_version(&self) -> Option<&Version> {
        match self {
            Change::Add { version, .. } => Some(version),
            Change::Upgrade { to, .. } | Change::Downgrade { to, .. } => Some(to),
            Change::Compiler { .. } | Change::Remove { .. } => None,
        }
    }

    fn apply(&self, compiler: &mut Version, packages: &mut BTreeMap<PackageName, Version>) {
        match self {
            Change::Compiler { to, .. } => *compiler = to.clone(),
            Change::Add { name, version } => {
                packages.insert(name.clone(), version.clone());
            }
            Change::Upgrade { name, to, .. } | Change::Downgrade { name, to, .. } => {
                packages.insert(name.clone(), to.clone());
            }
            Change::Remove { name, .. } => {
                packages.remove(name);
            }
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Compiler { from, to } => {
                write!(f, "change the compiler from `{from}` to `{to}`")
            }
            Change::Add { name, version } => write!(f, "add `{name}@{version}`"),
            Change::Upgrade { name, from, to } => {
                write!(f, "upgrade `{name}` from `{from}` to `{to}`")
            }
            Change::Downgrade { name, from, to } => {
                write!(f, "downgrade `{name}` from `{from}` to `{to}`")
            }
            Change::Remove { name, version } => write!(f, "remove `{name}@{version}`"),
        }
    }
}

/// What the checks know about one published version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogEntry {
    /// The names of its dependencies (ranges are not checked: sets are verified by building).
    pub dependencies: Vec<PackageName>,
    /// The compilers its metadata says it builds with.
    pub compilers: Vec<Version>,
    /// The reason, when metadata lists it under `yanked`: no set takes it in.
    pub yanked: Option<String>,
}

/// The published versions the checks may use: each in the index view and in metadata
/// `published` (the metadata being the authority). Built by the caller from the registry;
/// tests build it by hand.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    packages: BTreeMap<PackageName, BTreeMap<Version, CatalogEntry>>,
}

impl Catalog {
    pub fn new() -> Self {
        Catalog::default()
    }

    pub fn insert(
        &mut self,
        name: PackageName,
        version: Version,
        dependencies: Vec<PackageName>,
        compilers: Vec<Version>,
    ) {
        self.packages.entry(name).or_default().insert(
            version,
            CatalogEntry {
                dependencies,
                compilers,
                yanked: None,
            },
        );
    }

    /// Mark `name@version`, if present, as yanked for `reason`.
    pub fn yank(&mut self, name: &PackageName, version: &Version, reason: &str) {
        if let Some(entry) = self
            .packages
            .get_mut(name)
            .and_then(|vs| vs.get_mut(version))
        {
            entry.yanked = Some(reason.to_owned());
        }
    }

    /// Every version that is both indexed and published in metadata.
    pub fn from_index(index: &IndexView, metadata: &BTreeMap<PackageName, Metadata>) -> Catalog {
        let mut catalog = Catalog::new();
        for (name, file) in index.packages() {
            let Some(meta) = metadata.get(name) else {
                continue;
            };
            for manifest in file.manifests() {
                if let Some(published) = meta.published.get(&manifest.version) {
                    catalog.insert(
                        name.clone(),
                        manifest.version.clone(),
                        manifest.dependencies.keys().cloned().collect(),
                        published.compilers.clone(),
                    );
                    if let Some(yanked) = meta.yanked.get(&manifest.version) {
                        catalog.yank(name, &manifest.version, &yanked.reason);
                    }
                }
            }
        }
        catalog
    }

    pub fn get(&self, name: &PackageName, version: &Version) -> Option<&CatalogEntry> {
        self.packages.get(name)?.get(version)
    }

    /// The newest published version of `name`.
    pub fn newest(&self, name: &PackageName) -> Option<&Version> {
        self.packages.get(name)?.keys().next_back()
    }

    /// The newest published version of `name` that is not yanked.
    pub fn newest_unyanked(&self, name: &PackageName) -> Option<&Version> {
        let versions = self.packages.get(name)?;
        versions
            .iter()
            .rev()
            .find(|(_, e)| e.yanked.is_none())
            .map(|(v, _)| v)
    }

    /// The published versions of `name`, ascending.
    pub fn versions(&self, name: &PackageName) -> impl Iterator<Item = &Version> {
        self.packages.get(name).into_iter().flat_map(|v| v.keys())
    }

    /// Every package with a published version, by name.
    pub fn names(&self) -> impl Iterator<Item = &PackageName> {
        self.packages.keys()
    }
}

/// Whether `set` already is what `update` asks for: its compiler (if the update names
/// one), every package at the version asked, every removal absent. A re-run of an update
/// that landed meets this, and so does a request for what the set already has.
pub fn already_reflected(set: &PackageSet, update: &PackageSetUpdate) -> bool {
    let compiler = update.compiler.as_ref().is_none_or(|c| c == &set.compiler);
    let packages = update
        .packages
        .iter()
        .all(|(name, wanted)| set.packages.get(name) == wanted.as_ref());
    compiler && packages && !(update.compiler.is_none() && update.packages.is_empty())
}

/// A package set update that can never be applied as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackageSetUpdateError {
    #[error(
        "the package set update is empty: expected a `compiler` or at least one entry in `packages`"
    )]
    Empty,
    #[error(
        "the package set update changes nothing: package set `{set}` already has the compiler and every package version it names"
    )]
    NothingChanges { set: Version },
    #[error(
        "only a trustee may remove or downgrade packages or change the compiler, and this update asks to {}: a trustee must submit it",
        join(.changes.iter(), ", ")
    )]
    NeedsTrustee { changes: Vec<Change> },
    #[error("cannot remove `{name}`: it is not in package set `{set}`")]
    NotInSet { name: PackageName, set: Version },
    #[error("`{name}@{version}` is not published: {}", published_versions(.name, .published))]
    NotPublished {
        name: PackageName,
        version: Version,
        published: Vec<Version>,
    },
    #[error(
        "`{name}@{version}` is yanked ({}): a package set takes no yanked version (members yanked after they joined stay)",
        crate::text::value(.reason)
    )]
    Yanked {
        name: PackageName,
        version: Version,
        reason: String,
    },
    #[error("the package set update cannot be applied: {}", join(.0.iter(), "; "))]
    Several(Vec<PackageSetUpdateError>),
}

fn join<T: fmt::Display>(items: impl Iterator<Item = T>, separator: &str) -> String {
    items
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(separator)
}

fn ticked<'a>(versions: impl Iterator<Item = &'a Version>) -> String {
    join(versions.map(|v| format!("`{v}`")), ", ")
}

fn published_versions(name: &PackageName, published: &[Version]) -> String {
    if published.is_empty() {
        format!("no version of `{name}` is published")
    } else {
        format!("published versions are {}", ticked(published.iter()))
    }
}

/// An update classified against the current set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classified {
    /// The changes, the compiler first, then packages by name.
    pub changes: Vec<Change>,
    /// Packages the update names at the version they already have (no-ops).
    pub unchanged: Vec<PackageName>,
}

/// Classify `update` against `current`. Requests that can never be applied are errors, all
/// of them reported at once: changes that need a trustee when `authority` is
/// [`Authority::Anyone`], removing a package that is not in the set, a version that is not
/// in `catalog` or is yanked there, and an update that is empty or changes nothing.
///
/// (An update that `set` already reflects in full is a finished one — see
/// [`already_reflected`] — which the operation reports as done before classifying.)
pub fn classify(
    current: &PackageSet,
    update: &PackageSetUpdate,
    catalog: &Catalog,
    authority: Authority,
) -> Result<Classified, PackageSetUpdateError> {
    if update.compiler.is_none() && update.packages.is_empty() {
        return Err(PackageSetUpdateError::Empty);
    }
    let mut changes = Vec::new();
    let mut unchanged = Vec::new();
    let mut errors = Vec::new();
    if let Some(to) = &update.compiler
        && to != &current.compiler
    {
        changes.push(Change::Compiler {
            from: current.compiler.clone(),
            to: to.clone(),
        });
    }
    for (name, wanted) in &update.packages {
        let name = name.clone();
        let have = current.packages.get(&name).cloned();
        let change = match (wanted.clone(), have) {
            (None, Some(version)) => Change::Remove { name, version },
            (None, None) => {
                errors.push(PackageSetUpdateError::NotInSet {
                    set: current.version.clone(),
                    name,
                });
                continue;
            }
            (Some(to), Some(from)) if to == from => {
                unchanged.push(name);
                continue;
            }
            (Some(version), _) if catalog.get(&name, &version).is_none() => {
                errors.push(PackageSetUpdateError::NotPublished {
                    published: catalog.versions(&name).cloned().collect(),
                    name,
                    version,
                });
                continue;
            }
            (Some(version), _)
                if catalog
                    .get(&name, &version)
                    .is_some_and(|e| e.yanked.is_some()) =>
            {
                let reason = (catalog.get(&name, &version).and_then(|e| e.yanked.clone()))
                    .unwrap_or_default();
                errors.push(PackageSetUpdateError::Yanked {
                    name,
                    version,
                    reason,
                });
                continue;
            }
            (Some(to), Some(from)) if to > from => Change::Upgrade { name, from, to },
            (Some(to), Some(from)) => Change::Downgrade { name, from, to },
            (Some(version), None) => Change::Add { name, version },
        };
        changes.push(change);
    }
    if authority == Authority::Anyone {
        let refused: Vec<Change> = changes
            .iter()
            .filter(|c| c.needs_trustee())
            .cloned()
            .collect();
        if !refused.is_empty() {
            errors.push(PackageSetUpdateError::NeedsTrustee { changes: refused });
        }
    }
    match errors.len() {
        0 if changes.is_empty() => Err(PackageSetUpdateError::NothingChanges {
            set: current.version.clone(),
        }),
        0 => Ok(Classified { changes, unchanged }),
        1 => Err(errors.remove(0)),
        _ => Err(PackageSetUpdateError::Several(errors)),
    }
}

/// The problems of a candidate set: a member that is not in `catalog`, a member depending on
/// a package (by name) that is not in the set, and, when `check_compilers`, a member whose
/// metadata does not list `compiler`. Empty when the candidate passes.
pub fn problems(
    compiler: &Version,
    packages: &BTreeMap<PackageName, Version>,
    catalog: &Catalog,
    check_compilers: bool,
) -> Vec<String> {
    let mut out = Vec::new();
    for (name, version) in packages {
        let Some(entry) = catalog.get(name, version) else {
            out.push(format!("`{name}@{version}` is not published"));
            continue;
        };
        for dependency in &entry.dependencies {
            if !packages.contains_key(dependency) {
                out.push(format!(
                    "`{name}@{version}` depends on `{dependency}`, which is not in the set"
                ));
            }
        }
        if check_compilers && !entry.compilers.contains(compiler) {
            out.push(format!(
                "`{name}@{version}` does not build with compiler `{compiler}`: its metadata lists {}",
                compilers(&entry.compilers)
            ));
        }
    }
    out
}

/// A list of compilers, shortened to its range when long.
fn compilers(list: &[Version]) -> String {
    match (list.iter().min(), list.iter().max()) {
        (Some(lowest), Some(highest)) if list.len() > 3 => {
            format!("{} compilers, `{lowest}` to `{highest}`", list.len())
        }
        _ => ticked(list.iter()),
    }
}

/// How many problems a rejection reason names before saying how many more there are.
const PROBLEMS_SHOWN: usize = 10;

fn summarize(problems: &[String]) -> String {
    let mut reason = problems[..problems.len().min(PROBLEMS_SHOWN)].join("; ");
    if problems.len() > PROBLEMS_SHOWN {
        reason.push_str(&format!(
            "; and {} more problems",
            problems.len() - PROBLEMS_SHOWN
        ));
    }
    reason
}

/// The result of [`apply_with_fallback`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The compiler after the accepted changes.
    pub compiler: Version,
    /// The packages after the accepted changes.
    pub packages: BTreeMap<PackageName, Version>,
    /// The accepted changes, in the order they were tried (see [`fallback_order`]).
    pub accepted: Vec<Change>,
    /// The rejected changes, each with the reason.
    pub rejected: Vec<(Change, String)>,
    /// Whether every change went through together in the first attempt.
    pub batch_passed: bool,
}

/// The verdict of the caller's extra check on a candidate (`compiler`, `packages`):
/// `Ok(Ok(()))` accepts it, `Ok(Err(reason))` rejects it, `Err(e)` aborts the whole run
/// (an I/O failure, say, is not the candidate's fault).
pub type ExtraCheck<'a, E> =
    dyn FnMut(&Version, &BTreeMap<PackageName, Version>) -> Result<Result<(), String>, E> + 'a;

/// Apply `changes` to `current`: first all together; if that candidate fails, one at a time
/// in [`fallback_order`], each on top of those kept so far, keeping each that passes.
///
/// A candidate passes when [`problems`] finds none and then `extra_check` accepts it (the
/// caller runs the build hook there). `on_attempt(description, index, total)` is called
/// before each attempt: index 0 is the whole batch, 1..=total the one-at-a-time attempts,
/// made only when the batch fails and there is more than one change. An `Err` from
/// `extra_check` stops everything and is returned.
pub fn apply_with_fallback<E>(
    current: &PackageSet,
    changes: &[Change],
    catalog: &Catalog,
    check_compilers: bool,
    extra_check: &mut ExtraCheck<'_, E>,
    on_attempt: &mut dyn FnMut(&str, usize, usize),
) -> Result<Outcome, E> {
    let ordered = fallback_order(&current.packages, changes, catalog);
    let total = ordered.len();
    let mut outcome = Outcome {
        compiler: current.compiler.clone(),
        packages: current.packages.clone(),
        accepted: Vec::new(),
        rejected: Vec::new(),
        batch_passed: true,
    };
    if ordered.is_empty() {
        return Ok(outcome);
    }
    let mut check = |compiler: &Version, packages: &BTreeMap<PackageName, Version>| {
        let found = problems(compiler, packages, catalog, check_compilers);
        if found.is_empty() {
            extra_check(compiler, packages)
        } else {
            Ok(Err(summarize(&found)))
        }
    };

    let description = match ordered.as_slice() {
        [only] => only.to_string(),
        _ => format!("all {total} changes together"),
    };
    on_attempt(&description, 0, total);
    let (mut compiler, mut packages) = (outcome.compiler.clone(), outcome.packages.clone());
    for change in &ordered {
        change.apply(&mut compiler, &mut packages);
    }
    let reason = match check(&compiler, &packages)? {
        Ok(()) => {
            outcome.compiler = compiler;
            outcome.packages = packages;
            outcome.accepted = ordered;
            return Ok(outcome);
        }
        Err(reason) => reason,
    };
    outcome.batch_passed = false;
    if total == 1 {
        outcome.rejected = ordered.into_iter().map(|c| (c, reason.clone())).collect();
        return Ok(outcome);
    }
    for (i, change) in ordered.into_iter().enumerate() {
        on_attempt(&change.to_string(), i + 1, total);
        let (mut compiler, mut packages) = (outcome.compiler.clone(), outcome.packages.clone());
        change.apply(&mut compiler, &mut packages);
        match check(&compiler, &packages)? {
            Ok(()) => {
                outcome.compiler = compiler;
                outcome.packages = packages;
                outcome.accepted.push(change);
            }
            Err(reason) => outcome.rejected.push((change, reason)),
        }
    }
    Ok(outcome)
}

/// The order changes are tried one at a time: the compiler change first; then additions,
/// upgrades and downgrades, each after the updated packages its new version depends on;
/// then removals, each before the removed packages it depends on. Ties and cycles are
/// broken by name.
pub fn fallback_order(
    current: &BTreeMap<PackageName, Version>,
    changes: &[Change],
    catalog: &Catalog,
) -> Vec<Change> {
    let mut compiler = Vec::new();
    let mut updates: BTreeMap<&PackageName, Vec<&Change>> = BTreeMap::new();
    let mut removals: BTreeMap<&PackageName, Vec<&Change>> = BTreeMap::new();
    for change in changes {
        match change {
            Change::Compiler { .. } => compiler.push(change),
            Change::Remove { name, .. } => removals.entry(name).or_default().push(change),
            _ => {
                let name = change.name().expect("a package change names its package");
                updates.entry(name).or_default().push(change);
            }
        }
    }
    let dependencies = |name: &PackageName, version: Option<&Version>| -> Vec<PackageName> {
        version
            .and_then(|v| catalog.get(name, v))
            .map(|e| e.dependencies.clone())
            .unwrap_or_default()
    };

    // Updates: each after the updated packages its new version depends on.
    let update_graph: BTreeMap<PackageName, BTreeSet<PackageName>> = updates
        .iter()
        .map(|(&name, cs)| {
            let deps = cs
                .iter()
                .flat_map(|c| dependencies(name, c.new_version()))
                .filter(|d| updates.contains_key(d) && d != name)
                .collect();
            (name.clone(), deps)
        })
        .collect();

    // Removals: each after the removed packages that depend on it (its dependents).
    let mut removal_graph: BTreeMap<PackageName, BTreeSet<PackageName>> = removals
        .keys()
        .map(|&n| (n.clone(), BTreeSet::new()))
        .collect();
    for &name in removals.keys() {
        for dependency in dependencies(name, current.get(name)) {
            if dependency != *name
                && let Some(dependents) = removal_graph.get_mut(&dependency)
            {
                dependents.insert(name.clone());
            }
        }
    }

    let mut out: Vec<Change> = compiler.into_iter().cloned().collect();
    for name in topological_order(&update_graph) {
        out.extend(updates[&name].iter().map(|&c| c.clone()));
    }
    for name in topological_order(&removal_graph) {
        out.extend(removals[&name].iter().map(|&c| c.clone()));
    }
    out
}

/// The keys of `graph` (node → the nodes it must come after), each after those it must
/// come after; among nodes free to go next, by name. A cycle goes as one block, in name
/// order, once everything it must come after outside the cycle has gone.
fn topological_order(graph: &BTreeMap<PackageName, BTreeSet<PackageName>>) -> Vec<PackageName> {
    let names: Vec<&PackageName> = graph.keys().collect();
    let index: BTreeMap<&PackageName, usize> =
        names.iter().enumerate().map(|(i, &n)| (n, i)).collect();
    let edges: Vec<Vec<usize>> = graph
        .values()
        .map(|after| after.iter().filter_map(|n| index.get(n).copied()).collect())
        .collect();
    let component = strongly_connected(&edges);
    let count = component.iter().max().map_or(0, |&c| c + 1);
    // Members of each component in name order; components keyed by their first member.
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); count];
    let mut waits_for: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); count];
    for (node, &c) in component.iter().enumerate() {
        members[c].push(node);
        for &after in &edges[node] {
            if component[after] != c {
                waits_for[c].insert(component[after]);
            }
        }
    }
    let mut done = vec![false; count];
    let mut out = Vec::with_capacity(names.len());
    for _ in 0..count {
        let next = (0..count)
            .filter(|&c| !done[c] && waits_for[c].iter().all(|&w| done[w]))
            .min_by_key(|&c| members[c][0])
            .expect("the components form a DAG");
        done[next] = true;
        out.extend(members[next].iter().map(|&n| names[n].clone()));
    }
    out
}

/// Tarjan's algorithm: the strongly connected component of each node.
fn strongly_connected(edges: &[Vec<usize>]) -> Vec<usize> {
    struct Tarjan<'a> {
        edges: &'a [Vec<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        component: Vec<usize>,
        components: usize,
    }
    impl Tarjan<'_> {
        fn visit(&mut self, v: usize) {
            self.index[v] = Some(self.next);
            self.low[v] = self.next;
            self.next += 1;
            self.stack.push(v);
            self.on_stack[v] = true;
            for &w in &self.edges[v] {
                match self.index[w] {
                    None => {
                        self.visit(w);
                        self.low[v] = self.low[v].min(self.low[w]);
                    }
                    Some(i) if self.on_stack[w] => self.low[v] = self.low[v].min(i),
                    Some(_) => {}
                }
            }
            if Some(self.low[v]) == self.index[v] {
                loop {
                    let w = self.stack.pop().expect("v is on the stack");
                    self.on_stack[w] = false;
                    self.component[w] = self.components;
                    if w == v {
                        break;
                    }
                }
                self.components += 1;
            }
        }
    }
    let n = edges.len();
    let mut t = Tarjan {
        edges,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        component: vec![0; n],
        components: 0,
    };
    for v in 0..n {
        if t.index[v].is_none() {
            t.visit(v);
        }
    }
    t.component
}

/// How much the package set version goes up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Bump {
    Patch,
    Minor,
    Major,
}

/// The bump from `previous` to a set of `compiler` and `packages`: **major** if the
/// compiler's major or minor rises, a package is removed or a package's major rises;
/// **minor** if the compiler's patch rises, a package is added or a package's minor rises;
/// **patch** otherwise (downgrades and a lower compiler included). The highest wins.
///
/// ```
/// use regis::package_set::{bump, Bump, PackageSet};
/// let previous: PackageSet = serde_json::from_str(
///     r#"{"version":"1.0.0","compiler":"0.15.15","published":"2026-01-01","packages":{"a":"1.0.0"}}"#,
/// ).unwrap();
/// let packages = [("a".parse().unwrap(), "1.1.0".parse().unwrap())].into();
/// assert_eq!(bump(&previous, &previous.compiler, &packages), Bump::Minor);
/// assert_eq!(bump(&previous, &"0.16.0".parse().unwrap(), &packages), Bump::Major);
/// ```
pub fn bump(
    previous: &PackageSet,
    compiler: &Version,
    packages: &BTreeMap<PackageName, Version>,
) -> Bump {
    let compiler_bump = match rise(&previous.compiler, compiler) {
        Some(Bump::Patch) => Bump::Minor,
        Some(_) => Bump::Major,
        None => Bump::Patch,
    };
    let removed_or_changed = previous.packages.iter().map(|(name, old)| {
        packages
            .get(name)
            .map_or(Bump::Major, |new| rise(old, new).unwrap_or(Bump::Patch))
    });
    let added = packages
        .keys()
        .filter(|n| !previous.packages.contains_key(*n))
        .map(|_| Bump::Minor);
    removed_or_changed
        .chain(added)
        .chain([compiler_bump])
        .max()
        .unwrap_or(Bump::Patch)
}

/// Which part rises from `old` to `new`, `None` if `new` is not higher.
fn rise(old: &Version, new: &Version) -> Option<Bump> {
    if new <= old {
        None
    } else if new.major() != old.major() {
        Some(Bump::Major)
    } else if new.minor() != old.minor() {
        Some(Bump::Minor)
    } else {
        Some(Bump::Patch)
    }
}

/// `previous` bumped: major `(M+1).0.0`, minor `M.(m+1).0`, patch `M.m.(p+1)`.
///
/// ```
/// use regis::package_set::{next_version, Bump};
/// let v = "80.7.3".parse().unwrap();
/// assert_eq!(next_version(&v, Bump::Major).to_string(), "81.0.0");
/// assert_eq!(next_version(&v, Bump::Minor).to_string(), "80.8.0");
/// assert_eq!(next_version(&v, Bump::Patch).to_string(), "80.7.4");
/// ```
pub fn next_version(previous: &Version, bump: Bump) -> Version {
    let up = |n: u32| {
        n.checked_add(1)
            .expect("package set version numbers stay below 2^32")
    };
    let (major, minor, patch) = (previous.major(), previous.minor(), previous.patch());
    match bump {
        Bump::Major => Version::new(up(major), 0, 0),
        Bump::Minor => Version::new(major, up(minor), 0),
        Bump::Patch => Version::new(major, minor, up(patch)),
    }
}

/// The set after `outcome`, published `today`, versioned by [`bump`] from `previous`;
/// `None` if nothing changed.
pub fn next_set(previous: &PackageSet, outcome: &Outcome, today: Date) -> Option<PackageSet> {
    if outcome.compiler == previous.compiler && outcome.packages == previous.packages {
        return None;
    }
    let bump = bump(previous, &outcome.compiler, &outcome.packages);
    Some(PackageSet {
        version: next_version(&previous.version, bump),
        compiler: outcome.compiler.clone(),
        published: today,
        packages: outcome.packages.clone(),
    })
}

/// The commit message for `next`, in the PureScript Registry's shape: `Update package set
/// to <version>`, then (each only when non-empty, separated by blank lines) the compiler
/// change, `New packages:`, `Updated packages:` and `Removed packages:`.
pub fn commit_message(previous: &PackageSet, next: &PackageSet) -> String {
    let mut added = Vec::new();
    let mut updated = Vec::new();
    let mut removed = Vec::new();
    for (name, new) in &next.packages {
        match previous.packages.get(name) {
            None => added.push(format!("{name}@{new}")),
            Some(old) if old != new => updated.push(format!("{name}@{old} -> {new}")),
            Some(_) => {}
        }
    }
    for (name, old) in &previous.packages {
        if !next.packages.contains_key(name) {
            removed.push(format!("{name}@{old}"));
        }
    }
    let mut out = format!("Update package set to {}\n", next.version);
    if previous.compiler != next.compiler {
        out.push_str(&format!(
            "\nCompiler: {} -> {}\n",
            previous.compiler, next.compiler
        ));
    }
    for (title, lines) in [
        ("New packages:", added),
        ("Updated packages:", updated),
        ("Removed packages:", removed),
    ] {
        if !lines.is_empty() {
            out.push('\n');
            out.push_str(title);
            out.push('\n');
            for line in lines {
                out.push_str("  - ");
                out.push_str(&line);
                out.push('\n');
            }
        }
    }
    out
}

/// What the daily updater proposes: every package's newest published version that is not
/// yanked when the set
/// does not already have it or a newer one, and, for a package not in the set, only when
/// every dependency of that version is in the set. With `check_compilers` (no build hook
/// decides), a version not recorded as building with the set's compiler is left out: it
/// could only be refused, again every day. Never a downgrade, a removal or a compiler
/// change; `None` when there is nothing to propose.
pub fn daily_proposal(
    current: &PackageSet,
    catalog: &Catalog,
    check_compilers: bool,
) -> Option<PackageSetUpdate> {
    let mut packages = BTreeMap::new();
    for name in catalog.names() {
        let Some(newest) = catalog.newest_unyanked(name) else {
            continue;
        };
        let Some(entry) = catalog.get(name, newest) else {
            continue;
        };
        if check_compilers && !entry.compilers.contains(&current.compiler) {
            continue;
        }
        let propose = match current.packages.get(name) {
            Some(have) => have < newest,
            None => entry
                .dependencies
                .iter()
                .all(|d| current.packages.contains_key(d)),
        };
        if propose {
            packages.insert(name.clone(), Some(newest.clone()));
        }
    }
    (!packages.is_empty()).then_some(PackageSetUpdate {
        compiler: None,
        packages,
    })
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use super::*;

    fn pn(s: &str) -> PackageName {
        s.parse().unwrap()
    }

    fn v(s: &str) -> Version {
        s.parse().unwrap()
    }

    fn packages(list: &[(&str, &str)]) -> BTreeMap<PackageName, Version> {
        list.iter().map(|(n, x)| (pn(n), v(x))).collect()
    }

    fn set(version: &str, compiler: &str, list: &[(&str, &str)]) -> PackageSet {
        PackageSet {
            version: v(version),
            compiler: v(compiler),
            published: "2026-01-01".parse().unwrap(),
            packages: packages(list),
        }
    }

    /// A catalog of `(name, version, dependencies)`, each building with 0.15.15 and 0.15.16.
    fn catalog(entries: &[(&str, &str, &[&str])]) -> Catalog {
        let mut c = Catalog::new();
        for (name, version, deps) in entries {
            c.insert(
                pn(name),
                v(version),
                deps.iter().map(|d| pn(d)).collect(),
                vec![v("0.15.15"), v("0.15.16")],
            );
        }
        c
    }

    fn update(compiler: Option<&str>, list: &[(&str, Option<&str>)]) -> PackageSetUpdate {
        PackageSetUpdate {
            compiler: compiler.map(v),
            packages: list.iter().map(|(n, x)| (pn(n), x.map(v))).collect(),
        }
    }

    #[test]
    fn an_update_the_set_already_reflects_is_recognised() {
        let s = set("1.0.0", "0.15.15", &[("a", "1.0.0"), ("b", "2.0.0")]);
        assert!(already_reflected(
            &s,
            &update(None, &[("a", Some("1.0.0"))])
        ));
        assert!(already_reflected(
            &s,
            &update(Some("0.15.15"), &[("b", Some("2.0.0")), ("gone", None)])
        ));
        assert!(!already_reflected(
            &s,
            &update(None, &[("a", Some("1.1.0"))])
        ));
        assert!(!already_reflected(&s, &update(None, &[("a", None)])));
        assert!(!already_reflected(&s, &update(Some("0.15.16"), &[])));
        assert!(
            !already_reflected(&s, &update(None, &[])),
            "an empty update is refused"
        );
    }

    /// Run [`apply_with_fallback`] with an extra check that never fails fatally, recording
    /// the attempts.
    fn apply(
        current: &PackageSet,
        changes: &[Change],
        catalog: &Catalog,
        check_compilers: bool,
        mut extra: impl FnMut(&Version, &BTreeMap<PackageName, Version>) -> Result<(), String>,
    ) -> (Outcome, Vec<(String, usize, usize)>) {
        let mut attempts = Vec::new();
        let outcome = apply_with_fallback::<Infallible>(
            current,
            changes,
            catalog,
            check_compilers,
            &mut |c, p| Ok(extra(c, p)),
            &mut |d, i, n| attempts.push((d.to_owned(), i, n)),
        )
        .unwrap();
        (outcome, attempts)
    }

    fn described(changes: &[Change]) -> Vec<String> {
        changes.iter().map(|c| c.to_string()).collect()
    }

    #[test]
    fn roundtrips_and_sorts() {
        let text = "{\n  \"version\": \"0.0.1\",\n  \"compiler\": \"0.15.10\",\n  \"published\": \"2024-01-01\",\n  \"packages\": {\n    \"effect\": \"4.0.0\",\n    \"prelude\": \"6.0.1\"\n  }\n}\n";
        let s = PackageSet::from_json("0.0.1.json", text).unwrap();
        assert_eq!(s.to_json(), text);
        assert_eq!(s.file_name(), "package-sets/0.0.1.json");
        let e =
            PackageSet::from_json("x.json", &text.replace("2024-01-01", "2024-1-1")).unwrap_err();
        insta::assert_snapshot!(e.to_string(), @"`x.json` is not a valid package set: invalid time `2024-1-1`: expected a date `YYYY-MM-DD` at line 4 column 25");
    }

    #[test]
    fn changes_describe_themselves() {
        let (a, x, y) = (pn("foo"), v("1.0.0"), v("1.1.0"));
        let all = [
            Change::Compiler {
                from: v("0.15.15"),
                to: v("0.15.16"),
            },
            Change::Add {
                name: a.clone(),
                version: x.clone(),
            },
            Change::Upgrade {
                name: a.clone(),
                from: x.clone(),
                to: y.clone(),
            },
            Change::Downgrade {
                name: a.clone(),
                from: y.clone(),
                to: x.clone(),
            },
            Change::Remove {
                name: a.clone(),
                version: x.clone(),
            },
        ];
        assert_eq!(
            described(&all),
            [
                "change the compiler from `0.15.15` to `0.15.16`",
                "add `foo@1.0.0`",
                "upgrade `foo` from `1.0.0` to `1.1.0`",
                "downgrade `foo` from `1.1.0` to `1.0.0`",
                "remove `foo@1.0.0`",
            ]
        );
        let trustee: Vec<bool> = all.iter().map(Change::needs_trustee).collect();
        assert_eq!(trustee, [true, false, false, true, true]);
        assert_eq!(all[0].name(), None);
        assert!(all[1..].iter().all(|c| c.name() == Some(&a)));
    }

    #[test]
    fn bump_rules() {
        let previous = set(
            "80.7.0",
            "0.15.15",
            &[("a", "1.2.3"), ("b", "0.3.1"), ("c", "2.0.0")],
        );
        let base = [("a", "1.2.3"), ("b", "0.3.1"), ("c", "2.0.0")];
        let with = |edits: &[(&str, Option<&str>)]| {
            let mut p = packages(&base);
            for (n, x) in edits {
                match x {
                    Some(x) => p.insert(pn(n), v(x)),
                    None => p.remove(&pn(n)),
                };
            }
            p
        };
        use Bump::*;
        /// A package and its new version, `None` to remove it.
        type Edit<'a> = (&'a str, Option<&'a str>);
        #[rustfmt::skip]
        let rows: &[(&str, &str, &[Edit], Bump)] = &[
            ("nothing changes", "0.15.15", &[], Patch),
            ("compiler patch rises", "0.15.16", &[], Minor),
            ("compiler minor rises", "0.16.0", &[], Major),
            ("compiler major rises", "1.0.0", &[], Major),
            ("compiler lowered", "0.15.14", &[], Patch),
            ("compiler lowered a minor", "0.14.20", &[], Patch),
            ("package added", "0.15.15", &[("d", Some("1.0.0"))], Minor),
            ("package removed", "0.15.15", &[("c", None)], Major),
            ("package patch rises", "0.15.15", &[("a", Some("1.2.4"))], Patch),
            ("package minor rises", "0.15.15", &[("a", Some("1.3.0"))], Minor),
            ("package major rises", "0.15.15", &[("a", Some("2.0.0"))], Major),
            ("0.x package minor rises", "0.15.15", &[("b", Some("0.4.0"))], Minor),
            ("0.x package to 1.0.0", "0.15.15", &[("b", Some("1.0.0"))], Major),
            ("patch downgrade", "0.15.15", &[("a", Some("1.2.2"))], Patch),
            ("minor downgrade", "0.15.15", &[("a", Some("1.0.0"))], Patch),
            ("major downgrade", "0.15.15", &[("c", Some("1.9.0"))], Patch),
            ("add + major rise", "0.15.15", &[("d", Some("1.0.0")), ("a", Some("2.0.0"))], Major),
            ("compiler patch + package patch", "0.15.16", &[("a", Some("1.2.4"))], Minor),
            ("downgrade + add", "0.15.15", &[("a", Some("1.0.0")), ("d", Some("1.0.0"))], Minor),
            ("removal + compiler patch", "0.15.16", &[("c", None)], Major),
            ("lower compiler + minor rise", "0.15.14", &[("a", Some("1.3.0"))], Minor),
            ("patch rise + downgrade", "0.15.15", &[("a", Some("1.2.4")), ("c", Some("1.0.0"))], Patch),
        ];
        for (what, compiler, edits, expected) in rows {
            assert_eq!(
                bump(&previous, &v(compiler), &with(edits)),
                *expected,
                "{what}"
            );
        }
    }

    #[test]
    fn next_set_bumps_and_is_none_when_nothing_changed() {
        let previous = set("80.7.0", "0.15.15", &[("a", "1.0.0")]);
        let mut outcome = Outcome {
            compiler: previous.compiler.clone(),
            packages: previous.packages.clone(),
            accepted: Vec::new(),
            rejected: Vec::new(),
            batch_passed: false,
        };
        let today: Date = "2026-08-18".parse().unwrap();
        assert_eq!(next_set(&previous, &outcome, today), None);
        outcome.packages.insert(pn("b"), v("1.0.0"));
        let next = next_set(&previous, &outcome, today).unwrap();
        assert_eq!(
            (next.version.to_string(), next.published.to_string()),
            ("80.8.0".into(), "2026-08-18".into())
        );
        assert_eq!(next.packages, outcome.packages);
    }

    #[test]
    fn classify_sorts_changes_and_no_ops() {
        let current = set("1.0.0", "0.15.15", &[("a", "1.0.0"), ("b", "2.0.0")]);
        let cat = catalog(&[
            ("a", "1.0.0", &[]),
            ("a", "1.1.0", &[]),
            ("b", "1.0.0", &[]),
            ("b", "2.0.0", &[]),
            ("c", "0.1.0", &[]),
        ]);
        let u = update(
            Some("0.15.15"),
            &[
                ("a", Some("1.1.0")),
                ("b", Some("2.0.0")),
                ("c", Some("0.1.0")),
            ],
        );
        let got = classify(&current, &u, &cat, Authority::Anyone).unwrap();
        assert_eq!(
            described(&got.changes),
            ["upgrade `a` from `1.0.0` to `1.1.0`", "add `c@0.1.0`"]
        );
        assert_eq!(got.unchanged, [pn("b")]);

        let u = update(
            Some("0.15.16"),
            &[("a", Some("1.1.0")), ("b", Some("1.0.0")), ("c", None)],
        );
        let e = classify(&current, &u, &cat, Authority::Anyone).unwrap_err();
        assert!(
            matches!(e, PackageSetUpdateError::Several(_)),
            "removing `c` (not in the set) and the trustee changes are both reported"
        );
        let u = update(
            Some("0.15.16"),
            &[("a", None), ("b", Some("1.0.0")), ("c", Some("0.1.0"))],
        );
        let got = classify(&current, &u, &cat, Authority::Trustee).unwrap();
        assert_eq!(
            described(&got.changes),
            [
                "change the compiler from `0.15.15` to `0.15.16`",
                "remove `a@1.0.0`",
                "downgrade `b` from `2.0.0` to `1.0.0`",
                "add `c@0.1.0`",
            ]
        );
    }

    #[test]
    fn classify_refusals() {
        let current = set("1.0.0", "0.15.15", &[("a", "1.0.0"), ("b", "2.0.0")]);
        let cat = catalog(&[
            ("a", "1.0.0", &[]),
            ("b", "1.0.0", &[]),
            ("b", "2.0.0", &[]),
            ("c", "0.1.0", &[]),
        ]);
        let refuse = |u: PackageSetUpdate| {
            classify(&current, &u, &cat, Authority::Anyone)
                .unwrap_err()
                .to_string()
        };
        insta::assert_snapshot!(
            refuse(update(Some("0.15.16"), &[("a", None), ("b", Some("1.0.0")), ("c", Some("0.1.0"))])),
            @"only a trustee may remove or downgrade packages or change the compiler, and this update asks to change the compiler from `0.15.15` to `0.15.16`, remove `a@1.0.0`, downgrade `b` from `2.0.0` to `1.0.0`: a trustee must submit it"
        );
        insta::assert_snapshot!(
            refuse(update(None, &[("b", Some("9.9.9"))])),
            @"`b@9.9.9` is not published: published versions are `1.0.0`, `2.0.0`"
        );
        insta::assert_snapshot!(
            refuse(update(None, &[("zzz", Some("1.0.0"))])),
            @"`zzz@1.0.0` is not published: no version of `zzz` is published"
        );
        insta::assert_snapshot!(
            refuse(update(None, &[("c", None)])),
            @"cannot remove `c`: it is not in package set `1.0.0`"
        );
        insta::assert_snapshot!(
            refuse(update(None, &[])),
            @"the package set update is empty: expected a `compiler` or at least one entry in `packages`"
        );
        insta::assert_snapshot!(
            refuse(update(Some("0.15.15"), &[("a", Some("1.0.0"))])),
            @"the package set update changes nothing: package set `1.0.0` already has the compiler and every package version it names"
        );
        insta::assert_snapshot!(
            refuse(update(None, &[("a", None), ("c", None), ("d", Some("1.0.0"))])),
            @"the package set update cannot be applied: cannot remove `c`: it is not in package set `1.0.0`; `d@1.0.0` is not published: no version of `d` is published; only a trustee may remove or downgrade packages or change the compiler, and this update asks to remove `a@1.0.0`: a trustee must submit it"
        );
    }

    #[test]
    fn problems_name_the_member_and_what_is_wrong() {
        let mut cat = catalog(&[("a", "1.0.0", &["b", "c"]), ("c", "1.0.0", &[])]);
        cat.insert(pn("d"), v("1.0.0"), vec![], vec![v("0.15.10")]);
        let p = packages(&[
            ("a", "1.0.0"),
            ("c", "1.0.0"),
            ("d", "1.0.0"),
            ("e", "1.0.0"),
        ]);
        assert_eq!(
            problems(&v("0.15.15"), &p, &cat, true),
            [
                "`a@1.0.0` depends on `b`, which is not in the set",
                "`d@1.0.0` does not build with compiler `0.15.15`: its metadata lists `0.15.10`",
                "`e@1.0.0` is not published",
            ]
        );
        assert_eq!(problems(&v("0.15.15"), &p, &cat, false).len(), 2);
        let old = ["0.14.9", "0.13.0", "0.14.0", "0.13.8"].map(v);
        assert_eq!(compilers(&old), "4 compilers, `0.13.0` to `0.14.9`");
        let many: Vec<String> = (0..12).map(|i| format!("p{i}")).collect();
        assert_eq!(
            summarize(&many),
            "p0; p1; p2; p3; p4; p5; p6; p7; p8; p9; and 2 more problems"
        );
    }

    #[test]
    fn a_passing_batch_is_one_attempt() {
        let current = set("1.0.0", "0.15.15", &[("a", "1.0.0")]);
        let cat = catalog(&[
            ("a", "1.0.0", &[]),
            ("a", "1.1.0", &[]),
            ("b", "1.0.0", &["a"]),
        ]);
        let u = update(None, &[("a", Some("1.1.0")), ("b", Some("1.0.0"))]);
        let changes = classify(&current, &u, &cat, Authority::Anyone)
            .unwrap()
            .changes;
        let mut calls = 0;
        let (out, attempts) = apply(&current, &changes, &cat, true, |_, _| {
            calls += 1;
            Ok(())
        });
        assert_eq!(calls, 1);
        assert!(out.batch_passed);
        assert_eq!(attempts, [("all 2 changes together".into(), 0, 2)]);
        assert_eq!(out.packages, packages(&[("a", "1.1.0"), ("b", "1.0.0")]));
        assert!(out.rejected.is_empty());
        assert_eq!(out.accepted.len(), 2);
    }

    #[test]
    fn a_failing_member_is_reported_and_the_others_kept() {
        let current = set("1.0.0", "0.15.15", &[("prelude", "1.0.0"), ("a", "1.0.0")]);
        let cat = catalog(&[
            ("prelude", "1.0.0", &[]),
            ("a", "1.0.0", &["prelude"]),
            ("a", "1.1.0", &["prelude"]),
            ("b", "1.0.0", &["prelude"]),
            ("c", "1.0.0", &["x"]),
        ]);
        let u = update(
            None,
            &[
                ("a", Some("1.1.0")),
                ("b", Some("1.0.0")),
                ("c", Some("1.0.0")),
            ],
        );
        let changes = classify(&current, &u, &cat, Authority::Anyone)
            .unwrap()
            .changes;
        let (out, attempts) = apply(&current, &changes, &cat, true, |_, _| Ok(()));
        assert!(!out.batch_passed);
        assert_eq!(
            attempts,
            [
                ("all 3 changes together".into(), 0, 3),
                ("upgrade `a` from `1.0.0` to `1.1.0`".into(), 1, 3),
                ("add `b@1.0.0`".into(), 2, 3),
                ("add `c@1.0.0`".into(), 3, 3),
            ]
        );
        assert_eq!(
            out.packages,
            packages(&[("prelude", "1.0.0"), ("a", "1.1.0"), ("b", "1.0.0")])
        );
        assert_eq!(described(&out.accepted).len(), 2);
        assert_eq!(out.rejected.len(), 1);
        assert_eq!(out.rejected[0].0.to_string(), "add `c@1.0.0`");
        insta::assert_snapshot!(out.rejected[0].1, @"`c@1.0.0` depends on `x`, which is not in the set");
    }

    #[test]
    fn a_single_failing_change_is_rejected_without_a_fallback() {
        let current = set("1.0.0", "0.15.15", &[]);
        let cat = catalog(&[("c", "1.0.0", &["x"])]);
        let changes = [Change::Add {
            name: pn("c"),
            version: v("1.0.0"),
        }];
        let (out, attempts) = apply(&current, &changes, &cat, true, |_, _| Ok(()));
        assert_eq!(attempts, [("add `c@1.0.0`".into(), 0, 1)]);
        assert!(!out.batch_passed && out.accepted.is_empty());
        assert_eq!(out.rejected.len(), 1);
    }

    #[test]
    fn updates_go_after_the_updates_they_depend_on() {
        // `a@2.0.0` only builds with `z@2.0.0` (the extra check plays the build), and `b`
        // needs the new package `y`; both sort before what they need, and the batch fails
        // because of `c`. Among changes free to go next, the first by name goes.
        let current = set("1.0.0", "0.15.15", &[("a", "1.0.0"), ("z", "1.0.0")]);
        let cat = catalog(&[
            ("a", "1.0.0", &["z"]),
            ("a", "2.0.0", &["z"]),
            ("z", "1.0.0", &[]),
            ("z", "2.0.0", &[]),
            ("b", "1.0.0", &["y"]),
            ("y", "1.0.0", &[]),
            ("c", "1.0.0", &["missing"]),
        ]);
        let u = update(
            None,
            &[
                ("a", Some("2.0.0")),
                ("b", Some("1.0.0")),
                ("c", Some("1.0.0")),
                ("y", Some("1.0.0")),
                ("z", Some("2.0.0")),
            ],
        );
        let changes = classify(&current, &u, &cat, Authority::Anyone)
            .unwrap()
            .changes;
        let build = |_: &Version, p: &BTreeMap<PackageName, Version>| {
            if p[&pn("a")] == v("2.0.0") && p[&pn("z")] < v("2.0.0") {
                Err("`a@2.0.0` does not build with `z@1.0.0`".to_owned())
            } else {
                Ok(())
            }
        };
        let (out, attempts) = apply(&current, &changes, &cat, true, build);
        let order: Vec<&str> = attempts[1..].iter().map(|a| a.0.as_str()).collect();
        assert_eq!(
            order,
            [
                "add `c@1.0.0`",
                "add `y@1.0.0`",
                "add `b@1.0.0`",
                "upgrade `z` from `1.0.0` to `2.0.0`",
                "upgrade `a` from `1.0.0` to `2.0.0`",
            ]
        );
        assert_eq!(
            described(&out.rejected.iter().map(|r| r.0.clone()).collect::<Vec<_>>()),
            ["add `c@1.0.0`"]
        );
        assert_eq!(
            out.packages,
            packages(&[
                ("a", "2.0.0"),
                ("b", "1.0.0"),
                ("y", "1.0.0"),
                ("z", "2.0.0")
            ])
        );
    }

    #[test]
    fn removals_go_dependents_first() {
        let current = set(
            "1.0.0",
            "0.15.15",
            &[("a", "1.0.0"), ("b", "1.0.0"), ("c", "1.0.0")],
        );
        let cat = catalog(&[
            ("a", "1.0.0", &[]),
            ("b", "1.0.0", &["a"]),
            ("c", "1.0.0", &[]),
            ("d", "1.0.0", &["missing"]),
        ]);
        let u = update(None, &[("a", None), ("b", None), ("d", Some("1.0.0"))]);
        let changes = classify(&current, &u, &cat, Authority::Trustee)
            .unwrap()
            .changes;
        let (out, _) = apply(&current, &changes, &cat, true, |_, _| Ok(()));
        assert!(!out.batch_passed);
        assert_eq!(
            described(&out.accepted),
            ["remove `b@1.0.0`", "remove `a@1.0.0`"]
        );
        assert_eq!(out.rejected[0].0.to_string(), "add `d@1.0.0`");
        assert_eq!(out.packages, packages(&[("c", "1.0.0")]));
    }

    #[test]
    fn extra_check_rejections_and_fatal_errors() {
        let current = set("1.0.0", "0.15.15", &[]);
        let cat = catalog(&[
            ("a", "1.0.0", &[]),
            ("b", "1.0.0", &[]),
            ("c", "1.0.0", &[]),
        ]);
        let u = update(
            None,
            &[
                ("a", Some("1.0.0")),
                ("b", Some("1.0.0")),
                ("c", Some("1.0.0")),
            ],
        );
        let changes = classify(&current, &u, &cat, Authority::Anyone)
            .unwrap()
            .changes;
        let (out, _) = apply(&current, &changes, &cat, true, |_, p| {
            if p.contains_key(&pn("b")) {
                Err("the build failed: `b` does not compile".into())
            } else {
                Ok(())
            }
        });
        assert_eq!(described(&out.accepted), ["add `a@1.0.0`", "add `c@1.0.0`"]);
        assert_eq!(
            out.rejected,
            [(
                changes[1].clone(),
                "the build failed: `b` does not compile".into()
            )]
        );

        // A fatal error stops at once and is returned, not counted as a rejection.
        let mut calls = 0;
        let e = apply_with_fallback(
            &current,
            &changes,
            &cat,
            true,
            &mut |_, p| {
                calls += 1;
                if p.len() == 1 {
                    Err("disk full")
                } else {
                    Ok(Err("no".into()))
                }
            },
            &mut |_, _, _| {},
        )
        .unwrap_err();
        assert_eq!((e, calls), ("disk full", 2));
    }

    #[test]
    fn a_compiler_change_is_tried_alone_first() {
        let current = set("1.0.0", "0.15.15", &[("a", "1.0.0"), ("b", "1.0.0")]);
        let mut cat = catalog(&[("b", "1.0.0", &[]), ("b", "1.1.0", &[])]);
        cat.insert(pn("a"), v("1.0.0"), vec![], vec![v("0.15.15")]);
        let changes = vec![
            Change::Compiler {
                from: v("0.15.15"),
                to: v("0.15.16"),
            },
            Change::Upgrade {
                name: pn("b"),
                from: v("1.0.0"),
                to: v("1.1.0"),
            },
        ];
        let (out, attempts) = apply(&current, &changes, &cat, true, |_, _| Ok(()));
        assert_eq!(
            attempts[1].0,
            "change the compiler from `0.15.15` to `0.15.16`"
        );
        assert_eq!(out.compiler, v("0.15.15"));
        assert_eq!(
            described(&out.accepted),
            ["upgrade `b` from `1.0.0` to `1.1.0`"]
        );
        insta::assert_snapshot!(out.rejected[0].1, @"`a@1.0.0` does not build with compiler `0.15.16`: its metadata lists `0.15.15`");
        // Without the compiler check (a build hook decides), the batch passes.
        let (out, _) = apply(&current, &changes, &cat, false, |_, _| Ok(()));
        assert!(out.batch_passed);
        assert_eq!(out.compiler, v("0.15.16"));
    }

    #[test]
    fn topological_order_survives_cycles() {
        let graph = |edges: &[(&str, &[&str])]| -> BTreeMap<PackageName, BTreeSet<PackageName>> {
            edges
                .iter()
                .map(|(n, after)| (pn(n), after.iter().map(|a| pn(a)).collect()))
                .collect()
        };
        let order = |g| {
            topological_order(&g)
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
        };
        // `a` waits for the cycle `c`/`d`, which waits for the cycle `e`/`f`.
        let g = graph(&[
            ("a", &["c"]),
            ("c", &["d"]),
            ("d", &["c", "e"]),
            ("e", &["f"]),
            ("f", &["e"]),
            ("b", &[]),
        ]);
        assert_eq!(order(g), ["b", "e", "f", "c", "d", "a"]);
        let g = graph(&[("x", &["x"]), ("m", &["x"]), ("n", &[])]);
        assert_eq!(order(g), ["n", "x", "m"]);
    }

    #[test]
    fn commit_message_shape() {
        let previous = set(
            "80.7.0",
            "0.15.15",
            &[("a", "1.0.0"), ("b", "1.0.0"), ("c", "1.0.0")],
        );
        let mut next = set(
            "81.0.0",
            "0.15.16",
            &[
                ("a", "2.0.0"),
                ("c", "1.0.0"),
                ("d", "0.1.0"),
                ("e", "3.0.0"),
            ],
        );
        insta::assert_snapshot!(commit_message(&previous, &next), @r"
        Update package set to 81.0.0

        Compiler: 0.15.15 -> 0.15.16

        New packages:
          - d@0.1.0
          - e@3.0.0

        Updated packages:
          - a@1.0.0 -> 2.0.0

        Removed packages:
          - b@1.0.0
        ");
        next.compiler = previous.compiler.clone();
        next.version = v("80.8.0");
        next.packages = packages(&[
            ("a", "1.0.0"),
            ("b", "1.0.0"),
            ("c", "1.0.0"),
            ("d", "0.1.0"),
        ]);
        assert_eq!(
            commit_message(&previous, &next),
            "Update package set to 80.8.0\n\nNew packages:\n  - d@0.1.0\n"
        );
    }

    #[test]
    fn a_yanked_version_joins_no_set_but_a_yanked_member_stays() {
        let mut c = catalog(&[
            ("a", "1.0.0", &[]),
            ("a", "1.1.0", &[]),
            ("a", "1.2.0", &[]),
            ("b", "1.0.0", &[]),
        ]);
        c.yank(&pn("a"), &v("1.0.0"), "broken");
        c.yank(&pn("a"), &v("1.2.0"), "leaks memory");
        let current = set("1.0.0", "0.15.15", &[("a", "1.0.0")]);
        // The member at a yanked version stays: naming it again changes nothing.
        let classified = classify(
            &current,
            &update(None, &[("a", Some("1.0.0")), ("b", Some("1.0.0"))]),
            &c,
            Authority::Anyone,
        )
        .unwrap();
        assert_eq!(classified.unchanged, [pn("a")]);
        // Upgrading to a yanked version is refused; to an unyanked one is not.
        let e = classify(
            &current,
            &update(None, &[("a", Some("1.2.0"))]),
            &c,
            Authority::Trustee,
        )
        .unwrap_err();
        insta::assert_snapshot!(e, @"`a@1.2.0` is yanked (leaks memory): a package set takes no yanked version (members yanked after they joined stay)");
        assert!(
            classify(
                &current,
                &update(None, &[("a", Some("1.1.0"))]),
                &c,
                Authority::Anyone
            )
            .is_ok()
        );
        // The daily proposal takes the newest version that is not yanked.
        let proposal = daily_proposal(&current, &c, true).unwrap();
        assert_eq!(proposal.packages[&pn("a")], Some(v("1.1.0")));
        c.yank(&pn("b"), &v("1.0.0"), "x");
        c.yank(&pn("a"), &v("1.1.0"), "x");
        assert_eq!(daily_proposal(&current, &c, true), None);
    }

    #[test]
    fn daily_proposal_adds_and_upgrades_only() {
        let current = set(
            "1.0.0",
            "0.15.15",
            &[("a", "1.0.0"), ("b", "2.0.0"), ("c", "1.0.0")],
        );
        let cat = catalog(&[
            ("a", "1.0.0", &[]),
            ("a", "1.1.0", &["new-dep"]),
            ("b", "1.5.0", &[]),
            ("c", "0.9.0", &[]),
            ("c", "1.0.0", &[]),
            ("d", "0.1.0", &[]),
            ("d", "0.2.0", &["a", "c"]),
            ("e", "1.0.0", &["f"]),
            ("f", "1.0.0", &[]),
        ]);
        let proposal = daily_proposal(&current, &cat, true).unwrap();
        assert_eq!(proposal.compiler, None);
        assert_eq!(
            proposal.packages,
            [
                (pn("a"), Some(v("1.1.0"))),
                (pn("d"), Some(v("0.2.0"))),
                (pn("f"), Some(v("1.0.0"))),
            ]
            .into()
        );
        let up_to_date = catalog(&[("a", "1.0.0", &[]), ("e", "1.0.0", &["f"])]);
        assert_eq!(daily_proposal(&current, &up_to_date, true), None);

        // Recorded only with another compiler: left out unless a build hook decides.
        let mut legacy = Catalog::new();
        legacy.insert(pn("g"), v("1.0.0"), vec![], vec![v("0.14.0")]);
        assert_eq!(daily_proposal(&current, &legacy, true), None);
        assert_eq!(
            daily_proposal(&current, &legacy, false).unwrap().packages,
            [(pn("g"), Some(v("1.0.0")))].into()
        );
    }

    #[test]
    fn catalog_keeps_versions_both_indexed_and_published() {
        let Some(dir) = crate::testing::purescript_fixtures() else {
            return;
        };
        let root = dir.join("package-set-samples");
        let index = crate::store::IndexDir::new(root.join("index"))
            .view()
            .unwrap();
        let metadata = crate::store::RegistryDir::new(root.join("registry"))
            .all_metadata()
            .unwrap();
        let cat = Catalog::from_index(&index, &metadata);
        let aff = pn("aff");
        assert!(cat.names().any(|n| n == &aff));
        for version in cat.versions(&aff) {
            assert!(metadata[&aff].published.contains_key(version));
            assert!(index.manifest(&aff, version).is_some());
        }
        assert_eq!(
            cat.newest(&aff),
            metadata[&aff].published.keys().next_back()
        );
    }

    /// Applying the real update `80.7.0 → 80.8.0` reproduces the real `80.8.0.json`.
    #[test]
    fn real_update_reproduces_80_8_0() {
        let Some(dir) = crate::testing::purescript_fixtures() else {
            return;
        };
        let root = dir.join("package-set-samples");
        let registry = crate::store::RegistryDir::new(root.join("registry"));
        let index = crate::store::IndexDir::new(root.join("index"))
            .view()
            .unwrap();
        let cat = Catalog::from_index(&index, &registry.all_metadata().unwrap());
        let (_, (_, current)) = registry.package_sets().unwrap().pop_last().unwrap();
        assert_eq!(current.version, v("80.7.0"));
        assert!(problems(&current.compiler, &current.packages, &cat, true).is_empty());

        let text = std::fs::read_to_string(root.join("update-80.7.0-to-80.8.0.json")).unwrap();
        let crate::payload::Operation::PackageSetUpdate(u) =
            crate::payload::Operation::parse(&text).unwrap()
        else {
            panic!("not a package set update")
        };
        let classified = classify(&current, &u, &cat, Authority::Anyone).unwrap();
        let (out, attempts) = apply(&current, &classified.changes, &cat, true, |_, _| Ok(()));
        assert!(out.batch_passed && out.rejected.is_empty(), "{out:?}");
        assert_eq!(attempts.len(), 1);

        let next = next_set(&current, &out, "2026-08-18".parse().unwrap()).unwrap();
        let expected = std::fs::read_to_string(root.join("80.8.0.json")).unwrap();
        assert_eq!(next.to_json(), expected);
        insta::assert_snapshot!(commit_message(&current, &next), @r"
        Update package set to 80.8.0

        Updated packages:
          - yoga-fastify-om@0.4.6 -> 0.4.7
          - yoga-fetch-om@0.7.0 -> 0.8.0
          - yoga-http-api@0.3.3 -> 0.3.4
        ");
    }
}
