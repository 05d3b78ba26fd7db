//! Untrusted text cannot drive the GitHub Actions runner: a build-check hook's output, a
//! payload's ref or name, an event's fields, a file name in the registry — each carrying
//! `::add-mask::`, `::stop-commands::`, `::error::`, `##[…]`, CR and LF — pass through
//! every command (`process-issue`, `daily`, `package-set update`, `publish`, `transfer`,
//! `unpublish`, `check`), and no line of the binary's stdout or stderr is one the runner
//! would act on, but regis's own `::error title=regis::` annotation.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use regis::testing::{MockGitHub, TestRegistry};
use serde_json::json;

/// Workflow commands, each on a line of its own and every way the runner splits lines.
const HOSTILE: &str = "build log\n::add-mask::hidden\n  ::stop-commands::guess\r::error::forged\r\n\t::error title=regis::forged too\n\u{200b}::warning::zero width\nx ##[add-mask]v1 #\u{200b}#[set-output name=a]b\n";

/// What the runner acts on in `output`: each line (split at `\n`, `\r\n` and a lone `\r`)
/// that, past leading whitespace and characters its culture-sensitive comparison ignores,
/// starts with `::`, or that holds `##[`. A `::stop-commands::T` block is followed: lines
/// inside it are not acted on until `::T::`.
fn runner_commands(output: &str) -> Vec<String> {
    let ignorable = |c: char| c.is_whitespace() || c.is_control() || !c.is_ascii();
    let mut commands = Vec::new();
    let mut stopped: Option<String> = None;
    for line in output.split(['\n', '\r']) {
        let significant: String = line.chars().filter(|c| !ignorable(*c)).collect();
        let v2 = line.trim_start_matches(ignorable).starts_with("::");
        let v1 = significant.contains("##[");
        if !(v2 || v1) {
            continue;
        }
        let name = significant
            .trim_start_matches("::")
            .split([':', ' '])
            .next()
            .unwrap_or("")
            .to_owned();
        match &stopped {
            Some(token) if v2 && &name == token => stopped = None,
            Some(_) => {}
            None => {
                if v2 && name == "stop-commands" {
                    stopped = Some(significant.rsplit("::").next().unwrap_or("").to_owned());
                }
                commands.push(line.to_owned());
            }
        }
    }
    commands
}

/// Every line the runner would act on is regis's own annotation, at the start of its
/// line; and `shown`, part of what the hostile text carried, still reaches the log.
fn assert_inert(what: &str, out: &Output, shown: &str) {
    let mut all = String::new();
    for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        for command in runner_commands(&text) {
            assert!(
                command.starts_with("::error title=regis::"),
                "{what}: {stream} gives the runner `{command}`:\n{text}"
            );
        }
        all.push_str(&text);
    }
    assert!(all.contains(shown), "{what}: `{shown}` not in:\n{all}");
}

fn regis(t: &TestRegistry, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_regis"));
    cmd.arg("--registry")
        .arg(&t.layout.registry)
        .args(args)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_TOKEN", "ghs_untrusted_output")
        .env_remove("GITHUB_STEP_SUMMARY")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    if let Some(input) = stdin {
        use std::io::Write as _;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    child.wait_with_output().unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let file = dir.join(name);
    std::fs::write(&file, text).unwrap();
    file.to_str().unwrap().to_owned()
}

/// A build check that prints the hostile lines on stdout and stderr and fails.
fn hostile_build_check(t: &TestRegistry) -> String {
    let script = t.tmp.path().join("hostile.txt");
    std::fs::write(&script, HOSTILE).unwrap();
    format!(
        "cat '{}'; cat '{}' >&2; exit 1",
        script.display(),
        script.display()
    )
}

#[test]
fn the_checker_sees_what_the_runner_acts_on() {
    // The checker itself: each hostile line is a command to it, as to the runner, and the
    // runner stops acting on commands after `::stop-commands::`.
    assert_eq!(
        runner_commands(HOSTILE),
        ["::add-mask::hidden", "  ::stop-commands::guess"]
    );
    for line in HOSTILE.split(['\n', '\r']).skip(3) {
        let commands = runner_commands(line);
        assert_eq!(commands.len(), usize::from(!line.is_empty()), "{line:?}");
    }
    assert_eq!(
        runner_commands("::stop-commands::tok\n::add-mask::x\n::tok::\n::error::y\n"),
        ["::stop-commands::tok", "::error::y"]
    );
    assert!(runner_commands("plain\n  text :: here\n").is_empty());
}

#[test]
fn hook_output_cannot_give_commands_in_publish_package_set_and_daily() {
    let t = TestRegistry::new();
    t.release(&t.package("prelude", "1.0.0", &[]));
    t.release(&t.package("arrays", "1.0.0", &[("prelude", ">=1.0.0 <2.0.0")]));
    let first = write(
        t.tmp.path(),
        "first.json",
        r#"{"packages": {"prelude": "1.0.0"}}"#,
    );
    let out = regis(&t, &["package-set", "update", &first], None);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    // From here on, the build check prints the hostile lines and fails.
    let config = regis::config::Config {
        build_check: Some(hostile_build_check(&t)),
        ..t.config.clone()
    };
    rewrite_config(&t, &config);

    // publish: the failed build check's output is in the error on stderr.
    let effect = t.package("effect", "1.0.0", &[("prelude", ">=1.0.0 <2.0.0")]);
    t.push_source(&effect);
    let payload = write(
        t.tmp.path(),
        "effect.json",
        &serde_json::to_string(&effect.payload(true)).unwrap(),
    );
    let out = regis(&t, &["publish", &payload], None);
    assert_eq!(out.status.code(), Some(1));
    assert_inert("publish", &out, "\\::add-mask::hidden");

    // package-set update and daily: the refused change's reason quotes the output.
    let update = write(
        t.tmp.path(),
        "update.json",
        r#"{"packages": {"arrays": "1.0.0"}}"#,
    );
    for args in [
        vec!["package-set", "update", &update],
        vec!["package-set", "update", &update, "--dry-run"],
        vec!["--json", "package-set", "update", &update],
        vec!["daily"],
        vec!["daily", "--dry-run", "--json"],
    ] {
        let out = regis(&t, &args, None);
        assert_inert(&args.join(" "), &out, "forged");
    }
}

/// `regis.dhall` as `config` says (the hook commands change after `init`).
fn rewrite_config(t: &TestRegistry, config: &regis::config::Config) {
    let file = t.layout.registry.join(regis::config::CONFIG_FILE);
    std::fs::write(&file, config.to_dhall()).unwrap();
    t.registry
        .commit_change::<regis::git::GitError, _>("Configure the build check", 1, |_| {
            Ok(vec![file.clone()])
        })
        .unwrap();
}

#[test]
fn refs_names_and_payload_text_cannot_give_commands() {
    let t = TestRegistry::new();
    let p = t.package("prelude", "1.0.0", &[]);
    t.push_source(&p);
    let evil = "v1\n::add-mask::hidden\r::error::forged\r\n##[stop-commands]x";
    let mut payload = serde_json::to_value(p.payload(true)).unwrap();
    payload["ref"] = json!(evil);
    let by_ref = write(t.tmp.path(), "ref.json", &payload.to_string());
    payload["ref"] = json!("v1.0.0");
    payload["name"] = json!(evil);
    let by_name = write(t.tmp.path(), "name.json", &payload.to_string());
    let signed = |inner: serde_json::Value| {
        json!({"payload": inner.to_string(), "signature": "00"}).to_string()
    };
    let transfer = write(
        t.tmp.path(),
        "transfer.json",
        &signed(json!({"name": evil, "newLocation": {"githubOwner": "a", "githubRepo": "b"}})),
    );
    let unpublish = write(
        t.tmp.path(),
        "unpublish.json",
        &signed(json!({"name": "prelude", "version": evil, "reason": "r"})),
    );
    let update = write(
        t.tmp.path(),
        "update.json",
        &json!({"packages": {evil: "1.0.0"}}).to_string(),
    );
    let by_stdin = payload.to_string();
    for (args, stdin) in [
        (vec!["publish", by_ref.as_str()], None),
        (vec!["publish", by_name.as_str()], None),
        (vec!["publish", "-"], Some(by_stdin.as_str())),
        (vec!["transfer", transfer.as_str()], None),
        (vec!["unpublish", unpublish.as_str()], None),
        (vec!["package-set", "update", update.as_str()], None),
        (
            vec!["--json", "package-set", "update", update.as_str()],
            None,
        ),
        // Errors are JSON lines on stderr under `--json`.
        (vec!["--json", "publish", by_ref.as_str()], None),
        (vec!["--json", "transfer", transfer.as_str()], None),
    ] {
        let out = regis(&t, &args, stdin);
        assert_ne!(out.status.code(), Some(0), "{args:?}");
        // Shown on a line of its own made inert, or escaped onto one line (`text::echo`).
        assert_inert(&args.join(" "), &out, "::add-mask::hidden");
    }
}

#[test]
fn a_file_name_in_the_registry_cannot_give_commands_through_check() {
    let t = TestRegistry::new();
    t.release(&t.package("prelude", "1.0.0", &[]));
    let metadata = t.layout.registry.join("metadata");
    std::fs::copy(
        metadata.join("prelude.json"),
        metadata.join("x\n::add-mask::hidden\r::error::forged.json"),
    )
    .unwrap();
    for args in [vec!["check"], vec!["--json", "check"]] {
        let out = regis(&t, &args, None);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_inert(&args.join(" "), &out, "hidden");
    }
}

#[test]
fn events_and_issue_text_cannot_give_commands_through_process_issue() {
    let gh = MockGitHub::start();
    gh.accept_comments();
    let t = TestRegistry::with_github(&gh, |_| {});
    let config = regis::config::Config {
        build_check: Some(hostile_build_check(&t)),
        ..t.config.clone()
    };
    rewrite_config(&t, &config);
    let p = t.package("prelude", "1.0.0", &[]);
    t.push_source(&p);

    let event = |action: &str, body: &str, title: &str| {
        json!({
            "action": action,
            "issue": {
                "number": 7,
                "title": title,
                "body": body,
                "user": {"login": "someone\n::error::login"},
                "repository_url": "https://api.github.com/repos/test/registry",
            },
            "repository": {"full_name": "test/registry"},
            "sender": {"login": "someone"},
        })
        .to_string()
    };
    let publish = serde_json::to_string(&p.payload(true)).unwrap();
    let mut bad_ref = serde_json::to_value(p.payload(true)).unwrap();
    bad_ref["ref"] = json!("v9\n::add-mask::hidden\r::error::forged");
    for (what, json) in [
        (
            "an action",
            event("edited\n::add-mask::hidden\r::error::forged", "", "t"),
        ),
        ("hook output", event("opened", &publish, "t")),
        ("a ref", event("opened", &bad_ref.to_string(), "t")),
        (
            "a body",
            event(
                "opened",
                r#"{"name": "x\n::add-mask::hidden", "ref": "v1", "version": "1.0.0"}"#,
                "t",
            ),
        ),
    ] {
        let file = write(t.tmp.path(), "event.json", &json);
        let out = regis(&t, &["process-issue", "--event", &file], None);
        assert_inert(what, &out, "hidden");
    }
}
