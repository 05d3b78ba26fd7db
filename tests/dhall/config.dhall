{ name = "test-registry"
, githubBaseUrl = "file:///srv/git"
, defaultCompiler = "0.15.15"
, forbiddenNamePrefixes = [ "purescript-", "ps-" ]
, reservedNames = [ "metadata", "registry" ]
, packageBytesMax = 1000000
, packageBytesWarn = 100000
, pushAttempts = 3
, storage = Some "../storage"
, index = None Text
}
