-- regis's own: remove the tag `unalias` of a package (signed, inside an Authenticated
-- payload).
{ name : Text, unalias : Text }
