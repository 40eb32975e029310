"""Who handed a submission in, from the names an LMS's bulk download gives its files.

The names follow each platform's own code (never a guess from what a student chose to call a file):

- Canvas (``lib/content_zipper.rb``): ``<name>_<userid>_<fileid>_<the student's file>`` for an
  upload, ``<name>_<userid>_text.html`` for an online text entry, ``<name>_<userid>_link.html``
  for a URL; ``<name>_LATE_<userid>_...`` when handed in late. ``<name>`` is the sortable name
  ("Smith, Jane") lower-cased with every non-word character removed (``smithjane``, Unicode
  letters kept: ``müllerjürgen``); Canvas removes ``_<digits>_`` from it, so the first
  ``_<digits>_`` is the user id. A student's resubmitted file is renamed ``hw2-1.md``.
- Moodle (``mod/assign/locallib.php``): a folder ``<Full name>_<participant>_assignsubmission_file_``
  (or ``_onlinetext_``) holding the student's files, or (without folders) files named
  ``<Full name>_<participant>_assignsubmission_file_<the student's file>``. Moodle replaces ``_``
  in the full name with a space, so the first ``_`` ends the name. ``<participant>`` is the number
  the grading worksheet calls ``Participant <participant>``.

The LMS's part of a name wins over anything inside the student's own file name: the Moodle folder
is the outermost folder that has the pattern, and only the start of a file name is read.

>>> identify("subs/smithjane_LATE_123456_7890123_hw2.md").id
'123456'
>>> identify("Jane Smith_4101_assignsubmission_file_/x_999_assignsubmission_file_y.md").id
'4101'
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, fields
from pathlib import PurePosixPath

__all__ = ["Student", "identify", "resubmission", "GRADABLE_ORDER"]

# Canvas: the sortable name has no "_<digits>_" in it (Canvas removes those), so the first one is the id.
CANVAS = re.compile(
    r"(?P<name>[^\W_]*(?:_(?!(?:LATE_|late_)?\d+_)[^\W_]+)*)_(?:(?P<late>LATE|late)_)?(?P<id>\d+)_"
    r"(?:(?P<attachment>\d+)_(?P<file>.+)|(?P<kind>text|link)\.html)"
)
# Moodle: the full name has no "_" (Moodle writes a space instead); a file name after the prefix.
MOODLE_FILE = re.compile(r"(?P<name>[^_/]*)_(?P<id>\d+)_assignsubmission_(?P<plugin>[a-z]+)_(?P<file>.+)")
# Moodle's folder per student and plugin (with the trailing "_" before Moodle 4.1, without after).
MOODLE_FOLDER = re.compile(r"(?P<name>[^_/]*)_(?P<id>\d+)_assignsubmission_(?P<plugin>[a-z]+)_?")

GRADABLE_ORDER = (".ipynb", ".md", ".markdown", ".tex", ".txt", ".html", ".htm")


@dataclass(frozen=True)
class Student:
    name: str = ""
    id: str = ""  # the LMS's user id (Canvas ID, Moodle participant number)
    sis_id: str = ""  # Canvas "SIS User ID" / Moodle "ID number"
    login: str = ""  # Canvas "SIS Login ID" / Moodle username
    section: str = ""
    email: str = ""
    attachment: str = ""  # Canvas: the id of the uploaded file (what Canvas's re-upload of feedback matches)
    file: str = ""  # the student's own name for the file ("hw2.md"; "text.html" for a Canvas text entry)
    late: bool = False
    source: str = ""  # canvas | moodle: whose file names it came from
    row: int = 0  # the roster line it was matched to (0: not matched to a roster)

    @property
    def label(self) -> str:
        """How staff outputs name the student: "Jane Smith (123456)"."""
        if self.name and self.id:
            return f"{self.name} ({self.id})"
        return self.name or self.id or self.email

    @property
    def shown_name(self) -> str:
        """How the student is named in what the student sees: the name, never an id."""
        return self.name or "your submission"

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) not in ("", False, 0)}


def _nfc(text: str) -> str:
    # a zip made on macOS stores decomposed letters (e + combining accent): read them as one letter
    return unicodedata.normalize("NFC", text)


def identify(path: str) -> Student | None:
    """The student the LMS's part of a bulk-download name names, or None."""
    parts = [_nfc(p) for p in PurePosixPath(str(path).replace("\\", "/")).parts]
    if not parts:
        return None
    for k, folder in enumerate(parts[:-1]):  # the outermost Moodle folder: the LMS made it
        if m := MOODLE_FOLDER.fullmatch(folder):
            own = "/".join(parts[k + 1 :])
            return Student(name=m["name"].strip(), id=m["id"], file=own, source="moodle")
    name = parts[-1]
    if m := MOODLE_FILE.fullmatch(name):
        return Student(name=m["name"].strip(), id=m["id"], file=m["file"], source="moodle")
    if m := CANVAS.fullmatch(name):
        own = m["file"] if m["file"] is not None else f"{m['kind']}.html"
        return Student(
            name=m["name"],
            id=m["id"],
            attachment=m["attachment"] or "",
            file=own,
            late=bool(m["late"]),
            source="canvas",
        )
    return None


_RESUBMITTED = re.compile(r".*-(?P<n>\d{1,4})(?:\.[^.]*)?")


def resubmission(file: str) -> int:
    """Canvas's number for a re-uploaded file (``hw2-1.md`` -> 1; ``hw2.md`` -> 0)."""
    m = _RESUBMITTED.fullmatch(PurePosixPath(file).name)
    return int(m["n"]) if m else 0
