"""How a quantity is named where students and LMSs see it: in the problem's own notation, never
by its internal id.

The key may give a quantity a ``name`` (LaTeX, e.g. ``'\\delta^{(L)}_j'``); otherwise it is the
left-hand side the key's declaration implies: ∂of/∂wrt with the problem's objective symbols and
layer brackets (``dJt/dW2`` -> ``∂J̃/∂W⁽²⁾``), ∂aᵢ/∂zⱼ for a Jacobian, the object itself for a
forward-pass value.

>>> quantity_name(load_problem("softmax-2layer"), "dJt/dW2")
'∂J̃/∂W⁽²⁾'
"""

from __future__ import annotations

import re
from dataclasses import replace

from symderiv.answerkey.expand import OBJECTIVE_KEYS
from symderiv.answerkey.problem import Problem, Quantity, layer_brackets, load_problem  # noqa: F401  (doctest)
from symderiv.core.errors import ParseError
from symderiv.core.tree import Deriv, Node, Sym
from symderiv.notation.latex import latex_style, to_latex
from symderiv.notation.parse import parse_lenient
from symderiv.notation.unicode import to_unicode

__all__ = ["quantity_lhs", "quantity_latex", "quantity_name", "part_names", "with_names"]


def _tree(latex: str) -> Node:
    return parse_lenient(latex).tree


def _objective(of: str) -> Node:
    """The objective a gradient is of, as the model writes it (its `of`: J, \\tilde J, L; an
    objective key such as Jt read through OBJECTIVE_KEYS)."""
    written = OBJECTIVE_KEYS[of][0] if of in OBJECTIVE_KEYS else of
    try:
        return _tree(written)
    except ParseError:
        return Sym(of)


def quantity_lhs(problem: Problem, q: Quantity) -> Node:
    """The left-hand side of a quantity: dObjective/dwrt, d of/d wrt (entry i, j), or the object."""
    if q.kind == "value":
        return _tree(q.of)
    wrt = _tree(q.wrt)
    if q.kind == "jacobian":
        of = _tree(q.of)
        if (
            len(q.indices) == 2 and isinstance(of, Sym) and isinstance(wrt, Sym) and not of.indices and not wrt.indices
        ):  # entry (i, j) = d of_i / d wrt_j
            of, wrt = replace(of, indices=(Sym(q.indices[0]),)), replace(wrt, indices=(Sym(q.indices[1]),))
        return Deriv(of, wrt)
    return Deriv(_objective(q.of), wrt)


def quantity_latex(problem: Problem, q: Quantity) -> str:
    """The quantity's display name as LaTeX: the key's `name`, else its left-hand side."""
    if q.name:
        return q.name
    try:
        with latex_style(layer_brackets=layer_brackets(problem)):
            return to_latex(quantity_lhs(problem, q))
    except (ParseError, RecursionError, ValueError, TypeError):  # a key whose of/wrt do not parse
        return q.id


class _Names:
    def __init__(self, problem: Problem):
        self.latex = {q.id: quantity_latex(problem, q) for q in getattr(problem, "quantities", ())}
        self.text = {qid: to_unicode(latex) for qid, latex in self.latex.items()}
        ids = sorted(self.latex, key=len, reverse=True)  # dJt/dW2 before a shorter id inside it
        self.pattern = (
            re.compile(r"(?<![\w\\^_{}/-])(" + "|".join(map(re.escape, ids)) + r")(?![\w}/-])") if ids else None
        )


_MEMO: dict[int, tuple[Problem, _Names]] = {}  # id(problem) -> (the problem, kept alive; its names)


def _names(problem: Problem) -> _Names:
    hit = _MEMO.get(id(problem))
    if hit is None or hit[0] is not problem:
        if len(_MEMO) > 64:
            _MEMO.clear()
        hit = _MEMO[id(problem)] = (problem, _Names(problem))
    return hit[1]


def with_names(text: str, problem: Problem) -> str:
    """Feedback with every quantity id in it (``This is dJ/db2``) written as the quantity's name,
    in LaTeX as the rest of the feedback's formulas (rendered by every output)."""
    names = _names(problem)
    if not text or names.pattern is None:
        return text
    return names.pattern.sub(lambda m: names.latex[m.group(1)], text)


def quantity_name(problem: Problem, qid: str) -> str:
    """The quantity's display name as Unicode text (∂J̃/∂W⁽²⁾); the id itself if the key has no such quantity."""
    return _names(problem).text.get(qid, qid)


def part_names(problem: Problem) -> dict[str, str]:
    """Every quantity id of the key -> its display name."""
    return dict(_names(problem).text)
