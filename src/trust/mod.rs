//! The registry's root of trust: ed25519 keys for the TUF roles (root offline with a
//! threshold; targets, snapshot and timestamp online) and for atoms, where their private
//! halves come from ([`KeySource`]), and `root.json`'s versioned chain in the registry repo
//! (`tuf/root/<N>.root.json`), built, signed and verified with `tough`'s schema types and
//! canonical JSON ([`Chain`]). Regis's own part of a root (the atom key, the revoked keys)
//! rides in the root's signed `regis` field ([`Extension`]).

mod keys;
mod manage;
mod repo;
mod root;

pub use keys::{
    KEY_FILE_MAX_BYTES, KeySource, Secret, SigningKey, git_work_tree_of, refuse_git_tree,
    write_private_key,
};
pub use manage::{Initialized, NewKey, Signers, Written, init, revoke, rotate, sign_root_file};
pub use repo::apply as apply_changes;
pub use repo::{
    BINS_DIR, Bins, Change, Online, SNAPSHOT_FILE, TARGETS_FILE, TIMESTAMP_FILE, bin_file,
    create as create_repository, exists as repository_exists, file_bytes, parse as parse_metadata,
    read_file as read_metadata_file, refresh, sign as sign_metadata, target,
};
pub use root::{
    AtomKeys, Chain, Count, Extension, ROOT_DIR, Revoked, RootStatus, STAGED_ROOT, new_root,
    read_root_file, record_revoked, replace_keys, role_keyids, role_threshold, roles_of,
    root_file_name, sign_root, status, write_root_file,
};

use std::fmt;

use tough::schema::RoleType;
use tough::schema::decoded::{Decoded, Hex};
use tough::schema::key::Key;

/// A role a key belongs to: TUF's four top-level roles, and regis's atom key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Root,
    Targets,
    Snapshot,
    Timestamp,
    Atom,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Root,
        Role::Targets,
        Role::Snapshot,
        Role::Timestamp,
        Role::Atom,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Root => "root",
            Role::Targets => "targets",
            Role::Snapshot => "snapshot",
            Role::Timestamp => "timestamp",
            Role::Atom => "atom",
        }
    }

    /// The TUF role, for all but the atom key (which TUF does not know).
    pub fn tuf(self) -> Option<RoleType> {
        match self {
            Role::Root => Some(RoleType::Root),
            Role::Targets => Some(RoleType::Targets),
            Role::Snapshot => Some(RoleType::Snapshot),
            Role::Timestamp => Some(RoleType::Timestamp),
            Role::Atom => None,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A TUF key id: the lowercase hex SHA-256 of the key's canonical JSON (tough's
/// `Key::key_id`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(String);

impl KeyId {
    /// The id of `key`, as tough computes it.
    pub fn of(key: &Key) -> KeyId {
        let id = key.key_id().expect("a key is JSON");
        KeyId(hex::encode(id.as_ref()))
    }

    pub fn from_decoded(id: &Decoded<Hex>) -> KeyId {
        KeyId(hex::encode(id.as_ref()))
    }

    pub fn decoded(&self) -> Decoded<Hex> {
        hex::decode(&self.0).expect("a key id is hex").into()
    }

    /// `text` if it is 64 lowercase hex digits.
    pub fn parse(text: &str) -> Result<KeyId, String> {
        let hex = text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if hex {
            Ok(KeyId(text.to_owned()))
        } else {
            Err("a key id: 64 lowercase hex digits".to_owned())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first 16 digits, enough to tell keys apart in a file name.
    pub fn short(&self) -> &str {
        &self.0[..16]
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for KeyId {
    type Err = String;
    fn from_str(text: &str) -> Result<KeyId, String> {
        KeyId::parse(text)
    }
}

/// A refusal or failure of the root of trust. Never holds key material.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("could not read the key file `{path}`")]
    ReadKey {
        path: String,
        #[source]
        cause: std::io::Error,
    },
    #[error("the key file `{path}` is larger than {max} bytes: not an ed25519 private key")]
    KeyFileTooLarge { path: String, max: u64 },
    #[error(
        "the key file `{path}` is inside the git work tree `{tree}`: keep private keys out of repositories"
    )]
    KeyInGitTree { path: String, tree: String },
    #[error("the environment variable `{var}` that should hold a private key is not set")]
    KeyEnvUnset { var: String },
    #[error(
        "`{source_name}` does not hold an ed25519 private key (PKCS#8, as PEM `PRIVATE KEY` or DER)"
    )]
    NotAKey { source_name: String },
    #[error(
        "`{dir}` is inside the git work tree `{tree}`: private keys are written outside every repository"
    )]
    KeyDirInGitTree { dir: String, tree: String },
    #[error("could not write the private key `{path}`")]
    WriteKey {
        path: String,
        #[source]
        cause: std::io::Error,
    },
    #[error("no root of trust in `{dir}`: `regis keys init` makes one")]
    NoRoot { dir: String },
    #[error("`{path}` already exists: the registry has a root of trust")]
    AlreadyInitialized { path: String },
    #[error("could not read `{path}`")]
    ReadRoot {
        path: String,
        #[source]
        cause: std::io::Error,
    },
    #[error("could not write `{path}`")]
    WriteRoot {
        path: String,
        #[source]
        cause: std::io::Error,
    },
    #[error("`{path}` is not a root.json: {reason}")]
    ParseRoot { path: String, reason: String },
    #[error("`{name}` in `{dir}` is not a root version file `<N>.root.json`")]
    StrayFile { name: String, dir: String },
    #[error("the root chain skips version {missing}: versions go up by one from 1")]
    ChainGap { missing: u64 },
    #[error("`{path}` holds root version {found}, expected version {expected}")]
    WrongVersion {
        path: String,
        expected: u64,
        found: u64,
    },
    #[error("root version {version} is not signed by a threshold of {whose} root keys: {reason}")]
    Threshold {
        version: u64,
        whose: &'static str,
        reason: String,
    },
    #[error("root version {version} expired at {expires}")]
    Expired { version: u64, expires: String },
    #[error("root version {version} lists the revoked key `{keyid}` for the {role} role")]
    RevokedInRole {
        version: u64,
        keyid: KeyId,
        role: Role,
    },
    #[error("root version {version} drops the revocation of key `{keyid}`")]
    RevocationDropped { version: u64, keyid: KeyId },
    #[error(
        "root threshold {threshold} with {keys} root keys: the threshold is at least 1 and at most the number of keys"
    )]
    BadThreshold { threshold: u64, keys: u64 },
    #[error("no key `{keyid}` in any version of the root chain")]
    UnknownKey { keyid: KeyId },
    #[error("the key `{keyid}` is already revoked")]
    AlreadyRevoked { keyid: KeyId },
    #[error(
        "revoking `{keyid}` would leave the {role} role {keys} keys, fewer than its threshold {threshold}: rotate it first (`regis keys rotate {role} --replace {keyid}`), then revoke the old key"
    )]
    BelowThreshold {
        keyid: KeyId,
        role: Role,
        keys: usize,
        threshold: u64,
    },
    #[error("the {role} role has {count} keys: name the one to replace with `--replace KEYID`")]
    ReplaceWhich { role: Role, count: usize },
    #[error("the key `{keyid}` is not a key of the {role} role")]
    NotInRole { keyid: KeyId, role: Role },
    #[error("the key `{keyid}` is not a root key of version {version} or of the version before it")]
    NotARootKey { keyid: KeyId, version: u64 },
    #[error(
        "a root version is waiting for signatures in `{path}`: sign it (`regis keys sign-root`) or delete it first"
    )]
    StagedPending { path: String },
    #[error("`{path}` is root version {found}; the chain's next version is {expected}")]
    NotNext {
        path: String,
        expected: u64,
        found: u64,
    },
    #[error(
        "the configured {role} key `{keyid}` is not a {role} key of root version {version}: set the key the root lists (`regis keys show`)"
    )]
    NotOnlineKey {
        role: Role,
        keyid: KeyId,
        version: u64,
    },
    #[error(
        "the {role} role needs {threshold} signatures, and regis signs online roles with one key: rotate the role to threshold 1"
    )]
    OnlineThreshold { role: Role, threshold: u64 },
    #[error(
        "the registry has a TUF repository (`tuf/targets.json`), and `regis.dhall` sets no `{field}`: every change re-signs it, so the online keys must be configured"
    )]
    OnlineKeyUnset { field: &'static str },
    #[error("`{path}` is not TUF metadata regis can read: {reason}")]
    ParseMetadata { path: String, reason: String },
    #[error("`{path}` cannot be a TUF target path: {reason}")]
    TargetName { path: String, reason: String },
    #[error(
        "an expiry {period} from now is past the year 9999: set fewer days in `trustOnlineExpiryDays` and `trustTimestampExpiryDays`"
    )]
    ExpiryOutOfRange { period: String },
}
