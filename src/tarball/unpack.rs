//! Safe unpacking: the module documentation's *Unpacking*.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{self, Read};
use std::path::Path;

use flate2::read::GzDecoder;
use tar::EntryType;

use super::{
    Limits, MAX_NAME_BYTES, MAX_PATH_BYTES, Result, TarballError, TargetProblem, ancestors,
    path_problem, resolve_lexically,
};

/// Bytes allowed per entry for its header (512), content padding (511) and GNU long name
/// and long link entries (512 + 4608 each, for paths of at most 4352 bytes and targets of
/// at most 4096): 11,263 bytes at most.
const ENTRY_OVERHEAD: u64 = 12 * 1024;

/// Safely unpacks a `.tar.gz` into `dest`, an empty or missing directory.
///
/// Returns the paths of the unpacked files and symlinks, relative to `dest` (so starting
/// with the top directory), in archive order. A hostile archive is an error, never a write
/// outside `dest`.
pub fn unpack(bytes: &[u8], dest: &Path, limits: &Limits) -> Result<Vec<String>> {
    prepare_dest(dest)?;
    let stream = CappedReader {
        inner: GzDecoder::new(bytes),
        left: stream_cap(limits),
    };
    let mut archive = tar::Archive::new(stream);
    let mut unpacker = Unpacker::new(dest, limits);
    let entries = archive.entries().map_err(|e| read_error(e, limits))?;
    for entry in entries {
        unpacker.entry(&mut entry.map_err(|e| read_error(e, limits))?)?;
    }
    if unpacker.top.is_none() {
        return Err(TarballError::EmptyArchive);
    }
    Ok(unpacker.unpacked)
}

fn prepare_dest(dest: &Path) -> Result<()> {
    let write_error = |source| TarballError::Write {
        path: dest.to_owned(),
        source,
    };
    fs::create_dir_all(dest).map_err(write_error)?;
    if fs::read_dir(dest).map_err(write_error)?.next().is_some() {
        return Err(TarballError::DestNotEmpty {
            dest: dest.to_owned(),
        });
    }
    Ok(())
}

/// Most decompressed bytes read: the contents plus a header allowance per allowed entry
/// (files and symlinks, directories, and the end-of-archive blocks).
fn stream_cap(limits: &Limits) -> u64 {
    let entries = (limits.max_files as u64)
        .saturating_mul(2)
        .saturating_add(2);
    limits
        .max_unpacked_bytes
        .saturating_add(entries.saturating_mul(ENTRY_OVERHEAD))
}

/// Marks the I/O error of a decompressed stream cut off at its cap.
#[derive(Debug, thiserror::Error)]
#[error("decompressed stream is longer than its cap")]
struct StreamCapped;

/// A reader that fails once more than `left` bytes have been read.
struct CappedReader<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for CappedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            // One more byte would pass the cap: find out without keeping it.
            return match self.inner.read(&mut [0u8])? {
                0 => Ok(0),
                _ => Err(io::Error::other(StreamCapped)),
            };
        }
        let len = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..len])?;
        self.left -= n as u64;
        Ok(n)
    }
}

fn is_capped(error: &io::Error) -> bool {
    error.get_ref().is_some_and(|e| e.is::<StreamCapped>())
}

fn read_error(error: io::Error, limits: &Limits) -> TarballError {
    if is_capped(&error) {
        TarballError::UnpackLimit {
            what: "decompressed bytes",
            limit: stream_cap(limits),
        }
    } else {
        TarballError::Corrupt(error)
    }
}

/// What has been created under `dest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Made {
    Dir,
    File,
    Symlink,
}

/// The state of one unpacking.
struct Unpacker<'a> {
    dest: &'a Path,
    limits: &'a Limits,
    top: Option<String>,
    made: BTreeMap<String, Made>,
    listed: BTreeSet<String>,
    dirs: u64,
    files: u64,
    bytes: u64,
    unpacked: Vec<String>,
}

/// Accepts regular files, directories and symlinks only.
fn check_entry_type(raw: &str, entry_type: EntryType) -> Result<()> {
    match entry_type {
        EntryType::Regular | EntryType::Directory | EntryType::Symlink => Ok(()),
        EntryType::Link => Err(refused(raw, "expected no hard links")),
        EntryType::Char | EntryType::Block | EntryType::Fifo => {
            Err(refused(raw, "expected no device or fifo entries"))
        }
        _ => Err(refused(
            raw,
            "expected a regular file, directory or symlink entry",
        )),
    }
}

fn refused(path: &str, expected: impl Into<String>) -> TarballError {
    TarballError::UnsafeEntry {
        path: path.to_owned(),
        expected: expected.into(),
    }
}

impl<'a> Unpacker<'a> {
    fn new(dest: &'a Path, limits: &'a Limits) -> Self {
        Unpacker {
            dest,
            limits,
            top: None,
            made: BTreeMap::new(),
            listed: BTreeSet::new(),
            dirs: 0,
            files: 0,
            bytes: 0,
            unpacked: Vec::new(),
        }
    }

    fn entry<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>) -> Result<()> {
        let raw = entry.path_bytes().into_owned();
        let raw = String::from_utf8(raw).map_err(|e| {
            refused(
                &String::from_utf8_lossy(e.as_bytes()),
                "expected a UTF-8 path",
            )
        })?;
        let entry_type = entry.header().entry_type();
        check_entry_type(&raw, entry_type)?;
        let path = self.claim(&raw, entry_type)?;
        match entry_type {
            EntryType::Directory => self.make_dir(&path),
            EntryType::Symlink => self.make_symlink(&path, entry),
            _ => self.write_file(&path, entry),
        }
    }

    /// Checks an entry's path and creates its parent directories; returns the path.
    fn claim(&mut self, raw: &str, entry_type: EntryType) -> Result<String> {
        let path = match entry_type {
            EntryType::Directory => raw.strip_suffix('/').unwrap_or(raw),
            _ => raw,
        };
        if path.len() > MAX_NAME_BYTES + 1 + MAX_PATH_BYTES {
            return Err(refused(raw, "expected at most 4352 bytes"));
        }
        if let Some(expected) = path_problem(path) {
            return Err(refused(raw, expected));
        }
        let first = path.split('/').next().unwrap_or(path);
        let top = self.top.get_or_insert_with(|| first.to_owned());
        if first != top.as_str() {
            return Err(refused(
                raw,
                format!("expected every entry inside the single top directory `{top}/`"),
            ));
        }
        if path == top.as_str() && !entry_type.is_dir() {
            return Err(refused(raw, format!("expected `{top}/` to be a directory")));
        }
        if !self.listed.insert(path.to_owned()) {
            return Err(refused(raw, "expected each path once"));
        }
        for dir in ancestors(path) {
            self.ensure_dir(raw, dir)?;
        }
        Ok(path.to_owned())
    }

    /// Creates `dir` unless it is already a directory made here.
    fn ensure_dir(&mut self, raw: &str, dir: &str) -> Result<()> {
        match self.made.get(dir) {
            Some(Made::Dir) => Ok(()),
            Some(_) => Err(refused(
                raw,
                format!("expected `{dir}` to be a directory, not a file or symlink"),
            )),
            None => self.create_dir(dir),
        }
    }

    fn create_dir(&mut self, dir: &str) -> Result<()> {
        self.dirs += 1;
        let limit = self.limits.max_files as u64 + 1;
        if self.dirs > limit {
            return Err(TarballError::UnpackLimit {
                what: "directories",
                limit,
            });
        }
        let path = self.dest.join(dir);
        create_dir(&path).map_err(|source| TarballError::Write { path, source })?;
        self.made.insert(dir.to_owned(), Made::Dir);
        Ok(())
    }

    fn make_dir(&mut self, path: &str) -> Result<()> {
        match self.made.get(path) {
            Some(Made::Dir) => Ok(()),
            Some(_) => Err(refused(path, "expected each path once")),
            None => self.create_dir(path),
        }
    }

    /// Counts one more file or symlink against the limit.
    fn count_file(&mut self) -> Result<()> {
        self.files += 1;
        if self.files > self.limits.max_files as u64 {
            return Err(TarballError::UnpackLimit {
                what: "files",
                limit: self.limits.max_files as u64,
            });
        }
        Ok(())
    }

    fn write_file<R: Read>(&mut self, path: &str, entry: &mut tar::Entry<'_, R>) -> Result<()> {
        self.count_file()?;
        let budget = self.limits.max_unpacked_bytes.saturating_sub(self.bytes);
        let too_many_bytes = || TarballError::UnpackLimit {
            what: "bytes",
            limit: self.limits.max_unpacked_bytes,
        };
        if entry.size() > budget {
            return Err(too_many_bytes());
        }
        let executable = entry.header().mode().is_ok_and(|mode| mode & 0o111 != 0);
        let full = self.dest.join(path);
        let write_error = |source| TarballError::Write {
            path: full.clone(),
            source,
        };
        let mut file = create_file(&full, executable).map_err(write_error)?;
        let written =
            io::copy(&mut entry.take(budget.saturating_add(1)), &mut file).map_err(|e| {
                if is_capped(&e) {
                    read_error(e, self.limits)
                } else {
                    write_error(e)
                }
            })?;
        if written > budget {
            return Err(too_many_bytes());
        }
        self.bytes += written;
        self.made.insert(path.to_owned(), Made::File);
        self.unpacked.push(path.to_owned());
        Ok(())
    }

    fn make_symlink<R: Read>(&mut self, path: &str, entry: &tar::Entry<'_, R>) -> Result<()> {
        self.count_file()?;
        let target = entry
            .link_name_bytes()
            .ok_or_else(|| refused(path, "expected a symlink target"))?;
        let target = std::str::from_utf8(&target)
            .map_err(|_| refused(path, "expected a UTF-8 symlink target"))?;
        let (_, within_top) = path.split_once('/').unwrap_or(("", path));
        resolve_lexically(within_top, target).map_err(|problem| {
            refused(
                path,
                match problem {
                    TargetProblem::Escapes => {
                        format!("expected a symlink target inside the package, not `{target}`")
                    }
                    TargetProblem::NotNormal => format!(
                        "expected a symlink target of leading `..` components then names, \
                         not `{target}`"
                    ),
                },
            )
        })?;
        let full = self.dest.join(path);
        create_symlink(target, &full)
            .map_err(|source| TarballError::Write { path: full, source })?;
        self.made.insert(path.to_owned(), Made::Symlink);
        self.unpacked.push(path.to_owned());
        Ok(())
    }
}

#[cfg(unix)]
fn create_dir(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new().mode(0o755).create(path)
}

#[cfg(not(unix))]
fn create_dir(path: &Path) -> io::Result<()> {
    fs::create_dir(path)
}

/// Creates a new file; never opens an existing one or follows a symlink.
#[cfg(unix)]
fn create_file(path: &Path, executable: bool) -> io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let mode = if executable { 0o755 } else { 0o644 };
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
}

#[cfg(not(unix))]
fn create_file(path: &Path, _executable: bool) -> io::Result<fs::File> {
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

#[cfg(unix)]
fn create_symlink(target: &str, path: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(target, path)
}

#[cfg(not(unix))]
fn create_symlink(_target: &str, _path: &Path) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "symlinks are only unpacked on unix",
    ))
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use flate2::{Compression, GzBuilder};
    use proptest::prelude::*;
    use tar::Header;

    use super::super::testing::*;
    use super::*;

    // -- hostile archives ------------------------------------------------------------------

    /// A header written field by field, bypassing the `tar` crate's path checks.
    fn raw_header(path: &str, entry_type: EntryType, size: u64) -> Header {
        let mut header = Header::new_gnu();
        header.as_gnu_mut().unwrap().name[..path.len()].copy_from_slice(path.as_bytes());
        header.set_entry_type(entry_type);
        header.set_mode(0o644);
        header.set_size(size);
        header.set_mtime(0);
        header.set_cksum();
        header
    }

    fn raw_link(path: &str, entry_type: EntryType, target: &str) -> Header {
        let mut header = raw_header(path, entry_type, 0);
        header.as_gnu_mut().unwrap().linkname[..target.len()].copy_from_slice(target.as_bytes());
        header.set_cksum();
        header
    }

    fn raw_archive(entries: Vec<(Header, Box<dyn Read>)>) -> Vec<u8> {
        let gzip = GzBuilder::new().write(Vec::new(), Compression::fast());
        let mut archive = tar::Builder::new(gzip);
        for (header, data) in entries {
            archive.append(&header, data).unwrap();
        }
        archive.into_inner().unwrap().finish().unwrap()
    }

    fn dir(path: &str) -> (Header, Box<dyn Read>) {
        (
            raw_header(path, EntryType::Directory, 0),
            Box::new(io::empty()),
        )
    }

    fn data(path: &str, bytes: &'static [u8]) -> (Header, Box<dyn Read>) {
        (
            raw_header(path, EntryType::Regular, bytes.len() as u64),
            Box::new(bytes),
        )
    }

    fn zeros(path: &str, entry_type: EntryType, len: u64) -> (Header, Box<dyn Read>) {
        (
            raw_header(path, entry_type, len),
            Box::new(io::repeat(0).take(len)),
        )
    }

    fn symlink(path: &str, target: &str) -> (Header, Box<dyn Read>) {
        (
            raw_link(path, EntryType::Symlink, target),
            Box::new(io::empty()),
        )
    }

    /// Unpacks into `<tmp>/dest` next to an empty `<tmp>/victim`; checks that nothing
    /// outside `dest` changed and returns the error.
    fn unpack_hostile(bytes: &[u8], limits: &Limits) -> TarballError {
        let outer = tempfile::tempdir().unwrap();
        fs::create_dir(outer.path().join("victim")).unwrap();
        let err = unpack(bytes, &outer.path().join("dest"), limits).unwrap_err();
        let mut names: Vec<_> = fs::read_dir(outer.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["dest", "victim"]);
        assert_eq!(
            fs::read_dir(outer.path().join("victim")).unwrap().count(),
            0
        );
        err
    }

    fn refusal(entries: Vec<(Header, Box<dyn Read>)>) -> String {
        match unpack_hostile(&raw_archive(entries), &Limits::default()) {
            TarballError::UnsafeEntry { path, expected } => format!("{path}: {expected}"),
            other => panic!("expected a refused entry, got {other:?}"),
        }
    }

    #[test]
    fn dotdot_and_absolute_paths_are_refused() {
        assert_eq!(
            refusal(vec![dir("top/"), data("top/../../victim/x", b"x")]),
            "top/../../victim/x: expected no `..` component"
        );
        assert_eq!(
            refusal(vec![data("../victim/x", b"x")]),
            "../victim/x: expected no `..` component"
        );
        assert_eq!(
            refusal(vec![data("/tmp/regis-evil", b"x")]),
            "/tmp/regis-evil: expected a relative path, without a leading `/`"
        );
    }

    #[test]
    fn entries_outside_the_single_top_dir_are_refused() {
        assert_eq!(
            refusal(vec![
                dir("top/"),
                data("top/a", b"a"),
                data("other/b", b"b")
            ]),
            "other/b: expected every entry inside the single top directory `top/`"
        );
        assert_eq!(
            refusal(vec![data("loose", b"a")]),
            "loose: expected `loose/` to be a directory"
        );
        assert_eq!(
            refusal(vec![dir("top/"), data("top/a", b"a"), data("top/a", b"b")]),
            "top/a: expected each path once"
        );
    }

    #[test]
    fn escaping_symlinks_and_writes_through_symlinks_are_refused() {
        assert_eq!(
            refusal(vec![
                dir("top/"),
                symlink("top/link", "../../victim"),
                data("top/link/x", b"x"),
            ]),
            "top/link: expected a symlink target inside the package, not `../../victim`"
        );
        assert_eq!(
            refusal(vec![dir("top/"), symlink("top/link", "/tmp")]),
            "top/link: expected a symlink target inside the package, not `/tmp`"
        );
        // Lexically `t` stays inside, but the OS climbs from where `s` points: refused
        // because `..` follows a name.
        assert_eq!(
            refusal(vec![
                dir("top/"),
                symlink("top/a/b/s", "../.."),
                symlink("top/a/b/t", "s/../../../victim"),
            ]),
            "top/a/b/t: expected a symlink target of leading `..` components then names, \
             not `s/../../../victim`"
        );
        assert_eq!(
            refusal(vec![
                dir("top/"),
                symlink("top/a/s", ".."),
                symlink("top/a/t", "s/.."),
            ]),
            "top/a/t: expected a symlink target of leading `..` components then names, not `s/..`"
        );
        assert_eq!(
            refusal(vec![
                dir("top/"),
                dir("top/src/"),
                symlink("top/lnk", "src"),
                data("top/lnk/x", b"x")
            ]),
            "top/lnk/x: expected `top/lnk` to be a directory, not a file or symlink"
        );
    }

    #[test]
    fn hard_links_devices_and_fifos_are_refused() {
        let hard = (
            raw_link("top/h", EntryType::Link, "top/a"),
            Box::new(io::empty()) as _,
        );
        assert_eq!(
            refusal(vec![dir("top/"), data("top/a", b"a"), hard]),
            "top/h: expected no hard links"
        );
        for kind in [EntryType::Fifo, EntryType::Char, EntryType::Block] {
            assert_eq!(
                refusal(vec![dir("top/"), zeros("top/dev", kind, 0)]),
                "top/dev: expected no device or fifo entries"
            );
        }
    }

    #[test]
    fn oversized_files_stop_before_writing() {
        let limits = Limits {
            max_unpacked_bytes: 1024 * 1024,
            ..Limits::default()
        };
        let bomb = raw_archive(vec![
            dir("top/"),
            zeros("top/small", EntryType::Regular, 700 * 1024),
            zeros("top/big", EntryType::Regular, 700 * 1024),
        ]);
        let outer = tempfile::tempdir().unwrap();
        let err = unpack(&bomb, outer.path(), &limits).unwrap_err();
        assert_eq!(
            err.to_string(),
            "tarball unpacks to more than the limit of 1048576 bytes"
        );
        assert!(outer.path().join("top/small").exists());
        assert!(!outer.path().join("top/big").exists());
    }

    #[test]
    fn gzip_bombs_stop_at_the_stream_cap() {
        let limits = Limits {
            max_unpacked_bytes: 1024 * 1024,
            max_files: 10,
            ..Limits::default()
        };
        let long_name = raw_header("././@LongLink", EntryType::GNULongName, 16 << 20);
        let bomb = raw_archive(vec![
            (long_name, Box::new(io::repeat(b'a').take(16 << 20))),
            data("top/x", b"x"),
        ]);
        assert!(bomb.len() < 100_000);
        let err = unpack_hostile(&bomb, &limits);
        assert!(
            matches!(err, TarballError::UnpackLimit { what: "decompressed bytes", limit } if limit == stream_cap(&limits)),
            "{err:?}"
        );
    }

    #[test]
    fn too_many_entries_are_refused() {
        let limits = Limits {
            max_files: 2,
            ..Limits::default()
        };
        let files = raw_archive(vec![
            dir("top/"),
            data("top/a", b"a"),
            data("top/b", b"b"),
            data("top/c", b"c"),
        ]);
        let err = unpack_hostile(&files, &limits);
        assert!(matches!(
            err,
            TarballError::UnpackLimit {
                what: "files",
                limit: 2
            }
        ));
        let dirs = raw_archive(vec![
            dir("top/"),
            dir("top/a/"),
            dir("top/b/"),
            dir("top/c/"),
        ]);
        let err = unpack_hostile(&dirs, &limits);
        assert!(matches!(
            err,
            TarballError::UnpackLimit {
                what: "directories",
                limit: 3
            }
        ));
    }

    #[test]
    fn unpack_needs_an_empty_destination_and_a_real_archive() {
        let bytes = sample().pack().bytes;
        let out = tempfile::tempdir().unwrap();
        fs::write(out.path().join("already"), b"").unwrap();
        let err = unpack(&bytes, out.path(), &Limits::default()).unwrap_err();
        assert!(matches!(err, TarballError::DestNotEmpty { .. }));
        let mut messages =
            vec![crate::error_chain(&err).replace(&out.path().display().to_string(), "<dest>")];
        let out = tempfile::tempdir().unwrap();
        let err = unpack(b"not a tarball", out.path(), &Limits::default()).unwrap_err();
        assert!(matches!(err, TarballError::Corrupt(_)), "{err:?}");
        messages.push(crate::error_chain(&err));
        let err = unpack(&raw_archive(vec![]), out.path(), &Limits::default()).unwrap_err();
        assert!(matches!(err, TarballError::EmptyArchive), "{err:?}");
        messages.push(crate::error_chain(&err));
        insta::assert_snapshot!(messages.join("\n"), @r"
            unpack destination `<dest>` is not empty: expected an empty or missing directory
            cannot read the tarball: expected a gzip-compressed tar archive: invalid gzip header
            tarball has no entries: expected a single top directory
            ");
    }

    // -- properties ------------------------------------------------------------------------

    fn arb_files() -> impl Strategy<Value = BTreeMap<String, (Vec<u8>, bool)>> {
        let path = prop_oneof![
            4 => "src(/[a-c]{1,3}){0,3}/[a-zA-Z]{1,8}\\.purs",
            1 => "src/[a-z]{90,120}/[a-z]{10,30}\\.js",
            1 => "(README|LICENSE|purs\\.json)",
        ];
        let file = (prop::collection::vec(any::<u8>(), 0..300), any::<bool>());
        prop::collection::btree_map(path, file, 1..12)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn pack_is_deterministic_and_unpack_inverts_it(files in arb_files()) {
            let source = Source { files, links: Vec::new() };
            let entries = source.entries();
            let packed = source.pack_with(&entries, &Limits::default()).unwrap();
            let mut reversed = entries.clone();
            reversed.reverse();
            let again = source.pack_with(&reversed, &Limits::default()).unwrap();
            prop_assert_eq!(&again.bytes, &packed.bytes);

            let out = tempfile::tempdir().unwrap();
            let got = unpack(&packed.bytes, out.path(), &Limits::default()).unwrap();
            let expected: BTreeSet<_> = source.files.keys().map(|p| format!("{TOP}/{p}")).collect();
            prop_assert_eq!(got.into_iter().collect::<BTreeSet<_>>(), expected);
            for (path, (bytes, executable)) in &source.files {
                let on_disk = out.path().join(TOP).join(path);
                prop_assert_eq!(&fs::read(&on_disk).unwrap(), bytes);
                prop_assert_eq!(is_executable(&on_disk), *executable);
            }
        }
    }
}
