//! Dhall input: type-checking against schemas/*.dhall and conversion to the JSON wire shape.
//!
//! The schemas are embedded in the binary. They import each other by relative path
//! (`./Location.dhall`), and `serde_dhall` resolves a relative import in a string against the
//! current directory, so the embedded texts cannot be evaluated as they are. Instead each
//! schema's imports are substituted in memory by the (recursively substituted) text of the
//! imported schema, in parentheses: a closed Dhall expression may replace its import, so the
//! result is the same type, evaluated without touching the file system.
//!
//! A value is checked by evaluating it with the schema's type as annotation, which makes
//! Dhall report a mismatch (rather than serde), and is converted to JSON following the type,
//! so maps (`List { mapKey, mapValue }`) and `None` are told apart from records and `null`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_dhall::{NumKind, SimpleType, SimpleValue};
use serde_json::{Map, Value};

/// The directory of the schema files, relative to the project (and to a registry repo that
/// carries a copy of them).
pub const SCHEMA_DIR: &str = "schemas";

/// The label used in messages for Dhall text that does not come from a file.
const TEXT_LABEL: &str = "<text>";

/// One Dhall type of `schemas/`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Schema {
    Location,
    Owner,
    Manifest,
    Metadata,
    PackageSet,
    Publish,
    Addition,
    Update,
    Authenticated,
    Transfer,
    Unpublish,
    Alias,
    Unalias,
    PackageSetUpdate,
    Config,
    Server,
}

impl Schema {
    /// The schema's file name in `schemas/`, e.g. `Manifest.dhall`.
    pub fn file_name(self) -> &'static str {
        match self {
            Schema::Location => "Location.dhall",
            Schema::Owner => "Owner.dhall",
            Schema::Manifest => "Manifest.dhall",
            Schema::Metadata => "Metadata.dhall",
            Schema::PackageSet => "PackageSet.dhall",
            Schema::Publish => "Publish.dhall",
            Schema::Addition => "Addition.dhall",
            Schema::Update => "Update.dhall",
            Schema::Authenticated => "Authenticated.dhall",
            Schema::Transfer => "Transfer.dhall",
            Schema::Unpublish => "Unpublish.dhall",
            Schema::Alias => "Alias.dhall",
            Schema::Unalias => "Unalias.dhall",
            Schema::PackageSetUpdate => "PackageSetUpdate.dhall",
            Schema::Config => "Config.dhall",
            Schema::Server => "Server.dhall",
        }
    }

    /// The schema's text exactly as in `schemas/` (relative imports included).
    pub fn source(self) -> &'static str {
        match self {
            Schema::Location => include_str!("../schemas/Location.dhall"),
            Schema::Owner => include_str!("../schemas/Owner.dhall"),
            Schema::Manifest => include_str!("../schemas/Manifest.dhall"),
            Schema::Metadata => include_str!("../schemas/Metadata.dhall"),
            Schema::PackageSet => include_str!("../schemas/PackageSet.dhall"),
            Schema::Publish => include_str!("../schemas/Publish.dhall"),
            Schema::Addition => include_str!("../schemas/Addition.dhall"),
            Schema::Update => include_str!("../schemas/Update.dhall"),
            Schema::Authenticated => include_str!("../schemas/Authenticated.dhall"),
            Schema::Transfer => include_str!("../schemas/Transfer.dhall"),
            Schema::Unpublish => include_str!("../schemas/Unpublish.dhall"),
            Schema::Alias => include_str!("../schemas/Alias.dhall"),
            Schema::Unalias => include_str!("../schemas/Unalias.dhall"),
            Schema::PackageSetUpdate => include_str!("../schemas/PackageSetUpdate.dhall"),
            Schema::Config => include_str!("../schemas/Config.dhall"),
            Schema::Server => include_str!("../schemas/Server.dhall"),
        }
    }

    /// Every schema, imported ones first.
    pub fn all() -> &'static [Schema] {
        &[
            Schema::Location,
            Schema::Owner,
            Schema::Manifest,
            Schema::Metadata,
            Schema::PackageSet,
            Schema::Publish,
            Schema::Addition,
            Schema::Update,
            Schema::Authenticated,
            Schema::Transfer,
            Schema::Unpublish,
            Schema::Alias,
            Schema::Unalias,
            Schema::PackageSetUpdate,
            Schema::Config,
            Schema::Server,
        ]
    }

    /// The schema's path as shown in messages: `schemas/Manifest.dhall`.
    pub fn display_path(self) -> String {
        format!("{SCHEMA_DIR}/{}", self.file_name())
    }

    fn from_file_name(name: &str) -> Option<Schema> {
        Schema::all()
            .iter()
            .copied()
            .find(|s| s.file_name() == name)
    }

    /// The schema's text with every import replaced by the imported schema's text.
    fn resolved_source(self) -> Result<String, DhallError> {
        resolve_imports(self, &mut Vec::new())
    }

    /// The schema as a type `serde_dhall` can annotate with, parsed once per process (the
    /// Dhall parser is slow: parsing the manifest's type on every read made each `purs.dhall`
    /// cost several times its own parse).
    fn simple_type(self) -> Result<SimpleType, DhallError> {
        static PARSED: std::sync::Mutex<BTreeMap<Schema, SimpleType>> =
            std::sync::Mutex::new(BTreeMap::new());
        if let Some(parsed) = PARSED.lock().unwrap_or_else(|e| e.into_inner()).get(&self) {
            return Ok(parsed.clone());
        }
        let text = self.resolved_source()?;
        let parsed = serde_dhall::from_str(&text)
            .imports(false)
            .parse::<SimpleType>()
            .map_err(|e| DhallError::Schema {
                schema: self.display_path(),
                cause: tidy_cause(&e.to_string(), &self.display_path()),
            })?;
        PARSED
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(self, parsed.clone());
        Ok(parsed)
    }
}

impl std::fmt::Display for Schema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.display_path())
    }
}

/// Errors of reading, evaluating and type-checking Dhall input. They cross from the
/// sandbox's child process (`sandbox.rs`) as JSON.
#[derive(Debug, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum DhallError {
    #[error("cannot read `{path}`")]
    Read {
        path: String,
        #[source]
        #[serde(with = "io_text")]
        cause: std::io::Error,
    },
    #[error("syntax error in `{file}`: {cause}")]
    Syntax { file: String, cause: String },
    #[error("`{file}` is not a valid value of the type of `{schema}`: {cause}")]
    Invalid {
        file: String,
        schema: String,
        cause: String,
    },
    #[error("`{file}` does not have the type of `{schema}`: {cause}")]
    TypeMismatch {
        file: String,
        schema: String,
        cause: String,
    },
    #[error("embedded schema `{schema}` is broken (expected a Dhall type): {cause}")]
    Schema { schema: String, cause: String },
    #[error("`{file}` is {size} bytes: expected at most {limit} bytes of Dhall")]
    TooLarge {
        file: String,
        size: usize,
        limit: usize,
    },
    #[error(
        "`{file}` nests brackets {depth} deep: expected at most {limit} (`(`, `[`, `{{` and `<` together; the Dhall parser's time doubles with each level)"
    )]
    TooDeep {
        file: String,
        depth: usize,
        limit: usize,
    },
    #[error(
        "`{file}` is too intricate for the Dhall parser: it gave up after {steps} steps, and a file of {size} bytes written plainly takes far fewer (expected brackets closed and nested less deeply)"
    )]
    TooIntricate {
        file: String,
        size: usize,
        steps: usize,
    },
    #[error("`{file}` could not be evaluated: the Dhall evaluator failed on it")]
    EvaluatorFailed { file: String },
    #[error(
        "`{file}` imports `{import}`: expected a self-contained file (a package's Dhall is evaluated with imports disabled, so it cannot read the registry's files or environment)"
    )]
    ImportRefused { file: String, import: String },
    #[error(
        "`{file}` imports `{import}`: expected one of the package's own Dhall files (`./packages.dhall`) or an `https://` import pinned by `sha256:` (environment variables, absolute and home paths, plain `http://`, headers and files outside the package are never read)"
    )]
    ImportNotAllowed { file: String, import: String },
    #[error(
        "`{file}` imports `{import}`, which the package does not have: expected a `.dhall` file of the package, by a path relative to the importing file"
    )]
    ImportMissing { file: String, import: String },
    #[error(
        "`{file}` imports `{import}`, which is not in the registry's Dhall cache: regis does not fetch remote Dhall while publishing, so expected an import the registry's trustees have cached (`dhallCache` in regis.dhall)"
    )]
    ImportNotCached { file: String, import: String },
    #[error("`{file}` could not be evaluated: {cause}")]
    Evaluation { file: String, cause: String },
}

/// `std::io::Error` as its message, so a [`DhallError`] can cross from the sandbox's child.
mod io_text {
    pub fn serialize<S: serde::Serializer>(e: &std::io::Error, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&e.to_string())
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<std::io::Error, D::Error> {
        let message: String = serde::Deserialize::deserialize(d)?;
        Ok(std::io::Error::other(message))
    }
}

/// The largest untrusted Dhall text regis evaluates. A manifest is a few hundred bytes.
pub const MAX_UNTRUSTED_DHALL_BYTES: usize = 64 * 1024;

/// The deepest nesting of brackets in untrusted Dhall regis parses (and in a type it reads
/// back from an evaluator message). The Dhall parser backtracks at every bracket, so its
/// time doubles with each level: 8 levels took 5 seconds, 10 more than 20 (found while
/// fuzzing: see `fuzz/README.md`). A manifest nests 3 or 4 deep.
pub const MAX_DHALL_NESTING: usize = 6;

/// How deep `text` nests `(`, `[`, `{` and `<` (and `${` in a string) together. Brackets in
/// strings, comments and backtick-quoted labels do not count, so that a `)` there cannot
/// hide a level; `->` is an arrow, not a closing `>`.
fn nesting_depth(text: &str) -> usize {
    enum Open {
        Bracket,
        Interpolation,
        Text,
        MultiLine,
    }
    let c: Vec<char> = text.chars().collect();
    let at = |i: usize| c.get(i).copied();
    let mut stack: Vec<Open> = Vec::new();
    let mut deepest = 0;
    let mut i = 0;
    while i < c.len() {
        let open = |stack: &mut Vec<Open>, what: Open, deepest: &mut usize| {
            stack.push(what);
            let depth = stack
                .iter()
                .filter(|o| matches!(o, Open::Bracket | Open::Interpolation))
                .count();
            *deepest = (*deepest).max(depth);
        };
        match (stack.last(), c[i], at(i + 1)) {
            (Some(Open::Text), '\\', _) => i += 1,
            (Some(Open::Text), '"', _) => {
                stack.pop();
            }
            (Some(Open::MultiLine), '\'', Some('\'')) => match at(i + 2) {
                // `'''` writes `''`, `''${` writes `${`
                Some('\'' | '$') => i += 2,
                _ => {
                    stack.pop();
                    i += 1;
                }
            },
            (Some(Open::Text | Open::MultiLine), '$', Some('{')) => {
                open(&mut stack, Open::Interpolation, &mut deepest);
                i += 1;
            }
            (Some(Open::Text | Open::MultiLine), _, _) => {}
            (_, '-', Some('-')) => {
                while i < c.len() && c[i] != '\n' {
                    i += 1;
                }
            }
            (_, '{', Some('-')) => {
                let mut comments = 1;
                i += 2;
                while i < c.len() && comments > 0 {
                    match (c[i], at(i + 1)) {
                        ('{', Some('-')) => (comments, i) = (comments + 1, i + 1),
                        ('-', Some('}')) => (comments, i) = (comments - 1, i + 1),
                        _ => {}
                    }
                    i += 1;
                }
                continue;
            }
            (_, '`', _) => {
                i += 1;
                while i < c.len() && c[i] != '`' {
                    i += 1;
                }
            }
            (_, '"', _) => stack.push(Open::Text),
            (_, '\'', Some('\'')) => {
                stack.push(Open::MultiLine);
                i += 1;
            }
            (_, '(' | '[' | '{' | '<', _) => open(&mut stack, Open::Bracket, &mut deepest),
            (_, '>', _) if i > 0 && c[i - 1] == '-' => {}
            (Some(Open::Bracket), ')' | ']' | '}' | '>', _) => {
                stack.pop();
            }
            (Some(Open::Interpolation), '}', _) => {
                stack.pop();
            }
            _ => {}
        }
        i += 1;
    }
    deepest
}

/// Evaluate a Dhall file (relative imports resolved from its directory), type-check it against
/// `schema`, and convert the value to the JSON shape the wire format uses (dhall-to-json
/// semantics): records → objects, `None` → field omitted, `Some x` → x, union alternatives →
/// their payload (no tag), `List { mapKey, mapValue }` → object, Natural/Integer → numbers,
/// Text → strings.
///
/// One difference from dhall-to-json: `None` inside a map or a list is `null` (dhall-to-json
/// drops null map entries), so `PackageSetUpdate.packages` keeps its removals.
///
/// Imports are resolved as Dhall does: local paths (`./`, `../`, `/`, `~`), `env:` variables;
/// remote imports are unavailable (serde_dhall is built without them).
pub fn file_to_json(path: &Path, schema: Schema) -> Result<Value, DhallError> {
    let label = path.display().to_string();
    // read once here for a plain "cannot read" error; serde_dhall reads it again so that its
    // relative imports resolve from the file's directory
    std::fs::read_to_string(path).map_err(|cause| DhallError::Read {
        path: label.clone(),
        cause,
    })?;
    let ty = schema.simple_type()?;
    let value = serde_dhall::from_file(path)
        .type_annotation(&ty)
        .parse::<SimpleValue>()
        .map_err(|e| classify(&e.to_string(), &label, schema, &ty))?;
    Ok(to_json(&value, Some(&ty)))
}

/// [`file_to_json`] for a record schema, accepting a record that lacks some of the
/// schema's fields (a file written for an older version of the schema): the JSON of the
/// fields it has, and the names of those it lacks, sorted. A field of
/// another type, or one the schema does not have, is refused as by [`file_to_json`].
pub fn file_to_json_lacking(
    path: &Path,
    schema: Schema,
) -> Result<(Value, Vec<String>), DhallError> {
    let label = path.display().to_string();
    std::fs::read_to_string(path).map_err(|cause| DhallError::Read {
        path: label.clone(),
        cause,
    })?;
    let ty = schema.simple_type()?;
    let evaluate = |ty: &SimpleType| {
        serde_dhall::from_file(path)
            .type_annotation(ty)
            .parse::<SimpleValue>()
            .map_err(|e| e.to_string())
    };
    let message = match evaluate(&ty) {
        Ok(value) => return Ok((to_json(&value, Some(&ty)), vec![])),
        Err(message) => message,
    };
    let lacking = annotation_mismatch(&message)
        .filter(|(_, expected)| is_type(expected, &ty))
        .and_then(|(found, _)| parse_type(found))
        .and_then(|found| fields_lacking(&found, &ty));
    let Some((narrowed, missing)) = lacking else {
        return Err(classify(&message, &label, schema, &ty));
    };
    // a field of another type, or one the schema does not have, is reported against the
    // narrowed type, so the message names that field rather than the missing ones
    let value = evaluate(&narrowed).map_err(|m| classify(&m, &label, schema, &narrowed))?;
    Ok((to_json(&value, Some(&narrowed)), missing))
}

/// When `found` is a record type that lacks some fields of the record type `expected`:
/// `expected` narrowed to the fields `found` has, and the names of the fields left out.
/// (A field `found` has and `expected` does not is then reported against the narrowed type.)
fn fields_lacking(found: &SimpleType, expected: &SimpleType) -> Option<(SimpleType, Vec<String>)> {
    let (SimpleType::Record(found_fields), SimpleType::Record(expected_fields)) = (found, expected)
    else {
        return None;
    };
    let narrowed: std::collections::HashMap<String, SimpleType> = expected_fields
        .iter()
        .filter(|(name, _)| found_fields.contains_key(*name))
        .map(|(name, ty)| (name.clone(), ty.clone()))
        .collect();
    let mut missing: Vec<String> = expected_fields
        .keys()
        .filter(|name| !found_fields.contains_key(*name))
        .cloned()
        .collect();
    missing.sort();
    (!missing.is_empty()).then_some((SimpleType::Record(narrowed), missing))
}

/// [`file_to_json`] for Dhall text; its relative imports are resolved from the current
/// directory, and messages call it `<text>`.
pub fn str_to_json(text: &str, schema: Schema) -> Result<Value, DhallError> {
    let ty = schema.simple_type()?;
    let value = serde_dhall::from_str(text)
        .type_annotation(&ty)
        .parse::<SimpleValue>()
        .map_err(|e| classify(&e.to_string(), TEXT_LABEL, schema, &ty))?;
    Ok(to_json(&value, Some(&ty)))
}

/// Evaluate Dhall text that comes from an untrusted package (a `purs.dhall` in a source
/// repo) with every import disabled: such a file must not read the registry's environment
/// variables (`env:GITHUB_TOKEN`) or files (`/etc/…`, `../…`) and smuggle them into the
/// published manifest. `label` names the file in errors.
pub fn untrusted_str_to_json(text: &str, label: &str, schema: Schema) -> Result<Value, DhallError> {
    check_untrusted_text(text, label)?;
    let ty = schema.simple_type()?;
    limit_parser(text.len());
    // serde_dhall has inputs it panics on; untrusted input must fail, not abort the job.
    let parsed = std::panic::catch_unwind(|| {
        serde_dhall::from_str(text)
            .imports(false)
            .type_annotation(&ty)
            .parse::<SimpleValue>()
    })
    .map_err(|_| DhallError::EvaluatorFailed {
        file: label.to_owned(),
    })?;
    let value = parsed.map_err(|e| {
        let message = e.to_string();
        if let Some(e) = too_intricate(&message, label, text.len()) {
            return e;
        }
        match refused_import(&message) {
            Some(import) => DhallError::ImportRefused {
                file: label.to_owned(),
                import,
            },
            None => classify(&message, label, schema, &ty),
        }
    })?;
    Ok(to_json(&value, Some(&ty)))
}

/// The most Dhall files one package file may reach through its imports.
const MAX_PACKAGE_FILES: usize = 100;

/// Evaluate a package's Dhall file `file` below `dir` (its `spago.dhall`), untyped, and
/// convert the value to JSON as dhall-to-json does (what the PureScript Registry runs on it).
///
/// Before anything is evaluated the files it imports are walked (`check_package_imports`),
/// each bounded like [`untrusted_str_to_json`]'s text: a file may import files below `dir`
/// by relative path, and, when `cached`, `https://` imports pinned by `sha256:` that are in
/// the Dhall cache (`$XDG_CACHE_HOME/dhall`, which the sandbox sets); `missing` and
/// `as Location` read nothing and are allowed. Any other import is refused with a sentence
/// before the evaluator could read it. Runs in the sandbox's child (`sandbox.rs`).
pub fn package_file_to_json(dir: &Path, file: &str, cached: bool) -> Result<Value, DhallError> {
    let cache = cached
        .then(|| std::env::var_os("XDG_CACHE_HOME"))
        .flatten()
        .map(|base| std::path::PathBuf::from(base).join("dhall"));
    let largest = check_package_imports(dir, file, cache.as_deref())?;
    limit_parser(largest);
    let path = dir.join(file);
    // serde_dhall has inputs it panics on; untrusted input must fail, not abort the job.
    let parsed = std::panic::catch_unwind(|| {
        serde_dhall::from_file(&path)
            .imports(true)
            .parse::<SimpleValue>()
    })
    .map_err(|_| DhallError::EvaluatorFailed {
        file: file.to_owned(),
    })?;
    let value = parsed.map_err(|e| {
        let message = e.to_string();
        if let Some(e) = too_intricate(&message, file, largest) {
            return e;
        }
        let cause = crate::text::message(&tidy_cause(&message, file)).into_owned();
        if message.trim_start().starts_with("-->") {
            DhallError::Syntax {
                file: file.to_owned(),
                cause,
            }
        } else {
            DhallError::Evaluation {
                file: file.to_owned(),
                cause,
            }
        }
    })?;
    Ok(to_json(&value, None))
}

/// Walk the imports of `file` (below `root`) and of every package file it imports, and
/// refuse what [`package_file_to_json`] does not allow; `cache` is the Dhall cache
/// directory remote imports must be in. Returns the size of the largest file walked.
fn check_package_imports(
    root: &Path,
    file: &str,
    cache: Option<&Path>,
) -> Result<usize, DhallError> {
    use dhall::syntax::{FilePrefix, ImportMode, ImportTarget, Scheme};
    let mut pending = vec![std::path::PathBuf::from(file)];
    let mut seen = BTreeSet::new();
    let mut largest = 0;
    while let Some(rel) = pending.pop() {
        if !seen.insert(rel.clone()) {
            continue;
        }
        let label = rel.display().to_string();
        if seen.len() > MAX_PACKAGE_FILES {
            return Err(DhallError::Evaluation {
                file: file.to_owned(),
                cause: format!(
                    "it reaches more than {MAX_PACKAGE_FILES} files through its imports: expected a few"
                ),
            });
        }
        let text = std::fs::read_to_string(root.join(&rel)).map_err(|cause| DhallError::Read {
            path: label.clone(),
            cause,
        })?;
        check_untrusted_text(&text, &label)?;
        largest = largest.max(text.len());
        limit_parser(text.len());
        let expr = std::panic::catch_unwind(|| dhall::syntax::parse_expr(&text))
            .map_err(|_| DhallError::EvaluatorFailed {
                file: label.clone(),
            })?
            .map_err(|e| {
                let message = e.to_string();
                too_intricate(&message, &label, text.len()).unwrap_or_else(|| DhallError::Syntax {
                    file: label.clone(),
                    cause: crate::text::message(message.trim()).into_owned(),
                })
            })?;
        let mut imports = Vec::new();
        collect_imports(&expr, &mut imports);
        for import in imports {
            let written = import_text(import);
            let refuse = || DhallError::ImportNotAllowed {
                file: label.clone(),
                import: written.clone(),
            };
            if import.mode == ImportMode::Location {
                continue;
            }
            match &import.location {
                ImportTarget::Missing => {}
                ImportTarget::Env(_) => return Err(refuse()),
                ImportTarget::Local(FilePrefix::Absolute | FilePrefix::Home, _) => {
                    return Err(refuse());
                }
                ImportTarget::Local(prefix, path) => {
                    let base = rel.parent().unwrap_or(Path::new(""));
                    let base = match prefix {
                        FilePrefix::Parent => base.join(".."),
                        _ => base.to_path_buf(),
                    };
                    let target = path.file_path.iter().fold(base, |p, part| p.join(part));
                    let target = within(&target).ok_or_else(refuse)?;
                    if !root.join(&target).is_file() {
                        return Err(DhallError::ImportMissing {
                            file: label.clone(),
                            import: written,
                        });
                    }
                    if import.mode == ImportMode::Code {
                        pending.push(target);
                    }
                }
                ImportTarget::Remote(url) => {
                    let dhall::syntax::Hash::SHA256(hash) = match &import.hash {
                        Some(hash) if url.scheme == Scheme::HTTPS && url.headers.is_none() => hash,
                        _ => return Err(refuse()),
                    };
                    let entry = format!("1220{}", hex::encode(hash));
                    if !cache.is_some_and(|c| c.join(&entry).is_file()) {
                        return Err(DhallError::ImportNotCached {
                            file: label.clone(),
                            import: written,
                        });
                    }
                }
            }
        }
    }
    Ok(largest)
}

/// `path` (relative, with `.` and `..` parts) without them, or `None` when it leaves the
/// directory it is relative to.
fn within(path: &Path) -> Option<std::path::PathBuf> {
    use std::path::Component;
    let mut out = std::path::PathBuf::new();
    for part in path.components() {
        match part {
            Component::Normal(p) => out.push(p),
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

/// Every import in `expr`, outermost first.
fn collect_imports<'e>(
    expr: &'e dhall::syntax::Expr,
    out: &mut Vec<&'e dhall::syntax::Import<dhall::syntax::Expr>>,
) {
    if let dhall::syntax::ExprKind::Import(import) = expr.kind() {
        out.push(import);
    }
    let _ = expr.kind().traverse_ref(|child| {
        collect_imports(child, out);
        Ok::<(), ()>(())
    });
}

/// An import as Dhall writes it: `./packages.dhall`, `env:HOME as Text`,
/// `https://host/a.dhall sha256:…`.
fn import_text(import: &dhall::syntax::Import<dhall::syntax::Expr>) -> String {
    use dhall::syntax::{FilePrefix, ImportMode, ImportTarget, Scheme};
    let path = |p: &dhall::syntax::FilePath| p.file_path.join("/");
    let mut out = match &import.location {
        ImportTarget::Local(prefix, p) => {
            let prefix = match prefix {
                FilePrefix::Absolute => "/",
                FilePrefix::Here => "./",
                FilePrefix::Parent => "../",
                FilePrefix::Home => "~/",
            };
            format!("{prefix}{}", path(p))
        }
        ImportTarget::Remote(url) => {
            let scheme = match url.scheme {
                Scheme::HTTP => "http",
                Scheme::HTTPS => "https",
            };
            let query = url
                .query
                .as_ref()
                .map_or(String::new(), |q| format!("?{q}"));
            let headers = if url.headers.is_some() {
                " using …"
            } else {
                ""
            };
            format!(
                "{scheme}://{}/{}{query}{headers}",
                url.authority,
                path(&url.path)
            )
        }
        ImportTarget::Env(var) => format!("env:{var}"),
        ImportTarget::Missing => "missing".to_owned(),
    };
    if let Some(dhall::syntax::Hash::SHA256(hash)) = &import.hash {
        out.push_str(&format!(" sha256:{}", hex::encode(hash)));
    }
    match import.mode {
        ImportMode::Code => {}
        ImportMode::RawText => out.push_str(" as Text"),
        ImportMode::Location => out.push_str(" as Location"),
    }
    crate::text::value(&out).into_owned()
}

/// The parser steps (pest's rule calls) untrusted Dhall text of `size` bytes may take:
/// a floor, then 400 a byte. Real files take 10 to 370 a byte (`spago.dhall`s, the
/// schemas, a 4 KB config: 170,000 at most); the parser makes about 35 million a second,
/// and a 771-byte file the fuzzer wrote, six brackets deep and none closed, took 640
/// million (17 s): the nesting limit alone does not bound the backtracking.
pub fn parse_step_budget(size: usize) -> usize {
    4_000_000 + 400 * size
}

/// Refuse untrusted Dhall text larger than [`MAX_UNTRUSTED_DHALL_BYTES`] or nesting deeper
/// than [`MAX_DHALL_NESTING`], before the parser sees it.
fn check_untrusted_text(text: &str, label: &str) -> Result<(), DhallError> {
    if text.len() > MAX_UNTRUSTED_DHALL_BYTES {
        return Err(DhallError::TooLarge {
            file: label.to_owned(),
            size: text.len(),
            limit: MAX_UNTRUSTED_DHALL_BYTES,
        });
    }
    let depth = nesting_depth(text);
    if depth > MAX_DHALL_NESTING {
        return Err(DhallError::TooDeep {
            file: label.to_owned(),
            depth,
            limit: MAX_DHALL_NESTING,
        });
    }
    Ok(())
}

/// Let the Dhall parser take at most [`parse_step_budget`]`(size)` steps on each file from
/// here on (pest's limit is process-wide: the sandbox's child parses one job). A parse
/// over it fails; [`too_intricate`] names that failure.
fn limit_parser(size: usize) {
    pest::set_call_limit(std::num::NonZeroUsize::new(parse_step_budget(size)));
}

/// [`DhallError::TooIntricate`] when `message` (a parse error) says the parser ran out of
/// the steps [`limit_parser`]`(size)` allowed.
fn too_intricate(message: &str, label: &str, size: usize) -> Option<DhallError> {
    message
        .contains("call limit reached")
        .then(|| DhallError::TooIntricate {
            file: label.to_owned(),
            size,
            steps: parse_step_budget(size),
        })
}

/// The import serde_dhall refused (imports disabled), written as in Dhall (`./a.dhall`,
/// `env:HOME as Text`, `https://host/a.dhall`), from its `UnexpectedImport(Import { … })`
/// message; "an import" when its shape is not the one known.
fn refused_import(message: &str) -> Option<String> {
    let import = message.trim().strip_prefix("UnexpectedImport(")?;
    let location = import.split("location: ").nth(1).unwrap_or("");
    let path = || {
        let list = location.split("file_path: [").nth(1)?.split(']').next()?;
        let parts: Vec<&str> = list.split('"').skip(1).step_by(2).collect();
        Some(parts.join("/"))
    };
    let written = if let Some(var) = location.strip_prefix("Env(\"") {
        var.split('"').next().map(|v| format!("env:{v}"))
    } else if let Some(local) = location.strip_prefix("Local(") {
        let prefix = match local.split(',').next() {
            Some("Here") => "./",
            Some("Parent") => "../",
            Some("Home") => "~/",
            Some("Absolute") => "/",
            _ => "",
        };
        path().map(|p| format!("{prefix}{p}"))
    } else if location.starts_with("Remote(") {
        let scheme = if location.contains("scheme: HTTPS") {
            "https"
        } else {
            "http"
        };
        let authority = location
            .split("authority: \"")
            .nth(1)
            .and_then(|a| a.split('"').next());
        authority
            .zip(path())
            .map(|(host, p)| format!("{scheme}://{host}/{p}"))
    } else if location.starts_with("Missing") {
        Some("missing".to_owned())
    } else {
        None
    };
    let mode = if import.contains("mode: RawText") {
        " as Text"
    } else if import.contains("mode: Location") {
        " as Location"
    } else {
        ""
    };
    Some(match written {
        Some(w) => format!("{w}{mode}"),
        None => "an import".to_owned(),
    })
}

/// `text` as a Dhall double-quoted text literal (what a writer of Dhall files needs), e.g.
/// `a"b` → `"a\"b"`; `$` is escaped so that `${` is never an interpolation.
pub fn text_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '$' => out.push_str("\\u0024"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Substitute `./<Schema>.dhall` imports in `schema`'s source; `stack` detects cycles.
fn resolve_imports(schema: Schema, stack: &mut Vec<Schema>) -> Result<String, DhallError> {
    let broken = |cause: String| DhallError::Schema {
        schema: schema.display_path(),
        cause,
    };
    if stack.contains(&schema) {
        return Err(broken("import cycle".to_string()));
    }
    stack.push(schema);
    let source = schema.source();
    let mut out = String::with_capacity(source.len());
    let mut rest = source;
    while let Some(at) = find_import(rest) {
        let (before, after) = rest.split_at(at);
        let name_len = after[2..].find(".dhall").map(|n| n + 2 + ".dhall".len());
        let name = name_len.map(|n| &after[2..n]).unwrap_or_default();
        let imported = Schema::from_file_name(name).ok_or_else(|| {
            broken(format!(
                "unknown import `./{name}` (expected a schema file)"
            ))
        })?;
        out.push_str(before);
        out.push_str("(\n");
        out.push_str(&resolve_imports(imported, stack)?);
        out.push_str("\n)");
        rest = &after[name_len.unwrap_or(after.len())..];
    }
    out.push_str(rest);
    stack.pop();
    Ok(out)
}

/// The byte offset of the next `./` that starts a relative import (not part of `../` or a
/// longer path), skipping `--` line comments.
fn find_import(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] == b'-' && bytes[i + 1] == b'-' {
            i += text[i..].find('\n').unwrap_or(text.len() - i);
            continue;
        }
        let starts_path = i == 0
            || !matches!(bytes[i - 1], b'.' | b'/' | b'_' | b'-')
                && !bytes[i - 1].is_ascii_alphanumeric();
        if bytes[i] == b'.' && bytes[i + 1] == b'/' && starts_path {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Turn a serde_dhall error message into the error it stands for.
fn classify(message: &str, file: &str, schema: Schema, ty: &SimpleType) -> DhallError {
    // serde_dhall prints whole types, which a small file can make exponentially large
    let cause = crate::text::message(&tidy_cause(message, file)).into_owned();
    // pest's parse errors start with the position (` --> 2:1`); a syntax error in an imported
    // file is reported as a type error at the import instead.
    if message.trim_start().starts_with("-->") {
        return DhallError::Syntax {
            file: file.to_string(),
            cause,
        };
    }
    match annotation_mismatch(message) {
        Some((found, expected)) if is_type(expected, ty) => {
            let cause = match parse_type(found).and_then(|found| first_difference("", &found, ty)) {
                Some(difference) => format!("{difference}: {cause}"),
                None => cause,
            };
            DhallError::TypeMismatch {
                file: file.to_string(),
                schema: schema.display_path(),
                cause,
            }
        }
        _ => DhallError::Invalid {
            file: file.to_string(),
            schema: schema.display_path(),
            cause,
        },
    }
}

/// Name the file where serde_dhall says `<current file>`, drop the doubled `Type error: error:`
/// prefix and surrounding blank space.
fn tidy_cause(message: &str, file: &str) -> String {
    let message = message.replace("<current file>", file);
    let message = match message.strip_prefix("Type error: error: ") {
        Some(rest) => format!("type error: {rest}"),
        None => message,
    };
    message.trim().to_string()
}

/// The two types of Dhall's `annot mismatch: <found> != <expected>` (first line).
fn annotation_mismatch(message: &str) -> Option<(&str, &str)> {
    let first_line = message.lines().next()?;
    let (_, types) = first_line.split_once("annot mismatch: ")?;
    types.split_once(" != ")
}

/// Whether `text`, the expected type of an evaluator message, reads as `ty`. It is the
/// schema's type (or that narrowed), so its text is the same on every read: each text found
/// to be `ty` is remembered, and a repeat costs a string comparison instead of a parse (the
/// manifest's type took most of the time of reading a `purs.dhall` with a type error).
fn is_type(text: &str, ty: &SimpleType) -> bool {
    /// Texts remembered at most; the set starts over when full.
    const REMEMBERED: usize = 32;
    static KNOWN: std::sync::Mutex<Vec<(String, SimpleType)>> = std::sync::Mutex::new(Vec::new());
    let known = |text: &str| {
        let known = KNOWN.lock().unwrap_or_else(|e| e.into_inner());
        known
            .iter()
            .find(|(t, _)| t == text)
            .map(|(_, ty)| ty.clone())
    };
    if let Some(parsed) = known(text) {
        return &parsed == ty;
    }
    let Some(parsed) = parse_type(text) else {
        return false;
    };
    let same = &parsed == ty;
    if same {
        let mut known = KNOWN.lock().unwrap_or_else(|e| e.into_inner());
        if known.len() >= REMEMBERED {
            known.clear();
        }
        known.push((text.to_owned(), parsed));
    }
    same
}

/// `text` read as a Dhall type; `None` when it is not one, or nests deeper than
/// [`MAX_DHALL_NESTING`] (a small file's value can have a deep type: parsing it could take
/// minutes).
fn parse_type(text: &str) -> Option<SimpleType> {
    if nesting_depth(text) > MAX_DHALL_NESTING {
        return None;
    }
    serde_dhall::from_str(text)
        .imports(false)
        .parse::<SimpleType>()
        .ok()
}

/// A short description of where `found` first differs from `expected`, in field order; `at`
/// is the path of the value (`published.*.bytes`, `owners[*].id`), empty for the whole value.
fn first_difference(at: &str, found: &SimpleType, expected: &SimpleType) -> Option<String> {
    let field = |name: &str| {
        if at.is_empty() {
            name.to_string()
        } else {
            format!("{at}.{name}")
        }
    };
    match (found, expected) {
        (SimpleType::Record(found), SimpleType::Record(expected)) => {
            let names: BTreeSet<&String> = found.keys().chain(expected.keys()).collect();
            names
                .into_iter()
                .find_map(|name| match (found.get(name), expected.get(name)) {
                    (None, Some(ty)) => {
                        Some(format!("missing field `{}` (expected `{ty}`)", field(name)))
                    }
                    (Some(_), None) => Some(format!("unexpected field `{}`", field(name))),
                    (Some(f), Some(e)) => first_difference(&field(name), f, e),
                    (None, None) => None,
                })
        }
        (SimpleType::Union(found), SimpleType::Union(expected)) => {
            let list = quoted_list(expected.keys());
            let names: BTreeSet<&String> = found.keys().chain(expected.keys()).collect();
            names
                .into_iter()
                .find_map(|name| match (found.get(name), expected.get(name)) {
                    (Some(_), None) => Some(format!(
                        "unknown alternative `{name}` in {} (expected one of {list})",
                        describe(at)
                    )),
                    (None, Some(_)) => Some(format!(
                        "the union of {} lacks alternative `{name}` (expected exactly {list})",
                        describe(at)
                    )),
                    (Some(Some(f)), Some(Some(e))) => first_difference(&field(name), f, e),
                    (Some(f), Some(e)) if f.is_some() != e.is_some() => Some(format!(
                        "alternative `{name}` of {} has a different payload than expected",
                        describe(at)
                    )),
                    _ => None,
                })
        }
        (SimpleType::List(f), SimpleType::List(e)) => {
            match (map_value_type(f), map_value_type(e)) {
                (Some(f), Some(e)) => first_difference(&field("*"), f, e),
                _ => first_difference(&format!("{at}[*]"), f, e),
            }
        }
        (SimpleType::Optional(f), SimpleType::Optional(e)) => first_difference(at, f, e),
        _ if found == expected => None,
        _ => Some(format!(
            "{} has type `{found}` (expected `{expected}`)",
            describe(at)
        )),
    }
}

/// The value type of a map entry type `{ mapKey : Text, mapValue : T }`.
fn map_value_type(entry: &SimpleType) -> Option<&SimpleType> {
    match entry {
        SimpleType::Record(kts)
            if kts.len() == 2 && kts.get("mapKey") == Some(&SimpleType::Text) =>
        {
            kts.get("mapValue")
        }
        _ => None,
    }
}

fn quoted_list<'a>(names: impl Iterator<Item = &'a String>) -> String {
    let sorted: BTreeSet<&String> = names.collect();
    sorted
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A value's path for messages: `` `owners[*].id` ``, or "the value" for the whole value.
fn describe(at: &str) -> String {
    if at.is_empty() {
        "the value".to_string()
    } else {
        format!("`{at}`")
    }
}

/// Convert a Dhall value to JSON, guided by its type where one is known (see [`file_to_json`]).
fn to_json(value: &SimpleValue, ty: Option<&SimpleType>) -> Value {
    match (value, ty) {
        (SimpleValue::Num(n), _) => num_to_json(n),
        (SimpleValue::Text(t), _) => Value::String(t.clone()),
        (SimpleValue::Optional(None), _) => Value::Null,
        (SimpleValue::Optional(Some(x)), ty) => {
            let inner = match ty {
                Some(SimpleType::Optional(t)) => Some(t.as_ref()),
                _ => None,
            };
            to_json(x, inner)
        }
        (SimpleValue::List(xs), ty) => {
            let inner = match ty {
                Some(SimpleType::List(t)) => Some(t.as_ref()),
                _ => None,
            };
            Value::Array(xs.iter().map(|x| to_json(x, inner)).collect())
        }
        (SimpleValue::Record(fields), Some(SimpleType::List(entry))) => {
            // serde_dhall already turned the `List { mapKey, mapValue }` into a record.
            let value_ty = match entry.as_ref() {
                SimpleType::Record(kts) => kts.get("mapValue"),
                _ => None,
            };
            let object = fields
                .iter()
                .map(|(k, v)| (k.clone(), to_json(v, value_ty)))
                .collect();
            Value::Object(object)
        }
        (SimpleValue::Record(fields), ty) => {
            let field_types = match ty {
                Some(SimpleType::Record(kts)) => Some(kts),
                _ => None,
            };
            record_to_json(fields, |name| field_types.and_then(|kts| kts.get(name)))
        }
        (SimpleValue::Union(name, payload), ty) => {
            let payload_ty = match ty {
                Some(SimpleType::Union(alts)) => alts.get(name).and_then(Option::as_ref),
                _ => None,
            };
            match payload {
                Some(p) => to_json(p, payload_ty),
                None => Value::String(name.clone()),
            }
        }
    }
}

/// A record's fields as an object; `None` fields are left out.
fn record_to_json<'t>(
    fields: &BTreeMap<String, SimpleValue>,
    field_type: impl Fn(&str) -> Option<&'t SimpleType>,
) -> Value {
    let object: Map<String, Value> = fields
        .iter()
        .filter(|(_, v)| !matches!(v, SimpleValue::Optional(None)))
        .map(|(k, v)| (k.clone(), to_json(v, field_type(k))))
        .collect();
    Value::Object(object)
}

fn num_to_json(n: &NumKind) -> Value {
    match n {
        NumKind::Bool(b) => Value::Bool(*b),
        NumKind::Natural(n) => Value::from(*n),
        NumKind::Integer(i) => Value::from(*i),
        NumKind::Double(d) => {
            serde_json::Number::from_f64(f64::from(*d)).map_or(Value::Null, Value::Number)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use serde_json::json;

    use super::*;

    /// A record doubled at each `let` has a type 2^n fields long and n deep, which
    /// serde_dhall's message printed whole and regis parsed back with a parser whose time
    /// doubles with each level: a 250-byte `purs.dhall` ran for minutes (found while triaging
    /// the `manifest_dhall` fuzz target's first failure, an error bound). The type is no
    /// longer parsed, the message is cut.
    #[test]
    fn a_deep_or_large_type_error_is_quick_and_cut() {
        let mut text = String::from("let a0 = { x = \"\", y = \"\" }\n");
        for i in 1..=10 {
            text += &format!("let a{i} = {{ p = a{}, q = a{} }}\n", i - 1, i - 1);
        }
        text += "in a10\n";
        let e = untrusted_str_to_json(&text, "purs.dhall", Schema::Manifest).unwrap_err();
        let message = e.to_string();
        assert!(message.len() < 2048, "{} bytes: {message}", message.len());
    }

    /// Brackets nested 12 deep took the parser minutes (found while fuzzing
    /// `manifest_dhall`); deeper than [`MAX_DHALL_NESTING`] is refused before parsing.
    #[test]
    fn deep_nesting_is_refused_before_parsing() {
        let deep = format!("{}1{}", "[ ".repeat(40), " ]".repeat(40));
        let e = untrusted_str_to_json(&deep, "purs.dhall", Schema::Manifest).unwrap_err();
        assert_eq!(
            e.to_string(),
            "`purs.dhall` nests brackets 40 deep: expected at most 6 (`(`, `[`, `{` and `<` together; the Dhall parser's time doubles with each level)"
        );
        for (text, depth) in [
            ("{ a = [ (x) ] } -> { b = < A | B > }", 3),
            ("[ \\(x : T) -> [ \\(y : T) -> [ 1 ] ] ]", 3),
            ("[ \"))]\", [ {- ]] {- ] -} ] -} [ `a)]` ] ] -- ]]\n", 3),
            ("{ d = \"(a) [b] ${ { x = \"}\" }.x } c\" }", 3),
            ("{ d = ''\n  )) ''${ \'\'' ${ [ 1 ] } '' }", 3),
        ] {
            assert_eq!(nesting_depth(text), depth, "{text}");
        }
    }

    /// A 771-byte file the fuzzer wrote (`tests/fuzz-regressions/manifest_dhall/`): six
    /// brackets deep, none closed, with import-like paths at each level. Within the nesting
    /// limit, its failing parse backtracked for 640 million steps (17 s); the step budget
    /// stops it at 4.3 million, as a manifest and as a package's `spago.dhall`.
    #[test]
    fn an_intricate_file_is_refused_within_its_step_budget() {
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fuzz-regressions/manifest_dhall/unclosed-brackets-backtrack"),
        )
        .unwrap();
        assert_eq!(nesting_depth(&text), MAX_DHALL_NESTING);
        let e = untrusted_str_to_json(&text, "purs.dhall", Schema::Manifest).unwrap_err();
        assert_eq!(
            e.to_string(),
            "`purs.dhall` is too intricate for the Dhall parser: it gave up after 4308400 steps, and a file of 771 bytes written plainly takes far fewer (expected brackets closed and nested less deeply)"
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("spago.dhall"), "./packages.dhall").unwrap();
        std::fs::write(dir.path().join("packages.dhall"), &text).unwrap();
        let e = package_file_to_json(dir.path(), "spago.dhall", false).unwrap_err();
        assert!(
            matches!(&e, DhallError::TooIntricate { file, size: 771, .. } if file == "packages.dhall"),
            "{e:?}"
        );
    }

    fn sample(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/dhall")
            .join(name)
    }

    /// A file of the PureScript fixtures, or `None` (with a note) when they are absent.
    fn fixture(relative: &str) -> Option<Value> {
        let dir = crate::testing::purescript_fixtures()?;
        let text = std::fs::read_to_string(dir.join(relative)).expect("fixture is readable");
        Some(serde_json::from_str(&text).expect("fixture is JSON"))
    }

    /// The JSON payload of an issue body: the text from the first `{` to the last `}`.
    fn payload_of(body: &str) -> Value {
        let start = body.find('{').expect("a `{` in the body");
        let end = body.rfind('}').expect("a `}` in the body");
        serde_json::from_str(&body[start..=end]).expect("the payload is JSON")
    }

    #[test]
    fn every_schema_loads_as_a_type_without_imports_left() {
        for &schema in Schema::all() {
            let resolved = schema.resolved_source().unwrap();
            assert_eq!(find_import(&resolved), None, "{schema}");
            schema.simple_type().unwrap_or_else(|e| panic!("{e}"));
        }
    }

    #[test]
    fn every_schema_file_is_embedded_and_listed() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(SCHEMA_DIR);
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".dhall"))
            .collect();
        on_disk.sort();
        let mut listed: Vec<String> = Schema::all()
            .iter()
            .map(|s| s.file_name().to_string())
            .collect();
        listed.sort();
        assert_eq!(on_disk, listed);
        for &schema in Schema::all() {
            let text = std::fs::read_to_string(dir.join(schema.file_name())).unwrap();
            assert_eq!(text, schema.source(), "{schema}");
            assert_eq!(Schema::from_file_name(schema.file_name()), Some(schema));
        }
    }

    #[test]
    fn schemas_written_to_disk_import_each_other() {
        let dir = tempfile::tempdir().unwrap();
        for &schema in Schema::all() {
            std::fs::write(dir.path().join(schema.file_name()), schema.source()).unwrap();
        }
        for &schema in Schema::all() {
            let on_disk: SimpleType = serde_dhall::from_file(dir.path().join(schema.file_name()))
                .parse()
                .unwrap();
            assert_eq!(on_disk, schema.simple_type().unwrap(), "{schema}");
        }
    }

    #[test]
    fn import_substitution_skips_comments_and_longer_paths() {
        assert_eq!(
            find_import("-- see ./Location.dhall\n{ a : ./X.dhall }"),
            Some(30)
        );
        assert_eq!(find_import("../Location.dhall"), None);
        assert_eq!(find_import("/a/./b"), None);
        assert_eq!(find_import("(./Owner.dhall)"), Some(1));
    }

    #[test]
    fn manifest_matches_the_real_prelude_json() {
        let json = file_to_json(&sample("prelude-4.1.1.dhall"), Schema::Manifest).unwrap();
        if let Some(expected) = fixture("manifests/prelude-4.1.1.json") {
            assert_eq!(json, expected);
        }
        assert_eq!(json["dependencies"], json!({}));
        assert!(json["owners"][0].get("id").is_none());
    }

    #[test]
    fn manifest_with_to_map_matches_the_real_aff_json() {
        let json = file_to_json(&sample("aff-5.1.2.dhall"), Schema::Manifest).unwrap();
        if let Some(expected) = fixture("manifests/aff-5.1.2.json") {
            assert_eq!(json, expected);
        }
        assert_eq!(json["dependencies"]["unsafe-coerce"], ">=4.0.0 <5.0.0");
    }

    #[test]
    fn metadata_matches_the_real_prelude_metadata() {
        let json = file_to_json(&sample("prelude-metadata.dhall"), Schema::Metadata).unwrap();
        if let Some(expected) = fixture("mini-registry/metadata/prelude.json") {
            assert_eq!(json, expected);
        }
        assert_eq!(json["published"]["6.0.1"]["bytes"], 31125);
    }

    #[test]
    fn package_set_matches_the_real_one() {
        let json = file_to_json(&sample("package-set-0.0.1.dhall"), Schema::PackageSet).unwrap();
        if let Some(expected) = fixture("mini-registry/package-sets/0.0.1.json") {
            assert_eq!(json, expected);
        }
    }

    #[test]
    fn publish_matches_the_real_issue_payload() {
        let json = file_to_json(&sample("publish.dhall"), Schema::Publish).unwrap();
        if let Some(event) = fixture("events/addition_issue_created.json") {
            let body = event["issue"]["body"].as_str().unwrap();
            assert_eq!(json, payload_of(body));
        }
    }

    #[test]
    fn package_set_update_keeps_removals_as_null() {
        let json = file_to_json(
            &sample("package-set-update.dhall"),
            Schema::PackageSetUpdate,
        )
        .unwrap();
        let expected = json!({ "packages": { "aff": "7.0.0", "argonaut": null } });
        assert_eq!(json, expected);
        if let Some(event) = fixture("events/package-set-update_issue_created.json") {
            let body = event["issue"]["body"].as_str().unwrap();
            assert_eq!(json, payload_of(body));
        }
    }

    #[test]
    fn transfer_matches_the_signed_vector_payload() {
        let json = file_to_json(&sample("transfer.dhall"), Schema::Transfer).unwrap();
        if let Some(vectors) = fixture("vectors/ssh-signature.json") {
            let payload = vectors["ed25519"]["payload"].as_str().unwrap();
            assert_eq!(json, serde_json::from_str::<Value>(payload).unwrap());
        }
    }

    #[test]
    fn authenticated_matches_the_signed_vector() {
        let json = file_to_json(&sample("authenticated.dhall"), Schema::Authenticated).unwrap();
        if let Some(vectors) = fixture("vectors/ssh-signature.json") {
            let expected = json!({
                "payload": vectors["ed25519"]["payload"],
                "signature": vectors["ed25519"]["signature_hex"],
            });
            assert_eq!(json, expected);
        }
    }

    #[test]
    fn the_other_samples_convert_to_their_wire_shape() {
        let cases = [
            (
                "unpublish.dhall",
                Schema::Unpublish,
                json!({"name": "prelude", "version": "6.0.1", "reason": "published by mistake"}),
            ),
            (
                "alias.dhall",
                Schema::Alias,
                json!({"name": "prelude", "alias": "next", "version": "6.0.1"}),
            ),
            (
                "unalias.dhall",
                Schema::Unalias,
                json!({"name": "prelude", "unalias": "next"}),
            ),
            (
                "addition.dhall",
                Schema::Addition,
                json!({
                    "packageName": "prelude",
                    "newPackageLocation": {"gitUrl": "https://example.com/prelude.git", "subdir": "lib"},
                    "newRef": "v5.0.0",
                    "buildPlan": {"compiler": "0.15.0", "resolutions": {"effect": "4.0.0"}},
                }),
            ),
            (
                "update.dhall",
                Schema::Update,
                json!({
                    "packageName": "prelude",
                    "updateRef": "v5.0.1",
                    "buildPlan": {"compiler": "0.15.0", "resolutions": {}},
                }),
            ),
            (
                "owner.dhall",
                Schema::Owner,
                json!({
                    "id": "maintainer@jrrom.com",
                    "keytype": "ssh-ed25519",
                    "public": "AAAAC3NzaC1lZDI1NTE5AAAAIFO1kn/983377PaE6JQO9UoiJ67ZZWNZxyouUVkhJYKd",
                }),
            ),
            (
                "location.dhall",
                Schema::Location,
                json!({"gitUrl": "https://example.com/monorepo.git", "subdir": "packages/foo"}),
            ),
            (
                "config.dhall",
                Schema::Config,
                json!({
                    "name": "test-registry",
                    "githubBaseUrl": "file:///srv/git",
                    "defaultCompiler": "0.15.15",
                    "compilers": ["0.15.10", "0.15.15", "0.15.16"],
                    "forbiddenNamePrefixes": ["purescript-", "ps-"],
                    "reservedNames": ["metadata", "registry"],
                    "packageBytesMax": 1000000,
                    "packageBytesWarn": 100000,
                    "pushAttempts": 3,
                    "pushRetrySeconds": 120,
                    "buildCheck": "purs compile 'src/**/*.purs'",
                    "hookTimeoutSeconds": 600,
                    "matrixTimeoutSeconds": 1200,
                    "githubApiUrl": "http://127.0.0.1:9000",
                    "githubTokenEnv": "GITHUB_TOKEN",
                    "botLogin": "regis-bot",
                    "botKeyEnv": "REGIS_BOT_KEY",
                    "trustees": ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN0qhG2pBVE36/urgalafah4ndzq4pWG4xZ6csRfdgVw trustee"],
                    "trusteeTeam": "test/trustees",
                    "unpublishWindowHours": 48,
                    "signatureNamespace": "file",
                    "ownerChanges": "signed",
                    "storage": "../storage",
                    "storageUrl": "https://packages.example.org/{name}/{version}.tar.gz",
                    "mirrors": ["../mirror", "s3://mirror-bucket/tarballs"],
                    "dhallCache": ".dhall-cache",
                    "trustRootKeys": ["file:../keys/root-a.pem", "env:REGIS_ROOT_KEY"],
                    "trustTargetsKey": "env:REGIS_TARGETS_KEY",
                    "trustSnapshotKey": "env:REGIS_SNAPSHOT_KEY",
                    "trustTimestampKey": "env:REGIS_TIMESTAMP_KEY",
                    "trustAtomKey": "file:/etc/regis/atom.pem",
                    "trustRootExpiryDays": 180,
                    "trustTimestampExpiryDays": 1,
                    "trustOnlineExpiryDays": 90,
                    "trustHashBins": 4096,
                }),
            ),
        ];
        for (file, schema, expected) in cases {
            assert_eq!(
                file_to_json(&sample(file), schema).unwrap(),
                expected,
                "{file}"
            );
        }
    }

    /// A temporary directory holding `schemas/` exactly as shipped.
    fn schemas_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("schemas")).unwrap();
        for &schema in Schema::all() {
            std::fs::write(
                dir.path().join("schemas").join(schema.file_name()),
                schema.source(),
            )
            .unwrap();
        }
        dir
    }

    #[test]
    fn a_manifest_in_a_package_imports_schemas_from_its_own_directory() {
        let dir = schemas_dir();
        let purs = dir.path().join("purs.dhall");
        let text = r#"
            let Location = ./schemas/Location.dhall
            in  { name = "mini", version = "1.0.0", license = "MIT", description = None Text
                , location = Location.GitHub { githubOwner = "o", githubRepo = "r", subdir = Some "lib" }
                , ref = "v1.0.0", owners = None (List ./schemas/Owner.dhall)
                , includeFiles = None (List Text), excludeFiles = None (List Text)
                , dependencies = toMap { prelude = ">=6.0.0 <7.0.0" }
                } : ./schemas/Manifest.dhall
        "#;
        std::fs::write(&purs, text).unwrap();
        // evaluated from elsewhere: the imports follow the file, not the current directory
        let json = file_to_json(&purs, Schema::Manifest).unwrap();
        assert_eq!(
            json["location"],
            json!({"githubOwner": "o", "githubRepo": "r", "subdir": "lib"})
        );
        assert_eq!(json["dependencies"], json!({"prelude": ">=6.0.0 <7.0.0"}));
    }

    #[test]
    fn the_readme_example_type_checks() {
        let readme = include_str!("../schemas/README.md");
        let start = readme.find("```dhall\n").unwrap() + "```dhall\n".len();
        let example = &readme[start..start + readme[start..].find("```").unwrap()];
        let dir = schemas_dir();
        std::fs::write(dir.path().join("purs.dhall"), example).unwrap();
        let json = file_to_json(&dir.path().join("purs.dhall"), Schema::Manifest).unwrap();
        assert_eq!(json["dependencies"], json!({"prelude": ">=6.0.0 <7.0.0"}));
    }

    #[test]
    fn str_to_json_converts_without_a_file() {
        let json = str_to_json(
            r#"{ name = "p", version = "1.0.0", reason = "oops" }"#,
            Schema::Unpublish,
        )
        .unwrap();
        assert_eq!(
            json,
            json!({"name": "p", "version": "1.0.0", "reason": "oops"})
        );
    }

    const UNPUBLISH_WITHOUT_REASON: &str = r#"{ name = "p", version = "1.0.0" }"#;

    #[test]
    fn a_missing_field_is_refused_naming_the_schema() {
        let err = str_to_json(UNPUBLISH_WITHOUT_REASON, Schema::Unpublish).unwrap_err();
        assert!(matches!(err, DhallError::TypeMismatch { .. }), "{err:?}");
        insta::assert_snapshot!(err.to_string());
    }

    #[test]
    fn an_expected_type_read_once_is_known_again_and_only_as_itself() {
        let full = Schema::Unpublish.simple_type().unwrap();
        let text = full.to_string();
        assert!(is_type(&text, &full), "{text}");
        // the second answer comes from the texts remembered, and stays exact
        assert!(is_type(&text, &full));
        let SimpleType::Record(fields) = &full else {
            panic!("{full:?}")
        };
        let mut narrowed = fields.clone();
        narrowed.remove("reason");
        assert!(!is_type(&text, &SimpleType::Record(narrowed)));
        assert!(!is_type("{ name : Natural }", &full));
        assert!(!is_type("not a type (", &full));
        // a message read twice is classified the same way both times
        let first = str_to_json(UNPUBLISH_WITHOUT_REASON, Schema::Unpublish).unwrap_err();
        let again = str_to_json(UNPUBLISH_WITHOUT_REASON, Schema::Unpublish).unwrap_err();
        assert_eq!(first.to_string(), again.to_string());
    }

    #[test]
    fn text_where_a_natural_is_expected_is_refused_naming_the_schema() {
        let text = r#"
            { location = < GitHub : { githubOwner : Text, githubRepo : Text, subdir : Optional Text }
                         | Git : { gitUrl : Text, subdir : Optional Text } >.Git { gitUrl = "u", subdir = None Text }
            , owners = None (List { id : Optional Text, keytype : Text, public : Text })
            , published = toMap { `1.0.0` = { bytes = "31125", compilers = ["0.15.10"], hash = "h", publishedTime = "t", ref = "" } }
            , unpublished = toMap {=} : List { mapKey : Text, mapValue : { publishedTime : Text, reason : Text, unpublishedTime : Text } }
            }
        "#;
        let err = str_to_json(text, Schema::Metadata).unwrap_err();
        assert!(matches!(err, DhallError::TypeMismatch { .. }), "{err:?}");
        let message = err.to_string();
        assert!(message.starts_with("`<text>` does not have the type of `schemas/Metadata.dhall`: `published.*.bytes` has type `Text` (expected `Natural`)"), "{message}");
    }

    #[test]
    fn an_unknown_union_alternative_is_refused_naming_the_schema() {
        let text = r#"< GitHub : { githubOwner : Text, githubRepo : Text, subdir : Optional Text }
                      | Git : { gitUrl : Text, subdir : Optional Text }
                      | Hg : { hgUrl : Text } >.Hg { hgUrl = "u" }"#;
        let err = str_to_json(text, Schema::Location).unwrap_err();
        insta::assert_snapshot!(err.to_string());

        // an alternative the imported schema does not have fails inside the file
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Location.dhall"), Schema::Location.source()).unwrap();
        let file = dir.path().join("location.dhall");
        std::fs::write(&file, "(./Location.dhall).Hg { hgUrl = \"u\" }").unwrap();
        let err = file_to_json(&file, Schema::Location).unwrap_err();
        assert!(matches!(err, DhallError::Invalid { .. }), "{err:?}");
        assert!(err.to_string().contains("schemas/Location.dhall"), "{err}");
        assert!(err.to_string().contains("location.dhall"), "{err}");
    }

    #[test]
    fn a_different_record_is_refused_with_its_first_difference() {
        let err = str_to_json(
            r#"{ payload = "p", signature = "s", extra = 1 }"#,
            Schema::Authenticated,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains(": unexpected field `extra`: "),
            "{err}"
        );
        let err = str_to_json(r#""just text""#, Schema::Owner).unwrap_err();
        assert!(
            err.to_string()
                .contains(": the value has type `Text` (expected `{ "),
            "{err}"
        );
    }

    #[test]
    fn a_syntax_error_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("purs.dhall");
        std::fs::write(&file, "{ name = \"p\", version =\n").unwrap();
        let err = file_to_json(&file, Schema::Manifest).unwrap_err();
        assert!(matches!(err, DhallError::Syntax { .. }), "{err:?}");
        let message = err
            .to_string()
            .replace(&dir.path().display().to_string(), "<dir>");
        insta::assert_snapshot!(message);
    }

    #[test]
    fn a_broken_import_is_invalid_not_a_syntax_error_of_the_importer() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("broken.dhall"), "{ a = ").unwrap();
        let file = dir.path().join("purs.dhall");
        std::fs::write(&file, "./broken.dhall").unwrap();
        let err = file_to_json(&file, Schema::Manifest).unwrap_err();
        assert!(matches!(err, DhallError::Invalid { .. }), "{err:?}");
        let message = err
            .to_string()
            .replace(&dir.path().display().to_string(), "<dir>");
        insta::assert_snapshot!(message, @r"
            `<dir>/purs.dhall` is not a valid value of the type of `schemas/Manifest.dhall`: type error: error
             --> <dir>/purs.dhall:1:1
              |
            1 | ./broken.dhall
              | ^^^^^^^^^^^^^^  --> 1:7
              |
            1 | { a = 
              |       ^---
              |
              = expected expression
              |
            ");
    }

    #[test]
    fn a_refused_import_reads_as_a_sentence() {
        let cases = [
            ("./other.dhall", "./other.dhall"),
            ("let x = ../up/x.dhall in x", "../up/x.dhall"),
            ("~/secret.dhall", "~/secret.dhall"),
            ("/etc/passwd as Text", "/etc/passwd as Text"),
            ("env:GITHUB_TOKEN as Text", "env:GITHUB_TOKEN as Text"),
            (
                "https://example.com/a/x.dhall",
                "https://example.com/a/x.dhall",
            ),
            ("missing", "missing"),
        ];
        for (text, import) in cases {
            let err = untrusted_str_to_json(text, "purs.dhall", Schema::Manifest).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "`purs.dhall` imports `{import}`: expected a self-contained file (a package's Dhall is evaluated with imports disabled, so it cannot read the registry's files or environment)"
                ),
                "{text}"
            );
        }
        assert_eq!(
            refused_import("UnexpectedImport(Import { mode: Code, location: Other(1) })"),
            Some("an import".to_owned())
        );
        assert_eq!(refused_import("type error"), None);
    }

    #[test]
    fn a_missing_file_is_a_read_error() {
        let err = file_to_json(Path::new("/nonexistent/purs.dhall"), Schema::Manifest).unwrap_err();
        assert!(matches!(err, DhallError::Read { .. }), "{err:?}");
        insta::assert_snapshot!(crate::error_chain(&err), @"cannot read `/nonexistent/purs.dhall`: No such file or directory (os error 2)");
    }

    #[test]
    fn text_literals_read_back_as_the_same_text() {
        for text in [
            "",
            "plain",
            "a\"b\\c",
            "${x} $ {",
            "line\nnext\ttab\r",
            "bell\u{7} del\u{7f} c1\u{85}",
            "é ✓ 𝄞",
        ] {
            let literal = text_literal(text);
            let back: String = serde_dhall::from_str(&literal)
                .parse()
                .unwrap_or_else(|e| panic!("{literal}: {e}"));
            assert_eq!(back, text, "{literal}");
        }
        assert_eq!(text_literal("a\"${b}"), r#""a\"\u0024{b}""#);
    }

    #[test]
    fn json_conversion_follows_dhall_to_json() {
        let ty: SimpleType = serde_dhall::from_str(
            "{ a : Optional Natural, b : List (Optional Integer), c : < X | Y : Bool >, d : < X | Y : Bool >, e : Double }",
        )
        .parse()
        .unwrap();
        let value: SimpleValue = serde_dhall::from_str(
            "{ a = None Natural, b = [ Some -1, None Integer ], c = < X | Y : Bool >.X, d = < X | Y : Bool >.Y True, e = 1.5 }",
        )
        .type_annotation(&ty)
        .parse()
        .unwrap();
        assert_eq!(
            to_json(&value, Some(&ty)),
            json!({ "b": [-1, null], "c": "X", "d": true, "e": 1.5 })
        );
    }
}
