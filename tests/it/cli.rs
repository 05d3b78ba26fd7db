//! The `regis` binary as a user runs it: exit codes, output, and errors on stderr.
//! `check_*` tests read the shared PureScript fixtures and skip without them.

use std::path::Path;
use std::process::{Command, Output};

use regis::testing;

fn regis(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_regis"))
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn check_exit_codes_on_real_data() {
    let Some(root) = testing::purescript_fixtures() else {
        return;
    };
    let sample = root.join("real-sample");
    let out = regis(&[
        "check",
        "--registry",
        sample.to_str().unwrap(),
        "--index",
        sample.join("index").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "checked 81 packages, 597 versions, 81 index files, 0 package sets: no findings\n"
    );

    let s = root.join("package-set-samples");
    let out = regis(&[
        "--json",
        "check",
        "--registry",
        s.join("registry").to_str().unwrap(),
        "--index",
        s.join("index").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["findings"][0]["kind"], "missing-from-index");
    assert_eq!(json["findings"][0]["package"], "harmonia");
    assert_eq!(json["findings"][0]["version"], "0.1.0");
    assert_eq!(json["findings"][0]["file"], "metadata/harmonia.json");
    assert_eq!(json["findings"][1]["kind"], "shared-location");
    assert_eq!(json["findings"][1]["package"], "react-basic-dnd");
    assert_eq!(json["findings"].as_array().unwrap().len(), 3);
}

#[test]
fn check_could_not_run_is_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let out = regis(&[
        "check",
        "--registry",
        tmp.path().to_str().unwrap(),
        "--index",
        "/definitely/not/here",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "error: could not check the registry: `/definitely/not/here` is not a directory: expected the index checkout\n"
    );
    // No index given and no config naming one.
    let out = regis(&["check", "--registry", tmp.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr)
            .contains("no index directory given: pass `--index DIR` or set `index` in"),
        "{}",
        text(&out.stderr)
    );
    // A broken config is an error, never silently the defaults.
    std::fs::write(tmp.path().join("regis.dhall"), "{ name = 1 }").unwrap();
    let out = regis(&[
        "check",
        "--registry",
        tmp.path().to_str().unwrap(),
        "--index",
        tmp.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("regis.dhall"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn init_then_publish_payload_files() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("reg");
    let out = regis(&["init", root.to_str().unwrap(), "--name", "cli-test"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("created registry `cli-test` in "));
    for p in [
        "registry/regis.dhall",
        "registry/README.md",
        "registry/metadata/.gitkeep",
        "index/README.md",
        "remotes/registry.git/HEAD",
        "remotes/index.git/HEAD",
    ] {
        assert!(root.join(p).exists(), "{p} missing");
    }
    let again = regis(&["init", root.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        text(&again.stderr).contains("is not empty: expected a new or empty directory"),
        "{}",
        text(&again.stderr)
    );

    // A package in a local git repo, published by a payload file with a gitUrl location.
    let src = tmp.path().join("src/pkg");
    let url = format!("file://{}", src.display());
    let p = regis::sample::SamplePackage::new(
        "pkg",
        "1.0.0",
        regis::schema::Location::git(&url, None).unwrap(),
        &[],
    );
    p.commit_to(&src).unwrap();
    let payload = tmp.path().join("payload.json");
    std::fs::write(
        &payload,
        format!(
            "Please publish:\n```json\n{}\n```\n",
            serde_json::to_string(&p.payload(true)).unwrap()
        ),
    )
    .unwrap();
    let registry = root.join("registry");
    let out = regis(&[
        "--registry",
        registry.to_str().unwrap(),
        "--json",
        "publish",
        payload.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (
            json["name"].as_str(),
            json["version"].as_str(),
            json["stored"].as_bool()
        ),
        (Some("pkg"), Some("1.0.0"), Some(true))
    );
    // Without a build check, metadata records the plan's compiler alone.
    assert_eq!(json["compilers"], serde_json::json!([json["compiler"]]));
    assert!(root.join("storage/pkg/1.0.0.tar.gz").exists());
    let out = regis(&[
        "--registry",
        registry.to_str().unwrap(),
        "publish",
        payload.to_str().unwrap(),
    ]);
    assert_eq!(
        text(&out.stdout).lines().next(),
        Some("already published pkg@1.0.0")
    );
    let out = regis(&["--registry", registry.to_str().unwrap(), "check"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).ends_with("1 tarballs: no findings\n"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn publish_refuses_other_payloads_and_bad_json() {
    let tmp = tempfile::tempdir().unwrap();
    let file = |name: &str, body: &str| {
        let p = tmp.path().join(name);
        std::fs::write(&p, body).unwrap();
        p
    };
    let transfer = file("t.json", r#"{"payload":"{}","signature":"00"}"#);
    let out = regis(&[
        "--registry",
        tmp.path().to_str().unwrap(),
        "publish",
        transfer.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!(
            "error: `{}` holds a signed (Transfer, Unpublish, Yank, Unyank, Deprecate, Alias or Unalias) payload: `regis publish` expects a Publish `{{name, location?, ref, version, compiler?, resolutions?, ownersSignature?}}`\n",
            transfer.display()
        )
    );
    let bad = file("b.json", r#"{"name":"a","ref":"v1","version":"1.0"}"#);
    let out = regis(&[
        "--registry",
        tmp.path().to_str().unwrap(),
        "publish",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!(
            "error: reading the payload in `{}`: invalid `Publish` payload: invalid version `1.0`: expected three numbers `MAJOR.MINOR.PATCH` separated by `.`\n",
            bad.display()
        )
    );
    let out = regis(&[
        "--registry",
        tmp.path().to_str().unwrap(),
        "publish",
        "/no/such/file.json",
    ]);
    assert!(
        text(&out.stderr).starts_with("error: reading `/no/such/file.json`: "),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn demo_runs_offline_and_ends_clean() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    let out = regis(&["demo", "--dir", dir.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let stdout = text(&out.stdout);
    for expected in [
        "prelude /",
        "(bower.json, tag v1.0.0)",
        "(spago.yaml, tag v1.0.0)",
        "(spago.dhall, tag v1.0.0)",
        "(purs.dhall, tag v1.0.0)",
        "published prelude@1.0.0",
        "published console@1.0.0",
        "published tuples@1.0.0",
        "plan      effect@1.0.0, prelude@1.0.0",
        "published prelude@1.1.0",
        "error: `arrays@1.0.0` cannot be published: dependency `foldable` is not in the registry: publish it first",
        "already published prelude@1.0.0",
        "signed by a stranger: the signature on the transfer of `effect` is not from an owner of the package or a trustee",
        "effect transferred to github:demo/effect\n",
        "error: `effect@1.0.0` is in the latest package set `0.2.0`",
        "checked 4 packages, 5 versions, 5 tarballs: 0 findings",
        "adopted: 5 releases and 2 package sets listed in 16 hash bins, copied to storage",
        "fetched prelude@1.0.0: ",
        "verify: 7 targets, 4 metadata files held to them: 0 problems",
        "an outsider's token: refused: `acme-widgets` is under the prefix `acme-` reserved by organization `acme`",
        "NOTICE Done: published `acme-widgets@1.0.0`.",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
    assert!(
        Path::new(&dir)
            .join("registry-root/storage/console/1.0.0.tar.gz")
            .exists()
    );
    assert!(
        !Path::new(&dir)
            .join("registry-root/storage/arrays")
            .exists()
    );
    // The server's job landed in its own registry, whose tokens only its database knows.
    let served = Path::new(&dir).join("server/registries/demo");
    assert!(served.join("storage/acme-widgets/1.0.0.tar.gz").exists());
    assert!(
        testing::remote_file(
            &served.join("remotes/registry.git"),
            "metadata/acme-widgets.json"
        )
        .is_some()
    );
    let private = std::fs::read_dir(Path::new(&dir).join("server/private")).unwrap();
    let names: Vec<_> = private.map(|e| e.unwrap().file_name()).collect();
    assert!(names.iter().any(|n| n == "regis.sqlite"), "{names:?}");
}

#[test]
fn package_set_update_dry_run_and_daily_on_real_data() {
    let Some(root) = testing::purescript_fixtures() else {
        return;
    };
    let s = root.join("package-set-samples");
    let (registry, index) = (s.join("registry"), s.join("index"));
    let update = s.join("update-80.7.0-to-80.8.0.json");
    let args = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "--registry",
            registry.to_str().unwrap(),
            "--index",
            index.to_str().unwrap(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let run = |a: Vec<String>| regis(&a.iter().map(String::as_str).collect::<Vec<_>>());

    let out = run(args(&[
        "package-set",
        "update",
        update.to_str().unwrap(),
        "--dry-run",
    ]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let (summary, set) = stdout.split_at(stdout.find('{').unwrap());
    insta::assert_snapshot!(summary, @"
    package set 80.7.0 -> 80.8.0 (compiler 0.15.15, 648 packages), dry run: nothing written
      accepted  upgrade `yoga-http-api` from `0.3.3` to `0.3.4`
      accepted  upgrade `yoga-fastify-om` from `0.4.6` to `0.4.7`
      accepted  upgrade `yoga-fetch-om` from `0.7.0` to `0.8.0`
    ");
    let set: serde_json::Value = serde_json::from_str(set).unwrap();
    let real: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(s.join("80.8.0.json")).unwrap()).unwrap();
    assert_eq!(set["packages"], real["packages"]);
    assert_eq!(set["version"], "80.8.0");
    // Not a terminal: progress is plain log lines.
    assert_eq!(
        text(&out.stderr),
        "package set: trying all 3 changes together\n"
    );

    let out = run(args(&["daily", "--dry-run", "--json"]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["update"]["set"]["version"], "81.0.0",
        "node-child-process 12.0.0 is a major"
    );
    assert_eq!(report["update"]["accepted"].as_array().unwrap().len(), 12);
    assert_eq!(report["dryRun"], true);
    assert_eq!(report["update"]["dryRun"], true);

    let out = run(args(&[
        "package-set",
        "update",
        s.join("80.8.0.json").to_str().unwrap(),
        "--dry-run",
    ]));
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(text(&out.stderr).replace(s.to_str().unwrap(), "SAMPLES"), @"error: reading the payload in `SAMPLES/80.8.0.json`: invalid `PackageSetUpdate` payload: unknown field `published`, expected `compiler` or `packages`");
}

/// A `regis.dhall` written before some fields existed: regis runs with their defaults and
/// says which on stderr; an invalid value is refused before anything runs.
#[test]
fn an_older_config_runs_with_a_warning_and_a_bad_one_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("reg");
    let out = regis(&["init", root.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let config = root.join("registry/regis.dhall");
    let written = std::fs::read_to_string(&config).unwrap();
    // drop the two lines (comment, field) of each of two newer fields
    let older: Vec<&str> = written.lines().collect();
    let mut kept = Vec::new();
    let mut skip_next = false;
    for (i, line) in older.iter().enumerate() {
        if skip_next {
            skip_next = false;
            continue;
        }
        let next = older.get(i + 1).copied().unwrap_or("");
        if line.trim_start().starts_with("-- ")
            && (next.starts_with(", signatureNamespace =") || next.starts_with(", trusteeTeam ="))
        {
            skip_next = true;
            continue;
        }
        kept.push(*line);
    }
    std::fs::write(&config, kept.join("\n") + "\n").unwrap();
    let registry = root.join("registry");
    let out = regis(&["--registry", registry.to_str().unwrap(), "check"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stderr = text(&out.stderr).replace(&registry.display().to_string(), "<registry>");
    insta::assert_snapshot!(stderr, @"warning: `<registry>/regis.dhall` was written by an older regis: it has no `trusteeTeam` and `signatureNamespace`, so the defaults are used (`trusteeTeam` = `None Text`, `signatureNamespace` = `\"file\"`); add the fields to silence this warning");
    // `-q` keeps the warning back; `-v` adds where the command looked and how long it took;
    // `--color always` colours the label.
    let out = regis(&["-q", "--registry", registry.to_str().unwrap(), "check"]);
    assert_eq!(
        (out.status.code(), text(&out.stderr)),
        (Some(0), String::new())
    );
    let out = regis(&[
        "--color",
        "always",
        "--registry",
        registry.to_str().unwrap(),
        "check",
    ]);
    assert!(
        text(&out.stderr).starts_with("\x1b[1;33mwarning\x1b[0m: `"),
        "{:?}",
        text(&out.stderr)
    );
    let out = regis(&[
        "-v",
        "--registry",
        registry.to_str().unwrap(),
        "gc",
        "--dry-run",
    ]);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("note: registry `{}`, index `", registry.display()))
            && stderr
                .lines()
                .last()
                .is_some_and(|l| l.starts_with("note: took ")),
        "{stderr}"
    );

    std::fs::write(
        &config,
        written.replace(
            "defaultCompiler = \"0.15.15\"",
            "defaultCompiler = \"latest\"",
        ),
    )
    .unwrap();
    let out = regis(&["--registry", registry.to_str().unwrap(), "check"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("invalid `defaultCompiler` in `")
            && text(&out.stderr)
                .contains("`latest` (expected a compiler version `MAJOR.MINOR.PATCH`)"),
        "{}",
        text(&out.stderr)
    );
}

/// `regis` with `args`, extra environment variables set, and the variables a developer's
/// shell may hold removed.
fn regis_env(args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_regis"))
        .args(args)
        .env_remove("GITHUB_TOKEN")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// The CLI's own refusals, as a user reads them on stderr (exit 1 or 2), with the
/// temporary directory written `<tmp>`: a payload of the wrong kind for the subcommand,
/// storage inside a working tree, a missing `--index` or `--storage`, and `regis sign`'s.
#[test]
fn the_cli_refusals_read_in_full() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let path = |name: &str| dir.join(name).to_str().unwrap().to_owned();
    let file = |name: &str, body: &str| {
        std::fs::write(dir.join(name), body).unwrap();
        path(name)
    };
    // Two plain git working trees, without a `regis.dhall`: the defaults name no index
    // and no storage.
    for repo in ["registry", "index"] {
        git2::Repository::init(dir.join(repo)).unwrap();
    }
    let registry = path("registry");
    let index = path("index");
    let key = file("key", &testing::seeded_key(1));
    let publish = file(
        "publish.json",
        r#"{"name":"aff","ref":"v1.0.0","version":"1.0.0"}"#,
    );
    let update = file("update.json", r#"{"packages":{"aff":"1.0.0"}}"#);
    let transfer_inner = r#"{"name":"aff","newLocation":{"githubOwner":"me","githubRepo":"aff"}}"#;
    let unpublish_inner = r#"{"name":"aff","version":"1.0.0","reason":"broken"}"#;
    let signed = |name: &str, inner: &str| {
        file(
            name,
            &serde_json::json!({"payload": inner, "signature": "00"}).to_string(),
        )
    };
    let signed_transfer = signed("transfer.json", transfer_inner);
    let signed_unpublish = signed("unpublish.json", unpublish_inner);
    let signed_other = signed("other.json", r#"{"name":"aff"}"#);
    let inner_transfer = file("inner.json", transfer_inner);
    let with_check = dir.join("checked");
    std::fs::create_dir(&with_check).unwrap();
    let config = regis::config::Config {
        build_check: Some("true".to_owned()),
        ..regis::config::Config::default()
    };
    std::fs::write(with_check.join("regis.dhall"), config.to_dhall()).unwrap();
    let with_check = with_check.to_str().unwrap();
    let storage_inside = format!("{registry}/storage");
    let missing_key = path("missing");
    let reasonless = file("reasonless.json", r#"{"name":"aff","version":"1.0.0"}"#);
    let not_utf8 = {
        use std::os::unix::ffi::OsStrExt as _;
        std::ffi::OsStr::from_bytes(b"\xff")
    };

    /// A case: its name, `regis`'s arguments and the environment variables set.
    type Case<'a> = (&'a str, Vec<&'a str>, Vec<(&'a str, &'a std::ffi::OsStr)>);
    let cases: [Case; 23] = [
        (
            "init into a directory that is not empty",
            vec!["init", &index],
            vec![],
        ),
        (
            "publish a PackageSetUpdate",
            vec!["publish", &update],
            vec![],
        ),
        ("transfer a Publish", vec!["transfer", &publish], vec![]),
        (
            "transfer a signed Unpublish",
            vec!["transfer", &signed_unpublish],
            vec![],
        ),
        (
            "transfer a signed payload that is neither",
            vec!["transfer", &signed_other],
            vec![],
        ),
        (
            "unpublish a signed Transfer",
            vec!["unpublish", &signed_transfer],
            vec![],
        ),
        (
            "yank a signed Unpublish",
            vec!["yank", &signed_unpublish],
            vec![],
        ),
        (
            "deprecate a signed Transfer",
            vec!["deprecate", &signed_transfer],
            vec![],
        ),
        (
            "package-set update a Publish",
            vec!["package-set", "update", &publish, "--dry-run"],
            vec![],
        ),
        (
            "publish without a storage",
            vec![
                "--registry",
                &registry,
                "--index",
                &index,
                "publish",
                &publish,
            ],
            vec![],
        ),
        (
            "publish without an index",
            vec!["--registry", &registry, "publish", &publish],
            vec![],
        ),
        (
            "publish with storage in the registry",
            vec![
                "--registry",
                &registry,
                "--index",
                &index,
                "--storage",
                &storage_inside,
                "publish",
                &publish,
            ],
            vec![],
        ),
        (
            "a dry run whose build check has no storage",
            vec![
                "--registry",
                with_check,
                "--index",
                &index,
                "package-set",
                "update",
                &update,
                "--dry-run",
            ],
            vec![],
        ),
        (
            "solve a package nobody registered",
            vec![
                "--registry",
                &registry,
                "--index",
                &index,
                "solve",
                "aff@1.0.0",
            ],
            vec![],
        ),
        (
            "sign without a key",
            vec!["sign", "transfer", "aff", "--to-github", "me/aff"],
            vec![],
        ),
        (
            "sign a file and a subcommand",
            vec![
                "sign",
                "--key",
                &key,
                &publish,
                "transfer",
                "aff",
                "--to-github",
                "me/aff",
            ],
            vec![],
        ),
        (
            "sign with a missing key",
            vec![
                "sign",
                "--key",
                &missing_key,
                "transfer",
                "aff",
                "--to-github",
                "me/aff",
            ],
            vec![],
        ),
        (
            "sign with a public key",
            vec![
                "sign",
                "--key",
                &publish,
                "transfer",
                "aff",
                "--to-github",
                "me/aff",
            ],
            vec![],
        ),
        (
            "sign with a passphrase that is not UTF-8",
            vec![
                "sign",
                "--key",
                &key,
                "--passphrase-env",
                "REGIS_TEST_PASSPHRASE",
                "transfer",
                "aff",
                "--to-github",
                "me/aff",
            ],
            vec![("REGIS_TEST_PASSPHRASE", not_utf8)],
        ),
        (
            "sign a Publish",
            vec!["sign", "--key", &key, &publish],
            vec![],
        ),
        (
            "sign a PackageSetUpdate",
            vec!["sign", "--key", &key, &update],
            vec![],
        ),
        (
            "sign a signed payload",
            vec!["sign", "--key", &key, &signed_transfer],
            vec![],
        ),
        (
            "sign an Unpublish without a reason",
            vec!["sign", "--key", &key, &reasonless],
            vec![],
        ),
    ];
    let mut lines = Vec::new();
    for (case, args, env) in cases {
        let out = regis_env(&args, &env);
        assert!(out.stdout.is_empty(), "{case}: {}", text(&out.stdout));
        lines.push(format!(
            "{case} ({:?}) → {}",
            out.status.code().unwrap_or(-1),
            text(&out.stderr)
                .trim_end()
                .replace(dir.to_str().unwrap(), "<tmp>")
        ));
    }
    // A file holding the bare inner payload is signed as it is.
    assert!(
        regis_env(&["sign", "--key", &key, &inner_transfer], &[])
            .status
            .success()
    );
    insta::assert_snapshot!(lines.join("\n"), @r#"
        init into a directory that is not empty (1) → error: `<tmp>/index` is not empty: expected a new or empty directory for the registry
        publish a PackageSetUpdate (1) → error: `<tmp>/update.json` holds a PackageSetUpdate payload: `regis publish` expects a Publish `{name, location?, ref, version, compiler?, resolutions?, ownersSignature?}`
        transfer a Publish (1) → error: `<tmp>/publish.json` does not hold a signed payload: expected `{"payload": "...", "signature": "..."}` as `regis sign` prints it
        transfer a signed Unpublish (1) → error: `<tmp>/unpublish.json` holds a signed Unpublish: `regis transfer` expects a signed Transfer `{name, newLocation}` (use `regis unpublish`)
        transfer a signed payload that is neither (1) → error: reading the signed payload in `<tmp>/other.json`: the payload has keys `name`: expected `Transfer {name, newLocation}`, `Unpublish {name, version, reason}`, `Yank {name, yank, reason}`, `Unyank {name, unyank}`, `Deprecate {name, message, alternative?}`, `Alias {name, alias, version}` or `Unalias {name, unalias}`
        unpublish a signed Transfer (1) → error: `<tmp>/transfer.json` holds a signed Transfer: `regis unpublish` expects a signed Unpublish `{name, version, reason}` (use `regis transfer`)
        yank a signed Unpublish (1) → error: `<tmp>/unpublish.json` holds a signed Unpublish: `regis yank` expects a signed Yank `{name, yank, reason}` or Unyank `{name, unyank}` (use `regis unpublish`)
        deprecate a signed Transfer (1) → error: `<tmp>/transfer.json` holds a signed Transfer: `regis deprecate` expects a signed Deprecate `{name, message, alternative?}` (use `regis transfer`)
        package-set update a Publish (1) → error: `<tmp>/publish.json` is not a PackageSetUpdate: expected `{"compiler"?: VERSION, "packages": {NAME: VERSION | null}}`
        publish without a storage (2) → error: no storage given: pass `--storage DIR|URL` or set `storage` in `<tmp>/registry/regis.dhall`
        publish without an index (2) → error: no index directory given: pass `--index DIR` or set `index` in `<tmp>/registry/regis.dhall`
        publish with storage in the registry (2) → error: storage `<tmp>/registry/storage` is inside the git working tree `<tmp>/registry`: expected a directory outside it (regis resets its working trees to the remote)
        a dry run whose build check has no storage (1) → error: the build check runs over the members' tarballs: pass `--storage DIR|URL`
        solve a package nobody registered (2) → error: could not solve `aff@1.0.0`: `aff` is not in the registry (no metadata or index file)
        sign without a key (1) → error: no key to sign with: pass `--key PATH`, e.g. `--key ~/.ssh/id_ed25519`
        sign a file and a subcommand (1) → error: both a payload file `<tmp>/publish.json` and a subcommand given: expected one of them
        sign with a missing key (2) → error: could not read the private key `<tmp>/missing`: No such file or directory (os error 2)
        sign with a public key (1) → error: could not use the private key `<tmp>/publish.json`: not an OpenSSH private key: PEM preamble contains invalid data (NUL byte): expected the `-----BEGIN OPENSSH PRIVATE KEY-----` text `ssh-keygen` writes
        sign with a passphrase that is not UTF-8 (1) → error: the environment variable `REGIS_TEST_PASSPHRASE` named by `--passphrase-env` is not valid UTF-8
        sign a Publish (1) → error: `<tmp>/publish.json` holds a Publish payload (publishing needs no signature): `regis sign` signs one of `Transfer {name, newLocation}`, `Unpublish {name, version, reason}`, `Yank {name, yank, reason}`, `Unyank {name, unyank}`, `Deprecate {name, message, alternative?}`, `Alias {name, alias, version}` or `Unalias {name, unalias}`
        sign a PackageSetUpdate (1) → error: `<tmp>/update.json` holds a PackageSetUpdate payload: `regis sign` signs one of `Transfer {name, newLocation}`, `Unpublish {name, version, reason}`, `Yank {name, yank, reason}`, `Unyank {name, unyank}`, `Deprecate {name, message, alternative?}`, `Alias {name, alias, version}` or `Unalias {name, unalias}`
        sign a signed payload (1) → error: `<tmp>/transfer.json` holds a payload that is already signed: `regis sign` signs one of `Transfer {name, newLocation}`, `Unpublish {name, version, reason}`, `Yank {name, yank, reason}`, `Unyank {name, unyank}`, `Deprecate {name, message, alternative?}`, `Alias {name, alias, version}` or `Unalias {name, unalias}`
        sign an Unpublish without a reason (1) → error: reading the payload in `<tmp>/reasonless.json`: invalid `Unpublish` payload: missing field `reason`
        "#);
    // regis sign given nothing to sign, or a transfer without a new location
    let nothing: Vec<String> = [
        ("sign with no payload", vec!["sign", "--key", &key]),
        (
            "sign a transfer without a new location",
            vec!["sign", "--key", &key, "transfer", "aff"],
        ),
    ]
    .into_iter()
    .map(|(case, args)| {
        let out = regis_env(&args, &[]);
        assert!(out.stdout.is_empty(), "{case}: {}", text(&out.stdout));
        let code = out.status.code().unwrap_or(-1);
        format!("{case} ({code}) → {}", text(&out.stderr))
    })
    .collect();
    insta::assert_snapshot!(nothing.join("\n"), @r"
        sign with no payload (2) → error: the following required arguments were not provided:
          <FILE>

        Usage: regis sign --key <PATH> [OPTIONS] <FILE>
               regis sign --key <PATH> [OPTIONS] <COMMAND>

        For more information, try '--help'.

        sign a transfer without a new location (2) → error: the following required arguments were not provided:
          <--to-github <OWNER/REPO>|--to-git <URL>>

        Usage: regis sign transfer <--to-github <OWNER/REPO>|--to-git <URL>> <NAME>

        For more information, try '--help'.
        ");
}

/// What an operator installs beside the binary, and the exit statuses `--help` documents.
#[test]
fn completions_man_pages_version_and_exit_statuses() {
    for (shell, marker) in [
        ("bash", "_regis()"),
        ("zsh", "#compdef regis"),
        ("fish", "complete -c regis"),
    ] {
        let out = regis(&["completions", shell]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let script = text(&out.stdout);
        assert!(
            script.contains(marker)
                && script.contains("package-set")
                && script.contains("--storage"),
            "{shell}: {script}"
        );
    }
    assert_eq!(regis(&["completions", "tcsh"]).status.code(), Some(2));

    let dir = tempfile::tempdir().unwrap();
    assert!(
        regis(&["man", "--dir", dir.path().to_str().unwrap()])
            .status
            .success()
    );
    let page = std::fs::read_to_string(dir.path().join("regis-publish.1")).unwrap();
    assert!(
        page.starts_with(".ie") && page.contains(".TH regis-publish 1"),
        "{page}"
    );
    assert!(page.contains("Exit status"), "{page}");
    assert!(
        !dir.path().join("regis-sandbox-eval.1").exists(),
        "hidden commands have no page"
    );
    let top = text(&regis(&["man"]).stdout);
    assert!(
        top.contains(".SH SUBCOMMANDS") && top.contains("regis\\-publish(1)"),
        "{top}"
    );

    // Built from a git checkout, the version names the commit and its date, as cargo's does.
    let version = text(&regis(&["--version"]).stdout);
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        text(&out.stdout).trim().to_owned()
    };
    if git(&["rev-parse", "--is-inside-work-tree"]) == "true" {
        let commit = git(&["log", "-1", "--format=%h %cs", "--abbrev=9"]);
        assert_eq!(
            version,
            format!("regis {} ({commit})\n", env!("CARGO_PKG_VERSION"))
        );
    }

    // Every command's help ends with the exit statuses; a missing file is 2, a refusal 1.
    for command in ["publish", "check", "package-set", "sign"] {
        let help = text(&regis(&[command, "--help"]).stdout);
        assert!(
            help.contains("Exit status:\n  0  done"),
            "{command}: {help}"
        );
    }
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("missing.json");
    let out = regis(&["publish", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("missing.json`: No such file"),
        "{}",
        text(&out.stderr)
    );
    let root = tmp.path().join("reg");
    assert!(regis(&["init", root.to_str().unwrap()]).status.success());
    let payload = tmp.path().join("p.json");
    std::fs::write(&payload, r#"{"name":"x","ref":"v1","version":"1.0.0"}"#).unwrap();
    let registry = root.join("registry");
    let out = regis(&[
        "--registry",
        registry.to_str().unwrap(),
        "publish",
        payload.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("the first publish must give a `location`"));
    assert_eq!(regis(&["frob"]).status.code(), Some(2));
    // Bad usage of `init` is 2 too, and creates nothing.
    let other = tmp.path().join("other");
    let out = regis(&["init", other.to_str().unwrap(), "--storage", "tarballs"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("`--storage tarballs`: expected an object store URL"));
    let out = regis(&[
        "init",
        other.to_str().unwrap(),
        "--storage-url",
        "https://x.org/{name}",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("expected a URL template with `{name}` and `{version}`"));
    assert!(!other.exists());
}
