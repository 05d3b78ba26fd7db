{ packageName = "prelude"
, updateRef = "v5.0.1"
, buildPlan =
  { compiler = "0.15.0"
  , resolutions = [] : List { mapKey : Text, mapValue : Text }
  }
}
