//! `regis --version` says which commit it was built from and when, as cargo's does
//! (`regis 0.1.0 (1a2b3c4d5 2026-12-04)`): `REGIS_COMMIT` is set from the git checkout
//! being built, and left unset outside one (a crate tarball), where the version stands
//! alone. `REGIS_COMMIT_HASH` is the whole hash of that commit (`regis init` writes it).

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    (out.status.success() && !text.trim().is_empty()).then(|| text.trim().to_owned())
}

fn main() {
    // A new commit moves HEAD or the branch it names. `--git-path` says where each file
    // is: in a linked worktree HEAD is the worktree's own and the branches are the main
    // repository's. (A path that does not exist would make cargo rerun this on every
    // build.)
    let branch = git(&["symbolic-ref", "-q", "HEAD"]);
    for file in ["HEAD", branch.as_deref().unwrap_or("HEAD"), "packed-refs"] {
        if let Some(path) = git(&["rev-parse", "--git-path", file])
            && std::path::Path::new(&path).exists()
        {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    if let Some(commit) = git(&["log", "-1", "--format=%h %cs", "--abbrev=9"]) {
        println!("cargo:rustc-env=REGIS_COMMIT={commit}");
    }
    // The whole hash, which `regis init` writes into a new registry's workflows (a build
    // from source at this commit, or the release's commit).
    if let Some(hash) = git(&["rev-parse", "--verify", "HEAD"]) {
        println!("cargo:rustc-env=REGIS_COMMIT_HASH={hash}");
    }
}
