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
        ".github/scripts/git-credential-regis",
        include_str!("../index-template/registry/.github/scripts/git-credential-regis"),
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
        ".github/ISSUE_TEMPLATE/package-set-update.yml",
        include_str!("../index-template/registry/.github/ISSUE_TEMPLATE/package-set-update.yml"),
    ),
];
const INDEX_TEMPLATE: &[(&str, &str)] = &[(
    "README.md",
    include_str!("../index-template/index/README.md"),
)];

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
}

/// Create a registry under `root` with `config`, whose `index` is set to the sibling
/// directory, and whose `storage` too unless it names an object store
/// ([`crate::storage::is_url`]), which is kept.
pub fn init(root: &Path, config: &Config) -> Result<(Layout, Config), InitError> {
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
    write_files(&layout.registry, REGISTRY_TEMPLATE)?;
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

    #[test]
    fn init_lays_down_and_commits_the_github_files() {
        let tmp = tempfile::tempdir().unwrap();
        let (layout, _) = init(&tmp.path().join("reg"), &Config::default()).unwrap();
        for (rel, text) in REGISTRY_TEMPLATE {
            assert_eq!(
                std::fs::read_to_string(layout.registry.join(rel)).unwrap(),
                *text,
                "{rel}"
            );
            assert_eq!(
                crate::testing::remote_file(&layout.registry_remote, rel).as_deref(),
                Some(*text),
                "{rel} as committed"
            );
        }
    }
}
