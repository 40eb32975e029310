"""Never prove a right answer wrong: keys with kinks (Huber written three ways, the absolute loss,
a clipped loss, a hinge with a margin, two ReLU layers in series, a leaky ReLU read off its
activation), right claims in several spellings and wrong ones.

Each label is checked here by finite differences of the key's own model (the claim's value at
random points against central differences of the objective). Each right claim must be accepted
with the exact check equal; each wrong one rejected, with or without the symbolic check, and a
refutation's witness must be a real point: re-evaluated here in float64, with every kink taken
from the point's own values (NumPy, not the exact check's 0/1 symbols), claim − truth is not 0.
"""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from fd_labels import labelled_right
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symderiv import check_claim
from symderiv.answerkey.problem import load_problem, load_problem_file
from symderiv.evaluation.backends import NumpyBackend
from symderiv.evaluation.evaluate import Env, Evaluator
from symderiv.evaluation.interpret import Interpreter
from symderiv.notation.parse import parse
from symderiv.truth import forward
from symderiv.truth.forward import column_kinds, declared_layout, index_labels
from symderiv.truth.model_symbolic import free_symbols
from symderiv.truth.reference import batch_kinds_of, flip_for, objects_for, target

KEYS = Path(__file__).parent / "fixtures" / "piecewise"
HUBER_RIGHT_W = [
    r"\frac{1}{N} X^T \left(r \odot \mathbb{1}[|r| \le \delta] + \delta\,\mathbb{1}[r > \delta] - \delta\,\mathbb{1}[r < -\delta]\right)",
    r"\frac{1}{N} X^T \max(-\delta, \min(r, \delta))",
    r"\frac{1}{N} X^T \begin{cases} r & |r| \le \delta \\ \delta\,\mathrm{sign}(r) & \text{otherwise} \end{cases}",
    r"\frac{1}{N} X^T \left(r \odot \mathbb{1}[|r| \le \delta] + \delta\,\mathrm{sign}(r) \odot \mathbb{1}[|r| > \delta]\right)",
]
HUBER_WRONG_W = [
    r"\frac{1}{N} X^T r",  # least squares: right only inside the band
    r"\frac{1}{N} X^T \left(r \odot \mathbb{1}[|r| \le \delta] + \delta\,\mathbb{1}[|r| > \delta]\right)",  # sign(r) lost
    r"\frac{1}{N} X^T \left(r \odot \mathbb{1}[|r| \le \delta] + \mathrm{sign}(r) \odot \mathbb{1}[|r| > \delta]\right)",
    r"\frac{1}{N} X^T \max(-\delta, \min(r, 2\delta))",
]

RIGHT = [
    pytest.param(f"huber-{kind}.toml", "dJ/dw", claim, id=f"huber-{kind}-{k}")
    for kind in ("cases", "minmax", "indicators")
    for k, claim in enumerate(HUBER_RIGHT_W)
] + [
    pytest.param(
        "huber-cases.toml", "dJ/db", r"\frac{1}{N} \mathbf{1}_N^T \max(-\delta, \min(r, \delta))", id="huber-b"
    ),
    pytest.param("l1-regression.toml", "dJ/dw", r"\frac{1}{N} X^T \mathrm{sign}(r)", id="l1-sign"),
    pytest.param(
        "l1-regression.toml", "dJ/dw", r"\frac{1}{N} X^T (\mathbb{1}[r > 0] - \mathbb{1}[r < 0])", id="l1-indicators"
    ),
    pytest.param(
        "l1-regression.toml", "dJ/dw", r"\frac{1}{N} X^T (2\,\mathbb{1}[r > 0] - 1)", id="l1-twice-indicator-minus-one"
    ),
    pytest.param("clipped-squared.toml", "dJ/dw", r"\frac{2}{N} X^T (r \odot \mathbb{1}[r^2 < \kappa])", id="clipped"),
    pytest.param(
        "clipped-squared.toml", "dJ/dw", r"\frac{2}{N} X^T (r \odot \mathbb{1}[|r| < \sqrt{\kappa}])", id="clipped-abs"
    ),
    pytest.param("hinge-margin.toml", "dJ/dw", r"-\frac{1}{N} X^T (y \odot \mathbb{1}[y \odot s < 1])", id="hinge"),
    pytest.param(
        "hinge-margin.toml",
        "dJ/dw",
        r"-\frac{1}{N} X^T (y \odot \mathbb{1}[1 - y \odot s > 0])",
        id="hinge-margin-form",
    ),
    pytest.param(
        "relu-chain.toml",
        "dL/dz1",
        r"\mathbb{1}[z^{(1)} > 0] \odot W^{(2)T} (\mathbb{1}[z^{(2)} > 0] \odot v)",
        id="relu-chain",
    ),
    pytest.param(
        "relu-chain.toml",
        "dL/dz1",
        r"\mathbb{1}[h^{(1)} > 0] \odot W^{(2)T} (\mathbb{1}[h^{(2)} > 0] \odot v)",
        id="relu-chain-masks-on-activations",
    ),
    pytest.param(
        "leaky-relu-mlp",
        "dJ/dz2",
        r"\frac{1}{N} W^{(2)T}(\psi(z^{(3)}) - \Delta) \odot (\mathbb{1}[a^{(2)} > 0] + \alpha\,\mathbb{1}[a^{(2)} \le 0])",
        id="leaky-mask-on-activation",
    ),
]

WRONG = [
    pytest.param(f"huber-{kind}.toml", "dJ/dw", claim, id=f"huber-{kind}-wrong-{k}")
    for kind in ("cases", "minmax")
    for k, claim in enumerate(HUBER_WRONG_W)
] + [
    pytest.param("l1-regression.toml", "dJ/dw", r"\frac{1}{N} X^T \mathbb{1}[r > 0]", id="l1-one-side"),
    pytest.param("clipped-squared.toml", "dJ/dw", r"\frac{2}{N} X^T r", id="clipped-unclipped"),
    pytest.param(
        "clipped-squared.toml", "dJ/dw", r"\frac{2}{N} X^T (r \odot \mathbb{1}[r^2 > \kappa])", id="clipped-reversed"
    ),
    pytest.param("hinge-margin.toml", "dJ/dw", r"-\frac{1}{N} X^T y", id="hinge-no-margin"),
    pytest.param(
        "hinge-margin.toml", "dJ/dw", r"-\frac{1}{N} X^T (y \odot \mathbb{1}[y \odot s < 0])", id="hinge-margin-0"
    ),
    pytest.param(
        "relu-chain.toml", "dL/dz1", r"W^{(2)T} (\mathbb{1}[z^{(2)} > 0] \odot v)", id="relu-chain-first-mask"
    ),
    pytest.param("relu-chain.toml", "dL/dz1", r"\mathbb{1}[z^{(1)} > 0] \odot W^{(2)T} v", id="relu-chain-second-mask"),
    pytest.param(
        "leaky-relu-mlp",
        "dJ/dz2",
        r"\frac{1}{N} W^{(2)T}(\psi(z^{(3)}) - \Delta) \odot \mathbb{1}[z^{(2)} > 0]",
        id="leaky-relu-prime",
    ),
]


def _problem(key: str):
    return load_problem_file(KEYS / key) if key.endswith(".toml") else load_problem(key)


def float_difference_at_witness(problem, qid: str, claim: str, result) -> float:
    """claim − truth at the exact check's witness, in float64 with NumPy and autograd: every kink
    from the point's own values. Nonzero when the witness is a real point that refutes the claim."""
    q = problem.quantity(qid)
    problem = replace(problem, numeric_sizes=problem.symbolic_sizes)  # the exact check's sizes
    model = problem.model
    layout = declared_layout(model)
    reading = result.reading or layout
    one = reading == "single" or layout == "single"
    n = 1 if one else int(dict(problem.symbolic_sizes).get(model.batch, 2))
    point = {sp.Symbol(name): value for name, value in result.witness}
    by_name = {str(k): v for k, v in point.items()}
    free = {}
    for sid, matrix in free_symbols(problem, n).items():
        free[sid] = np.array(
            [[float(by_name.get(str(e), e) if isinstance(e, sp.Symbol) else e) for e in row] for row in matrix.tolist()]
        )
    N = by_name.get(model.batch, float(n)) if one else float(n)
    values = forward.run_equations(problem, free, N, n, NumpyBackend())
    sample = forward.Sample(free, values, N, n, np.inf)
    of, wrt = target(problem, q.of), target(problem, q.wrt)
    flip = flip_for(reading, layout)
    kinds = batch_kinds_of(problem, values, n) if n > 1 else set()
    truth = forward.gradient(problem, sample, of, wrt)
    truth = flip(truth) if wrt in kinds else truth
    env = Env(
        backend=NumpyBackend(),
        interp=Interpreter(problem, {}),
        objects=objects_for(values, kinds, flip),
        reading=reading if layout != "single" else "single",
        n_samples=n,
        batch_kinds=frozenset(kinds),
        index_labels=index_labels(problem, values),
        column_kinds=column_kinds(problem),
        objective=of,
    )
    value = np.asarray(Evaluator(env).value(env.interp.normalize(parse(claim))), dtype=float)
    return float(np.max(np.abs(value - truth)))


@pytest.mark.parametrize("key, qid, claim", RIGHT)
def test_right_claims_with_kinks_are_accepted_exactly(key, qid, claim):
    problem = _problem(key)
    assert labelled_right(problem, qid, claim), "the table's label: finite differences disagree"
    v = check_claim(problem, qid, claim)
    assert v.verdict == "correct", v.feedback
    assert v.symbolic.status == "equal", v.symbolic.detail


@pytest.mark.parametrize("symbolic", [True, False], ids=["exact", "no-symbolic"])
@pytest.mark.parametrize("key, qid, claim", WRONG)
def test_wrong_claims_with_kinks_are_refuted_at_real_points(key, qid, claim, symbolic):
    problem = _problem(key)
    assert not labelled_right(problem, qid, claim), "the table's label: finite differences agree"
    v = check_claim(problem, qid, claim, symbolic=symbolic)
    assert v.verdict == "incorrect", v.feedback
    if symbolic and v.symbolic.witness:
        assert float_difference_at_witness(problem, qid, claim, v.symbolic) > 1e-9


@pytest.mark.parametrize("key", ["huber-cases.toml", "huber-minmax.toml", "huber-indicators.toml", "relu-chain.toml"])
def test_piecewise_keys_verify_in_their_natural_spelling(key):
    from symderiv.grading.verify import verify_file

    results = verify_file(KEYS / key)
    assert all(r.ok for r in results), [r.message for r in results if not r.ok]


# ---- property: a witness is always a real point -------------------------------------------------

PIECES = [
    r"r",
    r"r \odot \mathbb{1}[|r| \le \delta]",
    r"\delta\,\mathbb{1}[r > \delta]",
    r"\delta\,\mathbb{1}[r < -\delta]",
    r"\delta\,\mathrm{sign}(r)",
    r"\max(-\delta, \min(r, \delta))",
    r"\mathbb{1}[r > 0]",
    r"\min(r, \delta)",
]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(PIECES), st.sampled_from(["+", "-"])), min_size=1, max_size=3))
def test_every_witness_is_a_real_point(terms):
    problem = load_problem_file(KEYS / "huber-cases.toml")
    inner = " ".join(f"{sign} {piece}" for piece, sign in terms).lstrip("+ ")
    claim = rf"\frac{{1}}{{N}} X^T \left({inner}\right)"
    v = check_claim(problem, "dJ/dw", claim)
    if v.symbolic is not None and v.symbolic.status == "different" and v.symbolic.witness:
        assert float_difference_at_witness(problem, "dJ/dw", claim, v.symbolic) > 1e-9, claim
    if v.accepted:
        assert labelled_right(problem, "dJ/dw", claim), claim
