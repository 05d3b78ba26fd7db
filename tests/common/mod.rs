//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The real PureScript Registry data in `../shared/fixtures/purescript/`, or `None` (with a
/// note on stderr) when `../shared` is absent, as in a fresh clone elsewhere.
pub fn purescript_fixtures() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/purescript");
    if dir.is_dir() {
        Some(dir)
    } else {
        skip(&format!(
            "{} is absent (this test reads the shared PureScript fixtures)",
            dir.display()
        ));
        None
    }
}

/// Note why a test does not run here; under `.ci/run` (`REGIS_REQUIRE_TEST_TOOLS` set),
/// where everything a test needs is installed, a skip is a failure instead.
pub fn skip(why: &str) {
    assert!(
        std::env::var_os("REGIS_REQUIRE_TEST_TOOLS").is_none(),
        "this test must run under .ci/run: {why}"
    );
    eprintln!("skipping: {why}");
}

/// Every regular file below `dir`, sorted, as paths relative to `dir`.
pub fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.path().strip_prefix(dir).unwrap().to_path_buf())
        .collect();
    out.sort();
    out
}

/// Copy a directory tree (files and directories only).
pub fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Commit messages on a bare remote's `main`, newest first.
pub fn commits_on(remote: &Path) -> Vec<String> {
    let repo = git2::Repository::open_bare(remote).unwrap();
    let mut walk = repo.revwalk().unwrap();
    walk.push_ref("refs/heads/main").unwrap();
    walk.map(|id| {
        repo.find_commit(id.unwrap())
            .unwrap()
            .message()
            .unwrap()
            .to_owned()
    })
    .collect()
}

use regis::config::Config;
use regis::git::GitRepo;
use regis::init::{self, Layout};
use regis::operation::Context;
use regis::operation::publish::{self, PublishError, PublishReport};
use regis::payload::Publish;
use regis::sample::SamplePackage;
use regis::schema::{Location, Timestamp};
use regis::source::GitSource;
use regis::storage::FsStorage;

/// A fresh registry in a tempdir (real git repos with bare remotes), with GitHub locations
/// served from `<tmp>/github/<owner>/<repo>.git`.
pub struct TestRegistry {
    pub tmp: tempfile::TempDir,
    pub layout: Layout,
    pub config: Config,
    pub registry: GitRepo,
    pub index: GitRepo,
    pub storage: FsStorage,
    pub source: GitSource,
}

pub const NOW: &str = "2026-11-22T10:00:00.000Z";

impl TestRegistry {
    pub fn new() -> Self {
        Self::with_config(|_| {})
    }

    pub fn with_config(edit: impl FnOnce(&mut Config)) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let mut config = Config {
            name: "test".into(),
            github_base_url: format!("file://{}", tmp.path().join("github").display())
                .parse()
                .unwrap(),
            ..Config::default()
        };
        edit(&mut config);
        let (layout, config) = init::init(&tmp.path().join("reg"), &config).unwrap();
        TestRegistry {
            registry: GitRepo::open(&layout.registry).unwrap(),
            index: GitRepo::open(&layout.index).unwrap(),
            storage: FsStorage::new(&layout.storage),
            source: GitSource::new(),
            layout,
            config,
            tmp,
        }
    }

    pub fn github(&self, repo: &str) -> Location {
        Location::github("test", repo, None).unwrap()
    }

    /// The directory serving a GitHub location.
    pub fn repo_dir(&self, repo: &str) -> PathBuf {
        self.tmp
            .path()
            .join("github/test")
            .join(format!("{repo}.git"))
    }

    /// A sample package whose source repo is `<name>` under the test GitHub owner.
    pub fn package(&self, name: &str, version: &str, deps: &[(&str, &str)]) -> SamplePackage {
        SamplePackage::new(name, version, self.github(name), deps)
    }

    /// Commit `p` to its source repo and tag it.
    pub fn push_source(&self, p: &SamplePackage) {
        let Location::GitHub { repo, .. } = &p.manifest.location else {
            panic!("github only")
        };
        p.commit_to(&self.repo_dir(repo)).unwrap();
    }

    pub fn ctx(&self) -> Context<'_> {
        Context {
            config: &self.config,
            registry: &self.registry,
            index: &self.index,
            storage: &self.storage,
            source: &self.source,
            now: NOW.parse::<Timestamp>().unwrap(),
        }
    }

    pub fn publish(&self, request: &Publish) -> Result<PublishReport, PublishError> {
        publish::publish(&self.ctx(), request)
    }

    /// Commit `p` to its repo and publish it (with its location).
    pub fn release(&self, p: &SamplePackage) -> PublishReport {
        self.push_source(p);
        self.publish(&p.payload(true))
            .unwrap_or_else(|e| panic!("publishing {}: {e}", p.manifest.name))
    }

    /// The commit at the head of `main` in a bare remote.
    pub fn remote_head(remote: &Path) -> String {
        let repo = git2::Repository::open_bare(remote).unwrap();
        let id = repo.refname_to_id("refs/heads/main").unwrap();
        id.to_string()
    }

    pub fn remote_heads(&self) -> (String, String) {
        (
            Self::remote_head(&self.layout.registry_remote),
            Self::remote_head(&self.layout.index_remote),
        )
    }

    /// A file's contents at the head of a bare remote's `main`.
    pub fn remote_file(remote: &Path, path: &str) -> Option<String> {
        let repo = git2::Repository::open_bare(remote).unwrap();
        let commit = repo
            .find_reference("refs/heads/main")
            .unwrap()
            .peel_to_commit()
            .unwrap();
        let entry = commit.tree().unwrap().get_path(Path::new(path)).ok()?;
        let blob = repo.find_blob(entry.id()).unwrap();
        Some(String::from_utf8(blob.content().to_vec()).unwrap())
    }

    /// Every file in storage, relative paths.
    pub fn stored(&self) -> Vec<PathBuf> {
        files_below(&self.layout.storage)
    }
}

/// A key pair made by `ssh-keygen` in `dir`: the private key file and the public key line.
/// `None` (with a note on stderr) when `ssh-keygen` is not installed.
pub fn ssh_keygen(
    dir: &Path,
    file: &str,
    kind: &str,
    passphrase: &str,
) -> Option<(PathBuf, String)> {
    let private = dir.join(file);
    let status = std::process::Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            kind,
            "-N",
            passphrase,
            "-C",
            &format!("{file}@example.com"),
            "-f",
        ])
        .arg(&private)
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => panic!("ssh-keygen -t {kind} failed: {s}"),
        Err(e) => {
            skip(&format!("ssh-keygen cannot run ({e})"));
            return None;
        }
    }
    let public = std::fs::read_to_string(private.with_extension("pub")).unwrap();
    Some((private, public.trim().to_owned()))
}

/// A mock GitHub. The server runs on its own thread; the runtime here only drives its
/// async setup, so the blocking `GitHubApi` is called from the plain test thread.
pub struct MockGitHub {
    // Dropped first: dropping the server checks each mock's `expect`.
    server: wiremock::MockServer,
    runtime: tokio::runtime::Runtime,
}

impl MockGitHub {
    pub fn start() -> MockGitHub {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let server = runtime.block_on(wiremock::MockServer::start());
        MockGitHub { server, runtime }
    }

    pub fn mount(&self, mock: wiremock::Mock) {
        self.runtime.block_on(mock.mount(&self.server));
    }

    pub fn uri(&self) -> String {
        self.server.uri()
    }

    pub fn received(&self) -> Vec<wiremock::Request> {
        self.runtime
            .block_on(self.server.received_requests())
            .unwrap()
    }
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
