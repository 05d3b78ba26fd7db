//! `regis list NAME`: a package's versions, newest first, from the checkouts or a site.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::operation::sparse::{self, Listed, Listing, Site, SparseError};
use crate::schema::PackageName;

use super::Global;
use super::output::outln;

/// List a package's versions, newest first: publish date, size and flags.
///
/// Each version with its publish date and tarball size, the tags naming it (`regis
/// alias`), and whether it is yanked (and why) or unpublished (when, and why); the package's location and its deprecation (the
/// message, the package to use instead). Read from the registry checkout (`--registry`,
/// its `metadata/`) and the index checkout, or with `--from` from a site `regis site
/// build` made, through its `config.json`. Metadata and the index file are held to each
/// other as a reader of a clone holds them: a published version the index lacks, or an
/// indexed one metadata does not list as published, is a problem (exit status 1, the
/// listing still printed).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The package.
    #[arg(value_name = "NAME")]
    pub name: PackageName,
    /// A regis site: the http(s) URL it is served at, or the directory it was built in.
    /// It must serve a `config.json` of format version 1 [default: the registry and index
    /// checkouts].
    #[arg(long, value_name = "URL|DIR")]
    pub from: Option<String>,
    /// Where files read from a site over HTTP are kept with their `ETag` and
    /// `Last-Modified`, so the next read is a cheap revalidation (`sparse/` below it)
    /// [default: `$XDG_STATE_HOME/regis`, or `~/.local/state/regis`].
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
}

impl Args {
    pub fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        let (listing, from, requests) = match &self.from {
            Some(from) => {
                let site = Site::require(from, self.state.as_deref()).map_err(refusal)?;
                let listing = site.list(&self.name).map_err(refusal)?;
                let requests = (!from_directory(from)).then(|| site.requests());
                (listing, site.from().to_owned(), requests)
            }
            None => {
                let config = global.config()?;
                let index = global.index_dir(&config)?;
                let listing = sparse::list_checkouts(&global.registry, &index, &self.name)
                    .map_err(refusal)?;
                (listing, global.registry.display().to_string(), None)
            }
        };
        let code = if listing.problems.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        };
        if global.json {
            super::json::print(&super::json::ListOutput::new(&listing, from, requests))?;
            return Ok(code);
        }
        print(&listing, &from);
        Ok(code)
    }
}

/// Whether `from` names a directory rather than a URL.
fn from_directory(from: &str) -> bool {
    !(from.starts_with("http://") || from.starts_with("https://"))
}

/// A refusal of the site reader: exit status 2 when the site itself cannot be read (not
/// there, not a site, not answering), 1 when what it serves is refused.
pub(crate) fn refusal(e: SparseError) -> anyhow::Error {
    use crate::operation::client::ClientError;
    match e {
        SparseError::NoSite { .. }
        | SparseError::NotASiteConfig { .. }
        | SparseError::SiteFormat { .. }
        | SparseError::Http { .. }
        | SparseError::Read { .. }
        | SparseError::Cache { .. }
        | SparseError::Store(_)
        | SparseError::Client(ClientError::BadSource { .. }) => super::could_not_run(e.into()),
        e => e.into(),
    }
}

fn print(listing: &Listing, from: &str) {
    outln!(
        "`{}` at {}, read from {from}",
        listing.name,
        listing.location
    );
    if let Some(d) = &listing.deprecated {
        let alternative = d
            .alternative
            .as_ref()
            .map(|a| format!(", use `{a}` instead"))
            .unwrap_or_default();
        outln!(
            "deprecated on {}: {}{alternative}",
            d.time.date(),
            crate::text::echo(&d.message)
        );
    }
    if listing.versions.is_empty() {
        outln!("no versions");
    }
    let width = |f: fn(&Listed) -> String| {
        (listing.versions.iter())
            .map(|l| f(l).chars().count())
            .max()
            .unwrap_or(0)
    };
    let version_width = width(|l| l.version.to_string());
    let size_width = width(size);
    for l in &listing.versions {
        let mut flags = Vec::new();
        if !l.tags.is_empty() {
            let tags: Vec<String> = l.tags.iter().map(|t| format!("`{t}`")).collect();
            flags.push(format!("tags: {}", tags.join(", ")));
        }
        if let Some(y) = &l.yanked {
            flags.push(format!("yanked: {}", crate::text::echo(&y.reason)));
        }
        if let Some((reason, time)) = &l.unpublished {
            flags.push(format!(
                "unpublished on {}: {}",
                time.date(),
                crate::text::echo(reason)
            ));
        }
        match (l.tarball.is_some(), l.indexed) {
            (true, false) => flags.push("not in the index".to_owned()),
            (false, true) => flags.push("still in the index".to_owned()),
            _ => {}
        }
        let line = format!(
            "{:version_width$}  {}  {:>size_width$}  {}",
            l.version.to_string(),
            l.published_time.date(),
            size(l),
            flags.join("; ")
        );
        outln!("{}", line.trim_end());
    }
    if !listing.problems.is_empty() {
        let n = listing.problems.len();
        outln!(
            "{n} {}: metadata and the index file disagree",
            if n == 1 { "problem" } else { "problems" }
        );
        for problem in &listing.problems {
            outln!("  {problem}");
        }
    }
}

fn size(l: &Listed) -> String {
    match &l.tarball {
        Some((bytes, _)) => format!("{} bytes", crate::text::thousands(*bytes)),
        None => String::new(),
    }
}
