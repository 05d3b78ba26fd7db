//! The location lookup (`locations/` in the registry repo): which package lives at each
//! place, read by a publish of a new package and a transfer instead of every metadata file,
//! written in the same commit as the metadata, and audited by `regis check`.

use regis::check::{self, FindingKind};
use regis::schema::PackageName;
use regis::store::{IndexDir, LOCATIONS_DIR, RegistryDir};
use regis::testing::TestRegistry;

fn audit(t: &TestRegistry) -> check::Report {
    let registry = RegistryDir::new(t.registry.workdir());
    let index = IndexDir::new(t.index.workdir());
    check::run(&registry, &index, None, None).unwrap()
}

fn name(n: &str) -> PackageName {
    n.parse().unwrap()
}

#[test]
fn a_new_package_is_recorded_at_its_place_in_the_same_commit() {
    let t = TestRegistry::new();
    let registry = RegistryDir::new(t.registry.workdir());
    assert!(registry.has_location_lookup(), "regis init makes it");
    let p = t.package("prelude", "1.0.0", &[]);
    t.release(&p);
    assert_eq!(
        registry.location_holder(&p.manifest.location).unwrap(),
        Some(name("prelude"))
    );
    // The GitHub spelling of the same place, in other letter case, is held too.
    let same = regis::schema::Location::github("TEST", "Prelude", None).unwrap();
    assert_eq!(
        registry.location_holder(&same).unwrap(),
        Some(name("prelude"))
    );
    let files = regis::testing::remote_file(
        &t.layout.registry_remote,
        &RegistryDir::location_rel(&p.manifest.location)
            .display()
            .to_string(),
    );
    assert_eq!(files.as_deref(), Some("prelude\n"), "committed and pushed");
    // Another package at that place is refused from the lookup.
    let mut other = t.package("other", "1.0.0", &[]);
    other.manifest.location = p.manifest.location.clone();
    t.push_source(&other);
    let e = t.refused(&other.payload(true));
    assert!(e.contains("already belongs to package `prelude`"), "{e}");
    assert!(audit(&t).is_clean());
}

#[test]
fn a_registry_without_the_lookup_gains_it_whole_with_its_next_new_package() {
    let t = TestRegistry::new();
    for n in ["prelude", "effect"] {
        t.release(&t.package(n, "1.0.0", &[]));
    }
    // A registry from before the lookup (or imported from the PureScript Registry).
    t.registry
        .commit_change(
            "drop the lookup",
            1,
            |dir| -> Result<_, regis::git::GitError> {
                std::fs::remove_dir_all(dir.join(LOCATIONS_DIR)).unwrap();
                Ok(vec![dir.join(LOCATIONS_DIR)])
            },
        )
        .unwrap();
    let registry = RegistryDir::new(t.registry.workdir());
    assert!(!registry.has_location_lookup());
    assert!(audit(&t).is_clean(), "no lookup: nothing to audit");
    // Without it, the holder is found by reading every metadata file.
    let prelude = t.package("prelude", "1.0.0", &[]);
    assert_eq!(
        registry
            .location_holder(&prelude.manifest.location)
            .unwrap(),
        Some(name("prelude"))
    );
    t.release(&t.package("console", "1.0.0", &[]));
    assert!(registry.has_location_lookup());
    for n in ["prelude", "effect", "console"] {
        let p = t.package(n, "1.0.0", &[]);
        assert_eq!(
            registry.location_holder(&p.manifest.location).unwrap(),
            Some(name(n))
        );
    }
    assert!(audit(&t).is_clean());
}

#[test]
fn check_reports_entries_that_disagree_with_metadata() {
    let t = TestRegistry::new();
    for n in ["prelude", "effect", "console"] {
        t.release(&t.package(n, "1.0.0", &[]));
    }
    let location = |n: &str| t.package(n, "1.0.0", &[]).manifest.location;
    let rel = |n: &str| RegistryDir::location_rel(&location(n));
    let root = t.registry.workdir();
    // prelude's entry names another package, effect's is gone, and one names a place no
    // package has.
    std::fs::write(root.join(rel("prelude")), "effect\n").unwrap();
    std::fs::remove_file(root.join(rel("effect"))).unwrap();
    let stray = RegistryDir::new(root)
        .write_location(&location("gone"), &name("gone"))
        .unwrap();
    let report = audit(&t);
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.kind == FindingKind::LocationLookup)
    );
    let text: Vec<String> = report
        .findings
        .iter()
        .map(|f| {
            f.to_string()
                .replace(&rel("prelude").display().to_string(), "<prelude's entry>")
                .replace(&rel("effect").display().to_string(), "<effect's entry>")
                .replace(&stray.display().to_string(), "<a stray entry>")
        })
        .collect();
    insta::assert_snapshot!(text.join("\n"), @r"
        <effect's entry>: `effect`: missing: `effect` lives at `github:test/effect`, expected this entry to name it
        <prelude's entry>: `prelude`: names `effect`, but `prelude` lives at `github:test/prelude`
        <a stray entry>: names `gone`, but no package lives at the place it stands for: expected it removed
    ");
}
