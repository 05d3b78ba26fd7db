//! `regis serve` over real HTTP on 127.0.0.1: the PureScript Registry's API shapes, the
//! durable job queue, tokens, organizations and quotas.

use std::time::Duration;

use regis::server::access::Scope;
use regis::testing::TestServer;

const BIN: &str = env!("CARGO_BIN_EXE_regis");

#[test]
fn a_publish_through_the_api_runs_as_a_job_and_lands_in_the_registry() {
    let Some(mut s) = TestServer::new(&["main"]) else {
        return;
    };
    let p = s.package("served", "1.0.0", &[]);
    s.push_source(&p);
    let token = s.token("main", &[Scope::Publish], None);
    s.start(std::path::Path::new(BIN));
    let answer = s.post("/api/v1/publish", Some(&token), &s.publish_payload(&p));
    assert_eq!(answer.status, 201, "{}", answer.body);
    let id = answer.json()["jobId"].as_str().unwrap().to_owned();
    let job = s.finished_job("/api/v1", &id, Duration::from_secs(120));
    assert_eq!(job["success"], true, "{job:#}");
    assert_eq!(job["jobType"], "publish");
    assert_eq!(job["packageName"], "served");
    let metadata = regis::testing::remote_file(
        &s.registry_root("main").join("remotes/registry.git"),
        "metadata/served.json",
    )
    .expect("the publish pushed metadata");
    assert!(metadata.contains("\"1.0.0\""), "{metadata}");
    let tarball = s.get("/registries/main/static/served/1.0.0.tar.gz");
    assert_eq!(tarball.status, 200);
}
