//! The GitHub issue flow: an issue (or a comment on one) → the payload in its text → the
//! operation → comments on the issue; and [`pending`], which finds the open issues whose
//! latest request has no answer from regis and answers them, oldest first. The CLI
//! (`regis process-issue`) reads the event and the environment and prints; everything said
//! on the issue is decided here.
//!
//! Each of regis's comments ends with a hidden marker naming the request it is about, the
//! issue's body or a comment by its id (`comment.rs`): the start comment says
//! `regis:working`, the result comment `regis:answered`. That is how [`pending`] knows a
//! request was answered, whatever else was said on the issue meanwhile.

mod comment;
mod pending;

pub use comment::{Answer, COMMENT_MAX_BYTES, Mark, RequestText, fenced, marker, markers};
pub use pending::{Left, PENDING_MAX_PAGES, PendingRun, Timing, pending};

use std::fmt::Write as _;

use crate::auth::{AuthError, SignatureFormat};
use crate::github::{EventKind, GitHub, GitHubError, IssueEvent};
use crate::package_set::Authority;
use crate::payload::{Authenticated, AuthenticatedData, Operation, PackageSetUpdate, Publish};
use crate::schema::Location;

use super::authorize::{self, AuthorizeError};
use super::package_set::{self, Silent};
use super::{Context, alias, deprecate, publish, report, transfer, unpublish, yank};

/// What stops the issue flow: GitHub did not take what regis had to say. (What the
/// request itself gets wrong is answered on the issue, not returned.)
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("posting the start comment")]
    StartComment(#[source] GitHubError),
    #[error("posting the result comment")]
    ResultComment(#[source] GitHubError),
    #[error("closing the issue")]
    Close(#[source] GitHubError),
}

/// Why a request from an issue is refused; the result comment quotes it.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error(
        "`gitUrl` `{url}` is not an `https://` URL: a location given in an issue must be a public `https://` git URL (or `githubOwner`/`githubRepo`)"
    )]
    NotHttps { url: String },
    #[error("the payload is not signed, and the bot cannot sign it for the trustee")]
    BotCannotSign(#[source] AuthorizeError),
    #[error(transparent)]
    BotSignature(#[from] AuthError),
    #[error("checking whether `{login}` is in the trustee team `{team}`")]
    TeamCheck {
        login: String,
        team: String,
        #[source]
        cause: GitHubError,
    },
    #[error(transparent)]
    IssueBody(#[from] crate::issue_body::IssueBodyError),
    #[error(transparent)]
    Payload(#[from] crate::payload::PayloadError),
    #[error(transparent)]
    Publish(#[from] publish::PublishError),
    #[error(transparent)]
    Transfer(#[from] transfer::TransferError),
    #[error(transparent)]
    Unpublish(#[from] unpublish::UnpublishError),
    #[error(transparent)]
    Yank(#[from] yank::YankError),
    #[error(transparent)]
    Deprecate(#[from] deprecate::DeprecateError),
    #[error(transparent)]
    Alias(#[from] alias::AliasError),
    #[error(transparent)]
    PackageSet(#[from] package_set::PackageSetOpError),
}

/// What handling an issue came to.
#[derive(Debug)]
pub struct Processed {
    pub success: bool,
    /// One line: what was done, or what failed and why.
    pub headline: String,
    /// The report the result comment quotes, whole: for the job log.
    pub report: String,
    /// The result comment with the report whole, without its marker: for the step summary.
    pub full_comment: String,
    /// The result comment as posted on the issue: at most [`COMMENT_MAX_BYTES`] (the
    /// report cut when it is longer), ending with its `regis:answered` marker.
    pub comment: String,
    /// What the operation reported, when it ran to a report (`None`: the payload could not
    /// be read, or the operation failed).
    pub result: Option<OperationReport>,
}

/// The report of the operation an issue asked for.
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

/// What running a request came to, before it is posted.
struct Outcome {
    success: bool,
    headline: String,
    answer: Answer,
    result: Option<OperationReport>,
}

impl Outcome {
    fn processed(self, request: RequestText, run_url: Option<&str>) -> Processed {
        Processed {
            success: self.success,
            headline: self.headline,
            comment: self.answer.posted(request, run_url),
            full_comment: self.answer.full(),
            report: self.answer.report,
            result: self.result,
        }
    }
}

/// Which text of the issue `issue` carries: its body, or a comment.
pub fn request_text(issue: &IssueEvent) -> RequestText {
    match issue.kind {
        EventKind::Opened => RequestText::Body,
        EventKind::Comment => RequestText::Comment(issue.comment_id),
    }
}

/// How each of regis's own comments starts: a comment that starts so is never read as a
/// request, even when `botLogin` does not match the account regis comments as.
const OWN_COMMENT_STARTS: [&str; 4] = [
    "Working on the ",
    "**Done**",
    "**Failed**",
    "**Not fully accepted**",
];

/// Whether the event is a comment regis itself wrote: it starts like one of its answers.
pub fn is_own_comment(issue: &IssueEvent) -> bool {
    issue.kind == EventKind::Comment && starts_like_own_comment(&issue.body)
}

/// Whether a comment's text starts the way regis's own comments start.
fn starts_like_own_comment(body: &str) -> bool {
    OWN_COMMENT_STARTS
        .iter()
        .any(|start| body.starts_with(start))
}

/// The comment posted when regis could not run at all (the registry could not be opened,
/// GitHub refused a comment), with the reason; it answers `request`, so that
/// [`pending`] does not try again and again while the registry is broken.
pub fn could_not_run_comment(reason: &str, request: RequestText, run_url: Option<&str>) -> String {
    Answer {
        head: "**Failed**: regis could not run.".to_owned(),
        report: reason.to_owned(),
        tail: "\nA maintainer needs to look at the registry's workflow run.\n".to_owned(),
    }
    .posted(request, run_url)
}

/// Read the payload, comment that work starts, run it, comment the result, close the issue
/// on success. Failures of the operation are answered on the issue; failures to talk to
/// GitHub are errors. `bot_key` is the bot's private key (it signs for trustees);
/// `run_url` links the start comment to the workflow run.
pub fn process(
    ctx: &Context<'_>,
    github: &dyn GitHub,
    issue: &IssueEvent,
    bot_key: Option<&str>,
    run_url: Option<&str>,
) -> Result<Processed, IssueError> {
    let request = request_text(issue);
    let outcome = match read_issue(issue) {
        Err(e) => failure(
            "could not read the payload".to_owned(),
            &e,
            "Comment on this issue with the corrected payload (the JSON object, or the filled-in issue form) and it runs again.",
        ),
        Ok((operation, repairs)) => {
            let what = describe_request(&operation);
            let mut start = format!("Working on the {what}, as requested by @{}.", issue.author);
            if let Some(url) = run_url {
                let _ = write!(start, " ([log]({url}))");
            }
            for note in &repairs {
                let _ = write!(start, "\n\nNote: {note}.");
            }
            let marker = marker(Mark::Working, request);
            let start = comment::within_limit(format!("{start}\n\n{marker}\n"), &marker);
            github
                .comment(&issue.issue, &start)
                .map_err(IssueError::StartComment)?;
            run(ctx, github, issue, operation, bot_key, &what)
        }
    };
    let processed = outcome.processed(request, run_url);
    github
        .comment(&issue.issue, &processed.comment)
        .map_err(IssueError::ResultComment)?;
    if processed.success {
        github.close(&issue.issue).map_err(IssueError::Close)?;
    }
    Ok(processed)
}

fn read_issue(issue: &IssueEvent) -> Result<(Operation, Vec<String>), RequestError> {
    let payload = crate::issue_body::payload_text(&issue.body)?;
    let operation = Operation::parse(&payload.text)?;
    Ok((operation, payload.repaired))
}

/// `publish of `prelude@6.0.1``, for the start comment and headlines.
fn describe_request(operation: &Operation) -> String {
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

fn run(
    ctx: &Context<'_>,
    github: &dyn GitHub,
    issue: &IssueEvent,
    operation: Operation,
    bot_key: Option<&str>,
    what: &str,
) -> Outcome {
    let result = remote_locations_only(&operation).and_then(|()| match operation {
        Operation::Publish(request) => run_publish(ctx, &request),
        Operation::Authenticated(signed) => run_signed(ctx, github, issue, signed, bot_key),
        Operation::PackageSetUpdate(request) => run_package_set(ctx, github, issue, &request),
    });
    match result {
        Ok(done) => done,
        Err(e) => failure(
            format!("the {what} failed"),
            &e,
            "Comment on this issue with a corrected payload to try again.",
        ),
    }
}

/// A location an issue gives must be on the network: a `file://` (or any non-`https://`)
/// `gitUrl` would have the CI runner read its own disk.
fn remote_locations_only(operation: &Operation) -> Result<(), RequestError> {
    let location = match operation {
        Operation::Publish(p) => p.location.clone(),
        Operation::Authenticated(signed) => match signed.data() {
            Ok(AuthenticatedData::Transfer(t)) => Some(t.new_location),
            _ => None,
        },
        Operation::PackageSetUpdate(_) => None,
    };
    match location {
        Some(Location::Git { url, .. }) if !url.starts_with("https://") => {
            Err(RequestError::NotHttps {
                url: crate::schema::redact_url(&url),
            })
        }
        _ => Ok(()),
    }
}

fn failure(headline: String, error: &RequestError, hint: &str) -> Outcome {
    let reason = crate::error_chain(error);
    Outcome {
        success: false,
        answer: Answer {
            head: format!("**Failed**: {headline}."),
            report: reason.clone(),
            tail: format!("\n{hint}\n"),
        },
        headline: format!("{headline}: {reason}"),
        result: None,
    }
}

fn success(headline: String, details: &str, extra: &str, result: OperationReport) -> Outcome {
    Outcome {
        success: true,
        answer: Answer {
            head: format!("**Done**: {headline}."),
            report: details.to_owned(),
            tail: extra.to_owned(),
        },
        headline,
        result: Some(result),
    }
}

fn run_publish(ctx: &Context<'_>, request: &Publish) -> Result<Outcome, RequestError> {
    let report = publish::publish(ctx, request)?;
    let source = match &report.location {
        Location::GitHub { owner, repo, .. } => format!(
            "\nSource: {}/{owner}/{repo}/tree/{}\n",
            ctx.config.github_base_url, request.reference
        ),
        Location::Git { .. } => String::new(),
    };
    Ok(success(
        format!("published `{}@{}`", report.name, report.version),
        &report::publish(&report),
        &source,
        OperationReport::Publish(Box::new(report)),
    ))
}

fn run_signed(
    ctx: &Context<'_>,
    github: &dyn GitHub,
    issue: &IssueEvent,
    mut signed: Authenticated,
    bot_key: Option<&str>,
) -> Result<Outcome, RequestError> {
    let data = signed.data()?;
    let mut extra = String::new();
    if signed.signature.trim().is_empty() && is_trustee(ctx, github, &issue.author)? {
        signed.signature = sign_as_bot(ctx, bot_key, &signed.payload)?;
        extra = format!(
            "\nThe payload was not signed: @{} is a trustee, so the registry bot signed it for them.\n",
            issue.author
        );
    }
    match data {
        AuthenticatedData::Transfer(_) => {
            let report = transfer::transfer(ctx, &signed)?;
            Ok(success(
                format!("transferred `{}` to `{}`", report.name, report.to),
                &report::transfer(&report),
                &extra,
                OperationReport::Transfer(report),
            ))
        }
        AuthenticatedData::Unpublish(_) => {
            let report = unpublish::unpublish(ctx, &signed)?;
            Ok(success(
                format!("unpublished `{}@{}`", report.name, report.version),
                &report::unpublish(&report),
                &extra,
                OperationReport::Unpublish(report),
            ))
        }
        AuthenticatedData::Yank(_) | AuthenticatedData::Unyank(_) => {
            let report = yank::yank(ctx, &signed)?;
            let verb = if report.yanked { "yanked" } else { "unyanked" };
            Ok(success(
                format!("{verb} `{}@{}`", report.name, report.version),
                &report::yank(&report),
                &extra,
                OperationReport::Yank(report),
            ))
        }
        AuthenticatedData::Deprecate(_) => {
            let report = deprecate::deprecate(ctx, &signed)?;
            let headline = match &report.deprecated {
                Some(_) => format!("deprecated `{}`", report.name),
                None => format!("`{}` is not deprecated", report.name),
            };
            Ok(success(
                headline,
                &report::deprecate(&report),
                &extra,
                OperationReport::Deprecate(report),
            ))
        }
        AuthenticatedData::Alias(_) | AuthenticatedData::Unalias(_) => {
            let report = alias::alias(ctx, &signed)?;
            let headline = match &report.version {
                Some(version) => format!("`{}@{}` names `{version}`", report.name, report.tag),
                None => format!("`{}@{}` names no version", report.name, report.tag),
            };
            Ok(success(
                headline,
                &report::alias(&report),
                &extra,
                OperationReport::Alias(report),
            ))
        }
    }
}

fn run_package_set(
    ctx: &Context<'_>,
    github: &dyn GitHub,
    issue: &IssueEvent,
    request: &PackageSetUpdate,
) -> Result<Outcome, RequestError> {
    // Anyone may add and upgrade: a trustee check GitHub cannot answer (a token that may
    // not read the team) leaves the author with that, and the answer says why.
    let (authority, note) = match is_trustee(ctx, github, &issue.author) {
        Ok(true) => (Authority::Trustee, String::new()),
        Ok(false) => (Authority::Anyone, String::new()),
        Err(e) => (
            Authority::Anyone,
            format!(
                "\nNote: treated as an update by anyone (additions and upgrades only): {}.\n",
                crate::error_chain(&e)
            ),
        ),
    };
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
    if let Some(headline) = headline {
        return Ok(success(
            headline,
            &details,
            &note,
            OperationReport::PackageSet(report),
        ));
    }
    Ok(Outcome {
        success: false,
        headline: format!(
            "the package set update was not fully accepted ({} of {} changes refused)",
            report.rejected.len(),
            report.rejected.len() + report.accepted.len()
        ),
        answer: Answer {
            head: "**Not fully accepted**: some changes were refused.".to_owned(),
            report: details,
            tail: format!(
                "\nComment on this issue with a corrected payload to try the refused changes again.\n{note}"
            ),
        },
        result: Some(OperationReport::PackageSet(report)),
    })
}

/// Whether `login` is in the configured trustee team (no team configured: nobody is).
fn is_trustee(ctx: &Context<'_>, github: &dyn GitHub, login: &str) -> Result<bool, RequestError> {
    let Some(team) = &ctx.config.trustee_team else {
        return Ok(false);
    };
    github
        .is_team_member(team.org(), team.slug(), login)
        .map_err(|cause| RequestError::TeamCheck {
            login: login.to_owned(),
            team: team.to_string(),
            cause,
        })
}

/// Sign `payload` with the bot key (checked against `botPublicKey`).
fn sign_as_bot(
    ctx: &Context<'_>,
    bot_key: Option<&str>,
    payload: &str,
) -> Result<String, RequestError> {
    let key = authorize::bot_key(ctx.config, bot_key).map_err(RequestError::BotCannotSign)?;
    Ok(key.sign(
        payload,
        SignatureFormat::Raw,
        &ctx.config.signature_namespace,
    )?)
}
