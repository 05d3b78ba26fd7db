-- The Publish payload. `location` defaults to the package's registered location,
-- `compiler` to the registry's default; `resolutions` maps package names to versions.
{ name : Text
, location : Optional ./Location.dhall
, ref : Text
, version : Text
, compiler : Optional Text
, resolutions : Optional (List { mapKey : Text, mapValue : Text })
}
