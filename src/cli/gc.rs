//! `regis gc`: remove the stored tarballs nothing records and the leftovers of interrupted
//! writes.

use std::process::ExitCode;

use crate::operation::gc::{self, GcReport};

use super::Global;
use super::output::out;

/// Remove stored tarballs that no metadata and no index line records.
///
/// A publish never deletes a tarball it stored (another job running the same payload may
/// record it meanwhile), so one that did not land leaves its tarball behind; `regis check
/// --storage` reports such orphans. gc syncs both repos, and removes an unrecorded tarball
/// only once it is older than the in-flight window (twice `pushRetrySeconds`, at least an
/// hour): a younger one may belong to a publish that is still landing. Temporary files of
/// interrupted writes older than the window go too.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// List what would be removed and remove nothing.
    #[arg(long)]
    pub dry_run: bool,
}

impl Args {
    pub fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        let opened = super::open(global)?;
        let report = gc::gc(&opened.ctx(), self.dry_run)?;
        if global.json {
            super::json::print(&super::json::GcOutput::from(&report))?;
        } else {
            out!("{}", describe(&report));
        }
        Ok(ExitCode::SUCCESS)
    }
}

fn describe(r: &GcReport) -> String {
    let verb = if r.dry_run { "would remove" } else { "removed" };
    let mut out = String::new();
    for key in &r.removed {
        out.push_str(&format!("{verb} {key} (recorded nowhere)\n"));
    }
    for path in &r.temporary {
        out.push_str(&format!("{verb} {path} (an interrupted write)\n"));
    }
    for (key, age) in &r.in_flight {
        out.push_str(&format!(
            "kept {key}: recorded nowhere yet, but only {} s old (a publish may be landing it)\n",
            age.as_secs()
        ));
    }
    for path in &r.unexpected {
        out.push_str(&format!("left {path}: not a tarball regis wrote\n"));
    }
    out.push_str(&format!(
        "gc: {} tarballs recorded, {} {verb}, {} kept in flight, {} temporary files {verb}{}\n",
        r.referenced,
        r.removed.len(),
        r.in_flight.len(),
        r.temporary.len(),
        if r.dry_run { " (dry run)" } else { "" }
    ));
    out
}
