"""Cleaning one side of a chain: part labels and leading prose to a preface, trailing remarks and
conditions split off, justifications (\\because …) dropped, \\underline and friends unwrapped."""

from __future__ import annotations

import re

from symderiv.reading.scan import (
    CHAIN_RELATIONS,
    CIRCLED,
    CONNECTIVES,
    LEFT_DELIMS,
    TEXT_CMDS,
    TOKEN_PATTERN,
    Scan,
    token_kind,
)

_UNWRAP = re.compile(r"\\(underline|boxed|underbrace|overbrace)(?![A-Za-z])\s*\{")


def _brace_pairs(s: str) -> dict[int, int]:
    """Position of each { -> position of its }, unescaped braces only."""
    pairs, stack, k = {}, [], 0
    while k < len(s):
        ch = s[k]
        if ch == "\\":
            k += 2
            continue
        if ch == "{":
            stack.append(k)
        elif ch == "}" and stack:
            pairs[stack.pop()] = k
        k += 1
    return pairs


def unwrap_math(s: str) -> str:
    r"""\underline{x}, \boxed{x}, \underbrace{x}_{note} -> x (nested ones too)."""
    if not _UNWRAP.search(s):
        return s
    pairs, drop = _brace_pairs(s), bytearray(len(s) + 1)
    for m in _UNWRAP.finditer(s):
        if drop[m.start()]:
            continue  # inside an \underbrace note that is dropped anyway
        close = pairs.get(m.end() - 1, len(s))
        drop[m.start() : m.end()] = b"\1" * (m.end() - m.start())
        drop[close] = 1
        if m.group(1) in ("underbrace", "overbrace"):
            k = len(s) - len(s[close + 1 :].lstrip())
            if s[k : k + 1] in ("_", "^"):
                k = len(s) - len(s[k + 1 :].lstrip())
                arg = TOKEN_PATTERN.match(s, k) if k < len(s) else None
                end = pairs.get(k, len(s)) + 1 if s[k : k + 1] == "{" else (arg.end() if arg else k)
                drop[close:end] = b"\1" * (end - close)
    return "".join(ch for ch, gone in zip(s, drop) if not gone)


def drop_because(s: str) -> str:
    r"""Remove justifications [\because …], \left[\because … \right], (\because …)."""
    sc = Scan(s)
    spans = []
    for o, c in sc.pair.items():
        opener = sc.toks[o][1]
        if opener in ("(", "[") or (LEFT_DELIMS.match(opener) and opener[-1:] in "(["):
            j = sc.next_sig(o)
            if j is not None and sc.toks[j][1] in (r"\because", "∵"):
                spans.append((sc.pos(o), sc.end(c)))
    pieces, last = [], 0
    for a, b in sorted(spans):
        if a >= last:  # justifications inside a dropped one are gone already
            pieces += [s[last:a], " "]
            last = b
    return "".join(pieces) + s[last:]


_LABEL = re.compile(
    r"""
    \\textcircled\s*\{\s*(?P<circ>\w{1,3})\s*\}
  | (?P<lab> \(\s*(?:[a-hA-H]|[ivx]{1,4}|\d{1,2})\s*\)   # (b) (ii) (3)
           | (?:\d{1,2}\s*)?[a-hA-H]\)                    # a) 2 b)
           | (?:\d{1,2}\s*)?[a-h]\.(?=\s)                 # a.
           | [ivx]{1,4}[.)]                               # i. ii)
           | \d{1,2}[.)](?!\d) )                          # 1. 2)
    (?=[\s\\]|$)
  | (?P<circled>[\u2460-\u2473\u24d0-\u24e9])
""",
    re.X,
)
_LEAD_WORDS = {r"\therefore": "therefore", "∴": "therefore", r"\because": "because", "∵": "because"}
_CONDITION_WORDS = {"for", "if", "when", "where", "with", "at", "given"}
_APPLICATION = {"(", "[", "_", "^", "'", r"\left", r"\{"}


def strip_preface(s: str) -> tuple[str, str]:
    """Move part labels and leading prose to a preface: (preface, rest)."""
    parts: list[str] = []
    for _ in range(8):
        s = _strip_spacing(s, leading=True)
        m = _LABEL.match(s)
        if m:
            parts.append(f"({m.group('circ')})" if m.group("circ") else m.group().strip())
            s = s[m.end() :]
            continue
        sc = Scan(s)
        if not sc.toks:
            break
        first = sc.toks[0][1]
        if first in _LEAD_WORDS:
            parts.append(_LEAD_WORDS[first])
            s = s[len(first) :]
            continue
        content = sc.text_arg(0)
        if content is None or not content.strip():
            break
        close = sc.pair[sc.next_sig(0)]
        after = sc.next_sig(close)
        word = re.match(r"[A-Za-z.]*", content.strip()).group().lower().rstrip(".")
        if (
            word not in CONNECTIVES
            and after is not None
            and (sc.toks[after][1] in _APPLICATION or LEFT_DELIMS.match(sc.toks[after][1]))
        ):
            break  # \text{ReLU}(z): an operator name, not prose
        parts.append(content)
        s = s[sc.end(close) :]
        words = content.strip().lower().split()
        if words and words[-1] in _CONDITION_WORDS:  # \text{For } l=L, …
            rest = Scan(s)
            for i, (pos, tok) in enumerate(rest.toks):
                if tok == "," and rest.depth[i] == 0:
                    if len(s[:pos].strip()) <= 30:
                        parts.append(s[:pos])
                        s = s[pos + 1 :]
                    break
    return _plain(" ".join(parts)), s


def _is_remark(content: str) -> bool:
    r"""Whether the content of a \text{…} in a row is prose rather than an operator name."""
    c = content.strip()
    if not c:
        return False
    word = re.match(r"[A-Za-z.]*", c).group().lower().rstrip(".")
    return word in CONNECTIVES or not c[0].isalnum() or len(c.split()) >= 3


def split_remark(s: str) -> tuple[str, str]:
    """(math, trailing remark) of a row without its preface."""
    sc = Scan(s)
    sig = [i for i, (_, t) in enumerate(sc.toks) if not t.isspace() and t not in (".", ",")]
    last = sig[-1] if sig else -1

    def opens_last_group(i: int | None) -> bool:  # ( … ) or \left[ … \right] ending the row
        return (
            i is not None
            and sc.pair.get(i) == last
            and (sc.toks[i][1] in ("(", "[") or sc.toks[i][1].startswith("\\left"))
        )

    def remark_group(i: int | None) -> bool:  # (\text{…}), (z > 0), (a = 0), (3); not (x + y)
        if not opens_last_group(i):
            return False
        inner = [t for _, t in sc.toks[i + 1 : last]]
        return bool(
            TEXT_CMDS.intersection(inner)
            or _COMPARISONS.intersection(inner)
            or any(CHAIN_RELATIONS.get(t) for t in inner)
            or r"\because" in inner
            or re.fullmatch(r"\s*(?:\d{1,2}|[ivx]{1,4})?\s*", "".join(inner))
        )

    for i, (pos, tok) in enumerate(sc.toks):
        if sc.depth[i]:
            continue
        j = sc.next_sig(i)
        if (
            tok in (r"\checkmark", "✓", "✔", r"\because", "∵", r"\tag")
            or CIRCLED.match(tok)
            or _is_remark(sc.text_arg(i) or "")
            or (tok in (r"\quad", r"\qquad") and remark_group(j))
            or (opens_last_group(i) and _is_remark(sc.text_arg(j) or ""))
        ):
            return s[:pos], s[pos:]
    return s, ""


_PLAIN_SUBS = [
    (re.compile(r"\\(?:text|textrm|textit|textbf|textsf|textnormal|mbox|mathrm)\s*\{([^{}]*)\}"), r" \1 "),
    (re.compile(r"\\textcircled\s*\{([^{}]*)\}"), r"(\1)"),
    (re.compile(r"\\(?:q?quad|[,;:! ])|~|\\checkmark|[✓✔]"), " "),
    (re.compile(r"\\because|∵"), "because"),
    (re.compile(r"\\therefore|∴"), "therefore"),
]


def _plain(s: str) -> str:
    for pattern, repl in _PLAIN_SUBS:
        s = pattern.sub(repl, s)
    return " ".join(s.split()).strip(" ,;:")


def condition_of(remark: str) -> str:
    r"""The plain text of a trailing remark if it is a condition, else "".

    ``\text{when } i = j`` and ``(z > 0)`` restrict the row: they are kept.
    Justifications (``since …``, ``(\partial J_{reg}/\partial a = 0)``), comments
    and equation numbers are dropped, so that the row still counts as a claim.
    """
    c = _plain(remark).strip(" ,;:.")
    for _ in range(2):  # (when z > 0), \left( … \right)
        sc = Scan(c)
        if not sc.toks or sc.pair.get(0) != len(sc.toks) - 1 or token_kind(sc.toks[0][1])[1] == "{":
            break
        c = c[sc.end(0) : sc.pos(len(sc.toks) - 1)].strip(" ,;:.")
    if _PROSE.search(remark):
        word = re.match(r"[A-Za-z]*", c).group().lower()
        return c if word in _CONDITION_STARTS else ""
    sc = Scan(c)
    top = [sc.toks[i][1] for i in range(len(sc.toks)) if sc.depth[i] == 0]
    return c if _COMPARISONS.intersection(top) and not sc.has_relation(0, len(sc.toks)) else ""


_PROSE = re.compile(
    r"\\(?:text|textrm|textit|textbf|textsf|textnormal|mbox|checkmark|because)"
    r"(?![A-Za-z])|[✓✔∵]"
)
_CONDITION_STARTS = {
    "when",
    "whenever",
    "if",
    "iff",
    "for",
    "provided",
    "given",
    "unless",
    "otherwise",
    "assuming",
    "only",
    "except",
}
_COMPARISONS = {
    "<",
    ">",
    r"\leq",
    r"\geq",
    r"\le",
    r"\ge",
    r"\neq",
    r"\ne",
    r"\in",
    r"\notin",
    r"\lt",
    r"\gt",
    "≤",
    "≥",
    "≠",
    "∈",
}


_EDGE_SPACING = re.compile(r"^(?:\\q?quad(?![A-Za-z])|\\[,;:! ]|~|\s)+")
_TAIL_SPACING = ("\\qquad", "\\quad", "\\,", "\\;", "\\:", "\\!", "~", "\\")


def _strip_spacing(s: str, leading: bool = False) -> str:
    r"""Strip whitespace and spacing commands (\quad, \, …) from the start or the end."""
    if leading:
        return _EDGE_SPACING.sub("", s)
    end = len(s)
    while True:
        while end and s[end - 1].isspace():
            end -= 1
        for tail in _TAIL_SPACING:
            k = end - len(tail)
            if k >= 0 and s.startswith(tail, k) and _unescaped(s, k):
                end = k
                break
        else:
            return s[:end]


def _unescaped(s: str, k: int) -> bool:
    """Whether s[k] is not escaped, i.e. an even number of backslashes precede it."""
    j = k
    while j and s[j - 1] == "\\":
        j -= 1
    return (k - j) % 2 == 0


def clean_segment(s: str) -> str:
    """Collapse whitespace; strip spacing and a trailing . , ; : from one side of a chain."""
    s = " ".join(s.split())
    while True:
        new = _strip_spacing(_strip_spacing(s, leading=True))
        if new[-1:] in (".", ",", ";", ":") and new[-2:-1] != "\\" and not re.search(r"\\(?:left|right)\s*\.$", new):
            new = new[:-1]
        if new == s:
            return s
        s = new


LABELS_ONLY = re.compile(
    r"(?:\s*(?:\\(?:mathbf|textbf|boldsymbol|bm|text|mathrm)\s*\{\s*[\w.()]{1,4}\s*\}|\\q?quad))+\s*"
)
