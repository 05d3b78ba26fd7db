//! `regis process-issue --event FILE`: the CI entry. A GitHub event (an issue opened, a
//! comment created) → the payload in its text → the operation → comments on the issue.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};

use crate::auth::SignatureFormat;
use crate::github::{Event, EventKind, GitHub, GitHubApi, IssueEvent};
use crate::operation::Context;
use crate::operation::package_set::{self, Silent};
use crate::operation::{authorize, publish, transfer, unpublish};
use crate::package_set::Authority;
use crate::payload::{Authenticated, AuthenticatedData, Operation, PackageSetUpdate, Publish};
use crate::schema::Location;

use super::Global;

/// Handle a GitHub issue event: read the payload in the issue (or comment) text, run it,
/// and answer on the issue.
///
/// Acts on `issues: opened` and `issue_comment: created`; ignores pull requests and the
/// bot's own comments. Posts a comment when it starts and one with the result, closes the
/// issue on success and leaves it open on failure (a new comment with a fixed payload
/// runs again). The GitHub token comes from the variable named by `githubTokenEnv`, the
/// bot key from `botKeyEnv`; neither is ever printed. Exit status 1 when the operation
/// failed.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The event JSON that GitHub Actions writes.
    #[arg(long, env = "GITHUB_EVENT_PATH", value_name = "FILE")]
    pub event: PathBuf,
}

impl Args {
    pub fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        let config = global.config()?;
        let text = std::fs::read_to_string(&self.event)
            .with_context(|| format!("reading the event `{}`", self.event.display()))?;
        let issue = match Event::parse(&text, &config.bot_login)
            .with_context(|| format!("reading the event `{}`", self.event.display()))?
        {
            Event::Issue(issue) if is_own_comment(&issue) => {
                println!("nothing to do: the comment is one of regis's own answers");
                return Ok(ExitCode::SUCCESS);
            }
            Event::Issue(issue) => issue,
            Event::Ignored { reason } => {
                println!("nothing to do: {reason}");
                return Ok(ExitCode::SUCCESS);
            }
        };
        let token = config.github_token_env.value();
        if token.is_none() {
            bail!(
                "no GitHub token: set the environment variable `{}` (`githubTokenEnv` in regis.dhall)",
                config.github_token_env
            );
        }
        let github = GitHubApi::new(config.github_api_url.as_str(), token)?;
        let bot_key = config.bot_key_env.value();
        let processed = super::Opened::with_config(global, config.clone()).and_then(|opened| {
            process(
                &opened.ctx(),
                &github,
                &issue,
                bot_key.as_deref(),
                run_url().as_deref(),
            )
        });
        let processed = match processed {
            Ok(processed) => processed,
            Err(e) => {
                // The registry could not be opened or GitHub did not take a comment: say so
                // on the issue if GitHub lets us, and in the run.
                let reason = super::error_chain(&e);
                let _ = github.comment(
                    &issue.issue,
                    &format!(
                        "**Failed**: regis could not run.\n\n{}\nA maintainer needs to look at the registry's workflow run.\n",
                        fenced(&reason)
                    ),
                );
                println!("::error title=regis::{}", workflow_escape(&reason));
                return Err(e);
            }
        };
        println!("{}", workflow_escape(&processed.headline));
        if !processed.success {
            println!(
                "::error title=regis::{}",
                workflow_escape(&processed.headline)
            );
        }
        write_step_summary(&processed.comment)?;
        Ok(if processed.success {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        })
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

fn is_own_comment(issue: &IssueEvent) -> bool {
    issue.kind == EventKind::Comment
        && OWN_COMMENT_STARTS
            .iter()
            .any(|start| issue.body.starts_with(start))
}

/// `text` in a fenced `text` block whose fence is longer than any run of backticks in it,
/// so nothing inside can close it.
fn fenced(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    let newline = if text.ends_with('\n') { "" } else { "\n" };
    format!("{fence}text\n{text}{newline}{fence}\n")
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

/// Read the payload, comment that work starts, run it, comment the result, close the issue
/// on success. Failures of the operation are answered on the issue; failures to talk to
/// GitHub are errors.
pub fn process(
    ctx: &Context<'_>,
    github: &dyn GitHub,
    issue: &IssueEvent,
    bot_key: Option<&str>,
    run_url: Option<&str>,
) -> anyhow::Result<Processed> {
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
                .context("posting the start comment")?;
            run(ctx, github, issue, operation, bot_key, &what)
        }
    };
    github
        .comment(&issue.issue, &processed.comment)
        .context("posting the result comment")?;
    if processed.success {
        github.close(&issue.issue).context("closing the issue")?;
    }
    Ok(processed)
}

fn read_issue(issue: &IssueEvent) -> anyhow::Result<(Operation, Vec<String>)> {
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
fn remote_locations_only(operation: &Operation) -> anyhow::Result<()> {
    let location = match operation {
        Operation::Publish(p) => p.location.clone(),
        Operation::Authenticated(signed) => match signed.data() {
            Ok(AuthenticatedData::Transfer(t)) => Some(t.new_location),
            _ => None,
        },
        Operation::PackageSetUpdate(_) => None,
    };
    match location {
        Some(Location::Git { url, .. }) if !url.starts_with("https://") => bail!(
            "`gitUrl` `{}` is not an `https://` URL: a location given in an issue must be a public `https://` git URL (or `githubOwner`/`githubRepo`)",
            crate::git::redact_url(&url)
        ),
        _ => Ok(()),
    }
}

fn failure(headline: String, error: &anyhow::Error, hint: &str) -> Processed {
    let reason = super::error_chain(error);
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

fn run_publish(ctx: &Context<'_>, request: &Publish) -> anyhow::Result<Processed> {
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
        &super::publish::describe(&report),
        &source,
    ))
}

fn run_signed(
    ctx: &Context<'_>,
    github: &dyn GitHub,
    issue: &IssueEvent,
    mut signed: Authenticated,
    bot_key: Option<&str>,
) -> anyhow::Result<Processed> {
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
                &super::transfer::describe(&report),
                &extra,
            ))
        }
        AuthenticatedData::Unpublish(_) => {
            let report = unpublish::unpublish(ctx, &signed)?;
            Ok(success(
                format!("unpublished `{}@{}`", report.name, report.version),
                &super::unpublish::describe(&report),
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
) -> anyhow::Result<Processed> {
    // Anyone may add and upgrade: a trustee check GitHub cannot answer (a token that may
    // not read the team) leaves the author with that, and the answer says why.
    let (authority, note) = match is_trustee(ctx, github, &issue.author) {
        Ok(true) => (Authority::Trustee, String::new()),
        Ok(false) => (Authority::Anyone, String::new()),
        Err(e) => (
            Authority::Anyone,
            format!(
                "\nNote: treated as an update by anyone (additions and upgrades only): {}.\n",
                super::error_chain(&e)
            ),
        ),
    };
    let report = package_set::update(ctx, request, authority, &Silent)?;
    let details = super::package_set::describe(&report, false);
    match &report.set {
        Some(set) if report.rejected.is_empty() => Ok(success(
            format!("published package set `{}`", set.version),
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
fn is_trustee(ctx: &Context<'_>, github: &dyn GitHub, login: &str) -> anyhow::Result<bool> {
    let Some(team) = &ctx.config.trustee_team else {
        return Ok(false);
    };
    github
        .is_team_member(team.org(), team.slug(), login)
        .with_context(|| format!("checking whether `{login}` is in the trustee team `{team}`"))
}

/// Sign `payload` with the bot key from the environment (checked against `botPublicKey`).
fn sign_as_bot(ctx: &Context<'_>, bot_key: Option<&str>, payload: &str) -> anyhow::Result<String> {
    let key = authorize::bot_key(ctx.config, bot_key)
        .context("the payload is not signed, and the bot cannot sign it for the trustee")?;
    Ok(key.sign(
        payload,
        SignatureFormat::Raw,
        &ctx.config.signature_namespace,
    )?)
}

/// The link to this workflow run, from the variables GitHub Actions sets.
fn run_url() -> Option<String> {
    let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
    Some(format!(
        "{}/{}/actions/runs/{}",
        var("GITHUB_SERVER_URL")?,
        var("GITHUB_REPOSITORY")?,
        var("GITHUB_RUN_ID")?
    ))
}

/// Append to `$GITHUB_STEP_SUMMARY` when GitHub Actions provides it.
fn write_step_summary(markdown: &str) -> anyhow::Result<()> {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").map(PathBuf::from) else {
        return Ok(());
    };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("opening the step summary `{}`", path.display()))?;
    writeln!(file, "{markdown}")
        .with_context(|| format!("writing the step summary `{}`", path.display()))
}

/// A workflow command's message: `%`, CR and LF escaped as GitHub Actions expects.
fn workflow_escape(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_messages_keep_to_one_line() {
        assert_eq!(workflow_escape("50% done\nnext\r"), "50%25 done%0Anext%0D");
        // A forged workflow command in user text cannot start a line.
        let forged = workflow_escape("bad key `x\n::warning title=forged::hello`");
        assert!(
            !forged.contains('\n') && !forged.starts_with("::"),
            "{forged}"
        );
    }

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
