//! `regis check`: audit a registry; exit 0 clean, 1 findings, 2 could not run.

use std::process::ExitCode;

use anyhow::Context as _;

use crate::check;
use crate::storage::Stores;
use crate::store::{IndexDir, RegistryDir};

use super::Global;
use super::output::{outln, warnln};

/// Audit registry ↔ index ↔ package sets (↔ storage with --storage).
///
/// Reports every file not in canonical form, published versions missing from the index and
/// index lines not published, dependency ranges no indexed version satisfies, package-set
/// members that are not published or miss a dependency, two packages at one location, and
/// (with storage) missing or altered tarballs, tarballs nothing records, and each package's
/// atom chain: verified from its head (`atoms/<name>`), with metadata changed outside an
/// operation and a version's tarball, publish time or index line differing from what its
/// publish atom recorded reported. A tarball the storage lacks that a mirror holds with the
/// recorded hash is a warning, not a finding. Exit status: 0 clean, 1 findings, 2 could not
/// run.
#[derive(Debug, clap::Args)]
pub struct Args {}

impl Args {
    pub fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        let report = self
            .audit(global)
            .context("could not check the registry")
            .map_err(super::could_not_run)?;
        if global.json {
            super::json::print(&super::json::CheckOutput::from(&report))?;
        } else {
            print_text(&report);
        }
        Ok(if report.is_clean() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        })
    }

    fn audit(&self, global: &Global) -> anyhow::Result<check::Report> {
        let config = global.config()?;
        let index = global.index_dir(&config)?;
        // Mirrors are read only when storage is audited.
        let (storage, mirrors) = match global.has_storage(&config) {
            true => (
                Some(global.open_storage(&config)?),
                global.open_mirrors(&config)?,
            ),
            false => (None, Vec::new()),
        };
        let stores = storage.as_deref().map(|primary| Stores {
            primary,
            mirrors: &mirrors,
        });
        Ok(check::run(
            &RegistryDir::new(&global.registry),
            &IndexDir::new(index),
            stores,
            config.trust_atom_key.as_ref(),
        )?)
    }
}

fn print_text(report: &check::Report) {
    for f in &report.findings {
        outln!("{f}");
    }
    if !report.from_mirrors.is_empty() {
        let reads: Vec<String> = (report.from_mirrors.iter())
            .map(|r| format!("`{}@{}` from `{}`", r.package, r.version, r.mirror))
            .collect();
        warnln!(
            "{} tarballs the storage lacks were read from a mirror, with the hash metadata records: {}; `regis storage sync` copies them back",
            report.from_mirrors.len(),
            crate::text::summarised(&reads, 5, ", ")
        );
    }
    let mut storage = String::new();
    if report.tarballs_checked > 0 {
        storage.push_str(&format!(", {} tarballs", report.tarballs_checked));
    }
    if report.atom_chains > 0 {
        storage.push_str(&format!(", {} atom chains", report.atom_chains));
    }
    outln!(
        "checked {} packages, {} versions, {} index files, {} package sets{storage}: {}",
        report.packages,
        report.versions,
        report.index_files,
        report.package_sets,
        match report.findings.len() {
            0 => "no findings".to_owned(),
            1 => "1 finding".to_owned(),
            n => format!("{n} findings"),
        }
    );
}
