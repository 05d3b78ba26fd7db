//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The real PureScript Registry data in `../shared/fixtures/purescript/`, or `None` (with a
/// note on stderr) when `../shared` is absent, as in a fresh clone elsewhere.
pub fn purescript_fixtures() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/purescript");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipping: {} is absent (this test reads the shared PureScript fixtures)", dir.display());
        None
    }
}

/// Every regular file below `dir`, sorted, as paths relative to `dir`.
pub fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.path().strip_prefix(dir).unwrap().to_path_buf())
        .collect();
    out.sort();
    out
}

/// Copy a directory tree (files and directories only).
pub fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
