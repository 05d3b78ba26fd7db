-- the payload of /work/shared/fixtures/purescript/events/package-set-update_issue_created.json
{ compiler = None Text
, packages = toMap { aff = Some "7.0.0", argonaut = None Text }
}
