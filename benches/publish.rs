//! Publish benchmarks (see `benches/README.md`):
//!
//! - `publish/pack_1mb_200_files`: `operation::publish::pack` alone (file selection, the
//!   deterministic `.tar.gz`, SHA-256) over an in-memory source tree.
//! - `publish/end_to_end_1mb_200_files`: `operation::publish::publish` into a fresh registry
//!   each iteration: sync, clone of a local source repo, pack, `FsStorage` upload, metadata
//!   and index commits pushed to bare remotes. Creating the registry is not timed.
//! - `publish/rerun_noop`: the same payload again on a registry that already has it (the
//!   idempotent path: everything is fetched, packed and compared, nothing is written).
//!
//! The package is synthetic but realistic: 200 PureScript-like modules under `src/`,
//! about 1 MB of text, generated deterministically, plus README, LICENSE and `purs.json`.

mod common;

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use regis::config::Config;
use regis::operation::publish::{self, PublishReport};
use regis::payload::Publish;
use regis::sample::SamplePackage;
use regis::schema::Location;
use regis::source::SourceTree;
use regis::storage::Put;
use regis::testing::TestRegistry;

const PACKAGE: &str = "bench-package";
const OWNER: &str = "bench";
const FILES: usize = 200;
/// Bytes of source text aimed for in each module (200 × 5,000 ≈ 1 MB).
const FILE_BYTES: usize = 5_000;

// ---------------------------------------------------------------------------------------
// The synthetic package
// ---------------------------------------------------------------------------------------

/// splitmix64: a tiny deterministic generator, so the package is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const WORDS: &[&str] = &[
    "account", "address", "amount", "array", "batch", "buffer", "cache", "channel", "config",
    "counter", "cursor", "date", "delta", "digest", "effect", "entry", "event", "field", "filter",
    "format", "graph", "handle", "header", "index", "input", "item", "key", "label", "layer",
    "limit", "list", "lookup", "map", "message", "mode", "node", "offset", "option", "order",
    "output", "owner", "packet", "page", "parser", "path", "point", "queue", "range", "record",
    "result", "route", "rule", "scope", "score", "segment", "session", "shape", "signal", "size",
    "slot", "source", "span", "state", "status", "stream", "style", "table", "target", "task",
    "token", "total", "tree", "update", "user", "value", "vector", "view", "weight", "window",
    "worker",
];
const VERBS: &[&str] = &[
    "apply",
    "build",
    "check",
    "collect",
    "combine",
    "compute",
    "convert",
    "decode",
    "encode",
    "extract",
    "find",
    "fold",
    "insert",
    "lookup",
    "make",
    "merge",
    "normalize",
    "parse",
    "render",
    "resolve",
    "run",
    "select",
    "split",
    "summarize",
    "traverse",
    "update",
    "validate",
    "with",
];
const TYPES: &[&str] = &[
    "Int",
    "String",
    "Boolean",
    "Number",
    "Array Int",
    "Array String",
    "Maybe Int",
    "Maybe String",
    "Either String Int",
    "List String",
];
const IMPORTS: &[&str] = &[
    "import Data.Array as Array",
    "import Data.Either (Either(..), either)",
    "import Data.Foldable (foldl, foldr, for_, traverse_)",
    "import Data.Int as Int",
    "import Data.List (List(..), (:))",
    "import Data.Map as Map",
    "import Data.Maybe (Maybe(..), fromMaybe, maybe)",
    "import Data.Newtype (class Newtype, unwrap, wrap)",
    "import Data.String as String",
    "import Data.Tuple (Tuple(..), fst, snd)",
    "import Effect (Effect)",
    "import Effect.Console (log)",
];

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// A type as an argument of a type constructor: parenthesized unless a single word.
fn arg(ty: &str) -> String {
    if ty.contains(' ') {
        format!("({ty})")
    } else {
        ty.to_owned()
    }
}

fn module_path(i: usize) -> (String, String) {
    let (group, part, module) = (i / 40, (i / 10) % 4, i % 10);
    (
        format!("Bench.Group{group:02}.Part{part}.Module{module:02}"),
        format!("src/Bench/Group{group:02}/Part{part}/Module{module:02}.purs"),
    )
}

/// One module of about `FILE_BYTES` bytes: a header with its export list and imports, then
/// declarations (record newtypes with instances, pure functions with `case`/`let`,
/// effectful functions with `do` blocks), each with a doc comment.
fn module_text(i: usize, rng: &mut Rng) -> String {
    let (name, _) = module_path(i);
    let mut imports: Vec<&str> = (0..4 + rng.below(6)).map(|_| rng.pick(IMPORTS)).collect();
    imports.sort_unstable();
    imports.dedup();
    let internal = if i > 0 {
        format!("import {} as Dep\n", module_path(rng.below(i)).0)
    } else {
        String::new()
    };
    let header_fixed = name.len() + 40 + imports.iter().map(|s| s.len() + 1).sum::<usize>();
    let mut body = String::new();
    let mut exports: Vec<String> = Vec::new();
    let mut export_bytes = 0;
    let mut n = 0;
    // Stop near the target; the last declaration overshoots it by half of one on average.
    while header_fixed + internal.len() + export_bytes + body.len() < FILE_BYTES - 150 {
        n += 1;
        let noun = rng.pick(WORDS);
        let other = rng.pick(WORDS);
        let decl = match rng.below(5) {
            0 => {
                let ty = format!("{}{}", capitalize(noun), capitalize(other));
                let fields: Vec<String> = (0..2 + rng.below(4))
                    .map(|k| format!("{}{k} :: {}", rng.pick(WORDS), rng.pick(TYPES)))
                    .collect();
                exports.push(format!("{ty}(..)"));
                format!(
                    "-- | A {noun} of {other}s, as read from the {} stage.\nnewtype {ty} = {ty}\n  {{ {}\n  }}\n\nderive instance newtype{ty} :: Newtype {ty} _\nderive newtype instance eq{ty} :: Eq {ty}\n\ninstance show{ty} :: Show {ty} where\n  show ({ty} r) = \"({ty} \" <> show r.{} <> \")\"\n\n",
                    rng.pick(WORDS),
                    fields.join("\n  , "),
                    fields[0].split(' ').next().unwrap_or("x"),
                )
            }
            1 => {
                let f = format!("{}{}{n}", rng.pick(VERBS), capitalize(noun));
                exports.push(f.clone());
                let (step, limit) = (rng.pick(WORDS), rng.below(10_000));
                format!(
                    "-- | Logs each {noun} of the {other} until the {step} limit ({limit}) is reached.\n{f} :: Array {} -> Effect Int\n{f} {other}s = do\n  log (\"{f}: \" <> show (Array.length {other}s))\n  let {step}s = Array.take {limit} {other}s\n  for_ {step}s \\{noun} ->\n    log (\"  {noun} \" <> show {noun})\n  pure (Array.length {step}s)\n\n",
                    arg(rng.pick(TYPES)),
                )
            }
            _ => {
                let f = format!("{}{}{n}", rng.pick(VERBS), capitalize(noun));
                let (a, b) = (rng.pick(TYPES), arg(rng.pick(TYPES)));
                exports.push(f.clone());
                let arm = rng.pick(WORDS);
                format!(
                    "-- | {} the {noun} for a given {other}; `Nothing` when the {arm} is empty.\n{f} :: {a} -> Array {b} -> Maybe {b}\n{f} {other} xs =\n  case Array.uncons xs of\n    Nothing -> Nothing\n    Just {{ head, tail }} ->\n      let\n        {arm}Count = Array.length tail + {}\n      in\n        if {arm}Count > {} then Just head else Array.last tail\n\n",
                    capitalize(rng.pick(VERBS)),
                    rng.below(100),
                    rng.below(1000),
                )
            }
        };
        export_bytes += exports.last().map_or(0, |e| e.len() + 5);
        body.push_str(&decl);
    }
    format!(
        "module {name}\n  ( {}\n  ) where\n\nimport Prelude\n\n{}\n{internal}\n{body}",
        exports.join("\n  , "),
        imports.join("\n"),
    )
}

/// The synthetic package: 200 modules under `src/` (three directories deep), README,
/// LICENSE (and `purs.json`, added by [`SamplePackage::all_files`]).
fn big_package() -> SamplePackage {
    let location = Location::github(OWNER, PACKAGE, None).expect("valid location");
    let mut p = SamplePackage::new(PACKAGE, "1.0.0", location, &[]);
    let mut rng = Rng(0x5EED);
    let mut files: Vec<(String, Vec<u8>)> = (0..FILES)
        .map(|i| (module_path(i).1, module_text(i, &mut rng).into_bytes()))
        .collect();
    files.push((
        "README.md".into(),
        format!("# {PACKAGE}\n\nA synthetic package for the publish benchmarks: {FILES} modules, about 1 MB of source.\n").into_bytes(),
    ));
    files.push((
        "LICENSE".into(),
        b"MIT License\n\nCopyright (c) 2026 regis\n\nPermission is hereby granted, free of charge, to any person obtaining a copy of this software.\n".to_vec(),
    ));
    p.files = files;
    p
}

// ---------------------------------------------------------------------------------------
// Registries
// ---------------------------------------------------------------------------------------

/// `registry` publishes `request`; a refusal is a bug in the bench.
fn must_publish(registry: &TestRegistry, request: &Publish) -> PublishReport {
    registry
        .publish(request)
        .unwrap_or_else(|e| panic!("publish failed: {e}"))
}

/// A new registry (`regis init`: working trees with bare remotes) in its own tempdir,
/// fetching GitHub locations from `github_base_url`.
fn registry(github_base_url: &str) -> TestRegistry {
    TestRegistry::with_config(|c| {
        c.name = "bench".into();
        c.github_base_url = github_base_url.parse().expect("a base URL");
    })
}

// ---------------------------------------------------------------------------------------
// Benchmarks
// ---------------------------------------------------------------------------------------

fn benches(c: &mut Criterion) {
    let package = big_package();
    let files = package.all_files();
    let source_bytes: u64 = files.iter().map(|(_, b)| b.len() as u64).sum();
    let config = Config::default();

    // The tarball, once outside timing: it must fit the registry's limit.
    let tree = SourceTree::from_memory(files.clone());
    let packed = publish::pack(&tree, &package.manifest, &config).expect("pack");
    assert_eq!(
        packed.files,
        FILES + 3,
        "200 modules, README, LICENSE, purs.json"
    );
    assert!(
        (packed.bytes.len() as u64) < config.package_bytes_max,
        "the tarball ({} bytes) must stay under the {}-byte limit",
        packed.bytes.len(),
        config.package_bytes_max
    );
    eprintln!(
        "package: {} files, {} bytes of source ({} bytes in the tarball) -> tarball {} bytes ({:.1}% of the unpacked size)",
        files.len(),
        source_bytes,
        packed.unpacked_bytes,
        packed.bytes.len(),
        100.0 * packed.bytes.len() as f64 / packed.unpacked_bytes as f64
    );

    let mut group = common::group(c, "publish");
    group.throughput(Throughput::Bytes(packed.unpacked_bytes));

    group.bench_function("pack_1mb_200_files", |b| {
        b.iter(|| {
            publish::pack(black_box(&tree), black_box(&package.manifest), &config).expect("pack")
        })
    });

    // One source repo for every iteration, in a local "GitHub"
    // (`<sources>/github/<owner>/<repo>.git`); a fresh registry per iteration (not timed).
    let sources = tempfile::tempdir().expect("tempdir");
    let github = sources.path().join("github");
    package
        .commit_to(&github.join(OWNER).join(format!("{PACKAGE}.git")))
        .expect("source repo");
    let base_url = format!("file://{}", github.display());
    let request = package.payload(true);

    let first = must_publish(&registry(&base_url), &request);
    assert_eq!(first.storage, Put::Stored);
    assert_eq!(
        first.bytes,
        packed.bytes.len() as u64,
        "same tarball as pack"
    );

    group.bench_function("end_to_end_1mb_200_files", |b| {
        b.iter_batched_ref(
            || registry(&base_url),
            |registry| must_publish(registry, black_box(&request)),
            BatchSize::PerIteration,
        )
    });

    let published = registry(&base_url);
    must_publish(&published, &request);
    assert!(must_publish(&published, &request).changed_nothing());
    group.bench_function("rerun_noop", |b| {
        b.iter(|| {
            let report = must_publish(&published, black_box(&request));
            debug_assert!(report.changed_nothing());
            report
        })
    });

    group.finish();
}

criterion_group!(publish_benches, benches);
criterion_main!(publish_benches);
