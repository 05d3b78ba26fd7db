//! The HTTP API (axum): the PureScript Registry's routes (`Registry.API.V1`) for the
//! default registry under `/api/v1/`, and for each registry under
//! `/registries/<name>/api/v1/`:
//!
//! | route | what |
//! |---|---|
//! | `POST publish` | a Publish payload → `201 {jobId}` (`200` with the existing job for a duplicate) |
//! | `POST unpublish`, `transfer` | a signed payload of that operation |
//! | `POST package-sets` | a PackageSetUpdate, bare or as registry-dev's `{payload: "<JSON text>", signature?}` (an `admin` token's with a trustee's authority) |
//! | `POST yank`, `deprecate`, `alias` | regis's own signed operations (`yank` takes a Yank or an Unyank, `alias` an Alias or an Unalias) |
//! | `GET packages/{name}/{spec}` | `NAME@VERSION` or `NAME@TAG` resolved: the version and its metadata entry |
//! | `GET jobs` | the jobs (`since`, `until`, `order`, `include_completed`) |
//! | `GET jobs/{id}` | one job with its logs (`level`, `since`, `until`, `order`) |
//! | `GET status` | `200` |
//!
//! and `GET /registries/<name>/static/<path>`, the registry's storage (tarballs, atoms,
//! the TUF repository). Every `POST` needs `Authorization: Bearer <token>`; a refusal is
//! `{"error": <message>, "code": <kind>}` with its status (`400` the payload, `401` the
//! token, `403` what the token may do, `404`, `429` a quota with `Retry-After`). No
//! message quotes the token.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, Query, Request};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use super::access::{self, Denied, Scope};
use super::db::{Db, DbError};
use super::jobs::{self, Enqueued, Filter, Level, NewJob, Wake};
use super::quota::{self, Exceeded};
use super::{Hosted, Server};
use crate::package_set::Authority;
use crate::payload::Operation;
use crate::schema::Timestamp;

/// The largest request body taken.
pub const BODY_MAX_BYTES: usize = 1 << 20;
/// The largest file `static/` serves.
pub const STATIC_MAX_BYTES: u64 = 256 << 20;
/// The most jobs `GET jobs` lists.
pub const JOBS_MAX: usize = 1000;

/// What every handler shares.
#[derive(Clone)]
pub struct State {
    server: Arc<Server>,
    db: Arc<Mutex<Db>>,
    wakes: Arc<Vec<Wake>>,
}

impl State {
    pub fn new(server: Arc<Server>, db: Db, wakes: Arc<Vec<Wake>>) -> State {
        State {
            server,
            db: Arc::new(Mutex::new(db)),
            wakes,
        }
    }
}

/// A refusal, as the API answers it.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    fn not_found(what: String) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not-found", what)
    }

    fn bad_request(message: String) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad-request", message)
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            crate::error_chain(&e),
        )
    }
}

impl From<Denied> for ApiError {
    fn from(e: Denied) -> ApiError {
        let (status, code) = match &e {
            Denied::NoToken | Denied::Malformed | Denied::Unknown => {
                (StatusCode::UNAUTHORIZED, "unauthenticated")
            }
            Denied::Expired { .. } | Denied::Revoked { .. } => {
                (StatusCode::UNAUTHORIZED, "token-invalid")
            }
            Denied::Db(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
            _ => (StatusCode::FORBIDDEN, "forbidden"),
        };
        ApiError::new(status, code, crate::error_chain(&e))
    }
}

impl From<Exceeded> for ApiError {
    fn from(e: Exceeded) -> ApiError {
        ApiError {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: "quota",
            message: e.to_string(),
            retry_after: e.retry_after,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error": self.message, "code": self.code});
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

type Params = Path<HashMap<String, String>>;

/// The registry a route names (`/registries/<name>/…`), else the default one.
fn hosted<'s>(
    server: &'s Server,
    params: &HashMap<String, String>,
) -> Result<&'s Hosted, ApiError> {
    match params.get("registry") {
        None => Ok(&server.registries[server.default]),
        Some(name) => server.registry(name).ok_or_else(|| {
            ApiError::not_found(format!(
                "this server has no registry {}",
                crate::text::echo(name)
            ))
        }),
    }
}

/// Run `f` off the async threads (SQLite and the file system block).
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| {
        Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("the request's task failed: {e}"),
        ))
    })
}

/// What a `POST` route takes.
#[derive(Debug, Clone, Copy)]
enum Endpoint {
    Publish,
    Unpublish,
    Transfer,
    PackageSets,
    Yank,
    Deprecate,
    Alias,
}

impl Endpoint {
    /// The job types the route takes, and what it expects, for a refusal.
    fn takes(self) -> (&'static [&'static str], &'static str) {
        match self {
            Endpoint::Publish => (&["publish"], "a Publish payload"),
            Endpoint::Unpublish => (&["unpublish"], "a signed Unpublish payload"),
            Endpoint::Transfer => (&["transfer"], "a signed Transfer payload"),
            Endpoint::PackageSets => (&["packageset"], "a PackageSetUpdate payload"),
            Endpoint::Yank => (&["yank", "unyank"], "a signed Yank or Unyank payload"),
            Endpoint::Deprecate => (&["deprecate"], "a signed Deprecate payload"),
            Endpoint::Alias => (&["alias", "unalias"], "a signed Alias or Unalias payload"),
        }
    }
}

/// The scope a job type needs.
fn scope_of(job_type: &str) -> Scope {
    match job_type {
        "unpublish" | "yank" | "unyank" => Scope::Unpublish,
        "transfer" => Scope::Transfer,
        _ => Scope::Publish,
    }
}

/// A body axum could not take (over [`BODY_MAX_BYTES`], not UTF-8) as the API refuses.
fn unreadable(rejection: &axum::extract::rejection::StringRejection) -> ApiError {
    let status = rejection.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(
            status,
            "too-large",
            format!(
                "the body is over {} bytes: expected a payload of at most that",
                crate::text::thousands(BODY_MAX_BYTES as u64)
            ),
        );
    }
    ApiError::new(
        status,
        "bad-request",
        format!(
            "the body could not be read: {}",
            crate::text::value(&rejection.body_text())
        ),
    )
}

async fn submit(
    state: State,
    params: HashMap<String, String>,
    headers: HeaderMap,
    body: Result<String, axum::extract::rejection::StringRejection>,
    endpoint: Endpoint,
) -> Result<Response, ApiError> {
    let body = body.map_err(|e| unreadable(&e))?;
    let authorization = (headers.get(header::AUTHORIZATION))
        .map(|v| v.to_str().map(str::to_owned).unwrap_or_default());
    blocking(move || {
        let server = &state.server;
        let hosted = hosted(server, &params)?;
        let now = Timestamp::now();
        let token = {
            let db = state.db.lock().expect("db lock");
            access::authenticate(&db, authorization.as_deref(), &hosted.name, now)?
        };
        let body = match endpoint {
            Endpoint::PackageSets => unwrap_package_set_request(body),
            _ => body,
        };
        let operation = Operation::parse(&body).map_err(|e| {
            ApiError::bad_request(format!(
                "the body is not a payload regis reads: {}",
                crate::error_chain(&e)
            ))
        })?;
        let job_type = jobs::job_type(&operation);
        let (takes, expected) = endpoint.takes();
        if !takes.contains(&job_type) {
            return Err(ApiError::bad_request(format!(
                "this route takes {expected}, and the body is a {} payload",
                job_type
            )));
        }
        let schemes: Vec<&str> = server.git_schemes.iter().map(String::as_str).collect();
        if let Some(url) = crate::operation::request::disallowed_location(&operation, &schemes) {
            return Err(ApiError::bad_request(format!(
                "`gitUrl` `{url}` is not a URL this server fetches: expected a `{}://` URL",
                schemes.join("://`, `")
            )));
        }
        access::require_scope(&token, scope_of(job_type))?;
        let mut db = state.db.lock().expect("db lock");
        if let (Operation::Publish(p), "publish") = (&operation, job_type) {
            access::require_name(&db, &hosted.name, &token, &p.name)?;
        }
        let org = match &token.org {
            Some(org) => Some(access::org(&db, &hosted.name, org).map_err(|e| {
                ApiError::new(StatusCode::FORBIDDEN, "forbidden", crate::error_chain(&e))
            })?),
            None => None,
        };
        // A new job for a package (or organization) at its byte quota already is refused;
        // the job holds the packed release to it exactly.
        let full = match &operation {
            Operation::Publish(p) => quota::ByteQuota {
                quotas: &server.quotas,
                registry: crate::store::RegistryDir::new(&hosted.registry),
                registry_name: &hosted.name,
                db: &db,
            }
            .check(&p.name, 1)
            .ok()
            .and_then(Result::err),
            _ => None,
        };
        let authority = if token.has(Scope::Admin) {
            Authority::Trustee
        } else {
            Authority::Anyone
        };
        let job = NewJob {
            registry: hosted.name.clone(),
            operation,
            payload: body,
            authority,
            token: Some(token.id.clone()),
        };
        let quotas = &server.quotas;
        let enqueued = jobs::enqueue(&mut db, &job, now, |tx| match full {
            Some(exceeded) => Ok(Err(exceeded)),
            None => quota::charge(tx, quotas, &token, org.as_ref(), now),
        })??;
        drop(db);
        let (status, id) = match enqueued {
            Enqueued::Created(id) => {
                let i = (server.registries.iter())
                    .position(|r| r.name == hosted.name)
                    .expect("a served registry");
                state.wakes[i].notify();
                (StatusCode::CREATED, id)
            }
            Enqueued::Existing(id) => (StatusCode::OK, id),
        };
        Ok((status, axum::Json(serde_json::json!({"jobId": id}))).into_response())
    })
    .await
}

/// registry-dev's `PackageSetUpdateRequest` (`{payload: "<the update as JSON text>",
/// signature?}`) as the update it carries; any other body as it is. Its signature, the
/// PureScript Registry's bot's over a restricted update, is not what authorises one here:
/// an `admin` token is.
fn unwrap_package_set_request(body: String) -> String {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(&body)
    else {
        return body;
    };
    // Only an update inside: a signed operation (`{payload, signature}` too) stays as it
    // is, to be refused as the wrong kind for the route.
    let carries_update = |inner: &str| {
        matches!(
            serde_json::from_str::<serde_json::Value>(inner),
            Ok(serde_json::Value::Object(update)) if update.contains_key("packages")
        )
    };
    match map.get("payload") {
        Some(serde_json::Value::String(inner))
            if !map.contains_key("packages")
                && map
                    .keys()
                    .all(|k| ["payload", "rawPayload", "signature"].contains(&k.as_str()))
                && carries_update(inner) =>
        {
            inner.clone()
        }
        _ => body,
    }
}

fn timestamp_param(
    params: &HashMap<String, String>,
    key: &str,
) -> Result<Option<Timestamp>, ApiError> {
    params
        .get(key)
        .map(|t| {
            Timestamp::parse(t).map_err(|_| {
                ApiError::bad_request(format!(
                    "`{key}` is {}: expected a time `YYYY-MM-DDTHH:MM:SS.mmmZ`",
                    crate::text::echo(t)
                ))
            })
        })
        .transpose()
}

fn filter(query: &HashMap<String, String>) -> Result<Filter, ApiError> {
    let descending = match query.get("order").map(String::as_str) {
        None | Some("ASC") => false,
        Some("DESC") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "`order` is {}: expected `ASC` or `DESC`",
                crate::text::echo(other)
            )));
        }
    };
    let level = match query.get("level") {
        None => None,
        Some(text) => Some(Level::parse(text).ok_or_else(|| {
            ApiError::bad_request(format!(
                "`level` is {}: expected `DEBUG`, `INFO`, `WARN`, `NOTICE` or `ERROR`",
                crate::text::echo(text)
            ))
        })?),
    };
    Ok(Filter {
        level,
        since: timestamp_param(query, "since")?,
        until: timestamp_param(query, "until")?,
        descending,
    })
}

async fn list_jobs(
    axum::extract::State(state): axum::extract::State<State>,
    Path(params): Params,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    blocking(move || {
        let hosted = hosted(&state.server, &params)?;
        let filter = filter(&query)?;
        let include_completed = match query.get("include_completed").map(String::as_str) {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "`include_completed` is {}: expected `true` or `false`",
                    crate::text::echo(other)
                )));
            }
        };
        let db = state.db.lock().expect("db lock");
        let jobs = jobs::list(&db, &hosted.name, &filter, include_completed, JOBS_MAX)?;
        Ok(axum::Json(jobs).into_response())
    })
    .await
}

async fn get_job(
    axum::extract::State(state): axum::extract::State<State>,
    Path(params): Params,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    blocking(move || {
        let hosted = hosted(&state.server, &params)?;
        let filter = filter(&query)?;
        let id = params.get("id").cloned().unwrap_or_default();
        let db = state.db.lock().expect("db lock");
        match jobs::get(&db, &hosted.name, &id, &filter)? {
            Some(job) => Ok(axum::Json(job).into_response()),
            None => Err(ApiError::not_found(format!(
                "registry `{}` has no job {}",
                hosted.name,
                crate::text::echo(&id)
            ))),
        }
    })
    .await
}

async fn status(
    axum::extract::State(state): axum::extract::State<State>,
    Path(params): Params,
) -> Result<Response, ApiError> {
    hosted(&state.server, &params)?;
    Ok(StatusCode::OK.into_response())
}

/// `NAME@VERSION` or `NAME@TAG` resolved through the package's metadata (its `aliases`;
/// `latest`, unless set, the newest version published and not yanked): `{name, spec,
/// version, published}` with the version's metadata entry.
async fn resolve(
    axum::extract::State(state): axum::extract::State<State>,
    Path(params): Params,
) -> Result<Response, ApiError> {
    blocking(move || {
        let hosted = hosted(&state.server, &params)?;
        let (name, spec) = (
            params.get("name").cloned().unwrap_or_default(),
            params.get("spec").cloned().unwrap_or_default(),
        );
        let refused = |e: crate::schema::SchemaError| ApiError::bad_request(crate::error_chain(&e));
        let name: crate::schema::PackageName = name.parse().map_err(refused)?;
        let spec = crate::schema::VersionSpec::parse(&spec).map_err(refused)?;
        let registry = crate::store::RegistryDir::new(&hosted.registry);
        let metadata = registry
            .read_metadata(&name)
            .map_err(|e| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    crate::error_chain(&e),
                )
            })?
            .ok_or_else(|| {
                ApiError::not_found(format!(
                    "registry `{}` has no package `{name}`",
                    hosted.name
                ))
            })?;
        let version = metadata
            .resolve(&name, &spec)
            .map_err(|e| ApiError::not_found(crate::error_chain(&e)))?;
        let entry = metadata
            .published
            .get(&version)
            .ok_or_else(|| ApiError::not_found(format!("`{name}@{version}` is not published")))?;
        Ok(axum::Json(serde_json::json!({
            "name": name,
            "spec": spec.to_string(),
            "version": version,
            "published": entry,
        }))
        .into_response())
    })
    .await
}

/// A file of a registry's storage; a path with an empty, `.`, `..` or hidden component
/// (an interrupted write), or that leads out of the storage directory, is not found.
async fn static_file(
    axum::extract::State(state): axum::extract::State<State>,
    Path(params): Params,
) -> Result<Response, ApiError> {
    blocking(move || {
        let hosted = hosted(&state.server, &params)?;
        let rel = params.get("path").cloned().unwrap_or_default();
        let missing = || ApiError::not_found(format!("no file {}", crate::text::echo(&rel)));
        let Some(served) = hosted.served() else {
            return Err(missing());
        };
        let safe = !rel.is_empty()
            && rel.split('/').all(|part| {
                !part.is_empty() && !part.starts_with('.') && !part.contains(['\\', '\0'])
            });
        if !safe {
            return Err(missing());
        }
        let root = served.canonicalize().map_err(|_| missing())?;
        let path = root.join(&rel).canonicalize().map_err(|_| missing())?;
        if !path.starts_with(&root) || !path.is_file() {
            return Err(missing());
        }
        let size = std::fs::metadata(&path).map_err(|_| missing())?.len();
        if size > STATIC_MAX_BYTES {
            return Err(missing());
        }
        let bytes = std::fs::read(&path).map_err(|_| missing())?;
        let kind = if rel.ends_with(".json") {
            "application/json"
        } else if rel.ends_with(".tar.gz") {
            "application/gzip"
        } else {
            "application/octet-stream"
        };
        Ok(([(header::CONTENT_TYPE, kind)], bytes).into_response())
    })
    .await
}

/// The PureScript Registry's CORS: any origin may read; a preflight is answered `204`.
async fn cors(request: Request, next: Next) -> Response {
    let preflight = request.method() == Method::OPTIONS;
    let mut response = if preflight {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(request).await
    };
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, HEAD, POST, OPTIONS"),
    );
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    if preflight {
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("Content-Type, Authorization"),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("86400"),
        );
    }
    response
}

async fn not_found() -> ApiError {
    ApiError::not_found(
        "no such route: the API is under `/api/v1/` and `/registries/<name>/api/v1/`".into(),
    )
}

macro_rules! endpoint {
    ($endpoint:expr) => {
        post(
            |axum::extract::State(state): axum::extract::State<State>,
             Path(params): Params,
             headers: HeaderMap,
             body: Result<String, axum::extract::rejection::StringRejection>| async move {
                submit(state, params, headers, body, $endpoint).await
            },
        )
    };
}

/// The API's routes.
pub fn router(state: State) -> Router {
    let mut router = Router::new();
    for prefix in ["/api/v1", "/registries/{registry}/api/v1"] {
        router = router
            .route(&format!("{prefix}/publish"), endpoint!(Endpoint::Publish))
            .route(
                &format!("{prefix}/unpublish"),
                endpoint!(Endpoint::Unpublish),
            )
            .route(&format!("{prefix}/transfer"), endpoint!(Endpoint::Transfer))
            .route(
                &format!("{prefix}/package-sets"),
                endpoint!(Endpoint::PackageSets),
            )
            .route(&format!("{prefix}/yank"), endpoint!(Endpoint::Yank))
            .route(
                &format!("{prefix}/deprecate"),
                endpoint!(Endpoint::Deprecate),
            )
            .route(&format!("{prefix}/alias"), endpoint!(Endpoint::Alias))
            .route(
                &format!("{prefix}/packages/{{name}}/{{spec}}"),
                get(resolve),
            )
            .route(&format!("{prefix}/jobs"), get(list_jobs))
            .route(&format!("{prefix}/jobs/{{id}}"), get(get_job))
            .route(&format!("{prefix}/status"), get(status));
    }
    router
        .route("/registries/{registry}/static/{*path}", get(static_file))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_MAX_BYTES))
        .layer(axum::middleware::from_fn(cors))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_package_set_request_in_registry_devs_shape_is_the_update_it_carries() {
        let update = r#"{"compiler":"0.15.15","packages":{"prelude":"6.0.1"}}"#;
        let wrapped = serde_json::json!({"payload": update, "rawPayload": update}).to_string();
        assert_eq!(unwrap_package_set_request(wrapped), update);
        let signed = serde_json::json!({"payload": update, "signature": "ab"}).to_string();
        assert_eq!(unwrap_package_set_request(signed), update);
        // A bare update, and anything else, are left as they are.
        assert_eq!(unwrap_package_set_request(update.to_owned()), update);
        let deprecate = r#"{"name":"prelude","message":"use another"}"#;
        let signed = serde_json::json!({"payload": deprecate, "signature": "ab"}).to_string();
        assert_eq!(unwrap_package_set_request(signed.clone()), signed);
        let other = r#"{"payload": "x", "packages": {}}"#;
        assert_eq!(unwrap_package_set_request(other.to_owned()), other);
        let transfer = r#"{"payload": "x", "signature": "s", "email": "e"}"#;
        assert_eq!(unwrap_package_set_request(transfer.to_owned()), transfer);
    }
}
