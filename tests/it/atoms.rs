//! Atoms end to end: each operation on a registry with an atom key (`trustAtomKey`) stores
//! one signed atom under its hash and moves the package's chain head (`atoms/<name>` in the
//! registry repo) in the metadata's commit; a re-run adds none; `history` walks and checks
//! the chain, and names what failed when an atom was edited, a link broken, a signature
//! forged or the metadata changed after the head. Without an atom key nothing changes.
//! `regis check` with storage verifies every chain and compares metadata and the index with
//! what the atoms recorded: each hand edit in git is a finding, no operation through regis
//! is.

use std::path::{Path, PathBuf};

use regis::atom::{self, AtomError, AtomId, AtomOperation, SignedAtom};
use regis::auth::{SignatureFormat, SigningKey as OwnerKey};
use regis::git::CommitOutcome;
use regis::metadata::Metadata;
use regis::operation::history::{self, History};
use regis::operation::{deprecate, yank};
use regis::payload::Authenticated;
use regis::schema::{Sha256, Timestamp};
use regis::storage::{Storage, Stores};
use regis::store::{IndexDir, RegistryDir};
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
    // A publish records its index line's hash: the line as the index file holds it.
    let index = testing::remote_file(&t.layout.index_remote, "pr/el/prelude").unwrap();
    let lines: Vec<&str> = index.lines().collect();
    assert_eq!(lines.len(), 2);
    for (verified, line) in [(first, lines[0]), (newest, lines[1])] {
        assert_eq!(
            verified.atom.signed.index,
            Some(Sha256::of(line.as_bytes()))
        );
    }
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
        t.config.trust_atom_key.as_ref(),
    )
    .unwrap();
    assert!(audit.is_clean(), "{:?}", audit.findings);
    assert_eq!(audit.atom_chains, 1);
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
            "indexHash": first.atom.signed.index.unwrap().to_string(),
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

// `regis check` against the atoms: what a published version was stays what it is.

fn audit(t: &TestRegistry) -> regis::check::Report {
    regis::check::run(
        &RegistryDir::new(t.registry.workdir()),
        &IndexDir::new(t.index.workdir()),
        Some(Stores::single(&t.storage)),
        t.config.trust_atom_key.as_ref(),
    )
    .unwrap()
}

/// The findings' text, one a line, with each of `values` (ids, hashes, paths that differ
/// from run to run) written as its name.
fn findings(t: &TestRegistry, values: &[(String, String)]) -> String {
    let mut text: Vec<String> = audit(t).findings.iter().map(ToString::to_string).collect();
    for line in &mut text {
        for (value, name) in values {
            *line = line.replace(value.as_str(), name.as_str());
        }
    }
    text.join("\n")
}

/// Each atom of the chain of `name`, as `<operation@version>` (`<operation>` without one).
fn atom_names(t: &TestRegistry, name: &str) -> Vec<(String, String)> {
    let h = history::history(
        &t.layout.registry,
        &t.config,
        &t.storage,
        &name.parse().unwrap(),
    )
    .unwrap();
    (h.atoms.iter())
        .map(|v| {
            let a = &v.atom.signed;
            let label = match &a.version {
                Some(version) => format!("<{name} {}@{version}>", a.operation),
                None => format!("<{name} {}>", a.operation),
            };
            (v.id.to_string(), label)
        })
        .collect()
}

/// Commits what `edit` does to the registry repo and pushes it, as a hand edit in git
/// would: no operation, no atom.
fn edit_in_git(repo: &regis::git::GitRepo, what: &str, edit: impl Fn(&Path) -> PathBuf) {
    let outcome = repo
        .commit_change(what, 1, |dir| {
            Ok::<_, regis::git::GitError>(vec![edit(dir)])
        })
        .unwrap();
    assert!(
        matches!(outcome, CommitOutcome::Committed { .. }),
        "{outcome:?}"
    );
}

fn edit_metadata(t: &TestRegistry, name: &str, edit: impl Fn(&mut Metadata)) {
    edit_in_git(&t.registry, &format!("Edit {name} by hand"), |dir| {
        let registry = RegistryDir::new(dir);
        let name = name.parse().unwrap();
        let mut m = registry.read_metadata(&name).unwrap().unwrap();
        edit(&mut m);
        registry.write_metadata(&name, &m).unwrap()
    });
}

fn metadata_hash(t: &TestRegistry, name: &str) -> String {
    let text = std::fs::read(t.registry.workdir().join(format!("metadata/{name}.json"))).unwrap();
    Sha256::of(&text).to_string()
}

fn v(s: &str) -> regis::schema::Version {
    s.parse().unwrap()
}

#[test]
fn check_finds_nothing_after_every_operation_through_regis() {
    let Atoms { mut t, _keys, .. } = with_atoms();
    let run = |payload: &str| signed(payload);
    t.release(&t.package("effect", "1.0.0", &[("prelude", ">=1.0.0 <2.0.0")]));
    yank::yank(
        &t.ctx(),
        &run(r#"{"name":"prelude","yank":"1.0.0","reason":"broken"}"#),
    )
    .unwrap();
    let check = audit(&t);
    assert!(check.is_clean(), "{:?}", check.findings);
    yank::yank(&t.ctx(), &run(r#"{"name":"prelude","unyank":"1.0.0"}"#)).unwrap();
    deprecate::deprecate(
        &t.ctx(),
        &run(r#"{"name":"prelude","message":"use effect","alternative":"effect"}"#),
    )
    .unwrap();
    regis::operation::transfer::transfer(
        &t.ctx(),
        &run(r#"{"name":"prelude","newLocation":{"githubOwner":"test","githubRepo":"prelude-moved"}}"#),
    )
    .unwrap();
    regis::operation::unpublish::unpublish(
        &t.ctx(),
        &run(r#"{"name":"prelude","version":"1.1.0","reason":"a broken build"}"#),
    )
    .unwrap();
    // A package published before the atom key was configured has no chain: not a finding.
    let key = t.config.trust_atom_key.take();
    t.release(&t.package("console", "1.0.0", &[]));
    t.config.trust_atom_key = key;
    assert_eq!(
        testing::remote_file(&t.layout.registry_remote, "atoms/console"),
        None
    );

    let check = audit(&t);
    assert!(check.is_clean(), "{:?}", check.findings);
    assert_eq!((check.atom_chains, check.tarballs_checked), (2, 3));
    assert_eq!(read_history(&t).unwrap().atoms.len(), 7);
}

#[test]
fn check_reports_metadata_edited_in_git_and_an_operation_after_does_not_hide_it() {
    let Atoms { t, _keys, .. } = with_atoms();
    let atoms = atom_names(&t, "prelude");
    let as_published = metadata_hash(&t, "prelude");
    edit_metadata(&t, "prelude", |m| {
        let entry = m.published.get_mut(&v("1.0.0")).unwrap();
        entry.published_time = "2020-01-01T00:00:00.000Z".parse().unwrap();
    });
    let mut names = atoms.clone();
    names.push((as_published, "<as published>".into()));
    names.push((metadata_hash(&t, "prelude"), "<as edited>".into()));
    insta::assert_snapshot!(findings(&t, &names), @r"
    metadata/prelude.json: `prelude`: changed outside an operation: the last atom `<prelude publish@1.1.0>` (publish of `1.1.0` at `2026-11-22T10:00:00.000Z`) records the file with SHA-256 `<as published>`, it now hashes to `<as edited>`
    metadata/prelude.json: `prelude@1.0.0`: metadata records it published at `2020-01-01T00:00:00.000Z`, but its publish atom `<prelude publish@1.0.0>` recorded `2026-11-22T10:00:00.000Z`: a version's publish time never changes
    ");

    // A yank through regis records the file as it then is; the edited publish time is still
    // not what the publish recorded.
    yank::yank(
        &t.ctx(),
        &signed(r#"{"name":"prelude","yank":"1.1.0","reason":"broken"}"#),
    )
    .unwrap();
    insta::assert_snapshot!(findings(&t, &atom_names(&t, "prelude")), @"metadata/prelude.json: `prelude@1.0.0`: metadata records it published at `2020-01-01T00:00:00.000Z`, but its publish atom `<prelude publish@1.0.0>` recorded `2026-11-22T10:00:00.000Z`: a version's publish time never changes");
}

#[test]
fn check_reports_a_swapped_tarball_hash_and_a_removed_version() {
    let Atoms { t, _keys, .. } = with_atoms();
    let mut names = atom_names(&t, "prelude");
    let swapped = Sha256::of(b"another tarball");
    names.push((swapped.to_string(), "<swapped>".into()));
    names.push((metadata_hash(&t, "prelude"), "<as published>".into()));
    let published = |version: &str| {
        let text =
            std::fs::read_to_string(t.registry.workdir().join("metadata/prelude.json")).unwrap();
        Metadata::from_json("prelude", &text).unwrap().published[&v(version)].clone()
    };
    let original = published("1.0.0");
    names.push((original.hash.to_string(), "<tarball 1.0.0>".into()));
    edit_metadata(&t, "prelude", |m| {
        m.published.get_mut(&v("1.0.0")).unwrap().hash = swapped;
        m.published.remove(&v("1.1.0"));
    });
    names.push((metadata_hash(&t, "prelude"), "<as edited>".into()));
    names.push((t.layout.storage.display().to_string(), "<storage>".into()));
    insta::assert_snapshot!(findings(&t, &names), @r"
    <storage>/prelude/1.1.0.tar.gz: `prelude@1.1.0`: tarball `prelude/1.1.0.tar.gz` (512 bytes) is recorded by no metadata: left by a publish that did not land or an unpublish that did not finish; `regis gc` removes it
    metadata/prelude.json: `prelude`: changed outside an operation: the last atom `<prelude publish@1.1.0>` (publish of `1.1.0` at `2026-11-22T10:00:00.000Z`) records the file with SHA-256 `<as published>`, it now hashes to `<as edited>`
    metadata/prelude.json: `prelude@1.0.0`: tarball `prelude/1.0.0.tar.gz` is 513 bytes with hash `<tarball 1.0.0>`, but metadata records 513 bytes with hash `<swapped>`
    metadata/prelude.json: `prelude@1.0.0`: metadata records the tarball as 513 bytes with hash `<swapped>`, but its publish atom `<prelude publish@1.0.0>` recorded 513 bytes with hash `<tarball 1.0.0>`: a published version's tarball never changes
    metadata/prelude.json: `prelude@1.1.0`: its publish atom `<prelude publish@1.1.0>` recorded it, but metadata neither publishes nor unpublishes it: a published version stays in metadata
    pr/el/prelude: `prelude@1.1.0`: indexed, but not published in metadata
    ");
}

#[test]
fn check_reports_an_index_line_edited_in_git() {
    let Atoms { t, _keys, .. } = with_atoms();
    t.release(&t.package("effect", "1.0.0", &[("prelude", ">=1.0.0 <2.0.0")]));
    let file = regis::index::entry_path(&"effect".parse().unwrap());
    let line = |t: &TestRegistry| {
        let text = std::fs::read_to_string(t.index.workdir().join(&file)).unwrap();
        Sha256::of(text.trim_end_matches('\n').as_bytes()).to_string()
    };
    let mut names = atom_names(&t, "effect");
    names.push((line(&t), "<as published>".into()));
    edit_in_git(&t.index, "Widen a range by hand", |dir| {
        let path = dir.join(&file);
        let text = std::fs::read_to_string(&path).unwrap();
        let edited = text.replace(
            r#""prelude":">=1.0.0 <2.0.0""#,
            r#""prelude":">=1.0.0 <3.0.0""#,
        );
        assert_ne!(edited, text);
        std::fs::write(&path, edited).unwrap();
        path
    });
    names.push((line(&t), "<as edited>".into()));
    insta::assert_snapshot!(findings(&t, &names), @"ef/fe/effect: `effect@1.0.0`: changed outside an operation: the line hashes to `<as edited>`, but its publish atom `<effect publish@1.0.0>` recorded `<as published>`: an index line never changes after publish");
}

#[test]
fn check_reports_a_chain_that_does_not_verify() {
    let Atoms { mut t, _keys, .. } = with_atoms();
    let name = "prelude".parse().unwrap();
    let names = atom_names(&t, "prelude");
    let h = read_history(&t).unwrap();
    let (newest, first) = (h.atoms[0].id, h.atoms[1].id);
    let path_of = |id: AtomId| t.layout.storage.join(id.key(&name).as_str());

    // An atom deleted from storage.
    let first_bytes = std::fs::read(path_of(first)).unwrap();
    std::fs::remove_file(path_of(first)).unwrap();
    insta::assert_snapshot!(findings(&t, &names), @"atoms/prelude: `prelude`: the atom chain does not verify: storage holds no atom `<prelude publish@1.0.0>` of `prelude`, which atom `<prelude publish@1.1.0>` names: the chain is broken");
    std::fs::write(path_of(first), &first_bytes).unwrap();
    assert!(audit(&t).is_clean());

    // A signature that is not the atom key's: one hex digit of it changed.
    let newest_bytes = std::fs::read(path_of(newest)).unwrap();
    let mut corrupt = stored_atom(&t, newest);
    let sig = &mut corrupt.signatures[0].sig;
    let flipped = if sig.starts_with('0') { "1" } else { "0" };
    sig.replace_range(0..1, flipped);
    std::fs::write(path_of(newest), serde_json::to_vec(&corrupt).unwrap()).unwrap();
    insta::assert_snapshot!(findings(&t, &names), @"atoms/prelude: `prelude`: the atom chain does not verify: the atom `<prelude publish@1.1.0>` of `prelude` is not signed by 1 of the atom keys of the configured `trustAtomKey`");
    std::fs::write(path_of(newest), &newest_bytes).unwrap();

    // A head that is not an atom id.
    let head_file = t.registry.workdir().join("atoms/prelude");
    let head_text = std::fs::read_to_string(&head_file).unwrap();
    std::fs::write(&head_file, "not an id\n").unwrap();
    insta::assert_snapshot!(findings(&t, &names), @"atoms/prelude: `prelude`: the atom chain does not verify: `atoms/prelude` in the registry repo does not hold an atom id (64 lowercase hex digits): it holds `not an id\\n`");
    std::fs::write(&head_file, &head_text).unwrap();

    // No keys to check atoms with.
    let key = t.config.trust_atom_key.take();
    insta::assert_snapshot!(findings(&t, &names), @"atoms: the atom chain of 1 package cannot be checked: no atom keys to check atoms with: the registry has no root of trust and `regis.dhall` sets no `trustAtomKey`");
    t.config.trust_atom_key = key;
    assert!(audit(&t).is_clean());

    // The metadata file removed: the chain's head file names what is gone.
    let mut names = names;
    let metadata_file = t.registry.workdir().join("metadata/prelude.json");
    names.push((
        Sha256::of(&std::fs::read(&metadata_file).unwrap()).to_string(),
        "<as published>".into(),
    ));
    std::fs::remove_file(&metadata_file).unwrap();
    let text = findings(&t, &names);
    let from_atoms: Vec<&str> = text.lines().filter(|l| l.starts_with("atoms/")).collect();
    insta::assert_snapshot!(from_atoms.join("\n"), @"atoms/prelude: `prelude`: removed outside an operation: the last atom `<prelude publish@1.1.0>` (publish of `1.1.0` at `2026-11-22T10:00:00.000Z`) records `metadata/prelude.json` with SHA-256 `<as published>`, and there is no such file");
}

#[test]
fn check_reports_two_packages_at_one_location_and_orphan_tarballs() {
    let Atoms { t, _keys, .. } = with_atoms();
    t.release(&t.package("effect", "1.0.0", &[]));
    let mut names = atom_names(&t, "effect");
    names.push((metadata_hash(&t, "effect"), "<as published>".into()));
    let effect_place = t.github("effect");
    names.push((
        RegistryDir::location_rel(&effect_place)
            .display()
            .to_string(),
        "<effect's entry>".into(),
    ));
    // effect's metadata moved to prelude's repository in git, not by a transfer.
    edit_metadata(&t, "effect", |m| m.location = t.github("Prelude"));
    names.push((metadata_hash(&t, "effect"), "<as edited>".into()));
    // A tarball nothing records.
    let ghost = regis::storage::StorageKey::tarball(&"ghost".parse().unwrap(), &v("1.0.0"));
    t.storage.put(&ghost, b"a tarball nobody recorded").unwrap();
    names.push((t.layout.storage.display().to_string(), "<storage>".into()));
    insta::assert_snapshot!(findings(&t, &names), @r"
    <storage>/ghost/1.0.0.tar.gz: `ghost@1.0.0`: tarball `ghost/1.0.0.tar.gz` (25 bytes) is recorded by no metadata: left by a publish that did not land or an unpublish that did not finish; `regis gc` removes it
    <effect's entry>: names `effect`, but no package lives at the place it stands for: expected it removed
    metadata/effect.json: `effect`: claims location `github:test/Prelude`, which `prelude` also claims: a location holds one package
    metadata/effect.json: `effect`: changed outside an operation: the last atom `<effect publish@1.0.0>` (publish of `1.0.0` at `2026-11-22T10:00:00.000Z`) records the file with SHA-256 `<as published>`, it now hashes to `<as edited>`
    metadata/prelude.json: `prelude`: claims location `github:test/prelude`, which `effect` also claims: a location holds one package
    ");
}

#[test]
fn regis_check_reports_atom_findings_in_text_and_json() {
    let Atoms { t, _keys, .. } = with_atoms();
    let names = atom_names(&t, "prelude");
    let first = read_history(&t).unwrap().atoms[1].id;
    std::fs::remove_file(
        t.layout
            .storage
            .join(first.key(&"prelude".parse().unwrap()).as_str()),
    )
    .unwrap();
    let run = |json: bool| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_regis"));
        if json {
            command.arg("--json");
        }
        command
            .args(["--registry", t.layout.registry.to_str().unwrap(), "check"])
            .env_remove("REGIS_STORAGE")
            .env_remove("REGIS_INDEX");
        let out = command.output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut text = String::from_utf8(out.stdout).unwrap();
        for (value, name) in &names {
            text = text.replace(value.as_str(), name.as_str());
        }
        text
    };
    insta::assert_snapshot!(run(false), @r"
    atoms/prelude: `prelude`: the atom chain does not verify: storage holds no atom `<prelude publish@1.0.0>` of `prelude`, which atom `<prelude publish@1.1.0>` names: the chain is broken
    checked 1 packages, 2 versions, 1 index files, 0 package sets, 2 tarballs, 1 atom chains: 1 finding
    ");
    let doc: serde_json::Value = serde_json::from_str(&run(true)).unwrap();
    assert_eq!(doc["clean"], false);
    assert_eq!(doc["atomChains"], 1);
    assert_eq!(
        doc["findings"],
        serde_json::json!([{
            "file": "atoms/prelude",
            "package": "prelude",
            "version": null,
            "kind": "atom-chain",
            "message": "the atom chain does not verify: storage holds no atom `<prelude publish@1.0.0>` of `prelude`, which atom `<prelude publish@1.1.0>` names: the chain is broken",
        }])
    );
}
