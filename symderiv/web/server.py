"""`symderiv serve`: the checker page, served by uvicorn.

    serve(ServeConfig(port=8000))      # blocks until Ctrl-C
"""
from __future__ import annotations

import sys

import uvicorn

from symderiv.web.app import create_app, loopback_hosts
from symderiv.web.config import ServeConfig
from symderiv.web.library import load_keys


def serve(config: ServeConfig | None = None) -> None:
    config = config or ServeConfig()
    problems = load_keys(config.keys)            # a broken key fails here, before the port is taken
    app = create_app(config, problems, allowed_hosts=loopback_hosts() if config.loopback else None)
    where = f"[{config.host}]" if ":" in config.host else config.host
    print(f"symderiv serve: {len(problems)} answer keys ({', '.join(problems)}), {config.workers} workers; "
          f"open http://{where}:{config.port}/", file=sys.stderr, flush=True)
    uvicorn.run(app, host=config.host, port=config.port, log_level="warning", access_log=False,
                timeout_graceful_shutdown=5)
