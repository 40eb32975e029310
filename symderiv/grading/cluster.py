"""Grade a batch on a Dask distributed cluster, with the isolation and the results of a local run.

>>> from symderiv.grading.cluster import DaskExecutor                        # doctest: +SKIP
>>> run_batch(paths, problem, executor=DaskExecutor("tcp://scheduler:8786"))
>>> run_batch(paths, problem, executor=DaskExecutor("local", workers=2))    # a LocalCluster

- **What travels**: the client reads each file (as grading would: a regular file of at most
  2 MB) and sends its bytes with the job; the key is scattered to the workers once. Workers need
  symderiv (and dask[distributed]) installed, not the course's files or keys. A file the client
  cannot read (missing, a directory, too large, a refused zip member) is graded on the client,
  where reading fails at once with the error entry a local run gives.
- **Isolation**: on the worker each job is graded in a grading process of its own
  (``batch.serve_jobs``) under the job's time limit, exactly as ``ProcessExecutor`` does, with
  the same error entries; the process is kept for the next job (its memoised set-up with it) and
  replaced after a timeout or a crash. It is made with os.fork because Dask's worker processes
  are daemonic and multiprocessing refuses daemonic processes children.
- **Results**: ``on_result`` is called in the calling thread as each job finishes
  (``as_completed``); run_batch returns them in the order given, so the JSON is a local run's.
"""

from __future__ import annotations

import logging
import os
import signal
import stat
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from symderiv.answerkey.problem import Problem
from symderiv.core.errors import SymderivError
from symderiv.grading.batch import (
    Job,
    OnResult,
    died_report,
    error_report,
    grade_job,
    overrun_report,
    serve_jobs,
)
from symderiv.grading.results import Report
from symderiv.reading.collect import Submission
from symderiv.reading.submission import MAX_BYTES
from symderiv.runtime.limits import fork_serving

__all__ = [
    "DaskExecutor",
    "ClusterError",
    "ForkedGrader",
    "grade_shipped",
    "current_grader",
    "stop_grader",
    "payload",
    "CONNECT_TIMEOUT",
]

CONNECT_TIMEOUT = 10.0  # seconds to wait for the scheduler before giving up
POLL = 0.5  # seconds between checks that a grading process is still alive


class ClusterError(SymderivError):
    """A cluster that cannot be used (unreachable, dask not installed)."""


def _distributed():
    try:
        # dask[distributed] is an optional heavy dependency (the `dask` extra): imported only
        # when a batch is graded on a cluster
        import distributed
    except ImportError:
        raise ClusterError(
            "--dask needs dask's distributed scheduler: pip install 'symderiv[dask]' (or 'dask[distributed]')"
        ) from None
    return distributed


# ---------------------------------------------------------------------------- on the worker

_LOCAL = threading.local()  # one grading process per worker thread, kept between tasks


class ForkedGrader:
    """A grading process forked from this one, graded job after job; ``grade`` returns the
    report and whether the process can take another job."""

    def __init__(self):
        self.pid, self.conn = fork_serving(serve_jobs)  # the grading process serves jobs until the pipe closes
        self.exitcode, self.ended = None, False

    def alive(self) -> bool:
        if not self.ended:
            try:
                done, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere (SIGCHLD ignored): ended, code unknown
                done, status = self.pid, None
            if done:
                self.ended = True
                self.exitcode = None if status is None else os.waitstatus_to_exitcode(status)
        return not self.ended

    def grade(self, job: Job) -> tuple[Report, bool]:
        try:
            self.conn.send(job)
        except OSError:
            return died_report(job, self._wait()), False
        deadline = time.monotonic() + job.timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return overrun_report(job), False
            if self.conn.poll(min(left, POLL)):
                try:
                    return self.conn.recv(), True
                except (EOFError, OSError):
                    return died_report(job, self._wait()), False
                except Exception as exc:  # a report that could not be unpickled
                    return error_report(job, f"the result could not be read: {type(exc).__name__}"), False
            if not self.alive():
                return died_report(job, self.exitcode), False

    def _wait(self) -> int | None:
        deadline = time.monotonic() + 5
        while self.alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.exitcode

    def stop(self) -> None:
        if self.alive():
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self._wait()
        self.conn.close()


def current_grader() -> ForkedGrader | None:
    """This thread's grading process, if it has one."""
    return getattr(_LOCAL, "grader", None)


def stop_grader() -> None:
    """End this thread's grading process (it is otherwise kept for the next job)."""
    grader = current_grader()
    if grader is not None:
        grader.stop()
        _LOCAL.grader = None


def _grader() -> ForkedGrader:
    grader = current_grader()
    if grader is None or not grader.alive():
        stop_grader()
        grader = _LOCAL.grader = ForkedGrader()
    return grader


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:200]


def _copy_name(name: str) -> str:
    return "submission.ipynb" if name.lower().endswith(".ipynb") else "submission.md"


def _landed(sub: Submission, data: bytes | None, folder: Path, k: int) -> Submission:
    """A file of the job written where this worker can read it (a refused one stays refused)."""
    if data is None:
        return sub
    copy = folder / f"{k}-{_copy_name(sub.path)}"
    copy.write_bytes(data)
    return Submission(str(copy), sub.display, sub.student, sub.error)


def grade_shipped(job: Job, data, problem: Problem | None = None) -> Report:
    """Grade one job whose file travelled as `data` (a Dask task; for a student's several files, a
    tuple of each one's bytes or None): the bytes are written to private files, graded in this
    thread's grading process under job.timeout, and the report names the files as the client does."""
    sub = job.submission
    job = replace(job, problem=problem) if problem is not None else job
    with tempfile.TemporaryDirectory(prefix="symderiv-dask-") as tmp:
        if sub is not None and sub.files:
            files = tuple(_landed(f, d, Path(tmp), k) for k, (f, d) in enumerate(zip(sub.files, data)))
            shipped = replace(sub, path=files[0].path, files=files)
        else:
            copy = Path(tmp) / _copy_name(sub.path if sub else job.path)
            copy.write_bytes(data)
            shipped = Submission(str(copy), sub.display if sub else job.path, sub.student if sub else None)
        grader = _grader()
        report, healthy = grader.grade(replace(job, submission=shipped))
        if not healthy:
            stop_grader()
    return report


# ---------------------------------------------------------------------------- on the client


def payload(job: Job):
    """The bytes of the job's file if grading would read them, else None (graded on the client);
    for a student's several files a tuple of each one's bytes (None for one not to be read), or
    None when none is to be read."""
    sub = job.submission
    if sub is not None and sub.files:
        each = tuple(None if f.error or not f.path else _read(f.path) for f in sub.files)
        return each if any(d is not None for d in each) else None
    if sub is not None and (sub.error or not sub.path):
        return None
    return _read(sub.path if sub is not None else job.path)


def _read(path: str) -> bytes | None:
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_BYTES:
            return None
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except (OSError, ValueError):
        return None
    return data if len(data) <= MAX_BYTES else None


class DaskExecutor:
    """Grade on the Dask scheduler at ``address`` (``tcp://host:8786``), or on a LocalCluster of
    ``workers`` processes (default: one per core) started for the batch when address is "local"."""

    def __init__(self, address: str, workers: int | None = None, connect_timeout: float = CONNECT_TIMEOUT):
        self.address, self.workers, self.connect_timeout = address, workers, connect_timeout

    def run(self, jobs: Sequence[Job], on_result: OnResult) -> None:
        distributed = _distributed()
        shipped: list[tuple[Job, bytes]] = []
        for job in jobs:
            data = payload(job)
            if data is None:
                on_result(job, grade_job(job))  # fails at reading, at once, as it would locally
            else:
                shipped.append((job, data))
        if not shipped:
            return
        cluster = self._local_cluster(distributed) if self.address == "local" else None
        try:
            with self._client(distributed, cluster) as client:
                self._grade(distributed, client, shipped, on_result)
        finally:
            if cluster is not None:
                cluster.close()

    def _local_cluster(self, distributed):
        return distributed.LocalCluster(
            n_workers=self.workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )

    def _client(self, distributed, cluster):
        where = cluster if cluster is not None else self.address
        try:
            return distributed.Client(where, timeout=self.connect_timeout)
        except (OSError, TimeoutError) as exc:
            raise ClusterError(
                f"{self.address}: no Dask scheduler answered within {self.connect_timeout:g} s ({_first_line(exc)})"
            ) from None
        except Exception as exc:  # a malformed address, or something that is not a scheduler answered
            raise ClusterError(f"{self.address}: cannot use it as a Dask scheduler ({_first_line(exc)})") from None

    @staticmethod
    def _grade(distributed, client, shipped: list[tuple[Job, bytes]], on_result: OnResult) -> None:
        scattered = {}  # each key sent to the workers once, not with every job
        for job, _ in shipped:
            if isinstance(job.problem, Problem) and job.problem_id not in scattered:
                scattered[job.problem_id] = client.scatter(job.problem, broadcast=True, hash=False)
        run = uuid.uuid4().hex[:12]
        futures = {}
        for job, data in shipped:
            problem = scattered.get(job.problem_id) if isinstance(job.problem, Problem) else None
            light = replace(job, problem=job.problem_id) if problem is not None else job
            future = client.submit(
                grade_shipped, light, data, problem, key=f"symderiv-grade-{run}-{job.index}", pure=False
            )
            futures[future] = job
        for future in distributed.as_completed(futures):
            job = futures.pop(future)
            try:
                report = future.result()
            except Exception as exc:  # the task itself was lost (a worker died under it, ...)
                report = error_report(job, f"the Dask task failed: {type(exc).__name__}: {exc}"[:500])
            on_result(job, report)
