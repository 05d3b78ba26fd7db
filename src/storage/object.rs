//! Tarballs in an object store (S3 and S3-compatible stores, Google Cloud Storage, Azure
//! Blob Storage, local files, memory), through the `object_store` crate.
//!
//! Writes are create-only: a look for the object, `PutMode::Create` (`If-None-Match: *` on
//! S3), then the object read back and compared, since some S3-compatible stores ignore the
//! condition and overwrite. An object found in place is accepted only if its bytes are the upload's
//! ([`Storage::put`]); nothing here replaces an object with other bytes.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures_util::TryStreamExt as _;
use object_store::path::Path as ObjectPath;
use object_store::{
    ObjectStore, ObjectStoreExt as _, ObjectStoreScheme, PutMode, PutOptions, PutPayload,
    UpdateVersion,
};
use url::Url;

use super::{Listed, ListedKind, Storage, StorageError, StorageKey};

/// The URL schemes that name an object store rather than a directory.
pub const SCHEMES: &[&str] = &[
    "s3", "s3a", "gs", "az", "adl", "azure", "abfs", "abfss", "file", "memory", "http", "https",
];

/// Whether `text` names an object store (`s3://bucket/prefix`, …) rather than a directory.
pub fn is_url(text: &str) -> bool {
    text.split_once("://")
        .is_some_and(|(scheme, _)| SCHEMES.contains(&scheme.to_ascii_lowercase().as_str()))
}

/// `url` for messages: without credentials, a query or a fragment (where some stores
/// carry tokens).
pub(super) fn describe(url: &str) -> String {
    let redacted = crate::schema::redact_url(url);
    match redacted.find(['?', '#']) {
        Some(cut) => redacted[..cut].to_owned(),
        None => redacted,
    }
}

/// How many reads [`Storage::get_many`] has in flight at once.
const READS_IN_FLIGHT: usize = 16;

/// Tarballs as objects `<prefix>/<name>/<version>.tar.gz` in one bucket or container.
pub struct ObjectStorage {
    store: Arc<dyn ObjectStore>,
    prefix: ObjectPath,
    /// The URL as given, without credentials, for messages.
    described: String,
    /// Read over plain HTTP(S): no listing.
    http: bool,
    runtime: tokio::runtime::Runtime,
}

impl std::fmt::Debug for ObjectStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectStorage")
            .field("url", &self.described)
            .finish_non_exhaustive()
    }
}

impl ObjectStorage {
    /// The store at `url`, its credentials and settings from the process environment
    /// (`AWS_*` for `s3://`, `GOOGLE_*` for `gs://`, `AZURE_*` for `az://`, as each
    /// provider's own tools read them).
    pub fn open(url: &str) -> Result<ObjectStorage, StorageError> {
        ObjectStorage::open_with(url, std::env::vars())
    }

    /// [`ObjectStorage::open`] with the environment given: of `vars`, only those of the
    /// URL's provider are read.
    pub fn open_with(
        url: &str,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<ObjectStorage, StorageError> {
        let described = describe(url);
        // TLS through rustls with ring (see Cargo.toml); a provider installed already stays.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let refuse = |why: String| StorageError::Open {
            location: described.clone(),
            why,
        };
        let parsed = Url::parse(url).map_err(|e| refuse(format!("not a URL: {e}")))?;
        let (scheme, path) = ObjectStoreScheme::parse(&parsed).map_err(|e| {
            refuse(format!(
                "{e}: expected one of {}",
                SCHEMES
                    .iter()
                    .map(|s| format!("`{s}://`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        let prefix = ObjectPath::parse(path).map_err(|e| refuse(e.to_string()))?;
        // An empty variable is unset: what a workflow's `${{ secrets.X }}` gives for a
        // secret the repository does not have.
        let options = |wanted: &str| {
            vars.into_iter()
                .filter(|(k, v)| k.starts_with(wanted) && !v.is_empty())
                .map(|(k, v)| (k.to_ascii_lowercase(), v))
                .collect::<Vec<_>>()
        };
        let built: Result<Arc<dyn ObjectStore>, object_store::Error> = match scheme {
            ObjectStoreScheme::AmazonS3 => {
                configured(object_store::aws::AmazonS3Builder::new(), options("AWS_"))
                    .with_url(url)
                    .build()
                    .map(|s| Arc::new(s) as _)
            }
            ObjectStoreScheme::GoogleCloudStorage => configured(
                object_store::gcp::GoogleCloudStorageBuilder::new(),
                options("GOOGLE_"),
            )
            .with_url(url)
            .build()
            .map(|s| Arc::new(s) as _),
            ObjectStoreScheme::MicrosoftAzure => configured(
                object_store::azure::MicrosoftAzureBuilder::new(),
                options("AZURE_"),
            )
            .with_url(url)
            .build()
            .map(|s| Arc::new(s) as _),
            // A public download URL (`storageUrl`'s base): `http://` only as written.
            ObjectStoreScheme::Http => object_store::http::HttpBuilder::new()
                .with_url(url)
                .with_client_options(
                    object_store::ClientOptions::new().with_allow_http(parsed.scheme() == "http"),
                )
                .build()
                .map(|s| Arc::new(s) as _),
            ObjectStoreScheme::Local => {
                let root = parsed
                    .to_file_path()
                    .map_err(|()| refuse("not a local path".into()))?;
                std::fs::create_dir_all(&root)
                    .map_err(|e| refuse(format!("creating `{}`: {e}", root.display())))?;
                object_store::local::LocalFileSystem::new_with_prefix(&root)
                    .map(|s| Arc::new(s) as _)
            }
            ObjectStoreScheme::Memory => Ok(Arc::new(object_store::memory::InMemory::new()) as _),
            other => return Err(refuse(format!("{other:?} is not supported"))),
        };
        let store = built.map_err(|e| refuse(e.to_string()))?;
        let http = scheme == ObjectStoreScheme::Http;
        // The HTTP and local stores are rooted at the prefix already.
        let prefix = if http || scheme == ObjectStoreScheme::Local {
            ObjectPath::default()
        } else {
            prefix
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| refuse(format!("starting the I/O runtime: {e}")))?;
        Ok(ObjectStorage {
            store,
            prefix,
            described,
            http,
            runtime,
        })
    }

    fn path_of(&self, key: &StorageKey) -> ObjectPath {
        self.prefix
            .parts()
            .chain(ObjectPath::from(key.as_str()).parts())
            .collect()
    }

    /// A path below the prefix, as `list` names it.
    fn relative(&self, path: &ObjectPath) -> String {
        match path.prefix_match(&self.prefix) {
            Some(parts) => parts
                .map(|p| p.as_ref().to_string())
                .collect::<Vec<_>>()
                .join("/"),
            None => path.to_string(),
        }
    }

    fn error(
        &self,
        action: &'static str,
        key: &StorageKey,
        e: object_store::Error,
    ) -> StorageError {
        StorageError::Object {
            location: self.described.clone(),
            action,
            path: key.to_string(),
            source: Box::new(e),
        }
    }

    /// The object's bytes and its version, if it is there.
    fn get_versioned(
        &self,
        key: &StorageKey,
    ) -> Result<Option<(Vec<u8>, UpdateVersion)>, StorageError> {
        self.runtime.block_on(self.read(key))
    }

    async fn read(
        &self,
        key: &StorageKey,
    ) -> Result<Option<(Vec<u8>, UpdateVersion)>, StorageError> {
        let got = match self.store.get(&self.path_of(key)).await {
            Ok(got) => got,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(self.error("reading", key, e)),
        };
        let version = UpdateVersion {
            e_tag: got.meta.e_tag.clone(),
            version: got.meta.version.clone(),
        };
        let bytes = got
            .bytes()
            .await
            .map_err(|e| self.error("reading", key, e))?;
        Ok(Some((bytes.to_vec(), version)))
    }
}

/// A builder given the provider's settings (`aws_access_key_id`, …); names it does not
/// know are left out, as the builders' own `from_env` leaves them.
fn configured<B, K>(builder: B, options: Vec<(String, String)>) -> B
where
    B: WithConfig<K>,
    K: std::str::FromStr,
{
    options
        .into_iter()
        .fold(builder, |b, (k, v)| match k.parse::<K>() {
            Ok(key) => b.with(key, v),
            Err(_) => b,
        })
}

/// The one method the three cloud builders share under different names.
trait WithConfig<K> {
    fn with(self, key: K, value: String) -> Self;
}

impl WithConfig<object_store::aws::AmazonS3ConfigKey> for object_store::aws::AmazonS3Builder {
    fn with(self, key: object_store::aws::AmazonS3ConfigKey, value: String) -> Self {
        self.with_config(key, value)
    }
}

impl WithConfig<object_store::gcp::GoogleConfigKey>
    for object_store::gcp::GoogleCloudStorageBuilder
{
    fn with(self, key: object_store::gcp::GoogleConfigKey, value: String) -> Self {
        self.with_config(key, value)
    }
}

impl WithConfig<object_store::azure::AzureConfigKey>
    for object_store::azure::MicrosoftAzureBuilder
{
    fn with(self, key: object_store::azure::AzureConfigKey, value: String) -> Self {
        self.with_config(key, value)
    }
}

impl Storage for ObjectStorage {
    fn get(&self, key: &StorageKey) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.get_versioned(key)?.map(|(bytes, _)| bytes))
    }

    /// Up to 16 requests at a time (`READS_IN_FLIGHT`), answers in the keys' order.
    fn get_many(&self, keys: &[StorageKey]) -> Vec<Result<Option<Vec<u8>>, StorageError>> {
        use futures_util::StreamExt as _;
        let reads = futures_util::stream::iter(keys)
            .map(|key| async move { Ok(self.read(key).await?.map(|(bytes, _)| bytes)) })
            .buffered(READS_IN_FLIGHT)
            .collect::<Vec<_>>();
        self.runtime.block_on(reads)
    }

    /// A look first (`HEAD`), then `PutMode::Create`, then the object read back: a store
    /// that ignores the condition (Garage does) and kept another writer's bytes makes this
    /// a lost race (`Ok(false)`), so the caller compares. On such a store two writers of
    /// one key within the same instant can still both write; the last one's bytes stay,
    /// and `regis check --storage` finds a tarball whose hash is not the metadata's.
    fn write_new(&self, key: &StorageKey, bytes: &[u8]) -> Result<bool, StorageError> {
        let path = self.path_of(key);
        match self.runtime.block_on(self.store.head(&path)) {
            Ok(_) => return Ok(false),
            Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(self.error("writing", key, e)),
        }
        let put = self.runtime.block_on(self.store.put_opts(
            &path,
            PutPayload::from(bytes.to_vec()),
            PutOptions::from(PutMode::Create),
        ));
        match put {
            Ok(_) => {}
            Err(object_store::Error::AlreadyExists { .. }) => return Ok(false),
            Err(e) => return Err(self.error("writing", key, e)),
        }
        crate::fault::point("storage:written");
        match self.get(key)? {
            Some(stored) if stored == bytes => Ok(true),
            _ => Ok(false),
        }
    }

    /// A conditional put: `If-Match` the version read when it holds `expected`, `If-None-Match:
    /// *` when `expected` is that it is absent (a store without conditional updates is
    /// overwritten, the comparison just made).
    fn replace_if(
        &self,
        key: &StorageKey,
        expected: Option<&[u8]>,
        bytes: &[u8],
    ) -> Result<bool, StorageError> {
        let current = self.get_versioned(key)?;
        let mode = match (&current, expected) {
            (None, None) => PutMode::Create,
            (Some((now, version)), Some(expected)) if now.as_slice() == expected => {
                if version.e_tag.is_some() || version.version.is_some() {
                    PutMode::Update(version.clone())
                } else {
                    PutMode::Overwrite
                }
            }
            _ => return Ok(false),
        };
        let path = self.path_of(key);
        let put = |mode| {
            self.runtime.block_on(self.store.put_opts(
                &path,
                PutPayload::from(bytes.to_vec()),
                PutOptions::from(mode),
            ))
        };
        match put(mode) {
            Ok(_) => Ok(true),
            Err(
                object_store::Error::Precondition { .. }
                | object_store::Error::AlreadyExists { .. },
            ) => Ok(false),
            Err(object_store::Error::NotImplemented { .. }) => put(PutMode::Overwrite)
                .map(|_| true)
                .map_err(|e| self.error("writing", key, e)),
            Err(e) => Err(self.error("writing", key, e)),
        }
    }

    fn delete(&self, key: &StorageKey) -> Result<bool, StorageError> {
        let path = self.path_of(key);
        self.runtime.block_on(async {
            match self.store.head(&path).await {
                Ok(_) => {}
                Err(object_store::Error::NotFound { .. }) => return Ok(false),
                Err(e) => return Err(self.error("deleting", key, e)),
            }
            match self.store.delete(&path).await {
                Ok(()) => Ok(true),
                Err(object_store::Error::NotFound { .. }) => Ok(false),
                Err(e) => Err(self.error("deleting", key, e)),
            }
        })
    }

    /// An object's modification time can only be renewed by writing it: the same bytes
    /// are written again, on condition that the object is still the version just read
    /// (`If-Match`), so its contents never change.
    fn touch(&self, key: &StorageKey) -> Result<(), StorageError> {
        let Some((bytes, version)) = self.get_versioned(key)? else {
            return Err(self.error(
                "touching",
                key,
                object_store::Error::NotFound {
                    path: key.to_string(),
                    source: "the object is gone".into(),
                },
            ));
        };
        let path = self.path_of(key);
        let mode = if version.e_tag.is_some() || version.version.is_some() {
            PutMode::Update(version)
        } else {
            PutMode::Overwrite
        };
        let put = |mode| {
            self.runtime.block_on(self.store.put_opts(
                &path,
                PutPayload::from(bytes.clone()),
                PutOptions::from(mode),
            ))
        };
        match put(mode) {
            Ok(_) => Ok(()),
            // A store without conditional updates: the bytes are the ones just read.
            Err(object_store::Error::NotImplemented { .. }) => put(PutMode::Overwrite)
                .map(|_| ())
                .map_err(|e| self.error("touching", key, e)),
            Err(e) => Err(self.error("touching", key, e)),
        }
    }

    fn list(&self) -> Result<Vec<Listed>, StorageError> {
        let prefix = (!self.prefix.as_ref().is_empty()).then_some(&self.prefix);
        let metas: Vec<object_store::ObjectMeta> = self
            .runtime
            .block_on(self.store.list(prefix).try_collect())
            .map_err(|e| StorageError::Object {
                location: self.described.clone(),
                action: "listing",
                path: self.prefix.to_string(),
                source: Box::new(e),
            })?;
        let now = SystemTime::now();
        let mut out: Vec<Listed> = metas
            .into_iter()
            .map(|meta| {
                let path = self.relative(&meta.location);
                let modified = SystemTime::from(meta.last_modified);
                Listed {
                    kind: ListedKind::of(&path),
                    path,
                    bytes: meta.size,
                    age: now.duration_since(modified).unwrap_or_default(),
                }
            })
            .collect();
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    /// A put to an object store is atomic: no write leaves a temporary object.
    fn sweep_temporary(&self, _: Duration) -> Result<Vec<String>, StorageError> {
        Ok(vec![])
    }

    fn describe(&self) -> String {
        self.described.clone()
    }

    /// A plain HTTP server (a bucket's public URL, a CDN) serves objects by URL and has no
    /// listing; WebDAV's is not assumed.
    fn lists(&self) -> bool {
        !self.http
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_storage_contract_in_memory_and_in_local_files() {
        super::super::contract::check(&ObjectStorage::open_with("memory:///", []).unwrap());
        let dir = tempfile::tempdir().unwrap();
        let url = Url::from_directory_path(dir.path()).unwrap();
        let s = ObjectStorage::open_with(url.as_str(), []).unwrap();
        super::super::contract::check_in_dir(&s, dir.path());
    }

    #[test]
    fn follows_the_storage_contract_in_a_real_s3_store() {
        let Some(s3) = crate::testing::S3Prefix::new() else {
            return;
        };
        let s = ObjectStorage::open_with(&s3.url, s3.env()).unwrap();
        super::super::contract::check(&s);
        // Another prefix in the same bucket sees none of it.
        let other = crate::testing::S3Prefix::new().unwrap();
        let o = ObjectStorage::open_with(&other.url, other.env()).unwrap();
        assert_eq!(o.list().unwrap(), vec![]);
        assert!(!s.list().unwrap().is_empty());
    }

    #[test]
    fn wrong_s3_credentials_are_an_error_naming_the_store_and_not_the_secret() {
        let Some(s3) = crate::testing::S3Prefix::new() else {
            return;
        };
        let vars = s3.env().into_iter().map(|(k, v)| match k.as_str() {
            "AWS_SECRET_ACCESS_KEY" => (k, "not-the-secret-at-all".to_owned()),
            _ => (k, v),
        });
        let s = ObjectStorage::open_with(&s3.url, vars).unwrap();
        let k = StorageKey::tarball(&"a".parse().unwrap(), &"1.0.0".parse().unwrap());
        let e = crate::error_chain(&s.put(&k, b"x").unwrap_err());
        assert!(e.contains(&s3.url), "{e}");
        assert!(!e.contains("not-the-secret"), "{e}");
    }

    #[test]
    fn an_empty_variable_is_unset() {
        let Some(s3) = crate::testing::S3Prefix::new() else {
            return;
        };
        // An empty session token, if sent, would fail every request's signature.
        let vars = (s3.env().into_iter()).chain(
            ["AWS_SESSION_TOKEN", "AWS_TOKEN", "AWS_CHECKSUM_ALGORITHM"]
                .map(|k| (k.to_owned(), String::new())),
        );
        let s = ObjectStorage::open_with(&s3.url, vars).unwrap();
        let k = StorageKey::tarball(&"a".parse().unwrap(), &"1.0.0".parse().unwrap());
        assert_eq!(s.put(&k, b"x").unwrap(), crate::storage::Put::Stored);
    }

    #[test]
    fn tells_urls_from_directories() {
        for url in [
            "s3://bucket/prefix",
            "gs://b",
            "az://c/p",
            "file:///tmp/s",
            "S3://b",
        ] {
            assert!(is_url(url), "{url}");
        }
        for dir in [
            "../storage",
            "/srv/tarballs",
            "s3",
            "ftp://host/x",
            "./s3://x",
        ] {
            assert!(!is_url(dir), "{dir}");
        }
    }

    #[test]
    fn an_unknown_scheme_or_a_bad_url_is_refused_naming_it() {
        let e = ObjectStorage::open_with("s3://", [])
            .unwrap_err()
            .to_string();
        assert!(e.contains("`s3://`"), "{e}");
        let e = ObjectStorage::open_with("ftp://host/x", [])
            .unwrap_err()
            .to_string();
        assert!(e.contains("`ftp://host/x`") && e.contains("`gs://`"), "{e}");
    }

    #[test]
    fn credentials_in_the_url_are_never_shown() {
        let e = ObjectStorage::open_with("https://user:secret@127.0.0.1:1/x", [])
            .map(|s| s.describe())
            .unwrap_or_else(|e| e.to_string());
        assert!(!e.contains("secret"), "{e}");
    }
}
