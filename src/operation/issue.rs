//! The GitHub issue flow: an issue (or a comment on one) → the payload in its text → the
//! operation → comments on the issue. The CLI (`regis process-issue`) reads the event and
//! the environment and prints; everything said on the issue is decided here.

use std::fmt::Write as _;

use crate::auth::{AuthError, SignatureFormat};
use crate::github::{EventKind, GitHub, GitHubError, IssueEvent};
use crate::package_set::Authority;
use crate::payload::{Authenticated, AuthenticatedData, Operation, PackageSetUpdate, Publish};
use crate::schema::Location;

use super::authorize::{self, AuthorizeError};
use super::package_set::{self, Silent};
use super::{Context, publish, report, transfer, unpublish};

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
    PackageSet(#[from] package_set::PackageSetOpError),
}

/// What handling an issue came to.
#[derive(Debug)]
pub struct Processed {
    pub success: bool,
    /// One line: what was done, or what failed and why.
    pub headline: String,
    /// The result comment posted on the issue.
    pub comment: String,
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
    issue.kind == EventKind::Comment
        && OWN_COMMENT_STARTS
            .iter()
            .any(|start| issue.body.starts_with(start))
}

/// `text` in a fenced `text` block whose fence is longer than any run of backticks in it,
/// so nothing inside can close it.
pub fn fenced(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    let newline = if text.ends_with('\n') { "" } else { "\n" };
    format!("{fence}text\n{text}{newline}{fence}\n")
}

/// The comment posted when regis could not run at all (the registry could not be opened,
/// GitHub refused a comment), with the reason.
pub fn could_not_run_comment(reason: &str) -> String {
    format!(
        "**Failed**: regis could not run.\n\n{}\nA maintainer needs to look at the registry's workflow run.\n",
        fenced(reason)
    )
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
    let processed = match read_issue(issue) {
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
            github
                .comment(&issue.issue, &start)
                .map_err(IssueError::StartComment)?;
            run(ctx, github, issue, operation, bot_key, &what)
        }
    };
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
        Operation::Publish(p) => format!("publish of `{}` at `{}`", p.name, p.reference),
        Operation::Authenticated(signed) => match signed.data() {
            Ok(AuthenticatedData::Transfer(t)) => format!("transfer of `{}`", t.name),
            Ok(AuthenticatedData::Unpublish(u)) => {
                format!("unpublish of `{}@{}`", u.name, u.version)
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
) -> Processed {
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

fn failure(headline: String, error: &RequestError, hint: &str) -> Processed {
    let reason = crate::error_chain(error);
    Processed {
        success: false,
        comment: format!("**Failed**: {headline}.\n\n{}\n{hint}\n", fenced(&reason)),
        headline: format!("{headline}: {reason}"),
    }
}

fn success(headline: String, details: &str, extra: &str) -> Processed {
    Processed {
        success: true,
        comment: format!("**Done**: {headline}.\n\n{}{extra}", fenced(details)),
        headline,
    }
}

fn run_publish(ctx: &Context<'_>, request: &Publish) -> Result<Processed, RequestError> {
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
    ))
}

fn run_signed(
    ctx: &Context<'_>,
    github: &dyn GitHub,
    issue: &IssueEvent,
    mut signed: Authenticated,
    bot_key: Option<&str>,
) -> Result<Processed, RequestError> {
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
            ))
        }
        AuthenticatedData::Unpublish(_) => {
            let report = unpublish::unpublish(ctx, &signed)?;
            Ok(success(
                format!("unpublished `{}@{}`", report.name, report.version),
                &report::unpublish(&report),
                &extra,
            ))
        }
    }
}

fn run_package_set(
    ctx: &Context<'_>,
    github: &dyn GitHub,
    issue: &IssueEvent,
    request: &PackageSetUpdate,
) -> Result<Processed, RequestError> {
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
    match &report.set {
        Some(set) if report.rejected.is_empty() => Ok(success(
            format!("published package set `{}`", set.version),
            &details,
            &note,
        )),
        None if report.already_applied() => Ok(success(
            match &report.previous {
                Some(set) => format!("package set `{}` already has this update", set.version),
                None => "the package sets already have this update".to_owned(),
            },
            &details,
            &note,
        )),
        _ => Ok(Processed {
            success: false,
            headline: format!(
                "the package set update was not fully accepted ({} of {} changes refused)",
                report.rejected.len(),
                report.rejected.len() + report.accepted.len()
            ),
            comment: format!(
                "**Not fully accepted**: some changes were refused.\n\n{}\nComment on this issue with a corrected payload to try the refused changes again.\n{note}",
                fenced(&details)
            ),
        }),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences_outlast_any_backticks_inside() {
        assert_eq!(fenced("plain"), "```text\nplain\n```\n");
        assert_eq!(fenced("a\n"), "```text\na\n```\n");
        assert_eq!(
            fenced("x ```\n**Done**: forged"),
            "````text\nx ```\n**Done**: forged\n````\n"
        );
    }
}
