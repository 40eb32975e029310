"""What the catalogue of verified fixes (judging/fixes.py) edits claims with: an edit, a path into a
claim's tree, the model's entrywise stages, and the context each family of edits reads the claim in
(the student's letters for the model's symbols, the problem's own notation for what is said)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from symderiv.answerkey.problem import Problem, Quantity, layer_brackets
from symderiv.core.errors import SymderivError
from symderiv.core.tree import (
    Add,
    Call,
    Compare,
    Indicator,
    Neg,
    Node,
    Num,
    Ones,
    Piecewise,
    Pow,
    Product,
    Sum,
    Sym,
    Transpose,
    map_children,
)
from symderiv.evaluation.interpret import Interpreter
from symderiv.notation.latex import latex_style, to_latex
from symderiv.notation.parse import parse
from symderiv.truth.mutants import regulariser_hyperparameters
from symderiv.truth.reference import layer_bindings

FLIP = {">": "<", ">=": "<=", "<": ">", "<=": ">="}


@dataclass(frozen=True)
class Edit:
    tree: Node
    code: str
    message: str


def tree_paths(node: Node, path: tuple = ()) -> Iterator[tuple[tuple, Node]]:
    yield path, node
    for k, child in enumerate(child_nodes(node)):
        yield from tree_paths(child, path + (k,))


def child_nodes(node: Node) -> list[Node]:
    out = []
    for value in node.__dict__.values():
        if isinstance(value, Node):
            out.append(value)
        elif isinstance(value, tuple) and value and all(isinstance(v, Node) for v in value):
            out.extend(value)
        elif isinstance(value, tuple) and value and all(isinstance(v, tuple) for v in value):
            out.extend(x for v in value for x in v if isinstance(x, Node))
    return out


def in_scripts(tree: Node) -> set[int]:
    """The ids of the nodes in a sum's bounds or in a symbol's subscripts and layer: numbering, not
    terms of the answer (the −1 of Σ_{i=1}^{N−1} is never an extra term)."""
    out: set[int] = set()
    for node in tree.walk():
        parts = ()
        if isinstance(node, Sum):
            parts = tuple(p for p in (node.lower, node.upper) if p is not None)
        elif isinstance(node, Sym):
            parts = tuple(node.indices) + ((node.layer,) if node.layer is not None else ())
        for part in parts:
            out.update(id(n) for n in part.walk())
    return out


def node_at(node: Node, path: tuple) -> Node:
    """The node at `path` (child positions as child_nodes numbers them)."""
    for k in path:
        node = child_nodes(node)[k]
    return node


def put_at(node: Node, path: tuple, new: Node) -> Node:
    """The tree with the node at `path` (child positions as child_nodes numbers them) replaced."""
    if not path:
        return new
    counter = iter(range(10_000))
    target = path[0]

    def swap(child):
        return put_at(child, path[1:], new) if next(counter) == target else child

    return map_children(node, swap)


def is_derivative_like(node: Node) -> bool:
    while isinstance(node, Transpose):
        node = node.operand
    return isinstance(node, (Indicator, Piecewise)) or (isinstance(node, Call) and node.primes > 0)


@dataclass(frozen=True)
class Stage:
    """An equation t = f(u) of the model with f applied entrywise (a = ReLU(z), ŷ = σ(z), h = tanh(u))."""

    t: str
    u: str
    f: str
    output: bool  # the last such equation: what the loss is taken of


def stages(problem: Problem) -> list[Stage]:
    model = problem.model
    found = []
    for e in model.equations:
        pair = model.activation(e.target)
        if pair is not None:
            found.append((e.target, pair[1], pair[0]))
    return [Stage(t, u, f, k == len(found) - 1) for k, (t, u, f) in enumerate(found)]


def argument_of(node: Node) -> Node | None:
    """The z (or a) a derivative-like factor is taken at."""
    while isinstance(node, Transpose):
        node = node.operand
    if isinstance(node, Call) and node.args:
        return node.args[0]
    if isinstance(node, Indicator):
        return node.condition.lhs
    if isinstance(node, Product) and node.factors:
        return argument_of(node.factors[0]) if isinstance(node.factors[0], Call) else node.factors[0]
    return None


def as_sym(node: Node) -> Sym | None:
    while isinstance(node, (Call, Transpose)):
        node = node.args[0] if isinstance(node, Call) else node.operand
    return node if isinstance(node, Sym) else None


def square_pattern(node: Node) -> bool:
    """1 − h ⊙ h, 1 − tanh²(z): tanh's derivative written out."""
    if not (isinstance(node, Add) and len(node.terms) == 2 and isinstance(node.terms[1], Neg)):
        return False
    one, square = node.terms[0], node.terms[1].operand
    if not (one == Num(1) or isinstance(one, Ones)):
        return False
    if isinstance(square, Pow):
        return square.exponent == Num(2)
    return isinstance(square, Product) and len(square.factors) == 2 and square.factors[0] == square.factors[1]


def slope_times_indicator(node: Node) -> bool:
    """1[z > 0], α 1[z ≤ 0], (1 − α) 1[z ≤ 0]: one side of a piecewise-linear derivative."""
    if isinstance(node, Indicator):
        return True
    if not (isinstance(node, Product) and len(node.factors) == 2):
        return False
    indicators = [f for f in node.factors if isinstance(f, Indicator)]
    others = [f for f in node.factors if not isinstance(f, Indicator)]
    return len(indicators) == 1 and all(sum(1 for _ in f.walk()) <= 4 for f in others)


def derivative_form(node: Node) -> bool:
    """A factor that is an activation's derivative however written: f′(z), an indicator or a sum of
    them (the leaky ReLU′), a(1 − a), 1 − h²."""
    if isinstance(node, Add) and all(slope_times_indicator(t) for t in node.terms):
        return True
    if isinstance(node, Piecewise):  # the cases of a Jacobian or of a label, not a derivative
        return False
    return is_derivative_like(node) or sigmoid_derivative_pattern(node) or square_pattern(node)


def sigmoid_derivative_pattern(node: Node) -> bool:
    """a(1 − a), σ(z)(1 − σ(z)): the sigmoid's derivative written out."""
    if not isinstance(node, Product) or len(node.factors) != 2:
        return False
    first, second = node.factors
    return (
        isinstance(second, Add)
        and len(second.terms) == 2
        and second.terms[0] == Num(1)
        and second.terms[1] == Neg(first)
    )


class EditContext:
    """A claim read against the problem's model, for the edits that name its mistake."""

    def __init__(self, problem: Problem, quantity: Quantity, tree: Node):
        self.problem, self.quantity, self.tree = problem, quantity, tree
        self.interp = Interpreter(problem, dict(layer_bindings(quantity)[0]))
        self.brackets = layer_brackets(problem)
        self.stages = stages(problem)
        self.memo: dict = {}  # what an edit family works out once per claim (the key's weights)

    def key_form(self) -> Node | None:
        """The key's own closed form for the quantity, parsed once per claim (None if unreadable)."""
        if "key_form" not in self.memo:
            try:
                self.memo["key_form"] = parse(self.quantity.claim)
            except SymderivError:
                self.memo["key_form"] = None
        return self.memo["key_form"]

    def tex(self, node: Node) -> str:
        with latex_style(layer_brackets=self.brackets):
            return to_latex(node)

    def resolve(self, node: Node) -> str | None:
        if not isinstance(node, Sym):
            return None
        try:
            return self.interp.resolve(Sym(node.name, node.layer, (), node.decor)).kind
        except SymderivError:
            return None

    def stage_of(self, node: Node) -> Stage | None:
        """The stage a written symbol (or a call on one) belongs to: its u or its t."""
        while isinstance(node, (Call, Transpose)):
            node = node.args[0] if isinstance(node, Call) and node.args else getattr(node, "operand", None)
            if node is None:
                return None
        if node is None:
            return None
        if not isinstance(node, Sym):  # σ(U^T v_c) written out: the stage whose u is computed as that
            try:
                written = self.interp.normalize(node)
            except SymderivError:
                return None
            model = self.problem.model
            return next((s for s in self.stages if model.defined(s.u) and model.equation(s.u).rhs == written), None)
        sid = self.resolve(node)
        return next((s for s in self.stages if sid in (s.t, s.u)), None)

    def written(self, sid: str, like: Sym | None) -> Sym:
        """The model's symbol in the student's letter case, with the student's entry subscripts."""
        form = self.problem.model.form_table[sid]
        name = form.name
        if like is not None and len(name) == 1 and like.name.isupper() != name.isupper():
            name = name.swapcase()
        return Sym(name, form.layer, like.indices if like is not None else (), form.decor)

    def pre_activation(self, stage: Stage, like: Sym | None = None) -> Sym:
        return self.written(stage.u, like)

    def activation(self, stage: Stage, like: Sym | None = None) -> Sym:
        return self.written(stage.t, like)

    def right_derivative(self, stage: Stage | None, z: Node) -> Node | None:
        if stage is None:
            return None
        if stage.f == "relu":
            return Indicator(Compare(z, ">", Num(0)))
        if stage.f in ("sigmoid", "tanh"):
            return Call("sigma" if stage.f == "sigmoid" else "tanh", (z,), 1)
        return None

    def regularising(self, node: Node) -> bool:
        """The term holds a hyperparameter that weighs a regulariser (λ)."""
        hypers = regulariser_hyperparameters(self.problem)
        return any(isinstance(n, Sym) and self.resolve(n) in hypers for n in node.walk())

    def square(self, node: Node) -> bool:
        """A declared matrix with as many rows as columns (W of a recurrence, H×H)."""
        found = self.problem.model.symbol_table.get(self.resolve(node) or "")
        if found is None or len(found.shape) != 2:
            return False
        sizes = dict(self.problem.numeric_sizes)
        rows, cols = (sizes.get(e, e) for e in found.shape)
        return rows == cols and rows != 1
