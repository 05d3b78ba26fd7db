use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::{
    Listed, ListedKind, STALE_TEMPORARY, Storage, StorageError, StorageKey, TEMPORARY_PREFIXES,
    TRUST_DIR,
};

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

    fn path_error(
        &self,
        action: &'static str,
        path: &Path,
        source: std::io::Error,
    ) -> StorageError {
        StorageError::Path {
            location: self.describe(),
            action,
            path: path.display().to_string(),
            source,
        }
    }

    /// The interrupted writes directly in `dir` older than `older_than`, removed.
    fn sweep_dir(&self, dir: &Path, older_than: Duration) -> Result<Vec<String>, StorageError> {
        let mut removed = Vec::new();
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(removed),
            Err(e) => return Err(self.path_error("listing", dir, e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| self.path_error("listing", dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !TEMPORARY_PREFIXES.iter().any(|p| name.starts_with(p)) {
                continue;
            }
            let age = entry
                .metadata()
                .and_then(|m| m.modified())
                .map(age_of)
                .unwrap_or_default();
            if age < older_than {
                continue;
            }
            match std::fs::remove_file(entry.path()) {
                Ok(()) => removed.push(self.relative(&entry.path())),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(self.path_error("removing", &entry.path(), e)),
            }
        }
        Ok(removed)
    }

    /// `bytes` in a new temporary file in `dir` (readable by all, synced), to be renamed
    /// into place as `key`.
    fn write_temporary(
        &self,
        dir: &Path,
        key: &StorageKey,
        bytes: &[u8],
    ) -> Result<tempfile::NamedTempFile, StorageError> {
        let mut tmp = tempfile::Builder::new()
            .prefix(TEMPORARY_PREFIXES[0])
            .tempfile_in(dir)
            .map_err(|e| self.io("writing", key, e))?;
        tmp.write_all(bytes)
            .and_then(|()| set_readable(tmp.as_file()))
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(|e| self.io("writing", key, e))?;
        Ok(tmp)
    }

    fn relative(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .to_string_lossy()
            .into_owned()
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
        // An interrupted earlier write left its temporary file here: take it away. Not in
        // the TUF repository's directory, which gains files with every operation and would
        // be listed whole for each write (`regis gc` sweeps it).
        if !key.as_str().starts_with(&format!("{TRUST_DIR}/")) {
            self.sweep_dir(dir, STALE_TEMPORARY)?;
        }
        let tmp = self.write_temporary(dir, key, bytes)?;
        crate::fault::point("storage:written");
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

    /// Under an exclusive lock on the object's directory (`flock`), which every writer of
    /// it takes: the comparison and the rename are one step to the others.
    fn replace_if(
        &self,
        key: &StorageKey,
        expected: Option<&[u8]>,
        bytes: &[u8],
    ) -> Result<bool, StorageError> {
        let path = self.path_of(key);
        let dir = path.parent().expect("keys have a directory");
        std::fs::create_dir_all(dir).map_err(|e| self.io("creating the directory of", key, e))?;
        let lock = std::fs::File::open(dir)
            .and_then(|d| d.lock().map(|()| d))
            .map_err(|e| self.io("locking the directory of", key, e))?;
        let current = match std::fs::read(&path) {
            Ok(current) => Some(current),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(self.io("reading", key, e)),
        };
        if current.as_deref() != expected {
            return Ok(false);
        }
        let tmp = self.write_temporary(dir, key, bytes)?;
        tmp.persist(&path)
            .map_err(|e| self.io("writing", key, e.error))?;
        lock.sync_all()
            .map_err(|e| self.io("syncing the directory of", key, e))?;
        drop(lock);
        Ok(true)
    }

    fn delete(&self, key: &StorageKey) -> Result<bool, StorageError> {
        match std::fs::remove_file(self.path_of(key)) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(self.io("deleting", key, e)),
        }
    }

    fn touch(&self, key: &StorageKey) -> Result<(), StorageError> {
        std::fs::File::options()
            .append(true)
            .open(self.path_of(key))
            .and_then(|f| f.set_modified(SystemTime::now()))
            .map_err(|e| self.io("touching", key, e))
    }

    fn list(&self) -> Result<Vec<Listed>, StorageError> {
        let mut out = Vec::new();
        if !self.root.exists() {
            return Ok(out);
        }
        for entry in walkdir::WalkDir::new(&self.root).sort_by_file_name() {
            let entry = entry.map_err(|e| {
                let path = e.path().unwrap_or(&self.root).to_path_buf();
                self.path_error("listing", &path, e.into())
            })?;
            if !entry.file_type().is_file() {
                continue;
            }
            let metadata = entry
                .metadata()
                .map_err(|e| self.path_error("listing", entry.path(), e.into()))?;
            let path = self.relative(entry.path());
            out.push(Listed {
                kind: ListedKind::of(&path),
                path,
                bytes: metadata.len(),
                age: metadata.modified().map(age_of).unwrap_or_default(),
            });
        }
        Ok(out)
    }

    fn sweep_temporary(&self, older_than: Duration) -> Result<Vec<String>, StorageError> {
        let mut removed = self.sweep_dir(&self.root, older_than)?;
        if let Ok(entries) = std::fs::read_dir(&self.root) {
            for entry in entries.flatten() {
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    removed.extend(self.sweep_dir(&entry.path(), older_than)?);
                }
            }
        }
        removed.sort();
        Ok(removed)
    }

    fn describe(&self) -> String {
        self.root.display().to_string()
    }
}

/// Time since `modified` (zero for a time in the future).
fn age_of(modified: SystemTime) -> Duration {
    SystemTime::now()
        .duration_since(modified)
        .unwrap_or_default()
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
        super::super::contract::check_in_dir(&s, dir.path());
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
