//! The `--json` contract, and every shape it prints.
//!
//! Under `--json` a command prints exactly one JSON document on stdout: an object whose
//! first key is `"formatVersion": 1` ([`FORMAT_VERSION`]), then the command's fields. Keys
//! are camelCase at every depth, as the registry's own formats write them; the keys of
//! the maps in [`DATA_KEYED`] are data (package names), not field names. Values are data,
//! not prose: commit ids as full hex strings, booleans, counts as numbers, names and
//! versions as strings, `null` for what is absent; enumerated values are kebab-case
//! strings (as `check`'s finding kinds are). The prose a value cannot avoid is a
//! `message`, `reason`, `headline` or `warnings` text.
//!
//! Standard error holds JSON Lines then, one compact object a line: warnings and notes as
//! `{"formatVersion":1,"warning":{"message":"…"}}` (`"note"` for progress and `-v`
//! details), and a failure as `{"formatVersion":1,"error":{"message":"…","causes":["…"],
//! "exitCode":2}}`, the error's own message and then each cause the text output joins
//! with `: `.
//!
//! A new field is added without a new `formatVersion`; a field renamed, removed or given
//! another meaning takes the next one. The shapes several commands share (a git write, a
//! signer, an error, a package-set change, each operation's report) are defined once here
//! and used by every command that prints them: `process-issue` and `demo` print the very
//! shapes `publish`, `transfer`, `unpublish`, `yank`, `deprecate`, `alias` and
//! `package-set update` print.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context as _;
use serde::Serialize;

use crate::check;
use crate::git::CommitOutcome;
use crate::operation::alias::AliasReport;
use crate::operation::authorize::{Role, Signer};
use crate::operation::deprecate::DeprecateReport;
use crate::operation::gc::GcReport;
use crate::operation::history::History;
use crate::operation::issue::{Left, OperationReport, PendingRun, Processed};
use crate::operation::package_set::{DailyReport, UpdateReport};
use crate::operation::publish::{Matrix, PublishReport};
use crate::operation::transfer::TransferReport;
use crate::operation::transferrer::{self, Recorded};
use crate::operation::unpublish::UnpublishReport;
use crate::operation::yank::YankReport;
use crate::package_set::{Change, PackageSet};
use crate::payload::{Authenticated, PackageSetUpdate};
use crate::schema::{Location, Owner, PackageName, Version};
use crate::solver::BuildPlan;
use crate::storage::{MirrorWrite, Put};

use super::output;

/// The version of the `--json` contract, the first key of every document and line.
pub const FORMAT_VERSION: u32 = 1;

/// The objects whose keys are data (package names), not field names, wherever they occur:
/// a build plan's `resolutions`, a package set's or a PackageSetUpdate's `packages`.
pub const DATA_KEYED: [&str; 2] = ["resolutions", "packages"];

/// `formatVersion`, then the fields of `body` (an object).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document<'a, T> {
    format_version: u32,
    #[serde(flatten)]
    body: &'a T,
}

fn document<T: Serialize>(body: &T, pretty: bool) -> anyhow::Result<String> {
    let document = Document {
        format_version: FORMAT_VERSION,
        body,
    };
    let text = if pretty {
        serde_json::to_string_pretty(&document)
    } else {
        serde_json::to_string(&document)
    };
    text.context("encoding the output as JSON")
}

/// Print `body` as the command's one document on stdout (pretty), `formatVersion` first.
pub(crate) fn print<T: Serialize>(body: &T) -> anyhow::Result<()> {
    output::stdout_json(&document(body, true)?);
    Ok(())
}

/// What one line on standard error says under `--json`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
enum Said<'a> {
    Error(Failure),
    Warning(Message<'a>),
    Note(Message<'a>),
}

#[derive(Serialize)]
struct Message<'a> {
    message: &'a str,
}

/// An error on standard error, and the exit status when it is the one that ends the
/// command (absent on an error the command reports and goes on after).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Failure {
    #[serde(flatten)]
    error: ErrorOutput,
    #[serde(skip_serializing_if = "Option::is_none")]
    exit_code: Option<u8>,
}

/// The JSON line on standard error for a message labelled `kind`: `warning`, `error`
/// (one the command goes on after), or a note (`note`, and progress).
pub(crate) fn message_line(kind: &str, message: &str) -> String {
    let said = match kind {
        "error" => Said::Error(Failure {
            error: ErrorOutput {
                message: message.to_owned(),
                causes: Vec::new(),
            },
            exit_code: None,
        }),
        "warning" => Said::Warning(Message { message }),
        _ => Said::Note(Message { message }),
    };
    document(&said, false).unwrap_or_else(|_| unreachable_encoding())
}

/// The JSON line on standard error for the error that ends the command with `exit_code`.
pub(crate) fn error_line(error: ErrorOutput, exit_code: u8) -> String {
    let failure = Failure {
        error,
        exit_code: Some(exit_code),
    };
    document(&Said::Error(failure), false).unwrap_or_else(|_| unreachable_encoding())
}

/// Strings, numbers and objects with string keys always encode.
fn unreachable_encoding() -> String {
    format!(
        r#"{{"formatVersion":{FORMAT_VERSION},"error":{{"message":"could not encode the message as JSON","causes":[],"exitCode":2}}}}"#
    )
}

/// An error: its own message, then each cause (each `source()` whose text the ones
/// before do not hold), as the text output joins them with `: `.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ErrorOutput {
    pub message: String,
    pub causes: Vec<String>,
}

impl ErrorOutput {
    pub fn of(error: &(dyn std::error::Error + 'static)) -> ErrorOutput {
        let mut messages = crate::error_messages(error).into_iter();
        ErrorOutput {
            message: messages.next().unwrap_or_default(),
            causes: messages.collect(),
        }
    }

    pub fn of_anyhow(error: &anyhow::Error) -> ErrorOutput {
        ErrorOutput::of(error.as_ref())
    }
}

/// A commit to one of the git repos: whether the change made one (`changed`: false when
/// the files already held it, a re-run), its full hex id (`null` without one), whether it
/// reached the remote (`pushed`: false without a commit or without a remote) and after how
/// many attempts (lost push races re-apply the change; 0 without a commit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct GitWrite {
    changed: bool,
    commit: Option<String>,
    pushed: bool,
    attempts: usize,
}

impl From<&CommitOutcome> for GitWrite {
    fn from(outcome: &CommitOutcome) -> GitWrite {
        match outcome {
            CommitOutcome::Unchanged => GitWrite {
                changed: false,
                commit: None,
                pushed: false,
                attempts: 0,
            },
            CommitOutcome::Committed {
                commit,
                pushed,
                attempts,
            } => GitWrite {
                changed: true,
                commit: Some(commit.clone()),
                pushed: *pushed,
                attempts: *attempts,
            },
        }
    }
}

/// The git writes of a publish or an unpublish: the package's metadata file in the
/// registry repo, its index file in the index repo.
#[derive(Serialize)]
struct MetadataAndIndex {
    metadata: GitWrite,
    index: GitWrite,
}

/// The git write of a transfer, a yank, a deprecation or an alias: the package's metadata
/// file.
#[derive(Serialize)]
struct MetadataOnly {
    metadata: GitWrite,
}

/// The git write of a package-set update: the new set's file (`null` on a dry run or
/// when no change was accepted).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PackageSetWrite {
    package_set: Option<GitWrite>,
}

/// Who signed a transfer or an unpublish: `owner`, `trustee` or `bot`, and the key as
/// metadata `owners` lists keys.
#[derive(Serialize)]
struct SignerOutput {
    role: &'static str,
    key: Owner,
}

impl From<&Signer> for SignerOutput {
    fn from(s: &Signer) -> SignerOutput {
        SignerOutput {
            role: match s.role {
                Role::Owner => "owner",
                Role::Trustee => "trustee",
                Role::Bot => "bot",
            },
            key: s.key.clone(),
        }
    }
}

/// `regis publish`, and a publish inside `process-issue` and `demo`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PublishOutput {
    name: PackageName,
    version: Version,
    /// Every store already had the version: a re-run of a finished publish.
    already_published: bool,
    location: Location,
    /// `sha256-…`, as metadata records it.
    hash: String,
    bytes: u64,
    files: usize,
    storage_key: String,
    /// Where anyone downloads the tarball (`storageUrl`), `null` without one.
    download_url: Option<String>,
    /// False when storage already held these bytes.
    stored: bool,
    /// Each mirror's write after the primary's: `{mirror, status, error?}`.
    mirrors: Vec<MirrorWrite>,
    /// The build plan's compiler and dependency versions.
    compiler: Version,
    resolutions: BTreeMap<PackageName, Version>,
    /// What metadata `compilers` records for the version (every compiler the build check
    /// passed with; the plan's alone without one).
    compilers: Vec<Version>,
    /// The build check with each compiler, `null` without a build check.
    matrix: Option<MatrixOutput>,
    writes: MetadataAndIndex,
    /// `null` without a docs command.
    docs: Option<DocsOutput>,
    warnings: Vec<String>,
}

#[derive(Serialize)]
struct MatrixOutput {
    /// The plan's compiler, checked first.
    first: Version,
    /// The other configured compilers, newest first.
    others: Vec<CompilerTried>,
}

#[derive(Serialize)]
struct CompilerTried {
    compiler: Version,
    passed: bool,
    /// Why it was left out, `null` when it passed.
    reason: Option<String>,
}

impl From<&Matrix> for MatrixOutput {
    fn from(m: &Matrix) -> MatrixOutput {
        MatrixOutput {
            first: m.first.clone(),
            others: m
                .others
                .iter()
                .map(|(compiler, tried)| {
                    let reason = tried.reason();
                    CompilerTried {
                        compiler: compiler.clone(),
                        passed: reason.is_none(),
                        reason,
                    }
                })
                .collect(),
        }
    }
}

#[derive(Serialize)]
struct DocsOutput {
    success: bool,
    /// How long the docs command ran, `null` when it could not be run.
    seconds: Option<f64>,
    /// Why the docs failed (the publish stands), `null` on success.
    error: Option<String>,
}

impl From<&PublishReport> for PublishOutput {
    fn from(r: &PublishReport) -> Self {
        PublishOutput {
            name: r.name.clone(),
            version: r.version.clone(),
            already_published: r.changed_nothing(),
            location: r.location.clone(),
            hash: r.hash.to_string(),
            bytes: r.bytes,
            files: r.files,
            storage_key: r.storage_key.to_string(),
            download_url: r.download_url.clone(),
            stored: r.storage == Put::Stored,
            mirrors: r.mirrors.clone(),
            compiler: r.build_plan.compiler.clone(),
            resolutions: r.build_plan.resolutions.clone(),
            compilers: r.compilers.clone(),
            matrix: r.matrix.as_ref().map(MatrixOutput::from),
            writes: MetadataAndIndex {
                metadata: (&r.metadata).into(),
                index: (&r.index).into(),
            },
            docs: r.docs.as_ref().map(|d| DocsOutput {
                success: d.is_ok(),
                seconds: d.as_ref().ok().map(|o| o.duration.as_secs_f64()),
                error: d.as_ref().err().cloned(),
            }),
            warnings: r.warnings.clone(),
        }
    }
}

/// `regis transfer`.
#[derive(Serialize)]
pub(crate) struct TransferOutput {
    name: PackageName,
    from: Location,
    to: Location,
    signer: SignerOutput,
    writes: MetadataOnly,
}

impl From<&TransferReport> for TransferOutput {
    fn from(r: &TransferReport) -> Self {
        TransferOutput {
            name: r.name.clone(),
            from: r.from.clone(),
            to: r.to.clone(),
            signer: (&r.signer).into(),
            writes: MetadataOnly {
                metadata: (&r.metadata).into(),
            },
        }
    }
}

/// `regis unpublish`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UnpublishOutput {
    name: PackageName,
    version: Version,
    reason: String,
    signer: SignerOutput,
    storage_key: String,
    /// False when an earlier run had deleted it already.
    tarball_deleted: bool,
    /// Each mirror's delete after the primary's: `{mirror, status, error?}`.
    mirrors: Vec<MirrorWrite>,
    writes: MetadataAndIndex,
}

impl From<&UnpublishReport> for UnpublishOutput {
    fn from(r: &UnpublishReport) -> Self {
        UnpublishOutput {
            name: r.name.clone(),
            version: r.version.clone(),
            reason: r.reason.clone(),
            signer: (&r.signer).into(),
            storage_key: r.storage_key.to_string(),
            tarball_deleted: r.tarball_deleted,
            mirrors: r.mirrors.clone(),
            writes: MetadataAndIndex {
                metadata: (&r.metadata).into(),
                index: (&r.index).into(),
            },
        }
    }
}

/// `regis history`: the checked chain, newest first.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct HistoryOutput {
    name: PackageName,
    head: String,
    /// Whose atom keys the signatures were checked against.
    verified_against: String,
    atoms: Vec<AtomOutput>,
}

/// One atom: its id and its signed part.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AtomOutput {
    id: String,
    operation: &'static str,
    version: Option<Version>,
    tarball_hash: Option<String>,
    tarball_bytes: Option<u64>,
    metadata_hash: String,
    /// A publish's: the SHA-256 of the index line it wrote.
    index_hash: Option<String>,
    payload: Option<Authenticated>,
    time: String,
    previous: Option<String>,
    signed_by: Vec<String>,
}

impl From<&History> for HistoryOutput {
    fn from(h: &History) -> Self {
        let atoms = (h.atoms.iter())
            .map(|v| {
                let a = &v.atom.signed;
                AtomOutput {
                    id: v.id.to_string(),
                    operation: a.operation.as_str(),
                    version: a.version.clone(),
                    tarball_hash: a.tarball.map(|t| t.hash.to_string()),
                    tarball_bytes: a.tarball.map(|t| t.bytes),
                    metadata_hash: a.metadata.to_string(),
                    index_hash: a.index.map(|h| h.to_string()),
                    payload: a.payload.clone(),
                    time: a.time.to_string(),
                    previous: a.previous.map(|p| p.to_string()),
                    signed_by: v.atom.signatures.iter().map(|s| s.keyid.clone()).collect(),
                }
            })
            .collect();
        HistoryOutput {
            name: h.name.clone(),
            head: h.head.to_string(),
            verified_against: h.trusted.clone(),
            atoms,
        }
    }
}

/// `regis yank` (a Yank or an Unyank).
#[derive(Serialize)]
pub(crate) struct YankOutput {
    name: PackageName,
    version: Version,
    /// Whether the version is yanked now: false after an unyank.
    yanked: bool,
    /// The reason metadata records (the first yank's on a re-run), `null` when not yanked.
    reason: Option<String>,
    signer: SignerOutput,
    writes: MetadataOnly,
}

impl From<&YankReport> for YankOutput {
    fn from(r: &YankReport) -> Self {
        YankOutput {
            name: r.name.clone(),
            version: r.version.clone(),
            yanked: r.yanked,
            reason: r.reason.clone(),
            signer: (&r.signer).into(),
            writes: MetadataOnly {
                metadata: (&r.metadata).into(),
            },
        }
    }
}

/// `regis alias` (an Alias or an Unalias): the tag, the version it names now (`null` after
/// it was removed) and the one it named before (`null` when it was not set).
#[derive(Serialize)]
pub(crate) struct AliasOutput {
    name: PackageName,
    tag: crate::schema::Tag,
    version: Option<Version>,
    previous: Option<Version>,
    signer: SignerOutput,
    writes: MetadataOnly,
}

impl From<&AliasReport> for AliasOutput {
    fn from(r: &AliasReport) -> Self {
        AliasOutput {
            name: r.name.clone(),
            tag: r.tag.clone(),
            version: r.version.clone(),
            previous: r.previous.clone(),
            signer: (&r.signer).into(),
            writes: MetadataOnly {
                metadata: (&r.metadata).into(),
            },
        }
    }
}

/// `regis deprecate`: `deprecated` false after clearing, and then `message`,
/// `alternative` and `time` `null`.
#[derive(Serialize)]
pub(crate) struct DeprecateOutput {
    name: PackageName,
    deprecated: bool,
    message: Option<String>,
    alternative: Option<PackageName>,
    /// When metadata records the deprecation was made (the first run's on a re-run).
    time: Option<String>,
    signer: SignerOutput,
    writes: MetadataOnly,
}

impl From<&DeprecateReport> for DeprecateOutput {
    fn from(r: &DeprecateReport) -> Self {
        let d = r.deprecated.as_ref();
        DeprecateOutput {
            name: r.name.clone(),
            deprecated: d.is_some(),
            message: d.map(|d| d.message.clone()),
            alternative: d.and_then(|d| d.alternative.clone()),
            time: d.map(|d| d.time.to_string()),
            signer: (&r.signer).into(),
            writes: MetadataOnly {
                metadata: (&r.metadata).into(),
            },
        }
    }
}

/// A change to a package set: `kind` `compiler`, `add`, `upgrade`, `downgrade` or
/// `remove`; `name` `null` for the compiler; `from` `null` for an addition, `to` `null`
/// for a removal.
#[derive(Serialize)]
struct ChangeOutput {
    kind: &'static str,
    name: Option<PackageName>,
    from: Option<Version>,
    to: Option<Version>,
}

impl From<&Change> for ChangeOutput {
    fn from(c: &Change) -> ChangeOutput {
        let (kind, name, from, to) = match c.clone() {
            Change::Compiler { from, to } => ("compiler", None, Some(from), Some(to)),
            Change::Add { name, version } => ("add", Some(name), None, Some(version)),
            Change::Upgrade { name, from, to } => ("upgrade", Some(name), Some(from), Some(to)),
            Change::Downgrade { name, from, to } => ("downgrade", Some(name), Some(from), Some(to)),
            Change::Remove { name, version } => ("remove", Some(name), Some(version), None),
        };
        ChangeOutput {
            kind,
            name,
            from,
            to,
        }
    }
}

#[derive(Serialize)]
struct Refused {
    change: ChangeOutput,
    reason: String,
}

/// `regis package-set update`, and the update `daily` makes.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PackageSetUpdateOutput {
    dry_run: bool,
    /// The latest set's version before the update, `null` without one.
    previous: Option<Version>,
    /// The new set as its file holds it, `null` when no change was accepted.
    set: Option<PackageSet>,
    accepted: Vec<ChangeOutput>,
    rejected: Vec<Refused>,
    /// Packages the update names at the version the set already has.
    unchanged: Vec<PackageName>,
    batch_passed: bool,
    /// The latest set already is what the update asks for.
    already_applied: bool,
    /// The commit message written (or that would be, on a dry run).
    message: Option<String>,
    writes: PackageSetWrite,
}

impl PackageSetUpdateOutput {
    pub fn new(r: &UpdateReport, dry_run: bool) -> PackageSetUpdateOutput {
        PackageSetUpdateOutput {
            dry_run,
            previous: r.previous.as_ref().map(|p| p.version.clone()),
            set: r.set.clone(),
            accepted: r.accepted.iter().map(ChangeOutput::from).collect(),
            rejected: r
                .rejected
                .iter()
                .map(|(change, reason)| Refused {
                    change: change.into(),
                    reason: reason.clone(),
                })
                .collect(),
            unchanged: r.unchanged.clone(),
            batch_passed: r.batch_passed,
            already_applied: r.already_applied(),
            message: r.message.clone(),
            writes: PackageSetWrite {
                package_set: r.commit.as_ref().map(GitWrite::from),
            },
        }
    }
}

/// `regis daily`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DailyOutput {
    dry_run: bool,
    /// `null` when no `botPublicKey` is configured (the transferrer does not run).
    transferrer: Option<TransferrerOutput>,
    /// The latest set's version, `null` without one.
    latest: Option<Version>,
    /// The PackageSetUpdate proposed, `null` when the set is up to date or there is none.
    proposal: Option<PackageSetUpdate>,
    update: Option<PackageSetUpdateOutput>,
}

impl DailyOutput {
    pub fn new(
        r: &DailyReport,
        dry_run: bool,
        transferrer: Option<TransferrerOutput>,
    ) -> DailyOutput {
        DailyOutput {
            dry_run,
            transferrer,
            latest: r.latest.clone(),
            proposal: r.proposal.clone(),
            update: r
                .update
                .as_ref()
                .map(|u| PackageSetUpdateOutput::new(u, dry_run)),
        }
    }
}

/// What the daily transferrer did: `ok` false when a lookup failed or a move could not
/// be recorded; `error` why it could not run (`survey` `null` then) or could not sign the
/// moves.
#[derive(Serialize)]
pub(crate) struct TransferrerOutput {
    ok: bool,
    error: Option<ErrorOutput>,
    survey: Option<SurveyOutput>,
}

#[derive(Serialize)]
struct SurveyOutput {
    /// GitHub locations looked up.
    checked: usize,
    moved: Vec<MoveOutput>,
    /// Repositories GitHub does not know (left as they are).
    missing: Vec<Missing>,
    /// Lookups that failed (tried again next run).
    failed: Vec<FailedLookup>,
}

/// A package GitHub knows under another name: the transfer recorded (`null` on a dry
/// run, or when it failed or could not be signed), or the error.
#[derive(Serialize)]
struct MoveOutput {
    name: PackageName,
    from: Location,
    to: Location,
    transfer: Option<TransferOutput>,
    error: Option<ErrorOutput>,
}

#[derive(Serialize)]
struct Missing {
    name: PackageName,
    location: Location,
}

#[derive(Serialize)]
struct FailedLookup {
    name: PackageName,
    error: ErrorOutput,
}

impl TransferrerOutput {
    pub fn failed(e: &anyhow::Error) -> TransferrerOutput {
        TransferrerOutput {
            ok: false,
            error: Some(ErrorOutput::of_anyhow(e)),
            survey: None,
        }
    }

    pub fn new(run: &transferrer::Run) -> TransferrerOutput {
        let survey = &run.survey;
        let recorded = |name: &PackageName| match &run.recorded {
            Recorded::Moves(moves) => moves
                .iter()
                .find(|(m, _)| &m.name == name)
                .map(|(_, result)| match result {
                    Ok(report) => (Some(TransferOutput::from(report)), None),
                    Err(e) => (None, Some(ErrorOutput::of(e))),
                })
                .unwrap_or((None, None)),
            Recorded::DryRun | Recorded::Unsigned(_) => (None, None),
        };
        TransferrerOutput {
            ok: run.all_ok(),
            error: match &run.recorded {
                Recorded::Unsigned(e) => Some(ErrorOutput::of(e)),
                _ => None,
            },
            survey: Some(SurveyOutput {
                checked: survey.checked,
                moved: survey
                    .moved
                    .iter()
                    .map(|m| {
                        let (transfer, error) = recorded(&m.name);
                        MoveOutput {
                            name: m.name.clone(),
                            from: m.from.clone(),
                            to: m.to.clone(),
                            transfer,
                            error,
                        }
                    })
                    .collect(),
                missing: survey
                    .missing
                    .iter()
                    .map(|(name, location)| Missing {
                        name: name.clone(),
                        location: location.clone(),
                    })
                    .collect(),
                failed: survey
                    .failed
                    .iter()
                    .map(|(name, e)| FailedLookup {
                        name: name.clone(),
                        error: ErrorOutput::of(e),
                    })
                    .collect(),
            }),
        }
    }
}

/// `regis check`: `clean` false when there are findings (exit status 1).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CheckOutput {
    clean: bool,
    packages: usize,
    versions: usize,
    index_files: usize,
    package_sets: usize,
    tarballs_checked: usize,
    /// Packages whose atom chain was verified and compared (with storage).
    atom_chains: usize,
    /// Each `{file, package, version, kind, message}`; `kind` a kebab-case name such as
    /// `missing-from-index`.
    findings: Vec<check::Finding>,
    /// Tarballs the storage lacks that a mirror holds with the recorded hash (not
    /// findings): each `{package, version, mirror}`.
    from_mirrors: Vec<check::MirrorRead>,
}

impl From<&check::Report> for CheckOutput {
    fn from(r: &check::Report) -> CheckOutput {
        CheckOutput {
            clean: r.is_clean(),
            packages: r.packages,
            versions: r.versions,
            index_files: r.index_files,
            package_sets: r.package_sets,
            tarballs_checked: r.tarballs_checked,
            atom_chains: r.atom_chains,
            findings: r.findings.clone(),
            from_mirrors: r.from_mirrors.clone(),
        }
    }
}

/// `regis solve`: the version solved for and the tag given for it (`null` for a version),
/// the plan (`null` when there is none), else the conflict explained.
#[derive(Serialize)]
pub(crate) struct SolveOutput {
    name: PackageName,
    version: Version,
    tag: Option<crate::schema::Tag>,
    solved: bool,
    plan: Option<BuildPlan>,
    conflict: Option<String>,
}

impl SolveOutput {
    pub fn new(
        name: &PackageName,
        version: &Version,
        tag: Option<&crate::schema::Tag>,
        outcome: &Result<BuildPlan, String>,
    ) -> SolveOutput {
        SolveOutput {
            name: name.clone(),
            version: version.clone(),
            tag: tag.cloned(),
            solved: outcome.is_ok(),
            plan: outcome.as_ref().ok().cloned(),
            conflict: outcome.as_ref().err().cloned(),
        }
    }
}

/// `regis gc`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GcOutput {
    dry_run: bool,
    /// Tarballs some metadata or index line records.
    referenced: usize,
    /// Storage keys of the unrecorded tarballs removed (or that would be).
    removed: Vec<String>,
    /// Unrecorded tarballs kept: younger than the in-flight window.
    in_flight: Vec<InFlight>,
    /// Temporary files of interrupted writes removed (or that would be).
    temporary: Vec<String>,
    /// Files that are neither, left alone.
    unexpected: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InFlight {
    key: String,
    age_seconds: u64,
}

impl From<&GcReport> for GcOutput {
    fn from(r: &GcReport) -> Self {
        GcOutput {
            dry_run: r.dry_run,
            referenced: r.referenced,
            removed: r.removed.iter().map(ToString::to_string).collect(),
            in_flight: r
                .in_flight
                .iter()
                .map(|(key, age)| InFlight {
                    key: key.to_string(),
                    age_seconds: age.as_secs(),
                })
                .collect(),
            temporary: r.temporary.clone(),
            unexpected: r.unexpected.clone(),
        }
    }
}

/// `regis init`, and where `demo` made its registry.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InitOutput<'a> {
    name: &'a str,
    root: &'a Path,
    registry: &'a Path,
    index: &'a Path,
    /// A directory or an object store URL.
    storage: String,
    registry_remote: &'a Path,
    index_remote: &'a Path,
    /// The regis the workflows install (the `REGIS_*` entries of their `env`).
    regis: RegisOutput<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RegisOutput<'a> {
    /// `release`, `source`, or `null` when the workflows cannot install regis (a warning
    /// says why).
    install: Option<crate::init::InstallMethod>,
    repository: Option<&'a str>,
    version: &'a str,
    commit: Option<&'a str>,
    sha256: Option<&'a str>,
}

impl<'a> InitOutput<'a> {
    pub fn new(
        name: &'a str,
        layout: &'a crate::init::Layout,
        storage: String,
        install: &'a crate::init::RegisInstall,
    ) -> Self {
        InitOutput {
            name,
            root: &layout.root,
            registry: &layout.registry,
            index: &layout.index,
            storage,
            registry_remote: &layout.registry_remote,
            index_remote: &layout.index_remote,
            regis: RegisOutput {
                install: install.method().ok(),
                repository: (install.repository.as_ref()).map(crate::init::RepositoryUrl::as_str),
                version: &install.version,
                commit: install.commit.as_deref(),
                sha256: install.sha256.as_deref(),
            },
        }
    }
}

/// `regis sign --json`: the signed payload (`signed`, what to paste into an issue, the
/// document `regis sign` prints without `--json`) and what it asks for (`transfer`,
/// `unpublish`, `yank`, `unyank`, `deprecate`, `alias` or `unalias`); for `regis sign owners`, `owners`, with
/// the owner list's text as `signed.payload` and the Publish payload's `ownersSignature`
/// as `signed.signature`.
#[derive(Serialize)]
pub(crate) struct SignOutput<'a> {
    operation: &'static str,
    signed: &'a Authenticated,
}

impl<'a> SignOutput<'a> {
    pub fn new(operation: &'static str, signed: &'a Authenticated) -> Self {
        SignOutput { operation, signed }
    }
}

/// A key `regis keys init` or `rotate` made: its role, id and the file its private half
/// went to.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NewKeyOutput {
    role: &'static str,
    keyid: String,
    path: String,
}

impl From<&crate::trust::NewKey> for NewKeyOutput {
    fn from(k: &crate::trust::NewKey) -> Self {
        NewKeyOutput {
            role: k.role.as_str(),
            keyid: k.keyid.to_string(),
            path: k.path.display().to_string(),
        }
    }
}

/// `regis keys init --json`: the keys made, root version 1, and the regis.dhall fields
/// naming the key files (`config`: field name → Dhall value text).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct KeysInitOutput {
    keys: Vec<NewKeyOutput>,
    root: RootFileOutput,
    config: BTreeMap<&'static str, String>,
}

/// A root version file: its version, registry-relative path, root threshold and expiry.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RootFileOutput {
    version: u64,
    path: String,
    threshold: u64,
    expires: String,
}

impl KeysInitOutput {
    pub fn new(done: &crate::trust::Initialized) -> Self {
        use crate::trust::{KeySource, Role};
        let source = |role: Role| {
            (done.keys.iter().filter(move |k| k.role == role))
                .map(|k| KeySource::File(k.path.clone()).to_string())
        };
        let text = |s: String| crate::dhall::text_literal(&s);
        let list: Vec<String> = source(Role::Root).map(text).collect();
        let mut config = BTreeMap::from([("trustRootKeys", format!("[ {} ]", list.join(", ")))]);
        for (field, role) in [
            ("trustTargetsKey", Role::Targets),
            ("trustSnapshotKey", Role::Snapshot),
            ("trustTimestampKey", Role::Timestamp),
            ("trustAtomKey", Role::Atom),
        ] {
            let value = source(role).next().map(text).unwrap_or_default();
            config.insert(field, format!("Some {value}"));
        }
        KeysInitOutput {
            keys: done.keys.iter().map(NewKeyOutput::from).collect(),
            root: RootFileOutput {
                version: 1,
                path: done.root.clone(),
                threshold: done.root_threshold,
                expires: done.expires.to_string(),
            },
            config,
        }
    }

    /// The regis.dhall fields to add, in the order regis.dhall lists them.
    pub fn config_lines(&self) -> Vec<(&'static str, &str)> {
        let order = crate::config::FIELDS.iter().map(|f| f.name);
        order
            .filter_map(|name| self.config.get_key_value(name))
            .map(|(k, v)| (*k, v.as_str()))
            .collect()
    }
}

/// How far a root version's signatures go against one threshold.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CountOutput {
    valid: u64,
    threshold: u64,
}

impl From<crate::trust::Count> for CountOutput {
    fn from(c: crate::trust::Count) -> Self {
        CountOutput {
            valid: c.valid,
            threshold: c.threshold,
        }
    }
}

/// The signatures of a root version: by its own root keys and by the previous version's
/// (`null` for version 1); `complete` when both thresholds are met.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SignaturesOutput {
    own: CountOutput,
    previous: Option<CountOutput>,
    complete: bool,
}

impl From<crate::trust::RootStatus> for SignaturesOutput {
    fn from(s: crate::trust::RootStatus) -> Self {
        SignaturesOutput {
            own: s.own.into(),
            previous: s.previous.map(CountOutput::from),
            complete: s.complete(),
        }
    }
}

/// A revoked key: its id, the role it left, the root version that revoked it and why.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RevokedOutput {
    keyid: String,
    role: String,
    version: Option<u64>,
    reason: Option<String>,
}

/// `regis keys rotate|revoke|sign-root --json`: the root version written, where
/// (`inChain`: `tuf/root/<N>.root.json`; else waiting for signatures), its signatures,
/// the key made (`rotate`) or revoked (`revoke`), and the keys given that are root keys of
/// neither version (`unusedKeys`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct KeysRootOutput {
    version: u64,
    path: String,
    in_chain: bool,
    expires: String,
    signatures: SignaturesOutput,
    new_key: Option<NewKeyOutput>,
    revoked: Option<RevokedOutput>,
    unused_keys: Vec<String>,
}

impl KeysRootOutput {
    pub fn new(w: &crate::trust::Written) -> Self {
        KeysRootOutput {
            version: w.version,
            path: w.path.clone(),
            in_chain: w.in_chain,
            expires: w.expires.to_string(),
            signatures: w.status.into(),
            new_key: w.new_key.as_ref().map(NewKeyOutput::from),
            revoked: w.revoked.as_ref().map(|(keyid, role)| RevokedOutput {
                keyid: keyid.to_string(),
                role: role.to_string(),
                version: Some(w.version),
                reason: None,
            }),
            unused_keys: w.unused.iter().map(ToString::to_string).collect(),
        }
    }
}

/// One role of a root version: its key ids and threshold.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RoleOutput {
    role: &'static str,
    keyids: Vec<String>,
    threshold: u64,
}

/// One root version of the chain.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RootVersionOutput {
    version: u64,
    path: String,
    expires: String,
    roles: Vec<RoleOutput>,
}

/// A root version waiting for signatures.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StagedOutput {
    version: u64,
    path: &'static str,
    signatures: SignaturesOutput,
}

/// `regis keys show --json`: the verified chain (`roots`, version 1 first, each with its
/// roles), the keys revoked so far, and a root version waiting for signatures.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct KeysShowOutput {
    roots: Vec<RootVersionOutput>,
    revoked: Vec<RevokedOutput>,
    staged: Option<StagedOutput>,
}

impl KeysShowOutput {
    pub fn new(
        chain: &crate::trust::Chain,
        staged: Option<&tough::schema::Signed<tough::schema::Root>>,
    ) -> Self {
        use crate::trust::{self, Role};
        let roots = (chain.roots().iter())
            .map(|r| RootVersionOutput {
                version: r.signed.version.get(),
                path: format!(
                    "{}/{}",
                    trust::ROOT_DIR,
                    trust::root_file_name(r.signed.version.get())
                ),
                expires: r.signed.expires.to_string(),
                roles: Role::ALL
                    .iter()
                    .map(|role| RoleOutput {
                        role: role.as_str(),
                        keyids: (trust::role_keyids(&r.signed, *role).iter())
                            .map(ToString::to_string)
                            .collect(),
                        threshold: trust::role_threshold(&r.signed, *role),
                    })
                    .collect(),
            })
            .collect();
        let latest = &chain.latest().signed;
        let revoked = (trust::Extension::of(latest).map(|e| e.revoked))
            .unwrap_or_default()
            .into_iter()
            .map(|r| RevokedOutput {
                keyid: r.keyid,
                role: r.role,
                version: Some(r.version),
                reason: r.reason,
            })
            .collect();
        let staged = staged.map(|s| StagedOutput {
            version: s.signed.version.get(),
            path: trust::STAGED_ROOT,
            signatures: trust::status(s, Some(latest)).into(),
        });
        KeysShowOutput {
            roots,
            revoked,
            staged,
        }
    }

    /// The text `regis keys show` prints.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for root in &self.roots {
            out.push(format!(
                "root version {} ({}), expires {}",
                root.version, root.path, root.expires
            ));
            for role in &root.roles {
                out.push(format!(
                    "  {:<9} threshold {}: {}",
                    role.role,
                    role.threshold,
                    role.keyids.join(" ")
                ));
            }
        }
        for r in &self.revoked {
            let reason = r
                .reason
                .as_deref()
                .map_or(String::new(), |w| format!(": {}", crate::text::value(w)));
            out.push(format!(
                "revoked {} key {} in root version {}{reason}",
                r.role,
                r.keyid,
                r.version.unwrap_or_default()
            ));
        }
        if let Some(s) = &self.staged {
            out.push(format!(
                "root version {} waits for signatures in {}: its own root keys {} of {}{}",
                s.version,
                s.path,
                s.signatures.own.valid,
                s.signatures.own.threshold,
                s.signatures
                    .previous
                    .as_ref()
                    .map_or(String::new(), |p| format!(
                        ", previous version's {} of {}",
                        p.valid, p.threshold
                    ))
            ));
        }
        out
    }
}

/// The report of the operation an issue asked for, tagged by `operation`: `publish`,
/// `transfer`, `unpublish`, `yank` (an unyank too), `deprecate`, `alias` (an unalias too)
/// or `package-set-update`, with that command's fields.
#[derive(Serialize)]
#[serde(tag = "operation", rename_all = "kebab-case")]
enum OperationOutput {
    Publish(PublishOutput),
    Transfer(TransferOutput),
    Unpublish(UnpublishOutput),
    Yank(YankOutput),
    Deprecate(DeprecateOutput),
    Alias(AliasOutput),
    PackageSetUpdate(PackageSetUpdateOutput),
}

impl From<&OperationReport> for OperationOutput {
    fn from(r: &OperationReport) -> Self {
        match r {
            OperationReport::Publish(r) => OperationOutput::Publish(r.as_ref().into()),
            OperationReport::Transfer(r) => OperationOutput::Transfer(r.into()),
            OperationReport::Unpublish(r) => OperationOutput::Unpublish(r.into()),
            OperationReport::Yank(r) => OperationOutput::Yank(r.into()),
            OperationReport::Deprecate(r) => OperationOutput::Deprecate(r.into()),
            OperationReport::Alias(r) => OperationOutput::Alias(r.into()),
            OperationReport::PackageSet(r) => {
                OperationOutput::PackageSetUpdate(PackageSetUpdateOutput::new(r, false))
            }
        }
    }
}

/// How regis answered one issue: `success` (the issue was closed), the headline it
/// printed, and the operation's report (`null` when the payload could not be read or the
/// operation failed; the headline says why).
#[derive(Serialize)]
pub(crate) struct AnswerOutput {
    issue: u64,
    success: bool,
    headline: String,
    result: Option<OperationOutput>,
}

impl AnswerOutput {
    pub fn new(issue: u64, p: &Processed) -> AnswerOutput {
        AnswerOutput {
            issue,
            success: p.success,
            headline: p.headline.clone(),
            result: p.result.as_ref().map(OperationOutput::from),
        }
    }
}

/// `regis process-issue --event`: `ignored` says why an event needs nothing (the rest
/// `null`), else `repo` and the `answer`.
#[derive(Serialize)]
pub(crate) struct EventOutput {
    ignored: Option<String>,
    repo: Option<String>,
    answer: Option<AnswerOutput>,
}

impl EventOutput {
    pub fn ignored(reason: String) -> EventOutput {
        EventOutput {
            ignored: Some(reason),
            repo: None,
            answer: None,
        }
    }

    pub fn answered(repo: String, answer: AnswerOutput) -> EventOutput {
        EventOutput {
            ignored: None,
            repo: Some(repo),
            answer: Some(answer),
        }
    }
}

/// `regis process-issue --pending`.
#[derive(Serialize)]
pub(crate) struct PendingOutput {
    repo: String,
    /// Open issues read, oldest first.
    open: usize,
    /// Open issues past the pages read were not read.
    truncated: bool,
    answered: Vec<AnswerOutput>,
    /// Each `{issue, reason}`, `reason` one of `answered`, `no-payload`, `queued`,
    /// `running`, `too-many-comments`.
    left: Vec<LeftOutput>,
    /// Issues GitHub failed on: not answered.
    failed: Vec<NotAnswered>,
}

#[derive(Serialize)]
struct LeftOutput {
    issue: u64,
    reason: &'static str,
}

#[derive(Serialize)]
struct NotAnswered {
    issue: u64,
    message: String,
}

impl PendingOutput {
    pub fn new(repo: String, run: &PendingRun) -> PendingOutput {
        PendingOutput {
            repo,
            open: run.open,
            truncated: run.truncated,
            answered: run
                .answered
                .iter()
                .map(|(n, p)| AnswerOutput::new(*n, p))
                .collect(),
            left: run
                .left
                .iter()
                .map(|(issue, why)| LeftOutput {
                    issue: *issue,
                    reason: match why {
                        Left::Answered => "answered",
                        Left::NoPayload => "no-payload",
                        Left::Queued => "queued",
                        Left::Running => "running",
                        Left::TooManyComments => "too-many-comments",
                    },
                })
                .collect(),
            failed: run
                .failed
                .iter()
                .map(|(issue, message)| NotAnswered {
                    issue: *issue,
                    message: message.clone(),
                })
                .collect(),
        }
    }
}

/// `regis demo`: where it made the registry (as `init` says), the sample packages, each
/// operation's report as its own command prints it (`published` in order, the re-run
/// too), the requests it shows refused, and the audit.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DemoOutput<'a> {
    #[serde(flatten)]
    pub registry: InitOutput<'a>,
    pub samples: Vec<SampleOutput>,
    pub published: Vec<PublishOutput>,
    pub refused: Vec<RefusedOutput>,
    pub package_sets: Vec<PackageSetUpdateOutput>,
    pub solved: Option<SolveOutput>,
    pub transfer: Option<TransferOutput>,
    pub check: Option<CheckOutput>,
    pub trust: Option<DemoTrustOutput>,
    pub site: Option<crate::site::Built>,
    pub server: Option<DemoServerOutput>,
}

/// The demo's server step: a refusal and a job through the HTTP API.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DemoServerOutput {
    pub home: std::path::PathBuf,
    pub url: String,
    /// The refusal of a publish under the organization's prefix with an outsider's token.
    pub refused: String,
    pub job_id: String,
    pub success: bool,
    pub logs: Vec<String>,
}

/// The demo's last step: the TUF repository adopted, one release fetched and verified.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DemoTrustOutput {
    pub tarballs: usize,
    pub package_sets: usize,
    pub bins: u64,
    pub fetched: String,
    pub hash: String,
    pub timestamp: u64,
    pub targets: usize,
    pub problems: Vec<String>,
}

impl<'a> DemoOutput<'a> {
    pub fn new(registry: InitOutput<'a>) -> Self {
        DemoOutput {
            registry,
            samples: Vec::new(),
            published: Vec::new(),
            refused: Vec::new(),
            package_sets: Vec::new(),
            solved: None,
            transfer: None,
            check: None,
            trust: None,
            site: None,
            server: None,
        }
    }
}

/// A sample package's git repository, and the manifest file it carries.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SampleOutput {
    name: PackageName,
    version: Version,
    repo: std::path::PathBuf,
    manifest_file: &'static str,
    #[serde(rename = "ref")]
    reference: String,
}

impl SampleOutput {
    pub fn new(p: &crate::sample::SamplePackage, repo: std::path::PathBuf) -> Self {
        SampleOutput {
            name: p.manifest.name.clone(),
            version: p.manifest.version.clone(),
            repo,
            manifest_file: p.manifest_file.path(),
            reference: p.manifest.reference.clone(),
        }
    }
}

/// A request refused: `operation` (`publish`, `transfer`, `unpublish`), the package, and
/// the error.
#[derive(Serialize)]
pub(crate) struct RefusedOutput {
    operation: &'static str,
    name: PackageName,
    version: Option<Version>,
    error: ErrorOutput,
}

impl RefusedOutput {
    pub fn new(
        operation: &'static str,
        name: &PackageName,
        version: Option<&Version>,
        error: &(dyn std::error::Error + 'static),
    ) -> Self {
        RefusedOutput {
            operation,
            name: name.clone(),
            version: version.cloned(),
            error: ErrorOutput::of(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_start_with_the_format_version() {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Body {
            dry_run: bool,
            commit: Option<String>,
        }
        let text = document(
            &Body {
                dry_run: true,
                commit: None,
            },
            false,
        )
        .unwrap();
        assert_eq!(text, r#"{"formatVersion":1,"dryRun":true,"commit":null}"#);
        assert_eq!(
            message_line("warning", "`a` is old"),
            r#"{"formatVersion":1,"warning":{"message":"`a` is old"}}"#
        );
        assert_eq!(
            message_line("note", "took 1.00 s"),
            r#"{"formatVersion":1,"note":{"message":"took 1.00 s"}}"#
        );
        assert_eq!(
            message_line("error", "a lookup failed"),
            r#"{"formatVersion":1,"error":{"message":"a lookup failed","causes":[]}}"#
        );
        let e = anyhow::anyhow!("disk on fire").context("could not read `x`");
        assert_eq!(
            error_line(ErrorOutput::of_anyhow(&e), 2),
            r#"{"formatVersion":1,"error":{"message":"could not read `x`","causes":["disk on fire"],"exitCode":2}}"#
        );
    }

    #[test]
    fn a_git_write_is_data() {
        let committed = CommitOutcome::Committed {
            commit: "0123456789abcdef0123456789abcdef01234567".to_owned(),
            pushed: true,
            attempts: 2,
        };
        assert_eq!(
            serde_json::to_value(GitWrite::from(&committed)).unwrap(),
            serde_json::json!({"changed": true, "commit": "0123456789abcdef0123456789abcdef01234567", "pushed": true, "attempts": 2})
        );
        assert_eq!(
            serde_json::to_value(GitWrite::from(&CommitOutcome::Unchanged)).unwrap(),
            serde_json::json!({"changed": false, "commit": null, "pushed": false, "attempts": 0})
        );
    }
}

/// `regis fetch`: the release written and what verified it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FetchOutput<'a> {
    name: &'a PackageName,
    version: &'a Version,
    path: &'a Path,
    bytes: u64,
    hash: String,
    /// The TUF versions verified (`null` for a fetch from a site that nothing
    /// signature-checked).
    root: Option<u64>,
    timestamp: Option<u64>,
    snapshot: Option<u64>,
    /// The publish atom's id (`null` for a package published before the registry kept
    /// atoms, or when nothing was signature-checked).
    atom: Option<String>,
    /// How many atoms the chain from it holds.
    chain: usize,
    /// A fetch from a site: where, the download URL and the yank (`null` when `--from`
    /// named storage).
    site: Option<SiteFetchOutput<'a>>,
    /// The tag the release was named by (`null` for a version).
    tag: Option<&'a crate::schema::Tag>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SiteFetchOutput<'a> {
    url: &'a str,
    /// Whether TUF and the atoms verified the release too.
    signature_checked: bool,
    yanked: Option<FlagOutput<'a>>,
}

impl<'a> FetchOutput<'a> {
    /// A release TUF and the atoms verified (fetched from storage, or also from `site`).
    pub(crate) fn new(
        path: &'a Path,
        fetched: &'a crate::operation::client::Fetched,
        client: &crate::operation::client::Client,
        site: Option<&'a crate::operation::sparse::SiteFetched>,
        tag: Option<&'a crate::schema::Tag>,
    ) -> Self {
        let (timestamp, snapshot, _) = client.versions();
        FetchOutput {
            name: &fetched.name,
            version: &fetched.version,
            path,
            bytes: fetched.bytes.len() as u64,
            hash: fetched.hash.to_string(),
            root: Some(client.root().version.get()),
            timestamp: Some(timestamp),
            snapshot: Some(snapshot),
            atom: fetched.atoms.first().map(|a| a.id.to_string()),
            chain: fetched.atoms.len(),
            site: site.map(|s| SiteFetchOutput {
                url: &s.url,
                signature_checked: true,
                yanked: s.yanked.as_ref().map(FlagOutput::yanked),
            }),
            tag,
        }
    }

    /// A release from a site held to its metadata only.
    pub(crate) fn unsigned(
        path: &'a Path,
        fetched: &'a crate::operation::sparse::SiteFetched,
        tag: Option<&'a crate::schema::Tag>,
    ) -> Self {
        FetchOutput {
            name: &fetched.name,
            version: &fetched.version,
            path,
            bytes: fetched.bytes.len() as u64,
            hash: fetched.hash.to_string(),
            root: None,
            timestamp: None,
            snapshot: None,
            atom: None,
            chain: 0,
            site: Some(SiteFetchOutput {
                url: &fetched.url,
                signature_checked: false,
                yanked: fetched.yanked.as_ref().map(FlagOutput::yanked),
            }),
            tag,
        }
    }
}

/// `regis verify`: what `--adopt` listed (absent without it), and what verified.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct VerifyOutput<'a> {
    adopted: Option<AdoptedOutput>,
    #[serde(flatten)]
    verification: &'a crate::operation::verify::Verification,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct AdoptedOutput {
    bins: u64,
    tarballs: usize,
    missing: Vec<String>,
    atoms: usize,
    package_sets: usize,
    registry: Option<GitWrite>,
    storage: Option<crate::operation::tuf::Published>,
}

impl<'a> VerifyOutput<'a> {
    pub(crate) fn new(
        adopted: Option<&crate::operation::verify::Adopted>,
        verification: &'a crate::operation::verify::Verification,
    ) -> Self {
        VerifyOutput {
            adopted: adopted.map(|a| AdoptedOutput {
                bins: a.bins,
                tarballs: a.tarballs,
                missing: a.missing.clone(),
                atoms: a.atoms,
                package_sets: a.package_sets,
                registry: a.commit.as_ref().map(GitWrite::from),
                storage: a.published.clone(),
            }),
            verification,
        }
    }
}

/// `regis keys refresh`: the commit (absent without a TUF repository) and the copy.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RefreshOutput {
    registry: Option<GitWrite>,
    storage: Option<crate::operation::tuf::Published>,
}

impl From<&crate::operation::tuf::Refreshed> for RefreshOutput {
    fn from(r: &crate::operation::tuf::Refreshed) -> Self {
        RefreshOutput {
            registry: r.commit.as_ref().map(GitWrite::from),
            storage: r.published.clone(),
        }
    }
}

/// `regis pack`: the tarball written, the text an owner signs, and with `--key` the
/// payload to publish.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PackOutput<'a> {
    pub name: &'a PackageName,
    pub version: &'a Version,
    pub path: &'a Path,
    pub bytes: u64,
    pub files: usize,
    pub hash: String,
    pub release_text: &'a str,
    pub payload: Option<&'a crate::payload::Publish>,
}

/// `regis list`: a package's versions, newest first, with what metadata and its index
/// file disagree on.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListOutput<'a> {
    name: &'a PackageName,
    /// The site as given, or the registry checkout.
    from: String,
    location: &'a Location,
    deprecated: Option<DeprecatedOutput<'a>>,
    versions: Vec<ListedOutput<'a>>,
    problems: &'a [String],
    /// What was asked of the site's server: files sent, files not modified since the
    /// cached copy (`null` for a directory or the checkouts).
    requests: Option<RequestsOutput>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct DeprecatedOutput<'a> {
    message: &'a str,
    alternative: Option<&'a PackageName>,
    time: crate::schema::Timestamp,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ListedOutput<'a> {
    version: &'a Version,
    published_time: crate::schema::Timestamp,
    /// The tarball's size and hash (`null` for an unpublished version).
    bytes: Option<u64>,
    hash: Option<String>,
    /// Whether the index file lists the version.
    indexed: bool,
    yanked: Option<FlagOutput<'a>>,
    unpublished: Option<FlagOutput<'a>>,
    /// The tags naming the version (`regis alias`), ascending.
    tags: &'a [crate::schema::Tag],
}

/// A yank or an unpublish: why, and when.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FlagOutput<'a> {
    reason: &'a str,
    time: crate::schema::Timestamp,
}

impl<'a> FlagOutput<'a> {
    pub(crate) fn yanked(y: &'a crate::metadata::Yanked) -> Self {
        FlagOutput {
            reason: &y.reason,
            time: y.time,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct RequestsOutput {
    fetched: u64,
    not_modified: u64,
}

impl<'a> ListOutput<'a> {
    pub(crate) fn new(
        listing: &'a crate::operation::sparse::Listing,
        from: String,
        requests: Option<crate::operation::sparse::Requests>,
    ) -> Self {
        ListOutput {
            name: &listing.name,
            from,
            location: &listing.location,
            deprecated: listing.deprecated.as_ref().map(|d| DeprecatedOutput {
                message: &d.message,
                alternative: d.alternative.as_ref(),
                time: d.time,
            }),
            versions: (listing.versions.iter())
                .map(|l| ListedOutput {
                    version: &l.version,
                    published_time: l.published_time,
                    bytes: l.tarball.as_ref().map(|(bytes, _)| *bytes),
                    hash: l.tarball.as_ref().map(|(_, hash)| hash.to_string()),
                    indexed: l.indexed,
                    yanked: l.yanked.as_ref().map(FlagOutput::yanked),
                    unpublished: (l.unpublished.as_ref()).map(|(reason, time)| FlagOutput {
                        reason,
                        time: *time,
                    }),
                    tags: &l.tags,
                })
                .collect(),
            problems: &listing.problems,
            requests: requests.map(|r| RequestsOutput {
                fetched: r.fetched,
                not_modified: r.not_modified,
            }),
        }
    }
}
