//! `regis init DIR`: create a new registry.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::config::Config;
use crate::init;

use super::Global;
use super::output::outln;

/// Create a new registry in DIR: `registry/` (config, metadata/, package-sets/, README for
/// authors), `index/`, `storage/`, and bare remotes for both repos in `remotes/`.
///
/// With `--storage URL` (`s3://bucket/prefix`, …) tarballs go to that object store instead
/// of `storage/`, and `regis.dhall` says so.
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
        let config = Config {
            name: self.name,
            storage,
            storage_url,
            ..Config::default()
        };
        let (layout, config) = init::init(&self.dir, &config)?;
        let storage = match config.storage.filter(|s| crate::storage::is_url(s)) {
            Some(url) => crate::storage::Location::Url(url),
            None => crate::storage::Location::Dir(layout.storage.clone()),
        };
        if global.json {
            super::json::print(&super::json::InitOutput::new(
                &config.name,
                &layout,
                storage.to_string(),
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
            outln!(
                "publish with: regis --registry {} publish PAYLOAD.json",
                layout.registry.display()
            );
        }
        Ok(ExitCode::SUCCESS)
    }
}
