"""Which quantity a left-hand side names: ∂J̃/∂W^{(1)} -> dJt/dW1, δ_j^{(l)} -> delta-l,
z_1^{[1]} -> component 1 of z1, ∂a_i/∂z_j -> softmax-jacobian, ∂L/∂S_{ij} -> dL/dS.

Read against the key's model, the same for every key: the numerator names an objective (a
declared scalar the equations define: J, \\tilde J, L, \\mathcal{L}), the denominator a
declared symbol, in any of its spellings and layers. J and J̃ stay distinct except where they
agree: two objectives that differ by terms not depending on the variable have the same gradient
with respect to it (J̃ and J with respect to everything but the weights).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from symderiv.answerkey.problem import Problem, Quantity
from symderiv.core.errors import ParseError, SymderivError
from symderiv.core.tree import Call, Deriv, Node, Num, Sym
from symderiv.evaluation.interpret import Interpreter
from symderiv.notation.parse import parse, parse_lenient
from symderiv.truth.reference import layer_bindings

# letters students use for an objective the key names otherwise (E for J, c for C)
OBJECTIVE_FALLBACKS = {"E": ("J", "L"), "c": ("C",), "J": ("C", "L"), "L": ("J",), "C": ("J",)}
FUNCTIONS = ("softmax", "log", "exp", "tanh", "sigma", "relu")


@dataclass(frozen=True)
class LhsMatch:
    quantity: str
    component: int | None = None  # 0-based component for a value such as z_1^{[1]}
    note: str = ""
    layers: tuple[tuple[str, tuple[int, ...]], ...] = ()  # δ^{(L-1)}: the general δ^{(l)} at l = L-1 only


def _bare(node: Sym) -> Sym:
    return Sym(node.name, node.layer, (), node.decor)


def _symbol(interp: Interpreter, node: Node) -> str | None:
    """The id of the declared symbol a side names (its entry subscripts aside), or None."""
    if isinstance(node, Call) and node.func not in FUNCTIONS and len(node.args) <= 1:
        decor, _, name = node.func.removeprefix("bold:").rpartition(":")  # \\tilde{J}(w): tilde:J
        node = Sym(name, None, node.indices, decor)
    try:
        node = interp.normalize(node)
        if not isinstance(node, Sym):
            return None
        return interp.resolve(_bare(node)).kind
    except SymderivError:
        return None


def objective_of(problem: Problem, num: Node, latex: str = "") -> str | None:
    """The objective a derivative's numerator names (J_reg, only a regulariser, names none)."""
    if isinstance(num, Sym) and any(isinstance(i, Sym) and i.name.startswith("reg") for i in num.indices):
        return None
    interp = Interpreter(problem)
    objectives = {q.of for q in problem.quantities if q.kind == "gradient"}
    targets = {t for t in (_symbol(interp, parse(o)) for o in objectives if _parses(o)) if t}
    if (
        isinstance(num, Sym)
        and num.name == "J"
        and not num.decor
        and ("\\tilde" in latex.split("}{")[0] or "J̃" in latex)
    ):
        num = replace(num, decor="tilde")
    found = _symbol(interp, num)
    if found is not None and found in targets:
        return found
    name = num.name if isinstance(num, Sym) else None
    for other in OBJECTIVE_FALLBACKS.get(name or "", ()):
        found = _symbol(interp, Sym(other, None, (), num.decor if isinstance(num, Sym) else ""))
        if found in targets:
            return found
    return None


def _parses(text: str) -> bool:
    try:
        parse(text)
        return True
    except ParseError:
        return False


def same_gradient(problem: Problem, of: str, other: str, wrt: str) -> bool:
    """Two objectives whose equations differ by terms that do not depend on wrt (J̃ = J + λ‖W‖²
    and J, with respect to a bias or a pre-activation)."""
    model = problem.model
    for a, b in ((of, other), (other, of)):
        if not model.defined(a):
            continue
        rhs = model.equation(a).rhs
        terms = rhs.terms if hasattr(rhs, "terms") else (rhs,)
        base = [t for t in terms if isinstance(t, Sym) and model.resolve_name(t) == b]
        rest = [t for t in terms if t not in base]
        if base and not any(wrt in model.dependencies(i) for t in rest for i in model.ids_in(t)):
            return True
    return False


def _wrt_bindings(problem: Problem, q: Quantity, wrt: Node) -> list[dict]:
    """The layer bindings of q under which its wrt and the student's name the same object (a
    side written for a general layer l names only a quantity stated for a general l)."""
    try:
        own = parse(q.wrt)
    except ParseError:
        return []
    general = {name for other in problem.quantities for name, _ in other.layers}
    written = {n.name for n in wrt.walk() if isinstance(n, Sym)} & general
    if written - {name for name, _ in q.layers}:
        return []
    out = []
    for bindings in layer_bindings(q):
        interp = Interpreter(problem, bindings)
        mine, theirs = _symbol(interp, own), _symbol(interp, wrt)
        if mine is not None and mine == theirs:
            out.append(bindings)
    return out


def _uses_layer_symbol(node: Node, q: Quantity) -> bool:
    names = {name for name, _ in q.layers}
    return any(isinstance(n, Sym) and n.name in names for n in node.walk())


def _gradient(problem: Problem, lhs: Deriv, latex: str) -> LhsMatch | None:
    of = objective_of(problem, lhs.num, latex)
    interp = Interpreter(problem)
    if of is None:
        return _jacobian(problem, lhs, interp)
    found = []
    for q in problem.quantities:
        if q.kind != "gradient" or not q.wrt:
            continue
        bindings = _wrt_bindings(problem, q, lhs.wrt)
        if not bindings:
            continue
        q_of = _symbol(Interpreter(problem, bindings[0]), parse(q.of)) if _parses(q.of) else None
        layers = ()
        if q.layers and len(bindings) < len(layer_bindings(q)) and not _uses_layer_symbol(lhs.wrt, q):
            name = q.layers[0][0]
            layers = ((name, tuple(sorted({b[name] for b in bindings}))),)
        found.append((q, q_of, layers, bindings[0]))
    for q, q_of, layers, _ in found:
        if q_of == of:
            return LhsMatch(q.id, layers=layers)
    for q, q_of, layers, bindings in found:
        wrt = _symbol(Interpreter(problem, bindings), parse(q.wrt))
        if q_of is not None and wrt is not None and same_gradient(problem, of, q_of, wrt):
            return LhsMatch(q.id, layers=layers)
    return None


def _jacobian(problem: Problem, lhs: Deriv, interp: Interpreter) -> LhsMatch | None:
    num = _symbol(interp, lhs.num)
    if num is None:
        return None
    wrt = _symbol(interp, lhs.wrt)
    fallback = None
    for q in problem.quantities:
        if q.kind != "jacobian":
            continue
        of, by = _symbol(interp, parse(q.of)), _symbol(interp, parse(q.wrt))
        if of == num and by == wrt:
            return LhsMatch(q.id)
        if of == num:
            fallback = LhsMatch(q.id, note=f"read as the derivative of {q.of} with respect to {q.wrt}")
    return fallback


def defines_delta(problem: Problem) -> bool:
    """δ^(l) = ∂C/∂z^(l) is part of the problem's statement (a key that declares deltas)."""
    model = problem.model
    return bool(model.deltas) and not model.delta_fallback


def _delta_objective(problem: Problem) -> str:
    for q in problem.quantities:
        if q.kind == "gradient":
            return q.of
    return "J"


def identify(problem: Problem, lhs: Node, latex: str = "") -> LhsMatch | None:
    """The quantity a parsed left-hand side names, or None."""
    model = problem.model
    if defines_delta(problem):
        general = {name: values[0] for q in problem.quantities for name, values in q.layers}
        layered = Interpreter(problem, general).reader.layer_forms(lhs)  # δ^L_j, δ^l_j: δ_j^{(L)}, δ_j^{(l)}
        letter = model.delta_letter("delta")
        if isinstance(layered, Sym) and layered.name == "delta" and layered.layer is not None and letter:
            family = model.family(letter)
            name = model.form_table[next(iter(family.values()))].name if family else letter
            lhs = Deriv(parse(_delta_objective(problem)), Sym(name, layered.layer, layered.indices))
    if isinstance(lhs, Deriv):
        return _gradient(problem, lhs, latex)
    return _value(problem, lhs)


def _value(problem: Problem, lhs: Node) -> LhsMatch | None:
    for q in problem.quantities:
        if q.kind != "value":
            continue
        own = problem.for_quantity(q)
        interp = Interpreter(own)
        target = _symbol(interp, parse(q.of))
        if target is not None and _symbol(interp, lhs) == target:
            norm = interp.normalize(lhs)
            comps = [i for i in getattr(norm, "indices", ()) if isinstance(i, Num)]
            return LhsMatch(q.id, int(comps[0].value) - 1 if comps else None)
    return None


def identify_quantity(problem: Problem, latex: str) -> str | None:
    try:
        tree = parse_lenient(latex).tree
    except ParseError:
        return None
    match = identify(problem, tree, latex)
    return match.quantity if match else None
