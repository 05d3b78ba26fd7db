//! Registry configuration: `regis.dhall` typed by `schemas/Config.dhall`, checked once into
//! a [`Config`] of checked types, with the PureScript Registry's defaults.
//!
//! [`FIELDS`] is the one description of the fields: `regis init` writes its comments into
//! `regis.dhall`, and tests prove that `schemas/Config.dhall` and the docs of [`Config`]
//! say the same.

use std::fmt;
use std::path::Path;

use crate::dhall::{self, DhallError, Schema};
use crate::schema::{Owner, Version};
use crate::trust::KeySource;

/// The config file at the root of a registry repo.
pub const CONFIG_FILE: &str = "regis.dhall";

/// One field of `regis.dhall`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// The Dhall (and JSON) name.
    pub name: &'static str,
    /// The field's Dhall type.
    pub ty: &'static str,
    /// What the field means (a lowercase phrase, no trailing period).
    pub doc: &'static str,
}

/// Every field of `regis.dhall`, in the order `regis init` writes them.
pub const FIELDS: [Field; 38] = [
    Field {
        name: "name",
        ty: "Text",
        doc: "registry name used in messages and commit messages",
    },
    Field {
        name: "githubBaseUrl",
        ty: "Text",
        doc: "where GitHub locations are cloned from: <base>/<owner>/<repo>.git",
    },
    Field {
        name: "defaultCompiler",
        ty: "Text",
        doc: "compiler version recorded when a Publish gives none; one of `compilers`",
    },
    Field {
        name: "compilers",
        ty: "List Text",
        doc: "the compiler versions the registry builds with: with a build check, a publish runs it with each one its dependencies allow and records every one that passes",
    },
    Field {
        name: "forbiddenNamePrefixes",
        ty: "List Text",
        doc: "package name prefixes refused at publish",
    },
    Field {
        name: "reservedNames",
        ty: "List Text",
        doc: "package names nobody may publish",
    },
    Field {
        name: "packageBytesMax",
        ty: "Natural",
        doc: "a tarball larger than this many bytes is refused",
    },
    Field {
        name: "packageBytesWarn",
        ty: "Natural",
        doc: "a tarball larger than this many bytes is published with a warning",
    },
    Field {
        name: "pushAttempts",
        ty: "Natural",
        doc: "how many times a git push that lost a race is re-applied and retried",
    },
    Field {
        name: "pushRetrySeconds",
        ty: "Natural",
        doc: "how many seconds a git push that lost a race may go on being re-applied and retried",
    },
    Field {
        name: "buildCheck",
        ty: "Optional Text",
        doc: "shell command (sh -c) that checks a package builds against its dependencies",
    },
    Field {
        name: "docs",
        ty: "Optional Text",
        doc: "shell command (sh -c) that builds a package's documentation",
    },
    Field {
        name: "hookTimeoutSeconds",
        ty: "Natural",
        doc: "a build check or docs command running longer is killed and counts as failed",
    },
    Field {
        name: "matrixTimeoutSeconds",
        ty: "Natural",
        doc: "how many seconds a publish's build checks with the compilers after the first may take together; a compiler not reached in time is not recorded (0: the first only)",
    },
    Field {
        name: "githubApiUrl",
        ty: "Text",
        doc: "the GitHub REST API for issue comments, team checks and repository lookups",
    },
    Field {
        name: "githubTokenEnv",
        ty: "Text",
        doc: "the environment variable holding the GitHub token",
    },
    Field {
        name: "botLogin",
        ty: "Text",
        doc: "the GitHub login the registry comments as; its comments are ignored",
    },
    Field {
        name: "botPublicKey",
        ty: "Optional Text",
        doc: "the bot's OpenSSH public key; payloads it signed count as a trustee's",
    },
    Field {
        name: "botKeyEnv",
        ty: "Text",
        doc: "the environment variable holding the bot's OpenSSH private key",
    },
    Field {
        name: "trustees",
        ty: "List Text",
        doc: "OpenSSH public keys of trustees",
    },
    Field {
        name: "trusteeTeam",
        ty: "Optional Text",
        doc: "the GitHub team (org/team-slug) whose members are trustees",
    },
    Field {
        name: "unpublishWindowHours",
        ty: "Natural",
        doc: "how many hours after publishing an owner may still unpublish a version",
    },
    Field {
        name: "signatureNamespace",
        ty: "Text",
        doc: "the namespace SSHSIG signatures are made and checked in",
    },
    Field {
        name: "ownerChanges",
        ty: "Text",
        doc: "who may change a package's owners by publishing a manifest with other `owners`: `\"signed\"` (regis's rule, what `regis init` writes), only with a current owner's or a trustee's signature of the new list (the Publish payload's `ownersSignature`), or `\"location\"` (the PureScript Registry's rule), whoever can publish from the package's location",
    },
    Field {
        name: "storage",
        ty: "Optional Text",
        doc: "where tarballs are: a directory relative to the registry repo, or an object store URL (`s3://bucket/prefix`, `gs://`, `az://`, `file://`)",
    },
    Field {
        name: "storageUrl",
        ty: "Optional Text",
        doc: "where anyone downloads a published tarball: a URL template with `{name}` and `{version}`, e.g. `https://packages.example.org/{name}/{version}.tar.gz`; written into publish comments and the registry's README",
    },
    Field {
        name: "mirrors",
        ty: "List Text",
        doc: "other storages (directories relative to the registry repo, or object store URLs) a publish also writes each tarball to, after `storage`, and readers fall back to when `storage` lacks one; `regis storage sync` fills in what a mirror lacks",
    },
    Field {
        name: "index",
        ty: "Optional Text",
        doc: "default index checkout, relative to the registry repo",
    },
    Field {
        name: "dhallCache",
        ty: "Optional Text",
        doc: "a Dhall cache directory (files `1220<sha256>`, as `dhall` keeps in ~/.cache/dhall), relative to the registry repo, that a package's spago.dhall may take `https://` imports pinned by `sha256:` from",
    },
    Field {
        name: "trustRootKeys",
        ty: "List Text",
        doc: "where this machine finds private root keys to sign a new root version with (`regis keys rotate`, `revoke`), each `file:<path>` (relative to the registry repo, outside every git work tree) or `env:<VAR>` (the PEM text), read only by the commands that sign with it; root keys are offline: list them only where roots are signed",
    },
    Field {
        name: "trustTargetsKey",
        ty: "Optional Text",
        doc: "where the private key of the TUF targets role comes from: `file:<path>` (relative to the registry repo, outside every git work tree) or `env:<VAR>` (the PEM text), read only by the commands that sign with it",
    },
    Field {
        name: "trustSnapshotKey",
        ty: "Optional Text",
        doc: "where the private key of the TUF snapshot role comes from: `file:<path>` (relative to the registry repo, outside every git work tree) or `env:<VAR>` (the PEM text), read only by the commands that sign with it",
    },
    Field {
        name: "trustTimestampKey",
        ty: "Optional Text",
        doc: "where the private key of the TUF timestamp role comes from: `file:<path>` (relative to the registry repo, outside every git work tree) or `env:<VAR>` (the PEM text), read only by the commands that sign with it",
    },
    Field {
        name: "trustAtomKey",
        ty: "Optional Text",
        doc: "where the private key that signs atoms comes from: `file:<path>` (relative to the registry repo, outside every git work tree) or `env:<VAR>` (the PEM text), read only by the commands that sign with it",
    },
    Field {
        name: "trustRootExpiryDays",
        ty: "Natural",
        doc: "how many days a new root version (`regis keys init`, `rotate`, `revoke`) stays valid",
    },
    Field {
        name: "trustTimestampExpiryDays",
        ty: "Natural",
        doc: "how many days a TUF timestamp stays valid: every operation and `regis keys refresh` (in the daily workflow) signs a new one, and a client refuses a registry whose timestamp is older",
    },
    Field {
        name: "trustOnlineExpiryDays",
        ty: "Natural",
        doc: "how many days TUF targets, hash bins and snapshots stay valid (re-signed when a change touches them, and by `regis keys refresh` within the last third of this)",
    },
    Field {
        name: "trustHashBins",
        ty: "Natural",
        doc: "how many hash bins a new TUF repository (`regis verify --adopt`) delegates the targets to: 16, 256, 4096 or 65536; a publish re-signs the bins its two targets (the tarball and its atom) fall in and the snapshot, which lists every bin, so 256 re-writes the least up to about 100,000 targets and 4096 from there to about 20 million (2.4 MB against 0.4 MB a publish at a million targets), while a client that loads every bin (`regis fetch`, `regis verify`) takes time in proportion to targets times bins",
    },
];

/// A registry's configuration, every field checked. The Dhall field names are the
/// camelCase of these; [`FIELDS`] describes them (the docs below say the same).
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Registry name used in messages and commit messages.
    pub name: String,
    /// Where GitHub locations are cloned from: `<base>/<owner>/<repo>.git`.
    pub github_base_url: BaseUrl,
    /// Compiler version recorded when a Publish gives none; one of `compilers`.
    pub default_compiler: Version,
    /// The compiler versions the registry builds with: with a build check, a publish runs
    /// it with each one its dependencies allow and records every one that passes.
    pub compilers: Vec<Version>,
    /// Package name prefixes refused at publish.
    pub forbidden_name_prefixes: Vec<String>,
    /// Package names nobody may publish.
    pub reserved_names: Vec<String>,
    /// A tarball larger than this many bytes is refused.
    pub package_bytes_max: u64,
    /// A tarball larger than this many bytes is published with a warning.
    pub package_bytes_warn: u64,
    /// How many times a git push that lost a race is re-applied and retried.
    pub push_attempts: u32,
    /// How many seconds a git push that lost a race may go on being re-applied and retried.
    pub push_retry_seconds: u64,
    /// Shell command (sh -c) that checks a package builds against its dependencies.
    pub build_check: Option<String>,
    /// Shell command (sh -c) that builds a package's documentation.
    pub docs: Option<String>,
    /// A build check or docs command running longer is killed and counts as failed.
    pub hook_timeout_seconds: u64,
    /// How many seconds a publish's build checks with the compilers after the first may
    /// take together; a compiler not reached in time is not recorded (0: the first only).
    pub matrix_timeout_seconds: u64,
    /// The GitHub REST API for issue comments, team checks and repository lookups.
    pub github_api_url: BaseUrl,
    /// The environment variable holding the GitHub token.
    pub github_token_env: EnvVar,
    /// The GitHub login the registry comments as; its comments are ignored.
    pub bot_login: String,
    /// The bot's OpenSSH public key; payloads it signed count as a trustee's.
    pub bot_public_key: Option<Owner>,
    /// The environment variable holding the bot's OpenSSH private key.
    pub bot_key_env: EnvVar,
    /// OpenSSH public keys of trustees.
    pub trustees: Vec<Owner>,
    /// The GitHub team (org/team-slug) whose members are trustees.
    pub trustee_team: Option<Team>,
    /// How many hours after publishing an owner may still unpublish a version.
    pub unpublish_window_hours: u64,
    /// The namespace SSHSIG signatures are made and checked in.
    pub signature_namespace: String,
    /// Who may change a package's owners by publishing a manifest with other `owners`:
    /// `"signed"` (regis's rule, what `regis init` writes), only with a current owner's or a
    /// trustee's signature of the new list (the Publish payload's `ownersSignature`), or
    /// `"location"` (the PureScript Registry's rule), whoever can publish from the
    /// package's location.
    pub owner_changes: OwnerChanges,
    /// Where tarballs are: a directory relative to the registry repo, or an object store
    /// URL (`s3://bucket/prefix`, `gs://`, `az://`, `file://`).
    pub storage: Option<String>,
    /// Where anyone downloads a published tarball: a URL template with `{name}` and
    /// `{version}`, e.g. `https://packages.example.org/{name}/{version}.tar.gz`; written
    /// into publish comments and the registry's README.
    pub storage_url: Option<StorageUrl>,
    /// Other storages (directories relative to the registry repo, or object store URLs) a
    /// publish also writes each tarball to, after `storage`, and readers fall back to when
    /// `storage` lacks one; `regis storage sync` fills in what a mirror lacks.
    pub mirrors: Vec<String>,
    /// Default index checkout, relative to the registry repo.
    pub index: Option<String>,
    /// A Dhall cache directory (files `1220<sha256>`, as `dhall` keeps in ~/.cache/dhall),
    /// relative to the registry repo, that a package's spago.dhall may take `https://`
    /// imports pinned by `sha256:` from.
    pub dhall_cache: Option<String>,
    /// Where this machine finds private root keys to sign a new root version with (`regis
    /// keys rotate`, `revoke`), each `file:<path>` (relative to the registry repo, outside
    /// every git work tree) or `env:<VAR>` (the PEM text), read only by the commands that
    /// sign with it; root keys are offline: list them only where roots are signed.
    pub trust_root_keys: Vec<KeySource>,
    /// Where the private key of the TUF targets role comes from: `file:<path>` (relative to
    /// the registry repo, outside every git work tree) or `env:<VAR>` (the PEM text), read
    /// only by the commands that sign with it.
    pub trust_targets_key: Option<KeySource>,
    /// Where the private key of the TUF snapshot role comes from: `file:<path>` (relative to
    /// the registry repo, outside every git work tree) or `env:<VAR>` (the PEM text), read
    /// only by the commands that sign with it.
    pub trust_snapshot_key: Option<KeySource>,
    /// Where the private key of the TUF timestamp role comes from: `file:<path>` (relative
    /// to the registry repo, outside every git work tree) or `env:<VAR>` (the PEM text),
    /// read only by the commands that sign with it.
    pub trust_timestamp_key: Option<KeySource>,
    /// Where the private key that signs atoms comes from: `file:<path>` (relative to the
    /// registry repo, outside every git work tree) or `env:<VAR>` (the PEM text), read only
    /// by the commands that sign with it.
    pub trust_atom_key: Option<KeySource>,
    /// How many days a new root version (`regis keys init`, `rotate`, `revoke`) stays valid.
    pub trust_root_expiry_days: u64,
    /// How many days a TUF timestamp stays valid: every operation and `regis keys refresh` (in the daily workflow) signs a new one, and a client refuses a registry whose timestamp is older.
    pub trust_timestamp_expiry_days: u64,
    /// How many days TUF targets, hash bins and snapshots stay valid (re-signed when a change touches them, and by `regis keys refresh` within the last third of this).
    pub trust_online_expiry_days: u64,
    /// How many hash bins a new TUF repository (`regis verify --adopt`) delegates the targets to: 16, 256, 4096 or 65536; a publish re-signs the bins its two targets (the tarball and its atom) fall in and the snapshot, which lists every bin, so 256 re-writes the least up to about 100,000 targets and 4096 from there to about 20 million (2.4 MB against 0.4 MB a publish at a million targets), while a client that loads every bin (`regis fetch`, `regis verify`) takes time in proportion to targets times bins.
    pub trust_hash_bins: u64,
}

/// `regis.dhall` as written: the wire shape of [`Config`], before its checks. A `Config`
/// is made from it once, by `TryFrom`.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RawConfig {
    pub name: String,
    pub github_base_url: String,
    pub default_compiler: String,
    pub compilers: Vec<String>,
    pub forbidden_name_prefixes: Vec<String>,
    pub reserved_names: Vec<String>,
    pub package_bytes_max: u64,
    pub package_bytes_warn: u64,
    pub push_attempts: u32,
    pub push_retry_seconds: u64,
    pub build_check: Option<String>,
    pub docs: Option<String>,
    pub hook_timeout_seconds: u64,
    pub matrix_timeout_seconds: u64,
    pub github_api_url: String,
    pub github_token_env: String,
    pub bot_login: String,
    pub bot_public_key: Option<String>,
    pub bot_key_env: String,
    pub trustees: Vec<String>,
    pub trustee_team: Option<String>,
    pub unpublish_window_hours: u64,
    pub signature_namespace: String,
    pub owner_changes: String,
    pub storage: Option<String>,
    pub storage_url: Option<String>,
    pub mirrors: Vec<String>,
    pub index: Option<String>,
    pub dhall_cache: Option<String>,
    pub trust_root_keys: Vec<String>,
    pub trust_targets_key: Option<String>,
    pub trust_snapshot_key: Option<String>,
    pub trust_timestamp_key: Option<String>,
    pub trust_atom_key: Option<String>,
    pub trust_root_expiry_days: u64,
    pub trust_timestamp_expiry_days: u64,
    pub trust_online_expiry_days: u64,
    pub trust_hash_bins: u64,
}

/// `ownerChanges`: what a publish needs to change a package's `owners` (a new package sets
/// them freely, and so does one that has none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerChanges {
    /// regis's rule: a current owner's or a trustee's signature of the new owner list.
    Signed,
    /// The PureScript Registry's rule: the manifest at the package's location decides.
    Location,
}

impl OwnerChanges {
    pub fn as_str(self) -> &'static str {
        match self {
            OwnerChanges::Signed => "signed",
            OwnerChanges::Location => "location",
        }
    }
}

impl std::str::FromStr for OwnerChanges {
    type Err = String;
    fn from_str(text: &str) -> Result<OwnerChanges, String> {
        match text {
            "signed" => Ok(OwnerChanges::Signed),
            "location" => Ok(OwnerChanges::Location),
            _ => Err("`\"signed\"` or `\"location\"`".to_owned()),
        }
    }
}

impl fmt::Display for OwnerChanges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A URL others are built on (`githubBaseUrl`, `githubApiUrl`): it parses as a URL with
/// one of the allowed schemes, has something after the scheme and no trailing `/`. Kept
/// exactly as written, so `<base>/<owner>/<repo>.git` is the text the registry configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl(String);

/// URL schemes `githubBaseUrl` may use (what git2 can clone).
const BASE_URL_SCHEMES: [&str; 4] = ["https", "http", "file", "git"];

/// URL schemes `githubApiUrl` may use.
const API_URL_SCHEMES: [&str; 2] = ["https", "http"];

impl BaseUrl {
    /// `text` if it is a URL with one of `schemes` and no trailing `/`; else what was
    /// expected instead.
    fn new(text: &str, schemes: &[&str]) -> Result<BaseUrl, String> {
        let scheme = schemes
            .iter()
            .find(|s| text.strip_prefix(**s).is_some_and(|r| r.starts_with("://")));
        let Some(scheme) = scheme else {
            let names: Vec<String> = schemes.iter().map(|s| format!("`{s}://`")).collect();
            return Err(format!("a URL starting with {}", or_list(&names)));
        };
        if text.len() == scheme.len() + "://".len() {
            return Err("a URL with a host or path after the scheme".to_owned());
        }
        if text.ends_with('/') {
            return Err("a URL without a trailing `/`".to_owned());
        }
        url::Url::parse(text).map_err(|e| format!("a valid URL ({e})"))?;
        Ok(BaseUrl(text.to_owned()))
    }

    /// A `githubApiUrl`: `https://` or `http://`.
    pub fn api(text: &str) -> Result<BaseUrl, String> {
        BaseUrl::new(text, &API_URL_SCHEMES)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `storageUrl`: where a published tarball is downloaded from, a template whose `{name}`
/// and `{version}` a package's name and version replace.
///
/// ```
/// use regis::config::StorageUrl;
/// let u = StorageUrl::new("https://packages.example.org/{name}/{version}.tar.gz").unwrap();
/// let (name, version) = ("prelude".parse().unwrap(), "6.0.1".parse().unwrap());
/// assert_eq!(u.of(&name, &version), "https://packages.example.org/prelude/6.0.1.tar.gz");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageUrl(String);

impl StorageUrl {
    /// `template` if it holds `{name}` and `{version}` and makes an `https://` or `http://`
    /// URL; else what was expected instead.
    pub fn new(template: &str) -> Result<StorageUrl, String> {
        if !(template.contains("{name}") && template.contains("{version}")) {
            return Err(
                "a URL template with `{name}` and `{version}`, e.g. `https://packages.example.org/{name}/{version}.tar.gz`"
                    .to_owned(),
            );
        }
        let example = template
            .replace("{name}", "prelude")
            .replace("{version}", "6.0.1");
        BaseUrl::api(&example)?;
        Ok(StorageUrl(template.to_owned()))
    }

    /// The download URL of `name@version`.
    pub fn of(&self, name: &crate::schema::PackageName, version: &Version) -> String {
        self.0
            .replace("{name}", name.as_str())
            .replace("{version}", &version.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for BaseUrl {
    type Err = String;
    /// A `githubBaseUrl`: `https://`, `http://`, `file://` or `git://`.
    fn from_str(text: &str) -> Result<BaseUrl, String> {
        BaseUrl::new(text, &BASE_URL_SCHEMES)
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The name of an environment variable (`githubTokenEnv`, `botKeyEnv`): non-empty, no
/// `=`, no white space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvVar(String);

impl EnvVar {
    fn new(name: &str) -> Result<EnvVar, String> {
        if name.is_empty() || name.contains('=') || name.chars().any(char::is_whitespace) {
            return Err("an environment variable name".to_owned());
        }
        Ok(EnvVar(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The variable's value, if it is set and Unicode.
    pub fn value(&self) -> Option<String> {
        std::env::var(&self.0).ok()
    }
}

impl fmt::Display for EnvVar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A GitHub team, `org/team-slug`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    org: String,
    slug: String,
}

impl Team {
    fn new(text: &str) -> Result<Team, String> {
        match text.split('/').collect::<Vec<_>>()[..] {
            [org, slug]
                if [org, slug]
                    .iter()
                    .all(|p| !p.is_empty() && !p.contains(char::is_whitespace)) =>
            {
                Ok(Team {
                    org: org.to_owned(),
                    slug: slug.to_owned(),
                })
            }
            _ => Err("`org/team-slug`".to_owned()),
        }
    }

    pub fn org(&self) -> &str {
        &self.org
    }

    pub fn slug(&self) -> &str {
        &self.slug
    }
}

impl std::str::FromStr for Team {
    type Err = String;
    fn from_str(text: &str) -> Result<Team, String> {
        Team::new(text)
    }
}

impl fmt::Display for Team {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.org, self.slug)
    }
}

/// Errors of loading a registry config.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read `{path}`")]
    Read {
        path: String,
        #[source]
        cause: std::io::Error,
    },
    #[error(transparent)]
    Dhall(#[from] DhallError),
    #[error("`{path}` does not fit the registry config: {cause}")]
    Shape { path: String, cause: String },
    #[error("invalid `{field}` in `{path}`: `{value}` (expected {expected})")]
    Invalid {
        path: String,
        field: &'static str,
        value: String,
        expected: String,
    },
}

/// A field value the checks of [`Config`] refuse.
#[derive(Debug, PartialEq)]
pub struct InvalidField {
    pub field: &'static str,
    pub value: String,
    pub expected: String,
}

/// A loaded config, and the fields the file did not have (a file written by an older
/// regis): those took their defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    pub config: Config,
    pub defaulted: Vec<String>,
}

impl Loaded {
    /// The warning to print when fields took their defaults, naming them and the values
    /// used.
    pub fn warning(&self, registry_dir: &Path) -> Option<String> {
        if self.defaulted.is_empty() {
            return None;
        }
        let values = RawConfig::from(&self.config).dhall_values();
        let used: Vec<String> = self
            .defaulted
            .iter()
            .map(|name| {
                let value = values
                    .iter()
                    .find(|(field, _)| field.name == name)
                    .map(|(_, value)| value.as_str())
                    .unwrap_or("?");
                format!("`{name}` = `{value}`")
            })
            .collect();
        Some(format!(
            "`{}` was written by an older regis: it has no {}, so the defaults are used ({}); add the fields to silence this warning",
            registry_dir.join(CONFIG_FILE).display(),
            and_list(
                &self
                    .defaulted
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
            ),
            used.join(", ")
        ))
    }
}

/// The compilers the PureScript Registry builds with, ascending: what registry-dev's
/// `purs-versions` lists (every `purs-x_y_z` of its Nix overlay; there was never a 0.13.1,
/// 0.13.7 or 0.15.1 release to build with), the same 33 versions its metadata records.
const PURESCRIPT_COMPILERS: [(u32, u32, u32); 33] = [
    (0, 13, 0),
    (0, 13, 2),
    (0, 13, 3),
    (0, 13, 4),
    (0, 13, 5),
    (0, 13, 6),
    (0, 13, 8),
    (0, 14, 0),
    (0, 14, 1),
    (0, 14, 2),
    (0, 14, 3),
    (0, 14, 4),
    (0, 14, 5),
    (0, 14, 6),
    (0, 14, 7),
    (0, 14, 8),
    (0, 14, 9),
    (0, 15, 0),
    (0, 15, 2),
    (0, 15, 3),
    (0, 15, 4),
    (0, 15, 5),
    (0, 15, 6),
    (0, 15, 7),
    (0, 15, 8),
    (0, 15, 9),
    (0, 15, 10),
    (0, 15, 11),
    (0, 15, 12),
    (0, 15, 13),
    (0, 15, 14),
    (0, 15, 15),
    (0, 15, 16),
];

impl Default for Config {
    /// The PureScript Registry's conventions.
    fn default() -> Self {
        Config {
            name: "registry".to_string(),
            github_base_url: BaseUrl("https://github.com".to_string()),
            default_compiler: Version::new(0, 15, 15),
            compilers: PURESCRIPT_COMPILERS
                .iter()
                .map(|&(major, minor, patch)| Version::new(major, minor, patch))
                .collect(),
            forbidden_name_prefixes: vec!["purescript-".to_string()],
            reserved_names: vec!["metadata".to_string()],
            package_bytes_max: 2_000_000,
            package_bytes_warn: 200_000,
            push_attempts: 100,
            push_retry_seconds: 300,
            build_check: None,
            docs: None,
            hook_timeout_seconds: 900,
            matrix_timeout_seconds: 900,
            github_api_url: BaseUrl("https://api.github.com".to_string()),
            github_token_env: EnvVar("GITHUB_TOKEN".to_string()),
            bot_login: "github-actions[bot]".to_string(),
            bot_public_key: None,
            bot_key_env: EnvVar("REGIS_BOT_KEY".to_string()),
            trustees: vec![],
            trustee_team: None,
            unpublish_window_hours: 48,
            signature_namespace: "file".to_string(),
            // The PureScript Registry's rule; `regis init` writes regis's, `Signed`.
            owner_changes: OwnerChanges::Location,
            storage: None,
            storage_url: None,
            mirrors: vec![],
            index: None,
            dhall_cache: None,
            trust_root_keys: vec![],
            trust_targets_key: None,
            trust_snapshot_key: None,
            trust_timestamp_key: None,
            trust_atom_key: None,
            trust_root_expiry_days: 365,
            trust_timestamp_expiry_days: 2,
            trust_online_expiry_days: 90,
            trust_hash_bins: 256,
        }
    }
}

impl Default for RawConfig {
    /// The wire shape of [`Config::default`].
    fn default() -> Self {
        RawConfig::from(&Config::default())
    }
}

impl Config {
    /// How long a git push that lost a race is re-applied and retried
    /// (`pushAttempts`, `pushRetrySeconds`).
    pub fn push_retry(&self) -> crate::git::Retry {
        crate::git::Retry::new(
            self.push_attempts as usize,
            std::time::Duration::from_secs(self.push_retry_seconds),
        )
    }

    /// `<registry>/regis.dhall` if present (type-checked and checked), else the defaults. A
    /// broken file is an error, never silently the defaults. Fields the file lacks take
    /// their defaults: [`Config::load_reporting`] says which.
    pub fn load(registry_dir: &Path) -> Result<Config, ConfigError> {
        Config::load_reporting(registry_dir).map(|loaded| loaded.config)
    }

    /// [`Config::load`], also naming the fields the file lacks (a file written by an
    /// older regis), which took their defaults.
    pub fn load_reporting(registry_dir: &Path) -> Result<Loaded, ConfigError> {
        let path = registry_dir.join(CONFIG_FILE);
        let label = path.display().to_string();
        match std::fs::symlink_metadata(&path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Loaded {
                    config: Config::default(),
                    defaulted: vec![],
                });
            }
            Err(cause) => return Err(ConfigError::Read { path: label, cause }),
        }
        let (mut json, mut defaulted) = dhall::file_to_json_lacking(&path, Schema::Config)?;
        defaulted.sort_by_key(|name| FIELDS.iter().position(|f| f.name == name));
        if let (serde_json::Value::Object(fields), serde_json::Value::Object(defaults)) = (
            &mut json,
            serde_json::to_value(RawConfig::default()).expect("a RawConfig is JSON"),
        ) {
            for name in &defaulted {
                if let Some(value) = defaults.get(name) {
                    fields.insert(name.clone(), value.clone());
                }
            }
            if defaulted.iter().any(|name| name == "compilers") {
                with_default_compiler(fields);
            }
        }
        let raw: RawConfig = serde_json::from_value(json).map_err(|e| ConfigError::Shape {
            path: label.clone(),
            cause: e.to_string(),
        })?;
        let config = Config::try_from(raw).map_err(|invalid| ConfigError::Invalid {
            path: label,
            field: invalid.field,
            value: invalid.value,
            expected: invalid.expected,
        })?;
        Ok(Loaded { config, defaulted })
    }

    /// The Dhall text `regis init` writes: every field explicit, with a comment per field; it
    /// loads back to `self`.
    pub fn to_dhall(&self) -> String {
        RawConfig::from(self).to_dhall()
    }
}

/// A file without `compilers` (written before the field existed) takes the default list,
/// with the file's own `defaultCompiler` added when the list lacks it: such a file loads as
/// before (a `defaultCompiler` outside `compilers` is refused), and the compiler it chose
/// stays one the registry builds with.
fn with_default_compiler(fields: &mut serde_json::Map<String, serde_json::Value>) {
    let Some(default) = fields
        .get("defaultCompiler")
        .and_then(serde_json::Value::as_str)
        .and_then(|text| Version::parse(text).ok())
    else {
        return; // refused by the checks, naming `defaultCompiler`
    };
    let Some(serde_json::Value::Array(list)) = fields.get_mut("compilers") else {
        return;
    };
    let mut versions: Vec<Version> = list
        .iter()
        .filter_map(|v| v.as_str().and_then(|text| Version::parse(text).ok()))
        .collect();
    if versions.contains(&default) {
        return;
    }
    versions.push(default);
    versions.sort();
    *list = versions
        .iter()
        .map(|v| serde_json::Value::String(v.to_string()))
        .collect();
}

impl RawConfig {
    /// Every field with its value as Dhall text, in [`FIELDS`] order.
    fn dhall_values(&self) -> [(Field, String); 38] {
        let text = |s: &str| dhall::text_literal(s);
        let values = [
            text(&self.name),
            text(&self.github_base_url),
            text(&self.default_compiler),
            text_list(&self.compilers),
            text_list(&self.forbidden_name_prefixes),
            text_list(&self.reserved_names),
            self.package_bytes_max.to_string(),
            self.package_bytes_warn.to_string(),
            self.push_attempts.to_string(),
            self.push_retry_seconds.to_string(),
            optional_text(self.build_check.as_deref()),
            optional_text(self.docs.as_deref()),
            self.hook_timeout_seconds.to_string(),
            self.matrix_timeout_seconds.to_string(),
            text(&self.github_api_url),
            text(&self.github_token_env),
            text(&self.bot_login),
            optional_text(self.bot_public_key.as_deref()),
            text(&self.bot_key_env),
            text_list(&self.trustees),
            optional_text(self.trustee_team.as_deref()),
            self.unpublish_window_hours.to_string(),
            text(&self.signature_namespace),
            text(&self.owner_changes),
            optional_text(self.storage.as_deref()),
            optional_text(self.storage_url.as_deref()),
            text_list(&self.mirrors),
            optional_text(self.index.as_deref()),
            optional_text(self.dhall_cache.as_deref()),
            text_list(&self.trust_root_keys),
            optional_text(self.trust_targets_key.as_deref()),
            optional_text(self.trust_snapshot_key.as_deref()),
            optional_text(self.trust_timestamp_key.as_deref()),
            optional_text(self.trust_atom_key.as_deref()),
            self.trust_root_expiry_days.to_string(),
            self.trust_timestamp_expiry_days.to_string(),
            self.trust_online_expiry_days.to_string(),
            self.trust_hash_bins.to_string(),
        ];
        let mut values = values.into_iter();
        FIELDS.map(|field| (field, values.next().expect("one value per field")))
    }

    /// The Dhall text of these values, a comment per field (what `regis init` writes).
    pub fn to_dhall(&self) -> String {
        let mut out = String::from(
            "-- The configuration of a regis registry, typed by schemas/Config.dhall.\n",
        );
        for (i, (field, value)) in self.dhall_values().iter().enumerate() {
            let (name, doc) = (field.name, field.doc);
            out.push_str(&if i == 0 {
                format!("{{ -- {doc}\n  {name} = {value}\n")
            } else {
                format!("  -- {doc}\n, {name} = {value}\n")
            });
        }
        out.push_str("}\n");
        out
    }
}

impl From<&Config> for RawConfig {
    fn from(c: &Config) -> RawConfig {
        RawConfig {
            name: c.name.clone(),
            github_base_url: c.github_base_url.to_string(),
            default_compiler: c.default_compiler.to_string(),
            compilers: c.compilers.iter().map(Version::to_string).collect(),
            forbidden_name_prefixes: c.forbidden_name_prefixes.clone(),
            reserved_names: c.reserved_names.clone(),
            package_bytes_max: c.package_bytes_max,
            package_bytes_warn: c.package_bytes_warn,
            push_attempts: c.push_attempts,
            push_retry_seconds: c.push_retry_seconds,
            build_check: c.build_check.clone(),
            docs: c.docs.clone(),
            hook_timeout_seconds: c.hook_timeout_seconds,
            matrix_timeout_seconds: c.matrix_timeout_seconds,
            github_api_url: c.github_api_url.to_string(),
            github_token_env: c.github_token_env.to_string(),
            bot_login: c.bot_login.clone(),
            bot_public_key: c.bot_public_key.as_ref().map(Owner::to_openssh),
            bot_key_env: c.bot_key_env.to_string(),
            trustees: c.trustees.iter().map(Owner::to_openssh).collect(),
            trustee_team: c.trustee_team.as_ref().map(Team::to_string),
            unpublish_window_hours: c.unpublish_window_hours,
            signature_namespace: c.signature_namespace.clone(),
            owner_changes: c.owner_changes.to_string(),
            storage: c.storage.clone(),
            storage_url: c.storage_url.as_ref().map(|u| u.as_str().to_owned()),
            mirrors: c.mirrors.clone(),
            index: c.index.clone(),
            dhall_cache: c.dhall_cache.clone(),
            trust_root_keys: c.trust_root_keys.iter().map(KeySource::to_string).collect(),
            trust_targets_key: c.trust_targets_key.as_ref().map(KeySource::to_string),
            trust_snapshot_key: c.trust_snapshot_key.as_ref().map(KeySource::to_string),
            trust_timestamp_key: c.trust_timestamp_key.as_ref().map(KeySource::to_string),
            trust_atom_key: c.trust_atom_key.as_ref().map(KeySource::to_string),
            trust_root_expiry_days: c.trust_root_expiry_days,
            trust_timestamp_expiry_days: c.trust_timestamp_expiry_days,
            trust_online_expiry_days: c.trust_online_expiry_days,
            trust_hash_bins: c.trust_hash_bins,
        }
    }
}

impl TryFrom<RawConfig> for Config {
    type Error = InvalidField;

    /// The checks a Dhall type cannot express, each once, into checked types.
    fn try_from(raw: RawConfig) -> Result<Config, InvalidField> {
        fn invalid(field: &'static str, value: &str) -> impl FnOnce(String) -> InvalidField {
            let value = value.to_owned();
            move |expected| InvalidField {
                field,
                value,
                expected,
            }
        }
        let at_least_one = |field: &'static str, n: u64| {
            if n == 0 {
                Err(invalid(field, "0")("at least 1".to_owned()))
            } else {
                Ok(())
            }
        };
        if raw.name.trim().is_empty() {
            return Err(invalid("name", &raw.name)(
                "a non-empty registry name".to_owned(),
            ));
        }
        let github_base_url = BaseUrl::new(&raw.github_base_url, &BASE_URL_SCHEMES)
            .map_err(invalid("githubBaseUrl", &raw.github_base_url))?;
        let default_compiler = Version::parse(&raw.default_compiler).map_err(|_| {
            invalid("defaultCompiler", &raw.default_compiler)(
                "a compiler version `MAJOR.MINOR.PATCH`".to_owned(),
            )
        })?;
        let compilers = checked_compilers(&raw.compilers, &default_compiler)
            .map_err(|(field, value, expected)| invalid(field, &value)(expected))?;
        if raw.package_bytes_warn > raw.package_bytes_max {
            return Err(invalid(
                "packageBytesWarn",
                &raw.package_bytes_warn.to_string(),
            )(format!(
                "at most `packageBytesMax` ({})",
                raw.package_bytes_max
            )));
        }
        at_least_one("pushAttempts", raw.push_attempts.into())?;
        at_least_one("pushRetrySeconds", raw.push_retry_seconds)?;
        for (field, command) in [("buildCheck", &raw.build_check), ("docs", &raw.docs)] {
            if let Some(command) = command.as_deref().filter(|c| c.trim().is_empty()) {
                return Err(invalid(field, command)(
                    "a non-empty shell command or `None`".to_owned(),
                ));
            }
        }
        at_least_one("hookTimeoutSeconds", raw.hook_timeout_seconds)?;
        let github_api_url = BaseUrl::api(&raw.github_api_url)
            .map_err(invalid("githubApiUrl", &raw.github_api_url))?;
        let github_token_env = EnvVar::new(&raw.github_token_env)
            .map_err(invalid("githubTokenEnv", &raw.github_token_env))?;
        let bot_key_env =
            EnvVar::new(&raw.bot_key_env).map_err(invalid("botKeyEnv", &raw.bot_key_env))?;
        if raw.bot_login.trim().is_empty() {
            return Err(invalid("botLogin", &raw.bot_login)(
                "a GitHub login".to_owned(),
            ));
        }
        let key = |field: &'static str, line: &str| {
            Owner::from_openssh(line).map_err(|_| {
                invalid(field, line)(
                    "an OpenSSH public key line `<keytype> <base64> [comment]`".to_owned(),
                )
            })
        };
        let bot_public_key = raw
            .bot_public_key
            .as_deref()
            .map(|line| key("botPublicKey", line))
            .transpose()?;
        let trustees = raw
            .trustees
            .iter()
            .map(|line| key("trustees", line))
            .collect::<Result<Vec<_>, _>>()?;
        let trustee_team = raw
            .trustee_team
            .as_deref()
            .map(|team| Team::new(team).map_err(invalid("trusteeTeam", team)))
            .transpose()?;
        if raw.signature_namespace.is_empty() {
            return Err(invalid("signatureNamespace", &raw.signature_namespace)(
                "a non-empty SSHSIG namespace such as `file`".to_owned(),
            ));
        }
        let owner_changes =
            (raw.owner_changes.parse()).map_err(invalid("ownerChanges", &raw.owner_changes))?;
        for (i, mirror) in raw.mirrors.iter().enumerate() {
            let expected = if mirror.is_empty() {
                "a directory or an object store URL such as `s3://bucket/prefix`".to_owned()
            } else if mirror.contains("://") && !crate::storage::is_url(mirror) {
                let schemes: Vec<String> = (crate::storage::SCHEMES.iter())
                    .map(|s| format!("`{s}://`"))
                    .collect();
                format!(
                    "a directory or an object store URL starting with {}",
                    or_list(&schemes)
                )
            } else if raw.mirrors[..i].contains(mirror) || raw.storage.as_ref() == Some(mirror) {
                "a storage named once: not `storage` and not another mirror".to_owned()
            } else {
                continue;
            };
            return Err(invalid("mirrors", mirror)(expected));
        }
        let storage_url = raw
            .storage_url
            .as_deref()
            .map(|t| StorageUrl::new(t).map_err(invalid("storageUrl", t)))
            .transpose()?;
        let key_source =
            |field: &'static str, text: &str| KeySource::parse(text).map_err(invalid(field, text));
        let trust_root_keys = (raw.trust_root_keys.iter())
            .map(|t| key_source("trustRootKeys", t))
            .collect::<Result<Vec<_>, _>>()?;
        let optional_key = |field: &'static str, text: &Option<String>| {
            text.as_deref().map(|t| key_source(field, t)).transpose()
        };
        let trust_targets_key = optional_key("trustTargetsKey", &raw.trust_targets_key)?;
        let trust_snapshot_key = optional_key("trustSnapshotKey", &raw.trust_snapshot_key)?;
        let trust_timestamp_key = optional_key("trustTimestampKey", &raw.trust_timestamp_key)?;
        let trust_atom_key = optional_key("trustAtomKey", &raw.trust_atom_key)?;
        at_least_one("trustRootExpiryDays", raw.trust_root_expiry_days)?;
        at_least_one("trustTimestampExpiryDays", raw.trust_timestamp_expiry_days)?;
        at_least_one("trustOnlineExpiryDays", raw.trust_online_expiry_days)?;
        if crate::trust::Bins::new(raw.trust_hash_bins).is_none() {
            let text = raw.trust_hash_bins.to_string();
            return Err(invalid("trustHashBins", &text)(
                "16, 256, 4096 or 65536".to_owned(),
            ));
        }
        Ok(Config {
            name: raw.name,
            github_base_url,
            default_compiler,
            compilers,
            forbidden_name_prefixes: raw.forbidden_name_prefixes,
            reserved_names: raw.reserved_names,
            package_bytes_max: raw.package_bytes_max,
            package_bytes_warn: raw.package_bytes_warn,
            push_attempts: raw.push_attempts,
            push_retry_seconds: raw.push_retry_seconds,
            build_check: raw.build_check,
            docs: raw.docs,
            hook_timeout_seconds: raw.hook_timeout_seconds,
            matrix_timeout_seconds: raw.matrix_timeout_seconds,
            github_api_url,
            github_token_env,
            bot_login: raw.bot_login,
            bot_public_key,
            bot_key_env,
            trustees,
            trustee_team,
            unpublish_window_hours: raw.unpublish_window_hours,
            signature_namespace: raw.signature_namespace,
            owner_changes,
            storage: raw.storage,
            storage_url,
            mirrors: raw.mirrors,
            index: raw.index,
            dhall_cache: raw.dhall_cache,
            trust_root_keys,
            trust_targets_key,
            trust_snapshot_key,
            trust_timestamp_key,
            trust_atom_key,
            trust_root_expiry_days: raw.trust_root_expiry_days,
            trust_timestamp_expiry_days: raw.trust_timestamp_expiry_days,
            trust_online_expiry_days: raw.trust_online_expiry_days,
            trust_hash_bins: raw.trust_hash_bins,
        })
    }
}

/// `compilers` as versions: at least one, each once, `default_compiler` among them. A
/// refusal names the field, the value and what was expected instead.
fn checked_compilers(
    compilers: &[String],
    default_compiler: &Version,
) -> Result<Vec<Version>, (&'static str, String, String)> {
    let mut checked: Vec<Version> = Vec::with_capacity(compilers.len());
    for text in compilers {
        let version = Version::parse(text).map_err(|_| {
            (
                "compilers",
                text.clone(),
                "a compiler version `MAJOR.MINOR.PATCH`".to_owned(),
            )
        })?;
        if checked.contains(&version) {
            return Err((
                "compilers",
                text.clone(),
                "each compiler version once".to_owned(),
            ));
        }
        checked.push(version);
    }
    if checked.is_empty() {
        return Err((
            "compilers",
            "[]".to_owned(),
            "at least one compiler version".to_owned(),
        ));
    }
    if !checked.contains(default_compiler) {
        return Err((
            "defaultCompiler",
            default_compiler.to_string(),
            "one of the versions in `compilers`".to_owned(),
        ));
    }
    Ok(checked)
}

/// `a`, `a or b`, `a, b or c`.
fn or_list(items: &[String]) -> String {
    joined(items, "or")
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[String]) -> String {
    joined(items, "and")
}

fn joined(items: &[String], last: &str) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., tail] => format!("{} {last} {tail}", init.join(", ")),
    }
}

fn text_list(items: &[String]) -> String {
    if items.is_empty() {
        return "[] : List Text".to_string();
    }
    let literals: Vec<String> = items.iter().map(|s| dhall::text_literal(s)).collect();
    format!("[ {} ]", literals.join(", "))
}

fn optional_text(value: Option<&str>) -> String {
    match value {
        Some(text) => format!("Some {}", dhall::text_literal(text)),
        None => "None Text".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry_with(config_text: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CONFIG_FILE), config_text).unwrap();
        dir
    }

    /// The message of `err` with the registry's temporary path replaced by `<registry>`.
    fn message(err: &ConfigError, dir: &tempfile::TempDir) -> String {
        err.to_string()
            .replace(&dir.path().display().to_string(), "<registry>")
    }

    fn load_err(config: &RawConfig) -> (ConfigError, tempfile::TempDir) {
        let dir = registry_with(&config.to_dhall());
        (Config::load(dir.path()).unwrap_err(), dir)
    }

    #[test]
    fn defaults_are_the_purescript_registry_conventions() {
        let config = Config::default();
        assert_eq!(config.name, "registry");
        assert_eq!(config.github_base_url.as_str(), "https://github.com");
        assert_eq!(config.forbidden_name_prefixes, ["purescript-"]);
        assert_eq!(config.reserved_names, ["metadata"]);
        assert_eq!(
            (config.package_bytes_max, config.package_bytes_warn),
            (2_000_000, 200_000)
        );
        assert_eq!(
            (config.push_attempts, config.push_retry_seconds),
            (100, 300)
        );
        assert_eq!((config.build_check, config.docs), (None, None));
        assert_eq!(config.hook_timeout_seconds, 900);
        assert_eq!(config.matrix_timeout_seconds, 900);
        // the manifest at the package's location decides its owners
        assert_eq!(config.owner_changes, OwnerChanges::Location);
        // the 33 compilers the PureScript Registry builds with, ascending, the default among
        // them
        assert_eq!(config.compilers.len(), 33);
        assert!(config.compilers.is_sorted());
        assert_eq!(
            (config.compilers.first(), config.compilers.last()),
            (
                Some(&Version::new(0, 13, 0)),
                Some(&Version::new(0, 15, 16))
            )
        );
        assert!(config.compilers.contains(&config.default_compiler));
        assert_eq!(
            Config::try_from(RawConfig::default()),
            Ok(Config::default())
        );
    }

    #[test]
    fn the_default_compilers_are_those_the_real_registry_records() {
        let Some(dir) = crate::testing::purescript_fixtures() else {
            return;
        };
        // the metadata of the 673 packages the real package sets 80.7.0 and 80.8.0 reach
        let metadata = dir.join("package-set-samples/registry/metadata");
        let mut recorded = std::collections::BTreeSet::new();
        for entry in std::fs::read_dir(metadata).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            let json: serde_json::Value = serde_json::from_str(&text).unwrap();
            for published in json["published"].as_object().unwrap().values() {
                for compiler in published["compilers"].as_array().unwrap() {
                    recorded.insert(Version::parse(compiler.as_str().unwrap()).unwrap());
                }
            }
        }
        assert_eq!(
            recorded.into_iter().collect::<Vec<_>>(),
            Config::default().compilers
        );
    }

    #[test]
    fn a_missing_file_means_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Config::load(dir.path()).unwrap(), Config::default());
    }

    #[test]
    fn the_default_dhall_text_is_pinned_and_loads_back() {
        let text = Config::default().to_dhall();
        insta::assert_snapshot!(text);
        let dir = registry_with(&text);
        assert_eq!(Config::load(dir.path()).unwrap(), Config::default());
    }

    #[test]
    fn every_field_round_trips_through_dhall() {
        let raw = RawConfig {
            name: "my \"odd\" ${registry} \\ é\n".to_string(),
            github_base_url: "file:///srv/git mirrors".to_string(),
            default_compiler: "0.15.2".to_string(),
            compilers: vec!["0.15.16".to_string(), "0.15.2".to_string()],
            forbidden_name_prefixes: vec![],
            reserved_names: vec!["metadata".to_string(), "regis".to_string()],
            package_bytes_max: u64::MAX,
            package_bytes_warn: 0,
            push_attempts: u32::MAX,
            push_retry_seconds: 1,
            build_check: Some(
                "purs compile \"$REGIS_DEPENDENCIES\"/*/src/**/*.purs 'src/**/*.purs'\n"
                    .to_string(),
            ),
            docs: Some("purs docs --format html > \"${OUT:-/dev/null}\"".to_string()),
            hook_timeout_seconds: u64::MAX,
            matrix_timeout_seconds: 0,
            github_api_url: "http://127.0.0.1:8080/api/v3".to_string(),
            github_token_env: "REGISTRY_TOKEN".to_string(),
            bot_login: "regis-bot".to_string(),
            bot_public_key: Some("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN0qhG2pBVE36/urgalafah4ndzq4pWG4xZ6csRfdgVw bot".to_string()),
            bot_key_env: "BOT_KEY".to_string(),
            trustees: vec!["ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ trustee one".to_string()],
            trustee_team: Some("purescript/packaging".to_string()),
            unpublish_window_hours: 0,
            signature_namespace: "registry@example.com".to_string(),
            owner_changes: "signed".to_string(),
            storage: Some("../storage".to_string()),
            storage_url: Some("https://dl.example.org/{name}-{version}.tgz?x={name}".to_string()),
            mirrors: vec!["../mirror \"1\"".to_string(), "gs://bucket/p".to_string()],
            index: Some("../index".to_string()),
            dhall_cache: Some(".dhall-cache".to_string()),
            trust_root_keys: vec![
                "file:../keys/root \"1\".pem".to_string(),
                "env:ROOT_KEY".to_string(),
            ],
            trust_targets_key: Some("env:TARGETS_KEY".to_string()),
            trust_snapshot_key: None,
            trust_timestamp_key: Some("file:/run/secrets/timestamp.pem".to_string()),
            trust_atom_key: Some("env:ATOM_KEY".to_string()),
            trust_root_expiry_days: u64::MAX,
            trust_timestamp_expiry_days: 1,
            trust_online_expiry_days: 30,
            trust_hash_bins: 16,
        };
        let config = Config::try_from(raw.clone()).unwrap();
        assert_eq!(RawConfig::from(&config), raw);
        let dir = registry_with(&config.to_dhall());
        assert_eq!(Config::load(dir.path()).unwrap(), config);
    }

    #[test]
    fn the_sample_config_loads() {
        let dir = tempfile::tempdir().unwrap();
        let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dhall/config.dhall");
        std::fs::copy(sample, dir.path().join(CONFIG_FILE)).unwrap();
        let config = Config::load(dir.path()).unwrap();
        assert_eq!(config.github_base_url.as_str(), "file:///srv/git");
        assert_eq!(config.storage.as_deref(), Some("../storage"));
        assert_eq!(config.index, None);
        assert_eq!(
            config.build_check.as_deref(),
            Some("purs compile 'src/**/*.purs'")
        );
        assert_eq!((config.docs, config.hook_timeout_seconds), (None, 600));
        assert_eq!(
            config.compilers,
            [
                Version::new(0, 15, 10),
                Version::new(0, 15, 15),
                Version::new(0, 15, 16)
            ]
        );
        assert_eq!(config.matrix_timeout_seconds, 1200);
        assert_eq!(
            config.trust_root_keys,
            [
                KeySource::File("../keys/root-a.pem".into()),
                KeySource::Env("REGIS_ROOT_KEY".to_owned())
            ]
        );
        assert_eq!(
            config.trust_atom_key,
            Some(KeySource::File("/etc/regis/atom.pem".into()))
        );
        assert_eq!(config.trust_root_expiry_days, 180);
        assert_eq!(config.trust_timestamp_expiry_days, 1);
        assert_eq!(config.trust_hash_bins, 4096);
        assert_eq!(config.owner_changes, OwnerChanges::Signed);
    }

    #[test]
    fn a_key_source_is_a_file_or_an_environment_variable() {
        let (err, dir) = load_err(&RawConfig {
            trust_targets_key: Some("/home/me/targets.pem".to_string()),
            ..RawConfig::default()
        });
        insta::assert_snapshot!(message(&err, &dir), @"invalid `trustTargetsKey` in `<registry>/regis.dhall`: `/home/me/targets.pem` (expected a key source `file:<path>` or `env:<VAR>`)");
        let (err, dir) = load_err(&RawConfig {
            trust_root_keys: vec!["env:".to_string()],
            ..RawConfig::default()
        });
        insta::assert_snapshot!(message(&err, &dir), @"invalid `trustRootKeys` in `<registry>/regis.dhall`: `env:` (expected a key source `file:<path>` or `env:<VAR>`)");
    }

    #[test]
    fn a_base_url_with_a_trailing_slash_is_refused() {
        let (err, dir) = load_err(&RawConfig {
            github_base_url: "https://github.com/".to_string(),
            ..RawConfig::default()
        });
        insta::assert_snapshot!(message(&err, &dir));
    }

    #[test]
    fn invalid_field_values_are_refused_naming_the_field() {
        let cases = [
            (
                RawConfig {
                    mirrors: vec!["ftp://mirror.example.org/regis".to_string()],
                    ..RawConfig::default()
                },
                "mirrors",
            ),
            (
                RawConfig {
                    storage: Some("s3://bucket/tarballs".to_string()),
                    mirrors: vec!["s3://bucket/tarballs".to_string()],
                    ..RawConfig::default()
                },
                "mirrors",
            ),
            (
                RawConfig {
                    mirrors: vec!["../mirror".to_string(), "".to_string()],
                    ..RawConfig::default()
                },
                "mirrors",
            ),
            (
                RawConfig {
                    storage_url: Some("https://dl.example.org/{name}.tgz".to_string()),
                    ..RawConfig::default()
                },
                "storageUrl",
            ),
            (
                RawConfig {
                    storage_url: Some("s3://bucket/{name}/{version}.tar.gz".to_string()),
                    ..RawConfig::default()
                },
                "storageUrl",
            ),
            (
                RawConfig {
                    github_base_url: "ssh://git@github.com".to_string(),
                    ..RawConfig::default()
                },
                "githubBaseUrl",
            ),
            (
                RawConfig {
                    github_base_url: "https://".to_string(),
                    ..RawConfig::default()
                },
                "githubBaseUrl",
            ),
            (
                RawConfig {
                    package_bytes_warn: 2_000_001,
                    ..RawConfig::default()
                },
                "packageBytesWarn",
            ),
            (
                RawConfig {
                    push_attempts: 0,
                    ..RawConfig::default()
                },
                "pushAttempts",
            ),
            (
                RawConfig {
                    build_check: Some(" \n".to_string()),
                    ..RawConfig::default()
                },
                "buildCheck",
            ),
            (
                RawConfig {
                    docs: Some(String::new()),
                    ..RawConfig::default()
                },
                "docs",
            ),
            (
                RawConfig {
                    hook_timeout_seconds: 0,
                    ..RawConfig::default()
                },
                "hookTimeoutSeconds",
            ),
            (
                RawConfig {
                    default_compiler: "0.15".to_string(),
                    ..RawConfig::default()
                },
                "defaultCompiler",
            ),
            (
                RawConfig {
                    compilers: vec![],
                    ..RawConfig::default()
                },
                "compilers",
            ),
            (
                RawConfig {
                    compilers: vec!["0.15.15".to_string(), "latest".to_string()],
                    ..RawConfig::default()
                },
                "compilers",
            ),
            (
                RawConfig {
                    compilers: vec!["0.15.15".to_string(), "0.15.15".to_string()],
                    ..RawConfig::default()
                },
                "compilers",
            ),
            (
                RawConfig {
                    default_compiler: "0.15.1".to_string(),
                    ..RawConfig::default()
                },
                "defaultCompiler",
            ),
            (
                RawConfig {
                    github_api_url: "https://api.github.com/".to_string(),
                    ..RawConfig::default()
                },
                "githubApiUrl",
            ),
            (
                RawConfig {
                    name: " ".to_string(),
                    ..RawConfig::default()
                },
                "name",
            ),
            (
                RawConfig {
                    github_api_url: "api.github.com".to_string(),
                    ..RawConfig::default()
                },
                "githubApiUrl",
            ),
            (
                RawConfig {
                    github_token_env: "GITHUB TOKEN".to_string(),
                    ..RawConfig::default()
                },
                "githubTokenEnv",
            ),
            (
                RawConfig {
                    bot_key_env: String::new(),
                    ..RawConfig::default()
                },
                "botKeyEnv",
            ),
            (
                RawConfig {
                    bot_login: String::new(),
                    ..RawConfig::default()
                },
                "botLogin",
            ),
            (
                RawConfig {
                    bot_public_key: Some("AAAAC3Nza".to_string()),
                    ..RawConfig::default()
                },
                "botPublicKey",
            ),
            (
                RawConfig {
                    trustees: vec!["ssh-ed25519".to_string()],
                    ..RawConfig::default()
                },
                "trustees",
            ),
            (
                RawConfig {
                    trustee_team: Some("packaging".to_string()),
                    ..RawConfig::default()
                },
                "trusteeTeam",
            ),
            (
                RawConfig {
                    signature_namespace: String::new(),
                    ..RawConfig::default()
                },
                "signatureNamespace",
            ),
            (
                RawConfig {
                    owner_changes: "owners".to_string(),
                    ..RawConfig::default()
                },
                "ownerChanges",
            ),
            (
                RawConfig {
                    github_base_url: "https://[::1".to_string(),
                    ..RawConfig::default()
                },
                "githubBaseUrl",
            ),
        ];
        let mut messages = Vec::new();
        for (config, field) in cases {
            let (err, dir) = load_err(&config);
            let text = message(&err, &dir);
            assert!(
                text.starts_with(&format!("invalid `{field}` in `<registry>/regis.dhall`: ")),
                "{text}"
            );
            messages.push(text);
        }
        insta::assert_snapshot!(messages.join("\n"), @r#"
            invalid `mirrors` in `<registry>/regis.dhall`: `ftp://mirror.example.org/regis` (expected a directory or an object store URL starting with `s3://`, `s3a://`, `gs://`, `az://`, `adl://`, `azure://`, `abfs://`, `abfss://`, `file://`, `memory://`, `http://` or `https://`)
            invalid `mirrors` in `<registry>/regis.dhall`: `s3://bucket/tarballs` (expected a storage named once: not `storage` and not another mirror)
            invalid `mirrors` in `<registry>/regis.dhall`: `` (expected a directory or an object store URL such as `s3://bucket/prefix`)
            invalid `storageUrl` in `<registry>/regis.dhall`: `https://dl.example.org/{name}.tgz` (expected a URL template with `{name}` and `{version}`, e.g. `https://packages.example.org/{name}/{version}.tar.gz`)
            invalid `storageUrl` in `<registry>/regis.dhall`: `s3://bucket/{name}/{version}.tar.gz` (expected a URL starting with `https://` or `http://`)
            invalid `githubBaseUrl` in `<registry>/regis.dhall`: `ssh://git@github.com` (expected a URL starting with `https://`, `http://`, `file://` or `git://`)
            invalid `githubBaseUrl` in `<registry>/regis.dhall`: `https://` (expected a URL with a host or path after the scheme)
            invalid `packageBytesWarn` in `<registry>/regis.dhall`: `2000001` (expected at most `packageBytesMax` (2000000))
            invalid `pushAttempts` in `<registry>/regis.dhall`: `0` (expected at least 1)
            invalid `buildCheck` in `<registry>/regis.dhall`: ` 
            ` (expected a non-empty shell command or `None`)
            invalid `docs` in `<registry>/regis.dhall`: `` (expected a non-empty shell command or `None`)
            invalid `hookTimeoutSeconds` in `<registry>/regis.dhall`: `0` (expected at least 1)
            invalid `defaultCompiler` in `<registry>/regis.dhall`: `0.15` (expected a compiler version `MAJOR.MINOR.PATCH`)
            invalid `compilers` in `<registry>/regis.dhall`: `[]` (expected at least one compiler version)
            invalid `compilers` in `<registry>/regis.dhall`: `latest` (expected a compiler version `MAJOR.MINOR.PATCH`)
            invalid `compilers` in `<registry>/regis.dhall`: `0.15.15` (expected each compiler version once)
            invalid `defaultCompiler` in `<registry>/regis.dhall`: `0.15.1` (expected one of the versions in `compilers`)
            invalid `githubApiUrl` in `<registry>/regis.dhall`: `https://api.github.com/` (expected a URL without a trailing `/`)
            invalid `name` in `<registry>/regis.dhall`: ` ` (expected a non-empty registry name)
            invalid `githubApiUrl` in `<registry>/regis.dhall`: `api.github.com` (expected a URL starting with `https://` or `http://`)
            invalid `githubTokenEnv` in `<registry>/regis.dhall`: `GITHUB TOKEN` (expected an environment variable name)
            invalid `botKeyEnv` in `<registry>/regis.dhall`: `` (expected an environment variable name)
            invalid `botLogin` in `<registry>/regis.dhall`: `` (expected a GitHub login)
            invalid `botPublicKey` in `<registry>/regis.dhall`: `AAAAC3Nza` (expected an OpenSSH public key line `<keytype> <base64> [comment]`)
            invalid `trustees` in `<registry>/regis.dhall`: `ssh-ed25519` (expected an OpenSSH public key line `<keytype> <base64> [comment]`)
            invalid `trusteeTeam` in `<registry>/regis.dhall`: `packaging` (expected `org/team-slug`)
            invalid `signatureNamespace` in `<registry>/regis.dhall`: `` (expected a non-empty SSHSIG namespace such as `file`)
            invalid `ownerChanges` in `<registry>/regis.dhall`: `owners` (expected `"signed"` or `"location"`)
            invalid `githubBaseUrl` in `<registry>/regis.dhall`: `https://[::1` (expected a valid URL (invalid IPv6 address))
            "#);
    }

    #[test]
    fn a_broken_file_is_an_error_not_the_defaults() {
        let dir = registry_with("{ name = \"registry\"");
        let err = Config::load(dir.path()).unwrap_err();
        assert!(
            matches!(err, ConfigError::Dhall(DhallError::Syntax { .. })),
            "{err:?}"
        );
        assert!(message(&err, &dir).starts_with("syntax error in `<registry>/regis.dhall`: "));
    }

    #[test]
    fn a_wrongly_typed_file_is_refused_naming_the_schema() {
        let text = Config::default()
            .to_dhall()
            .replace("pushAttempts = 100", "pushAttempts = \"5\"");
        let dir = registry_with(&text);
        let err = Config::load(dir.path()).unwrap_err();
        let text = message(&err, &dir);
        assert!(
            text.starts_with(
                "`<registry>/regis.dhall` does not have the type of `schemas/Config.dhall`: \
                 `pushAttempts` has type `Text` (expected `Natural`)"
            ),
            "{text}"
        );
    }

    #[test]
    fn a_number_too_large_for_its_field_is_refused() {
        let text = Config::default()
            .to_dhall()
            .replace("pushAttempts = 100", "pushAttempts = 4294967296");
        let dir = registry_with(&text);
        let err = Config::load(dir.path()).unwrap_err();
        assert!(matches!(err, ConfigError::Shape { .. }), "{err:?}");
        insta::assert_snapshot!(message(&err, &dir), @"`<registry>/regis.dhall` does not fit the registry config: invalid value: integer `4294967296`, expected u32");
    }

    #[test]
    fn the_config_may_import_the_schema_and_other_files() {
        let dir = registry_with(
            "let Config = ./schemas/Config.dhall\n\
             let defaults = ./defaults.dhall\n\
             in  (defaults // { name = \"imported\" }) : Config\n",
        );
        std::fs::create_dir(dir.path().join("schemas")).unwrap();
        std::fs::write(
            dir.path().join("schemas/Config.dhall"),
            Schema::Config.source(),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("defaults.dhall"),
            Config::default().to_dhall(),
        )
        .unwrap();
        let config = Config::load(dir.path()).unwrap();
        assert_eq!(
            config,
            Config {
                name: "imported".to_string(),
                ..Config::default()
            }
        );
    }

    /// The default text without the lines of `fields` (as a config written before they
    /// existed).
    fn without_fields(fields: &[&str]) -> String {
        let text = Config::default().to_dhall();
        let lines: Vec<&str> = text.lines().collect();
        let mut kept = Vec::new();
        let mut i = 0;
        while i < lines.len() {
            let field_line = lines.get(i + 1).map(|l| l.trim_start_matches([',', ' ']));
            let dropped = lines[i].trim_start().starts_with("-- ")
                && field_line
                    .is_some_and(|l| fields.iter().any(|f| l.starts_with(&format!("{f} = "))));
            if dropped {
                i += 2;
            } else {
                kept.push(lines[i]);
                i += 1;
            }
        }
        kept.join("\n") + "\n"
    }

    #[test]
    fn an_invalid_default_compiler_is_refused_when_loading() {
        let (err, dir) = load_err(&RawConfig {
            default_compiler: "v0.15.15".to_string(),
            ..RawConfig::default()
        });
        insta::assert_snapshot!(message(&err, &dir), @"invalid `defaultCompiler` in `<registry>/regis.dhall`: `v0.15.15` (expected a compiler version `MAJOR.MINOR.PATCH`)");
    }

    #[test]
    fn a_config_from_an_older_regis_loads_with_defaults_and_a_warning() {
        let newer = [
            "buildCheck",
            "docs",
            "hookTimeoutSeconds",
            "trusteeTeam",
            "unpublishWindowHours",
            "ownerChanges",
        ];
        let text = without_fields(&newer).replace("name = \"registry\"", "name = \"old\"");
        assert!(!text.contains("hookTimeoutSeconds"), "{text}");
        let dir = registry_with(&text);
        let loaded = Config::load_reporting(dir.path()).unwrap();
        assert_eq!(
            loaded.config,
            Config {
                name: "old".to_string(),
                ..Config::default()
            }
        );
        assert_eq!(loaded.defaulted, newer);
        let warning = loaded.warning(dir.path()).unwrap();
        insta::assert_snapshot!(
            warning.replace(&dir.path().display().to_string(), "<registry>"),
            @r#"`<registry>/regis.dhall` was written by an older regis: it has no `buildCheck`, `docs`, `hookTimeoutSeconds`, `trusteeTeam`, `unpublishWindowHours` and `ownerChanges`, so the defaults are used (`buildCheck` = `None Text`, `docs` = `None Text`, `hookTimeoutSeconds` = `900`, `trusteeTeam` = `None Text`, `unpublishWindowHours` = `48`, `ownerChanges` = `"location"`); add the fields to silence this warning"#
        );
        // a complete file warns of nothing
        let dir = registry_with(&Config::default().to_dhall());
        let loaded = Config::load_reporting(dir.path()).unwrap();
        assert_eq!(
            (loaded.defaulted.len(), loaded.warning(dir.path())),
            (0, None)
        );
    }

    #[test]
    fn a_config_without_compilers_keeps_its_default_compiler_among_them() {
        // written before `compilers` existed, choosing a compiler the default list lacks
        let text = without_fields(&["compilers", "matrixTimeoutSeconds"]).replace(
            "defaultCompiler = \"0.15.15\"",
            "defaultCompiler = \"0.15.1\"",
        );
        let dir = registry_with(&text);
        let loaded = Config::load_reporting(dir.path()).unwrap();
        let mut expected = Config::default().compilers;
        expected.insert(18, Version::new(0, 15, 1));
        assert_eq!(loaded.config.compilers, expected);
        assert!(loaded.config.compilers.is_sorted());
        assert_eq!(loaded.config.default_compiler, Version::new(0, 15, 1));
        assert_eq!(loaded.defaulted, ["compilers", "matrixTimeoutSeconds"]);
        // the warning names the list used, the added compiler in it
        let warning = loaded.warning(dir.path()).unwrap();
        assert!(
            warning.contains(r#""0.15.0", "0.15.1", "0.15.2""#),
            "{warning}"
        );
        assert!(
            warning.contains("`matrixTimeoutSeconds` = `900`"),
            "{warning}"
        );
        // with the field, the same choice is refused
        let written = Config::default().to_dhall().replace(
            "defaultCompiler = \"0.15.15\"",
            "defaultCompiler = \"0.15.1\"",
        );
        let dir = registry_with(&written);
        let err = Config::load(dir.path()).unwrap_err();
        insta::assert_snapshot!(message(&err, &dir), @"invalid `defaultCompiler` in `<registry>/regis.dhall`: `0.15.1` (expected one of the versions in `compilers`)");
    }

    #[test]
    fn a_missing_field_does_not_hide_a_wrongly_typed_one() {
        let text = without_fields(&["docs"]).replace("pushAttempts = 100", "pushAttempts = \"5\"");
        let dir = registry_with(&text);
        let err = Config::load(dir.path()).unwrap_err();
        let text = message(&err, &dir);
        assert!(
            text.starts_with(
                "`<registry>/regis.dhall` does not have the type of `schemas/Config.dhall`: \
                 `pushAttempts` has type `Text` (expected `Natural`)"
            ),
            "{text}"
        );
    }

    #[test]
    fn an_unknown_field_is_refused_even_when_others_are_missing() {
        let text = without_fields(&["docs"]).replace("name = ", "nmae = ");
        let dir = registry_with(&text);
        let err = Config::load(dir.path()).unwrap_err();
        assert!(
            matches!(err, ConfigError::Dhall(DhallError::TypeMismatch { .. })),
            "{err:?}"
        );
        assert!(message(&err, &dir).contains("`nmae`"), "{err}");
    }

    /// `text` with its first letter in lower case, backticks and a final `.` dropped and
    /// white space runs made one space: how the field docs are compared.
    fn normalized(text: &str) -> String {
        let words: Vec<&str> = text.split_whitespace().collect();
        let joined = words.join(" ").replace('`', "");
        let joined = joined.strip_suffix('.').unwrap_or(&joined).to_string();
        let mut chars = joined.chars();
        match chars.next() {
            Some(first) => first.to_lowercase().chain(chars).collect(),
            None => joined,
        }
    }

    fn camel_case(snake: &str) -> String {
        let mut out = String::new();
        let mut upper = false;
        for c in snake.chars() {
            match c {
                '_' => upper = true,
                c if upper => {
                    out.extend(c.to_uppercase());
                    upper = false;
                }
                c => out.push(c),
            }
        }
        out
    }

    #[test]
    fn the_schema_says_what_the_field_table_says() {
        let defaults = RawConfig::default().dhall_values();
        let mut expected = String::from(
            "-- The registry configuration (`regis.dhall` at the root of the registry repo).\n\
             -- Kept in step with `FIELDS` in src/config.rs by a test: each field's meaning and default.\n",
        );
        for (i, (field, default)) in defaults.iter().enumerate() {
            let open = if i == 0 { "{" } else { "," };
            expected.push_str(&format!(
                "{open} {} : {}\n    -- {} (default: {default})\n",
                field.name, field.ty, field.doc
            ));
        }
        expected.push_str("}\n");
        assert_eq!(
            Schema::Config.source(),
            expected,
            "schemas/Config.dhall does not match `FIELDS`; the expected text is on the right"
        );
    }

    #[test]
    fn the_config_docs_say_what_the_field_table_says() {
        let source = include_str!("config.rs");
        let body = source
            .split("pub struct Config {")
            .nth(1)
            .and_then(|rest| rest.split("\n}").next())
            .unwrap();
        let mut doc = String::new();
        let mut fields = Vec::new();
        for line in body.lines().map(str::trim) {
            if let Some(text) = line.strip_prefix("///") {
                doc.push_str(text);
                doc.push(' ');
            } else if let Some(decl) = line.strip_prefix("pub ") {
                let name = decl.split(':').next().unwrap();
                fields.push((camel_case(name), normalized(&std::mem::take(&mut doc))));
            }
        }
        let table: Vec<(String, String)> = FIELDS
            .iter()
            .map(|f| (f.name.to_string(), normalized(f.doc)))
            .collect();
        assert_eq!(fields, table);
    }
}
