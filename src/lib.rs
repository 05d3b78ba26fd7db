//! regis: a git-backed package registry engine.
#![forbid(unsafe_code)]
pub mod git;
pub mod source;
