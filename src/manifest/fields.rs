//! Reading a manifest file's fields by hand (pure), so a refusal names the file, the field
//! by its path (`package.publish.version`) and what was expected, which serde's messages
//! (a Rust type, a column) do not.

use std::fmt::Display;

use serde_json::{Map, Value};

use super::{Given, ManifestError};
use crate::schema::Version;
use crate::text;

/// The manifest file being read; its methods make the refusals.
#[derive(Debug, Clone, Copy)]
pub(super) struct In(pub &'static str);

impl In {
    pub fn invalid(self, message: String) -> ManifestError {
        ManifestError::Invalid {
            file: self.0.to_owned(),
            message,
        }
    }

    /// `` `path`: message ``.
    pub fn field(self, path: &str, message: impl Display) -> ManifestError {
        self.invalid(format!("`{path}`: {message}"))
    }

    pub fn object<'v>(
        self,
        value: &'v Value,
        what: &str,
    ) -> Result<&'v Map<String, Value>, ManifestError> {
        value.as_object().ok_or_else(|| {
            self.invalid(format!(
                "{what} is {}: expected a mapping of keys to values",
                kind(value)
            ))
        })
    }

    pub fn required_string<'v>(
        self,
        map: &'v Map<String, Value>,
        at: &str,
        key: &str,
        expected: &str,
    ) -> Result<&'v str, ManifestError> {
        match map.get(key) {
            Some(Value::String(s)) => Ok(s),
            Some(other) => Err(self.field(
                &path(at, key),
                format!("expected {expected} as a string, found {}", kind(other)),
            )),
            None => Err(self.invalid(format!(
                "`{}` is missing: expected {expected}",
                path(at, key)
            ))),
        }
    }

    pub fn optional_string<'v>(
        self,
        map: &'v Map<String, Value>,
        at: &str,
        key: &str,
    ) -> Result<Option<&'v str>, ManifestError> {
        match map.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.field(
                &path(at, key),
                format!("expected a string, found {}", kind(other)),
            )),
        }
    }
}

impl In {
    /// The version of a file that carries none (a `bower.json`, a `spago.dhall`): the
    /// request's, or else its ref read as a version (`v6.0.1`).
    pub fn request_version(self, given: &Given<'_>) -> Result<Version, ManifestError> {
        match given.version {
            Some(v) => Ok(v.clone()),
            None => super::lenient::version(given.reference).map_err(|_| {
                self.invalid(format!(
                    "it carries no version, the request gives none and the ref `{}` is not one: expected `version` in the request",
                    text::value(given.reference)
                ))
            }),
        }
    }
}

/// `at.key`, or `key` at the top.
fn path(at: &str, key: &str) -> String {
    if at.is_empty() {
        key.to_owned()
    } else {
        format!("{at}.{key}")
    }
}

/// What a value is, for messages (in YAML an unquoted `1.0` is a number, not a version).
pub(super) fn kind(value: &Value) -> String {
    match value {
        Value::Null => "nothing (an empty value)".to_owned(),
        Value::Bool(b) => format!("the boolean `{b}`"),
        Value::Number(n) => format!("the number `{n}` (quote it to make it a string)"),
        Value::String(s) => format!("the string `{}`", text::value(s)),
        Value::Array(_) => "a list".to_owned(),
        Value::Object(_) => "a mapping".to_owned(),
    }
}
