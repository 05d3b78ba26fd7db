//! `regis org`: a server's organizations, the name prefixes they reserve and their members.

use std::process::ExitCode;

use crate::server::{self, access};

use super::Global;
use super::output::outln;
use super::serve::{HomeArg, OnlyIn};

/// Organizations: name prefixes only their members may publish under.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    Create(CreateArgs),
    Add(MemberArgs),
    Remove(MemberArgs),
    List(ListArgs),
}

/// Which served registry (`name` in regis-server.dhall).
#[derive(Debug, Clone, clap::Args)]
pub struct InArg {
    /// The registry, by its name in `regis-server.dhall` [default: the default registry].
    #[arg(long = "in", id = "in_registry", value_name = "REGISTRY")]
    pub served: Option<String>,
}

impl InArg {
    /// The registry named, checked against the server's config.
    pub fn resolve(&self, server: &server::Server) -> anyhow::Result<String> {
        match &self.served {
            None => Ok(server.registries[server.default].name.clone()),
            Some(name) if server.registry(name).is_some() => Ok(name.clone()),
            Some(name) => {
                let names: Vec<_> = server
                    .registries
                    .iter()
                    .map(|r| format!("`{}`", r.name))
                    .collect();
                anyhow::bail!(
                    "`--in {}`: the server has no such registry (it has {})",
                    crate::text::value(name),
                    names.join(", ")
                )
            }
        }
    }
}

/// Create an organization reserving name prefixes in one registry.
///
/// A package whose name starts with one of its prefixes (each ends with `-`: `acme-`) is
/// published through the API only with a token of one of its members (`regis token create
/// --org ORG --member LOGIN`) or a registry token with the `admin` scope. Prefixes of two
/// organizations may not overlap.
#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// The organization's name (lowercase letters, digits, `-`).
    pub org: String,
    #[command(flatten)]
    pub home: HomeArg,
    #[command(flatten)]
    pub served: InArg,
    /// A name prefix it reserves, ending with `-` (repeat for more).
    #[arg(long = "prefix", value_name = "PREFIX", required = true)]
    pub prefixes: Vec<String>,
    /// A member (repeat for more).
    #[arg(long = "member", value_name = "LOGIN")]
    pub members: Vec<String>,
    /// Its byte quota, in place of the server's `organizationBytes`.
    #[arg(long, value_name = "BYTES")]
    pub bytes_max: Option<u64>,
    /// Its quota of jobs per hour, in place of `organizationOperationsPerHour`.
    #[arg(long, value_name = "N")]
    pub operations_per_hour: Option<u64>,
}

/// Add a member to an organization, or remove one (their organization tokens stop
/// working at once).
#[derive(Debug, clap::Args)]
pub struct MemberArgs {
    pub org: String,
    pub member: String,
    #[command(flatten)]
    pub home: HomeArg,
    #[command(flatten)]
    pub served: InArg,
}

/// List the organizations, their prefixes, members and quotas.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub home: HomeArg,
    #[command(flatten)]
    pub only: OnlyIn,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct OrgOutput<'a> {
    org: &'a access::Org,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct MemberOutput<'a> {
    registry: &'a str,
    org: &'a str,
    member: &'a str,
    changed: bool,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct OrgsOutput {
    orgs: Vec<access::Org>,
}

fn print_org(org: &access::Org) {
    outln!(
        "{} (registry `{}`): prefixes {}; members {}",
        org.name,
        org.registry,
        org.prefixes.join(", "),
        if org.members.is_empty() {
            "none".to_owned()
        } else {
            org.members.join(", ")
        }
    );
    if let Some(bytes) = org.bytes_max {
        outln!("  bytes quota {}", crate::text::thousands(bytes));
    }
    if let Some(n) = org.operations_per_hour {
        outln!("  jobs per hour {}", crate::text::thousands(n));
    }
}

impl Command {
    pub fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        let now = crate::schema::Timestamp::now();
        match self {
            Command::Create(a) => {
                let (server, mut db) = a.home.open()?;
                let registry = a.served.resolve(&server)?;
                let org = access::Org {
                    registry,
                    name: a.org,
                    prefixes: a.prefixes,
                    members: a.members,
                    bytes_max: a.bytes_max,
                    operations_per_hour: a.operations_per_hour,
                };
                access::create_org(&mut db, &org, now)?;
                let org = access::org(&db, &org.registry, &org.name)?;
                if global.json {
                    super::json::print(&OrgOutput { org: &org })?;
                } else {
                    print_org(&org);
                }
            }
            Command::Add(a) => member(global, a, true, now)?,
            Command::Remove(a) => member(global, a, false, now)?,
            Command::List(a) => {
                let (server, db) = a.home.open()?;
                let orgs = access::list_orgs(&db, a.only.checked(&server)?)?;
                if global.json {
                    super::json::print(&OrgsOutput { orgs })?;
                } else if orgs.is_empty() {
                    outln!("no organizations");
                } else {
                    orgs.iter().for_each(print_org);
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}

fn member(
    global: &Global,
    a: MemberArgs,
    add: bool,
    now: crate::schema::Timestamp,
) -> anyhow::Result<()> {
    let (server, mut db) = a.home.open()?;
    let registry = a.served.resolve(&server)?;
    let changed = if add {
        access::add_member(&mut db, &registry, &a.org, &a.member, now)?
    } else {
        access::remove_member(&mut db, &registry, &a.org, &a.member)?;
        true
    };
    if global.json {
        super::json::print(&MemberOutput {
            registry: &registry,
            org: &a.org,
            member: &a.member,
            changed,
        })?;
    } else if add && !changed {
        outln!("`{}` is a member of `{}` already", a.member, a.org);
    } else if add {
        outln!("added `{}` to `{}`", a.member, a.org);
    } else {
        outln!(
            "removed `{}` from `{}`: their tokens of `{}` no longer work",
            a.member,
            a.org,
            a.org
        );
    }
    Ok(())
}
