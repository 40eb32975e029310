"""What grading produces: frozen results that carry their evidence (parts, steps, the report)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from symderiv.notation.mathtext import feedback_unicode
from symderiv.reading.identity import Student
from symderiv.reading.notebook import location


@dataclass(frozen=True)
class GradeConfig:
    layout_credit: float = 0.75  # share of a part's points for correct-up-to-layout
    symbolic: bool = True
    timeout: float = 5.0
    total: float | None = None  # the assignment's points (--points, the roster's): the key's points scaled to it

    def part_points(self, problem) -> dict[str, float]:
        """Each part's maximum: the key's [grading] points, scaled so that they add up to `total`."""
        raw = {q: problem.part_points(q) for q in problem.parts}
        scale = self.total / sum(raw.values()) if self.total is not None and sum(raw.values()) > 0 else 1.0
        return {q: value * scale for q, value in raw.items()}


DEFAULT_CONFIG = GradeConfig()


@dataclass(frozen=True)
class Step:
    line: int
    ok: bool
    message: str
    left: str = ""
    right: str = ""
    quantity: str | None = None


@dataclass(frozen=True)
class Part:
    quantity: str
    verdict: str  # correct | correct-up-to-layout | incorrect | unparseable | missing | undecided
    claim: str
    line: int | None
    feedback: str
    points: float
    max_points: float
    first_wrong_line: int | None = None
    check: dict | None = None
    override: dict | None = None  # a TA's override: {"verdict", "points", "comment", "automatic": {...}}
    review: str | None = None  # set when a person must decide (the grader could not)
    name: str = ""  # the quantity as students see it (∂J̃/∂W⁽²⁾): grading/names.py

    @property
    def ta_graded(self) -> bool:
        """A TA set this part's verdict or points (a row with only a comment leaves the grade, and the
        checker's message, standing)."""
        return bool(self.override) and self.override.get("graded", True)


@dataclass(frozen=True)
class Report:
    file: str
    problem: str
    score: float
    max_score: float
    parts: tuple[Part, ...] = ()
    steps: tuple[Step, ...] = ()
    error: str | None = None
    student: Student | None = None  # who handed it in (file-name pattern or roster)
    cells: tuple[tuple[int, int, str], ...] = ()  # a notebook's cells: (first line, number, kind)
    ignored: tuple[str, ...] = ()  # the student's other files, not graded ("references.txt: no derivation in it")
    late_penalty: float = 0.0  # the share of the score taken off for lateness (--late-penalty)
    override: dict | None = None  # a TA's word on the whole submission: {"points"?, "comment"} (points: the score)

    def where(self, line: int | None) -> str:
        """A line as the student sees it: "line 7", or "cell 3, line 2" in a notebook."""
        return location(self.cells, line)

    @property
    def graded(self) -> bool:
        """A score exists: the file was graded, or a TA gave it one."""
        return not self.error or self.by_hand

    @property
    def by_hand(self) -> bool:
        """A TA gave the whole submission its score (--overrides with an empty part)."""
        return self.override is not None and "points" in self.override

    def rescored(self) -> Report:
        """The report with its score recomputed: the parts' points less the late penalty, or a TA's score."""
        if self.by_hand:
            return replace(self, score=float(self.override["points"]))
        return replace(self, score=sum(p.points for p in self.parts) * (1.0 - self.late_penalty))

    def to_dict(self) -> dict:
        d = {
            "file": self.file,
            "problem": self.problem,
            "score": round(self.score, 4),
            "max_score": self.max_score,
            "parts": [
                {
                    "quantity": p.quantity,
                    "name": p.name or p.quantity,
                    "verdict": p.verdict,
                    "claim": p.claim,
                    "line": p.line,
                    "feedback": feedback_unicode(p.feedback),
                    "feedback_latex": p.feedback,
                    "points": round(p.points, 4),
                    "max_points": p.max_points,
                    "first_wrong_line": p.first_wrong_line,
                    "check": p.check,
                    **({"location": self.where(p.line)} if self.cells and p.line else {}),
                    **({"override": p.override} if p.override else {}),
                    **({"review": p.review} if p.review else {}),
                }
                for p in self.parts
            ],
            "steps": [
                {
                    "line": s.line,
                    "ok": s.ok,
                    "message": feedback_unicode(s.message),
                    "message_latex": s.message,
                    "left": s.left,
                    "right": s.right,
                    "quantity": s.quantity,
                }
                for s in self.steps
            ],
        }
        if self.error:
            d["error"] = self.error
        if self.student is not None:
            d["student"] = self.student.to_dict()
        if self.ignored:
            d["ignored"] = list(self.ignored)
        if self.late_penalty:
            d["late_penalty"] = self.late_penalty
        if self.override is not None:
            d["override"] = self.override
        return d
