//! The deterministic `.tar.gz`: the module documentation's *Archive*.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

use flate2::{Compression, GzBuilder};
use sha2::{Digest, Sha256};
use tar::{EntryType, Header, HeaderMode};

use super::select::Tree;
use super::{
    InputEntry, InputKind, Limits, MAX_NAME_BYTES, Packed, Result, TarballError, ancestors,
    check_path, path_problem,
};

/// Where a packed path's content comes from.
enum Item<'a> {
    /// Read through the caller's reader.
    Source {
        executable: bool,
        size: u64,
    },
    /// Given bytes (an override).
    Bytes(&'a [u8]),
    Symlink(&'a str),
}

/// Builds the archive of `selected` plus `overrides` under `top_dir/`.
///
/// `read` returns a selected file's bytes, given its path. `overrides` replace a selected
/// path's content, or add a path, with the given bytes (mode 0644). Inputs are checked
/// again (paths, uniqueness, symlinks), so any slice is safe to pass.
pub fn pack<E>(
    top_dir: &str,
    selected: &[InputEntry],
    overrides: &[(String, Vec<u8>)],
    read: &mut dyn FnMut(&str) -> Result<Vec<u8>, E>,
    limits: &Limits,
) -> Result<Packed>
where
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    check_top_dir(top_dir)?;
    let plan = plan(selected, overrides)?;
    check_listed_limits(&plan, limits)?;
    let (bytes, unpacked_bytes) = write_archive(top_dir, &plan, read, limits)?;
    let warnings = check_compressed_size(bytes.len() as u64, limits)?;
    Ok(Packed {
        sha256: Sha256::digest(&bytes).into(),
        bytes,
        files: plan.len(),
        unpacked_bytes,
        warnings,
    })
}

/// Whether `bytes` are a Git LFS pointer rather than the content it stands for: as the LFS
/// spec says, text of less than 1024 bytes whose first line is the spec's `version`, with an
/// `oid sha256:` and a `size` line.
fn is_lfs_pointer(bytes: &[u8]) -> bool {
    const VERSIONS: [&str; 2] = [
        "version https://git-lfs.github.com/spec/",
        "version https://hawser.github.com/spec/",
    ];
    if bytes.len() >= 1024 {
        return false;
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let has_line = |start: &str| text.lines().any(|line| line.starts_with(start));
    VERSIONS.iter().any(|version| text.starts_with(version))
        && has_line("oid sha256:")
        && has_line("size ")
}

fn check_top_dir(top_dir: &str) -> Result<()> {
    if path_problem(top_dir).is_some() || top_dir.contains('/') || top_dir.len() > MAX_NAME_BYTES {
        return Err(TarballError::InvalidTopDir {
            top_dir: top_dir.to_owned(),
        });
    }
    Ok(())
}

/// The packed paths in order, with overrides applied, after checking them.
fn plan<'a>(
    selected: &'a [InputEntry],
    overrides: &'a [(String, Vec<u8>)],
) -> Result<BTreeMap<&'a str, Item<'a>>> {
    let mut plan = BTreeMap::new();
    for entry in selected {
        check_path(&entry.path)?;
        let item = match &entry.kind {
            InputKind::File { executable, size } => Item::Source {
                executable: *executable,
                size: *size,
            },
            InputKind::Symlink { target } => Item::Symlink(target),
            InputKind::Submodule => {
                return Err(TarballError::Submodule {
                    path: entry.path.clone(),
                });
            }
            InputKind::NotUtf8 { path, target } => {
                return Err(TarballError::NotUtf8 {
                    path: path.clone(),
                    target: target.clone(),
                });
            }
        };
        if plan.insert(entry.path.as_str(), item).is_some() {
            return Err(TarballError::DuplicatePath {
                path: entry.path.clone(),
            });
        }
    }
    let mut overridden = BTreeSet::new();
    for (path, bytes) in overrides {
        check_path(path)?;
        if !overridden.insert(path.as_str()) {
            return Err(TarballError::DuplicatePath { path: path.clone() });
        }
        plan.insert(path.as_str(), Item::Bytes(bytes));
    }
    Tree::new(plan.iter().map(|(path, item)| match item {
        Item::Symlink(target) => (*path, Some(*target)),
        _ => (*path, None),
    }))?
    .check_symlinks()?;
    Ok(plan)
}

/// Checks the limits on the listed sizes, before any content is read.
fn check_listed_limits(plan: &BTreeMap<&str, Item>, limits: &Limits) -> Result<()> {
    if plan.len() > limits.max_files {
        return Err(TarballError::TooManyFiles {
            count: plan.len(),
            limit: limits.max_files,
        });
    }
    let dirs: BTreeSet<&str> = plan.keys().flat_map(|path| ancestors(path)).collect();
    if dirs.len() > limits.max_files {
        return Err(TarballError::TooManyDirs {
            count: dirs.len(),
            limit: limits.max_files,
        });
    }
    let listed = plan.values().fold(0u64, |sum, item| match item {
        Item::Source { size, .. } => sum.saturating_add(*size),
        Item::Bytes(bytes) => sum.saturating_add(bytes.len() as u64),
        Item::Symlink(_) => sum,
    });
    check_unpacked(listed, limits)
}

fn check_unpacked(bytes: u64, limits: &Limits) -> Result<()> {
    if bytes > limits.max_unpacked_bytes {
        return Err(TarballError::TooManyBytes {
            bytes,
            limit: limits.max_unpacked_bytes,
        });
    }
    Ok(())
}

fn check_compressed_size(bytes: u64, limits: &Limits) -> Result<Vec<String>> {
    if bytes > limits.max_bytes {
        return Err(TarballError::TooLarge {
            bytes,
            limit: limits.max_bytes,
        });
    }
    if bytes > limits.warn_bytes {
        return Ok(vec![format!(
            "package tarball is {bytes} bytes, more than the recommended {} bytes",
            limits.warn_bytes
        )]);
    }
    Ok(Vec::new())
}

/// Writes the `.tar.gz`, reading sources as it goes; returns it and the unpacked size.
fn write_archive<E>(
    top_dir: &str,
    plan: &BTreeMap<&str, Item>,
    read: &mut dyn FnMut(&str) -> Result<Vec<u8>, E>,
    limits: &Limits,
) -> Result<(Vec<u8>, u64)>
where
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let gzip = GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), Compression::new(9));
    let mut archive = tar::Builder::new(gzip);
    archive.mode(HeaderMode::Deterministic);
    append_dir(&mut archive, top_dir)?;
    let mut emitted = BTreeSet::new();
    let mut unpacked = 0u64;
    for (path, item) in plan {
        for dir in ancestors(path) {
            if emitted.insert(dir) {
                append_dir(&mut archive, &format!("{top_dir}/{dir}"))?;
            }
        }
        let full = format!("{top_dir}/{path}");
        match item {
            Item::Source { executable, .. } => {
                let bytes = read(path).map_err(|source| TarballError::Read {
                    path: (*path).to_owned(),
                    source: source.into(),
                })?;
                if is_lfs_pointer(&bytes) {
                    return Err(TarballError::LfsPointer {
                        path: (*path).to_owned(),
                    });
                }
                unpacked = unpacked.saturating_add(bytes.len() as u64);
                check_unpacked(unpacked, limits)?;
                append_file(&mut archive, &full, *executable, &bytes)?;
            }
            Item::Bytes(bytes) => {
                unpacked = unpacked.saturating_add(bytes.len() as u64);
                check_unpacked(unpacked, limits)?;
                append_file(&mut archive, &full, false, bytes)?;
            }
            Item::Symlink(target) => append_symlink(&mut archive, &full, target)?,
        }
    }
    let bytes = archive
        .into_inner()
        .and_then(|gzip| gzip.finish())
        .map_err(TarballError::Build)?;
    Ok((bytes, unpacked))
}

/// A GNU header with everything fixed but the type, mode and size.
fn header(entry_type: EntryType, mode: u32, size: u64) -> Header {
    let mut header = Header::new_gnu();
    header.set_entry_type(entry_type);
    header.set_mode(mode);
    header.set_size(size);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    header
}

fn append_dir<W: Write>(archive: &mut tar::Builder<W>, path: &str) -> Result<()> {
    let mut header = header(EntryType::Directory, 0o755, 0);
    archive
        .append_data(&mut header, format!("{path}/"), io::empty())
        .map_err(TarballError::Build)
}

fn append_file<W: Write>(
    archive: &mut tar::Builder<W>,
    path: &str,
    executable: bool,
    bytes: &[u8],
) -> Result<()> {
    let mode = if executable { 0o755 } else { 0o644 };
    let mut header = header(EntryType::Regular, mode, bytes.len() as u64);
    archive
        .append_data(&mut header, path, bytes)
        .map_err(TarballError::Build)
}

fn append_symlink<W: Write>(archive: &mut tar::Builder<W>, path: &str, target: &str) -> Result<()> {
    let mut header = header(EntryType::Symlink, 0o777, 0);
    archive
        .append_link(&mut header, path, target)
        .map_err(TarballError::Build)
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::Path;

    use flate2::read::GzDecoder;

    use super::super::testing::*;
    use super::super::{MAX_PATH_BYTES, select, unpack};
    use super::*;

    // -- packing ---------------------------------------------------------------------------

    #[test]
    fn archive_layout_is_sorted_with_directories_first() {
        let packed = sample().pack();
        let got: Vec<_> = listing(&packed.bytes)
            .into_iter()
            .map(|(p, t, m, s, l)| format!("{t} {m:o} {s} {p} {l}").trim_end().to_owned())
            .collect();
        assert_eq!(
            got,
            [
                "5 755 0 pkg-1.0.0/",
                "0 644 4 pkg-1.0.0/LICENSE",
                "5 755 0 pkg-1.0.0/bin/",
                "0 755 10 pkg-1.0.0/bin/run.sh",
                "0 644 3 pkg-1.0.0/purs.json",
                "5 755 0 pkg-1.0.0/src/",
                "0 644 15 pkg-1.0.0/src/A.purs",
                "2 777 0 pkg-1.0.0/src/Alias.purs A.purs",
                "5 755 0 pkg-1.0.0/src/Deep/",
                "0 644 20 pkg-1.0.0/src/Deep/B.purs",
            ]
        );
        assert_eq!(packed.files, 6);
        assert_eq!(packed.unpacked_bytes, 4 + 10 + 3 + 15 + 20);
        assert_eq!(
            packed.sha256,
            <[u8; 32]>::from(Sha256::digest(&packed.bytes))
        );
        assert!(packed.warnings.is_empty());
    }

    #[test]
    fn pack_is_deterministic_whatever_the_input_order() {
        let source = sample();
        let first = source.pack();
        assert_eq!(source.pack(), first);
        let mut reversed = source.entries();
        reversed.reverse();
        let again = source.pack_with(&reversed, &Limits::default()).unwrap();
        assert_eq!(again.bytes, first.bytes);
    }

    #[test]
    fn gzip_header_has_mtime_zero_and_no_name() {
        let bytes = sample().pack().bytes;
        assert_eq!(&bytes[..3], &[0x1f, 0x8b, 8]);
        assert_eq!(bytes[3], 0, "no FNAME, FEXTRA or FCOMMENT flag");
        assert_eq!(&bytes[4..8], &[0, 0, 0, 0], "mtime 0");
        assert_eq!(bytes[9], 255, "unknown OS");
        let decoder = GzDecoder::new(&bytes[..]);
        let header = decoder.header().unwrap();
        assert_eq!((header.mtime(), header.filename()), (0, None));
    }

    #[test]
    fn long_paths_and_targets_round_trip() {
        let dir = "d".repeat(120);
        let long = format!("src/{dir}/{}.purs", "N".repeat(110));
        let mut source = Source::new(&[(&long, b"long\n"), ("src/A.purs", b"a\n")]);
        let target = format!("{dir}/{}.purs", "N".repeat(110));
        source.links.push(("src/L.purs".into(), target.clone()));
        let packed = source.pack();
        let names: Vec<_> = listing(&packed.bytes)
            .into_iter()
            .map(|e| (e.0, e.4))
            .collect();
        assert!(names.contains(&(format!("{TOP}/{long}"), String::new())));
        assert!(names.contains(&(format!("{TOP}/src/L.purs"), target.clone())));
        let out = tempfile::tempdir().unwrap();
        unpack(&packed.bytes, out.path(), &Limits::default()).unwrap();
        assert_eq!(
            fs::read(out.path().join(TOP).join(&long)).unwrap(),
            b"long\n"
        );
        let link = out.path().join(TOP).join("src/L.purs");
        assert_eq!(fs::read_link(&link).unwrap(), Path::new(&target));
        assert_eq!(fs::read(link).unwrap(), b"long\n");
    }

    #[test]
    fn pack_then_unpack_preserves_contents_modes_and_symlinks() {
        let source = sample();
        let packed = source.pack();
        let out = tempfile::tempdir().unwrap();
        let got = unpack(&packed.bytes, out.path(), &Limits::default()).unwrap();
        let root = out.path().join(TOP);
        for (path, (bytes, executable)) in &source.files {
            assert!(got.contains(&format!("{TOP}/{path}")));
            assert_eq!(&fs::read(root.join(path)).unwrap(), bytes);
            assert_eq!(is_executable(&root.join(path)), *executable, "{path}");
        }
        let alias = root.join("src/Alias.purs");
        assert_eq!(fs::read_link(&alias).unwrap(), Path::new("A.purs"));
        assert_eq!(fs::read(alias).unwrap(), b"module A where\n");
        assert_eq!(got.len(), 6);
    }

    #[test]
    fn overrides_replace_and_add_files() {
        let source = sample();
        let overrides = [
            ("purs.json".to_owned(), b"{\"name\":\"pkg\"}\n".to_vec()),
            ("extra/NOTE".to_owned(), b"note\n".to_vec()),
        ];
        let packed = pack(
            TOP,
            &source.entries(),
            &overrides,
            &mut |p| source.read(p),
            &Limits::default(),
        )
        .unwrap();
        let out = tempfile::tempdir().unwrap();
        unpack(&packed.bytes, out.path(), &Limits::default()).unwrap();
        let root = out.path().join(TOP);
        assert_eq!(
            fs::read(root.join("purs.json")).unwrap(),
            b"{\"name\":\"pkg\"}\n"
        );
        assert_eq!(fs::read(root.join("extra/NOTE")).unwrap(), b"note\n");
        assert_eq!(packed.files, 7);

        let twice = [overrides[0].clone(), overrides[0].clone()];
        let err = pack(
            TOP,
            &[],
            &twice,
            &mut |p| source.read(p),
            &Limits::default(),
        );
        assert!(matches!(err, Err(TarballError::DuplicatePath { .. })));
    }

    #[test]
    fn pack_rechecks_its_input() {
        let source = sample();
        let read = &mut |p: &str| source.read(p);
        let limits = Limits::default();
        let bad_path = pack(TOP, &[file("../x")], &[], read, &limits);
        assert!(matches!(bad_path, Err(TarballError::InvalidPath { .. })));
        let escaping = pack(TOP, &[link("x", "../y")], &[], read, &limits);
        assert!(matches!(escaping, Err(TarballError::SymlinkEscapes { .. })));
        for top in ["", "a/b", "..", "."] {
            let err = pack(top, &[], &[], read, &limits);
            assert!(
                matches!(err, Err(TarballError::InvalidTopDir { .. })),
                "{top}"
            );
        }
    }

    #[test]
    fn reader_errors_carry_the_path_and_source() {
        let entries = [file("src/Missing.purs")];
        let err = pack(
            TOP,
            &entries,
            &[],
            &mut |_| Err::<Vec<u8>, _>("disk on fire"),
            &Limits::default(),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot read `src/Missing.purs` from the package source"
        );
        let source = std::error::Error::source(&err).unwrap();
        assert_eq!(source.to_string(), "disk on fire");
    }

    /// What a selection would refuse, `pack` refuses too: it may be given any slice.
    #[test]
    fn submodules_and_names_that_are_not_utf8_are_never_packed() {
        for (kind, refused) in [
            (InputKind::Submodule, "is a git submodule"),
            (
                InputKind::NotUtf8 {
                    path: b"src/\xff".to_vec(),
                    target: None,
                },
                "is not UTF-8",
            ),
        ] {
            let entries = [InputEntry {
                path: "src/x".to_owned(),
                kind,
            }];
            let err = sample()
                .pack_with(&entries, &Limits::default())
                .unwrap_err();
            assert!(err.to_string().contains(refused), "{err}");
        }
    }

    #[test]
    fn git_lfs_pointers_are_refused_naming_the_file() {
        let pointer = b"version https://git-lfs.github.com/spec/v1\n\
            oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n\
            size 12345\n";
        let mut source = sample();
        source
            .files
            .insert("src/Big.js".into(), (pointer.to_vec(), false));
        let err = source
            .pack_with(&source.entries(), &Limits::default())
            .unwrap_err();
        insta::assert_snapshot!(err.to_string(), @"`src/Big.js` is a Git LFS pointer, not the file: its content is on an LFS server, which is not fetched (nor by the PureScript Registry), so the pointer's text would be published: expected the file itself committed to git (or left out of `src/` and the `includeFiles` globs)");
        // A file merely starting like one, but too long to be one or without its other
        // lines, is content.
        let mut text = pointer.to_vec();
        text.resize(1024, b'x');
        source.files.insert("src/Big.js".into(), (text, false));
        source.pack();
        let text = b"version https://git-lfs.github.com/spec/v1 is how a pointer starts\n";
        source
            .files
            .insert("src/Big.js".into(), (text.to_vec(), false));
        source.pack();
    }

    // -- limits ----------------------------------------------------------------------------

    #[test]
    fn too_many_files_is_an_error() {
        let source = sample();
        let limits = Limits {
            max_files: 5,
            ..Limits::default()
        };
        let err = source.pack_with(&source.entries(), &limits).unwrap_err();
        assert_eq!(
            err.to_string(),
            "package has 6 files, more than the limit of 5 files"
        );
    }

    #[test]
    fn too_many_directories_is_an_error() {
        let source = Source::new(&[("src/a/b/c/d/e/A.purs", b"a")]);
        let limits = Limits {
            max_files: 5,
            ..Limits::default()
        };
        let err = source.pack_with(&source.entries(), &limits).unwrap_err();
        assert_eq!(
            err.to_string(),
            "package has 6 directories, more than the limit of 5 directories"
        );
        let limits = Limits {
            max_files: 6,
            ..Limits::default()
        };
        let packed = source.pack_with(&source.entries(), &limits).unwrap();
        let out = tempfile::tempdir().unwrap();
        unpack(&packed.bytes, out.path(), &limits).unwrap();
    }

    #[test]
    fn longest_paths_pack_and_unpack() {
        let name = format!("src/{}", "a".repeat(200));
        let path = format!("{}/A.purs", vec![name.as_str(); 20].join("/"));
        let path = &path[..MAX_PATH_BYTES - 5];
        let path = format!("{}.purs", path.trim_end_matches('/'));
        let source = Source::new(&[(path.as_str(), b"x")]);
        let top = "t".repeat(MAX_NAME_BYTES);
        let packed = pack(
            &top,
            &source.entries(),
            &[],
            &mut |p| source.read(p),
            &Limits::default(),
        )
        .unwrap();
        let out = tempfile::tempdir().unwrap();
        let got = unpack(&packed.bytes, out.path(), &Limits::default());
        // The OS may refuse a path this long; regis must not.
        if let Err(err) = got {
            assert!(matches!(err, TarballError::Write { .. }), "{err:?}");
        }
    }

    #[test]
    fn listed_sizes_are_checked_before_reading() {
        let entries = [InputEntry {
            path: "src/Big.purs".into(),
            kind: InputKind::File {
                executable: false,
                size: 51 * 1024 * 1024,
            },
        }];
        let mut reads = 0;
        let err = pack(
            TOP,
            &entries,
            &[],
            &mut |_| {
                reads += 1;
                Ok::<_, io::Error>(Vec::new())
            },
            &Limits::default(),
        )
        .unwrap_err();
        assert_eq!(reads, 0);
        assert_eq!(
            err.to_string(),
            "package files total 53477376 bytes unpacked, more than the limit of 52428800 bytes"
        );
    }

    #[test]
    fn real_sizes_are_checked_after_reading() {
        let source = Source::new(&[("src/A.purs", &[b'a'; 2000])]);
        let mut entries = source.entries();
        entries[0].kind = InputKind::File {
            executable: false,
            size: 10,
        };
        let limits = Limits {
            max_unpacked_bytes: 1000,
            ..Limits::default()
        };
        let err = source.pack_with(&entries, &limits).unwrap_err();
        assert!(matches!(
            err,
            TarballError::TooManyBytes {
                bytes: 2000,
                limit: 1000
            }
        ));
    }

    #[test]
    fn compressed_size_limit_and_warning() {
        let source = Source::new(&[("src/A.purs", &crate::testing::noise(5000))]);
        let limits = Limits {
            max_bytes: 4000,
            ..Limits::default()
        };
        let err = source.pack_with(&source.entries(), &limits).unwrap_err();
        let TarballError::TooLarge { bytes, limit } = err else {
            panic!("{err:?}")
        };
        assert!(bytes > 5000 && limit == 4000);
        assert_eq!(
            err_message(TarballError::TooLarge {
                bytes: 2_000_001,
                limit: 2_000_000
            }),
            "package tarball is 2000001 bytes, more than the limit of 2000000 bytes"
        );

        let limits = Limits {
            warn_bytes: 4000,
            ..Limits::default()
        };
        let packed = source.pack_with(&source.entries(), &limits).unwrap();
        assert_eq!(
            packed.warnings,
            [format!(
                "package tarball is {} bytes, more than the recommended 4000 bytes",
                packed.bytes.len()
            )]
        );
    }

    #[test]
    fn select_then_pack_end_to_end() {
        let mut source = sample();
        source
            .files
            .insert("node_modules/x.js".into(), (b"x".to_vec(), false));
        source
            .files
            .insert("test/Main.purs".into(), (b"t".to_vec(), false));
        let selected = select(&source.entries(), &rules(&["test/**", "bin/*"], &[])).unwrap();
        let packed = source
            .pack_with(&selected.entries, &Limits::default())
            .unwrap();
        let paths: Vec<_> = listing(&packed.bytes).into_iter().map(|e| e.0).collect();
        assert!(paths.contains(&format!("{TOP}/test/Main.purs")));
        assert!(!paths.iter().any(|p| p.contains("node_modules")));
    }
}
