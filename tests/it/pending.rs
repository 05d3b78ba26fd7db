//! No issue goes unanswered: `process-issue --pending` (`operation::issue::pending`)
//! answers every open issue whose latest request has no answer from regis, oldest first.
//! In process against `MemoryGitHub`, and through the binary against the mock GitHub with
//! a burst of 20 issues, a few of which got their own run (all at once, each in its own
//! checkout, as issue runs go without a concurrency group) while the rest were lost.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use crate::process_issue::opened_event;
use chrono::{DateTime, Utc};
use regis::git::GitRepo;
use regis::github::{Issue, IssueRef, MemoryGitHub, RepoRef};
use regis::operation::issue::{self, Left, Timing};
use regis::testing::{FakeIssue, MockGitHub, TestRegistry};

const TOKEN: &str = "ghs_pending_token";

fn repo() -> RepoRef {
    RepoRef::new("test", "registry")
}

fn at(minute: i64) -> DateTime<Utc> {
    "2024-05-01T10:00:00Z".parse::<DateTime<Utc>>().unwrap() + chrono::Duration::minutes(minute)
}

fn seeded(number: u64, author: &str, body: &str, minute: i64) -> Issue {
    Issue {
        number,
        title: format!("issue {number}"),
        author: author.to_owned(),
        body: body.to_owned(),
        created_at: at(minute),
        comments: 0,
    }
}

fn on(number: u64) -> IssueRef {
    IssueRef {
        repo: repo(),
        number,
    }
}

/// The payload publishing `name@1.0.0`, its source pushed.
fn publish_payload(t: &TestRegistry, name: &str) -> String {
    let p = t.package(name, "1.0.0", &[]);
    t.push_source(&p);
    serde_json::to_string(&p.payload(true)).unwrap()
}

#[test]
fn every_unanswered_issue_is_answered_oldest_first_in_process() {
    let t = TestRegistry::new();
    let bot = MemoryGitHub::BOT;
    // Seeded out of order: GitHub lists by creation time.
    let mut gh = MemoryGitHub::new();
    for (number, minute) in [(12, 12), (10, 10), (11, 11)] {
        let body = publish_payload(&t, &format!("seeded-{number}"));
        gh = gh.with_issue(&repo(), seeded(number, "ann", &body, minute));
    }
    let fixed = publish_payload(&t, "fixed");
    let died = publish_payload(&t, "died");
    let working = publish_payload(&t, "working");
    let answered = publish_payload(&t, "answered");
    let gh = gh
        // A question, not a request.
        .with_issue(&repo(), seeded(20, "ann", "How do I publish?", 20))
        // Answered (a failure), then corrected in a comment whose run was lost.
        .with_issue(&repo(), seeded(21, "bob", "{\"name\": \"fixed\"}", 21))
        .with_comment(
            &on(21),
            bot,
            "**Failed**: x.\n\n<!-- regis:answered body -->\n",
            at(22),
        )
        .with_comment(&on(21), "bob", &fixed, at(23))
        // A run started two hours before now and never answered: it died.
        .with_issue(&repo(), seeded(22, "cy", &died, 30))
        .with_comment(
            &on(22),
            bot,
            "Working on x.\n\n<!-- regis:working body -->\n",
            at(31),
        )
        // A run started five minutes before now: still working.
        .with_issue(&repo(), seeded(23, "cy", &working, 40))
        .with_comment(
            &on(23),
            bot,
            "Working on x.\n\n<!-- regis:working body -->\n",
            at(145),
        )
        // Asked two minutes before now: its own run may be queued.
        .with_issue(&repo(), seeded(24, "di", &answered, 148))
        // Answered, and left open (as a failure is).
        .with_issue(&repo(), seeded(25, "ed", &answered, 50))
        .with_comment(
            &on(25),
            bot,
            "**Failed**: x.\n\n<!-- regis:answered body -->\n",
            at(51),
        );
    let now = at(150);
    let timing = Timing::default();

    let run = issue::pending(&t.ctx(), &gh, &repo(), None, None, now, &timing).unwrap();
    let answered: Vec<(u64, &str)> = run
        .answered
        .iter()
        .map(|(n, p)| (*n, p.headline.as_str()))
        .collect();
    assert_eq!(
        answered,
        [
            (10, "published `seeded-10@1.0.0`"),
            (11, "published `seeded-11@1.0.0`"),
            (12, "published `seeded-12@1.0.0`"),
            (21, "published `fixed@1.0.0`"),
            (22, "published `died@1.0.0`"),
        ]
    );
    assert_eq!(
        run.left,
        [
            (20, Left::NoPayload),
            (23, Left::Running),
            (25, Left::Answered),
            (24, Left::Queued),
        ]
    );
    assert!(run.failed.is_empty() && !run.truncated);
    insta::assert_snapshot!(regis::operation::report::pending(&run, &timing), @"9 open issues read, oldest first: 5 answered now; left alone: 1 answered before, 1 without a payload, 1 waiting for its own run (asked within 10 minutes), 1 being worked on (started within 70 minutes)");
    // Each answer names its request; the corrected comment's is its id (seeded comments
    // get ids 1, 2, 3, … in order: bob's is 2).
    let said = gh.comments();
    let fixed_answer = &said.iter().rfind(|(on, _)| on.number == 21).unwrap().1;
    assert!(
        fixed_answer.ends_with("\n<!-- regis:answered comment 2 -->\n"),
        "{fixed_answer}"
    );
    assert_eq!(gh.closed(), [on(10), on(11), on(12), on(21), on(22)]);

    // Run again: nothing is answered twice.
    let again = issue::pending(&t.ctx(), &gh, &repo(), None, None, now, &timing).unwrap();
    assert!(again.answered.is_empty(), "{:?}", again.answered);
    assert_eq!(again.open, 4);
    // Later, the queued request's run never came and the working one died: both answered.
    let later = issue::pending(&t.ctx(), &gh, &repo(), None, None, at(300), &timing).unwrap();
    let numbers: Vec<u64> = later.answered.iter().map(|(n, _)| *n).collect();
    assert_eq!(numbers, [23, 24]);
}

/// `regis process-issue` with `args`, GitHub Actions' variables set as a run has them.
fn regis(registry: &Path, extra: &[&str], args: &[&str], summary: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_regis"));
    cmd.arg("--registry")
        .arg(registry)
        .args(extra)
        .arg("process-issue")
        .args(args)
        .env("GITHUB_TOKEN", TOKEN)
        .env("GITHUB_STEP_SUMMARY", summary)
        .env_remove("GITHUB_SERVER_URL")
        .env_remove("GITHUB_REPOSITORY")
        .env_remove("GITHUB_EVENT_PATH")
        .env_remove("REGIS_BOT_KEY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn a_burst_of_20_issues_is_answered_through_the_binary() {
    let gh = MockGitHub::start();
    let t = TestRegistry::with_github(&gh, |_| {});
    // 20 issues opened a minute apart: 19 publishes and one whose package has no source.
    let mut issues = Vec::new();
    for i in 0..20u64 {
        let name = format!("burst-{i:02}");
        let body = if i == 13 {
            serde_json::json!({"name": name, "ref": "v1.0.0", "version": "1.0.0",
                "location": {"githubOwner": "test", "githubRepo": "nowhere"}})
            .to_string()
        } else {
            publish_payload(&t, &name)
        };
        issues.push(FakeIssue::new(
            100 + i,
            &format!("author-{i}"),
            &body,
            &format!("2024-05-01T10:{i:02}:00Z"),
        ));
    }
    // Around them: a pull request, a closed issue, a question and an answered issue.
    let mut pr = FakeIssue::new(90, "someone", "{\"name\": \"x\"}", "2024-05-01T09:00:00Z");
    pr.pull_request = true;
    let mut closed = FakeIssue::new(91, "someone", "{\"name\": \"x\"}", "2024-05-01T09:01:00Z");
    closed.open = false;
    let question = FakeIssue::new(92, "someone", "How do I publish?", "2024-05-01T09:02:00Z");
    let answered = FakeIssue::new(93, "someone", "{\"name\": \"x\"}", "2024-05-01T09:03:00Z")
        .comment(
            FakeIssue::BOT,
            "**Failed**: x.\n\n<!-- regis:answered body -->\n",
            "2024-05-01T09:04:00Z",
        );
    issues.extend([pr, closed, question, answered]);
    let bodies: Vec<(u64, String)> = issues.iter().map(|i| (i.number, i.body.clone())).collect();
    let tracker = gh.serve_issues("test/registry", issues);
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.md");

    // Six of the issues got their own run: all at once, each in its own checkout. The
    // other fourteen runs were lost.
    let with_runs = [101u64, 104, 107, 110, 113, 116];
    let children: Vec<(u64, Child)> = with_runs
        .iter()
        .map(|&number| {
            let job = dir.path().join(format!("job-{number}"));
            for (name, remote) in [
                ("registry", &t.layout.registry_remote),
                ("index", &t.layout.index_remote),
            ] {
                GitRepo::clone(&format!("file://{}", remote.display()), &job.join(name)).unwrap();
            }
            let body = &bodies.iter().find(|(n, _)| *n == number).unwrap().1;
            let event = opened_event(dir.path(), number, "an-author", body);
            let child = regis(
                &job.join("registry"),
                &[
                    "--index",
                    job.join("index").to_str().unwrap(),
                    "--storage",
                    t.layout.storage.to_str().unwrap(),
                ],
                &["--event", event.to_str().unwrap()],
                &job.join("summary.md"),
            )
            .spawn()
            .unwrap();
            (number, child)
        })
        .collect();
    for (number, child) in children {
        let out = child.wait_with_output().unwrap();
        let expected = if number == 113 { 1 } else { 0 };
        assert_eq!(
            out.status.code(),
            Some(expected),
            "#{number}: {}",
            text(&out)
        );
    }

    // The sweep answers the fourteen others, oldest first.
    let out = regis(
        &t.layout.registry,
        &[],
        &["--pending", "--repo", "test/registry"],
        &summary,
    )
    .output()
    .unwrap();
    let log = text(&out);
    assert_eq!(out.status.code(), Some(0), "{log}");
    assert!(!log.contains(TOKEN));
    let answered_now: Vec<u64> = log
        .lines()
        .filter_map(|l| l.strip_prefix('#')?.split(':').next()?.parse().ok())
        .collect();
    let expected: Vec<u64> = (100..120).filter(|n| !with_runs.contains(n)).collect();
    assert_eq!(answered_now, expected, "{log}");
    insta::assert_snapshot!(log.lines().last().unwrap(), @"17 open issues read, oldest first: 14 answered now; left alone: 2 answered before, 1 without a payload");
    let step_summary = std::fs::read_to_string(&summary).unwrap();
    assert!(step_summary.starts_with("### #100\n\n**Done**: published `burst-00@1.0.0`."));

    // Every one of the 20 has exactly one start and one answer, naming its body; the 19
    // publishes are closed and published, the one without a source is open.
    for issue in tracker
        .issues()
        .iter()
        .filter(|i| (100..120).contains(&i.number))
    {
        let count = |marker: &str| {
            issue
                .comments
                .iter()
                .filter(|c| c.author == FakeIssue::BOT && c.body.contains(marker))
                .count()
        };
        assert_eq!(count("<!-- regis:working body -->"), 1, "#{}", issue.number);
        assert_eq!(
            count("<!-- regis:answered body -->"),
            1,
            "#{}",
            issue.number
        );
        assert_eq!(issue.open, issue.number == 113, "#{}", issue.number);
    }
    let check = Command::new(env!("CARGO_BIN_EXE_regis"))
        .arg("--registry")
        .arg(&t.layout.registry)
        .arg("--storage")
        .arg(&t.layout.storage)
        .arg("check")
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(0), "{}", text(&check));
    assert!(
        String::from_utf8_lossy(&check.stdout).contains("checked 19 packages, 19 versions"),
        "{}",
        text(&check)
    );

    // The next sweep finds nothing to answer, and says nothing on any issue.
    let before = gh.received().len();
    let out = regis(
        &t.layout.registry,
        &[],
        &["--pending", "--repo", "test/registry"],
        &summary,
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    insta::assert_snapshot!(text(&out), @"3 open issues read, oldest first: 0 answered now; left alone: 2 answered before, 1 without a payload");
    assert!(
        gh.received()[before..]
            .iter()
            .all(|r| r.method.as_str() == "GET")
    );
}

#[test]
fn pending_needs_the_repository() {
    let t = TestRegistry::new();
    let dir = tempfile::tempdir().unwrap();
    let out = regis(
        &t.layout.registry,
        &[],
        &["--pending"],
        &dir.path().join("s.md"),
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(text(&out), @"error: `--pending` needs the repository: give `--repo OWNER/NAME` (GitHub Actions sets `GITHUB_REPOSITORY`)");
    let out = regis(&t.layout.registry, &[], &[], &dir.path().join("s.md"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(text(&out), @"error: no event: give `--event FILE` (GitHub Actions sets `GITHUB_EVENT_PATH`), or `--pending`");
}
