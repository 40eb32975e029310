r"""Every escaping rule of symderiv's outputs, in one place, so student text and file names never
become live code in any of them (issue 10).

- LaTeX (``escape_text``, ``latex_comment``): ASCII that pdflatex reads as text; backslashes,
  braces, ``^`` (so no ``^^2f`` character codes), ``%`` and ``#`` escaped; newlines and other
  control characters never reach the file (a newline would end a ``%`` comment).
- CSV (``csv_cell``): a cell that begins with = + - @ tab or carriage return is prefixed with
  a quote, so a spreadsheet shows it as text and never runs it as a formula; control
  characters are escaped as on the terminal.
- Terminal (``terminal_text``): control characters (escape sequences, bell, backspace, C1
  controls, bidirectional overrides) are shown as \x.. escapes, never sent raw.
- File names (``display_name``): a name that is not valid UTF-8 (bytes that the file system
  decoded with surrogateescape) is shown with \x.. escapes, so every output can encode it.
- Data (``safe_data``): every string inside a JSON-able structure through ``display_name``.

>>> print(csv_cell('=HYPERLINK("http://x")'), csv_cell("alice.md"))
'=HYPERLINK("http://x") alice.md
>>> print(terminal_text("a" + chr(27) + "[31mb"))
a\x1b[31mb
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["escape_text", "latex_comment", "csv_cell", "terminal_text", "display_name", "safe_data"]

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


_CSV_ACTIVE = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(text) -> str:
    """A text cell a spreadsheet cannot run: a leading = + - @ tab or CR is quoted away (OWASP)."""
    text = str(text)
    active = text.startswith(_CSV_ACTIVE)
    text = terminal_text(text)  # a CSV is also read on a terminal: no raw control characters
    return "'" + text if active else text


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


def safe_data(value):
    """A JSON-able structure with every string (keys too) made encodable (display_name)."""
    if isinstance(value, str):
        return display_name(value)
    if isinstance(value, dict):
        return {safe_data(k): safe_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [safe_data(v) for v in value]
    return value
