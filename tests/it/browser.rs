//! The browser harness (`regis::testing::check_site`, `search_finds`, `screenshot`) on a
//! small hand-made site shaped like the one `regis site build` writes: it passes the site
//! as made, finds a package by a prefix of its name, writes screenshots, and catches each
//! defect planted in a copy — so a site test that passes says something. Then the sites
//! `regis site build` makes, of the demo registry, of a package with tags and of the real
//! 673-package view.

use std::path::{Path, PathBuf};

use regis::testing::{self, Browser, check_site, search_finds};

/// A home page with a search box, one package page, one package-set page, a style sheet,
/// the search script and its index: readable, accessible, fetching nothing from elsewhere,
/// and under a strict Content Security Policy (which axe-core, injected, must get past).
fn good_site() -> tempfile::TempDir {
    let site = tempfile::tempdir().unwrap();
    let files: &[(&str, &str)] = &[
        (
            "index.html",
            r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'self'; img-src 'self' data:">
<title>A registry</title>
<link rel="icon" href="data:,">
<link rel="canonical" href="https://registry.example/">
<link rel="stylesheet" href="style.css">
<script src="search.js" defer></script>
</head>
<body>
<header><h1>A registry</h1></header>
<main>
<label for="search">Find a package</label>
<input id="search" type="search" autocomplete="off">
<ul id="search-results"></ul>
<h2 id="sets">Package sets</h2>
<ul><li><a href="sets/1.0.0.html">1.0.0</a></li></ul>
<p><a href="#sets">Jump to the sets</a>, or read
<a href="https://github.com/purescript/registry">where it comes from</a>.</p>
</main>
</body>
</html>
"##,
        ),
        (
            "search.js",
            r#"const input = document.getElementById('search');
const results = document.getElementById('search-results');
let packages = [];
function render() {
  const query = input.value.trim().toLowerCase();
  const found = query ? packages.filter(p => p.n.startsWith(query)) : [];
  results.replaceChildren(...found.map(p => {
    const item = document.createElement('li');
    const link = document.createElement('a');
    link.href = `packages/${p.n}.html`;
    link.textContent = `${p.n} ${p.v}`;
    item.append(link);
    return item;
  }));
}
input.addEventListener('input', render);
fetch('search.json').then(r => r.json()).then(list => { packages = list; render(); });
"#,
        ),
        (
            "search.json",
            r#"[{"n":"prelude","v":"6.0.1","d":"The PureScript prelude"},{"n":"arrays","v":"7.3.0","d":"Arrays"}]"#,
        ),
        (
            "style.css",
            "body { font-family: sans-serif; max-width: 50rem; margin: 0 auto; padding: 1rem; \
             color: #1a1a1a; background: #fff; }\na { color: #0645ad; }\n",
        ),
        (
            "packages/prelude.html",
            r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'self'; img-src 'self' data:">
<title>prelude</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="../style.css">
</head>
<body>
<main>
<h1>prelude 6.0.1</h1>
<p>The PureScript prelude. In package set <a href="../sets/1.0.0.html#prelude">1.0.0</a>.</p>
<p><a href="../index.html">All packages</a></p>
</main>
</body>
</html>
"#,
        ),
        (
            "sets/1.0.0.html",
            r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'self'; img-src 'self' data:">
<title>Package set 1.0.0</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="../style.css">
</head>
<body>
<main>
<h1>Package set 1.0.0</h1>
<table>
<thead><tr><th scope="col">Package</th><th scope="col">Version</th></tr></thead>
<tbody><tr id="prelude"><td><a href="../packages/prelude.html">prelude</a></td><td>6.0.1</td></tr></tbody>
</table>
<p><a href="../">All packages</a></p>
</main>
</body>
</html>
"#,
        ),
        // The generator's own state: never loaded as a page.
        (".regis-site/broken.html", "<a href=\"nowhere.html\">x</a>"),
    ];
    for (path, text) in files {
        let path = site.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    site
}

/// Replaces `from` with `to` in the site's file `page` (which must contain it).
fn plant(site: &Path, page: &str, from: &str, to: &str) {
    let path = site.join(page);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{page} has no `{from}`");
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// Where the screenshots of a test go: `target/site-screenshots/<name>/`, kept after the
/// run for a person (or CI's artifacts) to look at.
fn screenshots(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("site-screenshots")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The site as made passes: every page loaded (the generator's dot-directory left out),
/// every link leads to a file and every fragment to an element, axe-core finds nothing
/// serious; a prefix of a package's name, typed, lists it; and the screenshots of the home,
/// a package and a package-set page, on a desktop and on a phone, are PNGs.
#[test]
fn a_good_site_passes_its_search_finds_by_prefix_and_its_pages_are_screenshot() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let site = good_site();
    let shots = screenshots("harness");
    let check = check_site(&browser, site.path(), Some(&shots));
    assert_eq!(check.problems, Vec::<String>::new());
    assert_eq!(check.pages, 3);
    // style.css, search.js, the three pages and `../` (the home page again).
    assert_eq!(check.links, 6);

    search_finds(&browser, site.path(), "prel", "packages/prelude.html").unwrap();
    search_finds(&browser, site.path(), "a", "packages/arrays.html").unwrap();

    let mut written: Vec<String> = std::fs::read_dir(&shots)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(
        written,
        [
            "index-phone.png",
            "index.png",
            "packages-prelude-phone.png",
            "packages-prelude.png",
            "sets-1.0.0-phone.png",
            "sets-1.0.0.png",
        ]
    );
    for name in written {
        let png = std::fs::read(shots.join(&name)).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name} is not a PNG");
    }
}

/// Each defect planted in a copy of the good site is reported, naming the page and what is
/// wrong; a search whose index lacks the package fails.
#[test]
fn each_planted_defect_is_caught() {
    let Some(browser) = Browser::start() else {
        return;
    };
    // Another origin, on this machine: nothing listens there.
    let elsewhere = format!("https://127.0.0.1:{}", testing::free_port());
    let cases: Vec<(&str, &str, &str, String, Vec<&str>)> = vec![
        (
            "a broken internal link",
            "packages/prelude.html",
            "<p><a href=\"../index.html\">",
            "<p><a href=\"../packages/prelud.html\">".into(),
            vec![
                "packages/prelude.html: <a href> `../packages/prelud.html` leads nowhere: \
                 the site has no file `packages/prelud.html`",
            ],
        ),
        (
            "a link to an element that does not exist",
            "packages/prelude.html",
            "1.0.0.html#prelude",
            "1.0.0.html#prelud".into(),
            vec![
                "packages/prelude.html: a link `../sets/1.0.0.html#prelud` names no element \
                 `#prelud` on sets/1.0.0.html",
            ],
        ),
        (
            "a console error",
            "search.js",
            "let packages = [];",
            "let packages = []; console.error('the index is stale');".into(),
            vec!["index.html: console error: ", "the index is stale"],
        ),
        (
            "an uncaught exception",
            "search.js",
            "input.addEventListener",
            "undefinedFunction();\ninput.addEventListener".into(),
            vec![
                "index.html: console error: /search.js",
                "Uncaught ReferenceError: undefinedFunction is not defined",
            ],
        ),
        (
            "a missing image",
            "sets/1.0.0.html",
            "<h1>",
            "<img src=\"../logo.png\" alt=\"The registry's logo\"><h1>".into(),
            vec![
                "sets/1.0.0.html: <img src> `../logo.png` leads nowhere: the site has no file \
                 `logo.png`",
                "sets/1.0.0.html: console error: /logo.png - Failed to load resource",
            ],
        ),
        (
            "an inline script, which the site's CSP refuses",
            "index.html",
            "</main>",
            "</main>\n<script>document.title = 'changed';</script>".into(),
            vec![
                "index.html: console error: /index.html",
                "violates the following Content Security Policy directive",
            ],
        ),
        (
            "a script from another origin",
            "index.html",
            "</head>",
            format!("<script src=\"{elsewhere}/lib.js\"></script>\n</head>"),
            vec![
                "index.html: <script src> `https://127.0.0.1:",
                "loads from another origin",
            ],
        ),
        (
            "a style sheet fetching from another origin",
            "style.css",
            "background: #fff;",
            format!("background: #fff url({elsewhere}/paper.png);"),
            vec!["index.html: fetches `https://127.0.0.1:"],
        ),
        (
            "an image without a text alternative",
            "packages/prelude.html",
            "<h1>",
            "<img src=\"data:image/gif;base64,R0lGODlhAQABAAAAACw=\"><h1>".into(),
            vec![
                "packages/prelude.html: axe critical `image-alt`: Images must have alternative \
                 text (1 element, the first `img`)",
            ],
        ),
        (
            "a search box without a label",
            "index.html",
            "<label for=\"search\">Find a package</label>",
            String::new(),
            vec!["index.html: axe critical `label`: Form elements must have labels"],
        ),
    ];
    for (defect, page, from, to, expected) in cases {
        let site = good_site();
        plant(site.path(), page, from, &to);
        let check = check_site(&browser, site.path(), None);
        let problems = check.problems.join("\n");
        for part in expected {
            assert!(
                problems.contains(part),
                "{defect}: no problem says `{part}`; the problems:\n{problems}"
            );
        }
    }

    let site = good_site();
    plant(
        site.path(),
        "search.json",
        r#"{"n":"prelude","v":"6.0.1","d":"The PureScript prelude"},"#,
        "",
    );
    let error = search_finds(&browser, site.path(), "prel", "packages/prelude.html").unwrap_err();
    assert_eq!(
        error,
        "typing `prel` into #search listed [], no link ending in `packages/prelude.html`"
    );
}

/// `regis site build`'s output in the browser: every page loads with no console error,
/// every link leads to a file (and each `#v-<version>` to its version), nothing is fetched
/// from elsewhere, axe-core finds nothing serious or critical; a prefix of a package's
/// name finds it; the home page, a package page and a package-set page are screenshot (on
/// a desktop and a phone) into `target/site-screenshots/<name>/`.
fn check_built_site(browser: &Browser, site: &Path, shots: &str, package: &str, set: &str) {
    let check = check_site(browser, site, None);
    assert_eq!(check.problems, Vec::<String>::new());
    let html_files = testing::files_below(site)
        .into_iter()
        .filter(|p| !p.starts_with(regis::site::STATE_DIR))
        .filter(|p| p.extension().is_some_and(|e| e == "html"))
        .count();
    assert_eq!(check.pages, html_files);
    search_finds(
        browser,
        site,
        &package[..package.len().min(4)],
        &format!("packages/{package}.html"),
    )
    .unwrap();
    let dir = screenshots(shots);
    let server = testing::StaticServer::start(site);
    for (page, name) in [
        ("index.html".to_owned(), "home"),
        (format!("packages/{package}.html"), "package"),
        (format!("sets/{set}.html"), "package-set"),
    ] {
        for (viewport, suffix) in [
            (testing::Viewport::DESKTOP, ""),
            (testing::Viewport::PHONE, "-phone"),
        ] {
            let path = dir.join(format!("{name}{suffix}.png"));
            testing::screenshot(browser, &format!("{}{page}", server.url), &path, viewport)
                .unwrap();
            let png = std::fs::read(&path).unwrap();
            assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{}", path.display());
        }
    }
}

/// The demo registry's site (`regis demo`, whose last step builds it): four packages, two
/// package sets, signed releases.
#[test]
fn the_demo_registry_site_passes_in_a_browser() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let demo = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_regis"))
        .args(["demo", "--dir"])
        .arg(demo.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let site = demo.path().join("site");
    assert!(
        std::fs::read_to_string(site.join("packages/prelude.html"))
            .unwrap()
            .contains("signed TUF target matching metadata")
    );
    check_built_site(&browser, &site, "demo", "prelude", "0.2.0");
}

/// A package with tags, a yanked and an unpublished version and a deprecation: its page
/// (the tags among its facts, each linking the version it names) passes as every other.
#[test]
fn a_package_with_tags_passes_in_a_browser() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let t = super::site_client::registry();
    for (tag, version) in [("stable", "1.2.0"), ("next", "1.2.0")] {
        regis::operation::alias::alias(
            &t.ctx(),
            &super::tuf_fixture::signed(&format!(
                r#"{{"name":"a","alias":"{tag}","version":"{version}"}}"#
            )),
        )
        .unwrap();
    }
    let work = tempfile::tempdir().unwrap();
    let site = work.path().join("site");
    super::site_client::build(work.path(), &t.layout.registry, &site, &[]);
    let page = std::fs::read_to_string(site.join("packages/a.html")).unwrap();
    assert!(page.contains("<dt>Tags</dt>"), "{page}");
    let check = check_site(&browser, &site, None);
    assert_eq!(check.problems, Vec::<String>::new());
}

/// The site of the real 673-package registry view (with the real set 80.8.0 beside
/// 80.7.0, and the one real tarball the fixtures hold): every one of its 678 pages.
#[test]
fn the_real_registry_view_site_passes_in_a_browser() {
    let Some(fixtures) = testing::purescript_fixtures() else {
        return;
    };
    let Some(browser) = Browser::start() else {
        return;
    };
    let (work, _, built) = super::site::real_view_site(&fixtures);
    assert_eq!(built["pages"], 678);
    check_built_site(
        &browser,
        &work.path().join("site"),
        "real",
        "prelude",
        "80.8.0",
    );
}
