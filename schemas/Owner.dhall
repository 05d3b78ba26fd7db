-- An SSH public key allowed to sign for a package, split in its parts:
-- `keytype` is the algorithm ("ssh-ed25519"), `public` the base64 key, `id` the comment.
{ id : Optional Text, keytype : Text, public : Text }
