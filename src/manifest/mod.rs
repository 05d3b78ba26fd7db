//! The package manifest (one line per version in the index): its fields in the PureScript
//! Registry's key order, its cross-field checks, and the files a package may carry it in,
//! read as the PureScript Registry reads them — `purs.json`, `spago.yaml`
//! ([`spago_yaml`]), the legacy `bower.json` ([`bower`], with [`lenient`] ranges) and
//! `spago.dhall` ([`spago_dhall`]), and regis's own `purs.dhall`.
//! [`ManifestFile::PREFERENCE`] is the order they are looked for.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::schema::{License, Location, Owner, PackageName, Range, Version};

pub mod bower;
mod fields;
pub mod lenient;
pub mod spago_dhall;
pub mod spago_yaml;

/// Notes on what a manifest file held that the registry does not use, for the report.
pub type Warnings = Vec<String>;

/// A file a package's manifest may be read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestFile {
    /// The registry's own format, as the index holds it.
    PursJson,
    /// regis's own: `purs.json`'s fields as a Dhall record typed by `schemas/Manifest.dhall`.
    PursDhall,
    /// spago's manifest (`package.publish`), what almost every package published today has.
    SpagoYaml,
    /// The legacy Bower manifest.
    BowerJson,
    /// The legacy spago manifest, with the `packages.dhall` its dependencies' versions
    /// come from.
    SpagoDhall,
}

impl ManifestFile {
    /// The order a package's root is searched: the PureScript Registry's (`purs.json`,
    /// `spago.yaml`, `bower.json`, `spago.dhall`), with regis's own `purs.dhall` beside
    /// `purs.json`.
    pub const PREFERENCE: [ManifestFile; 5] = [
        ManifestFile::PursJson,
        ManifestFile::PursDhall,
        ManifestFile::SpagoYaml,
        ManifestFile::BowerJson,
        ManifestFile::SpagoDhall,
    ];

    /// The file's name at the package root.
    pub fn path(self) -> &'static str {
        match self {
            ManifestFile::PursJson => "purs.json",
            ManifestFile::PursDhall => "purs.dhall",
            ManifestFile::SpagoYaml => "spago.yaml",
            ManifestFile::BowerJson => "bower.json",
            ManifestFile::SpagoDhall => "spago.dhall",
        }
    }

    /// Read this file's text into a manifest; what a file does not say is `given`, and
    /// what a `spago.dhall` may import is `imports`.
    pub fn read(
        self,
        text: &str,
        given: &Given<'_>,
        imports: &DhallImports<'_>,
    ) -> Result<(Manifest, Warnings), ManifestError> {
        match self {
            ManifestFile::PursJson => {
                let (mut manifest, ignored) =
                    Manifest::from_authored_json(self.path(), text, given.reference)?;
                manifest.reference = given.reference.to_owned();
                let warnings = ignored
                    .iter()
                    .map(|k| format!("`purs.json`: ignored unknown field `{k}`"))
                    .collect();
                Ok((manifest, warnings))
            }
            ManifestFile::PursDhall => {
                let mut manifest = Manifest::from_untrusted_dhall(self.path(), text)?;
                manifest.reference = given.reference.to_owned();
                Ok((manifest, Vec::new()))
            }
            ManifestFile::SpagoYaml => spago_yaml::read(text, given),
            ManifestFile::BowerJson => bower::read(text, given),
            ManifestFile::SpagoDhall => spago_dhall::read(text, imports, given),
        }
    }
}

/// What a package's `spago.dhall` may import: the package's other `.dhall` files (paths
/// from its root), and the registry's Dhall cache for `https://` imports pinned by
/// `sha256:`.
#[derive(Debug, Clone, Default)]
pub struct DhallImports<'a> {
    pub files: Vec<(String, Vec<u8>)>,
    pub cache: Option<&'a Path>,
}

/// What the publish request says about the version, for what a manifest file does not say
/// (a `bower.json` has no location; no file but `purs.json` has the ref).
#[derive(Debug, Clone, Copy)]
pub struct Given<'a> {
    pub name: &'a PackageName,
    pub version: Option<&'a Version>,
    pub location: &'a Location,
    pub reference: &'a str,
}

impl Given<'_> {
    /// The manifest of a legacy file (`bower.json`, `spago.dhall`), which says only these
    /// fields: name, location and ref are the request's, and it has no owners or globs.
    pub(crate) fn legacy_manifest(
        &self,
        version: Version,
        license: License,
        description: Option<String>,
        dependencies: BTreeMap<PackageName, Range>,
    ) -> Manifest {
        Manifest {
            name: self.name.clone(),
            version,
            license,
            description,
            location: self.location.clone(),
            reference: self.reference.to_owned(),
            owners: None,
            include_files: None,
            exclude_files: None,
            dependencies,
        }
    }
}

/// The longest description a manifest may carry, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 500;

/// A package manifest. Field order is the wire key order:
/// `name, version, license, description?, location, ref, owners?, includeFiles?,
/// excludeFiles?, dependencies`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawManifest", rename_all = "camelCase")]
pub struct Manifest {
    pub name: PackageName,
    pub version: Version,
    pub license: License,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub location: Location,
    #[serde(rename = "ref")]
    pub reference: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owners: Option<Vec<Owner>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_files: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exclude_files: Option<Vec<String>>,
    pub dependencies: BTreeMap<PackageName, Range>,
}

/// A manifest that has the right fields but breaks a rule spanning them, or cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("`{file}` is not a valid manifest: {message}")]
    Invalid { file: String, message: String },
    #[error(transparent)]
    Dhall(#[from] crate::dhall::DhallError),
    #[error(transparent)]
    Sandbox(#[from] crate::sandbox::SandboxError),
}

impl Manifest {
    /// The compact one-line JSON written to the index (no trailing newline).
    pub fn to_index_line(&self) -> String {
        serde_json::to_string(self).expect("manifests always serialize")
    }

    /// The pretty `purs.json` form: 2-space indent and a trailing newline.
    pub fn to_pretty_json(&self) -> String {
        crate::schema::pretty_json(self)
    }

    /// Evaluate `purs.dhall` text from a package in the sandbox ([`crate::sandbox`]),
    /// type-checked against `schemas/Manifest.dhall` with imports disabled (see
    /// [`crate::dhall::untrusted_str_to_json`]), and read it through the same checks as JSON.
    pub fn from_untrusted_dhall(file: &str, text: &str) -> Result<Manifest, ManifestError> {
        let value = crate::sandbox::typed_dhall(text, file, crate::dhall::Schema::Manifest)?;
        serde_json::from_value(value).map_err(|e| ManifestError::Invalid {
            file: file.to_owned(),
            message: e.to_string(),
        })
    }

    /// Parse a `purs.json` written by a package author: keys the format does not know are
    /// dropped (the PureScript Registry ignores them too) and returned, so the caller can
    /// warn. Everything else is checked as strictly as an index line.
    ///
    /// As the PureScript Registry's reading of a package's `purs.json`: a missing `ref` is
    /// `reference` (the one it was fetched at), and an owner's keys other than `id`,
    /// `keytype` and `public` (an `email`) are dropped.
    pub fn from_authored_json(
        file: &str,
        text: &str,
        reference: &str,
    ) -> Result<(Manifest, Vec<String>), ManifestError> {
        let invalid = |message: String| ManifestError::Invalid {
            file: file.to_owned(),
            message,
        };
        let mut value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
        // Said here: serde would name the Rust struct it reads into.
        let Some(object) = value.as_object_mut() else {
            return Err(invalid("expected a JSON object `{ ... }`".to_owned()));
        };
        let mut ignored = Vec::new();
        object.retain(|key, _| {
            let known = KEYS.contains(&key.as_str());
            if !known {
                ignored.push(key.clone());
            }
            known
        });
        object
            .entry("ref")
            .or_insert_with(|| serde_json::Value::String(reference.to_owned()));
        if let Some(serde_json::Value::Array(owners)) = object.get_mut("owners") {
            for (i, owner) in owners.iter_mut().enumerate() {
                if let Some(owner) = owner.as_object_mut() {
                    owner.retain(|key, _| {
                        let known = ["id", "keytype", "public"].contains(&key.as_str());
                        if !known {
                            ignored.push(format!("owners[{i}].{key}"));
                        }
                        known
                    });
                }
            }
        }
        let manifest = serde_json::from_value(value).map_err(|e| invalid(e.to_string()))?;
        Ok((manifest, ignored))
    }

    /// Parse `purs.json` text; `file` names it in errors.
    pub fn from_json(file: &str, text: &str) -> Result<Manifest, ManifestError> {
        serde_json::from_str(text).map_err(|e| ManifestError::Invalid {
            file: file.to_owned(),
            message: e.to_string(),
        })
    }
}

/// The keys of a manifest, in wire order.
const KEYS: &[&str] = &[
    "name",
    "version",
    "license",
    "description",
    "location",
    "ref",
    "owners",
    "includeFiles",
    "excludeFiles",
    "dependencies",
];

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawManifest {
    name: PackageName,
    version: Version,
    license: License,
    description: Option<String>,
    location: Location,
    #[serde(rename = "ref")]
    reference: String,
    owners: Option<Vec<Owner>>,
    include_files: Option<Vec<String>>,
    exclude_files: Option<Vec<String>>,
    dependencies: BTreeMap<PackageName, Range>,
}

impl Manifest {
    /// This manifest, if it keeps the rules spanning its fields; `file` names it in the
    /// refusal.
    pub fn checked(self, file: &str) -> Result<Manifest, ManifestError> {
        let raw = RawManifest {
            name: self.name,
            version: self.version,
            license: self.license,
            description: self.description,
            location: self.location,
            reference: self.reference,
            owners: self.owners,
            include_files: self.include_files,
            exclude_files: self.exclude_files,
            dependencies: self.dependencies,
        };
        Manifest::try_from(raw).map_err(|message| ManifestError::Invalid {
            file: file.to_owned(),
            message,
        })
    }
}

impl TryFrom<RawManifest> for Manifest {
    type Error = String;

    fn try_from(raw: RawManifest) -> Result<Self, String> {
        if let Some(d) = &raw.description {
            let n = d.chars().count();
            if n > MAX_DESCRIPTION_CHARS {
                return Err(format!(
                    "`description` is {n} characters long: expected at most {MAX_DESCRIPTION_CHARS}"
                ));
            }
        }
        if raw.reference.is_empty() {
            return Err("`ref` is empty: expected the git tag, branch or commit the version was published from".into());
        }
        if raw.dependencies.contains_key(&raw.name) {
            return Err(format!("`{}` depends on itself", raw.name));
        }
        for (field, globs) in [
            ("includeFiles", &raw.include_files),
            ("excludeFiles", &raw.exclude_files),
        ] {
            if let Some(globs) = globs {
                if globs.is_empty() {
                    return Err(format!("`{field}` is an empty list: omit it instead"));
                }
                if let Some(g) = globs.iter().find(|g| g.trim().is_empty()) {
                    return Err(format!(
                        "`{field}` has an empty pattern `{g}`: expected a non-empty glob"
                    ));
                }
            }
        }
        if let Some(owners) = &raw.owners
            && owners.is_empty()
        {
            return Err("`owners` is an empty list: omit it instead".into());
        }
        Ok(Manifest {
            name: raw.name,
            version: raw.version,
            license: raw.license,
            description: raw.description,
            location: raw.location,
            reference: raw.reference,
            owners: raw.owners,
            include_files: raw.include_files,
            exclude_files: raw.exclude_files,
            dependencies: raw.dependencies,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sample manifest and its `purs.dhall` text.
    fn sample_dhall() -> (Manifest, String) {
        let sample = crate::sample::SamplePackage::new(
            "a",
            "1.0.0",
            Location::github("o", "r", None).unwrap(),
            &[],
        );
        let text = crate::sample::manifest_dhall(&sample.manifest);
        (sample.manifest, text)
    }

    #[test]
    fn a_package_dhall_manifest_cannot_read_the_environment_or_files() {
        let (manifest, text) = sample_dhall();
        assert_eq!(
            Manifest::from_untrusted_dhall("purs.dhall", &text).unwrap(),
            manifest
        );
        for import in [
            "env:HOME as Text",
            "/etc/hostname as Text",
            "../secret as Text",
            "./x.dhall",
        ] {
            let hostile = text.replace("Some \"A sample package\"", &format!("Some ({import})"));
            assert_ne!(hostile, text);
            let e = Manifest::from_untrusted_dhall("purs.dhall", &hostile)
                .unwrap_err()
                .to_string();
            assert!(e.contains("purs.dhall"), "{import}: {e}");
            assert!(e.contains(&format!("imports `{import}`")), "{import}: {e}");
        }
        let huge = format!(
            "{text}\n-- {}",
            "x".repeat(crate::dhall::MAX_UNTRUSTED_DHALL_BYTES)
        );
        let e = Manifest::from_untrusted_dhall("purs.dhall", &huge)
            .unwrap_err()
            .to_string();
        assert!(e.contains("expected at most 65536 bytes of Dhall"), "{e}");
    }

    const LINE: &str = r#"{"name":"unique","version":"0.5.1","license":"MIT","description":"Data.Unique for PureScript","location":{"githubOwner":"mechairoi","githubRepo":"purescript-unique"},"ref":"v0.5.1","owners":[{"keytype":"ssh-ed25519","public":"AAAAC3NzaC1lZDI1NTE5AAAAICm0Ar7rHAWONOM4qA5q777/CQaN6cHvcBq3VXB7d5Yw"}],"dependencies":{"eff":">=3.1.0 <4.0.0","prelude":">=3.0.0 <4.0.0"}}"#;

    #[test]
    fn index_line_roundtrips_byte_for_byte() {
        let m = Manifest::from_json("line", LINE).unwrap();
        assert_eq!(m.to_index_line(), LINE);
    }

    #[test]
    fn authored_manifests_may_carry_unknown_keys() {
        let text = LINE.replacen('{', r#"{"$schema":"x","spago":{"a":1},"#, 1);
        assert!(
            Manifest::from_json("purs.json", &text).is_err(),
            "index lines stay strict"
        );
        let (m, ignored) = Manifest::from_authored_json("purs.json", &text, "v0.5.1").unwrap();
        assert_eq!(m.to_index_line(), LINE);
        assert_eq!(ignored, ["$schema", "spago"]);
        let e = Manifest::from_authored_json("purs.json", r#"{"name":"a"}"#, "v1").unwrap_err();
        assert_eq!(
            e.to_string(),
            "`purs.json` is not a valid manifest: missing field `version`"
        );
    }

    #[test]
    fn key_order_is_canonical_whatever_the_input_order() {
        let shuffled = r#"{"dependencies":{},"ref":"v1.0.0","location":{"githubOwner":"o","githubRepo":"r"},"description":"d","license":"MIT","version":"1.0.0","name":"a"}"#;
        let m = Manifest::from_json("x", shuffled).unwrap();
        assert_eq!(
            m.to_index_line(),
            r#"{"name":"a","version":"1.0.0","license":"MIT","description":"d","location":{"githubOwner":"o","githubRepo":"r"},"ref":"v1.0.0","dependencies":{}}"#
        );
    }

    fn err(text: &str) -> String {
        Manifest::from_json("purs.json", text)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn cross_field_rules() {
        let base = |extra: &str| {
            format!(
                r#"{{"name":"a","version":"1.0.0","license":"MIT","location":{{"githubOwner":"o","githubRepo":"r"}},"ref":"v1"{extra},"dependencies":{{}}}}"#
            )
        };
        let long = "x".repeat(501);
        insta::assert_snapshot!(err(&base(&format!(r#","description":"{long}""#))), @"`purs.json` is not a valid manifest: `description` is 501 characters long: expected at most 500");
        assert!(
            Manifest::from_json(
                "f",
                &base(&format!(r#","description":"{}""#, "é".repeat(500)))
            )
            .is_ok()
        );
        insta::assert_snapshot!(err(&base(r#","includeFiles":[]"#)), @"`purs.json` is not a valid manifest: `includeFiles` is an empty list: omit it instead");
        insta::assert_snapshot!(err(&base(r#","verison":"1.0.0""#)), @"`purs.json` is not a valid manifest: unknown field `verison`, expected one of `name`, `version`, `license`, `description`, `location`, `ref`, `owners`, `includeFiles`, `excludeFiles`, `dependencies` at line 1 column 114");
        insta::assert_snapshot!(err(r#"{"name":"a","version":"1.0.0","license":"MIT","location":{"githubOwner":"o","githubRepo":"r"},"ref":"v1","dependencies":{"a":">=1.0.0 <2.0.0"}}"#), @"`purs.json` is not a valid manifest: `a` depends on itself");
        insta::assert_snapshot!(err(r#"{"name":"a","version":"1.0","license":"MIT","location":{"githubOwner":"o","githubRepo":"r"},"ref":"v1","dependencies":{}}"#), @"`purs.json` is not a valid manifest: invalid version `1.0`: expected three numbers `MAJOR.MINOR.PATCH` separated by `.` at line 1 column 27");
    }

    /// The refusals of a package's own `purs.json` and `purs.dhall`, as a publish reads them.
    #[test]
    fn authored_manifests_are_refused_saying_what_was_expected() {
        let json = |extra: &str| {
            format!(
                r#"{{"name":"a","version":"1.0.0","license":"MIT","location":{{"githubOwner":"o","githubRepo":"r"}},"ref":"v1"{extra},"dependencies":{{}}}}"#
            )
        };
        let authored = |case: &str, text: &str| {
            let e = Manifest::from_authored_json("purs.json", text, "v1").unwrap_err();
            format!("{case} → {}", crate::error_chain(&e))
        };
        let (_, dhall) = sample_dhall();
        let untrusted = |case: &str, text: &str| {
            let e = Manifest::from_untrusted_dhall("purs.dhall", text).unwrap_err();
            format!("{case} → {}", crate::error_chain(&e))
        };
        let lines = [
            authored("not JSON", "{"),
            authored("a list", "[]"),
            authored(
                "empty ref",
                &json("").replace(r#""ref":"v1""#, r#""ref":"""#),
            ),
            authored("empty excludeFiles", &json(r#","excludeFiles":[]"#)),
            authored("blank pattern", &json(r#","includeFiles":["src/**"," "]"#)),
            authored("empty owners", &json(r#","owners":[]"#)),
            authored(
                "bad owner",
                &json(r#","owners":[{"keytype":"ssh-ed25519","public":""}]"#),
            ),
            authored(
                "bad range",
                &json("").replace(r#""dependencies":{}"#, r#""dependencies":{"b":"^1.0.0"}"#),
            ),
            untrusted("dhall version", &dhall.replace("\"1.0.0\"", "\"1.0\"")),
            untrusted(
                "dhall import",
                &dhall.replace("Some \"A sample package\"", "Some (env:HOME as Text)"),
            ),
            untrusted(
                "dhall too large",
                &format!(
                    "{dhall}\n-- {}",
                    "x".repeat(crate::dhall::MAX_UNTRUSTED_DHALL_BYTES)
                ),
            ),
        ];
        insta::assert_snapshot!(lines.join("\n"), @r"
            not JSON → `purs.json` is not a valid manifest: EOF while parsing an object at line 1 column 1
            a list → `purs.json` is not a valid manifest: expected a JSON object `{ ... }`
            empty ref → `purs.json` is not a valid manifest: `ref` is empty: expected the git tag, branch or commit the version was published from
            empty excludeFiles → `purs.json` is not a valid manifest: `excludeFiles` is an empty list: omit it instead
            blank pattern → `purs.json` is not a valid manifest: `includeFiles` has an empty pattern ` `: expected a non-empty glob
            empty owners → `purs.json` is not a valid manifest: `owners` is an empty list: omit it instead
            bad owner → `purs.json` is not a valid manifest: invalid owner: `public` is empty or has spaces: expected an SSH public key split into `keytype` and `public`
            bad range → `purs.json` is not a valid manifest: invalid range `^1.0.0`: expected `>=A.B.C <X.Y.Z`
            dhall version → `purs.dhall` is not a valid manifest: invalid version `1.0`: expected three numbers `MAJOR.MINOR.PATCH` separated by `.`
            dhall import → `purs.dhall` imports `env:HOME as Text`: expected a self-contained file (a package's Dhall is evaluated with imports disabled, so it cannot read the registry's files or environment)
            dhall too large → `purs.dhall` is 66066 bytes: expected at most 65536 bytes of Dhall
            ");
    }
}
