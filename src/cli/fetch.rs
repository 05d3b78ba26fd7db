//! `regis fetch NAME@VERSION`: download one release and verify it through TUF and its
//! atoms, as a package manager would.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::operation::client::{self, Client, Origin};
use crate::schema::{PackageName, Version};

use super::Global;
use super::output::outln;

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
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The release: `NAME@VERSION`.
    #[arg(value_name = "NAME@VERSION", value_parser = parse_release)]
    pub release: (PackageName, Version),
    #[command(flatten)]
    pub client: ClientArgs,
    /// Where the tarball is written, as `<name>-<version>.tar.gz`.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub out: PathBuf,
}

/// Where a client reads a registry from and what it trusts.
#[derive(Debug, clap::Args)]
pub struct ClientArgs {
    /// The registry's storage: a directory, or the http(s) URL it is served at
    /// [default: `storage` from regis.dhall, when it is a directory].
    #[arg(long, value_name = "DIR|URL")]
    pub from: Option<String>,
    /// The pinned root: a root.json trusted out of band [default: the registry
    /// checkout's `tuf/root/1.root.json`].
    #[arg(long, value_name = "FILE")]
    pub root: Option<PathBuf>,
    /// Where the last verified metadata is kept, to refuse a rollback [default:
    /// `$XDG_STATE_HOME/regis/tuf/<the URL's hash>`, or under `~/.local/state`].
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
}

impl ClientArgs {
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
        let state = match &self.state {
            Some(state) => state.clone(),
            None => client::default_state(&origin).ok_or_else(|| {
                super::could_not_run(anyhow::anyhow!(
                    "no `--state` and no HOME: say where the last verified metadata is kept"
                ))
            })?,
        };
        Ok(Client::load(origin, &root, &state)?)
    }
}

fn parse_release(text: &str) -> Result<(PackageName, Version), String> {
    let (name, version) = text
        .split_once('@')
        .ok_or_else(|| "expected NAME@VERSION".to_owned())?;
    Ok((
        name.parse().map_err(|e| format!("{e}"))?,
        version.parse().map_err(|e| format!("{e}"))?,
    ))
}

impl Args {
    pub fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        let client = self.client.load(global)?;
        let (name, version) = &self.release;
        let fetched = client::fetch(&client, name, version)?;
        let path = self.out.join(format!("{name}-{version}.tar.gz"));
        std::fs::create_dir_all(&self.out)
            .and_then(|()| std::fs::write(&path, &fetched.bytes))
            .with_context(|| format!("writing `{}`", path.display()))
            .map_err(super::could_not_run)?;
        let (timestamp, snapshot, _) = client.versions();
        if global.json {
            super::json::print(&super::json::FetchOutput {
                name,
                version,
                path: &path,
                bytes: fetched.bytes.len() as u64,
                hash: fetched.hash.to_string(),
                root: client.root().version.get(),
                timestamp,
                snapshot,
                atom: fetched.atoms.first().map(|a| a.id.to_string()),
                chain: fetched.atoms.len(),
            })?;
            return Ok(ExitCode::SUCCESS);
        }
        outln!(
            "Fetched `{name}@{version}` to {}: {} bytes, `{}`",
            path.display(),
            fetched.bytes.len(),
            fetched.hash
        );
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
        Ok(ExitCode::SUCCESS)
    }
}
