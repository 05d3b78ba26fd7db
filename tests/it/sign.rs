//! `regis sign` with keys `ssh-keygen` makes: its output verifies with `regis::auth`, its
//! `SSH SIGNATURE` blocks pass `ssh-keygen -Y check-novalidate`, and what `ssh-keygen -Y
//! sign` writes verifies with `regis::auth::verify`. Skips with a note without `ssh-keygen`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use regis::auth::{verify, verify_any};
use regis::payload::Authenticated;
use regis::schema::Owner;
use regis::testing::{skip, ssh_keygen};

const PASSPHRASE_VAR: &str = "REGIS_TEST_PASSPHRASE";
const TRANSFER: &[&str] = &["transfer", "aff", "--to-github", "me/purescript-aff"];
/// The time every `regis sign` here runs at (`REGIS_NOW`): what it puts in `signedAt`.
const NOW: &str = "2026-11-22T10:00:00.000Z";
const TRANSFER_JSON: &str = r#"{"name":"aff","newLocation":{"githubOwner":"me","githubRepo":"purescript-aff"},"signedAt":"2026-11-22T10:00:00.000Z"}"#;

/// A key pair `ssh-keygen` wrote.
struct Key {
    path: PathBuf,
    owner: Owner,
    passphrase: Option<&'static str>,
}

fn have_ssh_keygen() -> bool {
    let found = Command::new("ssh-keygen")
        .arg("-?")
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !found {
        skip("`ssh-keygen` is not installed (this test signs with its keys)");
    }
    found
}

fn keygen(dir: &Path, name: &str, kind: &[&str], passphrase: Option<&'static str>) -> Key {
    let (path, public) =
        ssh_keygen(dir, name, kind, passphrase.unwrap_or("")).expect("`ssh-keygen` runs");
    Key {
        owner: Owner::from_openssh(&public).unwrap(),
        path,
        passphrase,
    }
}

/// One key of every supported type, two of them passphrase-protected.
fn keys(dir: &Path) -> Vec<Key> {
    vec![
        keygen(dir, "ed25519", &["-t", "ed25519"], None),
        keygen(dir, "rsa", &["-t", "rsa"], None),
        keygen(dir, "p256", &["-t", "ecdsa", "-b", "256"], None),
        keygen(dir, "p384", &["-t", "ecdsa", "-b", "384"], None),
        keygen(dir, "p521", &["-t", "ecdsa", "-b", "521"], None),
        keygen(dir, "ed25519-protected", &["-t", "ed25519"], Some("secret")),
        keygen(dir, "rsa-protected", &["-t", "rsa"], Some("secret")),
    ]
}

/// `regis sign --key KEY [--passphrase-env VAR] ARGS` in `dir`, with `stdin`.
fn regis_sign(dir: &Path, key: &Key, args: &[&str], stdin: &str) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_regis"));
    command
        .current_dir(dir)
        .args(["sign", "--key"])
        .arg(&key.path)
        .args(args)
        .env("REGIS_NOW", NOW)
        .env_remove(PASSPHRASE_VAR)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(passphrase) = key.passphrase {
        command
            .args(["--passphrase-env", PASSPHRASE_VAR])
            .env(PASSPHRASE_VAR, passphrase);
    }
    let mut child = command.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn signed(dir: &Path, key: &Key, args: &[&str]) -> Authenticated {
    let out = regis_sign(dir, key, args, "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `ssh-keygen -Y check-novalidate -n NAMESPACE -s SIG < PAYLOAD` succeeds.
fn ssh_keygen_accepts(dir: &Path, signed: &Authenticated, namespace: &str) -> bool {
    let sig = dir.join("payload.sig");
    std::fs::write(&sig, &signed.signature).unwrap();
    let mut child = Command::new("ssh-keygen")
        .args(["-Y", "check-novalidate", "-n", namespace, "-s"])
        .arg(&sig)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(signed.payload.as_bytes())
        .unwrap();
    child.wait().unwrap().success()
}

#[test]
fn signatures_of_every_key_type_verify_with_regis_and_ssh_keygen() {
    if !have_ssh_keygen() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let keys = keys(tmp.path());
    let owners: Vec<Owner> = keys.iter().map(|k| k.owner.clone()).collect();
    for key in &keys {
        let raw = signed(tmp.path(), key, TRANSFER);
        assert_eq!(raw.payload, TRANSFER_JSON);
        assert!(raw.signature.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(
            verify_any(&raw.payload, &raw.signature, &owners, "file").unwrap(),
            &key.owner
        );

        let sshsig = signed(
            tmp.path(),
            key,
            &[&["--format", "sshsig"], TRANSFER].concat(),
        );
        assert_eq!(
            verify_any(&sshsig.payload, &sshsig.signature, &owners, "file").unwrap(),
            &key.owner
        );
        assert!(verify(&sshsig.payload, &sshsig.signature, &key.owner, "other").is_err());
        assert!(
            ssh_keygen_accepts(tmp.path(), &sshsig, "file"),
            "{}",
            key.path.display()
        );
        assert!(!ssh_keygen_accepts(tmp.path(), &sshsig, "other"));
    }
}

#[test]
fn signatures_ssh_keygen_makes_verify_with_regis() {
    if !have_ssh_keygen() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let payload = tmp.path().join("payload");
    std::fs::write(&payload, TRANSFER_JSON).unwrap();
    for key in keys(tmp.path()).iter().filter(|k| k.passphrase.is_none()) {
        let status = Command::new("ssh-keygen")
            .args(["-Y", "sign", "-n", "file", "-f"])
            .arg(&key.path)
            .arg(&payload)
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        let signature = std::fs::read_to_string(payload.with_extension("sig")).unwrap();
        std::fs::remove_file(payload.with_extension("sig")).unwrap();
        verify(TRANSFER_JSON, &signature, &key.owner, "file")
            .unwrap_or_else(|e| panic!("{}: {e}", key.path.display()));
        assert!(
            verify(
                &TRANSFER_JSON.replace("aff", "aft"),
                &signature,
                &key.owner,
                "file"
            )
            .is_err()
        );
    }
}

#[test]
fn a_payload_file_signs_the_same_canonical_bytes() {
    if !have_ssh_keygen() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let key = keygen(tmp.path(), "ed25519", &["-t", "ed25519"], None);
    let body = "Please move it:\n```json\n{ \"newLocation\": { \"githubRepo\": \"purescript-aff\", \"githubOwner\": \"me\" },\n  \"name\": \"aff\" }\n```\n";
    let from_stdin = regis_sign(tmp.path(), &key, &["-"], body);
    assert!(
        from_stdin.status.success(),
        "{}",
        String::from_utf8_lossy(&from_stdin.stderr)
    );
    let from_args = signed(tmp.path(), &key, TRANSFER);
    assert_eq!(
        String::from_utf8(from_stdin.stdout).unwrap(),
        serde_json::to_string_pretty(&from_args).unwrap() + "\n"
    );

    std::fs::write(
        tmp.path().join("unpublish.json"),
        r#"{"reason":"broken","version":"1.0.0","name":"aff"}"#,
    )
    .unwrap();
    let from_file = signed(tmp.path(), &key, &["unpublish.json"]);
    let from_args = signed(
        tmp.path(),
        &key,
        &["unpublish", "aff@1.0.0", "--reason", "broken"],
    );
    assert_eq!(from_file, from_args);
    assert_eq!(
        from_file.payload,
        r#"{"name":"aff","version":"1.0.0","reason":"broken","signedAt":"2026-11-22T10:00:00.000Z"}"#
    );
    verify(&from_file.payload, &from_file.signature, &key.owner, "file").unwrap();

    std::fs::write(
        tmp.path().join("publish.json"),
        r#"{"name":"aff","ref":"v1.0.0","version":"1.0.0"}"#,
    )
    .unwrap();
    let out = regis_sign(tmp.path(), &key, &["publish.json"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "`publish.json` holds a Publish payload (publishing needs no signature): `regis sign` signs one of `Transfer {name, newLocation}`, `Unpublish {name, version, reason}`, `Yank {name, yank, reason}`, `Unyank {name, unyank}`, `Deprecate {name, message, alternative?}`, `Alias {name, alias, version}` or `Unalias {name, unalias}`"
        ),
        "{stderr}"
    );
}

#[test]
fn a_protected_key_needs_its_passphrase() {
    if !have_ssh_keygen() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut key = keygen(tmp.path(), "protected", &["-t", "ed25519"], Some("secret"));
    let private = std::fs::read_to_string(&key.path).unwrap();
    let secret_line = private.lines().nth(2).unwrap().to_owned();
    let failure = |key: &Key, extra: &[&str]| {
        let out = regis_sign(tmp.path(), key, &[extra, TRANSFER].concat(), "");
        assert_eq!(out.status.code(), Some(1));
        assert!(out.stdout.is_empty());
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(!stderr.contains(&secret_line), "{stderr}");
        assert!(
            key.passphrase.is_none_or(|p| !stderr.contains(p)),
            "{stderr}"
        );
        stderr
    };

    key.passphrase = Some("wrong");
    let stderr = failure(&key, &[]);
    assert!(
        stderr.contains("the passphrase does not decrypt the key `ssh-ed25519` `SHA256:"),
        "{stderr}"
    );
    assert!(stderr.contains(&format!(
        "could not use the private key `{}`",
        key.path.display()
    )));

    key.passphrase = None;
    let stderr = failure(&key, &[]);
    assert!(
        stderr.contains("is passphrase-protected: give its passphrase"),
        "{stderr}"
    );
    let stderr = failure(&key, &["--passphrase-env", "REGIS_TEST_UNSET_VARIABLE"]);
    assert_eq!(
        stderr,
        "error: the environment variable `REGIS_TEST_UNSET_VARIABLE` named by `--passphrase-env` is not set: expected the key's passphrase in it\n"
    );
}

/// `regis sign owners MANIFEST` signs `regis-owners:<name>@<version>:<owners>` of a
/// `purs.json` or a `spago.yaml` (the same list, the same text), prints the Publish
/// payload's `ownersSignature` and says what it signed; a file without owners, or one that
/// is no manifest, is refused.
#[test]
fn sign_owners_signs_the_owner_list_of_a_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    let pem = regis::testing::seeded_key(1);
    std::fs::write(tmp.path().join("owner"), &pem).unwrap();
    let owner = regis::auth::SigningKey::from_openssh(&pem, None).unwrap();
    let sign = |dir: &Path, args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_regis"))
            .current_dir(dir)
            .args(["sign", "--key"])
            .arg(tmp.path().join("owner"))
            .args(args)
            .output()
            .unwrap()
    };
    let location = regis::schema::Location::github("me", "purescript-aff", None).unwrap();
    let mut p = regis::sample::SamplePackage::new("aff", "8.0.0", location, &[]);
    let (mine, theirs) = (owner.public(), regis::testing::seeded_key(2));
    let theirs = regis::auth::SigningKey::from_openssh(&theirs, None)
        .unwrap()
        .public();
    p.manifest.owners = Some(vec![mine.clone(), theirs.clone()]);
    let expected = regis::payload::owners_text(
        &p.manifest.name,
        &p.manifest.version,
        &[mine.clone(), theirs.clone()],
    );

    let json_dir = tmp.path().join("json");
    std::fs::create_dir(&json_dir).unwrap();
    std::fs::write(json_dir.join("purs.json"), p.manifest.to_pretty_json()).unwrap();
    let yaml_dir = tmp.path().join("yaml");
    std::fs::create_dir(&yaml_dir).unwrap();
    let owner_yaml = |o: &Owner| {
        format!(
            "      - keytype: {}\n        public: {}\n",
            o.keytype(),
            o.public()
        )
    };
    let yaml = format!(
        "{}    owners:\n{}{}",
        regis::sample::spago_yaml(&p.manifest),
        owner_yaml(&mine),
        owner_yaml(&theirs)
    );
    std::fs::write(yaml_dir.join("spago.yaml"), yaml).unwrap();

    let mut printed = Vec::new();
    for (dir, file) in [(&json_dir, "purs.json"), (&yaml_dir, "spago.yaml")] {
        let out = sign(dir, &["owners", file]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let signature = doc["ownersSignature"].as_str().unwrap().to_owned();
        verify(&expected, &signature, &mine, "file").unwrap();
        assert_eq!(
            String::from_utf8(out.stderr).unwrap(),
            format!(
                "signed `{expected}`: add `ownersSignature` to the Publish payload of `aff@8.0.0`\n"
            )
        );
        printed.push(signature);
    }
    assert_eq!(
        printed[0], printed[1],
        "ed25519 signs the same text the same"
    );

    // Refusals: a manifest without owners, a file that is no manifest listing owners, and a
    // payload file beside the subcommand.
    p.manifest.owners = None;
    std::fs::write(json_dir.join("purs.json"), p.manifest.to_pretty_json()).unwrap();
    std::fs::write(json_dir.join("bower.json"), "{}").unwrap();
    let refused = |args: &[&str]| {
        let out = sign(&json_dir, args);
        assert_eq!(out.status.code(), Some(1));
        assert!(out.stdout.is_empty());
        format!("{args:?} → {}", String::from_utf8(out.stderr).unwrap())
    };
    let lines = [
        refused(&["owners", "purs.json"]),
        refused(&["owners", "bower.json"]),
        refused(&["payload.json", "owners", "purs.json"]),
    ];
    insta::assert_snapshot!(lines.join(""), @r#"
    ["owners", "purs.json"] → error: `purs.json` lists no `owners`: a publish without them keeps the package's owners, so there is no owner list to sign
    ["owners", "bower.json"] → error: `bower.json` is not a manifest that lists owners: expected a file named `purs.json`, `spago.yaml` or `purs.dhall`
    ["payload.json", "owners", "purs.json"] → error: both a payload file `payload.json` and the `owners` subcommand given: expected one of them
    "#);
}
