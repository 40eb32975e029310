"""Grade a submission: which quantity each line claims, each part's final answer, each = step.

A part's final answer is the last closed form the student gave for it (no
unevaluated ∂ left; for a forward-pass value, a number). Each step of a chain
between two closed forms is checked numerically under the same readings as
check_claim; a step whose left side is the quantity itself is the claim check.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import PurePosixPath

import numpy as np

from symderiv.answerkey.problem import Problem, Quantity, load_problem
from symderiv.core.errors import SubmissionError
from symderiv.evaluation.evaluate import Evaluator
from symderiv.grading.claims import Claim, Walker, is_closed
from symderiv.grading.names import quantity_name, with_names
from symderiv.grading.results import DEFAULT_CONFIG, GradeConfig, Part, Report, Step
from symderiv.grading.steps import STEP_ERRORS, check_steps
from symderiv.judging.check import judge
from symderiv.notation.unicode import to_unicode
from symderiv.reading.collect import Submission
from symderiv.reading.extract import extract
from symderiv.reading.identity import resubmission
from symderiv.reading.submission import read_source
from symderiv.truth.reference import build_points


def grade_text(
    text: str,
    problem: Problem | str,
    file: str = "<text>",
    config: GradeConfig = DEFAULT_CONFIG,
    on_part: Callable[[Part], None] | None = None,
) -> Report:
    """Grade a submission's text. `on_part(part)` is called as each part is graded (an autograder
    under a deadline keeps the parts finished before it)."""
    problem = load_problem(problem) if isinstance(problem, str) else problem
    walker = Walker(problem)
    walker.run(extract(text))
    parts, first_wrong = [], {}
    try:
        steps = check_steps(problem, walker)
    except Exception as exc:  # the steps are advice: their failure costs no part
        steps = [Step(0, True, f"the = steps could not be checked ({type(exc).__name__}); not counted")]
    steps = [replace(s, message=with_names(s.message, problem)) for s in steps]
    for step in steps:
        if not step.ok and step.quantity and step.quantity not in first_wrong:
            first_wrong[step.quantity] = step.line
    maxima = config.part_points(problem)
    claimed = {c.quantity for c in walker.claims}
    ids = list(problem.parts) + [q for q in problem.optional if q in claimed and q not in problem.parts]
    ids += [q.id for q in problem.quantities if q.id in claimed and q.id not in ids]
    for qid in ids:
        q = problem.quantity(qid)
        max_points = maxima.get(qid, 0.0)
        try:
            part = _grade_part(problem, q, [c for c in walker.claims if c.quantity == qid], config, max_points)
        except Exception as exc:  # a failing part costs that part only
            reason = f"{type(exc).__name__}: {exc}"[:300]
            part = Part(
                qid,
                "undecided",
                "",
                None,
                "This part could not be graded; it is flagged for your instructor to review.",
                0.0,
                max_points,
                review=f"grading this part failed: {reason}",
            )
        part = replace(
            part,
            first_wrong_line=first_wrong.get(qid),
            feedback=with_names(part.feedback, problem),
            name=quantity_name(problem, qid),
        )
        parts.append(part)
        if on_part is not None:
            on_part(part)
    return Report(
        file=file,
        problem=problem.id,
        score=sum(p.points for p in parts),
        max_score=sum(maxima.values()),
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
            q.id, "missing", "", None, f"No final answer for {q.id} was found in the submission.", 0.0, max_points
        )
    if final.tree is None:
        return Part(
            q.id,
            "unparseable",
            final.latex,
            final.line,
            f"Line {final.line} cannot be read: {unreadable_reason(final.error)}",
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


_SOURCE_QUOTE = re.compile(r"^cannot read (?:'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")(?: at character \d+)?: ")
_QUOTED = re.compile(r"'([^'\n]*\\[^'\n]*)'")


def unreadable_reason(error: str | None) -> str:
    """The parser's reason for an unreadable line as a sentence, without the line's LaTeX source
    (the student sees the line itself); a quoted piece of LaTeX in it is written as text
    ('\\text{sonst}' -> “sonst”), a command the checker does not know stays as typed."""
    reason = _SOURCE_QUOTE.sub("", error or "").strip().rstrip(".")

    def quoted(m: re.Match) -> str:
        latex = m.group(1).replace("\\\\", "\\")  # the parser quotes with repr(): backslashes doubled
        if re.fullmatch(r"\\[A-Za-z]+", latex):  # a command the checker does not know: as the student typed it
            return f"'{latex}'"
        shown = to_unicode(latex).strip()
        return f"“{shown}”" if shown else f"'{latex}'"

    reason = _QUOTED.sub(quoted, reason) or "it is not a formula the checker can read"
    return reason + "."


def grade_file(
    path: str | os.PathLike,
    problem: Problem | str,
    config: GradeConfig = DEFAULT_CONFIG,
    on_part: Callable[[Part], None] | None = None,
) -> Report:
    problem_id = problem if isinstance(problem, str) else problem.id
    try:
        source = read_source(path)
    except SubmissionError as exc:
        return Report(file=str(path), problem=problem_id, score=0.0, max_score=0.0, error=str(exc))
    try:
        report = grade_text(source.text, problem, file=str(path), config=config, on_part=on_part)
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
    `grade` grades the extracted file (default grade_file); a student's several files are each
    graded and one is chosen (choose_file)."""
    if not sub.files:
        return _graded_file(sub, problem, config, grade)
    return choose_file(list(sub.files), [_graded_file(f, problem, config, grade) for f in sub.files])


def choose_file(files: list[Submission], reports: list[Report]) -> Report:
    """The grade of a student who handed in several files (each graded, in `reports`): the file
    holding the most of the derivation (ties: the earlier in `files`, whose order is the
    preference: the latest resubmission, then a notebook, Markdown, LaTeX, text), with the
    others listed in `ignored`. If none holds any of it and one could not be read, the
    submission is not graded, with each file's reason."""
    found = [sum(p.verdict != "missing" for p in r.parts) for r in reports]
    best = max(range(len(reports)), key=lambda k: (found[k], -k))
    if found[best] == 0 and any(r.error for r in reports):
        reasons = "; ".join(_own_reason(f, r) for f, r in zip(files, reports))
        return replace(reports[0], error=f"{files[0].display}: none of the files could be graded ({reasons})")
    chosen = _own_name(files[best])
    ignored = []
    for k, (f, r) in enumerate(zip(files, reports)):
        if k == best:
            continue
        if r.error or not found[k]:
            ignored.append(_own_reason(f, r))
        elif found[k] < found[best]:
            ignored.append(f"{_own_name(f)}: {chosen} holds more of the derivation and was graded")
        else:
            why = "the later upload" if resubmission(chosen) > resubmission(_own_name(f)) else "tried first"
            ignored.append(f"{_own_name(f)}: {chosen} was graded instead ({why})")
    return replace(reports[best], ignored=tuple(ignored))


def _own_name(sub: Submission) -> str:
    return sub.student.file if sub.student is not None and sub.student.file else PurePosixPath(sub.display).name


def _own_reason(sub: Submission, report: Report) -> str:
    """A file of the student's in the student's own words: "notes.pdf: is binary ...", "refs.txt: no derivation in it"."""
    if report.error:
        shown = report.file + ": "
        reason = report.error[len(shown) :] if report.error.startswith(shown) else report.error
        return f"{_own_name(sub)}: {reason}"
    return f"{_own_name(sub)}: no part of the derivation in it"


def as_shown(report: Report, sub: Submission) -> Report:
    """A file's report named as the TA knows the file (its display name, not where it was extracted), with its student."""
    if sub.path != sub.display:
        error = report.error.replace(sub.path, sub.display) if report.error else None
        report = replace(report, file=sub.display, error=error)
    return replace(report, student=sub.student)


def _graded_file(sub: Submission, problem: Problem | str, config: GradeConfig, grade) -> Report:
    problem_id = problem if isinstance(problem, str) else problem.id
    if sub.error or not sub.path:
        report = Report(
            file=sub.display,
            problem=problem_id,
            score=0.0,
            max_score=0.0,
            error=sub.error or f"{sub.display}: not extracted",
        )
        return replace(report, student=sub.student)
    return as_shown((grade or grade_file)(sub.path, problem, config), sub)
