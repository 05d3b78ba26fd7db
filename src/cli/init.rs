//! `regis init DIR`: create a new registry.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::config::{Config, OwnerChanges};
use crate::init;

use super::Global;
use super::output::{outln, warnln};

/// Create a new registry in DIR: `registry/` (config, metadata/, package-sets/, README for
/// authors), `index/`, `storage/`, and bare remotes for both repos in `remotes/`.
///
/// With `--storage URL` (`s3://bucket/prefix`, …) tarballs go to that object store instead
/// of `storage/`, and `regis.dhall` says so. `regis.dhall` takes the PureScript Registry's
/// conventions but for `ownerChanges`, which is regis's `"signed"`: a publish changes a
/// package's owners only with a current owner's or a trustee's signature.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A new or empty directory.
    pub dir: PathBuf,
    /// The registry's name, used in messages and commit messages.
    #[arg(long, default_value = "registry")]
    pub name: String,
    /// Where anyone downloads a published tarball, a template such as
    /// `https://packages.example.org/{name}/{version}.tar.gz` (`storageUrl` in regis.dhall).
    #[arg(long, value_name = "TEMPLATE")]
    pub storage_url: Option<String>,
    /// The URL of regis's repository, which the registry's workflows install regis from:
    /// the release binary this regis is, from `URL/releases/download/v<version>/`, checked
    /// against its sha256; or, when this regis is not a release, a build from source
    /// (`cargo install --locked --git URL --rev <commit> regis`). [default: the repository
    /// a release binary was released from]
    #[arg(long, value_name = "URL")]
    pub regis_repository: Option<String>,
}

impl Args {
    pub fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        let storage = match global.storage.as_deref() {
            Some(url) if crate::storage::is_url(url) => Some(url.to_owned()),
            Some(dir) => {
                return Err(super::could_not_run(anyhow::anyhow!(
                    "`--storage {dir}`: expected an object store URL (`s3://bucket/prefix`, …); a new registry keeps a directory's tarballs in `{}`",
                    self.dir.join("storage").display()
                )));
            }
            None => None,
        };
        let storage_url = (self.storage_url.as_deref())
            .map(|t| {
                crate::config::StorageUrl::new(t).map_err(|expected| {
                    super::could_not_run(anyhow::anyhow!(
                        "`--storage-url {t}`: expected {expected}"
                    ))
                })
            })
            .transpose()?;
        let repository = match self.regis_repository.as_deref() {
            Some(url) => Some((url, "`--regis-repository ")),
            None => init::default_repository().map(|url| (url, "the built-in repository URL `")),
        };
        let repository = (repository)
            .map(|(url, what)| {
                url.parse::<init::RepositoryUrl>().map_err(|expected| {
                    super::could_not_run(anyhow::anyhow!("{what}{url}`: expected {expected}"))
                })
            })
            .transpose()?;
        let install = init::RegisInstall::this_build(repository)?;
        let config = Config {
            name: self.name,
            storage,
            storage_url,
            // regis's rule; the defaults are the PureScript Registry's.
            owner_changes: OwnerChanges::Signed,
            ..Config::default()
        };
        let (layout, config) = init::init(&self.dir, &config, &install)?;
        let method = install.method();
        if let Err(why) = method {
            warnln!(
                "the workflows in {} cannot install regis: {why}; their `Install regis` step fails until the `REGIS_*` entries of their `env` say which regis to install (see .github/scripts/install-regis)",
                layout.registry.join(".github/workflows").display()
            );
        }
        let storage = match config.storage.filter(|s| crate::storage::is_url(s)) {
            Some(url) => crate::storage::Location::Url(url),
            None => crate::storage::Location::Dir(layout.storage.clone()),
        };
        if global.json {
            super::json::print(&super::json::InitOutput::new(
                &config.name,
                &layout,
                storage.to_string(),
                &install,
            ))?;
        } else {
            outln!(
                "created registry `{}` in {}",
                config.name,
                layout.root.display()
            );
            outln!(
                "  registry repo  {} (remote {})",
                layout.registry.display(),
                layout.registry_remote.display()
            );
            outln!(
                "  index repo     {} (remote {})",
                layout.index.display(),
                layout.index_remote.display()
            );
            outln!("  storage        {storage}");
            outln!("  workflows      install {install}");
            outln!(
                "publish with: regis --registry {} publish PAYLOAD.json",
                layout.registry.display()
            );
        }
        Ok(ExitCode::SUCCESS)
    }
}
