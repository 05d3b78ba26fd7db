//! ECDSA private keys whose scalar OpenSSH wrote shorter than the curve's width. This file
//! exists only because ssh-key 0.6.7 refuses such keys ("length invalid"); delete it, and
//! its call in `SigningKey::from_openssh`, when ssh-key 0.7 lands (RustCrypto/SSH #351/#356).

use base64::Engine as _;
use ssh_key::PrivateKey;
use ssh_key::private::EcdsaKeypair;
use ssh_key::public::EcdsaPublicKey;

use super::AuthError;

/// An OpenSSH ECDSA private key whose scalar OpenSSH wrote shorter than the curve's width.
///
/// OpenSSH writes the private scalar as an mpint, which drops leading zero bytes; ssh-key
/// 0.6.7 reads it only at full width and refuses the key ("length invalid"). That is about
/// half of `ssh-keygen -t ecdsa -b 521` keys (the scalar's top byte is 0x00 or 0x01) and 1
/// in 256 P-256/P-384 keys. This reads such a key with the format's own rules and hands
/// ssh-key the scalar at full width. `None` when the text is not such a key (the caller
/// reports ssh-key's own error then).
pub(super) fn short_ecdsa_scalar(
    text: &str,
    passphrase: Option<&str>,
) -> Option<Result<PrivateKey, AuthError>> {
    let body: String = text
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .flat_map(|l| l.split_whitespace())
        .collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(body)
        .ok()?;
    let mut envelope = OpenSshReader(bytes.strip_prefix(b"openssh-key-v1\0")?);
    let cipher = envelope.string()?;
    let (_kdf, _kdf_options) = (envelope.string()?, envelope.string()?);
    if envelope.u32()? != 1 {
        return None;
    }
    let public = OpenSshReader(envelope.string()?).string()?;
    if !public.starts_with(b"ecdsa-sha2-") {
        return None;
    }
    let mut section = envelope.string()?.to_vec();
    let describe = || String::from_utf8_lossy(public).into_owned();
    if cipher != b"none" {
        let Some(passphrase) = passphrase else {
            return Some(Err(AuthError::PassphraseNeeded { key: describe() }));
        };
        // The envelope (not the private part) reads fine: ssh-key derives the key and
        // decrypts; a cipher with an authentication tag (aes256-gcm) is left to ssh-key.
        let encrypted = PrivateKey::from_openssh(text).ok()?;
        let (key, iv) = encrypted
            .kdf()
            .derive_key_and_iv(encrypted.cipher(), passphrase)
            .ok()?;
        encrypted
            .cipher()
            .decrypt(&key, &iv, &mut section, None)
            .ok()?;
    }
    let mut private = OpenSshReader(&section);
    if private.u32()? != private.u32()? {
        return Some(Err(AuthError::WrongPassphrase { key: describe() }));
    }
    let (_keytype, _curve) = (private.string()?, private.string()?);
    let point = private.string()?;
    let scalar = private.string()?;
    let comment = String::from_utf8_lossy(private.string()?).into_owned();
    let public = EcdsaPublicKey::from_sec1_bytes(point).ok()?;
    let keypair = ecdsa_keypair(public, scalar)?;
    Some(
        PrivateKey::new(keypair.into(), comment).map_err(|e| AuthError::BadPrivateKey {
            reason: e.to_string(),
        }),
    )
}

/// The keypair of `public` with `scalar` (an mpint's bytes) left-padded to the curve's
/// width; `None` when the scalar is too long or is not the private key of `public`.
fn ecdsa_keypair(public: EcdsaPublicKey, scalar: &[u8]) -> Option<EcdsaKeypair> {
    fn padded<const N: usize>(scalar: &[u8]) -> Option<[u8; N]> {
        let digits = &scalar[scalar.iter().take_while(|b| **b == 0).count()..];
        let mut out = [0u8; N];
        out.get_mut(N.checked_sub(digits.len())?..)?
            .copy_from_slice(digits);
        Some(out)
    }
    let keypair = match public {
        EcdsaPublicKey::NistP256(point) => {
            let secret = p256::SecretKey::from_bytes(&padded::<32>(scalar)?.into()).ok()?;
            EcdsaKeypair::NistP256 {
                public: point,
                private: secret.into(),
            }
        }
        EcdsaPublicKey::NistP384(point) => {
            let secret = p384::SecretKey::from_bytes(&padded::<48>(scalar)?.into()).ok()?;
            EcdsaKeypair::NistP384 {
                public: point,
                private: secret.into(),
            }
        }
        EcdsaPublicKey::NistP521(point) => {
            let bytes = padded::<66>(scalar)?;
            let secret = p521::SecretKey::from_bytes(p521::FieldBytes::from_slice(&bytes)).ok()?;
            EcdsaKeypair::NistP521 {
                public: point,
                private: secret.into(),
            }
        }
    };
    // The scalar must be the private key of the public point the file names.
    let derived = match &keypair {
        EcdsaKeypair::NistP256 { private, .. } => p256::SecretKey::from_slice(private.as_slice())
            .ok()?
            .public_key()
            .to_sec1_bytes()
            .to_vec(),
        EcdsaKeypair::NistP384 { private, .. } => p384::SecretKey::from_slice(private.as_slice())
            .ok()?
            .public_key()
            .to_sec1_bytes()
            .to_vec(),
        EcdsaKeypair::NistP521 { private, .. } => p521::SecretKey::from_slice(private.as_slice())
            .ok()?
            .public_key()
            .to_sec1_bytes()
            .to_vec(),
    };
    (derived == EcdsaPublicKey::from(&keypair).as_sec1_bytes()).then_some(keypair)
}

/// Reads the SSH wire encoding: big-endian `u32`s and length-prefixed strings.
struct OpenSshReader<'a>(&'a [u8]);

impl<'a> OpenSshReader<'a> {
    fn u32(&mut self) -> Option<u32> {
        let (head, rest) = self.0.split_first_chunk::<4>()?;
        self.0 = rest;
        Some(u32::from_be_bytes(*head))
    }

    fn string(&mut self) -> Option<&'a [u8]> {
        let len = usize::try_from(self.u32()?).ok()?;
        let (head, rest) = self.0.split_at_checked(len)?;
        self.0 = rest;
        Some(head)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::{SignatureFormat, SigningKey, verify};
    use super::*;

    /// The OpenSSH text `ssh-keygen` writes for an unencrypted ECDSA key: the scalar as an
    /// mpint (leading zero bytes dropped).
    fn openssh_ecdsa(curve: &str, point: &[u8], scalar: &[u8], comment: &str) -> String {
        fn string(out: &mut Vec<u8>, bytes: &[u8]) {
            out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
            out.extend_from_slice(bytes);
        }
        let keytype = format!("ecdsa-sha2-{curve}");
        let mut public = Vec::new();
        for part in [keytype.as_bytes(), curve.as_bytes(), point] {
            string(&mut public, part);
        }
        let mut mpint = scalar[scalar.iter().take_while(|b| **b == 0).count()..].to_vec();
        if mpint.first().is_some_and(|b| *b >= 0x80) {
            mpint.insert(0, 0);
        }
        let mut private = [7u8, 7, 7, 7, 7, 7, 7, 7].to_vec();
        for part in [
            keytype.as_bytes(),
            curve.as_bytes(),
            point,
            &mpint,
            comment.as_bytes(),
        ] {
            string(&mut private, part);
        }
        let mut pad = 1u8;
        while !private.len().is_multiple_of(8) {
            private.push(pad);
            pad += 1;
        }
        let mut out = b"openssh-key-v1\0".to_vec();
        for part in [&b"none"[..], b"none", b""] {
            string(&mut out, part);
        }
        out.extend_from_slice(&1u32.to_be_bytes());
        string(&mut out, &public);
        string(&mut out, &private);
        let body = base64::engine::general_purpose::STANDARD.encode(out);
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(70)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "-----BEGIN OPENSSH PRIVATE KEY-----\n{}\n-----END OPENSSH PRIVATE KEY-----\n",
            lines.join("\n")
        )
    }

    #[test]
    fn ecdsa_keys_whose_scalar_openssh_wrote_short_load_and_sign() {
        // P-521 with the scalar's top two bytes zero, and P-256 with its top byte zero: the
        // mpint is 64 and 31 bytes long, not 66 and 32.
        let mut d521 = [0x5au8; 66];
        d521[..2].copy_from_slice(&[0, 0]);
        let s521 = p521::SecretKey::from_bytes(p521::FieldBytes::from_slice(&d521)).unwrap();
        let mut d256 = [0x35u8; 32];
        d256[0] = 0;
        let s256 = p256::SecretKey::from_bytes(&d256.into()).unwrap();
        let cases = [
            (
                "nistp521",
                s521.public_key().to_sec1_bytes().to_vec(),
                d521.to_vec(),
            ),
            (
                "nistp256",
                s256.public_key().to_sec1_bytes().to_vec(),
                d256.to_vec(),
            ),
        ];
        for (curve, point, scalar) in cases {
            let text = openssh_ecdsa(curve, &point, &scalar, "short@example.com");
            assert!(
                PrivateKey::from_openssh(&text).is_err(),
                "ssh-key reads short scalars now: `short_ecdsa_scalar` can go"
            );
            let key = SigningKey::from_openssh(&text, None).unwrap();
            assert_eq!(key.public().id(), Some("short@example.com"));
            for format in [SignatureFormat::Raw, SignatureFormat::Sshsig] {
                let signature = key.sign(PAYLOAD, format, NS).unwrap();
                verify(PAYLOAD, &signature, &key.public(), NS).unwrap();
            }
            // OpenSSH itself reads the same text as the same key.
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("key");
            std::fs::write(&file, &text).unwrap();
            std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o600))
                .unwrap();
            match std::process::Command::new("ssh-keygen")
                .arg("-y")
                .arg("-f")
                .arg(&file)
                .output()
            {
                Ok(out) => {
                    let line = String::from_utf8(out.stdout).unwrap();
                    assert!(line.contains(key.public().public()), "{line}");
                }
                Err(e) => crate::testing::skip(&format!("ssh-keygen cannot run ({e})")),
            }
            // A scalar that is not the private key of the point is refused.
            let mut wrong = scalar.clone();
            *wrong.last_mut().unwrap() ^= 1;
            let text = openssh_ecdsa(curve, &point, &wrong, "");
            assert!(SigningKey::from_openssh(&text, None).is_err());
        }
    }
}
