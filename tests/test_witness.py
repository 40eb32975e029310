"""The exact check's rational points (truth/symbolic.py witness) and the DAG evaluator behind them."""

from __future__ import annotations

import mpmath
import pytest
import sympy as sp

from symderiv.evaluation.pointvalue import value_at
from symderiv.truth.symbolic import is_zero, witness

x, y = sp.symbols("x y", real=True)
MASKS = [sp.Symbol(f"s1_{k}", integer=True) for k in range(1, 4)]


@pytest.mark.parametrize(
    "expr, nonzero",
    [
        pytest.param(sp.exp(x) / (sp.exp(x) + sp.exp(y)) - 1 / (1 + sp.exp(y - x)), False, id="softmax-rewritten"),
        pytest.param(sp.tanh(x) ** 2 + 1 / sp.cosh(x) ** 2 - 1, False, id="tanh-identity"),
        pytest.param(sp.tanh(x) - x, True, id="tanh-not-x"),
        # a difference under ReLU masks: 0 wherever the mask symbols happen to be 0
        pytest.param(MASKS[0] * MASKS[1] * MASKS[2] * x, True, id="masked-difference"),
    ],
)
def test_witness_finds_a_difference_and_only_a_difference(expr, nonzero):
    value = witness(expr)
    assert value is not None
    assert (abs(value) > 1e-12) == nonzero


def test_a_masked_difference_is_not_zero():
    assert not is_zero(MASKS[0] * MASKS[1] * (x - sp.tanh(x)))


@pytest.mark.parametrize(
    "expr",
    [
        pytest.param(sp.exp(x) * sp.log(y) + sp.Rational(3, 7) * x**2, id="exp-log-rational"),
        pytest.param(sp.sqrt(x + y) - sp.pi * sp.tanh(x * y), id="sqrt-pi-tanh"),
        pytest.param(sp.Abs(x - y) ** -1, id="abs-power"),
    ],
)
def test_value_at_agrees_with_lambdify(expr):
    point = {x: mpmath.mpf(5) / 7, y: mpmath.mpf(2) / 3}
    with mpmath.workdps(30):
        ours = value_at(expr, point)
        theirs = sp.lambdify([x, y], expr, "mpmath")(point[x], point[y])
        assert abs(ours - theirs) < mpmath.mpf(10) ** -25
