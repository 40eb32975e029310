"""An LMS bulk-download zip, member by member: each member costs only itself.

    members = extract_zip(Path("hw2.zip"), Path(work) / "zip0")
    members[0].path      # the extracted file ("" when the member was not extracted)
    members[0].display   # "hw2.zip/smithjane_123456_7890123_hw2.md"
    members[0].error     # None, or "<display>: <reason>" for a member that is listed but not graded

`extract_zip` never raises for anything in the archive. A zip that cannot be opened at all
(not a zip, truncated, a central directory that cannot be read or is over MAX_DIRECTORY bytes,
more than MAX_MEMBERS files) is one entry with the reason, and so is a zip with nothing to grade in it. Within a readable zip, each of these is an entry with an error and the
other members are extracted as usual:

- a name that is absolute, climbs out (``..``), is a link or a device, or is encrypted;
- a name flagged UTF-8 that is not UTF-8 (shown with ``\\x..`` escapes);
- a name equal to an earlier member's after normalisation (``x/./a.md`` and ``x/a.md``, ``a\\b``
  and ``a/b``, Unicode NFC): the first is graded, the later ones name it;
- a member that cannot be read (a bad CRC, an unsupported compression method, a truncated or
  corrupt stream): the reason zipfile gives;
- a member that unpacks to more than a submission may be (2 MB; reading stops just past it, so a
  member that expands without end costs 2 MB of work), named a zip bomb when it also expands more
  than MAX_RATIO times;
- the members after the archive has unpacked MAX_TOTAL bytes in all (counted while reading, never
  taken from the zip's own headers).

A 1-2 MB repetitive Markdown file is not a bomb: it is under the 2 MB limit however well it
compresses. Each member is written to a path of its own under `target` (``0007/<safe name>``),
never to the member's own path, so names too long for the file system, deep folders, a file and
a folder of the same name (``a`` then ``a/x.md``) and duplicates cannot collide on disk; the
member's own name is what outputs show. Hidden files and folders (``.DS_Store``, ``__MACOSX``) are
skipped.
"""

from __future__ import annotations

import re
import stat
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from symderiv.reading.submission import MAX_BYTES
from symderiv.reading.zipdir import UTF8_FLAG, FlagsCleared, bad_utf8_names, read_directory

__all__ = ["Member", "extract_zip", "hidden", "MAX_MEMBERS", "MAX_TOTAL", "MAX_RATIO"]

MAX_MEMBERS = 5000
MAX_TOTAL = 256 * 1024 * 1024
MAX_RATIO = 200
MAX_DIRECTORY = 16 * 1024 * 1024  # the central directory of 5,000 members is well under 1 MB
CHUNK = 64 * 1024
MB = 1024 * 1024


@dataclass(frozen=True)
class Member:
    path: str  # the extracted file ("" when not extracted; see error)
    display: str  # "<zip>/<member name>"
    error: str | None = None


def hidden(part: str) -> bool:
    return (part.startswith(".") and part not in (".", "..")) or part == "__MACOSX"


def extract_zip(path: Path, target: Path) -> list[Member]:
    """The members of the zip at `path`, extracted under `target`; never raises for the archive's content."""
    try:
        raw = open(path, "rb")
    except OSError as exc:
        return [Member("", str(path), f"{path}: cannot be read ({exc.strerror or exc})")]
    with raw:
        try:
            directory = read_directory(raw)
            if directory.size > MAX_DIRECTORY:
                return [
                    Member(
                        "",
                        str(path),
                        f"{path}: its table of contents claims {directory.size} bytes; not a class download",
                    )
                ]
            if directory.entries > MAX_MEMBERS:
                return [
                    Member(
                        "",
                        str(path),
                        f"{path}: {directory.entries} files, more than the {MAX_MEMBERS} a class download has; "
                        "not extracted",
                    )
                ]
            bad = bad_utf8_names(raw, directory)
            archive = zipfile.ZipFile(FlagsCleared(raw, bad) if bad else raw)
        except Exception as exc:  # ZipDirError, BadZipFile, or whatever else zipfile raises on a hostile directory
            return [Member("", str(path), f"{path}: not a readable zip file ({_reason(exc)})")]
        with archive:
            members = _members(archive, path, target, set(bad.values()))
    return members or [Member("", str(path), f"{path}: a zip with no submission files in it")]


def _members(archive: zipfile.ZipFile, path: Path, target: Path, bad_names: set[bytes]) -> list[Member]:
    out: list[Member] = []
    seen: dict[str, str] = {}  # normalised name -> the first member's name
    total = 0
    for index, info in enumerate(archive.infolist()):
        if info.is_dir():
            continue
        misnamed = not info.flag_bits & UTF8_FLAG and _raw_name(info) in bad_names
        name = _raw_name(info).decode("utf-8", "surrogateescape") if misnamed else info.filename
        parts = normalised_parts(name)
        if any(hidden(p) for p in parts):
            continue
        display = f"{path}/{name}"
        key = "/".join(parts)
        reason = "its name is marked as UTF-8 but is not UTF-8; not extracted" if misnamed else _refuse(info, parts)
        if reason is None and key in seen:
            reason = f"the same name as the earlier member {seen[key]!r} once normalised; only the first is graded"
        seen.setdefault(key, name)
        if reason is None and info.file_size > MAX_BYTES:
            reason = (
                f"too large ({info.file_size} bytes{_bomb(info.file_size, info)}; the limit is 2 MB); not extracted"
            )
        if reason is None and total >= MAX_TOTAL:
            reason = f"not extracted: the zip had already unpacked to {MAX_TOTAL // MB} MB, the most one zip may (a zip bomb?)"
        if reason is not None:
            out.append(Member("", display, f"{display}: {reason}"))
            continue
        dest = target / f"{index:04d}" / disk_name(parts[-1])
        written, reason = _copy(archive, info, dest)
        total += written
        if reason is None and written > MAX_BYTES:
            reason = f"too large (more than 2 MB unpacked{_bomb(written, info)}; the limit is 2 MB); not graded"
        if reason is not None:
            dest.unlink(missing_ok=True)
            out.append(Member("", display, f"{display}: {reason}"))
        else:
            out.append(Member(str(dest), display))
    return out


def _bomb(size: int, info: zipfile.ZipInfo) -> str:
    """Said of a member over the size limit that also expands more than MAX_RATIO times."""
    return f", {MAX_RATIO}+ times its packed size: a zip bomb" if size > MAX_RATIO * max(info.compress_size, 1) else ""


def _raw_name(info: zipfile.ZipInfo) -> bytes:
    """The name's bytes as stored (zipfile decoded an unflagged name as cp437, a bijection on bytes)."""
    if info.flag_bits & UTF8_FLAG:
        return info.orig_filename.encode("utf-8", "surrogatepass")
    return info.orig_filename.encode("cp437", "replace")


def normalised_parts(name: str) -> tuple[str, ...]:
    """The member's path as compared for duplicates: `\\` as `/`, no `.` or empty parts, Unicode NFC."""
    name = unicodedata.normalize("NFC", name.replace("\\", "/"))
    return tuple(p for p in PurePosixPath(name).parts if p not in (".", "/", ""))


def disk_name(last: str) -> str:
    """A short, plain file name with the member's extension (which decides how the file is read)."""
    stem, dot, suffix = last.rpartition(".")
    if not dot or not stem or not re.fullmatch(r"[A-Za-z0-9]{1,10}", suffix):
        stem, suffix = last, ""
    safe = re.sub(r"[^A-Za-z0-9_-]+", "_", stem)[:80].strip("_") or "member"
    return f"{safe}.{suffix.lower()}" if suffix else safe


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


def _copy(archive: zipfile.ZipFile, member: zipfile.ZipInfo, dest: Path) -> tuple[int, str | None]:
    """(bytes unpacked, None) or (bytes unpacked, the reason it could not be read); stops just past MAX_BYTES."""
    written, limit = 0, MAX_BYTES + 1
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        with archive.open(member) as src, open(dest, "xb") as out:
            while written < limit:
                chunk = src.read(min(CHUNK, limit - written))
                if not chunk:
                    break
                written += len(chunk)
                out.write(chunk)
    except Exception as exc:  # a bad CRC, an unknown method, a corrupt stream: this member only
        return written, f"cannot be extracted ({_reason(exc)})"
    return written, None


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())[:200]
    return text or type(exc).__name__
