//! A real S3-compatible object store for the tests that keep tarballs in one: Garage
//! (`garage`, installed by `.ci/run`), one node on 127.0.0.1, started once per test
//! process; each test gets a prefix of its own in one bucket.
//!
//! The server runs under a small shell that stops it (and removes its data) once the test
//! process is gone, so a test binary never leaves a server behind.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

const BUCKET: &str = "regis";
const REGION: &str = "garage";

/// A prefix of its own in the test store's bucket.
#[derive(Debug, Clone)]
pub struct S3Prefix {
    /// `s3://regis/<prefix>`, as `storage` in `regis.dhall` or `--storage` takes it.
    pub url: String,
    endpoint: String,
    key_id: String,
    secret: String,
}

impl S3Prefix {
    /// A fresh prefix in the test process's Garage; `None` (with a note) when `garage` is
    /// not installed here.
    pub fn new() -> Option<S3Prefix> {
        static COUNT: AtomicU32 = AtomicU32::new(0);
        let garage = garage()?;
        let n = COUNT.fetch_add(1, Ordering::Relaxed);
        Some(S3Prefix {
            url: format!("s3://{BUCKET}/t{}-{n}", std::process::id()),
            endpoint: garage.endpoint.clone(),
            key_id: garage.key_id.clone(),
            secret: garage.secret.clone(),
        })
    }

    /// The standard AWS environment variables that reach the store: for
    /// `ObjectStorage::open_with`, or a `regis` child process's environment.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT", self.endpoint.as_str()),
            ("AWS_ALLOW_HTTP", "true"),
            ("AWS_REGION", REGION),
            ("AWS_ACCESS_KEY_ID", &self.key_id),
            ("AWS_SECRET_ACCESS_KEY", &self.secret),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }
}

struct Garage {
    endpoint: String,
    key_id: String,
    secret: String,
}

/// The process's server, started on first use.
fn garage() -> Option<&'static Garage> {
    static GARAGE: OnceLock<Option<Garage>> = OnceLock::new();
    GARAGE
        .get_or_init(|| {
            let Some(program) = which("garage") else {
                super::skip("`garage` is not installed here (this S3 test needs it)");
                return None;
            };
            let mut last = String::new();
            for _ in 0..3 {
                match start(&program) {
                    Ok(g) => return Some(g),
                    Err(e) => last = e,
                }
            }
            panic!("could not start a Garage server: {last}");
        })
        .as_ref()
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

fn start(program: &Path) -> Result<Garage, String> {
    let dir = tempfile::Builder::new()
        .prefix("regis-garage-")
        .tempdir()
        .map_err(|e| e.to_string())?
        .keep();
    let (rpc, s3) = (super::free_port(), super::free_port());
    // The RPC secret only keeps one test process's server apart from another's.
    let secret = hex::encode(
        crate::schema::Sha256::of(format!("{:?}{rpc}", Instant::now()).as_bytes()).digest(),
    );
    let config = dir.join("garage.toml");
    std::fs::write(
        &config,
        format!(
            "metadata_dir = \"{d}/meta\"\ndata_dir = \"{d}/data\"\ndb_engine = \"sqlite\"\n\
             replication_factor = 1\nrpc_bind_addr = \"127.0.0.1:{rpc}\"\n\
             rpc_public_addr = \"127.0.0.1:{rpc}\"\nrpc_secret = \"{secret}\"\n\n\
             [s3_api]\ns3_region = \"{REGION}\"\napi_bind_addr = \"127.0.0.1:{s3}\"\n",
            d = dir.display()
        ),
    )
    .map_err(|e| e.to_string())?;
    // The watchdog: the server lives while this process does, then its data goes too.
    let watchdog = format!(
        "\"$0\" -c \"$1\" server >\"$2/server.log\" 2>&1 & g=$!\n\
         while kill -0 {parent} 2>/dev/null && kill -0 $g 2>/dev/null; do sleep 0.5; done\n\
         kill $g 2>/dev/null; wait $g; rm -rf \"$2\"",
        parent = std::process::id()
    );
    Command::new("sh")
        .arg("-c")
        .arg(watchdog)
        .arg(program)
        .arg(&config)
        .arg(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("running sh: {e}"))?;
    let cli = |args: &[&str]| -> Result<String, String> {
        let out = Command::new(program)
            .arg("-c")
            .arg(&config)
            .args(args)
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(format!(
                "`garage {}`: {}{}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr),
                std::fs::read_to_string(dir.join("server.log")).unwrap_or_default()
            ))
        }
    };
    let node = retry(|| cli(&["node", "id", "-q"]))?;
    let node = node.trim().split('@').next().unwrap_or_default().to_owned();
    retry(|| cli(&["layout", "assign", "-z", "dc1", "-c", "1G", &node]))?;
    cli(&["layout", "apply", "--version", "1"])?;
    retry(|| cli(&["bucket", "create", BUCKET]))?;
    let key = cli(&["key", "create", "regis-tests"])?;
    cli(&[
        "bucket",
        "allow",
        "--read",
        "--write",
        "--owner",
        BUCKET,
        "--key",
        "regis-tests",
    ])?;
    let field = |name: &str| {
        key.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_owned())
            .ok_or_else(|| format!("no `{name}` in `garage key create`'s output: {key}"))
    };
    Ok(Garage {
        endpoint: format!("http://127.0.0.1:{s3}"),
        key_id: field("Key ID:")?,
        secret: field("Secret key:")?,
    })
}

/// `f` until it succeeds or 15 s have passed (the server is starting).
fn retry<T>(mut f: impl FnMut() -> Result<T, String>) -> Result<T, String> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        match f() {
            Ok(v) => return Ok(v),
            Err(e) if Instant::now() > deadline => return Err(e),
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}
