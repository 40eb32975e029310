"""Minimal submissions from a blind TA review of `grade`: each once disagreed with the TA."""

from pathlib import Path

import pytest

from symderiv.grading.grade import grade_file
from symderiv.grading.results import GradeConfig

HERE = Path(__file__).parent / "fixtures" / "review"

PARTS = [
    # file, problem, quantity, verdict a TA gives, line of the answer, what it exercises
    ("r1.md", "softmax-2layer", "dJ/dz2", "correct", 3, "W^{2T}: layer and transpose in one superscript"),
    ("r3.md", "softmax-2layer", "softmax-jacobian", "correct", 3, "a^{3T} in diag(a) − a aᵀ"),
    ("r9.md", "softmax-2layer", "dJt/dW1", "correct-up-to-layout", 3, "x(...)ᵀ with W^{2T} inside"),
    ("r10.md", "softmax-2layer", "dJ/db1", "correct", 3, "indicator as a bare comparison (z^2 > 0)"),
    ("r4.md", "sigmoid-bce-1hidden", "dJ/db2", "correct", 3, "a^{[2](i)} and y^{(i)}: sample superscripts"),
    ("r5.md", "mlp-general", "delta-L", "correct", 3, "δ^L_j on the left side"),
    ("r11.md", "mlp-general", "delta-l", "correct", 3, "δ^l_j, w^{l+1}_{jk}: bare layer superscripts"),
]


@pytest.mark.parametrize("name, problem, quantity, verdict, line, what", PARTS, ids=[p[0] for p in PARTS])
def test_part(name, problem, quantity, verdict, line, what):
    report = grade_file(HERE / name, problem, GradeConfig(symbolic=False)).to_dict()
    part = next(p for p in report["parts"] if p["quantity"] == quantity)
    assert (part["verdict"], part["line"]) == (verdict, line), f"{what}: {part['feedback']}"


STEPS = [
    # file, problem, lines a TA flags as wrong steps, what it exercises
    ("r2.md", "softmax-2layer", [], "(∂a/∂z)ᵀ(−Δ/a) is working with the softmax Jacobian, not a wrong step"),
    ("r8.md", "softmax-2layer", [3], "1/N to 2/N in a chain written with z_3, b_2 as layers"),
    ("r7.md", "mlp-general", [4, 5], "w_kj then w_jk: the wrong line and the step back are both flagged"),
]


@pytest.mark.parametrize("name, problem, lines, what", STEPS, ids=[s[0] for s in STEPS])
def test_flagged_steps(name, problem, lines, what):
    report = grade_file(HERE / name, problem, GradeConfig(symbolic=False)).to_dict()
    assert sorted({s["line"] for s in report["steps"] if not s["ok"]}) == lines, what
