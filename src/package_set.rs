//! Package sets (`package-sets/<version>.json`): versions of packages that build together
//! with one compiler. Pure.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::schema::{Date, PackageName, Version};

/// A package set. Key order `version, compiler, published, packages`; packages by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageSet {
    pub version: Version,
    pub compiler: Version,
    pub published: Date,
    pub packages: BTreeMap<PackageName, Version>,
}

/// A package set file that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{file}` is not a valid package set: {message}")]
pub struct PackageSetError {
    pub file: String,
    pub message: String,
}

impl PackageSet {
    pub fn from_json(file: &str, text: &str) -> Result<PackageSet, PackageSetError> {
        serde_json::from_str(text).map_err(|e| PackageSetError {
            file: file.to_owned(),
            message: e.to_string(),
        })
    }

    /// The canonical bytes: pretty JSON with 2-space indent and a trailing newline.
    pub fn to_json(&self) -> String {
        crate::schema::pretty_json(self)
    }

    /// The file name this set is stored under: `package-sets/<version>.json`.
    pub fn file_name(&self) -> String {
        format!("package-sets/{}.json", self.version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrips_and_sorts() {
        let text = "{\n  \"version\": \"0.0.1\",\n  \"compiler\": \"0.15.10\",\n  \"published\": \"2024-01-01\",\n  \"packages\": {\n    \"effect\": \"4.0.0\",\n    \"prelude\": \"6.0.1\"\n  }\n}\n";
        let s = PackageSet::from_json("0.0.1.json", text).unwrap();
        assert_eq!(s.to_json(), text);
        assert_eq!(s.file_name(), "package-sets/0.0.1.json");
        let e =
            PackageSet::from_json("x.json", &text.replace("2024-01-01", "2024-1-1")).unwrap_err();
        assert!(
            e.to_string().contains("expected a date `YYYY-MM-DD`"),
            "{e}"
        );
    }
}
