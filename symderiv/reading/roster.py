"""The LMS's own export of a class (``--roster FILE``): who is in it, and the columns to write back.

- Canvas: the gradebook export (Grades → Export). Its header is the importer's (Canvas
  ``gradebook_importer.rb``): ``Student``, ``ID``, then ``SIS User ID``, ``SIS Login ID`` (and
  ``Integration ID``, ``Root Account`` where the course has them), ``Section``; then one column per
  assignment, named ``Title (id)``, and read-only totals (``Current Score``, ...). A row whose
  first cell is ``Points Possible`` gives each assignment's maximum.
- Moodle: the grading worksheet (Assignment → Download grading worksheet), whose upload
  (``assignfeedback_offline``) needs ``Identifier`` (``Participant 4101``), ``Grade`` and
  ``Last modified (grade)``; ``Maximum Grade`` is the assignment's maximum; a ``Status`` saying
  the assignment was submitted late marks the student late (Moodle's file names do not).
- Any other CSV with a name (or email) column and an id column: names and ids only.

A submission is matched to a roster row only by the LMS id its file name carries, exactly and
uniquely (a roster with one id twice is refused), and only when the file names come from the
platform the roster is from: a name, a login or an e-mail inside a file name never matches.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
import re
from dataclasses import dataclass, replace
from pathlib import Path

from symderiv.core.errors import SubmissionError
from symderiv.reading.identity import Student

__all__ = ["Roster", "load_roster", "MOODLE_REQUIRED", "assignment_id"]

MOODLE_REQUIRED = ("Identifier", "Grade", "Last modified (grade)")
_CANVAS_TOTALS = re.compile(
    r"(Unposted )?(Current|Final|Override) (Score|Points|Grade|Status)|Assignments? (Current|Final) Score"
)
_CANVAS_TITLE_ID = re.compile(r"(?s)(?P<title>.*)\s+\((?P<id>\d+)\)")

_COLUMNS = {  # a generic roster's header (normalised) -> Student field
    "student": "name",
    "name": "name",
    "full name": "name",
    "fullname": "name",
    "student name": "name",
    "id": "id",
    "user id": "id",
    "userid": "id",
    "canvas user id": "id",
    "participant": "id",
    "identifier": "id",
    "sis user id": "sis_id",
    "id number": "sis_id",
    "student id": "sis_id",
    "sis id": "sis_id",
    "sis login id": "login",
    "username": "login",
    "login id": "login",
    "login": "login",
    "section": "section",
    "email address": "email",
    "email": "email",
    "e-mail": "email",
}


def assignment_id(column: str) -> str | None:
    """The Canvas assignment id in a gradebook column name ("HW 2 (98765)" -> "98765")."""
    m = _CANVAS_TITLE_ID.fullmatch(column.strip())
    return m["id"] if m else None


@dataclass(frozen=True)
class Roster:
    path: str
    platform: str  # canvas | moodle | csv
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]  # the students' rows as exported
    lines: tuple[int, ...]  # the file line of each row
    students: tuple[Student, ...]  # one per row
    info_columns: int = 0  # Canvas: the student columns before the assignments
    points_row: tuple[str, ...] = ()  # Canvas: the "Points Possible" row

    def find(self, student: Student | None) -> Student | None:
        """The roster's row for a file-name identity: the one row with exactly its LMS id, from
        the same platform; None otherwise (the submission is then reported unmatched)."""
        if student is None or not student.id:
            return None
        if self.platform in ("canvas", "moodle") and student.source not in ("", self.platform):
            return None
        hits = [k for k, s in enumerate(self.students) if s.id == student.id]
        if len(hits) != 1:
            return None
        row = self.students[hits[0]]
        return replace(
            row, attachment=student.attachment, file=student.file, late=student.late or row.late, source=student.source
        )

    def why_unmatched(self, student: Student | None) -> str:
        """Why find() gave nothing, in words for the TA."""
        if student is None or not student.id:
            return "its name is not a Canvas or Moodle bulk-download name, so it carries no LMS id"
        if self.platform in ("canvas", "moodle") and student.source not in ("", self.platform):
            return (
                f"a {student.source.capitalize()} file name, but {self.path} is a {self.platform.capitalize()} export"
            )
        return f"no row of {self.path} has the id {student.id}"

    # ---- Canvas --------------------------------------------------------------------------

    def assignments(self) -> list[str]:
        """The Canvas gradebook's assignment columns, as exported."""
        return [h for h in self.header[self.info_columns :] if h and not _CANVAS_TOTALS.fullmatch(h.strip())]

    def assignment_column(self, wanted: str | None) -> str:
        """The gradebook column for --assignment: the exact name, or the same assignment id
        (Canvas matches by it); SubmissionError offering the close matches otherwise."""
        columns = self.assignments()
        if wanted is None:
            if len(columns) == 1:
                return columns[0]
            listed = "; ".join(repr(c) for c in columns) or "none"
            raise SubmissionError(
                f"{self.path}: give --assignment, one of the gradebook's assignment columns: {listed}"
            )
        if wanted in columns:
            return wanted
        wanted_id = assignment_id(wanted)
        same = [c for c in columns if wanted_id and assignment_id(c) == wanted_id]
        if len(same) == 1:
            return same[0]
        close = difflib.get_close_matches(wanted, columns, n=3, cutoff=0.5)
        hint = f"; close matches: {'; '.join(repr(c) for c in close)}" if close else ""
        raise SubmissionError(
            f"--assignment {wanted!r} is not a column of {self.path} (Canvas would create a new assignment){hint}"
        )

    def points_possible(self, column: str) -> float | None:
        """The column's Points Possible in the export, or None when it has none."""
        if not self.points_row or column not in self.header:
            return None
        cell = self.points_row[self.header.index(column)] if self.header.index(column) < len(self.points_row) else ""
        value = _number(cell)
        if value is None and cell.strip():
            raise SubmissionError(
                f"{self.path}: the column {column!r} is {cell.strip()!r} (not an assignment to grade)"
            )
        return value

    # ---- Moodle --------------------------------------------------------------------------

    def maximum_grade(self) -> float | None:
        """The Moodle worksheet's Maximum Grade (one for the assignment), or None."""
        if "Maximum Grade" not in self.header:
            return None
        k = self.header.index("Maximum Grade")
        values = {_number(r[k]) for r in self.rows if k < len(r) and r[k].strip()}
        if None in values or len(values) > 1:
            raise SubmissionError(
                f"{self.path}: Maximum Grade is not one number ({', '.join(sorted({r[k] for r in self.rows}))});"
                " a scale cannot be graded in points"
            )
        return values.pop() if values else None


def _number(text: str) -> float | None:
    try:
        value = float(text.strip().replace(",", ".")) if text and text.strip() else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


def _clean(cell: str) -> str:
    return "".join(ch for ch in cell if ch in "\t\n" or ch.isprintable() or ord(ch) > 0x9F)


def load_roster(path: str | Path) -> Roster:
    """Read a roster export; SubmissionError naming the file and the reason when it is not one."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SubmissionError(f"{path}: the roster cannot be read ({exc})") from None
    try:
        rows = [[_clean(c) for c in row] for row in csv.reader(io.StringIO(text.replace("\x00", "")))]
    except csv.Error as exc:
        raise SubmissionError(f"{path}: not a CSV file ({exc})") from None
    numbered = [(n, row) for n, row in enumerate(rows, start=1) if any(c.strip() for c in row)]
    if not numbered:
        raise SubmissionError(f"{path}: the roster is empty")
    header = tuple(c.strip() for c in numbered[0][1])
    body = numbered[1:]
    if _is_canvas(header):
        return _canvas(path, header, body)
    if set(MOODLE_REQUIRED) <= set(header):
        return _moodle(path, header, body)
    if "Identifier" in header:
        missing = ", ".join(c for c in MOODLE_REQUIRED if c not in header)
        raise SubmissionError(f"{path}: a Moodle grading worksheet without the column(s) {missing}")
    return _generic(path, header, body)


def _is_canvas(header: tuple[str, ...]) -> bool:
    return len(header) > 3 and "Student" in header[0] and "ID" in header[1] and "Section" in header


def _unique(path: Path, students: list[Student], lines: list[int]) -> None:
    first: dict[str, int] = {}
    for s, line in zip(students, lines):
        if s.id and s.id in first:
            raise SubmissionError(
                f"{path}:{line}: the id {s.id} is also on line {first[s.id]}; a roster row must be unique"
            )
        first.setdefault(s.id, line)


def _canvas(path: Path, header: tuple[str, ...], body) -> Roster:
    info = header.index("Section") + 1
    col = {name: k for k, name in enumerate(header[:info])}
    points, rows, lines, students = (), [], [], []
    for line, row in body:
        first = row[0].strip() if row else ""
        if first == "Points Possible":
            points = tuple(row)
            continue
        if all(re.fullmatch(r"\s*(Muted|Manual Posting.*)?\s*", c or "", re.I) for c in row):
            continue
        cell = {name: (row[k].strip() if k < len(row) else "") for name, k in col.items()}
        if not cell.get("ID", "").isdigit():
            raise SubmissionError(f"{path}:{line}: the ID {cell.get('ID', '')!r} is not a Canvas user id")
        rows.append(tuple(row) + ("",) * (len(header) - len(row)))
        lines.append(line)
        students.append(
            Student(
                name=cell.get("Student", ""),
                id=cell["ID"],
                sis_id=cell.get("SIS User ID", ""),
                login=cell.get("SIS Login ID", ""),
                section=cell.get("Section", ""),
                row=line,
            )
        )
    _unique(path, students, lines)
    return Roster(str(path), "canvas", header, tuple(rows), tuple(lines), tuple(students), info, points)


def _moodle(path: Path, header: tuple[str, ...], body) -> Roster:
    col = {name: k for k, name in enumerate(header)}
    rows, lines, students = [], [], []
    for line, row in body:
        if len(row) != len(header):  # Moodle's reader refuses such a file ("csvweirdcolumns")
            raise SubmissionError(f"{path}:{line}: {len(row)} columns where the header has {len(header)}")
        m = re.fullmatch(r"Participant (\d+)", row[col["Identifier"]].strip())
        if not m:
            raise SubmissionError(f"{path}:{line}: the Identifier {row[col['Identifier']]!r} is not 'Participant <n>'")
        rows.append(tuple(row))
        lines.append(line)
        cell = {name: row[k].strip() for name, k in col.items()}
        students.append(
            Student(
                name=cell.get("Full name", ""),
                id=m[1],
                email=cell.get("Email address", ""),
                sis_id=cell.get("ID number", ""),
                late=bool(re.search(r"\blate\b", cell.get("Status", ""), re.I)),  # "… submitted 2 days late"
                row=line,
            )
        )
    _unique(path, students, lines)
    return Roster(str(path), "moodle", header, tuple(rows), tuple(lines), tuple(students))


def _generic(path: Path, header: tuple[str, ...], body) -> Roster:
    keys = [_COLUMNS.get(h.lower()) for h in header]
    if "name" not in keys and "email" not in keys:
        raise SubmissionError(
            f"{path}: not a roster (no Student/Name/Full name or Email column in {', '.join(header[:6])})"
        )
    rows, lines, students = [], [], []
    for line, row in body:
        values: dict[str, str] = {}
        for key, cell in zip(keys, row):
            if key and cell.strip() and key not in values:
                values[key] = cell.strip()
        if not values:
            continue
        rows.append(tuple(row))
        lines.append(line)
        students.append(Student(**values, row=line))
    _unique(path, students, lines)
    return Roster(str(path), "csv", header, tuple(rows), tuple(lines), tuple(students))
