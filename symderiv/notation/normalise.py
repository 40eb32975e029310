"""LaTeX before tokenizing: Unicode to LaTeX, spacing removed, wrappers unwrapped, \\nabla and d/dx
rewritten, delimiters checked. The vocabulary shared by the later stages lives here too."""

from __future__ import annotations

import re
import unicodedata

from symderiv.notation.rewrites import rewrite as rewrite_spellings

MAX_LENGTH = 20000  # characters; nesting, not length, is what could make parsing slow
MAX_NESTING = 60  # brackets and braces
MAX_TREE_DEPTH = 150
MAX_DIGITS = 30  # a number literal; longer ones overflow floats wherever a number is read
_LONG_NUMBER = re.compile(rf"\d{{{MAX_DIGITS + 1},}}")


class Reject(Exception):
    """Raised anywhere inside the parser; parse() turns it into a ParseError."""

    def __init__(self, reason: str, position: int | None = None):
        super().__init__(reason)
        self.reason, self.position = reason, position


# --------------------------------------------------------------------------- vocabulary

GREEK = set(
    """alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda
mu nu xi omicron pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega
Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega ell""".split()
)
CONSTANT_GREEK = set(
    """alpha beta gamma delta epsilon varepsilon eta theta vartheta iota kappa
lambda mu nu omicron pi varpi Gamma Delta Theta Lambda Pi Sigma""".split()
)
FUNCTION_LETTERS = set("fghCLJ")
FUNCTION_WORDS = {
    "softmax": "softmax",
    "relu": "relu",
    "sigmoid": "sigmoid",
    "tanh": "tanh",
    "sech": "sech",
    "softplus": "softplus",
    "leakyrelu": "leaky_relu",
    "leaky_relu": "leaky_relu",
    "exp": "exp",
    "log": "log",
    "diag": "diag",
    "max": "max",
    "min": "min",
}
TEXT_FUNCTION_WORDS = {**FUNCTION_WORDS, "ln": "log", "sin": "sin", "cos": "cos", "sign": "sign", "sgn": "sign"}
FUNCTION_COMMANDS = {
    "log": "log",
    "ln": "log",
    "exp": "exp",
    "tanh": "tanh",
    "sech": "sech",
    "max": "max",
    "min": "min",
    "sin": "sin",
    "cos": "cos",
}
MULOPS = {"cdot": "cdot", "times": "times", "odot": "odot", "circ": "circ", "ast": "star"}
RELATIONS = {
    "geq": ">=",
    "ge": ">=",
    "geqslant": ">=",
    "leq": "<=",
    "le": "<=",
    "leqslant": "<=",
    "neq": "!=",
    "ne": "!=",
    "gt": ">",
    "lt": "<",
    "=": "=",
    "<": "<",
    ">": ">",
    "<=": "<=",
    ">=": ">=",
    "!=": "!=",
}
DECORATIONS = {
    "hat": "hat",
    "widehat": "hat",
    "tilde": "tilde",
    "widetilde": "tilde",
    "bar": "bar",
    "overline": "bar",
    "mathbf": "bold",
    "boldsymbol": "bold",
    "bm": "bold",
    "vec": "bold",
    "pmb": "bold",
    "mathbb": "bold",
    "mathbbm": "bold",
    "mathds": "bold",
}
BLACKBOARD = {"mathbb", "mathbbm", "mathds"}  # \mathbb{I} is the indicator, \mathbf{I} a matrix
TEXT_COMMANDS = {"text", "textrm", "textbf", "textit", "textsf", "mathrm", "operatorname", "mathsf", "mathcal", "mbox"}
MATRIX_ENVS = {"bmatrix", "pmatrix", "matrix", "vmatrix", "Bmatrix", "Vmatrix", "smallmatrix"}
CONDITION_WORDS = {"if", "when", "for", "where", "whenever", "provided"}
OTHERWISE_WORDS = {"otherwise", "else", "o.w.", "ow", "elsewhere", "other wise", "o/w"}
ENGLISH_WORDS = {
    "if",
    "is",
    "so",
    "of",
    "to",
    "we",
    "be",
    "the",
    "and",
    "for",
    "are",
    "let",
    "use",
    "our",
    "its",
    "not",
    "all",
    "can",
    "get",
    "has",
    "was",
    "but",
    "how",
}
INDEX_LETTERS = set("ijklmnpqrst")
FORBIDDEN = re.compile(
    r"\\(input|include|def|edef|gdef|xdef|let|newcommand|renewcommand|"
    r"providecommand|write|catcode|immediate|openout|openin|read|usepackage|"
    r"documentclass|csname|expandafter|makeatletter)(?![A-Za-z])"
)
PYTHON = re.compile(
    r"(?m)^\s*(import\s+\w|from\s+\w+\s+import\b|def\s+\w+\s*\(|class\s+\w+\s*[:(])"
    r"|\bos\.system\b|\bsubprocess\b|__\w+__|\b(eval|exec|print)\s*\("
)

# --------------------------------------------------------------------------- normalisation

_UNICODE = {
    "ψ": r"\psi ",
    "Ψ": r"\Psi ",
    "Δ": r"\Delta ",
    "δ": r"\delta ",
    "λ": r"\lambda ",
    "σ": r"\sigma ",
    "φ": r"\phi ",
    "ϕ": r"\phi ",
    "θ": r"\theta ",
    "η": r"\eta ",
    "α": r"\alpha ",
    "β": r"\beta ",
    "γ": r"\gamma ",
    "ε": r"\epsilon ",
    "ϵ": r"\epsilon ",
    "μ": r"\mu ",
    "π": r"\pi ",
    "ρ": r"\rho ",
    "τ": r"\tau ",
    "ω": r"\omega ",
    "ξ": r"\xi ",
    "χ": r"\chi ",
    "ζ": r"\zeta ",
    "κ": r"\kappa ",
    "ν": r"\nu ",
    "Γ": r"\Gamma ",
    "Θ": r"\Theta ",
    "Λ": r"\Lambda ",
    "Φ": r"\Phi ",
    "Ω": r"\Omega ",
    "Σ": r"\sum ",
    "∑": r"\sum ",
    "−": "-",
    "–": "-",
    "⊙": r"\odot ",
    "∘": r"\circ ",
    "×": r"\times ",
    "·": r"\cdot ",
    "⋅": r"\cdot ",
    "∗": "*",
    "′": "'",
    "″": "''",
    "∂": r"\partial ",
    "≥": r"\geq ",
    "≤": r"\leq ",
    "≠": r"\neq ",
    "‖": r"\|",
    "𝟙": r"\mathbb{1}",
    "∈": r"\in ",
    "∞": r"\infty ",
    "\u00a0": " ",
    "ℓ": "l",
    "∣": "|",
}
_SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁽⁾ᵀⁿⁱ", "0123456789+-()Tni"))
_SUBSCRIPTS = dict(zip("₀₁₂₃₄₅₆₇₈₉₊₋₍₎ᵢⱼₖₗₘₙ", "0123456789+-()ijklmn"))
_COMBINING = {"\u0302": "hat", "\u0303": "tilde", "\u0304": "bar", "\u0305": "bar"}

SPACING = re.compile(
    r"\\\\|\\(?:quad|qquad|displaystyle|textstyle|scriptstyle|scriptscriptstyle"
    r"|limits|nolimits|[bB]igg?[lrm]?|middle)(?![A-Za-z])|\\[,!;:>]|~"
    r"|\\(?:left|right)\s*\."
)
_UNWRAP = re.compile(
    r"\\(underline|cancel|bcancel|xcancel|boxed|mathit|underbrace|overbrace"
    r"|emph|ensuremath)\s*\{"
)
_CASES_BRACE = re.compile(r"\\left\s*\\\{\s*(?=\\begin\s*\{cases\})|(?<=\\end\{cases\})\s*\\right\s*\.")
_D_FRAC = re.compile(r"\\[dtc]?frac\s*\{\s*d(?=[\sA-Za-z\\}(])")
ONE_ITEM = re.compile(r"\\[A-Za-z]+|\\.|.", re.S)  # a one-token argument: x, 2, \alpha
ENV_NAME = re.compile(r"\s*\{\s*([A-Za-z]+\*?)\s*\}")
_DELIMS = re.compile(
    r"\\\\|(?P<size>\\(?:left|right|[bB]igg?[lr]?)(?![A-Za-z])\s*)?"
    r"(?P<d>\\\{|\\\}|[()\[\]{}])|\\[A-Za-z]+|\\.",
    re.S,
)
OPENERS = {"(": ")", "[": "]", "{": "}", "\\{": "\\}"}
_CLOSERS = {v: k for k, v in OPENERS.items()}


def check_input(latex) -> str:
    if not isinstance(latex, str):
        raise Reject(f"expected a string, got {type(latex).__name__}")
    text = latex.strip().strip("$").strip()
    if not text:
        raise Reject("empty input")
    if len(text) > MAX_LENGTH:
        raise Reject(f"longer than {MAX_LENGTH} characters ({len(text)})")
    if m := FORBIDDEN.search(text):
        raise Reject(f"forbidden command '{m.group()}'", m.start())
    if PYTHON.search(text):
        raise Reject("Python code, not a formula")
    if m := _LONG_NUMBER.search(text):
        raise Reject(f"a number with more than {MAX_DIGITS} digits", m.start())
    # \left\{ \begin{cases} ... \end{cases} \right. draws the brace twice
    return _CASES_BRACE.sub("", text)


def scan_delimiters(text: str):
    """One linear pass over ( [ { \\{ and their closers.

    Returns (matches, problems): matches maps an opener's position to its closer's;
    problems lists ("unmatched", pos, closer, span) and ("missing", pos, opener, insert_at)
    in text order. Fails fast (a Reject) when nesting exceeds MAX_NESTING.
    """
    stack, matches, problems = [], {}, []
    for m in _DELIMS.finditer(text):
        d = m.group("d")
        if d is None:
            continue
        pos = m.start("d")
        if d in OPENERS:
            stack.append((d, pos))
            if len(stack) > MAX_NESTING:
                raise Reject(f"nested deeper than {MAX_NESTING} levels of brackets", pos)
            continue
        want = _CLOSERS[d]
        depth = next((k for k in range(len(stack) - 1, -1, -1) if stack[k][0] == want), None)
        if depth is None:
            problems.append(("unmatched", pos, d, (m.start(), m.end())))
            continue
        for opener, opos in reversed(stack[depth + 1 :]):  # opened inside, never closed
            problems.append(("missing", opos, opener, m.start()))
        matches[stack[depth][1]] = pos
        del stack[depth:]
    for opener, opos in reversed(stack):
        problems.append(("missing", opos, opener, len(text)))
    return matches, problems


def describe_problem(problem) -> str:
    kind, pos, delim, _ = problem
    if delim in ("{", "}"):
        return f"unbalanced braces (the '{delim}' at character {pos})"
    if kind == "unmatched":
        return f"an unmatched '{delim}' (character {pos})"
    return f"a missing '{OPENERS[delim]}' for the '{delim}' at character {pos}"


_T_IN_SUPERSCRIPT = re.compile(r"(\^\{[^{}]*?)ᵀ")


def _map_unicode(text: str) -> str:
    text = re.sub(r"\^\s*⊤", "^{T}", text).replace("⊤", "ᵀ")  # U+22A4 is a transpose too
    text = re.sub(r"(\^\{[^{}]*?)\\(?:top|intercal)\s*\}", r"\1T}", text)  # W^{2\top} is W^{2T}
    text = _T_IN_SUPERSCRIPT.sub(r"\1T", text)  # a^{(2)ᵀ} is a^{(2)T}, not a^{(2)^{T}}
    out, i, n = [], 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isascii():
            if ord(ch) < 32 and ch not in "\t\n\r":
                raise Reject(f"control character U+{ord(ch):04X}", i)
            out.append(" " if ch in "\t\n\r" else ch)
        elif ch in _SUPERSCRIPTS or ch in _SUBSCRIPTS:
            table, mark = (_SUPERSCRIPTS, "^") if ch in _SUPERSCRIPTS else (_SUBSCRIPTS, "_")
            j = i
            while j < n and text[j] in table:
                j += 1
            out.append(mark + "{" + "".join(table[c] for c in text[i:j]) + "}")
            i = j
            continue
        elif ch in _UNICODE:
            out.append(_UNICODE[ch])
        elif ch in _COMBINING and out and out[-1].isascii() and out[-1].isalpha():
            out[-1] = f"\\{_COMBINING[ch]}{{{out[-1]}}}"
        else:
            base = unicodedata.normalize("NFD", ch)
            if len(base) == 2 and base[0].isascii() and base[0].isalpha() and base[1] in _COMBINING:
                out.append(f"\\{_COMBINING[base[1]]}{{{base[0]}}}")
            else:
                raise Reject(f"unsupported character '{ch}' (U+{ord(ch):04X})", i)
        i += 1
    return "".join(out)


def _group_end(text: str, open_pos: int) -> int:
    """Position of the } closing the { at open_pos (braces are balanced by now)."""
    depth, i = 0, open_pos
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        depth += (c == "{") - (c == "}")
        if depth == 0:
            return i
        i += 1
    raise Reject("unbalanced braces")


def skip_script(text: str, i: int) -> int:
    """Index after the sub/superscript argument starting at i (a group, command or char)."""
    while i < len(text) and text[i] == " ":
        i += 1
    if i >= len(text):
        return i
    if text[i] == "{":
        return _group_end(text, i) + 1
    return ONE_ITEM.match(text, i).end()


def unwrap_math(text: str) -> str:
    pos = 0
    while m := _UNWRAP.search(text, pos):
        end = _group_end(text, m.end() - 1)
        after = end + 1
        if m.group(1) in ("underbrace", "overbrace"):
            k = after
            while k < len(text) and text[k] == " ":
                k += 1
            if k < len(text) and text[k] in "_^":
                after = skip_script(text, k + 1)
        text = text[: m.start()] + "{" + text[m.end() : end] + "}" + text[after:]
        pos = m.start()
    return text


def _rewrite_d_fractions(text: str) -> str:
    r"""\frac{dL}{dz} and \frac{d}{dx} are derivatives: rewrite their d's to \partial."""
    for m in reversed(list(_D_FRAC.finditer(text))):
        num_close = _group_end(text, text.index("{", m.start()))
        den = re.compile(r"\s*\{\s*d(?=[\sA-Za-z\\])").match(text, num_close + 1)
        if den:
            d_den = den.end() - 1
            text = text[: m.end() - 1] + "\\partial " + text[m.end() : d_den] + "\\partial " + text[d_den + 1 :]
    return text


_NABLA = re.compile(r"\\nabla\s*_\s*")
_NABLA_OF = re.compile(
    r"\s*(\\tilde\s*\{\s*[A-Za-z]\s*\}|\\tilde\s*[A-Za-z]|\\mathcal\s*\{\s*[A-Za-z]\s*\}"
    r"|[A-Za-z](?:_\{[^{}]*\}|_[A-Za-z0-9])?(?![A-Za-z]))"
)


def _rewrite_nabla(text: str) -> str:
    r"""\nabla_{W} \tilde J is \frac{\partial \tilde J}{\partial W}."""
    while True:
        m = _NABLA.search(text)
        if not m:
            return text
        start = m.end()
        if start < len(text) and text[start] == "{":
            depth, k = 0, start
            while k < len(text):
                depth += {"{": 1, "}": -1}.get(text[k], 0)
                if depth == 0:
                    break
                k += 1
            if k >= len(text):
                return text
            wrt, after = text[start + 1 : k], k + 1
        else:
            single = re.match(r"\\[A-Za-z]+|[A-Za-z0-9]", text[start:])
            if not single:
                return text
            wrt, after = single.group(), start + single.end()
        of = _NABLA_OF.match(text, after)
        if not of:
            return text
        text = text[: m.start()] + "\\frac{\\partial " + of.group(1) + "}{\\partial " + wrt + "}" + text[of.end() :]


def normalise_latex(text: str) -> str:
    text = _map_unicode(text)
    text = SPACING.sub(lambda m: m.group() if m.group() == "\\\\" else " ", text)
    text = unwrap_math(text)
    text = rewrite_spellings(text)
    text = _rewrite_nabla(text)
    text = _rewrite_d_fractions(text)
    text = re.sub(r"\\([dtc]?frac)\s*([0-9A-Za-z])\s*([0-9A-Za-z])", r"\\\1{\2}{\3}", text)
    text = re.sub(r"(?<!\\)\|\|", r"\\|", text)
    text = re.sub(r"(?<=[}\w)])\{\s*\}(?=\s*[_^])", "", text)  # x_i{}^T stacks scripts
    text = re.sub(r"[\s.,;]+$", "", text)
    if not text:
        raise Reject("nothing left to read after removing spacing and punctuation")
    return text
