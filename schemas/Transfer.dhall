-- Move a package to a new location (signed, inside an Authenticated payload).
{ name : Text, newLocation : ./Location.dhall }
