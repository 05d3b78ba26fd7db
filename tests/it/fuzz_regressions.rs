//! What the fuzzer found, guarded by `cargo test`: every input under
//! `tests/fuzz-regressions/<target>/` (each once a crash or a broken invariant) and every
//! hand-written seed under `fuzz/seeds/<target>/` runs through the same check as the fuzz
//! target `<target>` (`regis::testing::fuzz`). See `fuzz/README.md`.

use std::path::{Path, PathBuf};

use regis::testing::fuzz::{Check, TARGETS};

/// The input files of each folder below `dir`, by target; a folder naming no target fails.
fn inputs_below(dir: &Path) -> Vec<(&'static str, Check, PathBuf)> {
    let mut out = Vec::new();
    let Ok(folders) = std::fs::read_dir(dir) else {
        return out;
    };
    for folder in folders {
        let folder = folder.unwrap().path();
        let name = folder.file_name().unwrap().to_string_lossy().into_owned();
        let Some(&(target, check)) = TARGETS.iter().find(|(t, _)| *t == name) else {
            panic!("{} names no fuzz target", folder.display());
        };
        let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        out.extend(files.into_iter().map(|f| (target, check, f)));
    }
    out
}

/// Runs every input, then fails naming each one whose check panicked.
fn replay(dir: &str) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let inputs = inputs_below(&root.join(dir));
    let mut failed = Vec::new();
    for (target, check, file) in &inputs {
        let data = std::fs::read(file).unwrap();
        if std::panic::catch_unwind(|| check(&data)).is_err() {
            failed.push(format!("{target}: {}", file.display()));
        }
    }
    assert!(failed.is_empty(), "failed:\n{}", failed.join("\n"));
    inputs.len()
}

#[test]
fn every_regression_input_passes_its_target() {
    replay("tests/fuzz-regressions");
}

#[test]
fn every_seed_passes_its_target() {
    assert!(replay("fuzz/seeds") > 0, "fuzz/seeds holds no seed");
}

#[test]
fn every_target_has_a_fuzz_target_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    for (target, _) in TARGETS {
        let file = format!("fuzz_targets/{target}.rs");
        assert!(root.join(&file).is_file(), "fuzz/{file} is missing");
        assert!(
            manifest.contains(&format!("path = \"{file}\"")),
            "fuzz/Cargo.toml has no [[bin]] for {target}"
        );
        let code = std::fs::read_to_string(root.join(&file)).unwrap();
        assert!(
            code.contains(&format!("fuzz::{target}")),
            "fuzz/{file} does not call regis::testing::fuzz::{target}"
        );
    }
}
