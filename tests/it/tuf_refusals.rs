//! Every refusal of the TUF client (`regis fetch`, `regis verify`), of `--adopt` and of an
//! operation that re-signs the TUF repository, made to happen for real and read in full
//! (the refusals `tuf.rs` pins on its way are listed in `docs/refusals.md` there).

use std::path::{Path, PathBuf};

use regis::atom::AtomId;
use regis::auth::SigningKey as OwnerKey;
use regis::operation::client::{self, Client, ClientError, Origin};
use regis::operation::verify;
use regis::schema::Sha256;
use regis::testing::{self, TestRegistry};
use regis::trust::{self, KeySource, Role};

fn owner() -> OwnerKey {
    OwnerKey::from_openssh(&testing::seeded_key(1), None).unwrap()
}

fn key_of(init: &trust::Initialized, role: Role) -> PathBuf {
    (init.keys.iter())
        .find(|k| k.role == role)
        .map(|k| k.path.clone())
        .unwrap()
}

fn signing_key(init: &trust::Initialized, role: Role) -> trust::SigningKey {
    trust::SigningKey::from_bytes(&std::fs::read(key_of(init, role)).unwrap()).unwrap()
}

fn far() -> jiff::Timestamp {
    let far = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 3650);
    jiff::Timestamp::from_second(far.as_second()).unwrap()
}

/// A registry with a root of trust (as `tuf.rs` sets one up) and `prelude@1.0.0`
/// published before the TUF repository is adopted, with an atom when `atoms`.
struct Tuf {
    t: TestRegistry,
    _keys: tempfile::TempDir,
    init: trust::Initialized,
    state: tempfile::TempDir,
}

fn with_tuf(atoms: bool) -> Tuf {
    let keys = tempfile::tempdir().unwrap();
    let mut t = TestRegistry::with_config(|c| {
        c.trust_timestamp_expiry_days = 3650;
        c.trust_online_expiry_days = 3650;
        c.trust_hash_bins = 16;
    });
    let mut made = None;
    t.registry
        .commit_change("Root of trust", t.config.push_retry(), |root| {
            let init = trust::init(root, keys.path(), 1, 1, far()).unwrap();
            let path = PathBuf::from(&init.root);
            made = Some(init);
            Ok::<_, regis::git::GitError>(vec![path])
        })
        .unwrap();
    let init = made.unwrap();
    let file = |role| Some(KeySource::File(key_of(&init, role)));
    t.config.trust_root_keys = vec![KeySource::File(key_of(&init, Role::Root))];
    t.config.trust_targets_key = file(Role::Targets);
    t.config.trust_snapshot_key = file(Role::Snapshot);
    t.config.trust_timestamp_key = file(Role::Timestamp);
    t.config.trust_atom_key = if atoms { file(Role::Atom) } else { None };
    let tuf = Tuf {
        t,
        _keys: keys,
        init,
        state: tempfile::tempdir().unwrap(),
    };
    tuf.release("prelude", "1.0.0");
    tuf
}

fn adopted() -> Tuf {
    let tuf = with_tuf(true);
    verify::adopt(&tuf.t.ctx()).unwrap();
    tuf
}

impl Tuf {
    fn root(&self) -> Vec<u8> {
        std::fs::read(self.t.layout.registry.join("tuf/root/1.root.json")).unwrap()
    }

    fn origin(&self) -> Origin {
        Origin::parse(self.t.layout.storage.to_str().unwrap()).unwrap()
    }

    fn client(&self) -> Result<Client, ClientError> {
        Client::load(self.origin(), &self.root(), self.state.path())
    }

    fn fetch(&self, name: &str, version: &str) -> Result<client::Fetched, ClientError> {
        let client = self.client()?;
        client::fetch(&client, &name.parse().unwrap(), &version.parse().unwrap())
    }

    fn package(&self, name: &str, version: &str) -> regis::sample::SamplePackage {
        let mut p = self.t.package(name, version, &[]);
        p.manifest.owners = Some(vec![owner().public()]);
        p
    }

    fn release(&self, name: &str, version: &str) {
        self.t.release(&self.package(name, version));
    }

    fn stored(&self, path: &str) -> Vec<u8> {
        std::fs::read(self.t.layout.storage.join(path)).unwrap()
    }

    fn put(&self, path: &str, bytes: &[u8]) {
        let file = self.t.layout.storage.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, bytes).unwrap();
    }

    /// `changes` signed with the online keys (what a holder of them could do) and copied
    /// to storage.
    fn sign_changes(&self, changes: &[trust::Change]) {
        let signer =
            regis::operation::tuf::tuf_signer(&self.t.config, &self.t.layout.registry).unwrap();
        trust::apply_changes(
            &self.t.layout.registry,
            &signer.chain.latest().signed,
            &signer.online,
            jiff::Timestamp::now(),
            changes,
        )
        .unwrap();
        regis::operation::tuf::publish(&self.t.ctx(), Some(&signer)).unwrap();
    }

    /// The text `e` shows, redacted as [`redact`] does.
    fn message(&self, e: &(dyn std::error::Error + 'static)) -> String {
        redact(
            &regis::error_chain(e),
            &[(&self.t.layout.storage, "<storage>")],
        )
    }
}

/// `text` with each path in `paths` written as its label and each 64-digit hex run (key
/// ids, atom ids and hashes, made afresh each run) written `<sha256>`.
fn redact(text: &str, paths: &[(&Path, &str)]) -> String {
    let mut text = text.to_owned();
    for (path, label) in paths {
        text = text.replace(path.to_str().unwrap(), label);
    }
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(i) = rest.find(|c: char| c.is_ascii_hexdigit()) {
        out.push_str(&rest[..i]);
        let run = rest[i..]
            .find(|c: char| !c.is_ascii_hexdigit())
            .unwrap_or(rest.len() - i);
        if run == 64 {
            out.push_str("<sha256>");
        } else {
            out.push_str(&rest[i..i + run]);
        }
        rest = &rest[i + run..];
    }
    out.push_str(rest);
    out
}

fn target_of(bytes: &[u8], atom: Option<&str>) -> tough::schema::Target {
    let custom = atom
        .map(|id| ("atom".to_owned(), serde_json::Value::String(id.to_owned())))
        .into_iter()
        .collect();
    trust::target(&Sha256::of(bytes), bytes.len() as u64, custom)
}

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

/// A release published before the registry had an atom key: its target names no atom.
#[test]
fn a_target_without_an_atom_is_refused() {
    let tuf = with_tuf(false);
    let a = verify::adopt(&tuf.t.ctx()).unwrap();
    assert_eq!((a.tarballs, a.atoms), (1, 0));
    let e = tuf.fetch("prelude", "1.0.0").unwrap_err();
    assert_eq!(
        tuf.message(&e),
        "the target `prelude/1.0.0.tar.gz` names no atom (`custom.atom`): the registry signs an atom for every publish"
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
    let tuf = with_tuf(true);
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
