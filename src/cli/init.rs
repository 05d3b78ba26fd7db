//! `regis init DIR`: create a new registry.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::config::Config;
use crate::init;

use super::Global;
use super::output::outln;

/// Create a new registry in DIR: `registry/` (config, metadata/, package-sets/, README for
/// authors), `index/`, `storage/`, and bare remotes for both repos in `remotes/`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A new or empty directory.
    pub dir: PathBuf,
    /// The registry's name, used in messages and commit messages.
    #[arg(long, default_value = "registry")]
    pub name: String,
}

impl Args {
    pub fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        let config = Config {
            name: self.name,
            ..Config::default()
        };
        let (layout, _) = init::init(&self.dir, &config)?;
        if global.json {
            super::print_json(&layout)?;
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
            outln!("  storage        {}", layout.storage.display());
            outln!(
                "publish with: regis --registry {} publish PAYLOAD.json",
                layout.registry.display()
            );
        }
        Ok(ExitCode::SUCCESS)
    }
}
