//! `regis process-issue`: the CI entry. `--event FILE`: a GitHub event (an issue opened, a
//! comment created) → the payload in its text → the operation → comments on the issue.
//! `--pending`: the same for every open issue whose latest request has no answer yet.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};

use crate::config::Config;
use crate::github::{Event, GitHub, GitHubApi, RepoRef};
use crate::operation::issue::{self, Processed, Timing};
use crate::operation::report;
use crate::schema::Timestamp;

use super::Global;
use super::json::{self, AnswerOutput, EventOutput, PendingOutput};
use super::output::{self, out, outln};

/// Handle a GitHub issue event, or every issue left unanswered: read the payload in the
/// issue (or comment) text, run it, and answer on the issue.
///
/// With `--event` (what the issue workflow runs): acts on `issues: opened` and
/// `issue_comment: created`; ignores pull requests and the bot's own comments. Posts a
/// comment when it starts and one with the result (at most 65,536 characters: a longer
/// report is cut there, and printed whole here and in `$GITHUB_STEP_SUMMARY`), closes the
/// issue on success and leaves it open on failure (a new comment with a fixed payload runs
/// again). Exit status 1 when the operation failed.
///
/// With `--pending` (run on a schedule and after each issue run): reads the open issues of
/// `--repo` oldest first and answers each whose latest request — its body or a comment
/// carrying a payload — has no answer from regis yet, as its own event would have been
/// answered. A request is answered when a comment of regis's (by `botLogin`, or starting
/// as regis's comments do) carries the hidden marker `<!-- regis:answered body -->` or
/// `<!-- regis:answered comment <id> -->` naming it; a closed issue is answered. A request
/// made in the last 10 minutes that no run has started on, or that a run started on in
/// the last 70 minutes, is left to that run. Exit status 1 when an issue could not be
/// answered (GitHub failed).
///
/// With `--json`: one document, `ignored` (why the event needs nothing) or `repo` and the
/// `answer` (the operation's report under `result`); with `--pending`, every answer and
/// each issue left alone. No `::error` annotation is written then.
///
/// The GitHub token comes from the variable named by `githubTokenEnv`, the bot key from
/// `botKeyEnv`; neither is ever printed.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The event JSON that GitHub Actions writes.
    #[arg(long, env = "GITHUB_EVENT_PATH", value_name = "FILE")]
    pub event: Option<PathBuf>,
    /// Answer every open issue whose latest request has no answer from regis, oldest
    /// first, instead of one event.
    #[arg(long)]
    pub pending: bool,
    /// The repository whose issues `--pending` reads.
    #[arg(long, env = "GITHUB_REPOSITORY", value_name = "OWNER/NAME")]
    pub repo: Option<String>,
}

impl Args {
    pub fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        let config = global.config()?;
        if self.pending {
            let Some(repo) = self.repo else {
                bail!(
                    "`--pending` needs the repository: give `--repo OWNER/NAME` (GitHub Actions sets `GITHUB_REPOSITORY`)"
                );
            };
            let repo: RepoRef = repo.parse()?;
            return pending(global, config, &repo);
        }
        let Some(event) = self.event else {
            bail!(
                "no event: give `--event FILE` (GitHub Actions sets `GITHUB_EVENT_PATH`), or `--pending`"
            );
        };
        let text = super::read_capped(&event, super::EVENT_MAX_BYTES)
            .with_context(|| format!("reading the event `{}`", event.display()))?;
        let issue = match Event::parse(&text, &config.bot_login)
            .with_context(|| format!("reading the event `{}`", event.display()))?
        {
            Event::Issue(issue) if issue::is_own_comment(&issue) => {
                return ignored(
                    global,
                    "the comment is one of regis's own answers".to_owned(),
                );
            }
            Event::Issue(issue) => issue,
            Event::Ignored { reason } => return ignored(global, reason),
        };
        let github = github(&config)?;
        let bot_key = config.bot_key_env.value();
        let run_url = run_url();
        let processed = super::open_with(global, config.clone()).and_then(|opened| {
            Ok(issue::process(
                &opened.ctx(),
                &github,
                &issue,
                bot_key.as_deref(),
                run_url.as_deref(),
            )?)
        });
        let processed = match processed {
            Ok(processed) => processed,
            Err(e) => {
                // The registry could not be opened or GitHub did not take a comment: say so
                // on the issue if GitHub lets us, and in the run.
                let reason = super::error_chain(&e);
                let comment = issue::could_not_run_comment(
                    &reason,
                    issue::request_text(&issue),
                    run_url.as_deref(),
                );
                let _ = github.comment(&issue.issue, &comment);
                output::error_annotation(&reason);
                return Err(e);
            }
        };
        if global.json {
            let answer = AnswerOutput::new(issue.issue.number, &processed);
            json::print(&EventOutput::answered(issue.issue.repo.to_string(), answer))?;
        } else {
            print_processed(&processed);
        }
        if !processed.success {
            output::error_annotation(&processed.headline);
        }
        write_step_summary(&processed.full_comment)?;
        Ok(if processed.success {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        })
    }
}

/// An event that needs nothing done: say why, exit status 0.
fn ignored(global: &Global, reason: String) -> anyhow::Result<ExitCode> {
    if global.json {
        json::print(&EventOutput::ignored(reason))?;
    } else {
        outln!("nothing to do: {reason}");
    }
    Ok(ExitCode::SUCCESS)
}

/// `process-issue --pending`: answer what is unanswered, print each answer and the tally.
fn pending(global: &Global, config: Config, repo: &RepoRef) -> anyhow::Result<ExitCode> {
    let github = github(&config)?;
    let bot_key = config.bot_key_env.value();
    let opened = super::open_with(global, config)?;
    let timing = Timing::default();
    let run = issue::pending(
        &opened.ctx(),
        &github,
        repo,
        bot_key.as_deref(),
        run_url().as_deref(),
        Timestamp::now().as_datetime(),
        &timing,
    )
    .with_context(|| format!("listing the open issues of `{repo}`"))?;
    let mut summary = String::new();
    for (number, processed) in &run.answered {
        if !global.json {
            out!("#{number}: ");
            print_processed(processed);
        }
        summary.push_str(&format!("### #{number}\n\n{}\n", processed.full_comment));
    }
    let tally = report::pending(&run, &timing);
    if global.json {
        json::print(&PendingOutput::new(repo.to_string(), &run))?;
    } else {
        out!("{tally}");
    }
    for (number, reason) in &run.failed {
        output::error_annotation(&format!("could not answer #{number}: {reason}"));
    }
    summary.push_str(&tally);
    write_step_summary(&summary)?;
    Ok(if run.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The GitHub client, with the token from the variable `githubTokenEnv` names.
fn github(config: &Config) -> anyhow::Result<GitHubApi> {
    let token = config.github_token_env.value();
    if token.is_none() {
        bail!(
            "no GitHub token: set the environment variable `{}` (`githubTokenEnv` in regis.dhall)",
            config.github_token_env
        );
    }
    Ok(GitHubApi::new(config.github_api_url.as_str(), token)?)
}

/// The headline, then the report whole (the comment may quote it cut) unless the headline
/// already holds it.
fn print_processed(processed: &Processed) {
    outln!("{}", processed.headline);
    if !processed.headline.contains(processed.report.trim_end()) {
        outln!("{}", processed.report.trim_end());
    }
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

/// How much a step summary holds: GitHub refuses one over 1 MiB.
const STEP_SUMMARY_MAX_BYTES: usize = 1_000_000;

/// Append to `$GITHUB_STEP_SUMMARY` when GitHub Actions provides it; past
/// [`STEP_SUMMARY_MAX_BYTES`], cut, saying the job log holds the rest.
fn write_step_summary(markdown: &str) -> anyhow::Result<()> {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").map(PathBuf::from) else {
        return Ok(());
    };
    let note = "\n\n… (cut: more than a step summary holds; the job log has it all)";
    let markdown = if markdown.len() > STEP_SUMMARY_MAX_BYTES {
        let head = crate::text::head(markdown, STEP_SUMMARY_MAX_BYTES - note.len());
        format!("{head}{note}")
    } else {
        markdown.to_owned()
    };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("opening the step summary `{}`", path.display()))?;
    writeln!(file, "{markdown}")
        .with_context(|| format!("writing the step summary `{}`", path.display()))
}
