//! The files `regis init` lays down for GitHub (`index-template/registry/.github/`): the
//! YAML parses, and the workflows' git credential helper hands each repository its token
//! when libgit2 (what regis pushes with) asks.

use std::path::{Path, PathBuf};
use std::process::Command;

use regis::testing::skip;

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
    assert_eq!(files.len(), 8, "{files:?}");
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
    // The same regis release everywhere.
    let version = |text: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with("REGIS_VERSION:"))
            .map(str::to_owned)
    };
    assert_eq!(version(&pending), version(&issue));
    assert_eq!(version(&workflow("daily.yml")), version(&issue));
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
