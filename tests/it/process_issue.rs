//! `regis process-issue` as GitHub Actions runs it: the real events in
//! `../shared/fixtures/purescript/events/` (and events made from them) against a local
//! HTTP server speaking the GitHub REST API (wiremock). Asserts the exact comments posted,
//! the close call, the exit status, the annotations and step summary, and that refusals
//! change nothing. The `real_*` tests skip without the shared fixtures.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use regis::schema::{Location, Owner};
use regis::testing::{self, MockGitHub, TestRegistry, commits_on, ssh_keygen};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, ResponseTemplate};

const TOKEN: &str = "ghs_process_issue_token";

/// A mock GitHub that accepts comments and closes, and knows one trustee.
fn github() -> MockGitHub {
    let gh = MockGitHub::start();
    gh.mount(
        Mock::given(method("POST"))
            .and(path_regex(r"^/repos/[^/]+/[^/]+/issues/\d+/comments$"))
            .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 1}))),
    );
    gh.mount(
        Mock::given(method("PATCH"))
            .and(path_regex(r"^/repos/[^/]+/[^/]+/issues/\d+$"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"state": "closed"}))),
    );
    gh.mount(
        Mock::given(method("GET"))
            .and(path(
                "/orgs/purescript/teams/trustees/memberships/a-trustee",
            ))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"state": "active", "role": "member"})),
            ),
    );
    gh.mount(
        Mock::given(method("GET"))
            .and(path_regex(r"^/orgs/purescript/teams/trustees/memberships/"))
            .respond_with(
                ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"})),
            ),
    );
    gh
}

fn registry(gh: &MockGitHub, edit: impl FnOnce(&mut regis::config::Config)) -> TestRegistry {
    let api = gh.uri();
    TestRegistry::with_config(|c| {
        c.github_api_url = regis::config::BaseUrl::api(&api).unwrap();
        c.trustee_team = Some("purescript/trustees".parse().unwrap());
        edit(c);
    })
}

/// What one run did: exit code, stdout, the comments posted (in order), whether the
/// issue was closed, and the step summary.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    comments: Vec<String>,
    closed: bool,
    summary: String,
}

fn process(t: &TestRegistry, gh: &MockGitHub, event: &Path, env: &[(&str, &str)]) -> Run {
    let summary = t.tmp.path().join("step-summary.md");
    let _ = std::fs::remove_file(&summary);
    let before = gh.received().len();
    let out: Output = Command::new(env!("CARGO_BIN_EXE_regis"))
        .args([
            "--registry",
            t.layout.registry.to_str().unwrap(),
            "process-issue",
        ])
        .arg("--event")
        .arg(event)
        .env("GITHUB_TOKEN", TOKEN)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env_remove("GITHUB_SERVER_URL")
        .env_remove("REGIS_BOT_KEY")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let requests = gh.received().split_off(before);
    let comments = requests
        .iter()
        .filter(|r| r.method.as_str() == "POST")
        .map(|r| {
            let body: Value = serde_json::from_slice(&r.body).unwrap();
            body["body"].as_str().unwrap().to_owned()
        })
        .collect();
    let closed = requests.iter().any(|r| {
        r.method.as_str() == "PATCH"
            && serde_json::from_slice::<Value>(&r.body).unwrap() == json!({"state": "closed"})
    });
    let run = Run {
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
        comments,
        closed,
        summary: std::fs::read_to_string(&summary).unwrap_or_default(),
    };
    let all = format!("{}{}{}", run.stdout, run.stderr, run.summary);
    assert!(!all.contains(TOKEN), "the token was printed: {all}");
    run
}

/// A real event with its body (or its comment's body) replaced, and its author.
fn event_from(real: &Path, dir: &Path, body: &str, author: &str) -> PathBuf {
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(real).unwrap()).unwrap();
    match event.get_mut("comment") {
        Some(comment) => comment["body"] = json!(body),
        None => event["issue"]["body"] = json!(body),
    }
    event["sender"]["login"] = json!(author);
    let file = dir.join(format!("event-{}.json", rand_name(body)));
    std::fs::write(&file, serde_json::to_string(&event).unwrap()).unwrap();
    file
}

fn rand_name(body: &str) -> String {
    regis::schema::Sha256::of(body.as_bytes()).to_string()[7..19].replace(['/', '+'], "_")
}

fn events() -> Option<PathBuf> {
    Some(testing::purescript_fixtures()?.join("events"))
}

#[test]
fn real_addition_event_is_answered_with_the_refusal_and_left_open() {
    let Some(events) = events() else { return };
    let gh = github();
    let t = registry(&gh, |_| {});
    // The package the event asks for, at the tag it names.
    let p = regis::sample::SamplePackage::new(
        "prelude",
        "5.0.0",
        Location::github("purescript", "purescript-prelude", None).unwrap(),
        &[],
    );
    p.commit_to(
        &t.tmp
            .path()
            .join("github/purescript/purescript-prelude.git"),
    )
    .unwrap();
    let before = t.remote_heads();
    let run = process(&t, &gh, &events.join("addition_issue_created.json"), &[]);
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    assert!(!run.closed);
    assert_eq!(run.comments.len(), 2, "{:?}", run.comments);
    assert_eq!(
        run.comments[0],
        "Working on the publish of `prelude@5.0.0`, as requested by @Codertocat.\n\n<!-- regis:working body -->\n"
    );
    insta::assert_snapshot!("addition_refused_comment", run.comments[1]);
    assert!(
        run.stdout
            .contains("::error title=regis::the publish of `prelude@5.0.0` failed: "),
        "{}",
        run.stdout
    );
    // The step summary has the comment, without its marker.
    assert_eq!(
        Some(run.summary.as_str()),
        run.comments[1].strip_suffix("<!-- regis:answered body -->\n")
    );
    assert_eq!(t.remote_heads(), before);
    assert!(t.stored().is_empty());
}

#[test]
fn real_comment_event_reads_the_fenced_payload() {
    let Some(events) = events() else { return };
    let gh = github();
    let t = registry(&gh, |_| {});
    let run = process(&t, &gh, &events.join("update_issue_comment.json"), &[]);
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.comments,
        [
            "Working on the publish of `something@1.2.3`, as requested by @Codertocat.\n\n<!-- regis:working comment 793265839 -->\n",
            "**Failed**: the publish of `something@1.2.3` failed.\n\n```text\npackage `something` is not in the registry yet: the first publish must give a `location`\n```\n\nComment on this issue with a corrected payload to try again.\n\n<!-- regis:answered comment 793265839 -->\n",
        ]
    );
    assert!(!run.closed);
    assert!(
        gh.received().iter().all(|r| r
            .url
            .path()
            .starts_with("/repos/purescript/registry/issues/43")),
        "answers go to the issue the comment is on"
    );
}

#[test]
fn real_package_set_event_from_a_non_trustee() {
    let Some(events) = events() else { return };
    let gh = github();
    let t = registry(&gh, |_| {});
    let before = t.remote_heads();
    let run = process(
        &t,
        &gh,
        &events.join("package-set-update_issue_created.json"),
        &[],
    );
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.comments[0],
        "Working on the package set update (2 changes), as requested by @Codertocat.\n\n<!-- regis:working body -->\n"
    );
    insta::assert_snapshot!("package_set_refused_comment", run.comments[1]);
    assert!(!run.closed);
    assert_eq!(t.remote_heads(), before);
    // The trustee check asked GitHub about the author.
    assert!(
        gh.received()
            .iter()
            .any(|r| r.url.path() == "/orgs/purescript/teams/trustees/memberships/Codertocat")
    );
}

#[test]
fn pull_requests_and_the_bots_own_comments_are_ignored() {
    let Some(events) = events() else { return };
    let gh = github();
    let t = registry(&gh, |_| {});
    let dir = tempfile::tempdir().unwrap();
    let real = events.join("update_issue_comment.json");

    let mut pr: Value = serde_json::from_str(&std::fs::read_to_string(&real).unwrap()).unwrap();
    pr["issue"]["pull_request"] =
        json!({"url": "https://api.github.com/repos/purescript/registry/pulls/43"});
    let pr_file = dir.path().join("pr.json");
    std::fs::write(&pr_file, pr.to_string()).unwrap();
    let bot = event_from(
        &real,
        dir.path(),
        "{\"name\": \"x\"}",
        "github-actions[bot]",
    );

    for event in [pr_file, bot] {
        let run = process(&t, &gh, &event, &[]);
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        assert!(run.stdout.starts_with("nothing to do: "), "{}", run.stdout);
        assert!(run.comments.is_empty() && !run.closed);
    }
    assert!(gh.received().is_empty());
}

#[test]
fn a_body_without_a_payload_gets_one_comment_saying_what_was_expected() {
    let Some(events) = events() else { return };
    let gh = github();
    let t = registry(&gh, |_| {});
    let dir = tempfile::tempdir().unwrap();
    let event = event_from(
        &events.join("addition_issue_created.json"),
        dir.path(),
        "please publish my package",
        "someone",
    );
    let run = process(&t, &gh, &event, &[]);
    assert_eq!(run.code, Some(1));
    assert_eq!(run.comments.len(), 1);
    insta::assert_snapshot!("no_payload_comment", run.comments[0]);
}

/// An owner with an ssh-keygen key: `regis sign transfer` → an issue → process-issue.
#[test]
fn an_author_signs_a_transfer_with_ssh_keygen_and_the_issue_accepts_it() {
    let Some(events) = events() else { return };
    let keys = tempfile::tempdir().unwrap();
    let Some((private, public)) = ssh_keygen(
        keys.path(),
        "id_ed25519",
        &["-t", "ed25519"],
        "secret phrase",
    ) else {
        return;
    };
    let gh = github();
    let t = registry(&gh, |_| {});
    let mut p = t.package("prelude", "1.0.0", &[]);
    p.manifest.owners = Some(vec![Owner::from_openssh(&public).unwrap()]);
    t.release(&p);

    let signed = Command::new(env!("CARGO_BIN_EXE_regis"))
        .args(["sign", "--key"])
        .arg(&private)
        .args([
            "--passphrase-env",
            "MY_PASSPHRASE",
            "transfer",
            "prelude",
            "--to-github",
            "new-home/purescript-prelude",
        ])
        .env("MY_PASSPHRASE", "secret phrase")
        .output()
        .unwrap();
    assert!(
        signed.status.success(),
        "{}",
        String::from_utf8_lossy(&signed.stderr)
    );
    let body = format!(
        "Moving prelude to its new home:\n\n```json\n{}\n```\n",
        String::from_utf8(signed.stdout).unwrap()
    );
    let event = event_from(
        &events.join("addition_issue_created.json"),
        keys.path(),
        &body,
        "an-author",
    );
    let index_before = testing::remote_head(&t.layout.index_remote);
    let run = process(&t, &gh, &event, &[]);
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert!(run.closed);
    let commit = testing::remote_head(&t.layout.registry_remote);
    assert_eq!(
        run.comments,
        [
            "Working on the transfer of `prelude`, as requested by @an-author.\n\n<!-- regis:working body -->\n".to_owned(),
            format!(
                "**Done**: transferred `prelude` to `github:new-home/purescript-prelude`.\n\n```text\nprelude transferred to github:new-home/purescript-prelude\n  from      github:test/prelude\n  signed by an owner (`ssh-ed25519` `id_ed25519@example.com`)\n  metadata  {}\n```\n\n<!-- regis:answered body -->\n",
                regis_outcome(&commit)
            ),
        ]
    );
    assert_eq!(
        commits_on(&t.layout.registry_remote)[0],
        "Transfer prelude to github:new-home/purescript-prelude"
    );
    assert_eq!(testing::remote_head(&t.layout.index_remote), index_before);
    // The job log has the headline and the report.
    assert_eq!(
        run.stdout,
        format!(
            "transferred `prelude` to `github:new-home/purescript-prelude`\nprelude transferred to github:new-home/purescript-prelude\n  from      github:test/prelude\n  signed by an owner (`ssh-ed25519` `id_ed25519@example.com`)\n  metadata  {}\n",
            regis_outcome(&commit)
        )
    );

    // The same signature on a payload for another package is refused, and nothing moves.
    let mut other = t.package("aff", "1.0.0", &[]);
    other.manifest.owners = Some(vec![Owner::from_openssh(&public).unwrap()]);
    t.release(&other);
    let before = t.remote_heads();
    let replayed = body.replace("\\\"name\\\":\\\"prelude\\\"", "\\\"name\\\":\\\"aff\\\"");
    assert_ne!(replayed, body);
    let event = event_from(
        &events.join("addition_issue_created.json"),
        keys.path(),
        &replayed,
        "an-author",
    );
    let run = process(&t, &gh, &event, &[]);
    assert_eq!(run.code, Some(1));
    assert!(!run.closed);
    assert_eq!(
        run.comments[0],
        "Working on the transfer of `aff`, as requested by @an-author.\n\n<!-- regis:working body -->\n"
    );
    insta::assert_snapshot!("replayed_transfer_comment", run.comments[1]);
    assert_eq!(t.remote_heads(), before);
}

/// On a registry that keeps atoms, a signed Transfer posted on an issue again after the
/// package moved back is refused (the answer names the atom that used it and how to ask
/// again), and nothing moves.
#[test]
fn a_transfer_posted_again_on_an_issue_is_refused() {
    let Some(events) = events() else { return };
    let keys = tempfile::tempdir().unwrap();
    let (_, secret) = regis::trust::SigningKey::generate();
    let atom_key = regis::trust::write_private_key(keys.path(), "atom.pem", &secret).unwrap();
    let gh = github();
    let t = registry(&gh, |c| {
        c.trust_atom_key = Some(regis::trust::KeySource::File(atom_key))
    });
    let owner = regis::auth::SigningKey::from_openssh(&testing::seeded_key(1), None).unwrap();
    let mut p = t.package("prelude", "1.0.0", &[]);
    p.manifest.owners = Some(vec![owner.public()]);
    t.release(&p);
    let sign = |payload: &str| regis::payload::Authenticated {
        payload: payload.to_owned(),
        signature: (owner.sign(payload, regis::auth::SignatureFormat::Raw, "file")).unwrap(),
    };
    let away = sign(
        r#"{"name":"prelude","newLocation":{"githubOwner":"test","githubRepo":"prelude-moved"}}"#,
    );
    regis::operation::transfer::transfer(&t.ctx(), &away).unwrap();
    let used = testing::remote_file(&t.layout.registry_remote, "atoms/prelude").unwrap();
    let back =
        sign(r#"{"name":"prelude","newLocation":{"githubOwner":"test","githubRepo":"prelude"}}"#);
    regis::operation::transfer::transfer(&t.ctx(), &back).unwrap();

    let before = (t.remote_heads(), t.stored());
    let body = format!(
        "Move it again:\n\n```json\n{}\n```\n",
        serde_json::to_string_pretty(&away).unwrap()
    );
    let event = event_from(
        &events.join("addition_issue_created.json"),
        keys.path(),
        &body,
        "someone",
    );
    let run = process(&t, &gh, &event, &[]);
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    assert!(!run.closed);
    assert_eq!((t.remote_heads(), t.stored()), before);
    assert_eq!(run.comments.len(), 2);
    insta::assert_snapshot!(run.comments[1].replace(used.trim(), "<atom>"), @r"
    **Failed**: the transfer of `prelude` failed.

    ```text
    this signed payload was already carried out on `prelude`: atom `<atom>` records it, for the transfer at `2026-11-22T10:00:00.000Z`; a signed text is accepted once, so to ask again, sign the request anew with `regis sign` (which puts the time of signing in `signedAt`)
    ```

    Comment on this issue with a corrected payload to try again.

    <!-- regis:answered body -->
    ");
}

/// How the CLI reports a pushed commit (the id is the remote's head).
fn regis_outcome(commit: &str) -> String {
    format!("committed {}, pushed", &commit[..10])
}

#[test]
fn a_trustee_may_leave_the_signature_empty_and_the_bot_signs() {
    let Some(events) = events() else { return };
    let keys = tempfile::tempdir().unwrap();
    let Some((bot_private, bot_public)) = ssh_keygen(keys.path(), "bot", &["-t", "ed25519"], "")
    else {
        return;
    };
    let gh = github();
    let t = registry(&gh, |c| {
        c.bot_public_key = Some(Owner::from_openssh(&bot_public).unwrap())
    });
    t.release(&t.package("prelude", "1.0.0", &[]));
    t.release(&t.package("prelude", "1.1.0", &[]));
    let payload = r#"{"name":"prelude","version":"1.0.0","reason":"published by mistake"}"#;
    let body = serde_json::to_string(&json!({"payload": payload, "signature": ""})).unwrap();
    let bot_key = std::fs::read_to_string(&bot_private).unwrap();
    let real = events.join("addition_issue_created.json");

    // Not a trustee: refused, nothing changes.
    let before = (t.remote_heads(), t.stored());
    let event = event_from(&real, keys.path(), &body, "someone-else");
    let run = process(&t, &gh, &event, &[("REGIS_BOT_KEY", &bot_key)]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.comments[1].contains("is not signed"),
        "{}",
        run.comments[1]
    );
    assert_eq!((t.remote_heads(), t.stored()), before);

    // A trustee: the bot signs, the version goes, the comment says so.
    let event = event_from(&real, keys.path(), &format!("{body}\n"), "a-trustee");
    let run = process(&t, &gh, &event, &[("REGIS_BOT_KEY", &bot_key)]);
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert!(run.closed);
    assert!(
        run.comments[1].starts_with("**Done**: unpublished `prelude@1.0.0`."),
        "{}",
        run.comments[1]
    );
    assert!(
        run.comments[1].contains("signed by the registry bot"),
        "{}",
        run.comments[1]
    );
    assert!(
        run.comments[1].ends_with("\nThe payload was not signed: @a-trustee is a trustee, so the registry bot signed it for them.\n\n<!-- regis:answered body -->\n"),
        "{}",
        run.comments[1]
    );
    assert!(
        !bot_key.is_empty()
            && !run.stdout.contains(bot_key.trim())
            && !run.summary.contains(bot_key.trim())
    );
    let index = testing::remote_file(&t.layout.index_remote, "pr/el/prelude").unwrap();
    assert!(!index.contains("\"1.0.0\""), "{index}");
    assert!(!t.layout.storage.join("prelude/1.0.0.tar.gz").exists());
}

/// The publish issue form, filled in: the package is published, the answer says what was
/// stored where, and the issue is closed.
#[test]
fn a_filled_in_publish_form_publishes_and_closes_the_issue() {
    let Some(events) = events() else { return };
    use regis::issue_body::publish_form as form;
    let gh = github();
    let t = registry(&gh, |_| {});
    t.push_source(&t.package("prelude", "1.0.0", &[]));
    let dir = tempfile::tempdir().unwrap();
    let fields = [
        (form::NAME, "prelude"),
        (form::VERSION, "1.0.0"),
        (form::REF, "v1.0.0"),
        (form::GITHUB_REPOSITORY, "test/prelude"),
        (form::GIT_URL, "_No response_"),
        (form::SUBDIR, "_No response_"),
        (form::COMPILER, "_No response_"),
    ];
    let body: Vec<String> = fields
        .iter()
        .map(|(label, value)| format!("### {label}\n\n{value}"))
        .collect();
    let event = event_from(
        &events.join("addition_issue_created.json"),
        dir.path(),
        &body.join("\n\n"),
        "an-author",
    );
    let run = process(&t, &gh, &event, &[]);
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert!(run.closed);
    let tarball = std::fs::read(t.layout.storage.join("prelude/1.0.0.tar.gz")).unwrap();
    let hash = regis::schema::Sha256::of(&tarball);
    let (registry_head, index_head) = t.remote_heads();
    assert_eq!(
        run.comments[0],
        "Working on the publish of `prelude@1.0.0`, as requested by @an-author.\n\n<!-- regis:working body -->\n"
    );
    let files = regis::tarball::unpack(
        &tarball,
        dir.path().join("unpacked").as_path(),
        &regis::tarball::Limits::default(),
    )
    .unwrap()
    .len();
    assert_eq!(
        run.comments[1],
        format!(
            "**Done**: published `prelude@1.0.0`.\n\n```text\npublished prelude@1.0.0\n  tarball   prelude/1.0.0.tar.gz ({} bytes, {files} files, {hash})\n  compiler  0.15.15\n  plan      no dependencies\n  storage   stored\n  metadata  {}\n  index     {}\n```\n\nSource: {}/test/prelude/tree/v1.0.0\n\n<!-- regis:answered body -->\n",
            tarball.len(),
            regis_outcome(&registry_head),
            regis_outcome(&index_head),
            t.config.github_base_url,
        )
    );
}

/// The daily transferrer: GitHub answers a lookup of `test/prelude` with a redirect to
/// the renamed repository, and the move is recorded as a bot-signed transfer.
#[test]
fn daily_records_a_renamed_repository_as_a_bot_signed_transfer() {
    let keys = tempfile::tempdir().unwrap();
    let Some((bot_private, bot_public)) = ssh_keygen(keys.path(), "bot", &["-t", "ed25519"], "")
    else {
        return;
    };
    let gh = MockGitHub::start();
    gh.mount(
        Mock::given(method("GET"))
            .and(path("/repos/test/prelude"))
            .respond_with(
                ResponseTemplate::new(301)
                    .insert_header("location", format!("{}/repositories/42", gh.uri()).as_str()),
            ),
    );
    gh.mount(
        Mock::given(method("GET"))
            .and(path("/repositories/42"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(testing::repository_json("new-owner", "purescript-prelude")),
            ),
    );
    gh.mount(
        Mock::given(method("GET"))
            .and(path("/repos/test/aff"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(testing::repository_json("Test", "aff")),
            ),
    );
    let t = registry(&gh, |c| {
        c.bot_public_key = Some(Owner::from_openssh(&bot_public).unwrap())
    });
    t.release(&t.package("prelude", "1.0.0", &[]));
    t.release(&t.package("aff", "1.0.0", &[]));
    let daily = |dry_run: bool| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_regis"));
        cmd.args(["--registry", t.layout.registry.to_str().unwrap(), "daily"])
            .env("GITHUB_TOKEN", TOKEN)
            .env(
                "REGIS_BOT_KEY",
                std::fs::read_to_string(&bot_private).unwrap(),
            );
        if dry_run {
            cmd.arg("--dry-run");
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };

    let before = t.remote_heads();
    let stdout = daily(true);
    assert!(
        stdout.starts_with(
            "transferrer: 2 GitHub locations checked, 1 moved, 0 not found, 0 could not be looked up\n  would transfer prelude: github:test/prelude -> github:new-owner/purescript-prelude\n"
        ),
        "{stdout}"
    );
    assert_eq!(t.remote_heads(), before, "a dry run writes nothing");

    let stdout = daily(false);
    assert!(
        stdout.starts_with(
            "transferrer: 2 GitHub locations checked, 1 moved, 0 not found, 0 could not be looked up\n  transferred prelude: github:test/prelude -> github:new-owner/purescript-prelude\n"
        ),
        "{stdout}"
    );
    assert_eq!(
        commits_on(&t.layout.registry_remote)[0],
        "Transfer prelude to github:new-owner/purescript-prelude"
    );
    let metadata =
        testing::remote_file(&t.layout.registry_remote, "metadata/prelude.json").unwrap();
    assert!(
        metadata.contains("\"githubOwner\": \"new-owner\""),
        "{metadata}"
    );
    assert_eq!(testing::remote_head(&t.layout.index_remote), before.1);
}

/// The transferrer's trouble (a lookup GitHub fails, no bot key to sign with) is reported
/// and the exit status is 1, but the package-set part of the daily job still runs.
#[test]
fn daily_goes_on_to_package_sets_when_the_transferrer_fails() {
    let keys = tempfile::tempdir().unwrap();
    let Some((_, bot_public)) = ssh_keygen(keys.path(), "bot", &["-t", "ed25519"], "") else {
        return;
    };
    let gh = MockGitHub::start();
    gh.mount(
        Mock::given(method("GET"))
            .and(path("/repos/test/prelude"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(testing::repository_json("moved", "prelude")),
            ),
    );
    gh.mount(
        Mock::given(method("GET"))
            .and(path("/repos/test/aff"))
            .respond_with(
                ResponseTemplate::new(500).set_body_json(json!({"message": "Server Error"})),
            ),
    );
    let t = registry(&gh, |c| {
        c.bot_public_key = Some(Owner::from_openssh(&bot_public).unwrap())
    });
    t.release(&t.package("prelude", "1.0.0", &[]));
    t.release(&t.package("aff", "1.0.0", &[]));
    let before = t.remote_heads();
    let out = Command::new(env!("CARGO_BIN_EXE_regis"))
        .args(["--registry", t.layout.registry.to_str().unwrap(), "daily"])
        .env("GITHUB_TOKEN", TOKEN)
        .env_remove("REGIS_BOT_KEY")
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    );
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.starts_with("transferrer: 2 GitHub locations checked, 1 moved, 0 not found, 1 could not be looked up\n  lookup failed aff: "),
        "{stdout}"
    );
    assert!(
        stderr.contains("cannot sign the transfers of the 1 moved package(s): the bot key is not available: set the environment variable `REGIS_BOT_KEY`"),
        "{stderr}"
    );
    assert!(
        stdout.ends_with(
            "no package set yet: a trustee starts the first one with `regis package-set update`\n"
        ),
        "{stdout}"
    );
    assert_eq!(t.remote_heads(), before);
}

#[test]
fn an_issue_may_not_point_the_runner_at_its_own_disk() {
    let Some(events) = events() else { return };
    let gh = github();
    let t = registry(&gh, |_| {});
    let dir = tempfile::tempdir().unwrap();
    let body = r#"{"name": "secrets", "version": "1.0.0", "ref": "main", "location": {"gitUrl": "file:///home/runner/work"}}"#;
    let event = event_from(
        &events.join("addition_issue_created.json"),
        dir.path(),
        body,
        "someone",
    );
    let before = t.remote_heads();
    let run = process(&t, &gh, &event, &[]);
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.comments[1],
        "**Failed**: the publish of `secrets@1.0.0` failed.\n\n```text\n`gitUrl` `file:///home/runner/work` is not an `https://` URL: a location given in an issue must be a public `https://` git URL (or `githubOwner`/`githubRepo`)\n```\n\nComment on this issue with a corrected payload to try again.\n\n<!-- regis:answered body -->\n"
    );
    assert_eq!(t.remote_heads(), before);
}

#[test]
fn without_a_token_nothing_is_said_on_the_issue() {
    let Some(events) = events() else { return };
    let gh = github();
    let t = registry(&gh, |_| {});
    let out = Command::new(env!("CARGO_BIN_EXE_regis"))
        .args([
            "--registry",
            t.layout.registry.to_str().unwrap(),
            "process-issue",
        ])
        .arg("--event")
        .arg(events.join("addition_issue_created.json"))
        .env_remove("GITHUB_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(String::from_utf8(out.stderr).unwrap(), @"error: no GitHub token: set the environment variable `GITHUB_TOKEN` (`githubTokenEnv` in regis.dhall)");
    assert!(gh.received().is_empty());
}

/// An `issues: opened` event on `test/registry#number` with `body`, by `author`.
pub(crate) fn opened_event(dir: &Path, number: u64, author: &str, body: &str) -> PathBuf {
    let event = json!({
        "action": "opened",
        "issue": {
            "number": number,
            "title": format!("issue {number}"),
            "body": body,
            "user": {"login": author},
        },
        "repository": {"full_name": "test/registry"},
        "sender": {"login": author},
    });
    let file = dir.join(format!("event-{number}.json"));
    std::fs::write(&file, event.to_string()).unwrap();
    file
}

/// A build check that fails after 240 KB of output: the comment holds what fits in 65,536
/// characters and says so; the job log and the step summary hold the report whole.
#[test]
fn a_report_too_long_for_a_comment_is_whole_in_the_log_and_the_step_summary() {
    let gh = github();
    let t = registry(&gh, |c| {
        c.build_check = Some("seq 1 40000; echo 'the last line' >&2; exit 1".to_owned());
    });
    let p = t.package("prelude", "1.0.0", &[]);
    t.push_source(&p);
    let dir = tempfile::tempdir().unwrap();
    let body = serde_json::to_string(&p.payload(true)).unwrap();
    let run = process(&t, &gh, &opened_event(dir.path(), 7, "someone", &body), &[]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let answer = &run.comments[1];
    assert!(
        answer.len() <= regis::operation::issue::COMMENT_MAX_BYTES,
        "{}",
        answer.len()
    );
    assert!(answer.contains("    40000\n    the last line\n```\n"));
    let cut = &answer[answer
        .find("```\n\nThe report is cut")
        .expect("the report is cut")..];
    insta::assert_snapshot!(cut, @r"
    ```

    The report is cut: it has 109,375 characters, more than a comment holds. It is whole in the job log and the step summary of the run.

    Comment on this issue with a corrected payload to try again.

    <!-- regis:answered body -->
    ");
    // The log and the summary have what the comment left out.
    let numbers = |text: &str| {
        text.lines()
            .filter(|l| l.trim().parse::<u32>().is_ok())
            .count()
    };
    for (what, text) in [("stdout", &run.stdout), ("summary", &run.summary)] {
        assert!(
            text.contains("    39999\n    40000\n    the last line"),
            "{what}"
        );
        assert!(numbers(text) > numbers(answer), "{what}");
        assert!(text.len() > 65_536, "{what}: {}", text.len());
    }
    assert!(
        run.summary
            .starts_with("**Failed**: the publish of `prelude@1.0.0` failed.")
    );
}
