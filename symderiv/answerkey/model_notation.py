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
'\\\\mathrm{relu}\\'(z^{(2)}) \\\\odot W^{(2)T}'
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

from symderiv.answerkey.model import BUILTINS, ELEMENTWISE, Function, Model, form_of, key_of, spelling_keys
from symderiv.answerkey.model_functions import substitute
from symderiv.core.errors import NotationError
from symderiv.core.tree import ENTRY, Add, Call, Deriv, Neg, Node, Num, Pow, Product, Sym, Transpose, map_children
from symderiv.notation.latex import to_latex

ENTRY_FUNCS = frozenset(("psi", "Psi", "sigma", "phi", "varphi"))
FAMILY_PREFIX = "family:"  # a family's function at a layer given by an expression (g_l): read when evaluated


INDEX_LETTERS = frozenset("ijklmnpqrst")


def _index_letter(sym: Sym) -> bool:
    return sym.name in INDEX_LETTERS and not sym.indices and sym.layer is None and not sym.decor


class ModelReader:
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
        ):
            return replace(node, layer=None, indices=node.indices + (layer,))
        return node

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
        for full in (False,) if component else (True, False):
            for key in spelling_keys(sym, with_indices=full, swap=swap):
                if key in table:
                    form = forms[table[key]]
                    return replace(form, indices=() if full else tuple(self.index(i) for i in sym.indices))
        return None

    def power(self, node: Pow) -> Node:
        base, exponent = node.base, node.exponent
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

    def derivative(self, node: Deriv) -> Node:
        num, wrt = self.normalize(node.num), self.normalize(node.wrt)
        if isinstance(num, Call) and len(num.args) == 1 and num.args[0] == wrt:
            return replace(num, primes=num.primes + 1)
        if isinstance(num, Sym) and isinstance(wrt, Sym) and num.indices == wrt.indices:
            t = self.model.resolve_name(replace(num, indices=()))
            u = self.model.resolve_name(replace(wrt, indices=()))
            found = self.model.activation(t) if t is not None else None
            if found is not None and found[1] == u and found[0] in ELEMENTWISE:
                return Call(found[0], (wrt,), 1)  # ∂a^{(2)}/∂z^{(2)} is g'(z^{(2)}) elementwise
        return Deriv(num, wrt)

    # ---- functions -------------------------------------------------------------------
    def symbol_call(self, node: Call) -> Sym | None:
        """h_2 (x), read by the parser as a function h (f, g, h are function letters) applied to x:
        the declared symbol h_2 times the bracket, when h_2 is declared and h is no function here."""
        name = node.func.removeprefix("bold:")
        if node.primes or len(node.args) != 1 or name in BUILTINS or any(f.name == name for f in self.model.functions):
            return None
        sym = Sym(name, None, node.indices)
        return sym if self.model.resolve_name(sym) is not None else None

    def call(self, node: Call) -> Node:
        factor = self.symbol_call(node)
        if factor is not None:
            return self.normalize(Product((factor, node.args[0]), ("juxt",)))
        name = node.func.removeprefix("bold:")
        model = self.model
        family = model.function_family(name)
        if node.indices and node.args:
            layer = self.layer_value(node.indices[0]) if len(node.indices) == 1 else None
            if layer is not None and family:
                return self.member_call(node, name, node.indices[0])
            if not node.primes and len(node.args) == 1 and name != "leaky_relu":
                return self.entry_call(node, name)  # ψ(z)_{in}, ψ_i(z): an entry
        own = model.key_function(name)
        if own is not None:
            return self.apply(own, node)
        if family and not node.indices and len(node.args) == 1:
            arg = self.normalize(node.args[0])
            layer = self.layer_value(arg.layer) if isinstance(arg, Sym) and arg.layer is not None else None
            if layer in family:
                return self.member_call(node, name, arg.layer)  # g'(z^{(l)}) is g_l'(z^{(l)})
        return self.builtin(node, name)

    def member_call(self, node: Call, name: str, layer: Node) -> Node:
        """g_2(z): the family's member, inlined; g_l(z): a family call, its member read when evaluated."""
        family = self.model.function_family(name)
        value = self.layer_value(layer)
        if value not in family:
            shown = ", ".join(f"{name}_{k}" for k in sorted(family))
            raise NotationError(f"there is no {name}_{value} in this problem (it has {shown})")
        if isinstance(layer, Num):
            return self.apply(family[value], replace(node, indices=()))
        args = tuple(self.normalize(a) for a in node.args)
        return Call(FAMILY_PREFIX + name, args, node.primes, (layer,))

    def member_function(self, call: Call) -> Call:
        """The built-in (or generic function) call a family call applies at the layer bound here."""
        name = call.func[len(FAMILY_PREFIX) :]
        value = self.layer_value(call.indices[0]) if call.indices else None
        member = self.model.function_family(name).get(value)
        if member is None:
            raise NotationError(f"there is no {name}_{value} in this problem")
        applied = self.apply(member, Call(name, (Sym("__argument__"),), call.primes))
        if not isinstance(applied, Call) or applied.args != (Sym("__argument__"),):
            raise NotationError(f"{name}_{{l}} with a symbolic layer needs a body that is one built-in function")
        return applied

    def entry_call(self, node: Call, name: str) -> Node:
        """ψ(z)_i and ψ_i(z): entry i of ψ(z); ψ_i(δ_ij − ψ_j): the i-th output times a bracket."""
        arg = self.normalize(node.args[0])
        if isinstance(arg, Sym) or name not in ENTRY_FUNCS or self.model.resolve_name(Sym(name)) is None:
            inner = self.call(replace(node, indices=()))
            indices = tuple(self.index(i) for i in node.indices)
            if isinstance(inner, Call) and inner.func != ENTRY and not inner.indices:
                return replace(inner, indices=indices)
            return Call(ENTRY, (inner,), 0, indices)
        return self.normalize(Product((Sym(name, None, node.indices), node.args[0]), ("juxt",)))

    def apply(self, function: Function, call: Call) -> Node:
        """A call of the key's function: inlined, or kept (undefined for the exact check) when generic."""
        if function.generic:
            args = tuple(self.normalize(a) for a in call.args)
            index = "" if function.index is None else str(function.index)
            return Call(f"generic:{function.name}:{index}", args, call.primes)
        if len(function.params) != len(call.args):
            raise NotationError(f"{function.name} takes {len(function.params)} argument(s)")
        if not call.primes:
            return self.normalize(substitute(function.body, dict(zip(function.params, call.args))))
        builtin = function.builtin
        if builtin is None:
            raise NotationError(
                f"the derivative of {function.name} is not known here: its body is not one built-in function "
                f"of {function.params[0]}"
            )
        body = function.body
        return self.normalize(replace(body, args=call.args, primes=body.primes + call.primes))

    def builtin(self, node: Call, name: str) -> Node:
        args = tuple(self.normalize(a) for a in node.args)
        if name == "max" and len(args) == 2 and not node.primes:
            a, b = args
            if a == Num(0):
                return Call("relu", (b,))
            if b == Num(0):
                return Call("relu", (a,))
            return Add((a, Call("relu", (Add((b, Neg(a))),))))
        if name == "leaky_relu" and node.indices:
            slope = self.model.resolve_name(node.indices[0]) if isinstance(node.indices[0], Sym) else None
            if slope is None:
                raise NotationError(f"the slope {to_latex(node.indices[0])} of the leaky ReLU is not declared")
            return Call(f"leaky_relu:{slope}", args, node.primes)
        if (
            name == "log"
            and len(args) == 1
            and isinstance(args[0], Call)
            and args[0].func == "softmax"
            and not node.primes
            and not args[0].primes
        ):
            return Call("log_softmax", args[0].args)
        return replace(node, func=name, args=args, indices=tuple(self.index(i) for i in node.indices))

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
