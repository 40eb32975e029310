"""Per-key work done once: the symbolic set-up of every quantity of an answer key.

Everything the exact check needs that depends only on the key (the symbol matrices, the
network written out on them, the exact truth of each quantity under each reading and layer
binding, and the δ and ∂C/∂a atoms) is built once per key and version of symderiv, outside
any claim's time limit, and kept on disk so that every process (``grade --jobs``, Dask
workers on the same machine) and every later run loads it in milliseconds instead of
differentiating again. A claim's worker then only evaluates the claim and compares.

- ``ensure_prepared(problem)``: called before a claim's time limit starts; builds the key's
  set-up in a worker under its own, generous limit (``PREPARE_TIMEOUT``) when it is not on
  disk yet. Concurrent processes wait for the one that builds it (a file lock) instead of
  building it again.
- ``setup(problem, quantity, reading, bindings)``: what the claim's worker uses: this
  process's memo, else the key's file, else built here (with the cache off, or a new key).

The file is named by the key file's bytes and symderiv's source (as the result cache is), in
``SYMDERIV_CACHE_DIR/prepared`` (default ``~/.cache/symderiv/prepared``), a directory only
its owner may write (it holds pickles). ``SYMDERIV_CACHE=0`` keeps the set-up in memory only.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import os
import pickle
import re
import stat
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from symderiv.answerkey.problem import Problem, Quantity
from symderiv.core.errors import SymderivError
from symderiv.core.tree import Deriv, Sym
from symderiv.evaluation.backends import SympyBackend
from symderiv.evaluation.interpret import DELTA_PREFIX, GRADIENT_PREFIX, Ref
from symderiv.notation.parse import parse_lenient
from symderiv.runtime.cache import code_version
from symderiv.runtime.limits import TimedOut, WorkerLost, run_limited
from symderiv.truth.reference import layer_bindings, readings_for
from symderiv.truth.symbolic import symbolic_setup, sympy_backend

__all__ = [
    "PREPARE_TIMEOUT",
    "Preparation",
    "ensure_prepared",
    "prepare",
    "setup",
    "prepared_path",
    "forget",
    "record",
    "recorded",
]

PREPARE_TIMEOUT = 600.0  # seconds for a key's whole set-up (mlp-general: about 10 s)
FORMAT = 1  # of the file's contents
KEEP = 8  # files kept per key id (other versions of symderiv or of the key)

_tables: dict[str, dict] = {}  # fingerprint -> {(quantity id, reading, bindings): set-up}
_complete: set[str] = set()  # fingerprints whose whole key is in _tables


@dataclass(frozen=True)
class Preparation:
    problem: str
    setups: int
    seconds: float
    source: str  # "built", "disk" or "memory"
    path: str | None = None


def forget() -> None:
    """Drop this process's memo (the files stay): the next use reads the disk."""
    _tables.clear()
    _complete.clear()


def transposed(M):
    return M.T


def unchanged(M):
    return M


# ------------------------------------------------------------------------------ where it lives


def _enabled() -> bool:
    return os.environ.get("SYMDERIV_CACHE", "1") != "0"


def _directory() -> Path | None:
    base = (
        Path(
            os.environ.get("SYMDERIV_CACHE_DIR")
            or os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "symderiv")
        )
        / "prepared"
    )
    try:
        base.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.lstat(base)
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o022:
        return None  # a symlink, someone else's, or writable by others: never unpickle from it
    return base


@lru_cache(maxsize=64)
def fingerprint(problem: Problem) -> str:
    try:
        key_bytes = Path(problem.path).read_bytes()
    except (OSError, TypeError):
        key_bytes = repr(problem).encode()
    return hashlib.sha256(code_version().encode() + b"\0" + key_bytes).hexdigest()[:24]


def prepared_path(problem: Problem) -> Path | None:
    directory = _directory() if _enabled() else None
    return None if directory is None else directory / f"{problem.id}-{fingerprint(problem)}.pickle"


def recorded(problem: Problem, what: str) -> str | None:
    """A one-line note kept for this version of the key and of symderiv (`serve`'s verification of
    the key): None when there is none."""
    path = prepared_path(problem)
    if path is None:
        return None
    try:
        fd = os.open(path.with_suffix(f".{what}"), os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            return None
        with os.fdopen(fd, "r", encoding="utf-8") as handle:
            return handle.read(2000)
    except (OSError, UnicodeDecodeError):
        return None


def record(problem: Problem, what: str, text: str) -> None:
    """Keep a one-line note for this version of the key (written whole, never through a link)."""
    path = prepared_path(problem)
    if path is None:
        return
    target = path.with_suffix(f".{what}")
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text[:2000])
        os.replace(tmp, target)
    except OSError:
        pass


# ------------------------------------------------------------------------------ the file


class _Pickler(pickle.Pickler):
    def persistent_id(self, obj):  # the SymPy backend holds the sympy module: stored by name
        return "sympy-backend" if isinstance(obj, SympyBackend) else None


class _Unpickler(pickle.Unpickler):
    def persistent_load(self, pid):
        if pid != "sympy-backend":
            raise pickle.UnpicklingError(f"unknown reference {pid!r}")
        return sympy_backend()


def _write(path: Path, table: dict) -> None:
    rows = {key: (net, env, reference, flip is transposed) for key, (net, env, reference, flip) in table.items()}
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump((FORMAT, rows))
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(buffer.getvalue())
    os.replace(tmp, path)  # atomic: a reader sees all of it or none
    _prune(path)


def _prune(path: Path) -> None:
    """Bounded: the newest KEEP files of this key id stay, older versions go."""
    stem = path.name.rsplit("-", 1)[0]
    mine = re.compile(re.escape(stem) + r"-[0-9a-f]{24}\.pickle")
    try:
        versions = sorted(
            (f for f in path.parent.iterdir() if mine.fullmatch(f.name)), key=lambda f: f.stat().st_mtime, reverse=True
        )
        for old in versions[KEEP:]:
            old.unlink(missing_ok=True)
            old.with_suffix(".lock").unlink(missing_ok=True)
    except OSError:
        pass


def _read(path: Path | None) -> dict | None:
    if path is None:
        return None
    try:
        # never follow a symlink nor wait on a FIFO planted at the path: only a regular file is read
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            return None
        with os.fdopen(fd, "rb") as handle:
            version, rows = _Unpickler(handle).load()
    except Exception:  # absent, partial or from another version: built again
        return None
    if version != FORMAT or not isinstance(rows, dict):
        return None
    return {
        key: (net, env, reference, transposed if flips else unchanged)
        for key, (net, env, reference, flips) in rows.items()
    }


# ------------------------------------------------------------------------------ building


def _entries(problem: Problem):
    for quantity in problem.quantities:
        if quantity.kind == "value":
            continue
        for reading in readings_for(problem, quantity):
            for bindings in layer_bindings(quantity):
                yield quantity, reading, tuple(sorted(bindings.items()))


def _build(problem: Problem, quantity: Quantity, reading: str, bindings_items: tuple):
    net, env, reference, flip = symbolic_setup(problem, quantity, reading, bindings_items)
    return net, env, reference, transposed if flip(_probe()).shape == (2, 1) else unchanged


@lru_cache(maxsize=1)
def _probe():
    return sympy_backend().sp.Matrix([[1, 2]])


def _atom_refs(problem: Problem) -> list[Ref]:
    """The δ^{(l)} of every layer and the open derivatives (∂C/∂a^{(L)}) when the key's own claims
    use such atoms: a student may write them for any layer, so they are worked out once here."""
    trees = []
    for quantity in problem.quantities:
        try:
            trees.append(parse_lenient(quantity.claim).tree)
        except (SymderivError, RecursionError):
            continue
    model = problem.model
    refs = []
    letter = model.delta_letter("delta")
    if letter is not None and any(isinstance(n, Sym) and n.name == "delta" for t in trees for n in t.walk()):
        refs += [Ref(DELTA_PREFIX + sid) for sid in model.family(letter).values() if model.defined(sid)]
    if any(isinstance(n, Deriv) for t in trees for n in t.walk()):
        for of in model.open_derivatives:
            refs += [Ref(f"{GRADIENT_PREFIX}{of}:{v}") for v in sorted(model.ids_in(model.equation(of).rhs))]
    return refs


def _with_atoms(entry, refs) -> None:
    _truth, env, _, _flip = entry
    for ref in refs:
        try:
            env.atom(ref)
        except (SymderivError, KeyError, ValueError):
            continue  # an atom this reading or layer does not have


def prepare(problem: Problem) -> Preparation:
    """Build (or load) the whole key's set-up in this process; store it on disk."""
    start = time.perf_counter()
    key = fingerprint(problem)
    if key in _complete:
        return Preparation(problem.id, len(_tables[key]), time.perf_counter() - start, "memory")
    path = prepared_path(problem)
    lock = None
    if path is not None:
        lock = os.fdopen(os.open(path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600), "r+")
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process building it: wait for its file
    try:
        table = _read(path)
        source = "disk"
        if table is None:
            source = "built"
            refs = _atom_refs(problem)
            table = dict(_tables.get(key, {}))
            for quantity, reading, bindings in _entries(problem):
                entry = (quantity.id, reading, bindings)
                if entry not in table:
                    table[entry] = _build(problem, quantity, reading, bindings)
                _with_atoms(table[entry], refs)
            if path is not None:
                try:
                    _write(path, table)
                except (OSError, pickle.PicklingError, TypeError, AttributeError):
                    pass  # kept in memory only
        _tables[key] = table
        _complete.add(key)
    finally:
        if lock is not None:
            lock.close()
    return Preparation(problem.id, len(table), time.perf_counter() - start, source, None if path is None else str(path))


def _prepare_in_worker(problem: Problem) -> None:
    prepare(problem)


def ensure_prepared(problem: Problem, timeout: float = PREPARE_TIMEOUT) -> bool:
    """Before a claim's time limit: the key's set-up exists on disk (or in the worker's memory).
    False when it could not be built within ``timeout`` seconds of CPU time (or failed): each
    claim's own check then builds what it needs, under its own limit, and reports any failure."""
    key = fingerprint(problem)
    if key in _complete:
        return True
    path = prepared_path(problem)
    if path is not None and path.exists():
        return True
    try:
        outcome = run_limited(_prepare_in_worker, (problem,), timeout)
    except Exception:
        return False
    return not isinstance(outcome, (TimedOut, WorkerLost))


def setup(problem: Problem, quantity: Quantity, reading: str, bindings_items: tuple):
    """(network, env, reference, flip) for the exact check, as symbolic_setup returns it."""
    key = fingerprint(problem)
    table = _tables.get(key)
    if table is None:
        table = _read(prepared_path(problem)) or {}
        _tables[key] = table
        if table:
            _complete.add(key)
    entry = (quantity.id, reading, bindings_items)
    if entry not in table:
        table[entry] = _build(problem, quantity, reading, bindings_items)
    return table[entry]
