"""A zip's central directory, read before `zipfile` is trusted with the archive.

Two things `zipfile` does badly on a hostile archive are done here first:

- it reads the whole central directory, however many entries it lists, before anything can be
  refused; `read_directory` reads the end record alone, so an archive that lists more entries than
  a class download has is refused without building a million ZipInfo objects;
- a member name flagged UTF-8 (bit 11) that is not UTF-8 makes `zipfile.ZipFile` raise for the
  whole archive; `FlagsCleared` wraps the file so that those entries read as legacy (cp437) names,
  which always decode, and `bad_utf8_names` says which they are, so each becomes an entry with an
  error and the other members are read as usual.

    with open("hw2.zip", "rb") as raw:
        directory = read_directory(raw)          # ZipDirError("<reason>") if not a zip
        bad = bad_utf8_names(raw, directory)     # {flag offset: raw name bytes}
        archive = zipfile.ZipFile(FlagsCleared(raw, bad) if bad else raw)
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

__all__ = ["ZipDirError", "Directory", "read_directory", "bad_utf8_names", "FlagsCleared", "UTF8_FLAG"]

_END = b"PK\x05\x06"
_END64 = b"PK\x06\x06"
_END64_LOCATOR = b"PK\x06\x07"
_CENTRAL = b"PK\x01\x02"
_END_SIZE = 22
_LOCATOR_SIZE = 20
_END64_SIZE = 56
_CENTRAL_SIZE = 46
_MAX_COMMENT = 0xFFFF
UTF8_FLAG = 0x800


class ZipDirError(ValueError):
    """Not a zip, or a central directory that cannot be read; the message is the reason."""


@dataclass(frozen=True)
class Directory:
    entries: int  # as the end record says
    start: int  # where the central directory starts in the file
    size: int  # its size in bytes


def _read_at(fp, offset: int, size: int) -> bytes:
    fp.seek(offset)
    return fp.read(size)


def read_directory(fp) -> Directory:
    """The end record (zip64 too) of the zip open as `fp` (binary, seekable)."""
    try:
        length = fp.seek(0, 2)
        tail_start = max(0, length - _END_SIZE - _MAX_COMMENT)
        tail = _read_at(fp, tail_start, length - tail_start)
    except OSError as exc:
        raise ZipDirError(f"cannot be read ({exc.strerror or exc})") from None
    at = tail.rfind(_END)
    while at >= 0 and len(tail) - at < _END_SIZE:
        at = tail.rfind(_END, 0, at)
    if at < 0:
        raise ZipDirError("no end of central directory record: truncated, or not a zip")
    end_offset = tail_start + at
    _, _, _, _, entries, size, offset, _ = struct.unpack("<4s4H2LH", tail[at : at + _END_SIZE])
    shift = 0
    if entries == 0xFFFF or size == 0xFFFFFFFF or offset == 0xFFFFFFFF:
        locator = _read_at(fp, end_offset - _LOCATOR_SIZE, _LOCATOR_SIZE) if end_offset >= _LOCATOR_SIZE else b""
        if len(locator) == _LOCATOR_SIZE and locator[:4] == _END64_LOCATOR:
            record = _read_at(fp, end_offset - _LOCATOR_SIZE - _END64_SIZE, _END64_SIZE)
            if len(record) != _END64_SIZE or record[:4] != _END64:
                raise ZipDirError("a zip64 end record that cannot be read")
            _, _, _, _, _, _, _, entries, size, offset = struct.unpack("<4sQ2H2L4Q", record)
            shift = _LOCATOR_SIZE + _END64_SIZE
    start = end_offset - shift - size  # as zipfile computes it (data may precede the zip)
    if start < 0:
        raise ZipDirError("a central directory that starts before the file")
    return Directory(entries, start, size)


def bad_utf8_names(fp, directory: Directory) -> dict[int, bytes]:
    """{file offset of the entry's flag field: its raw name} for each entry flagged UTF-8 whose name
    is not UTF-8. Reads the directory entry by entry (never all of it at once)."""
    bad: dict[int, bytes] = {}
    pos, end = directory.start, directory.start + directory.size
    for _ in range(directory.entries):
        if pos + _CENTRAL_SIZE > end:
            break
        head = _read_at(fp, pos, _CENTRAL_SIZE)
        if len(head) != _CENTRAL_SIZE or head[:4] != _CENTRAL:
            break
        flags = struct.unpack_from("<H", head, 8)[0]
        name_len, extra_len, comment_len = struct.unpack_from("<3H", head, 28)
        if flags & UTF8_FLAG:
            name = fp.read(name_len)
            try:
                name.decode("utf-8")
            except UnicodeDecodeError:
                bad[pos + 8] = name
        pos += _CENTRAL_SIZE + name_len + extra_len + comment_len
    return bad


class FlagsCleared:
    """A read-only binary file that reads as `raw` with the UTF-8 flag cleared at the given offsets
    (the flags of central directory entries), so zipfile decodes those names as cp437."""

    def __init__(self, raw, flag_offsets):
        self.raw = raw
        self.high_bytes = sorted(offset + 1 for offset in flag_offsets)  # bit 11 is bit 3 of the high byte
        self.name = getattr(raw, "name", None)

    def read(self, size: int = -1) -> bytes:
        pos = self.raw.tell()
        data = self.raw.read(size)
        hits = [b for b in self.high_bytes if pos <= b < pos + len(data)]
        if not hits:
            return data
        patched = bytearray(data)
        for b in hits:
            patched[b - pos] &= ~(UTF8_FLAG >> 8) & 0xFF
        return bytes(patched)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.raw.seek(offset, whence)

    def tell(self) -> int:
        return self.raw.tell()

    def seekable(self) -> bool:
        return True

    def close(self) -> None:
        self.raw.close()
