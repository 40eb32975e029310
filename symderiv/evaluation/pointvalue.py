"""A SymPy expression's value at a point, in mpmath, visiting each shared subexpression once.

The truth of a recurrent or deep model is a DAG: the same tanh(...) subtree appears in many
places. lambdify prints the expression as a string first (seconds for two nested tanh layers,
every copy printed again); this walks the DAG once and memoises each node's value.
"""

from __future__ import annotations

import mpmath
import sympy as sp

FUNCTIONS = {
    sp.exp: mpmath.exp,
    sp.log: mpmath.log,
    sp.tanh: mpmath.tanh,
    sp.sinh: mpmath.sinh,
    sp.cosh: mpmath.cosh,
    sp.sin: mpmath.sin,
    sp.cos: mpmath.cos,
    sp.Abs: abs,
}


class Unsupported(Exception):
    """A node this evaluator does not know (the caller falls back to lambdify)."""


def _leaf(node, point: dict):
    if node.is_Symbol:
        if node not in point:
            raise Unsupported(f"no value for {node}")
        return point[node]
    if node.is_Integer:
        return mpmath.mpf(int(node))
    if node.is_Rational:
        return mpmath.mpf(int(node.p)) / int(node.q)
    if node.is_Float:
        return mpmath.mpf(str(node))
    if node is sp.I:
        return mpmath.mpc(0, 1)
    if node.is_number and not node.args:  # pi, E, ...: at the working precision, not a float's
        value = node.evalf(mpmath.mp.dps + 5)
        return mpmath.mpf(str(value)) if value.is_real else mpmath.mpmathify(complex(value))
    raise Unsupported(type(node).__name__)


def _combine(node, values):
    if node.is_Add:
        return mpmath.fsum(values)
    if node.is_Mul:
        out = mpmath.mpf(1)
        for v in values:
            out *= v
        return out
    if node.is_Pow:
        base, exponent = values
        if base == 0 and mpmath.re(exponent) < 0:
            raise ZeroDivisionError("0 to a negative power")
        return mpmath.power(base, exponent)
    f = FUNCTIONS.get(node.func)
    if f is None or len(values) != 1:
        raise Unsupported(type(node).__name__)
    return f(values[0])


def value_at(expr, point: dict):
    """expr at point (symbol -> mpmath number), iteratively (no recursion limit on deep trees)."""
    memo: dict = {}
    stack = [(expr, False)]
    while stack:
        node, expanded = stack.pop()
        if node in memo:
            continue
        if not node.args:
            memo[node] = _leaf(node, point)
        elif expanded:
            memo[node] = _combine(node, [memo[a] for a in node.args])
        else:
            stack.append((node, True))
            stack.extend((a, False) for a in node.args if a not in memo)
    return memo[expr]
