//! The issue flow in process (`operation::issue::process`) against `MemoryGitHub`: what is
//! said on the issue, whether it is closed, and what the registry holds afterwards. The
//! same flow through the binary against a mock GitHub server is in `process_issue.rs`.

use regis::auth::SigningKey;
use regis::github::{
    Comment, EventKind, GitHub, GitHubError, Issue, IssueEvent, IssueRef, Listing, MemoryGitHub,
    RepoRef,
};
use regis::operation::issue::{self, IssueError};
use regis::schema::Owner;
use regis::storage::StorageKey;
use regis::testing::{self, TestRegistry, commits_on};
use serde_json::json;

fn issue_ref() -> IssueRef {
    IssueRef {
        repo: RepoRef::new("test", "registry"),
        number: 7,
    }
}

fn opened(author: &str, body: &str) -> IssueEvent {
    IssueEvent {
        issue: issue_ref(),
        title: "a request".to_owned(),
        author: author.to_owned(),
        body: body.to_owned(),
        kind: EventKind::Opened,
        comment_id: None,
    }
}

/// The comments posted on the test issue, in order.
fn comments(gh: &MemoryGitHub) -> Vec<String> {
    gh.comments()
        .into_iter()
        .map(|(on, body)| {
            assert_eq!(on, issue_ref(), "answers go to the issue");
            body
        })
        .collect()
}

/// A deterministic ed25519 key, as the bot's.
fn bot_key() -> (String, Owner) {
    let pem = regis::testing::seeded_key(7);
    let public = SigningKey::from_openssh(&pem, None).unwrap().public();
    (pem, public)
}

/// A registry whose bot key is [`bot_key`] and whose trustees are the team
/// `test/trustees`, with `prelude@1.0.0` published; and the bot's private key.
fn registry_with_a_bot() -> (TestRegistry, String) {
    let (pem, public) = bot_key();
    let t = TestRegistry::with_config(|c| {
        c.bot_public_key = Some(public);
        c.trustee_team = Some("test/trustees".parse().unwrap());
    });
    t.release(&t.package("prelude", "1.0.0", &[]));
    (t, pem)
}

#[test]
fn a_publish_is_answered_closed_and_written() {
    let t = TestRegistry::new();
    let p = t.package("prelude", "1.0.0", &[]);
    t.push_source(&p);
    let body = format!(
        "Please publish:\n```json\n{}\n```\n",
        serde_json::to_string(&p.payload(true)).unwrap()
    );
    let gh = MemoryGitHub::new();
    let processed = issue::process(
        &t.ctx(),
        &gh,
        &opened("alice", &body),
        None,
        Some("https://github.example/runs/1"),
    )
    .unwrap();
    assert!(processed.success, "{}", processed.headline);
    assert_eq!(processed.headline, "published `prelude@1.0.0`");
    let said = comments(&gh);
    assert_eq!(said.len(), 2, "{said:?}");
    assert_eq!(
        said[0],
        "Working on the publish of `prelude@1.0.0`, as requested by @alice. ([log](https://github.example/runs/1))\n\n<!-- regis:working body -->\n"
    );
    assert!(
        said[1].starts_with(
            "**Done**: published `prelude@1.0.0`.\n\n```text\npublished prelude@1.0.0\n"
        ),
        "{}",
        said[1]
    );
    assert!(
        said[1].ends_with(&format!(
            "\nSource: {}/test/prelude/tree/v1.0.0\n\n<!-- regis:answered body -->\n",
            t.config.github_base_url
        )),
        "{}",
        said[1]
    );
    assert_eq!(said[1], processed.comment);
    assert_eq!(gh.closed(), [issue_ref()]);
    assert!(
        regis::testing::remote_file(&t.layout.index_remote, "pr/el/prelude").is_some(),
        "the index line is pushed"
    );
    let key = StorageKey::tarball(&"prelude".parse().unwrap(), &"1.0.0".parse().unwrap());
    assert_eq!(t.stored(), [std::path::PathBuf::from(key.to_string())]);
}

#[test]
fn a_body_without_a_payload_gets_one_answer_and_stays_open() {
    let t = TestRegistry::new();
    let before = t.remote_heads();
    let gh = MemoryGitHub::new();
    let processed =
        issue::process(&t.ctx(), &gh, &opened("alice", "hello, please"), None, None).unwrap();
    assert!(!processed.success);
    let said = comments(&gh);
    assert_eq!(
        said.len(),
        1,
        "no start comment for what cannot be read: {said:?}"
    );
    assert!(
        said[0].starts_with("**Failed**: could not read the payload.\n\n```text\n"),
        "{}",
        said[0]
    );
    assert!(
        said[0].ends_with("Comment on this issue with the corrected payload (the JSON object, or the filled-in issue form) and it runs again.\n\n<!-- regis:answered body -->\n"),
        "{}",
        said[0]
    );
    assert!(gh.closed().is_empty());
    assert_eq!(t.remote_heads(), before);
}

#[test]
fn a_location_on_the_runners_disk_is_refused() {
    let t = TestRegistry::new();
    let p = t.package("prelude", "1.0.0", &[]);
    t.push_source(&p);
    let before = t.remote_heads();
    let url = format!("file://{}", t.repo_dir("prelude").display());
    let body = json!({"name": "prelude", "version": "1.0.0", "ref": "v1.0.0", "location": {"gitUrl": url}});
    let gh = MemoryGitHub::new();
    let processed = issue::process(
        &t.ctx(),
        &gh,
        &opened("alice", &body.to_string()),
        None,
        None,
    )
    .unwrap();
    assert!(!processed.success);
    assert_eq!(
        processed.headline,
        format!(
            "the publish of `prelude@1.0.0` failed: `gitUrl` `{url}` is not an `https://` URL: a location given in an issue must be a public `https://` git URL (or `githubOwner`/`githubRepo`)"
        )
    );
    assert_eq!(comments(&gh).len(), 2);
    assert!(gh.closed().is_empty());
    assert_eq!(t.remote_heads(), before);
    assert!(t.stored().is_empty());
}

#[test]
fn a_trustees_unsigned_unpublish_is_signed_by_the_bot() {
    let (t, pem) = registry_with_a_bot();
    t.release(&t.package("prelude", "1.1.0", &[]));
    let payload = r#"{"name":"prelude","version":"1.0.0","reason":"published by mistake"}"#;
    let body = json!({"payload": payload, "signature": ""}).to_string();
    let gh = MemoryGitHub::new().with_member("test", "trustees", "tess");

    // Not a trustee: refused, nothing written.
    let before = (t.remote_heads(), t.stored());
    let processed =
        issue::process(&t.ctx(), &gh, &opened("mallory", &body), Some(&pem), None).unwrap();
    assert!(!processed.success);
    assert!(
        processed.headline.contains("is not signed"),
        "{}",
        processed.headline
    );
    assert_eq!((t.remote_heads(), t.stored()), before);

    // A trustee: the bot signs, the version goes, the comment says so.
    let processed =
        issue::process(&t.ctx(), &gh, &opened("tess", &body), Some(&pem), None).unwrap();
    assert!(processed.success, "{}", processed.headline);
    assert_eq!(processed.headline, "unpublished `prelude@1.0.0`");
    assert!(
        processed.full_comment.ends_with(
            "\nThe payload was not signed: @tess is a trustee, so the registry bot signed it for them.\n"
        ),
        "{}",
        processed.comment
    );
    assert_eq!(gh.closed(), [issue_ref()]);
    assert!(commits_on(&t.layout.registry_remote)[0].contains("prelude@1.0.0"));

    // Without the bot key a trustee's unsigned payload cannot go through.
    let gh = MemoryGitHub::new().with_member("test", "trustees", "tess");
    let unsigned =
        json!({"payload": r#"{"name":"prelude","version":"1.1.0","reason":"x"}"#, "signature": ""});
    let processed = issue::process(
        &t.ctx(),
        &gh,
        &opened("tess", &unsigned.to_string()),
        None,
        None,
    )
    .unwrap();
    assert!(!processed.success);
    assert!(
        processed.headline.contains(
            "the payload is not signed, and the bot cannot sign it for the trustee: the bot key is not available"
        ),
        "{}",
        processed.headline
    );
}

/// GitHub that answers nothing: every call fails as a network error would.
struct Down;

impl GitHub for Down {
    fn comment(&self, _: &IssueRef, _: &str) -> Result<(), GitHubError> {
        Err(down("POST comment"))
    }
    fn close(&self, _: &IssueRef) -> Result<(), GitHubError> {
        Err(down("PATCH issue"))
    }
    fn is_team_member(&self, _: &str, _: &str, _: &str) -> Result<bool, GitHubError> {
        Err(down("GET membership"))
    }
    fn repository(&self, _: &RepoRef) -> Result<Option<RepoRef>, GitHubError> {
        Err(down("GET repository"))
    }
    fn open_issues(&self, _: &RepoRef, _: u32) -> Result<Listing<Issue>, GitHubError> {
        Err(down("GET issues"))
    }
    fn issue_comments(&self, _: &IssueRef, _: u32) -> Result<Listing<Comment>, GitHubError> {
        Err(down("GET comments"))
    }
}

fn down(request: &str) -> GitHubError {
    GitHubError::Network {
        request: request.to_owned(),
        api_url: "http://127.0.0.1:9".to_owned(),
        cause: "connection refused".to_owned(),
    }
}

#[test]
fn github_refusing_the_start_comment_stops_before_any_write() {
    let t = TestRegistry::new();
    let p = t.package("prelude", "1.0.0", &[]);
    t.push_source(&p);
    let before = t.remote_heads();
    let body = serde_json::to_string(&p.payload(true)).unwrap();
    let err = issue::process(&t.ctx(), &Down, &opened("alice", &body), None, None).unwrap_err();
    assert!(matches!(err, IssueError::StartComment(_)), "{err:?}");
    assert_eq!(
        regis::error_chain(&err),
        "posting the start comment: request `POST comment` to GitHub at `http://127.0.0.1:9` failed: connection refused"
    );
    assert_eq!(t.remote_heads(), before);
    assert!(t.stored().is_empty());
}

/// Comments and closing work; the team check fails.
struct TeamCheckDown(MemoryGitHub);

impl GitHub for TeamCheckDown {
    fn comment(&self, issue: &IssueRef, body: &str) -> Result<(), GitHubError> {
        self.0.comment(issue, body)
    }
    fn close(&self, issue: &IssueRef) -> Result<(), GitHubError> {
        self.0.close(issue)
    }
    fn is_team_member(&self, _: &str, _: &str, _: &str) -> Result<bool, GitHubError> {
        Err(down("GET membership"))
    }
    fn repository(&self, repo: &RepoRef) -> Result<Option<RepoRef>, GitHubError> {
        self.0.repository(repo)
    }
    fn open_issues(&self, repo: &RepoRef, pages: u32) -> Result<Listing<Issue>, GitHubError> {
        self.0.open_issues(repo, pages)
    }
    fn issue_comments(
        &self,
        issue: &IssueRef,
        pages: u32,
    ) -> Result<Listing<Comment>, GitHubError> {
        self.0.issue_comments(issue, pages)
    }
}

#[test]
fn a_team_check_github_cannot_answer_leaves_an_update_by_anyone() {
    let t = TestRegistry::with_config(|c| c.trustee_team = Some("test/trustees".parse().unwrap()));
    t.release(&t.package("prelude", "1.0.0", &[]));
    let gh = TeamCheckDown(MemoryGitHub::new());
    let body = json!({"packages": {"prelude": "1.0.0"}}).to_string();
    let processed = issue::process(&t.ctx(), &gh, &opened("tess", &body), None, None).unwrap();
    assert!(processed.success, "{}", processed.comment);
    assert!(
        processed
            .comment
            .starts_with("**Done**: published package set `"),
        "{}",
        processed.comment
    );
    assert!(
        processed.full_comment.ends_with(
            "\nNote: treated as an update by anyone (additions and upgrades only): checking whether `tess` is in the trustee team `test/trustees`: request `GET membership` to GitHub at `http://127.0.0.1:9` failed: connection refused.\n"
        ),
        "{}",
        processed.comment
    );
    // the commit id depends on the run's temporary paths
    let (head, rest) = processed.comment.split_once("committed ").unwrap();
    let comment = format!("{head}committed <commit>{}", &rest[10..]);
    insta::assert_snapshot!(comment, @r"
        **Done**: published package set `0.1.0`.

        ```text
        no package set yet -> 0.1.0 (compiler 0.15.15, 1 packages)
          accepted  add `prelude@1.0.0`
          package-sets/0.1.0.json  committed <commit>, pushed
        ```

        Note: treated as an update by anyone (additions and upgrades only): checking whether `tess` is in the trustee team `test/trustees`: request `GET membership` to GitHub at `http://127.0.0.1:9` failed: connection refused.

        <!-- regis:answered body -->
        ");
    assert_eq!(gh.0.closed(), [issue_ref()]);
}

/// Comments and closing work until the one `fails` names (`"result comment"`, the second
/// comment, or `"close"`).
struct FailsAt {
    github: MemoryGitHub,
    fails: &'static str,
    comments: std::cell::Cell<usize>,
}

impl GitHub for FailsAt {
    fn comment(&self, issue: &IssueRef, body: &str) -> Result<(), GitHubError> {
        self.comments.set(self.comments.get() + 1);
        if self.fails == "result comment" && self.comments.get() == 2 {
            return Err(down("POST comment"));
        }
        self.github.comment(issue, body)
    }
    fn close(&self, issue: &IssueRef) -> Result<(), GitHubError> {
        if self.fails == "close" {
            return Err(down("PATCH issue"));
        }
        self.github.close(issue)
    }
    fn is_team_member(&self, org: &str, team: &str, login: &str) -> Result<bool, GitHubError> {
        self.github.is_team_member(org, team, login)
    }
    fn repository(&self, repo: &RepoRef) -> Result<Option<RepoRef>, GitHubError> {
        self.github.repository(repo)
    }
    fn open_issues(&self, repo: &RepoRef, pages: u32) -> Result<Listing<Issue>, GitHubError> {
        self.github.open_issues(repo, pages)
    }
    fn issue_comments(
        &self,
        issue: &IssueRef,
        pages: u32,
    ) -> Result<Listing<Comment>, GitHubError> {
        self.github.issue_comments(issue, pages)
    }
}

/// GitHub failing after the request ran: the result comment, or closing the issue. The
/// error says which step, and what the request did stays done.
#[test]
fn github_failing_after_the_request_names_the_step() {
    let mut lines = Vec::new();
    for fails in ["result comment", "close"] {
        let t = TestRegistry::new();
        let p = t.package("prelude", "1.0.0", &[]);
        t.push_source(&p);
        let gh = FailsAt {
            github: MemoryGitHub::new(),
            fails,
            comments: std::cell::Cell::new(0),
        };
        let body = serde_json::to_string(&p.payload(true)).unwrap();
        let err = issue::process(&t.ctx(), &gh, &opened("alice", &body), None, None).unwrap_err();
        lines.push(format!("{fails} → {}", regis::error_chain(&err)));
        assert!(testing::remote_file(&t.layout.index_remote, "pr/el/prelude").is_some());
    }
    insta::assert_snapshot!(lines.join("\n"), @r"
        result comment → posting the result comment: request `POST comment` to GitHub at `http://127.0.0.1:9` failed: connection refused
        close → closing the issue: request `PATCH issue` to GitHub at `http://127.0.0.1:9` failed: connection refused
        ");
}

#[test]
fn regis_never_answers_its_own_comments() {
    for own in [
        "Working on the publish of `x@1.0.0`, as requested by @a.",
        "**Done**: published `x@1.0.0`.",
        "**Failed**: could not read the payload.",
        "**Not fully accepted**: some changes were refused.",
    ] {
        let mut event = opened("someone", own);
        assert!(!issue::is_own_comment(&event), "an issue body is a request");
        event.kind = EventKind::Comment;
        assert!(issue::is_own_comment(&event), "{own}");
    }
    let mut event = opened("someone", "{\"name\": \"x\"} **Done**");
    event.kind = EventKind::Comment;
    assert!(!issue::is_own_comment(&event));
}

/// What the issue says to requests the registry refuses before any operation runs: the
/// headline (`<what> failed: <reason>`), which the result comment quotes in full.
#[test]
fn refused_requests_are_answered_in_full() {
    let (t, pem) = registry_with_a_bot();
    let without_bot_public_key = regis::config::Config {
        bot_public_key: None,
        ..t.config.clone()
    };
    let before = (t.remote_heads(), t.stored());
    let other_pem = regis::testing::seeded_key(8);
    let unsigned_unpublish = json!({
        "payload": r#"{"name":"prelude","version":"1.0.0","reason":"broken"}"#,
        "signature": ""
    })
    .to_string();
    let gh = MemoryGitHub::new().with_member("test", "trustees", "tess");
    let headline = |case: &str,
                    ctx: &regis::operation::Context<'_>,
                    author: &str,
                    body: &str,
                    bot: Option<&str>| {
        let processed = issue::process(ctx, &gh, &opened(author, body), bot, None).unwrap();
        assert!(!processed.success, "{case}");
        format!("{case} → {}", processed.headline)
    };
    let ctx = t.ctx();
    let lines = [
        headline("unsigned, not a trustee", &ctx, "mallory", &unsigned_unpublish, Some(&pem)),
        headline("unsigned, a trustee, no bot key", &ctx, "tess", &unsigned_unpublish, None),
        headline(
            "unsigned, a trustee, no botPublicKey",
            &regis::operation::Context {
                config: &without_bot_public_key,
                ..t.ctx()
            },
            "tess",
            &unsigned_unpublish,
            Some(&pem),
        ),
        headline("unsigned, a trustee, a bot key that is no key", &ctx, "tess", &unsigned_unpublish, Some("hello")),
        headline("unsigned, a trustee, another bot key", &ctx, "tess", &unsigned_unpublish, Some(&other_pem)),
        headline(
            "a transfer to a git:// URL",
            &ctx,
            "alice",
            &json!({
                "payload": r#"{"name":"prelude","newLocation":{"gitUrl":"git://example.com/prelude.git"}}"#,
                "signature": "00"
            })
            .to_string(),
            None,
        ),
        headline(
            "a signed payload that is neither",
            &ctx,
            "alice",
            &json!({"payload": r#"{"name":"prelude"}"#, "signature": "00"}).to_string(),
            None,
        ),
    ];
    insta::assert_snapshot!(lines.join("\n"), @r"
        unsigned, not a trustee → the unpublish of `prelude@1.0.0` failed: the unpublish of `prelude` is not signed: sign the payload with an owner's SSH key (`regis sign --key ~/.ssh/id_ed25519 …`) and paste the output (only a trustee's issue may leave the signature empty: the registry bot signs it then)
        unsigned, a trustee, no bot key → the unpublish of `prelude@1.0.0` failed: the payload is not signed, and the bot cannot sign it for the trustee: the bot key is not available: set the environment variable `REGIS_BOT_KEY` to the bot's OpenSSH private key
        unsigned, a trustee, no botPublicKey → the unpublish of `prelude@1.0.0` failed: the payload is not signed, and the bot cannot sign it for the trustee: `botPublicKey` is not set in regis.dhall: signatures of the bot could not be checked
        unsigned, a trustee, a bot key that is no key → the unpublish of `prelude@1.0.0` failed: the payload is not signed, and the bot cannot sign it for the trustee: the bot key in `REGIS_BOT_KEY` cannot be read: not an OpenSSH private key: PEM preamble contains invalid data (NUL byte): expected the `-----BEGIN OPENSSH PRIVATE KEY-----` text `ssh-keygen` writes
        unsigned, a trustee, another bot key → the unpublish of `prelude@1.0.0` failed: the payload is not signed, and the bot cannot sign it for the trustee: the key in `REGIS_BOT_KEY` is not the one `botPublicKey` names: fix the secret or the config
        a transfer to a git:// URL → the transfer of `prelude` failed: `gitUrl` `git://example.com/prelude.git` is not an `https://` URL: a location given in an issue must be a public `https://` git URL (or `githubOwner`/`githubRepo`)
        a signed payload that is neither → the signed payload failed: the payload has keys `name`: expected `Transfer {name, newLocation}`, `Unpublish {name, version, reason}`, `Yank {name, yank, reason}`, `Unyank {name, unyank}`, `Deprecate {name, message, alternative?}`, `Alias {name, alias, version}` or `Unalias {name, unalias}`
        ");
    assert_eq!((t.remote_heads(), t.stored()), before);
}

/// A report longer than a comment holds: the posted comment is cut to 65,536 bytes and says
/// where the whole report is; `Processed` carries it whole for the log and step summary.
#[test]
fn a_long_report_is_cut_in_the_comment_and_whole_in_what_process_returns() {
    let t = TestRegistry::with_config(|c| {
        c.build_check = Some("seq 1 40000; exit 1".to_owned());
    });
    let p = t.package("prelude", "1.0.0", &[]);
    t.push_source(&p);
    let gh = MemoryGitHub::new();
    let body = serde_json::to_string(&p.payload(true)).unwrap();
    let processed = issue::process(
        &t.ctx(),
        &gh,
        &opened("alice", &body),
        None,
        Some("https://github.example/runs/9"),
    )
    .unwrap();
    assert!(!processed.success);
    let said = comments(&gh);
    assert_eq!(said[1], processed.comment);
    assert!(processed.comment.len() <= issue::COMMENT_MAX_BYTES);
    assert!(processed.comment.contains(
        "It is whole in the job log and the step summary of [the run](https://github.example/runs/9).\n"
    ));
    assert!(
        processed
            .comment
            .ends_with("\n<!-- regis:answered body -->\n")
    );
    // The start (what failed) and the end (the build's last words) are kept.
    assert!(
        processed.comment.contains(
            "```text\nthe build check command `seq 1 40000; exit 1` exited with status `1`"
        )
    );
    assert!(processed.comment.contains("    39999\n    40000\n```\n"));
    assert!(processed.comment.contains(" characters cut here …]\n"));
    let numbers = |text: &str| {
        text.lines()
            .filter(|l| l.trim().parse::<u32>().is_ok())
            .count()
    };
    assert!(numbers(&processed.comment) < numbers(&processed.report));
    assert!(
        processed.report.ends_with("\n    39999\n    40000"),
        "the report is whole"
    );
    assert!(processed.full_comment.contains(&processed.report));
    assert!(gh.closed().is_empty());
    assert!(t.stored().is_empty());
}
