//! Crash and re-run: each operation is stopped (`REGIS_FAULT`, built into the test binary:
//! the process aborts as `kill -9` would) after each of its steps, then run again with the
//! same payload; the registry must end exactly as an uninterrupted run leaves it — every
//! metadata, index and package-set file and every stored tarball byte for byte, each
//! change committed once.

use std::collections::BTreeMap;
use std::process::{Command, Output};

use regis::auth::{SignatureFormat, SigningKey};
use regis::git::GitRepo;
use regis::payload::Authenticated;
use regis::storage::ListedKind;
use regis::testing::{self, NOW, TestRegistry};

fn trustee() -> SigningKey {
    SigningKey::from_openssh(&testing::seeded_key(5), None).unwrap()
}

/// Keys for every role and root version 1 made with them, made once for a test so each
/// registry it makes signs the same bytes.
struct TufKeys {
    dir: tempfile::TempDir,
    keys: Vec<regis::trust::NewKey>,
    root: Vec<u8>,
}

fn tuf_keys() -> TufKeys {
    let dir = tempfile::tempdir().unwrap();
    let made = dir.path().join("made");
    std::fs::create_dir(&made).unwrap();
    let expires = jiff::Timestamp::from_second(4_000_000_000).unwrap();
    let init = regis::trust::init(&made, &dir.path().join("keys"), 1, 1, expires).unwrap();
    let root = std::fs::read(made.join(&init.root)).unwrap();
    TufKeys {
        keys: init.keys,
        dir,
        root,
    }
}

/// A registry with `base@1.0.0`, `gone@1.0.0` and `gone@1.1.0` published and the source of
/// `fresh@1.0.0` tagged: the same every time it is made. With `tuf`, it has a root of trust
/// made of those keys and a TUF repository adopted before the first publish, and signs
/// atoms.
fn registry_with(tuf: Option<&TufKeys>) -> TestRegistry {
    use regis::trust::{KeySource, Role};
    let key = |role: Role| {
        let keys = &tuf.unwrap().keys;
        Some(KeySource::File(
            keys.iter().find(|k| k.role == role).unwrap().path.clone(),
        ))
    };
    let t = TestRegistry::with_config(|c| {
        c.trustees = vec![trustee().public()];
        if tuf.is_some() {
            c.trust_targets_key = key(Role::Targets);
            c.trust_snapshot_key = key(Role::Snapshot);
            c.trust_timestamp_key = key(Role::Timestamp);
            c.trust_atom_key = key(Role::Atom);
            c.trust_timestamp_expiry_days = 3650;
            c.trust_online_expiry_days = 3650;
            c.trust_hash_bins = 16;
        }
    });
    if let Some(tuf) = tuf {
        t.registry
            .commit_change("Root of trust", t.config.push_retry(), |root| {
                let path = std::path::PathBuf::from("tuf/root/1.root.json");
                std::fs::create_dir_all(root.join("tuf/root")).unwrap();
                std::fs::write(root.join(&path), &tuf.root).unwrap();
                Ok::<_, regis::git::GitError>(vec![path])
            })
            .unwrap();
        regis::operation::verify::adopt(&t.ctx()).unwrap();
    }
    t.release(&t.package("base", "1.0.0", &[]));
    t.release(&t.package("gone", "1.0.0", &[]));
    t.release(&t.package("gone", "1.1.0", &[]));
    t.push_source(&t.package("fresh", "1.0.0", &[("base", ">=1.0.0 <2.0.0")]));
    t
}

/// The operation's subcommand and payload.
fn operation(t: &TestRegistry, which: &str) -> (Vec<&'static str>, String) {
    let sign = |payload: serde_json::Value| {
        let payload = payload.to_string();
        let signature = trustee()
            .sign(&payload, SignatureFormat::Raw, "file")
            .unwrap();
        serde_json::to_string(&Authenticated { payload, signature }).unwrap()
    };
    match which {
        "publish" => (
            vec!["publish"],
            serde_json::to_string(
                &t.package("fresh", "1.0.0", &[("base", ">=1.0.0 <2.0.0")])
                    .payload(true),
            )
            .unwrap(),
        ),
        "transfer" => (
            vec!["transfer"],
            sign(serde_json::json!({"name": "base", "newLocation": t.github("elsewhere")})),
        ),
        "unpublish" => (
            vec!["unpublish"],
            sign(serde_json::json!({"name": "gone", "version": "1.0.0", "reason": "a crash test"})),
        ),
        "package-set" => (
            vec!["package-set", "update"],
            serde_json::json!({"packages": {"base": "1.0.0", "gone": "1.1.0"}}).to_string(),
        ),
        other => panic!("{other}"),
    }
}

fn run(t: &TestRegistry, which: &str, fault: Option<&str>) -> Output {
    let (args, payload) = operation(t, which);
    let file = t.tmp.path().join("payload.json");
    std::fs::write(&file, payload).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_regis"));
    cmd.arg("--registry")
        .arg(&t.layout.registry)
        .args(args)
        .arg(&file)
        .env("REGIS_NOW", NOW)
        .env_remove("REGIS_FAULT");
    if let Some(fault) = fault {
        cmd.env("REGIS_FAULT", fault);
    }
    cmd.output().unwrap()
}

/// Every file the remotes hold at their heads (the temporary directory's path replaced by
/// `<tmp>`) and every stored tarball, by path, and how many times each commit message
/// appears on each remote.
fn end_state(t: &TestRegistry) -> (BTreeMap<String, Vec<u8>>, BTreeMap<String, usize>) {
    let mut files = BTreeMap::new();
    let mut commits = BTreeMap::new();
    for (label, remote) in [
        ("registry", &t.layout.registry_remote),
        ("index", &t.layout.index_remote),
    ] {
        let checkout = t.tmp.path().join(format!("end-{label}"));
        let _ = std::fs::remove_dir_all(&checkout);
        GitRepo::clone(&format!("file://{}", remote.display()), &checkout).unwrap();
        for rel in testing::files_below(&checkout) {
            if !rel.starts_with(".git") {
                // the config names the registry's temporary directory
                let text = String::from_utf8_lossy(&std::fs::read(checkout.join(&rel)).unwrap())
                    .replace(&t.tmp.path().display().to_string(), "<tmp>");
                files.insert(format!("{label}/{}", rel.display()), text.into_bytes());
            }
        }
        for message in testing::commits_on(remote) {
            *commits
                .entry(format!("{label}: {}", message.trim()))
                .or_default() += 1;
        }
    }
    let storage = regis::storage::FsStorage::new(&t.layout.storage);
    for listed in regis::storage::Storage::list(&storage).unwrap() {
        // Tarballs, atoms, and the TUF repository's files and package sets.
        if let ListedKind::Tarball { .. } | ListedKind::Atom { .. } | ListedKind::Trust =
            listed.kind
        {
            let bytes = std::fs::read(t.layout.storage.join(&listed.path)).unwrap();
            files.insert(format!("storage/{}", listed.path), bytes);
        }
    }
    (files, commits)
}

fn aborted(out: &Output) -> bool {
    use std::os::unix::process::ExitStatusExt;
    out.status.signal() == Some(6)
}

fn said(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Stop `which` at each of `faults`, run it again, and compare with an uninterrupted run.
fn crash_and_rerun(which: &str, faults: &[&str]) {
    crash_and_rerun_with(None, which, faults);
}

fn crash_and_rerun_with(tuf: Option<&TufKeys>, which: &str, faults: &[&str]) {
    let registry = || registry_with(tuf);
    let clean = registry();
    let out = run(&clean, which, None);
    assert!(out.status.success(), "{which}: {}", said(&out));
    let expected = end_state(&clean);
    for fault in faults {
        let t = registry();
        let out = run(&t, which, Some(fault));
        assert!(
            aborted(&out),
            "{which} at `{fault}` did not stop there: {}",
            said(&out)
        );
        let out = run(&t, which, None);
        assert!(
            out.status.success(),
            "{which} re-run after `{fault}`: {}",
            said(&out)
        );
        let got = end_state(&t);
        assert_eq!(
            got.0.keys().collect::<Vec<_>>(),
            expected.0.keys().collect::<Vec<_>>(),
            "{which} after `{fault}`: the files"
        );
        for (path, bytes) in &expected.0 {
            assert!(
                got.0[path] == *bytes,
                "{which} after `{fault}`: `{path}` differs"
            );
        }
        assert_eq!(got.1, expected.1, "{which} after `{fault}`: the commits");
    }
}

#[test]
fn a_publish_stopped_after_any_step_finishes_when_run_again() {
    crash_and_rerun(
        "publish",
        &[
            "storage:written",
            "publish:stored",
            "git:changed",
            "git:committed",
            "publish:metadata",
            "git:changed#2",
            "git:committed#2",
            "publish:index",
        ],
    );
}

#[test]
fn an_unpublish_stopped_after_any_step_finishes_when_run_again() {
    crash_and_rerun(
        "unpublish",
        &[
            "git:committed",
            "unpublish:index",
            "git:committed#2",
            "unpublish:metadata",
            "unpublish:tarball",
        ],
    );
}

#[test]
fn a_transfer_and_a_set_update_stopped_before_the_push_finish_when_run_again() {
    crash_and_rerun("transfer", &["git:changed", "git:committed"]);
    crash_and_rerun("package-set", &["git:changed", "git:committed"]);
}

/// With a TUF repository and atoms: an operation stopped after any step, the copy to
/// storage among them, ends as an uninterrupted run, the TUF files in the registry repo and
/// in storage byte for byte.
#[test]
fn operations_on_a_tuf_registry_stopped_after_any_step_finish_when_run_again() {
    let keys = tuf_keys();
    let tuf = Some(&keys);
    crash_and_rerun_with(
        tuf,
        "publish",
        &[
            "git:committed",
            "storage:written#3",
            "tuf:published",
            "git:committed#2",
        ],
    );
    crash_and_rerun_with(tuf, "unpublish", &["storage:written#2", "tuf:published"]);
    crash_and_rerun_with(tuf, "transfer", &["git:committed", "storage:written#2"]);
    crash_and_rerun_with(
        tuf,
        "package-set",
        &["git:committed", "package-set:stored", "tuf:published"],
    );
    let _ = &keys.dir;
}
