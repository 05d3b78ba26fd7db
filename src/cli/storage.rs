//! `regis storage sync`: every published tarball in the storage and each mirror, each
//! hash checked against metadata.

use std::process::ExitCode;

use crate::operation::sync::{self, SyncReport};
use crate::storage::Stores;
use crate::store::RegistryDir;

use super::Global;
use super::output::{outln, warnln};

/// Work on the tarball storage and its mirrors.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    Sync(SyncArgs),
}

/// Copy to the storage and each mirror the published tarballs it lacks, checking every
/// hash.
///
/// Reads every published version's tarball from the storage and from each mirror (`mirrors`
/// in regis.dhall, or `--mirror`) and checks its hash against metadata. A store that lacks
/// one gets a copy from a store holding the recorded bytes — the primary too, from a
/// mirror —; a store holding other bytes is reported and left alone (a stored tarball is
/// never replaced). The tarballs of unpublished versions are deleted from every store.
/// Reads the registry checkout as it is: run it on an up-to-date one. Exit status: 0 every
/// store holds every published tarball, 1 a problem remains (listed), 2 could not run.
#[derive(Debug, clap::Args)]
pub struct SyncArgs {
    /// Say what would be copied and deleted, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

impl Command {
    pub fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        match self {
            Command::Sync(args) => args.run(global),
        }
    }
}

impl SyncArgs {
    fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        let config = global.config()?;
        let (primary, mirrors) =
            (|| anyhow::Ok((global.open_storage(&config)?, global.open_mirrors(&config)?)))()
                .map_err(super::could_not_run)?;
        if mirrors.is_empty() {
            warnln!(
                "no mirrors (`mirrors` in regis.dhall, or `--mirror`): only the storage's tarballs are checked"
            );
        }
        let stores = Stores {
            primary: primary.as_ref(),
            mirrors: &mirrors,
        };
        let report = sync::sync(&RegistryDir::new(&global.registry), stores, self.dry_run)?;
        if global.json {
            super::json::print(&report)?;
        } else {
            print_text(&report, self.dry_run);
        }
        Ok(match report.is_clean() {
            true => ExitCode::SUCCESS,
            false => ExitCode::from(1),
        })
    }
}

fn print_text(report: &SyncReport, dry_run: bool) {
    let (copied, deleted) = match dry_run {
        true => ("would copy", "would delete"),
        false => ("copied", "deleted"),
    };
    for store in &report.stores {
        for what in &store.copied {
            outln!("{copied} {what} to `{}`", store.store);
        }
        for what in &store.deleted {
            outln!("{deleted} {what} from `{}` (unpublished)", store.store);
        }
    }
    for problem in &report.problems {
        outln!("{problem}");
    }
    for store in &report.stores {
        outln!(
            "{} `{}`: {} of {} published tarballs verified, {} {copied}, {} {deleted}",
            if store.primary { "storage" } else { "mirror" },
            store.store,
            store.verified,
            report.published,
            store.copied.len(),
            store.deleted.len(),
        );
    }
    outln!(
        "sync: {}",
        match report.problems.len() {
            0 => "every store holds every published tarball".to_owned(),
            1 => "1 problem".to_owned(),
            n => format!("{n} problems"),
        }
    );
}
