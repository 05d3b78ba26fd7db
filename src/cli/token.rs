//! `regis token`: a server's API tokens.

use std::process::ExitCode;

use crate::schema::Timestamp;
use crate::server::{self, access};

use super::Global;
use super::org::InArg;
use super::output::{noteln, outln};
use super::serve::{HomeArg, OnlyIn};

/// API tokens: random, shown once, stored as their hash, scoped, expiring, revocable.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    Create(CreateArgs),
    List(ListArgs),
    Revoke(RevokeArgs),
}

/// Make a token, for a registry or for a member of one of its organizations; it is
/// printed once and only its SHA-256 kept.
///
/// Scopes: `publish` (publish, alias, deprecate, package set additions and upgrades),
/// `unpublish` (unpublish, yank, unyank), `transfer`, `admin` (everything, names under
/// any organization's prefix, a trustee's package set changes). An organization's token
/// works while its member stays in the organization; it may publish under the
/// organization's prefixes and names no organization reserves.
#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    #[command(flatten)]
    pub home: HomeArg,
    #[command(flatten)]
    pub served: InArg,
    /// What it may do (repeat for more).
    #[arg(long = "scope", value_name = "SCOPE", required = true)]
    pub scopes: Vec<String>,
    /// Make it an organization's token…
    #[arg(long, value_name = "ORG", requires = "member")]
    pub org: Option<String>,
    /// …of this member.
    #[arg(long, value_name = "LOGIN", requires = "org")]
    pub member: Option<String>,
    /// A note saying what it is for.
    #[arg(long, default_value = "")]
    pub label: String,
    /// Days until it expires.
    #[arg(long, value_name = "DAYS", default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub expires_in_days: u32,
}

/// List the tokens (never the tokens themselves): id, scopes, expiry, revocation, and the
/// jobs counted against each this hour.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub home: HomeArg,
    #[command(flatten)]
    pub only: OnlyIn,
}

/// Revoke a token by its id (`tok_…`): it is refused from then on.
#[derive(Debug, clap::Args)]
pub struct RevokeArgs {
    pub id: String,
    #[command(flatten)]
    pub home: HomeArg,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Created<'a> {
    token: &'a str,
    #[serde(flatten)]
    info: &'a access::TokenInfo,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Listed {
    tokens: Vec<ListedToken>,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ListedToken {
    #[serde(flatten)]
    info: access::TokenInfo,
    operations_this_hour: u64,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Revoked<'a> {
    revoked: &'a access::TokenInfo,
}

fn describe(t: &access::TokenInfo) -> String {
    let scopes: Vec<_> = t.scopes.iter().map(|s| s.as_str()).collect();
    let whose = match (&t.org, &t.member) {
        (Some(org), Some(member)) => format!("`{member}` of organization `{org}` in"),
        _ => "registry".to_owned(),
    };
    format!(
        "{} ({}) for {whose} `{}`, expires {}{}",
        t.id,
        scopes.join(", "),
        t.registry,
        t.expires_at,
        match t.revoked_at {
            Some(at) => format!(", revoked {at}"),
            None => String::new(),
        }
    )
}

impl Command {
    pub fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        let now = Timestamp::now();
        match self {
            Command::Create(a) => {
                let (server, mut db) = a.home.open()?;
                let registry = a.served.resolve(&server)?;
                let scopes = (a.scopes.iter())
                    .map(|s| {
                        access::Scope::parse(s).ok_or_else(|| access::AccessError::BadScope {
                            scope: crate::text::echo(s).to_string(),
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let expires_at = Timestamp::from_datetime(
                    now.as_datetime() + chrono::Duration::days(i64::from(a.expires_in_days)),
                );
                let request = access::TokenRequest {
                    registry,
                    org: a.org.zip(a.member),
                    scopes,
                    label: a.label,
                    expires_at,
                };
                let made = access::create_token(&mut db, &request, now)?;
                if global.json {
                    super::json::print(&Created {
                        token: made.secret.reveal(),
                        info: &made.info,
                    })?;
                } else {
                    outln!("{}", made.secret.reveal());
                    noteln!(
                        "token {}: shown this once, only its hash is kept",
                        describe(&made.info)
                    );
                }
            }
            Command::List(a) => {
                let (server, db) = a.home.open()?;
                let mut tokens = Vec::new();
                for info in access::list_tokens(&db, a.only.checked(&server)?)? {
                    let operations_this_hour = server::quota::token_usage(&db, &info.id, now)?;
                    tokens.push(ListedToken {
                        info,
                        operations_this_hour,
                    });
                }
                if global.json {
                    super::json::print(&Listed { tokens })?;
                } else if tokens.is_empty() {
                    outln!("no tokens");
                } else {
                    for t in &tokens {
                        outln!(
                            "{}; {} job(s) this hour{}",
                            describe(&t.info),
                            t.operations_this_hour,
                            if t.info.label.is_empty() {
                                String::new()
                            } else {
                                format!("; {}", t.info.label)
                            }
                        );
                    }
                }
            }
            Command::Revoke(a) => {
                let (_, mut db) = a.home.open()?;
                let info = access::revoke_token(&mut db, &a.id, now)?;
                if global.json {
                    super::json::print(&Revoked { revoked: &info })?;
                } else {
                    outln!("revoked {}", describe(&info));
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}
