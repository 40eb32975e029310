"""Declaring answer keys: the TOML schema, [network] shorthand expansion, the model of forward equations and the problem a key loads to."""
