//! A fresh registry in a tempdir, as `regis init` lays it down.

use std::path::PathBuf;

use crate::config::Config;
use crate::git::GitRepo;
use crate::init::{self, Layout};
use crate::operation::Context;
use crate::operation::publish::{self, PublishError, PublishReport};
use crate::payload::Publish;
use crate::sample::SamplePackage;
use crate::schema::{Location, Timestamp};
use crate::source::GitSource;
use crate::storage::FsStorage;

use super::{MockGitHub, files_below, remote_head};

/// The time every `TestRegistry` operation runs at.
pub const NOW: &str = "2026-11-22T10:00:00.000Z";

/// A fresh registry in a tempdir (real git repos with bare remotes), with GitHub locations
/// served from `<tmp>/github/<owner>/<repo>.git`.
pub struct TestRegistry {
    pub layout: Layout,
    pub config: Config,
    pub registry: GitRepo,
    pub index: GitRepo,
    pub storage: FsStorage,
    pub source: GitSource,
    // Last: removed after the repositories are closed.
    pub tmp: tempfile::TempDir,
}

impl TestRegistry {
    #[expect(
        clippy::new_without_default,
        reason = "each call lays down a registry in a new tempdir"
    )]
    pub fn new() -> Self {
        Self::with_config(|_| {})
    }

    /// `edit` changes the test config (name `test`, GitHub under the tempdir) before
    /// `regis init` writes it.
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
        let install = init::RegisInstall::this_build(None).unwrap();
        let (layout, config) = init::init(&tmp.path().join("reg"), &config, &install).unwrap();
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

    /// A registry whose GitHub API is the mock `github`, then as `edit` says.
    pub fn with_github(github: &MockGitHub, edit: impl FnOnce(&mut Config)) -> Self {
        let api = github.uri();
        Self::with_config(|c| {
            c.github_api_url = crate::config::BaseUrl::api(&api).expect("the mock's URL");
            edit(c);
        })
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
            mirrors: &[],
            source: &self.source,
            now: NOW.parse::<Timestamp>().unwrap(),
        }
    }

    /// Publish `request`; after a publish that succeeds, both work trees must hold exactly
    /// their HEAD's files.
    pub fn publish(&self, request: &Publish) -> Result<PublishReport, PublishError> {
        let report = publish::publish(&self.ctx(), request)?;
        for repo in [&self.registry, &self.index] {
            let stray = repo.differences_from_head();
            assert!(stray.is_empty(), "{}: {stray:?}", repo.workdir().display());
        }
        Ok(report)
    }

    /// Runs a publish that must fail, asserts that nothing was stored or pushed, and returns
    /// the error's text.
    pub fn refused(&self, request: &Publish) -> String {
        let heads = self.remote_heads();
        let stored = self.stored();
        let e = self
            .publish(request)
            .expect_err("the publish should be refused");
        assert_eq!(self.remote_heads(), heads, "nothing is pushed on failure");
        assert_eq!(self.stored(), stored, "nothing is stored on failure");
        e.to_string()
    }

    /// Commit `p` to its repo and publish it (with its location).
    pub fn release(&self, p: &SamplePackage) -> PublishReport {
        self.push_source(p);
        self.publish(&p.payload(true))
            .unwrap_or_else(|e| panic!("publishing {}: {e}", p.manifest.name))
    }

    /// The heads of the registry's and the index's remotes.
    pub fn remote_heads(&self) -> (String, String) {
        (
            remote_head(&self.layout.registry_remote),
            remote_head(&self.layout.index_remote),
        )
    }

    /// Every file in storage, relative paths.
    pub fn stored(&self) -> Vec<PathBuf> {
        files_below(&self.layout.storage)
    }
}
