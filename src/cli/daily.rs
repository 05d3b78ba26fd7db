//! `regis daily`: the registry's scheduled job.

use std::process::ExitCode;

use anyhow::Context as _;

use crate::config::Config;
use crate::github::GitHubApi;
use crate::operation::package_set::{self, Inputs};
use crate::operation::transferrer::{self, Recorded};

use super::Global;
use super::json::{DailyOutput, TransferrerOutput};
use super::output::{errorln, outln};
use super::progress::Reporter;

/// The scheduled job. First the transferrer (when `botPublicKey` is configured): every
/// package on GitHub is looked up, and one whose repository was renamed or moved gets its
/// new location as a Transfer signed with the bot key (from `botKeyEnv`). Then the
/// package-set updater proposes the newest published version of every package whose
/// dependencies are in the latest set, as one PackageSetUpdate, and publishes the next set
/// with what passes.
///
/// Progress is a bar on a terminal and plain log lines otherwise (CI). Exit status 1 when
/// the transferrer could not look a package up or record a move (the package sets are
/// updated all the same).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Report what would change and write nothing (reads the working trees as they are).
    #[arg(long)]
    pub dry_run: bool,
}

impl Args {
    pub fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        let config = global.config()?;
        let opened = if self.dry_run {
            None
        } else {
            Some(super::open_with(global, config.clone())?)
        };
        // The transferrer's trouble never stops the package sets: it is reported, and the
        // exit status says so at the end.
        let moves = config
            .bot_public_key
            .as_ref()
            .map(|_| transferrer(global, &config, opened.as_ref()));
        let moves_ok = match &moves {
            None => true,
            Some(Ok(run)) => run.all_ok(),
            Some(Err(_)) => false,
        };
        if !global.json {
            match &moves {
                None => {}
                Some(Ok(run)) => print_transferrer(run),
                Some(Err(e)) => errorln!("{}", super::error_chain(e)),
            }
        }
        let progress = Reporter::new(global.json);
        let (report, dry_run) = if self.dry_run {
            let report = super::package_set::with_dry_run_inputs(global, &config, |inputs| {
                package_set::daily(inputs, None, &progress)
            })?;
            (report, true)
        } else {
            let opened = opened.as_ref().expect("opened when not a dry run");
            let ctx = opened.ctx();
            let inputs = Inputs::of(&ctx);
            (package_set::daily(&inputs, Some(&ctx), &progress), false)
        };
        progress.finish();
        let report = report.context("the daily package-set update failed")?;
        if global.json {
            let moves = moves.map(|moves| match moves {
                Ok(run) => TransferrerOutput::new(&run),
                Err(e) => TransferrerOutput::failed(&e),
            });
            super::json::print(&DailyOutput::new(&report, dry_run, moves))?;
        } else {
            match &report.update {
                Some(update) => super::package_set::print_report(global, update, dry_run)?,
                None => match &report.latest {
                    Some(v) => outln!("package set {v}: up to date, nothing to propose"),
                    None => outln!(
                        "no package set yet: a trustee starts the first one with `regis package-set update`"
                    ),
                },
            }
        }
        Ok(if moves_ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        })
    }
}

/// Look the GitHub-hosted packages up and record the moves (only list them on a dry run,
/// `opened` = `None`).
fn transferrer(
    global: &Global,
    config: &Config,
    opened: Option<&crate::operation::Opened>,
) -> anyhow::Result<transferrer::Run> {
    let github = GitHubApi::new(
        config.github_api_url.as_str(),
        config.github_token_env.value(),
    )?;
    let ctx = opened.map(crate::operation::Opened::ctx);
    Ok(transferrer::run(
        config,
        &global.registry,
        ctx.as_ref(),
        &github,
        config.bot_key_env.value().as_deref(),
    )?)
}

/// What the transferrer did, as text.
fn print_transferrer(run: &transferrer::Run) {
    let survey = &run.survey;
    outln!(
        "transferrer: {} GitHub locations checked, {} moved, {} not found, {} could not be looked up",
        survey.checked,
        survey.moved.len(),
        survey.missing.len(),
        survey.failed.len()
    );
    for (name, location) in &survey.missing {
        outln!("  not found {name}: {location} (left as it is)");
    }
    for (name, e) in &survey.failed {
        outln!("  lookup failed {name}: {e} (tried again next run)");
    }
    match &run.recorded {
        Recorded::DryRun => {
            for m in &survey.moved {
                outln!("  would transfer {}: {} -> {}", m.name, m.from, m.to);
            }
        }
        Recorded::Unsigned(e) => errorln!("{}", crate::error_chain(e)),
        Recorded::Moves(moves) => {
            for (m, result) in moves {
                match result {
                    Ok(_) => outln!("  transferred {}: {} -> {}", m.name, m.from, m.to),
                    Err(e) => outln!("  could not transfer {}: {}", m.name, crate::error_chain(e)),
                }
            }
        }
    }
}
