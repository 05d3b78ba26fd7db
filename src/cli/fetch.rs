//! `regis fetch NAME@VERSION` (or `NAME@TAG`): download one release and verify it through
//! TUF and its atoms, as a package manager would; from a site, against its sparse index
//! too.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::operation::client::{self, Client, Origin};
use crate::operation::sparse::{self, Site};
use crate::schema::{PackageName, PackageSpec, Tag, Version, VersionSpec};

use super::Global;
use super::output::{outln, warnln};

/// Download a release and verify it: TUF, then the atoms.
///
/// Reads the registry's storage (a directory, or the HTTP(S) URL it is served at) as a TUF
/// client does, trusting only a pinned root: the root chain from it (each version signed by
/// a threshold of the last one's root keys and of its own), a timestamp that has not
/// expired and is not older than the last one seen, the snapshot it names (hash, length,
/// version), `targets.json` and the hash bin that lists the release (versions from the
/// snapshot, signatures by the keys their delegator lists), then the tarball against its
/// signed length and hash. Then the atom the target names must be a publish of exactly this
/// tarball, signed by an atom key of the root chain that is not revoked, and each atom
/// before it on the package's chain must verify too. The last verified metadata is kept in
/// `--state`, so a later fetch refuses a registry rolled back to older metadata.
///
/// From a site (`--from` whose root has a regis `config.json`): the package's
/// `metadata/<name>.json` and index file are read, a version that is not published (or not
/// in the index) is refused, a yanked one noted, and the tarball downloaded from the
/// site's `dl`, at most the size metadata records, and held to that size and SHA-256.
/// When the site says the registry signs (`"tuf": true`) and a root is pinned, or
/// whenever `--root` is given, the release is also fetched and verified as above from the
/// site's `storage`, and the two must agree (the tarball, the metadata entry the signed
/// target records, the index line the publish atom records); with `"tuf": true` and no
/// pinned root the fetch goes on, and warns that nothing was signature-checked.
///
/// `NAME@TAG` names the version the package's tag names (`regis alias`; `latest`, unless
/// set, the newest version that is published and not yanked), read from the site's
/// `metadata/<name>.json`, or without a site from the registry checkout's.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The release: `NAME@VERSION`, or `NAME@TAG` (e.g. `aff@latest`).
    #[arg(value_name = "NAME@VERSION|TAG")]
    pub release: PackageSpec,
    #[command(flatten)]
    pub client: ClientArgs,
    /// Where the tarball is written, as `<name>-<version>.tar.gz`.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub out: PathBuf,
}

/// Where a client reads a registry from and what it trusts.
#[derive(Debug, clap::Args)]
pub struct ClientArgs {
    /// Where the registry is read: its storage (a directory, or the http(s) URL it is
    /// served at, holding `tuf/`), or for `regis fetch` a site `regis site build` made. A
    /// `--from` whose root has a `config.json` (`DIR/config.json` exists, or
    /// `<URL>/config.json` answers) is a site, and that file must be a regis site config;
    /// storage never holds one [default: `storage` from regis.dhall, when it is a
    /// directory].
    #[arg(long, value_name = "DIR|URL")]
    pub from: Option<String>,
    /// The pinned root: a root.json trusted out of band [default: the registry
    /// checkout's `tuf/root/1.root.json`].
    #[arg(long, value_name = "FILE")]
    pub root: Option<PathBuf>,
    /// Where the last verified metadata is kept, to refuse a rollback, and the files read
    /// from a site with their `ETag`/`Last-Modified`, in `sparse/` [default:
    /// `$XDG_STATE_HOME/regis/tuf/<the URL's hash>` and `$XDG_STATE_HOME/regis/sparse/`, or
    /// under `~/.local/state`].
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
}

impl ClientArgs {
    /// The registry loaded and verified up to its targets, from `origin` and the pinned
    /// `root`, keeping what it verified in `--state` (default: by `origin`).
    fn load_from(&self, origin: Origin, root: &[u8]) -> anyhow::Result<Client> {
        let state = match &self.state {
            Some(state) => state.clone(),
            None => client::default_state(&origin).ok_or_else(|| {
                super::could_not_run(anyhow::anyhow!(
                    "no `--state` and no HOME: say where the last verified metadata is kept"
                ))
            })?,
        };
        Ok(Client::load(origin, root, &state)?)
    }

    /// The registry loaded and verified up to its targets.
    pub fn load(&self, global: &Global) -> anyhow::Result<Client> {
        let from = match &self.from {
            Some(from) => from.clone(),
            None => {
                let config = global.config()?;
                match global.storage_location(&config)? {
                    crate::storage::Location::Dir(dir) => dir.display().to_string(),
                    crate::storage::Location::Url(_) => {
                        anyhow::bail!(super::could_not_run(anyhow::anyhow!(
                            "the configured storage is an object store: name its public URL with `--from`"
                        )))
                    }
                }
            }
        };
        let origin = Origin::parse(&from).map_err(|e| super::could_not_run(e.into()))?;
        let (root, _) = client::pinned_root(self.root.as_deref(), &global.registry)
            .map_err(|e| super::could_not_run(e.into()))?;
        self.load_from(origin, &root)
    }

    /// The site `--from` names, or `None` when it names storage (no `config.json`).
    fn site(&self) -> anyhow::Result<Option<Site>> {
        let Some(from) = &self.from else {
            return Ok(None);
        };
        Site::open(from, self.state.as_deref()).map_err(super::list::refusal)
    }

    /// The client that verifies a release fetched from `site` through TUF: with `--root`,
    /// always; when the site says the registry signs, with the root the registry
    /// checkout pins, if it has one. `None` when nothing is pinned.
    fn site_client(&self, global: &Global, site: &Site) -> anyhow::Result<Option<Client>> {
        if self.root.is_none() && !site.config.tuf {
            return Ok(None);
        }
        let root = match client::pinned_root(self.root.as_deref(), &global.registry) {
            Ok((root, _)) => root,
            Err(client::ClientError::NoRoot) => return Ok(None),
            Err(e) => return Err(super::could_not_run(e.into())),
        };
        let storage = site.storage()?;
        let origin = Origin::parse(storage).map_err(|e| super::could_not_run(e.into()))?;
        Ok(Some(self.load_from(origin, &root)?))
    }
}

impl Args {
    pub fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        if let Some(site) = self.client.site()? {
            return self.run_site(global, &site);
        }
        let name = &self.release.name;
        let version = &self.checkout_version(global)?;
        let client = self.client.load(global)?;
        let fetched = client::fetch(&client, name, version)?;
        let path = write_tarball(&self.out, name, version, &fetched.bytes)?;
        if global.json {
            super::json::print(&super::json::FetchOutput::new(
                &path,
                &fetched,
                &client,
                None,
                self.tag(),
            ))?;
            return Ok(ExitCode::SUCCESS);
        }
        print_fetched(
            name,
            version,
            self.tag(),
            &path,
            &fetched.bytes,
            &fetched.hash,
        );
        print_tuf(&client, &fetched);
        Ok(ExitCode::SUCCESS)
    }

    /// The release from a site: held to its metadata, and through TUF when a root is
    /// pinned.
    fn run_site(&self, global: &Global, site: &Site) -> anyhow::Result<ExitCode> {
        let PackageSpec { name, spec } = &self.release;
        let client = self.client.site_client(global, site)?;
        if client.is_none() && site.config.tuf {
            warnln!(
                "the site `{}` says the registry signs its releases (TUF), and no root is pinned: the tarball was held to the site's metadata only, nothing was signature-checked; pin the registry's root with `--root FILE` (its `tuf/root/1.root.json`, obtained out of band)",
                site.from()
            );
        }
        let fetched =
            sparse::fetch(site, name, spec, client.as_ref()).map_err(super::list::refusal)?;
        let version = &fetched.version;
        if let Some(yanked) = &fetched.yanked {
            warnln!(
                "`{name}@{version}` is yanked: {}",
                crate::text::echo(&yanked.reason)
            );
        }
        if let Some(deprecated) = &fetched.deprecated {
            warnln!(
                "`{name}` is deprecated: {}{}",
                crate::text::echo(&deprecated.message),
                (deprecated.alternative.as_ref())
                    .map(|a| format!(", use `{a}` instead"))
                    .unwrap_or_default()
            );
        }
        let path = write_tarball(&self.out, name, version, &fetched.bytes)?;
        let tuf = client.as_ref().zip(fetched.tuf.as_ref());
        if global.json {
            let output = match tuf {
                Some((client, verified)) => super::json::FetchOutput::new(
                    &path,
                    verified,
                    client,
                    Some(&fetched),
                    self.tag(),
                ),
                None => super::json::FetchOutput::unsigned(&path, &fetched, self.tag()),
            };
            super::json::print(&output)?;
            return Ok(ExitCode::SUCCESS);
        }
        print_fetched(
            name,
            version,
            self.tag(),
            &path,
            &fetched.bytes,
            &fetched.hash,
        );
        outln!(
            "  site: {}, the size and hash its metadata records, downloaded from {}",
            site.from(),
            fetched.url
        );
        if let Some((client, verified)) = tuf {
            print_tuf(client, verified);
        }
        Ok(ExitCode::SUCCESS)
    }

    /// The tag the release was named by (`None` for a version).
    fn tag(&self) -> Option<&Tag> {
        match &self.release.spec {
            VersionSpec::Tag(tag) => Some(tag),
            VersionSpec::Version(_) => None,
        }
    }

    /// The version the release names, a tag resolved through the registry checkout's
    /// metadata (storage, which the client reads, holds no metadata).
    fn checkout_version(&self, global: &Global) -> anyhow::Result<Version> {
        let PackageSpec { name, spec } = &self.release;
        if let VersionSpec::Version(version) = spec {
            return Ok(version.clone());
        }
        let registry = crate::store::RegistryDir::new(&global.registry);
        let metadata = registry
            .read_metadata(name)
            .map_err(|e| super::could_not_run(e.into()))?;
        let Some(metadata) = metadata else {
            anyhow::bail!(
                "`{name}@{spec}` names a tag, which the package's metadata resolves, and the registry checkout `{}` has no `{}`: give a version, or fetch `--from` a site",
                global.registry.display(),
                crate::store::RegistryDir::metadata_rel(name).display()
            );
        };
        Ok(metadata.resolve(name, spec)?)
    }
}

/// What TUF and the atoms verified.
fn print_tuf(client: &Client, fetched: &client::Fetched) {
    let (timestamp, snapshot, _) = client.versions();
    outln!(
        "  TUF: root version {}, timestamp {timestamp}, snapshot {snapshot}, from {}",
        client.root().version,
        client.from()
    );
    match fetched.atoms.first() {
        Some(atom) => outln!(
            "  atom `{}` (the publish), {} atoms on the chain, signed by atom keys of the root chain",
            atom.id,
            fetched.atoms.len()
        ),
        None => outln!("  no atoms: the package was published before the registry kept them"),
    }
}

/// The line saying where a fetched release went, and the tag that named it.
fn print_fetched(
    name: &PackageName,
    version: &Version,
    tag: Option<&Tag>,
    path: &std::path::Path,
    bytes: &[u8],
    hash: &crate::schema::Sha256,
) {
    let tagged = tag.map(|t| format!(" (`{name}@{t}`)")).unwrap_or_default();
    outln!(
        "Fetched `{name}@{version}`{tagged} to {}: {} bytes, `{hash}`",
        path.display(),
        bytes.len()
    );
}

/// A release's tarball written into `out` (made if missing) as `<name>-<version>.tar.gz`,
/// as `regis fetch` and `regis pack` leave it; its path.
pub(super) fn write_tarball(
    out: &std::path::Path,
    name: &PackageName,
    version: &Version,
    bytes: &[u8],
) -> anyhow::Result<PathBuf> {
    let path = out.join(format!("{name}-{version}.tar.gz"));
    std::fs::create_dir_all(out)
        .and_then(|()| std::fs::write(&path, bytes))
        .with_context(|| format!("writing `{}`", path.display()))
        .map_err(super::could_not_run)?;
    Ok(path)
}
