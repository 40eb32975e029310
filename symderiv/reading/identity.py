"""Who handed a submission in: from the LMS's file-name pattern, or from its roster export.

Bulk downloads name every file after the student:

- Canvas: ``smithjane_123456_7890123_hw2.md`` (sortable name, user id, submission id, the
  student's file name), ``smithjane_LATE_123456_7890123_hw2.md`` (or ``late``) when handed
  in late.
- Moodle: ``Jane Smith_12345_assignsubmission_file_hw2.md``, or a folder
  ``Jane Smith_12345_assignsubmission_file_/hw2.md``; 12345 is the participant number the
  grading worksheet calls ``Participant 12345``.

>>> identify("subs/smithjane_LATE_123456_7890123_hw2.md").id
'123456'

A roster (``--roster FILE``) is the LMS's own export: the Canvas gradebook CSV (Student, ID,
SIS User ID, SIS Login ID, Section), the Moodle grading worksheet (Identifier, Full name,
Email address) or any CSV with a name and an id or email column. Its row for the id the
file name carries fills in the rest (name, SIS ids, section, email).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, fields, replace
from pathlib import Path, PurePath

from symderiv.core.errors import SubmissionError

__all__ = ["Student", "identify", "Roster", "load_roster"]

CANVAS = re.compile(r"(?P<name>[A-Za-z0-9-]+?)_(?:(?P<late>late|LATE)_)?(?P<id>\d+)_(?P<submission>\d+)_(?P<file>.+)")
MOODLE = re.compile(r"(?P<name>.+?)_(?P<id>\d+)_assignsubmission_(?:file|onlinetext)_(?P<file>.*)")


@dataclass(frozen=True)
class Student:
    name: str = ""
    id: str = ""  # the LMS's user id (Canvas ID, Moodle participant number)
    sis_id: str = ""  # Canvas "SIS User ID" / Moodle "ID number"
    login: str = ""  # Canvas "SIS Login ID" / Moodle username
    section: str = ""
    email: str = ""
    submission: str = ""  # Canvas submission id
    late: bool = False
    source: str = ""  # canvas | moodle | roster

    @property
    def label(self) -> str:
        """How outputs name the student: "Jane Smith (123456)"."""
        if self.name and self.id:
            return f"{self.name} ({self.id})"
        return self.name or self.id or self.email

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) not in ("", False)}


def identify(path: str) -> Student | None:
    """The student a bulk-download file name names, or None."""
    parts = PurePath(str(path).replace("\\", "/")).parts
    for part in reversed(parts[-2:]):
        if m := MOODLE.fullmatch(part):
            return Student(name=m["name"].strip(), id=m["id"], source="moodle")
    name = parts[-1] if parts else ""
    if m := CANVAS.fullmatch(name):
        return Student(name=m["name"], id=m["id"], submission=m["submission"], late=bool(m["late"]), source="canvas")
    return None


# ---- rosters ----------------------------------------------------------------------------

_COLUMNS = {  # normalised header -> Student field
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


@dataclass(frozen=True)
class Roster:
    students: tuple[Student, ...]

    def find(self, student: Student | None, file: str = "") -> Student | None:
        """The roster's row for a file-name identity (by id, then by name); or the row whose login
        or SIS id appears in the file name; or None."""
        if student is not None:
            for s in self.students:
                if student.id and s.id == student.id:
                    return replace(s, submission=student.submission, late=student.late, source=student.source)
            squashed = _squash(student.name)
            for s in self.students:
                if squashed and squashed in (_squash(s.name), _squash(_sortable(s.name))):
                    return replace(s, submission=student.submission, late=student.late, source=student.source)
        stem = PurePath(file).name.lower()
        for s in self.students:
            for key in (s.login, s.sis_id, s.email.split("@")[0]):
                if key and re.search(rf"(?<![a-z0-9]){re.escape(key.lower())}(?![a-z0-9])", stem):
                    return s
        return None


def _squash(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _sortable(name: str) -> str:
    """Canvas's file names use the sortable name, last name first: "Smith, Jane" or "Jane Smith" -> smithjane."""
    if "," in name:
        last, first = name.split(",", 1)
        return last + first
    words = name.split()
    return "".join(words[-1:] + words[:-1])


def load_roster(path: str | Path) -> Roster:
    """Read a roster export; SubmissionError naming the file when it is not one."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SubmissionError(f"{path}: the roster cannot be read ({exc})") from None
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise SubmissionError(f"{path}: the roster is empty")
    header = [_COLUMNS.get(h.strip().lower()) for h in rows[0]]
    if "name" not in header and "email" not in header:
        raise SubmissionError(
            f"{path}: not a roster (no Student/Name/Full name or Email column in {', '.join(rows[0][:6])})"
        )
    students = []
    for row in rows[1:]:
        values: dict[str, str] = {}
        for key, cell in zip(header, row):
            if key and cell.strip() and key not in values:
                values[key] = cell.strip()
        if not values or values.get("name", "").strip().lower() in ("points possible", "test student", "student, test"):
            continue
        if values.get("id", "").lower().startswith("participant"):
            values["id"] = values["id"].split()[-1]
        students.append(Student(**values, source="roster"))
    return Roster(tuple(students))
