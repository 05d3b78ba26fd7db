//! The sandbox untrusted configuration is evaluated in (`regis::sandbox`), with the real
//! `regis` binary as the child: each bomb of issue 11 (a fold past the stack, text doubled
//! past the memory limit, nested folds past the CPU limit, a YAML alias bomb, an answer
//! past the output limit) ends in a refusal naming the limit; a package's Dhall imports
//! are checked before anything is read; and a child that hangs, crashes or is not regis is
//! told apart from a refusal.

use std::path::{Path, PathBuf};
use std::time::Instant;

use regis::dhall::{DhallError, Schema};
use regis::sandbox::{self, LIMITS, SandboxError};
use serde_json::json;

/// The files of a package in a fresh directory.
fn package(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let to = dir.path().join(path);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::write(to, text).unwrap();
    }
    dir
}

/// `spago.dhall` of `text` (with `others` beside it) evaluated in the sandbox.
fn spago_dhall(
    text: &str,
    others: &[(&str, &str)],
    cache: Option<&Path>,
) -> Result<serde_json::Value, SandboxError> {
    let mut files = vec![("spago.dhall", text)];
    files.extend_from_slice(others);
    let dir = package(&files);
    sandbox::package_dhall(dir.path(), "spago.dhall", cache)
}

/// The text of an error, for snapshots.
fn refusal(result: Result<serde_json::Value, SandboxError>) -> String {
    regis::error_chain(&result.expect_err("refused"))
}

/// `let b = a ++ a let c = b ++ b …` up to `last`: the text `a` doubled once per letter.
fn doublings(last: u8) -> String {
    (b'b'..=last)
        .map(|c| {
            let (name, previous) = (c as char, (c - 1) as char);
            format!("let {name} = {previous} ++ {previous} ")
        })
        .collect()
}

/// The cache of `tests/dhall/cache/` (its README says what is in it).
fn test_cache() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dhall/cache")
}

const SLUG_UPSTREAM: &str = "https://github.com/purescript/package-sets/releases/download/psc-0.14.0-20210304/packages.dhall sha256:c88151fe7c05f05290224c9c1ae4a22905060424fb01071b691d3fe2e5bad4ca";

#[test]
fn a_fold_recursing_past_the_stack_is_refused() {
    // 100 bytes that overflowed the main thread's stack (and aborted regis) before.
    let bomb =
        r"{ license = Natural/show (Natural/fold 1000000 Natural (\(x : Natural) -> x + 1) 0) }";
    let e = spago_dhall(bomb, &[], None).unwrap_err();
    assert!(matches!(e, SandboxError::Stack { .. }), "{e:?}");
    insta::assert_snapshot!(e.to_string(), @"evaluating `spago.dhall` recursed deeper than a 64 MiB stack allows and was stopped: expected a file without deep recursion (such as a `Natural/fold` over thousands of steps)");
}

#[test]
fn text_doubled_past_the_memory_limit_is_refused() {
    let lets = doublings(b'z');
    let bomb = format!("let a = \"aaaaaaaaaaaaaaaa\" {lets}in {{ license = z ++ z ++ z }}");
    assert!(bomb.len() < 500, "a small file: {}", bomb.len());
    let e = spago_dhall(&bomb, &[], None).unwrap_err();
    assert!(matches!(e, SandboxError::Memory { .. }), "{e:?}");
    insta::assert_snapshot!(e.to_string(), @"evaluating `spago.dhall` needed more than 1024 MiB of memory and was stopped: expected a file that evaluates in a few MiB");
}

#[test]
fn nested_folds_past_the_cpu_limit_are_refused() {
    let bomb = r"{ license = Natural/show (Natural/fold 1000 Natural (\(x : Natural) -> Natural/fold 1000 Natural (\(y : Natural) -> Natural/fold 1000 Natural (\(z : Natural) -> z + 1) y) x) 0) }";
    let started = Instant::now();
    let e = spago_dhall(bomb, &[], None).unwrap_err();
    assert!(matches!(e, SandboxError::CpuTime { .. }), "{e:?}");
    // Stopped by the CPU limit, not run to the end (minutes) nor to the wall-clock limit.
    assert!(
        started.elapsed().as_secs() < LIMITS.wall_seconds,
        "{:?}",
        started.elapsed()
    );
    insta::assert_snapshot!(e.to_string(), @"evaluating `spago.dhall` used more than 5 s of CPU time and was stopped: expected a file that evaluates in well under a second");
}

#[test]
fn a_purs_dhall_bomb_is_refused_like_a_spago_dhall_one() {
    // Typed by the manifest schema, imports disabled: the bomb is in a field's value.
    let bomb = r#"{ name = "a", version = "1.0.0", license = Natural/show (Natural/fold 1000000 Natural (\(x : Natural) -> x + 1) 0), location = < GitHub : { githubOwner : Text, githubRepo : Text, subdir : Optional Text } | Git : { gitUrl : Text, subdir : Optional Text } >.GitHub { githubOwner = "o", githubRepo = "r", subdir = None Text }, ref = "v1.0.0", dependencies = [] : List { mapKey : Text, mapValue : Text }, description = None Text, owners = None (List { id : Optional Text, keytype : Text, public : Text }), includeFiles = None (List Text), excludeFiles = None (List Text) }"#;
    let e = sandbox::typed_dhall(bomb, "purs.dhall", Schema::Manifest).unwrap_err();
    assert!(matches!(e, SandboxError::Stack { .. }), "{e:?}");
}

#[test]
fn a_yaml_alias_bomb_is_refused_by_the_readers_budget() {
    let mut bomb = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for (name, prev) in ["b", "c", "d", "e", "f", "g", "h", "i"]
        .iter()
        .zip(["a", "b", "c", "d", "e", "f", "g", "h"])
    {
        bomb.push_str(&format!("{name}: &{name} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"));
    }
    let message = sandbox::yaml(&bomb).unwrap().unwrap_err();
    insta::assert_snapshot!(message, @"line 6 column 8: alias replay limit exceeded: total_replayed_events=100001 > 100000");
}

#[test]
fn an_answer_past_the_output_limit_is_refused() {
    // 16 × 2^20 bytes of text: within the memory limit, past the output limit.
    let lets = doublings(b'u');
    let big = format!("let a = \"aaaaaaaaaaaaaaaa\" {lets}in {{ license = u }}");
    let e = spago_dhall(&big, &[], None).unwrap_err();
    assert!(matches!(e, SandboxError::Output { .. }), "{e:?}");
    insta::assert_snapshot!(e.to_string(), @"`spago.dhall` evaluates to more than 8388608 bytes: expected a manifest of a few KiB (or a package set of a few hundred KiB)");
}

#[test]
fn a_package_dhall_may_import_its_own_files() {
    let value = spago_dhall(
        "{ license = \"MIT\", dependencies = [ \"prelude\" ], packages = ./packages.dhall, sources = ./sources.dhall }",
        &[
            (
                "packages.dhall",
                "./sets/local.dhall ⫽ { extra = { version = \"v1.0.0\" } }",
            ),
            (
                "sets/local.dhall",
                "{ prelude = { version = \"v6.0.1\", dependencies = [] : List Text } }",
            ),
            (
                "sources.dhall",
                "[ \"src/**/*.purs\" ] # (./missing-file.dhall ? ([] : List Text))",
            ),
        ],
        None,
    );
    // `./missing-file.dhall ? …` names a file the package does not have: refused before
    // anything is read, like every import the package cannot have.
    insta::assert_snapshot!(refusal(value), @"`sources.dhall` imports `./missing-file.dhall`, which the package does not have: expected a `.dhall` file of the package, by a path relative to the importing file");
    let value = spago_dhall(
        "{ license = \"MIT\", dependencies = [ \"prelude\" ], packages = ./packages.dhall, home = env:HOME as Location, none = missing as Location }",
        &[
            ("packages.dhall", "./sets/local.dhall ⫽ { extra = { version = \"v1.0.0\" } }"),
            ("sets/local.dhall", "{ prelude = { version = \"v6.0.1\", dependencies = [] : List Text } }"),
        ],
        None,
    )
    .unwrap();
    assert_eq!(value["packages"]["prelude"]["version"], json!("v6.0.1"));
    assert_eq!(value["packages"]["extra"]["version"], json!("v1.0.0"));
    assert_eq!(value["dependencies"], json!(["prelude"]));
}

#[test]
fn imports_that_could_read_the_registrys_files_or_environment_are_refused() {
    let cases = [
        "env:GITHUB_TOKEN as Text",
        "/etc/passwd as Text",
        "~/.ssh/id_ed25519 as Text",
        "../outside.dhall",
        "./sub/../../outside.dhall",
        "http://example.com/packages.dhall",
        "https://example.com/packages.dhall",
        "https://example.com/packages.dhall using ./headers.dhall",
        "env:HOME ? ./packages.dhall",
    ];
    let outside = package(&[("outside.dhall", "{ license = \"MIT\" }")]);
    let mut refusals = Vec::new();
    for import in cases {
        let dir = outside.path().join("package");
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("packages.dhall"), "{=}").unwrap();
        std::fs::write(dir.join("spago.dhall"), format!("{{ license = {import} }}")).unwrap();
        let e = sandbox::package_dhall(&dir, "spago.dhall", None).unwrap_err();
        assert!(
            matches!(e, SandboxError::Dhall(DhallError::ImportNotAllowed { .. })),
            "{import}: {e:?}"
        );
        refusals.push(e.to_string());
    }
    insta::assert_snapshot!(refusals.join("\n"), @r"
        `spago.dhall` imports `env:GITHUB_TOKEN as Text`: expected one of the package's own Dhall files (`./packages.dhall`) or an `https://` import pinned by `sha256:` (environment variables, absolute and home paths, plain `http://`, headers and files outside the package are never read)
        `spago.dhall` imports `/etc/passwd as Text`: expected one of the package's own Dhall files (`./packages.dhall`) or an `https://` import pinned by `sha256:` (environment variables, absolute and home paths, plain `http://`, headers and files outside the package are never read)
        `spago.dhall` imports `~/.ssh/id_ed25519 as Text`: expected one of the package's own Dhall files (`./packages.dhall`) or an `https://` import pinned by `sha256:` (environment variables, absolute and home paths, plain `http://`, headers and files outside the package are never read)
        `spago.dhall` imports `../outside.dhall`: expected one of the package's own Dhall files (`./packages.dhall`) or an `https://` import pinned by `sha256:` (environment variables, absolute and home paths, plain `http://`, headers and files outside the package are never read)
        `spago.dhall` imports `./sub/../../outside.dhall`: expected one of the package's own Dhall files (`./packages.dhall`) or an `https://` import pinned by `sha256:` (environment variables, absolute and home paths, plain `http://`, headers and files outside the package are never read)
        `spago.dhall` imports `http://example.com/packages.dhall`: expected one of the package's own Dhall files (`./packages.dhall`) or an `https://` import pinned by `sha256:` (environment variables, absolute and home paths, plain `http://`, headers and files outside the package are never read)
        `spago.dhall` imports `https://example.com/packages.dhall`: expected one of the package's own Dhall files (`./packages.dhall`) or an `https://` import pinned by `sha256:` (environment variables, absolute and home paths, plain `http://`, headers and files outside the package are never read)
        `spago.dhall` imports `https://example.com/packages.dhall using …`: expected one of the package's own Dhall files (`./packages.dhall`) or an `https://` import pinned by `sha256:` (environment variables, absolute and home paths, plain `http://`, headers and files outside the package are never read)
        `spago.dhall` imports `env:HOME`: expected one of the package's own Dhall files (`./packages.dhall`) or an `https://` import pinned by `sha256:` (environment variables, absolute and home paths, plain `http://`, headers and files outside the package are never read)
    ");
}

#[test]
fn a_remote_import_is_read_from_the_cache_or_refused() {
    let spago = format!(
        "{{ license = \"MIT\", dependencies = [ \"prelude\" ], packages = {SLUG_UPSTREAM} }}"
    );
    insta::assert_snapshot!(refusal(spago_dhall(&spago, &[], None)), @"`spago.dhall` imports `https://github.com/purescript/package-sets/releases/download/psc-0.14.0-20210304/packages.dhall sha256:c88151fe7c05f05290224c9c1ae4a22905060424fb01071b691d3fe2e5bad4ca`, which is not in the registry's Dhall cache: regis does not fetch remote Dhall while publishing, so expected an import the registry's trustees have cached (`dhallCache` in regis.dhall)");
    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(
        spago_dhall(&spago, &[], Some(empty.path())),
        Err(SandboxError::Dhall(DhallError::ImportNotCached { .. }))
    ));
    let value = spago_dhall(&spago, &[], Some(&test_cache())).unwrap();
    // The real package set: psc-0.14.0-20210304 holds prelude v5.0.0.
    assert_eq!(value["packages"]["prelude"]["version"], json!("v5.0.0"));
    assert_eq!(value["packages"].as_object().unwrap().len(), 295);
}

#[test]
fn a_cache_entry_that_does_not_match_its_hash_is_not_used() {
    let cache = tempfile::tempdir().unwrap();
    let entry = "1220c88151fe7c05f05290224c9c1ae4a22905060424fb01071b691d3fe2e5bad4ca";
    // Another expression's encoding under the pinned name: the evaluator checks the hash.
    std::fs::copy(test_cache().join(entry), cache.path().join(entry)).unwrap();
    let mut bytes = std::fs::read(cache.path().join(entry)).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(cache.path().join(entry), bytes).unwrap();
    let spago = format!("{{ license = \"MIT\", packages = {SLUG_UPSTREAM} }}");
    let e = spago_dhall(&spago, &[], Some(cache.path())).unwrap_err();
    insta::assert_snapshot!(e.to_string(), @"`spago.dhall` could not be evaluated: the Dhall evaluator failed on it");
}

/// A script as the sandbox's program.
fn script(dir: &Path, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("child.sh");
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn a_child_that_hangs_is_killed_at_the_wall_clock_limit() {
    let dir = tempfile::tempdir().unwrap();
    let program = script(dir.path(), "exec /bin/sleep 600");
    let started = Instant::now();
    let e = sandbox::with_program(&program, || sandbox::yaml("a: 1")).unwrap_err();
    assert!(matches!(e, SandboxError::WallTime { .. }), "{e:?}");
    assert!(started.elapsed().as_secs() < LIMITS.wall_seconds + 10);
    insta::assert_snapshot!(e.to_string(), @"evaluating `spago.yaml` took longer than 15 s and was stopped: expected a file that evaluates in well under a second");
}

#[test]
fn a_child_that_is_not_regis_or_crashes_is_told_apart_from_a_refusal() {
    let dir = tempfile::tempdir().unwrap();
    let program = script(dir.path(), "/bin/cat >/dev/null; echo 'hello'");
    let e = sandbox::with_program(&program, || sandbox::yaml("a: 1")).unwrap_err();
    assert!(matches!(e, SandboxError::Protocol { .. }), "{e:?}");
    let text = e
        .to_string()
        .replace(&program.display().to_string(), "<program>");
    insta::assert_snapshot!(text, @r"`<program>` did not answer as regis 0.1.0 evaluates (its answer began `hello\n`): set REGIS_SANDBOX_PROGRAM to this version's regis binary");
    let program = script(
        dir.path(),
        "/bin/cat >/dev/null; echo 'it broke' >&2; exit 3",
    );
    let e = sandbox::with_program(&program, || sandbox::yaml("a: 1")).unwrap_err();
    assert!(matches!(e, SandboxError::Crashed { .. }), "{e:?}");
    insta::assert_snapshot!(e.to_string(), @"the evaluator of `spago.yaml` ended unexpectedly (exit status 3): `it broke`");
}

#[test]
fn the_child_sees_no_environment() {
    // The parent clears the child's environment (a token in it cannot leak into an
    // answer even past the import checks): a script standing in for the child prints it.
    let dir = tempfile::tempdir().unwrap();
    let program = script(dir.path(), "/bin/cat >/dev/null; /usr/bin/env >&2; exit 3");
    let e = sandbox::with_program(&program, || sandbox::yaml("a: 1")).unwrap_err();
    let SandboxError::Crashed { stderr, .. } = e else {
        panic!("{e:?}")
    };
    // `: ` then the echoed output: one `NAME=value` per (escaped) line.
    let names: Vec<&str> = stderr
        .trim_start_matches(": `")
        .trim_end_matches('`')
        .split("\\n")
        .filter_map(|line| line.split_once('=').map(|(name, _)| name))
        .collect();
    // `PWD` is the shell's own.
    assert_eq!(names, ["XDG_CACHE_HOME", "PWD"], "{stderr}");
}

#[test]
fn a_package_dhall_that_does_not_evaluate_says_why() {
    let e = spago_dhall("{ license = 1 + \"MIT\" }", &[], None).unwrap_err();
    assert!(
        matches!(e, SandboxError::Dhall(DhallError::Evaluation { .. })),
        "{e:?}"
    );
    insta::assert_snapshot!(e.to_string(), @r#"
        `spago.dhall` could not be evaluated: type error: BinOpTypeMismatch
         --> spago.dhall:1:13
          |
        1 | { license = 1 + "MIT" }
          |             ^^^^^^^^^ BinOpTypeMismatch
          |
    "#);
}

#[test]
fn a_program_that_cannot_run_is_a_failure_of_the_machine() {
    let missing = Path::new("/nonexistent/regis");
    let e = sandbox::with_program(missing, || sandbox::yaml("a: 1")).unwrap_err();
    insta::assert_snapshot!(regis::error_chain(&e), @"cannot run `/nonexistent/regis` to evaluate `spago.yaml`: No such file or directory (os error 2)");
}
