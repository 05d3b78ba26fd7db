//! The registry with a root of trust the TUF tests share (`tuf.rs`, `tuf_refusals.rs`):
//! a root key, keys for every role and the config naming them, `prelude@1.0.0` published
//! by `owner()` before the TUF repository is adopted; and what the tests do with it.

use std::path::{Path, PathBuf};

use regis::auth::{SignatureFormat, SigningKey as OwnerKey};
use regis::operation::client::{self, Client, ClientError, Origin};
use regis::operation::verify;
use regis::payload::Authenticated;
use regis::schema::Sha256;
use regis::testing::{self, TestRegistry};
use regis::trust::{self, KeySource, Role};

pub(super) fn owner() -> OwnerKey {
    OwnerKey::from_openssh(&testing::seeded_key(1), None).unwrap()
}

pub(super) fn signed(payload: &str) -> Authenticated {
    Authenticated {
        payload: payload.to_owned(),
        signature: owner().sign(payload, SignatureFormat::Raw, "file").unwrap(),
    }
}

pub(super) fn key_of(init: &trust::Initialized, role: Role) -> PathBuf {
    (init.keys.iter())
        .find(|k| k.role == role)
        .map(|k| k.path.clone())
        .unwrap()
}

pub(super) fn signing_key(init: &trust::Initialized, role: Role) -> trust::SigningKey {
    trust::SigningKey::from_bytes(&std::fs::read(key_of(init, role)).unwrap()).unwrap()
}

pub(super) fn far() -> jiff::Timestamp {
    let far = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 3650);
    jiff::Timestamp::from_second(far.as_second()).unwrap()
}

/// A registry with a root of trust (as `tuf.rs` sets one up) and `prelude@1.0.0`
/// published before the TUF repository is adopted, with an atom when `atoms`.
pub(super) struct Tuf {
    pub(super) t: TestRegistry,
    pub(super) keys: tempfile::TempDir,
    /// What `keys init` made: the root key, and the online keys' paths.
    pub(super) init: trust::Initialized,
    /// A directory for the client's last verified metadata.
    pub(super) state: tempfile::TempDir,
}

pub(super) fn with_tuf_atoms(atoms: bool) -> Tuf {
    let keys = tempfile::tempdir().unwrap();
    let mut t = TestRegistry::with_config(|c| {
        c.trust_timestamp_expiry_days = 3650;
        c.trust_online_expiry_days = 3650;
        c.trust_hash_bins = 16;
    });
    let mut made = None;
    t.registry
        .commit_change("Root of trust", t.config.push_retry(), |root| {
            let init = trust::init(root, keys.path(), 1, 1, far()).unwrap();
            let path = PathBuf::from(&init.root);
            made = Some(init);
            Ok::<_, regis::git::GitError>(vec![path])
        })
        .unwrap();
    let init = made.unwrap();
    let file = |role| Some(KeySource::File(key_of(&init, role)));
    t.config.trust_root_keys = vec![KeySource::File(key_of(&init, Role::Root))];
    t.config.trust_targets_key = file(Role::Targets);
    t.config.trust_snapshot_key = file(Role::Snapshot);
    t.config.trust_timestamp_key = file(Role::Timestamp);
    t.config.trust_atom_key = if atoms { file(Role::Atom) } else { None };
    let tuf = Tuf {
        t,
        keys,
        init,
        state: tempfile::tempdir().unwrap(),
    };
    tuf.release("prelude", "1.0.0");
    tuf
}

pub(super) fn with_tuf() -> Tuf {
    with_tuf_atoms(true)
}

pub(super) fn adopted() -> Tuf {
    let tuf = with_tuf();
    verify::adopt(&tuf.t.ctx()).unwrap();
    tuf
}

impl Tuf {
    pub(super) fn root(&self) -> Vec<u8> {
        std::fs::read(self.t.layout.registry.join("tuf/root/1.root.json")).unwrap()
    }

    pub(super) fn origin(&self) -> Origin {
        Origin::parse(self.t.layout.storage.to_str().unwrap()).unwrap()
    }

    pub(super) fn client(&self) -> Result<Client, ClientError> {
        Client::load(self.origin(), &self.root(), self.state.path())
    }

    pub(super) fn fetch(&self, name: &str, version: &str) -> Result<client::Fetched, ClientError> {
        let client = self.client()?;
        client::fetch(&client, &name.parse().unwrap(), &version.parse().unwrap())
    }

    pub(super) fn package(&self, name: &str, version: &str) -> regis::sample::SamplePackage {
        let mut p = self.t.package(name, version, &[]);
        p.manifest.owners = Some(vec![owner().public()]);
        p
    }

    pub(super) fn release(&self, name: &str, version: &str) {
        self.t.release(&self.package(name, version));
    }

    /// The whole registry verified as a client reads it, metadata held to the targets.
    pub(super) fn verify(&self) -> verify::Verification {
        let client = self.client().unwrap();
        verify::verify_all(&client, Some(&self.t.layout.registry)).unwrap()
    }

    pub(super) fn stored(&self, path: &str) -> Vec<u8> {
        std::fs::read(self.t.layout.storage.join(path)).unwrap()
    }

    pub(super) fn put(&self, path: &str, bytes: &[u8]) {
        let file = self.t.layout.storage.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, bytes).unwrap();
    }

    /// `changes` signed with the online keys (what a holder of them could do) and copied
    /// to storage.
    pub(super) fn sign_changes(&self, changes: &[trust::Change]) {
        let signer =
            regis::operation::tuf::tuf_signer(&self.t.config, &self.t.layout.registry).unwrap();
        trust::apply_changes(
            &self.t.layout.registry,
            &signer.chain.latest().signed,
            &signer.online,
            jiff::Timestamp::now(),
            changes,
        )
        .unwrap();
        regis::operation::tuf::publish(&self.t.ctx(), Some(&signer)).unwrap();
    }

    /// What a registry compromised up to its online keys can do: a release of
    /// `prelude@version` it made alone (`bytes`), with an atom signed by `atom_key` naming
    /// `previous` and `release`, both stored and listed as targets. The atom's id.
    pub(super) fn forge_release(
        &self,
        version: &str,
        bytes: &[u8],
        atom_key: &trust::SigningKey,
        previous: Option<regis::atom::AtomId>,
        release: Option<regis::atom::ReleaseSignature>,
    ) -> regis::atom::AtomId {
        let name: regis::schema::PackageName = "prelude".parse().unwrap();
        let hash = Sha256::of(bytes);
        let atom = regis::atom::Atom {
            operation: regis::atom::AtomOperation::Publish,
            package: name.clone(),
            version: Some(version.parse().unwrap()),
            tarball: Some(regis::atom::Tarball {
                hash,
                bytes: bytes.len() as u64,
            }),
            metadata: hash,
            index: None,
            payload: None,
            release,
            owners: None,
            time: testing::NOW.parse().unwrap(),
            previous,
        };
        let (id, atom_bytes) = regis::atom::sign(atom, atom_key);
        let (atom_path, path) = (id.key(&name), format!("prelude/{version}.tar.gz"));
        self.put(atom_path.as_str(), &atom_bytes);
        self.put(&path, bytes);
        self.sign_changes(&[
            trust::Change {
                path: atom_path.as_str().to_owned(),
                target: Some(target_of(&atom_bytes, None)),
            },
            trust::Change {
                path,
                target: Some(target_of(bytes, Some(&id.to_string()))),
            },
        ]);
        id
    }

    /// The text `e` shows, redacted as [`redact`] does.
    pub(super) fn message(&self, e: &(dyn std::error::Error + 'static)) -> String {
        redact(
            &regis::error_chain(e),
            &[(&self.t.layout.storage, "<storage>")],
        )
    }
}

/// `text` with each path in `paths` written as its label and each 64-digit hex run (key
/// ids, atom ids and hashes, made afresh each run) written `<sha256>`.
pub(super) fn redact(text: &str, paths: &[(&Path, &str)]) -> String {
    let mut text = text.to_owned();
    for (path, label) in paths {
        text = text.replace(path.to_str().unwrap(), label);
    }
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(i) = rest.find(|c: char| c.is_ascii_hexdigit()) {
        out.push_str(&rest[..i]);
        let run = rest[i..]
            .find(|c: char| !c.is_ascii_hexdigit())
            .unwrap_or(rest.len() - i);
        if run == 64 {
            out.push_str("<sha256>");
        } else {
            out.push_str(&rest[i..i + run]);
        }
        rest = &rest[i + run..];
    }
    out.push_str(rest);
    out
}

pub(super) fn target_of(bytes: &[u8], atom: Option<&str>) -> tough::schema::Target {
    let custom = atom
        .map(|id| ("atom".to_owned(), serde_json::Value::String(id.to_owned())))
        .into_iter()
        .collect();
    trust::target(&Sha256::of(bytes), bytes.len() as u64, custom)
}
