//! The job queue: jobs the API accepted, in the database, run one at a time per registry
//! by that registry's worker through [`crate::operation::request::run`] — the same code
//! the issue flow runs — and read back in the PureScript Registry's API shapes
//! (`Registry.API.V1`: `jobId`, `jobType`, `createdAt`, `startedAt`, `finishedAt`,
//! `success`, `logs` of `{level, message, jobId, timestamp}`, the package, the payload).
//!
//! A job goes queued (no `started_at`) → running (`started_at`) → finished
//! (`finished_at`, `success`). A server killed while a job ran leaves it running; the next
//! start puts it back in the queue ([`recover`]), with a log line saying so, and it runs
//! again: every operation finishes an interrupted run of itself when run again. A job
//! interrupted [`MAX_RESETS`] times is failed instead, so one that kills the server cannot
//! stop the queue.

use std::sync::{Condvar, Mutex};
use std::time::Duration;

use rusqlite::{OptionalExtension, params};

use super::db::{Db, DbError, timestamp};
use super::quota::Exceeded;
use crate::package_set::Authority;
use crate::payload::{AuthenticatedData, Operation};
use crate::schema::{PackageName, Sha256, Timestamp, Version};

/// How many times a job may be interrupted by a stopped server before it is failed.
pub const MAX_RESETS: i64 = 3;

/// A log line's level, as the PureScript Registry prints and orders them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    Debug,
    Info,
    Warn,
    Notice,
    Error,
}

impl Level {
    /// registry-dev's `logLevelToPriority`.
    pub fn priority(self) -> i64 {
        match self {
            Level::Debug => 0,
            Level::Info => 10,
            Level::Warn => 20,
            Level::Notice => 25,
            Level::Error => 30,
        }
    }

    fn from_priority(p: i64) -> Result<Level, DbError> {
        [
            Level::Debug,
            Level::Info,
            Level::Warn,
            Level::Notice,
            Level::Error,
        ]
        .into_iter()
        .find(|l| l.priority() == p)
        .ok_or_else(|| DbError::Corrupt {
            column: "logs.level",
            value: p.to_string(),
            expected: "a log level priority",
        })
    }

    pub fn parse(text: &str) -> Option<Level> {
        match text {
            "DEBUG" => Some(Level::Debug),
            "INFO" => Some(Level::Info),
            "WARN" => Some(Level::Warn),
            "NOTICE" => Some(Level::Notice),
            "ERROR" => Some(Level::Error),
            _ => None,
        }
    }
}

/// What a job does: the PureScript Registry's job types, and regis's own signed operations.
pub fn job_type(operation: &Operation) -> &'static str {
    match operation {
        Operation::Publish(_) => "publish",
        Operation::PackageSetUpdate(_) => "packageset",
        Operation::Authenticated(signed) => match signed.data() {
            Ok(AuthenticatedData::Transfer(_)) => "transfer",
            Ok(AuthenticatedData::Unpublish(_)) => "unpublish",
            Ok(AuthenticatedData::Yank(_)) => "yank",
            Ok(AuthenticatedData::Unyank(_)) => "unyank",
            Ok(AuthenticatedData::Deprecate(_)) => "deprecate",
            Err(_) => "signed",
        },
    }
}

/// The package and version a job is about, as its payload names them.
pub fn subject(operation: &Operation) -> (Option<PackageName>, Option<Version>) {
    match operation {
        Operation::Publish(p) => (Some(p.name.clone()), p.version.clone()),
        Operation::PackageSetUpdate(_) => (None, None),
        Operation::Authenticated(signed) => match signed.data() {
            Ok(AuthenticatedData::Transfer(t)) => (Some(t.name), None),
            Ok(AuthenticatedData::Unpublish(u)) => (Some(u.name), Some(u.version)),
            Ok(AuthenticatedData::Yank(y)) => (Some(y.name), Some(y.yank)),
            Ok(AuthenticatedData::Unyank(u)) => (Some(u.name), Some(u.unyank)),
            Ok(AuthenticatedData::Deprecate(d)) => (Some(d.name), None),
            Err(_) => (None, None),
        },
    }
}

/// A job to queue.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub registry: String,
    pub operation: Operation,
    /// The payload as received (JSON).
    pub payload: String,
    pub authority: Authority,
    /// The id of the token that asked (never the token).
    pub token: Option<String>,
}

/// What queueing came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enqueued {
    /// A new job.
    Created(String),
    /// The same payload is queued, running or done already: that job.
    Existing(String),
}

/// The payload's identity: its JSON, keys sorted, whitespace dropped.
fn payload_key(kind: &str, payload: &str) -> String {
    let normal = serde_json::from_str::<serde_json::Value>(payload)
        .map(|v| sorted(&v).to_string())
        .unwrap_or_else(|_| payload.trim().to_owned());
    Sha256::of(format!("{kind}\n{normal}").as_bytes()).to_string()
}

fn sorted(v: &serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            serde_json::Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.clone(), sorted(v)))
                    .collect(),
            )
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.iter().map(sorted).collect())
        }
        other => other.clone(),
    }
}

fn authority_text(a: Authority) -> &'static str {
    match a {
        Authority::Anyone => "anyone",
        Authority::Trustee => "trustee",
    }
}

/// Queue `job`, unless the same payload is queued, running or succeeded already (a client
/// sending it again after a lost answer gets that job). `charge` counts the job against
/// the quotas, in the same transaction: a refused job is not counted, an accepted one is.
pub fn enqueue(
    db: &mut Db,
    job: &NewJob,
    now: Timestamp,
    charge: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<Result<(), Exceeded>, DbError>,
) -> Result<Result<Enqueued, Exceeded>, DbError> {
    let kind = job_type(&job.operation);
    let key = payload_key(kind, &job.payload);
    db.write(|tx| {
        let existing: Option<String> = tx
            .query_row(
                "SELECT id FROM jobs WHERE registry = ?1 AND payload_sha256 = ?2
                 AND (finished_at IS NULL OR success = 1) ORDER BY seq LIMIT 1",
                params![job.registry, key],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(id) = existing {
            return Ok(Ok(Enqueued::Existing(id)));
        }
        if let Err(exceeded) = charge(tx)? {
            return Ok(Err(exceeded));
        }
        let id = super::access::random_id("");
        let (package, version) = subject(&job.operation);
        tx.execute(
            "INSERT INTO jobs (id, registry, kind, package, version, payload, payload_sha256, token, authority, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                id,
                job.registry,
                kind,
                package.map(|p| p.to_string()),
                version.map(|v| v.to_string()),
                job.payload,
                key,
                job.token,
                authority_text(job.authority),
                now.to_string(),
            ],
        )?;
        let by = match &job.token {
            Some(token) => format!(" (token `{token}`)"),
            None => String::new(),
        };
        log_in(
            tx,
            &id,
            Level::Info,
            &format!("Accepted the {}{by}.", crate::operation::request::describe(&job.operation)),
            now,
        )?;
        Ok(Ok(Enqueued::Created(id)))
    })
}

fn log_in(
    conn: &rusqlite::Connection,
    job: &str,
    level: Level,
    message: &str,
    now: Timestamp,
) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO logs (job, level, message, timestamp) VALUES (?1, ?2, ?3, ?4)",
        params![job, level.priority(), message, now.to_string()],
    )?;
    Ok(())
}

/// Add a log line to `job`.
pub fn log(db: &mut Db, job: &str, level: Level, message: &str) -> Result<(), DbError> {
    db.write(|tx| log_in(tx, job, level, message, Timestamp::now()))
}

/// A job taken from the queue to run.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: String,
    pub payload: String,
    pub authority: Authority,
}

/// Take `registry`'s oldest queued job and mark it running.
pub fn claim(db: &mut Db, registry: &str, now: Timestamp) -> Result<Option<Claimed>, DbError> {
    db.write(|tx| {
        let row: Option<(String, String, String)> = tx
            .query_row(
                "UPDATE jobs SET started_at = ?2 WHERE seq = (
                   SELECT seq FROM jobs WHERE registry = ?1 AND finished_at IS NULL
                   AND started_at IS NULL ORDER BY seq LIMIT 1)
                 RETURNING id, payload, authority",
                params![registry, now.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        Ok(row.map(|(id, payload, authority)| Claimed {
            id,
            payload,
            authority: if authority == "trustee" {
                Authority::Trustee
            } else {
                Authority::Anyone
            },
        }))
    })
}

/// Mark `job` finished.
pub fn finish(db: &mut Db, job: &str, success: bool, now: Timestamp) -> Result<(), DbError> {
    db.write(|tx| {
        tx.execute(
            "UPDATE jobs SET finished_at = ?2, success = ?3 WHERE id = ?1",
            params![job, now.to_string(), success],
        )?;
        Ok(())
    })
}

/// Put back in the queue the jobs a stopped server left running (failing those
/// interrupted [`MAX_RESETS`] times); their ids.
pub fn recover(db: &mut Db, now: Timestamp) -> Result<Vec<String>, DbError> {
    db.write(|tx| {
        let mut stmt = tx.prepare(
            "SELECT id, resets FROM jobs WHERE finished_at IS NULL AND started_at IS NOT NULL",
        )?;
        let stranded: Vec<(String, i64)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        for (id, resets) in &stranded {
            if resets + 1 >= MAX_RESETS {
                log_in(
                    tx,
                    id,
                    Level::Error,
                    &format!(
                        "The server stopped while this job ran, {MAX_RESETS} times: it is failed rather than run again."
                    ),
                    now,
                )?;
                tx.execute(
                    "UPDATE jobs SET finished_at = ?2, success = 0, resets = resets + 1 WHERE id = ?1",
                    params![id, now.to_string()],
                )?;
            } else {
                log_in(
                    tx,
                    id,
                    Level::Warn,
                    "The server stopped while this job ran: it runs again from the start (an interrupted operation finishes when run again).",
                    now,
                )?;
                tx.execute(
                    "UPDATE jobs SET started_at = NULL, resets = resets + 1 WHERE id = ?1",
                    params![id],
                )?;
            }
        }
        Ok(stranded.into_iter().map(|(id, _)| id).collect())
    })
}

/// A log line, in the API's shape.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogLine {
    pub level: Level,
    pub message: String,
    pub job_id: String,
    pub timestamp: Timestamp,
}

/// A job, in the API's shape (`Registry.API.V1.Job`).
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobView {
    pub job_id: String,
    pub job_type: String,
    pub created_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<Timestamp>,
    pub success: bool,
    pub logs: Vec<LogLine>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_version: Option<String>,
    pub payload: serde_json::Value,
}

/// Which log lines and jobs to read: the API's `level`, `since`, `until` and `order`.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub level: Option<Level>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    pub descending: bool,
}

const JOB_COLUMNS: &str =
    "id, kind, created_at, started_at, finished_at, success, package, version, payload, registry";

type JobRow = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    bool,
    Option<String>,
    Option<String>,
    String,
    String,
);

fn job_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<JobRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
    ))
}

fn job_view(row: JobRow) -> Result<(String, JobView), DbError> {
    let (id, kind, created, started, finished, success, package, version, payload, registry) = row;
    let time = |column, t: Option<String>| t.map(|t| timestamp(column, &t)).transpose();
    Ok((
        registry,
        JobView {
            job_type: kind,
            created_at: timestamp("jobs.created_at", &created)?,
            started_at: time("jobs.started_at", started)?,
            finished_at: time("jobs.finished_at", finished)?,
            success,
            logs: Vec::new(),
            package_name: package,
            package_version: version,
            payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::String(payload)),
            job_id: id,
        },
    ))
}

/// Job `id` of `registry` with its log lines as `filter` picks them.
pub fn get(db: &Db, registry: &str, id: &str, filter: &Filter) -> Result<Option<JobView>, DbError> {
    let row = db
        .conn()
        .query_row(
            &format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1"),
            params![id],
            job_row,
        )
        .optional()?;
    let Some(row) = row else { return Ok(None) };
    let (theirs, mut job) = job_view(row)?;
    if theirs != registry {
        return Ok(None);
    }
    let order = if filter.descending { "DESC" } else { "ASC" };
    let mut stmt = db.conn().prepare(&format!(
        "SELECT level, message, timestamp FROM logs WHERE job = ?1 AND level >= ?2
         AND (?3 IS NULL OR timestamp >= ?3) AND (?4 IS NULL OR timestamp <= ?4)
         ORDER BY id {order}"
    ))?;
    let rows = stmt.query_map(
        params![
            id,
            filter.level.unwrap_or(Level::Debug).priority(),
            filter.since.map(|t| t.to_string()),
            filter.until.map(|t| t.to_string()),
        ],
        |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        },
    )?;
    for row in rows {
        let (level, message, time) = row?;
        job.logs.push(LogLine {
            level: Level::from_priority(level)?,
            message,
            job_id: id.to_owned(),
            timestamp: timestamp("logs.timestamp", &time)?,
        });
    }
    Ok(Some(job))
}

/// The jobs of `registry` created within `filter`'s times, without their logs; finished
/// ones only when `include_completed`. At most `limit`.
pub fn list(
    db: &Db,
    registry: &str,
    filter: &Filter,
    include_completed: bool,
    limit: usize,
) -> Result<Vec<JobView>, DbError> {
    let order = if filter.descending { "DESC" } else { "ASC" };
    let mut stmt = db.conn().prepare(&format!(
        "SELECT {JOB_COLUMNS} FROM jobs WHERE registry = ?1
         AND (?2 IS NULL OR created_at >= ?2) AND (?3 IS NULL OR created_at <= ?3)
         AND (?4 OR finished_at IS NULL) ORDER BY seq {order} LIMIT ?5"
    ))?;
    let rows = stmt.query_map(
        params![
            registry,
            filter.since.map(|t| t.to_string()),
            filter.until.map(|t| t.to_string()),
            include_completed,
            limit as i64,
        ],
        job_row,
    )?;
    let mut jobs = Vec::new();
    for row in rows {
        jobs.push(job_view(row?)?.1);
    }
    Ok(jobs)
}

/// Wakes a registry's worker when a job is queued (it also looks every second).
#[derive(Default)]
pub struct Wake {
    queued: Mutex<bool>,
    cond: Condvar,
}

impl Wake {
    pub fn notify(&self) {
        *self.queued.lock().expect("wake lock") = true;
        self.cond.notify_one();
    }

    /// Wait for [`Wake::notify`], at most `timeout`.
    pub fn wait(&self, timeout: Duration) {
        let guard = self.queued.lock().expect("wake lock");
        let (mut guard, _) = self
            .cond
            .wait_timeout_while(guard, timeout, |queued| !*queued)
            .expect("wake lock");
        *guard = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn publish(name: &str) -> NewJob {
        let payload = format!(
            r#"{{"name": "{name}", "ref": "v1.0.0", "version": "1.0.0", "compiler": "0.15.15", "location": {{"githubOwner": "o", "githubRepo": "{name}"}}}}"#
        );
        NewJob {
            registry: "main".into(),
            operation: Operation::parse(&payload).unwrap(),
            payload,
            authority: Authority::Anyone,
            token: Some("tok_1".into()),
        }
    }

    fn now() -> Timestamp {
        "2026-12-04T12:00:00.000Z".parse().unwrap()
    }

    fn accept(db: &mut Db, job: &NewJob) -> Enqueued {
        enqueue(db, job, now(), |_| Ok(Ok(()))).unwrap().unwrap()
    }

    #[test]
    fn jobs_queue_in_order_dedupe_run_and_recover() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Db::open(&dir.path().join("db")).unwrap();
        let Enqueued::Created(a) = accept(&mut db, &publish("a")) else {
            panic!("new")
        };
        let Enqueued::Created(b) = accept(&mut db, &publish("b")) else {
            panic!("new")
        };
        // The same payload, spaced and ordered otherwise, is the same job.
        let mut again = publish("a");
        again.payload = again.payload.replace(", \"ref\"", ",\n  \"ref\"");
        assert_eq!(accept(&mut db, &again), Enqueued::Existing(a.clone()));
        // Another registry's queue is its own.
        let mut other = publish("a");
        other.registry = "second".into();
        assert!(matches!(accept(&mut db, &other), Enqueued::Created(_)));

        let first = claim(&mut db, "main", now()).unwrap().unwrap();
        assert_eq!(first.id, a);
        // A server killed here leaves `a` running; a restart queues it again, first.
        assert_eq!(recover(&mut db, now()).unwrap(), std::slice::from_ref(&a));
        assert_eq!(claim(&mut db, "main", now()).unwrap().unwrap().id, a);
        finish(&mut db, &a, false, now()).unwrap();
        // A failed job is not a duplicate: the payload queues anew.
        let Enqueued::Created(c) = accept(&mut db, &publish("a")) else {
            panic!("a failed job's payload queues anew")
        };
        assert_eq!(claim(&mut db, "main", now()).unwrap().unwrap().id, b);
        finish(&mut db, &b, true, now()).unwrap();
        assert_eq!(
            accept(&mut db, &publish("b")),
            Enqueued::Existing(b.clone())
        );

        let job = get(&db, "main", &a, &Filter::default()).unwrap().unwrap();
        assert_eq!(job.job_type, "publish");
        assert_eq!(job.package_name.as_deref(), Some("a"));
        let levels: Vec<Level> = job.logs.iter().map(|l| l.level).collect();
        assert_eq!(levels, [Level::Info, Level::Warn]);
        let warned = Filter {
            level: Some(Level::Warn),
            ..Filter::default()
        };
        assert_eq!(
            get(&db, "main", &a, &warned).unwrap().unwrap().logs.len(),
            1
        );
        assert!(
            get(&db, "second", &a, &Filter::default())
                .unwrap()
                .is_none()
        );
        let open = list(&db, "main", &Filter::default(), false, 100).unwrap();
        assert_eq!(open.iter().map(|j| &j.job_id).collect::<Vec<_>>(), [&c]);
        assert_eq!(
            list(&db, "main", &Filter::default(), true, 100)
                .unwrap()
                .len(),
            3
        );
    }

    #[test]
    fn a_job_interrupted_again_and_again_is_failed() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Db::open(&dir.path().join("db")).unwrap();
        accept(&mut db, &publish("a"));
        for _ in 0..MAX_RESETS {
            assert!(claim(&mut db, "main", now()).unwrap().is_some());
            recover(&mut db, now()).unwrap();
        }
        assert!(claim(&mut db, "main", now()).unwrap().is_none());
        let job = &list(&db, "main", &Filter::default(), true, 10).unwrap()[0];
        assert!(job.finished_at.is_some() && !job.success);
    }
}
