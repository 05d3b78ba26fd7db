//! Private keys: where each comes from ([`KeySource`]: a file outside any git work tree, or
//! an environment variable), read as ed25519 PKCS#8 (PEM `PRIVATE KEY` or DER, what
//! `tough::sign::parse_keypair` reads) into a [`SigningKey`] whose public half is tough's
//! `Key` and whose id is tough's key id; new keys made and written mode 0600.

use std::fmt;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair as _};
use tough::schema::key::Key;

use super::{KeyId, TrustError};

/// A key file larger than this is not a key (an ed25519 PKCS#8 PEM is about 120 bytes).
pub const KEY_FILE_MAX_BYTES: u64 = 16 * 1024;

/// Where a private key comes from, as `regis.dhall` and `--key` name it: `file:<path>`
/// (relative to the registry repo; never inside a git work tree) or `env:<VAR>` (the PEM
/// text itself, as a CI secret holds it). Shows where the key is, never the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    File(PathBuf),
    Env(String),
}

impl KeySource {
    /// `text` as a key source; else what was expected instead.
    pub fn parse(text: &str) -> Result<KeySource, String> {
        if let Some(path) = text.strip_prefix("file:").filter(|p| !p.is_empty()) {
            return Ok(KeySource::File(PathBuf::from(path)));
        }
        if let Some(var) = text.strip_prefix("env:") {
            let valid = !var.is_empty() && !var.contains('=') && !var.contains(char::is_whitespace);
            if valid {
                return Ok(KeySource::Env(var.to_owned()));
            }
        }
        Err("a key source `file:<path>` or `env:<VAR>`".to_owned())
    }

    /// A relative file taken relative to `base` (the registry repo).
    pub fn resolved(&self, base: &Path) -> KeySource {
        match self {
            KeySource::File(path) if path.is_relative() => KeySource::File(base.join(path)),
            other => other.clone(),
        }
    }

    /// Reads the key. A file must lie outside every git work tree and be at most
    /// [`KEY_FILE_MAX_BYTES`]; the text must be an ed25519 private key.
    pub fn load(&self) -> Result<SigningKey, TrustError> {
        let bytes = match self {
            KeySource::File(path) => read_key_file(path)?,
            KeySource::Env(var) => match std::env::var_os(var) {
                Some(value) if !value.is_empty() => value.into_encoded_bytes(),
                _ => return Err(TrustError::KeyEnvUnset { var: var.clone() }),
            },
        };
        SigningKey::from_bytes(&bytes).ok_or_else(|| TrustError::NotAKey {
            source_name: self.to_string(),
        })
    }
}

impl fmt::Display for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::File(path) => write!(f, "file:{}", path.display()),
            KeySource::Env(var) => write!(f, "env:{var}"),
        }
    }
}

impl std::str::FromStr for KeySource {
    type Err = String;
    fn from_str(text: &str) -> Result<KeySource, String> {
        KeySource::parse(text)
    }
}

fn read_key_file(path: &Path) -> Result<Vec<u8>, TrustError> {
    let read = |cause| TrustError::ReadKey {
        path: path.display().to_string(),
        cause,
    };
    let file = std::fs::File::open(path).map_err(read)?;
    if let Some(tree) = git_work_tree_of(path) {
        return Err(TrustError::KeyInGitTree {
            path: path.display().to_string(),
            tree: tree.display().to_string(),
        });
    }
    let mut bytes = Vec::new();
    file.take(KEY_FILE_MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read)?;
    if bytes.len() as u64 > KEY_FILE_MAX_BYTES {
        return Err(TrustError::KeyFileTooLarge {
            path: path.display().to_string(),
            max: KEY_FILE_MAX_BYTES,
        });
    }
    Ok(bytes)
}

/// The git work tree `path` (a file or directory, existing or not) lies in, if any.
pub fn git_work_tree_of(path: &Path) -> Option<PathBuf> {
    let absolute = std::path::absolute(path).ok()?;
    let existing = absolute.ancestors().find(|a| a.exists())?;
    let existing = existing.canonicalize().ok()?;
    let repo = git2::Repository::discover(&existing).ok()?;
    let tree = repo.workdir()?.canonicalize().ok()?;
    existing.starts_with(&tree).then_some(tree)
}

/// An ed25519 private key, with its public half as TUF writes it and its key id. `Debug`
/// shows the key id only.
pub struct SigningKey {
    pair: Ed25519KeyPair,
    key: Key,
    keyid: KeyId,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("keyid", &self.keyid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// An ed25519 PKCS#8 key, PEM (`PRIVATE KEY`) or DER; `None` for anything else.
    pub fn from_bytes(bytes: &[u8]) -> Option<SigningKey> {
        let der = if bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
            let pem = pem::parse(bytes).ok()?;
            (pem.tag() == "PRIVATE KEY").then_some(pem.into_contents())?
        } else {
            bytes.to_vec()
        };
        let pair = Ed25519KeyPair::from_pkcs8(&der).ok()?;
        let key = tough::sign::Sign::tuf_key(&pair);
        let keyid = KeyId::of(&key);
        Some(SigningKey { pair, key, keyid })
    }

    /// A new key and its PKCS#8 PEM text (to be written where only its owner reads it).
    pub fn generate() -> (SigningKey, Secret) {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let der = Ed25519KeyPair::generate_pkcs8(&rng).expect("the system's random source works");
        let pem = pem::encode_config(
            &pem::Pem::new("PRIVATE KEY", der.as_ref().to_vec()),
            pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
        );
        let key = SigningKey::from_bytes(pem.as_bytes()).expect("a key just made reads back");
        (key, Secret(pem))
    }

    pub fn keyid(&self) -> &KeyId {
        &self.keyid
    }

    /// The public key as `root.json` lists it.
    pub fn public(&self) -> &Key {
        &self.key
    }

    /// The public key's raw 32 bytes.
    pub fn public_bytes(&self) -> &[u8] {
        self.pair.public_key().as_ref()
    }

    /// The ed25519 signature of `message` (what tough's `Sign` for this key makes).
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.pair.sign(message).as_ref().to_vec()
    }
}

/// Private key text: written to a file, never shown (`Debug` and `Display` redact it).
pub struct Secret(String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Writes `secret` to a new file `dir/name`, readable by its owner only (0600; the
/// directory is made 0700). Refuses a `dir` inside a git work tree and an existing file.
pub fn write_private_key(dir: &Path, name: &str, secret: &Secret) -> Result<PathBuf, TrustError> {
    refuse_git_tree(dir)?;
    let path = dir.join(name);
    let write = |cause| TrustError::WriteKey {
        path: path.display().to_string(),
        cause,
    };
    create_private_dir(dir).map_err(write)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&path).map_err(write)?;
    file.write_all(secret.0.as_bytes()).map_err(write)?;
    file.sync_all().map_err(write)?;
    Ok(path)
}

/// Refuses `dir` for private keys when it lies inside a git work tree.
pub fn refuse_git_tree(dir: &Path) -> Result<(), TrustError> {
    match git_work_tree_of(dir) {
        Some(tree) => Err(TrustError::KeyDirInGitTree {
            dir: dir.display().to_string(),
            tree: tree.display().to_string(),
        }),
        None => Ok(()),
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// tough's editor can sign with a regis key source ([`tough::editor::signed::SignedRole`]
/// takes `&[Box<dyn tough::key_source::KeySource>]`): the key is read each time, as
/// [`KeySource::load`] reads it. Writing a key through tough is refused.
#[tough::async_trait]
impl tough::key_source::KeySource for KeySource {
    async fn as_sign(
        &self,
    ) -> Result<Box<dyn tough::sign::Sign>, Box<dyn std::error::Error + Send + Sync + 'static>>
    {
        Ok(Box::new(self.load()?.pair))
    }

    async fn write(
        &self,
        _value: &str,
        _key_id_hex: &str,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync + 'static>> {
        Err(format!("regis does not write keys to `{self}`").into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_reads_as_pem_or_der_and_shows_only_its_id() {
        let (key, secret) = SigningKey::generate();
        let dir = tempfile::tempdir().unwrap();
        let path = write_private_key(dir.path(), "k.pem", &secret).unwrap();
        let from_file = KeySource::File(path.clone()).load().unwrap();
        assert_eq!(from_file.keyid(), key.keyid());
        let der = pem::parse(std::fs::read(&path).unwrap()).unwrap();
        let from_der = SigningKey::from_bytes(der.contents()).unwrap();
        assert_eq!(from_der.public(), key.public());
        // the id is tough's, and the public key ed25519's 32 bytes
        assert_eq!(KeyId::of(key.public()), *key.keyid());
        assert_eq!(key.public_bytes().len(), 32);
        // neither Debug shows key material
        let body = secret.0.lines().nth(1).unwrap().to_owned();
        for shown in [format!("{key:?}"), format!("{secret:?}")] {
            assert!(!shown.contains(&body), "{shown}");
        }
        assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
        assert_eq!(
            format!("{key:?}"),
            format!(
                "SigningKey {{ keyid: KeyId({:?}), .. }}",
                key.keyid().as_str()
            )
        );
        // a second write does not replace the file
        let again = write_private_key(dir.path(), "k.pem", &secret).unwrap_err();
        assert!(matches!(again, TrustError::WriteKey { .. }), "{again}");
    }

    #[test]
    fn tough_signs_with_a_regis_key_source() {
        let (key, secret) = SigningKey::generate();
        let dir = tempfile::tempdir().unwrap();
        let path = write_private_key(dir.path(), "k.pem", &secret).unwrap();
        let source = KeySource::File(path);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let sign = runtime
            .block_on(tough::key_source::KeySource::as_sign(&source))
            .unwrap();
        assert_eq!(&sign.tuf_key(), key.public());
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let signature = runtime.block_on(sign.sign(b"message", &rng)).unwrap();
        assert_eq!(signature, key.sign(b"message"));
    }

    #[test]
    fn key_sources_parse_and_show_where_not_what() {
        assert_eq!(
            KeySource::parse("file:keys/a.pem"),
            Ok(KeySource::File("keys/a.pem".into()))
        );
        assert_eq!(
            KeySource::parse("env:ROOT_KEY"),
            Ok(KeySource::Env("ROOT_KEY".into()))
        );
        for bad in [
            "",
            "file:",
            "env:",
            "env:A=B",
            "env:A B",
            "/keys/a.pem",
            "vault:x",
        ] {
            assert_eq!(
                KeySource::parse(bad),
                Err("a key source `file:<path>` or `env:<VAR>`".to_owned()),
                "{bad}"
            );
        }
        let relative = KeySource::parse("file:../keys/a.pem").unwrap();
        assert_eq!(
            relative.resolved(Path::new("/srv/registry")).to_string(),
            "file:/srv/registry/../keys/a.pem"
        );
        assert_eq!(
            KeySource::Env("K".into())
                .resolved(Path::new("/x"))
                .to_string(),
            "env:K"
        );
    }
}
