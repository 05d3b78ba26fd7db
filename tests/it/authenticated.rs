//! Transfer and unpublish end to end on real git repos, with keys made by `ssh-keygen`:
//! what each writes, and every refusal (wrong key, no owners, a payload altered for another
//! package, an expired window, stranded dependants) changing nothing.

use std::path::Path;

use regis::auth::{SignatureFormat, SigningKey};
use regis::git::CommitOutcome;
use regis::metadata::Metadata;
use regis::operation::Context;
use regis::operation::authorize::Role;
use regis::operation::publish::PublishError;
use regis::operation::transfer::{self, TransferError};
use regis::operation::unpublish::{self, UnpublishError};
use regis::payload::{Authenticated, Transfer};
use regis::schema::{Location, Owner, Timestamp};
use regis::testing::{self, NOW, TestRegistry, commits_on, ssh_keygen};

/// A registry whose `prelude@1.0.0` is owned by an ed25519 key made by ssh-keygen.
struct Fixture {
    t: TestRegistry,
    keys: tempfile::TempDir,
    owner: SigningKey,
}

fn fixture_with(edit: impl FnOnce(&mut regis::config::Config)) -> Option<Fixture> {
    let keys = tempfile::tempdir().unwrap();
    let (private, public) = ssh_keygen(keys.path(), "owner", &["-t", "ed25519"], "")?;
    let t = TestRegistry::with_config(edit);
    let mut p = t.package("prelude", "1.0.0", &[]);
    p.manifest.owners = Some(vec![Owner::from_openssh(&public).unwrap()]);
    t.release(&p);
    let owner = SigningKey::read(&private, None).unwrap();
    Some(Fixture { t, keys, owner })
}

fn fixture() -> Option<Fixture> {
    fixture_with(|_| {})
}

fn signed(key: &SigningKey, payload: &str) -> Authenticated {
    Authenticated {
        payload: payload.to_owned(),
        signature: key.sign(payload, SignatureFormat::Raw, "file").unwrap(),
    }
}

/// The canonical payload text of a Transfer to `github:<owner>/<repo>`.
fn transfer_payload(name: &str, owner: &str, repo: &str) -> String {
    serde_json::to_string(&Transfer {
        name: name.parse().unwrap(),
        new_location: Location::github(owner, repo, None).unwrap(),
        signed_at: None,
    })
    .unwrap()
}

fn unpublish_payload(name: &str, version: &str) -> String {
    format!(r#"{{"name":"{name}","version":"{version}","reason":"a broken build"}}"#)
}

fn metadata(t: &TestRegistry, name: &str) -> Metadata {
    let text =
        testing::remote_file(&t.layout.registry_remote, &format!("metadata/{name}.json")).unwrap();
    Metadata::from_json(name, &text).unwrap()
}

fn at(t: &TestRegistry, hours_after_publish: i64) -> Context<'_> {
    let now: Timestamp = NOW.parse().unwrap();
    Context {
        now: Timestamp::from_datetime(
            now.as_datetime() + chrono::Duration::hours(hours_after_publish),
        ),
        ..t.ctx()
    }
}

fn key(dir: &Path, file: &str) -> SigningKey {
    let (private, _) = ssh_keygen(dir, file, &["-t", "ed25519"], "").unwrap();
    SigningKey::read(&private, None).unwrap()
}

#[test]
fn an_owner_transfers_a_package_and_only_its_metadata_changes() {
    let Some(f) = fixture() else { return };
    let t = &f.t;
    let (index_before, stored_before) = (testing::remote_head(&t.layout.index_remote), t.stored());
    let text = transfer_payload("prelude", "new-home", "prelude");
    let report = transfer::transfer(&t.ctx(), &signed(&f.owner, &text)).unwrap();
    assert_eq!(report.signer.role, Role::Owner);
    assert_eq!(report.from.to_string(), "github:test/prelude");
    assert!(matches!(
        report.metadata,
        CommitOutcome::Committed { pushed: true, .. }
    ));

    let m = metadata(t, "prelude");
    assert_eq!(m.location.to_string(), "github:new-home/prelude");
    assert_eq!(m.published.len(), 1, "versions stay");
    assert_eq!(
        commits_on(&t.layout.registry_remote)[0],
        "Transfer prelude to github:new-home/prelude"
    );
    assert_eq!(testing::remote_head(&t.layout.index_remote), index_before);
    assert_eq!(t.stored(), stored_before);
    // The location lookup moved with it, in the same commit: the audit is clean.
    let registry = regis::store::RegistryDir::new(t.registry.workdir());
    let name = |n: &str| n.parse::<regis::schema::PackageName>().unwrap();
    assert_eq!(
        registry.location_holder(&m.location).unwrap(),
        Some(name("prelude"))
    );
    assert_eq!(registry.location_holder(&report.from).unwrap(), None);
    let index = regis::store::IndexDir::new(t.index.workdir());
    let audit = regis::check::run(&registry, &index, None, None).unwrap();
    assert!(audit.is_clean(), "{:?}", audit.findings);
    assert_eq!(t.registry.differences_from_head(), Vec::<String>::new());

    // The same payload again changes nothing.
    let again = transfer::transfer(&t.ctx(), &signed(&f.owner, &text)).unwrap();
    assert_eq!(again.metadata, CommitOutcome::Unchanged);
}

#[test]
fn transfer_refusals_change_nothing() {
    let Some(f) = fixture() else { return };
    let t = &f.t;
    // Another package, owned by a different key, lives at test/aff.
    let other_key = key(f.keys.path(), "other");
    let mut aff = t.package("aff", "1.0.0", &[]);
    aff.manifest.owners = Some(vec![other_key.public()]);
    t.release(&aff);
    let before = t.remote_heads();

    // A key that owns nothing here.
    let text = transfer_payload("prelude", "someone", "prelude");
    let stranger = key(f.keys.path(), "stranger");
    let e = transfer::transfer(&t.ctx(), &signed(&stranger, &text)).unwrap_err();
    assert!(matches!(e, TransferError::Authorize(_)), "{e}");
    insta::assert_snapshot!("transfer_by_a_stranger", regis::cli::error_chain(&e.into()));

    // The owner of `aff` signs a transfer of `prelude`: not an owner of prelude.
    let e = transfer::transfer(&t.ctx(), &signed(&other_key, &text)).unwrap_err();
    assert!(matches!(e, TransferError::Authorize(_)), "{e}");

    // A payload signed for `prelude`, replayed with the name changed to `aff`.
    let good = signed(&f.owner, &text);
    let aff_text = transfer_payload("aff", "someone", "prelude");
    let replayed = Authenticated {
        payload: aff_text,
        signature: good.signature.clone(),
    };
    let e = transfer::transfer(&t.ctx(), &replayed).unwrap_err();
    assert!(matches!(e, TransferError::Authorize(_)), "{e}");

    // The owner, but to a location another package holds.
    let text = transfer_payload("prelude", "test", "aff");
    let e = transfer::transfer(&t.ctx(), &signed(&f.owner, &text)).unwrap_err();
    insta::assert_snapshot!(e.to_string(), @"location `github:test/aff` already belongs to package `aff`: a location can hold only one package");

    // An empty signature, and a package nobody registered.
    let empty = Authenticated {
        payload: text.clone(),
        signature: String::new(),
    };
    let e = transfer::transfer(&t.ctx(), &empty).unwrap_err();
    assert!(e.to_string().contains("is not signed"), "{e}");
    let text = transfer_payload("nope", "test", "nope");
    let e = transfer::transfer(&t.ctx(), &signed(&f.owner, &text)).unwrap_err();
    insta::assert_snapshot!(e.to_string(), @"package `nope` is not in the registry: there is nothing to transfer");

    assert_eq!(t.remote_heads(), before);
}

#[test]
fn a_trustee_key_in_config_transfers_a_package_without_owners() {
    let keys = tempfile::tempdir().unwrap();
    let Some((private, public)) = ssh_keygen(keys.path(), "trustee", &["-t", "ecdsa"], "") else {
        return;
    };
    let t = TestRegistry::with_config(|c| c.trustees = vec![Owner::from_openssh(&public).unwrap()]);
    t.release(&t.package("prelude", "1.0.0", &[]));
    let trustee = SigningKey::read(&private, None).unwrap();
    let text = transfer_payload("prelude", "elsewhere", "prelude");
    let report = transfer::transfer(&t.ctx(), &signed(&trustee, &text)).unwrap();
    assert_eq!(report.signer.role, Role::Trustee);
    assert_eq!(
        metadata(&t, "prelude").location.to_string(),
        "github:elsewhere/prelude"
    );
}

#[test]
fn an_owner_unpublishes_within_the_window_and_the_version_is_gone_for_good() {
    let Some(f) = fixture() else { return };
    let t = &f.t;
    let index_file = "pr/el/prelude";
    assert!(testing::remote_file(&t.layout.index_remote, index_file).is_some());
    let text = unpublish_payload("prelude", "1.0.0");
    let ctx = at(t, 47);
    let report = unpublish::unpublish(&ctx, &signed(&f.owner, &text)).unwrap();
    assert_eq!(report.signer.role, Role::Owner);
    assert!(report.tarball_deleted);

    // Index: the only version's line (and so the file) is gone. Storage: the tarball too.
    assert_eq!(
        testing::remote_file(&t.layout.index_remote, index_file),
        None
    );
    assert!(t.stored().is_empty(), "{:?}", t.stored());
    // Metadata: moved to `unpublished` with both times.
    let m = metadata(t, "prelude");
    assert!(m.published.is_empty());
    let u = &m.unpublished[&"1.0.0".parse().unwrap()];
    assert_eq!(u.published_time.to_string(), NOW);
    assert_eq!(u.unpublished_time, ctx.now);
    assert_eq!(u.reason, "a broken build");
    for remote in [&t.layout.registry_remote, &t.layout.index_remote] {
        assert_eq!(commits_on(remote)[0], "Unpublish prelude@1.0.0");
    }

    // A re-run changes nothing; the version can never be published again.
    let before = t.remote_heads();
    let again = unpublish::unpublish(&ctx, &signed(&f.owner, &text)).unwrap();
    assert_eq!(
        (again.index, again.metadata, again.tarball_deleted),
        (CommitOutcome::Unchanged, CommitOutcome::Unchanged, false)
    );
    assert_eq!(t.remote_heads(), before);
    let p = t.package("prelude", "1.0.0", &[]);
    let e = t.publish(&p.payload(false)).unwrap_err();
    assert!(matches!(e, PublishError::Metadata(_)), "{e}");
    assert!(e.to_string().contains("can never be reused"), "{e}");

    // And `regis check` finds the stores consistent.
    let report = regis::check::run(
        &regis::store::RegistryDir::new(&t.layout.registry),
        &regis::store::IndexDir::new(&t.layout.index),
        Some(regis::storage::Stores::single(&t.storage)),
        None,
    )
    .unwrap();
    assert!(report.findings.is_empty(), "{:?}", report.findings);
}

#[test]
fn after_the_window_only_a_trustee_may_unpublish() {
    let keys = tempfile::tempdir().unwrap();
    let Some((trustee_private, trustee_public)) =
        ssh_keygen(keys.path(), "trustee", &["-t", "rsa"], "")
    else {
        return;
    };
    let Some(f) =
        fixture_with(|c| c.trustees = vec![Owner::from_openssh(&trustee_public).unwrap()])
    else {
        return;
    };
    let t = &f.t;
    let before = (t.remote_heads(), t.stored());
    let text = unpublish_payload("prelude", "1.0.0");
    let e = unpublish::unpublish(&at(t, 49), &signed(&f.owner, &text)).unwrap_err();
    assert!(matches!(e, UnpublishError::WindowClosed { .. }), "{e}");
    insta::assert_snapshot!(e.to_string(), @"`prelude@1.0.0` was published at 2026-11-22T10:00:00.000Z (49 hours ago): owners may unpublish a version only within 48 hours of publishing it; ask a trustee to do it");
    assert_eq!((t.remote_heads(), t.stored()), before);

    let trustee = SigningKey::read(&trustee_private, None).unwrap();
    let report = unpublish::unpublish(&at(t, 24 * 365), &signed(&trustee, &text)).unwrap();
    assert_eq!(report.signer.role, Role::Trustee);
    assert!(metadata(t, "prelude").published.is_empty());
}

#[test]
fn a_version_others_depend_on_is_not_unpublished() {
    let Some(f) = fixture() else { return };
    let t = &f.t;
    t.release(&t.package("aff", "1.0.0", &[("prelude", ">=1.0.0 <2.0.0")]));
    let before = (t.remote_heads(), t.stored());
    let text = unpublish_payload("prelude", "1.0.0");
    let e = unpublish::unpublish(&t.ctx(), &signed(&f.owner, &text)).unwrap_err();
    insta::assert_snapshot!(e.to_string(), @"`prelude@1.0.0` cannot be unpublished: `aff@1.0.0` (needs `>=1.0.0 <2.0.0`) would be left with no version of `prelude` in range; they must be unpublished first, or another version of `prelude` in their range published");
    assert_eq!((t.remote_heads(), t.stored()), before);

    // Once another version in range exists, it can go.
    let mut next = t.package("prelude", "1.1.0", &[]);
    next.manifest.owners = Some(vec![f.owner.public()]);
    t.release(&next);
    let report = unpublish::unpublish(&t.ctx(), &signed(&f.owner, &text)).unwrap();
    assert!(report.tarball_deleted);
    let index = testing::remote_file(&t.layout.index_remote, "pr/el/prelude").unwrap();
    assert_eq!(index.lines().count(), 1);
    assert!(index.contains("\"version\":\"1.1.0\""), "{index}");
}

#[test]
fn unpublish_refusals_change_nothing() {
    let Some(f) = fixture() else { return };
    let t = &f.t;
    let before = (t.remote_heads(), t.stored());
    let stranger = key(f.keys.path(), "stranger");
    let text = unpublish_payload("prelude", "1.0.0");
    let e = unpublish::unpublish(&t.ctx(), &signed(&stranger, &text)).unwrap_err();
    assert!(matches!(e, UnpublishError::Authorize(_)), "{e}");

    // Signed for 1.0.0, replayed for another version.
    let other_text = unpublish_payload("prelude", "2.0.0");
    let replayed = Authenticated {
        payload: other_text,
        signature: signed(&f.owner, &text).signature,
    };
    let e = unpublish::unpublish(&t.ctx(), &replayed).unwrap_err();
    assert!(matches!(e, UnpublishError::Authorize(_)), "{e}");

    // A version that was never published.
    let text = unpublish_payload("prelude", "2.0.0");
    let e = unpublish::unpublish(&t.ctx(), &signed(&f.owner, &text)).unwrap_err();
    insta::assert_snapshot!(e.to_string(), @"`prelude@2.0.0` is not published: published versions are `1.0.0`");
    assert_eq!((t.remote_heads(), t.stored()), before);
}

#[test]
fn a_version_in_the_latest_package_set_is_not_unpublished() {
    let Some(f) = fixture() else { return };
    let t = &f.t;
    let update: regis::payload::PackageSetUpdate =
        serde_json::from_str(r#"{"packages": {"prelude": "1.0.0"}}"#).unwrap();
    regis::operation::package_set::update(
        &t.ctx(),
        &update,
        regis::package_set::Authority::Trustee,
        &regis::operation::package_set::Silent,
    )
    .unwrap();
    let before = (t.remote_heads(), t.stored());
    let e = unpublish::unpublish(
        &t.ctx(),
        &signed(&f.owner, &unpublish_payload("prelude", "1.0.0")),
    )
    .unwrap_err();
    insta::assert_snapshot!(e.to_string(), @"`prelude@1.0.0` is in the latest package set `0.1.0`: a trustee must remove or update it there (a package set update) before it can be unpublished");
    // A signed Transfer is not an Unpublish, whatever the caller meant.
    let e = unpublish::unpublish(
        &t.ctx(),
        &signed(&f.owner, &transfer_payload("prelude", "a", "b")),
    )
    .unwrap_err();
    assert!(matches!(e, UnpublishError::NotAnUnpublish { .. }), "{e}");
    assert_eq!((t.remote_heads(), t.stored()), before);
}

/// A key made from a fixed seed (its text is the same on every run).
fn seeded(seed: u8) -> SigningKey {
    SigningKey::from_openssh(&testing::seeded_key(seed), None).unwrap()
}

/// The refusals of transfer and unpublish that no other test pins in full, as `regis`
/// prints them (the error chain): each changes nothing.
#[test]
fn every_other_refusal_reads_in_full() {
    let t = TestRegistry::new();
    let owner = seeded(1);
    let mut p = t.package("prelude", "1.0.0", &[]);
    p.manifest.owners = Some(vec![owner.public()]);
    t.release(&p);
    t.release(&t.package("ownerless", "1.0.0", &[]));
    let before = (t.remote_heads(), t.stored());

    let transfer_text = transfer_payload("prelude", "someone", "prelude");
    let unpublish_text = unpublish_payload("prelude", "1.0.0");
    let raw = |payload: &str| Authenticated {
        payload: payload.to_owned(),
        signature: "00".to_owned(),
    };
    let unsigned = |payload: &str| Authenticated {
        payload: payload.to_owned(),
        signature: String::new(),
    };
    let transfer = |case: &str, signed: &Authenticated| {
        let e = transfer::transfer(&t.ctx(), signed).expect_err(case);
        format!("transfer, {case} → {}", regis::error_chain(&e))
    };
    let unpublish = |case: &str, signed: &Authenticated| {
        let e = unpublish::unpublish(&t.ctx(), signed).expect_err(case);
        format!("unpublish, {case} → {}", regis::error_chain(&e))
    };
    let lines = [
        transfer("a payload that is not JSON", &raw("prelude")),
        transfer("a signed Unpublish", &signed(&owner, &unpublish_text)),
        transfer("no signature", &unsigned(&transfer_text)),
        transfer(
            "a package without owners",
            &signed(
                &owner,
                &transfer_payload("ownerless", "someone", "ownerless"),
            ),
        ),
        unpublish("a signed Transfer", &signed(&owner, &transfer_text)),
        unpublish("no signature", &unsigned(&unpublish_text)),
        unpublish(
            "a package nobody registered",
            &signed(&owner, &unpublish_payload("nope", "1.0.0")),
        ),
        unpublish(
            "an empty reason",
            &signed(
                &owner,
                r#"{"name":"prelude","version":"1.0.0","reason":""}"#,
            ),
        ),
        unpublish("another key", &signed(&seeded(2), &unpublish_text)),
    ];
    insta::assert_snapshot!(lines.join("\n"), @r"
        transfer, a payload that is not JSON → the payload is not valid JSON: expected value at line 1 column 1
        transfer, a signed Unpublish → the signed payload is an Unpublish: expected a Transfer `{name, newLocation}`
        transfer, no signature → the transfer of `prelude` is not signed: sign the payload with an owner's SSH key (`regis sign --key ~/.ssh/id_ed25519 …`) and paste the output (only a trustee's issue may leave the signature empty: the registry bot signs it then)
        transfer, a package without owners → the signature on the transfer of `ownerless` is not from an owner of the package or a trustee (the package lists no owners): there are no keys to check the signature with: expected at least one owner key
        unpublish, a signed Transfer → the signed payload is a Transfer: expected an Unpublish `{name, version, reason}`
        unpublish, no signature → the unpublish of `prelude` is not signed: sign the payload with an owner's SSH key (`regis sign --key ~/.ssh/id_ed25519 …`) and paste the output (only a trustee's issue may leave the signature empty: the registry bot signs it then)
        unpublish, a package nobody registered → package `nope` is not in the registry: there is nothing to unpublish
        unpublish, an empty reason → invalid `Unpublish` payload: `reason` is empty: say why the version is unpublished
        unpublish, another key → the signature on the unpublish of `prelude` is not from an owner of the package or a trustee (the package lists 1 owner): the signature does not match the payload for the 1 key tried (`ssh-ed25519` `SHA256:fe85JkIjo8VPe+XqXJGH5Mau1EMFdK1OdKvJUFicyA8`): the payload must be signed exactly as given, with an owner's key
        ");
    assert_eq!((t.remote_heads(), t.stored()), before);
}

/// An unpublish whose index line is gone but whose metadata push is rejected says what
/// landed and what did not, and the same payload run again finishes it.
#[test]
fn an_unpublish_stopped_between_steps_says_what_landed_and_a_rerun_finishes_it() {
    use std::os::unix::fs::PermissionsExt;
    let t = TestRegistry::new();
    let owner = seeded(1);
    let mut p = t.package("prelude", "1.0.0", &[]);
    p.manifest.owners = Some(vec![owner.public()]);
    t.release(&p);
    let hook = t.layout.registry_remote.join("hooks/pre-receive");
    std::fs::create_dir_all(hook.parent().unwrap()).unwrap();
    std::fs::write(
        &hook,
        "#!/bin/sh\necho the registry is closed today >&2\nexit 1\n",
    )
    .unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    let request = signed(&owner, &unpublish_payload("prelude", "1.0.0"));
    let e = unpublish::unpublish(&t.ctx(), &request).unwrap_err();
    let text = regis::error_chain(&e).replace(
        &t.layout.registry_remote.display().to_string(),
        "<registry>",
    );
    insta::assert_snapshot!(text, @"`prelude@1.0.0` is not fully unpublished: the index line is removed, but the metadata's record of the unpublish did not land; run the same payload again to finish it: push of `main` to `<registry>` was rejected: [remote rejected] (pre-receive hook declined)");
    assert!(testing::remote_file(&t.layout.index_remote, "pr/el/prelude").is_none());
    std::fs::remove_file(&hook).unwrap();
    unpublish::unpublish(&t.ctx(), &request).unwrap();
    let metadata = testing::remote_file(&t.layout.registry_remote, "metadata/prelude.json");
    assert!(metadata.unwrap().contains("unpublished"));
}
