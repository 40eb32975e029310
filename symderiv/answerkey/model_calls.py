"""Reading the functions in a student's tree against a model (a mixin of ModelReader,
answerkey/model_notation.py): a key's function inlined, a family member by its layer, a generic
function kept undefined, builtins (max, LeakyReLU_α, log softmax), an entry ψ(z)_i, and a
derivative d f(u)/du or ∂t/∂u of an elementwise equation read as f'(u)."""

from __future__ import annotations

from dataclasses import replace

from symderiv.answerkey.model import BUILTINS, ELEMENTWISE, Function
from symderiv.answerkey.model_functions import derivative_of, substitute
from symderiv.core.errors import NotationError
from symderiv.core.tree import ENTRY, Add, Call, Deriv, Neg, Node, Num, Product, Sym
from symderiv.notation.latex import to_latex

ENTRY_FUNCS = frozenset(("psi", "Psi", "sigma", "phi", "varphi"))
FAMILY_PREFIX = "family:"  # a family's function at a layer given by an expression (g_l): read when evaluated


class CallReading:
    """Calls and derivatives; needs the reader's normalize, symbol, layer_value and model."""

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
        if builtin is None and len(function.params) == 1:
            body = function.body
            for _ in range(call.primes):  # φ'(u) of a body written out: differentiated as a tree
                body = derivative_of(body, function.params[0]) if body is not None else None
            if body is not None:
                return self.normalize(substitute(body, {function.params[0]: call.args[0]}))
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
