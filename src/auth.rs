//! Signatures of authenticated payloads: checking a `Transfer` or `Unpublish` signature
//! against owners' SSH public keys, and signing one with an OpenSSH private key.
//!
//! Two signature formats: `Raw`, the PureScript Registry's (hex of the raw ssh2 signature
//! over the exact payload bytes: ed25519, RSA PKCS#1 v1.5 over SHA-1, or DER ECDSA), and
//! `Sshsig`, the armored block `ssh-keygen -Y sign -n NAMESPACE` writes. Pure: reading a
//! key file is the only I/O, in [`SigningKey::read`].

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use rsa::{BigUint, Pkcs1v15Sign};
use sha1::{Digest as _, Sha1};
use sha2::Sha512;
use signature::{Signer as _, Verifier as _};
use ssh_key::private::{EcdsaKeypair, KeypairData, RsaKeypair};
use ssh_key::public::{EcdsaPublicKey, KeyData};
use ssh_key::{Algorithm, HashAlg, LineEnding, PrivateKey, PublicKey, SshSig};

use crate::schema::Owner;

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

/// The largest RSA key accepted, in bits: the largest `ssh-keygen` makes.
const MAX_RSA_BITS: usize = 16384;

const SSHSIG_BEGIN: &str = "-----BEGIN SSH SIGNATURE-----";
const SSHSIG_END: &str = "-----END SSH SIGNATURE-----";
/// The base64 line width of an `SSH SIGNATURE` block, as `ssh-keygen` writes it.
const SSHSIG_LINE: usize = 70;

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
    #[error("could not read the private key `{path}`: {source}")]
    ReadKey {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("could not use the private key `{path}`: {source}")]
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

/// An armored SSHSIG, with any whitespace and line breaks inside the armor.
fn read_sshsig(text: &str) -> Result<SshSig, AuthError> {
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

/// `` `keytype` `comment` ``, or the SHA-256 fingerprint in place of an empty comment.
fn describe_key_data(key: &KeyData, comment: &str) -> String {
    let name = if comment.is_empty() {
        key.fingerprint(HashAlg::Sha256).to_string()
    } else {
        comment.to_owned()
    };
    format!("`{}` `{name}`", key.algorithm().as_str())
}

/// An OpenSSH private key to sign with, decrypted. Its `Debug` shows only the public half.
pub struct SigningKey {
    key: PrivateKey,
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

    /// ssh-key signs ed25519 and ECDSA; its RSA signing is broken (0.6.7), so an RSA SSHSIG
    /// is put together here: rsa-sha2-512 over the SSHSIG signed data.
    fn sign_sshsig(&self, payload: &[u8], namespace: &str) -> Result<SshSig, AuthError> {
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

    fn rsa_private(&self, key: &RsaKeypair) -> Result<rsa::RsaPrivateKey, AuthError> {
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

    fn failed(&self, reason: impl fmt::Display) -> AuthError {
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

/// An OpenSSH ECDSA private key whose scalar OpenSSH wrote shorter than the curve's width.
///
/// OpenSSH writes the private scalar as an mpint, which drops leading zero bytes; ssh-key
/// 0.6.7 reads it only at full width and refuses the key ("length invalid"). That is about
/// half of `ssh-keygen -t ecdsa -b 521` keys (the scalar's top byte is 0x00 or 0x01) and 1
/// in 256 P-256/P-384 keys. This reads such a key with the format's own rules and hands
/// ssh-key the scalar at full width. `None` when the text is not such a key (the caller
/// reports ssh-key's own error then).
fn short_ecdsa_scalar(
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
    use super::*;
    use ssh_key::EcdsaCurve;

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

    #[test]
    fn a_damaged_key_header_never_puts_key_text_in_the_message() {
        let key = ssh_key::PrivateKey::from(ssh_key::private::Ed25519Keypair::from_seed(&[3; 32]));
        let pem = key.to_openssh(ssh_key::LineEnding::LF).unwrap();
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
    use ssh_key::rand_core::OsRng;

    const NS: &str = "file";
    const PAYLOAD: &str =
        r#"{"name":"aff","newLocation":{"githubOwner":"me","githubRepo":"purescript-aff"}}"#;

    /// The PureScript Registry's test vectors, or `None` without the shared fixtures.
    fn vectors() -> Option<serde_json::Value> {
        let path = crate::testing::purescript_fixtures()?.join("vectors/ssh-signature.json");
        Some(serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap())
    }

    fn text(v: &serde_json::Value) -> &str {
        v.as_str().unwrap()
    }

    fn key(algorithm: Algorithm, comment: &str) -> SigningKey {
        let key = PrivateKey::random(&mut OsRng, algorithm).unwrap();
        let mut key = SigningKey { key };
        key.key.set_comment(comment);
        key
    }

    fn rsa_key(comment: &str) -> SigningKey {
        let private = rsa::RsaPrivateKey::new(&mut OsRng, 2048).unwrap();
        let pair = RsaKeypair::try_from(&private).unwrap();
        SigningKey {
            key: PrivateKey::new(KeypairData::Rsa(pair), comment).unwrap(),
        }
    }

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

    /// `hex` with its last byte dropped, and with its last hex digit dropped.
    fn truncations(hex: &str) -> [&str; 2] {
        [&hex[..hex.len() - 2], &hex[..hex.len() - 1]]
    }

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

    #[test]
    fn private_keys_that_cannot_be_used() {
        let e = |pem: &str| SigningKey::from_openssh(pem, None).unwrap_err().to_string();
        let public = key(Algorithm::Ed25519, "me")
            .key
            .public_key()
            .to_openssh()
            .unwrap();
        insta::assert_snapshot!(e(&public), @"not an OpenSSH private key: it is a public key: expected the private key (the file without `.pub`)");
        insta::assert_snapshot!(e("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n"), @"not an OpenSSH private key: it is a `RSA PRIVATE KEY` block: `ssh-keygen -p -f KEY` rewrites a key in the OpenSSH format");
        assert!(
            e("hello").starts_with("not an OpenSSH private key: ")
                && e("hello").ends_with(
                    ": expected the `-----BEGIN OPENSSH PRIVATE KEY-----` text `ssh-keygen` writes"
                )
        );
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("id_ed25519");
        let e = SigningKey::read(&missing, None).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!(
                "could not read the private key `{}`: ",
                missing.display()
            )),
            "{e}"
        );
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
