-- /work/shared/fixtures/purescript/manifests/prelude-4.1.1.json as Dhall
let Location = ../../schemas/Location.dhall

let Manifest = ../../schemas/Manifest.dhall

in    { name = "prelude"
      , version = "4.1.1"
      , license = "BSD-3-Clause"
      , description = Some
          "A collection of functions and classes suitable for use in standard PureScript projects."
      , location =
          Location.GitHub
            { githubOwner = "purescript"
            , githubRepo = "purescript-prelude"
            , subdir = None Text
            }
      , ref = "v4.1.1"
      , owners = Some [ { id = None Text, keytype = "ed-25519", public = "abc123" } ]
      , includeFiles = Some [ "test/**/*.purs" ]
      , excludeFiles = Some [ "test/**/*Spec.purs" ]
      , dependencies = [] : List { mapKey : Text, mapValue : Text }
      }
    : Manifest
