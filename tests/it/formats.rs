//! Round-trip of every data file in `../shared/fixtures/purescript/`: read with regis's
//! types, write back, compare bytes. Reads the shared PureScript fixtures; skips without them.

use std::fs;
use std::path::Path;

use regis::index::{IndexFile, entry_path};
use regis::manifest::Manifest;
use regis::metadata::Metadata;
use regis::package_set::PackageSet;
use regis::payload::{Authenticated, Operation};
use regis::schema::PackageName;
use regis::testing;

/// Files of the fixtures that are not in canonical form on purpose (hand-written test data
/// of registry-dev), with how they differ. Everything else must round-trip byte for byte.
const KNOWN_NON_CANONICAL: &[(&str, &str)] = &[
    (
        "mini-index/pr/el/prelude",
        "hand-written: `description` after `ref`",
    ),
    (
        "mini-index/ef/fe/effect",
        "hand-written: `description` after `ref`",
    ),
    (
        "mini-index/ty/pe/type-equality",
        "hand-written: no trailing newline",
    ),
    ("manifests/mysql-4.1.1.json", "no trailing newline"),
];

fn roundtrip(root: &Path, rel: &Path) -> Option<(String, String)> {
    let rel_s = rel.to_string_lossy().into_owned();
    let parts: Vec<&str> = rel_s.split('/').collect();
    // `sources/` holds package source trees (and a real tarball), not registry data.
    if parts[0] == "sources" {
        return None;
    }
    let text = fs::read_to_string(root.join(rel)).unwrap();
    let written = if parts.contains(&"metadata") && rel_s.ends_with(".json") {
        Metadata::from_json(&rel_s, &text).unwrap().to_json()
    } else if parts.contains(&"package-sets") || rel_s.starts_with("package-set-samples/8") {
        PackageSet::from_json(&rel_s, &text).unwrap().to_json()
    } else if parts.contains(&"index") || parts[0] == "mini-index" {
        let name: PackageName = parts.last().unwrap().parse().unwrap();
        let index_root = parts
            .iter()
            .position(|p| *p == "index" || *p == "mini-index")
            .unwrap();
        assert_eq!(
            parts[index_root + 1..].join("/"),
            entry_path(&name),
            "{rel_s} is not at its index path"
        );
        IndexFile::parse(&rel_s, &name, &text).unwrap().to_text()
    } else if parts[0] == "manifests" {
        Manifest::from_json(&rel_s, &text).unwrap().to_pretty_json()
    } else {
        return None;
    };
    Some((text, written))
}

#[test]
fn every_fixture_file_roundtrips_byte_for_byte() {
    let Some(root) = testing::purescript_fixtures() else {
        return;
    };
    let mut checked = 0;
    for rel in testing::files_below(&root) {
        let Some((original, written)) = roundtrip(&root, &rel) else {
            continue;
        };
        checked += 1;
        let rel_s = rel.to_string_lossy();
        match KNOWN_NON_CANONICAL.iter().find(|(p, _)| *p == rel_s) {
            Some(_) => {
                assert_ne!(
                    original, written,
                    "{rel_s} is listed as non-canonical but round-trips"
                );
                // The canonical form must itself be a fixed point.
                let again = roundtrip_text(&rel_s, &written);
                assert_eq!(again, written, "canonical form of {rel_s} is not stable");
            }
            None => assert_eq!(original, written, "{rel_s} does not round-trip"),
        }
    }
    assert!(checked > 1400, "only {checked} files were checked");
}

fn roundtrip_text(rel: &str, text: &str) -> String {
    if rel.starts_with("manifests/") {
        Manifest::from_json(rel, text).unwrap().to_pretty_json()
    } else {
        let name: PackageName = rel.rsplit('/').next().unwrap().parse().unwrap();
        IndexFile::parse(rel, &name, text).unwrap().to_text()
    }
}

#[test]
fn events_carry_payloads_regis_reads() {
    let Some(root) = testing::purescript_fixtures() else {
        return;
    };
    for (file, field) in [
        ("addition_issue_created.json", "/issue/body"),
        ("update_issue_comment.json", "/comment/body"),
        ("package-set-update_issue_created.json", "/issue/body"),
    ] {
        let event: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(root.join("events").join(file)).unwrap())
                .unwrap();
        let body = event.pointer(field).unwrap().as_str().unwrap();
        Operation::from_issue_body(body).unwrap_or_else(|e| panic!("{file}: {e}"));
    }
}

#[test]
fn signature_vector_payload_is_a_transfer() {
    let Some(root) = testing::purescript_fixtures() else {
        return;
    };
    let v: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(root.join("vectors/ssh-signature.json")).unwrap())
            .unwrap();
    let a = Authenticated {
        payload: v["ed25519"]["payload"].as_str().unwrap().to_owned(),
        signature: v["ed25519"]["signature_hex"].as_str().unwrap().to_owned(),
    };
    assert!(matches!(
        a.data().unwrap(),
        regis::payload::AuthenticatedData::Transfer(_)
    ));
}

#[test]
fn package_set_update_sample_parses() {
    let Some(root) = testing::purescript_fixtures() else {
        return;
    };
    let text =
        fs::read_to_string(root.join("package-set-samples/update-80.7.0-to-80.8.0.json")).unwrap();
    assert!(matches!(
        Operation::parse(&text).unwrap(),
        Operation::PackageSetUpdate(_)
    ));
}
