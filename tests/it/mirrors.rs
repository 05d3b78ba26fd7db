//! Mirrors end to end on real git repos and real directories: a publish writes the primary
//! then each mirror (a failing mirror is reported, the publish stands), an unpublish
//! deletes from each, the build check and `check` fall back to a mirror holding the
//! recorded bytes, and `storage sync` repairs every store, checking every hash.

use regis::auth::{SignatureFormat, SigningKey};
use regis::check::{self, FindingKind};
use regis::operation::Context;
use regis::operation::sync;
use regis::operation::unpublish;
use regis::payload::Authenticated;
use regis::schema::Sha256;
use regis::storage::{FsStorage, MirrorOutcome, Storage, StorageKey, Stores};
use regis::store::{IndexDir, RegistryDir};
use regis::testing::{self, TestRegistry};

fn key(name: &str, version: &str) -> StorageKey {
    StorageKey::tarball(&name.parse().unwrap(), &version.parse().unwrap())
}

/// Two directory mirrors beside the registry's storage.
fn mirrors(t: &TestRegistry) -> Vec<Box<dyn Storage>> {
    let dir = t.tmp.path();
    vec![
        Box::new(FsStorage::new(dir.join("mirror-a"))),
        Box::new(FsStorage::new(dir.join("mirror-b"))),
    ]
}

fn with_mirrors<'a>(t: &'a TestRegistry, mirrors: &'a [Box<dyn Storage>]) -> Context<'a> {
    Context { mirrors, ..t.ctx() }
}

fn audit(t: &TestRegistry, mirrors: &[Box<dyn Storage>]) -> check::Report {
    check::run(
        &RegistryDir::new(&t.layout.registry),
        &IndexDir::new(&t.layout.index),
        Some(Stores {
            primary: &t.storage,
            mirrors,
        }),
        None,
    )
    .unwrap()
}

fn sync(t: &TestRegistry, mirrors: &[Box<dyn Storage>], dry_run: bool) -> sync::SyncReport {
    let stores = Stores {
        primary: &t.storage,
        mirrors,
    };
    sync::sync(&RegistryDir::new(&t.layout.registry), stores, dry_run).unwrap()
}

/// `name@version` of what `field` lists, for each store.
fn names(
    report: &sync::SyncReport,
    field: impl Fn(&sync::StoreSync) -> &Vec<regis::schema::PackageVersion>,
) -> Vec<Vec<String>> {
    (report.stores.iter())
        .map(|s| field(s).iter().map(ToString::to_string).collect())
        .collect()
}

#[test]
fn a_publish_writes_each_mirror_and_a_failing_mirror_does_not_fail_it() {
    let t = TestRegistry::new();
    // A mirror whose directory cannot be created: a regular file stands in its way.
    std::fs::write(t.tmp.path().join("not-a-dir"), "").unwrap();
    let mut mirrors = mirrors(&t);
    mirrors.push(Box::new(FsStorage::new(
        t.tmp.path().join("not-a-dir/mirror"),
    )));
    let p = t.package("prelude", "1.0.0", &[]);
    t.push_source(&p);
    let ctx = with_mirrors(&t, &mirrors);
    let report = regis::operation::publish::publish(&ctx, &p.payload(true)).unwrap();

    let k = key("prelude", "1.0.0");
    let primary = t.storage.get(&k).unwrap().expect("the primary holds it");
    assert_eq!(Sha256::of(&primary), report.hash);
    for mirror in &mirrors[..2] {
        assert_eq!(mirror.get(&k).unwrap().as_deref(), Some(&primary[..]));
    }
    let outcomes: Vec<&MirrorOutcome> = report.mirrors.iter().map(|m| &m.outcome).collect();
    assert_eq!(
        outcomes[..2],
        [&MirrorOutcome::Stored, &MirrorOutcome::Stored]
    );
    let MirrorOutcome::Failed { error } = outcomes[2] else {
        panic!("{:?}", report.mirrors)
    };
    assert!(error.contains("not-a-dir/mirror"), "{error}");
    assert_eq!(
        serde_json::to_value(&report.mirrors[0]).unwrap(),
        serde_json::json!({"mirror": mirrors[0].describe(), "status": "stored"})
    );
    let failed = serde_json::to_value(&report.mirrors[2]).unwrap();
    assert_eq!(
        (&failed["status"], &failed["error"]),
        (&serde_json::json!("failed"), &serde_json::json!(error))
    );
    // The publish stands, and its report says what failed and how it is repaired.
    assert!(matches!(
        report.metadata,
        regis::git::CommitOutcome::Committed { .. }
    ));
    let text = regis::operation::report::publish(&report);
    assert!(text.contains("stored\n"), "{text}");
    assert!(
        text.contains("failed: ") && text.contains("(`regis storage sync` repairs it)"),
        "{text}"
    );

    // A re-run finds every working mirror holding the bytes already.
    let again = regis::operation::publish::publish(&ctx, &p.payload(true)).unwrap();
    let outcomes: Vec<&MirrorOutcome> = again.mirrors.iter().map(|m| &m.outcome).collect();
    assert_eq!(
        outcomes[..2],
        [
            &MirrorOutcome::AlreadyPresent,
            &MirrorOutcome::AlreadyPresent
        ]
    );
    assert!(again.changed_nothing());
}

#[test]
fn the_build_check_reads_a_dependency_the_primary_lacks_from_a_mirror() {
    // The check fails unless prelude's files are unpacked where the hook looks.
    let t = TestRegistry::with_config(|c| {
        c.build_check = Some(
            r#"case "$REGIS_PACKAGE" in prelude) true ;; *) test -f "$REGIS_DEPENDENCIES/prelude-1.0.0/src/Prelude.purs" ;; esac"#
                .to_owned(),
        );
    });
    let mirrors = mirrors(&t);
    let ctx = with_mirrors(&t, &mirrors);
    let prelude = t.package("prelude", "1.0.0", &[]);
    t.push_source(&prelude);
    regis::operation::publish::publish(&ctx, &prelude.payload(true)).unwrap();
    let k = key("prelude", "1.0.0");
    let published = t.storage.get(&k).unwrap().unwrap();

    // The primary loses prelude; the first mirror holds other bytes, the second the
    // published ones.
    assert!(t.storage.delete(&k).unwrap());
    assert!(mirrors[0].delete(&k).unwrap());
    mirrors[0].put(&k, b"tampered").unwrap();
    let effect = t.package("effect", "1.0.0", &[("prelude", ">=1.0.0 <2.0.0")]);
    t.push_source(&effect);
    let report = regis::operation::publish::publish(&ctx, &effect.payload(true)).unwrap();
    assert_eq!(
        report.warnings,
        [format!(
            "`prelude@1.0.0` was read from mirror `{}`: storage `{}` lacks it (`regis storage sync` copies it back)",
            mirrors[1].describe(),
            t.storage.describe()
        )]
    );
    // A reader writes nothing back; `storage sync` does.
    assert_eq!(t.storage.get(&k).unwrap(), None);

    // Without a mirror holding the published bytes, the publish is refused, naming why
    // each mirror was passed over.
    assert!(mirrors[1].delete(&k).unwrap());
    let later = t.package("effect", "1.0.1", &[("prelude", ">=1.0.0 <2.0.0")]);
    t.push_source(&later);
    let e = regis::operation::publish::publish(&ctx, &later.payload(true)).unwrap_err();
    let text = regis::error_chain(&e);
    assert!(
        text.contains(&format!(
            "has no `prelude/1.0.0.tar.gz` (mirror `{}` holds other bytes (`{}`, expected `{}`), mirror `{}` has none)",
            mirrors[0].describe(),
            Sha256::of(b"tampered"),
            Sha256::of(&published),
            mirrors[1].describe()
        )),
        "{text}"
    );
}

#[test]
fn check_falls_back_to_a_mirror_and_storage_sync_repairs_every_store() {
    let t = TestRegistry::new();
    let mirrors = mirrors(&t);
    let ctx = with_mirrors(&t, &mirrors);
    for p in [
        t.package("prelude", "1.0.0", &[]),
        t.package("effect", "1.0.0", &[("prelude", ">=1.0.0 <2.0.0")]),
        t.package("console", "1.0.0", &[("effect", ">=1.0.0 <2.0.0")]),
    ] {
        t.push_source(&p);
        regis::operation::publish::publish(&ctx, &p.payload(true)).unwrap();
    }
    let (prelude, effect, console) = (
        key("prelude", "1.0.0"),
        key("effect", "1.0.0"),
        key("console", "1.0.0"),
    );
    let clean = sync(&t, &mirrors, false);
    assert!(clean.is_clean(), "{:?}", clean.problems);
    assert_eq!(
        clean.stores.iter().map(|s| s.verified).collect::<Vec<_>>(),
        [3, 3, 3]
    );

    // The primary loses prelude (mirror a still has it); mirror b loses effect; mirror a's
    // console is replaced by other bytes; an orphan of an unpublished version sits on b.
    let prelude_bytes = t.storage.get(&prelude).unwrap().unwrap();
    t.storage.delete(&prelude).unwrap();
    mirrors[1].delete(&prelude).unwrap();
    mirrors[1].delete(&effect).unwrap();
    mirrors[0].delete(&console).unwrap();
    mirrors[0].put(&console, b"other bytes").unwrap();

    // check: prelude is served by mirror a (a warning, not a finding); nothing is missing.
    let report = audit(&t, &mirrors);
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    assert_eq!(report.from_mirrors.len(), 1);
    assert_eq!(report.from_mirrors[0].package.as_str(), "prelude");
    assert_eq!(report.from_mirrors[0].mirror, mirrors[0].describe());
    // Without the mirror, the primary's loss is a finding.
    let alone = audit(&t, &[]);
    assert_eq!(
        alone.findings.iter().map(|f| f.kind).collect::<Vec<_>>(),
        [FindingKind::MissingTarball]
    );

    // A dry run says what it would do and changes nothing.
    let every_file = || {
        let dirs = [
            t.layout.storage.clone(),
            t.tmp.path().join("mirror-a"),
            t.tmp.path().join("mirror-b"),
        ];
        dirs.map(|d| testing::files_below(&d))
    };
    let before = every_file();
    let dry = sync(&t, &mirrors, true);
    assert_eq!(every_file(), before);

    let report = sync(&t, &mirrors, false);
    assert!(dry.dry_run && !report.dry_run);
    assert_eq!(
        report,
        sync::SyncReport {
            dry_run: false,
            ..dry
        },
        "a dry run reports what a sync does"
    );
    assert_eq!(report.published, 3);
    assert_eq!(
        names(&report, |s| &s.copied),
        [
            &["prelude@1.0.0"][..],
            &[],
            &["effect@1.0.0", "prelude@1.0.0"]
        ]
    );
    assert_eq!(t.storage.get(&prelude).unwrap().unwrap(), prelude_bytes);
    // Mirror a's other bytes are reported, never replaced.
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    let problem = &report.problems[0];
    assert_eq!(problem.store.as_deref(), Some(&*mirrors[0].describe()));
    assert_eq!(problem.package.as_str(), "console");
    assert!(
        problem
            .message
            .contains("a stored tarball is never replaced"),
        "{}",
        problem.message
    );
    assert_eq!(
        mirrors[0].get(&console).unwrap().as_deref(),
        Some(&b"other bytes"[..])
    );

    // Once the bad object is removed by hand, a sync copies the published one.
    mirrors[0].delete(&console).unwrap();
    let report = sync(&t, &mirrors, false);
    assert!(report.is_clean(), "{:?}", report.problems);
    assert_eq!(names(&report, |s| &s.copied)[1], ["console@1.0.0"]);
    let again = sync(&t, &mirrors, false);
    assert!(
        again
            .stores
            .iter()
            .all(|s| s.copied.is_empty() && s.verified == 3)
    );
}

#[test]
fn an_unpublish_deletes_from_each_mirror_and_sync_finishes_one_that_failed() {
    let owner = SigningKey::from_openssh(&testing::seeded_key(7), None).unwrap();
    let t = TestRegistry::new();
    let mirrors = mirrors(&t);
    let ctx = with_mirrors(&t, &mirrors);
    let mut p = t.package("prelude", "1.0.0", &[]);
    p.manifest.owners = Some(vec![owner.public()]);
    t.push_source(&p);
    regis::operation::publish::publish(&ctx, &p.payload(true)).unwrap();
    let k = key("prelude", "1.0.0");

    // Mirror b fails during the unpublish: its directory is moved away, a file in its place.
    let b = t.tmp.path().join("mirror-b");
    let away = t.tmp.path().join("mirror-b-away");
    std::fs::rename(&b, &away).unwrap();
    std::fs::write(&b, "").unwrap();
    let payload = r#"{"name":"prelude","version":"1.0.0","reason":"a broken build"}"#;
    let signed = Authenticated {
        payload: payload.to_owned(),
        signature: owner.sign(payload, SignatureFormat::Raw, "file").unwrap(),
    };
    let report = unpublish::unpublish(&ctx, &signed).unwrap();
    assert!(report.tarball_deleted);
    assert_eq!(report.mirrors[0].outcome, MirrorOutcome::Deleted);
    assert!(report.mirrors[1].failed(), "{:?}", report.mirrors);
    assert_eq!(mirrors[0].get(&k).unwrap(), None);
    let text = regis::operation::report::unpublish(&report);
    assert!(text.contains("  mirror    `"), "{text}");

    // Back in place, mirror b still holds the unpublished tarball: sync deletes it.
    std::fs::remove_file(&b).unwrap();
    std::fs::rename(&away, &b).unwrap();
    assert!(mirrors[1].get(&k).unwrap().is_some());
    let report = sync(&t, &mirrors, false);
    assert!(report.is_clean(), "{:?}", report.problems);
    assert_eq!(names(&report, |s| &s.deleted)[2], ["prelude@1.0.0"]);
    assert_eq!(mirrors[1].get(&k).unwrap(), None);
    assert!(testing::files_below(&b).is_empty());
}

#[test]
fn a_mirror_is_named_in_regis_dhall_or_by_flag_and_synced_by_the_binary() {
    let t = TestRegistry::new();
    let p = t.package("prelude", "1.0.0", &[]);
    t.release(&p);
    let mirror = t.tmp.path().join("mirror");
    let regis = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_regis"))
            .arg("--registry")
            .arg(&t.layout.registry)
            .arg("--storage")
            .arg(&t.layout.storage)
            .args(args)
            .output()
            .unwrap()
    };
    let mirror_arg = mirror.to_str().unwrap();
    let out = regis(&["--mirror", mirror_arg, "storage", "sync"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("copied prelude@1.0.0 to `"), "{stdout}");
    assert!(
        stdout.ends_with("sync: every store holds every published tarball\n"),
        "{stdout}"
    );
    let k = key("prelude", "1.0.0");
    assert_eq!(
        FsStorage::new(&mirror).get(&k).unwrap(),
        t.storage.get(&k).unwrap()
    );

    // Other bytes on the mirror: exit 1, the problem named.
    std::fs::write(mirror.join("prelude/1.0.0.tar.gz"), "other").unwrap();
    let out = regis(&["--mirror", mirror_arg, "storage", "sync"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("a stored tarball is never replaced"),
        "{stdout}"
    );
    // And `check` reads the primary first: the mirror's bytes do not matter while the
    // primary holds the published ones.
    let out = regis(&["--mirror", mirror_arg, "check"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // `mirrors` in regis.dhall, relative to the registry, when no `--mirror` is given.
    let config = regis::config::Config {
        mirrors: vec!["../configured-mirror".to_owned()],
        ..t.config.clone()
    };
    std::fs::write(t.layout.registry.join("regis.dhall"), config.to_dhall()).unwrap();
    let out = regis(&["storage", "sync"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let configured = t.layout.registry.join("../configured-mirror");
    assert!(
        stdout.contains(&format!(
            "copied prelude@1.0.0 to `{}`",
            configured.display()
        )),
        "{stdout}"
    );
    assert!(FsStorage::new(&configured).get(&k).unwrap().is_some());
}
