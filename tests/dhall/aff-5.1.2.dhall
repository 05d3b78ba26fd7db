-- /work/shared/fixtures/purescript/manifests/aff-5.1.2.json as Dhall (no type annotation:
-- the caller's schema types it)
{ name = "aff"
, version = "5.1.2"
, license = "Apache-2.0"
, description = None Text
, location =
    (../../schemas/Location.dhall).GitHub
      { githubOwner = "purescript", githubRepo = "purescript-aff", subdir = None Text }
, ref = "v5.1.2"
, owners = None (List ../../schemas/Owner.dhall)
, includeFiles = None (List Text)
, excludeFiles = None (List Text)
, dependencies = toMap
    { datetime = ">=4.0.0 <5.0.0"
    , effect = ">=2.0.0 <3.0.0"
    , exceptions = ">=4.0.0 <5.0.0"
    , functions = ">=4.0.0 <5.0.0"
    , parallel = ">=4.0.0 <5.0.0"
    , transformers = ">=4.0.0 <5.0.0"
    , unsafe-coerce = ">=4.0.0 <5.0.0"
    }
}
