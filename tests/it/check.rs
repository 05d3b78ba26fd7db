//! `regis check` over real and damaged registries. Reads the shared PureScript fixtures;
//! the tests that need them skip when they are absent.

use std::path::Path;

use regis::check::{self, FindingKind};
use regis::storage::{FsStorage, Storage, StorageKey};
use regis::store::{IndexDir, RegistryDir};
use regis::testing;

fn audit(registry: &Path, index: &Path) -> check::Report {
    check::run(
        &RegistryDir::new(registry),
        &IndexDir::new(index),
        None,
        None,
    )
    .unwrap()
}

#[test]
fn the_real_sample_is_clean() {
    let Some(root) = testing::purescript_fixtures() else {
        return;
    };
    let sample = root.join("real-sample");
    let report = audit(&sample, &sample.join("index"));
    assert!(
        report.is_clean(),
        "{:#?}",
        &report.findings[..report.findings.len().min(10)]
    );
    assert_eq!(
        (report.packages, report.versions, report.index_files),
        (81, 597, 81)
    );
}

#[test]
fn package_set_samples_report_what_is_really_inconsistent() {
    let Some(root) = testing::purescript_fixtures() else {
        return;
    };
    let s = root.join("package-set-samples");
    let report = audit(&s.join("registry"), &s.join("index"));
    // The real inconsistencies of that snapshot of the PureScript Registry: a version with
    // no index line, and one repository under two names (the legacy import kept both
    // `react-basic-dnd` and `react-dnd-basic`, each with its own tarballs), which regis's
    // rule, a location holds one package, does not allow.
    let lines: Vec<String> = report.findings.iter().map(|f| f.to_string()).collect();
    assert_eq!(
        lines,
        [
            "metadata/harmonia.json: `harmonia@0.1.0`: published in metadata but has no line in `ha/rm/harmonia`",
            "metadata/react-basic-dnd.json: `react-basic-dnd`: claims location `github:purescript-react/purescript-react-dnd-basic`, which `react-dnd-basic` also claims: a location holds one package",
            "metadata/react-dnd-basic.json: `react-dnd-basic`: claims location `github:purescript-react/purescript-react-dnd-basic`, which `react-basic-dnd` also claims: a location holds one package",
        ]
    );
    assert_eq!((report.package_sets, report.packages), (1, 673));
}

/// A copy of the real sample in a tempdir, to damage.
fn sample_copy() -> Option<(tempfile::TempDir, std::path::PathBuf, std::path::PathBuf)> {
    let root = testing::purescript_fixtures()?;
    let tmp = tempfile::tempdir().unwrap();
    testing::copy_dir(&root.join("real-sample"), tmp.path());
    let (reg, idx) = (tmp.path().to_path_buf(), tmp.path().join("index"));
    Some((tmp, reg, idx))
}

fn kinds(report: &check::Report) -> Vec<(FindingKind, String)> {
    report
        .findings
        .iter()
        .map(|f| {
            (
                f.kind,
                format!(
                    "{}@{}",
                    f.package.as_ref().map_or("-", |p| p.as_str()),
                    f.version.as_ref().map_or("-".into(), |v| v.to_string())
                ),
            )
        })
        .collect()
}

#[test]
fn a_removed_index_line_is_reported_exactly() {
    let Some((_tmp, reg, idx)) = sample_copy() else {
        return;
    };
    let file = idx.join("3/a/aff");
    let text = std::fs::read_to_string(&file).unwrap();
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| !l.contains("\"version\":\"7.1.0\""))
        .collect();
    assert_eq!(
        kept.len() + 1,
        text.lines().count(),
        "the sample has aff@7.1.0"
    );
    std::fs::write(
        &file,
        kept.iter().map(|l| format!("{l}\n")).collect::<String>(),
    )
    .unwrap();
    let report = audit(&reg, &idx);
    assert_eq!(
        kinds(&report),
        [(FindingKind::MissingFromIndex, "aff@7.1.0".to_string())]
    );
    let f = &report.findings[0];
    assert_eq!(f.file, "metadata/aff.json");
    assert_eq!(
        f.to_string(),
        "metadata/aff.json: `aff@7.1.0`: published in metadata but has no line in `3/a/aff`"
    );
}

#[test]
fn damage_of_every_kind_is_reported() {
    let Some((_tmp, reg, idx)) = sample_copy() else {
        return;
    };
    // A corrupt line makes the file unreadable (and its versions missing from the index).
    let prelude = idx.join("pr/el/prelude");
    let text = std::fs::read_to_string(&prelude).unwrap();
    std::fs::write(&prelude, format!("{text}{{not json\n")).unwrap();
    // A non-canonical metadata file (same data, other formatting).
    let aff = reg.join("metadata/aff.json");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&aff).unwrap()).unwrap();
    std::fs::write(&aff, serde_json::to_string(&v).unwrap()).unwrap();
    // An index line that is not published.
    let either = idx.join("ei/th/either");
    let mut text = std::fs::read_to_string(&either).unwrap();
    let last = text.lines().last().unwrap().to_owned();
    let extra = last.replace(
        &last[last.find("\"version\":\"").unwrap()..last.find("\",\"license").unwrap()],
        "\"version\":\"99.0.0",
    );
    text.push_str(&extra);
    text.push('\n');
    std::fs::write(&either, text).unwrap();
    // A metadata file that is not UTF-8, and a version both published and unpublished.
    std::fs::write(reg.join("metadata/arrays.json"), b"{\xff}").unwrap();
    let ef = reg.join("metadata/effect.json");
    let text = std::fs::read_to_string(&ef).unwrap();
    std::fs::write(&ef, text.replace("\"unpublished\": {}", "\"unpublished\": {\n    \"4.0.0\": {\n      \"publishedTime\": \"2022-04-27T18:00:18.000Z\",\n      \"reason\": \"x\",\n      \"unpublishedTime\": \"2022-04-28T18:00:18.000Z\"\n    }\n  }")).unwrap();
    // A misplaced index file.
    std::fs::create_dir_all(idx.join("zz")).unwrap();
    std::fs::write(idx.join("zz/aff"), "").unwrap();
    // A package set naming an unknown version and missing a dependency.
    std::fs::create_dir_all(reg.join("package-sets")).unwrap();
    std::fs::write(reg.join("package-sets/1.0.0.json"), "{\n  \"version\": \"1.0.0\",\n  \"compiler\": \"0.15.15\",\n  \"published\": \"2026-01-01\",\n  \"packages\": {\n    \"aff\": \"7.1.0\",\n    \"zzz\": \"1.0.0\"\n  }\n}\n").unwrap();

    let report = audit(&reg, &idx);
    let k = kinds(&report);
    let has = |kind: FindingKind, what: &str| k.iter().any(|(k2, w)| *k2 == kind && w == what);
    assert!(has(FindingKind::Unreadable, "prelude@-"), "{k:?}");
    // An unreadable file is reported once, not again as each of its consequences.
    assert!(
        !k.iter()
            .any(|(kind, w)| *kind == FindingKind::MissingFromIndex && w.starts_with("prelude@")),
        "{k:?}"
    );
    assert!(has(FindingKind::NonCanonical, "aff@-"), "{k:?}");
    assert!(has(FindingKind::Unreadable, "arrays@-"), "{k:?}");
    assert!(
        has(FindingKind::PublishedAndUnpublished, "effect@4.0.0"),
        "{k:?}"
    );
    assert!(
        !k.iter()
            .any(|(kind, w)| *kind == FindingKind::NotPublished && w.starts_with("arrays@")),
        "{k:?}"
    );
    assert!(has(FindingKind::NotPublished, "either@99.0.0"), "{k:?}");
    assert!(has(FindingKind::Misplaced, "-@-"), "{k:?}");
    assert!(
        has(FindingKind::SetMemberNotPublished, "zzz@1.0.0"),
        "{k:?}"
    );
    assert!(has(FindingKind::SetMissingDependency, "aff@7.1.0"), "{k:?}");
    // prelude's index file is unreadable: reported once, not as each dependant's range.
    assert!(
        !k.iter()
            .any(|(kind, _)| *kind == FindingKind::UnsatisfiableDependency),
        "{k:?}"
    );
    // Range mismatches inside a set are not findings: only missing names are.
    assert!(
        !k.iter()
            .any(|(kind, w)| *kind == FindingKind::SetMissingDependency && w == "zzz@1.0.0")
    );
}

#[test]
fn storage_is_checked_for_presence_size_and_hash() {
    let tmp = tempfile::tempdir().unwrap();
    let (reg, idx, store) = (
        tmp.path().join("r"),
        tmp.path().join("i"),
        tmp.path().join("s"),
    );
    std::fs::create_dir_all(reg.join("metadata")).unwrap();
    std::fs::create_dir_all(idx.join("2")).unwrap();
    let tarball = b"not really a tarball";
    let hash = regis::schema::Sha256::of(tarball);
    let meta = |v: &str| {
        format!(
            "    \"{v}\": {{\n      \"bytes\": {},\n      \"compilers\": [\n        \"0.15.15\"\n      ],\n      \"hash\": \"{hash}\",\n      \"publishedTime\": \"2026-01-01T00:00:00.000Z\",\n      \"ref\": \"v{v}\"\n    }}",
            tarball.len()
        )
    };
    std::fs::write(reg.join("metadata/ab.json"), format!("{{\n  \"location\": {{\n    \"githubOwner\": \"o\",\n    \"githubRepo\": \"ab\"\n  }},\n  \"published\": {{\n{},\n{},\n{}\n  }},\n  \"unpublished\": {{}}\n}}\n", meta("1.0.0"), meta("1.0.1"), meta("1.0.2"))).unwrap();
    let line = |v: &str| {
        format!(
            "{{\"name\":\"ab\",\"version\":\"{v}\",\"license\":\"MIT\",\"location\":{{\"githubOwner\":\"o\",\"githubRepo\":\"ab\"}},\"ref\":\"v{v}\",\"dependencies\":{{}}}}\n"
        )
    };
    std::fs::write(
        idx.join("2/ab"),
        format!("{}{}{}", line("1.0.0"), line("1.0.1"), line("1.0.2")),
    )
    .unwrap();
    let storage = FsStorage::new(&store);
    let key = |v: &str| StorageKey::tarball(&"ab".parse().unwrap(), &v.parse().unwrap());
    storage.put(&key("1.0.0"), tarball).unwrap();
    storage.put(&key("1.0.1"), b"tampered").unwrap();

    let report = check::run(
        &RegistryDir::new(&reg),
        &IndexDir::new(&idx),
        Some(regis::storage::Stores::single(&storage)),
        None,
    )
    .unwrap();
    assert_eq!(report.tarballs_checked, 3);
    assert_eq!(
        kinds(&report),
        [
            (FindingKind::TarballMismatch, "ab@1.0.1".to_string()),
            (FindingKind::MissingTarball, "ab@1.0.2".to_string())
        ]
    );
}

#[test]
fn a_missing_directory_means_the_audit_could_not_run() {
    let tmp = tempfile::tempdir().unwrap();
    let e = check::run(
        &RegistryDir::new(tmp.path()),
        &IndexDir::new(tmp.path().join("nope")),
        None,
        None,
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .ends_with("is not a directory: expected the index checkout"),
        "{e}"
    );
}
