"""The bank's TEST ORACLE (``bank_oracle.py``, plain NumPy) against central differences, and
the engine's numeric ground truth against the oracle at random points.

The first table needs nothing from symderiv: it proves the textbook formulas right. The second
compares them with what the engine derives from the keys' equations, so an engine bug that a
key happens to share (both wrong the same way, verify passing) still fails here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from bank_oracle import ENGINE_NAMES, ORACLES, PENDING, central_difference, relative_error

from symderiv.answerkey.problem import load_problem_file
from symderiv.truth.forward import Sample, gradient, run_equations
from symderiv.truth.reference import target

CASES = [
    pytest.param(pid, qid, seed, id=f"{pid}:{qid}:{seed}")
    for pid, problem in ORACLES.items()
    for qid in problem.quantities
    for seed in (0, 1)
]


@pytest.mark.parametrize("pid, qid, seed", CASES)
def test_textbook_formula_matches_central_differences(pid, qid, seed):
    problem = ORACLES[pid]
    point = problem.draw(np.random.default_rng(seed))
    objective, wrt = problem.quantities[qid]
    assert relative_error(problem.textbook(point)[qid], central_difference(problem, point, objective, wrt)) <= 1e-7


@pytest.mark.parametrize("pid", ORACLES)
def test_oracle_points_stay_away_from_kinks(pid):
    problem = ORACLES[pid]
    for seed in range(5):
        assert np.min(np.abs(problem.kinks(problem.draw(np.random.default_rng(seed))))) > 1e-2


# ---------------------------------------------------------------- the engine against the oracle

KEYS = Path(__file__).resolve().parent.parent / "derivations"
# (of, wrt) for the engine where the key has no such quantity: the cases of dJ/du_w are the columns of dJ/dU
ENGINE_TARGETS = {("word2vec-naive-softmax", "dJ/du"): ("J", "U")}


def engine_gradient(pid: str, qid: str, point: dict) -> np.ndarray:
    """The engine's numeric ground truth (autograd on the key's equations) at the oracle's point."""
    problem = load_problem_file(KEYS / f"{pid}.toml")
    free = {}
    for name, spelling in ENGINE_NAMES[pid].items():
        value = np.asarray(point[name], dtype=float)
        free[target(problem, spelling)] = value.reshape(1, 1) if value.ndim == 0 else value
    n_samples = int(dict(problem.numeric_sizes).get(problem.model.batch, 1)) if problem.model.batch else 1
    values = run_equations(problem, free, float(n_samples), n_samples)
    s = Sample(free, values, float(n_samples), n_samples, kink_gap=1.0)
    if (pid, qid) in ENGINE_TARGETS:
        of, wrt = ENGINE_TARGETS[pid, qid]
    else:
        of, wrt = problem.quantity(qid).of, problem.quantity(qid).wrt
    return gradient(problem, s, target(problem, of), target(problem, wrt))


ENGINE_CASES = [
    pytest.param(
        pid,
        qid,
        seed,
        id=f"{pid}:{qid}:{seed}",
        marks=[pytest.mark.xfail(reason=f"{pid} not shipped: {PENDING[pid]}", strict=True)] if pid in PENDING else [],
    )
    for pid, problem in ORACLES.items()
    for qid in problem.quantities
    for seed in (0, 1)
]


@pytest.mark.parametrize("pid, qid, seed", ENGINE_CASES)
def test_engine_truth_matches_the_textbook_formula(pid, qid, seed):
    problem = ORACLES[pid]
    point = problem.draw(np.random.default_rng(100 + seed))
    expected = np.asarray(problem.textbook(point)[qid], dtype=float)
    got = engine_gradient(pid, qid, point)
    assert got.shape == (expected.shape if expected.ndim == 2 else (1, 1)), (got.shape, expected.shape)
    assert relative_error(got.reshape(expected.shape), expected) <= 1e-9
