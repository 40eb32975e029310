"""Notation: what the student's symbols mean in a problem, read against its model.

The parser keeps the student's spelling; model_notation.py maps it onto the model's declared
symbols and functions, and this resolves each symbol to the object it names: a declared symbol
(its id), a size (N, n_l), a backprop delta (δ^{(l)}: the objective's gradient with respect to
z^{(l)}, where the key declares δ), or the Kronecker delta δ_{ij}. The same for every key.

>>> from symderiv.answerkey.problem import load_problem
>>> from symderiv.core.tree import Sym, Num
>>> Interpreter(load_problem("softmax-2layer")).resolve(Sym("a", layer=Num(2)))
Ref(kind='a^{(2)}', layer=None)
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from symderiv.answerkey.model_notation import FAMILY_PREFIX, ModelReader
from symderiv.answerkey.problem import Problem
from symderiv.core.errors import NotationError
from symderiv.core.tree import Call, Node, Num, Sym
from symderiv.notation.latex import to_latex

DELTA_PREFIX = "delta:"  # Ref kind of a backprop delta: "delta:<id of the variable>"
GRADIENT_PREFIX = "grad:"  # Ref kind of an unevaluated ∂objective/∂variable: "grad:<objective>:<variable>"


@dataclass(frozen=True)
class Ref:
    """A problem object: a declared symbol (kind = its id), a size, "kron" (the Kronecker delta),
    a backprop delta ("delta:<variable>") or an objective's gradient ("grad:<of>:<variable>")."""

    kind: str
    layer: int | None = None


@dataclass(frozen=True)
class FuncRef:
    """A function: a built-in (exp, log, tanh, sigmoid, relu, softplus, softmax, diag,
    leaky_relu:<slope>) or a generic function of the key ("generic:<name>:<index>")."""

    name: str
    layer: int | None = None
    derivative: int = 0


def delta_variable(ref: Ref) -> str | None:
    return ref.kind[len(DELTA_PREFIX) :] if ref.kind.startswith(DELTA_PREFIX) else None


class Interpreter:
    def __init__(
        self,
        problem: Problem,
        layer_bindings: dict[str, int] | None = None,
        subscript_layers: bool = True,
        default_label: int | None = None,
    ):
        self.problem = problem
        self.model = problem.model
        self.default_label = default_label  # the layer of a layer-less W or b (from context)
        self.subscript_layers = subscript_layers  # read z_3 as layer 3 (else as component 3)
        self.reader = ModelReader(self.model, layer_bindings, subscript_layers)
        self.bindings = self.reader.bindings

    # ---- layer labels -----------------------------------------------------------
    def layer_value(self, node: Node) -> int:
        """The integer a layer expression (3, l, l+1, L-1) stands for."""
        value = self.layer_value_or_none(node)
        if value is None:
            raise NotationError(f"cannot read {to_latex(node)} as a layer index")
        return value

    def layer_value_or_none(self, node: Node) -> int | None:
        return self.reader.layer_value(node)

    def layer_like(self, node: Node) -> bool:
        return self.layer_value_or_none(node) is not None

    def is_layer_label(self, letter: str, node: Node) -> bool:
        value = self.layer_value_or_none(node)
        return value is not None and self.reader.is_member(letter, value)

    # ---- normalisation ------------------------------------------------------------
    def normalize(self, node: Node) -> Node:
        return self.reader.normalize(node)

    # ---- symbols -----------------------------------------------------------------
    def resolve(self, sym: Sym) -> Ref:
        model = self.model
        if sym.name.startswith("__"):  # the evaluator's own placeholders (a generic function's argument)
            return Ref(sym.name)
        sym = self.reader.evaluated(sym)  # a^{(l-1)} at the layer bound here
        found = model.resolve_name(sym, swap=False)
        if found is not None:
            return Ref(found)
        sizes = dict(self.problem.numeric_sizes)
        if not sym.indices and sym.layer is None and (sym.name in sizes or sym.name == model.batch):
            return Ref(sym.name)
        size = self.size_member(sym)
        if size is not None:
            return Ref(size)
        found = model.resolve_name(sym)
        if found is not None:
            return Ref(found)
        if sym.name == "delta":
            return self.resolve_delta(sym)
        family = model.family(sym.name)
        if family and sym.layer is None:
            return self.layerless(sym, family)
        if family and isinstance(sym.layer, Num):
            labels = ", ".join(to_latex(Sym(sym.name, Num(k))) for k in sorted(family))
            raise NotationError(f"there is no {to_latex(sym)} in this problem (it has {labels})")
        raise NotationError(f"the symbol {to_latex(sym)} is not defined in problem {self.problem.id}")

    def size_member(self, sym: Sym) -> str | None:
        """n_l, the width of layer l: the size named n<l>."""
        if sym.layer is not None or len(sym.indices) != 1:
            return None
        value = self.layer_value_or_none(sym.indices[0])
        name = f"{sym.name}{value}" if value is not None else None
        return name if name in dict(self.problem.numeric_sizes) else None

    def layerless(self, sym: Sym, family: dict[int, str]) -> Ref:
        """W without a layer: the layer the context says, or the only one."""
        if self.default_label is not None and self.default_label in family:
            return Ref(family[self.default_label])
        if len(family) == 1:
            return Ref(next(iter(family.values())))
        raise NotationError(f"{sym.name} needs a layer index here (which of the {len(family)} layers?)")

    def resolve_delta(self, sym: Sym) -> Ref:
        if len(sym.indices) == 2 and sym.layer is None:
            return Ref("kron")
        letter = self.model.delta_letter("delta")
        if letter is not None and sym.layer is not None:
            value = self.layer_value_or_none(sym.layer)
            member = self.model.family(letter).get(value) if value is not None else None
            if member is None:
                raise NotationError(f"there is no {to_latex(replace(sym, indices=()))} in this problem")
            return Ref(DELTA_PREFIX + member)
        labels = [s for s in self.model.labels() if s.id == "\\Delta"]
        hint = " (Δ, capital, is the label matrix)" if labels else ""
        raise NotationError(f"δ is not defined in problem {self.problem.id}{hint}")

    def function(self, call: Call) -> FuncRef:
        """Which function a normalised Call applies (g_l: its member at the layer bound here)."""
        if call.func.startswith(FAMILY_PREFIX):
            applied = self.reader.member_function(call)
            return FuncRef(self.model.function(applied), None, applied.primes)
        return FuncRef(self.model.function(call), None, call.primes)
