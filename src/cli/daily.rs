//! `regis daily`: the registry's scheduled job.

use std::process::ExitCode;

use anyhow::Context as _;

use crate::operation::package_set::{self, Inputs};

use super::Global;
use super::progress::Reporter;

/// The scheduled job: the package-set updater proposes the newest published version of
/// every package whose dependencies are in the latest set, as one PackageSetUpdate, and
/// publishes the next set with what passes.
///
/// Progress is a bar on a terminal and plain log lines otherwise (CI).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Report what would change and write nothing (reads the working trees as they are).
    #[arg(long)]
    pub dry_run: bool,
}

impl Args {
    pub fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        let progress = Reporter::new(global.json);
        let (report, dry_run) = if self.dry_run {
            let report = super::package_set::with_dry_run_inputs(global, |inputs| {
                package_set::daily(inputs, None, &progress)
            })?;
            (report, true)
        } else {
            let opened = super::Opened::open(global)?;
            let ctx = opened.ctx();
            let inputs = Inputs::of(&ctx);
            (package_set::daily(&inputs, Some(&ctx), &progress), false)
        };
        progress.finish();
        let report = report.context("the daily package-set update failed")?;
        match &report.update {
            Some(update) => super::package_set::print_report(global, update, dry_run)?,
            None if global.json => super::print_json(&serde_json::json!({
                "latest": report.latest,
                "proposal": null,
            }))?,
            None => match &report.latest {
                Some(v) => println!("package set {v}: up to date, nothing to propose"),
                None => println!(
                    "no package set yet: a trustee starts the first one with `regis package-set update`"
                ),
            },
        }
        Ok(ExitCode::SUCCESS)
    }
}
