//! The value types of every registry format: names, versions, ranges, locations, hashes,
//! owners, licenses and times. Each keeps private fields behind one checking constructor;
//! `FromStr`, `Display` and serde all go through it (parse, don't validate).

mod license;
pub(crate) mod location;
mod name;
mod owner;
mod sha256;
mod time;
mod version;

pub use license::License;
pub use location::{Location, redact_url};
pub use name::{PackageName, PackageVersion};
pub use owner::Owner;
pub use sha256::Sha256;
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
}

/// Implements `FromStr`, `Display`, `as_str`-style serde (`try_from = "String"`,
/// `into = "String"`) for a type with `fn parse(&str) -> Result<Self, SchemaError>`.
macro_rules! string_type {
    ($ty:ty) => {
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
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                <$ty>::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use string_type;

/// The canonical bytes of a pretty-printed document: 2-space indent and a trailing
/// newline, as the PureScript Registry writes metadata, package sets and `purs.json`.
pub(crate) fn pretty_json<T: serde::Serialize>(value: &T) -> String {
    let mut s = serde_json::to_string_pretty(value).expect("registry documents always serialize");
    s.push('\n');
    s
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
