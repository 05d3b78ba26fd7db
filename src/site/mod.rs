//! `regis site build OUT`: the registry as static files any web server, object store or
//! CDN serves, with nothing to operate.
//!
//! - **Pages** (`pages`): a page per package (`packages/<name>.html`: versions with their
//!   dates, flags, tarball hash and size, verification status and dependencies, owners,
//!   dependants, the package sets holding it, the source, an install snippet and the
//!   latest release's README), a page per package set (`sets/<version>.html`, with what
//!   changed from the set before), the home page (counts, recent publishes, a search over
//!   `search.json` with a few lines of JavaScript), every package as a plain list
//!   (`packages.html`, the search without JavaScript), `sets.html`, an Atom feed of recent
//!   publishes (`feed.xml`) and one stylesheet. Templates are compiled into the binary;
//!   the pages fetch nothing from elsewhere (a Content-Security-Policy says so).
//! - **A sparse index** for package managers: `config.json` (the `dl` download template,
//!   as cargo's sparse registries have it), `index/<path>`, `metadata/<name>.json` and
//!   `package-sets/<version>.json`, each byte for byte the registry's file.
//! - **Incremental** (`output`): a file is written only when its bytes change, so after
//!   one publish only the pages it touched are rewritten, and a static host's ETag and
//!   Last-Modified stay put for the rest; a README is rendered once per tarball hash and
//!   kept in `.regis-site/`.

mod output;
mod pages;
pub mod readme;
mod trust;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use rayon::prelude::*;

use crate::index::{IndexError, IndexFile};
use crate::metadata::{Metadata, MetadataError};
use crate::package_set::{PackageSet, PackageSetError};
use crate::schema::{PackageName, Sha256, Version};
use crate::storage::{Storage, StorageError, StorageKey};
use crate::store::{IndexDir, RegistryDir, StoreError};

pub use output::{STATE_DIR, Writes};
pub use readme::Readme;
pub use trust::Status;

/// What a site is built from.
pub struct Input<'a> {
    /// The registry checkout: `metadata/`, `package-sets/`, `tuf/`, atom heads.
    pub registry: &'a Path,
    /// The index checkout.
    pub index: &'a Path,
    /// Where tarballs are, for the READMEs (none: READMEs are not shown).
    pub storage: Option<&'a dyn Storage>,
    /// Storage as a directory, where the TUF repository is read to check each version
    /// (none: versions of a signed registry are shown as not checked).
    pub storage_dir: Option<&'a Path>,
    /// The registry's name, the site's title.
    pub name: &'a str,
    /// The GitHub web base URL, for links to a package's source.
    pub github_base: &'a str,
    /// The download URL template (`{name}`, `{version}`), for `config.json` and the pages'
    /// tarball links.
    pub download: Option<&'a str>,
    /// Where the site is served (with a trailing `/`), for the feed's absolute links.
    pub url: Option<&'a str>,
}

/// What the pages need of [`Input`], shareable across threads.
#[derive(Clone, Copy)]
pub(crate) struct Links<'a> {
    pub name: &'a str,
    pub github_base: &'a str,
    pub download: Option<&'a str>,
    pub url: Option<&'a str>,
    pub has_storage: bool,
}

impl<'a> Input<'a> {
    fn links(&self) -> Links<'a> {
        Links {
            name: self.name,
            github_base: self.github_base,
            download: self.download,
            url: self.url,
            has_storage: self.storage.is_some(),
        }
    }
}

/// What a build made.
#[derive(Debug, Clone, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Built {
    pub packages: usize,
    pub versions: usize,
    pub package_sets: usize,
    /// HTML pages produced.
    pub pages: usize,
    /// READMEs read from tarballs in this build (the others came from the cache).
    pub readmes_read: usize,
    /// What the build did to the files of the output directory.
    pub files: Writes,
    /// Versions that did not verify, one line each.
    pub problems: Vec<String>,
}

/// Why a site could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    #[error(
        "`{path}` holds files and is not a site regis built (no `.regis-site/` in it): expected an empty or new directory, or an earlier build's output; a build removes the files it did not write"
    )]
    NotASite { path: String },
    #[error("could not write `{path}`")]
    Write {
        path: String,
        #[source]
        cause: std::io::Error,
    },
    #[error("could not read `{path}`")]
    Read {
        path: String,
        #[source]
        cause: std::io::Error,
    },
    #[error(
        "the download URL `{template}` is not a template with `{{name}}` and `{{version}}`: expected e.g. `https://packages.example.org/{{name}}/{{version}}.tar.gz`"
    )]
    BadDownload { template: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Metadata(#[from] MetadataError),
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error(transparent)]
    PackageSet(#[from] PackageSetError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// One package as the site shows it.
pub(crate) struct Package {
    pub name: PackageName,
    pub metadata: Metadata,
    /// Its index file, when it has one.
    pub index: Option<IndexFile>,
    pub statuses: BTreeMap<Version, Status>,
}

impl Package {
    /// The version a page leads with: the newest published one not yanked, else the newest
    /// published one.
    pub fn latest(&self) -> Option<&Version> {
        let published = &self.metadata.published;
        published
            .keys()
            .rev()
            .find(|v| !self.metadata.yanked.contains_key(*v))
            .or_else(|| published.keys().next_back())
    }
}

/// Everything the pages are made from.
pub(crate) struct Model {
    pub packages: BTreeMap<PackageName, Package>,
    /// Ascending by version.
    pub sets: Vec<PackageSet>,
    /// For each package, the packages whose newest indexed version depends on it, by name.
    pub dependants: HashMap<PackageName, Vec<PackageName>>,
    /// For each package, the sets holding it and its version there, newest set first.
    pub memberships: HashMap<PackageName, Vec<(Version, Version)>>,
    pub readmes: HashMap<PackageName, Readme>,
}

/// Builds the site of `input` into `out`, writing only what changed since the last build
/// there.
pub fn build(input: &Input<'_>, out: &Path) -> Result<Built, SiteError> {
    if let Some(template) = input.download
        && crate::config::StorageUrl::new(template).is_err()
    {
        return Err(SiteError::BadDownload {
            template: crate::text::value(template).into_owned(),
        });
    }
    let output = output::Output::open(out)?;
    let registry = RegistryDir::new(input.registry);
    let mut built = Built::default();

    // The sparse index's files, copied as they are read (and parsed from those bytes).
    let metadata = copy_metadata(&registry, &output)?;
    let mut indexes = copy_index(&IndexDir::new(input.index), &output)?;
    let sets = copy_sets(&registry, &output)?;

    let trust = trust::Trust::load(input.registry, input.storage_dir);
    let mut packages = BTreeMap::new();
    for (name, metadata) in metadata {
        let statuses = trust.statuses(&registry, &name, &metadata);
        for (version, status) in &statuses {
            if let Status::Failed(why) = status {
                built.problems.push(format!("`{name}@{version}`: {why}"));
            }
        }
        let index = indexes.remove(&name);
        packages.insert(
            name.clone(),
            Package {
                name,
                metadata,
                index,
                statuses,
            },
        );
    }
    let readmes = readmes(input, &packages, &output, &mut built)?;
    let model = Model {
        dependants: dependants(&packages),
        memberships: memberships(&sets),
        packages,
        sets,
        readmes,
    };
    built.packages = model.packages.len();
    built.versions = model
        .packages
        .values()
        .map(|p| p.metadata.published.len())
        .sum();
    built.package_sets = model.sets.len();
    built.pages = pages::write_all(&input.links(), &model, &output)?;
    output.put(".nojekyll", b"")?;
    output.put("config.json", config_json(input).as_bytes())?;
    built.files = output.finish()?;
    Ok(built)
}

/// Every metadata file, copied to `metadata/` and parsed.
fn copy_metadata(
    registry: &RegistryDir,
    output: &output::Output,
) -> Result<Vec<(PackageName, Metadata)>, SiteError> {
    let files = registry.metadata_files()?;
    files
        .par_iter()
        .map(|(name, rel)| {
            let path = registry.root().join(rel);
            let bytes = read(&path)?;
            let text = String::from_utf8_lossy(&bytes);
            let metadata = Metadata::from_json(&rel.display().to_string(), &text)?;
            output.put(&format!("metadata/{name}.json"), &bytes)?;
            Ok((name.clone(), metadata))
        })
        .collect()
}

/// Every index file, copied to `index/` at its path and parsed.
fn copy_index(
    index: &IndexDir,
    output: &output::Output,
) -> Result<HashMap<PackageName, IndexFile>, SiteError> {
    let files = index.files()?;
    files
        .par_iter()
        .map(|rel| {
            let name = crate::store::index_file_name(rel)?;
            let bytes = read(&index.root().join(rel))?;
            let text = String::from_utf8_lossy(&bytes);
            let file = IndexFile::parse(rel, &name, &text)?;
            output.put(&format!("index/{rel}"), &bytes)?;
            Ok((name, file))
        })
        .collect()
}

/// Every package set, copied to `package-sets/`, ascending by version.
fn copy_sets(
    registry: &RegistryDir,
    output: &output::Output,
) -> Result<Vec<PackageSet>, SiteError> {
    let mut sets = Vec::new();
    for (_, (rel, set)) in registry.package_sets()? {
        let bytes = read(&registry.root().join(&rel))?;
        output.put(&format!("package-sets/{}.json", set.version), &bytes)?;
        sets.push(set);
    }
    Ok(sets)
}

fn read(path: &Path) -> Result<Vec<u8>, SiteError> {
    std::fs::read(path).map_err(|cause| SiteError::Read {
        path: path.display().to_string(),
        cause,
    })
}

/// `config.json`: what a client needs to read the sparse index. `dl` as cargo's sparse
/// registries (RFC 2789) have it, with regis's `{name}` and `{version}`; `storage`, the
/// download template's base when it has the storage layout (`<base>{name}/{version}.tar.gz`),
/// where the TUF repository and atoms are served.
fn config_json(input: &Input<'_>) -> String {
    let storage = input
        .download
        .and_then(|t| t.strip_suffix("{name}/{version}.tar.gz"));
    let config = serde_json::json!({
        "formatVersion": 1,
        "name": input.name,
        "dl": input.download,
        "index": "index/",
        "metadata": "metadata/",
        "packageSets": "package-sets/",
        "storage": storage,
        "tuf": crate::trust::repository_exists(input.registry),
    });
    let mut text = serde_json::to_string_pretty(&config).expect("JSON values serialise");
    text.push('\n');
    text
}

/// Each package's dependants: the packages whose newest indexed version depends on it.
fn dependants(packages: &BTreeMap<PackageName, Package>) -> HashMap<PackageName, Vec<PackageName>> {
    let mut out: HashMap<PackageName, Vec<PackageName>> = HashMap::new();
    for (name, package) in packages {
        let Some(newest) = package.index.as_ref().and_then(|i| i.manifests().last()) else {
            continue;
        };
        for dependency in newest.dependencies.keys() {
            out.entry(dependency.clone())
                .or_default()
                .push(name.clone());
        }
    }
    out // each list is by name: packages are visited in order
}

/// Each package's package sets, newest set first, with its version in each.
fn memberships(sets: &[PackageSet]) -> HashMap<PackageName, Vec<(Version, Version)>> {
    let mut out: HashMap<PackageName, Vec<(Version, Version)>> = HashMap::new();
    for set in sets.iter().rev() {
        for (name, version) in &set.packages {
            out.entry(name.clone())
                .or_default()
                .push((set.version.clone(), version.clone()));
        }
    }
    out
}

/// The README of each package's latest release: from the cache in `.regis-site/readme/`
/// (by tarball hash), else read from storage (many at a time) and cached.
fn readmes(
    input: &Input<'_>,
    packages: &BTreeMap<PackageName, Package>,
    output: &output::Output,
    built: &mut Built,
) -> Result<HashMap<PackageName, Readme>, SiteError> {
    let mut out = HashMap::new();
    let Some(storage) = input.storage else {
        return Ok(out);
    };
    let cache = output.state_path("readme");
    let cached = |hash: &Sha256| cache.join(format!("{}.txt", hex::encode(hash.digest())));
    let mut wanted: Vec<(&Package, &Version, &Sha256)> = Vec::new();
    for package in packages.values() {
        let Some(version) = package.latest() else {
            continue;
        };
        let hash = &package.metadata.published[version].hash;
        match std::fs::read_to_string(cached(hash))
            .ok()
            .and_then(|t| Readme::from_cache(&t))
        {
            Some(readme) => {
                out.insert(package.name.clone(), readme);
            }
            None => wanted.push((package, version, hash)),
        }
    }
    for chunk in wanted.chunks(64) {
        let keys: Vec<StorageKey> = chunk
            .iter()
            .map(|(p, v, _)| StorageKey::tarball(&p.name, v))
            .collect();
        let read = storage.get_many(&keys);
        let links = input.links();
        let rendered: Vec<(PackageName, Readme, bool)> = chunk
            .par_iter()
            .zip(read)
            .map(|((package, version, hash), bytes)| {
                let (readme, keep) = match bytes {
                    Ok(Some(bytes)) if Sha256::of(&bytes) == **hash => (
                        readme::from_tarball(
                            &bytes,
                            source_base(&links, package, version).as_deref(),
                        ),
                        true,
                    ),
                    Ok(Some(_)) => (
                        Readme::Unshown(
                            "storage holds other bytes than the hash metadata records".into(),
                        ),
                        false,
                    ),
                    Ok(None) => (
                        Readme::Unshown("storage does not hold the tarball".into()),
                        false,
                    ),
                    Err(e) => (
                        Readme::Unshown(format!(
                            "storage could not be read: {}",
                            crate::error_chain(&e)
                        )),
                        false,
                    ),
                };
                (package.name.clone(), readme, keep)
            })
            .collect();
        for ((_, _, hash), (name, readme, keep)) in chunk.iter().zip(rendered) {
            if keep {
                built.readmes_read += 1;
                output::write_atomic(
                    &cached(hash),
                    &output.state_path("tmp"),
                    readme.to_cache().as_bytes(),
                )?;
            }
            out.insert(name, readme);
        }
    }
    Ok(out)
}

/// The web page of a release's source at its ref, where a README's relative links point:
/// `<github>/<owner>/<repo>/blob/<ref>/<subdir>/` for a GitHub location.
pub(crate) fn source_base(
    input: &Links<'_>,
    package: &Package,
    version: &Version,
) -> Option<String> {
    let crate::schema::Location::GitHub { owner, repo, .. } = &package.metadata.location else {
        return None;
    };
    let reference = package.index.as_ref()?.get(version)?.reference.clone();
    let mut url = format!(
        "{}/{owner}/{repo}/blob/{reference}/",
        input.github_base.trim_end_matches('/')
    );
    if let Some(subdir) = package.metadata.location.subdir() {
        url.push_str(subdir.trim_matches('/'));
        url.push('/');
    }
    Some(url)
}
