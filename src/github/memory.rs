//! [`MemoryGitHub`]: GitHub in memory, for tests.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use super::{Comment, GitHub, GitHubError, Issue, IssueRef, Listing, PER_PAGE, RepoRef};

/// GitHub in memory, for tests: records comments and closed issues; team members,
/// renamed and missing repositories, and open issues with their comments are configured up
/// front. Every other repository exists under the name asked for. Names compare without
/// case, as on GitHub. A comment posted here is written by [`MemoryGitHub::BOT`] and shows
/// in the issue's comments.
#[derive(Debug, Default)]
pub struct MemoryGitHub {
    members: BTreeSet<(String, String, String)>,
    renames: BTreeMap<(String, String), RepoRef>,
    missing: BTreeSet<(String, String)>,
    comments: Mutex<Vec<(IssueRef, String)>>,
    closed: Mutex<Vec<IssueRef>>,
    issues: Mutex<Issues>,
    /// The id the next comment gets.
    next_comment_id: std::sync::atomic::AtomicU64,
}

/// Issues by repository (its case-blind key) and number, each with its comments.
type Issues = BTreeMap<((String, String), u64), (Issue, Vec<Comment>)>;

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

    /// The login comments posted through [`GitHub::comment`] are written by.
    pub const BOT: &str = "github-actions[bot]";

    /// `issue` is open on `repo` (its comments, if any, come with [`Self::with_comment`]).
    pub fn with_issue(self, repo: &RepoRef, issue: Issue) -> MemoryGitHub {
        lock(&self.issues).insert((repo.key(), issue.number), (issue, Vec::new()));
        self
    }

    /// `author` wrote `body` on the issue `on` (which [`Self::with_issue`] opened) at `at`.
    pub fn with_comment(
        self,
        on: &IssueRef,
        author: &str,
        body: &str,
        at: DateTime<Utc>,
    ) -> MemoryGitHub {
        if let Some((issue, comments)) = lock(&self.issues).get_mut(&(on.repo.key(), on.number)) {
            issue.comments += 1;
            comments.push(Comment {
                id: self.comment_id(),
                author: author.to_owned(),
                body: body.to_owned(),
                created_at: at,
            });
        }
        self
    }

    /// A new comment's id: 1, 2, … in the order comments are written.
    fn comment_id(&self) -> u64 {
        1 + self
            .next_comment_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
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

/// At most `max_pages` pages of `items`, as GitHub pages them.
fn paged<T>(mut items: Vec<T>, max_pages: u32) -> Listing<T> {
    let max_pages = max_pages.max(1);
    let limit = PER_PAGE * max_pages as usize;
    let truncated = items.len() >= limit;
    items.truncate(limit);
    Listing {
        pages: (items.len() / PER_PAGE + 1).min(max_pages as usize) as u32,
        items,
        truncated,
    }
}

impl GitHub for MemoryGitHub {
    fn comment(&self, issue: &IssueRef, body: &str) -> Result<(), GitHubError> {
        lock(&self.comments).push((issue.clone(), body.to_owned()));
        if let Some((known, comments)) =
            lock(&self.issues).get_mut(&(issue.repo.key(), issue.number))
        {
            known.comments += 1;
            comments.push(Comment {
                id: self.comment_id(),
                author: MemoryGitHub::BOT.to_owned(),
                body: body.to_owned(),
                created_at: Utc::now(),
            });
        }
        Ok(())
    }

    fn close(&self, issue: &IssueRef) -> Result<(), GitHubError> {
        lock(&self.closed).push(issue.clone());
        lock(&self.issues).remove(&(issue.repo.key(), issue.number));
        Ok(())
    }

    fn open_issues(&self, repo: &RepoRef, max_pages: u32) -> Result<Listing<Issue>, GitHubError> {
        let key = repo.key();
        let mut open: Vec<Issue> = lock(&self.issues)
            .iter()
            .filter(|((r, _), _)| *r == key)
            .map(|(_, (issue, _))| issue.clone())
            .collect();
        open.sort_by_key(|i| (i.created_at, i.number));
        Ok(paged(open, max_pages))
    }

    fn issue_comments(
        &self,
        issue: &IssueRef,
        max_pages: u32,
    ) -> Result<Listing<Comment>, GitHubError> {
        let comments = lock(&self.issues)
            .get(&(issue.repo.key(), issue.number))
            .map(|(_, comments)| comments.clone())
            .unwrap_or_default();
        Ok(paged(comments, max_pages))
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

#[cfg(test)]
mod tests {
    use super::super::testing::repo;
    use super::*;

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

    #[test]
    fn memory_github_lists_open_issues_and_their_comments() {
        let at = |m: u32| format!("2024-01-01T10:{m:02}:00Z").parse().unwrap();
        let registry = repo("test/registry");
        let issue = |number, minute| Issue {
            number,
            title: format!("#{number}"),
            author: "ann".into(),
            body: "{}".into(),
            created_at: at(minute),
            comments: 0,
        };
        let on = |number| IssueRef {
            repo: registry.clone(),
            number,
        };
        let gh = MemoryGitHub::new()
            .with_issue(&registry, issue(9, 5))
            .with_issue(&registry, issue(4, 1))
            .with_issue(&repo("other/repo"), issue(1, 0))
            .with_comment(&on(4), "bob", "hello", at(2));
        let numbers = |gh: &MemoryGitHub| -> Vec<u64> {
            let listing = gh.open_issues(&repo("Test/Registry"), 3).unwrap();
            listing.items.iter().map(|i| i.number).collect()
        };
        assert_eq!(numbers(&gh), [4, 9], "oldest first, this repository only");
        gh.comment(&on(4), "**Done**: x").unwrap();
        let said: Vec<(String, String)> = gh
            .issue_comments(&on(4), 3)
            .unwrap()
            .items
            .into_iter()
            .map(|c| (c.author, c.body))
            .collect();
        assert_eq!(
            said,
            [
                ("bob".to_owned(), "hello".to_owned()),
                (MemoryGitHub::BOT.to_owned(), "**Done**: x".to_owned())
            ]
        );
        assert_eq!(gh.open_issues(&registry, 3).unwrap().items[0].comments, 2);
        gh.close(&on(4)).unwrap();
        assert_eq!(numbers(&gh), [9]);
    }
}
