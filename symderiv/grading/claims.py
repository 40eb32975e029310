"""Which claims a submission makes: its rows walked in order, each left side named as a quantity,
the student's own definitions (E = ψ(Z) − Δ) substituted into the rows after them."""

from __future__ import annotations

from dataclasses import dataclass

from symderiv.answerkey.problem import Problem, Quantity
from symderiv.core.errors import ParseError, SymderivError
from symderiv.core.tree import ENTRY, Call, Deriv, Node, Num, Sym, map_children
from symderiv.evaluation.interpret import DELTA_PREFIX, Interpreter
from symderiv.judging.identify import LhsMatch, defines_delta, identify, objective_of
from symderiv.notation.parse import parse_lenient
from symderiv.reading.extract import MathRow
from symderiv.truth.reference import layer_bindings


@dataclass
class Claim:
    quantity: str
    latex: str
    line: int
    tree: Node | None
    component: int | None
    error: str = ""
    layers: tuple = ()  # the layer instance the left side pins down, if any


def parse_claim(latex: str):
    try:
        return parse_lenient(latex).tree, ""
    except ParseError as exc:
        return None, exc.reason
    except RecursionError:
        return None, "nested too deeply"


def is_closed(problem: Problem, tree: Node, quantity: Quantity) -> bool:
    """A closed form: no unevaluated derivative (but the open derivatives a key allows, ∂C/∂a_j^{(L)}),
    no softmax Jacobian written as ψ'(z), not δ^{(l)} restating ∂C/∂z^{(l)}; a forward value is a number."""
    interp = Interpreter(problem, dict(layer_bindings(quantity)[0]))
    norm = interp.normalize(tree)
    if isinstance(norm, Sym) and norm.name == "delta" and norm.layer is not None and quantity.wrt:
        try:  # δ^(l) for ∂C/∂z^(l) restates the definition
            target = interp.normalize(parse_claim(quantity.wrt)[0])
            if interp.resolve(_bare(norm)).kind == DELTA_PREFIX + interp.resolve(_bare(target)).kind:
                return False
        except (SymderivError, AttributeError, TypeError):
            pass
    for n in norm.walk():
        if isinstance(n, Call) and n.primes:
            try:
                f = interp.function(n)
            except SymderivError:
                continue
            if f.name == "softmax":
                return False  # ∂a/∂z of a softmax is a Jacobian: a step of working, not an answer
        if isinstance(n, Deriv):
            if _open_derivative(interp, n):
                continue
            return False
    if quantity.kind == "value":  # a forward-pass answer is a number, not a restated definition
        return not any(isinstance(n, Sym) for n in tree.walk())
    return True


def _open_derivative(interp: Interpreter, node: Deriv) -> bool:
    """∂C/∂a_j^{(L)} where the key leaves C generic: a derivative a closed form may keep."""
    model = interp.model
    if not model.open_derivatives or not isinstance(node.num, Sym) or not isinstance(node.wrt, Sym):
        return False
    try:
        of = interp.resolve(_bare(node.num)).kind
        wrt = interp.resolve(_bare(node.wrt)).kind
    except SymderivError:
        return False
    return of in model.open_derivatives and wrt in model.ids_in(model.equation(of).rhs)


def _retarget(problem: Problem, match: LhsMatch, first_rhs: Node | None, latex_lhs: str) -> LhsMatch:
    """A student who writes ∂J̃/∂Z^3 = … ∂Z^3/∂w^2 + ∂/∂w^2(…) means ∂J̃/∂w^2: when every
    derivative on the right is with respect to one other object, the left side is a slip."""
    if first_rhs is None:
        return match
    q = problem.quantity(match.quantity)
    if q.kind != "gradient":
        return match
    interp = Interpreter(problem, dict(layer_bindings(q)[0]))
    try:
        own = interp.resolve(_bare(interp.normalize(parse_claim(q.wrt)[0])))
    except (SymderivError, AttributeError, TypeError):
        return match
    wrts = set()
    for n in first_rhs.walk():  # the raw tree: ∂a/∂z factors must still count as derivatives
        # only inner derivatives (∂z/∂w, ∂/∂w(...)) say what the working is about;
        # ∂L/∂z is a chain-rule factor that any quantity below z may use
        if isinstance(n, Deriv) and not _is_objective(n.num):
            try:
                wrts.add(interp.resolve(_bare(interp.normalize(n.wrt))))
            except SymderivError:
                return match
    if not wrts or own in wrts or len(wrts) != 1:
        return match
    (other,) = wrts
    lhs = parse_claim(latex_lhs)[0]
    objective = objective_of(problem, lhs.num, latex_lhs) if isinstance(lhs, Deriv) else None
    objective = objective or _objective_id(problem, q)
    for candidate in problem.quantities:
        if candidate.kind == "gradient" and _objective_id(problem, candidate) == objective:
            try:
                if interp.resolve(_bare(interp.normalize(parse_claim(candidate.wrt)[0]))) == other:
                    return LhsMatch(
                        candidate.id, note=f"the left side says {q.wrt}, the working is about {candidate.wrt}"
                    )
            except (SymderivError, AttributeError, TypeError):
                continue
    return match


def _objective_id(problem: Problem, q: Quantity) -> str | None:
    try:
        return Interpreter(problem).resolve(_bare(parse_claim(q.of)[0])).kind
    except (SymderivError, AttributeError, TypeError):
        return None


def _is_objective(node: Node) -> bool:
    name = node.name if isinstance(node, Sym) else node.func.rpartition(":")[2] if isinstance(node, Call) else None
    return name in ("J", "L", "C", "c", "E")


def _bare(node: Node) -> Sym:
    return Sym(node.name, node.layer, (), node.decor)


INDEX_LETTERS = set("ijklmnpqrst")


def _subscript_layer(node: Sym) -> Node | None:
    """The number subscript of a name without a layer (δ_2, a time step or layer): δ_2 = … defines
    δ_2 (and δ^{(2)}) where it is no entry of a declared symbol."""
    if node.layer is None and len(node.indices) == 1 and isinstance(node.indices[0], Num):
        return node.indices[0]
    return None


def _key(node: Sym) -> tuple:
    layer = node.layer if node.layer is not None else _subscript_layer(node)
    return (node.name, layer, node.decor)


def _definable(problem: Problem, node: Node | None) -> bool:
    """A bare symbol the student may define: one the problem does not define, or δ^(l) (δ_l) where
    the problem gives δ no meaning."""
    if not isinstance(node, Sym) or node.name in INDEX_LETTERS:
        return False  # "i = j" in the prose is a case, not a definition
    if node.indices and _subscript_layer(node) is None:
        return False
    if node.name == "delta" and not defines_delta(problem):
        return True  # δ^{(3)} = …: the student's own δ
    try:
        Interpreter(problem).resolve(node)
        return False
    except SymderivError:
        return node.name not in ("J", "L", "C")


def _substitute(tree: Node | None, definitions: dict) -> Node | None:
    if tree is None or not definitions:
        return tree
    if isinstance(tree, Sym):  # subscripts and layers are never substituted into
        if _subscript_layer(tree) is not None and _key(tree) in definitions:  # δ_2 defined as such
            return definitions[_key(tree)]
        key = (tree.name, tree.layer, tree.decor)
        if tree.indices and key in definitions:  # G_{ik} of a defined G: that entry of its value
            return Call(ENTRY, (definitions[key],), 0, tree.indices)
        return definitions.get(key, tree) if not tree.indices else tree
    return map_children(tree, lambda child: _substitute(child, definitions))


MAX_EXPANDED = 5000  # nodes of a row once the student's definitions are written out in it


def expanded_size(tree: Node, memo: dict | None = None) -> int:
    """Nodes of the tree with shared subtrees counted each time (definitions used in definitions
    share them: F = E + E, G = F + F, ... doubles each time), counted in time linear in the DAG."""
    memo = {} if memo is None else memo
    if id(tree) not in memo:
        memo[id(tree)] = 1 + sum(expanded_size(child, memo) for child in tree.children())
    return memo[id(tree)]


def _expand(tree: Node | None, error: str, definitions: dict) -> tuple[Node | None, str]:
    """The row with the definitions substituted, or no tree (and why) when that is too large to check."""
    tree = _substitute(tree, definitions)
    if tree is None:
        return tree, error
    try:
        size = expanded_size(tree)
    except RecursionError:
        size = MAX_EXPANDED + 1
    if size > MAX_EXPANDED:
        return None, f"with the definitions above written out it has more than {MAX_EXPANDED} terms"
    return tree, error


class Walker:
    def __init__(self, problem: Problem):
        self.problem = problem
        self.definitions: dict = {}  # the student's own: E = ψ(Z) − Δ, δ^(3) = …
        self.claims: list[Claim] = []
        self.chains: list[list[tuple[int, str, Node | None, str]]] = []  # (line, latex, tree, relation)
        self.chain_quantity: list[LhsMatch | None] = []

    def run(self, rows: list[MathRow]) -> None:
        current: LhsMatch | None = None
        chain: list | None = None
        dangling = False
        for row in rows:
            if row.inline:
                self._inline(row)  # prose math never carries a display chain on
                continue
            segments = [s for s in row.segments]
            relations = list(row.relations)
            if not any(s.strip() for s in segments):
                continue
            first_tree, _ = parse_claim(segments[0]) if segments[0].strip() else (None, "")
            match = identify(self.problem, first_tree, segments[0]) if first_tree is not None else None
            if match is None and row.lead is None:
                self._define(first_tree, segments[1:])
                if _definable(self.problem, first_tree):
                    # δ^{[2]} = ∂J/∂z^{[2]} = <answer>: the name, the quantity it names, then the answer
                    match = self._named_by(segments[1:-1])
            starts_new = (match is not None and len(segments) > 1) or (row.lead is None and not dangling)
            if starts_new:
                if match is not None and len(segments) > 1:
                    rhs_tree = parse_claim(segments[1])[0] if segments[1].strip() else None
                    match = _retarget(self.problem, match, rhs_tree, segments[0])
                current = match  # a left side alone on its line may be continued by `= …` rows
                chain = []
                self.chains.append(chain)
                self.chain_quantity.append(current)
                chain.append((row.line, segments[0], first_tree, ""))
                rest = list(zip(relations, segments[1:]))
            else:
                if chain is None:
                    chain = []
                    self.chains.append(chain)
                    self.chain_quantity.append(current)
                rest = [(row.lead or "=", segments[0])] + list(zip(relations, segments[1:]))
            for relation, latex in rest:
                if not latex.strip():
                    continue
                tree, error = _expand(*parse_claim(latex), self.definitions)
                # a row that holds only under a condition ("when i = j") is a case, not the answer
                chain.append((row.line, latex, tree, relation if not row.condition else "case"))
                if current is not None and not row.condition:
                    self.claims.append(
                        Claim(current.quantity, latex, row.line, tree, current.component, error, current.layers)
                    )
            dangling = not segments[-1].strip()

    def _named_by(self, segments) -> LhsMatch | None:
        """The quantity a derivative among these segments names, if one does."""
        for latex in segments:
            tree = parse_claim(latex)[0] if latex.strip() else None
            if isinstance(tree, Deriv):
                found = identify(self.problem, tree, latex)
                if found is not None:
                    return found
        return None

    def _define(self, lhs: Node | None, rhs_segments) -> None:
        if not _definable(self.problem, lhs):
            return
        for latex in rhs_segments:
            tree = parse_claim(latex)[0] if latex.strip() else None
            if tree is not None and not any(isinstance(n, Deriv) for n in tree.walk()):
                self.definitions[_key(lhs)] = _substitute(tree, self.definitions)
                return
        named = self._named_by(rhs_segments[:1])
        if named is not None and named.component is None:
            # G = ∂J/∂Z^{(3)} in the prose: G is that derivative, whose value the key gives
            key = {q.id: q for q in self.problem.quantities}[named.quantity]
            tree = parse_claim(key.claim)[0] if key.claim else None
            if tree is not None:
                self.definitions[_key(lhs)] = tree

    def _inline(self, row: MathRow) -> None:
        if not row.relations or not row.segments[0].strip():
            return
        first_tree, _ = parse_claim(row.segments[0])
        match = identify(self.problem, first_tree, row.segments[0]) if first_tree is not None else None
        if match is None:
            self._define(first_tree, row.segments[1:])
        if match is None or row.condition:
            return
        chain = [(row.line, row.segments[0], first_tree, "")]
        for relation, latex in zip(row.relations, row.segments[1:]):
            tree, error = _expand(*parse_claim(latex), self.definitions)
            chain.append((row.line, latex, tree, relation))
            self.claims.append(Claim(match.quantity, latex, row.line, tree, match.component, error, match.layers))
        self.chains.append(chain)
        self.chain_quantity.append(match)
