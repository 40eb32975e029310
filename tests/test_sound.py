"""Issue 11: sound verdicts. Every claim quoted in the issue, reproduced as a table row."""
from __future__ import annotations

import pytest

from symderiv import check_claim
from symderiv.judging.check import resolve_quantity
from symderiv.judging.exact import run_symbolic_check
from symderiv.notation.parse import parse
from symderiv.truth.problem import load_problem

SIG, SM, MLP = "sigmoid-bce-1hidden", "softmax-2layer", "mlp-general"

# ---- points that see every discontinuity --------------------------------------------------
# (problem, quantity, claim, verdict): a kink on a scalar pre-activation must be seen from both sides
KINKS = [
    pytest.param(SIG, "dL/dz2", r"(a^{[2]}-y)\mathbb{1}[z^{[2]}>0]", "incorrect", id="relu-prime-on-sigmoid-output"),
    pytest.param(SIG, "dL/dw2", r"(a^{[2]}-y)\mathbb{1}[z^{[2]}>0] a^{[1]T}", "incorrect", id="same-in-dL/dw2"),
    pytest.param(SIG, "dL/da1", r"(a^{[2]}-y) w^{[2]T} \odot \mathbb{1}\{z^{[2]} > 0\}", "incorrect",
                 id="same-in-dL/da1"),
    pytest.param(SIG, "dL/dz1", r"(a^{[2]}-y) w^{[2]T} \odot \mathbb{1}\{z^{[1]} > 0\} \odot \mathbb{1}\{z^{[2]}>0\}",
                 "incorrect", id="extra-indicator-in-dL/dz1"),
    pytest.param(SIG, "dL/db2", r"(a^{[2]}-y)\mathbb{1}[z^{[2]}<0]", "incorrect", id="reversed-on-output"),
    pytest.param(SIG, "dJ/dw2", r"\frac{1}{N}((A^{[2]}-Y)\odot\mathbb{1}[Z^{[2]}>0]) A^{[1]T}", "incorrect",
                 id="batch-relu-prime-on-output"),
    pytest.param(SIG, "dL/dz2", r"(a^{[2]}-y)\mathbb{1}[a^{[2]}>0]", "correct", id="always-one-indicator"),
    pytest.param(SIG, "dL/dz1", r"(a^{[2]}-y) w^{[2]T} \odot \mathbb{1}\{a^{[1]} > 0\}", "correct",
                 id="indicator-on-relu-output"),
    pytest.param(SIG, "dL/dz1", r"(a^{[2]}-y) w^{[2]T}", "incorrect", id="missing-relu-prime"),
    pytest.param(SM, "dJ/dz2", r"\frac{1}{N} W^{(2)T}(\psi(Z^{(3)})-\Delta) \odot \mathbb{1}[Z^{(2)}>0]", "correct",
                 id="softmax-dz2"),
    pytest.param(SM, "dJ/dz3", r"\frac{1}{N}(\psi(Z^{(3)})-\Delta)\odot\mathbb{1}[Z^{(3)}>0]", "incorrect",
                 id="relu-prime-on-softmax-output"),
]


@pytest.mark.parametrize("problem, quantity, claim, expected", KINKS)
def test_both_sides_of_every_kink(problem, quantity, claim, expected):
    v = check_claim(problem, quantity, claim)
    assert v.verdict == expected, v.feedback
    if expected == "incorrect":
        assert v.symbolic.status in ("different", "skipped"), v.symbolic


# An exact check that cannot decide a sign: by cases, or a witness, or reported as undecided
UNDECIDED = [
    pytest.param(SIG, "dL/dz2", r"(a^{[2]}-y)\mathbb{1}[z^{[2]}>0]", "different", id="witness-found"),
    pytest.param(SIG, "dL/dz2", r"(a^{[2]}-y)(\mathbb{1}[z^{[2]}>0] + \mathbb{1}[z^{[2]}<0])", "equal",
                 id="both-cases-sum-to-one"),
]


@pytest.mark.parametrize("problem, quantity, claim, status", UNDECIDED)
def test_undecided_signs_are_decided_by_cases(problem, quantity, claim, status):
    p = load_problem(problem)
    result = run_symbolic_check(p, resolve_quantity(p, quantity), parse(claim), "single", False, 20.0)
    assert result.status == status, result.detail
