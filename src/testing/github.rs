//! A mock GitHub REST API (wiremock) for the `GitHubApi` and `process-issue` tests, with a
//! stateful issue tracker for the tests that list issues and comments.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// A mock GitHub. The server runs on its own thread; the runtime here only drives its
/// async setup, so the blocking `GitHubApi` is called from the plain test thread.
pub struct MockGitHub {
    // Dropped first: dropping the server checks each mock's `expect`.
    server: MockServer,
    runtime: tokio::runtime::Runtime,
}

impl MockGitHub {
    pub fn start() -> MockGitHub {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let server = runtime.block_on(MockServer::start());
        MockGitHub { server, runtime }
    }

    pub fn mount(&self, mock: Mock) {
        self.runtime.block_on(mock.mount(&self.server));
    }

    pub fn uri(&self) -> String {
        self.server.uri()
    }

    pub fn received(&self) -> Vec<Request> {
        self.runtime
            .block_on(self.server.received_requests())
            .unwrap()
    }

    /// Take every comment posted on an issue, as GitHub does (`201`).
    pub fn accept_comments(&self) {
        self.mount(
            Mock::given(method("POST"))
                .and(path_regex(r"^/repos/[^/]+/[^/]+/issues/\d+/comments$"))
                .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 1}))),
        );
    }

    /// Serve the issues of `repo` (`owner/name`) from `issues`, as GitHub does: the open
    /// ones listed oldest first and paged (`per_page`, `page`), pull requests among them,
    /// their comments paged, a posted comment added (by [`FakeIssue::BOT`], now), a PATCH
    /// to `closed` closing one. Mount it before any other mock of these paths.
    pub fn serve_issues(&self, repo: &str, issues: Vec<FakeIssue>) -> IssueTracker {
        let tracker = IssueTracker(Arc::new(Mutex::new(issues)));
        self.mount(
            Mock::given(path_regex(format!(
                "^/repos/{}/issues(/[0-9]+(/comments)?)?$",
                regex_escape(repo)
            )))
            .respond_with(tracker.clone()),
        );
        tracker
    }
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            let escape = !(c.is_ascii_alphanumeric() || c == '/' || c == '-' || c == '_');
            escape.then_some('\\').into_iter().chain([c])
        })
        .collect()
}

/// The bodies of the comments posted among `requests`, in order.
pub fn posted_comments(requests: &[Request]) -> Vec<String> {
    requests
        .iter()
        .filter(|r| r.method.as_str() == "POST" && r.url.path().ends_with("/comments"))
        .map(|r| {
            let body: Value = serde_json::from_slice(&r.body).unwrap();
            body["body"].as_str().unwrap().to_owned()
        })
        .collect()
}

/// The body GitHub answers `GET /repos/{owner}/{name}` with (abridged).
pub fn repository_json(owner: &str, name: &str) -> serde_json::Value {
    serde_json::json!({
        "id": 123,
        "name": name,
        "full_name": format!("{owner}/{name}"),
        "owner": {"login": owner, "type": "User"},
        "private": false,
        "html_url": format!("https://github.com/{owner}/{name}"),
    })
}

/// An issue (or pull request) the mock serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeIssue {
    pub number: u64,
    pub title: String,
    pub author: String,
    pub body: String,
    /// RFC 3339, as GitHub writes it (`2024-05-01T10:00:00Z`).
    pub created_at: String,
    pub pull_request: bool,
    pub open: bool,
    pub comments: Vec<FakeComment>,
}

/// A comment on a [`FakeIssue`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeComment {
    pub author: String,
    pub body: String,
    pub created_at: String,
}

impl FakeIssue {
    /// The login the comments posted to the mock are written by.
    pub const BOT: &str = "github-actions[bot]";

    /// An open issue `number` by `author` with `body`, opened at `created_at`.
    pub fn new(number: u64, author: &str, body: &str, created_at: &str) -> FakeIssue {
        FakeIssue {
            number,
            title: format!("issue {number}"),
            author: author.to_owned(),
            body: body.to_owned(),
            created_at: created_at.to_owned(),
            pull_request: false,
            open: true,
            comments: Vec::new(),
        }
    }

    /// The same issue, with `author`'s comment `body` written at `created_at`.
    pub fn comment(mut self, author: &str, body: &str, created_at: &str) -> FakeIssue {
        self.comments.push(FakeComment {
            author: author.to_owned(),
            body: body.to_owned(),
            created_at: created_at.to_owned(),
        });
        self
    }

    fn json(&self) -> Value {
        let mut issue = json!({
            "number": self.number,
            "title": self.title,
            "user": {"login": self.author, "type": "User"},
            "body": self.body,
            "state": if self.open { "open" } else { "closed" },
            "comments": self.comments.len(),
            "created_at": self.created_at,
        });
        if self.pull_request {
            issue["pull_request"] =
                json!({"url": format!("https://api.github.com/pulls/{}", self.number)});
        }
        issue
    }
}

impl FakeComment {
    fn json(&self, id: usize) -> Value {
        json!({
            "id": id,
            "user": {"login": self.author, "type": "User"},
            "body": self.body,
            "created_at": self.created_at,
        })
    }
}

/// The issues a [`MockGitHub`] serves, as they are now (comments posted, issues closed).
#[derive(Debug, Clone)]
pub struct IssueTracker(Arc<Mutex<Vec<FakeIssue>>>);

impl IssueTracker {
    pub fn issues(&self) -> Vec<FakeIssue> {
        self.0.lock().unwrap().clone()
    }
}

/// The page `page` (from 1) of `items`, `per_page` a page.
fn page_of(items: Vec<Value>, request: &Request) -> Value {
    let query = |name: &str, default: usize| {
        request
            .url
            .query_pairs()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(default)
    };
    let (per_page, page) = (query("per_page", 30), query("page", 1).max(1));
    Value::Array(
        items
            .into_iter()
            .skip(per_page * (page - 1))
            .take(per_page)
            .collect(),
    )
}

impl Respond for IssueTracker {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut issues = self.0.lock().unwrap();
        let parts: Vec<&str> = request.url.path().split('/').skip(4).collect();
        let number: Option<u64> = parts.get(1).and_then(|n| n.parse().ok());
        let found = number.and_then(|n| issues.iter_mut().find(|i| i.number == n));
        let method = request.method.as_str();
        match (method, parts.len(), found) {
            ("GET", 1, _) => {
                let open: Vec<Value> = issues
                    .iter()
                    .filter(|i| i.open)
                    .map(FakeIssue::json)
                    .collect();
                ResponseTemplate::new(200).set_body_json(page_of(open, request))
            }
            ("GET", 3, Some(issue)) => {
                let comments = issue
                    .comments
                    .iter()
                    .enumerate()
                    .map(|(id, c)| c.json(id + 1))
                    .collect();
                ResponseTemplate::new(200).set_body_json(page_of(comments, request))
            }
            ("POST", 3, Some(issue)) => {
                let body: Value = serde_json::from_slice(&request.body).unwrap();
                issue.comments.push(FakeComment {
                    author: FakeIssue::BOT.to_owned(),
                    body: body["body"].as_str().unwrap().to_owned(),
                    created_at: chrono::Utc::now()
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                });
                ResponseTemplate::new(201).set_body_json(json!({"id": issue.comments.len()}))
            }
            ("PATCH", 2, Some(issue)) => {
                let body: Value = serde_json::from_slice(&request.body).unwrap();
                if body["state"] == "closed" {
                    issue.open = false;
                }
                ResponseTemplate::new(200).set_body_json(issue.json())
            }
            _ => ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"})),
        }
    }
}
