"""Labels for test tables, by finite differences of a key's own model: a claim's value (read by
symderiv's parser and evaluator, in the key's declared layout) against central differences of the
objective at random points. Independent of the checker's readings, exact check and diagnosis."""

import numpy as np

from symderiv.evaluation.backends import NumpyBackend
from symderiv.evaluation.evaluate import Env, Evaluator
from symderiv.evaluation.interpret import Interpreter
from symderiv.notation.parse import parse
from symderiv.truth import forward
from symderiv.truth.forward import column_kinds, column_objects, declared_layout, index_labels
from symderiv.truth.reference import batch_kinds_of, objects_for, target


def claim_value(problem, env, claim: str, indices: tuple[str, ...], shape, columns: bool = False):
    tree = env.interp.normalize(parse(claim))
    if columns:  # u_w: the claim for column w, for every w
        return np.hstack(
            [np.asarray(Evaluator(env, {indices[0]: w}).value(tree), dtype=float) for w in range(shape[1])]
        )
    if not indices:
        return np.asarray(Evaluator(env).value(tree), dtype=float)
    out = np.zeros(shape)
    for idx in np.ndindex(shape if len(indices) == 2 else (shape[0],)):
        out[idx if len(indices) == 2 else (idx[0], 0)] = float(
            Evaluator(env, dict(zip(indices, idx))).value(tree)[0, 0]
        )
    return out


def labelled_right(problem, qid: str, claim: str, points: int = 3) -> bool:
    """Does the claim equal ∂of/∂wrt, by central differences, at a few random points?"""
    q = problem.quantity(qid)
    model = problem.model
    layout = declared_layout(model)
    rng = np.random.default_rng(3)
    n = int(dict(problem.numeric_sizes).get(model.batch, 1)) if model.batch else 1
    of, wrt = target(problem, q.of), target(problem, q.wrt)
    columns = model.column_family(wrt) is not None
    wrt = model.column_family(wrt) or wrt
    for point in range(points):
        s = forward.sample(problem, rng, n, float(n), point)
        fd = forward.central_difference(problem, s, of, wrt)
        kinds = batch_kinds_of(problem, s.values, n) if n > 1 else set()
        env = Env(
            backend=NumpyBackend(),
            interp=Interpreter(problem, {}),
            objects={**objects_for(s.values, kinds, lambda M: M), **column_objects(problem, s.values, None)},
            reading=layout,
            n_samples=n,
            batch_kinds=frozenset(kinds),
            index_labels=index_labels(problem, s.values),
            column_kinds=column_kinds(problem),
            objective=of,
        )
        try:
            value = claim_value(problem, env, claim, q.indices, fd.shape, columns)
        except Exception:  # noqa: BLE001 - a claim that cannot be evaluated is not right
            return False
        if value.shape != fd.shape or not np.allclose(value, fd, rtol=1e-6, atol=1e-8):
            return False
    return True
