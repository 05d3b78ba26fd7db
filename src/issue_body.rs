//! From an issue body to the payload JSON text it carries: the filled-in publish issue
//! form, or the JSON between the first `{` and the last `}`, repaired when pasting
//! damaged it (smart quotes, non-breaking spaces, trailing commas). Pure.

use crate::payload::{Publish, extract_json};
use crate::schema::{Location, PackageName, Version};

/// The labels of the publish issue form (`.github/ISSUE_TEMPLATE/publish.yml` in
/// `index-template/registry/`): the one place the parser names them.
pub mod publish_form {
    pub const NAME: &str = "Package name";
    pub const VERSION: &str = "Version";
    pub const REF: &str = "Git ref";
    pub const GITHUB_REPOSITORY: &str = "GitHub repository";
    pub const GIT_URL: &str = "Git URL";
    pub const SUBDIR: &str = "Subdirectory";
    pub const COMPILER: &str = "Compiler version";
    /// Every label, in form order.
    pub const LABELS: [&str; 7] = [
        NAME,
        VERSION,
        REF,
        GITHUB_REPOSITORY,
        GIT_URL,
        SUBDIR,
        COMPILER,
    ];
}

/// What GitHub writes for an optional issue-form field left empty.
const NO_RESPONSE: &str = "_No response_";

/// The payload JSON text an issue body carries, and whether it had to be repaired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadText {
    pub text: String,
    /// Human notes on each repair made, e.g. `removed a trailing comma`; empty when the
    /// text is the body's own.
    pub repaired: Vec<String>,
}

/// An issue body that carries no readable payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssueBodyError {
    #[error(
        "the issue body carries no payload: expected a JSON object between `{{` and `}}`, or the filled-in publish issue form"
    )]
    NoPayload,
    #[error(
        "invalid JSON in the issue body at line {line} column {column}: {message}: expected one JSON object between the first `{{` and the last `}}`"
    )]
    Json {
        /// 1-based, counted in the whole body.
        line: usize,
        /// 1-based, in bytes, as serde_json counts.
        column: usize,
        message: String,
    },
    #[error("the publish form leaves `{label}` empty: expected a value under `### {label}`")]
    FormMissing { label: &'static str },
    #[error("invalid `{label}` in the publish form: {cause}")]
    FormField { label: &'static str, cause: String },
}

/// The payload JSON text an issue body carries, and whether it had to be repaired.
///
/// A publish issue form becomes a `Publish` JSON object. Otherwise the text from the first
/// `{` to the last `}` is returned untouched if it is valid JSON (a signed payload must
/// not change by a byte); only invalid JSON is repaired, and returned if that makes it
/// valid.
pub fn payload_text(body: &str) -> Result<PayloadText, IssueBodyError> {
    let sections = form_sections(body);
    if sections
        .iter()
        .any(|(label, _)| label == publish_form::NAME)
    {
        return publish_from_form(&sections).map(|text| PayloadText {
            text,
            repaired: Vec::new(),
        });
    }
    let text = extract_json(body).ok_or(IssueBodyError::NoPayload)?;
    let error = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(_) => {
            return Ok(PayloadText {
                text: text.to_owned(),
                repaired: Vec::new(),
            });
        }
        Err(e) => e,
    };
    let (fixed, repairs) = repair(text);
    let notes = repairs.notes();
    if !notes.is_empty() && serde_json::from_str::<serde_json::Value>(&fixed).is_ok() {
        return Ok(PayloadText {
            text: fixed,
            repaired: notes,
        });
    }
    Err(json_error(body, text, &error))
}

/// `error` in `text` (the body's JSON), with its position counted in the whole body.
fn json_error(body: &str, text: &str, error: &serde_json::Error) -> IssueBodyError {
    // `text` starts at the body's first `{` (`extract_json`).
    let start = body.find('{').unwrap_or(0);
    debug_assert!(body[start..].starts_with(text));
    let before = &body[..start];
    let lines_before = before.matches('\n').count();
    let column = if error.line() == 1 {
        error.column() + before.len() - before.rfind('\n').map_or(0, |i| i + 1)
    } else {
        error.column()
    };
    let full = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    let message = full.strip_suffix(&suffix).unwrap_or(&full).to_owned();
    IssueBodyError::Json {
        line: error.line() + lines_before,
        column,
        message,
    }
}

/// The `### <label>` sections of an issue-form body in order, values trimmed and
/// `_No response_` read as empty. Text before the first heading is dropped.
fn form_sections(body: &str) -> Vec<(String, String)> {
    let mut sections: Vec<(String, String)> = Vec::new();
    for line in body.lines() {
        if let Some(label) = line.strip_prefix("### ") {
            sections.push((label.trim().to_owned(), String::new()));
        } else if let Some((_, value)) = sections.last_mut() {
            value.push_str(line);
            value.push('\n');
        }
    }
    for (_, value) in &mut sections {
        let trimmed = value.trim();
        *value = if trimmed == NO_RESPONSE {
            String::new()
        } else {
            trimmed.to_owned()
        };
    }
    sections
}

/// The `Publish` JSON the publish form's fields make.
fn publish_from_form(sections: &[(String, String)]) -> Result<String, IssueBodyError> {
    let field = |label: &'static str| {
        sections
            .iter()
            .find(|(l, _)| l == label)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let required = |label: &'static str| field(label).ok_or(IssueBodyError::FormMissing { label });
    let invalid = |label: &'static str| {
        move |cause: crate::schema::SchemaError| IssueBodyError::FormField {
            label,
            cause: cause.to_string(),
        }
    };
    use publish_form::*;
    let name: PackageName = required(NAME)?.parse().map_err(invalid(NAME))?;
    let version: Version = required(VERSION)?.parse().map_err(invalid(VERSION))?;
    let reference = required(REF)?;
    if reference.chars().any(char::is_whitespace) {
        return Err(IssueBodyError::FormField {
            label: REF,
            cause: format!("`{reference}` contains whitespace: expected a tag, branch or commit"),
        });
    }
    let compiler = field(COMPILER)
        .map(|c| c.parse::<Version>().map_err(invalid(COMPILER)))
        .transpose()?;
    let subdir = field(SUBDIR);
    let location = match (field(GITHUB_REPOSITORY), field(GIT_URL)) {
        (Some(_), Some(_)) => {
            return Err(IssueBodyError::FormField {
                label: GIT_URL,
                cause: format!(
                    "both `{GITHUB_REPOSITORY}` and `{GIT_URL}` are given: expected one of them"
                ),
            });
        }
        // Each checked without the subdirectory first, so an error names the right field.
        (Some(repo), None) => {
            let (owner, name) =
                github_repository(repo).map_err(|cause| IssueBodyError::FormField {
                    label: GITHUB_REPOSITORY,
                    cause,
                })?;
            Location::github(owner, name, None).map_err(invalid(GITHUB_REPOSITORY))?;
            Some(Location::github(owner, name, subdir).map_err(invalid(SUBDIR))?)
        }
        (None, Some(url)) => {
            Location::git(url, None).map_err(invalid(GIT_URL))?;
            Some(Location::git(url, subdir).map_err(invalid(SUBDIR))?)
        }
        (None, None) if subdir.is_some() => {
            return Err(IssueBodyError::FormField {
                label: SUBDIR,
                cause: format!(
                    "a subdirectory needs a location: expected `{GITHUB_REPOSITORY}` or `{GIT_URL}` too"
                ),
            });
        }
        (None, None) => None,
    };
    let publish = Publish {
        name,
        location,
        reference: reference.to_owned(),
        version: Some(version),
        compiler,
        resolutions: None,
        owners_signature: None,
        release_signature: None,
    };
    Ok(serde_json::to_string_pretty(&publish).expect("a Publish serializes"))
}

/// `owner/repo`, or a `https://github.com/owner/repo(.git)` URL, as (owner, repo).
fn github_repository(value: &str) -> Result<(&str, &str), String> {
    let expected = "expected `OWNER/REPO` or `https://github.com/OWNER/REPO`";
    let path = ["https://", "http://"]
        .iter()
        .find_map(|scheme| value.strip_prefix(scheme))
        .map_or(Some(value), |rest| {
            ["github.com/", "www.github.com/"]
                .iter()
                .find_map(|host| rest.strip_prefix(host))
        })
        .ok_or_else(|| {
            format!("`{value}` is not on github.com: {expected}, or use `Git URL` for other hosts")
        })?;
    let path = path.trim_end_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    match path.split_once('/') {
        Some((owner, repo)) if !owner.is_empty() && !repo.is_empty() && !repo.contains('/') => {
            Ok((owner, repo))
        }
        _ => Err(format!("`{value}` is not a repository: {expected}")),
    }
}

/// What [`repair`] changed.
#[derive(Debug, Default, PartialEq, Eq)]
struct Repairs {
    smart_double_quotes: bool,
    smart_single_quotes: bool,
    odd_spaces: bool,
    trailing_commas: usize,
}

impl Repairs {
    fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if self.smart_double_quotes {
            notes.push("replaced smart double quotes with `\"`".to_owned());
        }
        if self.smart_single_quotes {
            notes.push("replaced smart single quotes around strings with `\"`".to_owned());
        }
        if self.odd_spaces {
            notes.push("replaced non-breaking spaces with spaces".to_owned());
        }
        match self.trailing_commas {
            0 => {}
            1 => notes.push("removed a trailing comma".to_owned()),
            n => notes.push(format!("removed {n} trailing commas")),
        }
        notes
    }
}

fn is_smart_double(c: char) -> bool {
    matches!(
        c,
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}'
    )
}

fn is_smart_single(c: char) -> bool {
    matches!(c, '\u{2018}' | '\u{2019}')
}

/// Spaces JSON does not allow between tokens: non-breaking, figure, narrow no-break,
/// zero-width and byte-order-mark.
fn is_odd_space(c: char) -> bool {
    matches!(
        c,
        '\u{00A0}' | '\u{2007}' | '\u{202F}' | '\u{200B}' | '\u{2060}' | '\u{FEFF}'
    )
}

/// Where the scanner is.
#[derive(Clone, Copy)]
enum Scan {
    /// Between tokens.
    Outside,
    /// In a string opened by `"`: everything up to the closing `"` is kept as is.
    Straight,
    /// In a string opened by a smart quote (single or double).
    Smart { single: bool },
}

/// Undo common paste damage. Smart quotes become `"` only where they open or close a
/// string (a smart quote inside a `"`-delimited string is content and stays); a smart
/// quote closes a string only when the next non-space character ends a key or value
/// (`:`, `,`, `}`, `]` or the end), so apostrophes such as `it’s` stay. Odd spaces
/// between tokens become spaces; a comma right before `}` or `]` goes.
fn repair(text: &str) -> (String, Repairs) {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut repairs = Repairs::default();
    let mut state = Scan::Outside;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match state {
            Scan::Outside => {
                if c == '"' {
                    out.push(c);
                    state = Scan::Straight;
                } else if is_smart_double(c) || is_smart_single(c) {
                    let single = is_smart_single(c);
                    if single {
                        repairs.smart_single_quotes = true;
                    } else {
                        repairs.smart_double_quotes = true;
                    }
                    out.push('"');
                    state = Scan::Smart { single };
                } else if is_odd_space(c) {
                    repairs.odd_spaces = true;
                    out.push(' ');
                } else {
                    if matches!(c, '}' | ']') && remove_trailing_comma(&mut out) {
                        repairs.trailing_commas += 1;
                    }
                    out.push(c);
                }
            }
            Scan::Straight => {
                out.push(c);
                if c == '\\' && i + 1 < chars.len() {
                    i += 1;
                    out.push(chars[i]);
                } else if c == '"' {
                    state = Scan::Outside;
                }
            }
            Scan::Smart { single } => {
                let closer = if single {
                    is_smart_single(c)
                } else {
                    is_smart_double(c) || c == '"'
                };
                if c == '\\' && i + 1 < chars.len() {
                    out.push(c);
                    i += 1;
                    out.push(chars[i]);
                } else if closer && ends_a_token(&chars[i + 1..]) {
                    out.push('"');
                    state = Scan::Outside;
                } else if c == '"' {
                    out.push_str("\\\"");
                } else {
                    out.push(c);
                }
            }
        }
        i += 1;
    }
    (out, repairs)
}

/// Whether the next non-space character ends a key or value.
fn ends_a_token(rest: &[char]) -> bool {
    rest.iter()
        .find(|c| !c.is_whitespace() && !is_odd_space(**c))
        .is_none_or(|c| matches!(c, ':' | ',' | '}' | ']'))
}

/// Drop a `,` that is the last non-space character of `out` (scanned text outside any
/// string, so it is a separator); whether there was one.
fn remove_trailing_comma(out: &mut String) -> bool {
    let trimmed = out.trim_end_matches(|c: char| c.is_whitespace());
    if trimmed.ends_with(',') {
        let at = trimmed.len() - 1;
        out.remove(at);
        true
    } else {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::Operation;

    fn ok(body: &str) -> PayloadText {
        payload_text(body).unwrap()
    }

    fn err(body: &str) -> String {
        payload_text(body).unwrap_err().to_string()
    }

    #[test]
    fn valid_json_is_returned_untouched() {
        let body = "Please publish:\n```json\n{\"name\": \"prelude\",\n \"ref\": \"v6.0.1\", \"version\": \"6.0.1\"}\n```\n";
        assert_eq!(
            ok(body),
            PayloadText {
                text: "{\"name\": \"prelude\",\n \"ref\": \"v6.0.1\", \"version\": \"6.0.1\"}"
                    .into(),
                repaired: vec![],
            }
        );
    }

    #[test]
    fn smart_quotes_and_odd_spaces_inside_valid_strings_stay() {
        // A signed payload whose reason quotes “like this”, with a non-breaking space: the
        // signature covers these bytes.
        let inner =
            "{\"name\":\"a\",\"version\":\"1.0.0\",\"reason\":\"the “old” API, it’s\u{a0}gone\"}";
        let body = serde_json::json!({"payload": inner, "signature": "abc"}).to_string();
        assert_eq!(ok(&body).text, body);
        assert!(ok(&body).repaired.is_empty());
    }

    #[test]
    fn smart_double_quotes_are_repaired() {
        let body = "{“name”: “prelude”, “ref”: “v6.0.1”, “version”: „6.0.1‟}";
        let p = ok(body);
        assert_eq!(
            p.text,
            r#"{"name": "prelude", "ref": "v6.0.1", "version": "6.0.1"}"#
        );
        assert_eq!(p.repaired, ["replaced smart double quotes with `\"`"]);
        assert!(Operation::parse(&p.text).is_ok());
    }

    #[test]
    fn smart_single_quotes_around_strings_are_repaired_apostrophes_stay() {
        let body = "{‘name’: ‘a’, ‘version’: ‘1.0.0’, ‘reason’: ‘it’s broken’}";
        let p = ok(body);
        assert_eq!(
            p.text,
            r#"{"name": "a", "version": "1.0.0", "reason": "it’s broken"}"#
        );
        assert_eq!(
            p.repaired,
            ["replaced smart single quotes around strings with `\"`"]
        );
    }

    #[test]
    fn smart_quotes_around_strings_keep_the_ones_inside() {
        // Mixed: straight keys, one smart-quoted value that contains smart and straight quotes.
        let body = r#"{"name": "a", "reason": “the “old" API”}"#;
        let p = ok(body);
        assert_eq!(p.text, r#"{"name": "a", "reason": "the “old\" API"}"#);
        let value: serde_json::Value = serde_json::from_str(&p.text).unwrap();
        assert_eq!(value["reason"], "the “old\" API");
    }

    #[test]
    fn non_breaking_spaces_between_tokens_are_repaired() {
        let body = "{\u{a0}\"name\":\u{a0}\"a b\",\u{202f}\"ref\": \"v1\"\u{feff}}";
        let p = ok(body);
        assert_eq!(p.text, "{ \"name\": \"a b\", \"ref\": \"v1\" }");
        assert_eq!(p.repaired, ["replaced non-breaking spaces with spaces"]);
    }

    #[test]
    fn trailing_commas_are_removed_outside_strings() {
        let body = "{\"packages\": {\"aff\": \"7.0.0\", \"b,}\": null,\n},\n}";
        let p = ok(body);
        assert_eq!(
            p.text,
            "{\"packages\": {\"aff\": \"7.0.0\", \"b,}\": null\n}\n}"
        );
        assert_eq!(p.repaired, ["removed 2 trailing commas"]);
        let p = ok("{\"a\": [1, 2,]}");
        assert_eq!(p.text, "{\"a\": [1, 2]}");
        assert_eq!(p.repaired, ["removed a trailing comma"]);
    }

    #[test]
    fn every_repair_at_once_in_a_fenced_body() {
        let body = "```json\n{\n  “name”: “prelude”,\n\u{a0} “ref”: “v6.0.1”,\n  “version”: “6.0.1”,\n}\n```";
        let p = ok(body);
        assert_eq!(
            p.repaired,
            [
                "replaced smart double quotes with `\"`",
                "replaced non-breaking spaces with spaces",
                "removed a trailing comma"
            ]
        );
        let Operation::Publish(publish) = Operation::parse(&p.text).unwrap() else {
            panic!()
        };
        assert_eq!(publish.name.as_str(), "prelude");
    }

    #[test]
    fn unrepairable_json_says_where_in_the_body() {
        insta::assert_snapshot!(err("Please:\n\n```json\n{\"name\": \"a\" \"ref\": \"v1\"}\n```"), @"invalid JSON in the issue body at line 4 column 14: expected `,` or `}`: expected one JSON object between the first `{` and the last `}`");
        insta::assert_snapshot!(err("publish {name: a}"), @"invalid JSON in the issue body at line 1 column 10: key must be a string: expected one JSON object between the first `{` and the last `}`");
        // Repairs that do not make it valid report the original error.
        insta::assert_snapshot!(err("{“name”: a,}"), @"invalid JSON in the issue body at line 1 column 2: key must be a string: expected one JSON object between the first `{` and the last `}`");
        insta::assert_snapshot!(err("please publish my package"), @"the issue body carries no payload: expected a JSON object between `{` and `}`, or the filled-in publish issue form");
    }

    /// A publish form as GitHub renders it into the issue body.
    fn form(fields: &[(&str, &str)]) -> String {
        fields
            .iter()
            .map(|(label, value)| {
                let value = if value.is_empty() { NO_RESPONSE } else { value };
                format!("### {label}\n\n{value}")
            })
            .collect::<Vec<_>>()
            .join("\n\n")
    }

    fn full_form() -> Vec<(&'static str, &'static str)> {
        vec![
            ("Package name", "prelude"),
            ("Version", "6.0.1"),
            ("Git ref", "v6.0.1"),
            ("GitHub repository", "purescript/purescript-prelude"),
            ("Git URL", ""),
            ("Subdirectory", ""),
            ("Compiler version", "0.15.10"),
        ]
    }

    fn with(field: &'static str, value: &'static str) -> String {
        let mut fields = full_form();
        fields.iter_mut().find(|(l, _)| *l == field).unwrap().1 = value;
        form(&fields)
    }

    #[test]
    fn a_publish_form_becomes_a_publish_payload() {
        let body = form(&full_form());
        assert!(body.starts_with("### Package name\n\nprelude\n\n### Version\n\n6.0.1\n\n"));
        let p = ok(&body);
        assert!(p.repaired.is_empty());
        insta::assert_snapshot!(p.text, @r#"
        {
          "name": "prelude",
          "location": {
            "githubOwner": "purescript",
            "githubRepo": "purescript-prelude"
          },
          "ref": "v6.0.1",
          "version": "6.0.1",
          "compiler": "0.15.10"
        }
        "#);
        let Operation::Publish(publish) = Operation::parse(&p.text).unwrap() else {
            panic!()
        };
        assert_eq!(publish.reference, "v6.0.1");
        // CRLF line ends, as a browser may send them.
        assert_eq!(ok(&body.replace('\n', "\r\n")).text, p.text);
    }

    #[test]
    fn publish_form_locations() {
        let location = |body: &str| {
            let Operation::Publish(p) = Operation::parse(&ok(body).text).unwrap() else {
                panic!()
            };
            p.location
        };
        for repo in [
            "https://github.com/purescript/purescript-prelude",
            "https://github.com/purescript/purescript-prelude.git",
            "https://www.github.com/purescript/purescript-prelude/",
            "purescript/purescript-prelude",
        ] {
            assert_eq!(
                location(&with("GitHub repository", repo)),
                Some(Location::github("purescript", "purescript-prelude", None).unwrap()),
                "{repo}"
            );
        }
        let mut fields = full_form();
        fields[3].1 = "";
        assert_eq!(
            location(&form(&fields)),
            None,
            "an existing package needs none"
        );
        fields[4].1 = "https://git.example.com/prelude.git";
        fields[5].1 = "lib/prelude";
        assert_eq!(
            location(&form(&fields)),
            Some(
                Location::git("https://git.example.com/prelude.git", Some("lib/prelude")).unwrap()
            )
        );
        fields[6].1 = "";
        let Operation::Publish(p) = Operation::parse(&ok(&form(&fields)).text).unwrap() else {
            panic!()
        };
        assert_eq!(p.compiler, None);
    }

    #[test]
    fn publish_form_errors_name_the_field() {
        insta::assert_snapshot!(err(&with("Version", "")), @"the publish form leaves `Version` empty: expected a value under `### Version`");
        insta::assert_snapshot!(err(&with("Package name", "purescript-Prelude")), @"invalid `Package name` in the publish form: invalid package name `purescript-Prelude`: unexpected character `P`: expected lowercase ASCII letters, digits and `-`");
        insta::assert_snapshot!(err(&with("Version", "v6.0.1")), @"invalid `Version` in the publish form: invalid version `v6.0.1`: `v6` is not a number: expected digits only (no `v`, prerelease or build part)");
        insta::assert_snapshot!(err(&with("Git ref", "v6 0 1")), @"invalid `Git ref` in the publish form: `v6 0 1` contains whitespace: expected a tag, branch or commit");
        insta::assert_snapshot!(err(&with("GitHub repository", "https://gitlab.com/a/b")), @"invalid `GitHub repository` in the publish form: `https://gitlab.com/a/b` is not on github.com: expected `OWNER/REPO` or `https://github.com/OWNER/REPO`, or use `Git URL` for other hosts");
        insta::assert_snapshot!(err(&with("GitHub repository", "prelude")), @"invalid `GitHub repository` in the publish form: `prelude` is not a repository: expected `OWNER/REPO` or `https://github.com/OWNER/REPO`");
        insta::assert_snapshot!(err(&with("Git URL", "https://git.example.com/p.git")), @"invalid `Git URL` in the publish form: both `GitHub repository` and `Git URL` are given: expected one of them");
        insta::assert_snapshot!(err(&with("Subdirectory", "../up")), @"invalid `Subdirectory` in the publish form: invalid location: `subdir` `../up` must be a relative path inside the repository (no leading `/`, no `.` or `..` parts)");
        let mut fields = full_form();
        fields[3].1 = "";
        fields[5].1 = "lib";
        insta::assert_snapshot!(err(&form(&fields)), @"invalid `Subdirectory` in the publish form: a subdirectory needs a location: expected `GitHub repository` or `Git URL` too");
    }

    /// The labels in the registry template's publish form (`label:` lines of its body).
    fn template_labels() -> Vec<String> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/index-template/registry/.github/ISSUE_TEMPLATE/publish.yml"
        );
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .filter_map(|l| l.trim_start().strip_prefix("label:"))
            .map(|l| l.trim().trim_matches(['"', '\'']).to_owned())
            .collect()
    }

    #[test]
    fn the_template_form_has_exactly_the_labels_the_parser_reads() {
        assert_eq!(template_labels(), publish_form::LABELS);
    }
}
