//! regis: a git-backed package registry engine.
//!
//! regis reads and writes the PureScript Registry's formats byte for byte: package
//! metadata and package sets in a git registry repo, manifests in a git index repo, and
//! deterministic tarballs in a storage backend. See `ARCHITECTURE.md` for the map.
#![forbid(unsafe_code)]

pub mod auth;
pub mod check;
pub mod cli;
pub mod config;
pub mod dhall;
mod error;
pub mod git;
pub mod github;
pub mod hooks;
pub mod index;
pub mod init;
pub mod issue_body;
pub mod manifest;
pub mod metadata;
pub mod operation;
pub mod package_set;
pub mod payload;
pub mod sample;
pub mod schema;
pub mod solver;
pub mod source;
pub mod storage;
pub mod store;
pub mod tarball;

pub use error::{Error, Result, chain as error_chain};

/// Helpers for the unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use std::path::{Path, PathBuf};

    /// The real PureScript Registry data in `../shared/fixtures/purescript/`, or `None`
    /// (with a note on stderr) when `../shared` is absent, as in a fresh clone elsewhere.
    pub fn purescript_fixtures() -> Option<PathBuf> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/purescript");
        if dir.is_dir() {
            Some(dir)
        } else {
            skip(&format!(
                "{} is absent (this test reads the shared PureScript fixtures)",
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
}
