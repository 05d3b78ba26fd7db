//! The package index (one file per package at the cargo-style path, JSON Lines of
//! manifests ascending by version): paths, parsing, inserting and removing entries. Pure.

use std::collections::BTreeMap;

use crate::manifest::Manifest;
use crate::schema::{PackageName, Version};

/// The one function that places a package in the index.
///
/// ```
/// use regis::index::entry_path;
/// let p = |n: &str| entry_path(&n.parse().unwrap());
/// assert_eq!(p("a"), "1/a");
/// assert_eq!(p("ab"), "2/ab");
/// assert_eq!(p("aff"), "3/a/aff");
/// assert_eq!(p("prelude"), "pr/el/prelude");
/// ```
pub fn entry_path(name: &PackageName) -> String {
    let n = name.as_str();
    match n.len() {
        1 => format!("1/{n}"),
        2 => format!("2/{n}"),
        3 => format!("3/{}/{n}", &n[..1]),
        _ => format!("{}/{}/{n}", &n[..2], &n[2..4]),
    }
}

/// A problem with an index file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    #[error("`{file}` line {line}: not a valid manifest: {message}")]
    BadLine {
        file: String,
        line: usize,
        message: String,
    },
    #[error("`{file}` line {line}: entry is for package `{found}`, expected `{expected}`")]
    WrongPackage {
        file: String,
        line: usize,
        found: PackageName,
        expected: PackageName,
    },
    #[error("`{file}` line {line}: version `{version}` appears more than once")]
    Duplicate {
        file: String,
        line: usize,
        version: Version,
    },
    #[error("`{file}` is empty: an index file lists at least one version")]
    Empty { file: String },
    #[error(
        "`{name}@{version}` is already in the index (`{file}`) with a different manifest: a published version can never change"
    )]
    Conflict {
        file: String,
        name: PackageName,
        version: Version,
    },
}

/// The entries of one package's index file, ordered by version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexFile {
    entries: BTreeMap<Version, Manifest>,
}

/// What an insert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    Added,
    AlreadyPresent,
}

impl IndexFile {
    /// Parse the file of package `name`. Every non-empty line must be a manifest of that
    /// package; a line that does not parse is an error, never skipped.
    pub fn parse(file: &str, name: &PackageName, text: &str) -> Result<IndexFile, IndexError> {
        let entries = Self::parse_lines(file, name, text.lines().enumerate())?;
        if entries.is_empty() {
            return Err(IndexError::Empty {
                file: file.to_owned(),
            });
        }
        Ok(IndexFile { entries })
    }

    /// The entries of the lines of `name`'s file that contain `needle` (each checked as by
    /// [`IndexFile::parse`], the others not parsed at all); `None` when no line has it.
    pub fn parse_mentioning(
        file: &str,
        name: &PackageName,
        text: &str,
        needle: &str,
    ) -> Result<Option<IndexFile>, IndexError> {
        let lines = text.lines().enumerate().filter(|(_, l)| l.contains(needle));
        let entries = Self::parse_lines(file, name, lines)?;
        Ok((!entries.is_empty()).then_some(IndexFile { entries }))
    }

    /// Lines with their 0-based numbers; blank ones are skipped.
    fn parse_lines<'t>(
        file: &str,
        name: &PackageName,
        lines: impl Iterator<Item = (usize, &'t str)>,
    ) -> Result<BTreeMap<Version, Manifest>, IndexError> {
        let mut entries = BTreeMap::new();
        for (i, line) in lines {
            let line_no = i + 1;
            if line.is_empty() {
                continue;
            }
            let m: Manifest = serde_json::from_str(line).map_err(|e| IndexError::BadLine {
                file: file.to_owned(),
                line: line_no,
                message: e.to_string(),
            })?;
            if &m.name != name {
                return Err(IndexError::WrongPackage {
                    file: file.to_owned(),
                    line: line_no,
                    found: m.name,
                    expected: name.clone(),
                });
            }
            let version = m.version.clone();
            if entries.insert(version.clone(), m).is_some() {
                return Err(IndexError::Duplicate {
                    file: file.to_owned(),
                    line: line_no,
                    version,
                });
            }
        }
        Ok(entries)
    }

    /// The canonical bytes: one compact manifest per line, ascending, each ending in `\n`.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for m in self.entries.values() {
            out.push_str(&m.to_index_line());
            out.push('\n');
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn get(&self, version: &Version) -> Option<&Manifest> {
        self.entries.get(version)
    }

    pub fn versions(&self) -> impl DoubleEndedIterator<Item = &Version> {
        self.entries.keys()
    }

    pub fn manifests(&self) -> impl Iterator<Item = &Manifest> {
        self.entries.values()
    }

    /// Add a manifest; an identical one already there is fine, a different one is a conflict.
    pub fn insert(&mut self, manifest: Manifest) -> Result<Inserted, IndexError> {
        match self.entries.get(&manifest.version) {
            Some(existing) if existing == &manifest => Ok(Inserted::AlreadyPresent),
            Some(_) => Err(IndexError::Conflict {
                file: entry_path(&manifest.name),
                name: manifest.name,
                version: manifest.version,
            }),
            None => {
                self.entries.insert(manifest.version.clone(), manifest);
                Ok(Inserted::Added)
            }
        }
    }

    /// Remove a version; returns the manifest that was there.
    pub fn remove(&mut self, version: &Version) -> Option<Manifest> {
        self.entries.remove(version)
    }
}

/// A read-only view of every package's versions and dependencies.
#[derive(Debug, Clone, Default)]
pub struct IndexView {
    packages: BTreeMap<PackageName, IndexFile>,
}

impl IndexView {
    pub fn insert_file(&mut self, name: PackageName, file: IndexFile) {
        self.packages.insert(name, file);
    }

    pub fn package(&self, name: &PackageName) -> Option<&IndexFile> {
        self.packages.get(name)
    }

    pub fn manifest(&self, name: &PackageName, version: &Version) -> Option<&Manifest> {
        self.packages.get(name)?.get(version)
    }

    pub fn packages(&self) -> impl Iterator<Item = (&PackageName, &IndexFile)> {
        self.packages.iter()
    }

    /// The indexed versions that depend on `name` with a range only `version` satisfies:
    /// removing `version` would leave them with nothing to resolve to.
    pub fn stranded_without(
        &self,
        name: &PackageName,
        version: &Version,
    ) -> Vec<(PackageName, Version, crate::schema::Range)> {
        let others: Vec<&Version> = self
            .packages
            .get(name)
            .map(|f| f.versions().filter(|v| *v != version).collect())
            .unwrap_or_default();
        let mut out = Vec::new();
        for (dependant, file) in self.packages.iter().filter(|(n, _)| *n != name) {
            for m in file.manifests() {
                let Some(range) = m.dependencies.get(name) else {
                    continue;
                };
                if range.contains(version) && !others.iter().any(|v| range.contains(v)) {
                    out.push((dependant.clone(), m.version.clone(), range.clone()));
                }
            }
        }
        out
    }

    /// The highest version of `name` inside `range`, if any.
    pub fn best_in_range(
        &self,
        name: &PackageName,
        range: &crate::schema::Range,
    ) -> Option<&Version> {
        self.packages
            .get(name)?
            .versions()
            .rfind(|v| range.contains(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> PackageName {
        s.parse().unwrap()
    }

    fn line(n: &str, v: &str) -> String {
        format!(
            r#"{{"name":"{n}","version":"{v}","license":"MIT","location":{{"githubOwner":"o","githubRepo":"{n}"}},"ref":"v{v}","dependencies":{{}}}}"#
        )
    }

    #[test]
    fn paths_for_every_length_class() {
        assert_eq!(entry_path(&name("ab")), "2/ab");
        assert_eq!(entry_path(&name("abcd")), "ab/cd/abcd");
        assert_eq!(entry_path(&name("type-equality")), "ty/pe/type-equality");
    }

    #[test]
    fn parses_sorts_and_writes_canonically() {
        let text = format!("{}\n{}\n", line("aff", "10.0.0"), line("aff", "9.0.0"));
        let f = IndexFile::parse("3/a/aff", &name("aff"), &text).unwrap();
        assert_eq!(
            f.to_text(),
            format!("{}\n{}\n", line("aff", "9.0.0"), line("aff", "10.0.0"))
        );
    }

    #[test]
    fn a_corrupt_line_is_an_error_not_an_empty_entry() {
        let text = format!("{}\n{{\"name\":\"aff\"\n", line("aff", "1.0.0"));
        let e = IndexFile::parse("3/a/aff", &name("aff"), &text).unwrap_err();
        assert!(matches!(e, IndexError::BadLine { line: 2, .. }), "{e}");
        insta::assert_snapshot!(e.to_string(), @"`3/a/aff` line 2: not a valid manifest: EOF while parsing an object at line 1 column 13");
        let e = IndexFile::parse("3/a/aff", &name("aff"), "").unwrap_err();
        assert_eq!(
            e.to_string(),
            "`3/a/aff` is empty: an index file lists at least one version"
        );
    }

    #[test]
    fn wrong_package_and_duplicates_are_errors() {
        let e = IndexFile::parse("3/a/aff", &name("aff"), &line("arr", "1.0.0")).unwrap_err();
        insta::assert_snapshot!(e.to_string(), @"`3/a/aff` line 1: entry is for package `arr`, expected `aff`");
        let t = format!("{}\n{}\n", line("aff", "1.0.0"), line("aff", "1.0.0"));
        let e = IndexFile::parse("3/a/aff", &name("aff"), &t).unwrap_err();
        insta::assert_snapshot!(e.to_string(), @"`3/a/aff` line 2: version `1.0.0` appears more than once");
    }

    #[test]
    fn insert_is_idempotent_and_refuses_changes() {
        let mut f = IndexFile::default();
        let m: Manifest = serde_json::from_str(&line("aff", "1.0.0")).unwrap();
        assert_eq!(f.insert(m.clone()).unwrap(), Inserted::Added);
        assert_eq!(f.insert(m.clone()).unwrap(), Inserted::AlreadyPresent);
        let mut changed = m.clone();
        changed.reference = "other".into();
        assert!(matches!(
            f.insert(changed),
            Err(IndexError::Conflict { .. })
        ));
        assert_eq!(f.remove(&m.version), Some(m));
        assert!(f.is_empty());
    }

    #[test]
    fn stranded_dependants_are_those_left_with_no_version_in_range() {
        let with_dep = |n: &str, v: &str, dep: &str| {
            line(n, v).replace(
                r#""dependencies":{}"#,
                &format!(r#""dependencies":{{"prelude":"{dep}"}}"#),
            )
        };
        let mut view = IndexView::default();
        let prelude = format!(
            "{}\n{}\n",
            line("prelude", "5.0.0"),
            line("prelude", "5.1.0")
        );
        view.insert_file(
            name("prelude"),
            IndexFile::parse("pr/el/prelude", &name("prelude"), &prelude).unwrap(),
        );
        let aff = format!(
            "{}\n{}\n",
            with_dep("aff", "1.0.0", ">=5.0.0 <6.0.0"),
            with_dep("aff", "2.0.0", ">=5.1.0 <6.0.0")
        );
        view.insert_file(
            name("aff"),
            IndexFile::parse("3/a/aff", &name("aff"), &aff).unwrap(),
        );
        let v = |s: &str| -> Version { s.parse().unwrap() };
        // 5.0.0 can go: aff@1.0.0 still has 5.1.0 in range.
        assert!(
            view.stranded_without(&name("prelude"), &v("5.0.0"))
                .is_empty()
        );
        // 5.1.0 cannot: aff@2.0.0 accepts nothing else.
        let stranded = view.stranded_without(&name("prelude"), &v("5.1.0"));
        assert_eq!(
            stranded,
            [(name("aff"), v("2.0.0"), ">=5.1.0 <6.0.0".parse().unwrap())]
        );
        assert!(view.stranded_without(&name("aff"), &v("2.0.0")).is_empty());
    }
}
