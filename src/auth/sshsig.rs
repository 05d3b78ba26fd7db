//! The `SSH SIGNATURE` block `ssh-keygen -Y sign` writes: reading its armor, and making
//! one (ssh-key signs ed25519 and ECDSA; an RSA one is put together here).

use rsa::Pkcs1v15Sign;
use sha2::{Digest as _, Sha512};
use ssh_key::{Algorithm, HashAlg, SshSig};

use super::{AuthError, SigningKey};

pub(super) const SSHSIG_BEGIN: &str = "-----BEGIN SSH SIGNATURE-----";
pub(super) const SSHSIG_END: &str = "-----END SSH SIGNATURE-----";
/// The base64 line width of an `SSH SIGNATURE` block, as `ssh-keygen` writes it.
const SSHSIG_LINE: usize = 70;

/// An armored SSHSIG, with any whitespace and line breaks inside the armor.
pub(super) fn read_sshsig(text: &str) -> Result<SshSig, AuthError> {
    let bad = |reason: &str| AuthError::BadSshsig {
        reason: reason.to_owned(),
    };
    let body = text
        .strip_prefix(SSHSIG_BEGIN)
        .and_then(|rest| rest.strip_suffix(SSHSIG_END))
        .ok_or_else(|| bad(&format!("it does not end with `{SSHSIG_END}`")))?;
    let base64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    if !base64.is_ascii() {
        return Err(bad("it has characters that are not base64"));
    }
    let mut pem = format!("{SSHSIG_BEGIN}\n");
    for line in base64.as_bytes().chunks(SSHSIG_LINE) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str(SSHSIG_END);
    pem.push('\n');
    SshSig::from_pem(&pem).map_err(|e| bad(&e.to_string()))
}

impl SigningKey {
    /// ssh-key signs ed25519 and ECDSA; its RSA signing is broken (0.6.7), so an RSA SSHSIG
    /// is put together here: rsa-sha2-512 over the SSHSIG signed data.
    pub(super) fn sign_sshsig(&self, payload: &[u8], namespace: &str) -> Result<SshSig, AuthError> {
        let Some(key) = self.key.key_data().rsa() else {
            return self
                .key
                .sign(namespace, HashAlg::Sha512, payload)
                .map_err(|e| self.failed(e));
        };
        let data =
            SshSig::signed_data(namespace, HashAlg::Sha512, payload).map_err(|e| self.failed(e))?;
        let bytes = self
            .rsa_private(key)?
            .sign(Pkcs1v15Sign::new::<Sha512>(), &Sha512::digest(&data))
            .map_err(|e| self.failed(e))?;
        let algorithm = Algorithm::Rsa {
            hash: Some(HashAlg::Sha512),
        };
        let signature = ssh_key::Signature::new(algorithm, bytes).map_err(|e| self.failed(e))?;
        SshSig::new(
            self.key.public_key().key_data().clone(),
            namespace,
            HashAlg::Sha512,
            signature,
        )
        .map_err(|e| self.failed(e))
    }
}

#[cfg(test)]
mod tests {
    use ssh_key::Algorithm;

    use super::super::testing::*;
    use super::super::verify;
    use super::*;
    use crate::auth::SignatureFormat;

    #[test]
    fn an_sshsig_is_checked_in_its_namespace_only() {
        let key = key(Algorithm::Ed25519, "me@example.com");
        let signature = key.sign(PAYLOAD, SignatureFormat::Sshsig, "file").unwrap();
        assert!(signature.starts_with("-----BEGIN SSH SIGNATURE-----\n"));
        assert!(signature.ends_with("-----END SSH SIGNATURE-----\n"));
        assert!(!signature.contains('\r'));
        let e = verify(PAYLOAD, &signature, &key.public(), "other").unwrap_err();
        insta::assert_snapshot!(e, @"the `SSH SIGNATURE` is for the namespace `file`: expected `other` (sign with `ssh-keygen -Y sign -n other`)");
        assert!(matches!(
            key.sign(PAYLOAD, SignatureFormat::Sshsig, ""),
            Err(AuthError::EmptyNamespace)
        ));
        assert!(key.sign(PAYLOAD, SignatureFormat::Raw, "").is_ok());
    }

    #[test]
    fn whitespace_inside_the_sshsig_armor_is_tolerated() {
        let key = rsa_key("rsa@example.com");
        let signature = key.sign(PAYLOAD, SignatureFormat::Sshsig, NS).unwrap();
        let crlf = format!("\r\n  {}  \r\n", signature.replace('\n', "\r\n"));
        verify(PAYLOAD, &crlf, &key.public(), NS).unwrap();
        let body: String = signature
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        let rewrapped = format!("{SSHSIG_BEGIN}\n{body}\n{SSHSIG_END}");
        verify(PAYLOAD, &rewrapped, &key.public(), NS).unwrap();
        let spaced = format!("{SSHSIG_BEGIN} {} {SSHSIG_END}", body.replace('A', " A"));
        verify(PAYLOAD, &spaced, &key.public(), NS).unwrap();
    }
}
