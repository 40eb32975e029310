"""The numeric references of a `[model]` key's quantities, under each reading, with the usual mistakes.

Readings: the declared layout (`columns` or `rows`, wherever the batch axis is declared), the
batch transposed (every object carrying the batch axis transposed; parameters unchanged), and
one sample (a batch of 1, N a free number; batch-carrying vectors as columns).
"""

from __future__ import annotations

import numpy as np

from symderiv.core.errors import NotationError
from symderiv.core.tree import Add, Call, Num, Product, Sym
from symderiv.notation.latex import to_latex
from symderiv.notation.parse import parse
from symderiv.truth import forward
from symderiv.truth.backends import NumpyBackend
from symderiv.truth.evaluate import Env
from symderiv.truth.forward import column_kinds, declared_layout, index_labels
from symderiv.truth.interpret import Interpreter, Ref
from symderiv.truth.model import written_name

NUMPY = NumpyBackend()
SAMPLE_COUNTS = (7, 6, 9)


def readings(problem, quantity) -> tuple[str, ...]:
    layout = declared_layout(problem.model)
    if layout == "single" or quantity.kind in ("jacobian", "value"):
        return ("single",)
    return (layout, "rows" if layout == "columns" else "columns", "single")


def target(problem, text: str, bindings=None) -> str:
    """The id of the declared symbol a quantity's `of`/`wrt` names."""
    interp = Interpreter(problem, bindings or {})
    tree = interp.normalize(parse(written_name(text)))
    if isinstance(tree, Sym) and len(tree.indices) == 1:
        found = problem.model.resolve_name(tree)  # u_w: a column of a matrix
        if found is not None and problem.model.column_family(found):
            return found
    if not isinstance(tree, Sym) or tree.indices:
        raise NotationError(f"cannot read {text!r} as a declared symbol")
    return interp.resolve(tree).kind


def is_column_quantity(problem, quantity) -> bool:
    """A quantity with respect to one column u_w of a matrix (its claim a column, for every w)."""
    if problem.model is None or not quantity.wrt or quantity.kind == "value":
        return False
    try:
        return problem.model.column_family(target(problem, quantity.wrt)) is not None
    except NotationError:
        return False


def flip_for(reading: str, layout: str):
    """How an object carrying the batch axis is shown under a reading."""
    if reading == "single":
        return (lambda M: M.T) if layout == "rows" else (lambda M: M)
    return (lambda M: M.T) if reading != layout else (lambda M: M)


def objects_for(problem, values: dict, batch_kinds: set, flip) -> dict:
    out = {}
    for k, v in values.items():
        v = np.asarray(v, dtype=float) if not hasattr(v, "free_symbols") else v
        out[Ref(k)] = flip(v) if k in batch_kinds else v
    return out


def batch_kinds_of(problem, values: dict, n_samples: int) -> set:
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


def point_fields(problem, quantity, reading: str, count: int, seed: int) -> list[dict]:
    """The fields of each reference Point (reference.Point is built from them)."""
    model = problem.model
    layout = declared_layout(model)
    sizes = dict(problem.numeric_sizes)
    of = target(problem, quantity.of)
    wrt = target(problem, quantity.wrt) if quantity.wrt else None
    columns = wrt is not None and model.column_family(wrt) is not None
    if columns:
        wrt = model.column_family(wrt)  # the claim is one column; checked against every column
    rng = np.random.default_rng(2000 + seed + 17 * ("columns", "rows", "single").index(reading))
    flip = flip_for(reading, layout)
    if quantity.kind == "value":
        return [value_point(problem, quantity, of)]
    out = []
    for n in range(count):
        if reading == "single" or layout == "single":
            n_samples, N = 1, forward.SINGLE_N[n % len(forward.SINGLE_N)]
        else:
            N = float(sizes.get(model.batch, SAMPLE_COUNTS[n % 3]) + (n and n + 1))
            n_samples = int(N)
        s = forward.sample(problem, rng, n_samples, N, n)
        # the batch axis as declared, learnt at a size where it is recognisable
        kinds = batch_kinds_of(problem, s.values, n_samples) if n_samples > 1 else batch_kinds_at_numeric_sizes(problem)
        objects = objects_for(problem, s.values, kinds, flip)
        env = Env(
            backend=NUMPY,
            interp=Interpreter(problem, {}),
            objects=objects,
            activations={},
            reading=reading if layout != "single" else "single",
            n_samples=n_samples,
            batch_kinds=frozenset(kinds),
            index_labels=index_labels(problem, s.values),
            column_kinds=column_kinds(problem),
        )
        mutants = ()
        if quantity.kind == "jacobian":
            reference = forward.jacobian(problem, s, of, wrt)
        elif quantity.kind == "value":
            reference = np.asarray(s.values[of], dtype=float)
        else:
            raw = forward.gradient(problem, s, of, wrt)
            reference = flip(raw) if wrt in kinds else raw
            mutants = tuple((name, flip(m) if wrt in kinds else m) for name, m in _mutants(problem, s, of, wrt))
        index_shape = ()
        if columns:
            index_shape = (reference.shape[1],)
        elif quantity.indices:
            index_shape = reference.shape if len(quantity.indices) == 2 else (reference.shape[0],)
        out.append(dict(env=env, reference=reference, mutants=mutants, N=N, index_shape=index_shape, columns=columns))
    return out


def given(problem, quantity, convert=np.array) -> dict:
    """The free symbols' values a forward-value quantity is computed from ([model.values])."""
    values = {sid: convert([list(row) for row in rows]) for sid, rows in problem.model.values}
    missing = [s.id for s in problem.model.free() if s.id not in values]
    if missing:
        raise NotationError(f"{quantity.id}: [model.values] gives no value for {', '.join(missing)}")
    return values


def value_point(problem, quantity, of: str) -> dict:
    """A forward value with the given numbers (N, where the equations use it, is 7: never 1)."""
    values = forward.run_equations(problem, given(problem, quantity), 7.0, 1, NUMPY)
    env = Env(
        backend=NUMPY,
        interp=Interpreter(problem, {}),
        objects={Ref(k): v for k, v in values.items()},
        activations={},
        reading="single",
        n_samples=1,
        index_labels=index_labels(problem, values),
        column_kinds=column_kinds(problem),
    )
    return dict(env=env, reference=np.asarray(values[of], dtype=float), mutants=(), N=7.0, index_shape=())


def batch_kinds_at_numeric_sizes(problem) -> set:
    n = int(dict(problem.numeric_sizes).get(problem.model.batch, 7)) if problem.model.batch else 1
    if n <= 1:
        return set()
    s = forward.sample(problem, np.random.default_rng(0), n, float(n), 0, tries=1)
    return batch_kinds_of(problem, s.values, n)


def regulariser_terms(problem, of: str):
    """(equation target, term index, term) for each term of the equations `of` depends on that
    holds a hyperparameter and a parameter: the regularisers, whose coefficient students get wrong."""
    model = problem.model
    hyper = {s.id for s in model.free() if s.role == "hyperparameter"}
    params = {s.id for s in model.free() if s.role == "parameter"}
    for eq in model.equations:
        if not model.depends_on(of, eq.target) or not isinstance(eq.rhs, Add):
            continue
        for i, term in enumerate(eq.rhs.terms):
            names = model.ids_in(term)
            if names & hyper and names & params:
                yield eq, i, term


ELEMENTWISE = ("tanh", "sigma", "relu", "exp", "softplus")


def activation_equations(problem, of: str, wrt: str):
    """The equations t = f(u) with an elementwise nonlinearity f on the way from wrt to of: a
    student may leave out f′ (tanh′, σ′, the leaky ReLU′) in the chain rule."""
    model = problem.model
    for eq in model.equations:
        rhs = eq.rhs
        if not (isinstance(rhs, Call) and len(rhs.args) == 1):
            continue
        if rhs.func not in ELEMENTWISE and not rhs.func.startswith("leaky_relu:"):
            continue
        if eq.target != wrt and model.depends_on(of, eq.target) and model.depends_on(eq.target, wrt):
            yield eq


def _mutants(problem, s, of: str, wrt: str):
    for eq in activation_equations(problem, of, wrt):
        try:
            g = forward.gradient(problem, s, of, wrt, straight=frozenset((eq.target,)))
        except Exception:  # noqa: BLE001 - a mutant that cannot be built is simply not offered
            continue
        yield f"the activation derivative of {to_latex(eq.rhs)} (for {eq.target}) is missing", g
    for eq, i, term in regulariser_terms(problem, of):
        shown = to_latex(term)
        for factor, what in (
            (0, f"the regularisation term {shown} of {eq.target} is missing"),
            (
                2,
                f"the coefficient of the regularisation term {shown} of {eq.target} is doubled "
                "(the gradient of c‖w‖² is 2cw: for c = λ/2 it is λw)",
            ),
            (
                0.5,
                f"the coefficient of the regularisation term {shown} of {eq.target} is halved "
                "(the gradient of c‖w‖² is 2cw: for c = λ it is 2λw)",
            ),
            (-1, f"the regularisation term {shown} of {eq.target} has the wrong sign"),
        ):
            terms = list(eq.rhs.terms)
            terms[i] = Product((Num(factor), term), ("juxt",)) if factor else Num(0)
            try:
                g = forward.gradient(problem, s, of, wrt, scaled={eq.target: Add(tuple(terms))})
            except Exception:  # noqa: BLE001 - a mutant that cannot be built is simply not offered
                continue
            yield what, g


def gradcheck(problem, seed: int = 0) -> float:
    """Worst relative error of autograd against central differences, for every (objective, parameter
    or intermediate) pair the key's quantities ask about, at points away from the kinks."""
    model = problem.model
    rng = np.random.default_rng(seed)
    pairs = {
        (target(problem, q.of), target(problem, q.wrt)) for q in problem.quantities if q.kind == "gradient" and q.wrt
    }
    pairs = {(of, model.column_family(wrt) or wrt) for of, wrt in pairs}
    worst = 0.0
    layout = declared_layout(model)
    for point in range(2):
        n = 1 if layout == "single" else int(dict(problem.numeric_sizes).get(model.batch, 5))
        s = forward.sample(problem, rng, n, float(n if n > 1 else forward.SINGLE_N[0]), point)
        for of, wrt in sorted(pairs):
            auto = forward.gradient(problem, s, of, wrt)
            worst = max(worst, forward.relative_error(auto, forward.central_difference(problem, s, of, wrt)))
    return worst
