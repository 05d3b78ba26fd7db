//! Registry configuration: regis.dhall typed by schemas/Config.dhall, with the PureScript Registry's defaults.

use std::fmt::Write as _;
use std::path::Path;

use crate::dhall::{self, DhallError, Schema};
use crate::schema::Owner;

/// The config file at the root of a registry repo.
pub const CONFIG_FILE: &str = "regis.dhall";

/// URL schemes `githubBaseUrl` may use (what git2 can clone).
const BASE_URL_SCHEMES: [&str; 4] = ["https://", "http://", "file://", "git://"];

/// A registry's configuration; the Dhall field names are the camelCase of these.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Config {
    /// Registry name used in messages and commit messages.
    pub name: String,
    /// Where GitHub locations are cloned from: `<base>/<owner>/<repo>.git`.
    pub github_base_url: String,
    /// Compiler version recorded when a Publish gives none (validated as a Version elsewhere).
    pub default_compiler: String,
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
    /// Shell command (`sh -c`) that checks a package builds against its dependencies; `None`
    /// skips the check.
    pub build_check: Option<String>,
    /// Shell command (`sh -c`) that builds a package's documentation; `None` builds none.
    pub docs: Option<String>,
    /// A build check or docs command running longer than this many seconds is killed and
    /// counts as failed.
    pub hook_timeout_seconds: u64,
    /// The GitHub REST API that issue comments, team checks and repository lookups go to.
    pub github_api_url: String,
    /// The environment variable holding the GitHub token (never printed).
    pub github_token_env: String,
    /// The GitHub login the registry's comments are posted as; its comments are ignored.
    pub bot_login: String,
    /// The bot's OpenSSH public key: payloads it signed are accepted as a trustee's.
    pub bot_public_key: Option<String>,
    /// The environment variable holding the bot's OpenSSH private key (never printed).
    pub bot_key_env: String,
    /// OpenSSH public keys of trustees: a payload one of them signed is a trustee's.
    pub trustees: Vec<String>,
    /// The GitHub team (`org/team-slug`) whose members are trustees.
    pub trustee_team: Option<String>,
    /// How many hours after publishing an owner may still unpublish a version.
    pub unpublish_window_hours: u64,
    /// The namespace SSHSIG signatures are made and checked in.
    pub signature_namespace: String,
    /// Default storage directory, relative to the registry repo.
    pub storage: Option<String>,
    /// Default index checkout, relative to the registry repo.
    pub index: Option<String>,
}

/// Errors of loading a registry config.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read `{path}`: {cause}")]
    Read { path: String, cause: std::io::Error },
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

/// A field value [`Config::check`] refuses.
#[derive(Debug, PartialEq)]
struct InvalidField {
    field: &'static str,
    value: String,
    expected: String,
}

impl Default for Config {
    /// The PureScript Registry's conventions.
    fn default() -> Self {
        Config {
            name: "registry".to_string(),
            github_base_url: "https://github.com".to_string(),
            default_compiler: "0.15.15".to_string(),
            forbidden_name_prefixes: vec!["purescript-".to_string()],
            reserved_names: vec!["metadata".to_string()],
            package_bytes_max: 2_000_000,
            package_bytes_warn: 200_000,
            push_attempts: 5,
            build_check: None,
            docs: None,
            hook_timeout_seconds: 900,
            github_api_url: "https://api.github.com".to_string(),
            github_token_env: "GITHUB_TOKEN".to_string(),
            bot_login: "github-actions[bot]".to_string(),
            bot_public_key: None,
            bot_key_env: "REGIS_BOT_KEY".to_string(),
            trustees: vec![],
            trustee_team: None,
            unpublish_window_hours: 48,
            signature_namespace: "file".to_string(),
            storage: None,
            index: None,
        }
    }
}

impl Config {
    /// `<registry>/regis.dhall` if present (type-checked), else the defaults. A broken file is
    /// an error, never silently the defaults.
    pub fn load(registry_dir: &Path) -> Result<Config, ConfigError> {
        let path = registry_dir.join(CONFIG_FILE);
        let label = path.display().to_string();
        match std::fs::symlink_metadata(&path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(cause) => return Err(ConfigError::Read { path: label, cause }),
        }
        let json = dhall::file_to_json(&path, Schema::Config)?;
        let config: Config = serde_json::from_value(json).map_err(|e| ConfigError::Shape {
            path: label.clone(),
            cause: e.to_string(),
        })?;
        config.check().map_err(|invalid| ConfigError::Invalid {
            path: label,
            field: invalid.field,
            value: invalid.value,
            expected: invalid.expected,
        })?;
        Ok(config)
    }

    /// The Dhall text `regis init` writes: every field explicit, with a comment per field; it
    /// loads back to `self`.
    pub fn to_dhall(&self) -> String {
        let fields: [(&str, &str, String); 22] = [
            (
                "name",
                "registry name used in messages and commit messages",
                dhall::text_literal(&self.name),
            ),
            (
                "githubBaseUrl",
                "where GitHub locations are cloned from: <base>/<owner>/<repo>.git",
                dhall::text_literal(&self.github_base_url),
            ),
            (
                "defaultCompiler",
                "compiler version recorded when a Publish gives none",
                dhall::text_literal(&self.default_compiler),
            ),
            (
                "forbiddenNamePrefixes",
                "package name prefixes refused at publish",
                text_list(&self.forbidden_name_prefixes),
            ),
            (
                "reservedNames",
                "package names nobody may publish",
                text_list(&self.reserved_names),
            ),
            (
                "packageBytesMax",
                "a tarball larger than this many bytes is refused",
                self.package_bytes_max.to_string(),
            ),
            (
                "packageBytesWarn",
                "a tarball larger than this many bytes is published with a warning",
                self.package_bytes_warn.to_string(),
            ),
            (
                "pushAttempts",
                "how many times a git push that lost a race is re-applied and retried",
                self.push_attempts.to_string(),
            ),
            (
                "buildCheck",
                "shell command (sh -c) that checks a package builds against its dependencies",
                optional_text(self.build_check.as_deref()),
            ),
            (
                "docs",
                "shell command (sh -c) that builds a package's documentation",
                optional_text(self.docs.as_deref()),
            ),
            (
                "hookTimeoutSeconds",
                "a build check or docs command running longer is killed and counts as failed",
                self.hook_timeout_seconds.to_string(),
            ),
            (
                "githubApiUrl",
                "the GitHub REST API for issue comments, team checks and repository lookups",
                dhall::text_literal(&self.github_api_url),
            ),
            (
                "githubTokenEnv",
                "the environment variable holding the GitHub token",
                dhall::text_literal(&self.github_token_env),
            ),
            (
                "botLogin",
                "the GitHub login the registry comments as; its comments are ignored",
                dhall::text_literal(&self.bot_login),
            ),
            (
                "botPublicKey",
                "the bot's OpenSSH public key; payloads it signed count as a trustee's",
                optional_text(self.bot_public_key.as_deref()),
            ),
            (
                "botKeyEnv",
                "the environment variable holding the bot's OpenSSH private key",
                dhall::text_literal(&self.bot_key_env),
            ),
            (
                "trustees",
                "OpenSSH public keys of trustees",
                text_list(&self.trustees),
            ),
            (
                "trusteeTeam",
                "the GitHub team (org/team-slug) whose members are trustees",
                optional_text(self.trustee_team.as_deref()),
            ),
            (
                "unpublishWindowHours",
                "how many hours after publishing an owner may still unpublish a version",
                self.unpublish_window_hours.to_string(),
            ),
            (
                "signatureNamespace",
                "the namespace SSHSIG signatures are made and checked in",
                dhall::text_literal(&self.signature_namespace),
            ),
            (
                "storage",
                "default storage directory, relative to the registry repo",
                optional_text(self.storage.as_deref()),
            ),
            (
                "index",
                "default index checkout, relative to the registry repo",
                optional_text(self.index.as_deref()),
            ),
        ];
        let mut out = String::from(
            "-- The configuration of a regis registry, typed by schemas/Config.dhall.\n",
        );
        for (i, (field, comment, value)) in fields.iter().enumerate() {
            // writing to a String cannot fail
            let _ = if i == 0 {
                write!(out, "{{ -- {comment}\n  {field} = {value}\n")
            } else {
                write!(out, "  -- {comment}\n, {field} = {value}\n")
            };
        }
        out.push_str("}\n");
        out
    }

    /// The checks a Dhall type cannot express.
    fn check(&self) -> Result<(), InvalidField> {
        let invalid = |field: &'static str, value: String, expected: &str| {
            Err(InvalidField {
                field,
                value,
                expected: expected.to_string(),
            })
        };
        if self.name.trim().is_empty() {
            return invalid("name", self.name.clone(), "a non-empty registry name");
        }
        let url = &self.github_base_url;
        let scheme = BASE_URL_SCHEMES.iter().find(|s| url.starts_with(**s));
        match scheme {
            None => {
                return invalid(
                    "githubBaseUrl",
                    url.clone(),
                    "a URL starting with `https://`, `http://`, `file://` or `git://`",
                );
            }
            Some(scheme) if url.len() == scheme.len() => {
                return invalid(
                    "githubBaseUrl",
                    url.clone(),
                    "a URL with a host or path after the scheme",
                );
            }
            Some(_) if url.ends_with('/') => {
                return invalid("githubBaseUrl", url.clone(), "a URL without a trailing `/`");
            }
            Some(_) => {}
        }
        if self.package_bytes_warn > self.package_bytes_max {
            return invalid(
                "packageBytesWarn",
                self.package_bytes_warn.to_string(),
                &format!("at most `packageBytesMax` ({})", self.package_bytes_max),
            );
        }
        if self.push_attempts == 0 {
            return invalid("pushAttempts", self.push_attempts.to_string(), "at least 1");
        }
        for (field, command) in [("buildCheck", &self.build_check), ("docs", &self.docs)] {
            match command {
                Some(command) if command.trim().is_empty() => {
                    return invalid(
                        field,
                        command.clone(),
                        "a non-empty shell command or `None`",
                    );
                }
                _ => {}
            }
        }
        if self.hook_timeout_seconds == 0 {
            return invalid(
                "hookTimeoutSeconds",
                self.hook_timeout_seconds.to_string(),
                "at least 1",
            );
        }
        let api = &self.github_api_url;
        if !(api.starts_with("https://") || api.starts_with("http://")) || api.ends_with('/') {
            return invalid(
                "githubApiUrl",
                api.clone(),
                "an `https://` or `http://` URL without a trailing `/`",
            );
        }
        for (field, name) in [
            ("githubTokenEnv", &self.github_token_env),
            ("botKeyEnv", &self.bot_key_env),
        ] {
            if name.is_empty() || name.contains('=') || name.chars().any(char::is_whitespace) {
                return invalid(field, name.clone(), "an environment variable name");
            }
        }
        if self.bot_login.trim().is_empty() {
            return invalid("botLogin", self.bot_login.clone(), "a GitHub login");
        }
        for key in self.bot_public_key.iter().chain(&self.trustees) {
            if Owner::from_openssh(key).is_err() {
                let field = if Some(key) == self.bot_public_key.as_ref() {
                    "botPublicKey"
                } else {
                    "trustees"
                };
                return invalid(
                    field,
                    key.clone(),
                    "an OpenSSH public key line `<keytype> <base64> [comment]`",
                );
            }
        }
        if let Some(team) = &self.trustee_team {
            let parts: Vec<&str> = team.split('/').collect();
            if parts.len() != 2
                || parts
                    .iter()
                    .any(|p| p.is_empty() || p.contains(char::is_whitespace))
            {
                return invalid("trusteeTeam", team.clone(), "`org/team-slug`");
            }
        }
        if self.signature_namespace.is_empty() {
            return invalid(
                "signatureNamespace",
                self.signature_namespace.clone(),
                "a non-empty SSHSIG namespace such as `file`",
            );
        }
        Ok(())
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

    fn load_err(config: &Config) -> (ConfigError, tempfile::TempDir) {
        let dir = registry_with(&config.to_dhall());
        (Config::load(dir.path()).unwrap_err(), dir)
    }

    #[test]
    fn defaults_are_the_purescript_registry_conventions() {
        let config = Config::default();
        assert_eq!(config.name, "registry");
        assert_eq!(config.github_base_url, "https://github.com");
        assert_eq!(config.forbidden_name_prefixes, ["purescript-"]);
        assert_eq!(config.reserved_names, ["metadata"]);
        assert_eq!(
            (config.package_bytes_max, config.package_bytes_warn),
            (2_000_000, 200_000)
        );
        assert_eq!(config.push_attempts, 5);
        assert_eq!((config.build_check, config.docs), (None, None));
        assert_eq!(config.hook_timeout_seconds, 900);
        assert_eq!(Config::default().check(), Ok(()));
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
        let config = Config {
            name: "my \"odd\" ${registry} \\ é\n".to_string(),
            github_base_url: "file:///srv/git mirrors".to_string(),
            default_compiler: "0.15.2".to_string(),
            forbidden_name_prefixes: vec![],
            reserved_names: vec!["metadata".to_string(), "regis".to_string()],
            package_bytes_max: u64::MAX,
            package_bytes_warn: 0,
            push_attempts: u32::MAX,
            build_check: Some(
                "purs compile \"$REGIS_DEPENDENCIES\"/*/src/**/*.purs 'src/**/*.purs'\n"
                    .to_string(),
            ),
            docs: Some("purs docs --format html > \"${OUT:-/dev/null}\"".to_string()),
            hook_timeout_seconds: u64::MAX,
            github_api_url: "http://127.0.0.1:8080/api/v3".to_string(),
            github_token_env: "REGISTRY_TOKEN".to_string(),
            bot_login: "regis-bot".to_string(),
            bot_public_key: Some("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN0qhG2pBVE36/urgalafah4ndzq4pWG4xZ6csRfdgVw bot".to_string()),
            bot_key_env: "BOT_KEY".to_string(),
            trustees: vec!["ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ trustee one".to_string()],
            trustee_team: Some("purescript/packaging".to_string()),
            unpublish_window_hours: 0,
            signature_namespace: "registry@example.com".to_string(),
            storage: Some("../storage".to_string()),
            index: Some("../index".to_string()),
        };
        let dir = registry_with(&config.to_dhall());
        assert_eq!(Config::load(dir.path()).unwrap(), config);
    }

    #[test]
    fn the_sample_config_loads() {
        let dir = tempfile::tempdir().unwrap();
        let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dhall/config.dhall");
        std::fs::copy(sample, dir.path().join(CONFIG_FILE)).unwrap();
        let config = Config::load(dir.path()).unwrap();
        assert_eq!(config.github_base_url, "file:///srv/git");
        assert_eq!(config.storage.as_deref(), Some("../storage"));
        assert_eq!(config.index, None);
        assert_eq!(
            config.build_check.as_deref(),
            Some("purs compile 'src/**/*.purs'")
        );
        assert_eq!((config.docs, config.hook_timeout_seconds), (None, 600));
    }

    #[test]
    fn a_base_url_with_a_trailing_slash_is_refused() {
        let (err, dir) = load_err(&Config {
            github_base_url: "https://github.com/".to_string(),
            ..Config::default()
        });
        insta::assert_snapshot!(message(&err, &dir));
    }

    #[test]
    fn invalid_field_values_are_refused_naming_the_field() {
        let cases = [
            (
                Config {
                    github_base_url: "ssh://git@github.com".to_string(),
                    ..Config::default()
                },
                "githubBaseUrl",
            ),
            (
                Config {
                    github_base_url: "https://".to_string(),
                    ..Config::default()
                },
                "githubBaseUrl",
            ),
            (
                Config {
                    package_bytes_warn: 2_000_001,
                    ..Config::default()
                },
                "packageBytesWarn",
            ),
            (
                Config {
                    push_attempts: 0,
                    ..Config::default()
                },
                "pushAttempts",
            ),
            (
                Config {
                    build_check: Some(" \n".to_string()),
                    ..Config::default()
                },
                "buildCheck",
            ),
            (
                Config {
                    docs: Some(String::new()),
                    ..Config::default()
                },
                "docs",
            ),
            (
                Config {
                    hook_timeout_seconds: 0,
                    ..Config::default()
                },
                "hookTimeoutSeconds",
            ),
            (
                Config {
                    name: " ".to_string(),
                    ..Config::default()
                },
                "name",
            ),
            (
                Config {
                    github_api_url: "api.github.com".to_string(),
                    ..Config::default()
                },
                "githubApiUrl",
            ),
            (
                Config {
                    github_token_env: "GITHUB TOKEN".to_string(),
                    ..Config::default()
                },
                "githubTokenEnv",
            ),
            (
                Config {
                    bot_key_env: String::new(),
                    ..Config::default()
                },
                "botKeyEnv",
            ),
            (
                Config {
                    bot_login: String::new(),
                    ..Config::default()
                },
                "botLogin",
            ),
            (
                Config {
                    bot_public_key: Some("AAAAC3Nza".to_string()),
                    ..Config::default()
                },
                "botPublicKey",
            ),
            (
                Config {
                    trustees: vec!["ssh-ed25519".to_string()],
                    ..Config::default()
                },
                "trustees",
            ),
            (
                Config {
                    trustee_team: Some("packaging".to_string()),
                    ..Config::default()
                },
                "trusteeTeam",
            ),
            (
                Config {
                    signature_namespace: String::new(),
                    ..Config::default()
                },
                "signatureNamespace",
            ),
        ];
        for (config, field) in cases {
            let (err, dir) = load_err(&config);
            let text = message(&err, &dir);
            assert!(
                text.starts_with(&format!("invalid `{field}` in `<registry>/regis.dhall`: ")),
                "{text}"
            );
        }
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
            .replace("pushAttempts = 5", "pushAttempts = \"5\"");
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
            .replace("pushAttempts = 5", "pushAttempts = 4294967296");
        let dir = registry_with(&text);
        let err = Config::load(dir.path()).unwrap_err();
        assert!(matches!(err, ConfigError::Shape { .. }), "{err:?}");
        assert!(message(&err, &dir).contains("4294967296"), "{err}");
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
}
