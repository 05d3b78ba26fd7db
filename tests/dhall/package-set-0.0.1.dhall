-- /work/shared/fixtures/purescript/mini-registry/package-sets/0.0.1.json as Dhall
{ version = "0.0.1"
, compiler = "0.15.10"
, published = "2024-01-01"
, packages = toMap { prelude = "6.0.1" }
}
