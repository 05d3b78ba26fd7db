//! `ARCHITECTURE.md` lists which module uses which; this reads the source (every
//! `crate::<module>` path outside `#[cfg(test)]` code) and fails when the two disagree, so
//! the map stays true and a new edge (a pure module reaching for git, say) is a decision
//! someone writes down.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Edges = BTreeMap<String, BTreeSet<String>>;

/// The module a file under `src/` belongs to (`src/source/git.rs` → `source`).
fn module_of(rel: &Path) -> String {
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_owned()
}

/// The `crate::<name>` references of `code`, without comments and test code.
fn crate_paths(code: &str) -> BTreeSet<String> {
    let code = code.split("#[cfg(test)]").next().unwrap_or("");
    let mut out = BTreeSet::new();
    for line in code.lines() {
        let line = line.split("//").next().unwrap_or("");
        for piece in line.split("crate::").skip(1) {
            let name: String = piece
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

fn from_code(src: &Path) -> Edges {
    // re-exported crate-root items, not modules
    let root_items = ["error_chain", "error_messages"];
    let mut edges = Edges::new();
    for entry in walkdir::WalkDir::new(src) {
        let entry = entry.unwrap();
        if entry.path().extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let rel = entry.path().strip_prefix(src).unwrap();
        let module = module_of(rel);
        if ["main", "lib", "error"].contains(&module.as_str()) {
            continue;
        }
        let code = std::fs::read_to_string(entry.path()).unwrap();
        let uses = edges.entry(module.clone()).or_default();
        for used in crate_paths(&code) {
            if used != module && !root_items.contains(&used.as_str()) {
                uses.insert(used);
            }
        }
    }
    edges
}

fn from_doc(doc: &str) -> Edges {
    let block = doc
        .split("```text\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("ARCHITECTURE.md has a ```text block of module edges");
    block
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let (module, uses) = line.split_once('→').expect("`module → uses…`");
            (
                module.trim().to_owned(),
                uses.split_whitespace().map(str::to_owned).collect(),
            )
        })
        .collect()
}

#[test]
fn the_module_map_is_the_code() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let code = from_code(&root.join("src"));
    let doc = from_doc(&std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap());
    for (module, uses) in &code {
        assert_eq!(
            doc.get(module),
            Some(uses),
            "ARCHITECTURE.md and the code disagree on what `{module}` uses (left: the doc, right: the code)"
        );
    }
    let extra: Vec<&String> = doc.keys().filter(|m| !code.contains_key(*m)).collect();
    assert!(
        extra.is_empty(),
        "ARCHITECTURE.md lists modules the code lacks: {extra:?}"
    );
}

#[test]
fn dependencies_point_one_way() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let code = from_code(&root.join("src"));
    // a depth-first walk that fails on a module met again on its own path
    fn visit(m: &str, code: &Edges, path: &mut Vec<String>, done: &mut BTreeSet<String>) {
        if done.contains(m) {
            return;
        }
        assert!(
            !path.iter().any(|p| p == m),
            "a dependency cycle: {} → {m}",
            path.join(" → ")
        );
        path.push(m.to_owned());
        for next in code.get(m).into_iter().flatten() {
            visit(next, code, path, done);
        }
        path.pop();
        done.insert(m.to_owned());
    }
    let mut done = BTreeSet::new();
    for m in code.keys() {
        visit(m, &code, &mut Vec::new(), &mut done);
    }
    // the pure value types use nothing else of regis but `text`, which cuts the values
    // their errors repeat; `text` uses nothing at all
    assert_eq!(code["schema"], BTreeSet::from(["text".to_owned()]));
    assert_eq!(code["text"], BTreeSet::new());
}

/// `SECURITY.md` names, for each guarantee, the test that shows it (`module::test`, a
/// `#[test]` in `tests/it/<module>.rs`): every test it names exists, so a renamed or
/// deleted test cannot leave a guarantee resting on nothing.
#[test]
fn every_test_security_md_names_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("SECURITY.md")).unwrap();
    let mut named = 0;
    let mut missing = Vec::new();
    for quoted in doc.split('`').skip(1).step_by(2) {
        let Some((module, test)) = quoted.split_once("::") else {
            continue;
        };
        let simple = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        };
        if !simple(module) || !simple(test) {
            continue;
        }
        named += 1;
        let file = root.join("tests/it").join(format!("{module}.rs"));
        let code = std::fs::read_to_string(&file).unwrap_or_default();
        let defined = code
            .split("#[test]")
            .skip(1)
            .any(|after| after.trim_start().starts_with(&format!("fn {test}()")));
        if !defined {
            missing.push(quoted.to_owned());
        }
    }
    assert!(named >= 30, "SECURITY.md names only {named} tests");
    assert!(
        missing.is_empty(),
        "SECURITY.md names tests that do not exist: {missing:?}"
    );
}
