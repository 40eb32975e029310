"""Edits of a claim's terms and coefficients: the regulariser (inside the bracket, over N), 1/N (on one term, missing), the sign of a term, a term extra or missing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from symderiv.answerkey.problem import Problem, Quantity
from symderiv.core.errors import SymderivError
from symderiv.core.tree import (
    Add,
    Div,
    Neg,
    Node,
    Num,
    Product,
    Sum,
    Sym,
)
from symderiv.judging.edits import (
    Edit,
    EditContext,
    in_scripts,
    put_at,
    tree_paths,
)
from symderiv.notation.parse import parse
from symderiv.truth.mutants import regulariser_gradient, regulariser_terms
from symderiv.truth.reference import layer_bindings, target


class TermEdits(EditContext):
    """The regulariser, 1/N, signs and whole terms."""

    def regulariser_edits(self) -> Iterator[Edit]:
        q = self.quantity
        if q.kind != "gradient" or not q.wrt:
            return
        for path, node in tree_paths(self.tree):
            if not isinstance(node, Product) or not any(isinstance(f, Add) for f in node.factors):
                continue
            for k, factor in enumerate(node.factors):
                if not isinstance(factor, Add):
                    continue
                reg = [t for t in factor.terms if self.regularising(t)]
                rest = [t for t in factor.terms if t not in reg]
                if len(reg) == 1 and rest:
                    inner = rest[0] if len(rest) == 1 else Add(tuple(rest))
                    scaled = replace(node, factors=node.factors[:k] + (inner,) + node.factors[k + 1 :])
                    yield Edit(
                        put_at(self.tree, path, Add((scaled, reg[0]))),
                        "regularisation-inside-bracket",
                        f"The regularisation term {self.tex(reg[0])} is inside the bracket, so it is scaled "
                        f"too; it belongs outside: … + {self.tex(reg[0])}.",
                    )
        right = self.right_regulariser()
        batch = self.problem.model.batch
        terms = self.tree.terms if isinstance(self.tree, Add) else ()
        for k, term in enumerate(terms):
            if right is not None and batch and self.regularising(term):
                fixed = Add(terms[:k] + (right,) + terms[k + 1 :])
                if any(isinstance(n, Sym) and n.name == batch for n in term.walk()):
                    yield Edit(
                        fixed,
                        "regularisation-over-N",
                        f"The regularisation term is divided by {batch} ({self.tex(term)}): the regulariser is "
                        f"not averaged over the samples, so its gradient is {self.tex(right)}.",
                    )

    def right_regulariser(self) -> Node | None:
        """The regulariser's gradient with respect to the quantity's parameter (2λW^{(2)})."""
        bindings = dict(layer_bindings(self.quantity)[0])
        try:
            of, wrt = (
                target(self.problem, self.quantity.of, bindings),
                target(self.problem, self.quantity.wrt, bindings),
            )
        except SymderivError:
            return None
        for eq, _, term in regulariser_terms(self.problem, of):
            if wrt in self.problem.model.ids_in(term):
                return regulariser_gradient(self.problem, of, wrt, eq, term)
        return None

    def one_over_n_edits(self) -> Iterator[Edit]:
        tree, batch = self.tree, self.problem.model.batch
        if not isinstance(tree, Add) or not batch:
            return
        one_over_n = Div(Num(1), Sym(batch))
        for k, term in enumerate(tree.terms):
            if isinstance(term, Product) and isinstance(term.factors[0], Div) and term.factors[0] == one_over_n:
                rest = term.factors[1:]
                inner = rest[0] if len(rest) == 1 else Product(rest, term.ops[1:])
                whole = Product((term.factors[0], Add(tree.terms[:k] + (inner,) + tree.terms[k + 1 :])), ("juxt",))
                yield Edit(
                    whole,
                    "1/N-on-one-term",
                    f"The 1/{batch} applies to the whole bracket, not only to {self.tex(inner)}.",
                )
        yield from self.missing_one_over_n()

    def missing_one_over_n(self) -> Iterator[Edit]:
        """The data term without its 1/N beside a regulariser (X^T(ŷ − y) + λw): the whole claim
        off by a factor N is named by the numeric comparison, one term of a sum only here."""
        batch = self.problem.model.batch
        if not isinstance(self.tree, Add) or not batch:
            return
        one_over_n = Div(Num(1), Sym(batch))
        for k, term in enumerate(self.tree.terms):
            if any(n == Sym(batch) for n in term.walk()):
                continue
            negated = isinstance(term, Neg)
            inner = term.operand if negated else term
            scaled = Product((one_over_n, inner), ("juxt",))
            edited = Add(self.tree.terms[:k] + (Neg(scaled) if negated else scaled,) + self.tree.terms[k + 1 :])
            yield Edit(edited, "missing-1/N", f"The factor 1/{batch} is missing on {self.tex(inner)}.")

    def sum_bounds(self) -> Iterator[Edit]:
        """Σ_{i=1}^{N-1} or Σ_{i=2}^{N} where the sum runs over every i."""
        for path, node in tree_paths(self.tree):
            if (
                isinstance(node, Sum)
                and node.index is not None
                and (node.lower not in (None, Num(1)) or isinstance(node.upper, Add))
            ):
                upper = node.upper.terms[0] if isinstance(node.upper, Add) else node.upper
                fixed = replace(node, lower=Num(1) if node.lower is not None else None, upper=upper)
                yield Edit(
                    put_at(self.tree, path, fixed),
                    "sum-bounds",
                    f"The sum runs over the wrong range: {self.tex(node)} should be {self.tex(fixed)}.",
                )

    def term_signs(self) -> Iterator[Edit]:
        scripts = in_scripts(self.tree)
        for path, node in tree_paths(self.tree):
            if id(node) in scripts:
                continue
            if isinstance(node, Add) and len(node.terms) > 1:
                for k, term in enumerate(node.terms):
                    flipped = term.operand if isinstance(term, Neg) else Neg(term)
                    shown = self.tex(flipped if isinstance(term, Neg) else term)
                    regulariser = self.regularising(term)
                    yield Edit(
                        put_at(self.tree, path, replace(node, terms=node.terms[:k] + (flipped,) + node.terms[k + 1 :])),
                        "regularisation-sign" if regulariser else "sign-of-term",
                        f"The regularisation term has the wrong sign: it is + {shown}."
                        if regulariser
                        else f"The sign of the term {shown} is wrong.",
                    )

    def extra_terms(self) -> Iterator[Edit]:
        """A term that does not belong (an extra recurrent term): the claim is right without it."""
        scripts = in_scripts(self.tree)
        for path, node in tree_paths(self.tree):
            if isinstance(node, Add) and 1 < len(node.terms) <= 6 and id(node) not in scripts:
                for k, term in enumerate(node.terms):
                    rest = node.terms[:k] + node.terms[k + 1 :]
                    fixed = rest[0] if len(rest) == 1 else Add(rest)
                    shown = term.operand if isinstance(term, Neg) else term
                    yield Edit(
                        put_at(self.tree, path, fixed),
                        "extra-term",
                        f"The term {self.tex(shown)} does not belong here (without it the claim is right).",
                    )

    def missing_terms(self) -> Iterator[Edit]:
        """A term of the answer left out (word2vec's −u_o, BCE's (1 − y) term): the key's own closed
        form, its products spread over its sums, gives the terms; one of them added makes it right."""
        for term in key_terms(self.problem, self.quantity):
            negated = isinstance(term, Neg)
            shown = term.operand if negated else term
            yield Edit(
                Add((self.tree, term)),
                "missing-term",
                f"A term is missing: {'−' if negated else '+'} {self.tex(shown)} (with it the claim is right).",
            )


MAX_TERMS = 8


def key_terms(problem: Problem, quantity: Quantity) -> list[Node]:
    """The additive terms of the key's closed form for the quantity, products spread over sums:
    U(ŷ − y) gives Uŷ and −Uy."""
    try:
        tree = parse(quantity.claim)
    except SymderivError:
        return []
    terms = spread(tree)
    return terms if 1 < len(terms) <= MAX_TERMS else []


def spread(node: Node) -> list[Node]:
    """Additive terms of a tree with products (and quotients) spread over the sums they hold."""
    if isinstance(node, Add):
        return [t for term in node.terms for t in spread(term)]
    if isinstance(node, Neg):
        return [t.operand if isinstance(t, Neg) else Neg(t) for t in spread(node.operand)]
    if isinstance(node, Product):
        for k, factor in enumerate(node.factors):
            inner = spread(factor)
            if len(inner) > 1:
                out = []
                for t in inner:
                    negated = isinstance(t, Neg)
                    factors = node.factors[:k] + (t.operand if negated else t,) + node.factors[k + 1 :]
                    for part in spread(Product(factors, node.ops)):
                        out.append(
                            part.operand if negated and isinstance(part, Neg) else Neg(part) if negated else part
                        )
                return out
    if isinstance(node, Div):
        inner = spread(node.numerator)
        if len(inner) > 1:
            return [
                Neg(Div(t.operand, node.denominator)) if isinstance(t, Neg) else Div(t, node.denominator) for t in inner
            ]
    return [node]
