//! `spago.dhall` with `packages.dhall`, the legacy spago manifest, read as the PureScript
//! Registry reads it (`App/API.purs`, `FromSpagoDhall`; `App/Legacy/Manifest.purs`,
//! `spagoDhallToPursJson`): the file is evaluated, and of its value only `license`,
//! `dependencies` and `packages` are used. Each dependency's range is the exact version
//! (`>=v <v+patch`) its entry in `packages` (the package set `packages.dhall` gives) has.
//! The name, version, location and ref are the request's; there is no description.
//!
//! The evaluation runs in the sandbox ([`crate::sandbox::package_dhall`]) on a copy of the
//! package's `.dhall` files, so `./packages.dhall` resolves; its upstream package set
//! (`https://…/packages.dhall sha256:…`) comes from the registry's Dhall cache, if there.

use serde_json::{Map, Value};
use std::collections::BTreeMap;

use super::fields::{In, kind};
use super::{DhallImports, Given, Manifest, ManifestError, Warnings, lenient};
use crate::schema::{License, PackageName};
use crate::text;

const F: In = In("spago.dhall");

/// The file a `spago.dhall` needs beside it to be published.
pub const PACKAGES_DHALL: &str = "packages.dhall";

/// The most `.dhall` files of a package given to the evaluator.
pub const MAX_DHALL_FILES: usize = 200;

/// The most bytes of `.dhall` files of a package given to the evaluator (each file it
/// reaches is also held to [`crate::dhall::MAX_UNTRUSTED_DHALL_BYTES`]).
pub const MAX_DHALL_BYTES: u64 = 4 * 1024 * 1024;

/// Read a package's `spago.dhall` (`text`), with what it may import.
pub fn read(
    text: &str,
    imports: &DhallImports<'_>,
    given: &Given<'_>,
) -> Result<(Manifest, Warnings), ManifestError> {
    if !imports.files.iter().any(|(path, _)| path == PACKAGES_DHALL) {
        return Err(F.invalid(format!(
            "there is no `{PACKAGES_DHALL}` beside it: expected the package set it takes its dependencies' versions from (the registry publishes a spago.dhall only with its packages.dhall)"
        )));
    }
    let dir =
        tempfile::tempdir().map_err(|e| F.invalid(format!("cannot copy it to evaluate: {e}")))?;
    let own = (F.0.to_owned(), text.as_bytes().to_vec());
    for (path, bytes) in imports.files.iter().chain([&own]) {
        let to = dir.path().join(path);
        let written = to
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&to, bytes));
        written.map_err(|e| F.invalid(format!("cannot copy `{path}` to evaluate it: {e}")))?;
    }
    let value = crate::sandbox::package_dhall(dir.path(), F.0, imports.cache)?;
    from_value(&value, given)
}

/// A `spago.dhall`'s value (as dhall-to-json gives it) into a manifest.
pub fn from_value(value: &Value, given: &Given<'_>) -> Result<(Manifest, Warnings), ManifestError> {
    let root = F.object(value, "its value")?;
    let license = match root.get("license") {
        None => {
            return Err(F.invalid(
                "there is no `license`: expected an SPDX license such as `license = \"MIT\"` (the registry needs one; add it, or publish with a spago.yaml or purs.json)".to_owned(),
            ));
        }
        Some(Value::String(s)) => License::parse(s)
            .and_then(|l| l.check_canonical().map(|()| l))
            .map_err(|e| F.field("license", e))?,
        Some(other) => {
            return Err(F.field(
                "license",
                format!("expected an SPDX license as text, found {}", kind(other)),
            ));
        }
    };
    let names: Vec<&str> = match root.get("dependencies") {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                item.as_str().ok_or_else(|| {
                    F.field(
                        &format!("dependencies[{i}]"),
                        format!("expected a package name as text, found {}", kind(item)),
                    )
                })
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(F.field(
                "dependencies",
                format!("expected a list of package names, found {}", kind(other)),
            ));
        }
    };
    let empty = Map::new();
    let packages = match root.get("packages") {
        None => &empty,
        Some(p) => F.object(p, "`packages`")?,
    };
    let mut dependencies = BTreeMap::new();
    for (i, raw) in names.into_iter().enumerate() {
        let at = format!("dependencies[{i}]");
        let stripped = raw.strip_prefix("purescript-").unwrap_or(raw);
        let name = PackageName::parse(stripped).map_err(|e| F.field(&at, e))?;
        let prefixed = format!("purescript-{stripped}");
        let entry = [raw, stripped, prefixed.as_str()]
            .iter()
            .find_map(|key| packages.get(*key).map(|entry| (*key, entry)));
        let Some((key, entry)) = entry else {
            return Err(F.field(
                &at,
                format!(
                    "`{name}` is not in `packages`: expected every dependency in the package set (`{PACKAGES_DHALL}`), which gives its version"
                ),
            ));
        };
        let at = format!("packages.{}.version", text::value(key));
        let version = match entry.get("version") {
            Some(Value::String(v)) => lenient::version(v).map_err(|e| {
                F.field(&at, format!("`{}` is not a version ({e})", text::value(v)))
            })?,
            Some(other) => {
                return Err(F.field(
                    &at,
                    format!("expected a version as text, found {}", kind(other)),
                ));
            }
            None => {
                return Err(F.invalid(format!(
                    "`{at}` is missing: expected the version of `{name}` in the package set"
                )));
            }
        };
        dependencies.insert(name, lenient::exact(&version));
    }
    let version = F.request_version(given)?;
    let manifest = given.legacy_manifest(version, license, None, dependencies);
    Ok((manifest.checked(F.0)?, Vec::new()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::schema::{Location, Version};

    fn read_value(value: Value) -> Result<(Manifest, Warnings), ManifestError> {
        let name: PackageName = "slug".parse().unwrap();
        let location = Location::github("thomashoneyman", "purescript-slug", None).unwrap();
        let version: Version = "3.0.0".parse().unwrap();
        from_value(
            &value,
            &Given {
                name: &name,
                version: Some(&version),
                location: &location,
                reference: "v3.0.0",
            },
        )
    }

    fn refusal(value: Value) -> String {
        read_value(value).unwrap_err().to_string()
    }

    fn set(entries: &[(&str, &str)]) -> Value {
        let entries: Map<String, Value> = entries
            .iter()
            .map(|(name, v)| {
                let entry =
                    json!({ "version": v, "repo": "https://example.com", "dependencies": [] });
                ((*name).to_owned(), entry)
            })
            .collect();
        Value::Object(entries)
    }

    #[test]
    fn each_dependency_is_its_exact_version_in_the_package_set() {
        let (manifest, warnings) = read_value(json!({
            "name": "ignored",
            "license": "MIT",
            "dependencies": ["prelude", "purescript-maybe", "either"],
            "packages": set(&[("prelude", "v5.0.0"), ("maybe", "v5.0.1"), ("purescript-either", "5.0.0"), ("unused", "v1.0.0")]),
            "sources": ["src/**/*.purs"],
        }))
        .unwrap();
        assert!(warnings.is_empty());
        insta::assert_snapshot!(manifest.to_index_line(), @r#"{"name":"slug","version":"3.0.0","license":"MIT","location":{"githubOwner":"thomashoneyman","githubRepo":"purescript-slug"},"ref":"v3.0.0","dependencies":{"either":">=5.0.0 <5.0.1","maybe":">=5.0.1 <5.0.2","prelude":">=5.0.0 <5.0.1"}}"#);
    }

    #[test]
    fn a_spago_dhall_without_dependencies_has_none() {
        let (manifest, _) = read_value(json!({ "license": "BSD-3-Clause" })).unwrap();
        assert!(manifest.dependencies.is_empty());
        assert_eq!(manifest.license.to_string(), "BSD-3-Clause");
    }

    #[test]
    fn what_the_registry_cannot_read_is_refused_naming_the_field() {
        let refusals = [
            refusal(json!(["not", "a", "record"])),
            refusal(json!({ "dependencies": [] })),
            refusal(json!({ "license": 3 })),
            refusal(json!({ "license": "MIT OR" })),
            refusal(json!({ "license": "MIT", "dependencies": "prelude" })),
            refusal(json!({ "license": "MIT", "dependencies": [1] })),
            refusal(json!({ "license": "MIT", "dependencies": ["Prelude"] })),
            refusal(json!({ "license": "MIT", "dependencies": ["prelude"] })),
            refusal(json!({ "license": "MIT", "dependencies": ["prelude"], "packages": [] })),
            refusal(
                json!({ "license": "MIT", "dependencies": ["prelude"], "packages": { "prelude": {} } }),
            ),
            refusal(
                json!({ "license": "MIT", "dependencies": ["prelude"], "packages": { "prelude": { "version": 5 } } }),
            ),
            refusal(
                json!({ "license": "MIT", "dependencies": ["prelude"], "packages": set(&[("prelude", "master")]) }),
            ),
        ];
        insta::assert_snapshot!(refusals.join("\n"), @r#"
            `spago.dhall` is not a valid manifest: its value is a list: expected a mapping of keys to values
            `spago.dhall` is not a valid manifest: there is no `license`: expected an SPDX license such as `license = "MIT"` (the registry needs one; add it, or publish with a spago.yaml or purs.json)
            `spago.dhall` is not a valid manifest: `license`: expected an SPDX license as text, found the number `3` (quote it to make it a string)
            `spago.dhall` is not a valid manifest: `license`: invalid license `MIT OR`: expected an SPDX license expression: expected one of `<license>`, `(` here
            `spago.dhall` is not a valid manifest: `dependencies`: expected a list of package names, found the string `prelude`
            `spago.dhall` is not a valid manifest: `dependencies[0]`: expected a package name as text, found the number `1` (quote it to make it a string)
            `spago.dhall` is not a valid manifest: `dependencies[0]`: invalid package name `Prelude`: unexpected character `P`: expected lowercase ASCII letters, digits and `-`
            `spago.dhall` is not a valid manifest: `dependencies[0]`: `prelude` is not in `packages`: expected every dependency in the package set (`packages.dhall`), which gives its version
            `spago.dhall` is not a valid manifest: `packages` is a list: expected a mapping of keys to values
            `spago.dhall` is not a valid manifest: `packages.prelude.version` is missing: expected the version of `prelude` in the package set
            `spago.dhall` is not a valid manifest: `packages.prelude.version`: expected a version as text, found the number `5` (quote it to make it a string)
            `spago.dhall` is not a valid manifest: `packages.prelude.version`: `master` is not a version (invalid version `master`: expected three numbers `MAJOR.MINOR.PATCH` separated by `.`)
        "#);
    }

    #[test]
    fn without_packages_dhall_it_is_refused_before_evaluating() {
        let name: PackageName = "slug".parse().unwrap();
        let location = Location::github("thomashoneyman", "purescript-slug", None).unwrap();
        let given = Given {
            name: &name,
            version: None,
            location: &location,
            reference: "v3.0.0",
        };
        let imports = DhallImports {
            files: vec![("test/test.dhall".to_owned(), b"./spago.dhall".to_vec())],
            cache: None,
        };
        let e = read("{ license = \"MIT\" }", &imports, &given).unwrap_err();
        insta::assert_snapshot!(e.to_string(), @"`spago.dhall` is not a valid manifest: there is no `packages.dhall` beside it: expected the package set it takes its dependencies' versions from (the registry publishes a spago.dhall only with its packages.dhall)");
    }
}
