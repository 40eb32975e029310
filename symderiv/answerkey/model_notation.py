"""Reading a student's tree against a model: one spelling for every object and function.

The parser keeps the student's spelling; this maps it onto the model's declarations:

- a declared symbol in any of its spellings (aliases, bold, the other letter case);
- a layer written ^{(2)}, ^{[2]}, _2 or ^2 (a layer on a layer variable is never a power), or as
  an expression of the layer symbols bound here (l + 1, L − 1); W^{2T}; a^{[2](i)};
- a one-letter superscript that is no layer is a sample index (x^{(i)}, y^{(i)}: Ng's notation);
- a function of the key inlined (φ(u) = ReLU(u)), a family member by its layer (g_l, or g applied
  to z^{(l)}), a generic function kept undefined for the exact check, max(a, b) = a + relu(b − a),
  LeakyReLU_α(z), log softmax; ψ(z)_i and ψ_i(z) an entry, ψ_i(δ_ij − ψ_j) a product;
- d f(u)/du and ∂t/∂u for an equation t = f(u) with f elementwise are f'(u);
- w_{kj}^T is the entry w_{jk}; an alias read as juxtaposed letters (dY) is joined.

>>> from symderiv.answerkey.problem import load_problem
>>> from symderiv.notation.parse import parse
>>> from symderiv.notation.latex import to_latex
>>> reader = ModelReader(load_problem("softmax-2layer").model)
>>> to_latex(reader.normalize(parse(r"\\phi'(z^2) \\odot W^{2T}")))
"\\\\operatorname{ReLU}'\\\\left(z^{(2)}\\\\right) \\\\odot W^{(2)\\\\top}"
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

from symderiv.answerkey.model import Model, form_of, key_of, spelling_keys
from symderiv.answerkey.model_calls import CallReading
from symderiv.core.tree import Add, Call, Deriv, Neg, Node, Num, Pow, Product, Sym, Transpose, map_children

INDEX_LETTERS = frozenset("ijklmnpqrst")


def _index_letter(sym: Sym) -> bool:
    return sym.name in INDEX_LETTERS and not sym.indices and sym.layer is None and not sym.decor


class ModelReader(CallReading):
    """Normalises trees against a model, with layer symbols bound (l = 2, L = 3)."""

    def __init__(self, model: Model, bindings: dict | None = None, subscript_layers: bool = True):
        self.model = model
        self.bindings = dict(model.layer_symbols)
        self.bindings.update(bindings or {})
        self.subscript_layers = subscript_layers  # z_3 is layer 3 (else component 3 of z)

    # ---- layers ----------------------------------------------------------------------
    def layer_value(self, node: Node | None) -> int | None:
        """The integer a layer expression (3, l, l+1, L-1) stands for here, or None."""
        if isinstance(node, Num):
            return int(node.value) if Fraction(node.value).denominator == 1 else None  # never float()
        if isinstance(node, Sym):
            return self.bindings.get(node.name) if not node.indices and node.layer is None else None
        if isinstance(node, Add):
            total = 0
            for term in node.terms:
                value = self.layer_value(term)
                if value is None:
                    return None
                total += value
            return total
        if isinstance(node, Neg):
            value = self.layer_value(node.operand)
            return None if value is None else -value
        return None

    def is_member(self, letter: str, layer: int) -> bool:
        """letter^{(layer)} is declared (δ^{(l)}: z^{(l)} for δ = ∂/∂z)."""
        delta = self.model.delta_letter(letter)
        return layer in self.model.family(delta if delta is not None else letter)

    def full_member(self, sym: Sym) -> bool:
        """The subscripts themselves name a declared symbol (h_1 for a declared h_1)."""
        table = self.model.spelling_table
        return bool(sym.indices) and any(key in table for key in spelling_keys(sym, with_indices=True))

    # ---- the tree --------------------------------------------------------------------
    def normalize(self, node: Node) -> Node:
        if isinstance(node, Sym):
            return self.symbol(node)
        if isinstance(node, Pow):
            return self.power(node)
        if isinstance(node, Transpose):
            return self.transpose(node)
        if isinstance(node, Call):
            return self.call(node)
        if isinstance(node, Product) and self.model.words:
            joined = self.join_words(node)
            if not isinstance(joined, Product):
                return self.normalize(joined)
            node = joined
        if isinstance(node, Deriv):
            return self.derivative(node)
        return map_children(node, self.normalize)

    def sample_index(self, node: Sym) -> Sym:
        """A one-letter superscript that is no layer symbol is a sample index (y^{(i)} is y_i)."""
        layer = node.layer
        if (
            isinstance(layer, Sym)
            and len(layer.name) == 1
            and not layer.indices
            and layer.layer is None
            and layer.name not in self.bindings
            and not self.labelled(node)
        ):
            return replace(node, layer=None, indices=node.indices + (layer,))
        return node

    def labelled(self, node: Sym) -> bool:
        """The letter in the layer slot is the label of a declared symbol (z_t's t, W_h's h): the
        canonical form of a declared subscripted name, never a sample index."""
        table = self.model.spelling_table
        return any(key in table for key in spelling_keys(replace(node, indices=()), with_indices=True, swap=False))

    def evaluated(self, node: Sym) -> Sym:
        """The layer as a number where the bindings give one (l + 1 at l = 2 is 3)."""
        if node.layer is None or isinstance(node.layer, Num):
            return node
        value = self.layer_value(node.layer)
        return replace(node, layer=Num(value)) if value is not None else node

    def index(self, node: Node) -> Node:
        """A subscript: an index letter (i, j, J) stays as written; an expression is read."""
        if isinstance(node, (Sym, Num)) and not getattr(node, "indices", ()) and getattr(node, "layer", None) is None:
            return node
        return self.normalize(node)

    def symbol(self, node: Sym) -> Node:
        node = self.sample_index(node)
        if node.layer is not None and not isinstance(node.layer, Num) and self.layer_value(node.layer) is not None:
            # a^{(l-1)}: which symbol it is depends on the layer bound; read when evaluated
            return replace(node, indices=tuple(self.index(i) for i in node.indices))
        canonical = self.canonical(node)
        if canonical is not None:
            return canonical
        indices = tuple(self.index(i) for i in node.indices)
        return replace(node, indices=indices) if node.indices else node

    def canonical(self, sym: Sym) -> Sym | None:
        """The written symbol in the declared spelling, entry subscripts kept (a size name N, V is
        never read as a symbol in the other letter case)."""
        model = self.model
        table, forms = model.spelling_table, model.form_table
        # a size name (N, V) and a bare index letter (j, k) are never read in the other letter case
        swap = sym.name not in model.sizes and sym.name != model.batch and not _index_letter(sym)
        component = not self.subscript_layers and sym.layer is None and sym.indices and isinstance(sym.indices[-1], Num)
        for key in () if component else spelling_keys(sym, with_indices=True, swap=swap):
            if key in table:
                return replace(forms[table[key]], indices=())
        if sym.layer is None and not component:
            # an entry of a subscripted name, (W_h)_{ij}, (x_t)_j or (c_{t-1})_i: the leading
            # subscripts name a declared symbol, the rest are its entry's indices
            for k in range(len(sym.indices) - 1, 0, -1):
                head = replace(sym, indices=sym.indices[:k])
                for key in spelling_keys(head, with_indices=True, swap=swap):
                    if key in table:
                        return replace(forms[table[key]], indices=tuple(self.index(i) for i in sym.indices[k:]))
        for key in spelling_keys(sym, with_indices=False, swap=swap):
            if key in table:
                return replace(forms[table[key]], indices=tuple(self.index(i) for i in sym.indices))
        return None

    def power(self, node: Pow) -> Node:
        base, exponent = node.base, node.exponent
        for alias, sid in self.model.powers:  # σ² declared as the variance's alias (σ_j² its entry)
            if isinstance(base, Sym) and exponent == alias.exponent and replace(base, indices=()) == alias.base:
                form = self.model.form_table[sid]
                return self.normalize(replace(form, indices=form.indices + base.indices))
        if isinstance(base, Sym) and base.layer is None:
            if isinstance(exponent, Product) and len(exponent.factors) == 2:
                layer, extra = exponent.factors
                value = self.layer_value(layer)
                if value is not None and self.is_member(base.name, value) and isinstance(extra, Sym):
                    if extra.name == "T" and not extra.indices:
                        return Transpose(self.normalize(replace(base, layer=layer)))  # W^{2T}
                    if len(extra.name) == 1 and not extra.indices and extra.name not in self.bindings:
                        return self.normalize(replace(base, layer=layer, indices=base.indices + (extra,)))
            value = self.layer_value(exponent)
            if value is not None and self.is_member(base.name, value) and not self.full_member(base):
                return self.normalize(replace(base, layer=exponent))  # z^3 is z^{(3)}, never a power
        return map_children(node, self.normalize)

    def layer_forms(self, node: Node) -> Node:
        """Only the layers read (z^3 is z^{(3)}, W^{2T} is W^{(2)T}), their expressions kept as
        written (w^{l+1} stays l + 1): the tree a wrong layer is searched in."""
        if isinstance(node, Pow) and isinstance(node.base, Sym) and node.base.layer is None:
            base, exponent = node.base, node.exponent
            if isinstance(exponent, Product) and len(exponent.factors) == 2:
                layer, extra = exponent.factors
                value = self.layer_value(layer)
                if value is not None and self.is_member(base.name, value) and isinstance(extra, Sym):
                    if extra.name == "T" and not extra.indices:
                        return Transpose(replace(base, layer=layer))
            value = self.layer_value(exponent)
            if value is not None and self.is_member(base.name, value) and not self.full_member(base):
                return replace(base, layer=exponent)
        if isinstance(node, Sym) and node.layer is None and len(node.indices) == 1 and self.full_member(node):
            value = self.layer_value(node.indices[0])
            if value is not None and self.is_member(node.name, value):
                return replace(node, layer=node.indices[0], indices=())  # h_1: layer 1 of h
        return map_children(node, self.layer_forms)

    def transpose(self, node: Transpose) -> Node:
        operand = node.operand
        if isinstance(operand, Sym) and len(operand.indices) == 2:
            inner = self.normalize(operand)  # w_{kj}^T is the entry w_{jk}
            if isinstance(inner, Sym) and len(inner.indices) == 2:
                return replace(inner, indices=inner.indices[::-1])
        if isinstance(operand, Call):
            factor = self.symbol_call(operand)  # h_2 (ŷ − y)^T: the transpose is the bracket's
            if factor is not None:
                return self.normalize(Product((factor, Transpose(operand.args[0])), ("juxt",)))
        return map_children(node, self.normalize)

    # ---- aliases read as letters -------------------------------------------------------
    def join_words(self, node: Product) -> Node:
        """dY written as d times Y (dY^T: d times Y^T): the declared alias dY, wherever its letters
        are juxtaposed."""
        factors, ops = list(node.factors), list(node.ops)
        forms = self.model.form_table
        for keys, sid in self.model.words:
            n = len(keys)
            i = 0
            while i + n <= len(factors):
                run = factors[i : i + n]
                last = run[-1].operand if isinstance(run[-1], Transpose) else run[-1]
                if (
                    all(isinstance(f, Sym) for f in run[:-1])
                    and isinstance(last, Sym)
                    and all(o == "juxt" for o in ops[i : i + n - 1])
                    and tuple(key_of(f) for f in run[:-1]) == keys[:-1]
                    and key_of(replace(last, indices=(), layer=None)) == keys[-1]
                ):
                    joined = replace(forms[sid], indices=last.indices)
                    factors[i : i + n] = [Transpose(joined) if isinstance(run[-1], Transpose) else joined]
                    ops[i : i + n - 1] = []
                i += 1
        if len(factors) == 1:
            return factors[0]
        return Product(tuple(factors), tuple(ops))


__all__ = ["ModelReader", "form_of"]
