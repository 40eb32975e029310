"""The evaluator's rules for sums (over samples or over an index): a mixin of ``Evaluator`` (truth/evaluate.py)."""
from __future__ import annotations

from symderiv.core.errors import NotationError, ShapeError
from symderiv.core.tree import (
    Node,
    Sum,
    Sym,
)
from symderiv.truth.candidates import Candidate


class SumRules:
    def rule_sum(self, node):
        if node.index is None or node.over is not None or self.is_sample_bound(node):
            return self.sample_sum(node)
        extent = self.extent(node.body, node.index)
        if node.upper is not None:
            width = self.size_name_width(node.upper)
            upper = width if width is not None else int(self.value(node.upper)[0, 0])
            if extent is not None and upper != extent:
                raise ShapeError(f"the sum over {node.index} runs to {upper} but the index ranges over {extent}")
            extent = upper
        if extent is None:
            raise ShapeError(f"cannot tell what the index {node.index} of the sum runs over")
        total = None
        for k in range(extent):
            sub = type(self)(self.env, {**self.bind, node.index: k}, lenient=False)
            v = sub.value(node.body)
            total = v if total is None else self.add_values(total, v)
        return self.single(node, total)

    def size_name_width(self, node) -> int | None:
        """A size name of the problem (C, H, D) as a sum bound: that layer's width here."""
        if not isinstance(node, Sym) or node.indices or node.layer is not None or node.name == "N":
            return None
        problem = self.env.interp.problem
        names = [problem.input_size] + [size for size, _ in problem.layers]
        if node.name not in names:
            return None
        return self.layer_width(names.index(node.name))

    def is_sample_bound(self, node: Sum) -> bool:
        if isinstance(node.upper, Sym) and node.upper.name == "N":
            return True
        if self.env.sample_axis is None or node.upper is not None or node.index in self.bind:
            return False
        # Σ_i over z_i, a_i, Δ_i, x_i alone: the samples of a batch
        uses = [n for n in node.body.walk() if isinstance(n, Sym)
                and any(isinstance(i, Sym) and i.name == node.index for i in n.indices)]
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
            return self.candidates_of(node.body)   # a loosely written Σ in a per-sample formula: this sample's term
        if node.index is None:
            return self.mapped(node, node.body, lambda v: self.b.sum_axis(v, axis),
                             lambda t: Sum(t, None, node.lower, node.upper, node.over))
        binds = [{**self.bind, "__sample__": i, "__sample_var__": node.index} for i in range(self.samples())]
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
                    sizes.add(cols if self.env.reading == "rows" or ref.kind in self.env.column_kinds else rows)
        if len(sizes) > 1:
            raise ShapeError(f"the index {index} ranges over different sizes ({', '.join(map(str, sorted(sizes)))})"
                             " in different factors")
        return sizes.pop() if sizes else None
