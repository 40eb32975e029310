"""Issue 22, item 5: the server below HTTP. uvicorn with symderiv's guarded protocol, run in a thread
on a tiny app (no workers, no keys), so each test starts in a fraction of a second: slow clients are
closed at their deadline with a JSON 408, the connection cap evicts the client waiting longest, a
request uvicorn cannot parse gets a JSON 400, and the log says each cause once per interval."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import time

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from symderiv.web.guard import MAX_HEADER_BYTES, ConnectionTable, Limits, guarded_protocol
from symderiv.web.logs import OncePerInterval

RELEASE = threading.Event()


async def hello(request):
    return JSONResponse({"ok": True})


async def echo(request):
    return JSONResponse({"bytes": len(await request.body())})


async def hold(request):  # a request being answered: not a client the cap may evict
    while not RELEASE.is_set():
        await asyncio.sleep(0.02)
    return JSONResponse({"held": True})


APP = Starlette(routes=[Route("/", hello), Route("/echo", echo, methods=["POST"]), Route("/hold", hold)])


class Server:
    def __init__(self, limits: Limits):
        config = uvicorn.Config(
            APP,
            host="127.0.0.1",
            port=0,
            http=guarded_protocol(limits),
            h11_max_incomplete_event_size=MAX_HEADER_BYTES,
            log_config=None,
            log_level="warning",
            lifespan="off",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        for _ in range(200):
            if self.server.started:
                break
            time.sleep(0.01)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc):
        RELEASE.set()
        self.server.should_exit = True
        self.thread.join(10)
        RELEASE.clear()

    def connect(self, data: bytes = b"") -> socket.socket:
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        if data:
            s.sendall(data)
        return s


def read_all(s: socket.socket, timeout: float = 10.0) -> bytes:
    s.settimeout(timeout)
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    return out


def status_and_json(raw: bytes) -> tuple[int, dict]:
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b"content-type: application/json" in head.lower(), raw[:300]
    return int(head.split()[1]), json.loads(body)


GET = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
POST_HEAD = b"POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"


@pytest.mark.parametrize(
    "sent, status, words",
    [
        pytest.param(
            b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n",
            408,
            "headers did not arrive within 0.5 s",
            id="headers-never-finish",
        ),
        pytest.param(POST_HEAD + b'{"a', 408, "body did not arrive within 0.5 s", id="body-never-finishes"),
        pytest.param(b"GARBAGE\r\n\r\n", 400, "Invalid HTTP request", id="not-http"),
        pytest.param(
            b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX: " + b"a" * (2 * MAX_HEADER_BYTES),
            400,
            "headers over 16 KB",
            id="headers-too-large",
        ),
        pytest.param(
            b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header\r\n\r\n", 400, "Invalid HTTP request", id="bad-header"
        ),
    ],
)
def test_a_slow_or_malformed_request_gets_a_json_error_and_is_closed(sent, status, words):
    with Server(Limits(max_connections=16, header_timeout=0.5, body_timeout=0.5)) as server:
        s = server.connect(sent)
        got_status, body = status_and_json(read_all(s))
        assert got_status == status and words in body["error"], body


def test_a_silent_connection_is_closed_without_a_word():
    with Server(Limits(max_connections=16, header_timeout=0.3)) as server:
        assert read_all(server.connect()) == b""


def test_trickling_bytes_does_not_extend_the_deadline():
    with Server(Limits(max_connections=16, header_timeout=0.6)) as server:
        s = server.connect(b"GET / HTTP/1.1\r\n")
        sent_after_deadline = False
        for _ in range(20):  # one byte every 0.1 s, well past the deadline
            try:
                s.sendall(b"X")
            except (BrokenPipeError, ConnectionResetError):
                sent_after_deadline = True
                break
            time.sleep(0.1)
        status, body = status_and_json(read_all(s))
        assert status == 408 or sent_after_deadline, body


def test_a_kept_alive_connection_gets_a_fresh_deadline_per_request():
    with Server(Limits(max_connections=16, header_timeout=0.5)) as server:
        s = server.connect(GET)
        first = s.recv(65536)
        assert first.startswith(b"HTTP/1.1 200")
        s.sendall(b"GET / HTTP/1.1\r\n")  # the second request never finishes its headers
        status, body = status_and_json(read_all(s))
        assert status == 408


def test_past_the_cap_the_client_waiting_longest_is_closed():
    with Server(Limits(max_connections=4, header_timeout=30)) as server:
        slow = [server.connect(b"GET / HTTP/1.1\r\n") for _ in range(4)]
        time.sleep(1.2)  # past the grace a connection has before it counts as slow
        fresh = server.connect(GET)
        assert fresh.recv(65536).startswith(b"HTTP/1.1 200")
        assert read_all(slow[0], timeout=5) == b""  # the oldest was closed to make room
        for s in slow[1:]:
            s.settimeout(0.2)
            with pytest.raises(TimeoutError):
                s.recv(10)  # the others still wait


def test_when_every_connection_is_being_answered_a_new_one_gets_a_json_503():
    with Server(Limits(max_connections=2, header_timeout=30)) as server:
        held = [server.connect(b"GET /hold HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n") for _ in range(2)]
        time.sleep(0.3)
        status, body = status_and_json(read_all(server.connect(GET)))
        assert status == 503 and "too many connections" in body["error"]
        RELEASE.set()
        assert all(h.recv(65536).startswith(b"HTTP/1.1 200") for h in held)


def test_three_hundred_slow_clients_cost_one_log_line_per_cause(caplog):
    with caplog.at_level(logging.WARNING, logger="symderiv.serve"):
        with Server(Limits(max_connections=64, header_timeout=0.3)) as server:
            slow = [server.connect(b"GET / HTTP/1.1\r\n") for _ in range(300)]
            time.sleep(1.0)
            ok = server.connect(GET)
            assert ok.recv(65536).startswith(b"HTTP/1.1 200")
            for s in slow:
                s.close()
    once = OncePerInterval(60.0)  # the filter `symderiv serve` puts on its log handler
    shown = [r.getMessage() for r in caplog.records if once.filter(r)]
    assert len(caplog.records) >= 250 and len(shown) <= 3, shown  # evictions, timeouts: a line per cause


# ---- units ------------------------------------------------------------------------------------


class FakeConnection:
    def __init__(self, phase: str, since: float):
        self.phase, self.since, self.closed = phase, since, False

    def close_quietly(self):
        self.closed = True


@pytest.mark.parametrize(
    "ages, admitted, closed",
    [
        pytest.param([("headers", 5), ("body", 4), ("idle", 3)], True, None, id="under-the-cap"),
        pytest.param(
            [("answering", 9), ("headers", 5), ("idle", 4), ("body", 3)], True, 1, id="oldest-waiting-evicted"
        ),
        pytest.param([("answering", 9)] * 4, False, None, id="all-answering-refused"),
        pytest.param([("headers", 0.5)] * 4, False, None, id="all-within-their-grace-refused"),
        pytest.param([("headers", 0.5), ("headers", 0.2), ("idle", 2.0), ("answering", 9)], True, 2, id="grace-kept"),
    ],
)
def test_the_table_evicts_the_client_waiting_longest_past_its_grace(ages, admitted, closed):
    now = 100.0
    table = ConnectionTable(Limits(max_connections=4 if len(ages) == 4 else 8, header_timeout=10))
    conns = [FakeConnection(phase, now - age) for phase, age in ages]
    for c in conns:
        table.open[c] = None
    assert table.admit(FakeConnection("headers", now), now) is admitted
    assert [c.closed for c in conns] == [i == closed for i in range(len(conns))]


def make_record(msg: str, *args, exc: BaseException | None = None) -> logging.LogRecord:
    info = (type(exc), exc, None) if exc else None
    return logging.LogRecord("uvicorn.error", logging.ERROR, __file__, 1, msg, args, info)


def test_the_log_says_each_cause_once_per_interval_in_one_line():
    now = [0.0]
    once = OncePerInterval(60.0, clock=lambda: now[0])
    flood = [
        make_record("socket.accept() out of system resource", exc=OSError(24, "Too many open files"))
        for _ in range(1000)
    ]
    kept = [r for r in flood if once.filter(r)]
    assert len(kept) == 1 and "OSError" in kept[0].msg and kept[0].exc_info is None and "\n" not in kept[0].msg
    other = make_record("slow client: %s", "headers")
    assert once.filter(other) and other.getMessage() == "slow client: headers"
    now[0] = 61.0
    again = make_record("socket.accept() out of system resource", exc=OSError(24, "Too many open files"))
    assert once.filter(again) and "[and 999 more like it" in again.msg


def test_the_log_forgets_old_causes_so_memory_stays_bounded():
    once = OncePerInterval(60.0, max_causes=100)
    for i in range(1000):
        once.filter(make_record(f"cause {i}"))
    assert len(once.last) <= 100
