"""Numeric ground truth of a `[model]` key: its equations evaluated in NumPy, differentiated by autograd.

The equations are evaluated by the same evaluator that reads claims, on an autograd backend, so
autograd differentiates exactly what was declared. A derivative with respect to an intermediate
variable cuts the graph there: the variable becomes an input of the equations after it. Points are
drawn away from every kink (relu, leaky relu, max, |u| arguments at least 1e-3 from 0).

Readings (see reference.py): the declared layout, the batch transposed, one sample (a batch of 1
with N a free number, so a stray 1/N shows).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import autograd
import autograd.numpy as anp
import numpy as np
from autograd.tracer import getval

from symderiv.answerkey.model import Model
from symderiv.core.errors import NotationError, ShapeError
from symderiv.core.tree import Call
from symderiv.evaluation.backends import NumpyBackend, slope_of
from symderiv.evaluation.evaluate import Env, Evaluator
from symderiv.evaluation.interpret import Interpreter, Ref

KINK_MARGIN = 1e-3
SINGLE_N = (10.0, 9.0, 12.0)  # N in the one-sample reading: free, never 1
KINKED = ("relu", "abs", "sign")


class AutogradBackend(NumpyBackend):
    """The NumPy backend in autograd.numpy, recording how close each kink argument comes to 0."""

    name = "autograd"

    def __init__(self):
        self.kink_gap = np.inf
        self.current = None  # the equation being evaluated
        self.kinks: list = []  # (equation target, kink argument) in the order evaluated

    def _kink(self, a):
        raw = np.asarray(getval(a), dtype=float)
        if raw.size:
            # an argument exactly 0 is a tie that holds on a whole region (max(a_1, a_2) with both
            # units' ReLUs off), not a point near a kink: such points are kept, since a claim can
            # differ there (1[a_1 ≥ a_2] is 1, the gradient 0)
            near = np.abs(raw[raw != 0.0])
            if near.size:
                self.kink_gap = min(self.kink_gap, float(np.min(near)))
            self.kinks.append((self.current, raw))

    def const(self, x):
        return np.array([[float(x)]])

    def scale(self, s, a):
        return s[0, 0] * a

    def T(self, a):
        return anp.transpose(a)

    def power(self, a, p):
        return a ** p[0, 0]

    def elementwise(self, fname, a, env):
        if fname in KINKED or fname.startswith("leaky_relu:"):
            self._kink(a)
        if fname.startswith("leaky_relu:"):
            return anp.where(a > 0, a, slope_of(fname, env) * a)
        if fname == "log_softmax":
            axis = env.class_axis
            shifted = a - anp.max(getval(a), axis=axis, keepdims=True)
            return shifted - anp.log(anp.sum(anp.exp(shifted), axis=axis, keepdims=True))
        return {
            "exp": anp.exp,
            "log": anp.log,
            "tanh": anp.tanh,
            "abs": anp.abs,
            "sigmoid": lambda v: 1 / (1 + anp.exp(-v)),
            "softplus": lambda v: anp.logaddexp(0, v),
            "relu": lambda v: anp.maximum(v, 0),
            "sign": anp.sign,
            "stop": getval,  # a constant for the derivative: a path cut
        }[fname](a)

    def derivative(self, fname, a, env):
        if fname == "sigmoid":
            s = 1 / (1 + anp.exp(-a))
            return s * (1 - s)
        if fname == "tanh":
            return 1 - anp.tanh(a) ** 2
        if fname == "softplus":
            return 1 / (1 + anp.exp(-a))
        if fname == "exp":
            return anp.exp(a)
        if fname == "log":
            return 1 / a
        self._kink(a)
        return super().derivative(fname, getval(a), env)

    def softmax(self, a, axis):
        e = anp.exp(a - anp.max(getval(a), axis=axis, keepdims=True))
        return e / anp.sum(e, axis=axis, keepdims=True)

    def indicator(self, a, op, env):
        self._kink(a)
        return super().indicator(getval(a), op, env)

    def sum_axis(self, a, axis):
        return anp.sum(a, axis=axis, keepdims=True)

    def from_entries(self, rows):
        return anp.concatenate([anp.concatenate([e for e in row], axis=1) for row in rows], axis=0)

    def diag(self, a):
        if a.shape[1] == 1 or a.shape[0] == 1:
            return anp.diag(anp.ravel(a))
        if a.shape[0] == a.shape[1]:
            return anp.reshape(anp.diag(a), (-1, 1))
        raise ShapeError("diag of a matrix that is not square")

    def total(self, a):
        return anp.reshape(anp.sum(a), (1, 1))


# ---- layout -------------------------------------------------------------------------


def declared_layout(model: Model) -> str:
    """columns when the batch is the second axis of the declared symbols, rows when the first."""
    if model.batch is None:
        return "single"
    axes = {s.shape.index(model.batch) for s in model.free() if model.batch in s.shape}
    return "rows" if axes == {0} else "columns"


def size_of(entry, sizes: dict) -> int:
    return entry if isinstance(entry, int) else sizes[entry]


@dataclass(frozen=True)
class Sample:
    """One instance: the free symbols' values and every computed one, in the declared layout."""

    free: dict
    values: dict
    N: float
    n_samples: int
    kink_gap: float
    kinks: tuple = ()  # (equation target, kink argument): the truth's own kinks at this instance


def _env(problem, backend, objects, reading, n_samples, batch_kinds, masks):
    return Env(
        backend=backend,
        interp=Interpreter(problem, {}),
        objects=objects,
        reading=reading,
        n_samples=n_samples,
        batch_kinds=frozenset(batch_kinds),
        masks=masks,
        index_labels=index_labels(problem, {r.kind: v for r, v in objects.items()}),
        column_kinds=column_kinds(problem),
    )


def index_labels(problem, values: dict) -> dict:
    """The written name of each class-index label -> its 0-based value (stored 1-based)."""
    return {
        name: int(values[sid][0, 0]) - 1 for sid, name in problem.model.index_label_names().items() if sid in values
    }


def column_objects(problem, values: dict, backend) -> dict:
    """u for U with columns = "u": U itself, whose subscript picks a column (Env.column_kinds)."""
    return {Ref(s.columns): values[s.id] for s in problem.model.symbols if s.columns and s.id in values}


def column_kinds(problem) -> frozenset:
    return frozenset(s.columns for s in problem.model.symbols if s.columns)


def run_equations(
    problem,
    free: dict,
    N: float,
    n_samples: int,
    backend=None,
    cut: dict | None = None,
    until: str | None = None,
    scaled: dict | None = None,
    masks: dict | None = None,
    straight: frozenset = frozenset(),
) -> dict:
    """Every symbol's value (keyed by id): the free ones as given, then each equation in order.
    cut holds variables given instead of computed; scaled maps an equation target to a tree that
    replaces its right side (the usual mistakes, for diagnosis); for the targets in straight, an
    equation f(u) keeps its value but passes derivatives through as if f were the identity (the
    mistake of a missing f′)."""
    model = problem.model
    backend = backend or AutogradBackend()
    layout = declared_layout(model)
    objects = {Ref(k): v for k, v in free.items()}
    objects.update(size_objects(problem, N, backend))
    objects.update(column_objects(problem, free, backend))
    masks = {} if masks is None else masks
    batch_kinds = {k for k in free if model.batch in model.symbol(k).shape} if model.batch else set()
    for eq in model.equations:
        if cut and eq.target in cut:
            value = cut[eq.target]
        else:
            if isinstance(backend, AutogradBackend):
                backend.current = eq.target
            env = _env(problem, backend, objects, layout, n_samples, batch_kinds, masks)
            rhs = (scaled or {}).get(eq.target, eq.rhs)
            value = entrywise(problem, env, eq, rhs, backend) if eq.indices else Evaluator(env).value(rhs)
            if eq.target in straight and isinstance(rhs, Call) and len(rhs.args) == 1:
                inner = Evaluator(env).value(rhs.args[0])
                value = inner + (getval(value) - getval(inner))
        objects[Ref(eq.target)] = value
        if model.batch and _carries_batch(value, n_samples, layout):
            batch_kinds.add(eq.target)
        if eq.target == until:
            break
    return {ref.kind: v for ref, v in objects.items()}


def entrywise(problem, env, eq, rhs, backend):
    """y_i = Σ_k w_k x_{i+k-1}: each entry with its indices bound, over the declared shape."""
    sizes = dict(problem.symbolic_sizes if backend.name == "sympy" else problem.numeric_sizes)
    shape = tuple(size_of(e, sizes) for e in problem.model.symbol(eq.target).shape) or (1, 1)
    names = eq.indices
    rows = []
    for r in range(shape[0]):
        row = []
        for c in range(shape[1]):
            bound = dict(zip(names, (r, c) if len(names) == 2 else (r if shape[0] > 1 else c,)))
            row.append(Evaluator(env, bound).value(rhs))
        rows.append(row)
    return backend.from_entries(rows)


def _carries_batch(value, n_samples, layout) -> bool:
    shape = getattr(value, "shape", ())
    axis = 1 if layout == "columns" else 0
    return len(shape) == 2 and shape[axis] == n_samples and n_samples > 1


def size_objects(problem, N, backend) -> dict:
    """The size names as numbers (N may be a free symbol in the one-sample reading)."""
    sizes = problem.symbolic_sizes if backend.name == "sympy" else problem.numeric_sizes
    out = {Ref(k): backend.const(v) for k, v in sizes}
    if problem.model.batch:
        out[Ref(problem.model.batch)] = backend.const(N) if backend.name == "sympy" else np.array([[float(N)]])
    return out


def draw_free(problem, rng, n_samples: int, point: int) -> dict:
    """Values of the free symbols in the declared layout."""
    model = problem.model
    sizes = dict(problem.numeric_sizes)
    if model.batch:
        sizes[model.batch] = n_samples
    out = {}
    for s in model.free():
        if s.role == "hyperparameter":
            value = s.value if s.value is not None else rng.uniform(*s.range)
            out[s.id] = np.array([[float(value)]])
            continue
        shape = tuple(size_of(e, sizes) for e in s.shape) or (1, 1)
        if s.role == "label" and s.labels == "index":  # a class index 1..size, stored 1-based
            out[s.id] = np.array([[float(1 + (point + int(rng.integers(0, shape[0]))) % shape[0])]])
        elif s.role == "label" and s.labels == "one-hot":
            out[s.id] = _one_hot(shape, s.shape, model.batch, rng)
        elif (s.role == "label" and s.labels == "binary") or s.role == "mask":
            Y = (rng.random(shape) < 0.5).astype(float)
            if Y.size >= 2:
                Y.flat[0], Y.flat[1] = 1.0, 0.0  # both classes, so a missing (1 − y) term shows
            else:
                Y[:] = (point + 1) % 2
            out[s.id] = Y
        else:
            out[s.id] = rng.standard_normal(shape)
    return agree_with_index(model, out, sizes)


def agree_with_index(model, out: dict, sizes: dict) -> dict:
    """A one-sample one-hot label is the one-hot of the class-index label of the same size (y = e_o)."""
    for index in (s for s in model.free() if s.labels == "index"):
        classes = size_of(index.shape[0], sizes)
        for s in model.free():
            if s.labels == "one-hot" and model.batch not in s.shape and out[s.id].shape == (classes, 1):
                Y = out[s.id] * 0
                Y[int(out[index.id][0, 0]) - 1, 0] = 1
                out[s.id] = Y
    return out


def _one_hot(shape, declared, batch, rng):
    """One-hot along the class axis (the axis that is not the batch; the first for a vector)."""
    axis = 0
    if batch in declared and len(declared) == 2:
        axis = 1 - declared.index(batch)
    Y = np.zeros(shape)
    classes = shape[axis]
    others = shape[1 - axis]
    for j in range(others):
        c = (2 * j + 1 + int(rng.integers(0, classes))) % classes
        if axis == 0:
            Y[c, j] = 1.0
        else:
            Y[j, c] = 1.0
    return Y


def sample(problem, rng, n_samples: int, N: float, point: int, tries: int = 50) -> Sample:
    """A random instance whose kink arguments all stay KINK_MARGIN away from 0."""
    best = None
    for _ in range(tries):
        free = draw_free(problem, rng, n_samples, point)
        backend = AutogradBackend()
        values = run_equations(problem, free, N, n_samples, backend)
        s = Sample(free, values, N, n_samples, backend.kink_gap, tuple(backend.kinks))
        if s.kink_gap >= KINK_MARGIN:
            return s
        if best is None or s.kink_gap > best.kink_gap:
            best = s
    return best


def gradient(problem, s: Sample, of: str, wrt: str, scaled: dict | None = None, straight: frozenset = frozenset()):
    """∂of/∂wrt at the sample (autograd); a scalar `of`; wrt an input, parameter or intermediate.
    scaled and straight as in run_equations (the usual mistakes)."""
    model = problem.model
    if model.defined(wrt):

        def f(t):
            return run_equations(problem, s.free, s.N, s.n_samples, cut={wrt: t}, scaled=scaled, straight=straight)[of]

        start = s.values[wrt]
    else:

        def f(t):
            return run_equations(problem, {**s.free, wrt: t}, s.N, s.n_samples, scaled=scaled, straight=straight)[of]

        start = s.free[wrt]
    value = f(start)
    if np.shape(value) != (1, 1):
        raise NotationError(f"{of} is not a number, so it has no gradient: use kind = \"jacobian\"")
    with warnings.catch_warnings():  # a mutant that cuts every path has no dependence: a zero, not a warning
        warnings.simplefilter("ignore", UserWarning)
        return np.asarray(autograd.grad(lambda t: f(t)[0, 0])(np.asarray(start, dtype=float)), dtype=float)


def jacobian(problem, s: Sample, of: str, wrt: str):
    """∂of_i/∂wrt_j (vectors) at the sample: rows follow `of`, columns `wrt`."""
    model = problem.model
    if model.defined(wrt):

        def f(t):
            return run_equations(problem, s.free, s.N, s.n_samples, cut={wrt: t})[of]

        start = s.values[wrt]
    else:

        def f(t):
            return run_equations(problem, {**s.free, wrt: t}, s.N, s.n_samples)[of]

        start = s.free[wrt]
    J = np.asarray(autograd.jacobian(f)(np.asarray(start, dtype=float)), dtype=float)
    out_size = int(np.prod(np.shape(f(start))))
    return J.reshape(out_size, int(np.prod(np.shape(start))))


def central_difference(problem, s: Sample, of: str, wrt: str, h: float = 1e-6):
    model = problem.model
    base = np.asarray(s.values[wrt] if model.defined(wrt) else s.free[wrt], dtype=float)
    out = np.zeros_like(base)

    def f(t):
        if model.defined(wrt):
            return float(run_equations(problem, s.free, s.N, s.n_samples, NumpyBackend(), cut={wrt: t})[of][0, 0])
        return float(run_equations(problem, {**s.free, wrt: t}, s.N, s.n_samples, NumpyBackend())[of][0, 0])

    for idx in np.ndindex(base.shape):
        out[idx] = _derivative_at(f, base, idx)
    return out


def _derivative_at(f, base: np.ndarray, idx) -> float:
    """∂f/∂base[idx] by the five-point central difference at steps 1e-3, 1e-4, ... (times the
    entry's size): the estimate from the two consecutive steps that agree best, so a smooth entry
    is exact to about 1e-11 while an entry near a kink or a singularity (log(1 − ŷ) with ŷ close
    to 1) gets a step small enough for it."""
    scale = max(1.0, abs(base[idx]))
    previous, best = None, None
    for k in range(3, 8):
        step = 10.0**-k * scale
        values = []
        for m in (2, 1, -1, -2):
            moved = base.copy()
            moved[idx] += m * step
            values.append(f(moved))
        estimate = (-values[0] + 8 * values[1] - 8 * values[2] + values[3]) / (12 * step)
        if previous is not None:
            gap = abs(estimate - previous) / max(abs(estimate), 1e-12)
            if best is None or gap < best[0]:
                best = (gap, estimate)
            if gap < 1e-10:
                break
        previous = estimate
    return best[1]


def relative_error(a, b) -> float:
    """‖a − b‖ / max(‖a‖, ‖b‖) (2-norms of the whole array): the gradcheck's measure."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    denom = max(float(np.linalg.norm(a)), float(np.linalg.norm(b)), 1e-300)
    return float(np.linalg.norm(a - b)) / denom if a.size else 0.0
