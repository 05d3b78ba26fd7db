-- regis's own: point the tag `alias` of a package at a published version (signed, inside
-- an Authenticated payload). A tag: 1 to 64 lowercase ASCII letters, digits, `-`, `.`
-- and `_`, a letter first, never a version. `signedAt` is optional in JSON; leave it out
-- here (`regis sign` adds it).
{ name : Text, alias : Text, version : Text }
