//! Progress of long batches: a bar on a terminal, plain log lines otherwise (CI logs).

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

use super::output::{Verbosity, noteln, verbosity};
use crate::operation::package_set::Progress;

/// Reports package-set attempts on standard error.
pub struct Reporter {
    bar: Option<ProgressBar>,
}

impl Reporter {
    /// A bar when standard error is a terminal (and `--json` and `-q` are off), else log
    /// lines (none with `-q`).
    pub fn new(json: bool) -> Reporter {
        let shown = !json && verbosity() > Verbosity::Quiet && std::io::stderr().is_terminal();
        let bar = shown.then(|| {
            let bar = ProgressBar::new(1);
            bar.set_style(
                ProgressStyle::with_template("{spinner} [{pos}/{len}] {wide_msg} {elapsed}")
                    .expect("a valid template"),
            );
            bar
        });
        Reporter { bar }
    }

    /// Remove the bar (before the result is printed).
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Progress for Reporter {
    fn attempt(&self, description: &str, index: usize, total: usize) {
        match &self.bar {
            Some(bar) => {
                bar.set_length(total as u64 + 1);
                bar.set_position(index as u64);
                bar.set_message(description.to_owned());
                bar.enable_steady_tick(std::time::Duration::from_millis(200));
            }
            None if index == 0 => noteln!("package set: trying {description}"),
            None => noteln!("package set: [{index}/{total}] trying {description}"),
        }
    }
}
