//! `regis completions SHELL` and `regis man`: what a packager installs beside the binary,
//! made from the command definition itself (clap_complete, clap_mangen), so they never
//! disagree with `--help`.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use super::{Global, command};
use anyhow::Context as _;

/// Print a shell completion script (`--json` is refused: exit status 2).
///
/// For example `regis completions bash > /usr/share/bash-completion/completions/regis`, or
/// `regis completions zsh > "${fpath[1]}/_regis"`.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

impl CompletionsArgs {
    pub fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        no_json(global, "completions", "a shell script")?;
        let mut out = Vec::new();
        clap_complete::generate(self.shell, &mut command(), "regis", &mut out);
        std::io::stdout()
            .write_all(&out)
            .context("writing the completion script")?;
        Ok(ExitCode::SUCCESS)
    }
}

/// Write the man pages: `regis(1)` and a page per subcommand (`regis-publish(1)`, …).
///
/// Without `--dir`, prints `regis(1)` alone on standard output (`regis man | man -l -`).
/// `--json` is refused (exit status 2).
#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Write `regis.1` and `regis-<command>.1` for every subcommand into this directory.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

impl ManArgs {
    pub fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        no_json(global, "man", "man pages")?;
        let command = command();
        match self.dir {
            Some(dir) => {
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("creating `{}`", dir.display()))?;
                clap_mangen::generate_to(command, &dir)
                    .with_context(|| format!("writing man pages into `{}`", dir.display()))?;
            }
            None => {
                let mut out = Vec::new();
                clap_mangen::Man::new(command)
                    .render(&mut out)
                    .context("rendering the man page")?;
                std::io::stdout()
                    .write_all(&out)
                    .context("writing the man page")?;
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// `--json` with a command that writes a file format, not a report: bad usage.
fn no_json(global: &Global, name: &str, what: &str) -> anyhow::Result<()> {
    if global.json {
        return Err(super::could_not_run(anyhow::anyhow!(
            "`regis {name}` writes {what}, not JSON: run it without `--json`"
        )));
    }
    Ok(())
}
