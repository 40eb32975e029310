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
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from symderiv.core.errors import NotationError, ShapeError, UnboundIndexError
from symderiv.core.tree import (
    Add,
    Call,
    Div,
    Neg,
    Node,
    Num,
    Sym,
)
from symderiv.evaluation.backends import NumpyBackend, SympyBackend  # noqa: F401  (re-exported for callers)
from symderiv.evaluation.candidates import MAX_CANDIDATES, Candidate
from symderiv.evaluation.interpret import Interpreter, Ref
from symderiv.evaluation.rules_arithmetic import ArithmeticRules
from symderiv.evaluation.rules_functions import FunctionRules
from symderiv.evaluation.rules_labels import LabelRules
from symderiv.evaluation.rules_ones import OnesRules
from symderiv.evaluation.rules_products import ProductRules
from symderiv.evaluation.rules_sums import SumRules
from symderiv.notation.latex import to_latex

MAX_MEMO = 30_000  # memoised candidates in all (about 100 MiB) before the memo starts again
MEMO: dict = {}  # (the point's token, subtree, leniency, bindings) -> candidates or the error raised
NEXT_TOKEN = itertools.count()

# ---- environment -----------------------------------------------------------------


@dataclass
class Env:
    """Objects of one reading of one instance, and how to evaluate against them."""

    backend: Any
    interp: Interpreter
    objects: dict[Ref, Any]
    reading: str  # columns | rows | single
    n_samples: int = 1  # the batch size of this point (1 in the one-sample reading)
    masks: dict = field(default_factory=dict)  # SymPy: kink argument -> 0/1 symbol
    batch_kinds: frozenset = frozenset()  # objects that carry the batch axis
    cases: dict | None = None  # SymPy: an undecided sign's expression -> its 0/1 case symbol
    index_labels: dict = field(default_factory=dict)  # a class-index label o -> its 0-based value
    column_kinds: frozenset = frozenset()  # objects whose one subscript picks a column (u_w of U)
    objective: str | None = None  # the quantity's objective: what a backprop delta δ^{(l)} differentiates
    atoms: Any = None  # computes a δ or an open ∂C/∂a at this point when a claim uses one (AtomSource)
    # NumPy: the key of this point's candidates in MEMO; a diagnosis evaluates dozens of rewrites of
    # one claim that share most of their subtrees, and a class writes the same subtrees again and again
    token: int = field(default_factory=lambda: next(NEXT_TOKEN), init=False, compare=False, repr=False)

    def __setstate__(self, state):
        self.__dict__.update(state, token=next(NEXT_TOKEN))  # a copy from another process is another point

    def atom(self, ref: Ref):
        """The value of a δ or an open derivative at this point, computed once when first used."""
        if ref not in self.objects:
            if self.atoms is None:
                raise NotationError(f"{ref.kind} has no value in this check")
            self.objects[ref] = self.atoms.value(ref, self.objective)
        return self.objects[ref]

    @property
    def sample_axis(self):
        return {"columns": 1, "rows": 0}.get(self.reading)

    @property
    def class_axis(self):
        return 1 if self.reading == "rows" else 0

    def mask(self, v, op):
        sp = self.backend.sp
        if v.is_number:
            return sp.Integer(
                int(bool({">": v > 0, ">=": v >= 0, "<": v < 0, "<=": v <= 0, "=": v == 0, "!=": v != 0}[op]))
            )
        s = self.masks.get(v)
        if s is None:
            s = self.masks.get(-v)
            if s is not None:
                op = {">": "<", ">=": "<=", "<": ">", "<=": ">="}.get(op, op)
        if s is None and v.is_Mul:  # a ReLU output s·z: positive exactly when s = 1
            for factor in v.args:
                rest = v / factor
                if self.masks.get(rest) == factor:
                    return (
                        {">": factor, ">=": factor, "<": 0, "<=": 1 - factor}.get(op)
                        if op != "=" and op != "!="
                        else _raise(ShapeError("equality with a ReLU output"))
                    )
        if s is None:  # a leaky ReLU's output has its input's sign: [a > 0] is z's mask
            s, same = self.same_sign(v)
            if s is not None and not same:
                op = {">": "<", ">=": "<=", "<": ">", "<=": ">="}.get(op, op)
        if s is None and (v.is_positive or v.is_negative):  # 1[σ(z) > 0] is 1 whatever z is
            positive = bool(v.is_positive)
            return sp.Integer(int(positive if op in (">", ">=") else not positive if op in ("<", "<=") else op == "!="))
        if s is None and self.cases is None:  # the truth's own kinks: a 0/1 symbol per kink argument
            s = self.masks[v] = sp.Symbol(f"s0_{len(self.masks) + 1}", integer=True, nonnegative=True)
        if s is None and self.cases is not None and op in (">", ">=", "<", "<="):
            # decided later by cases (judging/cases.py): a 0/1 symbol per undecided sign
            if -v in self.cases:
                s, op = self.cases[-v], {">": "<", ">=": "<=", "<": ">", "<=": ">="}[op]
            else:
                s = self.cases.setdefault(v, sp.Symbol(f"c{len(self.cases) + 1}", integer=True, nonnegative=True))
        if s is None:
            raise ShapeError(f"cannot decide the sign of {v} symbolically")
        return (
            {">": s, ">=": s, "<": 1 - s, "<=": 1 - s}.get(op)
            if op in (">", ">=", "<", "<=")
            else (_raise(ShapeError("equality with a pre-activation")))
        )

    def same_sign(self, v):
        """(the 0/1 symbol of a kink argument e, True) when v = q·e with q positive whichever sign
        e has (False when q is negative), else (None, None)."""
        sp = self.backend.sp
        known = list(self.masks.items()) + list((self.cases or {}).items())
        flags = {flag for _, flag in known}
        for e, flag in known:
            if not e.free_symbols or not (e.free_symbols - flags) <= v.free_symbols:
                continue
            q = sp.cancel(v / e)
            if q.free_symbols - flags - {x for x in q.free_symbols if x.is_positive}:
                continue
            at = [q.xreplace({flag: value}) for value in (0, 1)]
            if all(x.is_positive for x in at):
                return flag, True
            if all(x.is_negative for x in at):
                return flag, False
        return None, None


def _raise(exc):
    raise exc


class Evaluator(ArithmeticRules, ProductRules, FunctionRules, LabelRules, OnesRules, SumRules):
    """Evaluates a tree on an Env; one ``rule_<node type>`` method per node type, grouped by kind
    in the rules_* mixins, each shared by the NumPy and SymPy backends."""

    def __init__(self, env: Env, bindings: dict[str, int] | None = None, lenient: bool = False):
        self.env = env
        self.b = env.backend
        self.bind = dict(bindings or {})
        self.lenient = lenient

    # -- entry point
    def candidates(self, node: Node) -> list[Candidate]:
        with np.errstate(all="ignore"):  # 1/0 or exp(1000) is a wrong value, not a warning
            return self.candidates_of(node)

    def value(self, node: Node):
        with np.errstate(all="ignore"):
            return self.candidates_of(node)[0].value

    def candidates_of(self, node: Node) -> list[Candidate]:
        method = getattr(self, "rule_" + type(node).__name__.lower())
        if type(self) is not Evaluator or self.b.name != "numpy":  # subclasses watch what is evaluated
            return method(node)
        key = (self.env.token, node, self.lenient, tuple(sorted(self.bind.items())))
        found = MEMO.get(key)
        if found is None:
            try:
                found = method(node)
            except (ShapeError, NotationError) as exc:
                found = exc
            if len(MEMO) >= MAX_MEMO:
                MEMO.clear()
            MEMO[key] = found
        if isinstance(found, Exception):
            raise found
        return list(found)

    def single(self, node, value):
        return [Candidate(value, (), node)]

    def mapped(self, node, child: Node, fn: Callable, rebuild: Callable):
        out = []
        for c in self.candidates_of(child):
            try:
                out.append(Candidate(fn(c.value), c.fixes, rebuild(c.tree)))
            except ShapeError:
                if not self.lenient:
                    raise
        if not out:
            raise ShapeError(f"{to_latex(node)} does not typecheck")
        return out

    def combinations(self, lists):
        count = 0
        for combo in itertools.product(*lists):
            yield combo
            count += 1
            if count >= MAX_CANDIDATES * 4:
                return

    # -- leaves
    def rule_num(self, node):
        return self.single(node, self.b.const(node.value))

    def rule_sym(self, node):
        return self.single(node, self.symbol_value(node))

    def symbol_value(self, node: Sym):
        basis = self.basis_vector(node)
        if basis is not None:
            return basis
        ref = self.env.interp.resolve(node)
        if ref.kind == "kron":
            i, j = (self.index_position(ix) for ix in node.indices)
            if i is None or j is None:
                raise UnboundIndexError("the Kronecker δ needs both indices bound")
            return self.b.const(1 if i == j else 0)
        if ref not in self.env.objects and not ref.kind.startswith(("delta:", "grad:")):
            raise NotationError(f"{to_latex(node)} has no value in this check")
        value = self.env.atom(ref)
        if ref.kind in self.env.interp.problem.size_names:  # n_l: a size, its subscript is its layer
            return value
        try:
            return self.select(value, ref, node.indices)
        except ShapeError as exc:
            hint = ""
            if ref.kind == "Y" and len(node.indices) == 2:
                hint = " (Δ is the label matrix; the Kronecker delta is δ_{ij})"
            raise ShapeError(f"{to_latex(node)}: {exc}{hint}") from None

    def index_position(self, ix: Node):
        if isinstance(ix, Num) and Fraction(ix.value).denominator == 1:
            return int(ix.value) - 1
        if isinstance(ix, Sym) and not ix.indices and ix.name in self.bind:
            return self.bind[ix.name]
        if isinstance(ix, Sym) and not ix.indices and ix.name in self.env.index_labels:
            return self.env.index_labels[ix.name]
        if isinstance(ix, Sym) and self.is_label(ix):  # s_{y_i i}: the class of sample i
            return self.label_class(ix)
        if isinstance(ix, (Add, Neg, Call)):  # x_{i+k-1}, g_{⌈i/2⌉}: index arithmetic, in 1-based numbers
            value = self.index_number(ix)
            return None if value is None else value - 1
        return None

    def index_number(self, ix: Node) -> int | None:
        """The 1-based number an index expression stands for (i + k − 1 with i, k bound, ⌈i/2⌉)."""
        value = self.index_rational(ix)
        return None if value is None or value.denominator != 1 else int(value)

    def index_rational(self, ix: Node) -> Fraction | None:
        """Index arithmetic (sums, differences, a quotient inside ⌈ ⌉ or ⌊ ⌋) in exact rationals."""
        if isinstance(ix, Add):
            parts = [self.index_rational(t) for t in ix.terms]
            return None if None in parts else sum(parts, Fraction(0))
        if isinstance(ix, Neg):
            part = self.index_rational(ix.operand)
            return None if part is None else -part
        if isinstance(ix, Div):
            a, b = self.index_rational(ix.numerator), self.index_rational(ix.denominator)
            return None if a is None or not b else a / b
        if isinstance(ix, Call) and ix.func in ("ceil", "floor") and len(ix.args) == 1 and not ix.primes:
            inner = self.index_rational(ix.args[0])
            if inner is None:
                return None
            return Fraction(math.ceil(inner) if ix.func == "ceil" else math.floor(inner))
        if isinstance(ix, Num):
            return Fraction(ix.value) if isinstance(ix.value, (int, Fraction)) else None
        position = self.index_position(ix) if isinstance(ix, Sym) else None
        if position is None and isinstance(ix, Sym) and not ix.indices and ix.layer is None:
            return self.size_number(ix)  # x_{i-j+k}: a size name in index arithmetic is its size
        return None if position is None else position + 1

    def size_number(self, ix: Sym) -> int | None:
        try:
            ref = self.env.interp.resolve(ix)
        except (NotationError, ShapeError):
            return None
        if ref.kind not in self.env.interp.problem.size_names or ref not in self.env.objects:
            return None
        value = float(np.asarray(self.env.atom(ref), dtype=float).ravel()[0])
        return int(value) if value.is_integer() else None

    def select(self, value, ref: Ref, indices):
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
            pos = self.index_position(ix)
            if pos is not None:
                components.append(pos)
        if not components:
            return value
        rows, cols = self.b.shape(value)
        if len(components) == 2:
            i, j = components
            if not (0 <= i < rows and 0 <= j < cols):
                raise ShapeError(
                    f"the subscript ({i + 1}, {j + 1}) is outside a {rows}x{cols} matrix (entries are numbered from 1)"
                )
            return self.b.entry(value, i, j)
        (i,) = components[:1]
        axis = self.one_index_axis(ref, rows, cols)
        if axis == 0:
            if not 0 <= i < rows:
                raise ShapeError(f"the subscript {i + 1} is outside 1..{rows}")
            return self.b.row(value, i)
        if not 0 <= i < cols:
            raise ShapeError(f"the subscript {i + 1} is outside 1..{cols}")
        return self.b.col(value, i)

    def one_index_axis(self, ref: Ref, rows: int, cols: int) -> int:
        """The axis one subscript runs along: a vector's entries (w_k of a D×1 w, in either reading),
        else a column of a matrix whose subscript picks columns (u_w of U; x_k in the rows reading),
        else a row."""
        if ref.kind in self.env.column_kinds:
            return 1
        if rows == 1 or cols == 1:
            return 0 if rows > 1 else 1
        return 1 if self.env.reading == "rows" else 0

    def samples(self) -> int:
        return 1 if self.env.sample_axis is None else self.env.n_samples
