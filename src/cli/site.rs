//! `regis site build OUT`: the registry as a static site and a sparse HTTP index.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::site::{self, Built};

use super::Global;
use super::output::{out, warnln};

/// The registry's static web site and sparse index.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    Build(BuildArgs),
}

/// Build the registry's static site and sparse HTTP index into OUT.
///
/// Pages for every package and package set, a home page with recent publishes and a
/// search (`search.json`, a few lines of JavaScript; `packages.html` without it), an Atom
/// feed (`feed.xml`), and the sparse index package managers read over HTTP:
/// `config.json` (the `dl` download template), `index/<path>`, `metadata/<name>.json` and
/// `package-sets/<version>.json`, byte for byte the registry's files. Nothing is fetched
/// from elsewhere by the pages; any static host serves the directory as it is.
///
/// Incremental: a file is written only when its bytes change, and files an earlier build
/// made that this one does not are removed, so OUT must be new, empty, or an earlier
/// build's output. READMEs are read from storage once per tarball hash and kept in
/// `OUT/.regis-site/`. With the registry's TUF repository and storage as a directory, each
/// version's signed target and publish atom are checked, and the pages show the result.
#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// Where the site is written.
    #[arg(value_name = "OUT")]
    pub out: PathBuf,
    /// Where the site will be served (e.g. `https://registry.example.org/`), for the
    /// feed's absolute links [default: links relative to the feed].
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// The tarballs' download URL template for `config.json` and the pages, with `{name}`
    /// and `{version}` [default: `storageUrl` from regis.dhall].
    #[arg(long, value_name = "TEMPLATE")]
    pub dl: Option<String>,
}

impl Command {
    pub fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        match self {
            Command::Build(args) => args.run(global),
        }
    }
}

impl BuildArgs {
    fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        let config = global.config()?;
        let index = global.index_dir(&config)?;
        let (storage, storage_dir) = if global.has_storage(&config) {
            let location = global.storage_location(&config)?;
            let dir = match &location {
                crate::storage::Location::Dir(dir) => Some(dir.clone()),
                crate::storage::Location::Url(_) => None,
            };
            (
                Some(
                    location
                        .open()
                        .map_err(|e| super::could_not_run(e.into()))?,
                ),
                dir,
            )
        } else {
            (None, None)
        };
        let url = self
            .url
            .map(|u| if u.ends_with('/') { u } else { format!("{u}/") });
        let download = self
            .dl
            .or_else(|| config.storage_url.as_ref().map(|u| u.as_str().to_owned()));
        let input = site::Input {
            registry: &global.registry,
            index: &index,
            storage: storage.as_deref(),
            storage_dir: storage_dir.as_deref(),
            name: &config.name,
            github_base: config.github_base_url.as_str(),
            download: download.as_deref(),
            url: url.as_deref(),
        };
        let built = site::build(&input, &self.out)
            .with_context(|| format!("could not build the site in `{}`", self.out.display()))?;
        for problem in &built.problems {
            warnln!("{problem}");
        }
        if global.json {
            super::json::print(&built)?;
        } else {
            out!("{}", describe(&built, &self.out));
        }
        Ok(ExitCode::SUCCESS)
    }
}

fn describe(b: &Built, out: &std::path::Path) -> String {
    let w = &b.files;
    format!(
        "site: {} packages, {} versions, {} package sets: {} pages in {}\nfiles: {} written, {} unchanged, {} removed; {} READMEs read from storage\n{}",
        b.packages,
        b.versions,
        b.package_sets,
        b.pages,
        out.display(),
        w.written,
        w.unchanged,
        w.removed,
        b.readmes_read,
        if b.problems.is_empty() {
            String::new()
        } else {
            format!("{} versions did not verify (above)\n", b.problems.len())
        }
    )
}
