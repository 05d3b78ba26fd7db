//! The compiler matrix of a publish with a build check: which compilers metadata records.
//!
//! The PureScript Registry publishes with one compiler (the payload's, else the one its
//! solver finds), then tries every other compiler it supports (registry-dev's
//! `solveForAllCompilers`: a solve for exactly that compiler, and for each that solves a
//! matrix job that compiles the package with that plan and adds the compiler to its
//! metadata `compilers`, kept sorted). regis does the same in the publish itself, before
//! anything is written, so the one metadata commit records every compiler that passed:
//! the configured `compilers` other than the first, newest first, each solved for exactly
//! (the dependencies allow it when some version of each, in range, records it — older
//! compilers get older dependency versions), and the build check run with that plan. A
//! failure with one of them is not an error: the compiler is left out, and the report
//! says why. The checks with these compilers share `matrixTimeoutSeconds`. A re-run of a
//! publish whose metadata already landed keeps what that run recorded (metadata takes a
//! version once) and reports it.
//!
//! Where regis differs: registry-dev's matrix jobs run later, one by one, and also cascade
//! to dependants (a dependency that gains a compiler enqueues its dependants); regis runs
//! one operation at a time and has no job queue, so a dependant gains a compiler only when
//! it publishes a new version.

use std::time::{Duration, Instant};

use crate::hooks::{Ending, HookKind, HookOutcome, Workspace};
use crate::schema::Version;
use crate::solver::{self, DirPackages, Solver};
use crate::store::{IndexDir, RegistryDir};

use super::{Context, PublishError, PublishPlan, add_dependencies, run_hook};

/// How the build check went with one compiler after the first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tried {
    /// It passed: the compiler is recorded.
    Passed,
    /// It failed: the compiler is not recorded.
    Failed(Ending),
    /// No build plan uses it (no version of some dependency in range records it): the check
    /// did not run.
    NoPlan,
    /// `matrixTimeoutSeconds` ran out before the check could finish: not recorded.
    OutOfTime,
}

impl Tried {
    /// Why a compiler is left out, or `None` if it passed.
    pub fn reason(&self) -> Option<String> {
        match self {
            Tried::Passed => None,
            Tried::Failed(ending) => Some(format!("the build check {ending}")),
            Tried::NoPlan => Some("no build plan: the dependencies do not build with it".into()),
            Tried::OutOfTime => {
                Some("not checked: `matrixTimeoutSeconds` ran out first".to_owned())
            }
        }
    }
}

/// The compilers a publish's build check ran with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matrix {
    /// The build plan's compiler, checked first: a failure with it refuses the publish.
    pub first: Version,
    /// The other configured compilers, newest first, and how each went.
    pub others: Vec<(Version, Tried)>,
}

impl Matrix {
    /// The first compiler and every other that passed, ascending: metadata `compilers`.
    pub fn passed(&self) -> Vec<Version> {
        let mut passed: Vec<Version> = self
            .others
            .iter()
            .filter(|(_, tried)| *tried == Tried::Passed)
            .map(|(compiler, _)| compiler.clone())
            .chain([self.first.clone()])
            .collect();
        passed.sort();
        passed.dedup();
        passed
    }

    /// The compilers left out, grouped by why (groups in the order their first compiler
    /// was tried, each group newest first).
    pub fn left_out(&self) -> Vec<(String, Vec<Version>)> {
        let mut groups: Vec<(String, Vec<Version>)> = Vec::new();
        for (compiler, tried) in &self.others {
            let Some(reason) = tried.reason() else {
                continue;
            };
            match groups.iter_mut().find(|(r, _)| *r == reason) {
                Some((_, compilers)) => compilers.push(compiler.clone()),
                None => groups.push((reason, vec![compiler.clone()])),
            }
        }
        groups
    }
}

/// The compilers tried after `first`: the configured ones other than it, newest first,
/// each once.
pub fn candidates(configured: &[Version], first: &Version) -> Vec<Version> {
    let mut candidates: Vec<Version> = configured.iter().filter(|c| *c != first).cloned().collect();
    candidates.sort_by(|a, b| b.cmp(a));
    candidates.dedup();
    candidates
}

/// Run the build check of `plan` with each of [`candidates`] that has a build plan, each
/// in a fresh copy of the package, within `matrixTimeoutSeconds` together (each run also
/// within `hookTimeoutSeconds`). An error preparing or starting a run (a dependency's
/// stored tarball missing or altered, the workspace unwritable) fails the publish, as it
/// does for the first compiler; only the check's own failure leaves a compiler out. What
/// was read from a mirror is added to `from_mirrors` ([`Workspace::from_mirrors`]).
pub(super) fn run(
    ctx: &Context<'_>,
    registry: &RegistryDir,
    index: &IndexDir,
    plan: &PublishPlan,
    command: &str,
    from_mirrors: &mut Vec<String>,
) -> Result<Matrix, PublishError> {
    let first = plan.build_plan.compiler.clone();
    let budget = Duration::from_secs(ctx.config.matrix_timeout_seconds);
    if budget.is_zero() {
        return Ok(Matrix {
            first,
            others: Vec::new(),
        });
    }
    let packages = DirPackages { registry, index };
    let request = solver::Request::manifest(&plan.manifest, None);
    let plans = Solver::new(&packages)
        .plans_per_compiler(&request, &candidates(&ctx.config.compilers, &first))?;
    let hook_timeout = Duration::from_secs(ctx.config.hook_timeout_seconds);
    let started = Instant::now();
    let mut workspace: Option<Workspace> = None;
    let mut others = Vec::with_capacity(plans.len());
    for (compiler, build_plan) in plans {
        let left = budget.saturating_sub(started.elapsed());
        let tried = match build_plan {
            None => Tried::NoPlan,
            Some(_) if left.is_zero() => Tried::OutOfTime,
            Some(build_plan) => {
                let ws = match &mut workspace {
                    Some(ws) => ws,
                    None => workspace.insert(Workspace::new()?),
                };
                // A fresh package each time: nothing one run leaves there reaches the next.
                ws.set_package(&plan.manifest.name, &plan.manifest.version, &plan.tarball)?;
                add_dependencies(ctx, registry, ws, &plan.manifest, &build_plan.resolutions)?;
                let timeout = left.min(hook_timeout);
                let outcome = run_hook(
                    ws,
                    plan,
                    &build_plan,
                    HookKind::BuildCheck,
                    command,
                    timeout,
                )?;
                judge(&outcome, timeout < hook_timeout)
            }
        };
        others.push((compiler, tried));
    }
    if let Some(ws) = workspace {
        from_mirrors.extend_from_slice(ws.from_mirrors());
    }
    Ok(Matrix { first, others })
}

/// How a run went; a run killed at a timeout the budget cut short ran out of time rather
/// than failed.
fn judge(outcome: &HookOutcome, cut_short: bool) -> Tried {
    match outcome.ending() {
        None => Tried::Passed,
        Some(Ending::TimedOut { .. }) if cut_short => Tried::OutOfTime,
        Some(ending) => Tried::Failed(ending),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn versions(texts: &[&str]) -> Vec<Version> {
        texts.iter().map(|t| t.parse().unwrap()).collect()
    }

    #[test]
    fn the_candidates_are_the_other_configured_compilers_newest_first() {
        let configured = versions(&["0.15.2", "0.15.15", "0.14.0", "0.15.10", "0.15.15"]);
        assert_eq!(
            candidates(&configured, &"0.15.15".parse().unwrap()),
            versions(&["0.15.10", "0.15.2", "0.14.0"])
        );
        // A first compiler outside the list (a payload's) leaves the list whole.
        assert_eq!(
            candidates(&configured, &"0.15.16".parse().unwrap()),
            versions(&["0.15.15", "0.15.10", "0.15.2", "0.14.0"])
        );
        assert_eq!(
            candidates(&versions(&["0.15.15"]), &"0.15.15".parse().unwrap()),
            []
        );
    }

    #[test]
    fn metadata_records_the_first_and_every_compiler_that_passed_ascending() {
        let m = Matrix {
            first: "0.15.10".parse().unwrap(),
            others: [
                ("0.15.16", Tried::Failed(Ending::Status(1))),
                ("0.15.15", Tried::Passed),
                ("0.15.2", Tried::Passed),
                ("0.15.0", Tried::Failed(Ending::Status(1))),
                ("0.14.9", Tried::NoPlan),
                ("0.14.0", Tried::OutOfTime),
                ("0.13.8", Tried::NoPlan),
            ]
            .into_iter()
            .map(|(v, t)| (v.parse().unwrap(), t))
            .collect(),
        };
        assert_eq!(m.passed(), versions(&["0.15.2", "0.15.10", "0.15.15"]));
        let left: Vec<String> = m
            .left_out()
            .iter()
            .map(|(reason, vs)| format!("{}: {reason}", crate::text::list(vs)))
            .collect();
        assert_eq!(
            left,
            [
                "0.15.16, 0.15.0: the build check exited with status `1` (expected `0`)",
                "0.14.9, 0.13.8: no build plan: the dependencies do not build with it",
                "0.14.0: not checked: `matrixTimeoutSeconds` ran out first",
            ]
        );
        // Nothing else tried: the first alone.
        let alone = Matrix {
            first: "0.15.15".parse().unwrap(),
            others: vec![],
        };
        assert_eq!(alone.passed(), versions(&["0.15.15"]));
        assert!(alone.left_out().is_empty());
    }

    #[test]
    fn a_run_killed_at_a_cut_timeout_ran_out_of_time() {
        let outcome = |success, status, timed_out| HookOutcome {
            kind: HookKind::BuildCheck,
            command: "check".into(),
            success,
            status,
            timed_out,
            output: String::new(),
            duration: Duration::from_secs(7),
        };
        assert_eq!(judge(&outcome(true, Some(0), false), true), Tried::Passed);
        assert_eq!(
            judge(&outcome(false, Some(2), false), true),
            Tried::Failed(Ending::Status(2))
        );
        assert_eq!(judge(&outcome(false, None, true), true), Tried::OutOfTime);
        assert_eq!(
            judge(&outcome(false, None, true), false),
            Tried::Failed(Ending::TimedOut { seconds: 7 })
        );
    }
}
