//! A registry read over HTTP through the site `regis site build` makes: `regis list NAME
//! --from <site>` and `regis fetch NAME@VERSION --from <site>`, through the binary, against
//! the site and the registry's storage each served by a static file server on 127.0.0.1
//! (`python3 -m http.server`, as a CDN or a bucket would serve them): the versions and
//! flags listed exactly, a release downloaded byte for byte and held to its metadata, each
//! refusal in full, a cached file revalidated with a `304`, and a signed registry verified
//! through TUF as well, where the site and the signatures must agree.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use regis::testing::{StaticServer, TestRegistry};
use serde_json::{Value, json};

use super::tuf_fixture::{self, owner, signed};

pub(super) fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `regis ARGS` with the client's state under `home` (never the user's), and none of the
/// variables a developer's shell may hold.
pub(super) fn regis(home: &Path, args: &[&str]) -> Output {
    std::fs::create_dir_all(home).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_regis"));
    command
        .args(args)
        .current_dir(home)
        .env("XDG_STATE_HOME", home);
    for var in ["REGIS_REGISTRY", "REGIS_INDEX", "REGIS_STORAGE"] {
        command.env_remove(var);
    }
    command.output().unwrap()
}

/// A registry's site and storage, each served on 127.0.0.1.
pub(super) struct Served {
    pub(super) site_dir: PathBuf,
    site: StaticServer,
    storage: StaticServer,
    /// The client's state, outputs.
    tmp: tempfile::TempDir,
    /// The modification time of the last file [`Served::write`] wrote.
    written: std::cell::Cell<std::time::SystemTime>,
}

impl Served {
    /// Builds the site of the registry checkout `registry` with the binary, `dl` the
    /// storage server's layout (or `dl` given, `{storage}` its URL), and serves both.
    pub(super) fn start(registry: &Path, storage: &Path, dl: Option<&str>) -> Served {
        let tmp = tempfile::tempdir().unwrap();
        let storage = StaticServer::start(storage);
        let site_dir = tmp.path().join("site");
        let dl = match dl {
            Some(dl) => dl.replace("{storage}", &storage.url),
            None => format!("{}{{name}}/{{version}}.tar.gz", storage.url),
        };
        build(tmp.path(), registry, &site_dir, &["--dl", &dl]);
        let site = StaticServer::start(&site_dir);
        Served {
            site_dir,
            site,
            storage,
            tmp,
            written: std::cell::Cell::new(std::time::SystemTime::now()),
        }
    }

    fn home(&self) -> PathBuf {
        self.tmp.path().join("home")
    }

    pub(super) fn run(&self, args: &[&str]) -> Output {
        regis(&self.home(), args)
    }

    /// `regis ARGS --from <site>`: stdout then stderr, redacted, and the exit status.
    pub(super) fn on_site(&self, args: &[&str]) -> (String, i32) {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--from", &self.site.url]);
        let out = self.run(&all);
        (self.redact(&out), out.status.code().unwrap())
    }

    /// `regis fetch RELEASE --from <site> --out <tmp>/out` and more `args`.
    pub(super) fn fetch(&self, release: &str, args: &[&str]) -> (String, i32) {
        let out = self.out_dir();
        let mut all = vec!["fetch", release, "--out", out.to_str().unwrap()];
        all.extend(args);
        self.on_site(&all)
    }

    fn out_dir(&self) -> PathBuf {
        self.tmp.path().join("out")
    }

    pub(super) fn fetched(&self, release: &str) -> Vec<u8> {
        let file = format!("{}.tar.gz", release.replace('@', "-"));
        std::fs::read(self.out_dir().join(file)).unwrap()
    }

    /// Replaces the site's file at `rel`.
    fn edit_site(&self, rel: &str, edit: impl FnOnce(String) -> String) {
        let text = std::fs::read_to_string(self.site_dir.join(rel)).unwrap();
        let edited = edit(text.clone());
        assert_ne!(text, edited, "{rel} changed");
        self.write(rel, edited.as_bytes());
    }

    /// Writes the site's file at `rel`, its modification time a second past the last
    /// one's and a few ahead of now: the server's `Last-Modified` has whole seconds, and a
    /// client that cached the file in the same second would be told it did not change.
    fn write(&self, rel: &str, bytes: &[u8]) {
        let path = self.site_dir.join(rel);
        std::fs::write(&path, bytes).unwrap();
        let second = std::time::Duration::from_secs(1);
        let ahead = std::time::SystemTime::now() + 3 * second;
        let at = ahead.max(self.written.get() + second);
        self.written.set(at);
        let file = std::fs::File::options().write(true).open(&path).unwrap();
        file.set_modified(at).unwrap();
    }

    pub(super) fn redact(&self, out: &Output) -> String {
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        let all = all
            .replace(&self.site.url, "<site>/")
            .replace(&self.storage.url, "<storage>/")
            .replace(self.tmp.path().to_str().unwrap(), "<tmp>");
        redact_hashes(&all)
    }
}

/// `regis site build OUT` of `registry` with `args`.
pub(super) fn build(home: &Path, registry: &Path, out: &Path, args: &[&str]) {
    let mut all = vec![
        "--registry",
        registry.to_str().unwrap(),
        "site",
        "build",
        out.to_str().unwrap(),
    ];
    all.extend(args);
    let built = regis(home, &all);
    assert!(built.status.success(), "{}", text(&built.stderr));
}

/// Each `sha256-<44 base64 characters>` written `<hash>`, each 64-digit hex run
/// `<sha256>`: tarballs and atoms are made afresh.
fn redact_hashes(text: &str) -> String {
    let text = tuf_fixture::redact(text, &[]);
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(i) = rest.find("sha256-") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 7..];
        let run = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || "+/=".contains(c)))
            .unwrap_or(after.len());
        if run == 44 {
            out.push_str("<hash>");
            rest = &after[44..];
        } else {
            out.push_str("sha256-");
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// A registry (no TUF) with `a` at 1.0.0 (unpublished), 1.1.0 (yanked), 1.2.0 and
/// deprecated in favour of `b`, and `b@1.0.0`.
pub(super) fn registry() -> TestRegistry {
    let t = TestRegistry::new();
    let release = |name: &str, version: &str| {
        let mut p = t.package(name, version, &[]);
        p.manifest.owners = Some(vec![owner().public()]);
        t.release(&p);
    };
    for version in ["1.0.0", "1.1.0", "1.2.0"] {
        release("a", version);
    }
    release("b", "1.0.0");
    regis::operation::yank::yank(
        &t.ctx(),
        &signed(r#"{"name":"a","yank":"1.1.0","reason":"broken on Windows"}"#),
    )
    .unwrap();
    regis::operation::unpublish::unpublish(
        &t.ctx(),
        &signed(r#"{"name":"a","version":"1.0.0","reason":"published by mistake"}"#),
    )
    .unwrap();
    regis::operation::deprecate::deprecate(
        &t.ctx(),
        &signed(r#"{"name":"a","message":"use b","alternative":"b"}"#),
    )
    .unwrap();
    t
}

#[test]
fn list_prints_each_version_and_flag_from_a_site_and_from_the_checkouts() {
    let t = registry();
    let s = Served::start(&t.layout.registry, &t.layout.storage, None);
    let (out, code) = s.on_site(&["list", "a"]);
    assert_eq!(code, 0, "{out}");
    insta::assert_snapshot!(out, @r"
    `a` at github:test/a, read from <site>/
    deprecated on 2026-11-22: `use b`, use `b` instead
    1.2.0  2026-11-22  498 bytes
    1.1.0  2026-11-22  499 bytes  yanked: `broken on Windows`
    1.0.0  2026-11-22             unpublished on 2026-11-22: `published by mistake`
    ");
    // The checkouts say the same.
    let out = s.run(&[
        "--registry",
        t.layout.registry.to_str().unwrap(),
        "list",
        "a",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listed = s.redact(&out);
    let registry = t.layout.registry.to_str().unwrap();
    insta::assert_snapshot!(listed.replace(registry, "<registry>"), @r"
    `a` at github:test/a, read from <registry>
    deprecated on 2026-11-22: `use b`, use `b` instead
    1.2.0  2026-11-22  498 bytes
    1.1.0  2026-11-22  499 bytes  yanked: `broken on Windows`
    1.0.0  2026-11-22             unpublished on 2026-11-22: `published by mistake`
    ");
    // --json: every version with its flags, as data.
    let (out, code) = s.on_site(&["--json", "list", "a"]);
    assert_eq!(code, 0, "{out}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (&doc["name"], &doc["from"], &doc["location"]),
        (
            &json!("a"),
            &json!("<site>/"),
            &json!({"githubOwner": "test", "githubRepo": "a"})
        )
    );
    assert_eq!(
        doc["deprecated"],
        json!({"message": "use b", "alternative": "b", "time": regis::testing::NOW})
    );
    let flags: Vec<(&Value, &Value, &Value, &Value, &Value)> = (doc["versions"].as_array())
        .unwrap()
        .iter()
        .map(|v| {
            (
                &v["version"],
                &v["indexed"],
                &v["yanked"]["reason"],
                &v["unpublished"]["reason"],
                &v["bytes"],
            )
        })
        .collect();
    assert_eq!(flags.len(), 3);
    assert_eq!(
        (flags[0].0, flags[0].1, flags[0].2, flags[0].3),
        (&json!("1.2.0"), &json!(true), &Value::Null, &Value::Null)
    );
    assert_eq!(
        (flags[1].0, flags[1].2, flags[1].3),
        (&json!("1.1.0"), &json!("broken on Windows"), &Value::Null)
    );
    assert_eq!(
        (flags[2].0, flags[2].1, flags[2].3, flags[2].4),
        (
            &json!("1.0.0"),
            &json!(false),
            &json!("published by mistake"),
            &Value::Null
        )
    );
    assert_eq!(doc["problems"], json!([]));
}

#[test]
fn fetch_downloads_a_release_held_to_its_metadata_and_refuses_what_it_cannot_be() {
    let t = registry();
    let s = Served::start(&t.layout.registry, &t.layout.storage, None);
    let stored = |release: &str| {
        let (name, version) = release.split_once('@').unwrap();
        std::fs::read(t.layout.storage.join(format!("{name}/{version}.tar.gz"))).unwrap()
    };
    let (out, code) = s.fetch("a@1.2.0", &[]);
    assert_eq!(code, 0, "{out}");
    insta::assert_snapshot!(out, @r"
    Fetched `a@1.2.0` to <tmp>/out/a-1.2.0.tar.gz: 498 bytes, `<hash>`
      site: <site>/, the size and hash its metadata records, downloaded from <storage>/a/1.2.0.tar.gz
    warning: `a` is deprecated: `use b`, use `b` instead
    ");
    assert_eq!(s.fetched("a@1.2.0"), stored("a@1.2.0"));
    // A yanked version is fetched, with a warning.
    let (out, code) = s.fetch("a@1.1.0", &[]);
    assert_eq!(code, 0, "{out}");
    insta::assert_snapshot!(out, @r"
    Fetched `a@1.1.0` to <tmp>/out/a-1.1.0.tar.gz: 499 bytes, `<hash>`
      site: <site>/, the size and hash its metadata records, downloaded from <storage>/a/1.1.0.tar.gz
    warning: `a@1.1.0` is yanked: `broken on Windows`
    warning: `a` is deprecated: `use b`, use `b` instead
    ");
    assert_eq!(s.fetched("a@1.1.0"), stored("a@1.1.0"));
    let (out, code) = s.fetch("b@1.0.0", &["--json"]);
    assert_eq!(code, 0, "{out}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (&doc["root"], &doc["atom"], &doc["chain"]),
        (&Value::Null, &Value::Null, &json!(0))
    );
    assert_eq!(
        doc["site"],
        json!({"url": "<storage>/b/1.0.0.tar.gz", "signatureChecked": false, "yanked": null})
    );

    // Refused: an unpublished version, an unknown one, a package the site lacks.
    let (out, code) = s.fetch("a@1.0.0", &[]);
    assert_eq!(code, 1);
    insta::assert_snapshot!(out, @"error: `a@1.0.0` was unpublished on 2026-11-22: `published by mistake`");
    let (out, code) = s.fetch("a@9.9.9", &[]);
    assert_eq!(code, 1);
    insta::assert_snapshot!(out, @"error: `a` has no version `9.9.9`: its published versions are 1.2.0, 1.1.0");
    let (out, code) = s.fetch("nothere@1.0.0", &[]);
    assert_eq!(code, 1);
    insta::assert_snapshot!(out, @"error: `nothere` is not a package of the registry at `<site>/`: `<site>/metadata/nothere.json` is missing");
    let (out, code) = s.on_site(&["list", "nothere"]);
    assert_eq!(code, 1);
    insta::assert_snapshot!(out, @"error: `nothere` is not a package of the registry at `<site>/`: `<site>/metadata/nothere.json` is missing");

    // Storage serving other bytes: of the same size, fewer, more.
    let tarball = t.layout.storage.join("a/1.2.0.tar.gz");
    let mut tampered = stored("a@1.2.0");
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    std::fs::write(&tarball, &tampered).unwrap();
    let (out, code) = s.fetch("a@1.2.0", &[]);
    assert_eq!(code, 1);
    insta::assert_snapshot!(out, @"error: the tarball of `a@1.2.0` at `<storage>/a/1.2.0.tar.gz` hashes to `<hash>`, metadata records `<hash>`");
    std::fs::write(&tarball, &tampered[..100]).unwrap();
    let (out, code) = s.fetch("a@1.2.0", &[]);
    assert_eq!(code, 1);
    insta::assert_snapshot!(out, @"error: the tarball of `a@1.2.0` at `<storage>/a/1.2.0.tar.gz` is 100 bytes, metadata records 498");
    tampered.extend_from_slice(b"more");
    std::fs::write(&tarball, &tampered).unwrap();
    let (out, code) = s.fetch("a@1.2.0", &[]);
    assert_eq!(code, 1);
    insta::assert_snapshot!(out, @"error: `<storage>/a/1.2.0.tar.gz` is larger than 498 bytes, the cap on the tarball of `a@1.2.0`: the size metadata records");
    std::fs::remove_file(&tarball).unwrap();
    let (out, code) = s.fetch("a@1.2.0", &[]);
    assert_eq!(code, 1);
    insta::assert_snapshot!(out, @"error: the tarball of `a@1.2.0` is missing at `<storage>/a/1.2.0.tar.gz`, and metadata records it published");
}

#[test]
fn metadata_and_index_that_disagree_are_reported_and_refused() {
    let t = registry();
    let s = Served::start(&t.layout.registry, &t.layout.storage, None);
    // The index loses `a@1.2.0`'s line.
    s.edit_site("index/1/a", |text| {
        text.lines()
            .filter(|l| !l.contains(r#""version":"1.2.0""#))
            .map(|l| format!("{l}\n"))
            .collect()
    });
    let (out, code) = s.on_site(&["list", "a"]);
    assert_eq!(code, 1, "{out}");
    insta::assert_snapshot!(out, @r"
    `a` at github:test/a, read from <site>/
    deprecated on 2026-11-22: `use b`, use `b` instead
    1.2.0  2026-11-22  498 bytes  not in the index
    1.1.0  2026-11-22  499 bytes  yanked: `broken on Windows`
    1.0.0  2026-11-22             unpublished on 2026-11-22: `published by mistake`
    1 problem: metadata and the index file disagree
      `a@1.2.0` is published, and the index file does not list it
    ");
    let (out, code) = s.fetch("a@1.2.0", &[]);
    assert_eq!(code, 1);
    insta::assert_snapshot!(out, @"error: `a@1.2.0` is published in `<site>/metadata/a.json` but not in the index file `<site>/index/1/a`: the registry's metadata and index disagree");
}

#[test]
fn what_is_not_a_site_or_too_large_is_refused() {
    let t = registry();
    let s = Served::start(&t.layout.registry, &t.layout.storage, None);
    // Storage has no config.json: `list` refuses it (fetch reads it as storage).
    let out = s.run(&["list", "a", "--from", &s.storage.url]);
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!(s.redact(&out), @"error: `<storage>/` is not a regis site: it has no `config.json`; expected the URL or directory of what `regis site build` wrote");
    // A config of another format, and one that is not a regis site's.
    let original = std::fs::read_to_string(s.site_dir.join("config.json")).unwrap();
    let format_2 = original.replace(r#""formatVersion": 1"#, r#""formatVersion": 2"#);
    s.write("config.json", format_2.as_bytes());
    let (out, code) = s.fetch("a@1.2.0", &[]);
    assert_eq!(code, 2);
    insta::assert_snapshot!(out, @"error: `<site>/config.json` is a regis site config of format version 2: this regis reads format version 1 (a newer regis reads the newer format)");
    s.write("config.json", b"<!doctype html>");
    let (out, code) = s.on_site(&["list", "a"]);
    assert_eq!(code, 2);
    insta::assert_snapshot!(out, @"error: `<site>/config.json` is not a regis site config: not JSON (expected value at line 1 column 1); expected the JSON object `regis site build` writes, with `formatVersion` 1, `name`, `dl`, `index`, `metadata`, `packageSets`, `storage` and `tuf`");
    s.write("config.json", original.as_bytes());
    // A metadata file over the cap is not read past it.
    s.write("metadata/a.json", &vec![b' '; (8 << 20) + 1]);
    let (out, code) = s.on_site(&["list", "a"]);
    assert_eq!(code, 1);
    insta::assert_snapshot!(out, @"error: `<site>/metadata/a.json` is larger than 8,388,608 bytes, the cap on a metadata file");
    // A server that is not there.
    let gone = {
        let port = regis::testing::free_port();
        format!("http://127.0.0.1:{port}/")
    };
    let out = s.run(&["list", "a", "--from", &gone]);
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!(s.redact(&out).replace(&gone, "<gone>/"), @"error: could not read `<gone>/config.json`: could not connect: Connection refused (os error 111)");
}

#[test]
fn a_site_without_a_download_url_is_refused_by_fetch() {
    let t = registry();
    let tmp = tempfile::tempdir().unwrap();
    let site_dir = tmp.path().join("site");
    build(tmp.path(), &t.layout.registry, &site_dir, &[]);
    let site = StaticServer::start(&site_dir);
    let out = regis(
        tmp.path(),
        &[
            "fetch",
            "a@1.2.0",
            "--from",
            &site.url,
            "--out",
            tmp.path().to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(text(&out.stderr).replace(&site.url, "<site>/"), @"error: the site `<site>/` names no download URL (`dl` is null in its `config.json`): it was built without `--dl` and without a `storageUrl` in regis.dhall");
    // A directory site reads the same.
    let out = regis(
        tmp.path(),
        &["list", "b", "--from", site_dir.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listed = text(&out.stdout).replace(tmp.path().to_str().unwrap(), "<tmp>");
    insta::assert_snapshot!(redact_hashes(&listed), @r"
    `b` at github:test/b, read from <tmp>/site
    1.0.0  2026-11-22  499 bytes
    ");
}

#[test]
fn a_second_read_revalidates_each_file_and_gets_304s() {
    let t = registry();
    let s = Served::start(&t.layout.registry, &t.layout.storage, None);
    let requests = |s: &Served| {
        let (out, code) = s.on_site(&["--json", "list", "a"]);
        assert_eq!(code, 0, "{out}");
        let doc: Value = serde_json::from_str(&out).unwrap();
        doc["requests"].clone()
    };
    // config.json, the metadata file, the index file.
    assert_eq!(requests(&s), json!({"fetched": 3, "notModified": 0}));
    assert_eq!(requests(&s), json!({"fetched": 0, "notModified": 3}));
    // A file that changed is sent again.
    s.edit_site("metadata/a.json", |text| text.replace("use b", "use b now"));
    assert_eq!(requests(&s), json!({"fetched": 1, "notModified": 2}));
    let (out, _) = s.on_site(&["list", "a"]);
    assert!(out.contains("use b now"), "{out}");
    // The fetch reads the same cache.
    let (out, code) = s.fetch("a@1.2.0", &[]);
    assert_eq!(code, 0, "{out}");
    let kept = s.home().join("regis/sparse");
    assert!(kept.is_dir(), "the cache is under the state directory");
}

#[test]
fn a_signed_registry_is_verified_through_its_site_and_both_must_agree() {
    let tuf = tuf_fixture::adopted();
    tuf.release("prelude", "1.1.0");
    let s = Served::start(&tuf.t.layout.registry, &tuf.t.layout.storage, None);
    let config: Value =
        serde_json::from_slice(&std::fs::read(s.site_dir.join("config.json")).unwrap()).unwrap();
    assert_eq!(
        (&config["tuf"], &config["storage"]),
        (&json!(true), &json!(s.storage.url))
    );
    let root = tuf.t.layout.registry.join("tuf/root/1.root.json");
    let root = root.to_str().unwrap();
    let state = s.tmp.path().join("state");
    let pinned = ["--root", root, "--state", state.to_str().unwrap()];
    let (out, code) = s.fetch("prelude@1.1.0", &pinned);
    assert_eq!(code, 0, "{out}");
    insta::assert_snapshot!(out, @r"
    Fetched `prelude@1.1.0` to <tmp>/out/prelude-1.1.0.tar.gz: 512 bytes, `<hash>`
      site: <site>/, the size and hash its metadata records, downloaded from <storage>/prelude/1.1.0.tar.gz
      TUF: root version 1, timestamp 2, snapshot 2, from <storage>/
      atom `<sha256>` (the publish), 2 atoms on the chain, signed by atom keys of the root chain
    ");
    assert_eq!(
        s.fetched("prelude@1.1.0"),
        tuf.stored("prelude/1.1.0.tar.gz")
    );
    let with_json: Vec<&str> = pinned.iter().copied().chain(["--json"]).collect();
    let (out, code) = s.fetch("prelude@1.0.0", &with_json);
    assert_eq!(code, 0, "{out}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!((&doc["root"], &doc["chain"]), (&json!(1), &json!(1)));
    assert_eq!(doc["site"]["signatureChecked"], true);
    // No root pinned (no `--root`, no registry checkout here): fetched, with a warning.
    let (out, code) = s.fetch("prelude@1.0.0", &[]);
    assert_eq!(code, 0, "{out}");
    insta::assert_snapshot!(out, @r"
    Fetched `prelude@1.0.0` to <tmp>/out/prelude-1.0.0.tar.gz: 513 bytes, `<hash>`
      site: <site>/, the size and hash its metadata records, downloaded from <storage>/prelude/1.0.0.tar.gz
    warning: the site `<site>/` says the registry signs its releases (TUF), and no root is pinned: the tarball was held to the site's metadata only, nothing was signature-checked; pin the registry's root with `--root FILE` (its `tuf/root/1.root.json`, obtained out of band)
    ");

    // The site's metadata entry edited (its publish time): TUF's target says otherwise.
    s.edit_site("metadata/prelude.json", |text| {
        text.replacen("2026-11-22T10:00:00.000Z", "2020-01-01T00:00:00.000Z", 1)
    });
    let (out, code) = s.fetch("prelude@1.0.0", &pinned);
    assert_eq!(code, 1);
    insta::assert_snapshot!(out, @"error: the site and the registry's signed metadata disagree on `prelude@1.0.0`: its entry in `<site>/metadata/prelude.json` hashes to `<hash>`, the signed target records `<hash>`");
    let metadata = tuf.t.layout.registry.join("metadata/prelude.json");
    s.write("metadata/prelude.json", &std::fs::read(&metadata).unwrap());
    // The site's index line edited: the publish atom recorded another.
    s.edit_site("index/pr/el/prelude", |text| {
        text.replacen(r#""ref":"v1.0.0""#, r#""ref":"v1.0.0-evil""#, 1)
    });
    let (out, code) = s.fetch("prelude@1.0.0", &pinned);
    assert_eq!(code, 1);
    insta::assert_snapshot!(out, @"error: the site and the registry's signed metadata disagree on `prelude@1.0.0`: its line in `<site>/index/pr/el/prelude` hashes to `<hash>`, its publish atom records `<hash>`");

    // A swapped tarball, and the site's metadata edited to match it: TUF refuses it.
    let swapped = b"a tarball the attacker made".to_vec();
    tuf.put("prelude/1.1.0.tar.gz", &swapped);
    let original = std::fs::read_to_string(&metadata).unwrap();
    let m: Value = serde_json::from_str(&original).unwrap();
    let entry = &m["published"]["1.1.0"];
    let hash = regis::schema::Sha256::of(&swapped).to_string();
    s.edit_site("metadata/prelude.json", |text| {
        text.replace(entry["hash"].as_str().unwrap(), &hash)
            .replace(
                &format!(r#""bytes": {}"#, entry["bytes"]),
                &format!(r#""bytes": {}"#, swapped.len()),
            )
    });
    let (out, code) = s.fetch("prelude@1.1.0", &[]);
    assert_eq!(
        code, 0,
        "without a pinned root the site alone is believed: {out}"
    );
    let (out, code) = s.fetch("prelude@1.1.0", &pinned);
    assert_eq!(code, 1);
    insta::assert_snapshot!(out, @"error: the target `prelude/1.1.0.tar.gz` failed verification: `1.1.0.tar.gz` hashes to `<sha256>`, the signed metadata records `<sha256>`");

    // Storage itself, which has no config.json, is still read as before.
    let out = s.run(&[
        "fetch",
        "prelude@1.0.0",
        "--from",
        &s.storage.url,
        "--out",
        s.out_dir().to_str().unwrap(),
        "--root",
        root,
        "--state",
        state.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    insta::assert_snapshot!(s.redact(&out), @r"
    Fetched `prelude@1.0.0` to <tmp>/out/prelude-1.0.0.tar.gz: 513 bytes, `<hash>`
      TUF: root version 1, timestamp 2, snapshot 2, from <storage>/
      atom `<sha256>` (the publish), 1 atoms on the chain, signed by atom keys of the root chain
    ");
}

#[test]
fn a_signed_site_without_a_storage_url_cannot_be_verified() {
    let tuf = tuf_fixture::adopted();
    let s = Served::start(
        &tuf.t.layout.registry,
        &tuf.t.layout.storage,
        Some("{storage}{name}/{version}.tar.gz?download"),
    );
    let root = tuf.t.layout.registry.join("tuf/root/1.root.json");
    let (out, code) = s.fetch("prelude@1.0.0", &["--root", root.to_str().unwrap()]);
    assert_eq!(code, 1);
    insta::assert_snapshot!(out, @"error: the site `<site>/` names no storage URL (`storage` is null in its `config.json`), where the registry's TUF repository is read: its `dl` does not end in `{name}/{version}.tar.gz`");
}

/// The real registry view (673 packages): its site served, `regis list prelude` lists
/// exactly the versions its metadata file holds, newest first.
#[test]
fn the_real_registry_view_is_listed_through_its_site() {
    let Some(fixtures) = regis::testing::purescript_fixtures() else {
        return;
    };
    let view = fixtures.join("package-set-samples");
    let tmp = tempfile::tempdir().unwrap();
    let site_dir = tmp.path().join("site");
    build(
        tmp.path(),
        &view.join("registry"),
        &site_dir,
        &["--index", view.join("index").to_str().unwrap()],
    );
    let site = StaticServer::start(&site_dir);
    let out = regis(
        tmp.path(),
        &["--json", "list", "prelude", "--from", &site.url],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let listed: Vec<&str> = (doc["versions"].as_array().unwrap().iter())
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    let metadata: Value = serde_json::from_slice(
        &std::fs::read(view.join("registry/metadata/prelude.json")).unwrap(),
    )
    .unwrap();
    let mut expected: Vec<regis::schema::Version> = ["published", "unpublished"]
        .iter()
        .flat_map(|k| metadata[k].as_object().unwrap().keys())
        .map(|v| v.parse().unwrap())
        .collect();
    expected.sort();
    expected.reverse();
    let expected: Vec<String> = expected.iter().map(ToString::to_string).collect();
    assert_eq!(listed, expected);
    assert!(listed.len() > 10, "{listed:?}");
    assert_eq!(doc["problems"], json!([]));
    for (v, entry) in doc["versions"].as_array().unwrap().iter().zip(&expected) {
        let recorded = &metadata["published"][entry];
        assert_eq!(v["bytes"], recorded["bytes"], "{entry}");
        assert_eq!(v["hash"], recorded["hash"], "{entry}");
        assert_eq!(v["publishedTime"], recorded["publishedTime"], "{entry}");
    }
}
