//! Everything regis prints, on standard output and standard error, goes through here, made
//! inert so that no line can act as a GitHub Actions workflow command.
//!
//! The Actions runner reads a step's stdout and stderr line by line (a line ends at `\n`,
//! `\r\n` or a lone `\r`) and acts on a line that, after leading whitespace, starts with
//! `::` (`::add-mask::…`, `::stop-commands::…`, `::error::…`), or that holds `##[` anywhere
//! (the older `##[add-mask]…` form). Its comparisons are culture-sensitive, so characters
//! such as U+200B in between do not stop a match. What regis prints carries text from
//! payloads, packages' build output, git refs, GitHub events and error messages, so:
//!
//! - a line whose first ASCII graphic character (anything else before it — whitespace,
//!   control, non-ASCII — skipped) is `:` gets a `\` before that `:`;
//! - a `[` whose two previous ASCII graphic characters on the line are `##` gets a `\`
//!   before it.
//!
//! In JSON output (`--json`) such a `[` can only be inside a string, and is written
//! `\u005b` there instead, the same JSON value. Nothing else changes, so ordinary output
//! reads as it always did. The state (where a
//! line starts, the last characters seen) is kept per stream across calls, so a command
//! split over two prints is caught too. The one workflow command regis means to give, the
//! failure annotation, is written by [`error_annotation`] with its message escaped.
//!
//! A `::stop-commands::<token>` block would not do here: the runner keeps one command
//! state for stdout and stderr together and reads the two pipes in batches, stderr first,
//! so a block opened and closed on one stream does not cover lines of the other. Making
//! each line inert holds whatever the order the runner reads them in, on both streams,
//! and needs no token. It is cheap, so it is always on, not only under `GITHUB_ACTIONS`.

use std::borrow::Cow;
use std::fmt;
use std::io::Write as _;
use std::sync::Mutex;

/// Where a stream is: at the start of a line or not, and the last two ASCII graphic
/// characters of the current line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Line {
    at_start: bool,
    last: [u8; 2],
}

impl Line {
    pub(crate) const START: Line = Line {
        at_start: true,
        last: [0; 2],
    };
}

static STDOUT: Mutex<Line> = Mutex::new(Line::START);
static STDERR: Mutex<Line> = Mutex::new(Line::START);

/// The character put before a `:` or `[` that would make a workflow command.
const ESCAPE: char = '\\';

/// How text is made inert: with [`ESCAPE`] put before, or (JSON) a `[` written as the
/// JSON escape `\u005b`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    Text,
    Json,
}

/// `text` made inert, continuing a stream that is at `line` (updated to where `text`
/// leaves it).
pub(crate) fn inert<'a>(text: &'a str, line: &mut Line, form: Form) -> Cow<'a, str> {
    let mut out: Option<String> = None;
    for (i, c) in text.char_indices() {
        let escape = step(line, c);
        if escape && out.is_none() {
            out = Some(text[..i].to_owned());
        }
        if let Some(out) = &mut out {
            match (escape, form, c) {
                (true, Form::Json, '[') => out.push_str("\\u005b"),
                (true, _, _) => {
                    out.push(ESCAPE);
                    out.push(c);
                }
                (false, _, _) => out.push(c),
            }
        }
    }
    match out {
        Some(s) => Cow::Owned(s),
        None => Cow::Borrowed(text),
    }
}

/// Advance `line` over `c`; true when `c` must be preceded by [`ESCAPE`].
fn step(line: &mut Line, c: char) -> bool {
    if c == '\n' || c == '\r' {
        *line = Line::START;
        return false;
    }
    if !c.is_ascii_graphic() {
        return false;
    }
    let b = c as u8;
    let escape = (line.at_start && b == b':') || (b == b'[' && line.last == *b"##");
    line.last = if escape {
        [ESCAPE as u8, b]
    } else {
        [line.last[1], b]
    };
    line.at_start = false;
    escape
}

fn write(stream: &Mutex<Line>, args: fmt::Arguments<'_>, to_stderr: bool, form: Form) {
    let text = match args.as_str() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(args.to_string()),
    };
    let mut line = stream
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let safe = inert(&text, &mut line, form);
    // Like `print!`, but a closed pipe (`regis … | head`) is not a panic.
    let _ = if to_stderr {
        std::io::stderr().lock().write_all(safe.as_bytes())
    } else {
        let mut out = std::io::stdout().lock();
        out.write_all(safe.as_bytes()).and_then(|()| out.flush())
    };
}

/// Write to standard output, made inert (what `out!`/`outln!` call).
pub(crate) fn stdout(args: fmt::Arguments<'_>) {
    write(&STDOUT, args, false, Form::Text);
}

/// Write JSON text and a newline to standard output, made inert as JSON.
pub(crate) fn stdout_json(json: &str) {
    write(&STDOUT, format_args!("{json}\n"), false, Form::Json);
}

/// Write to standard error, made inert (what `errorln!`, `warnln!`, `noteln!` and
/// `verboseln!` call).
pub(crate) fn stderr(args: fmt::Arguments<'_>) {
    write(&STDERR, args, true, Form::Text);
}

/// Write a line of JSON text (one compact object) to standard error, made inert as JSON.
pub(crate) fn stderr_json(json: &str) {
    write(&STDERR, format_args!("{json}\n"), true, Form::Json);
}

/// How much regis says on standard error besides errors (`-q`, `-v`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Verbosity {
    /// Errors only: no warnings, notes or progress.
    Quiet,
    Normal,
    /// Also which checkouts and storage a command works on, and how long it took.
    Verbose,
}

static VERBOSITY: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(1);
static COLOR: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
static JSON: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Set once, from the global options, before the command runs.
pub(crate) fn configure(verbosity: Verbosity, color: bool, json: bool) {
    VERBOSITY.store(verbosity as u8, std::sync::atomic::Ordering::Relaxed);
    COLOR.store(color, std::sync::atomic::Ordering::Relaxed);
    JSON.store(json, std::sync::atomic::Ordering::Relaxed);
}

/// Whether `--json` is on: standard error then carries JSON lines
/// ([`super::json`]), and no workflow annotation is written.
pub(crate) fn json() -> bool {
    JSON.load(std::sync::atomic::Ordering::Relaxed)
}

pub(crate) fn verbosity() -> Verbosity {
    match VERBOSITY.load(std::sync::atomic::Ordering::Relaxed) {
        0 => Verbosity::Quiet,
        1 => Verbosity::Normal,
        _ => Verbosity::Verbose,
    }
}

/// `error`, `warning` or `note`, coloured (bold red, bold yellow, bold) when colour is on.
pub(crate) fn label(kind: &str) -> String {
    if !COLOR.load(std::sync::atomic::Ordering::Relaxed) {
        return kind.to_owned();
    }
    let code = match kind {
        "error" => "1;31",
        "warning" => "1;33",
        _ => "1",
    };
    format!("\x1b[{code}m{kind}\x1b[0m")
}

/// Whether to colour standard error: `--color always`/`never`, else (`auto`) when it is a
/// terminal and `NO_COLOR` is not set to something (<https://no-color.org>).
pub(crate) fn wants_color(choice: clap::ColorChoice) -> bool {
    use std::io::IsTerminal as _;
    match choice {
        clap::ColorChoice::Always => true,
        clap::ColorChoice::Never => false,
        clap::ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stderr().is_terminal()
        }
    }
}

/// `print!` through [`inert`].
macro_rules! out {
    ($($arg:tt)*) => { $crate::cli::output::stdout(format_args!($($arg)*)) };
}

/// `println!` through [`inert`].
macro_rules! outln {
    () => { $crate::cli::output::stdout(format_args!("\n")) };
    ($($arg:tt)*) => {
        $crate::cli::output::stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `<kind>: <message>` and a newline on standard error, the label coloured when colour is
/// on ([`label`]), when the verbosity is at least `shown_from` (what `errorln!`,
/// `warnln!` and `verboseln!` call).
/// Under `--json`, the line is a JSON object instead ([`super::json::message_line`]).
pub(crate) fn labelled(kind: &str, shown_from: Verbosity, args: fmt::Arguments<'_>) {
    if verbosity() < shown_from {
        return;
    }
    if json() {
        stderr_json(&super::json::message_line(kind, &args.to_string()));
    } else {
        stderr(format_args!("{}: {args}\n", label(kind)));
    }
}

/// A line of progress on standard error unless `-q` (what `noteln!` calls): unlabelled,
/// or a `note` line under `--json`.
pub(crate) fn progress(args: fmt::Arguments<'_>) {
    if verbosity() < Verbosity::Normal {
        return;
    }
    if json() {
        stderr_json(&super::json::message_line("note", &args.to_string()));
    } else {
        stderr(format_args!("{args}\n"));
    }
}

/// An error on standard error (`error: …`), whatever the verbosity.
macro_rules! errorln {
    ($($arg:tt)*) => {
        $crate::cli::output::labelled(
            "error",
            $crate::cli::output::Verbosity::Quiet,
            format_args!($($arg)*),
        )
    };
}

/// A warning on standard error (`warning: …`), unless `-q`.
macro_rules! warnln {
    ($($arg:tt)*) => {
        $crate::cli::output::labelled(
            "warning",
            $crate::cli::output::Verbosity::Normal,
            format_args!($($arg)*),
        )
    };
}

/// A line of progress on standard error, unless `-q`.
macro_rules! noteln {
    ($($arg:tt)*) => {
        $crate::cli::output::progress(format_args!($($arg)*))
    };
}

/// A detail on standard error (`note: …`), only with `-v`.
macro_rules! verboseln {
    ($($arg:tt)*) => {
        $crate::cli::output::labelled(
            "note",
            $crate::cli::output::Verbosity::Verbose,
            format_args!($($arg)*),
        )
    };
}

pub(crate) use {errorln, noteln, out, outln, verboseln, warnln};

/// How much of a failure a workflow annotation repeats.
const ANNOTATION_MAX_CHARS: usize = 4000;

/// The one workflow command regis gives: an `::error` annotation titled `regis` with
/// `message` (cut to a few thousand characters), on a line of its own on stdout. None
/// under `--json`: stdout holds the one JSON document then, which says what failed.
pub(crate) fn error_annotation(message: &str) {
    if json() {
        return;
    }
    let mut line = STDOUT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let lead = if line.at_start { "" } else { "\n" };
    let message = crate::text::bounded(message, ANNOTATION_MAX_CHARS);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{lead}{}", annotation_line(&message)).and_then(|()| out.flush());
    *line = Line::START;
}

fn annotation_line(message: &str) -> String {
    format!("::error title=regis::{}", escape_data(message))
}

/// A workflow command's data: `%`, CR and LF escaped as GitHub Actions expects, so it
/// stays on one line.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Print panics through [`inert`] too: a panic message may quote a value.
pub(crate) fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let backtrace = std::backtrace::Backtrace::capture();
        let trace = match backtrace.status() {
            std::backtrace::BacktraceStatus::Captured => format!("\n{backtrace}"),
            _ => String::new(),
        };
        let message = format!("regis panicked: {info}{trace}");
        if json() {
            let error = super::json::ErrorOutput {
                message,
                causes: Vec::new(),
            };
            stderr_json(&super::json::error_line(error, 101));
        } else {
            stderr(format_args!("{message}\n"));
        }
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inert_text(text: &str) -> String {
        let mut line = Line::START;
        inert(text, &mut line, Form::Text).into_owned()
    }

    #[test]
    fn ordinary_text_is_borrowed_unchanged() {
        for text in [
            "published prelude@1.0.0\n  tarball   prelude/1.0.0.tar.gz\n",
            "error: could not publish `a@1.0.0`: 50% done: see https://x.example/a::b",
            "  \"name\": \"a#b[c]\"",
            "# heading\n",
            "",
        ] {
            let mut line = Line::START;
            assert!(
                matches!(inert(text, &mut line, Form::Text), Cow::Borrowed(_)),
                "{text}"
            );
        }
    }

    #[test]
    fn workflow_commands_are_made_inert() {
        assert_eq!(inert_text("::add-mask::x"), "\\::add-mask::x");
        assert_eq!(inert_text("    ::error::x\n"), "    \\::error::x\n");
        assert_eq!(
            inert_text("ok\n::stop-commands::t\r::x::\r\n\t::y"),
            "ok\n\\::stop-commands::t\r\\::x::\r\n\t\\::y"
        );
        assert_eq!(inert_text("log ##[add-mask]x"), "log ##\\[add-mask]x");
        assert_eq!(inert_text("###[x] ##[y]"), "###\\[x] ##\\[y]");
        // Characters the runner's comparisons skip do not hide a command.
        assert_eq!(
            inert_text("\u{200b}\u{a0}::add-mask::x"),
            "\u{200b}\u{a0}\\::add-mask::x"
        );
        assert_eq!(
            inert_text("#\u{200b}#\u{ad}[add-mask]x"),
            "#\u{200b}#\u{ad}\\[add-mask]x"
        );
        // A `::` after the start of a line is data, not a command.
        assert_eq!(inert_text("a ::add-mask::x"), "a ::add-mask::x");
    }

    #[test]
    fn a_command_split_over_two_writes_is_caught() {
        let mut line = Line::START;
        let mut inert = |text| inert(text, &mut line, Form::Text).into_owned();
        assert_eq!(inert("out:  "), "out:  ");
        assert_eq!(inert("\n  "), "\n  ");
        assert_eq!(inert(":"), "\\:");
        assert_eq!(inert("x ##"), "x ##");
        assert_eq!(inert("[y]"), "\\[y]");
    }

    #[test]
    fn json_stays_the_same_json() {
        let value = serde_json::json!({"error": "a\n::add-mask::x ##[add-mask]y #\u{200b}#[z]", "list": [1]});
        let text = serde_json::to_string_pretty(&value).unwrap();
        let mut line = Line::START;
        let safe = inert(&text, &mut line, Form::Json);
        assert!(!safe.contains("##["), "{safe}");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&safe).unwrap(),
            value
        );
    }

    #[test]
    fn json_lines_on_stderr_stay_the_same_json_on_one_line() {
        let hostile = "x\n::add-mask::s\r::error::f ##[add-mask]y";
        let error = super::super::json::ErrorOutput {
            message: hostile.to_owned(),
            causes: vec![hostile.to_owned()],
        };
        for line in [
            super::super::json::message_line("warning", hostile),
            super::super::json::error_line(error, 1),
        ] {
            let mut at = Line::START;
            let safe = inert(&line, &mut at, Form::Json);
            assert!(
                !safe.contains("##[") && !safe.contains(['\n', '\r']),
                "{safe}"
            );
            assert!(safe.starts_with("{\"formatVersion\":1,"), "{safe}");
            assert_eq!(
                serde_json::from_str::<serde_json::Value>(&safe).unwrap(),
                serde_json::from_str::<serde_json::Value>(&line).unwrap()
            );
        }
    }

    #[test]
    fn annotations_keep_to_one_line() {
        assert_eq!(
            annotation_line("50% done\nnext\r::add-mask::x"),
            "::error title=regis::50%25 done%0Anext%0D::add-mask::x"
        );
    }
}
