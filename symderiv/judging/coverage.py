"""Test points that see every discontinuity: both sides of each kink in the claim or the truth.

A claim with an indicator, a max, an absolute value, a `cases` block or a ReLU (or its
derivative) is piecewise; so is the truth below a ReLU layer. Random points can all fall on
one side of a kink (on the one-sample sigmoid problem every base point has z^{[2]} > 0, so
(a^{[2]} − y) 1[z^{[2]} > 0] would pass for a^{[2]} − y). Here the claim is evaluated at a
pool of further points while the arguments of its kinks are recorded; points that show a
sign not yet seen for some kink entry are added to the points the claim is checked at.
"""

from __future__ import annotations

import itertools

import numpy as np

from symderiv.answerkey.problem import Problem, Quantity
from symderiv.core.errors import NotationError, ShapeError
from symderiv.core.tree import Add, Call, Indicator, Neg, Node, Num, Sum
from symderiv.evaluation.evaluate import Evaluator
from symderiv.truth.reference import Point, build_points

POOL = 24  # further points drawn per (quantity, reading, layer binding)
MAX_EXTRA = 6  # at most this many of them are added
POOL_SEED = 500
MARGIN = 1e-6  # a kink argument this close to 0 shows neither side
KINK_FUNCS = ("relu", "abs", "max", "sign")


def _watching(records: list):
    """An Evaluator that records (node, argument value) for every kink it evaluates."""

    class KinkWatcher(Evaluator):
        def rule_indicator(self, node):
            out = super().rule_indicator(node)
            diff = kink_argument(self, node)
            if diff is not None:
                _record(records, node, lambda: Evaluator(self.env, self.bind).value(diff))
            return out

        def rule_call(self, node):
            out = super().rule_call(node)
            if node.args and _is_kink(self, node):
                for k, arg in enumerate(node.args):
                    _record(records, (node, k), lambda arg=arg: Evaluator(self.env, self.bind).value(arg))
            return out

    return KinkWatcher


def kink_argument(evaluator: Evaluator, node: Indicator) -> Node | None:
    """What an indicator compares with 0, or None for an index comparison (1[i = j])."""
    cond = node.condition
    if evaluator.index_comparison(cond) is not None:
        return None
    return cond.lhs if isinstance(cond.rhs, Num) and cond.rhs.value == 0 else Add((cond.lhs, Neg(cond.rhs)))


def record_kinks_directly(records: list, tree: Node, point: Point) -> None:
    """What the watcher records, for a tree without sums: every kink of the tree, evaluated strictly."""
    evaluator = Evaluator(point.env)
    for node in tree.walk():
        if isinstance(node, Indicator):
            diff = kink_argument(evaluator, node)
            if diff is not None:
                _record(records, node, lambda diff=diff: evaluator.value(diff))
        elif isinstance(node, Call) and node.args and _is_kink(evaluator, node):
            for k, arg in enumerate(node.args):
                _record(records, (node, k), lambda arg=arg: evaluator.value(arg))


def _is_kink(evaluator: Evaluator, node: Call) -> bool:
    if node.func.removeprefix("bold:") in ("max", "min"):
        return True
    try:
        name = evaluator.env.interp.function(node).name
    except NotationError:
        return False
    return name in KINK_FUNCS or name.startswith("leaky_relu:")


def _record(records: list, key, compute) -> None:
    try:
        value = np.asarray(compute(), dtype=float)
    except (ShapeError, NotationError, ValueError, ZeroDivisionError, OverflowError, TypeError):
        return
    records.append((key, value))


def _samples(point: Point) -> int:
    return 1 if point.env.sample_axis is None else point.env.n_samples


def _signs(key, value: np.ndarray, point: Point) -> set:
    """(key, position, sign) for each entry; sample columns (or rows) pool into one position."""
    if value.ndim != 2:
        value = np.atleast_2d(value)
    out = set()
    for (i, j), v in np.ndenumerate(value):
        if not np.isfinite(v) or abs(v) <= MARGIN:
            continue
        out.add((key, _position(value, i, j, point), v > 0))
    return out


def _position(value: np.ndarray, i: int, j: int, point: Point) -> tuple:
    """An entry's position, the samples of a batch pooled into one (each unit's kink, whatever the sample)."""
    n, axis = _samples(point), point.env.sample_axis
    if axis == 1 and n > 1 and value.shape[1] == n:
        return (i, None)
    if axis == 0 and n > 1 and value.shape[0] == n:
        return (None, j)
    return (i, j)


def has_kinks(tree: Node, point: Point) -> bool:
    """Does the claim have a kink the watcher would record (an indicator, a ReLU, a max)?"""
    evaluator = Evaluator(point.env)
    return any(
        isinstance(n, Indicator) or (isinstance(n, Call) and n.args and _is_kink(evaluator, n)) for n in tree.walk()
    )


def truth_signs(point: Point) -> frozenset:
    """Which side of the truth's own kinks (every ReLU, leaky ReLU, max or |u| of the model) this point shows."""
    signs = set()
    for target, k, value in point.truth_kinks:
        signs |= _signs(("truth", target, k), np.asarray(value, dtype=float), point)
    return frozenset(signs)


def kink_signs(problem: Problem, quantity: Quantity, tree: Node, point: Point, index_mode: bool) -> set:
    """Which side of each kink of the claim and of the truth this point shows."""
    if not has_kinks(tree, point):  # nothing to record: the claim's evaluation is not needed
        return set(truth_signs(point))
    records: list = []
    watcher = _watching(records)
    try:
        if index_mode:
            for idx in np.ndindex(point.index_shape):
                watcher(point.env, dict(zip(quantity.indices, idx))).value(tree)
        else:
            try:
                watcher(point.env).value(tree)
            except ShapeError:
                records.clear()
                if any(isinstance(n, Sum) for n in tree.walk()):
                    watcher(point.env, lenient=True).candidates(tree)
                else:  # no index to bind: each kink's argument directly, not every layout candidate
                    record_kinks_directly(records, tree, point)
    except (ShapeError, NotationError, ValueError, ZeroDivisionError, OverflowError, IndexError):
        pass
    signs = set(truth_signs(point))
    records = _distinct(records)
    for key, value in records:
        signs |= _signs(key, value, point)
    if index_mode:  # one number per binding of the indices: two of them at unrelated bindings are no pair
        records = [(key, value) for key, value in records if value.size > 1]
    arrays = [(("truth", t, k), np.asarray(v, dtype=float)) for t, k, v in point.truth_kinks] + records
    return signs | shifted_pairs(arrays, point)


def _distinct(records: list) -> list:
    """The records without repeats: an entrywise claim evaluates one kink once per entry it is summed
    into (1[s_ci − s_{y_i i} + 1 > 0] for every (j, k)), and the pairs below grow as their square."""
    seen, out = set(), []
    for key, value in records:
        value = np.asarray(value, dtype=float)
        mark = (key, value.shape, value.tobytes())
        if mark not in seen:
            seen.add(mark)
            out.append((key, value))
    return out


def shifted_pairs(arrays: list, point: Point) -> set:
    """Two kinks on one quantity at two thresholds (r > δ and r > 2δ, |r| ≤ δ and |r| ≤ 1): their
    arguments differ by a constant, and the band between the thresholds is a region of its own,
    which seeing each kink from both sides does not guarantee to visit."""
    out = set()
    for (k1, v1), (k2, v2) in itertools.combinations(arrays, 2):
        if k1 == k2 or v1.shape != v2.shape or not v1.size:
            continue
        shift = v1 - v2
        c = float(shift.flat[0])
        if not np.all(np.isfinite(shift)) or abs(c) <= MARGIN or np.ptp(shift) > 1e-9 * (1 + abs(c)):
            continue
        key = ("pair", k1, k2, c > 0)
        for (i, j), a in np.ndenumerate(v1):
            b = v2[i, j]
            if abs(a) <= MARGIN or abs(b) <= MARGIN:
                continue
            out.add((key, _position(v1, i, j, point), (a > 0, b > 0)))
    return out


def _missing(seen: set) -> set:
    """The sides of each kink not seen yet, and the combinations of two shifted kinks (the band
    between their thresholds) that can occur and were not seen."""
    out = set()
    for key, pos, side in seen:
        if isinstance(key, tuple) and key[:1] == ("pair",):
            up = key[3]  # v1 > v2 everywhere: v1 ≤ 0 < v2 cannot occur
            feasible = (
                {(True, True), (True, False), (False, False)} if up else {(True, True), (False, True), (False, False)}
            )
            out |= {(key, pos, combo) for combo in feasible}
        else:
            out.add((key, pos, not side))
    return out - seen


def with_both_sides(
    problem: Problem, quantity: Quantity, reading: str, tree: Node, points: list[Point], index_mode: bool
) -> list[Point]:
    """The points, plus pool points that show the side of a kink the points do not."""
    if not points or quantity.kind == "value":
        return points
    seen = set()
    for p in points:
        seen |= kink_signs(problem, quantity, tree, p, index_mode)
    missing = _missing(seen)
    if not missing:
        return points
    pool = build_points(problem, quantity, reading, dict(points[0].bindings), count=POOL, seed=POOL_SEED)
    extra = []
    for p in pool:
        shown = kink_signs(problem, quantity, tree, p, index_mode)
        if shown & missing:
            extra.append(p)
            seen |= shown
            missing = _missing(seen)
            if not missing or len(extra) >= MAX_EXTRA:
                break
    return points + extra
