r"""Extraction: find the math rows of an OCR'd submission (Markdown with LaTeX).

``extract`` finds the math blocks (``$$…$$``, ``\[…\]``, display environments
outside ``$$``, inline ``$…$`` and ``\(…\)``), splits them into rows at ``\\``
and each row into a chain of segments at its top-level relations (``=``, ``⇒``,
``≈``). Part labels and leading prose go to ``preface``, trailing remarks to
``condition``; justifications ``[\because …]`` are dropped. The math itself is
kept as written: parsing it is the next stage's job.

>>> from symderiv.reading.extract import extract
>>> text = r'''2 b)
... $$\text{So, } J = \frac{1}{N} \\ &= 2 \quad \text{if } N = 1.$$'''
>>> for row in extract(text):
...     print(row.line, row.lead, row.segments, repr(row.preface), repr(row.condition))
2 None ('J', '\\frac{1}{N}') 'So' ''
2 = ('2',) '' 'if N = 1'
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass

from symderiv.reading.clean import (
    LABELS_ONLY,
    clean_segment,
    condition_of,
    drop_because,
    split_remark,
    strip_preface,
    unwrap_math,
)
from symderiv.reading.scan import ENV_PATTERN, SPACING, TEXT_CMDS, WRAPPERS, Scan, token_kind
from symderiv.reading.submission import MAX_BYTES, read_submission  # noqa: F401  (re-exported)

__all__ = ["MathRow", "read_submission", "extract", "MAX_BYTES"]


@dataclass(frozen=True)
class MathRow:
    line: int  # 1-based line of the file where this row starts
    segments: tuple[str, ...]  # each side of the chain, cleaned; "" where a side is missing
    relations: tuple[str, ...]  # "=", "⇒" or "≈" between segments[i] and segments[i+1]
    lead: str | None  # relation the row begins with (continues the previous chain)
    inline: bool  # from $…$ or \(…\) inside prose
    block: int  # 0-based index of the math block in the file
    preface: str  # stripped part label / leading prose, plain text
    condition: str  # stripped trailing condition or remark, plain text
    raw: str  # the row as it was in the file


# --------------------------------------------------------------------------- blocks

_BLANK = re.compile(r"\n(?=[^\S\n]*\n)")  # a newline that ends a paragraph
OPENERS = re.compile(r"\$|\\[\[(]|\\begin\s*\{\s*([^{}]*?)\s*\}|~~|\\\$")


def _find_blocks(text: str) -> list[tuple[int, int, bool]]:
    """(start, end, inline) of the content of each math block, in file order.

    A block never runs past a blank line (TeX does not allow one in math): an
    unclosed delimiter ends its block at the end of its paragraph.
    """
    blocks, i, n = [], 0, len(text)
    blanks = [b.start() for b in _BLANK.finditer(text)]
    while True:
        m = OPENERS.search(text, i)
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
                if text[line_start:start].strip() and not text[start + 2 : line_end if line_end >= 0 else n].strip():
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
        elif m.group(1) in WRAPPERS:
            name, depth, end = m.group(1), 0, para_end
            for e in ENV_PATTERN.finditer(text, start, para_end):
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
    sc = Scan(content, envs_and_braces_only=True)
    out = list(content)
    env_level = _env_depth(sc)
    for i, (pos, tok) in enumerate(sc.toks):
        end = pos + len(tok)
        m = ENV_PATTERN.fullmatch(tok)
        if m and m.group(2) in WRAPPERS:
            j = sc.next_sig(i)
            if (
                m.group(2).startswith("align")
                and m.group(1) == "begin"
                and j is not None
                and sc.toks[j][1] == "{"
                and j in sc.pair
            ):
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


def _env_depth(sc: Scan) -> list[int]:
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
    sc = Scan(masked, envs_and_braces_only=True)
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
    positions = sc.positions
    for m in _LEADING_RELATION.finditer(masked, start, end):
        q = m.end()
        i = bisect_left(positions, q)  # the first token at or after q (a linear scan was quadratic)
        if i < len(positions) and sc.depth[i] == 0:
            cuts.append((m.start(), q))
    pieces, s0 = [], start
    for nl, q in cuts:
        pieces.append((s0, nl))
        s0 = q
    pieces.append((s0, end))
    return [p for p in pieces if masked[p[0] : p[1]].strip()]


_NO_STATEMENT_START = TEXT_CMDS | SPACING | {r"\checkmark", r"\because"}


def _split_statements(row: str) -> list[tuple[int, int]]:
    r"""Spans of the separate statements in one row.

    ``a = b, \quad c = d`` and ``a = b \quad \therefore c = d`` are two statements;
    ``a = b \quad \text{if } …`` is one statement and a remark.
    """
    sc = Scan(row)
    n, cuts, last = len(sc.toks), [], 0
    for i, (pos, tok) in enumerate(sc.toks):
        if sc.depth[i]:
            continue
        if tok in (r"\therefore", "∴") and row[sc.pos(last) : pos].strip():
            cuts.append(pos)
            last = i
        elif tok in (r"\quad", r"\qquad") or (sc.text_arg(i) or "").strip().lower() == "and":
            j = sc.next_sig(i)
            if tok in TEXT_CMDS:  # \text{ and }: look past its group
                j = sc.next_sig(sc.pair[j])
            if j is None or sc.toks[j][1] in _NO_STATEMENT_START or token_kind(sc.toks[j][1]) or sc.relation(j):
                continue
            if sc.has_relation(last, i) and sc.has_relation(j, n):
                cuts.append(pos)
                last = i
    bounds = [0] + cuts + [len(row)]
    return list(zip(bounds, bounds[1:]))


def _chain(s: str) -> tuple[str | None, list[str], list[str]]:
    """(lead, segments, relations) of one statement, split at top-level relations."""
    sc = Scan(s)
    segments, relations, last = [], [], 0
    for i, (pos, tok) in enumerate(sc.toks):
        if sc.depth[i] == 0 and (rel := sc.relation(i)):
            segments.append(s[last:pos])
            relations.append(rel)
            last = pos + len(tok)
            if tok == "=" and s.startswith("=", last):
                last += 1  # ==
    segments.append(s[last:])
    segments = [clean_segment(seg) for seg in segments]
    lead = None
    if relations and not segments[0]:
        lead = relations.pop(0)
        segments.pop(0)
    return lead, segments, relations


_RAW_WRAPPERS = re.compile(
    r"^(?:\s*\\begin\s*\{(?:%s)\})+|(?:\s*\\end\s*\{(?:%s)\})+\s*$" % (("|".join(map(re.escape, WRAPPERS)),) * 2)
)


def _make_row(text: str, raw: str, line: int, inline: bool, block: int) -> MathRow | None:
    raw = _RAW_WRAPPERS.sub("", raw).strip()
    text = drop_because(unwrap_math(text))
    preface, text = strip_preface(text)
    math, remark = split_remark(text)
    lead, segments, relations = _chain(math)
    if not any(segments):
        return None
    if not relations and lead is None and LABELS_ONLY.fullmatch(segments[0]) and segments[0].count("{") >= 2:
        return None  # $$\mathbf{1} \quad \mathbf{a}$$: question and part numbers
    return MathRow(line, tuple(segments), tuple(relations), lead, inline, block, preface, condition_of(remark), raw)


_CONTINUES = re.compile(r"(?:[-+]|\\cdot|\\times|\\odot|\\circ)(?![A-Za-z])")


def _merge_continuations(rows: list[MathRow]) -> list[MathRow]:
    r"""Join ``&\quad + 0`` (a row that only continues the last side) to its row."""
    groups: list[list[MathRow]] = []
    for row in rows:
        first = groups[-1][0] if groups else None
        if (
            first is not None
            and first.block == row.block
            and not groups[-1][-1].condition
            and row.lead is None
            and not row.relations
            and not row.preface
            and _CONTINUES.match(row.segments[0])
        ):
            groups[-1].append(row)
        else:
            groups.append([row])
    out = []
    for first, *rest in groups:
        if rest:
            last = " ".join([first.segments[-1]] + [r.segments[0] for r in rest]).strip()
            first = MathRow(
                first.line,
                first.segments[:-1] + (last,),
                first.relations,
                first.lead,
                first.inline,
                first.block,
                first.preface,
                rest[-1].condition,
                " \\\\ ".join([first.raw] + [r.raw for r in rest]),
            )
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
                made = _make_row(
                    piece, content[r0 + a : r0 + b].strip(), bisect_left(newlines, offset) + 1, inline, block
                )
                if made:
                    block_rows.append(made)
        rows.extend(_merge_continuations(block_rows))
    return rows
