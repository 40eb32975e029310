"""Issue 11: sound verdicts. Every claim quoted in the issue, reproduced as a table row."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symderiv import check_claim
from symderiv.answerkey.problem import load_problem
from symderiv.grading.grade import grade_text
from symderiv.judging.check import resolve_quantity
from symderiv.judging.exact import run_symbolic_check
from symderiv.notation.parse import parse
from symderiv.notation.rewrites import rewrite

SIG, SM, MLP = "sigmoid-bce-1hidden", "softmax-2layer", "mlp-general"

# ---- points that see every discontinuity --------------------------------------------------
# (problem, quantity, claim, verdict): a kink on a scalar pre-activation must be seen from both sides
KINKS = [
    pytest.param(SIG, "dL/dz2", r"(a^{[2]}-y)\mathbb{1}[z^{[2]}>0]", "incorrect", id="relu-prime-on-sigmoid-output"),
    pytest.param(SIG, "dL/dw2", r"(a^{[2]}-y)\mathbb{1}[z^{[2]}>0] a^{[1]T}", "incorrect", id="same-in-dL/dw2"),
    pytest.param(
        SIG, "dL/da1", r"(a^{[2]}-y) w^{[2]T} \odot \mathbb{1}\{z^{[2]} > 0\}", "incorrect", id="same-in-dL/da1"
    ),
    pytest.param(
        SIG,
        "dL/dz1",
        r"(a^{[2]}-y) w^{[2]T} \odot \mathbb{1}\{z^{[1]} > 0\} \odot \mathbb{1}\{z^{[2]}>0\}",
        "incorrect",
        id="extra-indicator-in-dL/dz1",
    ),
    pytest.param(SIG, "dL/db2", r"(a^{[2]}-y)\mathbb{1}[z^{[2]}<0]", "incorrect", id="reversed-on-output"),
    pytest.param(
        SIG,
        "dJ/dw2",
        r"\frac{1}{N}((A^{[2]}-Y)\odot\mathbb{1}[Z^{[2]}>0]) A^{[1]T}",
        "incorrect",
        id="batch-relu-prime-on-output",
    ),
    pytest.param(SIG, "dL/dz2", r"(a^{[2]}-y)\mathbb{1}[a^{[2]}>0]", "correct", id="always-one-indicator"),
    pytest.param(
        SIG, "dL/dz1", r"(a^{[2]}-y) w^{[2]T} \odot \mathbb{1}\{a^{[1]} > 0\}", "correct", id="indicator-on-relu-output"
    ),
    pytest.param(SIG, "dL/dz1", r"(a^{[2]}-y) w^{[2]T}", "incorrect", id="missing-relu-prime"),
    pytest.param(
        SM,
        "dJ/dz2",
        r"\frac{1}{N} W^{(2)T}(\psi(Z^{(3)})-\Delta) \odot \mathbb{1}[Z^{(2)}>0]",
        "correct",
        id="softmax-dz2",
    ),
    pytest.param(
        SM,
        "dJ/dz3",
        r"\frac{1}{N}(\psi(Z^{(3)})-\Delta)\odot\mathbb{1}[Z^{(3)}>0]",
        "incorrect",
        id="relu-prime-on-softmax-output",
    ),
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
    pytest.param(
        SIG,
        "dL/dz2",
        r"(a^{[2]}-y)(\mathbb{1}[z^{[2]}>0] + \mathbb{1}[z^{[2]}<0])",
        "equal",
        id="both-cases-sum-to-one",
    ),
]


@pytest.mark.parametrize("problem, quantity, claim, status", UNDECIDED)
def test_undecided_signs_are_decided_by_cases(problem, quantity, claim, status):
    p = load_problem(problem)
    result = run_symbolic_check(p, resolve_quantity(p, quantity), parse(claim), "single", False, 20.0)
    assert result.status == status, result.detail


# ---- the notation the issue lists, read right ----------------------------------------------
NOTATION = [
    pytest.param(
        SM,
        "dJ/da2",
        r"\frac{1}{N}\sum_{c=1}^{C} W^{(2)}_{cj}(\psi(Z^{(3)})_{cn} - \Delta_{cn})",
        "correct",
        id="size-name-C-as-sum-bound",
    ),
    pytest.param(
        SM,
        "dJ/db1",
        r"\frac{1}{N}\sum_{n=1}^{N}\sum_{c=1}^{C} W^{(2)}_{cj}(\psi(Z^{(3)})_{cn} - \Delta_{cn})"
        r"\mathbb{1}[Z^{(2)}_{jn}>0]",
        "correct",
        id="size-names-nested-sums",
    ),
    pytest.param(
        SM,
        "dJ/db1",
        r"\frac{1}{N}\sum_{n=1}^{N}\sum_{c=1}^{H} W^{(2)}_{cj}(\psi(Z^{(3)})_{cn} - \Delta_{cn})"
        r"\mathbb{1}[Z^{(2)}_{jn}>0]",
        "incorrect",
        id="wrong-size-name-as-bound",
    ),
    pytest.param(
        SM, "dJ/dz3", r"\frac{1}{N}(\psi(Z^{(3)})_{ki} - \mathbb{1}[y_i = k])", "correct", id="label-indicator"
    ),
    pytest.param(
        SM,
        "dJ/dW2",
        r"\frac{1}{N}\sum_{i=1}^{N}(\psi(Z^{(3)})_{ki} - \mathbb{1}[k = y_i]) A^{(2)}_{ji}",
        "correct",
        id="label-indicator-reversed-sides",
    ),
    pytest.param(
        SM,
        "dJ/dz3",
        r"\frac{1}{N}(\psi(Z^{(3)})_{ki} - \mathbb{1}[y_i \neq k])",
        "incorrect",
        id="label-indicator-negated",
    ),
    pytest.param(
        SM,
        "dJ/db2",
        r"\frac{1}{N}\sum_{i=1}^{N}(\psi(z^{(3)}_i) - \mathbf{e}_{y_i})",
        "correct",
        id="basis-vector-of-label",
    ),
    pytest.param(
        SM,
        "dJ/dW2",
        r"\frac{1}{N}\sum_{i=1}^{N}(\psi(z^{(3)}_i) - \mathbf{e}_{y_i}) a^{(2)T}_i",
        "correct",
        id="basis-vector-outer-product",
    ),
    pytest.param(
        SM,
        "dJ/db2",
        r"\frac{1}{N}\sum_{i=1}^{N}(\mathbf{e}_{y_i} - \psi(z^{(3)}_i))",
        "incorrect",
        id="basis-vector-sign",
    ),
    pytest.param(
        SIG,
        "dJ/dw2",
        r"\frac{1}{N}\sum_{i=1}^{N}(a^{[2](i)}-y^{(i)}) a^{[1](i)T}",
        "correct",
        id="ng-style-sample-and-transpose",
    ),
    pytest.param(
        SM, "dJ/db2", r"\frac{1}{N}\sum_{i=1}^{N}(\psi(Z^{(3)}) - \Delta)_i", "correct", id="column-of-bracketed-matrix"
    ),
    pytest.param(
        SM,
        "dJ/db2",
        r"\frac{1}{N}\sum_{i=1}^{N}(\Delta - \psi(Z^{(3)}))_i",
        "incorrect",
        id="column-of-bracketed-matrix-sign",
    ),
    pytest.param(
        SM,
        "dJ/dW2",
        r"\frac{1}{N}\sum_{i=1}^{N}(\psi(Z^{(3)}) - \Delta)_i a^{(2)T}_i",
        "correct",
        id="column-of-bracketed-matrix-outer",
    ),
    pytest.param(SM, "softmax-jacobian", r"a_k(\delta_{kl} - a_l)", "correct", id="kronecker-other-letters"),
    pytest.param(SM, "softmax-jacobian", r"\psi_m(\delta_{mn} - \psi_n)", "correct", id="kronecker-m-n"),
    pytest.param(SM, "softmax-jacobian", r"a_k(\delta_{kl} - a_k)", "incorrect", id="kronecker-other-letters-wrong"),
    pytest.param(SIG, "da2/dz2", r"\sigma(z^{[2]}) - \sigma^2(z^{[2]})", "correct", id="sigma-squared"),
    pytest.param(SIG, "da2/dz2", r"\sigma - \sigma^2", "correct", id="bare-sigma-squared"),
    pytest.param(SIG, "da2/dz2", r"\sigma^{2}(z^{[2]})", "incorrect", id="sigma-squared-alone"),
    pytest.param(
        SM,
        "dJ/dz3",
        r"\frac{1}{N}(\psi(Z^{(3)}) - \Delta)\odot(1-\tanh^2(Z^{(3)}))",
        "incorrect",
        id="tanh-squared-read-as-a-power",
    ),
    pytest.param(
        SM,
        "dJ/dz2",
        r"\frac{1}{N}\sum_i W^{(2)}_{ik}(\psi(Z^{(3)}) - \Delta)_{in} \mathbb{1}[Z^{(2)}_{kn} > 0]",
        "correct",
        id="entrywise-dz-kn",
    ),
    pytest.param(
        SM,
        "dJ/dz2",
        r"\frac{1}{N}\sum_i W^{(2)}_{ik}(\psi(Z^{(3)}) - \Delta)_{in}",
        "incorrect",
        id="entrywise-dz-kn-missing-relu-prime",
    ),
    pytest.param(
        SIG, "dL/dz1", r"(a^{[2]} - y) w^{[2]T} \odot \mathbb{1}\{\max(z^{[1]}, 0) > 0\}", "correct", id="max-z-0"
    ),
    pytest.param(
        SM,
        "dJ/dW2",
        r"\frac{1}{N}(\psi(W^{(2)}\max(0, Z^{(2)}) + b^{(2)}) - \Delta)\max(Z^{(2)},0)^T",
        "correct",
        id="max-as-relu",
    ),
    pytest.param(SM, "dJ/dW2", r"\frac{1}{N}(\psi(Z^{(3)}) - \Delta)\max(Z^{(2)},1)^T", "incorrect", id="max-z-1"),
    pytest.param(
        SM,
        "dJ/dz2",
        r"\frac{1}{N}\sum_i W^{(2)}_{ik}(\psi(Z^{(3)}) - \Delta)_{in}",
        "incorrect",
        id="transposed-everywhere-not-only-at-first-point",
    ),
    pytest.param(
        SM,
        "dJ/dW2",
        r"\frac{1}{N}\sum_{i=1}^{N}(\psi(z^{(3)}_i)-\Delta_i) a^{(2)}_i",
        "correct-up-to-layout",
        id="missing-transpose-inside-a-sum",
    ),
    pytest.param(
        SM,
        "dJ/dW2",
        r"\frac{1}{N}(\psi(Z^{(3)})-\Delta) A^{(2)}",
        "correct-up-to-layout",
        id="missing-transpose-without-the-sum",
    ),
    pytest.param(
        SM,
        "dJ/dW1",
        r"\frac{1}{N}\sum_{i=1}^{N} (W^{(2)T}(\psi(z^{(3)}_i)-\Delta_i) \odot "
        r"\mathbb{1}[z^{(2)}_i>0]) x_i",
        "correct-up-to-layout",
        id="missing-transpose-inside-a-sum-W1",
    ),
    pytest.param(
        SM,
        "dJ/dW2",
        r"\frac{1}{N}\sum_{i=1}^{N}(\psi(z^{(3)}_i)-\Delta_i) a^{(1)}_i",
        "incorrect",
        id="wrong-layer-inside-a-sum",
    ),
]


@pytest.mark.parametrize("problem, quantity, claim, expected", NOTATION)
def test_notation_read_right(problem, quantity, claim, expected):
    v = check_claim(problem, quantity, claim)
    assert v.verdict == expected, v.feedback


# the summation convention: a repeated index bound by no Σ is summed, and the feedback says so
CONVENTION = [
    pytest.param(MLP, "delta-l", r"w^{(l+1)}_{jk} \delta^{(l+1)}_k g_l'(z^{(l)}_j)", "correct", "k", id="delta-l"),
    pytest.param(
        SM,
        "dJ/dz2",
        r"\frac{1}{N}W^{(2)}_{ik}(\psi(Z^{(3)}) - \Delta)_{in} \mathbb{1}[Z^{(2)}_{kn} > 0]",
        "correct",
        "i",
        id="entrywise-dz2",
    ),
    pytest.param(
        MLP,
        "delta-l",
        r"w^{(l+1)}_{kj} \delta^{(l+1)}_k g_l'(z^{(l)}_j)",
        "incorrect",
        "k",
        id="swapped-weight-indices",
    ),
]


@pytest.mark.parametrize("problem, quantity, claim, expected, index", CONVENTION)
def test_summation_convention_is_said(problem, quantity, claim, expected, index):
    v = check_claim(problem, quantity, claim, symbolic=False)
    assert v.verdict == expected, v.feedback
    assert f"summation convention: the repeated index {index} is summed" in v.feedback


# ---- in a submission: a named delta with its answer, a symbol defined in the prose ------------
GRADED = [
    pytest.param(
        SM,
        r"$$\delta^{(3)} = \frac{\partial J}{\partial z^{(3)}} = \frac{1}{N}(\psi(Z^{(3)}) - \Delta)$$",
        "dJ/dz3",
        "correct",
        id="named-delta-then-answer",
    ),
    pytest.param(
        SM,
        r"$$\delta^{(3)} = \frac{\partial J}{\partial z^{(3)}} = \frac{1}{N}(\Delta - \psi(Z^{(3)}))$$",
        "dJ/dz3",
        "incorrect",
        id="named-delta-then-wrong-answer",
    ),
    pytest.param(
        SIG,
        r"$$\delta^{[2]} = \frac{\partial L}{\partial z^{[2]}} = a^{[2]} - y$$",
        "dL/dz2",
        "correct",
        id="named-delta-sigmoid",
    ),
    pytest.param(
        SM,
        "Let $G = \\partial J/\\partial Z^{(3)}$. Then\n"
        r"$$\frac{\partial \tilde J}{\partial W^{(2)}_{ik}} = \sum_n G_{in} A^{(2)}_{kn} + 2\lambda W^{(2)}_{ik}$$",
        "dJt/dW2",
        "correct",
        id="prose-defined-G",
    ),
    pytest.param(
        SM,
        "Let $G = \\partial J/\\partial Z^{(3)}$. Then\n"
        r"$$\frac{\partial \tilde J}{\partial W^{(2)}_{ik}} = \sum_n G_{in} A^{(2)}_{kn}$$",
        "dJt/dW2",
        "incorrect",
        id="prose-defined-G-missing-regulariser",
    ),
    pytest.param(
        SM,
        "Write $E = \\psi(Z^{(3)}) - \\Delta$.\n"
        r"$$\frac{\partial J}{\partial b^{(2)}} = \frac{1}{N}\sum_{i=1}^N E_i$$",
        "dJ/db2",
        "correct",
        id="defined-E-column",
    ),
]


@pytest.mark.parametrize("problem, text, quantity, expected", GRADED)
def test_graded_definitions(problem, text, quantity, expected):
    report = grade_text(text, problem)
    part = {p.quantity: p for p in report.parts}[quantity]
    assert part.verdict == expected, part.feedback
    if expected == "incorrect":
        assert "not defined" not in part.feedback


# ---- a matrix one row at a time (CS231n's SVM), and a claim that cannot be evaluated as written ----
SVM_ROW = (
    r"\frac{\partial J}{\partial w_j} = \frac{1}{N}\sum_{i=1}^N \left(\mathbb{1}[j \neq y_i]"
    r"\mathbb{1}[s_{ji}-s_{y_i i}+1>0] - \mathbb{1}[j = y_i]\sum_{k\neq y_i}\mathbb{1}[s_{ki}-s_{y_i i}+1>0]\right) "
)
UNBOUND = [
    # w_j, the j-th row of W: j bound to each row in turn, s_{y_i i} the correct class's score
    pytest.param("svm-hinge", f"$${SVM_ROW} x_i$$", "dJ/dW", "correct", id="svm-row-by-row"),
    pytest.param("svm-hinge", f"$${SVM_ROW} x_i^T$$", "dJ/dW", "correct", id="svm-row-by-row-as-a-row"),
    pytest.param(  # the correct class's term left out
        "svm-hinge",
        r"$$\frac{\partial J}{\partial w_j} = \frac{1}{N}\sum_{i=1}^N \mathbb{1}[j \neq y_i]\mathbb{1}[s_{ji}-s_{y_i i}+1>0] x_i$$",
        "dJ/dW",
        "incorrect",
        id="svm-row-missing-correct-class-term",
    ),
    pytest.param(  # j only in the indicator is still the row's index
        "svm-hinge",
        r"$$\frac{\partial J}{\partial w_j} = \frac{1}{N}\sum_{i=1}^N \mathbb{1}[j = y_i] x_i$$",
        "dJ/dW",
        "incorrect",
        id="svm-row-index-only-in-indicator",
    ),
    # a Σ whose range nothing tells: not evaluable as written, so a TA decides (it may be right)
    pytest.param(
        "batchnorm",
        r"$$\frac{\partial L}{\partial \gamma} = \sum_i (G\odot \hat X)_{i}$$",
        "dL/dgamma",
        "undecided",
        id="sum-range-unknown",
    ),
]


@pytest.mark.parametrize("problem, text, quantity, expected", UNBOUND)
def test_rows_at_a_time_and_unbound_indices(problem, text, quantity, expected):
    part = {p.quantity: p for p in grade_text(text, problem).parts}[quantity]
    assert part.verdict == expected, part.feedback
    if expected == "undecided":
        assert part.review and "flagged for review" in part.feedback


# ---- named mistakes, verified: the fix named makes the claim right ---------------------------
DZ2 = r"W^{(2)T}(\psi(Z^{(3)}) - \Delta)"
NAMED = [
    pytest.param(
        SM,
        "dJ/dz3",
        r"\frac{1}{N}(\psi(Z^{(3)}) - \Delta)\odot\psi(Z^{(3)})\odot(1-\psi(Z^{(3)}))",
        "extra-activation-derivative",
        r"\psi",
        id="extra-psi-1-psi",
    ),
    pytest.param(
        SM,
        "dJ/da2",
        r"\frac{1}{N}" + DZ2 + r"\odot 1[Z^{(2)}>0]",
        "extra-activation-derivative",
        r"Z^{(2)} > 0",
        id="extra-relu-prime",
    ),
    pytest.param(
        SIG,
        "dL/da1",
        r"(a^{[2]}-y) w^{[2]T} \odot \mathbb{1}\{z^{[2]} > 0\}",
        "extra-activation-derivative",
        r"z^{[2]} > 0",
        id="extra-relu-prime-on-sigmoid-output",
    ),
    pytest.param(
        SM,
        "dJ/dz2",
        r"\frac{1}{N}" + DZ2 + r"\odot a^{(2)}",
        "activation-for-derivative",
        r"z^{(2)} > 0",
        id="activation-for-derivative",
    ),
    pytest.param(
        SM,
        "dJ/dz2",
        r"\frac{1}{N}" + DZ2 + r"\odot\sigma'(z^{(2)})",
        "wrong-activation-derivative",
        "relu",
        id="sigmoid-prime-on-relu-layer",
    ),
    pytest.param(
        SIG,
        "dL/dz1",
        r"(a^{[2]}-y)w^{[2]T}\odot a^{[1]}(1-a^{[1]})",
        "wrong-activation-derivative",
        "relu",
        id="a-1-a-on-relu-layer",
    ),
    pytest.param(
        MLP,
        "delta-l",
        r"\sum_k w^{(l+1)}_{jk}\delta^{(l+1)}_k",
        "missing-activation-derivative",
        r"g'_{l}",
        id="which-derivative-is-missing",
    ),
    pytest.param(
        SM,
        "dJt/dW2",
        r"\frac{1}{N}\left((\psi(z^{(3)})-\Delta)a^{(2)T}+2\lambda W^{(2)}\right)",
        "regularisation-inside-bracket",
        "inside the bracket",
        id="regulariser-inside-bracket",
    ),
    pytest.param(
        SM,
        "dJt/dW2",
        r"\frac{1}{N}(\psi(Z^{(3)})-\Delta)A^{(2)T} + \frac{\lambda}{N} W^{(2)}",
        "regularisation-over-N",
        "divided by N",
        id="lambda-over-N",
    ),
    pytest.param(
        SM,
        "dJ/dW2",
        r"\frac{1}{N}(\psi(Z^{(3)})-\Delta)Z^{(2)T}",
        "pre-activation-for-activation",
        "A^{(2)}",
        id="Z2-for-A2",
    ),
    pytest.param(
        SM,
        "dJ/dW1",
        r"\frac{1}{N}(" + DZ2 + r"\odot\mathbb{1}[W^{(1)}X>0])X^T",
        "bias-missing-in-indicator",
        "bias",
        id="bias-missing-in-indicator",
    ),
    pytest.param(
        SM,
        "dJ/dW1",
        r"\frac{1}{N}(" + DZ2 + r"\odot\mathbb{1}[Z^{(2)}<0])X^T",
        "reversed-indicator",
        "reversed",
        id="reversed-indicator",
    ),
    pytest.param(
        SM, "dJ/dz3", r"\frac{1}{N}\psi(z^{(3)})-\Delta", "1/N-on-one-term", "whole bracket", id="1/N-on-one-term"
    ),
    pytest.param(SM, "softmax-jacobian", r"a_i(\delta_{ij}+a_j)", "sign-of-term", "sign", id="sign-of-one-term"),
    pytest.param(
        SM,
        "softmax-jacobian",
        r"a_i^{(3)}(\Delta_{ij}-a_j^{(3)})",
        "labels-for-kronecker",
        r"\delta_{ij}",
        id="Delta-for-kronecker",
    ),
    pytest.param(SIG, "dL/dw2", r"(a^{[2]}-y)x^T", "input-for-activation", "a^{[1]}", id="x-for-a1"),
    pytest.param(
        SM,
        "dJ/db1",
        r"\frac{1}{N}\mathbf{1}^T(\psi(Z^{(3)})-\Delta)",
        "other-quantity",
        "dJ/db2",
        id="another-quantity",
    ),
    pytest.param(
        SIG,
        "dL/dW1",
        r"((a^{[2]}-y)w^{[1]T}\odot 1[z^{[1]}>0])x^T",
        "wrong-layer",
        "w^{[2]}",
        id="layers-in-the-problems-brackets",
    ),
    pytest.param(
        SM,
        "dJ/dW2",
        r"\frac{1}{N}\sum_{i=1}^{N}(\psi(z^{(3)}_i)-\Delta_i) a^{(1)}_i",
        "wrong-layer",
        "a_{i}^{(2)}",
        id="wrong-layer-up-to-layout",
    ),
    pytest.param(SIG, "dL/dz1", r"(a^{[2]}-y)\,1[z^{[1]}>0]", "missing-factor", "w^{[2]", id="missing-weight"),
    pytest.param(
        SM,
        "dJ/dz2",
        r"\frac{1}{N}(\psi(Z^{(3)})-\Delta)\odot\mathbb{1}[Z^{(2)}>0]",
        "missing-factor",
        "W^{(2)",
        id="missing-weight-matrix",
    ),
]


@pytest.mark.parametrize("problem, quantity, claim, code, words", NAMED)
def test_named_mistakes_are_verified(problem, quantity, claim, code, words):
    v = check_claim(problem, quantity, claim, symbolic=False)
    assert v.verdict == "incorrect"
    assert v.diagnosis == code, v.feedback
    assert words in v.feedback


SIZES = [
    pytest.param(
        SM, "dJ/da2", r"\frac{1}{N}(\psi(Z^{(3)}) - \Delta) X", "C×N matrix times a D×N", id="product-of-wrong-sizes"
    ),
    pytest.param(
        SM, "dJ/dz3", r"\frac{1}{N} W^{(2)T} (\psi(Z^{(3)}) - \Delta) + W^{(2)}", "H×N + C×H", id="size-mismatch"
    ),
    # a term of another size that the answer has without it is named as such, with the term written out
    pytest.param(
        SM,
        "dJ/dz3",
        r"\frac{1}{N}(\psi(Z^{(3)}) - \Delta) + 2\lambda W^{(2)}",
        r"The term 2\lambda W^{(2)} does not belong",
        id="extra-term-of-another-size",
    ),
]


@pytest.mark.parametrize("problem, quantity, claim, words", SIZES)
def test_sizes_in_the_problems_symbols(problem, quantity, claim, words):
    v = check_claim(problem, quantity, claim, symbolic=False)
    assert v.verdict == "incorrect"
    assert words in v.feedback and not any(f"{a}x{b}" in v.feedback for a in range(1, 10) for b in range(1, 10))


def test_shortest_layout_fix_under_the_rows_reading():
    v = check_claim(
        SM,
        "dJt/dW1",
        r"\frac{1}{N}X^T\left((\psi(Z^{(3)})-\Delta)W^{(2)}\odot\mathbb{1}[Z^{(2)}>0]\right)"
        r" + 2\lambda W^{(1)T}",
        symbolic=False,
    )
    assert v.verdict == "correct-up-to-layout"
    assert v.fixes == ("transpose the whole result",), v.feedback


# ---- adversarial claims written by a careful TA (labels and reasons in the file) --------------
ADVERSARIAL = [
    json.loads(line)
    for line in (Path(__file__).parent / "data" / "ta_adversarial.jsonl").read_text(encoding="utf-8").splitlines()
    if line.strip()
]


@pytest.mark.parametrize("row", ADVERSARIAL, ids=[f"{i}-{r['quantity']}" for i, r in enumerate(ADVERSARIAL, start=1)])
def test_adversarial_claims(row):
    v = check_claim(row["problem"], row["quantity"], row["claim"], symbolic=False)
    assert v.verdict == row["label"], f"{row['why']} | {v.feedback}"
    if row["label"] == "incorrect":
        assert v.diagnosis is not None, f"{row['why']} | {v.feedback}"


# ---- the text rewrites read input: they never fail, and leave text without their patterns alone --
@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="\\tanhsigmaexp^{}()[]T'2 xzia_", max_size=60))
def test_rewrites_never_fail(text):
    out = rewrite(text)
    assert isinstance(out, str)
    if "^" not in text:
        assert out == text


@pytest.mark.parametrize(
    "text, expected",
    [
        (r"\tanh^2(z)", r"\left(\tanh(z)\right)^{2}"),
        (r"\sigma^{2}\left(z\right)", r"\left(\sigma(z)\right)^{2}"),
        (r"\tanh^2(z", r"\tanh^2(z"),
        (r"a^{[1](i)T}", r"a^{[1](i)}{}^{T}"),
    ],
)
def test_rewrites(text, expected):
    assert rewrite(text) == expected
