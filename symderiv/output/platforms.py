"""Autograder entry points: `symderiv gradescope` and `symderiv prairielearn`.

Gradescope runs the autograder with the student's files in ``/autograder/submission`` and
reads ``/autograder/results/results.json``: ``score``, ``output``, and ``tests``, each with
``name``, ``score``, ``max_score``, ``output`` and ``visibility`` (``visible``, ``hidden``,
``after_due_date`` or ``after_published``). One test per part of the answer key, carrying its
feedback; optional parts are tests worth 0.

PrairieLearn's external grader mounts the files in ``/grade/student`` and reads
``/grade/results/results.json``: ``gradable``, ``score`` (a fraction in [0, 1]), ``message``
and ``tests``, each with ``name``, ``points``, ``max_points`` and ``message``. A submission
that cannot be read is ``gradable: false`` (PrairieLearn then does not use up an attempt).

Both pick the student's file from the folder: a notebook, then Markdown, LaTeX, plain text
(then by name); the others are named in the output. Both always write the results file,
even when nothing could be graded, and say why in it.
"""

from __future__ import annotations

import json
from pathlib import Path

from symderiv.core.files import write_atomic
from symderiv.grading.grade import grade_file
from symderiv.grading.results import GradeConfig, Report
from symderiv.output.feedback import feedback_text, part_feedback

__all__ = [
    "pick_submission",
    "gradescope_results",
    "prairielearn_results",
    "run_autograder",
    "GRADESCOPE_VISIBILITY",
    "GRADABLE_SUFFIXES",
]

GRADABLE_SUFFIXES = (".ipynb", ".md", ".markdown", ".tex", ".txt")
GRADESCOPE_VISIBILITY = ("visible", "hidden", "after_due_date", "after_published")


def pick_submission(folder: Path) -> tuple[Path | None, list[Path]]:
    """(the file to grade, the other files) in a submission folder."""
    files = sorted(
        p
        for p in Path(folder).rglob("*")
        if p.is_file() and not any(part.startswith(".") or part == "__MACOSX" for part in p.relative_to(folder).parts)
    )
    gradable = [p for p in files if p.suffix.lower() in GRADABLE_SUFFIXES]
    gradable.sort(key=lambda p: (GRADABLE_SUFFIXES.index(p.suffix.lower()), str(p)))
    chosen = gradable[0] if gradable else None
    return chosen, [p for p in files if p != chosen]


def _note(chosen: Path | None, others: list[Path], folder: Path) -> str:
    if chosen is None:
        found = ", ".join(p.name for p in others[:10]) or "no files"
        return f"No file to grade: the submission needs a {', '.join(GRADABLE_SUFFIXES)} file (found: {found})."
    note = f"Graded {chosen.relative_to(folder)}."
    if others:
        note += f" Not graded: {', '.join(str(p.relative_to(folder)) for p in others[:10])}."
    return note


def gradescope_results(report: Report | None, note: str, visibility: str = "visible") -> dict:
    if report is None or report.error:
        reason = note if report is None else f"{note} {report.error}"
        return {"score": 0.0, "output": reason, "visibility": visibility, "tests": []}
    tests = [
        {
            "name": p.quantity + ("" if p.max_points else " (optional)"),
            "score": round(p.points, 4),
            "max_score": p.max_points,
            "output": part_feedback(report, p),
            "visibility": visibility,
            "status": "passed" if p.points >= p.max_points and p.verdict == "correct" else "failed",
        }
        for p in report.parts
    ]
    return {
        "score": round(report.score, 4),
        "output": f"{note}\n{feedback_text(report)}",
        "visibility": visibility,
        "tests": tests,
    }


def prairielearn_results(report: Report | None, note: str) -> dict:
    if report is None or report.error:
        reason = note if report is None else f"{note} {report.error}"
        return {"gradable": False, "score": 0.0, "message": reason, "tests": []}
    fraction = report.score / report.max_score if report.max_score else 0.0
    tests = [
        {
            "name": p.quantity + ("" if p.max_points else " (optional)"),
            "points": round(p.points, 4),
            "max_points": p.max_points,
            "message": part_feedback(report, p),
        }
        for p in report.parts
    ]
    return {
        "gradable": True,
        "score": round(min(max(fraction, 0.0), 1.0), 6),
        "message": f"{note}\n{feedback_text(report)}",
        "tests": tests,
    }


def run_autograder(
    platform: str, problem, submission: Path, results: Path, config: GradeConfig, visibility: str = "visible"
) -> dict:
    """Grade the folder's file and write results.json for `platform`; returns what was written."""
    submission = Path(submission)
    chosen, others = pick_submission(submission) if submission.is_dir() else (None, [])
    if not submission.is_dir():
        note = f"The submission folder {submission} does not exist."
    else:
        note = _note(chosen, others, submission)
    report = None
    if chosen is not None:
        report = grade_file(chosen, problem, config)
        if report.error:
            report = Report(
                report.file, report.problem, 0.0, report.max_score, error=report.error.replace(str(chosen), chosen.name)
            )
    data = (
        gradescope_results(report, note, visibility) if platform == "gradescope" else prairielearn_results(report, note)
    )
    results = Path(results)
    results.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(results, json.dumps(data, indent=2, ensure_ascii=False))
    return data
