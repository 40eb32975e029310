"""A TA's overrides, applied on top of the automatic grades (`grade --overrides FILE`).

The file is a small CSV with a header row::

    file,part,verdict,points,comment
    smithjane_123456_7890123_hw2.md,dJt/dW2,correct,,the 2λW is on the next page
    hw/bob.md,dJ/db1,,0.5,half credit: sign slip only

``file`` matches a submission by its name as shown, its path's end or the student's id;
``part`` is a quantity id. Give a verdict (the points follow from it, as for the automatic
grade) or points (the verdict stays), or both; a ``verdict`` cell holding a number is read as
points. Every overridden part keeps what the checker said under ``override["automatic"]``
and is shown as overridden in every output. A row that matches nothing is an error naming
the file and its line: an override must never be lost silently.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, replace
from pathlib import Path, PurePath

from symderiv.core.errors import SymderivError

__all__ = ["Override", "load_overrides", "apply_overrides", "VERDICTS"]

VERDICTS = ("correct", "correct-up-to-layout", "incorrect", "unparseable", "missing")


@dataclass(frozen=True)
class Override:
    file: str
    part: str
    verdict: str | None
    points: float | None
    comment: str
    line: int


def load_overrides(path: str | Path) -> list[Override]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SymderivError(f"{path}: the overrides cannot be read ({exc})") from None
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return []
    header = [h.strip().lower() for h in rows[0]]
    if "file" not in header or not ({"part", "quantity"} & set(header)):
        raise SymderivError(f"{path}:1: the header must name the columns file, part, verdict or points, comment")
    out = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        cell = dict(zip(header, (c.strip() for c in row)))
        verdict = cell.get("verdict") or None
        points_text = cell.get("points") or None
        if verdict and _number(verdict) is not None:
            verdict, points_text = None, verdict
        if verdict and verdict not in VERDICTS:
            raise SymderivError(f"{path}:{number}: unknown verdict {verdict!r} (one of {', '.join(VERDICTS)})")
        points = _number(points_text) if points_text else None
        if points_text and points is None:
            raise SymderivError(f"{path}:{number}: points must be a number, not {points_text!r}")
        if verdict is None and points is None:
            raise SymderivError(f"{path}:{number}: give a verdict or points")
        out.append(
            Override(
                cell.get("file", ""),
                cell.get("part") or cell.get("quantity", ""),
                verdict,
                points,
                cell.get("comment", ""),
                number,
            )
        )
    return out


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def _matches(report, name: str) -> bool:
    shown = str(report.file).replace("\\", "/")
    name = name.replace("\\", "/")
    student = getattr(report, "student", None)
    return bool(name) and (
        shown == name
        or shown.endswith("/" + name)
        or PurePath(shown).name == name
        or (student is not None and name in (student.id, student.sis_id, student.login))
    )


def apply_overrides(reports, overrides: list[Override], layout_credit: float = 0.75, source: str = "overrides"):
    """The reports with the overrides applied (scores recomputed); SymderivError for a row matching nothing."""
    reports = list(reports)
    for o in overrides:
        hits = [i for i, r in enumerate(reports) if not r.error and _matches(r, o.file)]
        if not hits:
            raise SymderivError(f"{source}:{o.line}: no graded submission matches {o.file!r}")
        if len(hits) > 1:
            raise SymderivError(f"{source}:{o.line}: {o.file!r} matches {len(hits)} submissions; give more of the path")
        report = reports[hits[0]]
        index = next((k for k, p in enumerate(report.parts) if p.quantity == o.part), None)
        if index is None:
            raise SymderivError(f"{source}:{o.line}: {report.file} has no part {o.part!r}")
        part = report.parts[index]
        verdict = o.verdict or part.verdict
        if o.points is not None:
            points = min(max(o.points, 0.0), part.max_points) if part.max_points else o.points
        else:
            share = {"correct": 1.0, "correct-up-to-layout": layout_credit}.get(verdict, 0.0)
            points = part.max_points * share
        automatic = (part.override or {}).get("automatic") or {
            "verdict": part.verdict,
            "points": part.points,
            "feedback": part.feedback,
        }
        new = replace(
            part,
            verdict=verdict,
            points=points,
            override={"verdict": verdict, "points": points, "comment": o.comment, "automatic": automatic},
        )
        parts = report.parts[:index] + (new,) + report.parts[index + 1 :]
        reports[hits[0]] = replace(report, parts=parts, score=sum(p.points for p in parts))
    return reports
