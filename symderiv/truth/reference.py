"""Numeric ground truth for one quantity under one reading, at random points: the key's model
evaluated in NumPy and differentiated by autograd (forward.py), the same for every key.

A reading says how the student's symbols are laid out:

- the declared layout (``columns`` when the batch is the second axis of the declared symbols,
  ``rows`` when the first);
- the batch transposed (every object carrying the batch axis transposed, parameters unchanged);
- ``single``: one sample, vectors; a 1/N-scaled term is that sample's share of the batch sum
  (N is then a free number, not the sample count, so a stray 1/N or N shows).

Sizes are all different, so a transpose or a swapped index cannot pass by accident; N changes
from point to point so that a missing 1/N is recognised as such.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from symderiv.answerkey.model_build import written_name
from symderiv.answerkey.problem import Problem, Quantity
from symderiv.core.errors import NotationError
from symderiv.core.tree import Div, Sym
from symderiv.evaluation.backends import NumpyBackend
from symderiv.evaluation.evaluate import Env
from symderiv.evaluation.interpret import DELTA_PREFIX, GRADIENT_PREFIX, Interpreter, Ref
from symderiv.notation.parse import parse
from symderiv.truth import forward
from symderiv.truth.forward import column_kinds, declared_layout, index_labels
from symderiv.truth.mutants import mutants

READINGS = ("columns", "rows", "single")
SAMPLE_COUNTS = (7, 6, 9)
POINTS = 3
NUMPY = NumpyBackend()


@dataclass(frozen=True)
class Point:
    env: Env
    reference: np.ndarray  # laid out as the reading lays it out
    also_correct: tuple[np.ndarray, ...] = ()
    mistakes: object = None  # Mistakes: the usual mistakes at this point, worked out when first asked
    N: float = 1.0
    index_shape: tuple[int, ...] = ()  # for index notation: the ranges of the quantity's indices
    bindings: tuple[tuple[str, int], ...] = ()
    columns: bool = False  # the index names a column (u_w): the claim is that column
    truth_kinks: tuple = ()  # (equation target, k-th kink, argument in the reading's layout)

    @property
    def mutants(self) -> tuple[tuple[str, str, np.ndarray], ...]:
        """(code, message, value) of each usual mistake, laid out as the reference is."""
        return self.mistakes.values() if self.mistakes is not None else ()


class Mistakes:
    """The usual mistakes at one instance (truth/mutants.py), computed once when a diagnosis first
    needs them: a claim judged right never pays for them."""

    def __init__(self, problem, sample, of: str, wrt: str, flip):
        self.args = (problem, sample, of, wrt, flip)
        self.found = None

    def values(self):
        if self.found is None:
            problem, sample, of, wrt, flip = self.args
            self.found = tuple((c, text, flip(m)) for c, text, m in mutants(problem, sample, of, wrt))
        return self.found


def layer_bindings(quantity: Quantity) -> list[dict[str, int]]:
    if not quantity.layers:
        return [{}]
    names = [n for n, _ in quantity.layers]
    return [dict(zip(names, values)) for values in itertools.product(*(v for _, v in quantity.layers))]


def target(problem: Problem, text: str, bindings=None) -> str:
    """The id of the declared symbol a quantity's `of`/`wrt` names (u_w: the column family's id)."""
    interp = Interpreter(problem, bindings or {})
    tree = interp.normalize(parse(written_name(text)))
    if isinstance(tree, Sym) and len(tree.indices) == 1:
        found = problem.model.resolve_name(tree)  # u_w: a column of a matrix
        if found is not None and problem.model.column_family(found):
            return found
    if not isinstance(tree, Sym):
        raise NotationError(f"cannot read {text!r} as a declared symbol")
    return interp.resolve(Sym(tree.name, tree.layer, (), tree.decor)).kind


def target_ref(problem: Problem, quantity: Quantity, bindings: dict[str, int]) -> Ref:
    """The object a quantity differentiates against (a forward value: the object it is)."""
    own = problem.for_quantity(quantity)
    return Ref(target(own, quantity.wrt if quantity.kind != "value" else quantity.of, bindings))


def is_column_quantity(problem: Problem, quantity: Quantity) -> bool:
    """A quantity with respect to one column u_w of a matrix (its claim a column, for every w)."""
    if not quantity.wrt or quantity.kind == "value":
        return False
    try:
        return problem.model.column_family(target(problem, quantity.wrt)) is not None
    except NotationError:
        return False


def is_averaged(problem: Problem, quantity: Quantity) -> bool:
    """The quantity differentiates a mean over the batch (J = (1/N) Σ ...): its answer carries 1/N."""
    model = problem.model
    if quantity.kind != "gradient" or not model.batch:
        return False
    try:
        of = target(problem, quantity.of)
    except NotationError:
        return False
    if of in model.per_sample:
        return False
    if not model.defined(of):
        return False
    # the objective's own equation, or an objective it adds to (J̃ = J + λ‖W‖²): a 1/N further down
    # (batch norm's mean μ) is part of the model, not an average of the loss
    direct = [of, *(sid for sid in model.ids_in(model.equation(of).rhs) if model.defined(sid))]
    return any(
        isinstance(n, Div) and any(isinstance(m, Sym) and m.name == model.batch for m in n.denominator.walk())
        for sid in direct
        for n in model.equation(sid).rhs.walk()
    )


def readings_for(problem: Problem, quantity: Quantity) -> tuple[str, ...]:
    problem = problem.for_quantity(quantity)
    layout = declared_layout(problem.model)
    if layout == "single" or quantity.kind in ("jacobian", "value"):
        return ("single",)
    try:
        if target(problem, quantity.of) in problem.model.per_sample:
            return ("single",)
    except NotationError:
        pass
    return (layout, "rows" if layout == "columns" else "columns", "single")


def flip_for(reading: str, layout: str):
    """How an object carrying the batch axis is shown under a reading."""
    if reading == "single":
        return transposed if layout == "rows" else unchanged
    return transposed if reading != layout else unchanged


def transposed(M):
    return M.T


def unchanged(M):
    return M


def objects_for(values: dict, batch_kinds: set, flip) -> dict:
    out = {}
    for k, v in values.items():
        v = np.asarray(v, dtype=float) if not hasattr(v, "free_symbols") else v
        out[Ref(k)] = flip(v) if k in batch_kinds else v
    return out


def batch_kinds_of(problem: Problem, values: dict, n_samples: int) -> set:
    model = problem.model
    if not model.batch:
        return set()
    layout = declared_layout(model)
    axis = 1 if layout == "columns" else 0
    kinds = {s.id for s in model.free() if model.batch in s.shape}
    for e in model.equations:
        shape = getattr(values[e.target], "shape", ())
        if len(shape) == 2 and shape[axis] == n_samples and n_samples > 1:
            kinds.add(e.target)
    return kinds


@lru_cache(maxsize=64)
def batch_kinds_at_numeric_sizes(problem: Problem) -> frozenset:
    """The objects that carry the batch axis, learnt at a batch size where it is recognisable."""
    n = int(dict(problem.numeric_sizes).get(problem.model.batch, 7)) if problem.model.batch else 1
    if n <= 1:
        return frozenset()
    s = forward.sample(problem, np.random.default_rng(0), n, float(n), 0, tries=1)
    return frozenset(batch_kinds_of(problem, s.values, n))


class NumericAtoms:
    """δ^{(l)} and open derivatives ∂C/∂a at one instance, computed when a claim uses them."""

    def __init__(self, problem: Problem, sample: forward.Sample, kinds: frozenset, flip):
        self.problem, self.sample, self.kinds, self.flip = problem, sample, kinds, flip

    def value(self, ref: Ref, objective: str | None):
        if ref.kind.startswith(DELTA_PREFIX):
            of, var = objective, ref.kind[len(DELTA_PREFIX) :]
        elif ref.kind.startswith(GRADIENT_PREFIX):
            of, var = ref.kind[len(GRADIENT_PREFIX) :].split(":", 1)
        else:
            raise NotationError(f"{ref.kind} has no value in this check")
        if of is None:
            raise NotationError("a backprop delta needs the quantity's objective")
        g = forward.gradient(self.problem, self.sample, of, var)
        return self.flip(g) if var in self.kinds else g


def point_fields(problem: Problem, quantity: Quantity, reading: str, bindings: dict, count: int, seed: int):
    """The fields of each reference Point."""
    model = problem.model
    layout = declared_layout(model)
    sizes = dict(problem.numeric_sizes)
    of = target(problem, quantity.of, bindings)
    wrt = target(problem, quantity.wrt, bindings) if quantity.wrt else None
    columns = wrt is not None and model.column_family(wrt) is not None
    if columns:
        wrt = model.column_family(wrt)  # the claim is one column; checked against every column
    rng = np.random.default_rng(2000 + seed + 17 * READINGS.index(reading))
    flip = flip_for(reading, layout)
    interp = Interpreter(problem, bindings)
    out = []
    for n in range(count):
        if reading == "single" or layout == "single":
            n_samples, N = 1, forward.SINGLE_N[n % len(forward.SINGLE_N)]
        else:
            N = float(sizes.get(model.batch, SAMPLE_COUNTS[n % 3]) + (n and n + 1))
            n_samples = int(N)
        s = forward.sample(problem, rng, n_samples, N, n)
        kinds = (
            frozenset(batch_kinds_of(problem, s.values, n_samples))
            if n_samples > 1
            else batch_kinds_at_numeric_sizes(problem)
        )
        env = Env(
            backend=NUMPY,
            interp=interp,
            objects=objects_for(s.values, kinds, flip),
            reading=reading if layout != "single" else "single",
            n_samples=n_samples,
            batch_kinds=kinds,
            index_labels=index_labels(problem, s.values),
            column_kinds=column_kinds(problem),
            objective=of,
            atoms=NumericAtoms(problem, s, kinds, flip),
        )
        found = None
        if quantity.kind == "jacobian":
            reference = forward.jacobian(problem, s, of, wrt)
        else:
            raw = forward.gradient(problem, s, of, wrt)
            reference = flip(raw) if wrt in kinds else raw
            found = Mistakes(problem, s, of, wrt, flip if wrt in kinds else unchanged)
        index_shape = ()
        if columns:
            index_shape = (reference.shape[1],)
        elif quantity.indices:
            index_shape = reference.shape if len(quantity.indices) == 2 else (reference.shape[0],)
        kinks = tuple(
            (target_id, k, flip(v) if _carries_batch(v, n_samples, layout) else v)
            for k, (target_id, v) in enumerate(s.kinks)
        )
        out.append(
            Point(
                env=env,
                reference=reference,
                mistakes=found,
                N=N,
                index_shape=index_shape,
                bindings=tuple(bindings.items()),
                columns=columns,
                truth_kinks=kinks,
            )
        )
    return out


def _carries_batch(value, n_samples: int, layout: str) -> bool:
    shape = np.shape(value)
    if n_samples <= 1 or len(shape) != 2:
        return False
    return shape[1 if layout == "columns" else 0] == n_samples


def given(problem: Problem, quantity: Quantity, convert=np.array) -> dict:
    """The free symbols' values a forward-value quantity is computed from ([model.values])."""
    values = {sid: convert([list(row) for row in rows]) for sid, rows in problem.model.values}
    missing = [s.id for s in problem.model.free() if s.id not in values]
    if missing:
        raise NotationError(f"{quantity.id}: the key gives no value for {', '.join(missing)}")
    return values


def value_point(problem: Problem, quantity: Quantity) -> Point:
    """A forward value with the given numbers (N, where the equations use it, is 7: never 1)."""
    values = forward.run_equations(problem, given(problem, quantity), 7.0, 1, NUMPY)
    env = Env(
        backend=NUMPY,
        interp=Interpreter(problem, {}),
        objects={Ref(k): v for k, v in values.items()},
        reading="single",
        n_samples=1,
        index_labels=index_labels(problem, values),
        column_kinds=column_kinds(problem),
    )
    of = target(problem, quantity.of)
    return Point(env=env, reference=np.asarray(values[of], dtype=float), N=7.0)


def build_points(
    problem: Problem, quantity: Quantity, reading: str, bindings: dict[str, int], count: int = POINTS, seed: int = 0
) -> list[Point]:
    """Random instances for a (quantity, reading, layer binding), each with its reference."""
    return list(_build_points(problem, quantity, reading, tuple(sorted(bindings.items())), count, seed))


@lru_cache(maxsize=512)
def _build_points(problem, quantity, reading, bindings_items, count, seed):
    own = problem.for_quantity(quantity)
    if quantity.kind == "value":
        return (value_point(own, quantity),)
    return tuple(point_fields(own, quantity, reading, dict(bindings_items), count, seed))


def gradcheck(problem: Problem, seed: int = 0) -> float:
    """Worst relative error of autograd against central differences, for every (objective,
    variable) pair the key's quantities ask about, at points away from the kinks."""
    model = problem.model
    rng = np.random.default_rng(seed)
    pairs = set()
    for q in problem.quantities:
        if q.kind == "gradient" and q.wrt:
            for bindings in layer_bindings(q):
                wrt = target(problem, q.wrt, bindings)
                pairs.add((target(problem, q.of, bindings), model.column_family(wrt) or wrt))
    worst = 0.0
    layout = declared_layout(model)
    for point in range(2):
        n = 1 if layout == "single" else int(dict(problem.numeric_sizes).get(model.batch, 5))
        s = forward.sample(problem, rng, n, float(n if n > 1 else forward.SINGLE_N[0]), point)
        for of, wrt in sorted(pairs):
            auto = forward.gradient(problem, s, of, wrt)
            worst = max(worst, forward.relative_error(auto, forward.central_difference(problem, s, of, wrt)))
    return worst
