r"""Extraction: find the math rows of an OCR'd submission (Markdown with LaTeX).

``extract`` finds the math blocks (``$$…$$``, ``\[…\]``, display environments
outside ``$$``, inline ``$…$`` and ``\(…\)``), splits them into rows at ``\\``
and each row into a chain of segments at its top-level relations (``=``, ``⇒``,
``≈``). Part labels and leading prose go to ``preface``, trailing remarks to
``condition``; justifications ``[\because …]`` are dropped. The math itself is
kept as written: parsing it is the next stage's job.

>>> from symderiv.extract import extract
>>> text = r'''2 b)
... $$\text{So, } J = \frac{1}{N} \\ &= 2 \quad \text{if } N = 1.$$'''
>>> for row in extract(text):
...     print(row.line, row.lead, row.segments, repr(row.preface), repr(row.condition))
2 None ('J', '\\frac{1}{N}') 'So' ''
2 = ('2',) '' 'if N = 1'
"""
from __future__ import annotations

import os
import re
import stat
from bisect import bisect_left
from dataclasses import dataclass

from .errors import SubmissionError

__all__ = ["MathRow", "read_submission", "extract", "MAX_BYTES"]

MAX_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class MathRow:
    line: int                    # 1-based line of the file where this row starts
    segments: tuple[str, ...]    # each side of the chain, cleaned; "" where a side is missing
    relations: tuple[str, ...]   # "=", "⇒" or "≈" between segments[i] and segments[i+1]
    lead: str | None             # relation the row begins with (continues the previous chain)
    inline: bool                 # from $…$ or \(…\) inside prose
    block: int                   # 0-based index of the math block in the file
    preface: str                 # stripped part label / leading prose, plain text
    condition: str               # stripped trailing condition or remark, plain text
    raw: str                     # the row as it was in the file


# --------------------------------------------------------------------------- reading

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
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):   # UTF-16 with a byte-order mark (Windows "Unicode" text)
        try:
            data = data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            raise fail("looks like UTF-16 but does not decode") from None
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


# --------------------------------------------------------------------------- tokens

_TOK = re.compile(r"""
    \\(?:begin|end)\s*\{[^{}]*\}                                      # \begin{name}
  | \\(?:left|right)(?![A-Za-z])\s*(?:\\[A-Za-z]+|\\[{}|]|[()\[\]|./<>])?  # \left( …
  | \\[A-Za-z]+ | \\. | \s+ | .
""", re.X | re.S)
_ENV = re.compile(r"\\(begin|end)\s*\{\s*([^{}]*?)\s*\}")
_WRAPPERS = {base + star for star in ("", "*") for base in (
    "aligned", "align", "split", "gather", "gathered", "equation", "multline", "eqnarray",
    "alignat", "alignedat", "flalign")}
_OPEN = {"{": "{", "(": "(", "[": "[", r"\{": r"\{", r"\lbrace": r"\{"}
_CLOSE = {"}": "{", ")": "(", "]": "[", r"\}": r"\{", r"\rbrace": r"\{"}
_LEFT = re.compile(r"\\(left|right)(?![A-Za-z])")
_RELATIONS = {"=": "=", r"\Rightarrow": "⇒", r"\implies": "⇒", r"\Longrightarrow": "⇒",
              r"\longrightarrow": "⇒", r"\rightarrow": "⇒", r"\to": "⇒", "⇒": "⇒", "⟹": "⇒",
              "→": "⇒", r"\approx": "≈", "≈": "≈"}
_TEXT_CMDS = {r"\text", r"\textrm", r"\textit", r"\textbf", r"\textsf", r"\textnormal", r"\mbox"}
_SPACING = {r"\quad", r"\qquad", r"\,", r"\;", r"\:", r"\!", "\\ ", "~"}
_CIRCLED = re.compile("[\u2460-\u2473\u24d0-\u24e9]")
_CONNECTIVES = {"when", "if", "where", "for", "since", "because", "as", "so", "and", "then",
                "hence", "thus", "therefore", "otherwise", "provided", "given", "with", "using",
                "by", "i.e", "e.g", "ie", "eg", "note", "similarly", "now", "also", "let",
                "assuming", "putting", "from", "which", "here", "wrt", "w.r.t", "or", "but"}


def _kind(tok: str) -> tuple[int, str] | None:
    """(+1 opener | -1 closer, group type) for a grouping token, else None."""
    if tok in _OPEN:
        return 1, _OPEN[tok]
    if tok in _CLOSE:
        return -1, _CLOSE[tok]
    m = _LEFT.match(tok)
    if m:
        return (1 if m.group(1) == "left" else -1), "left"
    m = _ENV.fullmatch(tok)
    if m and m.group(2) not in _WRAPPERS:  # cases, matrices and unknown envs stay intact
        return (1 if m.group(1) == "begin" else -1), "env:" + m.group(2)
    return None


class _Scan:
    """Tokens of a string and, for each, how many matched groups enclose it.

    Each kind of bracket is matched on its own stack; a bracket that is never
    matched (OCR drops and adds parentheses) is treated as an ordinary character.
    """

    def __init__(self, s: str, envs_and_braces_only: bool = False):
        self.s = s
        self.toks = [(m.start(), m.group()) for m in _TOK.finditer(s)]
        self.pair: dict[int, int] = {}
        stacks: dict[str, list[int]] = {}
        for i, (_, tok) in enumerate(self.toks):
            kind = _kind(tok)
            if kind is None or (envs_and_braces_only and kind[1] not in "{" and
                                not kind[1].startswith("env:")):
                continue
            stack = stacks.setdefault(kind[1], [])
            if kind[0] > 0:
                stack.append(i)
            elif stack:
                self.pair[stack.pop()] = i
        diff = [0] * (len(self.toks) + 1)
        for o, c in self.pair.items():
            diff[o + 1] += 1
            diff[c] -= 1
        self.depth, level = [], 0
        for i in range(len(self.toks)):
            level += diff[i]
            self.depth.append(level)

    def pos(self, i: int) -> int:
        return self.toks[i][0] if i < len(self.toks) else len(self.s)

    def end(self, i: int) -> int:
        return self.toks[i][0] + len(self.toks[i][1])

    def next_sig(self, i: int) -> int | None:
        for j in range(i + 1, len(self.toks)):
            if not self.toks[j][1].isspace():
                return j
        return None

    def text_arg(self, i: int | None) -> str | None:
        r"""The content of ``\text{…}`` if token i is a text command with a group."""
        if i is None or self.toks[i][1] not in _TEXT_CMDS:
            return None
        j = self.next_sig(i)
        if j is None or self.toks[j][1] != "{" or j not in self.pair:
            return None
        return self.s[self.end(j):self.pos(self.pair[j])]

    def relation(self, i: int) -> str | None:
        tok = self.toks[i][1]
        if tok == "=" and i and self.toks[i - 1][1] in ("<", ">", "!", "="):
            return None  # <=, >=, != and the second half of ==
        return _RELATIONS.get(tok)

    def has_relation(self, lo: int, hi: int) -> bool:
        """Whether a top-level relation is among tokens lo..hi-1."""
        if not hasattr(self, "_relations_before"):
            counts = [0]
            for i in range(len(self.toks)):
                counts.append(counts[-1] + bool(self.depth[i] == 0 and self.relation(i)))
            self._relations_before = counts
        hi = min(hi, len(self.toks))
        return lo < hi and self._relations_before[hi] > self._relations_before[lo]


# --------------------------------------------------------------------------- blocks

_BLANK = re.compile(r"\n(?=[^\S\n]*\n)")  # a newline that ends a paragraph
_OPENERS = re.compile(r"\$|\\[\[(]|\\begin\s*\{\s*([^{}]*?)\s*\}|~~|\\\$")


def _find_blocks(text: str) -> list[tuple[int, int, bool]]:
    """(start, end, inline) of the content of each math block, in file order.

    A block never runs past a blank line (TeX does not allow one in math): an
    unclosed delimiter ends its block at the end of its paragraph.
    """
    blocks, i, n = [], 0, len(text)
    blanks = [b.start() for b in _BLANK.finditer(text)]
    while True:
        m = _OPENERS.search(text, i)
        if not m:
            return blocks
        start, tok = m.start(), m.group()
        k = bisect_left(blanks, m.end())
        para_end = blanks[k] if k < len(blanks) else n
        if tok == "\\$":
            i = m.end()
        elif tok == "~~":  # struck-out prose: skip it, $ and all
            close = text.find("~~", m.end(), para_end)
            i = close + 2 if close >= 0 else m.end()
        elif tok == "$" and text.startswith("$$", start):
            close = text.find("$$", start + 2, para_end)
            if close < 0:  # `c = d$$` ending a line: a closer whose opener was lost
                line_start = max(text.rfind("\n", 0, start) + 1, i)
                line_end = text.find("\n", start)
                if text[line_start:start].strip() and \
                        not text[start + 2:line_end if line_end >= 0 else n].strip():
                    blocks.append((line_start, start, False))
                    i = start + 2
                    continue
            end = close if close >= 0 else para_end
            blocks.append((start + 2, end, False))
            i = end + 2 if close >= 0 else end
        elif tok == "$":
            close = start + 1
            while True:
                close = text.find("$", close, para_end)
                if close < 0 or text[close - 1] != "\\":
                    break
                close += 1
            if close < 0 or text.startswith("$$", close):
                i = start + 1  # no partner before a blank line or a $$: a literal $
            else:
                blocks.append((start + 1, close, True))
                i = close + 1
        elif tok in ("\\[", "\\("):
            closer = "\\]" if tok == "\\[" else "\\)"
            close = text.find(closer, start + 2, para_end)
            end = close if close >= 0 else para_end
            blocks.append((start + 2, end, tok == "\\("))
            i = end + 2 if close >= 0 else end
        elif m.group(1) in _WRAPPERS:
            name, depth, end = m.group(1), 0, para_end
            for e in _ENV.finditer(text, start, para_end):
                if e.group(2) == name:
                    depth += 1 if e.group(1) == "begin" else -1
                    if depth == 0:
                        end = e.end()
                        break
            blocks.append((start, end, False))
            i = max(end, start + 1)
        else:
            i = m.end()


def _mask(content: str) -> str:
    r"""Blank out (same length) wrappers, alignment & and \tag/\label/\nonumber."""
    sc = _Scan(content, envs_and_braces_only=True)
    out = list(content)
    env_level = _env_depth(sc)
    for i, (pos, tok) in enumerate(sc.toks):
        end = pos + len(tok)
        m = _ENV.fullmatch(tok)
        if m and m.group(2) in _WRAPPERS:
            j = sc.next_sig(i)
            if m.group(2).startswith("align") and m.group(1) == "begin" and j is not None \
                    and sc.toks[j][1] == "{" and j in sc.pair:
                end = sc.end(sc.pair[j])  # \begin{alignat}{2}
        elif tok == "&" and env_level[i] == 0:
            pass
        elif tok in (r"\nonumber", r"\notag"):
            pass
        elif tok in (r"\tag", r"\label"):
            j = sc.next_sig(i)
            if j is not None and sc.toks[j][1] in ("{", "*"):
                j = sc.next_sig(j) if sc.toks[j][1] == "*" else j
                if j is not None and j in sc.pair:
                    end = sc.end(sc.pair[j])
        else:
            continue
        for k in range(pos, min(end, len(out))):
            if out[k] != "\n":
                out[k] = " "
    return "".join(out)


def _env_depth(sc: _Scan) -> list[int]:
    """Per token, how many kept environments (cases, matrices…) enclose it."""
    diff = [0] * (len(sc.toks) + 1)
    for o, c in sc.pair.items():
        if sc.toks[o][1].startswith("\\begin"):
            diff[o + 1] += 1
            diff[c] -= 1
    level, out = 0, []
    for i in range(len(sc.toks)):
        level += diff[i]
        out.append(level)
    return out


_ROW_SPACE = re.compile(r"\s*\[\s*-?[\d.]+\s*(?:pt|em|ex|mm|cm|in|mu)\s*\]")


def _split_rows(masked: str) -> list[tuple[int, int]]:
    r"""Spans of the rows of a block: split at \\ outside braces and kept environments."""
    sc = _Scan(masked, envs_and_braces_only=True)
    spans, start = [], 0
    for i, (pos, tok) in enumerate(sc.toks):
        if tok in ("\\\\", r"\cr", r"\newline") and sc.depth[i] == 0 and pos >= start:
            spans.append((start, pos))
            gap = _ROW_SPACE.match(masked, pos + len(tok))
            start = gap.end() if gap else pos + len(tok)
    spans.append((start, len(masked)))
    return [piece for span in spans for piece in _split_at_leading_relations(masked, span, sc)]


_LEADING_RELATION = re.compile(r"\n[ \t]*(?==(?!=)|\\Rightarrow|\\implies|\\Longrightarrow|⇒)")


def _split_at_leading_relations(masked: str, span: tuple[int, int], sc) -> list[tuple[int, int]]:
    r"""A chain written one `= …` per line without \ is one row per line (each keeps its own line)."""
    start, end = span
    cuts = []
    for m in _LEADING_RELATION.finditer(masked, start, end):
        q = m.end()
        i = next((k for k, (pos, _) in enumerate(sc.toks) if pos >= q), None)
        if i is not None and sc.depth[i] == 0:
            cuts.append((m.start(), q))
    pieces, s0 = [], start
    for nl, q in cuts:
        pieces.append((s0, nl))
        s0 = q
    pieces.append((s0, end))
    return [p for p in pieces if masked[p[0]:p[1]].strip()]


_NO_STATEMENT_START = _TEXT_CMDS | _SPACING | {r"\checkmark", r"\because"}


def _split_statements(row: str) -> list[tuple[int, int]]:
    r"""Spans of the separate statements in one row.

    ``a = b, \quad c = d`` and ``a = b \quad \therefore c = d`` are two statements;
    ``a = b \quad \text{if } …`` is one statement and a remark.
    """
    sc = _Scan(row)
    n, cuts, last = len(sc.toks), [], 0
    for i, (pos, tok) in enumerate(sc.toks):
        if sc.depth[i]:
            continue
        if tok in (r"\therefore", "∴") and row[sc.pos(last):pos].strip():
            cuts.append(pos)
            last = i
        elif tok in (r"\quad", r"\qquad") or (sc.text_arg(i) or "").strip().lower() == "and":
            j = sc.next_sig(i)
            if tok in _TEXT_CMDS:  # \text{ and }: look past its group
                j = sc.next_sig(sc.pair[j])
            if j is None or sc.toks[j][1] in _NO_STATEMENT_START or _kind(sc.toks[j][1]) \
                    or sc.relation(j):
                continue
            if sc.has_relation(last, i) and sc.has_relation(j, n):
                cuts.append(pos)
                last = i
    bounds = [0] + cuts + [len(row)]
    return list(zip(bounds, bounds[1:]))


# --------------------------------------------------------------------------- cleaning

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


def _unwrap(s: str) -> str:
    r"""\underline{x}, \boxed{x}, \underbrace{x}_{note} -> x (nested ones too)."""
    if not _UNWRAP.search(s):
        return s
    pairs, drop = _brace_pairs(s), bytearray(len(s) + 1)
    for m in _UNWRAP.finditer(s):
        if drop[m.start()]:
            continue  # inside an \underbrace note that is dropped anyway
        close = pairs.get(m.end() - 1, len(s))
        drop[m.start():m.end()] = b"\1" * (m.end() - m.start())
        drop[close] = 1
        if m.group(1) in ("underbrace", "overbrace"):
            k = len(s) - len(s[close + 1:].lstrip())
            if s[k:k + 1] in ("_", "^"):
                k = len(s) - len(s[k + 1:].lstrip())
                arg = _TOK.match(s, k) if k < len(s) else None
                end = pairs.get(k, len(s)) + 1 if s[k:k + 1] == "{" else (arg.end() if arg else k)
                drop[close:end] = b"\1" * (end - close)
    return "".join(ch for ch, gone in zip(s, drop) if not gone)


def _drop_because(s: str) -> str:
    r"""Remove justifications [\because …], \left[\because … \right], (\because …)."""
    sc = _Scan(s)
    spans = []
    for o, c in sc.pair.items():
        opener = sc.toks[o][1]
        if opener in ("(", "[") or (_LEFT.match(opener) and opener[-1:] in "(["):
            j = sc.next_sig(o)
            if j is not None and sc.toks[j][1] in (r"\because", "∵"):
                spans.append((sc.pos(o), sc.end(c)))
    pieces, last = [], 0
    for a, b in sorted(spans):
        if a >= last:  # justifications inside a dropped one are gone already
            pieces += [s[last:a], " "]
            last = b
    return "".join(pieces) + s[last:]


_LABEL = re.compile(r"""
    \\textcircled\s*\{\s*(?P<circ>\w{1,3})\s*\}
  | (?P<lab> \(\s*(?:[a-hA-H]|[ivx]{1,4}|\d{1,2})\s*\)   # (b) (ii) (3)
           | (?:\d{1,2}\s*)?[a-hA-H]\)                    # a) 2 b)
           | (?:\d{1,2}\s*)?[a-h]\.(?=\s)                 # a.
           | [ivx]{1,4}[.)]                               # i. ii)
           | \d{1,2}[.)](?!\d) )                          # 1. 2)
    (?=[\s\\]|$)
  | (?P<circled>[\u2460-\u2473\u24d0-\u24e9])
""", re.X)
_LEAD_WORDS = {r"\therefore": "therefore", "∴": "therefore", r"\because": "because",
               "∵": "because"}
_CONDITION_WORDS = {"for", "if", "when", "where", "with", "at", "given"}
_APPLICATION = {"(", "[", "_", "^", "'", r"\left", r"\{"}


def _strip_preface(s: str) -> tuple[str, str]:
    """Move part labels and leading prose to a preface: (preface, rest)."""
    parts: list[str] = []
    for _ in range(8):
        s = _strip_spacing(s, leading=True)
        m = _LABEL.match(s)
        if m:
            parts.append(f"({m.group('circ')})" if m.group("circ") else m.group().strip())
            s = s[m.end():]
            continue
        sc = _Scan(s)
        if not sc.toks:
            break
        first = sc.toks[0][1]
        if first in _LEAD_WORDS:
            parts.append(_LEAD_WORDS[first])
            s = s[len(first):]
            continue
        content = sc.text_arg(0)
        if content is None or not content.strip():
            break
        close = sc.pair[sc.next_sig(0)]
        after = sc.next_sig(close)
        word = re.match(r"[A-Za-z.]*", content.strip()).group().lower().rstrip(".")
        if word not in _CONNECTIVES and after is not None and (
                sc.toks[after][1] in _APPLICATION or _LEFT.match(sc.toks[after][1])):
            break  # \text{ReLU}(z): an operator name, not prose
        parts.append(content)
        s = s[sc.end(close):]
        words = content.strip().lower().split()
        if words and words[-1] in _CONDITION_WORDS:  # \text{For } l=L, …
            rest = _Scan(s)
            for i, (pos, tok) in enumerate(rest.toks):
                if tok == "," and rest.depth[i] == 0:
                    if len(s[:pos].strip()) <= 30:
                        parts.append(s[:pos])
                        s = s[pos + 1:]
                    break
    return _plain(" ".join(parts)), s


def _is_remark(content: str) -> bool:
    r"""Whether the content of a \text{…} in a row is prose rather than an operator name."""
    c = content.strip()
    if not c:
        return False
    word = re.match(r"[A-Za-z.]*", c).group().lower().rstrip(".")
    return word in _CONNECTIVES or not c[0].isalnum() or len(c.split()) >= 3


def _split_remark(s: str) -> tuple[str, str]:
    """(math, trailing remark) of a row without its preface."""
    sc = _Scan(s)
    sig = [i for i, (_, t) in enumerate(sc.toks) if not t.isspace() and t not in (".", ",")]
    last = sig[-1] if sig else -1

    def opens_last_group(i: int | None) -> bool:  # ( … ) or \left[ … \right] ending the row
        return i is not None and sc.pair.get(i) == last and (
            sc.toks[i][1] in ("(", "[") or sc.toks[i][1].startswith("\\left"))

    def remark_group(i: int | None) -> bool:  # (\text{…}), (z > 0), (a = 0), (3); not (x + y)
        if not opens_last_group(i):
            return False
        inner = [t for _, t in sc.toks[i + 1:last]]
        return bool(_TEXT_CMDS.intersection(inner) or _COMPARISONS.intersection(inner)
                    or any(_RELATIONS.get(t) for t in inner) or r"\because" in inner
                    or re.fullmatch(r"\s*(?:\d{1,2}|[ivx]{1,4})?\s*", "".join(inner)))

    for i, (pos, tok) in enumerate(sc.toks):
        if sc.depth[i]:
            continue
        j = sc.next_sig(i)
        if (tok in (r"\checkmark", "✓", "✔", r"\because", "∵", r"\tag") or _CIRCLED.match(tok)
                or _is_remark(sc.text_arg(i) or "")
                or (tok in (r"\quad", r"\qquad") and remark_group(j))
                or (opens_last_group(i) and _is_remark(sc.text_arg(j) or ""))):
            return s[:pos], s[pos:]
    return s, ""


_PLAIN_SUBS = [
    (re.compile(r"\\(?:text|textrm|textit|textbf|textsf|textnormal|mbox|mathrm)\s*\{([^{}]*)\}"),
     r" \1 "),
    (re.compile(r"\\textcircled\s*\{([^{}]*)\}"), r"(\1)"),
    (re.compile(r"\\(?:q?quad|[,;:! ])|~|\\checkmark|[✓✔]"), " "),
    (re.compile(r"\\because|∵"), "because"),
    (re.compile(r"\\therefore|∴"), "therefore"),
]


def _plain(s: str) -> str:
    for pattern, repl in _PLAIN_SUBS:
        s = pattern.sub(repl, s)
    return " ".join(s.split()).strip(" ,;:")


def _condition(remark: str) -> str:
    r"""The plain text of a trailing remark if it is a condition, else "".

    ``\text{when } i = j`` and ``(z > 0)`` restrict the row: they are kept.
    Justifications (``since …``, ``(\partial J_{reg}/\partial a = 0)``), comments
    and equation numbers are dropped, so that the row still counts as a claim.
    """
    c = _plain(remark).strip(" ,;:.")
    for _ in range(2):  # (when z > 0), \left( … \right)
        sc = _Scan(c)
        if not sc.toks or sc.pair.get(0) != len(sc.toks) - 1 or _kind(sc.toks[0][1])[1] == "{":
            break
        c = c[sc.end(0):sc.pos(len(sc.toks) - 1)].strip(" ,;:.")
    if _PROSE.search(remark):
        word = re.match(r"[A-Za-z]*", c).group().lower()
        return c if word in _CONDITION_STARTS else ""
    sc = _Scan(c)
    top = [sc.toks[i][1] for i in range(len(sc.toks)) if sc.depth[i] == 0]
    return c if _COMPARISONS.intersection(top) and not sc.has_relation(0, len(sc.toks)) else ""


_PROSE = re.compile(r"\\(?:text|textrm|textit|textbf|textsf|textnormal|mbox|checkmark|because)"
                    r"(?![A-Za-z])|[✓✔∵]")
_CONDITION_STARTS = {"when", "whenever", "if", "iff", "for", "provided", "given", "unless",
                     "otherwise", "assuming", "only", "except"}
_COMPARISONS = {"<", ">", r"\leq", r"\geq", r"\le", r"\ge", r"\neq", r"\ne", r"\in", r"\notin",
                r"\lt", r"\gt", "≤", "≥", "≠", "∈"}


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


def _clean_segment(s: str) -> str:
    """Collapse whitespace; strip spacing and a trailing . , ; : from one side of a chain."""
    s = " ".join(s.split())
    while True:
        new = _strip_spacing(_strip_spacing(s, leading=True))
        if new[-1:] in (".", ",", ";", ":") and new[-2:-1] != "\\" \
                and not re.search(r"\\(?:left|right)\s*\.$", new):
            new = new[:-1]
        if new == s:
            return s
        s = new


_LABELS_ONLY = re.compile(
    r"(?:\s*(?:\\(?:mathbf|textbf|boldsymbol|bm|text|mathrm)\s*\{\s*[\w.()]{1,4}\s*\}|\\q?quad))+\s*")


def _chain(s: str) -> tuple[str | None, list[str], list[str]]:
    """(lead, segments, relations) of one statement, split at top-level relations."""
    sc = _Scan(s)
    segments, relations, last = [], [], 0
    for i, (pos, tok) in enumerate(sc.toks):
        if sc.depth[i] == 0 and (rel := sc.relation(i)):
            segments.append(s[last:pos])
            relations.append(rel)
            last = pos + len(tok)
            if tok == "=" and s.startswith("=", last):
                last += 1  # ==
    segments.append(s[last:])
    segments = [_clean_segment(seg) for seg in segments]
    lead = None
    if relations and not segments[0]:
        lead = relations.pop(0)
        segments.pop(0)
    return lead, segments, relations


_RAW_WRAPPERS = re.compile(
    r"^(?:\s*\\begin\s*\{(?:%s)\})+|(?:\s*\\end\s*\{(?:%s)\})+\s*$"
    % (("|".join(map(re.escape, _WRAPPERS)),) * 2))


def _make_row(text: str, raw: str, line: int, inline: bool, block: int) -> MathRow | None:
    raw = _RAW_WRAPPERS.sub("", raw).strip()
    text = _drop_because(_unwrap(text))
    preface, text = _strip_preface(text)
    math, remark = _split_remark(text)
    lead, segments, relations = _chain(math)
    if not any(segments):
        return None
    if not relations and lead is None and _LABELS_ONLY.fullmatch(segments[0]) \
            and segments[0].count("{") >= 2:
        return None  # $$\mathbf{1} \quad \mathbf{a}$$: question and part numbers
    return MathRow(line, tuple(segments), tuple(relations), lead, inline, block, preface,
                   _condition(remark), raw)


_CONTINUES = re.compile(r"(?:[-+]|\\cdot|\\times|\\odot|\\circ)(?![A-Za-z])")


def _merge_continuations(rows: list[MathRow]) -> list[MathRow]:
    r"""Join ``&\quad + 0`` (a row that only continues the last side) to its row."""
    groups: list[list[MathRow]] = []
    for row in rows:
        first = groups[-1][0] if groups else None
        if (first is not None and first.block == row.block and not groups[-1][-1].condition
                and row.lead is None and not row.relations and not row.preface
                and _CONTINUES.match(row.segments[0])):
            groups[-1].append(row)
        else:
            groups.append([row])
    out = []
    for first, *rest in groups:
        if rest:
            last = " ".join([first.segments[-1]] + [r.segments[0] for r in rest]).strip()
            first = MathRow(first.line, first.segments[:-1] + (last,), first.relations, first.lead,
                            first.inline, first.block, first.preface, rest[-1].condition,
                            " \\\\ ".join([first.raw] + [r.raw for r in rest]))
        out.append(first)
    return out


def extract(text: str) -> list[MathRow]:
    """Every math row of a submission, in file order. Never raises on a str."""
    newlines = [m.start() for m in re.finditer("\n", text)]
    rows: list[MathRow] = []
    for block, (start, end, inline) in enumerate(_find_blocks(text)):
        content = text[start:end]
        masked = _mask(content)
        block_rows = []
        for r0, r1 in _split_rows(masked):
            row = masked[r0:r1]
            for a, b in _split_statements(row):
                piece = row[a:b]
                if not piece.strip():
                    continue
                offset = start + r0 + a + len(piece) - len(piece.lstrip())
                made = _make_row(piece, content[r0 + a:r0 + b].strip(),
                                 bisect_left(newlines, offset) + 1, inline, block)
                if made:
                    block_rows.append(made)
        rows.extend(_merge_continuations(block_rows))
    return rows
