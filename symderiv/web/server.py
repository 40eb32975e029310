"""`symderiv serve`: the checker page, served by uvicorn.

serve(ServeConfig(port=8000))      # blocks until Ctrl-C
"""

from __future__ import annotations

import socket
import sys

import uvicorn

from symderiv.web.app import create_app, loopback_hosts
from symderiv.web.config import ServeConfig
from symderiv.web.library import SymderivError, key_fault, load_keys


def check_port(host: str, port: int) -> None:
    """Fail in one line, before the workers start, when the address cannot be listened on."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host, port))
    except OSError as exc:
        raise SymderivError(f"--host {host} --port {port}: cannot listen there ({exc.strerror or exc})") from None


def verify_keys(problems: dict) -> None:
    """Refuse to serve a key that `symderiv verify` would reject: students would be judged against it."""
    print(
        f"symderiv serve: verifying {len(problems)} answer key{'s' if len(problems) != 1 else ''}…",
        file=sys.stderr,
        flush=True,
    )
    for problem in problems.values():
        fault = key_fault(problem)
        if fault is not None:
            raise SymderivError(f"{fault}; not serving it (fix the key, or leave it out of --keys)")


def serve(config: ServeConfig | None = None) -> None:
    config = config or ServeConfig()
    problems = load_keys(config.keys)  # a broken key fails here, before the port is taken
    check_port(config.host, config.port)
    verify_keys(problems)
    where = f"[{config.host}]" if ":" in config.host else config.host

    def ready():
        print(
            f"symderiv serve: ready, {len(problems)} answer keys ({', '.join(problems)}), {config.workers} "
            f"workers; open http://{where}:{config.port}/  (Ctrl-C stops)",
            file=sys.stderr,
            flush=True,
        )

    app = create_app(config, problems, allowed_hosts=loopback_hosts() if config.loopback else None, on_ready=ready)
    print(f"symderiv serve: starting {config.workers} workers…", file=sys.stderr, flush=True)
    uvicorn.run(
        app, host=config.host, port=config.port, log_level="warning", access_log=False, timeout_graceful_shutdown=5
    )
