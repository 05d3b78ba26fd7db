//! Tags through the server: a signed Alias and Unalias posted to `POST /api/v1/alias` run
//! as jobs like every other operation, and `GET /api/v1/packages/{name}/{spec}` resolves
//! `NAME@TAG` (and `NAME@VERSION`) from the registry's metadata.

use std::path::Path;
use std::time::Duration;

use regis::auth::{SignatureFormat, SigningKey};
use regis::server::access::Scope;
use regis::testing::{self, TestServer};

const BIN: &str = env!("CARGO_BIN_EXE_regis");

fn seeded(seed: u8) -> SigningKey {
    SigningKey::from_openssh(&testing::seeded_key(seed), None).unwrap()
}

/// `text` signed by `key`, as the API takes a signed payload.
fn signed(key: &SigningKey, text: &str) -> String {
    serde_json::json!({
        "payload": text,
        "signature": key.sign(text, SignatureFormat::Raw, "file").unwrap(),
    })
    .to_string()
}

/// Post `body` to `route`, wait for its job, and return it.
fn run(s: &TestServer, route: &str, token: &str, body: &str) -> serde_json::Value {
    let answer = s.post(&format!("/api/v1/{route}"), Some(token), body);
    assert_eq!(answer.status, 201, "{}", answer.body);
    let id = answer.json()["jobId"].as_str().unwrap().to_owned();
    s.finished_job("/api/v1", &id, Duration::from_secs(120))
}

fn messages(job: &serde_json::Value) -> String {
    let lines: Vec<String> = (job["logs"].as_array().unwrap().iter())
        .map(|l| {
            format!(
                "{} {}",
                l["level"].as_str().unwrap(),
                l["message"].as_str().unwrap()
            )
        })
        .collect();
    lines.join("\n")
}

#[test]
fn tags_are_set_resolved_and_removed_through_the_api() {
    let Some(mut s) = TestServer::new(&["main"]) else {
        return;
    };
    for version in ["1.0.0", "2.0.0"] {
        let mut p = s.package("prelude", version, &[]);
        p.manifest.owners = Some(vec![seeded(1).public()]);
        s.push_source(&p);
    }
    let publisher = s.token("main", &[Scope::Publish], None);
    let unpublisher = s.token("main", &[Scope::Unpublish], None);
    s.start(Path::new(BIN));
    for version in ["1.0.0", "2.0.0"] {
        let mut p = s.package("prelude", version, &[]);
        p.manifest.owners = Some(vec![seeded(1).public()]);
        let job = run(&s, "publish", &publisher, &s.publish_payload(&p));
        assert_eq!(job["success"], true, "{}", messages(&job));
    }

    let next = r#"{"name":"prelude","alias":"next","version":"1.0.0"}"#;
    let job = run(&s, "alias", &publisher, &signed(&seeded(1), next));
    assert_eq!(job["success"], true, "{}", messages(&job));
    assert_eq!(job["jobType"], "alias");
    assert_eq!(job["packageVersion"], "1.0.0");
    let resolved = s.get("/api/v1/packages/prelude/next");
    assert_eq!(resolved.status, 200, "{}", resolved.body);
    let resolved = resolved.json();
    assert_eq!(resolved["version"], "1.0.0");
    assert_eq!(resolved["spec"], "next");
    assert!(
        resolved["published"]["hash"]
            .as_str()
            .unwrap()
            .starts_with("sha256-")
    );
    // `latest`, never set, is the newest version; a version resolves to itself.
    assert_eq!(
        s.get("/api/v1/packages/prelude/latest").json()["version"],
        "2.0.0"
    );
    assert_eq!(
        s.get("/registries/main/api/v1/packages/prelude/1.0.0")
            .json()["version"],
        "1.0.0"
    );
    let metadata = testing::remote_file(
        &s.registry_root("main").join("remotes/registry.git"),
        "metadata/prelude.json",
    )
    .unwrap();
    assert!(
        metadata.contains("\"aliases\": {\n    \"next\": \"1.0.0\"\n  }"),
        "{metadata}"
    );

    // Refusals: an unknown tag names those there are, a bad spec or name is a bad request,
    // an unknown package or a version not published is not found.
    let unknown = s.get("/api/v1/packages/prelude/beta");
    assert_eq!(unknown.status, 404);
    assert!(
        unknown.json()["error"]
            .as_str()
            .unwrap()
            .contains("`next` (1.0.0)"),
        "{}",
        unknown.body
    );
    assert_eq!(s.get("/api/v1/packages/prelude/Beta!").status, 400);
    assert_eq!(s.get("/api/v1/packages/Prelude/latest").status, 400);
    assert_eq!(s.get("/api/v1/packages/nothere/latest").status, 404);
    assert_eq!(s.get("/api/v1/packages/prelude/3.0.0").status, 404);
    // The route takes an Alias or an Unalias, with a token that may publish.
    let wrong = s.post(
        "/api/v1/alias",
        Some(&unpublisher),
        &signed(&seeded(1), next),
    );
    assert_eq!(wrong.status, 403, "{}", wrong.body);
    assert!(
        wrong.json()["error"]
            .as_str()
            .unwrap()
            .contains("lacks the `publish` scope")
    );
    let yank = r#"{"name":"prelude","yank":"1.0.0","reason":"broken"}"#;
    let wrong = s.post("/api/v1/alias", Some(&publisher), &signed(&seeded(1), yank));
    assert_eq!(wrong.status, 400, "{}", wrong.body);
    // A stranger's signature is the operation's to refuse: the job fails and says why.
    let moved = r#"{"name":"prelude","alias":"next","version":"2.0.0"}"#;
    let job = run(&s, "alias", &publisher, &signed(&seeded(2), moved));
    assert_eq!(job["success"], false);
    assert!(messages(&job).contains("ERROR"), "{}", messages(&job));
    assert_eq!(
        s.get("/api/v1/packages/prelude/next").json()["version"],
        "1.0.0"
    );

    let gone = r#"{"name":"prelude","unalias":"next"}"#;
    let job = run(&s, "alias", &publisher, &signed(&seeded(1), gone));
    assert_eq!(job["success"], true, "{}", messages(&job));
    assert_eq!(job["jobType"], "unalias");
    assert_eq!(s.get("/api/v1/packages/prelude/next").status, 404);
}
