//! [`GitHubApi`]: the GitHub REST API through octocrab, on a runtime of its own.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use super::{GitHub, GitHubError, IssueRef, RepoRef};
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
