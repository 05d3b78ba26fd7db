//! GitHub: the `GitHub` trait (issue comments, closing issues, listing open issues and
//! their comments, team membership, repository lookups) with `GitHubApi` over octocrab and
//! `MemoryGitHub` for tests, and the GitHub Actions `Event` regis acts on (parsing it is
//! pure).

mod api;
mod event;
mod memory;

pub use api::GitHubApi;
pub use event::{Event, EventKind, IssueEvent};
pub use memory::MemoryGitHub;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

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

/// An open issue, as GitHub lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub number: u64,
    pub title: String,
    /// The login that opened it.
    pub author: String,
    /// Its body (empty when it has none).
    pub body: String,
    pub created_at: DateTime<Utc>,
    /// How many comments GitHub counts on it.
    pub comments: u64,
}

/// A comment on an issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// GitHub's id of the comment.
    pub id: u64,
    /// The login that wrote it.
    pub author: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// What a listing read, page by page: the items, oldest first, how many pages it took,
/// and whether it stopped at the page limit with more pages to come.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing<T> {
    pub items: Vec<T>,
    pub pages: u32,
    pub truncated: bool,
}

/// How many items a page of a listing asks for (GitHub's largest page).
pub const PER_PAGE: usize = 100;

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
    /// The open issues of `repo`, oldest first, without pull requests; at most `max_pages`
    /// pages of [`PER_PAGE`].
    fn open_issues(&self, repo: &RepoRef, max_pages: u32) -> Result<Listing<Issue>, GitHubError>;
    /// The comments on `issue`, oldest first; at most `max_pages` pages of [`PER_PAGE`].
    fn issue_comments(
        &self,
        issue: &IssueRef,
        max_pages: u32,
    ) -> Result<Listing<Comment>, GitHubError>;
}

#[cfg(test)]
mod testing {
    use super::RepoRef;

    pub(super) fn repo(s: &str) -> RepoRef {
        s.parse().unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::testing::repo;
    use super::*;

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
}
