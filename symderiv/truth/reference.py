"""Numeric ground truth for one quantity under one reading, at random points.

A reading says how the student's symbols are laid out:

- ``columns``: samples as columns, Z = W A + b 1ᵀ (the problem's own layout);
- ``rows``:    samples as rows, Z = A Wᵀ + 1 bᵀ, W unchanged;
- ``single``:  one sample, vectors; a 1/N-scaled term is that sample's share of
  the batch sum (N is then a free number, not the sample count).

Sizes are all different (D, H, C and N), so a transpose or a swapped index
cannot pass by accident; N changes from point to point so that a missing 1/N
is recognised as such.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from symderiv.core.errors import NotationError
from symderiv.core.tree import Sym
from symderiv.notation.parse import parse
from symderiv.truth import model_reference
from symderiv.truth.evaluate import Env, NumpyBackend
from symderiv.truth.interpret import Interpreter, Ref
from symderiv.truth.network import Instance, Pass, activate, activation_derivative, backprop, random_instance
from symderiv.truth.problem import OBJECTIVES, Problem, Quantity

READINGS = ("columns", "rows", "single")
SAMPLE_COUNTS = (7, 6, 9)
POINTS = 3
NUMPY = NumpyBackend()


@dataclass(frozen=True)
class Point:
    env: Env
    reference: np.ndarray  # laid out as the reading lays it out
    also_correct: tuple[np.ndarray, ...] = ()  # e.g. a bias gradient as a row under the rows reading
    mutants: tuple[tuple[str, np.ndarray], ...] = ()
    N: float = 1.0
    index_shape: tuple[int, ...] = ()  # for index notation: the ranges of the quantity's indices
    bindings: tuple[tuple[str, int], ...] = ()
    columns: bool = False  # [model] keys: the index names a column (u_w); the claim is that column


def readings_for(problem: Problem, quantity: Quantity) -> tuple[str, ...]:
    if problem.model is not None:
        return model_reference.readings(problem, quantity)
    if quantity.kind == "value":
        return ("single",)
    if quantity.kind == "jacobian" or OBJECTIVES.get(quantity.of, (True,))[0] is False:
        return ("single",)
    return READINGS


def target_ref(problem: Problem, quantity: Quantity, bindings: dict[str, int]) -> Ref:
    interp = Interpreter(problem, bindings)
    tree = interp.normalize(parse(quantity.wrt if quantity.kind != "value" else quantity.of))
    if not isinstance(tree, Sym):
        raise NotationError(f"{quantity.id}: cannot read {quantity.wrt!r} as an object")
    return interp.resolve(Sym(tree.name, tree.layer, (), tree.decor))


def layer_bindings(quantity: Quantity) -> list[dict[str, int]]:
    if not quantity.layers:
        return [{}]
    names = [n for n, _ in quantity.layers]
    return [dict(zip(names, values)) for values in __import__("itertools").product(*(v for _, v in quantity.layers))]


def _gradient(p: Pass, ref: Ref) -> np.ndarray:
    table = {"W": p.dW, "b": p.db, "Z": p.dZ, "A": p.dA}
    if ref.kind == "X":
        return p.dA[0]
    if ref.kind not in table or ref.layer not in table[ref.kind]:
        raise NotationError(f"no gradient with respect to {ref.kind}{ref.layer or ''}")
    return table[ref.kind][ref.layer]


def student_weight(problem: Problem, M):
    """W as the problem's notation lays it out: (in x out) when z_j = sum_i a_i w_ij."""
    return M.T if problem.notation.weight_layout == "in-out" else M


def _objects(problem: Problem, inst: Instance, p: Pass, reading: str, N: float, lam: float) -> dict:
    flip = (lambda M: M.T) if reading == "rows" else (lambda M: M)
    objs = {Ref("X"): flip(inst.X), Ref("Y"): flip(inst.Y), Ref("N"): np.array([[N]]), Ref("lambda"): np.array([[lam]])}
    for k in range(1, problem.depth + 1):
        objs[Ref("W", k)] = student_weight(problem, inst.W[k - 1])
        objs[Ref("b", k)] = inst.b[k - 1]
        objs[Ref("Z", k)] = flip(p.Z[k])
        objs[Ref("A", k)] = flip(p.A[k])
        objs[Ref("dZ", k)] = flip(p.dZ[k])
        objs[Ref("dA", k)] = flip(p.dA[k])
    return objs


def build_points(
    problem: Problem, quantity: Quantity, reading: str, bindings: dict[str, int], count: int = POINTS, seed: int = 0
) -> list[Point]:
    """Random instances for a (quantity, reading, layer binding), each with its reference."""
    return list(_build_points(problem, quantity, reading, tuple(sorted(bindings.items())), count, seed))


@lru_cache(maxsize=512)
def _build_points(problem, quantity, reading, bindings_items, count, seed):
    bindings = dict(bindings_items)
    if problem.model is not None:
        return tuple(
            Point(**fields, bindings=tuple(bindings.items()))
            for fields in model_reference.point_fields(problem, quantity, reading, count, seed)
        )
    if quantity.kind == "value":
        return (_value_point(problem, quantity),)
    sizes = dict(problem.numeric_sizes)
    net = problem.network(sizes)
    interp = Interpreter(problem, bindings)
    ref = target_ref(problem, quantity, bindings)
    averaged, regularised = OBJECTIVES.get(quantity.of, (False, False))
    regularised = regularised and problem.regulariser is not None  # regulariser = false: none in the truth either
    rng = np.random.default_rng(1000 + seed + 17 * READINGS.index(reading))
    points = []
    for n in range(count):
        if reading == "single":
            # N is a free number here, never 1, so a stray 1/N or N is seen even in L's derivatives
            N = float(SAMPLE_COUNTS[n % len(SAMPLE_COUNTS)] + 3)
            inst = random_instance(net, 1, rng, scale=1.0 / N if averaged else 1.0)
        else:
            N = float(sizes.get("N", SAMPLE_COUNTS[n % len(SAMPLE_COUNTS)]) + (n and n + 1))
            inst = random_instance(net, int(N), rng)
        inst = _both_labels(net, inst, n)
        lam = inst.lam
        p = backprop(net, inst, regularised=regularised)
        env = Env(
            backend=NUMPY,
            interp=interp,
            objects=_objects(problem, inst, p, reading, N, lam),
            activations={k: net.layers[k - 1].activation for k in range(1, net.depth + 1)},
            reading=reading,
            weight_layout=problem.notation.weight_layout,
            allow_cost_derivative=problem.loss == "generic",
        )
        flip = (lambda M: M.T) if reading == "rows" else (lambda M: M)
        if quantity.kind == "jacobian":
            reference = _jacobian(p, ref, net)
            mutants = ()
        else:
            raw = _gradient(p, ref)
            reference = student_weight(problem, raw) if ref.kind == "W" else raw if ref.kind == "b" else flip(raw)
            mutants = tuple(
                (name, student_weight(problem, m) if ref.kind == "W" else m)
                for name, m in _mutants(net, inst, ref, regularised, flip)
            )
        also = ()  # samples as rows: Z = A Wᵀ + 1 bᵀ keeps b a column, so a row answer is transposed
        index_shape = ()
        if quantity.indices:
            index_shape = reference.shape if len(quantity.indices) == 2 else (reference.shape[0],)
        points.append(
            Point(
                env=env,
                reference=reference,
                also_correct=also,
                mutants=mutants,
                N=N,
                index_shape=index_shape,
                bindings=tuple(bindings.items()),
            )
        )
    return tuple(points)


def _both_labels(net, inst: Instance, point: int) -> Instance:
    """Binary labels that exercise both terms of the BCE: a one-sample point alternates y = 1, 0, 1;
    a batch always holds both classes (random labels could all be 1 and hide a (1 − y) term)."""
    if net.loss != "bce":
        return inst
    Y = inst.Y.copy()
    if Y.shape[1] == 1:
        Y[:] = (point + 1) % 2
    else:
        Y[:, 0], Y[:, 1] = 1.0, 0.0
    return replace(inst, Y=Y)


def _jacobian(p: Pass, ref: Ref, net) -> np.ndarray:
    """∂A_k/∂Z_k for the one sample of p (ref names Z_k or A_k of the same layer)."""
    k = ref.layer
    act = net.layers[k - 1].activation
    a, z = p.A[k][:, 0], p.Z[k][:, 0]
    if act == "softmax":
        return np.diag(a) - np.outer(a, a)
    return np.diag(activation_derivative(act, z))


def _mutants(net, inst, ref, regularised, flip):
    """The usual mistakes, computed from the network: for diagnosis only."""

    def grad(**kw):
        g = _gradient(backprop(net, inst, **kw), ref)
        return g if ref.kind in ("W", "b") else flip(g)

    if any(layer.activation != "softmax" for layer in net.layers[:-1]):
        yield (
            "the activation derivative (e.g. 1[z > 0] for the ReLU) is missing",
            grad(regularised=regularised, skip_activation_derivative=True),
        )
    if ref.kind == "W":
        if regularised:
            yield "the regularisation term is missing", grad(regularised=False)
            if net.reg_scale == 1.0:
                yield "the regularisation term should be 2λW, not λW", grad(regularised=True, reg_factor=1.0)
                yield "the regularisation term has the wrong sign (it is +2λW)", grad(regularised=True, reg_factor=-2.0)
            else:  # (λ/2)‖W‖²: the gradient is λW
                yield (
                    "the regularisation term should be λW, not 2λW (the regulariser is (λ/2)‖W‖²)",
                    grad(regularised=True, reg_factor=2.0),
                )
                yield "the regularisation term has the wrong sign (it is +λW)", grad(regularised=True, reg_factor=-1.0)
            if inst.scale != 1.0:
                g = _gradient(backprop(net, replace(inst, scale=1.0), regularised=True), ref)
                yield (
                    f"the factor 1/N is missing on the data term (the {'2' if net.reg_scale == 1.0 else ''}λW term has none)",
                    g,
                )
        elif net.regularised:
            yield "this is the unregularised J: it has no regularisation term", grad(regularised=True)


def _value_point(problem: Problem, quantity: Quantity) -> Point:
    f = problem.forward
    if f is None:
        raise NotationError(f"problem {problem.id} has no forward-pass part")
    interp = Interpreter(problem, {})
    A = np.array(f.x, dtype=float).reshape(-1, 1)
    objs = {Ref("X"): A, Ref("N"): np.array([[7.0]])}  # not 1: a stray N in a number shows
    for k, (W, b, act) in enumerate(zip(f.W, f.b, f.activations), start=1):
        Wm, bm = np.array(W, dtype=float), np.array(b, dtype=float).reshape(-1, 1)
        Z = Wm @ A + bm
        A = activate(act, Z)
        objs.update({Ref("W", k): Wm, Ref("b", k): bm, Ref("Z", k): Z, Ref("A", k): A})
    env = Env(
        backend=NUMPY,
        interp=interp,
        objects=objs,
        activations={k: act for k, act in enumerate(f.activations, start=1)},
        reading="single",
        weight_layout=problem.notation.weight_layout,
    )
    ref = target_ref(problem, quantity, {})
    return Point(env=env, reference=objs[ref])
