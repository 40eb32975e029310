"""Feedback to send back to each student: Markdown and HTML files (`grade --feedback DIR`), the
zips each platform's bulk feedback upload takes, and the plain text the LMS formats and
autograders carry.

What a student sees names parts as the problem does (∂J̃/∂W⁽²⁾, never ``dJt/dW2``), names the
student's own files by the names they gave them (never a zip path, a download folder or a
temporary file), carries no LMS user id and no problem id, and shows formulas rendered (Unicode
in text and Markdown, MathML in HTML), never as LaTeX source. On a part a TA has overridden the
student sees the TA's comment, not the checker's message it replaced.

Files: a ``.md`` and an ``.html`` per student in DIR, named after the student (``Smith_Jane-123456``)
for the staff; and, for submissions that came from an LMS bulk download, a zip to upload as it is:

- ``canvas-feedback.zip``: ``<name>_<userid>_<fileid>_feedback.html`` per student. Canvas's
  "Upload" of a submissions zip (``Assignment#generate_comments_from_files``) reads the first two
  numbers of a name as the user and one of the files the student submitted, and attaches the
  file to that student's submission as a comment. A text entry has no file id: its feedback
  is listed for pasting by hand.
- ``moodle-feedback.zip``: ``<Full name>_<participant>_assignsubmission_file_/feedback.html``,
  the folder Moodle's "Upload multiple feedback files in a zip" matches by participant number.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from symderiv.core.files import write_atomic
from symderiv.notation.mathtext import feedback_unicode
from symderiv.notation.unicode import to_unicode
from symderiv.output.escape import markdown_code, markdown_text, strip_controls
from symderiv.output.html import page_names, student_error, submission_page
from symderiv.output.report import MARKS
from symderiv.output.terminal import points_text

__all__ = [
    "part_feedback",
    "feedback_lines",
    "feedback_text",
    "feedback_markdown",
    "write_feedback",
    "claim_text",
    "FeedbackFiles",
]


def claim_text(latex: str) -> str:
    """A student's formula as Unicode text for a student to read."""
    text = to_unicode(latex) if latex else ""
    # notation/unicode.py writes a `cases` row's \text{if ...} condition after its own "if"
    return re.sub(r"\bif (if|otherwise|else|sonst)\b", r"\1", text)


def part_name(part) -> str:
    return part.name or part.quantity


def part_feedback(report, part, student: bool = True) -> str:
    """One part's feedback as Unicode text. On an overridden part the student sees the TA's comment
    (or that a TA set the grade); the staff (`student=False`) see the checker's message beside it."""
    text = feedback_unicode(part.feedback)
    if part.override:
        comment = part.override.get("comment")
        if not part.ta_graded:  # only a comment: the checker's message stands beside it
            text = f"{text} {'Your TA' if student else 'TA'}: {comment}"
        elif student:
            text = f"Your TA: {comment}" if comment else "Your TA set the grade of this part."
        else:
            text = (f"TA: {comment.rstrip('.')}. " if comment else "Grade set by a TA. ") + f"(Checker: {text})"
    if part.line:
        text = f"{report.where(part.line)}: {text}"
    return strip_controls(text)


def _score_line(report) -> str:
    if report.by_hand:
        comment = report.override.get("comment")
        return f"Score {points_text(report.score, report.max_score or report.score)}, set by your TA" + (
            f": {comment}" if comment else "."
        )
    line = f"Score {points_text(report.score, report.max_score)}."
    if report.late_penalty:
        raw = sum(p.points for p in report.parts)
        line += f" Late: {report.late_penalty:.0%} taken off (before the penalty {points_text(raw, report.max_score)})."
    if report.override and report.override.get("comment"):
        line += f" Your TA: {report.override['comment']}"
    return line


def feedback_lines(report) -> list[str]:
    """The whole submission's feedback for the student, as lines of plain Unicode text: the score,
    then one line per part, then the files that were not graded."""
    if report.error and not report.by_hand:
        return [f"Your submission could not be graded: {student_error(report)}"]
    lines = [_score_line(report)]
    if report.error:  # graded by hand
        return lines
    for p in report.parts:
        points = f" {points_text(p.points, p.max_points)}" if p.max_points else " (optional, not scored)"
        lines.append(f"{MARKS.get(p.verdict, '?')} {part_name(p)}{points}: {part_feedback(report, p)}")
    if report.ignored:
        lines.append("Also received, not graded: " + "; ".join(report.ignored) + ".")
    return [strip_controls(line) for line in lines]


def feedback_text(report) -> str:
    """The whole submission's feedback as plain Unicode lines (autograders, the terminal)."""
    return "\n".join(feedback_lines(report))


def feedback_markdown(report, problem, short: str | None = None) -> str:
    """A student's feedback as Markdown (math as Unicode: it reads the same in any viewer). Every
    piece of student or file text is escaped: it cannot become HTML, a link or a table cell."""
    who = report.student.shown_name if report.student is not None and report.student.name else "your submission"
    out = [f"# {markdown_text(problem.title)}: feedback for {markdown_text(who)}", ""]
    if report.error and not report.by_hand:
        return "\n".join(out + [f"Your submission could not be graded: {markdown_text(student_error(report))}", ""])
    out += [f"**{markdown_text(_score_line(report))}**", ""]
    if report.error:
        return "\n".join(out)
    out += ["| Part | Verdict | Points | Your answer | Feedback |", "|---|---|---|---|---|"]
    for p in report.parts:
        points = points_text(p.points, p.max_points) if p.max_points else "optional"
        verdict = f"{MARKS.get(p.verdict, '?')} {p.verdict}" + (" (set by your TA)" if p.ta_graded else "")
        claim = markdown_code(claim_text(p.claim)) if p.claim else "—"
        cells = [
            markdown_text(part_name(p)),
            markdown_text(verdict),
            points,
            claim,
            markdown_text(part_feedback(report, p)),
        ]
        out.append("| " + " | ".join(cells) + " |")
    overridden = {p.quantity for p in report.parts if p.ta_graded}
    bad = [s for s in report.steps if not s.ok and s.quantity not in overridden]
    if bad:
        out += ["", "## Steps that do not hold", ""]
        out += [f"- {markdown_text(report.where(s.line))}: {markdown_text(feedback_unicode(s.message))}" for s in bad]
    if report.ignored:
        out += ["", "## Also received, not graded", ""]
        out += [f"- {markdown_text(item)}" for item in report.ignored]
    return "\n".join(out) + "\n"


# ---- files --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedbackFiles:
    """What write_feedback wrote: the files, the platform zips, and the feedback to paste by hand."""

    files: tuple[Path, ...]
    zips: tuple[Path, ...]
    by_hand: tuple[str, ...]


def _canvas_member(student) -> str | None:
    if not student.attachment:
        return None
    # Canvas reads only the first two all-digit pieces between underscores: the name keeps none
    name = re.sub(r"[\W_]", "", student.name.lower()) if student.source == "canvas" else ""
    name = name if name and not name.isdigit() else "student"
    return f"{name}_{'LATE_' if student.late else ''}{student.id}_{student.attachment}_feedback.html"


def _moodle_member(student) -> str:
    name = re.sub(r"[_/\\:*?\"<>|\x00-\x1f]+", " ", student.name).strip() or "Participant"
    return f"{name}_{student.id}_assignsubmission_file_/feedback.html"


def write_feedback(reports, problem, out_dir) -> FeedbackFiles:
    """A .md and a .html per submission in out_dir (created), and the platform zips; returns what was written."""
    reports = list(reports)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    names = page_names([r.file for r in reports], [getattr(r, "student", None) for r in reports])
    files, zips, by_hand = [], [], []
    members: dict[str, list[tuple[str, str]]] = {"canvas": [], "moodle": []}
    for report, name in zip(reports, names):
        stem = name.removesuffix(".html")
        md, html = out_dir / f"{stem}.md", out_dir / f"{stem}.html"
        page = submission_page(report, problem, back=None, audience="student")
        write_atomic(md, feedback_markdown(report, problem))
        write_atomic(html, page)
        files += [md, html]
        s = report.student
        if s is None or not s.id or s.source not in members:
            continue
        member = _canvas_member(s) if s.source == "canvas" else _moodle_member(s)
        if member is None:
            by_hand.append(f"{html.name} ({s.label}: a text entry, no file to attach the feedback to)")
        else:
            members[s.source].append((member, page))
    for platform, entries in members.items():
        if entries:
            packed = io.BytesIO()
            with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
                for member, page in entries:
                    archive.writestr(str(PurePosixPath(member)), page)
            zips.append(write_atomic(out_dir / f"{platform}-feedback.zip", packed.getvalue()))
    return FeedbackFiles(tuple(files), tuple(zips), tuple(by_hand))
