-- A package set (`package-sets/<version>.json`): `published` is "YYYY-MM-DD",
-- `packages` maps package names to versions.
{ version : Text
, compiler : Text
, published : Text
, packages : List { mapKey : Text, mapValue : Text }
}
