"""Jupyter notebooks: the Markdown cells and the LaTeX a code cell printed, as one text.

The text is the cells in order, each followed by a blank line, so a derivation split over
cells reads as it would in one Markdown file (and one Markdown cell holding a file's text
grades exactly like the file). ``cells`` remembers where each cell starts, so a line of the
text can be named the way the student sees it: ``location(cells, 7)`` -> "cell 3, line 2".

Code cells' outputs count where they carry ``text/latex`` or ``text/markdown`` (what
``display(Math(...))`` and ``Markdown(...)`` produce); code itself is not read.
"""

from __future__ import annotations

import warnings
from bisect import bisect_right
from dataclasses import dataclass

import nbformat

from symderiv.core.errors import SubmissionError

__all__ = ["Source", "read_notebook", "location"]

OUTPUT_TYPES = ("text/latex", "text/markdown")


@dataclass(frozen=True)
class Source:
    text: str
    cells: tuple[tuple[int, int, str], ...]  # (first line in text, cell number from 1, "" | " output")


def read_notebook(raw: str, name: str) -> Source:
    """The gradable text of a notebook's JSON; SubmissionError naming the file when it is not one."""
    try:
        with warnings.catch_warnings():  # a notebook without cell ids reads all the same: no warning on stderr
            warnings.simplefilter("ignore")
            nb = nbformat.reads(raw, as_version=4)
    except Exception as exc:  # nbformat raises JSON, schema, key, type and version errors of its own
        raise SubmissionError(f"{name}: is not a valid Jupyter notebook ({str(exc).splitlines()[0][:120]})") from None
    lines: list[str] = []
    cells: list[tuple[int, int, str]] = []
    for number, cell in enumerate(nb.get("cells", []), start=1):
        pieces: list[tuple[str, str]] = []
        if cell.get("cell_type") == "markdown":
            pieces.append(("", _text(cell.get("source", ""))))
        elif cell.get("cell_type") == "code":
            for output in cell.get("outputs", []):
                data = output.get("data", {}) if isinstance(output, dict) else {}
                for kind in OUTPUT_TYPES:
                    if kind in data:
                        pieces.append((" output", _text(data[kind])))
                        break
        for kind, text in pieces:
            if not text.strip():
                continue
            cells.append((len(lines) + 1, number, kind))
            lines.extend(text.replace("\r\n", "\n").split("\n"))
            lines.append("")
    if not cells:
        raise SubmissionError(f"{name}: the notebook has no Markdown cells or LaTeX outputs to grade")
    return Source("\n".join(lines), tuple(cells))


def _text(source) -> str:
    return "".join(source) if isinstance(source, list) else str(source)


def location(cells, line: int | None) -> str:
    """ "cell 3, line 2" for a line of a notebook's text; "line 7" when there are no cells."""
    if line is None:
        return ""
    if not cells:
        return f"line {line}"
    starts = [c[0] for c in cells]
    k = bisect_right(starts, line) - 1
    if k < 0:
        return f"line {line}"
    start, number, kind = cells[k]
    return f"cell {number}{kind}, line {line - start + 1}"
