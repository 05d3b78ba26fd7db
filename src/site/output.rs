//! The site's output directory, written incrementally: a file is written only when its
//! bytes differ from what is there (so an unchanged page keeps its modification time, and
//! the ETag and Last-Modified a static host derives from it), and a file the build no
//! longer produces is removed. Each write is atomic (a temporary file renamed into place),
//! so a server never serves half a page.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::SiteError;

/// The directory regis keeps its own build state in, inside the output (not served as
/// pages; a static host may serve it, it holds nothing private).
pub const STATE_DIR: &str = ".regis-site";

/// An output directory being built.
pub struct Output {
    root: PathBuf,
    produced: Mutex<HashSet<PathBuf>>,
    written: AtomicUsize,
    unchanged: AtomicUsize,
}

/// What a build did to the output directory.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Writes {
    /// Files written: new, or with other bytes than before.
    pub written: usize,
    /// Files the build produced with the bytes they already had.
    pub unchanged: usize,
    /// Files an earlier build produced that this one did not.
    pub removed: usize,
}

impl Output {
    /// Opens `root` for a build: it must be absent, empty, or a site regis built (it holds
    /// [`STATE_DIR`]); anything else is refused, since a build removes the files it did not
    /// produce.
    pub fn open(root: &Path) -> Result<Output, SiteError> {
        let io = |cause| SiteError::Write {
            path: root.display().to_string(),
            cause,
        };
        match std::fs::read_dir(root) {
            Ok(mut entries) => {
                let is_site = root.join(STATE_DIR).is_dir();
                if !is_site && entries.next().is_some() {
                    return Err(SiteError::NotASite {
                        path: root.display().to_string(),
                    });
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(cause) => return Err(io(cause)),
        }
        // Temporary files of an interrupted build are left here; each build starts afresh.
        let tmp = root.join(STATE_DIR).join("tmp");
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).map_err(io)?;
        Ok(Output {
            root: root.to_path_buf(),
            produced: Mutex::new(HashSet::new()),
            written: AtomicUsize::new(0),
            unchanged: AtomicUsize::new(0),
        })
    }

    /// Where regis keeps `name` among its own state (a cache, not a page).
    pub fn state_path(&self, name: &str) -> PathBuf {
        self.root.join(STATE_DIR).join(name)
    }

    /// Puts `bytes` at `rel` (a `/`-separated path below the root), writing only if the
    /// file does not already hold exactly them.
    pub fn put(&self, rel: &str, bytes: &[u8]) -> Result<(), SiteError> {
        let path = self.root.join(rel);
        let same = std::fs::metadata(&path)
            .is_ok_and(|m| m.is_file() && m.len() == bytes.len() as u64)
            && std::fs::read(&path).is_ok_and(|old| old == bytes);
        if same {
            self.unchanged.fetch_add(1, Ordering::Relaxed);
        } else {
            write_atomic(&path, &self.state_path("tmp"), bytes)?;
            self.written.fetch_add(1, Ordering::Relaxed);
        }
        self.produced
            .lock()
            .expect("no writer panics holding the lock")
            .insert(PathBuf::from(rel));
        Ok(())
    }

    /// Removes every file below the root that this build did not put (but regis's own
    /// state), then the directories left empty.
    pub fn finish(self) -> Result<Writes, SiteError> {
        let produced = self
            .produced
            .into_inner()
            .expect("no writer panics holding the lock");
        let mut removed = 0;
        let mut dirs = Vec::new();
        let walk = walkdir::WalkDir::new(&self.root)
            .min_depth(1)
            .into_iter()
            .filter_entry(|e| e.depth() > 1 || e.file_name() != STATE_DIR);
        for entry in walk {
            let entry = entry.map_err(|e| SiteError::Write {
                path: self.root.display().to_string(),
                cause: e.into(),
            })?;
            let rel = entry
                .path()
                .strip_prefix(&self.root)
                .expect("walked below the root");
            if entry.file_type().is_dir() {
                dirs.push(entry.path().to_path_buf());
            } else if !produced.contains(rel) {
                std::fs::remove_file(entry.path()).map_err(|cause| SiteError::Write {
                    path: entry.path().display().to_string(),
                    cause,
                })?;
                removed += 1;
            }
        }
        // Deepest first, so a directory emptied by removing its subdirectories goes too.
        dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
        for dir in dirs {
            let _ = std::fs::remove_dir(&dir); // fails, as it should, while it holds files
        }
        Ok(Writes {
            written: self.written.into_inner(),
            unchanged: self.unchanged.into_inner(),
            removed,
        })
    }
}

/// `bytes` at `path` through a temporary file in `tmp` (on the same file system), renamed
/// into place. The temporary file is made in regis's own small directory, not beside the
/// page: the page directories hold a file per package, and each entry made and removed in
/// them costs a lookup in a directory of that size.
pub fn write_atomic(path: &Path, tmp: &Path, bytes: &[u8]) -> Result<(), SiteError> {
    use std::os::unix::fs::PermissionsExt as _;
    let io = |cause| SiteError::Write {
        path: path.display().to_string(),
        cause,
    };
    let dir = path.parent().expect("a file below the output root");
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut file = tempfile::Builder::new()
        .prefix("w")
        // A site is served to everyone: readable by all, as a file written by hand would be.
        .permissions(std::fs::Permissions::from_mode(0o644))
        .tempfile_in(tmp)
        .map_err(io)?;
    std::io::Write::write_all(&mut file, bytes).map_err(io)?;
    file.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rebuild_writes_only_what_changed_and_removes_what_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("site");
        let out = Output::open(&root).unwrap();
        out.put("a.html", b"a").unwrap();
        out.put("x/b.html", b"b").unwrap();
        out.put("x/y/c.html", b"c").unwrap();
        assert_eq!(
            out.finish().unwrap(),
            Writes {
                written: 3,
                unchanged: 0,
                removed: 0
            }
        );
        let before = std::fs::metadata(root.join("a.html"))
            .unwrap()
            .modified()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let out = Output::open(&root).unwrap();
        out.put("a.html", b"a").unwrap();
        out.put("x/b.html", b"B").unwrap();
        assert_eq!(
            out.finish().unwrap(),
            Writes {
                written: 1,
                unchanged: 1,
                removed: 1
            }
        );
        let after = std::fs::metadata(root.join("a.html"))
            .unwrap()
            .modified()
            .unwrap();
        assert_eq!(before, after, "an unchanged file is not rewritten");
        assert_eq!(std::fs::read(root.join("x/b.html")).unwrap(), b"B");
        assert!(!root.join("x/y").exists(), "an emptied directory goes");
        assert!(root.join(STATE_DIR).is_dir(), "regis's state stays");
    }

    #[test]
    fn a_directory_regis_did_not_build_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("precious.txt"), "mine").unwrap();
        let Err(e) = Output::open(dir.path()) else {
            panic!("opened a directory with other files in it");
        };
        assert_eq!(
            e.to_string(),
            format!(
                "`{}` holds files and is not a site regis built (no `.regis-site/` in it): expected an empty or new directory, or an earlier build's output; a build removes the files it did not write",
                dir.path().display()
            )
        );
        assert!(dir.path().join("precious.txt").exists());
    }
}
