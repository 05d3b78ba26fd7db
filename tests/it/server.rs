//! `regis serve` over real HTTP on 127.0.0.1: the PureScript Registry's API shapes, the
//! durable job queue, tokens, organizations and quotas. Each test runs `regis serve` as a
//! real process (`regis::testing::TestServer`) and asserts what landed in the registry's
//! bare remote, its storage and the job logs, besides the answers.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use regis::auth::{SignatureFormat, SigningKey};
use regis::payload::Authenticated;
use regis::schema::Timestamp;
use regis::server::access::{self, Scope, TokenRequest};
use regis::testing::{self, Answer, TestServer};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_regis");
const JOB_TIMEOUT: Duration = Duration::from_secs(120);

fn bin() -> &'static Path {
    Path::new(BIN)
}

fn regis(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn seeded(seed: u8) -> SigningKey {
    SigningKey::from_openssh(&testing::seeded_key(seed), None).unwrap()
}

/// The body of a signed payload: `payload` signed by `key` as `regis sign` signs it.
fn signed(key: &SigningKey, payload: &str) -> String {
    serde_json::to_string(&Authenticated {
        payload: payload.to_owned(),
        signature: key.sign(payload, SignatureFormat::Raw, "file").unwrap(),
    })
    .unwrap()
}

/// The job id of an answer with `status`.
fn job_id(answer: &Answer, status: u16) -> String {
    assert_eq!(answer.status, status, "{}", answer.body);
    answer.json()["jobId"].as_str().unwrap().to_owned()
}

/// The refusal of an answer with `status`: its `error` message, after checking its `code`.
fn refusal(answer: &Answer, status: u16, code: &str) -> String {
    assert_eq!(answer.status, status, "{}", answer.body);
    let body = answer.json();
    assert_eq!(body["code"], code, "{body}");
    body["error"].as_str().unwrap().to_owned()
}

/// The bare remote of `registry`'s registry repo.
fn remote(s: &TestServer, registry: &str) -> PathBuf {
    s.registry_root(registry).join("remotes/registry.git")
}

fn metadata(s: &TestServer, registry: &str, name: &str) -> Option<Value> {
    testing::remote_file(&remote(s, registry), &format!("metadata/{name}.json"))
        .map(|t| serde_json::from_str(&t).unwrap())
}

/// A job's log messages, in order.
fn messages(job: &Value) -> Vec<String> {
    (job["logs"].as_array().unwrap().iter())
        .map(|l| l["message"].as_str().unwrap().to_owned())
        .collect()
}

/// `method path` as a raw HTTP/1.1 request, the path and `headers` sent exactly as
/// written (an HTTP client would resolve `..` and `%2e%2e` first, and send only the
/// `Authorization` it makes); the status and the body's bytes.
fn raw(s: &TestServer, method: &str, path: &str, headers: &[&str], body: &[u8]) -> (u16, Vec<u8>) {
    let addr = s.url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for header in headers {
        request.push_str(&format!("{header}\r\n"));
    }
    if !body.is_empty() {
        request.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let end = (response.windows(4).position(|w| w == b"\r\n\r\n"))
        .unwrap_or_else(|| panic!("not an HTTP answer: {}", text(&response)));
    let head = text(&response[..end]);
    let status = (head.split(' ').nth(1).and_then(|s| s.parse().ok()))
        .unwrap_or_else(|| panic!("not an HTTP answer: {head}"));
    (status, response[end + 4..].to_vec())
}

fn raw_get(s: &TestServer, path: &str) -> (u16, Vec<u8>) {
    raw(s, "GET", path, &[], b"")
}

/// A token of `registry` made at `now`, valid for a year from it (the server may run at a
/// `REGIS_NOW` of its own).
fn token_at(
    s: &TestServer,
    registry: &str,
    scopes: &[Scope],
    org: Option<(&str, &str)>,
    now: Timestamp,
    expires_at: Timestamp,
) -> (String, String) {
    let mut db = regis::server::Home::new(&s.home).open_db().unwrap();
    let request = TokenRequest {
        registry: registry.to_owned(),
        org: org.map(|(o, m)| (o.to_owned(), m.to_owned())),
        scopes: scopes.to_vec(),
        label: "test".into(),
        expires_at,
    };
    let made = access::create_token(&mut db, &request, now).unwrap();
    (made.secret.reveal().to_owned(), made.info.id)
}

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn hours_after(t: Timestamp, hours: i64) -> Timestamp {
    Timestamp::from_datetime(t.as_datetime() + chrono::Duration::hours(hours))
}

#[test]
fn a_publish_through_the_api_runs_as_a_job_and_lands_in_the_registry() {
    let Some(mut s) = TestServer::new(&["main"]) else {
        return;
    };
    let p = s.package("served", "1.0.0", &[]);
    s.push_source(&p);
    let token = s.token("main", &[Scope::Publish], None);
    s.start(bin());
    let answer = s.post("/api/v1/publish", Some(&token), &s.publish_payload(&p));
    let id = job_id(&answer, 201);
    let job = s.finished_job("/api/v1", &id, JOB_TIMEOUT);
    assert_eq!(job["success"], true, "{job:#}");
    assert_eq!(job["jobType"], "publish");
    assert_eq!(job["packageName"], "served");
    let metadata = metadata(&s, "main", "served").expect("the publish pushed metadata");
    assert!(metadata["published"]["1.0.0"].is_object(), "{metadata}");
    let tarball = s.get("/registries/main/static/served/1.0.0.tar.gz");
    assert_eq!(tarball.status, 200);
}

/// Every route of the API, with what each does to the registry: the publish, the signed
/// operations, the package sets, the job listings and logs, the static files; and each
/// refusal a request's body, route or registry gets.
#[test]
fn every_route_answers_and_does_what_it_says() {
    let Some(mut s) = TestServer::new(&["main", "second"]) else {
        return;
    };
    let owner = seeded(1);
    let mut p = s.package("served", "1.0.0", &[]);
    p.manifest.owners = Some(vec![owner.public()]);
    s.push_source(&p);
    let other = s.package("other", "1.0.0", &[]);
    s.push_source(&other);
    let publisher = s.token("main", &[Scope::Publish], None);
    let unpublisher = s.token("main", &[Scope::Unpublish], None);
    let transferrer = s.token("main", &[Scope::Transfer], None);
    let admin = s.token("main", &[Scope::Admin], None);
    let second = s.token("second", &[Scope::Publish], None);
    s.start(bin());
    let api = "/api/v1";
    let mut ids = Vec::new();

    // publish: 201 with a new job; the same payload again (spaced otherwise) is that job.
    let payload = s.publish_payload(&p);
    let published = job_id(&s.post("/api/v1/publish", Some(&publisher), &payload), 201);
    let pretty =
        serde_json::to_string_pretty(&serde_json::from_str::<Value>(&payload).unwrap()).unwrap();
    let again = s.post("/api/v1/publish", Some(&publisher), &pretty);
    assert_eq!(job_id(&again, 200), published);
    let job = s.finished_job(api, &published, JOB_TIMEOUT);
    assert_eq!(job["success"], true, "{job:#}");
    ids.push(published.clone());
    let levels: Vec<&str> = (job["logs"].as_array().unwrap().iter())
        .map(|l| l["level"].as_str().unwrap())
        .collect();
    assert_eq!(levels.first(), Some(&"INFO"), "{job:#}");
    assert_eq!(levels.last(), Some(&"NOTICE"), "{job:#}");
    for line in job["logs"].as_array().unwrap() {
        assert_eq!(line["jobId"], published.as_str());
        Timestamp::parse(line["timestamp"].as_str().unwrap()).unwrap();
    }
    let said = messages(&job);
    assert!(
        said[0].starts_with("Accepted the publish of `served@1.0.0` (token `tok_"),
        "{said:?}"
    );
    assert_eq!(
        said[1],
        "Running the publish of `served@1.0.0` in registry `main`."
    );
    assert_eq!(said.last().unwrap(), "Done: published `served@1.0.0`.");
    assert_eq!(
        job["payload"],
        serde_json::from_str::<Value>(&payload).unwrap()
    );
    assert_eq!(
        (&job["jobType"], &job["packageName"], &job["packageVersion"]),
        (&json!("publish"), &json!("served"), &json!("1.0.0"))
    );
    for key in ["createdAt", "startedAt", "finishedAt"] {
        Timestamp::parse(job[key].as_str().unwrap()).unwrap();
    }
    let served = metadata(&s, "main", "served").unwrap();
    assert!(served["published"]["1.0.0"].is_object(), "{served}");
    // The tarball is served from storage, byte for byte.
    let storage = s.registry_root("main").join("storage");
    let stored = std::fs::read(storage.join("served/1.0.0.tar.gz")).unwrap();
    let tarball = s.get("/registries/main/static/served/1.0.0.tar.gz");
    assert_eq!(tarball.status, 200);
    assert_eq!(tarball.headers["content-type"], "application/gzip");
    assert_eq!(
        raw_get(&s, "/registries/main/static/served/1.0.0.tar.gz"),
        (200, stored.clone())
    );
    assert_eq!(
        served["published"]["1.0.0"]["bytes"],
        json!(stored.len()),
        "{served}"
    );

    // A payload whose job fails is no duplicate: sent again, it is queued anew.
    let missing = s.package("missing", "1.0.0", &[]);
    let failing = s.publish_payload(&missing);
    let first = job_id(&s.post("/api/v1/publish", Some(&publisher), &failing), 201);
    let job = s.finished_job(api, &first, JOB_TIMEOUT);
    assert_eq!(job["success"], false, "{job:#}");
    let second_try = job_id(&s.post("/api/v1/publish", Some(&publisher), &failing), 201);
    assert_ne!(second_try, first);
    s.finished_job(api, &second_try, JOB_TIMEOUT);
    ids.extend([first.clone(), second_try.clone()]);
    // `level=ERROR` keeps the error lines only.
    let errors = s.get(&format!("/api/v1/jobs/{first}?level=ERROR")).json();
    let levels: Vec<&Value> = (errors["logs"].as_array().unwrap().iter())
        .map(|l| &l["level"])
        .collect();
    assert!(
        !levels.is_empty() && levels.iter().all(|l| *l == "ERROR"),
        "{errors:#}"
    );
    let all = s.get(&format!("/api/v1/jobs/{first}")).json();
    assert!(
        all["logs"].as_array().unwrap().len() > levels.len(),
        "{all:#}"
    );
    assert!(
        messages(&errors)
            .last()
            .unwrap()
            .starts_with("The publish of `missing@1.0.0` failed: "),
        "{errors:#}"
    );
    assert!(metadata(&s, "main", "missing").is_none());

    // yank and unyank: the metadata's `yanked` entry comes and goes.
    let yank = signed(
        &owner,
        r#"{"name":"served","yank":"1.0.0","reason":"breaks on node 22"}"#,
    );
    let id = job_id(&s.post("/api/v1/yank", Some(&unpublisher), &yank), 201);
    let job = s.finished_job(api, &id, JOB_TIMEOUT);
    assert_eq!(job["success"], true, "{job:#}");
    assert_eq!(
        (&job["jobType"], &job["packageName"], &job["packageVersion"]),
        (&json!("yank"), &json!("served"), &json!("1.0.0"))
    );
    assert_eq!(
        messages(&job).last().unwrap(),
        "Done: yanked `served@1.0.0`."
    );
    ids.push(id);
    let served = metadata(&s, "main", "served").unwrap();
    assert_eq!(
        served["yanked"]["1.0.0"]["reason"], "breaks on node 22",
        "{served}"
    );
    let unyank = signed(&owner, r#"{"name":"served","unyank":"1.0.0"}"#);
    let id = job_id(&s.post("/api/v1/yank", Some(&unpublisher), &unyank), 201);
    let job = s.finished_job(api, &id, JOB_TIMEOUT);
    assert_eq!(job["jobType"], "unyank", "{job:#}");
    assert_eq!(
        messages(&job).last().unwrap(),
        "Done: unyanked `served@1.0.0`."
    );
    ids.push(id);
    assert!(
        metadata(&s, "main", "served")
            .unwrap()
            .get("yanked")
            .is_none()
    );

    // deprecate
    let deprecate = signed(&owner, r#"{"name":"served","message":"use `other`"}"#);
    let id = job_id(
        &s.post("/api/v1/deprecate", Some(&publisher), &deprecate),
        201,
    );
    let job = s.finished_job(api, &id, JOB_TIMEOUT);
    assert_eq!(messages(&job).last().unwrap(), "Done: deprecated `served`.");
    ids.push(id);
    let served = metadata(&s, "main", "served").unwrap();
    assert_eq!(served["deprecated"]["message"], "use `other`", "{served}");

    // package-sets: the first set, with `served` in it.
    let id = job_id(
        &s.post(
            "/api/v1/package-sets",
            Some(&publisher),
            r#"{"packages": {"served": "1.0.0"}}"#,
        ),
        201,
    );
    let job = s.finished_job(api, &id, JOB_TIMEOUT);
    assert_eq!(job["success"], true, "{job:#}");
    assert_eq!(job["jobType"], "packageset");
    assert_eq!(
        messages(&job).last().unwrap(),
        "Done: published package set `0.1.0`."
    );
    ids.push(id);
    let set: Value = serde_json::from_str(
        &testing::remote_file(&remote(&s, "main"), "package-sets/0.1.0.json").unwrap(),
    )
    .unwrap();
    assert_eq!(set["packages"], json!({"served": "1.0.0"}));

    // transfer: the metadata's location moves.
    let transfer = signed(
        &owner,
        r#"{"name":"served","newLocation":{"githubOwner":"test","githubRepo":"moved"}}"#,
    );
    let id = job_id(
        &s.post("/api/v1/transfer", Some(&transferrer), &transfer),
        201,
    );
    let job = s.finished_job(api, &id, JOB_TIMEOUT);
    assert_eq!(job["success"], true, "{job:#}");
    assert_eq!(job["jobType"], "transfer");
    ids.push(id);
    assert_eq!(
        metadata(&s, "main", "served").unwrap()["location"],
        json!({"githubOwner": "test", "githubRepo": "moved"})
    );

    // unpublish: refused while the version is in the latest set, whose removal only an
    // `admin` token (a trustee) may ask for; then the version moves to `unpublished` and
    // its tarball is no longer served.
    let unpublish = signed(
        &owner,
        r#"{"name":"served","version":"1.0.0","reason":"a broken build"}"#,
    );
    let id = job_id(
        &s.post("/api/v1/unpublish", Some(&unpublisher), &unpublish),
        201,
    );
    let job = s.finished_job(api, &id, JOB_TIMEOUT);
    assert_eq!(job["success"], false, "{job:#}");
    assert_eq!(
        messages(&job).last().unwrap(),
        "The unpublish of `served@1.0.0` failed: `served@1.0.0` is in the latest package set `0.1.0`: a trustee must remove or update it there (a package set update) before it can be unpublished"
    );
    ids.push(id);
    let removal = r#"{"packages": {"served": null}}"#;
    let id = job_id(
        &s.post("/api/v1/package-sets", Some(&publisher), removal),
        201,
    );
    let job = s.finished_job(api, &id, JOB_TIMEOUT);
    assert_eq!(job["success"], false, "{job:#}");
    assert!(
        messages(&job)
            .iter()
            .any(|m| m.contains("only a trustee may remove")),
        "{job:#}"
    );
    ids.push(id);
    let id = job_id(&s.post("/api/v1/package-sets", Some(&admin), removal), 201);
    let job = s.finished_job(api, &id, JOB_TIMEOUT);
    assert_eq!(job["success"], true, "{job:#}");
    ids.push(id);
    // The unpublish that failed is queued anew.
    let id = job_id(
        &s.post("/api/v1/unpublish", Some(&unpublisher), &unpublish),
        201,
    );
    let job = s.finished_job(api, &id, JOB_TIMEOUT);
    assert_eq!(job["success"], true, "{job:#}");
    assert_eq!(
        messages(&job).last().unwrap(),
        "Done: unpublished `served@1.0.0`."
    );
    ids.push(id);
    let served = metadata(&s, "main", "served").unwrap();
    assert_eq!(served["published"], json!({}), "{served}");
    assert_eq!(
        served["unpublished"]["1.0.0"]["reason"], "a broken build",
        "{served}"
    );
    assert_eq!(
        s.get("/registries/main/static/served/1.0.0.tar.gz").status,
        404
    );

    // A second registry under its prefix: its own token, queue and remote.
    let other_payload = s.publish_payload(&other);
    let theirs = job_id(
        &s.post(
            "/registries/second/api/v1/publish",
            Some(&second),
            &other_payload,
        ),
        201,
    );
    let job = s.finished_job("/registries/second/api/v1", &theirs, JOB_TIMEOUT);
    assert_eq!(job["success"], true, "{job:#}");
    assert!(metadata(&s, "second", "other").is_some());
    assert!(metadata(&s, "main", "other").is_none());
    assert_eq!(
        s.get("/registries/second/static/other/1.0.0.tar.gz").status,
        200
    );
    assert_eq!(
        s.get("/registries/main/static/other/1.0.0.tar.gz").status,
        404
    );
    // The default registry is `main` under both prefixes.
    let mine = s.get(&format!("/registries/main/api/v1/jobs/{published}"));
    assert_eq!(mine.status, 200);
    assert_eq!(mine.json()["jobId"], published.as_str());
    // Another registry's job is not found under this one, either way.
    let e = refusal(
        &s.get(&format!("/registries/second/api/v1/jobs/{published}")),
        404,
        "not-found",
    );
    assert_eq!(e, format!("registry `second` has no job `{published}`"));
    let e = refusal(&s.get(&format!("/api/v1/jobs/{theirs}")), 404, "not-found");
    assert_eq!(e, format!("registry `main` has no job `{theirs}`"));
    let e = refusal(&s.get("/api/v1/jobs/nope"), 404, "not-found");
    assert_eq!(e, "registry `main` has no job `nope`");

    // GET jobs: the unfinished ones unless `include_completed`, oldest first unless
    // `order=DESC`, created within `since` and `until`.
    assert_eq!(s.get("/api/v1/jobs").json(), json!([]));
    let listed = |query: &str| -> Vec<String> {
        let answer = s.get(&format!("/api/v1/jobs?{query}"));
        assert_eq!(answer.status, 200, "{}", answer.body);
        (answer.json().as_array().unwrap().iter())
            .map(|j| {
                assert!(j.get("logs").is_some_and(|l| l == &json!([])), "{j}");
                j["jobId"].as_str().unwrap().to_owned()
            })
            .collect()
    };
    assert_eq!(listed("include_completed=true"), ids);
    let mut reversed = ids.clone();
    reversed.reverse();
    assert_eq!(listed("include_completed=true&order=DESC"), reversed);
    let created = |id: &str| {
        s.get(&format!("/api/v1/jobs/{id}")).json()["createdAt"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (from, to) = (created(&ids[1]), created(&ids[3]));
    assert_eq!(
        listed(&format!("include_completed=true&since={from}&until={to}")),
        ids[1..=3]
    );
    assert_eq!(
        listed("include_completed=true&since=2999-01-01T00:00:00.000Z"),
        Vec::<String>::new()
    );
    let e = refusal(&s.get("/api/v1/jobs?order=UP"), 400, "bad-request");
    assert_eq!(e, "`order` is `UP`: expected `ASC` or `DESC`");
    let e = refusal(
        &s.get("/api/v1/jobs?include_completed=yes"),
        400,
        "bad-request",
    );
    assert_eq!(
        e,
        "`include_completed` is `yes`: expected `true` or `false`"
    );
    let e = refusal(&s.get("/api/v1/jobs?since=yesterday"), 400, "bad-request");
    assert_eq!(
        e,
        "`since` is `yesterday`: expected a time `YYYY-MM-DDTHH:MM:SS.mmmZ`"
    );
    let e = refusal(
        &s.get(&format!("/api/v1/jobs/{published}?level=LOUD")),
        400,
        "bad-request",
    );
    assert_eq!(
        e,
        "`level` is `LOUD`: expected `DEBUG`, `INFO`, `WARN`, `NOTICE` or `ERROR`"
    );

    // A body of another kind than the route takes, a body that is no payload, and one
    // over the limit; each refused before anything is queued.
    let e = refusal(
        &s.post("/api/v1/publish", Some(&publisher), &yank),
        400,
        "bad-request",
    );
    assert_eq!(
        e,
        "this route takes a Publish payload, and the body is a yank payload"
    );
    for (route, body, expected) in [
        ("yank", payload.as_str(), "a signed Yank or Unyank payload"),
        ("unpublish", yank.as_str(), "a signed Unpublish payload"),
        ("transfer", unpublish.as_str(), "a signed Transfer payload"),
        ("deprecate", transfer.as_str(), "a signed Deprecate payload"),
        (
            "package-sets",
            deprecate.as_str(),
            "a PackageSetUpdate payload",
        ),
    ] {
        let answer = s.post(&format!("/api/v1/{route}"), Some(&publisher), body);
        let e = refusal(&answer, 400, "bad-request");
        assert!(
            e.starts_with(&format!("this route takes {expected}, and the body is a ")),
            "{route}: {e}"
        );
    }
    let e = refusal(
        &s.post("/api/v1/publish", Some(&publisher), r#"{"name": "#),
        400,
        "bad-request",
    );
    insta::assert_snapshot!(e, @"the body is not a payload regis reads: the payload is not valid JSON: EOF while parsing a value at line 1 column 9");
    let e = refusal(
        &s.post("/api/v1/publish", Some(&publisher), r#"{"pkg": "a"}"#),
        400,
        "bad-request",
    );
    insta::assert_snapshot!(e, @"the body is not a payload regis reads: the payload has keys `pkg`: expected `Publish {name, location?, ref, version, compiler?, resolutions?, ownersSignature?, releaseSignature?}`, `Authenticated {payload, signature}`, `PackageSetUpdate {compiler?, packages}`, or the older `Addition {packageName, newPackageLocation, newRef, buildPlan}` / `Update {packageName, updateRef, buildPlan}`");
    // A `gitUrl` whose scheme is not in `gitSchemes` (`https`, `git` here).
    let local = json!({
        "name": "local", "ref": "v1.0.0", "version": "1.0.0",
        "location": {"gitUrl": "file:///etc/regis.git"},
    })
    .to_string();
    let e = refusal(
        &s.post("/api/v1/publish", Some(&publisher), &local),
        400,
        "bad-request",
    );
    assert_eq!(
        e,
        "`gitUrl` `file:///etc/regis.git` is not a URL this server fetches: expected a `https://`, `git://` URL"
    );
    let big = format!(
        r#"{{"name": "big", "ref": "{}", "version": "1.0.0"}}"#,
        "x".repeat(regis::server::api::BODY_MAX_BYTES)
    );
    let answer = s.post("/api/v1/publish", Some(&publisher), &big);
    let e = refusal(&answer, 413, "too-large");
    assert_eq!(
        e,
        "the body is over 1,048,576 bytes: expected a payload of at most that"
    );
    let bearer = format!("Authorization: Bearer {publisher}");
    let (status, body) = raw(
        &s,
        "POST",
        "/api/v1/publish",
        &[&bearer],
        b"{\"name\": \"\xff\"}",
    );
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (status, &body["code"]),
        (400, &json!("bad-request")),
        "{body}"
    );
    insta::assert_snapshot!(body["error"].as_str().unwrap(), @"the body could not be read: Request body didn't contain valid UTF-8: invalid utf-8 sequence of 1 bytes from index 10");
    assert_eq!(listed("include_completed=true"), ids, "nothing was queued");

    // status, an unknown registry, an unknown route.
    assert_eq!(s.get("/api/v1/status").status, 200);
    assert_eq!(s.get("/registries/second/api/v1/status").status, 200);
    let e = refusal(&s.get("/registries/nope/api/v1/status"), 404, "not-found");
    assert_eq!(e, "this server has no registry `nope`");
    let e = refusal(
        &s.post(
            "/registries/nope/api/v1/publish",
            Some(&publisher),
            &payload,
        ),
        404,
        "not-found",
    );
    assert_eq!(e, "this server has no registry `nope`");
    let e = refusal(&s.get("/api/v2/jobs"), 404, "not-found");
    assert_eq!(
        e,
        "no such route: the API is under `/api/v1/` and `/registries/<name>/api/v1/`"
    );

    // CORS: any origin reads; a preflight is answered 204.
    let answer = s.get("/api/v1/status");
    assert_eq!(answer.headers["access-control-allow-origin"], "*");
    assert_eq!(
        answer.headers["access-control-allow-methods"],
        "GET, HEAD, POST, OPTIONS"
    );
    assert_eq!(answer.headers["vary"], "Origin");
    let preflight = s
        .request(reqwest::Method::OPTIONS, "/api/v1/publish", None, None)
        .unwrap();
    assert_eq!(preflight.status, 204, "{}", preflight.body);
    assert_eq!(preflight.headers["access-control-allow-origin"], "*");
    assert_eq!(
        preflight.headers["access-control-allow-headers"],
        "Content-Type, Authorization"
    );
    assert_eq!(preflight.headers["access-control-max-age"], "86400");
    assert_eq!(preflight.body, "");

    // static: a file of storage, and nothing outside it or hidden in it (an interrupted
    // write, a link out of it).
    let theirs = s.registry_root("second").join("storage");
    std::fs::write(theirs.join("other/.1.0.1.tar.gz.part"), "half").unwrap();
    std::os::unix::fs::symlink(s.home.join("private/regis.sqlite"), theirs.join("db")).unwrap();
    let stored = std::fs::read(theirs.join("other/1.0.0.tar.gz")).unwrap();
    assert_eq!(
        raw_get(&s, "/registries/second/static/other/1.0.0.tar.gz"),
        (200, stored)
    );
    for path in [
        "/registries/main/static/../../../private/regis.sqlite",
        "/registries/main/static/%2e%2e/%2e%2e/%2e%2e/private/regis.sqlite",
        "/registries/main/static/%2E%2E%2F%2E%2E%2F%2E%2E%2Fprivate%2Fregis.sqlite",
        "/registries/main/static/..%2f..%2f..%2fregis-server.dhall",
        "/registries/main/static//etc/passwd",
        "/registries/main/static/%2fetc%2fpasswd",
        "/registries/second/static/other/.1.0.1.tar.gz.part",
        "/registries/second/static/other/./1.0.0.tar.gz",
        "/registries/second/static/other//1.0.0.tar.gz",
        "/registries/second/static/db",
        "/registries/second/static/other",
        "/registries/second/static/",
        "/registries/main/static/../../second/storage/other/1.0.0.tar.gz",
        "/registries/nope/static/other/1.0.0.tar.gz",
    ] {
        let (status, body) = raw_get(&s, path);
        let body = text(&body);
        assert_eq!(status, 404, "{path}: {body}");
        assert!(!body.contains("SQLite"), "{path}: {body}");
    }
}

/// `regis ARGS --home <home>`, which must succeed; its stdout.
fn cli(s: &TestServer, args: &[&str]) -> String {
    let home = s.home.to_str().unwrap();
    let args: Vec<&str> = args.iter().copied().chain(["--home", home]).collect();
    let out = regis(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Each way a request's token may fail to let it through, refused with its status and a
/// message naming the token by its id; what a token may do, allowed; and no token's secret
/// in any answer, job log or the server's log.
#[test]
fn tokens_let_through_only_what_they_may_do_and_are_never_shown() {
    let Some(mut s) = TestServer::new(&["main", "second"]) else {
        return;
    };
    let owner = seeded(1);
    for name in ["open", "acme-tools", "acme-kit"] {
        let mut p = s.package(name, "1.0.0", &[]);
        p.manifest.owners = Some(vec![owner.public()]);
        s.push_source(&p);
    }
    cli(
        &s,
        &[
            "org", "create", "acme", "--prefix", "acme-", "--member", "alice", "--member", "bob",
        ],
    );
    cli(
        &s,
        &[
            "org", "create", "beta", "--prefix", "beta-", "--member", "carol",
        ],
    );
    let made: Value = serde_json::from_str(&cli(
        &s,
        &[
            "--json", "token", "create", "--scope", "publish", "--org", "acme", "--member", "alice",
        ],
    ))
    .unwrap();
    let (alice, alice_id) = (
        made["token"].as_str().unwrap().to_owned(),
        made["id"].as_str().unwrap().to_owned(),
    );
    let carol = s.token("main", &[Scope::Publish], Some(("beta", "carol")));
    let publisher = s.token("main", &[Scope::Publish], None);
    let admin = s.token("main", &[Scope::Admin], None);
    let second = s.token("second", &[Scope::Admin], None);
    let now = Timestamp::now();
    let (expired, expired_id) = token_at(
        &s,
        "main",
        &[Scope::Admin],
        None,
        hours_after(now, -2),
        hours_after(now, -1),
    );
    let revoked = cli(&s, &["token", "create", "--scope", "admin"]);
    let revoked = revoked.trim().to_owned();
    let db = regis::server::Home::new(&s.home).open_db().unwrap();
    let id_of = |db: &regis::server::db::Db, secret: &str| {
        let listed = access::list_tokens(db, None).unwrap();
        let hashes: Vec<String> = listed.iter().map(|t| t.id.clone()).collect();
        // The token list never holds a secret: find the one by authenticating it.
        let info = access::authenticate(
            db,
            Some(&format!("Bearer {secret}")),
            "main",
            Timestamp::now(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(hashes.contains(&info.id));
        info.id
    };
    let revoked_id = id_of(&db, &revoked);
    let said = cli(&s, &["token", "revoke", &revoked_id]);
    let revoked_at = (access::list_tokens(&db, Some("main")).unwrap().into_iter())
        .find(|t| t.id == revoked_id)
        .and_then(|t| t.revoked_at)
        .unwrap();
    assert!(
        said.starts_with(&format!(
            "revoked {revoked_id} (admin) for registry `main`, expires "
        )),
        "{said}"
    );
    assert!(
        said.ends_with(&format!(", revoked {revoked_at}\n")),
        "{said}"
    );
    let (publisher_id, carol_id, second_id) = (
        id_of(&db, &publisher),
        id_of(&db, &carol),
        (access::list_tokens(&db, Some("second")).unwrap())[0]
            .id
            .clone(),
    );
    s.start(bin());
    let payload = |name: &str| s.publish_payload(&s.package(name, "1.0.0", &[]));

    let answers: std::cell::RefCell<Vec<String>> = Default::default();
    let post = |path: &str, token: Option<&str>, body: &str| {
        let answer = s.post(path, token, body);
        answers.borrow_mut().push(answer.body.clone());
        answer
    };
    let open = payload("open");

    // No token, another scheme, a token of another shape, a token never issued: 401.
    let e = refusal(
        &post("/api/v1/publish", None, &open),
        401,
        "unauthenticated",
    );
    assert_eq!(
        e,
        "no API token: send `Authorization: Bearer <token>` (a token is made with `regis token create`)"
    );
    let malformed = "the `Authorization` header is not `Bearer regis_…`: expected `Authorization: Bearer <token>` with a token `regis token create` made";
    for header in [
        format!("Authorization: Basic {}", "YWxpY2U6c2VjcmV0"),
        format!("Authorization: Basic {publisher}"),
        format!("Authorization: bearer {publisher}"),
        format!("Authorization: Token {publisher}"),
        "Authorization: Bearer ghp_0123456789".to_owned(),
        "Authorization: Bearer".to_owned(),
    ] {
        let (status, body) = raw(&s, "POST", "/api/v1/publish", &[&header], open.as_bytes());
        let body = text(&body);
        assert_eq!(status, 401, "{header}: {body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["error"], malformed, "{header}");
        answers.borrow_mut().push(body.to_string());
    }
    let made_up = format!("regis_{}", "A".repeat(43));
    let e = refusal(
        &post("/api/v1/publish", Some(&made_up), &open),
        401,
        "unauthenticated",
    );
    assert_eq!(
        e,
        "the API token is not one this server issued (or it was mistyped)"
    );
    // A token with one character changed is as unknown.
    let mut altered = admin.clone();
    let last = altered.pop().unwrap();
    altered.push(if last == 'A' { 'B' } else { 'A' });
    let e = refusal(
        &post("/api/v1/publish", Some(&altered), &open),
        401,
        "unauthenticated",
    );
    assert_eq!(
        e,
        "the API token is not one this server issued (or it was mistyped)"
    );

    // Expired, revoked: 401, naming the token by its id.
    let e = refusal(
        &post("/api/v1/publish", Some(&expired), &open),
        401,
        "token-invalid",
    );
    assert_eq!(
        e,
        format!(
            "token `{expired_id}` expired at {}: make a new one with `regis token create`",
            hours_after(now, -1)
        )
    );
    let e = refusal(
        &post("/api/v1/publish", Some(&revoked), &open),
        401,
        "token-invalid",
    );
    assert_eq!(
        e,
        format!("token `{revoked_id}` was revoked at {revoked_at}")
    );

    // Another registry's token, either way: 403.
    let e = refusal(
        &post("/api/v1/publish", Some(&second), &open),
        403,
        "forbidden",
    );
    assert_eq!(
        e,
        format!("token `{second_id}` is for registry `second`, not `main`")
    );
    let e = refusal(
        &post("/registries/second/api/v1/publish", Some(&admin), &open),
        403,
        "forbidden",
    );
    assert!(e.ends_with("is for registry `main`, not `second`"), "{e}");

    // A scope the token lacks: 403.
    let unpublish = signed(
        &owner,
        r#"{"name":"open","version":"1.0.0","reason":"a broken build"}"#,
    );
    let transfer = signed(
        &owner,
        r#"{"name":"open","newLocation":{"githubOwner":"test","githubRepo":"moved"}}"#,
    );
    let yank = signed(
        &owner,
        r#"{"name":"open","yank":"1.0.0","reason":"broken"}"#,
    );
    for (route, body, needed) in [
        ("unpublish", &unpublish, "unpublish"),
        ("transfer", &transfer, "transfer"),
        ("yank", &yank, "unpublish"),
    ] {
        let e = refusal(
            &post(&format!("/api/v1/{route}"), Some(&publisher), body),
            403,
            "forbidden",
        );
        assert_eq!(
            e,
            format!("token `{publisher_id}` lacks the `{needed}` scope (it has `publish`)")
        );
    }

    // Another organization's prefix: 403 for a registry token without `admin` and for
    // another organization's member.
    let tools = payload("acme-tools");
    let e = refusal(
        &post("/api/v1/publish", Some(&publisher), &tools),
        403,
        "forbidden",
    );
    assert_eq!(
        e,
        format!(
            "`acme-tools` is under the prefix `acme-` reserved by organization `acme`: only its members publish there, and token `{publisher_id}` is a registry token without the `admin` scope"
        )
    );
    let e = refusal(
        &post("/api/v1/publish", Some(&carol), &tools),
        403,
        "forbidden",
    );
    assert_eq!(
        e,
        format!(
            "`acme-tools` is under the prefix `acme-` reserved by organization `acme`: only its members publish there, and token `{carol_id}` is `carol`'s in organization `beta`"
        )
    );
    // A member's token and an `admin` token are let through; a member's token publishes
    // names no organization reserves too.
    let mut jobs = vec![
        job_id(&post("/api/v1/publish", Some(&alice), &tools), 201),
        job_id(
            &post("/api/v1/publish", Some(&admin), &payload("acme-kit")),
            201,
        ),
        job_id(&post("/api/v1/publish", Some(&alice), &open), 201),
    ];
    for id in &jobs {
        let job = s.finished_job("/api/v1", id, JOB_TIMEOUT);
        assert_eq!(job["success"], true, "{job:#}");
    }
    for name in ["acme-tools", "acme-kit", "open"] {
        assert!(metadata(&s, "main", name).is_some(), "{name}");
    }
    // A yank with an `admin` token (it has every scope).
    jobs.push(job_id(&post("/api/v1/yank", Some(&admin), &yank), 201));
    let job = s.finished_job("/api/v1", jobs.last().unwrap(), JOB_TIMEOUT);
    assert_eq!(job["success"], true, "{job:#}");

    // A member removed from the organization: their token stops working at once.
    let said = cli(&s, &["org", "remove", "acme", "alice"]);
    assert_eq!(
        said,
        "removed `alice` from `acme`: their tokens of `acme` no longer work\n"
    );
    let v2 = s.publish_payload(&s.package("acme-tools", "2.0.0", &[]));
    let e = refusal(
        &post("/api/v1/publish", Some(&alice), &v2),
        403,
        "forbidden",
    );
    assert_eq!(
        e,
        format!(
            "token `{alice_id}` is `alice`'s in organization `acme`, and `alice` is no longer a member"
        )
    );
    assert_eq!(
        s.get("/api/v1/jobs?include_completed=true")
            .json()
            .as_array()
            .unwrap()
            .len(),
        jobs.len(),
        "no refused request was queued"
    );

    // No token's secret appears in an answer, a job's log or the server's log; nor in
    // what `regis token list` prints.
    let secrets = [
        &alice, &carol, &publisher, &admin, &second, &expired, &revoked, &altered, &made_up,
    ];
    let mut seen: Vec<String> = answers.take();
    for api in ["/api/v1", "/registries/second/api/v1"] {
        let listed = s.get(&format!("{api}/jobs?include_completed=true"));
        for job in listed.json().as_array().unwrap() {
            let id = job["jobId"].as_str().unwrap();
            seen.push(s.get(&format!("{api}/jobs/{id}")).body);
        }
        seen.push(listed.body);
    }
    seen.push(s.log());
    seen.push(cli(&s, &["token", "list"]));
    seen.push(cli(&s, &["--json", "token", "list"]));
    for secret in secrets {
        let body = &secret["regis_".len()..];
        for text in &seen {
            assert!(!text.contains(body), "a token's secret was shown: {text}");
        }
    }
}

/// Whether `registry`'s storage holds `key`.
fn stored(s: &TestServer, registry: &str, key: &str) -> bool {
    s.registry_root(registry).join("storage").join(key).exists()
}

/// The hourly quotas of a token and of an organization: counted as jobs are accepted,
/// refused with `429`, `Retry-After` and a message naming the quota, its use and when it
/// resets; still refused after a `kill -9` and a restart within the hour, accepted in the
/// next. The byte quotas of a package and of an organization: a publish that would go over
/// fails, and nothing of it lands.
#[test]
fn quotas_are_hit_kept_across_restarts_and_reset_in_the_next_hour() {
    let Some(mut s) = TestServer::new(&["main"]) else {
        return;
    };
    let t0 = at("2030-06-01T11:59:30.000Z");
    let next_hour = at("2030-06-01T12:00:00.000Z");
    s.edit_config(
        "tokenOperationsPerHour = Some 600",
        "tokenOperationsPerHour = Some 2",
    );
    s.env.push(("REGIS_NOW".into(), t0.to_string()));
    for (name, version) in [
        ("big", "1.0.0"),
        ("big", "1.1.0"),
        ("acme-a", "1.0.0"),
        ("acme-b", "1.0.0"),
    ] {
        s.push_source(&s.package(name, version, &[]));
    }
    let payload = |s: &TestServer, name: &str, version: &str| {
        s.publish_payload(&s.package(name, version, &[]))
    };
    let token = |s: &TestServer, org: Option<(&str, &str)>| {
        token_at(
            s,
            "main",
            &[Scope::Publish],
            org,
            hours_after(t0, -1),
            hours_after(t0, 48),
        )
    };
    let (first, _) = token(&s, None);
    let (quota, quota_id) = token(&s, None);
    let (later, _) = token(&s, None);
    s.start(bin());

    // Two publishes that land: their sizes are what the byte quotas are set from.
    for name in ["big", "acme-a"] {
        let id = job_id(
            &s.post("/api/v1/publish", Some(&first), &payload(&s, name, "1.0.0")),
            201,
        );
        let job = s.finished_job("/api/v1", &id, JOB_TIMEOUT);
        assert_eq!(job["success"], true, "{job:#}");
    }
    let bytes = |name: &str| {
        metadata(&s, "main", name).unwrap()["published"]["1.0.0"]["bytes"]
            .as_u64()
            .unwrap()
    };
    let (big, acme_a) = (bytes("big"), bytes("acme-a"));
    let acme_max = (acme_a + 10).to_string();
    cli(
        &s,
        &[
            "org",
            "create",
            "acme",
            "--prefix",
            "acme-",
            "--member",
            "alice",
            "--operations-per-hour",
            "1",
            "--bytes-max",
            &acme_max,
        ],
    );
    let (alice, _) = token(&s, Some(("acme", "alice")));

    // A token's hourly quota: the third job of the hour is refused.
    let mut queued = Vec::new();
    for version in ["1.0.0", "1.0.1"] {
        let answer = s.post("/api/v1/publish", Some(&quota), &payload(&s, "x", version));
        queued.push(job_id(&answer, 201));
    }
    let over_token = format!(
        "the quota of operations per hour of token `{quota_id}` is used up: 2 of 2; it resets at {next_hour} (in 30 s)"
    );
    let refused = |s: &TestServer, token: &str, name: &str, expected: &str| {
        let answer = s.post("/api/v1/publish", Some(token), &payload(s, name, "1.0.2"));
        assert_eq!(refusal(&answer, 429, "quota"), expected);
        assert_eq!(answer.headers["retry-after"], "30");
    };
    refused(&s, &quota, "x", &over_token);
    // The same payload as a queued job is that job, counted once.
    let again = s.post("/api/v1/publish", Some(&quota), &payload(&s, "x", "1.0.0"));
    assert_eq!(job_id(&again, 200), queued[0]);
    // An organization's: its member's second job of the hour.
    let id = job_id(
        &s.post(
            "/api/v1/publish",
            Some(&alice),
            &payload(&s, "acme-b", "1.0.0"),
        ),
        201,
    );
    let over_org = format!(
        "the quota of operations per hour of organization `acme` is used up: 1 of 1; it resets at {next_hour} (in 30 s)"
    );
    refused(&s, &alice, "acme-c", &over_org);
    // The organization's bytes: `acme-b` would take it over, and fails storing nothing.
    let job = s.finished_job("/api/v1", &id, JOB_TIMEOUT);
    assert_eq!(job["success"], false, "{job:#}");
    let acme_b = (messages(&job).last().unwrap())
        .strip_prefix("The publish of `acme-b@1.0.0` failed: `acme-b@1.0.0` is not admitted: its ")
        .unwrap_or_else(|| panic!("{job:#}"))
        .to_owned();
    let (acme_b_bytes, said) = acme_b.split_once(" bytes").unwrap();
    assert_eq!(
        said,
        format!(
            " would go over the quota of bytes of organization `acme`: {} of {} used; it does not reset with time: unpublish versions, or ask for a larger quota",
            thousands(acme_a),
            thousands(acme_a + 10)
        )
    );
    assert!(acme_b_bytes.replace(',', "").parse::<u64>().unwrap() > 10);
    assert!(metadata(&s, "main", "acme-b").is_none());
    assert!(!stored(&s, "main", "acme-b/1.0.0.tar.gz"));
    for id in &queued {
        s.finished_job("/api/v1", id, JOB_TIMEOUT);
    }

    // Restarted within the hour: the counts are where they were.
    s.kill9();
    s.edit_config(
        "packageBytes = None Natural",
        &format!("packageBytes = Some {}", big + 10),
    );
    s.start(bin());
    refused(&s, &quota, "x", &over_token);
    refused(&s, &alice, "acme-c", &over_org);
    let listed = Command::new(BIN)
        .args(["token", "list", "--home"])
        .arg(&s.home)
        .env("REGIS_NOW", t0.to_string())
        .output()
        .unwrap();
    assert!(
        text(&listed.stdout).contains(&format!(
            "{quota_id} (publish) for registry `main`, expires {}; 2 job(s) this hour; test\n",
            hours_after(t0, 48)
        )),
        "{}",
        text(&listed.stdout)
    );

    // A package's bytes: `big@1.1.0` would take it over, and fails storing nothing.
    let id = job_id(
        &s.post(
            "/api/v1/publish",
            Some(&later),
            &payload(&s, "big", "1.1.0"),
        ),
        201,
    );
    let job = s.finished_job("/api/v1", &id, JOB_TIMEOUT);
    assert_eq!(job["success"], false, "{job:#}");
    let last = messages(&job).last().unwrap().clone();
    assert!(
        last.starts_with("The publish of `big@1.1.0` failed: `big@1.1.0` is not admitted: its "),
        "{last}"
    );
    assert!(
        last.ends_with(&format!(
            " bytes would go over the quota of bytes of package `big`: {} of {} used; it does not reset with time: unpublish versions, or ask for a larger quota",
            thousands(big),
            thousands(big + 10)
        )),
        "{last}"
    );
    let big_now = metadata(&s, "main", "big").unwrap();
    assert!(big_now["published"].get("1.1.0").is_none(), "{big_now}");
    assert!(!stored(&s, "main", "big/1.1.0.tar.gz"));
    assert!(stored(&s, "main", "big/1.0.0.tar.gz"));

    // The next hour: both quotas have room again.
    s.kill9();
    s.env = vec![("REGIS_NOW".into(), next_hour.to_string())];
    s.start(bin());
    for (token, name) in [(&quota, "x"), (&alice, "acme-c")] {
        let answer = s.post("/api/v1/publish", Some(token), &payload(&s, name, "1.0.2"));
        job_id(&answer, 201);
    }
}

fn thousands(n: u64) -> String {
    regis::text::thousands(n)
}

/// `regis ARGS` run in `dir`: its exit status, stdout and stderr, with ids, tokens and
/// times written `tok_<id>`, `<token>` and `<time>`.
fn run_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_remove("REGIS_SERVER_HOME")
        .env_remove("REGIS_NOW")
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        redact(&text(&out.stdout)),
        redact(&text(&out.stderr)),
    )
}

/// `tok_` and 16 hex digits → `tok_<id>`; `regis_` and 43 characters → `<token>`; a
/// timestamp → `<time>`.
fn redact(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let is = |n: usize, f: fn(char) -> bool| {
            rest.len() >= n && rest.is_char_boundary(n) && rest[..n].chars().all(f)
        };
        if rest.starts_with("tok_")
            && rest.len() >= 20
            && rest[4..20].chars().all(|c| c.is_ascii_hexdigit())
        {
            out.push_str("tok_<id>");
            rest = &rest[20..];
        } else if rest.starts_with("regis_")
            && rest.len() >= 49
            && rest[6..49]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
        {
            out.push_str("<token>");
            rest = &rest[49..];
        } else if is(24, |_| true) && Timestamp::parse(&rest[..24]).is_ok() {
            out.push_str("<time>");
            rest = &rest[24..];
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// A home `regis serve` refuses to serve, through the binary: none, a private directory
/// others may read, private material under a served directory, a config naming what is
/// not there or a scheme that reads the server's own disk; and `regis server init`'s own
/// refusals.
#[test]
fn a_home_that_would_expose_what_is_private_is_not_served() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::create_dir(dir.join("empty")).unwrap();
    let serve = |home: &str| {
        let (code, out, err) = run_in(dir, &["serve", "--home", home, "--listen", "127.0.0.1:0"]);
        assert_eq!((code, out.as_str()), (2, ""), "{err}");
        err
    };
    insta::assert_snapshot!(serve("empty"), @"error: `empty` is not a regis server's home: it has no `regis-server.dhall` (make one with `regis server init`)");
    let (code, out, err) = run_in(dir, &["org", "list", "--home", "empty"]);
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    insta::assert_snapshot!(err, @"error: `empty` is not a regis server's home: it has no `regis-server.dhall` (make one with `regis server init`)");

    // server init: a home, then its refusals.
    let (code, out, err) = run_in(
        dir,
        &[
            "server", "init", "home", "--name", "main", "--name", "second",
        ],
    );
    assert_eq!((code, err.as_str()), (0, ""), "{out}");
    insta::assert_snapshot!(out, @r"
        server home `home`
          config    home/regis-server.dhall
          database  home/private/regis.sqlite
          registry `main`: home/registries/main/registry
          registry `second`: home/registries/second/registry
        Make tokens with `regis token create --home home --scope publish`, then `regis serve --home home`.
        ");
    let (code, out, err) = run_in(dir, &["server", "init", "home"]);
    assert_eq!((code, out.as_str()), (1, ""), "{err}");
    insta::assert_snapshot!(err, @"error: `home` already exists: expected a new or empty directory for the server's home");
    let (code, out, err) = run_in(dir, &["server", "init", "other", "--name", "Main"]);
    assert_eq!((code, out.as_str()), (1, ""), "{err}");
    insta::assert_snapshot!(err, @"error: `other/regis-server.dhall`: registry name `Main`: expected 1 to 64 lowercase ASCII letters, digits and `-`, starting with a letter");
    assert!(!dir.join("other/regis-server.dhall").exists());
    let home = dir.join("home");
    let private = home.join("private");
    use std::os::unix::fs::PermissionsExt as _;
    let mode = |m: u32| {
        std::fs::set_permissions(&private, std::fs::Permissions::from_mode(m)).unwrap();
    };
    assert_eq!(
        std::fs::metadata(&private).unwrap().permissions().mode() & 0o777,
        0o700
    );
    mode(0o755);
    insta::assert_snapshot!(serve("home"), @"error: `home/private` may be read by others (mode 755): the private directory holds token hashes and keys, expected mode 700");
    mode(0o750);
    assert!(serve("home").contains("(mode 750)"));
    mode(0o700);

    // Private material under what a registry serves (its storage): a key file named there
    // (written or not yet), the registry's config, the private directory.
    let main_config = home.join("registries/main/registry/regis.dhall");
    let original_main = std::fs::read_to_string(&main_config).unwrap();
    let original = &original_main;
    let edit = |from: &str, to: &str| {
        assert!(original.contains(from), "{from}");
        std::fs::write(&main_config, original.replacen(from, to, 1)).unwrap();
    };
    edit(
        "trustAtomKey = None Text",
        r#"trustAtomKey = Some "file:../storage/atom.key""#,
    );
    let refused = serve("home");
    insta::assert_snapshot!(refused.replace(&dir.canonicalize().unwrap().display().to_string(), "<tmp>"), @"error: registry `main` serves `<tmp>/home/registries/main/storage`, which holds the key file `home/registries/main/registry/../storage/atom.key`: private material must never be under a served path");
    std::fs::write(home.join("registries/main/storage/atom.key"), "").unwrap();
    assert_eq!(serve("home"), refused);
    std::fs::remove_file(home.join("registries/main/storage/atom.key")).unwrap();
    edit(r#"storage = Some "../storage""#, r#"storage = Some ".""#);
    insta::assert_snapshot!(serve("home").replace(&dir.canonicalize().unwrap().display().to_string(), "<tmp>"), @"error: registry `main` serves `<tmp>/home/registries/main/registry`, which holds the registry's config `home/registries/main/registry/regis.dhall`: private material must never be under a served path");
    edit(
        r#"storage = Some "../storage""#,
        r#"storage = Some "../../../private/public""#,
    );
    insta::assert_snapshot!(serve("home").replace(&dir.canonicalize().unwrap().display().to_string(), "<tmp>"), @"error: registry `main` serves `<tmp>/home/private/public`, which holds the private directory `<tmp>/home/private`: private material must never be under a served path");
    edit(r#"index = Some "../index""#, "index = None Text");
    insta::assert_snapshot!(serve("home"), @"error: `home/registries/main/registry/regis.dhall`: registry `main` sets no `index`: a served registry needs one");
    std::fs::write(&main_config, original).unwrap();

    // The server's config: a default registry it does not list, a scheme it must not
    // fetch, no registry.
    let server_config = home.join("regis-server.dhall");
    let original = std::fs::read_to_string(&server_config).unwrap();
    let edit = |from: &str, to: &str| {
        assert!(original.contains(from), "{from}");
        std::fs::write(&server_config, original.replacen(from, to, 1)).unwrap();
    };
    edit(
        "defaultRegistry = None Text",
        r#"defaultRegistry = Some "nope""#,
    );
    insta::assert_snapshot!(serve("home"), @"error: `home/regis-server.dhall`: `defaultRegistry` is `nope`, which is not one of `registries`");
    edit(
        r#"gitSchemes = [ "https" ]"#,
        r#"gitSchemes = [ "https", "file" ]"#,
    );
    insta::assert_snapshot!(serve("home"), @"error: `home/regis-server.dhall`: `gitSchemes` has `file`: expected some of `https`, `http`, `git`, `ssh` (a `file` URL or a path would have the server read its own disk)");
    edit(
        r#"path = "registries/second/registry""#,
        r#"path = "registries/none/registry""#,
    );
    insta::assert_snapshot!(serve("home"), @"error: `home/registries/none/registry/regis.dhall`: registry `second` has no such file: expected the registry checkout `regis init` lays down (`path` in `regis-server.dhall`)");
    std::fs::write(&server_config, &original).unwrap();

    // Set right again, it serves: `--json` prints one document once it listens.
    let mut child = Command::new(BIN)
        .args(["--json", "serve", "--listen", "127.0.0.1:0", "--home"])
        .arg(&home)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let document = read_document(child.stdout.take().unwrap());
    child.kill().unwrap();
    child.wait().unwrap();
    let listening = document["listening"].as_str().unwrap().to_owned();
    assert!(listening.starts_with("http://127.0.0.1:"), "{document}");
    assert_eq!(
        document,
        json!({
            "formatVersion": 1,
            "listening": listening,
            "registries": ["main", "second"],
            "defaultRegistry": "main",
        })
    );

    // An address in use, a registry config that does not read, a private directory or a
    // database that is not there or is newer: none runs (exit 2).
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (code, _, err) = run_in(dir, &["serve", "--home", "home", "--listen", &addr]);
    assert_eq!(code, 2, "{err}");
    insta::assert_snapshot!(err.replace(&addr, "<addr>"), @"error: could not listen on `<addr>`: Address already in use (os error 98)");
    drop(taken);
    std::fs::write(&main_config, "{ name = 1 }").unwrap();
    insta::assert_snapshot!(serve("home"), @r"
        error: registry `main` could not be loaded from `home/registries/main/registry`: `home/registries/main/registry/regis.dhall` does not have the type of `schemas/Config.dhall`: `name` has type `Natural` (expected `Text`): type error: annot mismatch: { name : Natural } != { name : Text }
         --> home/registries/main/registry/regis.dhall:1:1
          |
        1 | { name = 1 }
          | ^^^^^^^^^^^^ annot mismatch: { name : Natural } != { name : Text }
          |
        ");
    std::fs::write(&main_config, &original_main).unwrap();
    std::fs::rename(&private, dir.join("away")).unwrap();
    insta::assert_snapshot!(serve("home"), @"error: the private directory `home/private` could not be read: expected a directory of mode 700 (`regis server init` makes one): No such file or directory (os error 2)");
    std::fs::rename(dir.join("away"), &private).unwrap();
    let db = regis::server::Home::new(&home).open_db().unwrap();
    db.conn().pragma_update(None, "user_version", 99).unwrap();
    drop(db);
    insta::assert_snapshot!(serve("home"), @"error: the server database `home/private/regis.sqlite` is at schema version 99, newer than this regis knows (1): run a newer regis");
    for args in [["token", "list"], ["org", "list"]] {
        let (code, out, err) = run_in(dir, &[args[0], args[1], "--home", "home"]);
        assert_eq!((code, out.as_str()), (2, ""), "{err}");
        assert!(
            err.contains("is at schema version 99, newer than this regis knows"),
            "{err}"
        );
    }
    for file in ["regis.sqlite", "regis.sqlite-wal", "regis.sqlite-shm"] {
        let _ = std::fs::remove_file(private.join(file));
    }
    std::fs::create_dir(private.join("regis.sqlite")).unwrap();
    let (code, out, err) = run_in(dir, &["org", "list", "--home", "home"]);
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    insta::assert_snapshot!(err, @"error: the server database `home/private/regis.sqlite` could not be opened: unable to open database file: home/private/regis.sqlite: Error code 14: unable to open database file");
}

/// The first JSON document `stdout` prints (pretty, over several lines), read as it comes:
/// a server prints it once it listens and runs on.
fn read_document(stdout: impl std::io::Read) -> Value {
    let text = read_document_text(stdout);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// The text of [`read_document`]'s document, up to its closing `}` line.
pub(crate) fn read_document_text(stdout: impl std::io::Read) -> String {
    use std::io::BufRead as _;
    let mut text = String::new();
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.unwrap();
        let end = line == "}";
        text.push_str(&line);
        text.push('\n');
        if end {
            break;
        }
    }
    text
}

/// `regis org` and `regis token` through the binary: what each prints, and each refusal in
/// full (ids, tokens and times redacted).
#[test]
fn org_and_token_commands_say_what_they_did_and_refuse_in_full() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (code, _, err) = run_in(
        dir,
        &[
            "server", "init", "home", "--name", "main", "--name", "second",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let said = |args: &[&str]| -> String {
        let args: Vec<&str> = args.iter().copied().chain(["--home", "home"]).collect();
        let (code, out, err) = run_in(dir, &args);
        format!("exit {code}\n{out}{err}")
    };

    insta::assert_snapshot!(said(&["org", "create", "acme", "--prefix", "acme-", "--prefix", "acmeco-", "--member", "alice", "--bytes-max", "1000000", "--operations-per-hour", "50"]), @r"
        exit 0
        acme (registry `main`): prefixes acme-, acmeco-; members alice
          bytes quota 1,000,000
          jobs per hour 50
        ");
    insta::assert_snapshot!(said(&["org", "create", "beta", "--in", "second", "--prefix", "acme-", "--member", "carol"]), @r"
        exit 0
        beta (registry `second`): prefixes acme-; members carol
        ");
    insta::assert_snapshot!(said(&["org", "create", "acme", "--prefix", "other-"]), @r"
        exit 1
        error: organization `acme` already exists in registry `main`
        ");
    insta::assert_snapshot!(said(&["org", "create", "labs", "--prefix", "acme-labs-"]), @r"
        exit 1
        error: prefix `acme-labs-` overlaps `acme-`, reserved by organization `acme`: a name may be under one organization's prefixes only
        ");
    insta::assert_snapshot!(said(&["org", "create", "Acme", "--prefix", "a-"]), @r"
        exit 1
        error: organization name `Acme`: expected 1 to 64 lowercase ASCII letters, digits and `-`, starting with a letter
        ");
    insta::assert_snapshot!(said(&["org", "create", "gamma", "--prefix", "gamma"]), @r"
        exit 1
        error: prefix `gamma`: expected 2 to 50 lowercase ASCII letters, digits and `-`, starting with a letter and ending with `-` (`acme-`), so that it reserves whole words
        ");
    insta::assert_snapshot!(said(&["org", "create", "gamma", "--prefix", "gamma-", "--member", "bad name"]), @r"
        exit 1
        error: member `bad name`: expected 1 to 64 ASCII letters, digits, `-`, `_` and `.`, starting with a letter or digit (a login)
        ");
    insta::assert_snapshot!(said(&["org", "create", "gamma", "--prefix", "gamma-", "--in", "nope"]), @r"
        exit 1
        error: `--in nope`: the server has no such registry (it has `main`, `second`)
        ");
    insta::assert_snapshot!(said(&["org", "add", "acme", "bob"]), @r"
        exit 0
        added `bob` to `acme`
        ");
    insta::assert_snapshot!(said(&["org", "add", "acme", "bob"]), @r"
        exit 0
        `bob` is a member of `acme` already
        ");
    insta::assert_snapshot!(said(&["org", "add", "nope", "bob"]), @r"
        exit 1
        error: registry `main` has no organization `nope`
        ");
    insta::assert_snapshot!(said(&["org", "remove", "acme", "bob"]), @r"
        exit 0
        removed `bob` from `acme`: their tokens of `acme` no longer work
        ");
    insta::assert_snapshot!(said(&["org", "remove", "acme", "bob"]), @r"
        exit 1
        error: `bob` is not a member of organization `acme`
        ");
    insta::assert_snapshot!(said(&["org", "list"]), @r"
        exit 0
        acme (registry `main`): prefixes acme-, acmeco-; members alice
          bytes quota 1,000,000
          jobs per hour 50
        beta (registry `second`): prefixes acme-; members carol
        ");
    insta::assert_snapshot!(said(&["org", "list", "--in", "second"]), @r"
        exit 0
        beta (registry `second`): prefixes acme-; members carol
        ");
    insta::assert_snapshot!(said(&["org", "list", "--in", "nope"]), @r"
        exit 1
        error: `--in nope`: the server has no such registry (it has `main`, `second`)
        ");

    let made = said(&["token", "create", "--scope", "publish", "--label", "ci"]);
    insta::assert_snapshot!(made, @r"
        exit 0
        <token>
        token tok_<id> (publish) for registry `main`, expires <time>: shown this once, only its hash is kept
        ");
    insta::assert_snapshot!(said(&["token", "create", "--scope", "publish", "--scope", "unpublish", "--org", "acme", "--member", "alice", "--expires-in-days", "7"]), @r"
        exit 0
        <token>
        token tok_<id> (publish, unpublish) for `alice` of organization `acme` in `main`, expires <time>: shown this once, only its hash is kept
        ");
    insta::assert_snapshot!(said(&["token", "create", "--scope", "nope"]), @r"
        exit 1
        error: scope `nope`: expected one of `publish`, `unpublish`, `transfer`, `admin`
        ");
    insta::assert_snapshot!(said(&["token", "create", "--scope", "publish", "--org", "acme", "--member", "zed"]), @r"
        exit 1
        error: `zed` is not a member of organization `acme`
        ");
    insta::assert_snapshot!(said(&["token", "create", "--scope", "publish", "--org", "nope", "--member", "alice"]), @r"
        exit 1
        error: registry `main` has no organization `nope`
        ");
    insta::assert_snapshot!(said(&["token", "create", "--scope", "publish", "--in", "nope"]), @r"
        exit 1
        error: `--in nope`: the server has no such registry (it has `main`, `second`)
        ");
    insta::assert_snapshot!(said(&["token", "list"]), @r"
        exit 0
        tok_<id> (publish) for registry `main`, expires <time>; 0 job(s) this hour; ci
        tok_<id> (publish, unpublish) for `alice` of organization `acme` in `main`, expires <time>; 0 job(s) this hour
        ");
    insta::assert_snapshot!(said(&["token", "list", "--in", "second"]), @r"
        exit 0
        no tokens
        ");
    insta::assert_snapshot!(said(&["token", "list", "--in", "nope"]), @r"
        exit 1
        error: `--in nope`: the server has no such registry (it has `main`, `second`)
        ");
    let db = regis::server::Home::new(dir.join("home"))
        .open_db()
        .unwrap();
    let tokens = access::list_tokens(&db, None).unwrap();
    assert_eq!(tokens.len(), 2);
    assert_eq!(
        (tokens[0].label.as_str(), &tokens[0].scopes[..]),
        ("ci", &[Scope::Publish][..])
    );
    let days = |t: &access::TokenInfo| {
        (t.expires_at.as_datetime() - t.created_at.as_datetime()).num_days()
    };
    assert_eq!((days(&tokens[0]), days(&tokens[1])), (90, 7));
    assert_eq!(tokens[1].member.as_deref(), Some("alice"));
    let id = tokens[0].id.as_str();
    insta::assert_snapshot!(said(&["token", "revoke", id]), @r"
        exit 0
        revoked tok_<id> (publish) for registry `main`, expires <time>, revoked <time>
        ");
    let first = access::list_tokens(&db, None).unwrap()[0]
        .revoked_at
        .unwrap();
    said(&["token", "revoke", id]);
    assert_eq!(
        access::list_tokens(&db, None).unwrap()[0].revoked_at,
        Some(first),
        "revoked again, a token keeps its first time"
    );
    // A database holding what regis did not write there.
    db.conn()
        .execute("UPDATE tokens SET scopes = 'publish root'", [])
        .unwrap();
    insta::assert_snapshot!(said(&["token", "list"]), @r"
        exit 1
        error: the server database holds `root` in `tokens.scopes`, which is not a scope
        ");
    insta::assert_snapshot!(said(&["token", "revoke", "tok_0000000000000000"]), @r"
        exit 1
        error: no token `tok_<id>`: `regis token list` shows the tokens there are
        ");
}

/// A registry whose checkouts or storage cannot be opened fails each job, saying why in
/// the job's log; the server and its other registries go on.
#[test]
fn a_registry_that_cannot_be_opened_fails_its_jobs_and_says_why() {
    let Some(mut s) = TestServer::new(&["main", "second", "third"]) else {
        return;
    };
    let edit = |name: &str, from: &str, to: &str| {
        let path = s.registry_root(name).join("registry/regis.dhall");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{from}");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    };
    edit(
        "second",
        "mirrors = [] : List Text",
        r#"mirrors = [ "az://container/tarballs" ]"#,
    );
    edit(
        "third",
        r#"storage = Some "../storage""#,
        r#"storage = Some "../index/storage""#,
    );
    std::fs::create_dir(s.registry_root("third").join("index/storage")).unwrap();
    let tokens: Vec<String> = (["main", "second", "third"].iter())
        .map(|name| s.token(name, &[Scope::Publish], None))
        .collect();
    s.start(bin());
    let index = s.registry_root("main").join("index");
    std::fs::rename(&index, s.registry_root("main").join("index-away")).unwrap();
    let payload = s.publish_payload(&s.package("any", "1.0.0", &[]));
    let mut said = Vec::new();
    for (name, token) in ["main", "second", "third"].iter().zip(&tokens) {
        let api = format!("/registries/{name}/api/v1");
        let id = job_id(
            &s.post(&format!("{api}/publish"), Some(token), &payload),
            201,
        );
        let job = s.finished_job(&api, &id, JOB_TIMEOUT);
        assert_eq!(job["success"], false, "{job:#}");
        let root = s.registry_root(name).canonicalize().unwrap();
        said.push(format!(
            "{name}: {}",
            (messages(&job).last().unwrap())
                .replace(&root.display().to_string(), "<registry>")
                .replace(&s.registry_root(name).display().to_string(), "<registry>")
        ));
    }
    insta::assert_snapshot!(said.join("\n"), @r"
        main: The registry could not be opened: opening the index repo: `<registry>/registry/../index` is not a git working copy: failed to resolve path '<registry>/registry/../index': No such file or directory
        second: The registry could not be opened: opening a mirror: storage `az://container/tarballs` cannot be opened: Generic MicrosoftAzure error: Account must be specified
        third: The registry could not be opened: storage `<registry>/registry/../index/storage` is inside the git working tree `<registry>/index`: expected a directory outside it (regis resets its working trees to the remote)
        ");
    assert_eq!(s.get("/api/v1/status").status, 200);
}

#[test]
fn a_second_server_on_one_home_is_refused() {
    let Some(mut s) = TestServer::new(&["main"]) else {
        return;
    };
    s.start(std::path::Path::new(BIN));
    let out = std::process::Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--home"])
        .arg(&s.home)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let home = s.home.display().to_string();
    let err = String::from_utf8(out.stderr)
        .unwrap()
        .replace(&home, "<home>");
    insta::assert_snapshot!(err, @"error: another `regis serve` is serving `<home>` (it holds `<home>/private/serve.lock`): one server per home, or each would queue again the other's running jobs");
    // The first one serves on.
    assert_eq!(s.get("/api/v1/status").status, 200);
}
