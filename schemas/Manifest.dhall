-- A package manifest (`purs.json` / `purs.dhall`; one compact line per version in the index).
-- `dependencies` maps package names to ranges (">=A.B.C <X.Y.Z"); `toMap {=}` or
-- `[] : List { mapKey : Text, mapValue : Text }` for none.
{ name : Text
, version : Text
, license : Text
, description : Optional Text
, location : ./Location.dhall
, ref : Text
, owners : Optional (List ./Owner.dhall)
, includeFiles : Optional (List Text)
, excludeFiles : Optional (List Text)
, dependencies : List { mapKey : Text, mapValue : Text }
}
