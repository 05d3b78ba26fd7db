//! Hostile package repositories: git trees written object by object, so that an entry may
//! have any name (holding `/`, a line break, bytes that are not UTF-8) and any kind (a
//! submodule), and blobs streamed in without being held in memory.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use git2::{ObjectType, Oid, Repository};

/// One entry of a [`CraftedTree`].
#[derive(Debug, Clone)]
pub enum Node {
    /// A regular file (mode 100644).
    File(Vec<u8>),
    /// A symlink with this target.
    Symlink(Vec<u8>),
    /// A blob already in the repository (see [`repeated_blob`]), as a regular file.
    Blob(Oid),
    /// A submodule (gitlink) at this commit of another repository.
    Submodule(Oid),
    /// A directory.
    Dir(CraftedTree),
}

/// A git tree as written, entry by entry: names are taken as they are, never checked.
#[derive(Debug, Clone, Default)]
pub struct CraftedTree {
    entries: BTreeMap<Vec<u8>, Node>,
}

impl CraftedTree {
    pub fn new() -> Self {
        Self::default()
    }

    /// A tree holding `files` (paths split at `/` into directories), such as a sample
    /// package's.
    pub fn of_files(files: &[(String, Vec<u8>)]) -> Self {
        files.iter().fold(Self::new(), |tree, (path, bytes)| {
            tree.with(path, Node::File(bytes.clone()))
        })
    }

    /// `node` at `path`, split at `/` into directories.
    pub fn with(self, path: &str, node: Node) -> Self {
        let names: Vec<&[u8]> = path.split('/').map(str::as_bytes).collect();
        self.with_names(&names, node)
    }

    /// `node` under exactly these names, one per level, whatever they hold.
    pub fn with_names(mut self, names: &[&[u8]], node: Node) -> Self {
        self.insert(names, node);
        self
    }

    fn insert(&mut self, names: &[&[u8]], node: Node) {
        match names {
            [] => panic!("an entry needs a name"),
            [name] => {
                self.entries.insert(name.to_vec(), node);
            }
            [dir, rest @ ..] => {
                let entry = self
                    .entries
                    .entry(dir.to_vec())
                    .or_insert_with(|| Node::Dir(CraftedTree::new()));
                let Node::Dir(tree) = entry else {
                    panic!("{} is not a directory", String::from_utf8_lossy(dir));
                };
                tree.insert(rest, node);
            }
        }
    }

    /// Writes the tree (and its blobs and subtrees) into `repo` as raw objects, in git's
    /// entry order, bypassing libgit2's checks on names.
    pub fn write(&self, repo: &Repository) -> Result<Oid, git2::Error> {
        let mut written = Vec::new();
        for (name, node) in &self.entries {
            let (mode, id): (&str, Oid) = match node {
                Node::File(bytes) => ("100644", repo.blob(bytes)?),
                Node::Symlink(target) => ("120000", repo.blob(target)?),
                Node::Blob(id) => ("100644", *id),
                Node::Submodule(commit) => ("160000", *commit),
                Node::Dir(tree) => ("40000", tree.write(repo)?),
            };
            // Git sorts a directory as if its name ended with `/`.
            let mut key = name.clone();
            if matches!(node, Node::Dir(_)) {
                key.push(b'/');
            }
            written.push((key, mode, name, id));
        }
        written.sort_by(|a, b| a.0.cmp(&b.0));
        let mut raw = Vec::new();
        for (_, mode, name, id) in written {
            raw.extend_from_slice(mode.as_bytes());
            raw.push(b' ');
            raw.extend_from_slice(name);
            raw.push(0);
            raw.extend_from_slice(id.as_bytes());
        }
        repo.odb()?.write(ObjectType::Tree, &raw)
    }
}

/// The bare repository at `dir` (created if absent) with `tree` committed and tagged
/// `tag` (moved if it exists); returns the commit.
pub fn commit_tree(dir: &Path, tree: &CraftedTree, tag: &str) -> Result<Oid, git2::Error> {
    let repo = match Repository::open_bare(dir) {
        Ok(repo) => repo,
        Err(_) => Repository::init_bare(dir)?,
    };
    let tree = repo.find_tree(tree.write(&repo)?)?;
    let sig = git2::Signature::now("Crafted", "crafted@example.com")?;
    let commit = repo.commit(None, &sig, &sig, "crafted", &tree, &[])?;
    repo.tag_lightweight(tag, &repo.find_object(commit, None)?, true)?;
    Ok(commit)
}

/// A blob of `len` bytes `byte`, streamed into the repository at `dir` (created bare if
/// absent) a mebibyte at a time.
pub fn repeated_blob(dir: &Path, byte: u8, len: usize) -> Result<Oid, git2::Error> {
    let repo = match Repository::open_bare(dir) {
        Ok(repo) => repo,
        Err(_) => Repository::init_bare(dir)?,
    };
    let odb = repo.odb()?;
    let mut writer = odb.writer(len, ObjectType::Blob)?;
    let chunk = vec![byte; 1 << 20];
    let mut left = len;
    while left > 0 {
        let n = left.min(chunk.len());
        writer
            .write_all(&chunk[..n])
            .map_err(|e| git2::Error::from_str(&e.to_string()))?;
        left -= n;
    }
    writer.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_written_as_given_in_git_order() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init_bare(dir.path()).unwrap();
        let tree = CraftedTree::new()
            .with("a.b", Node::File(b"1".to_vec()))
            .with("a/x", Node::File(b"2".to_vec()))
            .with_names(&[b"a/b", b"c\n"], Node::Symlink(b"x".to_vec()));
        let tree = repo.find_tree(tree.write(&repo).unwrap()).unwrap();
        let names: Vec<Vec<u8>> = tree.iter().map(|e| e.name_bytes().to_vec()).collect();
        assert_eq!(names, [&b"a.b"[..], b"a", b"a/b"]);
        let odd = repo.find_tree(tree.iter().nth(2).unwrap().id()).unwrap();
        assert_eq!(odd.iter().next().unwrap().name_bytes(), b"c\n");
        assert_eq!(odd.iter().next().unwrap().filemode(), 0o120000);
    }

    #[test]
    fn a_repeated_blob_has_its_size() {
        let dir = tempfile::tempdir().unwrap();
        let id = repeated_blob(dir.path(), b'z', 3 << 20).unwrap();
        let repo = Repository::open_bare(dir.path()).unwrap();
        let (size, kind) = repo.odb().unwrap().read_header(id).unwrap();
        assert_eq!((size, kind), (3 << 20, ObjectType::Blob));
    }
}
