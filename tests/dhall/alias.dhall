{ name = "prelude", alias = "next", version = "6.0.1" }
