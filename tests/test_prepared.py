"""The per-key set-up (truth/prepared.py): built once, stored on disk, the same verdicts from disk."""

from __future__ import annotations

import os

import pytest
import sympy as sp

from symderiv import check_claim
from symderiv.answerkey.problem import load_problem
from symderiv.truth import prepared
from symderiv.truth.symbolic import atoms_of, is_zero

x, y, z = sp.symbols("x y z", real=True)
E = sp.exp(x + y)


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMDERIV_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("SYMDERIV_CACHE", "1")
    prepared.forget()
    yield tmp_path
    prepared.forget()


def test_prepare_writes_the_key_once_and_loads_it_back(cache_dir):
    problem = load_problem("sigmoid-bce-1hidden")
    first = prepared.prepare(problem)
    assert first.source == "built" and first.setups > 0
    assert os.path.exists(first.path) and first.path.startswith(str(cache_dir))
    prepared.forget()
    again = prepared.prepare(problem)
    assert (again.source, again.setups) == ("disk", first.setups)


@pytest.mark.parametrize(
    "claim, expected",
    [
        (r"(a^{[2]} - y) a^{[1]T}", "equal"),
        (r"(y - a^{[2]}) a^{[1]T}", "different"),
    ],
    ids=["right", "sign"],
)
def test_the_exact_check_on_a_set_up_read_from_disk(cache_dir, claim, expected):
    problem = load_problem("sigmoid-bce-1hidden")
    prepared.prepare(problem)
    prepared.forget()  # the claim's worker reads the file
    verdict = check_claim(problem, "dL/dw2", claim)
    assert verdict.symbolic.status == expected


def test_a_directory_others_may_write_is_not_used(cache_dir):
    (cache_dir / "prepared").mkdir(mode=0o700)
    os.chmod(cache_dir / "prepared", 0o777)
    assert prepared.prepared_path(load_problem("sigmoid-bce-1hidden")) is None


def test_a_corrupt_file_is_built_again(cache_dir):
    problem = load_problem("sigmoid-bce-1hidden")
    path = prepared.prepared_path(problem)
    path.write_bytes(b"not a pickle")
    assert prepared.prepare(problem).source == "built"


@pytest.mark.parametrize(
    "expr, types",
    [
        (sp.sin(x) ** 2 + sp.sin(x) ** 2 * y, (sp.Pow,)),
        (sp.exp(x) * sp.exp(x + 1) + sp.exp(x), (sp.exp,)),
        (sp.Function("g")(x + sp.Function("g")(y)) * z, (sp.core.function.AppliedUndef,)),
        (x + y, (sp.Pow,)),
    ],
    ids=["powers", "exp", "undefined", "none"],
)
def test_atoms_of_is_sympy_atoms(expr, types):
    assert atoms_of(expr, *types) == expr.atoms(*types)


@pytest.mark.parametrize(
    "expr, generic, zero",
    [
        (E / (E + 1) - 1 + 1 / (E + 1), False, True),
        ((x + y) ** 2 - x**2 - 2 * x * y - y**2, False, True),
        (E / (E + 1) - 1, False, False),
        (sp.Function("g")(x) * (y + 1) - sp.Function("g")(x) * y - sp.Function("g")(x), True, True),
        (sp.Function("g")(x) - sp.Function("g")(y), True, False),
    ],
    ids=["softmax-like", "polynomial", "different", "generic-zero", "generic-different"],
)
def test_is_zero(expr, generic, zero):
    assert is_zero(expr, generic) is zero
