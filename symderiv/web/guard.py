"""The server's defences below HTTP: each request's headers and body have a deadline, the open
connections a cap, and every error the server itself sends is JSON.

uvicorn closes an idle keep-alive connection, but waits for ever on a client that never finishes
its headers (or its body), so a few hundred such connections exhaust the process's files. Here
each connection is uvicorn's own h11 protocol with a watch kept on it:

- a request's headers must arrive within `header_timeout` of its first byte (of the connection,
  for the first request); its body within `body_timeout` of the headers. Trickling bytes does not
  extend either. Past it, the client gets 408 ``{"error": ...}`` and the connection is closed;
- at most `max_connections` are open. A new one past the cap closes the connection that has waited
  longest on its client (for headers, for a body, or idle between requests), if it has waited at
  least GRACE seconds (a client that connected a moment ago is not yet slow: under a flood of new
  connections, a real client's request is not evicted before the server has read it); when no
  connection qualifies, the new one gets 503 ``{"error": ...}``;
- a request uvicorn cannot parse (or whose headers exceed MAX_HEADER_BYTES) gets 400 as JSON.

    protocol = guarded_protocol(Limits(max_connections=512, header_timeout=10, body_timeout=30))
    uvicorn.run(app, http=protocol, h11_max_incomplete_event_size=MAX_HEADER_BYTES, ...)
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["Limits", "ConnectionTable", "guarded_protocol", "json_response", "MAX_HEADER_BYTES"]

MAX_HEADER_BYTES = 16 * 1024
GRACE = 1.0  # seconds a connection waits on its client before the cap may close it for a newer one
log = logging.getLogger("symderiv.serve")


@dataclass(frozen=True)
class Limits:
    max_connections: int = 512
    header_timeout: float = 10.0
    body_timeout: float = 30.0


def json_response(status: int, reason: str, message: str, extra: bytes = b"") -> bytes:
    """A whole HTTP/1.1 response with a JSON error body, closing the connection."""
    body = json.dumps({"error": message}).encode("utf-8")
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
        "connection: close\r\ncache-control: no-store\r\n"
    ).encode("ascii")
    return head + extra + b"\r\n" + body


class ConnectionTable:
    """The open connections of one server, each with what it is waiting for and since when."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.open: dict[GuardedH11, None] = {}  # insertion-ordered

    def admit(self, conn: GuardedH11, now: float) -> bool:
        if len(self.open) >= self.limits.max_connections:
            grace = min(GRACE, self.limits.header_timeout / 2)
            waiting = [c for c in self.open if c.phase != "answering" and now - c.since >= grace]
            if not waiting:
                return False
            oldest = min(waiting, key=lambda c: c.since)
            self.open.pop(oldest, None)
            log.warning(
                "connection limit (%d) reached: closed the connection waiting longest on its client",
                self.limits.max_connections,
            )
            oldest.close_quietly()
        self.open[conn] = None
        return True

    def forget(self, conn: GuardedH11) -> None:
        self.open.pop(conn, None)


class GuardedH11(H11Protocol):
    """uvicorn's h11 protocol with deadlines on the client's side of each request (see module doc)."""

    table: ConnectionTable  # set on the class guarded_protocol makes

    def connection_made(self, transport) -> None:
        self.phase, self.since, self.received, self.deadline, self.refused = "headers", self.loop.time(), 0, None, False
        if not self.table.admit(self, self.since):
            self.refused = True
            log.warning(
                "connection limit (%d) reached, no connection waiting long on its client: refused one",
                self.table.limits.max_connections,
            )
            transport.write(
                json_response(
                    503,
                    "Service Unavailable",
                    "the server has too many connections; try again shortly",
                    b"retry-after: 5\r\n",
                )
            )
            transport.close()  # its file is released on the loop's next turn
            return
        super().connection_made(transport)
        self._arm(self.table.limits.header_timeout)

    def connection_lost(self, exc) -> None:
        self._disarm()
        self.table.forget(self)
        if not self.refused:
            super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.refused:
            return
        if self.phase == "idle":  # the next request on a kept-alive connection: its own header deadline
            self._enter("headers", self.table.limits.header_timeout)
            self.received = 0
        self.received += len(data)
        super().data_received(data)
        self._follow()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.transport.is_closing():
            return
        theirs = self.conn.their_state  # a pipelined request may already be under way
        if theirs is h11.IDLE:
            self._enter("idle", None)  # uvicorn's keep-alive timeout closes it if nothing comes
        elif theirs is h11.SEND_BODY:
            self._enter("body", self.table.limits.body_timeout)
        else:
            self._enter("answering", None)

    def send_400_response(self, msg: str) -> None:
        log.warning("malformed or oversized request: %s", msg)
        self.transport.write(
            json_response(
                400, "Bad Request", f"{msg.rstrip('.')} (malformed, or headers over {MAX_HEADER_BYTES // 1024} KB)"
            )
        )
        self.transport.close()

    def close_quietly(self) -> None:
        self._disarm()
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    # -- the watch ------------------------------------------------------------------------------

    def _follow(self) -> None:
        """Move to the phase h11's view of the client's side says, after data arrived."""
        theirs = self.conn.their_state
        if theirs is h11.SEND_BODY and self.phase == "headers":
            self._enter("body", self.table.limits.body_timeout)
        elif theirs not in (h11.IDLE, h11.SEND_BODY) and self.phase in ("headers", "body"):
            self._enter("answering", None)

    def _enter(self, phase: str, timeout: float | None) -> None:
        self.phase, self.since = phase, self.loop.time()
        self._disarm()
        if timeout is not None:
            self._arm(timeout)

    def _arm(self, timeout: float) -> None:
        self._disarm()
        self.deadline = self.loop.call_later(timeout, self._expired)

    def _disarm(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None

    def _expired(self) -> None:
        self.deadline = None
        if self.transport is None or self.transport.is_closing():
            return
        limit = self.table.limits.header_timeout if self.phase == "headers" else self.table.limits.body_timeout
        what = "headers" if self.phase == "headers" else "body"
        log.warning("slow client: a request's %s did not arrive within %g s; closed", what, limit)
        if self.received and self.conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            self.transport.write(
                json_response(408, "Request Timeout", f"the request's {what} did not arrive within {limit:g} s")
            )
        self.transport.close()


def guarded_protocol(limits: Limits) -> type[GuardedH11]:
    """A protocol class for uvicorn (its `http` setting) with its own table of connections."""
    return type("GuardedH11Server", (GuardedH11,), {"table": ConnectionTable(limits)})
