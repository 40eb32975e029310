"""Edits of what a function or an indicator is taken of, and of powers: the bias left out of
σ(wᵀx_i) or of 1[W^{(1)}X > 0], the pre-activation written out where its activation belongs,
a power halved or doubled ((σ² + ε)^{-1} for (σ² + ε)^{-1/2})."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

from symderiv.core.errors import SymderivError
from symderiv.core.tree import Add, Call, Compare, Div, Indicator, Neg, Node, Num, Ones, Pow, Product, Sym, Transpose
from symderiv.judging.edits import Edit, EditContext, put_at, tree_paths
from symderiv.truth.mutants import replace_node

MAX_POWERS = 6


class ArgumentEdits(EditContext):
    """Arguments and powers, from the model's own equations."""

    def bias_terms(self) -> list[tuple[Node, frozenset[str]]]:
        """(term, the ids of the rest of its sum) for each bias of the model's equations: a term
        of a sum that holds one parameter vector (or number) and nothing else the model declares."""
        model = self.problem.model
        vectors = {s.id for s in model.free() if s.role == "parameter" and (len(s.shape) < 2 or 1 in s.shape)}
        sizes = {name for name, _ in self.problem.numeric_sizes} | {model.batch}
        out = []
        for eq in model.equations:
            for node in eq.rhs.walk():
                if not isinstance(node, Add) or len(node.terms) < 2:
                    continue
                for k, term in enumerate(node.terms):
                    ids = model.ids_in(term)
                    constant = not ids and not any(isinstance(n, Sym) and n.name not in sizes for n in term.walk())
                    if (len(ids) == 1 and ids <= vectors) or constant:  # b, or a margin's + 1
                        rest = model.ids_in(Add(node.terms[:k] + node.terms[k + 1 :]))
                        if rest and not rest & ids:
                            out.append((term, frozenset(rest)))
        return out

    def bias_edits(self) -> Iterator[Edit]:
        biases = self.bias_terms()
        if not biases:
            return
        seen = set()
        for node in self.tree.walk():
            if node in seen:
                continue
            seen.add(node)
            if isinstance(node, Call):
                arguments = [(argument, (k,)) for k, argument in enumerate(node.args)]
            elif isinstance(node, Indicator):
                arguments = [(node.condition.lhs, (0, 0))]
            else:
                continue
            for argument, where in arguments:
                written = self.problem.model.ids_in(argument)
                for term, rest in biases:
                    constant = not self.problem.model.ids_in(term)
                    if not written or not written <= rest or (constant and written != rest):
                        continue
                    entrywise = any(isinstance(n, Sym) and n.indices for n in argument.walk())  # w^T x_i: b alone
                    for bias in dict.fromkeys((without_ones(term), term) if entrywise else (term, without_ones(term))):
                        grown = Add((*argument.terms, bias)) if isinstance(argument, Add) else Add((argument, bias))
                        fixed = put_at(node, where, grown)
                        inside = isinstance(node, Indicator)
                        if constant:
                            code, what = ("indicator-argument" if inside else "missing-term"), "The term"
                        else:
                            code, what = ("bias-missing-in-indicator" if inside else "bias-missing"), "The bias"
                        yield Edit(
                            replace_node(self.tree, node, fixed),  # the same slip wherever it is written
                            code,
                            f"{what} {self.tex(bias)} is missing inside {self.tex(node)}: it should be {self.tex(fixed)}.",
                        )

    def threshold_edits(self) -> Iterator[Edit]:
        """1[M > 1] where 1[M > 0] belongs (the margin's 1 counted twice), in every place it is written."""
        seen = set()
        for node in self.tree.walk():
            if not isinstance(node, Indicator) or node in seen:
                continue
            seen.add(node)
            cond = node.condition
            if not isinstance(cond.rhs, Num) or cond.rhs.value == 0 or isinstance(cond.lhs, Num):
                continue
            right = Indicator(Compare(cond.lhs, cond.op, Num(0)))
            yield Edit(
                replace_node(self.tree, node, right),
                "indicator-argument",
                f"The indicator's threshold is wrong: {self.tex(node)} should be {self.tex(right)}.",
            )

    def written_parts(self) -> dict[Node, tuple[str, Node | None]]:
        """What part of a defined variable's equation a student may write for the variable: the
        argument of its activation (h_2 = tanh(W h_1 + U x_2 + b)), or a quotient's numerator or one
        factor of two (x̂ = (x − μ)/√(v + ε)) -> (the variable, the factor left out or None)."""
        model = self.problem.model
        parts: dict[Node, tuple[str, Node | None]] = {}
        for eq in model.equations:
            rhs = eq.rhs
            if isinstance(rhs, Call) and len(rhs.args) == 1 and not isinstance(rhs.args[0], Sym) and not rhs.primes:
                parts.setdefault(rhs.args[0], (eq.target, None))
            elif model.defined(eq.target) and (pair := model.activation(eq.target)) is not None:
                if model.defined(pair[1]):
                    parts.setdefault(model.equation(pair[1]).rhs, (eq.target, None))
            elif isinstance(rhs, Div) and not isinstance(rhs.numerator, (Sym, Num)):
                parts.setdefault(rhs.numerator, (eq.target, Div(Num(1), rhs.denominator)))
            elif isinstance(rhs, Product) and len(rhs.factors) == 2:
                for mine, other in (rhs.factors, rhs.factors[::-1]):
                    if not isinstance(mine, (Sym, Num)):
                        parts.setdefault(mine, (eq.target, other))
        return parts

    def written_pre_activation(self) -> Iterator[Edit]:
        """W h_1 + U x_2 + b written where h_2 = tanh(W h_1 + U x_2 + b) belongs; x − μ where
        x̂ = (x − μ)/√(v + ε) belongs (the factor 1/√(v + ε) missing)."""
        parts = self.written_parts()
        if not parts:
            return
        inside = {id(a) for n in self.tree.walk() if isinstance(n, Call) for a in n.args}
        for path, node in tree_paths(self.tree):
            if not isinstance(node, (Add, Product, Div)) or id(node) in inside:
                continue
            try:
                found = parts.get(self.interp.normalize(node))
            except SymderivError:
                continue
            if found is None:
                continue
            target, missing = found
            variable = self.written(target, None)
            if missing is None:
                code = "pre-activation-for-activation"
                message = f"{self.tex(node)} is the pre-activation where the activation {self.tex(variable)} belongs."
            else:
                code = "missing-factor"
                message = (
                    f"{self.tex(node)} is only part of {self.tex(variable)}: the factor {self.tex(missing)} is "
                    f"missing ({self.tex(variable)} belongs here)."
                )
            yield Edit(put_at(self.tree, path, variable), code, message)

    def power_edits(self) -> Iterator[Edit]:
        """A power of a sum of symbols halved or doubled: a variance where the standard deviation belongs."""
        tried = 0
        for path, node in tree_paths(self.tree):
            if tried >= MAX_POWERS:
                return
            if isinstance(node, Pow) and any(isinstance(n, Sym) for n in node.base.walk()):
                value = number(node.exponent)
                if value is None:
                    continue
                candidates = [Pow(node.base, exponent(value / 2)), Pow(node.base, exponent(value * 2))]
            elif isinstance(node, Div) and any(isinstance(n, Sym) for n in node.denominator.walk()):
                root = Pow(node.denominator, exponent(Fraction(1, 2)))
                candidates = [Div(node.numerator, root)]
            else:
                continue
            tried += 1
            for fixed in candidates:
                yield Edit(
                    put_at(self.tree, path, fixed),
                    "wrong-power",
                    f"The power is wrong: {self.tex(node)} should be {self.tex(fixed)}.",
                )


def without_ones(term: Node) -> Node:
    """b for b 1_N^T: the bias of one sample."""
    if not isinstance(term, Product):
        return term
    kept = [(f, op) for f, op in zip(term.factors, ("juxt", *term.ops)) if not is_ones(f)]
    if not kept:
        return term
    if len(kept) == 1:
        return kept[0][0]
    return Product(tuple(f for f, _ in kept), tuple(op for _, op in kept[1:]))


def is_ones(node: Node) -> bool:
    return isinstance(node.operand if isinstance(node, Transpose) else node, Ones)


def number(node: Node) -> Fraction | None:
    if isinstance(node, Num) and not isinstance(node.value, float):
        return Fraction(node.value)
    if isinstance(node, Neg):
        inner = number(node.operand)
        return -inner if inner is not None else None
    if isinstance(node, Div):
        top, bottom = number(node.numerator), number(node.denominator)
        return top / bottom if top is not None and bottom else None
    return None


def exponent(value: Fraction) -> Node:
    if value < 0:
        return Neg(exponent(-value))
    if value.denominator == 1:
        return Num(int(value))
    return Div(Num(value.numerator), Num(value.denominator))
