//! GitHub: the `GitHub` trait (issue comments, closing issues, team membership, repository
//! lookups) with `GitHubApi` over octocrab and `MemoryGitHub` for tests, and the GitHub
//! Actions `Event` regis acts on (parsing it is pure).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;

use crate::error::chain;

/// A GitHub repository, `owner/name`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RepoRef {
    pub owner: String,
    pub name: String,
}

impl RepoRef {
    pub fn new(owner: &str, name: &str) -> RepoRef {
        RepoRef {
            owner: owner.to_owned(),
            name: name.to_owned(),
        }
    }

    /// The same repository for GitHub, whose owner and repository names ignore case.
    fn key(&self) -> (String, String) {
        (self.owner.to_lowercase(), self.name.to_lowercase())
    }
}

impl fmt::Display for RepoRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

impl FromStr for RepoRef {
    type Err = GitHubError;

    /// `owner/name`: two non-empty parts without whitespace.
    fn from_str(s: &str) -> Result<RepoRef, GitHubError> {
        match s.split_once('/') {
            Some((owner, name))
                if !owner.is_empty()
                    && !name.is_empty()
                    && !name.contains('/')
                    && !s.chars().any(char::is_whitespace) =>
            {
                Ok(RepoRef::new(owner, name))
            }
            _ => Err(GitHubError::RepoRef(s.to_owned())),
        }
    }
}

/// An issue (or pull request) of a repository.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IssueRef {
    pub repo: RepoRef,
    pub number: u64,
}

impl fmt::Display for IssueRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.repo, self.number)
    }
}

/// Errors of talking to GitHub and of reading GitHub Actions events. Messages never carry
/// the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GitHubError {
    #[error("cannot set up the GitHub client for `{api_url}`: {cause}")]
    Client { api_url: String, cause: String },
    #[error("request `{request}` failed: GitHub answered `{}`: {message}", status_text(*status, reason))]
    Status {
        request: String,
        status: u16,
        /// The status's standard reason phrase, e.g. `Not Found` (empty if none).
        reason: &'static str,
        /// GitHub's `message`, else the start of the body.
        message: String,
    },
    #[error("request `{request}` to GitHub at `{api_url}` failed: {cause}")]
    Network {
        request: String,
        api_url: String,
        cause: String,
    },
    #[error("request `{request}` got an unexpected answer from GitHub: {cause}")]
    Response { request: String, cause: String },
    #[error("`{0}` is not a GitHub repository: expected `OWNER/NAME`")]
    RepoRef(String),
    #[error("the GitHub event is not JSON: {0}")]
    EventJson(String),
    #[error("the GitHub event has no valid `{field}`: expected {expected}")]
    EventField {
        field: &'static str,
        expected: &'static str,
    },
}

fn status_text(status: u16, reason: &str) -> String {
    if reason.is_empty() {
        status.to_string()
    } else {
        format!("{status} {reason}")
    }
}

/// What GitHub can do for regis. Synchronous; errors never contain the token.
pub trait GitHub {
    /// Post `body` as a new comment on `issue`.
    fn comment(&self, issue: &IssueRef, body: &str) -> Result<(), GitHubError>;
    /// Close `issue`.
    fn close(&self, issue: &IssueRef) -> Result<(), GitHubError>;
    /// Whether `login` is an active member of the team `org/team` (a pending invitation is
    /// not membership).
    fn is_team_member(&self, org: &str, team: &str, login: &str) -> Result<bool, GitHubError>;
    /// The repository GitHub knows at `repo`, under its current owner and name (which differ
    /// when it was renamed or transferred); `None` when there is none.
    fn repository(&self, repo: &RepoRef) -> Result<Option<RepoRef>, GitHubError>;
}

/// The GitHub REST API through octocrab. Each call blocks on a current-thread tokio runtime
/// the value owns, so it must not be called from inside another tokio runtime.
pub struct GitHubApi {
    octocrab: octocrab::Octocrab,
    runtime: tokio::runtime::Runtime,
    api_url: String,
    /// Kept only to scrub it from error messages.
    token: Option<String>,
}

impl fmt::Debug for GitHubApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitHubApi")
            .field("api_url", &self.api_url)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// How long a connection or a read may take before the request fails (and is retried).
const TIMEOUT: Duration = Duration::from_secs(30);

impl GitHubApi {
    /// A client of the API at `api_url` (config `githubApiUrl`, e.g.
    /// `https://api.github.com` or `https://ghe.example.com/api/v3`), authenticated with
    /// `token` when given.
    pub fn new(api_url: &str, token: Option<String>) -> Result<GitHubApi, GitHubError> {
        let token = token.filter(|t| !t.is_empty());
        let client_error = |cause: String| GitHubError::Client {
            api_url: api_url.to_owned(),
            cause: scrub(&cause, token.as_deref()),
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| client_error(e.to_string()))?;
        let mut builder = octocrab::Octocrab::builder()
            .base_uri(api_url.trim_end_matches('/'))
            .map_err(|e| client_error(format!("not a URL: {}", chain(&e))))?
            .set_connect_timeout(Some(TIMEOUT))
            .set_read_timeout(Some(TIMEOUT))
            .set_write_timeout(Some(TIMEOUT));
        if let Some(token) = &token {
            builder = builder.personal_token(token.clone());
        }
        // The client spawns its request buffer onto the runtime it is built in.
        let octocrab = {
            let _inside = runtime.enter();
            builder.build().map_err(|e| client_error(chain(&e)))?
        };
        Ok(GitHubApi {
            octocrab,
            runtime,
            api_url: api_url.to_owned(),
            token,
        })
    }

    /// Send one request (`path` below the API URL) and read the answer: the status and
    /// the body text.
    fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, GitHubError> {
        let request = format!("{} {path}", method.as_str());
        let network = |cause: String| GitHubError::Network {
            request: request.clone(),
            api_url: self.api_url.clone(),
            cause: scrub(&cause, self.token.as_deref()),
        };
        self.runtime.block_on(async {
            let response = match method {
                Method::Get => self.octocrab._get(path).await,
                Method::Post => self.octocrab._post(path, body).await,
                Method::Patch => self.octocrab._patch(path, body).await,
            }
            .map_err(|e| network(chain(&e)))?;
            let status = response.status().as_u16();
            let reason = response.status().canonical_reason().unwrap_or("");
            let text = self
                .octocrab
                .body_to_string(response)
                .await
                .map_err(|e| network(chain(&e)))?;
            Ok(Answer {
                request: request.clone(),
                status,
                reason,
                // A body echoing the token must not carry it into an error message.
                text: scrub(&text, self.token.as_deref()),
            })
        })
    }
}

#[derive(Debug, Clone, Copy)]
enum Method {
    Get,
    Post,
    Patch,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Patch => "PATCH",
        }
    }
}

/// One answer from GitHub.
struct Answer {
    request: String,
    status: u16,
    reason: &'static str,
    text: String,
}

impl Answer {
    fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// `Ok(self)` for a 2xx answer, else the error naming the request, the status and
    /// GitHub's `message`.
    fn success(self) -> Result<Answer, GitHubError> {
        if self.is_success() {
            Ok(self)
        } else {
            Err(self.status_error())
        }
    }

    fn status_error(&self) -> GitHubError {
        let message = serde_json::from_str::<Value>(&self.text)
            .ok()
            .and_then(|v| v.get("message")?.as_str().map(str::to_owned))
            .unwrap_or_else(|| {
                let text = self.text.trim();
                if text.is_empty() {
                    "no message".to_owned()
                } else {
                    text.chars().take(200).collect()
                }
            });
        GitHubError::Status {
            request: self.request.clone(),
            status: self.status,
            reason: self.reason,
            message,
        }
    }

    fn json(&self) -> Result<Value, GitHubError> {
        serde_json::from_str(&self.text).map_err(|e| GitHubError::Response {
            request: self.request.clone(),
            cause: format!("the body is not JSON: {e}"),
        })
    }

    fn string_at(&self, json: &Value, pointer: &str) -> Result<String, GitHubError> {
        json.pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| GitHubError::Response {
                request: self.request.clone(),
                cause: format!("no string at `{pointer}` in the body"),
            })
    }
}

impl GitHub for GitHubApi {
    fn comment(&self, issue: &IssueRef, body: &str) -> Result<(), GitHubError> {
        let path = format!("{}/comments", issue_path(issue));
        let body = serde_json::json!({ "body": body });
        self.send(Method::Post, &path, Some(&body))?.success()?;
        Ok(())
    }

    fn close(&self, issue: &IssueRef) -> Result<(), GitHubError> {
        let body = serde_json::json!({ "state": "closed" });
        self.send(Method::Patch, &issue_path(issue), Some(&body))?
            .success()?;
        Ok(())
    }

    fn is_team_member(&self, org: &str, team: &str, login: &str) -> Result<bool, GitHubError> {
        let path = format!(
            "/orgs/{}/teams/{}/memberships/{}",
            segment(org),
            segment(team),
            segment(login)
        );
        let answer = self.send(Method::Get, &path, None)?;
        if answer.status == 404 {
            return Ok(false);
        }
        let answer = answer.success()?;
        let json = answer.json()?;
        Ok(answer.string_at(&json, "/state")? == "active")
    }

    fn repository(&self, repo: &RepoRef) -> Result<Option<RepoRef>, GitHubError> {
        let path = format!("/repos/{}/{}", segment(&repo.owner), segment(&repo.name));
        // A renamed or transferred repository answers 301 to `/repositories/{id}`, which
        // the client follows.
        let answer = self.send(Method::Get, &path, None)?;
        if answer.status == 404 {
            return Ok(None);
        }
        let answer = answer.success()?;
        let json = answer.json()?;
        Ok(Some(RepoRef {
            owner: answer.string_at(&json, "/owner/login")?,
            name: answer.string_at(&json, "/name")?,
        }))
    }
}

fn issue_path(issue: &IssueRef) -> String {
    format!(
        "/repos/{}/{}/issues/{}",
        segment(&issue.repo.owner),
        segment(&issue.repo.name),
        issue.number
    )
}

/// `s` as one URL path segment: everything but unreserved characters percent-encoded
/// (logins such as `github-actions[bot]` carry brackets).
fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `text` with every occurrence of the token replaced.
fn scrub(text: &str, token: Option<&str>) -> String {
    match token {
        Some(t) if !t.is_empty() => text.replace(t, "***"),
        _ => text.to_owned(),
    }
}

/// GitHub in memory, for tests: records comments and closed issues; team members,
/// renamed and missing repositories are configured up front. Every other repository
/// exists under the name asked for. Names compare without case, as on GitHub.
#[derive(Debug, Default)]
pub struct MemoryGitHub {
    members: BTreeSet<(String, String, String)>,
    renames: BTreeMap<(String, String), RepoRef>,
    missing: BTreeSet<(String, String)>,
    comments: Mutex<Vec<(IssueRef, String)>>,
    closed: Mutex<Vec<IssueRef>>,
}

impl MemoryGitHub {
    pub fn new() -> MemoryGitHub {
        MemoryGitHub::default()
    }

    /// `login` is an active member of the team `org/team`.
    pub fn with_member(mut self, org: &str, team: &str, login: &str) -> MemoryGitHub {
        self.members.insert((
            org.to_lowercase(),
            team.to_lowercase(),
            login.to_lowercase(),
        ));
        self
    }

    /// `from` was renamed or transferred to `to`.
    pub fn with_rename(mut self, from: RepoRef, to: RepoRef) -> MemoryGitHub {
        self.renames.insert(from.key(), to);
        self
    }

    /// `repo` does not exist.
    pub fn with_missing(mut self, repo: RepoRef) -> MemoryGitHub {
        self.missing.insert(repo.key());
        self
    }

    /// The comments posted so far, oldest first.
    pub fn comments(&self) -> Vec<(IssueRef, String)> {
        lock(&self.comments).clone()
    }

    /// The issues closed so far, in order.
    pub fn closed(&self) -> Vec<IssueRef> {
        lock(&self.closed).clone()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A test that panicked while holding the lock left complete data behind.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl GitHub for MemoryGitHub {
    fn comment(&self, issue: &IssueRef, body: &str) -> Result<(), GitHubError> {
        lock(&self.comments).push((issue.clone(), body.to_owned()));
        Ok(())
    }

    fn close(&self, issue: &IssueRef) -> Result<(), GitHubError> {
        lock(&self.closed).push(issue.clone());
        Ok(())
    }

    fn is_team_member(&self, org: &str, team: &str, login: &str) -> Result<bool, GitHubError> {
        Ok(self.members.contains(&(
            org.to_lowercase(),
            team.to_lowercase(),
            login.to_lowercase(),
        )))
    }

    fn repository(&self, repo: &RepoRef) -> Result<Option<RepoRef>, GitHubError> {
        let key = repo.key();
        if self.missing.contains(&key) {
            return Ok(None);
        }
        Ok(Some(
            self.renames
                .get(&key)
                .cloned()
                .unwrap_or_else(|| repo.clone()),
        ))
    }
}

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
        Ok(Event::Issue(IssueEvent {
            issue: IssueRef { repo, number },
            title,
            author,
            body,
            kind,
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

    fn repo(s: &str) -> RepoRef {
        s.parse().unwrap()
    }

    #[test]
    fn repo_ref_displays_and_parses_owner_slash_name() {
        let r = RepoRef::new("purescript", "registry");
        assert_eq!(r.to_string(), "purescript/registry");
        assert_eq!(repo("purescript/registry"), r);
        let issue = IssueRef {
            repo: r,
            number: 149,
        };
        assert_eq!(issue.to_string(), "purescript/registry#149");
        for bad in ["", "a", "a/", "/b", "a/b/c", "a /b"] {
            assert!(bad.parse::<RepoRef>().is_err(), "{bad}");
        }
        insta::assert_snapshot!("a/b/c".parse::<RepoRef>().unwrap_err(), @"`a/b/c` is not a GitHub repository: expected `OWNER/NAME`");
    }

    #[test]
    fn segments_are_percent_encoded() {
        assert_eq!(segment("github-actions[bot]"), "github-actions%5Bbot%5D");
        assert_eq!(segment("a.b_c~d-e"), "a.b_c~d-e");
        assert_eq!(segment("a/b"), "a%2Fb");
    }

    #[test]
    fn scrub_removes_the_token() {
        assert_eq!(
            scrub("bad token ghp_x here", Some("ghp_x")),
            "bad token *** here"
        );
        assert_eq!(scrub("text", None), "text");
    }

    #[test]
    fn debug_hides_the_token() {
        let api = GitHubApi::new("http://127.0.0.1:9", Some("ghp_secret".into())).unwrap();
        let debug = format!("{api:?}");
        assert!(!debug.contains("ghp_secret"), "{debug}");
        assert!(debug.contains("<redacted>"), "{debug}");
    }

    #[test]
    fn a_bad_api_url_is_a_client_error() {
        let e = GitHubApi::new("not a url", None).unwrap_err();
        assert!(matches!(e, GitHubError::Client { .. }), "{e}");
        assert!(
            e.to_string()
                .starts_with("cannot set up the GitHub client for `not a url`: ")
        );
    }

    #[test]
    fn memory_github_records_and_answers() {
        let gh = MemoryGitHub::new()
            .with_member("purescript", "packaging", "Trustee")
            .with_rename(repo("old/name"), repo("new-owner/new-name"))
            .with_missing(repo("gone/repo"));
        let issue = IssueRef {
            repo: repo("purescript/registry"),
            number: 7,
        };
        gh.comment(&issue, "hello").unwrap();
        gh.close(&issue).unwrap();
        assert_eq!(gh.comments(), vec![(issue.clone(), "hello".to_owned())]);
        assert_eq!(gh.closed(), vec![issue]);
        assert!(
            gh.is_team_member("PureScript", "packaging", "trustee")
                .unwrap()
        );
        assert!(
            !gh.is_team_member("purescript", "packaging", "someone")
                .unwrap()
        );
        assert!(!gh.is_team_member("purescript", "other", "trustee").unwrap());
        assert_eq!(
            gh.repository(&repo("Old/Name")).unwrap(),
            Some(repo("new-owner/new-name"))
        );
        assert_eq!(gh.repository(&repo("gone/repo")).unwrap(), None);
        assert_eq!(gh.repository(&repo("a/b")).unwrap(), Some(repo("a/b")));
    }

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
