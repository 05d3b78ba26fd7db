//! The crate's error: every module's error enum folded into one, for callers that drive
//! several layers (the CLI uses `anyhow` on top of these).

/// Any error regis returns.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Schema(#[from] crate::schema::SchemaError),
    #[error(transparent)]
    Manifest(#[from] crate::manifest::ManifestError),
    #[error(transparent)]
    Metadata(#[from] crate::metadata::MetadataError),
    #[error(transparent)]
    Index(#[from] crate::index::IndexError),
    #[error(transparent)]
    PackageSet(#[from] crate::package_set::PackageSetError),
    #[error(transparent)]
    PackageSetUpdate(#[from] crate::package_set::PackageSetUpdateError),
    #[error(transparent)]
    Payload(#[from] crate::payload::PayloadError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
    #[error(transparent)]
    Git(#[from] crate::git::GitError),
    #[error(transparent)]
    Source(#[from] crate::source::SourceError),
    #[error(transparent)]
    Tarball(#[from] crate::tarball::TarballError),
    #[error(transparent)]
    Dhall(#[from] crate::dhall::DhallError),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Publish(#[from] crate::operation::publish::PublishError),
    #[error(transparent)]
    PackageSetOp(#[from] crate::operation::package_set::PackageSetOpError),
    #[error(transparent)]
    Check(#[from] crate::check::CheckError),
    #[error(transparent)]
    Init(#[from] crate::init::InitError),
    #[error(transparent)]
    Hook(#[from] crate::hooks::HookError),
    #[error(transparent)]
    Transfer(#[from] crate::operation::transfer::TransferError),
    #[error(transparent)]
    Unpublish(#[from] crate::operation::unpublish::UnpublishError),
    #[error(transparent)]
    GitHub(#[from] crate::github::GitHubError),
    #[error(transparent)]
    IssueBody(#[from] crate::issue_body::IssueBodyError),
    #[error(transparent)]
    Auth(#[from] crate::auth::AuthError),
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error's message, then each of its causes' messages, joined by `: `; a cause whose
/// text is already in what comes before it is left out. The text a user is shown.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = cause.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_errors_fold_in_with_their_message() {
        fn parse(s: &str) -> Result<crate::schema::Version> {
            Ok(s.parse()?)
        }
        let e = parse("1.0").unwrap_err();
        assert!(matches!(e, Error::Schema(_)));
        assert_eq!(
            e.to_string(),
            "invalid version `1.0`: expected three numbers `MAJOR.MINOR.PATCH` separated by `.`"
        );
    }

    #[test]
    fn chain_appends_each_cause_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Outer(#[source] Inner);
        #[derive(Debug, thiserror::Error)]
        #[error("inner: {0}")]
        struct Inner(#[source] std::io::Error);
        let e = Outer(Inner(std::io::Error::other("disk on fire")));
        assert_eq!(chain(&e), "outer: inner: disk on fire");
    }
}
