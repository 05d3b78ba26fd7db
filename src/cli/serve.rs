//! `regis serve`: the PureScript Registry's HTTP API over a durable job queue, and `regis
//! server init`, a server's home with its registries.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use crate::server;

use super::Global;
use super::output::{noteln, outln, warnln};

/// The server's home directory: `regis-server.dhall`, `private/` (the database, keys) and
/// the registries.
#[derive(Debug, Clone, clap::Args)]
pub struct HomeArg {
    /// The server's home directory (made by `regis server init`).
    #[arg(
        long,
        env = "REGIS_SERVER_HOME",
        default_value = ".",
        value_name = "DIR"
    )]
    pub home: PathBuf,
}

impl HomeArg {
    /// The server's home, loaded and checked ([`server::load`]); a home that cannot be
    /// loaded means the command could not run.
    pub fn load(&self) -> anyhow::Result<server::Server> {
        server::load(&self.home).map_err(|e| super::could_not_run(e.into()))
    }

    /// [`HomeArg::load`], and its database opened (one that cannot be opened means the
    /// command could not run).
    pub fn open(&self) -> anyhow::Result<(server::Server, server::db::Db)> {
        let server = self.load()?;
        let db = (server.home.open_db()).map_err(|e| super::could_not_run(e.into()))?;
        Ok((server, db))
    }
}

/// Only one served registry's (`name` in regis-server.dhall).
#[derive(Debug, Clone, clap::Args)]
pub struct OnlyIn {
    /// Only this registry's.
    #[arg(long = "in", id = "in_registry", value_name = "REGISTRY")]
    pub served: Option<String>,
}

impl OnlyIn {
    /// The registry named, when one is: a registry the server lacks is refused, not
    /// listed as having nothing.
    pub fn checked(&self, server: &server::Server) -> anyhow::Result<Option<&str>> {
        if self.served.is_some() {
            let named = super::org::InArg {
                served: self.served.clone(),
            };
            named.resolve(server)?;
        }
        Ok(self.served.as_deref())
    }
}

/// Serve the registries of a server's home over HTTP.
///
/// The PureScript Registry's API for the default registry under `/api/v1/` — `POST
/// publish`, `unpublish`, `transfer`, `package-sets` (bodies: the payloads an issue
/// carries), `GET jobs`, `GET jobs/{id}` (status and logs) — and for every registry under
/// `/registries/<name>/api/v1/`, plus regis's `POST yank`, `deprecate` and `alias` and `GET packages/{name}/{tag}`, and each
/// registry's storage under `/registries/<name>/static/`. Every `POST` needs an API token
/// (`Authorization: Bearer …`, from `regis token create`).
///
/// An accepted job is in the database (`private/regis.sqlite`) before the answer is sent,
/// and runs even if the server is killed first: a restart queues again what was left
/// running. Each registry runs its jobs one at a time, through the operations the batch
/// binary runs. Prints `listening on http://ADDR` once it listens.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub home: HomeArg,
    /// The address to listen on (port 0: any free port, printed).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub listen: SocketAddr,
}

/// What `serve --json` prints once it listens.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Listening {
    listening: String,
    registries: Vec<String>,
    default_registry: String,
}

impl Args {
    pub fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        let server = self.home.load()?;
        let listening = |addr: SocketAddr| Listening {
            listening: format!("http://{addr}"),
            registries: server.registries.iter().map(|r| r.name.clone()).collect(),
            default_registry: server.registries[server.default].name.clone(),
        };
        let names = listening(self.listen);
        let json = global.json;
        let say: server::Say = Arc::new(|message| warnln!("{message}"));
        server::serve(server, self.listen, say, move |addr| {
            let listening = Listening {
                listening: format!("http://{addr}"),
                ..names
            };
            if json {
                let _ = super::json::print(&listening);
            } else {
                outln!("listening on {}", listening.listening);
                noteln!(
                    "registries: {} (the default, under /api/v1/: `{}`)",
                    listening.registries.join(", "),
                    listening.default_registry
                );
            }
        })
        .map_err(|e| super::could_not_run(e.into()))?;
        Ok(ExitCode::SUCCESS)
    }
}

/// A server's home.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    Init(InitArgs),
}

/// Make a server's home: `regis-server.dhall`, `private/` (mode 0700) with the database,
/// and a registry laid down as `regis init` does for each `--name`, under
/// `registries/<name>/`.
///
/// The config starts with `https` locations only and a quota of 600 jobs per token per
/// hour; edit `regis-server.dhall` to change them. A registry's keys (`regis keys init
/// --out DIR`) belong in `private/`, never in its storage, which is served.
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// A new or empty directory.
    pub dir: PathBuf,
    /// A registry to lay down (repeat for more; the first is the default).
    #[arg(long = "name", value_name = "NAME", default_value = "main")]
    pub names: Vec<String>,
}

/// What `server init --json` prints.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Initialized {
    home: PathBuf,
    config: PathBuf,
    database: PathBuf,
    registries: Vec<InitializedRegistry>,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct InitializedRegistry {
    name: String,
    registry: PathBuf,
    index: PathBuf,
    storage: String,
}

impl Command {
    pub fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        match self {
            Command::Init(args) => args.run(global),
        }
    }
}

impl InitArgs {
    fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        let install = crate::init::RegisInstall::this_build(None)?;
        let server = server::init(&self.dir, &self.names, &install)?;
        let output = Initialized {
            home: server.home.root().to_path_buf(),
            config: server.home.config(),
            database: server.home.db(),
            registries: (server.registries.iter())
                .map(|r| InitializedRegistry {
                    name: r.name.clone(),
                    registry: r.registry.clone(),
                    index: r.index.clone(),
                    storage: r.storage.to_string(),
                })
                .collect(),
        };
        if global.json {
            super::json::print(&output)?;
            return Ok(ExitCode::SUCCESS);
        }
        outln!("server home `{}`", output.home.display());
        outln!("  config    {}", output.config.display());
        outln!("  database  {}", output.database.display());
        for r in &output.registries {
            outln!("  registry `{}`: {}", r.name, r.registry.display());
        }
        outln!(
            "Make tokens with `regis token create --home {} --scope publish`, then `regis serve --home {}`.",
            output.home.display(),
            output.home.display()
        );
        Ok(ExitCode::SUCCESS)
    }
}
