//! `regis solve NAME@VERSION` (or `NAME@TAG`): the build plan of a published version; exit
//! 0 solved, 1 no plan, 2 could not run.

use std::process::ExitCode;

use anyhow::Context as _;

use crate::schema::{PackageSpec, Version, VersionSpec};
use crate::solver::{self, DirPackages, SolveError, Solver};
use crate::store::{IndexDir, RegistryDir};

use super::Global;
use super::output::outln;

/// Print the build plan of a published version: the compiler and one version of every
/// package it depends on, directly or not — the newest that work together.
///
/// Reads the registry and index working trees as they are. `NAME@TAG` names the version the
/// package's tag names (`regis alias`; `latest`, unless set, the newest version that is
/// published and not yanked). Without `--compiler`, the newest compiler the version is
/// recorded to build with that also solves is chosen.
/// Exit status: 0 solved, 1 no build plan (the conflict is explained), 2 could not run.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The version to solve for, e.g. `aff@7.1.0`, or a tag naming it, e.g. `aff@next`.
    #[arg(value_name = "NAME@VERSION|TAG")]
    pub package: PackageSpec,
    /// Solve for this compiler version only.
    #[arg(long, value_name = "VERSION")]
    pub compiler: Option<Version>,
}

impl Args {
    pub fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        let (version, outcome) = self
            .solve(global)
            .with_context(|| format!("could not solve `{}`", self.package))
            .map_err(super::could_not_run)?;
        let PackageSpec { name, spec } = &self.package;
        let tag = match spec {
            VersionSpec::Tag(tag) => Some(tag),
            VersionSpec::Version(_) => None,
        };
        if global.json {
            super::json::print(&super::json::SolveOutput::new(
                name, &version, tag, &outcome,
            ))?;
        } else {
            match &outcome {
                Ok(plan) => {
                    let tagged = tag.map(|t| format!(" ({t})")).unwrap_or_default();
                    outln!("{name}@{version}{tagged} with compiler {}", plan.compiler);
                    if plan.resolutions.is_empty() {
                        outln!("  (no dependencies)");
                    }
                    for (name, version) in &plan.resolutions {
                        outln!("  {name} {version}");
                    }
                }
                Err(conflict) => outln!("{conflict}"),
            }
        }
        Ok(if outcome.is_ok() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        })
    }

    /// The version solved for, and `Err(explanation)` when there is no plan.
    fn solve(
        &self,
        global: &Global,
    ) -> anyhow::Result<(Version, Result<solver::BuildPlan, String>)> {
        let config = global.config()?;
        let registry = RegistryDir::new(&global.registry);
        let index = IndexDir::new(global.index_dir(&config)?);
        let packages = DirPackages {
            registry: &registry,
            index: &index,
        };
        let solver = Solver::new(&packages);
        let PackageSpec { name, spec } = &self.package;
        let version = &match spec {
            VersionSpec::Version(version) => version.clone(),
            VersionSpec::Tag(_) => match registry.read_metadata(name)? {
                Some(metadata) => metadata.resolve(name, spec)?,
                None => anyhow::bail!("`{name}` is not in the registry (no metadata file)"),
            },
        };
        let versions = solver.versions(name)?;
        let Some(versions) = versions else {
            anyhow::bail!("`{name}` is not in the registry (no metadata or index file)");
        };
        if !versions.contains_key(version) {
            let published: Vec<String> = versions.keys().rev().map(|v| format!("`{v}`")).collect();
            anyhow::bail!(
                "`{name}@{version}` is not published (published: {})",
                if published.is_empty() {
                    "none".to_owned()
                } else {
                    published.join(", ")
                }
            );
        }
        let request =
            solver::Request::published(name.clone(), version.clone(), self.compiler.clone());
        match solver.solve(&request, &[]) {
            Ok(plan) => Ok((version.clone(), Ok(plan))),
            Err(e @ SolveError::NoPlan { .. }) => Ok((version.clone(), Err(e.to_string()))),
            Err(e) => Err(e.into()),
        }
    }
}
