{ name = "prelude", unalias = "next" }
