//! Test support, one copy for the unit tests, the integration tests (`tests/it/`) and the
//! benchmarks: skipping when a tool or the shared fixtures are absent, files and bare
//! remotes, keys made by `ssh-keygen` or from a seed, a `git daemon`, hostile repositories
//! written object by object, a registry in a tempdir, a mock GitHub, a real S3 store
//! (Garage) and a real browser (headless Chromium) for the generated web site. Compiled for
//! `cfg(test)` and with the `testing` feature, which the tests and benches turn on through
//! regis's dev-dependency on itself; `cargo build` and `cargo install` leave it out.
#![allow(clippy::print_stderr)]

mod browser;
mod crafted;
mod daemon;
pub mod fuzz;
mod github;
mod http;
mod interleaved;
mod registry;
mod s3;
mod server;

use std::path::{Path, PathBuf};

pub use browser::{Browser, SiteCheck, Viewport, check_site, screenshot, search_finds};
pub use crafted::{CraftedTree, Node, commit_tree, repeated_blob};
pub use daemon::{Daemon, free_port, wait_until_listening};
pub use github::{
    FakeComment, FakeIssue, IssueTracker, MockGitHub, posted_comments, repository_json,
};
pub use http::StaticServer;
pub use interleaved::Interleaved;
pub use registry::{NOW, TestRegistry};
pub use s3::S3Prefix;
pub use server::{Answer, TestServer};

/// The real PureScript Registry data in `../shared/fixtures/purescript/`, or `None` (with a
/// note on stderr) when `../shared` is absent, as in a fresh clone elsewhere.
pub fn purescript_fixtures() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/purescript");
    if dir.is_dir() {
        Some(dir)
    } else {
        skip(&format!(
            "{} is absent (this reads the shared PureScript fixtures)",
            dir.display()
        ));
        None
    }
}

/// Note why a test does not run here; under `.ci/run` (`REGIS_REQUIRE_TEST_TOOLS` set),
/// where everything a test needs is installed, a skip is a failure instead.
pub fn skip(why: &str) {
    assert!(
        std::env::var_os("REGIS_REQUIRE_TEST_TOOLS").is_none(),
        "this test must run under .ci/run: {why}"
    );
    eprintln!("skipping: {why}");
}

/// Every regular file below `dir`, sorted, as paths relative to `dir`.
pub fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.path().strip_prefix(dir).unwrap().to_path_buf())
        .collect();
    out.sort();
    out
}

/// Copy a directory tree (files and directories only).
pub fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Commit messages on a bare remote's `main`, newest first.
pub fn commits_on(remote: &Path) -> Vec<String> {
    let repo = git2::Repository::open_bare(remote).unwrap();
    let mut walk = repo.revwalk().unwrap();
    walk.push_ref("refs/heads/main").unwrap();
    walk.map(|id| {
        repo.find_commit(id.unwrap())
            .unwrap()
            .message()
            .unwrap()
            .to_owned()
    })
    .collect()
}

/// The commit at the head of a bare remote's `main`.
pub fn remote_head(remote: &Path) -> String {
    let repo = git2::Repository::open_bare(remote).unwrap();
    let id = repo.refname_to_id("refs/heads/main").unwrap();
    id.to_string()
}

/// A file's contents at the head of a bare remote's `main`.
pub fn remote_file(remote: &Path, path: &str) -> Option<String> {
    let repo = git2::Repository::open_bare(remote).unwrap();
    let commit = repo
        .find_reference("refs/heads/main")
        .unwrap()
        .peel_to_commit()
        .unwrap();
    let entry = commit.tree().unwrap().get_path(Path::new(path)).ok()?;
    let blob = repo.find_blob(entry.id()).unwrap();
    Some(String::from_utf8(blob.content().to_vec()).unwrap())
}

/// `len` bytes that do not compress (xorshift64, the same on every run).
pub fn noise(len: usize) -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// An ed25519 OpenSSH private key made from `seed`: the same text on every run, so messages
/// that name the key (its fingerprint) can be pinned, and no `ssh-keygen` is needed.
pub fn seeded_key(seed: u8) -> String {
    ssh_key::PrivateKey::from(ssh_key::private::Ed25519Keypair::from_seed(&[seed; 32]))
        .to_openssh(ssh_key::LineEnding::LF)
        .expect("an ed25519 key encodes")
        .to_string()
}

/// A key pair made by `ssh-keygen` in `dir`, of the `kind` its arguments name (`["-t",
/// "ed25519"]`, `["-t", "ecdsa", "-b", "256"]`): the private key file and the public key
/// line. `None` (with a note on stderr) when `ssh-keygen` is not installed.
pub fn ssh_keygen(
    dir: &Path,
    file: &str,
    kind: &[&str],
    passphrase: &str,
) -> Option<(PathBuf, String)> {
    let private = dir.join(file);
    let status = std::process::Command::new("ssh-keygen")
        .args(["-q", "-N", passphrase, "-C", &format!("{file}@example.com")])
        .args(kind)
        .arg("-f")
        .arg(&private)
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => panic!("ssh-keygen {kind:?} failed: {s}"),
        Err(e) => {
            skip(&format!("ssh-keygen cannot run ({e})"));
            return None;
        }
    }
    let public = std::fs::read_to_string(private.with_extension("pub")).unwrap();
    Some((private, public.trim().to_owned()))
}
