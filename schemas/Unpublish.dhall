-- Unpublish one version (signed, inside an Authenticated payload); `reason` ≤ 300 chars.
{ name : Text, version : Text, reason : Text }
