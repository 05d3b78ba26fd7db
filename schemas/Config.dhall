-- The registry configuration (`regis.dhall` at the root of the registry repo).
-- Kept in step with `FIELDS` in src/config.rs by a test: each field's meaning and default.
{ name : Text
    -- registry name used in messages and commit messages (default: "registry")
, githubBaseUrl : Text
    -- where GitHub locations are cloned from: <base>/<owner>/<repo>.git (default: "https://github.com")
, defaultCompiler : Text
    -- compiler version recorded when a Publish gives none; one of `compilers` (default: "0.15.15")
, compilers : List Text
    -- the compiler versions the registry builds with: with a build check, a publish runs it with each one its dependencies allow and records every one that passes (default: [ "0.13.0", "0.13.2", "0.13.3", "0.13.4", "0.13.5", "0.13.6", "0.13.8", "0.14.0", "0.14.1", "0.14.2", "0.14.3", "0.14.4", "0.14.5", "0.14.6", "0.14.7", "0.14.8", "0.14.9", "0.15.0", "0.15.2", "0.15.3", "0.15.4", "0.15.5", "0.15.6", "0.15.7", "0.15.8", "0.15.9", "0.15.10", "0.15.11", "0.15.12", "0.15.13", "0.15.14", "0.15.15", "0.15.16" ])
, forbiddenNamePrefixes : List Text
    -- package name prefixes refused at publish (default: [ "purescript-" ])
, reservedNames : List Text
    -- package names nobody may publish (default: [ "metadata" ])
, packageBytesMax : Natural
    -- a tarball larger than this many bytes is refused (default: 2000000)
, packageBytesWarn : Natural
    -- a tarball larger than this many bytes is published with a warning (default: 200000)
, pushAttempts : Natural
    -- how many times a git push that lost a race is re-applied and retried (default: 100)
, pushRetrySeconds : Natural
    -- how many seconds a git push that lost a race may go on being re-applied and retried (default: 300)
, buildCheck : Optional Text
    -- shell command (sh -c) that checks a package builds against its dependencies (default: None Text)
, docs : Optional Text
    -- shell command (sh -c) that builds a package's documentation (default: None Text)
, hookTimeoutSeconds : Natural
    -- a build check or docs command running longer is killed and counts as failed (default: 900)
, matrixTimeoutSeconds : Natural
    -- how many seconds a publish's build checks with the compilers after the first may take together; a compiler not reached in time is not recorded (0: the first only) (default: 900)
, githubApiUrl : Text
    -- the GitHub REST API for issue comments, team checks and repository lookups (default: "https://api.github.com")
, githubTokenEnv : Text
    -- the environment variable holding the GitHub token (default: "GITHUB_TOKEN")
, botLogin : Text
    -- the GitHub login the registry comments as; its comments are ignored (default: "github-actions[bot]")
, botPublicKey : Optional Text
    -- the bot's OpenSSH public key; payloads it signed count as a trustee's (default: None Text)
, botKeyEnv : Text
    -- the environment variable holding the bot's OpenSSH private key (default: "REGIS_BOT_KEY")
, trustees : List Text
    -- OpenSSH public keys of trustees (default: [] : List Text)
, trusteeTeam : Optional Text
    -- the GitHub team (org/team-slug) whose members are trustees (default: None Text)
, unpublishWindowHours : Natural
    -- how many hours after publishing an owner may still unpublish a version (default: 48)
, signatureNamespace : Text
    -- the namespace SSHSIG signatures are made and checked in (default: "file")
, ownerChanges : Text
    -- who may change a package's owners by publishing a manifest with other `owners`: `"signed"` (regis's rule, what `regis init` writes), only with a current owner's or a trustee's signature of the new list (the Publish payload's `ownersSignature`), or `"location"` (the PureScript Registry's rule), whoever can publish from the package's location (default: "location")
, storage : Optional Text
    -- where tarballs are: a directory relative to the registry repo, or an object store URL (`s3://bucket/prefix`, `gs://`, `az://`, `file://`) (default: None Text)
, storageUrl : Optional Text
    -- where anyone downloads a published tarball: a URL template with `{name}` and `{version}`, e.g. `https://packages.example.org/{name}/{version}.tar.gz`; written into publish comments and the registry's README (default: None Text)
, mirrors : List Text
    -- other storages (directories relative to the registry repo, or object store URLs) a publish also writes each tarball to, after `storage`, and readers fall back to when `storage` lacks one; `regis storage sync` fills in what a mirror lacks (default: [] : List Text)
, index : Optional Text
    -- default index checkout, relative to the registry repo (default: None Text)
, dhallCache : Optional Text
    -- a Dhall cache directory (files `1220<sha256>`, as `dhall` keeps in ~/.cache/dhall), relative to the registry repo, that a package's spago.dhall may take `https://` imports pinned by `sha256:` from (default: None Text)
, trustRootKeys : List Text
    -- where this machine finds private root keys to sign a new root version with (`regis keys rotate`, `revoke`), each `file:<path>` (relative to the registry repo, outside every git work tree) or `env:<VAR>` (the PEM text), read only by the commands that sign with it; root keys are offline: list them only where roots are signed (default: [] : List Text)
, trustTargetsKey : Optional Text
    -- where the private key of the TUF targets role comes from: `file:<path>` (relative to the registry repo, outside every git work tree) or `env:<VAR>` (the PEM text), read only by the commands that sign with it (default: None Text)
, trustSnapshotKey : Optional Text
    -- where the private key of the TUF snapshot role comes from: `file:<path>` (relative to the registry repo, outside every git work tree) or `env:<VAR>` (the PEM text), read only by the commands that sign with it (default: None Text)
, trustTimestampKey : Optional Text
    -- where the private key of the TUF timestamp role comes from: `file:<path>` (relative to the registry repo, outside every git work tree) or `env:<VAR>` (the PEM text), read only by the commands that sign with it (default: None Text)
, trustAtomKey : Optional Text
    -- where the private key that signs atoms comes from: `file:<path>` (relative to the registry repo, outside every git work tree) or `env:<VAR>` (the PEM text), read only by the commands that sign with it (default: None Text)
, trustRootExpiryDays : Natural
    -- how many days a new root version (`regis keys init`, `rotate`, `revoke`) stays valid (default: 365)
, trustTimestampExpiryDays : Natural
    -- how many days a TUF timestamp stays valid: every operation and `regis keys refresh` (in the daily workflow) signs a new one, and a client refuses a registry whose timestamp is older (default: 2)
, trustOnlineExpiryDays : Natural
    -- how many days TUF targets, hash bins and snapshots stay valid (re-signed when a change touches them, and by `regis keys refresh` within the last third of this) (default: 90)
, trustHashBins : Natural
    -- how many hash bins a new TUF repository (`regis verify --adopt`) delegates the targets to: 16, 256, 4096 or 65536; a publish re-signs the bins its two targets (the tarball and its atom) fall in and the snapshot, which lists every bin, so 256 re-writes the least up to about 100,000 targets and 4096 from there to about 20 million (2.4 MB against 0.4 MB a publish at a million targets), while a client that loads every bin (`regis fetch`, `regis verify`) takes time in proportion to targets times bins (default: 256)
}
