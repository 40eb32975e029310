"""The evaluator's rules for function calls, indicators, cases, matrices and derivatives: a mixin of ``Evaluator`` (truth/evaluate.py)."""

from __future__ import annotations

from dataclasses import replace

from symderiv.answerkey.model_functions import substitute
from symderiv.core.errors import NotationError, ShapeError
from symderiv.core.tree import (
    ENTRY,
    Add,
    Call,
    Compare,
    Indicator,
    Neg,
    Num,
    Piecewise,
    Sym,
    Transpose,
    is_conjunction,
)
from symderiv.evaluation.candidates import Candidate
from symderiv.evaluation.interpret import FuncRef, Ref
from symderiv.notation.latex import to_latex


class FunctionRules:
    def rule_call(self, node):
        if node.func == ENTRY:  # (ψ(Z) − Δ)_i: the bracket's value, then its entry i
            whole = type(self)(self.env, self.bind).value(node.args[0])
            return self.single(node, self.select(whole, Ref("A", None), node.indices))
        if node.func in ("max", "min") and len(node.args) == 2 and not node.indices and not node.primes:
            return self.single(node, self.extremum(node.func, *(self.value(a) for a in node.args)))
        if node.indices and not node.func.startswith("family:"):  # ψ(z)_i: the call, then its entry i
            whole = type(self)(self.env, self.bind).value(replace(node, indices=()))
            return self.single(node, self.select(whole, Ref("A", None), node.indices))
        fref = self.env.interp.function(node)
        if len(node.args) != 1:
            raise NotationError(f"{node.func} takes one argument here")
        arg = node.args[0]
        if self.is_softmax(fref) and isinstance(arg, Sym) and arg.indices and not fref.derivative:
            # ψ(z_i) is the i-th entry of ψ(z): the softmax of one number would be 1
            whole = self.apply(
                fref, type(self)(self.env, self.bind).symbol_value(Sym(arg.name, arg.layer, (), arg.decor))
            )
            ref = self.env.interp.resolve(arg)
            return self.single(node, self.select(whole, ref, arg.indices))
        return self.mapped(
            node,
            node.args[0],
            lambda v: self.apply(fref, v),
            lambda t: Call(node.func, (t,), node.primes, node.indices),
        )

    def extremum(self, which: str, a, b):
        """max(a, b) or min(a, b) entrywise (a number stretches to the other's size): m⊙a + (1 − m)⊙b."""
        sa, sb = self.b.shape(a), self.b.shape(b)
        if sa != sb and (1, 1) not in (sa, sb):
            raise ShapeError(f"{which} of a {sa[0]}x{sa[1]} and a {sb[0]}x{sb[1]} matrix")
        shape = sb if sa == (1, 1) else sa
        a, b = (self.b.scale(v, self.b.ones(*shape)) if self.b.shape(v) == (1, 1) else v for v in (a, b))
        m = self.b.indicator(self.b.add(a, self.b.scale(self.b.const(-1), b)), ">" if which == "max" else "<", self.env)
        rest = self.b.add(self.b.ones(*shape), self.b.scale(self.b.const(-1), m))
        return self.b.add(self.b.hadamard(m, a), self.b.hadamard(rest, b))

    def is_softmax(self, fref: FuncRef) -> bool:
        return fref.name == "softmax"

    def apply(self, fref: FuncRef, v):
        name = fref.name
        if name.startswith("generic:"):
            return self.generic(fref, v)
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

    def index_comparison(self, cond: Compare):
        """i = j, i ≠ j between bound indices (cases of a Jacobian), 1 ≤ p − j + 1 ≤ m in index
        arithmetic with a bound index: a number, 1 or 0."""
        letters = [x for side in (cond.lhs, cond.rhs) for x in _arithmetic_letters(side)]
        if not any(not x.indices and x.layer is None and x.name in self.bind for x in letters):
            return None
        sides = [self.index_number(s) if isinstance(s, (Sym, Num, Add, Neg)) else None for s in (cond.lhs, cond.rhs)]
        if None in sides:
            return None
        i, j = sides
        return {">": i > j, ">=": i >= j, "<": i < j, "<=": i <= j, "=": i == j, "!=": i != j}[cond.op]

    def rule_indicator(self, node):
        cond = node.condition
        decided = self.index_comparison(cond)
        if decided is not None:
            return self.single(node, self.b.const(int(decided)))
        label = self.label_indicator(cond)
        if label is not None:
            return self.single(node, label)
        diff = cond.lhs if isinstance(cond.rhs, Num) and cond.rhs.value == 0 else Add((cond.lhs, Neg(cond.rhs)))
        return self.mapped(
            node,
            diff,
            lambda v: self.b.indicator(v, cond.op, self.env),
            lambda t: Indicator(Compare(t, cond.op, Num(0))),
        )

    def case_decided(self, cond):
        """A cases row's condition between indices, decided (True or False), or None."""
        if isinstance(cond, Compare):
            return self.index_comparison(cond)
        factors = (cond,) if isinstance(cond, Indicator) else cond.factors if is_conjunction(cond) else None
        if factors is None:
            return None
        parts = [self.index_comparison(f.condition) for f in factors]
        return None if None in parts else all(parts)

    def case_mask(self, cond):
        """Where a cases row's condition holds: 1 or 0 in each entry (a conjunction: its indicators' product)."""
        return self.value(Indicator(cond) if isinstance(cond, Compare) else cond)

    def rule_piecewise(self, node):
        decided = [self.case_decided(cond) if cond is not None else None for _, cond in node.pieces]
        if any(d is not None for d in decided):  # cases on indices: pick the case that holds
            for (piece, cond), d in zip(node.pieces, decided):
                if d or (cond is None and not any(decided)):
                    return self.candidates_of(piece)
            return self.single(node, self.b.const(0))
        masks = [self.case_mask(cond) for _, cond in node.pieces if cond is not None]
        if not masks:
            raise ShapeError("a cases block with no condition")
        value, pieces, fixes, terms = None, [], [], []
        for piece, cond in node.pieces:
            if cond is None:
                mask = self.b.add(
                    self.b.ones(*self.b.shape(masks[0])), self.b.scale(self.b.const(-1), self.sum_values(masks))
                )
            else:
                mask = self.case_mask(cond)
            sm = self.b.shape(mask)
            chosen = None
            for cand in self.candidates_of(piece):
                sv = self.b.shape(cand.value)
                if sv == sm or sv == (1, 1) or sm == (1, 1):  # a vector case under a number's condition
                    chosen = cand
                elif self.lenient and sv[::-1] == sm:
                    chosen = Candidate(
                        self.b.T(cand.value), cand.fixes + (f"transpose {to_latex(cand.tree)}",), Transpose(cand.tree)
                    )
                if chosen is not None:
                    break
            if chosen is None:
                raise ShapeError(f"a case of {to_latex(piece)} does not fit its condition's size {sm[0]}x{sm[1]}")
            terms.append(self.elementwise_product(chosen.value, mask))
            pieces.append((chosen.tree, cond))
            fixes.extend(chosen.fixes)
        # a vector case beside a number's (0 otherwise): the number is that vector's size, each entry
        shape = next((self.b.shape(t) for t in terms if self.b.shape(t) != (1, 1)), (1, 1))
        for term in terms:
            if self.b.shape(term) == (1, 1) and shape != (1, 1):
                term = self.elementwise_product(self.b.ones(*shape), term)
            value = term if value is None else self.b.add(value, term)
        return [Candidate(value, tuple(fixes), Piecewise(tuple(pieces)))]

    def sum_values(self, values):
        total = values[0]
        for v in values[1:]:
            total = self.b.add(total, v)
        return total

    def rule_compare(self, node):
        return self.rule_indicator(Indicator(node))

    def rule_matrix(self, node):
        rows = [[self.value(e) for e in row] for row in node.rows]
        if any(self.b.shape(e) != (1, 1) for row in rows for e in row):
            raise ShapeError("matrix entries must be numbers")
        if len({len(r) for r in rows}) != 1:
            raise ShapeError("matrix rows of different lengths")
        return self.single(node, self.b.from_entries(rows))

    def generic(self, fref: FuncRef, v):
        """A generic function of the key: undefined for the exact check, its stand-in numerically."""
        function = self.env.interp.model.generic_function(fref.name)
        if self.b.name == "sympy":
            return self.b.undefined(function, v, fref.derivative)
        builtin = function.builtin
        if builtin is not None:
            stand_in = FuncRef(self.env.interp.model.function(Call(builtin, ())), None, fref.derivative)
            return self.apply(stand_in, v)
        if fref.derivative:
            raise NotationError(f"the derivative of {function.name} is not known here")
        placeholder = Sym("__argument__")
        body = substitute(function.body, {function.params[0]: placeholder})
        env = replace(self.env, objects={**self.env.objects, Ref("__argument__"): v})
        return type(self)(env, self.bind).value(self.env.interp.normalize(body))

    def rule_deriv(self, node):
        num, wrt = node.num, node.wrt
        model = self.env.interp.model
        if isinstance(num, Sym) and isinstance(wrt, Sym) and model.open_derivatives:
            try:
                of = self.env.interp.resolve(num).kind
                ref = self.env.interp.resolve(replace(wrt, indices=()))
            except NotationError:
                of, ref = None, None
            if of in model.open_derivatives and ref is not None and model.defined(ref.kind):
                value = self.env.atom(Ref(f"grad:{of}:{ref.kind}"))
                return self.single(node, self.select(value, ref, wrt.indices))
        raise NotationError(f"{to_latex(node)} is an unevaluated derivative, not a closed form")


def _arithmetic_letters(node) -> list:
    """The letters a side of a comparison adds up (p, j in p − j + 1), none inside a subscript."""
    if isinstance(node, Sym):
        return [node]
    if isinstance(node, Neg):
        return _arithmetic_letters(node.operand)
    if isinstance(node, Add):
        return [x for t in node.terms for x in _arithmetic_letters(t)]
    return []
