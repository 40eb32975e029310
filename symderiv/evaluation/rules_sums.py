"""The evaluator's rules for sums (over samples or over an index): a mixin of ``Evaluator`` (truth/evaluate.py)."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

from symderiv.core.errors import NotationError, ShapeError, UnboundIndexError
from symderiv.core.tree import (
    Add,
    Neg,
    Node,
    Num,
    Pow,
    Sum,
    Sym,
    map_children,
)
from symderiv.evaluation.candidates import Candidate

MAX_SUM_COUNT = 10**15  # terms of a sum whose body does not use its index (K c, no loop)
MAX_SUM_TERMS = 2000  # terms evaluated one by one, over all sums nested in each other
NESTED_TERMS = "__nested_terms__"
EXTENT = "__extent__:"  # EXTENT + j -> how many values the index j of an enclosing sum runs over (e_j's size)


def strip_subscripts(node: Node) -> Node:
    """The tree without its symbols' subscripts: where an index is used as a number."""
    if isinstance(node, Sym):
        return replace(node, indices=())
    return map_children(node, strip_subscripts)


def names(node: Node) -> set[str]:
    return {n.name for n in node.walk() if isinstance(n, Sym)}


class SumRules:
    def rule_sum(self, node):
        node = self.one_based(node)
        if node.index is None or node.over is not None or self.is_sample_bound(node):
            return self.sample_sum(node)
        extent = self.extent(node.body, node.index)
        first = 0
        if node.upper is not None:
            upper = self.sum_bound(node.upper, node.index, "upper")
            lower = 1 if node.lower is None else self.sum_bound(node.lower, node.index, "lower")
            if upper < lower:
                raise ShapeError(f"the sum over {node.index} from {lower} to {upper} has no terms")
            if not self.uses_index(node.body, node.index):  # Σ_{k=1}^{K} c = K c: no loop
                count = upper - lower + 1
                if count > MAX_SUM_COUNT:
                    raise ShapeError(f"the sum over {node.index} has {count} terms (more than {MAX_SUM_COUNT:.0e})")
                return self.single(node, self.sub(node.index, lower - 1).value(node.body) * count)
            if extent is not None and (upper > extent or lower < 1):
                raise ShapeError(
                    f"the sum over {node.index} runs from {lower} to {upper} but the index ranges over 1..{extent}"
                )
            if extent is not None and upper != extent and lower == 1:
                raise ShapeError(f"the sum over {node.index} runs to {upper} but the index ranges over {extent}")
            first, extent = lower - 1, upper  # Σ_{i=2}^{N}: the terms from the second on, never all of them
        if extent is None:
            raise UnboundIndexError(f"cannot tell what the index {node.index} of the sum runs over")
        nested = self.nested_terms(node.index, extent - first)
        total = None
        for k in range(first, extent):
            bind = {**self.bind, node.index: k, EXTENT + node.index: extent, NESTED_TERMS: nested}
            v = type(self)(self.env, bind, lenient=False).value(node.body)
            total = v if total is None else self.add_values(total, v)
        if total is None:
            raise ShapeError(f"the sum over {node.index} has no terms")
        return self.single(node, total)

    def one_based(self, node: Sum) -> Sum:
        """Σ_{i=0}^{N-1} over bare subscripts x_i is Σ_{i=1}^{N}: the same terms, numbered from 0.
        With the index in arithmetic (x_{i+1}) or as a number the numbering matters: undecided."""
        upper = node.upper
        if not (
            node.lower == Num(0) and isinstance(upper, Add) and len(upper.terms) == 2 and upper.terms[1] == Neg(Num(1))
        ):
            return node
        mentions = [
            part for n in node.body.walk() if isinstance(n, Sym) for part in n.indices if node.index in names(part)
        ]
        bare = all(part == Sym(node.index) for part in mentions)
        as_value = node.index in names(strip_subscripts(node.body))
        if not bare or as_value:
            raise UnboundIndexError(f"the sum over {node.index} counts from 0: its subscripts' numbering is ambiguous")
        return replace(node, lower=None, upper=upper.terms[0])

    def size_name_width(self, node) -> int | None:
        """A size name of the problem (C, H, D, n_l) as a sum bound: its value here."""
        if not isinstance(node, Sym) or node.layer is not None or node.name == self.env.interp.model.batch:
            return None
        try:
            ref = self.env.interp.resolve(node)
        except NotationError:
            return None
        if ref.kind not in dict(self.env.interp.problem.numeric_sizes) or ref not in self.env.objects:
            return None
        return int(self.env.objects[ref][0, 0])

    def nested_terms(self, index: str, extent: int) -> int:
        """Terms evaluated one by one by this sum and the sums around it: refused beyond MAX_SUM_TERMS."""
        nested = self.bind.get(NESTED_TERMS, 1) * extent
        if nested > MAX_SUM_TERMS:
            raise ShapeError(
                f"the sums over {index} and the sums around it have {nested} terms "
                f"together (more than {MAX_SUM_TERMS}): nested too deeply to evaluate"
            )
        return nested

    def sub(self, index: str, position: int):
        return type(self)(self.env, {**self.bind, index: position}, lenient=False)

    def sum_bound(self, node: Node, index: str, which: str) -> int:
        """A numeric bound of a sum, as an exact integer (never a float: 10^{400} is a clear refusal)."""
        width = self.size_name_width(node)
        if width is not None:
            return width
        if isinstance(node, Num) and Fraction(node.value).denominator == 1:
            return int(node.value)
        if isinstance(node, Pow) and isinstance(node.base, Num) and isinstance(node.exponent, Num):
            base, exponent = Fraction(node.base.value), Fraction(node.exponent.value)
            if base.denominator == exponent.denominator == 1 and 0 <= exponent <= 64:
                return int(base) ** int(exponent)
        try:
            value = float(self.value(node)[0, 0])
        except (OverflowError, TypeError) as exc:
            raise ShapeError(f"the {which} bound of the sum over {index} is not a usable number ({exc})") from None
        if not value.is_integer() or abs(value) > 2**53:
            raise ShapeError(f"the {which} bound of the sum over {index} is not an integer ({value:g})")
        return int(value)

    @staticmethod
    def uses_index(body: Node, index: str) -> bool:
        return any(isinstance(n, Sym) and n.name == index for n in body.walk())

    def is_sample_bound(self, node: Sum) -> bool:
        if isinstance(node.upper, Sym) and node.upper.name == self.env.interp.model.batch:
            return True
        if self.env.sample_axis is None or node.upper is not None or node.index in self.bind:
            return False
        # Σ_i over z_i, a_i, Δ_i, x_i alone: the samples of a batch
        uses = [
            n
            for n in node.body.walk()
            if isinstance(n, Sym) and any(isinstance(i, Sym) and i.name == node.index for i in n.indices)
        ]
        batch = self.env.batch_kinds
        try:
            return bool(uses) and all(len(n.indices) == 1 and self.env.interp.resolve(n).kind in batch for n in uses)
        except NotationError:
            return False

    def sample_sum(self, node):
        axis = self.env.sample_axis
        if axis is None:
            if node.index is not None and node.upper is not None:
                raise ShapeError("a sum over all N samples is the batch, not one sample's share")
            return self.candidates_of(node.body)  # a loosely written Σ in a per-sample formula: this sample's term
        if node.index is None:
            return self.mapped(
                node,
                node.body,
                lambda v: self.b.sum_axis(v, axis),
                lambda t: Sum(t, None, node.lower, node.upper, node.over),
            )
        first = 0 if node.lower is None else self.sum_bound(node.lower, node.index, "lower") - 1
        if not 0 <= first < self.samples():
            raise ShapeError(f"the sum over {node.index} starts at {first + 1}, outside the samples 1..N")
        nested = self.nested_terms(node.index, self.samples() - first)
        binds = [
            {**self.bind, "__sample__": i, "__sample_var__": node.index, NESTED_TERMS: nested}
            for i in range(first, self.samples())
        ]
        if self.lenient:
            return self.lenient_sum(node, binds)
        total = None
        for bind in binds:
            sub = type(self)(self.env, bind)
            v = sub.value(node.body)
            total = v if total is None else self.add_values(total, v)
        return self.single(node, total)

    def lenient_sum(self, node: Sum, binds: list[dict]):
        """Layout candidates of a sum's body at its first term, each rewritten body then summed strictly:
        a transpose missing inside a Σ is the same fix as without the Σ."""
        out = []
        for cand in type(self)(self.env, binds[0], lenient=True).candidates_of(node.body):
            try:
                total = cand.value
                for bind in binds[1:]:
                    total = self.add_values(total, type(self)(self.env, bind).value(cand.tree))
            except (ShapeError, NotationError):
                continue
            out.append(Candidate(total, cand.fixes, Sum(cand.tree, node.index, node.lower, node.upper, node.over)))
        if not out:
            raise ShapeError(f"the sum over {node.index} does not typecheck")
        return out

    def extent(self, body: Node, index: str) -> int | None:
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
                    sizes.add(cols if self.one_index_axis(ref, rows, cols) == 1 else rows)
        if len(sizes) > 1:
            raise ShapeError(
                f"the index {index} ranges over different sizes ({', '.join(map(str, sorted(sizes)))})"
                " in different factors"
            )
        return sizes.pop() if sizes else None
