"""An on-disk cache of exact-check results, shared by processes (`grade --jobs`) and runs.

What it stores, and why it cannot lie:
- Only definitive results: ``store`` accepts ("equal" | "different", detail, sizes, seconds)
  and nothing else, so an error, a timeout or a lost worker is never remembered.
- Entries are validated on read: anything of another shape, or any failure of the store
  (a corrupt database, a FIFO or a symlink where its files belong, a lock held too long), is a
  miss, never an exception or a hang.
- Writes are SQLite transactions (diskcache): atomic, with no temporary files of ours; the
  directory is created private (0700) and refused when it is a symlink or not ours. SQLite
  refuses a symlink or a FIFO at its database and journal paths (an error, hence a miss).
- Bounded: at most ``SIZE_LIMIT`` bytes; the oldest entries are evicted first.

Keys cover the claim, the answer-key file's bytes and the source of every module of the
package, so an edited answer key or a new version of symderiv never reads a stale entry.
SYMDERIV_CACHE=0 turns it off; SYMDERIV_CACHE_DIR moves it.
"""

from __future__ import annotations

import hashlib
import os
import stat
import threading
from functools import lru_cache
from pathlib import Path

import diskcache

__all__ = ["load", "store", "SIZE_LIMIT", "STATUSES"]

SIZE_LIMIT = 64 * 2**20
STATUSES = ("equal", "different")
LOCK_SECONDS = 2.0  # SQLite's busy timeout: a writer that holds the lock longer costs a miss

_opened: dict[tuple[int, Path], diskcache.Cache | None] = {}
_lock = threading.Lock()


def _enabled() -> bool:
    return os.environ.get("SYMDERIV_CACHE", "1") != "0"


def _base() -> Path:
    return Path(
        os.environ.get("SYMDERIV_CACHE_DIR")
        or os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "symderiv")
    )


def _private_directory(path: Path) -> bool:
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid()


def _cache() -> diskcache.Cache | None:
    """This process's handle on this directory (SQLite connections do not survive a fork), or None
    when the store is unusable."""
    base = _base() / "v2"
    where = (os.getpid(), base)
    with _lock:
        if where not in _opened:
            handle = None
            if _private_directory(base):
                try:
                    handle = diskcache.Cache(
                        str(base),
                        size_limit=SIZE_LIMIT,
                        timeout=LOCK_SECONDS,
                        eviction_policy="least-recently-stored",
                        disk_min_file_size=2**30,
                    )  # every value inside SQLite
                except Exception:  # a corrupt or tampered store: run without it
                    handle = None
            _opened.clear()
            _opened[where] = handle
        return _opened[where]


@lru_cache(maxsize=1)
def code_version() -> str:
    """Every source file of the package and the grammar: any change to symderiv is a new cache."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")) + sorted(package.rglob("*.lark")):
        digest.update(str(path.relative_to(package)).encode() + path.read_bytes())
    return digest.hexdigest()[:16]


@lru_cache(maxsize=64)
def _problem_version(path: str) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]
    except OSError:
        return "unknown"


def _key(problem, key) -> str:
    return hashlib.sha256(repr((code_version(), _problem_version(problem.path), key)).encode()).hexdigest()


def valid(value) -> bool:
    """The shape of a stored result: (status, detail, sizes, seconds, witness) with a definitive
    status, the witness a list of (symbol, number) pairs."""
    return (
        isinstance(value, (list, tuple))
        and len(value) == 5
        and value[0] in STATUSES
        and isinstance(value[1], str)
        and isinstance(value[2], str)
        and isinstance(value[3], (int, float))
        and not isinstance(value[3], bool)
        and isinstance(value[4], (list, tuple))
        and all(
            isinstance(pair, (list, tuple))
            and len(pair) == 2
            and isinstance(pair[0], str)
            and isinstance(pair[1], (int, float))
            and not isinstance(pair[1], bool)
            for pair in value[4]
        )
    )


def load(problem, key) -> tuple | None:
    """The stored result, or None (a miss) for anything absent, malformed or unreadable."""
    handle = _cache() if _enabled() else None
    if handle is None:
        return None
    try:
        value = handle.get(_key(problem, key), default=None, retry=False)
    except Exception:  # whatever is wrong with the store, the answer is "not known"
        return None
    if not valid(value):
        return None
    return tuple(value[:4]) + (tuple((str(name), float(x)) for name, x in value[4]),)


def store(problem, key, value) -> None:
    """Remember a definitive result; anything else is ignored, and so is a store that fails."""
    handle = _cache() if _enabled() else None
    if handle is None or not valid(value):
        return
    try:
        handle.set(_key(problem, key), list(value), retry=False)
    except Exception:
        pass
