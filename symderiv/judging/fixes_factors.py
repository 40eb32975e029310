"""Edits of a claim's factors: a square factor transposed, an extra factor, a weight or a given mask left out."""

from __future__ import annotations

from collections.abc import Iterator

from symderiv.core.errors import SymderivError
from symderiv.core.tree import (
    Div,
    Indicator,
    Node,
    Num,
    Ones,
    Product,
    Sym,
    Transpose,
)
from symderiv.judging.edits import (
    Edit,
    EditContext,
    is_derivative_like,
    put_at,
    sigmoid_derivative_pattern,
    tree_paths,
)
from symderiv.notation.parse import parse


class FactorEdits(EditContext):
    """Transposed, extra and missing factors."""

    def transposed_factors(self) -> Iterator[Edit]:
        """A square factor transposed (W where Wᵀ belongs): the claim typechecks either way, so this
        is a mistake, not a matter of layout; named when transposing it back makes the claim right."""
        for path, node in tree_paths(self.tree):
            if isinstance(node, Transpose) and isinstance(node.operand, Sym) and self.square(node.operand):
                fixed: Node = node.operand
            elif isinstance(node, Sym) and not node.indices and self.square(node):
                fixed = Transpose(node)
            else:
                continue
            yield Edit(
                put_at(self.tree, path, fixed),
                "transposed-factor",
                f"{self.tex(node)} should be {self.tex(fixed)} here (the claim typechecks either way, since "
                f"{self.tex(fixed.operand if isinstance(fixed, Transpose) else fixed)} is square).",
            )

    def wrong_axis(self) -> Iterator[Edit]:
        """A sum over the wrong axis: G 1_D (over the features) where Gᵀ 1_N (over the samples) belongs."""
        sizes = [name for name, _ in self.problem.numeric_sizes]
        for path, node in tree_paths(self.tree):
            if not isinstance(node, Product) or len(node.factors) != 2:
                continue
            first, second = node.factors
            for ones, other, after in ((second, first, True), (first, second, False)):
                bare = ones.operand if isinstance(ones, Transpose) else ones
                if not isinstance(bare, Ones) or isinstance(other, Ones):
                    continue
                flipped = other.operand if isinstance(other, Transpose) else Transpose(other)
                for name in sizes:
                    if bare.size == Sym(name):
                        continue
                    summed = Ones(Sym(name))
                    summed = Transpose(summed) if isinstance(ones, Transpose) else summed
                    fixed = Product((flipped, summed) if after else (summed, flipped), node.ops)
                    yield Edit(
                        put_at(self.tree, path, fixed),
                        "wrong-axis",
                        f"The sum is over the wrong axis: {self.tex(node)} should be {self.tex(fixed)}.",
                    )

    def dropped_factors(self) -> Iterator[Edit]:
        for path, node in tree_paths(self.tree):
            if not isinstance(node, Product):
                continue
            n = len(node.factors)
            spans = [(k, k + 1) for k in range(n)] + [(k, k + 2) for k in range(n - 1)]
            for lo, hi in spans:
                if hi - lo == n:
                    continue
                kept = node.factors[:lo] + node.factors[hi:]
                ops = (node.ops[: lo - 1] + node.ops[hi - 1 :]) if lo > 0 else node.ops[hi:]
                fixed = kept[0] if len(kept) == 1 else Product(kept, ops[: len(kept) - 1])
                dropped = node.factors[lo:hi]
                shown = self.tex(dropped[0] if len(dropped) == 1 else Product(dropped, node.ops[lo : hi - 1]))
                if all(isinstance(f, (Num, Div)) and not any(isinstance(x, Sym) for x in f.walk()) for f in dropped):
                    continue  # a stray number is a coefficient, named elsewhere
                derivative = any(is_derivative_like(f) for f in dropped) or sigmoid_derivative_pattern(
                    Product(dropped, node.ops[lo : hi - 1]) if len(dropped) > 1 else dropped[0]
                )
                if len(dropped) == 1 and self.index_condition(dropped[0]):
                    yield Edit(
                        put_at(self.tree, path, fixed),
                        "missing-term",
                        f"The condition {shown} leaves out a term: the sum runs over every value (with it "
                        "the claim is right).",
                    )
                    continue
                code = "extra-activation-derivative" if derivative else "extra-factor"
                what = "an activation derivative" if derivative else "a factor"
                yield Edit(
                    put_at(self.tree, path, fixed),
                    code,
                    f"There is an extra factor: {shown} ({what} that does not belong here; without it the "
                    "claim is right).",
                )

    @staticmethod
    def index_condition(node: Node) -> bool:
        """1[w ≠ o]: a condition on index letters (a sum over j ≠ y_i), not on the model's values."""
        if not isinstance(node, Indicator) or node.condition.op != "!=":
            return False
        return all(isinstance(s, Sym) and not s.indices for s in (node.condition.lhs, node.condition.rhs))

    def weights(self) -> list[Sym]:
        """The problem's weight matrices as its own keys write them (W^{[1]}, w^{[2]})."""
        if "weights" in self.memo:
            return self.memo["weights"]
        out = self.memo["weights"] = []
        model = self.problem.model
        for q in self.problem.quantities:
            try:
                node = parse(q.wrt) if q.wrt else None
            except SymderivError:
                continue
            found = model.symbol_table.get(self.resolve(node) or "") if isinstance(node, Sym) else None
            if (
                found is not None
                and found.role == "parameter"
                and len(found.shape) == 2
                and found.shape[1] != 1
                and not node.indices
                and node not in out
            ):
                out.append(node)
        return out

    def key_factors(self) -> list[Sym]:
        """The given masks the key's own closed form multiplies by (inverted dropout's m)."""
        if "key_factors" in self.memo:
            return self.memo["key_factors"]
        self.memo["key_factors"] = out = []
        tree = self.key_form()
        if tree is None:
            return out
        model = self.problem.model
        for n in tree.walk():
            if isinstance(n, Sym) and not n.indices and n not in out:
                found = model.symbol_table.get(self.resolve(n) or "")
                if found is not None and found.role == "mask":
                    out.append(n)
        return out

    def missing_weight(self) -> Iterator[Edit]:
        """A weight (or its transpose) left out of a product: w^{[2]T} missing from (a^{[2]} − y) 1[z^{[1]} > 0]."""
        if self.quantity.indices:
            return
        for path, node in tree_paths(self.tree):
            if not isinstance(node, Product):
                continue
            for k in range(len(node.factors) + 1):
                for weight in self.weights() + self.key_factors():
                    for factor in (Transpose(weight), weight) if weight in self.weights() else (weight,):
                        factors = node.factors[:k] + (factor,) + node.factors[k:]
                        ops = node.ops[:k] + ("juxt",) + node.ops[k:]
                        yield Edit(
                            put_at(self.tree, path, Product(factors, ops[: len(factors) - 1])),
                            "missing-factor",
                            f"A factor is missing: {self.tex(factor)} (with it the claim is right).",
                        )
