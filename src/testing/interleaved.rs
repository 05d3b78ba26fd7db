//! A storage that lets another job's work happen at a chosen moment of this job's: the
//! races the concurrency tests make happen on purpose, one process standing in for two.

use std::cell::RefCell;
use std::time::Duration;

use crate::storage::{Listed, Storage, StorageError, StorageKey};

/// Another job's work, run once with the key this job was about to use.
type Job<'a> = Box<dyn FnOnce(&StorageKey) + 'a>;

/// `inner`, but another job's work runs once: just before this job's first read
/// ([`Interleaved::before_get`]) or its first conditional replace
/// ([`Interleaved::before_replace`]). Every other call goes straight to `inner`.
pub struct Interleaved<'a> {
    inner: &'a dyn Storage,
    before_get: RefCell<Option<Job<'a>>>,
    before_replace: RefCell<Option<Job<'a>>>,
}

impl<'a> Interleaved<'a> {
    /// `job` runs before the first `get` (a build check reading members' tarballs, say).
    pub fn before_get(inner: &'a dyn Storage, job: impl FnOnce(&StorageKey) + 'a) -> Self {
        Interleaved {
            inner,
            before_get: RefCell::new(Some(Box::new(job))),
            before_replace: RefCell::new(None),
        }
    }

    /// `job` runs before the first `replace_if`, between this job's look at the key and
    /// its write (another job's newer timestamp landing, say).
    pub fn before_replace(inner: &'a dyn Storage, job: impl FnOnce(&StorageKey) + 'a) -> Self {
        Interleaved {
            inner,
            before_get: RefCell::new(None),
            before_replace: RefCell::new(Some(Box::new(job))),
        }
    }
}

impl Storage for Interleaved<'_> {
    fn get(&self, key: &StorageKey) -> Result<Option<Vec<u8>>, StorageError> {
        if let Some(job) = self.before_get.borrow_mut().take() {
            job(key);
        }
        self.inner.get(key)
    }
    fn write_new(&self, key: &StorageKey, bytes: &[u8]) -> Result<bool, StorageError> {
        self.inner.write_new(key, bytes)
    }
    fn delete(&self, key: &StorageKey) -> Result<bool, StorageError> {
        self.inner.delete(key)
    }
    fn replace_if(
        &self,
        key: &StorageKey,
        expected: Option<&[u8]>,
        bytes: &[u8],
    ) -> Result<bool, StorageError> {
        if let Some(job) = self.before_replace.borrow_mut().take() {
            job(key);
        }
        self.inner.replace_if(key, expected, bytes)
    }
    fn touch(&self, key: &StorageKey) -> Result<(), StorageError> {
        self.inner.touch(key)
    }
    fn list(&self) -> Result<Vec<Listed>, StorageError> {
        self.inner.list()
    }
    fn sweep_temporary(&self, older_than: Duration) -> Result<Vec<String>, StorageError> {
        self.inner.sweep_temporary(older_than)
    }
    fn describe(&self) -> String {
        self.inner.describe()
    }
}
