//! Atoms end to end: each operation on a registry with an atom key (`trustAtomKey`) stores
//! one signed atom under its hash and moves the package's chain head (`atoms/<name>` in the
//! registry repo) in the metadata's commit; a re-run adds none; `history` walks and checks
//! the chain, and names what failed when an atom was edited, a link broken, a signature
//! forged or the metadata changed after the head. Without an atom key nothing changes.

use regis::atom::{self, AtomError, AtomId, AtomOperation, SignedAtom};
use regis::auth::{SignatureFormat, SigningKey as OwnerKey};
use regis::git::CommitOutcome;
use regis::operation::history::{self, History};
use regis::operation::{deprecate, yank};
use regis::payload::Authenticated;
use regis::schema::{Sha256, Timestamp};
use regis::storage::Storage;
use regis::testing::{self, NOW, TestRegistry};
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

/// A registry whose operations sign atoms with a key kept in its own tempdir (outside every
/// git work tree), with `prelude@1.0.0` and `prelude@1.1.0` published by `owner()`.
struct Atoms {
    t: TestRegistry,
    key: SigningKey,
    _keys: tempfile::TempDir,
}

fn with_atoms() -> Atoms {
    let keys = tempfile::tempdir().unwrap();
    let (key, secret) = SigningKey::generate();
    let path = write_private_key(keys.path(), "atom.pem", &secret).unwrap();
    let t = TestRegistry::with_config(|c| c.trust_atom_key = Some(KeySource::File(path)));
    for version in ["1.0.0", "1.1.0"] {
        let mut p = t.package("prelude", version, &[]);
        p.manifest.owners = Some(vec![owner().public()]);
        t.release(&p);
    }
    Atoms {
        t,
        key,
        _keys: keys,
    }
}

fn head(t: &TestRegistry) -> AtomId {
    let text = testing::remote_file(&t.layout.registry_remote, "atoms/prelude").unwrap();
    AtomId::parse(&text).unwrap()
}

fn atom_files(t: &TestRegistry) -> Vec<String> {
    (t.stored().iter())
        .map(|p| p.display().to_string())
        .filter(|p| p.starts_with("atoms/"))
        .collect()
}

fn read_history(t: &TestRegistry) -> Result<History, AtomError> {
    history::history(
        &t.layout.registry,
        &t.config,
        &t.storage,
        &"prelude".parse().unwrap(),
    )
}

fn stored_atom(t: &TestRegistry, id: AtomId) -> SignedAtom {
    let bytes = (t.storage)
        .get(&id.key(&"prelude".parse().unwrap()))
        .unwrap()
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[test]
fn each_publish_stores_a_signed_atom_and_moves_the_head_in_the_metadata_commit() {
    let Atoms { t, key, _keys } = with_atoms();
    let h = read_history(&t).unwrap();
    assert_eq!(h.head, head(&t));
    assert_eq!(h.trusted, "the configured `trustAtomKey`");
    assert_eq!(h.atoms.len(), 2);
    assert_eq!(atom_files(&t).len(), 2);
    let (newest, first) = (&h.atoms[0], &h.atoms[1]);
    assert_eq!(newest.atom.signed.previous, Some(first.id));
    assert_eq!(first.atom.signed.previous, None);
    let metadata =
        testing::remote_file(&t.layout.registry_remote, "metadata/prelude.json").unwrap();
    let recorded = regis::metadata::Metadata::from_json("prelude", &metadata).unwrap();
    for (verified, version) in [(newest, "1.1.0"), (first, "1.0.0")] {
        let a = &verified.atom.signed;
        assert_eq!(a.operation, AtomOperation::Publish);
        assert_eq!(a.version.as_ref().unwrap().to_string(), version);
        let entry = &recorded.published[&version.parse().unwrap()];
        let tarball = a.tarball.unwrap();
        assert_eq!((tarball.hash, tarball.bytes), (entry.hash, entry.bytes));
        assert_eq!(a.time, NOW.parse::<Timestamp>().unwrap());
        assert_eq!(a.payload, None);
        assert_eq!(verified.atom.signatures.len(), 1);
        assert_eq!(verified.atom.signatures[0].keyid, key.keyid().as_str());
        // Stored under its hash, as the canonical JSON `sign` makes.
        let (id, bytes) = atom::sign(a.clone(), &key);
        assert_eq!(id, verified.id);
        let stored = t.storage.get(&id.key(&a.package)).unwrap().unwrap();
        assert_eq!(stored, bytes);
    }
    assert_eq!(newest.atom.signed.metadata, Sha256::of(metadata.as_bytes()));
    // The head moved in the publish's own commit.
    let registry = t.registry.workdir();
    let show = std::process::Command::new("git")
        .args(["show", "--name-only", "--format=%s", "HEAD"])
        .current_dir(registry)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(show.stdout).unwrap(),
        "Publish prelude@1.1.0\n\natoms/prelude\nmetadata/prelude.json\n"
    );
    // `check` (with storage) takes atoms and the head file for what they are.
    let audit = regis::check::run(
        &regis::store::RegistryDir::new(registry),
        &regis::store::IndexDir::new(t.index.workdir()),
        Some(regis::storage::Stores::single(&t.storage)),
    )
    .unwrap();
    assert!(audit.is_clean(), "{:?}", audit.findings);
}

#[test]
fn yank_unyank_and_deprecate_extend_the_chain_with_their_signed_payloads() {
    let Atoms { t, _keys, .. } = with_atoms();
    let yank_payload = signed(r#"{"name":"prelude","yank":"1.0.0","reason":"broken"}"#);
    yank::yank(&t.ctx(), &yank_payload).unwrap();
    // The same payload again: nothing to commit, no atom.
    let again = yank::yank(&t.ctx(), &yank_payload).unwrap();
    assert_eq!(again.metadata, CommitOutcome::Unchanged);
    assert_eq!(atom_files(&t).len(), 3);
    let unyank_payload = signed(r#"{"name":"prelude","unyank":"1.0.0"}"#);
    yank::yank(&t.ctx(), &unyank_payload).unwrap();
    let deprecate_payload = signed(r#"{"name":"prelude","message":"use prelude2"}"#);
    deprecate::deprecate(&t.ctx(), &deprecate_payload).unwrap();

    let h = read_history(&t).unwrap();
    let done: Vec<(AtomOperation, Option<String>, Option<&Authenticated>)> = (h.atoms.iter())
        .map(|v| {
            let a = &v.atom.signed;
            (
                a.operation,
                a.version.as_ref().map(ToString::to_string),
                a.payload.as_ref(),
            )
        })
        .collect();
    let v = |s: &str| Some(s.to_owned());
    assert_eq!(
        done,
        [
            (AtomOperation::Deprecate, None, Some(&deprecate_payload)),
            (AtomOperation::Unyank, v("1.0.0"), Some(&unyank_payload)),
            (AtomOperation::Yank, v("1.0.0"), Some(&yank_payload)),
            (AtomOperation::Publish, v("1.1.0"), None),
            (AtomOperation::Publish, v("1.0.0"), None),
        ]
    );
    for pair in h.atoms.windows(2) {
        assert_eq!(pair[0].atom.signed.previous, Some(pair[1].id));
    }
    assert_eq!(atom_files(&t).len(), 5);
}

#[test]
fn without_an_atom_key_no_atom_is_written() {
    let t = TestRegistry::new();
    t.release(&t.package("prelude", "1.0.0", &[]));
    assert_eq!(atom_files(&t), Vec::<String>::new());
    assert_eq!(
        testing::remote_file(&t.layout.registry_remote, "atoms/prelude"),
        None
    );
    let e = read_history(&t).unwrap_err();
    assert_eq!(
        e.to_string(),
        "package `prelude` has no atoms: no operation on it was recorded with an atom key (`trustAtomKey`)"
    );
    // A head without a key to check it with.
    std::fs::create_dir_all(t.layout.registry.join("atoms")).unwrap();
    std::fs::write(
        t.layout.registry.join("atoms/prelude"),
        format!("{}\n", "a".repeat(64)),
    )
    .unwrap();
    assert_eq!(
        read_history(&t).unwrap_err().to_string(),
        "no atom keys to check atoms with: the registry has no root of trust and `regis.dhall` sets no `trustAtomKey`"
    );
}

#[test]
fn history_names_what_was_tampered_with() {
    let Atoms { t, key, _keys } = with_atoms();
    let name = "prelude".parse().unwrap();
    let h = read_history(&t).unwrap();
    let (newest, first) = (h.atoms[0].id, h.atoms[1].id);
    let path_of = |id: AtomId| t.layout.storage.join(id.key(&name).as_str());
    let keep = |id: AtomId| std::fs::read(path_of(id)).unwrap();
    let (newest_bytes, first_bytes) = (keep(newest), keep(first));

    // An edited atom: its content no longer hashes to its name.
    let mut edited = stored_atom(&t, first);
    edited.signed.time = "2020-01-01T00:00:00.000Z".parse().unwrap();
    std::fs::write(path_of(first), serde_json::to_vec(&edited).unwrap()).unwrap();
    let found = atom::id(&edited.signed);
    assert_eq!(
        read_history(&t).unwrap_err().to_string(),
        format!("the atom `{first}` of `prelude` was altered: its signed part hashes to `{found}`")
    );

    // A broken link: the first atom is gone.
    std::fs::remove_file(path_of(first)).unwrap();
    assert_eq!(
        read_history(&t).unwrap_err().to_string(),
        format!(
            "storage holds no atom `{first}` of `prelude`, which atom `{newest}` names: the chain is broken"
        )
    );
    std::fs::write(path_of(first), &first_bytes).unwrap();

    // Not a signed atom at all.
    std::fs::write(path_of(first), b"{}").unwrap();
    assert_eq!(
        read_history(&t).unwrap_err().to_string(),
        format!(
            "the atom `{first}` of `prelude` is not a signed atom: missing field `signed` at line 1 column 2"
        )
    );
    std::fs::write(path_of(first), &first_bytes).unwrap();

    // A forged signature: the same atom signed by another key.
    let (other, _) = SigningKey::generate();
    let (id, forged) = atom::sign(stored_atom(&t, newest).signed, &other);
    assert_eq!(id, newest);
    std::fs::write(path_of(newest), &forged).unwrap();
    assert_eq!(
        read_history(&t).unwrap_err().to_string(),
        format!(
            "the atom `{newest}` of `prelude` is not signed by 1 of the atom keys of the configured `trustAtomKey`"
        )
    );
    std::fs::write(path_of(newest), &newest_bytes).unwrap();

    // Another package's atom under this package's name.
    let mut elsewhere = stored_atom(&t, first).signed;
    elsewhere.package = "other".parse().unwrap();
    let (other_id, other_bytes) = atom::sign(elsewhere, &key);
    std::fs::write(path_of(other_id), &other_bytes).unwrap();
    let head_file = t.layout.registry.join("atoms/prelude");
    let head_text = std::fs::read_to_string(&head_file).unwrap();
    std::fs::write(&head_file, format!("{other_id}\n")).unwrap();
    assert_eq!(
        read_history(&t).unwrap_err().to_string(),
        format!("the atom `{other_id}` under `prelude` records package `other`")
    );
    std::fs::write(&head_file, "not an id\n").unwrap();
    assert_eq!(
        read_history(&t).unwrap_err().to_string(),
        "`atoms/prelude` in the registry repo does not hold an atom id (64 lowercase hex digits): it holds `not an id\\n`"
    );
    std::fs::write(&head_file, &head_text).unwrap();
    assert_eq!(read_history(&t).unwrap().atoms.len(), 2);

    // Metadata edited after the head.
    let metadata_file = t.layout.registry.join("metadata/prelude.json");
    let text = std::fs::read_to_string(&metadata_file).unwrap();
    let changed = text.replace("\"unpublished\": {}", "\"unpublished\": { }");
    std::fs::write(&metadata_file, &changed).unwrap();
    let recorded = Sha256::of(text.as_bytes());
    let now = Sha256::of(changed.as_bytes());
    assert_eq!(
        read_history(&t).unwrap_err().to_string(),
        format!(
            "the metadata of `prelude` changed after its last atom `{newest}`: the atom records `{recorded}`, the file hashes to `{now}`"
        )
    );
}

#[test]
fn regis_history_prints_the_chain_and_json_gives_each_atom() {
    let Atoms { t, key, _keys } = with_atoms();
    let h = read_history(&t).unwrap();
    let run = |json: bool| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_regis"));
        if json {
            command.arg("--json");
        }
        command
            .args(["--registry", t.layout.registry.to_str().unwrap()])
            .args(["history", "prelude"])
            .env_remove("REGIS_STORAGE")
            .env_remove("REGIS_INDEX");
        let out = command.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let (newest, first) = (&h.atoms[0], &h.atoms[1]);
    let hash = |v: &atom::Verified| v.atom.signed.tarball.unwrap().hash;
    let bytes = |v: &atom::Verified| v.atom.signed.tarball.unwrap().bytes;
    assert_eq!(
        run(false),
        format!(
            "2 atoms of `prelude`, verified against the configured `trustAtomKey`; head `{}`\n\
             {NOW}  publish@1.1.0  {}, tarball `{}` ({} bytes)\n\
             {NOW}  publish@1.0.0  {}, tarball `{}` ({} bytes)\n",
            newest.id,
            newest.id,
            hash(newest),
            bytes(newest),
            first.id,
            hash(first),
            bytes(first),
        )
    );
    let doc: serde_json::Value = serde_json::from_str(&run(true)).unwrap();
    assert_eq!(doc["formatVersion"], 1);
    assert_eq!(doc["name"], "prelude");
    assert_eq!(doc["head"], newest.id.to_string());
    assert_eq!(doc["verifiedAgainst"], "the configured `trustAtomKey`");
    let atoms = doc["atoms"].as_array().unwrap();
    assert_eq!(atoms.len(), 2);
    assert_eq!(
        atoms[1],
        serde_json::json!({
            "id": first.id.to_string(),
            "operation": "publish",
            "version": "1.0.0",
            "tarballHash": hash(first).to_string(),
            "tarballBytes": bytes(first),
            "metadataHash": first.atom.signed.metadata.to_string(),
            "payload": null,
            "time": NOW,
            "previous": null,
            "signedBy": [key.keyid().as_str()],
        })
    );
    assert_eq!(atoms[0]["previous"], first.id.to_string());
}

#[test]
fn transfer_and_unpublish_leave_atoms_too() {
    let Atoms { t, _keys, .. } = with_atoms();
    let transfer = signed(
        r#"{"name":"prelude","newLocation":{"githubOwner":"test","githubRepo":"prelude-moved"}}"#,
    );
    regis::operation::transfer::transfer(&t.ctx(), &transfer).unwrap();
    let unpublish = signed(r#"{"name":"prelude","version":"1.1.0","reason":"a broken build"}"#);
    regis::operation::unpublish::unpublish(&t.ctx(), &unpublish).unwrap();
    let h = read_history(&t).unwrap();
    let (unpublished, transferred) = (&h.atoms[0].atom.signed, &h.atoms[1].atom.signed);
    assert_eq!(unpublished.operation, AtomOperation::Unpublish);
    assert_eq!(unpublished.payload.as_ref(), Some(&unpublish));
    // The tarball the unpublish took away, as its publish recorded it.
    assert_eq!(unpublished.tarball, h.atoms[2].atom.signed.tarball);
    assert_eq!(transferred.operation, AtomOperation::Transfer);
    assert_eq!(transferred.payload.as_ref(), Some(&transfer));
    assert_eq!(h.atoms.len(), 4);
}

#[test]
fn with_a_root_atoms_verify_against_its_atom_keys_and_not_a_key_it_lacks() {
    let Atoms { mut t, _keys, .. } = with_atoms();
    // A root of trust whose atom key is not the one that signed the atoms so far.
    let out = tempfile::tempdir().unwrap();
    let expires = "2030-01-01T00:00:00.000Z".parse().unwrap();
    let made = regis::trust::init(&t.layout.registry, out.path(), 1, 1, expires).unwrap();
    let e = read_history(&t).unwrap_err();
    let h = e.to_string();
    assert!(
        h.ends_with("of `prelude` is not signed by 1 of the atom keys of root version 1"),
        "{h}"
    );
    // Operations now sign with the root's atom key: the new atom verifies, the older ones
    // (signed by a key the root never listed) do not.
    let atom_key = made
        .keys
        .iter()
        .find(|k| k.role == regis::trust::Role::Atom)
        .unwrap();
    t.config.trust_atom_key = Some(KeySource::File(atom_key.path.clone()));
    t.registry
        .commit_change("Root", t.config.push_retry(), |_| {
            Ok::<_, regis::git::GitError>(vec![std::path::PathBuf::from(&made.root)])
        })
        .unwrap();
    let deprecate_payload = signed(r#"{"name":"prelude","message":"use prelude2"}"#);
    deprecate::deprecate(&t.ctx(), &deprecate_payload).unwrap();
    let newest = head(&t);
    let older = stored_atom(&t, newest).signed.previous.unwrap();
    assert_eq!(
        read_history(&t).unwrap_err().to_string(),
        format!(
            "the atom `{older}` of `prelude` is not signed by 1 of the atom keys of root version 1"
        )
    );
    assert_eq!(
        stored_atom(&t, newest).signatures[0].keyid,
        atom_key.keyid.as_str()
    );
}

#[test]
fn a_registry_keyed_from_its_root_verifies_against_the_root() {
    let mut t = TestRegistry::new();
    let out = tempfile::tempdir().unwrap();
    let expires = "2030-01-01T00:00:00.000Z".parse().unwrap();
    let made = regis::trust::init(&t.layout.registry, out.path(), 1, 1, expires).unwrap();
    t.registry
        .commit_change("Root", t.config.push_retry(), |_| {
            Ok::<_, regis::git::GitError>(vec![std::path::PathBuf::from(&made.root)])
        })
        .unwrap();
    let atom_key = (made.keys.iter())
        .find(|k| k.role == regis::trust::Role::Atom)
        .unwrap();
    t.config.trust_atom_key = Some(KeySource::File(atom_key.path.clone()));
    t.release(&t.package("prelude", "1.0.0", &[]));
    let h = read_history(&t).unwrap();
    assert_eq!(h.trusted, "root version 1");
    assert_eq!(h.atoms.len(), 1);
    assert_eq!(h.atoms[0].atom.signatures[0].keyid, atom_key.keyid.as_str());
}
