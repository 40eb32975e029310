"""Check one claim: is it the quantity, under some reading, and if not, why not.

>>> v = check_claim("softmax-2layer", "dJ/dz3", r"\\frac{1}{N}(\\Delta - \\psi(z^{(3)}))", symbolic=False)
>>> v.verdict, v.diagnosis
('incorrect', 'sign')
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from .errors import NotationError, ParseError, ShapeError, SymderivError, UnknownQuantityError
from .evaluate import Evaluator
from .interpret import LAYER_LETTERS, Interpreter
from .latex import to_latex
from .problem import OBJECTIVES, Problem, Quantity, load_problem
from .reference import Point, build_points, layer_bindings, readings_for, target_ref
from .tree import Add, Call, Deriv, Indicator, Neg, Node, Num, Piecewise, Product, Sum, Sym, map_children

RTOL = 1e-6
ZERO_LEVEL = 1e-9
READING_NAMES = {"columns": "samples as columns", "rows": "samples as rows", "single": "one sample"}


@dataclass(frozen=True)
class NumericResult:
    status: str                 # equal | different | no-typecheck | error
    reading: str | None = None
    points: int = 0
    max_rel_err: float | None = None
    detail: str = ""


@dataclass(frozen=True)
class SymbolicResult:
    status: str                 # equal | different | timeout | skipped | error
    detail: str = ""
    sizes: str = ""
    seconds: float = 0.0


@dataclass(frozen=True)
class Verdict:
    problem: str
    quantity: str
    claim: str
    verdict: str                # correct | correct-up-to-layout | incorrect | unparseable
    feedback: str
    reading: str | None = None
    fixes: tuple[str, ...] = ()
    diagnosis: str | None = None
    numeric: NumericResult | None = None
    symbolic: SymbolicResult | None = None
    repairs: tuple[str, ...] = ()
    normalized: str | None = None
    seconds: float = 0.0

    @property
    def accepted(self) -> bool:
        return self.verdict in ("correct", "correct-up-to-layout")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["accepted"] = self.accepted
        return d


@dataclass(frozen=True)
class Match:
    reading: str
    tree: Node
    fixes: tuple[str, ...]
    max_rel_err: float
    points: int
    note: str = ""


# ---- comparison --------------------------------------------------------------------

def rel_err(value, reference) -> float:
    value = np.asarray(value, dtype=float)
    if value.shape != reference.shape or not np.all(np.isfinite(value)):
        return float("inf")
    scale = max(float(np.max(np.abs(reference))) if reference.size else 0.0, ZERO_LEVEL)
    return float(np.max(np.abs(value - reference))) / scale if value.size else 0.0


def _matches(value, point: Point) -> float:
    return min(rel_err(value, ref) for ref in (point.reference,) + point.also_correct)


def _index_names(tree: Node, quantity: Quantity) -> bool:
    names = {i.name for n in tree.walk() if isinstance(n, (Sym, Call))
             for i in getattr(n, "indices", ()) if isinstance(i, Sym)}
    return bool(names & set(quantity.indices))


def evaluate_at(tree: Node, point: Point, quantity: Quantity, index_mode: bool):
    """The claim's value at a point (strict), as an array shaped like the reference."""
    if not index_mode:
        return Evaluator(point.env).value(tree)
    out = np.zeros(point.index_shape)
    names = quantity.indices
    for idx in np.ndindex(point.index_shape):
        v = Evaluator(point.env, dict(zip(names, idx))).value(tree)
        if np.shape(v) != (1, 1):
            raise ShapeError(f"with the indices bound, the claim is a {v.shape[0]}x{v.shape[1]} matrix, not a number")
        out[idx] = v[0, 0]
    return out.reshape(-1, 1) if len(point.index_shape) == 1 else out


def _strict(tree, points, quantity, index_mode) -> tuple[float, str]:
    worst = 0.0
    for point in points:
        value = evaluate_at(tree, point, quantity, index_mode)
        err = _matches(value, point)
        if err > RTOL and np.shape(value)[::-1] == point.reference.shape and _matches(value.T, point) <= RTOL:
            return -1.0, "transposed"
        worst = max(worst, err)
    return worst, ""


# ---- the check ------------------------------------------------------------------------

class Checker:
    def __init__(self, problem: Problem, quantity: Quantity, tree: Node):
        self.problem, self.quantity = problem, quantity
        self.raw_tree = tree
        self.errors: list[str] = []            # "reading: reason" for every reading that failed
        self.notation_errors: list[str] = []   # the undefined-symbol kind, which explains best

    def plans(self):
        """(reading, [points per layer binding]) for every reading the quantity admits."""
        for reading in readings_for(self.problem, self.quantity):
            groups = [build_points(self.problem, self.quantity, reading, b) for b in layer_bindings(self.quantity)]
            yield reading, groups

    def tree_for(self, bindings) -> Node:
        return Interpreter(self.problem, bindings).normalize(self.raw_tree)

    def _layers_exist(self, bindings: dict) -> bool:
        """Every layer the claim names exists at this binding (δ^{(l+1)} has no meaning at l = L)."""
        interp = Interpreter(self.problem, bindings)
        tree = interp.normalize(self.raw_tree)
        for n in tree.walk():
            if isinstance(n, Sym) and n.layer is not None and (n.name in LAYER_LETTERS or n.name == "delta"):
                if interp._layer_like(n.layer) and not interp.is_layer_label(n.name, n.layer):
                    return False
        return True

    def find(self) -> tuple[Match | None, Match | None, list]:
        """A strict match, else a layout match, plus what each reading evaluated to."""
        layout = None
        typechecked = []
        for reading, all_groups in self.plans():
            groups = [g for g in all_groups if self._layers_exist(dict(g[0].bindings))]
            layer_note = ""
            if not groups:
                groups = all_groups
            elif len(groups) < len(all_groups):
                held = ", ".join(str(dict(g[0].bindings)[k]) for g in groups for k in dict(g[0].bindings))
                name = next(iter(dict(groups[0][0].bindings)))
                layer_note = (f" Checked for {name} = {held}: at the other layers the claim names a layer that "
                        "does not exist, so it holds below the last layer only.")
            total_points, worst, strict_ok, transposed = 0, 0.0, True, False
            for points in groups:
                tree = self.tree_for(dict(points[0].bindings))
                index_mode = _index_names(tree, self.quantity)
                try:
                    err, note = _strict(tree, points, self.quantity, index_mode)
                    typechecked.append((reading, tree, points, index_mode))
                except (ShapeError, NotationError) as exc:
                    self.errors.append(f"{READING_NAMES[reading]}: {exc}")
                    if isinstance(exc, NotationError):
                        self.notation_errors.append(str(exc))
                    strict_ok = False
                    continue
                except (ZeroDivisionError, OverflowError, ValueError, FloatingPointError) as exc:
                    self.errors.append(f"{READING_NAMES[reading]}: {exc}")
                    strict_ok = False
                    continue
                if note == "transposed":
                    transposed, strict_ok = True, False
                elif err > RTOL:
                    strict_ok = False
                worst = max(worst, err)
                total_points += len(points)
            if strict_ok:
                return Match(reading, self.raw_tree, (), worst, total_points, layer_note), None, typechecked
            if layout is None:
                if transposed:
                    layout = Match(reading, self.raw_tree, ("transpose the whole result",), 0.0, total_points)
                else:
                    layout = self._layout(reading, groups)
        return None, layout, typechecked

    def _layout(self, reading, groups) -> Match | None:
        """Candidates from the first point; each must then hold strictly at every point of every layer."""
        points = [p for group in groups for p in group]
        tree = self.tree_for(dict(points[0].bindings))
        if _index_names(tree, self.quantity):
            return None
        try:
            cands = Evaluator(points[0].env, lenient=True).candidates(tree)
        except (ShapeError, NotationError, ZeroDivisionError, ValueError, OverflowError):
            return None
        for cand in cands:
            for final_transpose in (False, True):
                value = cand.value.T if final_transpose else cand.value
                if _matches(value, points[0]) > RTOL:
                    continue
                fixes = cand.fixes + (("transpose the whole result",) if final_transpose else ())
                try:
                    worst = 0.0
                    for point in points[1:]:
                        v = Evaluator(point.env).value(cand.tree)
                        worst = max(worst, _matches(v.T if final_transpose else v, point))
                except (ShapeError, NotationError, ValueError):
                    continue
                if worst <= RTOL and fixes:
                    return Match(reading, cand.tree, fixes, worst, len(points))
        return None


def _diagnose(checker: Checker, typechecked) -> tuple[str | None, str]:
    """Name the mistake: structural checks first, then numeric comparisons with known mistakes."""
    structural = _structural(checker)
    if structural:
        return structural
    for reading, tree, points, index_mode in typechecked:
        try:
            values = [evaluate_at(tree, p, checker.quantity, index_mode) for p in points]
        except (ShapeError, NotationError, ValueError):
            continue
        refs = [p.reference for p in points]
        if any(np.shape(v) != r.shape for v, r in zip(values, refs)):
            if all(np.shape(v) == r.T.shape for v, r in zip(values, refs)):
                values = [v.T for v in values]
            else:
                continue
        if all(rel_err(v, 0 * r) <= RTOL or np.max(np.abs(v)) < ZERO_LEVEL for v, r in zip(values, refs)):
            return "zero", "The claim is zero at every test point; the quantity is not."
        ratios = [float(np.vdot(v, r) / np.vdot(r, r)) if np.vdot(r, r) > 0 else np.nan
                  for v, r in zip(values, refs)]
        if all(rel_err(v, c * r) <= 1e-5 for v, r, c in zip(values, refs, ratios)):
            Ns = [p.N for p in points]
            averaged = checker.quantity.kind == "gradient" and OBJECTIVES.get(checker.quantity.of, (False,))[0]
            if all(abs(c + 1) < 1e-6 for c in ratios):
                return "sign", "The sign is wrong: the claim is the negative of the right answer."
            if all(abs(c - N) < 1e-6 * N for c, N in zip(ratios, Ns)) and max(Ns) > 1:
                if averaged:
                    return "missing-1/N", "The factor 1/N is missing (J averages the loss over the N samples)."
                return "extra-N", "There is an extra factor N: this quantity is for one sample, with no average."
            if all(abs(c - 1 / N) < 1e-6 for c, N in zip(ratios, Ns)) and max(Ns) > 1:
                if averaged:
                    return "extra-1/N", "There is an extra factor 1/N."
                return "extra-1/N", ("There is an extra factor 1/N: this is the derivative of one sample's "
                                     "loss, which is not averaged.")
            if all(abs(c + N) < 1e-6 * N for c, N in zip(ratios, Ns)) and max(Ns) > 1 and averaged:
                return "sign", "The sign is wrong and the factor 1/N is missing."
            if np.ptp(ratios) < 1e-6 and abs(ratios[0] - 1) > 1e-6:
                return "coefficient", f"The claim is {ratios[0]:.4g} times the right answer: a coefficient is wrong."
        for name, _ in points[0].mutants:
            if all(rel_err(v, dict(p.mutants)[name]) <= 1e-6 for v, p in zip(values, points)):
                return _mutant_code(name), f"Wrong: {name}."
        if index_mode and refs[0].ndim == 2 and refs[0].shape[0] == refs[0].shape[1] > 1:
            case = _case_match(values, refs)
            if case:
                return case
    for diagnose in (_swapped_indices, _wrong_layer):
        code, message = diagnose(checker)
        if code:
            return code, message
    return _size_mismatch(checker, typechecked)


def _rename_indices(node: Node, mapping: dict[str, str]) -> Node:
    if isinstance(node, Sym) and not node.indices and node.layer is None and node.name in mapping:
        return Sym(mapping[node.name])
    return map_children(node, lambda child: _rename_indices(child, mapping))


def _swapped_indices(checker: Checker) -> tuple[str | None, str]:
    """a_j δ_i for ∂C/∂w_ij: right with the two indices exchanged."""
    if len(checker.quantity.indices) != 2:
        return None, ""
    i, j = checker.quantity.indices
    swapped = _rename_indices(checker.raw_tree, {i: j, j: i})
    try:
        strict, _, _ = Checker(checker.problem, checker.quantity, swapped).find()
    except (SymderivError, RecursionError):
        return None, ""
    if strict is None:
        return None, ""
    return "swapped-indices", f"The indices {i} and {j} are swapped (with {i} and {j} exchanged the claim is right)."


def _size_mismatch(checker: Checker, typechecked) -> tuple[str | None, str]:
    """A claim that typechecks but has the wrong size: say which sizes."""
    for reading, tree, points, index_mode in typechecked:
        if index_mode:
            continue
        try:
            value = Evaluator(points[0].env).value(tree)
        except (ShapeError, NotationError, ValueError):
            continue
        want = points[0].reference.shape
        if value.shape not in (want, want[::-1]):
            return "size", (f"The claim is a {value.shape[0]}x{value.shape[1]} matrix ({READING_NAMES[reading]}) "
                            f"but {checker.quantity.id} is {want[0]}x{want[1]}: a factor is missing, extra or misplaced.")
    return None, ""


def _case_match(values, refs):
    """A formula that is right only on the diagonal (i = j) or only off it is one case of the answer."""
    n = refs[0].shape[0]
    diag = np.eye(n, dtype=bool)
    for mask, code, text in ((diag, "only-diagonal", "i = j"), (~diag, "only-off-diagonal", "i ≠ j")):
        if all(rel_err(v[mask], r[mask]) <= 1e-6 for v, r in zip(values, refs)):
            return code, (f"This holds only for {text}; the answer must cover both cases "
                          "(e.g. with a Kronecker δ_ij).")
    return None


def _layer_slots(tree: Node) -> list[Node]:
    """Nodes that carry a layer: Sym with a layer, Call with a layer subscript (g_l)."""
    return [n for n in tree.walk() if (isinstance(n, Sym) and n.layer is not None)
            or (isinstance(n, Call) and n.indices and n.func in ("g", "phi", "psi", "sigma"))]


def _replace_node(tree: Node, old: Node, new: Node) -> Node:
    return new if tree is old else map_children(tree, lambda child: _replace_node(child, old, new))


def _shift(node: Node, delta: int) -> Node:
    if isinstance(node, Sym):
        return replace(node, layer=_plus(node.layer, delta))
    return replace(node, indices=(_plus(node.indices[0], delta),) + node.indices[1:])


def _plus(layer: Node, delta: int) -> Node:
    """layer + delta, tidied: (l+1) - 1 is l, L + -1 is L - 1."""
    terms = list(layer.terms) if isinstance(layer, Add) else [layer]
    total, others = delta, []
    for t in terms:
        if isinstance(t, Num):
            total += int(t.value)
        elif isinstance(t, Neg) and isinstance(t.operand, Num):
            total -= int(t.operand.value)
        else:
            others.append(t)
    if not others:
        return Num(total)
    tail = [Num(total)] if total > 0 else [Neg(Num(-total))] if total < 0 else []
    return others[0] if len(others) == 1 and not tail else Add(tuple(others + tail))


def _wrong_layer_message(problem: Problem, written: Node, meant: Node) -> str:
    """In the problem's own notation: W^{[1]} with square brackets where the problem uses them, x for the input."""
    from .export import layer_brackets
    from .latex import latex_style
    with latex_style(layer_brackets=layer_brackets(problem)):
        shown = to_latex(written)
        try:
            is_input = isinstance(meant, Sym) and Interpreter(problem).resolve(
                Sym(meant.name, meant.layer, (), meant.decor)).kind == "X"
        except SymderivError:
            is_input = False
        should = to_latex(Sym("x", None, meant.indices)) if is_input else to_latex(meant)
    return f"Wrong layer: {shown} should be {should} (with that change the claim is right)."


def _wrong_layer(checker: Checker) -> tuple[str | None, str]:
    """A claim that becomes right when one layer index moves by one: name that index."""
    tree = checker.tree_for(dict(layer_bindings(checker.quantity)[0]))   # w^{l+1}_{jk} carries its layer
    slots = _layer_slots(tree)
    if not slots or len(slots) > 12:
        return None, ""
    for node in slots:
        for delta in (-1, 1):
            shifted = _shift(node, delta)
            try:
                strict, _, _ = Checker(checker.problem, checker.quantity, _replace_node(tree, node, shifted)).find()
            except (SymderivError, RecursionError):
                continue
            if strict is not None:
                return "wrong-layer", _wrong_layer_message(checker.problem, node, shifted)
    return None, ""


def _mutant_code(text: str) -> str:
    if "activation derivative" in text:
        return "missing-activation-derivative"
    if "wrong sign" in text:
        return "regularisation-sign"
    if "1/N" in text:
        return "missing-1/N"
    if "2λW" in text:
        return "regularisation-coefficient"
    if "missing" in text:
        return "missing-regularisation"
    return "extra-regularisation"


def _structural(checker: Checker) -> tuple[str | None, str] | None:
    q, problem = checker.quantity, checker.problem
    if q.kind != "gradient":
        return None
    tree = checker.tree_for(dict(layer_bindings(q)[0]))
    try:
        target = target_ref(problem, q, dict(layer_bindings(q)[0]))
    except SymderivError:
        return None
    interp = Interpreter(problem, dict(layer_bindings(q)[0]))
    terms = tree.terms if isinstance(tree, Add) else (tree,)
    reg_terms = [t for t in terms if any(isinstance(n, Sym) and n.name == "lambda" for n in t.walk())]
    if target.kind == "W" and q.of == "Jt":
        if not reg_terms:
            return "missing-regularisation", ("The regularisation term is missing: the derivative of "
                                              f"λ‖W‖² adds 2λ{to_latex(_weight_sym(q))}.")
        for t in reg_terms:
            for n in t.walk():
                if isinstance(n, Sym) and n.name in ("W", "w"):
                    try:
                        ref = interp.resolve(n)
                    except SymderivError:
                        continue
                    if ref.kind == "W" and ref.layer != target.layer:
                        return "wrong-weight", (f"The regularisation term uses {to_latex(n)}, a different layer's weight: "
                                                f"it should be 2λ{to_latex(_weight_sym(q))}.")
    if target.kind == "W" and q.of == "J" and reg_terms:
        return "extra-regularisation", "J is the unregularised cost: its gradient has no λ term."
    if target.kind == "b" and reg_terms:
        return "extra-regularisation", "Biases are not regularised: λ Σ‖W‖² does not depend on b, so there is no λ term."
    return None


def _weight_sym(q: Quantity) -> Node:
    from .parse import parse
    try:
        return parse(q.wrt)
    except ParseError:
        return Sym("W")


def resolve_quantity(problem: Problem, quantity: str) -> Quantity:
    """A quantity id, or the student's LaTeX left-hand side (\\frac{\\partial \\tilde J}{\\partial W^{(2)}})."""
    ids = {q.id: q for q in problem.quantities}
    if quantity in ids:
        return ids[quantity]
    from .identify import identify_quantity
    found = identify_quantity(problem, quantity)
    if found is None:
        raise UnknownQuantityError(f"problem {problem.id!r} has no quantity {quantity!r} "
                                   f"(ids: {', '.join(ids)}; or give the left-hand side in LaTeX)")
    return ids[found]


def check_claim(problem: str | Problem, quantity: str, claim: str, *, symbolic: bool = True,
                timeout: float = 5.0) -> Verdict:
    """Check a student's claim for a quantity of a problem. Never raises for a bad claim:
    unreadable LaTeX is an `unparseable` verdict. An unknown problem or quantity raises
    a SymderivError naming it."""
    start = time.perf_counter()
    problem = load_problem(problem) if isinstance(problem, str) else problem
    q = resolve_quantity(problem, quantity)
    base = dict(problem=problem.id, quantity=q.id, claim=claim)
    from .parse import parse_lenient
    try:
        parsed = parse_lenient(claim)
    except ParseError as exc:
        return Verdict(**base, verdict="unparseable", feedback=f"The claim cannot be read: {exc.reason}.",
                       numeric=NumericResult("error", detail=str(exc)),
                       symbolic=SymbolicResult("skipped", "unparseable"), seconds=time.perf_counter() - start)
    except RecursionError:
        return Verdict(**base, verdict="unparseable", feedback="The claim is nested too deeply to read.",
                       seconds=time.perf_counter() - start)
    verdict = judge(problem, q, parsed.tree, symbolic=symbolic, timeout=timeout)
    from dataclasses import replace
    repaired = f" (read after repair: {'; '.join(parsed.repairs)})" if parsed.repairs else ""
    return replace(verdict, claim=claim, repairs=parsed.repairs, feedback=verdict.feedback + repaired,
                   seconds=time.perf_counter() - start)


def free_index_names(tree: Node, bound: frozenset = frozenset()) -> list[str]:
    """Index letters a claim leaves free (in order of appearance), outside the sums that bind them."""
    if isinstance(tree, Sum) and tree.index:
        bound = bound | {tree.index}
    out = []
    if isinstance(tree, (Sym, Call)):
        for ix in getattr(tree, "indices", ()):
            if isinstance(ix, Sym) and not ix.indices and ix.layer is None and ix.name not in bound \
                    and len(ix.name) == 1 and ix.name not in out:
                out.append(ix.name)
    for child in tree.children():
        out.extend(n for n in free_index_names(child, bound) if n not in out)
    return out


def judge(problem: Problem, q: Quantity, tree: Node, *, symbolic: bool = True, timeout: float = 5.0) -> Verdict:
    """The verdict for a parsed claim; an entrywise claim (∂J/∂W_ij = ... with free i, j) is judged
    entry by entry when it does not hold as a whole."""
    verdict = _judge(problem, q, tree, symbolic=symbolic, timeout=timeout)
    if verdict.accepted or q.kind != "gradient" or q.indices:
        return verdict
    free = free_index_names(tree)
    try:
        target = target_ref(problem, q, dict(layer_bindings(q)[0]))
    except SymderivError:
        return verdict
    rank = 2 if target.kind == "W" else 1
    if len(free) != rank or (rank == 1 and target.kind not in ("b",)):
        return verdict
    for names in (free, free[::-1]) if rank == 2 else (free,):    # which letter is the row is the student's choice
        entrywise = _judge(problem, replace(q, indices=tuple(names)), tree, symbolic=symbolic, timeout=timeout)
        if entrywise.accepted:
            return replace(entrywise, quantity=q.id, feedback=entrywise.feedback.replace(
                "Correct (", f"Correct entry by entry over {', '.join(names)} ("))
    return verdict


def _judge(problem: Problem, q: Quantity, tree: Node, *, symbolic: bool = True, timeout: float = 5.0) -> Verdict:
    base = dict(problem=problem.id, quantity=q.id, claim=to_latex(tree))
    if q.kind == "value":
        return _judge_value(problem, q, tree, base, symbolic, timeout)
    checker = Checker(problem, q, tree)
    try:
        strict, layout, typechecked = checker.find()
    except RecursionError:
        return Verdict(**base, verdict="unparseable", feedback="The claim is nested too deeply to evaluate.")
    match = strict or layout
    if match is not None:
        sym = _symbolic(problem, q, match, symbolic, timeout)
        numeric = NumericResult("equal", match.reading, match.points, match.max_rel_err)
        reading = READING_NAMES[match.reading]
        if strict:
            feedback = f"Correct ({reading}).{match.note}"
            verdict = "correct"
        else:
            verdict = "correct-up-to-layout"
            feedback = f"Right up to layout ({reading}): {'; '.join(dict.fromkeys(match.fixes))}."
        if sym.status == "different":
            # the exact check sees what the random points missed: trust it, and say so
            return Verdict(**base, verdict="incorrect", diagnosis="symbolic-difference", reading=match.reading,
                           feedback=(f"Numerically equal at the test points ({reading}), but the exact symbolic "
                                     f"check finds a difference ({sym.detail}): the two checks disagree, and "
                                     "the exact one decides."),
                           fixes=match.fixes, numeric=numeric, symbolic=sym, normalized=to_latex(match.tree))
        return Verdict(**base, verdict=verdict, feedback=feedback, reading=match.reading, fixes=match.fixes,
                       numeric=numeric, symbolic=sym, normalized=to_latex(match.tree))
    code, message = _diagnose(checker, typechecked)
    if not typechecked and checker.errors:
        reason = (checker.notation_errors or [checker.errors[0].split(": ", 1)[-1]])[0]
        feedback = message or f"The claim does not hold: {reason}."
        numeric = NumericResult("no-typecheck", detail="; ".join(dict.fromkeys(checker.errors)))
    else:
        tried = ", ".join(READING_NAMES[r] for r in readings_for(problem, q))
        feedback = message or f"The claim differs from the right answer under every reading tried ({tried})."
        numeric = NumericResult("different", typechecked[0][0] if typechecked else None,
                                points=len(typechecked[0][2]) if typechecked else 0,
                                detail="; ".join(dict.fromkeys(checker.errors)))
    sym = _symbolic_for_incorrect(problem, q, typechecked, symbolic, timeout)
    if sym.status == "equal":
        feedback += " But the symbolic check finds the claim equal to the truth: the two checks disagree."
    return Verdict(**base, verdict="incorrect", feedback=feedback, diagnosis=code, numeric=numeric, symbolic=sym)


def _symbolic_for_incorrect(problem, q, typechecked, enabled: bool, timeout: float) -> SymbolicResult:
    """The symbolic side of a rejection, under the first reading where the claim has the right size."""
    if not enabled:
        return SymbolicResult("skipped", "symbolic check not requested")
    for reading, tree, points, index_mode in typechecked:
        try:
            value = evaluate_at(tree, points[0], q, index_mode)
        except (ShapeError, NotationError, ValueError):
            continue
        if np.shape(value) == points[0].reference.shape:
            return _symbolic(problem, q, Match(reading, tree, (), float("inf"), 0), True, min(timeout, 3.0))
    return SymbolicResult("skipped", "the claim has the wrong size under every reading: nothing to compare entrywise")


def _symbolic(problem, q, match: Match, enabled: bool, timeout: float) -> SymbolicResult:
    if not enabled:
        return SymbolicResult("skipped", "symbolic check not requested")
    from .symbolic import symbolic_check
    return symbolic_check(problem, q, match.tree, match.reading,
                          final_transpose="transpose the whole result" in match.fixes, timeout=timeout)


def _judge_value(problem: Problem, q: Quantity, tree: Node, base: dict, symbolic: bool = True,
                 timeout: float = 5.0) -> Verdict:
    points = build_points(problem, q, "single", {})
    point = points[0]
    tol = problem.forward.tolerance if problem.forward else 1e-3
    try:
        value = Evaluator(point.env).value(tree)
    except (ShapeError, NotationError, ValueError, ZeroDivisionError) as exc:
        return Verdict(**base, verdict="incorrect", feedback=f"The claim cannot be evaluated: {exc}.",
                       numeric=NumericResult("no-typecheck", detail=str(exc)))
    ref = point.reference
    value = np.asarray(value, dtype=float)
    if value.shape != ref.shape and value.shape[::-1] == ref.shape:
        value = value.T
    if value.shape != ref.shape:
        return Verdict(**base, verdict="incorrect",
                       feedback=f"The claim has {value.size} entries; {q.id} has {ref.size}.",
                       numeric=NumericResult("different", "single", 1, detail="size"))
    diff = np.abs(value - ref)
    ok = bool(np.all((diff <= tol) | (diff <= tol * np.abs(ref))))
    shown = ", ".join(f"{x:.6g}" for x in ref.ravel())
    numeric = NumericResult("equal" if ok else "different", "single", 1, float(np.max(diff)))
    if symbolic:
        from .symbolic import value_check
        symbolic = value_check(problem, q, Interpreter(problem).normalize(tree), timeout)
    else:
        symbolic = SymbolicResult("skipped", "symbolic check not requested")
    if symbolic.status == "different" and ok:
        return Verdict(**base, verdict="correct", reading="single", numeric=numeric, symbolic=symbolic,
                       feedback=f"Correct numerically ({q.id} = {shown}), but the exact check disagrees: {symbolic.detail}.")
    if ok:
        return Verdict(**base, verdict="correct", feedback=f"Correct ({q.id} = {shown}).", reading="single",
                       numeric=numeric, symbolic=symbolic)
    got = ", ".join(f"{x:.6g}" for x in value.ravel())
    return Verdict(**base, verdict="incorrect", feedback=f"{q.id} is {shown}, not {got}.", diagnosis="arithmetic",
                   numeric=numeric, symbolic=symbolic)
