-- the signed payload of /work/shared/fixtures/purescript/vectors/ssh-signature.json
{ name = "node-os"
, newLocation =
    (../../schemas/Location.dhall).GitHub
      { githubOwner = "purescript-node", githubRepo = "purescript-node-os", subdir = None Text }
}
