//! The server's database: one SQLite file in the home's private directory, in WAL mode with
//! `synchronous = FULL`, so a job the API answered with an id is on disk before the answer
//! leaves, and survives a `kill -9` of the server. It holds the job queue and each job's
//! log lines, organizations (prefixes, members, quota overrides), API tokens (hashes
//! only) and the operations counted against hourly quotas.
//!
//! Each connection is opened by [`Db::open`]; the API holds one behind a mutex and each
//! registry's worker its own (WAL lets readers and the one writer go on together; a
//! writer waits up to [`BUSY_TIMEOUT`] for another).

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};

use crate::schema::Timestamp;

/// How long a write waits for another connection's write to finish.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// The schema, version by version: `PRAGMA user_version` says how many have been applied.
const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE jobs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  registry TEXT NOT NULL,
  kind TEXT NOT NULL,
  package TEXT,
  version TEXT,
  payload TEXT NOT NULL,
  payload_sha256 TEXT NOT NULL,
  token TEXT,
  authority TEXT NOT NULL,
  created_at TEXT NOT NULL,
  started_at TEXT,
  finished_at TEXT,
  success INTEGER NOT NULL DEFAULT 0,
  resets INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX jobs_queue ON jobs (registry, seq) WHERE finished_at IS NULL;
CREATE INDEX jobs_payload ON jobs (registry, payload_sha256);
CREATE INDEX jobs_created ON jobs (created_at);
CREATE TABLE logs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  job TEXT NOT NULL REFERENCES jobs (id),
  level INTEGER NOT NULL,
  message TEXT NOT NULL,
  timestamp TEXT NOT NULL
);
CREATE INDEX logs_job ON logs (job, id);
CREATE TABLE orgs (
  registry TEXT NOT NULL,
  name TEXT NOT NULL,
  created_at TEXT NOT NULL,
  bytes_max INTEGER,
  operations_per_hour INTEGER,
  PRIMARY KEY (registry, name)
);
CREATE TABLE org_prefixes (
  registry TEXT NOT NULL,
  prefix TEXT NOT NULL,
  org TEXT NOT NULL,
  PRIMARY KEY (registry, prefix),
  FOREIGN KEY (registry, org) REFERENCES orgs (registry, name)
);
CREATE TABLE org_members (
  registry TEXT NOT NULL,
  org TEXT NOT NULL,
  member TEXT NOT NULL,
  added_at TEXT NOT NULL,
  PRIMARY KEY (registry, org, member),
  FOREIGN KEY (registry, org) REFERENCES orgs (registry, name)
);
CREATE TABLE tokens (
  id TEXT PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  registry TEXT NOT NULL,
  org TEXT,
  member TEXT,
  scopes TEXT NOT NULL,
  label TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT,
  revoked_at TEXT
);
CREATE TABLE usage (
  subject TEXT NOT NULL,
  hour INTEGER NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (subject, hour)
);
"#];

/// A failure of the database itself (not of what it was asked).
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("the server database `{path}` could not be opened")]
    Open {
        path: PathBuf,
        #[source]
        cause: rusqlite::Error,
    },
    #[error(
        "the server database `{path}` is at schema version {found}, newer than this regis knows ({known}): run a newer regis"
    )]
    Newer {
        path: PathBuf,
        found: i64,
        known: usize,
    },
    #[error("the server database failed")]
    Sql(#[from] rusqlite::Error),
    #[error("the server database holds `{value}` in `{column}`, which is not {expected}")]
    Corrupt {
        column: &'static str,
        value: String,
        expected: &'static str,
    },
}

/// One connection to the server's database.
pub struct Db {
    pub(super) conn: Connection,
}

impl Db {
    /// Open (creating it when missing) and bring the schema up to date.
    pub fn open(path: &Path) -> Result<Db, DbError> {
        let open = |cause| DbError::Open {
            path: path.to_path_buf(),
            cause,
        };
        let conn = Connection::open(path).map_err(open)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(open)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(open)?;
        let mut db = Db { conn };
        db.migrate(path)?;
        Ok(db)
    }

    fn migrate(&mut self, path: &Path) -> Result<(), DbError> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > MIGRATIONS.len() as i64 {
            return Err(DbError::Newer {
                path: path.to_path_buf(),
                found: version,
                known: MIGRATIONS.len(),
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Run `f` in one write transaction (taken at once, so two writers never deadlock on
    /// an upgrade), committed when it returns `Ok`.
    pub fn write<T, E: From<DbError>>(
        &mut self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(DbError::from)?;
        let value = f(&tx)?;
        tx.commit().map_err(DbError::from)?;
        Ok(value)
    }

    /// The connection, for reads.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }
}

/// A timestamp column read back.
pub(super) fn timestamp(column: &'static str, text: &str) -> Result<Timestamp, DbError> {
    Timestamp::parse(text).map_err(|_| DbError::Corrupt {
        column,
        value: crate::text::value(text).to_string(),
        expected: "a timestamp",
    })
}

/// A row of one column, when there is one.
pub(super) fn one<T: rusqlite::types::FromSql>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Option<T>, DbError> {
    Ok(conn.query_row(sql, params, |r| r.get(0)).optional()?)
}

/// How many operations `subject` has had counted in `hour` (hours since the epoch).
pub(super) fn usage(conn: &Connection, subject: &str, hour: i64) -> Result<u64, DbError> {
    Ok(one::<i64>(
        conn,
        "SELECT count FROM usage WHERE subject = ?1 AND hour = ?2",
        params![subject, hour],
    )?
    .unwrap_or(0) as u64)
}

/// Count one operation for `subject` in `hour`; older hours are dropped.
pub(super) fn count_usage(
    tx: &rusqlite::Transaction<'_>,
    subject: &str,
    hour: i64,
) -> Result<(), DbError> {
    tx.execute(
        "INSERT INTO usage (subject, hour, count) VALUES (?1, ?2, 1)
         ON CONFLICT (subject, hour) DO UPDATE SET count = count + 1",
        params![subject, hour],
    )?;
    tx.execute(
        "DELETE FROM usage WHERE subject = ?1 AND hour < ?2",
        params![subject, hour],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_is_created_migrated_and_reopened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("regis.sqlite");
        let db = Db::open(&path).unwrap();
        let mode: String = db
            .conn()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        drop(db);
        let db = Db::open(&path).unwrap();
        let version: i64 = db
            .conn()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64);
        db.conn().pragma_update(None, "user_version", 99).unwrap();
        drop(db);
        let Err(DbError::Newer { found: 99, .. }) = Db::open(&path) else {
            panic!("a newer schema must be refused");
        };
    }

    #[test]
    fn usage_counts_per_hour_and_drops_older_hours() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Db::open(&dir.path().join("db")).unwrap();
        for hour in [10, 10, 11] {
            db.write(|tx| count_usage(tx, "token:a", hour)).unwrap();
        }
        assert_eq!(usage(db.conn(), "token:a", 10).unwrap(), 0);
        assert_eq!(usage(db.conn(), "token:a", 11).unwrap(), 1);
        assert_eq!(usage(db.conn(), "token:b", 11).unwrap(), 0);
    }
}
