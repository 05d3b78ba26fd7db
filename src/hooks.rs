//! Build-check and docs commands: a temporary workspace holding the package under test and
//! its dependencies unpacked from their tarballs, the `resolutions.json` that
//! `purs publish --resolutions` reads, and running a shell command there with a timeout and
//! captured, capped output.
//!
//! Workspace layout:
//!
//! ```text
//! <root>/package/                       the package under test (its top dir stripped)
//! <root>/dependencies/<name>-<version>/  each dependency added (its top dir stripped)
//! <root>/resolutions.json                the current run's dependencies, rewritten per run
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Read, Write as _};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use crate::schema::{PackageName, Sha256, Version};
use crate::storage::{Fetched, StorageError, StorageKey, Stores};
use crate::tarball::{self, Limits, TarballError};

/// How many bytes of a command's output are kept (the last ones).
pub const OUTPUT_MAX_BYTES: usize = 64 * 1024;
/// The resolutions file at the workspace root.
pub const RESOLUTIONS_FILE: &str = "resolutions.json";
const PACKAGE_DIR: &str = "package";
const DEPENDENCIES_DIR: &str = "dependencies";
/// Longest pause between two looks at whether the command has exited.
const POLL_MAX: Duration = Duration::from_millis(50);
/// How long the output pipes may stay open after the command's process group was killed
/// (only a process that left the group can hold them longer).
const PIPE_GRACE: Duration = Duration::from_secs(5);

/// Which hook a command is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HookKind {
    BuildCheck,
    Docs,
}

impl HookKind {
    /// The value of `REGIS_HOOK`.
    pub fn env_value(self) -> &'static str {
        match self {
            HookKind::BuildCheck => "build-check",
            HookKind::Docs => "docs",
        }
    }
}

impl fmt::Display for HookKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HookKind::BuildCheck => "build check",
            HookKind::Docs => "docs",
        })
    }
}

/// What a hook command is told about its run, besides the workspace paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookEnv {
    /// `REGIS_COMPILER`.
    pub compiler: Version,
    /// `REGIS_PACKAGE` and `REGIS_VERSION` (with `REGIS_PACKAGE_DIR`); unset when `None`.
    pub package: Option<(PackageName, Version)>,
}

/// The variables a hook inherits from regis's environment; everything else (tokens, keys,
/// the CI's own variables) is withheld from the package code a hook builds.
const INHERITED: [&str; 10] = [
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TERM",
];

fn inherited(name: &str) -> bool {
    INHERITED.contains(&name) || name.starts_with("LC_") || name.starts_with("XDG_")
}

/// How a hook command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookOutcome {
    pub kind: HookKind,
    pub command: String,
    /// Exited with status 0 within the timeout.
    pub success: bool,
    /// The exit status; `None` if killed by a signal or on timeout.
    pub status: Option<i32>,
    pub timed_out: bool,
    /// stdout then stderr (not interleaved: they are read from two pipes; a newline is put
    /// between them when stdout does not end with one), as lossy UTF-8. Only the last
    /// [`OUTPUT_MAX_BYTES`] bytes are kept, after a `[… N bytes omitted]` line when cut.
    pub output: String,
    /// From start to exit (or to the kill, on timeout).
    pub duration: Duration,
}

impl HookOutcome {
    /// How the command failed, or `None` if it succeeded.
    pub fn ending(&self) -> Option<Ending> {
        if self.success {
            return None;
        }
        Some(if self.timed_out {
            Ending::TimedOut {
                seconds: self.duration.as_secs(),
            }
        } else {
            match self.status {
                Some(code) => Ending::Status(code),
                None => Ending::Signal,
            }
        })
    }

    /// `self` if the command succeeded, else [`HookError::Failed`] carrying its output.
    pub fn ok_or_error(self) -> Result<HookOutcome, HookError> {
        let Some(ending) = self.ending() else {
            return Ok(self);
        };
        Err(HookError::Failed {
            kind: self.kind,
            command: self.command,
            ending,
            output: self.output,
        })
    }
}

/// Why a hook command failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Exited with a status other than 0.
    Status(i32),
    /// Killed by a signal it was not sent by regis.
    Signal,
    /// Ran longer than the timeout and was killed.
    TimedOut { seconds: u64 },
}

impl fmt::Display for Ending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ending::Status(code) => write!(f, "exited with status `{code}` (expected `0`)"),
            Ending::Signal => f.write_str("was killed by a signal (expected exit status `0`)"),
            Ending::TimedOut { seconds } => write!(
                f,
                "timed out after {seconds}s and was killed (expected it to finish within the hook timeout)"
            ),
        }
    }
}

/// Errors of preparing a hook workspace and running a hook command.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error("cannot {action} `{}`", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot unpack the tarball of `{name}@{version}`")]
    Unpack {
        name: PackageName,
        version: Version,
        #[source]
        source: TarballError,
    },
    #[error(
        "the tarball of `{name}@{version}` unpacks to `{found}/`: expected the single top directory `{name}-{version}/`"
    )]
    TopDir {
        name: PackageName,
        version: Version,
        found: String,
    },
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("storage `{storage}` has no `{key}`{}: expected the tarball of every published version", mirrors_said(.mirrors))]
    StorageMissing {
        storage: String,
        key: StorageKey,
        /// Why each mirror did not serve it.
        mirrors: Vec<String>,
    },
    #[error(
        "the stored tarball of `{name}@{version}` has hash `{found}`: expected `{expected}`, the hash recorded in its metadata"
    )]
    HashMismatch {
        name: PackageName,
        version: Version,
        expected: Sha256,
        found: Sha256,
    },
    #[error(
        "`{name}@{version}` is in the resolutions but not in the hook workspace: expected every resolved package to be added first"
    )]
    NotInWorkspace { name: PackageName, version: Version },
    #[error("cannot run the {kind} command `{command}`")]
    Spawn {
        kind: HookKind,
        command: String,
        #[source]
        source: io::Error,
    },
    #[error("the {kind} command `{command}` {ending}; its output:\n{}", indent(.output))]
    Failed {
        kind: HookKind,
        command: String,
        ending: Ending,
        output: String,
    },
}

type Result<T, E = HookError> = std::result::Result<T, E>;

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> HookError {
    let path = path.to_owned();
    move |source| HookError::Io {
        action,
        path,
        source,
    }
}

/// A command's output, each line indented, for error messages.
fn indent(output: &str) -> String {
    if output.is_empty() {
        return "    (no output)".to_owned();
    }
    output
        .strip_suffix('\n')
        .unwrap_or(output)
        .split('\n')
        .map(|line| {
            if line.is_empty() {
                String::new()
            } else {
                format!("    {line}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A temporary directory where hook commands run, deleted on drop. One workspace serves
/// many runs: dependencies accumulate, each run names the ones it resolves to.
#[derive(Debug)]
pub struct Workspace {
    /// Held for its `Drop`, which deletes the workspace.
    _dir: tempfile::TempDir,
    /// `dir`'s path with symlinks resolved, so it is what `pwd` says inside.
    root: PathBuf,
    package: Option<(PackageName, Version)>,
    dependencies: BTreeMap<(PackageName, Version), PathBuf>,
    /// The dependencies read from a mirror because the primary storage lacked them.
    from_mirrors: Vec<String>,
}

/// ` (mirror `…` has none, …)`: why each mirror did not serve an object; nothing without
/// mirrors.
fn mirrors_said(mirrors: &[String]) -> String {
    match mirrors {
        [] => String::new(),
        _ => format!(" ({})", mirrors.join(", ")),
    }
}

impl Workspace {
    /// An empty workspace in the system's temporary directory.
    pub fn new() -> Result<Workspace> {
        let temp = std::env::temp_dir();
        let dir = tempfile::Builder::new()
            .prefix("regis-hook-")
            .tempdir()
            .map_err(io_error("create a hook workspace in", &temp))?;
        let root = dir
            .path()
            .canonicalize()
            .map_err(io_error("resolve", dir.path()))?;
        let dependencies = root.join(DEPENDENCIES_DIR);
        std::fs::create_dir(&dependencies).map_err(io_error("create", &dependencies))?;
        Ok(Workspace {
            _dir: dir,
            root,
            package: None,
            dependencies: BTreeMap::new(),
            from_mirrors: Vec::new(),
        })
    }

    /// The workspace directory (absolute, symlinks resolved).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Unpack the package under test at `<root>/package/` (the tarball's single top dir
    /// `<name>-<version>/` is stripped: its contents land directly in `package/`), replacing
    /// a package set before.
    pub fn set_package(
        &mut self,
        name: &PackageName,
        version: &Version,
        tarball: &[u8],
    ) -> Result<PathBuf> {
        let dest = self.root.join(PACKAGE_DIR);
        self.package = None;
        if dest.exists() {
            std::fs::remove_dir_all(&dest).map_err(io_error("remove", &dest))?;
        }
        self.unpack_to(name, version, tarball, &dest)?;
        self.package = Some((name.clone(), version.clone()));
        Ok(dest)
    }

    /// Unpack a dependency at `<root>/dependencies/<name>-<version>/` (contents of the top
    /// dir). Idempotent: a name@version already unpacked in this workspace is not unpacked
    /// again.
    pub fn add_dependency(
        &mut self,
        name: &PackageName,
        version: &Version,
        tarball: &[u8],
    ) -> Result<PathBuf> {
        if let Some(dir) = self.dependency_dir(name, version) {
            return Ok(dir);
        }
        let dest = self
            .root
            .join(DEPENDENCIES_DIR)
            .join(format!("{name}-{version}"));
        self.unpack_to(name, version, tarball, &dest)?;
        self.dependencies
            .insert((name.clone(), version.clone()), dest.clone());
        Ok(dest)
    }

    /// What was read from a mirror because the primary storage lacked it, a sentence each
    /// (for the operation's warnings).
    pub fn from_mirrors(&self) -> &[String] {
        &self.from_mirrors
    }

    /// Same, reading `<name>/<version>.tar.gz` from storage and refusing it unless its
    /// sha256 equals `expected` (the hash recorded in metadata). When the primary storage
    /// lacks it, a mirror holding those bytes serves it ([`Stores::get_verified`]; see
    /// [`Workspace::from_mirrors`]). Skips the fetch if already unpacked.
    pub fn add_from_storage(
        &mut self,
        stores: Stores<'_>,
        name: &PackageName,
        version: &Version,
        expected: &Sha256,
    ) -> Result<PathBuf> {
        if let Some(dir) = self.dependency_dir(name, version) {
            return Ok(dir);
        }
        let key = StorageKey::tarball(name, version);
        let bytes = match stores.get_verified(&key, expected)? {
            Fetched::Primary(bytes) => bytes,
            Fetched::Mirror { bytes, mirror } => {
                self.from_mirrors.push(format!(
                    "`{name}@{version}` was read from mirror `{mirror}`: storage `{}` lacks it (`regis storage sync` copies it back)",
                    stores.primary.describe()
                ));
                bytes
            }
            Fetched::Missing { mirrors } => {
                return Err(HookError::StorageMissing {
                    storage: stores.primary.describe(),
                    key,
                    mirrors,
                });
            }
        };
        let found = Sha256::of(&bytes);
        if found != *expected {
            return Err(HookError::HashMismatch {
                name: name.clone(),
                version: version.clone(),
                expected: *expected,
                found,
            });
        }
        self.add_dependency(name, version, &bytes)
    }

    /// Write `<root>/resolutions.json` for `resolutions` (every entry must have been added
    /// with [`Workspace::add_dependency`] or [`Workspace::add_from_storage`]), then run
    /// `command` with `sh -c`.
    ///
    /// The command runs in `<root>/package` when a package is set, else in `<root>`, as the
    /// leader of a new process group, with stdin null and the environment inherited plus
    /// `REGIS_HOOK` (`build-check` or `docs`), `REGIS_COMPILER`, `REGIS_RESOLUTIONS`,
    /// `REGIS_DEPENDENCIES` and, when `env.package` is set, `REGIS_PACKAGE`,
    /// `REGIS_VERSION` and `REGIS_PACKAGE_DIR` (else these three are removed). Past
    /// `timeout` the process group is killed. When the command ends, whatever it left
    /// running in its process group is killed too.
    ///
    /// A command that fails is an `Ok` outcome with `success: false`; see
    /// [`HookOutcome::ok_or_error`].
    pub fn run(
        &self,
        kind: HookKind,
        command: &str,
        resolutions: &BTreeMap<PackageName, Version>,
        env: &HookEnv,
        timeout: Duration,
    ) -> Result<HookOutcome> {
        let resolutions_path = self.write_resolutions(resolutions)?;
        let spawn_error = |source| HookError::Spawn {
            kind,
            command: command.to_owned(),
            source,
        };
        let started = Instant::now();
        let mut child = self
            .command(kind, command, env, &resolutions_path)
            .spawn()
            .map_err(spawn_error)?;
        let output = Output::capture(&mut child);
        let waited = wait(&mut child, started, timeout);
        let duration = started.elapsed();
        // Whatever the command left running (or, on timeout, all of it) goes now, so
        // nothing keeps the output pipes open.
        kill_group(&mut child);
        let (status, timed_out) = match waited {
            Ok(Some(status)) => (status, false),
            Ok(None) => (child.wait().map_err(spawn_error)?, true),
            Err(source) => return Err(spawn_error(source)),
        };
        Ok(outcome(
            kind,
            command,
            status,
            timed_out,
            output.finish(),
            duration,
        ))
    }

    /// `sh -c <command>` with the cwd, environment and pipes [`Workspace::run`] describes.
    fn command(&self, kind: HookKind, command: &str, env: &HookEnv, resolutions: &Path) -> Command {
        let package_dir = self.root.join(PACKAGE_DIR);
        let cwd = match self.package {
            Some(_) => &package_dir,
            None => &self.root,
        };
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(command)
            .current_dir(cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        cmd.env_clear()
            .envs(std::env::vars_os().filter(|(name, _)| name.to_str().is_some_and(inherited)));
        cmd.env("REGIS_HOOK", kind.env_value())
            .env("REGIS_COMPILER", env.compiler.to_string())
            .env("REGIS_RESOLUTIONS", resolutions)
            .env("REGIS_DEPENDENCIES", self.root.join(DEPENDENCIES_DIR));
        if let Some((name, version)) = &env.package {
            cmd.env("REGIS_PACKAGE", name.as_str())
                .env("REGIS_VERSION", version.to_string())
                .env("REGIS_PACKAGE_DIR", &package_dir);
        }
        cmd
    }

    fn dependency_dir(&self, name: &PackageName, version: &Version) -> Option<PathBuf> {
        self.dependencies
            .get(&(name.clone(), version.clone()))
            .cloned()
    }

    /// Unpacks into a staging directory in the workspace, then moves the single top
    /// directory `<name>-<version>/` to `dest`.
    fn unpack_to(
        &self,
        name: &PackageName,
        version: &Version,
        tarball: &[u8],
        dest: &Path,
    ) -> Result<()> {
        let staging = tempfile::Builder::new()
            .prefix(".unpack-")
            .tempdir_in(&self.root)
            .map_err(io_error("create a staging directory in", &self.root))?;
        tarball::unpack(tarball, staging.path(), &Limits::default()).map_err(|source| {
            HookError::Unpack {
                name: name.clone(),
                version: version.clone(),
                source,
            }
        })?;
        // `unpack` succeeded, so the archive had exactly one top directory.
        let top = std::fs::read_dir(staging.path())
            .and_then(|mut entries| entries.next().transpose())
            .map_err(io_error("read", staging.path()))?
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .unwrap_or_default();
        if top != format!("{name}-{version}") {
            return Err(HookError::TopDir {
                name: name.clone(),
                version: version.clone(),
                found: top,
            });
        }
        let from = staging.path().join(&top);
        std::fs::rename(&from, dest).map_err(io_error("move an unpacked tarball to", dest))?;
        Ok(())
    }

    /// `{ "<name>": { "version": "<v>", "path": "<dir>" } }`, pretty, keys sorted, trailing
    /// newline; written atomically. Returns its path.
    fn write_resolutions(&self, resolutions: &BTreeMap<PackageName, Version>) -> Result<PathBuf> {
        #[derive(serde::Serialize)]
        struct Resolution<'a> {
            version: String,
            path: &'a Path,
        }
        let mut entries = BTreeMap::new();
        for (name, version) in resolutions {
            let path = self
                .dependencies
                .get(&(name.clone(), version.clone()))
                .ok_or_else(|| HookError::NotInWorkspace {
                    name: name.clone(),
                    version: version.clone(),
                })?;
            let resolution = Resolution {
                version: version.to_string(),
                path,
            };
            entries.insert(name.as_str(), resolution);
        }
        let path = self.root.join(RESOLUTIONS_FILE);
        let mut json = serde_json::to_string_pretty(&entries).map_err(|e| HookError::Io {
            action: "write",
            path: path.clone(),
            source: io::Error::new(io::ErrorKind::InvalidData, e),
        })?;
        json.push('\n');
        let mut file = tempfile::NamedTempFile::new_in(&self.root)
            .map_err(io_error("create a temporary file in", &self.root))?;
        file.write_all(json.as_bytes())
            .map_err(io_error("write", file.path()))?;
        file.persist(&path)
            .map_err(|e| io_error("write", &path)(e.error))?;
        Ok(path)
    }
}

/// Polls until the child exits (`Some`) or `timeout` has passed since `started` (`None`).
fn wait(child: &mut Child, started: Instant, timeout: Duration) -> io::Result<Option<ExitStatus>> {
    let mut pause = Duration::from_millis(1);
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        let elapsed = started.elapsed();
        if elapsed >= timeout {
            return Ok(None);
        }
        std::thread::sleep(pause.min(timeout - elapsed));
        pause = (pause * 2).min(POLL_MAX);
    }
}

/// SIGKILL to the child's process group (it leads one); the child alone if that fails and
/// it has not exited yet.
fn kill_group(child: &mut Child) {
    let group = rustix::process::Pid::from_child(child);
    let killed = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
    if killed.is_err() {
        // Fails harmlessly when the child has already exited and been reaped.
        let _ = child.kill();
    }
}

fn outcome(
    kind: HookKind,
    command: &str,
    status: ExitStatus,
    timed_out: bool,
    output: String,
    duration: Duration,
) -> HookOutcome {
    HookOutcome {
        kind,
        command: command.to_owned(),
        success: !timed_out && status.success(),
        // `None` also when a signal ended it.
        status: if timed_out { None } else { status.code() },
        timed_out,
        output,
        duration,
    }
}

/// The last bytes a stream produced, and how many it produced in all.
#[derive(Debug, Default)]
struct Tail {
    kept: Vec<u8>,
    total: u64,
}

impl Tail {
    fn push(&mut self, chunk: &[u8]) {
        self.total += chunk.len() as u64;
        self.kept.extend_from_slice(chunk);
        // Trim in batches so each byte is moved a bounded number of times.
        if self.kept.len() > 2 * OUTPUT_MAX_BYTES {
            let cut = self.kept.len() - OUTPUT_MAX_BYTES;
            self.kept.drain(..cut);
        }
    }
}

/// stdout and stderr, each read on its own thread into a shared [`Tail`] so a chatty
/// command never blocks on a full pipe, and what was read is there even if a pipe is still
/// held open by a process that left the group.
struct Output {
    stdout: Arc<Mutex<Tail>>,
    stderr: Arc<Mutex<Tail>>,
    done: mpsc::Receiver<()>,
    readers: usize,
}

impl Output {
    fn capture(child: &mut Child) -> Output {
        let (tx, done) = mpsc::channel();
        let stdout = Arc::new(Mutex::new(Tail::default()));
        let stderr = Arc::new(Mutex::new(Tail::default()));
        let mut readers = 0;
        if let Some(pipe) = child.stdout.take() {
            read_into(pipe, Arc::clone(&stdout), tx.clone());
            readers += 1;
        }
        if let Some(pipe) = child.stderr.take() {
            read_into(pipe, Arc::clone(&stderr), tx);
            readers += 1;
        }
        Output {
            stdout,
            stderr,
            done,
            readers,
        }
    }

    /// Waits (at most [`PIPE_GRACE`]) for both pipes to close, then combines them.
    fn finish(self) -> String {
        let deadline = Instant::now() + PIPE_GRACE;
        for _ in 0..self.readers {
            let left = deadline.saturating_duration_since(Instant::now());
            if self.done.recv_timeout(left).is_err() {
                break;
            }
        }
        let stdout = lock(&self.stdout);
        let stderr = lock(&self.stderr);
        combine(&stdout, &stderr, OUTPUT_MAX_BYTES)
    }
}

fn lock(tail: &Mutex<Tail>) -> std::sync::MutexGuard<'_, Tail> {
    // A reader thread cannot panic while holding the lock; take the data regardless.
    tail.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn read_into(mut pipe: impl Read + Send + 'static, tail: Arc<Mutex<Tail>>, done: mpsc::Sender<()>) {
    std::thread::spawn(move || {
        let mut buf = vec![0; 16 * 1024];
        loop {
            match pipe.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => lock(&tail).push(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        let _ = done.send(());
    });
}

/// stdout then stderr (a newline between them if stdout does not end with one), the last
/// `max` bytes of that, as lossy UTF-8, after `[… N bytes omitted]` when cut.
fn combine(stdout: &Tail, stderr: &Tail, max: usize) -> String {
    let separate =
        !stdout.kept.is_empty() && !stderr.kept.is_empty() && !stdout.kept.ends_with(b"\n");
    let mut all = stdout.kept.clone();
    if separate {
        all.push(b'\n');
    }
    all.extend_from_slice(&stderr.kept);
    let total = stdout.total + stderr.total + u64::from(separate);
    if total <= max as u64 {
        return String::from_utf8_lossy(&all).into_owned();
    }
    let mut start = all.len().saturating_sub(max);
    // Start at a character boundary rather than mid-character (UTF-8 has at most three
    // continuation bytes).
    let boundary_limit = (start + 3).min(all.len());
    while start < boundary_limit && is_continuation(all[start]) {
        start += 1;
    }
    let kept = &all[start..];
    let omitted = total - kept.len() as u64;
    format!(
        "[… {omitted} bytes omitted]\n{}",
        String::from_utf8_lossy(kept)
    )
}

fn is_continuation(byte: u8) -> bool {
    byte & 0b1100_0000 == 0b1000_0000
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{MemoryStorage, Storage};
    use std::fs;

    fn name(s: &str) -> PackageName {
        s.parse().unwrap()
    }

    fn version(s: &str) -> Version {
        s.parse().unwrap()
    }

    /// A tarball with `files` under `top/`, built like a published one.
    fn tarball(top: &str, files: &[(&str, &str)]) -> Vec<u8> {
        let overrides: Vec<(String, Vec<u8>)> = files
            .iter()
            .map(|(path, text)| (path.to_string(), text.as_bytes().to_vec()))
            .collect();
        let mut read = |path: &str| Err::<Vec<u8>, _>(io::Error::other(path.to_owned()));
        tarball::pack(top, &[], &overrides, &mut read, &Limits::default())
            .unwrap()
            .bytes
    }

    fn package_tarball(package: &str, v: &str) -> Vec<u8> {
        let module = format!("module {package} where\n");
        tarball(
            &format!("{package}-{v}"),
            &[("src/Main.purs", &module), ("purs.json", "{}\n")],
        )
    }

    fn env() -> HookEnv {
        HookEnv {
            compiler: version("0.15.15"),
            package: None,
        }
    }

    fn run(ws: &Workspace, command: &str) -> HookOutcome {
        ws.run(
            HookKind::BuildCheck,
            command,
            &BTreeMap::new(),
            &env(),
            Duration::from_secs(60),
        )
        .unwrap()
    }

    fn resolutions(entries: &[(&str, &str)]) -> BTreeMap<PackageName, Version> {
        entries.iter().map(|(n, v)| (name(n), version(v))).collect()
    }

    /// The PID a hook wrote to `file`, once that process is gone (or a zombie).
    fn assert_process_ends(pid_file: &Path) {
        let pid = fs::read_to_string(pid_file).unwrap();
        let stat = format!("/proc/{}/stat", pid.trim());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let alive = fs::read_to_string(&stat).is_ok_and(|s| {
                s.rsplit(')')
                    .next()
                    .is_some_and(|rest| !rest.starts_with(" Z"))
            });
            if !alive {
                return;
            }
            assert!(Instant::now() < deadline, "process {pid} is still running");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    // -- workspace ------------------------------------------------------------------------

    #[test]
    fn the_package_is_unpacked_into_package_without_its_top_dir() {
        let mut ws = Workspace::new().unwrap();
        let dir = ws
            .set_package(
                &name("foo"),
                &version("1.0.0"),
                &package_tarball("foo", "1.0.0"),
            )
            .unwrap();
        assert_eq!(dir, ws.root().join("package"));
        assert!(ws.root().is_absolute());
        assert_eq!(
            fs::read_to_string(dir.join("src/Main.purs")).unwrap(),
            "module foo where\n"
        );
        assert_eq!(fs::read_to_string(dir.join("purs.json")).unwrap(), "{}\n");
        assert!(!dir.join("foo-1.0.0").exists());
        // A second package replaces the first; no staging directory is left behind.
        ws.set_package(
            &name("bar"),
            &version("2.0.0"),
            &package_tarball("bar", "2.0.0"),
        )
        .unwrap();
        assert_eq!(
            fs::read_to_string(dir.join("src/Main.purs")).unwrap(),
            "module bar where\n"
        );
        let mut names: Vec<String> = fs::read_dir(ws.root())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["dependencies", "package"]);
    }

    #[test]
    fn dependencies_are_unpacked_once_under_their_name_and_version() {
        let mut ws = Workspace::new().unwrap();
        let (prelude, v) = (name("prelude"), version("6.0.1"));
        let dir = ws
            .add_dependency(&prelude, &v, &package_tarball("prelude", "6.0.1"))
            .unwrap();
        assert_eq!(dir, ws.root().join("dependencies/prelude-6.0.1"));
        assert_eq!(
            fs::read_to_string(dir.join("src/Main.purs")).unwrap(),
            "module prelude where\n"
        );
        // Already there: not unpacked again, so even bytes that are no tarball are fine.
        fs::write(dir.join("marker"), "kept").unwrap();
        assert_eq!(
            ws.add_dependency(&prelude, &v, b"not a tarball").unwrap(),
            dir
        );
        assert_eq!(fs::read_to_string(dir.join("marker")).unwrap(), "kept");
        // Another version sits beside it.
        let other = ws
            .add_dependency(
                &prelude,
                &version("5.0.0"),
                &package_tarball("prelude", "5.0.0"),
            )
            .unwrap();
        assert_eq!(other, ws.root().join("dependencies/prelude-5.0.0"));
    }

    #[test]
    fn a_tarball_that_does_not_unpack_to_name_dash_version_is_refused() {
        let mut ws = Workspace::new().unwrap();
        let err = ws
            .add_dependency(
                &name("foo"),
                &version("1.0.0"),
                &package_tarball("bar", "1.0.0"),
            )
            .unwrap_err();
        insta::assert_snapshot!(err, @"the tarball of `foo@1.0.0` unpacks to `bar-1.0.0/`: expected the single top directory `foo-1.0.0/`");
        let err = ws
            .add_dependency(&name("foo"), &version("1.0.0"), b"not a tarball")
            .unwrap_err();
        insta::assert_snapshot!(crate::error_chain(&err), @"cannot unpack the tarball of `foo@1.0.0`: cannot read the tarball: expected a gzip-compressed tar archive: invalid gzip header");
        assert!(!ws.root().join("dependencies/foo-1.0.0").exists());
        // A failed unpack records nothing: the right tarball is unpacked afterwards.
        ws.add_dependency(
            &name("foo"),
            &version("1.0.0"),
            &package_tarball("foo", "1.0.0"),
        )
        .unwrap();
    }

    #[test]
    fn dependencies_come_from_storage_when_their_hash_matches() {
        let storage = MemoryStorage::new();
        let (aff, v) = (name("aff"), version("7.1.0"));
        let bytes = package_tarball("aff", "7.1.0");
        storage.put(&StorageKey::tarball(&aff, &v), &bytes).unwrap();
        let mut ws = Workspace::new().unwrap();
        let dir = ws
            .add_from_storage(Stores::single(&storage), &aff, &v, &Sha256::of(&bytes))
            .unwrap();
        assert_eq!(dir, ws.root().join("dependencies/aff-7.1.0"));
        assert!(dir.join("src/Main.purs").is_file());
    }

    #[test]
    fn a_stored_tarball_with_another_hash_is_refused() {
        let storage = MemoryStorage::new();
        let (aff, v) = (name("aff"), version("7.1.0"));
        storage
            .put(&StorageKey::tarball(&aff, &v), b"tampered")
            .unwrap();
        let mut ws = Workspace::new().unwrap();
        let err = ws
            .add_from_storage(
                Stores::single(&storage),
                &aff,
                &v,
                &Sha256::of(b"published"),
            )
            .unwrap_err();
        insta::assert_snapshot!(err, @"the stored tarball of `aff@7.1.0` has hash `sha256-0SG+MQMAe0Ht+W+CYpJfjH1hiUr+mgQYQ7Yx9pRFvFc=`: expected `sha256-sE5eogG7BAyuU/aT9qOKPgC2LaYDnKJI/s1Zt/yEKJQ=`, the hash recorded in its metadata");
        assert!(!ws.root().join("dependencies/aff-7.1.0").exists());
    }

    #[test]
    fn a_missing_stored_tarball_is_an_error_naming_the_key() {
        let mut ws = Workspace::new().unwrap();
        let err = ws
            .add_from_storage(
                Stores::single(&MemoryStorage::new()),
                &name("aff"),
                &version("7.1.0"),
                &Sha256::of(b""),
            )
            .unwrap_err();
        insta::assert_snapshot!(err, @"storage `memory` has no `aff/7.1.0.tar.gz`: expected the tarball of every published version");
    }

    #[test]
    fn a_dependency_the_primary_lacks_comes_from_a_mirror_holding_its_hash() {
        let (aff, v) = (name("aff"), version("7.1.0"));
        let key = StorageKey::tarball(&aff, &v);
        let bytes = package_tarball("aff", "7.1.0");
        let (primary, tampered, good) = (
            MemoryStorage::new(),
            MemoryStorage::new(),
            MemoryStorage::new(),
        );
        tampered.put(&key, b"tampered").unwrap();
        good.put(&key, &bytes).unwrap();
        let empty: Vec<Box<dyn crate::storage::Storage>> = vec![Box::new(MemoryStorage::new())];
        let mirrors: Vec<Box<dyn crate::storage::Storage>> = vec![
            Box::new(tampered),
            Box::new(MemoryStorage::new()),
            Box::new(good),
        ];

        // No mirror holds it: the error says why each was passed over.
        let mut ws = Workspace::new().unwrap();
        let stores = |mirrors| Stores {
            primary: &primary,
            mirrors,
        };
        let err = ws
            .add_from_storage(stores(&empty), &aff, &v, &Sha256::of(&bytes))
            .unwrap_err();
        insta::assert_snapshot!(err, @"storage `memory` has no `aff/7.1.0.tar.gz` (mirror `memory` has none): expected the tarball of every published version");
        assert!(ws.from_mirrors().is_empty());

        // The first mirror's bytes are not the published ones; the third mirror's are.
        let dir = ws
            .add_from_storage(stores(&mirrors), &aff, &v, &Sha256::of(&bytes))
            .unwrap();
        assert!(dir.join("src/Main.purs").is_file());
        insta::assert_snapshot!(ws.from_mirrors().join("\n"), @"`aff@7.1.0` was read from mirror `memory`: storage `memory` lacks it (`regis storage sync` copies it back)");
        // Nothing is written back to the primary by a reader.
        assert_eq!(primary.get(&key).unwrap(), None);
    }

    #[test]
    fn a_dependency_already_in_the_workspace_is_not_fetched_again() {
        let mut ws = Workspace::new().unwrap();
        let (aff, v) = (name("aff"), version("7.1.0"));
        let dir = ws
            .add_dependency(&aff, &v, &package_tarball("aff", "7.1.0"))
            .unwrap();
        // Empty storage and a wrong hash: both would fail if it were read.
        let again = ws
            .add_from_storage(
                Stores::single(&MemoryStorage::new()),
                &aff,
                &v,
                &Sha256::of(b""),
            )
            .unwrap();
        assert_eq!(again, dir);
    }

    // -- resolutions ------------------------------------------------------------------------

    #[test]
    fn resolutions_json_lists_the_run_s_dependencies_and_is_rewritten_per_run() {
        let mut ws = Workspace::new().unwrap();
        for (n, v) in [("prelude", "6.0.1"), ("aff", "7.1.0"), ("prelude", "5.0.0")] {
            ws.add_dependency(&name(n), &version(v), &package_tarball(n, v))
                .unwrap();
        }
        let root = ws.root().display().to_string();
        let file = ws.root().join("resolutions.json");
        let run_with = |entries: &[(&str, &str)]| {
            ws.run(
                HookKind::BuildCheck,
                "true",
                &resolutions(entries),
                &env(),
                Duration::from_secs(60),
            )
            .unwrap()
        };
        assert!(run_with(&[("prelude", "6.0.1"), ("aff", "7.1.0")]).success);
        assert_eq!(
            fs::read_to_string(&file).unwrap(),
            format!(
                "{{\n  \"aff\": {{\n    \"version\": \"7.1.0\",\n    \"path\": \"{root}/dependencies/aff-7.1.0\"\n  }},\n  \
                 \"prelude\": {{\n    \"version\": \"6.0.1\",\n    \"path\": \"{root}/dependencies/prelude-6.0.1\"\n  }}\n}}\n"
            )
        );
        run_with(&[("prelude", "5.0.0")]);
        assert_eq!(
            fs::read_to_string(&file).unwrap(),
            format!(
                "{{\n  \"prelude\": {{\n    \"version\": \"5.0.0\",\n    \"path\": \"{root}/dependencies/prelude-5.0.0\"\n  }}\n}}\n"
            )
        );
        run_with(&[]);
        assert_eq!(fs::read_to_string(&file).unwrap(), "{}\n");
    }

    #[test]
    fn resolutions_naming_a_package_not_added_are_refused_before_running() {
        let mut ws = Workspace::new().unwrap();
        ws.add_dependency(
            &name("prelude"),
            &version("6.0.1"),
            &package_tarball("prelude", "6.0.1"),
        )
        .unwrap();
        let marker = ws.root().join("ran");
        let command = format!("touch '{}'", marker.display());
        // Added, but at another version.
        let err = ws
            .run(
                HookKind::Docs,
                &command,
                &resolutions(&[("prelude", "6.0.0")]),
                &env(),
                Duration::from_secs(60),
            )
            .unwrap_err();
        insta::assert_snapshot!(err, @"`prelude@6.0.0` is in the resolutions but not in the hook workspace: expected every resolved package to be added first");
        assert!(!marker.exists());
    }

    // -- running ------------------------------------------------------------------------------

    #[test]
    fn the_command_sees_the_workspace_in_its_environment_and_runs_in_the_package() {
        let mut ws = Workspace::new().unwrap();
        ws.set_package(
            &name("foo"),
            &version("1.2.3"),
            &package_tarball("foo", "1.2.3"),
        )
        .unwrap();
        ws.add_dependency(
            &name("prelude"),
            &version("6.0.1"),
            &package_tarball("prelude", "6.0.1"),
        )
        .unwrap();
        // cargo runs tests with this set: the hook must not see it
        assert!(std::env::var_os("CARGO_MANIFEST_DIR").is_some());
        let seen = ws.root().join("seen");
        let command = format!(
            "{{ pwd; echo \"$REGIS_HOOK\"; echo \"$REGIS_COMPILER\"; echo \"$REGIS_RESOLUTIONS\"; \
             echo \"$REGIS_DEPENDENCIES\"; echo \"$REGIS_PACKAGE\"; echo \"$REGIS_VERSION\"; \
             echo \"$REGIS_PACKAGE_DIR\"; echo \"${{PATH+path is inherited}}\"; \
             echo \"${{CARGO_MANIFEST_DIR-cargo variables are withheld}}\"; \
             read line || echo \"stdin is empty\"; }} > '{}'",
            seen.display()
        );
        let env = HookEnv {
            compiler: version("0.15.2"),
            package: Some((name("foo"), version("1.2.3"))),
        };
        let outcome = ws
            .run(
                HookKind::BuildCheck,
                &command,
                &resolutions(&[("prelude", "6.0.1")]),
                &env,
                Duration::from_secs(60),
            )
            .unwrap();
        assert!(outcome.success, "{outcome:?}");
        let root = ws.root().display().to_string();
        assert_eq!(
            fs::read_to_string(&seen).unwrap(),
            format!(
                "{root}/package\nbuild-check\n0.15.2\n{root}/resolutions.json\n{root}/dependencies\n\
                 foo\n1.2.3\n{root}/package\npath is inherited\ncargo variables are withheld\nstdin is empty\n"
            )
        );
    }

    #[test]
    fn without_a_package_the_command_runs_in_the_root_without_package_variables() {
        let ws = Workspace::new().unwrap();
        let outcome = ws
            .run(
                HookKind::Docs,
                "pwd; echo \"$REGIS_HOOK ${REGIS_PACKAGE-unset} ${REGIS_VERSION-unset} ${REGIS_PACKAGE_DIR-unset}\"",
                &BTreeMap::new(),
                &env(),
                Duration::from_secs(60),
            )
            .unwrap();
        assert_eq!(
            outcome.output,
            format!("{}\ndocs unset unset unset\n", ws.root().display())
        );
    }

    #[test]
    fn a_successful_command_reports_its_output() {
        let ws = Workspace::new().unwrap();
        let outcome = run(&ws, "echo out; echo err >&2");
        assert_eq!(
            outcome,
            HookOutcome {
                kind: HookKind::BuildCheck,
                command: "echo out; echo err >&2".to_owned(),
                success: true,
                status: Some(0),
                timed_out: false,
                output: "out\nerr\n".to_owned(),
                duration: outcome.duration,
            }
        );
        assert!(outcome.clone().ok_or_error().is_ok());
    }

    #[test]
    fn a_failing_command_is_an_error_with_its_status_and_output() {
        let ws = Workspace::new().unwrap();
        let outcome = run(
            &ws,
            "echo compiling; printf 'Error: no\\n\\n  at Main.purs' >&2; exit 3",
        );
        assert!(!outcome.success);
        assert_eq!((outcome.status, outcome.timed_out), (Some(3), false));
        assert_eq!(outcome.output, "compiling\nError: no\n\n  at Main.purs");
        let err = outcome.ok_or_error().unwrap_err();
        insta::assert_snapshot!(err, @r"
        the build check command `echo compiling; printf 'Error: no\n\n  at Main.purs' >&2; exit 3` exited with status `3` (expected `0`); its output:
            compiling
            Error: no

              at Main.purs
        ");
        let silent = run(&ws, "exit 1").ok_or_error().unwrap_err();
        insta::assert_snapshot!(silent, @r"
        the build check command `exit 1` exited with status `1` (expected `0`); its output:
            (no output)
        ");
    }

    /// A command that cannot be started (here its package directory is gone) names the
    /// command, then the system's reason.
    #[test]
    fn a_command_that_cannot_start_is_an_error_naming_it() {
        let mut ws = Workspace::new().unwrap();
        ws.set_package(
            &name("foo"),
            &version("1.2.3"),
            &package_tarball("foo", "1.2.3"),
        )
        .unwrap();
        fs::remove_dir_all(ws.root().join(PACKAGE_DIR)).unwrap();
        let err = ws
            .run(
                HookKind::BuildCheck,
                "true",
                &BTreeMap::new(),
                &env(),
                Duration::from_secs(60),
            )
            .unwrap_err();
        insta::assert_snapshot!(crate::error_chain(&err), @"cannot run the build check command `true`: No such file or directory (os error 2)");
    }

    #[test]
    fn a_command_killed_by_a_signal_has_no_status() {
        let ws = Workspace::new().unwrap();
        let outcome = run(&ws, "kill -s TERM $$");
        assert_eq!(
            (outcome.success, outcome.status, outcome.timed_out),
            (false, None, false)
        );
        insta::assert_snapshot!(outcome.ok_or_error().unwrap_err(), @r"
        the build check command `kill -s TERM $$` was killed by a signal (expected exit status `0`); its output:
            (no output)
        ");
    }

    #[test]
    fn a_command_running_past_the_timeout_is_killed_with_its_process_group() {
        let ws = Workspace::new().unwrap();
        let pid_file = ws.root().join("pid");
        // The background sleep holds stdout open too: only killing the group ends it.
        let command = format!(
            "sleep 30 & echo $! > '{}'; echo started; wait",
            pid_file.display()
        );
        let started = Instant::now();
        let outcome = ws
            .run(
                HookKind::BuildCheck,
                &command,
                &BTreeMap::new(),
                &env(),
                Duration::from_secs(1),
            )
            .unwrap();
        assert!(started.elapsed() < Duration::from_secs(20), "{outcome:?}");
        assert_eq!(
            (outcome.success, outcome.status, outcome.timed_out),
            (false, None, true)
        );
        assert!(outcome.duration >= Duration::from_secs(1));
        assert_eq!(outcome.output, "started\n");
        assert_process_ends(&pid_file);
        let message = outcome.ok_or_error().unwrap_err().to_string();
        let message = message.replace(&ws.root().display().to_string(), "<root>");
        insta::assert_snapshot!(message, @r"
        the build check command `sleep 30 & echo $! > '<root>/pid'; echo started; wait` timed out after 1s and was killed (expected it to finish within the hook timeout); its output:
            started
        ");
    }

    #[test]
    fn processes_left_running_by_a_finished_command_are_killed() {
        let ws = Workspace::new().unwrap();
        let pid_file = ws.root().join("pid");
        let command = format!("sleep 30 & echo $! > '{}'; echo done", pid_file.display());
        let started = Instant::now();
        let outcome = run(&ws, &command);
        assert!(started.elapsed() < Duration::from_secs(20), "{outcome:?}");
        assert!(outcome.success);
        assert_eq!(outcome.output, "done\n");
        assert_process_ends(&pid_file);
    }

    #[test]
    fn a_chatty_command_does_not_block_and_keeps_the_last_64_kib() {
        let ws = Workspace::new().unwrap();
        // 200,000 bytes on each stream, more than a pipe buffers, stderr written first.
        let outcome = run(
            &ws,
            "head -c 200000 /dev/zero | tr '\\0' e >&2; \
             head -c 199999 /dev/zero | tr '\\0' o; echo; echo END >&2",
        );
        assert!(outcome.success);
        let omitted = 200_000 + 200_004 - OUTPUT_MAX_BYTES;
        let expected = format!(
            "[… {omitted} bytes omitted]\n{}END\n",
            "e".repeat(OUTPUT_MAX_BYTES - 4)
        );
        assert!(outcome.output == expected, "{}", &outcome.output[..100]);
    }

    #[test]
    fn output_is_cut_at_a_character_boundary_and_counts_what_it_omits() {
        let tail = |bytes: &[u8]| {
            let mut tail = Tail::default();
            tail.push(bytes);
            tail
        };
        let empty = Tail::default();
        // Fits: kept whole, stdout and stderr joined by a newline.
        assert_eq!(combine(&tail(b"out"), &tail(b"err"), 8), "out\nerr");
        assert_eq!(combine(&tail(b"out\n"), &empty, 4), "out\n");
        // "é" is two bytes; the cut would fall inside it.
        assert_eq!(
            combine(&tail("abcé!".as_bytes()), &empty, 2),
            "[… 5 bytes omitted]\n!"
        );
        assert_eq!(
            combine(&tail("abcé!".as_bytes()), &empty, 3),
            "[… 3 bytes omitted]\né!"
        );
        // Invalid UTF-8 becomes U+FFFD.
        assert_eq!(combine(&tail(b"a\xffb"), &empty, 10), "a\u{fffd}b");
        // A trimmed tail still counts every byte.
        let mut long = Tail::default();
        for _ in 0..10 {
            long.push(&[b'x'; OUTPUT_MAX_BYTES]);
        }
        assert_eq!(long.total, 10 * OUTPUT_MAX_BYTES as u64);
        assert!(long.kept.len() <= 2 * OUTPUT_MAX_BYTES);
        let text = combine(&long, &empty, OUTPUT_MAX_BYTES);
        assert!(text.starts_with(&format!("[… {} bytes omitted]\nx", 9 * OUTPUT_MAX_BYTES)));
        assert_eq!(text.lines().nth(1).unwrap().len(), OUTPUT_MAX_BYTES);
    }

    #[test]
    fn hook_errors_fold_into_the_crate_error() {
        let err: crate::Error = HookError::NotInWorkspace {
            name: name("a"),
            version: version("1.0.0"),
        }
        .into();
        assert!(matches!(err, crate::Error::Hook(_)));
        assert_eq!(HookKind::BuildCheck.to_string(), "build check");
        assert_eq!(HookKind::Docs.to_string(), "docs");
    }
}
