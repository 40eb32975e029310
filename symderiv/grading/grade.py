"""Grade a submission: which quantity each line claims, each part's final answer, each = step.

A part's final answer is the last closed form the student gave for it (no
unevaluated ∂ left; for a forward-pass value, a number). Each step of a chain
between two closed forms is checked numerically under the same readings as
check_claim; a step whose left side is the quantity itself is the claim check.
"""

from __future__ import annotations

import os
from dataclasses import replace

import numpy as np

from symderiv.core.errors import SubmissionError
from symderiv.grading.claims import Claim, Walker, is_closed
from symderiv.grading.results import DEFAULT_CONFIG, GradeConfig, Part, Report, Step
from symderiv.grading.steps import STEP_ERRORS, check_steps
from symderiv.judging.check import judge
from symderiv.reading.collect import Submission
from symderiv.reading.extract import extract
from symderiv.reading.submission import read_source
from symderiv.truth.evaluate import Evaluator
from symderiv.truth.problem import Problem, Quantity, load_problem
from symderiv.truth.reference import build_points

# ---- parsing helpers -------------------------------------------------------------


# ---- walking the rows --------------------------------------------------------------


# ---- grading ---------------------------------------------------------------------


def grade_text(text: str, problem: Problem | str, file: str = "<text>", config: GradeConfig = DEFAULT_CONFIG) -> Report:
    problem = load_problem(problem) if isinstance(problem, str) else problem
    walker = Walker(problem)
    walker.run(extract(text))
    parts, first_wrong = [], {}
    try:
        steps = check_steps(problem, walker)
    except Exception as exc:  # the steps are advice: their failure costs no part
        steps = [Step(0, True, f"the = steps could not be checked ({type(exc).__name__}); not counted")]
    for step in steps:
        if not step.ok and step.quantity and step.quantity not in first_wrong:
            first_wrong[step.quantity] = step.line
    claimed = {c.quantity for c in walker.claims}
    ids = list(problem.parts) + [q for q in problem.optional if q in claimed and q not in problem.parts]
    ids += [q.id for q in problem.quantities if q.id in claimed and q.id not in ids]
    for qid in ids:
        q = problem.quantity(qid)
        max_points = 1.0 if qid in problem.parts else 0.0
        try:
            part = _grade_part(problem, q, [c for c in walker.claims if c.quantity == qid], config, max_points)
        except Exception as exc:  # a failing part costs that part only
            reason = f"{type(exc).__name__}: {exc}"[:300]
            part = Part(
                qid,
                "undecided",
                "",
                None,
                f"This part could not be graded ({reason}); flagged for review.",
                0.0,
                max_points,
                review=f"grading this part failed: {reason}",
            )
        parts.append(replace(part, first_wrong_line=first_wrong.get(qid)))
    score = sum(p.points for p in parts)
    return Report(
        file=file,
        problem=problem.id,
        score=score,
        max_score=float(sum(1.0 for q in problem.parts)),
        parts=tuple(parts),
        steps=tuple(steps),
    )


def _grade_part(problem: Problem, q: Quantity, claims: list[Claim], config: GradeConfig, max_points: float) -> Part:
    if q.kind == "value":
        return _grade_value(problem, q, claims, max_points)
    final = None
    for c in claims:
        if c.tree is None:
            if "\\partial" not in c.latex and "∂" not in c.latex:
                final = c
        elif is_closed(problem, c.tree, q):
            final = c
    if final is None:
        return Part(
            q.id, "missing", "", None, f"No closed form for {q.id} was found in the submission.", 0.0, max_points
        )
    if final.tree is None:
        return Part(
            q.id,
            "unparseable",
            final.latex,
            final.line,
            f"Line {final.line} cannot be read: {final.error}.",
            0.0,
            max_points,
        )
    instance = replace(q, layers=final.layers) if final.layers else q
    verdict = judge(problem, instance, final.tree, symbolic=config.symbolic, timeout=config.timeout)
    feedback = verdict.feedback
    if final.layers and verdict.accepted:
        ((name, (value,)),) = final.layers
        feedback += f" (Only shown for {name} = {value}; the general formula is still open.)"
        verdict = replace(verdict, verdict="incorrect")
    points = max_points * (
        1.0
        if verdict.verdict == "correct"
        else config.layout_credit
        if verdict.verdict == "correct-up-to-layout"
        else 0.0
    )
    return Part(
        q.id,
        verdict.verdict,
        final.latex,
        final.line,
        feedback,
        points,
        max_points,
        check=verdict.to_dict(),
        review=verdict.review,
    )


def _grade_value(problem: Problem, q: Quantity, claims: list[Claim], max_points: float) -> Part:
    finals: dict[int | None, Claim] = {}
    for c in claims:
        if c.tree is not None and is_closed(problem, c.tree, q):
            finals[c.component] = c
    if not finals:
        return Part(q.id, "missing", "", None, f"No value for {q.id} was found.", 0.0, max_points)
    point = build_points(problem, q, "single", {})[0]
    ref = point.reference.ravel()
    tol = problem.value_tolerance
    wrong, shown, last = [], [], None
    for comp, c in sorted(finals.items(), key=lambda kv: kv[1].line):
        last = c
        try:
            value = np.asarray(Evaluator(point.env).value(c.tree), dtype=float).ravel()
        except STEP_ERRORS as exc:
            wrong.append(f"line {c.line}: {exc}")
            continue
        want = ref if comp is None or ref.size == 1 else ref[comp : comp + 1]
        if value.size != want.size:
            wrong.append(f"line {c.line}: {value.size} numbers where {want.size} belong")
            continue
        diff = np.abs(value - want)
        if not np.all((diff <= tol) | (diff <= tol * np.abs(want))):
            name = q.id if comp is None or ref.size == 1 else f"component {comp + 1} of {q.id}"
            wrong.append(
                f"line {c.line}: {name} is {', '.join(f'{x:.6g}' for x in want)}, "
                f"not {', '.join(f'{x:.6g}' for x in value)}"
            )
        shown.append(c.latex)
    if ref.size > 1 and None not in finals and len(finals) < ref.size:
        wrong.append(f"only {len(finals)} of the {ref.size} components of {q.id} are given")
    verdict = "incorrect" if wrong else "correct"
    feedback = "; ".join(wrong) + "." if wrong else f"Correct ({q.id} = {', '.join(f'{x:.6g}' for x in ref)})."
    return Part(
        q.id,
        verdict,
        "; ".join(shown) or last.latex,
        min(c.line for c in finals.values()),
        feedback,
        max_points if not wrong else 0.0,
        max_points,
    )


# ---- steps -------------------------------------------------------------------------


def grade_file(path: str | os.PathLike, problem: Problem | str, config: GradeConfig = DEFAULT_CONFIG) -> Report:
    problem_id = problem if isinstance(problem, str) else problem.id
    try:
        source = read_source(path)
    except SubmissionError as exc:
        return Report(file=str(path), problem=problem_id, score=0.0, max_score=0.0, error=str(exc))
    try:
        report = grade_text(source.text, problem, file=str(path), config=config)
    except RecursionError:
        return Report(
            file=str(path),
            problem=problem_id,
            score=0.0,
            max_score=0.0,
            error=f"{path}: the submission is nested too deeply to grade",
        )
    except Exception as exc:  # any stage's failure on a hostile file is that file's error entry
        return Report(
            file=str(path),
            problem=problem_id,
            score=0.0,
            max_score=0.0,
            error=f"{path}: grading failed: {type(exc).__name__}: {exc}"[:500],
        )
    return replace(report, cells=source.cells)


def grade_submission(
    sub: Submission, problem: Problem | str, config: GradeConfig = DEFAULT_CONFIG, grade=None
) -> Report:
    """Grade a collected submission (reading/collect.py): named as the TA knows it, with its student.
    `grade` grades the extracted file (default grade_file)."""
    problem_id = problem if isinstance(problem, str) else problem.id
    if sub.error or not sub.path:
        report = Report(
            file=sub.display,
            problem=problem_id,
            score=0.0,
            max_score=0.0,
            error=sub.error or f"{sub.display}: not extracted",
        )
    else:
        report = (grade or grade_file)(sub.path, problem, config)
        if sub.path != sub.display:
            report = replace(
                report, file=sub.display, error=report.error.replace(sub.path, sub.display) if report.error else None
            )
    return replace(report, student=sub.student)
