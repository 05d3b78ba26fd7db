{ packageName = "prelude"
, newPackageLocation =
    (../../schemas/Location.dhall).Git
      { gitUrl = "https://example.com/prelude.git", subdir = Some "lib" }
, newRef = "v5.0.0"
, buildPlan = { compiler = "0.15.0", resolutions = toMap { effect = "4.0.0" } }
}
