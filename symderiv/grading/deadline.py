"""Grading under a deadline, keeping what finished before it (the autograders' results).

    report, stopped = grade_by(files, problem, config, deadline=time.monotonic() + 25)

The files (a student's, in the order they are tried) are graded one after the other in a
process forked for the purpose; each part is sent back the moment it is graded. At the deadline
(or when ``stop()`` says so, e.g. on SIGTERM) the process is killed and the report is made from
what arrived: the parts graded so far, every other part ``undecided`` with the reason, so that a
student sees their partial grade and why the rest is missing. ``stopped`` is that reason (None
when everything finished). The choice between several files is ``grade.choose_file``'s.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable

from symderiv.answerkey.problem import Problem
from symderiv.grading.grade import as_shown, choose_file, grade_file
from symderiv.grading.names import quantity_name
from symderiv.grading.results import GradeConfig, Part, Report
from symderiv.reading.collect import Submission
from symderiv.reading.submission import read_source
from symderiv.runtime.limits import fork_serving

__all__ = ["grade_by", "POLL"]

POLL = 0.1  # seconds between looks at the clock and at stop()


def _serve(files: list[Submission], problem: Problem, config: GradeConfig):
    def serve(conn, parent: int) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        for k, sub in enumerate(files):
            report = grade_file(sub.path, problem, config, on_part=lambda part, k=k: conn.send(("part", k, part)))
            conn.send(("file", k, report))
        conn.close()

    return serve


def _unfinished(problem: Problem, config: GradeConfig, done: list[Part], why: str) -> tuple[Part, ...]:
    maxima = config.part_points(problem)
    graded = {p.quantity for p in done}
    rest = [
        Part(
            qid,
            "undecided",
            "",
            None,
            f"Not checked: {why} before this part was reached. Your instructor can have it regraded.",
            0.0,
            maxima.get(qid, 0.0),
            review=f"not graded: {why}",
            name=quantity_name(problem, qid),
        )
        for qid in problem.parts
        if qid not in graded
    ]
    return tuple(done) + tuple(rest)


def _partial(sub: Submission, problem: Problem, config: GradeConfig, parts: list[Part], why: str) -> Report:
    try:
        cells = read_source(sub.path).cells
    except Exception:  # the cells only name lines; a file that cannot be read again has none
        cells = ()
    all_parts = _unfinished(problem, config, parts, why)
    return Report(
        file=sub.display,
        problem=problem.id,
        score=sum(p.points for p in all_parts),
        max_score=sum(config.part_points(problem).values()),
        parts=all_parts,
        student=sub.student,
        cells=cells,
    )


def grade_by(
    files: list[Submission],
    problem: Problem,
    config: GradeConfig,
    deadline: float,
    stop: Callable[[], bool] = lambda: False,
    limit_words: str = "the time limit",
) -> tuple[Report, str | None]:
    """Grade the files before `deadline` (time.monotonic()); see the module's doc."""
    pid, conn = fork_serving(_serve(files, problem, config))
    parts: dict[int, list[Part]] = {}
    reports: dict[int, Report] = {}
    why = None
    try:
        while len(reports) < len(files):
            if stop():
                why = f"{limit_words} was reached"
                break
            left = deadline - time.monotonic()
            if left <= 0:
                why = f"{limit_words} was reached"
                break
            if not conn.poll(min(left, POLL)):
                continue
            try:
                kind, k, item = conn.recv()
            except (EOFError, OSError):
                why = "the grading process stopped unexpectedly"
                break
            if kind == "part":
                parts.setdefault(k, []).append(item)
            else:
                reports[k] = as_shown(item, files[k])
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
        conn.close()
    if why is not None:
        current = len(reports)
        if current < len(files) and (parts.get(current) or not reports):
            reports[current] = _partial(files[current], problem, config, parts.get(current, []), why)
    graded = [(files[k], reports[k]) for k in sorted(reports)]
    if len(graded) == 1:
        return graded[0][1], why
    return choose_file([f for f, _ in graded], [r for _, r in graded]), why
