-- The registry configuration (`regis.dhall` at the root of the registry repo).
{ name : Text
    -- registry name used in messages and commit messages
, githubBaseUrl : Text
    -- where GitHub locations are cloned from: <base>/<owner>/<repo>.git ("https://github.com")
, defaultCompiler : Text
    -- compiler version recorded when a Publish gives none ("0.15.15")
, forbiddenNamePrefixes : List Text
    -- package name prefixes refused at publish (["purescript-"])
, reservedNames : List Text
    -- package names nobody may publish (["metadata"])
, packageBytesMax : Natural
    -- a tarball larger than this many bytes is refused (2000000)
, packageBytesWarn : Natural
    -- a tarball larger than this many bytes is published with a warning (200000)
, pushAttempts : Natural
    -- how many times a git push that lost a race is re-applied and retried (5)
, buildCheck : Optional Text
    -- shell command (sh -c) that checks a package builds against its dependencies (None)
, docs : Optional Text
    -- shell command (sh -c) that builds a package's documentation (None)
, hookTimeoutSeconds : Natural
    -- a build check or docs command running longer is killed and counts as failed (900)
, storage : Optional Text
    -- default storage directory, relative to the registry repo
, index : Optional Text
    -- default index checkout, relative to the registry repo
}
