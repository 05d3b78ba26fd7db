use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::Digest;

use super::{SchemaError, string_type};

/// A SHA-256 digest written `sha256-<standard base64>` (51 characters), the form the
/// PureScript Registry stores for tarballs.
///
/// ```
/// use regis::schema::Sha256;
/// let h = Sha256::of(b"");
/// assert_eq!(h.to_string(), "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
/// assert_eq!(h.to_string().parse::<Sha256>().unwrap(), h);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sha256([u8; 32]);

const PREFIX: &str = "sha256-";

impl Sha256 {
    pub fn parse(s: &str) -> Result<Self, SchemaError> {
        let fail = |reason: &str| SchemaError::Sha256 {
            value: s.to_owned(),
            reason: reason.to_owned(),
        };
        let b64 = s
            .strip_prefix(PREFIX)
            .ok_or_else(|| fail("expected `sha256-` followed by 44 characters of base64"))?;
        let bytes = STANDARD
            .decode(b64)
            .map_err(|_| fail("expected standard base64 after `sha256-`"))?;
        let digest: [u8; 32] = bytes
            .try_into()
            .map_err(|_| fail("expected a 32-byte digest"))?;
        let h = Sha256(digest);
        // Only the canonical encoding is accepted, so parse(display(h)) == h byte for byte.
        if !super::displays_as(&h, s) {
            return Err(fail("expected the canonical padded base64 encoding"));
        }
        Ok(h)
    }

    pub fn of(bytes: &[u8]) -> Self {
        Sha256(sha2::Sha256::digest(bytes).into())
    }

    pub fn from_digest(digest: [u8; 32]) -> Self {
        Sha256(digest)
    }

    pub fn digest(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut b64 = [0; 44]; // 32 bytes in padded base64
        let n = STANDARD
            .encode_slice(self.0, &mut b64)
            .expect("44 bytes hold 32 in base64");
        f.write_str(PREFIX)?;
        f.write_str(std::str::from_utf8(&b64[..n]).expect("base64 is ASCII"))
    }
}

impl fmt::Debug for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256({self})")
    }
}

string_type!(Sha256);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_hash_roundtrips() {
        let s = "sha256-XaM78oJFCsdZxjlDbUHj8MnZidwQc4HSnfrLfliXuAc=";
        assert_eq!(Sha256::parse(s).unwrap().to_string(), s);
        assert_eq!(s.len(), 51);
    }

    #[test]
    fn rejects_other_shapes() {
        for s in [
            "XaM78oJFCsdZxjlDbUHj8MnZidwQc4HSnfrLfliXuAc=",
            "sha512-XaM78oJFCsdZxjlDbUHj8MnZidwQc4HSnfrLfliXuAc=",
            "sha256-XaM78oJFCsdZxjlDbUHj8MnZidwQc4HSnfrLfliXuAc",
            "sha256-AAAA",
            "sha256-!!!!oJFCsdZxjlDbUHj8MnZidwQc4HSnfrLfliXuAc=",
        ] {
            assert!(Sha256::parse(s).is_err(), "{s} should be rejected");
        }
    }
}
