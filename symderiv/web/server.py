"""`symderiv serve`: the checker page, served by uvicorn.

serve(ServeConfig(port=8000))      # blocks until Ctrl-C

Below HTTP the server is guarded (guard.py: deadlines for each request's headers and body, a cap on
open connections, JSON for the errors the server sends itself) and its log says each cause once per
minute (logs.py). uvicorn's own reading of X-Forwarded-For is off: the app believes it only from
`--forwarded-allow-ips`.
"""

from __future__ import annotations

import resource
import socket
import sys

import uvicorn

from symderiv.web.app import create_app, loopback_hosts
from symderiv.web.config import ServeConfig
from symderiv.web.guard import MAX_HEADER_BYTES, Limits, guarded_protocol
from symderiv.web.library import SymderivError, key_fault, load_keys
from symderiv.web.logs import configure_logging

KEEP_ALIVE = 5  # seconds an idle connection is kept open between requests
FILES_PER_WORKER = 16  # pipes and the SymPy process of each worker, with room to spare
SPARE_FILES = 64  # the listening socket, the keys, the log, the interpreter's own
BACKLOG = 128  # connections waiting to be accepted, and accepted at most in one turn of the event loop


def check_port(host: str, port: int) -> None:
    """Fail in one line, before the workers start, when the address cannot be listened on."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host, port))
    except OSError as exc:
        raise SymderivError(f"--host {host} --port {port}: cannot listen there ({exc.strerror or exc})") from None


def check_files(config: ServeConfig) -> None:
    """Raise the limit on open files as far as allowed, and refuse a --max-connections the process
    could not hold open (each connection is a file; running out of them is what stops a server)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # a turn of the event loop may accept BACKLOG connections before those past the cap are closed,
    # and the closing ones of the turn before may not be released yet
    need = config.max_connections + 2 * BACKLOG + config.workers * FILES_PER_WORKER + SPARE_FILES
    if soft != resource.RLIM_INFINITY and soft < need:
        target = need if hard == resource.RLIM_INFINITY else min(need, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    if soft != resource.RLIM_INFINITY and soft < need:
        most = max(1, soft - 2 * BACKLOG - config.workers * FILES_PER_WORKER - SPARE_FILES)
        raise SymderivError(
            f"--max-connections {config.max_connections}: this process may open only {soft} files "
            f"(ulimit -n); give at most {most}, or raise the limit"
        )


def verify_keys(problems: dict) -> None:
    """Refuse to serve a key that `symderiv verify` would reject: students would be judged against it."""
    plural = "s" if len(problems) != 1 else ""
    print(f"symderiv serve: verifying {len(problems)} answer key{plural}…", file=sys.stderr, flush=True)
    for problem in problems.values():
        fault = key_fault(problem)
        if fault is not None:
            raise SymderivError(f"{fault}; not serving it (fix the key, or leave it out of --keys)")


def serve(config: ServeConfig | None = None) -> None:
    config = config or ServeConfig()
    problems = load_keys(config.keys)  # a broken key fails here, before the port is taken
    check_port(config.host, config.port)
    check_files(config)
    verify_keys(problems)
    where = f"[{config.host}]" if ":" in config.host else config.host

    def ready():
        print(
            f"symderiv serve: ready, {len(problems)} answer keys ({', '.join(problems)}), {config.workers} "
            f"workers; open http://{where}:{config.port}/  (Ctrl-C stops)",
            file=sys.stderr,
            flush=True,
        )

    hosts = [*loopback_hosts(), config.host] if config.loopback else None
    app = create_app(config, problems, allowed_hosts=hosts, on_ready=ready)
    configure_logging()
    print(f"symderiv serve: starting {config.workers} workers…", file=sys.stderr, flush=True)
    uvicorn.run(
        app,
        host=config.host,
        port=config.port,
        http=guarded_protocol(Limits(config.max_connections, config.header_timeout, config.body_timeout)),
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        timeout_keep_alive=KEEP_ALIVE,
        backlog=BACKLOG,
        proxy_headers=False,  # the app reads X-Forwarded-For itself, from --forwarded-allow-ips only
        log_config=None,  # configure_logging's: one line per cause per minute
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=5,
    )
