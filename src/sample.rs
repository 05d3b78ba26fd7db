//! Sample packages as real git repositories: what `regis demo` publishes, and what tests
//! and benchmarks build their fixtures from.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::manifest::{Manifest, ManifestFile};
use crate::payload::Publish;
use crate::schema::{License, Location, PackageName, Range, Version};

/// A package version to put in a git repo: its manifest and its other files.
#[derive(Debug, Clone)]
pub struct SamplePackage {
    pub manifest: Manifest,
    /// Paths relative to the package root, with contents; the manifest file is added from
    /// `manifest`.
    pub files: Vec<(String, Vec<u8>)>,
    /// Which file the manifest is written as (`purs.json` unless set).
    pub manifest_file: ManifestFile,
}

impl SamplePackage {
    /// A small package with one module, a README and a LICENSE.
    pub fn new(
        name: &str,
        version: &str,
        location: Location,
        dependencies: &[(&str, &str)],
    ) -> Self {
        let name: PackageName = name.parse().expect("sample names are valid");
        let version: Version = version.parse().expect("sample versions are valid");
        let dependencies: BTreeMap<PackageName, Range> = dependencies
            .iter()
            .map(|(n, r)| {
                (
                    n.parse().expect("valid name"),
                    r.parse().expect("valid range"),
                )
            })
            .collect();
        let module = module_name(name.as_str());
        let imports: String = dependencies
            .keys()
            .map(|d| format!("import {}\n", module_name(d.as_str())))
            .collect();
        let files = vec![
            (format!("src/{module}.purs"), format!("module {module} where\n\n{imports}\nversion :: String\nversion = \"{version}\"\n").into_bytes()),
            ("README.md".to_owned(), format!("# {name}\n\nA sample package.\n").into_bytes()),
            ("LICENSE".to_owned(), b"MIT License\n".to_vec()),
            ("test/Main.purs".to_owned(), b"module Test.Main where\n".to_vec()),
            (".gitignore".to_owned(), b"/output\n".to_vec()),
        ];
        SamplePackage {
            manifest: Manifest {
                name,
                version: version.clone(),
                license: License::parse("MIT").expect("valid"),
                description: Some("A sample package".into()),
                location,
                reference: format!("v{version}"),
                owners: None,
                include_files: None,
                exclude_files: None,
                dependencies,
            },
            files,
            manifest_file: ManifestFile::PursJson,
        }
    }

    /// The Publish payload for this version.
    pub fn payload(&self, with_location: bool) -> Publish {
        Publish {
            name: self.manifest.name.clone(),
            location: with_location.then(|| self.manifest.location.clone()),
            reference: self.manifest.reference.clone(),
            version: Some(self.manifest.version.clone()),
            compiler: None,
            resolutions: None,
            owners_signature: None,
            release_signature: None,
        }
    }

    /// Every file of the package, manifest included.
    pub fn all_files(&self) -> Vec<(String, Vec<u8>)> {
        let mut files = self.files.clone();
        let text = match self.manifest_file {
            ManifestFile::PursJson => self.manifest.to_pretty_json(),
            ManifestFile::PursDhall => manifest_dhall(&self.manifest),
            ManifestFile::SpagoYaml => spago_yaml(&self.manifest),
            ManifestFile::BowerJson => bower_json(&self.manifest),
            ManifestFile::SpagoDhall => {
                let (spago, packages) = spago_dhall(&self.manifest);
                files.push((
                    crate::manifest::spago_dhall::PACKAGES_DHALL.into(),
                    packages.into_bytes(),
                ));
                spago
            }
        };
        files.push((self.manifest_file.path().into(), text.into_bytes()));
        files
    }

    /// Commit this version into the git repo at `dir` (created if absent, its tracked files
    /// replaced) and tag it with the manifest's `ref`. Returns the commit id.
    pub fn commit_to(&self, dir: &Path) -> Result<String, git2::Error> {
        write_repo(
            dir,
            &self.all_files(),
            &format!("Release {}", self.manifest.version),
            &self.manifest.reference,
        )
    }
}

/// `foo-bar` → `Foo.Bar`, a plausible module name.
fn module_name(package: &str) -> String {
    package
        .split('-')
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// The manifest as a `spago.yaml` (a package's name, description, dependencies and its
/// `publish` section), as spago writes one.
pub fn spago_yaml(m: &Manifest) -> String {
    let quoted = |s: &str| serde_json::to_string(s).expect("strings serialize");
    let mut out = format!("package:\n  name: {}\n", m.name);
    if let Some(d) = &m.description {
        out.push_str(&format!("  description: {}\n", quoted(d)));
    }
    out.push_str("  dependencies:");
    if m.dependencies.is_empty() {
        out.push_str(" []");
    }
    out.push('\n');
    for (name, range) in &m.dependencies {
        out.push_str(&format!("    - {name}: {}\n", quoted(&range.to_string())));
    }
    out.push_str(&format!(
        "  publish:\n    version: {}\n    license: {}\n    location: {}\n",
        m.version,
        m.license,
        serde_json::to_string(&m.location).expect("locations serialize")
    ));
    out
}

/// The manifest as a legacy `spago.dhall` and the `packages.dhall` beside it: a package
/// set holding each dependency at its range's lower bound, so each range read back is that
/// exact version (`>=v <v+patch`).
pub fn spago_dhall(m: &Manifest) -> (String, String) {
    let names: Vec<String> = m.dependencies.keys().map(|n| format!("\"{n}\"")).collect();
    let dependencies = if names.is_empty() {
        "[] : List Text".to_owned()
    } else {
        format!("[ {} ]", names.join(", "))
    };
    let spago = format!(
        "{{ name = \"{}\"\n, license = \"{}\"\n, dependencies = {dependencies}\n, packages = ./packages.dhall\n, sources = [ \"src/**/*.purs\" ]\n}}\n",
        m.name, m.license
    );
    let entries: Vec<String> = m
        .dependencies
        .iter()
        .map(|(name, range)| {
            format!(
                "`{name}` = {{ dependencies = [] : List Text, repo = \"https://github.com/purescript/purescript-{name}.git\", version = \"v{}\" }}",
                range.lower()
            )
        })
        .collect();
    let packages = if entries.is_empty() {
        "{=}\n".to_owned()
    } else {
        format!("{{ {}\n}}\n", entries.join("\n, "))
    };
    (spago, packages)
}

/// The manifest as a legacy `bower.json`: `purescript-` names, npm ranges.
pub fn bower_json(m: &Manifest) -> String {
    let dependencies: serde_json::Map<String, serde_json::Value> = m
        .dependencies
        .iter()
        .map(|(name, range)| (format!("purescript-{name}"), range.to_string().into()))
        .collect();
    let mut bower = serde_json::json!({
        "name": format!("purescript-{}", m.name),
        "license": [m.license.to_string()],
        "dependencies": dependencies,
    });
    if let Some(d) = &m.description {
        bower["description"] = d.clone().into();
    }
    crate::schema::pretty_json(&bower)
}

/// The manifest as `purs.dhall`, a record of the type in `schemas/Manifest.dhall`.
pub fn manifest_dhall(m: &Manifest) -> String {
    let text = |s: &str| serde_json::to_string(s).expect("strings serialize");
    let location = match &m.location {
        Location::GitHub {
            owner,
            repo,
            subdir,
        } => format!(
            "< GitHub : {{ githubOwner : Text, githubRepo : Text, subdir : Optional Text }} | Git : {{ gitUrl : Text, subdir : Optional Text }} >.GitHub {{ githubOwner = {}, githubRepo = {}, subdir = {} }}",
            text(owner),
            text(repo),
            optional(subdir.as_deref().map(text))
        ),
        Location::Git { url, subdir } => format!(
            "< GitHub : {{ githubOwner : Text, githubRepo : Text, subdir : Optional Text }} | Git : {{ gitUrl : Text, subdir : Optional Text }} >.Git {{ gitUrl = {}, subdir = {} }}",
            text(url),
            optional(subdir.as_deref().map(text))
        ),
    };
    let deps = if m.dependencies.is_empty() {
        "[] : List { mapKey : Text, mapValue : Text }".to_owned()
    } else {
        let items: Vec<String> = m
            .dependencies
            .iter()
            .map(|(n, r)| {
                format!(
                    "{{ mapKey = {}, mapValue = {} }}",
                    text(n.as_str()),
                    text(&r.to_string())
                )
            })
            .collect();
        format!("[ {} ]", items.join(", "))
    };
    let list = |v: &Option<Vec<String>>| match v {
        None => "None (List Text)".to_owned(),
        Some(items) => format!(
            "Some [ {} ]",
            items.iter().map(|s| text(s)).collect::<Vec<_>>().join(", ")
        ),
    };
    format!(
        "{{ name = {}\n, version = {}\n, license = {}\n, description = {}\n, location = {location}\n, ref = {}\n, owners = None (List {{ id : Optional Text, keytype : Text, public : Text }})\n, includeFiles = {}\n, excludeFiles = {}\n, dependencies = {deps}\n}}\n",
        text(m.name.as_str()),
        text(&m.version.to_string()),
        text(m.license.as_str()),
        optional(m.description.as_deref().map(text)),
        text(&m.reference),
        list(&m.include_files),
        list(&m.exclude_files),
    )
}

fn optional(v: Option<String>) -> String {
    v.map_or_else(|| "None Text".to_owned(), |s| format!("Some {s}"))
}

/// Make the git repo at `dir` hold exactly `files` in a new commit on `main`, tagged `tag`.
pub fn write_repo(
    dir: &Path,
    files: &[(String, Vec<u8>)],
    message: &str,
    tag: &str,
) -> Result<String, git2::Error> {
    let repo = match git2::Repository::open(dir) {
        Ok(r) => r,
        Err(_) => {
            let mut opts = git2::RepositoryInitOptions::new();
            opts.initial_head("main");
            git2::Repository::init_opts(dir, &opts)?
        }
    };
    let mut index = repo.index()?;
    index.clear()?;
    for (path, bytes) in files {
        let full: PathBuf = dir.join(path);
        std::fs::create_dir_all(full.parent().expect("has parent"))
            .map_err(|e| git2::Error::from_str(&e.to_string()))?;
        std::fs::write(&full, bytes).map_err(|e| git2::Error::from_str(&e.to_string()))?;
        index.add_path(Path::new(path))?;
    }
    index.write()?;
    let tree = repo.find_tree(index.write_tree()?)?;
    let sig = git2::Signature::now("Sample Author", "author@example.com")?;
    let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    let oid = repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)?;
    repo.tag_lightweight(tag, &repo.find_object(oid, None)?, true)?;
    Ok(oid.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sample written as each manifest file reads back as the same manifest, through the
    /// reader a publish uses.
    #[test]
    fn every_manifest_file_a_sample_writes_reads_back() {
        let location = Location::github("o", "purescript-arrays", None).unwrap();
        let sample = SamplePackage::new(
            "arrays",
            "1.2.3",
            location.clone(),
            &[
                ("prelude", ">=1.0.0 <2.0.0"),
                ("foldable", ">=0.1.0 <0.2.0"),
            ],
        );
        for file in ManifestFile::PREFERENCE {
            let files = SamplePackage {
                manifest_file: file,
                ..sample.clone()
            }
            .all_files();
            let text = files
                .iter()
                .find(|(path, _)| path == file.path())
                .map(|(_, bytes)| String::from_utf8(bytes.clone()).unwrap())
                .unwrap();
            let imports = crate::manifest::DhallImports {
                files: files
                    .into_iter()
                    .filter(|(path, _)| path.ends_with(".dhall"))
                    .collect(),
                cache: None,
            };
            let given = crate::manifest::Given {
                name: &sample.manifest.name,
                version: Some(&sample.manifest.version),
                location: &location,
                reference: "v1.2.3",
            };
            let (read, warnings) = file.read(&text, &given, &imports).unwrap();
            let mut expected = sample.manifest.clone();
            if file == ManifestFile::SpagoDhall {
                // No description; each range the exact version of the package set.
                expected.description = None;
                for range in expected.dependencies.values_mut() {
                    *range = crate::manifest::lenient::exact(range.lower());
                }
            }
            assert_eq!(read, expected, "{}:\n{text}", file.path());
            assert!(warnings.is_empty(), "{}: {warnings:?}", file.path());
        }
    }

    #[test]
    fn module_names() {
        assert_eq!(module_name("type-equality"), "Type.Equality");
        assert_eq!(module_name("prelude"), "Prelude");
    }

    #[test]
    fn commits_and_tags() {
        let dir = tempfile::tempdir().unwrap();
        let loc = Location::git("file:///nowhere", None).unwrap();
        let p = SamplePackage::new("a", "1.0.0", loc, &[]);
        let c1 = p.commit_to(dir.path()).unwrap();
        let repo = git2::Repository::open(dir.path()).unwrap();
        assert_eq!(repo.revparse_single("v1.0.0").unwrap().id().to_string(), c1);
        assert!(dir.path().join("purs.json").exists());
    }
}
