//! Untrusted configuration evaluated in a child process with limits: a package's
//! `purs.dhall` and `spago.dhall` (Dhall) and its `spago.yaml` (YAML).
//!
//! A Dhall expression of a hundred bytes can recurse until the stack overflows
//! (`Natural/fold 10000 …`), double a text until memory runs out, or nest folds that run for
//! minutes; a YAML file can expand aliases. None of that may take the registry's job down
//! with it. So regis runs itself again as a child, `regis sandbox-eval` (hidden), hands it
//! the [`Job`] on stdin and reads one answer from stdout. The child first lowers its own
//! resource limits ([`Limits`]: address space, CPU time, no core dumps, few open files),
//! then evaluates on a thread with a fixed stack. The parent clears the child's
//! environment (an `env:GITHUB_TOKEN` import finds nothing), kills it after a wall-clock
//! timeout, reads at most [`Limits::output_bytes`] of its answer, and turns each way it can
//! end — a stack overflow, a failed allocation, SIGXCPU, the timeout — into a refusal that
//! says which limit the file hit ([`SandboxError`]).
//!
//! The program run is the current executable when it is regis; test binaries find the
//! `regis` binary cargo builds beside them, and `REGIS_SANDBOX_PROGRAM` overrides both.

use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::dhall::{DhallError, Schema};

/// The hidden subcommand the child runs.
pub const SUBCOMMAND: &str = "sandbox-eval";

/// The environment variable naming the program to run as the child.
pub const PROGRAM_ENV: &str = "REGIS_SANDBOX_PROGRAM";

/// The first line of every answer, so that a program that is not regis's evaluator (or a
/// different version of it) is told apart from a refusal.
const ANSWER_HEADER: &str = concat!("regis-sandbox/1 ", env!("CARGO_PKG_VERSION"), "\n");

/// What the child evaluates.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Job {
    /// Dhall text typed by a schema, with every import disabled (`purs.dhall`).
    Typed {
        text: String,
        label: String,
        schema: Schema,
    },
    /// A package's Dhall file `file` below `dir` (a copy of the package's `.dhall` files),
    /// untyped. Its imports are checked first ([`crate::dhall::package_file_to_json`]): the
    /// package's own files, and `https://` imports pinned by `sha256:` found in the Dhall
    /// cache the parent points `XDG_CACHE_HOME` at.
    Package {
        dir: PathBuf,
        file: String,
        cached: bool,
    },
    /// YAML text read as JSON, within the YAML reader's own budget.
    Yaml { text: String },
}

impl Job {
    /// The file the job evaluates, as refusals name it.
    fn label(&self) -> &str {
        match self {
            Job::Typed { label, .. } => label,
            Job::Package { file, .. } => file,
            Job::Yaml { .. } => "spago.yaml",
        }
    }
}

/// The child's answer.
#[derive(Debug, Serialize, Deserialize)]
enum Answer {
    Value(Value),
    Dhall(DhallError),
    /// A YAML parser's message.
    Yaml(String),
}

/// How much an evaluation may use.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The child's address space (`RLIMIT_AS`), in MiB.
    pub memory_mib: u64,
    /// The child's CPU time (`RLIMIT_CPU`), in seconds.
    pub cpu_seconds: u64,
    /// From start to answer, in seconds (a child blocked on something is killed).
    pub wall_seconds: u64,
    /// The evaluating thread's stack, in MiB.
    pub stack_mib: u64,
    /// The largest answer read back, in bytes.
    pub output_bytes: usize,
}

/// The limits every evaluation runs under. A real manifest evaluates in milliseconds and a
/// few MiB; the bounds leave room for a `spago.dhall` importing a whole package set from
/// the cache, and make a hostile file cost a few seconds at most.
pub const LIMITS: Limits = Limits {
    memory_mib: 1024,
    cpu_seconds: 5,
    wall_seconds: 15,
    stack_mib: 64,
    output_bytes: 8 * 1024 * 1024,
};

/// The largest job the child reads (the Dhall and YAML texts are bounded well below).
const MAX_JOB_BYTES: u64 = 16 * 1024 * 1024;

/// How an evaluation ended other than with an answer.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error(transparent)]
    Dhall(#[from] DhallError),
    #[error(
        "evaluating `{file}` used more than {seconds} s of CPU time and was stopped: expected a file that evaluates in well under a second"
    )]
    CpuTime { file: String, seconds: u64 },
    #[error(
        "evaluating `{file}` took longer than {seconds} s and was stopped: expected a file that evaluates in well under a second"
    )]
    WallTime { file: String, seconds: u64 },
    #[error(
        "evaluating `{file}` needed more than {mib} MiB of memory and was stopped: expected a file that evaluates in a few MiB"
    )]
    Memory { file: String, mib: u64 },
    #[error(
        "evaluating `{file}` recursed deeper than a {mib} MiB stack allows and was stopped: expected a file without deep recursion (such as a `Natural/fold` over thousands of steps)"
    )]
    Stack { file: String, mib: u64 },
    #[error(
        "`{file}` evaluates to more than {limit} bytes: expected a manifest of a few KiB (or a package set of a few hundred KiB)"
    )]
    Output { file: String, limit: usize },
    #[error("the evaluator of `{file}` ended unexpectedly ({how}){stderr}")]
    Crashed {
        file: String,
        how: String,
        stderr: String,
    },
    #[error("cannot run `{program}` to evaluate `{file}`")]
    Spawn {
        program: String,
        file: String,
        #[source]
        cause: std::io::Error,
    },
    #[error(
        "no regis program to evaluate untrusted configuration in (the current executable is `{current}` and no `regis` is beside it): set {PROGRAM_ENV} to the regis binary"
    )]
    NoProgram { current: String },
    #[error(
        "`{program}` did not answer as regis {} evaluates (its answer began {start}): set {PROGRAM_ENV} to this version's regis binary",
        env!("CARGO_PKG_VERSION")
    )]
    Protocol { program: String, start: String },
}

/// Evaluate untrusted Dhall text against `schema` with imports disabled, in the sandbox
/// ([`crate::dhall::untrusted_str_to_json`] in the child).
pub fn typed_dhall(text: &str, label: &str, schema: Schema) -> Result<Value, SandboxError> {
    let job = Job::Typed {
        text: text.to_owned(),
        label: label.to_owned(),
        schema,
    };
    match run(&job, None)? {
        Answer::Value(v) => Ok(v),
        Answer::Dhall(e) => Err(e.into()),
        Answer::Yaml(m) => Err(protocol_mismatch(&m)),
    }
}

/// Evaluate a package's Dhall file `file` below `dir`, untyped, in the sandbox
/// ([`crate::dhall::package_file_to_json`] in the child); `cache` is a Dhall cache
/// directory (files named `1220<sha256>`) for its remote imports.
pub fn package_dhall(dir: &Path, file: &str, cache: Option<&Path>) -> Result<Value, SandboxError> {
    let job = Job::Package {
        dir: dir.to_path_buf(),
        file: file.to_owned(),
        cached: cache.is_some(),
    };
    match run(&job, cache)? {
        Answer::Value(v) => Ok(v),
        Answer::Dhall(e) => Err(e.into()),
        Answer::Yaml(m) => Err(protocol_mismatch(&m)),
    }
}

/// Read YAML text as JSON in the sandbox: the value, or the parser's message.
pub fn yaml(text: &str) -> Result<Result<Value, String>, SandboxError> {
    let job = Job::Yaml {
        text: text.to_owned(),
    };
    match run(&job, None)? {
        Answer::Value(v) => Ok(Ok(v)),
        Answer::Yaml(message) => Ok(Err(message)),
        Answer::Dhall(e) => Err(e.into()),
    }
}

fn protocol_mismatch(found: &str) -> SandboxError {
    SandboxError::Protocol {
        program: program().map_or_else(|_| "?".to_owned(), |p| p.display().to_string()),
        start: crate::text::echo(found).to_string(),
    }
}

/// The program to run as the child: `REGIS_SANDBOX_PROGRAM`, else the current executable
/// when it is regis, else a `regis` beside it or one directory up (a test binary in
/// `target/debug/deps/` and the `regis` cargo builds in `target/debug/`).
pub fn program() -> Result<PathBuf, SandboxError> {
    #[cfg(any(test, feature = "testing"))]
    if let Some(p) = PROGRAM.with_borrow(Clone::clone) {
        return Ok(p);
    }
    if let Some(p) = std::env::var_os(PROGRAM_ENV) {
        return Ok(PathBuf::from(p));
    }
    let current = std::env::current_exe().map_err(|e| SandboxError::NoProgram {
        current: format!("unknown: {e}"),
    })?;
    if current.file_stem().is_some_and(|s| s == "regis") {
        return Ok(current);
    }
    let dir = current.parent();
    dir.into_iter()
        .chain(dir.and_then(Path::parent))
        .map(|d| d.join("regis"))
        .find(|p| p.is_file())
        .ok_or_else(|| SandboxError::NoProgram {
            current: current.display().to_string(),
        })
}

#[cfg(any(test, feature = "testing"))]
thread_local! {
    static IN_PROCESS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Run `f` with every job on this thread evaluated in this process, without a child or
/// limits: for the fuzz targets, which exercise the readers and evaluators themselves at
/// thousands of inputs a second (a child each would make that hundreds). The sandbox has
/// its own tests.
#[cfg(any(test, feature = "testing"))]
pub fn in_process<T>(f: impl FnOnce() -> T) -> T {
    IN_PROCESS.set(true);
    let out = f();
    IN_PROCESS.set(false);
    out
}

#[cfg(any(test, feature = "testing"))]
thread_local! {
    static PROGRAM: std::cell::RefCell<Option<PathBuf>> = const { std::cell::RefCell::new(None) };
}

/// Run `f` with `program` as the child of every job on this thread (what
/// `REGIS_SANDBOX_PROGRAM` does for a process): for tests of a child that misbehaves.
#[cfg(any(test, feature = "testing"))]
pub fn with_program<T>(program: &Path, f: impl FnOnce() -> T) -> T {
    PROGRAM.set(Some(program.to_path_buf()));
    let out = f();
    PROGRAM.set(None);
    out
}

/// Run `job` in a child and read its answer; `cache` becomes the child's Dhall cache.
fn run(job: &Job, cache: Option<&Path>) -> Result<Answer, SandboxError> {
    #[cfg(any(test, feature = "testing"))]
    if IN_PROCESS.get() {
        return Ok(evaluate(job.clone()));
    }
    let file = job.label().to_owned();
    let program = program()?;
    let scratch = tempfile::tempdir().map_err(|cause| spawn_error(&program, &file, cause))?;
    let mut command = Command::new(&program);
    command
        .arg(SUBCOMMAND)
        .env_clear()
        // The Dhall library reads its cache from `$XDG_CACHE_HOME/dhall`; with none given it
        // is an empty directory of the child's own.
        .env("XDG_CACHE_HOME", xdg_cache_home(scratch.path(), cache)?)
        .current_dir(scratch.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .map_err(|cause| spawn_error(&program, &file, cause))?;
    let request = serde_json::to_vec(job).expect("a job always serializes");
    let mut stdin = child.stdin.take().expect("piped");
    // A child that dies early closes the pipe: what it did is read from its status.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&request);
    });
    let limit = LIMITS.output_bytes + ANSWER_HEADER.len();
    let stdout = child.stdout.take().expect("piped");
    let (out_tx, out_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.take(limit as u64 + 1).read_to_end(&mut buf);
        let _ = out_tx.send(buf);
    });
    let mut stderr = child.stderr.take().expect("piped");
    let (err_tx, err_rx) = mpsc::channel();
    // All of it is read (a child must never block on a full pipe); its last 64 KiB kept,
    // where a Rust runtime's last word (a stack overflow, a failed allocation) is.
    std::thread::spawn(move || {
        const KEPT: usize = 64 * 1024;
        let mut kept = Vec::new();
        let mut chunk = [0u8; 8192];
        while let Ok(n @ 1..) = stderr.read(&mut chunk) {
            kept.extend_from_slice(&chunk[..n]);
            if kept.len() > 2 * KEPT {
                kept.drain(..kept.len() - KEPT);
            }
        }
        let _ = err_tx.send(kept);
    });
    let started = Instant::now();
    let wall = Duration::from_secs(LIMITS.wall_seconds);
    let mut output = None;
    let status = loop {
        if let Some(status) = child
            .try_wait()
            .map_err(|cause| spawn_error(&program, &file, cause))?
        {
            break status;
        }
        if output.is_none()
            && let Ok(buf) = out_rx.try_recv()
        {
            output = Some(buf);
        }
        if output.as_ref().is_some_and(|b: &Vec<u8>| b.len() > limit) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(SandboxError::Output {
                file,
                limit: LIMITS.output_bytes,
            });
        }
        if started.elapsed() >= wall {
            let _ = child.kill();
            let _ = child.wait();
            return Err(SandboxError::WallTime {
                file,
                seconds: LIMITS.wall_seconds,
            });
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let _ = writer.join();
    let grace = Duration::from_secs(5);
    let output = match output {
        Some(buf) => buf,
        None => out_rx.recv_timeout(grace).unwrap_or_default(),
    };
    let stderr = err_rx.recv_timeout(grace).unwrap_or_default();
    let stderr = String::from_utf8_lossy(&stderr);
    if output.len() > limit {
        return Err(SandboxError::Output {
            file,
            limit: LIMITS.output_bytes,
        });
    }
    if status.success() {
        return answer(&program, &output);
    }
    Err(ending(file, status, &stderr))
}

fn spawn_error(program: &Path, file: &str, cause: std::io::Error) -> SandboxError {
    SandboxError::Spawn {
        program: program.display().to_string(),
        file: file.to_owned(),
        cause,
    }
}

/// The `XDG_CACHE_HOME` under which the child finds `dhall/` holding `cache`'s entries:
/// a directory of `scratch` with a link to each, so that what the Dhall library writes to
/// its cache (or deletes from it, an entry that fails its hash) stays in `scratch`.
fn xdg_cache_home(scratch: &Path, cache: Option<&Path>) -> Result<PathBuf, SandboxError> {
    let base = scratch.join("cache");
    let failed = |cause| SandboxError::Spawn {
        program: "the Dhall cache".to_owned(),
        file: cache.map_or_else(String::new, |c| c.display().to_string()),
        cause,
    };
    let dir = base.join("dhall");
    std::fs::create_dir_all(&dir).map_err(failed)?;
    let Some(cache) = cache else {
        return Ok(base);
    };
    let cache = std::path::absolute(cache).map_err(failed)?;
    let entries = match std::fs::read_dir(&cache) {
        Ok(entries) => entries,
        // No cache yet: nothing is cached.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(base),
        Err(e) => return Err(failed(e)),
    };
    for entry in entries {
        let name = entry.map_err(failed)?.file_name();
        if name.to_str().is_some_and(|n| n.starts_with("1220")) {
            std::os::unix::fs::symlink(cache.join(&name), dir.join(&name)).map_err(failed)?;
        }
    }
    Ok(base)
}

/// The answer in a successful child's output.
fn answer(program: &Path, output: &[u8]) -> Result<Answer, SandboxError> {
    let mismatch = || SandboxError::Protocol {
        program: program.display().to_string(),
        start: crate::text::echo_bytes(&output[..output.len().min(80)]).to_string(),
    };
    let body = output
        .strip_prefix(ANSWER_HEADER.as_bytes())
        .ok_or_else(mismatch)?;
    serde_json::from_slice(body).map_err(|_| mismatch())
}

/// A child that ended without an answer: which limit it hit, from its signal and stderr.
fn ending(file: String, status: std::process::ExitStatus, stderr: &str) -> SandboxError {
    const SIGXCPU: i32 = 24;
    const SIGKILL: i32 = 9;
    if stderr.contains("has overflowed its stack") {
        return SandboxError::Stack {
            file,
            mib: LIMITS.stack_mib,
        };
    }
    if stderr.contains("memory allocation of") || stderr.contains("out of memory") {
        return SandboxError::Memory {
            file,
            mib: LIMITS.memory_mib,
        };
    }
    // SIGXCPU at the soft limit; SIGKILL at the hard one, a second later.
    if matches!(status.signal(), Some(SIGXCPU | SIGKILL)) {
        return SandboxError::CpuTime {
            file,
            seconds: LIMITS.cpu_seconds,
        };
    }
    let how = match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (_, Some(signal)) => format!("signal {signal}"),
        _ => status.to_string(),
    };
    let last = crate::text::tail(stderr.trim(), 500);
    SandboxError::Crashed {
        file,
        how,
        stderr: if last.is_empty() {
            String::new()
        } else {
            format!(": {}", crate::text::echo(last))
        },
    }
}

/// The child: lower its limits, read the job from stdin, evaluate it on a thread with
/// [`Limits::stack_mib`] of stack, and write the answer to stdout. Exits non-zero only when
/// something other than the job went wrong (the limits kill it without an exit code).
pub fn serve() -> std::process::ExitCode {
    if let Err(e) = lower_limits(&LIMITS) {
        complain(&format!("cannot set the sandbox's resource limits: {e}"));
        return std::process::ExitCode::FAILURE;
    }
    let mut input = Vec::new();
    if let Err(e) = std::io::stdin().take(MAX_JOB_BYTES).read_to_end(&mut input) {
        complain(&format!("cannot read the job: {e}"));
        return std::process::ExitCode::FAILURE;
    }
    let job: Job = match serde_json::from_slice(&input) {
        Ok(job) => job,
        Err(e) => {
            complain(&format!("not a sandbox job: {e}"));
            return std::process::ExitCode::FAILURE;
        }
    };
    let evaluated = std::thread::Builder::new()
        .name("sandbox".to_owned())
        .stack_size(usize::try_from(LIMITS.stack_mib << 20).expect("fits"))
        .spawn(move || evaluate(job))
        .map(|t| t.join());
    let answer = match evaluated {
        Ok(Ok(answer)) => answer,
        _ => {
            complain("the evaluating thread failed");
            return std::process::ExitCode::FAILURE;
        }
    };
    let mut out = ANSWER_HEADER.as_bytes().to_vec();
    out.extend(serde_json::to_vec(&answer).expect("an answer always serializes"));
    let mut stdout = std::io::stdout().lock();
    if stdout
        .write_all(&out)
        .and_then(|()| stdout.flush())
        .is_err()
    {
        return std::process::ExitCode::FAILURE;
    }
    std::process::ExitCode::SUCCESS
}

/// The child's word on what went wrong besides the job, for the parent to read (it never
/// reaches a terminal or CI log but through the parent's [`SandboxError::Crashed`]).
fn complain(message: &str) {
    let _ = writeln!(std::io::stderr().lock(), "error: {message}");
}

/// Lower this process's resource limits to `limits` (soft and hard: it cannot raise them
/// again); core dumps off.
fn lower_limits(limits: &Limits) -> std::io::Result<()> {
    use rustix::process::{Resource, Rlimit, setrlimit};
    let set = |resource, soft: u64, hard: u64| {
        setrlimit(
            resource,
            Rlimit {
                current: Some(soft),
                maximum: Some(hard),
            },
        )
    };
    set(Resource::Core, 0, 0)?;
    set(Resource::Nofile, 64, 64)?;
    // SIGXCPU at the soft limit, SIGKILL at the hard.
    set(Resource::Cpu, limits.cpu_seconds, limits.cpu_seconds + 1)?;
    let memory = limits.memory_mib << 20;
    set(Resource::As, memory, memory)?;
    Ok(())
}

/// Evaluate `job` in this process (the child's work).
fn evaluate(job: Job) -> Answer {
    let dhall = |r: Result<Value, DhallError>| match r {
        Ok(v) => Answer::Value(v),
        Err(e) => Answer::Dhall(e),
    };
    match job {
        Job::Typed {
            text,
            label,
            schema,
        } => dhall(crate::dhall::untrusted_str_to_json(&text, &label, schema)),
        Job::Package { dir, file, cached } => {
            dhall(crate::dhall::package_file_to_json(&dir, &file, cached))
        }
        Job::Yaml { text } => match parse_yaml(&text) {
            Ok(v) => Answer::Value(v),
            Err(message) => Answer::Yaml(message),
        },
    }
}

/// The limits on YAML (a `spago.yaml`) the parser enforces while it reads (a real one has a
/// few hundred events and no aliases); an alias bomb or a deeply nested document stops at
/// them.
fn yaml_options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_reader_input_bytes = Some(1_000_000);
    budget.max_events = 200_000;
    budget.max_aliases = 1_000;
    budget.max_anchors = 1_000;
    budget.max_depth = 64;
    budget.max_documents = 1;
    budget.max_nodes = 100_000;
    budget.max_total_scalar_bytes = 1_000_000;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.alias_limits.max_total_replayed_events = 100_000;
    options
}

/// YAML text as a JSON value within `yaml_options`' limits, in this process (the child's
/// work); the error is the parser's message.
fn parse_yaml(text: &str) -> Result<Value, String> {
    serde_saphyr::from_str_with_options::<Value>(text, yaml_options()).map_err(|e| {
        // The parser's message is a report with a source excerpt; its first line says it.
        let report = e.to_string();
        let first = report.lines().next().unwrap_or_default();
        let first = first.strip_prefix("error: ").unwrap_or(first);
        crate::text::message(first).into_owned()
    })
}
