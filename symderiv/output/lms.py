"""Gradebook files that an LMS imports as they are: `grade --format canvas | moodle`.

Canvas (Grades → Import): the gradebook CSV, ``Student, ID, SIS User ID, SIS Login ID,
Section``, then one column per assignment, named as the gradebook export names it
(``HW 2 (12345)``, the number being the assignment's id; a name Canvas does not know creates a
new assignment). Canvas matches rows by ``ID`` (the user id in the bulk download's file names)
or the SIS ids; a second row ``Points Possible`` gives the assignment's maximum. A submission
that could not be graded gets an empty cell, which Canvas leaves unchanged.

Moodle (Assignment → "Upload grading worksheet", or Gradebook → Import → CSV): the grading
worksheet's columns ``Identifier`` (``Participant 12345``, the number in the bulk download's
file names), ``Full name``, ``Email address``, ``Grade``, ``Maximum Grade`` and ``Feedback
comments`` (the feedback, as plain text with Unicode math). For the gradebook import, map
``Email address`` (or ``Identifier``) to the user and ``Grade`` to the assignment.
"""

from __future__ import annotations

import csv
import io

from symderiv.output.feedback import feedback_text

__all__ = ["canvas_csv", "moodle_csv", "CANVAS_COLUMNS", "MOODLE_COLUMNS", "unidentified"]

CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
MOODLE_COLUMNS = ("Identifier", "Full name", "Email address", "Grade", "Maximum Grade", "Feedback comments")


def _grade(report) -> str:
    return "" if report.error else f"{round(report.score, 4):g}"


def canvas_csv(reports, assignment: str, max_score: float) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([*CANVAS_COLUMNS, assignment])
    writer.writerow(["Points Possible", "", "", "", "", f"{max_score:g}"])
    for r in reports:
        s = r.student
        writer.writerow(
            [
                s.name if s else r.file,
                s.id if s else "",
                s.sis_id if s else "",
                s.login if s else "",
                s.section if s else "",
                _grade(r),
            ]
        )
    return buf.getvalue()


def moodle_csv(reports, max_score: float) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(MOODLE_COLUMNS)
    for r in reports:
        s = r.student
        identifier = f"Participant {s.id}" if s and s.id else ""
        writer.writerow(
            [identifier, s.name if s else r.file, s.email if s else "", _grade(r), f"{max_score:g}", feedback_text(r)]
        )
    return buf.getvalue()


def unidentified(reports, platform: str) -> list[str]:
    """The submissions an import could not match to a student (no id): named, so none is lost."""
    key = (lambda s: s.id or s.sis_id or s.login) if platform == "canvas" else (lambda s: s.id or s.email)
    return [r.file for r in reports if r.student is None or not key(r.student)]
