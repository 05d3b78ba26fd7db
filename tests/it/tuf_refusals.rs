//! Every refusal of the TUF client (`regis fetch`, `regis verify`), of `--adopt` and of an
//! operation that re-signs the TUF repository, made to happen for real and read in full
//! (the refusals `tuf.rs` pins on its way are listed in `docs/refusals.md` there).

use regis::operation::client::{self, Client, Origin};
use regis::operation::verify;
use regis::schema::Sha256;
use regis::testing;
use regis::trust::{self, KeySource, Role};

use regis::atom::AtomId;

use super::tuf_fixture::{adopted, far, key_of, redact, signing_key, target_of, with_tuf_atoms};

#[test]
fn a_source_that_is_neither_a_directory_nor_a_url_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("missing");
    let e = Origin::parse("ftp://x").unwrap_err();
    assert_eq!(
        e.to_string(),
        "`ftp://x` is neither a directory nor an http(s) URL"
    );
    let e = Origin::parse(missing.to_str().unwrap()).unwrap_err();
    assert_eq!(
        redact(&e.to_string(), &[(tmp.path(), "<tmp>")]),
        "`<tmp>/missing` is neither a directory nor an http(s) URL"
    );
}

#[test]
fn without_a_pinned_root_nothing_is_loaded() {
    let tmp = tempfile::tempdir().unwrap();
    let e = client::pinned_root(None, tmp.path()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "no pinned root: pass `--root FILE` (a root.json you trust, version 1 or later), or run inside a registry checkout that has `tuf/root/1.root.json`"
    );
    // `--root` naming a directory: the system's reason follows.
    let e = client::pinned_root(Some(tmp.path()), tmp.path()).unwrap_err();
    assert_eq!(
        redact(&regis::error_chain(&e), &[(tmp.path(), "<tmp>")]),
        "could not read the pinned root `<tmp>`: Is a directory (os error 21)"
    );
}

#[test]
fn a_state_directory_that_cannot_be_made_is_refused() {
    let tuf = adopted();
    let file = tuf.state.path().join("file");
    std::fs::write(&file, b"").unwrap();
    let e = Client::load(tuf.origin(), &tuf.root(), &file)
        .err()
        .unwrap();
    assert_eq!(
        redact(&regis::error_chain(&e), &[(tuf.state.path(), "<state>")]),
        "could not make the directory `<state>/file` that keeps the last verified metadata: File exists (os error 17)"
    );
}

#[test]
fn a_target_storage_lost_is_missing() {
    let tuf = adopted();
    std::fs::remove_file(tuf.t.layout.storage.join("prelude/1.0.0.tar.gz")).unwrap();
    let e = tuf.fetch("prelude", "1.0.0").unwrap_err();
    assert_eq!(
        tuf.message(&e),
        "storage does not serve the target `prelude/1.0.0.tar.gz`, which signed metadata lists"
    );
}

/// A release published before the registry had an atom key names no atom, and verifies
/// through TUF alone; a release of a package that has atoms must name its own.
#[test]
fn a_target_without_an_atom_is_refused_when_the_package_has_atoms() {
    let tuf = with_tuf_atoms(false);
    let a = verify::adopt(&tuf.t.ctx()).unwrap();
    assert_eq!((a.tarballs, a.atoms), (1, 0));
    let fetched = tuf.fetch("prelude", "1.0.0").unwrap();
    assert_eq!(fetched.atoms.len(), 0);
    // With atoms on, 1.1.0 gets one; a holder of the online keys lists 9.9.9 without.
    let mut tuf = tuf;
    tuf.t.config.trust_atom_key = Some(KeySource::File(key_of(&tuf.init, Role::Atom)));
    tuf.release("prelude", "1.1.0");
    tuf.fetch("prelude", "1.1.0").unwrap();
    let bytes = b"a tarball the attacker made".to_vec();
    tuf.put("prelude/9.9.9.tar.gz", &bytes);
    tuf.sign_changes(&[trust::Change {
        path: "prelude/9.9.9.tar.gz".to_owned(),
        target: Some(target_of(&bytes, None)),
    }]);
    let e = tuf.fetch("prelude", "9.9.9").unwrap_err();
    assert_eq!(
        tuf.message(&e),
        "the target `prelude/9.9.9.tar.gz` names no atom (`custom.atom`), and the package has atoms: the registry records an atom for every publish since it kept atoms"
    );
}

/// A holder of the online keys lists a tarball naming an atom that no metadata lists.
#[test]
fn a_target_naming_an_atom_that_is_not_a_target_is_refused() {
    let tuf = adopted();
    let bytes = b"a tarball the attacker made".to_vec();
    tuf.put("prelude/9.9.9.tar.gz", &bytes);
    let atom = "a".repeat(64);
    tuf.sign_changes(&[trust::Change {
        path: "prelude/9.9.9.tar.gz".to_owned(),
        target: Some(target_of(&bytes, Some(&atom))),
    }]);
    let e = tuf.fetch("prelude", "9.9.9").unwrap_err();
    assert_eq!(
        tuf.message(&e),
        "the target `prelude/9.9.9.tar.gz` names the atom `<sha256>`, which is not a target"
    );
}

/// A holder of the online keys points `1.1.0`'s target at the real publish atom of
/// `1.0.0`.
#[test]
fn a_target_naming_the_atom_of_another_release_is_refused() {
    let tuf = adopted();
    tuf.release("prelude", "1.1.0");
    let client = tuf.client().unwrap();
    let first = client.target("prelude/1.0.0.tar.gz").unwrap();
    let atom = first.custom["atom"].as_str().unwrap().to_owned();
    assert!(AtomId::parse(&atom).is_some());
    let new = tuf.stored("prelude/1.1.0.tar.gz");
    tuf.sign_changes(&[trust::Change {
        path: "prelude/1.1.0.tar.gz".to_owned(),
        target: Some(target_of(&new, Some(&atom))),
    }]);
    let old = tuf.stored("prelude/1.0.0.tar.gz");
    let e = tuf.fetch("prelude", "1.1.0").unwrap_err();
    assert_eq!(
        tuf.message(&e),
        format!(
            "the atom `<sha256>` of `prelude` does not record this release: it records a publish of `1.0.0` with `{}` ({} bytes), not a publish of `1.1.0` with `{}` ({} bytes)",
            Sha256::of(&old),
            old.len(),
            Sha256::of(&new),
            new.len()
        )
    );
}

/// tough reads root versions after the pinned one; regis reads every version again for
/// the atom keys, and storage's version 1 must be the pinned version 1.
#[test]
fn a_root_storage_serves_unlike_the_pinned_one_is_refused() {
    let tuf = adopted();
    tuf.client().unwrap();
    let mut other: tough::schema::Signed<tough::schema::Root> =
        serde_json::from_slice(&tuf.root()).unwrap();
    other.signed.expires = far() + jiff::SignedDuration::from_hours(24);
    trust::sign_root(&mut other, None, &[signing_key(&tuf.init, Role::Root)]);
    tuf.put("tuf/1.root.json", &trust::file_bytes(&other));
    assert_eq!(
        tuf.message(&tuf.client().err().unwrap()),
        "storage's root version 1 (`tuf/1.root.json`) is refused: its signed part differs from the pinned root of that version"
    );
    tuf.put("tuf/1.root.json", b"not json");
    assert_eq!(
        tuf.message(&tuf.client().err().unwrap()),
        "storage's root version 1 (`tuf/1.root.json`) is refused: not a root.json: expected ident at line 1 column 2"
    );
    std::fs::remove_file(tuf.t.layout.storage.join("tuf/1.root.json")).unwrap();
    assert_eq!(
        tuf.message(&tuf.client().err().unwrap()),
        "storage's root version 1 (`tuf/1.root.json`) is refused: it is missing"
    );
}

/// `ClientError::AtomKeys` cannot be reached: the root chain regis checks before it reads
/// atom keys parses each version's `regis` field, and refuses a version it cannot read.
#[test]
fn a_root_whose_regis_field_is_unreadable_is_refused_with_the_chain() {
    let tuf = adopted();
    let v1: tough::schema::Signed<tough::schema::Root> =
        serde_json::from_slice(&tuf.root()).unwrap();
    let mut v2 = v1.clone();
    v2.signed.version = v2.signed.version.saturating_add(1);
    v2.signed
        ._extra
        .insert("regis".to_owned(), serde_json::json!("no keys here"));
    v2.signatures.clear();
    trust::sign_root(
        &mut v2,
        Some(&v1.signed),
        &[signing_key(&tuf.init, Role::Root)],
    );
    tuf.put("tuf/2.root.json", &trust::file_bytes(&v2));
    assert_eq!(
        tuf.message(&tuf.client().err().unwrap()),
        "`2.root.json` is not a root.json: `regis`: invalid type: string \"no keys here\", expected struct Extension"
    );
}

/// A registry with a TUF repository whose config lacks an online key refuses every
/// operation before it writes anything.
#[test]
fn an_operation_without_the_online_keys_is_refused_whole() {
    let mut tuf = adopted();
    tuf.t.config.trust_timestamp_key = None;
    let p = tuf.package("prelude", "1.1.0");
    tuf.t.push_source(&p);
    let registry_files = testing::files_below(&tuf.t.layout.registry.join("tuf"));
    assert_eq!(
        tuf.t.refused(&p.payload(true)),
        "the registry has a TUF repository (`tuf/targets.json`), and `regis.dhall` sets no `trustTimestampKey`: every change re-signs it, so the online keys must be configured"
    );
    assert_eq!(
        testing::files_below(&tuf.t.layout.registry.join("tuf")),
        registry_files
    );
}

/// The snapshot key configured as the targets key.
#[test]
fn an_online_key_the_root_does_not_list_for_its_role_is_refused() {
    let mut tuf = adopted();
    tuf.t.config.trust_targets_key = Some(KeySource::File(key_of(&tuf.init, Role::Snapshot)));
    let p = tuf.package("prelude", "1.1.0");
    tuf.t.push_source(&p);
    assert_eq!(
        redact(&tuf.t.refused(&p.payload(true)), &[]),
        "the configured targets key `<sha256>` is not a targets key of root version 1: set the key the root lists (`regis keys show`)"
    );
}

/// Storage holding other bytes for a published version than metadata records: nothing is
/// signed, committed or copied.
#[test]
fn an_adoption_over_storage_that_differs_from_metadata_is_refused() {
    let tuf = with_tuf_atoms(true);
    let recorded = tuf.stored("prelude/1.0.0.tar.gz");
    tuf.put("prelude/1.0.0.tar.gz", b"other bytes");
    let heads = tuf.t.remote_heads();
    let e = verify::adopt(&tuf.t.ctx()).unwrap_err();
    assert_eq!(
        tuf.message(&e),
        format!(
            "storage holds other tarballs than metadata records, so no target is signed: `prelude@1.0.0` is `{}` (11 bytes) in storage and `{}` ({} bytes) in metadata",
            Sha256::of(b"other bytes"),
            Sha256::of(&recorded),
            recorded.len(),
        )
    );
    assert_eq!(tuf.t.remote_heads(), heads);
    assert!(!tuf.t.layout.registry.join("tuf/targets.json").exists());
    assert!(!tuf.t.layout.storage.join("tuf").exists());
}
