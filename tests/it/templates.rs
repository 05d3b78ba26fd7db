//! The files `regis init` lays down for GitHub (`index-template/registry/.github/`): the
//! YAML parses, the workflows' git credential helper hands each repository its token
//! when libgit2 (what regis pushes with) asks, and their `install-regis` installs the
//! regis `regis init` wrote into them: a release binary only when its sha256 is the one
//! pinned, else a build from source.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use regis::testing::{free_port, skip, wait_until_listening};

fn github_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("index-template/registry/.github")
}

fn yaml_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(github_dir())
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    files.sort();
    files
}

#[test]
fn workflows_and_issue_forms_are_yaml() {
    let files = yaml_files();
    assert_eq!(files.len(), 12, "{files:?}");
    // No YAML crate is in the dependency tree; PyYAML checks the syntax where it exists.
    let has_pyyaml = Command::new("python3")
        .args(["-c", "import yaml"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_pyyaml {
        skip("python3 with PyYAML is absent (the YAML syntax check needs it)");
        return;
    }
    for file in &files {
        let out = Command::new("python3")
            .args([
                "-c",
                "import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); assert isinstance(d, dict)",
            ])
            .arg(file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn issue_forms_say_the_keys_github_requires() {
    for file in yaml_files()
        .iter()
        .filter(|p| p.parent().unwrap().ends_with("ISSUE_TEMPLATE"))
        .filter(|p| !p.ends_with("config.yml"))
    {
        let text = std::fs::read_to_string(file).unwrap();
        for key in ["name:", "description:", "body:"] {
            assert!(
                text.lines().any(|l| l.starts_with(key)),
                "{} lacks `{key}`",
                file.display()
            );
        }
    }
}

fn workflow(name: &str) -> String {
    std::fs::read_to_string(github_dir().join("workflows").join(name)).unwrap()
}

/// Issue runs share no concurrency group (GitHub keeps one waiting run in a group and
/// cancels the rest: in a burst, issues would go unanswered); what must not run twice at
/// once — the daily job, the pending-issues sweep — is serial with itself only.
#[test]
fn only_what_must_be_serial_shares_a_concurrency_group() {
    assert!(!workflow("process-issue.yml").contains("concurrency:"));
    for (name, group) in [
        ("daily.yml", "daily"),
        ("pending-issues.yml", "pending-issues"),
        ("site.yml", "site"),
    ] {
        let text = workflow(name);
        assert_eq!(text.matches("concurrency:").count(), 1, "{name}");
        assert!(
            text.contains(&format!(
                "concurrency:\n  group: {group}\n  cancel-in-progress: false\n"
            )),
            "{name}"
        );
    }
}

/// `process-issue --pending` runs after each issue run (the `workflow_run` names the issue
/// workflow as it is named) and on a schedule.
#[test]
fn pending_issues_run_after_each_issue_run_and_on_a_schedule() {
    let issue = workflow("process-issue.yml");
    let pending = workflow("pending-issues.yml");
    assert!(issue.contains("\nname: Process issue\n"));
    for needed in [
        "  workflow_run:\n    workflows: [\"Process issue\"]\n    types: [completed]\n",
        "  schedule:\n    - cron: ",
        "process-issue --pending --repo \"$GITHUB_REPOSITORY\"\n",
    ] {
        assert!(
            pending.contains(needed),
            "pending-issues.yml lacks {needed:?}"
        );
    }
}

/// The `REGIS_*` entries of a workflow's `env`, as (key, value without its quotes).
fn install_env(workflow: &str) -> Vec<(String, String)> {
    (workflow.lines())
        .filter_map(|l| l.strip_prefix("  REGIS_"))
        .map(|l| {
            let (key, value) = l.split_once(": ").unwrap();
            let value = value.strip_prefix('"').unwrap().strip_suffix('"').unwrap();
            (format!("REGIS_{key}"), value.to_owned())
        })
        .collect()
}

const WORKFLOWS: [&str; 4] = [
    "process-issue.yml",
    "pending-issues.yml",
    "daily.yml",
    "site.yml",
];

/// Each workflow installs regis with the one script, from the same `REGIS_*` entries (left
/// for `regis init` to fill in); none builds it by hand.
#[test]
fn every_workflow_installs_regis_with_install_regis() {
    for name in WORKFLOWS {
        let text = workflow(name);
        let keys: Vec<String> = install_env(&text).into_iter().map(|(k, _)| k).collect();
        assert_eq!(
            keys,
            [
                "REGIS_REPOSITORY",
                "REGIS_VERSION",
                "REGIS_COMMIT",
                "REGIS_SHA256"
            ],
            "{name}"
        );
        assert_eq!(
            text.matches("run: bash registry/.github/scripts/install-regis\n")
                .count(),
            1,
            "{name}"
        );
        // `cargo install` only in comments, as the from-source alternative.
        for line in text.lines().filter(|l| l.contains("cargo install")) {
            assert!(line.trim_start().starts_with('#'), "{name}: {line}");
        }
    }
}

/// What libgit2's credential-helper runner gets from the helper for `url`.
fn credentials_for(url: &str) -> Option<(String, String)> {
    let tmp = tempfile::tempdir().unwrap();
    let config_path = tmp.path().join("gitconfig");
    let script = github_dir().join("scripts/git-credential-regis");
    // The helper reads its tokens from the environment regis runs in.
    let helper = format!(
        "!INDEX_REPOSITORY=acme/index REGISTRY_PUSH_TOKEN=index-token GITHUB_TOKEN=registry-token sh {}",
        script.display()
    );
    std::fs::write(
        &config_path,
        format!(
            "[credential]\n\tuseHttpPath = true\n\thelper = \"{}\"\n",
            helper.replace('\\', "\\\\")
        ),
    )
    .unwrap();
    let config = git2::Config::open(&config_path).unwrap();
    git2::CredentialHelper::new(url).config(&config).execute()
}

#[test]
fn the_credential_helper_gives_each_repository_its_token() {
    let pair = |u: &str, p: &str| Some((u.to_owned(), p.to_owned()));
    assert_eq!(
        credentials_for("https://github.com/acme/index.git"),
        pair("x-access-token", "index-token")
    );
    assert_eq!(
        credentials_for("https://github.com/acme/index"),
        pair("x-access-token", "index-token")
    );
    assert_eq!(
        credentials_for("https://github.com/acme/registry"),
        pair("x-access-token", "registry-token")
    );
    // No token for another host or over plain http, whatever the path.
    for url in [
        "https://evil.example/acme/index.git",
        "http://github.com/acme/index.git",
        "https://github.com.evil.example/acme/registry",
    ] {
        assert_eq!(credentials_for(url), None, "{url}");
    }
}

/// A directory served over HTTP on 127.0.0.1 by python3's `http.server` (a 404 for what
/// it lacks), stopped on drop.
struct Served {
    child: Child,
    port: u16,
}

impl Served {
    fn dir(dir: &Path) -> Option<Served> {
        let port = free_port();
        let mut child = Command::new("python3")
            .args(["-m", "http.server", "--bind", "127.0.0.1", "--directory"])
            .arg(dir)
            .arg(port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        if !wait_until_listening(&mut child, port) {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        Some(Served { child, port })
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A stand-in for the release binary: a script that says its version as regis does.
fn fake_regis(version: &str) -> String {
    format!("#!/bin/sh\necho \"regis {version} (fake)\"\n")
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// A machine the install script runs on: a home, a bin dir, GITHUB_PATH, and a release
/// of regis 0.9.0 laid out as GitHub serves it
/// (`<repository>/releases/download/v0.9.0/<asset>`, with its SHA256SUMS).
struct Machine {
    tmp: tempfile::TempDir,
    served: Served,
}

const VERSION: &str = "0.9.0";
const ASSET: &str = "regis-0.9.0-x86_64-unknown-linux-musl";
const COMMIT: &str = "89abcdef0123456789abcdef0123456789abcdef";

impl Machine {
    fn new() -> Option<Machine> {
        let tmp = tempfile::tempdir().unwrap();
        let release = tmp.path().join("www/acme/regis/releases/download/v0.9.0");
        std::fs::create_dir_all(&release).unwrap();
        let binary = fake_regis(VERSION);
        std::fs::write(release.join(ASSET), &binary).unwrap();
        std::fs::write(
            release.join("SHA256SUMS"),
            format!("{}  {ASSET}\n", sha256_hex(binary.as_bytes())),
        )
        .unwrap();
        std::fs::create_dir_all(tmp.path().join("home")).unwrap();
        let Some(served) = Served::dir(&tmp.path().join("www")) else {
            skip("python3 (its http.server serves the fake release) is absent");
            return None;
        };
        Some(Machine { tmp, served })
    }

    fn repository(&self) -> String {
        format!("{}/acme/regis", self.served.url())
    }

    /// The sha256 the release's SHA256SUMS gives the binary.
    fn published_sha256(&self) -> String {
        let sums = std::fs::read_to_string(
            self.tmp
                .path()
                .join("www/acme/regis/releases/download/v0.9.0/SHA256SUMS"),
        )
        .unwrap();
        let line = sums.lines().find(|l| l.ends_with(ASSET)).unwrap();
        line.split_whitespace().next().unwrap().to_owned()
    }

    fn bin(&self) -> PathBuf {
        self.tmp.path().join("home/.local/bin")
    }

    fn github_path(&self) -> PathBuf {
        self.tmp.path().join("github_path")
    }

    /// `bash install-regis` with only `env` (and PATH, HOME, GITHUB_PATH) set, and
    /// `path_first` before PATH.
    fn install(&self, env: &[(&str, &str)], path_first: Option<&Path>) -> Output {
        let mut path = std::env::var_os("PATH").unwrap_or_default();
        if let Some(dir) = path_first {
            path = std::env::join_paths(
                std::iter::once(dir.to_path_buf()).chain(std::env::split_paths(&path)),
            )
            .unwrap();
        }
        Command::new("bash")
            .arg(github_dir().join("scripts/install-regis"))
            .env_clear()
            .env("PATH", path)
            .env("HOME", self.tmp.path().join("home"))
            .env("GITHUB_PATH", self.github_path())
            .envs(env.iter().copied())
            .output()
            .unwrap()
    }

    fn installed(&self) -> bool {
        self.bin().join("regis").exists()
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn install_regis_installs_the_release_binary_whose_sha256_is_pinned() {
    let Some(m) = Machine::new() else { return };
    let sha256 = m.published_sha256();
    let repository = m.repository();
    let out = m.install(
        &[
            ("REGIS_REPOSITORY", &repository),
            ("REGIS_VERSION", VERSION),
            ("REGIS_COMMIT", COMMIT),
            ("REGIS_SHA256", &sha256),
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let url = format!("{repository}/releases/download/v0.9.0/{ASSET}");
    assert_eq!(
        text(&out.stdout),
        format!(
            "downloading {url}\ninstalled regis 0.9.0 (fake) in {}\n",
            m.bin().display()
        )
    );
    // Installed, executable, on the next steps' PATH, and it runs.
    let run = Command::new(m.bin().join("regis")).output().unwrap();
    assert_eq!(text(&run.stdout), "regis 0.9.0 (fake)\n");
    assert_eq!(
        std::fs::read_to_string(m.github_path()).unwrap(),
        format!("{}\n", m.bin().display())
    );
}

#[test]
fn install_regis_downloads_from_releases_url_when_set() {
    let Some(m) = Machine::new() else { return };
    let sha256 = m.published_sha256();
    let releases = format!("{}/releases/download", m.repository());
    let out = m.install(
        &[
            ("REGIS_REPOSITORY", "https://github.invalid/acme/regis"),
            ("REGIS_RELEASES_URL", &releases),
            ("REGIS_VERSION", VERSION),
            ("REGIS_SHA256", &sha256),
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(m.installed());
}

#[test]
fn install_regis_installs_nothing_whose_sha256_is_not_the_pinned_one() {
    let Some(m) = Machine::new() else { return };
    let pinned = sha256_hex(b"another binary");
    let repository = m.repository();
    let out = m.install(
        &[
            ("REGIS_REPOSITORY", &repository),
            ("REGIS_VERSION", VERSION),
            ("REGIS_SHA256", &pinned),
            ("GITHUB_ACTIONS", "true"),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let message = format!(
        "{ASSET} from {repository}/releases/download/v0.9.0/{ASSET} has sha256 {}, not {pinned} (REGIS_SHA256): not installed",
        m.published_sha256()
    );
    assert_eq!(
        text(&out.stderr),
        format!("install-regis: error: {message}\n")
    );
    // The failure is an annotation on the run too.
    assert!(
        text(&out.stdout).ends_with(&format!("::error title=Install regis::{message}\n")),
        "{}",
        text(&out.stdout)
    );
    assert!(!m.installed());
    assert!(!m.github_path().exists());
}

#[test]
fn install_regis_fails_when_the_release_is_not_there() {
    let Some(m) = Machine::new() else { return };
    let sha256 = m.published_sha256();
    let repository = m.repository();
    let out = m.install(
        &[
            ("REGIS_REPOSITORY", &repository),
            ("REGIS_VERSION", "0.9.1"),
            ("REGIS_SHA256", &sha256),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("404"), "{stderr}");
    assert!(
        stderr.ends_with(&format!(
            "install-regis: error: could not download {repository}/releases/download/v0.9.1/regis-0.9.1-x86_64-unknown-linux-musl (is v0.9.1 released there?)\n"
        )),
        "{stderr}"
    );
    assert!(!m.installed());
}

#[test]
fn install_regis_says_what_is_missing() {
    let Some(m) = Machine::new() else { return };
    for (env, says) in [
        (
            vec![("REGIS_VERSION", VERSION)],
            "REGIS_REPOSITORY is empty: set it in the workflows' env to the URL of regis's repository (`regis init --regis-repository URL` writes it)",
        ),
        (
            vec![("REGIS_REPOSITORY", "https://x.invalid/regis")],
            "neither REGIS_SHA256 (a release) nor REGIS_COMMIT (a build from source) is set in the workflows' env",
        ),
        (
            vec![
                ("REGIS_REPOSITORY", "https://x.invalid/regis"),
                ("REGIS_VERSION", VERSION),
                ("REGIS_SHA256", "sha256-abc"),
            ],
            "REGIS_SHA256 `sha256-abc` is not a sha256: expected 64 lowercase hex digits",
        ),
    ] {
        let out = m.install(&env, None);
        assert_eq!(out.status.code(), Some(1), "{env:?}");
        assert_eq!(
            text(&out.stderr),
            format!("install-regis: error: {says}\n"),
            "{env:?}"
        );
        assert!(!m.installed());
    }
}

/// A `cargo` that records its arguments and "builds" a fake regis into `--root`.
fn fake_cargo(dir: &Path) -> PathBuf {
    let bin = dir.join("fake-cargo");
    std::fs::create_dir_all(&bin).unwrap();
    let script = format!(
        "#!/bin/sh\nprintf '%s\\n' \"$@\" >\"{log}\"\nwhile [ \"$1\" != --root ]; do shift; done\nmkdir -p \"$2/bin\"\nprintf '#!/bin/sh\\necho \"regis 0.9.0 (built)\"\\n' >\"$2/bin/regis\"\nchmod +x \"$2/bin/regis\"\n",
        log = dir.join("cargo-args").display()
    );
    let path = bin.join("cargo");
    std::fs::write(&path, script).unwrap();
    Command::new("chmod").arg("+x").arg(&path).status().unwrap();
    bin
}

/// `regis init` (a test build: no release) writes a build from source at its commit into
/// the workflows, and install-regis runs exactly that `cargo install`.
#[test]
fn regis_init_writes_a_build_from_source_that_install_regis_runs() {
    let Some(commit) = option_env!("REGIS_COMMIT_HASH") else {
        skip("regis was not built from a git checkout, so it knows no commit to build");
        return;
    };
    let Some(m) = Machine::new() else { return };
    let root = m.tmp.path().join("reg");
    let out = Command::new(env!("CARGO_BIN_EXE_regis"))
        .args(["--json", "init", "--regis-repository"])
        .arg("https://github.com/acme/regis.git")
        .arg(&root)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json["regis"],
        serde_json::json!({
            "install": "source",
            "repository": "https://github.com/acme/regis",
            "version": env!("CARGO_PKG_VERSION"),
            "commit": commit,
            "sha256": null,
        })
    );
    let written: Vec<Vec<(String, String)>> = WORKFLOWS
        .iter()
        .map(|name| {
            install_env(
                &std::fs::read_to_string(root.join("registry/.github/workflows").join(name))
                    .unwrap(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("REGIS_REPOSITORY", "https://github.com/acme/regis"),
        ("REGIS_VERSION", env!("CARGO_PKG_VERSION")),
        ("REGIS_COMMIT", commit),
        ("REGIS_SHA256", ""),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    assert_eq!(
        written,
        [
            expected.clone(),
            expected.clone(),
            expected.clone(),
            expected.clone()
        ]
    );

    let env: Vec<(&str, &str)> = expected
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let cargo = fake_cargo(m.tmp.path());
    let out = m.install(&env, Some(&cargo));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let args = std::fs::read_to_string(m.tmp.path().join("cargo-args")).unwrap();
    let args: Vec<&str> = args.lines().collect();
    assert_eq!(
        args[..6],
        [
            "install",
            "--locked",
            "--git",
            "https://github.com/acme/regis",
            "--rev",
            commit
        ]
    );
    assert_eq!(args[6], "--root");
    assert_eq!(args[8..], ["regis"]);
    let run = Command::new(m.bin().join("regis")).output().unwrap();
    assert_eq!(text(&run.stdout), "regis 0.9.0 (built)\n");
}

/// Without a repository URL (none built in, none given) `regis init` still lays the
/// registry down, warns that the workflows cannot install regis, and leaves the entries
/// empty, so their install step fails saying what is missing.
#[test]
fn regis_init_without_a_repository_url_warns() {
    if regis::init::default_repository().is_some() {
        skip("this regis has a built-in repository URL");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("reg");
    let out = Command::new(env!("CARGO_BIN_EXE_regis"))
        .arg("init")
        .arg(&root)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("warning: the workflows in ")
            && stderr.contains(
                "cannot install regis: the URL of regis's repository is unknown (`--regis-repository URL` gives it)"
            ),
        "{stderr}"
    );
    assert!(
        text(&out.stdout)
            .contains("  workflows      install nothing (the URL of regis's repository is unknown"),
        "{}",
        text(&out.stdout)
    );
    let env = install_env(
        &std::fs::read_to_string(root.join("registry/.github/workflows/daily.yml")).unwrap(),
    );
    assert_eq!(env[0], ("REGIS_REPOSITORY".to_owned(), String::new()));

    let bad = Command::new(env!("CARGO_BIN_EXE_regis"))
        .args(["init", "--regis-repository", "git@github.com:acme/regis"])
        .arg(tmp.path().join("other"))
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad.stderr));
    assert!(
        text(&bad.stderr)
            .contains("`--regis-repository git@github.com:acme/regis`: expected an `https://`"),
        "{}",
        text(&bad.stderr)
    );
    assert!(!tmp.path().join("other").exists());
}

/// The release script and the install script name the binary alike (and as
/// `regis::init::release_asset` does).
#[test]
fn the_release_and_the_install_script_name_the_binary_alike() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let build = std::fs::read_to_string(root.join(".ci/release-build")).unwrap();
    let install = std::fs::read_to_string(github_dir().join("scripts/install-regis")).unwrap();
    assert!(build.contains("\ntarget=x86_64-unknown-linux-musl\n"));
    assert!(build.contains("\nasset=regis-$version-$target\n"));
    assert!(install.contains("\n  asset=regis-$version-x86_64-unknown-linux-musl\n"));
    assert_eq!(
        regis::init::release_asset("1.0.0"),
        "regis-1.0.0-x86_64-unknown-linux-musl"
    );
}
