"""Everything the web interface takes from the rest of symderiv, in one module.

The other modules of `symderiv.web` import symderiv only through this one, so a move of the
library's modules means changing the imports here and nowhere else.
"""

from __future__ import annotations

from pathlib import Path

from symderiv import GradeConfig, Problem, SymderivError, check_claim, derivation_files, grade_text, load_problem_file
from symderiv.grading.names import quantity_name
from symderiv.grading.verify import problem_gradcheck, verify_quantity
from symderiv.notation.mathtext import feedback_unicode
from symderiv.output.html import math_html
from symderiv.output.report import MARKS
from symderiv.reading.extract import extract
from symderiv.truth.prepared import record, recorded

__all__ = [
    "SymderivError",
    "Problem",
    "MARKS",
    "math_html",
    "feedback_unicode",
    "extract",
    "load_keys",
    "key_fault",
    "grade_report",
    "check_verdict",
    "quantity_name",
]


def load_keys(directory: Path | None = None) -> dict[str, Problem]:
    """The answer keys of a folder (default: the shipped ones), by problem id.

    A key that cannot be loaded raises SymderivError naming the file: a course should
    learn at start-up, not from a student, that one of its keys is broken."""
    files = sorted(Path(directory).glob("*.toml")) if directory is not None else derivation_files()
    if directory is not None and not Path(directory).is_dir():
        raise SymderivError(f"--keys {directory}: not a folder")
    problems: dict[str, Problem] = {}
    for f in files:
        problem = load_problem_file(f)
        if problem.id in problems:
            raise SymderivError(f"{f}: problem id {problem.id!r} is also declared in {problems[problem.id].path}")
        problems[problem.id] = problem
    if not problems:
        raise SymderivError(f"no answer keys (*.toml) in {directory or 'the shipped derivations'}")
    return problems


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def key_fault(problem: Problem) -> str | None:
    """Why a key must not be served: the first of its quantities that does not verify (both ways,
    as `symderiv verify`), or why it cannot be set up at all; None when it verifies. The outcome is
    kept for this version of the key and of symderiv when it verifies, so a restart does not verify
    it again."""
    if recorded(problem, "verified") == "ok":
        return None
    fault = _key_fault(problem)
    if fault is None:  # only a success is kept: a fault is worked out again, and said again
        record(problem, "verified", "ok")
    return fault


def _key_fault(problem: Problem) -> str | None:
    try:
        grad_err = problem_gradcheck(problem)
        for q in problem.quantities:
            result = verify_quantity(problem, q, grad_err)
            if not result.ok:
                return _one_line(f"{problem.path}:{q.line}: quantity {q.id!r} does not verify: {result.message}")
    except SymderivError as exc:
        return _one_line(str(exc))
    except Exception as exc:  # a key that cannot even be set up; what it raised is the reason
        return _one_line(f"{problem.path}: the key cannot be set up ({type(exc).__name__}: {exc})")
    return None


def grade_report(problem: Problem, text: str, symbolic: bool) -> dict:
    """What `grade --json` prints for one submission, for text typed on the page."""
    try:
        report = grade_text(text, problem, file="<text>", config=GradeConfig(symbolic=symbolic))
    except RecursionError:  # as grade_file does for a file
        return {
            "file": "<text>",
            "problem": problem.id,
            "score": 0.0,
            "max_score": 0.0,
            "parts": [],
            "steps": [],
            "error": "the submission is nested too deeply to grade",
        }
    return report.to_dict()


def check_verdict(problem: Problem, quantity: str, claim: str, symbolic: bool) -> dict:
    """What `check --json` prints. An unknown quantity raises SymderivError naming it."""
    verdict = check_claim(problem, quantity, claim, symbolic=symbolic).to_dict()
    return {**verdict, "feedback_text": feedback_unicode(verdict["feedback"])}
