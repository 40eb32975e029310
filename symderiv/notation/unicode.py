r"""LaTeX math as plain Unicode text, for the terminal and Markdown (never raw source).

>>> to_unicode(r"\frac{1}{N}\left(\psi\left(Z^{(3)}\right) - \Delta\right) A^{(2)\top}")
'(1/N)(ψ(Z⁽³⁾) − Δ) A⁽²⁾ᵀ'
>>> to_unicode(r"w_{jk}^{(l + 1)}")
'wⱼₖ⁽ˡ⁺¹⁾'

Scripts use Unicode super- and subscript characters where every character has one, and
``_(…)`` / ``^(…)`` otherwise (``\mathbf{1}_N`` -> ``𝟏_N``). Unknown commands keep their name
without the backslash; nothing raises, whatever the input (broken braces included).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["to_unicode"]

SYMBOLS = {
    "alpha": "α",
    "beta": "β",
    "gamma": "γ",
    "delta": "δ",
    "epsilon": "ϵ",
    "varepsilon": "ε",
    "zeta": "ζ",
    "eta": "η",
    "theta": "θ",
    "vartheta": "ϑ",
    "iota": "ι",
    "kappa": "κ",
    "lambda": "λ",
    "mu": "μ",
    "nu": "ν",
    "xi": "ξ",
    "pi": "π",
    "varpi": "ϖ",
    "rho": "ρ",
    "varrho": "ϱ",
    "sigma": "σ",
    "varsigma": "ς",
    "tau": "τ",
    "upsilon": "υ",
    "phi": "ϕ",
    "varphi": "φ",
    "chi": "χ",
    "psi": "ψ",
    "omega": "ω",
    "Gamma": "Γ",
    "Delta": "Δ",
    "Theta": "Θ",
    "Lambda": "Λ",
    "Xi": "Ξ",
    "Pi": "Π",
    "Sigma": "Σ",
    "Upsilon": "Υ",
    "Phi": "Φ",
    "Psi": "Ψ",
    "Omega": "Ω",
    "partial": "∂",
    "nabla": "∇",
    "odot": "⊙",
    "circ": "∘",
    "cdot": "·",
    "times": "×",
    "otimes": "⊗",
    "sum": "Σ",
    "prod": "Π",
    "int": "∫",
    "top": "⊤",
    "intercal": "⊤",
    "prime": "′",
    "infty": "∞",
    "neq": "≠",
    "ne": "≠",
    "leq": "≤",
    "le": "≤",
    "geq": "≥",
    "ge": "≥",
    "approx": "≈",
    "equiv": "≡",
    "in": "∈",
    "notin": "∉",
    "to": "→",
    "rightarrow": "→",
    "Rightarrow": "⇒",
    "mapsto": "↦",
    "ldots": "…",
    "cdots": "⋯",
    "dots": "…",
    "|": "‖",
    "lVert": "‖",
    "rVert": "‖",
    "Vert": "‖",
    "lvert": "|",
    "rvert": "|",
    "vert": "|",
    "pm": "±",
    "mp": "∓",
    "ell": "ℓ",
    "forall": "∀",
    "exists": "∃",
    "{": "{",
    "}": "}",
    "_": "_",
    "%": "%",
    "&": "&",
    "#": "#",
    "$": "$",
    ",": " ",
    ";": " ",
    ":": " ",
    "!": "",
    " ": " ",
    "quad": "  ",
    "qquad": "   ",
    "\\": "; ",
    "langle": "⟨",
    "rangle": "⟩",
    "lbrace": "{",
    "rbrace": "}",
    "lbrack": "[",
    "rbrack": "]",
    "mid": "|",
    "setminus": "∖",
    "cup": "∪",
    "cap": "∩",
    "subset": "⊂",
    "emptyset": "∅",
    "log": "log",
    "ln": "ln",
    "exp": "exp",
    "tanh": "tanh",
    "sinh": "sinh",
    "cosh": "cosh",
    "sin": "sin",
    "cos": "cos",
    "max": "max",
    "min": "min",
    "det": "det",
    "tr": "tr",
}
# Commands that only size or style what follows: dropped.
SIZING = {
    "left",
    "right",
    "big",
    "Big",
    "bigg",
    "Bigg",
    "bigl",
    "bigr",
    "Bigl",
    "Bigr",
    "biggl",
    "biggr",
    "Biggl",
    "Biggr",
    "displaystyle",
    "textstyle",
    "limits",
    "nolimits",
    "middle",
}
ACCENTS = {
    "tilde": "\u0303",
    "widetilde": "\u0303",
    "hat": "\u0302",
    "widehat": "\u0302",
    "bar": "\u0304",
    "overline": "\u0305",
    "dot": "\u0307",
    "ddot": "\u0308",
    "vec": "\u20d7",
}
TEXT_COMMANDS = {
    "text",
    "textrm",
    "textit",
    "textbf",
    "mathrm",
    "mathit",
    "operatorname",
    "mathsf",
    "mathbf",
    "boldsymbol",
    "bm",
    "mathcal",
    "mathscr",
    "mathtt",
    "mathnormal",
    "textsf",
}
DOUBLE_STRUCK = {"1": "𝟙", "R": "ℝ", "N": "ℕ", "Z": "ℤ", "Q": "ℚ", "C": "ℂ", "E": "𝔼", "I": "𝕀"}
BOLD_DIGITS = {str(d): chr(0x1D7CE + d) for d in range(10)}

SUPERSCRIPT = dict(
    zip(
        "0123456789+-−=()niabcdefghjklmoprstuvwxyzABDEGHIJKLMNOPRTUVW⊤′",
        "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾ⁿⁱᵃᵇᶜᵈᵉᶠᵍʰʲᵏˡᵐᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂᵀ′",
    )
)
SUBSCRIPT = dict(zip("0123456789+-−=()aehijklmnoprstuvxβγρφχ", "₀₁₂₃₄₅₆₇₈₉₊₋₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓᵦᵧᵨᵩᵪ"))
UNICODE_OPERATORS = {"-": "−", "*": "∗"}
GREEK_LETTERS = frozenset(k for k, v in SYMBOLS.items() if len(v) == 1 and "\u0370" <= v <= "\u03ff")
_TOKEN = re.compile(r"\\([A-Za-z]+|.)|(\s+)|(.)", re.S)
MAX_DEPTH = 60


def to_unicode(latex: str) -> str:
    """The Unicode text of a LaTeX math fragment."""
    tokens = [(m.group(1), m.group(2), m.group(3)) for m in _TOKEN.finditer(latex or "")]
    tokens = _tight_after_letters(tokens)
    reader = _Reader(tokens)
    out = reader.sequence(stop=None).replace("\x00", " ")
    out = re.sub(r"∂ +", "∂", out)
    return unicodedata.normalize("NFC", re.sub(r" {2,}", " ", out).strip())


def _tight_after_letters(tokens: list) -> list:
    """A space after a Greek letter's control word only ends the word (TeX prints \\lambda W as λW):
    dropped before a letter."""
    out = []
    for k, tok in enumerate(tokens):
        previous = tokens[k - 1] if k else None
        following = tokens[k + 1] if k + 1 < len(tokens) else None
        if (
            tok[1] is not None
            and previous is not None
            and previous[0] in GREEK_LETTERS
            and following is not None
            and following[2] is not None
            and following[2].isalpha()
        ):
            continue
        out.append(tok)
    return out


class _Reader:
    def __init__(self, tokens):
        self.tokens, self.i, self.depth = tokens, 0, 0

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self):
        tok = self.peek()
        self.i += 1
        return tok

    def sequence(self, stop: str | None) -> str:
        """Render up to the closing `stop` character (consumed) or the end."""
        out: list[str] = []
        while (tok := self.peek()) is not None:
            command, space, char = tok
            if char is not None and char == stop:
                self.i += 1
                break
            if command == "end":
                break
            out.append(self.item())
        return "".join(out)

    def group(self) -> str:
        """One argument: a {…} group or a single token."""
        while (tok := self.peek()) is not None and tok[1] is not None:
            self.i += 1
        tok = self.peek()
        if tok is None:
            return ""
        if tok[2] == "{":
            self.i += 1
            if self.depth >= MAX_DEPTH:
                return self._skip_group()
            self.depth += 1
            try:
                return self.sequence("}")
            finally:
                self.depth -= 1
        return self.item()

    def raw_group(self) -> str:
        """A {…} group's source text (for \\text and \\begin names)."""
        tok = self.peek()
        if tok is None or tok[2] != "{":
            return ""
        self.i += 1
        level, chars = 1, []
        while (tok := self.take()) is not None:
            command, space, char = tok
            if char == "{":
                level += 1
            elif char == "}":
                level -= 1
                if level == 0:
                    break
            chars.append(SYMBOLS.get(command, command) if command is not None else space or char)
        return "".join(chars)

    def _skip_group(self) -> str:
        """Past the nesting limit: the rest of the group as flat text."""
        level, chars = 1, []
        while (tok := self.take()) is not None:
            if tok[2] in ("{", "}"):
                level += 1 if tok[2] == "{" else -1
                if level == 0:
                    break
                continue
            chars.append(tok[2] or tok[1] or SYMBOLS.get(tok[0], tok[0]) or "")
        return "".join(chars)

    def item(self) -> str:
        command, space, char = self.take()
        if space is not None:
            return " "
        if char is not None:
            if char == "{":
                self.i -= 1
                return self.group()
            if char == "}":
                return ""
            if char in "^_":
                return self.script(char)
            if char == "'":
                return "′"
            if char == "&":
                return "\x00"
            return UNICODE_OPERATORS.get(char, char)
        return self.command(command)

    def command(self, name: str) -> str:
        if name in SIZING:
            nxt = self.peek()
            if nxt is not None and nxt[2] == ".":  # \left. and \right.
                self.i += 1
            return ""
        if name == "frac" or name in ("dfrac", "tfrac"):
            num, den = self.group().strip(), self.group().strip()
            if num.startswith("∂") and den.startswith("∂"):  # a derivative reads as ∂J/∂W
                return f"{_wrap(num.replace(' ', ''))}/{_wrap(den.replace(' ', ''))}"
            return f"({_wrap(num)}/{_wrap(den)})"
        if name == "sqrt":
            return f"√({self.group().strip()})"
        if name in ACCENTS:
            body = self.group()
            return body + ACCENTS[name] if len(body) == 1 else f"{body}{ACCENTS[name]}"
        if name == "mathbb":
            body = self.group()
            return "".join(DOUBLE_STRUCK.get(c, c) for c in body)
        if name in ("mathbf", "boldsymbol", "bm"):
            body = self.group()
            return "".join(BOLD_DIGITS.get(c, c) for c in body)
        if name in TEXT_COMMANDS:
            return self.group()
        if name == "begin":
            env = self.raw_group()
            if env in ("array", "tabular"):
                self.raw_group()
            return self.environment(env)
        if name == "end":
            self.raw_group()
            return ""
        return SYMBOLS.get(name, name)

    def environment(self, env: str) -> str:
        body = self.sequence(stop=None)
        if self.peek() is not None and self.peek()[0] == "end":
            self.i += 1
            self.raw_group()
        rows = [r.strip() for r in body.split(";") if r.strip()]
        if env == "cases":
            return "{ " + "; ".join(r.replace("\x00", " if ", 1).replace("\x00", " ") for r in rows) + " }"
        return "[" + "; ".join(", ".join(c.strip() for c in r.split("\x00")) for r in rows) + "]"

    def script(self, kind: str) -> str:
        body = self.group().strip()
        if kind == "^" and body in ("T", "⊤", "\u22a4", "top"):
            return "ᵀ"
        table = SUPERSCRIPT if kind == "^" else SUBSCRIPT
        squeezed = body.replace(" ", "")
        if squeezed and all(c in table for c in squeezed):
            return "".join(table[c] for c in squeezed)
        if kind == "^" and squeezed.endswith("ᵀ") and all(c in table for c in squeezed[:-1]):
            return "".join(table[c] for c in squeezed[:-1]) + "ᵀ"
        if len(squeezed) == 1 or re.fullmatch(r"\(.*\)|\[.*\]", body):
            return f"{kind}{body}"
        return f"{kind}({body})" if body else ""


def _wrap(text: str) -> str:
    """Bracket a fraction's numerator or denominator unless it is one symbol or number."""
    return text if re.fullmatch(r"[\w∂′\u0300-\u036f⁰-⁹₀-₉ᵀ⁽⁾₍₎ʲⁱᵢⱼₖₗₘₙ]+", text) else f"({text})"
