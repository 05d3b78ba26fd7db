//! The transferrer (part of the daily job): packages whose GitHub repository was renamed
//! or moved — GitHub answers a lookup of the registered owner/name with another one — get
//! their new location recorded as a Transfer signed by the registry bot.

use std::collections::BTreeMap;

use crate::auth::{AuthError, SignatureFormat, SigningKey};
use crate::github::{GitHub, GitHubError, RepoRef};
use crate::metadata::Metadata;
use crate::payload::{Authenticated, Transfer};
use crate::schema::{Location, PackageName};

use super::Context;
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

/// Why a move could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum TransferrerError {
    #[error("could not sign the transfer of `{name}` with the bot key: {cause}")]
    Sign { name: PackageName, cause: AuthError },
    #[error(transparent)]
    Transfer(#[from] TransferError),
}

/// The Transfer payload the bot signs for a move: canonical compact JSON.
pub fn signed_transfer(
    moved: &Moved,
    bot: &SigningKey,
    namespace: &str,
) -> Result<Authenticated, TransferrerError> {
    let request = Transfer {
        name: moved.name.clone(),
        new_location: moved.to.clone(),
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
            let result = signed_transfer(moved, bot, &ctx.config.signature_namespace)
                .and_then(|signed| Ok(transfer::transfer(ctx, &signed)?));
            (moved.clone(), result)
        })
        .collect()
}
