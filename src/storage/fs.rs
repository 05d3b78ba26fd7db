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

    /// Written to a temporary file in the same directory, synced, then linked into place
    /// without replacing a file another writer put there meanwhile, and the directory
    /// synced: a crash never leaves a partial or lost tarball under the final name.
    /// Files are world-readable (0644), as a web server serving them needs.
    fn write_new(&self, key: &StorageKey, bytes: &[u8]) -> Result<bool, StorageError> {
        let path = self.path_of(key);
        let dir = path.parent().expect("keys have a directory");
        std::fs::create_dir_all(dir).map_err(|e| self.io("creating the directory of", key, e))?;
        let mut tmp =
            tempfile::NamedTempFile::new_in(dir).map_err(|e| self.io("writing", key, e))?;
        tmp.write_all(bytes)
            .and_then(|()| set_readable(tmp.as_file()))
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(|e| self.io("writing", key, e))?;
        match tmp.persist_noclobber(&path) {
            Ok(_) => {}
            Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => return Ok(false),
            Err(e) => return Err(self.io("writing", key, e.error)),
        }
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| self.io("syncing the directory of", key, e))?;
        Ok(true)
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

#[cfg(unix)]
fn set_readable(file: &std::fs::File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn set_readable(_: &std::fs::File) -> std::io::Result<()> {
    Ok(())
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
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("b/2.0.0.tar.gz"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o644);
        }
    }
}
