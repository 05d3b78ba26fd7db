//! `regis init`: lay down a new registry from `index-template/` — a registry repo with its
//! config, an index repo and a storage directory, each git repo with a bare remote so
//! pushes are real.

use std::path::{Path, PathBuf};

use crate::config::{CONFIG_FILE, Config};
use crate::git::GitRepo;

/// The template files, embedded at build time: (path under the repo, contents).
const REGISTRY_TEMPLATE: &[(&str, &str)] = &[
    (
        "README.md",
        include_str!("../index-template/registry/README.md"),
    ),
    (
        "metadata/.gitkeep",
        include_str!("../index-template/registry/metadata/.gitkeep"),
    ),
    (
        "package-sets/.gitkeep",
        include_str!("../index-template/registry/package-sets/.gitkeep"),
    ),
    (
        "locations/README.md",
        include_str!("../index-template/registry/locations/README.md"),
    ),
    (
        ".github/workflows/process-issue.yml",
        include_str!("../index-template/registry/.github/workflows/process-issue.yml"),
    ),
    (
        ".github/workflows/pending-issues.yml",
        include_str!("../index-template/registry/.github/workflows/pending-issues.yml"),
    ),
    (
        ".github/workflows/daily.yml",
        include_str!("../index-template/registry/.github/workflows/daily.yml"),
    ),
    (
        ".github/workflows/site.yml",
        include_str!("../index-template/registry/.github/workflows/site.yml"),
    ),
    (
        ".github/scripts/git-credential-regis",
        include_str!("../index-template/registry/.github/scripts/git-credential-regis"),
    ),
    (
        ".github/scripts/install-regis",
        include_str!("../index-template/registry/.github/scripts/install-regis"),
    ),
    (
        ".github/ISSUE_TEMPLATE/config.yml",
        include_str!("../index-template/registry/.github/ISSUE_TEMPLATE/config.yml"),
    ),
    (
        ".github/ISSUE_TEMPLATE/publish.yml",
        include_str!("../index-template/registry/.github/ISSUE_TEMPLATE/publish.yml"),
    ),
    (
        ".github/ISSUE_TEMPLATE/transfer.yml",
        include_str!("../index-template/registry/.github/ISSUE_TEMPLATE/transfer.yml"),
    ),
    (
        ".github/ISSUE_TEMPLATE/unpublish.yml",
        include_str!("../index-template/registry/.github/ISSUE_TEMPLATE/unpublish.yml"),
    ),
    (
        ".github/ISSUE_TEMPLATE/yank.yml",
        include_str!("../index-template/registry/.github/ISSUE_TEMPLATE/yank.yml"),
    ),
    (
        ".github/ISSUE_TEMPLATE/deprecate.yml",
        include_str!("../index-template/registry/.github/ISSUE_TEMPLATE/deprecate.yml"),
    ),
    (
        ".github/ISSUE_TEMPLATE/alias.yml",
        include_str!("../index-template/registry/.github/ISSUE_TEMPLATE/alias.yml"),
    ),
    (
        ".github/ISSUE_TEMPLATE/package-set-update.yml",
        include_str!("../index-template/registry/.github/ISSUE_TEMPLATE/package-set-update.yml"),
    ),
];
/// Where the registry's workflows are (the ones that install regis).
const WORKFLOWS: &str = ".github/workflows/";
const INDEX_TEMPLATE: &[(&str, &str)] = &[(
    "README.md",
    include_str!("../index-template/index/README.md"),
)];

/// The platform of the release binary (`.ci/release-build` builds it; the registry
/// templates' `install-regis` downloads it).
pub const RELEASE_TARGET: &str = "x86_64-unknown-linux-musl";

/// The name of a release's binary: `regis-<version>-x86_64-unknown-linux-musl`.
pub fn release_asset(version: &str) -> String {
    format!("regis-{version}-{RELEASE_TARGET}")
}

/// Which regis a new registry's workflows install, and so how: the `REGIS_*` entries of
/// their `env`, which `.github/scripts/install-regis` reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisInstall {
    /// `REGIS_REPOSITORY`: where regis is released, or built from.
    pub repository: Option<RepositoryUrl>,
    /// `REGIS_VERSION`: the release is tagged `v<version>`.
    pub version: String,
    /// `REGIS_COMMIT`: the whole hash of the commit regis was built from.
    pub commit: Option<String>,
    /// `REGIS_SHA256`: the release binary's sha256 (hex); none for a build from source.
    pub sha256: Option<String>,
}

/// How the workflows install regis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum InstallMethod {
    /// The release binary, checked against `sha256`.
    Release,
    /// `cargo install --locked --git <repository> --rev <commit> regis`.
    Source,
}

impl RegisInstall {
    /// This running regis. A release binary (`.ci/release-build` sets
    /// `REGIS_RELEASE_ASSET` when it builds one) is the file the release serves, so the
    /// sha256 of its own executable is the one to pin; any other build is installed from
    /// source at the commit it was built from (build.rs's `REGIS_COMMIT_HASH`).
    /// `repository` is where it is released or built from.
    pub fn this_build(repository: Option<RepositoryUrl>) -> Result<RegisInstall, InitError> {
        let version = env!("CARGO_PKG_VERSION");
        let sha256 = match option_env!("REGIS_RELEASE_ASSET").filter(|a| !a.is_empty()) {
            Some(asset) if asset != release_asset(version) => {
                return Err(InitError::ReleaseAsset(asset.to_owned()));
            }
            Some(_) => Some(own_sha256()?),
            None => None,
        };
        Ok(RegisInstall {
            repository,
            version: version.to_owned(),
            commit: option_env!("REGIS_COMMIT_HASH").map(str::to_owned),
            sha256,
        })
    }

    /// How the workflows install this regis, or why they cannot (their install step fails
    /// saying so).
    pub fn method(&self) -> Result<InstallMethod, &'static str> {
        self.how().map(|how| match how {
            How::Release { .. } => InstallMethod::Release,
            How::Source { .. } => InstallMethod::Source,
        })
    }

    fn how(&self) -> Result<How<'_>, &'static str> {
        let Some(repository) = self.repository.as_ref().map(RepositoryUrl::as_str) else {
            return Err(
                "the URL of regis's repository is unknown (`--regis-repository URL` gives it)",
            );
        };
        match (self.sha256.as_deref(), self.commit.as_deref()) {
            (Some(sha256), _) => Ok(How::Release { repository, sha256 }),
            (None, Some(commit)) => Ok(How::Source { repository, commit }),
            (None, None) => Err(
                "this regis is neither a release nor built from a git checkout, so the commit to build is unknown",
            ),
        }
    }

    /// The `env` entries of the workflows, in the order they are written.
    fn entries(&self) -> [(&'static str, Option<&str>); 4] {
        [
            (
                "REGIS_REPOSITORY",
                self.repository.as_ref().map(RepositoryUrl::as_str),
            ),
            ("REGIS_VERSION", Some(&self.version)),
            ("REGIS_COMMIT", self.commit.as_deref()),
            ("REGIS_SHA256", self.sha256.as_deref()),
        ]
    }
}

/// [`RegisInstall`] when the workflows can install it.
enum How<'a> {
    Release {
        repository: &'a str,
        sha256: &'a str,
    },
    Source {
        repository: &'a str,
        commit: &'a str,
    },
}

/// What the workflows install: `the regis 0.1.0 release of <repository> (sha256 …)`,
/// `regis 0.1.0 built from source: cargo install …`, or `nothing (<why>)`.
impl std::fmt::Display for RegisInstall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let version = &self.version;
        match self.how() {
            Ok(How::Release { repository, sha256 }) => write!(
                f,
                "the regis {version} release of {repository} (sha256 {sha256})"
            ),
            Ok(How::Source { repository, commit }) => write!(
                f,
                "regis {version} built from source: cargo install --locked --git {repository} --rev {commit} regis"
            ),
            Err(why) => write!(f, "nothing ({why})"),
        }
    }
}

/// A workflow template with the `REGIS_*` entries of its `env`, left empty (`""`) in the
/// template, filled in from `install` (an unknown one stays empty).
fn with_install(workflow: &str, install: &RegisInstall) -> String {
    let mut text = workflow.to_owned();
    for (key, value) in install.entries() {
        if let Some(value) = value {
            text = text.replacen(
                &format!("\n  {key}: \"\"\n"),
                &format!("\n  {key}: \"{value}\"\n"),
                1,
            );
        }
    }
    text
}

/// The sha256 (hex) of the running executable.
fn own_sha256() -> Result<String, InitError> {
    use sha2::Digest as _;
    // Linux's `/proc/self/exe` opens the file this process runs even if it was since
    // replaced or removed.
    let path = if cfg!(target_os = "linux") {
        PathBuf::from("/proc/self/exe")
    } else {
        std::env::current_exe().map_err(InitError::OwnExecutable)?
    };
    let mut file = std::fs::File::open(&path).map_err(InitError::OwnExecutable)?;
    let mut hasher = sha2::Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(InitError::OwnExecutable)?;
    Ok(hex::encode(hasher.finalize()))
}

/// The URL of regis's repository, as the workflows use it (`cargo install --git` takes
/// it; a release's files are under `<it>/releases/download/`): `https://`, `http://` or
/// `file://` and a path, a trailing `/` or `.git` dropped, with nothing in it that YAML,
/// a shell or a workflow expression would read, nor credentials, a query or a fragment:
/// letters, digits and `-._~:/%+` only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositoryUrl(String);

impl RepositoryUrl {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for RepositoryUrl {
    /// What was expected.
    type Err = &'static str;

    fn from_str(text: &str) -> Result<RepositoryUrl, &'static str> {
        const EXPECTED: &str = "an `https://` (or `http://`, `file://`) URL of a git repository, of letters, digits and `-._~:/%+` only";
        let text = text.trim_end_matches('/');
        let text = text.strip_suffix(".git").unwrap_or(text);
        let plain = |c: char| c.is_ascii_alphanumeric() || "-._~:/%+".contains(c);
        if !text.chars().all(plain) {
            return Err(EXPECTED);
        }
        match url::Url::parse(text) {
            Ok(url)
                if matches!(url.scheme(), "https" | "http" | "file")
                    && !url.path().trim_matches('/').is_empty() =>
            {
                Ok(RepositoryUrl(text.to_owned()))
            }
            _ => Err(EXPECTED),
        }
    }
}

impl std::fmt::Display for RepositoryUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where regis is released, as far as this build knows: `REGIS_RELEASE_REPOSITORY` when
/// it was built (`.ci/release-build` sets it in GitHub Actions), else Cargo.toml's
/// `repository`; as written, to be read as a [`RepositoryUrl`].
pub fn default_repository() -> Option<&'static str> {
    [
        option_env!("REGIS_RELEASE_REPOSITORY"),
        option_env!("CARGO_PKG_REPOSITORY"),
    ]
    .into_iter()
    .flatten()
    .find(|r| !r.is_empty())
}

/// Where `init` put everything.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Layout {
    pub root: PathBuf,
    pub registry: PathBuf,
    pub index: PathBuf,
    pub storage: PathBuf,
    pub registry_remote: PathBuf,
    pub index_remote: PathBuf,
}

impl Layout {
    pub fn under(root: &Path) -> Layout {
        Layout {
            root: root.to_path_buf(),
            registry: root.join("registry"),
            index: root.join("index"),
            storage: root.join("storage"),
            registry_remote: root.join("remotes/registry.git"),
            index_remote: root.join("remotes/index.git"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("`{0}` is not empty: expected a new or empty directory for the registry")]
    NotEmpty(PathBuf),
    #[error("could not write `{path}`")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Git(#[from] crate::git::GitError),
    #[error(
        "this regis was built as the release binary `{0}`, whose name is not the one the workflows download (`regis-<version>-x86_64-unknown-linux-musl`)"
    )]
    ReleaseAsset(String),
    #[error("could not read this regis's executable, whose sha256 the workflows pin")]
    OwnExecutable(#[source] std::io::Error),
}

/// Create a registry under `root` with `config`, whose `index` is set to the sibling
/// directory, and whose `storage` too unless it names an object store
/// ([`crate::storage::is_url`]), which is kept; its workflows install the regis `install`
/// says.
pub fn init(
    root: &Path,
    config: &Config,
    install: &RegisInstall,
) -> Result<(Layout, Config), InitError> {
    if root.exists()
        && std::fs::read_dir(root)
            .map_err(|source| InitError::Io {
                path: root.to_path_buf(),
                source,
            })?
            .next()
            .is_some()
    {
        return Err(InitError::NotEmpty(root.to_path_buf()));
    }
    let layout = Layout::under(root);
    let url = (config.storage.as_deref())
        .filter(|s| crate::storage::is_url(s))
        .map(str::to_owned);
    let config = Config {
        index: Some("../index".into()),
        storage: Some(url.clone().unwrap_or_else(|| "../storage".into())),
        ..config.clone()
    };
    for (rel, text) in REGISTRY_TEMPLATE {
        let path = layout.registry.join(rel);
        if rel.starts_with(WORKFLOWS) {
            write_file(&path, &with_install(text, install))?;
        } else {
            write_file(&path, text)?;
        }
    }
    if let Some(url) = &config.storage_url {
        let readme = layout.registry.join("README.md");
        let text = std::fs::read_to_string(&readme).map_err(|source| InitError::Io {
            path: readme.clone(),
            source,
        })?;
        write_file(&readme, &format!("{text}{}", downloads_section(url)))?;
    }
    write_file(&layout.registry.join(CONFIG_FILE), &config.to_dhall())?;
    write_files(&layout.index, INDEX_TEMPLATE)?;
    if url.is_none() {
        std::fs::create_dir_all(&layout.storage).map_err(|source| InitError::Io {
            path: layout.storage.clone(),
            source,
        })?;
    }
    GitRepo::init_with_remote(
        &layout.registry,
        &layout.registry_remote,
        &format!("Initialize registry `{}`", config.name),
    )?;
    GitRepo::init_with_remote(
        &layout.index,
        &layout.index_remote,
        &format!("Initialize the index of `{}`", config.name),
    )?;
    Ok((layout, config))
}

/// The README's word on where tarballs are downloaded from (`storageUrl`).
fn downloads_section(url: &crate::config::StorageUrl) -> String {
    format!(
        "\n## Downloading packages\n\n\
         Every published version's tarball is at `{}` (for example\n\
         `{}`). Its size and sha256 hash are in\n\
         `metadata/<name>.json` (`published.<version>.bytes` and `.hash`): check them before\n\
         using it.\n",
        url.as_str(),
        url.of(
            &"prelude".parse().expect("a valid name"),
            &"6.0.1".parse().expect("a valid version")
        ),
    )
}

fn write_files(dir: &Path, files: &[(&str, &str)]) -> Result<(), InitError> {
    for (rel, text) in files {
        write_file(&dir.join(rel), text)?;
    }
    Ok(())
}

fn write_file(path: &Path, text: &str) -> Result<(), InitError> {
    let io = |source| InitError::Io {
        path: path.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(path.parent().expect("template paths have a parent")).map_err(io)?;
    std::fs::write(path, text).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file below `index-template/<dir>`, sorted, as `/`-separated relative paths.
    fn template_files(dir: &str) -> Vec<String> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("index-template")
            .join(dir);
        let mut files: Vec<String> = crate::testing::files_below(&root)
            .iter()
            .map(|rel| rel.to_str().unwrap().replace('\\', "/"))
            .collect();
        files.sort();
        files
    }

    fn embedded(files: &[(&str, &str)]) -> Vec<String> {
        let mut paths: Vec<String> = files.iter().map(|(p, _)| (*p).to_owned()).collect();
        paths.sort();
        paths
    }

    #[test]
    fn every_template_file_is_embedded_hidden_ones_too() {
        assert_eq!(embedded(REGISTRY_TEMPLATE), template_files("registry"));
        assert_eq!(embedded(INDEX_TEMPLATE), template_files("index"));
        assert!(
            template_files("registry")
                .iter()
                .any(|p| p.starts_with(".github/workflows/"))
        );
    }

    const SHA: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    const COMMIT: &str = "89abcdef0123456789abcdef0123456789abcdef";

    fn release() -> RegisInstall {
        RegisInstall {
            repository: Some("https://github.com/acme/regis".parse().unwrap()),
            version: "1.2.3".into(),
            commit: Some(COMMIT.into()),
            sha256: Some(SHA.into()),
        }
    }

    #[test]
    fn init_lays_down_and_commits_the_github_files() {
        let tmp = tempfile::tempdir().unwrap();
        let install = release();
        let (layout, _) = init(&tmp.path().join("reg"), &Config::default(), &install).unwrap();
        for (rel, text) in REGISTRY_TEMPLATE {
            let text = if rel.starts_with(WORKFLOWS) {
                with_install(text, &install)
            } else {
                (*text).to_owned()
            };
            assert_eq!(
                std::fs::read_to_string(layout.registry.join(rel)).unwrap(),
                text,
                "{rel}"
            );
            assert_eq!(
                crate::testing::remote_file(&layout.registry_remote, rel),
                Some(text),
                "{rel} as committed"
            );
        }
    }

    fn workflows() -> impl Iterator<Item = (&'static str, &'static str)> {
        (REGISTRY_TEMPLATE.iter().copied()).filter(|(rel, _)| rel.starts_with(WORKFLOWS))
    }

    /// What a workflow's `env` says `key` is.
    fn env_value<'a>(workflow: &'a str, key: &str) -> Vec<&'a str> {
        (workflow.lines())
            .filter_map(|l| l.strip_prefix(&format!("  {key}: ")))
            .collect()
    }

    #[test]
    fn each_workflow_leaves_each_install_entry_to_init() {
        assert_eq!(workflows().count(), 4);
        for (rel, text) in workflows() {
            for (key, _) in release().entries() {
                assert_eq!(env_value(text, key), ["\"\""], "{rel}: {key}");
            }
            assert!(
                text.contains("\n        run: bash registry/.github/scripts/install-regis\n"),
                "{rel}"
            );
        }
    }

    #[test]
    fn init_writes_the_regis_it_installs_into_every_workflow() {
        let source = RegisInstall {
            sha256: None,
            ..release()
        };
        let unknown = RegisInstall {
            repository: None,
            commit: None,
            sha256: None,
            ..release()
        };
        for (install, sha256, repository, commit) in [
            (release(), SHA, "https://github.com/acme/regis", COMMIT),
            (source, "", "https://github.com/acme/regis", COMMIT),
            (unknown, "", "", ""),
        ] {
            let tmp = tempfile::tempdir().unwrap();
            let (layout, _) = init(&tmp.path().join("reg"), &Config::default(), &install).unwrap();
            for (rel, _) in workflows() {
                let text = crate::testing::remote_file(&layout.registry_remote, rel).unwrap();
                for (key, value) in [
                    ("REGIS_REPOSITORY", repository),
                    ("REGIS_VERSION", "1.2.3"),
                    ("REGIS_COMMIT", commit),
                    ("REGIS_SHA256", sha256),
                ] {
                    assert_eq!(
                        env_value(&text, key),
                        [format!("\"{value}\"")],
                        "{rel}: {key} for {install}"
                    );
                }
            }
        }
    }

    #[test]
    fn what_the_workflows_install_and_why_not() {
        let source = RegisInstall {
            sha256: None,
            ..release()
        };
        assert_eq!(release().method(), Ok(InstallMethod::Release));
        assert_eq!(source.method(), Ok(InstallMethod::Source));
        assert_eq!(
            release().to_string(),
            format!("the regis 1.2.3 release of https://github.com/acme/regis (sha256 {SHA})")
        );
        assert_eq!(
            source.to_string(),
            format!(
                "regis 1.2.3 built from source: cargo install --locked --git https://github.com/acme/regis --rev {COMMIT} regis"
            )
        );
        let no_repository = RegisInstall {
            repository: None,
            ..release()
        };
        assert!(
            no_repository
                .method()
                .unwrap_err()
                .contains("--regis-repository URL")
        );
        let no_commit = RegisInstall {
            commit: None,
            ..source
        };
        assert!(
            no_commit
                .method()
                .unwrap_err()
                .contains("neither a release nor")
        );
    }

    /// A test build is no release: it is installed from source at the commit it was built
    /// from, when built from a git checkout.
    #[test]
    fn this_build_is_installed_from_source_at_its_commit() {
        let install =
            RegisInstall::this_build(Some("https://example.org/regis".parse().unwrap())).unwrap();
        assert_eq!(install.version, env!("CARGO_PKG_VERSION"));
        assert_eq!(install.sha256, None);
        assert_eq!(install.commit.as_deref(), option_env!("REGIS_COMMIT_HASH"));
        if let Some(commit) = &install.commit {
            assert_eq!(commit.len(), 40, "{commit}");
            assert!(commit.bytes().all(|b| b.is_ascii_hexdigit()), "{commit}");
            assert_eq!(install.method(), Ok(InstallMethod::Source));
        }
    }

    #[test]
    fn own_sha256_is_the_running_executable_s() {
        use sha2::Digest as _;
        let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        assert_eq!(
            own_sha256().unwrap(),
            hex::encode(sha2::Sha256::digest(&exe))
        );
    }

    #[test]
    fn the_release_asset_name() {
        assert_eq!(
            release_asset("0.1.0"),
            "regis-0.1.0-x86_64-unknown-linux-musl"
        );
    }

    #[test]
    fn repository_urls() {
        for (given, kept) in [
            (
                "https://github.com/acme/regis",
                "https://github.com/acme/regis",
            ),
            (
                "https://github.com/acme/regis/",
                "https://github.com/acme/regis",
            ),
            (
                "https://github.com/acme/regis.git",
                "https://github.com/acme/regis",
            ),
            ("http://127.0.0.1:8080/regis", "http://127.0.0.1:8080/regis"),
            ("file:///srv/git/regis", "file:///srv/git/regis"),
        ] {
            assert_eq!(
                given
                    .parse::<RepositoryUrl>()
                    .as_ref()
                    .map(RepositoryUrl::as_str),
                Ok(kept),
                "{given}"
            );
        }
        for refused in [
            "github.com/acme/regis",
            "ssh://git@github.com/acme/regis",
            "https://user:token@github.com/acme/regis",
            "https://github.com/acme/regis?x=1",
            "https://github.com/acme/regis#main",
            "https://github.com/acme/${{ secrets.X }}",
            "https://github.com/acme/re\"gis",
            "https://github.com/acme/re gis",
            "https://github.com/acme/$HOME",
            "https://github.com",
            "file:///",
        ] {
            assert!(refused.parse::<RepositoryUrl>().is_err(), "{refused}");
        }
    }
}
