//! Publish end to end on real git repos with bare remotes in tempdirs: the output and the
//! side effects, re-runs after a crash at each step, and every refusal changing nothing.

use std::path::{Path, PathBuf};

use regis::git::CommitOutcome;
use regis::operation::publish::PublishError;
use regis::schema::{Location, Sha256};
use regis::storage::{Put, Storage, StorageKey};
use regis::testing::{self, NOW, TestRegistry};

fn unpacked_paths(tarball: &[u8]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let mut paths =
        regis::tarball::unpack(tarball, dir.path(), &regis::tarball::Limits::default()).unwrap();
    paths.sort();
    paths
}

#[test]
fn a_new_package_lands_in_storage_metadata_and_index() {
    let t = TestRegistry::new();
    let before = t.remote_heads();
    let p = t.package("prelude", "1.0.0", &[]);
    let report = t.release(&p);

    // Storage: the tarball whose hash and size are recorded.
    let tarball = std::fs::read(t.layout.storage.join("prelude/1.0.0.tar.gz")).unwrap();
    assert_eq!(Sha256::of(&tarball), report.hash);
    assert_eq!(tarball.len() as u64, report.bytes);
    assert_eq!(report.storage, Put::Stored);
    let paths = unpacked_paths(&tarball);
    for expected in [
        "prelude-1.0.0/LICENSE",
        "prelude-1.0.0/README.md",
        "prelude-1.0.0/purs.json",
        "prelude-1.0.0/src/Prelude.purs",
    ] {
        assert!(
            paths.iter().any(|p| p == expected),
            "{expected} missing from {paths:?}"
        );
    }
    assert!(
        !paths
            .iter()
            .any(|p| p.contains("test/") || p.contains(".gitignore")),
        "{paths:?}"
    );

    // Metadata: exact bytes, committed and pushed.
    let metadata =
        testing::remote_file(&t.layout.registry_remote, "metadata/prelude.json").unwrap();
    assert_eq!(
        metadata,
        format!(
            "{{\n  \"location\": {{\n    \"githubOwner\": \"test\",\n    \"githubRepo\": \"prelude\"\n  }},\n  \"published\": {{\n    \"1.0.0\": {{\n      \"bytes\": {},\n      \"compilers\": [\n        \"0.15.15\"\n      ],\n      \"hash\": \"{}\",\n      \"publishedTime\": \"{NOW}\",\n      \"ref\": \"\"\n    }}\n  }},\n  \"unpublished\": {{}}\n}}\n",
            report.bytes, report.hash
        )
    );
    // Index: the manifest line, committed and pushed.
    let line = testing::remote_file(&t.layout.index_remote, "pr/el/prelude").unwrap();
    assert_eq!(line, format!("{}\n", p.manifest.to_index_line()));
    let after = t.remote_heads();
    assert_ne!(before.0, after.0);
    assert_ne!(before.1, after.1);
    assert!(matches!(
        report.metadata,
        CommitOutcome::Committed { pushed: true, .. }
    ));
    let repo = git2::Repository::open_bare(&t.layout.index_remote).unwrap();
    let head = repo
        .find_reference("refs/heads/main")
        .unwrap()
        .peel_to_commit()
        .unwrap();
    assert_eq!(head.message().unwrap(), "Publish prelude@1.0.0");
    assert_eq!(head.parent_count(), 1, "one commit per operation");
}

#[test]
fn dependencies_updates_and_a_dhall_manifest() {
    let t = TestRegistry::new();
    t.release(&t.package("prelude", "1.0.0", &[]));
    t.release(&t.package("effect", "1.0.0", &[("prelude", ">=1.0.0 <2.0.0")]));
    let mut console = t.package("console", "1.0.0", &[("effect", ">=1.0.0 <2.0.0")]);
    console.manifest_file = regis::manifest::ManifestFile::PursDhall;
    let r = t.release(&console);
    assert_eq!(r.version.to_string(), "1.0.0");
    let tarball = std::fs::read(t.layout.storage.join("console/1.0.0.tar.gz")).unwrap();
    let paths = unpacked_paths(&tarball);
    assert!(
        paths.contains(&"console-1.0.0/purs.json".to_string()),
        "purs.json is always written: {paths:?}"
    );
    assert!(
        paths.contains(&"console-1.0.0/purs.dhall".to_string()),
        "{paths:?}"
    );

    // An update needs no location: the registry knows where the package lives.
    let next = t.package("prelude", "1.1.0", &[]);
    t.push_source(&next);
    t.publish(&next.payload(false)).unwrap();
    let index = std::fs::read_to_string(t.layout.index.join("pr/el/prelude")).unwrap();
    assert_eq!(index.lines().count(), 2);
    assert!(
        index
            .lines()
            .next()
            .unwrap()
            .contains("\"version\":\"1.0.0\""),
        "ascending order"
    );
}

#[test]
fn the_payload_compiler_is_recorded() {
    let t = TestRegistry::new();
    publish_with(
        &t,
        &t.package("prelude", "1.0.0", &[]),
        Some("0.15.4"),
        None,
    )
    .unwrap();
    let m = std::fs::read_to_string(t.layout.registry.join("metadata/prelude.json")).unwrap();
    assert!(
        m.contains("\"compilers\": [\n        \"0.15.4\"\n      ]"),
        "{m}"
    );
}

/// Publish `p` with the given compiler and resolutions.
fn publish_with(
    t: &TestRegistry,
    p: &regis::sample::SamplePackage,
    compiler: Option<&str>,
    resolutions: Option<&[(&str, &str)]>,
) -> Result<regis::operation::publish::PublishReport, String> {
    t.push_source(p);
    let mut payload = p.payload(true);
    payload.compiler = compiler.map(|c| c.parse().unwrap());
    payload.resolutions = resolutions.map(|r| {
        r.iter()
            .map(|(n, v)| (n.parse().unwrap(), v.parse().unwrap()))
            .collect()
    });
    let heads = t.remote_heads();
    let stored = t.stored();
    t.publish(&payload).map_err(|e| {
        assert_eq!(t.remote_heads(), heads, "nothing is pushed on failure");
        assert_eq!(t.stored(), stored, "nothing is stored on failure");
        e.to_string()
    })
}

fn compilers_of(t: &TestRegistry, name: &str, version: &str) -> Vec<String> {
    let text =
        std::fs::read_to_string(t.layout.registry.join(format!("metadata/{name}.json"))).unwrap();
    let m = regis::metadata::Metadata::from_json(name, &text).unwrap();
    m.published[&version.parse().unwrap()]
        .compilers
        .iter()
        .map(|c| c.to_string())
        .collect()
}

#[test]
fn the_newest_compiler_that_solves_is_chosen_and_recorded() {
    let t = TestRegistry::new();
    publish_with(
        &t,
        &t.package("prelude", "1.0.0", &[]),
        Some("0.15.4"),
        None,
    )
    .unwrap();
    let r = t.release(&t.package("effect", "1.0.0", &[("prelude", ">=1.0.0 <2.0.0")]));
    // prelude is known to build only with 0.15.4, so the default 0.15.15 cannot be used.
    assert_eq!(r.build_plan.compiler.to_string(), "0.15.4");
    assert_eq!(
        r.build_plan
            .resolutions
            .iter()
            .map(|(n, v)| format!("{n}@{v}"))
            .collect::<Vec<_>>(),
        ["prelude@1.0.0"]
    );
    assert_eq!(compilers_of(&t, "effect", "1.0.0"), ["0.15.4"]);
    // A package with no dependency gets the newest compiler known: the default.
    let r = t.release(&t.package("tuples", "1.0.0", &[]));
    assert_eq!(r.build_plan.compiler.to_string(), "0.15.15");

    // A compiler no dependency builds with is refused, explained, and changes nothing.
    let e = publish_with(
        &t,
        &t.package("console", "1.0.0", &[("effect", ">=1.0.0 <2.0.0")]),
        Some("0.15.15"),
        None,
    )
    .unwrap_err();
    insta::assert_snapshot!(e, @"
    no build plan for `console@1.0.0`:
    Because `effect@1.0.0` builds only with compiler `0.15.4` and `console@1.0.0` needs `effect >=1.0.0 <2.0.0`, `console@1.0.0` needs compiler `0.15.4`.
    And because compiler `0.15.15` was asked for, there is no build plan for `console@1.0.0`.
    ");
}

#[test]
fn conflicting_dependencies_are_refused_with_an_explanation() {
    let t = TestRegistry::new();
    t.release(&t.package("prelude", "1.0.0", &[]));
    t.release(&t.package("prelude", "2.0.0", &[]));
    t.release(&t.package("effect", "1.0.0", &[("prelude", ">=1.0.0 <2.0.0")]));
    t.release(&t.package("arrays", "1.0.0", &[("prelude", ">=2.0.0 <3.0.0")]));
    let e = publish_with(
        &t,
        &t.package(
            "app",
            "1.0.0",
            &[("effect", ">=1.0.0 <2.0.0"), ("arrays", ">=1.0.0 <2.0.0")],
        ),
        None,
        None,
    )
    .unwrap_err();
    insta::assert_snapshot!(e, @"
    no build plan for `app@1.0.0`:
    Because `arrays@1.0.0` needs `prelude >=2.0.0 <3.0.0` and `effect@1.0.0` needs `prelude >=1.0.0 <2.0.0`, `effect@1.0.0` and `arrays@1.0.0` cannot be used together.
    And because `app@1.0.0` needs `arrays >=1.0.0 <2.0.0` and `app@1.0.0` needs `effect >=1.0.0 <2.0.0`, there is no build plan for `app@1.0.0`.
    ");
}

#[test]
fn payload_resolutions_are_checked_and_used() {
    let t = TestRegistry::new();
    t.release(&t.package("prelude", "1.0.0", &[]));
    t.release(&t.package("prelude", "1.1.0", &[]));
    t.release(&t.package("prelude", "2.0.0", &[]));
    t.release(&t.package("effect", "1.0.0", &[("prelude", ">=1.0.0 <2.0.0")]));
    let app = |v: &str| t.package("app", v, &[("effect", ">=1.0.0 <2.0.0")]);

    // A valid plan that is not the newest one is used as given.
    let r = publish_with(
        &t,
        &app("1.0.0"),
        None,
        Some(&[("effect", "1.0.0"), ("prelude", "1.0.0")]),
    )
    .unwrap();
    assert_eq!(
        r.build_plan
            .resolutions
            .iter()
            .map(|(n, v)| format!("{n}@{v}"))
            .collect::<Vec<_>>(),
        ["effect@1.0.0", "prelude@1.0.0"]
    );
    assert_eq!(compilers_of(&t, "app", "1.0.0"), ["0.15.15"]);

    let e = publish_with(&t, &app("1.0.1"), None, Some(&[("effect", "1.0.0")])).unwrap_err();
    insta::assert_snapshot!(e, @"the resolutions given for `app@1.0.1` are not a build plan: `prelude` is missing: `effect@1.0.0` needs `prelude >=1.0.0 <2.0.0`");
    let e = publish_with(
        &t,
        &app("1.0.1"),
        None,
        Some(&[("effect", "1.0.0"), ("prelude", "2.0.0")]),
    )
    .unwrap_err();
    insta::assert_snapshot!(e, @"the resolutions given for `app@1.0.1` are not a build plan: `effect@1.0.0` needs `prelude >=1.0.0 <2.0.0`, but the resolutions give `prelude@2.0.0`");
    let e = publish_with(
        &t,
        &app("1.0.1"),
        Some("0.15.4"),
        Some(&[("effect", "1.0.0"), ("prelude", "1.1.0")]),
    )
    .unwrap_err();
    insta::assert_snapshot!(e, @"the resolutions given for `app@1.0.1` are not a build plan: not every resolved version builds with compiler `0.15.4`");
}

#[test]
fn re_running_a_finished_publish_changes_nothing() {
    let t = TestRegistry::new();
    let p = t.package("prelude", "1.0.0", &[]);
    let first = t.release(&p);
    let heads = t.remote_heads();
    let again = t.publish(&p.payload(true)).unwrap();
    assert!(again.changed_nothing(), "{again:?}");
    assert_eq!(again.hash, first.hash);
    assert_eq!(t.remote_heads(), heads);
}

#[test]
fn a_crash_after_storage_is_finished_by_a_re_run() {
    // Registry A publishes; registry B shares A's storage but has nothing else: the state
    // a crash right after the upload leaves behind.
    let a = TestRegistry::new();
    let p = a.package("prelude", "1.0.0", &[]);
    let first = a.release(&p);
    let b = TestRegistry::with_config(|c| c.github_base_url = a.config.github_base_url.clone());
    let ctx = regis::operation::Context {
        storage: &a.storage,
        ..b.ctx()
    };
    let report = regis::operation::publish::publish(&ctx, &p.payload(true)).unwrap();
    assert_eq!(report.storage, Put::AlreadyPresent);
    assert!(matches!(report.metadata, CommitOutcome::Committed { .. }));
    assert!(matches!(report.index, CommitOutcome::Committed { .. }));
    assert_eq!(report.hash, first.hash);
}

#[test]
fn a_crash_after_metadata_is_finished_by_a_re_run() {
    let t = TestRegistry::new();
    let index_before = testing::remote_head(&t.layout.index_remote);
    let p = t.package("prelude", "1.0.0", &[]);
    let first = t.release(&p);
    // Roll the index remote back: storage and metadata are done, the index is not.
    let remote = git2::Repository::open_bare(&t.layout.index_remote).unwrap();
    remote
        .reference(
            "refs/heads/main",
            index_before.parse().unwrap(),
            true,
            "simulate a crash",
        )
        .unwrap();
    // A half-written file in the index working tree, as a crash mid-write would leave.
    std::fs::write(t.layout.index.join("pr/el/prelude"), "{\"name\":\"prel").unwrap();

    let heads = testing::remote_head(&t.layout.registry_remote);
    let report = t.publish(&p.payload(true)).unwrap();
    assert_eq!(report.storage, Put::AlreadyPresent);
    assert!(matches!(report.metadata, CommitOutcome::Unchanged));
    assert!(matches!(
        report.index,
        CommitOutcome::Committed { pushed: true, .. }
    ));
    assert_eq!(testing::remote_head(&t.layout.registry_remote), heads);
    assert_eq!(report.hash, first.hash);
    let line = testing::remote_file(&t.layout.index_remote, "pr/el/prelude").unwrap();
    assert_eq!(line, format!("{}\n", p.manifest.to_index_line()));
}

#[test]
fn refusals_name_the_problem_and_change_nothing() {
    let t = TestRegistry::new();
    t.release(&t.package("prelude", "1.0.0", &[]));

    let mut p = t.package(
        "effect",
        "1.0.0",
        &[("prelude", ">=2.0.0 <3.0.0"), ("missing", ">=1.0.0 <2.0.0")],
    );
    t.push_source(&p);
    insta::assert_snapshot!(t.refused(&p.payload(true)), @"`effect@1.0.0` cannot be published: dependency `missing` is not in the registry: publish it first; no published version of `prelude` is in `>=2.0.0 <3.0.0` (published: `1.0.0`)");

    p = t.package("effect", "1.0.0", &[]);
    p.manifest.license = "GPL-3.0".parse().unwrap();
    t.push_source(&p);
    insta::assert_snapshot!(t.refused(&p.payload(true)), @"invalid license `GPL-3.0`: `GPL-3.0` is not a canonical SPDX identifier (a deprecated license identifier was used): use `GPL-3.0-only` or `GPL-3.0-or-later`");

    p = t.package("effect", "1.0.0", &[]);
    t.push_source(&p);
    let mut wrong = p.payload(true);
    wrong.name = "effects".parse().unwrap();
    wrong.location = Some(t.github("effect"));
    insta::assert_snapshot!(t.refused(&wrong), @"the payload publishes `effects`, but the manifest at `v1.0.0` is for `effect`");
    let mut wrong = p.payload(true);
    wrong.version = Some("1.0.1".parse().unwrap());
    insta::assert_snapshot!(t.refused(&wrong), @"the payload publishes `effect@1.0.1`, but the manifest at `v1.0.0` says version `1.0.0`");
    let mut wrong = p.payload(true);
    wrong.reference = "v9.9.9".into();
    let e = t.refused(&wrong);
    assert!(
        e.contains("`v9.9.9`") && e.contains("expected a tag, branch or commit"),
        "{e}"
    );
    insta::assert_snapshot!(t.refused(&p.payload(false)), @"package `effect` is not in the registry yet: the first publish must give a `location`");

    // The location already belongs to prelude.
    let mut thief = t.package("prelude2", "1.0.0", &[]);
    thief.manifest.location = t.github("prelude");
    insta::assert_snapshot!(t.refused(&thief.payload(true)), @"location `github:test/prelude` already belongs to package `prelude`: a location can hold only one package");

    // An update from somewhere else must go through a transfer.
    let moved = t.package("prelude", "1.1.0", &[]);
    let mut from_elsewhere = moved.payload(true);
    from_elsewhere.location = Some(t.github("prelude-fork"));
    insta::assert_snapshot!(t.refused(&from_elsewhere), @"package `prelude` lives at `github:test/prelude`, but the publish gives `github:test/prelude-fork`: if the package moved, submit a transfer first");

    let prefixed = t.package("purescript-foo", "1.0.0", &[]);
    insta::assert_snapshot!(t.refused(&prefixed.payload(true)), @"package name `purescript-foo` starts with `purescript-`: drop the prefix, names in this registry do not repeat the language");
}

#[test]
fn a_published_version_never_changes() {
    let t = TestRegistry::new();
    let p = t.package("prelude", "1.0.0", &[]);
    let first = t.release(&p);
    // Move the tag to different content.
    let mut changed = p.clone();
    changed
        .files
        .push(("src/Extra.purs".into(), b"module Extra where\n".to_vec()));
    t.push_source(&changed);
    let e = t.refused(&p.payload(true));
    assert_eq!(
        e,
        format!(
            "`prelude@1.0.0` is already published with hash `{}`: a published version can never change, publish a new version instead",
            first.hash
        )
    );
}

#[test]
fn packaging_limits_and_layout_problems_are_refused() {
    let t = TestRegistry::with_config(|c| {
        c.package_bytes_max = 2_000;
        c.package_bytes_warn = 1_000;
    });
    // Incompressible content over the limit.
    let mut big = t.package("big", "1.0.0", &[]);
    big.files
        .push(("src/Data.purs".into(), testing::noise(6_000)));
    t.push_source(&big);
    let e = t.refused(&big.payload(true));
    assert!(e.contains("more than the limit of 2000 bytes"), "{e}");

    // No sources.
    let mut empty = t.package("empty", "1.0.0", &[]);
    empty.files.retain(|(p, _)| !p.starts_with("src/"));
    t.push_source(&empty);
    let e = t.refused(&empty.payload(true));
    assert!(e.contains("`src/`"), "{e}");

    // No manifest at all.
    let bare = t.package("bare", "1.0.0", &[]);
    regis::sample::write_repo(&t.repo_dir("bare"), &bare.files, "no manifest", "v1.0.0").unwrap();
    insta::assert_snapshot!(t.refused(&bare.payload(true)), @"no manifest at the root of `github:test/bare` at `v1.0.0`: expected a `purs.json`, `spago.yaml` (with a `package.publish` section), `bower.json`, `spago.dhall` (with its `packages.dhall`) or `purs.dhall` there");

    // A manifest that is not valid.
    let mut files = bare.files.clone();
    files.push(("purs.json".into(), b"{\"name\":\"bare\"}".to_vec()));
    regis::sample::write_repo(&t.repo_dir("bare"), &files, "bad manifest", "v1.0.1").unwrap();
    let mut payload = bare.payload(true);
    payload.reference = "v1.0.1".into();
    insta::assert_snapshot!(t.refused(&payload), @"`purs.json` is not a valid manifest: missing field `version`");

    // Close to the limit: published, with a warning.
    let mut medium = t.package("medium", "1.0.0", &[]);
    medium
        .files
        .push(("src/Data.purs".into(), testing::noise(1_200)));
    let r = t.release(&medium);
    assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
}

#[test]
fn a_symlink_out_of_the_package_is_refused() {
    let t = TestRegistry::new();
    let p = t.package("linky", "1.0.0", &[]);
    t.push_source(&p);
    let repo = git2::Repository::open(t.repo_dir("linky")).unwrap();
    std::os::unix::fs::symlink(
        "../../../etc/passwd",
        t.repo_dir("linky").join("src/Secret.purs"),
    )
    .unwrap();
    let mut index = repo.index().unwrap();
    index.add_path(Path::new("src/Secret.purs")).unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = git2::Signature::now("a", "a@example.com").unwrap();
    let parent = repo.head().unwrap().peel_to_commit().unwrap();
    let c = repo
        .commit(Some("HEAD"), &sig, &sig, "link", &tree, &[&parent])
        .unwrap();
    repo.tag_lightweight("v1.0.0", &repo.find_object(c, None).unwrap(), true)
        .unwrap();
    let e = t.refused(&p.payload(true));
    assert!(e.contains("points outside the package"), "{e}");
}

#[test]
fn git_urls_are_fetched_too() {
    let t = TestRegistry::new();
    let dir: PathBuf = t.tmp.path().join("elsewhere/pkg");
    let url = format!("file://{}", dir.display());
    let p = regis::sample::SamplePackage::new(
        "gitpkg",
        "1.0.0",
        Location::git(&url, None).unwrap(),
        &[],
    );
    p.commit_to(&dir).unwrap();
    let r = t.publish(&p.payload(true)).unwrap();
    assert!(
        t.storage
            .get(&StorageKey::tarball(&r.name, &r.version))
            .unwrap()
            .is_some()
    );
    let e = PublishError::NeedsLocation {
        name: r.name.clone(),
    };
    assert!(e.to_string().contains("gitpkg"));
}

/// A source that lets another job publish (through another checkout of the same remotes)
/// while this job is fetching: the other job's pushes land first.
struct RacingSource<'a> {
    inner: regis::source::GitSource,
    other_job: std::cell::RefCell<Option<Box<dyn FnOnce() + 'a>>>,
}

impl regis::source::Source for RacingSource<'_> {
    fn fetch(
        &self,
        url: &str,
        reference: &str,
        subdir: Option<&str>,
    ) -> Result<regis::source::SourceTree, regis::source::SourceError> {
        if let Some(job) = self.other_job.borrow_mut().take() {
            job();
        }
        self.inner.fetch(url, reference, subdir)
    }
}

impl<'a> RacingSource<'a> {
    fn new(other_job: impl FnOnce() + 'a) -> Self {
        RacingSource {
            inner: regis::source::GitSource::new(),
            other_job: std::cell::RefCell::new(Some(Box::new(other_job))),
        }
    }
}

/// Another job's checkouts of the registry's two remotes.
fn other_checkouts(
    t: &TestRegistry,
) -> (tempfile::TempDir, regis::git::GitRepo, regis::git::GitRepo) {
    let dir = tempfile::tempdir().unwrap();
    let clone = |remote: &Path, name: &str| {
        regis::git::GitRepo::clone(remote.to_str().unwrap(), &dir.path().join(name)).unwrap()
    };
    let (registry, index) = (
        clone(&t.layout.registry_remote, "registry"),
        clone(&t.layout.index_remote, "index"),
    );
    (dir, registry, index)
}

#[test]
fn a_publish_racing_another_job_re_applies_its_change_and_loses_nothing() {
    let t = TestRegistry::new();
    let a = t.package("alpha", "1.0.0", &[]);
    let b = t.package("beta", "1.0.0", &[]);
    t.push_source(&a);
    t.push_source(&b);

    // Job B works in its own checkouts of the same remotes.
    let (_checkouts, registry_b, index_b) = other_checkouts(&t);
    let racing = RacingSource::new(|| {
        t.publish(&a.payload(true)).unwrap();
    });
    let ctx_b = regis::operation::Context {
        registry: &registry_b,
        index: &index_b,
        source: &racing,
        ..t.ctx()
    };
    let report = regis::operation::publish::publish(&ctx_b, &b.payload(true)).unwrap();

    // B synced before A pushed, so its first push of each repo was rejected and retried.
    assert!(
        matches!(
            report.metadata,
            CommitOutcome::Committed {
                attempts: 2,
                pushed: true,
                ..
            }
        ),
        "{:?}",
        report.metadata
    );
    assert!(
        matches!(
            report.index,
            CommitOutcome::Committed {
                attempts: 2,
                pushed: true,
                ..
            }
        ),
        "{:?}",
        report.index
    );
    for remote in [&t.layout.registry_remote, &t.layout.index_remote] {
        let messages = testing::commits_on(remote);
        assert_eq!(messages.len(), 3, "{messages:?}");
        assert_eq!(
            &messages[..2],
            ["Publish beta@1.0.0", "Publish alpha@1.0.0"]
        );
    }
    assert!(testing::remote_file(&t.layout.registry_remote, "metadata/alpha.json").is_some());
    assert!(testing::remote_file(&t.layout.registry_remote, "metadata/beta.json").is_some());
    assert!(testing::remote_file(&t.layout.index_remote, "al/ph/alpha").is_some());
    assert!(testing::remote_file(&t.layout.index_remote, "be/ta/beta").is_some());
}

#[test]
fn racing_jobs_cannot_claim_one_new_name_twice() {
    // Two first publishes of `same` from different locations: the one that lands second
    // re-reads metadata on the new head and is refused, leaving the first intact.
    let t = TestRegistry::new();
    let first = t.package("same", "1.0.0", &[]);
    let mut second = t.package("same", "1.0.0", &[]);
    second.manifest.location = t.github("same-fork");
    t.push_source(&first);
    second.commit_to(&t.repo_dir("same-fork")).unwrap();

    let (_checkouts, registry_b, index_b) = other_checkouts(&t);
    let racing = RacingSource::new(|| {
        t.publish(&first.payload(true)).unwrap();
    });
    let storage_b = regis::storage::MemoryStorage::new();
    let ctx_b = regis::operation::Context {
        registry: &registry_b,
        index: &index_b,
        source: &racing,
        storage: &storage_b,
        ..t.ctx()
    };
    let e = regis::operation::publish::publish(&ctx_b, &second.payload(true)).unwrap_err();
    insta::assert_snapshot!(e.to_string(), @"package `same` lives at `github:test/same`, but the publish gives `github:test/same-fork`: if the package moved, submit a transfer first");
    let metadata = testing::remote_file(&t.layout.registry_remote, "metadata/same.json").unwrap();
    assert!(metadata.contains("\"githubRepo\": \"same\""), "{metadata}");
    assert_eq!(
        testing::commits_on(&t.layout.index_remote).len(),
        2,
        "only the first job's index commit"
    );
    // The refused job leaves the tarball it stored: deleting it could take one another
    // job running the same payload has recorded meanwhile. Nothing records it; `regis
    // check` reports it and `regis gc` removes it.
    assert_eq!(storage_b.keys().len(), 1, "the tarball is kept");
}

#[test]
fn an_index_file_that_cannot_take_the_entry_stops_the_publish_before_any_write() {
    let t = TestRegistry::new();
    let p = t.package("prelude", "1.0.0", &[]);
    t.push_source(&p);
    // The index already holds a different manifest for this version (metadata does not).
    let mut other = p.manifest.clone();
    other.reference = "elsewhere".into();
    t.index
        .commit_change(
            "stray line",
            1,
            |dir| -> Result<Vec<PathBuf>, regis::git::GitError> {
                std::fs::create_dir_all(dir.join("pr/el")).unwrap();
                std::fs::write(
                    dir.join("pr/el/prelude"),
                    format!("{}\n", other.to_index_line()),
                )
                .unwrap();
                Ok(vec![PathBuf::from("pr/el/prelude")])
            },
        )
        .unwrap();
    insta::assert_snapshot!(t.refused(&p.payload(true)), @"`prelude@1.0.0` is already in the index (`pr/el/prelude`) with a different manifest: a published version can never change");
    assert!(testing::remote_file(&t.layout.registry_remote, "metadata/prelude.json").is_none());
}

#[test]
fn an_unpublished_version_can_never_be_published_again() {
    let t = TestRegistry::new();
    t.release(&t.package("prelude", "1.0.0", &[]));
    // Record 1.1.0 as unpublished, as an Unpublish would, and push it.
    t.registry
        .commit_change("Unpublish prelude@1.1.0", 1, |dir| -> Result<Vec<PathBuf>, regis::git::GitError> {
            let path = dir.join("metadata/prelude.json");
            let text = std::fs::read_to_string(&path).unwrap();
            let text = text.replace(
                "\"unpublished\": {}",
                "\"unpublished\": {\n    \"1.1.0\": {\n      \"publishedTime\": \"2026-01-01T00:00:00.000Z\",\n      \"reason\": \"broken\",\n      \"unpublishedTime\": \"2026-01-02T00:00:00.000Z\"\n    }\n  }",
            );
            std::fs::write(&path, text).unwrap();
            Ok(vec![PathBuf::from("metadata/prelude.json")])
        })
        .unwrap();
    let again = t.package("prelude", "1.1.0", &[]);
    t.push_source(&again);
    insta::assert_snapshot!(t.refused(&again.payload(false)), @"`prelude@1.1.0` was unpublished on 2026-01-02T00:00:00.000Z: a version number can never be reused, publish a new version instead");
}

#[test]
fn an_over_long_description_is_refused() {
    let t = TestRegistry::new();
    let mut p = t.package("wordy", "1.0.0", &[]);
    p.manifest.description = Some("x".repeat(501));
    t.push_source(&p);
    insta::assert_snapshot!(t.refused(&p.payload(true)), @"`purs.json` is not a valid manifest: `description` is 501 characters long: expected at most 500");
}

#[test]
fn a_package_in_a_subdirectory_of_a_monorepo() {
    let t = TestRegistry::new();
    let location = Location::github("test", "mono", Some("packages/inner")).unwrap();
    let p = regis::sample::SamplePackage::new("inner", "1.0.0", location, &[]);
    let mut files: Vec<(String, Vec<u8>)> = p
        .all_files()
        .into_iter()
        .map(|(path, bytes)| (format!("packages/inner/{path}"), bytes))
        .collect();
    files.push(("README.md".into(), b"# the monorepo\n".to_vec()));
    files.push((
        "packages/other/src/Other.purs".into(),
        b"module Other where\n".to_vec(),
    ));
    regis::sample::write_repo(&t.repo_dir("mono"), &files, "monorepo", "v1.0.0").unwrap();
    let r = t.publish(&p.payload(true)).unwrap();
    let tarball = std::fs::read(t.layout.storage.join("inner/1.0.0.tar.gz")).unwrap();
    assert_eq!(Sha256::of(&tarball), r.hash);
    let paths = unpacked_paths(&tarball);
    assert!(
        paths.contains(&"inner-1.0.0/src/Inner.purs".to_string()),
        "{paths:?}"
    );
    assert!(
        paths.contains(&"inner-1.0.0/README.md".to_string()),
        "{paths:?}"
    );
    assert!(
        !paths.iter().any(|p| p.contains("Other")),
        "only the subdirectory is packed: {paths:?}"
    );
    let readme = {
        let dir = tempfile::tempdir().unwrap();
        regis::tarball::unpack(&tarball, dir.path(), &regis::tarball::Limits::default()).unwrap();
        std::fs::read_to_string(dir.path().join("inner-1.0.0/README.md")).unwrap()
    };
    assert_eq!(
        readme, "# inner\n\nA sample package.\n",
        "the package's README, not the monorepo's"
    );
}

#[test]
fn an_oversized_manifest_is_not_read() {
    let t = TestRegistry::new();
    let p = t.package("fat", "1.0.0", &[]);
    let mut files = p.files.clone();
    let padded = format!("{}{}", p.manifest.to_pretty_json(), " ".repeat(1024 * 1024));
    files.push(("purs.json".into(), padded.into_bytes()));
    regis::sample::write_repo(&t.repo_dir("fat"), &files, "fat manifest", "v1.0.0").unwrap();
    let e = t.refused(&p.payload(true));
    assert!(e.contains("purs.json") && e.contains("1048576"), "{e}");
}

/// A step that cannot land after an earlier one did says exactly what landed, and the same
/// payload run again finishes the publish.
#[test]
fn a_publish_stopped_between_steps_says_what_landed_and_a_rerun_finishes_it() {
    use std::os::unix::fs::PermissionsExt;
    let t = TestRegistry::new();
    let p = t.package("prelude", "1.0.0", &[]);
    t.push_source(&p);
    let hook = t.layout.index_remote.join("hooks/pre-receive");
    std::fs::create_dir_all(hook.parent().unwrap()).unwrap();
    std::fs::write(
        &hook,
        "#!/bin/sh\necho the index is closed today >&2\nexit 1\n",
    )
    .unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    let e = t.publish(&p.payload(true)).unwrap_err();
    let text =
        regis::error_chain(&e).replace(&t.layout.index_remote.display().to_string(), "<index>");
    insta::assert_snapshot!(text, @"`prelude@1.0.0` is not fully published: the tarball is stored and the metadata records it, but the index line did not land; run the same payload again to finish it: push of `main` to `<index>` was rejected: [remote rejected] (pre-receive hook declined)");
    assert!(testing::remote_file(&t.layout.registry_remote, "metadata/prelude.json").is_some());
    assert!(testing::remote_file(&t.layout.index_remote, "pr/el/prelude").is_none());
    std::fs::remove_file(&hook).unwrap();
    let report = t.publish(&p.payload(true)).unwrap();
    assert_eq!(report.metadata, CommitOutcome::Unchanged);
    assert!(matches!(
        report.index,
        CommitOutcome::Committed { pushed: true, .. }
    ));
    assert!(testing::remote_file(&t.layout.index_remote, "pr/el/prelude").is_some());
}

/// The refusals of a publish that no other test pins in full, as `regis` prints them (the
/// error chain), with the temporary directory replaced: each changes nothing.
#[test]
fn every_other_refusal_reads_in_full() {
    let t = TestRegistry::new();
    let tmp = t.tmp.path().display().to_string();
    let refusal = |case: &str, request: &regis::payload::Publish| {
        let (heads, stored) = (t.remote_heads(), t.stored());
        let e = t.publish(request).expect_err(case);
        assert_eq!((t.remote_heads(), t.stored()), (heads, stored), "{case}");
        format!("{case} → {}", regis::error_chain(&e).replace(&tmp, "<tmp>"))
    };
    let mut lines = Vec::new();

    let reserved = t.package("metadata", "1.0.0", &[]);
    t.push_source(&reserved);
    lines.push(refusal("a reserved name", &reserved.payload(true)));

    let mut placed = t.package("placed", "1.0.0", &[]);
    placed.manifest.location = t.github("elsewhere");
    placed.commit_to(&t.repo_dir("placed")).unwrap();
    let mut request = placed.payload(true);
    request.location = Some(t.github("placed"));
    lines.push(refusal("a manifest naming another location", &request));

    let latin = t.package("latin", "1.0.0", &[]);
    let mut files = latin.files.clone();
    files.push(("purs.json".into(), b"{\"name\":\"caf\xe9\"}".to_vec()));
    regis::sample::write_repo(&t.repo_dir("latin"), &files, "latin-1", "v1.0.0").unwrap();
    lines.push(refusal(
        "a manifest that is not UTF-8",
        &latin.payload(true),
    ));

    let effect = t.package("effect", "1.0.0", &[]);
    t.push_source(&effect);
    let mut request = effect.payload(true);
    request.reference = "v9.9.9".into();
    lines.push(refusal("a ref the repository does not have", &request));

    // Storage holds other bytes under the key (a crashed run of a since-moved tag).
    let key = StorageKey::tarball(&effect.manifest.name, &effect.manifest.version);
    t.storage.put(&key, b"other bytes").unwrap();
    let stored = t.stored();
    let e = t.publish(&effect.payload(true)).unwrap_err();
    assert_eq!(t.stored(), stored);
    lines.push(format!(
        "a stored tarball with other bytes → {}",
        regis::error_chain(&e).replace(&tmp, "<tmp>")
    ));

    insta::assert_snapshot!(lines.join("\n"), @r"
        a reserved name → package name `metadata` is reserved: choose another name
        a manifest naming another location → the manifest of `placed` gives location `github:test/elsewhere`, but the package is published from `github:test/placed`: make them agree
        a manifest that is not UTF-8 → `purs.json` is not UTF-8 text: expected a UTF-8 manifest
        a ref the repository does not have → ref `v9.9.9` not found in `file://<tmp>/github/test/effect.git`: expected a tag, branch or commit id
        a stored tarball with other bytes → storage already holds `effect/1.0.0.tar.gz` with different contents (11 bytes, `sha256-o+rV7trV34IxjFFoXbwcFHo20f+FhPyC3msI0L9jp5U=`) than the upload (404 bytes, `sha256-ZjNLKBeuyqsZCQuk0aCznAXTXjFsGgeIZ8AcCoUlZwQ=`): a stored tarball is never replaced
        ");
}

#[test]
fn a_spago_dhall_package_with_too_many_dhall_files_is_refused_before_they_are_read() {
    let t = TestRegistry::new();
    let mut p = t.package("legacy", "1.0.0", &[]);
    p.manifest_file = regis::manifest::ManifestFile::SpagoDhall;
    // With its packages.dhall, one more than the limit.
    for i in 0..regis::manifest::spago_dhall::MAX_DHALL_FILES {
        p.files.push((format!("test/{i}.dhall"), b"{=}".to_vec()));
    }
    t.push_source(&p);
    insta::assert_snapshot!(t.refused(&p.payload(true)), @"`spago.dhall` is not a valid manifest: the package has 201 `.dhall` files of 604 bytes: expected at most 200 files of 4,194,304 bytes for a spago.dhall to import");
    // One fewer is read, and the package publishes (each dependency its exact version).
    p.files.pop();
    t.push_source(&p);
    assert!(t.publish(&p.payload(true)).is_ok());
}
