r"""The problem bank as careful TAs grade it: right and wrong claims for every quantity of the seven
bank keys, in the notations students write, each labelled independently by finite differences.

Every row is a claim in LaTeX and, beside it, the same claim as a NumPy lambda. Its label comes
from central differences of a plain NumPy forward pass (``bank_oracle.py``'s problems, and a
logistic-regression oracle here), never from symderiv: the lambda's value at three random points
against the central differences there. A value that equals them is right; one that equals them
transposed is right up to layout (so is a claim that does not typecheck as written, whose lambda
is the reordered product: ``layout=True``); anything else is wrong. A row's ``right`` is what the TA
who wrote it meant, and ``test_label_is_what_the_ta_meant`` holds the lambdas to it.

``one=True`` rows are written for one sample (the one-sample reading of ../shared/problems.md): the
label then compares the lambda, evaluated on one sample with N a free number (the full batch's), with
the central differences of that sample's share (1/N of its loss) of the objective.

Rows symderiv gets wrong today are strict expected failures naming what fails (``ACCEPT_GAPS``,
``DIAGNOSIS_GAPS``); a row is never deleted or weakened to pass. ``python tests/test_bank_ta.py``
prints the measures per key: accept/reject agreement, wrong answers accepted, and the share of the
rejected wrong claims that carry a specific diagnosis.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import pytest
from bank_oracle import (
    BATCHNORM,
    LEAKY,
    LINREG,
    RNN,
    SVM,
    W2V,
    OracleProblem,
    central_difference,
    softmax,
)

from symderiv import check_claim

# ============================================================================ oracles (plain NumPy)
# Each forward pass divides by the point's "N" (the batch size, or the full batch's size for one
# sample), so that one sample's share of a batch mean has central differences of its own.


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _logreg_draw(rng):
    D, N = 3, 7
    while True:
        y = rng.integers(0, 2, (1, N)).astype(float)
        if 0 < y.sum() < N:  # both labels present
            break
    return {
        "X": rng.normal(size=(D, N)),
        "y": y,
        "w": rng.normal(size=(D, 1)),
        "b": rng.normal(),
        "lambda": rng.uniform(0.1, 0.9),
    }


def _logreg_forward(v, cuts):
    yh = sigmoid(v["w"].T @ v["X"] + v["b"])
    J = -float(np.sum(v["y"] * np.log(yh) + (1 - v["y"]) * np.log(1 - yh))) / v["N"]
    return {"J": J, "Jt": J + v["lambda"] / 2 * float(np.sum(v["w"] ** 2))}


def _linreg_forward(v, cuts):
    r = v["X"] @ v["w"] + v["b"] - v["y"]
    return {"J": float(np.sum(r**2)) / (2 * v["N"])}


def _svm_forward(v, cuts):
    M = v["W"] @ v["X"]
    M = M - np.sum(v["Delta"] * M, axis=0, keepdims=True) + 1.0
    J = float(np.sum(np.maximum(0.0, M) * (1 - v["Delta"]))) / v["N"]
    return {"J": J, "Jt": J + v["lambda"] * float(np.sum(v["W"] ** 2))}


def _leaky_forward(v, cuts):
    z2 = cuts.get("z2", v["W1"] @ v["X"] + v["b1"])
    a2 = np.where(z2 > 0, z2, v["alpha"] * z2)
    z3 = v["W2"] @ a2 + v["b2"]
    return {"z2": z2, "J": -float(np.sum(v["Delta"] * np.log(softmax(z3)))) / v["N"]}


LOGREG = OracleProblem(
    "logreg-l2",
    _logreg_draw,
    _logreg_forward,
    lambda v: {},
    {"dJ/dw": ("J", "w"), "dJ/db": ("J", "b"), "dJt/dw": ("Jt", "w")},
)


@dataclass(frozen=True)
class Oracle:
    problem: OracleProblem
    forward: Callable | None = None  # the forward pass with an explicit N (None: the bank oracle's own)
    samples: Callable | None = None  # point, k -> the point of sample k alone (the one-sample reading)
    batch: Callable = lambda v: 1  # point -> its batch size


def _slice_columns(*names):
    def one(v, k):
        out = dict(v)
        for name in names:
            out[name] = v[name][:, k : k + 1]
        if "labels" in v:
            out["labels"] = v["labels"][k : k + 1]
        return out

    return one


def _slice_rows(v, k):
    return {**v, "X": v["X"][k : k + 1], "y": v["y"][k : k + 1]}


ORACLES = {
    "logreg-l2": Oracle(LOGREG, _logreg_forward, _slice_columns("X", "y"), lambda v: v["X"].shape[1]),
    "linreg-mse": Oracle(LINREG, _linreg_forward, _slice_rows, lambda v: v["X"].shape[0]),
    "svm-hinge": Oracle(SVM, _svm_forward, _slice_columns("X", "Delta"), lambda v: v["X"].shape[1]),
    "word2vec-naive-softmax": Oracle(W2V),
    "batchnorm": Oracle(BATCHNORM),
    "rnn-2step": Oracle(RNN),
    "leaky-relu-mlp": Oracle(LEAKY, _leaky_forward, _slice_columns("X", "Delta"), lambda v: v["X"].shape[1]),
}
# the oracle's (objective, wrt) for a key quantity where they differ from the oracle's table
TARGETS = {("word2vec-naive-softmax", "dJ/du"): ("J", "U")}


@cache
def point(pid: str, seed: int, one: bool = False) -> dict:
    """A random point of the problem (free variables only), "N" set; one sample of it when `one`."""
    o = ORACLES[pid]
    v = dict(o.problem.draw(np.random.default_rng(1000 + seed)))
    v["N"] = o.batch(v)
    if one:
        v = o.samples(v, seed % v["N"])
    return v


class _WithN:
    """An OracleProblem whose forward pass is `forward` (central_difference calls .forward)."""

    def __init__(self, forward):
        self.forward = forward


@cache
def finite_differences(pid: str, qid: str, seed: int, one: bool) -> np.ndarray:
    o = ORACLES[pid]
    objective, wrt = TARGETS.get((pid, qid), o.problem.quantities[qid])
    problem = _WithN(o.forward) if o.forward else o.problem
    return central_difference(problem, point(pid, seed, one), objective, wrt)


# ============================================================================ derived values
# What the lambdas read: the point's free variables and the forward pass's intermediate values,
# under short plain names.


def _logreg_values(v):
    z = v["w"].T @ v["X"] + v["b"]
    return {"z": z, "yh": sigmoid(z)}


def _linreg_values(v):
    yh = v["X"] @ v["w"] + v["b"]
    return {"yh": yh, "r": yh - v["y"]}


def _svm_values(v):
    S = v["W"] @ v["X"]
    M = S - np.sum(v["Delta"] * S, axis=0, keepdims=True) + 1.0
    A = (M > 0) * (1 - v["Delta"])  # the active margins of the wrong classes
    cnt = A.sum(axis=0, keepdims=True)  # per sample: how many
    return {"S": S, "M": M, "A": A, "cnt": cnt, "G": A - v["Delta"] * cnt, "lab": np.argmax(v["Delta"], axis=0)}


def _w2v_values(v):
    return {"yh": softmax(v["U"].T @ v["v_c"]), "o": int(np.argmax(v["y"]))}


def _bn_values(v):
    X, N = v["X"], v["X"].shape[0]
    mu = X.mean(axis=0, keepdims=True).T  # D × 1, as the key's μ
    var = ((X - mu.T) ** 2).mean(axis=0, keepdims=True).T  # D × 1, σ² (biased)
    inv = (var + v["epsilon"]) ** -0.5
    return {"mu": mu, "var": var, "inv": inv, "xh": (X - mu.T) * inv.T, "G": v["dY"], "N": N, "one": np.ones((N, 1))}


def _rnn_values(v):
    h1 = np.tanh(v["W"] @ v["h_0"] + v["U"] @ v["x_1"] + v["b"])
    h2 = np.tanh(v["W"] @ h1 + v["U"] @ v["x_2"] + v["b"])
    yh = softmax(v["V"] @ h2 + v["c"])
    g2 = v["V"].T @ (yh - v["y"])  # dJ/dh2
    return {
        "h1": h1,
        "h2": h2,
        "yh": yh,
        "g2": g2,
        "z1": v["W"] @ v["h_0"] + v["U"] @ v["x_1"] + v["b"],
        "z2": v["W"] @ h1 + v["U"] @ v["x_2"] + v["b"],
    }


def _leaky_values(v):
    z2 = v["W1"] @ v["X"] + v["b1"]
    a2 = np.where(z2 > 0, z2, v["alpha"] * z2)
    z3 = v["W2"] @ a2 + v["b2"]
    d = np.where(z2 > 0, 1.0, v["alpha"])  # the leaky ReLU's derivative
    return {"z2": z2, "a2": a2, "z3": z3, "a3": softmax(z3), "d": d, "pos": (z2 > 0) * 1.0, "neg": (z2 <= 0) * 1.0}


VALUES = {
    "logreg-l2": _logreg_values,
    "linreg-mse": _linreg_values,
    "svm-hinge": _svm_values,
    "word2vec-naive-softmax": _w2v_values,
    "batchnorm": _bn_values,
    "rnn-2step": _rnn_values,
    "leaky-relu-mlp": _leaky_values,
}


class P(dict):
    """The values a lambda reads, also as attributes: p.X, p.yh."""

    __getattr__ = dict.__getitem__


def values(pid: str, seed: int, one: bool) -> P:
    v = point(pid, seed, one)
    return P({**v, **VALUES[pid](v)})


def grid(shape, f) -> np.ndarray:
    """An array built entry by entry (an entrywise claim): f(i, j) for each entry."""
    out = np.zeros(shape)
    for idx in np.ndindex(*shape):
        out[idx] = f(*idx)
    return out


def columns(n: int, f) -> np.ndarray:
    """A matrix whose column w is the vector f(w) (a claim about one column, for every w)."""
    return np.hstack([np.asarray(f(w), dtype=float).reshape(-1, 1) for w in range(n)])


# ============================================================================ labels


def relation(value, fd, strict: bool = False) -> str:
    """correct | layout | wrong: the claim's value against the central differences. `strict`: an
    entrywise claim whose left-hand side names the entry (∂J/∂W_jk), so its transpose is wrong."""
    value, fd = np.asarray(value, dtype=float), np.asarray(fd, dtype=float)
    tol = 1e-6 * max(1.0, float(np.max(np.abs(fd))) if fd.size else 1.0)

    def close(a, b):
        return a.shape == b.shape and bool(np.all(np.abs(a - b) <= tol + 1e-5 * np.abs(b)))

    if value.size == fd.size == 1:
        return "correct" if close(value.reshape(1), fd.reshape(1)) else "wrong"
    if close(value, fd):
        return "correct"
    if strict:
        return "wrong"
    if close(value.T, fd) or (value.size == fd.size and min(fd.shape) == 1 and close(value.reshape(fd.shape), fd)):
        return "layout"
    return "wrong"


# ============================================================================ rows


@dataclass(frozen=True)
class Row:
    pid: str
    quantity: str  # the key's quantity id or the student's left-hand side
    qid: str  # the key's quantity id
    tex: str
    f: Callable = field(compare=False)
    right: bool
    id: str
    expect: tuple[str, ...] = ()  # wrong claims: the diagnosis codes a TA accepts as naming the mistake
    words: tuple[str, ...] = ()  # ... or words the feedback must contain
    one: bool = False  # written for one sample
    layout: bool = False  # does not typecheck as written: the lambda is the reordered product
    exact: bool = False  # also checked with the exact (SymPy) check
    entry: bool = False  # the left-hand side names the entry: a transposed value is wrong, not layout

    @property
    def label(self) -> str:
        return label(self)


def label(row: Row) -> str:
    found = set()
    for seed in range(3):
        fd = finite_differences(row.pid, row.qid, seed, row.one)
        found.add(relation(row.f(values(row.pid, seed, row.one)), fd, row.entry))
    if "wrong" in found:
        return "wrong"
    return "layout" if row.layout or "layout" in found else "correct"


ROWS: list[Row] = []


def table(pid: str, qid: str, rows):
    """Rows for one quantity: ("R"|"W", id, tex, lambda, options) tuples."""
    for kind, rid, tex, f, *opts in rows:
        o = dict(opts[0]) if opts else {}
        q = o.pop("q", qid)
        expect = o.pop("expect", ())
        words = o.pop("words", ())
        ROWS.append(
            Row(
                pid,
                q,
                qid,
                tex,
                f,
                kind == "R",
                f"{pid}:{qid}:{rid}",
                expect=(expect,) if isinstance(expect, str) else tuple(expect),
                words=(words,) if isinstance(words, str) else tuple(words),
                **o,
            )
        )


T = lambda a: np.asarray(a).T


# ============================================================================ logreg-l2
# X is D × N (samples as columns), y and ŷ are 1 × N, w is D × 1, b a number; J̃ = J + (λ/2)‖w‖².

LG = "logreg-l2"
table(
    LG,
    "dJ/dw",
    [
        ("R", "key", r"\frac{1}{N} X (\hat y - y)^T", lambda p: p.X @ T(p.yh - p.y) / p.N, {"exact": True}),
        ("R", "transposed", r"\frac{1}{N} (\hat y - y) X^T", lambda p: (p.yh - p.y) @ p.X.T / p.N),
        ("R", "rows-reading", r"\frac{1}{N} X^T (\hat y - y)", lambda p: p.X @ T(p.yh - p.y) / p.N),
        (
            "R",
            "superscripts",
            r"\frac{1}{N}\sum_{i=1}^{N} \left(\hat y^{(i)} - y^{(i)}\right) x^{(i)}",
            lambda p: sum((p.yh[0, i] - p.y[0, i]) * p.X[:, [i]] for i in range(p.N)) / p.N,
        ),
        (
            "R",
            "sample-unit-vectors",
            r"\frac{1}{N}\sum_{i=1}^{N} (\hat y_i - y_i)\, X e_i",
            lambda p: sum((p.yh[0, i] - p.y[0, i]) * p.X[:, [i]] for i in range(p.N)) / p.N,
        ),
        (
            "R",
            "sigma-written-out",
            r"-\frac{1}{N}\sum_{i=1}^{N} \left(y_i - \sigma(w^T x_i + b)\right) x_i",
            lambda p: -sum((p.y[0, i] - sigmoid(p.w[:, 0] @ p.X[:, i] + p.b)) * p.X[:, [i]] for i in range(p.N)) / p.N,
        ),
        (
            "R",
            "entrywise",
            r"\frac{1}{N}\sum_{i=1}^{N} (\hat y_i - y_i) X_{ji}",
            lambda p: grid((3, 1), lambda j, _: sum((p.yh[0, i] - p.y[0, i]) * p.X[j, i] for i in range(p.N)) / p.N),
            {"q": r"\frac{\partial J}{\partial w_j}"},
        ),
        (
            "R",
            "summation-convention",
            r"\frac{1}{N} X_{ji} (\hat y_i - y_i)",
            lambda p: grid((3, 1), lambda j, _: sum((p.yh[0, i] - p.y[0, i]) * p.X[j, i] for i in range(p.N)) / p.N),
            {"q": r"\frac{\partial J}{\partial w_j}"},
        ),
        (
            "R",
            "unsized-ones",
            r"\frac{1}{N} X \left(\sigma(X^T w + b\mathbf{1}) - y^T\right)",
            lambda p: p.X @ (sigmoid(p.X.T @ p.w + p.b) - p.y.T) / p.N,
        ),
        ("R", "one-sample", r"\frac{1}{N}(a - y)\,x", lambda p: (p.yh - p.y) * p.X / p.N, {"one": True}),
        ("W", "sign", r"\frac{1}{N} X (y - \hat y)^T", lambda p: p.X @ T(p.y - p.yh) / p.N, {"expect": "sign"}),
        ("W", "no-1/N", r"X (\hat y - y)^T", lambda p: p.X @ T(p.yh - p.y), {"expect": "missing-1/N"}),
        (
            "W",
            "sum-without-index",
            r"\frac{1}{N}\sum_{i=1}^{N} (\hat y - y)\, x",
            lambda p: (p.yh - p.y) * p.X,
            {"one": True, "expect": ("missing-1/N", "extra-N", "coefficient")},
        ),
        (
            "W",
            "one-sample-no-1/N",
            r"(\hat y - y)\,x",
            lambda p: (p.yh - p.y) * p.X,
            {"one": True, "expect": "missing-1/N"},
        ),
        (
            "W",
            "extra-1/N",
            r"\frac{1}{N^2} X (\hat y - y)^T",
            lambda p: p.X @ T(p.yh - p.y) / p.N**2,
            {"expect": "extra-1/N"},
        ),
        (
            "W",
            "regulariser-in-J",
            r"\frac{1}{N} X (\hat y - y)^T + \lambda w",
            lambda p: p.X @ T(p.yh - p.y) / p.N + p["lambda"] * p.w,
            {"expect": ("extra-regularisation", "extra-term")},
        ),
        (
            "W",
            "sigma-prime-extra",
            r"\frac{1}{N} X \left(\hat y \odot (1 - \hat y) \odot (\hat y - y)\right)^T",
            lambda p: p.X @ T(p.yh * (1 - p.yh) * (p.yh - p.y)) / p.N,
            {"expect": ("extra-activation-derivative", "extra-factor")},
        ),
        (
            "W",
            "half",
            r"\frac{1}{2N} X (\hat y - y)^T",
            lambda p: p.X @ T(p.yh - p.y) / (2 * p.N),
            {"expect": "coefficient"},
        ),
        (
            "W",
            "label-term-missing",
            r"\frac{1}{N} X \hat y^T",
            lambda p: p.X @ p.yh.T / p.N,
            {"expect": "missing-term"},
        ),
        (
            "W",
            "z-for-yhat",
            r"\frac{1}{N} X (z - y)^T",
            lambda p: p.X @ T(p.z - p.y) / p.N,
            {"expect": "pre-activation-for-activation"},
        ),
        (
            "W",
            "bias-left-out",
            r"\frac{1}{N}\sum_{i=1}^{N} \left(\sigma(w^T x_i) - y_i\right) x_i",
            lambda p: sum((sigmoid(p.w[:, 0] @ p.X[:, i]) - p.y[0, i]) * p.X[:, [i]] for i in range(p.N)) / p.N,
            {"expect": ("bias-missing", "missing-term"), "words": "bias"},
        ),
        (
            "W",
            "x-missing",
            r"\frac{1}{N}\sum_{i=1}^{N} (\hat y_i - y_i)",
            lambda p: np.sum(p.yh - p.y) / p.N,
            {"expect": ("other-quantity", "size")},
        ),
    ],
)
table(
    LG,
    "dJ/db",
    [
        (
            "R",
            "key",
            r"\frac{1}{N} (\hat y - y) \mathbf{1}_N",
            lambda p: (p.yh - p.y) @ np.ones((p.N, 1)) / p.N,
            {"exact": True},
        ),
        ("R", "sum", r"\frac{1}{N}\sum_{i=1}^{N} (\hat y_i - y_i)", lambda p: np.sum(p.yh - p.y) / p.N),
        (
            "R",
            "superscripts",
            r"\frac{1}{N}\sum_{i} \left(\hat y^{(i)} - y^{(i)}\right)",
            lambda p: sum(p.yh[0, i] - p.y[0, i] for i in range(p.N)) / p.N,
        ),
        ("R", "unsized-ones", r"\frac{1}{N}\mathbf{1}^T (\hat y - y)^T", lambda p: np.sum(p.yh - p.y) / p.N),
        (
            "R",
            "sigma-written-out",
            r"\frac{1}{N}\sum_{i=1}^{N}\left(\sigma(w^T x^{(i)} + b) - y^{(i)}\right)",
            lambda p: sum(sigmoid(p.w[:, 0] @ p.X[:, i] + p.b) - p.y[0, i] for i in range(p.N)) / p.N,
        ),
        ("R", "minus-sum", r"-\frac{1}{N}\sum_{i=1}^{N} (y_i - p_i)", lambda p: -np.sum(p.y - p.yh) / p.N),
        ("R", "one-sample", r"\frac{1}{N}(\hat y - y)", lambda p: (p.yh - p.y) / p.N, {"one": True}),
        (
            "W",
            "sign",
            r"\frac{1}{N}\sum_{i=1}^{N} (y_i - \hat y_i)",
            lambda p: np.sum(p.y - p.yh) / p.N,
            {"expect": "sign"},
        ),
        ("W", "no-1/N", r"\sum_{i=1}^{N} (\hat y_i - y_i)", lambda p: np.sum(p.yh - p.y), {"expect": "missing-1/N"}),
        ("W", "one-sample-no-1/N", r"a - y", lambda p: p.yh - p.y, {"one": True, "expect": "missing-1/N"}),
        (
            "W",
            "bias-regularised",
            r"\frac{1}{N}\sum_{i=1}^{N} (\hat y_i - y_i) + \lambda b",
            lambda p: np.sum(p.yh - p.y) / p.N + p["lambda"] * p.b,
            {"expect": ("extra-regularisation", "extra-term")},
        ),
        (
            "W",
            "dJ/dw-for-db",
            r"\frac{1}{N}\sum_{i=1}^{N} (\hat y_i - y_i)\, x_i",
            lambda p: p.X @ T(p.yh - p.y) / p.N,
            {"expect": ("other-quantity", "extra-factor")},
        ),
        (
            "W",
            "sigma-prime-extra",
            r"\frac{1}{N}\sum_{i=1}^{N} \hat y_i (1 - \hat y_i)(\hat y_i - y_i)",
            lambda p: np.sum(p.yh * (1 - p.yh) * (p.yh - p.y)) / p.N,
            {"expect": ("extra-activation-derivative", "extra-factor")},
        ),
        (
            "W",
            "label-term-missing",
            r"\frac{1}{N}\sum_{i=1}^{N} \hat y_i",
            lambda p: np.sum(p.yh) / p.N,
            {"expect": "missing-term"},
        ),
        (
            "W",
            "half",
            r"\frac{1}{2N}\sum_{i=1}^{N} (\hat y_i - y_i)",
            lambda p: np.sum(p.yh - p.y) / (2 * p.N),
            {"expect": "coefficient"},
        ),
        (
            "W",
            "bias-left-out",
            r"\frac{1}{N}\sum_{i=1}^{N} \left(\sigma(w^T x^{(i)}) - y^{(i)}\right)",
            lambda p: sum(sigmoid(p.w[:, 0] @ p.X[:, i]) - p.y[0, i] for i in range(p.N)) / p.N,
            {"expect": ("bias-missing", "missing-term"), "words": "bias"},
        ),
        (
            "W",
            "z-for-yhat",
            r"\frac{1}{N}\sum_{i=1}^{N} (z_i - y_i)",
            lambda p: np.sum(p.z - p.y) / p.N,
            {"expect": "pre-activation-for-activation"},
        ),
    ],
)
table(
    LG,
    "dJt/dw",
    [
        (
            "R",
            "key",
            r"\frac{1}{N} X (\hat y - y)^T + \lambda w",
            lambda p: p.X @ T(p.yh - p.y) / p.N + p["lambda"] * p.w,
            {"exact": True},
        ),
        (
            "R",
            "transposed",
            r"\frac{1}{N} (\hat y - y) X^T + \lambda w^T",
            lambda p: (p.yh - p.y) @ p.X.T / p.N + p["lambda"] * p.w.T,
            {"q": r"\frac{\partial \tilde J}{\partial w}"},
        ),
        (
            "R",
            "superscripts",
            r"\frac{1}{N}\sum_{i=1}^{N}\left(\hat y^{(i)} - y^{(i)}\right) x^{(i)} + \lambda w",
            lambda p: sum((p.yh[0, i] - p.y[0, i]) * p.X[:, [i]] for i in range(p.N)) / p.N + p["lambda"] * p.w,
        ),
        (
            "R",
            "entrywise",
            r"\frac{1}{N}\sum_{i=1}^{N} (\hat y_i - y_i) X_{ji} + \lambda w_j",
            lambda p: grid(
                (3, 1),
                lambda j, _: (
                    sum((p.yh[0, i] - p.y[0, i]) * p.X[j, i] for i in range(p.N)) / p.N + p["lambda"] * p.w[j, 0]
                ),
            ),
            {"q": r"\frac{\partial \tilde J}{\partial w_j}"},
        ),
        (
            "R",
            "N-lambda-inside",
            r"\frac{1}{N}\left(X(\hat y - y)^T + N\lambda w\right)",
            lambda p: (p.X @ T(p.yh - p.y) + p.N * p["lambda"] * p.w) / p.N,
        ),
        (
            "R",
            "lambda-first",
            r"\lambda w - \frac{1}{N}\sum_{i=1}^{N} \left(y_i - \sigma(w^T x_i + b)\right) x_i",
            lambda p: (
                p["lambda"] * p.w
                - sum((p.y[0, i] - sigmoid(p.w[:, 0] @ p.X[:, i] + p.b)) * p.X[:, [i]] for i in range(p.N)) / p.N
            ),
            {"q": r"\nabla_w \tilde J"},
        ),
        (
            "R",
            "one-sample",
            r"\frac{1}{N}(a - y)\,x + \lambda w",
            lambda p: (p.yh - p.y) * p.X / p.N + p["lambda"] * p.w,
            {"one": True},
        ),
        (
            "W",
            "regulariser-missing",
            r"\frac{1}{N} X (\hat y - y)^T",
            lambda p: p.X @ T(p.yh - p.y) / p.N,
            {"expect": "missing-regularisation"},
        ),
        (
            "W",
            "2lambda",
            r"\frac{1}{N} X (\hat y - y)^T + 2\lambda w",
            lambda p: p.X @ T(p.yh - p.y) / p.N + 2 * p["lambda"] * p.w,
            {"expect": "regularisation-coefficient", "exact": True},
        ),
        (
            "W",
            "lambda/2",
            r"\frac{1}{N} X (\hat y - y)^T + \frac{\lambda}{2} w",
            lambda p: p.X @ T(p.yh - p.y) / p.N + p["lambda"] / 2 * p.w,
            {"expect": "regularisation-coefficient"},
        ),
        (
            "W",
            "regulariser-inside-1/N",
            r"\frac{1}{N}\left(X (\hat y - y)^T + \lambda w\right)",
            lambda p: (p.X @ T(p.yh - p.y) + p["lambda"] * p.w) / p.N,
            {"expect": ("regularisation-inside-bracket", "regularisation-over-N")},
        ),
        (
            "W",
            "lambda/N",
            r"\frac{1}{N} X (\hat y - y)^T + \frac{\lambda}{N} w",
            lambda p: p.X @ T(p.yh - p.y) / p.N + p["lambda"] / p.N * p.w,
            {"expect": ("regularisation-over-N", "regularisation-inside-bracket")},
        ),
        (
            "W",
            "regulariser-sign",
            r"\frac{1}{N} X (\hat y - y)^T - \lambda w",
            lambda p: p.X @ T(p.yh - p.y) / p.N - p["lambda"] * p.w,
            {"expect": "regularisation-sign"},
        ),
        (
            "W",
            "data-term-sign",
            r"\frac{1}{N} X (y - \hat y)^T + \lambda w",
            lambda p: p.X @ T(p.y - p.yh) / p.N + p["lambda"] * p.w,
            {"expect": "sign-of-term"},
        ),
        (
            "W",
            "data-term-no-1/N",
            r"X (\hat y - y)^T + \lambda w",
            lambda p: p.X @ T(p.yh - p.y) + p["lambda"] * p.w,
            {"expect": ("missing-1/N", "1/N-on-one-term")},
        ),
        (
            "W",
            "sigma-prime-extra",
            r"\frac{1}{N} X \left(\hat y \odot (1 - \hat y) \odot (\hat y - y)\right)^T + \lambda w",
            lambda p: p.X @ T(p.yh * (1 - p.yh) * (p.yh - p.y)) / p.N + p["lambda"] * p.w,
            {"expect": ("extra-activation-derivative", "extra-factor")},
        ),
    ],
)


# ============================================================================ linreg-mse
# X is N × D (samples as rows), y and ŷ are N × 1, w is D × 1, b a number; J = (1/2N)‖Xw + b1 − y‖².

LR = "linreg-mse"
table(
    LR,
    "dJ/dw",
    [
        ("R", "key", r"\frac{1}{N} X^T (X w + b \mathbf{1}_N - y)", lambda p: p.X.T @ p.r / p.N, {"exact": True}),
        ("R", "transposed", r"\frac{1}{N} (X w + b\mathbf{1} - y)^T X", lambda p: p.r.T @ p.X / p.N),
        (
            "R",
            "superscripts",
            r"\frac{1}{N}\sum_{i=1}^{N} \left(w^T x^{(i)} + b - y^{(i)}\right) x^{(i)}",
            lambda p: sum((p.w[:, 0] @ p.X[i] + p.b - p.y[i, 0]) * p.X[[i]].T for i in range(p.N)) / p.N,
        ),
        (
            "R",
            "entrywise",
            r"\frac{1}{N}\sum_{i=1}^{N}\left(\sum_{k=1}^{D} X_{ik} w_k + b - y_i\right) X_{ij}",
            lambda p: grid(
                (3, 1),
                lambda j, _: (
                    sum(
                        (sum(p.X[i, k] * p.w[k, 0] for k in range(3)) + p.b - p.y[i, 0]) * p.X[i, j] for i in range(p.N)
                    )
                    / p.N
                ),
            ),
            {"q": r"\frac{\partial J}{\partial w_j}"},
        ),
        (
            "R",
            "summation-convention",
            r"\frac{1}{N}(X_{ik} w_k + b - y_i) X_{ij}",
            lambda p: grid(
                (3, 1), lambda j, _: sum((p.X[i] @ p.w[:, 0] + p.b - p.y[i, 0]) * p.X[i, j] for i in range(p.N)) / p.N
            ),
            {"q": r"\frac{\partial J}{\partial w_j}"},
        ),
        (
            "R",
            "expanded",
            r"\frac{1}{N}\left(X^T X w + b X^T \mathbf{1} - X^T y\right)",
            lambda p: (p.X.T @ p.X @ p.w + p.b * p.X.T @ np.ones((p.N, 1)) - p.X.T @ p.y) / p.N,
        ),
        ("R", "yhat", r"\frac{1}{N} X^T (\hat y - y)", lambda p: p.X.T @ (p.yh - p.y) / p.N),
        ("R", "broadcast-b", r"\frac{1}{N} X^T (X w + b - y)", lambda p: p.X.T @ p.r / p.N),
        (
            "R",
            "unit-vectors",
            r"\frac{1}{N}\sum_{k=1}^{D} e_k\, (X e_k)^T (X w + b \mathbf{1}_N - y)",
            lambda p: sum(np.eye(3)[:, [k]] @ (p.X[:, [k]].T @ p.r) for k in range(3)) / p.N,
        ),
        ("R", "half-times-two", r"\frac{1}{2N} \cdot 2 X^T (Xw + b\mathbf{1}_N - y)", lambda p: p.X.T @ p.r / p.N),
        (
            "R",
            "one-sample",
            r"\frac{1}{N}(w^T x + b - y)\,x",
            lambda p: (p.X @ p.w + p.b - p.y) * p.X.T / p.N,
            {"one": True},
        ),
        (
            "W",
            "factor-2",
            r"\frac{2}{N} X^T (X w + b \mathbf{1}_N - y)",
            lambda p: 2 * p.X.T @ p.r / p.N,
            {"expect": "coefficient"},
        ),
        ("W", "sign", r"\frac{1}{N} X^T (y - X w - b\mathbf{1}_N)", lambda p: -p.X.T @ p.r / p.N, {"expect": "sign"}),
        ("W", "no-1/N", r"X^T (X w + b \mathbf{1}_N - y)", lambda p: p.X.T @ p.r, {"expect": "missing-1/N"}),
        (
            "W",
            "bias-left-out",
            r"\frac{1}{N} X^T (X w - y)",
            lambda p: p.X.T @ (p.X @ p.w - p.y) / p.N,
            {"expect": "missing-term", "exact": True},
        ),
        (
            "W",
            "bias-left-out-unit-vectors",
            r"\frac{1}{N}\sum_{k=1}^{D} e_k\, (X e_k)^T (X w - y)",
            lambda p: p.X.T @ (p.X @ p.w - p.y) / p.N,
            {"expect": "missing-term"},
        ),
        (
            "W",
            "bias-left-out-expanded",
            r"\frac{1}{N} X^T X w - \frac{1}{N} X^T y",
            lambda p: (p.X.T @ p.X @ p.w - p.X.T @ p.y) / p.N,
            {"expect": "missing-term"},
        ),
        (
            "W",
            "half",
            r"\frac{1}{2N} X^T (X w + b \mathbf{1}_N - y)",
            lambda p: p.X.T @ p.r / (2 * p.N),
            {"expect": "coefficient"},
        ),
        (
            "W",
            "1/N-on-one-term",
            r"\frac{1}{N} X^T X w + b X^T \mathbf{1}_N - X^T y",
            lambda p: p.X.T @ p.X @ p.w / p.N + p.b * p.X.T @ np.ones((p.N, 1)) - p.X.T @ p.y,
            {"expect": ("1/N-on-one-term", "missing-1/N")},
        ),
        (
            "W",
            "label-sign",
            r"\frac{1}{N} X^T (X w + b \mathbf{1}_N + y)",
            lambda p: p.X.T @ (p.X @ p.w + p.b + p.y) / p.N,
            {"expect": "sign-of-term"},
        ),
        (
            "W",
            "one-sample-no-1/N",
            r"(w^T x + b - y)\,x",
            lambda p: (p.X @ p.w + p.b - p.y) * p.X.T,
            {"one": True, "expect": "missing-1/N"},
        ),
        (
            "W",
            "x-missing",
            r"\frac{1}{N}\sum_{i=1}^{N} (w^T x_i + b - y_i)",
            lambda p: np.sum(p.r) / p.N,
            {"expect": ("other-quantity", "size")},
        ),
    ],
)
table(
    LR,
    "dJ/db",
    [
        (
            "R",
            "key",
            r"\frac{1}{N} \mathbf{1}_N^T (X w + b \mathbf{1}_N - y)",
            lambda p: np.sum(p.r) / p.N,
            {"exact": True},
        ),
        (
            "R",
            "sum",
            r"\frac{1}{N}\sum_{i=1}^{N} (w^T x_i + b - y_i)",
            lambda p: sum(p.w[:, 0] @ p.X[i] + p.b - p.y[i, 0] for i in range(p.N)) / p.N,
        ),
        (
            "R",
            "superscripts",
            r"\frac{1}{N}\sum_{i} \left(\hat y^{(i)} - y^{(i)}\right)",
            lambda p: np.sum(p.yh - p.y) / p.N,
        ),
        ("R", "unsized-ones", r"\frac{1}{N} (X w + b\mathbf{1} - y)^T \mathbf{1}", lambda p: np.sum(p.r) / p.N),
        (
            "R",
            "b-apart",
            r"b + \frac{1}{N}\sum_{i=1}^{N} (x_i^T w - y_i)",
            lambda p: p.b + np.sum(p.X @ p.w - p.y) / p.N,
        ),
        (
            "R",
            "entries",
            r"\frac{1}{N}\sum_{i=1}^{N}\left(\sum_{j=1}^{D} X_{ij} w_j + b - y_i\right)",
            lambda p: sum(sum(p.X[i, j] * p.w[j, 0] for j in range(3)) + p.b - p.y[i, 0] for i in range(p.N)) / p.N,
        ),
        ("R", "one-sample", r"\frac{1}{N}(w^T x + b - y)", lambda p: (p.X @ p.w + p.b - p.y) / p.N, {"one": True}),
        ("R", "yhat-ones", r"\frac{1}{N}\mathbf{1}^T(\hat y - y)", lambda p: np.sum(p.yh - p.y) / p.N),
        (
            "W",
            "factor-2",
            r"\frac{2}{N}\mathbf{1}_N^T (X w + b \mathbf{1}_N - y)",
            lambda p: 2 * np.sum(p.r) / p.N,
            {"expect": "coefficient"},
        ),
        (
            "W",
            "sign",
            r"\frac{1}{N}\sum_{i=1}^{N} (y_i - w^T x_i - b)",
            lambda p: -np.sum(p.r) / p.N,
            {"expect": "sign"},
        ),
        ("W", "no-1/N", r"\sum_{i=1}^{N} (w^T x_i + b - y_i)", lambda p: np.sum(p.r), {"expect": "missing-1/N"}),
        (
            "W",
            "bias-left-out",
            r"\frac{1}{N}\mathbf{1}_N^T (X w - y)",
            lambda p: np.sum(p.X @ p.w - p.y) / p.N,
            {"expect": "missing-term", "exact": True},
        ),
        (
            "W",
            "dJ/dw-for-db",
            r"\frac{1}{N} X^T (X w + b \mathbf{1}_N - y)",
            lambda p: p.X.T @ p.r / p.N,
            {"expect": ("other-quantity", "extra-factor")},
        ),
        (
            "W",
            "b-apart-sign",
            r"b - \frac{1}{N}\sum_{i=1}^{N} (x_i^T w - y_i)",
            lambda p: p.b - np.sum(p.X @ p.w - p.y) / p.N,
            {"expect": "sign-of-term"},
        ),
        (
            "W",
            "half",
            r"\frac{1}{2N}\sum_{i=1}^{N} (\hat y_i - y_i)",
            lambda p: np.sum(p.yh - p.y) / (2 * p.N),
            {"expect": "coefficient"},
        ),
        (
            "W",
            "one-sample-no-1/N",
            r"w^T x + b - y",
            lambda p: p.X @ p.w + p.b - p.y,
            {"one": True, "expect": "missing-1/N"},
        ),
        (
            "W",
            "extra-b",
            r"\frac{1}{N}\sum_{i=1}^{N} (w^T x_i + b - y_i) + b",
            lambda p: np.sum(p.r) / p.N + p.b,
            {"expect": "extra-term"},
        ),
    ],
)


# ============================================================================ svm-hinge
# W is C × D, X is D × N (samples as columns), Δ is C × N one-hot, S = WX, M_ji = s_ji − s_{y_i i} + 1;
# A = 1[M > 0] ⊙ (11ᵀ − Δ) (the active wrong classes), cnt_i = Σ_j A_ji, G = A − Δ ⊙ 1cntᵀ, dJ/dW = G Xᵀ / N.

SV = "svm-hinge"
_SVM_KEY = r"\frac{1}{N}\left(\mathbb{1}[M > 0] \odot (\mathbf{1}_C \mathbf{1}_N^T - \Delta) - \Delta \odot \mathbf{1}_C \mathbf{1}_C^T \left(\mathbb{1}[M > 0] \odot (\mathbf{1}_C \mathbf{1}_N^T - \Delta)\right)\right) X^T"


def _svm_entry(p, j, k, count_all=False, correct_term=True):
    """(1/N) Σ_i (1[M_ji > 0](1 − Δ_ji) − Δ_ji Σ_{c ≠ y_i} 1[M_ci > 0]) X_ki, written as the loop a TA writes."""
    total = 0.0
    for i in range(p.X.shape[1]):
        yi = p.lab[i]
        active = [c for c in range(p.W.shape[0]) if (count_all or c != yi) and p.M[c, i] > 0]
        if j != yi and p.M[j, i] > 0:
            total += p.X[k, i]
        if j == yi and correct_term:
            total -= len(active) * p.X[k, i]
    return total / p.N


def _svm_units(p, margin=1.0):
    """(1/N) Σ_i Σ_{j ≠ y_i} 1[s_ji − s_{y_i i} + margin > 0] (e_j − e_{y_i}) x_iᵀ."""
    C = p.W.shape[0]
    out = np.zeros_like(p.W)
    for i in range(p.X.shape[1]):
        for j in range(C):
            if j != p.lab[i] and p.S[j, i] - p.S[p.lab[i], i] + margin > 0:
                e = np.zeros((C, 1))
                e[j] += 1
                e[p.lab[i]] -= 1
                out += e @ p.X[:, [i]].T
    return out / p.N


def _svm_wrong_rows(reg: str, regf):
    """The wrong claims common to dJ/dW and dJ̃/dW: each with the regulariser term `reg` (right there)."""
    r = regf
    return [
        (
            "W",
            "correct-class-term-missing",
            r"\frac{1}{N}\left(\mathbb{1}[M > 0] \odot (\mathbf{1}_C \mathbf{1}_N^T - \Delta)\right) X^T" + reg,
            lambda p: p.A @ p.X.T / p.N + r(p),
            {"expect": ("missing-term", "missing-path"), "exact": True},
        ),
        (
            "W",
            "mask-keeps-correct-class",
            r"\frac{1}{N}\mathbb{1}[M > 0] X^T" + reg,
            lambda p: (p.M > 0) @ p.X.T / p.N + r(p),
            {"expect": ("missing-term", "missing-path")},
        ),
        (
            "W",
            "sign",
            r"\frac{1}{N}\left(\Delta \odot \mathbf{1}_C \mathbf{1}_C^T \left(\mathbb{1}[M > 0] \odot (\mathbf{1}_C \mathbf{1}_N^T - \Delta)\right) - \mathbb{1}[M > 0] \odot (\mathbf{1}_C \mathbf{1}_N^T - \Delta)\right) X^T"
            + reg,
            lambda p: -p.G @ p.X.T / p.N + r(p),
            {"expect": ("sign", "sign-of-term")},
        ),
        (
            "W",
            "no-1/N",
            r"\left(\mathbb{1}[M > 0] \odot (\mathbf{1}_C \mathbf{1}_N^T - \Delta) - \Delta \odot \mathbf{1}_C \mathbf{1}_C^T \left(\mathbb{1}[M > 0] \odot (\mathbf{1}_C \mathbf{1}_N^T - \Delta)\right)\right) X^T"
            + reg,
            lambda p: p.G @ p.X.T + r(p),
            {"expect": ("missing-1/N", "1/N-on-one-term")},
        ),
        (
            "W",
            "reversed-indicator",
            r"\frac{1}{N}\left(\mathbb{1}[M < 0] \odot (\mathbf{1}_C \mathbf{1}_N^T - \Delta) - \Delta \odot \mathbf{1}_C \mathbf{1}_C^T \left(\mathbb{1}[M < 0] \odot (\mathbf{1}_C \mathbf{1}_N^T - \Delta)\right)\right) X^T"
            + reg,
            lambda p: (
                ((p.M < 0) * (1 - p.Delta) - p.Delta * ((p.M < 0) * (1 - p.Delta)).sum(axis=0, keepdims=True))
                @ p.X.T
                / p.N
                + r(p)
            ),
            {"expect": "reversed-indicator"},
        ),
        (
            "W",
            "margin-without-1",
            r"\frac{1}{N}\left(\mathbb{1}[S - \mathbf{1}_C \mathbf{1}_C^T (\Delta \odot S) > 0] \odot (\mathbf{1}_C \mathbf{1}_N^T - \Delta) - \Delta \odot \mathbf{1}_C \mathbf{1}_C^T \left(\mathbb{1}[S - \mathbf{1}_C \mathbf{1}_C^T (\Delta \odot S) > 0] \odot (\mathbf{1}_C \mathbf{1}_N^T - \Delta)\right)\right) X^T"
            + reg,
            lambda p: _svm_units(p, margin=0.0) + r(p),
            {"expect": ("indicator-argument", "reversed-indicator")},
        ),
        (
            "W",
            "margin-without-1-units",
            r"\frac{1}{N}\sum_{i=1}^{N}\sum_{j \neq y_i}\mathbb{1}[s_{ji} - s_{y_i i} > 0]\,(e_j - e_{y_i})\, x_i^T"
            + reg,
            lambda p: _svm_units(p, margin=0.0) + r(p),
            {"expect": "indicator-argument"},
        ),
        (
            "W",
            "count-includes-correct-class",
            r"\frac{1}{N}\left(\mathbb{1}[M > 0] \odot (\mathbf{1}_C \mathbf{1}_N^T - \Delta) - \Delta \odot \mathbf{1}_C \mathbf{1}_C^T\,\mathbb{1}[M > 0]\right) X^T"
            + reg,
            lambda p: grid(p.W.shape, lambda j, k: _svm_entry(p, j, k, count_all=True)) + r(p),
            {"expect": ("extra-term", "missing-term", "missing-factor")},
        ),
        (
            "W",
            "count-as-indicator",
            r"\frac{1}{N}\left(\mathbb{1}[M > 0] \odot (\mathbf{1}_C \mathbf{1}_N^T - \Delta) - \Delta \odot \mathbb{1}\left[\mathbf{1}_C \mathbf{1}_C^T \left(\mathbb{1}[M > 0] \odot (\mathbf{1}_C \mathbf{1}_N^T - \Delta)\right) > 0\right]\right) X^T"
            + reg,
            lambda p: (p.A - p.Delta * (p.cnt > 0)) @ p.X.T / p.N + r(p),
            {"expect": ("missing-term", "wrong-count")},
        ),
        (
            "W",
            "count-term-no-x",
            r"\frac{1}{N}\left(\mathbb{1}[M > 0] \odot (\mathbf{1}_C \mathbf{1}_N^T - \Delta)\right) X^T - \frac{1}{N}\Delta \mathbf{1}_N \mathbf{1}_D^T"
            + reg,
            lambda p: p.A @ p.X.T / p.N - p.Delta @ np.ones((p.N, 3)) / p.N + r(p),
            {"expect": ("missing-term", "missing-factor")},
        ),
    ]


table(
    SV,
    "dJ/dW",
    [
        ("R", "key", _SVM_KEY, lambda p: p.G @ p.X.T / p.N, {"exact": True}),
        (
            "R",
            "unit-vectors",
            r"\frac{1}{N}\sum_{i=1}^{N}\sum_{j \neq y_i}\mathbb{1}[s_{ji} - s_{y_i i} + 1 > 0]\,(e_j - e_{y_i})\, x_i^T",
            _svm_units,
        ),
        (
            "R",
            "entrywise",
            r"\frac{1}{N}\sum_{i=1}^{N}\left(\mathbb{1}[M_{ji} > 0](1 - \Delta_{ji}) - \Delta_{ji}\sum_{c \neq y_i}\mathbb{1}[M_{ci} > 0]\right) X_{ki}",
            lambda p: grid(p.W.shape, lambda j, k: _svm_entry(p, j, k)),
            {"q": r"\frac{\partial J}{\partial W_{jk}}"},
        ),
        (
            "R",
            "cases",
            r"\frac{1}{N}\sum_{i=1}^{N}\begin{cases} \mathbb{1}[s_{ji} - s_{y_i i} + 1 > 0]\, x_{ki} & j \neq y_i \\ -\sum_{c \neq y_i}\mathbb{1}[s_{ci} - s_{y_i i} + 1 > 0]\, x_{ki} & j = y_i \end{cases}",
            lambda p: grid(p.W.shape, lambda j, k: _svm_entry(p, j, k)),
            {"q": r"\frac{\partial J}{\partial W_{jk}}"},
        ),
        (
            "R",
            "unsized-ones",
            r"\frac{1}{N}\left(\mathbf{1}\{M > 0\} \odot (\mathbf{1}\mathbf{1}^T - Y) - Y \odot \mathbf{1}\mathbf{1}^T\left(\mathbf{1}\{M > 0\} \odot (\mathbf{1}\mathbf{1}^T - Y)\right)\right) X^T",
            lambda p: p.G @ p.X.T / p.N,
        ),
        (
            "R",
            "unsized-ones-diag-counts",
            r"\frac{1}{N}\left(\mathbb{1}[M > 0] \odot (\mathbf{1}\mathbf{1}^T - \Delta) - \Delta\operatorname{diag}\left(\mathbf{1}^T\left(\mathbb{1}[M > 0] \odot (\mathbf{1}\mathbf{1}^T - \Delta)\right)\right)\right) X^T",
            lambda p: (p.A - p.Delta @ np.diag(p.cnt[0])) @ p.X.T / p.N,
        ),
        (
            "W",
            "unsized-ones-count-sign",
            r"\frac{1}{N}\left(\mathbb{1}[M > 0] \odot (\mathbf{1}\mathbf{1}^T - \Delta) + \Delta \odot \mathbf{1}\mathbf{1}^T\left(\mathbb{1}[M > 0] \odot (\mathbf{1}\mathbf{1}^T - \Delta)\right)\right) X^T",
            lambda p: (p.A + p.Delta * p.cnt) @ p.X.T / p.N,
            {"expect": ("sign-of-term", "sign")},
        ),
        (
            "W",
            "unsized-ones-count-over-samples",
            r"\frac{1}{N}\left(\mathbb{1}[M > 0] \odot (\mathbf{1}\mathbf{1}^T - \Delta) - \Delta \odot \left(\mathbb{1}[M > 0] \odot (\mathbf{1}\mathbf{1}^T - \Delta)\right)\mathbf{1}\mathbf{1}^T\right) X^T",
            lambda p: (p.A - p.Delta * p.A.sum(axis=1, keepdims=True)) @ p.X.T / p.N,
            {"expect": "wrong-axis"},
        ),
        (
            "R",
            "entrywise-bounded-sums",
            r"\frac{1}{N}\sum_{i=1}^{N}\left(\mathbb{1}[M_{ji} > 0](1 - \Delta_{ji}) - \Delta_{ji}\sum_{c=1}^{C}(1 - \Delta_{ci})\,\mathbb{1}[M_{ci} > 0]\right) X_{ki}",
            lambda p: grid(p.W.shape, lambda j, k: _svm_entry(p, j, k)),
            {"q": r"\frac{\partial J}{\partial W_{jk}}"},
        ),
        (
            "R",
            "mask-with-correct-class",
            r"\frac{1}{N}\left(\mathbb{1}[M > 0] - \Delta \odot \mathbf{1}_C\mathbf{1}_C^T\,\mathbb{1}[M > 0]\right) X^T",
            lambda p: ((p.M > 0) - p.Delta * (p.M > 0).sum(axis=0, keepdims=True)) @ p.X.T / p.N,
        ),
        (
            "R",
            "diag-counts",
            r"\frac{1}{N}\left(\mathbb{1}[M > 0] \odot (\mathbf{1}_C \mathbf{1}_N^T - \Delta) - \Delta\operatorname{diag}\left(\mathbf{1}_C^T\left(\mathbb{1}[M > 0] \odot (\mathbf{1}_C \mathbf{1}_N^T - \Delta)\right)\right)\right) X^T",
            lambda p: (p.A - p.Delta @ np.diag(p.cnt[0])) @ p.X.T / p.N,
        ),
        (
            "R",
            "transposed",
            r"\frac{1}{N} X \left((M > 0) \odot (\mathbf{1}_C \mathbf{1}_N^T - \Delta) - \Delta \odot \mathbf{1}_C \mathbf{1}_C^T \left((M > 0) \odot (\mathbf{1}_C \mathbf{1}_N^T - \Delta)\right)\right)^T",
            lambda p: p.X @ p.G.T / p.N,
        ),
        (
            "R",
            "one-sample",
            r"\frac{1}{N}\sum_{j \neq y}\mathbb{1}[s_j - s_y + 1 > 0]\,(e_j - e_y)\, x^T",
            _svm_units,
            {"one": True},
        ),
        *_svm_wrong_rows("", lambda p: 0.0),
        (
            "W",
            "regulariser-in-J",
            _SVM_KEY + r" + 2\lambda W",
            lambda p: p.G @ p.X.T / p.N + 2 * p["lambda"] * p.W,
            {"expect": ("extra-regularisation", "extra-term")},
        ),
    ],
)
table(
    SV,
    "dJt/dW",
    [
        ("R", "key", _SVM_KEY + r" + 2\lambda W", lambda p: p.G @ p.X.T / p.N + 2 * p["lambda"] * p.W, {"exact": True}),
        (
            "R",
            "unit-vectors",
            r"2\lambda W + \frac{1}{N}\sum_{i=1}^{N}\sum_{j \neq y_i}\mathbb{1}[s_{ji} - s_{y_i i} + 1 > 0]\,(e_j - e_{y_i})\, x_i^T",
            lambda p: _svm_units(p) + 2 * p["lambda"] * p.W,
        ),
        (
            "R",
            "entrywise",
            r"\frac{1}{N}\sum_{i=1}^{N}\left(\mathbb{1}[M_{ji} > 0](1 - \Delta_{ji}) - \Delta_{ji}\sum_{c \neq y_i}\mathbb{1}[M_{ci} > 0]\right) X_{ki} + 2\lambda W_{jk}",
            lambda p: grid(p.W.shape, lambda j, k: _svm_entry(p, j, k) + 2 * p["lambda"] * p.W[j, k]),
            {"q": r"\frac{\partial \tilde J}{\partial W_{jk}}"},
        ),
        (
            "R",
            "cases",
            r"2\lambda W_{jk} + \frac{1}{N}\sum_{i=1}^{N}\begin{cases} \mathbb{1}[s_{ji} - s_{y_i i} + 1 > 0]\, x_{ki} & j \neq y_i \\ -\sum_{c: c \ne y_i}\mathbb{1}[s_{ci} - s_{y_i i} + 1 > 0]\, x_{ki} & j = y_i \end{cases}",
            lambda p: grid(p.W.shape, lambda j, k: _svm_entry(p, j, k) + 2 * p["lambda"] * p.W[j, k]),
            {"q": r"\frac{\partial \tilde J}{\partial W_{jk}}"},
        ),
        (
            "R",
            "indicator-spelling",
            r"\frac{1}{N}\left(1_{\{M > 0\}} \odot (\mathbf{1}_C \mathbf{1}_N^T - \Delta) - \Delta \odot \mathbf{1}_C \mathbf{1}_C^T\left(1_{\{M > 0\}} \odot (\mathbf{1}_C \mathbf{1}_N^T - \Delta)\right)\right) X^T + 2\lambda W",
            lambda p: p.G @ p.X.T / p.N + 2 * p["lambda"] * p.W,
        ),
        (
            "R",
            "unsized-ones",
            r"\frac{1}{N}\left(\mathbb{1}[M > 0] \odot (\mathbf{1}\mathbf{1}^T - \Delta) - \Delta \odot \mathbf{1}\mathbf{1}^T\left(\mathbb{1}[M > 0] \odot (\mathbf{1}\mathbf{1}^T - \Delta)\right)\right) X^T + 2\lambda W",
            lambda p: p.G @ p.X.T / p.N + 2 * p["lambda"] * p.W,
        ),
        (
            "R",
            "transposed",
            r"\frac{1}{N} X\left(\mathbb{1}[M > 0] \odot (\mathbf{1}_C \mathbf{1}_N^T - \Delta) - \Delta \odot \mathbf{1}_C \mathbf{1}_C^T\left(\mathbb{1}[M > 0] \odot (\mathbf{1}_C \mathbf{1}_N^T - \Delta)\right)\right)^T + 2\lambda W^T",
            lambda p: (p.G @ p.X.T / p.N + 2 * p["lambda"] * p.W).T,
        ),
        (
            "R",
            "one-sample",
            r"\frac{1}{N}\sum_{j \neq y}\mathbb{1}[s_j - s_y + 1 > 0]\,(e_j - e_y)\, x^T + 2\lambda W",
            lambda p: _svm_units(p) + 2 * p["lambda"] * p.W,
            {"one": True},
        ),
        *_svm_wrong_rows(r" + 2\lambda W", lambda p: 2 * p["lambda"] * p.W),
        (
            "W",
            "lambda-not-2lambda",
            _SVM_KEY + r" + \lambda W",
            lambda p: p.G @ p.X.T / p.N + p["lambda"] * p.W,
            {"expect": "regularisation-coefficient", "exact": True},
        ),
        ("W", "regulariser-missing", _SVM_KEY, lambda p: p.G @ p.X.T / p.N, {"expect": "missing-regularisation"}),
        (
            "W",
            "regulariser-inside-1/N",
            r"\frac{1}{N}\left(\left(\mathbb{1}[M > 0] \odot (\mathbf{1}_C \mathbf{1}_N^T - \Delta) - \Delta \odot \mathbf{1}_C \mathbf{1}_C^T \left(\mathbb{1}[M > 0] \odot (\mathbf{1}_C \mathbf{1}_N^T - \Delta)\right)\right) X^T + 2\lambda W\right)",
            lambda p: (p.G @ p.X.T + 2 * p["lambda"] * p.W) / p.N,
            {"expect": ("regularisation-inside-bracket", "regularisation-over-N")},
        ),
        (
            "W",
            "regulariser-sign",
            _SVM_KEY + r" - 2\lambda W",
            lambda p: p.G @ p.X.T / p.N - 2 * p["lambda"] * p.W,
            {"expect": "regularisation-sign"},
        ),
    ],
)


# ============================================================================ word2vec-naive-softmax
# U is d × V (the outside vectors u_w its columns), v_c is d × 1, y = e_o and ŷ = softmax(Uᵀv_c) are V × 1.

WV = "word2vec-naive-softmax"


def _cols(p, f):
    return columns(p.U.shape[1], f)


table(
    WV,
    "dJ/dvc",
    [
        ("R", "key", r"U(\hat y - y)", lambda p: p.U @ (p.yh - p.y), {"exact": True}),
        (
            "R",
            "sum-over-words",
            r"-u_o + \sum_{w=1}^{V} \hat y_w u_w",
            lambda p: -p.U[:, [p.o]] + sum(p.yh[w, 0] * p.U[:, [w]] for w in range(5)),
        ),
        (
            "R",
            "sum-other-letter",
            r"\sum_{x=1}^{V} \hat y_x u_x - u_o",
            lambda p: p.U @ p.yh - p.U[:, [p.o]],
            {"exact": True},
        ),
        ("R", "U-yhat-minus-uo", r"U\hat y - u_o", lambda p: p.U @ p.yh - p.U[:, [p.o]]),
        ("R", "transposed", r"(\hat y - y)^T U^T", lambda p: (p.yh - p.y).T @ p.U.T),
        (
            "R",
            "softmax-written-out",
            r"-u_o + \sum_{w=1}^{V} \frac{\exp(u_w^T v_c)}{\sum_{x=1}^{V}\exp(u_x^T v_c)}\, u_w",
            lambda p: -p.U[:, [p.o]] + p.U @ softmax(p.U.T @ p.v_c),
        ),
        (
            "R",
            "sum-excluding-o",
            r"\sum_{w \neq o} \hat y_w u_w + (\hat y_o - 1) u_o",
            lambda p: sum(p.yh[w, 0] * p.U[:, [w]] for w in range(5) if w != p.o) + (p.yh[p.o, 0] - 1) * p.U[:, [p.o]],
        ),
        (
            "R",
            "entrywise",
            r"\sum_{w=1}^{V} U_{kw} (\hat y_w - y_w)",
            lambda p: grid((3, 1), lambda k, _: sum(p.U[k, w] * (p.yh[w, 0] - p.y[w, 0]) for w in range(5))),
            {"q": r"\frac{\partial J}{\partial (v_c)_k}"},
        ),
        (
            "R",
            "summation-convention",
            r"U_{kw} (\hat y - y)_w",
            lambda p: grid((3, 1), lambda k, _: sum(p.U[k, w] * (p.yh[w, 0] - p.y[w, 0]) for w in range(5))),
            {"q": r"\frac{\partial J}{\partial (v_c)_k}"},
        ),
        ("R", "U-transposed-factor", r"U^T(\hat y - y)", lambda p: p.U @ (p.yh - p.y), {"layout": True}),
        ("R", "softmax-of-theta", r"U(\mathrm{softmax}(U^T v_c) - y)", lambda p: p.U @ (softmax(p.U.T @ p.v_c) - p.y)),
        ("W", "sign", r"U(y - \hat y)", lambda p: p.U @ (p.y - p.yh), {"expect": "sign"}),
        ("W", "minus-uo-missing", r"U\hat y", lambda p: p.U @ p.yh, {"expect": "missing-term", "exact": True}),
        ("W", "minus-uo-missing-sum", r"\sum_{w=1}^{V} \hat y_w u_w", lambda p: p.U @ p.yh, {"expect": "missing-term"}),
        (
            "W",
            "sigmoid-for-softmax",
            r"U(\sigma(U^T v_c) - y)",
            lambda p: p.U @ (sigmoid(p.U.T @ p.v_c) - p.y),
            {"expect": ("wrong-activation",)},
        ),
        ("W", "sign-uo", r"u_o - U\hat y", lambda p: p.U[:, [p.o]] - p.U @ p.yh, {"expect": "sign"}),
        (
            "W",
            "o-term-dropped",
            r"-u_o + \sum_{w \neq o} \hat y_w u_w",
            lambda p: -p.U[:, [p.o]] + sum(p.yh[w, 0] * p.U[:, [w]] for w in range(5) if w != p.o),
            {"expect": "missing-term"},
        ),
        (
            "W",
            "U-missing",
            r"\hat y - y",
            lambda p: p.yh - p.y,
            {"expect": ("size", "missing-factor", "other-quantity")},
        ),
        (
            "W",
            "dJ/dU-for-dvc",
            r"v_c(\hat y - y)^T",
            lambda p: p.v_c @ (p.yh - p.y).T,
            {"expect": ("other-quantity", "size")},
        ),
        (
            "W",
            "softmax-derivative-extra",
            r"U\left(\hat y \odot (1 - \hat y) \odot (\hat y - y)\right)",
            lambda p: p.U @ (p.yh * (1 - p.yh) * (p.yh - p.y)),
            {"expect": ("extra-activation-derivative", "extra-factor")},
        ),
    ],
)
table(
    WV,
    "dJ/du",
    [
        (
            "R",
            "key",
            r"\begin{cases} (\hat y_o - 1) v_c & w = o \\ \hat y_w v_c & w \neq o \end{cases}",
            lambda p: _cols(p, lambda w: (p.yh[w, 0] - (w == p.o)) * p.v_c),
            {"exact": True},
        ),
        (
            "R",
            "yhat-minus-y",
            r"(\hat y_w - y_w) v_c",
            lambda p: _cols(p, lambda w: (p.yh[w, 0] - p.y[w, 0]) * p.v_c),
            {"q": r"\frac{\partial J}{\partial u_w}"},
        ),
        (
            "R",
            "indicator",
            r"(\hat y_w - \mathbb{1}[w = o])\, v_c",
            lambda p: _cols(p, lambda w: (p.yh[w, 0] - (w == p.o)) * p.v_c),
            {"q": r"\frac{\partial J}{\partial u_w}"},
        ),
        (
            "R",
            "cases-otherwise",
            r"\begin{cases} (\hat y_w - 1) v_c & \text{if } w = o \\ \hat y_w v_c & \text{otherwise} \end{cases}",
            lambda p: _cols(p, lambda w: (p.yh[w, 0] - (w == p.o)) * p.v_c),
            {"q": r"\frac{\partial J}{\partial u_w}"},
        ),
        (
            "R",
            "kronecker",
            r"\hat y_w v_c - \delta_{wo} v_c",
            lambda p: _cols(p, lambda w: (p.yh[w, 0] - (w == p.o)) * p.v_c),
        ),
        (
            "R",
            "entry-of-bracket",
            r"(\hat y - y)_w\, v_c",
            lambda p: _cols(p, lambda w: (p.yh[w, 0] - p.y[w, 0]) * p.v_c),
        ),
        (
            "R",
            "softmax-written-out",
            r"\left(\frac{\exp(u_w^T v_c)}{\sum_{x=1}^{V}\exp(u_x^T v_c)} - y_w\right) v_c",
            lambda p: _cols(p, lambda w: (p.yh[w, 0] - p.y[w, 0]) * p.v_c),
        ),
        ("R", "row", r"(p_w - y_w)\, v_c^T", lambda p: _cols(p, lambda w: (p.yh[w, 0] - p.y[w, 0]) * p.v_c).T),
        (
            "W",
            "row-sign",
            r"(y_w - \hat y_w)\, v_c^T",
            lambda p: -_cols(p, lambda w: (p.yh[w, 0] - p.y[w, 0]) * p.v_c).T,
            {"expect": "sign"},
        ),
        (
            "W",
            "only-w-not-o",
            r"\hat y_w v_c",
            lambda p: _cols(p, lambda w: p.yh[w, 0] * p.v_c),
            {"expect": ("only-one-case", "missing-term"), "exact": True},
        ),
        (
            "W",
            "only-w-is-o",
            r"(\hat y_w - 1) v_c",
            lambda p: _cols(p, lambda w: (p.yh[w, 0] - 1) * p.v_c),
            {"expect": "only-one-case"},
        ),
        (
            "W",
            "sign",
            r"(y_w - \hat y_w) v_c",
            lambda p: _cols(p, lambda w: (p.y[w, 0] - p.yh[w, 0]) * p.v_c),
            {"expect": "sign"},
        ),
        (
            "W",
            "cases-minus-1-missing",
            r"\begin{cases} \hat y_o v_c & w = o \\ \hat y_w v_c & w \neq o \end{cases}",
            lambda p: _cols(p, lambda w: p.yh[w, 0] * p.v_c),
            {"expect": ("only-one-case", "missing-term")},
        ),
        (
            "W",
            "cases-sign-in-o",
            r"\begin{cases} (1 - \hat y_o) v_c & w = o \\ \hat y_w v_c & w \neq o \end{cases}",
            lambda p: _cols(p, lambda w: (1 - p.yh[w, 0]) * p.v_c if w == p.o else p.yh[w, 0] * p.v_c),
            {"expect": ("only-one-case", "sign-of-term", "sign")},
        ),
        (
            "W",
            "sigmoid-for-softmax",
            r"(\sigma(u_w^T v_c) - y_w)\, v_c",
            lambda p: _cols(p, lambda w: (sigmoid(p.U[:, w] @ p.v_c[:, 0]) - p.y[w, 0]) * p.v_c),
            {"expect": "wrong-activation"},
        ),
        (
            "W",
            "u-for-v",
            r"(\hat y_w - y_w)\, u_w",
            lambda p: _cols(p, lambda w: (p.yh[w, 0] - p.y[w, 0]) * p.U[:, [w]]),
            {"expect": ("wrong-variable", "other-quantity")},
        ),
        (
            "W",
            "uses-o-for-all",
            r"(\hat y_o - 1) v_c",
            lambda p: _cols(p, lambda w: (p.yh[p.o, 0] - 1) * p.v_c),
            {"expect": "only-one-case"},
        ),
        (
            "W",
            "softmax-derivative-extra",
            r"\hat y_w (1 - \hat y_w)(\hat y_w - y_w)\, v_c",
            lambda p: _cols(p, lambda w: p.yh[w, 0] * (1 - p.yh[w, 0]) * (p.yh[w, 0] - p.y[w, 0]) * p.v_c),
            {"expect": ("extra-activation-derivative", "extra-factor")},
        ),
    ],
)
table(
    WV,
    "dJ/dU",
    [
        ("R", "key", r"v_c (\hat y - y)^T", lambda p: p.v_c @ (p.yh - p.y).T, {"exact": True}),
        ("R", "transposed", r"(\hat y - y) v_c^T", lambda p: (p.yh - p.y) @ p.v_c.T),
        ("R", "split", r"v_c \hat y^T - v_c y^T", lambda p: p.v_c @ p.yh.T - p.v_c @ p.y.T),
        (
            "R",
            "entrywise",
            r"(v_c)_k (\hat y_w - y_w)",
            lambda p: grid((3, 5), lambda k, w: p.v_c[k, 0] * (p.yh[w, 0] - p.y[w, 0])),
            {"q": r"\frac{\partial J}{\partial U_{kw}}"},
        ),
        ("R", "one-hot-e", r"v_c (\hat y - e_o)^T", lambda p: p.v_c @ (p.yh - p.y).T),
        ("R", "softmax", r"v_c\,(\mathrm{softmax}(U^T v_c) - y)^T", lambda p: p.v_c @ (softmax(p.U.T @ p.v_c) - p.y).T),
        (
            "R",
            "unit-vectors",
            r"\sum_{w=1}^{V} (\hat y_w - y_w)\, v_c e_w^T",
            lambda p: sum((p.yh[w, 0] - p.y[w, 0]) * p.v_c @ np.eye(5)[[w]] for w in range(5)),
        ),
        ("R", "e-o-split", r"v_c \hat y^T - v_c e_o^T", lambda p: p.v_c @ p.yh.T - p.v_c @ p.y.T),
        (
            "W",
            "sign-unit-vectors",
            r"\sum_{w=1}^{V} (y_w - \hat y_w)\, v_c e_w^T",
            lambda p: sum((p.y[w, 0] - p.yh[w, 0]) * p.v_c @ np.eye(5)[[w]] for w in range(5)),
            {"expect": "sign"},
        ),
        ("W", "sign", r"v_c (y - \hat y)^T", lambda p: p.v_c @ (p.y - p.yh).T, {"expect": "sign"}),
        (
            "W",
            "label-term-missing",
            r"v_c \hat y^T",
            lambda p: p.v_c @ p.yh.T,
            {"expect": "missing-term", "exact": True},
        ),
        ("W", "dvc-for-dU", r"U(\hat y - y)", lambda p: p.U @ (p.yh - p.y), {"expect": ("other-quantity", "size")}),
        (
            "W",
            "sigmoid-for-softmax",
            r"v_c (\sigma(U^T v_c) - y)^T",
            lambda p: p.v_c @ (sigmoid(p.U.T @ p.v_c) - p.y).T,
            {"expect": "wrong-activation"},
        ),
        (
            "W",
            "only-w-is-o",
            r"v_c (\hat y - \mathbf{1})^T",
            lambda p: p.v_c @ (p.yh - 1).T,
            {"expect": ("only-one-case", "missing-term")},
        ),
        (
            "W",
            "softmax-derivative-extra",
            r"v_c \left(\hat y \odot (1 - \hat y) \odot (\hat y - y)\right)^T",
            lambda p: p.v_c @ (p.yh * (1 - p.yh) * (p.yh - p.y)).T,
            {"expect": ("extra-activation-derivative", "extra-factor")},
        ),
        ("W", "v-missing", r"(\hat y - y)^T", lambda p: (p.yh - p.y).T, {"expect": ("size", "missing-factor")}),
        (
            "W",
            "u-o-for-v",
            r"u_o (\hat y - y)^T",
            lambda p: p.U[:, [p.o]] @ (p.yh - p.y).T,
            {"expect": ("wrong-variable",)},
        ),
    ],
)


# ============================================================================ batchnorm
# X is N × D (samples as rows), γ, β are D × 1, G = dY is N × D; μ and σ² are D × 1 (biased variance),
# x̂ = (X − 1μᵀ) ⊙ 1((σ² + ε)^{-1/2})ᵀ. The lambdas read mu, var, inv = (σ² + ε)^{-1/2} (D × 1) and xh.

BN = "batchnorm"
_BN_KEY = r"\frac{1}{N} \mathbf{1}_N \left(\gamma \odot (\sigma^2 + \epsilon)^{-1/2}\right)^T \odot \left(N G - \mathbf{1}_N \mathbf{1}_N^T G - \hat X \odot \mathbf{1}_N \mathbf{1}_N^T (G \odot \hat X)\right)"


def _bn_dx(p, mean=True, var=True, gamma=True, power=-0.5, var_sign=-1.0, mean_scale=1.0):
    """dL/dX = (1/N) 1(γ ⊙ (σ²+ε)^{-1/2})ᵀ ⊙ (N G − 11ᵀG − X̂ ⊙ 11ᵀ(G ⊙ X̂)), with its usual mistakes."""
    N = p.X.shape[0]
    ones = np.ones((N, N))
    inner = N * p.G
    if mean:
        inner = inner - mean_scale * ones @ p.G
    if var:
        inner = inner + var_sign * p.xh * (ones @ (p.G * p.xh))
    scale = ((p.gamma if gamma else 1.0) * (p.var + p.epsilon) ** power).T
    return scale * inner / N


def _bn_entry(p, i, j):
    """∂L/∂x_ij = γ_j/(N√(σ_j²+ε)) (N G_ij − Σ_k G_kj − x̂_ij Σ_k G_kj x̂_kj), written as the loop a TA writes."""
    N = p.X.shape[0]
    s1 = sum(p.G[k, j] for k in range(N))
    s2 = sum(p.G[k, j] * p.xh[k, j] for k in range(N))
    return p.gamma[j, 0] / (N * np.sqrt(p.var[j, 0] + p.epsilon)) * (N * p.G[i, j] - s1 - p.xh[i, j] * s2)


table(
    BN,
    "dL/dgamma",
    [
        ("R", "key", r"(G \odot \hat X)^T \mathbf{1}_N", lambda p: (p.G * p.xh).T @ np.ones((p.N, 1)), {"exact": True}),
        (
            "R",
            "entrywise",
            r"\sum_{i=1}^{N} G_{ij} \hat x_{ij}",
            lambda p: grid((3, 1), lambda j, _: sum(p.G[i, j] * p.xh[i, j] for i in range(p.N))),
            {"q": r"\frac{\partial L}{\partial \gamma_j}"},
        ),
        ("R", "row", r"\mathbf{1}^T (dY \odot \hat X)", lambda p: np.ones((1, p.N)) @ (p.G * p.xh)),
        (
            "R",
            "summation-convention",
            r"G_{ij} \hat X_{ij}",
            lambda p: grid((3, 1), lambda j, _: sum(p.G[i, j] * p.xh[i, j] for i in range(p.N))),
            {"q": r"\frac{\partial L}{\partial \gamma_j}"},
        ),
        (
            "R",
            "written-out",
            r"\sum_{i=1}^{N} (dY)_{ij}\, \frac{x_{ij} - \mu_j}{\sqrt{\sigma_j^2 + \epsilon}}",
            lambda p: grid(
                (3, 1),
                lambda j, _: sum(
                    p.G[i, j] * (p.X[i, j] - p.mu[j, 0]) / np.sqrt(p.var[j, 0] + p.epsilon) for i in range(p.N)
                ),
            ),
            {"q": r"\frac{\partial L}{\partial \gamma_j}"},
        ),
        (
            "R",
            "diag-power",
            r"\operatorname{diag}(\sigma^2 + \epsilon)^{-1/2} \left(G \odot (X - \mathbf{1}_N \mu^T)\right)^T \mathbf{1}_N",
            lambda p: np.diag(p.inv[:, 0]) @ (p.G * (p.X - p.mu.T)).T @ np.ones((p.N, 1)),
        ),
        (
            "R",
            "hadamard-outside",
            r"\left((G \odot (X - \mathbf{1}\mu^T))^T \mathbf{1}\right) \odot (\sigma^2 + \epsilon)^{-1/2}",
            lambda p: ((p.G * (p.X - p.mu.T)).T @ np.ones((p.N, 1))) * p.inv,
        ),
        (
            "R",
            "sum-of-rows",
            r"\sum_{i=1}^{N} (G \odot \hat X)_{i}^T",
            lambda p: (p.G * p.xh).sum(axis=0, keepdims=True).T,
        ),
        (
            "W",
            "xhat-missing",
            r"G^T \mathbf{1}_N",
            lambda p: p.G.T @ np.ones((p.N, 1)),
            {"expect": ("other-quantity", "missing-factor"), "exact": True},
        ),
        (
            "W",
            "x-for-xhat",
            r"(G \odot X)^T \mathbf{1}_N",
            lambda p: (p.G * p.X).T @ np.ones((p.N, 1)),
            {"expect": ("input-for-activation", "wrong-variable")},
        ),
        (
            "W",
            "extra-1/N",
            r"\frac{1}{N}(G \odot \hat X)^T \mathbf{1}_N",
            lambda p: (p.G * p.xh).T @ np.ones((p.N, 1)) / p.N,
            {"expect": "extra-1/N"},
        ),
        (
            "W",
            "wrong-axis",
            r"(G \odot \hat X) \mathbf{1}_D",
            lambda p: (p.G * p.xh) @ np.ones((3, 1)),
            {"expect": ("wrong-axis", "size")},
        ),
        (
            "W",
            "extra-gamma",
            r"\gamma \odot (G \odot \hat X)^T \mathbf{1}_N",
            lambda p: p.gamma * ((p.G * p.xh).T @ np.ones((p.N, 1))),
            {"expect": "extra-factor"},
        ),
        (
            "W",
            "sign",
            r"-(G \odot \hat X)^T \mathbf{1}_N",
            lambda p: -(p.G * p.xh).T @ np.ones((p.N, 1)),
            {"expect": "sign"},
        ),
        (
            "W",
            "centred-not-scaled",
            r"\sum_{i=1}^{N} G_{ij} (x_{ij} - \mu_j)",
            lambda p: grid((3, 1), lambda j, _: sum(p.G[i, j] * (p.X[i, j] - p.mu[j, 0]) for i in range(p.N))),
            {"q": r"\frac{\partial L}{\partial \gamma_j}", "expect": ("missing-factor",)},
        ),
        (
            "W",
            "variance-not-std",
            r"\sum_{i=1}^{N} G_{ij} \frac{x_{ij} - \mu_j}{\sigma_j^2 + \epsilon}",
            lambda p: grid(
                (3, 1),
                lambda j, _: sum(p.G[i, j] * (p.X[i, j] - p.mu[j, 0]) / (p.var[j, 0] + p.epsilon) for i in range(p.N)),
            ),
            {"q": r"\frac{\partial L}{\partial \gamma_j}", "expect": ("wrong-power", "coefficient")},
        ),
        (
            "W",
            "sum-over-both-axes",
            r"\sum_{i=1}^{N}\sum_{j=1}^{D} G_{ij}\hat X_{ij}",
            lambda p: np.sum(p.G * p.xh),
            {"expect": ("wrong-axis", "size")},
        ),
    ],
)
table(
    BN,
    "dL/dbeta",
    [
        ("R", "key", r"G^T \mathbf{1}_N", lambda p: p.G.T @ np.ones((p.N, 1)), {"exact": True}),
        (
            "R",
            "entrywise",
            r"\sum_{i=1}^{N} G_{ij}",
            lambda p: grid((3, 1), lambda j, _: sum(p.G[i, j] for i in range(p.N))),
            {"q": r"\frac{\partial L}{\partial \beta_j}"},
        ),
        ("R", "row", r"\mathbf{1}_N^T G", lambda p: np.ones((1, p.N)) @ p.G),
        ("R", "unsized-ones-dY", r"\mathbf{1}^T dY", lambda p: np.ones((1, p.N)) @ p.G),
        ("R", "dY-transposed", r"dY^T \mathbf{1}_N", lambda p: p.G.T @ np.ones((p.N, 1))),
        ("R", "unsized-ones", r"G^T \mathbf{1}", lambda p: p.G.T @ np.ones((p.N, 1))),
        (
            "R",
            "bar-Y",
            r"\sum_{i=1}^{N} \bar Y_{ij}",
            lambda p: grid((3, 1), lambda j, _: p.G[:, j].sum()),
            {"q": r"\frac{\partial L}{\partial \beta_j}"},
        ),
        ("R", "sum-of-rows", r"\sum_{i=1}^{N} G_{i}^T", lambda p: p.G.sum(axis=0, keepdims=True).T),
        (
            "W",
            "wrong-axis",
            r"G \mathbf{1}_D",
            lambda p: p.G @ np.ones((3, 1)),
            {"expect": ("wrong-axis", "size"), "exact": True},
        ),
        (
            "W",
            "wrong-axis-row",
            r"\mathbf{1}_D^T G^T",
            lambda p: np.ones((1, 3)) @ p.G.T,
            {"expect": ("wrong-axis", "size")},
        ),
        (
            "W",
            "extra-1/N",
            r"\frac{1}{N} G^T \mathbf{1}_N",
            lambda p: p.G.T @ np.ones((p.N, 1)) / p.N,
            {"expect": "extra-1/N"},
        ),
        (
            "W",
            "dgamma-for-dbeta",
            r"(G \odot \hat X)^T \mathbf{1}_N",
            lambda p: (p.G * p.xh).T @ np.ones((p.N, 1)),
            {"expect": ("other-quantity", "extra-factor")},
        ),
        (
            "W",
            "extra-gamma",
            r"\gamma \odot G^T \mathbf{1}_N",
            lambda p: p.gamma * (p.G.T @ np.ones((p.N, 1))),
            {"expect": "extra-factor"},
        ),
        ("W", "sign", r"-G^T \mathbf{1}_N", lambda p: -p.G.T @ np.ones((p.N, 1)), {"expect": "sign"}),
        (
            "W",
            "sum-over-both-axes",
            r"\sum_{i=1}^{N}\sum_{j=1}^{D} G_{ij}",
            lambda p: np.sum(p.G),
            {"expect": ("wrong-axis", "size")},
        ),
        (
            "W",
            "extra-N",
            r"N\, G^T \mathbf{1}_N",
            lambda p: p.N * p.G.T @ np.ones((p.N, 1)),
            {"expect": ("extra-N", "coefficient")},
        ),
    ],
)
table(
    BN,
    "dL/dX",
    [
        ("R", "key", _BN_KEY, _bn_dx, {"exact": True}),
        (
            "R",
            "entrywise",
            r"\frac{\gamma_j}{N\sqrt{\sigma_j^2 + \epsilon}}\left(N G_{ij} - \sum_{k=1}^{N} G_{kj} - \hat x_{ij}\sum_{k=1}^{N} G_{kj}\hat x_{kj}\right)",
            lambda p: grid(p.X.shape, lambda i, j: _bn_entry(p, i, j)),
            {"q": r"\frac{\partial L}{\partial x_{ij}}"},
        ),
        (
            "R",
            "diag-powers",
            r"\frac{1}{N}\left(N G - \mathbf{1}\mathbf{1}^T G - \hat X \odot \mathbf{1}\mathbf{1}^T (G \odot \hat X)\right)\operatorname{diag}(\gamma)\operatorname{diag}(\sigma^2 + \epsilon)^{-1/2}",
            _bn_dx,
        ),
        (
            "R",
            "dxhat-first",
            r"\frac{1}{N}\left(N G\operatorname{diag}(\gamma) - \mathbf{1}_N\mathbf{1}_N^T G\operatorname{diag}(\gamma) - \hat X \odot \mathbf{1}_N\mathbf{1}_N^T\left(G\operatorname{diag}(\gamma) \odot \hat X\right)\right)\operatorname{diag}(\sigma^2 + \epsilon)^{-1/2}",
            _bn_dx,
        ),
        (
            "R",
            "transposed",
            r"\frac{1}{N} \left(\gamma \odot (\sigma^2 + \epsilon)^{-1/2}\right)\mathbf{1}_N^T \odot \left(N G - \mathbf{1}_N \mathbf{1}_N^T G - \hat X \odot \mathbf{1}_N \mathbf{1}_N^T (G \odot \hat X)\right)^T",
            lambda p: _bn_dx(p).T,
        ),
        (
            "R",
            "centred-form",
            r"\frac{\gamma_j}{\sqrt{\sigma_j^2 + \epsilon}}\left(G_{ij} - \frac{1}{N}\sum_{k=1}^{N} G_{kj} - \frac{x_{ij} - \mu_j}{N(\sigma_j^2 + \epsilon)}\sum_{k=1}^{N} G_{kj}(x_{kj} - \mu_j)\right)",
            lambda p: grid(p.X.shape, lambda i, j: _bn_entry(p, i, j)),
            {"q": r"\frac{\partial L}{\partial x_{ij}}"},
        ),
        (
            "R",
            "three-terms",
            r"\mathbf{1}_N\left(\gamma \odot (\sigma^2 + \epsilon)^{-1/2}\right)^T \odot \left(G - \frac{1}{N}\mathbf{1}_N\mathbf{1}_N^T G - \frac{1}{N}\hat X \odot \mathbf{1}_N\mathbf{1}_N^T (G \odot \hat X)\right)",
            _bn_dx,
        ),
        (
            "W",
            "mean-path-missing",
            r"\frac{1}{N} \mathbf{1}_N \left(\gamma \odot (\sigma^2 + \epsilon)^{-1/2}\right)^T \odot \left(N G - \hat X \odot \mathbf{1}_N \mathbf{1}_N^T (G \odot \hat X)\right)",
            lambda p: _bn_dx(p, mean=False),
            {"expect": ("missing-path", "missing-term"), "exact": True},
        ),
        (
            "W",
            "variance-path-missing",
            r"\frac{1}{N} \mathbf{1}_N \left(\gamma \odot (\sigma^2 + \epsilon)^{-1/2}\right)^T \odot \left(N G - \mathbf{1}_N \mathbf{1}_N^T G\right)",
            lambda p: _bn_dx(p, var=False),
            {"expect": ("missing-path", "missing-term")},
        ),
        (
            "W",
            "statistics-as-constants",
            r"\mathbf{1}_N \left(\gamma \odot (\sigma^2 + \epsilon)^{-1/2}\right)^T \odot G",
            lambda p: _bn_dx(p, mean=False, var=False),
            {"expect": ("missing-path", "missing-term")},
        ),
        (
            "W",
            "gamma-missing",
            r"\frac{1}{N} \mathbf{1}_N \left((\sigma^2 + \epsilon)^{-1/2}\right)^T \odot \left(N G - \mathbf{1}_N \mathbf{1}_N^T G - \hat X \odot \mathbf{1}_N \mathbf{1}_N^T (G \odot \hat X)\right)",
            lambda p: _bn_dx(p, gamma=False),
            {"expect": "missing-factor"},
        ),
        (
            "W",
            "variance-term-sign",
            r"\frac{1}{N} \mathbf{1}_N \left(\gamma \odot (\sigma^2 + \epsilon)^{-1/2}\right)^T \odot \left(N G - \mathbf{1}_N \mathbf{1}_N^T G + \hat X \odot \mathbf{1}_N \mathbf{1}_N^T (G \odot \hat X)\right)",
            lambda p: _bn_dx(p, var_sign=1.0),
            {"expect": "sign-of-term"},
        ),
        (
            "W",
            "variance-not-std",
            r"\frac{1}{N} \mathbf{1}_N \left(\gamma \odot (\sigma^2 + \epsilon)^{-1}\right)^T \odot \left(N G - \mathbf{1}_N \mathbf{1}_N^T G - \hat X \odot \mathbf{1}_N \mathbf{1}_N^T (G \odot \hat X)\right)",
            lambda p: _bn_dx(p, power=-1.0),
            {"expect": ("wrong-power", "missing-factor")},
        ),
        (
            "W",
            "mean-term-no-1/N",
            r"\mathbf{1}_N\left(\gamma \odot (\sigma^2 + \epsilon)^{-1/2}\right)^T \odot \left(G - \mathbf{1}_N\mathbf{1}_N^T G - \frac{1}{N}\hat X \odot \mathbf{1}_N\mathbf{1}_N^T (G \odot \hat X)\right)",
            lambda p: _bn_dx(p, mean_scale=p.X.shape[0]),
            {"expect": ("1/N-on-one-term", "missing-1/N")},
        ),
        (
            "W",
            "unbiased-variance",
            r"\mathbf{1}_N\left(\gamma \odot (\sigma^2 + \epsilon)^{-1/2}\right)^T \odot \left(G - \frac{1}{N}\mathbf{1}_N\mathbf{1}_N^T G - \frac{1}{N - 1}\hat X \odot \mathbf{1}_N\mathbf{1}_N^T (G \odot \hat X)\right)",
            lambda p: (
                p.gamma.T
                * p.inv.T
                * (p.G - np.ones((p.N, p.N)) @ p.G / p.N - p.xh * (np.ones((p.N, p.N)) @ (p.G * p.xh)) / (p.N - 1))
            ),
            {"expect": ("coefficient", "wrong-coefficient", "extra-term")},
        ),
        ("W", "sign", r"-" + _BN_KEY, lambda p: -_bn_dx(p), {"expect": "sign"}),
        (
            "W",
            "xhat-missing-in-variance-term",
            r"\frac{1}{N} \mathbf{1}_N \left(\gamma \odot (\sigma^2 + \epsilon)^{-1/2}\right)^T \odot \left(N G - \mathbf{1}_N \mathbf{1}_N^T G - \mathbf{1}_N \mathbf{1}_N^T (G \odot \hat X)\right)",
            lambda p: (
                p.gamma.T
                * p.inv.T
                * (p.X.shape[0] * p.G - np.ones((p.N, p.N)) @ p.G - np.ones((p.N, p.N)) @ (p.G * p.xh))
                / p.N
            ),
            {"expect": "missing-factor"},
        ),
    ],
)


# ============================================================================ rnn-2step
# h_t = tanh(W h_{t−1} + U x_t + b), ŷ = softmax(V h_2 + c), J = −yᵀ log ŷ; W is H × H (square: W for Wᵀ
# typechecks and is a mistake), V is C × H. g2 = Vᵀ(ŷ − y) = dJ/dh2, δ_2 = (1 − h_2²) ⊙ g2, δ_1 = (1 − h_1²) ⊙ Wᵀδ_2.

RN = "rnn-2step"
_D2 = r"\left((\mathbf{1}_H - h_2 \odot h_2) \odot V^T (\hat y - y)\right)"
_D1 = r"\left((\mathbf{1}_H - h_1 \odot h_1) \odot W^T " + _D2 + r"\right)"


def _d2(p, deriv=None):
    return (1 - p.h2**2 if deriv is None else deriv(p.h2)) * p.g2


def _d1(p, deriv=None, Wt=True, d2=None):
    d2 = _d2(p) if d2 is None else d2
    return (1 - p.h1**2 if deriv is None else deriv(p.h1)) * ((p.W.T if Wt else p.W) @ d2)


table(
    RN,
    "dJ/dV",
    [
        ("R", "key", r"(\hat y - y) h_2^T", lambda p: (p.yh - p.y) @ p.h2.T, {"exact": True}),
        ("R", "transposed", r"h_2 (\hat y - y)^T", lambda p: p.h2 @ (p.yh - p.y).T),
        (
            "R",
            "entrywise",
            r"(\hat y_k - y_k)(h_2)_j",
            lambda p: grid((4, 3), lambda k, j: (p.yh[k, 0] - p.y[k, 0]) * p.h2[j, 0]),
            {"q": r"\frac{\partial J}{\partial V_{kj}}"},
        ),
        (
            "R",
            "softmax-written",
            r"(\mathrm{softmax}(V h_2 + c) - y)\, h_2^T",
            lambda p: (softmax(p.V @ p.h2 + p.c) - p.y) @ p.h2.T,
        ),
        ("R", "split", r"\hat y h_2^T - y h_2^T", lambda p: p.yh @ p.h2.T - p.y @ p.h2.T),
        ("R", "bold-p", r"(\mathbf{p} - \mathbf{y})\,\mathbf{h}_2^\top", lambda p: (p.yh - p.y) @ p.h2.T),
        (
            "R",
            "unit-vectors",
            r"\sum_{k=1}^{C} (\hat y_k - y_k)\, e_k h_2^T",
            lambda p: sum((p.yh[k, 0] - p.y[k, 0]) * np.eye(4)[:, [k]] @ p.h2.T for k in range(4)),
        ),
        (
            "R",
            "entry-of-bracket",
            r"(\hat y - y)_k (h_2)_j",
            lambda p: grid((4, 3), lambda k, j: (p.yh[k, 0] - p.y[k, 0]) * p.h2[j, 0]),
            {"q": r"\frac{\partial J}{\partial V_{kj}}"},
        ),
        ("W", "sign", r"(y - \hat y) h_2^T", lambda p: (p.y - p.yh) @ p.h2.T, {"expect": "sign"}),
        (
            "W",
            "h1-for-h2",
            r"(\hat y - y) h_1^T",
            lambda p: (p.yh - p.y) @ p.h1.T,
            {"expect": ("wrong-layer", "wrong-time-step", "wrong-variable")},
        ),
        (
            "W",
            "label-term-missing",
            r"\hat y h_2^T",
            lambda p: p.yh @ p.h2.T,
            {"expect": "missing-term", "exact": True},
        ),
        (
            "W",
            "tanh-prime-extra",
            r"(\hat y - y)\left(h_2 \odot (\mathbf{1}_H - h_2 \odot h_2)\right)^T",
            lambda p: (p.yh - p.y) @ (p.h2 * (1 - p.h2**2)).T,
            {"expect": ("extra-activation-derivative", "extra-factor")},
        ),
        (
            "W",
            "extra-step",
            r"(\hat y - y) h_2^T + (\hat y - y) h_1^T",
            lambda p: (p.yh - p.y) @ (p.h2 + p.h1).T,
            {"expect": "extra-term"},
        ),
        (
            "W",
            "softmax-derivative-extra",
            r"\left(\hat y \odot (\mathbf{1} - \hat y) \odot (\hat y - y)\right) h_2^T",
            lambda p: (p.yh * (1 - p.yh) * (p.yh - p.y)) @ p.h2.T,
            {"expect": ("extra-activation-derivative", "extra-factor")},
        ),
        (
            "W",
            "sigmoid-for-softmax",
            r"(\sigma(V h_2 + c) - y)\, h_2^T",
            lambda p: (sigmoid(p.V @ p.h2 + p.c) - p.y) @ p.h2.T,
            {"expect": "wrong-activation"},
        ),
        ("W", "dh2-for-dV", r"V^T(\hat y - y)", lambda p: p.V.T @ (p.yh - p.y), {"expect": ("other-quantity", "size")}),
        (
            "W",
            "pre-activation",
            r"(\hat y - y)(W h_1 + U x_2 + b)^T",
            lambda p: (p.yh - p.y) @ p.z2.T,
            {"expect": "pre-activation-for-activation"},
        ),
    ],
)
table(
    RN,
    "dJ/dh2",
    [
        ("R", "key", r"V^T (\hat y - y)", lambda p: p.g2, {"exact": True}),
        ("R", "transposed", r"(\hat y - y)^T V", lambda p: p.g2.T),
        (
            "R",
            "entrywise",
            r"\sum_{k=1}^{C} V_{kj} (\hat y_k - y_k)",
            lambda p: grid((3, 1), lambda j, _: sum(p.V[k, j] * (p.yh[k, 0] - p.y[k, 0]) for k in range(4))),
            {"q": r"\frac{\partial J}{\partial (h_2)_j}"},
        ),
        (
            "R",
            "summation-convention",
            r"V_{kj} (\hat y_k - y_k)",
            lambda p: grid((3, 1), lambda j, _: sum(p.V[k, j] * (p.yh[k, 0] - p.y[k, 0]) for k in range(4))),
            {"q": r"\frac{\partial J}{\partial (h_2)_j}"},
        ),
        ("R", "split", r"V^T \hat y - V^T y", lambda p: p.g2),
        ("R", "softmax-written", r"-V^T y + V^T \mathrm{softmax}(V h_2 + c)", lambda p: p.g2),
        ("R", "bold", r"\mathbf{V}^\top(\hat{\mathbf{y}} - \mathbf{y})", lambda p: p.g2),
        (
            "R",
            "entry-of-bracket",
            r"(\hat y - y)_k V_{kj}",
            lambda p: grid((3, 1), lambda j, _: sum(p.V[k, j] * (p.yh[k, 0] - p.y[k, 0]) for k in range(4))),
            {"q": r"\frac{\partial J}{\partial (h_2)_j}"},
        ),
        ("W", "sign", r"V^T (y - \hat y)", lambda p: -p.g2, {"expect": "sign"}),
        (
            "W",
            "tanh-prime-extra",
            r"(\mathbf{1}_H - h_2 \odot h_2) \odot V^T (\hat y - y)",
            lambda p: _d2(p),
            {"expect": ("extra-activation-derivative", "extra-factor"), "exact": True},
        ),
        ("W", "label-term-missing", r"V^T \hat y", lambda p: p.V.T @ p.yh, {"expect": "missing-term"}),
        ("W", "extra-W", r"W^T V^T (\hat y - y)", lambda p: p.W.T @ p.g2, {"expect": "extra-factor"}),
        (
            "W",
            "extra-recurrent-term",
            r"V^T (\hat y - y) + W^T " + _D2,
            lambda p: p.g2 + p.W.T @ _d2(p),
            {"expect": "extra-term"},
        ),
        ("W", "V-missing", r"\hat y - y", lambda p: p.yh - p.y, {"expect": ("size", "missing-factor")}),
        (
            "W",
            "sigmoid-for-softmax",
            r"V^T(\sigma(V h_2 + c) - y)",
            lambda p: p.V.T @ (sigmoid(p.V @ p.h2 + p.c) - p.y),
            {"expect": "wrong-activation"},
        ),
        (
            "W",
            "softmax-derivative-extra",
            r"V^T \left(\hat y \odot (\mathbf{1} - \hat y) \odot (\hat y - y)\right)",
            lambda p: p.V.T @ (p.yh * (1 - p.yh) * (p.yh - p.y)),
            {"expect": ("extra-activation-derivative", "extra-factor")},
        ),
    ],
)
table(
    RN,
    "dJ/dh1",
    [
        ("R", "key", r"W^T " + _D2, lambda p: p.W.T @ _d2(p), {"exact": True}),
        ("R", "squares", r"W^T\left((1 - h_2^2) \odot V^T (\hat y - y)\right)", lambda p: p.W.T @ _d2(p)),
        (
            "R",
            "diag",
            r"W^T \operatorname{diag}(\mathbf{1}_H - h_2 \odot h_2)\, V^T (\hat y - y)",
            lambda p: p.W.T @ np.diag(1 - p.h2[:, 0] ** 2) @ p.g2,
            {"exact": True},
        ),
        (
            "R",
            "tanh-written",
            r"W^T\left(\left(1 - \tanh^2(W h_1 + U x_2 + b)\right) \odot V^T (\hat y - y)\right)",
            lambda p: p.W.T @ ((1 - np.tanh(p.z2) ** 2) * p.g2),
        ),
        (
            "R",
            "entrywise",
            r"\sum_{k=1}^{H} W_{kj} \left(1 - (h_2)_k^2\right) \sum_{m=1}^{C} V_{mk} (\hat y_m - y_m)",
            lambda p: grid(
                (3, 1),
                lambda j, _: sum(
                    p.W[k, j] * (1 - p.h2[k, 0] ** 2) * sum(p.V[m, k] * (p.yh[m, 0] - p.y[m, 0]) for m in range(4))
                    for k in range(3)
                ),
            ),
            {"q": r"\frac{\partial J}{\partial (h_1)_j}"},
        ),
        (
            "R",
            "row",
            r"\left((\hat y - y)^T V \odot (\mathbf{1}_H - h_2 \odot h_2)^T\right) W",
            lambda p: (p.g2.T * (1 - p.h2**2).T) @ p.W,
        ),
        (
            "R",
            "diag-transposed-product",
            r"\left(\operatorname{diag}(1 - h_2 \odot h_2)\, W\right)^T V^T (\hat y - y)",
            lambda p: (np.diag(1 - p.h2[:, 0] ** 2) @ p.W).T @ p.g2,
        ),
        (
            "R",
            "summation-convention",
            r"W_{kj} \left(1 - (h_2)_k^2\right) V_{mk} (\hat y_m - y_m)",
            lambda p: grid(
                (3, 1),
                lambda j, _: sum(
                    p.W[k, j] * (1 - p.h2[k, 0] ** 2) * sum(p.V[m, k] * (p.yh[m, 0] - p.y[m, 0]) for m in range(4))
                    for k in range(3)
                ),
            ),
            {"q": r"\frac{\partial J}{\partial (h_1)_j}"},
        ),
        (
            "W",
            "W-for-W-transposed",
            r"W " + _D2,
            lambda p: p.W @ _d2(p),
            {"expect": "transposed-factor", "exact": True},
        ),
        (
            "W",
            "one-minus-h",
            r"W^T\left((\mathbf{1}_H - h_2) \odot V^T (\hat y - y)\right)",
            lambda p: p.W.T @ _d2(p, deriv=lambda h: 1 - h),
            {"expect": "wrong-activation-derivative"},
        ),
        (
            "W",
            "tanh-prime-missing",
            r"W^T V^T (\hat y - y)",
            lambda p: p.W.T @ p.g2,
            {"expect": "missing-activation-derivative"},
        ),
        (
            "W",
            "tanh-prime-at-h1",
            r"W^T\left((\mathbf{1}_H - h_1 \odot h_1) \odot V^T (\hat y - y)\right)",
            lambda p: p.W.T @ ((1 - p.h1**2) * p.g2),
            {"expect": ("wrong-activation-derivative", "wrong-layer")},
        ),
        (
            "W",
            "dz1-for-dh1",
            r"(\mathbf{1}_H - h_1 \odot h_1) \odot W^T " + _D2,
            lambda p: _d1(p),
            {"expect": ("extra-activation-derivative", "extra-factor")},
        ),
        ("W", "sign", r"-W^T " + _D2, lambda p: -p.W.T @ _d2(p), {"expect": "sign"}),
        (
            "W",
            "dh2-for-dh1",
            r"V^T (\hat y - y)",
            lambda p: p.g2,
            {"expect": ("other-quantity", "missing-factor", "missing-activation-derivative")},
        ),
        (
            "W",
            "sigma-prime-for-tanh-prime",
            r"W^T\left(h_2 \odot (\mathbf{1}_H - h_2) \odot V^T (\hat y - y)\right)",
            lambda p: p.W.T @ _d2(p, deriv=lambda h: h * (1 - h)),
            {"expect": "wrong-activation-derivative"},
        ),
        (
            "W",
            "bias-left-out",
            r"W^T\left(\left(1 - \tanh^2(W h_1 + U x_2)\right) \odot V^T (\hat y - y)\right)",
            lambda p: p.W.T @ ((1 - np.tanh(p.z2 - p.b) ** 2) * p.g2),
            {"expect": ("bias-missing", "missing-term"), "words": "bias"},
        ),
        (
            "W",
            "extra-output-term",
            r"W^T " + _D2 + r" + V^T (\hat y - y)",
            lambda p: p.W.T @ _d2(p) + p.g2,
            {"expect": "extra-term"},
        ),
    ],
)
table(
    RN,
    "dJ/dW",
    [
        (
            "R",
            "key",
            _D2 + r" h_1^T + " + _D1 + r" h_0^T",
            lambda p: _d2(p) @ p.h1.T + _d1(p) @ p.h_0.T,
            {"exact": True},
        ),
        (
            "R",
            "squares-unsized",
            r"\left((1 - h_2^2) \odot V^T(\hat y - y)\right) h_1^T + \left((1 - h_1^2) \odot W^T\left((1 - h_2^2) \odot V^T(\hat y - y)\right)\right) h_0^T",
            lambda p: _d2(p) @ p.h1.T + _d1(p) @ p.h_0.T,
        ),
        (
            "R",
            "diag",
            r"\operatorname{diag}(1 - h_2 \odot h_2) V^T (\hat y - y) h_1^T + \operatorname{diag}(1 - h_1 \odot h_1) W^T \operatorname{diag}(1 - h_2 \odot h_2) V^T (\hat y - y) h_0^T",
            lambda p: _d2(p) @ p.h1.T + _d1(p) @ p.h_0.T,
        ),
        (
            "R",
            "entrywise",
            r"\left(1 - (h_2)_j^2\right)\left(V^T(\hat y - y)\right)_j (h_1)_k + \left(1 - (h_1)_j^2\right)\left(W^T "
            + _D2
            + r"\right)_j (h_0)_k",
            lambda p: grid((3, 3), lambda j, k: _d2(p)[j, 0] * p.h1[k, 0] + _d1(p)[j, 0] * p.h_0[k, 0]),
            {"q": r"\frac{\partial J}{\partial W_{jk}}"},
        ),
        (
            "R",
            "transposed",
            r"h_1 " + _D2 + r"^T + h_0 " + _D1 + r"^T",
            lambda p: (_d2(p) @ p.h1.T + _d1(p) @ p.h_0.T).T,
        ),
        (
            "R",
            "steps-reversed",
            _D1 + r" h_0^T + " + _D2 + r" h_1^T",
            lambda p: _d1(p) @ p.h_0.T + _d2(p) @ p.h1.T,
        ),
        (
            "R",
            "tanh-written",
            r"\left((1 - \tanh^2(W h_1 + U x_2 + b)) \odot V^T(\hat y - y)\right) h_1^T + \left((1 - \tanh^2(W h_0 + U x_1 + b)) \odot W^T "
            + _D2
            + r"\right) h_0^T",
            lambda p: _d2(p) @ p.h1.T + _d1(p) @ p.h_0.T,
        ),
        (
            "W",
            "first-step-missing",
            _D2 + r" h_1^T",
            lambda p: _d2(p) @ p.h1.T,
            {"expect": ("missing-path", "missing-term"), "exact": True},
        ),
        (
            "W",
            "off-by-one",
            _D2 + r" h_2^T + " + _D1 + r" h_1^T",
            lambda p: _d2(p) @ p.h2.T + _d1(p) @ p.h1.T,
            {"expect": ("wrong-time-step", "wrong-layer")},
        ),
        (
            "W",
            "h0-h1-swapped",
            _D2 + r" h_0^T + " + _D1 + r" h_1^T",
            lambda p: _d2(p) @ p.h_0.T + _d1(p) @ p.h1.T,
            {"expect": ("wrong-time-step", "wrong-layer", "swapped-indices")},
        ),
        (
            "W",
            "W-for-W-transposed",
            _D2 + r" h_1^T + \left((\mathbf{1}_H - h_1 \odot h_1) \odot W " + _D2 + r"\right) h_0^T",
            lambda p: _d2(p) @ p.h1.T + _d1(p, Wt=False) @ p.h_0.T,
            {"expect": "transposed-factor"},
        ),
        (
            "W",
            "step-1-tanh-prime-missing",
            _D2 + r" h_1^T + \left(W^T " + _D2 + r"\right) h_0^T",
            lambda p: _d2(p) @ p.h1.T + (p.W.T @ _d2(p)) @ p.h_0.T,
            {"expect": "missing-activation-derivative"},
        ),
        (
            "W",
            "one-minus-h",
            r"\left((\mathbf{1}_H - h_2) \odot V^T (\hat y - y)\right) h_1^T + \left((\mathbf{1}_H - h_1) \odot W^T \left((\mathbf{1}_H - h_2) \odot V^T (\hat y - y)\right)\right) h_0^T",
            lambda p: (
                _d2(p, deriv=lambda h: 1 - h) @ p.h1.T
                + _d1(p, deriv=lambda h: 1 - h, d2=_d2(p, deriv=lambda h: 1 - h)) @ p.h_0.T
            ),
            {"expect": "wrong-activation-derivative"},
        ),
        (
            "W",
            "second-term-transposed",
            _D2 + r" h_1^T + h_0 " + _D1 + r"^T",
            lambda p: _d2(p) @ p.h1.T + p.h_0 @ _d1(p).T,
            {"expect": ("transposed-factor", "transposed-term")},
        ),
        (
            "W",
            "entrywise-swapped",
            r"\left(1 - (h_2)_k^2\right)\left(V^T(\hat y - y)\right)_k (h_1)_j + \left(1 - (h_1)_k^2\right)\left(W^T "
            + _D2
            + r"\right)_k (h_0)_j",
            lambda p: grid((3, 3), lambda j, k: _d2(p)[k, 0] * p.h1[j, 0] + _d1(p)[k, 0] * p.h_0[j, 0]),
            {"q": r"\frac{\partial J}{\partial W_{jk}}", "entry": True, "expect": "swapped-indices"},
        ),
        (
            "W",
            "only-first-step",
            _D1 + r" h_0^T",
            lambda p: _d1(p) @ p.h_0.T,
            {"expect": ("missing-path", "missing-term")},
        ),
        (
            "W",
            "sign",
            r"-" + _D2 + r" h_1^T - " + _D1 + r" h_0^T",
            lambda p: -(_d2(p) @ p.h1.T + _d1(p) @ p.h_0.T),
            {"expect": "sign"},
        ),
        (
            "W",
            "extra-term",
            _D2 + r" h_1^T + " + _D1 + r" h_0^T + " + _D2 + r" h_0^T",
            lambda p: _d2(p) @ p.h1.T + _d1(p) @ p.h_0.T + _d2(p) @ p.h_0.T,
            {"expect": "extra-term"},
        ),
    ],
)


# ============================================================================ leaky-relu-mlp
# Samples as columns: z^{(2)} = W^{(1)}X + b^{(1)}1ᵀ (H × N), a^{(2)} = LeakyReLU_α(z^{(2)}), ψ = softmax,
# J = (1/N) Σ_i −log ψ(z_i^{(3)})_{y_i}. δ = (1/N) W^{(2)T}(ψ(Z^{(3)}) − Δ) ⊙ φ′(Z^{(2)}) is dJ/dz2.

LK = "leaky-relu-mlp"
_LK_BACK = r"\frac{1}{N} W^{(2)T}(\psi(z^{(3)}) - \Delta)"
_LK_D = r"\left(\mathbb{1}[z^{(2)} > 0] + \alpha\,\mathbb{1}[z^{(2)} \le 0]\right)"


def _lk_delta(p, d=None, scale=True):
    back = p.W2.T @ (p.a3 - p.Delta)
    return back * (p.d if d is None else d) / (p.N if scale else 1.0)


def _lk_wrong_masks(wrap, f):
    """The wrong derivatives of the leaky ReLU, inside `wrap` (δ itself, δXᵀ or δ1); f(p, δ) the lambda."""
    return [
        (
            "W",
            "relu-prime",
            wrap(_LK_BACK + r" \odot \mathbb{1}[z^{(2)} > 0]"),
            lambda p: f(p, _lk_delta(p, d=p.pos)),
            {"expect": "wrong-activation-derivative", "exact": True},
        ),
        (
            "W",
            "slope-on-wrong-side",
            wrap(_LK_BACK + r" \odot \left(\alpha\,\mathbb{1}[z^{(2)} > 0] + \mathbb{1}[z^{(2)} \le 0]\right)"),
            lambda p: f(p, _lk_delta(p, d=p["alpha"] * p.pos + p.neg)),
            {"expect": "wrong-activation-derivative"},
        ),
        (
            "W",
            "derivative-missing",
            wrap(_LK_BACK),
            lambda p: f(p, _lk_delta(p, d=1.0)),
            {"expect": "missing-activation-derivative"},
        ),
        (
            "W",
            "mask-without-bias",
            wrap(_LK_BACK + r" \odot \left(\mathbb{1}[W^{(1)} X > 0] + \alpha\,\mathbb{1}[W^{(1)} X \le 0]\right)"),
            lambda p: f(p, _lk_delta(p, d=np.where(p.W1 @ p.X > 0, 1.0, p["alpha"]))),
            {"expect": ("bias-missing-in-indicator", "indicator-argument")},
        ),
        (
            "W",
            "activation-for-derivative",
            wrap(_LK_BACK + r" \odot \phi(z^{(2)})"),
            lambda p: f(p, _lk_delta(p, d=p.a2)),
            {"expect": "activation-for-derivative"},
        ),
        (
            "W",
            "one-minus-alpha",
            wrap(_LK_BACK + r" \odot \left(\mathbb{1}[z^{(2)} > 0] + (1 - \alpha)\,\mathbb{1}[z^{(2)} \le 0]\right)"),
            lambda p: f(p, _lk_delta(p, d=p.pos + (1 - p["alpha"]) * p.neg)),
            {"expect": "wrong-activation-derivative"},
        ),
        (
            "W",
            "sign",
            wrap(r"\frac{1}{N} W^{(2)T}(\Delta - \psi(z^{(3)})) \odot " + _LK_D),
            lambda p: f(p, -_lk_delta(p)),
            {"expect": "sign"},
        ),
        (
            "W",
            "no-1/N",
            wrap(r"W^{(2)T}(\psi(z^{(3)}) - \Delta) \odot " + _LK_D),
            lambda p: f(p, _lk_delta(p, scale=False)),
            {"expect": "missing-1/N"},
        ),
    ]


def _lk_entry(p, k, n):
    """(1/N) Σ_c W^{(2)}_{ck}(a^{(3)}_{cn} − Δ_{cn}) φ′(z^{(2)}_{kn}), as the loop a TA writes."""
    C = p.W2.shape[0]
    return (
        sum(p.W2[c, k] * (p.a3[c, n] - p.Delta[c, n]) for c in range(C)) * (1.0 if p.z2[k, n] > 0 else p["alpha"]) / p.N
    )


table(
    LK,
    "dJ/dz2",
    [
        ("R", "key", _LK_BACK + r" \odot " + _LK_D, _lk_delta, {"exact": True}),
        (
            "R",
            "alpha-plus",
            _LK_BACK + r" \odot \left(\alpha + (1 - \alpha)\,\mathbb{1}[z^{(2)} > 0]\right)",
            _lk_delta,
        ),
        ("R", "phi-prime", r"\frac{1}{N} W^{(2)T}(a^{(3)} - y) \odot \phi'(z^{(2)})", _lk_delta),
        (
            "R",
            "cases",
            r"\frac{1}{N}\left(W^{(2)T}(\hat Y - Y)\right) \odot \begin{cases} 1 & z^{(2)} > 0 \\ \alpha & z^{(2)} \le 0 \end{cases}",
            _lk_delta,
        ),
        (
            "R",
            "entrywise",
            r"\frac{1}{N}\sum_{c=1}^{C} W^{(2)}_{ck}\left(a^{(3)}_{cn} - \Delta_{cn}\right)\left(\mathbb{1}[z^{(2)}_{kn} > 0] + \alpha\,\mathbb{1}[z^{(2)}_{kn} \le 0]\right)",
            lambda p: grid(p.z2.shape, lambda k, n: _lk_entry(p, k, n)),
            {"q": r"\frac{\partial J}{\partial z^{(2)}_{kn}}"},
        ),
        (
            "R",
            "transposed",
            r"\frac{1}{N}(\psi(Z^{(3)}) - \Delta)^T W^{(2)} \odot \left(\mathbb{1}[Z^{(2)} > 0] + \alpha\,\mathbb{1}[Z^{(2)} \le 0]\right)^T",
            lambda p: _lk_delta(p).T,
        ),
        (
            "R",
            "indicator-braces",
            _LK_BACK + r" \odot \left(\mathbf{1}\{z^{(2)} > 0\} + \alpha\,\mathbf{1}\{z^{(2)} < 0\}\right)",
            _lk_delta,
        ),
        ("R", "leakyrelu-prime", _LK_BACK + r" \odot \mathrm{LeakyReLU}_{\alpha}'(z^{(2)})", _lk_delta),
        ("R", "max-of-indicator", _LK_BACK + r" \odot \max(\alpha, \mathbb{1}[z^{(2)} > 0])", _lk_delta),
        *_lk_wrong_masks(lambda inner: inner, lambda p, d: d),
    ],
)
table(
    LK,
    "dJ/dW1",
    [
        (
            "R",
            "key",
            r"\left(" + _LK_BACK + r" \odot " + _LK_D + r"\right) X^T",
            lambda p: _lk_delta(p) @ p.X.T,
            {"exact": True},
        ),
        (
            "R",
            "superscripts",
            r"\frac{1}{N}\sum_{i=1}^{N}\left(W^{(2)T}(a^{(3)(i)} - y^{(i)}) \odot \phi'(z^{(2)(i)})\right) x^{(i)T}",
            lambda p: _lk_delta(p) @ p.X.T,
        ),
        (
            "R",
            "entrywise",
            r"\frac{1}{N}\sum_{n=1}^{N}\sum_{c=1}^{C} W^{(2)}_{ck}\left(a^{(3)}_{cn} - \Delta_{cn}\right)\phi'(z^{(2)}_{kn})\, x_{jn}",
            lambda p: grid(p.W1.shape, lambda k, j: sum(_lk_entry(p, k, n) * p.X[j, n] for n in range(p.N))),
            {"q": r"\frac{\partial J}{\partial W^{(1)}_{kj}}"},
        ),
        (
            "R",
            "transposed",
            r"X\left(" + _LK_BACK + r" \odot " + _LK_D + r"\right)^T",
            lambda p: (_lk_delta(p) @ p.X.T).T,
        ),
        (
            "R",
            "cases",
            r"\frac{1}{N}\left(W^{(2)T}(\psi(z^{(3)}) - \Delta) \odot \begin{cases} 1 & z^{(2)} > 0 \\ \alpha & \text{otherwise} \end{cases}\right) X^T",
            lambda p: _lk_delta(p) @ p.X.T,
        ),
        (
            "R",
            "alpha-plus",
            r"\left(" + _LK_BACK + r" \odot \left(\alpha + (1 - \alpha)\,1_{\{z^{(2)} > 0\}}\right)\right) a^{(1)T}",
            lambda p: _lk_delta(p) @ p.X.T,
        ),
        (
            "R",
            "one-sample",
            r"\frac{1}{N}\left(W^{(2)T}(a^{(3)} - y) \odot \left((z^{(2)} > 0) + \alpha\,(z^{(2)} \le 0)\right)\right) x^T",
            lambda p: _lk_delta(p) @ p.X.T,
            {"one": True},
        ),
        *_lk_wrong_masks(lambda inner: r"\left(" + inner + r"\right) X^T", lambda p, d: d @ p.X.T),
        (
            "W",
            "a2-for-x",
            r"\left(" + _LK_BACK + r" \odot " + _LK_D + r"\right) a^{(2)T}",
            lambda p: _lk_delta(p) @ p.a2.T,
            {"expect": ("wrong-layer", "size")},
        ),
        (
            "W",
            "dz2-for-dW1",
            _LK_BACK + r" \odot " + _LK_D,
            lambda p: _lk_delta(p),
            {"expect": ("size", "missing-factor", "other-quantity")},
        ),
    ],
)
table(
    LK,
    "dJ/db1",
    [
        (
            "R",
            "key",
            r"\left(" + _LK_BACK + r" \odot " + _LK_D + r"\right) \mathbf{1}_N",
            lambda p: _lk_delta(p) @ np.ones((p.N, 1)),
            {"exact": True},
        ),
        (
            "R",
            "superscripts",
            r"\frac{1}{N}\sum_{i=1}^{N} W^{(2)T}(a^{(3)(i)} - y^{(i)}) \odot \phi'(z^{(2)(i)})",
            lambda p: _lk_delta(p).sum(axis=1, keepdims=True),
        ),
        (
            "R",
            "entrywise",
            r"\frac{1}{N}\sum_{n=1}^{N}\sum_{c=1}^{C} W^{(2)}_{ck}\left(a^{(3)}_{cn} - \Delta_{cn}\right)\left(\mathbb{1}[z^{(2)}_{kn} > 0] + \alpha\,\mathbb{1}[z^{(2)}_{kn} \le 0]\right)",
            lambda p: grid((4, 1), lambda k, _: sum(_lk_entry(p, k, n) for n in range(p.N))),
            {"q": r"\frac{\partial J}{\partial b^{(1)}_k}"},
        ),
        (
            "R",
            "unsized-ones",
            r"\left(" + _LK_BACK + r" \odot " + _LK_D + r"\right) \mathbf{1}",
            lambda p: _lk_delta(p) @ np.ones((p.N, 1)),
        ),
        (
            "R",
            "row",
            r"\mathbf{1}^T\left(" + _LK_BACK + r" \odot " + _LK_D + r"\right)^T",
            lambda p: (_lk_delta(p) @ np.ones((p.N, 1))).T,
        ),
        (
            "R",
            "cases",
            r"\frac{1}{N}\left(W^{(2)T}(\psi(z^{(3)}) - \Delta) \odot \begin{cases} 1 & z^{(2)} > 0 \\ \alpha & z^{(2)} \le 0 \end{cases}\right) \mathbf{1}_N",
            lambda p: _lk_delta(p) @ np.ones((p.N, 1)),
        ),
        (
            "R",
            "one-sample",
            r"\frac{1}{N} W^{(2)T}(a^{(3)} - y) \odot \phi'(z^{(2)})",
            lambda p: _lk_delta(p),
            {"one": True},
        ),
        (
            "R",
            "one-sample-entrywise",
            r"\frac{1}{N}\sum_{c=1}^{C} W^{(2)}_{ck}\left(a^{(3)}_{c} - y_{c}\right)\phi'(z^{(2)}_{k})",
            lambda p: grid((4, 1), lambda k, _: _lk_entry(p, k, 0)),
            {"q": r"\frac{\partial J}{\partial b^{(1)}_k}", "one": True},
        ),
        *_lk_wrong_masks(lambda inner: r"\left(" + inner + r"\right) \mathbf{1}_N", lambda p, d: d @ np.ones((p.N, 1))),
        (
            "W",
            "wrong-axis",
            r"\left(" + _LK_BACK + r" \odot " + _LK_D + r"\right)^T \mathbf{1}_H",
            lambda p: _lk_delta(p).T @ np.ones((4, 1)),
            {"expect": ("wrong-axis", "size")},
        ),
        (
            "W",
            "dW1-for-db1",
            r"\left(" + _LK_BACK + r" \odot " + _LK_D + r"\right) X^T",
            lambda p: _lk_delta(p) @ p.X.T,
            {"expect": ("other-quantity", "size", "extra-factor")},
        ),
    ],
)


# ============================================================================ probes
# Claims that look wrong and are right (identities of the model: Σ_i x̂_ij = 0, the correct class's
# margin is always 1) and claims that look right and are wrong (a kink moved, a square factor
# transposed inside a row form, another label convention): where a checker that is not careful errs.

table(
    LG,
    "dJ/dw",
    [
        (
            "W",
            "plus-minus-one-labels",
            r"-\frac{1}{N}\sum_{i=1}^{N} y_i\, \sigma\left(-y_i (w^T x_i + b)\right) x_i",
            lambda p: -sum(p.y[0, i] * sigmoid(-p.y[0, i] * p.z[0, i]) * p.X[:, [i]] for i in range(p.N)) / p.N,
            {"expect": ("wrong-labels", "missing-term")},
        ),
    ],
)
table(
    SV,
    "dJ/dW",
    [
        (
            "R",
            "count-with-correction",
            r"\frac{1}{N}\left(\mathbb{1}[M > 0] \odot (\mathbf{1}_C \mathbf{1}_N^T - \Delta) - \Delta \odot \mathbf{1}_C \mathbf{1}_C^T\,\mathbb{1}[M > 0] + \Delta\right) X^T",
            lambda p: (p.A - p.Delta * (p.M > 0).sum(axis=0, keepdims=True) + p.Delta) @ p.X.T / p.N,
        ),
        (
            "W",
            "margin-threshold-1",
            r"\frac{1}{N}\left(\mathbb{1}[M > 1] - \Delta \odot \mathbf{1}_C\mathbf{1}_C^T\,\mathbb{1}[M > 1]\right) X^T",
            lambda p: ((p.M > 1) - p.Delta * (p.M > 1).sum(axis=0, keepdims=True)) @ p.X.T / p.N,
            {"expect": ("indicator-argument",)},
        ),
    ],
)
table(
    BN,
    "dL/dgamma",
    [
        (
            "R",
            "centred-G",
            r"\left(\left(G - \frac{1}{N}\mathbf{1}_N \mathbf{1}_N^T G\right) \odot \hat X\right)^T \mathbf{1}_N",
            lambda p: ((p.G - np.ones((p.N, p.N)) @ p.G / p.N) * p.xh).T @ np.ones((p.N, 1)),
            {"exact": True},
        ),
        ("R", "diag-of-product", r"\operatorname{diag}(\hat X^T G)", lambda p: np.diag(p.xh.T @ p.G)[:, None]),
        ("R", "diag-of-product-swapped", r"\operatorname{diag}(G^T \hat X)", lambda p: np.diag(p.G.T @ p.xh)[:, None]),
        (
            "R",
            "diag-inverse-root",
            r"\left(\operatorname{diag}(\sigma^2 + \epsilon)^{1/2}\right)^{-1} \left(G \odot (X - \mathbf{1}_N \mu^T)\right)^T \mathbf{1}_N",
            lambda p: (
                np.linalg.inv(np.diag(np.sqrt(p.var[:, 0] + p.epsilon))) @ (p.G * (p.X - p.mu.T)).T @ np.ones((p.N, 1))
            ),
        ),
        (
            "W",
            "diag-power-variance",
            r"\operatorname{diag}(\sigma^2 + \epsilon)^{-1} \left(G \odot (X - \mathbf{1}_N \mu^T)\right)^T \mathbf{1}_N",
            lambda p: np.linalg.inv(np.diag(p.var[:, 0] + p.epsilon)) @ (p.G * (p.X - p.mu.T)).T @ np.ones((p.N, 1)),
            {"expect": ("wrong-power", "missing-factor")},
        ),
        (
            "W",
            "diag-of-gram",
            r"\operatorname{diag}(\hat X^T \hat X)",
            lambda p: np.diag(p.xh.T @ p.xh)[:, None],
            {"expect": ("wrong-variable", "size")},
        ),
        (
            "W",
            "square-product",
            r"G^T \hat X \mathbf{1}_D",
            lambda p: p.G.T @ p.xh @ np.ones((3, 1)),
            {"expect": ("only-diagonal", "extra-term")},
        ),
        (
            "W",
            "cross-terms",
            r"\hat X^T G \mathbf{1}_D",
            lambda p: p.xh.T @ p.G @ np.ones((3, 1)),
            {"expect": ("only-diagonal", "extra-term")},
        ),
    ],
)
table(
    BN,
    "dL/dX",
    [
        (
            "W",
            "epsilon-dropped",
            r"\frac{1}{N} \mathbf{1}_N \left(\gamma \odot (\sigma^2)^{-1/2}\right)^T \odot \left(N G - \mathbf{1}_N \mathbf{1}_N^T G - \hat X \odot \mathbf{1}_N \mathbf{1}_N^T (G \odot \hat X)\right)",
            lambda p: _bn_dx(p) * np.sqrt((p.var + p.epsilon) / p.var).T,
            {"expect": ("missing-term",), "words": (r"\epsilon", "ε")},
        ),
        (
            "R",
            "zero-term-added",
            _BN_KEY + r" + \mathbf{1}_N \mathbf{1}_N^T \hat X",
            _bn_dx,
        ),
        (
            "W",
            "entrywise-variance-path-missing",
            r"\frac{\gamma_j}{N\sqrt{\sigma_j^2 + \epsilon}}\left(N G_{ij} - \sum_{k=1}^{N} G_{kj}\right)",
            lambda p: grid(
                p.X.shape,
                lambda i, j: (
                    p.gamma[j, 0] / (p.N * np.sqrt(p.var[j, 0] + p.epsilon)) * (p.N * p.G[i, j] - p.G[:, j].sum())
                ),
            ),
            {"q": r"\frac{\partial L}{\partial x_{ij}}", "expect": ("missing-path", "missing-term")},
        ),
        (
            "W",
            "entrywise-gamma-missing",
            r"\frac{1}{N\sqrt{\sigma_j^2 + \epsilon}}\left(N G_{ij} - \sum_{k=1}^{N} G_{kj} - \hat x_{ij}\sum_{k=1}^{N} G_{kj}\hat x_{kj}\right)",
            lambda p: grid(p.X.shape, lambda i, j: _bn_entry(p, i, j) / p.gamma[j, 0]),
            {"q": r"\frac{\partial L}{\partial x_{ij}}", "expect": ("missing-factor",)},
        ),
    ],
)
table(
    RN,
    "dJ/dh1",
    [
        (
            "R",
            "sech",
            r"W^T\left(\operatorname{sech}^2(W h_1 + U x_2 + b) \odot V^T (\hat y - y)\right)",
            lambda p: p.W.T @ ((1 - np.tanh(p.z2) ** 2) * p.g2),
        ),
        (
            "R",
            "summation-convention-other-letters",
            r"W_{lj} (1 - (h_2)_l^2) V_{nl} (\hat y_n - y_n)",
            lambda p: grid(
                (3, 1),
                lambda j, _: sum(
                    p.W[l, j] * (1 - p.h2[l, 0] ** 2) * sum(p.V[n, l] * (p.yh[n, 0] - p.y[n, 0]) for n in range(4))
                    for l in range(3)
                ),
            ),
            {"q": r"\frac{\partial J}{\partial (h_1)_j}"},
        ),
        (
            "W",
            "summation-convention-wrong-step",
            r"W_{kj} \left(1 - (h_1)_k^2\right) V_{mk} (\hat y_m - y_m)",
            lambda p: grid(
                (3, 1),
                lambda j, _: sum(
                    p.W[k, j] * (1 - p.h1[k, 0] ** 2) * sum(p.V[m, k] * (p.yh[m, 0] - p.y[m, 0]) for m in range(4))
                    for k in range(3)
                ),
            ),
            {"q": r"\frac{\partial J}{\partial (h_1)_j}", "expect": ("wrong-layer",)},
        ),
        (
            "W",
            "row-with-W-transposed",
            r"\left((\hat y - y)^T V \odot (\mathbf{1}_H - h_2 \odot h_2)^T\right) W^T",
            lambda p: (p.g2.T * (1 - p.h2**2).T) @ p.W.T,
            {"expect": "transposed-factor"},
        ),
        (
            "W",
            "row-diag-with-W-transposed",
            r"(\hat y - y)^T V \operatorname{diag}(\mathbf{1}_H - h_2 \odot h_2)\, W^T",
            lambda p: (p.yh - p.y).T @ p.V @ np.diag(1 - p.h2[:, 0] ** 2) @ p.W.T,
            {"expect": "transposed-factor"},
        ),
        (
            "W",
            "transposed-column-with-W-transposed",
            r"\left(\operatorname{diag}(\mathbf{1}_H - h_2 \odot h_2)\, V^T (\hat y - y)\right)^T W^T",
            lambda p: _d2(p).T @ p.W.T,
            {"expect": "transposed-factor"},
        ),
        (
            "R",
            "row-diag",
            r"(\hat y - y)^T V \operatorname{diag}(\mathbf{1}_H - h_2 \odot h_2)\, W",
            lambda p: (p.yh - p.y).T @ p.V @ np.diag(1 - p.h2[:, 0] ** 2) @ p.W,
        ),
    ],
)
table(
    RN,
    "dJ/dW",
    [
        (
            "W",
            "transposed-with-W",
            r"h_1 " + _D2 + r"^T + h_0 \left((\mathbf{1}_H - h_1 \odot h_1) \odot W " + _D2 + r"\right)^T",
            lambda p: p.h1 @ _d2(p).T + p.h_0 @ _d1(p, Wt=False).T,
            {"expect": "transposed-factor"},
        ),
        (
            "W",
            "row-delta-with-W-transposed",
            _D2
            + r" h_1^T + \left(\left(\left((\hat y - y)^T V \odot (\mathbf{1}_H - h_2 \odot h_2)^T\right) W^T\right) \odot (\mathbf{1}_H - h_1 \odot h_1)^T\right)^T h_0^T",
            lambda p: _d2(p) @ p.h1.T + _d1(p, Wt=False) @ p.h_0.T,
            {"expect": "transposed-factor"},
        ),
        (
            "R",
            "entry-of-bracket",
            r"\left(" + _D2 + r" h_1^T + " + _D1 + r" h_0^T\right)_{jk}",
            lambda p: _d2(p) @ p.h1.T + _d1(p) @ p.h_0.T,
            {"q": r"\frac{\partial J}{\partial W_{jk}}", "entry": True},
        ),
        (
            "W",
            "entry-of-bracket-swapped",
            r"\left(" + _D2 + r" h_1^T + " + _D1 + r" h_0^T\right)_{kj}",
            lambda p: (_d2(p) @ p.h1.T + _d1(p) @ p.h_0.T).T,
            {"q": r"\frac{\partial J}{\partial W_{jk}}", "entry": True, "expect": "swapped-indices"},
        ),
        (
            "W",
            "transposed-row-with-W-transposed",
            r"h_1 \left((\hat y - y)^T V \odot (\mathbf{1}_H - h_2 \odot h_2)^T\right) + h_0 \left(\left(\left((\hat y - y)^T V \odot (\mathbf{1}_H - h_2 \odot h_2)^T\right) W^T\right) \odot (\mathbf{1}_H - h_1 \odot h_1)^T\right)",
            lambda p: p.h1 @ _d2(p).T + p.h_0 @ _d1(p, Wt=False).T,
            {"expect": "transposed-factor"},
        ),
        (
            "R",
            "transposed-row",
            r"h_1 \left((\hat y - y)^T V \odot (\mathbf{1}_H - h_2 \odot h_2)^T\right) + h_0 \left(\left(\left((\hat y - y)^T V \odot (\mathbf{1}_H - h_2 \odot h_2)^T\right) W\right) \odot (\mathbf{1}_H - h_1 \odot h_1)^T\right)",
            lambda p: (_d2(p) @ p.h1.T + _d1(p) @ p.h_0.T).T,
        ),
        (
            "R",
            "row-delta",
            _D2
            + r" h_1^T + \left(\left(\left((\hat y - y)^T V \odot (\mathbf{1}_H - h_2 \odot h_2)^T\right) W\right) \odot (\mathbf{1}_H - h_1 \odot h_1)^T\right)^T h_0^T",
            lambda p: _d2(p) @ p.h1.T + _d1(p) @ p.h_0.T,
        ),
    ],
)
table(
    LK,
    "dJ/dz2",
    [
        (
            "R",
            "sign-form",
            _LK_BACK
            + r" \odot \left(\frac{1 + \mathrm{sign}(z^{(2)})}{2} + \alpha\,\frac{1 - \mathrm{sign}(z^{(2)})}{2}\right)",
            _lk_delta,
        ),
        (
            "W",
            "kink-at-alpha",
            _LK_BACK + r" \odot \left(\mathbb{1}[z^{(2)} > \alpha] + \alpha\,\mathbb{1}[z^{(2)} \le \alpha]\right)",
            lambda p: _lk_delta(p, d=np.where(p.z2 > p["alpha"], 1.0, p["alpha"])),
            {"expect": ("indicator-argument", "wrong-activation-derivative")},
        ),
        (
            "W",
            "alpha-everywhere",
            _LK_BACK + r" \odot \left(\mathbb{1}[z^{(2)} > 0] + \alpha\right)",
            lambda p: _lk_delta(p, d=p.pos + p["alpha"]),
            {"expect": ("wrong-activation-derivative", "extra-term")},
        ),
    ],
)


# ============================================================================ known gaps
# Rows symderiv gets wrong today (row id -> what fails). They stay strict expected failures: when the
# engine is fixed the row passes, the xfail turns into an error, and the entry is removed here.

_NONE = "no named mistake (diagnosis None, the generic 'differs under every reading')"

ACCEPT_GAPS: dict[str, str] = {
    # wrong answers accepted
}
DIAGNOSIS_GAPS: dict[str, str] = {
    "logreg-l2:dJ/dw:sum-without-index": "None: 'a 1×N matrix times a D×N matrix' for a sum whose summand has no i (N times one sample's term)",
    "svm-hinge:dJ/dW:margin-without-1-units": _NONE
    + "; the margin's + 1 missing inside the indicator (written with unit vectors)",
    "svm-hinge:dJ/dW:unsized-ones-count-over-samples": _NONE
    + "; the active margins counted over the samples ((A) 1 1ᵀ) for over the classes (1 1ᵀ A)",
    "svm-hinge:dJ/dW:count-includes-correct-class": "misleading: 'extra factor (1_C 1_N^T − Δ)' in the (right) first term, not the count term's missing exclusion of y_i",
    "svm-hinge:dJ/dW:count-as-indicator": _NONE + "; the count of active margins replaced by 1[count > 0]",
    "svm-hinge:dJ/dW:count-term-no-x": _NONE + "; X^T missing from the correct-class count term",
    "svm-hinge:dJt/dW:margin-without-1-units": _NONE
    + "; the margin's + 1 missing inside the indicator (written with unit vectors)",
    "svm-hinge:dJt/dW:count-includes-correct-class": "misleading: 'extra factor (1_C 1_N^T − Δ)' in the (right) first term, not the count term's missing exclusion of y_i",
    "svm-hinge:dJt/dW:count-as-indicator": _NONE + "; the count of active margins replaced by 1[count > 0]",
    "svm-hinge:dJt/dW:count-term-no-x": _NONE + "; X^T missing from the correct-class count term",
    "word2vec-naive-softmax:dJ/du:sigmoid-for-softmax": _NONE
    + "; σ(u_wᵀ v_c) for one column's softmax entry is not named (wrong-activation is named in the matrix forms)",
    "batchnorm:dL/dgamma:centred-not-scaled": _NONE + "; the factor (σ_j² + ε)^{-1/2} missing",
    "batchnorm:dL/dX:entrywise-gamma-missing": _NONE + "; the factor γ_j missing",
    "batchnorm:dL/dX:mean-term-no-1/N": _NONE + "; 1/N missing on the mean path's term only",
    "rnn-2step:dJ/dW:second-term-transposed": _NONE
    + "; the square second term h_0 δ_1ᵀ transposed (a square factor transposed)",
    "logreg-l2:dJ/dw:plus-minus-one-labels": _NONE + "; the ±1-label formula −y σ(−y(wᵀx + b)) x for 0/1 labels",
    "batchnorm:dL/dgamma:square-product": _NONE + "; Gᵀ X̂ 1_D (every cross term Σ_i G_ij x̂_ik) for the diagonal",
    "batchnorm:dL/dgamma:cross-terms": _NONE + "; X̂ᵀ G 1_D (every cross term) for the diagonal",
}


# ============================================================================ the tests

ACCEPT = ("correct", "correct-up-to-layout")


@cache
def verdict(row_id: str, symbolic: bool, explain: bool = True):
    row = BY_ID[row_id]
    return check_claim(row.pid, row.quantity, row.tex, symbolic=symbolic, explain=explain)


BY_ID = {r.id: r for r in ROWS}


def _param(row: Row, gaps: dict[str, str]):
    marks = [pytest.mark.xfail(reason=gaps[row.id], strict=True)] if row.id in gaps else []
    return pytest.param(row.id, id=row.id, marks=marks)


@pytest.mark.parametrize("row_id", [pytest.param(r.id, id=r.id) for r in ROWS])
def test_label_is_what_the_ta_meant(row_id):
    """The lambda, against central differences, says what the TA who wrote the claim meant: a
    mistake in a lambda (or in a TA's intent) shows here, never as an engine failure."""
    row = BY_ID[row_id]
    assert (row.label != "wrong") == row.right, (row.label, row.tex)


@pytest.mark.parametrize("row_id", [_param(r, ACCEPT_GAPS) for r in ROWS])
def test_claim_is_accepted_or_rejected_as_labelled(row_id):
    """Accept/reject as finite differences label it; rows marked exact also with the exact check."""
    row = BY_ID[row_id]
    v = verdict(row_id, row.exact)
    expected = row.label != "wrong"
    assert v.accepted == expected, (row.label, v.verdict, v.diagnosis, v.feedback)
    if expected and row.exact:
        assert v.symbolic is not None and v.symbolic.status == "equal", v.symbolic


@pytest.mark.parametrize("row_id", [_param(r, ACCEPT_GAPS) for r in ROWS if not r.right])
def test_wrong_claim_is_rejected_in_either_mode(row_id):
    """No wrong answer is accepted, with or without the exact check (deciding only)."""
    row = BY_ID[row_id]
    for symbolic in (False, True):
        v = verdict(row_id, symbolic, explain=False)
        assert not v.accepted, (symbolic, row.tex, v.verdict, v.feedback)


@pytest.mark.parametrize("row_id", [_param(r, DIAGNOSIS_GAPS) for r in ROWS if not r.right])
def test_wrong_claim_names_its_mistake(row_id):
    """A rejected wrong claim carries the named mistake a TA would give (the code, or the words)."""
    row = BY_ID[row_id]
    v = verdict(row_id, row.exact)
    assert not v.accepted
    assert v.diagnosis in row.expect or any(w in v.feedback for w in row.words), (row.expect, v.diagnosis, v.feedback)


def test_every_quantity_has_enough_rows():
    keys = {
        LG: ["dJ/dw", "dJ/db", "dJt/dw"],
        LR: ["dJ/dw", "dJ/db"],
        SV: ["dJ/dW", "dJt/dW"],
        WV: ["dJ/dvc", "dJ/du", "dJ/dU"],
        BN: ["dL/dgamma", "dL/dbeta", "dL/dX"],
        RN: ["dJ/dV", "dJ/dh2", "dJ/dh1", "dJ/dW"],
        LK: ["dJ/dz2", "dJ/dW1", "dJ/db1"],
    }
    for pid, qids in keys.items():
        for qid in qids:
            rows = [r for r in ROWS if (r.pid, r.qid) == (pid, qid)]
            assert sum(r.right for r in rows) >= 6, (pid, qid)
            assert sum(not r.right for r in rows) >= 8, (pid, qid)
            assert all(r.expect or r.words for r in rows if not r.right), (pid, qid)
            assert any(r.exact for r in rows), (pid, qid)


@pytest.mark.parametrize("pid", ["logreg-l2", "linreg-mse", "svm-hinge", "leaky-relu-mlp"])
def test_forward_with_explicit_n_is_the_bank_oracles(pid):
    """The forward passes written here (N explicit, for one sample's share) agree with
    bank_oracle.py's at whole batches, and logistic regression's with its textbook gradient."""
    o = ORACLES[pid]
    for seed in range(3):
        v = point(pid, seed)
        mine = o.forward(v, {})
        if pid == "logreg-l2":
            p = values(pid, seed, False)
            grad = p.X @ (p.yh - p.y).T / p.N
            assert np.allclose(central_difference(_WithN(o.forward), v, "J", "w"), grad, atol=1e-7)
        else:
            theirs = o.problem.forward(v, {})
            assert np.isclose(mine["J"], theirs["J"], rtol=1e-12)
            if "Jt" in theirs:
                assert np.isclose(mine["Jt"], theirs["Jt"], rtol=1e-12)


# A non-square entrywise claim whose letters are swapped against its own left-hand side (∂J/∂W_jk =
# … X_ji …, W being C × D) only makes sense transposed: at best right up to layout, never full credit.
SWAPPED_LETTERS = [
    pytest.param(
        WV,
        r"\frac{\partial J}{\partial U_{kw}}",
        r"(v_c)_w (\hat y_k - y_k)",
        id="word2vec-dJ/dU",
    ),
    pytest.param(
        SV,
        r"\frac{\partial J}{\partial W_{jk}}",
        r"\frac{1}{N}\sum_{i=1}^{N}\left(\mathbb{1}[M_{ki} > 0](1 - \Delta_{ki}) - \Delta_{ki}\sum_{c=1}^{C}(1 - \Delta_{ci})\,\mathbb{1}[M_{ci} > 0]\right) X_{ji}",
        id="svm-dJ/dW",
    ),
    pytest.param(
        LK,
        r"\frac{\partial J}{\partial W^{(1)}_{kj}}",
        r"\left(\left(" + _LK_BACK + r" \odot " + _LK_D + r"\right) X^T\right)_{jk}",
        id="leaky-dJ/dW1",
    ),
]


@pytest.mark.parametrize("pid, quantity, claim", SWAPPED_LETTERS)
def test_swapped_letters_never_earn_full_credit(pid, quantity, claim):
    v = check_claim(pid, quantity, claim, symbolic=False)
    assert v.verdict != "correct", v.feedback


# ============================================================================ the measures


def measure(out=sys.stdout) -> dict:
    """Per key: accept/reject agreement with the labels, wrong answers accepted, and the share of
    rejected wrong claims with a specific diagnosis (not None) and with the expected one; "num/exact":
    wrong claims accepted without and with the exact check (deciding only)."""
    table_ = {}
    for row in ROWS:
        try:
            v = verdict(row.id, row.exact)
            accepted, diagnosis, feedback = v.accepted, v.diagnosis, v.feedback
        except Exception as exc:  # noqa: BLE001 - an unread left-hand side counts as a rejection
            accepted, diagnosis, feedback = False, None, str(exc)
        right = row.label != "wrong"
        t = table_.setdefault(
            row.pid,
            dict(
                rows=0,
                agree=0,
                wrong=0,
                wrong_accepted=0,
                accepted_numeric=0,
                accepted_exact=0,
                rejected_wrong=0,
                named=0,
                expected=0,
            ),
        )
        t["rows"] += 1
        t["agree"] += accepted == right
        if not right:
            t["wrong"] += 1
            t["wrong_accepted"] += accepted
            for mode, symbolic in (("accepted_numeric", False), ("accepted_exact", True)):
                try:
                    t[mode] += verdict(row.id, symbolic, explain=False).accepted
                except Exception:  # noqa: BLE001 - an unread left-hand side counts as a rejection
                    pass
            if not accepted:
                t["rejected_wrong"] += 1
                t["named"] += diagnosis is not None
                t["expected"] += diagnosis in row.expect or any(w in feedback for w in row.words)
    total = {k: sum(t[k] for t in table_.values()) for k in next(iter(table_.values()))}
    print(
        f"{'key':24s} {'rows':>4s} {'agreement':>14s} {'wrong acc.':>10s} {'num/exact':>9s} {'named (not None)':>18s} {'expected name':>16s}",
        file=out,
    )
    for pid, t in [*table_.items(), ("all", total)]:
        rw = max(t["rejected_wrong"], 1)
        print(
            f"{pid:24s} {t['rows']:4d} {t['agree']:4d} ({100 * t['agree'] / t['rows']:5.1f}%) {t['wrong_accepted']:10d} {t['accepted_numeric']:4d}/{t['accepted_exact']:<4d}"
            f" {t['named']:3d}/{t['rejected_wrong']:3d} ({100 * t['named'] / rw:5.1f}%) {t['expected']:3d} ({100 * t['expected'] / rw:5.1f}%)",
            file=out,
        )
    return table_


if __name__ == "__main__":
    measure()
