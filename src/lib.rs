//! regis: a git-backed package registry engine.
#![forbid(unsafe_code)]

pub mod schema;
pub mod index;
pub mod manifest;
pub mod metadata;
pub mod package_set;
pub mod payload;
pub mod storage;
pub mod store;
pub mod check;
pub mod init;
pub mod operation;
pub mod sample;
pub mod cli;
