//! Build-check and docs hooks during publish, with small `sh` scripts written by the tests.

use std::path::Path;

use regis::testing::TestRegistry;

/// A registry whose config runs the given build-check and docs scripts.
fn registry_with(build_check: Option<&Path>, docs: Option<&Path>) -> TestRegistry {
    let command = |p: Option<&Path>| p.map(|p| format!("sh '{}'", p.display()));
    TestRegistry::with_config(|c| {
        c.build_check = command(build_check);
        c.docs = command(docs);
    })
}

fn script(dir: &Path, name: &str, body: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    path
}

#[test]
fn the_build_check_sees_the_package_and_its_resolved_dependencies() {
    let scripts = tempfile::tempdir().unwrap();
    let log = scripts.path().join("log");
    let check = script(
        scripts.path(),
        "check.sh",
        &format!(
            r#"set -e
log='{log}'
echo "hook=$REGIS_HOOK compiler=$REGIS_COMPILER package=$REGIS_PACKAGE@$REGIS_VERSION" >> "$log"
echo "cwd-is-package=$( [ "$(pwd)" = "$REGIS_PACKAGE_DIR" ] && echo yes )" >> "$log"
test -f purs.json && test -d src
ls "$REGIS_DEPENDENCIES" >> "$log"
[ "$REGIS_PACKAGE" = prelude ] || test -f "$REGIS_DEPENDENCIES/prelude-1.0.0/purs.json"
cat "$REGIS_RESOLUTIONS" >> "$log"
"#,
            log = log.display()
        ),
    );
    let t = registry_with(Some(&check), None);
    // prelude has no dependencies: the hook runs with an empty plan.
    t.release(&t.package("prelude", "1.0.0", &[]));
    t.release(&t.package("effect", "1.0.0", &[("prelude", ">=1.0.0 <2.0.0")]));
    let log = std::fs::read_to_string(&log).unwrap();
    let mut lines = log.lines();
    assert_eq!(
        lines.next(),
        Some("hook=build-check compiler=0.15.15 package=prelude@1.0.0")
    );
    assert_eq!(lines.next(), Some("cwd-is-package=yes"));
    assert_eq!(lines.next(), Some("{}"), "an empty plan: {log}");
    assert_eq!(
        lines.next(),
        Some("hook=build-check compiler=0.15.15 package=effect@1.0.0")
    );
    assert_eq!(lines.next(), Some("cwd-is-package=yes"));
    assert_eq!(lines.next(), Some("prelude-1.0.0"));
    let rest: String = lines.collect::<Vec<_>>().join("\n");
    let resolutions: serde_json::Value = serde_json::from_str(&rest).unwrap();
    assert_eq!(resolutions["prelude"]["version"], "1.0.0");
    let path = resolutions["prelude"]["path"].as_str().unwrap();
    assert!(path.ends_with("/dependencies/prelude-1.0.0"), "{path}");
}

#[test]
fn a_failing_build_check_fails_the_publish_with_its_output_and_writes_nothing() {
    let scripts = tempfile::tempdir().unwrap();
    let check = script(
        scripts.path(),
        "check.sh",
        "if [ \"$REGIS_PACKAGE\" = effect ]; then echo 'Compiling Effect'; echo 'Error: could not match type' >&2; exit 3; fi\n",
    );
    let t = registry_with(Some(&check), None);
    t.release(&t.package("prelude", "1.0.0", &[]));
    let effect = t.package("effect", "1.0.0", &[("prelude", ">=1.0.0 <2.0.0")]);
    t.push_source(&effect);
    let heads = t.remote_heads();
    let stored = t.stored();
    let e = t.publish(&effect.payload(true)).unwrap_err().to_string();
    assert_eq!(t.remote_heads(), heads, "nothing is pushed");
    assert_eq!(t.stored(), stored, "nothing is stored");
    insta::assert_snapshot!(e.replace(&check.display().to_string(), "CHECK"), @"
    the build check command `sh 'CHECK'` exited with status `3` (expected `0`); its output:
        Compiling Effect
        Error: could not match type
    ");
}

#[test]
fn a_failing_docs_command_is_reported_but_the_publish_stands() {
    let scripts = tempfile::tempdir().unwrap();
    let docs = script(
        scripts.path(),
        "docs.sh",
        "echo 'docs: out of disk' >&2; exit 1\n",
    );
    let t = registry_with(None, Some(&docs));
    let r = t.release(&t.package("prelude", "1.0.0", &[]));
    let e = r.docs.expect("docs ran").unwrap_err();
    assert!(e.contains("docs: out of disk"), "{e}");
    assert!(
        regis::store::RegistryDir::new(&t.layout.registry)
            .read_metadata(&"prelude".parse().unwrap())
            .unwrap()
            .is_some(),
        "the publish stands"
    );
    assert_eq!(t.stored().len(), 1);

    // A working docs command sees the package too.
    let scripts2 = tempfile::tempdir().unwrap();
    let ok = script(
        scripts2.path(),
        "docs.sh",
        "test \"$REGIS_HOOK\" = docs && test -f purs.json\n",
    );
    let t = registry_with(None, Some(&ok));
    let r = t.release(&t.package("prelude", "1.0.0", &[]));
    assert!(r.docs.expect("docs ran").unwrap().success);
}
