"""LaTeX from an expression tree (amsmath/amssymb only), for feedback and export.

The output re-parses to an equivalent tree (tests/test_latex_roundtrip.py).

>>> from symderiv.tree import Sym, Num, Transpose
>>> to_latex(Transpose(Sym("a", layer=Num(2))))
'a^{(2)\\\\top}'
"""
from __future__ import annotations

from fractions import Fraction

from .tree import (Abs, Add, Call, Compare, Deriv, Div, Indicator, Matrix, Neg, Node, Norm, Num,
                   Ones, Piecewise, Pow, Product, Sum, Sym, Transpose)

GREEK = {"psi", "Psi", "Delta", "delta", "lambda", "phi", "varphi", "sigma", "theta", "alpha",
         "beta", "gamma", "Gamma", "eta", "epsilon", "mu", "nu", "rho", "tau", "omega", "Omega",
         "Sigma", "Phi", "Lambda", "xi", "zeta", "kappa", "chi", "pi", "Pi"}
OPS = {"juxt": " ", "cdot": " \\cdot ", "times": " \\times ", "star": " * ", "odot": " \\odot ",
       "circ": " \\circ "}
FUNCS = {"exp": "\\exp", "log": "\\log", "tanh": "\\tanh", "max": "\\max",
         "softmax": "\\operatorname{softmax}", "relu": "\\operatorname{ReLU}",
         "sigmoid": "\\operatorname{sigmoid}", "diag": "\\operatorname{diag}",
         "softplus": "\\operatorname{softplus}"}
COMPARE = {">": ">", ">=": "\\geq", "<": "<", "<=": "\\leq", "=": "=", "!=": "\\neq"}
DECOR = {"hat": "\\hat", "tilde": "\\tilde", "bar": "\\bar", "bold": "\\mathbf"}


def _name(name: str) -> str:
    if name in GREEK:
        return "\\" + name
    if len(name) == 1:
        return name
    return "\\mathrm{" + name + "}"


def _index(node: Node) -> str:
    text = to_latex(node)
    return text


def _indices(indices) -> str:
    if not indices:
        return ""
    simple = all(isinstance(i, (Sym, Num)) and len(to_latex(i)) == 1 for i in indices)
    body = "".join(_index(i) for i in indices) if simple else ",".join(_index(i) for i in indices)
    return "_{" + body + "}"


def _sym(node: Sym, transpose: bool = False) -> str:
    base = _name(node.name)
    if node.decor:
        base = f"{DECOR.get(node.decor, '')}{{{base}}}"
    sup = ""
    if node.layer is not None:
        sup = "(" + to_latex(node.layer) + ")"
    if transpose:
        sup += "\\top"
    return base + _indices(node.indices) + (f"^{{{sup}}}" if sup else "")


def _atomic(node: Node) -> bool:
    return isinstance(node, (Sym, Call, Matrix, Norm, Abs, Ones, Indicator, Transpose)) or (
        isinstance(node, Num) and not (isinstance(node.value, (int, float, Fraction)) and node.value < 0)
        and not (isinstance(node.value, Fraction) and node.value.denominator != 1))


def _wrap(node: Node) -> str:
    text = to_latex(node)
    return text if _atomic(node) else f"\\left({text}\\right)"


def _number(value) -> str:
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return str(value.numerator)
        return f"\\frac{{{value.numerator}}}{{{value.denominator}}}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def to_latex(node: Node) -> str:
    """LaTeX for a tree, with explicit \\left( \\right) where grouping matters."""
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
                out.append(("-" if i == 0 else " - ") + (_wrap(inner) if isinstance(inner, Add) else to_latex(inner)))
            else:
                out.append(("" if i == 0 else " + ") + (_wrap(term) if isinstance(term, Add) else to_latex(term)))
        return "".join(out)
    if isinstance(node, Neg):
        inner = node.operand
        return "-" + (_wrap(inner) if isinstance(inner, (Add, Neg)) else to_latex(inner))
    if isinstance(node, Product):
        parts = [_wrap(f) if isinstance(f, (Add, Neg, Product, Sum, Piecewise))
                 or (isinstance(f, Num) and not _atomic(f)) else to_latex(f)
                 for f in node.factors]
        text = parts[0]
        for op, part in zip(node.ops, parts[1:]):
            text += OPS.get(op, " ") + part
        return text
    if isinstance(node, Div):
        return f"\\frac{{{to_latex(node.numerator)}}}{{{to_latex(node.denominator)}}}"
    if isinstance(node, Pow):
        return f"{_wrap(node.base)}^{{{to_latex(node.exponent)}}}"
    if isinstance(node, Transpose):
        inner = node.operand
        if isinstance(inner, Sym):
            return _sym(inner, transpose=True)
        return f"{_wrap(inner)}^{{\\top}}"
    if isinstance(node, Call):
        name = FUNCS.get(node.func) or _name(node.func)
        name += "'" * node.primes
        name += _indices(node.indices)
        return f"{name}\\left({', '.join(to_latex(a) for a in node.args)}\\right)"
    if isinstance(node, Compare):
        return f"{to_latex(node.lhs)} {COMPARE[node.op]} {to_latex(node.rhs)}"
    if isinstance(node, Indicator):
        return f"\\mathbb{{1}}\\left[{to_latex(node.condition)}\\right]"
    if isinstance(node, Piecewise):
        rows = []
        for value, cond in node.pieces:
            rows.append(f"{to_latex(value)} & " + (f"\\text{{if }} {to_latex(cond)}" if cond is not None
                                                    else "\\text{otherwise}"))
        return "\\begin{cases} " + " \\\\ ".join(rows) + " \\end{cases}"
    if isinstance(node, Sum):
        sub = ""
        if node.index is not None:
            if node.over is not None:
                sub = f"_{{{node.index} \\in {to_latex(node.over)}}}"
            elif node.lower is not None:
                sub = f"_{{{node.index}={to_latex(node.lower)}}}"
            else:
                sub = f"_{{{node.index}}}"
        sup = f"^{{{to_latex(node.upper)}}}" if node.upper is not None else ""
        return f"\\sum{sub}{sup} {_wrap(node.body)}"
    if isinstance(node, Matrix):
        rows = " \\\\ ".join(" & ".join(to_latex(e) for e in row) for row in node.rows)
        return f"\\begin{{bmatrix}} {rows} \\end{{bmatrix}}"
    if isinstance(node, Deriv):
        return f"\\frac{{\\partial {_wrap(node.num) if not _atomic(node.num) else to_latex(node.num)}}}{{\\partial {to_latex(node.wrt)}}}"
    if isinstance(node, Norm):
        sub = f"_{{{node.kind}}}" if node.kind else ""
        return f"\\left\\|{to_latex(node.operand)}\\right\\|{sub}"
    if isinstance(node, Abs):
        return f"\\left|{to_latex(node.operand)}\\right|"
    raise TypeError(f"no LaTeX for {type(node).__name__}")
