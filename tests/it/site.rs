//! `regis site build`: the pages and the sparse index a registry's files make, through the
//! binary; a rebuild after one publish rewrites only what it changed; the verification
//! status of a signed registry; untrusted READMEs; the real 673-package registry view.
//! (The pages in a real browser: `browser.rs`.)

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use regis::testing::{self, TestRegistry};

use super::tuf_fixture;

/// `regis --json --registry <registry> site build <out> [args]`, which must succeed; its
/// JSON document.
pub(super) fn build(registry: &Path, out: &Path, args: &[&str]) -> serde_json::Value {
    let output = run(registry, out, args);
    assert!(
        output.status.success(),
        "site build failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn run(registry: &Path, out: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_regis"))
        .arg("--json")
        .arg("--registry")
        .arg(registry)
        .args(["site", "build"])
        .arg(out)
        .args(args)
        .output()
        .unwrap()
}

fn read(out: &Path, rel: &str) -> String {
    std::fs::read_to_string(out.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Every file of the site (but regis's own state) with its bytes.
fn snapshot(out: &Path) -> BTreeMap<PathBuf, (Vec<u8>, std::time::SystemTime)> {
    testing::files_below(out)
        .into_iter()
        .filter(|p| !p.starts_with(regis::site::STATE_DIR))
        .map(|p| {
            let full = out.join(&p);
            let modified = std::fs::metadata(&full).unwrap().modified().unwrap();
            (p, (std::fs::read(full).unwrap(), modified))
        })
        .collect()
}

/// A registry with `prelude` 1.0.0 and 1.1.0 (1.1.0 yanked), `effect` 1.0.0 depending on
/// it (deprecated for `prelude`), and a package set holding both.
pub(super) fn sample_registry() -> TestRegistry {
    let t = TestRegistry::new();
    t.release(&t.package("prelude", "1.0.0", &[]));
    t.release(&t.package("prelude", "1.1.0", &[]));
    t.release(&t.package("effect", "1.0.0", &[("prelude", ">=1.0.0 <2.0.0")]));
    t.registry
        .commit_change("Yank, deprecate, a set", t.config.push_retry(), |root| {
            edit_metadata(root, "prelude", |m| {
                m["yanked"] = serde_json::json!({"1.1.0": {"reason": "breaks `bind`", "time": "2026-03-01T00:00:00.000Z"}});
            });
            edit_metadata(root, "effect", |m| {
                m["deprecated"] = serde_json::json!({"alternative": "prelude", "message": "merged into prelude", "time": "2026-03-02T00:00:00.000Z"});
            });
            let set = serde_json::json!({
                "version": "1.0.0", "compiler": "0.15.15", "published": "2026-03-03",
                "packages": {"effect": "1.0.0", "prelude": "1.0.0"}
            });
            std::fs::create_dir_all(root.join("package-sets")).unwrap();
            std::fs::write(
                root.join("package-sets/1.0.0.json"),
                serde_json::to_string_pretty(&set).unwrap() + "\n",
            )
            .unwrap();
            Ok::<_, regis::git::GitError>(
                ["metadata/prelude.json", "metadata/effect.json", "package-sets/1.0.0.json"]
                    .map(PathBuf::from)
                    .to_vec(),
            )
        })
        .unwrap();
    t
}

/// `edit` applied to the metadata file of `name` in the registry checkout at `registry`.
fn edit_metadata(registry: &Path, name: &str, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = registry.join(format!("metadata/{name}.json"));
    let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edit(&mut m);
    std::fs::write(&path, serde_json::to_string_pretty(&m).unwrap() + "\n").unwrap();
}

#[test]
fn the_site_shows_each_package_its_versions_flags_dependants_and_sets() {
    let t = sample_registry();
    let site = tempfile::tempdir().unwrap();
    let out = site.path().join("site");
    let built = build(
        &t.layout.registry,
        &out,
        &[
            "--dl",
            "https://packages.example.org/{name}/{version}.tar.gz",
        ],
    );
    assert_eq!(built["packages"], 2);
    assert_eq!(built["versions"], 3);
    assert_eq!(built["packageSets"], 1);
    assert_eq!(built["pages"], 2 + 1 + 3);
    assert_eq!(built["readmesRead"], 2);
    assert_eq!(built["problems"], serde_json::json!([]));

    let prelude = read(&out, "packages/prelude.html");
    // Latest is the newest version not yanked; both versions listed, with the yank.
    assert!(prelude.contains(r#"<h1>prelude <span class="version">1.0.0</span></h1>"#));
    assert!(prelude.contains(r#"id="v-1.1.0""#) && prelude.contains(r#"id="v-1.0.0""#));
    assert!(prelude.contains("yanked: breaks `bind` (2026-03-01)"));
    // Dependants, the set holding it, the install snippet, the tarball and its hash.
    assert!(prelude.contains(r#"<li><a href="effect.html">effect</a></li>"#));
    assert!(prelude.contains(r#"<a href="../sets/1.0.0.html">1.0.0</a> (1.0.0)"#));
    assert!(prelude.contains("spago install prelude"));
    assert!(prelude.contains(
        r#"<a href="https://packages.example.org/prelude/1.0.0.tar.gz" rel="nofollow">prelude-1.0.0.tar.gz</a>"#
    ));
    let metadata: serde_json::Value =
        serde_json::from_str(&read(&t.layout.registry, "metadata/prelude.json")).unwrap();
    let hash = metadata["published"]["1.0.0"]["hash"].as_str().unwrap();
    assert!(prelude.contains(&format!(r#"<code class="hash">{hash}</code>"#)));
    assert!(prelude.contains("not signed: this registry has no TUF repository"));
    // The README of the latest release, rendered from its tarball.
    assert!(
        prelude.contains("<h1>prelude</h1>\n<p>A sample package.</p>"),
        "{prelude}"
    );

    let effect = read(&out, "packages/effect.html");
    assert!(
        effect
            .contains(r#"<a href="prelude.html">prelude</a> <code>&#62;=1.0.0 &#60;2.0.0</code>"#)
    );
    assert!(effect.contains("<strong>Deprecated</strong>"));
    assert!(effect.contains(r#"Use <a href="prelude.html">prelude</a> instead."#));

    let set = read(&out, "sets/1.0.0.html");
    assert!(set.contains("The first package set here."));
    assert!(set.contains(r#"<a href="../packages/effect.html#v-1.0.0">1.0.0</a>"#));

    let home = read(&out, "index.html");
    assert!(home.contains("2 packages, 3 versions, latest package set"));
    assert!(home.contains(r#"<input id="search" type="search""#));
    let search: serde_json::Value = serde_json::from_str(&read(&out, "search.json")).unwrap();
    assert_eq!(
        search,
        serde_json::json!([
            ["effect", "1.0.0", "A sample package"],
            ["prelude", "1.0.0", "A sample package"]
        ])
    );
    let feed = read(&out, "feed.xml");
    assert_eq!(feed.matches("<entry>").count(), 3);
    assert!(feed.contains("<link href=\"packages/effect.html#v-1.0.0\"/>"));

    // The sparse index: the registry's files byte for byte, and config.json.
    for (site_path, original) in [
        ("index/ef/fe/effect", t.layout.index.join("ef/fe/effect")),
        ("index/pr/el/prelude", t.layout.index.join("pr/el/prelude")),
        (
            "metadata/prelude.json",
            t.layout.registry.join("metadata/prelude.json"),
        ),
        (
            "package-sets/1.0.0.json",
            t.layout.registry.join("package-sets/1.0.0.json"),
        ),
    ] {
        assert_eq!(
            std::fs::read(out.join(site_path)).unwrap(),
            std::fs::read(original).unwrap(),
            "{site_path}"
        );
    }
    insta::assert_snapshot!(read(&out, "config.json"), @r#"
    {
      "dl": "https://packages.example.org/{name}/{version}.tar.gz",
      "formatVersion": 1,
      "index": "index/",
      "metadata": "metadata/",
      "name": "test",
      "packageSets": "package-sets/",
      "storage": "https://packages.example.org/",
      "tuf": false
    }
    "#);
    // No page fetches anything from elsewhere: no script, style or image but the site's.
    for page in testing::files_below(&out)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "html"))
    {
        let html = read(&out, page.to_str().unwrap());
        for attribute in [
            " src=\"http",
            "<img",
            "<link rel=\"stylesheet\" href=\"http",
        ] {
            assert!(!html.contains(attribute), "{}: {attribute}", page.display());
        }
    }
}

/// After one publish, the rebuild rewrites exactly the files whose bytes changed (the
/// package's page, its sparse index files, the lists and the feed); every other file
/// keeps its bytes and its modification time.
#[test]
fn a_rebuild_after_one_publish_rewrites_only_what_changed() {
    let t = sample_registry();
    let site = tempfile::tempdir().unwrap();
    let out = site.path().join("site");
    build(&t.layout.registry, &out, &[]);
    let again = build(&t.layout.registry, &out, &[]);
    assert_eq!(again["files"]["written"], 0, "{again}");
    assert_eq!(again["readmesRead"], 0, "READMEs come from the cache");
    let before = snapshot(&out);
    std::thread::sleep(std::time::Duration::from_millis(50));

    t.release(&t.package("effect", "1.1.0", &[("prelude", ">=1.0.0 <2.0.0")]));
    let built = build(&t.layout.registry, &out, &[]);
    let after = snapshot(&out);
    let changed: Vec<&Path> = after
        .iter()
        .filter(|(path, (bytes, _))| before.get(*path).is_none_or(|(old, _)| old != bytes))
        .map(|(path, _)| path.as_path())
        .collect();
    assert_eq!(
        changed,
        [
            "feed.xml",
            "index/ef/fe/effect",
            "index.html",
            "metadata/effect.json",
            "packages/effect.html",
            "packages.html",
            "search.json"
        ]
        .map(Path::new)
    );
    assert_eq!(built["files"]["written"], changed.len());
    assert_eq!(built["files"]["removed"], 0);
    assert_eq!(
        built["readmesRead"], 1,
        "only the new release's README is read"
    );
    for (path, (_, modified)) in &after {
        if !changed.contains(&path.as_path()) {
            assert_eq!(
                Some(modified),
                before.get(path).map(|(_, m)| m),
                "{} was rewritten with the same bytes",
                path.display()
            );
        }
    }

    // A package gone (its files removed from both checkouts) takes its files with it.
    std::fs::remove_file(t.layout.registry.join("metadata/effect.json")).unwrap();
    std::fs::remove_file(t.layout.index.join("ef/fe/effect")).unwrap();
    let built = build(&t.layout.registry, &out, &[]);
    assert_eq!(built["files"]["removed"], 3, "{built}");
    assert!(!out.join("packages/effect.html").exists());
    assert!(!out.join("index/ef").exists(), "emptied directories go too");
}

#[test]
fn a_directory_that_is_not_a_site_is_refused_and_left_alone() {
    let t = TestRegistry::new();
    // The registry checkout itself, say, by mistake.
    let output = run(&t.layout.registry, &t.layout.registry, &[]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let error: serde_json::Value = serde_json::from_str(stderr.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}: {stderr}"));
    assert_eq!(
        error["error"]["causes"][0].as_str().unwrap(),
        format!(
            "`{}` holds files and is not a site regis built (no `.regis-site/` in it): expected an empty or new directory, or an earlier build's output; a build removes the files it did not write",
            t.layout.registry.display()
        )
    );
    assert!(t.layout.registry.join("regis.dhall").is_file());
    assert!(t.registry.differences_from_head().is_empty());

    let out = tempfile::tempdir().unwrap();
    let output = run(
        &t.layout.registry,
        &out.path().join("site"),
        &["--dl", "https://x.example/{name}.tgz"],
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let error: serde_json::Value =
        serde_json::from_str(stderr.lines().last().unwrap_or_default()).unwrap();
    assert_eq!(
        error["error"]["causes"][0],
        "the download URL `https://x.example/{name}.tgz` is not a template with `{name}` and `{version}`: expected e.g. `https://packages.example.org/{name}/{version}.tar.gz`"
    );
}

/// A README is untrusted: scripts, event handlers, `javascript:` links and images (which
/// would fetch from elsewhere) do not reach the page.
#[test]
fn a_hostile_readme_is_sanitised() {
    let t = TestRegistry::new();
    let mut p = t.package("prelude", "1.0.0", &[]);
    let readme = "# Hi\n\n<script>alert(1)</script>\n<img src=x onerror=alert(1)>\n![tracker](https://evil.example/t.gif)\n<a href=\"javascript:alert(1)\">click</a>\n<iframe src=\"https://evil.example/\"></iframe>\n<style>body{display:none}</style>\n<form action=\"https://evil.example/\"><input name=q></form>\n";
    for (path, bytes) in &mut p.files {
        if path == "README.md" {
            *bytes = readme.as_bytes().to_vec();
        }
    }
    t.release(&p);
    let site = tempfile::tempdir().unwrap();
    let out = site.path().join("site");
    build(&t.layout.registry, &out, &[]);
    let page = read(&out, "packages/prelude.html");
    let readme = &page[page.find(r#"<div class="readme">"#).unwrap()..];
    let readme = &readme[..readme.find("</section>").unwrap()];
    insta::assert_snapshot!(readme, @r#"
    <div class="readme"><h1>Hi</h1>


    ![tracker](https://evil.example/t.gif)
    <a rel="nofollow noopener noreferrer">click</a>



    </div>
    "#);
}

/// A signed registry: each version's TUF target and publish atom are checked at build
/// time and the page says so; metadata edited after signing is named.
#[test]
fn the_verification_status_of_a_signed_registry_is_checked_at_build_time() {
    let tuf = tuf_fixture::adopted();
    tuf.release("prelude", "1.1.0");
    let site = tempfile::tempdir().unwrap();
    let out = site.path().join("site");
    let built = build(&tuf.t.layout.registry, &out, &[]);
    assert_eq!(built["problems"], serde_json::json!([]));
    let page = read(&out, "packages/prelude.html");
    assert_eq!(
        page.matches("signed TUF target matching metadata; publish atom ")
            .count(),
        2,
        "{page}"
    );
    assert_eq!(
        page.matches("verified on the package&#39;s chain").count(),
        2
    );
    assert!(read(&out, "config.json").contains("\"tuf\": true"));

    // Metadata edited by hand after signing: the page and the build name it.
    edit_metadata(&tuf.t.layout.registry, "prelude", |m| {
        m["published"]["1.1.0"]["bytes"] = serde_json::json!(1);
    });
    let built = build(&tuf.t.layout.registry, &out, &[]);
    let problems = built["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{built}");
    let problem = tuf_fixture::redact(problems[0].as_str().unwrap(), &[]);
    assert!(
        problem.starts_with("`prelude@1.1.0`: its signed target records another tarball ("),
        "{problem}"
    );
    assert!(
        problem.contains(" bytes) than metadata (1 bytes, `sha256-"),
        "{problem}"
    );
    let page = read(&out, "packages/prelude.html");
    assert!(page.contains(
        r#"<dd class="status bad">did not verify: its signed target records another tarball"#
    ));
}

/// The real 673-package registry view built into `<tempdir>/site`, with the next real
/// package set (80.8.0) beside its latest and the one real tarball the fixtures hold
/// (`type-equality@4.0.1`) in storage: the tempdir, the registry copy, and the build's
/// JSON document.
pub(super) fn real_view_site(fixtures: &Path) -> (tempfile::TempDir, PathBuf, serde_json::Value) {
    let samples = fixtures.join("package-set-samples");
    let work = tempfile::tempdir().unwrap();
    let registry = work.path().join("registry");
    testing::copy_dir(&samples.join("registry"), &registry);
    std::fs::copy(
        samples.join("80.8.0.json"),
        registry.join("package-sets/80.8.0.json"),
    )
    .unwrap();
    let storage = work.path().join("storage");
    std::fs::create_dir_all(storage.join("type-equality")).unwrap();
    std::fs::copy(
        fixtures.join("sources/type-equality-4.0.1/real.tar.gz"),
        storage.join("type-equality/4.0.1.tar.gz"),
    )
    .unwrap();
    let built = build(
        &registry,
        &work.path().join("site"),
        &[
            "--index",
            samples.join("index").to_str().unwrap(),
            "--storage",
            storage.to_str().unwrap(),
        ],
    );
    (work, registry, built)
}

/// The real 673-package registry view, with the next real package set beside its latest
/// and the one real tarball the fixtures hold in storage: every package and set has its
/// page, the set page lists what changed, and the real README renders.
#[test]
fn the_real_registry_view_builds() {
    let Some(fixtures) = testing::purescript_fixtures() else {
        return;
    };
    let (work, registry, built) = real_view_site(&fixtures);
    let samples = fixtures.join("package-set-samples");
    let out = work.path().join("site");
    assert_eq!(built["packages"], 673);
    assert_eq!(built["versions"], 3957);
    assert_eq!(built["packageSets"], 2);
    assert_eq!(built["pages"], 673 + 2 + 3);
    let metadata = testing::files_below(&registry.join("metadata"));
    assert_eq!(metadata.len(), 673);
    for file in &metadata {
        let name = file.file_stem().unwrap().to_str().unwrap();
        assert!(
            out.join(format!("packages/{name}.html")).is_file(),
            "{name}"
        );
        assert_eq!(
            std::fs::read(out.join("metadata").join(file)).unwrap(),
            std::fs::read(registry.join("metadata").join(file)).unwrap()
        );
    }
    let set = read(&out, "sets/80.8.0.html");
    assert!(
        set.contains(r#"From <a href="80.7.0.html">80.7.0</a>"#),
        "{set}"
    );
    let update: serde_json::Value = serde_json::from_slice(
        &std::fs::read(samples.join("update-80.7.0-to-80.8.0.json")).unwrap(),
    )
    .unwrap();
    for (name, version) in update["packages"].as_object().unwrap() {
        let row_start = format!(r#"<a href="../packages/{name}.html">{name}</a></td><td>"#);
        let row = set
            .find(&row_start)
            .map(|i| &set[i + row_start.len()..])
            .and_then(|rest| rest.split("</td>").next())
            .unwrap_or_else(|| panic!("{name} is not among the changes"));
        match version.as_str() {
            Some(v) => assert!(row.ends_with(v), "{name}: {row}"),
            None => assert!(row.starts_with("removed"), "{name}: {row}"),
        }
    }
    let type_equality = read(&out, "packages/type-equality.html");
    assert!(
        type_equality.contains(r#"<div class="readme">"#),
        "{type_equality}"
    );
    let prelude = read(&out, "packages/prelude.html");
    let versions: serde_json::Value =
        serde_json::from_slice(&std::fs::read(registry.join("metadata/prelude.json")).unwrap())
            .unwrap();
    for version in versions["published"].as_object().unwrap().keys() {
        assert!(
            prelude.contains(&format!(r#"id="v-{version}""#)),
            "{version}"
        );
    }
}

/// Past 2,000 packages, `packages.html` links a page per initial instead of listing every
/// package itself, and each initial's page lists the packages starting with it.
#[test]
fn a_large_registry_lists_its_packages_a_page_per_initial() {
    let work = tempfile::tempdir().unwrap();
    let (registry, index) = (work.path().join("registry"), work.path().join("index"));
    let names = (0..1001)
        .map(|i| format!("a-{i:04}"))
        .chain((0..1000).map(|i| format!("b-{i:04}")));
    for name in names {
        let metadata = serde_json::json!({
            "location": {"githubOwner": "synth", "githubRepo": name},
            "published": {"1.0.0": {
                "bytes": 100, "compilers": ["0.15.15"], "hash": format!("sha256-{}=", "A".repeat(43)),
                "publishedTime": "2026-01-01T00:00:00.000Z", "ref": ""
            }},
            "unpublished": {}
        });
        let line = serde_json::json!({
            "name": name, "version": "1.0.0", "license": "MIT",
            "location": {"githubOwner": "synth", "githubRepo": name}, "ref": "v1.0.0",
            "dependencies": {}
        });
        let file = registry.join(format!("metadata/{name}.json"));
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(
            file,
            serde_json::to_string_pretty(&metadata).unwrap() + "\n",
        )
        .unwrap();
        let file = index.join(regis::index::entry_path(&name.parse().unwrap()));
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, line.to_string() + "\n").unwrap();
    }
    let out = work.path().join("site");
    let built = build(&registry, &out, &["--index", index.to_str().unwrap()]);
    assert_eq!(built["packages"], 2001);
    assert_eq!(built["pages"], 2001 + 2 + 1 + 2, "{built}");
    let list = read(&out, "packages.html");
    assert!(
        list.contains("<p>2001 packages, by their first letter:</p>"),
        "{list}"
    );
    assert!(
        list.contains(r#"<li><a href="browse/a.html">a</a> (1001)</li>"#),
        "{list}"
    );
    assert!(
        list.contains(r#"<li><a href="browse/b.html">b</a> (1000)</li>"#),
        "{list}"
    );
    assert!(!list.contains("packages/a-0000.html"));
    let a = read(&out, "browse/a.html");
    assert_eq!(a.matches(r#"<li><a href="../packages/a-"#).count(), 1001);
    assert!(a.contains("<h1>Packages starting with a</h1>"));
    assert!(!a.contains("packages/b-0000.html"));
    assert!(
        read(&out, "browse/b.html").contains(r#"<a href="../packages/b-0999.html">b-0999</a>"#)
    );
}
