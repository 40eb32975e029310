"""Issue 11: sound verdicts. Every claim quoted in the issue, reproduced as a table row."""
from __future__ import annotations

import pytest

from symderiv import check_claim
from symderiv.grading.grade import grade_text
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


# ---- the notation the issue lists, read right ----------------------------------------------
NOTATION = [
    pytest.param(SM, "dJ/da2", r"\frac{1}{N}\sum_{c=1}^{C} W^{(2)}_{cj}(\psi(Z^{(3)})_{cn} - \Delta_{cn})", "correct",
                 id="size-name-C-as-sum-bound"),
    pytest.param(SM, "dJ/db1", r"\frac{1}{N}\sum_{n=1}^{N}\sum_{c=1}^{C} W^{(2)}_{cj}(\psi(Z^{(3)})_{cn} - \Delta_{cn})"
                 r"\mathbb{1}[Z^{(2)}_{jn}>0]", "correct", id="size-names-nested-sums"),
    pytest.param(SM, "dJ/db1", r"\frac{1}{N}\sum_{n=1}^{N}\sum_{c=1}^{H} W^{(2)}_{cj}(\psi(Z^{(3)})_{cn} - \Delta_{cn})"
                 r"\mathbb{1}[Z^{(2)}_{jn}>0]", "incorrect", id="wrong-size-name-as-bound"),
    pytest.param(SM, "dJ/dz3", r"\frac{1}{N}(\psi(Z^{(3)})_{ki} - \mathbb{1}[y_i = k])", "correct",
                 id="label-indicator"),
    pytest.param(SM, "dJ/dW2", r"\frac{1}{N}\sum_{i=1}^{N}(\psi(Z^{(3)})_{ki} - \mathbb{1}[k = y_i]) A^{(2)}_{ji}",
                 "correct", id="label-indicator-reversed-sides"),
    pytest.param(SM, "dJ/dz3", r"\frac{1}{N}(\psi(Z^{(3)})_{ki} - \mathbb{1}[y_i \neq k])", "incorrect",
                 id="label-indicator-negated"),
    pytest.param(SM, "dJ/db2", r"\frac{1}{N}\sum_{i=1}^{N}(\psi(z^{(3)}_i) - \mathbf{e}_{y_i})", "correct",
                 id="basis-vector-of-label"),
    pytest.param(SM, "dJ/dW2", r"\frac{1}{N}\sum_{i=1}^{N}(\psi(z^{(3)}_i) - \mathbf{e}_{y_i}) a^{(2)T}_i", "correct",
                 id="basis-vector-outer-product"),
    pytest.param(SM, "dJ/db2", r"\frac{1}{N}\sum_{i=1}^{N}(\mathbf{e}_{y_i} - \psi(z^{(3)}_i))", "incorrect",
                 id="basis-vector-sign"),
    pytest.param(SIG, "dJ/dw2", r"\frac{1}{N}\sum_{i=1}^{N}(a^{[2](i)}-y^{(i)}) a^{[1](i)T}", "correct",
                 id="ng-style-sample-and-transpose"),
    pytest.param(SM, "dJ/db2", r"\frac{1}{N}\sum_{i=1}^{N}(\psi(Z^{(3)}) - \Delta)_i", "correct",
                 id="column-of-bracketed-matrix"),
    pytest.param(SM, "dJ/db2", r"\frac{1}{N}\sum_{i=1}^{N}(\Delta - \psi(Z^{(3)}))_i", "incorrect",
                 id="column-of-bracketed-matrix-sign"),
    pytest.param(SM, "dJ/dW2", r"\frac{1}{N}\sum_{i=1}^{N}(\psi(Z^{(3)}) - \Delta)_i a^{(2)T}_i", "correct",
                 id="column-of-bracketed-matrix-outer"),
    pytest.param(SM, "softmax-jacobian", r"a_k(\delta_{kl} - a_l)", "correct", id="kronecker-other-letters"),
    pytest.param(SM, "softmax-jacobian", r"\psi_m(\delta_{mn} - \psi_n)", "correct", id="kronecker-m-n"),
    pytest.param(SM, "softmax-jacobian", r"a_k(\delta_{kl} - a_k)", "incorrect", id="kronecker-other-letters-wrong"),
    pytest.param(SIG, "da2/dz2", r"\sigma(z^{[2]}) - \sigma^2(z^{[2]})", "correct", id="sigma-squared"),
    pytest.param(SIG, "da2/dz2", r"\sigma - \sigma^2", "correct", id="bare-sigma-squared"),
    pytest.param(SIG, "da2/dz2", r"\sigma^{2}(z^{[2]})", "incorrect", id="sigma-squared-alone"),
    pytest.param(SM, "dJ/dz3", r"\frac{1}{N}(\psi(Z^{(3)}) - \Delta)\odot(1-\tanh^2(Z^{(3)}))", "incorrect",
                 id="tanh-squared-read-as-a-power"),
    pytest.param(SM, "dJ/dz2", r"\frac{1}{N}\sum_i W^{(2)}_{ik}(\psi(Z^{(3)}) - \Delta)_{in} \mathbb{1}[Z^{(2)}_{kn} > 0]",
                 "correct", id="entrywise-dz-kn"),
    pytest.param(SM, "dJ/dz2", r"\frac{1}{N}\sum_i W^{(2)}_{ik}(\psi(Z^{(3)}) - \Delta)_{in}", "incorrect",
                 id="entrywise-dz-kn-missing-relu-prime"),
    pytest.param(SIG, "dL/dz1", r"(a^{[2]} - y) w^{[2]T} \odot \mathbb{1}\{\max(z^{[1]}, 0) > 0\}", "correct",
                 id="max-z-0"),
    pytest.param(SM, "dJ/dW2", r"\frac{1}{N}(\psi(W^{(2)}\max(0, Z^{(2)}) + b^{(2)}) - \Delta)\max(Z^{(2)},0)^T",
                 "correct", id="max-as-relu"),
    pytest.param(SM, "dJ/dW2", r"\frac{1}{N}(\psi(Z^{(3)}) - \Delta)\max(Z^{(2)},1)^T", "incorrect", id="max-z-1"),
    pytest.param(SM, "dJ/dz2", r"\frac{1}{N}\sum_i W^{(2)}_{ik}(\psi(Z^{(3)}) - \Delta)_{in}", "incorrect",
                 id="transposed-everywhere-not-only-at-first-point"),
    pytest.param(SM, "dJ/dW2", r"\frac{1}{N}\sum_{i=1}^{N}(\psi(z^{(3)}_i)-\Delta_i) a^{(2)}_i", "correct-up-to-layout",
                 id="missing-transpose-inside-a-sum"),
    pytest.param(SM, "dJ/dW2", r"\frac{1}{N}(\psi(Z^{(3)})-\Delta) A^{(2)}", "correct-up-to-layout",
                 id="missing-transpose-without-the-sum"),
    pytest.param(SM, "dJ/dW1", r"\frac{1}{N}\sum_{i=1}^{N} (W^{(2)T}(\psi(z^{(3)}_i)-\Delta_i) \odot "
                 r"\mathbb{1}[z^{(2)}_i>0]) x_i", "correct-up-to-layout", id="missing-transpose-inside-a-sum-W1"),
    pytest.param(SM, "dJ/dW2", r"\frac{1}{N}\sum_{i=1}^{N}(\psi(z^{(3)}_i)-\Delta_i) a^{(1)}_i", "incorrect",
                 id="wrong-layer-inside-a-sum"),
]


@pytest.mark.parametrize("problem, quantity, claim, expected", NOTATION)
def test_notation_read_right(problem, quantity, claim, expected):
    v = check_claim(problem, quantity, claim)
    assert v.verdict == expected, v.feedback


# the summation convention: a repeated index bound by no Σ is summed, and the feedback says so
CONVENTION = [
    pytest.param(MLP, "delta-l", r"w^{(l+1)}_{jk} \delta^{(l+1)}_k g_l'(z^{(l)}_j)", "correct", "k", id="delta-l"),
    pytest.param(SM, "dJ/dz2", r"\frac{1}{N}W^{(2)}_{ik}(\psi(Z^{(3)}) - \Delta)_{in} \mathbb{1}[Z^{(2)}_{kn} > 0]",
                 "correct", "i", id="entrywise-dz2"),
    pytest.param(MLP, "delta-l", r"w^{(l+1)}_{kj} \delta^{(l+1)}_k g_l'(z^{(l)}_j)", "incorrect", "k",
                 id="swapped-weight-indices"),
]


@pytest.mark.parametrize("problem, quantity, claim, expected, index", CONVENTION)
def test_summation_convention_is_said(problem, quantity, claim, expected, index):
    v = check_claim(problem, quantity, claim, symbolic=False)
    assert v.verdict == expected, v.feedback
    assert f"summation convention: the repeated index {index} is summed" in v.feedback


# ---- in a submission: a named delta with its answer, a symbol defined in the prose ------------
GRADED = [
    pytest.param(SM, r"$$\delta^{(3)} = \frac{\partial J}{\partial z^{(3)}} = \frac{1}{N}(\psi(Z^{(3)}) - \Delta)$$",
                 "dJ/dz3", "correct", id="named-delta-then-answer"),
    pytest.param(SM, r"$$\delta^{(3)} = \frac{\partial J}{\partial z^{(3)}} = \frac{1}{N}(\Delta - \psi(Z^{(3)}))$$",
                 "dJ/dz3", "incorrect", id="named-delta-then-wrong-answer"),
    pytest.param(SIG, r"$$\delta^{[2]} = \frac{\partial L}{\partial z^{[2]}} = a^{[2]} - y$$",
                 "dL/dz2", "correct", id="named-delta-sigmoid"),
    pytest.param(SM, "Let $G = \\partial J/\\partial Z^{(3)}$. Then\n"
                 r"$$\frac{\partial \tilde J}{\partial W^{(2)}_{ik}} = \sum_n G_{in} A^{(2)}_{kn} + 2\lambda W^{(2)}_{ik}$$",
                 "dJt/dW2", "correct", id="prose-defined-G"),
    pytest.param(SM, "Let $G = \\partial J/\\partial Z^{(3)}$. Then\n"
                 r"$$\frac{\partial \tilde J}{\partial W^{(2)}_{ik}} = \sum_n G_{in} A^{(2)}_{kn}$$",
                 "dJt/dW2", "incorrect", id="prose-defined-G-missing-regulariser"),
    pytest.param(SM, "Write $E = \\psi(Z^{(3)}) - \\Delta$.\n"
                 r"$$\frac{\partial J}{\partial b^{(2)}} = \frac{1}{N}\sum_{i=1}^N E_i$$",
                 "dJ/db2", "correct", id="defined-E-column"),
]


@pytest.mark.parametrize("problem, text, quantity, expected", GRADED)
def test_graded_definitions(problem, text, quantity, expected):
    report = grade_text(text, problem)
    part = {p.quantity: p for p in report.parts}[quantity]
    assert part.verdict == expected, part.feedback
    if expected == "incorrect":
        assert "not defined" not in part.feedback
