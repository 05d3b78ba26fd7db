//! `regis serve` under load: 50 concurrent clients × 20 requests against two registries,
//! the server killed with `kill -9` mid-run and started again. Every request ends accepted
//! (a job id) or refused with a reason, no job is lost or made twice, every job finishes,
//! and what the jobs published is in the registries once each, which `regis check` finds
//! sound.
//!
//! The mix: publishes of 64 distinct versions (each sent by several clients, some spaced
//! and ordered otherwise: the same job), publishes that fail in the job (a ref that does
//! not exist, a version published already with other content), malformed bodies (`400`),
//! refused tokens (`401`, `403`) and an organization's token over its hourly quota
//! (`429`). A client whose request fails at the connection (the server is down) sends it
//! again, as a real client would, and looks up each job it is answered with.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use regis::schema::{PackageName, Timestamp};
use regis::server::access::{self, Org, Scope};
use regis::testing::TestServer;

const BIN: &str = env!("CARGO_BIN_EXE_regis");

const CLIENTS: usize = 50;
const REQUESTS: usize = 20;
/// The server is killed once this many requests were answered.
const KILL_AFTER: usize = 300;
const REGISTRIES: [&str; 2] = ["main", "second"];
const PACKAGES: [&str; 4] = ["load-a", "load-b", "load-c", "load-d"];
/// Versions `1.0.0` … `1.0.7` of each package, published during the load.
const VERSIONS: usize = 8;
/// Published before the load, in both registries.
const WARM: [&str; 2] = ["load-a", "load-b"];
const WARM_VERSION: &str = "0.9.0";
/// The hourly operations quota of the organization whose token the `Quota` requests use.
const ORG_QUOTA: u64 = 3;
/// How long the queues may take to drain after the last answer.
const DRAIN: Duration = Duration::from_secs(360);

/// What a request is, and so what its answer must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// A version that publishes: accepted, and its one job succeeds.
    Publish,
    /// A warm-up version's payload again: the finished job.
    Again,
    /// A ref that does not exist: accepted, the job fails.
    MissingRef,
    /// A published version with other content: accepted, the job fails.
    Republish,
    /// `400`.
    Malformed,
    /// `401`.
    Unauthenticated,
    /// `403`.
    Forbidden,
    /// An organization's token with a tiny hourly quota: accepted, then `429`.
    Quota,
}

#[derive(Debug, Clone)]
struct Request {
    kind: Kind,
    registry: &'static str,
    path: String,
    authorization: Option<String>,
    body: String,
}

#[derive(Debug)]
struct Outcome {
    request: Request,
    status: u16,
    body: serde_json::Value,
    retry_after: bool,
    /// Attempts that failed at the connection.
    retries: usize,
}

impl Outcome {
    fn job_id(&self) -> Option<&str> {
        self.body.get("jobId").and_then(|v| v.as_str())
    }
}

/// splitmix64: the same mix on every run.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn publish_body(name: &str, reference: &str, version: &str, spaced: bool) -> String {
    if spaced {
        // Other key order, other whitespace: the same payload to the server.
        format!(
            "{{\n  \"version\": \"{version}\",\n  \"compiler\": \"0.15.15\",\n  \"ref\": \"{reference}\",\n  \"location\": {{ \"githubRepo\": \"{name}\", \"githubOwner\": \"test\" }},\n  \"name\": \"{name}\"\n}}\n"
        )
    } else {
        serde_json::json!({
            "name": name,
            "location": {"githubOwner": "test", "githubRepo": name},
            "ref": reference,
            "version": version,
            "compiler": "0.15.15",
        })
        .to_string()
    }
}

struct Tokens {
    /// Publish tokens of each registry.
    publish: BTreeMap<&'static str, Vec<String>>,
    /// A `publish`-only token of `main` (sends an unpublish: `403`).
    publish_only: String,
    /// A token of `second` (sent to `main`: `403`).
    other_registry: String,
    /// A token of organization `tiny` of `main` (its quota: `ORG_QUOTA` an hour).
    quota: String,
}

fn api(registry: &str, route_bit: bool) -> String {
    if registry == "main" && route_bit {
        "/api/v1".to_owned()
    } else {
        format!("/registries/{registry}/api/v1")
    }
}

/// Request `i` of client `c`.
fn request(tokens: &Tokens, c: usize, i: usize) -> Request {
    let n = c * REQUESTS + i;
    let r = mix(n as u64);
    let registry = REGISTRIES[(r >> 8) as usize % 2];
    let bearer = |t: &str| Some(format!("Bearer {t}"));
    let own = &tokens.publish[registry];
    let token = bearer(&own[c % own.len()]);
    let api = api(registry, (r >> 9) & 1 == 1);
    let spaced = (r >> 10) & 1 == 1;
    let publish = |kind, body| Request {
        kind,
        registry,
        path: format!("{api}/publish"),
        authorization: token.clone(),
        body,
    };
    match r % 100 {
        0..68 => {
            let p = PACKAGES[(r >> 16) as usize % PACKAGES.len()];
            let v = format!("1.0.{}", (r >> 24) as usize % VERSIONS);
            publish(Kind::Publish, publish_body(p, &format!("v{v}"), &v, spaced))
        }
        68..71 => {
            let p = WARM[(r >> 16) as usize % WARM.len()];
            publish(
                Kind::Again,
                publish_body(p, &format!("v{WARM_VERSION}"), WARM_VERSION, spaced),
            )
        }
        71..74 => {
            let v = format!("9.9.{}", (r >> 16) % 3);
            publish(
                Kind::MissingRef,
                publish_body("load-c", &format!("v{v}"), &v, spaced),
            )
        }
        74..77 => publish(
            Kind::Republish,
            publish_body(
                "load-a",
                &format!("v{WARM_VERSION}-again"),
                WARM_VERSION,
                spaced,
            ),
        ),
        77..85 => {
            let body = match (r >> 16) % 5 {
                0 => "{\"name\": \"load-a\", \"ref\": ".to_owned(),
                1 => "{\"name\": 5, \"ref\": \"v1.0.0\"}".to_owned(),
                2 => "{\"colour\": \"blue\"}".to_owned(),
                3 => serde_json::json!({
                    "name": "load-a",
                    "location": {"gitUrl": "file:///etc"},
                    "ref": "v1.0.0",
                    "version": "1.0.0",
                    "compiler": "0.15.15",
                })
                .to_string(),
                // A signed payload on the publish route.
                _ => unpublish_body(),
            };
            publish(Kind::Malformed, body)
        }
        85..89 => {
            let authorization = match (r >> 16) % 3 {
                0 => None,
                1 => Some("Basic bG9hZDp0ZXN0".to_owned()),
                _ => bearer("regis_0000000000000000000000000000000000000000"),
            };
            Request {
                authorization,
                ..publish(
                    Kind::Unauthenticated,
                    publish_body("load-b", "v1.0.1", "1.0.1", false),
                )
            }
        }
        89..93 => {
            if (r >> 16) & 1 == 0 {
                Request {
                    kind: Kind::Forbidden,
                    registry: "main",
                    path: "/api/v1/publish".into(),
                    authorization: bearer(&tokens.other_registry),
                    body: publish_body("load-b", "v1.0.2", "1.0.2", false),
                }
            } else {
                Request {
                    kind: Kind::Forbidden,
                    registry: "main",
                    path: "/registries/main/api/v1/unpublish".into(),
                    authorization: bearer(&tokens.publish_only),
                    body: unpublish_body(),
                }
            }
        }
        _ => Request {
            kind: Kind::Quota,
            registry: "main",
            path: "/api/v1/publish".into(),
            authorization: bearer(&tokens.quota),
            // Its own payload, so it is never a duplicate (which would not count).
            body: publish_body("load-d", &format!("nope-{n}"), &format!("7.7.{n}"), false),
        },
    }
}

fn unpublish_body() -> String {
    let inner = serde_json::json!({"name": "load-a", "version": "0.9.0", "reason": "a load test"});
    serde_json::json!({"payload": inner.to_string(), "signature": "AAAA"}).to_string()
}

/// How long a client keeps sending a request the server does not answer (it is down).
const RETRY_FOR: Duration = Duration::from_secs(180);

/// One client: its connections, and the server's URL.
struct Client<'a> {
    runtime: &'a tokio::runtime::Runtime,
    http: reqwest::Client,
    url: &'a str,
}

/// An answer, after `retries` attempts that failed at the connection.
struct Answered {
    status: u16,
    retry_after: bool,
    body: serde_json::Value,
    retries: usize,
}

impl Client<'_> {
    /// `method path` until it is answered: a failure at the connection (the server down,
    /// or killed while answering) is sent again.
    fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        authorization: Option<&str>,
        body: Option<&str>,
    ) -> Answered {
        let mut retries = 0;
        let first = Instant::now();
        loop {
            let answered = self.runtime.block_on(async {
                let mut builder = self
                    .http
                    .request(method.clone(), format!("{}{path}", self.url));
                if let Some(body) = body {
                    builder = builder
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .body(body.to_owned());
                }
                if let Some(a) = authorization {
                    builder = builder.header(reqwest::header::AUTHORIZATION, a);
                }
                let response = builder.send().await?;
                let status = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .contains_key(reqwest::header::RETRY_AFTER);
                let body = response.text().await?;
                Ok::<_, reqwest::Error>((status, retry_after, body))
            });
            match answered {
                Ok((status, retry_after, body)) => {
                    let body = serde_json::from_str(&body).unwrap_or_else(|e| {
                        panic!("{method} {path} answered {status} with no JSON ({e}): {body}")
                    });
                    return Answered {
                        status,
                        retry_after,
                        body,
                        retries,
                    };
                }
                Err(e) => {
                    retries += 1;
                    assert!(
                        first.elapsed() < RETRY_FOR,
                        "{method} {path} got no answer in {retries} attempts over {RETRY_FOR:?}: {e}"
                    );
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
    }

    /// Send `request`; when it is accepted, look its job up at once, as a client would
    /// (an accepted job is on disk before the answer leaves: a restart keeps it).
    fn send(&self, request: Request) -> Outcome {
        let answer = self.call(
            reqwest::Method::POST,
            &request.path,
            request.authorization.as_deref(),
            Some(&request.body),
        );
        let outcome = Outcome {
            request,
            status: answer.status,
            body: answer.body,
            retry_after: answer.retry_after,
            retries: answer.retries,
        };
        if let Some(id) = outcome.job_id() {
            let api = outcome.request.path.rsplit_once('/').unwrap().0;
            let job = self.call(
                reqwest::Method::GET,
                &format!("{api}/jobs/{id}"),
                None,
                None,
            );
            assert_eq!(job.status, 200, "accepted job {id} not found: {}", job.body);
            assert_eq!(job.body["jobId"], id, "{}", job.body);
        }
        outcome
    }
}

/// The payload as the server tells payloads apart: its JSON, keys sorted, whatever the
/// spacing and order it was sent in.
fn canonical(payload: &serde_json::Value) -> String {
    fn sorted(v: &serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(map) => {
                let entries: BTreeMap<&String, serde_json::Value> =
                    map.iter().map(|(k, v)| (k, sorted(v))).collect();
                serde_json::Value::Object(
                    entries.into_iter().map(|(k, v)| (k.clone(), v)).collect(),
                )
            }
            serde_json::Value::Array(items) => items.iter().map(sorted).collect(),
            other => other.clone(),
        }
    }
    sorted(payload).to_string()
}

fn canonical_text(payload: &str) -> String {
    canonical(&serde_json::from_str(payload).expect("a JSON payload"))
}

fn jobs_of(s: &TestServer, registry: &str) -> Vec<serde_json::Value> {
    let answer = s.get(&format!(
        "/registries/{registry}/api/v1/jobs?include_completed=true"
    ));
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.json().as_array().unwrap().clone()
}

fn open_jobs(s: &TestServer, registry: &str) -> usize {
    let answer = s.get(&format!("/registries/{registry}/api/v1/jobs"));
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.json().as_array().unwrap().len()
}

fn has_log(job: &serde_json::Value, level: &str, text: &str) -> bool {
    (job["logs"].as_array().unwrap().iter())
        .any(|l| l["level"] == level && l["message"].as_str().unwrap().contains(text))
}

/// Set up the server: the sources, an organization, the tokens.
fn prepare(s: &mut TestServer) -> Tokens {
    for name in PACKAGES {
        for v in (0..VERSIONS).map(|i| format!("1.0.{i}")) {
            s.push_source(&s.package(name, &v, &[]));
        }
    }
    for name in WARM {
        s.push_source(&s.package(name, WARM_VERSION, &[]));
    }
    // The warm-up version of `load-a` again, with other content, at another tag.
    let mut again = s.package("load-a", WARM_VERSION, &[]);
    again.manifest.reference = format!("v{WARM_VERSION}-again");
    again.files[0].1.extend_from_slice(b"\n-- Other content.\n");
    s.push_source(&again);

    let mut db = regis::server::Home::new(&s.home).open_db().unwrap();
    let org = Org {
        registry: "main".into(),
        name: "tiny".into(),
        prefixes: Vec::new(),
        members: vec!["ann".into()],
        bytes_max: None,
        operations_per_hour: Some(ORG_QUOTA),
    };
    access::create_org(&mut db, &org, Timestamp::now()).unwrap();
    drop(db);
    let publish = REGISTRIES
        .into_iter()
        .map(|r| {
            let tokens = (0..5)
                .map(|_| s.token(r, &[Scope::Publish], None))
                .collect();
            (r, tokens)
        })
        .collect();
    Tokens {
        publish,
        publish_only: s.token("main", &[Scope::Publish], None),
        other_registry: s.token("second", &[Scope::Publish, Scope::Unpublish], None),
        quota: s.token("main", &[Scope::Publish], Some(("tiny", "ann"))),
    }
}

#[test]
fn fifty_clients_with_a_kill_9_mid_run_lose_no_job_and_make_none_twice() {
    let Some(mut s) = TestServer::new(&REGISTRIES) else {
        return;
    };
    let tokens = prepare(&mut s);
    s.start(Path::new(BIN));
    let warm = warm_up(&s, &tokens);

    let load = run_load(&mut s, &tokens);

    // The queues drain.
    let draining = Instant::now();
    loop {
        let open: usize = REGISTRIES.iter().map(|r| open_jobs(&s, r)).sum();
        if open == 0 {
            break;
        }
        assert!(
            draining.elapsed() < DRAIN,
            "{open} job(s) still open after {DRAIN:?}; server log:\n{}",
            s.log()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    let drain_time = draining.elapsed();

    let by_kind = check_answers(&load.outcomes);
    let reports: Vec<Report> = (REGISTRIES.iter())
        .map(|r| check_registry(&s, r, &load, &warm))
        .collect();

    // The server never failed, and the jobs the restart queued again are those that say so.
    let log = s.log();
    assert!(!log.contains("panicked"), "the server panicked:\n{log}");
    assert!(!log.contains("database failed"), "{log}");
    let recovered: usize = (log.lines())
        .filter_map(|l| l.split_once(" job(s) the last server left running"))
        .map(|(n, _)| n.rsplit(' ').next().unwrap().parse::<usize>().unwrap())
        .sum();
    let interrupted: usize = reports.iter().map(|r| r.interrupted).sum();
    assert_eq!(recovered, interrupted, "{log}");

    // Nothing invented, nothing lost: the jobs are the ids answered (and any whose answer
    // the kill cut off).
    let answered: BTreeSet<&str> = (load.outcomes.iter().filter_map(Outcome::job_id))
        .chain(warm.keys().map(String::as_str))
        .collect();
    let jobs: usize = reports.iter().map(|r| r.jobs).sum();
    let orphans: usize = reports.iter().map(|r| r.orphans).sum();
    assert_eq!(jobs, answered.len() + orphans);

    let retried = load.outcomes.iter().filter(|o| o.retries > 0).count();
    let mut by_status: BTreeMap<u16, usize> = BTreeMap::new();
    for o in &load.outcomes {
        *by_status.entry(o.status).or_default() += 1;
    }
    eprintln!(
        "server load: {} requests from {CLIENTS} clients in {:.1?}, the server killed after {} answers ({retried} requests sent again); the queues drained {drain_time:.1?} after the last answer",
        load.outcomes.len(),
        load.time,
        load.answered_at_kill,
    );
    eprintln!("server load: answers by status {by_status:?}");
    eprintln!("server load: by kind and status {by_kind:?}");
    for r in &reports {
        eprintln!(
            "server load: `{}`: {} jobs ({} succeeded, {} failed, {} interrupted by the kill, {} unanswered), {} versions published, {} temporary files left",
            r.registry,
            r.jobs,
            r.succeeded,
            r.jobs - r.succeeded,
            r.interrupted,
            r.orphans,
            r.published,
            r.temporary
        );
    }
    eprintln!(
        "server load: {jobs} jobs, {} distinct job ids answered, {recovered} queued again after the kill",
        answered.len()
    );
}

/// The warm-up versions, published before the load: their job ids and registries.
fn warm_up(s: &TestServer, tokens: &Tokens) -> BTreeMap<String, &'static str> {
    let mut warm = BTreeMap::new();
    for registry in REGISTRIES {
        for name in WARM {
            let body = publish_body(name, &format!("v{WARM_VERSION}"), WARM_VERSION, false);
            let token = &tokens.publish[registry][0];
            let answer = s.post(
                &format!("/registries/{registry}/api/v1/publish"),
                Some(token),
                &body,
            );
            assert_eq!(answer.status, 201, "{}", answer.body);
            let id = answer.json()["jobId"].as_str().unwrap().to_owned();
            warm.insert(id, registry);
        }
    }
    for (id, registry) in &warm {
        let api = format!("/registries/{registry}/api/v1");
        let job = s.finished_job(&api, id, Duration::from_secs(120));
        assert_eq!(job["success"], true, "{job:#}");
    }
    warm
}

/// What the clients were answered, and when the server was killed.
struct Load {
    outcomes: Vec<Outcome>,
    time: Duration,
    killed_at: Timestamp,
    answered_at_kill: usize,
}

/// The clients' requests, with the server killed once `KILL_AFTER` were answered (while a
/// job runs, if one can be seen running) and started again a second later at the same
/// address.
fn run_load(s: &mut TestServer, tokens: &Tokens) -> Load {
    let url = s.url.clone();
    let answered = AtomicUsize::new(0);
    let outcomes = Mutex::new(Vec::new());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    let mut killed = None;
    std::thread::scope(|scope| {
        for c in 0..CLIENTS {
            let (runtime, url, answered, outcomes) = (&runtime, url.as_str(), &answered, &outcomes);
            scope.spawn(move || {
                let client = Client {
                    runtime,
                    http: reqwest::Client::builder()
                        .timeout(Duration::from_secs(120))
                        .build()
                        .unwrap(),
                    url,
                };
                for i in 0..REQUESTS {
                    // A pause as a client would make (0–300 ms), so the requests overlap
                    // the jobs they queue: duplicates find them queued, running and done.
                    let pause = mix((c * REQUESTS + i) as u64 ^ 0x5eed) % 300;
                    std::thread::sleep(Duration::from_millis(pause));
                    let outcome = client.send(request(tokens, c, i));
                    outcomes.lock().unwrap().push(outcome);
                    answered.fetch_add(1, Ordering::SeqCst);
                }
            });
        }
        // (A client that panicked answers no more: the scope's end reports it.)
        while answered.load(Ordering::SeqCst) < KILL_AFTER && started.elapsed() < RETRY_FOR {
            std::thread::sleep(Duration::from_millis(5));
        }
        let looking = Instant::now();
        while looking.elapsed() < Duration::from_secs(20) && !a_job_runs(s) {
            std::thread::sleep(Duration::from_millis(10));
        }
        s.kill9();
        killed = Some((Timestamp::now(), answered.load(Ordering::SeqCst)));
        std::thread::sleep(Duration::from_secs(1));
        s.start(Path::new(BIN));
        assert_eq!(s.url, url, "the server restarts where it listened");
    });
    let (killed_at, answered_at_kill) = killed.unwrap();
    let outcomes = outcomes.into_inner().unwrap();
    assert_eq!(outcomes.len(), CLIENTS * REQUESTS);
    Load {
        outcomes,
        time: started.elapsed(),
        killed_at,
        answered_at_kill,
    }
}

fn a_job_runs(s: &TestServer) -> bool {
    REGISTRIES.iter().any(|r| {
        let path = format!("/registries/{r}/api/v1/jobs");
        (s.request(reqwest::Method::GET, &path, None, None).ok())
            .and_then(|a| serde_json::from_str::<serde_json::Value>(&a.body).ok())
            .is_some_and(|jobs| {
                (jobs.as_array().into_iter().flatten())
                    .any(|j| j.get("startedAt").is_some() && j.get("finishedAt").is_none())
            })
    })
}

/// Every request was accepted with a job id, or refused with a reason and a 4xx, as its
/// kind expects; the answers counted by kind and status.
fn check_answers(outcomes: &[Outcome]) -> BTreeMap<(Kind, u16), usize> {
    let mut by_kind = BTreeMap::new();
    for o in outcomes {
        *by_kind.entry((o.request.kind, o.status)).or_default() += 1;
        let accepted = matches!(o.status, 200 | 201) && o.job_id().is_some();
        let refused = (400..500).contains(&o.status)
            && o.body["error"].as_str().is_some_and(|e| !e.is_empty())
            && o.body["code"].as_str().is_some_and(|c| !c.is_empty());
        assert!(accepted || refused, "neither accepted nor refused: {o:#?}");
        let expected: &[u16] = match o.request.kind {
            Kind::Publish | Kind::MissingRef | Kind::Republish => &[200, 201],
            Kind::Again => &[200],
            Kind::Malformed => &[400],
            Kind::Unauthenticated => &[401],
            Kind::Forbidden => &[403],
            Kind::Quota => &[200, 201, 429],
        };
        assert!(expected.contains(&o.status), "{o:#?}");
        if o.status == 429 {
            assert!(o.retry_after, "a 429 without Retry-After: {o:#?}");
            assert_eq!(o.body["code"], "quota", "{o:#?}");
        }
    }
    let quota_accepted: BTreeSet<&str> = (outcomes.iter())
        .filter(|o| o.request.kind == Kind::Quota)
        .filter_map(Outcome::job_id)
        .collect();
    // Twice the quota: the run may straddle the hour.
    assert!(
        quota_accepted.len() as u64 <= ORG_QUOTA * 2,
        "the quota of {ORG_QUOTA} an hour let {} jobs in",
        quota_accepted.len()
    );
    by_kind
}

/// What one registry's checks found.
struct Report {
    registry: &'static str,
    jobs: usize,
    succeeded: usize,
    /// Jobs the kill interrupted (their log says so).
    interrupted: usize,
    /// Jobs no client was answered with: the kill cut the answer off.
    orphans: usize,
    /// Versions published by the load's jobs and the warm-up's.
    published: usize,
    /// Temporary files a write the kill interrupted left in storage.
    temporary: usize,
}

/// One registry after the load: its jobs are the ones answered, each finished, each
/// payload succeeded at most once, and what succeeded is published once, soundly.
fn check_registry(
    s: &TestServer,
    registry: &'static str,
    load: &Load,
    warm: &BTreeMap<String, &str>,
) -> Report {
    let listed = jobs_of(s, registry);
    let listed_ids: BTreeSet<&str> = (listed.iter())
        .map(|j| j["jobId"].as_str().unwrap())
        .collect();
    assert_eq!(listed_ids.len(), listed.len(), "a job listed twice");
    let mine: Vec<&Outcome> = (load.outcomes.iter())
        .filter(|o| o.request.registry == registry)
        .collect();
    let accepted: BTreeSet<&str> = (mine.iter().filter_map(|o| o.job_id()))
        .chain((warm.iter().filter(|(_, r)| **r == registry)).map(|(id, _)| id.as_str()))
        .collect();

    // Nothing lost: every accepted id is listed.
    for id in &accepted {
        assert!(listed_ids.contains(id), "accepted job {id} is not listed");
    }
    // Nothing invented: a listed job is one a client was answered with, or one whose
    // answer the kill cut off (its payload sent again found it failed, and made another).
    let retried: BTreeSet<String> = (mine.iter())
        .filter(|o| o.retries > 0)
        .filter_map(|o| serde_json::from_str(&o.request.body).ok())
        .map(|v| canonical(&v))
        .collect();
    let mut orphans = 0;
    for job in listed
        .iter()
        .filter(|j| !accepted.contains(j["jobId"].as_str().unwrap()))
    {
        let created: Timestamp = job["createdAt"].as_str().unwrap().parse().unwrap();
        assert!(
            created <= load.killed_at
                && retried.contains(&canonical(&job["payload"]))
                && job["success"] == false,
            "a job no client was answered with: {job:#}"
        );
        orphans += 1;
    }

    // Every job finished; a failure says why in an ERROR line; only the payloads meant
    // to fail failed.
    let mut jobs = BTreeMap::new();
    for id in &listed_ids {
        let answer = s.get(&format!("/registries/{registry}/api/v1/jobs/{id}"));
        assert_eq!(answer.status, 200, "{}", answer.body);
        let job = answer.json();
        assert!(job.get("finishedAt").is_some(), "{job:#}");
        if job["success"] != true {
            assert!(
                has_log(&job, "ERROR", ""),
                "a failure with no ERROR line: {job:#}"
            );
        }
        // The refs that do not exist (`9.9.x`, the quota token's `7.7.x`) and the
        // published version with other content fail; the rest publish.
        let version = job["packageVersion"].as_str().unwrap_or_default();
        let reference = job["payload"]["ref"].as_str().unwrap_or_default();
        let meant_to_publish = job["jobType"] == "publish"
            && !version.starts_with("9.9.")
            && !version.starts_with("7.7.")
            && !reference.ends_with("-again");
        assert_eq!(job["success"], meant_to_publish, "{job:#}");
        jobs.insert(id.to_string(), job);
    }
    let interrupted = (jobs.values())
        .filter(|j| has_log(j, "WARN", "The server stopped while this job ran"))
        .count();

    // Each payload succeeded at most once; each version that publishes has exactly one
    // job, the one every client that sent it was answered with.
    let mut successes: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (id, job) in jobs.iter().filter(|(_, j)| j["success"] == true) {
        (successes.entry(canonical(&job["payload"])).or_default()).push(id);
    }
    for (payload, ids) in &successes {
        assert_eq!(ids.len(), 1, "{payload} succeeded in several jobs: {ids:?}");
    }
    let mut answered_with: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for o in mine.iter().filter(|o| o.request.kind == Kind::Publish) {
        (answered_with
            .entry(canonical_text(&o.request.body))
            .or_default())
        .insert(o.job_id().unwrap());
    }
    for (payload, ids) in &answered_with {
        assert_eq!(
            ids.len(),
            1,
            "{payload} was answered with several jobs: {ids:?}"
        );
        let same = (jobs.values())
            .filter(|j| canonical(&j["payload"]) == *payload)
            .count();
        assert_eq!(same, 1, "{payload} has {same} jobs");
    }

    let mut published: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for job in jobs.values().filter(|j| j["success"] == true) {
        (published
            .entry(job["packageName"].as_str().unwrap())
            .or_default())
        .insert(job["packageVersion"].as_str().unwrap().to_owned());
    }
    check_published(s, registry, &published);
    let temporary = check_sound(s, registry);
    Report {
        registry,
        jobs: jobs.len(),
        succeeded: successes.len(),
        interrupted,
        orphans,
        published: published.values().map(BTreeSet::len).sum(),
        temporary,
    }
}

/// The versions the successful jobs published are in the registry's remote metadata and
/// index once each, and no others are.
fn check_published(s: &TestServer, registry: &str, published: &BTreeMap<&str, BTreeSet<String>>) {
    let root = s.registry_root(registry);
    for name in PACKAGES {
        let versions = published.get(name).cloned().unwrap_or_default();
        let metadata = regis::testing::remote_file(
            &root.join("remotes/registry.git"),
            &format!("metadata/{name}.json"),
        );
        let package: PackageName = name.parse().unwrap();
        let index = regis::testing::remote_file(
            &root.join("remotes/index.git"),
            &regis::index::entry_path(&package),
        );
        let (Some(metadata), Some(index)) = (metadata, index) else {
            assert!(
                versions.is_empty(),
                "{name}: {versions:?} published, and no metadata or index"
            );
            continue;
        };
        let json: serde_json::Value = serde_json::from_str(&metadata).unwrap();
        let in_metadata: BTreeSet<String> = (json["published"].as_object().unwrap().keys())
            .cloned()
            .collect();
        assert_eq!(in_metadata, versions, "{name} in `{registry}`'s metadata");
        for v in &versions {
            let times = metadata.matches(&format!("\"{v}\":")).count();
            assert_eq!(times, 1, "{name}@{v} in {metadata}");
        }
        let in_index: Vec<String> = (index.lines())
            .map(|l| {
                let line: serde_json::Value = serde_json::from_str(l).unwrap();
                line["version"].as_str().unwrap().to_owned()
            })
            .collect();
        let distinct: BTreeSet<String> = in_index.iter().cloned().collect();
        assert_eq!(
            distinct.len(),
            in_index.len(),
            "{name}: a version twice:\n{index}"
        );
        assert_eq!(distinct, versions, "{name} in `{registry}`'s index");
    }
}

/// `regis check` of the registry finds nothing but the temporary files a write the kill
/// interrupted may have left in storage (`interrupted-write`: the next write in their
/// directory, or `regis gc`, removes them once they are stale); how many of those.
fn check_sound(s: &TestServer, registry: &str) -> usize {
    let out = std::process::Command::new(BIN)
        .args(["--json", "check", "--registry"])
        .arg(s.registry_root(registry).join("registry"))
        .env_remove("REGIS_STORAGE")
        .env_remove("REGIS_INDEX")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let report: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "regis check of `{registry}` ({e}): {text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let findings = report["findings"].as_array().unwrap();
    let interrupted = (findings.iter())
        .filter(|f| f["kind"] == "interrupted-write")
        .count();
    assert_eq!(
        interrupted,
        findings.len(),
        "regis check of `{registry}`: {report:#}"
    );
    let expected = if findings.is_empty() { 0 } else { 1 };
    assert_eq!(out.status.code(), Some(expected), "{report:#}");
    interrupted
}
