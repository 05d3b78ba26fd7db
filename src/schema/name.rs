use std::fmt;

use super::{SchemaError, string_type};

/// A package name: `[a-z0-9]+` chunks joined by single `-`, 1 to 150 characters.
///
/// ```
/// use regis::schema::PackageName;
/// assert!("type-equality".parse::<PackageName>().is_ok());
/// assert!("Prelude".parse::<PackageName>().is_err());
/// assert!("a--b".parse::<PackageName>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PackageName(String);

/// The longest package name allowed.
pub const MAX_NAME_LEN: usize = 150;

impl PackageName {
    pub fn parse(s: &str) -> Result<Self, SchemaError> {
        let fail = |reason: &str| SchemaError::PackageName {
            value: s.to_owned(),
            reason: reason.to_owned(),
        };
        if s.is_empty() {
            return Err(fail("expected at least one character"));
        }
        if s.len() > MAX_NAME_LEN {
            return Err(fail(&format!(
                "expected at most {MAX_NAME_LEN} characters, got {}",
                s.len()
            )));
        }
        if let Some(c) = s
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
        {
            return Err(fail(&format!(
                "unexpected character `{c}`: expected lowercase ASCII letters, digits and `-`"
            )));
        }
        if s.starts_with('-') || s.ends_with('-') {
            return Err(fail("expected no leading or trailing `-`"));
        }
        // Two bytes at a time: a name is parsed for every dependency of every index line.
        if s.as_bytes().windows(2).any(|pair| pair == b"--") {
            return Err(fail("expected single `-` between parts, found `--`"));
        }
        Ok(PackageName(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PackageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::borrow::Borrow<str> for PackageName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

string_type!(PackageName);

/// `name@version`, as the command line names one version of a package.
///
/// ```
/// use regis::schema::PackageVersion;
/// let pv: PackageVersion = "aff@7.1.0".parse().unwrap();
/// assert_eq!((pv.name.as_str(), pv.version.to_string().as_str()), ("aff", "7.1.0"));
/// assert_eq!(pv.to_string(), "aff@7.1.0");
/// assert!("aff".parse::<PackageVersion>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct PackageVersion {
    pub name: PackageName,
    pub version: super::Version,
}

impl std::str::FromStr for PackageVersion {
    type Err = SchemaError;
    fn from_str(s: &str) -> Result<Self, SchemaError> {
        let (name, version) = s.split_once('@').ok_or_else(|| SchemaError::PackageName {
            value: s.to_owned(),
            reason: "expected `NAME@VERSION`".to_owned(),
        })?;
        Ok(PackageVersion {
            name: name.parse()?,
            version: version.parse()?,
        })
    }
}

impl fmt::Display for PackageVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.name, self.version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_real_names() {
        for n in [
            "aff",
            "a",
            "argonaut-codecs",
            "8bit",
            "halogen-vdom",
            "x-1-y",
        ] {
            assert_eq!(PackageName::parse(n).unwrap().as_str(), n);
        }
        assert!(PackageName::parse(&"a".repeat(150)).is_ok());
    }

    #[test]
    fn rejects_malformed_names() {
        for n in ["", "-a", "a-", "a--b", "A", "a_b", "a.b", "a b", "ä"] {
            assert!(PackageName::parse(n).is_err(), "{n:?} should be rejected");
        }
        assert!(PackageName::parse(&"a".repeat(151)).is_err());
    }

    #[test]
    fn error_says_what_was_expected() {
        let e = PackageName::parse("Foo").unwrap_err().to_string();
        assert_eq!(
            e,
            "invalid package name `Foo`: unexpected character `F`: expected lowercase ASCII letters, digits and `-`"
        );
    }

    #[test]
    fn serde_goes_through_the_constructor() {
        let n: PackageName = serde_json::from_str("\"prelude\"").unwrap();
        assert_eq!(serde_json::to_string(&n).unwrap(), "\"prelude\"");
        let e = serde_json::from_str::<PackageName>("\"Bad\"").unwrap_err();
        assert!(e.to_string().contains("invalid package name `Bad`"));
    }
}
