{ id = Some "maintainer@jrrom.com"
, keytype = "ssh-ed25519"
, public = "AAAAC3NzaC1lZDI1NTE5AAAAIFO1kn/983377PaE6JQO9UoiJ67ZZWNZxyouUVkhJYKd"
}
