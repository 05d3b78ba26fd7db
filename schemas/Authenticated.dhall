-- A signed payload: `payload` is the exact JSON text of a Transfer or an Unpublish (or of
-- one of regis's own: a Yank, an Unyank, a Deprecate, an Alias or an Unalias), `signature`
-- the hex of its raw ssh2 signature (or an armored SSHSIG).
{ payload : Text, signature : Text }
