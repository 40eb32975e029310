"""The evaluator's rules for the ones vector: a mixin of ``Evaluator`` (evaluation/evaluate.py).

A ones vector written with its size (1_C) has that size. One written without it (\\mathbf{1})
takes its size from what it meets:

- in a product, from its sized neighbour: 1ᵀA sums A's rows and A1 its columns, whatever their size;
- where the product leaves it open (both ones of 1 1ᵀ, the leading 1 of 1 1ᵀA), from the term it
  is added to or the factor it meets in a Hadamard product: 1 1ᵀ − Δ is the size of Δ;
- else the samples, N (1ᵀ over the batch), or 1 in a key without a batch (\\mathbf{1} − h).
"""

from __future__ import annotations

from symderiv.core.errors import ShapeError
from symderiv.core.tree import Neg, Node, Ones, Product, Sym, Transpose
from symderiv.evaluation.candidates import Candidate

MAX_ONES = 10_000  # \mathbf{1}_{10^9} would allocate gigabytes: a clear refusal instead


def free_ones(tree: Node) -> str | None:
    """ "col" for a ones vector written without its size, "row" for its transpose, else None."""
    flips = 0
    while isinstance(tree, Transpose):
        tree, flips = tree.operand, flips + 1
    if isinstance(tree, Ones) and tree.size is None:
        return "row" if flips % 2 else "col"
    return None


def has_free_ones(node: Node) -> bool:
    """A term sized by what it meets: an unsized ones vector in its product (through −, ᵀ and ⊙)."""
    if isinstance(node, (Neg, Transpose)):
        return has_free_ones(node.operand)
    if isinstance(node, Product):
        return any(has_free_ones(f) for f in node.factors)
    return free_ones(node) is not None


class OnesRules:
    def rule_ones(self, node):
        if node.size is not None and not (isinstance(node.size, Sym) and node.size.name == "N"):
            try:
                size = float(self.value(node.size)[0, 0])
            except (TypeError, OverflowError) as exc:
                raise ShapeError(f"the size of the ones vector is not a number ({exc})") from None
            if not size.is_integer() or not 1 <= size <= MAX_ONES:
                raise ShapeError(f"a ones vector of size {size:g} (sizes here are whole numbers up to {MAX_ONES})")
            return self.single(node, self.b.ones(int(size), 1))
        model = self.env.interp.model
        if self.env.sample_axis is None and model.batch is None:
            return self.single(node, self.b.ones(1, 1))  # no batch at all: \mathbf{1} - h is 1 - h
        if self.env.sample_axis is None:
            # 1_N sums over the samples of a batch: one sample has none to sum
            raise ShapeError("the ones vector 1_N sums over the N samples: there is no batch in one sample")
        return self.single(node, self.b.ones(self.samples(), 1))

    def fit_chain(self, values: list, trees: list, target: tuple[int, int] | None) -> list:
        """The values of a product's factors with each unsized ones vector sized by its neighbour,
        or where the product leaves it open (1 1ᵀ) by the product's target size when one is known."""
        kinds = [free_ones(t) for t in trees]
        if not any(kinds):
            return values
        shapes = [self.b.shape(v) for v in values]
        chain = [p for p in range(len(values)) if kinds[p] or shapes[p] != (1, 1)]  # scalars size nothing
        out = list(values)
        for at, p in enumerate(chain):
            before = chain[at - 1] if at > 0 else None
            after = chain[at + 1] if at + 1 < len(chain) else None
            size = None
            if kinds[p] == "row":  # 1ᵀ A: as long as A has rows
                if after is not None and kinds[after] is None and shapes[after][0] > 1:
                    size = shapes[after][0]
                elif after is None and target is not None:
                    size = target[1]
            elif kinds[p] == "col":  # A 1: as long as A has columns
                if before is not None and kinds[before] is None and shapes[before][1] > 1:
                    size = shapes[before][1]
                elif before is None and target is not None:
                    size = target[0]
            if size is not None and 1 <= size <= MAX_ONES:
                out[p] = self.b.ones(1, size) if kinds[p] == "row" else self.b.ones(size, 1)
        return out

    def fitted(self, node: Node, target: tuple[int, int]) -> list[Candidate]:
        """Candidates of a term with unsized ones vectors, sized to be target where nothing else sizes them."""
        if isinstance(node, Neg):
            cands = self.fitted(node.operand, target)
            return [Candidate(self.b.scale(self.b.const(-1), c.value), c.fixes, Neg(c.tree)) for c in cands]
        if isinstance(node, Transpose):
            cands = self.fitted(node.operand, target[::-1])
            return [Candidate(self.b.T(c.value), c.fixes, Transpose(c.tree)) for c in cands]
        if isinstance(node, Product):
            return self.rule_product(node, target)
        cands = self.candidates_of(node)  # a ones vector alone: its errors (no batch in one sample) stand
        if free_ones(node) == "col" and target[1] == 1 and 1 <= target[0] <= MAX_ONES:
            return self.single(node, self.b.ones(target[0], 1))
        return cands

    def anchor_shape(self, cands_by_part: list, free: list[bool]) -> tuple[int, int] | None:
        """The size that sizes the free parts: the first part's, among the others, that is no scalar."""
        for cands, is_free in zip(cands_by_part, free):
            if not is_free and cands:
                shape = self.b.shape(cands[0].value)
                if shape != (1, 1):
                    return shape
        return None

    def fitted_or_default(self, node: Node, target: tuple[int, int] | None) -> list[Candidate]:
        """fitted where a target is known and the term fits it, else the term as the ones vector's default sizes give it."""
        if target is not None:
            try:
                return self.fitted(node, target)
            except ShapeError:
                pass
        return self.candidates_of(node)
