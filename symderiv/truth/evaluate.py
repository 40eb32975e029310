"""Evaluate an expression tree on concrete objects: NumPy arrays or SymPy matrices.

Every value is 2-D (a scalar is 1x1). Products keep their written order: a factor
pair multiplies as scalar times matrix, elementwise when one side is an indicator
or activation derivative of the same shape, as a matrix product when the inner
sizes agree, else elementwise when the shapes agree, else it does not typecheck.

Strict evaluation gives one value or raises ShapeError. Lenient evaluation
(``lenient=True``) also tries transposing and reordering factors and returns
candidates, each with the fixes it needed and the rewritten tree, so that the
rewritten tree can be re-checked strictly elsewhere (other points, SymPy).
"""
from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from symderiv.core.errors import NotationError, ShapeError
from symderiv.core.tree import (
    Abs,
    Add,
    Call,
    Compare,
    Div,
    Indicator,
    Neg,
    Node,
    Norm,
    Num,
    Piecewise,
    Pow,
    Product,
    Sum,
    Sym,
    Transpose,
)
from symderiv.notation.latex import to_latex
from symderiv.truth.backends import NumpyBackend, SympyBackend  # noqa: F401  (re-exported for callers)
from symderiv.truth.interpret import FuncRef, Interpreter, Ref

MAX_CANDIDATES = 12
HADAMARD_OPS = ("odot", "circ")


@dataclass(frozen=True)
class Candidate:
    value: Any
    fixes: tuple[str, ...]
    tree: Node


# ---- environment -----------------------------------------------------------------

@dataclass
class Env:
    """Objects of one reading of one instance, and how to evaluate against them."""

    backend: Any
    interp: Interpreter
    objects: dict[Ref, Any]
    activations: dict[int, str]
    reading: str                              # columns | rows | single
    weight_layout: str = "out-in"
    masks: dict = field(default_factory=dict)  # SymPy: pre-activation entry -> 0/1 symbol
    allow_cost_derivative: bool = False

    @property
    def sample_axis(self):
        return {"columns": 1, "rows": 0}.get(self.reading)

    @property
    def class_axis(self):
        return 1 if self.reading == "rows" else 0

    def mask(self, v, op):
        sp = self.backend.sp
        if v.is_number:
            return sp.Integer(int(bool({">": v > 0, ">=": v >= 0, "<": v < 0, "<=": v <= 0,
                                         "=": v == 0, "!=": v != 0}[op])))
        s = self.masks.get(v)
        if s is None:
            s = self.masks.get(-v)
            if s is not None:
                op = {">": "<", ">=": "<=", "<": ">", "<=": ">="}.get(op, op)
        if s is None and v.is_Mul:       # a ReLU output s·z: positive exactly when s = 1
            for factor in v.args:
                rest = v / factor
                if self.masks.get(rest) == factor:
                    return {">": factor, ">=": factor, "<": 0, "<=": 1 - factor}.get(op) if op != "=" and op != "!=" \
                        else _raise(ShapeError("equality with a ReLU output"))
        if s is None:
            raise ShapeError(f"cannot decide the sign of {v} symbolically")
        return {">": s, ">=": s, "<": 1 - s, "<=": 1 - s}.get(op) if op in (">", ">=", "<", "<=") else \
            (_raise(ShapeError("equality with a pre-activation")))


def _raise(exc):
    raise exc


def _is_elementwise_natured(node: Node) -> bool:
    while isinstance(node, Transpose):
        node = node.operand
    return isinstance(node, (Indicator, Piecewise)) or (isinstance(node, Call) and node.primes > 0)


class Evaluator:
    def __init__(self, env: Env, bindings: dict[str, int] | None = None, lenient: bool = False):
        self.env = env
        self.b = env.backend
        self.bind = dict(bindings or {})
        self.lenient = lenient

    # -- entry point
    def candidates(self, node: Node) -> list[Candidate]:
        with np.errstate(all="ignore"):      # 1/0 or exp(1000) is a wrong value, not a warning
            return self._ev(node)

    def value(self, node: Node):
        with np.errstate(all="ignore"):
            return self._ev(node)[0].value

    def _ev(self, node: Node) -> list[Candidate]:
        method = getattr(self, "_" + type(node).__name__.lower())
        return method(node)

    def _one(self, node, value):
        return [Candidate(value, (), node)]

    def _map(self, node, child: Node, fn: Callable, rebuild: Callable):
        out = []
        for c in self._ev(child):
            try:
                out.append(Candidate(fn(c.value), c.fixes, rebuild(c.tree)))
            except ShapeError:
                if not self.lenient:
                    raise
        if not out:
            raise ShapeError(f"{to_latex(node)} does not typecheck")
        return out

    def _combos(self, lists):
        count = 0
        for combo in itertools.product(*lists):
            yield combo
            count += 1
            if count >= MAX_CANDIDATES * 4:
                return

    # -- leaves
    def _num(self, node):
        return self._one(node, self.b.const(node.value))

    def _sym(self, node):
        return self._one(node, self.symbol_value(node))

    def symbol_value(self, node: Sym):
        ref = self.env.interp.resolve(node)
        if ref.kind == "n":
            return self.b.const(self.layer_width(ref.layer))
        if ref.kind == "kron":
            i, j = (self._index_position(ix) for ix in node.indices)
            if i is None or j is None:
                raise NotationError("the Kronecker δ needs both indices bound")
            return self.b.const(1 if i == j else 0)
        if ref not in self.env.objects:
            raise NotationError(f"{to_latex(node)} has no value in this check")
        value = self.env.objects[ref]
        try:
            return self._select(value, ref, node.indices)
        except ShapeError as exc:
            hint = ""
            if ref.kind == "Y" and len(node.indices) == 2:
                hint = " (Δ is the label matrix; the Kronecker delta is δ_{ij})"
            raise ShapeError(f"{to_latex(node)}: {exc}{hint}") from None

    def _index_position(self, ix: Node):
        if isinstance(ix, Num) and float(ix.value).is_integer():
            return int(ix.value) - 1
        if isinstance(ix, Sym) and not ix.indices and ix.name in self.bind:
            return self.bind[ix.name]
        return None

    def _select(self, value, ref: Ref, indices):
        sample = self.bind.get("__sample__")
        sample_var = self.bind.get("__sample_var__")
        components = []
        for ix in indices:
            if isinstance(ix, Sym) and ix.name == sample_var and sample is not None:
                if self.env.sample_axis == 1:
                    value = self.b.col(value, sample)
                elif self.env.sample_axis == 0:
                    value = self.b.row(value, sample)
                continue
            pos = self._index_position(ix)
            if pos is not None:
                components.append(pos)
        if not components:
            return value
        rows, cols = self.b.shape(value)
        if len(components) == 2:
            i, j = components
            if not (0 <= i < rows and 0 <= j < cols):
                raise ShapeError(f"the subscript ({i + 1}, {j + 1}) is outside a {rows}x{cols} matrix "
                                 f"(entries are numbered from 1)")
            return self.b.entry(value, i, j)
        (i,) = components[:1]
        axis = 1 if self.env.reading == "rows" or rows == 1 else 0
        if axis == 0:
            if not 0 <= i < rows:
                raise ShapeError(f"the subscript {i + 1} is outside 1..{rows}")
            return self.b.row(value, i)
        if not 0 <= i < cols:
            raise ShapeError(f"the subscript {i + 1} is outside 1..{cols}")
        return self.b.col(value, i)

    def layer_width(self, k: int) -> int:
        layer = self.env.objects[Ref("X") if k == 0 else Ref("A", k)]
        return self.b.shape(layer)[self.env.class_axis]

    def _ones(self, node):
        if node.size is not None and not (isinstance(node.size, Sym) and node.size.name == "N"):
            return self._one(node, self.b.ones(int(self.value(node.size)[0, 0]), 1))
        if self.env.sample_axis is None:
            # 1_N sums over the samples of a batch: one sample has none to sum
            raise ShapeError("the ones vector 1_N sums over the N samples: there is no batch in one sample")
        return self._one(node, self.b.ones(self.samples(), 1))

    def samples(self) -> int:
        X = self.env.objects[Ref("X")]
        axis = self.env.sample_axis
        return 1 if axis is None else self.b.shape(X)[axis]

    # -- arithmetic
    def _neg(self, node):
        return self._map(node, node.operand, lambda v: self.b.scale(self.b.const(-1), v), Neg)

    def _transpose(self, node):
        return self._map(node, node.operand, self.b.T, Transpose)

    def _add(self, node):
        lists = [self._ev(t) for t in node.terms]
        out = []
        for combo in self._combos(lists):
            target = self.b.shape(combo[0].value)
            total, fixes, trees = combo[0].value, list(combo[0].fixes), [combo[0].tree]
            ok = True
            for c in combo[1:]:
                v, tree = c.value, c.tree
                fixes += c.fixes
                if self.b.shape(v) != target and not self._broadcastable(target, self.b.shape(v)):
                    if self.lenient and self.b.shape(v)[::-1] == target:
                        v = self.b.T(v)
                        tree = Transpose(tree)
                        fixes.append(f"transpose the term {to_latex(c.tree)}")
                    else:
                        ok = False
                        break
                total = self._add_values(total, v)
                trees.append(tree)
            if ok:
                out.append(Candidate(total, tuple(fixes), Add(tuple(trees))))
            elif not self.lenient:
                shapes = " + ".join("x".join(map(str, self.b.shape(c.value))) for c in combo)
                raise ShapeError(f"terms of different sizes are added ({shapes})")
        if not out:
            raise ShapeError("the terms of the sum have sizes that do not fit")
        return self._dedupe(out)

    @staticmethod
    def _broadcastable(a, b):
        return (a[0] == b[0] and 1 in (a[1], b[1])) or a == (1, 1) or b == (1, 1)

    def _add_values(self, a, b):
        sa, sb = self.b.shape(a), self.b.shape(b)
        if sa == sb:
            return self.b.add(a, b)
        if sa == (1, 1):
            return self.b.add(self.b.scale(a, self.b.ones(*sb)), b)
        if sb == (1, 1):
            return self.b.add(a, self.b.scale(b, self.b.ones(*sa)))
        if sa[0] == sb[0]:   # a column vector broadcast along the samples (b 1^T)
            if sa[1] == 1:
                return self.b.add(self.b.matmul(a, self.b.ones(1, sb[1])), b)
            return self.b.add(a, self.b.matmul(b, self.b.ones(1, sa[1])))
        raise ShapeError("sizes do not fit")

    def _div(self, node):
        out = []
        for n, d in self._combos([self._ev(node.numerator), self._ev(node.denominator)]):
            sd = self.b.shape(d.value)
            if sd == (1, 1):
                v = self.b.scale(self.b.divide(self.b.const(1), d.value), n.value)
            elif sd == self.b.shape(n.value):
                v = self.b.divide(n.value, d.value)
            elif self.b.shape(n.value) == (1, 1):
                v = self.b.divide(self.b.scale(n.value, self.b.ones(*sd)), d.value)
            else:
                if not self.lenient:
                    raise ShapeError(f"cannot divide by {to_latex(node.denominator)} (not a scalar)")
                continue
            out.append(Candidate(v, n.fixes + d.fixes, Div(n.tree, d.tree)))
        if not out:
            raise ShapeError(f"{to_latex(node)} does not typecheck")
        return out

    def _pow(self, node):
        exponent = self.value(node.exponent)
        if self.b.shape(exponent) != (1, 1):
            raise ShapeError("a matrix exponent")
        if abs(float(exponent[0, 0])) > 64:
            raise ShapeError(f"the exponent {to_latex(node.exponent)} is too large to be meant")
        return self._map(node, node.base, lambda v: self.b.power(v, exponent),
                         lambda t: Pow(t, node.exponent))

    def _abs(self, node):
        return self._map(node, node.operand, lambda v: self.b.elementwise("abs", v, self.env), Abs)

    def _norm(self, node):
        def frob(v):
            sq = self.b.total(self.b.hadamard(v, v))
            return self.b.power(sq, self.b.const(0.5)) if self.b.name == "numpy" else \
                self.b.sp.Matrix([[self.b.sp.sqrt(sq[0, 0])]])
        return self._map(node, node.operand, frob, lambda t: Norm(t, node.kind))

    # -- products
    def _product(self, node):
        groups, ops_between = [[node.factors[0]]], []
        for op, f in zip(node.ops, node.factors[1:]):
            if op in HADAMARD_OPS:
                groups.append([f])
                ops_between.append(op)
            else:
                groups[-1].append(f)
        group_cands = [self._group(g) for g in groups]
        out = []
        for combo in self._combos(group_cands):
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
                value = self._elementwise_product(value, v)
                trees.append(tree)
            if ok:
                tree = trees[0] if len(trees) == 1 else Product(tuple(trees), ("odot",) * (len(trees) - 1))
                out.append(Candidate(value, tuple(fixes), tree))
        if not out:
            raise ShapeError(f"{to_latex(node)} does not typecheck")
        return self._dedupe(out)

    def _elementwise_product(self, a, b):
        sa, sb = self.b.shape(a), self.b.shape(b)
        if sa == (1, 1):
            return self.b.scale(a, b)
        if sb == (1, 1):
            return self.b.scale(b, a)
        return self.b.hadamard(a, b)

    def _multiply(self, a, b, a_elem, b_elem, as_written=True):
        sa, sb = self.b.shape(a), self.b.shape(b)
        if sa == (1, 1):
            return self.b.scale(a, b)
        if sb == (1, 1):
            return self.b.scale(b, a)
        if (a_elem or b_elem) and sa == sb:
            return self.b.hadamard(a, b)
        if sa[1] == sb[0]:
            return self.b.matmul(a, b)
        if sa == sb and as_written:     # a(1 - a) for vectors, as written; never invented by a reordering
            return self.b.hadamard(a, b)
        raise ShapeError(f"a {sa[0]}x{sa[1]} matrix times a {sb[0]}x{sb[1]} matrix")

    def _chain(self, values, elems, as_written=True):
        value, elem = values[0], elems[0]
        for v, e in zip(values[1:], elems[1:]):
            value = self._multiply(value, v, elem, e, as_written)
            elem = elem and e
        return value

    def _group(self, factors: list[Node]) -> list[Candidate]:
        lists = [self._ev(f)[:3] for f in factors]
        out = []
        for combo in self._combos(lists):
            values = [c.value for c in combo]
            elems = [_is_elementwise_natured(c.tree) for c in combo]
            base_fixes = tuple(fx for c in combo for fx in c.fixes)
            try:
                out.append(Candidate(self._chain(values, elems), base_fixes,
                                     self._rebuild(factors, [c.tree for c in combo])))
                if not self.lenient:
                    return out
            except ShapeError:
                if not self.lenient:
                    raise
            # a product can typecheck the wrong way (a row times a column is a number):
            # the reorderings are candidates even then
            out.extend(self._reorderings(combo, base_fixes))
        if not out:
            raise ShapeError(f"{' '.join(to_latex(f) for f in factors)} does not typecheck")
        return self._dedupe(out)

    @staticmethod
    def _rebuild(factors, trees):
        return trees[0] if len(trees) == 1 else Product(tuple(trees), ("juxt",) * (len(trees) - 1))

    def _reorderings(self, combo, base_fixes) -> list[Candidate]:
        """Products of the same factors in another order and/or transposed, fewest changes first."""
        scalars = [c for c in combo if self.b.shape(c.value) == (1, 1)]
        rest = [c for c in combo if self.b.shape(c.value) != (1, 1)]
        n = len(rest)
        if n == 0 or n > 5:
            return []
        def moves(p):           # a swap of two factors is one change, like one transpose
            return max(0, sum(i != j for i, j in enumerate(p)) - 1)
        orders = sorted(itertools.permutations(range(n)), key=moves)
        masks = sorted(range(2 ** n), key=lambda m: bin(m).count("1"))
        found = []
        for cost in range(0, 2 * n + 1):
            for order in orders:
                moved = moves(order)
                for m in masks:
                    if moved + bin(m).count("1") != cost or cost == 0:
                        continue
                    values, trees, elems, fixes = [], [], [], list(base_fixes)
                    for pos, idx in enumerate(order):
                        c = rest[idx]
                        if m >> pos & 1:
                            values.append(self.b.T(c.value))
                            trees.append(Transpose(c.tree))
                            fixes.append(f"transpose {to_latex(c.tree)}")
                        else:
                            values.append(c.value)
                            trees.append(c.tree)
                        elems.append(_is_elementwise_natured(c.tree))
                    try:
                        value = self._chain(values, elems, as_written=False)
                    except ShapeError:
                        continue
                    for s in scalars:
                        value = self.b.scale(s.value, value)
                    tree_factors = [s.tree for s in scalars] + trees
                    tree = self._rebuild(None, tree_factors)
                    if moved:
                        fixes.append("reorder the product as " + to_latex(self._rebuild(None, trees)))
                    found.append(Candidate(value, tuple(fixes), tree))
                    if len(found) >= MAX_CANDIDATES:
                        return found
        return found

    def _dedupe(self, cands):
        if self.b.name != "numpy":
            return cands[:MAX_CANDIDATES]
        seen, out = set(), []
        for c in cands:
            key = (c.value.shape, np.round(np.nan_to_num(c.value), 9).tobytes())
            if key not in seen:
                seen.add(key)
                out.append(c)
        return out[:MAX_CANDIDATES]

    # -- functions
    def _call(self, node):
        if node.indices and not self.env.interp.layer_like(node.indices[0]):
            # ψ(z)_i: the call, then its entry i
            whole = Evaluator(self.env, self.bind).value(replace(node, indices=()))
            return self._one(node, self._select(whole, Ref("A", None), node.indices))
        fref = self.env.interp.function(node)
        if len(node.args) != 1:
            raise NotationError(f"{node.func} takes one argument here")
        arg = node.args[0]
        if self._is_softmax(fref) and isinstance(arg, Sym) and arg.indices and not fref.derivative:
            # ψ(z_i) is the i-th entry of ψ(z): the softmax of one number would be 1
            whole = self.apply(fref, Evaluator(self.env, self.bind).symbol_value(Sym(arg.name, arg.layer, (), arg.decor)))
            ref = self.env.interp.resolve(arg)
            return self._one(node, self._select(whole, ref, arg.indices))
        return self._map(node, node.args[0], lambda v: self.apply(fref, v),
                         lambda t: Call(node.func, (t,), node.primes, node.indices))

    def _is_softmax(self, fref: FuncRef) -> bool:
        return fref.name == "softmax" or (fref.name == "act" and self.env.activations.get(fref.layer) == "softmax")

    def apply(self, fref: FuncRef, v):
        name = fref.name
        if name == "act":
            name = self.env.activations[fref.layer]
        if name == "softmax":
            if fref.derivative:
                raise NotationError("the softmax has no elementwise derivative: its Jacobian is full")
            return self.b.softmax(v, self.env.class_axis)
        if name == "diag":
            return self.b.diag(v)
        if name == "identity":
            return v if not fref.derivative else self.b.ones(*self.b.shape(v))
        if fref.derivative == 0:
            return self.b.elementwise(name, v, self.env)
        if fref.derivative == 1:
            return self.b.derivative(name, v, self.env)
        raise NotationError("higher derivatives are not supported")

    def _index_comparison(self, cond: Compare):
        """i = j, i ≠ j between bound indices (cases of a Jacobian): a number, 1 or 0."""
        sides = [self._index_position(s) if isinstance(s, (Sym, Num)) else None for s in (cond.lhs, cond.rhs)]
        names = [s.name for s in (cond.lhs, cond.rhs) if isinstance(s, Sym)]
        if None in sides or not any(n in self.bind for n in names):
            return None
        i, j = sides
        return {">": i > j, ">=": i >= j, "<": i < j, "<=": i <= j, "=": i == j, "!=": i != j}[cond.op]

    def _indicator(self, node):
        cond = node.condition
        decided = self._index_comparison(cond)
        if decided is not None:
            return self._one(node, self.b.const(int(decided)))
        diff = cond.lhs if isinstance(cond.rhs, Num) and cond.rhs.value == 0 else Add((cond.lhs, Neg(cond.rhs)))
        return self._map(node, diff, lambda v: self.b.indicator(v, cond.op, self.env),
                         lambda t: Indicator(Compare(t, cond.op, Num(0))))

    def _piecewise(self, node):
        decided = [self._index_comparison(cond) if cond is not None else None for _, cond in node.pieces]
        if any(d is not None for d in decided):      # cases on indices: pick the case that holds
            for (piece, cond), d in zip(node.pieces, decided):
                if d or (cond is None and not any(decided)):
                    return self._ev(piece)
            return self._one(node, self.b.const(0))
        masks = [self.value(Indicator(cond)) for _, cond in node.pieces if cond is not None]
        if not masks:
            raise ShapeError("a cases block with no condition")
        value, pieces, fixes = None, [], []
        for piece, cond in node.pieces:
            if cond is None:
                mask = self.b.add(self.b.ones(*self.b.shape(masks[0])),
                                  self.b.scale(self.b.const(-1), self._sum_values(masks)))
            else:
                mask = self.value(Indicator(cond))
            sm = self.b.shape(mask)
            chosen = None
            for cand in self._ev(piece):
                sv = self.b.shape(cand.value)
                if sv == sm or sv == (1, 1):
                    chosen = cand
                elif self.lenient and sv[::-1] == sm:
                    chosen = Candidate(self.b.T(cand.value), cand.fixes + (f"transpose {to_latex(cand.tree)}",),
                                       Transpose(cand.tree))
                if chosen is not None:
                    break
            if chosen is None:
                raise ShapeError(f"a case of {to_latex(piece)} does not fit its condition's size {sm[0]}x{sm[1]}")
            term = self._elementwise_product(chosen.value, mask)
            value = term if value is None else self.b.add(value, term)
            pieces.append((chosen.tree, cond))
            fixes.extend(chosen.fixes)
        return [Candidate(value, tuple(fixes), Piecewise(tuple(pieces)))]

    def _sum_values(self, values):
        total = values[0]
        for v in values[1:]:
            total = self.b.add(total, v)
        return total

    def _compare(self, node):
        return self._indicator(Indicator(node))

    def _matrix(self, node):
        rows = [[self.value(e) for e in row] for row in node.rows]
        if any(self.b.shape(e) != (1, 1) for row in rows for e in row):
            raise ShapeError("matrix entries must be numbers")
        if len({len(r) for r in rows}) != 1:
            raise ShapeError("matrix rows of different lengths")
        return self._one(node, self.b.from_entries(rows))

    def _deriv(self, node):
        num, wrt = node.num, node.wrt
        if self.env.allow_cost_derivative and isinstance(num, Sym) and num.name in ("C", "J", "L") \
                and isinstance(wrt, Sym):
            ref = self.env.interp.resolve(wrt)
            key = Ref("d" + ref.kind, ref.layer)
            if key in self.env.objects:
                return self._one(node, self._select(self.env.objects[key], ref, wrt.indices))
        raise NotationError(f"{to_latex(node)} is an unevaluated derivative, not a closed form")

    # -- sums
    def _sum(self, node):
        if node.index is None or node.over is not None or self._is_sample_bound(node):
            return self._sample_sum(node)
        extent = self._extent(node.body, node.index)
        if node.upper is not None:
            upper = int(self.value(node.upper)[0, 0])
            if extent is not None and upper != extent:
                raise ShapeError(f"the sum over {node.index} runs to {upper} but the index ranges over {extent}")
            extent = upper
        if extent is None:
            raise ShapeError(f"cannot tell what the index {node.index} of the sum runs over")
        total = None
        for k in range(extent):
            sub = Evaluator(self.env, {**self.bind, node.index: k}, lenient=False)
            v = sub.value(node.body)
            total = v if total is None else self._add_values(total, v)
        return self._one(node, total)

    def _is_sample_bound(self, node: Sum) -> bool:
        if isinstance(node.upper, Sym) and node.upper.name == "N":
            return True
        if self.env.sample_axis is None or node.upper is not None or node.index in self.bind:
            return False
        # Σ_i over z_i, a_i, Δ_i, x_i alone: the samples of a batch
        uses = [n for n in node.body.walk() if isinstance(n, Sym)
                and any(isinstance(i, Sym) and i.name == node.index for i in n.indices)]
        batch = ("X", "Y", "Z", "A")
        try:
            return bool(uses) and all(len(n.indices) == 1 and self.env.interp.resolve(n).kind in batch for n in uses)
        except NotationError:
            return False

    def _sample_sum(self, node):
        axis = self.env.sample_axis
        if axis is None:
            if node.index is not None and node.upper is not None:
                raise ShapeError("a sum over all N samples is the batch, not one sample's share")
            return self._ev(node.body)   # a loosely written Σ in a per-sample formula: this sample's term
        if node.index is None:
            return self._map(node, node.body, lambda v: self.b.sum_axis(v, axis),
                             lambda t: Sum(t, None, node.lower, node.upper, node.over))
        total = None
        for i in range(self.samples()):
            sub = Evaluator(self.env, {**self.bind, "__sample__": i, "__sample_var__": node.index})
            v = sub.value(node.body)
            total = v if total is None else self._add_values(total, v)
        return self._one(node, total)

    def _extent(self, body: Node, index: str) -> int | None:
        sizes = set()
        for n in body.walk():
            if isinstance(n, Sym) and any(isinstance(i, Sym) and i.name == index for i in n.indices):
                try:
                    ref = self.env.interp.resolve(n)
                except NotationError:
                    continue
                if ref not in self.env.objects:
                    continue
                rows, cols = self.b.shape(self.env.objects[ref])
                pos = [k for k, i in enumerate(n.indices) if isinstance(i, Sym) and i.name == index][0]
                if len(n.indices) == 2:
                    sizes.add(rows if pos == 0 else cols)
                else:
                    sizes.add(cols if self.env.reading == "rows" else rows)
        if len(sizes) > 1:
            raise ShapeError(f"the index {index} ranges over different sizes ({', '.join(map(str, sorted(sizes)))})"
                             " in different factors")
        return sizes.pop() if sizes else None
