r"""Every escaping rule of symderiv's outputs, in one place, so student text and file names never
become live code in any of them (issue 10).

- LaTeX (``escape_text``, ``latex_comment``): ASCII that pdflatex reads as text; backslashes,
  braces, ``^`` (so no ``^^2f`` character codes), ``%`` and ``#`` escaped; newlines and other
  control characters never reach the file (a newline would end a ``%`` comment).
- CSV (``csv_cell``, every CSV symderiv writes: ``--csv``, ``--format canvas|moodle``): control
  characters (NUL, escapes, bidirectional overrides) are removed, then a cell that begins (after
  spaces) with = + - @ is prefixed with a quote, so a spreadsheet shows it as text and never runs
  it as a formula; a plain number (``-2``, ``3.5``) and a lone ``-`` are values and stay.
- Markdown (``markdown_text``, ``markdown_code``): student text cannot become HTML, a link, an
  image or a table cell boundary; control characters are removed.
- Any text (``strip_controls``): control characters and bidirectional overrides removed (newlines
  and tabs kept where asked); what the HTML pages, feedback and LMS files are built from.
- Terminal (``terminal_text``): control characters (escape sequences, bell, backspace, C1
  controls, bidirectional overrides) are shown as \x.. escapes, never sent raw.
- File names (``display_name``): a name that is not valid UTF-8 (bytes that the file system
  decoded with surrogateescape) is shown with \x.. escapes, so every output can encode it.
- Data (``safe_data``): every string inside a JSON-able structure through ``display_name``.

>>> print(csv_cell('=HYPERLINK("http://x")'), csv_cell("alice.md"), csv_cell("-2.5"))
'=HYPERLINK("http://x") alice.md -2.5
>>> print(terminal_text("a" + chr(27) + "[31mb"))
a\x1b[31mb
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "escape_text",
    "latex_comment",
    "csv_cell",
    "terminal_text",
    "display_name",
    "safe_data",
    "strip_controls",
    "markdown_text",
    "markdown_code",
]

_UNICODE_TEXT = {
    "−": "-",
    "–": "--",
    "—": "---",
    "…": r"\ldots{}",
    "‘": "`",
    "’": "'",
    "“": "``",
    "”": "''",
    "×": r"$\times$",
    "·": r"$\cdot$",
    "⋅": r"$\cdot$",
    "⊙": r"$\odot$",
    "∘": r"$\circ$",
    "‖": r"$\|$",
    "≠": r"$\neq$",
    "≤": r"$\leq$",
    "≥": r"$\geq$",
    "∂": r"$\partial$",
    "∑": r"$\sum$",
    "→": r"$\to$",
    "⇒": r"$\Rightarrow$",
    "∈": r"$\in$",
    "²": r"$^2$",
    "ᵀ": r"$^T$",
    "√": r"$\surd$",
    "∞": r"$\infty$",
    "✓": "",
    "✗": "",
    "\u00a0": "~",
}
_ESCAPES = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"$<$",
    ">": r"$>$",
    "|": r"$|$",
}


def escape_text(text: str) -> str:
    """Plain text (titles, messages, ids) for LaTeX's text mode, in ASCII that pdflatex reads."""
    out = []
    for ch in str(text):
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ch.isascii():
            out.append(" " if ch in "\t\r\n" else ch if ch.isprintable() else "")
        elif ch in _UNICODE_TEXT:
            out.append(_UNICODE_TEXT[ch])
        elif (name := unicodedata.name(ch, "")).startswith("GREEK ") and " LETTER " in name:
            letter = name.split(" LETTER ")[-1].lower().replace("lamda", "lambda")
            out.append(f"$\\{letter.capitalize() if 'CAPITAL' in name else letter}$")
        else:
            ascii_ = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
            out.append(escape_text(ascii_) if ascii_ else "?")
    return "".join(out)


def latex_comment(text: str) -> str:
    """Text for the inside of a % comment: escaped as text, so no newline can end the comment."""
    return escape_text(display_name(str(text)))


_CSV_ACTIVE = ("=", "+", "-", "@")
_CSV_VALUE = re.compile(r"-|[-+]?\d+(\.\d+)?")


def csv_cell(text) -> str:
    """A text cell a spreadsheet cannot run: control characters removed, then a leading = + - @
    quoted away (OWASP); a plain number or a lone "-" is a value and stays as it is."""
    text = strip_controls(display_name(str(text)), keep="\n")
    if text.lstrip().startswith(_CSV_ACTIVE) and not _CSV_VALUE.fullmatch(text):
        return "'" + text
    return text


_SURROGATE = re.compile("[\ud800-\udfff]")


def display_name(text: str) -> str:
    """A file name (or any text) that UTF-8 can encode: undecodable bytes as \\xNN."""
    return _SURROGATE.sub(
        lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}" if ord(m.group()) >= 0xDC80 else f"\\u{ord(m.group()):04x}",
        str(text),
    )


_BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


def terminal_text(text, keep_newlines: bool = False) -> str:
    """Text for a terminal: control characters as visible escapes (keep_newlines for multi-line output)."""
    out = []
    for ch in display_name(str(text)):
        if keep_newlines and ch == "\n":
            out.append(ch)
        elif ch in _BIDI or unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\u200d":
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def strip_controls(text, keep: str = "") -> str:
    """Text without control characters (C0, C1, DEL) and bidirectional overrides; the characters
    in `keep` ("\\n", "\\t") stay."""
    return "".join(ch for ch in str(text) if ch in keep or not (unicodedata.category(ch) == "Cc" or ch in _BIDI))


_MD_ESCAPE = re.compile(r"([\\`*_\[\]|~#!])")


def markdown_text(text) -> str:
    """Student or file text for Markdown: one line, no HTML (< > & as entities), no link, image,
    emphasis, code or table cell it could open (their characters backslash-escaped)."""
    text = strip_controls(display_name(str(text)), keep="\n").replace("\n", " ")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_ESCAPE.sub(r"\\\1", text)


def markdown_code(text) -> str:
    """Text as a Markdown code span (shown verbatim, never as HTML or a link), on one line."""
    text = strip_controls(display_name(str(text))).replace("\n", " ").replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def safe_data(value):
    """A JSON-able structure with every string (keys too) made encodable (display_name), without
    control characters other than newlines and tabs."""
    if isinstance(value, str):
        return strip_controls(display_name(value), keep="\n\t")
    if isinstance(value, dict):
        return {safe_data(k): safe_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [safe_data(v) for v in value]
    return value
