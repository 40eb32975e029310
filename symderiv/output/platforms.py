"""Autograder entry points: `symderiv gradescope` and `symderiv prairielearn`.

Gradescope (its autograder specification) runs ``run_autograder`` with the student's files in
``/autograder/submission`` and reads ``/autograder/results/results.json``: ``score``, ``output``
and ``tests`` (each ``name``, ``score``, ``max_score``, ``output``, ``visibility``, optional
``status``). A test is shown as passed when its score reaches its maximum, so: one test per
scored part; an optional part is not a test (it would show as a failed 0/0) but a line of the
top-level output; a submission that cannot be read is a failing test ``Reading your submission``
with the reason, and every scored part a 0 with "not graded". Every text is sent with
``output_format: "text"`` (the top-level default would render it as HTML).

PrairieLearn's external grader mounts the files in ``/grade/student`` and reads
``/grade/results/results.json`` (which must stay under 1 MB): ``gradable``, ``score`` (a fraction
in [0, 1]), ``message`` and ``tests`` (``name``, ``points``, ``max_points``, ``message``). A
submission that cannot be read is ``gradable: false`` with the reasons in ``format_errors``:
PrairieLearn then shows them and does not use up an attempt.

Both always write the results file, before their platform's own time limit: a file saying that
grading did not finish is written first, then grading runs under a deadline of its own
(``--timeout``, counted from the start: by default 540 s on Gradescope, whose limit is 10
minutes, and 25 s on PrairieLearn, whose default is 30 s); at the deadline (or on SIGTERM) the
parts graded so far are written, the others marked not graded with the reason. The folder's
files are read as the student named them; a link to anything outside the folder is refused.
"""

from __future__ import annotations

import json
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from symderiv.core.files import write_atomic
from symderiv.grading.deadline import grade_by
from symderiv.grading.names import quantity_name
from symderiv.grading.results import GradeConfig, Report
from symderiv.output.escape import strip_controls
from symderiv.output.feedback import claim_text, feedback_lines, part_feedback, part_name
from symderiv.output.html import student_error
from symderiv.output.report import MARKS
from symderiv.output.terminal import points_text
from symderiv.reading.collect import Submission
from symderiv.reading.identity import GRADABLE_ORDER, Student

__all__ = [
    "Folder",
    "read_folder",
    "gradescope_results",
    "prairielearn_results",
    "run_autograder",
    "GRADESCOPE_VISIBILITY",
    "DEADLINES",
    "MAX_TEXT",
    "started_at",
    "score_line",
]

GRADESCOPE_VISIBILITY = ("visible", "hidden", "after_due_date", "after_published")
DEADLINES = {"gradescope": 540.0, "prairielearn": 25.0}  # seconds, below the platforms' 600 s and 30 s
MAX_TEXT = 8000  # characters of one message (PrairieLearn refuses a results file over 1 MB)


@dataclass(frozen=True)
class Folder:
    """A submission folder: the files to try, in order, and the others with why they are not read."""

    candidates: tuple[Submission, ...] = ()
    others: tuple[str, ...] = ()


def read_folder(folder: Path) -> Folder:
    """The student's files: gradable ones (notebook, Markdown, LaTeX, text, HTML, then by name);
    hidden files skipped; a link pointing outside the folder refused."""
    if not folder.is_dir():
        return Folder(others=("no submission folder was mounted",))
    root = os.path.realpath(folder)
    entries, candidates, others = [], [], []
    for base, dirs, files in os.walk(folder):  # links to folders are not followed
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__MACOSX")
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = Path(base) / name
            own = path.relative_to(folder).as_posix()
            if path.is_symlink() and os.path.commonpath([root, os.path.realpath(path)]) != root:
                others.append(f"{own}: a link to a file outside the submission; not read")
                continue
            entries.append((path, own))
    for path, own in sorted(entries, key=lambda e: _rank(e[1])):
        if Path(own).suffix.lower() in GRADABLE_ORDER:
            candidates.append(Submission(str(path), own, Student(file=own)))
        else:
            kind = Path(own).suffix.lower() or "a file without an extension"
            others.append(f"{own}: {kind} files are not graded")
    return Folder(tuple(candidates), tuple(others))


def _rank(own: str):
    suffix = Path(own).suffix.lower()
    return (GRADABLE_ORDER.index(suffix) if suffix in GRADABLE_ORDER else len(GRADABLE_ORDER), own)


def _text(text: str) -> str:
    text = strip_controls(text, keep="\n")
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def _summary(report: Report | None, folder: Folder, stopped: str | None) -> list[str]:
    """The lines above the tests: what was graded, the score, optional parts, files not graded."""
    if report is None:
        found = "; ".join(folder.others) if folder.others else "the submission is empty"
        lines = [
            f"No file could be graded ({found}). Hand in the derivation as a notebook (.ipynb), "
            "Markdown (.md), LaTeX (.tex) or text (.txt) file."
        ]
    elif report.error:
        lines = [f"Your submission could not be graded: {student_error(report)}"]
    else:
        lines = feedback_lines(report)[:1]
        own = report.student.file if report.student else report.file
        lines.insert(0, f"Graded {own}.")
        if stopped:
            lines.append(
                f"Grading stopped early ({stopped}): the parts not reached are marked; ask to have them regraded."
            )
        for p in report.parts:
            if not p.max_points:
                lines.append(
                    f"Optional (not scored): {MARKS.get(p.verdict, '?')} {part_name(p)}: {part_feedback(report, p)}"
                )
        if report.ignored or folder.others:
            lines.append("Also received, not graded: " + "; ".join(report.ignored + folder.others) + ".")
    return [_text(line) for line in lines]


def gradescope_results(
    report: Report | None, folder: Folder, visibility: str = "visible", stopped=None, maxima=()
) -> dict:
    """Gradescope's results.json; `maxima` ((part name, points), ...) gives an unreadable
    submission's parts their 0 out of their maximum."""
    summary = _summary(report, folder, stopped)
    base = {
        "output": "\n".join(summary),
        "output_format": "text",
        "test_output_format": "text",
        "test_name_format": "text",
        "visibility": visibility,
    }
    if report is None or report.error:
        tests = [
            {
                "name": "Reading your submission",
                "status": "failed",
                "output": summary[0],
                "visibility": visibility,
            }
        ]
        tests += [
            {
                "name": name,
                "score": 0.0,
                "max_score": round(most, 4),
                "output": "Not graded: your submission could not be read (see above).",
                "visibility": visibility,
            }
            for name, most in maxima
        ]
        return {**base, "score": 0.0, "tests": tests}
    tests = [
        {
            "name": part_name(p),
            "score": round(p.points, 4),
            "max_score": round(p.max_points, 4),
            "output": _text(_part_output(report, p)),
            "visibility": visibility,
        }
        for p in report.parts
        if p.max_points
    ]
    return {**base, "score": round(report.score, 4), "tests": tests}


def _part_output(report: Report, part) -> str:
    out = part_feedback(report, part)
    if part.claim:
        out = f"Your answer: {claim_text(part.claim)}\n{out}"
    return out


def prairielearn_results(report: Report | None, folder: Folder, stopped=None) -> dict:
    summary = _summary(report, folder, stopped)
    if report is None or report.error:
        errors = [summary[0]] + [_text(o) for o in folder.others]
        return {"gradable": False, "score": 0.0, "message": "\n".join(summary), "format_errors": errors, "tests": []}
    fraction = report.score / report.max_score if report.max_score else 0.0
    tests = [
        {
            "name": part_name(p),
            "points": round(p.points, 4),
            "max_points": round(p.max_points, 4),
            "message": _text(_part_output(report, p)),
        }
        for p in report.parts
        if p.max_points
    ]
    return {
        "gradable": True,
        "score": round(min(max(fraction, 0.0), 1.0), 6),
        "message": "\n".join(summary),
        "tests": tests,
    }


def started_at() -> float:
    """When this process started, on the time.monotonic() clock (Linux: from /proc; elsewhere: now),
    so that a deadline counts the interpreter's start-up and imports too."""
    try:
        ticks = os.sysconf("SC_CLK_TCK")
        with open("/proc/self/stat", encoding="ascii") as stat, open("/proc/uptime", encoding="ascii") as up:
            start = int(stat.read().rsplit(")", 1)[1].split()[19]) / ticks
            uptime = float(up.read().split()[0])
        age = uptime - start
    except (OSError, ValueError, IndexError):
        return time.monotonic()
    return time.monotonic() - max(0.0, min(age, 3600.0))


def _write(results: Path, data: dict) -> None:
    results.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(results, json.dumps(data, indent=2, ensure_ascii=False))


def _not_finished(platform: str, seconds: float, visibility: str) -> dict:
    words = (
        f"Grading did not finish: it was stopped before it wrote its results (its limit is {seconds:g} s). "
        "Ask your instructor to regrade this submission."
    )
    if platform == "gradescope":
        test = {"name": "Grading your submission", "status": "failed", "output": words, "visibility": visibility}
        return {"score": 0.0, "output": words, "output_format": "text", "visibility": visibility, "tests": [test]}
    return {"gradable": False, "score": 0.0, "message": words, "format_errors": [words], "tests": []}


def run_autograder(
    platform: str,
    problem,
    submission: Path,
    results: Path,
    config: GradeConfig,
    visibility: str = "visible",
    deadline: float | None = None,
) -> dict:
    """Grade the folder's submission and write results.json for `platform` before `deadline`
    (time.monotonic(); default: DEADLINES[platform] from now); returns what was written."""
    started = time.monotonic()
    deadline = started + DEADLINES[platform] if deadline is None else deadline
    results = Path(results)
    _write(results, _not_finished(platform, deadline - started, visibility))
    folder = read_folder(Path(submission))
    report, stopped = None, None
    if folder.candidates:
        terminated = []
        previous = signal.signal(signal.SIGTERM, lambda signum, frame: terminated.append(signum))
        try:
            report, stopped = grade_by(
                list(folder.candidates),
                problem,
                config,
                deadline,
                stop=lambda: bool(terminated),
                limit_words=f"the autograder's time limit of {deadline - started:.0f} s",
            )
        finally:
            signal.signal(signal.SIGTERM, previous)
    if platform == "gradescope":
        maxima = [(quantity_name(problem, q), most) for q, most in config.part_points(problem).items()]
        data = gradescope_results(report, folder, visibility, stopped, maxima)
        data["execution_time"] = round(time.monotonic() - started, 1)
    else:
        data = prairielearn_results(report, folder, stopped)
    _write(results, data)
    return data


def score_line(data: dict, platform: str) -> str:
    """What the command says on stderr when it has written the results."""
    if platform == "gradescope":
        return f"score {data['score']}"
    if not data["gradable"]:
        return "not gradable"
    return f"score {points_text(data['score'], 1)} (a fraction)"
