"""The evaluator's rules for products (matrix, Hadamard, reorderings for layout): a mixin of ``Evaluator`` (truth/evaluate.py)."""

from __future__ import annotations

import itertools
from functools import cache

import numpy as np

from symderiv.core.errors import ShapeError
from symderiv.core.tree import (
    Indicator,
    Node,
    Ones,
    Product,
    Transpose,
)
from symderiv.evaluation.candidates import HADAMARD_OPS, MAX_CANDIDATES, Candidate, is_elementwise_natured
from symderiv.evaluation.rules_ones import has_free_ones
from symderiv.notation.latex import to_latex


class ProductRules:
    def rule_product(self, node, target=None):
        """target: the size the product must have where an unsized ones vector leaves it open (rules_ones.py).
        A product with an index condition that does not hold here (g_{p-j+1} 1[1 ≤ p − j + 1 ≤ m] at
        p − j + 1 = 0) is 0 even where its other factors' subscripts run outside their vectors."""
        try:
            return self.product_candidates(node, target)
        except ShapeError:
            if self.ruled_out_by_index(node):
                return self.single(node, self.b.const(0))
            raise

    def ruled_out_by_index(self, node: Node) -> bool:
        for f in node.factors:
            if isinstance(f, Product) and self.ruled_out_by_index(f):
                return True
            if isinstance(f, Indicator) and self.index_comparison(f.condition) is False:
                return True
        return False

    def product_candidates(self, node, target=None):
        groups, ops_between = [[node.factors[0]]], []
        for op, f in zip(node.ops, node.factors[1:]):
            if op in HADAMARD_OPS:
                groups.append([f])
                ops_between.append(op)
            else:
                groups[-1].append(f)
        free = [any(has_free_ones(f) for f in g) for g in groups]
        group_cands = [None if is_free else self.group(g) for g, is_free in zip(groups, free)]
        if any(free):  # a Hadamard product is one size: the other factors size 1 1ᵀ
            target = target or self.anchor_shape(group_cands, free)
            group_cands = [
                self.fitted_group(g, target) if is_free else c for g, c, is_free in zip(groups, group_cands, free)
            ]
        out = []
        for combo in self.combinations(group_cands):
            value, fixes, trees = combo[0].value, list(combo[0].fixes), [combo[0].tree]
            ok = True
            for c in combo[1:]:
                v, tree = c.value, c.tree
                fixes += c.fixes
                sa, sb = self.b.shape(value), self.b.shape(v)
                if sa == sb or (1, 1) in (sa, sb):
                    pass
                elif self.lenient and sa == sb[::-1]:
                    v, tree = self.b.T(v), Transpose(tree)
                    fixes.append(f"transpose {to_latex(c.tree)}")
                else:
                    ok = False
                    if not self.lenient:
                        raise ShapeError(f"Hadamard product of a {sa[0]}x{sa[1]} and a {sb[0]}x{sb[1]} matrix")
                    break
                value = self.elementwise_product(value, v)
                trees.append(tree)
            if ok:
                tree = trees[0] if len(trees) == 1 else Product(tuple(trees), ("odot",) * (len(trees) - 1))
                out.append(Candidate(value, tuple(fixes), tree))
        if not out:
            raise ShapeError(f"{to_latex(node)} does not typecheck")
        return self.dedupe(out)

    def elementwise_product(self, a, b):
        sa, sb = self.b.shape(a), self.b.shape(b)
        if sa == (1, 1):
            return self.b.scale(a, b)
        if sb == (1, 1):
            return self.b.scale(b, a)
        return self.b.hadamard(a, b)

    def multiply(self, a, b, a_elem, b_elem, as_written=True, ones=False):
        sa, sb = self.b.shape(a), self.b.shape(b)
        if sa == (1, 1):
            return self.b.scale(a, b)
        if sb == (1, 1):
            return self.b.scale(b, a)
        if (a_elem or b_elem) and sa == sb:
            return self.b.hadamard(a, b)
        if sa[1] == sb[0]:
            return self.b.matmul(a, b)
        if sa == sb and as_written and not ones:
            # a(1 - a) for vectors, as written; never invented by a reordering, and never with a ones
            # vector (G 1_D sums G's rows: in one sample it is no elementwise product)
            return self.b.hadamard(a, b)
        raise ShapeError(f"a {sa[0]}x{sa[1]} matrix times a {sb[0]}x{sb[1]} matrix")

    def chain(self, values, elems, as_written=True, ones=None):
        ones = ones or [False] * len(values)
        value, elem, has_ones = values[0], elems[0], ones[0]
        for v, e, o in zip(values[1:], elems[1:], ones[1:]):
            value = self.multiply(value, v, elem, e, as_written, has_ones or o)
            elem = elem and e
            has_ones = o
        return value

    def fitted_group(self, factors: list[Node], target) -> list[Candidate]:
        if target is not None:
            try:
                return self.group(factors, target)
            except ShapeError:
                pass
        return self.group(factors)

    def group(self, factors: list[Node], target=None) -> list[Candidate]:
        lists = [self.candidates_of(f)[:3] for f in factors]
        out = []
        for combo in self.combinations(lists):
            written = [c.value for c in combo]
            values = self.fit_chain(written, [c.tree for c in combo], target)
            if values is not written:  # an unsized ones vector, sized here
                combo = [Candidate(v, c.fixes, c.tree) for v, c in zip(values, combo)]
            elems = [is_elementwise_natured(c.tree) for c in combo]
            ones = [is_ones(c.tree) for c in combo]
            base_fixes = tuple(fx for c in combo for fx in c.fixes)
            try:
                out.append(
                    Candidate(
                        self.chain(values, elems, ones=ones),
                        base_fixes,
                        self.rebuild_product(factors, [c.tree for c in combo]),
                    )
                )
                if not self.lenient:
                    return out
            except ShapeError:
                if not self.lenient:
                    raise
            # a product can typecheck the wrong way (a row times a column is a number):
            # the reorderings are candidates even then
            out.extend(self.reorderings(combo, base_fixes))
        if not out:
            raise ShapeError(f"{' '.join(to_latex(f) for f in factors)} does not typecheck")
        return self.dedupe(out)

    @staticmethod
    def rebuild_product(factors, trees):
        return trees[0] if len(trees) == 1 else Product(tuple(trees), ("juxt",) * (len(trees) - 1))

    def reorderings(self, combo, base_fixes) -> list[Candidate]:
        """Products of the same factors in another order and/or transposed, fewest changes first."""
        scalars = [c for c in combo if self.b.shape(c.value) == (1, 1)]
        rest = [c for c in combo if self.b.shape(c.value) != (1, 1)]
        n = len(rest)
        if n == 0 or n > 5:
            return []
        shapes = [self.b.shape(c.value) for c in rest]
        elems_of = [is_elementwise_natured(c.tree) for c in rest]
        latex_of = {}  # written only for the reorderings that typecheck: most do not
        found = []
        square = [shapes[k][0] == shapes[k][1] != 1 for k in range(n)]
        for order, mask, moved in reordering_plan(n):
            if any(mask >> pos & 1 and square[idx] for pos, idx in enumerate(order)):
                continue  # transposing a square factor fixes no size: W for Wᵀ is a mistake, not layout
            if any(square[idx] and set(order[:pos]) != set(range(idx)) for pos, idx in enumerate(order)):
                # moving a square factor past another without transposing it is no layout either:
                # δᵀWᵀ read as Wᵀδ hides the transpose W needs (δᵀW is the row form of Wᵀδ)
                continue
            elems = [elems_of[idx] for idx in order]
            trial = [shapes[idx][::-1] if mask >> pos & 1 else shapes[idx] for pos, idx in enumerate(order)]
            if chain_shape(trial, elems) is None:
                continue
            values, trees, fixes = [], [], list(base_fixes)
            for pos, idx in enumerate(order):
                c = rest[idx]
                if mask >> pos & 1:
                    values.append(self.b.T(c.value))
                    trees.append(Transpose(c.tree))
                    if idx not in latex_of:
                        latex_of[idx] = to_latex(c.tree)
                    fixes.append(f"transpose {latex_of[idx]}")
                else:
                    values.append(c.value)
                    trees.append(c.tree)
            try:
                value = self.chain(values, elems, as_written=False)
            except ShapeError:
                continue
            for s in scalars:
                value = self.b.scale(s.value, value)
            tree = self.rebuild_product(None, [s.tree for s in scalars] + trees)
            if moved:
                fixes.append("reorder the product as " + to_latex(self.rebuild_product(None, trees)))
            found.append(Candidate(value, tuple(fixes), tree))
            if len(found) >= MAX_CANDIDATES:
                return found
        return found

    def dedupe(self, cands):
        if self.b.name != "numpy":
            return cands[:MAX_CANDIDATES]
        seen, out = set(), []
        for c in cands:
            value = c.value if np.isfinite(c.value).all() else np.nan_to_num(c.value)
            key = (value.shape, np.round(value, 9).tobytes())
            if key not in seen:
                seen.add(key)
                out.append(c)
        return out[:MAX_CANDIDATES]


def is_ones(tree: Node) -> bool:
    """A ones vector, or its transpose."""
    while isinstance(tree, Transpose):
        tree = tree.operand
    return isinstance(tree, Ones)


@cache
def reordering_plan(n: int) -> tuple[tuple[tuple[int, ...], int, int], ...]:
    """Every other order and transposition mask of n factors as (order, mask, moves), fewest
    changes first; a swap of two factors is one change, like one transpose."""

    def moves(p):
        return max(0, sum(i != j for i, j in enumerate(p)) - 1)

    orders = sorted(itertools.permutations(range(n)), key=moves)
    masks = sorted(range(2**n), key=lambda m: bin(m).count("1"))
    plan = [(o, m, moves(o)) for o in orders for m in masks]
    plan.sort(key=lambda p: p[2] + bin(p[1]).count("1"))  # stable: order, then mask, within a cost
    return tuple(p for p in plan if p[2] + bin(p[1]).count("1") > 0)


def chain_shape(shapes, elems):
    """The shape of ProductRules.chain(..., as_written=False) on values of these shapes, or None
    where it would raise ShapeError (checked on shapes first: most reorderings do not typecheck)."""
    shape, elem = shapes[0], elems[0]
    for sb, e in zip(shapes[1:], elems[1:]):
        if shape == (1, 1):
            shape = sb
        elif sb == (1, 1):
            pass
        elif (elem or e) and shape == sb:
            pass
        elif shape[1] == sb[0]:
            shape = (shape[0], sb[1])
        else:
            return None
        elem = elem and e
    return shape
