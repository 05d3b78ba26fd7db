//! `spago.yaml` (pure): the manifest of today's PureScript packages, read as the PureScript
//! Registry reads it (`App/Manifest/SpagoYaml.purs`): `package.name`, `description` and
//! `dependencies`, and `package.publish.{version, license, location, include, exclude,
//! owners}`; the `ref` is the request's. Everything else in the file (`workspace`, build
//! options, test dependencies) is spago's and ignored.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::fields::{In, kind};
use super::{Given, Manifest, ManifestError, Warnings, lenient};
use crate::schema::{License, Location, Owner, PackageName, Range, Version};
use crate::text;

const F: In = In("spago.yaml");

/// YAML text as a JSON value, read in the sandbox ([`crate::sandbox::yaml`]) within its
/// budget.
pub fn parse(text: &str) -> Result<Value, ManifestError> {
    crate::sandbox::yaml(text)?
        .map_err(|message| F.invalid(format!("not readable YAML: {message}")))
}

/// Read a package's `spago.yaml`.
pub fn read(text: &str, given: &Given<'_>) -> Result<(Manifest, Warnings), ManifestError> {
    let value = parse(text)?;
    let root = F.object(&value, "the file")?;
    let package = F.object(
        root.get("package").ok_or_else(|| {
            F.invalid("there is no `package` section: expected `package:` with the package's `name`, `dependencies` and `publish` settings".to_owned())
        })?,
        "`package`",
    )?;
    let name = F.required_string(package, "package", "name", "the package name")?;
    let name = PackageName::parse(name).map_err(|e| F.field("package.name", e))?;
    let description = F
        .optional_string(package, "package", "description")?
        .map(str::to_owned);
    let dependencies = dependencies(package.get("dependencies"))?;
    let publish = F.object(
        package.get("publish").ok_or_else(|| {
            F.invalid("there is no `package.publish` section: expected the `version`, `license` and `location` to publish with".to_owned())
        })?,
        "`package.publish`",
    )?;
    let at = "package.publish";
    let version = F.required_string(publish, at, "version", "the version to publish")?;
    let version = Version::parse(version).map_err(|e| F.field("package.publish.version", e))?;
    let license = F.required_string(publish, at, "license", "an SPDX license")?;
    let license = License::parse(license)
        .and_then(|l| l.check_canonical().map(|()| l))
        .map_err(|e| F.field("package.publish.license", e))?;
    let location = publish.get("location").ok_or_else(|| {
        F.invalid("`package.publish.location` is missing: expected where the package is published from, e.g. `location: { githubOwner: purescript, githubRepo: purescript-prelude }`".to_owned())
    })?;
    let location: Location = serde_json::from_value(location.clone())
        .map_err(|e| F.field("package.publish.location", text::message(&e.to_string())))?;
    let include_files = globs(publish, "include")?;
    let exclude_files = globs(publish, "exclude")?;
    let owners = owners(publish.get("owners"))?;
    let manifest = Manifest {
        name,
        version,
        license,
        description,
        location,
        reference: given.reference.to_owned(),
        owners,
        include_files,
        exclude_files,
        dependencies,
    };
    Ok((manifest.checked(F.0)?, Vec::new()))
}

/// `package.dependencies`: a list of names with ranges (`- prelude: ">=6.0.0 <7.0.0"`) or
/// exact versions (`- prelude: 6.0.1`); a bare name or `*` gives no bounds, and the registry
/// refuses the file naming every such package.
fn dependencies(value: Option<&Value>) -> Result<BTreeMap<PackageName, Range>, ManifestError> {
    let at = "package.dependencies";
    let Some(value) = value else {
        return Err(F.invalid(format!(
            "`{at}` is missing: expected a list of the packages it depends on (`[]` for none)"
        )));
    };
    let Value::Array(entries) = value else {
        return Err(F.field(at, format!("expected a list, found {}", kind(value))));
    };
    let mut ranges = BTreeMap::new();
    let mut unbounded = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let (name, range) = match entry {
            Value::String(name) => (name.as_str(), None),
            Value::Object(pair) if pair.len() == 1 => {
                let (name, range) = pair.iter().next().expect("one entry");
                let Value::String(range) = range else {
                    return Err(F.field(
                        &format!("{at}[{i}].{}", text::value(name)),
                        format!(
                            "expected a range as a string (`\">=1.0.0 <2.0.0\"`), found {}",
                            kind(range)
                        ),
                    ));
                };
                (name.as_str(), Some(range.as_str()))
            }
            other => {
                return Err(F.field(
                    &format!("{at}[{i}]"),
                    format!(
                        "expected a package name or `name: range`, found {}",
                        kind(other)
                    ),
                ));
            }
        };
        let name = PackageName::parse(name).map_err(|e| F.field(&format!("{at}[{i}]"), e))?;
        match range {
            None | Some("*") => unbounded.push(name),
            Some(range) => {
                let parsed = Range::parse(range)
                    .or_else(|e| Version::parse(range).map(|v| lenient::exact(&v)).map_err(|_| e))
                    .map_err(|_| {
                        F.field(
                            &format!("{at}[{i}].{name}"),
                            format!(
                                "`{}` is not a range: expected `>=A.B.C <X.Y.Z`, a version `A.B.C`, or `*`",
                                text::value(range)
                            ),
                        )
                    })?;
                ranges.insert(name, parsed);
            }
        }
    }
    if !unbounded.is_empty() {
        let names: Vec<String> = unbounded.iter().map(|n| format!("`{n}`")).collect();
        return Err(F.field(
            at,
            format!(
                "no range for {}: expected every dependency with bounds, e.g. `- prelude: \">=6.0.0 <7.0.0\"` (`spago publish` fills them in)",
                text::list(&names)
            ),
        ));
    }
    Ok(ranges)
}

/// `include` / `exclude`: a list of globs; blank ones are dropped and an empty list is
/// no list, as the registry does.
fn globs(publish: &Map<String, Value>, key: &str) -> Result<Option<Vec<String>>, ManifestError> {
    let at = format!("package.publish.{key}");
    let Some(value) = publish.get(key) else {
        return Ok(None);
    };
    let Value::Array(items) = value else {
        return Err(F.field(
            &at,
            format!("expected a list of globs, found {}", kind(value)),
        ));
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Value::String(glob) = item else {
            return Err(F.field(
                &format!("{at}[{i}]"),
                format!("expected a glob as a string, found {}", kind(item)),
            ));
        };
        if !glob.is_empty() {
            out.push(glob.clone());
        }
    }
    Ok((!out.is_empty()).then_some(out))
}

/// `owners`: a non-empty list of `{ keytype, public, id? }`; other keys (an `email`) are
/// ignored, as the registry ignores them.
fn owners(value: Option<&Value>) -> Result<Option<Vec<Owner>>, ManifestError> {
    let at = "package.publish.owners";
    let Some(value) = value else {
        return Ok(None);
    };
    let Value::Array(items) = value else {
        return Err(F.field(
            at,
            format!("expected a list of owners, found {}", kind(value)),
        ));
    };
    if items.is_empty() {
        return Err(F.invalid(format!("`{at}` is an empty list: omit it instead")));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let at = format!("{at}[{i}]");
            let owner = F.object(item, &format!("`{at}`"))?;
            let keytype =
                F.required_string(owner, &at, "keytype", "the key type, e.g. `ssh-ed25519`")?;
            let public = F.required_string(owner, &at, "public", "the base64 public key")?;
            let id = F.optional_string(owner, &at, "id")?;
            Owner::new(id, keytype, public).map_err(|e| F.field(&at, e))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn given<'a>(name: &'a PackageName, location: &'a Location) -> Given<'a> {
        Given {
            name,
            version: None,
            location,
            reference: "v1.0.0",
        }
    }

    fn read_text(text: &str) -> Result<(Manifest, Warnings), ManifestError> {
        let name: PackageName = "ignored".parse().unwrap();
        let location = Location::github("o", "r", None).unwrap();
        read(text, &given(&name, &location))
    }

    const BASE: &str = "package:
  name: tidy
  description: A syntax tidy-upper.
  dependencies:
    - arrays: \">=7.3.0 <8.0.0\"
    - prelude: 6.0.1
  publish:
    version: 0.11.1
    license: MIT
    location:
      githubOwner: natefaubion
      githubRepo: purescript-tidy
    owners:
      - keytype: ssh-ed25519
        public: AAAAC3NzaC1lZDI1NTE5AAAAICm0Ar7rHAWONOM4qA5q777/CQaN6cHvcBq3VXB7d5Yw
        email: someone@example.com
    include:
      - \"test/**/*.purs\"
      - \"\"
    exclude: []
workspace:
  extraPackages: {}
";

    #[test]
    fn a_spago_yaml_reads_as_the_registry_reads_it() {
        let (m, warnings) = read_text(BASE).unwrap();
        assert!(warnings.is_empty());
        insta::assert_snapshot!(m.to_index_line(), @r#"{"name":"tidy","version":"0.11.1","license":"MIT","description":"A syntax tidy-upper.","location":{"githubOwner":"natefaubion","githubRepo":"purescript-tidy"},"ref":"v1.0.0","owners":[{"keytype":"ssh-ed25519","public":"AAAAC3NzaC1lZDI1NTE5AAAAICm0Ar7rHAWONOM4qA5q777/CQaN6cHvcBq3VXB7d5Yw"}],"includeFiles":["test/**/*.purs"],"dependencies":{"arrays":">=7.3.0 <8.0.0","prelude":">=6.0.1 <6.0.2"}}"#);
    }

    #[test]
    fn the_real_spago_yaml_files_read() {
        let Some(fixtures) = crate::testing::purescript_fixtures() else {
            return;
        };
        for case in ["tidy-0.11.1", "webb-writer-0.0.3", "yoga-om-1.2.0"] {
            let text = std::fs::read_to_string(
                fixtures.join("sources").join(case).join("tree/spago.yaml"),
            )
            .unwrap();
            let (m, _) = read_text(&text).unwrap();
            assert_eq!(format!("{}-{}", m.name, m.version), case);
        }
    }

    /// Every refusal names the file, the field and what was expected.
    #[test]
    fn refusals_name_the_field_and_what_was_expected() {
        let cases = [
            ("not YAML", "package: [".to_owned()),
            ("a list", "- a\n- b\n".to_owned()),
            ("no package", "workspace: {}\n".to_owned()),
            ("no publish", BASE.replace("  publish:", "  unpublished:")),
            ("no name", BASE.replace("  name: tidy\n", "")),
            ("bad name", BASE.replace("name: tidy", "name: Tidy_")),
            (
                "no dependencies",
                BASE.replace("  dependencies:\n    - arrays: \">=7.3.0 <8.0.0\"\n    - prelude: 6.0.1\n", ""),
            ),
            (
                "unbounded",
                BASE.replace("    - prelude: 6.0.1\n", "    - prelude\n    - effect: \"*\"\n"),
            ),
            ("caret", BASE.replace("6.0.1\n", "\"^6.0.1\"\n")),
            ("number version", BASE.replace("version: 0.11.1", "version: 0.11")),
            ("legacy license", BASE.replace("license: MIT", "license: GPL-3.0")),
            (
                "no location",
                BASE.replace(
                    "    location:\n      githubOwner: natefaubion\n      githubRepo: purescript-tidy\n",
                    "",
                ),
            ),
            (
                "bad location",
                BASE.replace("githubOwner: natefaubion", "owner: natefaubion"),
            ),
            ("empty owners", {
                let start = BASE.find("    owners:").unwrap();
                let end = BASE.find("    include:").unwrap();
                format!("{}    owners: []\n{}", &BASE[..start], &BASE[end..])
            }),
            ("bad include", BASE.replace("      - \"\"\n", "      - 3\n")),
        ];
        let lines: Vec<String> = cases
            .iter()
            .map(|(case, text)| {
                let e = read_text(text).unwrap_err();
                format!("{case} → {}", crate::error_chain(&e))
            })
            .collect();
        insta::assert_snapshot!(lines.join("\n"), @r#"
            not YAML → `spago.yaml` is not a valid manifest: not readable YAML: line 1 column 10: unclosed bracket '['
            a list → `spago.yaml` is not a valid manifest: the file is a list: expected a mapping of keys to values
            no package → `spago.yaml` is not a valid manifest: there is no `package` section: expected `package:` with the package's `name`, `dependencies` and `publish` settings
            no publish → `spago.yaml` is not a valid manifest: there is no `package.publish` section: expected the `version`, `license` and `location` to publish with
            no name → `spago.yaml` is not a valid manifest: `package.name` is missing: expected the package name
            bad name → `spago.yaml` is not a valid manifest: `package.name`: invalid package name `Tidy_`: unexpected character `T`: expected lowercase ASCII letters, digits and `-`
            no dependencies → `spago.yaml` is not a valid manifest: `package.dependencies` is missing: expected a list of the packages it depends on (`[]` for none)
            unbounded → `spago.yaml` is not a valid manifest: `package.dependencies`: no range for `prelude`, `effect`: expected every dependency with bounds, e.g. `- prelude: ">=6.0.0 <7.0.0"` (`spago publish` fills them in)
            caret → `spago.yaml` is not a valid manifest: `package.dependencies[1].prelude`: `^6.0.1` is not a range: expected `>=A.B.C <X.Y.Z`, a version `A.B.C`, or `*`
            number version → `spago.yaml` is not a valid manifest: `package.publish.version`: expected the version to publish as a string, found the number `0.11` (quote it to make it a string)
            legacy license → `spago.yaml` is not a valid manifest: `package.publish.license`: invalid license `GPL-3.0`: `GPL-3.0` is not a canonical SPDX identifier (a deprecated license identifier was used): use `GPL-3.0-only` or `GPL-3.0-or-later`
            no location → `spago.yaml` is not a valid manifest: `package.publish.location` is missing: expected where the package is published from, e.g. `location: { githubOwner: purescript, githubRepo: purescript-prelude }`
            bad location → `spago.yaml` is not a valid manifest: `package.publish.location`: unknown field `owner`, expected one of `githubOwner`, `githubRepo`, `gitUrl`, `subdir`
            empty owners → `spago.yaml` is not a valid manifest: `package.publish.owners` is an empty list: omit it instead
            bad include → `spago.yaml` is not a valid manifest: `package.publish.include[1]`: expected a glob as a string, found the number `3` (quote it to make it a string)
        "#);
    }

    /// An alias bomb and a deeply nested document stop at the parser's budget, quickly.
    #[test]
    fn yaml_bombs_stop_at_the_budget() {
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        let mut previous = 'a';
        for name in 'b'..='j' {
            let refs = vec![format!("*{previous}"); 10].join(", ");
            bomb.push_str(&format!("{name}: &{name} [{refs}]\n"));
            previous = name;
        }
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        for (case, text) in [("aliases", bomb), ("depth", deep)] {
            let started = std::time::Instant::now();
            let e = read_text(&text).unwrap_err().to_string();
            assert!(
                e.starts_with("`spago.yaml` is not a valid manifest: not readable YAML: "),
                "{case}: {e}"
            );
            assert!(
                started.elapsed() < std::time::Duration::from_secs(10),
                "{case}"
            );
        }
    }
}
