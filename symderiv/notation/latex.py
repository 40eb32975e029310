r"""LaTeX from an expression tree (amsmath/amssymb only), for feedback and export.

The output re-parses to the same tree (tests/test_latex_roundtrip.py): grouping is
explicit (``\left( \right)`` where the parser would otherwise group differently), a
function-like symbol followed by a bracket is braced (``{\psi} \left(a + b\right)`` is a
product, not a call), a base that already carries a superscript is bracketed before
another one is added, and a norm or absolute value inside another is bracketed (the
parser pairs ``|`` and ``\|`` by nesting only).

>>> from symderiv.core.tree import Sym, Num, Transpose
>>> to_latex(Transpose(Sym("a", layer=Num(2))))
'a^{(2)\\top}'

How layer indices and indicators are written is a style, set for a block of code:

>>> with latex_style(layer_brackets="[]", indicator="\\mathbf{1}"):
...     to_latex(Transpose(Sym("a", layer=Num(2))))
'a^{[2]\\top}'
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from fractions import Fraction

from symderiv.core.tree import (
    ENTRY,
    Abs,
    Add,
    Call,
    Compare,
    Deriv,
    Div,
    Indicator,
    Matrix,
    Neg,
    Node,
    Norm,
    Num,
    Ones,
    Piecewise,
    Pow,
    Product,
    Sum,
    Sym,
    Transpose,
    is_conjunction,
)

GREEK = {
    "ell",
    "psi",
    "Psi",
    "Delta",
    "delta",
    "lambda",
    "phi",
    "varphi",
    "sigma",
    "theta",
    "alpha",
    "beta",
    "gamma",
    "Gamma",
    "eta",
    "epsilon",
    "mu",
    "nu",
    "rho",
    "tau",
    "omega",
    "Omega",
    "Sigma",
    "Phi",
    "Lambda",
    "xi",
    "zeta",
    "kappa",
    "chi",
    "pi",
    "Pi",
    "varepsilon",
    "vartheta",
    "iota",
    "upsilon",
    "Upsilon",
    "Theta",
    "Xi",
    "varrho",
    "varsigma",
    "varpi",
}
# Greek letters the parser never reads as a function name; every other Greek letter, and
# the Latin letters below, become a call when an opening bracket follows them.
CONSTANT_GREEK = {
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "varepsilon",
    "eta",
    "theta",
    "vartheta",
    "iota",
    "kappa",
    "lambda",
    "mu",
    "nu",
    "omicron",
    "pi",
    "varpi",
    "Gamma",
    "Delta",
    "Theta",
    "Lambda",
    "Pi",
    "Sigma",
}
FUNCTION_LETTERS = set("fghCLJ")
OPS = {"juxt": " ", "cdot": " \\cdot ", "times": " \\times ", "star": " * ", "odot": " \\odot ", "circ": " \\circ "}
FUNCS = {
    "exp": "\\exp",
    "log": "\\log",
    "tanh": "\\tanh",
    "max": "\\max",
    "min": "\\min",
    "sin": "\\sin",
    "cos": "\\cos",
    "sign": "\\operatorname{sign}",
    "softmax": "\\operatorname{softmax}",
    "relu": "\\operatorname{ReLU}",
    "sigmoid": "\\operatorname{sigmoid}",
    "diag": "\\operatorname{diag}",
    "softplus": "\\operatorname{softplus}",
    "leaky_relu": "\\operatorname{LeakyReLU}",
}
COMPARE = {">": ">", ">=": "\\geq", "<": "<", "<=": "\\leq", "=": "=", "!=": "\\neq"}
DECOR = {"hat": "\\hat", "tilde": "\\tilde", "bar": "\\bar", "bold": "\\mathbf"}


@dataclass(frozen=True)
class LatexStyle:
    """Choices that do not change the tree the output parses back to.

    layer_brackets: "()" writes W^{(2)}, "[]" writes W^{[2]}, "_" writes h_2 (a step of a recurrence).
    indicator:      the indicator's glyph; "\\mathbf{1}" typesets with amssymb alone
                    (amssymb's \\mathbb has no digits), "\\mathbb{1}" suits MathJax/MathML.
    """

    layer_brackets: str = "()"
    indicator: str = "\\mathbb{1}"


_STYLE: ContextVar[LatexStyle] = ContextVar("symderiv_latex_style", default=LatexStyle())  # noqa: B039 (frozen)


@contextmanager
def latex_style(**changes):
    """Use a LatexStyle with `changes` for every to_latex call inside the block."""
    style = replace(_STYLE.get(), **changes)
    if style.layer_brackets not in ("()", "[]", "_"):
        raise ValueError(f"layer_brackets must be '()', '[]' or '_', not {style.layer_brackets!r}")
    token = _STYLE.set(style)
    try:
        yield style
    finally:
        _STYLE.reset(token)


def _name(name: str) -> str:
    if name in GREEK:
        return "\\" + name
    if len(name) == 1:
        return name
    return "\\mathrm{" + name + "}"


def _decorated(name: str, decor: str) -> str:
    base = _name(name)
    if not decor:
        return base
    command = "\\boldsymbol" if decor == "bold" and name in GREEK else DECOR.get(decor, "")
    return f"{command}{{{base}}}"


def _indices(indices) -> str:
    if not indices:
        return ""
    texts = [to_latex(i) for i in indices]
    # _{ij} is two indices, but _{12} is one number: digits next to digits need a comma.
    simple = all(len(t) == 1 for t in texts) and not any(a.isdigit() and b.isdigit() for a, b in zip(texts, texts[1:]))
    return "_{" + ("" if simple else ",").join(texts) + "}"


def _sym(node: Sym, transpose: bool = False) -> str:
    base = _decorated(node.name, node.decor)
    sup = ""
    if node.layer is not None and _STYLE.get().layer_brackets == "_":  # h_2, (h_2)_j: a step as a subscript
        stepped = f"{base}_{{{to_latex(node.layer)}}}"
        entry = f"({stepped}){_indices(node.indices)}" if node.indices else stepped
        return entry + ("^{\\top}" if transpose else "")
    if node.layer is not None:
        opening, closing = _STYLE.get().layer_brackets
        sup = opening + to_latex(node.layer) + closing
    if transpose:
        sup += "\\top"
    return base + _indices(node.indices) + (f"^{{{sup}}}" if sup else "")


def _function_like(node: Node) -> bool:
    """A symbol the parser would read as a function name (or 1 as an indicator) if a bracket followed."""
    if node == Ones():
        return True
    return (
        isinstance(node, Sym)
        and node.layer is None
        and (node.name in FUNCTION_LETTERS or (node.name in GREEK and node.name not in CONSTANT_GREEK))
    )


def _atomic(node: Node) -> bool:
    if isinstance(node, Num):  # 2 and 0.5 are atomic; -2 and \frac{1}{3} are not
        return not node.value < 0 and "\\" not in _number(node.value)
    return isinstance(node, (Sym, Call, Matrix, Norm, Abs, Ones, Indicator, Transpose))


def _has_superscript(node: Node) -> bool:
    """Would another ^{...} on this node's LaTeX be a double superscript?"""
    return isinstance(node, (Transpose, Pow)) or (isinstance(node, Sym) and node.layer is not None)


def _paren(text: str) -> str:
    return f"\\left({text}\\right)"


def _wrap(node: Node) -> str:
    text = to_latex(node)
    return text if _atomic(node) else _paren(text)


def _script_base(node: Node) -> str:
    """The base of a power or transpose: bracketed unless it is atomic and unscripted."""
    return _paren(to_latex(node)) if not _atomic(node) or _has_superscript(node) else to_latex(node)


def _decimal(value: Fraction) -> str | None:
    """A fraction whose decimal expansion ends (1/2, 13/25), as the decimal the parser reads back."""
    den, places = value.denominator, 0
    while den % 10 == 0 or den % 2 == 0 or den % 5 == 0:
        den //= 10 if den % 10 == 0 else 2 if den % 2 == 0 else 5
        places += 1
    if den != 1:
        return None
    digits = str(abs(value.numerator) * 10**places // value.denominator).rjust(places + 1, "0")
    text = (digits[:-places] + "." + digits[-places:]).rstrip("0").rstrip(".")
    return ("-" if value < 0 else "") + text


def _number(value) -> str:
    if isinstance(value, float):
        value = Fraction(repr(value)) if value == value and abs(value) != float("inf") else value
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return str(value.numerator)
        return _decimal(value) or f"\\frac{{{value.numerator}}}{{{value.denominator}}}"
    return str(value)


def _bar_at_top(text: str, bar: str) -> bool:
    r"""Does `bar` ("|" or "\\|") occur in `text` outside every ( [ { group?"""
    depth, i = 0, 0
    while i < len(text):
        if text.startswith("\\|", i):
            if depth == 0 and bar == "\\|":
                return True
            i += 2
            continue
        if text.startswith("\\{", i) or text.startswith("\\}", i):
            depth += 1 if text[i + 1] == "{" else -1
            i += 2
            continue
        c = text[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "|" and depth == 0 and bar == "|":
            return True
        i += 1
    return False


def _delimited(operand: Node, bar: str) -> str:
    text = to_latex(operand)
    if _bar_at_top(text, bar):  # \|\|x\| + y\| would pair the first two bars
        text = _paren(text)
    return f"\\left{bar}{text}\\right{bar}"


def _product(node: Product) -> str:
    parts = []
    last = len(node.factors) - 1
    for k, f in enumerate(node.factors):
        if isinstance(f, Sum) and k == last:
            parts.append(to_latex(f))  # a trailing \sum takes the rest of the chain: nothing
        elif isinstance(f, (Add, Neg, Product, Sum, Piecewise)) or (isinstance(f, Num) and not _atomic(f)):
            parts.append(_paren(to_latex(f)))
        else:
            parts.append(to_latex(f))
    text = parts[0]
    for k, (op, part) in enumerate(zip(node.ops, parts[1:])):
        left = parts[k]
        if op == "juxt" and _function_like(node.factors[k]) and part.startswith(("\\left(", "\\left[", "(", "[")):
            text = text[: len(text) - len(left)] + "{" + left + "}"  # {\psi} \left(x\right): not a call
        gap = OPS.get(op, " ")
        if op == "juxt" and left[-1:].isdigit() and part[:1].isdigit():
            gap = " \\, "  # 2 \, 3, not 23
        elif op == "juxt" and left.isdigit() and (part[:1].isalpha() or part.startswith("\\") and part[1:2].isalpha()):
            gap = ""  # 2\lambda W, 2W: a coefficient written against its factor
        text += gap + part
    return text


def _sum(node: Sum) -> str:
    sub = ""
    if node.index is not None:
        if node.over is not None:
            sub = f"_{{{node.index} \\in {to_latex(node.over)}}}"
        elif node.lower is not None:
            sub = f"_{{{node.index}={to_latex(node.lower)}}}"
        else:
            sub = f"_{{{node.index}}}"
    sup = f"^{{{to_latex(node.upper)}}}" if node.upper is not None else ""
    body = node.body
    # The body of \sum is the rest of the product chain, so a product needs no brackets.
    text = _paren(to_latex(body)) if isinstance(body, (Add, Neg, Piecewise)) else to_latex(body)
    return f"\\sum{sub}{sup} {text}"


def _call(node: Call) -> str:
    if node.func == ENTRY:
        return f"\\left({to_latex(node.args[0])}\\right){_indices(node.indices)}"
    if node.func in ("ceil", "floor") and len(node.args) == 1 and not (node.primes or node.indices):
        left, right = ("\\lceil", "\\rceil") if node.func == "ceil" else ("\\lfloor", "\\rfloor")
        return f"\\left{left} {to_latex(node.args[0])} \\right{right}"
    decor, _, func = node.func.rpartition(":")  # the parser writes \tilde{J}(x) as "tilde:J"
    if decor == "leaky_relu":  # a [model] key's leaky ReLU names its slope: "leaky_relu:\alpha"
        name = FUNCS["leaky_relu"] + "_{" + func + "}"
    else:
        name = (FUNCS.get(func) if not decor else None) or _decorated(func, decor)
    name += "'" * node.primes
    name += _indices(node.indices)
    return f"{name}\\left({', '.join(to_latex(a) for a in node.args)}\\right)"


MEMO_LIMIT = 50_000  # entries; the memo is emptied when full
_written: dict = {}  # (style, node) -> LaTeX: a diagnosis writes the same subtrees many times


def _condition(cond: Node) -> str:
    """A cases row's condition; a conjunction 1[a ≤ b] ⊙ 1[b ≤ c] as the chain a ≤ b ≤ c it was written as."""
    if not is_conjunction(cond):
        return to_latex(cond)
    parts = [f.condition for f in cond.factors]
    if all(a.rhs == b.lhs for a, b in zip(parts, parts[1:])):
        return " ".join([to_latex(parts[0].lhs)] + [f"{COMPARE[c.op]} {to_latex(c.rhs)}" for c in parts])
    return to_latex(cond)


def to_latex(node: Node) -> str:
    """LaTeX for a tree, with explicit \\left( \\right) where grouping matters."""
    key = (_STYLE.get(), node)
    try:
        return _written[key]
    except KeyError:
        pass
    except TypeError:  # a node holding something unhashable: written, not remembered
        return _write(node)
    if len(_written) >= MEMO_LIMIT:
        _written.clear()
    text = _written[key] = _write(node)
    return text


def _write(node: Node) -> str:
    if isinstance(node, Num):
        return _number(node.value)
    if isinstance(node, Sym):
        return _sym(node)
    if isinstance(node, Ones):
        return "\\mathbf{1}" + (f"_{{{to_latex(node.size)}}}" if node.size is not None else "")
    if isinstance(node, Add):
        out = []
        for i, term in enumerate(node.terms):
            if isinstance(term, Neg):
                inner = term.operand
                out.append(
                    ("-" if i == 0 else " - ") + (_wrap(inner) if isinstance(inner, (Add, Neg)) else to_latex(inner))
                )
            else:
                out.append(("" if i == 0 else " + ") + (_wrap(term) if isinstance(term, Add) else to_latex(term)))
        return "".join(out)
    if isinstance(node, Neg):
        inner = node.operand
        return "-" + (_wrap(inner) if isinstance(inner, (Add, Neg)) else to_latex(inner))
    if isinstance(node, Product):
        return _product(node)
    if isinstance(node, Div):
        return f"\\frac{{{to_latex(node.numerator)}}}{{{to_latex(node.denominator)}}}"
    if isinstance(node, Pow):
        if isinstance(node.exponent, Num) and node.exponent.value == 0.5:  # 1/2 or 0.5: a square root
            return f"\\sqrt{{{to_latex(node.base)}}}"
        return f"{_script_base(node.base)}^{{{to_latex(node.exponent)}}}"
    if isinstance(node, Transpose):
        inner = node.operand
        if isinstance(inner, Sym):
            return _sym(inner, transpose=True)
        return f"{_script_base(inner)}^{{\\top}}"
    if isinstance(node, Call):
        return _call(node)
    if isinstance(node, Compare):
        return f"{to_latex(node.lhs)} {COMPARE[node.op]} {to_latex(node.rhs)}"
    if isinstance(node, Indicator):
        return f"{_STYLE.get().indicator}\\left[{to_latex(node.condition)}\\right]"
    if isinstance(node, Piecewise):
        rows = []
        for value, cond in node.pieces:
            rows.append(
                f"{to_latex(value)} & "
                + (f"\\text{{if }} {_condition(cond)}" if cond is not None else "\\text{otherwise}")
            )
        return "\\begin{cases} " + " \\\\ ".join(rows) + " \\end{cases}"
    if isinstance(node, Sum):
        return _sum(node)
    if isinstance(node, Matrix):
        rows = " \\\\ ".join(" & ".join(to_latex(e) for e in row) for row in node.rows)
        return f"\\begin{{bmatrix}} {rows} \\end{{bmatrix}}"
    if isinstance(node, Deriv):
        return f"\\frac{{\\partial {_wrap(node.num)}}}{{\\partial {_wrap(node.wrt)}}}"
    if isinstance(node, Norm):
        sub = f"_{{{node.kind}}}" if node.kind else ""
        return _delimited(node.operand, "\\|") + sub
    if isinstance(node, Abs):
        return _delimited(node.operand, "|")
    raise TypeError(f"no LaTeX for {type(node).__name__}")
