"""The web interface: `symderiv serve`, a page where students check their own derivations.

    from symderiv.web import ServeConfig, create_app, serve
    serve(ServeConfig(host="127.0.0.1", port=8000, workers=2))

The page and its JSON API are in `app`, the worker processes in `pool`, the per-line layout of a
graded text in `view`; the defences below HTTP (deadlines, the connection cap) in `guard` and the
one-line-per-cause log in `logs`; everything taken from the rest of symderiv comes through `library`.
"""

from symderiv.web.app import create_app
from symderiv.web.config import ConfigError, RateLimit, ServeConfig, parse_forwarded_allow_ips, parse_rate_limit
from symderiv.web.server import serve

__all__ = [
    "create_app",
    "serve",
    "ServeConfig",
    "RateLimit",
    "ConfigError",
    "parse_rate_limit",
    "parse_forwarded_allow_ips",
]
