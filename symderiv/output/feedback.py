"""Feedback to send back to each student: Markdown and HTML files (`grade --feedback DIR`), and
the plain text the LMS formats and autograders carry.

Formulas are Unicode in text and Markdown (``W⁽²⁾ᵀ``), MathML in HTML; the student's own
final answers are shown as they wrote them, rendered. A student's file name comes from their
name and id where known (``smithjane-123456.md``), else from the submission's path.
"""

from __future__ import annotations

from pathlib import Path

from symderiv.core.files import write_atomic
from symderiv.notation.mathtext import feedback_unicode
from symderiv.notation.unicode import to_unicode
from symderiv.output.html import page_names, short_names, submission_page, who
from symderiv.output.report import MARKS
from symderiv.output.terminal import points_text

__all__ = ["part_feedback", "feedback_text", "feedback_markdown", "write_feedback"]


def part_feedback(report, part) -> str:
    """One part's feedback as Unicode text, with a TA's comment first when overridden."""
    text = feedback_unicode(part.feedback)
    if part.override:
        comment = part.override.get("comment")
        text = (f"TA: {comment}. " if comment else "Grade set by a TA. ") + f"(Checker: {text})"
    if part.line:
        text = f"{report.where(part.line)}: {text}"
    return text


def feedback_text(report) -> str:
    """The whole submission's feedback as plain Unicode lines (Moodle's feedback column, autograders)."""
    if report.error:
        return f"Not graded: {report.error}"
    lines = [f"Score {points_text(report.score, report.max_score)}."]
    for p in report.parts:
        points = f" {points_text(p.points, p.max_points)}" if p.max_points else " (optional)"
        lines.append(f"{MARKS.get(p.verdict, '?')} {p.quantity}{points}: {part_feedback(report, p)}")
    return "\n".join(lines)


def feedback_markdown(report, problem, short: str | None = None) -> str:
    """A student's feedback as Markdown (math as Unicode: it reads the same in any viewer)."""
    out = [f"# {problem.title}: feedback for {who(report, short)}", ""]
    if report.error:
        return "\n".join(out + [f"This submission could not be graded: {report.error}", ""])
    out += [
        f"**Score: {points_text(report.score, report.max_score)}**",
        "",
        "| Part | Verdict | Points | Your answer | Feedback |",
        "|---|---|---|---|---|",
    ]
    for p in report.parts:
        points = points_text(p.points, p.max_points) if p.max_points else "optional"
        verdict = f"{MARKS.get(p.verdict, '?')} {p.verdict}" + (" (set by a TA)" if p.override else "")
        cells = [p.quantity, verdict, points, to_unicode(p.claim) if p.claim else "—", part_feedback(report, p)]
        out.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    bad = [s for s in report.steps if not s.ok]
    if bad:
        out += ["", "## Steps that do not hold", ""]
        out += [f"- {report.where(s.line)}: {feedback_unicode(s.message)}" for s in bad]
    return "\n".join(out) + "\n"


def write_feedback(reports, problem, out_dir) -> list[Path]:
    """One .md and one .html per submission in out_dir (created); returns the paths written."""
    reports = list(reports)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = [r.file for r in reports]
    names = page_names(files, [getattr(r, "student", None) for r in reports])
    written = []
    for report, name, short in zip(reports, names, short_names(files)):
        stem = name.removesuffix(".html")
        md, html = out_dir / f"{stem}.md", out_dir / f"{stem}.html"
        write_atomic(md, feedback_markdown(report, problem, short))
        write_atomic(html, submission_page(report, problem, back=None, short=short))
        written += [md, html]
    return written
