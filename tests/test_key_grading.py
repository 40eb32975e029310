"""The key's grading fields (issue 23 items 4-5): per-part points, a quantity's display name, the
scaling to an assignment's total; bad values a one-line error naming the file, line and field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from symderiv.answerkey.problem import available_keys, load_problem, load_problem_file
from symderiv.core.errors import DerivationFileError
from symderiv.grading.grade import grade_text
from symderiv.grading.names import part_names, quantity_name
from symderiv.grading.results import GradeConfig

ROOT = Path(__file__).resolve().parents[1]
KEY = (ROOT / "derivations" / "softmax-2layer.toml").read_text(encoding="utf-8")
BOB = (ROOT / "examples" / "softmax-bob.md").read_text(encoding="utf-8")
FAST = GradeConfig(symbolic=False)


def key(tmp_path: Path, grading: str = "", name: str = "") -> Path:
    text = KEY.replace("[grading]\n", f"[grading]\n{grading}\n", 1)
    if name:
        text = text.replace('id = "dJt/dW2"\n', f'id = "dJt/dW2"\nname = {name}\n', 1)
    path = tmp_path / "k.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "grading, total, score, maximum",
    [
        ("", None, 2.0, 5.0),
        ("", 20.0, 8.0, 20.0),
        ('points = { "dJ/dz3" = 2, "dJt/dW2" = 3 }', None, 3.0, 8.0),  # dJ/dz3 right (2), dJ/db2 right (1)
        ('points = { "dJ/dz3" = 2, "dJt/dW2" = 3 }', 16.0, 6.0, 16.0),
        ('points = { "dJ/db2" = 0.5 }', 9.0, 3.0, 9.0),
    ],
    ids=["equal", "scaled", "weighted", "weighted-scaled", "fractional"],
)
def test_points_per_part_and_the_total(tmp_path, grading, total, score, maximum):
    problem = load_problem_file(key(tmp_path, grading))
    report = grade_text(BOB, problem, config=GradeConfig(symbolic=False, total=total))
    assert (report.score, report.max_score) == (pytest.approx(score), pytest.approx(maximum))
    assert sum(p.max_points for p in report.parts) == pytest.approx(maximum)
    assert all(p.max_points == 0 for p in report.parts if p.quantity not in problem.parts)


@pytest.mark.parametrize(
    "grading, message",
    [
        ('points = { "dJ/dz2" = 2 }', "'dJ/dz2' is not a scored part"),
        ('points = { "nope" = 2 }', "'nope' is not a scored part"),
        ('points = { "dJ/dz3" = 0 }', "above 0 and at most 1e6"),
        ('points = { "dJ/dz3" = -1 }', "above 0 and at most 1e6"),
        ('points = { "dJ/dz3" = inf }', "above 0 and at most 1e6"),
        ('points = { "dJ/dz3" = nan }', "above 0 and at most 1e6"),
        ('points = { "dJ/dz3" = "two" }', "grading.points"),
        ("hide_feedback = 1", "grading.hide_feedback"),
        ("pointz = {}", "grading.pointz: unknown field"),
    ],
    ids=["optional-part", "no-such-part", "zero", "negative", "inf", "nan", "string", "bool", "misspelt"],
)
def test_bad_grading_fields_are_one_line_errors(tmp_path, grading, message):
    path = key(tmp_path, grading)
    with pytest.raises(DerivationFileError, match=re.escape(message)) as info:
        load_problem_file(path)
    assert str(info.value).startswith(f"{path}:") and "\n" not in str(info.value)


def test_a_display_name_from_the_key_or_from_of_and_wrt(tmp_path):
    problem = load_problem_file(key(tmp_path, name=r"'\nabla_{W^{(2)}} \tilde J'"))
    assert quantity_name(problem, "dJt/dW2") == "∇_(W⁽²⁾) J̃"
    report = grade_text(BOB, problem, config=FAST)
    assert next(p for p in report.parts if p.quantity == "dJt/dW2").name == quantity_name(problem, "dJt/dW2")
    assert quantity_name(load_problem("softmax-2layer"), "dJt/dW2") == "∂J̃/∂W⁽²⁾"


@pytest.mark.parametrize("problem", sorted(p.id for p, _ in available_keys()))
def test_every_shipped_quantity_has_a_name_without_internals(problem):
    names = part_names(load_problem(problem))
    for qid, name in names.items():
        assert name and "\\" not in name and name != qid, (qid, name)
