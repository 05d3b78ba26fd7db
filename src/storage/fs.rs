use std::io::Write;
use std::path::{Path, PathBuf};

use super::{Storage, StorageError, StorageKey};

/// Tarballs as files under a root directory: `<root>/<name>/<version>.tar.gz`.
#[derive(Debug, Clone)]
pub struct FsStorage {
    root: PathBuf,
}

impl FsStorage {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        FsStorage { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn path_of(&self, key: &StorageKey) -> PathBuf {
        self.root.join(key.as_str())
    }

    fn io(&self, action: &'static str, key: &StorageKey, source: std::io::Error) -> StorageError {
        StorageError::Io {
            location: self.describe(),
            action,
            key: key.clone(),
            source,
        }
    }
}

impl Storage for FsStorage {
    fn get(&self, key: &StorageKey) -> Result<Option<Vec<u8>>, StorageError> {
        match std::fs::read(self.path_of(key)) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.io("reading", key, e)),
        }
    }

    /// Written to a temporary file in the same directory, synced, then renamed into
    /// place, so a crash never leaves a partial tarball under the final name.
    fn write_new(&self, key: &StorageKey, bytes: &[u8]) -> Result<(), StorageError> {
        let path = self.path_of(key);
        let dir = path.parent().expect("keys have a directory");
        std::fs::create_dir_all(dir).map_err(|e| self.io("creating the directory of", key, e))?;
        let mut tmp =
            tempfile::NamedTempFile::new_in(dir).map_err(|e| self.io("writing", key, e))?;
        tmp.write_all(bytes)
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(|e| self.io("writing", key, e))?;
        tmp.persist(&path)
            .map_err(|e| self.io("writing", key, e.error))?;
        Ok(())
    }

    fn delete(&self, key: &StorageKey) -> Result<bool, StorageError> {
        match std::fs::remove_file(self.path_of(key)) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(self.io("deleting", key, e)),
        }
    }

    fn describe(&self) -> String {
        self.root.display().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_storage_contract_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let s = FsStorage::new(dir.path());
        super::super::contract::check(&s);
        let k = StorageKey::tarball(&"b".parse().unwrap(), &"2.0.0".parse().unwrap());
        s.put(&k, b"x").unwrap();
        assert_eq!(
            std::fs::read(dir.path().join("b/2.0.0.tar.gz")).unwrap(),
            b"x"
        );
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("b")).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary files are left behind");
    }
}
