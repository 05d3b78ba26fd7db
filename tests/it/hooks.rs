//! Build-check and docs hooks during publish, with small `sh` scripts written by the tests;
//! the build check with each configured compiler (the compiler matrix).

use std::path::Path;

use regis::config::Config;
use regis::operation::publish::PublishReport;
use regis::operation::report;
use regis::schema::{PackageName, Version};
use regis::store::RegistryDir;
use regis::testing::TestRegistry;

/// A registry whose config runs the given build-check and docs scripts, with one compiler
/// (the matrix has tests of its own below).
fn registry_with(build_check: Option<&Path>, docs: Option<&Path>) -> TestRegistry {
    let command = |p: Option<&Path>| p.map(|p| format!("sh '{}'", p.display()));
    TestRegistry::with_config(|c| {
        c.build_check = command(build_check);
        c.docs = command(docs);
        c.compilers = vec![c.default_compiler.clone()];
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

/// A registry building with 0.15.10, 0.15.14, 0.15.15 (the default) and 0.15.16, its
/// build check the script `check` (none when `None`), then as `edit` says.
fn matrix_registry(check: Option<&Path>, edit: impl FnOnce(&mut Config)) -> TestRegistry {
    TestRegistry::with_config(|c| {
        c.build_check = check.map(|p| format!("sh '{}'", p.display()));
        c.compilers = ["0.15.16", "0.15.10", "0.15.15", "0.15.14"]
            .iter()
            .map(|v| v.parse().unwrap())
            .collect();
        edit(c);
    })
}

/// The compilers metadata records for `name@version`.
fn recorded(t: &TestRegistry, name: &str, version: &str) -> Vec<String> {
    let name: PackageName = name.parse().unwrap();
    let version: Version = version.parse().unwrap();
    let metadata = RegistryDir::new(&t.layout.registry)
        .read_metadata(&name)
        .unwrap()
        .unwrap();
    metadata.published[&version]
        .compilers
        .iter()
        .map(Version::to_string)
        .collect()
}

/// The report's lines from `compilers` to the line before `storage`.
fn matrix_lines(r: &PublishReport) -> String {
    report::publish(r)
        .lines()
        .skip_while(|l| !l.starts_with("  compilers"))
        .take_while(|l| !l.starts_with("  storage"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A check that logs each run (`<package> <compiler> <resolutions>`) to `log` and fails
/// with 0.15.14, for `effect` with 0.15.10 too and for `prelude@1.1.0` with all but 0.15.16;
/// it also fails if an earlier run left a file in the package directory.
fn logging_check(dir: &Path, log: &Path) -> std::path::PathBuf {
    script(
        dir,
        "check.sh",
        &format!(
            r#"set -e
test ! -e leftover || exit 9
touch leftover
echo "$REGIS_PACKAGE $REGIS_COMPILER $(tr -d ' \n' < "$REGIS_RESOLUTIONS" | sed 's/,"path":"[^"]*"//g')" >> '{log}'
case "$REGIS_PACKAGE@$REGIS_VERSION $REGIS_COMPILER" in
  *" 0.15.14" | "effect@"*" 0.15.10" | "prelude@1.1.0 0.15.1"[0-5])
    echo "no instance found with $REGIS_COMPILER" >&2; exit 1 ;;
esac
"#,
            log = log.display()
        ),
    )
}

/// The log's lines since the last call, emptying it.
fn take(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap();
    std::fs::remove_file(log).unwrap();
    text
}

#[test]
fn metadata_records_every_compiler_the_build_check_passes_with() {
    let scripts = tempfile::tempdir().unwrap();
    let log = scripts.path().join("log");
    let check = logging_check(scripts.path(), &log);
    let t = matrix_registry(Some(&check), |_| {});

    // No dependencies: the default compiler first, then every other configured one, newest
    // first; the one that fails is left out.
    let r = t.release(&t.package("prelude", "1.0.0", &[]));
    assert_eq!(r.build_plan.compiler.to_string(), "0.15.15");
    assert_eq!(r.compilers, r.matrix.as_ref().unwrap().passed());
    assert_eq!(
        recorded(&t, "prelude", "1.0.0"),
        ["0.15.10", "0.15.15", "0.15.16"]
    );
    assert_eq!(
        take(&log),
        "prelude 0.15.15 {}\n\
         prelude 0.15.16 {}\n\
         prelude 0.15.14 {}\n\
         prelude 0.15.10 {}\n"
    );
    insta::assert_snapshot!(matrix_lines(&r), @"
      compilers 0.15.10, 0.15.15, 0.15.16
      left out  0.15.14: the build check exited with status `1` (expected `0`)
    ");

    // The payload's compiler first; this version builds with it alone.
    let newer = t.package("prelude", "1.1.0", &[]);
    t.push_source(&newer);
    let mut payload = newer.payload(true);
    payload.compiler = Some("0.15.16".parse().unwrap());
    let r = t.publish(&payload).unwrap();
    assert_eq!(r.build_plan.compiler.to_string(), "0.15.16");
    assert_eq!(recorded(&t, "prelude", "1.1.0"), ["0.15.16"]);
    assert_eq!(take(&log).lines().count(), 4);

    // With dependencies: each compiler a build plan can use, with its own plan (older
    // compilers get older versions); one no dependency version records is not tried.
    let r = t.release(&t.package("effect", "1.0.0", &[("prelude", ">=1.0.0 <2.0.0")]));
    assert_eq!(r.build_plan.compiler.to_string(), "0.15.16");
    assert_eq!(recorded(&t, "effect", "1.0.0"), ["0.15.15", "0.15.16"]);
    assert_eq!(
        take(&log),
        "effect 0.15.16 {\"prelude\":{\"version\":\"1.1.0\"}}\n\
         effect 0.15.15 {\"prelude\":{\"version\":\"1.0.0\"}}\n\
         effect 0.15.10 {\"prelude\":{\"version\":\"1.0.0\"}}\n"
    );
    insta::assert_snapshot!(matrix_lines(&r), @"
      compilers 0.15.15, 0.15.16
      left out  0.15.14: no build plan: the dependencies do not build with it
                0.15.10: the build check exited with status `1` (expected `0`)
    ");

    // A re-run changes nothing and reports what metadata recorded.
    let again = t
        .publish(
            &t.package("effect", "1.0.0", &[("prelude", ">=1.0.0 <2.0.0")])
                .payload(true),
        )
        .unwrap();
    assert!(again.changed_nothing());
    assert_eq!(again.compilers, r.compilers);
}

#[test]
fn a_failure_with_the_first_compiler_still_refuses_the_publish() {
    let scripts = tempfile::tempdir().unwrap();
    let log = scripts.path().join("log");
    let check = logging_check(scripts.path(), &log);
    let t = matrix_registry(Some(&check), |c| {
        c.default_compiler = "0.15.14".parse().unwrap()
    });
    let p = t.package("prelude", "1.0.0", &[]);
    t.push_source(&p);
    let e = t.refused(&p.payload(true));
    assert!(e.contains("exited with status `1`"), "{e}");
    // no other compiler was tried
    assert_eq!(take(&log), "prelude 0.15.14 {}\n");
}

#[test]
fn the_other_compilers_share_the_matrix_timeout() {
    let scripts = tempfile::tempdir().unwrap();
    // The first compiler's check is quick; the others' would outlast the budget.
    let check = script(
        scripts.path(),
        "check.sh",
        "[ \"$REGIS_COMPILER\" = 0.15.15 ] || sleep 30\n",
    );
    let t = matrix_registry(Some(&check), |c| c.matrix_timeout_seconds = 1);
    let started = std::time::Instant::now();
    let r = t.release(&t.package("prelude", "1.0.0", &[]));
    assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
    assert_eq!(recorded(&t, "prelude", "1.0.0"), ["0.15.15"]);
    insta::assert_snapshot!(matrix_lines(&r), @"
      compilers 0.15.15
      left out  0.15.16, 0.15.14, 0.15.10: not checked: `matrixTimeoutSeconds` ran out first
    ");

    // 0: the first compiler only, nothing else tried.
    let t = matrix_registry(Some(&check), |c| c.matrix_timeout_seconds = 0);
    let r = t.release(&t.package("prelude", "1.0.0", &[]));
    assert_eq!(recorded(&t, "prelude", "1.0.0"), ["0.15.15"]);
    assert_eq!(r.matrix.unwrap().others, []);
}

#[test]
fn without_a_build_check_the_solver_s_compiler_is_recorded() {
    let t = matrix_registry(None, |_| {});
    let r = t.release(&t.package("prelude", "1.0.0", &[]));
    assert_eq!(recorded(&t, "prelude", "1.0.0"), ["0.15.15"]);
    assert_eq!(r.matrix, None);
    assert!(
        !report::publish(&r).contains("compilers"),
        "{}",
        report::publish(&r)
    );
}
