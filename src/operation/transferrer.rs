//! The transferrer (part of the daily job): packages whose GitHub repository was renamed
//! or moved — GitHub answers a lookup of the registered owner/name with another one — get
//! their new location recorded as a Transfer signed by the registry bot.

use std::collections::BTreeMap;

use std::path::Path;

use crate::auth::{AuthError, SignatureFormat, SigningKey};
use crate::config::Config;
use crate::git::GitError;
use crate::github::{GitHub, GitHubError, RepoRef};
use crate::metadata::Metadata;
use crate::payload::{Authenticated, Transfer};
use crate::schema::{Location, PackageName, Timestamp};
use crate::store::{RegistryDir, StoreError};

use super::Context;
use super::authorize::{self, AuthorizeError};
use super::transfer::{self, TransferError, TransferReport};

/// A package GitHub reports under another owner/name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    pub name: PackageName,
    pub from: Location,
    pub to: Location,
}

/// What looking the packages up found.
#[derive(Debug, Default)]
pub struct Survey {
    pub moved: Vec<Moved>,
    /// Packages whose repository GitHub does not know (deleted or private).
    pub missing: Vec<(PackageName, Location)>,
    /// Packages GitHub could not be asked about (rate limit, network): tried again on the
    /// next run.
    pub failed: Vec<(PackageName, GitHubError)>,
    /// GitHub locations looked up.
    pub checked: usize,
}

/// Look every GitHub-hosted package up. A name that differs only in letter case is the
/// same repository (GitHub names are case-insensitive). A failed lookup is recorded and
/// the survey goes on.
pub fn survey(all: &BTreeMap<PackageName, Metadata>, github: &dyn GitHub) -> Survey {
    let mut out = Survey::default();
    for (name, metadata) in all {
        let Location::GitHub {
            owner,
            repo,
            subdir,
        } = &metadata.location
        else {
            continue;
        };
        out.checked += 1;
        let registered = RepoRef {
            owner: owner.clone(),
            name: repo.clone(),
        };
        match github.repository(&registered) {
            Err(e) => out.failed.push((name.clone(), e)),
            Ok(None) => out.missing.push((name.clone(), metadata.location.clone())),
            Ok(Some(now)) => {
                let to = Location::GitHub {
                    owner: now.owner,
                    repo: now.name,
                    subdir: subdir.clone(),
                };
                if !to.same_place(&metadata.location) {
                    out.moved.push(Moved {
                        name: name.clone(),
                        from: metadata.location.clone(),
                        to,
                    });
                }
            }
        }
    }
    out
}

/// Why the transferrer could not run, or a move could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum TransferrerError {
    #[error("could not sign the transfer of `{name}` with the bot key")]
    Sign {
        name: PackageName,
        #[source]
        cause: AuthError,
    },
    #[error(transparent)]
    Transfer(#[from] TransferError),
    #[error("syncing the registry repo")]
    Sync(#[source] GitError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot sign the transfers of the {moved} moved package(s)")]
    NoBotKey {
        moved: usize,
        #[source]
        cause: AuthorizeError,
    },
}

/// What a run of the transferrer did.
#[derive(Debug)]
pub struct Run {
    pub survey: Survey,
    pub recorded: Recorded,
}

/// What became of the moves a survey found.
#[derive(Debug)]
pub enum Recorded {
    /// A dry run: nothing written.
    DryRun,
    /// Each move and whether its transfer was recorded.
    Moves(Vec<(Moved, Result<TransferReport, TransferrerError>)>),
    /// The moves could not be signed ([`TransferrerError::NoBotKey`]).
    Unsigned(TransferrerError),
}

impl Run {
    /// True when every package could be looked up and every move was recorded.
    pub fn all_ok(&self) -> bool {
        self.survey.failed.is_empty()
            && match &self.recorded {
                Recorded::DryRun => true,
                Recorded::Moves(moves) => moves.iter().all(|(_, result)| result.is_ok()),
                Recorded::Unsigned(_) => false,
            }
    }
}

/// The transferrer of the daily job: look every GitHub-hosted package of the registry up
/// and record the moves as transfers signed with the bot key (`bot_pem`, the private key
/// the variable `botKeyEnv` names). With `write` = `None` (a dry run) the registry
/// working tree at `registry_dir` is read as it is and nothing is written; otherwise the
/// registry repo is synced first.
pub fn run(
    config: &Config,
    registry_dir: &Path,
    write: Option<&Context<'_>>,
    github: &dyn GitHub,
    bot_pem: Option<&str>,
) -> Result<Run, TransferrerError> {
    if let Some(ctx) = write {
        ctx.registry.sync().map_err(TransferrerError::Sync)?;
    }
    let all = RegistryDir::new(registry_dir).all_metadata()?;
    let survey = survey(&all, github);
    let recorded = match write {
        None => Recorded::DryRun,
        Some(_) if survey.moved.is_empty() => Recorded::Moves(vec![]),
        Some(ctx) => match authorize::bot_key(config, bot_pem) {
            Err(cause) => Recorded::Unsigned(TransferrerError::NoBotKey {
                moved: survey.moved.len(),
                cause,
            }),
            Ok(bot) => Recorded::Moves(record(ctx, &survey.moved, &bot)),
        },
    };
    Ok(Run { survey, recorded })
}

/// The Transfer payload the bot signs for a move, signed at `now`: canonical compact JSON.
/// A repository renamed back and forth is moved by a new text each time (a signed text is
/// carried out once).
pub fn signed_transfer(
    moved: &Moved,
    bot: &SigningKey,
    namespace: &str,
    now: Timestamp,
) -> Result<Authenticated, TransferrerError> {
    let request = Transfer {
        name: moved.name.clone(),
        new_location: moved.to.clone(),
        signed_at: Some(now),
    };
    let payload = serde_json::to_string(&request).expect("a Transfer serializes");
    let signature = bot
        .sign(&payload, SignatureFormat::Raw, namespace)
        .map_err(|cause| TransferrerError::Sign {
            name: moved.name.clone(),
            cause,
        })?;
    Ok(Authenticated { payload, signature })
}

/// Record each move as a bot-signed Transfer; one failure does not stop the others.
pub fn record(
    ctx: &Context<'_>,
    moves: &[Moved],
    bot: &SigningKey,
) -> Vec<(Moved, Result<TransferReport, TransferrerError>)> {
    moves
        .iter()
        .map(|moved| {
            let result = signed_transfer(moved, bot, &ctx.config.signature_namespace, ctx.now)
                .and_then(|signed| Ok(transfer::transfer(ctx, &signed)?));
            (moved.clone(), result)
        })
        .collect()
}
