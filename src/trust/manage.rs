//! What `regis keys` does to a registry: `init` (keys for every role, root version 1),
//! `rotate` and `revoke` (the next root version), `sign_root_file` (signatures added to a
//! root version made elsewhere or waiting in `tuf/staged/root.json`). A next version
//! signed by a threshold of the last version's root keys and of its own joins the chain
//! (`tuf/root/<N>.root.json`); one short of either waits in `tuf/staged/root.json`.

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use tough::schema::{Root, Signed};

use super::root::{self, Chain, RootStatus};
use super::{
    KeyId, Role, STAGED_ROOT, SigningKey, TrustError, refuse_git_tree, root_file_name,
    write_private_key,
};

/// A key made by `init` or `rotate`: its role, id and where its private half went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewKey {
    pub role: Role,
    pub keyid: KeyId,
    pub path: PathBuf,
}

/// What `init` made.
#[derive(Debug, Clone)]
pub struct Initialized {
    pub keys: Vec<NewKey>,
    /// The registry-relative path of root version 1.
    pub root: String,
    pub root_threshold: u64,
    pub expires: Timestamp,
}

/// A root version written by `rotate`, `revoke` or `sign-root`.
#[derive(Debug, Clone)]
pub struct Written {
    pub version: u64,
    pub status: RootStatus,
    /// Registry-relative: `tuf/root/<N>.root.json` when the chain took it, else
    /// `tuf/staged/root.json` (or the file `sign-root` signed).
    pub path: String,
    pub in_chain: bool,
    pub new_key: Option<NewKey>,
    /// The key revoked, and from which role.
    pub revoked: Option<(KeyId, Role)>,
    /// Keys given that are root keys of neither version, which did not sign.
    pub unused: Vec<KeyId>,
    pub expires: Timestamp,
}

/// The private root keys at hand to sign a new root version with.
#[derive(Debug, Default)]
pub struct Signers(pub Vec<SigningKey>);

/// Makes keys for every role in `out` (outside any git work tree) and root version 1,
/// signed by all `root_keys` new root keys, in `<registry>/tuf/root/1.root.json`.
pub fn init(
    registry: &Path,
    out: &Path,
    root_keys: usize,
    threshold: u64,
    expires: Timestamp,
) -> Result<Initialized, TrustError> {
    let first = registry.join(root::ROOT_DIR).join(root_file_name(1));
    if first.exists() {
        return Err(TrustError::AlreadyInitialized {
            path: first.display().to_string(),
        });
    }
    if threshold == 0 || threshold > root_keys as u64 {
        return Err(TrustError::BadThreshold {
            threshold,
            keys: root_keys as u64,
        });
    }
    refuse_git_tree(out)?;
    let mut made = Vec::new();
    let mut new_keys = Vec::new();
    let roles = std::iter::repeat_n(Role::Root, root_keys).chain([
        Role::Targets,
        Role::Snapshot,
        Role::Timestamp,
        Role::Atom,
    ]);
    for role in roles {
        let (key, secret) = SigningKey::generate();
        let path = write_private_key(out, &key_file_name(role, key.keyid()), &secret)?;
        new_keys.push(NewKey {
            role,
            keyid: key.keyid().clone(),
            path,
        });
        made.push((role, key));
    }
    let root_signers: Vec<&SigningKey> = (made.iter())
        .filter(|(role, _)| *role == Role::Root)
        .map(|(_, key)| key)
        .collect();
    let online = |role: Role| {
        let key = made.iter().find(|(r, _)| *r == role).map(|(_, k)| k);
        (role, key.expect("one key per online role"))
    };
    let root = root::new_root(
        &root_signers,
        threshold,
        [
            online(Role::Targets),
            online(Role::Snapshot),
            online(Role::Timestamp),
            online(Role::Atom),
        ],
        expires,
    )?;
    let mut signed = Signed {
        signed: root,
        signatures: vec![],
    };
    let signers: Vec<SigningKey> = made
        .into_iter()
        .filter(|(role, _)| *role == Role::Root)
        .map(|(_, key)| key)
        .collect();
    root::sign_root(&mut signed, None, &signers);
    let rel = format!("{}/{}", root::ROOT_DIR, root_file_name(1));
    Chain::first(signed.clone(), &rel)?;
    root::write_root_file(&registry.join(&rel), &signed)?;
    Ok(Initialized {
        keys: new_keys,
        root: rel,
        root_threshold: threshold,
        expires,
    })
}

/// `<role>-<first 16 digits of the key id>.pem`.
fn key_file_name(role: Role, keyid: &KeyId) -> String {
    format!("{role}-{}.pem", keyid.short())
}

/// The next root version with a new key for `role` in place of `replace` (for an online
/// role without `replace`: all its keys), the new private key written to `out`.
pub fn rotate(
    registry: &Path,
    role: Role,
    replace: Option<&KeyId>,
    out: &Path,
    signers: Signers,
    expires: Timestamp,
) -> Result<Written, TrustError> {
    let chain = ready_chain(registry)?;
    let latest = &chain.latest().signed;
    let current = root::role_keyids(latest, role);
    let old = match replace {
        Some(keyid) if !current.contains(keyid) => {
            return Err(TrustError::NotInRole {
                keyid: keyid.clone(),
                role,
            });
        }
        Some(keyid) => vec![keyid.clone()],
        None if role == Role::Root && current.len() > 1 => {
            return Err(TrustError::ReplaceWhich {
                role,
                count: current.len(),
            });
        }
        None => current,
    };
    refuse_git_tree(out)?;
    let (key, secret) = SigningKey::generate();
    let path = write_private_key(out, &key_file_name(role, key.keyid()), &secret)?;
    let mut next = chain.next(expires);
    root::replace_keys(&mut next.signed, role, &old, Some(&key));
    let new_key = NewKey {
        role,
        keyid: key.keyid().clone(),
        path,
    };
    let mut signers = signers.0;
    if role == Role::Root {
        signers.push(key);
    }
    let mut written = finish(registry, &chain, next, &signers, None)?;
    written.new_key = Some(new_key);
    Ok(written)
}

/// The next root version without `keyid` in any role, listing it as revoked.
pub fn revoke(
    registry: &Path,
    keyid: &KeyId,
    reason: Option<String>,
    signers: Signers,
    expires: Timestamp,
) -> Result<Written, TrustError> {
    let chain = ready_chain(registry)?;
    let latest = &chain.latest().signed;
    let extension = root::Extension::of(latest).map_err(|reason| TrustError::ParseRoot {
        path: format!(
            "{}/{}",
            root::ROOT_DIR,
            root_file_name(latest.version.get())
        ),
        reason,
    })?;
    if extension.is_revoked(keyid) {
        return Err(TrustError::AlreadyRevoked {
            keyid: keyid.clone(),
        });
    }
    let Some(last_role) = chain.last_role_of(keyid) else {
        return Err(TrustError::UnknownKey {
            keyid: keyid.clone(),
        });
    };
    for role in root::roles_of(latest, keyid) {
        let keys = root::role_keyids(latest, role).len() - 1;
        let threshold = root::role_threshold(latest, role);
        if (keys as u64) < threshold {
            return Err(TrustError::BelowThreshold {
                keyid: keyid.clone(),
                role,
                keys,
                threshold,
            });
        }
    }
    let mut next = chain.next(expires);
    for role in root::roles_of(latest, keyid) {
        root::replace_keys(&mut next.signed, role, std::slice::from_ref(keyid), None);
    }
    root::record_revoked(&mut next.signed, keyid, last_role, reason);
    finish(
        registry,
        &chain,
        next,
        &signers.0,
        Some((keyid.clone(), last_role)),
    )
}

/// Adds the signatures of `signers` (each a root key of `file`'s version or of the one
/// before) to the root version in `file`, written back; once both thresholds are met the
/// version joins the chain (and leaves `tuf/staged/root.json`).
pub fn sign_root_file(
    registry: &Path,
    file: &Path,
    signers: Signers,
) -> Result<Written, TrustError> {
    let chain = Chain::read(registry)?;
    let mut next = root::read_root_file(file)?;
    let label = file.display().to_string();
    let expected = chain.latest().signed.version.get() + 1;
    let found = next.signed.version.get();
    if found != expected {
        return Err(TrustError::NotNext {
            path: label,
            expected,
            found,
        });
    }
    let previous = &chain.latest().signed;
    if let Some(stranger) = root::sign_root(&mut next, Some(previous), &signers.0).first() {
        return Err(TrustError::NotARootKey {
            keyid: stranger.keyid().clone(),
            version: found,
        });
    }
    let status = root::status(&next, Some(previous));
    let expires = next.signed.expires;
    if !status.complete() {
        root::write_root_file(file, &next)?;
        return Ok(Written {
            version: found,
            status,
            path: label,
            in_chain: false,
            new_key: None,
            revoked: None,
            unused: vec![],
            expires,
        });
    }
    root::write_root_file(file, &next)?;
    let rel = join_chain(registry, &chain, &next)?;
    let staged = registry.join(STAGED_ROOT);
    let staged_is_this =
        root::read_root_file(&staged).is_ok_and(|s| s.signed.version.get() == found);
    if staged_is_this {
        std::fs::remove_file(&staged).map_err(|cause| TrustError::WriteRoot {
            path: staged.display().to_string(),
            cause,
        })?;
    }
    Ok(Written {
        version: found,
        status,
        path: rel,
        in_chain: true,
        new_key: None,
        revoked: None,
        unused: vec![],
        expires,
    })
}

/// The chain, with no root version waiting for signatures.
fn ready_chain(registry: &Path) -> Result<Chain, TrustError> {
    let staged = registry.join(STAGED_ROOT);
    if staged.exists() {
        return Err(TrustError::StagedPending {
            path: staged.display().to_string(),
        });
    }
    Chain::read(registry)
}

/// Signs `next` with what `signers` can, then puts it in the chain if complete, else in
/// `tuf/staged/root.json`.
fn finish(
    registry: &Path,
    chain: &Chain,
    mut next: Signed<Root>,
    signers: &[SigningKey],
    revoked: Option<(KeyId, Role)>,
) -> Result<Written, TrustError> {
    let previous = &chain.latest().signed;
    let unused = root::sign_root(&mut next, Some(previous), signers)
        .into_iter()
        .map(|k| k.keyid().clone())
        .collect();
    let status = root::status(&next, Some(previous));
    let (path, in_chain) = if status.complete() {
        (join_chain(registry, chain, &next)?, true)
    } else {
        root::write_root_file(&registry.join(STAGED_ROOT), &next)?;
        (STAGED_ROOT.to_owned(), false)
    };
    Ok(Written {
        version: next.signed.version.get(),
        status,
        path,
        in_chain,
        new_key: None,
        revoked,
        unused,
        expires: next.signed.expires,
    })
}

/// Checks `next` follows `chain` and writes it as `tuf/root/<N>.root.json`.
fn join_chain(registry: &Path, chain: &Chain, next: &Signed<Root>) -> Result<String, TrustError> {
    let rel = format!(
        "{}/{}",
        root::ROOT_DIR,
        root_file_name(next.signed.version.get())
    );
    chain.check_next(next, &rel)?;
    root::write_root_file(&registry.join(&rel), next)?;
    Ok(rel)
}
