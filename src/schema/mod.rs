//! The value types of every registry format: names, versions, ranges, locations, hashes,
//! owners, licenses, times and regis's own tags (a name for a version). Each keeps private fields behind one checking constructor;
//! `FromStr`, `Display` and serde all go through it (parse, don't validate).

mod license;
pub(crate) mod location;
mod name;
mod owner;
mod sha256;
mod tag;
mod time;
mod version;

pub use license::License;
pub use location::{Location, redact_url};
pub use name::{PackageName, PackageVersion};
pub use owner::Owner;
pub use sha256::Sha256;
pub use tag::{LATEST, MAX_TAG_LEN, PackageSpec, Tag, VersionSpec};
pub use time::{Date, Timestamp};
pub use version::{Range, Version};

/// Why a value does not have the shape its format requires. A value is repeated cut to
/// [`crate::text::VALUE_MAX_CHARS`] characters (it may be a megabyte of payload).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    #[error("invalid package name `{}`: {reason}", crate::text::value(.value))]
    PackageName { value: String, reason: String },
    #[error("invalid version `{}`: {reason}", crate::text::value(.value))]
    Version { value: String, reason: String },
    #[error("invalid range `{}`: {reason}", crate::text::value(.value))]
    Range { value: String, reason: String },
    #[error("invalid location: {reason}")]
    Location { reason: String },
    #[error("invalid hash `{}`: {reason}", crate::text::value(.value))]
    Sha256 { value: String, reason: String },
    #[error("invalid owner: {reason}")]
    Owner { reason: String },
    #[error("invalid license `{}`: {reason}", crate::text::value(.value))]
    License { value: String, reason: String },
    #[error("invalid time `{}`: {reason}", crate::text::value(.value))]
    Time { value: String, reason: String },
    #[error("invalid tag {}: {reason}", crate::text::echo(.value))]
    Tag { value: String, reason: String },
}

/// Implements `FromStr`, `TryFrom<String>`, `From<T> for String` and serde as a string
/// (read through `parse`, written as the `Display` text) for a type with
/// `fn parse(&str) -> Result<Self, SchemaError>`.
macro_rules! string_type {
    ($ty:ty) => {
        crate::schema::string_type!($ty, own Serialize);
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
    };
    // A type with its own `Serialize` (its `Display` text, put together faster).
    ($ty:ty, own Serialize) => {
        impl std::str::FromStr for $ty {
            type Err = crate::schema::SchemaError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                <$ty>::parse(s)
            }
        }
        impl TryFrom<String> for $ty {
            type Error = crate::schema::SchemaError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                <$ty>::parse(&s)
            }
        }
        impl From<$ty> for String {
            fn from(v: $ty) -> String {
                v.to_string()
            }
        }
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_string(crate::schema::Parse::<$ty>(std::marker::PhantomData))
            }
        }
    };
}
pub(crate) use string_type;

/// Reads a string type through its checking constructor from the text the deserializer
/// holds, without the copy serde's `String` and `Cow<str>` make of every value.
pub(crate) struct Parse<T>(pub(crate) std::marker::PhantomData<T>);

impl<T: std::str::FromStr<Err = SchemaError>> serde::de::Visitor<'_> for Parse<T> {
    type Value = T;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<T, E> {
        s.parse().map_err(E::custom)
    }
}

/// Whether `value` displays as exactly `text`: compared as it is written, no `String` made
/// (a parser that accepts only the canonical form checks its result with it).
pub(crate) fn displays_as(value: &impl std::fmt::Display, text: &str) -> bool {
    struct Rest<'a>(&'a str);
    impl std::fmt::Write for Rest<'_> {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            self.0 = self.0.strip_prefix(s).ok_or(std::fmt::Error)?;
            Ok(())
        }
    }
    let mut rest = Rest(text);
    std::fmt::write(&mut rest, format_args!("{value}")).is_ok() && rest.0.is_empty()
}

/// The canonical bytes of a pretty-printed document: 2-space indent and a trailing
/// newline, as the PureScript Registry writes metadata, package sets and `purs.json`.
pub(crate) fn pretty_json<T: serde::Serialize>(value: &T) -> String {
    let mut s = serde_json::to_string_pretty(value).expect("registry documents always serialize");
    s.push('\n');
    s
}

/// Whether `expected` is exactly `pretty_json(value)` (`pretty`) or the compact JSON of
/// `value` followed by a newline (an index line): compared as the bytes are written, so no
/// second copy of the document is built, and given up at the first byte that differs.
pub(crate) fn writes_exactly<T: serde::Serialize>(
    value: &T,
    pretty: bool,
    expected: &[u8],
) -> bool {
    let mut out = Compare { rest: expected };
    let written = if pretty {
        serde_json::to_writer_pretty(&mut out, value)
    } else {
        serde_json::to_writer(&mut out, value)
    };
    written.is_ok() && out.rest == b"\n"
}

/// A writer that accepts only the bytes `rest` starts with.
struct Compare<'a> {
    rest: &'a [u8],
}

impl std::io::Write for Compare<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.rest.strip_prefix(buf) {
            Some(rest) => {
                self.rest = rest;
                Ok(buf.len())
            }
            None => Err(std::io::Error::other("the bytes differ")),
        }
    }

    // What serde_json calls: one comparison, not `write`'s loop for short writes.
    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.write(buf).map(drop)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// True when `path` is a relative, `/`-separated path with no empty, `.` or `..` parts.
pub(crate) fn is_clean_relative_path(path: &str) -> bool {
    !path.is_empty()
        && !path.contains('\\')
        && !path.contains('\0')
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_exactly_is_byte_equality_with_the_canonical_text() {
        let value = serde_json::json!({"a": ["x\u{1}\"", 1], "b": {}, "c": "é"});
        let pretty = pretty_json(&value);
        let compact = format!("{}\n", serde_json::to_string(&value).unwrap());
        assert!(writes_exactly(&value, true, pretty.as_bytes()));
        assert!(writes_exactly(&value, false, compact.as_bytes()));
        assert!(!writes_exactly(&value, true, compact.as_bytes()));
        for text in [&pretty, &compact] {
            let pretty = text == &pretty;
            let bytes = text.as_bytes();
            // Every proper prefix, and the text with a byte more, changed or missing.
            for cut in 0..bytes.len() {
                assert!(!writes_exactly(&value, pretty, &bytes[..cut]));
                let mut changed = bytes.to_vec();
                changed[cut] ^= 1;
                assert!(!writes_exactly(&value, pretty, &changed));
            }
            assert!(!writes_exactly(
                &value,
                pretty,
                format!("{text}\n").as_bytes()
            ));
        }
    }

    #[test]
    fn displays_as_is_equality_with_the_display_text() {
        let v = Version::new(1, 20, 3);
        assert!(displays_as(&v, "1.20.3"));
        for other in ["", "1.20.", "1.20.30", "1.20.3 ", "1.2.3", "01.20.3"] {
            assert!(!displays_as(&v, other), "{other:?}");
        }
    }

    #[test]
    fn string_types_read_text_in_place_escaped_or_owned_alike() {
        let name: PackageName = "prelude".parse().unwrap();
        // Borrowed from the input, unescaped into serde_json's scratch, owned by a `Value`.
        assert_eq!(
            serde_json::from_str::<PackageName>("\"prelude\"").unwrap(),
            name
        );
        assert_eq!(
            serde_json::from_str::<PackageName>("\"prel\\u0075de\"").unwrap(),
            name
        );
        let value = serde_json::json!("prelude");
        assert_eq!(serde_json::from_value::<PackageName>(value).unwrap(), name);
        // As a map key, and the refusals serde's `String` gave.
        let deps: std::collections::BTreeMap<PackageName, Range> =
            serde_json::from_str(r#"{"prelude": ">=1.0.0 <2.0.0"}"#).unwrap();
        assert_eq!(deps[&name].to_string(), ">=1.0.0 <2.0.0");
        let error = |json: &str| {
            serde_json::from_str::<Version>(json)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            error("5"),
            "invalid type: integer `5`, expected a string at line 1 column 1"
        );
        assert_eq!(
            error("\"1.0\""),
            "invalid version `1.0`: expected three numbers `MAJOR.MINOR.PATCH` separated by `.` at line 1 column 5"
        );
    }

    #[test]
    fn versions_and_ranges_serialize_as_their_display_text() {
        let range: Range = ">=4294967295.0.0 <4294967295.4294967295.4294967295"
            .parse()
            .unwrap();
        let text = ">=4294967295.0.0 <4294967295.4294967295.4294967295";
        assert_eq!(range.to_string(), text);
        assert_eq!(
            serde_json::to_string(&range).unwrap(),
            format!("\"{text}\"")
        );
    }

    /// `case → message` for a value that must be refused.
    fn refusal<T: std::fmt::Debug>(
        case: &str,
        result: Result<T, impl std::fmt::Display>,
    ) -> String {
        format!("{case} → {}", result.expect_err(case))
    }

    /// Every reason a value type gives, through the parser its format goes through (the
    /// string types' `FromStr`, the JSON-shaped ones' serde).
    #[test]
    fn every_refusal_says_what_was_expected() {
        let json = |text: &str| serde_json::from_str::<Location>(text).map_err(|e| e.to_string());
        let owner = |text: &str| serde_json::from_str::<Owner>(text).map_err(|e| e.to_string());
        let long_name = "a".repeat(151);
        let lines = [
            refusal("name ``", "".parse::<PackageName>()),
            refusal("name `a…a` (151)", long_name.parse::<PackageName>()),
            refusal("name `Prelude`", "Prelude".parse::<PackageName>()),
            refusal("name `-a`", "-a".parse::<PackageName>()),
            refusal("name `a--b`", "a--b".parse::<PackageName>()),
            refusal("name@version `aff`", "aff".parse::<PackageVersion>()),
            refusal("name@version `aff@7`", "aff@7".parse::<PackageVersion>()),
            refusal("version `1.0`", "1.0".parse::<Version>()),
            refusal("version `1.0.x`", "1.0.x".parse::<Version>()),
            refusal("version `1.01.0`", "1.01.0".parse::<Version>()),
            refusal(
                "version `1.0.4294967296`",
                "1.0.4294967296".parse::<Version>(),
            ),
            refusal("range `^1.0.0`", "^1.0.0".parse::<Range>()),
            refusal("range `>=1.0 <2.0.0`", ">=1.0 <2.0.0".parse::<Range>()),
            refusal("range `>=2.0.0 <1.0.0`", ">=2.0.0 <1.0.0".parse::<Range>()),
            refusal("location `{githubOwner}`", json(r#"{"githubOwner":"o"}"#)),
            refusal(
                "location `githubOwner: o/p`",
                json(r#"{"githubOwner":"o/p","githubRepo":"r"}"#),
            ),
            refusal(
                "location `githubRepo: ..`",
                json(r#"{"githubOwner":"o","githubRepo":".."}"#),
            ),
            refusal(
                "location `subdir: ../x`",
                json(r#"{"githubOwner":"o","githubRepo":"r","subdir":"../x"}"#),
            ),
            refusal(
                "location `gitUrl: ftp://x/y`",
                json(r#"{"gitUrl":"ftp://x/y"}"#),
            ),
            refusal(
                "location `gitUrl: https://`",
                json(r#"{"gitUrl":"https://"}"#),
            ),
            refusal(
                "location `gitUrl` with a token",
                json(r#"{"gitUrl":"https://token@example.com/x.git"}"#),
            ),
            refusal(
                "location `gitUrl` with a password",
                json(r#"{"gitUrl":"ssh://git:secret@example.com/x.git"}"#),
            ),
            refusal(
                "location `gitUrl` with a space",
                json(r#"{"gitUrl":"https://example.com/a b.git"}"#),
            ),
            refusal(
                "location `extra`",
                json(r#"{"githubOwner":"o","githubRepo":"r","extra":1}"#),
            ),
            refusal("hash `abc`", "abc".parse::<Sha256>()),
            refusal("hash `sha256-!`", "sha256-!".parse::<Sha256>()),
            refusal("hash `sha256-AAAA`", "sha256-AAAA".parse::<Sha256>()),
            refusal(
                "hash without padding",
                "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU".parse::<Sha256>(),
            ),
            refusal(
                "owner keytype ``",
                owner(r#"{"keytype":"","public":"AAAA"}"#),
            ),
            refusal(
                "owner public `A A`",
                owner(r#"{"keytype":"ssh-ed25519","public":"A A"}"#),
            ),
            refusal(
                "owner line `ssh-ed25519`",
                Owner::from_openssh("ssh-ed25519"),
            ),
            refusal("license `Foo`", "Foo".parse::<License>()),
            refusal("license `MIT AND`", "MIT AND".parse::<License>()),
            refusal(
                "canonical license `GPL-3.0`",
                License::parse("GPL-3.0").unwrap().check_canonical(),
            ),
            refusal(
                "canonical license `MIT OR wxWindows`",
                License::parse("MIT OR wxWindows")
                    .unwrap()
                    .check_canonical(),
            ),
            refusal(
                "time `2024-01-02T00:00:00Z`",
                "2024-01-02T00:00:00Z".parse::<Timestamp>(),
            ),
            refusal("date `2024-1-2`", "2024-1-2".parse::<Date>()),
            refusal("tag `1.0.0`", "1.0.0".parse::<Tag>()),
            refusal("tag ``", "".parse::<Tag>()),
            refusal("tag `a…a` (65)", "a".repeat(65).parse::<Tag>()),
            refusal("tag `Next`", "Next".parse::<Tag>()),
            refusal("tag `a\\nb`", "a\nb".parse::<Tag>()),
            refusal("tag `-next`", "-next".parse::<Tag>()),
            refusal("name@spec `aff`", "aff".parse::<PackageSpec>()),
            refusal("name@spec `aff@1.0`", "aff@1.0".parse::<PackageSpec>()),
            refusal("name@spec `aff@Next`", "aff@Next".parse::<PackageSpec>()),
        ];
        insta::assert_snapshot!(lines.join("\n"), @r#"
            name `` → invalid package name ``: expected at least one character
            name `a…a` (151) → invalid package name `aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa`: expected at most 150 characters, got 151
            name `Prelude` → invalid package name `Prelude`: unexpected character `P`: expected lowercase ASCII letters, digits and `-`
            name `-a` → invalid package name `-a`: expected no leading or trailing `-`
            name `a--b` → invalid package name `a--b`: expected single `-` between parts, found `--`
            name@version `aff` → invalid package name `aff`: expected `NAME@VERSION`
            name@version `aff@7` → invalid version `7`: expected three numbers `MAJOR.MINOR.PATCH` separated by `.`
            version `1.0` → invalid version `1.0`: expected three numbers `MAJOR.MINOR.PATCH` separated by `.`
            version `1.0.x` → invalid version `1.0.x`: `x` is not a number: expected digits only (no `v`, prerelease or build part)
            version `1.01.0` → invalid version `1.01.0`: `01` has a leading zero
            version `1.0.4294967296` → invalid version `1.0.4294967296`: `4294967296` is too large: expected a number below 2^32
            range `^1.0.0` → invalid range `^1.0.0`: expected `>=A.B.C <X.Y.Z`
            range `>=1.0 <2.0.0` → invalid range `>=1.0 <2.0.0`: expected `>=A.B.C <X.Y.Z`: invalid version `1.0`: expected three numbers `MAJOR.MINOR.PATCH` separated by `.`
            range `>=2.0.0 <1.0.0` → invalid range `>=2.0.0 <1.0.0`: lower bound `2.0.0` is not below upper bound `1.0.0`
            location `{githubOwner}` → invalid location: expected `{"githubOwner", "githubRepo", "subdir"?}` or `{"gitUrl", "subdir"?}`
            location `githubOwner: o/p` → invalid location: `githubOwner` `o/p` is not a GitHub name: expected ASCII letters, digits, `-`, `_` and `.`
            location `githubRepo: ..` → invalid location: `githubRepo` `..` is not a GitHub name: expected ASCII letters, digits, `-`, `_` and `.`
            location `subdir: ../x` → invalid location: `subdir` `../x` must be a relative path inside the repository (no leading `/`, no `.` or `..` parts)
            location `gitUrl: ftp://x/y` → invalid location: `gitUrl` `ftp://x/y` is not a URL: expected one of the schemes https, http, git, ssh, file
            location `gitUrl: https://` → invalid location: `gitUrl` `https://` is not a URL: expected one of the schemes https, http, git, ssh, file
            location `gitUrl` with a token → invalid location: `gitUrl` `https://example.com/x.git` carries credentials: expected a URL without a user or password (it is published in metadata)
            location `gitUrl` with a password → invalid location: `gitUrl` `ssh://example.com/x.git` carries credentials: expected a URL without a user or password (it is published in metadata)
            location `gitUrl` with a space → invalid location: `gitUrl` `https://example.com/a b.git` contains whitespace: expected a URL without whitespace
            location `extra` → unknown field `extra`, expected one of `githubOwner`, `githubRepo`, `gitUrl`, `subdir` at line 1 column 43
            hash `abc` → invalid hash `abc`: expected `sha256-` followed by 44 characters of base64
            hash `sha256-!` → invalid hash `sha256-!`: expected standard base64 after `sha256-`
            hash `sha256-AAAA` → invalid hash `sha256-AAAA`: expected a 32-byte digest
            hash without padding → invalid hash `sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU`: expected standard base64 after `sha256-`
            owner keytype `` → invalid owner: `keytype` `` is empty or has spaces: expected an SSH public key split into `keytype` and `public`
            owner public `A A` → invalid owner: `public` is empty or has spaces: expected an SSH public key split into `keytype` and `public`
            owner line `ssh-ed25519` → invalid owner: expected an OpenSSH public key line `<keytype> <base64> [comment]`
            license `Foo` → invalid license `Foo`: expected an SPDX license expression: unknown term
            license `MIT AND` → invalid license `MIT AND`: expected an SPDX license expression: expected one of `<license>`, `(` here
            canonical license `GPL-3.0` → invalid license `GPL-3.0`: `GPL-3.0` is not a canonical SPDX identifier (a deprecated license identifier was used): use `GPL-3.0-only` or `GPL-3.0-or-later`
            canonical license `MIT OR wxWindows` → invalid license `MIT OR wxWindows`: `wxWindows` is not a canonical SPDX identifier (a deprecated license identifier was used): expected a current identifier from https://spdx.org/licenses/
            time `2024-01-02T00:00:00Z` → invalid time `2024-01-02T00:00:00Z`: expected `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC, milliseconds)
            date `2024-1-2` → invalid time `2024-1-2`: expected a date `YYYY-MM-DD`
            tag `1.0.0` → invalid tag `1.0.0`: it is a version: expected a name that never reads as one (`NAME@1.0.0` always means the version)
            tag `` → invalid tag ``: expected 1 to 64 characters
            tag `a…a` (65) → invalid tag `aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa`: 65 characters long: expected at most 64
            tag `Next` → invalid tag `Next`: unexpected character `N`: expected lowercase ASCII letters, digits, `-`, `.` and `_`
            tag `a\nb` → invalid tag `a\nb`: unexpected character `\n`: expected lowercase ASCII letters, digits, `-`, `.` and `_`
            tag `-next` → invalid tag `-next`: expected a lowercase ASCII letter first
            name@spec `aff` → invalid package name `aff`: expected `NAME@VERSION` or `NAME@TAG`
            name@spec `aff@1.0` → invalid version `1.0`: expected three numbers `MAJOR.MINOR.PATCH` separated by `.`
            name@spec `aff@Next` → invalid tag `Next`: unexpected character `N`: expected lowercase ASCII letters, digits, `-`, `.` and `_`
            "#);
    }
}
