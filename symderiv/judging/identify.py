"""Which quantity a left-hand side names: ∂J̃/∂W^{(1)} -> dJt/dW1, δ_j^{(l)} -> delta-l,
z_1^{[1]} -> component 1 of z1, ∂a_i/∂z_j -> softmax-jacobian.

J and J̃ stay distinct (except where they agree: J̃ and J have the same gradient with
respect to everything but the weights).
"""

from __future__ import annotations

from dataclasses import dataclass

from symderiv.core.errors import ParseError, SymderivError
from symderiv.core.tree import Call, Deriv, Node, Num, Sym
from symderiv.notation.parse import parse, parse_lenient
from symderiv.truth.interpret import Interpreter, Ref
from symderiv.truth.problem import Problem, Quantity

OBJECTIVE_LETTERS = {"J": "J", "L": "L", "C": "C", "c": "C", "E": "J"}


@dataclass(frozen=True)
class LhsMatch:
    quantity: str
    component: int | None = None  # 0-based component for a value such as z_1^{[1]}
    note: str = ""
    layers: tuple[tuple[str, tuple[int, ...]], ...] = ()  # δ^{(L-1)}: the general δ^{(l)} at l = L-1 only


def _objective(num: Node, latex: str) -> str | None:
    name, decor = None, ""
    if isinstance(num, Sym):
        name, decor = num.name, num.decor
        parts = [i.name for i in num.indices if isinstance(i, Sym)]
        if any(p.startswith("reg") for p in parts):
            return None  # J_reg: only the regulariser, no quantity of its own
    elif isinstance(num, Call) and not num.args[1:]:
        decor, _, name = num.func.rpartition(":")  # the parser spells \tilde{J}(θ) "tilde:J"
    if name not in OBJECTIVE_LETTERS:
        return None
    key = OBJECTIVE_LETTERS[name]
    if key == "J" and (decor == "tilde" or "\\tilde" in latex.split("}{")[0] or "J̃" in latex):
        return "Jt"
    return key


def _object(interp: Interpreter, node: Node) -> tuple[Ref, Node | None] | None:
    node = interp.normalize(node)
    if not isinstance(node, Sym):
        return None
    try:
        return interp.resolve(Sym(node.name, node.layer, (), node.decor)), node.layer
    except SymderivError:
        return None


def _same_layer(a: Node | None, b: Node | None) -> bool:
    return a == b or (isinstance(a, Num) and isinstance(b, Num) and a.value == b.value)


def _quantity_target(problem: Problem, q: Quantity, text: str, interp: Interpreter):
    try:
        return _object(interp, parse(text))
    except (ParseError, SymderivError):
        return None


def identify(problem: Problem, lhs: Node, latex: str = "") -> LhsMatch | None:
    """The quantity a parsed left-hand side names, or None."""
    if problem.model is not None:
        return _identify_model(problem, lhs)
    symbolic_layers = dict(problem.notation.layer_symbols)
    interp = Interpreter(problem, {name: 1 for name in ("l", "k")} | symbolic_layers)
    try:
        normalized = interp.normalize(lhs)
    except SymderivError:
        normalized = lhs
    if isinstance(normalized, Sym) and normalized.name == "delta":
        lhs = normalized  # δ^L_j is δ_j^{(L)}
    if isinstance(lhs, Sym) and lhs.name == "delta" and lhs.layer is not None and defines_delta(problem):
        lhs = Deriv(Sym(_default_objective(problem)), Sym("z", lhs.layer, lhs.indices))
    if isinstance(lhs, Deriv):
        return _identify_derivative(problem, lhs, latex, interp)
    target = _object(interp, lhs)
    if target is None:
        return None
    ref, _ = target
    for q in problem.quantities:
        if q.kind == "value":
            qt = _quantity_target(problem, q, q.of, interp)
            if qt and qt[0] == ref:
                norm = interp.normalize(lhs)
                comps = [i for i in getattr(norm, "indices", ()) if isinstance(i, Num)]
                comp = int(comps[0].value) - 1 if comps else None
                return LhsMatch(q.id, comp)
    return None


def _model_target(interp: Interpreter, node: Node) -> str | None:
    """The declared symbol a side names: J, \\tilde J, \\mathcal{L}, \\tilde{J}(w) (a call of its parameters)."""
    if isinstance(node, Call) and node.func not in ("softmax", "log", "exp", "tanh", "sigma"):
        decor, _, name = node.func.removeprefix("bold:").rpartition(":")
        node = Sym(name, None, node.indices, decor)
    try:
        node = interp.normalize(node)
        if not isinstance(node, Sym):
            return None
        return interp.resolve(Sym(node.name, node.layer, (), node.decor)).kind
    except SymderivError:
        return None


def _identify_model(problem: Problem, lhs: Node) -> LhsMatch | None:
    """A [model] key: the quantity whose `of` and `wrt` name the same declared symbols as the left side."""
    interp = Interpreter(problem, {})
    if isinstance(lhs, Deriv):
        of, wrt = _model_target(interp, lhs.num), _model_target(interp, lhs.wrt)
        if of is None or wrt is None:
            return None
        for q in problem.quantities:
            if (
                q.kind != "value"
                and q.wrt
                and _quantity_model_target(interp, q.wrt) == wrt
                and _quantity_model_target(interp, q.of) == of
            ):
                return LhsMatch(q.id)
        return None
    target = _model_target(interp, lhs)
    for q in problem.quantities:
        if q.kind == "value" and target is not None and _quantity_model_target(interp, q.of) == target:
            return LhsMatch(q.id)
    return None


def _quantity_model_target(interp: Interpreter, text: str) -> str | None:
    try:
        return _model_target(interp, parse(text))
    except ParseError:
        return None


def defines_delta(problem: Problem) -> bool:
    """δ^(l) = ∂C/∂z^(l) is part of the problem's statement (index-notation problems with a cost C)."""
    return "C" in dict(problem.notation.objectives)


def _default_objective(problem: Problem) -> str:
    keys = [k for k, _ in problem.notation.objectives]
    return "C" if "C" in keys else keys[0]


def _identify_derivative(problem: Problem, lhs: Deriv, latex: str, interp: Interpreter) -> LhsMatch | None:
    objective = _objective(lhs.num, latex)
    wrt = _object(interp, lhs.wrt)
    if wrt is None:
        return None
    wrt_ref, wrt_layer = wrt
    if objective is None:
        num = _object(interp, lhs.num)
        if num is None:
            return None
        fallback = None
        for q in problem.quantities:
            if q.kind != "jacobian":
                continue
            of, by = _quantity_target(problem, q, q.of, interp), _quantity_target(problem, q, q.wrt, interp)
            if of and by and of[0] == num[0] and by[0] == wrt_ref:
                return LhsMatch(q.id)
            if of and of[0] == num[0]:
                fallback = LhsMatch(q.id, note=f"read as the derivative of {q.of} with respect to {q.wrt}")
        return fallback
    keys = [k for k, _ in problem.notation.objectives]
    if objective == "J" and "J" not in keys and "C" in keys:
        objective = "C"
    candidates = []
    for q in problem.quantities:
        if q.kind != "gradient":
            continue
        qt = _quantity_target(problem, q, q.wrt, interp)
        if not qt or qt[0].kind != wrt_ref.kind:
            continue
        if qt[0] != wrt_ref and not _symbolic_layer_match(qt[1], wrt_layer):
            continue
        if qt[1] is not None and wrt_layer is not None and not _layer_compatible(qt[1], wrt_layer):
            continue
        candidates.append(q)
    exact = [q for q in candidates if q.of == objective]
    if exact:
        return LhsMatch(exact[0].id, layers=_instance_layers(problem, exact[0], wrt_layer, interp))
    if objective == "Jt" and wrt_ref.kind != "W":
        same = [q for q in candidates if q.of == "J"]
        if same:
            return LhsMatch(same[0].id)
    if objective == "J" and wrt_ref.kind != "W":
        same = [q for q in candidates if q.of == "Jt"]
        if same:
            return LhsMatch(same[0].id)
    return None


def _instance_layers(problem: Problem, q: Quantity, wrt_layer: Node | None, interp: Interpreter):
    """For a quantity stated for a general layer l, the layer the left side pins down (L-1 -> l = 2)."""
    if not q.layers or wrt_layer is None:
        return ()
    if any(isinstance(n, Sym) and n.name in dict(q.layers) for n in wrt_layer.walk()):
        return ()
    try:
        value = interp.layer_value(wrt_layer)
    except SymderivError:
        return ()
    ((name, allowed),) = q.layers[:1]
    return ((name, (value,)),) if value in allowed else ()


def _has_symbol(node: Node | None) -> bool:
    return node is not None and any(isinstance(n, Sym) for n in node.walk())


def _symbolic_layer_match(a: Node | None, b: Node | None) -> bool:
    return _has_symbol(a) and _has_symbol(b)


def _layer_compatible(q_layer: Node, wrt_layer: Node) -> bool:
    """z^{(L)} is delta-L, z^{(l)} (or L-1, l+1...) is delta-l; numbers must agree."""
    if not _has_symbol(q_layer) and not _has_symbol(wrt_layer):
        return True
    q_is_last = isinstance(q_layer, Sym) and q_layer.name == "L"
    w_is_last = isinstance(wrt_layer, Sym) and wrt_layer.name == "L"
    if q_is_last or w_is_last:
        return q_is_last == w_is_last
    return True


def identify_quantity(problem: Problem, latex: str) -> str | None:
    try:
        tree = parse_lenient(latex).tree
    except ParseError:
        return None
    match = identify(problem, tree, latex)
    return match.quantity if match else None
