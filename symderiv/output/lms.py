"""Gradebook files that an LMS imports as they are: `grade --format canvas | moodle`.

Canvas (Grades → Import; the rules of Canvas's ``gradebook_importer.rb``): a header
``Student, ID, SIS User ID, SIS Login ID, Section`` (with the roster, exactly the student columns
of its export: ``Integration ID`` and the like included), then the assignment's column named as
the export names it (``HW 2 (98765)``: Canvas finds the assignment by the id in parentheses; an
unknown name creates a new assignment, so the name is checked against the roster's columns); a
``Points Possible`` row with the assignment's maximum; one row per graded student, matched by
``ID``. A student the roster does not have, a submission without an LMS id, and a submission that
could not be graded get no row (an empty cell would erase a grade already entered); each is
listed in ``left_out`` so that none is lost silently.

Moodle (Assignment → "Upload grading worksheet"; ``assignfeedback_offline``): the grading
worksheet the roster is (``--roster`` is required), every row and column as exported, with
``Grade`` and ``Feedback comments`` filled in for each graded student. Moodle matches a row by
``Identifier`` (``Participant 4101``) and skips it when its ``Last modified (grade)`` is older
than the grade in Moodle, so that column is carried over unchanged; a grade above ``Maximum
Grade`` is skipped by Moodle, so one is refused here. The feedback comment is HTML (Moodle's
comments field is), each line a paragraph or list item, with math as Unicode.

Every text cell goes through ``csv_cell`` (control characters removed, formulas neutralised);
the cells the importers read as values (``ID``, ``Identifier``, the grade, ``Last modified
(grade)``) are checked to be exactly what the importer expects instead.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from html import escape

from symderiv.core.errors import SymderivError
from symderiv.output.escape import csv_cell, strip_controls
from symderiv.output.feedback import feedback_lines

__all__ = [
    "Gradebook",
    "canvas_gradebook",
    "moodle_worksheet",
    "feedback_comment_html",
    "grade_text",
    "CANVAS_COLUMNS",
    "MOODLE_COLUMNS",
]

CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
MOODLE_COLUMNS = ("Identifier", "Full name", "Email address", "Grade", "Maximum Grade", "Feedback comments")
FEEDBACK_COLUMN = "Feedback comments"
_MODIFIED = re.compile(r"-|[\w ,:./+-]{1,80}")


@dataclass(frozen=True)
class Gradebook:
    text: str  # the CSV to import
    rows: int  # students given a grade in it
    left_out: tuple[str, ...]  # one line per submission without a row, and why
    notes: tuple[str, ...] = ()  # what the TA should know (a worksheet without a feedback column, ...)


def grade_text(score: float) -> str:
    """A grade as the importers read it: a plain decimal number, at most 2 decimals (Canvas keeps 2)."""
    text = f"{round(score, 2):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _who(report) -> str:
    s = report.student
    return f"{report.file} ({s.label})" if s is not None and s.label else report.file


def _graded(reports) -> tuple[list, list[str]]:
    keep, out = [], []
    for r in reports:
        if r.graded:
            keep.append(r)
        else:
            out.append(f"{_who(r)}: not graded ({r.error}); give it a score with --overrides to import one")
    return keep, out


def _one_row_each(pairs, platform: str) -> None:
    """Never two rows for one student: a guard behind the grouping of a student's files."""
    seen: dict[str, str] = {}
    for key, report in pairs:
        if key in seen:
            raise SymderivError(
                f"{platform}: {report.file} and {seen[key]} are both the student {key}; "
                "one student must be one submission"
            )
        seen[key] = report.file


def _check_max(reports, total: float, platform: str) -> None:
    for r in reports:
        if r.score > total + 1e-9 or r.score < 0:
            raise SymderivError(f"{platform}: {r.file} scores {r.score:g}, outside 0 to {total:g}")


def canvas_gradebook(reports, assignment: str, total: float, roster=None) -> Gradebook:
    """The Canvas gradebook import for one assignment column (see the module's doc)."""
    graded, left_out = _graded(reports)
    _check_max(graded, total, "canvas")
    rows, pairs = [], []
    if roster is not None:
        info = list(roster.header[: roster.info_columns])
        id_col = info.index("ID")
        for r in graded:
            s = r.student
            if s is None or not s.row:
                left_out.append(f"{_who(r)}: not in {roster.path} ({roster.why_unmatched(s)})")
                continue
            cells = list(roster.rows[roster.lines.index(s.row)][: roster.info_columns])
            pairs.append((cells[id_col], r))
            rows.append([c if k == id_col else csv_cell(c) for k, c in enumerate(cells)] + [grade_text(r.score)])
    else:
        info = list(CANVAS_COLUMNS)
        for r in graded:
            s = r.student
            if s is None or s.source != "canvas" or not s.id:
                left_out.append(f"{_who(r)}: no Canvas user id in its file name, so Canvas cannot match it")
                continue
            pairs.append((s.id, r))
            rows.append([csv_cell(s.name), s.id, "", "", "", grade_text(r.score)])
    _one_row_each(pairs, "canvas")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([*(csv_cell(h) for h in info), csv_cell(assignment)])
    writer.writerow(["Points Possible", *([""] * (len(info) - 1)), grade_text(total)])
    writer.writerows(rows)
    return Gradebook(buf.getvalue(), len(rows), tuple(left_out))


def feedback_comment_html(report) -> str:
    """A report's feedback as the HTML of Moodle's "Feedback comments": a paragraph, then a list."""
    head, *items = [strip_controls(line) for line in feedback_lines(report)]
    body = f"<p>{escape(head)}</p>"
    if items:
        body += "<ul>" + "".join(f"<li>{escape(item)}</li>" for item in items) + "</ul>"
    return body


def moodle_worksheet(reports, roster, total: float) -> Gradebook:
    """The Moodle grading worksheet to upload: the roster's, graded (see the module's doc)."""
    if roster is None or roster.platform != "moodle":
        raise SymderivError("--format moodle needs --roster: the assignment's grading worksheet")
    header = list(roster.header)
    notes = []
    if FEEDBACK_COLUMN not in header:
        header.append(FEEDBACK_COLUMN)
        notes.append(
            f"{roster.path} has no {FEEDBACK_COLUMN!r} column (the assignment's feedback comments are off): "
            "Moodle will import the grades only"
        )
    col = {name: k for k, name in enumerate(header)}
    graded, left_out = _graded(reports)
    _check_max(graded, total, "moodle")
    by_line, pairs = {}, []
    for r in graded:
        s = r.student
        if s is None or not s.row:
            left_out.append(f"{_who(r)}: not in {roster.path} ({roster.why_unmatched(s)})")
            continue
        by_line[s.row] = r
        pairs.append((s.id, r))
    _one_row_each(pairs, "moodle")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([csv_cell(h) for h in header])
    for line, row in zip(roster.lines, roster.rows):
        cells = list(row) + [""] * (len(header) - len(row))
        report = by_line.get(line)
        if report is not None:
            cells[col["Grade"]] = grade_text(report.score)
            cells[col[FEEDBACK_COLUMN]] = feedback_comment_html(report)
        writer.writerow([_moodle_cell(header[k], c, roster.path, line) for k, c in enumerate(cells)])
    return Gradebook(buf.getvalue(), len(by_line), tuple(left_out), tuple(notes))


def _moodle_cell(column: str, cell: str, path: str, line: int) -> str:
    """A worksheet cell: the values Moodle's upload reads checked as such, any other text neutralised."""
    if column == "Identifier":
        if not re.fullmatch(r"Participant \d+", cell):
            raise SymderivError(f"{path}:{line}: the Identifier {cell!r} is not 'Participant <n>'")
        return cell
    if column == "Last modified (grade)":
        if not _MODIFIED.fullmatch(cell) or cell[:1] in "=+@":
            raise SymderivError(f"{path}:{line}: Last modified (grade) {cell!r} is not a date Moodle wrote")
        return cell
    return csv_cell(cell)
