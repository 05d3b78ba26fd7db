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
    let version = match given.version {
        Some(v) => v.clone(),
        None => lenient::version(given.reference).map_err(|_| {
            F.invalid(format!(
                "it carries no version, the request gives none and the ref `{}` is not one: expected `version` in the request",
                text::value(given.reference)
            ))
        })?,
    };
    if root.contains_key("version") {
        warnings.push(format!(
            "`{}`: ignored `version` (the registry takes the version from the request)",
            F.0
        ));
    }
    let manifest = Manifest {
        name: given.name.clone(),
        version,
        license,
        description,
        location: given.location.clone(),
        reference: given.reference.to_owned(),
        owners: None,
        include_files: None,
        exclude_files: None,
        dependencies,
    };
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
    if kept.is_empty() {
        let found = if written.is_empty() {
            "none".to_owned()
        } else {
            text::list(written.iter().map(|s| format!("`{}`", text::value(s))))
        };
        return Err(F.field(
            "license",
            format!("no canonical SPDX license (found {found}): expected one such as `MIT` or `BSD-3-Clause`, see https://spdx.org/licenses/"),
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
