//! The TUF repository end to end: a registry with a root of trust adopts what it holds
//! (`regis verify --adopt`), every operation after that re-signs the hash bin it touches,
//! the snapshot and the timestamp in the metadata's commit and copies them to storage; a
//! client (`regis fetch`, tough's loader) and python-tuf's ngclient accept honest data,
//! and each attack is refused with a message naming what failed.

use std::path::{Path, PathBuf};

use regis::auth::{SignatureFormat, SigningKey as OwnerKey};
use regis::operation::verify;
use regis::storage::Storage;
use regis::testing::{self, TestRegistry};
use regis::trust::{self, KeySource, Role};

use super::tuf_fixture::{Tuf, adopted, far, key_of, owner, signed, with_tuf};

#[test]
fn adoption_and_every_operation_after_it_keep_each_release_verifiable() {
    let tuf = with_tuf();
    let a = verify::adopt(&tuf.t.ctx()).unwrap();
    assert_eq!((a.bins, a.tarballs, a.atoms, a.package_sets), (16, 1, 1, 0));
    assert_eq!(a.missing, Vec::<String>::new());
    let fetched = tuf.fetch("prelude", "1.0.0").unwrap();
    assert_eq!(fetched.atoms.len(), 1);
    assert_eq!(
        fetched.bytes,
        tuf.stored("prelude/1.0.0.tar.gz"),
        "the bytes storage holds"
    );
    let clean = tuf.verify();
    assert_eq!(clean.problems, Vec::<String>::new());
    assert_eq!((clean.tarballs, clean.atoms, clean.chains), (1, 1, 1));

    tuf.release("prelude", "1.1.0");
    regis::operation::yank::yank(
        &tuf.t.ctx(),
        &signed(r#"{"name":"prelude","yank":"1.0.0","reason":"broken"}"#),
    )
    .unwrap();
    regis::operation::deprecate::deprecate(
        &tuf.t.ctx(),
        &signed(r#"{"name":"prelude","message":"use prelude2"}"#),
    )
    .unwrap();
    tuf.release("console", "1.0.0");
    let update = regis::payload::PackageSetUpdate {
        compiler: None,
        packages: [("prelude".parse().unwrap(), Some("1.1.0".parse().unwrap()))].into(),
    };
    regis::operation::package_set::update(
        &tuf.t.ctx(),
        &update,
        regis::package_set::Authority::Trustee,
        &regis::operation::package_set::Silent,
    )
    .unwrap();

    // Each release verifies with its chain: prelude's publish of 1.1.0 sits on a chain of
    // four atoms at the time of its fetch (publish, publish, yank, deprecate: newest
    // first from the release's own atom back).
    let fetched = tuf.fetch("prelude", "1.1.0").unwrap();
    assert_eq!(fetched.atoms.len(), 2);
    tuf.fetch("prelude", "1.0.0").unwrap();
    tuf.fetch("console", "1.0.0").unwrap();
    let found = tuf.verify();
    assert_eq!(found.problems, Vec::<String>::new());
    assert_eq!(
        (
            found.tarballs,
            found.atoms,
            found.chains,
            found.package_sets
        ),
        (3, 5, 2, 1)
    );
    // Storage serves the consistent snapshots by version, and the timestamp names the last.
    let timestamp: serde_json::Value =
        serde_json::from_slice(&tuf.stored("tuf/timestamp.json")).unwrap();
    let snapshot = timestamp["signed"]["meta"]["snapshot.json"]["version"]
        .as_u64()
        .unwrap();
    assert_eq!(timestamp["signed"]["version"].as_u64(), Some(snapshot));
    assert!(
        tuf.t
            .layout
            .storage
            .join(format!("tuf/{snapshot}.snapshot.json"))
            .is_file()
    );
    assert_eq!(
        tuf.stored("tuf/timestamp.json"),
        std::fs::read(tuf.t.layout.registry.join("tuf/timestamp.json")).unwrap()
    );
    let _ = &tuf.keys;
}

#[test]
fn an_unpublish_takes_the_target_away() {
    let tuf = adopted();
    regis::operation::unpublish::unpublish(
        &tuf.t.ctx(),
        &signed(r#"{"name":"prelude","version":"1.0.0","reason":"oops"}"#),
    )
    .unwrap();
    let e = tuf.fetch("prelude", "1.0.0").unwrap_err();
    assert_eq!(
        tuf.message(&e),
        "`prelude/1.0.0.tar.gz` is not a target of the registry: no signed metadata lists it"
    );
    assert_eq!(tuf.verify().problems, Vec::<String>::new());
}

#[test]
fn a_swapped_tarball_is_refused() {
    let tuf = adopted();
    tuf.put("prelude/1.0.0.tar.gz", b"not the release");
    let e = tuf.fetch("prelude", "1.0.0").unwrap_err();
    assert_eq!(
        tuf.message(&e),
        "the target `prelude/1.0.0.tar.gz` failed verification: `1.0.0.tar.gz` hashes to `<sha256>`, the signed metadata records `<sha256>`"
    );
    let problems = tuf.verify().problems;
    assert_eq!(problems.len(), 1, "{problems:?}");
}

#[test]
fn metadata_edited_by_hand_is_reported_by_verify() {
    let tuf = adopted();
    let file = tuf.t.layout.registry.join("metadata/prelude.json");
    let text = std::fs::read_to_string(&file).unwrap();
    let edited = text.replacen("2026-11-22T10:00:00.000Z", "2020-01-01T00:00:00.000Z", 1);
    assert_ne!(text, edited);
    std::fs::write(&file, edited).unwrap();
    assert_eq!(
        tuf.verify().problems,
        [
            "metadata of `prelude` changed the entry of `1.0.0` after it was signed (its publish time, ref, compilers, size or hash)"
        ]
    );
}

#[test]
fn an_atom_forged_by_a_holder_of_the_online_keys_is_refused() {
    let tuf = adopted();
    // The attacker holds the targets, snapshot and timestamp keys, not the atom key: a new
    // atom for a new tarball, listed in signed targets.
    let (forger, _) = trust::SigningKey::generate();
    tuf.forge_release("9.9.9", b"a tarball the attacker made", &forger, None, None);
    let e = tuf.fetch("prelude", "9.9.9").unwrap_err();
    assert_eq!(
        tuf.message(&e),
        "the atom `<sha256>` of `prelude` is not signed by 1 of the atom keys of root version 1"
    );
}

/// Storage's timestamp replaced by an older one after the client saw the newer.
#[test]
fn a_rolled_back_timestamp_is_refused() {
    let tuf = adopted();
    let old = tuf.stored("tuf/timestamp.json");
    tuf.release("prelude", "1.1.0");
    tuf.client().unwrap();
    tuf.put("tuf/timestamp.json", &old);
    let e = tuf.client().err().unwrap();
    let text = tuf.message(&e);
    assert!(text.starts_with("TUF verification of `"), "{text}");
    assert!(text.contains("timestamp"), "{text}");
    assert!(
        text.contains("older") || text.contains("rollback") || text.contains("version"),
        "{text}"
    );
}

/// The snapshot a newer timestamp names swapped for an older snapshot's bytes: the
/// timestamp's hash of it does not match (a mix-and-match).
#[test]
fn a_snapshot_mixed_with_another_timestamp_is_refused() {
    let tuf = adopted();
    let first: serde_json::Value =
        serde_json::from_slice(&tuf.stored("tuf/timestamp.json")).unwrap();
    let v = first["signed"]["meta"]["snapshot.json"]["version"]
        .as_u64()
        .unwrap();
    let old = tuf.stored(&format!("tuf/{v}.snapshot.json"));
    tuf.release("prelude", "1.1.0");
    tuf.put(&format!("tuf/{}.snapshot.json", v + 1), &old);
    assert_eq!(
        tuf.message(&tuf.client().err().unwrap()),
        "TUF verification of `<storage>` failed: `2.snapshot.json` hashes to `<sha256>`, the signed metadata records `<sha256>`"
    );
}

/// A hash bin of the current snapshot swapped for its previous version.
#[test]
fn a_bin_from_another_snapshot_is_refused() {
    let tuf = adopted();
    let bin = |tuf: &Tuf| -> (String, u64) {
        let snapshot: serde_json::Value = serde_json::from_slice(
            &std::fs::read(tuf.t.layout.registry.join("tuf/snapshot.json")).unwrap(),
        )
        .unwrap();
        let name = regis::storage::StorageKey::tarball(
            &"prelude".parse().unwrap(),
            &"1.1.0".parse().unwrap(),
        );
        let _ = name;
        // The bin that holds prelude's targets: the one whose version is above 1.
        let meta = snapshot["signed"]["meta"].as_object().unwrap();
        let (file, m) = meta
            .iter()
            .filter(|(f, _)| f.starts_with("bins-"))
            .max_by_key(|(_, m)| m["version"].as_u64())
            .unwrap();
        (file.clone(), m["version"].as_u64().unwrap())
    };
    tuf.release("prelude", "1.1.0");
    let (file, version) = bin(&tuf);
    assert!(version > 1);
    let older = tuf.stored(&format!("tuf/{}.{file}", version - 1));
    tuf.put(&format!("tuf/{version}.{file}"), &older);
    assert_eq!(
        tuf.message(&tuf.client().err().unwrap()),
        "TUF verification of `<storage>` failed: targets metadata version mismatch: fetched 1, expected 2"
    );
}

#[test]
fn an_expired_timestamp_is_refused() {
    let tuf = adopted();
    let signer = regis::operation::tuf::tuf_signer(&tuf.t.config, &tuf.t.layout.registry).unwrap();
    let mut online = signer.online;
    online.timestamp_expiry = jiff::SignedDuration::from_hours(1);
    let long_ago = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(48);
    trust::refresh(
        &tuf.t.layout.registry,
        &signer.chain.latest().signed,
        &online,
        long_ago,
    )
    .unwrap();
    let signer = regis::operation::tuf::Tuf {
        online,
        chain: signer.chain,
    };
    regis::operation::tuf::publish(&tuf.t.ctx(), Some(&signer)).unwrap();
    assert_eq!(
        tuf.message(&tuf.client().err().unwrap()),
        "TUF verification of `<storage>` failed: timestamp metadata is expired"
    );
}

/// python-tuf's ngclient, given only root version 1, downloads and verifies a regis
/// tarball over HTTP, and refuses a tampered one.
#[test]
fn python_tuf_ngclient_downloads_and_verifies_a_release() {
    let Some(path) = python_tuf_path() else {
        testing::skip("python-tuf 7.0.1 is not installed (`.ci/run` installs it)");
        return;
    };
    let tuf = adopted();
    tuf.release("prelude", "1.1.0");
    let server = regis::testing::StaticServer::start(&tuf.t.layout.storage);
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("root.json"), tuf.root()).unwrap();
    let script = r#"
import sys, hashlib
from tuf.ngclient import Updater, UpdaterConfig
base, work, target = sys.argv[1], sys.argv[2], sys.argv[3]
updater = Updater(
    metadata_dir=work,
    bootstrap=open(work + "/root.json", "rb").read(),
    metadata_base_url=base + "tuf/",
    target_base_url=base,
    target_dir=work,
    config=UpdaterConfig(prefix_targets_with_hash=False),
)
updater.refresh()
info = updater.get_targetinfo(target)
assert info is not None, "no target"
path = updater.download_target(info)
print(hashlib.sha256(open(path, "rb").read()).hexdigest(), info.custom.get("atom") is not None)
"#;
    let run = |target: &str| {
        std::process::Command::new("python3")
            .args([
                "-c",
                script,
                &server.url,
                work.path().to_str().unwrap(),
                target,
            ])
            .env("PYTHONPATH", &path)
            .output()
            .unwrap()
    };
    let out = run("prelude/1.1.0.tar.gz");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = regis::schema::Sha256::of(&tuf.stored("prelude/1.1.0.tar.gz"));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{} True\n", hex::encode(expected.digest()))
    );
    tuf.put("prelude/1.0.0.tar.gz", b"tampered");
    let out = run("prelude/1.0.0.tar.gz");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("LengthOrHashMismatchError"), "{stderr}");
}

/// `regis fetch` and `regis verify` over HTTP, from a static file server on 127.0.0.1:
/// the same checks as from a directory, a swapped tarball refused the same way.
#[test]
fn regis_fetches_and_verifies_over_http() {
    let tuf = adopted();
    tuf.release("prelude", "1.1.0");
    let server = regis::testing::StaticServer::start(&tuf.t.layout.storage);
    let origin = regis::operation::client::Origin::parse(&server.url).unwrap();
    let client =
        regis::operation::client::Client::load(origin, &tuf.root(), tuf.state.path()).unwrap();
    for version in ["1.0.0", "1.1.0"] {
        let fetched = regis::operation::client::fetch(
            &client,
            &"prelude".parse().unwrap(),
            &version.parse().unwrap(),
        )
        .unwrap();
        assert_eq!(
            fetched.bytes,
            tuf.stored(&format!("prelude/{version}.tar.gz"))
        );
    }
    let found = verify::verify_all(&client, Some(&tuf.t.layout.registry)).unwrap();
    assert_eq!(found.problems, Vec::<String>::new());
    assert_eq!(found.missing, Vec::<String>::new());
    tuf.put("prelude/1.0.0.tar.gz", b"swapped");
    let e = regis::operation::client::fetch(
        &client,
        &"prelude".parse().unwrap(),
        &"1.0.0".parse().unwrap(),
    )
    .unwrap_err();
    assert_eq!(
        tuf.message(&e),
        "the target `prelude/1.0.0.tar.gz` failed verification: `1.0.0.tar.gz` hashes to `<sha256>`, the signed metadata records `<sha256>`"
    );
    // A path the server does not have is missing, as from a directory.
    std::fs::remove_file(tuf.t.layout.storage.join("prelude/1.1.0.tar.gz")).unwrap();
    let e = regis::operation::client::fetch(
        &client,
        &"prelude".parse().unwrap(),
        &"1.1.0".parse().unwrap(),
    )
    .unwrap_err();
    assert_eq!(
        tuf.message(&e),
        "storage does not serve the target `prelude/1.1.0.tar.gz`, which signed metadata lists"
    );
}

/// Where `.ci/run` installs python-tuf (pinned by hash), else the system's.
fn python_tuf_path() -> Option<String> {
    let home = std::env::var("CARGO_HOME")
        .ok()
        .or_else(|| std::env::var("HOME").ok().map(|h| format!("{h}/.cargo")))?;
    let dir = format!("{home}/python-tuf-7.0.1");
    let works = |path: &str| {
        std::process::Command::new("python3")
            .args(["-c", "import tuf.ngclient"])
            .env("PYTHONPATH", path)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    [dir, String::new()].into_iter().find(|p| works(p))
}

/// After the timestamp key is rotated out (a new root version) and then revoked, a
/// timestamp signed by the old key is refused, and honest data signed by the new one
/// still verifies, across the root versions.
#[test]
fn a_rotated_out_and_revoked_key_signs_nothing_clients_accept() {
    let mut tuf = adopted();
    tuf.client().unwrap();
    let root_key =
        trust::SigningKey::from_bytes(&std::fs::read(key_of(&tuf.init, Role::Root)).unwrap())
            .unwrap();
    let old =
        trust::SigningKey::from_bytes(&std::fs::read(key_of(&tuf.init, Role::Timestamp)).unwrap())
            .unwrap();
    let keys = tuf.keys.path().to_owned();
    let mut new_key = None;
    tuf.t
        .registry
        .commit_change(
            "Rotate the timestamp key",
            tuf.t.config.push_retry(),
            |root| {
                let rotated = trust::rotate(
                    root,
                    Role::Timestamp,
                    None,
                    &keys,
                    trust::Signers(vec![
                        trust::SigningKey::from_bytes(
                            &std::fs::read(key_of(&tuf.init, Role::Root)).unwrap(),
                        )
                        .unwrap(),
                    ]),
                    far(),
                )
                .unwrap();
                new_key = rotated.new_key;
                let revoked = trust::revoke(
                    root,
                    old.keyid(),
                    Some("rotated out".to_owned()),
                    trust::Signers(vec![
                        trust::SigningKey::from_bytes(
                            &std::fs::read(key_of(&tuf.init, Role::Root)).unwrap(),
                        )
                        .unwrap(),
                    ]),
                    far(),
                )
                .unwrap();
                assert!(revoked.in_chain);
                Ok::<_, regis::git::GitError>(vec![
                    PathBuf::from("tuf/root/2.root.json"),
                    PathBuf::from("tuf/root/3.root.json"),
                ])
            },
        )
        .unwrap();
    let _ = root_key;
    tuf.t.config.trust_timestamp_key = Some(KeySource::File(new_key.unwrap().path));
    tuf.release("prelude", "1.1.0");
    // The client walks root versions 1 to 3 and takes the new key's timestamp.
    let client = tuf.client().unwrap();
    assert_eq!(client.root().version.get(), 3);
    tuf.fetch("prelude", "1.1.0").unwrap();
    tuf.fetch("prelude", "1.0.0").unwrap();
    // The old key signs a newer timestamp naming the current snapshot.
    let mut forged: tough::schema::Signed<tough::schema::Timestamp> =
        serde_json::from_slice(&tuf.stored("tuf/timestamp.json")).unwrap();
    forged.signed.version = forged.signed.version.saturating_add(1);
    let forged = trust::sign_metadata(forged.signed, &old);
    tuf.put("tuf/timestamp.json", &trust::file_bytes(&forged));
    assert_eq!(
        tuf.message(&tuf.client().err().unwrap()),
        "TUF verification of `<storage>` failed: Failed to verify timestamp metadata: Signature threshold of 1 not met for role timestamp (0 valid signatures)"
    );
}

/// `regis verify --adopt` and `regis fetch` through the binary, with `--json`.
#[test]
fn the_binary_adopts_verifies_and_fetches() {
    let tuf = with_tuf();
    // The binary reads the config from regis.dhall: write the trust fields there.
    let config = regis::config::Config::load(&tuf.t.layout.registry).unwrap();
    let mut config = config;
    config.trust_targets_key = tuf.t.config.trust_targets_key.clone();
    config.trust_snapshot_key = tuf.t.config.trust_snapshot_key.clone();
    config.trust_timestamp_key = tuf.t.config.trust_timestamp_key.clone();
    config.trust_atom_key = tuf.t.config.trust_atom_key.clone();
    config.trust_timestamp_expiry_days = 3650;
    config.trust_online_expiry_days = 3650;
    config.trust_hash_bins = 16;
    tuf.t
        .registry
        .commit_change("Trust keys", tuf.t.config.push_retry(), |root| {
            std::fs::write(root.join("regis.dhall"), config.to_dhall()).unwrap();
            Ok::<_, regis::git::GitError>(vec![PathBuf::from("regis.dhall")])
        })
        .unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_regis"))
            .arg("--registry")
            .arg(&tuf.t.layout.registry)
            .args(args)
            .args(["--state", tuf.state.path().to_str().unwrap()])
            .env_remove("REGIS_STORAGE")
            .env_remove("REGIS_INDEX")
            .output()
            .unwrap()
    };
    let out = run(&["verify", "--adopt", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["adopted"]["tarballs"], 1);
    assert_eq!(doc["adopted"]["bins"], 16);
    assert_eq!(doc["adopted"]["registry"]["changed"], true);
    assert_eq!(doc["problems"], serde_json::json!([]));
    assert_eq!(doc["tarballs"], 1);
    let out_dir = tempfile::tempdir().unwrap();
    let out = run(&[
        "fetch",
        "prelude@1.0.0",
        "--out",
        out_dir.path().to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("Fetched `prelude@1.0.0` to "), "{text}");
    let fetched = std::fs::read(out_dir.path().join("prelude-1.0.0.tar.gz")).unwrap();
    assert_eq!(fetched, tuf.stored("prelude/1.0.0.tar.gz"));
    // A second adoption is refused; a swapped tarball fails verify with exit 1.
    let out = run(&["verify", "--adopt"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    tuf.put("prelude/1.0.0.tar.gz", b"swapped");
    let out = run(&["verify"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("problem: the target `prelude/1.0.0.tar.gz` failed verification: `1.0.0.tar.gz` hashes to `"),
        "{text}"
    );
    let out = run(&[
        "fetch",
        "prelude@1.0.0",
        "--out",
        out_dir.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
}

/// The real registry view (673 packages, 3,957 versions, package set 80.7.0, no tarballs) adopted: every
/// published version gains a signed target with the size and hash its metadata records,
/// the package set is a target, and `verify` holds every metadata file to the targets
/// with nothing amiss but the tarballs this view does not carry.
#[test]
fn the_real_registry_view_is_adopted_and_verifies() {
    let Some(fixtures) = testing::purescript_fixtures() else {
        return;
    };
    let view = fixtures.join("package-set-samples/registry");
    let tuf = with_tuf();
    let registry = tuf.t.layout.registry.clone();
    tuf.t
        .registry
        .commit_change("The real view", tuf.t.config.push_retry(), |root| {
            // Only the view's packages: the one this setup published goes.
            let locations: Vec<PathBuf> = testing::files_below(&root.join("locations"))
                .into_iter()
                .map(|p| Path::new("locations").join(p))
                .collect();
            std::fs::remove_dir_all(root.join("metadata")).unwrap();
            std::fs::remove_dir_all(root.join("atoms")).unwrap();
            std::fs::remove_dir_all(root.join("locations")).unwrap();
            testing::copy_dir(&view, root);
            let mut paths: Vec<PathBuf> = testing::files_below(&view);
            paths.extend([
                PathBuf::from("metadata/prelude.json"),
                PathBuf::from("atoms/prelude"),
            ]);
            paths.extend(locations);
            Ok::<_, regis::git::GitError>(paths)
        })
        .unwrap();
    let published: usize = regis::store::RegistryDir::new(&registry)
        .all_metadata()
        .unwrap()
        .values()
        .map(|m| m.published.len())
        .sum();
    let a = verify::adopt(&tuf.t.ctx()).unwrap();
    assert_eq!((a.tarballs, a.atoms, a.package_sets), (published, 0, 1));
    assert_eq!(a.missing.len(), published);
    let found = tuf.verify();
    assert_eq!(found.problems, Vec::<String>::new());
    assert_eq!(found.metadata, 673);
    assert_eq!((found.tarballs, found.package_sets), (published, 1));
    assert_eq!(found.missing.len(), published);
    // A hand edit of one real metadata file after adoption is named.
    let file = registry.join("metadata/prelude.json");
    let text = std::fs::read_to_string(&file).unwrap();
    let m = regis::metadata::Metadata::from_json("prelude", &text).unwrap();
    let (version, entry) = m.published.iter().next().unwrap();
    let edited = text.replacen(
        &entry.hash.to_string(),
        &regis::schema::Sha256::of(b"x").to_string(),
        1,
    );
    std::fs::write(&file, edited).unwrap();
    let problems = tuf.verify().problems;
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[1].starts_with(&format!(
            "metadata of `prelude` records `{version}` as `sha256-"
        )),
        "{problems:?}"
    );
}

/// Two jobs copy at once and the one with the older timestamp writes last: it finds a
/// newer timestamp where it looked and leaves it, so a client never sees the registry go
/// back.
#[test]
fn a_slower_copy_never_puts_an_older_timestamp_back() {
    let tuf = adopted();
    let first = tuf.stored("tuf/timestamp.json");
    tuf.release("prelude", "1.1.0");
    let tuf_dir = tuf.t.layout.registry.join("tuf");
    let second: Vec<(PathBuf, Vec<u8>)> = testing::files_below(&tuf_dir)
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(tuf_dir.join(&p)).unwrap();
            (p, bytes)
        })
        .collect();
    tuf.release("console", "1.0.0");
    let third = tuf.stored("tuf/timestamp.json");
    // This job holds the second state; storage still serves the first when it looks.
    for (p, bytes) in &second {
        std::fs::write(tuf_dir.join(p), bytes).unwrap();
    }
    tuf.put("tuf/timestamp.json", &first);
    // Another job's newer timestamp lands between this job's look and its write.
    let storage = &tuf.t.storage;
    let overtaken = testing::Interleaved::before_replace(storage, |key| {
        let now = storage.get(key).unwrap();
        assert!(storage.replace_if(key, now.as_deref(), &third).unwrap());
    });
    let mut ctx = tuf.t.ctx();
    ctx.storage = &overtaken;
    let signer = regis::operation::tuf::tuf_signer(&tuf.t.config, &tuf.t.layout.registry).unwrap();
    let published = regis::operation::tuf::publish(&ctx, Some(&signer))
        .unwrap()
        .unwrap();
    assert_eq!(published.timestamp, 3);
    assert_eq!(tuf.stored("tuf/timestamp.json"), third);
}

/// `regis pack` of `p`'s payload through the binary, signed with `key` (an OpenSSH private
/// key file) when given: the JSON document it prints.
fn pack(tuf: &Tuf, p: &regis::sample::SamplePackage, key: Option<&Path>) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let payload = dir.path().join("payload.json");
    std::fs::write(&payload, serde_json::to_string(&p.payload(true)).unwrap()).unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_regis"));
    cmd.arg("--registry")
        .arg(&tuf.t.layout.registry)
        .args(["--json", "pack"])
        .arg(&payload)
        .arg("--out")
        .arg(dir.path());
    if let Some(key) = key {
        cmd.arg("--key").arg(key);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn key_file(dir: &Path, seed: u8) -> PathBuf {
    let path = dir.join(format!("key-{seed}"));
    std::fs::write(&path, testing::seeded_key(seed)).unwrap();
    path
}

/// Developer signing: an owner packs a release with `regis pack`, gets the very hash the
/// registry computes, signs it, and the release claims the package: later releases need an
/// owner's signature at the registry, and a client refuses a release of the claimed
/// package that the registry made with its own keys alone.
#[test]
fn an_owner_signed_release_claims_the_package_against_the_registry_itself() {
    let tuf = adopted();
    let keys = tempfile::tempdir().unwrap();
    let owner_key = key_file(keys.path(), 1);
    let mut p = tuf.t.package("prelude", "1.1.0", &[]);
    p.manifest.owners = Some(vec![owner().public()]);
    tuf.t.push_source(&p);
    // Unsigned, pack prints the text to sign and the hash.
    let unsigned = pack(&tuf, &p, None);
    assert_eq!(unsigned["payload"], serde_json::Value::Null);
    let doc = pack(&tuf, &p, Some(&owner_key));
    assert_eq!(doc["hash"], unsigned["hash"]);
    assert_eq!(
        doc["releaseText"],
        format!(
            "regis-release:prelude@1.1.0:{}",
            doc["hash"].as_str().unwrap()
        )
    );
    let payload: regis::payload::Publish = serde_json::from_value(doc["payload"].clone()).unwrap();
    let report = tuf.t.publish(&payload).unwrap();
    assert_eq!(report.hash.to_string(), doc["hash"].as_str().unwrap());
    let fetched = tuf.fetch("prelude", "1.1.0").unwrap();
    let release = fetched.atoms[0].atom.signed.release.clone().unwrap();
    assert_eq!(release.signer, owner().public());
    let client = tuf.client().unwrap();
    let target = client.target("prelude/1.1.0.tar.gz").unwrap();
    assert_eq!(
        target.custom["release"],
        serde_json::to_value(&release).unwrap()
    );
    // 1.0.0, published before the claim, still verifies.
    tuf.fetch("prelude", "1.0.0").unwrap();

    // The registry refuses a later release without an owner's signature, or with a
    // stranger's.
    let mut next = tuf.t.package("prelude", "1.2.0", &[]);
    next.manifest.owners = Some(vec![owner().public()]);
    tuf.t.push_source(&next);
    let e = tuf.t.publish(&next.payload(true)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "`prelude` is claimed by its owners: its releases are signed by an owner (`prelude@1.1.0` was), so the publish of `prelude@1.2.0` needs a `releaseSignature`: pack it with `regis pack PAYLOAD --key ~/.ssh/id_ed25519` (an owner's key) and publish the payload it prints"
    );
    let stranger = pack(&tuf, &next, Some(&key_file(keys.path(), 9)));
    let payload: regis::payload::Publish =
        serde_json::from_value(stranger["payload"].clone()).unwrap();
    let e = tuf.t.publish(&payload).unwrap_err();
    assert_eq!(
        regis::error_chain(&e),
        format!(
            "the `releaseSignature` of `prelude@1.2.0` is not an owner's signature of `regis-release:prelude@1.2.0:{}` (the package lists 1 owner): pack and sign it with `regis pack PAYLOAD --key ~/.ssh/id_ed25519`, an owner's key: the signature does not match the payload for the 1 key tried (`ssh-ed25519` `SHA256:fe85JkIjo8VPe+XqXJGH5Mau1EMFdK1OdKvJUFicyA8`): the payload must be signed exactly as given, with an owner's key",
            stranger["hash"].as_str().unwrap()
        )
    );

    // The registry, compromised up to its online and atom keys, makes 9.9.9 alone: a
    // signed atom on the package's chain and a signed target. The client refuses it.
    let name: regis::schema::PackageName = "prelude".parse().unwrap();
    let atom_key =
        trust::SigningKey::from_bytes(&std::fs::read(key_of(&tuf.init, Role::Atom)).unwrap())
            .unwrap();
    let forge = |release: Option<regis::atom::ReleaseSignature>| {
        let head = regis::atom::read_head(
            &regis::store::RegistryDir::new(&tuf.t.layout.registry),
            &name,
        )
        .unwrap();
        tuf.forge_release(
            "9.9.9",
            b"the registry's own tarball",
            &atom_key,
            head,
            release,
        );
    };
    forge(None);
    let refusal = "`prelude` is claimed by its owners (its release `1.1.0` is signed by one), and `prelude@9.9.9` carries no owner's signature: the registry, not an owner, made this release";
    assert_eq!(
        tuf.message(&tuf.fetch("prelude", "9.9.9").unwrap_err()),
        refusal
    );
    // `regis verify` finds it too, among releases that verify.
    let client = tuf.client().unwrap();
    let found = verify::verify_all(&client, None).unwrap();
    assert_eq!(found.problems, [refusal]);
    // Signed by a key of the registry's choosing: not an owner the chain recorded.
    let attacker = OwnerKey::from_openssh(&testing::seeded_key(9), None).unwrap();
    let hash = regis::schema::Sha256::of(b"the registry's own tarball");
    let text = regis::payload::release_text(&name, &"9.9.9".parse().unwrap(), &hash);
    forge(Some(regis::atom::ReleaseSignature {
        signer: attacker.public(),
        signature: attacker
            .sign(
                &text,
                SignatureFormat::Raw,
                regis::payload::RELEASE_NAMESPACE,
            )
            .unwrap(),
    }));
    assert_eq!(
        tuf.message(&tuf.fetch("prelude", "9.9.9").unwrap_err()),
        "the owner's signature of `prelude@9.9.9` does not verify: it is signed by `ssh-ed25519` `SHA256:doxiASlJnKSD9j+JpVoWpfEFHjUrsF9ZYr+cir4FYjo`, which is not among the owners the package's atoms recorded before it (`ssh-ed25519` `SHA256:fe85JkIjo8VPe+XqXJGH5Mau1EMFdK1OdKvJUFicyA8`)"
    );
}

/// Without atoms a release signature would be kept nowhere: refused, naming why.
#[test]
fn a_release_signature_needs_a_registry_that_keeps_atoms() {
    let t = TestRegistry::new();
    let mut p = t.package("prelude", "1.0.0", &[]);
    p.manifest.owners = Some(vec![owner().public()]);
    t.push_source(&p);
    let mut payload = p.payload(true);
    payload.release_signature = Some("00".to_owned());
    assert_eq!(
        t.publish(&payload).unwrap_err().to_string(),
        "this registry keeps no atoms (`trustAtomKey` is not set), so the `releaseSignature` of `prelude@1.0.0` would be kept nowhere a client could check it: publish without it, or have the registry set an atom key"
    );
}

/// A registry holding every key it has (online and atom) rewrites a package's history: a
/// client that verified the package before keeps the atoms it saw (`--state`) and refuses
/// a chain that dropped one, or that forked from it.
#[test]
fn a_client_that_saw_a_history_refuses_it_rewritten_or_forked() {
    let tuf = adopted();
    let fetched = tuf.fetch("prelude", "1.0.0").unwrap();
    let first = fetched.atoms[0].id;
    let atom_key =
        trust::SigningKey::from_bytes(&std::fs::read(key_of(&tuf.init, Role::Atom)).unwrap())
            .unwrap();
    // A fork: a new first atom for 9.9.9, the old chain left in place.
    tuf.forge_release("9.9.9", b"a forked release", &atom_key, None, None);
    assert_eq!(
        tuf.message(&tuf.fetch("prelude", "9.9.9").unwrap_err()),
        "the atom `<sha256>` of `prelude`, which this client verified before, is not on one chain with the atoms of `prelude@9.9.9`: the package's history forked"
    );
    // A rewrite: the atom the client saw taken out of the signed targets.
    let name: regis::schema::PackageName = "prelude".parse().unwrap();
    tuf.sign_changes(&[trust::Change {
        path: first.key(&name).as_str().to_owned(),
        target: None,
    }]);
    assert_eq!(
        tuf.message(&tuf.fetch("prelude", "9.9.9").unwrap_err()),
        "the atom `<sha256>` of `prelude`, which this client verified before, is gone from the registry's signed targets: the package's history was rewritten"
    );
    // A client without that memory (a fresh state) cannot tell: the residual risk.
    let fresh = tempfile::tempdir().unwrap();
    let client = regis::operation::client::Client::load(
        regis::operation::client::Origin::parse(tuf.t.layout.storage.to_str().unwrap()).unwrap(),
        &tuf.root(),
        fresh.path(),
    )
    .unwrap();
    regis::operation::client::fetch(&client, &name, &"9.9.9".parse().unwrap()).unwrap();
}
