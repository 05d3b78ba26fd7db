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
, githubApiUrl : Text
    -- the GitHub REST API for issue comments, team checks and repository lookups ("https://api.github.com")
, githubTokenEnv : Text
    -- the environment variable holding the GitHub token ("GITHUB_TOKEN")
, botLogin : Text
    -- the GitHub login the registry comments as; its comments are ignored ("github-actions[bot]")
, botPublicKey : Optional Text
    -- the bot's OpenSSH public key; payloads it signed count as a trustee's (None)
, botKeyEnv : Text
    -- the environment variable holding the bot's OpenSSH private key ("REGIS_BOT_KEY")
, trustees : List Text
    -- OpenSSH public keys of trustees ([])
, trusteeTeam : Optional Text
    -- the GitHub team (org/team-slug) whose members are trustees (None)
, unpublishWindowHours : Natural
    -- how many hours after publishing an owner may still unpublish a version (48)
, signatureNamespace : Text
    -- the namespace SSHSIG signatures are made and checked in ("file")
, storage : Optional Text
    -- default storage directory, relative to the registry repo
, index : Optional Text
    -- default index checkout, relative to the registry repo
}
