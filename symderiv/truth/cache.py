"""A small on-disk cache of symbolic results, shared by processes (`grade --jobs`) and runs.

Entries are keyed by the claim, the answer-key file's bytes and the source of the modules
that compute the result, so an edited answer key or a new version of symderiv never reads a
stale entry. SYMDERIV_CACHE=0 turns it off; SYMDERIV_CACHE_DIR moves it.
"""
from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path


def _enabled() -> bool:
    return os.environ.get("SYMDERIV_CACHE", "1") != "0"


@lru_cache(maxsize=1)
def _directory() -> Path | None:
    base = os.environ.get("SYMDERIV_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "symderiv")
    try:
        Path(base).mkdir(parents=True, exist_ok=True)
        return Path(base)
    except OSError:
        return None


@lru_cache(maxsize=1)
def _code_version() -> str:
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


def _file(problem, key) -> Path | None:
    directory = _directory() if _enabled() else None
    if directory is None:
        return None
    text = repr((_code_version(), _problem_version(problem.path), key))
    return directory / (hashlib.sha256(text.encode()).hexdigest() + ".json")


def load(problem, key):
    path = _file(problem, key)
    if path is None or not path.exists():
        return None
    try:
        return tuple(json.loads(path.read_text()))
    except (OSError, ValueError):
        return None


def store(problem, key, value) -> None:
    path = _file(problem, key)
    if path is None:
        return
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(list(value)))
        os.replace(tmp, path)          # atomic: a concurrent reader sees all or nothing
    except OSError:
        pass
