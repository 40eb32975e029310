"""The terminal view of `symderiv grade`: a table per submission, then the class summary.

Formulas in feedback are shown as Unicode (``W⁽²⁾ᵀ``), never as LaTeX source. A part's line
is shown once (as "cell 3, line 2" in a notebook); the first wrong step only when the part is
not accepted and the step is on another line; optional parts below the scored ones, apart;
a TA's override beside the verdict it replaced.
"""

from __future__ import annotations

import unicodedata

from symderiv.notation.mathtext import feedback_unicode
from symderiv.output.classview import ClassView
from symderiv.output.escape import terminal_text
from symderiv.output.report import MARKS

__all__ = ["grade_table", "class_summary", "points_text", "report_heading"]

ACCEPTED = ("correct", "correct-up-to-layout")


def points_text(points: float, max_points: float) -> str:
    return f"{round(points, 3):g}/{round(max_points, 3):g}"


def report_heading(report) -> str:
    who = report.student.label if report.student else ""
    name = f"{who} — {report.file}" if who else report.file
    if report.student and report.student.late:
        name += " (late)"
    return terminal_text(name)


def _label(p) -> str:
    return terminal_text(getattr(p, "name", "") or p.quantity)


def _width(text: str) -> int:
    """Columns on a terminal: a combining mark (the tilde of J̃) takes none."""
    return sum(0 if unicodedata.combining(ch) else 1 for ch in text)


def _padded(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _part_line(report, p, width: int) -> str:
    where = report.where(p.line) if p.line else "—"
    points = points_text(p.points, p.max_points) if p.max_points else ""
    text = terminal_text(feedback_unicode(p.feedback))
    if p.verdict not in ACCEPTED and p.first_wrong_line and p.first_wrong_line != p.line:
        text += f" First wrong step: {report.where(p.first_wrong_line)}."
    verdict = p.verdict
    if p.override and not p.ta_graded:
        text += f" TA: {terminal_text(p.override.get('comment', ''))}"
    elif p.override:
        was = p.override.get("automatic", {})
        verdict = f"{p.verdict} (overridden; was {was.get('verdict', '?')})"
        comment = p.override.get("comment")
        text = (f"TA: {terminal_text(comment).rstrip('.')}. " if comment else "TA override. ") + f"Checker: {text}"
    return f"  {MARKS.get(p.verdict, '?')} {_padded(_label(p), width)} {verdict:21} {points:>6}  {where:15} {text}"


def grade_table(report) -> str:
    if report.error and not report.by_hand:
        return f"{report_heading(report)}: ERROR {terminal_text(report.error)}"
    if report.error:
        comment = report.override.get("comment") or ""
        return (
            f"{report_heading(report)}  score {points_text(report.score, report.max_score or report.score)} "
            f"(set by a TA{': ' + terminal_text(comment) if comment else ''}; not graded: {terminal_text(report.error)})"
        )
    late = f", late: {report.late_penalty:.0%} taken off" if report.late_penalty else ""
    out = [f"{report_heading(report)}  ({report.problem})  score {points_text(report.score, report.max_score)}{late}"]
    if report.override and report.override.get("comment"):
        out.append(f"  TA: {terminal_text(report.override['comment'])}")
    width = max([_width(_label(p)) for p in report.parts] + [10])
    scored = [p for p in report.parts if p.max_points]
    optional = [p for p in report.parts if not p.max_points]
    out += [_part_line(report, p, width) for p in scored]
    if optional:
        out.append("  optional (checked, not scored):")
        out += [_part_line(report, p, width) for p in optional]
    said = {(p.line, p.feedback) for p in report.parts}
    bad = [s for s in report.steps if not s.ok and (s.line, s.message.split(": ", 1)[-1]) not in said]
    if bad:
        out.append("  wrong steps:")
        out.extend(f"    {report.where(s.line)}: {terminal_text(feedback_unicode(s.message))}" for s in bad)
    if report.ignored:
        out.append("  not graded: " + terminal_text("; ".join(report.ignored)))
    return "\n".join(out)


def class_summary(view: ClassView) -> str:
    """The class view for the terminal, printed after the tables."""
    mean = "—" if view.mean is None else points_text(view.mean, view.max_score)
    out = [
        f"Class: {view.submissions} submission{'s' if view.submissions != 1 else ''}, {view.graded} graded, "
        f"mean {mean}"
        + (f"; {len(view.unreadable)} not graded (not counted, listed below)" if view.unreadable else "")
        + (f"; {view.overrides} part{'s' if view.overrides != 1 else ''} overridden" if view.overrides else "")
    ]
    width = max([_width(_label(p)) for p in view.parts] + [10])
    for heading, parts in (
        ("", [p for p in view.parts if p.scored]),
        ("optional (not scored):", [p for p in view.parts if not p.scored]),
    ):
        if not parts:
            continue
        if heading:
            out.append("  " + heading)
        for p in parts:
            counts = "  ".join(f"{MARKS.get(v, '?')} {n}" for v, n in p.counts)
            mistakes = "; ".join(f"{name} ({n})" for _, name, n, _ in p.mistakes[:4])
            out.append(f"  {_padded(_label(p), width)} {counts}" + (f"   mistakes: {mistakes}" if mistakes else ""))
    if view.flagged:
        out.append("For review:")
        out += [
            terminal_text(
                f"  {f.student + ' — ' if f.student else ''}{f.file}  {f.quantity}"
                f"{f' (line {f.line})' if f.line else ''}: {f.reason}"
            )
            for f in view.flagged
        ]
    if view.unreadable:
        out.append("Not graded:")
        out += [f"  {terminal_text(error)}" for _, error in view.unreadable]
    return "\n".join(out)
