//! Signatures of authenticated payloads: checking a `Transfer` or `Unpublish` signature
//! against owners' SSH public keys, and signing one with an OpenSSH private key.
//!
//! Two signature formats: `Raw`, the PureScript Registry's (hex of the raw ssh2 signature
//! over the exact payload bytes: ed25519, RSA PKCS#1 v1.5 over SHA-1, or DER ECDSA), and
//! `Sshsig`, the armored block `ssh-keygen -Y sign -n NAMESPACE` writes. Pure: reading a
//! key file is the only I/O, in [`SigningKey::read`].

mod openssh_ecdsa;
mod signing_key;
mod sshsig;
mod verify;

pub use signing_key::SigningKey;
pub use verify::{verify, verify_any};

use std::path::PathBuf;

use ssh_key::public::KeyData;
use ssh_key::{HashAlg, PublicKey};

use crate::schema::Owner;
use sshsig::{SSHSIG_BEGIN, SSHSIG_END};

/// The key types regis checks signatures of and signs with.
const SUPPORTED: &[&str] = &[
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
];

/// [`SUPPORTED`], as error messages list it.
const SUPPORTED_LIST: &str =
    "`ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`, `ecdsa-sha2-nistp384`, `ecdsa-sha2-nistp521`";

/// How a signature is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignatureFormat {
    /// Hex of the raw ssh2 signature over the payload bytes: the PureScript Registry's.
    #[default]
    Raw,
    /// An armored `-----BEGIN SSH SIGNATURE-----` block, as `ssh-keygen -Y sign` writes.
    Sshsig,
}

/// A signature that cannot be checked or made, or does not match.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(
        "the signature is empty: expected the hex of a raw SSH signature or an `SSH SIGNATURE` block"
    )]
    EmptySignature,
    #[error(
        "the signature is neither hex of a raw SSH signature nor an `SSH SIGNATURE` block: {reason}"
    )]
    NotASignature { reason: String },
    #[error(
        "the `SSH SIGNATURE` block cannot be read: {reason}: expected the block `ssh-keygen -Y sign` writes, from `{SSHSIG_BEGIN}` to `{SSHSIG_END}`"
    )]
    BadSshsig { reason: String },
    #[error(
        "the `SSH SIGNATURE` is for the namespace `{found}`: expected `{expected}` (sign with `ssh-keygen -Y sign -n {expected}`)"
    )]
    WrongNamespace { found: String, expected: String },
    #[error("`{keytype}` keys are not supported: expected one of {SUPPORTED_LIST}")]
    UnsupportedKeyType { keytype: String },
    #[error("the key {key} cannot be read: {reason}")]
    BadKey { key: String, reason: String },
    #[error("there are no keys to check the signature with: expected at least one owner key")]
    NoKeys,
    #[error(
        "the signature does not match the payload with the key {key}{hints}: the payload must be signed exactly as given, with this key"
    )]
    Mismatch { key: String, hints: String },
    #[error(
        "the signature does not match the payload for {tried} ({keys}){hints}: the payload must be signed exactly as given, with an owner's key",
        tried = keys_tried(*count)
    )]
    NoKeyMatched {
        count: usize,
        keys: String,
        hints: String,
    },
    #[error("could not read the private key `{path}`")]
    ReadKey {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("could not use the private key `{path}`")]
    KeyFile {
        path: PathBuf,
        #[source]
        source: Box<AuthError>,
    },
    #[error("not an OpenSSH private key: {reason}")]
    BadPrivateKey { reason: String },
    #[error(
        "the key {key} is passphrase-protected: give its passphrase (`regis sign --passphrase-env VAR` reads it from the environment variable `VAR`)"
    )]
    PassphraseNeeded { key: String },
    #[error(
        "the passphrase does not decrypt the key {key}: expected the passphrase it was saved with"
    )]
    WrongPassphrase { key: String },
    #[error("could not decrypt the key {key}: {reason}")]
    Decrypt { key: String, reason: String },
    #[error("the namespace is empty: expected a word such as `file`")]
    EmptyNamespace,
    #[error("could not sign with the key {key}: {reason}")]
    Sign { key: String, reason: String },
}

fn keys_tried(count: usize) -> String {
    if count == 1 {
        "the 1 key tried".to_owned()
    } else {
        format!("any of the {count} keys tried")
    }
}

/// The label of a PEM-style block (`-----BEGIN LABEL-----`), if `text` starts with one.
/// The label of a `-----BEGIN LABEL-----` line. Only a short label of capitals, digits and
/// spaces on the first line counts: a damaged header must never make key text part of a
/// message.
fn pem_label(text: &str) -> Option<&str> {
    let first_line = text.lines().next()?;
    let (label, _) = first_line
        .strip_prefix("-----BEGIN ")?
        .split_once("-----")?;
    let plain = label
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == ' ');
    (plain && label.len() <= 40).then_some(label)
}

/// `` `keytype` `id` ``, or the key's fingerprint in place of a missing id.
pub fn describe_owner(owner: &Owner) -> String {
    match owner.id() {
        Some(id) => format!("`{}` `{id}`", owner.keytype()),
        None => match PublicKey::from_openssh(&format!("{} {}", owner.keytype(), owner.public())) {
            Ok(key) => describe_key_data(key.key_data(), ""),
            Err(_) => format!("`{}`", owner.keytype()),
        },
    }
}

/// An owner key's SHA-256 fingerprint as `ssh-keygen -l` prints it (`SHA256:<base64>`), or
/// `None` for a key that does not parse.
pub fn fingerprint(owner: &Owner) -> Option<String> {
    PublicKey::from_openssh(&format!("{} {}", owner.keytype(), owner.public()))
        .ok()
        .map(|key| key.key_data().fingerprint(HashAlg::Sha256).to_string())
}

/// `` `keytype` `comment` ``, or the SHA-256 fingerprint in place of an empty comment.
fn describe_key_data(key: &KeyData, comment: &str) -> String {
    let name = if comment.is_empty() {
        key.fingerprint(HashAlg::Sha256).to_string()
    } else {
        comment.to_owned()
    };
    format!("`{}` `{name}`", key.algorithm().as_str())
}

/// Helpers for the unit tests of the four parts.
#[cfg(test)]
mod testing {
    use ssh_key::private::{KeypairData, RsaKeypair};
    use ssh_key::rand_core::OsRng;
    use ssh_key::{Algorithm, PrivateKey};

    use super::SigningKey;

    pub(super) const NS: &str = "file";
    pub(super) const PAYLOAD: &str =
        r#"{"name":"aff","newLocation":{"githubOwner":"me","githubRepo":"purescript-aff"}}"#;

    /// The PureScript Registry's test vectors, or `None` without the shared fixtures.
    pub(super) fn vectors() -> Option<serde_json::Value> {
        let path = crate::testing::purescript_fixtures()?.join("vectors/ssh-signature.json");
        Some(serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap())
    }

    pub(super) fn text(v: &serde_json::Value) -> &str {
        v.as_str().unwrap()
    }

    pub(super) fn key(algorithm: Algorithm, comment: &str) -> SigningKey {
        let key = PrivateKey::random(&mut OsRng, algorithm).unwrap();
        let mut key = SigningKey { key };
        key.key.set_comment(comment);
        key
    }

    pub(super) fn rsa_key(comment: &str) -> SigningKey {
        let private = rsa::RsaPrivateKey::new(&mut OsRng, 2048).unwrap();
        let pair = RsaKeypair::try_from(&private).unwrap();
        SigningKey {
            key: PrivateKey::new(KeypairData::Rsa(pair), comment).unwrap(),
        }
    }

    /// `hex` with its last byte dropped, and with its last hex digit dropped.
    pub(super) fn truncations(hex: &str) -> [&str; 2] {
        [&hex[..hex.len() - 2], &hex[..hex.len() - 1]]
    }
}

#[cfg(test)]
mod tests {
    use ssh_key::{Algorithm, EcdsaCurve};

    use super::testing::*;
    use super::*;

    fn every_key_type() -> Vec<SigningKey> {
        vec![
            key(Algorithm::Ed25519, "ed@example.com"),
            key(
                Algorithm::Ecdsa {
                    curve: EcdsaCurve::NistP256,
                },
                "p256@example.com",
            ),
            key(
                Algorithm::Ecdsa {
                    curve: EcdsaCurve::NistP384,
                },
                "p384@example.com",
            ),
            key(
                Algorithm::Ecdsa {
                    curve: EcdsaCurve::NistP521,
                },
                "",
            ),
            rsa_key("rsa@example.com"),
        ]
    }

    #[test]
    fn every_key_type_round_trips_in_both_formats() {
        let keys = every_key_type();
        let owners: Vec<Owner> = keys.iter().map(SigningKey::public).collect();
        for (key, owner) in keys.iter().zip(&owners) {
            for format in [SignatureFormat::Raw, SignatureFormat::Sshsig] {
                let signature = key.sign(PAYLOAD, format, NS).unwrap();
                verify(PAYLOAD, &signature, owner, NS)
                    .unwrap_or_else(|e| panic!("{owner:?} {format:?}: {e}"));
                assert_eq!(verify_any(PAYLOAD, &signature, &owners, NS).unwrap(), owner);
                let changed = PAYLOAD.replace("aff", "aft");
                assert!(verify(&changed, &signature, owner, NS).is_err());
                let others: Vec<Owner> = owners.iter().filter(|o| *o != owner).cloned().collect();
                assert!(verify_any(PAYLOAD, &signature, &others, NS).is_err());
            }
            let raw = key.sign(PAYLOAD, SignatureFormat::Raw, NS).unwrap();
            for truncated in truncations(&raw) {
                assert!(verify(PAYLOAD, truncated, owner, NS).is_err());
            }
        }
    }
}
