//! [`Event::parse`] (pure): the GitHub Actions event JSON to the issue event regis acts on.

use serde_json::Value;

use super::{GitHubError, IssueRef, RepoRef};

/// A GitHub Actions event regis acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Issue(IssueEvent),
    /// An event regis leaves alone, and why.
    Ignored {
        reason: String,
    },
}

/// A new issue or a new comment on one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueEvent {
    pub issue: IssueRef,
    pub title: String,
    /// The login that opened the issue or wrote the comment.
    pub author: String,
    /// The issue body, or the comment body.
    pub body: String,
    pub kind: EventKind,
    /// The comment's id (`comment.id`), when the event is a comment and carries one.
    pub comment_id: Option<u64>,
}

/// Which text of the issue the event carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Opened,
    Comment,
}

const EXPECTED_EVENT: &str = "an object (is this an `issues` or `issue_comment` event?)";

impl Event {
    /// Read the event JSON GitHub Actions writes to `$GITHUB_EVENT_PATH`: an `issues` event
    /// whose action is `opened`, or an `issue_comment` event whose action is `created`.
    /// Pull requests, other actions and comments by `bot_login` are `Ignored`.
    pub fn parse(json: &str, bot_login: &str) -> Result<Event, GitHubError> {
        let event: Value =
            serde_json::from_str(json).map_err(|e| GitHubError::EventJson(e.to_string()))?;
        if !event.is_object() {
            return Err(GitHubError::EventField {
                field: "(top level)",
                expected: EXPECTED_EVENT,
            });
        }
        let action = required_str(&event, "/action", "action", "a string such as `opened`")?;
        let issue =
            event
                .get("issue")
                .filter(|v| v.is_object())
                .ok_or(GitHubError::EventField {
                    field: "issue",
                    expected: EXPECTED_EVENT,
                })?;
        if issue.get("pull_request").is_some_and(|v| !v.is_null()) {
            return Ok(ignored("pull request"));
        }
        let comment = event.get("comment").filter(|v| !v.is_null());
        let (kind, wanted) = match comment {
            Some(_) => (EventKind::Comment, "created"),
            None => (EventKind::Opened, "opened"),
        };
        if action != wanted {
            let name = match kind {
                EventKind::Comment => "issue_comment",
                EventKind::Opened => "issues",
            };
            return Ok(ignored(&format!(
                "`{name}` action `{action}`: only `{wanted}` is acted on"
            )));
        }
        let number = event
            .pointer("/issue/number")
            .and_then(Value::as_u64)
            .ok_or(GitHubError::EventField {
                field: "issue.number",
                expected: "a positive number",
            })?;
        let title = required_str(&event, "/issue/title", "issue.title", "a string")?;
        let repo = event_repo(&event)?;
        let (author, body) = match comment {
            Some(comment) => {
                if !comment.is_object() {
                    return Err(GitHubError::EventField {
                        field: "comment",
                        expected: "an object",
                    });
                }
                (
                    login(&event, "/comment/user/login", "comment.user.login")?,
                    text_or_empty(&event, "/comment/body", "comment.body")?,
                )
            }
            None => (
                login(&event, "/issue/user/login", "issue.user.login")?,
                text_or_empty(&event, "/issue/body", "issue.body")?,
            ),
        };
        if author.eq_ignore_ascii_case(bot_login) {
            return Ok(ignored(&format!("written by the bot `{author}`")));
        }
        let comment_id = comment.and_then(|c| c.get("id")).and_then(Value::as_u64);
        Ok(Event::Issue(IssueEvent {
            issue: IssueRef { repo, number },
            title,
            author,
            body,
            kind,
            comment_id,
        }))
    }
}

fn ignored(reason: &str) -> Event {
    Event::Ignored {
        reason: reason.to_owned(),
    }
}

fn required_str(
    event: &Value,
    pointer: &str,
    field: &'static str,
    expected: &'static str,
) -> Result<String, GitHubError> {
    event
        .pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or(GitHubError::EventField { field, expected })
}

/// The text at `pointer`; absent or `null` is empty.
fn text_or_empty(event: &Value, pointer: &str, field: &'static str) -> Result<String, GitHubError> {
    match event.pointer(pointer) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(GitHubError::EventField {
            field,
            expected: "a string or `null`",
        }),
    }
}

/// The login at `pointer`, else the event's `sender.login`.
fn login(event: &Value, pointer: &str, field: &'static str) -> Result<String, GitHubError> {
    [pointer, "/sender/login"]
        .iter()
        .find_map(|p| event.pointer(p).and_then(Value::as_str))
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .ok_or(GitHubError::EventField {
            field,
            expected: "a login there or in `sender.login`",
        })
}

/// The repository: `repository.full_name`, else the end of `issue.repository_url`
/// (`https://api.github.com/repos/OWNER/REPO`).
fn event_repo(event: &Value) -> Result<RepoRef, GitHubError> {
    if let Some(full_name) = event
        .pointer("/repository/full_name")
        .and_then(Value::as_str)
    {
        return full_name.parse().map_err(|_| GitHubError::EventField {
            field: "repository.full_name",
            expected: "`OWNER/NAME`",
        });
    }
    event
        .pointer("/issue/repository_url")
        .and_then(Value::as_str)
        .and_then(|url| url.rsplit_once("/repos/"))
        .and_then(|(_, rest)| rest.trim_end_matches('/').parse().ok())
        .ok_or(GitHubError::EventField {
            field: "issue.repository_url",
            expected: "`<api>/repos/OWNER/NAME` (or `repository.full_name`)",
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOT: &str = "github-actions[bot]";

    fn fixture(name: &str) -> Option<String> {
        let dir = crate::testing::purescript_fixtures()?;
        Some(std::fs::read_to_string(dir.join("events").join(name)).unwrap())
    }

    fn issue_event(json: &str) -> IssueEvent {
        match Event::parse(json, BOT).unwrap() {
            Event::Issue(e) => e,
            Event::Ignored { reason } => panic!("ignored: {reason}"),
        }
    }

    fn reason(json: &str) -> String {
        match Event::parse(json, BOT).unwrap() {
            Event::Ignored { reason } => reason,
            Event::Issue(e) => panic!("not ignored: {e:?}"),
        }
    }

    #[test]
    fn real_issue_opened_events() {
        let Some(json) = fixture("addition_issue_created.json") else {
            return;
        };
        let e = issue_event(&json);
        assert_eq!(e.kind, EventKind::Opened);
        assert_eq!(e.issue.to_string(), "purescript/registry#149");
        assert_eq!(e.title, "Update package something");
        assert_eq!(e.author, "Codertocat");
        assert!(
            e.body
                .starts_with(r#"{"location": {"githubOwner": "purescript""#)
        );
        assert!(crate::payload::Operation::from_issue_body(&e.body).is_ok());

        let e = issue_event(&fixture("package-set-update_issue_created.json").unwrap());
        assert_eq!(e.title, "Package set update");
        assert_eq!(
            e.body,
            r#"{ "packages": { "aff": "7.0.0", "argonaut": null } }"#
        );
    }

    #[test]
    fn real_issue_comment_event() {
        let Some(json) = fixture("update_issue_comment.json") else {
            return;
        };
        let e = issue_event(&json);
        assert_eq!(e.kind, EventKind::Comment);
        assert_eq!(e.issue.to_string(), "purescript/registry#43");
        assert_eq!(e.title, "Add package");
        assert_eq!(e.author, "Codertocat");
        assert_eq!(e.comment_id, Some(793265839));
        assert!(e.body.starts_with("```json\n{\"name\":\"something\""));
        assert_ne!(e.body, "original body");
    }

    /// A minimal event in the shape GitHub sends (with `repository` and `user`s).
    fn event(action: &str, comment: Option<Value>, issue_extra: Value) -> String {
        let mut issue = serde_json::json!({
            "number": 5,
            "title": "Publish prelude",
            "body": "{\"name\":\"prelude\"}",
            "user": {"login": "opener"},
            "repository_url": "https://api.github.com/repos/ignored/ignored",
        });
        for (k, v) in issue_extra.as_object().unwrap() {
            issue[k] = v.clone();
        }
        let mut event = serde_json::json!({
            "action": action,
            "issue": issue,
            "repository": {"full_name": "acme/registry"},
            "sender": {"login": "sender"},
        });
        if let Some(c) = comment {
            event["comment"] = c;
        }
        event.to_string()
    }

    #[test]
    fn users_and_full_name_win_over_sender_and_repository_url() {
        let e = issue_event(&event("opened", None, serde_json::json!({})));
        assert_eq!(
            (e.issue.to_string(), e.author.as_str(), e.body.as_str()),
            ("acme/registry#5".into(), "opener", "{\"name\":\"prelude\"}")
        );
        let comment = serde_json::json!({"body": "the comment", "user": {"login": "commenter"}});
        let e = issue_event(&event("created", Some(comment), serde_json::json!({})));
        assert_eq!(
            (e.kind, e.author.as_str(), e.body.as_str()),
            (EventKind::Comment, "commenter", "the comment")
        );
        // A comment without `user` is the sender's, never the issue opener's.
        let comment = serde_json::json!({"body": "x"});
        let e = issue_event(&event("created", Some(comment), serde_json::json!({})));
        assert_eq!(e.author, "sender");
    }

    #[test]
    fn a_null_body_is_empty() {
        let e = issue_event(&event("opened", None, serde_json::json!({"body": null})));
        assert_eq!(e.body, "");
        let comment = serde_json::json!({"body": null, "user": {"login": "c"}});
        let e = issue_event(&event("created", Some(comment), serde_json::json!({})));
        assert_eq!(e.body, "");
    }

    #[test]
    fn ignored_events_say_why() {
        let pr = serde_json::json!({"pull_request": {"url": "https://api.github.com/repos/acme/registry/pulls/5"}});
        let comment = || Some(serde_json::json!({"body": "{}", "user": {"login": "someone"}}));
        insta::assert_snapshot!(reason(&event("created", comment(), pr.clone())), @"pull request");
        insta::assert_snapshot!(reason(&event("opened", None, pr)), @"pull request");
        insta::assert_snapshot!(reason(&event("edited", comment(), serde_json::json!({}))), @"`issue_comment` action `edited`: only `created` is acted on");
        insta::assert_snapshot!(reason(&event("closed", None, serde_json::json!({}))), @"`issues` action `closed`: only `opened` is acted on");
        let bot = Some(
            serde_json::json!({"body": "published", "user": {"login": "GitHub-Actions[bot]"}}),
        );
        insta::assert_snapshot!(reason(&event("created", bot, serde_json::json!({}))), @"written by the bot `GitHub-Actions[bot]`");
        // `pull_request: null` is not a pull request.
        let e = issue_event(&event(
            "opened",
            None,
            serde_json::json!({"pull_request": null}),
        ));
        assert_eq!(e.kind, EventKind::Opened);
    }

    #[test]
    fn bad_events_name_what_is_missing() {
        let e = |json: &str| Event::parse(json, BOT).unwrap_err().to_string();
        insta::assert_snapshot!(e("not json"), @"the GitHub event is not JSON: expected ident at line 1 column 2");
        insta::assert_snapshot!(e("[]"), @"the GitHub event has no valid `(top level)`: expected an object (is this an `issues` or `issue_comment` event?)");
        insta::assert_snapshot!(e(r#"{"issue": {}}"#), @"the GitHub event has no valid `action`: expected a string such as `opened`");
        insta::assert_snapshot!(e(r#"{"action": "opened", "schedule": "0 0 * * *"}"#), @"the GitHub event has no valid `issue`: expected an object (is this an `issues` or `issue_comment` event?)");
        insta::assert_snapshot!(e(r#"{"action": "opened", "issue": {"title": "t"}}"#), @"the GitHub event has no valid `issue.number`: expected a positive number");
        insta::assert_snapshot!(e(r#"{"action": "opened", "issue": {"number": 1, "title": "t"}}"#), @"the GitHub event has no valid `issue.repository_url`: expected `<api>/repos/OWNER/NAME` (or `repository.full_name`)");
        insta::assert_snapshot!(e(r#"{"action": "opened", "issue": {"number": 1, "title": "t", "repository_url": "https://api.github.com/repos/a/b"}}"#), @"the GitHub event has no valid `issue.user.login`: expected a login there or in `sender.login`");
        insta::assert_snapshot!(e(r#"{"action": "opened", "issue": {"number": 1, "title": "t", "body": 3, "repository_url": "https://api.github.com/repos/a/b"}, "sender": {"login": "x"}}"#), @"the GitHub event has no valid `issue.body`: expected a string or `null`");
        insta::assert_snapshot!(e(r#"{"action": "opened", "issue": {"number": 1, "title": "t"}, "repository": {"full_name": "nope"}}"#), @"the GitHub event has no valid `repository.full_name`: expected `OWNER/NAME`");
    }

    #[test]
    fn repository_url_of_an_enterprise_server() {
        let json = r#"{"action": "opened", "issue": {"number": 3, "title": "t", "body": null, "repository_url": "https://ghe.example.com/api/v3/repos/team/registry"}, "sender": {"login": "x"}}"#;
        assert_eq!(issue_event(json).issue.to_string(), "team/registry#3");
    }
}
