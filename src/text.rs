//! Untrusted text echoed back bounded (pure): a value cut to a length that says how long it
//! was, a long list summarised with how many were left out, a text cut to a byte budget at
//! a character boundary. Every message that repeats what a payload, a package or GitHub
//! handed in goes through here, so a 1 MB name or 30,000 missing dependencies make a
//! message of a few hundred characters, not megabytes. A name a package chose (a path, a
//! symlink target, a glob) is shown by [`echo`], which also escapes what would break a line
//! or reorder the message around it.

use std::borrow::Cow;
use std::fmt::{self, Display, Write as _};

/// How many characters of a value a message repeats (a name, a ref, a URL).
pub const VALUE_MAX_CHARS: usize = 300;

/// How many characters of another library's message (serde, git) a message repeats: they
/// may quote a whole value.
pub const MESSAGE_MAX_CHARS: usize = 1_000;

/// How many entries of a list a message repeats before "and N more".
pub const LIST_MAX_ITEMS: usize = 20;

/// `value` when it has at most `max_chars` characters; else its first `max_chars`
/// characters, `…` and its length: `aaaa… (1,048,576 characters)`.
pub fn bounded(value: &str, max_chars: usize) -> Cow<'_, str> {
    // A value cannot have more characters than bytes: most never need the count.
    if value.len() <= max_chars {
        return Cow::Borrowed(value);
    }
    let Some((cut, _)) = value.char_indices().nth(max_chars) else {
        return Cow::Borrowed(value);
    };
    let total = value.chars().count();
    Cow::Owned(format!(
        "{}… ({} characters)",
        &value[..cut],
        thousands(total as u64)
    ))
}

/// [`bounded`] at [`VALUE_MAX_CHARS`], the cut every echoed value gets.
pub fn value(value: &str) -> Cow<'_, str> {
    bounded(value, VALUE_MAX_CHARS)
}

/// [`bounded`] at [`MESSAGE_MAX_CHARS`], the cut another library's message gets.
pub fn message(message: &str) -> Cow<'_, str> {
    bounded(message, MESSAGE_MAX_CHARS)
}

/// `value` in backticks for a message: [`bounded`] at [`VALUE_MAX_CHARS`] characters, with
/// control characters, bidirectional-text controls and the backslash escaped as Rust writes
/// them (`\n`, `\u{202e}`, `\\`), so that a name cannot break a message's line, hide part
/// of it or reorder it. A value with none of them shows as `` `{value(v)}` `` would.
///
/// ```
/// use regis::text::echo;
/// assert_eq!(echo("src/A.purs").to_string(), "`src/A.purs`");
/// assert_eq!(echo("a\nb").to_string(), r"`a\nb`");
/// ```
pub fn echo(value: &str) -> Echo<'_> {
    Echo(value.as_bytes())
}

/// [`echo`] of a name that may not be UTF-8 (a git tree entry's, a symlink's target): each
/// byte of an invalid sequence shown `\xNN` and counted as one character.
///
/// ```
/// use regis::text::echo_bytes;
/// assert_eq!(echo_bytes(b"Caf\xe9.purs").to_string(), r"`Caf\xe9.purs`");
/// ```
pub fn echo_bytes(value: &[u8]) -> Echo<'_> {
    Echo(value)
}

/// The display of [`echo`] and [`echo_bytes`].
#[derive(Debug, Clone, Copy)]
pub struct Echo<'a>(&'a [u8]);

impl Display for Echo<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('`')?;
        let mut shown = 0;
        let mut total = 0u64;
        for chunk in self.0.utf8_chunks() {
            for c in chunk.valid().chars() {
                if shown < VALUE_MAX_CHARS {
                    if needs_escape(c) {
                        write!(f, "{}", c.escape_default())?;
                    } else {
                        f.write_char(c)?;
                    }
                    shown += 1;
                }
                total += 1;
            }
            for byte in chunk.invalid() {
                if shown < VALUE_MAX_CHARS {
                    write!(f, "\\x{byte:02x}")?;
                    shown += 1;
                }
                total += 1;
            }
        }
        if total > VALUE_MAX_CHARS as u64 {
            write!(f, "… ({} characters)", thousands(total))?;
        }
        f.write_char('`')
    }
}

/// Characters [`echo`] escapes: those that move or hide text, and the escape character.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || c == '\\'
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// The items joined by `separator`; with more than `max_items`, the first `max_items` and
/// `and N more` (`a, b and 29,990 more`).
pub fn summarised<I>(items: I, max_items: usize, separator: &str) -> String
where
    I: IntoIterator,
    I::Item: Display,
{
    let mut out = String::new();
    let mut rest = 0u64;
    for (i, item) in items.into_iter().enumerate() {
        if i >= max_items {
            rest += 1;
        } else {
            if i > 0 {
                out.push_str(separator);
            }
            let _ = write!(out, "{item}");
        }
    }
    if rest > 0 {
        let _ = write!(out, " and {} more", thousands(rest));
    }
    out
}

/// [`summarised`] at [`LIST_MAX_ITEMS`], separated by `, `.
pub fn list<I>(items: I) -> String
where
    I: IntoIterator,
    I::Item: Display,
{
    summarised(items, LIST_MAX_ITEMS, ", ")
}

/// `n` with a `,` between each group of three digits: `29,990`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// The longest start of `text` of at most `max_bytes` bytes that ends at a character
/// boundary.
pub fn head(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The longest end of `text` of at most `max_bytes` bytes that starts at a character
/// boundary.
pub fn tail(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut start = text.len() - max_bytes;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_values_are_borrowed_unchanged() {
        assert!(matches!(bounded("prelude", 7), Cow::Borrowed("prelude")));
        // Seven characters in more than seven bytes are still seven characters.
        assert!(matches!(bounded("ééééééé", 7), Cow::Borrowed(_)));
        assert_eq!(bounded("", 0), "");
    }

    #[test]
    fn long_values_are_cut_and_say_their_length() {
        assert_eq!(bounded("abcdef", 3), "abc… (6 characters)");
        assert_eq!(bounded("ééééé", 2), "éé… (5 characters)");
        let huge = "a".repeat(1 << 20);
        let shown = value(&huge);
        assert_eq!(
            shown,
            format!("{}… (1,048,576 characters)", "a".repeat(VALUE_MAX_CHARS))
        );
    }

    #[test]
    fn echoes_quote_a_plain_value_as_value_would() {
        assert_eq!(echo("").to_string(), "``");
        assert_eq!(echo("docs/café.md").to_string(), "`docs/café.md`");
        for long in ["x".repeat(VALUE_MAX_CHARS + 1), "é".repeat(5_000)] {
            assert_eq!(echo(&long).to_string(), format!("`{}`", value(&long)));
        }
        let exact = "é".repeat(VALUE_MAX_CHARS);
        assert_eq!(echo(&exact).to_string(), format!("`{exact}`"));
    }

    #[test]
    fn echoes_escape_what_moves_or_hides_text() {
        assert_eq!(
            echo("a\nb\r\t\0\u{1b}[31m").to_string(),
            r"`a\nb\r\t\u{0}\u{1b}[31m`"
        );
        assert_eq!(echo("src\\A.purs").to_string(), r"`src\\A.purs`");
        assert_eq!(
            echo("x\u{202e}gpj.purs").to_string(),
            r"`x\u{202e}gpj.purs`"
        );
        assert_eq!(
            echo_bytes(b"a\\b\xff\xfe\n").to_string(),
            r"`a\\b\xff\xfe\n`"
        );
        // An escape counts as the one character it stands for.
        let newlines = "\n".repeat(10_000);
        assert_eq!(
            echo(&newlines).to_string(),
            format!("`{}… (10,000 characters)`", r"\n".repeat(VALUE_MAX_CHARS))
        );
    }

    #[test]
    fn long_lists_say_how_many_are_left_out() {
        assert_eq!(summarised(["a", "b"], 3, ", "), "a, b");
        assert_eq!(summarised(["a", "b", "c"], 3, ", "), "a, b, c");
        assert_eq!(summarised(["a", "b", "c", "d"], 2, "; "), "a; b and 2 more");
        assert_eq!(summarised(Vec::<String>::new(), 2, ", "), "");
        let many = list(0..30_000);
        assert!(many.ends_with(", 19 and 29,980 more"), "{many}");
        assert!(many.len() < 200, "{}", many.len());
    }

    #[test]
    fn thousands_are_grouped() {
        for (n, s) in [
            (0, "0"),
            (999, "999"),
            (1000, "1,000"),
            (29_990, "29,990"),
            (1_048_576, "1,048,576"),
            (u64::MAX, "18,446,744,073,709,551,615"),
        ] {
            assert_eq!(thousands(n), s);
        }
    }

    #[test]
    fn heads_end_at_a_character_boundary() {
        assert_eq!(head("abc", 5), "abc");
        assert_eq!(head("abc", 2), "ab");
        assert_eq!(head("aé", 2), "a");
        assert_eq!(head("aé", 3), "aé");
        assert_eq!(head("", 0), "");
    }

    #[test]
    fn tails_start_at_a_character_boundary() {
        assert_eq!(tail("abc", 5), "abc");
        assert_eq!(tail("abcdé", 2), "é");
        assert_eq!(tail("abcdé", 1), "");
        assert_eq!(tail("aébc", 4), "ébc");
        assert_eq!(tail("aébc", 3), "bc");
    }
}
