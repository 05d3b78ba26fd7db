//! Yank, unyank and deprecate end to end on real git repos: what each writes (the
//! package's metadata only, pushed), who may sign (owners and trustees, at any time),
//! re-runs changing nothing, refusals changing nothing, what the solver and package sets
//! make of a yanked version, the issue flow, and the PureScript Registry's metadata files
//! left byte for byte as they are.

use regis::auth::{SignatureFormat, SigningKey};
use regis::git::CommitOutcome;
use regis::github::{EventKind, IssueEvent, IssueRef, MemoryGitHub, RepoRef};
use regis::metadata::Metadata;
use regis::operation::Context;
use regis::operation::authorize::Role;
use regis::operation::deprecate::{self, DeprecateError};
use regis::operation::issue;
use regis::operation::package_set::{self as set_op, Silent};
use regis::operation::yank::{self, YankError};
use regis::package_set::Authority;
use regis::payload::{Authenticated, PackageSetUpdate};
use regis::schema::{Timestamp, Version};
use regis::testing::{self, NOW, TestRegistry, commits_on};

fn seeded(seed: u8) -> SigningKey {
    SigningKey::from_openssh(&testing::seeded_key(seed), None).unwrap()
}

fn signed(key: &SigningKey, payload: &str) -> Authenticated {
    Authenticated {
        payload: payload.to_owned(),
        signature: key.sign(payload, SignatureFormat::Raw, "file").unwrap(),
    }
}

fn yank_text(name: &str, version: &str, reason: &str) -> String {
    format!(r#"{{"name":"{name}","yank":"{version}","reason":"{reason}"}}"#)
}

fn unyank_text(name: &str, version: &str) -> String {
    format!(r#"{{"name":"{name}","unyank":"{version}"}}"#)
}

fn metadata_text(t: &TestRegistry, name: &str) -> String {
    testing::remote_file(&t.layout.registry_remote, &format!("metadata/{name}.json")).unwrap()
}

fn metadata(t: &TestRegistry, name: &str) -> Metadata {
    Metadata::from_json(name, &metadata_text(t, name)).unwrap()
}

fn at(t: &TestRegistry, days_after: i64) -> Context<'_> {
    let now: Timestamp = NOW.parse().unwrap();
    Context {
        now: Timestamp::from_datetime(now.as_datetime() + chrono::Duration::days(days_after)),
        ..t.ctx()
    }
}

/// A registry with `prelude@1.0.0` and `prelude@1.1.0` owned by `seeded(1)`; trustees as
/// `edit` says.
fn registry_with(edit: impl FnOnce(&mut regis::config::Config)) -> TestRegistry {
    let t = TestRegistry::with_config(edit);
    for version in ["1.0.0", "1.1.0"] {
        let mut p = t.package("prelude", version, &[]);
        p.manifest.owners = Some(vec![seeded(1).public()]);
        t.release(&p);
    }
    t
}

fn audit_is_clean(t: &TestRegistry) {
    let registry = regis::store::RegistryDir::new(t.registry.workdir());
    let index = regis::store::IndexDir::new(t.index.workdir());
    let audit = regis::check::run(&registry, &index, None, None).unwrap();
    assert!(audit.is_clean(), "{:?}", audit.findings);
}

#[test]
fn an_owner_yanks_and_only_the_metadata_changes() {
    let t = registry_with(|_| {});
    let before_text = metadata_text(&t, "prelude");
    let (index_before, stored_before) = (testing::remote_head(&t.layout.index_remote), t.stored());
    let request = signed(
        &seeded(1),
        &yank_text("prelude", "1.0.0", "breaks on node 22"),
    );
    let report = yank::yank(&t.ctx(), &request).unwrap();
    assert_eq!(report.signer.role, Role::Owner);
    assert!(report.yanked);
    assert!(matches!(
        report.metadata,
        CommitOutcome::Committed { pushed: true, .. }
    ));
    assert_eq!(
        commits_on(&t.layout.registry_remote)[0],
        "Yank prelude@1.0.0"
    );
    // The metadata gains the `yanked` key after `unpublished`; nothing else changes.
    let text = metadata_text(&t, "prelude");
    assert_eq!(
        text,
        before_text.replace(
            "  \"unpublished\": {}\n}\n",
            &format!("  \"unpublished\": {{}},\n  \"yanked\": {{\n    \"1.0.0\": {{\n      \"reason\": \"breaks on node 22\",\n      \"time\": \"{NOW}\"\n    }}\n  }}\n}}\n")
        )
    );
    // Still published, indexed and downloadable.
    assert_eq!(testing::remote_head(&t.layout.index_remote), index_before);
    assert_eq!(t.stored(), stored_before);
    assert_eq!(metadata(&t, "prelude").published.len(), 2);
    audit_is_clean(&t);
    insta::assert_snapshot!(regis::operation::report::yank(&report).replace(&t.layout.registry.display().to_string(), "<registry>").lines().filter(|l| !l.contains("committed")).collect::<Vec<_>>().join("\n"), @r"
    yanked prelude@1.0.0
      reason    breaks on node 22
      signed by an owner (`ssh-ed25519` `SHA256:fe85JkIjo8VPe+XqXJGH5Mau1EMFdK1OdKvJUFicyA8`)
    ");

    // The same payload again changes nothing; so does another reason.
    let heads = t.remote_heads();
    let again = yank::yank(&t.ctx(), &request).unwrap();
    assert_eq!(again.metadata, CommitOutcome::Unchanged);
    let other = signed(&seeded(1), &yank_text("prelude", "1.0.0", "another"));
    let again = yank::yank(&at(&t, 3), &other).unwrap();
    assert_eq!(
        (again.metadata, again.reason.as_deref()),
        (CommitOutcome::Unchanged, Some("breaks on node 22"))
    );
    assert_eq!(t.remote_heads(), heads);

    // An unyank takes it back: the PureScript Registry's bytes again; a re-run is a no-op.
    let undo = signed(&seeded(1), &unyank_text("prelude", "1.0.0"));
    let report = yank::yank(&t.ctx(), &undo).unwrap();
    assert!(!report.yanked);
    assert_eq!(
        commits_on(&t.layout.registry_remote)[0],
        "Unyank prelude@1.0.0"
    );
    assert_eq!(metadata_text(&t, "prelude"), before_text);
    let heads = t.remote_heads();
    assert_eq!(
        yank::yank(&t.ctx(), &undo).unwrap().metadata,
        CommitOutcome::Unchanged
    );
    assert_eq!(t.remote_heads(), heads);
}

#[test]
fn owners_and_trustees_yank_at_any_time_and_nobody_else() {
    let t = registry_with(|c| c.trustees = vec![seeded(3).public()]);
    let before = (t.remote_heads(), t.stored());
    let refused = |case: &str, ctx: &Context<'_>, request: &Authenticated| {
        let e = yank::yank(ctx, request).expect_err(case);
        format!("{case} → {}", regis::error_chain(&e))
    };
    let text = yank_text("prelude", "1.0.0", "broken");
    let unsigned = Authenticated {
        payload: text.clone(),
        signature: String::new(),
    };
    let lines = [
        refused("a stranger", &t.ctx(), &signed(&seeded(2), &text)),
        refused("no signature", &t.ctx(), &unsigned),
        refused(
            "a version not published",
            &t.ctx(),
            &signed(&seeded(1), &yank_text("prelude", "9.0.0", "x")),
        ),
        refused(
            "an unknown package",
            &t.ctx(),
            &signed(&seeded(1), &yank_text("nope", "1.0.0", "x")),
        ),
        refused(
            "an unyank of an unknown package",
            &t.ctx(),
            &signed(&seeded(1), &unyank_text("nope", "1.0.0")),
        ),
        refused(
            "a signed Deprecate",
            &t.ctx(),
            &signed(&seeded(1), r#"{"name":"prelude","message":"old"}"#),
        ),
    ];
    insta::assert_snapshot!(lines.join("\n"), @r#"
        a stranger → the signature on the yank of `prelude` is not from an owner of the package or a trustee (the package lists 1 owner): the signature does not match the payload for any of the 2 keys tried (`ssh-ed25519` `SHA256:zbv/nU7iZdO0fB0DalMI70dP6/yFD8sctXvvW4+OokY`, `ssh-ed25519` `SHA256:fe85JkIjo8VPe+XqXJGH5Mau1EMFdK1OdKvJUFicyA8`): the payload must be signed exactly as given, with an owner's key
        no signature → the yank of `prelude` is not signed: sign the payload with an owner's SSH key (`regis sign --key ~/.ssh/id_ed25519 …`) and paste the output (only a trustee's issue may leave the signature empty: the registry bot signs it then)
        a version not published → `prelude@9.0.0` is not published: published versions are `1.0.0`, `1.1.0`
        an unknown package → package `nope` is not in the registry: there is nothing to yank
        an unyank of an unknown package → package `nope` is not in the registry: there is nothing to unyank
        a signed Deprecate → the signed payload is a Deprecate: expected a Yank `{name, yank, reason}` or an Unyank `{name, unyank}`
    "#);
    assert_eq!((t.remote_heads(), t.stored()), before, "nothing is pushed");
    let e = yank::yank(&t.ctx(), &signed(&seeded(2), &text)).unwrap_err();
    assert!(matches!(e, YankError::Authorize(_)), "{e}");

    // Years after publishing: the owner may (no window), and so may a trustee.
    let report = yank::yank(&at(&t, 3 * 365), &signed(&seeded(1), &text)).unwrap();
    assert_eq!(report.signer.role, Role::Owner);
    let late = yank_text("prelude", "1.1.0", "superseded");
    let report = yank::yank(&at(&t, 10 * 365), &signed(&seeded(3), &late)).unwrap();
    assert_eq!(report.signer.role, Role::Trustee);
    let m = metadata(&t, "prelude");
    assert_eq!(m.yanked.len(), 2);
    assert_eq!(
        m.yanked[&"1.1.0".parse::<Version>().unwrap()]
            .time
            .to_string(),
        "2036-11-19T10:00:00.000Z"
    );
    audit_is_clean(&t);
}

#[test]
fn the_solver_skips_a_yanked_version_unless_resolutions_pin_it() {
    let t = registry_with(|_| {});
    let owner = seeded(1);
    yank::yank(
        &t.ctx(),
        &signed(&owner, &yank_text("prelude", "1.1.0", "broken")),
    )
    .unwrap();
    // A publish solving `prelude` gets the older version.
    let app = t.package("app", "1.0.0", &[("prelude", ">=1.0.0 <2.0.0")]);
    let report = t.release(&app);
    assert_eq!(
        report.build_plan.resolutions["prelude"].to_string(),
        "1.0.0"
    );
    // With both yanked, a publish that must solve fails, saying why.
    yank::yank(
        &t.ctx(),
        &signed(&owner, &yank_text("prelude", "1.0.0", "broken")),
    )
    .unwrap();
    let other = t.package("other", "1.0.0", &[("prelude", ">=1.0.0 <2.0.0")]);
    t.push_source(&other);
    insta::assert_snapshot!(t.refused(&other.payload(true)), @r#"
        no build plan for `other@1.0.0`:
        `other@1.0.0` needs `prelude >=1.0.0 <2.0.0` (every version in that range is yanked: `1.0.0`, `1.1.0`; a yanked version is used only when a build plan's `resolutions` pin it)
    "#);
    // Pinned by `resolutions`, a yanked version is still used.
    let mut pinned = other.payload(true);
    pinned.resolutions = Some([("prelude".parse().unwrap(), "1.1.0".parse().unwrap())].into());
    let report = t.publish(&pinned).unwrap();
    assert_eq!(
        report.build_plan.resolutions["prelude"].to_string(),
        "1.1.0"
    );
    // Unyanked, it is a candidate again.
    yank::yank(&t.ctx(), &signed(&owner, &unyank_text("prelude", "1.1.0"))).unwrap();
    let third = t.package("third", "1.0.0", &[("prelude", ">=1.0.0 <2.0.0")]);
    let report = t.release(&third);
    assert_eq!(
        report.build_plan.resolutions["prelude"].to_string(),
        "1.1.0"
    );
    audit_is_clean(&t);
}

#[test]
fn a_package_set_takes_no_yanked_version_but_keeps_a_yanked_member() {
    let t = registry_with(|_| {});
    let owner = seeded(1);
    let update = |name: &str, version: &str| PackageSetUpdate {
        compiler: None,
        packages: [(name.parse().unwrap(), Some(version.parse().unwrap()))].into(),
    };
    set_op::update(
        &t.ctx(),
        &update("prelude", "1.0.0"),
        Authority::Anyone,
        &Silent,
    )
    .unwrap();
    for version in ["1.0.0", "1.1.0"] {
        yank::yank(
            &t.ctx(),
            &signed(&owner, &yank_text("prelude", version, "broken")),
        )
        .unwrap();
    }
    let heads = t.remote_heads();
    let e = set_op::update(
        &t.ctx(),
        &update("prelude", "1.1.0"),
        Authority::Trustee,
        &Silent,
    )
    .unwrap_err();
    insta::assert_snapshot!(regis::error_chain(&e), @"`prelude@1.1.0` is yanked (broken): a package set takes no yanked version (members yanked after they joined stay)");
    assert_eq!(t.remote_heads(), heads, "nothing is pushed");
    // The yanked member stays in the latest set, and the audit is clean.
    let registry = regis::store::RegistryDir::new(t.registry.workdir());
    let latest = registry.latest_package_set().unwrap().unwrap();
    assert_eq!(latest.packages["prelude"].to_string(), "1.0.0");
    audit_is_clean(&t);
}

#[test]
fn an_owner_deprecates_and_clears_and_re_runs_change_nothing() {
    let t = registry_with(|_| {});
    t.release(&t.package("prelude-next", "1.0.0", &[]));
    let owner = seeded(1);
    let before_text = metadata_text(&t, "prelude");
    let text = r#"{"name":"prelude","message":"use prelude-next","alternative":"prelude-next"}"#;
    let report = deprecate::deprecate(&t.ctx(), &signed(&owner, text)).unwrap();
    assert_eq!(report.signer.role, Role::Owner);
    assert_eq!(
        commits_on(&t.layout.registry_remote)[0],
        "Deprecate prelude"
    );
    assert_eq!(
        metadata_text(&t, "prelude"),
        before_text.replace(
            "  \"unpublished\": {}\n}\n",
            &format!("  \"unpublished\": {{}},\n  \"deprecated\": {{\n    \"alternative\": \"prelude-next\",\n    \"message\": \"use prelude-next\",\n    \"time\": \"{NOW}\"\n  }}\n}}\n")
        )
    );
    audit_is_clean(&t);
    let heads = t.remote_heads();
    let again = deprecate::deprecate(&at(&t, 1), &signed(&owner, text)).unwrap();
    assert_eq!(again.metadata, CommitOutcome::Unchanged);
    assert_eq!(again.deprecated.unwrap().time.to_string(), NOW);
    assert_eq!(t.remote_heads(), heads);

    // Refusals change nothing.
    let refused = |case: &str, request: &Authenticated| {
        let e = deprecate::deprecate(&t.ctx(), request).expect_err(case);
        format!("{case} → {}", regis::error_chain(&e))
    };
    let lines = [
        refused(
            "an unknown alternative",
            &signed(
                &owner,
                r#"{"name":"prelude","message":"old","alternative":"nope"}"#,
            ),
        ),
        refused(
            "a stranger",
            &signed(&seeded(2), r#"{"name":"prelude","message":"old"}"#),
        ),
        refused(
            "an unknown package",
            &signed(&owner, r#"{"name":"nope","message":"old"}"#),
        ),
        refused(
            "a signed Yank",
            &signed(&owner, &yank_text("prelude", "1.0.0", "x")),
        ),
    ];
    insta::assert_snapshot!(lines.join("\n"), @r#"
        an unknown alternative → the alternative `nope` to `prelude` is not in the registry: expected a registered package to point its users to
        a stranger → the signature on the deprecation of `prelude` is not from an owner of the package or a trustee (the package lists 1 owner): the signature does not match the payload for the 1 key tried (`ssh-ed25519` `SHA256:fe85JkIjo8VPe+XqXJGH5Mau1EMFdK1OdKvJUFicyA8`): the payload must be signed exactly as given, with an owner's key
        an unknown package → package `nope` is not in the registry: there is nothing to deprecate
        a signed Yank → the signed payload is a Yank: expected a Deprecate `{name, message, alternative?}`
    "#);
    let e = deprecate::deprecate(
        &t.ctx(),
        &signed(
            &owner,
            r#"{"name":"prelude","message":"old","alternative":"nope"}"#,
        ),
    )
    .unwrap_err();
    assert!(
        matches!(e, DeprecateError::UnknownAlternative { .. }),
        "{e}"
    );
    assert_eq!(t.remote_heads(), heads);

    // Cleared: the PureScript Registry's bytes again; clearing again is a no-op.
    let clear = signed(&owner, r#"{"name":"prelude","message":""}"#);
    let report = deprecate::deprecate(&t.ctx(), &clear).unwrap();
    assert!(report.deprecated.is_none());
    assert_eq!(
        commits_on(&t.layout.registry_remote)[0],
        "Undeprecate prelude"
    );
    assert_eq!(metadata_text(&t, "prelude"), before_text);
    let heads = t.remote_heads();
    assert_eq!(
        deprecate::deprecate(&t.ctx(), &clear).unwrap().metadata,
        CommitOutcome::Unchanged
    );
    assert_eq!(t.remote_heads(), heads);
}

fn opened(author: &str, body: &str) -> IssueEvent {
    IssueEvent {
        issue: IssueRef {
            repo: RepoRef::new("test", "registry"),
            number: 9,
        },
        title: "a request".to_owned(),
        author: author.to_owned(),
        body: body.to_owned(),
        kind: EventKind::Opened,
        comment_id: None,
    }
}

/// An owner's signed yank, and a trustee's unsigned deprecation the bot signs, through the
/// issue flow: answered, closed, written.
#[test]
fn the_issue_flow_yanks_and_deprecates() {
    let bot_pem = testing::seeded_key(7);
    let bot = SigningKey::from_openssh(&bot_pem, None).unwrap().public();
    let t = registry_with(|c| {
        c.bot_public_key = Some(bot);
        c.trustee_team = Some("test/trustees".parse().unwrap());
    });
    let gh = MemoryGitHub::new().with_member("test", "trustees", "tess");
    let request = signed(&seeded(1), &yank_text("prelude", "1.1.0", "broken"));
    let body = format!(
        "### Signed yank\n\n```json\n{}\n```\n",
        serde_json::to_string(&request).unwrap()
    );
    let processed = issue::process(&t.ctx(), &gh, &opened("olly", &body), None, None).unwrap();
    assert!(processed.success, "{}", processed.headline);
    assert_eq!(processed.headline, "yanked `prelude@1.1.0`");
    assert!(
        gh.comments()[0]
            .1
            .starts_with("Working on the yank of `prelude@1.1.0`, as requested by @olly."),
        "{:?}",
        gh.comments()
    );
    assert_eq!(gh.closed().len(), 1);
    assert!(metadata(&t, "prelude").is_yanked(&"1.1.0".parse().unwrap()));

    // Unsigned: refused for anyone, signed by the bot for a trustee.
    let unsigned = serde_json::json!({
        "payload": r#"{"name":"prelude","message":"unmaintained"}"#,
        "signature": "",
    })
    .to_string();
    let heads = t.remote_heads();
    let processed = issue::process(
        &t.ctx(),
        &gh,
        &opened("mallory", &unsigned),
        Some(&bot_pem),
        None,
    )
    .unwrap();
    assert!(!processed.success);
    insta::assert_snapshot!(processed.headline, @"the deprecation of `prelude` failed: the deprecation of `prelude` is not signed: sign the payload with an owner's SSH key (`regis sign --key ~/.ssh/id_ed25519 …`) and paste the output (only a trustee's issue may leave the signature empty: the registry bot signs it then)");
    assert_eq!(t.remote_heads(), heads);
    let processed = issue::process(
        &t.ctx(),
        &gh,
        &opened("tess", &unsigned),
        Some(&bot_pem),
        None,
    )
    .unwrap();
    assert!(processed.success, "{}", processed.headline);
    assert_eq!(processed.headline, "deprecated `prelude`");
    assert!(
        processed
            .full_comment
            .contains("the registry bot signed it for them")
    );
    match &processed.result {
        Some(issue::OperationReport::Deprecate(r)) => assert_eq!(r.signer.role, Role::Bot),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        metadata(&t, "prelude").deprecated.unwrap().message,
        "unmaintained"
    );
}

/// Every metadata file of the PureScript Registry's data: a yank and a deprecation add
/// their keys after the registry's own, and taking both back gives the same bytes.
#[test]
fn purescript_metadata_is_untouched_by_a_yank_taken_back() {
    let Some(root) = testing::purescript_fixtures() else {
        return;
    };
    let now: Timestamp = NOW.parse().unwrap();
    let mut seen = 0;
    for rel in testing::files_below(&root) {
        let rel_s = rel.to_string_lossy();
        if !(rel_s.contains("metadata/") && rel_s.ends_with(".json")) {
            continue;
        }
        let text = std::fs::read_to_string(root.join(&rel)).unwrap();
        let Ok(mut m) = Metadata::from_json(&rel_s, &text) else {
            continue;
        };
        if m.to_json() != text {
            continue;
        }
        assert!(m.yanked.is_empty() && m.deprecated.is_none(), "{rel_s}");
        let name = rel.file_stem().unwrap().to_str().unwrap().parse().unwrap();
        let Some(version) = m.published.keys().next_back().cloned() else {
            continue;
        };
        m.yank(&name, &version, "x", now).unwrap();
        m.deprecate("old", None, now);
        let flagged = m.to_json();
        assert!(flagged.starts_with(text.trim_end_matches("}\n")), "{rel_s}");
        assert_eq!(Metadata::from_json(&rel_s, &flagged).unwrap(), m);
        m.unyank(&name, &version).unwrap();
        m.deprecate("", None, now);
        assert_eq!(m.to_json(), text, "{rel_s}");
        seen += 1;
    }
    assert!(seen > 100, "only {seen} metadata files");
}
