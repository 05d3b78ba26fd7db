//! `docs/refusals.md` lists every error variant with its own text and the test that pins
//! that text; this reads the `#[error(...)]` variants (and `SourceErrorKind`'s) from
//! `src/` and fails when one has no row, or a row names a variant that is gone.

use std::collections::BTreeSet;
use std::path::Path;

use regis::testing::files_below;

/// The name of the error a line declares: `Enum::Variant` for a variant, `Name` for a
/// struct, `None` for a line that is neither (a format string, an attribute, a comment).
fn declared(line: &str, enclosing: &str) -> Option<String> {
    let line = line.trim_start();
    let line = line
        .strip_prefix("pub(crate) ")
        .or(line.strip_prefix("pub "))
        .unwrap_or(line);
    if let Some(rest) = line.strip_prefix("struct ") {
        return Some(ident(rest).to_owned());
    }
    let name = ident(line);
    let starts_upper = name.starts_with(|c: char| c.is_ascii_uppercase());
    let ends = line[name.len()..].trim_start();
    (starts_upper && (ends.is_empty() || ends.starts_with(['{', '(', ','])))
        .then(|| format!("{enclosing}::{name}"))
}

fn ident(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// Every `#[error(...)]` variant or struct outside test code, and `SourceErrorKind`'s.
fn from_code(src: &Path) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for rel in files_below(src) {
        if rel.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let code = std::fs::read_to_string(src.join(&rel)).unwrap();
        let code = code.split("#[cfg(test)]").next().unwrap();
        let lines: Vec<&str> = code.lines().collect();
        let mut enclosing = "";
        let mut in_source_kinds = false;
        for (i, line) in lines.iter().enumerate() {
            let bare = line.trim_start();
            let bare = bare
                .strip_prefix("pub(crate) ")
                .or(bare.strip_prefix("pub "))
                .unwrap_or(bare);
            if let Some(rest) = bare.strip_prefix("enum ") {
                enclosing = ident(rest);
                in_source_kinds = enclosing == "SourceErrorKind";
                continue;
            }
            if in_source_kinds {
                if line.starts_with('}') {
                    in_source_kinds = false;
                } else if line.starts_with("    ") && !line.starts_with("     ") {
                    names.extend(declared(line, enclosing));
                }
            }
            if line.trim_start().starts_with("#[error(") && !line.contains("#[error(transparent)]")
            {
                let name = lines[i + 1..]
                    .iter()
                    .find_map(|next| declared(next, enclosing))
                    .unwrap_or_else(|| panic!("{}:{}: no variant after it", rel.display(), i + 1));
                names.insert(name);
            }
        }
    }
    names
}

/// The first column of the doc's tables: `Enum::Variant` or `Name`.
fn from_doc(doc: &str) -> BTreeSet<String> {
    doc.lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split_once('`'))
        .map(|(name, _)| name.to_owned())
        .filter(|name| !name.starts_with("src/"))
        .collect()
}

#[test]
fn every_refusal_has_a_row_in_docs_refusals_md() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let code = from_code(&root.join("src"));
    let doc = from_doc(&std::fs::read_to_string(root.join("docs/refusals.md")).unwrap());
    assert!(code.len() > 150, "the reader found only {code:?}");
    let missing: Vec<_> = code.difference(&doc).collect();
    let gone: Vec<_> = doc.difference(&code).collect();
    assert!(
        missing.is_empty() && gone.is_empty(),
        "docs/refusals.md lacks a row for {missing:?} (add it, with the test that pins its \
         text) and has rows for {gone:?}, which the code no longer has"
    );
}
