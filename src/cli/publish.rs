//! `regis publish FILE`: run a Publish payload through the same pipeline CI uses.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};

use crate::operation::publish::{self, PublishReport};
use crate::operation::report;
use crate::payload::{Operation, Publish};

use super::Global;
use super::output::out;

/// Publish a package version from a Publish payload (JSON; CI-era Addition/Update too).
///
/// Fetches the source at `ref`, checks it, packs the tarball, uploads it, and commits and
/// pushes metadata and index. Re-running a payload finishes an interrupted publish.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The payload file (`-` for standard input); text around the JSON object is ignored.
    pub file: PathBuf,
}

impl Args {
    pub fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        let request = read_publish(&self.file)?;
        let report = run_publish(global, &request)?;
        if global.json {
            super::json::print(&super::json::PublishOutput::from(&report))?;
        } else {
            out!("{}", report::publish(&report));
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// Read a payload file and require it to be a publish.
pub fn read_publish(file: &Path) -> anyhow::Result<Publish> {
    match super::read_payload(file)? {
        Operation::Publish(p) => Ok(p),
        other => bail!(
            "`{}` holds a {} payload: `regis publish` expects a Publish `{{name, location?, ref, version, compiler?, resolutions?, ownersSignature?}}`",
            file.display(),
            match other {
                Operation::Authenticated(_) =>
                    "signed (Transfer, Unpublish, Yank, Unyank, Deprecate, Alias or Unalias)",
                _ => "PackageSetUpdate",
            }
        ),
    }
}

/// Open the registry, index and storage named by the options and publish.
pub fn run_publish(global: &Global, request: &Publish) -> anyhow::Result<PublishReport> {
    let opened = super::open(global)?;
    let ctx = opened.ctx();
    let what = match &request.version {
        Some(v) => format!("{}@{v}", request.name),
        None => format!("{} at `{}`", request.name, request.reference),
    };
    publish::publish(&ctx, request).with_context(|| format!("could not publish `{what}`"))
}
