//! `regis deprecate FILE`: run a signed Deprecate payload.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::operation::deprecate;
use crate::operation::report;
use crate::payload::AuthenticatedData;

use super::Global;
use super::output::out;

/// Deprecate a package, or clear its deprecation, from a signed Deprecate payload.
///
/// The payload is `{"payload": "<Deprecate JSON>", "signature": "..."}` as `regis sign
/// deprecate` prints it, signed by an owner of the package or a trustee. A deprecated
/// package keeps every version usable; its metadata says why (`deprecated`: the message
/// and the package to use instead). An empty message clears the deprecation.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The payload file (`-` for standard input); text around the JSON object is ignored.
    pub file: PathBuf,
}

impl Args {
    pub fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        let (signed, data) = super::read_authenticated(&self.file)?;
        let AuthenticatedData::Deprecate(request) = &data else {
            return Err(super::other_signed_payload(
                &self.file,
                &data,
                "deprecate",
                "a signed Deprecate `{name, message, alternative?}`",
            ));
        };
        let opened = super::open(global)?;
        let report = deprecate::deprecate(&opened.ctx(), &signed).with_context(|| {
            if request.clears() {
                format!("could not clear the deprecation of `{}`", request.name)
            } else {
                format!("could not deprecate `{}`", request.name)
            }
        })?;
        if global.json {
            super::json::print(&super::json::DeprecateOutput::from(&report))?;
        } else {
            out!("{}", report::deprecate(&report));
        }
        Ok(ExitCode::SUCCESS)
    }
}
