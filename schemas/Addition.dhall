-- The CI-era Addition payload (a package's first publish); `buildPlan.resolutions`
-- maps package names to versions.
{ packageName : Text
, newPackageLocation : ./Location.dhall
, newRef : Text
, buildPlan :
    { compiler : Text, resolutions : List { mapKey : Text, mapValue : Text } }
}
