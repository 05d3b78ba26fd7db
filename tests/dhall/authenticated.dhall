{ payload =
    "{ \"name\": \"node-os\", \"newLocation\": { \"githubOwner\": \"purescript-node\", \"githubRepo\": \"purescript-node-os\" } }"
, signature =
    "1f4967eaa5de1076bb2185b818ea4fb7c18cfe83af951ab32c3bcb4a300dfe9b3795daaae1e7a6d5fb9f72c4cec8003f79a452f2dc9da9ec8cfa63b243c80503"
}
