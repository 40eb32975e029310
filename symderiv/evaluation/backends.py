"""The two ways a tree is evaluated: NumPy arrays at random points, SymPy matrices of symbols.

Every value is 2-D (a scalar is 1x1), so both backends share one evaluator (evaluate.py).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from symderiv.core.errors import NotationError, ShapeError
from symderiv.evaluation.interpret import Ref


def slope_of(fname: str, env):
    """The slope of a leaky ReLU named "leaky_relu:<hyperparameter>", from the objects."""
    return env.objects[Ref(fname.split(":", 1)[1])][0, 0]


class NumpyBackend:
    name = "numpy"

    def const(self, x):
        return np.array([[float(x)]])

    def shape(self, v):
        return v.shape

    def matmul(self, a, b):
        return a @ b

    def hadamard(self, a, b):
        return a * b

    def scale(self, s, a):
        return float(s[0, 0]) * a

    def add(self, a, b):
        return a + b

    def T(self, a):
        return a.T

    def divide(self, a, b):
        return a / b

    def power(self, a, p):
        return a ** float(p[0, 0]) if p.shape == (1, 1) else a**p

    def elementwise(self, fname, a, env):
        if fname.startswith("leaky_relu:"):
            return np.where(a > 0, a, slope_of(fname, env) * a)
        if fname == "log_softmax":
            axis = env.class_axis
            shifted = a - a.max(axis=axis, keepdims=True)
            return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        with np.errstate(all="ignore"):
            return {
                "exp": np.exp,
                "log": np.log,
                "tanh": np.tanh,
                "abs": np.abs,
                "sigmoid": lambda v: 1 / (1 + np.exp(-v)),
                "softplus": lambda v: np.logaddexp(0, v),
                "relu": lambda v: np.maximum(v, 0),
                "sign": np.sign,
                "stop": lambda v: v,
            }[fname](a)

    def derivative(self, fname, a, env):
        if fname.startswith("leaky_relu:"):
            return np.where(a > 0, 1.0, slope_of(fname, env))
        if fname == "abs":
            return np.sign(a)
        if fname == "sign":
            return np.zeros_like(a)
        with np.errstate(all="ignore"):
            if fname == "relu":
                return (a > 0).astype(float)
            if fname == "sigmoid":
                s = 1 / (1 + np.exp(-a))
                return s * (1 - s)
            if fname == "tanh":
                return 1 - np.tanh(a) ** 2
            if fname == "softplus":
                return 1 / (1 + np.exp(-a))
            if fname == "exp":
                return np.exp(a)
            if fname == "log":
                return 1 / a
        raise NotationError(f"no derivative of {fname} here")

    def softmax(self, a, axis):
        e = np.exp(a - a.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)

    def indicator(self, a, op, env):
        return {">": a > 0, ">=": a >= 0, "<": a < 0, "<=": a <= 0, "=": a == 0, "!=": a != 0}[op].astype(float)

    def sum_axis(self, a, axis):
        return a.sum(axis=axis, keepdims=True)

    def ones(self, r, c):
        return np.ones((r, c))

    def entry(self, a, i, j):
        return a[i : i + 1, j : j + 1]

    def row(self, a, i):
        return a[i : i + 1, :]

    def col(self, a, j):
        return a[:, j : j + 1]

    def from_entries(self, rows):
        return np.array([[float(e[0, 0]) for e in row] for row in rows])

    def diag(self, a):
        """diag(v): the diagonal matrix of a vector; diag(A): the diagonal of a square matrix, a column."""
        if a.shape[1] == 1 or a.shape[0] == 1:
            return np.diag(a.ravel())
        if a.shape[0] == a.shape[1]:
            return np.diag(a)[:, None]
        raise ShapeError("diag of a matrix that is not square")

    def total(self, a):
        return np.array([[a.sum()]])


class SympyBackend(NumpyBackend):
    name = "sympy"

    def __init__(self):
        import sympy  # heavy (about 0.5 s): loaded only when a symbolic check runs, not for NumPy checks

        self.sp = sympy

    def const(self, x):
        if isinstance(x, Fraction):
            x = self.sp.Rational(x.numerator, x.denominator)
        return self.sp.Matrix([[self.sp.sympify(x)]])

    def shape(self, v):
        return v.shape

    def hadamard(self, a, b):
        return a.multiply_elementwise(b)

    def scale(self, s, a):
        return s[0, 0] * a

    def divide(self, a, b):
        return (
            a.applyfunc(lambda x: x)
            if b.shape != a.shape
            else self.sp.Matrix(a.shape[0], a.shape[1], lambda i, j: a[i, j] / b[i, j])
        )

    def power(self, a, p):
        return a.applyfunc(lambda x: x ** p[0, 0])

    def elementwise(self, fname, a, env):
        sp = self.sp
        if fname.startswith("leaky_relu:"):
            slope = slope_of(fname, env)
            return a.applyfunc(lambda v: env.mask(v, ">") * v + slope * (1 - env.mask(v, ">")) * v)
        if fname == "log_softmax":
            if env.class_axis == 0:
                logs = [sp.log(sum(sp.exp(t) for t in a[:, j])) for j in range(a.shape[1])]
                return sp.Matrix(a.shape[0], a.shape[1], lambda i, j: a[i, j] - logs[j])
            logs = [sp.log(sum(sp.exp(t) for t in a[i, :])) for i in range(a.shape[0])]
            return sp.Matrix(a.shape[0], a.shape[1], lambda i, j: a[i, j] - logs[i])
        f = {
            "exp": sp.exp,
            "log": sp.log,
            "tanh": sp.tanh,
            "abs": lambda v: (2 * env.mask(v, ">") - 1) * v,  # |v| = ±v with the sign a 0/1 mask: no sign()
            "sign": lambda v: 2 * env.mask(v, ">") - 1,
            "stop": lambda v: v,
            "sigmoid": lambda v: 1 / (1 + sp.exp(-v)),
            "softplus": lambda v: sp.log(1 + sp.exp(v)),
            "relu": lambda v: env.mask(v, ">") * v,
        }[fname]
        return a.applyfunc(f)

    def derivative(self, fname, a, env):
        sp = self.sp
        if fname == "relu":
            return a.applyfunc(lambda v: env.mask(v, ">"))
        if fname == "abs":
            return a.applyfunc(lambda v: 2 * env.mask(v, ">") - 1)
        if fname == "sign":
            return a.applyfunc(lambda v: sp.Integer(0))
        if fname.startswith("leaky_relu:"):
            slope = slope_of(fname, env)
            return a.applyfunc(lambda v: env.mask(v, ">") + slope * (1 - env.mask(v, ">")))
        x = sp.Dummy("x")
        expr = self.elementwise(fname, sp.Matrix([[x]]), env)[0, 0]
        d = sp.diff(expr, x)
        return a.applyfunc(lambda v: d.subs(x, v))

    def undefined(self, function, a, derivative: int = 0):
        """A generic function of the key as an undefined SymPy function: elementwise (g_l, named
        g1, its derivative g1_d0 as symbolic.canonical names it) or of all entries (a cost C(a))."""
        sp = self.sp
        name = function.name + ("" if function.index is None else str(function.index))
        if function.builtin is not None:
            if derivative > 1:
                raise NotationError("higher derivatives are not supported")
            f = sp.Function(name + ("_d0" if derivative else ""))
            return a.applyfunc(lambda v: f(v))
        if derivative:
            raise NotationError(f"the derivative of {function.name} is not known here")
        return sp.Matrix([[sp.Function(name)(*list(a))]])

    def softmax(self, a, axis):
        sp = self.sp
        e = a.applyfunc(sp.exp)
        if axis == 0:
            sums = [sum(e[:, j]) for j in range(e.shape[1])]
            return sp.Matrix(e.shape[0], e.shape[1], lambda i, j: e[i, j] / sums[j])
        sums = [sum(e[i, :]) for i in range(e.shape[0])]
        return sp.Matrix(e.shape[0], e.shape[1], lambda i, j: e[i, j] / sums[i])

    def indicator(self, a, op, env):
        return a.applyfunc(lambda v: env.mask(v, op))

    def sum_axis(self, a, axis):
        sp = self.sp
        if axis == 1:
            return sp.Matrix([[sum(a[i, :])] for i in range(a.shape[0])])
        return sp.Matrix([[sum(a[:, j]) for j in range(a.shape[1])]])

    def ones(self, r, c):
        return self.sp.ones(r, c)

    def from_entries(self, rows):
        return self.sp.Matrix([[e[0, 0] for e in row] for row in rows])

    def diag(self, a):
        if a.shape[1] == 1 or a.shape[0] == 1:
            return self.sp.diag(*list(a))
        if a.shape[0] == a.shape[1]:
            return self.sp.Matrix([[a[i, i]] for i in range(a.shape[0])])
        raise ShapeError("diag of a matrix that is not square")

    def total(self, a):
        return self.sp.Matrix([[sum(a)]])
