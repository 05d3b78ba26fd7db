//! [`pending`]: answer every open issue whose latest request has no answer from regis,
//! oldest first — the issues whose own run never came (GitHub dropped the event, the run
//! was cancelled, or it died before answering).
//!
//! An issue's requests are its body and each comment, not regis's own, that carries a
//! payload (text [`payload_text`] reads as one, or fails to read only as JSON or as the
//! issue form: a broken payload is answered too). The latest one counts; it is answered
//! when one of regis's comments carries the `regis:answered` marker naming it. regis's
//! comments are those by `botLogin` and those starting like one of its comments (the same
//! rule the event flow uses to leave them alone). A request is left to the run its own
//! event started while that run may still be on it: until [`Timing::queued`] has passed
//! since it was made when no start comment names it, and until [`Timing::running`] has
//! passed since the start comment when one does. A closed issue is answered.

use chrono::{DateTime, Utc};

use crate::github::{
    Comment, EventKind, GitHub, GitHubError, Issue, IssueEvent, IssueRef, RepoRef,
};
use crate::issue_body::{IssueBodyError, payload_text};

use super::comment::{Mark, markers};
use super::{Context, Processed, process, starts_like_own_comment};

/// How many pages of open issues, and of each issue's comments, [`pending`] reads (100 a
/// page).
pub const PENDING_MAX_PAGES: u32 = 10;

/// How long a request is left to the run its own event started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// A request no start comment names yet is left alone this long after it was made:
    /// its run may still be queued.
    pub queued: chrono::Duration,
    /// A request a start comment names is left alone this long after that comment: its
    /// run may still be working (the issue workflow's `timeout-minutes` is 60).
    pub running: chrono::Duration,
}

impl Default for Timing {
    fn default() -> Timing {
        Timing {
            queued: chrono::Duration::minutes(10),
            running: chrono::Duration::minutes(70),
        }
    }
}

/// Why an open issue was left alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Left {
    /// regis answered its latest request.
    Answered,
    /// Neither its body nor a comment carries a payload.
    NoPayload,
    /// Its latest request is recent and not started: its own run may still be queued.
    Queued,
    /// A run started on its latest request recently and may still be working.
    Running,
    /// It has more comments than [`PENDING_MAX_PAGES`] pages: the latest are unread.
    TooManyComments,
}

/// What [`pending`] did.
#[derive(Debug)]
pub struct PendingRun {
    /// The open issues read, oldest first.
    pub open: usize,
    /// The listing stopped at [`PENDING_MAX_PAGES`] pages: newer open issues are unread
    /// (the next run, after these are answered and closed, reads further).
    pub truncated: bool,
    /// The issues answered now, by number, in the order answered.
    pub answered: Vec<(u64, Processed)>,
    /// The issues left alone, by number, and why.
    pub left: Vec<(u64, Left)>,
    /// The issues that could not be answered (GitHub did not list their comments or take a
    /// comment), by number, with the reason.
    pub failed: Vec<(u64, String)>,
}

/// Answer every open issue of `repo` whose latest request has no answer from regis,
/// oldest first, as [`process`] answers an event. `now` is the time the [`Timing`] is
/// measured from. Only listing the open issues stops the run; an issue GitHub fails on is
/// recorded in [`PendingRun::failed`] and the run goes on.
pub fn pending(
    ctx: &Context<'_>,
    github: &dyn GitHub,
    repo: &RepoRef,
    bot_key: Option<&str>,
    run_url: Option<&str>,
    now: DateTime<Utc>,
    timing: &Timing,
) -> Result<PendingRun, GitHubError> {
    let listing = github.open_issues(repo, PENDING_MAX_PAGES)?;
    let mut run = PendingRun {
        open: listing.items.len(),
        truncated: listing.truncated,
        answered: Vec::new(),
        left: Vec::new(),
        failed: Vec::new(),
    };
    let bot_login = ctx.config.bot_login.as_str();
    for issue in listing.items {
        let on = IssueRef {
            repo: repo.clone(),
            number: issue.number,
        };
        // An issue nobody commented on needs no listing of its comments.
        let comments = if issue.comments == 0 {
            Vec::new()
        } else {
            match github.issue_comments(&on, PENDING_MAX_PAGES) {
                Ok(listing) if listing.truncated => {
                    run.left.push((issue.number, Left::TooManyComments));
                    continue;
                }
                Ok(listing) => listing.items,
                Err(e) => {
                    run.failed.push((issue.number, crate::error_chain(&e)));
                    continue;
                }
            }
        };
        match state(&on, &issue, &comments, bot_login, now, timing) {
            Err(left) => run.left.push((issue.number, left)),
            Ok(event) => match process(ctx, github, &event, bot_key, run_url) {
                Ok(processed) => run.answered.push((issue.number, processed)),
                Err(e) => run.failed.push((issue.number, crate::error_chain(&e))),
            },
        }
    }
    Ok(run)
}

/// What an open issue and its comments (oldest first) say (pure): its latest request, as
/// the event that would have asked it, when it needs an answer now; else why it is left.
pub fn state(
    on: &IssueRef,
    issue: &Issue,
    comments: &[Comment],
    bot_login: &str,
    now: DateTime<Utc>,
    timing: &Timing,
) -> Result<IssueEvent, Left> {
    let is_regis = |author: &str, body: &str| {
        author.eq_ignore_ascii_case(bot_login) || starts_like_own_comment(body)
    };
    let body_request = (!issue.author.eq_ignore_ascii_case(bot_login) && has_payload(&issue.body))
        .then(|| {
            let event = IssueEvent {
                issue: on.clone(),
                title: issue.title.clone(),
                author: issue.author.clone(),
                body: issue.body.clone(),
                kind: EventKind::Opened,
                comment_id: None,
            };
            (event, issue.created_at)
        });
    let comment_request = comments
        .iter()
        .rev()
        .find(|c| !is_regis(&c.author, &c.body) && has_payload(&c.body))
        .map(|c| {
            let event = IssueEvent {
                issue: on.clone(),
                title: issue.title.clone(),
                author: c.author.clone(),
                body: c.body.clone(),
                kind: EventKind::Comment,
                comment_id: Some(c.id),
            };
            (event, c.created_at)
        });
    let (event, asked_at) = comment_request.or(body_request).ok_or(Left::NoPayload)?;
    let request = super::request_text(&event);
    let own = comments.iter().filter(|c| is_regis(&c.author, &c.body));
    let mut started: Option<DateTime<Utc>> = None;
    for c in own {
        for (mark, named) in markers(&c.body) {
            if named != request {
                continue;
            }
            match mark {
                Mark::Answered => return Err(Left::Answered),
                Mark::Working => started = Some(c.created_at),
            }
        }
    }
    match started {
        Some(at) if now - at < timing.running => Err(Left::Running),
        None if now - asked_at < timing.queued => Err(Left::Queued),
        _ => Ok(event),
    }
}

/// Whether `text` carries a payload, readable or not (a JSON object, or the issue form).
fn has_payload(text: &str) -> bool {
    !matches!(payload_text(text), Err(IssueBodyError::NoPayload))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOT: &str = "github-actions[bot]";

    fn at(minute: i64) -> DateTime<Utc> {
        "2024-05-01T10:00:00Z".parse::<DateTime<Utc>>().unwrap() + chrono::Duration::minutes(minute)
    }

    fn on() -> IssueRef {
        IssueRef {
            repo: RepoRef::new("test", "registry"),
            number: 4,
        }
    }

    fn issue(author: &str, body: &str) -> Issue {
        Issue {
            number: 4,
            title: "t".to_owned(),
            author: author.to_owned(),
            body: body.to_owned(),
            created_at: at(0),
            comments: 0,
        }
    }

    fn comment(id: u64, author: &str, body: &str, minute: i64) -> Comment {
        Comment {
            id,
            author: author.to_owned(),
            body: body.to_owned(),
            created_at: at(minute),
        }
    }

    /// The state at minute `now`: the request's text (`body` or `comment N`), else why left.
    fn state_at(issue: &Issue, comments: &[Comment], now: i64) -> String {
        match state(&on(), issue, comments, BOT, at(now), &Timing::default()) {
            Ok(event) => match event.comment_id {
                None => format!("answer the body, by {}", event.author),
                Some(id) => format!("answer comment {id}, by {}", event.author),
            },
            Err(left) => format!("{left:?}"),
        }
    }

    const PAYLOAD: &str = r#"{"name": "prelude", "ref": "v1.0.0"}"#;

    #[test]
    fn the_latest_request_is_answered_unless_regis_answered_it() {
        let ann = issue("ann", PAYLOAD);
        let answered = |r: &str| format!("**Failed**: x.\n\n<!-- regis:answered {r} -->\n");
        let working = |r: &str| format!("Working on x.\n\n<!-- regis:working {r} -->\n");
        let cases: Vec<(&str, Issue, Vec<Comment>, i64)> = vec![
            ("new, no comments", ann.clone(), vec![], 60),
            ("new, too recent", ann.clone(), vec![], 5),
            ("no payload", issue("ann", "how do I publish?"), vec![], 60),
            ("a broken payload", issue("ann", "{\"name\": }"), vec![], 60),
            ("by the bot", issue(BOT, PAYLOAD), vec![], 60),
            (
                "answered",
                ann.clone(),
                vec![comment(1, BOT, &answered("body"), 1)],
                60,
            ),
            (
                "answered by an unknown login, as regis answers",
                ann.clone(),
                vec![comment(1, "other[bot]", &answered("body"), 1)],
                60,
            ),
            (
                "a user's marker is not an answer",
                ann.clone(),
                vec![comment(
                    1,
                    "mallory",
                    &format!("hi {}", answered("body")),
                    1,
                )],
                60,
            ),
            (
                "started recently",
                ann.clone(),
                vec![comment(1, BOT, &working("body"), 50)],
                60,
            ),
            (
                "started long ago",
                ann.clone(),
                vec![comment(1, BOT, &working("body"), 1)],
                200,
            ),
            (
                "a later comment with a payload, not answered",
                ann.clone(),
                vec![
                    comment(1, BOT, &answered("body"), 1),
                    comment(2, "bob", PAYLOAD, 2),
                    comment(3, "ann", "thanks", 3),
                ],
                60,
            ),
            (
                "a later comment, answered",
                ann.clone(),
                vec![
                    comment(1, BOT, &answered("body"), 1),
                    comment(2, "bob", PAYLOAD, 2),
                    comment(3, BOT, &answered("comment 2"), 3),
                ],
                60,
            ),
            (
                "an answer to another comment does not answer this one",
                ann.clone(),
                vec![
                    comment(2, "bob", PAYLOAD, 2),
                    comment(5, "bob", PAYLOAD, 4),
                    comment(6, BOT, &answered("comment 2"), 6),
                ],
                60,
            ),
            (
                "only comments carry payloads",
                issue("ann", "please"),
                vec![comment(7, "ann", PAYLOAD, 2)],
                60,
            ),
        ];
        let lines: Vec<String> = cases
            .iter()
            .map(|(what, issue, comments, now)| {
                format!("{what} → {}", state_at(issue, comments, *now))
            })
            .collect();
        insta::assert_snapshot!(lines.join("\n"), @r"
        new, no comments → answer the body, by ann
        new, too recent → Queued
        no payload → NoPayload
        a broken payload → answer the body, by ann
        by the bot → NoPayload
        answered → Answered
        answered by an unknown login, as regis answers → Answered
        a user's marker is not an answer → answer the body, by ann
        started recently → Running
        started long ago → answer the body, by ann
        a later comment with a payload, not answered → answer comment 2, by bob
        a later comment, answered → Answered
        an answer to another comment does not answer this one → answer comment 5, by bob
        only comments carry payloads → answer comment 7, by ann
        ");
    }
}
