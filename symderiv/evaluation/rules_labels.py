"""The evaluator's rules for labels written as class numbers: a mixin of ``Evaluator`` (truth/evaluate.py).

y_i is sample i's class: the indicator 1[y_i = k] is the one-hot entry Δ_{k i} and the basis vector
e_{y_i} is the one-hot column Δ_{:, i}, laid out as the reading lays out the label matrix.
"""

from __future__ import annotations

from symderiv.core.errors import NotationError, UnboundIndexError
from symderiv.core.tree import Compare, Node, Sym
from symderiv.evaluation.interpret import Ref
from symderiv.evaluation.rules_sums import EXTENT


class LabelRules:
    def label_ref(self, node: Node) -> Ref | None:
        """The one-hot label a symbol written as a class (y_i) names, or None."""
        if not (isinstance(node, Sym) and len(node.indices) <= 1 and node.layer is None and node.decor != "hat"):
            return None
        try:
            ref = self.env.interp.resolve(Sym(node.name))
        except NotationError:
            return None
        found = self.env.interp.model.symbol_table.get(ref.kind)
        return ref if found is not None and found.labels == "one-hot" else None

    def is_label(self, node: Node) -> bool:
        return self.label_ref(node) is not None

    def label_sample(self, label: Sym) -> int | None:
        """Which sample y_i names: the sample of an enclosing Σ over i, a bound index, or the one sample."""
        if not label.indices:
            return 0 if self.env.sample_axis is None else None
        (ix,) = label.indices
        if isinstance(ix, Sym) and ix.name == self.bind.get("__sample_var__"):
            return self.bind.get("__sample__")
        pos = self.index_position(ix)
        return 0 if pos is None and self.env.sample_axis is None else pos

    def label_class(self, label: Sym) -> int | None:
        """The 0-based class y_i stands for as a subscript (s_{y_i i}): where sample i's one-hot label
        has its 1; None when the sample is not bound or the label is not a known 0/1 column."""
        sample = self.label_sample(label)
        if sample is None:
            return None
        column = self.label_column(sample, self.label_ref(label))
        rows, cols = self.b.shape(column)
        entries = [
            self.b.entry(column, k, 0) if cols == 1 else self.b.entry(column, 0, k) for k in range(max(rows, cols))
        ]
        ones = [k for k, e in enumerate(entries) if e[0, 0] == 1]
        if len(ones) != 1 or any(e[0, 0] not in (0, 1) for e in entries):
            return None
        return ones[0]

    def label_column(self, sample: int, ref: Ref):
        Y = self.env.objects[ref]
        axis = self.env.sample_axis
        if axis is None:
            return Y
        return self.b.col(Y, sample) if axis == 1 else self.b.row(Y, sample)

    def label_indicator(self, cond: Compare):
        """1[y_i = k] (either way round) as a number, or None when the condition is not of that kind."""
        if cond.op not in ("=", "!="):
            return None
        for label, other in ((cond.lhs, cond.rhs), (cond.rhs, cond.lhs)):
            if self.is_label(label) and isinstance(other, Sym) and not other.indices and not self.is_label(other):
                sample, k = self.label_sample(label), self.index_position(other)
                if k is None:
                    raise UnboundIndexError(
                        f"the class index {other.name} of an indicator of the label is bound by nothing"
                    )
                if sample is None:
                    raise UnboundIndexError("the sample index of a label in an indicator is bound by nothing")
                column = self.label_column(sample, self.label_ref(label))
                rows, cols = self.b.shape(column)
                value = self.b.entry(column, k, 0) if cols == 1 else self.b.entry(column, 0, k)
                if cond.op == "!=":
                    value = self.b.add(self.b.const(1), self.b.scale(self.b.const(-1), value))
                return value
        return None

    def basis_vector(self, node: Sym):
        """e_{y_i}: the one-hot label of sample i; e_j, e_o: the unit vector at an index's value (see
        index_range); None when node is not a unit vector."""
        if node.name != "e" or len(node.indices) != 1 or node.layer is not None:
            return None
        if not self.is_label(node.indices[0]):
            return self.index_basis_vector(node.indices[0])
        sample = self.label_sample(node.indices[0])
        if sample is None:
            raise UnboundIndexError(
                f"e_{{{node.indices[0].name}}} needs its sample index bound (inside a sum over the samples)"
            )
        return self.label_column(sample, self.label_ref(node.indices[0]))

    def index_basis_vector(self, index: Node):
        """e_j: the vector with a 1 at the index's value, as long as the index's range; None when the
        key has its own e or the index's range is not known here."""
        if not (isinstance(index, Sym) and not index.indices):
            return None
        try:
            self.env.interp.resolve(Sym("e"))
            return None  # the key's own e
        except NotationError:
            pass
        found = self.index_range(index.name)
        if found is None:
            return None
        position, size = found
        return self.b.from_entries([[self.b.const(1 if r == position else 0)] for r in range(size)])

    def index_range(self, name: str) -> tuple[int, int] | None:
        """(the 0-based value, how many values) of an index: a sum's index runs over what the sum runs
        over, the sample index over the samples, a class-index label o over its K classes (K read off
        an object of the key sized K: ŷ for word2vec's o); None for an index bound otherwise."""
        if name in self.bind and EXTENT + name in self.bind:
            return self.bind[name], self.bind[EXTENT + name]
        if name == self.bind.get("__sample_var__") and self.bind.get("__sample__") is not None:
            return self.bind["__sample__"], self.samples()
        if name in self.bind or name not in self.env.index_labels:
            return None
        model = self.env.interp.model
        label = next(s for s, label_name in model.index_label_names().items() if label_name == name)
        classes = model.symbol_table[label].shape[0]
        for s in model.symbols:
            value = self.env.objects.get(Ref(s.id))
            if s.id != label and value is not None and len(s.shape) == 2 and s.shape[0] == classes and s.shape[1] == 1:
                return self.env.index_labels[name], self.b.shape(value)[0]
        return None
