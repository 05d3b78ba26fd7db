//! `regis demo`: the whole flow on a throwaway local registry, offline.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;

use crate::auth::{SignatureFormat, SigningKey};
use crate::check;
use crate::config::Config;
use crate::git::GitRepo;
use crate::init::{self, Layout};
use crate::manifest::ManifestFile;
use crate::operation::Context;
use crate::operation::{package_set, publish, report, transfer, unpublish};
use crate::package_set::Authority;
use crate::payload::{Authenticated, PackageSetUpdate, Transfer};
use crate::sample::SamplePackage;
use crate::schema::{Location, PackageName, Timestamp, Version};
use crate::solver;
use crate::source::GitSource;
use crate::storage::FsStorage;
use crate::store::{IndexDir, RegistryDir};

use super::Global;
use super::json::{
    CheckOutput, DemoOutput, DemoTrustOutput, InitOutput, PackageSetUpdateOutput, PublishOutput,
    RefusedOutput, SampleOutput, SolveOutput, TransferOutput,
};
use super::output::outln;

/// Run the whole flow on a throwaway registry: create it, make local git repos of a few
/// sample packages that depend on each other, publish them, show a refused publish and
/// its error, re-run a publish (nothing changes), start a package set, transfer a package
/// with an owner's signature (and refuse a stranger's), refuse an unpublish that would
/// strand dependants, audit the result, sign it (keys for every role, a TUF repository
/// adopting every release, one release fetched and verified as a client would), and build
/// its static web site and sparse index. No network.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to create the demo (a new or empty directory) [default: a new temporary
    /// directory, kept so you can look around].
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

impl Args {
    pub fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        let root = match self.dir {
            Some(d) => d,
            None => tempfile::Builder::new()
                .prefix("regis-demo-")
                .tempdir()
                .context("creating a temporary directory")?
                .keep(),
        };
        let root = std::path::absolute(&root).context("resolving the demo directory")?;
        run_demo(&root, global.json)?;
        Ok(ExitCode::SUCCESS)
    }
}

/// Prints as the demo goes, or (`--json`) prints nothing until the end.
struct Say {
    text: bool,
}

impl Say {
    fn line(&self, args: std::fmt::Arguments<'_>) {
        if self.text {
            outln!("{args}");
        }
    }

    fn step(&self, n: usize, text: &str) {
        self.line(format_args!("\n[{n}] {text}"));
    }

    fn indented(&self, text: &str) {
        for line in text.lines() {
            self.line(format_args!("    {line}"));
        }
    }

    fn published(&self, out: &mut DemoOutput<'_>, report: &publish::PublishReport) {
        self.indented(&report::publish(report));
        out.published.push(PublishOutput::from(report));
    }
}

fn run_demo(root: &Path, json: bool) -> anyhow::Result<()> {
    let say = Say { text: !json };
    let github = root.join("github");
    let config =
        Config {
            name: "demo".into(),
            github_base_url: format!("file://{}", github.display()).parse().map_err(
                |expected| anyhow::anyhow!("the demo's GitHub directory: expected {expected}"),
            )?,
            owner_changes: crate::config::OwnerChanges::Signed,
            ..Config::default()
        };
    say.step(
        1,
        "create a registry (registry repo, index repo, storage, bare remotes)",
    );
    // The workflows install this regis (the demo never runs them).
    let repository = init::default_repository().and_then(|url| url.parse().ok());
    let install = init::RegisInstall::this_build(repository)?;
    let (layout, config) = init::init(&root.join("registry-root"), &config, &install)?;
    say.line(format_args!(
        "    registry {}\n    index    {}\n    storage  {}",
        layout.registry.display(),
        layout.index.display(),
        layout.storage.display()
    ));
    let mut out = DemoOutput::new(InitOutput::new(
        &config.name,
        &layout,
        layout.storage.display().to_string(),
        &install,
    ));

    say.step(
        2,
        "create local git repos of sample packages (GitHub locations served from a local directory)",
    );
    let loc = |repo: &str| Location::github("demo", repo, None).expect("valid location");
    // Each sample carries its manifest as a different file: the core libraries' legacy
    // `bower.json`, `purs.json`, spago's `spago.yaml`, the legacy `spago.dhall` with its
    // `packages.dhall`, and regis's own `purs.dhall`.
    let mut prelude = SamplePackage::new("prelude", "1.0.0", loc("purescript-prelude"), &[]);
    prelude.manifest_file = ManifestFile::BowerJson;
    let owner = demo_key(1, "owner@example.com")?;
    let mut effect = SamplePackage::new(
        "effect",
        "1.0.0",
        loc("purescript-effect"),
        &[("prelude", ">=1.0.0 <2.0.0")],
    );
    effect.manifest.owners = Some(vec![owner.public()]);
    let mut console = SamplePackage::new(
        "console",
        "1.0.0",
        loc("purescript-console"),
        &[("effect", ">=1.0.0 <2.0.0"), ("prelude", ">=1.0.0 <2.0.0")],
    );
    console.manifest_file = ManifestFile::SpagoYaml;
    let mut tuples = SamplePackage::new(
        "tuples",
        "1.0.0",
        loc("purescript-tuples"),
        &[("effect", ">=1.0.0 <2.0.0")],
    );
    tuples.manifest_file = ManifestFile::SpagoDhall;
    let mut arrays = SamplePackage::new(
        "arrays",
        "1.0.0",
        loc("purescript-arrays"),
        &[
            ("foldable", ">=1.0.0 <2.0.0"),
            ("prelude", ">=1.0.0 <2.0.0"),
        ],
    );
    arrays.manifest_file = ManifestFile::PursDhall;
    let prelude_next = SamplePackage::new("prelude", "1.1.0", loc("purescript-prelude"), &[]);
    for (p, repo) in [
        (&prelude, "purescript-prelude"),
        (&effect, "purescript-effect"),
        (&console, "purescript-console"),
        (&tuples, "purescript-tuples"),
        (&arrays, "purescript-arrays"),
    ] {
        let dir = github.join("demo").join(format!("{repo}.git"));
        p.commit_to(&dir)
            .with_context(|| format!("creating the sample repo {}", dir.display()))?;
        let manifest = p.manifest_file.path();
        say.line(format_args!(
            "    {:<8} {} ({manifest}, tag {})",
            p.manifest.name,
            dir.display(),
            p.manifest.reference
        ));
        out.samples.push(SampleOutput::new(p, dir));
    }
    prelude_next.commit_to(&github.join("demo/purescript-prelude.git"))?;

    let registry = GitRepo::open(&layout.registry)?;
    let index = GitRepo::open(&layout.index)?;
    let storage = FsStorage::new(&layout.storage);
    let source = GitSource::new();
    let ctx = Context {
        config: &config,
        registry: &registry,
        index: &index,
        storage: &storage,
        mirrors: &[],
        source: &source,
        now: Timestamp::now(),
    };
    say.step(
        3,
        "publish prelude (bower.json), effect (purs.json), console (spago.yaml) and tuples (spago.dhall: its dependency's exact version from packages.dhall)",
    );
    for p in [&prelude, &effect, &console, &tuples] {
        let report = publish::publish(&ctx, &p.payload(true))?;
        say.published(&mut out, &report);
    }

    say.step(
        4,
        "publish an update of prelude (no location needed: the registry knows it)",
    );
    let report = publish::publish(&ctx, &prelude_next.payload(false))?;
    say.published(&mut out, &report);

    say.step(
        5,
        "publish arrays, which depends on a package that does not exist: refused",
    );
    match publish::publish(&ctx, &arrays.payload(true)) {
        Ok(_) => anyhow::bail!("the demo expected publishing `arrays` to fail"),
        Err(e) => {
            say.line(format_args!("    error: {}", crate::error_chain(&e)));
            let m = &arrays.manifest;
            out.refused
                .push(RefusedOutput::new("publish", &m.name, Some(&m.version), &e));
        }
    }
    say.line(format_args!(
        "    (nothing was stored or committed for arrays: {})",
        if storage.root().join("arrays").exists() {
            "unexpected tarball!"
        } else {
            "no tarball, no metadata, no index line"
        }
    ));

    say.step(
        6,
        "re-run the prelude 1.0.0 publish: every step finds its work done",
    );
    let report = publish::publish(&ctx, &prelude.payload(true))?;
    say.published(&mut out, &report);

    say.step(
        7,
        "start the first package set (prelude, effect, console), then let the daily job upgrade prelude",
    );
    let first = PackageSetUpdate {
        compiler: None,
        packages: [
            ("prelude", "1.0.0"),
            ("effect", "1.0.0"),
            ("console", "1.0.0"),
        ]
        .into_iter()
        .map(|(n, v)| Ok((n.parse()?, Some(v.parse()?))))
        .collect::<Result<_, crate::schema::SchemaError>>()?,
    };
    let report = package_set::update(&ctx, &first, Authority::Trustee, &package_set::Silent)?;
    say.indented(&report::package_set(&report, false));
    out.package_sets
        .push(PackageSetUpdateOutput::new(&report, false));
    let inputs = package_set::Inputs::of(&ctx);
    let daily = package_set::daily(&inputs, Some(&ctx), &package_set::Silent)?;
    match &daily.update {
        Some(report) => {
            say.indented(&report::package_set(report, false));
            out.package_sets
                .push(PackageSetUpdateOutput::new(report, false));
        }
        None => anyhow::bail!("the demo expected the daily job to upgrade prelude"),
    }

    say.step(8, "the build plan of console: regis solve console@1.0.0");
    let packages = solver::DirPackages {
        registry: &RegistryDir::new(&layout.registry),
        index: &IndexDir::new(&layout.index),
    };
    let name: PackageName = "console".parse()?;
    let version: Version = "1.0.0".parse()?;
    let plan = solver::Solver::new(&packages).solve(
        &solver::Request::published(name.clone(), version.clone(), None),
        &[],
    )?;
    say.line(format_args!(
        "    compiler {}: {}",
        plan.compiler,
        report::plan_line(&plan.resolutions)
    ));
    out.solved = Some(SolveOutput::new(&name, &version, None, &Ok(plan)));

    say.step(
        9,
        "effect's owner signs a transfer with their SSH key (regis sign transfer effect --to-github demo/effect)",
    );
    let transfer = Transfer {
        name: "effect".parse()?,
        new_location: loc("effect"),
        signed_at: None,
    };
    let payload = serde_json::to_string(&transfer)?;
    let signed = |key: &SigningKey| -> anyhow::Result<Authenticated> {
        Ok(Authenticated {
            payload: payload.clone(),
            signature: key.sign(&payload, SignatureFormat::Raw, &config.signature_namespace)?,
        })
    };
    let stranger = demo_key(2, "stranger@example.com")?;
    match transfer::transfer(&ctx, &signed(&stranger)?) {
        Ok(_) => anyhow::bail!("the demo expected a stranger's transfer to be refused"),
        Err(e) => {
            say.line(format_args!(
                "    signed by a stranger: {}",
                crate::error_chain(&e)
            ));
            out.refused
                .push(RefusedOutput::new("transfer", &transfer.name, None, &e));
        }
    }
    let report = transfer::transfer(&ctx, &signed(&owner)?)?;
    say.indented(&report::transfer(&report));
    out.transfer = Some(TransferOutput::from(&report));

    say.step(
        10,
        "effect's owner asks to unpublish effect@1.0.0: refused while the package set holds it",
    );
    let unpublish_payload =
        r#"{"name":"effect","version":"1.0.0","reason":"demo: published by mistake"}"#;
    let signed_unpublish = Authenticated {
        payload: unpublish_payload.to_owned(),
        signature: owner.sign(
            unpublish_payload,
            SignatureFormat::Raw,
            &config.signature_namespace,
        )?,
    };
    match unpublish::unpublish(&ctx, &signed_unpublish) {
        Ok(_) => anyhow::bail!("the demo expected the unpublish to be refused"),
        Err(e) => {
            say.line(format_args!("    error: {}", crate::error_chain(&e)));
            let version = "1.0.0".parse()?;
            out.refused.push(RefusedOutput::new(
                "unpublish",
                &transfer.name,
                Some(&version),
                &e,
            ));
        }
    }

    say.step(11, "audit the registry: regis check");
    let report = check::run(
        &RegistryDir::new(&layout.registry),
        &IndexDir::new(&layout.index),
        Some(crate::storage::Stores::single(&storage)),
        config.trust_atom_key.as_ref(),
    )?;
    for f in &report.findings {
        say.line(format_args!("    {f}"));
    }
    say.line(format_args!(
        "    checked {} packages, {} versions, {} tarballs: {} findings",
        report.packages,
        report.versions,
        report.tarballs_checked,
        report.findings.len()
    ));
    if !report.is_clean() {
        anyhow::bail!("the demo registry has findings");
    }
    out.check = Some(CheckOutput::from(&report));

    say.step(
        12,
        "sign what the registry holds: keys for every role, a TUF repository adopting every release and package set, then prelude@1.0.0 fetched and verified as a client would",
    );
    out.trust = Some(demo_trust(&say, root, &layout, &ctx)?);

    say.step(
        13,
        "the registry as a static web site and a sparse HTTP index: regis site build",
    );
    out.site = Some(demo_site(&say, root, &layout, &ctx)?);

    say.step(
        14,
        "the registry as a server: regis serve, an organization reserving `acme-`, tokens, a publish through the HTTP API run as a job",
    );
    out.server = Some(demo_server(&say, root, &github, &install)?);

    if json {
        super::json::print(&out)?;
    } else {
        print_where(&layout);
    }
    Ok(())
}

/// Step 12: `regis keys init` (keys outside every git work tree), `regis verify --adopt`,
/// `regis fetch` and `regis verify` from the storage directory with the new root pinned.
fn demo_trust(
    say: &Say,
    root: &Path,
    layout: &Layout,
    ctx: &Context<'_>,
) -> anyhow::Result<DemoTrustOutput> {
    let keys = root.join("keys");
    let expires = jiff::Timestamp::from_second(jiff::Timestamp::now().as_second() + 365 * 86_400)?;
    let mut made = None;
    ctx.registry.commit_change(
        "Root of trust",
        ctx.config.push_retry(),
        |registry| -> anyhow::Result<Vec<PathBuf>> {
            let init = crate::trust::init(registry, &keys, 1, 1, expires)?;
            let path = PathBuf::from(&init.root);
            made = Some(init);
            Ok(vec![path])
        },
    )?;
    let init = made.expect("the commit ran the change");
    let key = |role: crate::trust::Role| {
        (init.keys.iter())
            .find(|k| k.role == role)
            .map(|k| crate::trust::KeySource::File(k.path.clone()))
    };
    let config = Config {
        trust_targets_key: key(crate::trust::Role::Targets),
        trust_snapshot_key: key(crate::trust::Role::Snapshot),
        trust_timestamp_key: key(crate::trust::Role::Timestamp),
        trust_atom_key: key(crate::trust::Role::Atom),
        trust_hash_bins: 16,
        ..ctx.config.clone()
    };
    let ctx = Context {
        config: &config,
        ..*ctx
    };
    let adopted = crate::operation::verify::adopt(&ctx)?;
    say.line(format_args!(
        "    keys in {}; root version 1 in {}",
        keys.display(),
        init.root
    ));
    say.line(format_args!(
        "    adopted: {} releases and {} package sets listed in {} hash bins, copied to storage",
        adopted.tarballs, adopted.package_sets, adopted.bins
    ));
    let pinned = std::fs::read(layout.registry.join(&init.root))?;
    let origin = crate::operation::client::Origin::parse(&layout.storage.display().to_string())?;
    let client =
        crate::operation::client::Client::load(origin, &pinned, &root.join("client-state"))?;
    let (name, version): (PackageName, Version) = ("prelude".parse()?, "1.0.0".parse()?);
    let fetched = crate::operation::client::fetch(&client, &name, &version)?;
    let (timestamp, snapshot, _) = client.versions();
    say.line(format_args!(
        "    fetched {name}@{version}: {} bytes, `{}`, verified through TUF (timestamp {timestamp}, snapshot {snapshot})",
        fetched.bytes.len(),
        fetched.hash
    ));
    let found = crate::operation::verify::verify_all(&client, Some(&layout.registry))?;
    say.line(format_args!(
        "    verify: {} targets, {} metadata files held to them: {} problems",
        found.targets,
        found.metadata,
        found.problems.len()
    ));
    if !found.problems.is_empty() {
        anyhow::bail!("the demo registry does not verify: {:?}", found.problems);
    }
    Ok(DemoTrustOutput {
        tarballs: adopted.tarballs,
        package_sets: adopted.package_sets,
        bins: adopted.bins,
        fetched: format!("{name}@{version}"),
        hash: fetched.hash.to_string(),
        timestamp,
        targets: found.targets,
        problems: found.problems,
    })
}

/// Step 13: `regis site build` into `<root>/site`, each release checked against the TUF
/// repository step 12 made.
fn demo_site(
    say: &Say,
    root: &Path,
    layout: &Layout,
    ctx: &Context<'_>,
) -> anyhow::Result<crate::site::Built> {
    let out = root.join("site");
    let input = crate::site::Input {
        registry: &layout.registry,
        index: &layout.index,
        storage: Some(ctx.storage),
        storage_dir: Some(&layout.storage),
        name: &ctx.config.name,
        github_base: ctx.config.github_base_url.as_str(),
        download: ctx.config.storage_url.as_ref().map(|u| u.as_str()),
        url: None,
    };
    let built = crate::site::build(&input, &out)?;
    say.line(format_args!(
        "    {} pages for {} packages and {} package sets, {} READMEs rendered, in {}",
        built.pages,
        built.packages,
        built.package_sets,
        built.readmes_read,
        out.display()
    ));
    say.line(format_args!(
        "    open {}, or serve it: python3 -m http.server -d {}",
        out.join("index.html").display(),
        out.display()
    ));
    if !built.problems.is_empty() {
        anyhow::bail!(
            "the demo site has versions that do not verify: {:?}",
            built.problems
        );
    }
    Ok(built)
}

/// Step 14: a server's home beside the demo registry with one registry, an organization
/// `acme` (prefix `acme-`, member `alice`), a token of alice's and an outsider's; the
/// server on a free port of 127.0.0.1, the outsider's publish of `acme-widgets` refused,
/// alice's accepted and run as a job, its log printed; then the server stopped.
fn demo_server(
    say: &Say,
    root: &Path,
    github: &Path,
    install: &init::RegisInstall,
) -> anyhow::Result<super::json::DemoServerOutput> {
    use crate::server::{self, access};
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;

    let base = format!("file://{}", github.display());
    let home = root.join("server");
    let server = server::init_with(&home, &["demo".to_owned()], install, &|c| {
        if let Ok(url) = base.parse() {
            c.github_base_url = url;
        }
    })?;
    let now = crate::schema::Timestamp::now();
    let mut db = server.home.open_db()?;
    let org = access::Org {
        registry: "demo".into(),
        name: "acme".into(),
        prefixes: vec!["acme-".into()],
        members: vec!["alice".into()],
        bytes_max: None,
        operations_per_hour: None,
    };
    access::create_org(&mut db, &org, now)?;
    let in_a_day =
        crate::schema::Timestamp::from_datetime(now.as_datetime() + chrono::Duration::days(1));
    let mut token = |org: Option<(String, String)>| {
        let request = access::TokenRequest {
            registry: "demo".into(),
            org,
            scopes: vec![access::Scope::Publish],
            label: "demo".into(),
            expires_at: in_a_day,
        };
        access::create_token(&mut db, &request, now)
    };
    let alice = token(Some(("acme".into(), "alice".into())))?;
    let outsider = token(None)?;
    drop(db);
    let location = Location::github("demo", "acme-widgets", None).expect("valid location");
    let widgets = SamplePackage::new("acme-widgets", "1.0.0", location, &[]);
    widgets.commit_to(&github.join("demo/acme-widgets.git"))?;
    let payload = serde_json::json!({
        "name": "acme-widgets",
        "location": {"githubOwner": "demo", "githubRepo": "acme-widgets"},
        "ref": widgets.manifest.reference,
        "version": "1.0.0",
        "compiler": "0.15.15",
    })
    .to_string();

    let stop = Arc::new(AtomicBool::new(false));
    let (ready, bound) = std::sync::mpsc::channel();
    let serving = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let quiet: server::Say = Arc::new(|_| {});
            let listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
            server::serve_until(
                server,
                listen,
                quiet,
                move |addr| {
                    let _ = ready.send(addr);
                },
                stop,
            )
        })
    };
    let Ok(addr) = bound.recv_timeout(std::time::Duration::from_secs(60)) else {
        return match serving.join() {
            Ok(Err(e)) => Err(e.into()),
            _ => Err(anyhow::anyhow!("the demo server did not start")),
        };
    };
    let url = format!("http://{addr}");
    say.line(format_args!(
        "    regis serve --home {} on {url}",
        home.display()
    ));
    let talk = || -> anyhow::Result<(String, String, bool, Vec<String>)> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let client = crate::operation::client::http_client();
        runtime.block_on(async {
            let publish = |token: String| {
                client
                    .post(format!("{url}/api/v1/publish"))
                    .bearer_auth(token)
                    .body(payload.clone())
                    .send()
            };
            let refused: serde_json::Value = serde_json::from_slice(
                &publish(outsider.secret.reveal().to_owned())
                    .await?
                    .bytes()
                    .await?,
            )?;
            let refused = refused["error"].as_str().unwrap_or_default().to_owned();
            say.line(format_args!("    an outsider's token: refused: {refused}"));
            let created: serde_json::Value = serde_json::from_slice(
                &publish(alice.secret.reveal().to_owned())
                    .await?
                    .bytes()
                    .await?,
            )?;
            let id = created["jobId"].as_str().unwrap_or_default().to_owned();
            say.line(format_args!("    alice's token: job {id}"));
            let started = std::time::Instant::now();
            loop {
                let job: serde_json::Value = serde_json::from_slice(
                    &client
                        .get(format!("{url}/api/v1/jobs/{id}"))
                        .send()
                        .await?
                        .bytes()
                        .await?,
                )?;
                if job.get("finishedAt").is_some() {
                    let logs: Vec<String> = (job["logs"].as_array().into_iter().flatten())
                        .map(|l| {
                            let message = l["message"].as_str().unwrap_or_default();
                            let first = message.lines().next().unwrap_or_default();
                            format!("{} {first}", l["level"].as_str().unwrap_or_default())
                        })
                        .collect();
                    for line in &logs {
                        say.line(format_args!("      {line}"));
                    }
                    return Ok((refused, id, job["success"] == true, logs));
                }
                if started.elapsed() > std::time::Duration::from_secs(300) {
                    anyhow::bail!("the demo's job {id} did not finish in 5 minutes");
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        })
    };
    let talked = talk();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let served = serving.join();
    let (refused, job_id, success, logs) = talked?;
    if let Ok(Err(e)) = served {
        return Err(e.into());
    }
    if !success {
        anyhow::bail!("the demo's publish through the server failed: {logs:?}");
    }
    Ok(super::json::DemoServerOutput {
        home,
        url,
        refused,
        job_id,
        success,
        logs,
    })
}

/// A demo ed25519 key made from a fixed seed (the demo runs where ssh-keygen may not).
fn demo_key(seed: u8, comment: &str) -> anyhow::Result<SigningKey> {
    let mut key =
        ssh_key::PrivateKey::from(ssh_key::private::Ed25519Keypair::from_seed(&[seed; 32]));
    key.set_comment(comment);
    let pem = key.to_openssh(ssh_key::LineEnding::LF)?;
    Ok(SigningKey::from_openssh(&pem, None)?)
}

fn print_where(layout: &Layout) {
    outln!(
        "\nEverything is in {}:",
        layout.root.parent().unwrap_or(&layout.root).display()
    );
    outln!("  metadata     {}/metadata/", layout.registry.display());
    outln!("  index        {}/", layout.index.display());
    outln!("  tarballs     {}/", layout.storage.display());
    outln!(
        "  git remotes  {} and {}",
        layout.registry_remote.display(),
        layout.index_remote.display()
    );
    outln!("Try: regis --registry {} check", layout.registry.display());
    outln!(
        "     regis --registry {} solve console@1.0.0",
        layout.registry.display()
    );
    outln!(
        "     regis --registry {} fetch console@1.0.0 --out /tmp",
        layout.registry.display()
    );
    outln!("     git -C {} log --oneline", layout.index.display());
}
