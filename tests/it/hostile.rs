//! Hostile package repositories, written object by object and published through the real
//! pipeline: each is refused with a message naming the path and what was expected, with
//! nothing stored or pushed, or published with exactly the right files; and a blob of
//! hundreds of megabytes is never loaded, over file:// and git://.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use regis::operation::publish::PublishReport;
use regis::sample::SamplePackage;
use regis::schema::Location;
use regis::testing::{CraftedTree, Daemon, Node, TestRegistry, commit_tree, repeated_blob};

/// `name@version` at `location`, its repository `dir` holding the sample files plus what
/// `extra` adds, tagged with the version's ref.
fn hostile_at(
    dir: &Path,
    location: Location,
    version: &str,
    name: &str,
    extra: impl FnOnce(CraftedTree) -> CraftedTree,
) -> SamplePackage {
    let p = SamplePackage::new(name, version, location, &[]);
    let tree = extra(CraftedTree::of_files(&p.all_files()));
    commit_tree(dir, &tree, &p.manifest.reference).unwrap();
    p
}

/// `name@1.0.0` from the test GitHub (file://), its files plus what `extra` adds.
fn hostile(
    t: &TestRegistry,
    name: &str,
    extra: impl FnOnce(CraftedTree) -> CraftedTree,
) -> SamplePackage {
    hostile_at(&t.repo_dir(name), t.github(name), "1.0.0", name, extra)
}

/// The refusal of publishing `name` with `extra` in its repository (nothing written), the
/// repository's URL written `<url>`.
fn refusal(t: &TestRegistry, name: &str, extra: impl FnOnce(CraftedTree) -> CraftedTree) -> String {
    let p = hostile(t, name, extra);
    let url = format!("file://{}", t.repo_dir(name).display());
    t.refused(&p.payload(true)).replace(&url, "<url>")
}

/// Publishes `name` with `extra` in its repository: the report and the packed paths.
fn published(
    t: &TestRegistry,
    name: &str,
    extra: impl FnOnce(CraftedTree) -> CraftedTree,
) -> (PublishReport, Vec<String>) {
    let p = hostile(t, name, extra);
    let report = t.publish(&p.payload(true)).unwrap();
    (report, packed_paths(t, name))
}

/// The paths in the stored tarball of `name@1.0.0`, without the top directory.
fn packed_paths(t: &TestRegistry, name: &str) -> Vec<String> {
    let tarball = std::fs::read(t.layout.storage.join(format!("{name}/1.0.0.tar.gz"))).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let limits = regis::tarball::Limits::default();
    let mut paths: Vec<String> = regis::tarball::unpack(&tarball, dir.path(), &limits)
        .unwrap()
        .into_iter()
        .map(|path| path.split_once('/').unwrap().1.to_owned())
        .collect();
    paths.sort();
    paths
}

fn file(text: &str) -> Node {
    Node::File(text.as_bytes().to_vec())
}

/// A commit of some other repository, for submodule entries.
fn elsewhere() -> git2::Oid {
    git2::Oid::from_str("1234567890123456789012345678901234567890").unwrap()
}

// -- submodules ---------------------------------------------------------------------------

#[test]
fn a_submodule_the_package_would_pack_is_refused() {
    let t = TestRegistry::new();
    let e = refusal(&t, "subsrc", |tree| {
        tree.with("src/Vendor", Node::Submodule(elsewhere()))
    });
    insta::assert_snapshot!(e, @"`src/Vendor` is a git submodule: its files are in another repository, which is not fetched, so the package would be published without them: expected the files committed in this repository (or the submodule outside `src/` and the `includeFiles` globs)");

    let mut p = SamplePackage::new("subtest", "1.0.0", t.github("subtest"), &[]);
    p.manifest.include_files = Some(vec!["test/**/*.purs".to_owned()]);
    let tree =
        CraftedTree::of_files(&p.all_files()).with("test/fixtures", Node::Submodule(elsewhere()));
    commit_tree(&t.repo_dir("subtest"), &tree, "v1.0.0").unwrap();
    insta::assert_snapshot!(t.refused(&p.payload(true)), @"`test/fixtures` is a git submodule: its files are in another repository, which is not fetched, so the package would be published without them: expected the files committed in this repository (or the submodule outside `src/` and the `includeFiles` globs)");
}

/// The PureScript Registry clones without submodules and packs what its globs find, so a
/// submodule nothing would pack from is left out there too: here, with a warning.
#[test]
fn a_submodule_the_package_never_packs_is_a_warning() {
    let t = TestRegistry::new();
    let (report, paths) = published(&t, "subdocs", |tree| {
        tree.with("docs/theme", Node::Submodule(elsewhere()))
    });
    assert_eq!(
        report.warnings,
        ["git submodule `docs/theme` is not packed: its files are in another repository"]
    );
    assert_eq!(
        paths,
        ["LICENSE", "README.md", "purs.json", "src/Subdocs.purs"]
    );
}

/// Over git:// too: the transport brings no submodule content either way.
#[test]
fn a_submodule_is_refused_over_git_daemon() {
    let t = TestRegistry::new();
    let served = t.tmp.path().join("served");
    std::fs::create_dir_all(&served).unwrap();
    let Some(daemon) = Daemon::start(&served) else {
        return;
    };
    let location = Location::git(&daemon.url("vendored.git"), None).unwrap();
    let p = hostile_at(
        &served.join("vendored.git"),
        location,
        "1.0.0",
        "vendored",
        |tree| tree.with("src/Vendor", Node::Submodule(elsewhere())),
    );
    insta::assert_snapshot!(t.refused(&p.payload(true)), @"`src/Vendor` is a git submodule: its files are in another repository, which is not fetched, so the package would be published without them: expected the files committed in this repository (or the submodule outside `src/` and the `includeFiles` globs)");
}

// -- Git LFS ------------------------------------------------------------------------------

const LFS_POINTER: &str = "version https://git-lfs.github.com/spec/v1\n\
    oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n\
    size 12345\n";

#[test]
fn a_git_lfs_pointer_the_package_would_pack_is_refused() {
    let t = TestRegistry::new();
    let e = refusal(&t, "lfs", |tree| {
        tree.with("src/Data.js", file(LFS_POINTER))
    });
    insta::assert_snapshot!(e, @"`src/Data.js` is a Git LFS pointer, not the file: its content is on an LFS server, which is not fetched (nor by the PureScript Registry), so the pointer's text would be published: expected the file itself committed to git (or left out of `src/` and the `includeFiles` globs)");
}

#[test]
fn a_git_lfs_pointer_never_packed_is_never_read() {
    let t = TestRegistry::new();
    let (report, paths) = published(&t, "lfsdocs", |tree| {
        tree.with("docs/video.mp4", file(LFS_POINTER))
    });
    assert_eq!(report.warnings, Vec::<String>::new());
    assert_eq!(
        paths,
        ["LICENSE", "README.md", "purs.json", "src/Lfsdocs.purs"]
    );
}

// -- names --------------------------------------------------------------------------------

/// Names no git command writes fail the fetch wherever they are: they could make one path
/// name two files, or climb out of the package.
#[test]
fn crafted_names_are_refused_wherever_they_are() {
    let t = TestRegistry::new();
    let e = refusal(&t, "slash", |tree| {
        tree.with_names(&[b"docs", b"a/b.md"], file("x"))
    });
    insta::assert_snapshot!(e, @"invalid tree entry `a/b.md` in directory `docs` at ref `v1.0.0` in `<url>`: expected a name without `/`");
    let e = refusal(&t, "dotdot", |tree| {
        tree.with_names(&[b"src", b"..", b"A.purs"], file("x"))
    });
    insta::assert_snapshot!(e, @"invalid tree entry `..` in directory `src` at ref `v1.0.0` in `<url>`: expected a name other than `.` and `..`");
}

/// A line break or another control character in a packed name is refused, the name shown
/// escaped; the PureScript Registry would pack it, but such a name breaks the tools that
/// list or unpack the package (and a line break could forge lines in a message). Elsewhere
/// (a stray `Icon\r` from macOS) it is ignored.
#[test]
fn control_characters_in_a_packed_name_are_refused() {
    let t = TestRegistry::new();
    let e = refusal(&t, "newline", |tree| {
        tree.with("src/A\nB.purs", file("module A where\n"))
    });
    insta::assert_snapshot!(e, @r"invalid path `src/A\nB.purs`: expected no control characters (such as a line break or a NUL byte)");

    let (_, paths) = published(&t, "icon", |tree| tree.with("Icon\r", file("")));
    assert_eq!(
        paths,
        ["LICENSE", "README.md", "purs.json", "src/Icon.purs"]
    );
}

#[test]
fn a_name_that_is_not_utf8_is_refused_saying_so() {
    let t = TestRegistry::new();
    let e = refusal(&t, "latin", |tree| {
        tree.with_names(&[b"src", b"Caf\xe9.purs"], file("module Cafe where\n"))
    });
    insta::assert_snapshot!(e, @r"path `src/Caf\xe9.purs` is not UTF-8: expected UTF-8 file and directory names");
    let e = refusal(&t, "latin-link", |tree| {
        tree.with("src/Link.purs", Node::Symlink(b"Caf\xe9.purs".to_vec()))
    });
    insta::assert_snapshot!(e, @r"symlink `src/Link.purs` has a target that is not UTF-8 (`Caf\xe9.purs`): expected a UTF-8 target");
    // Never packed, never a problem.
    let (_, paths) = published(&t, "latin-docs", |tree| {
        tree.with_names(&[b"docs", b"Caf\xe9.md"], file("x"))
    });
    assert_eq!(
        paths,
        ["LICENSE", "README.md", "purs.json", "src/Latin.Docs.purs"]
    );
}

/// Whatever a package names, a message shows at most a few hundred characters of it.
#[test]
fn names_in_messages_are_bounded() {
    let t = TestRegistry::new();
    let long = format!("src/{}\n.purs", "a".repeat(3000));
    let e = refusal(&t, "long", |tree| tree.with(&long, file("x")));
    assert_eq!(
        e,
        format!(
            "invalid path `src/{}… (3,010 characters)`: expected no control characters (such as \
             a line break or a NUL byte)",
            "a".repeat(regis::text::VALUE_MAX_CHARS - 4)
        )
    );
}

// -- symlinks -----------------------------------------------------------------------------

#[test]
fn a_directory_symlink_cycle_is_refused() {
    let t = TestRegistry::new();
    let e = refusal(&t, "cycle", |tree| {
        tree.with("src/Up", Node::Symlink(b"..".to_vec()))
    });
    insta::assert_snapshot!(e, @"symlink `src/Up` points at `..`, a directory from which symlinks lead back to it: expected no directory cycles");
}

#[test]
fn a_symlink_leaving_the_package_is_refused() {
    let t = TestRegistry::new();
    let e = refusal(&t, "escape", |tree| {
        tree.with(
            "src/Passwd.purs",
            Node::Symlink(b"../../../../etc/passwd".to_vec()),
        )
    });
    insta::assert_snapshot!(e, @"symlink `src/Passwd.purs` points outside the package (`../../../../etc/passwd`)");
}

// -- a huge blob --------------------------------------------------------------------------

/// Runs `command` to its end, sampling its peak resident memory (`VmHWM` of
/// `/proc/<pid>/status`, KiB) every few milliseconds: `None` without `/proc`. The peak
/// only rises, and faulting in a blob-sized allocation takes far longer than a sampling
/// interval, so the last sample before the exit is the peak.
fn run_measured(command: &mut Command) -> (Output, Option<u64>) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = format!("/proc/{}/status", child.id());
    let mut peak = None;
    while child.try_wait().unwrap().is_none() {
        let sample = std::fs::read_to_string(&status).ok().and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("VmHWM:"))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        });
        peak = peak.max(sample);
        std::thread::sleep(Duration::from_millis(5));
    }
    (child.wait_with_output().unwrap(), peak)
}

/// `regis publish` of `p` through the binary: its output and peak memory.
fn publish_measured(t: &TestRegistry, p: &SamplePackage) -> (Output, Option<u64>) {
    let payload = t.tmp.path().join("payload.json");
    std::fs::write(&payload, serde_json::to_string(&p.payload(true)).unwrap()).unwrap();
    run_measured(
        Command::new(env!("CARGO_BIN_EXE_regis"))
            .arg("--registry")
            .arg(&t.layout.registry)
            .arg("publish")
            .arg(&payload),
    )
}

/// A blob of 300 MB (of one byte: it packs to a few hundred kilobytes) is only ever sized
/// from its object header: where it would be packed the publish is refused for its size
/// before a byte is read, elsewhere it is never read. Over file:// (which once loaded it
/// whole) and over git://, the `regis` binary's peak memory stays far below its size.
#[test]
fn a_huge_blob_is_never_loaded() {
    const HUGE: usize = 300 << 20;
    let t = TestRegistry::new();
    let github = t.tmp.path().join("github");
    let dir = t.repo_dir("huge");
    let blob = repeated_blob(&dir, b'a', HUGE).unwrap();
    // What `git daemon` serves: the blob streamed, not searched for deltas, compressed fast.
    let mut config = git2::Repository::open_bare(&dir).unwrap().config().unwrap();
    config.set_str("core.bigFileThreshold", "1m").unwrap();
    config.set_i32("pack.compression", 1).unwrap();
    let daemon = Daemon::start(&github);
    let mut locations = vec![("huge", "1", t.github("huge"))];
    if let Some(daemon) = &daemon {
        let url = daemon.url("test/huge.git");
        locations.push(("huge-git", "2", Location::git(&url, None).unwrap()));
    }
    for (name, major, location) in locations {
        // Packed: refused for the listed size, nothing read.
        let p = hostile_at(
            &dir,
            location.clone(),
            &format!("{major}.0.0"),
            name,
            |tree| tree.with("src/Data.js", Node::Blob(blob)),
        );
        let (out, peak) = publish_measured(&t, &p);
        assert_eq!(out.status.code(), Some(1), "{name}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!(
                "bytes unpacked, more than the limit of {} bytes",
                regis::tarball::Limits::default().max_unpacked_bytes
            )),
            "{stderr}"
        );
        check_peak(name, peak, HUGE);
        // Not packed: never read, the package published.
        let p = hostile_at(&dir, location, &format!("{major}.0.1"), name, |tree| {
            tree.with("data/huge.bin", Node::Blob(blob))
        });
        let (out, peak) = publish_measured(&t, &p);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        check_peak(name, peak, HUGE);
    }
}

/// On Linux, the peak memory (KiB) is a small fraction of `blob` bytes.
fn check_peak(name: &str, peak: Option<u64>, blob: usize) {
    if cfg!(target_os = "linux") {
        let peak = peak.expect("VmHWM in /proc/<pid>/status");
        eprintln!("{name}: peak resident memory {peak} KiB for a blob of {blob} bytes");
        assert!(
            peak * 1024 < blob as u64 / 4,
            "{name}: peak {peak} KiB for a blob of {blob} bytes"
        );
    }
}
