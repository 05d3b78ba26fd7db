//! Registry and index repositories over git2: sync with the remote, commit once, push, retry on races.
//!
//! A [`GitRepo`] is a non-bare working copy whose optional remote is `origin`. Every
//! operation lands its change through [`GitRepo::commit_change`]: the change is written,
//! exactly the paths it names go into a tree built from HEAD's, one commit is made (none
//! when nothing changed), and the branch is pushed. When the push is refused because
//! another job moved the remote branch, the working copy is synced to the remote and the
//! change is applied again on the new head, so no commit is lost or duplicated.
//!
//! Neither a commit nor a sync reads or writes the index or looks at every file: their
//! cost follows the change, not the size of the registry. The work tree is regis's own
//! (edits made to it by hand are not looked for), and the index is refreshed only by a
//! full reset after a stopped run, so `git status` there may show the commits since as
//! staged changes until `git reset`.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use git2::build::{CheckoutBuilder, RepoBuilder};
use git2::{
    AutotagOption, Commit, Cred, CredentialType, ErrorCode, FetchOptions, FetchPrune, FileMode,
    IndexAddOption, ObjectType, Oid, PushOptions, RemoteCallbacks, Repository,
    RepositoryInitOptions, ResetType, Signature, Tree,
};
use thiserror::Error;

use crate::schema::location::{redact_url, scrub};

/// The only remote regis talks to.
const REMOTE: &str = "origin";
/// The branch `regis init` creates.
const INITIAL_BRANCH: &str = "main";
/// Author and committer when the repository's git config names nobody.
const FALLBACK_NAME: &str = "regis";
const FALLBACK_EMAIL: &str = "regis@localhost";

/// Errors of the git layer. Remote URLs in messages never carry credentials.
#[derive(Debug, Error)]
pub enum GitError {
    #[error("`{}` is not a git working copy: {cause}", path.display())]
    NotAWorkingCopy { path: PathBuf, cause: String },
    #[error("`{}` is already a git repository: expected a directory without one", path.display())]
    AlreadyARepository { path: PathBuf },
    #[error("`{}` exists and is not a bare git repository: expected a new or empty directory for the remote", path.display())]
    RemoteNotBare { path: PathBuf },
    #[error("could not clone `{url}` into `{}`: {cause}", path.display())]
    Clone {
        url: String,
        path: PathBuf,
        cause: String,
    },
    #[error("could not fetch from `{url}` into `{}`: {cause}", path.display())]
    Fetch {
        url: String,
        path: PathBuf,
        cause: String,
    },
    #[error("could not push `{branch}` to `{url}`: {cause}")]
    Push {
        branch: String,
        url: String,
        cause: String,
    },
    #[error("push of `{branch}` to `{url}` was rejected: {reason}")]
    PushRejected {
        branch: String,
        url: String,
        reason: String,
    },
    #[error(
        "gave up after {attempts} attempt{} to push `{branch}` to `{url}` in {seconds} s: the remote branch moved every time, expected it to stay still long enough for a fast-forward push",
        if *attempts == 1 { "" } else { "s" }
    )]
    RetriesExhausted {
        attempts: usize,
        seconds: u64,
        branch: String,
        url: String,
    },
    #[error(
        "another regis process has been working in the checkout `{}` for {seconds} s: expected it to finish (or be killed) first",
        path.display()
    )]
    CheckoutBusy { path: PathBuf, seconds: u64 },
    #[error("HEAD of `{}` is detached: expected a checked-out branch", path.display())]
    DetachedHead { path: PathBuf },
    #[error("path `{}` is not inside the work tree `{}`: expected a relative path without `..` or `.git`", path.display(), workdir.display())]
    InvalidPath { path: PathBuf, workdir: PathBuf },
    #[error("could not stage `{}` in `{}`: {cause}", path.display(), workdir.display())]
    Stage {
        path: PathBuf,
        workdir: PathBuf,
        cause: String,
    },
    #[error("could not {action} in `{}`: {cause}", path.display())]
    Git {
        action: &'static str,
        path: PathBuf,
        cause: String,
    },
    #[error("could not {action} `{}`", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        cause: io::Error,
    },
}

/// What [`GitRepo::commit_change`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitOutcome {
    /// The change left the tree as it was: no commit, nothing pushed.
    Unchanged,
    /// One commit was made (hex id); `pushed` is false when there is no remote.
    Committed {
        commit: String,
        pushed: bool,
        attempts: usize,
    },
}

/// How one attempt's push ended, when it did not fail outright.
enum PushStatus {
    NoRemote,
    Pushed,
    /// Another job's push landed first: sync and apply the change again.
    RemoteMoved,
    /// The remote did not take the push for a passing reason (another push held the
    /// ref's lock) and has not moved past this commit: try again.
    Busy,
}

/// How long [`GitRepo::commit_change`] keeps re-applying a change whose push lost a race:
/// at most `max_attempts` attempts and, after the first, no new attempt once `budget` has
/// passed; between attempts a pause drawn at random below a cap that doubles from
/// `first_pause` to `max_pause` (full jitter), so racing jobs spread out instead of
/// colliding again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    pub max_attempts: usize,
    pub budget: Duration,
    pub first_pause: Duration,
    pub max_pause: Duration,
}

impl Retry {
    /// `max_attempts` attempts within `budget`.
    pub fn new(max_attempts: usize, budget: Duration) -> Retry {
        Retry {
            max_attempts: max_attempts.max(1),
            budget,
            first_pause: Duration::from_millis(20),
            max_pause: Duration::from_secs(2),
        }
    }

    /// For the step that finishes an operation whose first step already landed (the index
    /// line after the metadata, say): it is not given up on a race — no attempt limit, ten
    /// times the time budget — so the two repositories do not stay apart.
    pub fn landing(self) -> Retry {
        Retry {
            max_attempts: usize::MAX,
            budget: self.budget.saturating_mul(10),
            ..self
        }
    }

    /// The pause before attempt `attempt + 1`.
    pub fn pause(&self, attempt: usize) -> Duration {
        let doublings = u32::try_from(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX)
            .min(16);
        let cap = self
            .first_pause
            .saturating_mul(1 << doublings)
            .min(self.max_pause);
        cap.mul_f64(jitter())
    }
}

impl From<usize> for Retry {
    /// `max_attempts` attempts, with no time limit.
    fn from(max_attempts: usize) -> Retry {
        Retry::new(max_attempts, Duration::MAX)
    }
}

/// A number in `[0, 1)` that differs between processes and calls: `RandomState` is seeded
/// randomly per process, and a counter makes successive calls differ. Jitter needs no more.
fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(CALLS.fetch_add(1, Ordering::Relaxed));
    hasher.write_u32(std::process::id());
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// What the transport said about one pushed ref.
enum PushReply {
    Accepted,
    /// libgit2 refused before sending: the remote holds commits the local branch lacks.
    NonFastForward,
    /// The remote rejected the ref, with its reason.
    Rejected(String),
}

/// A non-bare git working copy with an optional `origin` remote.
pub struct GitRepo {
    repo: Repository,
    workdir: PathBuf,
    /// How many [`GitRepo::lock`] guards are alive (the lock is taken by the first).
    lock_depth: Cell<usize>,
}

/// The file in the git directory whose presence says the work tree may hold files HEAD
/// does not: see [`GitRepo::unsettle`].
const UNSETTLED: &str = "regis-unsettled";

/// The file in the git directory that a regis process holds (`flock`) while it syncs or
/// commits in the checkout.
const CHECKOUT_LOCK: &str = "regis.lock";

/// How long a process waits for another regis process working in the same checkout.
const CHECKOUT_LOCK_WAIT: Duration = Duration::from_secs(600);

/// Held while a regis process changes the checkout: see [`GitRepo::lock`].
struct CheckoutLock<'a> {
    depth: &'a Cell<usize>,
    /// The locked file, on the outermost guard; closing it releases the lock.
    _file: Option<fs::File>,
}

impl Drop for CheckoutLock<'_> {
    fn drop(&mut self) {
        self.depth.set(self.depth.get() - 1);
    }
}

impl fmt::Debug for GitRepo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitRepo")
            .field("workdir", &self.workdir)
            .finish_non_exhaustive()
    }
}

impl GitRepo {
    /// Opens the working copy at `dir` (not a parent of it).
    pub fn open(dir: &Path) -> Result<Self, GitError> {
        let repo = Repository::open(dir).map_err(|e| GitError::NotAWorkingCopy {
            path: dir.to_path_buf(),
            cause: e.message().to_owned(),
        })?;
        Self::from_repository(repo, dir)
    }

    /// `regis init`: `git init` dir (branch `main`), commit every file already in it with
    /// `message`, create a bare repo at `bare_remote`, add it as `origin`, push, set upstream.
    pub fn init_with_remote(
        dir: &Path,
        bare_remote: &Path,
        message: &str,
    ) -> Result<Self, GitError> {
        if dir.join(".git").exists() {
            return Err(GitError::AlreadyARepository {
                path: dir.to_path_buf(),
            });
        }
        let repo = init_repository(dir, false)?;
        let this = Self::from_repository(repo, dir)?;
        this.commit_all(message)?;
        let url = init_bare_remote(bare_remote)?;
        this.repo
            .remote(REMOTE, &url)
            .map_err(this.git_error("add the remote `origin`"))?;
        this.push_initial()?;
        this.set_upstream(INITIAL_BRANCH)?;
        Ok(this)
    }

    /// Clones `url` into `dir` as a non-bare working copy.
    pub fn clone(url: &str, dir: &Path) -> Result<Self, GitError> {
        let mut fetch = FetchOptions::new();
        fetch.remote_callbacks(auth_callbacks());
        let repo = RepoBuilder::new()
            .fetch_options(fetch)
            .clone(url, dir)
            .map_err(|e| GitError::Clone {
                url: redact_url(url),
                path: dir.to_path_buf(),
                cause: scrub(e.message(), url),
            })?;
        Self::from_repository(repo, dir)
    }

    /// The root of the working copy.
    pub fn workdir(&self) -> &Path {
        &self.workdir
    }

    /// Whether the repository has an `origin` remote.
    pub fn has_remote(&self) -> bool {
        self.repo.find_remote(REMOTE).is_ok()
    }

    /// Fetches `origin` and moves the current branch and its work tree to origin's branch of
    /// the same name, discarding unpushed commits. Only the paths that differ between the
    /// two commits are written or removed, so the cost follows the size of the change, not
    /// of the repository. When a run was stopped while the work tree was unsettled (a
    /// change half written, a sync half done: it leaves `.git/regis-unsettled`), the whole
    /// work tree is reset instead, untracked files included. When origin has no such branch
    /// yet (an empty remote), the branch keeps its commits. Without a remote this does
    /// nothing.
    pub fn sync(&self) -> Result<(), GitError> {
        if !self.has_remote() {
            return Ok(());
        }
        let _lock = self.lock()?;
        let branch = self.branch()?;
        self.fetch()?;
        let target = match self.remote_tip(&branch)? {
            Some(tip) => Some(tip),
            None => self.head_oid()?,
        };
        match target {
            Some(oid) => self.move_to(&branch, oid),
            None => Ok(()),
        }
    }

    /// Applies one operation's change and lands it as one commit, retrying on push races.
    ///
    /// Each attempt calls `change(workdir)`, which writes files and returns the paths it
    /// wrote or deleted (relative to the work tree, or absolute inside it); exactly those are
    /// staged. A change that leaves HEAD's tree as it was returns
    /// [`CommitOutcome::Unchanged`]. Otherwise one commit is made and pushed to `origin`
    /// when there is one. If the push is refused because the remote branch moved, the work
    /// tree is [synced](Self::sync) and the next attempt re-applies the change on the new
    /// head, so `change` must be written as "make the files contain X". Attempts go on as
    /// `retry` allows (a `usize` is that many attempts, 0 counting as 1), with a random
    /// growing pause between them; a commit the remote already holds (an identical commit
    /// another job pushed first) counts as pushed.
    pub fn commit_change<E, F>(
        &self,
        message: &str,
        retry: impl Into<Retry>,
        mut change: F,
    ) -> Result<CommitOutcome, E>
    where
        E: From<GitError>,
        F: FnMut(&Path) -> Result<Vec<PathBuf>, E>,
    {
        let retry = retry.into();
        let _lock = self.lock()?;
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.unsettle()?;
            let paths = change(&self.workdir)?;
            crate::fault::point("git:changed");
            let commit = self.commit_paths(message, &paths)?;
            // Every file the change wrote is in HEAD's tree now (or was already).
            self.settle()?;
            let Some(commit) = commit else {
                return Ok(CommitOutcome::Unchanged);
            };
            crate::fault::point("git:committed");
            let pushed = match self.push_head(commit)? {
                PushStatus::NoRemote => false,
                PushStatus::Pushed => true,
                PushStatus::RemoteMoved | PushStatus::Busy => {
                    let pause = retry.pause(attempt);
                    if attempt >= retry.max_attempts || started.elapsed() + pause > retry.budget {
                        return Err(self.retries_exhausted(attempt, started.elapsed()).into());
                    }
                    std::thread::sleep(pause);
                    self.sync()?;
                    continue;
                }
            };
            return Ok(CommitOutcome::Committed {
                commit: commit.to_string(),
                pushed,
                attempts: attempt,
            });
        }
    }

    /// The hex id of the HEAD commit, or `None` while the branch is unborn.
    pub fn head(&self) -> Result<Option<String>, GitError> {
        Ok(self.head_oid()?.map(|oid| oid.to_string()))
    }

    /// The work tree's paths whose files differ from HEAD's tree: changed, missing or
    /// untracked (ignored files left out). A scan of every file, for tests: after an
    /// operation succeeds there must be none.
    #[cfg(any(test, feature = "testing"))]
    pub fn differences_from_head(&self) -> Vec<String> {
        let tree = self
            .head_commit()
            .unwrap()
            .map(|commit| commit.tree().unwrap());
        let mut options = git2::DiffOptions::new();
        options.include_untracked(true).recurse_untracked_dirs(true);
        let diff = self
            .repo
            .diff_tree_to_workdir(tree.as_ref(), Some(&mut options))
            .unwrap();
        diff.deltas()
            .filter_map(|d| d.new_file().path().or(d.old_file().path()))
            .map(|p| p.display().to_string())
            .collect()
    }

    /// Take the checkout for this process: an exclusive `flock` on `.git/regis.lock`
    /// (another regis process working here is waited for), released when the guard drops —
    /// also when the process is killed. Holding it, no other regis process is changing this
    /// checkout, so any git `*.lock` file older than the moment it was taken was left by a
    /// killed run (a `kill -9` during a fetch leaves `refs/remotes/origin/main.lock`) and is
    /// removed, so the re-run can finish the interrupted operation. Re-entrant.
    fn lock(&self) -> Result<CheckoutLock<'_>, GitError> {
        let depth = self.lock_depth.get();
        if depth > 0 {
            self.lock_depth.set(depth + 1);
            return Ok(CheckoutLock {
                depth: &self.lock_depth,
                _file: None,
            });
        }
        let path = self.repo.path().join(CHECKOUT_LOCK);
        let io = |cause| GitError::Io {
            action: "lock the checkout at",
            path: path.clone(),
            cause,
        };
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io)?;
        let started = Instant::now();
        loop {
            match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => break,
                Err(rustix::io::Errno::WOULDBLOCK) if started.elapsed() < CHECKOUT_LOCK_WAIT => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(rustix::io::Errno::WOULDBLOCK) => {
                    return Err(GitError::CheckoutBusy {
                        path: self.workdir.clone(),
                        seconds: started.elapsed().as_secs(),
                    });
                }
                Err(e) => return Err(io(e.into())),
            }
        }
        let taken = SystemTime::now();
        self.lock_depth.set(1);
        let guard = CheckoutLock {
            depth: &self.lock_depth,
            _file: Some(file),
        };
        self.remove_stale_locks(self.repo.path(), taken)?;
        Ok(guard)
    }

    /// Remove the git `*.lock` files below `dir` (the git directory; objects excluded)
    /// last written before `taken`.
    fn remove_stale_locks(&self, dir: &Path, taken: SystemTime) -> Result<(), GitError> {
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(cause) => {
                return Err(GitError::Io {
                    action: "look for stale locks in",
                    path: dir.to_path_buf(),
                    cause,
                });
            }
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                if name != "objects" {
                    self.remove_stale_locks(&path, taken)?;
                }
                continue;
            }
            let stale = name.to_string_lossy().ends_with(".lock")
                && name != CHECKOUT_LOCK
                && entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .is_ok_and(|modified| modified < taken);
            if stale {
                match fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(cause) => {
                        return Err(GitError::Io {
                            action: "remove the stale lock",
                            path,
                            cause,
                        });
                    }
                }
            }
        }
        Ok(())
    }

    fn from_repository(repo: Repository, dir: &Path) -> Result<Self, GitError> {
        let Some(workdir) = repo.workdir() else {
            return Err(GitError::NotAWorkingCopy {
                path: dir.to_path_buf(),
                cause: "it is a bare repository".to_owned(),
            });
        };
        // Drop the trailing `/` libgit2 puts on work tree paths.
        let workdir = workdir.components().collect();
        Ok(Self {
            repo,
            workdir,
            lock_depth: Cell::new(0),
        })
    }

    fn git_error(&self, action: &'static str) -> impl FnOnce(git2::Error) -> GitError + '_ {
        move |e| GitError::Git {
            action,
            path: self.workdir.clone(),
            cause: e.message().to_owned(),
        }
    }

    /// The branch HEAD points at, born or not (`main`, not `refs/heads/main`).
    fn branch(&self) -> Result<String, GitError> {
        let head = self
            .repo
            .find_reference("HEAD")
            .map_err(self.git_error("read HEAD"))?;
        head.symbolic_target()
            .ok()
            .flatten()
            .and_then(|target| target.strip_prefix("refs/heads/"))
            .map(str::to_owned)
            .ok_or_else(|| GitError::DetachedHead {
                path: self.workdir.clone(),
            })
    }

    fn head_oid(&self) -> Result<Option<Oid>, GitError> {
        match self.repo.head() {
            Ok(head) => Ok(head.target()),
            Err(e) if matches!(e.code(), ErrorCode::UnbornBranch | ErrorCode::NotFound) => Ok(None),
            Err(e) => Err(self.git_error("read HEAD")(e)),
        }
    }

    fn head_commit(&self) -> Result<Option<Commit<'_>>, GitError> {
        let Some(oid) = self.head_oid()? else {
            return Ok(None);
        };
        let commit = self
            .repo
            .find_commit(oid)
            .map_err(self.git_error("read the HEAD commit"))?;
        Ok(Some(commit))
    }

    /// The URL of `origin` without credentials, for messages.
    fn remote_url(&self) -> String {
        self.repo
            .find_remote(REMOTE)
            .ok()
            .and_then(|remote| remote.url().ok().map(redact_url))
            .unwrap_or_else(|| REMOTE.to_owned())
    }

    fn remote_tip(&self, branch: &str) -> Result<Option<Oid>, GitError> {
        match self
            .repo
            .find_reference(&format!("refs/remotes/{REMOTE}/{branch}"))
        {
            Ok(reference) => Ok(reference.target()),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(self.git_error("read the remote-tracking branch")(e)),
        }
    }

    fn fetch(&self) -> Result<(), GitError> {
        let mut remote = self
            .repo
            .find_remote(REMOTE)
            .map_err(self.git_error("find the remote `origin`"))?;
        let mut options = FetchOptions::new();
        options
            .remote_callbacks(auth_callbacks())
            .prune(FetchPrune::On)
            .download_tags(AutotagOption::None);
        let raw_url = remote.url().unwrap_or(REMOTE).to_owned();
        remote
            .fetch::<&str>(&[], Some(&mut options), Some("regis: fetch"))
            .map_err(|e| GitError::Fetch {
                url: redact_url(&raw_url),
                path: self.workdir.clone(),
                cause: scrub(e.message(), &raw_url),
            })
    }

    /// Make `branch` point at `oid` and the work tree hold its files. A settled work tree
    /// holds HEAD's files, so only the paths that differ between HEAD and `oid` are
    /// written or removed; an unsettled one (or an unborn branch) is [reset
    /// whole](Self::reset_hard).
    fn move_to(&self, branch: &str, oid: Oid) -> Result<(), GitError> {
        let head = match self.head_commit()? {
            Some(head) if !self.is_unsettled() => head,
            _ => {
                self.unsettle()?;
                self.reset_hard(oid)?;
                return self.settle();
            }
        };
        if head.id() == oid {
            return Ok(());
        }
        let target = self
            .repo
            .find_commit(oid)
            .map_err(self.git_error("find the commit to sync to"))?;
        let (from, to) = head
            .tree()
            .and_then(|from| Ok((from, target.tree()?)))
            .map_err(self.git_error("read the trees to sync"))?;
        self.unsettle()?;
        self.checkout_changes(&from, &to)?;
        crate::fault::point("git:synced-files");
        self.repo
            .reference(&format!("refs/heads/{branch}"), oid, true, "regis: sync")
            .map_err(self.git_error("move the branch"))?;
        self.settle()
    }

    /// Write and remove the work tree's files that differ between `from` and `to` (removals
    /// first, so a file can take the place of a directory and the other way round).
    fn checkout_changes(&self, from: &Tree<'_>, to: &Tree<'_>) -> Result<(), GitError> {
        let diff = self
            .repo
            .diff_tree_to_tree(Some(from), Some(to), None)
            .map_err(self.git_error("compare the trees to sync"))?;
        let mut writes = Vec::new();
        for delta in diff.deltas() {
            let (old, new) = (delta.old_file(), delta.new_file());
            if let Some(path) = old.path().filter(|_| old.exists()) {
                self.remove_work_file(path)?;
            }
            if let Some(path) = new.path().filter(|_| new.exists()) {
                writes.push((path.to_path_buf(), new.id(), new.mode()));
            }
        }
        for (path, id, mode) in writes {
            self.write_work_file(&path, id, mode)?;
        }
        Ok(())
    }

    /// Remove the work tree's file at `relative`, and the directories it leaves empty.
    fn remove_work_file(&self, relative: &Path) -> Result<(), GitError> {
        let path = self.workdir.join(relative);
        let removed = match fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_dir() => fs::remove_dir_all(&path),
            Ok(_) => fs::remove_file(&path),
            Err(e) => Err(e),
        };
        match removed {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(cause) => {
                return Err(GitError::Io {
                    action: "remove",
                    path,
                    cause,
                });
            }
        }
        for dir in path.ancestors().skip(1) {
            if dir == self.workdir || fs::remove_dir(dir).is_err() {
                break;
            }
        }
        Ok(())
    }

    /// Write blob `id` to the work tree at `relative`, as a file with `mode`'s executable
    /// bit or as a symbolic link.
    fn write_work_file(&self, relative: &Path, id: Oid, mode: FileMode) -> Result<(), GitError> {
        let path = self.workdir.join(relative);
        let io = |action| {
            let path = path.clone();
            move |cause| GitError::Io {
                action,
                path,
                cause,
            }
        };
        let blob = self
            .repo
            .find_blob(id)
            .map_err(self.git_error("read a file to sync"))?;
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io("create the directory of"))?;
        }
        if mode == FileMode::Link {
            let _ = fs::remove_file(&path);
            let target = std::ffi::OsStr::from_bytes(blob.content());
            return std::os::unix::fs::symlink(target, &path).map_err(io("link"));
        }
        if fs::symlink_metadata(&path).is_ok_and(|meta| meta.file_type().is_symlink()) {
            fs::remove_file(&path).map_err(io("replace"))?;
        }
        fs::write(&path, blob.content()).map_err(io("write"))?;
        use std::os::unix::fs::PermissionsExt;
        let mut permissions = fs::metadata(&path).map_err(io("inspect"))?.permissions();
        let wanted = if mode == FileMode::BlobExecutable {
            permissions.mode() | 0o111
        } else {
            permissions.mode() & !0o111
        };
        if wanted != permissions.mode() {
            permissions.set_mode(wanted);
            fs::set_permissions(&path, permissions).map_err(io("set the mode of"))?;
        }
        Ok(())
    }

    /// Reset the branch, index and whole work tree to `oid`, untracked files removed.
    fn reset_hard(&self, oid: Oid) -> Result<(), GitError> {
        let target = self
            .repo
            .find_object(oid, Some(ObjectType::Commit))
            .map_err(self.git_error("find the commit to reset to"))?;
        let mut checkout = CheckoutBuilder::new();
        checkout.force();
        self.repo
            .reset(&target, ResetType::Hard, Some(&mut checkout))
            .map_err(self.git_error("reset the work tree"))?;
        // Untracked files go too: a crashed run's new `metadata/<name>.json` left behind
        // would otherwise pass for registered. Ignored files stay. (A hard reset overrides
        // the checkout strategy, hence the second checkout.)
        self.repo
            .checkout_head(Some(CheckoutBuilder::new().force().remove_untracked(true)))
            .map_err(self.git_error("remove untracked files from the work tree"))
    }

    /// Mark the work tree as possibly holding files HEAD does not (a change being written,
    /// a sync under way): a run stopped before [`settle`](Self::settle) leaves the mark, and
    /// the next sync resets the whole work tree.
    fn unsettle(&self) -> Result<(), GitError> {
        let path = self.repo.path().join(UNSETTLED);
        fs::write(&path, "").map_err(|cause| GitError::Io {
            action: "mark the work tree unsettled at",
            path,
            cause,
        })
    }

    /// The work tree holds HEAD's files again.
    fn settle(&self) -> Result<(), GitError> {
        let path = self.repo.path().join(UNSETTLED);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(cause) => Err(GitError::Io {
                action: "mark the work tree settled at",
                path,
                cause,
            }),
        }
    }

    fn is_unsettled(&self) -> bool {
        self.repo.path().join(UNSETTLED).exists()
    }

    fn signature(&self) -> Result<Signature<'static>, GitError> {
        self.repo
            .signature()
            .or_else(|_| Signature::now(FALLBACK_NAME, FALLBACK_EMAIL))
            .map_err(self.git_error("make a commit signature"))
    }

    /// Commits HEAD's tree with exactly `paths` as they are in the work tree (a missing path
    /// removed, a directory taken whole, ignored files left out); `None` when the tree is
    /// unchanged. The new tree is HEAD's with only the trees on the way to each path written
    /// again ([`edit_tree`]): no index is read or written, so the cost follows the change,
    /// not the number of files.
    fn commit_paths(&self, message: &str, paths: &[PathBuf]) -> Result<Option<Oid>, GitError> {
        let parent = self.head_commit()?;
        let mut edits = BTreeMap::new();
        for path in paths {
            let relative = self.relative(path)?;
            let edit = self.edit_for(&relative)?;
            let parts = relative
                .components()
                .map(|c| c.as_os_str().to_owned())
                .collect::<Vec<_>>();
            edits.insert(parts, edit);
        }
        // A path below another named path is already in that one's edit (a directory is
        // taken whole from disk, a missing one has nothing below it).
        let mut kept: Vec<(&[OsString], Edit)> = Vec::with_capacity(edits.len());
        for (parts, edit) in &edits {
            if kept
                .last()
                .is_none_or(|(above, _)| !parts.starts_with(above))
            {
                kept.push((parts, *edit));
            }
        }
        let edits = kept;
        let base = parent.as_ref().map(Commit::tree_id);
        let tree_id =
            edit_tree(&self.repo, base, &edits).map_err(self.git_error("write the tree"))?;
        let tree_id = match (tree_id, &parent) {
            (Some(id), _) => id,
            (None, None) => return Ok(None),
            (None, Some(_)) => self
                .repo
                .treebuilder(None)
                .and_then(|empty| empty.write())
                .map_err(self.git_error("write the tree"))?,
        };
        if parent.as_ref().is_some_and(|p| p.tree_id() == tree_id) {
            return Ok(None);
        }
        self.commit_tree(message, tree_id, parent.as_ref())
            .map(Some)
    }

    /// What the work tree holds at `relative`, as an edit of a tree: a blob, a tree of a
    /// directory's files, or nothing.
    fn edit_for(&self, relative: &Path) -> Result<Edit, GitError> {
        let absolute = self.workdir.join(relative);
        let meta = match fs::symlink_metadata(&absolute) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Edit::Remove),
            Err(cause) => {
                return Err(GitError::Io {
                    action: "inspect",
                    path: absolute,
                    cause,
                });
            }
        };
        let staged = if meta.is_dir() {
            self.tree_of_dir(relative)
                .map(|tree| tree.map_or(Edit::Remove, |id| Edit::Put(id, FileMode::Tree)))
        } else {
            self.blob_of(&absolute, &meta)
                .map(|(id, mode)| Edit::Put(id, mode))
        };
        staged.map_err(|e| GitError::Stage {
            path: relative.to_path_buf(),
            workdir: self.workdir.clone(),
            cause: e.message().to_owned(),
        })
    }

    /// Store the file at `absolute` as a blob: its id and tree mode.
    fn blob_of(
        &self,
        absolute: &Path,
        meta: &fs::Metadata,
    ) -> Result<(Oid, FileMode), git2::Error> {
        use std::os::unix::fs::PermissionsExt;
        if meta.file_type().is_symlink() {
            let target =
                fs::read_link(absolute).map_err(|e| git2::Error::from_str(&e.to_string()))?;
            return Ok((
                self.repo.blob(target.as_os_str().as_bytes())?,
                FileMode::Link,
            ));
        }
        let mode = if meta.permissions().mode() & 0o111 != 0 {
            FileMode::BlobExecutable
        } else {
            FileMode::Blob
        };
        // Read and stored as they are: `blob_path` would load the attribute files (and with
        // them the whole index) to look for filters, which registry files never have.
        let bytes = fs::read(absolute).map_err(|e| git2::Error::from_str(&e.to_string()))?;
        Ok((self.repo.blob(&bytes)?, mode))
    }

    /// A tree of the files below the work tree's directory `relative` that git does not
    /// ignore; `None` when there are none.
    fn tree_of_dir(&self, relative: &Path) -> Result<Option<Oid>, git2::Error> {
        let absolute = self.workdir.join(relative);
        let io = |e: io::Error| git2::Error::from_str(&e.to_string());
        let mut entries = fs::read_dir(&absolute)
            .map_err(io)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(io)?;
        entries.sort_by_key(fs::DirEntry::file_name);
        let mut builder = self.repo.treebuilder(None)?;
        for entry in entries {
            let name = entry.file_name();
            let child = relative.join(&name);
            if self.repo.is_path_ignored(&child)? {
                continue;
            }
            let meta = fs::symlink_metadata(entry.path()).map_err(io)?;
            let (id, mode) = if meta.is_dir() {
                match self.tree_of_dir(&child)? {
                    Some(id) => (id, FileMode::Tree),
                    None => continue,
                }
            } else {
                self.blob_of(&entry.path(), &meta)?
            };
            builder.insert(&name, id, mode.into())?;
        }
        if builder.is_empty() {
            return Ok(None);
        }
        builder.write().map(Some)
    }

    fn commit_tree(
        &self,
        message: &str,
        tree_id: Oid,
        parent: Option<&Commit<'_>>,
    ) -> Result<Oid, GitError> {
        let tree = self
            .repo
            .find_tree(tree_id)
            .map_err(self.git_error("read the tree"))?;
        let signature = self.signature()?;
        let parents: Vec<&Commit<'_>> = parent.into_iter().collect();
        self.repo
            .commit(
                Some("HEAD"),
                &signature,
                &signature,
                message,
                &tree,
                &parents,
            )
            .map_err(self.git_error("commit"))
    }

    /// Commits every file in the work tree (the first commit of `regis init`).
    fn commit_all(&self, message: &str) -> Result<Oid, GitError> {
        let mut index = self
            .repo
            .index()
            .map_err(self.git_error("open the index"))?;
        index
            .add_all(["*"], IndexAddOption::DEFAULT, None)
            .map_err(self.git_error("stage the files"))?;
        index.write().map_err(self.git_error("write the index"))?;
        let tree_id = index
            .write_tree()
            .map_err(self.git_error("write the tree"))?;
        self.commit_tree(message, tree_id, None)
    }

    /// `path` relative to the work tree, checked to stay inside it and out of `.git`.
    fn relative(&self, path: &Path) -> Result<PathBuf, GitError> {
        let invalid = || GitError::InvalidPath {
            path: path.to_path_buf(),
            workdir: self.workdir.clone(),
        };
        let stripped = path.strip_prefix(&self.workdir).unwrap_or(path);
        let mut relative = PathBuf::new();
        for component in stripped.components() {
            match component {
                Component::Normal(part) if relative.as_os_str().is_empty() && part == ".git" => {
                    return Err(invalid());
                }
                Component::Normal(part) => relative.push(part),
                Component::CurDir => {}
                _ => return Err(invalid()),
            }
        }
        if relative.as_os_str().is_empty() {
            return Err(invalid());
        }
        Ok(relative)
    }

    /// Pushes the current branch, whose tip is `commit`, to origin.
    fn push_head(&self, commit: Oid) -> Result<PushStatus, GitError> {
        if !self.has_remote() {
            return Ok(PushStatus::NoRemote);
        }
        let branch = self.branch()?;
        let reason = match self.push_branch(&branch)? {
            PushReply::Accepted => return Ok(PushStatus::Pushed),
            PushReply::NonFastForward => return Ok(PushStatus::RemoteMoved),
            PushReply::Rejected(reason) => reason,
        };
        // Rejected: look at what the remote holds now.
        self.fetch()?;
        let Some(tip) = self.remote_tip(&branch)? else {
            return Err(self.push_rejected(branch, reason));
        };
        let descends = |a: Oid, b: Oid| {
            self.repo
                .graph_descendant_of(a, b)
                .map_err(self.git_error("compare with the remote branch"))
        };
        if tip == commit || descends(tip, commit)? {
            // An identical commit, pushed by another job running the same change, got
            // there first (or has been built on since): this commit is on the remote.
            return Ok(PushStatus::Pushed);
        }
        if !descends(commit, tip)? {
            return Ok(PushStatus::RemoteMoved);
        }
        if lost_a_lock(&reason) {
            return Ok(PushStatus::Busy);
        }
        Err(self.push_rejected(branch, reason))
    }

    fn push_rejected(&self, branch: String, reason: String) -> GitError {
        GitError::PushRejected {
            branch,
            url: self.remote_url(),
            reason,
        }
    }

    /// Pushes `branch` to the same name on origin. A remote on this machine gets `git
    /// push` itself: libgit2's local transport moves the remote ref without checking that
    /// it still holds the value it read (a racing job's commit would be overwritten) and
    /// never runs the remote's hooks; `git push` runs `receive-pack`, which updates the
    /// ref only if it is unchanged. Other transports send the old value with the update.
    fn push_branch(&self, branch: &str) -> Result<PushReply, GitError> {
        let refname = format!("refs/heads/{branch}");
        let mut remote = self
            .repo
            .find_remote(REMOTE)
            .map_err(self.git_error("find the remote `origin`"))?;
        let raw_url = remote.url().unwrap_or(REMOTE).to_owned();
        if is_local_url(&raw_url) {
            return self.push_with_git(branch, &raw_url);
        }
        let rejection = RefCell::new(None);
        let pushed = {
            let mut callbacks = auth_callbacks();
            callbacks.push_update_reference(|reference, status| {
                if let Some(status) = status {
                    *rejection.borrow_mut() = Some(format!("`{reference}`: {status}"));
                }
                Ok(())
            });
            let mut options = PushOptions::new();
            options.remote_callbacks(callbacks);
            remote.push(&[format!("{refname}:{refname}")], Some(&mut options))
        };
        match pushed {
            Ok(()) => Ok(rejection
                .into_inner()
                .map_or(PushReply::Accepted, PushReply::Rejected)),
            Err(e) if e.code() == ErrorCode::NotFastForward => Ok(PushReply::NonFastForward),
            Err(e) => Err(GitError::Push {
                branch: branch.to_owned(),
                url: redact_url(&raw_url),
                cause: scrub(e.message(), &raw_url),
            }),
        }
    }

    /// `git push --porcelain origin <branch>:<branch>` (never forced), read back as a
    /// [`PushReply`].
    fn push_with_git(&self, branch: &str, raw_url: &str) -> Result<PushReply, GitError> {
        let refspec = format!("refs/heads/{branch}:refs/heads/{branch}");
        let failed = |cause: String| GitError::Push {
            branch: branch.to_owned(),
            url: redact_url(raw_url),
            cause: scrub(&cause, raw_url),
        };
        let output = Command::new("git")
            .arg("-C")
            .arg(&self.workdir)
            .args(["push", "--porcelain", REMOTE, &refspec])
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("LC_ALL", "C")
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| failed(format!("cannot run `git push`: {e}")))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        match porcelain_status(&stdout, &refspec) {
            Some(reply) => Ok(reply),
            None => Err(failed(format!(
                "`git push` exited with {}: {}",
                output.status,
                stderr.trim()
            ))),
        }
    }

    fn push_initial(&self) -> Result<(), GitError> {
        let rejected = |reason: String| GitError::PushRejected {
            branch: INITIAL_BRANCH.to_owned(),
            url: self.remote_url(),
            reason,
        };
        match self.push_branch(INITIAL_BRANCH)? {
            PushReply::Accepted => Ok(()),
            PushReply::NonFastForward => Err(rejected(format!(
                "the remote already has a different `{INITIAL_BRANCH}`, expected an empty remote"
            ))),
            PushReply::Rejected(reason) => Err(rejected(reason)),
        }
    }

    fn set_upstream(&self, branch: &str) -> Result<(), GitError> {
        let head = self.head_oid()?.ok_or_else(|| {
            self.git_error("set the upstream")(git2::Error::from_str("no commit"))
        })?;
        self.repo
            .reference(
                &format!("refs/remotes/{REMOTE}/{branch}"),
                head,
                true,
                "regis: init",
            )
            .map_err(self.git_error("create the remote-tracking branch"))?;
        let mut local = self
            .repo
            .find_branch(branch, git2::BranchType::Local)
            .map_err(self.git_error("find the branch"))?;
        local
            .set_upstream(Some(&format!("{REMOTE}/{branch}")))
            .map_err(self.git_error("set the upstream"))
    }

    fn retries_exhausted(&self, attempts: usize, took: Duration) -> GitError {
        GitError::RetriesExhausted {
            attempts,
            seconds: took.as_secs(),
            branch: self.branch().unwrap_or_default(),
            url: self.remote_url(),
        }
    }
}

/// One path's new content in [`edit_tree`]: a blob or tree with its mode, or nothing.
#[derive(Debug, Clone, Copy)]
enum Edit {
    Put(Oid, FileMode),
    Remove,
}

/// `base` with `edits` applied, each at a path given as its parts (sorted, as a `BTreeMap`'s
/// keys are); `None` when nothing is left. Only the trees on the way to an edited path are
/// read and written again, each in one pass over its bytes (a registry's `metadata/` holds
/// an entry per package: no entry is parsed into a map or sorted again); a tree left empty
/// is dropped, as git keeps no empty trees.
fn edit_tree(
    repo: &Repository,
    base: Option<Oid>,
    edits: &[(&[OsString], Edit)],
) -> Result<Option<Oid>, git2::Error> {
    let odb = repo.odb()?;
    let base = base.map(|id| odb.read(id)).transpose()?;
    let raw = base.as_ref().map_or(&[][..], |object| object.data());
    // What each edited name holds afterwards: (mode, id), or nothing.
    let mut changes: Vec<(&[u8], Option<Entry>)> = Vec::new();
    let mut rest = edits;
    while let Some(((parts, edit), _)) = rest.split_first() {
        let name = parts[0].as_bytes();
        if parts.len() == 1 {
            let put = match *edit {
                Edit::Put(id, mode) => Some((i32::from(mode).unsigned_abs(), id)),
                Edit::Remove => None,
            };
            changes.push((name, put));
            rest = &rest[1..];
            continue;
        }
        let below = rest
            .iter()
            .take_while(|(p, _)| p.len() > 1 && p[0] == parts[0])
            .count();
        let subtree = tree_entries(raw)
            .find(|entry| entry.as_ref().is_ok_and(|e| e.name == name))
            .transpose()?
            .filter(|e| e.mode == MODE_TREE)
            .map(|e| e.id);
        let inner: Vec<(&[OsString], Edit)> =
            rest[..below].iter().map(|(p, e)| (&p[1..], *e)).collect();
        let put = edit_tree(repo, subtree, &inner)?.map(|id| (MODE_TREE, id));
        changes.push((name, put));
        rest = &rest[below..];
    }
    // A later edit of a name wins; then the new entries in git's order.
    changes.reverse();
    let mut seen = Vec::new();
    changes.retain(|(name, _)| {
        let first = !seen.contains(name);
        seen.push(*name);
        first
    });
    let mut added: Vec<(Vec<u8>, &[u8], u32, Oid)> = changes
        .iter()
        .filter_map(|&(name, put)| put.map(|(mode, id)| (tree_key(name, mode), name, mode, id)))
        .collect();
    added.sort();
    let mut out = Vec::with_capacity(raw.len() + 64);
    let mut added = added.into_iter().peekable();
    for entry in tree_entries(raw) {
        let entry = entry?;
        if changes.iter().any(|(name, _)| *name == entry.name) {
            continue;
        }
        let key = tree_key(entry.name, entry.mode);
        while let Some((_, name, mode, id)) = added.next_if(|(k, ..)| *k < key) {
            push_tree_entry(&mut out, mode, name, id);
        }
        push_tree_entry(&mut out, entry.mode, entry.name, entry.id);
    }
    for (_, name, mode, id) in added {
        push_tree_entry(&mut out, mode, name, id);
    }
    if out.is_empty() {
        return Ok(None);
    }
    odb.write(ObjectType::Tree, &out).map(Some)
}

/// The mode git writes for a tree entry.
const MODE_TREE: u32 = 0o040000;

/// A tree entry's mode and object.
type Entry = (u32, Oid);

/// One entry of a tree object's bytes.
struct TreeEntry<'a> {
    mode: u32,
    name: &'a [u8],
    id: Oid,
}

/// The entries of a tree object's bytes (`<octal mode> <name>\0<20-byte id>`, repeated).
fn tree_entries(raw: &[u8]) -> impl Iterator<Item = Result<TreeEntry<'_>, git2::Error>> {
    let mut rest = raw;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let corrupt = || git2::Error::from_str("a tree object is corrupt");
        let entry = (|| {
            let space = rest.iter().position(|&b| b == b' ')?;
            let nul = space + 1 + rest[space + 1..].iter().position(|&b| b == 0)?;
            let mode = std::str::from_utf8(&rest[..space]).ok()?;
            let mode = u32::from_str_radix(mode, 8).ok()?;
            let id = rest.get(nul + 1..nul + 21)?;
            let entry = TreeEntry {
                mode,
                name: &rest[space + 1..nul],
                id: Oid::from_bytes(id).ok()?,
            };
            rest = &rest[nul + 21..];
            Some(entry)
        })();
        if entry.is_none() {
            rest = &[];
        }
        Some(entry.ok_or_else(corrupt))
    })
}

/// What git sorts a tree's entries by: the name, with a `/` after a tree's.
fn tree_key(name: &[u8], mode: u32) -> Vec<u8> {
    let mut key = name.to_vec();
    if mode == MODE_TREE {
        key.push(b'/');
    }
    key
}

/// Append one entry in a tree object's format.
fn push_tree_entry(out: &mut Vec<u8>, mode: u32, name: &[u8], id: Oid) {
    use std::io::Write;
    let _ = write!(out, "{mode:o} ");
    out.extend_from_slice(name);
    out.push(0);
    out.extend_from_slice(id.as_bytes());
}

/// Whether `url` names a repository on this machine (`file://…` or a path), which libgit2
/// would push to through its local transport.
fn is_local_url(url: &str) -> bool {
    if url.starts_with("file://") {
        return true;
    }
    match url.find("://") {
        Some(_) => false,
        // `host:path` (scp-like ssh) has a `:` before any `/`
        None => !url
            .split('/')
            .next()
            .is_some_and(|first| first.contains(':')),
    }
}

/// The status of `refspec` in `git push --porcelain` output (`<flag>\t<from>:<to>\t<summary>`):
/// `=` up to date and ` `/`+`/`*` updated are accepted; `!` with `[rejected]` (the remote
/// has commits the branch lacks) is a non-fast-forward; any other `!` is a rejection with
/// its reason. `None` when the output has no line for the ref (git failed before pushing).
fn porcelain_status(stdout: &str, refspec: &str) -> Option<PushReply> {
    stdout.lines().find_map(|line| {
        let mut fields = line.splitn(3, '\t');
        let (flag, spec, summary) = (fields.next()?, fields.next()?, fields.next().unwrap_or(""));
        if spec != refspec {
            return None;
        }
        Some(match flag {
            "=" | " " | "+" | "*" => PushReply::Accepted,
            "!" if summary.starts_with("[rejected]") => PushReply::NonFastForward,
            _ => PushReply::Rejected(summary.to_owned()),
        })
    })
}

/// Whether a rejection reason says another push held the ref at the same moment (git's
/// "cannot lock ref", "failed to update ref", libgit2's "failed to lock file").
fn lost_a_lock(reason: &str) -> bool {
    ["lock", "failed to update ref"]
        .iter()
        .any(|word| reason.contains(word))
}

/// `git init` (bare or not) with `main` as the initial branch, creating `dir` if needed.
fn init_repository(dir: &Path, bare: bool) -> Result<Repository, GitError> {
    let mut options = RepositoryInitOptions::new();
    options.bare(bare).mkpath(true).initial_head(INITIAL_BRANCH);
    Repository::init_opts(dir, &options).map_err(|e| GitError::Git {
        action: "initialise a repository",
        path: dir.to_path_buf(),
        cause: e.message().to_owned(),
    })
}

/// Creates (or reuses) the bare repository at `path`; returns its absolute path as a URL.
fn init_bare_remote(path: &Path) -> Result<String, GitError> {
    let not_bare = || GitError::RemoteNotBare {
        path: path.to_path_buf(),
    };
    let occupied = fs::read_dir(path).is_ok_and(|mut entries| entries.next().is_some());
    if occupied && Repository::open_bare(path).is_err() {
        return Err(not_bare());
    }
    init_repository(path, true)?;
    let absolute = path.canonicalize().map_err(|cause| GitError::Io {
        action: "resolve",
        path: path.to_path_buf(),
        cause,
    })?;
    absolute.to_str().map(str::to_owned).ok_or_else(not_bare)
}

/// Callbacks that answer one credential request from the git credential helpers.
fn auth_callbacks<'a>() -> RemoteCallbacks<'a> {
    let mut callbacks = RemoteCallbacks::new();
    let mut asked = false;
    callbacks.credentials(move |url, username, allowed| {
        if asked {
            return Err(git2::Error::from_str("authentication failed"));
        }
        asked = true;
        if allowed.contains(CredentialType::USER_PASS_PLAINTEXT) {
            let config = git2::Config::open_default()?;
            return Cred::credential_helper(&config, url, username);
        }
        if allowed.contains(CredentialType::DEFAULT) {
            return Cred::default();
        }
        Err(git2::Error::from_str("no supported credential type"))
    });
    callbacks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Daemon, commits_on, remote_file};
    use std::os::unix::fs::PermissionsExt;
    use tempfile::TempDir;

    type Change = Box<dyn FnMut(&Path) -> Result<Vec<PathBuf>, GitError>>;

    /// A registry working copy made by `init_with_remote`, and its bare remote.
    struct Upstream {
        root: TempDir,
        bare: PathBuf,
        registry: GitRepo,
    }

    fn upstream() -> Upstream {
        let root = TempDir::new().unwrap();
        let dir = root.path().join("registry");
        fs::create_dir(&dir).unwrap();
        fs::write(dir.join("README.md"), "registry\n").unwrap();
        let bare = root.path().join("remote.git");
        let registry = GitRepo::init_with_remote(&dir, &bare, "init").unwrap();
        Upstream {
            root,
            bare,
            registry,
        }
    }

    impl Upstream {
        fn clone_from(&self, url: &str, name: &str) -> GitRepo {
            GitRepo::clone(url, &self.root.path().join(name)).unwrap()
        }

        fn clone_as(&self, name: &str) -> GitRepo {
            self.clone_from(&format!("file://{}", self.bare.display()), name)
        }

        fn messages(&self) -> Vec<String> {
            commits_on(&self.bare)
        }

        fn file(&self, path: &str) -> Option<String> {
            remote_file(&self.bare, path)
        }
    }

    /// A change that makes `path` contain `content`.
    fn write(path: &str, content: &str) -> Change {
        let (path, content) = (path.to_owned(), content.to_owned());
        Box::new(move |dir| {
            let file = dir.join(&path);
            fs::create_dir_all(file.parent().unwrap()).unwrap();
            fs::write(file, &content).unwrap();
            Ok(vec![PathBuf::from(&path)])
        })
    }

    fn committed(outcome: &CommitOutcome) -> (bool, usize) {
        match outcome {
            CommitOutcome::Committed {
                pushed, attempts, ..
            } => (*pushed, *attempts),
            CommitOutcome::Unchanged => panic!("expected a commit, got {outcome:?}"),
        }
    }

    fn install_hook(bare: &Path, name: &str, script: &str) {
        let hooks = bare.join("hooks");
        fs::create_dir_all(&hooks).unwrap();
        let hook = hooks.join(name);
        fs::write(&hook, script).unwrap();
        fs::set_permissions(&hook, fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// A pre-receive hook that, once, lands a commit adding `racer.txt` on `main` while the
    /// push is in flight, so receive-pack rejects the pushed ref (reported per ref).
    const RACING_HOOK: &str = r#"#!/bin/sh
[ -e "$GIT_DIR/race-once" ] || exit 0
rm -f "$GIT_DIR/race-once"
unset GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES
tip=$(git rev-parse refs/heads/main) || exit 1
blob=$(echo racer | git hash-object -w --stdin) || exit 1
tree=$( (git ls-tree "$tip"; printf '100644 blob %s\tracer.txt\n' "$blob") | git mktree) || exit 1
commit=$(echo racer | GIT_AUTHOR_NAME=racer GIT_AUTHOR_EMAIL=racer@localhost \
  GIT_COMMITTER_NAME=racer GIT_COMMITTER_EMAIL=racer@localhost \
  git commit-tree "$tree" -p "$tip") || exit 1
git update-ref refs/heads/main "$commit" "$tip" || exit 1
exit 0
"#;

    #[test]
    fn init_with_remote_pushes_main_and_sets_upstream() {
        let up = upstream();
        assert_eq!(up.messages(), ["init"]);
        assert_eq!(up.file("README.md").as_deref(), Some("registry\n"));
        assert!(up.registry.has_remote());
        let repo = &up.registry.repo;
        let branch = repo.find_branch("main", git2::BranchType::Local).unwrap();
        let upstream = branch.upstream().unwrap();
        assert_eq!(upstream.name().unwrap(), Some("origin/main"));
        assert_eq!(
            up.registry.workdir().canonicalize().unwrap(),
            up.root.path().join("registry").canonicalize().unwrap()
        );
    }

    #[test]
    fn init_with_remote_refuses_an_existing_repository() {
        let up = upstream();
        let other = up.root.path().join("other.git");
        let err = GitRepo::init_with_remote(up.registry.workdir(), &other, "init").unwrap_err();
        assert!(matches!(err, GitError::AlreadyARepository { .. }), "{err}");
        assert!(
            err.to_string()
                .ends_with("is already a git repository: expected a directory without one")
        );
    }

    #[test]
    fn open_names_the_directory_that_is_not_a_working_copy() {
        let dir = TempDir::new().unwrap();
        let err = GitRepo::open(dir.path()).unwrap_err();
        let message = err.to_string();
        assert!(
            message.starts_with(&format!(
                "`{}` is not a git working copy: ",
                dir.path().display()
            )),
            "{message}"
        );
    }

    #[test]
    fn commit_change_commits_and_pushes_then_skips_identical_content() {
        let up = upstream();
        let outcome = up
            .registry
            .commit_change("add a", 3, write("metadata/a.json", "{}\n"))
            .unwrap();
        assert_eq!(committed(&outcome), (true, 1));
        let CommitOutcome::Committed { commit, .. } = &outcome else {
            unreachable!()
        };
        assert_eq!(up.registry.head().unwrap().as_ref(), Some(commit));
        assert_eq!(up.messages(), ["add a", "init"]);
        assert_eq!(up.file("metadata/a.json").as_deref(), Some("{}\n"));

        let again = up
            .registry
            .commit_change("add a", 3, write("metadata/a.json", "{}\n"))
            .unwrap();
        assert_eq!(again, CommitOutcome::Unchanged);
        assert_eq!(up.messages(), ["add a", "init"]);
        assert_eq!(up.registry.head().unwrap().as_ref(), Some(commit));
    }

    #[test]
    fn commit_change_stages_deletions_of_files_and_directories() {
        let up = upstream();
        let mut add = |dir: &Path| -> Result<Vec<PathBuf>, GitError> {
            fs::create_dir_all(dir.join("index/ab")).unwrap();
            fs::write(dir.join("index/ab/abc"), "1\n").unwrap();
            fs::write(dir.join("index/ab/abd"), "2\n").unwrap();
            fs::write(dir.join("top.txt"), "top\n").unwrap();
            Ok(vec![PathBuf::from("index"), dir.join("top.txt")])
        };
        up.registry.commit_change("add", 1, &mut add).unwrap();
        assert_eq!(up.file("index/ab/abd").as_deref(), Some("2\n"));
        // A directory named with a file below it: the directory as it is on disk.
        let mut both = |dir: &Path| -> Result<Vec<PathBuf>, GitError> {
            fs::write(dir.join("index/ab/abe"), "3\n").unwrap();
            fs::remove_file(dir.join("index/ab/abc")).unwrap();
            Ok(vec![PathBuf::from("index"), PathBuf::from("index/ab/abe")])
        };
        up.registry.commit_change("both", 1, &mut both).unwrap();
        assert_eq!(up.file("index/ab/abe").as_deref(), Some("3\n"));
        assert_eq!(up.file("index/ab/abc"), None);
        assert_eq!(up.file("index/ab/abd").as_deref(), Some("2\n"));
        assert_eq!(up.file("top.txt").as_deref(), Some("top\n"));

        let remove = |dir: &Path| -> Result<Vec<PathBuf>, GitError> {
            fs::remove_dir_all(dir.join("index")).unwrap();
            fs::remove_file(dir.join("top.txt")).unwrap();
            Ok(vec![PathBuf::from("index"), PathBuf::from("./top.txt")])
        };
        let outcome = up.registry.commit_change("remove", 1, remove).unwrap();
        assert_eq!(committed(&outcome), (true, 1));
        assert_eq!(up.file("index/ab/abc"), None);
        assert_eq!(up.file("top.txt"), None);
        assert_eq!(up.file("README.md").as_deref(), Some("registry\n"));
        assert_eq!(up.messages(), ["remove", "both", "add", "init"]);
    }

    #[test]
    fn commit_change_stages_only_the_named_paths() {
        let up = upstream();
        let workdir = up.registry.workdir();
        fs::write(workdir.join("stray.txt"), "stray\n").unwrap();
        fs::write(workdir.join("staged.txt"), "staged\n").unwrap();
        let mut index = up.registry.repo.index().unwrap();
        index.add_path(Path::new("staged.txt")).unwrap();
        index.write().unwrap();
        up.registry
            .commit_change("add a", 1, write("a.txt", "a\n"))
            .unwrap();
        assert_eq!(up.file("a.txt").as_deref(), Some("a\n"));
        assert_eq!(up.file("stray.txt"), None);
        assert_eq!(up.file("staged.txt"), None);
        assert_eq!(up.file("README.md").as_deref(), Some("registry\n"));
    }

    #[test]
    fn commit_change_rejects_paths_outside_the_work_tree() {
        let up = upstream();
        for bad in ["../escape.txt", "/etc/passwd", ".git/config", ""] {
            let change =
                |_: &Path| -> Result<Vec<PathBuf>, GitError> { Ok(vec![PathBuf::from(bad)]) };
            let err = up.registry.commit_change("bad", 1, change).unwrap_err();
            assert!(matches!(err, GitError::InvalidPath { .. }), "{bad}: {err}");
        }
        assert_eq!(up.messages(), ["init"]);
    }

    #[test]
    fn commit_change_uses_the_configured_author() {
        let up = upstream();
        let mut config = up.registry.repo.config().unwrap();
        config.set_str("user.name", "Ada").unwrap();
        config.set_str("user.email", "ada@example.org").unwrap();
        up.registry
            .commit_change("add a", 1, write("a.txt", "a\n"))
            .unwrap();
        let head = up.registry.head_commit().unwrap().unwrap();
        assert_eq!(head.author().name().unwrap(), "Ada");
        assert_eq!(head.committer().email().unwrap(), "ada@example.org");
    }

    #[test]
    fn commit_change_without_a_remote_commits_locally() {
        let dir = TempDir::new().unwrap();
        init_repository(dir.path(), false).unwrap();
        let repo = GitRepo::open(dir.path()).unwrap();
        assert!(!repo.has_remote());
        repo.sync().unwrap();
        assert_eq!(repo.head().unwrap(), None);
        let outcome = repo
            .commit_change("first", 3, write("a.txt", "a\n"))
            .unwrap();
        assert_eq!(committed(&outcome), (false, 1));
        assert!(repo.head().unwrap().is_some());
        let empty = |_: &Path| -> Result<Vec<PathBuf>, GitError> { Ok(vec![]) };
        assert_eq!(
            repo.commit_change("nothing", 3, empty).unwrap(),
            CommitOutcome::Unchanged
        );
    }

    #[test]
    fn commit_change_returns_the_change_error() {
        #[derive(Debug)]
        enum OpError {
            Git,
            Change,
        }
        impl From<GitError> for OpError {
            fn from(_: GitError) -> Self {
                OpError::Git
            }
        }
        let up = upstream();
        let change = |_: &Path| -> Result<Vec<PathBuf>, OpError> { Err(OpError::Change) };
        let err = up.registry.commit_change("x", 3, change).unwrap_err();
        assert!(matches!(err, OpError::Change));
        let bad = |_: &Path| -> Result<Vec<PathBuf>, OpError> { Ok(vec![PathBuf::from("../x")]) };
        assert!(matches!(
            up.registry.commit_change("x", 3, bad).unwrap_err(),
            OpError::Git
        ));
    }

    #[test]
    fn a_stale_clone_syncs_and_reapplies_after_a_rejected_push() {
        let up = upstream();
        let a = up.clone_as("a");
        let b = up.clone_as("b");
        let first = a.commit_change("add a", 3, write("a.txt", "a\n")).unwrap();
        assert_eq!(committed(&first), (true, 1));

        let mut calls = 0;
        let mut change = write("b.txt", "b\n");
        let outcome = b
            .commit_change("add b", 3, |dir: &Path| {
                calls += 1;
                change(dir)
            })
            .unwrap();
        assert_eq!(committed(&outcome), (true, 2));
        assert_eq!(calls, 2);
        assert_eq!(up.messages(), ["add b", "add a", "init"]);
        assert_eq!(up.file("a.txt").as_deref(), Some("a\n"));
        assert_eq!(up.file("b.txt").as_deref(), Some("b\n"));
        assert_eq!(
            fs::read_to_string(b.workdir().join("a.txt")).unwrap(),
            "a\n"
        );
    }

    #[test]
    fn a_race_whose_result_is_already_on_the_remote_is_unchanged() {
        let up = upstream();
        let a = up.clone_as("a");
        let b = up.clone_as("b");
        a.commit_change("add x (a)", 3, write("x.txt", "x\n"))
            .unwrap();
        let outcome = b
            .commit_change("add x (b)", 3, write("x.txt", "x\n"))
            .unwrap();
        assert_eq!(outcome, CommitOutcome::Unchanged);
        assert_eq!(up.messages(), ["add x (a)", "init"]);
        assert_eq!(b.head().unwrap(), a.head().unwrap());
    }

    #[test]
    fn commit_change_gives_up_after_max_attempts() {
        let up = upstream();
        let a = up.clone_as("a");
        let b = up.clone_as("b");
        let mut round = 0;
        let mut change = write("b.txt", "b\n");
        let err = b
            .commit_change("add b", 2, |dir: &Path| {
                round += 1;
                a.sync()?;
                a.commit_change("racer", 1, write(&format!("racer{round}.txt"), "r\n"))?;
                change(dir)
            })
            .unwrap_err();
        assert_eq!(round, 2);
        assert!(
            matches!(err, GitError::RetriesExhausted { attempts: 2, .. }),
            "{err}"
        );
        let message = err.to_string();
        assert!(
            message.starts_with("gave up after 2 attempts to push `main` to `"),
            "{message}"
        );
        let message = message.replace(&up.root.path().display().to_string(), "<tmp>");
        let (head, rest) = message.split_once(" in ").unwrap();
        let (_, tail) = rest.split_once(" s: ").unwrap();
        insta::assert_snapshot!(format!("{head} in <n> s: {tail}"), @"gave up after 2 attempts to push `main` to `file://<tmp>/remote.git` in <n> s: the remote branch moved every time, expected it to stay still long enough for a fast-forward push");
        assert_eq!(up.messages(), ["racer", "racer", "init"]);
        assert_eq!(up.file("b.txt"), None);
    }

    /// What `edit_tree` must write, built with git's tree builder (which parses and sorts
    /// every entry): the reference the one-pass version is checked against.
    fn edit_tree_with_builder(
        repo: &Repository,
        base: Option<Tree<'_>>,
        edits: &[(&[OsString], Edit)],
    ) -> Option<Oid> {
        let mut builder = repo.treebuilder(base.as_ref()).unwrap();
        let mut rest = edits;
        while let Some(((parts, edit), _)) = rest.split_first() {
            let name = &parts[0];
            let below = rest
                .iter()
                .take_while(|(p, _)| p.len() > 1 && p[0] == *name)
                .count();
            let (put, used) = if parts.len() == 1 {
                let put = match *edit {
                    Edit::Put(id, mode) => Some((id, mode)),
                    Edit::Remove => None,
                };
                (put, 1)
            } else {
                let subtree = builder
                    .get(name)
                    .unwrap()
                    .filter(|e| e.kind() == Some(ObjectType::Tree))
                    .map(|e| repo.find_tree(e.id()).unwrap());
                let inner: Vec<(&[OsString], Edit)> =
                    rest[..below].iter().map(|(p, e)| (&p[1..], *e)).collect();
                let put =
                    edit_tree_with_builder(repo, subtree, &inner).map(|id| (id, FileMode::Tree));
                (put, below)
            };
            match put {
                Some((id, mode)) => {
                    builder.insert(name, id, mode.into()).unwrap();
                }
                None => {
                    if builder.get(name).unwrap().is_some() {
                        builder.remove(name).unwrap();
                    }
                }
            }
            rest = &rest[used..];
        }
        (!builder.is_empty()).then(|| builder.write().unwrap())
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]
        /// Names chosen so that git's order (a tree sorts as its name with a `/`) differs
        /// from plain byte order, and a name can turn from a file into a directory.
        #[test]
        fn edit_tree_writes_what_the_tree_builder_writes(
            files in proptest::collection::vec((path_strategy(), 0u8..3), 0..12),
            edits in proptest::collection::vec((path_strategy(), 0u8..4), 1..6),
        ) {
            // As on disk: a path that names a file (or nothing) has nothing below it.
            let nested = |list: &[(Vec<String>, u8)]| list.iter().any(|(a, _)| {
                list.iter().any(|(b, _)| b.len() > a.len() && b.starts_with(a))
            });
            proptest::prop_assume!(!nested(&files) && !nested(&edits));
            let dir = TempDir::new().unwrap();
            let repo = Repository::init_bare(dir.path()).unwrap();
            let blob = |n: u8| repo.blob(&[b'x', n]).unwrap();
            let to_edit = |n: u8| match n {
                0 => Edit::Put(blob(0), FileMode::Blob),
                1 => Edit::Put(blob(1), FileMode::BlobExecutable),
                2 => Edit::Put(blob(2), FileMode::Link),
                _ => Edit::Remove,
            };
            let sorted = |list: &[(Vec<String>, u8)]| -> BTreeMap<Vec<OsString>, Edit> {
                list.iter()
                    .map(|(p, n)| (p.iter().map(OsString::from).collect(), to_edit(*n)))
                    .collect()
            };
            let start = sorted(&files);
            let start: Vec<(&[OsString], Edit)> = start.iter().map(|(p, e)| (&p[..], *e)).collect();
            let base = edit_tree_with_builder(&repo, None, &start);
            let changes = sorted(&edits);
            let changes: Vec<(&[OsString], Edit)> = changes.iter().map(|(p, e)| (&p[..], *e)).collect();
            let expected = edit_tree_with_builder(&repo, base.map(|id| repo.find_tree(id).unwrap()), &changes);
            proptest::prop_assert_eq!(edit_tree(&repo, base, &changes).unwrap(), expected);
        }
    }

    fn path_strategy() -> impl proptest::strategy::Strategy<Value = Vec<String>> {
        let name = proptest::sample::select(vec!["a", "a-b", "a.b", "a0", "ab", "b"]);
        proptest::collection::vec(
            proptest::strategy::Strategy::prop_map(name, str::to_owned),
            1..4,
        )
    }

    #[test]
    fn sync_discards_unpushed_commits_and_what_a_stopped_change_wrote() {
        let up = upstream();
        let a = up.clone_as("a");
        a.commit_paths(
            "local only",
            &[write("local.txt", "l\n")(a.workdir()).unwrap()[0].clone()],
        )
        .unwrap()
        .unwrap();
        // A change that stops half way (as a killed run would) leaves its files behind.
        let stopped = a.commit_change(
            "stopped",
            1,
            |dir: &Path| -> Result<Vec<PathBuf>, GitError> {
                fs::write(dir.join("README.md"), "dirty\n").unwrap();
                fs::create_dir_all(dir.join("metadata")).unwrap();
                fs::write(dir.join("metadata/stray.json"), "{}").unwrap();
                Err(GitError::DetachedHead {
                    path: dir.to_path_buf(),
                })
            },
        );
        assert!(stopped.is_err());
        assert!(a.is_unsettled());
        up.registry
            .commit_change("remote", 1, write("remote.txt", "r\n"))
            .unwrap();

        a.sync().unwrap();
        assert!(!a.is_unsettled());
        assert!(
            !a.workdir().join("metadata/stray.json").exists(),
            "untracked files a stopped run left are removed"
        );
        assert_eq!(a.head().unwrap(), up.registry.head().unwrap());
        assert!(!a.workdir().join("local.txt").exists());
        assert_eq!(
            fs::read_to_string(a.workdir().join("README.md")).unwrap(),
            "registry\n"
        );
        assert_eq!(
            fs::read_to_string(a.workdir().join("remote.txt")).unwrap(),
            "r\n"
        );
        let statuses = a.repo.statuses(None).unwrap();
        assert!(statuses.is_empty());
    }

    /// A settled work tree is moved by the paths that differ between the two commits: every
    /// kind of change lands, and a file no commit touched is not written again.
    #[test]
    fn sync_writes_only_the_paths_that_changed() {
        use std::os::unix::fs::PermissionsExt;
        let up = upstream();
        let mut setup = |dir: &Path| -> Result<Vec<PathBuf>, GitError> {
            fs::create_dir_all(dir.join("index/ab")).unwrap();
            fs::write(dir.join("index/ab/abc"), "1\n").unwrap();
            fs::write(dir.join("index/ab/abd"), "2\n").unwrap();
            fs::write(dir.join("becomes-dir"), "file\n").unwrap();
            fs::write(dir.join("run.sh"), "#!/bin/sh\n").unwrap();
            Ok(vec!["index".into(), "becomes-dir".into(), "run.sh".into()])
        };
        up.registry.commit_change("setup", 1, &mut setup).unwrap();
        let a = up.clone_as("a");
        let untouched = a.workdir().join("README.md");
        let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        fs::File::options()
            .write(true)
            .open(&untouched)
            .unwrap()
            .set_modified(old)
            .unwrap();

        let mut change = |dir: &Path| -> Result<Vec<PathBuf>, GitError> {
            fs::remove_dir_all(dir.join("index")).unwrap();
            fs::remove_file(dir.join("becomes-dir")).unwrap();
            fs::create_dir(dir.join("becomes-dir")).unwrap();
            fs::write(dir.join("becomes-dir/inner"), "inner\n").unwrap();
            let script = dir.join("run.sh");
            let mut mode = fs::metadata(&script).unwrap().permissions();
            mode.set_mode(0o755);
            fs::set_permissions(&script, mode).unwrap();
            std::os::unix::fs::symlink("run.sh", dir.join("link")).unwrap();
            Ok(vec![
                "index".into(),
                "becomes-dir".into(),
                "run.sh".into(),
                "link".into(),
            ])
        };
        up.registry.commit_change("change", 1, &mut change).unwrap();

        a.sync().unwrap();
        let dir = a.workdir();
        assert_eq!(a.head().unwrap(), up.registry.head().unwrap());
        assert!(!dir.join("index").exists(), "an emptied directory goes");
        assert_eq!(
            fs::read_to_string(dir.join("becomes-dir/inner")).unwrap(),
            "inner\n"
        );
        let mode = fs::metadata(dir.join("run.sh"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o111, 0o111, "the executable bit lands");
        assert_eq!(
            fs::read_link(dir.join("link")).unwrap(),
            Path::new("run.sh")
        );
        assert_eq!(
            fs::metadata(&untouched).unwrap().modified().unwrap(),
            old,
            "a file no commit changed is left as it was"
        );
        // The commit a's work tree now holds is the one `up` made: same tree.
        let tree = |repo: &GitRepo| repo.head_commit().unwrap().unwrap().tree_id();
        assert_eq!(tree(&a), tree(&up.registry));
    }

    /// A sync stopped after it wrote files but before it moved the branch leaves the work
    /// tree unsettled: the next sync resets it whole, so a file the stopped sync wrote and
    /// the next target does not change back by diff is still put right.
    #[test]
    fn a_sync_stopped_half_way_is_finished_by_a_full_reset() {
        let up = upstream();
        let a = up.clone_as("a");
        up.registry
            .commit_change("one", 1, write("x.txt", "one\n"))
            .unwrap();
        a.fetch().unwrap();
        let tip = a.remote_tip("main").unwrap().unwrap();
        let (from, to) = (
            a.head_commit().unwrap().unwrap().tree().unwrap(),
            a.repo.find_commit(tip).unwrap().tree().unwrap(),
        );
        // What `move_to` does before the branch moves.
        a.unsettle().unwrap();
        a.checkout_changes(&from, &to).unwrap();
        // The remote then takes x.txt away again.
        up.registry
            .commit_change("two", 1, |dir: &Path| -> Result<Vec<PathBuf>, GitError> {
                fs::remove_file(dir.join("x.txt")).unwrap();
                Ok(vec!["x.txt".into()])
            })
            .unwrap();
        a.sync().unwrap();
        assert!(!a.workdir().join("x.txt").exists());
        assert!(!a.is_unsettled());
        assert_eq!(a.head().unwrap(), up.registry.head().unwrap());
    }

    #[test]
    fn a_clone_of_an_empty_remote_syncs_and_pushes_the_first_commit() {
        let root = TempDir::new().unwrap();
        let bare = root.path().join("empty.git");
        init_repository(&bare, true).unwrap();
        let url = bare.to_str().unwrap();
        let a = GitRepo::clone(url, &root.path().join("a")).unwrap();
        assert_eq!(a.head().unwrap(), None);
        a.sync().unwrap();
        let outcome = a.commit_change("first", 3, write("a.txt", "a\n")).unwrap();
        assert_eq!(committed(&outcome), (true, 1));
        let branch = a.branch().unwrap();
        let remote = Repository::open_bare(&bare).unwrap();
        let tip = remote
            .refname_to_id(&format!("refs/heads/{branch}"))
            .unwrap();
        assert_eq!(Some(tip.to_string()), a.head().unwrap());

        let b = GitRepo::clone(url, &root.path().join("b")).unwrap();
        b.sync().unwrap();
        assert_eq!(b.head().unwrap(), a.head().unwrap());
    }

    /// The refusals a user meets (a directory that is not a checkout, or already one, a
    /// remote path holding something else, a clone of nothing, a detached HEAD, a path
    /// outside the work tree), each in full, the tempdir written `<tmp>`.
    #[test]
    fn refusals_read_in_full() {
        let up = upstream();
        let tmp = up.root.path().display().to_string();
        let text = |e: GitError| crate::error_chain(&e).replace(&tmp, "<tmp>");
        let plain = up.root.path().join("plain");
        fs::create_dir(&plain).unwrap();
        insta::assert_snapshot!(text(GitRepo::open(&plain).unwrap_err()), @"`<tmp>/plain` is not a git working copy: could not find repository at '<tmp>/plain'");
        let other = up.root.path().join("other.git");
        insta::assert_snapshot!(
            text(GitRepo::init_with_remote(up.registry.workdir(), &other, "init").unwrap_err()),
            @"`<tmp>/registry` is already a git repository: expected a directory without one"
        );
        let fresh = up.root.path().join("fresh");
        fs::create_dir(&fresh).unwrap();
        insta::assert_snapshot!(
            text(GitRepo::init_with_remote(&fresh, up.registry.workdir(), "init").unwrap_err()),
            @"`<tmp>/registry` exists and is not a bare git repository: expected a new or empty directory for the remote"
        );
        let missing = up.root.path().join("missing.git");
        insta::assert_snapshot!(
            text(GitRepo::clone(missing.to_str().unwrap(), &up.root.path().join("c")).unwrap_err()),
            @"could not clone `<tmp>/missing.git` into `<tmp>/c`: unsupported URL protocol"
        );
        let change = |_: &Path| -> Result<Vec<PathBuf>, GitError> { Ok(vec!["../x".into()]) };
        insta::assert_snapshot!(text(up.registry.commit_change("bad", 1, change).unwrap_err()), @"path `../x` is not inside the work tree `<tmp>/registry`: expected a relative path without `..` or `.git`");
        let a = up.clone_as("a");
        let head = a.repo.head().unwrap().peel_to_commit().unwrap().id();
        a.repo.set_head_detached(head).unwrap();
        insta::assert_snapshot!(text(a.sync().unwrap_err()), @"HEAD of `<tmp>/a` is detached: expected a checked-out branch");
    }

    #[test]
    fn clone_of_a_missing_path_names_it() {
        let root = TempDir::new().unwrap();
        let missing = root.path().join("missing.git");
        let url = missing.to_str().unwrap();
        let err = GitRepo::clone(url, &root.path().join("a")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with(&format!("could not clone `{url}` into `")),
            "{err}"
        );
    }

    #[test]
    fn races_over_git_daemon_are_retried() {
        let up = upstream();
        let Some(daemon) = Daemon::start(up.root.path()) else {
            return;
        };
        let url = daemon.url("remote.git");
        let a = up.clone_from(&url, "a");
        let b = up.clone_from(&url, "b");

        // Plain race: libgit2 sees the stale remote ref and refuses before sending.
        a.commit_change("add a", 3, write("a.txt", "a\n")).unwrap();
        let outcome = b.commit_change("add b", 3, write("b.txt", "b\n")).unwrap();
        assert_eq!(committed(&outcome), (true, 2));
        assert_eq!(up.messages(), ["add b", "add a", "init"]);

        // In-flight race: the remote moves during the push and rejects the ref itself.
        install_hook(&up.bare, "pre-receive", RACING_HOOK);
        fs::write(up.bare.join("race-once"), "").unwrap();
        let mut calls = 0;
        let mut change = write("c.txt", "c\n");
        let outcome = b
            .commit_change("add c", 3, |dir: &Path| {
                calls += 1;
                change(dir)
            })
            .unwrap();
        assert_eq!(committed(&outcome), (true, 2));
        assert_eq!(calls, 2);
        assert_eq!(
            up.messages(),
            ["add c", "racer\n", "add b", "add a", "init"]
        );
        assert_eq!(up.file("racer.txt").as_deref(), Some("racer\n"));
        assert_eq!(up.file("c.txt").as_deref(), Some("c\n"));
    }

    #[test]
    fn a_local_remote_runs_its_hooks_and_keeps_a_ref_it_did_not_read() {
        let up = upstream();
        let a = up.clone_as("a");
        let b = up.clone_as("b");
        // b's remote-tracking ref is stale once a has pushed: a push that does not check
        // the remote's current value (libgit2's local transport) would overwrite a's commit
        a.commit_change("from a", 1, write("a.txt", "a\n")).unwrap();
        let c = b.commit_paths("from b", &[]).unwrap();
        assert!(c.is_none(), "nothing staged, no commit");
        fs::write(b.workdir().join("b.txt"), "b\n").unwrap();
        let commit = b
            .commit_paths("from b", &[PathBuf::from("b.txt")])
            .unwrap()
            .unwrap();
        assert!(matches!(
            b.push_head(commit).unwrap(),
            PushStatus::RemoteMoved
        ));
        assert_eq!(up.messages(), ["from a", "init"]);
        // and the remote's hooks run, as for any other transport
        install_hook(
            &up.bare,
            "pre-receive",
            "#!/bin/sh\necho no pushes today >&2\nexit 1\n",
        );
        let err = a
            .commit_change("again", 3, write("a.txt", "again\n"))
            .unwrap_err();
        let message = err.to_string();
        assert!(message.contains("pre-receive hook declined"), "{message}");
        assert_eq!(up.messages(), ["from a", "init"]);
    }

    #[test]
    fn an_identical_commit_already_on_the_remote_is_pushed() {
        let up = upstream();
        let Some(daemon) = Daemon::start(up.root.path()) else {
            return;
        };
        for url in [
            format!("file://{}", up.bare.display()),
            daemon.url("remote.git"),
        ] {
            let a = up.clone_from(&url, &format!("a-{}", url.len()));
            fs::write(a.workdir().join("same.txt"), format!("{url}\n")).unwrap();
            let commit = a
                .commit_paths("same change", &[PathBuf::from("same.txt")])
                .unwrap()
                .unwrap();
            // b holds exactly a's commit, as a job making the same change in the same
            // second would
            let b_dir = up.root.path().join(format!("b-{}", url.len()));
            crate::testing::copy_dir(a.workdir(), &b_dir);
            let b = GitRepo::open(&b_dir).unwrap();
            assert!(matches!(a.push_head(commit).unwrap(), PushStatus::Pushed));
            assert!(
                matches!(b.push_head(commit).unwrap(), PushStatus::Pushed),
                "{url}"
            );
            assert_eq!(up.messages()[0], "same change");
        }
    }

    #[test]
    fn locks_a_killed_run_left_are_recovered() {
        let up = upstream();
        let a = up.clone_as("a");
        // what a `kill -9` during a fetch and during staging leaves behind
        let git_dir = a.workdir().join(".git");
        let stale = [
            git_dir.join("refs/remotes/origin/main.lock"),
            git_dir.join("index.lock"),
        ];
        for lock in &stale {
            fs::write(lock, "").unwrap();
            let file = fs::File::options().append(true).open(lock).unwrap();
            file.set_modified(SystemTime::now() - Duration::from_secs(5))
                .unwrap();
        }
        a.sync().unwrap();
        let outcome = a
            .commit_change("after the crash", 1, write("a.txt", "a\n"))
            .unwrap();
        assert!(matches!(
            outcome,
            CommitOutcome::Committed { pushed: true, .. }
        ));
        assert!(stale.iter().all(|l| !l.exists()));
        assert_eq!(up.messages(), ["after the crash", "init"]);
    }

    #[test]
    fn a_second_process_in_the_same_checkout_waits_for_the_first() {
        let up = upstream();
        let a = up.clone_as("a");
        let b = GitRepo::open(a.workdir()).unwrap();
        let held = a.lock().unwrap();
        let nested = a.lock().unwrap();
        drop(nested);
        // b is another open of the same checkout (as another process would be): it waits
        let started = Instant::now();
        let waited = std::thread::spawn(move || {
            b.sync().unwrap();
            started.elapsed()
        });
        std::thread::sleep(Duration::from_millis(300));
        drop(held);
        let waited = waited.join().unwrap();
        assert!(waited >= Duration::from_millis(250), "{waited:?}");
    }

    #[test]
    fn push_replies_and_local_urls_are_read() {
        let spec = "refs/heads/main:refs/heads/main";
        let reply = |out: &str| porcelain_status(out, spec);
        assert!(matches!(
            reply("To /r.git\n=\trefs/heads/main:refs/heads/main\t[up to date]\nDone\n"),
            Some(PushReply::Accepted)
        ));
        assert!(matches!(
            reply(" \trefs/heads/main:refs/heads/main\t1a..2b\n"),
            Some(PushReply::Accepted)
        ));
        assert!(matches!(
            reply("!\trefs/heads/main:refs/heads/main\t[rejected] (fetch first)\n"),
            Some(PushReply::NonFastForward)
        ));
        assert!(matches!(
            reply("!\trefs/heads/main:refs/heads/main\t[remote rejected] (pre-receive hook declined)\n"),
            Some(PushReply::Rejected(r)) if r == "[remote rejected] (pre-receive hook declined)"
        ));
        assert!(reply("fatal: not a git repository\n").is_none());
        assert!(lost_a_lock("[remote rejected] (failed to update ref)"));
        assert!(lost_a_lock(
            "[remote rejected] (cannot lock ref 'refs/heads/main')"
        ));
        assert!(!lost_a_lock(
            "[remote rejected] (pre-receive hook declined)"
        ));
        for local in ["file:///srv/r.git", "/srv/r.git", "../r.git", "r.git"] {
            assert!(is_local_url(local), "{local}");
        }
        for remote in [
            "https://github.com/a/b.git",
            "git://127.0.0.1:9/r.git",
            "git@github.com:a/b.git",
            "ssh://h/r",
        ] {
            assert!(!is_local_url(remote), "{remote}");
        }
    }

    #[test]
    fn retries_pause_at_random_below_a_doubling_cap() {
        let retry = Retry::new(5, Duration::from_secs(60));
        for attempt in 1..40 {
            let cap = retry
                .first_pause
                .saturating_mul(1 << (attempt - 1).min(16))
                .min(retry.max_pause);
            assert!(retry.pause(attempt) <= cap, "{attempt}");
        }
        let pauses: std::collections::BTreeSet<Duration> =
            (0..20).map(|_| retry.pause(8)).collect();
        assert!(pauses.len() > 10, "jitter spreads the pauses: {pauses:?}");
        let landing = retry.landing();
        assert_eq!(
            (landing.max_attempts, landing.budget),
            (usize::MAX, Duration::from_secs(600))
        );
        assert_eq!(Retry::from(0).max_attempts, 1);
    }

    #[test]
    fn a_rejection_without_a_race_is_returned_at_once() {
        let up = upstream();
        let Some(daemon) = Daemon::start(up.root.path()) else {
            return;
        };
        let b = up.clone_from(&daemon.url("remote.git"), "b");
        install_hook(&up.bare, "pre-receive", "#!/bin/sh\nexit 1\n");
        let mut calls = 0;
        let mut change = write("b.txt", "b\n");
        let err = b
            .commit_change("add b", 3, |dir: &Path| {
                calls += 1;
                change(dir)
            })
            .unwrap_err();
        assert_eq!(calls, 1);
        assert!(matches!(err, GitError::PushRejected { .. }), "{err}");
        let message = err.to_string();
        assert!(
            message.starts_with("push of `main` to `git://127.0.0.1:"),
            "{message}"
        );
        assert!(message.contains("pre-receive hook declined"), "{message}");
        assert_eq!(up.messages(), ["init"]);
    }
}
