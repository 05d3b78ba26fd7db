//! `regis verify [--adopt]`: the whole registry checked as a client checks one release;
//! `--adopt` first lays down the TUF repository of a registry that has a root of trust.

use std::process::ExitCode;

use crate::operation::verify::{self, Verification};

use super::Global;
use super::fetch::ClientArgs;
use super::output::{outln, warnln};

/// Verify every target of the registry, and hold its metadata to them.
///
/// Loads the registry through TUF as `regis fetch` does, then reads every target (tarballs,
/// atoms, package sets) against its signed length and hash, checks each package's atoms as
/// one chain (every atom of the package on it, each tarball's target naming the publish
/// atom that recorded exactly that tarball), and, with the registry checkout, holds each
/// metadata file to the targets: every published version listed with its size, hash and
/// entry hash (a publish time or ref changed by hand shows), nothing else listed, and the
/// last atom the registry records the chain's. Exits 1 when anything does not verify.
///
/// `--adopt` first lays down the TUF repository of a registry that has a root of trust
/// (`regis keys init`) and none yet: a target for every published version (checked against
/// storage's bytes where storage holds them), every atom and every package set, signed with
/// the online keys regis.dhall names, committed and copied to storage.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Lay down the TUF repository first (once, with the online keys configured).
    #[arg(long)]
    pub adopt: bool,
    #[command(flatten)]
    pub client: ClientArgs,
}

impl Args {
    pub fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        let adopted = if self.adopt {
            let opened = super::open(global)?;
            Some(verify::adopt(&opened.ctx())?)
        } else {
            None
        };
        let client = self.client.load(global)?;
        let registry = global
            .registry
            .join(crate::config::CONFIG_FILE)
            .is_file()
            .then_some(global.registry.as_path());
        let found = verify::verify_all(&client, registry)?;
        if global.json {
            super::json::print(&super::json::VerifyOutput::new(adopted.as_ref(), &found))?;
        } else {
            if let Some(a) = &adopted {
                outln!(
                    "Adopted: {} tarballs, {} atoms and {} package sets listed in {} hash bins",
                    a.tarballs,
                    a.atoms,
                    a.package_sets,
                    a.bins
                );
                if !a.missing.is_empty() {
                    warnln!(
                        "storage holds no tarball for {} published versions ({}): they are listed with the size and hash metadata records",
                        a.missing.len(),
                        crate::text::list(&a.missing)
                    );
                }
            }
            outln!("{}", describe(&found));
        }
        Ok(if found.problems.is_empty() && found.missing.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        })
    }
}

fn describe(v: &Verification) -> String {
    let mut out = String::new();
    for problem in &v.problems {
        out.push_str(&format!("problem: {problem}\n"));
    }
    if !v.missing.is_empty() {
        out.push_str(&format!(
            "missing: storage does not serve {} targets: {}\n",
            v.missing.len(),
            crate::text::list(&v.missing)
        ));
    }
    out.push_str(&format!(
        "verify: root version {}, timestamp {}, snapshot {}; {} targets ({} tarballs, {} atoms on {} chains, {} package sets), {} metadata files held to them; {}",
        v.root,
        v.timestamp,
        v.snapshot,
        v.targets,
        v.tarballs,
        v.atoms,
        v.chains,
        v.package_sets,
        v.metadata,
        match v.problems.len() {
            0 => "all verified".to_owned(),
            1 => "1 problem".to_owned(),
            n => format!("{n} problems"),
        }
    ));
    out
}
