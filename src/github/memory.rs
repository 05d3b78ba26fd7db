//! [`MemoryGitHub`]: GitHub in memory, for tests.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use super::{GitHub, GitHubError, IssueRef, RepoRef};

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
}
