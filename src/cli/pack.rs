//! `regis pack PAYLOAD`: the tarball a publish would store, made where the owner is, and
//! the owner's signature of it for the payload's `releaseSignature`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};

use crate::operation::publish;
use crate::payload::{Operation, RELEASE_NAMESPACE, release_text};

use super::Global;
use super::output::{noteln, out, outln, warnln};
use super::sign::Signing;

/// Pack a release as the registry would, and sign it as its owner.
///
/// Reads a Publish payload (the one you will submit), fetches the package at its `ref`
/// from its `location` (or from `--source`, a local git repository), reads the manifest
/// and packs the tarball exactly as a publish does — packing is deterministic, so the
/// hash printed is the hash the registry will compute. With `--key` (an owner's OpenSSH
/// private key) it signs `regis-release:<name>@<version>:<hash>` and prints the payload
/// with `releaseSignature` added: publish that. Once a release of a package carries an
/// owner's signature, every later release must (the registry refuses one without, and
/// `regis fetch` refuses a release the registry made alone).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The Publish payload (`-` for standard input).
    #[arg(value_name = "PAYLOAD")]
    pub payload: PathBuf,
    /// A local git repository to fetch the payload's `ref` from, instead of its location.
    #[arg(long, value_name = "DIR")]
    pub source: Option<PathBuf>,
    /// Where the tarball is written, as `<name>-<version>.tar.gz`.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub out: PathBuf,
    #[command(flatten)]
    pub signing: Signing,
}

impl Args {
    pub fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        let request = match super::read_payload(&self.payload)? {
            Operation::Publish(p) => p,
            _ => bail!(
                "`{}` is not a Publish payload: `regis pack` packs a release",
                self.payload.display()
            ),
        };
        // The registry's config when run in its checkout (its GitHub URL, its limits), the
        // PureScript Registry's defaults elsewhere.
        let config = global.config().unwrap_or_default();
        let registry = crate::store::RegistryDir::new(&global.registry);
        let location = match (&request.location, registry.read_metadata(&request.name)) {
            (Some(location), _) => location.clone(),
            (None, Ok(Some(m))) => m.location,
            (None, _) => bail!(
                "the payload names no `location`, and no registry checkout here records `{}`: add the location",
                request.name
            ),
        };
        let url = match &self.source {
            Some(dir) => {
                let dir = std::path::absolute(dir)
                    .with_context(|| format!("reading `{}`", dir.display()))?;
                format!("file://{}", dir.display())
            }
            None => location.clone_url(config.github_base_url.as_str()),
        };
        let source = crate::source::GitSource::new();
        let packed = publish::pack_request(&config, &source, &request, &location, &url, None)?;
        let (name, version) = (&packed.manifest.name, &packed.manifest.version);
        let path = super::fetch::write_tarball(&self.out, name, version, &packed.tarball)?;
        for warning in &packed.warnings {
            warnln!("{warning}");
        }
        let text = release_text(name, version, &packed.hash);
        let signed = match &self.signing.key {
            Some(_) => {
                let signature = self
                    .signing
                    .sign_in(text.clone(), RELEASE_NAMESPACE)?
                    .signature;
                let mut payload = request.clone();
                payload.release_signature = Some(signature);
                Some(payload)
            }
            None => None,
        };
        if global.json {
            super::json::print(&super::json::PackOutput {
                name,
                version,
                path: &path,
                bytes: packed.tarball.len() as u64,
                files: packed.files,
                hash: packed.hash.to_string(),
                release_text: &text,
                payload: signed.as_ref(),
            })?;
            return Ok(ExitCode::SUCCESS);
        }
        noteln!(
            "packed `{name}@{version}` to {}: {} files, {} bytes, `{}`",
            path.display(),
            packed.files,
            packed.tarball.len(),
            packed.hash
        );
        match signed {
            Some(payload) => {
                noteln!("signed `{text}`: publish this payload");
                out!(
                    "{}\n",
                    serde_json::to_string_pretty(&payload).context("encoding the payload")?
                );
            }
            None => outln!("{text}"),
        }
        Ok(ExitCode::SUCCESS)
    }
}
