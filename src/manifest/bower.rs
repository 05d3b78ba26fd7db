//! `bower.json` (pure): the legacy manifest every `purescript/*` core library still
//! carries, read as the PureScript Registry reads it (`App/Legacy/Manifest.purs`): only
//! `description`, `dependencies` and `license`. The name, version, location and ref are
//! the request's; dependency names lose their `purescript-` prefix, and their ranges are
//! read leniently ([`super::lenient::range`]); of the licenses, those that are canonical
//! SPDX identifiers are kept, joined with `AND`.

use std::collections::BTreeMap;

use serde_json::Value;

use super::fields::{In, kind};
use super::{Given, Manifest, ManifestError, Warnings, lenient};
use crate::schema::{License, PackageName};
use crate::text;

const F: In = In("bower.json");

/// Read a package's `bower.json`; the version is the request's, or else its ref read as a
/// version (`v6.0.1`).
pub fn read(text: &str, given: &Given<'_>) -> Result<(Manifest, Warnings), ManifestError> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| F.invalid(format!("not JSON: {}", text::message(&e.to_string()))))?;
    let root = F.object(&value, "the file")?;
    let description = F
        .optional_string(root, "", "description")?
        .map(str::to_owned);
    let (license, mut warnings) = license(root.get("license"))?;
    let mut dependencies = BTreeMap::new();
    if let Some(deps) = root.get("dependencies") {
        let deps = F.object(deps, "`dependencies`")?;
        for (raw, range) in deps {
            let at = format!("dependencies.{}", text::value(raw));
            let Value::String(range) = range else {
                return Err(F.field(
                    &at,
                    format!(
                        "expected a version range as a string, found {}",
                        kind(range)
                    ),
                ));
            };
            let name = raw.strip_prefix("purescript-").unwrap_or(raw);
            let name = PackageName::parse(name).map_err(|e| F.field(&at, e))?;
            let range = lenient::range(range).map_err(|e| {
                F.field(
                    &at,
                    format!(
                        "`{}` is not a range the registry can read ({e}): expected e.g. `^6.0.0` or `>=6.0.0 <7.0.0`",
                        text::value(range)
                    ),
                )
            })?;
            dependencies.insert(name, range);
        }
    }
    let version = F.request_version(given)?;
    if root.contains_key("version") {
        warnings.push(format!(
            "`{}`: ignored `version` (the registry takes the version from the request)",
            F.0
        ));
    }
    let manifest = given.legacy_manifest(version, license, description, dependencies);
    Ok((manifest.checked(F.0)?, warnings))
}

/// `license`: a string or a list of strings; the canonical SPDX ones joined with `AND`
/// (one that is an `OR` expression in parentheses), the others dropped with a warning.
fn license(value: Option<&Value>) -> Result<(License, Warnings), ManifestError> {
    let written: Vec<&str> = match value {
        None => Vec::new(),
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str().ok_or_else(|| {
                    F.field(
                        "license",
                        format!("expected SPDX identifiers as strings, found {}", kind(item)),
                    )
                })
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(F.field(
                "license",
                format!(
                    "expected an SPDX license or a list of them, found {}",
                    kind(other)
                ),
            ));
        }
    };
    let canonical = |s: &str| License::parse(s).is_ok_and(|l| l.check_canonical().is_ok());
    let (kept, dropped): (Vec<&str>, Vec<&str>) = written.iter().partition(|s| canonical(s));
    let expected = "expected a canonical SPDX license such as `MIT` or `BSD-3-Clause` (see https://spdx.org/licenses/)";
    if written.is_empty() {
        return Err(F.invalid(format!("`license` is missing: {expected}")));
    }
    if kept.is_empty() {
        let found: Vec<String> = written
            .iter()
            .map(|s| format!("`{}`", text::value(s)))
            .collect();
        return Err(F.field(
            "license",
            format!("none of {} is canonical: {expected}", text::list(&found)),
        ));
    }
    let joined = if kept.len() == 1 {
        kept[0].to_owned()
    } else {
        kept.iter()
            .map(|s| {
                if s.contains(" OR ") {
                    format!("({s})")
                } else {
                    (*s).to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join(" AND ")
    };
    let license = License::parse(&joined).map_err(|e| F.field("license", e))?;
    let warnings = dropped
        .iter()
        .map(|s| {
            format!(
                "`{}`: ignored the license `{}`, which is not a canonical SPDX identifier",
                F.0,
                text::value(s)
            )
        })
        .collect();
    Ok((license, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Location, Version};

    fn read_with(
        text: &str,
        version: Option<&str>,
        reference: &str,
    ) -> Result<(Manifest, Warnings), ManifestError> {
        read_named("prelude", text, version, reference)
    }

    fn read_named(
        name: &str,
        text: &str,
        version: Option<&str>,
        reference: &str,
    ) -> Result<(Manifest, Warnings), ManifestError> {
        let name: PackageName = name.parse().unwrap();
        let location = Location::github("purescript", "purescript-prelude", None).unwrap();
        let version: Option<Version> = version.map(|v| v.parse().unwrap());
        read(
            text,
            &Given {
                name: &name,
                version: version.as_ref(),
                location: &location,
                reference,
            },
        )
    }

    const BASE: &str = r#"{
  "name": "purescript-prelude",
  "homepage": "https://github.com/purescript/purescript-prelude",
  "description": "The PureScript Prelude",
  "license": ["BSD-3-Clause", "GPL-3.0"],
  "version": "6.0.1",
  "dependencies": { "purescript-effect": "^4.0.0", "console": "~6.1", "purescript-maybe": ">=6.0.0 <7.0.0" },
  "devDependencies": { "purescript-anything": "latest" }
}"#;

    #[test]
    fn a_bower_json_reads_as_the_registry_reads_it() {
        let (m, warnings) = read_with(BASE, Some("6.0.1"), "v6.0.1").unwrap();
        insta::assert_snapshot!(m.to_index_line(), @r#"{"name":"prelude","version":"6.0.1","license":"BSD-3-Clause","description":"The PureScript Prelude","location":{"githubOwner":"purescript","githubRepo":"purescript-prelude"},"ref":"v6.0.1","dependencies":{"console":">=6.1.0 <6.2.0","effect":">=4.0.0 <5.0.0","maybe":">=6.0.0 <7.0.0"}}"#);
        insta::assert_snapshot!(warnings.join("\n"), @r"
            `bower.json`: ignored the license `GPL-3.0`, which is not a canonical SPDX identifier
            `bower.json`: ignored `version` (the registry takes the version from the request)
        ");
        // Without a version in the request, the ref is read as one.
        let (m, _) = read_with(BASE, None, "v6.0.1").unwrap();
        assert_eq!(m.version.to_string(), "6.0.1");
    }

    #[test]
    fn refusals_name_the_field_and_what_was_expected() {
        let cases = [
            (
                "not JSON",
                BASE.replace('{', "[").to_owned(),
                None,
                "v1.0.0",
            ),
            ("a list", "[]".to_owned(), None, "v1.0.0"),
            (
                "no license",
                BASE.replace(r#""license": ["BSD-3-Clause", "GPL-3.0"],"#, ""),
                None,
                "v1.0.0",
            ),
            (
                "legacy license only",
                BASE.replace(r#"["BSD-3-Clause", "GPL-3.0"]"#, r#""GPL-3.0""#),
                None,
                "v1.0.0",
            ),
            (
                "license number",
                BASE.replace(r#"["BSD-3-Clause", "GPL-3.0"]"#, "3"),
                None,
                "v1.0.0",
            ),
            (
                "bad range",
                BASE.replace("^4.0.0", "latest"),
                None,
                "v1.0.0",
            ),
            (
                "git range",
                BASE.replace("^4.0.0", "purescript/purescript-effect#master"),
                None,
                "v1.0.0",
            ),
            (
                "bad name",
                BASE.replace("purescript-effect", "purescript-Effect"),
                None,
                "v1.0.0",
            ),
            ("no version", BASE.to_owned(), None, "main"),
        ];
        let lines: Vec<String> = cases
            .iter()
            .map(|(case, text, version, reference)| {
                let e = read_with(text, *version, reference).unwrap_err();
                format!("{case} → {}", crate::error_chain(&e))
            })
            .collect();
        insta::assert_snapshot!(lines.join("\n"), @r"
            not JSON → `bower.json` is not a valid manifest: not JSON: expected `,` or `]` at line 2 column 9
            a list → `bower.json` is not a valid manifest: the file is a list: expected a mapping of keys to values
            no license → `bower.json` is not a valid manifest: `license` is missing: expected a canonical SPDX license such as `MIT` or `BSD-3-Clause` (see https://spdx.org/licenses/)
            legacy license only → `bower.json` is not a valid manifest: `license`: none of `GPL-3.0` is canonical: expected a canonical SPDX license such as `MIT` or `BSD-3-Clause` (see https://spdx.org/licenses/)
            license number → `bower.json` is not a valid manifest: `license`: expected an SPDX license or a list of them, found the number `3` (quote it to make it a string)
            bad range → `bower.json` is not a valid manifest: `dependencies.purescript-effect`: `latest` is not a range the registry can read (it allows every version, and the registry needs bounds): expected e.g. `^6.0.0` or `>=6.0.0 <7.0.0`
            git range → `bower.json` is not a valid manifest: `dependencies.purescript-effect`: `purescript/purescript-effect#master` is not a range the registry can read (ranges must begin with `>=`): expected e.g. `^6.0.0` or `>=6.0.0 <7.0.0`
            bad name → `bower.json` is not a valid manifest: `dependencies.purescript-Effect`: invalid package name `Effect`: unexpected character `E`: expected lowercase ASCII letters, digits and `-`
            no version → `bower.json` is not a valid manifest: it carries no version, the request gives none and the ref `main` is not one: expected `version` in the request
        ");
    }

    #[test]
    fn the_real_bower_json_files_read() {
        let Some(fixtures) = crate::testing::purescript_fixtures() else {
            return;
        };
        for case in [
            "prelude-6.0.1",
            "effect-4.0.0",
            "type-equality-4.0.1",
            "repr-0.4.4",
        ] {
            let text = std::fs::read_to_string(
                fixtures.join("sources").join(case).join("tree/bower.json"),
            )
            .unwrap();
            let (name, version) = case.rsplit_once('-').unwrap();
            read_named(name, &text, Some(version), &format!("v{version}")).unwrap();
        }
    }
}
