//! `--json` on every command, through the binary: one document on stdout whose object
//! starts with `"formatVersion": 1`, camelCase keys at every depth (the maps
//! `regis::cli::json::DATA_KEYED` names are keyed by package names), git writes as data
//! (full commit ids, the bare remote's head), and errors, warnings and notes as JSON lines
//! on stderr — for refusals (exit 1), for what could not run (exit 2) and for clap's usage
//! errors. The run records which subcommand each invocation was, and fails when a
//! subcommand has no `--json` run here.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

use regis::auth::SigningKey;
use regis::sample::SamplePackage;
use regis::testing::{self, FakeIssue, MockGitHub, TestRegistry};
use serde_json::{Value, json};

const TOKEN: &str = "ghs_json_output_token";

/// Runs the binary with `--json` and remembers which subcommand each run was.
struct Runner {
    covered: BTreeSet<String>,
}

impl Runner {
    fn new() -> Runner {
        Runner {
            covered: BTreeSet::new(),
        }
    }

    /// `regis --json ARGS`, with the variables a developer's shell or a CI job may hold
    /// removed.
    fn run(&mut self, args: &[&str]) -> Output {
        let out = self.command(args).output().unwrap();
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert!(!all.contains(TOKEN), "the token was printed: {all}");
        out
    }

    /// `regis --json ARGS` left running (a server), its stdout piped.
    fn spawn(&mut self, args: &[&str]) -> std::process::Child {
        (self.command(args))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    }

    /// The command `run` and `spawn` run, its subcommand remembered.
    fn command(&mut self, args: &[&str]) -> Command {
        let args: Vec<&str> = std::iter::once("--json")
            .chain(args.iter().copied())
            .collect();
        if let Some(path) = subcommand_of(&args) {
            self.covered.insert(path);
        }
        let mut command = Command::new(env!("CARGO_BIN_EXE_regis"));
        command.args(&args).env("GITHUB_TOKEN", TOKEN);
        for var in [
            "REGIS_REGISTRY",
            "REGIS_INDEX",
            "REGIS_STORAGE",
            "REGIS_BOT_KEY",
            "GITHUB_EVENT_PATH",
            "GITHUB_REPOSITORY",
            "GITHUB_SERVER_URL",
            "GITHUB_STEP_SUMMARY",
            "REGIS_SERVER_HOME",
        ] {
            command.env_remove(var);
        }
        command
    }

    /// The document of a run that ends with exit status `code`; stderr holds JSON lines
    /// only.
    fn document(&mut self, args: &[&str], code: i32) -> Value {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{args:?}: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        stderr_lines(&out.stderr);
        document(&out.stdout)
    }

    /// The error of a run that fails with exit status `code`: nothing on stdout, JSON lines
    /// on stderr, the last one the error with its exit status.
    fn error(&mut self, args: &[&str], code: i32) -> Value {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(out.stdout.is_empty(), "{args:?}: {}", text(&out.stdout));
        let lines = stderr_lines(&out.stderr);
        let last = lines.last().expect("an error line");
        let error = &last["error"];
        assert_eq!(error["exitCode"], code, "{last}");
        assert!(
            error["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{last}"
        );
        assert!(error["causes"].is_array(), "{last}");
        error.clone()
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The subcommand `args` run (`package-set update`, `sign transfer`), as clap parses them.
fn subcommand_of(args: &[&str]) -> Option<String> {
    let matches = regis::cli::command()
        .try_get_matches_from(std::iter::once("regis").chain(args.iter().copied()))
        .ok()?;
    let mut names = Vec::new();
    let mut at = &matches;
    while let Some((name, sub)) = at.subcommand() {
        names.push(name.to_owned());
        at = sub;
    }
    Some(names.join(" "))
}

/// Every subcommand a user can run: the visible ones, nested ones by their path, a command
/// that needs a subcommand only through them.
fn every_subcommand(command: &clap::Command, prefix: &str, out: &mut BTreeSet<String>) {
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        let path = format!("{prefix}{}", sub.get_name());
        if !sub.is_subcommand_required_set() {
            out.insert(path.clone());
        }
        every_subcommand(sub, &format!("{path} "), out);
    }
}

/// stdout as the one document of the contract: `formatVersion` 1 first, camelCase keys,
/// git writes as data.
fn document(stdout: &[u8]) -> Value {
    let stdout = text(stdout);
    assert!(
        stdout.starts_with("{\n  \"formatVersion\": 1,\n"),
        "not a document: {stdout}"
    );
    let value: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    camel_case_keys(&value, "", false);
    git_writes(&value, "");
    value
}

/// Each line of stderr: `{"formatVersion":1,"<error|warning|note>":{…}}`.
fn stderr_lines(stderr: &[u8]) -> Vec<Value> {
    text(stderr)
        .lines()
        .map(|line| {
            assert!(
                line.starts_with("{\"formatVersion\":1,"),
                "not a JSON line: {line}"
            );
            let value: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            let object = value.as_object().unwrap();
            assert_eq!(object.len(), 2, "{line}");
            let said = ["error", "warning", "note"]
                .iter()
                .find(|k| object.contains_key(**k))
                .unwrap_or_else(|| panic!("neither an error, a warning nor a note: {line}"));
            assert!(object[*said]["message"].is_string(), "{line}");
            camel_case_keys(&value, "", false);
            value
        })
        .collect()
}

fn is_camel_case(key: &str) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase()) && chars.all(|c| c.is_ascii_alphanumeric())
}

/// Every key is camelCase, except the keys of the maps keyed by data.
fn camel_case_keys(value: &Value, at: &str, data_keyed: bool) {
    match value {
        Value::Object(object) => {
            for (key, value) in object {
                assert!(data_keyed || is_camel_case(key), "key `{key}` at `{at}`");
                let keyed_by_data =
                    !data_keyed && regis::cli::json::DATA_KEYED.contains(&key.as_str());
                camel_case_keys(value, &format!("{at}/{key}"), keyed_by_data);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                camel_case_keys(item, &format!("{at}/{i}"), false);
            }
        }
        _ => {}
    }
}

/// Every `writes` object holds git writes (or `null`): `{changed, commit, pushed,
/// attempts}` with a full hex commit id or `null`, booleans and a count — data, not prose.
fn git_writes(value: &Value, at: &str) {
    match value {
        Value::Object(object) => {
            for (key, value) in object {
                let here = format!("{at}/{key}");
                if key == "writes" {
                    let writes = value.as_object().unwrap_or_else(|| panic!("{here}"));
                    assert!(!writes.is_empty(), "{here}");
                    for (repo, write) in writes {
                        git_write(write, &format!("{here}/{repo}"));
                    }
                } else {
                    git_writes(value, &here);
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                git_writes(item, &format!("{at}/{i}"));
            }
        }
        _ => {}
    }
}

fn git_write(write: &Value, at: &str) {
    if write.is_null() {
        return;
    }
    let keys: Vec<&str> = write
        .as_object()
        .unwrap_or_else(|| panic!("{at}: {write}"))
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["attempts", "changed", "commit", "pushed"], "{at}");
    let changed = write["changed"].as_bool().expect("`changed` is a boolean");
    let pushed = write["pushed"].as_bool().expect("`pushed` is a boolean");
    let attempts = write["attempts"].as_u64().expect("`attempts` is a count");
    match &write["commit"] {
        Value::String(id) => {
            assert!(changed, "{at}: {write}");
            assert!(
                id.len() == 40 && id.chars().all(|c| c.is_ascii_hexdigit()),
                "{at}: `{id}` is not a full commit id"
            );
            assert!(attempts >= 1, "{at}: {write}");
        }
        Value::Null => assert!(!changed && !pushed && attempts == 0, "{at}: {write}"),
        other => panic!("{at}: `commit` is {other}"),
    }
}

/// What a commit write must say: committed as `head`, pushed.
fn committed(write: &Value, head: &str) {
    assert_eq!(
        write,
        &json!({"changed": true, "commit": head, "pushed": true, "attempts": 1})
    );
}

fn unchanged(write: &Value) {
    assert_eq!(
        write,
        &json!({"changed": false, "commit": null, "pushed": false, "attempts": 0})
    );
}

fn write_file(dir: &Path, name: &str, body: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    path.to_str().unwrap().to_owned()
}

fn payload(dir: &Path, p: &SamplePackage, with_location: bool) -> String {
    let name = format!("{}-{}.json", p.manifest.name, p.manifest.version);
    let body = serde_json::to_string(&p.payload(with_location)).unwrap();
    write_file(dir, &name, &body)
}

#[test]
fn every_command_prints_one_json_document() {
    let gh = MockGitHub::start();
    let t = TestRegistry::with_github(&gh, |_| {});
    let tmp = t.tmp.path().join("json");
    std::fs::create_dir(&tmp).unwrap();
    let registry = t.layout.registry.to_str().unwrap().to_owned();
    let heads = || t.remote_heads();
    let pem = testing::seeded_key(1);
    let key = write_file(&tmp, "key", &pem);
    let owner = SigningKey::from_openssh(&pem, None).unwrap().public();
    let owned = |name: &str, version: &str, deps: &[(&str, &str)]| {
        let mut p = t.package(name, version, deps);
        p.manifest.owners = Some(vec![owner.clone()]);
        t.push_source(&p);
        p
    };
    let mut r = Runner::new();
    let reg = |args: &[&str]| -> Vec<String> {
        ["--registry", registry.as_str()]
            .iter()
            .chain(args)
            .map(|s| s.to_string())
            .collect()
    };
    macro_rules! on {
        ($($arg:expr),* $(,)?) => {
            &reg(&[$($arg),*]).iter().map(String::as_str).collect::<Vec<_>>()[..]
        };
    }

    // init
    let fresh = t.tmp.path().join("fresh");
    let doc = r.document(&["init", fresh.to_str().unwrap(), "--name", "fresh"], 0);
    assert_eq!(doc["name"], "fresh");
    assert_eq!(doc["registry"], fresh.join("registry").to_str().unwrap());
    assert_eq!(
        doc["registryRemote"],
        fresh.join("remotes/registry.git").to_str().unwrap()
    );
    assert_eq!(doc["storage"], fresh.join("storage").to_str().unwrap());
    let e = r.error(&["init", &registry], 1);
    assert!(
        e["message"].as_str().unwrap().contains("is not empty"),
        "{e}"
    );

    // publish: the commits are the remotes' heads; a re-run changes nothing
    let a = owned("a", "1.0.0", &[]);
    let b = owned("b", "1.0.0", &[("a", ">=1.0.0 <2.0.0")]);
    let doc = r.document(on!["publish", &payload(&tmp, &a, true)], 0);
    let (registry_head, index_head) = heads();
    assert_eq!(
        (&doc["name"], &doc["version"], &doc["stored"]),
        (&json!("a"), &json!("1.0.0"), &json!(true))
    );
    assert_eq!(doc["alreadyPublished"], false);
    assert_eq!(doc["mirrors"], json!([]), "no mirrors configured");
    assert_eq!(
        doc["location"],
        json!({"githubOwner": "test", "githubRepo": "a"})
    );
    assert!(
        doc["hash"].as_str().unwrap().starts_with("sha256-"),
        "{doc}"
    );
    assert_eq!(doc["storageKey"], "a/1.0.0.tar.gz");
    assert_eq!(doc["resolutions"], json!({}));
    assert_eq!(doc["compilers"], json!([doc["compiler"]]));
    assert_eq!((&doc["matrix"], &doc["docs"]), (&Value::Null, &Value::Null));
    committed(&doc["writes"]["metadata"], &registry_head);
    committed(&doc["writes"]["index"], &index_head);
    // pack: the same tarball the publish stored, and the text an owner signs
    let published_hash = doc["hash"].clone();
    let packed = r.document(
        on![
            "pack",
            &payload(&tmp, &a, true),
            "--out",
            tmp.join("packed").to_str().unwrap()
        ],
        0,
    );
    assert_eq!(packed["hash"], published_hash);
    assert_eq!(
        packed["releaseText"],
        format!("regis-release:a@1.0.0:{}", published_hash.as_str().unwrap())
    );
    assert_eq!(packed["payload"], Value::Null);
    let doc = r.document(on!["publish", &payload(&tmp, &b, true)], 0);
    assert_eq!(doc["resolutions"], json!({"a": "1.0.0"}));
    let doc = r.document(on!["publish", &payload(&tmp, &a, true)], 0);
    assert_eq!(doc["alreadyPublished"], true);
    unchanged(&doc["writes"]["metadata"]);
    unchanged(&doc["writes"]["index"]);
    let nowhere = write_file(
        &tmp,
        "nowhere.json",
        r#"{"name":"nowhere","ref":"v1.0.0","version":"1.0.0"}"#,
    );
    let e = r.error(on!["publish", &nowhere], 1);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .starts_with("could not publish `nowhere@1.0.0`"),
        "{e}"
    );
    let missing = tmp.join("missing.json");
    let e = r.error(on!["publish", missing.to_str().unwrap()], 2);
    assert_eq!(
        e["message"],
        format!("reading `{}`", missing.display()),
        "{e}"
    );
    assert_eq!(
        e["causes"],
        json!(["No such file or directory (os error 2)"])
    );

    // check
    let doc = r.document(on!["check"], 0);
    assert_eq!(
        [
            &doc["clean"],
            &doc["packages"],
            &doc["versions"],
            &doc["indexFiles"],
            &doc["tarballsChecked"],
            &doc["findings"]
        ],
        [
            &json!(true),
            &json!(2),
            &json!(2),
            &json!(2),
            &json!(2),
            &json!([])
        ]
    );
    let e = r.error(on!["--index", "/definitely/not/here", "check"], 2);
    assert_eq!(
        e,
        json!({"message": "could not check the registry", "causes": ["`/definitely/not/here` is not a directory: expected the index checkout"], "exitCode": 2})
    );

    // solve
    let doc = r.document(on!["solve", "b@1.0.0"], 0);
    assert_eq!(doc["solved"], true);
    assert_eq!(doc["conflict"], Value::Null);
    assert_eq!(doc["plan"]["resolutions"], json!({"a": "1.0.0"}));
    r.error(on!["solve", "zzz@1.0.0"], 2);

    // package-set update: a dry run writes nothing, the update commits
    let update = write_file(
        &tmp,
        "update.json",
        r#"{"packages":{"a":"1.0.0","b":"1.0.0"}}"#,
    );
    let doc = r.document(on!["package-set", "update", &update, "--dry-run"], 0);
    assert_eq!(doc["dryRun"], true);
    assert_eq!(doc["writes"], json!({"packageSet": null}));
    assert_eq!(doc["set"]["packages"], json!({"a": "1.0.0", "b": "1.0.0"}));
    assert_eq!(
        doc["accepted"][0],
        json!({"kind": "add", "name": "a", "from": null, "to": "1.0.0"})
    );
    let doc = r.document(on!["package-set", "update", &update], 0);
    committed(&doc["writes"]["packageSet"], &heads().0);
    let set = doc["set"]["version"].clone();
    let again = r.document(on!["package-set", "update", &update], 0);
    assert_eq!(again["alreadyApplied"], true);

    // daily: a newer `a` goes into the next set
    let a2 = owned("a", "1.1.0", &[]);
    r.document(on!["publish", &payload(&tmp, &a2, false)], 0);
    let doc = r.document(on!["daily", "--dry-run"], 0);
    assert_eq!(doc["dryRun"], true);
    assert_eq!(doc["transferrer"], Value::Null, "no `botPublicKey`");
    assert_eq!(doc["latest"], set);
    assert_eq!(doc["proposal"]["packages"]["a"], "1.1.0");
    assert_eq!(doc["update"]["writes"]["packageSet"], Value::Null);
    let doc = r.document(on!["daily"], 0);
    assert_eq!(
        doc["update"]["accepted"],
        json!([{"kind": "upgrade", "name": "a", "from": "1.0.0", "to": "1.1.0"}])
    );
    committed(&doc["update"]["writes"]["packageSet"], &heads().0);

    // sign (a file, and each payload it builds), transfer
    let doc = r.document(
        &[
            "sign",
            "--key",
            &key,
            "transfer",
            "b",
            "--to-github",
            "test/b-moved",
        ],
        0,
    );
    assert_eq!(doc["operation"], "transfer");
    let signed_transfer = write_file(&tmp, "transfer.json", &doc["signed"].to_string());
    let inner = write_file(
        &tmp,
        "inner.json",
        r#"{"name":"b","newLocation":{"githubOwner":"test","githubRepo":"b"}}"#,
    );
    let doc = r.document(&["sign", "--key", &key, &inner], 0);
    let mut signed: Value =
        serde_json::from_str(doc["signed"]["payload"].as_str().unwrap()).unwrap();
    let signed_at = signed.as_object_mut().unwrap().remove("signedAt").unwrap();
    regis::schema::Timestamp::parse(signed_at.as_str().unwrap()).unwrap();
    assert_eq!(
        signed,
        json!({"name": "b", "newLocation": {"githubOwner": "test", "githubRepo": "b"}})
    );
    // sign owners: the owner list of a manifest, for a Publish's `ownersSignature`
    let manifest_dir = tmp.join("manifest");
    std::fs::create_dir(&manifest_dir).unwrap();
    let mut manifest = t.package("b", "2.0.0", &[]).manifest;
    manifest.owners = Some(vec![owner.clone()]);
    let purs_json = write_file(&manifest_dir, "purs.json", &manifest.to_pretty_json());
    let doc = r.document(&["sign", "--key", &key, "owners", &purs_json], 0);
    assert_eq!(doc["operation"], "owners");
    let text = regis::payload::owners_text(
        &manifest.name,
        &manifest.version,
        std::slice::from_ref(&owner),
    );
    assert_eq!(doc["signed"]["payload"], text.as_str());
    let signature = doc["signed"]["signature"].as_str().unwrap();
    regis::auth::verify(&text, signature, &owner, "file").unwrap();
    r.error(&["sign", "transfer", "b", "--to-github", "test/b"], 1);
    let doc = r.document(on!["transfer", &signed_transfer], 0);
    assert_eq!(
        doc["to"],
        json!({"githubOwner": "test", "githubRepo": "b-moved"})
    );
    assert_eq!(doc["signer"]["role"], "owner");
    assert_eq!(doc["signer"]["key"], serde_json::to_value(&owner).unwrap());
    committed(&doc["writes"]["metadata"], &heads().0);

    // unpublish: refused while the set holds `b`; `c` goes
    let signed_unpublish = |r: &mut Runner, what: &str| {
        let doc = r.document(
            &[
                "sign",
                "--key",
                &key,
                "unpublish",
                what,
                "--reason",
                "broken",
            ],
            0,
        );
        write_file(
            &tmp,
            &format!("unpublish-{what}.json"),
            &doc["signed"].to_string(),
        )
    };
    let signed_b = signed_unpublish(&mut r, "b@1.0.0");
    let e = r.error(on!["unpublish", &signed_b], 1);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .starts_with("could not unpublish `b@1.0.0`"),
        "{e}"
    );
    let c = owned("c", "1.0.0", &[]);
    r.document(on!["publish", &payload(&tmp, &c, true)], 0);
    let signed_c = signed_unpublish(&mut r, "c@1.0.0");
    let doc = r.document(on!["unpublish", &signed_c], 0);
    assert_eq!(doc["tarballDeleted"], true);
    assert_eq!(doc["storageKey"], "c/1.0.0.tar.gz");
    let (registry_head, index_head) = heads();
    committed(&doc["writes"]["metadata"], &registry_head);
    committed(&doc["writes"]["index"], &index_head);

    // yank, unyank, deprecate and clearing it: signed by the owner, then run
    let sign_to_file = |r: &mut Runner, file: &str, args: &[&str], operation: &str| {
        let args: Vec<&str> = ["sign", "--key", key.as_str()]
            .into_iter()
            .chain(args.iter().copied())
            .collect();
        let doc = r.document(&args, 0);
        assert_eq!(doc["operation"], operation);
        write_file(&tmp, file, &doc["signed"].to_string())
    };
    let signed_yank = sign_to_file(
        &mut r,
        "yank.json",
        &["yank", "a@1.0.0", "--reason", "broken"],
        "yank",
    );
    let doc = r.document(on!["yank", &signed_yank], 0);
    assert_eq!(
        (
            &doc["name"],
            &doc["version"],
            &doc["yanked"],
            &doc["reason"]
        ),
        (&json!("a"), &json!("1.0.0"), &json!(true), &json!("broken"))
    );
    assert_eq!(doc["signer"]["role"], "owner");
    committed(&doc["writes"]["metadata"], &heads().0);
    let doc = r.document(on!["yank", &signed_yank], 0);
    unchanged(&doc["writes"]["metadata"]);
    let signed_unyank = sign_to_file(
        &mut r,
        "unyank.json",
        &["yank", "a@1.0.0", "--undo"],
        "unyank",
    );
    let doc = r.document(on!["yank", &signed_unyank], 0);
    assert_eq!(
        (&doc["yanked"], &doc["reason"]),
        (&json!(false), &Value::Null)
    );
    committed(&doc["writes"]["metadata"], &heads().0);
    let e = r.error(on!["yank", &signed_transfer], 1);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .ends_with("(use `regis transfer`)"),
        "{e}"
    );
    // history: this registry signs no atoms (its successful document is in atoms.rs)
    let e = r.error(on!["history", "a"], 1);
    assert_eq!(
        (&e["message"], &e["causes"]),
        (
            &json!("the history of `a` does not verify"),
            &json!([
                "package `a` has no atoms: no operation on it was recorded with an atom key (`trustAtomKey`)"
            ])
        )
    );
    let signed_deprecate = sign_to_file(
        &mut r,
        "deprecate.json",
        &["deprecate", "a", "--message", "use b", "--alternative", "b"],
        "deprecate",
    );
    let doc = r.document(on!["deprecate", &signed_deprecate], 0);
    assert_eq!(
        (&doc["deprecated"], &doc["message"], &doc["alternative"]),
        (&json!(true), &json!("use b"), &json!("b"))
    );
    assert!(doc["time"].is_string(), "{doc}");
    committed(&doc["writes"]["metadata"], &heads().0);
    let signed_clear = sign_to_file(
        &mut r,
        "undeprecate.json",
        &["deprecate", "a", "--message", ""],
        "deprecate",
    );
    let doc = r.document(on!["deprecate", &signed_clear], 0);
    assert_eq!(
        (&doc["deprecated"], &doc["message"], &doc["time"]),
        (&json!(false), &Value::Null, &Value::Null)
    );
    committed(&doc["writes"]["metadata"], &heads().0);
    let e = r.error(on!["deprecate", "/definitely/not/here.json"], 2);
    assert!(
        e["message"].as_str().unwrap().starts_with("reading "),
        "{e}"
    );

    // alias set, rm (each signing with the key and running), a re-run, and sign alias,
    // unalias with alias run
    let doc = r.document(on!["alias", "set", "a", "next", "1.0.0", "--key", &key], 0);
    assert_eq!(
        (&doc["name"], &doc["tag"], &doc["version"], &doc["previous"]),
        (&json!("a"), &json!("next"), &json!("1.0.0"), &Value::Null)
    );
    assert_eq!(doc["signer"]["role"], "owner");
    committed(&doc["writes"]["metadata"], &heads().0);
    let doc = r.document(on!["alias", "set", "a", "next", "1.0.0", "--key", &key], 0);
    unchanged(&doc["writes"]["metadata"]);
    let doc = r.document(on!["alias", "rm", "a", "next", "--key", &key], 0);
    assert_eq!(
        (&doc["version"], &doc["previous"]),
        (&Value::Null, &json!("1.0.0"))
    );
    committed(&doc["writes"]["metadata"], &heads().0);
    let signed_alias = sign_to_file(
        &mut r,
        "alias.json",
        &["alias", "a", "stable", "1.0.0"],
        "alias",
    );
    let doc = r.document(on!["alias", "run", &signed_alias], 0);
    assert_eq!(
        (&doc["tag"], &doc["version"]),
        (&json!("stable"), &json!("1.0.0"))
    );
    committed(&doc["writes"]["metadata"], &heads().0);
    let signed_unalias = sign_to_file(
        &mut r,
        "unalias.json",
        &["unalias", "a", "stable"],
        "unalias",
    );
    let doc = r.document(on!["alias", "run", &signed_unalias], 0);
    assert_eq!(
        (&doc["tag"], &doc["version"], &doc["previous"]),
        (&json!("stable"), &Value::Null, &json!("1.0.0"))
    );
    committed(&doc["writes"]["metadata"], &heads().0);
    let e = r.error(on!["alias", "set", "a", "next", "9.0.0", "--key", &key], 1);
    assert_eq!(e["message"], "could not alias `a@next` to `9.0.0`");
    assert_eq!(
        e["causes"],
        json!([
            "`a@9.0.0` is not published: a tag names a published version, and published versions are `1.0.0`, `1.1.0`"
        ])
    );

    // gc
    let doc = r.document(on!["gc", "--dry-run"], 0);
    assert_eq!(
        (&doc["dryRun"], &doc["referenced"]),
        (&json!(true), &json!(3))
    );
    assert_eq!(doc["removed"], json!([]));
    let doc = r.document(on!["gc"], 0);
    assert_eq!(doc["dryRun"], false);

    // storage sync: a new mirror gets every published tarball; its other bytes are a problem
    let mirror = tmp.join("mirror");
    let mirror_arg = mirror.to_str().unwrap();
    let doc = r.document(
        on!["--mirror", mirror_arg, "storage", "sync", "--dry-run"],
        0,
    );
    assert_eq!(doc["dryRun"], true);
    assert!(!mirror.exists(), "a dry run writes nothing");
    let doc = r.document(on!["--mirror", mirror_arg, "storage", "sync"], 0);
    let published = doc["published"].as_u64().unwrap();
    assert!(published >= 2, "{doc}");
    let stores = doc["stores"].as_array().unwrap();
    assert_eq!(
        (
            &stores[0]["primary"],
            &stores[0]["verified"],
            &stores[1]["primary"]
        ),
        (&json!(true), &json!(published), &json!(false))
    );
    assert_eq!(stores[1]["store"], mirror_arg);
    assert_eq!(
        stores[1]["copied"].as_array().unwrap().len() as u64,
        published
    );
    assert_eq!(
        stores[1]["copied"][0],
        json!({"name": "a", "version": "1.0.0"})
    );
    assert_eq!(doc["problems"], json!([]));
    std::fs::write(mirror.join("a/1.0.0.tar.gz"), "other").unwrap();
    let doc = r.document(on!["--mirror", mirror_arg, "storage", "sync"], 1);
    assert_eq!(
        (&doc["problems"][0]["package"], &doc["problems"][0]["store"]),
        (&json!("a"), &json!(mirror_arg))
    );

    // process-issue: an event answered, one refused, one ignored; then --pending
    let evented = t.package("evented", "1.0.0", &[]);
    let pended = t.package("pended", "1.0.0", &[]);
    for p in [&evented, &pended] {
        t.push_source(p);
    }
    let body = |p: &SamplePackage| serde_json::to_string(&p.payload(true)).unwrap();
    let mut broken = FakeIssue::new(4, "dan", "{\"name\": ", "2024-05-01T09:03:00Z");
    broken.open = false;
    let tracker = gh.serve_issues(
        "test/registry",
        vec![
            FakeIssue::new(1, "ann", &body(&evented), "2024-05-01T09:00:00Z"),
            FakeIssue::new(2, "bob", &body(&pended), "2024-05-01T09:01:00Z"),
            FakeIssue::new(3, "cy", "How do I publish?", "2024-05-01T09:02:00Z"),
            broken,
        ],
    );
    let event = crate::process_issue::opened_event(&tmp, 1, "ann", &body(&evented));
    let event = event.to_str().unwrap();
    let doc = r.document(on!["process-issue", "--event", event], 0);
    assert_eq!(doc["repo"], "test/registry");
    assert_eq!(doc["ignored"], Value::Null);
    let answer = &doc["answer"];
    assert_eq!(
        (&answer["issue"], &answer["success"]),
        (&json!(1), &json!(true))
    );
    assert_eq!(answer["headline"], "published `evented@1.0.0`");
    assert_eq!(answer["result"]["operation"], "publish");
    assert_eq!(answer["result"]["name"], "evented");
    committed(&answer["result"]["writes"]["metadata"], &heads().0);
    let refused = crate::process_issue::opened_event(&tmp, 4, "dan", "{\"name\": ");
    let doc = r.document(
        on!["process-issue", "--event", refused.to_str().unwrap()],
        1,
    );
    assert_eq!(doc["answer"]["success"], false);
    assert_eq!(doc["answer"]["result"], Value::Null);
    let mut pull: Value = serde_json::from_str(&std::fs::read_to_string(event).unwrap()).unwrap();
    pull["issue"]["pull_request"] = json!({"url": "https://x.example/pulls/1"});
    let pull = write_file(&tmp, "pull.json", &pull.to_string());
    let doc = r.document(on!["process-issue", "--event", &pull], 0);
    assert_eq!(
        doc,
        json!({"formatVersion": 1, "ignored": "pull request", "repo": null, "answer": null})
    );
    let doc = r.document(
        on!["process-issue", "--pending", "--repo", "test/registry"],
        0,
    );
    assert_eq!(
        (&doc["open"], &doc["truncated"]),
        (&json!(2), &json!(false))
    );
    assert_eq!(doc["answered"].as_array().unwrap().len(), 1, "{doc}");
    assert_eq!(doc["answered"][0]["issue"], 2);
    assert_eq!(doc["answered"][0]["result"]["name"], "pended");
    committed(&doc["answered"][0]["result"]["writes"]["index"], &heads().1);
    assert_eq!(doc["left"], json!([{"issue": 3, "reason": "no-payload"}]));
    assert_eq!(doc["failed"], json!([]));
    assert!(!tracker.issues()[1].open, "#2 is closed");
    let e = r.error(on!["process-issue"], 1);
    assert!(
        e["message"].as_str().unwrap().starts_with("no event: "),
        "{e}"
    );

    // demo: what it did, as data
    let demo = t.tmp.path().join("demo");
    let doc = r.document(&["demo", "--dir", demo.to_str().unwrap()], 0);
    let published: Vec<(&str, &str, bool)> = doc["published"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap(),
                p["version"].as_str().unwrap(),
                p["alreadyPublished"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        published,
        [
            ("prelude", "1.0.0", false),
            ("effect", "1.0.0", false),
            ("console", "1.0.0", false),
            ("tuples", "1.0.0", false),
            ("prelude", "1.1.0", false),
            ("prelude", "1.0.0", true),
        ]
    );
    let refused: Vec<(&str, &str)> = doc["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["operation"].as_str().unwrap(),
                x["name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        refused,
        [
            ("publish", "arrays"),
            ("transfer", "effect"),
            ("unpublish", "effect")
        ]
    );
    assert_eq!(doc["samples"][0]["manifestFile"], "bower.json");
    assert_eq!(doc["packageSets"].as_array().unwrap().len(), 2);
    assert_eq!(doc["solved"]["plan"]["resolutions"]["effect"], "1.0.0");
    assert_eq!(doc["check"]["clean"], true);
    assert_eq!(
        (&doc["trust"]["tarballs"], &doc["trust"]["fetched"]),
        (&json!(5), &json!("prelude@1.0.0"))
    );
    assert_eq!(doc["trust"]["problems"], json!([]));
    // The transfer's commit is on the remote (the trust step committed after it).
    let write = &doc["transfer"]["writes"]["metadata"];
    git_write(write, "/transfer/writes/metadata");
    assert_eq!(
        (&write["changed"], &write["pushed"]),
        (&json!(true), &json!(true))
    );
    let on_remote = std::process::Command::new("git")
        .arg("-C")
        .arg(demo.join("registry-root/remotes/registry.git"))
        .args([
            "merge-base",
            "--is-ancestor",
            write["commit"].as_str().unwrap(),
            "HEAD",
        ])
        .status()
        .unwrap();
    assert!(on_remote.success(), "{write}");

    // completions and man print file formats: `--json` is bad usage
    for args in [&["completions", "bash"][..], &["man"]] {
        let e = r.error(args, 2);
        assert!(e["message"].as_str().unwrap().contains("not JSON"), "{e}");
    }

    // clap's usage errors, and notes under -v, are JSON lines too
    let e = r.error(&["frob"], 2);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .starts_with("unrecognized subcommand 'frob'"),
        "{e}"
    );
    let e = r.error(&["publish"], 2);
    assert!(e["message"].as_str().unwrap().contains("<FILE>"), "{e}");
    let out = r.run(on!["-v", "check"]);
    let notes = stderr_lines(&out.stderr);
    assert!(
        notes.iter().any(|n| n["note"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("took "))),
        "{notes:?}"
    );

    // keys: init, rotate with one of two root keys at hand (the new root version waits),
    // sign-root with the other (it joins the chain), revoke, show
    let keys_dir = tmp.join("keys");
    let keys_out = keys_dir.to_str().unwrap();
    let doc = r.document(
        on![
            "keys",
            "init",
            "--out",
            keys_out,
            "--root-keys",
            "2",
            "--root-threshold",
            "2"
        ],
        0,
    );
    assert_eq!(doc["root"]["path"], "tuf/root/1.root.json");
    assert_eq!(doc["root"]["threshold"], 2);
    let made = doc["keys"].as_array().unwrap();
    let of = |role: &str, field: &str| -> Vec<String> {
        (made.iter().filter(|k| k["role"] == role))
            .map(|k| k[field].as_str().unwrap().to_owned())
            .collect()
    };
    let roots = of("root", "path");
    assert_eq!(roots.len(), 2);
    assert_eq!(
        doc["config"]["trustTargetsKey"],
        format!("Some \"file:{}\"", of("targets", "path")[0])
    );
    let doc = r.document(
        on![
            "keys", "rotate", "targets", "--out", keys_out, "--key", &roots[0]
        ],
        0,
    );
    assert_eq!(
        (&doc["version"], &doc["inChain"], &doc["path"]),
        (&json!(2), &json!(false), &json!("tuf/staged/root.json"))
    );
    assert_eq!(
        doc["signatures"],
        json!({"own": {"valid": 1, "threshold": 2}, "previous": {"valid": 1, "threshold": 2}, "complete": false})
    );
    assert_eq!(doc["newKey"]["role"], "targets");
    let doc = r.document(on!["keys", "sign-root", "--key", &roots[1]], 0);
    assert_eq!(
        (&doc["version"], &doc["inChain"], &doc["path"]),
        (&json!(2), &json!(true), &json!("tuf/root/2.root.json"))
    );
    let old_targets = &of("targets", "keyid")[0];
    let doc = r.document(
        on![
            "keys",
            "revoke",
            old_targets,
            "--reason",
            "leaked",
            "--key",
            &roots[0],
            "--key",
            &roots[1]
        ],
        0,
    );
    assert_eq!(doc["revoked"]["keyid"], old_targets.as_str());
    assert_eq!(doc["path"], "tuf/root/3.root.json");
    let doc = r.document(on!["keys", "show"], 0);
    assert_eq!(doc["roots"].as_array().unwrap().len(), 3);
    assert_eq!(
        doc["revoked"],
        json!([{"keyid": old_targets, "role": "targets", "version": 3, "reason": "leaked"}])
    );
    assert_eq!(doc["staged"], Value::Null);
    let e = r.error(on!["keys", "revoke", old_targets, "--key", &roots[0]], 1);
    assert_eq!(
        e["message"],
        format!("the key `{old_targets}` is already revoked")
    );

    // keys refresh, verify, fetch: the registry has a root of trust and no TUF repository
    // yet, so there is nothing to refresh, and nothing a client can load (its
    // successful documents are in tuf.rs).
    let doc = r.document(on!["keys", "refresh"], 0);
    assert_eq!(
        (&doc["registry"], &doc["storage"]),
        (&Value::Null, &Value::Null)
    );
    let state = tmp.join("state");
    let state = state.to_str().unwrap();
    for e in [
        r.error(on!["verify", "--state", state], 1),
        r.error(on!["fetch", "a@1.0.0", "--state", state], 1),
    ] {
        let storage = t.layout.registry.join("../storage");
        assert_eq!(
            e["message"],
            format!(
                "`{}` serves no TUF repository (no `tuf/timestamp.json`): the registry has not adopted one (`regis verify --adopt`)",
                storage.display()
            )
        );
    }

    // list: a package's versions from the checkouts (from a site: site_client.rs), and a
    // package the registry lacks
    let doc = r.document(on!["list", "c"], 0);
    let mut versions = doc["versions"].clone();
    for (at, time) in [("/0/publishedTime", "<t>"), ("/0/unpublished/time", "<t>")] {
        *versions.pointer_mut(at).unwrap() = json!(time);
    }
    assert_eq!(
        versions,
        json!([{
            "version": "1.0.0",
            "publishedTime": "<t>",
            "bytes": null,
            "hash": null,
            "indexed": false,
            "yanked": null,
            "unpublished": {"reason": "broken", "time": "<t>"},
            "tags": []
        }])
    );
    assert_eq!(
        (&doc["deprecated"], &doc["problems"], &doc["requests"]),
        (&Value::Null, &json!([]), &Value::Null)
    );
    let e = r.error(on!["list", "nothere"], 1);
    assert_eq!(
        e["message"],
        format!(
            "`nothere` is not a package of the registry at `{registry}`: `{registry}/metadata/nothere.json` is missing"
        )
    );

    // site build: what it made and wrote (the pages themselves: site.rs).
    let site = tmp.join("site");
    let doc = r.document(on!["site", "build", site.to_str().unwrap()], 0);
    assert_eq!(
        doc["pages"],
        doc["packages"].as_u64().unwrap() + doc["packageSets"].as_u64().unwrap() + 3
    );
    assert_eq!(doc["files"]["removed"], 0);
    assert_eq!(doc["problems"], json!([]));

    // server init, org, token and serve: a server's home (the API itself: server.rs).
    let home = tmp.join("server");
    let home = home.to_str().unwrap();
    let doc = r.document(
        &["server", "init", home, "--name", "main", "--name", "second"],
        0,
    );
    assert_eq!(
        (&doc["home"], &doc["config"], &doc["database"]),
        (
            &json!(home),
            &json!(format!("{home}/regis-server.dhall")),
            &json!(format!("{home}/private/regis.sqlite"))
        )
    );
    assert_eq!(
        doc["registries"][1],
        json!({
            "name": "second",
            "registry": format!("{home}/registries/second/registry"),
            "index": format!("{home}/registries/second/registry/../index"),
            "storage": format!("{home}/registries/second/registry/../storage"),
        })
    );
    let e = r.error(&["server", "init", home], 1);
    assert_eq!(
        e["message"],
        format!("`{home}` already exists: expected a new or empty directory for the server's home")
    );
    let at = |args: &[&str]| -> Vec<String> {
        (args.iter().copied())
            .chain(["--home", home])
            .map(str::to_owned)
            .collect()
    };
    macro_rules! home {
        ($($arg:expr),* $(,)?) => {
            &at(&[$($arg),*]).iter().map(String::as_str).collect::<Vec<_>>()[..]
        };
    }
    let doc = r.document(
        home![
            "org",
            "create",
            "acme",
            "--prefix",
            "acme-",
            "--member",
            "alice",
            "--bytes-max",
            "1000"
        ],
        0,
    );
    let acme = json!({
        "registry": "main", "name": "acme", "prefixes": ["acme-"], "members": ["alice"],
        "bytesMax": 1000,
    });
    assert_eq!(doc["org"], acme);
    let doc = r.document(home!["org", "add", "acme", "bob"], 0);
    assert_eq!(
        doc,
        json!({"formatVersion": 1, "registry": "main", "org": "acme", "member": "bob", "changed": true})
    );
    let doc = r.document(home!["org", "remove", "acme", "bob"], 0);
    assert_eq!(doc["changed"], true);
    let e = r.error(home!["org", "remove", "acme", "bob"], 1);
    assert_eq!(e["message"], "`bob` is not a member of organization `acme`");
    let doc = r.document(home!["org", "list"], 0);
    assert_eq!(doc["orgs"], json!([acme]));
    let made = r.document(
        home![
            "token", "create", "--scope", "publish", "--org", "acme", "--member", "alice",
            "--label", "ci"
        ],
        0,
    );
    let secret = made["token"].as_str().unwrap();
    assert!(secret.starts_with("regis_") && secret.len() == 49, "{made}");
    let id = made["id"].as_str().unwrap();
    assert_eq!(
        (
            &made["registry"],
            &made["org"],
            &made["member"],
            &made["scopes"],
            &made["label"]
        ),
        (
            &json!("main"),
            &json!("acme"),
            &json!("alice"),
            &json!(["publish"]),
            &json!("ci")
        )
    );
    assert!(
        made["expiresAt"].as_str() > made["createdAt"].as_str(),
        "{made}"
    );
    let doc = r.document(home!["token", "list"], 0);
    let mut listed = made.clone();
    let listed = listed.as_object_mut().unwrap();
    listed.remove("formatVersion");
    listed.remove("token");
    listed.insert("operationsThisHour".into(), json!(0));
    assert_eq!(
        doc["tokens"],
        json!([listed]),
        "the list never holds the secret"
    );
    let doc = r.document(home!["token", "revoke", id], 0);
    assert_eq!(doc["revoked"]["id"], id);
    assert!(doc["revoked"]["revokedAt"].is_string(), "{doc}");
    let e = r.error(home!["token", "revoke", "tok_0000000000000000"], 1);
    assert_eq!(
        e["message"],
        "no token `tok_0000000000000000`: `regis token list` shows the tokens there are"
    );
    let mut server = r.spawn(home!["serve", "--listen", "127.0.0.1:0"]);
    let doc = document(super::server::read_document_text(server.stdout.take().unwrap()).as_bytes());
    server.kill().unwrap();
    server.wait().unwrap();
    let listening = doc["listening"].as_str().unwrap();
    assert!(listening.starts_with("http://127.0.0.1:"), "{doc}");
    assert_eq!(
        (&doc["registries"], &doc["defaultRegistry"]),
        (&json!(["main", "second"]), &json!("main"))
    );
    let nowhere = tmp.join("no-home");
    let e = r.error(&["serve", "--home", nowhere.to_str().unwrap()], 2);
    assert_eq!(
        e["message"],
        format!(
            "`{}` is not a regis server's home: it has no `regis-server.dhall` (make one with `regis server init`)",
            nowhere.display()
        )
    );

    // Every subcommand has been run with --json above.
    let mut every = BTreeSet::new();
    every_subcommand(&regis::cli::command(), "", &mut every);
    assert!(every.contains("package-set update") && every.contains("sign unpublish"));
    assert!(every.contains("sign yank") && every.contains("deprecate"));
    assert!(every.contains("alias set") && every.contains("sign unalias"));
    let missing: Vec<&String> = every.difference(&r.covered).collect();
    assert!(
        missing.is_empty(),
        "no --json run of {missing:?}: add one here"
    );
}

/// `regis sign` without `--json` prints the payload to paste, which `--json` nests as
/// `signed`: the two are the same JSON.
#[test]
fn sign_prints_the_payload_to_paste_and_json_nests_it() {
    let tmp = tempfile::tempdir().unwrap();
    let key = write_file(tmp.path(), "key", &testing::seeded_key(1));
    let args = [
        "sign",
        "--key",
        &key,
        "transfer",
        "b",
        "--to-github",
        "me/b",
    ];
    // At one time (`REGIS_NOW`): `regis sign` puts it in the payload as `signedAt`.
    let run = |json: bool| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_regis"));
        if json {
            command.arg("--json");
        }
        let out = command
            .args(args)
            .env("REGIS_NOW", "2026-11-22T10:00:00.000Z")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        out.stdout
    };
    let pasted: regis::payload::Authenticated = serde_json::from_slice(&run(false)).unwrap();
    assert_eq!(
        pasted.payload,
        r#"{"name":"b","newLocation":{"githubOwner":"me","githubRepo":"b"},"signedAt":"2026-11-22T10:00:00.000Z"}"#
    );
    let doc: Value = serde_json::from_slice(&run(true)).unwrap();
    assert_eq!(doc["signed"], serde_json::to_value(&pasted).unwrap());
}
