//! `regis yank FILE`: run a signed Yank or Unyank payload.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::operation::report;
use crate::operation::yank;
use crate::payload::AuthenticatedData;

use super::Global;
use super::output::out;

/// Yank one version, or take a yank back, from a signed Yank or Unyank payload.
///
/// The payload is `{"payload": "<Yank or Unyank JSON>", "signature": "..."}` as `regis
/// sign yank` prints it, signed by an owner of the package or a trustee, at any time. A
/// yanked version stays published, downloadable and in the package sets that hold it, but
/// the solver no longer picks it unless a build plan's `resolutions` pin it, and no package
/// set takes it in. Only the package's metadata changes (`yanked`).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The payload file (`-` for standard input); text around the JSON object is ignored.
    pub file: PathBuf,
}

impl Args {
    pub fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        let (signed, data) = super::read_authenticated(&self.file)?;
        let (verb, name, version) = match &data {
            AuthenticatedData::Yank(y) => ("yank", &y.name, &y.yank),
            AuthenticatedData::Unyank(u) => ("unyank", &u.name, &u.unyank),
            other => {
                return Err(super::other_signed_payload(
                    &self.file,
                    other,
                    "yank",
                    "a signed Yank `{name, yank, reason}` or Unyank `{name, unyank}`",
                ));
            }
        };
        let opened = super::open(global)?;
        let report = yank::yank(&opened.ctx(), &signed)
            .with_context(|| format!("could not {verb} `{name}@{version}`"))?;
        if global.json {
            super::json::print(&super::json::YankOutput::from(&report))?;
        } else {
            out!("{}", report::yank(&report));
        }
        Ok(ExitCode::SUCCESS)
    }
}
