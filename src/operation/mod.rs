//! Operations, each `validate → plan → apply`: validation and planning are pure functions
//! over values; `apply` performs the planned writes through the effect traits in
//! [`Context`] (storage, the two git repos, the source fetcher). Transfer, unpublish, yank
//! and deprecate are authenticated: [`authorize`] says who signed them.

pub mod authorize;
pub mod deprecate;
pub mod gc;
pub mod issue;
pub mod package_set;
pub mod publish;
pub mod report;
pub mod sync;
pub mod transfer;
pub mod transferrer;
pub mod unpublish;
pub mod yank;

use crate::config::Config;
use crate::git::GitRepo;
use crate::schema::Timestamp;
use crate::source::Source;
use crate::storage::{Storage, Stores};

/// Everything an operation reads from or writes to, passed in one place.
pub struct Context<'a> {
    pub config: &'a Config,
    /// The registry repo (metadata, package sets).
    pub registry: &'a GitRepo,
    /// The index repo.
    pub index: &'a GitRepo,
    /// The primary storage, written first and read first.
    pub storage: &'a dyn Storage,
    /// Other storages a publish also writes to and readers fall back to (`mirrors`).
    pub mirrors: &'a [Box<dyn Storage>],
    pub source: &'a dyn Source,
    /// The time recorded for what the operation does.
    pub now: Timestamp,
}

impl<'a> Context<'a> {
    /// The primary storage and its mirrors.
    pub fn stores(&self) -> Stores<'a> {
        Stores {
            primary: self.storage,
            mirrors: self.mirrors,
        }
    }
}
