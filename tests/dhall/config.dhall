{ name = "test-registry"
, githubBaseUrl = "file:///srv/git"
, defaultCompiler = "0.15.15"
, forbiddenNamePrefixes = [ "purescript-", "ps-" ]
, reservedNames = [ "metadata", "registry" ]
, packageBytesMax = 1000000
, packageBytesWarn = 100000
, pushAttempts = 3
, buildCheck = Some "purs compile 'src/**/*.purs'"
, docs = None Text
, hookTimeoutSeconds = 600
, storage = Some "../storage"
, index = None Text
}
