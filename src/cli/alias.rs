//! `regis alias set NAME TAG VERSION`, `regis alias rm NAME TAG`: sign an Alias or an
//! Unalias with an owner's key and run it; `regis alias run FILE`: run one signed already.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::operation::alias::{self, AliasReport};
use crate::operation::report;
use crate::payload::{Alias, Authenticated, AuthenticatedData, Unalias};
use crate::schema::{PackageName, Tag, Timestamp, Version};

use super::Global;
use super::output::out;
use super::sign::Signing;

/// Tags: names that point at one published version of a package (`latest`, `next`, …, as
/// npm's dist-tags), so that `NAME@TAG` names it in `regis solve` and `regis fetch`.
///
/// A tag is set and removed by a signed Alias `{name, alias, version}` or Unalias `{name,
/// unalias}`, by an owner of the package or a trustee, at any time; only the package's
/// metadata changes (`aliases`). A tag is 1 to 64 lowercase ASCII letters, digits, `-`, `.`
/// and `_`, a letter first, and never a version. It names a published version that is not
/// yanked (a version yanked later keeps its tags); an unpublish removes the tags naming the
/// version. `latest`, unless set, names the newest version that is published and not
/// yanked.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    Set(SetArgs),
    Rm(RmArgs),
    Run(RunArgs),
}

/// Point a tag at a version (moving it when it names another): sign an Alias with `--key`
/// and run it on the registry.
///
/// What is signed is the Alias's canonical JSON with `signedAt` the time of signing, as
/// `regis sign alias` signs it; to ask through an issue instead, paste what that prints.
#[derive(Debug, clap::Args)]
pub struct SetArgs {
    /// The package.
    #[arg(value_name = "NAME")]
    pub name: PackageName,
    /// The tag, e.g. `next`.
    #[arg(value_name = "TAG")]
    pub tag: Tag,
    /// The published version it names.
    #[arg(value_name = "VERSION")]
    pub target: Version,
    #[command(flatten)]
    pub signing: Signing,
}

/// Remove a tag: sign an Unalias with `--key` and run it on the registry.
#[derive(Debug, clap::Args)]
pub struct RmArgs {
    /// The package.
    #[arg(value_name = "NAME")]
    pub name: PackageName,
    /// The tag to remove.
    #[arg(value_name = "TAG")]
    pub tag: Tag,
    #[command(flatten)]
    pub signing: Signing,
}

/// Run a signed Alias or Unalias payload.
///
/// The payload is `{"payload": "<Alias or Unalias JSON>", "signature": "..."}` as `regis
/// sign alias` or `regis sign unalias` prints it, signed by an owner of the package or a
/// trustee.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The payload file (`-` for standard input); text around the JSON object is ignored.
    pub file: PathBuf,
}

impl Command {
    pub fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        let (signed, what) = match self {
            Command::Set(a) => {
                let data = AuthenticatedData::Alias(Alias {
                    name: a.name,
                    alias: a.tag,
                    version: a.target,
                    signed_at: Some(Timestamp::now()),
                });
                (a.signing.sign(data.canonical(), global)?, describe(&data))
            }
            Command::Rm(a) => {
                let data = AuthenticatedData::Unalias(Unalias {
                    name: a.name,
                    unalias: a.tag,
                    signed_at: Some(Timestamp::now()),
                });
                (a.signing.sign(data.canonical(), global)?, describe(&data))
            }
            Command::Run(a) => read(&a.file)?,
        };
        let opened = super::open(global)?;
        let report = alias::alias(&opened.ctx(), &signed).with_context(|| what)?;
        print(global, &report)
    }
}

/// What could not be done, for the error's context: `could not alias `aff@next` to
/// `2.0.0``.
fn describe(data: &AuthenticatedData) -> String {
    match data {
        AuthenticatedData::Alias(a) => format!(
            "could not alias `{}@{}` to `{}`",
            a.name, a.alias, a.version
        ),
        AuthenticatedData::Unalias(u) => {
            format!("could not remove the alias `{}@{}`", u.name, u.unalias)
        }
        other => format!("could not run {}", other.describe()),
    }
}

/// The signed Alias or Unalias in `file`, and what it asks for.
fn read(file: &std::path::Path) -> anyhow::Result<(Authenticated, String)> {
    let (signed, data) = super::read_authenticated(file)?;
    match &data {
        AuthenticatedData::Alias(_) | AuthenticatedData::Unalias(_) => {
            let what = describe(&data);
            Ok((signed, what))
        }
        other => Err(super::other_signed_payload(
            file,
            other,
            "alias run",
            "a signed Alias `{name, alias, version}` or Unalias `{name, unalias}`",
        )),
    }
}

fn print(global: &Global, report: &AliasReport) -> anyhow::Result<ExitCode> {
    if global.json {
        super::json::print(&super::json::AliasOutput::from(report))?;
    } else {
        out!("{}", report::alias(report));
    }
    Ok(ExitCode::SUCCESS)
}
