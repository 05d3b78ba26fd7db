//! The text of each operation's report: what `regis` prints and what the issue flow
//! quotes in its comments (pure).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::git::CommitOutcome;
use crate::package_set::PackageSet;
use crate::schema::{PackageName, Version};
use crate::storage::{MirrorWrite, Put};

use super::alias::AliasReport;
use super::authorize::Signer;
use super::deprecate::DeprecateReport;
use super::issue::{Left, PENDING_MAX_PAGES, PendingRun, Timing};
use super::package_set::UpdateReport;
use super::publish::PublishReport;
use super::transfer::TransferReport;
use super::unpublish::UnpublishReport;
use super::yank::YankReport;

/// The human summary of a publish.
pub fn publish(r: &PublishReport) -> String {
    let mut out = String::new();
    let verb = if r.changed_nothing() {
        "already published"
    } else {
        "published"
    };
    // writing to a String cannot fail
    let _ = writeln!(out, "{verb} {}@{}", r.name, r.version);
    let _ = writeln!(
        out,
        "  tarball   {} ({} bytes, {} files, {})",
        r.storage_key, r.bytes, r.files, r.hash
    );
    if let Some(url) = &r.download_url {
        let _ = writeln!(out, "  download  {url}");
    }
    let _ = writeln!(
        out,
        "  compiler  {}\n  plan      {}",
        r.build_plan.compiler,
        plan_line(&r.build_plan.resolutions)
    );
    if let Some(matrix) = &r.matrix {
        let _ = writeln!(out, "  compilers {}", joined(&r.compilers));
        for (i, (reason, compilers)) in matrix.left_out().iter().enumerate() {
            let label = if i == 0 { "left out" } else { "" };
            let _ = writeln!(out, "  {label:<9} {}: {reason}", joined(compilers));
        }
    }
    if let Some(signer) = &r.owners_signed_by {
        let _ = writeln!(out, "  owners    changed, signed by {}", signer.describe());
    }
    let stored = match r.storage {
        Put::Stored => "stored",
        Put::AlreadyPresent => "already present",
    };
    let _ = writeln!(out, "  storage   {stored}");
    mirror_lines(&mut out, &r.mirrors);
    let _ = writeln!(out, "  metadata  {}", outcome(&r.metadata));
    let _ = writeln!(out, "  index     {}", outcome(&r.index));
    match &r.docs {
        None => {}
        Some(Ok(o)) => {
            let _ = writeln!(
                out,
                "  docs      built in {:.1} s",
                o.duration.as_secs_f64()
            );
        }
        Some(Err(_)) => out.push_str("  docs      failed (the publish stands)\n"),
    }
    for w in &r.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    if let Some(Err(e)) = &r.docs {
        let _ = writeln!(out, "warning: {e}");
    }
    out
}

/// A line per mirror write: `  mirror    `s3://…`: stored`.
fn mirror_lines(out: &mut String, mirrors: &[MirrorWrite]) {
    for m in mirrors {
        let _ = writeln!(out, "  mirror    {m}");
    }
}

/// Versions separated by `, `.
fn joined(versions: &[Version]) -> String {
    versions
        .iter()
        .map(Version::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The human summary of a transfer.
pub fn transfer(r: &TransferReport) -> String {
    let verb = if r.from.same_place(&r.to) && r.metadata == CommitOutcome::Unchanged {
        "already at"
    } else {
        "transferred to"
    };
    format!(
        "{} {verb} {}\n  from      {}\n  signed by {}\n  metadata  {}\n",
        r.name,
        r.to,
        r.from,
        r.signer.describe(),
        outcome(&r.metadata)
    )
}

/// The human summary of an unpublish.
pub fn unpublish(r: &UnpublishReport) -> String {
    let mut out = format!(
        "unpublished {}@{}\n  reason    {}\n  signed by {}\n  index     {}\n  metadata  {}\n  tarball   {} {}\n",
        r.name,
        r.version,
        r.reason,
        r.signer.describe(),
        outcome(&r.index),
        outcome(&r.metadata),
        r.storage_key,
        if r.tarball_deleted {
            "deleted"
        } else {
            "already gone"
        }
    );
    mirror_lines(&mut out, &r.mirrors);
    out
}

/// The human summary of a yank or an unyank.
pub fn yank(r: &YankReport) -> String {
    let unchanged = r.metadata == CommitOutcome::Unchanged;
    let verb = match (r.yanked, unchanged) {
        (true, false) => "yanked",
        (true, true) => "already yanked",
        (false, false) => "unyanked",
        (false, true) => "not yanked",
    };
    let mut out = format!("{verb} {}@{}\n", r.name, r.version);
    if let Some(reason) = &r.reason {
        let _ = writeln!(out, "  reason    {reason}");
    }
    signed_and_committed(&mut out, &r.signer, &r.metadata);
    out
}

/// The human summary of a deprecation, or of clearing one.
pub fn deprecate(r: &DeprecateReport) -> String {
    let unchanged = r.metadata == CommitOutcome::Unchanged;
    let name = &r.name;
    let mut out = match (&r.deprecated, unchanged) {
        (Some(_), false) => format!("deprecated {name}\n"),
        (Some(_), true) => format!("{name} is already deprecated so\n"),
        (None, false) => format!("{name} is no longer deprecated\n"),
        (None, true) => format!("{name} is not deprecated\n"),
    };
    if let Some(d) = &r.deprecated {
        let _ = writeln!(out, "  message   {}", d.message);
        if let Some(alternative) = &d.alternative {
            let _ = writeln!(out, "  use       {alternative}");
        }
    }
    signed_and_committed(&mut out, &r.signer, &r.metadata);
    out
}

/// The human summary of an alias or an unalias.
pub fn alias(r: &AliasReport) -> String {
    let unchanged = r.metadata == CommitOutcome::Unchanged;
    let spec = format!("{}@{}", r.name, r.tag);
    let mut out = match (&r.version, &r.previous, unchanged) {
        (Some(v), _, true) => format!("{spec} already names {v}\n"),
        (Some(v), Some(before), false) => format!("{spec} moved to {v}\n  was       {before}\n"),
        (Some(v), None, false) => format!("{spec} names {v}\n"),
        (None, Some(before), _) => format!("{spec} removed\n  was       {before}\n"),
        (None, None, _) => format!("{spec} is not set\n"),
    };
    signed_and_committed(&mut out, &r.signer, &r.metadata);
    out
}

/// The lines that end a signed metadata change: who signed it, and the commit.
fn signed_and_committed(out: &mut String, signer: &Signer, metadata: &CommitOutcome) {
    let _ = writeln!(out, "  signed by {}", signer.describe());
    let _ = writeln!(out, "  metadata  {}", outcome(metadata));
}

/// The human summary of a package-set update.
pub fn package_set(report: &UpdateReport, dry_run: bool) -> String {
    let mut out = String::new();
    let from = match &report.previous {
        Some(p) => format!("package set {}", p.version),
        None => "no package set yet".to_owned(),
    };
    match &report.set {
        Some(set) => {
            let _ = writeln!(
                out,
                "{from} -> {} (compiler {}, {} packages){}",
                set.version,
                set.compiler,
                set.packages.len(),
                if dry_run {
                    ", dry run: nothing written"
                } else {
                    ""
                }
            );
        }
        None if report.already_applied() => {
            let _ = writeln!(
                out,
                "{from} already has everything this update asks for: nothing to do"
            );
        }
        None => {
            let _ = writeln!(out, "{from}: no change accepted, nothing written");
        }
    }
    for change in &report.accepted {
        let _ = writeln!(out, "  accepted  {change}");
    }
    for (change, reason) in &report.rejected {
        let _ = writeln!(out, "  refused   {change}: {reason}");
    }
    if !report.unchanged.is_empty() {
        let names: Vec<String> = report.unchanged.iter().map(|n| n.to_string()).collect();
        let _ = writeln!(out, "  unchanged {}", names.join(", "));
    }
    if let Some(commit) = &report.commit {
        let file = report
            .set
            .as_ref()
            .map(PackageSet::file_name)
            .unwrap_or_default();
        let _ = writeln!(out, "  {file}  {}", outcome(commit));
    }
    out
}

/// `a@1.0.0, b@2.0.0`, or `no dependencies`.
pub fn plan_line(resolutions: &BTreeMap<PackageName, Version>) -> String {
    if resolutions.is_empty() {
        return "no dependencies".to_owned();
    }
    resolutions
        .iter()
        .map(|(n, v)| format!("{n}@{v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What `process-issue --pending` did, after each answer: one line per issue it could not
/// answer, then how many open issues it read, answered and left alone, and why.
pub fn pending(run: &PendingRun, timing: &Timing) -> String {
    let mut out = String::new();
    for (number, reason) in &run.failed {
        let _ = writeln!(out, "could not answer #{number}: {reason}");
    }
    let count = |n: usize, one: &str, many: &str| {
        let n = n as u64;
        format!(
            "{} {}",
            crate::text::thousands(n),
            if n == 1 { one } else { many }
        )
    };
    let _ = write!(
        out,
        "{} read, oldest first: {} answered now",
        count(run.open, "open issue", "open issues"),
        crate::text::thousands(run.answered.len() as u64),
    );
    let mut left: BTreeMap<Left, usize> = BTreeMap::new();
    for (_, why) in &run.left {
        *left.entry(*why).or_default() += 1;
    }
    if !left.is_empty() {
        let reasons: Vec<String> = left
            .iter()
            .map(|(why, n)| {
                let n = crate::text::thousands(*n as u64);
                match why {
                    Left::Answered => format!("{n} answered before"),
                    Left::NoPayload => format!("{n} without a payload"),
                    Left::Queued => format!(
                        "{n} waiting for its own run (asked within {} minutes)",
                        timing.queued.num_minutes()
                    ),
                    Left::Running => format!(
                        "{n} being worked on (started within {} minutes)",
                        timing.running.num_minutes()
                    ),
                    Left::TooManyComments => {
                        format!("{n} with more comments than regis reads")
                    }
                }
            })
            .collect();
        let _ = write!(out, "; left alone: {}", reasons.join(", "));
    }
    if !run.failed.is_empty() {
        let _ = write!(
            out,
            "; {} not answered (GitHub failed)",
            crate::text::thousands(run.failed.len() as u64)
        );
    }
    if run.truncated {
        let _ = write!(
            out,
            "; open issues past the first {} were not read (the next run reads on)",
            crate::text::thousands(u64::from(PENDING_MAX_PAGES) * crate::github::PER_PAGE as u64)
        );
    }
    out.push('\n');
    out
}

/// `committed 0123456789, pushed`, `unchanged`, …
pub fn outcome(o: &CommitOutcome) -> String {
    match o {
        CommitOutcome::Unchanged => "unchanged".into(),
        CommitOutcome::Committed {
            commit,
            pushed,
            attempts,
        } => {
            let short = &commit[..commit.len().min(10)];
            let push = if *pushed {
                "pushed"
            } else {
                "not pushed (no remote)"
            };
            let tries = if *attempts > 1 {
                format!(" after {attempts} attempts")
            } else {
                String::new()
            };
            format!("committed {short}, {push}{tries}")
        }
    }
}
