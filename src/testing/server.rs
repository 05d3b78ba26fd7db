//! `regis serve` as the server tests run it: a home laid down by `regis server init` in a
//! tempdir, its registries' GitHub locations served by a `git daemon` on 127.0.0.1, the
//! server a real process (so a test can `kill -9` it and start it again), and a blocking
//! HTTP client (reqwest) to talk to it.

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::sample::SamplePackage;
use crate::schema::{Location, Timestamp};
use crate::server::access::{self, Scope, TokenRequest};

use super::Daemon;

/// A server home with its registries, and the server process once started.
pub struct TestServer {
    /// The `git daemon` serving `<tmp>/github` (the registries' `githubBaseUrl`).
    pub daemon: Daemon,
    pub home: PathBuf,
    /// `http://127.0.0.1:<port>` while the server runs.
    pub url: String,
    child: Option<Child>,
    /// Extra environment for the server process (`REGIS_NOW`, …).
    pub env: Vec<(String, String)>,
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
    // Last: removed after the rest is closed.
    pub tmp: tempfile::TempDir,
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

impl TestServer {
    /// A home with a registry for each of `names` (the first the default), locations
    /// fetched over `git://` from the daemon, and `gitSchemes` `[ "https", "git" ]`; `None`
    /// (with a note) when `git daemon` cannot run here.
    pub fn new(names: &[&str]) -> Option<TestServer> {
        let tmp = tempfile::tempdir().unwrap();
        let github = tmp.path().join("github");
        std::fs::create_dir_all(github.join("test")).unwrap();
        let daemon = Daemon::start(&github)?;
        let base = daemon.url("");
        let base = base.trim_end_matches('/').to_owned();
        let home = tmp.path().join("home");
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let install = crate::init::RegisInstall::this_build(None).unwrap();
        crate::server::init_with(&home, &names, &install, &|c| {
            c.github_base_url = base.parse().expect("the daemon's URL");
        })
        .unwrap();
        let config = home.join(crate::server::CONFIG_FILE);
        let text = std::fs::read_to_string(&config).unwrap();
        std::fs::write(
            &config,
            text.replace(
                r#"gitSchemes = [ "https" ]"#,
                r#"gitSchemes = [ "https", "git" ]"#,
            ),
        )
        .unwrap();
        let _ = rustls::crypto::ring::default_provider().install_default();
        Some(TestServer {
            daemon,
            home,
            url: String::new(),
            child: None,
            env: Vec::new(),
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            client: http_client(),
            tmp,
        })
    }

    /// Replace `from` with `to` in `regis-server.dhall` (quotas, schemes, …).
    pub fn edit_config(&self, from: &str, to: &str) {
        let path = self.home.join(crate::server::CONFIG_FILE);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "`{from}` is not in {text}");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    }

    /// The directory of registry `name` (registry/, index/, storage/, remotes/).
    pub fn registry_root(&self, name: &str) -> PathBuf {
        self.home.join(crate::server::REGISTRIES_DIR).join(name)
    }

    /// A sample package whose source is `test/<name>` on the daemon.
    pub fn package(&self, name: &str, version: &str, deps: &[(&str, &str)]) -> SamplePackage {
        let location = Location::github("test", name, None).unwrap();
        SamplePackage::new(name, version, location, deps)
    }

    /// Commit `p` to its source repo and tag it.
    pub fn push_source(&self, p: &SamplePackage) {
        let dir = self
            .tmp
            .path()
            .join("github/test")
            .join(format!("{}.git", p.manifest.name));
        p.commit_to(&dir).unwrap();
    }

    /// The Publish payload of `p` (its location, ref, version and compiler).
    pub fn publish_payload(&self, p: &SamplePackage) -> String {
        serde_json::json!({
            "name": p.manifest.name.to_string(),
            "location": {"githubOwner": "test", "githubRepo": p.manifest.name.to_string()},
            "ref": p.manifest.reference,
            "version": p.manifest.version.to_string(),
            "compiler": "0.15.15",
        })
        .to_string()
    }

    /// A token of `registry` with `scopes` (of `org`'s `member` when given), through the
    /// library as `regis token create` makes one, expiring in a day.
    pub fn token(&self, registry: &str, scopes: &[Scope], org: Option<(&str, &str)>) -> String {
        let mut db = crate::server::Home::new(&self.home).open_db().unwrap();
        let now = Timestamp::now();
        let request = TokenRequest {
            registry: registry.to_owned(),
            org: org.map(|(o, m)| (o.to_owned(), m.to_owned())),
            scopes: scopes.to_vec(),
            label: "test".into(),
            expires_at: Timestamp::from_datetime(now.as_datetime() + chrono::Duration::days(1)),
        };
        access::create_token(&mut db, &request, now)
            .unwrap()
            .secret
            .reveal()
            .to_owned()
    }

    /// Start `regis serve` (the binary at `bin`) and wait until it listens: on a free port
    /// the first time, then on the same address again, as a restarted server would (its
    /// clients keep their URL).
    pub fn start(&mut self, bin: &Path) {
        assert!(self.child.is_none(), "the server runs already");
        let listen = match self.url.strip_prefix("http://") {
            Some(addr) => addr.to_owned(),
            None => "127.0.0.1:0".to_owned(),
        };
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.tmp.path().join("server.log"))
            .unwrap();
        let mut child = Command::new(bin)
            .args(["serve", "--home"])
            .arg(&self.home)
            .args(["--listen", &listen])
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("regis serve starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(url) = line.strip_prefix("listening on ") {
                    let _ = tx.send(url.to_owned());
                }
            }
        });
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(url) => self.url = url,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("regis serve did not listen; its log:\n{}", self.log());
            }
        }
        self.child = Some(child);
        // A new pool: the connections kept from the last run lead to a killed process.
        self.client = http_client();
    }

    /// What the server wrote on stderr, every run so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.tmp.path().join("server.log")).unwrap_or_default()
    }

    /// `kill -9` the server.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    /// A request: `method` `path` (from the server's root) with a bearer `token` and `body`.
    pub fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> Result<Answer, reqwest::Error> {
        let url = format!("{}{path}", self.url);
        self.runtime.block_on(async {
            let mut request = self.client.request(method, &url);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            if let Some(body) = body {
                request = request
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.to_owned());
            }
            let response = request.send().await?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = response.text().await?;
            Ok(Answer {
                status,
                headers,
                body,
            })
        })
    }

    /// `POST path` with `token` and `body`.
    pub fn post(&self, path: &str, token: Option<&str>, body: &str) -> Answer {
        self.request(reqwest::Method::POST, path, token, Some(body))
            .unwrap_or_else(|e| panic!("POST {path}: {e}"))
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> Answer {
        self.request(reqwest::Method::GET, path, None, None)
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    /// Job `id` under `api` (`/api/v1` or `/registries/<name>/api/v1`) once it finished, with
    /// its logs; panics after `timeout`.
    pub fn finished_job(&self, api: &str, id: &str, timeout: Duration) -> serde_json::Value {
        let start = Instant::now();
        loop {
            let job = self.get(&format!("{api}/jobs/{id}")).json();
            if job.get("finishedAt").is_some() {
                return job;
            }
            assert!(
                start.elapsed() < timeout,
                "job {id} did not finish within {timeout:?}: {job:#}\nserver log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill9();
    }
}
