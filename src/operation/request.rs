//! One request run through its operation: what the GitHub issue flow ([`super::issue`]) and
//! the server (`regis serve`'s job queue) share, so neither has an operation of its own.
//! Who asked is decided by the caller (a trustee on GitHub, a token's scope on the server)
//! and handed in as an [`Authority`]; a signed payload is held to its owners' keys by the
//! operation itself.

use crate::package_set::Authority;
use crate::payload::{Authenticated, AuthenticatedData, Operation, PackageSetUpdate, Publish};
use crate::schema::Location;

use super::issue::RequestError;
use super::package_set::{self, Silent};
use super::publish::{self, Admit};
use super::{Context, alias, deprecate, report, transfer, unpublish, yank};

/// The report of the operation a request asked for.
#[derive(Debug)]
pub enum OperationReport {
    Publish(Box<publish::PublishReport>),
    Transfer(transfer::TransferReport),
    Unpublish(unpublish::UnpublishReport),
    Yank(yank::YankReport),
    Deprecate(deprecate::DeprecateReport),
    Alias(alias::AliasReport),
    PackageSet(package_set::UpdateReport),
}

/// What running a request came to.
#[derive(Debug)]
pub struct Ran {
    pub success: bool,
    /// One line: what was done, or how far a package set update got.
    pub headline: String,
    /// The operation's report, whole.
    pub report: String,
    /// Said after the report: where the source is (a publish from GitHub).
    pub source: Option<String>,
    pub result: OperationReport,
}

/// `publish of `prelude@6.0.1``, for start comments, headlines and job logs.
pub fn describe(operation: &Operation) -> String {
    match operation {
        Operation::Publish(Publish {
            name,
            version: Some(v),
            ..
        }) => format!("publish of `{name}@{v}`"),
        Operation::Publish(p) => format!(
            "publish of `{}` at `{}`",
            p.name,
            crate::text::value(&p.reference)
        ),
        Operation::Authenticated(signed) => match signed.data() {
            Ok(AuthenticatedData::Transfer(t)) => format!("transfer of `{}`", t.name),
            Ok(AuthenticatedData::Unpublish(u)) => {
                format!("unpublish of `{}@{}`", u.name, u.version)
            }
            Ok(AuthenticatedData::Yank(y)) => format!("yank of `{}@{}`", y.name, y.yank),
            Ok(AuthenticatedData::Unyank(u)) => format!("unyank of `{}@{}`", u.name, u.unyank),
            Ok(AuthenticatedData::Deprecate(d)) if d.clears() => {
                format!("removal of the deprecation of `{}`", d.name)
            }
            Ok(AuthenticatedData::Deprecate(d)) => format!("deprecation of `{}`", d.name),
            Ok(AuthenticatedData::Alias(a)) => {
                format!("alias of `{}@{}` to `{}`", a.name, a.alias, a.version)
            }
            Ok(AuthenticatedData::Unalias(u)) => {
                format!("removal of the alias `{}@{}`", u.name, u.unalias)
            }
            Err(_) => "signed payload".to_owned(),
        },
        Operation::PackageSetUpdate(u) => match u.packages.len() {
            1 => "package set update (1 change)".to_owned(),
            n => format!("package set update ({n} changes)"),
        },
    }
}

/// The location `operation` names when its URL's scheme is not one of `allowed` (the
/// schemes a request from outside may name: `https` for the issue flow), redacted for
/// messages. A `file://` URL or a path would have the runner read its own disk.
pub fn disallowed_location(operation: &Operation, allowed: &[&str]) -> Option<String> {
    let location = match operation {
        Operation::Publish(p) => p.location.clone(),
        Operation::Authenticated(signed) => match signed.data() {
            Ok(AuthenticatedData::Transfer(t)) => Some(t.new_location),
            _ => None,
        },
        Operation::PackageSetUpdate(_) => None,
    };
    match location {
        Some(Location::Git { url, .. })
            if !allowed.iter().any(|scheme| {
                url.strip_prefix(scheme)
                    .is_some_and(|rest| rest.starts_with("://"))
            }) =>
        {
            Some(crate::schema::redact_url(&url))
        }
        _ => None,
    }
}

/// Run `operation`: a publish (its release put to `admit` before anything is written), a
/// signed operation (authorised by its signature), or a package set update with
/// `authority`.
pub fn run(
    ctx: &Context<'_>,
    operation: Operation,
    authority: Authority,
    admit: &dyn Admit,
) -> Result<Ran, RequestError> {
    match operation {
        Operation::Publish(request) => run_publish(ctx, &request, admit),
        Operation::Authenticated(signed) => run_signed(ctx, &signed),
        Operation::PackageSetUpdate(request) => run_package_set(ctx, &request, authority),
    }
}

fn done(headline: String, report: String, result: OperationReport) -> Ran {
    Ran {
        success: true,
        headline,
        report,
        source: None,
        result,
    }
}

fn run_publish(
    ctx: &Context<'_>,
    request: &Publish,
    admit: &dyn Admit,
) -> Result<Ran, RequestError> {
    let report = publish::publish_admitted(ctx, request, admit)?;
    let source = match &report.location {
        Location::GitHub { owner, repo, .. } => Some(format!(
            "Source: {}/{owner}/{repo}/tree/{}",
            ctx.config.github_base_url, request.reference
        )),
        Location::Git { .. } => None,
    };
    Ok(Ran {
        source,
        ..done(
            format!("published `{}@{}`", report.name, report.version),
            report::publish(&report),
            OperationReport::Publish(Box::new(report)),
        )
    })
}

/// A signed operation, authorised by its signature.
pub fn run_signed(ctx: &Context<'_>, signed: &Authenticated) -> Result<Ran, RequestError> {
    Ok(match signed.data()? {
        AuthenticatedData::Transfer(_) => {
            let report = transfer::transfer(ctx, signed)?;
            done(
                format!("transferred `{}` to `{}`", report.name, report.to),
                report::transfer(&report),
                OperationReport::Transfer(report),
            )
        }
        AuthenticatedData::Unpublish(_) => {
            let report = unpublish::unpublish(ctx, signed)?;
            done(
                format!("unpublished `{}@{}`", report.name, report.version),
                report::unpublish(&report),
                OperationReport::Unpublish(report),
            )
        }
        AuthenticatedData::Yank(_) | AuthenticatedData::Unyank(_) => {
            let report = yank::yank(ctx, signed)?;
            let verb = if report.yanked { "yanked" } else { "unyanked" };
            done(
                format!("{verb} `{}@{}`", report.name, report.version),
                report::yank(&report),
                OperationReport::Yank(report),
            )
        }
        AuthenticatedData::Deprecate(_) => {
            let report = deprecate::deprecate(ctx, signed)?;
            let headline = match &report.deprecated {
                Some(_) => format!("deprecated `{}`", report.name),
                None => format!("`{}` is not deprecated", report.name),
            };
            done(
                headline,
                report::deprecate(&report),
                OperationReport::Deprecate(report),
            )
        }
        AuthenticatedData::Alias(_) | AuthenticatedData::Unalias(_) => {
            let report = alias::alias(ctx, signed)?;
            let headline = match &report.version {
                Some(version) => format!("`{}@{}` names `{version}`", report.name, report.tag),
                None => format!("`{}@{}` names no version", report.name, report.tag),
            };
            done(
                headline,
                report::alias(&report),
                OperationReport::Alias(report),
            )
        }
    })
}

/// A package set update with `authority`: done when every change landed (or the sets had
/// them already), not fully accepted when some were refused.
pub fn run_package_set(
    ctx: &Context<'_>,
    request: &PackageSetUpdate,
    authority: Authority,
) -> Result<Ran, RequestError> {
    let report = package_set::update(ctx, request, authority, &Silent)?;
    let details = report::package_set(&report, false);
    let headline = match &report.set {
        Some(set) if report.rejected.is_empty() => {
            Some(format!("published package set `{}`", set.version))
        }
        None if report.already_applied() => Some(match &report.previous {
            Some(set) => format!("package set `{}` already has this update", set.version),
            None => "the package sets already have this update".to_owned(),
        }),
        _ => None,
    };
    Ok(match headline {
        Some(headline) => done(headline, details, OperationReport::PackageSet(report)),
        None => Ran {
            success: false,
            headline: format!(
                "the package set update was not fully accepted ({} of {} changes refused)",
                report.rejected.len(),
                report.rejected.len() + report.accepted.len()
            ),
            report: details,
            source: None,
            result: OperationReport::PackageSet(report),
        },
    })
}
