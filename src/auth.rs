//! TEMPORARY SHIM (replaced by the wt-auth merge).
use crate::schema::Owner;
#[derive(Debug, Clone, Copy)]
pub enum SignatureFormat {
    Raw,
    Sshsig,
}
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the signature is empty")]
    EmptySignature,
    #[error("no key: {0}")]
    NoKey(String),
}
pub fn verify(
    _payload: &str,
    _signature: &str,
    _key: &Owner,
    _namespace: &str,
) -> Result<(), AuthError> {
    Err(AuthError::EmptySignature)
}
pub fn verify_any<'k>(
    _payload: &str,
    _signature: &str,
    _keys: &'k [Owner],
    _namespace: &str,
) -> Result<&'k Owner, AuthError> {
    Err(AuthError::EmptySignature)
}
pub struct SigningKey;
impl SigningKey {
    pub fn from_openssh(_pem: &str, _passphrase: Option<&str>) -> Result<SigningKey, AuthError> {
        Err(AuthError::EmptySignature)
    }
    pub fn read(
        _path: &std::path::Path,
        _passphrase: Option<&str>,
    ) -> Result<SigningKey, AuthError> {
        Err(AuthError::EmptySignature)
    }
    pub fn public(&self) -> Owner {
        unreachable!()
    }
    pub fn sign(
        &self,
        _payload: &str,
        _format: SignatureFormat,
        _namespace: &str,
    ) -> Result<String, AuthError> {
        Err(AuthError::EmptySignature)
    }
}
