-- /work/shared/fixtures/purescript/mini-registry/metadata/prelude.json as Dhall
let Location = ../../schemas/Location.dhall

let Metadata = ../../schemas/Metadata.dhall

in    { location =
          Location.GitHub
            { githubOwner = "purescript"
            , githubRepo = "purescript-prelude"
            , subdir = None Text
            }
      , owners = None (List ../../schemas/Owner.dhall)
      , published = toMap
          { `6.0.1` =
            { bytes = 31125
            , compilers = [ "0.15.10" ]
            , hash = "sha256-XaM78oJFCsdZxjlDbUHj8MnZidwQc4HSnfrLfliXuAc="
            , publishedTime = "2022-08-18T20:04:00.000Z"
            , ref = "v6.0.1"
            }
          }
      , unpublished =
          [] : List
                 { mapKey : Text
                 , mapValue :
                     { publishedTime : Text, reason : Text, unpublishedTime : Text }
                 }
      }
    : Metadata
