//! The client side of the trust layer, what `regis fetch` and `regis verify` do: read a
//! registry's storage (a directory, or the HTTP(S) URL it is served at) as any TUF client
//! does, through tough's `RepositoryLoader` — the root chain from a pinned root, then the
//! timestamp (fresh, not rolled back), the snapshot it names (hash and length), the
//! targets and every hash bin the snapshot names (versions, signatures by the keys the
//! delegating role lists) — then a target's bytes against its length and hash, and the
//! package's atoms (each one a target too) against the atom keys the verified root lists
//! and against each other (each names the one before it).
//!
//! Targets are fetched at their own path (`<name>/<version>.tar.gz`), not at a
//! hash-prefixed one: a published path never changes its bytes (storage is create-only),
//! which is what TUF's hash prefix would otherwise guarantee. tough asks for
//! `<sha256>.<path>` under consistent snapshots; [`RegisTransport`] reads `<path>` for it
//! (python-tuf's `prefix_targets_with_hash = False`). Metadata is read by consistent
//! snapshot name (`<version>.<role>.json`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use futures_util::TryStreamExt as _;
use tough::schema::{Root, Target};
use tough::{
    FilesystemTransport, RepositoryLoader, TargetName, Transport, TransportError,
    TransportErrorKind, TransportStream,
};
use url::Url;

use crate::atom::{AtomError, AtomId, AtomOperation, AtomTrust, SignedAtom, Verified};
use crate::schema::{PackageName, Sha256, Version};
use crate::storage::{MemoryStorage, Storage as _, StorageKey};
use crate::trust::{Chain, TrustError};

/// Why a fetch or a verification failed. Each names what did not verify.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("`{from}` is neither a directory nor an http(s) URL")]
    BadSource { from: String },
    #[error("could not read the pinned root `{path}`")]
    ReadRoot {
        path: String,
        #[source]
        cause: std::io::Error,
    },
    #[error(
        "no pinned root: pass `--root FILE` (a root.json you trust, version 1 or later), or run inside a registry checkout that has `tuf/root/1.root.json`"
    )]
    NoRoot,
    #[error("could not make the directory `{path}` that keeps the last verified metadata")]
    State {
        path: String,
        #[source]
        cause: std::io::Error,
    },
    #[error(
        "`{from}` serves no TUF repository (no `tuf/timestamp.json`): the registry has not adopted one (`regis verify --adopt`)"
    )]
    NoRepository { from: String },
    #[error("TUF verification of `{from}` failed: {reason}")]
    Tuf { from: String, reason: String },
    #[error("`{target}` is not a target of the registry: no signed metadata lists it")]
    NotATarget { target: String },
    #[error("storage does not serve the target `{target}`, which signed metadata lists")]
    TargetMissing { target: String },
    #[error("the target `{target}` failed verification: {reason}")]
    TargetFailed { target: String, reason: String },
    #[error(
        "the target `{target}` names no atom (`custom.atom`), and the package has atoms: the registry records an atom for every publish since it kept atoms"
    )]
    NoAtom { target: String },
    #[error("the target `{target}` names the atom `{atom}`, which is not a target")]
    AtomNotATarget { target: String, atom: String },
    #[error(
        "the atom `{atom}` of `{name}` does not record this release: it records {found}, not {expected}"
    )]
    AtomMismatch {
        name: PackageName,
        atom: AtomId,
        found: String,
        expected: String,
    },
    #[error("root version {version} does not list atom keys as regis reads them: {reason}")]
    AtomKeys { version: u64, reason: String },
    #[error("storage's root version {version} (`tuf/{version}.root.json`) is refused: {reason}")]
    RootChain { version: u64, reason: String },
    #[error(
        "`{name}` is claimed by its owners (its release `{since}` is signed by one), and `{name}@{version}` carries no owner's signature: the registry, not an owner, made this release"
    )]
    ReleaseUnsigned {
        name: PackageName,
        version: Version,
        since: Version,
    },
    #[error("the owner's signature of `{name}@{version}` does not verify: {reason}")]
    ReleaseNotByOwner {
        name: PackageName,
        version: Version,
        reason: String,
    },
    #[error(
        "the atom `{id}` of `{name}`, which this client verified before, is gone from the registry's signed targets: the package's history was rewritten"
    )]
    ChainRewritten { name: PackageName, id: AtomId },
    #[error(
        "the atom `{id}` of `{name}`, which this client verified before, is not on one chain with the atoms of `{name}@{version}`: the package's history forked"
    )]
    ChainForked {
        name: PackageName,
        version: Version,
        id: AtomId,
    },
    #[error("could not keep the atoms seen in `{path}`")]
    Pin {
        path: String,
        #[source]
        cause: std::io::Error,
    },
    #[error(transparent)]
    Atom(#[from] AtomError),
}

impl From<TrustError> for ClientError {
    fn from(e: TrustError) -> ClientError {
        ClientError::Atom(AtomError::Trust(e))
    }
}

/// Where a registry's storage is read from.
#[derive(Debug, Clone)]
pub struct Origin {
    /// The storage root, with a trailing `/`.
    base: Url,
    shown: String,
}

impl Origin {
    /// A directory (`/srv/storage`, `./storage`) or an `http://` / `https://` URL.
    pub fn parse(text: &str) -> Result<Origin, ClientError> {
        let bad = || ClientError::BadSource {
            from: crate::text::value(text).into_owned(),
        };
        let mut base = if text.starts_with("http://") || text.starts_with("https://") {
            Url::parse(text).map_err(|_| bad())?
        } else {
            let path = std::path::absolute(text).map_err(|_| bad())?;
            if !path.is_dir() {
                return Err(bad());
            }
            Url::from_directory_path(&path).map_err(|()| bad())?
        };
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        Ok(Origin {
            shown: crate::schema::redact_url(text),
            base,
        })
    }

    fn metadata(&self) -> Url {
        self.base.join("tuf/").expect("a relative path joins")
    }

    /// The base URL, with a trailing `/` (`file://` for a directory).
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// The first 16 hex digits of the SHA-256 of the base URL: the name of what a client
    /// keeps of this source.
    pub fn id(&self) -> String {
        let id = hex::encode(Sha256::of(self.base.as_str().as_bytes()).digest());
        id[..16].to_owned()
    }

    /// The source as given, credentials in a URL left out.
    pub fn shown(&self) -> &str {
        &self.shown
    }
}

/// The HTTP client every client-side read goes through: TLS through rustls with ring (as
/// for object stores; a provider installed stays), and timeouts, so that a server that
/// stops answering fails the read instead of hanging it.
pub(crate) fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(30))
        .read_timeout(std::time::Duration::from_secs(60))
        .build()
        .expect("a client with timeouts builds")
}

/// Reads `file://` with tough's transport and `http(s)://` with reqwest; a target asked
/// for by hash-prefixed name is read at its own path.
#[derive(Debug, Clone)]
pub struct RegisTransport {
    targets: Url,
    http: reqwest::Client,
}

impl RegisTransport {
    fn new(from: &Origin) -> RegisTransport {
        RegisTransport {
            targets: from.base.clone(),
            http: http_client(),
        }
    }

    /// `url` with a leading `<64 hex>.` taken off its path below the targets' base.
    fn unprefixed(&self, url: Url) -> Url {
        let Some(rest) = url.as_str().strip_prefix(self.targets.as_str()) else {
            return url;
        };
        let hex = rest.len() > 65
            && rest.as_bytes()[64] == b'.'
            && rest[..64].bytes().all(|b| b.is_ascii_hexdigit());
        if !hex {
            return url;
        }
        self.targets.join(&rest[65..]).unwrap_or(url)
    }
}

#[async_trait]
impl Transport for RegisTransport {
    async fn fetch(&self, url: Url) -> Result<TransportStream, TransportError> {
        let url = self.unprefixed(url);
        match url.scheme() {
            "file" => FilesystemTransport.fetch(url).await,
            "http" | "https" => {
                let response = self.http.get(url.clone()).send().await.map_err(|e| {
                    TransportError::new_with_cause(TransportErrorKind::Other, &url, e)
                })?;
                let status = response.status();
                if status == reqwest::StatusCode::NOT_FOUND
                    || status == reqwest::StatusCode::FORBIDDEN
                {
                    return Err(TransportError::new(TransportErrorKind::FileNotFound, &url));
                }
                let response = response.error_for_status().map_err(|e| {
                    TransportError::new_with_cause(TransportErrorKind::Other, &url, e)
                })?;
                let shown = url.clone();
                Ok(Box::pin(response.bytes_stream().map_err(move |e| {
                    TransportError::new_with_cause(TransportErrorKind::Other, &shown, e)
                })))
            }
            _ => Err(TransportError::new(
                TransportErrorKind::UnsupportedUrlScheme,
                &url,
            )),
        }
    }
}

/// A registry loaded and verified up to its targets.
pub struct Client {
    runtime: tokio::runtime::Runtime,
    repo: tough::Repository,
    from: Origin,
    /// Every root version from 1 to the one tough verified up to, as a chain.
    roots: Chain,
    /// Where the last verified metadata and the atoms seen are kept.
    state: PathBuf,
}

/// The pinned root: `root` if given, else the registry checkout's first root version.
pub fn pinned_root(
    root: Option<&Path>,
    registry: &Path,
) -> Result<(Vec<u8>, PathBuf), ClientError> {
    let path = match root {
        Some(path) => path.to_path_buf(),
        None => {
            let first = registry
                .join(crate::trust::ROOT_DIR)
                .join(crate::trust::root_file_name(1));
            if !first.is_file() {
                return Err(ClientError::NoRoot);
            }
            first
        }
    };
    let bytes = std::fs::read(&path).map_err(|cause| ClientError::ReadRoot {
        path: path.display().to_string(),
        cause,
    })?;
    Ok((bytes, path))
}

/// Where the last verified metadata of a registry read from `from` is kept (what detects
/// a rollback): `$XDG_STATE_HOME/regis/tuf/<sha256 of the URL, 16 digits>`, or under
/// `~/.local/state`.
pub fn default_state(from: &Origin) -> Option<PathBuf> {
    Some(state_home()?.join("tuf").join(from.id()))
}

/// `$XDG_STATE_HOME/regis`, or `~/.local/state/regis`: where a client keeps what it read.
pub(crate) fn state_home() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))?;
    Some(base.join("regis"))
}

impl Client {
    /// Loads and verifies the registry at `from` (TUF's client workflow, steps 5.1–5.6)
    /// from the pinned `root`, keeping what it verified in `state` (made if missing) so a
    /// later load refuses older metadata.
    pub fn load(from: Origin, root: &[u8], state: &Path) -> Result<Client, ClientError> {
        std::fs::create_dir_all(state).map_err(|cause| ClientError::State {
            path: state.display().to_string(),
            cause,
        })?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a current-thread runtime builds");
        let transport = RegisTransport::new(&from);
        let timestamp = from
            .metadata()
            .join("timestamp.json")
            .expect("a file name joins");
        if let Err(e) = runtime.block_on(transport.fetch(timestamp))
            && e.kind() == TransportErrorKind::FileNotFound
        {
            return Err(ClientError::NoRepository {
                from: from.shown.clone(),
            });
        }
        let loader = RepositoryLoader::new(&root, from.metadata(), from.base.clone())
            .transport(RegisTransport::new(&from))
            .datastore(state);
        let repo = runtime
            .block_on(loader.load())
            .map_err(|e| ClientError::Tuf {
                from: from.shown.clone(),
                reason: tough_reason(&e),
            })?;
        let roots = runtime.block_on(root_chain(&from, &repo, root))?;
        Ok(Client {
            runtime,
            repo,
            from,
            roots,
            state: state.to_path_buf(),
        })
    }

    /// The root the chain verified up to.
    pub fn root(&self) -> &Root {
        &self.repo.root().signed
    }

    /// The versions the client verified: timestamp, snapshot, targets.
    pub fn versions(&self) -> (u64, u64, u64) {
        (
            self.repo.timestamp().signed.version.get(),
            self.repo.snapshot().signed.version.get(),
            self.repo.targets().signed.version.get(),
        )
    }

    /// Every target the signed metadata lists, by path.
    pub fn targets(&self) -> BTreeMap<String, Target> {
        self.repo
            .all_targets()
            .map(|(name, target)| (name.raw().to_owned(), target.clone()))
            .collect()
    }

    /// The target at `path`, as its signed metadata lists it.
    pub fn target(&self, path: &str) -> Result<Target, ClientError> {
        let not = || ClientError::NotATarget {
            target: crate::text::value(path).into_owned(),
        };
        let name = TargetName::new(path).map_err(|_| not())?;
        self.repo
            .targets()
            .signed
            .find_target(&name, false)
            .cloned()
            .map_err(|_| not())
    }

    /// The bytes of the target at `path`, checked against its signed length and hash.
    pub fn read(&self, path: &str) -> Result<Vec<u8>, ClientError> {
        let name = TargetName::new(path).map_err(|_| ClientError::NotATarget {
            target: crate::text::value(path).into_owned(),
        })?;
        let failed = |e: tough::error::Error| {
            if not_found(&e) {
                ClientError::TargetMissing {
                    target: path.to_owned(),
                }
            } else {
                ClientError::TargetFailed {
                    target: path.to_owned(),
                    reason: tough_reason(&e),
                }
            }
        };
        self.runtime.block_on(async {
            let stream = self
                .repo
                .read_target(&name)
                .await
                .map_err(failed)?
                .ok_or_else(|| ClientError::NotATarget {
                    target: path.to_owned(),
                })?;
            let chunks: Vec<_> = stream.try_collect::<Vec<_>>().await.map_err(failed)?;
            Ok(chunks.concat())
        })
    }

    /// The atom keys every root version lists, less the ones the last revoked (an atom
    /// signed before its key was rotated out still verifies; one by a revoked key not).
    pub fn atom_trust(&self) -> Result<AtomTrust, ClientError> {
        AtomTrust::of_chain(self.roots.roots())
            .map_err(|(version, reason)| ClientError::AtomKeys { version, reason })
    }

    /// The atom chain of `name` from `head` back to its first atom, each atom read as a
    /// target (so listed in signed metadata, with its hash) and checked as `regis history`
    /// checks a chain. Newest first.
    pub fn atom_chain(
        &self,
        name: &PackageName,
        head: AtomId,
    ) -> Result<Vec<Verified>, ClientError> {
        let trust = self.atom_trust()?;
        let atoms = MemoryStorage::default();
        let mut next = Some(head);
        while let Some(id) = next {
            let key = id.key(name);
            let bytes = match self.read(key.as_str()) {
                Ok(bytes) => bytes,
                Err(ClientError::NotATarget { .. }) => break,
                Err(e) => return Err(e),
            };
            next = serde_json::from_slice::<SignedAtom>(&bytes)
                .ok()
                .and_then(|a| a.signed.previous);
            atoms.put(&key, &bytes).map_err(AtomError::from)?;
        }
        let chain = crate::atom::verify_links(&atoms, name, head, &trust)?;
        Ok(chain)
    }

    pub fn from(&self) -> &str {
        &self.from.shown
    }

    /// Holds `chain` (a release's atoms, newest first) to the atoms of `name` this client
    /// verified before (kept in the state directory, `atoms/<name>`): each must still be a
    /// signed target, and on one chain with these (on this walk, or newer with this walk's
    /// atom behind it). A registry that rewrote a package's history, even with every key it
    /// holds, is caught by a client that saw the history before. Then the atoms seen are
    /// kept.
    fn pin_chain(
        &self,
        name: &PackageName,
        version: &Version,
        chain: &[Verified],
    ) -> Result<(), ClientError> {
        let path = self.state.join("atoms").join(name.as_str());
        let pin = |cause| ClientError::Pin {
            path: path.display().to_string(),
            cause,
        };
        let seen: Vec<AtomId> = match std::fs::read_to_string(&path) {
            Ok(text) => text.lines().filter_map(AtomId::parse).collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => vec![],
            Err(e) => return Err(pin(e)),
        };
        let walked: std::collections::BTreeSet<AtomId> = chain.iter().map(|v| v.id).collect();
        let newest = chain[0].id;
        for id in seen.iter().filter(|id| !walked.contains(id)) {
            if self.target(id.key(name).as_str()).is_err() {
                return Err(ClientError::ChainRewritten {
                    name: name.clone(),
                    id: *id,
                });
            }
            let later = self.atom_chain(name, *id)?;
            if !later.iter().any(|v| v.id == newest) {
                return Err(ClientError::ChainForked {
                    name: name.clone(),
                    version: version.clone(),
                    id: *id,
                });
            }
        }
        let mut all: std::collections::BTreeSet<AtomId> = seen.into_iter().collect();
        all.extend(walked);
        let text: String = all.iter().map(|id| format!("{id}\n")).collect();
        std::fs::create_dir_all(path.parent().expect("under the state directory")).map_err(pin)?;
        let mut temp =
            tempfile::NamedTempFile::new_in(path.parent().expect("a directory")).map_err(pin)?;
        std::io::Write::write_all(&mut temp, text.as_bytes()).map_err(pin)?;
        temp.persist(&path).map_err(|e| pin(e.error))?;
        Ok(())
    }
}

/// A release fetched and verified.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub name: PackageName,
    pub version: Version,
    pub bytes: Vec<u8>,
    pub hash: Sha256,
    /// The atom that published it, and the chain before it (newest first); none for a
    /// package published before the registry kept atoms.
    pub atoms: Vec<Verified>,
}

/// Fetches `name@version` from a loaded registry: the tarball target's bytes, then its
/// publish atom (named in the target's `custom.atom`), which must record this tarball,
/// and the atom chain before it.
pub fn fetch(
    client: &Client,
    name: &PackageName,
    version: &Version,
) -> Result<Fetched, ClientError> {
    let path = StorageKey::tarball(name, version).as_str().to_owned();
    let target = client.target(&path)?;
    let bytes = client.read(&path)?;
    let hash = Sha256::of(&bytes);
    let Some(atom) = (target.custom.get("atom").and_then(|v| v.as_str())).and_then(AtomId::parse)
    else {
        // A package published before the registry kept atoms has none; one that has atoms
        // names its publish atom in every release's target.
        let atoms = format!("{}/{name}/", crate::storage::ATOMS_DIR);
        if client
            .repo
            .all_targets()
            .any(|(t, _)| t.raw().starts_with(&atoms))
        {
            return Err(ClientError::NoAtom { target: path });
        }
        return Ok(Fetched {
            name: name.clone(),
            version: version.clone(),
            bytes,
            hash,
            atoms: vec![],
        });
    };
    let atom_path = atom.key(name).as_str().to_owned();
    if client.target(&atom_path).is_err() {
        return Err(ClientError::AtomNotATarget {
            target: path,
            atom: atom.to_string(),
        });
    }
    let atoms = client.atom_chain(name, atom)?;
    let publish = &atoms[0].atom.signed;
    let recorded = (publish.operation, publish.version.as_ref(), publish.tarball);
    let expected = (
        AtomOperation::Publish,
        Some(version),
        Some(crate::atom::Tarball {
            hash,
            bytes: bytes.len() as u64,
        }),
    );
    if recorded != expected {
        let show = |(op, v, t): (
            AtomOperation,
            Option<&Version>,
            Option<crate::atom::Tarball>,
        )| {
            format!(
                "a {op} of {} with {}",
                v.map_or("no version".to_owned(), |v| format!("`{v}`")),
                t.map_or("no tarball".to_owned(), |t| format!(
                    "`{}` ({} bytes)",
                    t.hash, t.bytes
                ))
            )
        };
        return Err(ClientError::AtomMismatch {
            name: name.clone(),
            atom,
            found: show(recorded),
            expected: show(expected),
        });
    }
    check_release(name, version, &hash, &atoms)?;
    client.pin_chain(name, version, &atoms)?;
    Ok(Fetched {
        name: name.clone(),
        version: version.clone(),
        bytes,
        hash,
        atoms,
    })
}

/// A release of a package its owners claimed (an earlier release on its chain carries an
/// owner's signature) must carry one too, by a key among the owners the chain recorded
/// before it: the registry's own keys cannot make a release of a claimed package. A
/// release that carries a signature (the first claim too) must verify; with no owners
/// recorded before it, its own manifest's owners are the ones that may sign.
pub(crate) fn check_release(
    name: &PackageName,
    version: &Version,
    hash: &Sha256,
    atoms: &[Verified],
) -> Result<(), ClientError> {
    let this = &atoms[0].atom.signed;
    let earlier = || atoms[1..].iter().map(|v| &v.atom.signed);
    let claimed = earlier().find(|a| a.release.is_some());
    let Some(release) = &this.release else {
        return match claimed {
            None => Ok(()),
            Some(claim) => Err(ClientError::ReleaseUnsigned {
                name: name.clone(),
                version: version.clone(),
                since: claim.version.clone().unwrap_or_else(|| version.clone()),
            }),
        };
    };
    let refused = |reason: String| ClientError::ReleaseNotByOwner {
        name: name.clone(),
        version: version.clone(),
        reason,
    };
    let owners = earlier()
        .find_map(|a| a.owners.clone())
        .or_else(|| this.owners.clone())
        .unwrap_or_default();
    let same = |o: &crate::schema::Owner| {
        (o.keytype(), o.public()) == (release.signer.keytype(), release.signer.public())
    };
    if !owners.iter().any(same) {
        return Err(refused(format!(
            "it is signed by {}, which is not among the owners the package's atoms recorded before it ({})",
            crate::auth::describe_owner(&release.signer),
            crate::text::list(owners.iter().map(crate::auth::describe_owner))
        )));
    }
    let text = crate::payload::release_text(name, version, hash);
    crate::auth::verify(
        &text,
        &release.signature,
        &release.signer,
        crate::payload::RELEASE_NAMESPACE,
    )
    .map_err(|e| refused(crate::error_chain(&e)))
}

/// Root versions 1 to the one `repo` verified up to, read again from `from` and checked
/// as a chain (each signed by a threshold of its own root keys and of the previous
/// version's); the pinned root must be its version in that chain. tough keeps only the
/// last; the atom keys of every version are needed.
async fn root_chain(
    from: &Origin,
    repo: &tough::Repository,
    pinned: &[u8],
) -> Result<Chain, ClientError> {
    let transport = RegisTransport::new(from);
    let latest = repo.root().signed.version.get();
    // tough has parsed the pinned root already: this does not fail.
    let pinned: tough::schema::Signed<Root> =
        serde_json::from_slice(pinned).map_err(|e| ClientError::Tuf {
            from: from.shown.clone(),
            reason: format!(
                "the pinned root is not a root.json: {}",
                crate::text::message(&e.to_string())
            ),
        })?;
    let mut chain: Option<Chain> = None;
    for version in 1..=latest {
        let name = crate::trust::root_file_name(version);
        let url = from.metadata().join(&name).expect("a file name joins");
        let bytes = read_capped(&transport, url, ROOT_MAX_BYTES)
            .await
            .map_err(|reason| ClientError::RootChain { version, reason })?;
        let root: tough::schema::Signed<Root> =
            serde_json::from_slice(&bytes).map_err(|e| ClientError::RootChain {
                version,
                reason: format!("not a root.json: {}", crate::text::message(&e.to_string())),
            })?;
        if version == pinned.signed.version.get() && root.signed != pinned.signed {
            return Err(ClientError::RootChain {
                version,
                reason: "its signed part differs from the pinned root of that version".to_owned(),
            });
        }
        chain = Some(match chain {
            None => Chain::first(root, &name)?,
            Some(mut chain) => {
                chain.check_next(&root, &name)?;
                chain.push(root);
                chain
            }
        });
    }
    Ok(chain.expect("tough verified at least version 1"))
}

/// A root file larger than this is refused (tough's own limit).
const ROOT_MAX_BYTES: usize = 1 << 20;

/// The bytes at `url`, at most `max`.
async fn read_capped(transport: &RegisTransport, url: Url, max: usize) -> Result<Vec<u8>, String> {
    use futures_util::StreamExt as _;
    let mut stream = transport.fetch(url).await.map_err(|e| {
        if e.kind() == TransportErrorKind::FileNotFound {
            "it is missing".to_owned()
        } else {
            e.to_string()
        }
    })?;
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        bytes.extend_from_slice(&chunk.map_err(|e| e.to_string())?);
        if bytes.len() > max {
            return Err(format!("larger than {max} bytes"));
        }
    }
    Ok(bytes)
}

/// Whether `e` is a file the transport did not find.
fn not_found(e: &tough::error::Error) -> bool {
    let mut at: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(error) = at {
        if let Some(t) = error.downcast_ref::<TransportError>()
            && t.kind() == TransportErrorKind::FileNotFound
        {
            return true;
        }
        at = error.source();
    }
    false
}

/// tough's error, one line: what failed, without the layers that only repeat the URL
/// (`Failed to fetch …`, `Transport … error fetching …`), a hash mismatch said plainly.
fn tough_reason(e: &tough::error::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut at: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(error) = at {
        let next = error.source();
        if let Some(tough::error::Error::HashMismatch {
            context,
            calculated,
            expected,
            ..
        }) = error.downcast_ref::<tough::error::Error>()
        {
            let file = context.rsplit('/').next().unwrap_or(context);
            parts.push(format!(
                "`{file}` hashes to `{calculated}`, the signed metadata records `{expected}`"
            ));
            break;
        }
        let text = error.to_string();
        let wrapper = text.starts_with("Failed to fetch ") || text.starts_with("Transport '");
        let repeated = parts.iter().any(|p| p.contains(&text));
        if !(wrapper && next.is_some() || repeated) {
            parts.push(text);
        }
        at = next;
    }
    crate::text::message(&parts.join(": ")).into_owned()
}
