//! The server on real data: the real registry view of
//! `../shared/fixtures/purescript/package-set-samples/` served as a registry, a real
//! release of `sources/` published through `POST /api/v1/publish` (the index line and
//! the packed files the real registry published), and the real package set update
//! 80.7.0 → 80.8.0 through `POST /api/v1/package-sets` (the real 80.8.0).

use std::path::Path;
use std::time::Duration;

use regis::git::GitRepo;
use regis::index::IndexFile;
use regis::metadata::Metadata;
use regis::schema::{PackageName, Version};
use regis::server::access::Scope;
use regis::testing::{self, TestServer};

const BIN: &str = env!("CARGO_BIN_EXE_regis");

/// Post `body` to `route`, wait for its job, and return it with its log as text.
fn run(s: &TestServer, route: &str, token: &str, body: &str) -> (serde_json::Value, String) {
    let answer = s.post(&format!("/api/v1/{route}"), Some(token), body);
    assert_eq!(answer.status, 201, "{}", answer.body);
    let id = answer.json()["jobId"].as_str().unwrap().to_owned();
    let job = s.finished_job("/api/v1", &id, Duration::from_secs(300));
    let log: Vec<String> = (job["logs"].as_array().unwrap().iter())
        .map(|l| {
            format!(
                "{} {}",
                l["level"].as_str().unwrap(),
                l["message"].as_str().unwrap()
            )
        })
        .collect();
    (job, log.join("\n"))
}

#[test]
fn the_real_registry_view_takes_a_real_release_and_the_real_set_update_through_the_api() {
    let Some(fixtures) = testing::purescript_fixtures() else {
        return;
    };
    let Some(mut s) = TestServer::new(&["purescript"]) else {
        return;
    };
    let samples = fixtures.join("package-set-samples");
    let case = fixtures.join("sources/type-equality-4.0.1");
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(case.join("expected.json")).unwrap())
            .unwrap();
    let name: PackageName = "type-equality".parse().unwrap();
    let version: Version = "4.0.1".parse().unwrap();

    // The served registry is the real view (type-equality@4.0.1 forgotten, to be published
    // again), with the PureScript Registry's config and its sources on the git daemon.
    let root = s.registry_root("purescript");
    for dir in ["registry", "index", "remotes"] {
        std::fs::remove_dir_all(root.join(dir)).unwrap();
    }
    testing::copy_dir(&samples.join("registry"), &root.join("registry"));
    testing::copy_dir(&samples.join("index"), &root.join("index"));
    let metadata_file = root.join("registry/metadata/type-equality.json");
    let mut metadata = Metadata::from_json(
        "metadata",
        &std::fs::read_to_string(&metadata_file).unwrap(),
    )
    .unwrap();
    metadata.published.remove(&version).unwrap();
    std::fs::write(&metadata_file, metadata.to_json()).unwrap();
    let index_file = root.join("index").join(regis::index::entry_path(&name));
    let mut entries = IndexFile::parse(
        "index",
        &name,
        &std::fs::read_to_string(&index_file).unwrap(),
    )
    .unwrap();
    entries.remove(&version).unwrap();
    std::fs::write(&index_file, entries.to_text()).unwrap();
    let base = s.daemon.url("");
    let config = regis::config::Config {
        github_base_url: base.trim_end_matches('/').parse().unwrap(),
        index: Some("../index".into()),
        storage: Some("../storage".into()),
        ..regis::config::Config::default()
    };
    std::fs::write(
        root.join("registry").join(regis::config::CONFIG_FILE),
        config.to_dhall(),
    )
    .unwrap();
    for repo in ["registry", "index"] {
        let remote = root.join(format!("remotes/{repo}.git"));
        GitRepo::init_with_remote(&root.join(repo), &remote, "import").unwrap();
    }
    let tree = case.join("tree");
    let files: Vec<(String, Vec<u8>)> = (testing::files_below(&tree).into_iter())
        .map(|rel| {
            let bytes = std::fs::read(tree.join(&rel)).unwrap();
            (rel.to_string_lossy().into_owned(), bytes)
        })
        .collect();
    let owner = expected["location"]["githubOwner"].as_str().unwrap();
    let repo = expected["location"]["githubRepo"].as_str().unwrap();
    let source = s.tmp.path().join(format!("github/{owner}/{repo}.git"));
    regis::sample::write_repo(&source, &files, "the release", "v4.0.1").unwrap();

    let token = s.token("purescript", &[Scope::Publish], None);
    s.start(Path::new(BIN));

    // The real release: the index line the real registry published, the files of its real
    // stored tarball byte for byte.
    let payload = serde_json::json!({
        "name": "type-equality",
        "ref": expected["ref"],
        "version": "4.0.1",
        "location": expected["location"],
    });
    let (job, log) = run(&s, "publish", &token, &payload.to_string());
    assert_eq!(job["success"], true, "{log}");
    let remotes = root.join("remotes");
    let lines =
        testing::remote_file(&remotes.join("index.git"), &regis::index::entry_path(&name)).unwrap();
    assert!(
        lines
            .lines()
            .any(|l| l == expected["indexLine"].as_str().unwrap()),
        "{lines}"
    );
    let packed = std::fs::read(root.join("storage/type-equality/4.0.1.tar.gz")).unwrap();
    let real = std::fs::read(case.join("real.tar.gz")).unwrap();
    assert_eq!(
        super::sources::tarball_files(&packed),
        super::sources::tarball_files(&real)
    );
    let resolved = s.get("/api/v1/packages/type-equality/4.0.1").json();
    assert_eq!(resolved["published"]["bytes"], packed.len());

    // The real package set update, 80.7.0 → 80.8.0, by a token that may only add and
    // upgrade: the set the real registry published.
    let update = std::fs::read_to_string(samples.join("update-80.7.0-to-80.8.0.json")).unwrap();
    let (job, log) = run(&s, "package-sets", &token, &update);
    assert_eq!(job["success"], true, "{log}");
    assert!(log.contains("published package set `80.8.0`"), "{log}");
    let set = testing::remote_file(&remotes.join("registry.git"), "package-sets/80.8.0.json")
        .expect("the set landed");
    let set: serde_json::Value = serde_json::from_str(&set).unwrap();
    let real: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(samples.join("80.8.0.json")).unwrap())
            .unwrap();
    assert_eq!(set["packages"], real["packages"]);
    assert_eq!(set["compiler"], real["compiler"]);
}
