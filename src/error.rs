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
    Yank(#[from] crate::operation::yank::YankError),
    #[error(transparent)]
    Atom(#[from] crate::atom::AtomError),
    #[error(transparent)]
    Deprecate(#[from] crate::operation::deprecate::DeprecateError),
    #[error(transparent)]
    Alias(#[from] crate::operation::alias::AliasError),
    #[error(transparent)]
    GitHub(#[from] crate::github::GitHubError),
    #[error(transparent)]
    IssueBody(#[from] crate::issue_body::IssueBodyError),
    #[error(transparent)]
    Auth(#[from] crate::auth::AuthError),
    #[error(transparent)]
    Trust(#[from] crate::trust::TrustError),
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error and its causes (`source()`s) joined by `: `, as regis prints errors; a cause
/// whose text the message already holds is not repeated.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    error_messages(error).join(": ")
}

/// What [`error_chain`] joins: the error's own message, then the text of each cause that
/// the texts before it do not already hold.
pub fn error_messages(error: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut said = error.to_string();
    let mut out = vec![said.clone()];
    let mut cause = error.source();
    while let Some(e) = cause {
        let text = e.to_string();
        if !said.contains(&text) {
            said.push_str(": ");
            said.push_str(&text);
            out.push(text);
        }
        cause = e.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_joins_causes_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("could not read `x`")]
        struct Outer(#[source] std::io::Error);
        let e = Outer(std::io::Error::other("disk on fire"));
        assert_eq!(error_chain(&e), "could not read `x`: disk on fire");
        assert_eq!(error_messages(&e), ["could not read `x`", "disk on fire"]);
        #[derive(Debug, thiserror::Error)]
        #[error("could not read `x`: {0}")]
        struct Doubled(#[source] std::io::Error);
        let e = Doubled(std::io::Error::other("disk on fire"));
        assert_eq!(error_chain(&e), "could not read `x`: disk on fire");
        assert_eq!(error_messages(&e), ["could not read `x`: disk on fire"]);
    }

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
}
