"""The NumPy reference backprop against float64 central differences."""

import numpy as np
import pytest

from symderiv.truth.network import (
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
