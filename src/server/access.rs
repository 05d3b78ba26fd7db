//! Who may do what through the API: organizations (name prefixes they reserve, their
//! members) and API tokens.
//!
//! A token is 32 random bytes shown once (`regis_` and 43 base64url characters); the
//! database keeps only its SHA-256, its id (`tok_` and 16 hex digits, what `regis token
//! list` and the logs name) and what it may do: the registry it is for, an organization
//! and member when it is an organization's, its scopes, when it expires and whether it was
//! revoked. A token of 256 random bits needs no slow hash: nothing about it can be guessed
//! from its SHA-256 (as crates.io and GitHub keep theirs). No message here quotes a token.
//!
//! An organization reserves name prefixes in one registry (`acme-`, as NuGet's reserved
//! ID prefixes): a name under one of them is published only with a token of one of the
//! organization's members, or a registry token with the `admin` scope. Names under no
//! prefix are open to every token with the `publish` scope.

use std::collections::BTreeSet;
use std::fmt;

use base64::Engine as _;
use rusqlite::{OptionalExtension, params};

use super::db::{Db, DbError, one, timestamp};
use crate::schema::{PackageName, Sha256, Timestamp};

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Publish; set and remove aliases; deprecate; add and upgrade package set members.
    Publish,
    /// Unpublish, yank and unyank.
    Unpublish,
    /// Transfer a package to a new location.
    Transfer,
    /// Everything, with a trustee's authority over package sets (compiler changes,
    /// removals), and names under any organization's prefix.
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 4] = [
        Scope::Publish,
        Scope::Unpublish,
        Scope::Transfer,
        Scope::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Publish => "publish",
            Scope::Unpublish => "unpublish",
            Scope::Transfer => "transfer",
            Scope::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an org, member, prefix or token cannot be made or changed as asked.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error(
        "organization name {name}: expected 1 to 64 lowercase ASCII letters, digits and `-`, starting with a letter"
    )]
    BadOrgName { name: String },
    #[error(
        "member {name}: expected 1 to 64 ASCII letters, digits, `-`, `_` and `.`, starting with a letter or digit (a login)"
    )]
    BadMember { name: String },
    #[error(
        "prefix {prefix}: expected 2 to 50 lowercase ASCII letters, digits and `-`, starting with a letter and ending with `-` (`acme-`), so that it reserves whole words"
    )]
    BadPrefix { prefix: String },
    #[error("scope {scope}: expected one of `publish`, `unpublish`, `transfer`, `admin`")]
    BadScope { scope: String },
    #[error("a token needs at least one scope (`--scope publish`, …)")]
    NoScope,
    #[error("organization `{org}` already exists in registry `{registry}`")]
    OrgExists { registry: String, org: String },
    #[error("registry `{registry}` has no organization `{org}`")]
    NoOrg { registry: String, org: String },
    #[error(
        "prefix `{prefix}` overlaps `{other}`, reserved by organization `{org}`: a name may be under one organization's prefixes only"
    )]
    PrefixTaken {
        prefix: String,
        other: String,
        org: String,
    },
    #[error("`{member}` is not a member of organization `{org}`")]
    NotAMember { org: String, member: String },
    #[error("no token `{id}`: `regis token list` shows the tokens there are")]
    NoToken { id: String },
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<rusqlite::Error> for AccessError {
    fn from(e: rusqlite::Error) -> Self {
        AccessError::Db(e.into())
    }
}

/// Why a request's token does not let it do what it asks. No variant holds the token.
#[derive(Debug, thiserror::Error)]
pub enum Denied {
    #[error(
        "no API token: send `Authorization: Bearer <token>` (a token is made with `regis token create`)"
    )]
    NoToken,
    #[error(
        "the `Authorization` header is not `Bearer regis_…`: expected `Authorization: Bearer <token>` with a token `regis token create` made"
    )]
    Malformed,
    #[error("the API token is not one this server issued (or it was mistyped)")]
    Unknown,
    #[error("token `{id}` expired at {at}: make a new one with `regis token create`")]
    Expired { id: String, at: Timestamp },
    #[error("token `{id}` was revoked at {at}")]
    Revoked { id: String, at: Timestamp },
    #[error("token `{id}` is for registry `{theirs}`, not `{registry}`")]
    OtherRegistry {
        id: String,
        theirs: String,
        registry: String,
    },
    #[error("token `{id}` lacks the `{needed}` scope (it has {has})")]
    Scope {
        id: String,
        needed: Scope,
        has: String,
    },
    #[error(
        "`{name}` is under the prefix `{prefix}` reserved by organization `{org}`: only its members publish there, and token `{id}` {whose}"
    )]
    Reserved {
        name: PackageName,
        prefix: String,
        org: String,
        id: String,
        whose: String,
    },
    #[error(
        "token `{id}` is `{member}`'s in organization `{org}`, and `{member}` is no longer a member"
    )]
    NotAMember {
        id: String,
        org: String,
        member: String,
    },
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<rusqlite::Error> for Denied {
    fn from(e: rusqlite::Error) -> Self {
        Denied::Db(e.into())
    }
}

/// A token as the database keeps it (never the token itself).
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenInfo {
    pub id: String,
    pub registry: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
    pub scopes: Vec<Scope>,
    pub label: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<Timestamp>,
}

impl TokenInfo {
    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope) || self.scopes.contains(&Scope::Admin)
    }

    fn scopes_text(&self) -> String {
        let names: Vec<_> = self.scopes.iter().map(|s| format!("`{s}`")).collect();
        names.join(", ")
    }
}

/// A token's secret: shown once, never logged (`Debug` hides it).
pub struct Secret(String);

impl Secret {
    /// The token, to show its owner once.
    pub fn reveal(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// What [`create_token`] made.
#[derive(Debug)]
pub struct NewToken {
    pub info: TokenInfo,
    pub secret: Secret,
}

/// What a token is made for.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub registry: String,
    /// An organization's token, of this member.
    pub org: Option<(String, String)>,
    pub scopes: Vec<Scope>,
    pub label: String,
    pub expires_at: Timestamp,
}

fn random_bytes<const N: usize>() -> [u8; N] {
    use aws_lc_rs::rand::SecureRandom as _;
    let mut bytes = [0u8; N];
    aws_lc_rs::rand::SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system's random source");
    bytes
}

/// A new random id, `<prefix>` and 16 hex digits.
pub(super) fn random_id(prefix: &str) -> String {
    format!("{prefix}{}", hex::encode(random_bytes::<8>()))
}

fn token_hash(token: &str) -> String {
    Sha256::of(token.as_bytes()).to_string()
}

const TOKEN_PREFIX: &str = "regis_";

/// Make a token; its secret is returned once and only its hash kept.
pub fn create_token(
    db: &mut Db,
    request: &TokenRequest,
    now: Timestamp,
) -> Result<NewToken, AccessError> {
    if request.scopes.is_empty() {
        return Err(AccessError::NoScope);
    }
    let scopes: BTreeSet<Scope> = request.scopes.iter().copied().collect();
    let secret = format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>())
    );
    let info = TokenInfo {
        id: random_id("tok_"),
        registry: request.registry.clone(),
        org: request.org.as_ref().map(|(org, _)| org.clone()),
        member: request.org.as_ref().map(|(_, member)| member.clone()),
        scopes: scopes.into_iter().collect(),
        label: request.label.clone(),
        created_at: now,
        expires_at: request.expires_at,
        revoked_at: None,
    };
    db.write(|tx| -> Result<(), AccessError> {
        if let Some((org, member)) = &request.org {
            require_member(tx, &request.registry, org, member)?;
        }
        tx.execute(
            "INSERT INTO tokens (id, hash, registry, org, member, scopes, label, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                info.id,
                token_hash(&secret),
                info.registry,
                info.org,
                info.member,
                info.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" "),
                info.label,
                info.created_at.to_string(),
                info.expires_at.to_string(),
            ],
        )?;
        Ok(())
    })?;
    Ok(NewToken {
        info,
        secret: Secret(secret),
    })
}

const TOKEN_COLUMNS: &str =
    "id, registry, org, member, scopes, label, created_at, expires_at, revoked_at";

fn token_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<[Option<String>; 9]> {
    Ok(std::array::from_fn(|i| r.get(i).ok().flatten()))
}

fn token_info(row: [Option<String>; 9]) -> Result<TokenInfo, DbError> {
    let [
        id,
        registry,
        org,
        member,
        scopes,
        label,
        created,
        expires,
        revoked,
    ] = row;
    let scopes = (scopes.unwrap_or_default().split(' '))
        .map(|s| {
            Scope::parse(s).ok_or_else(|| DbError::Corrupt {
                column: "tokens.scopes",
                value: s.to_owned(),
                expected: "a scope",
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(TokenInfo {
        id: id.unwrap_or_default(),
        registry: registry.unwrap_or_default(),
        org,
        member,
        scopes,
        label: label.unwrap_or_default(),
        created_at: timestamp("tokens.created_at", &created.unwrap_or_default())?,
        expires_at: timestamp("tokens.expires_at", &expires.unwrap_or_default())?,
        revoked_at: revoked
            .map(|t| timestamp("tokens.revoked_at", &t))
            .transpose()?,
    })
}

/// The tokens of `registry` (or every registry), oldest first.
pub fn list_tokens(db: &Db, registry: Option<&str>) -> Result<Vec<TokenInfo>, AccessError> {
    let mut stmt = db.conn().prepare(&format!(
        "SELECT {TOKEN_COLUMNS} FROM tokens WHERE ?1 IS NULL OR registry = ?1 ORDER BY created_at, id"
    ))?;
    let rows = stmt.query_map(params![registry], token_row)?;
    let mut tokens = Vec::new();
    for row in rows {
        tokens.push(token_info(row?)?);
    }
    Ok(tokens)
}

/// Revoke token `id` from `now` on; a token revoked already keeps its first time.
pub fn revoke_token(db: &mut Db, id: &str, now: Timestamp) -> Result<TokenInfo, AccessError> {
    db.write(|tx| {
        tx.execute(
            "UPDATE tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
            params![id, now.to_string()],
        )?;
        let row = tx
            .query_row(
                &format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE id = ?1"),
                params![id],
                token_row,
            )
            .optional()?;
        match row {
            Some(row) => Ok(token_info(row)?),
            None => Err(AccessError::NoToken { id: id.to_owned() }),
        }
    })
}

/// The token an `Authorization` header carries, checked: known, not expired, not revoked,
/// for `registry`, and (an organization's) of a member still in it.
pub fn authenticate(
    db: &Db,
    header: Option<&str>,
    registry: &str,
    now: Timestamp,
) -> Result<TokenInfo, Denied> {
    let header = header.ok_or(Denied::NoToken)?;
    let token = header
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| t.starts_with(TOKEN_PREFIX) && t.len() < 200)
        .ok_or(Denied::Malformed)?;
    let row = db
        .conn()
        .query_row(
            &format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE hash = ?1"),
            params![token_hash(token)],
            token_row,
        )
        .optional()?
        .ok_or(Denied::Unknown)?;
    let info = token_info(row)?;
    if let Some(at) = info.revoked_at {
        return Err(Denied::Revoked { id: info.id, at });
    }
    if info.expires_at <= now {
        return Err(Denied::Expired {
            id: info.id,
            at: info.expires_at,
        });
    }
    if info.registry != registry {
        return Err(Denied::OtherRegistry {
            id: info.id,
            theirs: info.registry,
            registry: registry.to_owned(),
        });
    }
    if let (Some(org), Some(member)) = (&info.org, &info.member)
        && !is_member(db.conn(), registry, org, member)?
    {
        return Err(Denied::NotAMember {
            id: info.id.clone(),
            org: org.clone(),
            member: member.clone(),
        });
    }
    Ok(info)
}

/// `token` has `scope` (or `admin`).
pub fn require_scope(token: &TokenInfo, scope: Scope) -> Result<(), Denied> {
    if token.has(scope) {
        return Ok(());
    }
    Err(Denied::Scope {
        id: token.id.clone(),
        needed: scope,
        has: token.scopes_text(),
    })
}

/// `token` may publish `name`: a name under an organization's prefix needs a token of
/// that organization (whose member [`authenticate`] checked) or an `admin` one.
pub fn require_name(
    db: &Db,
    registry: &str,
    token: &TokenInfo,
    name: &PackageName,
) -> Result<(), Denied> {
    let Some((prefix, org)) = reserved_by(db, registry, name)? else {
        return Ok(());
    };
    if token.has(Scope::Admin) || token.org.as_deref() == Some(org.as_str()) {
        return Ok(());
    }
    let whose = match (&token.org, &token.member) {
        (Some(other), Some(member)) => {
            format!("is `{member}`'s in organization `{other}`")
        }
        _ => "is a registry token without the `admin` scope".to_owned(),
    };
    Err(Denied::Reserved {
        name: name.clone(),
        prefix,
        org,
        id: token.id.clone(),
        whose,
    })
}

/// The prefix reserving `name` and its organization, if one does.
pub fn reserved_by(
    db: &Db,
    registry: &str,
    name: &PackageName,
) -> Result<Option<(String, String)>, DbError> {
    let mut stmt = db
        .conn()
        .prepare_cached("SELECT prefix, org FROM org_prefixes WHERE registry = ?1")?;
    let rows = stmt.query_map(params![registry], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    for row in rows {
        let (prefix, org) = row?;
        if name.as_str().starts_with(&prefix) {
            return Ok(Some((prefix, org)));
        }
    }
    Ok(None)
}

fn is_member(
    conn: &rusqlite::Connection,
    registry: &str,
    org: &str,
    member: &str,
) -> Result<bool, DbError> {
    Ok(one::<i64>(
        conn,
        "SELECT 1 FROM org_members WHERE registry = ?1 AND org = ?2 AND member = ?3",
        params![registry, org, member],
    )?
    .is_some())
}

fn require_org(conn: &rusqlite::Connection, registry: &str, org: &str) -> Result<(), AccessError> {
    let exists = one::<i64>(
        conn,
        "SELECT 1 FROM orgs WHERE registry = ?1 AND name = ?2",
        params![registry, org],
    )?
    .is_some();
    if !exists {
        return Err(AccessError::NoOrg {
            registry: registry.to_owned(),
            org: org.to_owned(),
        });
    }
    Ok(())
}

fn require_member(
    conn: &rusqlite::Connection,
    registry: &str,
    org: &str,
    member: &str,
) -> Result<(), AccessError> {
    require_org(conn, registry, org)?;
    if !is_member(conn, registry, org, member)? {
        return Err(AccessError::NotAMember {
            org: org.to_owned(),
            member: member.to_owned(),
        });
    }
    Ok(())
}

/// An organization as `regis org list` shows it.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Org {
    pub registry: String,
    pub name: String,
    pub prefixes: Vec<String>,
    pub members: Vec<String>,
    /// Its own byte quota, in place of the server's `organizationBytes`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_max: Option<u64>,
    /// Its own hourly operations quota, in place of `organizationOperationsPerHour`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operations_per_hour: Option<u64>,
}

fn check_org_name(name: &str) -> Result<(), AccessError> {
    let ok = (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    ok.then_some(()).ok_or_else(|| AccessError::BadOrgName {
        name: crate::text::echo(name).to_string(),
    })
}

fn check_member(name: &str) -> Result<(), AccessError> {
    let ok = (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    ok.then_some(()).ok_or_else(|| AccessError::BadMember {
        name: crate::text::echo(name).to_string(),
    })
}

fn check_prefix(prefix: &str) -> Result<(), AccessError> {
    let ok = (2..=50).contains(&prefix.len())
        && prefix.starts_with(|c: char| c.is_ascii_lowercase())
        && prefix.ends_with('-')
        && !prefix.contains("--")
        && prefix
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    ok.then_some(()).ok_or_else(|| AccessError::BadPrefix {
        prefix: crate::text::echo(prefix).to_string(),
    })
}

/// Create organization `name` in `registry`, reserving `prefixes`.
pub fn create_org(db: &mut Db, org: &Org, now: Timestamp) -> Result<(), AccessError> {
    check_org_name(&org.name)?;
    for prefix in &org.prefixes {
        check_prefix(prefix)?;
    }
    for member in &org.members {
        check_member(member)?;
    }
    db.write(|tx| {
        let exists = one::<i64>(
            tx,
            "SELECT 1 FROM orgs WHERE registry = ?1 AND name = ?2",
            params![org.registry, org.name],
        )?;
        if exists.is_some() {
            return Err(AccessError::OrgExists {
                registry: org.registry.clone(),
                org: org.name.clone(),
            });
        }
        tx.execute(
            "INSERT INTO orgs (registry, name, created_at, bytes_max, operations_per_hour) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                org.registry,
                org.name,
                now.to_string(),
                org.bytes_max.map(|b| b as i64),
                org.operations_per_hour.map(|b| b as i64)
            ],
        )?;
        for prefix in &org.prefixes {
            let mut stmt =
                tx.prepare("SELECT prefix, org FROM org_prefixes WHERE registry = ?1")?;
            let taken: Vec<(String, String)> = stmt
                .query_map(params![org.registry], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            if let Some((other, owner)) = taken
                .into_iter()
                .find(|(other, _)| other.starts_with(prefix.as_str()) || prefix.starts_with(other.as_str()))
            {
                return Err(AccessError::PrefixTaken {
                    prefix: prefix.clone(),
                    other,
                    org: owner,
                });
            }
            tx.execute(
                "INSERT INTO org_prefixes (registry, prefix, org) VALUES (?1, ?2, ?3)",
                params![org.registry, prefix, org.name],
            )?;
        }
        for member in &org.members {
            add_member_in(tx, &org.registry, &org.name, member, now)?;
        }
        Ok(())
    })
}

fn add_member_in(
    tx: &rusqlite::Transaction<'_>,
    registry: &str,
    org: &str,
    member: &str,
    now: Timestamp,
) -> Result<bool, AccessError> {
    Ok(tx.execute(
        "INSERT OR IGNORE INTO org_members (registry, org, member, added_at) VALUES (?1, ?2, ?3, ?4)",
        params![registry, org, member, now.to_string()],
    )? == 1)
}

/// Add `member` to `org`; whether they were not a member before.
pub fn add_member(
    db: &mut Db,
    registry: &str,
    org: &str,
    member: &str,
    now: Timestamp,
) -> Result<bool, AccessError> {
    check_member(member)?;
    db.write(|tx| {
        require_org(tx, registry, org)?;
        add_member_in(tx, registry, org, member, now)
    })
}

/// Remove `member` from `org`: their tokens of the organization stop working at once.
pub fn remove_member(
    db: &mut Db,
    registry: &str,
    org: &str,
    member: &str,
) -> Result<(), AccessError> {
    db.write(|tx| {
        require_member(tx, registry, org, member)?;
        tx.execute(
            "DELETE FROM org_members WHERE registry = ?1 AND org = ?2 AND member = ?3",
            params![registry, org, member],
        )?;
        Ok(())
    })
}

/// The organizations of `registry` (or every registry), by name.
pub fn list_orgs(db: &Db, registry: Option<&str>) -> Result<Vec<Org>, AccessError> {
    orgs_named(db, registry, None)
}

/// The organizations of `registry` (or every registry), only `name` when given.
fn orgs_named(
    db: &Db,
    registry: Option<&str>,
    name: Option<&str>,
) -> Result<Vec<Org>, AccessError> {
    let conn = db.conn();
    let mut stmt = conn.prepare_cached(
        "SELECT registry, name, bytes_max, operations_per_hour FROM orgs
         WHERE (?1 IS NULL OR registry = ?1) AND (?2 IS NULL OR name = ?2)
         ORDER BY registry, name",
    )?;
    let orgs: Vec<(String, String, Option<i64>, Option<i64>)> = stmt
        .query_map(params![registry, name], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut out = Vec::new();
    for (registry, name, bytes_max, operations_per_hour) in orgs {
        let column = |sql: &str| -> Result<Vec<String>, AccessError> {
            let mut stmt = conn.prepare(sql)?;
            let values = stmt
                .query_map(params![registry, name], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            Ok(values)
        };
        out.push(Org {
            prefixes: column(
                "SELECT prefix FROM org_prefixes WHERE registry = ?1 AND org = ?2 ORDER BY prefix",
            )?,
            members: column(
                "SELECT member FROM org_members WHERE registry = ?1 AND org = ?2 ORDER BY member",
            )?,
            registry,
            name,
            bytes_max: bytes_max.map(|b| b as u64),
            operations_per_hour: operations_per_hour.map(|b| b as u64),
        });
    }
    Ok(out)
}

/// Organization `org` of `registry`.
pub fn org(db: &Db, registry: &str, org: &str) -> Result<Org, AccessError> {
    orgs_named(db, Some(registry), Some(org))?
        .into_iter()
        .next()
        .ok_or_else(|| AccessError::NoOrg {
            registry: registry.to_owned(),
            org: org.to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("db")).unwrap();
        (dir, db)
    }

    fn now() -> Timestamp {
        "2026-12-04T12:00:00.000Z".parse().unwrap()
    }

    fn later(hours: i64) -> Timestamp {
        Timestamp::from_datetime(now().as_datetime() + chrono::Duration::hours(hours))
    }

    fn acme(db: &mut Db) {
        let org = Org {
            registry: "main".into(),
            name: "acme".into(),
            prefixes: vec!["acme-".into()],
            members: vec!["alice".into()],
            bytes_max: None,
            operations_per_hour: None,
        };
        create_org(db, &org, now()).unwrap();
    }

    fn token(db: &mut Db, org: Option<(&str, &str)>, scopes: &[Scope]) -> NewToken {
        let request = TokenRequest {
            registry: "main".into(),
            org: org.map(|(o, m)| (o.to_owned(), m.to_owned())),
            scopes: scopes.to_vec(),
            label: "test".into(),
            expires_at: later(24),
        };
        create_token(db, &request, now()).unwrap()
    }

    fn bearer(t: &NewToken) -> String {
        format!("Bearer {}", t.secret.reveal())
    }

    #[test]
    fn a_token_is_kept_as_its_hash_and_checked_each_way() {
        let (_dir, mut db) = db();
        let t = token(&mut db, None, &[Scope::Publish]);
        assert!(t.secret.reveal().starts_with("regis_"));
        assert_eq!(t.secret.reveal().len(), 6 + 43);
        assert!(!format!("{t:?}").contains(t.secret.reveal()));
        let stored: String = db
            .conn()
            .query_row("SELECT hash FROM tokens", [], |r| r.get(0))
            .unwrap();
        assert_ne!(stored, t.secret.reveal());
        let ok = authenticate(&db, Some(&bearer(&t)), "main", now()).unwrap();
        assert_eq!(ok.id, t.info.id);
        require_scope(&ok, Scope::Publish).unwrap();
        let Err(Denied::Scope {
            needed: Scope::Transfer,
            ..
        }) = require_scope(&ok, Scope::Transfer)
        else {
            panic!("a publish token may not transfer");
        };
        assert!(matches!(
            authenticate(&db, None, "main", now()),
            Err(Denied::NoToken)
        ));
        assert!(matches!(
            authenticate(&db, Some("Basic x"), "main", now()),
            Err(Denied::Malformed)
        ));
        assert!(matches!(
            authenticate(&db, Some("Bearer regis_nope"), "main", now()),
            Err(Denied::Unknown)
        ));
        assert!(matches!(
            authenticate(&db, Some(&bearer(&t)), "other", now()),
            Err(Denied::OtherRegistry { .. })
        ));
        assert!(matches!(
            authenticate(&db, Some(&bearer(&t)), "main", later(24)),
            Err(Denied::Expired { .. })
        ));
        revoke_token(&mut db, &t.info.id, later(1)).unwrap();
        let Err(Denied::Revoked { at, .. }) = authenticate(&db, Some(&bearer(&t)), "main", now())
        else {
            panic!("a revoked token must be refused");
        };
        assert_eq!(at, later(1));
        assert!(matches!(
            revoke_token(&mut db, "tok_0", now()),
            Err(AccessError::NoToken { .. })
        ));
    }

    #[test]
    fn prefixes_are_kept_for_members_and_admins() {
        let (_dir, mut db) = db();
        acme(&mut db);
        let name: PackageName = "acme-tools".parse().unwrap();
        let open: PackageName = "acmetools".parse().unwrap();
        let member = token(&mut db, Some(("acme", "alice")), &[Scope::Publish]);
        let outsider = token(&mut db, None, &[Scope::Publish]);
        let admin = token(&mut db, None, &[Scope::Admin]);
        for t in [&member, &outsider, &admin] {
            let info = authenticate(&db, Some(&bearer(t)), "main", now()).unwrap();
            require_name(&db, "main", &info, &open).unwrap();
        }
        let info = authenticate(&db, Some(&bearer(&member)), "main", now()).unwrap();
        require_name(&db, "main", &info, &name).unwrap();
        let info = authenticate(&db, Some(&bearer(&admin)), "main", now()).unwrap();
        require_name(&db, "main", &info, &name).unwrap();
        let info = authenticate(&db, Some(&bearer(&outsider)), "main", now()).unwrap();
        let Err(Denied::Reserved { org, prefix, .. }) = require_name(&db, "main", &info, &name)
        else {
            panic!("an outsider may not publish under `acme-`");
        };
        assert_eq!((org.as_str(), prefix.as_str()), ("acme", "acme-"));
        remove_member(&mut db, "main", "acme", "alice").unwrap();
        assert!(matches!(
            authenticate(&db, Some(&bearer(&member)), "main", now()),
            Err(Denied::NotAMember { .. })
        ));
    }

    #[test]
    fn orgs_refuse_bad_names_and_overlapping_prefixes() {
        let (_dir, mut db) = db();
        acme(&mut db);
        let mut other = Org {
            registry: "main".into(),
            name: "acme-labs".into(),
            prefixes: vec!["acme-labs-".into()],
            members: vec![],
            bytes_max: None,
            operations_per_hour: None,
        };
        assert!(matches!(
            create_org(&mut db, &other, now()),
            Err(AccessError::PrefixTaken { .. })
        ));
        other.prefixes = vec!["acme".into()];
        assert!(matches!(
            create_org(&mut db, &other, now()),
            Err(AccessError::BadPrefix { .. })
        ));
        other.name = "Acme".into();
        assert!(matches!(
            create_org(&mut db, &other, now()),
            Err(AccessError::BadOrgName { .. })
        ));
        // The same prefix in another registry is another registry's business.
        other.name = "acme".into();
        other.registry = "second".into();
        other.prefixes = vec!["acme-".into()];
        create_org(&mut db, &other, now()).unwrap();
        assert_eq!(list_orgs(&db, None).unwrap().len(), 2);
        assert!(matches!(
            add_member(&mut db, "main", "nobody", "bob", now()),
            Err(AccessError::NoOrg { .. })
        ));
        assert!(add_member(&mut db, "main", "acme", "bob", now()).unwrap());
        assert!(!add_member(&mut db, "main", "acme", "bob", now()).unwrap());
        assert_eq!(org(&db, "main", "acme").unwrap().members, ["alice", "bob"]);
    }
}
