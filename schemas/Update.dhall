-- The CI-era Update payload (a new version of a registered package).
{ packageName : Text
, updateRef : Text
, buildPlan :
    { compiler : Text, resolutions : List { mapKey : Text, mapValue : Text } }
}
