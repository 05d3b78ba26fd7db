//! Checking a signature: [`verify`] and [`verify_any`] against owners' public keys, in
//! either format (raw hex or an `SSH SIGNATURE` block).

use std::fmt;

use rsa::{BigUint, Pkcs1v15Sign};
use sha1::{Digest as _, Sha1};
use signature::Verifier as _;
use ssh_key::public::{EcdsaPublicKey, KeyData};
use ssh_key::{Algorithm, PublicKey, SshSig};

use super::sshsig::{SSHSIG_BEGIN, read_sshsig};
use super::{AuthError, SUPPORTED, describe_key_data, describe_owner, pem_label};
use crate::schema::Owner;

/// The largest RSA key accepted, in bits: the largest `ssh-keygen` makes.
const MAX_RSA_BITS: usize = 16384;

/// Verify `signature` over exactly the UTF-8 bytes of `payload` with one key.
pub fn verify(
    payload: &str,
    signature: &str,
    key: &Owner,
    namespace: &str,
) -> Result<(), AuthError> {
    let signature = Parsed::read(signature, namespace)?;
    let public = owner_key(key)?;
    if signature.matches(payload.as_bytes(), &public) {
        return Ok(());
    }
    Err(AuthError::Mismatch {
        key: describe_owner(key),
        hints: joined(signature.hints(&[public])),
    })
}

/// The first of `keys` whose signature check passes; else an error saying why none did
/// (how many keys were tried, and e.g. that the signature is an ed25519 one but no key is
/// ed25519).
pub fn verify_any<'k>(
    payload: &str,
    signature: &str,
    keys: &'k [Owner],
    namespace: &str,
) -> Result<&'k Owner, AuthError> {
    let signature = Parsed::read(signature, namespace)?;
    if keys.is_empty() {
        return Err(AuthError::NoKeys);
    }
    let mut usable = Vec::new();
    let mut unusable = Vec::new();
    for owner in keys {
        match owner_key(owner) {
            Ok(public) if signature.matches(payload.as_bytes(), &public) => return Ok(owner),
            Ok(public) => usable.push(public),
            Err(e) => unusable.push(e.to_string()),
        }
    }
    let mut hints = signature.hints(&usable);
    hints.append(&mut unusable);
    Err(AuthError::NoKeyMatched {
        count: keys.len(),
        keys: keys
            .iter()
            .map(describe_owner)
            .collect::<Vec<_>>()
            .join(", "),
        hints: joined(hints),
    })
}

/// `: a; b`, or nothing.
fn joined(hints: Vec<String>) -> String {
    if hints.is_empty() {
        String::new()
    } else {
        format!(": {}", hints.join("; "))
    }
}

/// A signature as read: raw bytes, or an SSHSIG whose namespace is the expected one.
enum Parsed {
    Raw(Vec<u8>),
    Sshsig(Box<SshSig>),
}

/// What kind of key a raw signature was made with, from its shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Ed25519,
    Ecdsa,
    Rsa,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Ed25519 => "ed25519",
            Kind::Ecdsa => "ECDSA",
            Kind::Rsa => "RSA",
        })
    }
}

impl Kind {
    /// The shortest RSA signature: a 1024-bit key's.
    const MIN_RSA_BYTES: usize = 128;

    fn of_signature(bytes: &[u8]) -> Option<Kind> {
        if is_der_sequence(bytes) {
            Some(Kind::Ecdsa)
        } else if bytes.len() == 64 {
            Some(Kind::Ed25519)
        } else if bytes.len() >= Kind::MIN_RSA_BYTES {
            Some(Kind::Rsa)
        } else {
            None
        }
    }

    fn of_key(key: &KeyData) -> Option<Kind> {
        match key {
            KeyData::Ed25519(_) => Some(Kind::Ed25519),
            KeyData::Ecdsa(_) => Some(Kind::Ecdsa),
            KeyData::Rsa(_) => Some(Kind::Rsa),
            _ => None,
        }
    }
}

/// A DER `SEQUENCE` header whose length is the rest of the bytes, as an ECDSA signature is.
fn is_der_sequence(bytes: &[u8]) -> bool {
    match bytes {
        [0x30, 0x81, len, rest @ ..] => usize::from(*len) == rest.len() && rest.len() >= 0x80,
        [0x30, len, rest @ ..] => *len < 0x80 && usize::from(*len) == rest.len(),
        _ => false,
    }
}

impl Parsed {
    fn read(signature: &str, namespace: &str) -> Result<Parsed, AuthError> {
        let text = signature.trim();
        if text.is_empty() {
            return Err(AuthError::EmptySignature);
        }
        if text.starts_with(SSHSIG_BEGIN) {
            let sshsig = read_sshsig(text)?;
            if sshsig.namespace() != namespace {
                return Err(AuthError::WrongNamespace {
                    found: sshsig.namespace().to_owned(),
                    expected: namespace.to_owned(),
                });
            }
            return Ok(Parsed::Sshsig(Box::new(sshsig)));
        }
        read_hex(text).map(Parsed::Raw)
    }

    fn matches(&self, payload: &[u8], key: &PublicKey) -> bool {
        match self {
            Parsed::Sshsig(sshsig) => key.verify(sshsig.namespace(), payload, sshsig).is_ok(),
            Parsed::Raw(bytes) => raw_matches(payload, bytes, key.key_data()),
        }
    }

    /// Why the signature may match none of `keys`, when its shape tells.
    fn hints(&self, keys: &[PublicKey]) -> Vec<String> {
        match self {
            Parsed::Sshsig(sshsig) => {
                if keys.iter().any(|k| k.key_data() == sshsig.public_key()) {
                    Vec::new()
                } else {
                    vec![format!(
                        "the `SSH SIGNATURE` was made with another key, {}",
                        describe_key_data(sshsig.public_key(), "")
                    )]
                }
            }
            Parsed::Raw(bytes) => raw_hints(bytes, keys).into_iter().collect(),
        }
    }
}

fn raw_hints(bytes: &[u8], keys: &[PublicKey]) -> Option<String> {
    let n = bytes.len();
    let Some(kind) = Kind::of_signature(bytes) else {
        return Some(format!(
            "the signature is {n} bytes long, which fits no supported key type (ed25519: 64 bytes, ECDSA: a DER sequence, RSA: as long as the key)"
        ));
    };
    let sizes: Vec<usize> = keys
        .iter()
        .filter_map(|k| match k.key_data() {
            KeyData::Rsa(rsa) => rsa_public(rsa).map(|k| rsa::traits::PublicKeyParts::size(&k)),
            _ => None,
        })
        .collect();
    if !keys
        .iter()
        .any(|k| Kind::of_key(k.key_data()) == Some(kind))
    {
        Some(format!(
            "the signature is an {kind} one but no key tried is {kind}"
        ))
    } else if kind == Kind::Rsa && !sizes.contains(&n) {
        let sizes: Vec<String> = sizes.iter().map(usize::to_string).collect();
        Some(format!(
            "the signature is {n} bytes long: expected {} bytes, as long as the RSA key",
            sizes.join(" or ")
        ))
    } else {
        None
    }
}

fn raw_matches(payload: &[u8], signature: &[u8], key: &KeyData) -> bool {
    match key {
        KeyData::Ed25519(_) => ssh_key::Signature::new(Algorithm::Ed25519, signature)
            .is_ok_and(|s| key.verify(payload, &s).is_ok()),
        KeyData::Rsa(rsa) => rsa_public(rsa).is_some_and(|k| {
            k.verify(
                Pkcs1v15Sign::new::<Sha1>(),
                &Sha1::digest(payload),
                signature,
            )
            .is_ok()
        }),
        KeyData::Ecdsa(EcdsaPublicKey::NistP256(point)) => {
            let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(point.as_bytes());
            let sig = p256::ecdsa::Signature::from_der(signature);
            matches!((key, sig), (Ok(k), Ok(s)) if k.verify(payload, &s).is_ok())
        }
        KeyData::Ecdsa(EcdsaPublicKey::NistP384(point)) => {
            let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(point.as_bytes());
            let sig = p384::ecdsa::Signature::from_der(signature);
            matches!((key, sig), (Ok(k), Ok(s)) if k.verify(payload, &s).is_ok())
        }
        KeyData::Ecdsa(EcdsaPublicKey::NistP521(point)) => {
            let key = p521::ecdsa::VerifyingKey::from_sec1_bytes(point.as_bytes());
            let sig = p521::ecdsa::Signature::from_der(signature);
            matches!((key, sig), (Ok(k), Ok(s)) if k.verify(payload, &s).is_ok())
        }
        _ => false,
    }
}

fn rsa_public(key: &ssh_key::public::RsaPublicKey) -> Option<rsa::RsaPublicKey> {
    let n = BigUint::try_from(&key.n).ok()?;
    let e = BigUint::try_from(&key.e).ok()?;
    rsa::RsaPublicKey::new_with_max_size(n, e, MAX_RSA_BITS).ok()
}

fn read_hex(text: &str) -> Result<Vec<u8>, AuthError> {
    let not = |reason: String| AuthError::NotASignature { reason };
    if let Some(label) = pem_label(text) {
        return Err(not(format!("it is a `{label}` block")));
    }
    if let Some((at, c)) = text.char_indices().find(|(_, c)| !c.is_ascii_hexdigit()) {
        return Err(not(format!("`{c}` at byte {at} is not a hex digit")));
    }
    if text.len() % 2 == 1 {
        return Err(not(format!(
            "it has an odd number of hex digits ({}): expected two per byte",
            text.len()
        )));
    }
    hex::decode(text).map_err(|e| not(e.to_string()))
}

fn owner_key(owner: &Owner) -> Result<PublicKey, AuthError> {
    if !SUPPORTED.contains(&owner.keytype()) {
        return Err(AuthError::UnsupportedKeyType {
            keytype: owner.keytype().to_owned(),
        });
    }
    PublicKey::from_openssh(&format!("{} {}", owner.keytype(), owner.public())).map_err(|e| {
        AuthError::BadKey {
            key: describe_owner(owner),
            reason: match e {
                ssh_key::Error::AlgorithmUnknown => {
                    "`public` holds a key of another type than `keytype`".to_owned()
                }
                e => format!("{e}: expected the base64 of an OpenSSH public key in `public`"),
            },
        }
    })
}

#[cfg(test)]
mod tests {
    use ssh_key::{Algorithm, EcdsaCurve};

    use super::super::testing::*;
    use super::super::{SignatureFormat, SigningKey};
    use super::*;

    #[test]
    fn the_registry_ed25519_vector_verifies_and_nothing_else_does() {
        let Some(v) = vectors() else { return };
        let v = &v["ed25519"];
        let (payload, signature) = (text(&v["payload"]), text(&v["signature_hex"]));
        let owner = Owner::from_openssh(text(&v["public"])).unwrap();
        verify(payload, signature, &owner, NS).unwrap();
        verify(payload, &signature.to_uppercase(), &owner, NS).unwrap();

        let changed = payload.replacen("node-os", "node-oz", 1);
        assert!(verify(&changed, signature, &owner, NS).is_err());
        let rsa =
            Owner::from_openssh(text(&vectors().unwrap()["rsa_encrypted"]["public"])).unwrap();
        assert!(verify(payload, signature, &rsa, NS).is_err());
        let other = key(Algorithm::Ed25519, "other").public();
        assert!(verify(payload, signature, &other, NS).is_err());
        for truncated in truncations(signature) {
            assert!(
                verify(payload, truncated, &owner, NS).is_err(),
                "{truncated}"
            );
        }
        assert_eq!(
            verify_any(payload, signature, &[rsa, other, owner.clone()], NS).unwrap(),
            &owner
        );
    }

    #[test]
    fn failures_say_why() {
        let ed = key(Algorithm::Ed25519, "me@example.com");
        let p256 = key(
            Algorithm::Ecdsa {
                curve: EcdsaCurve::NistP256,
            },
            "ci@example.com",
        );
        let owners = [ed.public(), p256.public()];
        let e = |signature: &str| verify_any(PAYLOAD, signature, &owners, NS).unwrap_err();

        let other = key(Algorithm::Ed25519, "")
            .sign(PAYLOAD, SignatureFormat::Raw, NS)
            .unwrap();
        insta::assert_snapshot!(e(&other), @"the signature does not match the payload for any of the 2 keys tried (`ssh-ed25519` `me@example.com`, `ecdsa-sha2-nistp256` `ci@example.com`): the payload must be signed exactly as given, with an owner's key");

        let only_p256 = [p256.public()];
        let e = verify_any(PAYLOAD, &other, &only_p256, NS).unwrap_err();
        insta::assert_snapshot!(e, @"the signature does not match the payload for the 1 key tried (`ecdsa-sha2-nistp256` `ci@example.com`): the signature is an ed25519 one but no key tried is ed25519: the payload must be signed exactly as given, with an owner's key");
        let e = verify(PAYLOAD, &other, &p256.public(), NS).unwrap_err();
        insta::assert_snapshot!(e, @"the signature does not match the payload with the key `ecdsa-sha2-nistp256` `ci@example.com`: the signature is an ed25519 one but no key tried is ed25519: the payload must be signed exactly as given, with this key");

        let signed = ed.sign(PAYLOAD, SignatureFormat::Raw, NS).unwrap();
        insta::assert_snapshot!(verify_any(PAYLOAD, &signed[..126], &owners, NS).unwrap_err(), @"the signature does not match the payload for any of the 2 keys tried (`ssh-ed25519` `me@example.com`, `ecdsa-sha2-nistp256` `ci@example.com`): the signature is 63 bytes long, which fits no supported key type (ed25519: 64 bytes, ECDSA: a DER sequence, RSA: as long as the key): the payload must be signed exactly as given, with an owner's key");

        let unsupported = Owner::new(Some("old"), "ssh-dss", "AAAAB3NzaC1kc3MAAACBAP").unwrap();
        let mixed = [unsupported.clone(), p256.public()];
        insta::assert_snapshot!(verify_any(PAYLOAD, &signed, &mixed, NS).unwrap_err(), @"the signature does not match the payload for any of the 2 keys tried (`ssh-dss` `old`, `ecdsa-sha2-nistp256` `ci@example.com`): the signature is an ed25519 one but no key tried is ed25519; `ssh-dss` keys are not supported: expected one of `ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`, `ecdsa-sha2-nistp384`, `ecdsa-sha2-nistp521`: the payload must be signed exactly as given, with an owner's key");
        insta::assert_snapshot!(verify(PAYLOAD, &signed, &unsupported, NS).unwrap_err(), @"`ssh-dss` keys are not supported: expected one of `ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`, `ecdsa-sha2-nistp384`, `ecdsa-sha2-nistp521`");

        let sshsig = key(Algorithm::Ed25519, "")
            .sign(PAYLOAD, SignatureFormat::Sshsig, NS)
            .unwrap();
        let e = verify_any(PAYLOAD, &sshsig, &owners, NS)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(": the `SSH SIGNATURE` was made with another key, `ssh-ed25519` `SHA256:"),
            "{e}"
        );
    }

    /// A key made from a fixed seed, so that its fingerprint is the same on every run.
    fn seeded(seed: u8) -> SigningKey {
        SigningKey::from_openssh(&crate::testing::seeded_key(seed), None).unwrap()
    }

    /// Every refusal of a signature or an owner key, with its full text.
    #[test]
    fn refusals_in_full() {
        let owner = seeded(1).public();
        let other = seeded(2);
        let sshsig = other.sign(PAYLOAD, SignatureFormat::Sshsig, NS).unwrap();
        let raw = other.sign(PAYLOAD, SignatureFormat::Raw, NS).unwrap();
        let wrong_type = Owner::new(Some("me"), "ssh-rsa", owner.public()).unwrap();
        let garbage = Owner::new(Some("me"), "ssh-ed25519", "AAAA").unwrap();
        let cases: [(&str, Result<&Owner, AuthError>); 8] = [
            (
                "a block without its end",
                verify(
                    PAYLOAD,
                    "-----BEGIN SSH SIGNATURE-----\nU1NIU0lHAAAAAQ\n",
                    &owner,
                    NS,
                )
                .map(|()| &owner),
            ),
            (
                "a block with characters that are not base64",
                verify(
                    PAYLOAD,
                    "-----BEGIN SSH SIGNATURE-----\nU1NIU0l€\n-----END SSH SIGNATURE-----",
                    &owner,
                    NS,
                )
                .map(|()| &owner),
            ),
            (
                "a block that does not decode",
                verify(
                    PAYLOAD,
                    "-----BEGIN SSH SIGNATURE-----\nU1NIU0lHAAAAAQ==\n-----END SSH SIGNATURE-----",
                    &owner,
                    NS,
                )
                .map(|()| &owner),
            ),
            (
                "a block made with another key",
                verify(PAYLOAD, &sshsig, &owner, NS).map(|()| &owner),
            ),
            (
                "a raw signature by another key",
                verify(PAYLOAD, &raw, &owner, NS).map(|()| &owner),
            ),
            (
                "an owner key of another type",
                verify(PAYLOAD, &raw, &wrong_type, NS).map(|()| &owner),
            ),
            (
                "an owner key that does not decode",
                verify(PAYLOAD, &raw, &garbage, NS).map(|()| &owner),
            ),
            ("no keys", verify_any(PAYLOAD, &raw, &[], NS)),
        ];
        let lines: Vec<String> = cases
            .into_iter()
            .map(|(case, result)| format!("{case} → {}", crate::error_chain(&result.unwrap_err())))
            .collect();
        insta::assert_snapshot!(lines.join("\n"), @r"
            a block without its end → the `SSH SIGNATURE` block cannot be read: it does not end with `-----END SSH SIGNATURE-----`: expected the block `ssh-keygen -Y sign` writes, from `-----BEGIN SSH SIGNATURE-----` to `-----END SSH SIGNATURE-----`
            a block with characters that are not base64 → the `SSH SIGNATURE` block cannot be read: it has characters that are not base64: expected the block `ssh-keygen -Y sign` writes, from `-----BEGIN SSH SIGNATURE-----` to `-----END SSH SIGNATURE-----`
            a block that does not decode → the `SSH SIGNATURE` block cannot be read: PEM Base64 error: invalid Base64 length: expected the block `ssh-keygen -Y sign` writes, from `-----BEGIN SSH SIGNATURE-----` to `-----END SSH SIGNATURE-----`
            a block made with another key → the signature does not match the payload with the key `ssh-ed25519` `SHA256:fe85JkIjo8VPe+XqXJGH5Mau1EMFdK1OdKvJUFicyA8`: the `SSH SIGNATURE` was made with another key, `ssh-ed25519` `SHA256:4A9jyZBOhnKZvcGQ6TRFbf5Gymb41AfYvYaVmWHD+G4`: the payload must be signed exactly as given, with this key
            a raw signature by another key → the signature does not match the payload with the key `ssh-ed25519` `SHA256:fe85JkIjo8VPe+XqXJGH5Mau1EMFdK1OdKvJUFicyA8`: the payload must be signed exactly as given, with this key
            an owner key of another type → the key `ssh-rsa` `me` cannot be read: `public` holds a key of another type than `keytype`
            an owner key that does not decode → the key `ssh-ed25519` `me` cannot be read: Base64 encoding error: invalid Base64 length: expected the base64 of an OpenSSH public key in `public`
            no keys → there are no keys to check the signature with: expected at least one owner key
            ");
    }

    #[test]
    fn what_is_not_a_signature() {
        let owner = key(Algorithm::Ed25519, "me").public();
        let e = |signature: &str| verify(PAYLOAD, signature, &owner, NS).unwrap_err();
        assert!(matches!(e(""), AuthError::EmptySignature));
        assert!(matches!(e(" \n"), AuthError::EmptySignature));
        insta::assert_snapshot!(e(""), @"the signature is empty: expected the hex of a raw SSH signature or an `SSH SIGNATURE` block");
        insta::assert_snapshot!(e("1f49zz"), @"the signature is neither hex of a raw SSH signature nor an `SSH SIGNATURE` block: `z` at byte 4 is not a hex digit");
        insta::assert_snapshot!(e("1f4"), @"the signature is neither hex of a raw SSH signature nor an `SSH SIGNATURE` block: it has an odd number of hex digits (3): expected two per byte");
        insta::assert_snapshot!(e("-----BEGIN PGP SIGNATURE-----\nabc\n-----END PGP SIGNATURE-----"), @"the signature is neither hex of a raw SSH signature nor an `SSH SIGNATURE` block: it is a `PGP SIGNATURE` block");
        assert!(matches!(
            e("-----BEGIN SSH SIGNATURE-----\nU1NIU0lHAAAAAQ\n"),
            AuthError::BadSshsig { .. }
        ));
        assert!(matches!(
            e("-----BEGIN SSH SIGNATURE-----\nU1NIU0lHAAAAAQ==\n-----END SSH SIGNATURE-----"),
            AuthError::BadSshsig { .. }
        ));
        let bad_key =
            Owner::new(Some("me"), "ssh-ed25519", "AAAAB3NzaC1yc2EAAAADAQABAAABAQ").unwrap();
        assert!(matches!(
            verify(PAYLOAD, "00", &bad_key, NS),
            Err(AuthError::BadKey { .. })
        ));
        assert!(matches!(
            verify_any(PAYLOAD, "00", &[], NS),
            Err(AuthError::NoKeys)
        ));
    }
}
