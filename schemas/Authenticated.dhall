-- A signed payload: `payload` is the exact JSON text of a Transfer or an Unpublish,
-- `signature` the hex of its raw ssh2 signature (or an armored SSHSIG).
{ payload : Text, signature : Text }
