"""The hand-written NumPy backprop (tests/network_oracle.py) against float64 central differences, and the
shipped [network] keys, expanded into models, against it."""

import numpy as np
import pytest
from network_oracle import (
    KINK_MARGIN,
    Layer,
    Network,
    backprop,
    forward,
    gradcheck,
    random_instance,
    random_labels,
)

NETWORKS = [
    pytest.param(Network(3, (Layer(4, "relu"), Layer(5, "softmax")), "cross-entropy", True), id="relu-softmax-ce-reg"),
    pytest.param(Network(3, (Layer(4, "relu"), Layer(1, "sigmoid")), "bce"), id="relu-sigmoid-bce"),
    pytest.param(
        Network(2, (Layer(3, "tanh"), Layer(4, "softplus"), Layer(5, "sigmoid")), "generic"), id="generic-3-layer"
    ),
    pytest.param(Network(2, (Layer(3, "tanh"), Layer(4, "identity")), "mse", True), id="tanh-mse-reg"),
    pytest.param(Network(3, (Layer(4, "sigmoid"), Layer(5, "softmax")), "generic"), id="softmax-generic-cost"),
]


@pytest.mark.parametrize("net", NETWORKS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_backprop_matches_central_differences(net, seed):
    inst = random_instance(net, 6, np.random.default_rng(seed))
    assert gradcheck(net, inst) <= 1e-7


@pytest.mark.parametrize("net", NETWORKS[:2])
def test_relu_preactivations_stay_away_from_the_kink(net):
    inst = random_instance(net, 50, np.random.default_rng(3))
    Z, _, _ = forward(net, inst)
    assert np.min(np.abs(Z[1])) > KINK_MARGIN


def test_one_hot_labels_have_columns_summing_to_one():
    net = NETWORKS[0].values[0]
    Y = random_labels(net, 40, np.random.default_rng(0))
    assert np.allclose(Y.sum(axis=0), 1.0) and set(np.unique(Y)) <= {0.0, 1.0}


def test_softmax_cross_entropy_gradient_is_psi_minus_delta_over_n():
    net = NETWORKS[0].values[0]
    inst = random_instance(net, 7, np.random.default_rng(5))
    p = backprop(net, inst)
    assert np.allclose(p.dZ[2], (p.A[2] - inst.Y) / 7)


def test_psi_minus_delta_needs_one_hot_columns():
    """(1/N)(ψ − Δ) is the gradient only when each label column sums to 1."""
    net = NETWORKS[0].values[0]
    inst = random_instance(net, 7, np.random.default_rng(5))
    from dataclasses import replace

    soft = replace(inst, Y=inst.Y * 0.5)
    # backprop's (ψ − Δ)/N assumes one-hot columns; with columns summing to 0.5,
    # central differences of the true loss disagree with it
    assert gradcheck(net, soft) > 1e-3
    assert gradcheck(net, inst) <= 1e-7


def test_mistake_switches_change_the_gradient():
    net = NETWORKS[0].values[0]
    inst = random_instance(net, 7, np.random.default_rng(1))
    truth = backprop(net, inst)
    assert not np.allclose(backprop(net, inst, skip_activation_derivative=True).dW[1], truth.dW[1])
    assert not np.allclose(backprop(net, inst, reg_factor=1.0).dW[2], truth.dW[2])
    assert np.allclose(backprop(net, inst, regularised=False).dW[2] + 2 * inst.lam * inst.W[1], truth.dW[2])


# ---- the shipped [network] keys, expanded into models, against this oracle -----------------

from symderiv.answerkey.expand import OBJECTIVE_KEYS  # noqa: E402
from symderiv.answerkey.problem import load_problem  # noqa: E402
from symderiv.truth import forward as model_forward  # noqa: E402
from symderiv.truth.reference import target  # noqa: E402


def _oracle_network(problem):
    sh = problem.shorthand
    sizes = dict(problem.numeric_sizes)

    def size(s):
        return s if isinstance(s, int) else sizes[s]

    return Network(
        input_size=size(sh.input_size),
        layers=tuple(Layer(size(s), act) for s, act in sh.layers),
        loss=sh.loss,
        regularised=sh.regulariser is not None,
        reg_scale=0.5 if sh.regulariser == "lambda/2" else 1.0,
    )


def _model_sample(problem, inst, n_samples, N):
    """The oracle's instance as the expanded model's free symbols (W transposed for z = Σ_i a_i w_ij)."""
    model, nota = problem.model, problem.shorthand.notation
    free = {"X": inst.X, model.labels()[0].id: inst.Y}
    for k in range(1, len(inst.W) + 1):
        label = nota.weight_label(k)
        W = inst.W[k - 1].T if nota.weight_layout == "in-out" else inst.W[k - 1]
        free[model.family("W")[label]] = W
        free[model.family("b")[label]] = inst.b[k - 1]
    if "\\lambda" in model.symbol_table:
        free["\\lambda"] = np.array([[inst.lam]])
    values = model_forward.run_equations(problem, free, N, n_samples)
    return model_forward.Sample(free, values, N, n_samples, np.inf)


EXPANDED = ["softmax-2layer", "sigmoid-bce-1hidden", "mlp-general"]


@pytest.mark.parametrize("key", EXPANDED)
@pytest.mark.parametrize("seed", [0, 1])
def test_expanded_key_has_the_oracles_gradients(key, seed):
    """Every gradient the expanded model gives (autograd of its equations) is the hand-written
    backprop's, for every weight, bias, pre-activation and activation, for each objective."""
    problem = load_problem(key)
    net = _oracle_network(problem)
    nota = problem.shorthand.notation
    n = int(dict(problem.numeric_sizes).get("N", 1))
    checked = 0
    for objective, _ in nota.objectives:
        name, averaged, regularised = OBJECTIVE_KEYS[objective]
        inst = random_instance(net, n, np.random.default_rng(seed), scale=1.0 / n if averaged else 1.0)
        truth = backprop(net, inst, regularised=regularised and net.regularised)
        sample = _model_sample(problem, inst, n, float(n))
        of = target(problem, name)
        for k in range(1, net.depth + 1):
            wanted = {
                problem.model.family("W")[nota.weight_label(k)]: truth.dW[k].T
                if nota.weight_layout == "in-out"
                else truth.dW[k],
                problem.model.family("b")[nota.weight_label(k)]: truth.db[k],
                problem.model.family("z")[nota.pre_label(k)]: truth.dZ[k],
            }
            if k < net.depth:
                wanted[problem.model.family("a")[nota.pre_label(k)]] = truth.dA[k]
            for sid, value in wanted.items():
                got = model_forward.gradient(problem, sample, of, sid)
                assert np.allclose(got, value, rtol=1e-9, atol=1e-12), (objective, sid)
                checked += 1
    assert checked >= 6
