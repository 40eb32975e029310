"""Time limits that work off the main thread: the work runs in a worker process.

A SymPy simplification can run for minutes; ``run_limited`` gives up after the
limit, kills the worker (the next call starts a fresh one) and returns a
``TimedOut`` marker instead of raising, so a timeout becomes a reported verdict.

>>> run_limited(pow, (2, 10), timeout=30)
1024
"""
from __future__ import annotations

import atexit
import concurrent.futures as cf
import multiprocessing
import multiprocessing.util
import os
from dataclasses import dataclass

_pool: cf.ProcessPoolExecutor | None = None
_pool_pid: int | None = None


@dataclass(frozen=True)
class TimedOut:
    seconds: float


def _executor() -> cf.ProcessPoolExecutor:
    global _pool, _pool_pid
    if _pool is None or _pool_pid != os.getpid():
        context = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")
        _pool = cf.ProcessPoolExecutor(max_workers=1, mp_context=context)
        _pool_pid = os.getpid()
        # When this process is itself a pool worker (grade --jobs), multiprocessing joins its
        # children at exit and would wait forever on the idle SymPy worker: stop it first.
        # Finalizers with an exit priority run before that join; atexit covers the main process.
        multiprocessing.util.Finalize(None, _discard_pool, exitpriority=100)
        atexit.register(_discard_pool)
    return _pool


def _discard_pool() -> None:
    global _pool
    if _pool is not None and _pool_pid == os.getpid():
        for proc in list(getattr(_pool, "_processes", {}).values()):
            proc.kill()
        _pool.shutdown(wait=False, cancel_futures=True)
    _pool = None


def run_limited(fn, args: tuple, timeout: float):
    """fn(*args) in the worker process; TimedOut(timeout) if it takes longer."""
    future = _executor().submit(fn, *args)
    try:
        return future.result(timeout=timeout)
    except cf.TimeoutError:
        _discard_pool()
        return TimedOut(timeout)
    except cf.process.BrokenProcessPool:
        _discard_pool()
        raise
