use std::fmt;

use super::{PackageName, SchemaError, Version, string_type};

/// A tag: a name that points at one version of a package (`latest`, `next`, `beta`),
/// as npm's dist-tags do. 1 to [`MAX_TAG_LEN`] characters: lowercase ASCII letters,
/// digits, `-`, `.` and `_`, a letter first; never a version, so that `NAME@TAG` and
/// `NAME@VERSION` can never be read one for the other.
///
/// ```
/// use regis::schema::Tag;
/// assert!("next".parse::<Tag>().is_ok());
/// assert!("v1.x_beta-2".parse::<Tag>().is_ok());
/// assert!("1.0.0".parse::<Tag>().is_err());
/// assert!("Next".parse::<Tag>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tag(String);

/// The longest tag allowed, in characters.
pub const MAX_TAG_LEN: usize = 64;

/// The tag that, unless an alias sets it, names the newest version that is published and
/// not yanked.
pub const LATEST: &str = "latest";

impl Tag {
    pub fn parse(s: &str) -> Result<Self, SchemaError> {
        let fail = |reason: String| SchemaError::Tag {
            value: s.to_owned(),
            reason,
        };
        if Version::parse(s).is_ok() {
            return Err(fail(
                "it is a version: expected a name that never reads as one (`NAME@1.0.0` always means the version)".into(),
            ));
        }
        let n = s.chars().count();
        if n == 0 {
            return Err(fail(format!("expected 1 to {MAX_TAG_LEN} characters")));
        }
        if n > MAX_TAG_LEN {
            return Err(fail(format!(
                "{n} characters long: expected at most {MAX_TAG_LEN}"
            )));
        }
        if let Some(c) = s.chars().find(|c| {
            !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.' | '_'))
        }) {
            return Err(fail(format!(
                "unexpected character {}: expected lowercase ASCII letters, digits, `-`, `.` and `_`",
                crate::text::echo(c.encode_utf8(&mut [0; 4]))
            )));
        }
        if !s.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err(fail("expected a lowercase ASCII letter first".into()));
        }
        Ok(Tag(s.to_owned()))
    }

    /// The tag `latest`.
    pub fn latest() -> Tag {
        Tag(LATEST.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::borrow::Borrow<str> for Tag {
    fn borrow(&self) -> &str {
        &self.0
    }
}

string_type!(Tag);

/// What follows the `@` of `NAME@…`: a version, or a tag naming one. Text that parses as a
/// version is that version; anything else must be a [`Tag`].
///
/// ```
/// use regis::schema::VersionSpec;
/// assert!(matches!("1.2.0".parse().unwrap(), VersionSpec::Version(_)));
/// assert!(matches!("next".parse().unwrap(), VersionSpec::Tag(_)));
/// assert!("1.2".parse::<VersionSpec>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum VersionSpec {
    Version(Version),
    Tag(Tag),
}

impl VersionSpec {
    /// The version when one was given, else the tag's refusal: text that starts with a
    /// digit was meant as a version, and is refused as one.
    pub fn parse(s: &str) -> Result<Self, SchemaError> {
        match Version::parse(s) {
            Ok(version) => Ok(VersionSpec::Version(version)),
            Err(e) if s.starts_with(|c: char| c.is_ascii_digit()) => Err(e),
            Err(_) => Tag::parse(s).map(VersionSpec::Tag),
        }
    }
}

impl fmt::Display for VersionSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VersionSpec::Version(v) => v.fmt(f),
            VersionSpec::Tag(t) => t.fmt(f),
        }
    }
}

impl std::str::FromStr for VersionSpec {
    type Err = SchemaError;
    fn from_str(s: &str) -> Result<Self, SchemaError> {
        VersionSpec::parse(s)
    }
}

/// `NAME@VERSION` or `NAME@TAG`, as the command line names a release to solve or fetch.
///
/// ```
/// use regis::schema::PackageSpec;
/// let spec: PackageSpec = "aff@next".parse().unwrap();
/// assert_eq!((spec.name.as_str(), spec.spec.to_string().as_str()), ("aff", "next"));
/// assert_eq!("aff@7.1.0".parse::<PackageSpec>().unwrap().to_string(), "aff@7.1.0");
/// assert!("aff".parse::<PackageSpec>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PackageSpec {
    pub name: PackageName,
    pub spec: VersionSpec,
}

impl std::str::FromStr for PackageSpec {
    type Err = SchemaError;
    fn from_str(s: &str) -> Result<Self, SchemaError> {
        let (name, spec) = s.split_once('@').ok_or_else(|| SchemaError::PackageName {
            value: s.to_owned(),
            reason: "expected `NAME@VERSION` or `NAME@TAG`".to_owned(),
        })?;
        Ok(PackageSpec {
            name: name.parse()?,
            spec: spec.parse()?,
        })
    }
}

impl fmt::Display for PackageSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.name, self.spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_tags_and_reads_back_as_itself() {
        for t in [
            "latest",
            "next",
            "a",
            "beta-2",
            "v1.x",
            "lts_2024",
            &"a".repeat(64),
        ] {
            let tag = Tag::parse(t).unwrap();
            assert_eq!(tag.as_str(), t);
            assert_eq!(serde_json::to_string(&tag).unwrap(), format!("\"{t}\""));
            assert_eq!(
                serde_json::from_str::<Tag>(&format!("\"{t}\"")).unwrap(),
                tag
            );
        }
    }

    #[test]
    fn a_spec_is_a_version_when_it_reads_as_one() {
        let spec = |s: &str| s.parse::<VersionSpec>().map_err(|e| e.to_string());
        assert_eq!(
            spec("1.2.3"),
            Ok(VersionSpec::Version(Version::new(1, 2, 3)))
        );
        assert_eq!(
            spec("next"),
            Ok(VersionSpec::Tag(Tag::parse("next").unwrap()))
        );
        insta::assert_snapshot!(spec("1.2").unwrap_err(), @"invalid version `1.2`: expected three numbers `MAJOR.MINOR.PATCH` separated by `.`");
        insta::assert_snapshot!(spec("Next").unwrap_err(), @"invalid tag `Next`: unexpected character `N`: expected lowercase ASCII letters, digits, `-`, `.` and `_`");
    }
}
