"""A light scanner over LaTeX in Markdown: tokens, bracket pairs and environment depth, shared by
extraction (blocks, rows, chains) and cleaning (labels, remarks)."""

from __future__ import annotations

import re

TOKEN_PATTERN = re.compile(
    r"""
    \\(?:begin|end)\s*\{[^{}]*\}                                      # \begin{name}
  | \\(?:left|right)(?![A-Za-z])\s*(?:\\[A-Za-z]+|\\[{}|]|[()\[\]|./<>])?  # \left( …
  | \\[A-Za-z]+ | \\. | \s+ | .
""",
    re.X | re.S,
)
ENV_PATTERN = re.compile(r"\\(begin|end)\s*\{\s*([^{}]*?)\s*\}")
WRAPPERS = {
    base + star
    for star in ("", "*")
    for base in (
        "aligned",
        "align",
        "split",
        "gather",
        "gathered",
        "equation",
        "multline",
        "eqnarray",
        "alignat",
        "alignedat",
        "flalign",
    )
}
_OPEN = {"{": "{", "(": "(", "[": "[", r"\{": r"\{", r"\lbrace": r"\{"}
_CLOSE = {"}": "{", ")": "(", "]": "[", r"\}": r"\{", r"\rbrace": r"\{"}
LEFT_DELIMS = re.compile(r"\\(left|right)(?![A-Za-z])")
CHAIN_RELATIONS = {
    "=": "=",
    r"\Rightarrow": "⇒",
    r"\implies": "⇒",
    r"\Longrightarrow": "⇒",
    r"\longrightarrow": "⇒",
    r"\rightarrow": "⇒",
    r"\to": "⇒",
    "⇒": "⇒",
    "⟹": "⇒",
    "→": "⇒",
    r"\approx": "≈",
    "≈": "≈",
}
TEXT_CMDS = {r"\text", r"\textrm", r"\textit", r"\textbf", r"\textsf", r"\textnormal", r"\mbox"}
SPACING = {r"\quad", r"\qquad", r"\,", r"\;", r"\:", r"\!", "\\ ", "~"}
CIRCLED = re.compile("[\u2460-\u2473\u24d0-\u24e9]")
CONNECTIVES = {
    "when",
    "if",
    "where",
    "for",
    "since",
    "because",
    "as",
    "so",
    "and",
    "then",
    "hence",
    "thus",
    "therefore",
    "otherwise",
    "provided",
    "given",
    "with",
    "using",
    "by",
    "i.e",
    "e.g",
    "ie",
    "eg",
    "note",
    "similarly",
    "now",
    "also",
    "let",
    "assuming",
    "putting",
    "from",
    "which",
    "here",
    "wrt",
    "w.r.t",
    "or",
    "but",
}


def token_kind(tok: str) -> tuple[int, str] | None:
    """(+1 opener | -1 closer, group type) for a grouping token, else None."""
    if tok in _OPEN:
        return 1, _OPEN[tok]
    if tok in _CLOSE:
        return -1, _CLOSE[tok]
    m = LEFT_DELIMS.match(tok)
    if m:
        return (1 if m.group(1) == "left" else -1), "left"
    m = ENV_PATTERN.fullmatch(tok)
    if m and m.group(2) not in WRAPPERS:  # cases, matrices and unknown envs stay intact
        return (1 if m.group(1) == "begin" else -1), "env:" + m.group(2)
    return None


class Scan:
    """Tokens of a string and, for each, how many matched groups enclose it.

    Each kind of bracket is matched on its own stack; a bracket that is never
    matched (OCR drops and adds parentheses) is treated as an ordinary character.
    """

    def __init__(self, s: str, envs_and_braces_only: bool = False):
        self.s = s
        self.toks = [(m.start(), m.group()) for m in TOKEN_PATTERN.finditer(s)]
        self.positions = [pos for pos, _ in self.toks]  # sorted: for bisect
        self.pair: dict[int, int] = {}
        stacks: dict[str, list[int]] = {}
        for i, (_, tok) in enumerate(self.toks):
            kind = token_kind(tok)
            if kind is None or (envs_and_braces_only and kind[1] not in "{" and not kind[1].startswith("env:")):
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
        if i is None or self.toks[i][1] not in TEXT_CMDS:
            return None
        j = self.next_sig(i)
        if j is None or self.toks[j][1] != "{" or j not in self.pair:
            return None
        return self.s[self.end(j) : self.pos(self.pair[j])]

    def relation(self, i: int) -> str | None:
        tok = self.toks[i][1]
        if tok == "=" and i and self.toks[i - 1][1] in ("<", ">", "!", "="):
            return None  # <=, >=, != and the second half of ==
        return CHAIN_RELATIONS.get(tok)

    def has_relation(self, lo: int, hi: int) -> bool:
        """Whether a top-level relation is among tokens lo..hi-1."""
        if not hasattr(self, "_relations_before"):
            counts = [0]
            for i in range(len(self.toks)):
                counts.append(counts[-1] + bool(self.depth[i] == 0 and self.relation(i)))
            self._relations_before = counts
        hi = min(hi, len(self.toks))
        return lo < hi and self._relations_before[hi] > self._relations_before[lo]
