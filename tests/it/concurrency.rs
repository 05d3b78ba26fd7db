//! 32 `regis` processes at once, each in its own checkout of the registry and index repos,
//! sharing one storage directory, over `file://` remotes (what `regis init` lays down) and
//! over `git daemon` on 127.0.0.1: different packages, versions of one package, the same
//! payload eight times, a transfer, an unpublish and package-set updates. Every job lands
//! or refuses for a stated reason; nothing that a job reported is lost, nothing is
//! duplicated, and `regis check` finds the result clean.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use regis::auth::{SignatureFormat, SigningKey};
use regis::git::GitRepo;
use regis::index::IndexFile;
use regis::metadata::Metadata;
use regis::payload::Authenticated;
use regis::schema::{PackageName, Sha256};
use regis::storage::{Storage, StorageKey};
use regis::testing::{self, Daemon, TestRegistry};

/// What a job runs, and what it must come to.
#[derive(Debug, Clone)]
enum Job {
    /// A publish that must land: the package and version.
    Publish(String, String),
    /// `moving` to `moved-here`.
    Transfer,
    /// `gone@1.0.0`.
    Unpublish,
    /// A package-set update adding one package (one landing first makes it plan again on
    /// the new set).
    SetAdd,
}

fn trustee() -> SigningKey {
    SigningKey::from_openssh(&testing::seeded_key(3), None).unwrap()
}

fn signed(key: &SigningKey, payload: serde_json::Value) -> String {
    let payload = payload.to_string();
    let signature = key.sign(&payload, SignatureFormat::Raw, "file").unwrap();
    serde_json::to_string(&Authenticated { payload, signature }).unwrap()
}

/// The registry before the burst: packages to transfer, unpublish and put in sets, and the
/// source repos of everything the burst publishes. Returns the jobs, each with its payload.
fn prepare(t: &TestRegistry, key: &SigningKey) -> Vec<(Job, String)> {
    for name in ["moving", "set-a", "set-b"] {
        t.release(&t.package(name, "1.0.0", &[]));
    }
    t.release(&t.package("gone", "1.0.0", &[]));
    t.release(&t.package("gone", "1.1.0", &[]));
    let mut jobs = Vec::new();
    let publish = |name: &str, version: &str| {
        let p = t.package(name, version, &[]);
        t.push_source(&p);
        (
            Job::Publish(name.to_owned(), version.to_owned()),
            serde_json::to_string(&p.payload(true)).unwrap(),
        )
    };
    // 12 different packages
    for i in 0..12 {
        jobs.push(publish(&format!("pkg-{i}"), "1.0.0"));
    }
    // 8 versions of one package (each commit tagged in the same source repo)
    for minor in 0..8 {
        jobs.push(publish("multi", &format!("1.{minor}.0")));
    }
    // the same payload 8 times
    let same = publish("same", "1.0.0");
    jobs.extend(std::iter::repeat_n(same, 8));
    // a transfer, an unpublish, two package-set updates
    let to = t.github("moved-here");
    jobs.push((
        Job::Transfer,
        signed(
            key,
            serde_json::json!({"name": "moving", "newLocation": to}),
        ),
    ));
    jobs.push((
        Job::Unpublish,
        signed(
            key,
            serde_json::json!({"name": "gone", "version": "1.0.0", "reason": "a test"}),
        ),
    ));
    for name in ["set-a", "set-b"] {
        jobs.push((
            Job::SetAdd,
            serde_json::json!({"packages": {name: "1.0.0"}}).to_string(),
        ));
    }
    assert_eq!(jobs.len(), 32);
    jobs
}

fn command(job: &Job) -> &'static str {
    match job {
        Job::Publish(..) => "publish",
        Job::Transfer => "transfer",
        Job::Unpublish => "unpublish",
        Job::SetAdd => "package-set",
    }
}

/// Start every job at once, each in its own checkouts cloned from `registry_url` and
/// `index_url`; wait for all.
fn run_burst(
    t: &TestRegistry,
    jobs: &[(Job, String)],
    registry_url: &str,
    index_url: &str,
    work: &Path,
) -> Vec<(i32, String, String)> {
    let mut children: Vec<Child> = Vec::new();
    for (i, (job, payload)) in jobs.iter().enumerate() {
        let dir = work.join(format!("job-{i}"));
        GitRepo::clone(registry_url, &dir.join("registry")).unwrap();
        GitRepo::clone(index_url, &dir.join("index")).unwrap();
        let file = dir.join("payload.json");
        std::fs::write(&file, payload).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_regis"));
        cmd.arg("--registry")
            .arg(dir.join("registry"))
            .arg("--index")
            .arg(dir.join("index"))
            .arg("--storage")
            .arg(&t.layout.storage)
            .arg(command(job));
        if matches!(job, Job::SetAdd) {
            cmd.arg("update");
        }
        children.push(
            cmd.arg(&file)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        );
    }
    children
        .into_iter()
        .map(|child| {
            let out = child.wait_with_output().unwrap();
            (
                out.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        })
        .collect()
}

/// The registry as the remotes hold it after the burst, in a fresh checkout.
struct After {
    _dir: tempfile::TempDir,
    registry: PathBuf,
    index: PathBuf,
}

impl After {
    fn of(t: &TestRegistry) -> After {
        let dir = tempfile::tempdir().unwrap();
        let (registry, index) = (dir.path().join("registry"), dir.path().join("index"));
        GitRepo::clone(
            &format!("file://{}", t.layout.registry_remote.display()),
            &registry,
        )
        .unwrap();
        GitRepo::clone(
            &format!("file://{}", t.layout.index_remote.display()),
            &index,
        )
        .unwrap();
        After {
            _dir: dir,
            registry,
            index,
        }
    }

    fn metadata(&self, name: &str) -> Metadata {
        let text =
            std::fs::read_to_string(self.registry.join(format!("metadata/{name}.json"))).unwrap();
        Metadata::from_json(name, &text).unwrap()
    }

    fn index_versions(&self, name: &str) -> Vec<String> {
        let package: PackageName = name.parse().unwrap();
        let path = self.index.join(regis::index::entry_path(&package));
        let Ok(text) = std::fs::read_to_string(path) else {
            return vec![];
        };
        // parsing refuses a version that appears twice
        let file = IndexFile::parse(name, &package, &text).unwrap();
        file.versions().map(ToString::to_string).collect()
    }
}

fn burst(transport: &str) {
    burst_with(transport, false);
}

fn burst_with(transport: &str, tuf: bool) {
    use regis::trust::{KeySource, Role};
    let key = trustee();
    let keys = tempfile::tempdir().unwrap();
    let made = keys.path().join("made");
    std::fs::create_dir(&made).unwrap();
    let init = tuf.then(|| {
        let expires = jiff::Timestamp::from_second(4_000_000_000).unwrap();
        regis::trust::init(&made, &keys.path().join("keys"), 1, 1, expires).unwrap()
    });
    let file = |role: Role| {
        let init = init.as_ref().unwrap();
        let path = init
            .keys
            .iter()
            .find(|k| k.role == role)
            .unwrap()
            .path
            .clone();
        Some(KeySource::File(path))
    };
    let t = TestRegistry::with_config(|c| {
        c.trustees = vec![key.public()];
        if tuf {
            c.trust_targets_key = file(Role::Targets);
            c.trust_snapshot_key = file(Role::Snapshot);
            c.trust_timestamp_key = file(Role::Timestamp);
            c.trust_atom_key = file(Role::Atom);
            c.trust_timestamp_expiry_days = 3650;
            c.trust_online_expiry_days = 3650;
        }
    });
    if let Some(init) = &init {
        let root = std::fs::read(made.join(&init.root)).unwrap();
        t.registry
            .commit_change("Root of trust", t.config.push_retry(), |dir| {
                std::fs::create_dir_all(dir.join("tuf/root")).unwrap();
                std::fs::write(dir.join(&init.root), &root).unwrap();
                Ok::<_, regis::git::GitError>(vec![PathBuf::from(&init.root)])
            })
            .unwrap();
        regis::operation::verify::adopt(&t.ctx()).unwrap();
    }
    let jobs = prepare(&t, &key);
    let daemon;
    let (registry_url, index_url) = match transport {
        "file" => (
            format!("file://{}", t.layout.registry_remote.display()),
            format!("file://{}", t.layout.index_remote.display()),
        ),
        _ => {
            let Some(d) = Daemon::start(t.layout.registry_remote.parent().unwrap()) else {
                return;
            };
            daemon = d;
            (daemon.url("registry.git"), daemon.url("index.git"))
        }
    };
    let work = tempfile::tempdir().unwrap();
    let results = run_burst(&t, &jobs, &registry_url, &index_url, work.path());

    let after = After::of(&t);
    for ((job, _), (code, stdout, stderr)) in jobs.iter().zip(&results) {
        let said = format!("{transport}: {job:?} exited {code}\n{stdout}{stderr}");
        assert_eq!(*code, 0, "{said}");
    }

    // Every publish landed in metadata, index and storage, once.
    let storage = regis::storage::FsStorage::new(&t.layout.storage);
    let mut published: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (job, _) in &jobs {
        if let Job::Publish(name, version) = job {
            published
                .entry(name.clone())
                .or_default()
                .push(version.clone());
        }
    }
    for (name, mut versions) in published {
        versions.sort();
        versions.dedup();
        let m = after.metadata(&name);
        let recorded: Vec<String> = m.published.keys().map(ToString::to_string).collect();
        assert_eq!(recorded, versions, "{transport}: metadata of {name}");
        assert_eq!(
            after.index_versions(&name),
            versions,
            "{transport}: index of {name}"
        );
        for (version, entry) in &m.published {
            let key = StorageKey::tarball(&name.parse().unwrap(), version);
            let bytes = storage.get(&key).unwrap().expect("the tarball is stored");
            assert_eq!(Sha256::of(&bytes), entry.hash, "{transport}: {key}");
        }
        for remote in [&t.layout.registry_remote, &t.layout.index_remote] {
            let commits = testing::commits_on(remote);
            for version in &versions {
                let message = format!("Publish {name}@{version}");
                let count = commits.iter().filter(|c| c.trim() == message).count();
                assert_eq!(count, 1, "{transport}: `{message}` in {}", remote.display());
            }
        }
    }
    // The transfer, the unpublish, the sets.
    assert_eq!(after.metadata("moving").location, t.github("moved-here"));
    let gone = after.metadata("gone");
    assert!(gone.unpublished.contains_key(&"1.0.0".parse().unwrap()));
    assert_eq!(after.index_versions("gone"), ["1.1.0"]);
    let latest = regis::store::RegistryDir::new(&after.registry)
        .latest_package_set()
        .unwrap()
        .expect("a package set landed");
    for name in ["set-a", "set-b"] {
        assert!(
            latest.packages.contains_key(name),
            "{transport}: {name} in {latest:?}"
        );
    }

    // The whole registry, storage included, is clean.
    let check = Command::new(env!("CARGO_BIN_EXE_regis"))
        .arg("--registry")
        .arg(&after.registry)
        .arg("--index")
        .arg(&after.index)
        .arg("--storage")
        .arg(&t.layout.storage)
        .arg("check")
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{transport}: {}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );

    if tuf {
        // Storage serves the newest timestamp the jobs signed (not one a slower job copied
        // after a faster one's), and everything verifies as a client reads it.
        assert_eq!(
            std::fs::read(t.layout.storage.join("tuf/timestamp.json")).unwrap(),
            std::fs::read(after.registry.join("tuf/timestamp.json")).unwrap(),
            "{transport}: the timestamp storage serves"
        );
        let root = std::fs::read(after.registry.join("tuf/root/1.root.json")).unwrap();
        let origin =
            regis::operation::client::Origin::parse(t.layout.storage.to_str().unwrap()).unwrap();
        let state = tempfile::tempdir().unwrap();
        let client = regis::operation::client::Client::load(origin, &root, state.path()).unwrap();
        let found = regis::operation::verify::verify_all(&client, Some(&after.registry)).unwrap();
        assert_eq!(found.problems, Vec::<String>::new(), "{transport}");
        assert_eq!(found.missing, Vec::<String>::new(), "{transport}");
    }
}

#[test]
fn thirty_two_jobs_at_once_over_file_remotes() {
    burst("file");
}

/// The same burst on a registry with a TUF repository and atoms: every job re-signs a bin,
/// the snapshot and the timestamp, and copies them to the one storage.
#[test]
fn thirty_two_jobs_at_once_on_a_tuf_registry() {
    burst_with("file", true);
}

#[test]
fn thirty_two_jobs_at_once_over_git_daemon() {
    burst("git");
}
