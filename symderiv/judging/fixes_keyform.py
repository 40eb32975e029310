"""Edits from the key's own closed form: a claim written like the key but for one or two parts is
named by them (X where X̂ belongs, a factor γ missing, (σ² + ε)^{-1} for (σ² + ε)^{-1/2})."""

from __future__ import annotations

from collections.abc import Iterator

from symderiv.core.errors import SymderivError
from symderiv.core.tree import Call, Div, Indicator, Neg, Node, Num, Ones, Pow, Sym, Transpose, map_children
from symderiv.judging.edits import (
    FLIP,
    Edit,
    EditContext,
    derivative_form,
    node_at,
    put_at,
)
from symderiv.judging.fixes_terms import MAX_TERMS, spread
from symderiv.judging.keyform import Difference, comparable, differences

MAX_SWAPS = 6
COMPLEMENT = {">": "<=", ">=": "<", "<": ">=", "<=": ">"}
MAX_UNIFORM = 12  # entries of a matrix written out, each with the same kind of slip
# the slips that are one mistake when made in every entry (an indicator reversed in each row)
UNIFORM = frozenset(
    {
        "reversed-indicator",
        "indicator-argument",
        "missing-activation-derivative",
        "wrong-activation-derivative",
        "extra-activation-derivative",
    }
)


def map_syms(tree: Node, fn) -> Node:
    if isinstance(tree, Sym):
        return fn(tree)
    return map_children(tree, lambda child: map_syms(child, fn))


class KeyFormEdits(EditContext):
    """The claim against the key's closed form, part by part."""

    def key_form_edits(self) -> Iterator[Edit]:
        key = self.key_form()
        if key is None:
            return
        found = differences(self.tree, key, self.same)
        if found is None:  # the same slip in every entry of a matrix (each indicator reversed, say)
            found = differences(self.tree, key, self.same, limit=MAX_UNIFORM)
            if found is None or {self.name(d, key)[0] for d in found} - UNIFORM:
                return
        if not found:
            return
        fixed = self.tree
        for d in found:
            fixed = put_at(fixed, d.path, d.key)
        contexts = [self.derivative_context(key, d) for d in found]
        if all(contexts):
            yield Edit(fixed, *self.wrong_derivative(contexts))
        elif len(found) == 2 and all(self.both_variables(d) for d in found):
            yield Edit(fixed, *self.two_variables(*found))
        else:
            named = [self.name(d, key) for d in found]
            messages = list(dict.fromkeys(m for _, m in named))
            if len(messages) == 1 and len(found) > 1:  # the same slip in every place: g where g ⊙ γ belongs
                yield Edit(fixed, named[0][0], f"{messages[0]} (in each of the {len(found)} places)")
            elif len(found) <= 2:
                yield Edit(fixed, named[0][0], " ".join(messages))
            elif len({code for code, _ in named}) == 1 and named[0][0] in UNIFORM:  # one slip, entry by entry
                yield Edit(fixed, named[0][0], f"{messages[0]} The same in each of the {len(found)} entries.")

    def key_variable_edits(self) -> Iterator[Edit]:
        """A variable of the claim that the key's answer does not use, where one it uses and the
        claim does not belongs (u_w where v_c belongs, z_i where ŷ_i belongs), whatever the layout."""
        key = self.key_form()
        if key is None:
            return
        table = self.problem.model.symbol_table

        def variables(tree: Node) -> dict:
            """The model's arrays a tree writes (not a class index such as o, not a hyperparameter)."""
            out = {}
            for n in tree.walk():
                found = table.get(self.resolve(n) or "") if isinstance(n, Sym) else None
                if (
                    found is not None
                    and (found.shape or found.role in ("columns", None))  # u_w (a column of U), a defined z
                    and found.role != "hyperparameter"
                    and found.labels != "index"
                ):
                    out.setdefault(found.id, (n, found.role))
            return out

        theirs, mine = variables(key), variables(self.tree)
        pairs = [
            (a, ra, b)
            for ra, (a, role_a) in mine.items()
            if ra not in theirs
            for rb, (b, role_b) in theirs.items()
            if rb not in mine
        ]
        pairs = [(a, ra, b) for a, ra, b in pairs if not self.other_shapes(ra, self.resolve(b))]
        pairs.sort(key=lambda p: table[p[1]].role != table[self.resolve(p[2])].role)
        for a, rid, b in pairs[:MAX_SWAPS]:
            for new in dict.fromkeys((Sym(b.name, b.layer, a.indices, b.decor), b)):
                fixed = map_syms(
                    self.tree,
                    lambda n, a=a, rid=rid, new=new: new if self.resolve(n) == rid and n.indices == a.indices else n,
                )
                yield Edit(fixed, *self.variable(a, new))

    def other_shapes(self, first: str, second: str) -> bool:
        """Both declared with shapes, and different ones (X, D×N, is never where W^{(2)}, C×H, belongs)."""
        sizes = dict(self.problem.numeric_sizes)
        table = self.problem.model.symbol_table
        shapes = [tuple(sizes.get(e, e) for e in table[sid].shape) for sid in (first, second)]
        return all(shapes) and shapes[0] != shapes[1]

    def wrong_derivative(self, contexts: list[tuple[Node, Node]]) -> tuple[str, str]:
        parts = dict.fromkeys(contexts)
        if all(isinstance(mine, Call) and mine.primes == 0 for mine, _ in parts):
            shown = " ".join(
                f"{self.tex(mine)} is the activation where its derivative {self.tex(theirs)} belongs."
                for mine, theirs in parts
            )
            return "activation-for-derivative", shown
        shown = " ".join(
            f"{self.tex(mine)} is not the activation's derivative here: it should be {self.tex(theirs)}."
            for mine, theirs in parts
        )
        return "wrong-activation-derivative", shown

    def derivative_context(self, key: Node, d: Difference) -> tuple[Node, Node] | None:
        """(the claim's part, the key's) when the difference lies in an activation's derivative
        (1 − h_1 ⊙ h_1 where 1 − h_2 ⊙ h_2 belongs): named as the wrong derivative, not as a variable."""
        if self.indicator_context(key, d) is not None:
            return None  # named by its condition: reversed, or of the wrong argument
        for depth in range(len(d.path), max(len(d.path) - 4, -1), -1):
            theirs = node_at(key, d.path[:depth])
            if derivative_form(theirs):
                return node_at(self.tree, d.path[:depth]), theirs
        return None

    def whole_term(self, d: Difference, key: Node) -> Node | None:
        """The term of the whole answer a term missing inside a product stands for (−U y for the y
        of U(ŷ − y)), when the products spread over the sums give just one more."""
        fixed = put_at(self.tree, d.path, d.key)
        mine, theirs = spread(self.tree), spread(fixed)
        if len(theirs) != len(mine) + 1 or len(mine) > MAX_TERMS:
            return None
        extra = [t for t in theirs if not any(self.same(t, m) for m in mine)]
        return extra[0] if len(extra) == 1 else None

    def indicator_context(self, key: Node, d: Difference) -> tuple[Indicator, Indicator] | None:
        """(the claim's indicator, the key's) when the difference lies in an indicator's condition."""
        for depth in range(len(d.path), max(len(d.path) - 4, -1), -1):
            mine, theirs = node_at(self.tree, d.path[:depth]), node_at(key, d.path[:depth])
            if isinstance(mine, Indicator) and isinstance(theirs, Indicator):
                return mine, theirs
        return None

    def same(self, a: Node, b: Node) -> bool:
        """The same part, whatever the spelling: z^{(2)} and Z^{(2)}, \\mathbf{1} and \\mathbf{1}_N."""
        if a == b:
            return True
        if isinstance(a, Sym) and isinstance(b, Sym):
            ra = self.resolve(a)
            if ra is not None and ra == self.resolve(b) and a.indices == b.indices:
                return True
            try:  # v_c written as a label or as a subscript, h_1 as a step: the same symbol
                return self.interp.normalize(a) == self.interp.normalize(b)
            except SymderivError:
                return False
        if isinstance(a, Ones) and isinstance(b, Ones):
            return a.size is None or b.size is None
        return comparable(a, b) and all(self.same(x, y) for x, y in zip(a.children(), b.children()))

    @staticmethod
    def both_variables(d: Difference) -> bool:
        return d.kind == "replaced" and isinstance(d.claim, Sym) and isinstance(d.key, Sym)

    def name(self, d: Difference, key: Node) -> tuple[str, str]:
        inside = self.indicator_context(key, d)
        if inside is not None:
            return self.replaced(*inside, self.tex(inside[0]), self.tex(inside[1]))
        mine, theirs = self.tex(d.claim), self.tex(d.key)
        if d.kind in ("missing-factor", "extra-factor"):
            part = self.tex(d.part)
            derivative = derivative_form(d.part)
            if d.kind == "missing-factor":
                code = "missing-activation-derivative" if derivative else "missing-factor"
                return code, f"A factor is missing: {part} (with it the claim is right)."
            code = "extra-activation-derivative" if derivative else "extra-factor"
            return code, f"There is an extra factor: {part} (without it the claim is right)."
        if d.kind in ("missing-term", "extra-term"):
            negated = isinstance(d.part, Neg)
            part = self.tex(d.part.operand if negated else d.part)
            if d.kind == "missing-term":
                code = "missing-regularisation" if self.regularising(d.part) else "missing-term"
                whole = self.whole_term(d, key)
                if whole is not None:
                    negated, part = isinstance(whole, Neg), self.tex(whole.operand if isinstance(whole, Neg) else whole)
                return code, f"A term is missing: {'−' if negated else '+'} {part} (with it the claim is right)."
            return "extra-term", f"The term {part} does not belong here (without it the claim is right)."
        if d.kind == "sign":
            code = "regularisation-sign" if self.regularising(d.claim) else "sign-of-term"
            return code, f"The sign is wrong: {mine} should be {theirs}."
        return self.replaced(d.claim, d.key, mine, theirs)

    def replaced(self, a: Node, b: Node, mine: str, theirs: str) -> tuple[str, str]:
        if isinstance(a, Sym) and isinstance(b, Sym):
            return self.variable(a, b)
        label = self.problem.model.symbol_table.get(self.resolve(b) or "")
        if (isinstance(a, Ones) or a == Num(1)) and label is not None and label.role == "label":
            return "only-one-case", (
                f"{mine} where the label {theirs} belongs: this holds only for the label's own class "
                f"(where {theirs} is 1), not for the others."
            )
        if isinstance(a, Indicator) and isinstance(b, Indicator):
            ca, cb = a.condition, b.condition
            reversed_op = cb.op in (FLIP.get(ca.op), COMPLEMENT.get(ca.op))  # a < b for a > b, or for a ≥ b
            if reversed_op and self.same(ca.lhs, cb.lhs) and self.same(ca.rhs, cb.rhs):
                return "reversed-indicator", f"The indicator is reversed: {mine} should be {theirs}."
            return "indicator-argument", f"The indicator's condition is wrong: {mine} should be {theirs}."
        if (isinstance(b, Transpose) and self.same(a, b.operand)) or (
            isinstance(a, Transpose) and self.same(a.operand, b)
        ):
            return "transposed-factor", f"{mine} should be {theirs} here (a square factor transposed)."
        if isinstance(a, Pow) and isinstance(b, Pow) and self.same(a.base, b.base):
            return "wrong-power", f"The power is wrong: {mine} should be {theirs}."
        if all(isinstance(n, (Num, Div)) and not any(isinstance(x, Sym) for x in n.walk()) for n in (a, b)):
            return "coefficient", f"The coefficient {mine} should be {theirs}."
        if isinstance(a, Call) and isinstance(b, Call) and len(a.args) == len(b.args):
            if all(self.same(x, y) for x, y in zip(a.args, b.args)):
                if b.primes > a.primes and a.func == b.func:
                    return (
                        "activation-for-derivative",
                        f"{mine} is the activation where its derivative {theirs} belongs.",
                    )
                return "wrong-activation", f"{mine} is the wrong function here: it should be {theirs}."
        return "wrong-part", f"{mine} should be {theirs} (with it the claim is right)."

    def variable(self, a: Sym, b: Sym) -> tuple[str, str]:
        """z for ŷ, h_1 for h_0, X for X̂: which variable was written where another belongs."""
        ra, rb = self.resolve(a), self.resolve(b)
        mine, theirs = self.tex(a), self.tex(b)
        if any(s.u == ra and s.t == rb for s in self.stages):
            return (
                "pre-activation-for-activation",
                f"{mine} is the pre-activation where the activation {theirs} belongs.",
            )
        if a.name == b.name and a.layer != b.layer and self.brackets == "_":  # h_1, h_2: steps of a recurrence
            return "wrong-time-step", f"{mine} is from the wrong step: {theirs} belongs here."
        if a.name == b.name and a.layer != b.layer:
            return "wrong-layer", f"{mine} is from the wrong layer: {theirs} belongs here."
        if a.name == b.name and a.indices != b.indices:  # x_3 for x_1: an entry, not a step
            return "wrong-index", f"{mine} is written where {theirs} belongs (a wrong index)."
        return "wrong-variable", f"{mine} is written where {theirs} belongs."

    def two_variables(self, first: Difference, second: Difference) -> tuple[str, str]:
        code, message = self.variable(first.claim, first.key)
        if self.same(first.claim, second.key) and self.same(second.claim, first.key):
            return code, f"{self.tex(first.claim)} and {self.tex(second.claim)} are swapped."
        _, other = self.variable(second.claim, second.key)
        return code, f"{message} {other}"
