//! [`MemorySource`]: fixed files per location and ref, for tests.

use std::collections::BTreeMap;

use super::{At, Source, SourceError, SourceTree};

/// Files as `(path, contents)` pairs, the input of [`SourceTree::from_memory`].
type MemoryFiles = Vec<(String, Vec<u8>)>;

/// Fixed files per `(url, ref)`, for tests.
#[derive(Debug, Clone, Default)]
pub struct MemorySource {
    sources: BTreeMap<(String, String), MemoryFiles>,
}

impl MemorySource {
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves `files` (paths relative to the repository root) for `url` at `reference`.
    pub fn insert(&mut self, url: &str, reference: &str, files: Vec<(String, Vec<u8>)>) {
        self.sources
            .insert((url.to_owned(), reference.to_owned()), files);
    }
}

impl Source for MemorySource {
    fn fetch(
        &self,
        url: &str,
        reference: &str,
        subdir: Option<&str>,
    ) -> Result<SourceTree, SourceError> {
        let at = At { url, reference };
        let subdir = at.normalize_subdir(subdir)?;
        let files = self
            .sources
            .get(&(url.to_owned(), reference.to_owned()))
            .ok_or_else(|| at.ref_not_found())?;
        let Some(subdir) = subdir else {
            return Ok(at.locate(SourceTree::from_memory(files.clone())));
        };
        let prefix = format!("{subdir}/");
        let inside: Vec<(String, Vec<u8>)> = files
            .iter()
            .filter_map(|(path, bytes)| {
                let path = path.strip_prefix(&prefix)?;
                Some((path.to_owned(), bytes.clone()))
            })
            .collect();
        if inside.is_empty() {
            return Err(at.subdir_not_found(&subdir));
        }
        Ok(at.locate(SourceTree::from_memory(inside)))
    }
}

#[cfg(test)]
mod tests {
    use super::super::SourceErrorKind;
    use super::super::testing::*;
    use super::*;

    #[test]
    fn memory_source_serves_inserted_files() {
        let mut source = MemorySource::new();
        let files = vec![
            ("src/B.purs".to_owned(), b"b".to_vec()),
            ("purs.json".to_owned(), b"{}".to_vec()),
            ("sub/purs.json".to_owned(), b"{1}".to_vec()),
        ];
        source.insert("https://example.org/p.git", "v1.0.0", files);
        let tree = source
            .fetch("https://example.org/p.git", "v1.0.0", None)
            .unwrap();
        assert_eq!(tree.commit(), "");
        assert_eq!(paths(&tree), ["purs.json", "src/B.purs", "sub/purs.json"]);
        assert_eq!(tree.entries()[0], file("purs.json", false, 2));
        assert_eq!(tree.read("src/B.purs").unwrap(), b"b");

        let sub = source
            .fetch("https://example.org/p.git", "v1.0.0", Some("sub"))
            .unwrap();
        assert_eq!(paths(&sub), ["purs.json"]);
        let missing = source.fetch("https://example.org/p.git", "v1.0.0", Some("nope"));
        assert!(matches!(
            missing.map_err(|e| e.kind),
            Err(SourceErrorKind::SubdirNotFound { .. })
        ));
        let unknown = source
            .fetch("https://example.org/p.git", "v2.0.0", None)
            .unwrap_err();
        assert_eq!(
            unknown.to_string(),
            "ref `v2.0.0` not found in `https://example.org/p.git`: expected a tag, branch or commit id"
        );
    }
}
