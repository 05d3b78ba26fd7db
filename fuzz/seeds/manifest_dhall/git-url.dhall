let v = "1.2.3"
in  { name = "b-c"
    , version = v
    , license = "BSD-3-Clause"
    , description = None Text
    , location = < GitHub : { githubOwner : Text, githubRepo : Text, subdir : Optional Text } | Git : { gitUrl : Text, subdir : Optional Text } >.Git { gitUrl = "https://example.com/b.git", subdir = Some "lib" }
    , ref = "v${v}"
    , owners = None (List { id : Optional Text, keytype : Text, public : Text })
    , includeFiles = None (List Text)
    , excludeFiles = None (List Text)
    , dependencies = [] : List { mapKey : Text, mapValue : Text }
    }
