//! A registry whose tarballs are in a real S3 store (Garage on 127.0.0.1, started by
//! `regis::testing::S3Prefix`), driven through the `regis` binary as an operator runs it:
//! `init --storage s3://…`, publish with a build check that reads its dependencies from
//! the store, `check`, `unpublish`, `gc`, and the package-set dry run's build check.

use std::path::Path;
use std::process::{Command, Output};

use regis::schema::{Location, Owner};
use regis::storage::{ObjectStorage, Storage, StorageKey};
use regis::testing::{self, S3Prefix};

fn regis(s3: &S3Prefix, registry: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_regis"))
        .arg("--registry")
        .arg(registry)
        .args(args)
        .envs(s3.env())
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn key(name: &str, version: &str) -> StorageKey {
    StorageKey::tarball(&name.parse().unwrap(), &version.parse().unwrap())
}

/// Commit and push an edit of the registry's config, as an operator would.
fn edit_config(registry: &Path, edit: impl FnOnce(&mut regis::config::Config)) {
    let mut config = regis::config::Config::load(registry).unwrap();
    edit(&mut config);
    std::fs::write(registry.join("regis.dhall"), config.to_dhall()).unwrap();
    for args in [
        &["commit", "-q", "-am", "Run a build check"][..],
        &["push", "-q", "origin", "HEAD"],
    ] {
        let status = Command::new("git")
            .arg("-C")
            .arg(registry)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    }
}

#[test]
fn a_registry_in_s3_publishes_checks_unpublishes_and_builds_from_the_store() {
    let Some(s3) = S3Prefix::new() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("reg");
    let registry = root.join("registry");
    let keys = tmp.path().join("keys");
    std::fs::create_dir(&keys).unwrap();
    let Some((private, public)) = testing::ssh_keygen(&keys, "owner", &["-t", "ed25519"], "")
    else {
        return;
    };

    // `regis init --storage s3://…` writes the URL into the config and makes no directory.
    let out = ok(&regis(
        &s3,
        Path::new("."),
        &["init", root.to_str().unwrap(), "--storage", &s3.url],
    ));
    assert!(
        out.contains(&format!("storage        {}\n", s3.url)),
        "{out}"
    );
    assert!(!root.join("storage").exists());
    let config = regis::config::Config::load(&registry).unwrap();
    assert_eq!(config.storage.as_deref(), Some(s3.url.as_str()));

    // The build check reads each dependency from the workspace regis fills from the store.
    let log = tmp.path().join("check.log");
    let check = tmp.path().join("check.sh");
    std::fs::write(
        &check,
        format!(
            "set -e\nls \"$REGIS_DEPENDENCIES\" >> '{log}'\n\
             [ \"$REGIS_PACKAGE\" = prelude ] || test -f \"$REGIS_DEPENDENCIES/prelude-1.0.0/purs.json\"\n",
            log = log.display()
        ),
    )
    .unwrap();
    edit_config(&registry, |c| {
        c.build_check = Some(format!("sh '{}'", check.display()));
        c.compilers = vec![c.default_compiler.clone()];
    });

    let mut published = Vec::new();
    for (name, deps) in [
        ("prelude", &[][..]),
        ("effect", &[("prelude", ">=1.0.0 <2.0.0")][..]),
    ] {
        let src = tmp.path().join("src").join(name);
        let url = format!("file://{}", src.display());
        let mut p = regis::sample::SamplePackage::new(
            name,
            "1.0.0",
            Location::git(&url, None).unwrap(),
            deps,
        );
        p.manifest.owners = Some(vec![Owner::from_openssh(&public).unwrap()]);
        p.commit_to(&src).unwrap();
        let payload = tmp.path().join(format!("{name}.json"));
        std::fs::write(&payload, serde_json::to_string(&p.payload(true)).unwrap()).unwrap();
        let out = regis(
            &s3,
            &registry,
            &["--json", "publish", payload.to_str().unwrap()],
        );
        let json: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
        assert_eq!(json["stored"], true, "{json}");
        published.push(json);
    }
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "prelude-1.0.0\n",
        "effect's build check found prelude, read from the store"
    );

    // What is in the store is what metadata records, read back by another client.
    let store = ObjectStorage::open_with(&s3.url, s3.env()).unwrap();
    for (name, json) in ["prelude", "effect"].iter().zip(&published) {
        let bytes = store.get(&key(name, "1.0.0")).unwrap().expect("stored");
        assert_eq!(
            regis::schema::Sha256::of(&bytes).to_string(),
            json["hash"].as_str().unwrap()
        );
    }

    // `check` audits the store the config names: clean, then a missing tarball is found.
    let out = regis(&s3, &registry, &["check"]);
    assert!(
        ok(&out).ends_with("2 tarballs: no findings\n"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let effect = store.get(&key("effect", "1.0.0")).unwrap().unwrap();
    assert!(store.delete(&key("effect", "1.0.0")).unwrap());
    let out = regis(&s3, &registry, &["check"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!(
            "`effect@1.0.0`: no tarball `effect/1.0.0.tar.gz` in storage `{}`",
            s3.url
        )),
        "{text}"
    );
    store.put(&key("effect", "1.0.0"), &effect).unwrap();

    // The package-set dry run's build check installs the members from the store too.
    let update = tmp.path().join("update.json");
    std::fs::write(
        &update,
        r#"{"packages":{"prelude":"1.0.0","effect":"1.0.0"}}"#,
    )
    .unwrap();
    std::fs::write(&log, "").unwrap();
    ok(&regis(
        &s3,
        &registry,
        &[
            "package-set",
            "update",
            "--dry-run",
            update.to_str().unwrap(),
        ],
    ));
    assert!(
        std::fs::read_to_string(&log)
            .unwrap()
            .contains("prelude-1.0.0"),
        "the dry run's build check ran over the stored members"
    );

    // An owner unpublishes effect: its tarball leaves the store, prelude's stays.
    let signed = regis(
        &s3,
        &registry,
        &[
            "sign",
            "--key",
            private.to_str().unwrap(),
            "unpublish",
            "effect@1.0.0",
            "--reason",
            "a broken build",
        ],
    );
    let signed_file = tmp.path().join("unpublish.json");
    std::fs::write(&signed_file, ok(&signed)).unwrap();
    ok(&regis(
        &s3,
        &registry,
        &["unpublish", signed_file.to_str().unwrap()],
    ));
    assert_eq!(store.get(&key("effect", "1.0.0")).unwrap(), None);
    assert!(store.get(&key("prelude", "1.0.0")).unwrap().is_some());
    let out = regis(&s3, &registry, &["check"]);
    assert!(
        ok(&out).ends_with("1 tarballs: no findings\n"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // Without the credentials the store refuses, and the error names the store, not a key.
    let out = Command::new(env!("CARGO_BIN_EXE_regis"))
        .arg("--registry")
        .arg(&registry)
        .arg("check")
        .envs(
            s3.env()
                .into_iter()
                .filter(|(k, _)| k != "AWS_SECRET_ACCESS_KEY"),
        )
        .env("AWS_SECRET_ACCESS_KEY", "wrong")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&s3.url), "{err}");
    let (_, secret) = (s3.env().into_iter())
        .find(|(k, _)| k == "AWS_SECRET_ACCESS_KEY")
        .unwrap();
    assert!(!err.contains(&secret) && !err.contains("wrong"), "{err}");
}

/// `storageUrl` names where anyone downloads a tarball; `check --storage URL` audits what
/// a plain HTTP server (here Python's, over the storage directory) serves there.
#[test]
fn check_audits_the_public_download_url_over_http() {
    let t = regis::testing::TestRegistry::with_config(|c| {
        c.storage_url = Some(
            regis::config::StorageUrl::new("http://127.0.0.1:1/{name}/{version}.tar.gz").unwrap(),
        );
    });
    let report = t.release(&t.package("prelude", "1.0.0", &[]));
    assert_eq!(
        report.download_url.as_deref(),
        Some("http://127.0.0.1:1/prelude/1.0.0.tar.gz")
    );
    assert!(
        regis::operation::report::publish(&report)
            .contains("\n  download  http://127.0.0.1:1/prelude/1.0.0.tar.gz\n")
    );

    let port = testing::free_port();
    let mut server = Command::new("python3")
        .args([
            "-m",
            "http.server",
            "--bind",
            "127.0.0.1",
            &port.to_string(),
        ])
        .arg("--directory")
        .arg(&t.layout.storage)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    assert!(
        testing::wait_until_listening(&mut server, port),
        "the HTTP server did not start"
    );
    let url = format!("http://127.0.0.1:{port}");
    let check = || {
        Command::new(env!("CARGO_BIN_EXE_regis"))
            .arg("--registry")
            .arg(&t.layout.registry)
            .args(["check", "--storage", &url])
            .output()
            .unwrap()
    };
    let out = check();
    assert!(
        ok(&out).ends_with("1 tarballs: no findings\n"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // What is served is fetched and hashed: altered bytes, then none, are findings.
    let file = t.layout.storage.join("prelude/1.0.0.tar.gz");
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&file, b"not the tarball").unwrap();
    let out = check();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains("tarball `prelude/1.0.0.tar.gz` is 15 bytes with hash `sha256-")
            && text.contains(&format!("but metadata records {} bytes", bytes.len())),
        "{text}"
    );
    std::fs::remove_file(&file).unwrap();
    let out = check();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains(&format!(
            "no tarball `prelude/1.0.0.tar.gz` in storage `{url}`"
        )),
        "{text}"
    );
    let _ = server.kill();
    let _ = server.wait();
}

/// A registry whose storage and mirror are two S3 prefixes: a publish writes both; with
/// the primary's copy gone, `check` and the build check read the mirror's, and `storage
/// sync` copies it back.
#[test]
fn an_s3_mirror_serves_what_the_primary_lost_until_sync_copies_it_back() {
    let (Some(s3), Some(mirror)) = (S3Prefix::new(), S3Prefix::new()) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("reg");
    let registry = root.join("registry");
    ok(&regis(
        &s3,
        Path::new("."),
        &["init", root.to_str().unwrap(), "--storage", &s3.url],
    ));
    edit_config(&registry, |c| {
        c.mirrors = vec![mirror.url.clone()];
        c.build_check = Some(
            r#"[ "$REGIS_PACKAGE" = prelude ] || test -f "$REGIS_DEPENDENCIES/prelude-1.0.0/purs.json""#
                .to_owned(),
        );
        c.compilers = vec![c.default_compiler.clone()];
    });
    let publish = |name: &str, deps: &[(&str, &str)]| {
        let src = tmp.path().join("src").join(name);
        let url = format!("file://{}", src.display());
        let p = regis::sample::SamplePackage::new(
            name,
            "1.0.0",
            Location::git(&url, None).unwrap(),
            deps,
        );
        p.commit_to(&src).unwrap();
        let payload = tmp.path().join(format!("{name}.json"));
        std::fs::write(&payload, serde_json::to_string(&p.payload(true)).unwrap()).unwrap();
        ok(&regis(
            &s3,
            &registry,
            &["publish", payload.to_str().unwrap()],
        ))
    };
    let out = publish("prelude", &[]);
    assert!(
        out.contains(&format!("\n  mirror    `{}`: stored\n", mirror.url)),
        "{out}"
    );
    let (primary, copy) = (
        ObjectStorage::open_with(&s3.url, s3.env()).unwrap(),
        ObjectStorage::open_with(&mirror.url, mirror.env()).unwrap(),
    );
    let k = key("prelude", "1.0.0");
    let bytes = primary.get(&k).unwrap().expect("stored");
    assert_eq!(copy.get(&k).unwrap().as_deref(), Some(&bytes[..]));

    // The primary loses prelude: `check` reads the mirror's copy (a warning, exit 0) and
    // effect's build check finds prelude, read from the mirror.
    assert!(primary.delete(&k).unwrap());
    let out = regis(&s3, &registry, &["check"]);
    assert!(ok(&out).ends_with("1 tarballs: no findings\n"));
    let warning = String::from_utf8_lossy(&out.stderr);
    assert!(
        warning.contains(&format!("`prelude@1.0.0` from `{}`", mirror.url)),
        "{warning}"
    );
    let out = publish("effect", &[("prelude", ">=1.0.0 <2.0.0")]);
    assert!(
        out.contains(&format!(
            "warning: `prelude@1.0.0` was read from mirror `{}`",
            mirror.url
        )),
        "{out}"
    );
    assert_eq!(
        primary.get(&k).unwrap(),
        None,
        "a reader writes nothing back"
    );

    // `storage sync` copies it back, every hash checked; then nothing is left to copy.
    let out = ok(&regis(&s3, &registry, &["storage", "sync"]));
    assert!(
        out.contains(&format!("copied prelude@1.0.0 to `{}`", s3.url)),
        "{out}"
    );
    assert_eq!(primary.get(&k).unwrap().as_deref(), Some(&bytes[..]));
    let out = ok(&regis(&s3, &registry, &["storage", "sync"]));
    assert!(
        out.contains(&format!(
            "mirror `{}`: 2 of 2 published tarballs verified, 0 copied, 0 deleted",
            mirror.url
        )),
        "{out}"
    );

    // The mirror's own credentials (`REGIS_MIRROR1_…`) take the place of the primary's:
    // a wrong secret there fails the mirror's write only, and the publish stands.
    let src = tmp.path().join("src/console");
    let url = format!("file://{}", src.display());
    let p = regis::sample::SamplePackage::new(
        "console",
        "1.0.0",
        Location::git(&url, None).unwrap(),
        &[("prelude", ">=1.0.0 <2.0.0")],
    );
    p.commit_to(&src).unwrap();
    let payload = tmp.path().join("console.json");
    std::fs::write(&payload, serde_json::to_string(&p.payload(true)).unwrap()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_regis"))
        .arg("--registry")
        .arg(&registry)
        .args(["publish", payload.to_str().unwrap()])
        .envs(s3.env())
        .env("REGIS_MIRROR1_AWS_SECRET_ACCESS_KEY", "wrong")
        .output()
        .unwrap();
    let text = ok(&out);
    assert!(
        text.contains(&format!("\n  mirror    `{}`: failed: ", mirror.url))
            && text.contains("(`regis storage sync` repairs it)"),
        "{text}"
    );
    assert!(!text.contains("wrong"), "{text}");
    let k = key("console", "1.0.0");
    assert!(primary.get(&k).unwrap().is_some());
    assert_eq!(copy.get(&k).unwrap(), None);
}
