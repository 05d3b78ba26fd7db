(../../schemas/Location.dhall).Git
  { gitUrl = "https://example.com/monorepo.git", subdir = Some "packages/foo" }
