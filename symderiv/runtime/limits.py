"""Time limits for work that may not finish (SymPy), in worker processes that cannot outlive us.

``run_limited(fn, args, timeout)`` runs fn(*args) in a worker process and returns its value,
``TimedOut`` when it used more than ``timeout`` seconds of CPU time (or, as a backstop, far
more wall time), or ``WorkerLost`` when the worker died. It never raises for a limit or a
lost worker; an exception raised by fn is raised again here.

- CPU time, not wall time: the worker arms ITIMER_PROF, which counts only its own CPU time,
  so two busy processes beside it do not turn a finished check into a timeout. The wall
  backstop (``WALL_FACTOR`` x timeout + ``WALL_GRACE``) only catches a worker that is stuck
  without using the CPU.
- Threads: each call takes a worker of its own (idle ones are kept for reuse, so the SymPy
  set-up that a worker memoises is reused), and a timeout kills that worker only; another
  thread's check is never touched.
- Daemonic pools: workers are made with os.fork, not multiprocessing, so a check also runs
  inside a multiprocessing.Pool worker (which may not have multiprocessing children).
- No orphans: every worker asks the kernel for SIGKILL when its parent dies
  (prctl PR_SET_PDEATHSIG) and also watches its parent's pid from a thread, as a fallback
  where prctl is missing; ``die_with_parent()`` does both for any process.

>>> run_limited(pow, (2, 10), timeout=30)
1024
"""

from __future__ import annotations

import atexit
import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time
import warnings
from dataclasses import dataclass
from multiprocessing.connection import Connection, Pipe

__all__ = [
    "TimedOut",
    "WorkerLost",
    "Pending",
    "run_limited",
    "start_limited",
    "die_with_parent",
    "fork_serving",
    "WALL_FACTOR",
    "WALL_GRACE",
]

WALL_FACTOR = 4.0  # wall-clock backstop: this many times the CPU limit ...
WALL_GRACE = 10.0  # ... plus this many seconds
MAX_IDLE = 2  # idle workers kept for reuse
PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class TimedOut:
    seconds: float
    reason: str = ""

    def __str__(self) -> str:
        return self.reason or f"did not finish within {self.seconds:g} s of CPU time"


@dataclass(frozen=True)
class WorkerLost:
    reason: str

    def __str__(self) -> str:
        return self.reason


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(1)


def die_with_parent(parent: int | None = None) -> None:
    """End this process when its parent dies, however it dies: SIGKILL from the kernel on Linux,
    and a watchdog thread comparing the parent's pid as a fallback (and for other systems)."""
    parent = os.getppid() if parent is None else parent
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the request was made
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True, name="symderiv-parent-watch").start()


class _CpuLimit(BaseException):
    """Raised in the worker by SIGPROF: its CPU time is used up."""


def _on_cpu_limit(signum, frame):
    raise _CpuLimit()


def _serve(conn: Connection, parent: int) -> None:
    die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # ^C is the parent's to handle
    signal.signal(signal.SIGPROF, _on_cpu_limit)
    while True:
        try:
            fn, args, timeout = conn.recv()
        except (EOFError, OSError):
            return
        try:
            signal.setitimer(signal.ITIMER_PROF, timeout)
            outcome = ("ok", fn(*args))
        except _CpuLimit:
            outcome = ("timeout", None)
        except BaseException as exc:  # reported to the caller, who decides what it means
            outcome = ("raised", exc)
        finally:
            signal.setitimer(signal.ITIMER_PROF, 0)
        try:
            conn.send(outcome)
        except Exception as exc:  # an unpicklable value or exception: say what it was
            conn.send(("raised", RuntimeError(f"{type(exc).__name__}: {exc}"[:300])))
        if outcome[0] == "timeout":  # interrupted mid-computation: do not reuse this state
            return


_FORK_LOCK = threading.Lock()  # one fork at a time, so no child inherits another's pipe end


def fork_serving(serve) -> tuple[int, Connection]:
    """Fork a process that runs ``serve(its pipe end, this pid)`` and exits when it returns (1 if it
    raised); return its pid and this side's pipe end. os.fork, not multiprocessing: it works in a
    daemonic process too (a multiprocessing.Pool worker, a Dask worker)."""
    parent = os.getpid()
    with _FORK_LOCK:
        parent_end, child_end = Pipe()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # fork in a threaded process
            pid = os.fork()
        if pid == 0:
            code = 0
            try:
                parent_end.close()
                serve(child_end, parent)
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        child_end.close()
    return pid, parent_end


class _Worker:
    def __init__(self):
        self.pid, self.conn = fork_serving(_serve)
        self.owner = os.getpid()

    def alive(self) -> bool:
        try:
            return os.waitpid(self.pid, os.WNOHANG) == (0, 0)
        except ChildProcessError:
            return False

    def kill(self) -> str:
        """Kill and reap the worker; a description of how it ended."""
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            _, status = os.waitpid(self.pid, 0)
        except ChildProcessError:
            status = None
        self.conn.close()
        if status is None:
            return "ended"
        if os.WIFSIGNALED(status):
            return f"was killed by signal {os.WTERMSIG(status)}"
        return f"exited with code {os.waitstatus_to_exitcode(status)}"


_idle: list[_Worker] = []
_lock = threading.Lock()


def _checkout() -> _Worker:
    with _lock:
        while _idle:
            worker = _idle.pop()
            if worker.owner == os.getpid() and worker.alive():
                return worker
            worker.kill()
    return _Worker()


def _checkin(worker: _Worker) -> None:
    with _lock:
        if len(_idle) < MAX_IDLE and worker.owner == os.getpid():
            _idle.append(worker)
            return
    worker.kill()


def _discard_all() -> None:
    with _lock:
        workers, _idle[:] = list(_idle), []
    for worker in workers:
        if worker.owner == os.getpid():
            worker.kill()


def _forget_in_child() -> None:
    """A forked process does not own its parent's workers, nor its locks: a child of fork_serving
    is forked while _FORK_LOCK is held, and must be able to fork workers of its own."""
    global _lock, _FORK_LOCK
    _lock = threading.Lock()
    _FORK_LOCK = threading.Lock()
    for worker in _idle:
        try:
            worker.conn.close()
        except OSError:
            pass
    _idle.clear()


os.register_at_fork(after_in_child=_forget_in_child)
atexit.register(_discard_all)


class Pending:
    """A call started in a worker of its own (``start_limited``); ``result()`` waits for it."""

    def __init__(self, fn, args: tuple, timeout: float):
        self.fn, self.args, self.timeout = fn, args, timeout
        self.outcome = None  # set once, by result()
        self.attempts = 0
        self.worker: _Worker | None = None
        self._send()

    def _send(self) -> None:
        """To a worker; a second try when the first fails (an idle worker may have died meanwhile,
        e.g. when the thread that made it ended)."""
        self.worker = None
        while self.attempts < 2 and self.worker is None:
            self.attempts += 1
            self.started = time.monotonic()
            worker = _checkout()
            try:
                worker.conn.send((self.fn, self.args, self.timeout))
                self.worker = worker
            except (EOFError, OSError):
                worker.kill()

    def result(self):
        """fn(*args): its value, TimedOut or WorkerLost (an exception fn raised is raised here)."""
        if self.outcome is None:
            self.outcome = self._wait()
        status, value = self.outcome
        if status == "raised":
            raise value
        return value

    def _wait(self) -> tuple[str, object]:
        timeout, wall = self.timeout, WALL_FACTOR * self.timeout + WALL_GRACE
        while True:
            worker = self.worker
            if worker is None:
                return "value", WorkerLost("no worker process could be started")
            try:
                if not worker.conn.poll(max(0.0, wall - (time.monotonic() - self.started))):
                    worker.kill()
                    reason = f"did not finish within {wall:g} s of wall-clock time (the CPU limit is {timeout:g} s)"
                    return "value", TimedOut(timeout, reason)
                status, value = worker.conn.recv()
            except (EOFError, OSError):
                how = worker.kill()
                if self.attempts < 2:  # as at send: the worker may have died before it began
                    self._send()
                    continue
                return "value", WorkerLost(f"the worker process {how}")
            if status == "timeout":
                worker.kill()
                return "value", TimedOut(timeout)
            _checkin(worker)
            return status, value


def start_limited(fn, args: tuple, timeout: float) -> Pending:
    """fn(*args) started in a worker, as run_limited runs it; this process goes on meanwhile
    (the exact check of a rejected claim runs while its mistake is being named).

    >>> start_limited(pow, (2, 10), timeout=30).result()
    1024
    """
    return Pending(fn, args, timeout)


def run_limited(fn, args: tuple, timeout: float):
    """fn(*args) in a worker of this call's own: its value, TimedOut or WorkerLost."""
    return start_limited(fn, args, timeout).result()
