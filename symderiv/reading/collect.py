"""The submissions a `grade` command names: files, folders (recursively) and LMS bulk-download zips.

    with tempfile.TemporaryDirectory() as work:
        subs = collect(["hw2.zip", "late/"], Path(work), roster=None)
        subs[0].path      # a file on disk to grade (inside `work` for a zip member)
        subs[0].display   # how outputs name it: "hw2.zip/smithjane_123456_7890123_hw2.md"
        subs[0].student   # Student(name="smithjane", id="123456", ...) from the file name
        subs[0].files     # all of a student's files when there are several (by_student)

Zips are extracted member by member, never with ``extractall``: a member whose name is
absolute, climbs out (``..``), is a link or a device, or is encrypted is refused (it becomes an
ungradable submission with the reason, so it is listed, never silently dropped); a member larger
than a submission may be (2 MB) is not extracted; a zip that would unpack to more than
MAX_TOTAL bytes or MAX_MEMBERS files, or whose members expand more than MAX_RATIO times, is
refused whole (a zip bomb) with a SubmissionError naming it. Sizes are counted while reading,
not taken from the zip's own headers. Hidden files and folders (``.DS_Store``, ``__MACOSX``)
are skipped everywhere.
"""

from __future__ import annotations

import os
import re
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from symderiv.core.errors import SubmissionError
from symderiv.reading.identity import GRADABLE_ORDER, Student, identify, resubmission
from symderiv.reading.submission import MAX_BYTES

__all__ = ["Submission", "collect", "by_student", "MAX_MEMBERS", "MAX_TOTAL", "MAX_RATIO"]

MAX_MEMBERS = 5000
MAX_TOTAL = 256 * 1024 * 1024
MAX_RATIO = 200
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Submission:
    path: str  # the file to read ("" when it was refused; see error)
    display: str  # the name outputs show
    student: Student | None = None
    error: str | None = None  # a zip member that was not extracted, and why
    files: tuple[Submission, ...] = ()  # a student's files when there are several (by_student): graded together


def collect(names: list[str], workdir: Path, roster=None) -> list[Submission]:
    """Every submission under `names`, in order (folders sorted), one per student (by_student), with
    its student (matched to `roster`, a reading.roster.Roster, when given)."""
    out: list[Submission] = []
    for name in names:
        path = Path(name)
        if path.is_dir():
            files = sorted(_walk(path))
            out += [Submission(str(file), str(file)) for file in files]
            if not files:
                out.append(Submission("", name, error=f"{name}: is a directory with no submission files in it"))
        elif path.suffix.lower() == ".zip" and path.is_file():
            out.extend(_unzip(path, workdir / f"zip{len(out)}"))
        else:
            out.append(Submission(name, name))
    return by_student(out, roster)


def _hidden(part: str) -> bool:
    return (part.startswith(".") and part not in (".", "..")) or part == "__MACOSX"


def _walk(folder: Path):
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not _hidden(d)]
        for f in files:
            if not _hidden(f):
                yield Path(root) / f


def _unzip(path: Path, target: Path) -> list[Submission]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SubmissionError(f"{path}: not a readable zip file ({exc})") from None
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) > MAX_MEMBERS:
            raise SubmissionError(
                f"{path}: {len(members)} files, more than the {MAX_MEMBERS} a class download has; refused"
            )
        out, total = [], 0
        for member in members:
            parts = PurePosixPath(member.filename.replace("\\", "/")).parts
            if any(_hidden(p) for p in parts):
                continue
            display = f"{path}/{member.filename}"
            reason = _refuse(member, parts)
            if reason is None and member.file_size > MAX_BYTES:
                reason = f"too large ({member.file_size} bytes; the limit is 2 MB)"
            if reason is not None:
                out.append(Submission("", display, error=f"{display}: {reason}"))
                continue
            dest = target.joinpath(*parts)
            dest.parent.mkdir(parents=True, exist_ok=True)
            written = _extract(archive, member, dest, path)
            total += written
            if total > MAX_TOTAL:
                raise SubmissionError(f"{path}: unpacks to more than {MAX_TOTAL // 2**20} MB; refused as a zip bomb")
            if written > MAX_BYTES:
                dest.unlink()
                out.append(Submission("", display, error=f"{display}: too large (more than 2 MB unpacked)"))
                continue
            out.append(Submission(str(dest), display))
    return out


def _refuse(member: zipfile.ZipInfo, parts: tuple[str, ...]) -> str | None:
    name = member.filename
    if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name) or not parts:
        return "an absolute path in the zip; not extracted"
    if any(p == ".." for p in parts):
        return "a path that climbs out of the zip's folder (..); not extracted"
    mode = member.external_attr >> 16
    if mode and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)) and stat.S_IFMT(mode):
        return "a link or special file in the zip; not extracted"
    if member.flag_bits & 0x1:
        return "encrypted in the zip; not extracted"
    return None


def _extract(archive: zipfile.ZipFile, member: zipfile.ZipInfo, dest: Path, path: Path) -> int:
    """Copy a member out, counting what it really unpacks to; stop just past MAX_BYTES."""
    written = 0
    limit = MAX_BYTES + 1
    ratio_floor = max(member.compress_size, 1) * MAX_RATIO
    try:
        with archive.open(member) as src, open(dest, "wb") as out:
            while written < limit:
                chunk = src.read(min(_CHUNK, limit - written))
                if not chunk:
                    break
                written += len(chunk)
                if written > ratio_floor and written > 1024 * 1024:
                    raise SubmissionError(
                        f"{path}: {member.filename} expands more than {MAX_RATIO} times; refused as a zip bomb"
                    )
                out.write(chunk)
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError) as exc:
        raise SubmissionError(f"{path}: {member.filename} cannot be extracted ({exc})") from None
    return written


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
