//! `regis serve`: the registry as a server. The PureScript Registry's HTTP API
//! (`/api/v1/publish`, `/unpublish`, `/transfer`, `/package-sets`, `/jobs`, `/jobs/{id}`)
//! over a durable job queue, for several registries at once, with organizations, API
//! tokens and quotas.
//!
//! The server runs no operation of its own: a job is the payload an issue would carry,
//! run by [`crate::operation::request::run`], the code the issue flow runs.
//!
//! A server lives in a home directory:
//!
//! ```text
//! <home>/regis-server.dhall      the config (schemas/Server.dhall): registries, quotas
//! <home>/private/                mode 0700, never served: regis.sqlite (jobs, logs,
//!                                organizations, token hashes, quota counts), and the
//!                                registries' private keys (`regis keys init --out`)
//! <home>/registries/<name>/      each registry as `regis init` lays it down: registry/
//!                                (regis.dhall), index/, storage/, remotes/
//! ```
//!
//! The one public directory of a registry is its storage (tarballs, atoms, the TUF
//! repository), served at `/registries/<name>/static/`. [`load`] refuses a home whose
//! private directory others may read, a storage directory holding the private directory,
//! and a key file a registry's config names inside what is served.
//!
//! `api.rs`: the HTTP routes (axum); `jobs.rs`: the queue; `db.rs`: the SQLite database;
//! `access.rs`: organizations and tokens; `quota.rs`: quotas.

pub mod access;
pub mod api;
pub mod db;
pub mod jobs;
pub mod quota;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::config::{Config, ConfigError};
use crate::dhall::{DhallError, Schema};
use crate::operation::{OpenError, Opened};
use crate::storage::Location;

use db::{Db, DbError};
use quota::Quotas;

/// The config file in a server's home.
pub const CONFIG_FILE: &str = "regis-server.dhall";
/// The private directory in a server's home.
pub const PRIVATE_DIR: &str = "private";
/// The database in the private directory.
pub const DB_FILE: &str = "regis.sqlite";
/// Where `regis server init` lays down registries, in a server's home.
pub const REGISTRIES_DIR: &str = "registries";

/// The URL schemes `gitSchemes` may name.
const SCHEMES: [&str; 4] = ["https", "http", "git", "ssh"];

/// Why a server cannot start, or its home cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(
        "`{home}` is not a regis server's home: it has no `{CONFIG_FILE}` (make one with `regis server init`)"
    )]
    NoHome { home: PathBuf },
    #[error(transparent)]
    Config(#[from] DhallError),
    #[error("`{path}`: {problem}")]
    BadConfig { path: PathBuf, problem: String },
    #[error("registry `{name}` could not be loaded from `{dir}`")]
    Registry {
        name: String,
        dir: PathBuf,
        #[source]
        cause: ConfigError,
    },
    #[error(
        "`{path}` may be read by others (mode {mode:o}): the private directory holds token hashes and keys, expected mode 700"
    )]
    PrivateExposed { path: PathBuf, mode: u32 },
    #[error(
        "registry `{name}` serves `{served}`, which holds {what} `{path}`: private material must never be under a served path"
    )]
    Served {
        name: String,
        served: PathBuf,
        what: &'static str,
        path: PathBuf,
    },
    #[error(
        "the private directory `{path}` could not be read: expected a directory of mode 700 (`regis server init` makes one)"
    )]
    NoPrivate {
        path: PathBuf,
        #[source]
        cause: std::io::Error,
    },
    #[error("`{path}` already exists: expected a new or empty directory for the server's home")]
    NotEmpty { path: PathBuf },
    #[error("could not write `{path}`")]
    Io {
        path: PathBuf,
        #[source]
        cause: std::io::Error,
    },
    #[error(transparent)]
    Init(#[from] crate::init::InitError),
    #[error("could not listen on `{addr}`")]
    Bind {
        addr: SocketAddr,
        #[source]
        cause: std::io::Error,
    },
    #[error(
        "another `regis serve` is serving `{home}` (it holds `{lock}`): one server per home, or each would queue again the other's running jobs"
    )]
    AlreadyServing { home: PathBuf, lock: PathBuf },
    #[error("could not start the server's threads")]
    Threads(#[source] std::io::Error),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// A server's home directory.
#[derive(Debug, Clone)]
pub struct Home(PathBuf);

impl Home {
    pub fn new(root: impl Into<PathBuf>) -> Home {
        Home(root.into())
    }

    pub fn root(&self) -> &Path {
        &self.0
    }

    pub fn config(&self) -> PathBuf {
        self.0.join(CONFIG_FILE)
    }

    pub fn private(&self) -> PathBuf {
        self.0.join(PRIVATE_DIR)
    }

    pub fn db(&self) -> PathBuf {
        self.private().join(DB_FILE)
    }

    /// Open the database.
    pub fn open_db(&self) -> Result<Db, DbError> {
        Db::open(&self.db())
    }
}

#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawServer {
    registries: Vec<RawRegistry>,
    default_registry: Option<String>,
    git_schemes: Vec<String>,
    quotas: Quotas,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegistry {
    name: String,
    path: String,
}

/// One registry a server serves.
#[derive(Debug)]
pub struct Hosted {
    pub name: String,
    /// The registry checkout (regis.dhall).
    pub registry: PathBuf,
    pub index: PathBuf,
    pub storage: Location,
    pub mirrors: Vec<Location>,
    pub config: Config,
}

impl Hosted {
    fn load(home: &Path, raw: &RawRegistry) -> Result<Hosted, ServerError> {
        let registry = home.join(&raw.path);
        // `Config::load` takes a missing file for the defaults; a served registry has one.
        let file = registry.join(crate::config::CONFIG_FILE);
        if std::fs::symlink_metadata(&file).is_err() {
            return Err(ServerError::BadConfig {
                path: file,
                problem: format!(
                    "registry `{}` has no such file: expected the registry checkout `regis init` lays down (`path` in `{CONFIG_FILE}`)",
                    raw.name
                ),
            });
        }
        let config = Config::load(&registry).map_err(|cause| ServerError::Registry {
            name: raw.name.clone(),
            dir: registry.clone(),
            cause,
        })?;
        let missing = |field: &str| ServerError::BadConfig {
            path: registry.join(crate::config::CONFIG_FILE),
            problem: format!(
                "registry `{}` sets no `{field}`: a served registry needs one",
                raw.name
            ),
        };
        let index = registry.join(config.index.as_deref().ok_or_else(|| missing("index"))?);
        let storage = Location::parse(
            config
                .storage
                .as_deref()
                .ok_or_else(|| missing("storage"))?,
            &registry,
        );
        let mirrors = (config.mirrors.iter())
            .map(|m| Location::parse(m, &registry))
            .collect();
        Ok(Hosted {
            name: raw.name.clone(),
            registry,
            index,
            storage,
            mirrors,
            config,
        })
    }

    /// The checkouts and storage, opened for a job.
    pub fn open(&self) -> Result<Opened, OpenError> {
        Opened::open(
            self.config.clone(),
            &self.registry,
            &self.index,
            &self.storage,
            &self.mirrors,
        )
    }

    /// The directory served at `/registries/<name>/static/`: the storage, when a directory.
    pub fn served(&self) -> Option<&Path> {
        match &self.storage {
            Location::Dir(dir) => Some(dir),
            Location::Url(_) => None,
        }
    }

    /// The key files the registry's config names, resolved against the registry checkout.
    fn key_files(&self) -> Vec<PathBuf> {
        let c = &self.config;
        (c.trust_root_keys.iter())
            .chain(&c.trust_targets_key)
            .chain(&c.trust_snapshot_key)
            .chain(&c.trust_timestamp_key)
            .chain(&c.trust_atom_key)
            .filter_map(|source| match source.resolved(&self.registry) {
                crate::trust::KeySource::File(path) => Some(path),
                crate::trust::KeySource::Env(_) => None,
            })
            .collect()
    }
}

/// A server's registries, as its config names them.
#[derive(Debug)]
pub struct Server {
    pub home: Home,
    pub registries: Vec<Hosted>,
    /// The index in `registries` of the one `/api/v1/` serves.
    pub default: usize,
    pub git_schemes: Vec<String>,
    pub quotas: Quotas,
}

impl Server {
    /// The registry named `name`.
    pub fn registry(&self, name: &str) -> Option<&Hosted> {
        self.registries.iter().find(|r| r.name == name)
    }
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Read a server's home: its config, each registry's config, and the checks that keep
/// private material private.
pub fn load(home: &Path) -> Result<Server, ServerError> {
    let home = Home::new(home);
    let path = home.config();
    if !path.exists() {
        return Err(ServerError::NoHome {
            home: home.root().to_path_buf(),
        });
    }
    let json = crate::dhall::file_to_json(&path, Schema::Server)?;
    let bad = |problem: String| ServerError::BadConfig {
        path: path.clone(),
        problem,
    };
    let raw: RawServer = serde_json::from_value(json).map_err(|e| bad(e.to_string()))?;
    if raw.registries.is_empty() {
        return Err(bad(
            "`registries` is empty: expected at least one registry".into()
        ));
    }
    let mut registries: Vec<Hosted> = Vec::new();
    for r in &raw.registries {
        if !valid_name(&r.name) {
            return Err(bad(format!(
                "registry name {}: expected 1 to 64 lowercase ASCII letters, digits and `-`, starting with a letter",
                crate::text::echo(&r.name)
            )));
        }
        if registries.iter().any(|h| h.name == r.name) {
            return Err(bad(format!("registry `{}` is listed twice", r.name)));
        }
        registries.push(Hosted::load(home.root(), r)?);
    }
    let default = match &raw.default_registry {
        None => 0,
        Some(name) => registries
            .iter()
            .position(|r| &r.name == name)
            .ok_or_else(|| {
                bad(format!(
                    "`defaultRegistry` is {}, which is not one of `registries`",
                    crate::text::echo(name)
                ))
            })?,
    };
    for scheme in &raw.git_schemes {
        if !SCHEMES.contains(&scheme.as_str()) {
            return Err(bad(format!(
                "`gitSchemes` has {}: expected some of `https`, `http`, `git`, `ssh` (a `file` URL or a path would have the server read its own disk)",
                crate::text::echo(scheme)
            )));
        }
    }
    let server = Server {
        home,
        registries,
        default,
        git_schemes: raw.git_schemes,
        quotas: raw.quotas,
    };
    check_private(&server)?;
    Ok(server)
}

/// The private directory is the owner's alone, and nothing private is served.
fn check_private(server: &Server) -> Result<(), ServerError> {
    use std::os::unix::fs::PermissionsExt as _;
    let private = server.home.private();
    let meta = std::fs::metadata(&private).map_err(|cause| ServerError::NoPrivate {
        path: private.clone(),
        cause,
    })?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(ServerError::PrivateExposed {
            path: private,
            mode,
        });
    }
    let private = crate::operation::resolved_path(&private);
    for hosted in &server.registries {
        let Some(served) = hosted.served() else {
            continue;
        };
        let served = crate::operation::resolved_path(served);
        let refuse = |what, path: PathBuf| ServerError::Served {
            name: hosted.name.clone(),
            served: served.clone(),
            what,
            path,
        };
        if private.starts_with(&served) || served.starts_with(&private) {
            return Err(refuse("the private directory", private.clone()));
        }
        let config = hosted.registry.join(crate::config::CONFIG_FILE);
        if crate::operation::resolved_path(&config).starts_with(&served) {
            return Err(refuse("the registry's config", config));
        }
        for key in hosted.key_files() {
            if crate::operation::resolved_path(&key).starts_with(&served) {
                return Err(refuse("the key file", key));
            }
        }
    }
    Ok(())
}

/// Make a server's home at `root` with a registry laid down by [`crate::init::init`] for
/// each of `names` (the first the default), the private directory (mode 0700) and its
/// database.
pub fn init(
    root: &Path,
    names: &[String],
    install: &crate::init::RegisInstall,
) -> Result<Server, ServerError> {
    init_with(root, names, install, &|_| {})
}

/// [`init`], with each registry's config as `edit` makes it before it is written.
pub fn init_with(
    root: &Path,
    names: &[String],
    install: &crate::init::RegisInstall,
    edit: &dyn Fn(&mut Config),
) -> Result<Server, ServerError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |cause| ServerError::Io { path, cause }
    };
    if root.exists() && std::fs::read_dir(root).map_err(io(root))?.next().is_some() {
        return Err(ServerError::NotEmpty {
            path: root.to_path_buf(),
        });
    }
    let home = Home::new(root);
    let config_path = home.config();
    for name in names {
        if !valid_name(name) {
            return Err(ServerError::BadConfig {
                path: config_path.clone(),
                problem: format!(
                    "registry name {}: expected 1 to 64 lowercase ASCII letters, digits and `-`, starting with a letter",
                    crate::text::echo(name)
                ),
            });
        }
    }
    let private = home.private();
    std::fs::create_dir_all(&private).map_err(io(&private))?;
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700))
            .map_err(io(&private))?;
    }
    let mut entries = Vec::new();
    for name in names {
        let dir = home.root().join(REGISTRIES_DIR).join(name);
        let mut config = Config {
            name: name.clone(),
            owner_changes: crate::config::OwnerChanges::Signed,
            ..Config::default()
        };
        edit(&mut config);
        crate::init::init(&dir, &config, install)?;
        entries.push(format!(
            "{{ name = {}, path = {} }}",
            crate::dhall::text_literal(name),
            crate::dhall::text_literal(&format!("{REGISTRIES_DIR}/{name}/registry"))
        ));
    }
    let text = format!(
        "-- regis server config: schemas/Server.dhall says what each field means.\n\
         {{ registries = [ {} ]\n\
         , defaultRegistry = None Text\n\
         , gitSchemes = [ \"https\" ]\n\
         , quotas =\n\
         \x20   {{ packageBytes = None Natural\n\
         \x20   , organizationBytes = None Natural\n\
         \x20   , tokenOperationsPerHour = Some 600\n\
         \x20   , organizationOperationsPerHour = None Natural\n\
         \x20   }}\n\
         }}\n",
        entries.join(", ")
    );
    std::fs::write(&config_path, text).map_err(io(&config_path))?;
    home.open_db()?;
    load(home.root())
}

/// The home for this process: an exclusive `flock` on `private/serve.lock`, held while
/// the process lives (a killed server's lock goes with it).
fn lock_home(home: &Home) -> Result<std::fs::File, ServerError> {
    let path = home.private().join("serve.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|cause| ServerError::Io {
            path: path.clone(),
            cause,
        })?;
    match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(file),
        Err(rustix::io::Errno::WOULDBLOCK) => Err(ServerError::AlreadyServing {
            home: home.root().to_path_buf(),
            lock: path,
        }),
        Err(e) => Err(ServerError::Io {
            path,
            cause: e.into(),
        }),
    }
}

/// What the server tells its operator (the CLI prints it).
pub type Say = Arc<dyn Fn(String) + Send + Sync>;

/// Run `hosted`'s worker until `stop`: its jobs, oldest first, one at a time.
fn work(server: &Server, hosted: &Hosted, wake: &jobs::Wake, stop: &AtomicBool, say: &Say) {
    let mut db = match server.home.open_db() {
        Ok(db) => db,
        Err(e) => {
            say(format!(
                "registry `{}`: its worker could not open the database: {}",
                hosted.name,
                crate::error_chain(&e)
            ));
            return;
        }
    };
    while !stop.load(Ordering::SeqCst) {
        match jobs::claim(&mut db, &hosted.name, crate::schema::Timestamp::now()) {
            Ok(Some(job)) => {
                if let Err(e) = run_job(server, hosted, &mut db, &job) {
                    say(format!(
                        "registry `{}`: job `{}`: the database failed: {}",
                        hosted.name,
                        job.id,
                        crate::error_chain(&e)
                    ));
                    std::thread::sleep(Duration::from_millis(500));
                }
            }
            Ok(None) => wake.wait(Duration::from_secs(1)),
            Err(e) => {
                say(format!(
                    "registry `{}`: the queue could not be read: {}",
                    hosted.name,
                    crate::error_chain(&e)
                ));
                std::thread::sleep(Duration::from_millis(500));
            }
        }
    }
}

fn run_job(
    server: &Server,
    hosted: &Hosted,
    db: &mut Db,
    job: &jobs::Claimed,
) -> Result<(), DbError> {
    use jobs::Level;
    let now = crate::schema::Timestamp::now;
    let operation = match crate::payload::Operation::parse(&job.payload) {
        Ok(operation) => operation,
        Err(e) => {
            jobs::log(db, &job.id, Level::Error, &crate::error_chain(&e))?;
            return jobs::finish(db, &job.id, false, now());
        }
    };
    let what = crate::operation::request::describe(&operation);
    jobs::log(
        db,
        &job.id,
        Level::Info,
        &format!("Running the {what} in registry `{}`.", hosted.name),
    )?;
    crate::fault::point("serve:running");
    let opened = match hosted.open() {
        Ok(opened) => opened,
        Err(e) => {
            jobs::log(
                db,
                &job.id,
                Level::Error,
                &format!(
                    "The registry could not be opened: {}",
                    crate::error_chain(&e)
                ),
            )?;
            return jobs::finish(db, &job.id, false, now());
        }
    };
    let ran = {
        let ctx = opened.ctx();
        let quota = quota::ByteQuota {
            quotas: &server.quotas,
            registry: crate::store::RegistryDir::new(opened.registry.workdir()),
            registry_name: &hosted.name,
            db,
        };
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            crate::operation::request::run(&ctx, operation, job.authority, &quota)
        }))
    };
    let success = match ran {
        Ok(Ok(ran)) => {
            if !ran.report.trim().is_empty() {
                jobs::log(db, &job.id, Level::Info, ran.report.trim_end())?;
            }
            if let Some(source) = &ran.source {
                jobs::log(db, &job.id, Level::Info, source)?;
            }
            let level = if ran.success {
                Level::Notice
            } else {
                Level::Error
            };
            jobs::log(db, &job.id, level, &format!("Done: {}.", ran.headline))?;
            ran.success
        }
        Ok(Err(e)) => {
            jobs::log(
                db,
                &job.id,
                Level::Error,
                &format!("The {what} failed: {}", crate::error_chain(&e)),
            )?;
            false
        }
        Err(panic) => {
            let message = (panic.downcast_ref::<String>().map(String::as_str))
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("no message");
            jobs::log(
                db,
                &job.id,
                Level::Error,
                &format!("regis failed unexpectedly: {}", crate::text::value(message)),
            )?;
            false
        }
    };
    jobs::finish(db, &job.id, success, now())
}

/// Serve `server` on `listen` until the process ends: the jobs a stopped server left
/// running are queued again first, then each registry's worker starts, then the API.
/// `ready` is told the address bound (port 0 picks one).
pub fn serve(
    server: Server,
    listen: SocketAddr,
    say: Say,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), ServerError> {
    serve_until(server, listen, say, ready, Arc::new(AtomicBool::new(false)))
}

/// [`serve`] until `stop` is set: the API stops taking connections and answers the
/// requests it has, each worker finishes its job, and this returns.
pub fn serve_until(
    server: Server,
    listen: SocketAddr,
    say: Say,
    ready: impl FnOnce(SocketAddr),
    stop: Arc<AtomicBool>,
) -> Result<(), ServerError> {
    let _lock = lock_home(&server.home)?;
    let mut db = server.home.open_db()?;
    let recovered = jobs::recover(&mut db, crate::schema::Timestamp::now())?;
    if !recovered.is_empty() {
        say(format!(
            "{} job(s) the last server left running are queued again: {}",
            recovered.len(),
            recovered.join(", ")
        ));
    }
    let server = Arc::new(server);
    let wakes: Arc<Vec<jobs::Wake>> = Arc::new(
        (0..server.registries.len())
            .map(|_| jobs::Wake::default())
            .collect(),
    );
    let mut workers = Vec::new();
    for i in 0..server.registries.len() {
        let (server, wakes, stop, say) = (server.clone(), wakes.clone(), stop.clone(), say.clone());
        workers.push(
            std::thread::Builder::new()
                .name(format!("worker-{}", server.registries[i].name))
                .spawn(move || work(&server, &server.registries[i], &wakes[i], &stop, &say))
                .map_err(ServerError::Threads)?,
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(ServerError::Threads)?;
    let stopping = stop.clone();
    let result = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|cause| ServerError::Bind {
                addr: listen,
                cause,
            })?;
        let bound = listener.local_addr().map_err(|cause| ServerError::Bind {
            addr: listen,
            cause,
        })?;
        ready(bound);
        let state = api::State::new(server.clone(), db, wakes.clone());
        axum::serve(listener, api::router(state))
            .with_graceful_shutdown(async move {
                while !stopping.load(Ordering::SeqCst) {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            })
            .await
            .map_err(|cause| ServerError::Bind { addr: bound, cause })
    });
    stop.store(true, Ordering::SeqCst);
    for wake in wakes.iter() {
        wake.notify();
    }
    for worker in workers {
        let _ = worker.join();
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn home() -> (tempfile::TempDir, Server) {
        let dir = tempfile::tempdir().unwrap();
        let install = crate::init::RegisInstall::this_build(None).unwrap();
        let names = ["main".to_owned(), "second".to_owned()];
        let server = init(&dir.path().join("home"), &names, &install).unwrap();
        (dir, server)
    }

    #[test]
    fn init_lays_down_a_home_that_loads() {
        let (_dir, server) = home();
        let names: Vec<_> = server.registries.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["main", "second"]);
        assert_eq!(server.default, 0);
        assert_eq!(server.git_schemes, ["https"]);
        assert_eq!(server.quotas.token_operations_per_hour, Some(600));
        assert!(server.home.db().is_file());
        let again = load(server.home.root()).unwrap();
        assert_eq!(again.registries.len(), 2);
        assert!(matches!(
            init(
                server.home.root(),
                &["x".into()],
                &crate::init::RegisInstall::this_build(None).unwrap()
            ),
            Err(ServerError::NotEmpty { .. })
        ));
    }

    #[test]
    fn one_server_per_home() {
        let (_dir, server) = home();
        let held = lock_home(&server.home).unwrap();
        let Err(ServerError::AlreadyServing { .. }) = lock_home(&server.home) else {
            panic!("a second server on the same home must be refused");
        };
        drop(held);
        lock_home(&server.home).unwrap();
    }
}
