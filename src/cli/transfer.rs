//! `regis transfer FILE`: run a signed Transfer payload.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::operation::report;
use crate::operation::transfer;
use crate::payload::AuthenticatedData;

use super::Global;
use super::output::out;

/// Move a package to a new location, from a signed Transfer payload.
///
/// The payload is `{"payload": "<Transfer JSON>", "signature": "..."}` as `regis sign
/// transfer` prints it, signed by an owner of the package or a trustee. Only the
/// package's metadata changes.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The payload file (`-` for standard input); text around the JSON object is ignored.
    pub file: PathBuf,
}

impl Args {
    pub fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        let (signed, data) = super::read_authenticated(&self.file)?;
        let AuthenticatedData::Transfer(request) = &data else {
            return Err(super::other_signed_payload(
                &self.file,
                &data,
                "transfer",
                "a signed Transfer `{name, newLocation}`",
            ));
        };
        let opened = super::open(global)?;
        let report = transfer::transfer(&opened.ctx(), &signed)
            .with_context(|| format!("could not transfer `{}`", request.name))?;
        if global.json {
            super::json::print(&super::json::TransferOutput::from(&report))?;
        } else {
            out!("{}", report::transfer(&report));
        }
        Ok(ExitCode::SUCCESS)
    }
}
