//! Quotas: bytes stored per package and per organization, and operations accepted per
//! hour per token and per organization.
//!
//! Operations are counted in the database in the hour (UTC, from the epoch) a job is
//! accepted, in the transaction that accepts it, so a restart resets nothing and a refusal
//! can say when the hour ends. Bytes are not counted anywhere of their own: they are the
//! sizes metadata records for the published versions (of the package; of every package
//! under the organization's prefixes), read when a release is packed and before it is
//! stored ([`ByteQuota`], the publish's [`Admit`]), so the registry's own files are the
//! count and an unpublish frees its bytes at once.

use std::fmt::Write as _;

use super::access::{Org, TokenInfo};
use super::db::{self, Db, DbError};
use crate::operation::publish::Admit;
use crate::schema::{PackageName, Timestamp, Version};
use crate::store::RegistryDir;

/// The server's quotas (`quotas` in `regis-server.dhall`); `None` is no limit.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Quotas {
    pub package_bytes: Option<u64>,
    pub organization_bytes: Option<u64>,
    pub token_operations_per_hour: Option<u64>,
    pub organization_operations_per_hour: Option<u64>,
}

/// A quota a request would go over: which, its use, its limit, and when it frees.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.message())]
pub struct Exceeded {
    /// `operations per hour of token tok_…`, `bytes of organization acme`, …
    pub quota: String,
    pub used: u64,
    pub limit: u64,
    /// When an hourly count starts again (`None`: bytes, which free only when versions are
    /// unpublished).
    pub resets_at: Option<Timestamp>,
    /// Seconds from the refusal to `resets_at`.
    pub retry_after: Option<u64>,
}

impl Exceeded {
    fn message(&self) -> String {
        let (used, limit) = (
            crate::text::thousands(self.used),
            crate::text::thousands(self.limit),
        );
        // An hourly count refuses when it is used up; bytes, when a release would go over.
        let mut text = match self.resets_at {
            Some(_) => format!("the quota of {} is used up: {used} of {limit}", self.quota),
            None => format!("the quota of {}: {used} of {limit} used", self.quota),
        };
        match self.resets_at {
            Some(at) => {
                let _ = write!(
                    text,
                    "; it resets at {at} (in {} s)",
                    self.retry_after.unwrap_or(0)
                );
            }
            None => text.push_str(
                "; it does not reset with time: unpublish versions, or ask for a larger quota",
            ),
        }
        text
    }
}

/// Hours since the epoch: the window operations are counted in.
pub fn hour_of(now: Timestamp) -> i64 {
    now.as_datetime().timestamp().div_euclid(3600)
}

fn hour_end(hour: i64) -> Timestamp {
    Timestamp::from_datetime(
        chrono::DateTime::from_timestamp((hour + 1) * 3600, 0).expect("an hour in range"),
    )
}

fn over(
    conn: &rusqlite::Connection,
    subject: &str,
    quota: String,
    limit: Option<u64>,
    now: Timestamp,
) -> Result<Option<Exceeded>, DbError> {
    let Some(limit) = limit else {
        return Ok(None);
    };
    let hour = hour_of(now);
    let used = db::usage(conn, subject, hour)?;
    if used < limit {
        return Ok(None);
    }
    let resets_at = hour_end(hour);
    let retry_after = (resets_at.as_datetime() - now.as_datetime())
        .num_seconds()
        .max(1) as u64;
    Ok(Some(Exceeded {
        quota,
        used,
        limit,
        resets_at: Some(resets_at),
        retry_after: Some(retry_after),
    }))
}

/// Check the hourly operations quotas of `token` (and its organization) and count one
/// operation against each, in `tx` (the transaction that accepts the job).
pub fn charge(
    tx: &rusqlite::Transaction<'_>,
    quotas: &Quotas,
    token: &TokenInfo,
    org: Option<&Org>,
    now: Timestamp,
) -> Result<Result<(), Exceeded>, DbError> {
    let token_subject = format!("token:{}", token.id);
    if let Some(exceeded) = over(
        tx,
        &token_subject,
        format!("operations per hour of token `{}`", token.id),
        quotas.token_operations_per_hour,
        now,
    )? {
        return Ok(Err(exceeded));
    }
    let org_subject = org.map(|o| format!("org:{}:{}", o.registry, o.name));
    if let (Some(org), Some(subject)) = (org, &org_subject) {
        let limit = org
            .operations_per_hour
            .or(quotas.organization_operations_per_hour);
        if let Some(exceeded) = over(
            tx,
            subject,
            format!("operations per hour of organization `{}`", org.name),
            limit,
            now,
        )? {
            return Ok(Err(exceeded));
        }
    }
    let hour = hour_of(now);
    db::count_usage(tx, &token_subject, hour)?;
    if let Some(subject) = &org_subject {
        db::count_usage(tx, subject, hour)?;
    }
    Ok(Ok(()))
}

/// The operations counted this hour against `token` (for `regis token list`).
pub fn token_usage(db: &Db, token: &str, now: Timestamp) -> Result<u64, DbError> {
    db::usage(db.conn(), &format!("token:{token}"), hour_of(now))
}

/// The byte quotas of one registry, held to a publish before it stores anything.
pub struct ByteQuota<'a> {
    pub quotas: &'a Quotas,
    pub registry: RegistryDir,
    pub registry_name: &'a str,
    pub db: &'a Db,
}

impl ByteQuota<'_> {
    fn published_bytes(&self, names: &[PackageName]) -> Result<u64, String> {
        let metadata = self
            .registry
            .metadata_of(names.iter())
            .map_err(|e| crate::error_chain(&e))?;
        Ok(metadata
            .values()
            .flat_map(|m| m.published.values())
            .map(|v| v.bytes)
            .sum())
    }

    /// Whether a release of `bytes` more would go over a byte quota (`Err`: the registry's
    /// files could not be read).
    pub fn check(&self, name: &PackageName, bytes: u64) -> Result<Result<(), Exceeded>, String> {
        // Bytes free only when versions are unpublished: no reset time.
        let over = |quota: String, used: u64, limit: u64| {
            (used + bytes > limit).then_some(Exceeded {
                quota,
                used,
                limit,
                resets_at: None,
                retry_after: None,
            })
        };
        if let Some(limit) = self.quotas.package_bytes {
            let used = self.published_bytes(std::slice::from_ref(name))?;
            if let Some(exceeded) = over(format!("bytes of package `{name}`"), used, limit) {
                return Ok(Err(exceeded));
            }
        }
        let Some(org) = org_of(self.db, self.registry_name, name)? else {
            return Ok(Ok(()));
        };
        let Some(limit) = org.bytes_max.or(self.quotas.organization_bytes) else {
            return Ok(Ok(()));
        };
        let names: Vec<PackageName> = (self.registry.metadata_files())
            .map_err(|e| crate::error_chain(&e))?
            .into_iter()
            .map(|(n, _)| n)
            .filter(|n| org.prefixes.iter().any(|p| n.as_str().starts_with(p)))
            .collect();
        let used = self.published_bytes(&names)?;
        match over(format!("bytes of organization `{}`", org.name), used, limit) {
            Some(exceeded) => Ok(Err(exceeded)),
            None => Ok(Ok(())),
        }
    }
}

impl Admit for ByteQuota<'_> {
    fn admit(&self, name: &PackageName, _: &Version, bytes: u64) -> Result<(), String> {
        match self.check(name, bytes)? {
            Ok(()) => Ok(()),
            Err(exceeded) => Err(format!(
                "its {} bytes would go over {exceeded}",
                crate::text::thousands(bytes)
            )),
        }
    }
}

/// The organization whose prefix reserves `name`, if one does.
pub fn org_of(db: &Db, registry: &str, name: &PackageName) -> Result<Option<Org>, String> {
    let reserved =
        super::access::reserved_by(db, registry, name).map_err(|e| crate::error_chain(&e))?;
    reserved
        .map(|(_, org)| super::access::org(db, registry, &org).map_err(|e| crate::error_chain(&e)))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::access::Scope;

    /// How many counts the database holds.
    fn counts(db: &Db) -> i64 {
        db.conn()
            .query_row("SELECT COUNT(*) FROM usage", [], |r| r.get(0))
            .unwrap()
    }

    fn token() -> TokenInfo {
        TokenInfo {
            id: "tok_1".into(),
            registry: "main".into(),
            org: Some("acme".into()),
            member: Some("alice".into()),
            scopes: vec![Scope::Publish],
            label: String::new(),
            created_at: "2026-12-04T12:00:00.000Z".parse().unwrap(),
            expires_at: "2027-12-04T12:00:00.000Z".parse().unwrap(),
            revoked_at: None,
        }
    }

    #[test]
    fn hourly_quotas_refuse_with_their_use_and_reset_in_the_next_hour() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Db::open(&dir.path().join("db")).unwrap();
        let quotas = Quotas {
            token_operations_per_hour: Some(5),
            organization_operations_per_hour: Some(3),
            ..Quotas::default()
        };
        let org = Org {
            registry: "main".into(),
            name: "acme".into(),
            prefixes: vec!["acme-".into()],
            members: vec!["alice".into()],
            bytes_max: None,
            operations_per_hour: None,
        };
        let now: Timestamp = "2026-12-04T12:59:30.000Z".parse().unwrap();
        for _ in 0..3 {
            db.write(|tx| charge(tx, &quotas, &token(), Some(&org), now))
                .unwrap()
                .unwrap();
        }
        let exceeded = db
            .write(|tx| charge(tx, &quotas, &token(), Some(&org), now))
            .unwrap()
            .unwrap_err();
        assert_eq!(
            exceeded.to_string(),
            "the quota of operations per hour of organization `acme` is used up: 3 of 3; it resets at 2026-12-04T13:00:00.000Z (in 30 s)"
        );
        assert_eq!(exceeded.retry_after, Some(30));
        // Without the organization, the token's own quota is the next to run out.
        for _ in 0..2 {
            db.write(|tx| charge(tx, &quotas, &token(), None, now))
                .unwrap()
                .unwrap();
        }
        let exceeded = db
            .write(|tx| charge(tx, &quotas, &token(), None, now))
            .unwrap()
            .unwrap_err();
        assert!(exceeded.quota.contains("token `tok_1`"), "{exceeded}");
        let next: Timestamp = "2026-12-04T13:00:00.000Z".parse().unwrap();
        db.write(|tx| charge(tx, &quotas, &token(), Some(&org), next))
            .unwrap()
            .unwrap();
        assert_eq!(token_usage(&db, "tok_1", next).unwrap(), 1);
        assert_eq!(counts(&db), 2, "the past hour's counts are dropped");
    }
}
