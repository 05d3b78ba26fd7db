//! `GitHubApi` against a real local HTTP server (wiremock): the requests it sends, how it
//! reads GitHub's answers, and that its errors name the request and never the token.

use regis::github::{GitHub, GitHubApi, GitHubError, IssueRef, RepoRef};
use regis::testing::{self, MockGitHub};
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, ResponseTemplate};

const TOKEN: &str = "ghp_test_token_123";

fn api(server: &MockGitHub) -> GitHubApi {
    GitHubApi::new(&server.uri(), Some(TOKEN.to_owned())).unwrap()
}

fn issue() -> IssueRef {
    IssueRef {
        repo: RepoRef::new("acme", "registry"),
        number: 5,
    }
}

fn authorization(request: &wiremock::Request) -> Option<String> {
    request
        .headers
        .get("authorization")
        .map(|v| v.to_str().unwrap().to_owned())
}

#[test]
fn comment_posts_exactly_the_body_with_the_token() {
    let s = MockGitHub::start();
    s.mount(
        Mock::given(method("POST"))
            .and(path("/repos/acme/registry/issues/5/comments"))
            .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
            .and(body_json(json!({"body": "Published `prelude@6.0.1`."})))
            .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 1})))
            .expect(1),
    );
    api(&s)
        .comment(&issue(), "Published `prelude@6.0.1`.")
        .unwrap();
    let received = s.received();
    assert_eq!(received.len(), 1);
    let body: Value = serde_json::from_slice(&received[0].body).unwrap();
    assert_eq!(body, json!({"body": "Published `prelude@6.0.1`."}));
}

#[test]
fn close_patches_the_state() {
    let s = MockGitHub::start();
    s.mount(
        Mock::given(method("PATCH"))
            .and(path("/repos/acme/registry/issues/5"))
            .and(body_json(json!({"state": "closed"})))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"state": "closed"})))
            .expect(1),
    );
    api(&s).close(&issue()).unwrap();
}

#[test]
fn without_a_token_no_authorization_is_sent() {
    let s = MockGitHub::start();
    s.mount(
        Mock::given(method("PATCH"))
            .and(path("/repos/acme/registry/issues/5"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
            .expect(1),
    );
    GitHubApi::new(&s.uri(), None)
        .unwrap()
        .close(&issue())
        .unwrap();
    assert_eq!(authorization(&s.received()[0]), None);
}

#[test]
fn team_membership_is_active_membership() {
    let s = MockGitHub::start();
    let membership = |state: &str| json!({"url": "https://api.github.com/teams/1/memberships/x", "role": "member", "state": state});
    s.mount(
        Mock::given(method("GET"))
            .and(path("/orgs/acme/teams/trustees/memberships/alice"))
            .respond_with(ResponseTemplate::new(200).set_body_json(membership("active"))),
    );
    s.mount(
        Mock::given(method("GET"))
            .and(path("/orgs/acme/teams/trustees/memberships/bob"))
            .respond_with(ResponseTemplate::new(200).set_body_json(membership("pending"))),
    );
    s.mount(
        Mock::given(method("GET"))
            .and(path("/orgs/acme/teams/trustees/memberships/carol"))
            .respond_with(
                ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"})),
            ),
    );
    s.mount(
        Mock::given(method("GET"))
            .and(path(
                "/orgs/acme/teams/trustees/memberships/github-actions%5Bbot%5D",
            ))
            .respond_with(ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"})))
            .expect(1),
    );
    let api = api(&s);
    assert!(api.is_team_member("acme", "trustees", "alice").unwrap());
    assert!(!api.is_team_member("acme", "trustees", "bob").unwrap());
    assert!(!api.is_team_member("acme", "trustees", "carol").unwrap());
    assert!(
        !api.is_team_member("acme", "trustees", "github-actions[bot]")
            .unwrap()
    );
    for r in s.received() {
        assert_eq!(authorization(&r), Some(format!("Bearer {TOKEN}")));
    }
}

#[test]
fn repository_unchanged_renamed_and_missing() {
    let s = MockGitHub::start();
    s.mount(
        Mock::given(method("GET"))
            .and(path("/repos/acme/same"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(testing::repository_json("acme", "same")),
            ),
    );
    // What GitHub does for a renamed or transferred repository.
    s.mount(
        Mock::given(method("GET"))
            .and(path("/repos/old/name"))
            .respond_with(
                ResponseTemplate::new(301)
                    .insert_header("location", format!("{}/repositories/123", s.uri()).as_str())
                    .set_body_json(json!({
                        "message": "Moved Permanently",
                        "url": format!("{}/repositories/123", s.uri()),
                    })),
            )
            .expect(1),
    );
    s.mount(
        Mock::given(method("GET"))
            .and(path("/repositories/123"))
            .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(testing::repository_json("new-owner", "new-name")),
            )
            .expect(1),
    );
    s.mount(
        Mock::given(method("GET"))
            .and(path("/repos/gone/repo"))
            .respond_with(
                ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"})),
            ),
    );
    let api = api(&s);
    assert_eq!(
        api.repository(&RepoRef::new("acme", "same")).unwrap(),
        Some(RepoRef::new("acme", "same"))
    );
    assert_eq!(
        api.repository(&RepoRef::new("old", "name")).unwrap(),
        Some(RepoRef::new("new-owner", "new-name"))
    );
    assert_eq!(api.repository(&RepoRef::new("gone", "repo")).unwrap(), None);
}

#[test]
fn an_api_url_with_a_path_prefixes_every_request() {
    let s = MockGitHub::start();
    s.mount(
        Mock::given(method("POST"))
            .and(path("/api/v3/repos/acme/registry/issues/5/comments"))
            .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 1})))
            .expect(1),
    );
    s.mount(
        Mock::given(method("GET"))
            .and(path("/api/v3/repos/acme/same"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(testing::repository_json("acme", "same")),
            )
            .expect(1),
    );
    for base in [
        format!("{}/api/v3", s.uri()),
        format!("{}/api/v3/", s.uri()),
    ] {
        let api = GitHubApi::new(&base, Some(TOKEN.to_owned())).unwrap();
        if base.ends_with('/') {
            assert!(
                api.repository(&RepoRef::new("acme", "same"))
                    .unwrap()
                    .is_some()
            );
        } else {
            api.comment(&issue(), "hi").unwrap();
        }
    }
}

#[test]
fn error_answers_name_the_request_and_status_and_never_the_token() {
    let s = MockGitHub::start();
    s.mount(
        Mock::given(method("POST"))
            .and(path("/repos/acme/registry/issues/5/comments"))
            .respond_with(
                ResponseTemplate::new(403).set_body_json(json!({
                    "message": "Resource not accessible by integration",
                    "documentation_url": "https://docs.github.com/rest/issues/comments#create-an-issue-comment",
                })),
            ),
    );
    s.mount(
        Mock::given(method("PATCH"))
            .and(path("/repos/acme/registry/issues/5"))
            .respond_with(ResponseTemplate::new(500).set_body_string(format!("oops {TOKEN}"))),
    );
    s.mount(
        Mock::given(method("GET"))
            .and(path("/repos/acme/weird"))
            .respond_with(ResponseTemplate::new(200).set_body_string("<html>")),
    );
    let api = api(&s);
    let e = api.comment(&issue(), "hi").unwrap_err();
    assert!(
        matches!(e, GitHubError::Status { status: 403, .. }),
        "{e:?}"
    );
    insta::assert_snapshot!(e, @"request `POST /repos/acme/registry/issues/5/comments` failed: GitHub answered `403 Forbidden`: Resource not accessible by integration");

    // A 500 is retried by the client, then reported; a body echoing the token is scrubbed.
    let e = api.close(&issue()).unwrap_err();
    assert!(
        matches!(e, GitHubError::Status { status: 500, .. }),
        "{e:?}"
    );
    let text = e.to_string();
    assert!(
        !text.contains(TOKEN) && !format!("{e:?}").contains(TOKEN),
        "{text}"
    );
    assert!(
        text.starts_with("request `PATCH /repos/acme/registry/issues/5` failed: GitHub answered `500 Internal Server Error`: "),
        "{text}"
    );

    let e = api.repository(&RepoRef::new("acme", "weird")).unwrap_err();
    insta::assert_snapshot!(e, @"request `GET /repos/acme/weird` got an unexpected answer from GitHub: the body is not JSON: expected value at line 1 column 1");
}

#[test]
fn an_unreachable_server_is_a_network_error_naming_the_request() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let api = GitHubApi::new(&url, Some(TOKEN.to_owned())).unwrap();
    let e = api
        .repository(&RepoRef::new("acme", "registry"))
        .unwrap_err();
    assert!(matches!(e, GitHubError::Network { .. }), "{e:?}");
    let text = e.to_string();
    assert!(
        text.starts_with(&format!(
            "request `GET /repos/acme/registry` to GitHub at `{url}` failed: "
        )),
        "{text}"
    );
    assert!(!text.contains(TOKEN), "{text}");
}

/// The open issues come page by page (100 each), oldest first as GitHub sorts them, pull
/// requests left out; the listing stops at a page that is not full, or at the page limit
/// (then saying more may follow).
#[test]
fn open_issues_are_read_page_by_page_without_pull_requests() {
    use regis::testing::FakeIssue;
    let s = MockGitHub::start();
    let issues: Vec<FakeIssue> = (1..=150)
        .map(|n| FakeIssue {
            pull_request: n % 50 == 0,
            ..FakeIssue::new(
                n,
                "someone",
                "",
                &format!("2024-05-01T10:{:02}:00Z", n % 60),
            )
        })
        .collect();
    s.serve_issues("acme/registry", issues);
    let repo = RepoRef::new("acme", "registry");
    let all = api(&s).open_issues(&repo, 10).unwrap();
    assert_eq!((all.pages, all.truncated), (2, false));
    assert_eq!(all.items.len(), 147);
    assert_eq!(all.items[0].number, 1);
    assert_eq!(all.items[0].author, "someone");
    assert_eq!(
        all.items[0].created_at.to_rfc3339(),
        "2024-05-01T10:01:00+00:00"
    );
    assert!(
        all.items.iter().all(|i| i.number % 50 != 0),
        "no pull requests"
    );
    let first = api(&s).open_issues(&repo, 1).unwrap();
    assert_eq!(
        (first.pages, first.truncated, first.items.len()),
        (1, true, 98)
    );
    let queries: Vec<String> = s
        .received()
        .iter()
        .map(|r| {
            format!(
                "{} {}?{}",
                r.method,
                r.url.path(),
                r.url.query().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        queries,
        [
            "GET /repos/acme/registry/issues?state=open&sort=created&direction=asc&per_page=100&page=1",
            "GET /repos/acme/registry/issues?state=open&sort=created&direction=asc&per_page=100&page=2",
            "GET /repos/acme/registry/issues?state=open&sort=created&direction=asc&per_page=100&page=1",
        ]
    );
    assert!(
        s.received()
            .iter()
            .all(|r| authorization(r) == Some(format!("Bearer {TOKEN}")))
    );
}

#[test]
fn issue_comments_are_read_oldest_first() {
    use regis::testing::FakeIssue;
    let s = MockGitHub::start();
    s.serve_issues(
        "acme/registry",
        vec![
            FakeIssue::new(5, "ann", "{}", "2024-05-01T10:00:00Z")
                .comment("bob", "first", "2024-05-01T10:05:00Z")
                .comment("github-actions[bot]", "**Done**", "2024-05-01T10:06:00Z"),
        ],
    );
    let comments = api(&s).issue_comments(&issue(), 10).unwrap();
    assert_eq!((comments.pages, comments.truncated), (1, false));
    let said: Vec<(&str, &str)> = comments
        .items
        .iter()
        .map(|c| (c.author.as_str(), c.body.as_str()))
        .collect();
    assert_eq!(
        said,
        [("bob", "first"), ("github-actions[bot]", "**Done**")]
    );
    assert_eq!(
        s.received()[0].url.query(),
        Some("per_page=100&page=1"),
        "asks for full pages"
    );
}

#[test]
fn listing_errors_name_the_request_and_never_the_token() {
    let s = MockGitHub::start();
    s.mount(
        Mock::given(method("GET"))
            .and(path("/repos/acme/registry/issues"))
            .respond_with(
                ResponseTemplate::new(403)
                    .set_body_json(json!({"message": format!("bad credentials {TOKEN}")})),
            ),
    );
    s.mount(
        Mock::given(method("GET"))
            .and(path("/repos/acme/registry/issues/5/comments"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"not": "a list"}))),
    );
    let e = api(&s)
        .open_issues(&RepoRef::new("acme", "registry"), 3)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "request `GET /repos/acme/registry/issues?state=open&sort=created&direction=asc&per_page=100&page=1` failed: GitHub answered `403 Forbidden`: bad credentials ***"
    );
    let e = api(&s).issue_comments(&issue(), 3).unwrap_err();
    assert!(matches!(e, GitHubError::Response { .. }), "{e}");
    assert!(
        e.to_string().ends_with("the body is not a JSON array"),
        "{e}"
    );
}
