-- the Publish payload of /work/shared/fixtures/purescript/events/addition_issue_created.json
{ name = "prelude"
, location = Some
    ( (../../schemas/Location.dhall).GitHub
        { githubOwner = "purescript", githubRepo = "purescript-prelude", subdir = None Text }
    )
, ref = "v5.0.0"
, version = "5.0.0"
, compiler = Some "0.15.0"
, resolutions = Some (toMap { prelude = "1.0.0" })
}
