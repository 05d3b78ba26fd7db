-- A package's metadata (`metadata/<name>.json` in the registry repo).
-- `published` and `unpublished` map version text ("1.2.3") to the records below;
-- times are "YYYY-MM-DDTHH:MM:SS.mmmZ", `hash` is "sha256-<base64>", `ref` is "" today.
{ location : ./Location.dhall
, owners : Optional (List ./Owner.dhall)
, published :
    List
      { mapKey : Text
      , mapValue :
          { bytes : Natural
          , compilers : List Text
          , hash : Text
          , publishedTime : Text
          , ref : Text
          }
      }
, unpublished :
    List
      { mapKey : Text
      , mapValue : { publishedTime : Text, reason : Text, unpublishedTime : Text }
      }
}
