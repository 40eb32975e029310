"""OCR repairs tried by parse_lenient: each returns the repaired text and notes saying what it did."""

from __future__ import annotations

import re

from symderiv.notation.normalise import (
    CONDITION_WORDS,
    OPENERS,
    TEXT_COMMANDS,
    Reject,
    scan_delimiters,
)

_TRAILING = re.compile(r"(?:[\s.,;:!?&=]|\\\\)+$")
_LEADING = re.compile(
    r"^\s*(?:(?:\\(?:Rightarrow|rightarrow|implies|therefore|to|Longrightarrow)"
    r"(?![A-Za-z])|=)\s*)+"
)
_PART_LABEL = re.compile(r"^\s*(?:[a-hA-H]\)|[0-9]{1,2}[.)])\s+")
_PLUS_IN_SUPERSCRIPT = re.compile(r"\^\{\s*([0-9A-Za-z]+)\s*\+\s*\}")


def repair_ends(text: str):
    notes = []
    if m := _TRAILING.search(text):
        if m.group().strip():
            notes.append(f"removed trailing {m.group().strip()!r}")
            text = text[: m.start()]
    for pattern, what in ((_PART_LABEL, "the part label"), (_LEADING, "a leading")):
        if m := pattern.match(text):
            notes.append(f"removed {what} {m.group().strip()!r}")
            text = text[m.end() :]
    return text, notes


def repair_superscript_plus(text: str):
    r"""OCR glues the '+' after a square into the exponent: \|W\|_2^{2+} \|V\|."""
    new, n = _PLUS_IN_SUPERSCRIPT.subn(r"^{\1} +", text)
    return new, ["moved a '+' out of a superscript"] * bool(n)


def _starts_with_condition(remark: str) -> bool:
    words = [w for w in re.findall(r"[A-Za-z]+", remark) if w not in TEXT_COMMANDS]
    return bool(words) and words[0].lower() in CONDITION_WORDS - {"where"}


def repair_remarks(text: str):
    r"""Drop prose around the formula: '\text{so } x', 'x \quad \text{--- (3)}'.

    Remarks that start with a condition word (if, when, for) are kept: they change
    what the claim says, so the claim stays unreadable rather than silently unconditional.
    """
    notes = []
    lead = re.match(r"\s*\\text\s*\{([^{}]*)\}[\s,]*", text)
    if lead and not _starts_with_condition(lead.group(1)):
        notes.append(f"removed the leading remark {lead.group().strip()!r}")
        text = text[lead.end() :]
    depth = 0
    for m in re.finditer(r"[{(\[]|[})\]]|(?:\\q?quad\b|,)\s*(?=\\text|\(\s*\\text|\\checkmark)", text):
        if m.group() in "{([":
            depth += 1
        elif m.group() in "})]":
            depth -= 1
        elif depth == 0 and not _starts_with_condition(text[m.end() :]):
            notes.append(f"removed the trailing remark {text[m.start() :].strip()!r}")
            text = text[: m.start()]
            break
    tail = _TRAILING_TEXT.search(text)  # x \text{ since J averages}: prose after the formula
    if tail and not _starts_with_condition(tail.group(1)) and tail.group(1).strip().lower() not in _FUNCTION_WORDS:
        notes.append(f"removed the trailing remark {tail.group().strip()!r}")
        text = text[: tail.start()]
    return text, notes


_TRAILING_TEXT = re.compile(r"\s\\text\s*\{([^{}]*)\}\s*[.,;]?\s*$")
_FUNCTION_WORDS = {"softmax", "relu", "sigmoid", "tanh", "exp", "log", "diag", "max", "min"}


def repair_delimiters(text: str):
    try:
        _, problems = scan_delimiters(text)
    except Reject:
        return text, []
    edits, notes = [], []  # (position, remove_until, insert)
    for kind, _, delim, where in problems:
        if kind == "unmatched":
            edits.append((where[0], where[1], ""))
            notes.append(f"removed an unmatched '{delim}'")
        else:
            edits.append((where, where, OPENERS[delim]))
            notes.append(f"added a missing '{OPENERS[delim]}'")
    # right to left so positions stay valid; equal positions keep their listed order
    for _, (start, stop, insert) in sorted(enumerate(edits), key=lambda e: (e[1][0], e[0]), reverse=True):
        text = text[:start] + insert + text[stop:]
    return text, notes


_NUMBER = r"\s*[-−+]?\s*\d+(?:\.\d+)?\s*"
_TUPLE = re.compile(rf"^\s*(?:\\left)?\s*\(({_NUMBER}(?:,{_NUMBER})+)(?:\\right)?\s*\)\s*[.,]?\s*$")


def _top_level_commas(inner: str) -> list[str] | None:
    """inner split at commas outside brackets and braces, or None when it has none."""
    parts, depth, start = [], 0, 0
    for k, ch in enumerate(inner):
        depth += ch in "({[" and 1 or ch in ")}]" and -1 or 0
        if ch == "," and depth == 0:
            parts.append(inner[start:k])
            start = k + 1
    return parts + [inner[start:]] if parts else None


def repair_tuple(text: str) -> tuple[str, list[str]]:
    """(-70, 50) or (e^{-70}, 1), as vectors are written in prose: a column vector."""
    m = _TUPLE.match(text)
    if m:
        entries = [e.strip() for e in m.group(1).split(",")]
    else:
        whole = re.fullmatch(r"\s*(?:\\left)?\s*\((.*?)(?:\\right)?\s*\)\s*[.,]?\s*", text, re.S)
        entries = _top_level_commas(whole.group(1)) if whole else None
        if not entries or any(not e.strip() for e in entries):
            return text, []
        entries = [e.strip() for e in entries]
    return "\\begin{bmatrix} " + " \\\\ ".join(entries) + " \\end{bmatrix}", ["read the tuple as a column vector"]
