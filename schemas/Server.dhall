-- A server's configuration (`regis-server.dhall` in the home directory of `regis serve --home DIR`).
{ registries : List { name : Text, path : Text }
    -- the registries it serves: a name (lowercase letters, digits and `-`; in URLs as /registries/<name>/api/v1/…) and the directory of the registry checkout (its regis.dhall inside), relative to the home directory
, defaultRegistry : Optional Text
    -- the registry /api/v1/… serves, the PureScript Registry's paths (None: the first)
, gitSchemes : List Text
    -- the URL schemes a location given to the API may use (`https`, `git`, `ssh`, `http`; never `file`)
, quotas :
    { packageBytes : Optional Natural
        -- bytes of published tarballs one package may hold (None: no limit)
    , organizationBytes : Optional Natural
        -- bytes the packages under one organization's prefixes may hold, unless `regis org create --bytes-max` set the organization's own
    , tokenOperationsPerHour : Optional Natural
        -- jobs one token may have accepted per hour (UTC)
    , organizationOperationsPerHour : Optional Natural
        -- jobs the tokens of one organization may have accepted per hour, unless the organization has its own
    }
}
