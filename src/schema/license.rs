use std::fmt;

use spdx::ParseMode;

use super::{SchemaError, string_type};

/// An SPDX license expression (`AND`/`OR`/`WITH`, parentheses), kept as written.
///
/// Parsing accepts what the PureScript Registry already holds, deprecated identifiers such
/// as `GPL-3.0` or `LGPL-3.0+` included. New packages must use canonical identifiers:
/// see [`License::check_canonical`].
///
/// ```
/// use regis::schema::License;
/// let l: License = "MIT AND Apache-2.0".parse().unwrap();
/// assert!(l.check_canonical().is_ok());
/// assert!("GPL-3.0".parse::<License>().unwrap().check_canonical().is_err());
/// assert!("Not-A-License".parse::<License>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct License(String);

/// What is already in the registry: deprecated ids allowed, nothing unknown.
const READ_MODE: ParseMode = ParseMode {
    allow_slash_as_or_operator: false,
    allow_imprecise_license_names: false,
    allow_postfix_plus_on_gpl: true,
    allow_deprecated: true,
    allow_unknown: false,
};

impl License {
    pub fn parse(s: &str) -> Result<Self, SchemaError> {
        spdx::Expression::parse_mode(s, READ_MODE).map_err(|e| SchemaError::License {
            value: s.to_owned(),
            reason: format!("expected an SPDX license expression: {}", e.reason),
        })?;
        Ok(License(s.to_owned()))
    }

    /// Authored input (a new publish) must use current, canonical SPDX identifiers.
    pub fn check_canonical(&self) -> Result<(), SchemaError> {
        spdx::Expression::parse_mode(&self.0, ParseMode::STRICT)
            .map(|_| ())
            .map_err(|e| {
                let bad = &self.0[e.span.clone()];
                let base = bad.trim_end_matches('+');
                let hint = if ["GPL-", "LGPL-", "AGPL-"]
                    .iter()
                    .any(|p| base.starts_with(p))
                {
                    format!(": use `{base}-only` or `{base}-or-later`")
                } else {
                    ": expected a current identifier from https://spdx.org/licenses/".to_owned()
                };
                SchemaError::License {
                    value: self.0.clone(),
                    reason: format!(
                        "`{bad}` is not a canonical SPDX identifier ({}){hint}",
                        e.reason
                    ),
                }
            })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for License {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

string_type!(License);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_license_seen_in_the_real_registry() {
        for s in [
            "MIT",
            "BSD-3-Clause",
            "Apache-2.0 AND ISC",
            "GPL-3.0-or-later",
            "LGPL-3.0+",
            "AGPL-3.0",
            "(GPL-3.0-only OR MIT)",
            "LGPL-2.1 AND LGPL-2.1-only",
            "MIT-0 AND ISC AND MIT",
            "WTFPL",
            "Apache-2.0 WITH LLVM-exception",
        ] {
            assert_eq!(License::parse(s).unwrap().as_str(), s);
        }
    }

    #[test]
    fn canonical_check_for_authored_input() {
        assert!(
            License::parse("MIT OR Apache-2.0")
                .unwrap()
                .check_canonical()
                .is_ok()
        );
        for s in ["GPL-3.0", "LGPL-3.0+", "AGPL-3.0"] {
            assert!(License::parse(s).unwrap().check_canonical().is_err(), "{s}");
        }
        let msg = |s: &str| {
            License::parse(s)
                .unwrap()
                .check_canonical()
                .unwrap_err()
                .to_string()
        };
        insta::assert_snapshot!(msg("GPL-3.0"), @"invalid license `GPL-3.0`: `GPL-3.0` is not a canonical SPDX identifier (a deprecated license identifier was used): use `GPL-3.0-only` or `GPL-3.0-or-later`");
        insta::assert_snapshot!(msg("MIT AND LGPL-3.0+"), @"invalid license `MIT AND LGPL-3.0+`: `LGPL-3.0` is not a canonical SPDX identifier (a deprecated license identifier was used): use `LGPL-3.0-only` or `LGPL-3.0-or-later`");
    }

    #[test]
    fn rejects_unknown_and_malformed() {
        for s in ["", "Foo", "MIT AND", "mit/apache", "MIT OR OR ISC"] {
            assert!(License::parse(s).is_err(), "{s:?} should be rejected");
        }
    }
}
