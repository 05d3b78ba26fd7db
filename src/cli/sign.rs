//! `regis sign`: sign a `Transfer`, `Unpublish`, `Yank`, `Unyank`, `Deprecate`, `Alias` or
//! `Unalias` payload with an owner's SSH key and print the `{"payload", "signature"}` JSON to paste into a
//! registry issue; or (`regis sign owners`) the owner list a publish sets, for its
//! `ownersSignature`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};

use crate::auth::{SignatureFormat, SigningKey};
use crate::manifest::{Given, ManifestFile};
use crate::payload::{Alias, Authenticated, AuthenticatedData, Operation, Transfer, Unalias};
use crate::schema::{Location, PackageName, PackageVersion, Tag, Timestamp, Version};

use super::Global;
use super::output::noteln;

/// Sign a `Transfer`, `Unpublish`, `Yank`, `Unyank`, `Deprecate`, `Alias` or `Unalias`
/// payload with a package owner's SSH private key.
///
/// The payload is read from FILE, or built by the `transfer`, `unpublish`, `yank`,
/// `deprecate`, `alias` or `unalias` subcommand.
/// What is signed is the payload's canonical compact JSON with `signedAt`, the time of
/// signing (any `signedAt` in FILE is replaced): a registry carries out a signed text once,
/// so the same request signed again is a new text. Prints `{"payload": ...,
/// "signature": ...}`: paste it into an issue on the registry repository (with `--json`, it
/// is the document's `signed`).
///
/// `regis sign owners MANIFEST` signs the owner list a publish sets instead, for the
/// Publish payload's `ownersSignature`.
///
/// Keys: `ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`/`384`/`521`, in the OpenSSH
/// format `ssh-keygen` writes; the matching public key must be one of the package's owners.
#[derive(Debug, clap::Args)]
#[command(
    subcommand_negates_reqs = true,
    override_usage = "regis sign --key <PATH> [OPTIONS] <FILE>\n       regis sign --key <PATH> [OPTIONS] <COMMAND>"
)]
pub struct Args {
    /// The payload: a `Transfer {name, newLocation}`, `Unpublish {name, version, reason}`,
    /// `Yank {name, yank, reason}`, `Unyank {name, unyank}`, `Deprecate {name, message,
    /// alternative?}`, `Alias {name, alias, version}` or `Unalias {name, unalias}` JSON
    /// object (`-` for standard input); text around the object is ignored.
    #[arg(value_name = "FILE", required = true)]
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub signing: Signing,
    #[command(subcommand)]
    pub build: Option<Build>,
}

/// How to sign: options taken before or after the subcommand.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Signing")]
pub struct Signing {
    /// The OpenSSH private key to sign with, e.g. `~/.ssh/id_ed25519` (required).
    #[arg(long, value_name = "PATH", global = true)]
    pub key: Option<PathBuf>,
    /// The environment variable holding the key's passphrase, if the key has one.
    #[arg(long, value_name = "VAR", global = true)]
    pub passphrase_env: Option<String>,
    /// The signature format.
    #[arg(long, value_enum, default_value_t = Format::Raw, global = true)]
    pub format: Format,
    /// The namespace of an `sshsig` signature [default: `signatureNamespace` from the
    /// registry's regis.dhall, else `file`].
    #[arg(long, value_name = "NS", global = true)]
    pub namespace: Option<String>,
}

/// A signature format, as `--format` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Hex of the raw SSH signature: the PureScript Registry's format.
    Raw,
    /// An `SSH SIGNATURE` block, as `ssh-keygen -Y sign -n NAMESPACE` writes.
    Sshsig,
}

impl From<Format> for SignatureFormat {
    fn from(f: Format) -> SignatureFormat {
        match f {
            Format::Raw => SignatureFormat::Raw,
            Format::Sshsig => SignatureFormat::Sshsig,
        }
    }
}

/// Build the payload from arguments instead of reading FILE.
#[derive(Debug, clap::Subcommand)]
pub enum Build {
    /// Sign a transfer of a package to a new location.
    Transfer(TransferArgs),
    /// Sign the unpublishing of one version.
    Unpublish(UnpublishArgs),
    /// Sign the yanking of one version (or, with `--undo`, taking the yank back).
    Yank(YankArgs),
    /// Sign the deprecation of a package (or, with `--message ""`, clearing it).
    Deprecate(DeprecateArgs),
    /// Sign pointing a tag of a package at a version (`NAME@TAG` then names it).
    Alias(AliasArgs),
    /// Sign removing a tag of a package.
    Unalias(UnaliasArgs),
    /// Sign the owner list a publish gives a package: prints the Publish payload's
    /// `ownersSignature`.
    ///
    /// A registry whose `ownerChanges` is `"signed"` lets a publish change a package's
    /// `owners` only with a current owner's (or a trustee's) signature of the new list.
    /// What is signed is `regis-owners:<name>@<version>:` then the manifest's `owners` as
    /// compact JSON (`id`?, `keytype`, `public`): it names the version, so it serves that
    /// one publish only.
    Owners(OwnersArgs),
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("to").required(true).args(["to_github", "to_git"])))]
pub struct TransferArgs {
    /// The package to move.
    #[arg(value_name = "NAME")]
    pub name: PackageName,
    /// The new location: a GitHub repository.
    #[arg(long, value_name = "OWNER/REPO", help_heading = "New location")]
    pub to_github: Option<String>,
    /// The new location: any git URL (https, git, ssh or file).
    #[arg(long, value_name = "URL", help_heading = "New location")]
    pub to_git: Option<String>,
    /// The package's directory inside the repository.
    #[arg(long, value_name = "DIR", help_heading = "New location")]
    pub subdir: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct UnpublishArgs {
    /// The version to unpublish, e.g. `aff@7.1.0`.
    #[arg(value_name = "NAME@VERSION")]
    pub package: PackageVersion,
    /// Why the version is taken down (at most 300 characters); recorded in the metadata.
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["reason", "undo"])))]
pub struct YankArgs {
    /// The version to yank, e.g. `aff@7.1.0`.
    #[arg(value_name = "NAME@VERSION")]
    pub package: PackageVersion,
    /// Why the version is yanked (at most 300 characters); recorded in the metadata.
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// Take the version's yank back (an Unyank payload).
    #[arg(long)]
    pub undo: bool,
}

#[derive(Debug, clap::Args)]
pub struct AliasArgs {
    /// The package.
    #[arg(value_name = "NAME")]
    pub name: PackageName,
    /// The tag, e.g. `next`: lowercase ASCII letters, digits, `-`, `.` and `_`, a letter
    /// first, never a version.
    #[arg(value_name = "TAG")]
    pub tag: Tag,
    /// The published version it names.
    #[arg(value_name = "VERSION")]
    pub target: Version,
}

#[derive(Debug, clap::Args)]
pub struct UnaliasArgs {
    /// The package.
    #[arg(value_name = "NAME")]
    pub name: PackageName,
    /// The tag to remove.
    #[arg(value_name = "TAG")]
    pub tag: Tag,
}

#[derive(Debug, clap::Args)]
pub struct OwnersArgs {
    /// The manifest the version is published with: a `purs.json`, `spago.yaml` or
    /// `purs.dhall` (by its file name); its name, version and `owners` are what is signed.
    #[arg(value_name = "MANIFEST")]
    pub manifest: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct DeprecateArgs {
    /// The package to deprecate.
    #[arg(value_name = "NAME")]
    pub name: PackageName,
    /// Why the package is deprecated (at most 300 characters); `""` clears the
    /// deprecation.
    #[arg(long, value_name = "TEXT")]
    pub message: String,
    /// The package its users should move to.
    #[arg(long, value_name = "NAME")]
    pub alternative: Option<PackageName>,
}

impl Args {
    pub fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        if let Some(Build::Owners(owners)) = &self.build {
            return self.sign_owners(owners, global);
        }
        let data = self.data()?.with_signed_at(Timestamp::now());
        let payload = data.canonical();
        let signed = self.signing.sign(payload, global)?;
        if global.json {
            let operation = match data {
                AuthenticatedData::Transfer(_) => "transfer",
                AuthenticatedData::Unpublish(_) => "unpublish",
                AuthenticatedData::Yank(_) => "yank",
                AuthenticatedData::Unyank(_) => "unyank",
                AuthenticatedData::Deprecate(_) => "deprecate",
                AuthenticatedData::Alias(_) => "alias",
                AuthenticatedData::Unalias(_) => "unalias",
            };
            super::json::print(&super::json::SignOutput::new(operation, &signed))?;
        } else {
            let text =
                serde_json::to_string_pretty(&signed).context("encoding the output as JSON")?;
            super::output::stdout_json(&text);
        }
        Ok(ExitCode::SUCCESS)
    }

    /// `regis sign owners MANIFEST`: prints `{"ownersSignature": ...}`.
    fn sign_owners(&self, args: &OwnersArgs, global: &Global) -> anyhow::Result<ExitCode> {
        if let Some(file) = &self.file {
            bail!(
                "both a payload file `{}` and the `owners` subcommand given: expected one of them",
                file.display()
            );
        }
        let (name, version, text) = owners_text(&args.manifest)?;
        let signed = self.signing.sign(text, global)?;
        if global.json {
            super::json::print(&super::json::SignOutput::new("owners", &signed))?;
        } else {
            let object = serde_json::json!({ "ownersSignature": signed.signature });
            let text =
                serde_json::to_string_pretty(&object).context("encoding the output as JSON")?;
            super::output::stdout_json(&text);
            noteln!(
                "signed `{}`: add `ownersSignature` to the Publish payload of `{name}@{version}`",
                crate::text::value(&signed.payload)
            );
        }
        Ok(ExitCode::SUCCESS)
    }

    fn data(&self) -> anyhow::Result<AuthenticatedData> {
        match (&self.build, &self.file) {
            (Some(_), Some(file)) => bail!(
                "both a payload file `{}` and a subcommand given: expected one of them",
                file.display()
            ),
            (Some(build), None) => build.data(),
            (None, Some(file)) => read_data(file),
            (None, None) => {
                bail!(
                    "no payload given: expected a FILE, or the `transfer`, `unpublish`, `yank`, `deprecate`, `alias` or `unalias` subcommand"
                )
            }
        }
    }
}

impl Signing {
    /// `payload` signed with `--key`.
    pub(crate) fn sign(&self, payload: String, global: &Global) -> anyhow::Result<Authenticated> {
        let namespace = self.namespace(global)?;
        self.sign_in(payload, &namespace)
    }

    /// `payload` signed with `--key`, an `sshsig` signature in `namespace`.
    pub(crate) fn sign_in(
        &self,
        payload: String,
        namespace: &str,
    ) -> anyhow::Result<Authenticated> {
        let Some(key_path) = self.key.as_deref() else {
            bail!("no key to sign with: pass `--key PATH`, e.g. `--key ~/.ssh/id_ed25519`");
        };
        let passphrase = self.passphrase()?;
        let key = SigningKey::read(key_path, passphrase.as_deref()).map_err(|e| match e {
            // A key file that cannot be read keeps the command from running.
            crate::auth::AuthError::ReadKey { .. } => super::could_not_run(e.into()),
            e => e.into(),
        })?;
        let signature = key.sign(&payload, self.format.into(), namespace)?;
        Ok(Authenticated { payload, signature })
    }

    /// The passphrase from the `--passphrase-env` variable; never printed.
    fn passphrase(&self) -> anyhow::Result<Option<String>> {
        let Some(var) = &self.passphrase_env else {
            return Ok(None);
        };
        match std::env::var(var) {
            Ok(passphrase) => Ok(Some(passphrase)),
            Err(std::env::VarError::NotPresent) => bail!(
                "the environment variable `{var}` named by `--passphrase-env` is not set: expected the key's passphrase in it"
            ),
            Err(std::env::VarError::NotUnicode(_)) => bail!(
                "the environment variable `{var}` named by `--passphrase-env` is not valid UTF-8"
            ),
        }
    }

    /// `--namespace`, else the registry config's for `sshsig` (raw signatures have none).
    fn namespace(&self, global: &Global) -> anyhow::Result<String> {
        match (&self.namespace, self.format) {
            (Some(namespace), _) => Ok(namespace.clone()),
            (None, Format::Sshsig) => Ok(global
                .config()
                .context("reading the signature namespace from the registry config")?
                .signature_namespace),
            (None, Format::Raw) => Ok(String::new()),
        }
    }
}

impl Build {
    fn data(&self) -> anyhow::Result<AuthenticatedData> {
        match self {
            Build::Transfer(t) => Ok(AuthenticatedData::Transfer(Transfer {
                name: t.name.clone(),
                new_location: t.location()?,
                signed_at: None,
            })),
            Build::Unpublish(u) => {
                let object = serde_json::json!({
                    "name": u.package.name,
                    "version": u.package.version,
                    "reason": u.reason,
                });
                Ok(AuthenticatedData::parse(&object.to_string())?)
            }
            Build::Yank(y) => {
                let (name, version) = (&y.package.name, &y.package.version);
                let object = match &y.reason {
                    Some(reason) if !y.undo => {
                        serde_json::json!({"name": name, "yank": version, "reason": reason})
                    }
                    _ => serde_json::json!({"name": name, "unyank": version}),
                };
                Ok(AuthenticatedData::parse(&object.to_string())?)
            }
            Build::Deprecate(d) => {
                let mut object = serde_json::json!({"name": d.name, "message": d.message});
                if let Some(alternative) = &d.alternative {
                    object["alternative"] = serde_json::json!(alternative);
                }
                Ok(AuthenticatedData::parse(&object.to_string())?)
            }
            Build::Alias(a) => Ok(AuthenticatedData::Alias(Alias {
                name: a.name.clone(),
                alias: a.tag.clone(),
                version: a.target.clone(),
                signed_at: None,
            })),
            Build::Unalias(u) => Ok(AuthenticatedData::Unalias(Unalias {
                name: u.name.clone(),
                unalias: u.tag.clone(),
                signed_at: None,
            })),
            Build::Owners(_) => bail!("`regis sign owners` signs an owner list, not a payload"),
        }
    }
}

/// The name, version and [`crate::payload::owners_text`] of the manifest in `file` (a
/// `purs.json`, `spago.yaml` or `purs.dhall`, told by its name).
fn owners_text(file: &Path) -> anyhow::Result<(PackageName, crate::schema::Version, String)> {
    let kinds = [
        ManifestFile::PursJson,
        ManifestFile::SpagoYaml,
        ManifestFile::PursDhall,
    ];
    let file_name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let Some(kind) = kinds.into_iter().find(|k| k.path() == file_name) else {
        bail!(
            "`{}` is not a manifest that lists owners: expected a file named `purs.json`, `spago.yaml` or `purs.dhall`",
            file.display()
        );
    };
    let text = super::read_capped(file, crate::operation::publish::MAX_MANIFEST_BYTES)?;
    // These three files name the package and its location themselves: what `Given` says
    // fills in only what a legacy `bower.json` or `spago.dhall` lacks.
    let (name, location) = (
        "unnamed".parse()?,
        Location::github("unknown", "unknown", None)?,
    );
    let given = Given {
        name: &name,
        version: None,
        location: &location,
        reference: "HEAD",
    };
    let (manifest, _) = kind
        .read(&text, &given, &Default::default())
        .with_context(|| format!("reading the owners in `{}`", file.display()))?;
    let Some(owners) = &manifest.owners else {
        bail!(
            "`{}` lists no `owners`: a publish without them keeps the package's owners, so there is no owner list to sign",
            file.display()
        );
    };
    let text = crate::payload::owners_text(&manifest.name, &manifest.version, owners);
    Ok((manifest.name, manifest.version, text))
}

impl TransferArgs {
    fn location(&self) -> anyhow::Result<Location> {
        let subdir = self.subdir.as_deref();
        match (&self.to_github, &self.to_git) {
            (Some(github), _) => {
                let Some((owner, repo)) = github.split_once('/') else {
                    bail!("`--to-github` `{github}` is not a repository: expected `OWNER/REPO`");
                };
                Ok(Location::github(owner, repo, subdir)?)
            }
            (None, Some(url)) => Ok(Location::git(url, subdir)?),
            (None, None) => {
                bail!("no new location: expected `--to-github OWNER/REPO` or `--to-git URL`")
            }
        }
    }
}

/// Read a signed payload's inner shape from a file (`-` for standard input).
fn read_data(file: &Path) -> anyhow::Result<AuthenticatedData> {
    let text = super::read_input(file)?;
    let context = || format!("reading the payload in `{}`", file.display());
    let json = crate::payload::extract_json(&text)
        .ok_or(crate::payload::PayloadError::NoJson)
        .with_context(context)?;
    let other = match Operation::parse(json) {
        Ok(Operation::Publish(_)) => "a Publish payload (publishing needs no signature)",
        Ok(Operation::PackageSetUpdate(_)) => "a PackageSetUpdate payload",
        Ok(Operation::Authenticated(_)) => "a payload that is already signed",
        Err(_) => return AuthenticatedData::parse(json).with_context(context),
    };
    bail!(
        "`{}` holds {other}: `regis sign` signs one of {}",
        file.display(),
        crate::payload::SIGNED_SHAPES
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    fn parse(args: &[&str]) -> Result<Args, clap::Error> {
        let cli = super::super::Cli::try_parse_from(
            std::iter::once("regis")
                .chain(std::iter::once("sign"))
                .chain(args.iter().copied()),
        )?;
        match cli.command {
            super::super::Command::Sign(a) => Ok(a),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn options_go_before_or_after_the_subcommand() {
        let a = parse(&["--key", "k", "transfer", "aff", "--to-github", "me/aff"]).unwrap();
        let b = parse(&["transfer", "aff", "--to-github", "me/aff", "--key", "k"]).unwrap();
        assert_eq!(a.signing.key, b.signing.key);
        assert_eq!(
            a.data().unwrap().canonical(),
            r#"{"name":"aff","newLocation":{"githubOwner":"me","githubRepo":"aff"}}"#
        );
        let f = parse(&["--key", "k", "--format", "sshsig", "payload.json"]).unwrap();
        assert_eq!(f.file.as_deref(), Some(Path::new("payload.json")));
        assert_eq!(f.signing.format, Format::Sshsig);
    }

    #[test]
    fn a_payload_or_a_subcommand_is_required() {
        assert!(parse(&["--key", "k"]).is_err());
        assert!(
            parse(&["--key", "k", "transfer", "aff"]).is_err(),
            "a location is required"
        );
        assert!(
            parse(&[
                "transfer",
                "aff",
                "--to-github",
                "a/b",
                "--to-git",
                "https://x/y"
            ])
            .is_err()
        );
        assert!(
            parse(&["unpublish", "aff@1.0.0"]).is_err(),
            "a reason is required"
        );
    }

    #[test]
    fn subcommands_build_checked_payloads() {
        let u = parse(&["unpublish", "aff@1.0.0", "--reason", "broken build"]).unwrap();
        assert_eq!(
            u.data().unwrap().canonical(),
            r#"{"name":"aff","version":"1.0.0","reason":"broken build"}"#
        );
        let empty = parse(&["unpublish", "aff@1.0.0", "--reason", " "]).unwrap();
        insta::assert_snapshot!(empty.data().unwrap_err(), @"invalid `Unpublish` payload: `reason` is empty: say why the version is unpublished");
        let git = parse(&[
            "transfer",
            "aff",
            "--to-git",
            "https://git.example.com/aff.git",
            "--subdir",
            "lib",
        ])
        .unwrap();
        assert_eq!(
            git.data().unwrap().canonical(),
            r#"{"name":"aff","newLocation":{"gitUrl":"https://git.example.com/aff.git","subdir":"lib"}}"#
        );
        let bad = parse(&["transfer", "aff", "--to-github", "aff"]).unwrap();
        insta::assert_snapshot!(bad.data().unwrap_err(), @"`--to-github` `aff` is not a repository: expected `OWNER/REPO`");
    }
}
