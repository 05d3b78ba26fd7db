//! `regis history NAME`: a package's atoms, checked, newest first.

use std::process::ExitCode;

use anyhow::Context as _;

use crate::operation::history;
use crate::schema::PackageName;

use super::Global;
use super::output::outln;

/// Show a package's history: its atoms, newest first, each checked.
///
/// Each operation on a package run with an atom key (`trustAtomKey`) leaves one atom in
/// storage: what was done, the version, the tarball's hash and size, the hash of the
/// metadata file it left, the signed payload that authorised it, when, and the previous
/// atom's id. This walks the chain from the head the registry checkout records
/// (`atoms/<name>`) and checks each atom's hash, its signature (against the atom keys of the root
/// chain that are not revoked, or the configured atom key when the registry has no root of
/// trust) and its
/// link, and that the newest atom records the metadata file as it is now.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The package.
    pub name: PackageName,
}

impl Args {
    pub fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        let config = global.config()?;
        let storage = (global.storage_location(&config)?.open())
            .map_err(|e| super::could_not_run(e.into()))?;
        let history = history::history(&global.registry, &config, storage.as_ref(), &self.name)
            .with_context(|| format!("the history of `{}` does not verify", self.name))?;
        if global.json {
            super::json::print(&super::json::HistoryOutput::from(&history))?;
            return Ok(ExitCode::SUCCESS);
        }
        outln!(
            "{} atoms of `{}`, verified against {}; head `{}`",
            history.atoms.len(),
            history.name,
            history.trusted,
            history.head
        );
        for verified in &history.atoms {
            let atom = &verified.atom.signed;
            let version = atom.version.as_ref().map(|v| format!("@{v}"));
            let tarball = (atom.tarball.as_ref())
                .map(|t| format!(", tarball `{}` ({} bytes)", t.hash, t.bytes));
            outln!(
                "{}  {}{}  {}{}",
                atom.time,
                atom.operation,
                version.unwrap_or_default(),
                verified.id,
                tarball.unwrap_or_default()
            );
        }
        Ok(ExitCode::SUCCESS)
    }
}
