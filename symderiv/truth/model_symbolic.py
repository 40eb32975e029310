"""Symbolic ground truth: the key's equations on explicit small matrices of symbols.

The same equations the numeric truth evaluates (forward.run_equations), on a SymPy backend:
every input and parameter an explicit matrix of real symbols, one-hot labels real one-hot
matrices, hyperparameters positive symbols, every kink (relu, leaky relu, max, |u|, indicator)
argument a shared 0/1 mask symbol, so claim and truth meet on the same symbols; a generic
function of the key an undefined SymPy function. The truth is sp.diff entry by entry (never
MatrixSymbol.diff, which returns 0 for sums of traces and norms); a derivative with respect to an
intermediate variable differentiates the equations after it with fresh symbols in its place,
then puts the variable's expressions back (mask symbols follow the substitution).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from sympy.core.function import AppliedUndef

from symderiv.core.errors import NotationError
from symderiv.evaluation.backends import SympyBackend
from symderiv.evaluation.evaluate import Env
from symderiv.evaluation.interpret import DELTA_PREFIX, GRADIENT_PREFIX, Interpreter, Ref
from symderiv.truth.forward import agree_with_index, column_kinds, declared_layout, index_labels, run_equations, size_of
from symderiv.truth.reference import (
    batch_kinds_at_numeric_sizes,
    batch_kinds_of,
    flip_for,
    given,
    objects_for,
    target,
)


def canonical(expr):
    """Derivatives of undefined functions in one spelling: g1'(u) -> g1_d0(u), ∂C/∂a_j -> C_dj(a...).
    SymPy writes the same derivative as Derivative or Subs depending on how it arose."""

    def name(f, positions):
        return sp.Function(f"{f.func.__name__}_d{''.join(map(str, positions))}")

    def positions(f, variables):
        out = []
        for v, count in variables:
            if v not in f.args:
                return None
            out.extend([f.args.index(v)] * count)
        return sorted(out)

    def rewrite(node):
        if isinstance(node, sp.Subs) and not node.expr.has(sp.Derivative):
            return node.expr.xreplace(dict(zip(node.variables, node.point)))
        if (
            isinstance(node, sp.Subs)
            and isinstance(node.expr, sp.Derivative)
            and isinstance(node.expr.expr, AppliedUndef)
        ):
            f = node.expr.expr
            pos = positions(f, node.expr.variable_count)
            if pos is not None:
                subs = dict(zip(node.variables, node.point))
                return name(f, pos)(*[a.xreplace(subs) for a in f.args])
        if isinstance(node, sp.Derivative) and isinstance(node.expr, AppliedUndef):
            pos = positions(node.expr, node.variable_count)
            if pos is not None:
                return name(node.expr, pos)(*node.expr.args)
        return node

    previous = None
    while previous != expr:
        previous = expr
        expr = expr.replace(lambda n: isinstance(n, (sp.Subs, sp.Derivative)), rewrite)
    return expr


@dataclass(frozen=True)
class ModelTruth:
    """What the exact check needs to know of the truth beyond its values."""

    generic: bool = False  # undefined functions: differences are decided by canonical derivatives


def _safe(sid: str) -> str:
    return "".join(c for c in sid if c.isalnum()) or "v"


def _matrix(name: str, rows: int, cols: int, **assumptions):
    assumptions = assumptions or {"real": True}
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{name}_{i + 1}{j + 1}", **assumptions))


def free_symbols(problem, n_samples: int) -> dict:
    model = problem.model
    sizes = dict(problem.symbolic_sizes)
    if model.batch:
        sizes[model.batch] = n_samples
    out = {}
    for s in model.free():
        if s.role == "hyperparameter":
            out[s.id] = sp.Matrix(
                [[sp.nsimplify(s.value) if s.value is not None else sp.Symbol(_safe(s.id), positive=True)]]
            )
            continue
        shape = tuple(size_of(e, sizes) for e in s.shape) or (1, 1)
        if s.role == "label" and s.labels == "index":
            out[s.id] = sp.Matrix([[min(2, shape[0])]])
        elif s.role == "label" and s.labels == "one-hot":
            axis = 1 - s.shape.index(model.batch) if model.batch in s.shape and len(s.shape) == 2 else 0
            Y = sp.zeros(*shape)
            for j in range(shape[1 - axis]):
                c = (2 * j + 1) % shape[axis]
                Y[(c, j) if axis == 0 else (j, c)] = 1
            out[s.id] = Y
        elif (s.role == "label" and s.labels == "binary") or s.role == "mask":  # 0 or 1: y² is y
            out[s.id] = _matrix("m" + _safe(s.id), *shape, integer=True, nonnegative=True)
        else:
            out[s.id] = _matrix("m" + _safe(s.id), *shape)
    return agree_with_index(model, out, sizes)


@dataclass
class SymbolicInstance:
    """The model written out on symbol matrices once: what every gradient of it is taken from."""

    problem: object
    free: dict
    values: dict
    masks: dict
    N: object
    n: int

    def gradient(self, of: str, wrt: str, jacobian: bool = False):
        """∂of/∂wrt entry by entry (a Jacobian of a vector `of`), in the declared layout."""
        backend = SympyBackend()
        model = self.problem.model
        if model.defined(wrt):
            fresh = _matrix("t" + _safe(wrt), *self.values[wrt].shape)
            before = dict(self.masks)
            cut = run_equations(self.problem, self.free, self.N, self.n, backend, cut={wrt: fresh}, masks=self.masks)
            back = dict(zip(list(fresh), list(self.values[wrt])))
            rename = {}
            for v, s in list(self.masks.items()):  # in the order made: a kink's argument holds earlier ones
                if v in before:
                    continue
                actual = sp.sympify(v).xreplace(back).xreplace(rename)
                if actual in self.masks and self.masks[actual] != s:
                    rename[s] = self.masks[actual]
                else:
                    self.masks[actual] = s
            start, outcome = fresh, cut[of]
        else:
            back, rename, start, outcome = {}, {}, self.free[wrt], self.values[of]
        if jacobian:
            reference = sp.Matrix(len(outcome), len(start), lambda i, j: sp.diff(outcome[i], start[j]))
        else:
            if outcome.shape != (1, 1):
                raise NotationError(f"{of} is not a number, so it has no gradient")
            reference = start.applyfunc(lambda e: sp.diff(outcome[0, 0], e))
        if is_generic(self.problem):  # derivatives of undefined functions named before the substitution
            reference = reference.applyfunc(canonical)
        return reference.xreplace(back).xreplace(rename)


class SymbolicAtoms:
    """δ^{(l)} and open derivatives ∂C/∂a on the symbol matrices, computed when a claim uses them."""

    def __init__(self, instance: SymbolicInstance, kinds: frozenset, flip, generic: bool):
        self.instance, self.kinds, self.flip, self.generic = instance, kinds, flip, generic

    def value(self, ref: Ref, objective: str | None):
        if ref.kind.startswith(DELTA_PREFIX):
            of, var = objective, ref.kind[len(DELTA_PREFIX) :]
        elif ref.kind.startswith(GRADIENT_PREFIX):
            of, var = ref.kind[len(GRADIENT_PREFIX) :].split(":", 1)
        else:
            raise NotationError(f"{ref.kind} has no value in this check")
        g = self.instance.gradient(of, var)
        return self.flip(g) if var in self.kinds else g


def is_generic(problem) -> bool:
    return any(f.generic for f in problem.model.functions)


def model_value(problem, quantity):
    """(env, exact truth) of a forward value: the given numbers as exact rationals."""
    backend = SympyBackend()
    free = given(problem, quantity, lambda rows: sp.Matrix([[sp.nsimplify(v) for v in row] for row in rows]))
    values = run_equations(problem, free, sp.Integer(7), 1, backend)
    env = Env(
        backend=backend,
        interp=Interpreter(problem, {}),
        objects=objects_for(values, set(), None),
        reading="single",
        n_samples=1,
        index_labels=index_labels(problem, values),
        column_kinds=column_kinds(problem),
    )
    return env, values[target(problem, quantity.of)]


def model_setup(problem, quantity, reading: str, bindings_items: tuple):
    """(truth marker, env for the claim, reference, flip) under a reading."""
    problem = problem.for_quantity(quantity)
    if quantity.kind == "value":
        raise NotationError("a forward value is checked numerically and exactly by the value check")
    model = problem.model
    bindings = dict(bindings_items)
    layout = declared_layout(model)
    one = reading == "single" or layout == "single"
    n = 1 if one else int(dict(problem.symbolic_sizes).get(model.batch, 2))
    N = sp.Symbol(model.batch or "N", positive=True) if one else sp.Integer(n)
    backend = SympyBackend()
    masks: dict = {}
    free = free_symbols(problem, n)
    values = run_equations(problem, free, N, n, backend, masks=masks)
    instance = SymbolicInstance(problem, free, values, masks, N, n)
    of = target(problem, quantity.of, bindings)
    wrt = target(problem, quantity.wrt, bindings) if quantity.wrt else None
    if wrt is not None and model.column_family(wrt) is not None:
        wrt = model.column_family(wrt)
    generic = is_generic(problem)
    reference = instance.gradient(of, wrt, jacobian=quantity.kind == "jacobian")
    kinds = frozenset(batch_kinds_of(problem, values, n)) if n > 1 else batch_kinds_at_numeric_sizes(problem)
    flip = flip_for(reading, layout)
    env = Env(
        backend=backend,
        interp=Interpreter(problem, bindings),
        objects=objects_for(values, kinds, flip),
        reading=reading if layout != "single" else "single",
        masks=masks,
        n_samples=n,
        batch_kinds=kinds,
        index_labels=index_labels(problem, values),
        column_kinds=column_kinds(problem),
        objective=of,
        atoms=SymbolicAtoms(instance, kinds, flip, generic),
    )
    if quantity.kind != "jacobian" and wrt in kinds:
        reference = flip(reference)
    return ModelTruth(generic), env, reference, flip
