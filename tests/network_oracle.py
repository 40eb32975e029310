"""An independent oracle for the three original keys: a feed-forward network's forward and backward pass
hand-written in NumPy (it was the product's ground truth before every key became a model; the expanded
keys are checked against it in tests/test_network.py).


The network is the one a [network] key declares; nothing
here reads the file's claimed formulas. Internally layers are numbered k = 1..L:

    A_0 = X (features x samples),  Z_k = W_k A_{k-1} + b_k,  A_k = g_k(Z_k)
    J   = scale * sum_i loss(A_L[:, i], Y[:, i]) + lambda * sum_k ||W_k||_F^2

``scale`` is 1/N for a batch mean, or 1/N_symbol when one sample stands for its
share of a batch of N. The backward pass is checked against float64 central
differences by :func:`gradcheck`.

>>> import numpy as np
>>> from network_oracle import Network, Layer, random_instance, backprop, gradcheck
>>> net = Network(input_size=3, layers=(Layer(4, "relu"), Layer(5, "softmax")), loss="cross-entropy")
>>> inst = random_instance(net, n_samples=6, rng=np.random.default_rng(0))
>>> gradcheck(net, inst) < 1e-7
True
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

ACTIVATIONS = ("relu", "sigmoid", "tanh", "softmax", "softplus", "identity")
LOSSES = ("cross-entropy", "bce", "mse", "generic")
KINK_MARGIN = 1e-3


@dataclass(frozen=True)
class Layer:
    size: int
    activation: str


@dataclass(frozen=True)
class Network:
    input_size: int
    layers: tuple[Layer, ...]
    loss: str
    regularised: bool = False
    reg_scale: float = 1.0  # the regulariser is reg_scale·λ Σ‖W‖²_F: 1 for "lambda", 1/2 for "lambda/2"

    @property
    def depth(self) -> int:
        return len(self.layers)

    def size(self, k: int) -> int:
        """Width of layer k (0 is the input)."""
        return self.input_size if k == 0 else self.layers[k - 1].size


@dataclass(frozen=True)
class Instance:
    """Parameters, inputs and labels at which everything is evaluated."""

    W: tuple[np.ndarray, ...]  # W[k-1] is W_k, shape (n_k, n_{k-1})
    b: tuple[np.ndarray, ...]  # b[k-1] is b_k, shape (n_k, 1)
    X: np.ndarray  # (n_0, samples)
    Y: np.ndarray  # labels, (n_L, samples): one-hot columns, 0/1 or targets
    scale: float  # 1/N
    lam: float  # regularisation coefficient


# ---- activations ---------------------------------------------------------------


def activate(name: str, Z: np.ndarray) -> np.ndarray:
    if name == "relu":
        return np.maximum(Z, 0.0)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-Z))
    if name == "tanh":
        return np.tanh(Z)
    if name == "softplus":
        return np.logaddexp(0.0, Z)
    if name == "identity":
        return Z
    if name == "softmax":
        E = np.exp(Z - Z.max(axis=0, keepdims=True))
        return E / E.sum(axis=0, keepdims=True)
    raise ValueError(f"unknown activation {name!r}")


def activation_derivative(name: str, Z: np.ndarray) -> np.ndarray:
    """Elementwise derivative g'(Z) (not defined for softmax, whose Jacobian is full)."""
    if name == "relu":
        return (Z > 0).astype(float)
    if name == "sigmoid":
        s = activate("sigmoid", Z)
        return s * (1.0 - s)
    if name == "tanh":
        return 1.0 - np.tanh(Z) ** 2
    if name == "softplus":
        return activate("sigmoid", Z)
    if name == "identity":
        return np.ones_like(Z)
    raise ValueError(f"activation {name!r} has no elementwise derivative")


# ---- losses (per sample, summed over samples by the caller) ------------------


def generic_cost(A: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """The smooth stand-in for a generic cost C(a): per sample sum_j log(1 + (a_j - y_j)^2) + a_j^3/3."""
    return np.sum(np.log1p((A - Y) ** 2) + A**3 / 3.0, axis=0)


def per_sample_loss(net: Network, ZL: np.ndarray, AL: np.ndarray, Y: np.ndarray) -> np.ndarray:
    if net.loss == "cross-entropy":
        logp = ZL - ZL.max(axis=0, keepdims=True)
        logp = logp - np.log(np.exp(logp).sum(axis=0, keepdims=True))
        return -np.sum(Y * logp, axis=0)
    if net.loss == "bce":
        return -np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL), axis=0)
    if net.loss == "mse":
        return 0.5 * np.sum((AL - Y) ** 2, axis=0)
    if net.loss == "generic":
        return generic_cost(AL, Y)
    raise ValueError(f"unknown loss {net.loss!r}")


def loss_gradient_wrt_output(net: Network, AL: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """d(per-sample loss)/dA_L, columnwise (not used for softmax + cross-entropy)."""
    if net.loss == "cross-entropy":
        return -Y / AL
    if net.loss == "bce":
        return -Y / AL + (1 - Y) / (1 - AL)
    if net.loss == "mse":
        return AL - Y
    if net.loss == "generic":
        return 2 * (AL - Y) / (1 + (AL - Y) ** 2) + AL**2
    raise ValueError(f"unknown loss {net.loss!r}")


# ---- forward and backward -------------------------------------------------------


@dataclass(frozen=True)
class Pass:
    """Everything a forward+backward pass computes, indexed by internal layer."""

    Z: dict[int, np.ndarray]
    A: dict[int, np.ndarray]
    J: float
    dZ: dict[int, np.ndarray] = field(default_factory=dict)
    dA: dict[int, np.ndarray] = field(default_factory=dict)
    dW: dict[int, np.ndarray] = field(default_factory=dict)
    db: dict[int, np.ndarray] = field(default_factory=dict)


def forward(
    net: Network, inst: Instance, start: int = 0, value: np.ndarray | None = None, start_is_pre: bool = False
) -> tuple[dict, dict, float]:
    """Forward pass; optionally restart at layer `start` from a given A_start (or Z_start)."""
    Z: dict[int, np.ndarray] = {}
    A: dict[int, np.ndarray] = {0: inst.X}
    first = 1
    if value is not None:
        if start_is_pre:
            Z[start] = value
            A[start] = activate(net.layers[start - 1].activation, value)
        else:
            A[start] = value
        first = start + 1
    for k in range(first, net.depth + 1):
        Z[k] = inst.W[k - 1] @ A[k - 1] + inst.b[k - 1]
        A[k] = activate(net.layers[k - 1].activation, Z[k])
    L = net.depth
    data = inst.scale * float(np.sum(per_sample_loss(net, Z[L], A[L], inst.Y)))
    reg = net.reg_scale * inst.lam * sum(float(np.sum(W**2)) for W in inst.W) if net.regularised else 0.0
    return Z, A, data + reg


def backprop(
    net: Network,
    inst: Instance,
    *,
    regularised: bool | None = None,
    skip_activation_derivative: bool = False,
    reg_factor: float | None = None,
) -> Pass:
    """Forward and backward pass. The keyword switches build the usual mistakes
    (no ReLU derivative, λ instead of 2λ) for diagnosis; the defaults are the truth."""
    regularised = net.regularised if regularised is None else regularised
    reg_factor = 2.0 * net.reg_scale if reg_factor is None else reg_factor
    Z, A, J = forward(net, inst)
    L = net.depth
    out = net.layers[-1].activation
    p = Pass(Z=Z, A=A, J=J)
    if out == "softmax" and net.loss == "cross-entropy":
        p.dZ[L] = inst.scale * (A[L] - inst.Y)
        p.dA[L] = inst.scale * loss_gradient_wrt_output(net, A[L], inst.Y)
    elif out == "sigmoid" and net.loss == "bce":
        p.dZ[L] = inst.scale * (A[L] - inst.Y)
        p.dA[L] = inst.scale * loss_gradient_wrt_output(net, A[L], inst.Y)
    else:
        p.dA[L] = inst.scale * loss_gradient_wrt_output(net, A[L], inst.Y)
        if out == "softmax":  # full Jacobian, column by column
            p.dZ[L] = np.column_stack([(np.diag(a) - np.outer(a, a)) @ g for a, g in zip(A[L].T, p.dA[L].T)])
        else:
            p.dZ[L] = p.dA[L] * activation_derivative(out, Z[L])
    for k in range(L, 0, -1):
        p.dW[k] = p.dZ[k] @ A[k - 1].T
        if regularised:
            p.dW[k] = p.dW[k] + reg_factor * inst.lam * inst.W[k - 1]
        p.db[k] = p.dZ[k].sum(axis=1, keepdims=True)
        p.dA[k - 1] = inst.W[k - 1].T @ p.dZ[k]
        if k > 1:
            deriv = activation_derivative(net.layers[k - 2].activation, Z[k - 1])
            p.dZ[k - 1] = p.dA[k - 1] if skip_activation_derivative else p.dA[k - 1] * deriv
    return p


# ---- instances -------------------------------------------------------------------


def random_instance(
    net: Network, n_samples: int, rng: np.random.Generator, scale: float | None = None, lam: float | None = None
) -> Instance:
    """Random parameters and data, redrawn until no ReLU pre-activation lies within
    KINK_MARGIN of 0 (so finite differences and masks are well defined)."""
    for _ in range(200):
        W = tuple(rng.normal(0, 0.8, (net.size(k), net.size(k - 1))) for k in range(1, net.depth + 1))
        b = tuple(rng.normal(0, 0.5, (net.size(k), 1)) for k in range(1, net.depth + 1))
        X = rng.normal(0, 1.0, (net.input_size, n_samples))
        Y = random_labels(net, n_samples, rng)
        inst = Instance(
            W=W,
            b=b,
            X=X,
            Y=Y,
            scale=1.0 / n_samples if scale is None else scale,
            lam=float(rng.uniform(0.1, 0.9)) if lam is None else lam,
        )
        Z, _, _ = forward(net, inst)
        if all(np.min(np.abs(Z[k])) > KINK_MARGIN for k in Z if net.layers[k - 1].activation == "relu"):
            return inst
    raise RuntimeError("could not draw an instance away from the ReLU kinks")


def random_labels(net: Network, n_samples: int, rng: np.random.Generator) -> np.ndarray:
    n_out = net.layers[-1].size
    if net.loss == "cross-entropy":
        Y = np.zeros((n_out, n_samples))
        Y[rng.integers(0, n_out, n_samples), np.arange(n_samples)] = 1.0
        return Y
    if net.loss == "bce":
        return rng.integers(0, 2, (n_out, n_samples)).astype(float)
    return rng.normal(0, 1.0, (n_out, n_samples))


# ---- finite differences -----------------------------------------------------------


def _central_difference(f, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        up = f(x)
        x[idx] = old - h
        down = f(x)
        x[idx] = old
        grad[idx] = (up - down) / (2 * h)
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    denom = max(np.linalg.norm(a), np.linalg.norm(b), 1e-300)
    return float(np.linalg.norm(a - b) / denom)


def gradcheck(net: Network, inst: Instance) -> float:
    """Largest relative error (per array, 2-norm) between backprop and central differences,
    over every weight, bias, pre-activation and activation."""
    p = backprop(net, inst)
    worst = 0.0
    for k in range(1, net.depth + 1):
        Wk = inst.W[k - 1].copy()

        def with_W(M, k=k):
            W = list(inst.W)
            W[k - 1] = M
            return forward(net, replace(inst, W=tuple(W)))[2]

        def with_b(v, k=k):
            b = list(inst.b)
            b[k - 1] = v
            return forward(net, replace(inst, b=tuple(b)))[2]

        worst = max(worst, relative_error(p.dW[k], _central_difference(with_W, Wk)))
        worst = max(worst, relative_error(p.db[k], _central_difference(with_b, inst.b[k - 1].copy())))
        worst = max(
            worst,
            relative_error(
                p.dZ[k],
                _central_difference(lambda M, k=k: forward(net, inst, k, M, start_is_pre=True)[2], p.Z[k].copy()),
            ),
        )
        if k < net.depth:
            worst = max(
                worst,
                relative_error(p.dA[k], _central_difference(lambda M, k=k: forward(net, inst, k, M)[2], p.A[k].copy())),
            )
    return worst
