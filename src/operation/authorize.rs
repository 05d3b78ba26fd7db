//! Who signed an authenticated payload: an owner of the package (a key in its metadata), a
//! trustee (a key in the registry config) or the registry's bot (which signs only for
//! trustees). Pure: the signature check is a function of the payload, the keys and config.

use crate::auth::{self, AuthError, SigningKey};
use crate::config::Config;
use crate::metadata::Metadata;
use crate::payload::Authenticated;
use crate::schema::{Owner, PackageName};

/// The kind of key that signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// One of the package's owners.
    Owner,
    /// A key listed under `trustees` in the registry config.
    Trustee,
    /// The registry's bot key (`botPublicKey`): it signs for trustees and the daily job.
    Bot,
}

impl Role {
    /// Trustees (and the bot, which acts for them) are not bound by the owners' limits.
    pub fn is_trusted(self) -> bool {
        matches!(self, Role::Trustee | Role::Bot)
    }

    pub fn describe(self) -> &'static str {
        match self {
            Role::Owner => "an owner",
            Role::Trustee => "a trustee",
            Role::Bot => "the registry bot",
        }
    }
}

/// The key that verified a payload, and in which role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signer {
    pub role: Role,
    pub key: Owner,
}

impl Signer {
    /// `an owner (ssh-ed25519 me@example.com)`, for reports.
    pub fn describe(&self) -> String {
        match self.key.id() {
            Some(id) => format!("{} (`{}` `{id}`)", self.role.describe(), self.key.keytype()),
            None => format!("{} (`{}`)", self.role.describe(), self.key.keytype()),
        }
    }
}

/// A payload whose signature does not give its signer the right to act.
#[derive(Debug, thiserror::Error)]
pub enum AuthorizeError {
    #[error(
        "the {operation} of `{name}` is not signed: sign the payload with an owner's SSH key (`regis sign --key ~/.ssh/id_ed25519 …`) and paste the output; only trustees may leave the signature empty"
    )]
    Unsigned {
        operation: &'static str,
        name: PackageName,
    },
    #[error(
        "the signature on the {operation} of `{name}` is not from an owner of the package or a trustee ({owners}): {cause}"
    )]
    NotAuthorized {
        operation: &'static str,
        name: PackageName,
        owners: String,
        #[source]
        cause: AuthError,
    },
    #[error("invalid key in the registry config `{field}`: `{key}`")]
    ConfigKey { field: &'static str, key: String },
    #[error(
        "the bot key is not available: set the environment variable `{variable}` to the bot's OpenSSH private key"
    )]
    NoBotKey { variable: String },
    #[error("`botPublicKey` is not set in regis.dhall: signatures of the bot could not be checked")]
    NoBotPublicKey,
    #[error("the bot key in `{variable}` cannot be read: {cause}")]
    BadBotKey {
        variable: String,
        #[source]
        cause: AuthError,
    },
    #[error(
        "the key in `{variable}` is not the one `botPublicKey` names: fix the secret or the config"
    )]
    BotKeyMismatch { variable: String },
}

/// Check `signed` against the package's owners, the trustees and the bot key, in that
/// order, and say who signed.
pub fn authorize(
    operation: &'static str,
    name: &PackageName,
    signed: &Authenticated,
    metadata: &Metadata,
    config: &Config,
) -> Result<Signer, AuthorizeError> {
    if signed.signature.trim().is_empty() {
        return Err(AuthorizeError::Unsigned {
            operation,
            name: name.clone(),
        });
    }
    let owners = metadata.owners.clone().unwrap_or_default();
    let trustees = config_keys("trustees", &config.trustees)?;
    let bot = config_keys("botPublicKey", config.bot_public_key.as_slice())?;
    let keys: Vec<Owner> = owners
        .iter()
        .chain(&trustees)
        .chain(&bot)
        .cloned()
        .collect();
    let key = auth::verify_any(
        &signed.payload,
        &signed.signature,
        &keys,
        &config.signature_namespace,
    )
    .map_err(|cause| AuthorizeError::NotAuthorized {
        operation,
        name: name.clone(),
        owners: match owners.len() {
            0 => "the package lists no owners".to_owned(),
            1 => "the package lists 1 owner".to_owned(),
            n => format!("the package lists {n} owners"),
        },
        cause,
    })?;
    let position = keys
        .iter()
        .position(|k| std::ptr::eq(k, key))
        .expect("verify_any returns one of the keys");
    let role = if position < owners.len() {
        Role::Owner
    } else if position < owners.len() + trustees.len() {
        Role::Trustee
    } else {
        Role::Bot
    };
    Ok(Signer {
        role,
        key: key.clone(),
    })
}

/// The bot's signing key from `pem` (the content of the variable `botKeyEnv` names),
/// checked to be the key `botPublicKey` names, so that what it signs verifies.
pub fn bot_key(config: &Config, pem: Option<&str>) -> Result<SigningKey, AuthorizeError> {
    let variable = || config.bot_key_env.clone();
    let pem = pem.ok_or_else(|| AuthorizeError::NoBotKey {
        variable: variable(),
    })?;
    let configured = config_keys("botPublicKey", config.bot_public_key.as_slice())?
        .pop()
        .ok_or(AuthorizeError::NoBotPublicKey)?;
    let key = SigningKey::from_openssh(pem, None).map_err(|cause| AuthorizeError::BadBotKey {
        variable: variable(),
        cause,
    })?;
    let public = key.public();
    if (public.keytype(), public.public()) != (configured.keytype(), configured.public()) {
        return Err(AuthorizeError::BotKeyMismatch {
            variable: variable(),
        });
    }
    Ok(key)
}

fn config_keys(field: &'static str, lines: &[String]) -> Result<Vec<Owner>, AuthorizeError> {
    lines
        .iter()
        .map(|line| {
            Owner::from_openssh(line).map_err(|_| AuthorizeError::ConfigKey {
                field,
                key: line.clone(),
            })
        })
        .collect()
}
