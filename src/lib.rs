//! regis: a git-backed package registry engine.
//!
//! regis reads and writes the PureScript Registry's formats byte for byte: package
//! metadata and package sets in a git registry repo, manifests in a git index repo, and
//! deterministic tarballs in a storage backend. See `ARCHITECTURE.md` for the map.
#![forbid(unsafe_code)]
// Output goes through `cli::output`, which keeps it from acting as workflow commands.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod atom;
pub mod auth;
pub mod check;
pub mod cli;
pub mod config;
pub mod dhall;
mod error;
pub mod fault;
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
pub mod sandbox;
pub mod schema;
pub mod server;
pub mod site;
pub mod solver;
pub mod source;
pub mod storage;
pub mod store;
pub mod tarball;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod text;
pub mod trust;

pub use error::{Error, Result, error_chain, error_messages};
