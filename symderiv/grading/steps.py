"""Each `=` step of a display chain between two closed forms, checked numerically under the same
readings as check_claim (a step whose left side is the quantity itself is the claim check)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from symderiv.answerkey.problem import Problem, Quantity
from symderiv.core.errors import NotationError, ShapeError, SymderivError
from symderiv.core.tree import Deriv, Node, Num, Sym
from symderiv.evaluation.evaluate import Evaluator
from symderiv.evaluation.interpret import Interpreter
from symderiv.grading.claims import Walker, is_closed
from symderiv.grading.results import Step
from symderiv.judging.check import judge
from symderiv.judging.matcher import RTOL, evaluate_at, uses_quantity_indices
from symderiv.truth.reference import build_points, layer_bindings, readings_for

STEP_ERRORS = (
    ShapeError,
    NotationError,
    ValueError,
    ZeroDivisionError,
    OverflowError,
    FloatingPointError,
    IndexError,
    KeyError,
    RecursionError,
)


def _step_envs(problem: Problem, q: Quantity | None):
    """Families of points (one per reading) on which both sides of a step are compared."""
    families = []
    value_q = next((x for x in problem.quantities if x.kind == "value"), None)
    if value_q is not None and (q is None or q.kind == "value"):
        families.append(("forward", build_points(problem, value_q, "single", {})[:1], True))
    base = (
        q
        if q is not None and q.kind != "value"
        else next((x for x in problem.quantities if x.kind == "gradient"), None)
    )
    if base is not None:
        for bindings in layer_bindings(base)[:1]:
            for reading in readings_for(problem, base):
                families.append((reading, build_points(problem, base, reading, bindings), False))
    return families


def _values_equal(a, b, tolerance: float | None) -> bool:
    """Equal values; with a tolerance (forward-pass numbers) a vector may be written as a row."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        if tolerance is not None and a.shape[::-1] == b.shape:
            b = b.T
        else:
            return False
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return False
    if tolerance is not None:
        diff = np.abs(a - b)
        return bool(np.all((diff <= tolerance) | (diff <= tolerance * np.abs(b))))
    scale = max(float(np.max(np.abs(b))), float(np.max(np.abs(a))), 1e-9)
    return float(np.max(np.abs(a - b))) <= RTOL * 10 * scale


def _evaluate_side(problem, tree, point, q, component):
    if q is not None and q.indices and uses_quantity_indices(tree, q):
        return evaluate_at(tree, point, q, True)
    value = Evaluator(point.env).value(tree)
    if component is not None and np.size(value) > 1:
        flat = np.asarray(value).ravel()
        if component < flat.size:
            return flat[component : component + 1].reshape(1, 1)
    return value


def _has_numeric_components(problem: Problem, tree: Node) -> bool:
    """Entries written out by number (e^{z_1} + e^{z_2} + e^{z_3}) assume the student's own sizes:
    such steps are not checked. z_3 read as layer 3 is no component."""
    try:
        tree = Interpreter(problem, {"l": 1}).normalize(tree)
    except SymderivError:
        pass
    return any(isinstance(n, Sym) and any(isinstance(i, Num) for i in n.indices) for n in tree.walk())


def _sides_agree(problem, left, right, q, component, families) -> bool | None:
    """True/False when both sides evaluate somewhere; None when they never do. A side that does not
    typecheck anywhere while the other evaluates makes the step wrong (w_kj = w_jk in a sum)."""
    evaluated = False
    ill_typed = {"left": 0, "right": 0, "tries": 0}
    for _family, points, is_forward in families:
        for subscript_layers in (True, False):
            try:
                interp = Interpreter(
                    points[0].env.interp.problem,  # a forward value's own network, where the key has one
                    dict(points[0].bindings),
                    subscript_layers=subscript_layers,
                    default_label=_context_label(problem, left, right),
                )
                lt, rt = interp.normalize(left), interp.normalize(right)
                ok = True
                for point in points:
                    point = replace(point, env=replace(point.env, interp=interp))
                    ill_typed["tries"] += 1
                    lv = _typed_side(problem, lt, point, q, component, ill_typed, "left")
                    rv = _typed_side(problem, rt, point, q, component, ill_typed, "right")
                    if lv is None or rv is None:
                        raise ShapeError("one side does not typecheck")
                    evaluated = True
                    if not _values_equal(lv, rv, problem.value_tolerance if is_forward else None):
                        ok = False
                        break
                if ok:
                    return True
            except STEP_ERRORS:
                continue
    if evaluated:
        return False
    if q is None or q.kind == "value":  # a definition with free indices is not evaluable as a whole
        return None
    one_sided = ill_typed["tries"] and (ill_typed["left"] == ill_typed["tries"]) != (
        ill_typed["right"] == ill_typed["tries"]
    )
    return False if one_sided else None


def _typed_side(problem, tree, point, q, component, tally, side):
    """The side's value, or None when it does not typecheck (counted); other errors propagate."""
    try:
        return _evaluate_side(problem, tree, point, q, component)
    except ShapeError:
        tally[side] += 1
        return None


def _context_label(problem: Problem, *trees: Node) -> int | None:
    """The one layer label written on a step's layer variables (z_2^{[1]} = w_2^{[1]} x + b_2 -> 1)."""
    labels = set()
    interp = Interpreter(problem)
    for tree in trees:
        for n in tree.walk():
            if isinstance(n, Sym) and n.layer is not None and problem.model.family(n.name):
                try:
                    labels.add(interp.layer_value(n.layer))
                except SymderivError:
                    return None
    return labels.pop() if len(labels) == 1 else None


def check_steps(problem: Problem, walker: Walker) -> list[Step]:
    steps = []
    cache = {}
    for chain, match in zip(walker.chains, walker.chain_quantity):
        q = problem.quantity(match.quantity) if match else None
        key = q.id if q else None
        if key not in cache:
            cache[key] = _step_envs(problem, q)
        families = cache[key]
        for (_, l_latex, l_tree, l_rel), (r_line, r_latex, r_tree, relation) in zip(chain, chain[1:]):
            if l_tree is None or r_tree is None or "case" in (l_rel, relation):
                continue
            if not _closed_expression(problem, l_tree, q) or not _closed_expression(problem, r_tree, q):
                continue  # an unevaluated ∂ on either side: the claim steps below cover the quantity
            if (
                q is not None
                and q.kind != "value"
                and (_has_numeric_components(problem, l_tree) or _has_numeric_components(problem, r_tree))
            ):
                continue
            agree = _sides_agree(problem, l_tree, r_tree, q, match.component if match else None, families)
            if agree is None:
                continue
            message = "ok" if agree else f"{l_latex.strip()} ≠ {r_latex.strip()}"
            steps.append(Step(r_line, agree, message, l_latex, r_latex, q.id if q else None))
        if q is not None and q.kind != "value" and len(chain) > 1:
            steps.extend(_claim_steps(problem, replace(q, layers=match.layers) if match.layers else q, chain))
    steps.sort(key=lambda s: s.line)
    return steps


def _closed_expression(problem: Problem, tree: Node, q: Quantity | None) -> bool:
    if q is not None and q.kind != "value":
        return is_closed(problem, tree, q)
    return not any(isinstance(n, Deriv) for n in tree.walk())


def _claim_steps(problem: Problem, q: Quantity, chain) -> list[Step]:
    """The step from the quantity's own left side to each closed form in its chain."""
    out = []
    for line, latex, tree, relation in chain[1:]:
        if (
            tree is None
            or relation == "case"
            or not is_closed(problem, tree, q)
            or _has_numeric_components(problem, tree)
        ):
            continue
        try:
            verdict = judge(problem, q, tree, symbolic=False)
        except STEP_ERRORS:
            continue
        ok = verdict.verdict in ("correct", "correct-up-to-layout")
        if verdict.diagnosis in ("only-diagonal", "only-off-diagonal"):
            case = "i = j" if verdict.diagnosis == "only-diagonal" else "i ≠ j"
            out.append(Step(line, True, f"holds for the case {case}", chain[0][1], latex, q.id))
            continue
        out.append(Step(line, ok, "ok" if ok else f"{q.id}: {verdict.feedback}", chain[0][1], latex, q.id))
    return out
