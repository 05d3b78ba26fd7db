//! [`GitHubApi`]: the GitHub REST API through octocrab, on a runtime of its own.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{Comment, GitHub, GitHubError, Issue, IssueRef, Listing, PER_PAGE, RepoRef};
use crate::error_chain as chain;

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

    fn response_error(&self, cause: String) -> GitHubError {
        GitHubError::Response {
            request: self.request.clone(),
            cause,
        }
    }

    fn u64_at(&self, json: &Value, pointer: &str) -> Result<u64, GitHubError> {
        json.pointer(pointer)
            .and_then(Value::as_u64)
            .ok_or_else(|| self.response_error(format!("no number at `{pointer}` in the body")))
    }

    /// The text at `pointer`; absent or `null` (an issue without a body) is empty.
    fn text_at(&self, json: &Value, pointer: &str) -> Result<String, GitHubError> {
        match json.pointer(pointer) {
            None | Some(Value::Null) => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(self.response_error(format!("no string at `{pointer}` in the body"))),
        }
    }

    fn time_at(&self, json: &Value, pointer: &str) -> Result<DateTime<Utc>, GitHubError> {
        let text = self.string_at(json, pointer)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| self.response_error(format!("`{pointer}` is not an RFC 3339 time: {e}")))
    }

    fn string_at(&self, json: &Value, pointer: &str) -> Result<String, GitHubError> {
        json.pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| self.response_error(format!("no string at `{pointer}` in the body")))
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
        let path = repo_path(repo);
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

    fn open_issues(&self, repo: &RepoRef, max_pages: u32) -> Result<Listing<Issue>, GitHubError> {
        let path = format!(
            "{}/issues?state=open&sort=created&direction=asc",
            repo_path(repo)
        );
        self.list(&path, max_pages, |answer, json| {
            // The issues API lists pull requests too: they carry `pull_request`.
            if json.get("pull_request").is_some_and(|v| !v.is_null()) {
                return Ok(None);
            }
            Ok(Some(Issue {
                number: answer.u64_at(json, "/number")?,
                title: answer.text_at(json, "/title")?,
                author: answer.string_at(json, "/user/login")?,
                body: answer.text_at(json, "/body")?,
                created_at: answer.time_at(json, "/created_at")?,
                comments: answer.u64_at(json, "/comments").unwrap_or(0),
            }))
        })
    }

    fn issue_comments(
        &self,
        issue: &IssueRef,
        max_pages: u32,
    ) -> Result<Listing<Comment>, GitHubError> {
        let path = format!("{}/comments", issue_path(issue));
        self.list(&path, max_pages, |answer, json| {
            Ok(Some(Comment {
                id: answer.u64_at(json, "/id")?,
                author: answer.string_at(json, "/user/login")?,
                body: answer.text_at(json, "/body")?,
                created_at: answer.time_at(json, "/created_at")?,
            }))
        })
    }
}

impl GitHubApi {
    /// `GET path` page by page (`per_page` and `page` appended), each answer a JSON array
    /// whose items `item` reads (`None` leaves one out), until a page is not full or
    /// `max_pages` pages were read.
    fn list<T>(
        &self,
        path: &str,
        max_pages: u32,
        item: impl Fn(&Answer, &Value) -> Result<Option<T>, GitHubError>,
    ) -> Result<Listing<T>, GitHubError> {
        let separator = if path.contains('?') { '&' } else { '?' };
        let mut listing = Listing {
            items: Vec::new(),
            pages: 0,
            truncated: false,
        };
        for page in 1..=max_pages.max(1) {
            let answer = self
                .send(
                    Method::Get,
                    &format!("{path}{separator}per_page={PER_PAGE}&page={page}"),
                    None,
                )?
                .success()?;
            let json = answer.json()?;
            let entries = json
                .as_array()
                .ok_or_else(|| answer.response_error("the body is not a JSON array".to_owned()))?;
            listing.pages = page;
            for entry in entries {
                listing.items.extend(item(&answer, entry)?);
            }
            if entries.len() < PER_PAGE {
                return Ok(listing);
            }
        }
        // The last page allowed was full: there may be more.
        listing.truncated = true;
        Ok(listing)
    }
}

fn repo_path(repo: &RepoRef) -> String {
    format!("/repos/{}/{}", segment(&repo.owner), segment(&repo.name))
}

fn issue_path(issue: &IssueRef) -> String {
    format!("{}/issues/{}", repo_path(&issue.repo), issue.number)
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
