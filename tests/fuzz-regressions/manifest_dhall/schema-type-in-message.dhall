{ name = "prelude", version = "6.0.1", reason = "published by mistake" }
