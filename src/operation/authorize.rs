//! Who signed an authenticated payload: an owner of the package (a key in its metadata), a
//! trustee (a key in the registry config) or the registry's bot (which signs only for
//! trustees); and whether a publish may change a package's owners (`ownerChanges`). Pure:
//! the signature check is a function of the payload, the keys and config.

use crate::auth::{self, AuthError, SigningKey};
use crate::config::{Config, OwnerChanges};
use crate::metadata::Metadata;
use crate::payload::Authenticated;
use crate::schema::{Owner, PackageName, Version};

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
    /// `` an owner (`ssh-ed25519` `me@example.com`) ``, for reports.
    pub fn describe(&self) -> String {
        format!(
            "{} ({})",
            self.role.describe(),
            auth::describe_owner(&self.key)
        )
    }
}

/// A payload whose signature does not give its signer the right to act.
#[derive(Debug, thiserror::Error)]
pub enum AuthorizeError {
    #[error(
        "the {operation} of `{name}` is not signed: sign the payload with an owner's SSH key (`regis sign --key ~/.ssh/id_ed25519 …`) and paste the output (only a trustee's issue may leave the signature empty: the registry bot signs it then)"
    )]
    Unsigned {
        operation: &'static str,
        name: PackageName,
    },
    #[error(
        "the signature on the {operation} of `{name}` is not from an owner of the package or a trustee ({owners})"
    )]
    NotAuthorized {
        operation: &'static str,
        name: PackageName,
        owners: String,
        #[source]
        cause: AuthError,
    },
    #[error(
        "the bot key is not available: set the environment variable `{variable}` to the bot's OpenSSH private key"
    )]
    NoBotKey { variable: String },
    #[error("`botPublicKey` is not set in regis.dhall: signatures of the bot could not be checked")]
    NoBotPublicKey,
    #[error("the bot key in `{variable}` cannot be read")]
    BadBotKey {
        variable: String,
        #[source]
        cause: AuthError,
    },
    #[error(
        "the key in `{variable}` is not the one `botPublicKey` names: fix the secret or the config"
    )]
    BotKeyMismatch { variable: String },
    #[error(
        "the publish of `{name}@{version}` changes the owners of `{name}` ({change}), and this registry lets only a current owner or a trustee do that: sign the new list with a current owner's key (`regis sign --key ~/.ssh/id_ed25519 owners purs.json`, or `spago.yaml`: the manifest being published) and add the printed `ownersSignature` to the Publish payload"
    )]
    OwnersUnsigned {
        name: PackageName,
        version: Version,
        change: String,
    },
    #[error(
        "the `ownersSignature` of the publish of `{name}@{version}` is not a current owner's or a trustee's signature of its new owner list ({change}; {owners}): sign it with a current owner's key (`regis sign --key ~/.ssh/id_ed25519 owners purs.json`, or `spago.yaml`: the manifest being published)"
    )]
    OwnersNotAuthorized {
        name: PackageName,
        version: Version,
        change: String,
        owners: String,
        #[source]
        cause: AuthError,
    },
}

/// Check `signed` against the trustees, the bot key and the package's owners, in that
/// order (a key that is both a trustee's and an owner's acts as a trustee), and say who
/// signed.
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
    let owners = metadata.owners.as_deref().unwrap_or_default();
    signer(&signed.payload, &signed.signature, owners, config).map_err(|cause| {
        AuthorizeError::NotAuthorized {
            operation,
            name: name.clone(),
            owners: owners_listed(owners),
            cause,
        }
    })
}

/// `the package lists 2 owners`, for messages.
fn owners_listed(owners: &[Owner]) -> String {
    match owners.len() {
        0 => "the package lists no owners".to_owned(),
        1 => "the package lists 1 owner".to_owned(),
        n => format!("the package lists {n} owners"),
    }
}

/// Who of the trustees, the bot and `owners` signed `payload`, in that order.
fn signer(
    payload: &str,
    signature: &str,
    owners: &[Owner],
    config: &Config,
) -> Result<Signer, AuthError> {
    let trustees = &config.trustees;
    let bot = config.bot_public_key.as_slice();
    let keys: Vec<Owner> = trustees.iter().chain(bot).chain(owners).cloned().collect();
    let key = auth::verify_any(payload, signature, &keys, &config.signature_namespace)?;
    let position = keys
        .iter()
        .position(|k| std::ptr::eq(k, key))
        .expect("verify_any returns one of the keys");
    let role = if position < trustees.len() {
        Role::Trustee
    } else if position < trustees.len() + bot.len() {
        Role::Bot
    } else {
        Role::Owner
    };
    Ok(Signer {
        role,
        key: key.clone(),
    })
}

/// Whether a publish of `name@version` may take the package's owners from `before` to
/// `after` (what [`Metadata::owners_after_publish`] gives). Under `ownerChanges = "signed"`
/// a change (an added, removed or reordered key, or an edited `id`) needs `signature`, a
/// current owner's, a trustee's or the bot's signature of
/// [`crate::payload::owners_text`]; a package that has no owners gains them freely, as a
/// new package does (no one could sign for it). Under `"location"` the manifest decides.
/// The signer of a signed change, `None` when no signature was needed.
pub fn authorize_owner_change(
    config: &Config,
    name: &PackageName,
    version: &Version,
    before: Option<&[Owner]>,
    after: Option<&[Owner]>,
    signature: Option<&str>,
) -> Result<Option<Signer>, AuthorizeError> {
    let before = before.unwrap_or_default();
    let after = after.unwrap_or_default();
    if config.owner_changes == OwnerChanges::Location || before.is_empty() || before == after {
        return Ok(None);
    }
    let change = describe_change(before, after);
    let Some(signature) = signature.filter(|s| !s.trim().is_empty()) else {
        return Err(AuthorizeError::OwnersUnsigned {
            name: name.clone(),
            version: version.clone(),
            change,
        });
    };
    let text = crate::payload::owners_text(name, version, after);
    signer(&text, signature, before, config)
        .map(Some)
        .map_err(|cause| AuthorizeError::OwnersNotAuthorized {
            name: name.clone(),
            version: version.clone(),
            change,
            owners: owners_listed(before),
            cause,
        })
}

/// `adds `ssh-ed25519` `new@example.com`; removes …`, or what else changed.
fn describe_change(before: &[Owner], after: &[Owner]) -> String {
    let same_key = |a: &Owner, b: &Owner| (a.keytype(), a.public()) == (b.keytype(), b.public());
    let listed =
        |owners: Vec<&Owner>| crate::text::list(owners.into_iter().map(auth::describe_owner));
    let added: Vec<&Owner> = (after.iter())
        .filter(|a| !before.iter().any(|b| same_key(a, b)))
        .collect();
    let removed: Vec<&Owner> = (before.iter())
        .filter(|b| !after.iter().any(|a| same_key(a, b)))
        .collect();
    let mut parts = Vec::new();
    if !added.is_empty() {
        parts.push(format!("adds {}", listed(added)));
    }
    if !removed.is_empty() {
        parts.push(format!("removes {}", listed(removed)));
    }
    if parts.is_empty() {
        parts.push("the same keys, with other ids or in another order".to_owned());
    }
    parts.join("; ")
}

/// The bot's signing key from `pem` (the content of the variable `botKeyEnv` names),
/// checked to be the key `botPublicKey` names, so that what it signs verifies.
pub fn bot_key(config: &Config, pem: Option<&str>) -> Result<SigningKey, AuthorizeError> {
    let variable = || config.bot_key_env.to_string();
    let pem = pem.ok_or_else(|| AuthorizeError::NoBotKey {
        variable: variable(),
    })?;
    let configured = config
        .bot_public_key
        .as_ref()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::SignatureFormat;
    use crate::schema::Location;

    use crate::testing::seeded_key as pem;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_openssh(&pem(seed), None).unwrap()
    }

    fn signed_by(key: &SigningKey) -> Authenticated {
        let payload = r#"{"name":"aff","version":"1.0.0","reason":"x"}"#.to_owned();
        let signature = key.sign(&payload, SignatureFormat::Raw, "file").unwrap();
        Authenticated { payload, signature }
    }

    fn metadata(owners: &[&SigningKey]) -> Metadata {
        let mut m = Metadata::new(Location::github("o", "aff", None).unwrap(), None);
        m.owners = Some(owners.iter().map(|k| k.public()).collect());
        m
    }

    #[test]
    fn the_signer_gets_the_highest_role_its_key_has() {
        let (owner, trustee, bot) = (key(1), key(2), key(3));
        let config = Config {
            trustees: vec![trustee.public()],
            bot_public_key: Some(bot.public()),
            ..Config::default()
        };
        let name: PackageName = "aff".parse().unwrap();
        let role = |k: &SigningKey, m: &Metadata| {
            authorize("unpublish", &name, &signed_by(k), m, &config).map(|s| s.role)
        };
        assert_eq!(role(&owner, &metadata(&[&owner])).unwrap(), Role::Owner);
        assert_eq!(role(&trustee, &metadata(&[&owner])).unwrap(), Role::Trustee);
        assert_eq!(role(&bot, &metadata(&[&owner])).unwrap(), Role::Bot);
        // A trustee who also owns the package acts as a trustee (no owner time limits).
        assert_eq!(
            role(&trustee, &metadata(&[&owner, &trustee])).unwrap(),
            Role::Trustee
        );
        // Someone else's key, and an owner of another package, are refused.
        let e = role(&key(4), &metadata(&[&owner])).unwrap_err();
        assert!(matches!(e, AuthorizeError::NotAuthorized { .. }), "{e}");
        let unsigned = Authenticated {
            signature: " ".into(),
            ..signed_by(&owner)
        };
        let e =
            authorize("unpublish", &name, &unsigned, &metadata(&[&owner]), &config).unwrap_err();
        assert!(matches!(e, AuthorizeError::Unsigned { .. }), "{e}");
    }

    #[test]
    fn the_bot_key_must_be_the_configured_one() {
        let bot = key(3);
        let config = Config {
            bot_public_key: Some(bot.public()),
            ..Config::default()
        };
        assert_eq!(
            bot_key(&config, Some(&pem(3))).unwrap().public(),
            bot.public()
        );
        assert!(matches!(
            bot_key(&config, Some(&pem(4))),
            Err(AuthorizeError::BotKeyMismatch { .. })
        ));
        assert!(matches!(
            bot_key(&config, None),
            Err(AuthorizeError::NoBotKey { .. })
        ));
        assert!(matches!(
            bot_key(&Config::default(), Some(&pem(3))),
            Err(AuthorizeError::NoBotPublicKey)
        ));
    }

    #[test]
    fn an_owner_change_needs_a_current_owners_or_a_trustees_signature_of_the_new_list() {
        let (owner, trustee, stranger) = (key(1), key(2), key(4));
        let signed = Config {
            trustees: vec![trustee.public()],
            owner_changes: OwnerChanges::Signed,
            ..Config::default()
        };
        let name: PackageName = "aff".parse().unwrap();
        let version: Version = "2.0.0".parse().unwrap();
        let before = [owner.public()];
        let after = [owner.public(), stranger.public()];
        let text = crate::payload::owners_text(&name, &version, &after);
        let sign = |k: &SigningKey, text: &str| k.sign(text, SignatureFormat::Raw, "").unwrap();
        let check =
            |config: &Config, before: Option<&[Owner]>, after: &[Owner], sig: Option<&str>| {
                authorize_owner_change(config, &name, &version, before, Some(after), sig)
                    .map(|s| s.map(|s| s.role))
            };
        // No change, a package without owners, and the PureScript rule need no signature.
        assert_eq!(check(&signed, Some(&before), &before, None).unwrap(), None);
        assert_eq!(check(&signed, None, &after, None).unwrap(), None);
        assert_eq!(
            check(&Config::default(), Some(&before), &after, None).unwrap(),
            None
        );
        // A current owner or a trustee signs the new list.
        let by_owner = sign(&owner, &text);
        assert_eq!(
            check(&signed, Some(&before), &after, Some(&by_owner)).unwrap(),
            Some(Role::Owner)
        );
        let by_trustee = sign(&trustee, &text);
        assert_eq!(
            check(&signed, Some(&before), &after, Some(&by_trustee)).unwrap(),
            Some(Role::Trustee)
        );
        // The key being added cannot vouch for itself; a signature is for one version's list.
        let by_stranger = sign(&stranger, &text);
        let e = check(&signed, Some(&before), &after, Some(&by_stranger)).unwrap_err();
        assert!(
            matches!(e, AuthorizeError::OwnersNotAuthorized { .. }),
            "{e}"
        );
        let other_version = crate::payload::owners_text(&name, &"1.9.0".parse().unwrap(), &after);
        let e = check(
            &signed,
            Some(&before),
            &after,
            Some(&sign(&owner, &other_version)),
        );
        assert!(
            matches!(e, Err(AuthorizeError::OwnersNotAuthorized { .. })),
            "{e:?}"
        );
        for unsigned in [None, Some(""), Some(" ")] {
            let e = check(&signed, Some(&before), &after, unsigned).unwrap_err();
            assert!(matches!(e, AuthorizeError::OwnersUnsigned { .. }), "{e}");
        }
        // Removing a key, or only reordering them, is a change too.
        let reordered = [after[1].clone(), after[0].clone()];
        for (from, to) in [(&after[..], &before[..]), (&after[..], &reordered[..])] {
            let e = check(&signed, Some(from), to, None).unwrap_err();
            assert!(matches!(e, AuthorizeError::OwnersUnsigned { .. }), "{e}");
        }
    }

    /// Every refusal of a signer or of the bot key, with its full text.
    #[test]
    fn refusals_in_full() {
        let (owner, bot) = (key(1), key(3));
        let name: PackageName = "aff".parse().unwrap();
        let config = Config {
            bot_public_key: Some(bot.public()),
            ..Config::default()
        };
        let unsigned = Authenticated {
            signature: String::new(),
            ..signed_by(&owner)
        };
        let refused =
            |case: &str, e: AuthorizeError| format!("{case} → {}", crate::error_chain(&e));
        let lines = [
            refused(
                "unsigned",
                authorize("unpublish", &name, &unsigned, &metadata(&[&owner]), &config)
                    .unwrap_err(),
            ),
            refused(
                "no owners",
                authorize(
                    "transfer",
                    &name,
                    &signed_by(&owner),
                    &metadata(&[]),
                    &Config::default(),
                )
                .unwrap_err(),
            ),
            refused(
                "two owners, neither signed",
                authorize(
                    "unpublish",
                    &name,
                    &signed_by(&key(4)),
                    &metadata(&[&owner, &key(5)]),
                    &Config::default(),
                )
                .unwrap_err(),
            ),
            refused("no bot key", bot_key(&config, None).unwrap_err()),
            refused(
                "no botPublicKey",
                bot_key(&Config::default(), Some(&pem(3))).unwrap_err(),
            ),
            refused(
                "a bot key that is not a key",
                bot_key(&config, Some("hello")).unwrap_err(),
            ),
            refused(
                "another bot key",
                bot_key(&config, Some(&pem(4))).unwrap_err(),
            ),
            refused(
                "owners replaced, unsigned",
                owner_change(&[&owner], &[&key(4)], None).unwrap_err(),
            ),
            refused(
                "owners reordered, unsigned",
                owner_change(&[&owner, &key(4)], &[&key(4), &owner], None).unwrap_err(),
            ),
            refused(
                "an owner added, signed by the new key",
                owner_change(&[&owner], &[&owner, &key(4)], Some(&key(4))).unwrap_err(),
            ),
        ];
        insta::assert_snapshot!(lines.join("\n"), @r"
            unsigned → the unpublish of `aff` is not signed: sign the payload with an owner's SSH key (`regis sign --key ~/.ssh/id_ed25519 …`) and paste the output (only a trustee's issue may leave the signature empty: the registry bot signs it then)
            no owners → the signature on the transfer of `aff` is not from an owner of the package or a trustee (the package lists no owners): there are no keys to check the signature with: expected at least one owner key
            two owners, neither signed → the signature on the unpublish of `aff` is not from an owner of the package or a trustee (the package lists 2 owners): the signature does not match the payload for any of the 2 keys tried (`ssh-ed25519` `SHA256:fe85JkIjo8VPe+XqXJGH5Mau1EMFdK1OdKvJUFicyA8`, `ssh-ed25519` `SHA256:LA4QoSmstGCy/UHfdU3jKjnPz56pQzud9OmslMh3g8w`): the payload must be signed exactly as given, with an owner's key
            no bot key → the bot key is not available: set the environment variable `REGIS_BOT_KEY` to the bot's OpenSSH private key
            no botPublicKey → `botPublicKey` is not set in regis.dhall: signatures of the bot could not be checked
            a bot key that is not a key → the bot key in `REGIS_BOT_KEY` cannot be read: not an OpenSSH private key: PEM preamble contains invalid data (NUL byte): expected the `-----BEGIN OPENSSH PRIVATE KEY-----` text `ssh-keygen` writes
            another bot key → the key in `REGIS_BOT_KEY` is not the one `botPublicKey` names: fix the secret or the config
            owners replaced, unsigned → the publish of `aff@2.0.0` changes the owners of `aff` (adds `ssh-ed25519` `SHA256:vxu9sT7+WkqIPG3kOwohja2DmYBjKw903FLEcS+Xb6o`; removes `ssh-ed25519` `SHA256:fe85JkIjo8VPe+XqXJGH5Mau1EMFdK1OdKvJUFicyA8`), and this registry lets only a current owner or a trustee do that: sign the new list with a current owner's key (`regis sign --key ~/.ssh/id_ed25519 owners purs.json`, or `spago.yaml`: the manifest being published) and add the printed `ownersSignature` to the Publish payload
            owners reordered, unsigned → the publish of `aff@2.0.0` changes the owners of `aff` (the same keys, with other ids or in another order), and this registry lets only a current owner or a trustee do that: sign the new list with a current owner's key (`regis sign --key ~/.ssh/id_ed25519 owners purs.json`, or `spago.yaml`: the manifest being published) and add the printed `ownersSignature` to the Publish payload
            an owner added, signed by the new key → the `ownersSignature` of the publish of `aff@2.0.0` is not a current owner's or a trustee's signature of its new owner list (adds `ssh-ed25519` `SHA256:vxu9sT7+WkqIPG3kOwohja2DmYBjKw903FLEcS+Xb6o`; the package lists 1 owner): sign it with a current owner's key (`regis sign --key ~/.ssh/id_ed25519 owners purs.json`, or `spago.yaml`: the manifest being published): the signature does not match the payload for the 1 key tried (`ssh-ed25519` `SHA256:fe85JkIjo8VPe+XqXJGH5Mau1EMFdK1OdKvJUFicyA8`): the payload must be signed exactly as given, with an owner's key
            ");
    }

    /// [`authorize_owner_change`] under `ownerChanges = "signed"` for a publish of
    /// `aff@2.0.0` taking the owners from `before` to `after`, signed by `by`.
    fn owner_change(
        before: &[&SigningKey],
        after: &[&SigningKey],
        by: Option<&SigningKey>,
    ) -> Result<Option<Signer>, AuthorizeError> {
        let config = Config {
            owner_changes: OwnerChanges::Signed,
            ..Config::default()
        };
        let (name, version) = ("aff".parse().unwrap(), "2.0.0".parse().unwrap());
        let keys = |keys: &[&SigningKey]| keys.iter().map(|k| k.public()).collect::<Vec<_>>();
        let after = keys(after);
        let text = crate::payload::owners_text(&name, &version, &after);
        let signature = by.map(|k| k.sign(&text, SignatureFormat::Raw, "").unwrap());
        authorize_owner_change(
            &config,
            &name,
            &version,
            Some(&keys(before)),
            Some(&after),
            signature.as_deref(),
        )
    }
}
