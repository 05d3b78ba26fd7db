-- Where a package's source lives. JSON: the alternative's record, untagged:
-- {"githubOwner","githubRepo","subdir"?} or {"gitUrl","subdir"?}.
< GitHub : { githubOwner : Text, githubRepo : Text, subdir : Optional Text }
| Git : { gitUrl : Text, subdir : Optional Text }
>
