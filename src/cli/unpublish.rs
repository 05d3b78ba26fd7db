//! `regis unpublish FILE`: run a signed Unpublish payload.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::operation::report;
use crate::operation::unpublish;
use crate::payload::AuthenticatedData;

use super::Global;
use super::output::out;

/// Take one version down, from a signed Unpublish payload.
///
/// The payload is `{"payload": "<Unpublish JSON>", "signature": "..."}` as `regis sign
/// unpublish` prints it. Owners may unpublish within `unpublishWindowHours` of publishing,
/// trustees at any time. The index line and the tarball go; metadata keeps the version
/// under `unpublished`, so the number can never be published again.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The payload file (`-` for standard input); text around the JSON object is ignored.
    pub file: PathBuf,
}

impl Args {
    pub fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        let (signed, data) = super::read_authenticated(&self.file)?;
        let AuthenticatedData::Unpublish(request) = &data else {
            return Err(super::other_signed_payload(
                &self.file,
                &data,
                "unpublish",
                "a signed Unpublish `{name, version, reason}`",
            ));
        };
        let opened = super::open(global)?;
        let report = unpublish::unpublish(&opened.ctx(), &signed).with_context(|| {
            format!("could not unpublish `{}@{}`", request.name, request.version)
        })?;
        if global.json {
            super::json::print(&super::json::UnpublishOutput::from(&report))?;
        } else {
            out!("{}", report::unpublish(&report));
        }
        Ok(ExitCode::SUCCESS)
    }
}
