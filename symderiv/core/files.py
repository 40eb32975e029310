"""Writing output files safely: checked before the work starts, written atomically, never through a link.

    out = check_output_file("--summary-json", "out/summary.json")   # makes out/; OutputError if unusable
    html = check_output_dir("--html", "out/html")                   # makes it; OutputError if unusable
    ... grade ...
    write_atomic(out, text)

`write_atomic` writes a temporary file beside the target (a random name, created exclusively, so
a link planted there is never opened) and renames it over the target: a reader sees the old file
or the new one, never half of one, and a symbolic link at the target is replaced by the file,
never followed (its target is left as it was). Every failure is an OutputError naming the path.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from symderiv.core.errors import OutputError

__all__ = ["write_atomic", "check_output_file", "check_output_dir", "same_path"]

_TRIES = 5


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def write_atomic(path: str | os.PathLike, data: str | bytes, encoding: str = "utf-8") -> Path:
    """Write `data` to `path` atomically; a link at `path` is replaced, not followed. Returns the path."""
    path = Path(path)
    payload = data.encode(encoding) if isinstance(data, str) else data
    folder = path.parent
    for _ in range(_TRIES):
        tmp = folder / f".{path.name[:100]}.{secrets.token_hex(6)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), 0o666)
        except FileExistsError:
            continue
        except OSError as exc:
            raise OutputError(f"{path}: cannot be written ({_reason(exc)})") from None
        break
    else:
        raise OutputError(f"{path}: cannot be written (no free temporary name beside it)")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(payload)
        os.replace(tmp, path)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise OutputError(f"{path}: cannot be written ({_reason(exc)})") from None
    return path


def _lstat(flag: str, path: Path) -> os.stat_result | None:
    try:
        return path.lstat()
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return None  # a parent is a file: found when the folder is made
    except OSError as exc:
        raise OutputError(f"{flag} {path}: cannot be used ({_reason(exc)})") from None


def _make_folder(flag: str, folder: Path, shown: Path) -> None:
    where = f"{flag} {shown}: " + ("" if folder == shown else f"its folder {folder} ")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(f"{where}is a file, not a folder") from None
    except NotADirectoryError:
        raise OutputError(f"{where}cannot be made (a part of its path is a file)") from None
    except OSError as exc:
        raise OutputError(f"{where}cannot be made ({_reason(exc)})") from None


def _probe(flag: str, folder: Path, shown: Path) -> None:
    """Create and remove a file in folder: the only sure test that outputs can be written there."""
    probe = folder / f".symderiv-write-test.{secrets.token_hex(6)}"
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600))
        probe.unlink()
    except OSError as exc:
        raise OutputError(f"{flag} {shown}: cannot write in {folder} ({_reason(exc)})") from None


def _no_nul(flag: str, path: Path) -> None:
    if "\x00" in str(path):
        raise OutputError(f"{flag} {str(path)!r}: a path cannot contain a NUL character")


def check_output_file(flag: str, path: str | os.PathLike) -> Path:
    """An output file's path, checked (and its folder made) before any work: not a folder, not a link,
    not a read-only file, in a folder that can be written. OutputError "<flag> <path>: <reason>" otherwise."""
    given, path = os.fspath(path), Path(path)
    _no_nul(flag, path)
    if not path.name or path.name in (".", "..") or given.endswith(os.sep):
        raise OutputError(f"{flag} {given}: names a folder; give a file name")
    info = _lstat(flag, path)
    if info is not None:
        if stat.S_ISLNK(info.st_mode):
            raise OutputError(f"{flag} {path}: is a symbolic link; symderiv does not write through links")
        if stat.S_ISDIR(info.st_mode):
            raise OutputError(f"{flag} {path}: is a folder; give a file name")
        if not stat.S_ISREG(info.st_mode):
            raise OutputError(f"{flag} {path}: is not a regular file")
        if not os.access(path, os.W_OK):
            raise OutputError(f"{flag} {path}: is read-only")
    folder = path.parent
    _make_folder(flag, folder, path)
    _probe(flag, folder, path)
    return path


def check_output_dir(flag: str, path: str | os.PathLike) -> Path:
    """An output folder, made if need be (with its parents) and checked writable before any work."""
    path = Path(path)
    _no_nul(flag, path)
    info = _lstat(flag, path)
    if info is not None and not stat.S_ISDIR(info.st_mode) and not path.is_dir():
        raise OutputError(f"{flag} {path}: is a file, not a folder")
    _make_folder(flag, path, path)
    _probe(flag, path, path)
    return path


def same_path(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether two paths name the same file (resolved; a path that does not exist yet by its absolute name)."""
    try:
        return Path(a).resolve() == Path(b).resolve()
    except (OSError, RuntimeError, ValueError):
        return False
