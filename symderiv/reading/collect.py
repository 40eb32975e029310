"""The submissions a `grade` command names: files, folders (recursively) and LMS bulk-download zips.

    with tempfile.TemporaryDirectory() as work:
        subs = collect(["hw2.zip", "late/"], Path(work), roster=None)
        subs[0].path      # a file on disk to grade (inside `work` for a zip member)
        subs[0].display   # how outputs name it: "hw2.zip/smithjane_123456_7890123_hw2.md"
        subs[0].student   # Student(name="smithjane", id="123456", ...) from the file name

Zips are extracted member by member (archive.py): a member that is unsafe (absolute, ``..``, a
link, encrypted), unreadable (a bad CRC, an unknown compression method), misnamed, a duplicate
once normalised or too large becomes an ungradable submission with the reason, so it is listed,
never silently dropped, and never ends the batch; so does a zip that cannot be opened at all.
Hidden files and folders (``.DS_Store``, ``__MACOSX``) are skipped everywhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from symderiv.reading.archive import MAX_MEMBERS, MAX_RATIO, MAX_TOTAL, extract_zip, hidden
from symderiv.reading.identity import Roster, Student, identify

__all__ = ["Submission", "collect", "MAX_MEMBERS", "MAX_TOTAL", "MAX_RATIO"]


@dataclass(frozen=True)
class Submission:
    path: str  # the file to read ("" when it was refused; see error)
    display: str  # the name outputs show
    student: Student | None = None
    error: str | None = None  # a zip member that was not extracted, and why


def collect(names: list[str], workdir: Path, roster: Roster | None = None) -> list[Submission]:
    """Every submission under `names`, in order (folders sorted), with its student."""
    out: list[Submission] = []
    for number, name in enumerate(names):
        path = Path(name)
        if path.is_dir():
            files = sorted(_walk(path))
            out += [Submission(str(file), str(file)) for file in files]
            if not files:
                out.append(Submission("", name, error=f"{name}: is a directory with no submission files in it"))
        elif path.suffix.lower() == ".zip" and path.is_file():
            out.extend(_from_zip(path, workdir / f"zip{number}"))
        else:
            out.append(Submission(name, name))
    return [_with_student(s, roster) for s in out]


def _with_student(sub: Submission, roster: Roster | None) -> Submission:
    student = identify(sub.display)
    if roster is not None:
        student = roster.find(student, sub.display) or student
    return Submission(sub.path, sub.display, student, sub.error)


def _walk(folder: Path):
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not hidden(d)]
        for f in files:
            if not hidden(f):
                yield Path(root) / f


def _from_zip(path: Path, target: Path) -> list[Submission]:
    """A zip's members as submissions; a member (or a zip) that cannot be graded is an entry with its error."""
    return [Submission(m.path, m.display, error=m.error) for m in extract_zip(path, target)]
