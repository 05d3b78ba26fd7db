//! `regis package-set update FILE [--dry-run]`: apply a PackageSetUpdate to the latest set.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};

use crate::config::Config;
use crate::operation::package_set::{self, Inputs, UpdateReport};
use crate::operation::report;
use crate::package_set::Authority;
use crate::payload::{Operation, PackageSetUpdate};
use crate::schema::Timestamp;
use crate::storage::{MemoryStorage, Storage, Stores};

use super::Global;
use super::output::out;
use super::progress::Reporter;

/// Package sets: curated snapshots of versions that build together with one compiler.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    Update(UpdateArgs),
}

impl Command {
    pub fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        match self {
            Command::Update(a) => a.run(global),
        }
    }
}

/// Apply a PackageSetUpdate `{compiler?, packages: {name: version | null}}` to the latest
/// package set and publish the next one.
///
/// Every member must be published, every dependency of every member must be in the set,
/// and each member must be recorded as building with the set's compiler (or, with a
/// `buildCheck` configured, the set must pass it). The whole batch is tried first; if it
/// fails, changes are tried one at a time and those that pass are kept. The local command
/// acts as the registry operator, a trustee: removals, downgrades and compiler changes are
/// allowed. Exit status: 0 every change accepted, 1 some or all refused.
#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    /// The payload file (`-` for standard input).
    pub file: PathBuf,
    /// Print the resulting set and write nothing (reads the working trees as they are).
    #[arg(long)]
    pub dry_run: bool,
}

impl UpdateArgs {
    fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        let request = read_update(&self.file)?;
        let progress = Reporter::new(global.json);
        let report = if self.dry_run {
            with_dry_run_inputs(global, &global.config()?, |inputs| {
                package_set::dry_run(inputs, &request, Authority::Trustee, &progress)
            })?
        } else {
            let opened = super::open(global)?;
            package_set::update(&opened.ctx(), &request, Authority::Trustee, &progress)
        };
        progress.finish();
        let report = report.context("could not update the package set")?;
        print_report(global, &report, self.dry_run)?;
        Ok(if report.rejected.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        })
    }
}

fn read_update(file: &std::path::Path) -> anyhow::Result<PackageSetUpdate> {
    match super::read_payload(file)? {
        Operation::PackageSetUpdate(u) => Ok(u),
        _ => bail!(
            "`{}` is not a PackageSetUpdate: expected `{{\"compiler\"?: VERSION, \"packages\": {{NAME: VERSION | null}}}}`",
            file.display()
        ),
    }
}

/// Run `f` on the inputs of a dry run: the working trees named by the options, as they
/// are. Storage is the configured one (with its mirrors) if any; without one, an empty store (a build
/// check, which needs the members' tarballs, is then refused).
pub(crate) fn with_dry_run_inputs<T>(
    global: &Global,
    config: &Config,
    f: impl FnOnce(&Inputs<'_>) -> T,
) -> anyhow::Result<T> {
    let index = global.index_dir(config)?;
    let storage: Box<dyn Storage> = if global.has_storage(config) {
        global.open_storage(config)?
    } else if config.build_check.is_some() {
        bail!("the build check runs over the members' tarballs: pass `--storage DIR|URL`");
    } else {
        Box::new(MemoryStorage::new())
    };
    let mirrors = match global.has_storage(config) {
        true => global.open_mirrors(config)?,
        false => Vec::new(),
    };
    Ok(f(&Inputs {
        config,
        registry: &global.registry,
        index: &index,
        stores: Stores {
            primary: storage.as_ref(),
            mirrors: &mirrors,
        },
        today: Timestamp::now().date(),
    }))
}

pub(crate) fn print_report(
    global: &Global,
    report: &UpdateReport,
    dry_run: bool,
) -> anyhow::Result<()> {
    if global.json {
        return super::json::print(&super::json::PackageSetUpdateOutput::new(report, dry_run));
    }
    out!("{}", report::package_set(report, dry_run));
    if dry_run && let Some(set) = &report.set {
        out!("{}", set.to_json());
    }
    Ok(())
}
