"""The work a worker process does for one request. Top-level functions, so they pickle.

Each returns a JSON-ready dict; a SymderivError (an unknown quantity) comes back as
{"error": message} rather than an exception, so the server can answer 400 with it.
"""

from __future__ import annotations

import os

from symderiv.web.library import Problem, SymderivError, check_verdict, grade_report
from symderiv.web.view import build_view


def start_worker() -> None:
    # The worker leads its own process group, so that a timeout can kill it together with the
    # SymPy worker process that symderiv's time limits start under it.
    os.setpgrp()


def warm_up(problem: Problem, symbolic: bool) -> bool:
    """Pay the imports and the first-check costs (SymPy, its worker) before a student waits for them."""
    grade_report(problem, "", symbolic=False)
    if problem.quantities:
        first = problem.quantities[0]
        try:
            check_verdict(problem, first.id, first.claim, symbolic)
        except SymderivError:  # a key `verify` would reject still serves its other quantities
            pass
    return True


def check_job(problem: Problem, quantity: str, claim: str, symbolic: bool) -> dict:
    try:
        return check_verdict(problem, quantity, claim, symbolic)
    except SymderivError as exc:
        return {"error": str(exc)}


def grade_job(problem: Problem, text: str, symbolic: bool) -> dict:
    try:
        return grade_report(problem, text, symbolic)
    except SymderivError as exc:
        return {"error": str(exc)}


def view_job(problem: Problem, text: str, symbolic: bool) -> dict:
    report = grade_job(problem, text, symbolic)
    if "parts" not in report:
        return report
    return build_view(report, text)
