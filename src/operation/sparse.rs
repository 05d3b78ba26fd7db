//! The client side of the sparse index a regis site serves (`regis list`, `regis fetch
//! --from <site>`): `config.json` read and checked (a regis site config of format
//! version 1), then a package's `metadata/<name>.json` and its index file, each byte for
//! byte the registry's, read over HTTP(S) or from the directory the site was built in.
//!
//! What a clone reader checks, the site's reader checks: a version listed in metadata
//! and the index alike (one only in either is reported), a version unpublished or absent
//! refused, a tarball whose size or SHA-256 is not the one metadata records refused. When
//! the registry signs (`"tuf": true`) and a root is pinned, a fetch also goes through
//! [`client::fetch`] against the site's `storage`, and the two must agree: the same
//! tarball, the metadata entry the signed target records (`custom.entry`), the index line
//! the publish atom records.
//!
//! Every read is capped ([`CONFIG_MAX_BYTES`], [`METADATA_MAX_BYTES`], [`INDEX_MAX_BYTES`];
//! a tarball at the size metadata records) and timed out (`client::http_client`, and a
//! deadline per request). Files read over HTTP are kept in a cache with their `ETag` and
//! `Last-Modified`, sent back as `If-None-Match`/`If-Modified-Since`: a file that did not
//! change costs a `304 Not Modified`.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::time::Duration;

use url::Url;

use crate::index::{IndexError, IndexFile};
use crate::manifest::Manifest;
use crate::metadata::{Deprecated, Metadata, MetadataError, Yanked};
use crate::schema::{Location, PackageName, Sha256, Timestamp, Version, VersionSpec};
use crate::storage::StorageKey;
use crate::store::{IndexDir, RegistryDir, StoreError};

use super::client::{self, Client, ClientError, Origin};

/// The file at a site's root that says it is one, and where its parts are.
pub const CONFIG_FILE: &str = "config.json";

/// The format of `config.json` this regis reads.
pub const FORMAT_VERSION: u64 = 1;

/// A `config.json` larger than this is refused (it holds a few short strings).
pub const CONFIG_MAX_BYTES: u64 = 64 * 1024;

/// A metadata file larger than this is refused (the PureScript Registry's largest is
/// about 18 KB).
pub const METADATA_MAX_BYTES: u64 = 8 << 20;

/// An index file larger than this is refused (the PureScript Registry's largest is about
/// 83 KB).
pub const INDEX_MAX_BYTES: u64 = 32 << 20;

/// How long reading one sparse file may take, start to end.
const FILE_DEADLINE: Duration = Duration::from_secs(120);

/// How long downloading one tarball may take, start to end.
const TARBALL_DEADLINE: Duration = Duration::from_secs(900);

/// Why a site could not be read, or a release from it was refused.
#[derive(Debug, thiserror::Error)]
pub enum SparseError {
    #[error(
        "`{from}` is not a regis site: it has no `config.json`; expected the URL or directory of what `regis site build` wrote"
    )]
    NoSite { from: String },
    #[error(
        "`{file}` is not a regis site config: {reason}; expected the JSON object `regis site build` writes, with `formatVersion` 1, `name`, `dl`, `index`, `metadata`, `packageSets`, `storage` and `tuf`"
    )]
    NotASiteConfig { file: String, reason: String },
    #[error(
        "`{file}` is a regis site config of format version {found}: this regis reads format version 1 (a newer regis reads the newer format)"
    )]
    SiteFormat { file: String, found: String },
    #[error("could not read `{url}`: {reason}")]
    Http { url: String, reason: String },
    #[error("could not read `{path}`")]
    Read {
        path: String,
        #[source]
        cause: std::io::Error,
    },
    #[error("could not keep a copy of what was read in `{path}`")]
    Cache {
        path: String,
        #[source]
        cause: std::io::Error,
    },
    #[error("`{file}` is larger than {max} bytes, the cap on {what}")]
    TooLarge {
        file: String,
        max: String,
        what: String,
    },
    #[error("`{name}` is not a package of the registry at `{from}`: `{file}` is missing")]
    NoPackage {
        name: PackageName,
        from: String,
        file: String,
    },
    #[error("`{name}@{version}` was unpublished on {date}: {reason}")]
    Unpublished {
        name: PackageName,
        version: Version,
        date: String,
        reason: String,
    },
    #[error("`{name}` has no version `{version}`: {versions}")]
    UnknownVersion {
        name: PackageName,
        version: Version,
        versions: String,
    },
    #[error(
        "`{name}@{version}` is published in `{metadata}` but not in the index file `{index}`: the registry's metadata and index disagree"
    )]
    NotIndexed {
        name: PackageName,
        version: Version,
        metadata: String,
        index: String,
    },
    #[error(
        "the site `{from}` names no download URL (`dl` is null in its `config.json`): it was built without `--dl` and without a `storageUrl` in regis.dhall"
    )]
    NoDownload { from: String },
    #[error(
        "the tarball of `{name}@{version}` is missing at `{url}`, and metadata records it published"
    )]
    TarballMissing {
        name: PackageName,
        version: Version,
        url: String,
    },
    #[error(
        "the tarball of `{name}@{version}` at `{url}` is {found} bytes, metadata records {expected}"
    )]
    TarballSize {
        name: PackageName,
        version: Version,
        url: String,
        found: String,
        expected: String,
    },
    #[error(
        "the tarball of `{name}@{version}` at `{url}` hashes to `{found}`, metadata records `{expected}`"
    )]
    TarballHash {
        name: PackageName,
        version: Version,
        url: String,
        found: Sha256,
        expected: Sha256,
    },
    #[error(
        "the site `{from}` names no storage URL (`storage` is null in its `config.json`), where the registry's TUF repository is read: its `dl` does not end in `{{name}}/{{version}}.tar.gz`"
    )]
    NoStorage { from: String },
    #[error("the site and the registry's signed metadata disagree on `{name}@{version}`: {what}")]
    Disagree {
        name: PackageName,
        version: Version,
        what: String,
    },
    #[error(transparent)]
    Metadata(#[from] MetadataError),
    #[error(transparent)]
    Resolve(#[from] crate::metadata::ResolveRefused),
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Client(#[from] ClientError),
}

/// A site's `config.json`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteConfig {
    /// The registry's name.
    pub name: String,
    /// The tarballs' download URL template (`{name}`, `{version}`).
    pub dl: Option<crate::config::StorageUrl>,
    /// Where index files are, relative to the site (`index/`).
    pub index: String,
    /// Where metadata files are, relative to the site (`metadata/`).
    pub metadata: String,
    /// Where package sets are, relative to the site (`package-sets/`).
    pub package_sets: String,
    /// Where storage is served (the TUF repository, atoms), with a trailing `/`.
    pub storage: Option<String>,
    /// Whether the registry has a TUF repository.
    pub tuf: bool,
}

/// `config.json` as written; unknown keys are left for newer readers.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSiteConfig {
    name: String,
    dl: Option<String>,
    index: String,
    metadata: String,
    package_sets: String,
    storage: Option<String>,
    tuf: bool,
}

impl SiteConfig {
    /// The `config.json` at `file` (for messages): a JSON object with `formatVersion` 1
    /// and every field of the format, its directories relative paths ending in `/`, `dl`
    /// a download template.
    pub fn parse(file: &str, bytes: &[u8]) -> Result<SiteConfig, SparseError> {
        let not = |reason: String| SparseError::NotASiteConfig {
            file: file.to_owned(),
            reason,
        };
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
            not(format!(
                "not JSON ({})",
                crate::text::message(&e.to_string())
            ))
        })?;
        let Some(object) = value.as_object() else {
            return Err(not("not a JSON object".to_owned()));
        };
        match object.get("formatVersion") {
            None => return Err(not("it has no `formatVersion`".to_owned())),
            Some(v) if v.as_u64() == Some(FORMAT_VERSION) => {}
            Some(v) => {
                return Err(SparseError::SiteFormat {
                    file: file.to_owned(),
                    found: crate::text::value(&v.to_string()).into_owned(),
                });
            }
        }
        let raw: RawSiteConfig = serde_json::from_value(value)
            .map_err(|e| not(crate::text::message(&e.to_string()).into_owned()))?;
        for (key, path) in [
            ("index", &raw.index),
            ("metadata", &raw.metadata),
            ("packageSets", &raw.package_sets),
        ] {
            if !is_relative_dir(path) {
                return Err(not(format!(
                    "`{key}` is {}, not a relative path ending in `/`",
                    crate::text::echo(path)
                )));
            }
        }
        let dl = match &raw.dl {
            None => None,
            Some(t) => Some(crate::config::StorageUrl::new(t).map_err(|expected| {
                not(format!("`dl` is {}, not {expected}", crate::text::echo(t)))
            })?),
        };
        let storage = match raw.storage {
            None => None,
            Some(s) if s.starts_with("http://") || s.starts_with("https://") => {
                Url::parse(&s)
                    .map_err(|e| not(format!("`storage` is {}: {e}", crate::text::echo(&s))))?;
                Some(if s.ends_with('/') { s } else { format!("{s}/") })
            }
            Some(s) => {
                return Err(not(format!(
                    "`storage` is {}, not an http(s) URL",
                    crate::text::echo(&s)
                )));
            }
        };
        Ok(SiteConfig {
            name: raw.name,
            dl,
            index: raw.index,
            metadata: raw.metadata,
            package_sets: raw.package_sets,
            storage,
            tuf: raw.tuf,
        })
    }
}

/// `a/`, `a/b/`: relative, down only, ending in `/`.
fn is_relative_dir(path: &str) -> bool {
    let Some(inner) = path.strip_suffix('/') else {
        return false;
    };
    !inner.is_empty()
        && inner.split('/').all(|part| {
            !(part.is_empty() || part == "." || part == "..")
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        })
}

/// What a client asked a site for over HTTP in one run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Requests {
    /// Files the server sent (`200`).
    pub fetched: u64,
    /// Files the server said had not changed since the cached copy (`304`).
    pub not_modified: u64,
}

/// A regis site, read through its `config.json`.
pub struct Site {
    origin: Origin,
    pub config: SiteConfig,
    runtime: tokio::runtime::Runtime,
    http: reqwest::Client,
    /// Where files read over HTTP are kept with their validators (none for a directory).
    cache: Option<PathBuf>,
    requests: Cell<Requests>,
}

/// What one read found.
enum Got {
    Missing,
    Bytes(Vec<u8>),
}

/// A cached file's validators, as the server sent them.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Validators {
    etag: Option<String>,
    last_modified: Option<String>,
}

impl Site {
    /// The site at `from` (an http(s) URL, or a directory), or `None` when it has no
    /// `config.json` (a registry's storage has none). A `config.json` that is not a regis
    /// site config of format 1 is refused. Files read over HTTP are cached below `state`'s
    /// `sparse/` (default: the client state directory's), in a directory of their own for
    /// each site.
    pub fn open(from: &str, state: Option<&Path>) -> Result<Option<Site>, SparseError> {
        let origin = Origin::parse(from)?;
        let http_site = matches!(origin.base().scheme(), "http" | "https");
        let cache = http_site
            .then(|| {
                let base = match state {
                    Some(state) => Some(state.to_path_buf()),
                    None => client::state_home(),
                };
                base.map(|b| b.join("sparse").join(origin.id()))
            })
            .flatten();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a current-thread runtime builds");
        let mut site = Site {
            origin,
            config: SiteConfig {
                name: String::new(),
                dl: None,
                index: String::new(),
                metadata: String::new(),
                package_sets: String::new(),
                storage: None,
                tuf: false,
            },
            runtime,
            http: client::http_client(),
            cache,
            requests: Cell::new(Requests::default()),
        };
        let what = "a site's `config.json`";
        let Got::Bytes(bytes) = site.get(CONFIG_FILE, CONFIG_MAX_BYTES, what)? else {
            return Ok(None);
        };
        site.config = SiteConfig::parse(&site.shown(CONFIG_FILE), &bytes)?;
        Ok(Some(site))
    }

    /// [`Site::open`], refusing a `from` without `config.json`.
    pub fn require(from: &str, state: Option<&Path>) -> Result<Site, SparseError> {
        Site::open(from, state)?.ok_or_else(|| SparseError::NoSite {
            from: crate::schema::redact_url(from),
        })
    }

    /// The site as given.
    pub fn from(&self) -> &str {
        self.origin.shown()
    }

    /// What was asked of the server so far.
    pub fn requests(&self) -> Requests {
        self.requests.get()
    }

    /// The storage URL the site names, for the TUF repository.
    pub fn storage(&self) -> Result<&str, SparseError> {
        self.config
            .storage
            .as_deref()
            .ok_or_else(|| SparseError::NoStorage {
                from: self.from().to_owned(),
            })
    }

    /// `rel` below the site, as a message shows it: a path, or the URL without credentials.
    fn shown(&self, rel: &str) -> String {
        let url = self.url(rel);
        match url.to_file_path() {
            Ok(path) if url.scheme() == "file" => path.display().to_string(),
            _ => crate::schema::redact_url(url.as_str()),
        }
    }

    fn url(&self, rel: &str) -> Url {
        self.origin
            .base()
            .join(rel)
            .expect("a relative path below the site joins")
    }

    /// The file at `rel`, at most `max` bytes (`what` it is, for the refusal).
    fn get(&self, rel: &str, max: u64, what: &str) -> Result<Got, SparseError> {
        let url = self.url(rel);
        if url.scheme() == "file" {
            let path = url
                .to_file_path()
                .expect("a file URL made from a directory");
            return read_file(&path, max, what);
        }
        let cached = self.cache.as_ref().and_then(|dir| cached(dir, rel));
        let mut request = self.http.get(url.clone()).timeout(FILE_DEADLINE);
        if let Some((validators, _)) = &cached {
            if let Some(etag) = &validators.etag {
                request = request.header(reqwest::header::IF_NONE_MATCH, etag);
            }
            if let Some(date) = &validators.last_modified {
                request = request.header(reqwest::header::IF_MODIFIED_SINCE, date);
            }
        }
        let shown = self.shown(rel);
        let failed = |reason: String| SparseError::Http {
            url: shown.clone(),
            reason,
        };
        let response = self
            .runtime
            .block_on(async { request.send().await })
            .map_err(|e| failed(reqwest_reason(&e)))?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_MODIFIED
            && let Some((_, bytes)) = cached
        {
            self.count(|r| r.not_modified += 1);
            return Ok(Got::Bytes(bytes));
        }
        if missing(status) {
            return Ok(Got::Missing);
        }
        if !status.is_success() {
            return Err(failed(format!("the server answered `{status}`")));
        }
        let validators = Validators {
            etag: header(&response, reqwest::header::ETAG),
            last_modified: header(&response, reqwest::header::LAST_MODIFIED),
        };
        let too_large = || SparseError::TooLarge {
            file: shown.clone(),
            max: crate::text::thousands(max),
            what: what.to_owned(),
        };
        let bytes = self
            .runtime
            .block_on(read_body(response, max))
            .map_err(|e| failed(reqwest_reason(&e)))?
            .ok_or_else(too_large)?;
        self.count(|r| r.fetched += 1);
        if let Some(dir) = &self.cache {
            keep(dir, rel, &bytes, &validators)?;
        }
        Ok(Got::Bytes(bytes))
    }

    fn count(&self, f: impl FnOnce(&mut Requests)) {
        let mut requests = self.requests.get();
        f(&mut requests);
        self.requests.set(requests);
    }

    /// `name`'s metadata, and its index file with its text (none when it has none).
    fn package(&self, name: &PackageName) -> Result<Package, SparseError> {
        let metadata_rel = format!("{}{name}.json", self.config.metadata);
        let metadata_file = self.shown(&metadata_rel);
        let what = "a metadata file";
        let Got::Bytes(bytes) = self.get(&metadata_rel, METADATA_MAX_BYTES, what)? else {
            return Err(SparseError::NoPackage {
                name: name.clone(),
                from: self.from().to_owned(),
                file: metadata_file,
            });
        };
        let metadata = Metadata::from_json(&metadata_file, &String::from_utf8_lossy(&bytes))?;
        let index_rel = format!("{}{}", self.config.index, crate::index::entry_path(name));
        let index_file = self.shown(&index_rel);
        let index = match self.get(&index_rel, INDEX_MAX_BYTES, "an index file")? {
            Got::Missing => None,
            Got::Bytes(bytes) => {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                Some((IndexFile::parse(&index_file, name, &text)?, text))
            }
        };
        Ok(Package {
            name: name.clone(),
            metadata,
            metadata_file,
            index,
            index_file,
        })
    }

    /// `name`'s versions as the site lists them.
    pub fn list(&self, name: &PackageName) -> Result<Listing, SparseError> {
        let package = self.package(name)?;
        Ok(listing(
            name,
            &package.metadata,
            package.index.as_ref().map(|(file, _)| file),
        ))
    }

    /// Downloads `url`, at most `max` bytes; `None` when it is missing.
    fn download(&self, url: &str, max: u64) -> Result<Option<Vec<u8>>, DownloadError> {
        self.runtime.block_on(async {
            let response = self
                .http
                .get(url)
                .timeout(TARBALL_DEADLINE)
                .send()
                .await
                .map_err(|e| DownloadError::Failed(reqwest_reason(&e)))?;
            let status = response.status();
            if missing(status) {
                return Ok(None);
            }
            if !status.is_success() {
                return Err(DownloadError::Failed(format!(
                    "the server answered `{status}`"
                )));
            }
            match read_body(response, max).await {
                Ok(Some(bytes)) => Ok(Some(bytes)),
                Ok(None) => Err(DownloadError::TooLarge),
                Err(e) => Err(DownloadError::Failed(reqwest_reason(&e))),
            }
        })
    }
}

enum DownloadError {
    TooLarge,
    Failed(String),
}

/// One package as a site or the checkouts hold it.
struct Package {
    name: PackageName,
    metadata: Metadata,
    metadata_file: String,
    /// The index file, parsed, and its text.
    index: Option<(IndexFile, String)>,
    index_file: String,
}

/// A file below a site's directory, at most `max` bytes.
fn read_file(path: &Path, max: u64, what: &str) -> Result<Got, SparseError> {
    use std::io::Read as _;
    let read = |cause| SparseError::Read {
        path: path.display().to_string(),
        cause,
    };
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Got::Missing),
        Err(e) => return Err(read(e)),
    };
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes).map_err(read)?;
    if bytes.len() as u64 > max {
        return Err(SparseError::TooLarge {
            file: path.display().to_string(),
            max: crate::text::thousands(max),
            what: what.to_owned(),
        });
    }
    Ok(Got::Bytes(bytes))
}

/// Statuses that say a file is not there (object stores answer 403 for a missing key).
fn missing(status: reqwest::StatusCode) -> bool {
    use reqwest::StatusCode;
    [
        StatusCode::NOT_FOUND,
        StatusCode::FORBIDDEN,
        StatusCode::GONE,
    ]
    .contains(&status)
}

fn header(response: &reqwest::Response, name: reqwest::header::HeaderName) -> Option<String> {
    let value = response.headers().get(name)?.to_str().ok()?;
    Some(value.to_owned())
}

/// The body, or `None` once it is longer than `max` (the rest is not read).
async fn read_body(
    mut response: reqwest::Response,
    max: u64,
) -> Result<Option<Vec<u8>>, reqwest::Error> {
    if response.content_length().is_some_and(|n| n > max) {
        return Ok(None);
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        bytes.extend_from_slice(&chunk);
        if bytes.len() as u64 > max {
            return Ok(None);
        }
    }
    Ok(Some(bytes))
}

/// reqwest's error, one line, without the layers that only repeat the URL or say
/// "client error": a timeout, a connection that could not be made and why, or the causes.
fn reqwest_reason(e: &reqwest::Error) -> String {
    let mut causes: Vec<String> = Vec::new();
    let mut at = std::error::Error::source(e);
    while let Some(error) = at {
        causes.push(error.to_string());
        at = error.source();
    }
    let reason = if e.is_timeout() {
        "no answer in time (timed out)".to_owned()
    } else if e.is_connect() {
        let why = causes.last().map(|c| format!(": {c}")).unwrap_or_default();
        format!("could not connect{why}")
    } else if causes.is_empty() {
        e.to_string()
    } else {
        causes.join(": ")
    };
    crate::text::message(&reason).into_owned()
}

/// The cached copy of `rel` and its validators, when both are kept.
fn cached(dir: &Path, rel: &str) -> Option<(Validators, Vec<u8>)> {
    let validators = std::fs::read(validators_path(dir, rel)).ok()?;
    let validators: Validators = serde_json::from_slice(&validators).ok()?;
    if validators.etag.is_none() && validators.last_modified.is_none() {
        return None;
    }
    let bytes = std::fs::read(dir.join("files").join(rel)).ok()?;
    Some((validators, bytes))
}

fn validators_path(dir: &Path, rel: &str) -> PathBuf {
    dir.join("validators").join(format!("{rel}.json"))
}

/// Keeps `bytes` as the copy of `rel`, then its validators.
fn keep(dir: &Path, rel: &str, bytes: &[u8], validators: &Validators) -> Result<(), SparseError> {
    let write = |path: PathBuf, bytes: &[u8]| {
        let failed = |cause| SparseError::Cache {
            path: path.display().to_string(),
            cause,
        };
        let parent = path.parent().expect("below the cache directory");
        std::fs::create_dir_all(parent).map_err(failed)?;
        let mut temp = tempfile::NamedTempFile::new_in(parent).map_err(failed)?;
        std::io::Write::write_all(&mut temp, bytes).map_err(failed)?;
        temp.persist(&path).map_err(|e| failed(e.error))?;
        Ok(())
    };
    let _ = std::fs::remove_file(validators_path(dir, rel));
    if validators.etag.is_none() && validators.last_modified.is_none() {
        return Ok(());
    }
    write(dir.join("files").join(rel), bytes)?;
    let text = serde_json::to_vec(validators).expect("strings serialise");
    write(validators_path(dir, rel), &text)
}

/// A package's versions, newest first, with what the registry says of each and of the
/// package, and what its metadata and index disagree on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    pub name: PackageName,
    pub location: Location,
    pub deprecated: Option<Deprecated>,
    pub versions: Vec<Listed>,
    /// A published version missing from the index, an indexed one metadata does not list
    /// as published: one line each.
    pub problems: Vec<String>,
}

/// One version of a [`Listing`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub version: Version,
    pub published_time: Timestamp,
    /// The tarball's size and hash (none for an unpublished version).
    pub tarball: Option<(u64, Sha256)>,
    /// Whether the index file has the version.
    pub indexed: bool,
    pub yanked: Option<Yanked>,
    /// Why and when it was unpublished.
    pub unpublished: Option<(String, Timestamp)>,
    /// The tags metadata's `aliases` point at it, ascending.
    pub tags: Vec<crate::schema::Tag>,
}

/// The listing of `name` from its metadata and its index file (pure).
pub fn listing(name: &PackageName, metadata: &Metadata, index: Option<&IndexFile>) -> Listing {
    let indexed = |v: &Version| index.is_some_and(|i| i.get(v).is_some());
    let mut versions: Vec<Listed> = Vec::new();
    let mut problems = Vec::new();
    for (version, p) in &metadata.published {
        versions.push(Listed {
            version: version.clone(),
            published_time: p.published_time,
            tarball: Some((p.bytes, p.hash)),
            indexed: indexed(version),
            yanked: metadata.yanked.get(version).cloned(),
            unpublished: None,
            tags: (metadata.aliases.iter())
                .filter(|(_, named)| *named == version)
                .map(|(tag, _)| tag.clone())
                .collect(),
        });
        if !indexed(version) {
            problems.push(format!(
                "`{name}@{version}` is published, and the index file does not list it"
            ));
        }
    }
    for (version, u) in &metadata.unpublished {
        versions.push(Listed {
            version: version.clone(),
            published_time: u.published_time,
            tarball: None,
            indexed: indexed(version),
            yanked: None,
            unpublished: Some((u.reason.clone(), u.unpublished_time)),
            tags: Vec::new(),
        });
    }
    for version in index.into_iter().flat_map(|i| i.versions()) {
        if metadata.published.contains_key(version) {
            continue;
        }
        problems.push(if metadata.unpublished.contains_key(version) {
            format!("`{name}@{version}` is unpublished, and the index file still lists it")
        } else {
            format!("`{name}@{version}` is in the index file, and metadata does not list it")
        });
    }
    versions.sort_by(|a, b| b.version.cmp(&a.version));
    Listing {
        name: name.clone(),
        location: metadata.location.clone(),
        deprecated: metadata.deprecated.clone(),
        versions,
        problems,
    }
}

/// `name`'s listing from the registry checkout's metadata and the index checkout.
pub fn list_checkouts(
    registry: &Path,
    index: &Path,
    name: &PackageName,
) -> Result<Listing, SparseError> {
    let registry = RegistryDir::new(registry);
    let Some(metadata) = registry.read_metadata(name)? else {
        return Err(SparseError::NoPackage {
            name: name.clone(),
            from: registry.root().display().to_string(),
            file: registry
                .root()
                .join(RegistryDir::metadata_rel(name))
                .display()
                .to_string(),
        });
    };
    let index = IndexDir::new(index).read(name)?;
    Ok(listing(name, &metadata, index.as_ref()))
}

/// A release fetched from a site and checked against its metadata, and through TUF when
/// a client was given.
#[derive(Debug, Clone)]
pub struct SiteFetched {
    pub name: PackageName,
    pub version: Version,
    /// Where the tarball was downloaded.
    pub url: String,
    pub bytes: Vec<u8>,
    pub hash: Sha256,
    pub yanked: Option<Yanked>,
    pub deprecated: Option<Deprecated>,
    /// What TUF and the atoms verified, when a client was given.
    pub tuf: Option<client::Fetched>,
}

/// Fetches `name@spec` from `site`: its metadata and index file read, a tag resolved
/// through the metadata's `aliases` ([`Metadata::resolve`]), the version refused unless it
/// is published and indexed, the tarball downloaded from `dl` at most the size metadata
/// records and held to that size and hash. With `tuf` (a client loaded from the site's
/// storage with a pinned root), the release is also fetched through [`client::fetch`], and
/// the site must agree with what it verified.
pub fn fetch(
    site: &Site,
    name: &PackageName,
    spec: &VersionSpec,
    tuf: Option<&Client>,
) -> Result<SiteFetched, SparseError> {
    let package = site.package(name)?;
    let version = &package.metadata.resolve(name, spec)?;
    let published = check_version(&package, version)?;
    let dl = site
        .config
        .dl
        .as_ref()
        .ok_or_else(|| SparseError::NoDownload {
            from: site.from().to_owned(),
        })?;
    let url = dl.of(name, version);
    let shown = crate::schema::redact_url(&url);
    let bytes = match site.download(&url, published.bytes) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => {
            return Err(SparseError::TarballMissing {
                name: name.clone(),
                version: version.clone(),
                url: shown,
            });
        }
        Err(DownloadError::TooLarge) => {
            return Err(SparseError::TooLarge {
                file: shown,
                max: crate::text::thousands(published.bytes),
                what: format!("the tarball of `{name}@{version}`: the size metadata records"),
            });
        }
        Err(DownloadError::Failed(reason)) => {
            return Err(SparseError::Http { url: shown, reason });
        }
    };
    if bytes.len() as u64 != published.bytes {
        return Err(SparseError::TarballSize {
            name: name.clone(),
            version: version.clone(),
            url: shown,
            found: crate::text::thousands(bytes.len() as u64),
            expected: crate::text::thousands(published.bytes),
        });
    }
    let hash = Sha256::of(&bytes);
    if hash != published.hash {
        return Err(SparseError::TarballHash {
            name: name.clone(),
            version: version.clone(),
            url: shown,
            found: hash,
            expected: published.hash,
        });
    }
    let verified = match tuf {
        None => None,
        Some(client) => {
            let fetched = client::fetch(client, name, version)?;
            let target = client.target(StorageKey::tarball(name, version).as_str())?;
            agree(&package, version, &hash, &bytes, &fetched, &target)?;
            Some(fetched)
        }
    };
    Ok(SiteFetched {
        name: name.clone(),
        version: version.clone(),
        url: shown,
        bytes,
        hash,
        yanked: package.metadata.yanked.get(version).cloned(),
        deprecated: package.metadata.deprecated.clone(),
        tuf: verified,
    })
}

/// `version` of `package` published (and in its index file), else why not.
fn check_version<'p>(
    package: &'p Package,
    version: &Version,
) -> Result<&'p crate::metadata::PublishedVersion, SparseError> {
    let name = &package.name;
    let m = &package.metadata;
    if let Some(u) = m.unpublished.get(version) {
        return Err(SparseError::Unpublished {
            name: name.clone(),
            version: version.clone(),
            date: u.unpublished_time.date().to_string(),
            reason: crate::text::echo(&u.reason).to_string(),
        });
    }
    let Some(published) = m.published.get(version) else {
        let versions = if m.published.is_empty() {
            "it has no published version".to_owned()
        } else {
            format!(
                "its published versions are {}",
                crate::text::list(m.published.keys().rev())
            )
        };
        return Err(SparseError::UnknownVersion {
            name: name.clone(),
            version: version.clone(),
            versions,
        });
    };
    if package
        .index
        .as_ref()
        .is_none_or(|(file, _)| file.get(version).is_none())
    {
        return Err(SparseError::NotIndexed {
            name: name.clone(),
            version: version.clone(),
            metadata: package.metadata_file.clone(),
            index: package.index_file.clone(),
        });
    }
    Ok(published)
}

/// The site's release agrees with what TUF and the atoms verified: the same tarball, the
/// metadata entry the signed target records, the index line the publish atom records.
fn agree(
    package: &Package,
    version: &Version,
    hash: &Sha256,
    bytes: &[u8],
    fetched: &client::Fetched,
    target: &tough::schema::Target,
) -> Result<(), SparseError> {
    let name = &package.name;
    let disagree = |what: String| SparseError::Disagree {
        name: name.clone(),
        version: version.clone(),
        what,
    };
    if fetched.hash != *hash || fetched.bytes.len() != bytes.len() {
        return Err(disagree(format!(
            "the site's download is `{hash}` ({} bytes), the signed tarball in storage `{}` ({} bytes)",
            crate::text::thousands(bytes.len() as u64),
            fetched.hash,
            crate::text::thousands(fetched.bytes.len() as u64)
        )));
    }
    let signed_entry = target
        .custom
        .get("entry")
        .and_then(|v| v.as_str())
        .and_then(|s| s.parse::<Sha256>().ok());
    let entry = super::tuf::entry_hash(&package.metadata, version);
    if let (Some(signed), Some(entry)) = (signed_entry, entry)
        && signed != entry
    {
        return Err(disagree(format!(
            "its entry in `{}` hashes to `{entry}`, the signed target records `{signed}`",
            package.metadata_file
        )));
    }
    let recorded = fetched.atoms.first().and_then(|a| a.atom.signed.index);
    if let Some(recorded) = recorded
        && let Some((_, text)) = &package.index
    {
        let line = text
            .split('\n')
            .find(|l| serde_json::from_str::<Manifest>(l).is_ok_and(|m| &m.version == version))
            .unwrap_or_default();
        let found = Sha256::of(line.as_bytes());
        if found != recorded {
            return Err(disagree(format!(
                "its line in `{}` hashes to `{found}`, its publish atom records `{recorded}`",
                package.index_file
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> String {
        match SiteConfig::parse("<site>/config.json", text.as_bytes()) {
            Ok(c) => format!("{c:?}"),
            Err(e) => crate::error_chain(&e),
        }
    }

    #[test]
    fn a_site_config_is_read_and_what_is_not_one_is_refused() {
        let good = r#"{"dl": "https://p.example/{name}/{version}.tar.gz", "formatVersion": 1, "index": "index/", "metadata": "metadata/", "name": "r", "packageSets": "package-sets/", "storage": "https://p.example/", "tuf": true, "future": 1}"#;
        let c = SiteConfig::parse("x", good.as_bytes()).unwrap();
        assert_eq!(c.storage.as_deref(), Some("https://p.example/"));
        assert!(c.tuf);
        insta::assert_snapshot!(config("<html>"), @"`<site>/config.json` is not a regis site config: not JSON (expected value at line 1 column 1); expected the JSON object `regis site build` writes, with `formatVersion` 1, `name`, `dl`, `index`, `metadata`, `packageSets`, `storage` and `tuf`");
        insta::assert_snapshot!(config("[1]"), @"`<site>/config.json` is not a regis site config: not a JSON object; expected the JSON object `regis site build` writes, with `formatVersion` 1, `name`, `dl`, `index`, `metadata`, `packageSets`, `storage` and `tuf`");
        insta::assert_snapshot!(config(r#"{"dl": "x"}"#), @"`<site>/config.json` is not a regis site config: it has no `formatVersion`; expected the JSON object `regis site build` writes, with `formatVersion` 1, `name`, `dl`, `index`, `metadata`, `packageSets`, `storage` and `tuf`");
        insta::assert_snapshot!(config(r#"{"formatVersion": 2}"#), @"`<site>/config.json` is a regis site config of format version 2: this regis reads format version 1 (a newer regis reads the newer format)");
        insta::assert_snapshot!(config(r#"{"formatVersion": 1, "name": "r"}"#), @"`<site>/config.json` is not a regis site config: missing field `index`; expected the JSON object `regis site build` writes, with `formatVersion` 1, `name`, `dl`, `index`, `metadata`, `packageSets`, `storage` and `tuf`");
        let with = |key: &str, value: &str| {
            let mut v: serde_json::Value = serde_json::from_str(good).unwrap();
            v[key] = serde_json::from_str(value).unwrap();
            config(&v.to_string())
        };
        insta::assert_snapshot!(with("index", r#""../../etc/""#), @"`<site>/config.json` is not a regis site config: `index` is `../../etc/`, not a relative path ending in `/`; expected the JSON object `regis site build` writes, with `formatVersion` 1, `name`, `dl`, `index`, `metadata`, `packageSets`, `storage` and `tuf`");
        insta::assert_snapshot!(with("dl", r#""https://p.example/x.tar.gz""#), @"`<site>/config.json` is not a regis site config: `dl` is `https://p.example/x.tar.gz`, not a URL template with `{name}` and `{version}`, e.g. `https://packages.example.org/{name}/{version}.tar.gz`; expected the JSON object `regis site build` writes, with `formatVersion` 1, `name`, `dl`, `index`, `metadata`, `packageSets`, `storage` and `tuf`");
        insta::assert_snapshot!(with("storage", r#""/srv/storage""#), @"`<site>/config.json` is not a regis site config: `storage` is `/srv/storage`, not an http(s) URL; expected the JSON object `regis site build` writes, with `formatVersion` 1, `name`, `dl`, `index`, `metadata`, `packageSets`, `storage` and `tuf`");
        assert!(!is_relative_dir("/abs/"));
        assert!(!is_relative_dir("index"));
        assert!(!is_relative_dir("a//"));
        assert!(is_relative_dir("a/b/"));
    }

    #[test]
    fn a_listing_is_newest_first_and_names_what_metadata_and_index_disagree_on() {
        let metadata = r#"{
  "location": {"githubOwner": "o", "githubRepo": "a"},
  "published": {
    "1.0.0": {"bytes": 10, "compilers": ["0.15.0"], "hash": "sha256-YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE=", "publishedTime": "2024-01-01T00:00:00.000Z", "ref": ""},
    "1.2.0": {"bytes": 12, "compilers": ["0.15.0"], "hash": "sha256-YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE=", "publishedTime": "2024-03-01T00:00:00.000Z", "ref": ""}
  },
  "unpublished": {
    "1.1.0": {"publishedTime": "2024-02-01T00:00:00.000Z", "reason": "oops", "unpublishedTime": "2024-02-02T00:00:00.000Z"}
  }
}
"#;
        let m = Metadata::from_json("m", metadata).unwrap();
        let name: PackageName = "a".parse().unwrap();
        let line = |v: &str| {
            format!(
                r#"{{"name":"a","version":"{v}","license":"MIT","location":{{"githubOwner":"o","githubRepo":"a"}},"ref":"v{v}","dependencies":{{}}}}"#
            )
        };
        let index = IndexFile::parse(
            "i",
            &name,
            &format!("{}\n{}\n", line("1.0.0"), line("1.1.0")),
        )
        .unwrap();
        let l = listing(&name, &m, Some(&index));
        let order: Vec<String> = l.versions.iter().map(|v| v.version.to_string()).collect();
        assert_eq!(order, ["1.2.0", "1.1.0", "1.0.0"]);
        assert_eq!(
            l.versions[1].unpublished,
            Some((
                "oops".to_owned(),
                "2024-02-02T00:00:00.000Z".parse().unwrap()
            ))
        );
        insta::assert_snapshot!(l.problems.join("\n"), @r"
        `a@1.2.0` is published, and the index file does not list it
        `a@1.1.0` is unpublished, and the index file still lists it
        ");
    }
}
