"""The NumPy evaluator's memo (truth/evaluate.py MEMO) never changes a result: a point made from
another (dataclasses.replace, a pickled copy) is another point, and verdicts are the same with the
memo warm or empty."""

from __future__ import annotations

import pickle
from dataclasses import replace

import pytest

from symderiv import check_claim
from symderiv.evaluation import evaluate
from symderiv.evaluation.evaluate import Env


def test_a_point_made_from_another_has_its_own_memo_key():
    env = Env(backend=None, interp=None, objects={}, reading="single")
    assert len({env.token, replace(env, reading="rows").token, pickle.loads(pickle.dumps(env)).token}) == 3


CLAIMS = [
    ("softmax-2layer", "dJ/dz3", r"\frac{1}{N}(\psi(Z^{(3)}) - \Delta)"),
    ("softmax-2layer", "dJ/dW2", r"\frac{1}{N}(\psi(Z^{(3)}) - \Delta)A^{(2)}"),
    ("softmax-2layer", "dJt/dW2", r"(\psi(Z^{(3)})-\Delta)A^{(2)T} + 2\lambda W^{(2)}"),
    ("sigmoid-bce-1hidden", "dL/dz1", r"(a^{[2]}-y)w^{[2]T}\odot \mathbb{1}[z^{[1]}>0]"),
    ("logreg-l2", "dJt/dw", r"X^T(\hat y - y) + \lambda w"),
    ("rnn-2step", "dJ/dh1", r"W^T V^T (\hat y - y)"),
]


@pytest.mark.parametrize("problem, quantity, claim", CLAIMS, ids=[f"{p}:{q}" for p, q, _ in CLAIMS])
def test_verdicts_are_the_same_with_the_memo_warm_or_empty(problem, quantity, claim):
    warm = [check_claim(problem, quantity, claim, symbolic=False) for _ in range(2)]
    evaluate.MEMO.clear()
    cold = check_claim(problem, quantity, claim, symbolic=False)
    for v in warm:
        assert (v.verdict, v.diagnosis, v.feedback) == (cold.verdict, cold.diagnosis, cold.feedback)
