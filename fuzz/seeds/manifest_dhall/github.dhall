let Location =
      < GitHub : { githubOwner : Text, githubRepo : Text, subdir : Optional Text }
      | Git : { gitUrl : Text, subdir : Optional Text }
      >

in  { name = "a"
    , version = "1.0.0"
    , license = "MIT"
    , description = Some "A package"
    , location = Location.GitHub { githubOwner = "o", githubRepo = "purescript-a", subdir = None Text }
    , ref = "v1.0.0"
    , owners = Some [ { id = Some "me", keytype = "ssh-ed25519", public = "AAAAC3Nza" } ]
    , includeFiles = None (List Text)
    , excludeFiles = Some [ "test/**" ]
    , dependencies = toMap { prelude = ">=6.0.0 <7.0.0", effect = ">=4.0.0 <5.0.0" }
    }
