"""Hand-written NumPy models of the twelve course problems in tests/fixtures/course/, for labelling
claims by central differences. Nothing here imports symderiv: the labels are independent of it.

Every vector is a column (k×1 array), every number a 1×1 array, so that a transposed claim is seen.
Each model draws a point (the free symbols) with `sample`, computes its intermediates with `forward`
(used by the claims' NumPy values) and its objective with `loss` (used by the differences).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

KINK = 1e-3  # every kink argument at least this far from 0, as symderiv's own points


def sig(u):
    return 1.0 / (1.0 + np.exp(-u))


def relu(u):
    return np.maximum(u, 0.0)


def ind(c):
    return np.asarray(c, dtype=float)


def softmax_cols(z):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def ones(k):
    return np.ones((k, 1))


@dataclass(frozen=True)
class Model:
    name: str
    sample: Callable  # (rng, one) -> dict of free symbols, or None to draw again
    forward: Callable  # free symbols -> intermediates (a dict)
    loss: Callable  # free symbols -> float


def point(model: Model, rng, one: bool = False) -> dict:
    for _ in range(1000):
        v = model.sample(rng, one)
        if v is not None:
            return {**v, **model.forward(v)}
    raise AssertionError(f"{model.name}: no point away from the kinks")


def central_difference(model: Model, v: dict, wrt: str, h: float = 1e-6) -> np.ndarray:
    base = {k: np.array(x, dtype=float) if isinstance(x, np.ndarray) else x for k, x in v.items()}
    target = np.atleast_2d(np.array(base[wrt], dtype=float))
    grad = np.zeros_like(target)
    for idx in np.ndindex(target.shape):
        plus, minus = target.copy(), target.copy()
        plus[idx] += h
        minus[idx] -= h
        grad[idx] = (model.loss({**base, wrt: plus}) - model.loss({**base, wrt: minus})) / (2 * h)
    return grad


# --- 1. layer normalisation of one sample -------------------------------------------------------


def _ln_sample(rng, one):
    d = 5
    return dict(
        x=rng.normal(1.0, 2.0, (d, 1)),
        gamma=rng.normal(size=(d, 1)),
        beta=rng.normal(size=(d, 1)),
        g=rng.normal(size=(d, 1)),
        eps=1e-5,
    )


def _ln_forward(v):
    d = v["x"].shape[0]
    mu = v["x"].mean()
    var = ((v["x"] - mu) ** 2).mean()
    s = np.sqrt(var + v["eps"])
    xh = (v["x"] - mu) / s
    return dict(D=d, mu=mu, var=var, s=s, xh=xh, y=v["gamma"] * xh + v["beta"], gg=v["g"] * v["gamma"])


LAYERNORM = Model("layernorm", _ln_sample, _ln_forward, lambda v: float(np.sum(v["g"] * _ln_forward(v)["y"])))


# --- 2. one GRU step -------------------------------------------------------------------------------


def _gru_sample(rng, one):
    d, h = 4, 3
    v = dict(x=rng.normal(size=(d, 1)), hp=rng.normal(size=(h, 1)), g=rng.normal(size=(h, 1)))
    for gate in "zrh":
        v["W" + gate] = rng.normal(size=(h, d))
        v["U" + gate] = rng.normal(size=(h, h))
        v["b" + gate] = rng.normal(size=(h, 1))
    return v


def _gru_forward(v):
    z = sig(v["Wz"] @ v["x"] + v["Uz"] @ v["hp"] + v["bz"])
    r = sig(v["Wr"] @ v["x"] + v["Ur"] @ v["hp"] + v["br"])
    ht = np.tanh(v["Wh"] @ v["x"] + v["Uh"] @ (r * v["hp"]) + v["bh"])
    h = (1 - z) * v["hp"] + z * ht
    A = v["g"] * z * (1 - ht**2)  # ∂L/∂(the candidate's pre-activation)
    return dict(z=z, r=r, ht=ht, h=h, A=A)


GRU = Model("gru", _gru_sample, _gru_forward, lambda v: float(np.sum(v["g"] * _gru_forward(v)["h"])))


# --- 3. scaled dot-product attention for one query -------------------------------------------------


def _att_sample(rng, one):
    d, n, m = 3, 5, 4
    return dict(
        q=rng.normal(size=(d, 1)), K=rng.normal(size=(n, d)), V=rng.normal(size=(n, m)), g=rng.normal(size=(m, 1))
    )


def _att_forward(v):
    d = v["q"].shape[0]
    s = v["K"] @ v["q"] / np.sqrt(d)
    a = softmax_cols(s)
    o = v["V"].T @ a
    return dict(d=d, s=s, a=a, o=o, S=np.diag(a[:, 0]) - a @ a.T)


ATTENTION = Model("attention", _att_sample, _att_forward, lambda v: float(np.sum(v["g"] * _att_forward(v)["o"])))


# --- 4. Huber regression (samples as rows) ---------------------------------------------------------


def _huber_sample(rng, one):
    n, d = (1, 3) if one else (8, 3)
    v = dict(
        X=rng.normal(size=(n, d)),
        w=rng.normal(size=(d, 1)),
        b=rng.normal(size=(1, 1)),
        y=rng.normal(0, 2.5, (n, 1)),
        delta=np.array([[rng.uniform(0.5, 1.5)]]),
        N=np.array([[7.0 if one else float(n)]]),
    )
    r = v["X"] @ v["w"] + v["b"] - v["y"]
    if np.min(np.abs(np.abs(r) - v["delta"])) < KINK or np.min(np.abs(r)) < KINK:
        return None
    return v


def huber(r, delta):
    return np.where(np.abs(r) <= delta, 0.5 * r**2, delta * (np.abs(r) - 0.5 * delta))


def _huber_forward(v):
    r = v["X"] @ v["w"] + v["b"] - v["y"]
    return dict(r=r, psi=np.clip(r, -v["delta"], v["delta"]))


HUBER = Model(
    "huber",
    _huber_sample,
    _huber_forward,
    lambda v: float(np.sum(huber(_huber_forward(v)["r"], v["delta"])) / v["N"][0, 0]),
)


# --- 5. softmax cross-entropy with label smoothing and (λ/2)‖W‖² (samples as columns) ---------------


def _ls_sample(rng, one):
    n, d, c = (1, 4, 3) if one else (6, 4, 3)
    labels = rng.integers(0, c, n)
    return dict(
        X=rng.normal(size=(d, n)),
        Y=np.eye(c)[:, labels],
        W=rng.normal(size=(c, d)),
        b=rng.normal(size=(c, 1)),
        eps=rng.uniform(0.05, 0.3),
        lam=rng.uniform(0.1, 0.9),
        N=7.0 if one else float(n),
    )


def _ls_forward(v):
    c = v["Y"].shape[0]
    P = softmax_cols(v["W"] @ v["X"] + v["b"])
    T = (1 - v["eps"]) * v["Y"] + v["eps"] / c
    return dict(C=c, P=P, T=T)


def _ls_loss(v):
    f = _ls_forward(v)
    return float(-np.sum(f["T"] * np.log(f["P"])) / v["N"] + v["lam"] / 2 * np.sum(v["W"] ** 2))


LABEL_SMOOTHING = Model("label-smoothing", _ls_sample, _ls_forward, _ls_loss)


# --- 6. tied-weight autoencoder --------------------------------------------------------------------


def _ae_sample(rng, one):
    d, h = 5, 3
    return dict(
        x=rng.normal(size=(d, 1)), W=rng.normal(size=(h, d)), b=rng.normal(size=(h, 1)), c=rng.normal(size=(d, 1))
    )


def _ae_forward(v):
    h = sig(v["W"] @ v["x"] + v["b"])
    xh = v["W"].T @ h + v["c"]
    return dict(h=h, xh=xh, e=xh - v["x"])


TIED_AUTOENCODER = Model(
    "tied-autoencoder", _ae_sample, _ae_forward, lambda v: float(0.5 * np.sum(_ae_forward(v)["e"] ** 2))
)


# --- 7. one LSTM cell step -------------------------------------------------------------------------


def _lstm_sample(rng, one):
    d, h = 3, 4
    v = dict(
        x=rng.normal(size=(d, 1)), hp=rng.normal(size=(h, 1)), cp=rng.normal(size=(h, 1)), g=rng.normal(size=(h, 1))
    )
    for gate in "fioc":
        v["W" + gate] = rng.normal(size=(h, d))
        v["U" + gate] = rng.normal(size=(h, h))
        v["b" + gate] = rng.normal(size=(h, 1))
    return v


def _lstm_forward(v):
    pre = {k: v["W" + k] @ v["x"] + v["U" + k] @ v["hp"] + v["b" + k] for k in "fioc"}
    f, i, o = sig(pre["f"]), sig(pre["i"]), sig(pre["o"])
    ct_ = np.tanh(pre["c"])
    c = f * v["cp"] + i * ct_
    h = o * np.tanh(c)
    dc = v["g"] * o * (1 - np.tanh(c) ** 2)  # ∂L/∂c_t
    return dict(f=f, i=i, o=o, ctil=ct_, c=c, h=h, dc=dc)


LSTM = Model("lstm", _lstm_sample, _lstm_forward, lambda v: float(np.sum(v["g"] * _lstm_forward(v)["h"])))


# --- 8. 1-D convolution, valid, stride 1 (n = 6, k = 3, m = 4) --------------------------------------


def _conv_sample(rng, one):
    return dict(x=rng.normal(size=(6, 1)), w=rng.normal(size=(3, 1)), g=rng.normal(size=(4, 1)))


def conv(x, w):
    n, k = x.shape[0], w.shape[0]
    return np.array([[sum(w[j, 0] * x[i + j, 0] for j in range(k))] for i in range(n - k + 1)])


def unfold(x, k):
    """The m×k matrix of windows: row i is x_i, ..., x_{i+k-1}."""
    n = x.shape[0]
    return np.array([[x[i + j, 0] for j in range(k)] for i in range(n - k + 1)])


def toeplitz_of(w, n):
    """The m×n matrix T with y = T x."""
    k = w.shape[0]
    T = np.zeros((n - k + 1, n))
    for i in range(n - k + 1):
        T[i, i : i + k] = w[:, 0]
    return T


CONV1D = Model(
    "conv1d",
    _conv_sample,
    lambda v: dict(y=conv(v["x"], v["w"])),
    lambda v: float(np.sum(v["g"] * conv(v["x"], v["w"]))),
)


# --- 9. max-pooling after a ReLU (pairs of units; M = 6, P = 3) -------------------------------------


def _pool_sample(rng, one):
    z = rng.normal(0.3, 1.0, (6, 1))
    a = relu(z)
    if np.min(np.abs(z)) < KINK:
        return None
    for j in range(3):
        if max(a[2 * j, 0], a[2 * j + 1, 0]) > 0 and abs(a[2 * j, 0] - a[2 * j + 1, 0]) < KINK:
            return None
    return dict(z=z, g=rng.normal(size=(3, 1)))


def _pool_forward(v):
    a = relu(v["z"])
    p = np.maximum(a[0::2], a[1::2])
    first = ind(a[0::2] >= a[1::2])  # the first unit of a pair wins (ties only where both are 0)
    mask = np.zeros((6, 1))
    mask[0::2] = first
    mask[1::2] = 1 - first
    return dict(a=a, p=p, mask=mask, gg=np.repeat(v["g"], 2, axis=0))


MAXPOOL = Model("maxpool", _pool_sample, _pool_forward, lambda v: float(np.sum(v["g"] * _pool_forward(v)["p"])))


# --- 10. triplet loss with a margin ----------------------------------------------------------------


def _triplet_sample(rng, one):
    d = 4
    v = dict(a=rng.normal(size=(d, 1)), p=rng.normal(size=(d, 1)), n=rng.normal(size=(d, 1)), m=rng.uniform(0.2, 1.0))
    if abs(_triplet_forward(v)["s"]) < KINK:
        return None
    return v


def _triplet_forward(v):
    s = np.sum((v["a"] - v["p"]) ** 2) - np.sum((v["a"] - v["n"]) ** 2) + v["m"]
    return dict(s=s, on=float(s > 0))


TRIPLET = Model("triplet", _triplet_sample, _triplet_forward, lambda v: max(0.0, _triplet_forward(v)["s"]))


# --- 11. residual block with swish -----------------------------------------------------------------


def _res_sample(rng, one):
    d, h = 3, 5
    return dict(
        x=rng.normal(size=(d, 1)), W1=rng.normal(size=(h, d)), W2=rng.normal(size=(d, h)), g=rng.normal(size=(d, 1))
    )


def _res_forward(v):
    u = v["W1"] @ v["x"]
    s = sig(u)
    swish = u * s
    dswish = s + u * s * (1 - s)
    return dict(u=u, s=s, swish=swish, dswish=dswish, y=v["x"] + v["W2"] @ swish, back=dswish * (v["W2"].T @ v["g"]))


RESIDUAL_SWISH = Model(
    "residual-swish", _res_sample, _res_forward, lambda v: float(np.sum(v["g"] * _res_forward(v)["y"]))
)


# --- 12. inverted dropout with a given mask --------------------------------------------------------


def _drop_sample(rng, one):
    d, h = 3, 6
    m = np.array([[1.0], [0.0], [1.0], [1.0], [0.0], [1.0]])
    v = dict(
        x=rng.normal(size=(d, 1)),
        W=rng.normal(size=(h, d)),
        v=rng.normal(size=(h, 1)),
        m=m[rng.permutation(h)],
        y=rng.normal(size=(1, 1)),
        p=rng.uniform(0.5, 0.9),
    )
    if np.min(np.abs(v["W"] @ v["x"])) < KINK:
        return None
    return v


def _drop_forward(v):
    z = v["W"] @ v["x"]
    h = v["m"] * relu(z) / v["p"]
    yh = v["v"].T @ h
    return dict(z=z, h=h, yh=yh, e=float((yh - v["y"])[0, 0]), on=ind(z > 0))


DROPOUT = Model("dropout", _drop_sample, _drop_forward, lambda v: float(0.5 * (_drop_forward(v)["e"]) ** 2))


MODELS = {
    m.name: m
    for m in (
        LAYERNORM,
        GRU,
        ATTENTION,
        HUBER,
        LABEL_SMOOTHING,
        TIED_AUTOENCODER,
        LSTM,
        CONV1D,
        MAXPOOL,
        TRIPLET,
        RESIDUAL_SWISH,
        DROPOUT,
    )
}
