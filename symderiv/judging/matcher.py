"""Does a claim equal the quantity under some reading, strictly or up to layout?

Evaluates the claim at the random points of each reading (samples as columns, as rows, one
sample) and compares with the reference: a strict match is `correct`; a rewritten tree that
transposes or reorders factors and then matches everywhere is `correct-up-to-layout`.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from symderiv.answerkey.problem import Problem, Quantity
from symderiv.core.errors import NotationError, ShapeError, UnboundIndexError
from symderiv.core.tree import Call, Compare, Indicator, Node, Sym
from symderiv.evaluation.evaluate import Evaluator
from symderiv.evaluation.interpret import Interpreter
from symderiv.judging.coverage import with_both_sides
from symderiv.judging.verdict import Match
from symderiv.truth.reference import Point, build_points, layer_bindings, readings_for

RTOL = 1e-6
ZERO_LEVEL = 1e-9
READING_NAMES = {"columns": "samples as columns", "rows": "samples as rows", "single": "one sample"}


# ---- comparison --------------------------------------------------------------------


def rel_err(value, reference) -> float:
    value = np.asarray(value, dtype=float)
    if value.shape != reference.shape or not np.all(np.isfinite(value)):
        return float("inf")
    scale = max(float(np.max(np.abs(reference))) if reference.size else 0.0, ZERO_LEVEL)
    return float(np.max(np.abs(value - reference))) / scale if value.size else 0.0


def _matches(value, point: Point) -> float:
    return min(rel_err(value, ref) for ref in (point.reference,) + point.also_correct)


def uses_quantity_indices(tree: Node, quantity: Quantity) -> bool:
    return bool(quantity.indices) and bool(index_names(tree) & set(quantity.indices))


@lru_cache(maxsize=4096)
def index_names(tree: Node) -> frozenset:
    """The letters a tree writes as subscripts, or compares in an indicator (j in 1[j = y_i]);
    asked for every evaluation of a claim."""
    subscripts = frozenset(
        m.name
        for n in tree.walk()
        if isinstance(n, (Sym, Call))
        for i in getattr(n, "indices", ())
        for m in i.walk()  # x_{i+k-1}: every letter of an index expression
        if isinstance(m, Sym) and not m.indices
    )
    compared = frozenset(
        side.name
        for n in tree.walk()
        if isinstance(n, Indicator) and isinstance(n.condition, Compare) and n.condition.op in ("=", "!=")
        for side in (n.condition.lhs, n.condition.rhs)
        if isinstance(side, Sym) and not side.indices and side.layer is None and len(side.name) == 1
    )
    return subscripts | compared


def evaluate_at(tree: Node, point: Point, quantity: Quantity, index_mode: bool):
    """The claim's value at a point (strict), as an array shaped like the reference."""
    if not index_mode:
        return Evaluator(point.env).value(tree)
    names = quantity.indices
    if point.columns:  # one column u_w per value of the index, side by side
        cols = [Evaluator(point.env, {names[0]: w}).value(tree) for w in range(point.index_shape[0])]
        if point.reference.shape[0] > 1 and all(np.shape(c) == (1, point.reference.shape[0]) for c in cols):
            return np.vstack(cols)  # a row (v_c^T) for each column u_w: the whole matrix transposed
        if any(np.shape(c) != (point.reference.shape[0], 1) for c in cols):
            raise ShapeError(
                f"with {names[0]} bound, the claim is a {cols[0].shape[0]}x{cols[0].shape[1]} "
                f"matrix, not a column of {point.reference.shape[0]}"
            )
        return np.hstack(cols)
    if len(names) == 1 and min(point.reference.shape) > 1:
        return _slices(tree, point, names[0])
    out = np.zeros(point.index_shape)
    for idx in np.ndindex(point.index_shape):
        v = Evaluator(point.env, dict(zip(names, idx))).value(tree)
        if np.shape(v) != (1, 1):
            raise ShapeError(f"with the indices bound, the claim is a {v.shape[0]}x{v.shape[1]} matrix, not a number")
        out[idx] = v[0, 0]
    return out.reshape(-1, 1) if len(point.index_shape) == 1 else out


def _slices(tree: Node, point: Point, name: str):
    """A matrix written one row (or column) at a time, ∂J/∂w_j = … with j free: the claim with j
    bound to each row, each a vector as long as a row, stacked; else to each column."""
    rows, cols = point.reference.shape
    for count, length, stack in ((rows, cols, np.vstack), (cols, rows, np.hstack)):
        values = [Evaluator(point.env, {name: k}).value(tree) for k in range(count)]
        if all(min(np.shape(v)) == 1 and max(np.shape(v)) == length for v in values):
            return stack([v.reshape(1, -1) if stack is np.vstack else v.reshape(-1, 1) for v in values])
    shape = np.shape(values[0])
    raise ShapeError(
        f"with {name} bound, the claim is a {shape[0]}x{shape[1]} matrix, neither a row of {cols} nor a column of {rows}"
    )


class ShapeWatcher(Evaluator):
    """The strict evaluator, noting whether a sum stretched a product of matrices that came out a
    number (aᵀa in diag(a) − aᵀa) or a vector over a matrix: then the claim only typechecks loosely."""

    stretched: list = []

    def rule_add(self, node):
        out = super().rule_add(node)
        shapes = [self.b.shape(self.value(t)) for t in node.terms]
        widest = max(shapes, key=lambda sh: sh[0] * sh[1])
        for term, shape in zip(node.terms, shapes):
            if shape != widest and (shape != (1, 1) or self.made_of_matrices(term)):
                ShapeWatcher.stretched.append(term)
        return out

    def made_of_matrices(self, term) -> bool:
        """A number that is a product of vectors or matrices (an inner product), not a scalar expression."""
        for n in term.walk():
            if isinstance(n, Sym):
                try:
                    if self.b.shape(self.value(n)) != (1, 1):
                        return True
                except (ShapeError, NotationError):
                    continue
        return False


def typechecks_as_the_quantity(tree, point, quantity, index_mode) -> bool:
    """The claim, as written, is a matrix of the quantity's size with no number or vector stretched
    over a matrix in a sum (W v for Wᵀ v): wrong there is a mistake, not a matter of layout."""
    if index_mode:
        return False
    ShapeWatcher.stretched = []
    try:
        value = ShapeWatcher(point.env).value(tree)
    except (ShapeError, NotationError, ValueError, ZeroDivisionError, OverflowError):
        return False
    return np.shape(value) == point.reference.shape and not ShapeWatcher.stretched


def _strict(tree, points, quantity, index_mode) -> tuple[float, str]:
    """The worst relative error over the points, and "transposed" when the whole result is the
    answer transposed at every point."""
    worst, transposed = 0.0, True
    for point in points:
        value = evaluate_at(tree, point, quantity, index_mode)
        err = _matches(value, point)
        transposed = transposed and np.shape(value)[::-1] == point.reference.shape and _matches(value.T, point) <= RTOL
        worst = max(worst, err)
    if worst > RTOL and transposed:  # transposed at every point, not only at the first that differs
        return -1.0, "transposed"
    return worst, ""


# ---- the check ------------------------------------------------------------------------


class Checker:
    def __init__(self, problem: Problem, quantity: Quantity, tree: Node):
        self.problem, self.quantity = problem, quantity
        self.raw_tree = tree
        self.errors: list[str] = []  # "reading: reason" for every reading that failed
        self.notation_errors: list[str] = []  # the undefined-symbol kind, which explains best
        self.unbound: list[str] = []  # readings where an index letter was bound by nothing
        self.normalized: dict = {}  # the claim normalised per layer binding (tree_for)
        self.existing: dict = {}  # layers_exist per layer binding

    def plans(self):
        """(reading, [points per layer binding]) for every reading the quantity admits."""
        for reading in readings_for(self.problem, self.quantity):
            groups = [build_points(self.problem, self.quantity, reading, b) for b in layer_bindings(self.quantity)]
            yield reading, groups

    def tree_for(self, bindings) -> Node:
        key = tuple(sorted(bindings.items()))
        if key not in self.normalized:
            self.normalized[key] = Interpreter(self.problem, bindings).normalize(self.raw_tree)
        return self.normalized[key]

    def layers_exist(self, bindings: dict) -> bool:
        """Every layer the claim names exists at this binding (δ^{(l+1)} has no meaning at l = L)."""
        key = tuple(sorted(bindings.items()))
        if key not in self.existing:
            self.existing[key] = self._layers_exist(bindings)
        return self.existing[key]

    def _layers_exist(self, bindings: dict) -> bool:
        interp = Interpreter(self.problem, bindings)
        model = self.problem.model
        for n in self.tree_for(bindings).walk():
            if isinstance(n, Sym) and n.layer is not None and interp.layer_like(n.layer):
                letter = model.delta_letter(n.name) or n.name
                if model.family(letter) and not interp.is_layer_label(n.name, n.layer):
                    return False
        return True

    def could_hold(self) -> bool:
        """False when no reading can match: at its first point, no layout candidate (nor its
        transpose) equals the reference. Every match holds there, so this never rejects a match;
        it is the cheap test before find() for the many rewrites a diagnosis tries."""
        for _reading, all_groups in self.plans():
            groups = [g for g in all_groups if self.layers_exist(dict(g[0].bindings))] or all_groups
            point = groups[0][0]
            tree = self.tree_for(dict(point.bindings))
            if uses_quantity_indices(tree, self.quantity):
                return True
            try:
                cands = Evaluator(point.env, lenient=True).candidates(tree)
            except (ShapeError, NotationError, ZeroDivisionError, ValueError, OverflowError):
                continue
            for cand in cands:
                value = np.asarray(cand.value)
                if _matches(value, point) <= RTOL or (value.ndim == 2 and _matches(value.T, point) <= RTOL):
                    return True
        return False

    def find(self) -> tuple[Match | None, Match | None, list]:
        """A strict match, else a layout match, plus what each reading evaluated to."""
        layout = None
        typechecked = []
        for reading, all_groups in self.plans():
            groups = [g for g in all_groups if self.layers_exist(dict(g[0].bindings))]
            layer_note = ""
            if not groups:
                groups = all_groups
            elif len(groups) < len(all_groups):
                held = ", ".join(str(dict(g[0].bindings)[k]) for g in groups for k in dict(g[0].bindings))
                name = next(iter(dict(groups[0][0].bindings)))
                layer_note = (
                    f" Checked for {name} = {held}: at the other layers the claim names a layer that "
                    "does not exist, so it holds below the last layer only."
                )
            total_points, worst, strict_ok, transposed = 0, 0.0, True, False
            covered = []
            for points in groups:
                tree = self.tree_for(dict(points[0].bindings))
                index_mode = uses_quantity_indices(tree, self.quantity)
                points = with_both_sides(self.problem, self.quantity, reading, tree, points, index_mode)
                covered.append(points)
                try:
                    err, note = _strict(tree, points, self.quantity, index_mode)
                    typechecked.append((reading, tree, points, index_mode))
                except (ShapeError, NotationError) as exc:
                    self.errors.append(f"{READING_NAMES[reading]}: {exc}")
                    if isinstance(exc, NotationError):
                        self.notation_errors.append(str(exc))
                    if isinstance(exc, UnboundIndexError):
                        self.unbound.append(str(exc))
                    strict_ok = False
                    continue
                except (ZeroDivisionError, OverflowError, ValueError, FloatingPointError) as exc:
                    self.errors.append(f"{READING_NAMES[reading]}: {exc}")
                    strict_ok = False
                    continue
                if note == "transposed" and index_mode and not points[0].columns:
                    strict_ok = False  # entry (k, j) for entry (j, k): index letters leave no layout to fix
                elif note == "transposed":
                    transposed, strict_ok = True, False
                elif err > RTOL:
                    strict_ok = False
                worst = max(worst, err)
                total_points += len(points)
            if strict_ok:
                return Match(reading, self.raw_tree, (), worst, total_points, layer_note), None, typechecked
            if (
                not transposed
                and covered
                and typechecks_as_the_quantity(
                    self.tree_for(dict(covered[0][0].bindings)), covered[0][0], self.quantity, False
                )
            ):
                continue  # it typechecks as the quantity and is wrong: a square factor transposed is a mistake
            if layout is None or len(layout.fixes) > 1:  # the reading with the shortest fix
                if transposed:
                    found = Match(reading, self.raw_tree, ("transpose the whole result",), 0.0, total_points)
                else:
                    found = self._layout(reading, covered)
                if found is not None and (layout is None or len(found.fixes) < len(layout.fixes)):
                    layout = found
        return None, layout, typechecked

    def _layout(self, reading, groups) -> Match | None:
        """Candidates from the first point; each must then hold strictly at every point of every layer."""
        points = [p for group in groups for p in group]
        tree = self.tree_for(dict(points[0].bindings))
        if uses_quantity_indices(tree, self.quantity):
            return None
        try:
            cands = Evaluator(points[0].env, lenient=True).candidates(tree)
        except (ShapeError, NotationError, ZeroDivisionError, ValueError, OverflowError):
            return None
        found = []
        for cand in cands:
            for final_transpose in (False, True):
                value = cand.value.T if final_transpose else cand.value
                if _matches(value, points[0]) > RTOL:
                    continue
                fixes = cand.fixes + (("transpose the whole result",) if final_transpose else ())
                try:
                    worst = 0.0
                    for point in points[1:]:
                        v = Evaluator(point.env).value(cand.tree)
                        worst = max(worst, _matches(v.T if final_transpose else v, point))
                except (ShapeError, NotationError, ValueError):
                    continue
                if worst <= RTOL and fixes:
                    found.append(Match(reading, cand.tree, fixes, worst, len(points)))
        # the shortest fix: "transpose the whole result" rather than a transpose on every factor
        return min(found, key=lambda m: len(m.fixes)) if found else None
