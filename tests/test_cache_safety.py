"""Issue 10: a cache that cannot lie. Only definitive results are stored; a tampered store is a
miss, never an exception, a hang or a write through a symlink."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import diskcache
import pytest

from symderiv.answerkey.problem import load_problem
from symderiv.runtime import cache

ROOT = Path(__file__).resolve().parent.parent
PROBLEM = load_problem("softmax-2layer")
KEY = ("a claim", "columns")
GOOD = ("different", "entry (1,1) differs", "N=2, D=3, H=4, C=5", 0.5, (("mW1_11", 0.5), ("s0_1", 1.0)))


@pytest.fixture
def store_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMDERIV_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("SYMDERIV_CACHE", raising=False)
    return tmp_path / "v2"


@pytest.mark.parametrize(
    "value, kept",
    [
        pytest.param(GOOD, True, id="different"),
        pytest.param(("equal", "simplifies to 0", "", 1.0, ()), True, id="equal"),
        pytest.param(
            ("error", "BrokenProcessPool: daemonic processes are not allowed", "", 0.1, ()), False, id="error"
        ),
        pytest.param(("timeout", "SymPy did not finish within 5 s", "", 5.0, ()), False, id="timeout"),
        pytest.param(("skipped", "", "", 0.0, ()), False, id="skipped"),
        pytest.param(("equal", "x", ""), False, id="short"),
        pytest.param(("equal", "x", "", 1.0), False, id="no-witness-field"),
        pytest.param(("different", "x", "", 1.0, (("a", "b"),)), False, id="witness-not-numbers"),
    ],
)
def test_only_definitive_results_are_stored(store_dir, value, kept):
    cache.store(PROBLEM, KEY, value)
    assert cache.load(PROBLEM, KEY) == (value if kept else None)


def _plant(store_dir, raw):
    """Put a raw value under KEY, bypassing store()'s checks (as a tamperer would)."""
    cache.store(PROBLEM, ("warm-up",), GOOD)  # create the store
    with diskcache.Cache(str(store_dir)) as handle:
        handle.set(cache._key(PROBLEM, KEY), raw)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param({"status": "equal"}, id="dict"),
        pytest.param(["equal", 1, 2, 3], id="wrong-types"),
        pytest.param("equal", id="string"),
        pytest.param(["timeout", "x", "", 1.0], id="non-definitive"),
        pytest.param(None, id="null"),
        pytest.param(["equal", "x", "", True], id="bool-seconds"),
        pytest.param(b"\x00\xff", id="bytes"),
    ],
)
def test_a_wrong_shape_is_a_miss(store_dir, raw):
    _plant(store_dir, raw)
    assert cache.load(PROBLEM, KEY) is None


def _fresh_process(code: str, env_dir: Path) -> subprocess.CompletedProcess:
    """Run code in a fresh process (a hang would stop at the timeout and fail the test)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), SYMDERIV_CACHE_DIR=str(env_dir))
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True, timeout=120
    )


USE_CACHE = """
from symderiv.runtime import cache
from symderiv.answerkey.problem import load_problem
p = load_problem("softmax-2layer")
cache.store(p, ("k",), ("equal", "d", "s", 1.0, ()))
print(cache.load(p, ("k",)))
"""


@pytest.mark.parametrize("name", ["cache.db", "cache.db-wal", "cache.db-shm", "cache.db-journal"])
@pytest.mark.parametrize("kind", ["fifo", "symlink", "garbage"])
def test_tampered_files_are_a_miss_and_never_followed(tmp_path, name, kind):
    store = tmp_path / "v2"
    store.mkdir(mode=0o700)
    victim = tmp_path / "victim.txt"
    victim.write_text("do not touch")
    entry = store / name
    if kind == "fifo":
        os.mkfifo(entry)
    elif kind == "symlink":
        entry.symlink_to(victim)
    else:
        entry.write_bytes(b"\x00garbage" * 100)
    done = _fresh_process(USE_CACHE, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() in ("None", "('equal', 'd', 's', 1.0, ())")
    assert victim.read_text() == "do not touch"


@pytest.mark.parametrize("make", ["symlink", "file"])
def test_a_store_directory_that_is_not_ours_is_not_used(tmp_path, make):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    if make == "symlink":
        (tmp_path / "v2").symlink_to(elsewhere)
    else:
        (tmp_path / "v2").write_text("not a directory")
    done = _fresh_process(USE_CACHE, tmp_path)
    assert done.returncode == 0 and done.stdout.strip() == "None", done.stderr
    assert list(elsewhere.iterdir()) == []


def test_the_store_is_bounded(store_dir):
    cache.store(PROBLEM, KEY, GOOD)
    handle = cache._cache()
    assert handle is not None and handle.size_limit == cache.SIZE_LIMIT
    assert oct(os.stat(store_dir).st_mode & 0o777) == "0o700"


PREPARED_FIFO = """
import os
from symderiv.truth.prepared import prepared_path
from symderiv.answerkey.problem import load_problem
from symderiv.judging.check import check_claim
path = prepared_path(load_problem("softmax-2layer"))
os.mkfifo(path)
v = check_claim("softmax-2layer", "dJ/dz3", r"\\frac{1}{N}(\\psi(z^{(3)}) - \\Delta) + 10^{-20}")
print(v.verdict, v.symbolic.status)
"""


def test_a_fifo_at_the_prepared_set_up_is_not_waited_on(tmp_path):
    done = _fresh_process(PREPARED_FIFO, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["incorrect", "different"]
