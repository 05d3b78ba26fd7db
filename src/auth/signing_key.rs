//! [`SigningKey`]: an OpenSSH private key (passphrase-protected too) that signs payloads in
//! either format.

use std::fmt;
use std::path::Path;

use base64::Engine as _;
use rsa::{BigUint, Pkcs1v15Sign};
use sha1::{Digest as _, Sha1};
use signature::Signer as _;
use ssh_key::private::{EcdsaKeypair, KeypairData, RsaKeypair};
use ssh_key::{LineEnding, PrivateKey};

use super::openssh_ecdsa::short_ecdsa_scalar;
use super::{AuthError, SUPPORTED, SignatureFormat, describe_key_data, pem_label};
use crate::schema::Owner;

/// An OpenSSH private key to sign with, decrypted. Its `Debug` shows only the public half.
pub struct SigningKey {
    pub(super) key: PrivateKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("public", &self.describe())
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Read an OpenSSH private key (`-----BEGIN OPENSSH PRIVATE KEY-----`), decrypting it
    /// with `passphrase` if it is protected.
    pub fn from_openssh(pem: &str, passphrase: Option<&str>) -> Result<SigningKey, AuthError> {
        let text = format!("{}\n", pem.trim().replace("\r\n", "\n"));
        let key = match PrivateKey::from_openssh(&text) {
            Ok(key) => key,
            Err(e) => match short_ecdsa_scalar(&text, passphrase) {
                Some(read) => return read.map(|key| SigningKey { key }),
                None => {
                    return Err(AuthError::BadPrivateKey {
                        reason: not_openssh(&text, &e),
                    });
                }
            },
        };
        let keytype = key.algorithm();
        if !SUPPORTED.contains(&keytype.as_str()) {
            return Err(AuthError::UnsupportedKeyType {
                keytype: keytype.as_str().to_owned(),
            });
        }
        if !key.is_encrypted() {
            return Ok(SigningKey { key });
        }
        let describe = || describe_key_data(key.public_key().key_data(), "");
        let Some(passphrase) = passphrase else {
            return Err(AuthError::PassphraseNeeded { key: describe() });
        };
        match key.decrypt(passphrase) {
            Ok(key) => Ok(SigningKey { key }),
            Err(ssh_key::Error::Crypto) => Err(AuthError::WrongPassphrase { key: describe() }),
            Err(e) => match short_ecdsa_scalar(&text, Some(passphrase)) {
                Some(read) => read.map(|key| SigningKey { key }),
                None => Err(AuthError::Decrypt {
                    key: describe(),
                    reason: e.to_string(),
                }),
            },
        }
    }

    /// [`SigningKey::from_openssh`] of the file at `path`; errors name the path.
    pub fn read(path: &Path, passphrase: Option<&str>) -> Result<SigningKey, AuthError> {
        let text = std::fs::read_to_string(path).map_err(|source| AuthError::ReadKey {
            path: path.to_path_buf(),
            source,
        })?;
        SigningKey::from_openssh(&text, passphrase).map_err(|e| AuthError::KeyFile {
            path: path.to_path_buf(),
            source: Box::new(e),
        })
    }

    /// The public key as an owner: keytype, base64 and the key's comment as `id` (none when
    /// the comment is empty).
    pub fn public(&self) -> Owner {
        let public = self.key.public_key();
        let blob = public
            .to_bytes()
            .expect("a decoded public key encodes again");
        let base64 = base64::engine::general_purpose::STANDARD.encode(blob);
        let comment = public.comment();
        Owner::new(
            (!comment.is_empty()).then_some(comment),
            public.algorithm().as_str(),
            &base64,
        )
        .expect("a key type and base64 have no spaces")
    }

    /// Sign exactly the UTF-8 bytes of `payload`. `Raw` gives lowercase hex; `Sshsig` the
    /// armored block with `\n` line endings, in `namespace` (unused by `Raw`).
    pub fn sign(
        &self,
        payload: &str,
        format: SignatureFormat,
        namespace: &str,
    ) -> Result<String, AuthError> {
        match format {
            SignatureFormat::Raw => self.sign_raw(payload.as_bytes()).map(hex::encode),
            SignatureFormat::Sshsig => {
                if namespace.is_empty() {
                    return Err(AuthError::EmptyNamespace);
                }
                let sshsig = self.sign_sshsig(payload.as_bytes(), namespace)?;
                sshsig.to_pem(LineEnding::LF).map_err(|e| self.failed(e))
            }
        }
    }

    fn sign_raw(&self, payload: &[u8]) -> Result<Vec<u8>, AuthError> {
        match self.key.key_data() {
            KeypairData::Ed25519(key) => {
                let signature: ssh_key::Signature =
                    key.try_sign(payload).map_err(|e| self.failed(e))?;
                Ok(signature.as_bytes().to_vec())
            }
            KeypairData::Ecdsa(EcdsaKeypair::NistP256 { private, .. }) => {
                let key = p256::ecdsa::SigningKey::from_slice(private.as_slice())
                    .map_err(|e| self.failed(e))?;
                let signature: p256::ecdsa::Signature =
                    key.try_sign(payload).map_err(|e| self.failed(e))?;
                Ok(signature.to_der().as_bytes().to_vec())
            }
            KeypairData::Ecdsa(EcdsaKeypair::NistP384 { private, .. }) => {
                let key = p384::ecdsa::SigningKey::from_slice(private.as_slice())
                    .map_err(|e| self.failed(e))?;
                let signature: p384::ecdsa::Signature =
                    key.try_sign(payload).map_err(|e| self.failed(e))?;
                Ok(signature.to_der().as_bytes().to_vec())
            }
            KeypairData::Ecdsa(EcdsaKeypair::NistP521 { private, .. }) => {
                let key = p521::ecdsa::SigningKey::from_slice(private.as_slice())
                    .map_err(|e| self.failed(e))?;
                let signature: p521::ecdsa::Signature =
                    key.try_sign(payload).map_err(|e| self.failed(e))?;
                Ok(signature.to_der().as_bytes().to_vec())
            }
            KeypairData::Rsa(key) => self
                .rsa_private(key)?
                .sign(Pkcs1v15Sign::new::<Sha1>(), &Sha1::digest(payload))
                .map_err(|e| self.failed(e)),
            _ => Err(AuthError::UnsupportedKeyType {
                keytype: self.key.algorithm().as_str().to_owned(),
            }),
        }
    }

    pub(super) fn rsa_private(&self, key: &RsaKeypair) -> Result<rsa::RsaPrivateKey, AuthError> {
        let big = |m: &ssh_key::Mpint| BigUint::try_from(m).map_err(|e| self.failed(e));
        let primes = vec![big(&key.private.p)?, big(&key.private.q)?];
        rsa::RsaPrivateKey::from_components(
            big(&key.public.n)?,
            big(&key.public.e)?,
            big(&key.private.d)?,
            primes,
        )
        .map_err(|e| self.failed(e))
    }

    pub(super) fn failed(&self, reason: impl fmt::Display) -> AuthError {
        AuthError::Sign {
            key: self.describe(),
            reason: reason.to_string(),
        }
    }

    fn describe(&self) -> String {
        let public = self.key.public_key();
        describe_key_data(public.key_data(), public.comment())
    }
}

/// Why `text` is not an OpenSSH private key, with the way out when it is another kind of key.
fn not_openssh(text: &str, error: &ssh_key::Error) -> String {
    match pem_label(text) {
        _ if text.starts_with("ssh-") || text.starts_with("ecdsa-") => {
            "it is a public key: expected the private key (the file without `.pub`)".to_owned()
        }
        Some(label) if label != "OPENSSH PRIVATE KEY" => format!(
            "it is a `{label}` block: `ssh-keygen -p -f KEY` rewrites a key in the OpenSSH format"
        ),
        _ => format!(
            "{error}: expected the `-----BEGIN OPENSSH PRIVATE KEY-----` text `ssh-keygen` writes"
        ),
    }
}

#[cfg(test)]
mod tests {
    use ssh_key::Algorithm;

    use super::super::testing::*;
    use super::super::verify;
    use super::*;

    #[test]
    fn a_damaged_key_header_never_puts_key_text_in_the_message() {
        let pem = crate::testing::seeded_key(3);
        let body: Vec<&str> = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        for damaged in [
            pem.replacen("PRIVATE KEY-----", "PRIVATE KEY----", 1),
            pem.replacen("-----BEGIN OPENSSH PRIVATE KEY-----\n", "-----BEGIN ", 1),
            pem.replace("-----END OPENSSH PRIVATE KEY-----", ""),
        ] {
            let e = SigningKey::from_openssh(&damaged, None).unwrap_err();
            let message = format!("{e} {e:?}");
            for line in &body {
                assert!(!message.contains(line), "key text in {message}");
            }
        }
        assert_eq!(
            pem_label("-----BEGIN RSA PRIVATE KEY-----\nabc"),
            Some("RSA PRIVATE KEY")
        );
        assert_eq!(pem_label("-----BEGIN abc+/=\nx-----"), None);
    }

    #[test]
    fn signing_with_the_vector_ed25519_key_gives_the_vector_signature() {
        let Some(v) = vectors() else { return };
        let v = &v["ed25519"];
        let key = SigningKey::from_openssh(text(&v["private_openssh"]), None).unwrap();
        let signed = key
            .sign(text(&v["payload"]), SignatureFormat::Raw, NS)
            .unwrap();
        assert_eq!(signed, text(&v["signature_hex"]));
        let public = Owner::from_openssh(text(&v["public"])).unwrap();
        assert_eq!(key.public(), public);
    }

    #[test]
    fn the_passphrase_protected_rsa_vector_key() {
        let Some(v) = vectors() else { return };
        let v = &v["rsa_encrypted"];
        let pem = text(&v["private_openssh"]);
        let key = SigningKey::from_openssh(pem, Some(text(&v["passphrase"]))).unwrap();
        let public = Owner::from_openssh(text(&v["public"])).unwrap();
        assert_eq!(
            (key.public().keytype(), key.public().public()),
            (public.keytype(), public.public())
        );
        assert_eq!(key.public().id(), Some("your_email@example.com"));
        for format in [SignatureFormat::Raw, SignatureFormat::Sshsig] {
            let signature = key.sign(PAYLOAD, format, NS).unwrap();
            verify(PAYLOAD, &signature, &public, NS).unwrap();
            assert!(verify("{}", &signature, &public, NS).is_err());
        }
        let raw = key.sign(PAYLOAD, SignatureFormat::Raw, NS).unwrap();
        assert_eq!(raw.len(), 2 * 512, "a 4096-bit key signs 512 bytes");

        let missing = SigningKey::from_openssh(pem, None).unwrap_err();
        assert!(matches!(missing, AuthError::PassphraseNeeded { .. }));
        insta::assert_snapshot!(missing, @"the key `ssh-rsa` `SHA256:+oSGRvCEbnY4PTO5B6Knl49M1Grs0hbH108XLJQqpXk` is passphrase-protected: give its passphrase (`regis sign --passphrase-env VAR` reads it from the environment variable `VAR`)");
        let wrong = SigningKey::from_openssh(pem, Some("abc124")).unwrap_err();
        assert!(matches!(wrong, AuthError::WrongPassphrase { .. }));
        insta::assert_snapshot!(wrong, @"the passphrase does not decrypt the key `ssh-rsa` `SHA256:+oSGRvCEbnY4PTO5B6Knl49M1Grs0hbH108XLJQqpXk`: expected the passphrase it was saved with");
    }

    #[test]
    fn private_keys_that_cannot_be_used() {
        let e = |pem: &str| SigningKey::from_openssh(pem, None).unwrap_err().to_string();
        let public = key(Algorithm::Ed25519, "me")
            .key
            .public_key()
            .to_openssh()
            .unwrap();
        insta::assert_snapshot!(e(&public), @"not an OpenSSH private key: it is a public key: expected the private key (the file without `.pub`)");
        insta::assert_snapshot!(e("hello"), @"not an OpenSSH private key: PEM preamble contains invalid data (NUL byte): expected the `-----BEGIN OPENSSH PRIVATE KEY-----` text `ssh-keygen` writes");
        insta::assert_snapshot!(e("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n"), @"not an OpenSSH private key: it is a `RSA PRIVATE KEY` block: `ssh-keygen -p -f KEY` rewrites a key in the OpenSSH format");
        assert!(
            e("hello").starts_with("not an OpenSSH private key: ")
                && e("hello").ends_with(
                    ": expected the `-----BEGIN OPENSSH PRIVATE KEY-----` text `ssh-keygen` writes"
                )
        );
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("id_ed25519");
        let e = crate::error_chain(&SigningKey::read(&missing, None).unwrap_err());
        assert!(
            e.starts_with(&format!(
                "could not read the private key `{}`: ",
                missing.display()
            )),
            "{e}"
        );
        let dir_text = dir.path().display().to_string();
        std::fs::write(&missing, &public).unwrap();
        let not_private = crate::error_chain(&SigningKey::read(&missing, None).unwrap_err());
        let lines = [
            e.replace(&dir_text, "<dir>"),
            not_private.replace(&dir_text, "<dir>"),
            crate::error_chain(
                &key(Algorithm::Ed25519, "me")
                    .sign("{}", SignatureFormat::Sshsig, "")
                    .unwrap_err(),
            ),
        ];
        insta::assert_snapshot!(lines.join("\n"), @r"
            could not read the private key `<dir>/id_ed25519`: No such file or directory (os error 2)
            could not use the private key `<dir>/id_ed25519`: not an OpenSSH private key: it is a public key: expected the private key (the file without `.pub`)
            the namespace is empty: expected a word such as `file`
            ");
    }

    #[test]
    fn an_openssh_key_reads_back_from_text_with_crlf_and_debug_hides_it() {
        let key = key(Algorithm::Ed25519, "me@example.com");
        let pem = key.key.to_openssh(LineEnding::CRLF).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("id");
        std::fs::write(&path, pem.as_bytes()).unwrap();
        let read = SigningKey::read(&path, Some("ignored: the key is not protected")).unwrap();
        assert_eq!(read.public(), key.public());
        let debug = format!("{read:?}");
        assert_eq!(
            debug,
            "SigningKey { public: \"`ssh-ed25519` `me@example.com`\", .. }"
        );
        let secret = hex::encode(key.key.key_data().ed25519().unwrap().private.to_bytes());
        assert!(!debug.contains(&secret));
    }
}
