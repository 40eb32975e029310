"""Issue 22, item 5: the app under abuse, through Starlette's TestClient. Every error is JSON (a lone
surrogate, an internal failure, a foreign Host), any loopback address is a loopback host,
X-Forwarded-For is believed only from the configured proxies, the answer cache is bounded in bytes,
a large text cannot take the last worker from a one-line check, and the page's view is linear."""

from __future__ import annotations

import asyncio
import os
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from symderiv.answerkey.problem import load_problem
from symderiv.cli import main
from symderiv.core.errors import SymderivError
from symderiv.web import ConfigError, RateLimit, ServeConfig, create_app, parse_forwarded_allow_ips
from symderiv.web.app import AnswerCache, host_name, loopback_hosts
from symderiv.web.config import is_loopback
from symderiv.web.pool import WorkerPool
from symderiv.web.server import check_files
from symderiv.web.view import build_view

CHECK = {"problem": "softmax-2layer", "quantity": "dJ/dz3", "claim": r"\frac{1}{N}(\psi(z^{(3)}) - \Delta)"}
SOFTMAX = {"softmax-2layer": load_problem("softmax-2layer")}


def app(**settings):
    return create_app(ServeConfig(workers=1, **settings), problems=SOFTMAX)


def assert_json_error(response, status: int, words: str = ""):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert words in response.json()["error"] and "\n" not in response.json()["error"]


# ---- every error is JSON ------------------------------------------------------------------------

SURROGATE = '"\\ud800"'


@pytest.mark.parametrize(
    "path, body, words",
    [
        pytest.param(
            "/api/check",
            f'{{"problem": "softmax-2layer", "quantity": "dJ/dz3", "claim": {SURROGATE}}}',
            "claim is not valid Unicode",
            id="claim",
        ),
        pytest.param(
            "/api/check",
            f'{{"problem": "softmax-2layer", "quantity": {SURROGATE}, "claim": "x"}}',
            "quantity is not valid Unicode",
            id="quantity",
        ),
        pytest.param(
            "/api/check",
            f'{{"problem": {SURROGATE}, "quantity": "q", "claim": "x"}}',
            "problem is not valid Unicode",
            id="problem",
        ),
        pytest.param(
            "/api/grade",
            f'{{"problem": "softmax-2layer", "text": {SURROGATE}}}',
            "text is not valid Unicode",
            id="grade-text",
        ),
        pytest.param(
            "/api/view",
            '{"problem": "softmax-2layer", "text": "$$x$$ \\udfff"}',
            "text is not valid Unicode",
            id="view-text",
        ),
    ],
)
def test_a_lone_surrogate_is_a_json_400_not_a_text_500(path, body, words):
    client = TestClient(app(rate_limit=None))  # refused before any worker is needed
    response = client.post(path, content=body.encode(), headers={"content-type": "application/json"})
    assert_json_error(response, 400, words)


def test_an_internal_failure_is_a_json_500(monkeypatch):
    def broken(self, data):
        raise RuntimeError("something nobody expected")

    monkeypatch.setattr("symderiv.web.app.Api.problem", broken)
    client = TestClient(app(rate_limit=None), raise_server_exceptions=False)
    assert_json_error(client.post("/api/check", json=CHECK), 500, "RuntimeError")


# ---- hosts ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host, status",
    [
        ("127.0.0.1:8000", 200),
        ("127.0.0.2:8000", 200),
        ("127.255.255.254", 200),
        ("localhost", 200),
        ("LOCALHOST:8000", 200),
        ("[::1]:8000", 200),
        ("[0:0:0:0:0:0:0:1]", 200),
        ("evil.example:8000", 400),
        ("127.0.0.1.evil.example", 400),
        ("10.0.0.1", 400),
        ("", 400),
    ],
)
def test_a_loopback_server_answers_any_loopback_host_and_nothing_else(host, status):
    client = TestClient(create_app(ServeConfig(workers=1), SOFTMAX, allowed_hosts=loopback_hosts()))
    response = client.get("/api/problems", headers={"host": host})
    assert response.status_code == status
    if status != 200:
        assert_json_error(response, status, "this machine only")


@pytest.mark.parametrize(
    "host, loopback",
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("0:0:0:0:0:0:0:1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.5", False),
    ],
)
def test_which_hosts_are_loopback(host, loopback):
    assert ServeConfig(host=host).loopback is loopback and is_loopback(host) is loopback


@pytest.mark.parametrize(
    "header, name", [("[::1]:8000", "::1"), ("Localhost:80", "localhost"), ("127.0.0.2", "127.0.0.2"), ("[::1", "[::1")]
)
def test_host_names(header, name):
    assert host_name(header) == name


# ---- X-Forwarded-For ----------------------------------------------------------------------------


def limited(client_address: str, **settings) -> TestClient:
    return TestClient(app(rate_limit=RateLimit(1, 3600.0), **settings), client=(client_address, 40000))


@pytest.mark.parametrize(
    "proxies, connection_from, forwarded, second_is_limited",
    [
        pytest.param((), "127.0.0.1", ["10.0.0.1", "10.0.0.2"], True, id="no-proxy-configured-loopback-client"),
        pytest.param((), "192.0.2.7", ["10.0.0.1", "10.0.0.2"], True, id="no-proxy-configured-remote-client"),
        pytest.param(("127.0.0.1",), "192.0.2.7", ["10.0.0.1", "10.0.0.2"], True, id="client-is-not-the-proxy"),
        pytest.param(("127.0.0.1",), "127.0.0.1", ["10.0.0.1", "10.0.0.2"], False, id="from-the-proxy"),
        pytest.param(("127.0.0.0/8",), "127.0.0.9", ["10.0.0.1", "10.0.0.2"], False, id="from-a-proxy-network"),
        pytest.param(("127.0.0.1",), "127.0.0.1", ["10.0.0.1", "10.0.0.1"], True, id="same-client-behind-the-proxy"),
    ],
)
def test_x_forwarded_for_is_believed_only_from_configured_proxies(
    proxies, connection_from, forwarded, second_is_limited
):
    # The rate limit (1 per hour) says whom the server took each request to come from; no worker runs:
    # the quantity is unknown to the key only after the limit is passed, so 400 means "admitted".
    client = limited(connection_from, forwarded_allow_ips=proxies)
    body = {"problem": "nope", "quantity": "q", "claim": "x"}
    first = client.post("/api/check", json=body, headers={"x-forwarded-for": forwarded[0]})
    second = client.post("/api/check", json=body, headers={"x-forwarded-for": forwarded[1]})
    assert first.status_code == 404
    assert second.status_code == (429 if second_is_limited else 404)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", ()),
        ("127.0.0.1", ("127.0.0.1",)),
        ("10.0.0.5, 192.168.0.0/16", ("10.0.0.5", "192.168.0.0/16")),
        ("::1", ("::1",)),
    ],
)
def test_forwarded_allow_ips_are_read(text, expected):
    assert parse_forwarded_allow_ips(text) == expected


@pytest.mark.parametrize("text", ["*", "proxy.example", "10.0.0.300", "1.2.3.4/99"])
def test_bad_forwarded_allow_ips_name_themselves(text):
    with pytest.raises(ConfigError, match="--forwarded-allow-ips"):
        parse_forwarded_allow_ips(text)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--max-connections", "0"], "--max-connections 0: must be between 1 and 10000"),
        (["--header-timeout", "0"], "--header-timeout 0: must be above 0"),
        (["--header-timeout", "nan"], "--header-timeout nan: must be above 0"),
        (["--body-timeout", "1e9"], "--body-timeout 1e+09: must be above 0 and at most 600 s"),
        (["--forwarded-allow-ips", "everyone"], "--forwarded-allow-ips 'everyone': not an IP address"),
    ],
)
def test_serve_refuses_bad_guard_settings_in_one_line(capsys, argv, message):
    assert main(["serve", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err


# ---- the answer cache -------------------------------------------------------------------------------


def test_the_answer_cache_is_bounded_in_bytes():
    cache = AnswerCache(max_bytes=100_000)
    big = {"lines": ["x" * 1000] * 10}  # ~10 KB of JSON each
    for i in range(100):
        cache.put(("view", "p", f"text {i}" + "y" * 200_000), big)
    assert cache.bytes <= 100_000 and 5 <= len(cache.entries) <= 10
    assert all(len(k) == 32 for k in cache.entries)  # keys are hashes, not 200 KB texts
    assert cache.get(("view", "p", "text 99" + "y" * 200_000)) == big
    assert cache.get(("view", "p", "text 0" + "y" * 200_000)) is None  # the oldest went first


def test_an_answer_too_large_for_the_cache_is_not_kept():
    cache = AnswerCache(max_bytes=80_000)
    cache.put(("view", "p", "t"), {"x": "y" * 20_000})
    assert cache.get(("view", "p", "t")) is None and cache.bytes == 0


@settings(max_examples=50, deadline=None)
@given(sizes=st.lists(st.integers(0, 5000), max_size=60))
def test_the_cache_never_holds_more_than_its_bytes(sizes):
    cache = AnswerCache(max_bytes=20_000)
    for i, n in enumerate(sizes):
        cache.put(("check", str(i % 7)), {"v": "z" * n})
        assert cache.bytes <= 20_000 and cache.bytes == sum(size for _, size in cache.entries.values())


# ---- a one-line check is never starved by large texts -----------------------------------------------


def test_large_texts_cannot_take_the_last_worker_from_a_check():
    async def scenario():
        pool = WorkerPool(size=2, time_limit=30.0, queue_wait=0.5)
        await pool.start()
        try:
            heavy = [asyncio.ensure_future(pool.run(time.sleep, 3, heavy=True)) for _ in range(2)]
            await asyncio.sleep(0.3)
            pid = await asyncio.wait_for(pool.run(os.getpid), 2.0)  # answered while both large jobs wait or run
            results = await asyncio.gather(*heavy, return_exceptions=True)
            return pid, results
        finally:
            pool.close()

    pid, results = asyncio.run(scenario())
    assert pid > 0
    assert sum(r is None for r in results) == 1 and "busy" in str(results[1] if results[0] is None else results[0])


# ---- the page's view is linear in the text ----------------------------------------------------------


class Counted(dict):
    reads = 0

    def __getitem__(self, key):
        Counted.reads += 1
        return super().__getitem__(key)

    def get(self, key, default=None):
        Counted.reads += 1
        return super().get(key, default)


def view_reads(lines: int) -> int:
    """How many times build_view reads a field of the report's steps and parts, for a text of `lines` math lines."""
    text = "\n".join(f"$$a_{i} = b_{i} = c_{i}$$" for i in range(1, lines + 1))
    steps = [Counted(line=i, ok=i % 3 > 0, message=f"step {i}", left="a", right="b") for i in range(1, lines + 1)]
    parts = [
        Counted(
            quantity=f"q{i}", verdict="correct", line=i * lines // 5, feedback="ok", points=1, max_points=1, claim=""
        )
        for i in range(1, 6)
    ]
    Counted.reads = 0
    view = build_view({"steps": steps, "parts": parts}, text)
    assert len(view["lines"]) == lines
    return Counted.reads


def test_the_view_reads_each_step_and_part_a_bounded_number_of_times():
    # Before, each line scanned every step: 4k/8k/16k lines took 0.5/1.7/5.2 s. Counted, not timed.
    small, large = view_reads(200), view_reads(800)
    assert large <= 4.4 * small, (small, large)


# ---- the open-files limit -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "soft, hard, raised_to, refused",
    [
        pytest.param(1024, 1024, None, False, id="enough"),
        pytest.param(256, 1_048_576, 512 + 256 + 32 + 64, False, id="raised-as-far-as-needed"),
        pytest.param(256, 300, 300, True, id="hard-limit-too-low"),
    ],
)
def test_the_connection_cap_fits_the_open_files_limit(monkeypatch, soft, hard, raised_to, refused):
    calls = []
    monkeypatch.setattr("symderiv.web.server.resource.getrlimit", lambda which: (soft, hard))
    monkeypatch.setattr("symderiv.web.server.resource.setrlimit", lambda which, limits: calls.append(limits))
    config = ServeConfig(max_connections=512, workers=2)
    if refused:
        with pytest.raises(SymderivError, match=r"--max-connections 512: this process may open only 300 files"):
            check_files(config)
    else:
        check_files(config)
    assert calls == ([] if raised_to is None else [(raised_to, hard)])
