"""Reading a submission file: text or a one-line SubmissionError naming the file and the reason.

Markdown, plain text and LaTeX are read as they are; a Jupyter notebook (.ipynb) as its Markdown
cells and LaTeX outputs (notebook.py); an LMS's online-text entry (.html) as its text (webtext.py)."""

from __future__ import annotations

import os
import re
import stat

from symderiv.core.errors import SubmissionError
from symderiv.reading.notebook import Source, read_notebook
from symderiv.reading.webtext import WEB_SUFFIXES, html_text

MAX_BYTES = 2 * 1024 * 1024


_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")


def _control_share(text: str) -> float:
    return len(_CONTROL.findall(text)) / max(len(text), 1)


def read_submission(path: str | os.PathLike) -> str:
    r"""The text of a submission file, newlines normalised to ``\n``.

    Raises SubmissionError("<path>: <reason>") when the file cannot be graded.
    """
    name = os.fspath(path)

    def fail(reason: str) -> SubmissionError:
        return SubmissionError(f"{name}: {reason}")

    try:
        info = os.stat(name)
        if stat.S_ISDIR(info.st_mode):
            raise fail("is a directory, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise fail("is not a regular file")
        if info.st_size > MAX_BYTES:
            raise fail(f"too large ({info.st_size} bytes; the limit is 2 MB)")
        with open(name, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise fail("no such file") from None
    except PermissionError:
        raise fail("cannot be read (permission denied)") from None
    except OSError as exc:
        raise fail(f"cannot be read ({exc.strerror or exc})") from None
    except ValueError:  # a NUL character in the path
        raise fail("is not a valid path") from None
    if len(data) > MAX_BYTES:
        raise fail("too large (more than 2 MB)")
    if not data:
        raise fail("is empty")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16 with a byte-order mark (Windows "Unicode" text)
        try:
            data = data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            raise fail("looks like UTF-16 but does not decode") from None
    if data.startswith(b"%PDF"):
        raise fail("is binary (a PDF), not text: submit the derivation as .md, .tex, .txt or .ipynb")
    if b"\x00" in data:
        raise fail("is binary, not text (contains NUL bytes)")
    try:
        text = data.decode("utf-8-sig")  # UTF-8, with or without a byte-order mark
        plausible = _control_share(text) <= 0.10
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")  # Latin-1 plus Windows quotes and dashes
        except UnicodeDecodeError:
            text = data.decode("latin-1")
        non_ascii = sum(ch > "\x7f" for ch in text) / len(text)
        plausible = _control_share(text) <= 0.02 and non_ascii <= 0.30
    if not plausible:
        raise fail("is binary, not text (not UTF-8 and mostly non-text)")
    if not text.strip():
        raise fail("contains only whitespace")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_source(path: str | os.PathLike) -> Source:
    """A submission's gradable text and, for a notebook, where each cell starts in it; an
    online-text entry (.html) as the text the student typed (webtext.py)."""
    text = read_submission(path)
    name = os.fspath(path).lower()
    if name.endswith(".ipynb"):
        return read_notebook(text, os.fspath(path))
    if name.endswith(WEB_SUFFIXES):
        text = html_text(text)
        if not text:
            raise SubmissionError(f"{os.fspath(path)}: the page has no text in it")
    return Source(text, ())
