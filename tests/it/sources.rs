//! Real PureScript releases published through `regis publish` (the binary, so its manifest
//! readers run in the sandbox as in production): the trees of
//! `../shared/fixtures/purescript/sources/` (see its README), each committed to a git
//! repository, tagged and published into a registry holding the real registry view of
//! `package-set-samples/`. Each must give the index line the real registry published, the
//! tarball file list the real registry's selection code gives, and, for `type-equality`,
//! the files of the real stored tarball byte for byte.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use regis::git::GitRepo;
use regis::index::IndexFile;
use regis::metadata::Metadata;
use regis::storage::{FsStorage, Storage, StorageKey};
use regis::testing;

/// A fixture case's `expected.json`.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Expected {
    name: String,
    version: String,
    #[serde(rename = "ref")]
    reference: String,
    location: serde_json::Value,
    index_line: String,
    tarball_files: Vec<String>,
    real_bytes: u64,
}

/// The files of a `.tar.gz` below its top directory, with their bytes.
pub(super) fn tarball_files(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let mut out = BTreeMap::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        let (_top, rel) = path.split_once('/').unwrap();
        let mut content = Vec::new();
        entry.read_to_end(&mut content).unwrap();
        out.insert(rel.to_owned(), content);
    }
    out
}

/// What publishing one case gave: the index line, the packed files (with bytes) and the
/// tarball's size.
struct Outcome {
    index_line: String,
    files: BTreeMap<String, Vec<u8>>,
    bytes: u64,
}

/// The real registry view of `package-set-samples/` as git repositories with remotes, and a
/// GitHub served from files.
struct View {
    tmp: tempfile::TempDir,
    registry: GitRepo,
    index: GitRepo,
    storage: FsStorage,
    config: regis::config::Config,
}

impl View {
    fn new() -> View {
        let samples = testing::purescript_fixtures()
            .unwrap()
            .join("package-set-samples");
        let tmp = tempfile::tempdir().unwrap();
        let (reg, idx) = (tmp.path().join("registry"), tmp.path().join("index"));
        let config = regis::config::Config {
            github_base_url: format!("file://{}", tmp.path().join("github").display())
                .parse()
                .unwrap(),
            // slug's packages.dhall imports the real upstream package set from here.
            dhall_cache: Some(
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("tests/dhall/cache")
                    .display()
                    .to_string(),
            ),
            ..regis::config::Config::default()
        };
        testing::copy_dir(&samples.join("registry"), &reg);
        testing::copy_dir(&samples.join("index"), &idx);
        let registry =
            GitRepo::init_with_remote(&reg, &tmp.path().join("registry.git"), "import").unwrap();
        // The registry's config, as `regis publish` reads it.
        let retry = config.push_retry();
        registry
            .commit_change("config", retry, |dir| -> Result<_, regis::git::GitError> {
                let file = dir.join(regis::config::CONFIG_FILE);
                std::fs::write(&file, config.to_dhall()).unwrap();
                Ok(vec![file])
            })
            .unwrap();
        let index =
            GitRepo::init_with_remote(&idx, &tmp.path().join("index.git"), "import").unwrap();
        let storage = FsStorage::new(tmp.path().join("storage"));
        View {
            tmp,
            registry,
            index,
            storage,
            config,
        }
    }

    /// Write the metadata and index file of `expected`'s package with `edit` (a commit to
    /// each repository): `edit` gets the metadata and the index file and gives them back.
    fn rewrite(&self, expected: &Expected, edit: impl Fn(&mut Metadata, &mut IndexFile)) {
        let name: regis::schema::PackageName = expected.name.parse().unwrap();
        let metadata_file = format!("metadata/{name}.json");
        let index_file = regis::index::entry_path(&name);
        let read = |repo: &GitRepo, file: &str| {
            std::fs::read_to_string(repo.workdir().join(file)).unwrap()
        };
        let mut metadata =
            Metadata::from_json("metadata", &read(&self.registry, &metadata_file)).unwrap();
        let mut entries =
            IndexFile::parse("index", &name, &read(&self.index, &index_file)).unwrap();
        edit(&mut metadata, &mut entries);
        let retry = self.config.push_retry();
        for (repo, file, text) in [
            (&self.registry, &metadata_file, metadata.to_json()),
            (&self.index, &index_file, entries.to_text()),
        ] {
            repo.commit_change("test", retry, |dir| -> Result<_, regis::git::GitError> {
                std::fs::write(dir.join(file), &text).unwrap();
                Ok(vec![dir.join(file)])
            })
            .unwrap();
        }
    }

    /// Commit `case`'s tree to its GitHub repository, tag it, forget the version, and
    /// publish it.
    ///
    /// The version is taken out of the metadata and the index first and put back as the
    /// real registry recorded it afterwards, so every case publishes against the real view
    /// (the compilers the real registry recorded above all, which later cases' build plans
    /// need: without a build check regis records only the one its plan chose).
    fn publish(&self, case: &Path, expected: &Expected) -> Result<Outcome, String> {
        let version: regis::schema::Version = expected.version.parse().unwrap();
        let real = std::cell::RefCell::new(None);
        self.rewrite(expected, |metadata, entries| {
            let published = metadata.published.remove(&version).unwrap();
            let line = entries.remove(&version).unwrap();
            *real.borrow_mut() = Some((published, line));
        });
        let outcome = self.publish_forgotten(case, expected);
        let (published, line) = real.take().unwrap();
        self.rewrite(expected, |metadata, entries| {
            metadata
                .published
                .insert(version.clone(), published.clone());
            entries.remove(&version);
            entries.insert(line.clone()).unwrap();
        });
        outcome
    }

    fn publish_forgotten(&self, case: &Path, expected: &Expected) -> Result<Outcome, String> {
        let owner = expected.location["githubOwner"].as_str().unwrap();
        let repo = expected.location["githubRepo"].as_str().unwrap();
        let tree = case.join("tree");
        let files: Vec<(String, Vec<u8>)> = testing::files_below(&tree)
            .into_iter()
            .map(|rel| {
                let bytes = std::fs::read(tree.join(&rel)).unwrap();
                (rel.to_string_lossy().into_owned(), bytes)
            })
            .collect();
        let dir = self.tmp.path().join("github").join(owner);
        regis::sample::write_repo(
            &dir.join(format!("{repo}.git")),
            &files,
            "the release",
            &expected.reference,
        )
        .unwrap();
        let request = serde_json::json!({
            "name": expected.name,
            "ref": expected.reference,
            "version": expected.version,
            "location": expected.location,
        });
        let payload = self.tmp.path().join(format!("{}.json", expected.name));
        std::fs::write(&payload, request.to_string()).unwrap();
        let path = |p: &Path| p.to_str().unwrap().to_owned();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_regis"))
            .args(["--registry", &path(self.registry.workdir())])
            .args(["--index", &path(self.index.workdir())])
            .args(["--storage", &path(self.storage.root())])
            .args(["--json", "publish", &path(&payload)])
            .output()
            .unwrap();
        if !out.status.success() {
            // Under `--json` the error is the last line of stderr: its message and causes,
            // joined as the text output joins them.
            let stderr = String::from_utf8_lossy(&out.stderr);
            let line: serde_json::Value =
                serde_json::from_str(stderr.lines().last().unwrap_or_default()).unwrap();
            let error = &line["error"];
            let chain: Vec<&str> = std::iter::once(&error["message"])
                .chain(error["causes"].as_array().unwrap())
                .map(|m| m.as_str().unwrap())
                .collect();
            return Err(chain.join(": "));
        }
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let name = expected.name.parse().unwrap();
        let index_file = self.index.workdir().join(regis::index::entry_path(&name));
        let index_line = std::fs::read_to_string(index_file)
            .unwrap()
            .lines()
            .find(|l| l.contains(&format!("\"version\":\"{}\"", expected.version)))
            .unwrap()
            .to_owned();
        let key = StorageKey::tarball(&name, &expected.version.parse().unwrap());
        let tarball = self.storage.get(&key).unwrap().unwrap();
        Ok(Outcome {
            index_line,
            files: tarball_files(&tarball),
            bytes: report["bytes"].as_u64().unwrap(),
        })
    }
}

/// Index lines the real registry did not write from the release's own files, and why: the
/// text of the line regis writes, and what stands in the real line instead.
const REVISED: &[(&str, &str, &str, &str)] = &[
    (
        "halogen-typewriter-1.0.4",
        r#""aff":">=7.1.0 <8.0.0""#,
        r#""aff":">=7.1.0 <9.0.0""#,
        "the release's purs.json says `<8.0.0`; the registry widened the bound in its index \
         after aff 8.0.0 came out",
    ),
    (
        "repr-0.4.4",
        r#""dependencies":{"ordered-collections""#,
        r#""dependencies":{"arrays":">=6.0.0 <7.0.0","foldable-traversable":">=5.0.0 <6.0.0","lists":">=6.0.0 <7.0.0","maybe":">=5.0.0 <6.0.0","ordered-collections""#,
        "the 2022 legacy importer added the four packages the source imports but neither \
         manifest lists; today's registry-dev refuses such a release instead \
         (`noTransitiveOrMissingDeps` after `purs graph`, which needs a compiler)",
    ),
    (
        "webb-writer-0.0.3",
        r#""webb-refer":">=0.0.2 <0.0.3""#,
        r#""webb-refer":">=0.0.2 <0.0.4""#,
        "the release's spago.yaml says `<0.0.3`; the registry widened the bound in its index \
         after webb-refer 0.0.3 came out",
    ),
];

/// Cases the real registry would refuse today, with regis's refusal and why.
const REFUSED: &[(&str, &str, &str)] = &[(
    "slug-3.0.0",
    "could not publish `slug@3.0.0`: `spago.dhall` is not a valid manifest: there is no `license`: expected an SPDX license such as `license = \"MIT\"` (the registry needs one; add it, or publish with a spago.yaml or purs.json)",
    "its spago.dhall has no license, which today's registry-dev refuses too (\"No license \
     found in spago.dhall\"); its real line came from the 2022 legacy importer, which took \
     the license from GitHub and the dependencies from the source's imports",
)];

#[test]
fn real_releases_publish_with_the_real_index_line_and_files() {
    let Some(fixtures) = testing::purescript_fixtures() else {
        return;
    };
    let sources = fixtures.join("sources");
    let mut cases: Vec<_> = std::fs::read_dir(&sources)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 9, "the nine cases of sources/README.md");
    let cases: Vec<(String, Expected)> = cases
        .iter()
        .map(|case| {
            let text = std::fs::read_to_string(case.join("expected.json")).unwrap();
            let name = case.file_name().unwrap().to_string_lossy().into_owned();
            (name, serde_json::from_str(&text).unwrap())
        })
        .collect();
    let view = View::new();
    let mut sizes = Vec::new();
    let mut failures = Vec::new();
    for (name, expected) in &cases {
        let case = sources.join(name);
        let outcome = view.publish(&case, expected);
        if let Some((_, refusal, why)) = REFUSED.iter().find(|(case, ..)| case == name) {
            match outcome {
                Err(e) if e == *refusal => {}
                Err(e) => failures.push(format!("{name}: refused ({why}) but with: {e}")),
                Ok(_) => failures.push(format!("{name}: published, expected refused: {why}")),
            }
            continue;
        }
        let real_line = match REVISED.iter().find(|(case, ..)| case == name) {
            Some((_, ours, real, _why)) => {
                assert!(expected.index_line.contains(real), "{name}");
                expected.index_line.replace(real, ours)
            }
            None => expected.index_line.clone(),
        };
        match outcome {
            Err(e) => failures.push(format!("{name}: refused: {e}")),
            Ok(outcome) => {
                if outcome.index_line != real_line {
                    failures.push(format!(
                        "{name}: index line\n  regis {}\n  real  {}",
                        outcome.index_line, real_line
                    ));
                }
                let files: Vec<&String> = outcome.files.keys().collect();
                let real: Vec<&String> = expected.tarball_files.iter().collect();
                if files != real {
                    failures.push(format!(
                        "{name}: files\n  regis {files:?}\n  real  {real:?}"
                    ));
                }
                if name == "type-equality-4.0.1" {
                    let real = std::fs::read(case.join("real.tar.gz")).unwrap();
                    let real = tarball_files(&real);
                    for (path, bytes) in &real {
                        // `purs.json` is the one file the registry writes itself.
                        if path != "purs.json" && outcome.files.get(path) != Some(bytes) {
                            failures
                                .push(format!("{name}: `{path}` differs from the real tarball's"));
                        }
                    }
                }
                sizes.push(format!(
                    "{name}: regis {} bytes, real {} bytes",
                    outcome.bytes, expected.real_bytes
                ));
            }
        }
    }
    println!("{}", sizes.join("\n"));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// slug 3.0.0 with the license its spago.dhall lacks: published through spago.dhall and
/// packages.dhall, whose upstream is the real package set `psc-0.14.0-20210304` (from the
/// test Dhall cache); each dependency's range is its exact version in that set, as
/// registry-dev's `spagoDhallToPursJson` gives it.
#[test]
fn slug_with_a_license_publishes_from_spago_dhall_with_the_package_sets_versions() {
    let Some(fixtures) = testing::purescript_fixtures() else {
        return;
    };
    let case = fixtures.join("sources/slug-3.0.0");
    let text = std::fs::read_to_string(case.join("expected.json")).unwrap();
    let expected: Expected = serde_json::from_str(&text).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let licensed = tmp.path().join("slug-3.0.0");
    testing::copy_dir(&case.join("tree"), &licensed.join("tree"));
    let spago = licensed.join("tree/spago.dhall");
    let original = std::fs::read_to_string(&spago).unwrap();
    std::fs::write(
        &spago,
        original.replace(
            "{ name = \"slug\"",
            "{ name = \"slug\"\n, license = \"MIT\"",
        ),
    )
    .unwrap();
    let view = View::new();
    let outcome = view.publish(&licensed, &expected).unwrap();
    println!(
        "slug-3.0.0 with a license: regis {} bytes, real {} bytes",
        outcome.bytes, expected.real_bytes
    );
    assert_eq!(
        outcome.index_line,
        r#"{"name":"slug","version":"3.0.0","license":"MIT","location":{"githubOwner":"thomashoneyman","githubRepo":"purescript-slug"},"ref":"v3.0.0","dependencies":{"argonaut-codecs":">=8.0.0 <8.0.1","maybe":">=5.0.0 <5.0.1","prelude":">=5.0.0 <5.0.1","strings":">=5.0.0 <5.0.1","unicode":">=5.0.0 <5.0.1"}}"#
    );
    let files: Vec<&String> = outcome.files.keys().collect();
    assert_eq!(files, expected.tarball_files.iter().collect::<Vec<_>>());
    // The packed spago.dhall is the licensed one, as the source has it.
    assert!(String::from_utf8_lossy(&outcome.files["spago.dhall"]).contains("license = \"MIT\""));
}
