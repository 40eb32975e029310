"""What the class got wrong: per part, the verdict counts and the named mistakes; what to review.

    view = class_view(reports, problem)
    view.parts[0].mistakes      # (("missing-regularisation", "missed the regularisation term", 14), ...)
    view.flagged                # parts a person should look at, with the reason
    view.to_dict()              # what `grade --summary-json FILE` writes

Only graded submissions count: an unreadable file is listed in ``unreadable`` and left out
of the counts and the mean (it would otherwise count as 0 of 0). A mistake is the checker's
diagnosis code (``check["diagnosis"]``); an incorrect part without one counts as
"no named mistake". A part is flagged for review when it is unparseable, when the symbolic
check could not decide (timeout, error), when the numeric and symbolic checks disagree, or
when a TA has overridden it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from symderiv.grading.names import quantity_name

__all__ = ["ClassView", "PartSummary", "Flag", "class_view", "mistake_name", "review_reason", "VERDICTS"]

VERDICTS = ("correct", "correct-up-to-layout", "incorrect", "unparseable", "missing")

MISTAKES = {
    "sign": "the sign is wrong",
    "missing-1/N": "the 1/N is missing",
    "extra-1/N": "an extra 1/N",
    "extra-N": "an extra factor N",
    "coefficient": "a wrong coefficient",
    "zero": "the claim is zero",
    "missing-regularisation": "the regularisation term (2λW) is missing",
    "regularisation-coefficient": "λW instead of 2λW",
    "regularisation-sign": "the regularisation term has the wrong sign",
    "extra-regularisation": "a regularisation term where there is none",
    "wrong-weight": "the regulariser uses another layer's weight",
    "missing-activation-derivative": "the activation derivative is missing",
    "wrong-layer": "a quantity from the wrong layer",
    "swapped-indices": "swapped indices",
    "size": "wrong sizes (a factor missing or extra)",
    "only-diagonal": "right only for i = j",
    "only-off-diagonal": "right only for i ≠ j",
    "arithmetic": "an arithmetic slip",
    "symbolic-difference": "equal at the test points only",
    "missing-term": "a term is missing",
    "extra-term": "a term that does not belong",
    "missing-factor": "a factor is missing",
    "extra-factor": "an extra factor",
    "extra-activation-derivative": "an activation derivative that does not belong",
    "wrong-activation-derivative": "the wrong activation derivative",
    "activation-for-derivative": "the activation where its derivative belongs",
    "pre-activation-for-activation": "the pre-activation where the activation belongs",
    "input-for-activation": "the input where the activation belongs",
    "wrong-activation": "the wrong activation function",
    "wrong-variable": "one variable where another belongs",
    "wrong-time-step": "a quantity from the wrong time step",
    "wrong-index": "a wrong index",
    "wrong-part": "one part of the answer wrong",
    "wrong-power": "a wrong power (the variance where the standard deviation belongs)",
    "wrong-axis": "a sum over the wrong axis",
    "bias-missing": "the bias left out of an activation's argument",
    "bias-missing-in-indicator": "the bias left out of the indicator",
    "indicator-argument": "the indicator's condition is wrong",
    "reversed-indicator": "the indicator is reversed",
    "transposed-factor": "a square factor transposed",
    "missing-path": "a path of the graph left out",
    "only-one-case": "right for one case only",
    "other-quantity": "the answer to another part",
    "1/N-on-one-term": "the 1/N on one term only",
    "sum-bounds": "a sum over the wrong range",
    "regularisation-inside-bracket": "the regulariser inside the bracket",
    "labels-for-kronecker": "the label matrix for the Kronecker delta",
    None: "no named mistake",
}


def mistake_name(code: str | None) -> str:
    return MISTAKES.get(code, code.replace("-", " ") if code else MISTAKES[None])


@dataclass(frozen=True)
class PartSummary:
    quantity: str
    scored: bool
    counts: tuple[tuple[str, int], ...]  # (verdict, students) in VERDICTS order
    mistakes: tuple[tuple[str, str, int, str], ...]  # (code, name, students, one student's feedback)
    mean_points: float | None
    name: str = ""  # the quantity's display name (∂J̃/∂W⁽²⁾)

    def to_dict(self) -> dict:
        return {
            "quantity": self.quantity,
            "name": self.name or self.quantity,
            "scored": self.scored,
            "counts": dict(self.counts),
            "mistakes": [{"diagnosis": c, "name": n, "students": k, "example": e} for c, n, k, e in self.mistakes],
            "mean_points": None if self.mean_points is None else round(self.mean_points, 4),
        }


@dataclass(frozen=True)
class Flag:
    file: str
    student: str
    quantity: str
    reason: str
    line: int | None = None

    def to_dict(self) -> dict:
        return {
            "file": self.file,
            "student": self.student,
            "quantity": self.quantity,
            "reason": self.reason,
            "line": self.line,
        }


@dataclass(frozen=True)
class ClassView:
    problem: str
    submissions: int
    graded: int
    mean: float | None
    max_score: float
    parts: tuple[PartSummary, ...]
    flagged: tuple[Flag, ...]
    unreadable: tuple[tuple[str, str], ...]  # (file, error)
    overrides: int = 0

    def to_dict(self) -> dict:
        return {
            "problem": self.problem,
            "submissions": self.submissions,
            "graded": self.graded,
            "mean": None if self.mean is None else round(self.mean, 4),
            "max_score": self.max_score,
            "parts": [p.to_dict() for p in self.parts],
            "flagged": [f.to_dict() for f in self.flagged],
            "unreadable": [{"file": f, "error": e} for f, e in self.unreadable],
            "overrides": self.overrides,
        }


def review_reason(part) -> str | None:
    """Why a person should look at this part, or None."""
    if part.ta_graded:
        return "overridden by a TA"
    if getattr(part, "review", None):  # a part whose grading asked for a person itself
        return part.review
    if part.verdict == "unparseable":
        return "unparseable"
    check = part.check or {}
    numeric = (check.get("numeric") or {}).get("status")
    symbolic = (check.get("symbolic") or {}).get("status")
    if symbolic in ("timeout", "error"):
        return "the symbolic check could not decide"
    if (numeric == "equal" and symbolic == "different") or (
        numeric in ("different", "no-typecheck") and symbolic == "equal"
    ):
        return "the numeric and symbolic checks disagree"
    return None


def _student(report) -> str:
    return report.student.label if getattr(report, "student", None) else ""


def class_view(reports, problem) -> ClassView:
    reports = list(reports)
    graded = [r for r in reports if not r.error]
    counted = [r for r in reports if r.graded]  # with the submissions a TA scored by hand
    claimed = [q for r in graded for q in (p.quantity for p in r.parts)]
    ids = list(problem.parts) + [q for q in dict.fromkeys(claimed) if q not in problem.parts]
    summaries = []
    for qid in ids:
        scored = qid in problem.parts
        verdicts, mistakes, points, examples = Counter(), Counter(), [], {}
        for r in graded:
            part = next((p for p in r.parts if p.quantity == qid), None)
            if part is None:
                if scored:
                    verdicts["missing"] += 1
                continue
            verdicts[part.verdict] += 1
            points.append(part.points)
            if part.verdict == "incorrect":
                code = (part.check or {}).get("diagnosis")
                mistakes[code] += 1
                examples.setdefault(code, part.feedback)
        order = sorted(mistakes.items(), key=lambda kv: (-kv[1], str(kv[0])))
        summaries.append(
            PartSummary(
                qid,
                scored,
                tuple((v, verdicts[v]) for v in VERDICTS if scored or v != "missing")
                + tuple((v, n) for v, n in verdicts.items() if v not in VERDICTS),
                tuple((code or "", mistake_name(code), n, examples[code]) for code, n in order),
                sum(points) / len(graded) if scored and graded else None,
                quantity_name(problem, qid),
            )
        )
    flagged = tuple(
        Flag(r.file, _student(r), p.quantity, reason, p.line)
        for r in graded
        for p in r.parts
        if (reason := review_reason(p))
    )
    mean = sum(r.score for r in counted) / len(counted) if counted else None
    most = max((r.max_score for r in graded), default=None)
    if most is None:
        most = sum(problem.part_points(q) for q in problem.parts) if hasattr(problem, "part_points") else 0.0
    return ClassView(
        problem.id,
        len(reports),
        len(counted),
        mean,
        most,
        tuple(summaries),
        flagged,
        tuple((r.file, r.error) for r in reports if r.error and not r.by_hand),
        sum(1 for r in graded for p in r.parts if p.ta_graded),
    )
