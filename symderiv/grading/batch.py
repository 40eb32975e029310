"""Grade a batch of submissions so that no file can cost another its grade.

Each file is graded in a worker process under its own hard time limit. A file whose grading
hangs, crashes or kills its worker gets an error entry naming the reason, the worker is
replaced, and the rest of the batch is graded. Results are handed to ``on_result`` as each
file finishes, so an interrupted run keeps what it finished (`grade --jsonl`).

>>> from symderiv.grading.batch import run_batch                      # doctest: +SKIP
>>> reports = run_batch(["a.md", "b.md"], "softmax-2layer", jobs=2, timeout=60,
...                     on_result=lambda job, report: print(report.file, report.score))

The executor is pluggable: anything with ``run(jobs, on_result)`` that calls ``on_result(job,
report)`` exactly once per job (from the calling thread) can grade a batch; ``grade_job(job)``
grades one job in whatever process runs it. ``grading/cluster.py``'s DaskExecutor grades on a Dask
cluster, each job in a grading process of its own on the worker (``serve_jobs``).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Protocol

from symderiv.answerkey.problem import Problem
from symderiv.core.errors import SymderivError
from symderiv.grading.grade import grade_file, grade_submission
from symderiv.grading.results import DEFAULT_CONFIG, GradeConfig, Report
from symderiv.judging.check import prepare_problem
from symderiv.reading.collect import Submission
from symderiv.runtime.limits import die_with_parent

__all__ = [
    "DEFAULT_TIMEOUT",
    "Job",
    "Executor",
    "ProcessExecutor",
    "InlineExecutor",
    "grade_job",
    "serve_jobs",
    "error_report",
    "overrun_report",
    "died_report",
    "run_batch",
]

DEFAULT_TIMEOUT = 60.0  # seconds of wall-clock time per file (grade --timeout)


@dataclass(frozen=True)
class Job:
    index: int  # position in the batch: results are returned in this order
    path: str  # the name outputs show
    problem: Problem | str  # the key, or its id (a worker then loads it itself)
    config: GradeConfig = DEFAULT_CONFIG
    timeout: float = DEFAULT_TIMEOUT
    submission: Submission | None = None  # a collected submission (folder, zip, student), else path is read

    @property
    def problem_id(self) -> str:
        return self.problem if isinstance(self.problem, str) else self.problem.id


OnResult = Callable[[Job, Report], None]


class Executor(Protocol):
    def run(self, jobs: Sequence[Job], on_result: OnResult) -> None:
        """Grade every job, calling on_result(job, report) once per job as it finishes."""


def error_report(job: Job, reason: str) -> Report:
    return Report(
        file=job.path,
        problem=job.problem_id,
        score=0.0,
        max_score=0.0,
        error=f"{job.path}: {reason}",
        student=job.submission.student if job.submission else None,
    )


def overrun_report(job: Job) -> Report:
    return error_report(
        job, f"grading took longer than {job.timeout:g} s (the --timeout limit); this file was not graded"
    )


def died_report(job: Job, exitcode: int | None) -> Report:
    how = f"signal {-exitcode}" if exitcode is not None and exitcode < 0 else f"exit code {exitcode}"
    return error_report(job, f"the grading process died ({how}); this file was not graded")


def grade_job(job: Job) -> Report:
    """One job, in this process; an unexpected failure of any stage is the file's error entry."""
    try:
        if job.submission is not None:
            return grade_submission(job.submission, job.problem, job.config, grade=grade_file)
        return grade_file(job.path, job.problem, job.config)
    except Exception as exc:  # whatever a hostile file triggers costs that file only
        return error_report(job, f"grading failed: {type(exc).__name__}: {exc}"[:500])


class InlineExecutor:
    """In this process, one job after another: no time limit and no crash isolation (for
    embedding and debugging); exceptions still become error entries."""

    def run(self, jobs: Sequence[Job], on_result: OnResult) -> None:
        for job in jobs:
            on_result(job, grade_job(job))


def serve_jobs(conn, parent: int) -> None:
    """A grading process: grade each job received on conn and send its report back, until conn
    closes; dies with `parent` and leaves ^C to it."""
    die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # ^C is the parent's to handle
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        conn.send(grade_job(job))


class _Slot:
    """One worker process and the job it is grading."""

    def __init__(self, context):
        self.conn, child = multiprocessing.Pipe()
        self.process = context.Process(target=serve_jobs, args=(child, os.getpid()), daemon=True, name="symderiv-grade")
        self.process.start()
        child.close()
        self.job: Job | None = None
        self.deadline = 0.0

    def give(self, job: Job) -> None:
        self.job, self.deadline = job, time.monotonic() + job.timeout
        self.conn.send(job)

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.conn.close()


class ProcessExecutor:
    """``workers`` worker processes; each job under its own hard wall-clock limit (job.timeout).
    A worker that overruns is killed (its own SymPy workers die with it), one that dies is
    replaced; either way that job gets an error entry naming the reason."""

    def __init__(self, workers: int = 1):
        self.workers = max(1, workers)
        self.context = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")

    def run(self, jobs: Sequence[Job], on_result: OnResult) -> None:
        pending = list(jobs)[::-1]
        slots = [_Slot(self.context) for _ in range(min(self.workers, len(pending)))]
        try:
            while pending or any(s.job for s in slots):
                for slot in slots:
                    if slot.job is None and pending:
                        slot.give(pending.pop())
                busy = [s for s in slots if s.job is not None]
                left = min(s.deadline for s in busy) - time.monotonic()
                ready = set(wait([s.conn for s in busy] + [s.process.sentinel for s in busy], timeout=max(0.0, left)))
                for i, slot in enumerate(slots):
                    if slot.job is None:
                        continue
                    outcome = self._outcome(slot, ready)
                    if outcome is None:
                        continue
                    job, report, healthy = slot.job, outcome[0], outcome[1]
                    slot.job = None
                    if not healthy:
                        slot.stop()
                        slots[i] = _Slot(self.context)
                    on_result(job, report)
        finally:
            for slot in slots:
                slot.stop()

    @staticmethod
    def _outcome(slot: _Slot, ready: set):
        """(report, worker still usable) once the slot's job has ended, else None."""
        job = slot.job
        if slot.conn in ready:
            try:
                return slot.conn.recv(), True
            except (EOFError, OSError):
                pass
            except Exception as exc:  # a report that could not be unpickled
                return error_report(job, f"the result could not be read: {type(exc).__name__}"), False
        if slot.conn in ready or slot.process.sentinel in ready:
            slot.process.join(1)
            return died_report(job, slot.process.exitcode), False
        if time.monotonic() >= slot.deadline:
            return overrun_report(job), False
        return None


def run_batch(
    paths: Sequence[str | os.PathLike | Submission],
    problem: Problem | str,
    config: GradeConfig = DEFAULT_CONFIG,
    *,
    jobs: int = 1,
    timeout: float = DEFAULT_TIMEOUT,
    executor: Executor | None = None,
    on_result: OnResult | None = None,
) -> list[Report]:
    """Grade the files (a Report each, in the order given), each under its own time limit.
    on_result(job, report) is called as each file finishes (in the order they finish)."""
    batch = [
        Job(i, p.display, problem, config, timeout, submission=p)
        if isinstance(p, Submission)
        else Job(i, os.fsdecode(p), problem, config, timeout)
        for i, p in enumerate(paths)
    ]
    executor = executor or ProcessExecutor(jobs)
    if batch and config.symbolic:
        try:  # the key's work once, here, before the workers fork: not once per worker or per file
            prepare_problem(problem, timeout=timeout)
        except SymderivError:
            pass  # an unknown or broken key is each file's error entry, as without this
    done: dict[int, Report] = {}

    def collect(job: Job, report: Report) -> None:
        done[job.index] = report
        if on_result is not None:
            on_result(job, report)

    executor.run(batch, collect)
    return [done.get(job.index) or error_report(job, "the executor returned no result") for job in batch]
