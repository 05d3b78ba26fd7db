//! Tags end to end on real git repos: a signed Alias sets and moves a tag, an Unalias
//! removes it, and only the package's metadata changes (`aliases`, after `yanked`, absent
//! when empty: the PureScript Registry's bytes again); who may sign; refusals changing
//! nothing; an unpublish taking the tags naming the version with it; the atom recording
//! the signed text, a replay of it refused, its atom a TUF target; the issue flow; `regis
//! alias` and `regis sign alias|unalias` through the binary; and `NAME@TAG` in `regis
//! solve` and `regis fetch`, from the checkouts (through TUF) and from a site.

use std::path::Path;
use std::process::{Command, Output};

use regis::atom::{AtomError, AtomId, AtomOperation};
use regis::auth::{SignatureFormat, SigningKey};
use regis::git::CommitOutcome;
use regis::github::{EventKind, IssueEvent, IssueRef, MemoryGitHub, RepoRef};
use regis::metadata::Metadata;
use regis::operation::alias::{self, AliasError};
use regis::operation::authorize::Role;
use regis::operation::{Context, issue, unpublish, yank};
use regis::payload::Authenticated;
use regis::schema::{PackageName, Timestamp, Version};
use regis::storage::Storage;
use regis::testing::{self, NOW, TestRegistry, commits_on};

use super::site_client::{self, Served};
use super::tuf_fixture;

fn seeded(seed: u8) -> SigningKey {
    SigningKey::from_openssh(&testing::seeded_key(seed), None).unwrap()
}

fn signed(key: &SigningKey, payload: &str) -> Authenticated {
    Authenticated {
        payload: payload.to_owned(),
        signature: key.sign(payload, SignatureFormat::Raw, "file").unwrap(),
    }
}

fn alias_text(name: &str, tag: &str, version: &str) -> String {
    format!(r#"{{"name":"{name}","alias":"{tag}","version":"{version}"}}"#)
}

fn unalias_text(name: &str, tag: &str) -> String {
    format!(r#"{{"name":"{name}","unalias":"{tag}"}}"#)
}

fn metadata_text(t: &TestRegistry, name: &str) -> String {
    testing::remote_file(&t.layout.registry_remote, &format!("metadata/{name}.json")).unwrap()
}

fn metadata(t: &TestRegistry, name: &str) -> Metadata {
    Metadata::from_json(name, &metadata_text(t, name)).unwrap()
}

fn v(text: &str) -> Version {
    text.parse().unwrap()
}

fn prelude() -> PackageName {
    "prelude".parse().unwrap()
}

fn at(t: &TestRegistry, days_after: i64) -> Context<'_> {
    let now: Timestamp = NOW.parse().unwrap();
    Context {
        now: Timestamp::from_datetime(now.as_datetime() + chrono::Duration::days(days_after)),
        ..t.ctx()
    }
}

/// A registry with `prelude` at `versions`, owned by `seeded(1)`; the config as `edit`
/// says.
fn registry_with(versions: &[&str], edit: impl FnOnce(&mut regis::config::Config)) -> TestRegistry {
    let t = TestRegistry::with_config(edit);
    for version in versions {
        let mut p = t.package("prelude", version, &[]);
        p.manifest.owners = Some(vec![seeded(1).public()]);
        t.release(&p);
    }
    t
}

fn audit_is_clean(t: &TestRegistry) {
    let registry = regis::store::RegistryDir::new(t.registry.workdir());
    let index = regis::store::IndexDir::new(t.index.workdir());
    let ctx = t.ctx();
    let audit = regis::check::run(
        &registry,
        &index,
        Some(ctx.stores()),
        t.config.trust_atom_key.as_ref(),
    )
    .unwrap();
    assert!(audit.is_clean(), "{:?}", audit.findings);
}

/// A report without its commit line (the commit id changes from run to run).
fn report(r: &alias::AliasReport) -> String {
    let text = regis::operation::report::alias(r);
    let lines: Vec<&str> = text.lines().filter(|l| !l.contains("metadata")).collect();
    lines.join("\n")
}

#[test]
fn an_owner_sets_moves_and_removes_a_tag_and_only_the_metadata_changes() {
    let t = registry_with(&["1.0.0", "1.1.0"], |_| {});
    let before_text = metadata_text(&t, "prelude");
    let (index_before, stored_before) = (testing::remote_head(&t.layout.index_remote), t.stored());
    let set = signed(&seeded(1), &alias_text("prelude", "next", "1.0.0"));
    let r = alias::alias(&t.ctx(), &set).unwrap();
    assert_eq!(r.signer.role, Role::Owner);
    assert_eq!(
        (r.version.clone(), r.previous.clone()),
        (Some(v("1.0.0")), None)
    );
    assert!(matches!(
        r.metadata,
        CommitOutcome::Committed { pushed: true, .. }
    ));
    assert_eq!(
        commits_on(&t.layout.registry_remote)[0],
        "Alias prelude@next to 1.0.0"
    );
    // The metadata gains `aliases` after the PureScript Registry's keys; nothing else
    // changes, and the audit is clean.
    assert_eq!(
        metadata_text(&t, "prelude"),
        before_text.replace(
            "  \"unpublished\": {}\n}\n",
            "  \"unpublished\": {},\n  \"aliases\": {\n    \"next\": \"1.0.0\"\n  }\n}\n"
        )
    );
    assert_eq!(testing::remote_head(&t.layout.index_remote), index_before);
    assert_eq!(t.stored(), stored_before);
    audit_is_clean(&t);
    insta::assert_snapshot!(report(&r), @r"
    prelude@next names 1.0.0
      signed by an owner (`ssh-ed25519` `SHA256:fe85JkIjo8VPe+XqXJGH5Mau1EMFdK1OdKvJUFicyA8`)
    ");

    // The same payload again changes nothing.
    let heads = t.remote_heads();
    let again = alias::alias(&t.ctx(), &set).unwrap();
    assert_eq!(again.metadata, CommitOutcome::Unchanged);
    insta::assert_snapshot!(report(&again), @r"
    prelude@next already names 1.0.0
      signed by an owner (`ssh-ed25519` `SHA256:fe85JkIjo8VPe+XqXJGH5Mau1EMFdK1OdKvJUFicyA8`)
    ");
    assert_eq!(t.remote_heads(), heads);

    // Another version moves it; a second tag sorts after it.
    let moved = alias::alias(
        &t.ctx(),
        &signed(&seeded(1), &alias_text("prelude", "next", "1.1.0")),
    )
    .unwrap();
    insta::assert_snapshot!(report(&moved), @r"
    prelude@next moved to 1.1.0
      was       1.0.0
      signed by an owner (`ssh-ed25519` `SHA256:fe85JkIjo8VPe+XqXJGH5Mau1EMFdK1OdKvJUFicyA8`)
    ");
    alias::alias(
        &t.ctx(),
        &signed(&seeded(1), &alias_text("prelude", "stable", "1.0.0")),
    )
    .unwrap();
    let m = metadata(&t, "prelude");
    assert!(metadata_text(&t, "prelude").ends_with(
        "  \"aliases\": {\n    \"next\": \"1.1.0\",\n    \"stable\": \"1.0.0\"\n  }\n}\n"
    ));
    let resolve = |spec: &str| m.resolve(&prelude(), &spec.parse().unwrap()).unwrap();
    assert_eq!(
        (resolve("next"), resolve("stable"), resolve("latest")),
        (v("1.1.0"), v("1.0.0"), v("1.1.0"))
    );
    audit_is_clean(&t);

    // Removed: the PureScript Registry's bytes again; removing again is a no-op.
    alias::alias(
        &t.ctx(),
        &signed(&seeded(1), &unalias_text("prelude", "stable")),
    )
    .unwrap();
    let unset = signed(&seeded(1), &unalias_text("prelude", "next"));
    let removed = alias::alias(&t.ctx(), &unset).unwrap();
    assert_eq!(
        (removed.version.clone(), removed.previous.clone()),
        (None, Some(v("1.1.0")))
    );
    assert_eq!(
        commits_on(&t.layout.registry_remote)[0],
        "Unalias prelude@next"
    );
    assert_eq!(metadata_text(&t, "prelude"), before_text);
    let heads = t.remote_heads();
    let again = alias::alias(&t.ctx(), &unset).unwrap();
    assert_eq!(again.metadata, CommitOutcome::Unchanged);
    insta::assert_snapshot!(report(&removed) + "\n" + &report(&again), @r"
    prelude@next removed
      was       1.1.0
      signed by an owner (`ssh-ed25519` `SHA256:fe85JkIjo8VPe+XqXJGH5Mau1EMFdK1OdKvJUFicyA8`)
    prelude@next is not set
      signed by an owner (`ssh-ed25519` `SHA256:fe85JkIjo8VPe+XqXJGH5Mau1EMFdK1OdKvJUFicyA8`)
    ");
    assert_eq!(t.remote_heads(), heads);
}

#[test]
fn owners_and_trustees_alias_and_refusals_change_nothing() {
    let t = registry_with(&["1.0.0", "1.1.0", "1.2.0"], |c| {
        c.trustees = vec![seeded(3).public()]
    });
    let owner = seeded(1);
    unpublish::unpublish(
        &t.ctx(),
        &signed(
            &owner,
            r#"{"name":"prelude","version":"1.0.0","reason":"broken"}"#,
        ),
    )
    .unwrap();
    yank::yank(
        &t.ctx(),
        &signed(
            &owner,
            r#"{"name":"prelude","yank":"1.1.0","reason":"broken"}"#,
        ),
    )
    .unwrap();
    let before = (t.remote_heads(), t.stored());
    let refused = |case: &str, request: &Authenticated| {
        let e = alias::alias(&t.ctx(), request).expect_err(case);
        format!("{case} → {}", regis::error_chain(&e))
    };
    let text = alias_text("prelude", "next", "1.2.0");
    let unsigned = Authenticated {
        payload: text.clone(),
        signature: String::new(),
    };
    let long = "a".repeat(65);
    let lines = [
        refused("a stranger", &signed(&seeded(2), &text)),
        refused("no signature", &unsigned),
        refused(
            "a version not published",
            &signed(&owner, &alias_text("prelude", "next", "9.0.0")),
        ),
        refused(
            "an unpublished version",
            &signed(&owner, &alias_text("prelude", "next", "1.0.0")),
        ),
        refused(
            "a yanked version",
            &signed(&owner, &alias_text("prelude", "next", "1.1.0")),
        ),
        refused(
            "an unknown package",
            &signed(&owner, &alias_text("nope", "next", "1.0.0")),
        ),
        refused(
            "an unalias of an unknown package",
            &signed(&owner, &unalias_text("nope", "next")),
        ),
        refused(
            "a signed Yank",
            &signed(&owner, r#"{"name":"prelude","yank":"1.2.0","reason":"x"}"#),
        ),
        refused(
            "a version as the tag",
            &signed(&owner, &alias_text("prelude", "1.2.0", "1.2.0")),
        ),
        refused(
            "an uppercase tag",
            &signed(&owner, &alias_text("prelude", "Next", "1.2.0")),
        ),
        refused(
            "a tag of 65 characters",
            &signed(&owner, &alias_text("prelude", &long, "1.2.0")),
        ),
    ];
    insta::assert_snapshot!(lines.join("\n").replace(&long, "<65 a>"), @r#"
    a stranger → the signature on the alias of `prelude` is not from an owner of the package or a trustee (the package lists 1 owner): the signature does not match the payload for any of the 2 keys tried (`ssh-ed25519` `SHA256:zbv/nU7iZdO0fB0DalMI70dP6/yFD8sctXvvW4+OokY`, `ssh-ed25519` `SHA256:fe85JkIjo8VPe+XqXJGH5Mau1EMFdK1OdKvJUFicyA8`): the payload must be signed exactly as given, with an owner's key
    no signature → the alias of `prelude` is not signed: sign the payload with an owner's SSH key (`regis sign --key ~/.ssh/id_ed25519 …`) and paste the output (only a trustee's issue may leave the signature empty: the registry bot signs it then)
    a version not published → `prelude@9.0.0` is not published: a tag names a published version, and published versions are `1.1.0`, `1.2.0`
    an unpublished version → `prelude@1.0.0` was unpublished on 2026-11-22: a tag names a published version, and published versions are `1.1.0`, `1.2.0`
    a yanked version → `prelude@1.1.0` is yanked (broken): a tag never names a yanked version; unyank it first, or point the tag at another version
    an unknown package → package `nope` is not in the registry: there is nothing to alias
    an unalias of an unknown package → package `nope` is not in the registry: there is nothing to unalias
    a signed Yank → the signed payload is a Yank: expected an Alias `{name, alias, version}` or an Unalias `{name, unalias}`
    a version as the tag → invalid `Alias` payload: invalid tag `1.2.0`: it is a version: expected a name that never reads as one (`NAME@1.0.0` always means the version)
    an uppercase tag → invalid `Alias` payload: invalid tag `Next`: unexpected character `N`: expected lowercase ASCII letters, digits, `-`, `.` and `_`
    a tag of 65 characters → invalid `Alias` payload: invalid tag `<65 a>`: 65 characters long: expected at most 64
    "#);
    assert_eq!((t.remote_heads(), t.stored()), before, "nothing is pushed");
    let e = alias::alias(&t.ctx(), &signed(&seeded(2), &text)).unwrap_err();
    assert!(matches!(e, AliasError::Authorize(_)), "{e}");
    let e = alias::alias(
        &t.ctx(),
        &signed(&owner, &alias_text("prelude", "next", "1.1.0")),
    )
    .unwrap_err();
    assert!(matches!(e, AliasError::Refused(_)), "{e}");

    // Years after publishing: the owner may (no window), and so may a trustee.
    let r = alias::alias(&at(&t, 3 * 365), &signed(&owner, &text)).unwrap();
    assert_eq!(r.signer.role, Role::Owner);
    let stable = alias_text("prelude", "stable", "1.2.0");
    let r = alias::alias(&at(&t, 10 * 365), &signed(&seeded(3), &stable)).unwrap();
    assert_eq!(r.signer.role, Role::Trustee);
    assert_eq!(metadata(&t, "prelude").aliases.len(), 2);
    audit_is_clean(&t);
}

#[test]
fn an_unpublish_takes_the_tags_naming_the_version_with_it() {
    let t = registry_with(&["1.0.0", "1.1.0"], |_| {});
    let owner = seeded(1);
    for (tag, version) in [("old", "1.0.0"), ("stable", "1.0.0"), ("next", "1.1.0")] {
        alias::alias(
            &t.ctx(),
            &signed(&owner, &alias_text("prelude", tag, version)),
        )
        .unwrap();
    }
    unpublish::unpublish(
        &t.ctx(),
        &signed(
            &owner,
            r#"{"name":"prelude","version":"1.0.0","reason":"broken"}"#,
        ),
    )
    .unwrap();
    let m = metadata(&t, "prelude");
    let tags: Vec<(&str, String)> = (m.aliases.iter())
        .map(|(tag, version)| (tag.as_str(), version.to_string()))
        .collect();
    assert_eq!(tags, [("next", "1.1.0".to_owned())]);
    audit_is_clean(&t);
}

/// The atom key's fixture: a registry keeping atoms, the key in its own tempdir.
fn with_atoms() -> (TestRegistry, tempfile::TempDir) {
    let keys = tempfile::tempdir().unwrap();
    let (_, secret) = regis::trust::SigningKey::generate();
    let path = regis::trust::write_private_key(keys.path(), "atom.pem", &secret).unwrap();
    let t = registry_with(&["1.0.0", "1.1.0"], |c| {
        c.trust_atom_key = Some(regis::trust::KeySource::File(path));
    });
    (t, keys)
}

fn head(t: &TestRegistry) -> AtomId {
    let text = testing::remote_file(&t.layout.registry_remote, "atoms/prelude").unwrap();
    AtomId::parse(&text).unwrap()
}

#[test]
fn the_atom_records_the_signed_alias_and_a_replay_is_refused() {
    let (t, _keys) = with_atoms();
    let owner = seeded(1);
    let first = signed(&owner, &alias_text("prelude", "next", "1.0.0"));
    alias::alias(&t.ctx(), &first).unwrap();
    let used = head(&t);
    let bytes = t.storage.get(&used.key(&prelude())).unwrap().unwrap();
    let atom: regis::atom::SignedAtom = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        (
            atom.signed.operation,
            atom.signed.version.clone(),
            atom.signed.payload.as_ref()
        ),
        (AtomOperation::Alias, Some(v("1.0.0")), Some(&first))
    );
    alias::alias(
        &t.ctx(),
        &signed(&owner, &alias_text("prelude", "next", "1.1.0")),
    )
    .unwrap();
    let unalias = signed(&owner, &unalias_text("prelude", "next"));
    alias::alias(&t.ctx(), &unalias).unwrap();
    let bytes = t.storage.get(&head(&t).key(&prelude())).unwrap().unwrap();
    let atom: regis::atom::SignedAtom = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        (atom.signed.operation, atom.signed.version),
        (AtomOperation::Unalias, None)
    );
    audit_is_clean(&t);

    // Anyone may post the first alias again: it would move the tag back.
    let before = (t.remote_heads(), t.stored());
    let e = alias::alias(&t.ctx(), &first).unwrap_err();
    let AliasError::Atom(AtomError::Replayed { id, operation, .. }) = &e else {
        panic!("{e:?}")
    };
    assert_eq!((*id, *operation), (used, AtomOperation::Alias));
    insta::assert_snapshot!(
        e.to_string().replace(&used.to_string(), "<atom>"),
        @"this signed payload was already carried out on `prelude`: atom `<atom>` records it, for the alias at `2026-11-22T10:00:00.000Z`; a signed text is accepted once, so to ask again, sign the request anew with `regis sign` (which puts the time of signing in `signedAt`)"
    );
    assert_eq!(
        (t.remote_heads(), t.stored()),
        before,
        "nothing is pushed or stored"
    );
    assert!(metadata(&t, "prelude").aliases.is_empty());
    // The unalias again changes nothing, and is no refusal.
    let again = alias::alias(&t.ctx(), &unalias).unwrap();
    assert_eq!(again.metadata, CommitOutcome::Unchanged);
}

/// On a registry with a TUF repository, an alias's atom is a signed target, and every
/// release still verifies.
#[test]
fn an_alias_atom_is_a_tuf_target() {
    let tuf = tuf_fixture::adopted();
    tuf.release("prelude", "1.1.0");
    alias::alias(
        &tuf.t.ctx(),
        &tuf_fixture::signed(&alias_text("prelude", "next", "1.0.0")),
    )
    .unwrap();
    let id = head(&tuf.t);
    let client = tuf.client().unwrap();
    let target = client.target(id.key(&prelude()).as_str()).unwrap();
    assert_eq!(
        target.length,
        tuf.stored(id.key(&prelude()).as_str()).len() as u64
    );
    let found = tuf.verify();
    assert_eq!(found.problems, Vec::<String>::new());
    assert_eq!((found.tarballs, found.atoms, found.chains), (2, 3, 1));
    tuf.fetch("prelude", "1.0.0").unwrap();
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

/// An owner's signed alias, and a trustee's unsigned unalias the bot signs, through the
/// issue flow: answered, closed, written.
#[test]
fn the_issue_flow_sets_and_removes_a_tag() {
    let bot_pem = testing::seeded_key(7);
    let bot = SigningKey::from_openssh(&bot_pem, None).unwrap().public();
    let t = registry_with(&["1.0.0", "1.1.0"], |c| {
        c.bot_public_key = Some(bot);
        c.trustee_team = Some("test/trustees".parse().unwrap());
    });
    let gh = MemoryGitHub::new().with_member("test", "trustees", "tess");
    let request = signed(&seeded(1), &alias_text("prelude", "next", "1.1.0"));
    let body = format!(
        "### Signed alias\n\n```json\n{}\n```\n",
        serde_json::to_string(&request).unwrap()
    );
    let processed = issue::process(&t.ctx(), &gh, &opened("olly", &body), None, None).unwrap();
    assert!(processed.success, "{}", processed.headline);
    assert_eq!(processed.headline, "`prelude@next` names `1.1.0`");
    assert!(
        gh.comments()[0].1.starts_with(
            "Working on the alias of `prelude@next` to `1.1.0`, as requested by @olly."
        ),
        "{:?}",
        gh.comments()
    );
    assert!(processed.report.starts_with("prelude@next names 1.1.0\n"));
    assert_eq!(gh.closed().len(), 1);
    assert_eq!(metadata(&t, "prelude").aliases.len(), 1);

    // Unsigned: refused for anyone, signed by the bot for a trustee.
    let unsigned = serde_json::json!({
        "payload": unalias_text("prelude", "next"),
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
    insta::assert_snapshot!(processed.headline, @"the removal of the alias `prelude@next` failed: the unalias of `prelude` is not signed: sign the payload with an owner's SSH key (`regis sign --key ~/.ssh/id_ed25519 …`) and paste the output (only a trustee's issue may leave the signature empty: the registry bot signs it then)");
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
    assert_eq!(processed.headline, "`prelude@next` names no version");
    assert!(
        processed
            .full_comment
            .contains("the registry bot signed it for them")
    );
    match &processed.result {
        Some(issue::OperationReport::Alias(r)) => assert_eq!(r.signer.role, Role::Bot),
        other => panic!("{other:?}"),
    }
    assert!(metadata(&t, "prelude").aliases.is_empty());
}

/// `regis ARGS` with none of the variables a developer's shell may hold.
fn regis(args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_regis"));
    command.args(args);
    for var in ["REGIS_REGISTRY", "REGIS_INDEX", "REGIS_STORAGE"] {
        command.env_remove(var);
    }
    command.output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn write(dir: &Path, name: &str, body: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn regis_alias_signs_and_runs_and_regis_sign_builds_both_payloads() {
    let t = registry_with(&["1.0.0", "1.1.0"], |_| {});
    let tmp = tempfile::tempdir().unwrap();
    let key = write(tmp.path(), "key", &testing::seeded_key(1));
    let registry = t.layout.registry.to_str().unwrap();
    let on = |args: &[&str]| {
        let all: Vec<&str> = ["--registry", registry]
            .iter()
            .chain(args)
            .copied()
            .collect();
        regis(&all)
    };
    let out = on(&["alias", "set", "prelude", "next", "1.1.0", "--key", &key]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    assert!(
        printed.starts_with("prelude@next names 1.1.0\n  signed by an owner"),
        "{printed}"
    );
    assert_eq!(metadata(&t, "prelude").aliases.len(), 1);
    let out = on(&["alias", "rm", "prelude", "next", "--key", &key]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("prelude@next removed\n  was       1.1.0\n"));
    assert!(metadata(&t, "prelude").aliases.is_empty());

    // Signed apart, then run: `regis sign alias` and `unalias`, as an issue takes them.
    let sign = |args: &[&str]| {
        let all: Vec<&str> = ["sign", "--key", key.as_str()]
            .iter()
            .chain(args)
            .copied()
            .collect();
        let out = regis(&all);
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    let signed_alias = sign(&["alias", "prelude", "stable", "1.0.0"]);
    let payload: Authenticated = serde_json::from_str(&signed_alias).unwrap();
    assert!(
        payload
            .payload
            .starts_with(r#"{"name":"prelude","alias":"stable","version":"1.0.0","signedAt":""#),
        "{}",
        payload.payload
    );
    let file = write(tmp.path(), "alias.json", &signed_alias);
    let out = on(&["alias", "run", &file]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(metadata(&t, "prelude").aliases.len(), 1);
    let file = write(
        tmp.path(),
        "unalias.json",
        &sign(&["unalias", "prelude", "stable"]),
    );
    let out = on(&["alias", "run", &file]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(metadata(&t, "prelude").aliases.is_empty());

    // Refused: a payload `alias run` does not run, and an alias `regis yank` does not; a
    // tag that is a version, before anything is signed; a version not published.
    let heads = t.remote_heads();
    let yank = write(
        tmp.path(),
        "yank.json",
        &sign(&["yank", "prelude@1.0.0", "--reason", "broken"]),
    );
    let alias = write(
        tmp.path(),
        "alias2.json",
        &sign(&["alias", "prelude", "next", "1.0.0"]),
    );
    let tmp_path = tmp.path().to_str().unwrap();
    let refused = |case: &str, args: &[&str]| {
        let out = on(args);
        format!(
            "{case} ({}) → {}",
            out.status.code().unwrap(),
            text(&out.stderr).trim_end().replace(tmp_path, "<tmp>")
        )
    };
    let lines = [
        refused("alias run a signed Yank", &["alias", "run", &yank]),
        refused("yank a signed Alias", &["yank", &alias]),
        refused(
            "alias set a version as the tag",
            &["alias", "set", "prelude", "1.0.0", "1.0.0", "--key", &key],
        ),
        refused(
            "alias set a version not published",
            &["alias", "set", "prelude", "next", "9.0.0", "--key", &key],
        ),
        refused(
            "alias rm without a key",
            &["alias", "rm", "prelude", "next"],
        ),
    ];
    insta::assert_snapshot!(lines.join("\n"), @r"
    alias run a signed Yank (1) → error: `<tmp>/yank.json` holds a signed Yank: `regis alias run` expects a signed Alias `{name, alias, version}` or Unalias `{name, unalias}` (use `regis yank`)
    yank a signed Alias (1) → error: `<tmp>/alias2.json` holds a signed Alias: `regis yank` expects a signed Yank `{name, yank, reason}` or Unyank `{name, unyank}` (use `regis alias run`)
    alias set a version as the tag (2) → error: invalid value '1.0.0' for '<TAG>': invalid tag `1.0.0`: it is a version: expected a name that never reads as one (`NAME@1.0.0` always means the version)

    For more information, try '--help'.
    alias set a version not published (1) → error: could not alias `prelude@next` to `9.0.0`: `prelude@9.0.0` is not published: a tag names a published version, and published versions are `1.0.0`, `1.1.0`
    alias rm without a key (1) → error: no key to sign with: pass `--key PATH`, e.g. `--key ~/.ssh/id_ed25519`
    ");
    assert_eq!(t.remote_heads(), heads, "nothing is pushed");
}

/// `NAME@TAG` wherever a release is named: `regis solve` and `regis fetch` from the
/// checkouts (through TUF: storage holds no metadata, the registry checkout's resolves the
/// tag), and `regis fetch --from` a site, whose metadata carries the tags.
#[test]
fn name_at_tag_in_solve_and_fetch_from_the_checkouts_and_a_site() {
    let tuf = tuf_fixture::adopted();
    tuf.release("prelude", "1.1.0");
    let ctx = tuf.t.ctx();
    alias::alias(
        &ctx,
        &tuf_fixture::signed(&alias_text("prelude", "next", "1.1.0")),
    )
    .unwrap();
    yank::yank(
        &ctx,
        &tuf_fixture::signed(r#"{"name":"prelude","yank":"1.1.0","reason":"broken"}"#),
    )
    .unwrap();
    let registry = tuf.t.layout.registry.to_str().unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    let state = tuf.state.path().to_str().unwrap();
    let out_path = out_dir.path().to_str().unwrap();
    let fetch = |release: &str| {
        let out = regis(&[
            "--registry",
            registry,
            "fetch",
            release,
            "--out",
            out_path,
            "--state",
            state,
        ]);
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        (
            out.status.code().unwrap(),
            all.replace(out_path, "<out>")
                .replace(registry, "<registry>"),
        )
    };
    // A tag names what it was set to, yanked since; `latest` the newest version not yanked.
    let (code, out) = fetch("prelude@next");
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with("Fetched `prelude@1.1.0` (`prelude@next`) to <out>/prelude-1.1.0.tar.gz: "),
        "{out}"
    );
    assert_eq!(
        std::fs::read(out_dir.path().join("prelude-1.1.0.tar.gz")).unwrap(),
        tuf.stored("prelude/1.1.0.tar.gz")
    );
    let (code, out) = fetch("prelude@latest");
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with("Fetched `prelude@1.0.0` (`prelude@latest`) to "),
        "{out}"
    );
    let (code, beta) = fetch("prelude@beta");
    assert_eq!(code, 1);
    let (code, nothere) = fetch("nothere@next");
    assert_eq!(code, 1);
    insta::assert_snapshot!(beta + &nothere, @r"
    error: package `prelude` has no tag `beta`: its tags are `latest` (1.0.0), `next` (1.1.0)
    error: `nothere@next` names a tag, which the package's metadata resolves, and the registry checkout `<registry>` has no `metadata/nothere.json`: give a version, or fetch `--from` a site
    ");

    // regis solve, text and JSON.
    let solve = |args: &[&str]| {
        let all: Vec<&str> = ["--registry", registry, "solve"]
            .iter()
            .chain(args)
            .copied()
            .collect();
        let out = regis(&all);
        (
            out.status.code().unwrap(),
            text(&out.stdout),
            text(&out.stderr),
        )
    };
    let (code, stdout, stderr) = solve(&["prelude@next"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with("prelude@1.1.0 (next) with compiler "),
        "{stdout}"
    );
    let (code, stdout, stderr) = solve(&["prelude@latest", "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        (&doc["version"], &doc["tag"], &doc["solved"]),
        (
            &serde_json::json!("1.0.0"),
            &serde_json::json!("latest"),
            &serde_json::json!(true)
        )
    );
    let (_, _, beta) = solve(&["prelude@beta"]);
    let (code, _, nothere) = solve(&["nothere@next"]);
    assert_eq!(code, 2);
    insta::assert_snapshot!(beta + &nothere, @r"
    error: could not solve `prelude@beta`: package `prelude` has no tag `beta`: its tags are `latest` (1.0.0), `next` (1.1.0)
    error: could not solve `nothere@next`: `nothere` is not in the registry (no metadata file)
    ");

    // From a site: its metadata carries the tags; `regis list` shows them, and so does the
    // package's page.
    let t = site_client::registry();
    alias::alias(
        &t.ctx(),
        &tuf_fixture::signed(&alias_text("a", "stable", "1.2.0")),
    )
    .unwrap();
    let s = Served::start(&t.layout.registry, &t.layout.storage, None);
    let (out, code) = s.fetch("a@stable", &[]);
    assert_eq!(code, 0, "{out}");
    insta::assert_snapshot!(out, @r"
    Fetched `a@1.2.0` (`a@stable`) to <tmp>/out/a-1.2.0.tar.gz: 498 bytes, `<hash>`
      site: <site>/, the size and hash its metadata records, downloaded from <storage>/a/1.2.0.tar.gz
    warning: `a` is deprecated: `use b`, use `b` instead
    ");
    assert_eq!(
        s.fetched("a@1.2.0"),
        std::fs::read(t.layout.storage.join("a/1.2.0.tar.gz")).unwrap()
    );
    let (out, code) = s.fetch("a@latest", &["--json"]);
    assert_eq!(code, 0, "{out}");
    // The document, then the deprecation's warning as a JSON line.
    let doc: serde_json::Value = (serde_json::Deserializer::from_str(&out).into_iter())
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(
        (&doc["version"], &doc["tag"]),
        (&serde_json::json!("1.2.0"), &serde_json::json!("latest"))
    );
    let (out, code) = s.fetch("a@beta", &[]);
    assert_eq!(code, 1);
    insta::assert_snapshot!(out, @"error: package `a` has no tag `beta`: its tags are `latest` (1.2.0), `stable` (1.2.0)");
    let (out, code) = s.on_site(&["list", "a"]);
    assert_eq!(code, 0, "{out}");
    insta::assert_snapshot!(out, @r"
    `a` at github:test/a, read from <site>/
    deprecated on 2026-11-22: `use b`, use `b` instead
    1.2.0  2026-11-22  498 bytes  tags: `stable`
    1.1.0  2026-11-22  499 bytes  yanked: `broken on Windows`
    1.0.0  2026-11-22             unpublished on 2026-11-22: `published by mistake`
    ");
    let page = std::fs::read_to_string(s.site_dir.join("packages/a.html")).unwrap();
    assert!(
        page.contains(r##"<dt>Tags</dt><dd><ul class="inline-list tags"><li><code>stable</code> → <a href="#v-1.2.0">1.2.0</a></li></ul></dd>"##),
        "{page}"
    );
}

/// Every metadata file of the PureScript Registry's data: a tag adds `aliases` after the
/// registry's own keys, and removing it gives the same bytes.
#[test]
fn purescript_metadata_is_untouched_by_a_tag_removed() {
    let Some(root) = testing::purescript_fixtures() else {
        return;
    };
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
        assert!(m.aliases.is_empty(), "{rel_s}");
        let name: PackageName = rel.file_stem().unwrap().to_str().unwrap().parse().unwrap();
        let Some(version) = m.published.keys().next_back().cloned() else {
            continue;
        };
        let tag = "next".parse().unwrap();
        m.set_alias(&name, &tag, &version).unwrap();
        let tagged = m.to_json();
        assert!(tagged.starts_with(text.trim_end_matches("}\n")), "{rel_s}");
        assert_eq!(Metadata::from_json(&rel_s, &tagged).unwrap(), m);
        assert_eq!(
            m.resolve(&name, &"latest".parse().unwrap()),
            Ok(version.clone())
        );
        m.remove_alias(&tag);
        assert_eq!(m.to_json(), text, "{rel_s}");
        seen += 1;
    }
    assert!(seen > 100, "only {seen} metadata files");
}
