"""TEST ORACLE for the problem bank: hand-written NumPy, independent of symderiv.

For each bank problem: its forward pass in plain NumPy (``forward``, which can cut the graph
at an intermediate variable) and the textbook gradient formulas (``textbook``), written from
the standard references (CS229 linear regression, CS231n multiclass SVM and batch norm,
CS224n word2vec, BPTT), never from symderiv's keys or engine. ``test_bank_oracle.py`` checks
the formulas against float64 central differences of ``forward`` and then compares them with
the engine's ground truth: a bug that a key and the engine share cannot pass both.

Layouts are the keys' layouts (``derivations/<id>.toml``); names are plain ASCII, and
``ENGINE_NAMES`` maps them to the keys' LaTeX symbols.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

# Bank keys not shipped yet, and why (the engine gap each waits for): their rows in test_bank.py and
# test_bank_oracle.py are expected failures until then.
PENDING = {}

KINK = 1e-2  # oracle points keep every kink argument at least this far from 0


def softmax(z: np.ndarray, axis: int = 0) -> np.ndarray:
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def one_hot(labels: np.ndarray, classes: int) -> np.ndarray:
    """Classes × samples."""
    out = np.zeros((classes, labels.size))
    out[labels, np.arange(labels.size)] = 1.0
    return out


@dataclass(frozen=True)
class OracleProblem:
    id: str
    draw: Callable[[np.random.Generator], dict]  # a random point: name -> array
    forward: Callable[[dict, dict], dict]  # (point, cuts) -> every variable
    textbook: Callable[[dict], dict]  # point -> quantity id -> gradient
    quantities: dict  # quantity id -> (objective, wrt)
    kinks: Callable[[dict], np.ndarray] = field(default=lambda v: np.array([1.0]))  # kink arguments


def _cut(cuts: dict, name: str, value):
    return cuts.get(name, value)


# ------------------------------------------------------------------- linreg-mse (samples as rows)


def _linreg_draw(rng):
    N, D = 7, 3
    return {"X": rng.normal(size=(N, D)), "w": rng.normal(size=(D, 1)), "b": rng.normal(), "y": rng.normal(size=(N, 1))}


def _linreg_forward(v, cuts):
    N = v["X"].shape[0]
    r = v["X"] @ v["w"] + v["b"] - v["y"]
    return {"J": (r.T @ r).item() / (2 * N)}


def _linreg_textbook(v):
    N = v["X"].shape[0]
    r = v["X"] @ v["w"] + v["b"] - v["y"]
    return {"dJ/dw": v["X"].T @ r / N, "dJ/db": r.sum() / N}


LINREG = OracleProblem(
    "linreg-mse", _linreg_draw, _linreg_forward, _linreg_textbook, {"dJ/dw": ("J", "w"), "dJ/db": ("J", "b")}
)


# ------------------------------------------------------------------- svm-hinge (samples as columns)


def _svm_margins(v):
    S = v["W"] @ v["X"]
    N = S.shape[1]
    correct = S[v["labels"], np.arange(N)]
    return S - correct[None, :] + 1.0


def _svm_draw(rng):
    C, D, N = 4, 3, 6
    for _ in range(1000):
        v = {
            "W": rng.normal(size=(C, D)),
            "X": rng.normal(size=(D, N)),
            "labels": rng.integers(0, C, N),
            "lambda": rng.uniform(0.1, 0.9),
        }
        M = _svm_margins(v)
        off = one_hot(v["labels"], C) == 0
        # away from the kinks, and both sides of the hinge present
        if np.min(np.abs(M[off])) > KINK and (M[off] > 0).any() and (M[off] < 0).any():
            v["Delta"] = one_hot(v["labels"], C)
            return v
    raise AssertionError("no SVM point away from the kinks")


def _svm_forward(v, cuts):
    M = _svm_margins(v)
    N = M.shape[1]
    total = 0.0
    for i in range(N):  # the textbook double loop
        for j in range(M.shape[0]):
            if j != v["labels"][i]:
                total += max(0.0, M[j, i])
    J = total / N
    return {"J": J, "Jt": J + v["lambda"] * np.sum(v["W"] ** 2)}


def _svm_textbook(v):
    """CS231n svm_loss_naive: for each margin > 0, + x_i to row j, − x_i to row y_i."""
    W, X, labels = v["W"], v["X"], v["labels"]
    M = _svm_margins(v)
    N = X.shape[1]
    dW = np.zeros_like(W)
    for i in range(N):
        for j in range(W.shape[0]):
            if j != labels[i] and M[j, i] > 0:
                dW[j] += X[:, i]
                dW[labels[i]] -= X[:, i]
    dW /= N
    return {"dJ/dW": dW, "dJt/dW": dW + 2 * v["lambda"] * W}


SVM = OracleProblem(
    "svm-hinge",
    _svm_draw,
    _svm_forward,
    _svm_textbook,
    {"dJ/dW": ("J", "W"), "dJt/dW": ("Jt", "W")},
    kinks=lambda v: _svm_margins(v)[one_hot(v["labels"], v["W"].shape[0]) == 0],
)


# ------------------------------------------------------------------- word2vec naive softmax (CS224n)


def _w2v_draw(rng):
    d, V = 3, 5
    o = int(rng.integers(0, V))
    return {"U": rng.normal(size=(d, V)), "v_c": rng.normal(size=(d, 1)), "o": o, "y": one_hot(np.array([o]), V)}


def _w2v_forward(v, cuts):
    yhat = softmax(v["U"].T @ v["v_c"])
    return {"yhat": yhat, "J": -float(np.log(yhat[v["o"], 0]))}


def _w2v_textbook(v):
    yhat = softmax(v["U"].T @ v["v_c"])
    err = yhat - v["y"]
    # dJ/du_w for each outside word w, by the two cases, as the columns of a d × V matrix
    cases = np.hstack(
        [(yhat[w, 0] - 1.0) * v["v_c"] if w == v["o"] else yhat[w, 0] * v["v_c"] for w in range(v["U"].shape[1])]
    )
    return {"dJ/dvc": v["U"] @ err, "dJ/dU": v["v_c"] @ err.T, "dJ/du": cases}


W2V = OracleProblem(
    "word2vec-naive-softmax",
    _w2v_draw,
    _w2v_forward,
    _w2v_textbook,
    {"dJ/dvc": ("J", "v_c"), "dJ/dU": ("J", "U"), "dJ/du": ("J", "U")},
)


# ------------------------------------------------------------------- batchnorm (training mode, N × D)


def _bn_draw(rng):
    N, D = 5, 3
    return {
        "X": rng.normal(size=(N, D)) * 2 + 1,
        "gamma": rng.normal(size=(D, 1)),
        "beta": rng.normal(size=(D, 1)),
        "epsilon": 0.1 * rng.uniform(0.1, 0.9),
        "dY": rng.normal(size=(N, D)),
    }


def _bn_forward(v, cuts):
    X = v["X"]
    mu = X.mean(axis=0, keepdims=True)
    var = ((X - mu) ** 2).mean(axis=0, keepdims=True)  # biased
    xhat = (X - mu) / np.sqrt(var + v["epsilon"])
    Y = v["gamma"].T * xhat + v["beta"].T
    return {"xhat": xhat, "Y": Y, "L": float(np.sum(v["dY"] * Y))}


def _bn_textbook(v):
    """The compact formula (Ioffe & Szegedy 2015; CS231n batchnorm_backward_alt)."""
    X, dY, g = v["X"], v["dY"], v["gamma"].T
    N = X.shape[0]
    mu = X.mean(axis=0, keepdims=True)
    var = ((X - mu) ** 2).mean(axis=0, keepdims=True)
    xhat = (X - mu) / np.sqrt(var + v["epsilon"])
    dX = g / (N * np.sqrt(var + v["epsilon"])) * (N * dY - dY.sum(axis=0) - xhat * (dY * xhat).sum(axis=0))
    return {"dL/dgamma": (dY * xhat).sum(axis=0)[:, None], "dL/dbeta": dY.sum(axis=0)[:, None], "dL/dX": dX}


BATCHNORM = OracleProblem(
    "batchnorm",
    _bn_draw,
    _bn_forward,
    _bn_textbook,
    {"dL/dgamma": ("L", "gamma"), "dL/dbeta": ("L", "beta"), "dL/dX": ("L", "X")},
)


# ------------------------------------------------------------------- rnn-2step (one sequence, BPTT)


def _rnn_draw(rng):
    H, D, C = 3, 2, 4
    c = int(rng.integers(0, C))
    return {
        "W": rng.normal(size=(H, H)) * 0.7,
        "U": rng.normal(size=(H, D)) * 0.7,
        "b": rng.normal(size=(H, 1)),
        "V": rng.normal(size=(C, H)),
        "c": rng.normal(size=(C, 1)),
        "h_0": rng.normal(size=(H, 1)),
        "x_1": rng.normal(size=(D, 1)),
        "x_2": rng.normal(size=(D, 1)),
        "y": one_hot(np.array([c]), C),
    }


def _rnn_forward(v, cuts):
    h1 = _cut(cuts, "h_1", np.tanh(v["W"] @ v["h_0"] + v["U"] @ v["x_1"] + v["b"]))
    h2 = _cut(cuts, "h_2", np.tanh(v["W"] @ h1 + v["U"] @ v["x_2"] + v["b"]))
    yhat = softmax(v["V"] @ h2 + v["c"])
    return {"h_1": h1, "h_2": h2, "yhat": yhat, "J": -(v["y"].T @ np.log(yhat)).item()}


def _rnn_textbook(v):
    f = _rnn_forward(v, {})
    h1, h2, err = f["h_1"], f["h_2"], f["yhat"] - v["y"]
    dh2 = v["V"].T @ err
    delta2 = (1 - h2**2) * dh2
    dh1 = v["W"].T @ delta2
    delta1 = (1 - h1**2) * dh1
    return {"dJ/dV": err @ h2.T, "dJ/dh2": dh2, "dJ/dh1": dh1, "dJ/dW": delta2 @ h1.T + delta1 @ v["h_0"].T}


RNN = OracleProblem(
    "rnn-2step",
    _rnn_draw,
    _rnn_forward,
    _rnn_textbook,
    {"dJ/dV": ("J", "V"), "dJ/dh2": ("J", "h_2"), "dJ/dh1": ("J", "h_1"), "dJ/dW": ("J", "W")},
)


# ------------------------------------------------------------------- leaky-relu-mlp (samples as columns)


def _leaky_z2(v):
    return v["W1"] @ v["X"] + v["b1"]


def _leaky_draw(rng):
    D, H, C, N = 3, 4, 5, 6
    labels = rng.integers(0, C, N)
    for _ in range(1000):
        v = {
            "X": rng.normal(size=(D, N)),
            "W1": rng.normal(size=(H, D)),
            "b1": rng.normal(size=(H, 1)),
            "W2": rng.normal(size=(C, H)),
            "b2": rng.normal(size=(C, 1)),
            "alpha": rng.uniform(0.05, 0.3),
            "Delta": one_hot(labels, C),
        }
        z2 = _leaky_z2(v)
        if np.min(np.abs(z2)) > KINK and (z2 > 0).any() and (z2 < 0).any():
            return v
    raise AssertionError("no leaky-ReLU point away from the kink")


def _leaky_forward(v, cuts):
    z2 = _cut(cuts, "z2", _leaky_z2(v))
    a2 = np.where(z2 > 0, z2, v["alpha"] * z2)
    z3 = v["W2"] @ a2 + v["b2"]
    N = v["X"].shape[1]
    return {"z2": z2, "J": -float(np.sum(v["Delta"] * np.log(softmax(z3)))) / N}


def _leaky_textbook(v):
    z2 = _leaky_z2(v)
    a2 = np.where(z2 > 0, z2, v["alpha"] * z2)
    N = v["X"].shape[1]
    dz3 = (softmax(v["W2"] @ a2 + v["b2"]) - v["Delta"]) / N
    dz2 = (v["W2"].T @ dz3) * np.where(z2 > 0, 1.0, v["alpha"])
    return {"dJ/dz2": dz2, "dJ/dW1": dz2 @ v["X"].T, "dJ/db1": dz2.sum(axis=1, keepdims=True)}


LEAKY = OracleProblem(
    "leaky-relu-mlp",
    _leaky_draw,
    _leaky_forward,
    _leaky_textbook,
    {"dJ/dz2": ("J", "z2"), "dJ/dW1": ("J", "W1"), "dJ/db1": ("J", "b1")},
    kinks=_leaky_z2,
)


ORACLES = {p.id: p for p in (LINREG, SVM, W2V, BATCHNORM, RNN, LEAKY)}

# oracle name -> the key's LaTeX spelling of that symbol (derived values such as `labels` and `o`
# are not passed: the one-hot label matrix carries them)
ENGINE_NAMES = {
    "linreg-mse": {"X": "X", "w": "w", "b": "b", "y": "y"},
    "svm-hinge": {"W": "W", "X": "X", "Delta": r"\Delta", "lambda": r"\lambda"},
    "word2vec-naive-softmax": {"U": "U", "v_c": "v_c", "y": "y"},
    "batchnorm": {"X": "X", "gamma": r"\gamma", "beta": r"\beta", "epsilon": r"\epsilon", "dY": "G"},
    "rnn-2step": {"W": "W", "U": "U", "b": "b", "V": "V", "c": "c", "h_0": "h_0", "x_1": "x_1", "x_2": "x_2", "y": "y"},
    "leaky-relu-mlp": {
        "X": "X",
        "W1": "W^{(1)}",
        "b1": "b^{(1)}",
        "W2": "W^{(2)}",
        "b2": "b^{(2)}",
        "alpha": r"\alpha",
        "Delta": r"\Delta",
    },
}


def central_difference(problem: OracleProblem, point: dict, objective: str, wrt: str, h: float = 1e-6):
    """d objective / d wrt by float64 central differences; an intermediate `wrt` is cut."""
    intermediate = wrt not in point
    base = problem.forward(point, {})[wrt] if intermediate else point[wrt]
    base = np.array(base, dtype=float)
    grad = np.zeros_like(base)
    for idx in np.ndindex(base.shape):
        vals = []
        for step in (h, -h):
            moved = base.copy()
            moved[idx] += step
            if intermediate:
                vals.append(problem.forward(point, {wrt: moved})[objective])
            else:
                vals.append(problem.forward({**point, wrt: moved if moved.shape else float(moved)}, {})[objective])
        grad[idx] = (vals[0] - vals[1]) / (2 * h)
    return grad


def relative_error(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b)) / max(1.0, float(np.max(np.abs(b)))))
