r"""Read one side of a student's claim (OCR'd LaTeX) into a ``symderiv.tree`` expression.

>>> from symderiv.parse import parse
>>> parse(r"W^{(2)\top}")
Transpose(operand=Sym('W', layer=Num(value=2)))

Three stages: ``_normalise`` rewrites the text (Unicode to LaTeX, spacing commands
dropped, ``\underline{..}`` and friends unwrapped, ``\frac{dy}{dx}`` to ``\partial``);
``_Tokenizer`` turns it into tokens, deciding what context-dependent characters mean
(whether a ``(`` opens a function's arguments or a layer index ``W(2)``, whether a ``|``
opens or closes); the LALR grammar ``grammar.lark`` and ``_Build`` make the tree.
The parser is problem-agnostic: it never knows which letters are layer variables.

Decisions on ambiguous notation:

* Every Latin letter is a symbol; juxtaposition is a product. Products are flat
  in written order. A run of 4+ plain letters that is not a function name
  (softmax, ReLU, sigmoid, tanh, exp, log, diag, max, min) is prose: ParseError.
* ``a / b`` binds the two adjacent factors, left to right: ``1/N (x)`` is
  ``Product(Div(1, N), x)``, ``a/b/c`` is ``Div(Div(a, b), c)``.
* ``\sum`` and ``\frac{\partial}{\partial x}`` take the rest of the product chain
  they start (up to the next top-level ``+``, ``-``, relation or closing bracket):
  ``\sum_k w_{jk}\delta_k g'(z_j) + b`` is ``Add(Sum(w δ g'), b)``.
* Subscripts always go into the symbol, whatever the order: ``z^3_i`` is
  ``Pow(Sym(z, indices=(i,)), 3)``. ``^{(3)}``, ``^{[3]}`` and ``W(2)`` (a letter
  immediately followed by an integer, l, L or l±k in parentheses; not f g h C L J,
  whose parentheses are a call) are layers; ``^T``,
  ``^\top``, ``^{\mathsf T}``, ``^{\intercal}`` and ``'`` transposes; any other
  superscript is a Pow. ``e^{x}`` is ``Call("exp", (x,))``.
* Subscript groups: ``_{ij}`` -> (i, j); ``_{i,j}`` -> (i, j); ``_{12}`` -> (12,);
  ``_{l+1}`` -> (l + 1,); a word of 3+ letters that are not all index letters
  (``_{reg}``, ``_{\text{data}}``) is one Sym named by the word.
* Function names: \log \exp \tanh ... and words (softmax ...), the letters
  f g h C L J, and Greek letters other than the constants (lambda, delta, Delta,
  alpha, beta, gamma, eta, epsilon, theta, mu, ...). They are calls only when
  followed by ``(`` or ``[`` (after optional subscripts and primes); ``\log x``
  applies log to the next factor, with its scripts. ``\lambda(...)`` is a product.
* A subscript written after a call's arguments, ``\psi(z)_{ij}``, becomes the
  Call's ``indices`` (the element ij of ψ(z)), the same field that holds a
  subscript on the function name (``g_l(z)``); writing both is a ParseError.
* A decorated function name keeps its decoration as a prefix: ``\tilde{J}(\theta)``
  is ``Call("tilde:J", (Sym theta,))``.
* A parenthesised comparison used as a factor, ``(z > 0)``, is an Indicator.
* Relations (``=``, ``>``, ...) at the top level are a ParseError: the caller splits
  equation chains and passes one side.

``parse_lenient`` retries after OCR repairs, in this order, each reported in
``ParseResult.repairs``: trailing punctuation, a leading ``=`` or arrow, a part label
``a)``; a leading ``\text{so}`` or trailing ``\quad \text{...}`` remark (not when it
starts with if/when/for: that is a condition, not a remark); ``^{2+}`` to ``^{2} +``;
unmatched closing delimiters removed and missing closing ones added (before the
enclosing group's closer, else at the end).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from pathlib import Path

from lark import Lark, Token, Transformer
from lark.exceptions import LarkError, UnexpectedInput
from lark.lexer import Lexer

from .errors import ParseError
from .tree import (Abs, Add, Call, Compare, Deriv, Div, Indicator, Matrix, Neg, Node, Norm, Num,
                   Ones, Piecewise, Pow, Product, Sum, Sym, Transpose)

MAX_LENGTH = 4000
MAX_NESTING = 60  # brackets and braces
MAX_TREE_DEPTH = 150

__all__ = ["parse", "parse_lenient", "ParseResult", "MAX_LENGTH", "MAX_NESTING"]


@dataclass(frozen=True)
class ParseResult:
    tree: Node
    repairs: tuple[str, ...]


class _Reject(Exception):
    """Raised anywhere inside the parser; parse() turns it into a ParseError."""

    def __init__(self, reason: str, position: int | None = None):
        super().__init__(reason)
        self.reason, self.position = reason, position


# --------------------------------------------------------------------------- vocabulary

GREEK = set("""alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda
mu nu xi omicron pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega
Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega""".split())
CONSTANT_GREEK = set("""alpha beta gamma delta epsilon varepsilon eta theta vartheta iota kappa
lambda mu nu omicron pi varpi Gamma Delta Theta Lambda Pi Sigma""".split())
FUNCTION_LETTERS = set("fghCLJ")
FUNCTION_WORDS = {"softmax": "softmax", "relu": "relu", "sigmoid": "sigmoid", "tanh": "tanh",
                  "exp": "exp", "log": "log", "diag": "diag", "max": "max", "min": "min"}
TEXT_FUNCTION_WORDS = {**FUNCTION_WORDS, "ln": "log", "sin": "sin", "cos": "cos", "sign": "sign"}
FUNCTION_COMMANDS = {"log": "log", "ln": "log", "exp": "exp", "tanh": "tanh", "max": "max",
                     "min": "min", "sin": "sin", "cos": "cos"}
MULOPS = {"cdot": "cdot", "times": "times", "odot": "odot", "circ": "circ", "ast": "star"}
RELATIONS = {"geq": ">=", "ge": ">=", "geqslant": ">=", "leq": "<=", "le": "<=",
             "leqslant": "<=", "neq": "!=", "ne": "!=", "gt": ">", "lt": "<",
             "=": "=", "<": "<", ">": ">", "<=": "<=", ">=": ">=", "!=": "!="}
DECORATIONS = {"hat": "hat", "widehat": "hat", "tilde": "tilde", "widetilde": "tilde",
               "bar": "bar", "overline": "bar", "mathbf": "bold", "boldsymbol": "bold",
               "bm": "bold", "vec": "bold", "pmb": "bold", "mathbb": "bold", "mathbbm": "bold",
               "mathds": "bold"}
BLACKBOARD = {"mathbb", "mathbbm", "mathds"}  # \mathbb{I} is the indicator, \mathbf{I} a matrix
TEXT_COMMANDS = {"text", "textrm", "textbf", "textit", "textsf", "mathrm", "operatorname",
                 "mathsf", "mathcal", "mbox"}
MATRIX_ENVS = {"bmatrix", "pmatrix", "matrix", "vmatrix", "Bmatrix", "Vmatrix", "smallmatrix"}
CONDITION_WORDS = {"if", "when", "for", "where", "whenever", "provided"}
OTHERWISE_WORDS = {"otherwise", "else", "o.w.", "ow", "elsewhere", "other wise", "o/w"}
ENGLISH_WORDS = {"if", "is", "so", "of", "to", "we", "be", "the", "and", "for", "are", "let",
                 "use", "our", "its", "not", "all", "can", "get", "has", "was", "but", "how"}
INDEX_LETTERS = set("ijklmnpqrst")
FORBIDDEN = re.compile(r"\\(input|include|def|edef|gdef|xdef|let|newcommand|renewcommand|"
                       r"providecommand|write|catcode|immediate|openout|openin|read|usepackage|"
                       r"documentclass|csname|expandafter|makeatletter)(?![A-Za-z])")
PYTHON = re.compile(r"(?m)^\s*(import\s+\w|from\s+\w+\s+import\b|def\s+\w+\s*\(|class\s+\w+\s*[:(])"
                    r"|\bos\.system\b|\bsubprocess\b|__\w+__|\b(eval|exec|print)\s*\(")

# --------------------------------------------------------------------------- normalisation

_UNICODE = {
    "ψ": r"\psi ", "Ψ": r"\Psi ", "Δ": r"\Delta ", "δ": r"\delta ", "λ": r"\lambda ",
    "σ": r"\sigma ", "φ": r"\phi ", "ϕ": r"\phi ", "θ": r"\theta ", "η": r"\eta ",
    "α": r"\alpha ", "β": r"\beta ", "γ": r"\gamma ", "ε": r"\epsilon ", "ϵ": r"\epsilon ",
    "μ": r"\mu ", "π": r"\pi ", "ρ": r"\rho ", "τ": r"\tau ", "ω": r"\omega ", "ξ": r"\xi ",
    "χ": r"\chi ", "ζ": r"\zeta ", "κ": r"\kappa ", "ν": r"\nu ", "Γ": r"\Gamma ",
    "Θ": r"\Theta ", "Λ": r"\Lambda ", "Φ": r"\Phi ", "Ω": r"\Omega ", "Σ": r"\sum ",
    "∑": r"\sum ", "−": "-", "–": "-", "⊙": r"\odot ", "∘": r"\circ ", "×": r"\times ",
    "·": r"\cdot ", "⋅": r"\cdot ", "∗": "*", "′": "'", "″": "''", "∂": r"\partial ",
    "≥": r"\geq ", "≤": r"\leq ", "≠": r"\neq ", "‖": r"\|", "𝟙": r"\mathbb{1}", "∈": r"\in ",
    "∞": r"\infty ", "\u00a0": " ", "ℓ": "l", "∣": "|",
}
_SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁽⁾ᵀⁿⁱ", "0123456789+-()Tni"))
_SUBSCRIPTS = dict(zip("₀₁₂₃₄₅₆₇₈₉₊₋₍₎ᵢⱼₖₗₘₙ", "0123456789+-()ijklmn"))
_COMBINING = {"\u0302": "hat", "\u0303": "tilde", "\u0304": "bar", "\u0305": "bar"}

_SPACING = re.compile(r"\\\\|\\(?:quad|qquad|displaystyle|textstyle|scriptstyle|scriptscriptstyle"
                      r"|limits|nolimits|[bB]igg?[lrm]?|middle)(?![A-Za-z])|\\[,!;:>]|~"
                      r"|\\(?:left|right)\s*\.")
_UNWRAP = re.compile(r"\\(underline|cancel|bcancel|xcancel|boxed|mathit|underbrace|overbrace"
                     r"|emph|ensuremath)\s*\{")
_CASES_BRACE = re.compile(r"\\left\s*\\\{\s*(?=\\begin\s*\{cases\})|(?<=\\end\{cases\})\s*\\right\s*\.")
_D_FRAC = re.compile(r"\\[dtc]?frac\s*\{\s*d(?=[\sA-Za-z\\}(])")
_ONE_ITEM = re.compile(r"\\[A-Za-z]+|\\.|.", re.S)  # a one-token argument: x, 2, \alpha
_ENV_NAME = re.compile(r"\s*\{\s*([A-Za-z]+\*?)\s*\}")
_DELIMS = re.compile(r"\\\\|(?P<size>\\(?:left|right|[bB]igg?[lr]?)(?![A-Za-z])\s*)?"
                     r"(?P<d>\\\{|\\\}|[()\[\]{}])|\\[A-Za-z]+|\\.", re.S)
_OPENERS = {"(": ")", "[": "]", "{": "}", "\\{": "\\}"}
_CLOSERS = {v: k for k, v in _OPENERS.items()}


def _check_input(latex) -> str:
    if not isinstance(latex, str):
        raise _Reject(f"expected a string, got {type(latex).__name__}")
    text = latex.strip().strip("$").strip()
    if not text:
        raise _Reject("empty input")
    if len(text) > MAX_LENGTH:
        raise _Reject(f"longer than {MAX_LENGTH} characters ({len(text)})")
    if m := FORBIDDEN.search(text):
        raise _Reject(f"forbidden command '{m.group()}'", m.start())
    if PYTHON.search(text):
        raise _Reject("Python code, not a formula")
    # \left\{ \begin{cases} ... \end{cases} \right. draws the brace twice
    return _CASES_BRACE.sub("", text)


def _scan_delimiters(text: str):
    """One linear pass over ( [ { \\{ and their closers.

    Returns (matches, problems): matches maps an opener's position to its closer's;
    problems lists ("unmatched", pos, closer, span) and ("missing", pos, opener, insert_at)
    in text order. Fails fast (a _Reject) when nesting exceeds MAX_NESTING.
    """
    stack, matches, problems = [], {}, []
    for m in _DELIMS.finditer(text):
        d = m.group("d")
        if d is None:
            continue
        pos = m.start("d")
        if d in _OPENERS:
            stack.append((d, pos))
            if len(stack) > MAX_NESTING:
                raise _Reject(f"nested deeper than {MAX_NESTING} levels of brackets", pos)
            continue
        want = _CLOSERS[d]
        depth = next((k for k in range(len(stack) - 1, -1, -1) if stack[k][0] == want), None)
        if depth is None:
            problems.append(("unmatched", pos, d, (m.start(), m.end())))
            continue
        for opener, opos in reversed(stack[depth + 1:]):  # opened inside, never closed
            problems.append(("missing", opos, opener, m.start()))
        matches[stack[depth][1]] = pos
        del stack[depth:]
    for opener, opos in reversed(stack):
        problems.append(("missing", opos, opener, len(text)))
    return matches, problems


def _describe_problem(problem) -> str:
    kind, pos, delim, _ = problem
    if delim in ("{", "}"):
        return f"unbalanced braces (the '{delim}' at character {pos})"
    if kind == "unmatched":
        return f"an unmatched '{delim}' (character {pos})"
    return f"a missing '{_OPENERS[delim]}' for the '{delim}' at character {pos}"


_T_IN_SUPERSCRIPT = re.compile(r"(\^\{[^{}]*?)ᵀ")


def _map_unicode(text: str) -> str:
    text = re.sub(r"\^\s*⊤", "^{T}", text).replace("⊤", "ᵀ")   # U+22A4 is a transpose too
    text = re.sub(r"(\^\{[^{}]*?)\\(?:top|intercal)\s*\}", r"\1T}", text)   # W^{2\top} is W^{2T}
    text = _T_IN_SUPERSCRIPT.sub(r"\1T", text)    # a^{(2)ᵀ} is a^{(2)T}, not a^{(2)^{T}}
    out, i, n = [], 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isascii():
            if ord(ch) < 32 and ch not in "\t\n\r":
                raise _Reject(f"control character U+{ord(ch):04X}", i)
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
                raise _Reject(f"unsupported character '{ch}' (U+{ord(ch):04X})", i)
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
    raise _Reject("unbalanced braces")


def _skip_script(text: str, i: int) -> int:
    """Index after the sub/superscript argument starting at i (a group, command or char)."""
    while i < len(text) and text[i] == " ":
        i += 1
    if i >= len(text):
        return i
    if text[i] == "{":
        return _group_end(text, i) + 1
    return _ONE_ITEM.match(text, i).end()


def _unwrap(text: str) -> str:
    pos = 0
    while m := _UNWRAP.search(text, pos):
        end = _group_end(text, m.end() - 1)
        after = end + 1
        if m.group(1) in ("underbrace", "overbrace"):
            k = after
            while k < len(text) and text[k] == " ":
                k += 1
            if k < len(text) and text[k] in "_^":
                after = _skip_script(text, k + 1)
        text = text[:m.start()] + "{" + text[m.end():end] + "}" + text[after:]
        pos = m.start()
    return text


def _rewrite_d_fractions(text: str) -> str:
    r"""\frac{dL}{dz} and \frac{d}{dx} are derivatives: rewrite their d's to \partial."""
    for m in reversed(list(_D_FRAC.finditer(text))):
        num_close = _group_end(text, text.index("{", m.start()))
        den = re.compile(r"\s*\{\s*d(?=[\sA-Za-z\\])").match(text, num_close + 1)
        if den:
            d_den = den.end() - 1
            text = (text[:m.end() - 1] + "\\partial " + text[m.end():d_den] + "\\partial "
                    + text[d_den + 1:])
    return text


_NABLA = re.compile(r"\\nabla\s*_\s*")
_NABLA_OF = re.compile(r"\s*(\\tilde\s*\{\s*[A-Za-z]\s*\}|\\tilde\s*[A-Za-z]|\\mathcal\s*\{\s*[A-Za-z]\s*\}"
                       r"|[A-Za-z](?:_\{[^{}]*\}|_[A-Za-z0-9])?(?![A-Za-z]))")


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
            wrt, after = text[start + 1:k], k + 1
        else:
            single = re.match(r"\\[A-Za-z]+|[A-Za-z0-9]", text[start:])
            if not single:
                return text
            wrt, after = single.group(), start + single.end()
        of = _NABLA_OF.match(text, after)
        if not of:
            return text
        text = (text[:m.start()] + "\\frac{\\partial " + of.group(1) + "}{\\partial " + wrt + "}"
                + text[of.end():])


def _normalise(text: str) -> str:
    text = _map_unicode(text)
    text = _SPACING.sub(lambda m: m.group() if m.group() == "\\\\" else " ", text)
    text = _unwrap(text)
    text = _rewrite_nabla(text)
    text = _rewrite_d_fractions(text)
    text = re.sub(r"\\([dtc]?frac)\s*([0-9A-Za-z])\s*([0-9A-Za-z])", r"\\\1{\2}{\3}", text)
    text = re.sub(r"(?<!\\)\|\|", r"\\|", text)
    text = re.sub(r"(?<=[}\w)])\{\s*\}(?=\s*[_^])", "", text)  # x_i{}^T stacks scripts
    text = re.sub(r"[\s.,;]+$", "", text)
    if not text:
        raise _Reject("nothing left to read after removing spacing and punctuation")
    return text


# --------------------------------------------------------------------------- tokenizer

_MASTER = re.compile(r"(?P<ws>\s+)|(?P<rowsep>\\\\)|(?P<cmd>\\[A-Za-z]+)|(?P<esc>\\.)"
                     r"|(?P<num>[0-9]+(?:\.[0-9]+)?)|(?P<word>[A-Za-z]+)|(?P<rel><=|>=|!=|[<>=])"
                     r"|(?P<ch>.)", re.S)
_T_FORMS = {"T", "\\top", "\\intercal", "\\mathsf{T}", "\\mathsfT", "\\mathrm{T}", "\\mathrmT",
            "\\text{T}", "\\textT", "\\mathsf{\\top}", "\\rm{T}", "\\sf{T}"}
_LAYER_SUFFIXES = _T_FORMS | {"'", "\\prime"}
_PAREN_LAYER = re.compile(r"\s*(\d+|[lL]\s*(?:[+-]\s*\d+)?)\s*")
_CHAR_TOKENS = {"+": "PLUS", "-": "MINUS", "/": "_SLASH", ",": "_COMMA", "&": "_AMP",
                "'": "PRIME", '"': "_COND"}


class _Tokenizer:
    def __init__(self, text: str):
        self.s = text
        matches, problems = _scan_delimiters(text)
        if problems:
            raise _Reject(_describe_problem(problems[0]))
        self.match = matches
        self.tokens: list[Token] = []
        self.stack: list[str] = []          # open ( [ { \{ | \| and layer groups
        self.call_opens: dict[int, str] = {}  # position of a bracket -> its call token type
        self.layer_closes: dict[int, tuple[str, int]] = {}  # closer position -> (type, resume)
        self.after_left = False

    def emit(self, type_: str, value: str, start: int, end: int):
        self.tokens.append(Token(type_, value, start_pos=start, end_pos=end))

    def skip_ws(self, i: int) -> int:
        while i < len(self.s) and self.s[i] == " ":
            i += 1
        return i

    def run(self) -> list[Token]:
        s, i, script_arg = self.s, 0, False
        while i < len(s):
            m = _MASTER.match(s, i)
            kind, text = m.lastgroup, m.group()
            if kind == "ws":
                i = m.end()
                continue
            arg, script_arg = script_arg, False
            after_left, self.after_left = self.after_left, False
            if kind == "num":
                i = self.number(text, i, arg)
            elif kind == "word":
                i = self.word(text, i, arg)
            elif kind == "cmd":
                i = self.command(text[1:], i, m.end(), arg)
            elif kind == "rel":
                self.emit("REL", RELATIONS[text], i, m.end())
                i = m.end()
            elif kind == "rowsep":
                self.emit("_ROWSEP", text, i, m.end())
                i = m.end()
            elif kind == "esc":
                i = self.escape(text, i)
            elif text == "^":
                i, script_arg = self.superscript(i)
            elif text == "_":
                self.emit("_SUB", "_", i, i + 1)
                script_arg = s[self.skip_ws(i + 1):self.skip_ws(i + 1) + 1] != "{"
                i += 1
            else:
                i = self.char(text, i, after_left)
        return self.tokens

    # -- pieces

    def number(self, text: str, i: int, arg: bool) -> int:
        if arg:  # LaTeX: x_12 is x_1 2
            self.emit("NUMBER", text[0], i, i + 1)
            return i + 1
        end = i + len(text)
        if text == "1" and self.s[end:end + 1] in ("[", "_"):  # 1[z>0], 1_N, 1_{\{z>0\}}
            self.emit("ONE", "1", i, end)
            self.mark_call(end, ones=True)
        else:
            self.emit("NUMBER", text, i, end)
        return end

    def word(self, text: str, i: int, arg: bool) -> int:
        if arg:
            text = text[0]
        elif len(text) > 1:
            key = text.lower()
            if key in FUNCTION_WORDS:
                self.emit("NAMEDFUNC", FUNCTION_WORDS[key], i, i + len(text))
                self.mark_call(i + len(text))
                return i + len(text)
            if self.stack and self.stack[-1] == "sub{" and len(text) >= 3 and not set(text) <= INDEX_LETTERS:
                self.emit("TEXT", text, i, i + len(text))
                return i + len(text)
            if len(text) >= 4 or key in ENGLISH_WORDS:
                raise _Reject(f"prose ('{text}') where a formula was expected", i)
        for k, ch in enumerate(text):
            end = self.letter(ch, i + k, i + k + 1, arg=arg)
        return end

    def letter(self, ch: str, start: int, end: int, decor: str = "", arg: bool = False) -> int:
        """Emit a letter; returns where tokenizing goes on (after a W(2) layer's '(')."""
        value = f"{decor}:{ch}" if decor else ch
        if ch in FUNCTION_LETTERS:
            self.emit("FLETTER", value, start, end)
            if not arg:
                self.mark_call(end)
            return end
        self.emit("LETTER", value, start, end)
        if not arg and self.s[end:end + 1] == "(" and end in self.match:
            close = self.match[end]
            if _PAREN_LAYER.fullmatch(self.s, end + 1, close):  # W(2), a(l-1)
                self.open_layer(end, end + 1, close, "LAYER_CLOSE", close + 1)
                return end + 1
        return end

    def greek(self, name: str, start: int, end: int, decor: str = "", arg: bool = False):
        value = f"{decor}:{name}" if decor else name
        if name in CONSTANT_GREEK or name not in GREEK:
            self.emit("GREEK", value, start, end)
        else:
            self.emit("FGREEK", value, start, end)
            if not arg:
                self.mark_call(end)

    def open_layer(self, start: int, content: int, close: int, close_type: str, resume: int):
        self.emit("_LAYER_OPEN", "(", start, content)
        self.stack.append("layer")
        self.layer_closes[close] = (close_type, resume)

    def mark_call(self, i: int, ones: bool = False):
        r"""Mark the bracket that opens a function's arguments, if one follows at i.

        A function name may carry subscripts and primes first (g'_l(z)); the all-ones
        \mathbb{1} takes none, but its condition may be in \{...\}.
        """
        s = self.s
        while not ones:
            i = self.skip_ws(i)
            if s.startswith("'", i):
                i += 1
            elif s.startswith("_", i):
                i = _skip_script(s, i + 1)
            elif s.startswith(("^{\\prime}", "^\\prime", "^'", "^{'}"), i):
                i = _skip_script(s, i + 1)
            else:
                break
        i = self.skip_ws(i)
        if s.startswith("\\left", i):
            i = self.skip_ws(i + 5)
        if s.startswith("(", i):
            self.call_opens[i] = "_CALL_LPAR"
        elif s.startswith("[", i):
            self.call_opens[i] = "_CALL_LBRACK"
        elif ones and s.startswith("\\{", i):
            self.call_opens[i] = "_CALL_LSET"

    def braced(self, i: int) -> tuple[str, int]:
        """The argument of a command at i: the content of {...} or one char/command."""
        i = self.skip_ws(i)
        if i >= len(self.s):
            raise _Reject("a command at the end is missing its argument")
        if self.s[i] == "{":
            close = self.match[i]
            return self.s[i + 1:close].strip(), close + 1
        m = _ONE_ITEM.match(self.s, i)
        return m.group(), m.end()

    def superscript(self, i: int) -> tuple[int, bool]:
        s = self.s
        j = self.skip_ws(i + 1)
        if j < len(s) and s[j] == "{":
            close = self.match[j]
            key = re.sub(r"\s+", "", s[j + 1:close])
            if key in _T_FORMS:
                self.emit("SUP_T", "T", i, close + 1)
                return close + 1, False
            if key and (set(key) == {"'"} or key == "\\prime"):
                for _ in range(max(1, key.count("'"))):
                    self.emit("PRIME", "'", i, close + 1)
                return close + 1, False
            k = self.skip_ws(j + 1)
            if s[k:k + 1] in ("(", "[") and k in self.match:
                inner_close = self.match[k]
                suffix = re.sub(r"\s+", "", s[inner_close + 1:close])
                if suffix == "" or suffix in _LAYER_SUFFIXES:
                    self.open_layer(i, k + 1, inner_close,
                                    "LAYER_CLOSE_T" if suffix else "LAYER_CLOSE", close + 1)
                    return k + 1, False
        elif s[j:j + 1] in ("(", "[") and j in self.match:  # OCR: z^(3)
            self.open_layer(i, j + 1, self.match[j], "LAYER_CLOSE", self.match[j] + 1)
            return j + 1, False
        else:
            m = _ONE_ITEM.match(s, j) if j < len(s) else None
            if m and m.group() in ("T", "\\top", "\\intercal"):
                self.emit("SUP_T", "T", i, m.end())
                return m.end(), False
            if m and m.group() in ("'", "\\prime"):
                self.emit("PRIME", "'", i, m.end())
                return m.end(), False
        self.emit("_CARET", "^", i, i + 1)
        return i + 1, not s[j:j + 1] == "{"

    def escape(self, text: str, i: int) -> int:
        c = text[1]
        if c == "{":
            self.emit(self.call_opens.get(i, "_LSET"), "\\{", i, i + 2)
            self.stack.append("\\{")
        elif c == "}":
            self.emit("_RSET", "\\}", i, i + 2)
            self.pop()
        elif c == "|":
            self.bar("‖", "_NORM_OPEN", "_NORM_CLOSE", i, i + 2)
        elif c == " ":
            if self.stack and self.stack[-1] == "[row" and self.tokens[-1].type != "_CELLSEP":
                self.emit("_CELLSEP", "\\ ", i, i + 2)
        else:
            raise _Reject(f"unknown command '{text}'", i)
        return i + 2

    def bar(self, kind: str, open_type: str, close_type: str, start: int, end: int):
        if self.stack and self.stack[-1] == kind:
            self.emit(close_type, kind, start, end)
            self.stack.pop()
        else:
            self.emit(open_type, kind, start, end)
            self.stack.append(kind)

    def pop(self):
        if self.stack:
            self.stack.pop()

    def char(self, c: str, i: int, after_left: bool) -> int:
        if c in "([":
            call = self.call_opens.get(i)
            self.emit(call or ("_LPAR" if c == "(" else "_LBRACK"), c, i, i + 1)
            self.stack.append("[row" if c == "[" and not call and not after_left else c)
        elif c in ")]":
            self.pop()
            if i in self.layer_closes:
                type_, resume = self.layer_closes.pop(i)
                self.emit(type_, c, i, resume)
                return resume
            self.emit("_RPAR" if c == ")" else "_RBRACK", c, i, i + 1)
        elif c == "{":
            sub = bool(self.tokens) and self.tokens[-1].type == "_SUB"
            self.emit("_LBRACE", c, i, i + 1)
            self.stack.append("sub{" if sub else "{")
        elif c == "}":
            self.emit("_RBRACE", c, i, i + 1)
            self.pop()
        elif c == "|":
            self.bar("|", "_BAR_OPEN", "_BAR_CLOSE", i, i + 1)
        elif c == "*":
            self.emit("MULOP", "star", i, i + 1)
        elif c in _CHAR_TOKENS:
            self.emit(_CHAR_TOKENS[c], c, i, i + 1)
        else:
            raise _Reject(f"unexpected character '{c}'", i)
        return i + 1

    def command(self, name: str, i: int, end: int, arg: bool) -> int:
        if name in GREEK:
            self.greek(name, i, end, arg=arg)
        elif name in FUNCTION_COMMANDS:
            self.emit("NAMEDFUNC", FUNCTION_COMMANDS[name], i, end)
            self.mark_call(end)
        elif name in MULOPS:
            self.emit("MULOP", MULOPS[name], i, end)
        elif name in RELATIONS:
            self.emit("REL", RELATIONS[name], i, end)
        elif name in ("frac", "dfrac", "tfrac", "cfrac"):
            self.emit("_FRAC", name, i, end)
        elif name in ("partial", "sum", "sqrt", "in"):
            self.emit("_" + name.upper(), name, i, end)
        elif name == "infty":
            self.emit("GREEK", "infty", i, end)
        elif name in ("left", "right"):
            self.after_left = name == "left"
        elif name in ("lVert", "lvert"):
            self.emit("_NORM_OPEN" if name == "lVert" else "_BAR_OPEN", name, i, end)
            self.stack.append("‖" if name == "lVert" else "|")
        elif name in ("rVert", "rvert"):
            self.emit("_NORM_CLOSE" if name == "rVert" else "_BAR_CLOSE", name, i, end)
            self.pop()
        elif name == "Vert":
            self.bar("‖", "_NORM_OPEN", "_NORM_CLOSE", i, end)
        elif name == "vert":
            self.bar("|", "_BAR_OPEN", "_BAR_CLOSE", i, end)
        elif name in ("begin", "end"):
            return self.environment(name, i, end)
        elif name in DECORATIONS:
            return self.decoration(DECORATIONS[name], name, i, end, arg)
        elif name in TEXT_COMMANDS:
            return self.text(name, i, end, arg)
        elif name in ("top", "intercal", "prime"):
            raise _Reject(f"'\\{name}' without a base to transpose", i)
        else:
            raise _Reject(f"unknown or unsupported command '\\{name}'", i)
        return end

    def environment(self, which: str, i: int, end: int) -> int:
        m = _ENV_NAME.match(self.s, end)
        if not m:
            raise _Reject(f"'\\{which}' without an environment name", i)
        env = m.group(1)
        if env == "cases":
            self.emit("_BEGIN_CASES" if which == "begin" else "_END_CASES", env, i, m.end())
        elif env in MATRIX_ENVS:
            self.emit("_BEGIN_MATRIX" if which == "begin" else "_END_MATRIX", env, i, m.end())
        elif env in ("aligned", "align", "align*", "split", "gathered", "eqnarray"):
            raise _Reject(f"an alignment environment '{env}' (pass one side of one equation)", i)
        else:
            raise _Reject(f"unsupported environment '{env}'", i)
        return m.end()

    def decoration(self, decor: str, name: str, i: int, end: int, arg: bool) -> int:
        content, after = self.braced(end)
        if decor == "bold" and (content == "1" or (content == "I" and name in BLACKBOARD)):
            self.emit("ONE", "1", i, after)
            self.mark_call(after, ones=True)
        elif len(content) == 1 and content.isalpha():
            return self.letter(content, i, after, decor=decor, arg=arg)
        elif content.startswith("\\") and content[1:] in GREEK:
            self.greek(content[1:], i, after, decor=decor, arg=arg)
        elif self.s[self.skip_ws(end)] == "{":
            self.emit("DECOR", decor, i, end)  # a complex argument: \hat{y_i}
            return end
        else:
            raise _Reject(f"cannot read the argument of '\\{name}'", i)
        return after

    def text(self, name: str, i: int, end: int, arg: bool) -> int:
        content, after = self.braced(end)
        key = content.lower().strip().rstrip(":,")
        if key in TEXT_FUNCTION_WORDS:
            self.emit("NAMEDFUNC", TEXT_FUNCTION_WORDS[key], i, after)
            self.mark_call(after)
        elif len(content) == 1 and content.isalpha():
            return self.letter(content, i, after, arg=arg)
        elif key in CONDITION_WORDS or (content and not content.strip("\"'`“” ")):
            self.emit("_COND", content, i, after)
        elif key in OTHERWISE_WORDS:
            self.emit("OTHERWISE", content, i, after)
        elif re.fullmatch(r"[A-Za-z][A-Za-z0-9 ]*", content.strip()):
            self.emit("TEXT", content.strip(), i, after)
        else:
            raise _Reject(f"prose ('\\{name}{{{content}}}') where a formula was expected", i)
        return after


# --------------------------------------------------------------------------- tree building

@dataclass(frozen=True)
class _Partial(Node):
    """\\partial x before it meets its other half in a \\frac or a slash."""
    operand: Node

    def children(self):
        return (self.operand,)


@dataclass(frozen=True)
class _Seq(Node):
    """A comma list inside a subscript."""
    items: tuple

    def children(self):
        return self.items


@dataclass(frozen=True)
class _Member(Node):
    """x \\in D inside a \\sum's subscript."""
    var: Node
    domain: Node

    def children(self):
        return (self.var, self.domain)


@dataclass(frozen=True)
class _Head:
    """A name that may be a function (f, g_l', \\psi) and the scripts written on it."""
    name: str
    decor: str
    scripts: tuple


_OTHERWISE = object()
_LEFTOVERS = {_Partial: "'\\partial' outside a derivative",
              _Seq: "a comma list where one expression was expected",
              _Member: "'\\in' outside the range of a \\sum"}


def _split_decor(value: str) -> tuple[str, str]:
    decor, _, name = value.rpartition(":")
    return name, decor


def _number(text: str) -> Num:
    return Num(Fraction(text) if "." in text else int(text))


def _indices(content: Node) -> tuple[Node, ...]:
    if isinstance(content, _Seq):
        return content.items
    if isinstance(content, Product) and set(content.ops) == {"juxt"}:
        return content.factors
    if isinstance(content, (Compare, Indicator)):
        raise _Reject("a comparison as a subscript")
    return (content,)


def _wrap(node: Node, script: tuple) -> Node:
    kind = script[0]
    if kind == "sup":
        return Pow(node, script[1])
    if kind in ("T", "prime"):
        return Transpose(node)
    # a layer index on something that is not a symbol: a power
    node = Pow(node, script[1])
    return Transpose(node) if script[2] else node


def _apply_scripts(base: Node, scripts) -> Node:
    rest = []
    if isinstance(base, Sym):
        layer, indices = base.layer, list(base.indices)
        for script in scripts:
            if script[0] == "sub":
                indices.extend(_indices(script[1]))
            elif script[0] == "layer":
                if layer is not None:
                    raise _Reject(f"two layer indices on '{base.name}'")
                layer = script[1]
                if script[2]:
                    rest.append(("T",))
            else:
                rest.append(script)
        base = Sym(base.name, layer, tuple(indices), base.decor)
        if base == Sym("e") and rest and rest[0][0] == "sup":
            base, rest = Call("exp", (rest[0][1],)), rest[1:]
    else:
        for script in scripts:
            if script[0] != "sub":
                rest.append(script)
            elif isinstance(base, Call) and not base.indices:
                base = Call(base.func, base.args, base.primes, _indices(script[1]))
            elif isinstance(base, Call):
                raise _Reject(f"subscripts both on '{base.func}' and after its arguments")
            elif base == Ones():
                content = script[1]
                base = (Indicator(content) if isinstance(content, Compare) else
                        content if isinstance(content, Indicator) else Ones(content))
            elif isinstance(base, Norm) and not base.kind and isinstance(script[1], (Sym, Num)):
                kind = script[1].name if isinstance(script[1], Sym) else str(script[1].value)
                base = Norm(base.operand, kind)
            else:
                raise _Reject("a subscript on an expression that cannot take one")
    for script in rest:
        base = _wrap(base, script)
    return base


def _make_call(name: str, decor: str, scripts, args) -> Call:
    indices, primes = [], 0
    for script in scripts:
        if script[0] == "sub":
            indices.extend(_indices(script[1]))
        elif script[0] == "prime":
            primes += 1
        else:
            raise _Reject(f"a superscript on the function name '{name}'")
    return Call(f"{decor}:{name}" if decor else name, tuple(args), primes, tuple(indices))


def _decorate(node: Node, decor: str) -> Node:
    if isinstance(node, Sym):
        return Sym(node.name, node.layer, node.indices, decor)
    if isinstance(node, Transpose):
        return Transpose(_decorate(node.operand, decor))
    if isinstance(node, Pow):
        return Pow(_decorate(node.base, decor), node.exponent)
    if decor == "bold":  # \mathbf{...} around a whole expression: just a font
        return node
    raise _Reject(f"cannot put a {decor} on a whole expression")


def _strip_partial(node: Node) -> Node | None:
    """The numerator of a derivative without its leading \\partial, or None."""
    if isinstance(node, _Partial):
        return node.operand
    if isinstance(node, Product) and isinstance(node.factors[0], _Partial):
        return Product((node.factors[0].operand,) + node.factors[1:], node.ops)
    return None


class _Build(Transformer):
    """Callbacks of grammar.lark's rules (run by the LALR parser as it reduces)."""

    def start(self, c):
        return c[0]

    def expr(self, c):
        terms = [c[0]]
        for op, term in zip(c[1::2], c[2::2]):
            terms.append(Neg(term) if op.type == "MINUS" else term)
        return Add(tuple(terms))

    def neg(self, c):
        return Neg(c[-1])

    def pos(self, c):
        return c[-1]

    def product(self, c):
        factors, ops, op = [], [], "juxt"
        for x in c:
            if isinstance(x, Token):
                op = x.value
                continue
            if factors:
                ops.append(op)
            factors.append(x)
            op = "juxt"
        return Product(tuple(factors), tuple(ops))

    def sum(self, c):
        body, scripts = c[-1], (c[0] if len(c) == 2 else [])
        index = lower = upper = over = None
        for script in scripts:
            if script[0] == "sub" and index is None:
                index, lower, over = self._sum_range(script[1])
            elif script[0] in ("sup", "layer") and upper is None:
                upper = script[1]
            elif script[0] == "T" and upper is None:
                upper = Sym("T")
            else:
                raise _Reject("cannot read the limits of a \\sum")
        return Sum(body, index, lower, upper, over)

    @staticmethod
    def _sum_range(content):
        def name(x):
            if isinstance(x, Sym) and x.layer is None and not x.indices:
                return x.name
            raise _Reject("cannot read the index of a \\sum")
        if isinstance(content, Compare) and content.op == "=":
            return name(content.lhs), content.rhs, None
        if isinstance(content, _Member):
            return name(content.var), None, content.domain
        return name(content), None, None

    def deriv_head(self, c):
        if not isinstance(c[0], _Partial):
            raise _Reject("the denominator of \\frac{\\partial}{...} must start with \\partial")
        return c[0].operand

    def deriv_nothing(self, c):
        raise _Reject("derivative of nothing: \\frac{\\partial}{\\partial ...} is applied to nothing")

    def deriv_apply(self, c):
        return Deriv(c[-1], c[0])

    def slash(self, c):
        a, b = c
        if isinstance(a, _Partial) and isinstance(b, _Partial):
            return Deriv(a.operand, b.operand)
        if isinstance(a, _Partial) or isinstance(b, _Partial):
            raise _Reject("'\\partial' on one side of a '/' only")
        return Div(a, b)

    def frac(self, c):
        num, den = c
        inner = _strip_partial(num)
        if inner is not None:
            if not isinstance(den, _Partial):
                raise _Reject("a derivative whose denominator does not start with \\partial")
            return Deriv(inner, den.operand)
        if isinstance(den, _Partial):
            raise _Reject("'\\partial' in the denominator only")
        return Div(num, den)

    def partial(self, c):
        return _Partial(c[0])

    def scripted(self, c):
        return _apply_scripts(c[0], c[1])

    def fpostfix(self, c):
        name, decor = _split_decor(c[0].value)
        return _Head(name, decor, tuple(c[1]) if len(c) > 1 else ())

    def head_symbol(self, c):
        head = c[0]
        return _apply_scripts(Sym(head.name, decor=head.decor), head.scripts)

    def call(self, c):
        head, args = c
        return _make_call(head.name, head.decor, head.scripts, args)

    def named_call(self, c):
        return _make_call(c[0].value, "", c[1] if len(c) == 3 else (), c[-1])

    def call_bare(self, c):
        return _make_call(c[0].value, "", c[1] if len(c) == 3 else (), (c[-1],))

    def args(self, c):
        return tuple(c)

    def symbol(self, c):
        name, decor = _split_decor(c[0].value)
        return Sym(name, decor=decor)

    def number(self, c):
        return _number(c[0].value)

    def ones(self, c):
        return Ones()

    def indicator(self, c):
        return Indicator(c[-1])

    def ind_group(self, c):
        return Indicator(c[0])

    def comparison(self, c):
        return Compare(c[0], c[1].value, c[2])

    def row(self, c):
        return Matrix((tuple(c),))

    def mrow(self, c):
        return tuple(c)

    def matrix(self, c):
        if len({len(row) for row in c}) > 1:
            raise _Reject("a matrix whose rows have different lengths")
        return Matrix(tuple(c))

    def crow(self, c):
        value, cond = c
        if cond is _OTHERWISE:
            return (value, None)
        if isinstance(cond, Indicator):
            cond = cond.condition
        if not isinstance(cond, Compare):
            raise _Reject("unreadable condition in a cases block")
        return (value, cond)

    def otherwise(self, c):
        return _OTHERWISE

    def cases(self, c):
        return Piecewise(tuple(c))

    def sqrt(self, c):
        return Pow(c[0], Num(Fraction(1, 2)))

    def norm(self, c):
        return Norm(c[0])

    def abs(self, c):
        return Abs(c[0])

    def decorated(self, c):
        return _decorate(c[1], c[0].value)

    def scripts(self, c):
        return list(c)

    def sub(self, c):
        return ("sub", c[0])

    def sup(self, c):
        return ("sup", c[0])

    def sup_t(self, c):
        return ("T",)

    def prime(self, c):
        return ("prime",)

    def layer(self, c):
        return ("layer", c[0], c[1].type == "LAYER_CLOSE_T")

    def seq(self, c):
        return _Seq(tuple(c))

    def member(self, c):
        return _Member(c[0], c[1])

    def text_name(self, c):
        return Sym(c[0].value)


class _TokenList(Lexer):
    """Lark's lexer slot: the tokens are already made by _Tokenizer."""

    def __init__(self, lexer_conf):
        pass

    def lex(self, data):
        return iter(data)


@cache
def _parser() -> Lark:
    grammar = (Path(__file__).parent / "grammar.lark").read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", lexer=_TokenList, transformer=_Build())


# --------------------------------------------------------------------------- checks

_OPENING = {"_LPAR", "_LBRACK", "_LBRACE", "_LSET", "_CALL_LPAR", "_CALL_LBRACK", "_CALL_LSET",
            "_LAYER_OPEN", "_NORM_OPEN", "_BAR_OPEN", "_BEGIN_CASES", "_BEGIN_MATRIX"}
_CLOSING = {"_RPAR", "_RBRACK", "_RBRACE", "_RSET", "LAYER_CLOSE", "LAYER_CLOSE_T", "_NORM_CLOSE",
            "_BAR_CLOSE", "_END_CASES", "_END_MATRIX"}
_UNEXPECTED = {
    "TEXT": "prose {!r} where a formula was expected",
    "_COND": "a condition word {!r} outside a cases block",
    "OTHERWISE": "{!r} outside a cases block",
    "_AMP": "'&' outside a matrix or cases block",
    "_ROWSEP": "a row break '\\\\' outside a matrix or cases block",
    "_IN": "'\\in' outside the range of a \\sum",
}


def _check_relations(tokens: list[Token]):
    depth = 0
    for tok in tokens:
        depth += (tok.type in _OPENING) - (tok.type in _CLOSING)
        if depth == 0 and tok.type == "REL":
            if tok.value == "=":
                raise _Reject("an equation, not an expression (pass one side)", tok.start_pos)
            raise _Reject(f"a comparison '{tok.value}', not an expression", tok.start_pos)


def _check_tree(tree: Node):
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_TREE_DEPTH:
            raise _Reject("nested too deeply")
        if type(node) in _LEFTOVERS:
            raise _Reject(_LEFTOVERS[type(node)])
        stack.extend((child, depth + 1) for child in node.children())


def _unexpected(exc: UnexpectedInput, text: str, tokens: list[Token]) -> _Reject:
    tok = getattr(exc, "token", None)
    if tok is None or tok.type == "$END":
        return _Reject("the formula ends too early (an argument or operand is missing)")
    shown = text[tok.start_pos:tok.end_pos] if tok.start_pos is not None else str(tok)
    reason = _UNEXPECTED.get(tok.type, "unexpected {!r}").format(shown)
    open_cases = sum((t.type == "_BEGIN_CASES") - (t.type == "_END_CASES")
                     for t in tokens if t.start_pos < tok.start_pos)
    if open_cases and tok.type in ("TEXT", "_COND", "OTHERWISE"):
        reason = f"unreadable condition in a cases block: {reason}"
    elif open_cases and tok.type in ("_ROWSEP", "_END_CASES"):
        reason = "a cases row without '&' between its value and its condition"
    return _Reject(reason)


# --------------------------------------------------------------------------- API

def parse(latex: str) -> Node:
    """The tree of one LaTeX expression; ParseError (only) for what cannot be read."""
    try:
        text = _check_input(latex)
        _, problems = _scan_delimiters(text)
        if problems:
            raise _Reject(_describe_problem(problems[0]), problems[0][1])
        text = _normalise(text)
        tokens = _Tokenizer(text).run()
        _check_relations(tokens)
        try:
            tree = _parser().parse(tokens)
        except UnexpectedInput as exc:
            raise _unexpected(exc, text, tokens) from None
        _check_tree(tree)
        return tree
    except _Reject as exc:
        raise ParseError(str(latex), exc.reason, exc.position) from None
    except RecursionError:
        raise ParseError(str(latex), "nested too deeply") from None
    except (LarkError, ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        # a bug in this module; the contract is still a ParseError, with a telling reason
        raise ParseError(str(latex), f"internal parser error ({type(exc).__name__}: {exc})") from None


_TRAILING = re.compile(r"(?:[\s.,;:!?&=]|\\\\)+$")
_LEADING = re.compile(r"^\s*(?:(?:\\(?:Rightarrow|rightarrow|implies|therefore|to|Longrightarrow)"
                      r"(?![A-Za-z])|=)\s*)+")
_PART_LABEL = re.compile(r"^\s*(?:[a-hA-H]\)|[0-9]{1,2}[.)])\s+")
_PLUS_IN_SUPERSCRIPT = re.compile(r"\^\{\s*([0-9A-Za-z]+)\s*\+\s*\}")


def _repair_ends(text: str):
    notes = []
    if m := _TRAILING.search(text):
        if m.group().strip():
            notes.append(f"removed trailing {m.group().strip()!r}")
            text = text[:m.start()]
    for pattern, what in ((_PART_LABEL, "the part label"), (_LEADING, "a leading")):
        if m := pattern.match(text):
            notes.append(f"removed {what} {m.group().strip()!r}")
            text = text[m.end():]
    return text, notes


def _repair_superscript_plus(text: str):
    r"""OCR glues the '+' after a square into the exponent: \|W\|_2^{2+} \|V\|."""
    new, n = _PLUS_IN_SUPERSCRIPT.subn(r"^{\1} +", text)
    return new, ["moved a '+' out of a superscript"] * bool(n)


def _starts_with_condition(remark: str) -> bool:
    words = [w for w in re.findall(r"[A-Za-z]+", remark) if w not in TEXT_COMMANDS]
    return bool(words) and words[0].lower() in CONDITION_WORDS - {"where"}


def _repair_remarks(text: str):
    r"""Drop prose around the formula: '\text{so } x', 'x \quad \text{--- (3)}'.

    Remarks that start with a condition word (if, when, for) are kept: they change
    what the claim says, so the claim stays unreadable rather than silently unconditional.
    """
    notes = []
    lead = re.match(r"\s*\\text\s*\{([^{}]*)\}[\s,]*", text)
    if lead and not _starts_with_condition(lead.group(1)):
        notes.append(f"removed the leading remark {lead.group().strip()!r}")
        text = text[lead.end():]
    depth = 0
    for m in re.finditer(r"[{(\[]|[})\]]|(?:\\q?quad\b|,)\s*(?=\\text|\(\s*\\text|\\checkmark)", text):
        if m.group() in "{([":
            depth += 1
        elif m.group() in "})]":
            depth -= 1
        elif depth == 0 and not _starts_with_condition(text[m.end():]):
            notes.append(f"removed the trailing remark {text[m.start():].strip()!r}")
            text = text[:m.start()]
            break
    return text, notes


def _repair_delimiters(text: str):
    try:
        _, problems = _scan_delimiters(text)
    except _Reject:
        return text, []
    edits, notes = [], []  # (position, remove_until, insert)
    for kind, _, delim, where in problems:
        if kind == "unmatched":
            edits.append((where[0], where[1], ""))
            notes.append(f"removed an unmatched '{delim}'")
        else:
            edits.append((where, where, _OPENERS[delim]))
            notes.append(f"added a missing '{_OPENERS[delim]}'")
    # right to left so positions stay valid; equal positions keep their listed order
    for _, (start, stop, insert) in sorted(enumerate(edits), key=lambda e: (e[1][0], e[0]), reverse=True):
        text = text[:start] + insert + text[stop:]
    return text, notes


_NUMBER = r"\s*[-−+]?\s*\d+(?:\.\d+)?\s*"
_TUPLE = re.compile(rf"^\s*(?:\\left)?\s*\(({_NUMBER}(?:,{_NUMBER})+)(?:\\right)?\s*\)\s*[.,]?\s*$")


def _repair_tuple(text: str) -> tuple[str, list[str]]:
    """(-70, 50), as vectors are written in prose: a column vector."""
    m = _TUPLE.match(text)
    if not m:
        return text, []
    entries = [e.strip() for e in m.group(1).split(",")]
    return "\\begin{bmatrix} " + " \\\\ ".join(entries) + " \\end{bmatrix}", ["read the tuple as a column vector"]


def parse_lenient(latex: str) -> ParseResult:
    """parse(), and when that fails, parse() after OCR repairs, which are reported."""
    try:
        return ParseResult(parse(latex), ())
    except ParseError as first:
        failure = first
    if not isinstance(latex, str):
        raise failure
    text, repairs = latex, []
    for repair in (_repair_tuple, _repair_ends, _repair_remarks, _repair_superscript_plus, _repair_delimiters):
        text, notes = repair(text)
        if not notes:
            continue
        repairs.extend(notes)
        try:
            return ParseResult(parse(text), tuple(repairs))
        except ParseError as exc:
            last = exc
    if not repairs:
        raise failure
    still = "" if last.reason == failure.reason else f": {last.reason}"
    raise ParseError(latex, f"{failure.reason} (after trying: {'; '.join(repairs)}{still})", failure.position)
