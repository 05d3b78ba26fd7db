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
use crate::payload::{Authenticated, Operation, PackageSetUpdate};

use super::authorize::{self, AuthorizeError};
use super::publish::AdmitAll;
pub use super::request::OperationReport;
use super::request::{self, Ran};
use super::{Context, alias, deprecate, package_set, publish, transfer, unpublish, yank};

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
            let what = request::describe(&operation);
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

fn run(
    ctx: &Context<'_>,
    github: &dyn GitHub,
    issue: &IssueEvent,
    operation: Operation,
    bot_key: Option<&str>,
    what: &str,
) -> Outcome {
    let result = match request::disallowed_location(&operation, &["https"]) {
        Some(url) => Err(RequestError::NotHttps { url }),
        None => match operation {
            Operation::Publish(_) => request::run(ctx, operation, Authority::Anyone, &AdmitAll)
                .map(|ran| (ran, String::new())),
            Operation::Authenticated(signed) => run_signed(ctx, github, issue, signed, bot_key),
            Operation::PackageSetUpdate(update) => run_package_set(ctx, github, issue, &update),
        },
    };
    match result {
        Ok((ran, note)) => answered(ran, &note),
        Err(e) => failure(
            format!("the {what} failed"),
            &e,
            "Comment on this issue with a corrected payload to try again.",
        ),
    }
}

/// The answer to a request that ran, with `note` after its report.
fn answered(ran: Ran, note: &str) -> Outcome {
    let mut tail = String::new();
    if let Some(source) = &ran.source {
        tail = format!("\n{source}\n");
    }
    tail.push_str(note);
    if ran.success {
        return Outcome {
            success: true,
            answer: Answer {
                head: format!("**Done**: {}.", ran.headline),
                report: ran.report,
                tail,
            },
            headline: ran.headline,
            result: Some(ran.result),
        };
    }
    Outcome {
        success: false,
        headline: ran.headline,
        answer: Answer {
            head: "**Not fully accepted**: some changes were refused.".to_owned(),
            report: ran.report,
            tail: format!(
                "\nComment on this issue with a corrected payload to try the refused changes again.\n{tail}"
            ),
        },
        result: Some(ran.result),
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

fn run_signed(
    ctx: &Context<'_>,
    github: &dyn GitHub,
    issue: &IssueEvent,
    mut signed: Authenticated,
    bot_key: Option<&str>,
) -> Result<(Ran, String), RequestError> {
    signed.data()?;
    let mut note = String::new();
    if signed.signature.trim().is_empty() && is_trustee(ctx, github, &issue.author)? {
        signed.signature = sign_as_bot(ctx, bot_key, &signed.payload)?;
        note = format!(
            "\nThe payload was not signed: @{} is a trustee, so the registry bot signed it for them.\n",
            issue.author
        );
    }
    Ok((request::run_signed(ctx, &signed)?, note))
}

fn run_package_set(
    ctx: &Context<'_>,
    github: &dyn GitHub,
    issue: &IssueEvent,
    update: &PackageSetUpdate,
) -> Result<(Ran, String), RequestError> {
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
    Ok((request::run_package_set(ctx, update, authority)?, note))
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
