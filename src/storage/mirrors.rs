//! A primary storage and its mirrors (`mirrors` in `regis.dhall`): the writes a publish
//! and an unpublish make to every mirror after the primary, and reads that fall back to a
//! mirror, keeping only bytes whose hash is the one metadata records.

use std::fmt;

use serde::Serialize;

use super::{Put, Storage, StorageError, StorageKey};
use crate::schema::Sha256;

/// The storage tarballs are written to first and read from first, and its mirrors.
#[derive(Clone, Copy)]
pub struct Stores<'a> {
    pub primary: &'a dyn Storage,
    pub mirrors: &'a [Box<dyn Storage>],
}

/// What one mirror did with a write (a publish's upload, an unpublish's delete).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MirrorWrite {
    /// The mirror, as [`Storage::describe`] names it.
    pub mirror: String,
    /// `status` (`stored`, `already-present`, `deleted`, `absent`, `failed`), and the
    /// `error` of a failure.
    #[serde(flatten)]
    pub outcome: MirrorOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "status")]
pub enum MirrorOutcome {
    /// The tarball was written.
    Stored,
    /// The mirror already held exactly these bytes.
    AlreadyPresent,
    /// The tarball was deleted.
    Deleted,
    /// There was nothing to delete.
    Absent,
    /// The write failed; `regis storage sync` repairs the mirror later.
    Failed { error: String },
}

impl MirrorWrite {
    pub fn failed(&self) -> bool {
        matches!(self.outcome, MirrorOutcome::Failed { .. })
    }
}

impl fmt::Display for MirrorWrite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: ", self.mirror)?;
        match &self.outcome {
            MirrorOutcome::Stored => f.write_str("stored"),
            MirrorOutcome::AlreadyPresent => f.write_str("already stored"),
            MirrorOutcome::Deleted => f.write_str("deleted"),
            MirrorOutcome::Absent => f.write_str("nothing to delete"),
            MirrorOutcome::Failed { error } => {
                write!(f, "failed: {error} (`regis storage sync` repairs it)")
            }
        }
    }
}

/// A tarball read through [`Stores::get_verified`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// The primary's bytes (their hash is the caller's to check: a primary holding other
    /// bytes than metadata records is a problem to report, not to route around).
    Primary(Vec<u8>),
    /// The primary lacks the object; this mirror holds it with the expected hash.
    Mirror { bytes: Vec<u8>, mirror: String },
    /// No store holds the expected bytes: why each mirror did not serve them.
    Missing { mirrors: Vec<String> },
}

impl<'a> Stores<'a> {
    /// A storage without mirrors.
    pub fn single(primary: &'a dyn Storage) -> Stores<'a> {
        Stores {
            primary,
            mirrors: &[],
        }
    }

    /// Every store, the primary first.
    pub fn all(&self) -> impl Iterator<Item = &'a dyn Storage> + 'a {
        std::iter::once(self.primary).chain(self.mirrors.iter().map(|m| m.as_ref()))
    }

    /// `key` from the primary; when the primary has no such object, from the first mirror
    /// whose bytes hash to `expected`. A mirror that fails, lacks the object or holds other
    /// bytes is passed over and named in [`Fetched::Missing`]; an error of the primary's
    /// is the caller's.
    pub fn get_verified(
        &self,
        key: &StorageKey,
        expected: &Sha256,
    ) -> Result<Fetched, StorageError> {
        if let Some(bytes) = self.primary.get(key)? {
            return Ok(Fetched::Primary(bytes));
        }
        let mut passed_over = Vec::new();
        for mirror in self.mirrors {
            let why = match mirror.get(key) {
                Ok(Some(bytes)) if Sha256::of(&bytes) == *expected => {
                    return Ok(Fetched::Mirror {
                        bytes,
                        mirror: mirror.describe(),
                    });
                }
                Ok(Some(bytes)) => format!(
                    "holds other bytes (`{}`, expected `{expected}`)",
                    Sha256::of(&bytes)
                ),
                Ok(None) => "has none".to_owned(),
                Err(e) => format!("failed: {}", crate::error_chain(&e)),
            };
            passed_over.push(format!("mirror `{}` {why}", mirror.describe()));
        }
        Ok(Fetched::Missing {
            mirrors: passed_over,
        })
    }

    /// Upload `bytes` to every mirror (after the primary took them). A failure is
    /// reported, not returned: the publish stands on the primary.
    pub fn put_mirrors(&self, key: &StorageKey, bytes: &[u8]) -> Vec<MirrorWrite> {
        self.each_mirror(|m| match m.put(key, bytes)? {
            Put::Stored => Ok(MirrorOutcome::Stored),
            Put::AlreadyPresent => Ok(MirrorOutcome::AlreadyPresent),
        })
    }

    /// Delete `key` from every mirror (after the primary): failures reported, not returned.
    pub fn delete_mirrors(&self, key: &StorageKey) -> Vec<MirrorWrite> {
        self.each_mirror(|m| {
            Ok(match m.delete(key)? {
                true => MirrorOutcome::Deleted,
                false => MirrorOutcome::Absent,
            })
        })
    }

    fn each_mirror(
        &self,
        write: impl Fn(&dyn Storage) -> Result<MirrorOutcome, StorageError>,
    ) -> Vec<MirrorWrite> {
        self.mirrors
            .iter()
            .map(|m| MirrorWrite {
                mirror: m.describe(),
                outcome: write(m.as_ref()).unwrap_or_else(|e| MirrorOutcome::Failed {
                    error: crate::error_chain(&e),
                }),
            })
            .collect()
    }
}
