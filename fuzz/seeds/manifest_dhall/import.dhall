{ name = env:HOME as Text }
