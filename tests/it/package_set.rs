//! Package-set updates and the daily job end to end: real git repos with bare remotes,
//! the real 80.7.0 → 80.8.0 update (`../shared/fixtures/purescript/package-set-samples`,
//! skipped when absent), build checks written as small `sh` scripts.

use std::path::Path;

use regis::git::{CommitOutcome, GitRepo};
use regis::operation::Context;
use regis::operation::package_set::{self, Inputs, PackageSetOpError, Silent, UpdateReport};
use regis::package_set::{Authority, PackageSet};
use regis::payload::PackageSetUpdate;
use regis::schema::Timestamp;
use regis::source::GitSource;
use regis::storage::FsStorage;
use regis::store::RegistryDir;
use regis::testing::{self, TestRegistry, commits_on};

fn update_payload(json: &str) -> PackageSetUpdate {
    serde_json::from_str(json).unwrap()
}

fn latest(t: &TestRegistry) -> Option<PackageSet> {
    RegistryDir::new(&t.layout.registry)
        .latest_package_set()
        .unwrap()
}

fn run(
    t: &TestRegistry,
    json: &str,
    authority: Authority,
) -> Result<UpdateReport, PackageSetOpError> {
    package_set::update(&t.ctx(), &update_payload(json), authority, &Silent)
}

/// Publish prelude, effect (→ prelude), console (→ effect) and start the first set.
fn registry_with_a_set(t: &TestRegistry) {
    t.release(&t.package("prelude", "1.0.0", &[]));
    t.release(&t.package("effect", "1.0.0", &[("prelude", ">=1.0.0 <2.0.0")]));
    t.release(&t.package("console", "1.0.0", &[("effect", ">=1.0.0 <2.0.0")]));
    let r = run(
        t,
        r#"{"packages": {"prelude": "1.0.0", "effect": "1.0.0", "console": "1.0.0"}}"#,
        Authority::Trustee,
    )
    .unwrap();
    assert_eq!(r.set.unwrap().version.to_string(), "0.1.0");
}

#[test]
fn the_real_80_7_0_to_80_8_0_update_gives_80_8_0_byte_for_byte() {
    let Some(fixtures) = testing::purescript_fixtures() else {
        return;
    };
    let samples = fixtures.join("package-set-samples");
    let tmp = tempfile::tempdir().unwrap();
    let (reg, idx) = (tmp.path().join("registry"), tmp.path().join("index"));
    testing::copy_dir(&samples.join("registry"), &reg);
    testing::copy_dir(&samples.join("index"), &idx);
    let registry_remote = tmp.path().join("registry.git");
    let registry = GitRepo::init_with_remote(&reg, &registry_remote, "import").unwrap();
    let index = GitRepo::init_with_remote(&idx, &tmp.path().join("index.git"), "import").unwrap();
    let config = regis::config::Config::default();
    let storage = FsStorage::new(tmp.path().join("storage"));
    let source = GitSource::new();
    let ctx = Context {
        config: &config,
        registry: &registry,
        index: &index,
        storage: &storage,
        mirrors: &[],
        source: &source,
        now: "2026-08-18T12:00:00.000Z".parse::<Timestamp>().unwrap(),
    };
    let text = std::fs::read_to_string(samples.join("update-80.7.0-to-80.8.0.json")).unwrap();
    let report =
        package_set::update(&ctx, &update_payload(&text), Authority::Anyone, &Silent).unwrap();
    assert!(report.batch_passed && report.rejected.is_empty());
    assert!(matches!(
        report.commit,
        Some(CommitOutcome::Committed { pushed: true, .. })
    ));
    let expected = std::fs::read_to_string(samples.join("80.8.0.json")).unwrap();
    assert_eq!(
        testing::remote_file(&registry_remote, "package-sets/80.8.0.json").as_deref(),
        Some(expected.as_str()),
        "the pushed set is the real 80.8.0"
    );
    insta::assert_snapshot!(commits_on(&registry_remote)[0], @"
    Update package set to 80.8.0

    Updated packages:
      - yoga-fastify-om@0.4.6 -> 0.4.7
      - yoga-fetch-om@0.7.0 -> 0.8.0
      - yoga-http-api@0.3.3 -> 0.3.4
    ");
}

#[test]
fn a_failing_member_is_refused_and_the_rest_of_the_batch_lands() {
    let t = TestRegistry::new();
    registry_with_a_set(&t);
    t.release(&t.package("prelude", "1.1.0", &[]));
    t.release(&t.package("effect", "1.1.0", &[("prelude", ">=1.1.0 <2.0.0")]));
    // `orphan` depends on a package that is not in the set.
    t.release(&t.package("lonely", "1.0.0", &[]));
    t.release(&t.package("orphan", "1.0.0", &[("lonely", ">=1.0.0 <2.0.0")]));
    let head = testing::remote_head(&t.layout.registry_remote);
    let r = run(
        &t,
        r#"{"packages": {"orphan": "1.0.0", "effect": "1.1.0", "prelude": "1.1.0"}}"#,
        Authority::Anyone,
    )
    .unwrap();
    assert!(!r.batch_passed);
    let accepted: Vec<String> = r.accepted.iter().map(|c| c.to_string()).collect();
    // One at a time, dependencies first: prelude before effect.
    assert_eq!(
        accepted,
        [
            "upgrade `prelude` from `1.0.0` to `1.1.0`",
            "upgrade `effect` from `1.0.0` to `1.1.0`"
        ]
    );
    let rejected: Vec<String> = r
        .rejected
        .iter()
        .map(|(c, reason)| format!("{c}: {reason}"))
        .collect();
    insta::assert_snapshot!(rejected.join("\n"), @"add `orphan@1.0.0`: `orphan@1.0.0` depends on `lonely`, which is not in the set");
    let set = latest(&t).unwrap();
    assert_eq!(
        set.version.to_string(),
        "0.2.0",
        "minor: packages' minor rose"
    );
    assert_eq!(set.packages.len(), 3);
    assert_ne!(testing::remote_head(&t.layout.registry_remote), head);
    insta::assert_snapshot!(commits_on(&t.layout.registry_remote)[0], @"
    Update package set to 0.2.0

    Updated packages:
      - effect@1.0.0 -> 1.1.0
      - prelude@1.0.0 -> 1.1.0
    ");
}

#[test]
fn the_build_check_runs_over_each_candidate_set() {
    let scripts = tempfile::tempdir().unwrap();
    let log = scripts.path().join("log");
    let check = scripts.path().join("check.sh");
    // Fails any set holding console 1.1.0; logs what each run saw.
    std::fs::write(
        &check,
        format!(
            "printf '%s %s\\n' \"$REGIS_COMPILER\" \"$(ls \"$REGIS_DEPENDENCIES\" | tr '\\n' ' ')\" >> '{}'\n\
             if grep -q '\"1.1.0\"' \"$REGIS_RESOLUTIONS\" && grep -q console-1.1.0 \"$REGIS_RESOLUTIONS\"; then echo 'console: type error' >&2; exit 1; fi\n",
            log.display()
        ),
    )
    .unwrap();
    let t =
        TestRegistry::with_config(|c| c.build_check = Some(format!("sh '{}'", check.display())));
    registry_with_a_set(&t);
    t.release(&t.package("console", "1.1.0", &[("effect", ">=1.0.0 <2.0.0")]));
    t.release(&t.package("prelude", "1.0.1", &[]));
    // Publishes ran the check too (on each package); count the set runs only.
    std::fs::remove_file(&log).unwrap();
    let r = run(
        &t,
        r#"{"packages": {"console": "1.1.0", "prelude": "1.0.1"}}"#,
        Authority::Anyone,
    )
    .unwrap();
    let accepted: Vec<String> = r.accepted.iter().map(|c| c.to_string()).collect();
    assert_eq!(accepted, ["upgrade `prelude` from `1.0.0` to `1.0.1`"]);
    assert_eq!(r.rejected.len(), 1);
    let reason = &r.rejected[0].1;
    assert!(
        reason.contains("console: type error") && reason.contains("build check"),
        "{reason}"
    );
    // Batch, then each change alone: three runs over whole sets, tarballs from storage
    // (unpacked once each into one workspace).
    let runs = std::fs::read_to_string(&log).unwrap();
    assert_eq!(runs.lines().count(), 3, "{runs}");
    assert!(runs.lines().all(|l| l.starts_with("0.15.15 ")), "{runs}");
    assert!(runs.contains("console-1.1.0"), "{runs}");
    assert_eq!(
        latest(&t).unwrap().version.to_string(),
        "0.1.1",
        "patch bump"
    );
}

#[test]
fn removals_downgrades_and_compiler_changes_need_a_trustee() {
    let t = TestRegistry::new();
    registry_with_a_set(&t);
    let head = testing::remote_head(&t.layout.registry_remote);
    let e = run(
        &t,
        r#"{"compiler": "0.15.16", "packages": {"console": null}}"#,
        Authority::Anyone,
    )
    .unwrap_err();
    insta::assert_snapshot!(e, @"only a trustee may remove or downgrade packages or change the compiler, and this update asks to change the compiler from `0.15.15` to `0.15.16`, remove `console@1.0.0`: a trustee must submit it");
    let e = run(&t, r#"{"packages": {"nope": "1.0.0"}}"#, Authority::Anyone).unwrap_err();
    insta::assert_snapshot!(e, @"`nope@1.0.0` is not published: no version of `nope` is published");
    // What the set already has is done, not refused (a re-run of an update that landed
    // reports success), and writes nothing.
    let r = run(
        &t,
        r#"{"packages": {"effect": "1.0.0"}}"#,
        Authority::Anyone,
    )
    .unwrap();
    assert!(r.already_applied(), "{r:?}");
    insta::assert_snapshot!(regis::operation::report::package_set(&r, false), @"
    package set 0.1.0 already has everything this update asks for: nothing to do
      unchanged effect
    ");
    assert_eq!(
        testing::remote_head(&t.layout.registry_remote),
        head,
        "nothing is written"
    );

    // A trustee removes console and its dependency effect together: the batch passes.
    let r = run(
        &t,
        r#"{"packages": {"console": null, "effect": null}}"#,
        Authority::Trustee,
    )
    .unwrap();
    assert!(r.batch_passed);
    let set = latest(&t).unwrap();
    assert_eq!(
        set.version.to_string(),
        "1.0.0",
        "a removal is a major bump"
    );
    assert_eq!(
        set.packages.keys().map(|n| n.as_str()).collect::<Vec<_>>(),
        ["prelude"]
    );
}

#[test]
fn the_daily_job_adds_and_upgrades_what_fits_then_is_up_to_date() {
    let t = TestRegistry::new();
    let ctx = t.ctx();
    let inputs = Inputs::of(&ctx);
    let daily = || package_set::daily(&inputs, Some(&ctx), &Silent).unwrap();
    // No set yet: nothing to grow.
    t.release(&t.package("prelude", "1.0.0", &[]));
    assert!(daily().proposal.is_none());

    registry_with_a_set(&t);
    t.release(&t.package("prelude", "1.2.0", &[]));
    t.release(&t.package("arrays", "1.0.0", &[("prelude", ">=1.0.0 <2.0.0")]));
    t.release(&t.package("lonely", "1.0.0", &[]));
    // Its dependency is not in the set yet: proposed only once `lonely` is.
    t.release(&t.package("needs-lonely", "1.0.0", &[("lonely", ">=1.0.0 <2.0.0")]));
    let proposal = daily().proposal.expect("a proposal");
    let names: Vec<&str> = proposal.packages.keys().map(|n| n.as_str()).collect();
    assert_eq!(names, ["arrays", "lonely", "prelude"]);
    let set = latest(&t).unwrap();
    assert_eq!(set.version.to_string(), "0.2.0");
    assert_eq!(set.packages.len(), 5);

    let proposal = daily().proposal.expect("the next day");
    let names: Vec<&str> = proposal.packages.keys().map(|n| n.as_str()).collect();
    assert_eq!(names, ["needs-lonely"]);
    assert_eq!(latest(&t).unwrap().version.to_string(), "0.3.0");
    assert!(daily().proposal.is_none(), "up to date");
}

/// An update reads the set's packages and those it names, nothing else: a broken file of
/// a package outside the set does not stop it (the daily job, which reads every package,
/// reports that file; `regis check` would too).
#[test]
fn an_update_reads_only_the_packages_it_is_checked_against() {
    let t = TestRegistry::new();
    registry_with_a_set(&t);
    t.release(&t.package("prelude", "1.1.0", &[]));
    t.release(&t.package("outside", "1.0.0", &[]));
    t.registry
        .commit_change(
            "a broken file",
            1,
            |dir| -> Result<Vec<std::path::PathBuf>, regis::git::GitError> {
                std::fs::write(dir.join("metadata/outside.json"), "{ broken").unwrap();
                Ok(vec!["metadata/outside.json".into()])
            },
        )
        .unwrap();
    let ctx = t.ctx();
    let e = package_set::daily(&Inputs::of(&ctx), Some(&ctx), &Silent).unwrap_err();
    assert!(e.to_string().contains("metadata/outside.json"), "{e}");

    let report = run(
        &t,
        r#"{"packages": {"prelude": "1.1.0"}}"#,
        Authority::Anyone,
    )
    .unwrap();
    let set = report.set.expect("a new set");
    assert_eq!(set.version.to_string(), "0.2.0");
    assert_eq!(set.packages["prelude"].to_string(), "1.1.0");
    // a package the update names is read, broken or not
    let e = run(
        &t,
        r#"{"packages": {"outside": "1.0.0"}}"#,
        Authority::Anyone,
    )
    .unwrap_err();
    assert!(e.to_string().contains("metadata/outside.json"), "{e}");
}

#[test]
fn a_dry_run_writes_nothing_and_needs_no_git() {
    let t = TestRegistry::new();
    registry_with_a_set(&t);
    t.release(&t.package("prelude", "1.0.1", &[]));
    let head = testing::remote_head(&t.layout.registry_remote);
    let inputs = Inputs {
        config: &t.config,
        registry: &t.layout.registry,
        index: &t.layout.index,
        stores: regis::storage::Stores::single(&t.storage),
        today: "2026-11-22".parse().unwrap(),
    };
    let r = package_set::dry_run(
        &inputs,
        &update_payload(r#"{"packages": {"prelude": "1.0.1"}}"#),
        Authority::Anyone,
        &Silent,
    )
    .unwrap();
    assert_eq!(r.set.unwrap().version.to_string(), "0.1.1");
    assert!(r.commit.is_none());
    assert_eq!(testing::remote_head(&t.layout.registry_remote), head);
    assert!(!Path::new(&t.layout.registry.join("package-sets/0.1.1.json")).exists());
}

/// Another job's set lands while this update runs its build check: with retries allowed
/// (the default) the update plans again on the new set and lands after it; with none it is
/// refused, saying which set overtook it.
#[test]
fn an_update_a_racing_set_overtook_plans_again_or_is_refused() {
    let landed = race_an_update(100);
    let sets: Vec<String> = landed.into_iter().collect();
    assert_eq!(
        sets,
        ["0.1.0", "0.1.1", "0.1.2"],
        "both sets, the raced one last"
    );
    race_an_update(1);
    // What an update says when other sets kept landing for its whole retry budget.
    let raced = regis::operation::package_set::PackageSetOpError::Raced {
        expected: "`0.1.0`".to_owned(),
        found: "0.1.3".parse().unwrap(),
    };
    insta::assert_snapshot!(raced, @"package set `0.1.3` was published while this update ran (it started from `0.1.0`): run the update again");
}

/// Run the race of [`an_update_a_racing_set_overtook_plans_again_or_is_refused`] with
/// `attempts` push attempts; the set versions on the remote afterwards.
fn race_an_update(attempts: u32) -> std::collections::BTreeSet<String> {
    let t = TestRegistry::with_config(|c| {
        c.build_check = Some("true".to_owned());
        c.push_attempts = attempts;
    });
    registry_with_a_set(&t);
    t.release(&t.package("prelude", "1.0.1", &[]));
    t.release(&t.package("effect", "1.0.1", &[("prelude", ">=1.0.0 <2.0.0")]));
    // The other job works in its own checkouts of the same remotes.
    let dir = tempfile::tempdir().unwrap();
    let clone = |remote: &Path, name: &str| {
        GitRepo::clone(remote.to_str().unwrap(), &dir.path().join(name)).unwrap()
    };
    let (registry_b, index_b) = (
        clone(&t.layout.registry_remote, "registry"),
        clone(&t.layout.index_remote, "index"),
    );
    // Another job publishes a set the first time a tarball is read (the build check
    // reads the members' tarballs), so that job's set lands first.
    let racing = testing::Interleaved::before_get(&t.storage, |_| {
        let ctx_b = Context {
            registry: &registry_b,
            index: &index_b,
            ..t.ctx()
        };
        let update = update_payload(r#"{"packages": {"effect": "1.0.1"}}"#);
        package_set::update(&ctx_b, &update, Authority::Anyone, &Silent).unwrap();
    });
    let ctx = Context {
        storage: &racing,
        ..t.ctx()
    };
    let update = update_payload(r#"{"packages": {"prelude": "1.0.1"}}"#);
    let commits = commits_on(&t.layout.registry_remote).len();
    let outcome = package_set::update(&ctx, &update, Authority::Anyone, &Silent);
    let sets = || {
        let mut sets = std::collections::BTreeSet::new();
        for v in ["0.1.0", "0.1.1", "0.1.2"] {
            let path = format!("package-sets/{v}.json");
            if testing::remote_file(&t.layout.registry_remote, &path).is_some() {
                sets.insert(v.to_owned());
            }
        }
        sets
    };
    if attempts > 1 {
        let report = outcome.unwrap();
        assert_eq!(report.set.unwrap().version.to_string(), "0.1.2");
        assert_eq!(commits_on(&t.layout.registry_remote).len(), commits + 2);
        let latest =
            testing::remote_file(&t.layout.registry_remote, "package-sets/0.1.2.json").unwrap();
        assert!(
            latest.contains(r#""effect": "1.0.1""#) && latest.contains(r#""prelude": "1.0.1""#),
            "the raced update keeps the other job's change: {latest}"
        );
    } else {
        // With no retry the push that found the other set gives up (with retries the
        // update would plan again, and past the budget say `PackageSetOpError::Raced`).
        let e = outcome.unwrap_err();
        let remote = t.layout.registry_remote.display().to_string();
        insta::assert_snapshot!(regis::error_chain(&e).replace(&remote, "<registry>"), @"gave up after 1 attempt to push `main` to `<registry>` in 0 s: the remote branch moved every time, expected it to stay still long enough for a fast-forward push");
        assert_eq!(
            commits_on(&t.layout.registry_remote).len(),
            commits + 1,
            "only the other job's set"
        );
    }
    sets()
}
