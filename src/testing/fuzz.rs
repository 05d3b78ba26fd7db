//! The checks behind the fuzz targets (`fuzz/`), one function a target, each taking the
//! fuzzer's bytes: a parser of untrusted input is run on them and what it promises beyond
//! not panicking is asserted — canonical forms read back to the same value and re-serialise
//! to themselves, `parse(display(x)) == x`, an issue body's valid JSON comes back untouched,
//! unpacking never writes outside its directory, errors stay proportionate to the input.
//!
//! The fuzz targets are one line each, calling these; `tests/it/fuzz_regressions.rs` replays
//! the inputs under `tests/fuzz-regressions/<target>/` and the seeds under
//! `fuzz/seeds/<target>/` through the same functions, so plain `cargo test` guards what the
//! fuzzer found. A new target is a function here, a line in [`TARGETS`] and a file in
//! `fuzz/fuzz_targets/`; a new manifest reader is a target calling
//! [`manifest_reader`] with it (or [`ManifestFile`] gains a variant and a target).

use std::fmt::Display;
use std::path::{Component, Path, PathBuf};

use crate::config::{Config, RawConfig};
use crate::dhall::{self, Schema};
use crate::github::{Event, EventKind};
use crate::index::{IndexError, IndexFile, entry_path};
use crate::issue_body::{IssueBodyError, payload_text, publish_form};
use crate::manifest::{Given, Manifest, ManifestError, ManifestFile, lenient};
use crate::metadata::Metadata;
use crate::package_set::PackageSet;
use crate::payload::{Authenticated, AuthenticatedData, MAX_REASON_CHARS, Operation, extract_json};
use crate::schema::{
    Date, License, Location, Owner, PackageName, PackageVersion, Range, Sha256, Timestamp, Version,
    redact_url,
};
use crate::tarball::{Limits, unpack};

/// A target's check: the fuzzer's bytes in, a panic when the code under test breaks what it
/// promises.
pub type Check = fn(&[u8]);

/// Every target by name (the name of its file in `fuzz/fuzz_targets/` and of its folders
/// under `fuzz/seeds/` and `tests/fuzz-regressions/`) and its check.
pub const TARGETS: &[(&str, Check)] = &[
    ("payload", payload),
    ("issue_body", issue_body),
    ("github_event", github_event),
    ("manifest_json", manifest_json),
    ("manifest_authored_json", manifest_authored_json),
    ("manifest_dhall", manifest_dhall),
    ("manifest_bower", manifest_bower),
    ("manifest_spago_yaml", manifest_spago_yaml),
    ("metadata", metadata),
    ("index_file", index_file),
    ("package_set", package_set),
    ("schema", schema),
    ("tarball_unpack", tarball_unpack),
    ("config_dhall", config_dhall),
];

/// For a target whose code catches a dependency's panics on purpose (regis evaluates a
/// package's Dhall under `catch_unwind`, because serde_dhall panics on some inputs, and
/// node-semver's range parser the same way):
/// libfuzzer-sys's panic hook aborts on every panic, caught or not, so such a target's
/// `init` replaces it with one that only keeps the message, and runs its check through
/// [`abort_on_escaping_panic`].
pub fn allow_caught_panics() {
    std::panic::set_hook(Box::new(|info| {
        LAST_PANIC.with(|last| *last.borrow_mut() = Some(info.to_string()));
    }));
}

thread_local! {
    static LAST_PANIC: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// `check(data)`; a panic that reaches here (one regis did not catch) is printed and
/// aborts the process, which is what the fuzzer reports as a crash.
pub fn abort_on_escaping_panic(check: fn(&[u8]), data: &[u8]) {
    if std::panic::catch_unwind(|| check(data)).is_err() {
        let message = LAST_PANIC.with(|last| last.borrow_mut().take());
        eprintln!("{}", message.as_deref().unwrap_or("a panic"));
        std::process::abort();
    }
}

/// An error message may quote the input a few times over (a value, then the part of it that
/// is wrong), plus fixed text (a Dhall type error names the schema's type of the field),
/// never more: regis posts these messages as issue comments, which GitHub caps.
fn assert_error_bounded(input: &str, error: &impl Display) {
    let message = error.to_string();
    assert!(
        message.len() <= 4 * input.len() + 4096,
        "a {}-byte input gave a {}-byte error: {}",
        input.len(),
        message.len(),
        message.chars().take(300).collect::<String>()
    );
}

/// `value` serialised compactly reads back (through `read`) as itself, and that text is a
/// fixed point.
fn assert_json_roundtrip<T, E>(value: &T, read: impl Fn(&str) -> Result<T, E>)
where
    T: serde::Serialize + PartialEq + std::fmt::Debug,
    E: std::fmt::Debug,
{
    let text = serde_json::to_string(value).expect("a parsed value serialises");
    let back = read(&text).unwrap_or_else(|e| panic!("`{text}` does not read back: {e:?}"));
    assert_eq!(&back, value, "`{text}` reads back as another value");
    assert_eq!(serde_json::to_string(&back).unwrap(), text);
}

/// A canonical text (`write`) reads back as the same value and writes the same bytes.
fn assert_canonical<T, E>(
    value: &T,
    write: impl Fn(&T) -> String,
    read: impl Fn(&str) -> Result<T, E>,
) where
    T: PartialEq + std::fmt::Debug,
    E: std::fmt::Debug,
{
    let text = write(value);
    let back =
        read(&text).unwrap_or_else(|e| panic!("canonical `{text}` does not read back: {e:?}"));
    assert_eq!(
        &back, value,
        "canonical `{text}` reads back as another value"
    );
    assert_eq!(
        write(&back),
        text,
        "the canonical form is not a fixed point"
    );
}

// -- payloads and issues -----------------------------------------------------------------

/// `Operation::parse` and `from_issue_body` on the text, and `Authenticated::data` with the
/// text as the signed payload: what parses serialises and parses back as itself (a
/// current-era `Publish`, an `Authenticated`, a `PackageSetUpdate`, a `Transfer`, an
/// `Unpublish`, a `Yank`, an `Unyank`, a `Deprecate`, an `Alias`, an `Unalias`); a tag
/// never reads as a version; a reason or message is never blank
/// (but a Deprecate's empty one, which clears) or too long; errors are bounded.
pub fn payload(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for parsed in [Operation::parse(text), Operation::from_issue_body(text)] {
        match parsed {
            Ok(op) => check_operation(&op),
            Err(e) => assert_error_bounded(text, &e),
        }
    }
    let authenticated = Authenticated {
        payload: text.to_owned(),
        signature: String::new(),
    };
    match authenticated.data() {
        Ok(data) => check_authenticated_data(&data),
        Err(e) => assert_error_bounded(text, &e),
    }
}

fn check_operation(op: &Operation) {
    let reparse = |text: &str| Operation::parse(text);
    match op {
        // A CI-era payload becomes a Publish without a version, which has no current form.
        Operation::Publish(p) if p.version.is_none() => {
            assert!(p.compiler.is_some() && p.resolutions.is_some());
        }
        Operation::Publish(p) => {
            assert_json_roundtrip(p, |t| {
                reparse(t).map(|parsed| match parsed {
                    Operation::Publish(back) => back,
                    other => panic!("a Publish reads back as {other:?}"),
                })
            });
        }
        Operation::Authenticated(a) => {
            assert_json_roundtrip(a, |t| {
                reparse(t).map(|parsed| match parsed {
                    Operation::Authenticated(back) => back,
                    other => panic!("an Authenticated reads back as {other:?}"),
                })
            });
            if let Ok(data) = a.data() {
                check_authenticated_data(&data);
            }
        }
        Operation::PackageSetUpdate(u) => {
            assert_json_roundtrip(u, |t| {
                reparse(t).map(|parsed| match parsed {
                    Operation::PackageSetUpdate(back) => back,
                    other => panic!("a PackageSetUpdate reads back as {other:?}"),
                })
            });
        }
    }
}

fn check_authenticated_data(data: &AuthenticatedData) {
    match data {
        AuthenticatedData::Transfer(t) => {
            assert_json_roundtrip(t, |text| {
                AuthenticatedData::parse(text).map(|parsed| match parsed {
                    AuthenticatedData::Transfer(back) => back,
                    other => panic!("a Transfer reads back as {other:?}"),
                })
            });
        }
        AuthenticatedData::Unpublish(u) => {
            assert!(u.reason.chars().count() <= MAX_REASON_CHARS);
            assert!(!u.reason.trim().is_empty());
            assert_json_roundtrip(u, |text| {
                AuthenticatedData::parse(text).map(|parsed| match parsed {
                    AuthenticatedData::Unpublish(back) => back,
                    other => panic!("an Unpublish reads back as {other:?}"),
                })
            });
        }
        AuthenticatedData::Yank(y) => {
            assert!(y.reason.chars().count() <= MAX_REASON_CHARS);
            assert!(!y.reason.trim().is_empty());
            assert_json_roundtrip(y, |text| {
                AuthenticatedData::parse(text).map(|parsed| match parsed {
                    AuthenticatedData::Yank(back) => back,
                    other => panic!("a Yank reads back as {other:?}"),
                })
            });
        }
        AuthenticatedData::Unyank(u) => {
            assert_json_roundtrip(u, |text| {
                AuthenticatedData::parse(text).map(|parsed| match parsed {
                    AuthenticatedData::Unyank(back) => back,
                    other => panic!("an Unyank reads back as {other:?}"),
                })
            });
        }
        AuthenticatedData::Deprecate(d) => {
            assert!(d.message.chars().count() <= MAX_REASON_CHARS);
            assert!(d.clears() || !d.message.trim().is_empty());
            assert!(!(d.clears() && d.alternative.is_some()));
            assert_ne!(d.alternative.as_ref(), Some(&d.name));
            assert_json_roundtrip(d, |text| {
                AuthenticatedData::parse(text).map(|parsed| match parsed {
                    AuthenticatedData::Deprecate(back) => back,
                    other => panic!("a Deprecate reads back as {other:?}"),
                })
            });
        }
        AuthenticatedData::Alias(a) => {
            assert!(a.alias.as_str().parse::<crate::schema::Version>().is_err());
            assert_json_roundtrip(a, |text| {
                AuthenticatedData::parse(text).map(|parsed| match parsed {
                    AuthenticatedData::Alias(back) => back,
                    other => panic!("an Alias reads back as {other:?}"),
                })
            });
        }
        AuthenticatedData::Unalias(u) => {
            assert!(
                u.unalias
                    .as_str()
                    .parse::<crate::schema::Version>()
                    .is_err()
            );
            assert_json_roundtrip(u, |text| {
                AuthenticatedData::parse(text).map(|parsed| match parsed {
                    AuthenticatedData::Unalias(back) => back,
                    other => panic!("an Unalias reads back as {other:?}"),
                })
            });
        }
    }
    // What a signed payload is, is said by its keys: none of the shapes reads as another.
    let text = data.canonical();
    assert_eq!(
        AuthenticatedData::parse(&text).as_ref(),
        Ok(data),
        "`{text}`"
    );
}

/// `issue_body::payload_text`: a publish form becomes a `Publish` that `Operation::parse`
/// reads; otherwise valid JSON between the first `{` and the last `}` comes back byte for
/// byte, and only invalid JSON is repaired, into valid JSON; a JSON error's line and column
/// point into the body; errors are bounded.
pub fn issue_body(data: &[u8]) {
    let Ok(body) = std::str::from_utf8(data) else {
        return;
    };
    let is_form = body
        .lines()
        .filter_map(|line| line.strip_prefix("### "))
        .any(|label| label.trim() == publish_form::NAME);
    match payload_text(body) {
        Ok(found) if is_form => {
            assert!(found.repaired.is_empty());
            match Operation::parse(&found.text) {
                Ok(Operation::Publish(p)) => assert!(p.version.is_some()),
                other => panic!("the form's `{}` reads as {other:?}", found.text),
            }
        }
        Ok(found) => {
            let json = extract_json(body).expect("a payload came from between `{` and `}`");
            let valid = |t: &str| serde_json::from_str::<serde_json::Value>(t).is_ok();
            if found.repaired.is_empty() {
                assert_eq!(found.text, json, "valid JSON must come back untouched");
            } else {
                assert!(!valid(json), "valid JSON was repaired");
            }
            assert!(valid(&found.text), "`{}` is not JSON", found.text);
        }
        Err(e) => {
            if let IssueBodyError::Json { line, column, .. } = &e {
                let lines: Vec<&str> = body.split('\n').collect();
                assert!(
                    (1..=lines.len()).contains(line),
                    "line {line} of a body of {} lines",
                    lines.len()
                );
                let width = lines[line - 1].len();
                assert!(
                    *column <= width + 1,
                    "column {column} of line {line}, {width} bytes long"
                );
            }
            assert_error_bounded(body, &e);
        }
    }
}

/// `github::Event::parse`: an issue event is never the bot's own and names a repository
/// that reads back from its display.
pub fn github_event(data: &[u8]) {
    const BOT: &str = "github-actions[bot]";
    let Ok(json) = std::str::from_utf8(data) else {
        return;
    };
    match Event::parse(json, BOT) {
        Ok(Event::Issue(e)) => {
            assert!(!e.author.is_empty());
            assert!(!e.author.eq_ignore_ascii_case(BOT));
            let repo = e.issue.repo.to_string();
            assert_eq!(repo.parse().ok().as_ref(), Some(&e.issue.repo), "`{repo}`");
            let value: serde_json::Value = serde_json::from_str(json).unwrap();
            let pointer = match e.kind {
                EventKind::Opened => "/issue/body",
                EventKind::Comment => "/comment/body",
            };
            let body = value
                .pointer(pointer)
                .and_then(|b| b.as_str())
                .unwrap_or("");
            assert_eq!(e.body, body);
        }
        Ok(Event::Ignored { reason }) => assert!(!reason.is_empty()),
        Err(e) => assert_error_bounded(json, &e),
    }
}

// -- manifests ---------------------------------------------------------------------------

/// Read `data` with `read`: a manifest it gives is a valid index line and `purs.json`
/// (both read back as the same manifest and are fixed points); errors are bounded.
pub fn manifest_reader(data: &[u8], read: impl Fn(&str) -> Result<Manifest, ManifestError>) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match read(text) {
        Ok(m) => check_manifest(&m),
        Err(e) => assert_error_bounded(text, &e),
    }
}

fn check_manifest(m: &Manifest) {
    assert_canonical(m, Manifest::to_index_line, |t| {
        Manifest::from_json("index line", t)
    });
    assert_canonical(m, Manifest::to_pretty_json, |t| {
        let (back, ignored) = Manifest::from_authored_json("purs.json", t, "unused")?;
        assert!(
            ignored.is_empty(),
            "the pretty form has unknown keys {ignored:?}"
        );
        Ok::<_, ManifestError>(back)
    });
    assert!(!m.dependencies.contains_key(&m.name));
    let line = format!("{}\n", m.to_index_line());
    let file = IndexFile::parse(&entry_path(&m.name), &m.name, &line).expect("an index line");
    assert_eq!(file.to_text(), line);
}

/// `Manifest::from_json` (an index line, a registry-written `purs.json`).
pub fn manifest_json(data: &[u8]) {
    manifest_reader(data, |text| Manifest::from_json("purs.json", text));
}

/// `Manifest::from_authored_json` (a package's own `purs.json`): besides the manifest
/// checks, the keys it drops are the input object's unknown ones (and its owners').
pub fn manifest_authored_json(data: &[u8]) {
    manifest_reader(data, |text| {
        let (manifest, ignored) = Manifest::from_authored_json("purs.json", text, "v1.0.0")?;
        let value: serde_json::Value = serde_json::from_str(text).expect("it parsed");
        let object = value.as_object().expect("a manifest is an object");
        for key in ignored.iter().filter(|k| !k.starts_with("owners[")) {
            assert!(
                object.contains_key(key),
                "dropped `{key}`, not in the input"
            );
        }
        Ok(manifest)
    });
}

/// [`ManifestFile::read`] of `file` with what a publish request would give: the manifest
/// checks, and a manifest that keeps the request's ref.
fn manifest_file(data: &[u8], file: ManifestFile) {
    let name = PackageName::parse("aff").unwrap();
    let version = Version::parse("1.0.0").unwrap();
    let location = Location::github("purescript", "purescript-aff", None).unwrap();
    let given = Given {
        name: &name,
        version: Some(&version),
        location: &location,
        reference: "v1.0.0",
    };
    manifest_reader(data, |text| {
        let (manifest, _warnings) =
            crate::sandbox::in_process(|| file.read(text, &given, &Default::default()))?;
        assert_eq!(manifest.reference, "v1.0.0");
        Ok(manifest)
    });
}

/// `bower.json` through [`ManifestFile::BowerJson`] (ranges read leniently).
pub fn manifest_bower(data: &[u8]) {
    manifest_file(data, ManifestFile::BowerJson);
}

/// `spago.yaml` through [`ManifestFile::SpagoYaml`].
pub fn manifest_spago_yaml(data: &[u8]) {
    manifest_file(data, ManifestFile::SpagoYaml);
}

/// `Manifest::from_untrusted_dhall` (a package's `purs.dhall`, imports disabled).
pub fn manifest_dhall(data: &[u8]) {
    manifest_reader(data, |text| {
        crate::sandbox::in_process(|| Manifest::from_untrusted_dhall("purs.dhall", text))
    });
}

// -- registry documents ------------------------------------------------------------------

/// `Metadata::from_json`: its pretty form reads back as itself and is a fixed point.
pub fn metadata(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Metadata::from_json("metadata.json", text) {
        Ok(m) => {
            assert_canonical(&m, Metadata::to_json, |t| {
                Metadata::from_json("metadata.json", t)
            });
            assert!(m.published.values().all(|p| !p.compilers.is_empty()));
        }
        Err(e) => assert_error_bounded(text, &e),
    }
}

/// `IndexFile::parse`, the first line naming the package and the rest its file: the
/// file's canonical text reads back as itself and is a fixed point; every entry is of the
/// package; a line number in an error is a line of the file.
pub fn index_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (name, file) = text.split_once('\n').unwrap_or((text, ""));
    let Ok(name) = PackageName::parse(name) else {
        return;
    };
    let path = entry_path(&name);
    match IndexFile::parse(&path, &name, file) {
        Ok(index) => {
            assert!(!index.is_empty());
            assert!(index.manifests().all(|m| m.name == name));
            assert!(
                index
                    .versions()
                    .zip(index.versions().skip(1))
                    .all(|(a, b)| a < b)
            );
            assert_canonical(&index, IndexFile::to_text, |t| {
                IndexFile::parse(&path, &name, t)
            });
            for m in index.manifests() {
                assert_eq!(index.get(&m.version), Some(m));
            }
        }
        Err(e) => {
            let line = match &e {
                IndexError::BadLine { line, .. }
                | IndexError::WrongPackage { line, .. }
                | IndexError::Duplicate { line, .. } => Some(*line),
                _ => None,
            };
            if let Some(line) = line {
                assert!((1..=file.lines().count()).contains(&line), "line {line}");
            }
            assert_error_bounded(file, &e);
        }
    }
}

/// `PackageSet::from_json`: its pretty form reads back as itself and is a fixed point.
pub fn package_set(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match PackageSet::from_json("set.json", text) {
        Ok(set) => {
            assert_canonical(&set, PackageSet::to_json, |t| {
                PackageSet::from_json("set.json", t)
            });
            assert_eq!(
                set.file_name(),
                format!("package-sets/{}.json", set.version)
            );
        }
        Err(e) => assert_error_bounded(text, &e),
    }
}

// -- the value types ---------------------------------------------------------------------

/// Every `regis::schema` parser on the text: the string types keep their exact text
/// (`display(parse(s)) == s`, so `parse(display(x)) == x`), serde goes through the same
/// constructor, a `Location` or `Owner` read from JSON re-serialises to a fixed point, a
/// `Location` is the same place as itself, `redact_url` leaves no credentials.
pub fn schema(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    exact_serde(s, Version::parse);
    // the lenient legacy readers give what the strict ones read back
    if let Ok(v) = lenient::version(s) {
        assert_eq!(Version::parse(&v.to_string()).ok(), Some(v));
    }
    if let Ok(r) = lenient::range(s) {
        assert_eq!(
            Range::parse(&r.to_string()).ok().as_ref(),
            Some(&r),
            "`{s}`"
        );
        assert!(r.lower() < r.upper());
    }
    if let Some(r) = exact_serde(s, Range::parse) {
        assert!(r.lower() < r.upper());
        assert!(r.contains(r.lower()) && !r.contains(r.upper()));
    }
    if let Some(n) = exact_serde(s, PackageName::parse) {
        assert!(entry_path(&n).ends_with(&format!("/{s}")));
    }
    exact(s, |s| s.parse::<PackageVersion>());
    exact_serde(s, Sha256::parse);
    exact_serde(s, Timestamp::parse);
    exact_serde(s, Date::parse);
    if let Some(l) = exact_serde(s, License::parse) {
        // canonical or not, the check must answer, not panic
        let _ = l.check_canonical();
    }
    if let Ok(o) = Owner::from_openssh(s) {
        assert_canonical(&o, Owner::to_openssh, Owner::from_openssh);
        assert_json_roundtrip(&o, |t| serde_json::from_str::<Owner>(t));
    }
    if let Ok(o) = serde_json::from_str::<Owner>(s) {
        assert_json_roundtrip(&o, |t| serde_json::from_str::<Owner>(t));
    }
    if let Ok(l) = serde_json::from_str::<Location>(s) {
        check_location(&l);
    }
    if let Ok(l) = Location::git(s, None) {
        check_location(&l);
    }
    if let Some((owner, repo)) = s.split_once('/')
        && let Ok(l) = Location::github(owner, repo, None)
    {
        check_location(&l);
    }
    let redacted = redact_url(s);
    if let Ok(url) = url::Url::parse(&redacted) {
        assert!(
            url.username().is_empty() && url.password().is_none(),
            "`{redacted}` still has credentials"
        );
    }
}

/// `parse(s)`, and when it succeeds: its display is `s` and it parses back as itself.
fn exact<T, E>(s: &str, parse: impl Fn(&str) -> Result<T, E>) -> Option<T>
where
    T: Display + PartialEq + std::fmt::Debug,
    E: Display,
{
    match parse(s) {
        Ok(value) => {
            assert_eq!(value.to_string(), s, "the display differs from the text");
            assert!(parse(&value.to_string()).is_ok_and(|back| back == value));
            Some(value)
        }
        Err(e) => {
            assert_error_bounded(s, &e);
            None
        }
    }
}

/// [`exact`] for a string type that serde reads and writes as that string: the JSON
/// string `s` reads exactly when `parse` accepts `s`, as the same value, and writes back
/// as itself.
fn exact_serde<T, E>(s: &str, parse: impl Fn(&str) -> Result<T, E>) -> Option<T>
where
    T: Display + PartialEq + std::fmt::Debug + serde::Serialize + serde::de::DeserializeOwned,
    E: Display,
{
    let json = serde_json::Value::String(s.to_owned());
    let read = serde_json::from_value::<T>(json.clone()).ok();
    let value = exact(s, parse);
    assert_eq!(read, value, "serde and the parser disagree");
    if let Some(v) = &value {
        assert_eq!(serde_json::to_value(v).unwrap(), json);
    }
    value
}

fn check_location(l: &Location) {
    assert_json_roundtrip(l, |t| serde_json::from_str::<Location>(t));
    assert!(l.same_place(l));
}

// -- tarballs ----------------------------------------------------------------------------

/// `tarball::unpack` of the bytes into a fresh directory, with small limits: nothing
/// appears beside the directory; below it are only directories, files and symlinks whose
/// targets stay inside the top directory; an `Ok` lists paths that exist, inside one top
/// directory, within the limits.
pub fn tarball_unpack(data: &[u8]) {
    let limits = Limits {
        max_unpacked_bytes: 64 * 1024,
        max_files: 32,
        ..Limits::default()
    };
    let root = tempfile::tempdir().expect("a temporary directory");
    let dest = root.path().join("dest");
    let result = unpack(data, &dest, &limits);
    let beside: Vec<_> = std::fs::read_dir(root.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(beside, ["dest"], "unpack wrote beside its directory");
    let mut files = 0;
    let mut bytes = 0;
    let mut tops = std::collections::BTreeSet::new();
    for entry in walkdir::WalkDir::new(&dest).min_depth(1) {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(&dest).unwrap();
        let top = rel.components().next().unwrap().as_os_str().to_owned();
        tops.insert(top.clone());
        let kind = entry.file_type();
        if kind.is_symlink() {
            files += 1;
            let target = std::fs::read_link(entry.path()).unwrap();
            let resolved = normalize(&entry.path().parent().unwrap().join(&target));
            assert!(
                resolved.is_some_and(|r| r.starts_with(dest.join(&top))),
                "symlink {} → {} leaves the package",
                rel.display(),
                target.display()
            );
        } else if kind.is_file() {
            files += 1;
            bytes += entry.metadata().unwrap().len();
        } else {
            assert!(
                kind.is_dir(),
                "{} is not a file, directory or symlink",
                rel.display()
            );
        }
    }
    assert!(tops.len() <= 1, "more than one top directory: {tops:?}");
    assert!(files <= limits.max_files, "{files} files unpacked");
    assert!(bytes <= limits.max_unpacked_bytes, "{bytes} bytes unpacked");
    match result {
        Ok(paths) => {
            assert_eq!(tops.len(), 1);
            for path in &paths {
                let full = dest.join(path);
                assert!(
                    full.symlink_metadata().is_ok(),
                    "`{path}` was listed, not written"
                );
            }
        }
        Err(e) => assert_error_bounded(&String::from_utf8_lossy(data), &e),
    }
}

/// `path` with `.` and `..` resolved lexically; `None` if it climbs above the root.
fn normalize(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::CurDir => {}
            c => out.push(c),
        }
    }
    Some(out)
}

// -- configuration -----------------------------------------------------------------------

/// `regis.dhall` text through `RawConfig` to a checked `Config`, evaluated with imports
/// disabled (the real loader resolves the registry's own imports, which a fuzzer must not
/// reach: `env:` variables, `/dev/zero`): a config that loads writes (`to_dhall`) a file
/// that loads back as itself.
pub fn config_dhall(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Some(config) = load_config(text) else {
        return;
    };
    let written = config.to_dhall();
    let back = load_config(&written).unwrap_or_else(|| panic!("`{written}` does not load"));
    assert_eq!(back, config, "`{written}` loads as another config");
}

fn load_config(text: &str) -> Option<Config> {
    let json = dhall::untrusted_str_to_json(text, "regis.dhall", Schema::Config).ok()?;
    let raw: RawConfig = serde_json::from_value(json).ok()?;
    Config::try_from(raw).ok()
}
