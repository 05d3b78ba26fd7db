//! `regis keys` through the binary: keys made for every role and root version 1, rotation
//! and revocation as new root versions, offline signing of a staged version, keys read from
//! files and from environment variables; the chain verified by regis (tough) and by
//! python-tuf, the reference client; private keys never printed and never in the registry.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use regis::trust::{Chain, ROOT_DIR, Role, role_keyids};

/// `regis --registry REGISTRY ARGS` with `env` set.
fn regis(registry: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_regis"));
    command.arg("--registry").arg(registry).args(args);
    for var in ["REGIS_REGISTRY", "REGIS_INDEX", "REGIS_STORAGE"] {
        command.env_remove(var);
    }
    command.envs(env.iter().copied());
    command.output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A run that succeeds, its stdout.
fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// The error message of a run that fails with `code` (stderr: `error: <message>`).
fn refused(out: Output, code: i32) -> String {
    assert_eq!(out.status.code(), Some(code), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    stderr
        .trim_end()
        .strip_prefix("error: ")
        .unwrap_or_else(|| panic!("{stderr}"))
        .to_owned()
}

/// A registry checkout (a git work tree) and a directory for keys outside it.
struct Setup {
    _tmp: tempfile::TempDir,
    registry: PathBuf,
    keys: PathBuf,
}

fn setup() -> Setup {
    let tmp = tempfile::tempdir().unwrap();
    let registry = tmp.path().join("registry");
    git2::Repository::init(&registry).unwrap();
    let keys = tmp.path().join("keys");
    Setup {
        registry,
        keys,
        _tmp: tmp,
    }
}

/// The key files `init` or `rotate` said it wrote for `role`, from its text output.
/// The first private key file `keys init` wrote for `role` in `dir` (`<role>-<keyid>.pem`).
fn key_file(dir: &Path, role: &str) -> std::path::PathBuf {
    let prefix = format!("{role}-");
    (std::fs::read_dir(dir).unwrap())
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with(&prefix)
        })
        .unwrap_or_else(|| panic!("no {role} key in {}", dir.display()))
}

fn key_paths(stdout: &str, role: &str) -> Vec<String> {
    stdout
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|f| f.len() == 3 && f[0] == role)
        .map(|f| f[2].to_owned())
        .collect()
}

/// Every file below `dir` holds none of the private keys in `keys_dir`.
fn holds_no_private_key(dir: &Path, keys_dir: &Path, printed: &str) {
    let secrets: Vec<String> = std::fs::read_dir(keys_dir)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    for secret in &secrets {
        let body = secret.lines().nth(1).unwrap();
        assert!(!printed.contains(body), "a private key was printed");
        for entry in walkdir::WalkDir::new(dir) {
            let entry = entry.unwrap();
            if entry.file_type().is_file() {
                let bytes = std::fs::read(entry.path()).unwrap();
                let content = String::from_utf8_lossy(&bytes);
                assert!(
                    !content.contains(body) && !content.contains("PRIVATE KEY"),
                    "a private key is in {}",
                    entry.path().display()
                );
            }
        }
    }
}

#[test]
fn keys_init_rotate_revoke_and_sign_root_make_a_chain_tuf_clients_accept() {
    let s = setup();
    let out_dir = s.keys.to_str().unwrap();
    let mut printed = String::new();

    // init: 3 root keys, threshold 2
    let stdout = ok(regis(
        &s.registry,
        &[
            "keys",
            "init",
            "--out",
            out_dir,
            "--root-keys",
            "3",
            "--root-threshold",
            "2",
        ],
        &[],
    ));
    printed.push_str(&stdout);
    let roots = key_paths(&stdout, "root");
    assert_eq!(roots.len(), 3);
    for role in ["targets", "snapshot", "timestamp", "atom"] {
        assert_eq!(key_paths(&stdout, role).len(), 1, "{stdout}");
    }
    assert!(
        stdout.contains(", trustTargetsKey = Some \"file:"),
        "{stdout}"
    );
    #[cfg(unix)]
    for entry in std::fs::read_dir(&s.keys).unwrap() {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = entry.unwrap().metadata().unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let chain = Chain::verified(&s.registry, jiff::Timestamp::now()).unwrap();
    assert_eq!(chain.roots().len(), 1);

    // a second init is refused; keys are never written inside a git work tree
    let again = regis(&s.registry, &["keys", "init", "--out", out_dir], &[]);
    assert_eq!(
        refused(again, 1),
        format!(
            "`{}/tuf/root/1.root.json` already exists: the registry has a root of trust",
            s.registry.display()
        )
    );
    let fresh = setup();
    let inside = fresh.registry.join("keys");
    let out = regis(
        &fresh.registry,
        &["keys", "init", "--out", inside.to_str().unwrap()],
        &[],
    );
    let tree = fresh.registry.canonicalize().unwrap();
    assert_eq!(
        refused(out, 1),
        format!(
            "`{}` is inside the git work tree `{}`: private keys are written outside every repository",
            inside.display(),
            tree.display()
        )
    );
    assert!(!inside.exists() && !fresh.registry.join("tuf").exists());

    // rotate the snapshot key with one root key from a file: version 2 waits
    let stdout = ok(regis(
        &s.registry,
        &[
            "keys", "rotate", "snapshot", "--out", out_dir, "--key", &roots[0],
        ],
        &[],
    ));
    printed.push_str(&stdout);
    assert!(
        stdout.contains("root version 2 waits for signatures in tuf/staged/root.json (signatures: its own root keys 1 of 2, previous version's 1 of 2)"),
        "{stdout}"
    );
    // another rotation is refused while it waits
    let out = regis(
        &s.registry,
        &[
            "keys",
            "rotate",
            "timestamp",
            "--out",
            out_dir,
            "--key",
            &roots[0],
        ],
        &[],
    );
    assert_eq!(
        refused(out, 1),
        format!(
            "a root version is waiting for signatures in `{}/tuf/staged/root.json`: sign it (`regis keys sign-root`) or delete it first",
            s.registry.display()
        )
    );
    // a copy signed elsewhere with the second root key, from an environment variable
    let copy = s.keys.parent().unwrap().join("root-2-copy.json");
    std::fs::copy(s.registry.join("tuf/staged/root.json"), &copy).unwrap();
    let pem = std::fs::read_to_string(&roots[1]).unwrap();
    let stdout = ok(regis(
        &s.registry,
        &[
            "keys",
            "sign-root",
            copy.to_str().unwrap(),
            "--key",
            "env:ROOT_KEY_B",
        ],
        &[("ROOT_KEY_B", &pem)],
    ));
    printed.push_str(&stdout);
    assert!(stdout.starts_with("root version 2 (expires "), "{stdout}");
    assert!(
        stdout.contains("joined the chain: tuf/root/2.root.json (signatures: its own root keys 2 of 2, previous version's 2 of 2)"),
        "{stdout}"
    );
    assert!(s.registry.join("tuf/root/2.root.json").exists());
    assert!(!s.registry.join("tuf/staged/root.json").exists());

    // rotate a root key, root keys named in regis.dhall: the new root key signs too
    let old_root = role_keyids(
        &Chain::read(&s.registry).unwrap().latest().signed,
        Role::Root,
    )[0]
    .clone();
    let config = regis::config::Config {
        trust_root_keys: roots[..2]
            .iter()
            .map(|p| regis::trust::KeySource::File(p.into()))
            .collect(),
        ..regis::config::Config::default()
    };
    std::fs::write(s.registry.join("regis.dhall"), config.to_dhall()).unwrap();
    let out = regis(
        &s.registry,
        &["keys", "rotate", "root", "--out", out_dir],
        &[],
    );
    assert_eq!(
        refused(out, 1),
        "the root role has 3 keys: name the one to replace with `--replace KEYID`"
    );
    let stdout = ok(regis(
        &s.registry,
        &[
            "keys",
            "rotate",
            "root",
            "--replace",
            old_root.as_str(),
            "--out",
            out_dir,
        ],
        &[],
    ));
    printed.push_str(&stdout);
    let new_root = stdout
        .lines()
        .find_map(|l| l.strip_prefix("new root key "))
        .and_then(|l| l.split(": ").nth(1))
        .unwrap()
        .to_owned();
    assert!(
        stdout.contains("joined the chain: tuf/root/3.root.json (signatures: its own root keys 2 of 2, previous version's 2 of 2)"),
        "{stdout}"
    );

    // revoke the replaced root key: listed, in no role
    let stdout = ok(regis(
        &s.registry,
        &[
            "keys",
            "revoke",
            old_root.as_str(),
            "--reason",
            "laptop lost",
            "--key",
            &new_root,
        ],
        &[],
    ));
    printed.push_str(&stdout);
    assert!(stdout.contains("revoked root key"), "{stdout}");
    let chain = Chain::verified(&s.registry, jiff::Timestamp::now()).unwrap();
    assert_eq!(chain.roots().len(), 4);
    let latest = &chain.latest().signed;
    assert!(regis::trust::roles_of(latest, &old_root).is_empty());
    let show = ok(regis(&s.registry, &["keys", "show"], &[]));
    assert!(
        show.contains(&format!(
            "revoked root key {old_root} in root version 4: laptop lost"
        )),
        "{show}"
    );
    printed.push_str(&show);

    // a configured key that is a root key of neither version does not sign, and says so
    let fifth = regis(
        &s.registry,
        &[
            "keys", "rotate", "atom", "--out", out_dir, "--key", &roots[2],
        ],
        &[],
    );
    assert!(fifth.status.success(), "{}", text(&fifth.stderr));
    assert!(
        text(&fifth.stderr).contains("is a root key of neither version: it did not sign"),
        "{}",
        text(&fifth.stderr)
    );
    assert!(text(&fifth.stdout).contains("tuf/root/5.root.json"));
    let chain = Chain::verified(&s.registry, jiff::Timestamp::now()).unwrap();

    holds_no_private_key(&s.registry, &s.keys, &printed);
    python_tuf_accepts(&s.registry.join(ROOT_DIR), chain.roots().len());
}

#[test]
fn bad_keys_are_refused_saying_where_never_what() {
    let s = setup();
    let out_dir = s.keys.to_str().unwrap();
    ok(regis(
        &s.registry,
        &[
            "keys",
            "init",
            "--out",
            out_dir,
            "--root-keys",
            "1",
            "--root-threshold",
            "1",
        ],
        &[],
    ));
    ok(regis(
        &s.registry,
        &["keys", "rotate", "targets", "--out", out_dir],
        &[],
    ));
    let junk = s.keys.parent().unwrap().join("junk.pem");
    let secretish = "-----BEGIN PRIVATE KEY-----\nc2VjcmV0IHRleHQgdGhhdCBpcyBub3QgYSBrZXk=\n-----END PRIVATE KEY-----\n";
    std::fs::write(&junk, secretish).unwrap();
    let staged = s.registry.join("tuf/staged/root.json");
    let sign = |key: &str, env: &[(&str, &str)]| {
        regis(
            &s.registry,
            &["keys", "sign-root", staged.to_str().unwrap(), "--key", key],
            env,
        )
    };
    let out = sign(junk.to_str().unwrap(), &[]);
    assert!(!text(&out.stderr).contains("c2VjcmV0"));
    assert_eq!(
        refused(out, 1),
        format!(
            "`file:{}` does not hold an ed25519 private key (PKCS#8, as PEM `PRIVATE KEY` or DER)",
            junk.display()
        )
    );
    let out = sign("env:NO_SUCH_KEY", &[]);
    assert_eq!(
        refused(out, 1),
        "the environment variable `NO_SUCH_KEY` that should hold a private key is not set"
    );
    let out = sign("env:BAD_KEY", &[("BAD_KEY", secretish)]);
    assert_eq!(
        refused(out, 1),
        "`env:BAD_KEY` does not hold an ed25519 private key (PKCS#8, as PEM `PRIVATE KEY` or DER)"
    );
    let big = s.keys.parent().unwrap().join("big.pem");
    std::fs::write(&big, vec![b'A'; 20_000]).unwrap();
    assert_eq!(
        refused(sign(big.to_str().unwrap(), &[]), 1),
        format!(
            "the key file `{}` is larger than 16384 bytes: not an ed25519 private key",
            big.display()
        )
    );
    let missing = s.keys.parent().unwrap().join("missing.pem");
    let message = refused(sign(missing.to_str().unwrap(), &[]), 1);
    assert!(
        message.starts_with(&format!(
            "could not read the key file `{}`: ",
            missing.display()
        )),
        "{message}"
    );
    // a real key, but inside the registry's work tree
    let root_key = key_file(&s.keys, "root");
    let inside = s.registry.join("root.pem");
    std::fs::copy(&root_key, &inside).unwrap();
    assert_eq!(
        refused(sign(inside.to_str().unwrap(), &[]), 1),
        format!(
            "the key file `{}` is inside the git work tree `{}`: keep private keys out of repositories",
            inside.display(),
            s.registry.canonicalize().unwrap().display()
        )
    );
    // a real key of another role
    let targets_key = key_file(&s.keys, "snapshot");
    let keyid_of = |path: &Path| {
        let key = regis::trust::KeySource::File(path.into()).load().unwrap();
        key.keyid().to_string()
    };
    assert_eq!(
        refused(sign(targets_key.to_str().unwrap(), &[]), 1),
        format!(
            "the key `{}` is not a root key of version 2 or of the version before it",
            keyid_of(&targets_key)
        )
    );
    // the root key signs it into the chain
    ok(sign(root_key.to_str().unwrap(), &[]));
    assert!(s.registry.join("tuf/root/2.root.json").exists());

    // a version that is not the chain's next
    let first = s.registry.join("tuf/root/1.root.json");
    let out = regis(
        &s.registry,
        &[
            "keys",
            "sign-root",
            first.to_str().unwrap(),
            "--key",
            root_key.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(
        refused(out, 1),
        format!(
            "`{}` is root version 1; the chain's next version is 3",
            first.display()
        )
    );
    // keys the chain does not have in the role or at all
    let zeros = "0".repeat(64);
    let out = regis(&s.registry, &["keys", "revoke", &zeros], &[]);
    assert_eq!(
        refused(out, 1),
        format!("no key `{zeros}` in any version of the root chain")
    );
    let timestamp = key_file(&s.keys, "timestamp");
    let timestamp = keyid_of(&timestamp);
    let out = regis(&s.registry, &["keys", "revoke", &timestamp], &[]);
    assert_eq!(
        refused(out, 1),
        format!(
            "revoking `{timestamp}` would leave the timestamp role 0 keys, fewer than its threshold 1: rotate it first (`regis keys rotate timestamp --replace {timestamp}`), then revoke the old key"
        )
    );
    let out = regis(
        &s.registry,
        &[
            "keys",
            "rotate",
            "targets",
            "--replace",
            &timestamp,
            "--out",
            out_dir,
        ],
        &[],
    );
    assert_eq!(
        refused(out, 1),
        format!("the key `{timestamp}` is not a key of the targets role")
    );
    // nothing was written by the refusals
    assert!(!s.registry.join("tuf/root/3.root.json").exists());
    assert!(!s.registry.join("tuf/staged/root.json").exists());
}

/// Where `.ci/run` installs python-tuf (pinned by hash), else the system's.
fn python_tuf_path() -> Option<String> {
    let home = std::env::var("CARGO_HOME")
        .ok()
        .or_else(|| std::env::var("HOME").ok().map(|h| format!("{h}/.cargo")))?;
    let dir = format!("{home}/python-tuf-7.0.1");
    let works = |path: &str| {
        Command::new("python3")
            .args(["-c", "import tuf.api.metadata"])
            .env("PYTHONPATH", path)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    [dir, String::new()].into_iter().find(|p| works(p))
}

/// python-tuf 7 (`tuf.api.metadata`, what its `ngclient` runs) walks the chain as a
/// client updating from version 1: each version verified by the previous one's root role
/// and by its own.
fn python_tuf_accepts(root_dir: &Path, versions: usize) {
    let Some(path) = python_tuf_path() else {
        regis::testing::skip("python-tuf 7.0.1 is not installed (`.ci/run` installs it)");
        return;
    };
    let script = r#"
import sys
from tuf.api.metadata import Metadata, Root
d, n = sys.argv[1], int(sys.argv[2])
trusted = Metadata[Root].from_file(f"{d}/1.root.json")
trusted.verify_delegate(Root.type, trusted)
for v in range(2, n + 1):
    new = Metadata[Root].from_file(f"{d}/{v}.root.json")
    trusted.verify_delegate(Root.type, new)
    new.verify_delegate(Root.type, new)
    assert new.signed.version == trusted.signed.version + 1
    trusted = new
assert not trusted.signed.is_expired()
print("ok", trusted.signed.version)
"#;
    let out = Command::new("python3")
        .args([
            "-c",
            script,
            root_dir.to_str().unwrap(),
            &versions.to_string(),
        ])
        .env("PYTHONPATH", path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), format!("ok {versions}\n"));
}
