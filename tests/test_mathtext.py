"""Formulas in feedback, rendered where they are shown: Unicode text (terminal, Markdown), MathML (HTML)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symderiv.judging.check import check_claim
from symderiv.notation.mathtext import MATH, TEXT, feedback_unicode, split_math
from symderiv.notation.unicode import to_unicode
from symderiv.output.html import feedback_html


@pytest.mark.parametrize(
    "latex, text",
    [
        (r"\frac{1}{N}\left(\psi\left(Z^{(3)}\right) - \Delta\right) A^{(2)\top}", "(1/N)(ψ(Z⁽³⁾) − Δ) A⁽²⁾ᵀ"),
        (r"w_{jk}^{(l + 1)}", "wⱼₖ⁽ˡ⁺¹⁾"),
        (r"\frac{\partial \tilde J}{\partial W^{(2)}}", "∂J̃/∂W⁽²⁾"),
        (r"\mathbb{1}\left[Z^{(2)} > 0\right]", "𝟙[Z⁽²⁾ > 0]"),
        (r"2 \lambda W^{(2)\top}", "2 λW⁽²⁾ᵀ"),  # a space after \lambda only ends the control word
        (r"\mathbf{1}_N", "𝟏_N"),
        (r"a^{[2]}", "a^[2]"),
        (r"\|W\|_F^2", "‖W‖_F²"),
        (r"\sum_{i} a_i w_{ij}", "Σᵢ aᵢ wᵢⱼ"),
        (r"\begin{cases} a_i(1-a_i) & i=j \\ -a_i a_j & i\neq j \end{cases}", "{ aᵢ(1−aᵢ) if i=j; −aᵢ aⱼ if i≠ j }"),
        (r"\hat{y} - y", "ŷ − y"),
        (r"g'_{L - 1}(z)", "g′_(L − 1)(z)"),
        (r"\frac{1}{", "(1/())"),
    ],
    ids=[
        "product",
        "scripts",
        "derivative",
        "indicator",
        "lambda",
        "ones",
        "brackets",
        "norm",
        "sum",
        "cases",
        "hat",
        "long-subscript",
        "broken",
    ],
)
def test_to_unicode(latex, text):
    assert to_unicode(latex) == text


FEEDBACK = [
    (
        r"Right up to layout (samples as columns): reorder the product as W^{(2)\top} \left(\psi\left(Z^{(3)}\right) - \Delta\right).",
        "Right up to layout (samples as columns): reorder the product as W⁽²⁾ᵀ (ψ(Z⁽³⁾) − Δ).",
    ),
    (
        r"Wrong layer: A^{(1)} should be A^{(2)} (with that change the claim is right).",
        "Wrong layer: A⁽¹⁾ should be A⁽²⁾ (with that change the claim is right).",
    ),
    (
        r"Right up to layout (samples as columns): transpose \psi\left(Z^{(3)}\right) - \Delta; transpose the whole result.",
        "Right up to layout (samples as columns): transpose ψ(Z⁽³⁾) − Δ; transpose the whole result.",
    ),
    (
        r"The weight's indices are swapped: w_{kj}^{(l + 1)} should be w_{jk}^{(l + 1)} (z_j = Σ_i a_i w_ij: the first index is the unit below).",
        "The weight's indices are swapped: wₖⱼ⁽ˡ⁺¹⁾ should be wⱼₖ⁽ˡ⁺¹⁾ (zⱼ = Σᵢ aᵢ wᵢⱼ: the first index is the unit below).",
    ),
    (
        "This holds only for i = j; the answer must cover both cases (e.g. with a Kronecker δ_ij).",
        "This holds only for i = j; the answer must cover both cases (e.g. with a Kronecker δᵢⱼ).",
    ),
    (
        r"The claim cannot be read: unknown or unsupported command '\fra'.",
        r"The claim cannot be read: unknown or unsupported command '\fra'.",
    ),  # quoted: what the student wrote
    ("Correct (samples as columns).", "Correct (samples as columns)."),
]


@pytest.mark.parametrize("feedback, text", FEEDBACK, ids=[f"msg{i}" for i in range(len(FEEDBACK))])
def test_feedback_unicode(feedback, text):
    assert feedback_unicode(feedback) == text


@pytest.mark.parametrize("feedback, text", FEEDBACK[:4], ids=[f"msg{i}" for i in range(4)])
def test_feedback_html_renders_math_and_escapes_prose(feedback, text):
    html = feedback_html(feedback)
    assert "<math" in html and "\\" not in html.replace("</", "")
    assert html.startswith(feedback.split(":")[0])


@pytest.mark.parametrize(
    "problem, quantity, claim",
    [
        ("softmax-2layer", "dJt/dW2", r"\frac{1}{N}(\psi(z^{(3)})-\Delta)a^{(2)} + 2\lambda W^{(2)}"),
        ("softmax-2layer", "dJt/dW2", r"\frac{1}{N}(\psi(Z^{(3)})-\Delta)A^{(1)T} + 2\lambda W^{(2)}"),
        (
            "softmax-2layer",
            "dJt/dW1",
            r"\frac{1}{N} X^T (\psi(Z^{(3)}) - \Delta) W^{(2)} \odot 1[Z^{(2)}>0] + 2\lambda W^{(1)}",
        ),
        ("mlp-general", "delta-l", r"g'_l(z_j^{(l)}) \sum_k w_{kj}^{(l+1)} \delta_k^{(l+1)}"),
    ],
    ids=["transpose", "wrong-layer", "rows-layout", "mlp"],
)
def test_real_feedback_has_no_latex_source_left(problem, quantity, claim):
    v = check_claim(problem, quantity, claim, symbolic=False)
    text = feedback_unicode(v.feedback)
    assert not re.search(r"\\[A-Za-z]|[_^]\{", text), text
    assert "<math" in feedback_html(v.feedback) or "\\" not in v.feedback


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            list("ab _^{}()[]\\,.;:'-+ =") + ["\\frac", "\\left(", "\\right)", "\\psi", "W^{(2)}", " the "]
        ),
        max_size=30,
    ).map("".join)
)
def test_any_feedback_splits_back_into_itself_and_renders(text):
    pieces = split_math(text)
    assert "".join(p for _, p in pieces) == text
    assert {k for k, _ in pieces} <= {MATH, TEXT}
    feedback_unicode(text)
    feedback_html(text)
