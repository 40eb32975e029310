"""A TA's overrides and the late policy, applied on top of the automatic grades.

The overrides file (`grade --overrides FILE`) is a small CSV with a header row::

    file,part,verdict,points,comment
    smithjane_123456_7890123_hw2.md,dJt/dW2,correct,,the 2λW is on the next page
    Bob Okafor,dJ/db1,,0.5,half credit: sign slip only
    123458,,,4,graded by hand from the scan (the PDF could not be read)
    123459,dJ/dz3,,,look at the definition of E on page 1

``file`` names one submission: its name as shown, the end of its path, the student's LMS id,
SIS id or login, or the student's name (whole, any case); it must name exactly one. ``part`` is
a quantity id or its display name; left empty, the row sets the whole submission's score (so an
unreadable submission graded by hand gets its grade). Give a verdict (the points follow from it
as for the automatic grade), points (the verdict stays), both, or only a comment (shown to the
student, the grade unchanged); a ``verdict`` cell holding a number is read as points.

Every row is checked, and a bad one is an error naming the file and its line, before anything
is applied: points must be a finite number from 0 to the part's maximum (the submission's for a
whole-submission row); points on an optional part are clamped to its maximum of 0; two rows for
the same part of the same submission are an error naming both lines; a row that matches no
submission, or several, is an error. An override is never lost silently, and every overridden
part keeps what the checker said under ``override["automatic"]``.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, replace
from pathlib import Path, PurePath

from symderiv.core.errors import SymderivError
from symderiv.grading.results import Report

__all__ = ["Override", "load_overrides", "check_targets", "apply_overrides", "apply_late_penalty", "VERDICTS"]

VERDICTS = ("correct", "correct-up-to-layout", "incorrect", "unparseable", "missing")


@dataclass(frozen=True)
class Override:
    file: str
    part: str  # "" for the whole submission
    verdict: str | None
    points: float | None
    comment: str
    line: int


def _text(cell: str) -> str:
    return "".join(ch for ch in cell if ch.isprintable() or ch == " ").strip()


def load_overrides(path: str | Path) -> list[Override]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SymderivError(f"{path}: the overrides cannot be read ({exc})") from None
    reader = csv.reader(io.StringIO(text.replace("\x00", "")))
    try:
        rows = [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise SymderivError(f"{path}:{reader.line_num}: not a CSV row ({exc})") from None
    if not rows:
        return []
    header = [h.strip().lower() for h in rows[0][1]]
    if "file" not in header or not ({"part", "quantity"} & set(header)):
        raise SymderivError(f"{path}:1: the header must name the columns file, part, verdict, points, comment")
    out = []
    for number, row in rows[1:]:
        if not any(cell.strip() for cell in row):
            continue
        cell = dict(zip(header, (_text(c) for c in row)))
        verdict = cell.get("verdict") or None
        points_text = cell.get("points") or None
        if verdict and _number(verdict) is not None:
            verdict, points_text = None, verdict
        if verdict and verdict not in VERDICTS:
            raise SymderivError(f"{path}:{number}: unknown verdict {verdict!r} (one of {', '.join(VERDICTS)})")
        points = _number(points_text) if points_text else None
        if points_text and points is None:
            raise SymderivError(f"{path}:{number}: points must be a finite number, not {points_text!r}")
        comment = cell.get("comment", "")
        if verdict is None and points is None and not comment:
            raise SymderivError(f"{path}:{number}: give a verdict, points or a comment")
        name = cell.get("file", "")
        if not name:
            raise SymderivError(f"{path}:{number}: the file column is empty (a file, LMS id or student name)")
        part = cell.get("part") or cell.get("quantity", "")
        if not part and verdict is not None:
            raise SymderivError(f"{path}:{number}: a verdict needs a part; for the whole submission give points")
        out.append(Override(name, part, verdict, points, comment, number))
    return out


def _number(text: str | None) -> float | None:
    try:
        value = float(text) if text is not None else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


def _name_forms(name: str) -> set[str]:
    """A person's name as a TA may write it: any case and spacing, "Last, First" or "First Last"."""
    words = lambda text: " ".join(re.findall(r"[^\W_]+(?:['’-][^\W_]+)*", text.casefold()))  # noqa: E731
    forms = {words(name)}
    if "," in name:
        last, first = name.split(",", 1)
        forms.add(words(f"{first} {last}"))
    return {f for f in forms if f}


def _matches(report, name: str) -> bool:
    shown = str(report.file).replace("\\", "/")
    name = name.replace("\\", "/")
    student = getattr(report, "student", None)
    return bool(name) and (
        shown == name
        or shown.endswith("/" + name)
        or PurePath(shown).name == name
        or (student is not None and name in (student.id, student.sis_id, student.login) and name != "")
        or (student is not None and bool(student.name) and bool(_name_forms(name) & _name_forms(student.name)))
    )


def _part_index(report, wanted: str, names: dict[str, str]) -> int | None:
    for k, p in enumerate(report.parts):
        if wanted in (p.quantity, p.name, names.get(p.quantity)):
            return k
    return None


def _target(reports, o: Override, source: str) -> int:
    hits = [i for i, r in enumerate(reports) if _matches(r, o.file)]
    if not hits:
        raise SymderivError(f"{source}:{o.line}: no submission matches {o.file!r}")
    if len(hits) > 1:
        raise SymderivError(
            f"{source}:{o.line}: {o.file!r} matches {len(hits)} submissions; give the file name or the LMS id"
        )
    return hits[0]


def check_targets(submissions, overrides: list[Override], source: str = "overrides") -> None:
    """Before grading: every row names exactly one of the collected submissions (anything with
    `.display` or `.file` and `.student`), so a typo costs no graded class. SymderivError naming the line."""
    shown = [
        Report(getattr(s, "display", getattr(s, "file", "")), "", 0.0, 0.0, student=s.student) for s in submissions
    ]
    for o in overrides:
        _target(shown, o, source)


def apply_overrides(
    reports, overrides: list[Override], layout_credit: float = 0.75, source: str = "overrides", total: float = 0.0
):
    """The reports with the overrides applied and their scores recomputed. Every row is checked
    first (SymderivError naming `source` and the line); `total` is a whole submission's maximum."""
    reports = list(reports)
    plan: dict[tuple[int, str], Override] = {}
    for o in overrides:
        hits = [_target(reports, o, source)]
        report = reports[hits[0]]
        key = o.part
        if o.part:
            if report.error:
                raise SymderivError(
                    f"{source}:{o.line}: {report.file} was not graded ({report.error}); "
                    "give its score for the whole submission (an empty part)"
                )
            index = _part_index(report, o.part, {})
            if index is None:
                known = ", ".join(p.quantity for p in report.parts)
                raise SymderivError(f"{source}:{o.line}: {report.file} has no part {o.part!r} (its parts: {known})")
            part = report.parts[index]
            key = part.quantity
            if o.points is not None and part.max_points and not 0 <= o.points <= part.max_points:
                raise SymderivError(
                    f"{source}:{o.line}: {o.points:g} points for {part.quantity}, whose maximum is {part.max_points:g}"
                )
            if o.points is not None and o.points < 0:
                raise SymderivError(f"{source}:{o.line}: {o.points:g} points; points are never negative")
        else:
            most = total or report.max_score
            if o.points is not None and not 0 <= o.points <= most:
                raise SymderivError(
                    f"{source}:{o.line}: {o.points:g} points for the whole submission, whose maximum is {most:g}"
                )
            if o.points is None and report.error:
                raise SymderivError(f"{source}:{o.line}: {report.file} was not graded; give its points")
        if (hits[0], key) in plan:
            first = plan[(hits[0], key)]
            raise SymderivError(
                f"{source}:{o.line}: a second row for {key or 'the whole submission'} of {report.file} "
                f"(the first is line {first.line}); keep one"
            )
        plan[(hits[0], key)] = o
    for (i, key), o in plan.items():
        reports[i] = _apply(reports[i], key, o, layout_credit, total)
    return [r.rescored() for r in reports]


def _apply(report, key: str, o: Override, layout_credit: float, total: float):
    if not key:
        if o.points is None:  # a comment for the whole submission
            return replace(report, override={"comment": o.comment})
        return replace(report, override={"points": o.points, "comment": o.comment}, max_score=report.max_score or total)
    index = next(k for k, p in enumerate(report.parts) if p.quantity == key)
    part = report.parts[index]
    verdict = o.verdict or part.verdict
    if o.points is not None:
        points = min(o.points, part.max_points)  # an optional part's maximum is 0: clamped to it
    elif o.verdict is not None:
        share = {"correct": 1.0, "correct-up-to-layout": layout_credit}.get(verdict, 0.0)
        points = part.max_points * share
    else:
        points = part.points
    automatic = (part.override or {}).get("automatic") or {
        "verdict": part.verdict,
        "points": part.points,
        "feedback": part.feedback,
    }
    new = replace(
        part,
        verdict=verdict,
        points=points,
        override={
            "verdict": verdict,
            "points": points,
            "comment": o.comment,
            "automatic": automatic,
            "graded": o.verdict is not None or o.points is not None,
        },
    )
    return replace(report, parts=report.parts[:index] + (new,) + report.parts[index + 1 :])


def apply_late_penalty(reports, share: float):
    """The late policy (`grade --late-penalty SHARE`): a late submission (Canvas's LATE in its
    file name, or the roster) loses `share` of its score; a TA's whole-submission score stands."""
    if not share:
        return list(reports)
    out = []
    for r in reports:
        late = r.student is not None and r.student.late
        out.append(replace(r, late_penalty=share).rescored() if late and not r.by_hand else r)
    return out
