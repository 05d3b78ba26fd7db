//! A real browser for the tests of the static web site `regis site build` writes: Debian's
//! Chromium, headless, driven through its ChromeDriver (`Browser`, killed on drop). Every
//! page of a site is loaded and checked — console errors, links that lead nowhere, fetches
//! from another origin, an axe-core accessibility run — by `check_site`; `search_finds`
//! types into the search box as a person would; `screenshot` writes what a page looks like
//! on a desktop and on a phone.
//!
//! Driven over the W3C WebDriver protocol, JSON over HTTP, with the reqwest, serde_json and
//! tokio regis already builds, rather than with a crate for it: the part used here is a
//! dozen endpoints. The CDP crates (chromiumoxide, headless_chrome) compile bindings for the
//! whole DevTools protocol into every test build; fantoccini, the well-kept WebDriver
//! client, brings Mozilla's `webdriver` crate and with it 16 crates more and second copies
//! of `http` and of the ICU crates (`cargo deny` warns of each), and would still need a
//! hand-written command for the one thing a site check reads most: ChromeDriver's console
//! log (`goog:loggingPrefs` and `/se/log`), where `console.error`, uncaught exceptions,
//! failed loads and CSP violations show at level SEVERE. ChromeDriver comes from the same
//! Debian source as the Chromium it drives, so the two always match.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

use super::StaticServer;

/// The axe-core `.ci/run` installs (pinned by hash) into `$CARGO_HOME/axe-core-<version>/`.
pub const AXE_VERSION: &str = "4.14.1";

/// The flags Chromium needs on a machine with no network but the package registries: no
/// sandbox (the tests run as root), no GPU, none of the background connections (updates,
/// sync, QUIC probes, Google's hosts) it would otherwise try at every start, and no shared
/// memory in `/dev/shm` (small in containers).
const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
];

/// W3C WebDriver's key for an element reference in JSON.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// One headless Chromium under its ChromeDriver, with one WebDriver session reused for
/// every page; the session, the browser and the driver end on drop.
pub struct Browser {
    driver: Child,
    /// `http://127.0.0.1:<port>/session/<id>`.
    session: String,
    http: reqwest::Client,
    runtime: tokio::runtime::Runtime,
    /// axe-core's `axe.min.js`, injected into each page checked.
    axe: String,
    /// Chromium's profile (`--user-data-dir`), fresh for each browser, and ChromeDriver's log.
    profile: tempfile::TempDir,
}

impl Browser {
    /// A browser, or `None` (through `testing::skip`) when Chromium, ChromeDriver or
    /// axe-core is not installed here (`.ci/run` installs all three).
    pub fn start() -> Option<Browser> {
        let (chromium, chromedriver, axe) =
            (on_path("chromium"), on_path("chromedriver"), axe_script());
        let (Some(chromium), Some(chromedriver), Some(axe)) = (&chromium, &chromedriver, &axe)
        else {
            let missing: Vec<&str> = [
                (chromium.is_none(), "chromium"),
                (
                    chromedriver.is_none(),
                    "chromedriver (Debian's chromium-driver)",
                ),
                (axe.is_none(), "axe-core (REGIS_AXE_JS)"),
            ]
            .into_iter()
            .filter_map(|(absent, what)| absent.then_some(what))
            .collect();
            super::skip(&format!(
                "the browser tests need {}, which `.ci/run` installs",
                missing.join(" and ")
            ));
            return None;
        };
        let axe = std::fs::read_to_string(axe)
            .unwrap_or_else(|e| panic!("cannot read axe-core at {}: {e}", axe.display()));
        // A port taken between `free_port` and ChromeDriver's bind, or a Chromium that
        // does not come up once, is tried again on a fresh port with a fresh profile.
        let mut failures = Vec::new();
        for _ in 0..3 {
            match Browser::launch(chromium, chromedriver, &axe) {
                Ok(browser) => return Some(browser),
                Err(e) => {
                    eprintln!("chromedriver could not start chromium, trying again: {e}");
                    failures.push(e);
                }
            }
        }
        panic!(
            "chromedriver could not start chromium:\n{}",
            failures.join("\n")
        );
    }

    /// ChromeDriver on a free port, and a session on a Chromium it starts.
    fn launch(chromium: &Path, chromedriver: &Path, axe: &str) -> Result<Browser, String> {
        let profile = tempfile::Builder::new()
            .prefix("regis-chromium-")
            .tempdir()
            .unwrap();
        let log = profile.path().join("chromedriver.log");
        // Plain HTTP to 127.0.0.1 only, but reqwest wants a TLS provider to build: ring's,
        // as everywhere in regis (a provider installed stays).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(300))
            .build()
            .expect("an HTTP client builds");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime builds");
        let port = super::free_port();
        // Its own process group, so that drop can end Chromium's processes with it even
        // when the session does not close.
        let driver = std::os::unix::process::CommandExt::process_group(
            Command::new(chromedriver)
                .arg(format!("--port={port}"))
                .arg(format!("--log-path={}", log.display()))
                .arg("--log-level=WARNING")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
            0,
        )
        .spawn()
        .expect("chromedriver runs");
        // From here on, returning or panicking drops the browser, which ends the driver.
        let mut browser = Browser {
            driver,
            session: String::new(),
            http,
            runtime,
            axe: axe.to_owned(),
            profile,
        };
        if !super::wait_until_listening(&mut browser.driver, port) {
            return Err(format!("chromedriver did not listen on 127.0.0.1:{port}"));
        }
        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|f| f.to_string()).collect();
        args.push(format!(
            "--user-data-dir={}",
            browser.profile.path().display()
        ));
        args.push("--window-size=1280,900".into());
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": args},
            "goog:loggingPrefs": {"browser": "ALL"},
            "timeouts": {"script": 120_000, "pageLoad": 60_000, "implicit": 0},
        }}});
        let url = format!("http://127.0.0.1:{port}/session");
        let created = browser.request(reqwest::Method::POST, &url, Some(capabilities));
        let id = match created.as_ref().map(|v| v["sessionId"].as_str()) {
            Ok(Some(id)) => id.to_owned(),
            _ => {
                let log = std::fs::read_to_string(&log).unwrap_or_default();
                return Err(format!("no session: {created:?}\n{log}"));
            }
        };
        browser.session = format!("http://127.0.0.1:{port}/session/{id}");
        // A driver that found its port taken has exited, and what answered is another
        // test's (whose session drop closes again).
        if !matches!(browser.driver.try_wait(), Ok(None)) {
            return Err(format!(
                "chromedriver exited: 127.0.0.1:{port} is another's"
            ));
        }
        Ok(browser)
    }

    /// Opens `url` and waits for its `load` event.
    pub fn open(&self, url: &str) -> Result<(), String> {
        self.command(reqwest::Method::POST, "/url", json!({ "url": url }))
            .map(drop)
    }

    /// Runs `script` (a function body; `arguments` are `args`) in the page and returns
    /// what it returns, a promise's value once it settles.
    pub fn execute(&self, script: &str, args: Value) -> Result<Value, String> {
        self.command(
            reqwest::Method::POST,
            "/execute/sync",
            json!({"script": script, "args": args}),
        )
    }

    /// The console messages at level SEVERE since the last call: errors logged, uncaught
    /// exceptions, resources that failed to load, CSP violations.
    pub fn console_errors(&self) -> Result<Vec<String>, String> {
        let entries = self.command(reqwest::Method::POST, "/se/log", json!({"type": "browser"}))?;
        Ok(entries
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["level"] == "SEVERE")
            .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
            .collect())
    }

    /// Types `text` into the element `css` selects, key by key (each key's events fire,
    /// and the `input` event after each), as a person typing would.
    pub fn type_into(&self, css: &str, text: &str) -> Result<(), String> {
        let element = self.command(
            reqwest::Method::POST,
            "/element",
            json!({"using": "css selector", "value": css}),
        )?;
        let id = element[ELEMENT_KEY]
            .as_str()
            .ok_or_else(|| format!("no element `{css}`"))?;
        self.command(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            json!({ "text": text }),
        )
        .map(drop)
    }

    /// The viewport as a PNG.
    fn screenshot_png(&self) -> Result<Vec<u8>, String> {
        let value = self.command(reqwest::Method::GET, "/screenshot", Value::Null)?;
        base64::engine::general_purpose::STANDARD
            .decode(value.as_str().unwrap_or_default())
            .map_err(|e| format!("the screenshot is not base64: {e}"))
    }

    /// A Chrome DevTools Protocol command through ChromeDriver (device emulation).
    fn devtools(&self, cmd: &str, params: Value) -> Result<Value, String> {
        self.command(
            reqwest::Method::POST,
            "/goog/cdp/execute",
            json!({"cmd": cmd, "params": params}),
        )
    }

    /// A WebDriver command on this browser's session (`path` after `/session/<id>`).
    fn command(&self, method: reqwest::Method, path: &str, body: Value) -> Result<Value, String> {
        let url = format!("{}{path}", self.session);
        let body = (method != reqwest::Method::GET).then_some(body);
        self.request(method, &url, body)
    }

    /// One WebDriver request: its `value`, or the error it names.
    fn request(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        self.runtime.block_on(async {
            let mut request = self.http.request(method, url);
            if let Some(body) = body {
                request = request
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.to_string());
            }
            let response = request.send().await.map_err(|e| e.to_string())?;
            let status = response.status();
            let bytes = response.bytes().await.map_err(|e| e.to_string())?;
            let mut answer: Value = serde_json::from_slice(&bytes)
                .map_err(|e| format!("chromedriver answered {status} with no JSON: {e}"))?;
            let value = answer["value"].take();
            if status.is_success() {
                Ok(value)
            } else {
                Err(format!(
                    "{}: {}",
                    value["error"].as_str().unwrap_or("error"),
                    value["message"].as_str().unwrap_or_default()
                ))
            }
        })
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Closing the session quits Chromium; killing the group ends whatever is left.
        if !self.session.is_empty() {
            let _ = self.command(reqwest::Method::DELETE, "", Value::Null);
        }
        if let Some(group) = rustix::process::Pid::from_raw(self.driver.id() as i32) {
            let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// The first `name` on `PATH`.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// `REGIS_AXE_JS`, else where `.ci/run` installs axe-core.
fn axe_script() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("REGIS_AXE_JS") {
        return Some(PathBuf::from(path)).filter(|p| p.is_file());
    }
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))?;
    Some(cargo_home.join(format!("axe-core-{AXE_VERSION}/axe.min.js"))).filter(|p| p.is_file())
}

/// A viewport a page is shown in.
#[derive(Debug, Clone, Copy)]
pub struct Viewport {
    pub width: u32,
    pub height: u32,
    /// A phone's: the page's `<meta name="viewport">` is honoured, touch is emulated.
    pub mobile: bool,
}

impl Viewport {
    /// A laptop's window.
    pub const DESKTOP: Viewport = Viewport {
        width: 1280,
        height: 900,
        mobile: false,
    };
    /// A phone's screen (an iPhone 12 to 15's, in CSS pixels).
    pub const PHONE: Viewport = Viewport {
        width: 390,
        height: 844,
        mobile: true,
    };
}

/// Writes a PNG of `url` as it shows in `viewport` to `path` (its directory made).
pub fn screenshot(
    browser: &Browser,
    url: &str,
    path: &Path,
    viewport: Viewport,
) -> Result<(), String> {
    browser.devtools(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": viewport.width, "height": viewport.height,
               "deviceScaleFactor": 1, "mobile": viewport.mobile}),
    )?;
    let png = browser.open(url).and_then(|()| browser.screenshot_png());
    browser.devtools("Emulation.clearDeviceMetricsOverride", json!({}))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, png?).map_err(|e| format!("{}: {e}", path.display()))
}

/// What `check_site` found.
#[derive(Debug, Default)]
pub struct SiteCheck {
    /// The `*.html` files loaded.
    pub pages: usize,
    /// The distinct same-origin URLs the pages link to or load (without their
    /// `#fragment`), each checked to name a file of the site.
    pub links: usize,
    /// One line each, `<page>: <what>`; empty when the site passed.
    pub problems: Vec<String>,
}

/// Loads every `*.html` file below `site_dir` (dot-directories left out), served on
/// 127.0.0.1, in `browser` and reports, page by page:
///
/// - console errors (level SEVERE: `console.error`, uncaught exceptions, failed loads, CSP
///   violations);
/// - every `a[href]`, `link[href]`, `script[src]`, `img[src]`, `iframe[src]` and
///   `source[src]` on the same origin that names no file of the site, and a `#fragment`
///   that names no `id` on the page it points to;
/// - anything fetched from another origin (the site fetches nothing from elsewhere: a link
///   to another site is a plain `<a href>`, or a `<link>` that loads nothing, such as
///   `canonical`);
/// - axe-core's violations of impact `serious` or `critical`, by rule, with the first
///   element's selector.
///
/// With `artifacts`, screenshots of the first page of each directory (its `index.html` if
/// it has one) on a desktop and on a phone go there, named after the page
/// (`packages-prelude.png`, `packages-prelude-phone.png`). Prints how long the pages took.
pub fn check_site(browser: &Browser, site_dir: &Path, artifacts: Option<&Path>) -> SiteCheck {
    let server = StaticServer::start(site_dir);
    let pages = html_pages(site_dir);
    let mut checker = Checker {
        browser,
        site_dir,
        root: &server.url,
        targets: BTreeMap::new(),
        fragments: Vec::new(),
        ids: HashMap::new(),
        times: Times::default(),
        problems: Vec::new(),
    };
    let _ = browser.console_errors();
    for page in &pages {
        checker.page(page);
    }
    checker.fragments();
    if let Some(dir) = artifacts {
        for page in first_of_each_directory(&pages) {
            checker.screenshots(page, dir);
        }
    }
    checker.times.report(pages.len());
    SiteCheck {
        pages: pages.len(),
        links: checker.targets.len(),
        problems: checker.problems,
    }
}

/// `check_site`'s state while it goes through a site's pages.
struct Checker<'a> {
    browser: &'a Browser,
    site_dir: &'a Path,
    /// The site's URL, `http://127.0.0.1:<port>/`.
    root: &'a str,
    /// Each same-origin URL linked to (without its fragment), and why it leads nowhere.
    targets: BTreeMap<String, Option<String>>,
    /// Each link with a fragment: the page, the link as written, the file and the fragment.
    fragments: Vec<(String, String, String, String)>,
    /// Each page's element ids.
    ids: HashMap<String, BTreeSet<String>>,
    times: Times,
    problems: Vec<String>,
}

impl Checker<'_> {
    /// A problem of `page`, the site's URL shortened to `/` in what it says.
    fn problem(&mut self, page: &str, what: String) {
        let what = what.replace(self.root, "/");
        self.problems.push(format!("{page}: {what}"));
    }

    /// Loads `page` and checks its links, what it fetched, axe-core's verdict and the
    /// console, in that order (the console last, so an error logged late is still its).
    fn page(&mut self, page: &str) {
        let started = Instant::now();
        let opened = self
            .browser
            .open(&format!("{}{}", self.root, url_path(page)));
        self.times.load += started.elapsed();
        if let Err(e) = opened {
            return self.problem(page, format!("does not load: {e}"));
        }
        let started = Instant::now();
        let found = self.browser.execute(COLLECT, json!([]));
        self.times.links += started.elapsed();
        match found {
            Ok(found) => self.links(page, &found),
            Err(e) => self.problem(page, format!("its links cannot be read: {e}")),
        }
        let started = Instant::now();
        let violations = axe_violations(self.browser);
        self.times.axe += started.elapsed();
        match violations {
            Ok(violations) => violations.into_iter().for_each(|v| self.problem(page, v)),
            Err(e) => self.problem(page, format!("axe-core failed: {e}")),
        }
        match self.browser.console_errors() {
            Ok(errors) => errors
                .into_iter()
                .for_each(|e| self.problem(page, format!("console error: {e}"))),
            Err(e) => self.problem(page, format!("its console cannot be read: {e}")),
        }
    }

    /// Checks what `COLLECT` found on `page`: each same-origin link names a file (each URL
    /// looked up once), nothing is loaded from another origin; fragments are noted for
    /// `fragments`, once every page's ids are known.
    fn links(&mut self, page: &str, found: &Value) {
        self.ids
            .insert(page.to_owned(), strings(&found["ids"]).collect());
        let mut fetched: BTreeSet<String> = BTreeSet::new();
        for link in found["links"].as_array().into_iter().flatten() {
            let kind = link["kind"].as_str().unwrap_or_default();
            let raw = link["raw"].as_str().unwrap_or_default();
            let Ok(resolved) = url::Url::parse(link["url"].as_str().unwrap_or_default()) else {
                self.problem(page, format!("{kind} `{raw}` is not a URL"));
                continue;
            };
            let fetches = link["fetches"].as_bool().unwrap_or(true);
            let mut bare = resolved.clone();
            bare.set_fragment(None);
            if fetches {
                fetched.insert(bare.to_string());
            }
            if !bare.as_str().starts_with(self.root) {
                // mailto:, data: and the like fetch nothing from anywhere.
                if fetches && matches!(bare.scheme(), "http" | "https") {
                    self.problem(page, format!("{kind} `{raw}` loads from another origin"));
                }
                continue;
            }
            let (site_dir, root) = (self.site_dir, self.root);
            let missing = self
                .targets
                .entry(bare.to_string())
                .or_insert_with(|| missing_file(site_dir, &bare, root))
                .clone();
            if let Some(missing) = missing {
                self.problem(page, format!("{kind} `{raw}` leads nowhere: {missing}"));
            } else if let Some(fragment) = resolved.fragment().filter(|f| !f.is_empty()) {
                let file = site_file(&bare, self.root);
                let link = (page.to_owned(), raw.to_owned(), file, fragment.to_owned());
                self.fragments.push(link);
            }
        }
        // What no element above names: a style sheet's `url(...)`, a script's `fetch`.
        for resource in strings(&found["resources"]) {
            if !resource.starts_with(self.root) && !fetched.contains(&resource) {
                self.problem(page, format!("fetches `{resource}` from another origin"));
            }
        }
    }

    /// Each link's `#fragment` names an element of the page it leads to (`#top` and the
    /// fragments of files that are not pages left alone).
    fn fragments(&mut self) {
        for (page, raw, file, fragment) in std::mem::take(&mut self.fragments) {
            let fragment = percent_decode(&fragment);
            let Some(ids) = self.ids.get(&file) else {
                continue;
            };
            if !ids.contains(&fragment) && !fragment.eq_ignore_ascii_case("top") {
                let what = format!("a link `{raw}` names no element `#{fragment}` on {file}");
                self.problem(&page, what);
            }
        }
    }

    /// `page` on a desktop and on a phone, into `dir` as `<page>.png` and
    /// `<page>-phone.png` (the page's path with `-` for `/`).
    fn screenshots(&mut self, page: &str, dir: &Path) {
        let url = format!("{}{}", self.root, url_path(page));
        let name = page.trim_end_matches(".html").replace('/', "-");
        for (viewport, suffix) in [(Viewport::DESKTOP, ""), (Viewport::PHONE, "-phone")] {
            let path = dir.join(format!("{name}{suffix}.png"));
            if let Err(e) = screenshot(self.browser, &url, &path, viewport) {
                self.problem(page, format!("no screenshot {}: {e}", path.display()));
            }
        }
    }
}

/// Opens the site's `index.html`, types `query` into `input#search` key by key and waits
/// up to 5 s for `#search-results` to hold a link whose URL ends with `expected`
/// (`packages/prelude.html`); else says what it listed and any console error.
pub fn search_finds(
    browser: &Browser,
    site_dir: &Path,
    query: &str,
    expected: &str,
) -> Result<(), String> {
    let server = StaticServer::start(site_dir);
    let _ = browser.console_errors();
    browser.open(&format!("{}index.html", server.url))?;
    browser.type_into("input#search", query)?;
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut listed;
    loop {
        let found = browser.execute(
            "return [...document.querySelectorAll('#search-results a')].map(a => a.href);",
            json!([]),
        )?;
        listed = strings(&found)
            .map(|href| href.replace(&server.url, "/"))
            .collect::<Vec<_>>();
        if listed.iter().any(|href| href.ends_with(expected)) || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut wrong = Vec::new();
    if !listed.iter().any(|href| href.ends_with(expected)) {
        wrong.push(format!(
            "typing `{query}` into #search listed {listed:?}, no link ending in `{expected}`"
        ));
    }
    let errors = browser.console_errors()?;
    if !errors.is_empty() {
        wrong.push(format!("console errors: {}", errors.join("; ")));
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(wrong.join("; ").replace(&server.url, "/"))
    }
}

/// Collects, in the page, every URL an element links to or loads (`kind` names the
/// element and attribute, `fetches` whether the browser loads it), every `id` (and
/// `<a name>`, which a fragment may name too), and every resource the page fetched.
const COLLECT: &str = r#"
const navigation = new Set(['alternate', 'author', 'bookmark', 'canonical', 'external',
  'help', 'license', 'me', 'next', 'nofollow', 'noopener', 'noreferrer', 'prev', 'search',
  'tag']);
const links = [];
const attributes = [['a', 'href'], ['area', 'href'], ['link', 'href'], ['script', 'src'],
  ['img', 'src'], ['iframe', 'src'], ['source', 'src']];
for (const [tag, attribute] of attributes) {
  for (const element of document.querySelectorAll(`${tag}[${attribute}]`)) {
    const raw = element.getAttribute(attribute);
    let fetches = tag !== 'a' && tag !== 'area';
    if (tag === 'link') {
      const rels = element.relList ? [...element.relList] : [];
      fetches = rels.length === 0 || rels.some(rel => !navigation.has(rel.toLowerCase()));
    }
    let url;
    try { url = new URL(raw, document.baseURI).href; } catch (e) { url = raw; }
    links.push({kind: `<${tag} ${attribute}>`, raw, url, fetches});
  }
}
const ids = [...document.querySelectorAll('[id]')].map(e => e.id)
  .concat([...document.querySelectorAll('a[name]')].map(e => e.name));
const resources = performance.getEntriesByType('resource').map(e => e.name);
return {links, ids, resources};
"#;

/// axe-core injected into the page and run on the whole document: one line per rule
/// violated with impact `serious` or `critical`.
fn axe_violations(browser: &Browser) -> Result<Vec<String>, String> {
    let run = r#"
return axe.run(document, {resultTypes: ['violations']}).then(results => results.violations
  .filter(v => v.impact === 'serious' || v.impact === 'critical')
  .map(v => ({id: v.id, impact: v.impact, help: v.help, count: v.nodes.length,
              target: v.nodes.length ? v.nodes[0].target.join(' ') : ''})));
"#;
    let script = format!("{}\n{run}", browser.axe);
    let found = browser.execute(&script, json!([]))?;
    Ok(found
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| {
            format!(
                "axe {} `{}`: {} ({} element{}, the first `{}`)",
                v["impact"].as_str().unwrap_or_default(),
                v["id"].as_str().unwrap_or_default(),
                v["help"].as_str().unwrap_or_default(),
                v["count"],
                if v["count"] == 1 { "" } else { "s" },
                v["target"].as_str().unwrap_or_default(),
            )
        })
        .collect())
}

/// The strings of a JSON array.
fn strings(value: &Value) -> impl Iterator<Item = String> + '_ {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
}

/// Every `*.html` file below `dir`, as `/`-separated paths relative to it, sorted; files
/// in directories whose name starts with `.` (the generator's own state) left out.
fn html_pages(dir: &Path) -> Vec<String> {
    let mut pages: Vec<String> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "html"))
        .map(|e| {
            let rel = e.path().strip_prefix(dir).unwrap();
            rel.components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect();
    pages.sort();
    pages
}

/// A page's URL path below the site's root, each segment percent-encoded.
fn url_path(page: &str) -> String {
    let mut url = url::Url::parse("http://127.0.0.1/").unwrap();
    url.path_segments_mut().unwrap().extend(page.split('/'));
    url.path()[1..].to_owned()
}

/// The site's file a same-origin URL (no fragment) names, relative to the site's root:
/// a directory's is its `index.html`, as static hosts serve it.
fn site_file(url: &url::Url, root: &str) -> String {
    let path = url.as_str()[root.len()..]
        .split(['?', '#'])
        .next()
        .unwrap_or_default();
    let path = percent_decode(path);
    if path.is_empty() || path.ends_with('/') {
        format!("{path}index.html")
    } else {
        path
    }
}

/// Why a same-origin URL leads nowhere, or `None` when it names a file of the site.
fn missing_file(site_dir: &Path, url: &url::Url, root: &str) -> Option<String> {
    let file = site_file(url, root);
    let path = site_dir.join(&file);
    if path.is_file() || path.join("index.html").is_file() {
        None
    } else {
        Some(format!("the site has no file `{file}`"))
    }
}

/// `%XX` escapes decoded (a URL's path or fragment as the site's files name it).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The first page of each directory, its `index.html` if it has one: one page of each kind
/// a generated site has (home, package, package set).
fn first_of_each_directory(pages: &[String]) -> Vec<&String> {
    let mut first: BTreeMap<&str, &String> = BTreeMap::new();
    for page in pages {
        let (dir, name) = page.rsplit_once('/').unwrap_or(("", page));
        let chosen = first.entry(dir).or_insert(page);
        if name == "index.html" {
            *chosen = page;
        }
    }
    first.into_values().collect()
}

/// Where `check_site`'s time went, added up over the pages.
#[derive(Default)]
struct Times {
    load: Duration,
    links: Duration,
    axe: Duration,
}

impl Times {
    fn report(&self, pages: usize) {
        let each = |d: Duration| d.as_millis() / pages.max(1) as u128;
        eprintln!(
            "check_site: {pages} pages; a page took {} ms to load, {} ms to read its links, \
             {} ms for axe-core ({} s in all)",
            each(self.load),
            each(self.links),
            each(self.axe),
            (self.load + self.links + self.axe).as_secs()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_path_and_its_file_name_round_trip() {
        assert_eq!(url_path("sets/1.0.0.html"), "sets/1.0.0.html");
        assert_eq!(url_path("a b/ü#.html"), "a%20b/%C3%BC%23.html");
        assert_eq!(percent_decode("a%20b/%C3%BC%23.html"), "a b/ü#.html");
        assert_eq!(percent_decode("100%"), "100%");
        let root = "http://127.0.0.1:1/";
        let file = |u: &str| site_file(&url::Url::parse(u).unwrap(), root);
        assert_eq!(file("http://127.0.0.1:1/"), "index.html");
        assert_eq!(file("http://127.0.0.1:1/sets/?q=1"), "sets/index.html");
        assert_eq!(file("http://127.0.0.1:1/a%20b/x.html"), "a b/x.html");
    }

    #[test]
    fn one_page_of_each_directory_is_screenshot() {
        let pages: Vec<String> = ["index.html", "packages/a.html", "packages/b.html"]
            .into_iter()
            .chain(["sets/0.9.0.html", "sets/index.html"])
            .map(str::to_owned)
            .collect();
        assert_eq!(
            first_of_each_directory(&pages),
            ["index.html", "packages/a.html", "sets/index.html"]
        );
    }
}
