"""Symbolic ground truth of a `[model]` key: its equations on explicit small matrices of symbols.

The same equations the numeric truth evaluates (forward.run_equations), on a SymPy backend:
every input and parameter an explicit matrix of real symbols, one-hot labels real one-hot
matrices, hyperparameters positive symbols, every kink (relu, leaky relu, max, indicator)
argument a shared 0/1 mask symbol, so claim and truth meet on the same symbols. The truth is
sp.diff entry by entry (never MatrixSymbol.diff); a derivative with respect to an intermediate
variable differentiates the equations after it with fresh symbols in its place, then puts the
variable's expressions back (mask symbols follow the substitution).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from symderiv.core.errors import NotationError
from symderiv.truth.backends import SympyBackend
from symderiv.truth.evaluate import Env
from symderiv.truth.forward import agree_with_index, column_kinds, declared_layout, index_labels, run_equations, size_of
from symderiv.truth.interpret import Interpreter
from symderiv.truth.model_reference import (
    batch_kinds_at_numeric_sizes,
    batch_kinds_of,
    flip_for,
    given,
    objects_for,
    target,
)


@dataclass(frozen=True)
class ModelTruth:
    """Stands where the network-specific SymbolicNetwork stands for the exact check."""

    generic: bool = False
    is_model: bool = True


def _safe(sid: str) -> str:
    return "".join(c for c in sid if c.isalnum()) or "v"


def _matrix(name: str, rows: int, cols: int):
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{name}_{i + 1}{j + 1}", real=True))


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
        else:
            out[s.id] = _matrix("m" + _safe(s.id), *shape)
    return agree_with_index(model, out, sizes)


def _diff_at(expr, at):
    return at.applyfunc(lambda e: sp.diff(expr, e))


def model_value(problem, quantity):
    """(env, exact truth) of a forward value: the given numbers as exact rationals."""
    backend = SympyBackend()
    free = given(problem, quantity, lambda rows: sp.Matrix([[sp.nsimplify(v) for v in row] for row in rows]))
    values = run_equations(problem, free, sp.Integer(7), 1, backend)
    env = Env(
        backend=backend,
        interp=Interpreter(problem, {}),
        objects=objects_for(problem, values, set(), None),
        activations={},
        reading="single",
        n_samples=1,
        index_labels=index_labels(problem, values),
        column_kinds=column_kinds(problem),
    )
    return env, values[target(problem, quantity.of)]


def model_setup(problem, quantity, reading: str, bindings_items: tuple):
    """(truth marker, env for the claim, reference, flip) under a reading, as symbolic_setup returns."""
    model = problem.model
    layout = declared_layout(model)
    one = reading == "single" or layout == "single"
    n = 1 if one else int(dict(problem.symbolic_sizes).get(model.batch, 2))
    N = sp.Symbol(model.batch or "N", positive=True) if one else sp.Integer(n)
    backend = SympyBackend()
    masks: dict = {}
    free = free_symbols(problem, n)
    values = run_equations(problem, free, N, n, backend, masks=masks)
    of = target(problem, quantity.of)
    wrt = target(problem, quantity.wrt) if quantity.wrt else None
    if wrt is not None and model.column_family(wrt) is not None:
        wrt = model.column_family(wrt)
    if quantity.kind == "value":
        raise NotationError("a forward value is checked numerically and exactly by the value check")
    if model.defined(wrt):
        fresh = _matrix("t" + _safe(wrt), *values[wrt].shape)
        before = dict(masks)
        cut = run_equations(problem, free, N, n, backend, cut={wrt: fresh}, masks=masks)
        back = dict(zip(list(fresh), list(values[wrt])))
        rename = {}
        for v, s in list(masks.items()):
            if v in before:
                continue
            actual = sp.sympify(v).xreplace(back)
            if actual in masks and masks[actual] != s:
                rename[s] = masks[actual]
            else:
                masks[actual] = s
        start, outcome = fresh, cut[of]
    else:
        back, rename, start, outcome = {}, {}, free[wrt], values[of]
    if quantity.kind == "jacobian":
        reference = sp.Matrix(len(outcome), len(start), lambda i, j: sp.diff(outcome[i], start[j]))
    else:
        if outcome.shape != (1, 1):
            raise NotationError(f"{quantity.of} is not a number, so it has no gradient")
        reference = _diff_at(outcome[0, 0], start)
    reference = reference.xreplace(back).xreplace(rename)
    kinds = batch_kinds_of(problem, values, n) if n > 1 else batch_kinds_at_numeric_sizes(problem)
    flip = flip_for(reading, layout)
    objects = objects_for(problem, values, kinds, flip)
    env = Env(
        backend=backend,
        interp=Interpreter(problem, dict(bindings_items)),
        objects=objects,
        activations={},
        reading=reading if layout != "single" else "single",
        masks=masks,
        n_samples=n,
        batch_kinds=frozenset(kinds),
        index_labels=index_labels(problem, values),
        column_kinds=column_kinds(problem),
    )
    if quantity.kind != "jacobian" and wrt in kinds:
        reference = flip(reference)
    return ModelTruth(), env, reference, flip
