//! The command line: clap-derived arguments, one module per subcommand, the shared
//! options, and how results and errors are printed. The only place that prints.

mod alias;
mod check;
mod daily;
mod demo;
mod deprecate;
mod docs;
mod fetch;
mod gc;
mod history;
mod init;
pub mod json;
mod keys;
mod list;
mod org;
mod output;
mod pack;
mod package_set;
mod process_issue;
mod progress;
mod publish;
mod serve;
mod sign;
mod site;
mod solve;
mod storage;
mod token;
mod transfer;
mod unpublish;
mod verify;
mod yank;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand};

use crate::config::Config;
use output::{errorln, verboseln, warnln};

/// regis: a git-backed package registry engine.
///
/// Reads and writes the PureScript Registry's formats byte for byte: metadata and package
/// sets in a registry repo, manifests in an index repo, tarballs in storage.
#[derive(Debug, Parser)]
#[command(name = "regis", version = version(), propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand takes; each can also be set in the environment.
#[derive(Debug, clap::Args)]
pub struct Global {
    /// The registry repo checkout (metadata/, package-sets/, regis.dhall).
    #[arg(
        long,
        global = true,
        default_value = ".",
        env = "REGIS_REGISTRY",
        value_name = "DIR"
    )]
    pub registry: PathBuf,
    /// The index repo checkout [default: `index` from regis.dhall, relative to the registry].
    #[arg(long, global = true, env = "REGIS_INDEX", value_name = "DIR")]
    pub index: Option<PathBuf>,
    /// Where tarballs are: a directory, or an object store URL (`s3://bucket/prefix`,
    /// `gs://…`, `az://…`, `file://…`) whose credentials come from the provider's usual
    /// environment variables (`AWS_ACCESS_KEY_ID`, …) [default: `storage` from
    /// regis.dhall, a directory relative to the registry].
    #[arg(long, global = true, env = "REGIS_STORAGE", value_name = "DIR|URL")]
    pub storage: Option<String>,
    /// A mirror: another storage a publish also writes to and readers fall back to
    /// (repeat for more) [default: `mirrors` from regis.dhall, relative to the registry].
    #[arg(long = "mirror", global = true, value_name = "DIR|URL")]
    pub mirrors: Vec<String>,
    /// Print one JSON document on standard output instead of text (`formatVersion` 1,
    /// camelCase keys), and errors, warnings and progress as JSON lines on standard error.
    #[arg(long, global = true)]
    pub json: bool,
    /// Print errors only: no warnings and no progress on standard error.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Also say which checkouts and storage the command works on, and how long it took.
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// Colour the labels of errors and warnings: `auto` on a terminal unless `NO_COLOR` is
    /// set.
    #[arg(long, global = true, value_name = "WHEN", default_value = "auto")]
    pub color: clap::ColorChoice,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Init(init::Args),
    Publish(publish::Args),
    Check(check::Args),
    #[command(name = "package-set", subcommand)]
    PackageSet(package_set::Command),
    Daily(daily::Args),
    Gc(gc::Args),
    #[command(subcommand)]
    Storage(storage::Command),
    Solve(solve::Args),
    Transfer(transfer::Args),
    #[command(name = "process-issue")]
    ProcessIssue(process_issue::Args),
    Unpublish(unpublish::Args),
    Yank(yank::Args),
    Deprecate(deprecate::Args),
    #[command(subcommand)]
    Alias(alias::Command),
    Sign(sign::Args),
    History(history::Args),
    Pack(pack::Args),
    List(list::Args),
    Fetch(fetch::Args),
    Verify(verify::Args),
    #[command(subcommand)]
    Site(site::Command),
    #[command(subcommand)]
    Keys(keys::Command),
    Serve(serve::Args),
    #[command(subcommand)]
    Server(serve::Command),
    #[command(subcommand)]
    Org(org::Command),
    #[command(subcommand)]
    Token(token::Command),
    Demo(demo::Args),
    Completions(docs::CompletionsArgs),
    Man(docs::ManArgs),
    /// The sandbox's child: evaluates one job from stdin under resource limits
    /// ([`crate::sandbox`]); regis runs it, people do not.
    #[command(name = "sandbox-eval", hide = true)]
    SandboxEval,
}

/// What every command's exit status means, at the end of its `--help`.
pub const EXIT_CODES: &str = "Exit status:
  0  done (for `check`: no findings)
  1  refused, or findings (the request or the registry has a problem; the message names it)
  2  could not run: bad usage, a missing or unreadable file, a checkout, config or storage
     that cannot be opened";

/// The command line definition, each command's help ending with [`EXIT_CODES`].
pub fn command() -> clap::Command {
    fn with_exit_codes(command: clap::Command) -> clap::Command {
        command
            .after_long_help(EXIT_CODES)
            .mut_subcommands(with_exit_codes)
    }
    with_exit_codes(<Cli as clap::CommandFactory>::command())
}

/// `--color` as given, for clap's own help and usage errors, which are printed before
/// the options are parsed (`NO_COLOR` clap reads itself).
fn color_before_parsing() -> clap::ColorChoice {
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = match arg.strip_prefix("--color") {
            Some("") => args.next(),
            Some(rest) => rest.strip_prefix('=').map(str::to_owned),
            None => continue,
        };
        return match value.as_deref() {
            Some("always") => clap::ColorChoice::Always,
            Some("never") => clap::ColorChoice::Never,
            _ => clap::ColorChoice::Auto,
        };
    }
    clap::ColorChoice::Auto
}

/// Whether `--json` is given (before a `--`), for clap's usage errors, which are printed
/// before the options are parsed.
fn json_before_parsing() -> bool {
    std::env::args()
        .skip(1)
        .take_while(|arg| arg != "--")
        .any(|arg| arg == "--json")
}

/// A usage error of clap's (exit status 2), as JSON under `--json`; `--help` and
/// `--version` print their text whatever is given.
fn usage_error(e: clap::Error, as_json: bool) -> ! {
    if !(as_json && e.use_stderr()) {
        e.exit()
    }
    let rendered = e.render().to_string();
    let message = rendered.strip_prefix("error: ").unwrap_or(&rendered);
    let message = ["\n\nUsage:", "\n\nFor more information"]
        .iter()
        .fold(message, |m, end| m.split(end).next().unwrap_or(m));
    let error = json::ErrorOutput {
        message: message.trim_end().to_owned(),
        causes: Vec::new(),
    };
    output::stderr_json(&json::error_line(error, USAGE_ERROR));
    std::process::exit(i32::from(USAGE_ERROR))
}

/// The exit status of an error that kept the command from running, and of bad usage.
const USAGE_ERROR: u8 = 2;

/// An error that kept a command from running at all: exit status 2. Shown as the error it
/// wraps.
#[derive(Debug)]
pub(crate) struct CouldNotRun(pub anyhow::Error);

impl std::fmt::Display for CouldNotRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for CouldNotRun {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// `e` as an error that kept the command from running ([`CouldNotRun`]).
pub(crate) fn could_not_run(e: anyhow::Error) -> anyhow::Error {
    anyhow::Error::new(CouldNotRun(e))
}

/// The exit status for an error: 2 if something in its chain kept the command from
/// running, else 1.
pub(crate) fn exit_status_of(e: &anyhow::Error) -> u8 {
    if e.chain().any(|cause| cause.is::<CouldNotRun>()) {
        USAGE_ERROR
    } else {
        1
    }
}

/// Parse the arguments, run the subcommand, print the error chain on failure (a JSON line
/// under `--json`).
pub fn main() -> ExitCode {
    use clap::FromArgMatches as _;
    output::install_panic_hook();
    let as_json = json_before_parsing();
    // A panic or a usage error before the options are read is JSON too.
    output::configure(output::Verbosity::Normal, false, as_json);
    let color = match as_json {
        true => clap::ColorChoice::Never,
        false => color_before_parsing(),
    };
    let matches = command()
        .color(color)
        .try_get_matches()
        .unwrap_or_else(|e| usage_error(e, as_json));
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| usage_error(e, as_json));
    let verbosity = match (cli.global.quiet, cli.global.verbose) {
        (true, _) => output::Verbosity::Quiet,
        (false, true) => output::Verbosity::Verbose,
        (false, false) => output::Verbosity::Normal,
    };
    let as_json = cli.global.json;
    let color = !as_json && output::wants_color(cli.global.color);
    output::configure(verbosity, color, as_json);
    let started = std::time::Instant::now();
    let result = run(cli);
    verboseln!("took {:.2} s", started.elapsed().as_secs_f64());
    match result {
        Ok(code) => code,
        Err(e) => {
            let status = exit_status_of(&e);
            if as_json {
                output::stderr_json(&json::error_line(json::ErrorOutput::of_anyhow(&e), status));
            } else {
                errorln!("{}", error_chain(&e));
            }
            ExitCode::from(status)
        }
    }
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Init(a) => a.run(&cli.global),
        Command::Publish(a) => a.run(&cli.global),
        Command::Check(a) => a.run(&cli.global),
        Command::PackageSet(c) => c.run(&cli.global),
        Command::Daily(a) => a.run(&cli.global),
        Command::Gc(a) => a.run(&cli.global),
        Command::Storage(c) => c.run(&cli.global),
        Command::Solve(a) => a.run(&cli.global),
        Command::Transfer(a) => a.run(&cli.global),
        Command::ProcessIssue(a) => a.run(&cli.global),
        Command::Unpublish(a) => a.run(&cli.global),
        Command::Yank(a) => a.run(&cli.global),
        Command::Deprecate(a) => a.run(&cli.global),
        Command::Alias(c) => c.run(&cli.global),
        Command::Sign(a) => a.run(&cli.global),
        Command::History(a) => a.run(&cli.global),
        Command::Pack(a) => a.run(&cli.global),
        Command::List(a) => a.run(&cli.global),
        Command::Fetch(a) => a.run(&cli.global),
        Command::Verify(a) => a.run(&cli.global),
        Command::Site(c) => c.run(&cli.global),
        Command::Keys(c) => c.run(&cli.global),
        Command::Serve(a) => a.run(&cli.global),
        Command::Server(c) => c.run(&cli.global),
        Command::Org(c) => c.run(&cli.global),
        Command::Token(c) => c.run(&cli.global),
        Command::Demo(a) => a.run(&cli.global),
        Command::Completions(a) => a.run(&cli.global),
        Command::Man(a) => a.run(&cli.global),
        Command::SandboxEval => Ok(crate::sandbox::serve()),
    }
}

/// The version, with the commit and date it was built from when built from a git
/// checkout (`0.1.0 (1a2b3c4d5 2026-12-04)`; see build.rs).
pub fn version() -> &'static str {
    match option_env!("REGIS_COMMIT") {
        Some(commit) => {
            static VERSION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
            VERSION.get_or_init(|| format!("{} ({commit})", env!("CARGO_PKG_VERSION")))
        }
        None => env!("CARGO_PKG_VERSION"),
    }
}

/// An error and its causes joined by `: ` ([`crate::error_chain`]).
pub fn error_chain(e: &anyhow::Error) -> String {
    crate::error_chain(e.as_ref())
}

impl Global {
    /// The registry's config; a warning on stderr names the fields it lacks (a config
    /// written by an older regis), which take their defaults.
    pub fn config(&self) -> anyhow::Result<Config> {
        let loaded = Config::load_reporting(&self.registry).map_err(|e| could_not_run(e.into()))?;
        if let Some(warning) = loaded.warning(&self.registry) {
            warnln!("{warning}");
        }
        Ok(loaded.config)
    }

    /// `--index`, else the config's `index` relative to the registry.
    pub fn index_dir(&self, config: &Config) -> anyhow::Result<PathBuf> {
        self.dir_option(
            self.index.as_deref(),
            config.index.as_deref(),
            "index",
            "--index",
        )
    }

    /// `--storage`, else the config's `storage` (a directory relative to the registry, or
    /// a URL).
    pub fn storage_location(&self, config: &Config) -> anyhow::Result<crate::storage::Location> {
        match self.storage.as_deref().or(config.storage.as_deref()) {
            Some(text) => {
                let base = if self.storage.is_some() {
                    Path::new("")
                } else {
                    &self.registry
                };
                Ok(crate::storage::Location::parse(text, base))
            }
            None => anyhow::bail!(
                "no storage given: pass `--storage DIR|URL` or set `storage` in `{}`",
                self.registry.join(crate::config::CONFIG_FILE).display()
            ),
        }
    }

    /// The mirrors `--mirror` names, else the config's `mirrors` (a directory relative to
    /// the registry).
    pub fn mirror_locations(&self, config: &Config) -> Vec<crate::storage::Location> {
        if self.mirrors.is_empty() {
            (config.mirrors.iter())
                .map(|text| crate::storage::Location::parse(text, &self.registry))
                .collect()
        } else {
            (self.mirrors.iter())
                .map(|text| crate::storage::Location::parse(text, Path::new("")))
                .collect()
        }
    }

    /// The mirrors [`Global::mirror_locations`] names, opened; the n-th (from 1) reads its
    /// object store's variables as `REGIS_MIRROR<n>_AWS_…` first, then `AWS_…`.
    pub fn open_mirrors(
        &self,
        config: &Config,
    ) -> anyhow::Result<Vec<Box<dyn crate::storage::Storage>>> {
        open_mirrors(&self.mirror_locations(config))
    }

    /// Whether a storage is named, by `--storage` or the config.
    pub fn has_storage(&self, config: &Config) -> bool {
        self.storage.is_some() || config.storage.is_some()
    }

    /// The storage [`Global::storage_location`] names, opened.
    pub fn open_storage(
        &self,
        config: &Config,
    ) -> anyhow::Result<Box<dyn crate::storage::Storage>> {
        Ok(self.storage_location(config)?.open()?)
    }

    fn dir_option(
        &self,
        flag: Option<&Path>,
        configured: Option<&str>,
        field: &str,
        name: &str,
    ) -> anyhow::Result<PathBuf> {
        match (flag, configured) {
            (Some(p), _) => Ok(p.to_path_buf()),
            (None, Some(rel)) => Ok(self.registry.join(rel)),
            (None, None) => anyhow::bail!(
                "no {field} directory given: pass `{name} DIR` or set `{field}` in `{}`",
                self.registry.join(crate::config::CONFIG_FILE).display()
            ),
        }
    }
}

/// `mirrors`, opened; the n-th (from 1) reads its object store's variables as
/// `REGIS_MIRROR<n>_AWS_…` first, then `AWS_…`.
fn open_mirrors(
    mirrors: &[crate::storage::Location],
) -> anyhow::Result<Vec<Box<dyn crate::storage::Storage>>> {
    for location in mirrors {
        verboseln!("mirror `{location}`");
    }
    Ok(crate::operation::open_mirrors(mirrors)?)
}

/// The registry, index and storage named by the options, opened for an operation.
pub(crate) fn open(global: &Global) -> anyhow::Result<crate::operation::Opened> {
    open_with(global, global.config()?)
}

/// [`open`] with the config the caller already loaded.
pub(crate) fn open_with(
    global: &Global,
    config: Config,
) -> anyhow::Result<crate::operation::Opened> {
    let opened = || -> anyhow::Result<crate::operation::Opened> {
        let index = global.index_dir(&config)?;
        let location = global.storage_location(&config)?;
        verboseln!(
            "registry `{}`, index `{}`, storage `{location}`",
            global.registry.display(),
            index.display()
        );
        let mirrors = global.mirror_locations(&config);
        for location in &mirrors {
            verboseln!("mirror `{location}`");
        }
        Ok(crate::operation::Opened::open(
            config.clone(),
            &global.registry,
            &index,
            &location,
            &mirrors,
        )?)
    };
    opened().map_err(could_not_run)
}

/// Read a payload file (`-` for standard input); text around the JSON object is ignored.
pub(crate) fn read_payload(file: &Path) -> anyhow::Result<crate::payload::Operation> {
    let text = read_input(file)?;
    crate::payload::Operation::from_issue_body(&text)
        .with_context(|| format!("reading the payload in `{}`", file.display()))
}

/// The subcommand that runs a signed payload: `transfer`, `unpublish`, `yank` (an Unyank
/// too), `deprecate` or `alias run` (an Alias or an Unalias).
pub(crate) fn command_for(data: &crate::payload::AuthenticatedData) -> &'static str {
    use crate::payload::AuthenticatedData;
    match data {
        AuthenticatedData::Transfer(_) => "transfer",
        AuthenticatedData::Unpublish(_) => "unpublish",
        AuthenticatedData::Yank(_) | AuthenticatedData::Unyank(_) => "yank",
        AuthenticatedData::Deprecate(_) => "deprecate",
        AuthenticatedData::Alias(_) | AuthenticatedData::Unalias(_) => "alias run",
    }
}

/// The refusal of a signed payload `regis <command>` does not run: what `file` holds,
/// what the command `expects`, and the command that runs it.
pub(crate) fn other_signed_payload(
    file: &Path,
    data: &crate::payload::AuthenticatedData,
    command: &str,
    expects: &str,
) -> anyhow::Error {
    anyhow::anyhow!(
        "`{}` holds a signed {}: `regis {command}` expects {expects} (use `regis {}`)",
        file.display(),
        data.kind(),
        command_for(data)
    )
}

/// Read a payload file and require it to be a signed (Transfer, Unpublish, Yank, Unyank,
/// Deprecate, Alias or Unalias) payload.
pub(crate) fn read_authenticated(
    file: &Path,
) -> anyhow::Result<(
    crate::payload::Authenticated,
    crate::payload::AuthenticatedData,
)> {
    use crate::payload::Operation;
    match read_payload(file)? {
        Operation::Authenticated(signed) => {
            let data = signed
                .data()
                .with_context(|| format!("reading the signed payload in `{}`", file.display()))?;
            Ok((signed, data))
        }
        _ => anyhow::bail!(
            "`{}` does not hold a signed payload: expected `{{\"payload\": \"...\", \"signature\": \"...\"}}` as `regis sign` prints it",
            file.display()
        ),
    }
}

/// The largest payload regis reads, from a file or standard input. A payload is one small
/// JSON object; anything bigger is refused before it is read whole or parsed.
pub(crate) const PAYLOAD_MAX_BYTES: u64 = 1_000_000;

/// The largest GitHub Actions event file regis reads (an issue event is a few kilobytes,
/// its texts at most 65,536 characters each).
pub(crate) const EVENT_MAX_BYTES: u64 = 10_000_000;

/// How much of an oversized standard input is counted to say its size.
const STDIN_COUNT_MAX_BYTES: u64 = 1 << 30;

/// The text of a payload file, or of standard input for `-`, refused when it is larger
/// than [`PAYLOAD_MAX_BYTES`].
pub(crate) fn read_input(file: &Path) -> anyhow::Result<String> {
    if file == Path::new("-") {
        read_stdin(PAYLOAD_MAX_BYTES)
    } else {
        read_capped(file, PAYLOAD_MAX_BYTES)
    }
}

/// The text of `file`, refused (saying its size and the cap) when it has more than `max`
/// bytes, before more than `max` bytes are read.
pub(crate) fn read_capped(file: &Path, max: u64) -> anyhow::Result<String> {
    use std::io::Read as _;
    let too_big = |size: String| {
        anyhow::anyhow!(
            "`{}` is {size} bytes: expected at most {} bytes",
            file.display(),
            crate::text::thousands(max)
        )
    };
    let opened = std::fs::File::open(file)
        .with_context(|| format!("reading `{}`", file.display()))
        .map_err(could_not_run)?;
    let size = opened.metadata().map(|m| m.len()).unwrap_or(0);
    if size > max {
        return Err(too_big(crate::text::thousands(size)));
    }
    // A pipe or a device says 0 and may hold more: read one byte past the cap at most.
    let mut bytes = Vec::new();
    opened
        .take(max + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading `{}`", file.display()))?;
    if bytes.len() as u64 > max {
        return Err(too_big(format!(
            "more than {}",
            crate::text::thousands(max)
        )));
    }
    String::from_utf8(bytes)
        .with_context(|| format!("reading `{}`: not UTF-8 text", file.display()))
}

/// Standard input, refused (saying its size and the cap) when it has more than `max`
/// bytes; the rest of an oversized input is counted, not kept.
fn read_stdin(max: u64) -> anyhow::Result<String> {
    use std::io::Read as _;
    let context = "reading the payload from standard input";
    let mut stdin = std::io::stdin().lock();
    let mut bytes = Vec::new();
    (&mut stdin)
        .take(max + 1)
        .read_to_end(&mut bytes)
        .context(context)?;
    if bytes.len() as u64 > max {
        let rest = std::io::copy(
            &mut (&mut stdin).take(STDIN_COUNT_MAX_BYTES),
            &mut std::io::sink(),
        )
        .context(context)?;
        let total = bytes.len() as u64 + rest;
        let size = if rest == STDIN_COUNT_MAX_BYTES {
            format!("more than {}", crate::text::thousands(total))
        } else {
            crate::text::thousands(total)
        };
        bail!(
            "standard input is {size} bytes: expected a payload of at most {} bytes",
            crate::text::thousands(max)
        );
    }
    String::from_utf8(bytes).context("reading the payload from standard input: not UTF-8 text")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_valid() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
