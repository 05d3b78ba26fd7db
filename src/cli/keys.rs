//! `regis keys`: the registry's keys and root of trust (`tuf/root/<N>.root.json` in the
//! registry repo): `init`, `rotate`, `revoke`, `sign-root`, `show`.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::trust::{self, Chain, KeyId, KeySource, Role, Signers, SigningKey};

use super::Global;
use super::json::{KeysInitOutput, KeysRootOutput, KeysShowOutput};
use super::output::{noteln, outln};

/// Manage the registry's keys and its TUF root of trust.
///
/// The root role (offline keys, a threshold of which signs each root version) names the
/// keys of the online roles: targets, snapshot and timestamp (TUF's), and the atom key.
/// Root versions form a chain in the registry repo, `tuf/root/1.root.json`,
/// `2.root.json`, …: each signed by a threshold of its own root keys and of the version
/// before. Private keys are read from files outside every git work tree or from
/// environment variables (`trust*` fields in regis.dhall); regis never prints them and
/// never writes them into a repository. Commit and push what these commands write in
/// `tuf/`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    Init(InitArgs),
    Rotate(RotateArgs),
    Revoke(RevokeArgs),
    #[command(name = "sign-root")]
    SignRoot(SignRootArgs),
    Show(ShowArgs),
    Refresh(RefreshArgs),
}

/// Re-sign the TUF repository's online metadata that is due, commit it and copy it to
/// storage.
///
/// A new timestamp every time (a client refuses a timestamp past its expiry,
/// `trustTimestampExpiryDays`), targets, hash bins and the snapshot when they are within
/// the last third of `trustOnlineExpiryDays`, and `targets.json` with every bin after the
/// targets key was rotated. The daily workflow runs it; a registry without a TUF
/// repository has nothing to refresh.
#[derive(Debug, clap::Args)]
pub struct RefreshArgs {}

impl RefreshArgs {
    fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        let opened = super::open(global)?;
        let refreshed = crate::operation::tuf::refresh(&opened.ctx())?;
        if global.json {
            super::json::print(&super::json::RefreshOutput::from(&refreshed))?;
            return Ok(ExitCode::SUCCESS);
        }
        match (&refreshed.commit, &refreshed.published) {
            (None, _) => outln!("no TUF repository (`tuf/targets.json`): nothing to refresh"),
            (Some(commit), published) => {
                outln!(
                    "refreshed the TUF repository: {}",
                    crate::operation::report::outcome(commit)
                );
                if let Some(p) = published {
                    outln!(
                        "storage serves timestamp version {} ({} files written)",
                        p.timestamp,
                        p.written.len()
                    );
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// Make keys for every role, and root version 1 signed by all the new root keys.
///
/// Writes each private key (PKCS#8 PEM, mode 0600) to `--out`, which must be outside every
/// git work tree, and `tuf/root/1.root.json` in the registry; prints the key ids and the
/// regis.dhall lines naming the key files. Move the root keys offline.
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Where the private keys go (made if missing, mode 0700).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// How many root keys to make.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub root_keys: usize,
    /// How many root keys must sign each root version.
    #[arg(long, value_name = "M", default_value_t = 2)]
    pub root_threshold: u64,
}

/// Replace a role's key with a new one, in a new root version.
///
/// For an online role (targets, snapshot, timestamp, atom) without `--replace`, all its
/// keys give way to one new key; for the root role, `--replace` names the root key to
/// replace (unless there is only one). The new root version is signed with the root keys
/// at hand (`trustRootKeys` in regis.dhall, `--key`; a new root key signs too): when they
/// reach both the previous version's threshold and the new one's it joins the chain, else
/// it waits in `tuf/staged/root.json` for `regis keys sign-root`.
#[derive(Debug, clap::Args)]
pub struct RotateArgs {
    /// The role whose key is replaced.
    #[arg(value_enum, value_name = "ROLE")]
    pub role: RoleArg,
    /// The key id to replace [default: the role's keys].
    #[arg(long, value_name = "KEYID")]
    pub replace: Option<KeyId>,
    /// Where the new private key goes (outside every git work tree).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    #[command(flatten)]
    pub keys: RootKeys,
}

/// Revoke a key: a new root version without it in any role, listing it as revoked.
///
/// A key listed as revoked stays listed in every later root version and may never return
/// to a role. A role left with fewer keys than its threshold is refused: rotate the key
/// out first, then revoke it.
#[derive(Debug, clap::Args)]
pub struct RevokeArgs {
    /// The key id (64 hex digits, as `regis keys show` lists them).
    #[arg(value_name = "KEYID")]
    pub keyid: KeyId,
    /// Why, recorded with the revocation.
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    #[command(flatten)]
    pub keys: RootKeys,
}

/// Add root key signatures to a root version waiting for them.
///
/// FILE (default `tuf/staged/root.json`) may be a copy taken to the machine that holds a
/// root key; it is signed in place. Once it carries a threshold of the previous version's
/// root keys and of its own, it joins the chain in the registry.
#[derive(Debug, clap::Args)]
pub struct SignRootArgs {
    /// The root version to sign [default: `tuf/staged/root.json` in the registry].
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// A root private key to sign with: `file:<path>`, `env:<VAR>` or a path (repeat for
    /// more).
    #[arg(long = "key", value_name = "SOURCE", required = true)]
    pub keys: Vec<String>,
}

/// Show the root chain: each version, its expiry, the keys of every role, the revoked
/// keys, and a root version waiting for signatures. Verifies the chain as a TUF client
/// does; an expired last version is an error.
#[derive(Debug, clap::Args)]
pub struct ShowArgs {}

/// The root keys to sign a new root version with, beyond `trustRootKeys`.
#[derive(Debug, clap::Args)]
pub struct RootKeys {
    /// A root private key: `file:<path>`, `env:<VAR>` or a path (repeat for more).
    #[arg(long = "key", value_name = "SOURCE")]
    pub keys: Vec<String>,
}

/// A role, as the command line names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RoleArg {
    Root,
    Targets,
    Snapshot,
    Timestamp,
    Atom,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Role {
        match r {
            RoleArg::Root => Role::Root,
            RoleArg::Targets => Role::Targets,
            RoleArg::Snapshot => Role::Snapshot,
            RoleArg::Timestamp => Role::Timestamp,
            RoleArg::Atom => Role::Atom,
        }
    }
}

impl Command {
    pub fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        match self {
            Command::Init(a) => a.run(global),
            Command::Rotate(a) => a.run(global),
            Command::Revoke(a) => a.run(global),
            Command::SignRoot(a) => a.run(global),
            Command::Show(a) => a.run(global),
            Command::Refresh(a) => a.run(global),
        }
    }
}

/// Expiry of a root version made now.
fn expires_in(days: u64) -> jiff::Timestamp {
    let now = jiff::Timestamp::now().as_second();
    let seconds = i64::try_from(days.saturating_mul(86_400)).unwrap_or(i64::MAX);
    jiff::Timestamp::from_second(now.saturating_add(seconds)).unwrap_or(jiff::Timestamp::MAX)
}

/// A `--key` argument: a key source, or a bare path.
fn key_source(text: &str) -> KeySource {
    KeySource::parse(text).unwrap_or_else(|_| KeySource::File(PathBuf::from(text)))
}

/// The root keys at hand: regis.dhall's `trustRootKeys` (relative to the registry), then
/// `--key`s.
fn signers(global: &Global, extra: &[String], configured: &[KeySource]) -> anyhow::Result<Signers> {
    let sources = (configured.iter().map(|s| s.resolved(&global.registry)))
        .chain(extra.iter().map(|t| key_source(t)));
    let mut keys: Vec<SigningKey> = Vec::new();
    for source in sources {
        let key = source.load()?;
        if !keys.iter().any(|k| k.keyid() == key.keyid()) {
            keys.push(key);
        }
    }
    Ok(Signers(keys))
}

impl InitArgs {
    fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        let config = global.config()?;
        let done = trust::init(
            &global.registry,
            &self.out,
            self.root_keys,
            self.root_threshold,
            expires_in(config.trust_root_expiry_days),
        )?;
        let output = KeysInitOutput::new(&done);
        if global.json {
            super::json::print(&output)?;
            return Ok(ExitCode::SUCCESS);
        }
        outln!(
            "root version 1 (threshold {} of {} root keys, expires {}): {}",
            done.root_threshold,
            self.root_keys,
            done.expires,
            done.root
        );
        for key in &done.keys {
            outln!("{:<9} {}  {}", key.role, key.keyid, key.path.display());
        }
        outln!("\nregis.dhall lines (commit them with tuf/; keep the root keys offline):");
        for (field, value) in output.config_lines() {
            outln!(", {field} = {value}");
        }
        Ok(ExitCode::SUCCESS)
    }
}

impl RotateArgs {
    fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        let config = global.config()?;
        let signers = signers(global, &self.keys.keys, &config.trust_root_keys)?;
        let written = trust::rotate(
            &global.registry,
            self.role.into(),
            self.replace.as_ref(),
            &self.out,
            signers,
            expires_in(config.trust_root_expiry_days),
        )?;
        report(global, &written)
    }
}

impl RevokeArgs {
    fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        let config = global.config()?;
        let signers = signers(global, &self.keys.keys, &config.trust_root_keys)?;
        let written = trust::revoke(
            &global.registry,
            &self.keyid,
            self.reason,
            signers,
            expires_in(config.trust_root_expiry_days),
        )?;
        report(global, &written)
    }
}

impl SignRootArgs {
    fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        let signers = signers(global, &self.keys, &[])?;
        let file = (self.file).unwrap_or_else(|| global.registry.join(trust::STAGED_ROOT));
        let written = trust::sign_root_file(&global.registry, &file, signers)?;
        report(global, &written)
    }
}

/// Prints what a new root version came to.
fn report(global: &Global, written: &trust::Written) -> anyhow::Result<ExitCode> {
    if global.json {
        super::json::print(&KeysRootOutput::new(written))?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(key) = &written.new_key {
        outln!("new {} key {}: {}", key.role, key.keyid, key.path.display());
    }
    if let Some((keyid, role)) = &written.revoked {
        outln!("revoked {role} key {keyid}");
    }
    for keyid in &written.unused {
        noteln!("`{keyid}` is a root key of neither version: it did not sign");
    }
    let status = written.status;
    let previous = status.previous.map_or(String::new(), |p| {
        format!(", previous version's {} of {}", p.valid, p.threshold)
    });
    let signatures = format!(
        "signatures: its own root keys {} of {}{previous}",
        status.own.valid, status.own.threshold
    );
    if written.in_chain {
        outln!(
            "root version {} (expires {}) joined the chain: {} ({signatures}); commit and push it",
            written.version,
            written.expires,
            written.path
        );
    } else {
        outln!(
            "root version {} waits for signatures in {} ({signatures}): sign it with `regis keys sign-root --key SOURCE` where the other root keys are",
            written.version,
            written.path
        );
    }
    Ok(ExitCode::SUCCESS)
}

impl ShowArgs {
    fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        let chain = Chain::verified(&global.registry, jiff::Timestamp::now())?;
        let staged_path = global.registry.join(trust::STAGED_ROOT);
        let staged = staged_path
            .exists()
            .then(|| trust::read_root_file(&staged_path))
            .transpose()?;
        let output = KeysShowOutput::new(&chain, staged.as_ref());
        if global.json {
            super::json::print(&output)?;
            return Ok(ExitCode::SUCCESS);
        }
        for line in output.lines() {
            outln!("{line}");
        }
        Ok(ExitCode::SUCCESS)
    }
}
