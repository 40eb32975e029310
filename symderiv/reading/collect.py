"""The submissions a `grade` command names: files, folders (recursively) and LMS bulk-download zips.

    with tempfile.TemporaryDirectory() as work:
        subs = collect(["hw2.zip", "late/"], Path(work), roster=None)
        subs[0].path      # a file on disk to grade (inside `work` for a zip member)
        subs[0].display   # how outputs name it: "hw2.zip/smithjane_123456_7890123_hw2.md"
        subs[0].student   # Student(name="smithjane", id="123456", ...) from the file name
        subs[0].files     # all of a student's files when there are several (by_student)

Zips are extracted member by member (archive.py): a member that is unsafe (absolute, ``..``, a
link, encrypted), unreadable (a bad CRC, an unknown compression method), misnamed, a duplicate
once normalised or too large becomes an ungradable submission with the reason, so it is listed,
never silently dropped, and never ends the batch; so does a zip that cannot be opened at all.
Hidden files and folders (``.DS_Store``, ``__MACOSX``) are skipped everywhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from symderiv.reading.archive import MAX_MEMBERS, MAX_RATIO, MAX_TOTAL, extract_zip, hidden
from symderiv.reading.identity import GRADABLE_ORDER, Student, identify, resubmission

__all__ = ["Submission", "collect", "by_student", "MAX_MEMBERS", "MAX_TOTAL", "MAX_RATIO"]


@dataclass(frozen=True)
class Submission:
    path: str  # the file to read ("" when it was refused; see error)
    display: str  # the name outputs show
    student: Student | None = None
    error: str | None = None  # a zip member that was not extracted, and why
    files: tuple[Submission, ...] = ()  # a student's files when there are several (by_student): graded together


def collect(names: list[str], workdir: Path, roster=None) -> list[Submission]:
    """Every submission under `names`, in order (folders sorted), one per student (by_student) within
    each download given (a zip or a folder) and among the files named one by one, with its student
    (matched to `roster`, a reading.roster.Roster, when given). The same LMS id in two downloads
    stays two submissions: an LMS file then refuses to give that student two rows."""
    batches: list[list[Submission]] = []
    loose: list[Submission] = []
    for number, name in enumerate(names):
        path = Path(name)
        if path.is_dir():
            files = sorted(_walk(path))
            batch = [Submission(str(file), str(file)) for file in files]
            if not files:
                batch.append(Submission("", name, error=f"{name}: is a directory with no submission files in it"))
            batches.append(batch)
        elif path.suffix.lower() == ".zip" and path.is_file():
            batches.append(_from_zip(path, workdir / f"zip{number}"))
        else:
            if not loose:
                batches.append(loose)  # the files named one by one, in the place of the first
            loose.append(Submission(name, name))
    return [sub for batch in batches for sub in by_student(batch, roster)]


def _walk(folder: Path):
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not hidden(d)]
        for f in files:
            if not hidden(f):
                yield Path(root) / f


def _from_zip(path: Path, target: Path) -> list[Submission]:
    """A zip's members as submissions; a member (or a zip) that cannot be graded is an entry with its error."""
    return [Submission(m.path, m.display, error=m.error) for m in extract_zip(path, target)]


# ---- one student, one submission ------------------------------------------------------------


def by_student(files: list[Submission], roster=None) -> list[Submission]:
    """The files as submissions, one per student: every file is identified from the LMS's part of
    its name (identity.py); the files of one student (the same platform and LMS id) become one
    Submission holding them all in `files` (grading finds the derivation in whichever holds it),
    in the place of the student's first file. With a roster, each student is its row (roster.find)
    or stays as the file names say, unmatched (row 0)."""
    groups: dict[tuple[str, str], list[Submission]] = {}  # insertion order: each student's first file
    for k, sub in enumerate(files):
        student = identify(sub.display)
        key = (student.source, student.id) if student is not None and student.id else ("", f"#{k}")
        groups.setdefault(key, []).append(Submission(sub.path, sub.display, student, sub.error))
    return [_merged(sorted(members, key=_preference), roster) for members in groups.values()]


def _preference(sub: Submission):
    """A student's files, the likeliest derivation first: readable, latest resubmission, by kind, by name."""
    own = sub.student.file if sub.student else sub.display
    suffix = PurePosixPath(own.lower()).suffix
    kind = GRADABLE_ORDER.index(suffix) if suffix in GRADABLE_ORDER else len(GRADABLE_ORDER)
    return (sub.error is not None, -resubmission(own), kind, own)


def _merged(members: list[Submission], roster) -> Submission:
    if roster is not None:
        members = [Submission(m.path, m.display, roster.find(m.student) or m.student, m.error) for m in members]
    first = members[0]
    return Submission(first.path, first.display, first.student, first.error, tuple(members) if len(members) > 1 else ())
