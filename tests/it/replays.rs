//! No replays: on a registry with an atom key (`trustAtomKey`) a signed text the package's
//! atom chain already records is refused when it would change metadata (a Transfer moved
//! back, a Yank undone), names the atom that used it, and changes nothing; the same request
//! signed again by `regis sign` (a new `signedAt`) is carried out; a replay that would
//! change nothing (an unpublish, a yank already in place) is a no-op. Without an atom key
//! nothing records what was signed, and a replay is carried out as before.

use std::path::{Path, PathBuf};
use std::process::Command;

use regis::atom::{AtomError, AtomId, AtomOperation};
use regis::auth::{SignatureFormat, SigningKey as OwnerKey};
use regis::git::CommitOutcome;
use regis::metadata::Metadata;
use regis::operation::transfer::{self, TransferError};
use regis::operation::unpublish;
use regis::operation::yank::{self, YankError};
use regis::payload::Authenticated;
use regis::storage::Storage;
use regis::testing::{self, TestRegistry};
use regis::trust::{KeySource, SigningKey, write_private_key};

fn owner() -> OwnerKey {
    OwnerKey::from_openssh(&testing::seeded_key(1), None).unwrap()
}

fn signed(payload: &str) -> Authenticated {
    Authenticated {
        payload: payload.to_owned(),
        signature: owner().sign(payload, SignatureFormat::Raw, "file").unwrap(),
    }
}

const AWAY: &str =
    r#"{"name":"prelude","newLocation":{"githubOwner":"test","githubRepo":"prelude-moved"}}"#;
const BACK: &str =
    r#"{"name":"prelude","newLocation":{"githubOwner":"test","githubRepo":"prelude"}}"#;

/// A registry with `prelude@1.0.0` and `prelude@1.1.0` published by `owner()`, keeping
/// atoms when `atoms` (the key in its own tempdir, outside every git work tree).
struct Fixture {
    t: TestRegistry,
    _keys: tempfile::TempDir,
}

fn fixture(atoms: bool) -> Fixture {
    let keys = tempfile::tempdir().unwrap();
    let (_, secret) = SigningKey::generate();
    let path = write_private_key(keys.path(), "atom.pem", &secret).unwrap();
    let t = TestRegistry::with_config(|c| {
        if atoms {
            c.trust_atom_key = Some(KeySource::File(path));
        }
    });
    for version in ["1.0.0", "1.1.0"] {
        let mut p = t.package("prelude", version, &[]);
        p.manifest.owners = Some(vec![owner().public()]);
        t.release(&p);
    }
    Fixture { t, _keys: keys }
}

fn metadata(t: &TestRegistry) -> Metadata {
    let text = testing::remote_file(&t.layout.registry_remote, "metadata/prelude.json").unwrap();
    Metadata::from_json("prelude", &text).unwrap()
}

fn head(t: &TestRegistry) -> AtomId {
    let text = testing::remote_file(&t.layout.registry_remote, "atoms/prelude").unwrap();
    AtomId::parse(&text).unwrap()
}

/// The previous atom of `id`.
fn previous(t: &TestRegistry, id: AtomId) -> AtomId {
    let bytes = (t.storage.get(&id.key(&"prelude".parse().unwrap())))
        .unwrap()
        .unwrap();
    let atom: regis::atom::SignedAtom = serde_json::from_slice(&bytes).unwrap();
    atom.signed.previous.unwrap()
}

/// Everything a refusal must leave as it was: both remotes and storage.
fn state(t: &TestRegistry) -> ((String, String), Vec<PathBuf>) {
    (t.remote_heads(), t.stored())
}

/// `regis sign --key <owner> ARGS` at the time `now` (`REGIS_NOW`): the signed payload.
fn regis_sign(dir: &Path, now: &str, args: &[&str]) -> Authenticated {
    let key = dir.join("owner");
    std::fs::write(&key, testing::seeded_key(1)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_regis"))
        .args(["sign", "--key"])
        .arg(&key)
        .args(args)
        .env("REGIS_NOW", now)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_transfer_posted_again_after_the_package_moved_back_is_refused() {
    let Fixture { t, _keys } = fixture(true);
    let away = signed(AWAY);
    transfer::transfer(&t.ctx(), &away).unwrap();
    let used = head(&t);
    transfer::transfer(&t.ctx(), &signed(BACK)).unwrap();
    let back = head(&t);
    assert_eq!(previous(&t, back), used);
    assert_eq!(metadata(&t).location.to_string(), "github:test/prelude");

    // Anyone may post the first transfer again: it would move the package away once more.
    let before = state(&t);
    let e = transfer::transfer(&t.ctx(), &away).unwrap_err();
    let TransferError::Atom(AtomError::Replayed { id, operation, .. }) = &e else {
        panic!("{e:?}")
    };
    assert_eq!((*id, *operation), (used, AtomOperation::Transfer));
    insta::assert_snapshot!(
        e.to_string().replace(&used.to_string(), "<atom>"),
        @"this signed payload was already carried out on `prelude`: atom `<atom>` records it, for the transfer at `2026-11-22T10:00:00.000Z`; a signed text is accepted once, so to ask again, sign the request anew with `regis sign` (which puts the time of signing in `signedAt`)"
    );
    assert_eq!(state(&t), before, "nothing is pushed or stored");
    assert_eq!(metadata(&t).location.to_string(), "github:test/prelude");
    // The package's own transfer back, posted again, changes nothing and is no refusal.
    let again = transfer::transfer(&t.ctx(), &signed(BACK)).unwrap();
    assert_eq!(again.metadata, CommitOutcome::Unchanged);
    assert_eq!(state(&t), before);

    // The owner asks for the same move again with `regis sign`: a new `signedAt`, a new text.
    let tmp = tempfile::tempdir().unwrap();
    let args = ["transfer", "prelude", "--to-github", "test/prelude-moved"];
    let resigned = regis_sign(tmp.path(), "2026-11-23T08:00:00.000Z", &args);
    assert_eq!(
        resigned.payload,
        r#"{"name":"prelude","newLocation":{"githubOwner":"test","githubRepo":"prelude-moved"},"signedAt":"2026-11-23T08:00:00.000Z"}"#
    );
    let report = transfer::transfer(&t.ctx(), &resigned).unwrap();
    assert!(matches!(report.metadata, CommitOutcome::Committed { .. }));
    assert_eq!(
        metadata(&t).location.to_string(),
        "github:test/prelude-moved"
    );
    assert_eq!(previous(&t, head(&t)), back, "one more atom");
}

#[test]
fn a_yank_posted_again_after_its_unyank_is_refused_and_one_already_in_place_is_a_no_op() {
    let Fixture { t, _keys } = fixture(true);
    let yank_payload = signed(r#"{"name":"prelude","yank":"1.0.0","reason":"broken"}"#);
    yank::yank(&t.ctx(), &yank_payload).unwrap();
    let used = head(&t);
    // Posted again while the yank stands: nothing to do, no refusal, no atom.
    let before = state(&t);
    let again = yank::yank(&t.ctx(), &yank_payload).unwrap();
    assert_eq!(again.metadata, CommitOutcome::Unchanged);
    assert_eq!(state(&t), before);

    yank::yank(&t.ctx(), &signed(r#"{"name":"prelude","unyank":"1.0.0"}"#)).unwrap();
    let before = state(&t);
    let e = yank::yank(&t.ctx(), &yank_payload).unwrap_err();
    assert!(
        matches!(&e, YankError::Atom(AtomError::Replayed { id, operation: AtomOperation::Yank, .. }) if *id == used),
        "{e:?}"
    );
    assert_eq!(state(&t), before, "nothing is pushed or stored");
    assert!(metadata(&t).yanked.is_empty());
    // The same yank signed anew is carried out.
    let tmp = tempfile::tempdir().unwrap();
    let args = ["yank", "prelude@1.0.0", "--reason", "broken"];
    let resigned = regis_sign(tmp.path(), "2026-11-23T08:00:00.000Z", &args);
    yank::yank(&t.ctx(), &resigned).unwrap();
    assert_eq!(metadata(&t).yanked.len(), 1);
}

#[test]
fn an_unpublish_posted_again_changes_nothing() {
    let Fixture { t, _keys } = fixture(true);
    let payload = signed(r#"{"name":"prelude","version":"1.1.0","reason":"a broken build"}"#);
    unpublish::unpublish(&t.ctx(), &payload).unwrap();
    let (before, chain) = (state(&t), head(&t));
    // A version is never published again, so the replay has nothing left to do.
    let again = unpublish::unpublish(&t.ctx(), &payload).unwrap();
    assert_eq!(
        (again.index, again.metadata, again.tarball_deleted),
        (CommitOutcome::Unchanged, CommitOutcome::Unchanged, false)
    );
    assert_eq!(state(&t), before);
    assert_eq!(head(&t), chain, "no atom for a change that did not happen");
    let m = metadata(&t);
    assert_eq!(
        (m.published.len(), m.unpublished.len()),
        (1, 1),
        "1.0.0 stays, 1.1.0 stays unpublished"
    );
}

#[test]
fn without_an_atom_key_a_replay_is_carried_out_as_before() {
    let Fixture { t, _keys } = fixture(false);
    let away = signed(AWAY);
    transfer::transfer(&t.ctx(), &away).unwrap();
    transfer::transfer(&t.ctx(), &signed(BACK)).unwrap();
    // Nothing recorded the first transfer: it moves the package away again.
    let report = transfer::transfer(&t.ctx(), &away).unwrap();
    assert!(matches!(report.metadata, CommitOutcome::Committed { .. }));
    assert_eq!(
        metadata(&t).location.to_string(),
        "github:test/prelude-moved"
    );
    assert_eq!(
        testing::remote_file(&t.layout.registry_remote, "atoms/prelude"),
        None
    );
}
