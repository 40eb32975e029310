"""Notation: what the student's symbols mean in a problem.

The parser keeps the student's spelling; this stage maps it onto the problem's
objects. W and w, Z and z, A and a are the same object; ^2 on a layer variable
is a layer index, never a power; z_3 is layer 3 when 3 is a layer the problem
has; ψ, \\Psi, softmax and ŷ are the output activation; Δ (labels) and δ
(Kronecker or backprop delta) never meet.

>>> from symderiv.truth.problem import load_problem
>>> from symderiv.core.tree import Sym, Num
>>> Interpreter(load_problem("softmax-2layer")).resolve(Sym("a", layer=Num(2)))
Ref(kind='A', layer=1)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction

from symderiv.core.errors import NotationError
from symderiv.core.tree import Add, Call, Deriv, Neg, Node, Num, Pow, Product, Sym, Transpose, map_children
from symderiv.notation.latex import to_latex
from symderiv.truth.problem import Problem

LAYER_LETTERS = {"W": "W", "w": "W", "b": "b", "z": "Z", "Z": "Z", "a": "A", "A": "A"}
ELEMENTWISE_FUNCS = {"exp", "log", "tanh", "sigmoid", "relu", "softplus", "abs"}


@dataclass(frozen=True)
class Ref:
    """A problem object: X (input), A/Z at internal layer k, W/b of layer k, Y (labels),
    N, lambda, dZ/dA (backprop deltas at layer k), kron (Kronecker delta)."""

    kind: str
    layer: int | None = None


@dataclass(frozen=True)
class FuncRef:
    """A function: an activation of internal layer k (name 'act'), or a named one."""

    name: str  # "act" or exp/log/tanh/sigmoid/relu/softplus/diag/softmax
    layer: int | None = None
    derivative: int = 0


class Interpreter:
    def __init__(
        self,
        problem: Problem,
        layer_bindings: dict[str, int] | None = None,
        subscript_layers: bool = True,
        default_label: int | None = None,
    ):
        self.problem = problem
        self.default_label = default_label  # the layer of a layer-less w or b (from context)
        self.subscript_layers = subscript_layers  # read z_3 as layer 3 (else as component 3)
        self.notation = problem.notation
        self.bindings = dict(problem.notation.layer_symbols)
        self.bindings.update(layer_bindings or {})
        self.model = problem.model  # a [model] key: symbols are read against its declarations

    # ---- layer labels -----------------------------------------------------------
    def layer_value(self, node: Node) -> int:
        """The integer a layer expression (3, l, l+1, L-1) stands for."""
        value = self.layer_value_or_none(node)
        if value is None:
            raise NotationError(f"cannot read {node!r} as a layer index")
        return value

    def layer_value_or_none(self, node: Node) -> int | None:
        """layer_value, or None where the node is no layer expression (asked very often: no exception)."""
        if isinstance(node, Num):
            return int(node.value) if Fraction(node.value).denominator == 1 else None  # never float()
        if isinstance(node, Sym):
            return self.bindings.get(node.name) if not node.indices else None
        if isinstance(node, Add):
            total = 0
            for term in node.terms:
                value = self.layer_value_or_none(term)
                if value is None:
                    return None
                total += value
            return total
        if isinstance(node, Neg):
            value = self.layer_value_or_none(node.operand)
            return None if value is None else -value
        return None

    def layer_like(self, node: Node) -> bool:
        return self.model is None and self.layer_value_or_none(node) is not None

    def _valid_activation_label(self, label: int) -> bool:
        k = self.notation.layer_of_activation_label(label)
        return 0 <= k <= self.problem.depth

    def _valid_weight_label(self, label: int) -> bool:
        k = self.notation.layer_of_weight_label(label)
        return 1 <= k <= self.problem.depth

    def is_layer_label(self, letter: str, node: Node) -> bool:
        kind = LAYER_LETTERS.get(letter) or ("Z" if letter == "delta" else None)  # δ^{l+1} is δ^{(l+1)}
        if kind is None:
            return False
        try:
            label = self.layer_value(node)
        except NotationError:
            return False
        return self._valid_weight_label(label) if kind in ("W", "b") else self._valid_activation_label(label)

    # ---- normalisation of the parser's tree ------------------------------------
    def normalize(self, node: Node) -> Node:
        """Rewrite notation into one spelling: a^2 -> a^{(2)}, z_3 -> z^{(3)},
        d phi(z)/dz -> phi'(z), d a^(l)/d z^(l) -> g_l'(z^(l))."""
        if self.model is not None:
            return self.model.normalize(node)
        if (
            isinstance(node, Pow)
            and isinstance(node.base, Sym)
            and node.base.layer is None
            and self.is_layer_label(node.base.name, node.exponent)
        ):
            return self.normalize(replace(node.base, layer=node.exponent))
        if (
            isinstance(node, Pow)
            and isinstance(node.base, Sym)
            and node.base.layer is None
            and isinstance(node.exponent, Product)
            and len(node.exponent.factors) == 2
            and self.is_layer_label(node.base.name, node.exponent.factors[0])
        ):
            layer, extra = node.exponent.factors
            if isinstance(extra, Sym) and extra.name == "T" and not extra.indices:
                return Transpose(self.normalize(replace(node.base, layer=layer)))  # W^{2T}
            if isinstance(extra, Sym) and len(extra.name) == 1 and not extra.indices and not self.layer_like(extra):
                base = replace(node.base, layer=layer, indices=node.base.indices + (extra,))
                return self.normalize(base)  # a^{[2](i)}
        if (
            isinstance(node, Sym)
            and isinstance(node.layer, Sym)
            and len(node.layer.name) == 1
            and not node.layer.indices
            and not self.layer_like(node.layer)
        ):
            # y^{(i)}, x^{(i)}: a sample index in the superscript, not a layer
            return self.normalize(replace(node, layer=None, indices=node.indices + (node.layer,)))
        if isinstance(node, Sym):
            if (
                self.subscript_layers
                and node.layer is None
                and node.name in LAYER_LETTERS
                and len(node.indices) >= 1
                and isinstance(node.indices[-1], Num)
                and self.is_layer_label(node.name, node.indices[-1])
            ):
                return replace(node, layer=node.indices[-1], indices=node.indices[:-1])
            return node
        if (
            isinstance(node, Call)
            and node.indices
            and node.func in ("psi", "Psi", "sigma", "phi", "varphi")
            and len(node.args) == 1
            and not node.primes
            and not self.layer_like(node.indices[0])
        ):
            arg = self.normalize(node.args[0])
            if isinstance(arg, Sym) and arg.name in ("z", "Z"):
                return replace(node, args=(arg,))  # ψ(z)_i: entry i of ψ(z)
            # ψ_i(δ_ij − ψ_j): the i-th output times a bracket, not a function with a layer subscript
            return Product((Sym(node.func, None, node.indices), arg), ("juxt",))
        if isinstance(node, Transpose) and isinstance(node.operand, Sym) and len(node.operand.indices) == 2:
            inner = self.normalize(node.operand)  # w_{kj}^T is the entry w_{jk}
            return replace(inner, indices=inner.indices[::-1])
        if isinstance(node, Deriv):
            num, wrt = self.normalize(node.num), self.normalize(node.wrt)
            if isinstance(num, Call) and len(num.args) == 1 and num.args[0] == wrt:
                return replace(num, primes=num.primes + 1)
            if (
                isinstance(num, Sym)
                and isinstance(wrt, Sym)
                and num.name in ("a", "A")
                and wrt.name in ("z", "Z")
                and num.layer is not None
                and num.layer == wrt.layer
            ):
                return Call("__act__", (wrt,), primes=1)
            return Deriv(num, wrt)
        return map_children(node, self.normalize)

    # ---- symbols -----------------------------------------------------------------
    def resolve(self, sym: Sym) -> Ref:
        if self.model is not None:
            return self._resolve_model(sym)
        name, nota, depth = sym.name, self.notation, self.problem.depth
        if name in ("y", "Y") and sym.decor == "hat":
            return Ref("A", depth)
        if name in LAYER_LETTERS:
            kind = LAYER_LETTERS[name]
            if sym.layer is None:
                if (
                    kind in ("W", "b")
                    and self.default_label is not None
                    and self._valid_weight_label(self.default_label)
                ):
                    return Ref(kind, nota.layer_of_weight_label(self.default_label))
                if kind in ("Z", "A"):
                    return Ref(kind, depth)
                if depth == 1:
                    return Ref(kind, 1)
                raise NotationError(f"{name} needs a layer index here (which of the {depth} layers?)")
            label = self.layer_value(sym.layer)
            if kind in ("W", "b"):
                if not self._valid_weight_label(label):
                    raise NotationError(f"there is no {name} with layer index {label} in this problem")
                return Ref(kind, nota.layer_of_weight_label(label))
            if not self._valid_activation_label(label):
                raise NotationError(f"there is no {name} with layer index {label} in this problem")
            k = nota.layer_of_activation_label(label)
            if k == 0:
                if kind == "Z":
                    raise NotationError(f"{name} with layer index {label} is the input layer: it has no pre-activation")
                return Ref("X")
            return Ref(kind, k)
        if name in ("x", "X"):
            return Ref("X")
        if name == "n" and len(sym.indices) == 1 and sym.layer is None:
            label = self.layer_value(sym.indices[0])  # n_l: the width of layer l
            if not self._valid_activation_label(label):
                raise NotationError(f"there is no layer {label}, so no n_{label}")
            return Ref("n", nota.layer_of_activation_label(label))
        if name in nota.labels and sym.decor != "hat":
            return Ref("Y")
        if name in nota.output_activation and name not in ("softmax",):
            return Ref("A", depth)
        if name == "lambda" and self.problem.regulariser:
            return Ref("lambda")
        if name == "N":
            return Ref("N")
        if name == "delta":
            if sym.layer is not None:
                label = self.layer_value(sym.layer)
                if not self._valid_activation_label(label) or nota.layer_of_activation_label(label) == 0:
                    raise NotationError(f"there is no delta with layer index {label} in this problem")
                return Ref("dZ", nota.layer_of_activation_label(label))
            if len(sym.indices) == 2:
                return Ref("kron")
            hint = " (Δ, capital, is the label matrix)" if "Delta" in nota.labels else ""
            raise NotationError(f"δ is not defined in problem {self.problem.id}{hint}")
        raise NotationError(f"the symbol {self._show(sym)} is not defined in problem {self.problem.id}")

    def _resolve_model(self, sym: Sym) -> Ref:
        found = self.model.resolve_name(sym, swap=False)
        if found is not None:
            return Ref(found)
        if not sym.indices and sym.name in dict(self.problem.numeric_sizes) or sym.name == self.model.batch:
            return Ref(sym.name)
        found = self.model.resolve_name(sym)
        if found is not None:
            return Ref(found)
        if sym.name == "delta" and len(sym.indices) == 2:
            return Ref("kron")
        raise NotationError(f"the symbol {self._show(sym)} is not defined in problem {self.problem.id}")

    @staticmethod
    def _show(sym: Sym) -> str:
        return to_latex(sym)

    def function(self, call: Call) -> FuncRef:
        """Which function a Call applies (bold is typography: \\boldsymbol{\\psi} is ψ)."""
        if self.model is not None:
            return FuncRef(self.model.function(call), None, call.primes)
        name, nota, depth = call.func.removeprefix("bold:"), self.notation, self.problem.depth
        if name != call.func:
            call = replace(call, func=name)
        hidden = [k for k in range(1, depth)]
        if name == "__act__":
            (arg,) = call.args
            ref = self.resolve(arg) if isinstance(arg, Sym) else None
            if ref is None or ref.kind != "Z":
                raise NotationError("∂a/∂z needs a pre-activation")
            return FuncRef("act", ref.layer, call.primes)
        if (
            call.indices
            and name in nota.hidden_activation + nota.output_activation
            and self.layer_like(call.indices[0])
        ):
            label = self.layer_value(call.indices[0])
            k = nota.layer_of_activation_label(label)
            if not 1 <= k <= depth:
                raise NotationError(f"there is no activation {name}_{label} in this problem")
            return FuncRef("act", k, call.primes)
        generic = name in nota.hidden_activation and name in nota.output_activation
        arg = call.args[0] if call.args else None
        if generic and not call.indices and isinstance(arg, Sym) and arg.name in ("z", "Z") and arg.layer is not None:
            return FuncRef("act", self.resolve(arg).layer, call.primes)  # g'(z^{(l)}) is g_l'(z^{(l)})
        if name in nota.output_activation and name not in nota.hidden_activation:
            return FuncRef("act", depth, call.primes)
        if name in nota.hidden_activation and name not in nota.output_activation:
            if len({self.problem.layers[k - 1][1] for k in hidden}) == 1 and hidden:
                return FuncRef("act", hidden[0], call.primes)
        if name in ("sigma",):
            return FuncRef("sigmoid", None, call.primes)
        if name in ELEMENTWISE_FUNCS | {"softmax", "diag"}:
            return FuncRef(name, None, call.primes)
        if name in ("phi", "varphi") and hidden:
            return FuncRef("act", hidden[0], call.primes)
        raise NotationError(f"the function {name} is not defined in problem {self.problem.id}")
