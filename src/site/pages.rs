//! The site's pages, from askama templates compiled into the binary
//! (`src/site/templates/`): each page's values are prepared here as text, and the
//! templates escape every one of them (a README, already sanitised, is the one value
//! put in as HTML).

use askama::Template;
use rayon::prelude::*;

use super::output::Output;
use super::{Links, Model, Package, Readme, SiteError, Status};
use crate::schema::{PackageName, Timestamp, Version};

/// Recent publishes on the home page, and in the feed.
const RECENT_ON_HOME: usize = 30;
const RECENT_IN_FEED: usize = 50;
/// Packages `packages.html` lists itself; beyond this many it links a page per initial
/// (`browse/<initial>.html`) instead, so no list page grows with the whole registry.
pub(super) const LIST_PAGE_MAX: usize = 2_000;
/// Dependants listed on a package page (the count says how many there are).
const DEPENDANTS_SHOWN: usize = 500;

const STYLE: &str = include_str!("templates/style.css");
const SEARCH: &str = include_str!("templates/search.js");
const FAVICON: &str = include_str!("templates/favicon.svg");

/// What every page knows of the site.
struct Site<'a> {
    name: &'a str,
}

/// Writes every page, the search index, the feed and the static files; the number of
/// HTML pages.
pub(super) fn write_all(
    input: &Links<'_>,
    model: &Model,
    output: &Output,
) -> Result<usize, SiteError> {
    let site = Site { name: input.name };
    output.put("style.css", STYLE.as_bytes())?;
    output.put("search.js", SEARCH.as_bytes())?;
    output.put("favicon.svg", FAVICON.as_bytes())?;
    model
        .packages
        .par_iter()
        .map(|(name, package)| {
            let page = package_page(input, &site, model, package);
            output.put(&format!("packages/{name}.html"), render(&page).as_bytes())
        })
        .collect::<Result<(), SiteError>>()?;
    model
        .sets
        .par_iter()
        .enumerate()
        .map(|(i, set)| {
            let previous = i.checked_sub(1).map(|p| &model.sets[p]);
            let page = set_page(&site, model, set, previous);
            output.put(
                &format!("sets/{}.html", set.version),
                render(&page).as_bytes(),
            )
        })
        .collect::<Result<(), SiteError>>()?;
    let recent = recent(model, RECENT_IN_FEED.max(RECENT_ON_HOME));
    let home = HomePage {
        site: &site,
        root: "",
        packages: crate::text::thousands(model.packages.len() as u64),
        versions: crate::text::thousands(
            model
                .packages
                .values()
                .map(|p| p.metadata.published.len() as u64)
                .sum(),
        ),
        latest_set: model.sets.last().map(|s| s.version.to_string()),
        recent: recent.iter().take(RECENT_ON_HOME).cloned().collect(),
    };
    output.put("index.html", render(&home).as_bytes())?;
    let rows: Vec<ListRow> = model
        .packages
        .values()
        .map(|p| ListRow {
            name: p.name.to_string(),
            version: p.latest().map(ToString::to_string).unwrap_or_default(),
            description: description(p).map(str::to_owned),
        })
        .collect();
    let search: Vec<[&str; 3]> = rows
        .iter()
        .map(|r| {
            [
                r.name.as_str(),
                r.version.as_str(),
                r.description.as_deref().unwrap_or(""),
            ]
        })
        .collect();
    output.put(
        "search.json",
        serde_json::to_string(&search)
            .expect("strings serialise")
            .as_bytes(),
    )?;
    let list_pages = write_lists(&site, rows, output)?;
    let sets = SetsPage {
        site: &site,
        root: "",
        rows: model
            .sets
            .iter()
            .rev()
            .map(|s| SetRow {
                version: s.version.to_string(),
                compiler: s.compiler.to_string(),
                published: s.published.to_string(),
                members: s.packages.len(),
            })
            .collect(),
    };
    output.put("sets.html", render(&sets).as_bytes())?;
    output.put("feed.xml", render(&feed(input, &site, recent)).as_bytes())?;
    Ok(model.packages.len() + model.sets.len() + 2 + list_pages)
}

/// `packages.html`: every package, or past [`LIST_PAGE_MAX`] a link to each initial's page
/// (`browse/<initial>.html`, every package starting with it). The pages written.
fn write_lists(site: &Site<'_>, rows: Vec<ListRow>, output: &Output) -> Result<usize, SiteError> {
    if rows.len() <= LIST_PAGE_MAX {
        let page = PackagesPage {
            site,
            root: "",
            heading: "Packages".to_owned(),
            total: rows.len(),
            groups: vec![],
            rows,
        };
        output.put("packages.html", render(&page).as_bytes())?;
        return Ok(1);
    }
    let total = rows.len();
    let mut by_initial: std::collections::BTreeMap<char, Vec<ListRow>> = Default::default();
    for row in rows {
        let initial = row
            .name
            .chars()
            .next()
            .expect("a package name is not empty");
        by_initial.entry(initial).or_default().push(row);
    }
    let groups: Vec<(String, usize)> = by_initial
        .iter()
        .map(|(initial, rows)| (initial.to_string(), rows.len()))
        .collect();
    let written = groups.len();
    for (initial, rows) in by_initial {
        let page = PackagesPage {
            site,
            root: "../",
            heading: format!("Packages starting with {initial}"),
            total: rows.len(),
            groups: vec![],
            rows,
        };
        output.put(&format!("browse/{initial}.html"), render(&page).as_bytes())?;
    }
    let page = PackagesPage {
        site,
        root: "",
        heading: "Packages".to_owned(),
        total,
        groups,
        rows: vec![],
    };
    output.put("packages.html", render(&page).as_bytes())?;
    Ok(written + 1)
}

fn render(template: &impl Template) -> String {
    template
        .render()
        .expect("the templates write to a String, which cannot fail")
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage<'a> {
    site: &'a Site<'a>,
    root: &'static str,
    packages: String,
    versions: String,
    latest_set: Option<String>,
    recent: Vec<Recent>,
}

#[derive(Clone)]
struct Recent {
    name: String,
    version: String,
    time: String,
    date: String,
    description: Option<String>,
}

/// The `n` newest publishes, newest first (ties by name and version).
fn recent(model: &Model, n: usize) -> Vec<Recent> {
    let mut all: Vec<(&Timestamp, &PackageName, &Version)> = model
        .packages
        .values()
        .flat_map(|p| {
            p.metadata
                .published
                .iter()
                .map(move |(v, e)| (&e.published_time, &p.name, v))
        })
        .collect();
    let n = n.min(all.len());
    if n == 0 {
        return vec![];
    }
    let newest_first = |a: &(&Timestamp, &PackageName, &Version),
                        b: &(&Timestamp, &PackageName, &Version)| {
        b.0.cmp(a.0).then(a.1.cmp(b.1)).then(b.2.cmp(a.2))
    };
    all.select_nth_unstable_by(n - 1, newest_first);
    all.truncate(n);
    all.sort_by(newest_first);
    all.into_iter()
        .map(|(time, name, version)| Recent {
            name: name.to_string(),
            version: version.to_string(),
            time: time.to_string(),
            date: time.date().to_string(),
            description: model
                .packages
                .get(name)
                .and_then(|p| p.index.as_ref()?.get(version)?.description.clone()),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "packages.html")]
struct PackagesPage<'a> {
    site: &'a Site<'a>,
    root: &'static str,
    heading: String,
    total: usize,
    /// Each initial and how many packages start with it (instead of `rows`).
    groups: Vec<(String, usize)>,
    rows: Vec<ListRow>,
}

struct ListRow {
    name: String,
    version: String,
    description: Option<String>,
}

/// The description of the package's latest indexed version.
fn description(package: &Package) -> Option<&str> {
    let index = package.index.as_ref()?;
    let version = package.latest()?;
    index.get(version)?.description.as_deref()
}

#[derive(Template)]
#[template(path = "sets.html")]
struct SetsPage<'a> {
    site: &'a Site<'a>,
    root: &'static str,
    rows: Vec<SetRow>,
}

struct SetRow {
    version: String,
    compiler: String,
    published: String,
    members: usize,
}

#[derive(Template)]
#[template(path = "set.html")]
struct SetPage<'a> {
    site: &'a Site<'a>,
    root: &'static str,
    version: String,
    compiler: String,
    published: String,
    previous: Option<String>,
    compiler_change: Option<(String, String)>,
    changes: Vec<SetChange>,
    members: Vec<SetMember>,
}

struct SetChange {
    name: String,
    known: bool,
    text: String,
}

struct SetMember {
    name: String,
    version: String,
    known: bool,
}

fn set_page<'a>(
    site: &'a Site<'a>,
    model: &Model,
    set: &crate::package_set::PackageSet,
    previous: Option<&crate::package_set::PackageSet>,
) -> SetPage<'a> {
    let known = |name: &PackageName| model.packages.contains_key(name);
    let mut changes = Vec::new();
    if let Some(previous) = previous {
        let names: std::collections::BTreeSet<&PackageName> = previous
            .packages
            .keys()
            .chain(set.packages.keys())
            .collect();
        for name in names {
            let text = match (previous.packages.get(name), set.packages.get(name)) {
                (None, Some(new)) => format!("added at {new}"),
                (Some(old), None) => format!("removed (was {old})"),
                (Some(old), Some(new)) if old != new => format!("updated {old} → {new}"),
                _ => continue,
            };
            changes.push(SetChange {
                name: name.to_string(),
                known: known(name),
                text,
            });
        }
    }
    SetPage {
        site,
        root: "../",
        version: set.version.to_string(),
        compiler: set.compiler.to_string(),
        published: set.published.to_string(),
        previous: previous.map(|p| p.version.to_string()),
        compiler_change: previous
            .filter(|p| p.compiler != set.compiler)
            .map(|p| (p.compiler.to_string(), set.compiler.to_string())),
        changes,
        members: set
            .packages
            .iter()
            .map(|(name, version)| SetMember {
                name: name.to_string(),
                version: version.to_string(),
                known: known(name),
            })
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "package.html")]
struct PackagePage<'a> {
    site: &'a Site<'a>,
    root: &'static str,
    name: String,
    latest: Option<String>,
    description: Option<String>,
    deprecated: Option<DeprecatedView>,
    license: Option<String>,
    source: String,
    source_url: Option<String>,
    reference: Option<String>,
    owners: Vec<OwnerView>,
    /// The package's tags (`aliases`), ascending, and the versions they name.
    tags: Vec<TagView>,
    index_path: String,
    install: Vec<String>,
    versions: Vec<VersionView>,
    dependants: Vec<String>,
    dependants_total: usize,
    sets: Vec<SetRef>,
    readme: Readme,
}

struct DeprecatedView {
    message: String,
    alternative: Option<String>,
    time: String,
    date: String,
}

struct TagView {
    tag: String,
    version: String,
}

struct OwnerView {
    keytype: String,
    fingerprint: String,
    id: Option<String>,
}

struct VersionView {
    version: String,
    time: String,
    date: String,
    flags: Vec<Flag>,
    tarball: Option<TarballView>,
    reference: Option<String>,
    /// Whether its index line is there (an unpublished version's is gone).
    indexed: bool,
    dependencies: Vec<Dependency>,
}

struct Flag {
    label: &'static str,
    class: &'static str,
    why: Option<String>,
}

struct TarballView {
    url: Option<String>,
    size: String,
    bytes: u64,
    hash: String,
    status: String,
    status_class: &'static str,
    compilers: String,
}

struct Dependency {
    name: String,
    range: String,
    known: bool,
}

struct SetRef {
    set: String,
    version: String,
}

fn package_page<'a>(
    input: &Links<'_>,
    site: &'a Site<'a>,
    model: &Model,
    package: &Package,
) -> PackagePage<'a> {
    let m = &package.metadata;
    let name = &package.name;
    let latest = package.latest();
    let latest_manifest = latest.and_then(|v| package.index.as_ref()?.get(v));
    let mut versions: Vec<VersionView> = Vec::new();
    let all: std::collections::BTreeSet<&Version> =
        m.published.keys().chain(m.unpublished.keys()).collect();
    for version in all.into_iter().rev() {
        let manifest = package.index.as_ref().and_then(|i| i.get(version));
        let mut flags = Vec::new();
        if let Some(yanked) = m.yanked.get(version) {
            flags.push(Flag {
                label: "yanked",
                class: "warn",
                why: Some(format!("{} ({})", yanked.reason, yanked.time.date())),
            });
        }
        let (time, tarball) = match (m.published.get(version), m.unpublished.get(version)) {
            (Some(entry), _) => {
                let (status, status_class) = status_text(package.statuses.get(version));
                let tarball = TarballView {
                    url: input.download.map(|t| {
                        t.replace("{name}", name.as_str())
                            .replace("{version}", &version.to_string())
                    }),
                    size: size(entry.bytes),
                    bytes: entry.bytes,
                    hash: entry.hash.to_string(),
                    status,
                    status_class,
                    compilers: entry
                        .compilers
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                };
                (&entry.published_time, Some(tarball))
            }
            (None, Some(gone)) => {
                flags.push(Flag {
                    label: "unpublished",
                    class: "bad",
                    why: Some(format!(
                        "{} ({})",
                        gone.reason,
                        gone.unpublished_time.date()
                    )),
                });
                (&gone.published_time, None)
            }
            (None, None) => unreachable!("the version is one of the two"),
        };
        versions.push(VersionView {
            version: version.to_string(),
            time: time.to_string(),
            date: time.date().to_string(),
            flags,
            tarball,
            reference: manifest.map(|m| m.reference.clone()),
            indexed: manifest.is_some(),
            dependencies: manifest
                .map(|m| {
                    m.dependencies
                        .iter()
                        .map(|(dep, range)| Dependency {
                            name: dep.to_string(),
                            range: range.to_string(),
                            known: model.packages.contains_key(dep),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        });
    }
    let dependants = model.dependants.get(name).map_or(&[][..], Vec::as_slice);
    let (source, source_url) = source(input, package);
    PackagePage {
        site,
        root: "../",
        name: name.to_string(),
        latest: latest.map(ToString::to_string),
        description: latest_manifest.and_then(|m| m.description.clone()),
        deprecated: m.deprecated.as_ref().map(|d| DeprecatedView {
            message: d.message.clone(),
            alternative: d.alternative.as_ref().map(ToString::to_string),
            time: d.time.to_string(),
            date: d.time.date().to_string(),
        }),
        license: latest_manifest.map(|m| m.license.to_string()),
        source,
        source_url,
        reference: latest_manifest.map(|m| m.reference.clone()),
        owners: m
            .owners
            .iter()
            .flatten()
            .map(|o| OwnerView {
                keytype: o.keytype().to_owned(),
                fingerprint: crate::auth::fingerprint(o)
                    .unwrap_or_else(|| "(a key that does not parse)".to_owned()),
                id: o.id().map(str::to_owned),
            })
            .collect(),
        tags: (m.aliases.iter())
            .map(|(tag, version)| TagView {
                tag: tag.to_string(),
                version: version.to_string(),
            })
            .collect(),
        index_path: crate::index::entry_path(name),
        install: latest
            .map(|v| {
                vec![
                    format!("spago install {name}"),
                    format!(
                        "regis fetch {name}@{v} --from {}",
                        input.url.unwrap_or("<this site's URL>")
                    ),
                ]
            })
            .unwrap_or_default(),
        versions,
        dependants: dependants
            .iter()
            .take(DEPENDANTS_SHOWN)
            .map(ToString::to_string)
            .collect(),
        dependants_total: dependants.len(),
        sets: model
            .memberships
            .get(name)
            .map(|sets| {
                sets.iter()
                    .map(|(set, version)| SetRef {
                        set: set.to_string(),
                        version: version.to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        readme: model.readmes.get(name).cloned().unwrap_or_else(|| {
            if input.has_storage || latest.is_none() {
                Readme::None
            } else {
                Readme::Unshown("the site was built without the registry's storage".into())
            }
        }),
    }
}

/// The package's source for people, and its web page when it has one: a GitHub location,
/// or a git URL over https (credentials removed).
fn source(input: &Links<'_>, package: &Package) -> (String, Option<String>) {
    use crate::schema::Location;
    let location = &package.metadata.location;
    let subdir = location
        .subdir()
        .map(|s| format!("/{}", s.trim_matches('/')))
        .unwrap_or_default();
    match location {
        Location::GitHub { owner, repo, .. } => {
            let base = input.github_base.trim_end_matches('/');
            let url = match package
                .latest()
                .and_then(|v| super::source_base(input, package, v))
            {
                Some(at_ref) => at_ref.replacen("/blob/", "/tree/", 1),
                None => format!("{base}/{owner}/{repo}"),
            };
            (format!("{owner}/{repo}{subdir}"), Some(url))
        }
        Location::Git { url, .. } => {
            let shown = crate::schema::redact_url(url);
            let link = shown.starts_with("https://").then(|| shown.clone());
            (format!("{shown}{subdir}"), link)
        }
    }
}

/// A version's verification status for its page, and its style.
fn status_text(status: Option<&Status>) -> (String, &'static str) {
    match status {
        None | Some(Status::Unsigned) => (
            "not signed: this registry has no TUF repository".to_owned(),
            "",
        ),
        Some(Status::Signed { atom: Some(id) }) => (
            format!(
                "signed TUF target matching metadata; publish atom {id} verified on the package's chain"
            ),
            "good",
        ),
        Some(Status::Signed { atom: None }) => (
            "signed TUF target matching metadata (published before atoms were kept)".to_owned(),
            "good",
        ),
        Some(Status::Failed(why)) => (format!("did not verify: {why}"), "bad"),
        Some(Status::Unchecked(why)) => (why.clone(), ""),
    }
}

/// A size for people: `812 B`, `12.3 KB`, `4.1 MB`.
fn size(bytes: u64) -> String {
    match bytes {
        0..1_000 => format!("{bytes} B"),
        1_000..1_000_000 => format!("{:.1} KB", bytes as f64 / 1e3),
        _ => format!("{:.1} MB", bytes as f64 / 1e6),
    }
}

#[derive(Template)]
#[template(path = "feed.xml")]
struct Feed<'a> {
    site: &'a Site<'a>,
    id: String,
    updated: String,
    link_base: String,
    entries: Vec<Recent>,
}

/// The Atom feed of the newest publishes. Its `updated` is the newest publish's time (not
/// the build's), so a rebuild with nothing new leaves it as it was.
fn feed<'a>(input: &Links<'_>, site: &'a Site<'a>, recent: Vec<Recent>) -> Feed<'a> {
    let slug: String = input
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    Feed {
        site,
        id: format!("urn:regis:{slug}"),
        updated: recent
            .first()
            .map_or_else(|| "1970-01-01T00:00:00.000Z".to_owned(), |r| r.time.clone()),
        link_base: input.url.unwrap_or("").to_owned(),
        entries: recent.into_iter().take(RECENT_IN_FEED).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(size(812), "812 B");
        assert_eq!(size(12_345), "12.3 KB");
        assert_eq!(size(4_100_000), "4.1 MB");
    }
}
