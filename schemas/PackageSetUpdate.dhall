-- Change the latest package set: `packages` maps names to `Some "X.Y.Z"` (add or
-- upgrade) or `None Text` (remove; JSON null); `compiler` changes the compiler.
{ compiler : Optional Text
, packages : List { mapKey : Text, mapValue : Optional Text }
}
