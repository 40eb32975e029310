"""The evaluator's rules for arithmetic (sums of terms, negation, transposes, division, powers, norms): a mixin of ``Evaluator`` (truth/evaluate.py)."""

from __future__ import annotations

from symderiv.core.errors import ShapeError, SymderivError
from symderiv.core.tree import (
    Abs,
    Add,
    Div,
    Neg,
    Norm,
    Pow,
    Sym,
    Transpose,
)
from symderiv.evaluation.candidates import Candidate
from symderiv.evaluation.rules_ones import has_free_ones
from symderiv.notation.latex import to_latex


class ArithmeticRules:
    def rule_neg(self, node):
        return self.mapped(node, node.operand, lambda v: self.b.scale(self.b.const(-1), v), Neg)

    def rule_transpose(self, node):
        return self.mapped(node, node.operand, self.b.T, Transpose)

    def rule_add(self, node):
        identities = [self.identity_term(t) for t in node.terms]
        if any(identities) and not all(identities):
            return self.add_with_identity(node, identities)
        free = [has_free_ones(t) for t in node.terms]  # 1 1ᵀ − Δ: the ones take Δ's size
        lists = [None if is_free else self.candidates_of(t) for t, is_free in zip(node.terms, free)]
        if any(free):
            anchor = self.anchor_shape(lists, free)
            lists = [
                self.fitted_or_default(t, anchor) if is_free else c for t, c, is_free in zip(node.terms, lists, free)
            ]
        out = []
        for combo in self.combinations(lists):
            target = self.b.shape(combo[0].value)
            total, fixes, trees = combo[0].value, list(combo[0].fixes), [combo[0].tree]
            ok = True
            for c in combo[1:]:
                v, tree = c.value, c.tree
                fixes += c.fixes
                if self.b.shape(v) != target and not self.broadcastable(target, self.b.shape(v)):
                    if self.lenient and self.b.shape(v)[::-1] == target:
                        v = self.b.T(v)
                        tree = Transpose(tree)
                        fixes.append(f"transpose the term {to_latex(c.tree)}")
                    else:
                        ok = False
                        break
                total = self.add_values(total, v)
                trees.append(tree)
            if ok:
                out.append(Candidate(total, tuple(fixes), Add(tuple(trees))))
            elif not self.lenient:
                shapes = " + ".join("x".join(map(str, self.b.shape(c.value))) for c in combo)
                raise ShapeError(f"terms of different sizes are added ({shapes})")
        if not out:
            raise ShapeError("the terms of the sum have sizes that do not fit")
        return self.dedupe(out)

    def identity_term(self, term) -> tuple[int, object] | None:
        """(sign, size node or None) for a term that is the identity matrix, I or I_D (−I too),
        where the key declares no symbol I; else None."""
        sign = 1
        if isinstance(term, Neg):
            sign, term = -1, term.operand
        if not (isinstance(term, Sym) and term.name == "I" and term.layer is None and len(term.indices) <= 1):
            return None
        try:
            self.env.interp.resolve(Sym("I"))
            return None
        except SymderivError:
            return (sign, term.indices[0] if term.indices else None)

    def add_with_identity(self, node, identities):
        """A sum with the identity among its terms (I − 1 1^T / D, I + A): the identity takes the
        size of the other terms, which must be square (or the size its subscript says)."""
        others = [t for t, ident in zip(node.terms, identities) if not ident]
        rest = self.candidates_of(others[0] if len(others) == 1 else Add(tuple(others)))
        out = []
        for cand in rest:
            rows, cols = self.b.shape(cand.value)
            if rows != cols:
                continue
            total = cand.value
            for sign, size in filter(None, identities):
                if size is not None and self.b.shape(self.value(size)) == (1, 1):
                    if int(float(self.value(size)[0, 0])) != rows:
                        raise ShapeError(f"{to_latex(Sym('I', None, (size,)))} added to a {rows}x{cols} matrix")
                eye = self.b.diag(self.b.ones(rows, 1))
                total = self.b.add(total, eye if sign > 0 else self.b.scale(self.b.const(-1), eye))
            out.append(Candidate(total, cand.fixes, node))
        if not out:
            raise ShapeError("the identity matrix is added to terms that are not square")
        return out

    @staticmethod
    def broadcastable(a, b):
        return (a[0] == b[0] and 1 in (a[1], b[1])) or a == (1, 1) or b == (1, 1)

    def add_values(self, a, b):
        sa, sb = self.b.shape(a), self.b.shape(b)
        if sa == sb:
            return self.b.add(a, b)
        if sa == (1, 1):
            return self.b.add(self.b.scale(a, self.b.ones(*sb)), b)
        if sb == (1, 1):
            return self.b.add(a, self.b.scale(b, self.b.ones(*sa)))
        if sa[0] == sb[0]:  # a column vector broadcast along the samples (b 1^T)
            if sa[1] == 1:
                return self.b.add(self.b.matmul(a, self.b.ones(1, sb[1])), b)
            return self.b.add(a, self.b.matmul(b, self.b.ones(1, sa[1])))
        raise ShapeError("sizes do not fit")

    def rule_div(self, node):
        out = []
        for n, d in self.combinations([self.candidates_of(node.numerator), self.candidates_of(node.denominator)]):
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

    def rule_pow(self, node):
        exponent = self.value(node.exponent)
        if self.b.shape(exponent) != (1, 1):
            raise ShapeError("a matrix exponent")
        if abs(float(exponent[0, 0])) > 64:
            raise ShapeError(f"the exponent {to_latex(node.exponent)} is too large to be meant")
        return self.mapped(node, node.base, lambda v: self.b.power(v, exponent), lambda t: Pow(t, node.exponent))

    def rule_abs(self, node):
        return self.mapped(node, node.operand, lambda v: self.b.elementwise("abs", v, self.env), Abs)

    def rule_norm(self, node):
        def frob(v):
            sq = self.b.total(self.b.hadamard(v, v))
            return (
                self.b.power(sq, self.b.const(0.5))
                if self.b.name != "sympy"
                else self.b.sp.Matrix([[self.b.sp.sqrt(sq[0, 0])]])
            )

        return self.mapped(node, node.operand, frob, lambda t: Norm(t, node.kind))
